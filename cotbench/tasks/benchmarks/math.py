"""Math benchmark readers (MATH-500, GSM8K, AIME): rows with ``problem`` and a string ``target``
that the ``math`` scorer grades."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cotbench.errors import DataError
from cotbench.tasks.benchmarks.common import require, rows
from cotbench.tasks.loaders import Row, register_loader

if TYPE_CHECKING:
    from cotbench.tasks.taskdef import TaskDef


@register_loader("math500")
def math500(task: TaskDef, data_dir: Path | None) -> list[Row]:
    """PRM800K ``math_splits/test.jsonl`` / HuggingFaceH4/MATH-500: the same fields."""
    out = []
    for r in rows(task, data_dir):
        uid, problem, answer = require(task, r, "unique_id", "problem", "answer")
        out.append({"id": uid, "problem": problem, "target": str(answer), "subject": r.get("subject"),
                    "level": r.get("level"), "solution": r.get("solution")})
    return out


def gsm8k_answer(solution: str) -> str:
    """The number after GSM8K's ``####`` marker, without thousands separators."""
    if "####" not in solution:
        raise DataError("gsm8k: an answer lacks the '####' final-answer marker")
    return solution.rsplit("####", 1)[1].strip().replace(",", "")


@register_loader("gsm8k")
def gsm8k(task: TaskDef, data_dir: Path | None) -> list[Row]:
    """openai/grade-school-math ``test.jsonl`` / openai/gsm8k (main, test). The upstream rows have
    no ids, so the id is the row's position in the upstream file."""
    out = []
    for i, r in enumerate(rows(task, data_dir)):
        question, solution = require(task, r, "question", "answer")
        out.append({"id": f"{i:04d}", "problem": question, "target": gsm8k_answer(solution), "solution": solution})
    return out


def _first(row: Row, *keys: str) -> object:
    return next((row[k] for k in keys if row.get(k) is not None), None)


@register_loader("aime")
def aime(task: TaskDef, data_dir: Path | None) -> list[Row]:
    """AIME problems: the shared data's ``aime20XX.jsonl`` (id, problem, answer) or a Hub copy
    (``problem``/``question`` and ``answer``, any capitalisation; id from the row or position)."""
    out = []
    for i, r in enumerate(rows(task, data_dir)):
        problem = _first(r, "problem", "Problem", "question", "Question")
        answer = _first(r, "answer", "Answer")
        if problem is None or answer is None:
            raise DataError(f"task {task.name}: a row lacks the problem or answer field (wrong file or layout?)")
        rid = _first(r, "id", "ID")
        out.append({"id": str(rid) if rid is not None else f"{i:02d}", "problem": str(problem),
                    "target": str(answer).strip()})
    return out
