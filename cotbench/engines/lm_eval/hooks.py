"""Functions that cotbench's task YAMLs name with lm-eval's ``!function`` tag.

They make every cotbench task a real lm-eval task, usable without the cotbench CLI
(``lm_eval --include_path <cotbench>/tasks --tasks cotbench_countdown``), with the same
items and the same scoring code as the Inspect tasks.
"""

from __future__ import annotations

from typing import Any

from cotbench.scoring.base import score_response
from cotbench.scoring.judge import effective_scorer
from cotbench.tasks.items import Item, build_items
from cotbench.tasks.catalog import get_task


def load_dataset(**metadata: Any) -> Any:
    """lm-eval ``custom_dataset``: the task's items as a DatasetDict with a ``test`` split.

    lm-eval passes the task's metadata; cotbench's runner adds ``cotbench_subset`` and
    ``cotbench_limit`` so both harnesses see exactly the same items.
    """
    import datasets

    task = get_task(metadata["cotbench"]["name"])
    items = build_items(task, subset=metadata.get("cotbench_subset"), limit=metadata.get("cotbench_limit"))
    rows = [i.to_doc(task.name) for i in items]
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(rows)})


def process_results(doc: dict[str, Any], results: list[Any]) -> dict[str, float]:
    """Mean score over the doc's responses (k repeats arrive together, as one list when the
    task keeps them with lm-eval's ``take_first_k`` filter)."""
    if results and isinstance(results[0], list):
        results = [r for group in results for r in group]
    item = Item.from_doc(doc)
    scorer = effective_scorer(get_task(doc["task"]))
    scores = [score_response(scorer, r, item.target, item.fields).score.value for r in results]
    valid = [s for s in scores if s is not None]
    return {"score": sum(valid) / len(valid) if valid else float("nan")}


def scored_mean(values: list[float]) -> float:
    """lm-eval aggregation: mean over scored docs (NaN marks a doc with no scored response,
    e.g. a safety answer truncated inside its reasoning), never counting those as 0."""
    valid = [v for v in values if v == v]
    return sum(valid) / len(valid) if valid else float("nan")
