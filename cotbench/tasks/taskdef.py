"""TaskDef: the cotbench view of a task YAML in ``tasks/``.

Each YAML is a valid lm-eval task config; cotbench's own fields live under
``metadata.cotbench``. The same TaskDef feeds the lm-eval config and the Inspect task.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cotbench.results.schema import Domain, GenerationSettings


class DataSource(BaseModel):
    """Where items come from: a procedural generator, or a benchmark (Hub or local files)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["probe", "benchmark"]
    loader: str = Field(description="name of the item loader (cotbench.tasks.loaders / probes)")
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


class TaskDef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    lm_eval_task: str
    version: str
    domain: Domain
    description: str
    scorer: str
    prompt: str = Field(description="template; {fields} come from the loader's items")
    source: DataSource
    license: str = ""
    citation: str = ""
    presets: dict[str, GenerationSettings]
    default_preset: str
    category_field: str | None = None
    path: Path | None = Field(None, exclude=True)

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
    from cotbench.scoring.base import get_scorer

    mods = [get_scorer(task.scorer).__module__]
    from cotbench.tasks.loaders import get_loader

    mods.append(get_loader(task.source.loader).__module__)
    return sorted(set(mods))


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
