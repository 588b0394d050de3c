"""Reading and writing run directories; every write is atomic (temp file + rename)."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sys
import tempfile
import threading
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
LOCK = ".cotbench.lock"

M = TypeVar("M", bound=BaseModel)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` so that readers see either the old file or the whole new one.

    A path that is not a regular file (``/dev/stdout``, a pipe, a device) is written in place:
    renaming over it would replace the device node itself. A symlink's target is replaced.
    """
    if path.is_symlink():
        path = path.resolve()
    if path.exists() and not path.is_file():
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, "Is a directory", str(path))
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp's 0600 would make results unreadable to the team
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_umask_lock = threading.Lock()


def _umask() -> int:
    """The process umask (reading it means setting it, hence the lock)."""
    with _umask_lock:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


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
        """Tasks with a metrics.json; one that is not a readable file is listed too, so that reading
        it reports the problem instead of the task silently disappearing."""
        root = self.path / TASKS_DIR
        try:
            if not root.is_dir():
                return []
            return sorted(p.name for p in root.iterdir() if os.path.lexists(p / METRICS))
        except OSError as exc:
            raise ResultsError(f"{root}: cannot list the tasks ({_reason(exc)})") from None

    def read_task(self, task: str) -> TaskResult:
        return _read_model(self.task_dir(task) / METRICS, TaskResult)

    def iter_samples(self, task: str) -> Iterator[SampleRecord]:
        path = self.task_dir(task) / SAMPLES
        _require_file(path, "no samples file")
        try:
            fh = path.open("rb")
        except OSError as exc:
            raise ResultsError(f"{path}: cannot read ({_reason(exc)})") from None
        with fh:
            lineno = 0
            while True:
                try:
                    raw = fh.readline()
                except OSError as exc:
                    raise ResultsError(f"{path}: cannot read ({_reason(exc)})") from None
                if not raw:
                    break
                lineno += 1
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise ResultsError(f"{path}:{lineno}: not valid UTF-8 (byte {exc.start + 1}); the file is "
                                       "damaged: delete the task folder and run again") from None
                if not line.strip():
                    continue
                try:
                    yield SampleRecord.model_validate_json(line)
                except ValidationError as exc:
                    raise ResultsError(f"{path}:{lineno}: not a valid sample record ({_first_error(exc)})") from None

    # -- concurrent runs -----------------------------------------------------
    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the run directory for one ``cotbench run``: a second one writing into it at the same
        time would lose manifest entries, so it fails at once instead. The lock is the OS's
        (``flock``): it goes away with the process, however that ends."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise ResultsError(f"{self.path}: cannot write the run directory ({_reason(exc)})") from None
        try:
            if not _try_lock(fd):
                raise ResultsError(f"run directory {self.path} is in use by another cotbench run; wait for it to "
                                   "finish, or give this run another --output")
            try:
                yield
            finally:
                _unlock(fd)
        finally:
            os.close(fd)


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":  # no fcntl there
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_UN)


def _reason(exc: OSError) -> str:
    return exc.strerror or exc.__class__.__name__


def _require_file(path: Path, missing: str) -> None:
    """A ResultsError naming ``path`` unless it is a regular file (a folder in its place, say)."""
    try:
        if path.is_file():
            return
        there = os.path.lexists(path)
    except OSError as exc:
        raise ResultsError(f"{path}: cannot read ({_reason(exc)})") from None
    raise ResultsError(f"{path}: {'not a regular file (a folder?)' if there else missing}")



def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(x) for x in err.get("loc", ()))
    return f"{loc}: {err.get('msg', 'invalid')}" if loc else str(err.get("msg", "invalid"))


def _read_model(path: Path, cls: type[M]) -> M:
    _require_file(path, "file not found")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ResultsError(f"{path}: cannot read ({_reason(exc)})") from None
    except UnicodeDecodeError as exc:
        raise ResultsError(f"{path}: not valid JSON (not UTF-8 at byte {exc.start + 1})") from None
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{path}: not valid JSON ({exc})") from None
    if isinstance(raw, dict):
        version = str(raw.get("schema_version", SCHEMA_VERSION))
        if version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
            raise ResultsError(f"{path}: schema version {version} is not supported (expected {SCHEMA_VERSION})")
    try:
        return cls.model_validate(raw)
    except ValidationError as exc:
        raise ResultsError(f"{path}: not a valid {cls.__name__} ({_first_error(exc)})") from None
