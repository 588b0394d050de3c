"""Item loaders by name: probe generators and benchmark readers.

A loader returns plain rows (dicts with at least ``id`` and ``target`` plus the fields the
prompt template and the scorer need).
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cotbench.errors import CotbenchError

if TYPE_CHECKING:
    from cotbench.tasks.taskdef import TaskDef

Row = dict[str, Any]
Loader = Callable[["TaskDef", "Path | None"], list[Row]]
_LOADERS: dict[str, Loader] = {}


def register_loader(name: str) -> Callable[[Loader], Loader]:
    def deco(fn: Loader) -> Loader:
        _LOADERS[name] = fn
        return fn

    return deco


def get_loader(name: str) -> Loader:
    _import_builtin()
    try:
        return _LOADERS[name]
    except KeyError:
        raise CotbenchError(f"unknown data loader '{name}' (known: {', '.join(sorted(_LOADERS))})") from None


@functools.cache
def _import_builtin() -> None:
    import cotbench.tasks.probes as probes

    for mod in pkgutil.iter_modules(probes.__path__):
        importlib.import_module(f"cotbench.tasks.probes.{mod.name}")
    import cotbench.tasks.benchmarks as benchmarks

    for mod in pkgutil.iter_modules(benchmarks.__path__):
        importlib.import_module(f"cotbench.tasks.benchmarks.{mod.name}")
