"""Reading and writing run directories; every write is atomic (temp file + rename)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from cotbench.errors import ResultsError
from cotbench.results.schema import SCHEMA_VERSION, RunManifest, SampleRecord, TaskResult

MANIFEST = "manifest.json"
TASKS_DIR = "tasks"
METRICS = "metrics.json"
SAMPLES = "samples.jsonl"
GENERATION_CACHE = "generations.sqlite"

M = TypeVar("M", bound=BaseModel)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` so that readers see either the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _dump(model: BaseModel) -> str:
    return model.model_dump_json(indent=2) + "\n"


class RunDir:
    """A results directory for one (model, checkpoint) run."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    # -- paths ---------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST

    @property
    def cache_path(self) -> Path:
        return self.path / GENERATION_CACHE

    def task_dir(self, task: str) -> Path:
        return self.path / TASKS_DIR / task

    # -- manifest ------------------------------------------------------------
    def exists(self) -> bool:
        return self.manifest_path.is_file()

    def read_manifest(self) -> RunManifest:
        return _read_model(self.manifest_path, RunManifest)

    def write_manifest(self, manifest: RunManifest) -> None:
        atomic_write_text(self.manifest_path, _dump(manifest))

    # -- tasks ---------------------------------------------------------------
    def write_task(self, result: TaskResult, samples: Iterable[SampleRecord]) -> None:
        """Samples first, metrics last: a metrics.json marks the task complete."""
        lines = "".join(s.model_dump_json() + "\n" for s in samples)
        atomic_write_text(self.task_dir(result.task.name) / SAMPLES, lines)
        atomic_write_text(self.task_dir(result.task.name) / METRICS, _dump(result))

    def task_names(self) -> list[str]:
        root = self.path / TASKS_DIR
        if not root.is_dir():
            return []
        return sorted(p.name for p in root.iterdir() if (p / METRICS).is_file())

    def read_task(self, task: str) -> TaskResult:
        return _read_model(self.task_dir(task) / METRICS, TaskResult)

    def iter_samples(self, task: str) -> Iterator[SampleRecord]:
        path = self.task_dir(task) / SAMPLES
        if not path.is_file():
            raise ResultsError(f"{path}: no samples file")
        with path.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    yield SampleRecord.model_validate_json(line)
                except ValidationError as exc:
                    raise ResultsError(f"{path}:{lineno}: not a valid sample record ({_first_error(exc)})") from None



def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(x) for x in err.get("loc", ()))
    return f"{loc}: {err.get('msg', 'invalid')}" if loc else str(err.get("msg", "invalid"))


def _read_model(path: Path, cls: type[M]) -> M:
    if not path.is_file():
        raise ResultsError(f"{path}: file not found")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultsError(f"{path}: not valid JSON ({exc})") from None
    if isinstance(raw, dict):
        version = str(raw.get("schema_version", SCHEMA_VERSION))
        if version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
            raise ResultsError(f"{path}: schema version {version} is not supported (expected {SCHEMA_VERSION})")
    try:
        return cls.model_validate(raw)
    except ValidationError as exc:
        raise ResultsError(f"{path}: not a valid {cls.__name__} ({_first_error(exc)})") from None
