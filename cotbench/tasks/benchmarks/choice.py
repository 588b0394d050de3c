"""Multiple-choice readers (GPQA Diamond, MMLU-Pro, ARC-Challenge): rows with ``question``,
``choices`` (the option texts, as the ``choice`` scorer expects), ``options_text`` (lettered
options for the prompt) and the correct letter as ``target``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from cotbench.errors import DataError
from cotbench.scoring.choice import LETTERS, shuffle_choices
from cotbench.tasks.benchmarks.common import require, rows
from cotbench.tasks.loaders import Row, register_loader

if TYPE_CHECKING:
    from cotbench.tasks.taskdef import TaskDef


def options_text(choices: list[str]) -> str:
    return "\n".join(f"({LETTERS[i]}) {c}" for i, c in enumerate(choices))


def _row(item_id: str, question: str, choices: list[str], correct: int, **extra: Any) -> Row:
    return {"id": item_id, "question": question, "choices": choices, "options_text": options_text(choices),
            "target": LETTERS[correct], **extra}


@register_loader("gpqa")
def gpqa(task: TaskDef, data_dir: Path | None) -> list[Row]:
    """GPQA (Idavidrein/gpqa; locally the upstream ``gpqa_diamond.csv`` from its dataset.zip).
    The correct answer comes first upstream, so options are shuffled per item from the YAML's
    ``options.shuffle_seed``: the same order on every machine and run."""
    seed = task.source.options.get("shuffle_seed")
    if not isinstance(seed, int):
        raise DataError(f"task {task.name}: source.options.shuffle_seed (an integer) is required")
    out = []
    for r in rows(task, data_dir):
        rid, question, right, *wrong = require(task, r, "Record ID", "Question", "Correct Answer",
                                               "Incorrect Answer 1", "Incorrect Answer 2", "Incorrect Answer 3")
        options = [str(o).strip() for o in (right, *wrong)]
        choices, correct = shuffle_choices(options, 0, seed, str(rid))
        out.append(_row(str(rid), str(question).strip(), choices, correct,
                        domain=r.get("High-level domain"), subdomain=r.get("Subdomain")))
    return out


@register_loader("mmlu_pro")
def mmlu_pro(task: TaskDef, data_dir: Path | None) -> list[Row]:
    """TIGER-Lab/MMLU-Pro test (locally its ``data/test-00000-of-00001.parquet``): up to ten options."""
    out = []
    for r in rows(task, data_dir):
        qid, question, options, answer = require(task, r, "question_id", "question", "options", "answer")
        options = [str(o) for o in options]
        letter = str(answer).strip().upper()
        if letter not in LETTERS[: len(options)]:
            raise DataError(f"task {task.name}: question {qid} has answer {answer!r} outside its options")
        out.append(_row(str(qid), str(question), options, LETTERS.index(letter), subject=r.get("category"),
                        src=r.get("src")))
    return out


def _arc_choices(task: TaskDef, r: Row) -> tuple[str, list[str], list[str]]:
    """(stem, labels, texts) from either the AI2 JSONL (nested ``question``) or the Hub layout."""
    q = r.get("question")
    if isinstance(q, dict):  # AI2 release: {"stem", "choices": [{"text", "label"}]}
        return str(q["stem"]), [str(c["label"]) for c in q["choices"]], [str(c["text"]) for c in q["choices"]]
    stem, choices = require(task, r, "question", "choices")
    return str(stem), [str(x) for x in choices["label"]], [str(x) for x in choices["text"]]


@register_loader("arc")
def arc(task: TaskDef, data_dir: Path | None) -> list[Row]:
    """ARC (AI2 ``ARC-Challenge-Test.jsonl`` / allenai/ai2_arc). Some items label options 1-4;
    every item is shown with letters A.. in the upstream order, so the extraction is uniform."""
    out = []
    for r in rows(task, data_dir):
        rid, key = require(task, r, "id", "answerKey")
        stem, labels, texts = _arc_choices(task, r)
        if str(key) not in labels:
            raise DataError(f"task {task.name}: item {rid} has answer key {key!r} that is not one of its labels")
        out.append(_row(str(rid), stem, texts, labels.index(str(key))))
    return out
