"""Item loaders by name (``cotbench.registry.loaders``): probe generators and benchmark readers.

A loader returns plain rows (dicts with at least ``id`` and ``target`` plus the fields the
prompt template and the scorer need). Built-ins live in ``cotbench.tasks.probes`` and
``cotbench.tasks.benchmarks``; a plugin registers more with ``@register_loader(name)``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cotbench.registry import loaders

if TYPE_CHECKING:
    from cotbench.tasks.taskdef import TaskDef

Row = dict[str, Any]
Loader = Callable[["TaskDef", "Path | None"], list[Row]]


def register_loader(name: str) -> Callable[[Loader], Loader]:
    """Decorator: register an item loader as ``name`` (a task's ``source.loader``)."""
    return loaders.register(name)


def get_loader(name: str) -> Loader:
    return loaders.get(name)


def loader_names() -> list[str]:
    return loaders.names()
