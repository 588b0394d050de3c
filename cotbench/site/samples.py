"""The sample browser: one pass over a run's task records writes its pages and gathers its item values.

Per run and task: pages of ``page_size`` records, and one index of every record (id, score,
label, truncation, the start of the prompt) that the page script searches and filters, each
row linking to the record on its page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cotbench.errors import ResultsError
from cotbench.results.schema import SampleRecord
from cotbench.site.items import ItemCollector, ItemIndex, TaskValues, preview
from cotbench.site.sanitize import slugify
from cotbench.site.writer import PageWriter

if TYPE_CHECKING:
    from cotbench.site.data import Entry


@dataclass
class TaskScan:
    values: TaskValues | None  # None when the samples could not be read
    count: int
    example: SampleRecord | None
    problem: str | None = None


def correctness(score: float | None) -> str:
    """What the sample browser's "correct" filter matches."""
    if score is None:
        return "unscored"
    return "correct" if score >= 1 else "incorrect" if score <= 0 else "partial"


def samples_dir(e: Entry, task: str) -> str:
    return f"samples/{e.slug}/{slugify(task)}"


def scan_task(w: PageWriter | None, e: Entry, task: str, index: ItemIndex, page_size: int) -> TaskScan:
    """Read one task's records once; with a writer, write its sample pages and index too."""
    tr = e.tasks[task]
    collector = ItemCollector(index, tr)
    records: list[SampleRecord] = []
    try:
        for rec in e.run.iter_samples(task):
            collector.add(rec)
            if w is not None:
                records.append(rec)
    except ResultsError as exc:
        return TaskScan(None, 0, None, str(exc))
    values = collector.finish()
    if w is None:
        return TaskScan(values, 0, None)
    if not records:
        return TaskScan(values, 0, None)
    folder, tslug = samples_dir(e, task), slugify(task)
    pages = [records[i:i + page_size] for i in range(0, len(records), page_size)]
    shared = dict(e=e, task=task, tr=tr, tslug=tslug, n_pages=len(pages), n_records=len(records), **w.globals)
    for i, chunk in enumerate(pages, 1):
        w.page(f"{folder}/{i}.html", "samples.html", records=chunk, page=i, correctness=correctness, **shared)
    rows = [{"r": r, "page": i // page_size + 1, "anchor": f"s-{i % page_size + 1}", "correct": correctness(r.score),
             "prompt": preview(r.prompt), "answer": preview(r.extracted if r.extracted is not None else r.answer, 80)}
            for i, r in enumerate(records)]
    labels = sorted({r.label for r in records if r.label})
    w.page(f"{folder}/index.html", "sample_index.html", rows=rows, labels=labels, **shared)
    return TaskScan(values, len(records), records[0])
