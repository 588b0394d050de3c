"""Per-item comparison of runs on one task version: which items a model gets right that another misses.

The comparison page carries every run's item values (the item's mean score over its scored
repeats) in the rows of one table; the page script picks two runs and shows the items whose
values differ. Model pages count the items that changed against the run's reference.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from cotbench.site.items import ItemIndex, TaskValues

if TYPE_CHECKING:
    from cotbench.site.data import Entry, TaskVersion


@dataclass(frozen=True)
class Flips:
    """Items both runs scored, and how many are better or worse in the first than in the second."""

    shared: int
    better: int
    worse: int

    @property
    def changed(self) -> int:
        return self.better + self.worse


def flips(a: TaskValues, b: TaskValues) -> Flips:
    n = max(len(a.score), len(b.score))
    x, y = a.at(a.score, n), b.at(b.score, n)
    both = ~np.isnan(x) & ~np.isnan(y)
    d = x[both] - y[both]
    return Flips(int(both.sum()), int((d > 1e-12).sum()), int((d < -1e-12).sum()))


def _cell(v: float) -> str:
    return "" if np.isnan(v) else f"{v:.4g}"


@dataclass(frozen=True)
class CompareRow:
    item: str
    prompt: str
    values: str  # comma-separated, in the order of the page's run list; empty where not scored


def compare_rows(
    v: TaskVersion, index: ItemIndex, values: Mapping[tuple[str, str], TaskValues | None]
) -> list[CompareRow]:
    """One row per item of the task version, with every run's value."""
    n = len(index.ids)
    name = v.info.name
    cols = []
    for e, _ in v.results:
        tv = values.get((e.run_id, name))
        cols.append(tv.at(tv.score, n) if tv is not None else np.full(n, np.nan))
    return [CompareRow(item, index.previews[i], ",".join(_cell(c[i]) for c in cols))
            for i, item in enumerate(index.ids)]


def runs_of(v: TaskVersion) -> list[Entry]:
    return [e for e, _ in v.results]
