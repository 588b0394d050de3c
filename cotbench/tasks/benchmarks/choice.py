"""Multiple-choice rows: ``question``, ``choices`` (the option texts, as the ``choice`` scorer
expects), ``options_text`` (lettered options for the prompt) and the correct letter as
``target``. GPQA's reader lives here (its options are shuffled); MMLU-Pro, ARC and other
plain multiple-choice datasets are read by the generic ``fields`` loader."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from cotbench.errors import DataError
from cotbench.tasks.benchmarks.common import require, rows
from cotbench.tasks.loaders import Row, register_loader
from cotbench.tasks.shuffle import LETTERS, shuffle_choices

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
