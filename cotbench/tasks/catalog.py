"""Read task definitions and suites from ``tasks/``.

Task YAMLs are lm-eval task configs (``task:``) whose ``metadata.cotbench`` holds the
TaskDef fields; suite YAMLs are lm-eval groups (``group:``) whose ``metadata.cotbench_suite``
holds suite settings. ``!function`` tags are lm-eval's; cotbench reads them as plain text.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cotbench.errors import CotbenchError
from cotbench.paths import tasks_dir
from cotbench.tasks.taskdef import TaskDef

LM_EVAL_PREFIX = "cotbench_"
DEFAULT_SUITE = "smoke"


class Suite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str
    tasks: list[str]
    preset: str | None = None
    max_tokens: int | None = Field(None, description="generation budget for every task (CPU-sized suites)")
    subset: dict[str, int] = Field(default_factory=dict, description="fixed subset size per task")
    version: str = "1"


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_constructor("!function", lambda loader, node: f"!function {loader.construct_scalar(node)}")


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        raise CotbenchError(f"{path}: invalid YAML ({exc})") from None
    return data if isinstance(data, dict) else {}


@functools.cache
def _load_all(root: Path) -> tuple[dict[str, TaskDef], dict[str, Suite]]:
    tasks: dict[str, TaskDef] = {}
    suites: dict[str, Suite] = {}
    for path in sorted(root.glob("*.yaml")):
        raw = _read_yaml(path)
        meta = raw.get("metadata") or {}
        try:
            if "cotbench" in meta:
                td = TaskDef(lm_eval_task=raw["task"], version=str(meta.get("version", "1")), path=path,
                             **meta["cotbench"])
                tasks[td.name] = td
            elif "cotbench_suite" in meta:
                s = meta["cotbench_suite"]
                suites[s["name"]] = Suite(tasks=[t.removeprefix(LM_EVAL_PREFIX) for t in raw["task"]],
                                          version=str(meta.get("version", "1")), **s)
        except (ValidationError, KeyError, TypeError) as exc:
            raise CotbenchError(f"{path}: invalid cotbench task definition ({str(exc).splitlines()[0]})") from None
    for s in suites.values():
        unknown = [t for t in s.tasks if t not in tasks]
        if unknown:
            raise CotbenchError(f"suite {s.name} names unknown task(s): {', '.join(unknown)}")
    return tasks, suites


def all_tasks() -> dict[str, TaskDef]:
    return _load_all(tasks_dir())[0]


def all_suites() -> dict[str, Suite]:
    return _load_all(tasks_dir())[1]


def get_task(name: str) -> TaskDef:
    tasks = all_tasks()
    key = name.removeprefix(LM_EVAL_PREFIX)
    if key not in tasks:
        raise CotbenchError(f"unknown task '{name}' (see 'cotbench tasks')")
    return tasks[key]


def get_suite(name: str) -> Suite:
    suites = all_suites()
    if name not in suites:
        raise CotbenchError(f"unknown suite '{name}' (known: {', '.join(sorted(suites))})")
    return suites[name]
