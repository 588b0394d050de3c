"""IFEval reader (google-research ``input_data.jsonl`` / google/IFEval train)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cotbench.tasks.benchmarks.common import require, rows
from cotbench.tasks.loaders import Row, register_loader

if TYPE_CHECKING:
    from cotbench.tasks.taskdef import TaskDef


@register_loader("ifeval")
def ifeval(task: TaskDef, data_dir: Path | None) -> list[Row]:
    out = []
    for r in rows(task, data_dir):
        key, prompt, ids, kwargs = require(task, r, "key", "prompt", "instruction_id_list", "kwargs")
        # The Hub's Arrow copy fills every instruction's kwargs with all keys (None when unused);
        # the checkers take only their own arguments, as in the upstream JSONL.
        clean = [{k: v for k, v in (kw or {}).items() if v is not None} for kw in kwargs]
        out.append({"id": str(key), "key": key, "prompt": prompt, "instruction_id_list": list(ids),
                    "kwargs": clean, "target": None})
    return out
