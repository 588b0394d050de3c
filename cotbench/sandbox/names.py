"""Which names the judge takes from the program and which standard-library modules it imports
itself, found from the tests' and the program's syntax trees (nothing is run). Separate because
it is pure analysis, used by the launcher and, for ``names_read_bound``, by the code scorer.
"""

from __future__ import annotations

import ast
import builtins
import sys
from collections.abc import Iterable, Sequence

from cotbench.sandbox.jobs import CodeTest, Test


def names_read_bound(tree: ast.AST) -> tuple[set[str], set[str]]:
    """(names read, names bound) anywhere in ``tree``, scopes ignored."""
    read: set[str] = set()
    bound: set[str] = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Name):
            (read if isinstance(n.ctx, ast.Load) else bound).add(n.id)
        elif isinstance(n, ast.arg):
            bound.add(n.arg)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(n.name)
        elif isinstance(n, ast.ExceptHandler) and n.name:
            bound.add(n.name)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in n.names}
    return read, bound


def _parse(code: str) -> ast.Module | None:
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def program_names(program: str, setup: str, tests: Sequence[Test],
                  remote: Iterable[str]) -> tuple[list[str], list[str]]:
    """(names the judge takes from the program, stdlib modules the judge imports itself).

    The tests' free names (read, bound neither by them nor by ``setup``) come from the program,
    except builtins and standard-library modules: the judge uses its own ``set``, ``math``,
    ``sys``... A builtin comes from the program only when it is all the tests need and the
    program defines it with ``def``/``class`` (MBPP 126 defines its own ``sum``); a module name
    only when the program defines it that way."""
    read: set[str] = set()
    bound: set[str] = set()
    for code in [setup, *(t.code for t in tests if isinstance(t, CodeTest))]:
        tree = _parse(code)
        if tree is not None:
            r, b = names_read_bound(tree)
            read |= r
            bound |= b
    prog = _parse(program)
    defined = {n.name for n in prog.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))} \
        if prog is not None else set()
    explicit = set(remote)
    free = read - bound - explicit
    modules = {n for n in free if n in sys.stdlib_module_names and n not in defined}
    own = {n for n in free - modules if not hasattr(builtins, n)}
    if not own and not explicit:
        own = {n for n in free - modules if n in defined}
    return sorted(own | explicit), sorted(modules)
