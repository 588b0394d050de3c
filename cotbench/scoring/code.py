"""The ``code`` scorer: extract a program from the answer and run it against the item's tests.

Program: the fenced ```python (or ```py) blocks, else the untagged fenced blocks, else the whole
answer. When the item names the function the tests call (HumanEval ``entry_point``; MBPP: the
names its asserts use), answers often add an "Example usage" block after the solution, so (in the
manner of the EvalPlus / bigcode "sanitize" step) blocks are only *parsed* with ``ast`` and:
1. the last block defining every such name (at least one by ``def``/``class``: a test block's
   ``from solution import f`` defines nothing) runs as written, unless it uses names only
   other blocks define; then
2. the program is assembled from all blocks: the imports, functions, classes and top-level
   assignments the entry names reach (the last definition of a name wins over earlier ones and
   over imports of it), in answer order; example calls, prints and asserts are left out;
3. (HumanEval) else the last block that reads as a bare function body;
4. else the last block, as before. Other items (stdin programs) always run the last block.
Blocks that do not parse are skipped. Nothing from the answer runs outside the sandbox.
Item shapes understood:
- HumanEval: ``prompt`` (signature + docstring), ``entry_point``, ``test`` defining ``check``.
  The completion may be the whole function or only its body; it is appended to the prompt
  (so helpers and imports in the prompt stay defined) and ``check(entry_point)`` is run.
- MBPP: ``test_list`` (one assert each, reported one by one), ``test_imports``,
  ``test_setup_code``.
- LiveCodeBench: ``public_test_cases`` / ``private_test_cases`` (lists or JSON strings of
  ``{input, output, testtype}``): ``stdin`` tests feed input and compare stdout; ``functional``
  tests call ``Solution().<metadata.func_name>`` with one JSON argument per input line.
- anything else with a ``test`` string: run after the program.
Score 1 only when every test passes; details carry passed/total, the pass fraction, the program
that ran (``program``, cut) and how it was chosen (``program_source``).
The tests never run next to the program: the sandbox's judge process runs them (HumanEval: the
prompt, for its helpers, then ``check``; MBPP: the test imports/setup, then each assert) and
calls the program's functions remotely, comparing the plain values they return itself (see
``cotbench.sandbox``). A host-side sandbox failure scores 0 with status
``sandbox_error`` and a warning, rather than stopping the run.
"""

from __future__ import annotations

import ast
import builtins
import json
import logging
import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cotbench.errors import CotbenchError
from cotbench.sandbox import CodeTest, IOTest, Limits, Test, run_tests
from cotbench.sandbox import names_read_bound as _names
from cotbench.scoring.base import Score, register_scorer

_FENCE_RE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)```", re.DOTALL)
_UNCLOSED_RE = re.compile(r"```[ \t]*(?:python3?|py)?[ \t]*\n(.*)$", re.DOTALL)
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_KEPT = (*_DEFS, ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign)
_BUILTINS = frozenset(dir(builtins))
PROGRAM_LIMIT = 4000
_log = logging.getLogger(__name__)


def code_blocks(answer: str) -> list[str]:
    """The fenced python blocks, else the untagged ones, in answer order."""
    blocks = _FENCE_RE.findall(answer)
    python = [body for lang, body in blocks if lang.lower() in {"python", "py", "python3"}]
    return python or [body for lang, body in blocks if not lang]


def extract_program(answer: str) -> str:
    """The last block, else an unclosed fence's code, else the whole answer."""
    blocks = code_blocks(answer)
    if blocks:
        return blocks[-1]
    unclosed = _UNCLOSED_RE.search(answer)
    return unclosed.group(1) if unclosed else answer


def _parse(code: str) -> ast.Module | None:
    """``code`` parsed, never run; None when it does not parse (deep nesting exhausts the parser)."""
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _binds(node: ast.stmt) -> set[str]:
    """Names a kept top-level statement binds (``*`` for a star import)."""
    if isinstance(node, _DEFS):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
    return {n.id for t in targets if t is not None for n in ast.walk(t) if isinstance(n, ast.Name)}


def _is_import(node: ast.stmt) -> bool:
    return isinstance(node, (ast.Import, ast.ImportFrom))


def _defines(tree: ast.Module, need: frozenset[str]) -> bool:
    """Whether the block binds every needed name, at least one of them by def/class."""
    binds = {name for n in tree.body if isinstance(n, _KEPT) for name in _binds(n)}
    return need <= binds and any(isinstance(n, _DEFS) and n.name in need for n in tree.body)


def _source(code: str, node: ast.stmt) -> str:
    """The statement's own text (a ``;`` neighbour is not part of it), decorators included."""
    decorators = [f"@{ast.get_source_segment(code, d)}\n" for d in getattr(node, "decorator_list", [])]
    return "".join(decorators) + (ast.get_source_segment(code, node) or "")


