"""BIG-Bench Hard reader: one cotbench task per subtask (``source.options.subtask``).

With a local data dir (suzgunmirac/BIG-Bench-Hard layout: ``bbh/<subtask>.json`` and
``cot-prompts/<subtask>.txt``) the prompt is the paper's 3-shot chain-of-thought prompt. The Hub
copy (lukaemon/bbh) has no CoT prompts and cotbench ships none, so from the Hub the prompt is
zero-shot CoT with an instruction to end with "So the answer is X." (the same closing the
exemplars teach). The two prompts differ, and so do the task hashes: a local-data run records
the prompt file in its hash, so the two are never compared silently.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cotbench.errors import DataError
from cotbench.tasks.benchmarks.common import hub_rows, read_file, require, source_paths
from cotbench.tasks.loaders import Row, register_loader

if TYPE_CHECKING:
    from cotbench.tasks.taskdef import TaskDef

ZERO_SHOT = 'Answer the question below. Think step by step, then end with "So the answer is <answer>."\n\n'


def cot_exemplars(path: Path) -> str:
    """The few-shot part of an upstream ``cot-prompts`` file (after the canary line and the
    ``-----`` separator), ending in a blank line so the question follows as the next shot."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"cannot read {path} ({exc.strerror})") from None
    _, sep, body = text.partition("\n-----\n")
    if not sep:
        raise DataError(f"{path}: not an upstream BBH cot-prompts file (no '-----' separator)")
    return body.strip() + "\n\n"


@register_loader("bbh")
def bbh(task: TaskDef, data_dir: Path | None) -> list[Row]:
    subtask = task.source.options.get("subtask")
    if not subtask:
        raise DataError(f"task {task.name}: source.options.subtask is required")
    paths = source_paths(task, data_dir)
    if paths is None:
        examples, shots = hub_rows(task, config=subtask), ZERO_SHOT
    else:
        data = next((p for p in paths if p.suffix == ".json"), None)
        prompt = next((p for p in paths if p.suffix == ".txt"), None)
        if data is None or prompt is None:
            raise DataError(f"task {task.name}: local_files must name the subtask's .json and cot-prompts .txt")
        examples, shots = read_file(data), cot_exemplars(prompt)
    out = []
    for i, r in enumerate(examples):
        question, target = require(task, r, "input", "target")
        out.append({"id": f"{i:03d}", "input": question, "target": str(target), "fewshot": shots,
                    "subtask": subtask})
    return out
