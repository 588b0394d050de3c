"""Read task definitions and suites from task folders: the bundled ``tasks/``, then each folder
of ``COTBENCH_TASKS_PATH`` (``os.pathsep``-separated), then each ``--include-path``.

A task YAML is an lm-eval task config (``task:``) whose ``metadata.cotbench`` holds the TaskDef
fields. With ``metadata.cotbench_subtasks`` it is a template: one task per subtask, ``{subtask}``
filled into every string field but the prompt (whose braces name item fields), named
``cotbench_<name>`` in lm-eval. A suite YAML is an lm-eval group (``group:``) whose ``task:``
list names tasks or lm-eval tags (a tag stands for its tasks, in name order, as in lm-eval) and
whose ``metadata.cotbench_suite`` holds the suite's settings. ``include:`` is merged as lm-eval
merges it; ``!function`` tags are kept as plain text.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cotbench.errors import CotbenchError
from cotbench.paths import tasks_dir
from cotbench.tasks.taskdef import TaskDef

LM_EVAL_PREFIX = "cotbench_"
DEFAULT_SUITE = "smoke"
ENV_VAR = "COTBENCH_TASKS_PATH"
SUBTASK = "{subtask}"
_include_paths: tuple[Path, ...] = ()


class Suite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str
    tasks: list[str]
    preset: str | None = None
    max_tokens: int | None = Field(None, description="generation budget for every task (CPU-sized suites)")
    subset: dict[str, int] = Field(default_factory=dict, description="fixed subset size per task")
    version: str = "1"
    path: Path | None = Field(None, exclude=True)


@dataclass(frozen=True)
class Catalog:
    tasks: dict[str, TaskDef]
    suites: dict[str, Suite]
    tags: dict[str, list[str]]  # lm-eval tag -> task names, in lm-eval name order


# --- folders -----------------------------------------------------------------------------------

@contextlib.contextmanager
def using_include_paths(paths: Iterable[Path], option: str = "--include-path") -> Iterator[None]:
    """Add task folders for the duration of a command; a missing one is an error naming ``option``."""
    global _include_paths
    folders = tuple(_checked_folder(Path(p), option) for p in paths)
    old = _include_paths
    _include_paths = old + tuple(p for p in folders if p not in old)
    try:
        yield
    finally:
        _include_paths = old


def task_folders() -> list[Path]:
    """Every folder tasks are read from, bundled first, without repeats."""
    env = [_checked_folder(Path(p).expanduser(), ENV_VAR)
           for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p.strip()]
    folders: list[Path] = []
    for p in (tasks_dir().resolve(), *env, *_include_paths):
        if p not in folders:
            folders.append(p)
    return folders


def _checked_folder(path: Path, option: str) -> Path:
    if not path.is_dir():
        what = "is a file, not a folder" if path.exists() else "does not exist"
        raise CotbenchError(f"{option}: task folder {path} {what}")
    return path.resolve()


# --- reading YAML -----------------------------------------------------------------------------

class _Loader(yaml.SafeLoader):
    pass


def _function_tag(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> str:
    return f"!function {loader.construct_scalar(node)}"


_Loader.add_constructor("!function", _function_tag)


def read_yaml(path: Path, _seen: frozenset[Path] = frozenset()) -> dict[str, Any]:
    """A YAML file with its ``include:`` files merged under it (its own keys win), as lm-eval does."""
    if path in _seen:
        raise CotbenchError(f"{path}: include cycle")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise CotbenchError(f"{path}: invalid YAML ({' '.join(str(exc).split())})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CotbenchError(f"{path}: cannot read ({exc})") from None
    if not isinstance(data, dict):
        return {}
    includes = data.pop("include", None)
    merged: dict[str, Any] = {}
    for inc in includes if isinstance(includes, list) else ([includes] if includes else []):
        inc_path = Path(inc) if Path(inc).is_absolute() else path.parent / inc
        if not inc_path.is_file():
            raise CotbenchError(f"{path}: included file {inc_path} not found")
        merged.update(read_yaml(inc_path.resolve(), _seen | {path}))
    merged.update(data)
    return merged


def task_defs(raw: dict[str, Any], path: Path | None) -> list[TaskDef]:
    """The TaskDefs of one task config (a template yields one per subtask)."""
    meta = raw.get("metadata") or {}
    spec = meta.get("cotbench")
    where = path or "task config"
    if not isinstance(spec, dict):
        raise CotbenchError(f"{where}: metadata.cotbench must be a mapping of task fields")
    common: dict[str, Any] = {"version": str(meta.get("version", "1")), "path": path, "tags": _as_list(raw.get("tag"))}
    subtasks = meta.get("cotbench_subtasks")
    try:
        if subtasks is None:
            if not isinstance(raw.get("task"), str):
                raise CotbenchError(f"{where}: a task YAML needs 'task: <lm-eval task name>'")
            fields = {"name": raw["task"].removeprefix(LM_EVAL_PREFIX), **spec}
            return [TaskDef.model_validate({"lm_eval_task": raw["task"], **common, **fields})]
        if not isinstance(subtasks, list) or not subtasks or not all(isinstance(s, str) for s in subtasks):
            raise CotbenchError(f"{where}: metadata.cotbench_subtasks must be a list of subtask names")
        if SUBTASK not in str(spec.get("name", "")):
            raise CotbenchError(f"{where}: a template's name must contain {SUBTASK}")
        out = []
        for sub in subtasks:
            fields = {k: (v if k == "prompt" else _fill(v, sub)) for k, v in spec.items()}
            name = LM_EVAL_PREFIX + str(fields["name"])
            out.append(TaskDef.model_validate({"lm_eval_task": name, **common, **fields}))
        return out
    except ValidationError as exc:
        raise CotbenchError(f"{where}: invalid cotbench task definition ({_first_errors(exc)})") from None
    except TypeError as exc:
        raise CotbenchError(f"{where}: invalid cotbench task definition ({exc})") from None


def _fill(value: Any, subtask: str) -> Any:
    if isinstance(value, str):
        return value.replace(SUBTASK, subtask)
    if isinstance(value, list):
        return [_fill(v, subtask) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, subtask) for k, v in value.items()}
    return value


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _first_errors(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors()[:3])


# --- the catalog ------------------------------------------------------------------------------

@functools.cache
def _load(folders: tuple[Path, ...]) -> Catalog:
    tasks: dict[str, TaskDef] = {}
    by_lm_name: dict[str, TaskDef] = {}
    suite_raws: list[tuple[Path, dict[str, Any]]] = []
    for folder in folders:
        for path in sorted(folder.glob("*.yaml")):
            raw = read_yaml(path.resolve())
            meta = raw.get("metadata") or {}
            if not isinstance(meta, dict):
                continue
            if "cotbench" in meta:
                for td in task_defs(raw, path.resolve()):
                    for key, index in ((td.name, tasks), (td.lm_eval_task, by_lm_name)):
                        if key in index:
                            raise CotbenchError(f"task '{key}' is defined twice: {index[key].path} and {path}")
                        index[key] = td
            elif "cotbench_suite" in meta:
                suite_raws.append((path.resolve(), raw))
    tags: dict[str, list[str]] = {}
    for td in sorted(tasks.values(), key=lambda t: t.lm_eval_task):
        for tag in td.tags:
            tags.setdefault(tag, []).append(td.name)
    for tag in tags:
        if tag in by_lm_name:
            raise CotbenchError(f"tag '{tag}' of {by_lm_name[tag].path} is also the name of a task")
    suites: dict[str, Suite] = {}
    for path, raw in suite_raws:
        suite = _suite(raw, path, tasks, by_lm_name, tags)
        if suite.name in suites:
            raise CotbenchError(f"suite '{suite.name}' is defined twice: {suites[suite.name].path} and {path}")
        suites[suite.name] = suite
    return Catalog(tasks, suites, tags)


def _suite(raw: dict[str, Any], path: Path, tasks: dict[str, TaskDef], by_lm_name: dict[str, TaskDef],
           tags: dict[str, list[str]]) -> Suite:
    meta = raw["metadata"]
    spec = meta["cotbench_suite"]
    entries = raw.get("task")
    if not isinstance(spec, dict) or not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
        raise CotbenchError(f"{path}: a suite needs 'task: [task or tag names]' and a metadata.cotbench_suite mapping")

    def members(key: str) -> list[str] | None:
        if key in by_lm_name:
            return [by_lm_name[key].name]
        if key in tasks:
            return [key]
        return tags.get(key)

    names: list[str] = []
    for entry in entries:
        found = members(entry)
        if found is None:
            raise CotbenchError(f"{path}: suite {spec.get('name')} names unknown task or tag '{entry}'")
        names.extend(n for n in found if n not in names)
    subset: dict[str, int] = {}
    for key, size in (spec.get("subset") or {}).items():  # later keys override earlier ones
        found = members(str(key))
        if found is None:
            raise CotbenchError(f"{path}: suite {spec.get('name')} sets a subset for unknown task or tag '{key}'")
        subset.update({n: size for n in found if n in names})
    try:
        return Suite(**{**spec, "tasks": names, "subset": subset}, version=str(meta.get("version", "1")), path=path)
    except ValidationError as exc:
        raise CotbenchError(f"{path}: invalid cotbench suite ({_first_errors(exc)})") from None
    except TypeError as exc:
        raise CotbenchError(f"{path}: invalid cotbench suite ({exc})") from None


def catalog() -> Catalog:
    return _load(tuple(task_folders()))


def all_tasks() -> dict[str, TaskDef]:
    return catalog().tasks


def all_suites() -> dict[str, Suite]:
    return catalog().suites


def all_tags() -> dict[str, list[str]]:
    return catalog().tags


def get_task(name: str) -> TaskDef:
    tasks = all_tasks()
    if name in tasks:
        return tasks[name]
    key = name.removeprefix(LM_EVAL_PREFIX)
    if key not in tasks:
        raise CotbenchError(f"unknown task '{name}' (see 'cotbench tasks')")
    return tasks[key]


def get_suite(name: str) -> Suite:
    suites = all_suites()
    if name not in suites:
        raise CotbenchError(f"unknown suite '{name}' (known: {', '.join(sorted(suites))})")
    return suites[name]