def _assemble(blocks: Sequence[str], trees: Sequence[ast.Module | None],
              entry: frozenset[str]) -> tuple[str, str] | None:
    """The definitions ``entry`` reaches, from every block (see module doc, step 2)."""
    stmts = [(i, n) for i, t in enumerate(trees) if t for n in t.body if isinstance(n, _KEPT)]
    last: dict[str, int] = {}
    for k, (_, node) in enumerate(stmts):
        for name in _binds(node):
            if not (_is_import(node) and name in last and not _is_import(stmts[last[name]][1])):
                last[name] = k
    if not entry <= last.keys() or not any(isinstance(stmts[last[e]][1], _DEFS) for e in entry):
        return None
    keep = {k for k, (_, n) in enumerate(stmts) if "*" in _binds(n)}  # what it binds is unknown
    todo = list(entry)
    while todo:
        k = last.get(todo.pop(), -1)
        if k >= 0 and k not in keep:
            keep.add(k)
            todo.extend(_names(stmts[k][1])[0])
    parts = [_source(blocks[stmts[k][0]], stmts[k][1]) for k in sorted(keep)]
    return "\n\n".join(parts) + "\n", f"assembled from {len({stmts[k][0] for k in keep})} blocks"


def _is_body(code: str) -> bool:
    """Whether ``code`` reads as a function body: it parses inside a def and returns there."""
    tree = _parse("def _f():\n" + textwrap.indent(textwrap.dedent(code), "    "))
    stack = list(ast.iter_child_nodes(tree.body[0])) if tree else []
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Return):
            return True
        if not isinstance(node, (*_DEFS, ast.Lambda)):
            stack.extend(ast.iter_child_nodes(node))
    return False


def select_program(answer: str, entry: frozenset[str] = frozenset(), body_ok: bool = False) -> tuple[str, str]:
    """The code to run and how it was chosen (see module doc). ``entry``: the names the tests
    call; ``body_ok``: a bare function body is a valid answer (HumanEval)."""
    blocks = code_blocks(answer)
    if not blocks:
        return extract_program(answer), "unclosed block" if _UNCLOSED_RE.search(answer) else "whole answer"
    if not entry:
        return blocks[-1], "last block"
    trees = [_parse(b) for b in blocks]
    # a builtin the tests use is needed only when no other name is (MBPP 126 defines its own sum)
    defined = {n.name for t in trees if t for n in t.body if isinstance(n, _DEFS)}
    entry = frozenset(entry - _BUILTINS) or entry & defined
    if not entry:
        return blocks[-1], "last block"
    defining = [(i, t) for i, t in enumerate(trees) if t and _defines(t, entry)]
    if defining:
        i, tree = defining[-1]
        read, bound = _names(tree)
        elsewhere = {name for j, t in enumerate(trees) if t and j != i
                     for n in t.body if isinstance(n, _KEPT) for name in _binds(n)}
        if not (read - bound - _BUILTINS) & elsewhere:
            return blocks[i], f"block {i + 1} defining {', '.join(sorted(entry))}"
    assembled = _assemble(blocks, trees, entry)
    if assembled:
        return assembled
    bodies = [i for i, b in enumerate(blocks) if body_ok and _is_body(b)]
    if bodies:
        return blocks[bodies[-1]], f"body in block {bodies[-1] + 1}"
    return blocks[-1], "last block"


def asserted_names(tests: Sequence[str], head: str = "") -> frozenset[str]:
    """Names the MBPP asserts read that neither they nor the test imports provide."""
    tree, head_tree = _parse("\n".join(tests)), _parse(head)
    if tree is None:
        return frozenset()
    read, bound = _names(tree)
    return frozenset(read - bound - (_names(head_tree)[1] if head_tree else set()))


def humaneval_program(prompt: str, completion: str, entry_point: str) -> str:
    """Prompt + completion, where the completion is either the full function or its body."""
    if not prompt.endswith("\n"):
        prompt += "\n"
    if re.search(rf"^\s*def\s+{re.escape(entry_point)}\s*\(", completion, re.MULTILINE):
        return prompt + "\n" + textwrap.dedent(completion)
    body = completion.strip("\n")
    lines = [ln for ln in body.splitlines() if ln.strip()]
    if lines and not lines[0][:1].isspace():
        body = textwrap.indent(textwrap.dedent(body), "    ")
    return prompt + body + "\n"


def _cases(value: Any) -> list[Mapping[str, Any]]:
    if isinstance(value, str):
        value = json.loads(value) if value.strip() else []
    if not isinstance(value, list):
        raise CotbenchError("code scorer: test cases must be a list or a JSON list")
    return value


