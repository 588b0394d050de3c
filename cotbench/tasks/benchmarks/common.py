"""Shared reading of benchmark rows: the local data dir (upstream file layout) first, else the
Hugging Face Hub at the task's pinned revision. Every failure becomes a one-line DataError."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cotbench.errors import DataError
from cotbench.tasks import data as data_config
from cotbench.tasks.data import ENV_VAR, local_files
from cotbench.tasks.loaders import Row

if TYPE_CHECKING:
    from cotbench.tasks.taskdef import TaskDef

GATED_HINT = {
    "Idavidrein/gpqa": "accept the terms at https://huggingface.co/datasets/Idavidrein/gpqa, then run "
                       "`huggingface-cli login`",
}


def source_paths(task: TaskDef, data_dir: Path | None) -> list[Path] | None:
    """The task's local files (all must exist), or None to read from the Hub: only when no data
    dir is in use (or the task has no local layout). A data dir without this task's folder is
    an error at once, naming the folder: never a silent trip to the network."""
    if data_dir is None or not task.source.local_dir:
        return None
    folder = data_dir / task.source.local_dir
    if not folder.is_dir():
        files = ", ".join(task.source.local_files)
        raise DataError(f"task {task.name}: the data directory {data_dir} has no folder {task.source.local_dir}/ "
                        f"(expected {files} under {folder}); add it, or run without --data-dir / {ENV_VAR} "
                        "to download the task from the Hub")
    return local_files(data_dir, task.source.local_dir, task.source.local_files)


def _local_hint(task: TaskDef) -> str:
    root = data_config.data_dir()  # the run's data dir (loaders get it as a parameter)
    if root is not None and task.source.local_dir:
        files = ", ".join(task.source.local_files)
        return f"or put the upstream files ({files}) under {root / task.source.local_dir}"
    return f"pass --data-dir or set {ENV_VAR} to a directory with the upstream files"


def read_file(path: Path) -> list[Row]:
    """Rows of one upstream file: .jsonl, .json (a list, or BBH's {"examples": [...]}), .csv, .parquet."""
    try:
        if path.suffix == ".jsonl":
            return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if path.suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            return list(data["examples"] if isinstance(data, dict) else data)
        if path.suffix == ".csv":
            with path.open(newline="", encoding="utf-8") as f:
                return list(csv.DictReader(f))
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            return pq.read_table(path).to_pylist()
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(f"cannot read {path}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    raise DataError(f"cannot read {path}: unsupported file type '{path.suffix}'")


def _hub_error(task: TaskDef, exc: Exception) -> DataError:
    """Map the many ways a Hub load fails to one actionable line."""
    from huggingface_hub.errors import GatedRepoError, OfflineModeIsEnabled

    hub_id = task.source.hub_id
    text = f"{type(exc).__name__}: {exc}"
    lowered = text.lower()
    # datasets re-wraps Hub errors (e.g. DatasetNotFoundError "... is a gated dataset"), so the
    # message is checked as well as the type.
    if isinstance(exc, GatedRepoError) or any(
            w in lowered for w in ("gated", "401", "403", "unauthorized", "authenticat", "restricted")):
        hint = GATED_HINT.get(hub_id or "", f"request access at https://huggingface.co/datasets/{hub_id} "
                                            "and run `huggingface-cli login`")
        return DataError(f"task {task.name}: {hub_id} is gated on the Hugging Face Hub: {hint}")
    offline_words = ("offline", "connection", "unreachable", "timed out", "couldn't reach", "network",
                     "name resolution", "localentrynotfound", "not found in cache")
    if isinstance(exc, (OfflineModeIsEnabled, ConnectionError)) or any(w in lowered for w in offline_words):
        return DataError(f"task {task.name}: cannot reach the Hugging Face Hub for {hub_id} (offline?); "
                         f"{_local_hint(task)}")
    first = text.splitlines()[0] if text else type(exc).__name__
    return DataError(f"task {task.name}: cannot load {hub_id} from the Hub ({first[:300]})")


def hub_rows(task: TaskDef, config: str | None = None) -> list[Row]:
    """``datasets.load_dataset(hub_id, config, split, revision)`` as plain rows."""
    src = task.source
    if not src.hub_id:
        raise DataError(f"task {task.name}: no Hub dataset is configured; {_local_hint(task)}")
    import datasets

    try:
        ds = datasets.load_dataset(src.hub_id, config or src.hub_config, split=src.hub_split or "test",
                                   revision=src.hub_revision)
    except Exception as exc:  # noqa: BLE001 - datasets/hub raise many unrelated types; all become one line
        raise _hub_error(task, exc) from None
    return [dict(r) for r in ds]


def hub_files(task: TaskDef, names: list[str]) -> list[Path]:
    """Download upstream files of a Hub dataset repo (for datasets whose loading script the
    installed ``datasets`` no longer runs) at the pinned revision."""
    src = task.source
    from huggingface_hub import hf_hub_download

    try:
        return [Path(hf_hub_download(src.hub_id or "", n, repo_type="dataset", revision=src.hub_revision))
                for n in names]
    except Exception as exc:  # noqa: BLE001 - see hub_rows
        raise _hub_error(task, exc) from None


def rows(task: TaskDef, data_dir: Path | None) -> list[Row]:
    """All rows of the task's source: its local files concatenated, else the Hub split."""
    paths = source_paths(task, data_dir)
    if paths is None:
        return hub_rows(task)
    return [r for p in paths for r in read_file(p)]


def require(task: TaskDef, row: Row, *keys: str) -> list[Any]:
    """The row's values for ``keys``, or a DataError naming the first missing field."""
    missing = [k for k in keys if k not in row or row[k] is None]
    if missing:
        raise DataError(f"task {task.name}: a data row lacks field '{missing[0]}' (wrong file or layout?)")
    return [row[k] for k in keys]
