"""A task's content hash covers what decides its items and scores, and nothing else: not its
description, presets or citation, nor how a scorer without arguments is spelled."""

from __future__ import annotations

from typing import Any

import pytest

from cotbench.tasks import taskdef
from cotbench.tasks.catalog import all_tasks
from cotbench.tasks.taskdef import TaskDef


def _variant(task: TaskDef, **changes: Any) -> TaskDef:
    """The task re-read from its fields with ``changes`` (validated, as a YAML would be)."""
    data = task.model_dump(mode="json")
    data.update(path=task.path, tags=task.tags, **changes)
    return TaskDef.model_validate(data)


@pytest.fixture(scope="module")
def arithmetic() -> TaskDef:
    return all_tasks()["arithmetic"]


def test_what_is_not_content_does_not_move_the_hash(arithmetic: TaskDef) -> None:
    h = arithmetic.content_hash()
    assert _variant(arithmetic).content_hash() == h
    presets = {"greedy": {"temperature": 0.0, "max_tokens": 99}, "other": {"temperature": 1.0, "k": 8}}
    for changes in ({"description": "something else"}, {"citation": "Someone et al."}, {"presets": presets}):
        assert _variant(arithmetic, **changes).content_hash() == h, changes


@pytest.mark.parametrize("spelling", ["integer", {"name": "integer"}, {"name": "integer", "args": {}},
                                      "integer()"])
def test_a_scorer_without_arguments_hashes_as_its_name(arithmetic: TaskDef, spelling: object) -> None:
    assert arithmetic.scorer == "integer"
    assert _variant(arithmetic, scorer=spelling).content_hash() == arithmetic.content_hash()


def test_content_moves_the_hash(arithmetic: TaskDef) -> None:
    h = arithmetic.content_hash()
    source = {**arithmetic.source.model_dump(mode="json"), "n": 201}
    changed = [_variant(arithmetic, prompt=arithmetic.prompt + " "), _variant(arithmetic, source=source),
               _variant(arithmetic, scorer="exact"),
               _variant(arithmetic, scorer={"name": "exact", "args": {"bbh": True}})]
    hashes = [t.content_hash() for t in changed]
    assert h not in hashes and len(set(hashes)) == len(hashes)


def test_the_scorer_and_loader_code_is_content(monkeypatch: pytest.MonkeyPatch) -> None:
    tasks = all_tasks()
    before = {name: t.content_hash() for name, t in tasks.items()}
    real = taskdef._module_source

    shared = ("cotbench.scoring.extract", "cotbench.tasks.shuffle")

    def edited(module: str) -> bytes:
        return real(module) + (b"\n# edited\n" if module in shared else b"")

    monkeypatch.setattr(taskdef, "_module_source", edited)
    after = {name: t.content_hash() for name, t in tasks.items()}
    moved = {name for name in tasks if after[name] != before[name]}
    # The shared extraction is hashed with every task whose scorer reads answers through it, the
    # shuffle with every task whose loader shuffles options; a task using neither does not move.
    uses = {name for name, t in tasks.items()
            if {"cotbench.scoring.extract", "cotbench.tasks.shuffle"} & set(taskdef._code_modules(t))}
    assert moved == uses
    assert {"arithmetic", "gsm8k", "arc_challenge"} <= moved and "ifeval" not in moved
    for name in ("gsm8k", "arithmetic"):
        assert "cotbench.scoring.extract" in taskdef._code_modules(tasks[name])
    assert "cotbench.tasks.shuffle" in taskdef._code_modules(tasks["gpqa_diamond"])
