"""TaskDef: the cotbench view of a task YAML in ``tasks/``.

Each YAML is a valid lm-eval task config; cotbench's own fields live under
``metadata.cotbench``. The same TaskDef feeds the lm-eval config and the Inspect task.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import inspect
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from cotbench.results.schema import Domain, GenerationSettings
from cotbench.scoring.base import check_scorer, scorer_module
from cotbench.scoring.spec import ScorerSpec
from cotbench.tasks.field_map import FieldMap


class DataSource(BaseModel):
    """Where items come from: a procedural generator, or a benchmark (Hub or local files)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["probe", "benchmark"] = "benchmark"
    loader: str = Field("fields", description="name of the item loader (cotbench.tasks.loaders / probes); "
                                              "the default reads rows through ``fields``")
    # probe
    n: int | None = None
    seed: int | None = None
    # benchmark
    hub_id: str | None = None
    hub_revision: str | None = None
    hub_config: str | None = None
    hub_split: str | None = None
    local_dir: str | None = Field(None, description="sub-directory of the data dir, upstream layout")
    local_files: list[str] = Field(default_factory=list)
    options: dict[str, Any] = Field(default_factory=dict)
    fields: FieldMap | None = Field(None, description="field mapping for the generic ``fields`` loader")

    @model_serializer(mode="wrap")
    def _omit_unset_fields(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # A source without a mapping dumps as it did before the mapping existed, so content
        # hashes of such tasks do not move.
        data: dict[str, Any] = handler(self)
        if self.fields is None:
            data.pop("fields", None)
        return data


class TaskDef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    lm_eval_task: str
    version: str
    domain: Domain
    description: str
    scorer: ScorerSpec = Field(description="a registered scorer's name, or {name, args} for its factory's arguments")
    prompt: str = Field(description="template; {fields} come from the loader's items")
    source: DataSource
    license: str = ""
    citation: str = ""
    presets: dict[str, GenerationSettings]
    default_preset: str
    category_field: str | None = None
    path: Path | None = Field(None, exclude=True)
    tags: list[str] = Field(default_factory=list, exclude=True, description="the YAML's lm-eval tags")
    # Out of the content hash: offline scoring does not read it, and a judged task's hash covers
    # the judge scorer it selects (cotbench.judge.session).
    judge: dict[Literal["harm", "refusal"], str] = Field(
        default_factory=dict, exclude=True,
        description="rubrics the rubric judge uses for this task (cotbench.judge.judges), e.g. {harm: strongreject}")

    @model_validator(mode="after")
    def _scorer_exists(self) -> TaskDef:
        # An unknown scorer or a bad argument is an error naming the file when the task is read.
        check_scorer(self.scorer, str(self.path) if self.path else f"task {self.name}")
        return self

    def settings(self, preset: str | None = None) -> GenerationSettings:
        name = preset or self.default_preset
        if name not in self.presets:
            # Suites may ask for a preset a task lacks: fall back to the task's own default.
            name = self.default_preset
        return self.presets[name]

    def content_hash(self) -> str:
        """Prompt template, data source (with revision), scorer and generator code."""
        h = hashlib.sha256()
        h.update(json.dumps(self.model_dump(mode="json", exclude={"presets", "description", "citation"}),
                            sort_keys=True).encode())
        for module in _code_modules(self):
            h.update(module.encode())
            h.update(_module_source(module))
        for path in _data_files(self):
            h.update(path.name.encode())
            h.update(hashlib.sha256(path.read_bytes()).digest())
        return h.hexdigest()[:16]


def _code_modules(task: TaskDef) -> list[str]:
    """The modules whose source is part of the task: its scorer's and its loader's, and the
    shared helpers either uses that decide answers or items (extraction, option shuffling)."""
    from cotbench.tasks.loaders import get_loader

    mods = {scorer_module(task.scorer), get_loader(task.source.loader).__module__}
    return sorted(mods | {m for mod in mods for m in _SHARED_CODE if _imports(mod, m)})


# Moved out of the scorer and loader modules that were hashed (cotbench.scoring.math, .choice),
# so hashed with the tasks whose scorer or loader imports them.
_SHARED_CODE = ("cotbench.scoring.extract", "cotbench.tasks.shuffle")


def _imports(module: str, target: str) -> bool:
    """Whether ``module``'s source imports ``target`` (``import target`` or ``from target import``)."""
    tree = ast.parse(_module_source(module) or b"")
    return any(
        (isinstance(node, ast.ImportFrom) and node.module == target and node.level == 0)
        or (isinstance(node, ast.Import) and any(a.name == target for a in node.names))
        for node in ast.walk(tree)
    )


def _data_files(task: TaskDef) -> list[Path]:
    """Project-shipped data files and, when a local data dir is in use, the benchmark's files."""
    from cotbench.paths import tasks_dir
    from cotbench.tasks.data import data_dir

    files: list[Path] = []
    if task.source.options.get("file"):
        files.append(tasks_dir() / "probe_data" / task.source.options["file"])
    root = data_dir()
    if root is not None and task.source.local_dir:
        files.extend(p for n in task.source.local_files if (p := root / task.source.local_dir / n).is_file())
    return [p for p in files if p.is_file()]


def _module_source(module: str) -> bytes:
    mod = importlib.import_module(module)
    try:
        return Path(inspect.getfile(mod)).read_bytes()
    except (OSError, TypeError):
        return b""