def _livecodebench_tests(item: Mapping[str, Any]) -> list[Test]:
    metadata = item.get("metadata") or {}
    if isinstance(metadata, str):
        metadata = json.loads(metadata) if metadata.strip() else {}
    tests: list[Test] = []
    for key in ("public_test_cases", "private_test_cases"):
        for case in _cases(item.get(key) or []):
            if case.get("testtype", "stdin") == "stdin":
                tests.append(IOTest(str(case["input"]), str(case["output"])))
                continue
            func = metadata.get("func_name")
            if not func:
                raise CotbenchError("code scorer: a functional test needs metadata.func_name")
            tests.append(CodeTest(
                "import json as _json\n"
                f"_args = [_json.loads(_l) for _l in {str(case['input'])!r}.splitlines() if _l.strip()]\n"
                f"assert Solution().{func}(*_args) == _json.loads({str(case['output'])!r})\n"
            ))
    return tests


@dataclass(frozen=True)
class Job:
    """What the sandbox gets: the program (model code), the tests, and for the judge the trusted
    ``setup`` it runs first and the names it must take from the program (see sandbox.run_tests)."""

    program: str
    tests: list[Test]
    setup: str = ""
    remote: tuple[str, ...] = ()


def build_job(answer: str, item: Mapping[str, Any]) -> tuple[str, list[Test]]:
    """The program to run and its tests, from the answer and the item's fields."""
    job, _, _ = _job(answer, item)
    return job.program, job.tests


def _job(answer: str, item: Mapping[str, Any]) -> tuple[Job, str, str]:
    """build_job's job, plus the code chosen from the answer and how."""
    if item.get("entry_point") and item.get("prompt") and item.get("test"):
        entry = str(item["entry_point"])
        code, source = select_program(answer, frozenset({entry}), body_ok=True)
        program = humaneval_program(str(item["prompt"]), code, entry)
        # The judge runs the prompt itself (its helpers, e.g. encode_cyclic, are the tests' own)
        # and takes only the entry point from the program.
        test = CodeTest(f"{item['test']}\n\ncheck({entry})\n", name="check")
        return Job(program, [test], setup=str(item["prompt"]), remote=(entry,)), code, source
    if item.get("test_list"):
        tests = [str(t) for t in item["test_list"]]
        head = "\n".join(h for h in [*map(str, item.get("test_imports") or []),
                                      str(item.get("test_setup_code") or "")] if h.strip())
        code, source = select_program(answer, asserted_names(tests, head))
        checks: list[Test] = [CodeTest(t, name=f"assert {i}") for i, t in enumerate(tests)]
        return Job(head + "\n" + code, checks, setup=head), code, source
    code, source = select_program(answer)
    if item.get("public_test_cases") or item.get("private_test_cases"):
        return Job(code, _livecodebench_tests(item)), code, source
    if item.get("test"):
        return Job(code, [CodeTest(str(item["test"]), name="test")]), code, source
    raise CotbenchError("code scorer: the item has no tests (test, test_list or *_test_cases)")


@register_scorer("code")
def score_code(answer: str, target: Any, item: Mapping[str, Any], truncated: bool) -> Score:
    job, code, source = _job(answer, item)  # validates the item even for empty answers
    program, tests = job.program, job.tests
    if truncated or not answer.strip():
        return Score(0.0, details={"reason": "truncated" if truncated else "empty answer", "total": len(tests)})
    limits = Limits(timeout_s=float(item.get("timeout_s", Limits.timeout_s)))
    try:
        result = run_tests(program, tests, limits, setup=job.setup, remote=job.remote)
    except Exception as exc:  # noqa: BLE001 - a host-side sandbox failure must not end the run
        _log.warning("code scorer: the sandbox failed (%s: %s); scored 0", type(exc).__name__, exc)
        return Score(0.0, extracted=code_excerpt(code), details={
            "status": "sandbox_error", "passed": 0, "total": len(tests), "fraction": 0.0,
            "error": f"the sandbox failed on this host ({type(exc).__name__})",
            "program": code_excerpt(program, PROGRAM_LIMIT), "program_source": source})
    details: dict[str, Any] = {
        "status": result.status,
        "passed": result.passed,
        "total": result.total,
        "fraction": round(result.passed / result.total, 4) if result.total else 0.0,
        "duration_s": result.duration_s,
        "sandbox": list(result.layers),
        "program": code_excerpt(program, PROGRAM_LIMIT),
        "program_source": source,
    }
    if result.error:
        details["error"] = result.error
    return Score(1.0 if result.all_passed else 0.0, extracted=code_excerpt(code), details=details)


def code_excerpt(program: str, limit: int = 2000) -> str:
    """The program as stored in the record, cut to keep result files small."""
    return program if len(program) <= limit else program[:limit] + "\n# ... (truncated)"
