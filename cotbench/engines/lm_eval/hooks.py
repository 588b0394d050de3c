"""The functions a cotbench lm-eval task calls: its dataset and its per-document scoring
(aggregated by lm-eval's own ``mean``, which gives lm-eval its stderr). ``CotbenchTask`` binds
them to the task's TaskDef, so a task works the same from the bundled folder, from an include
path and inside ``cotbench run``, with the same items and the same scoring code as the Inspect
tasks.
"""

from __future__ import annotations

from typing import Any

from cotbench.errors import DataError
from cotbench.scoring.base import score_response
from cotbench.scoring.roles import effective_scorer
from cotbench.tasks.data import ENV_VAR, data_dir
from cotbench.tasks.items import Item, build_items
from cotbench.tasks.taskdef import TaskDef


def docs_dataset(task: str, items: list[Item]) -> Any:
    """The items as lm-eval documents: a DatasetDict with one ``test`` split."""
    import datasets

    return datasets.DatasetDict({"test": datasets.Dataset.from_list([i.to_doc(task) for i in items])})


def load_dataset(task: TaskDef, **metadata: Any) -> Any:
    """lm-eval ``custom_dataset`` (called with the task's metadata): the task's items.
    ``cotbench_subset`` and ``cotbench_limit`` in the metadata (``--metadata`` natively) pick the
    same fixed subset and first-N as ``cotbench run``."""
    try:
        items = build_items(task, subset=metadata.get("cotbench_subset"), limit=metadata.get("cotbench_limit"))
    except DataError as exc:
        raise DataError(native_data_error(task, str(exc))) from None
    return docs_dataset(task.name, items)


def native_data_error(task: TaskDef, message: str) -> str:
    """A data error as a native lm-eval user reads it: named by the lm-eval task, and pointing to
    the one setting lm-eval has for local files (cotbench's ``--data-dir`` is not an option there)."""
    text = message.removeprefix(f"task {task.name}: ").replace("pass --data-dir or set", "set")
    root = data_dir()
    if ENV_VAR in text and (root is None or str(root) in text):
        return f"{task.lm_eval_task}: {text}"
    if root is not None:
        return f"{task.lm_eval_task}: {text} ({ENV_VAR}={root})"
    return f"{task.lm_eval_task}: {text}; set {ENV_VAR} to a directory with the upstream files (see docs/tasks.md)"


def items_dataset(task: str, items: list[Item], **_metadata: Any) -> Any:
    """lm-eval ``custom_dataset`` for a planned run: exactly the plan's items."""
    return docs_dataset(task, items)


def process_results(task: TaskDef, doc: dict[str, Any], results: list[Any]) -> dict[str, float]:
    """Mean score over the doc's scored responses (k repeats arrive together, as one list when
    the task keeps them with lm-eval's ``take_first_k`` filter). A doc with no scored response
    (e.g. a safety answer truncated inside its reasoning) returns no ``score``: lm-eval then
    leaves it out of the metric, its ``mean`` and its closed-form ``mean_stderr``, which is the
    mean and standard error over scored items that cotbench reports."""
    if results and isinstance(results[0], list):
        results = [r for group in results for r in group]
    item = Item.from_doc(doc)
    scorer = effective_scorer(task)
    scores = [score_response(scorer, r, item.target, item.fields).score.value for r in results]
    valid = [s for s in scores if s is not None]
    return {"score": sum(valid) / len(valid)} if valid else {}
