"""cotbench's own small safety probe set (written by the project, shipped in tasks/probe_data)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from cotbench.errors import DataError
from cotbench.paths import tasks_dir
from cotbench.tasks.loaders import Row, register_loader

if TYPE_CHECKING:
    from cotbench.tasks.taskdef import TaskDef


@register_loader("probe_jsonl")
def probe_jsonl(task: TaskDef, data_dir: Path | None) -> list[Row]:
    """Rows of a JSONL file under tasks/probe_data named by ``source.options.file``."""
    name = task.source.options.get("file")
    if not name:
        raise DataError(f"task {task.name}: source.options.file is required for probe_jsonl")
    path = tasks_dir() / "probe_data" / name
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DataError(f"task {task.name}: cannot read {path} ({exc.strerror})") from None
    rows = [json.loads(line) for line in lines if line.strip()]
    for r in rows:
        r.setdefault("target", None)
    return rows
