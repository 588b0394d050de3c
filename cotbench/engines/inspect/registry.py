"""Inspect entry point: every cotbench task as ``cotbench/<name>``.

``inspect eval cotbench/countdown --model hf/...`` runs the same items, prompts, scorer and
generation settings as ``cotbench run`` (a greedy preset decodes greedily on every provider:
see ``cotbench.engines.inspect.tasks``). Task arguments (``-T``): ``preset`` (greedy |
reasoning; default the task's own), ``limit`` (first N items), ``subset`` (fixed pseudo-random
subset size), ``seed``. The model provider ``cotbench/<spec>`` runs any cotbench model spec
(e.g. ``cotbench/smollm2-135m``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from inspect_ai import Task, task

import cotbench.engines.inspect.model  # noqa: F401 - registers the cotbench/<spec> model provider
from cotbench.tasks.catalog import all_tasks
from cotbench.tasks.items import build_items


def _factory(name: str) -> Callable[..., Task]:
    def make(preset: str | None = None, limit: int | None = None, subset: int | None = None,
             seed: int | None = None) -> Task:
        from cotbench.engines.inspect.tasks import inspect_task

        td = all_tasks()[name]
        settings = td.settings(preset)
        if seed is not None:
            settings = settings.model_copy(update={"seed": int(seed)})
        items = build_items(td, subset=int(subset) if subset else None, limit=int(limit) if limit else None)
        return inspect_task(td, settings, items, preset=preset if preset in td.presets else td.default_preset)

    make.__name__ = name
    make.__doc__ = all_tasks()[name].description
    return make


def _register() -> dict[str, Any]:
    return {name: task(name=name)(_factory(name)) for name in all_tasks()}


globals().update(_register())
