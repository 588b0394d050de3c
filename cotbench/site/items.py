"""Per-item values of a run's task, gathered in one pass over its sample records.

An item's value is the mean over its scored repeats (avg@k), unscored samples left out, as
everywhere in cotbench. Each task has two: its score, and for safety tasks its headline rate
(harmful compliance or over-refusal, from the refusal labels) where the task reports one.
Values are aligned with an :class:`ItemIndex` shared by every run of a task version, so the
per-item comparison of two runs is a look-up, and the arrays stay small for large sites.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from cotbench.analysis import runs
from cotbench.domains import HARMFUL_COMPLIANCE, OVER_REFUSAL, SCORE, domain_info, is_domain
from cotbench.results.schema import SampleRecord, TaskResult

PREVIEW = 160  # characters of an item's prompt shown where items are listed
_VALUE: dict[str, Callable[[SampleRecord], float | None]] = {
    SCORE: runs.score, HARMFUL_COMPLIANCE: runs.compliant, OVER_REFUSAL: runs.refused}


def preview(text: str, limit: int = PREVIEW) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@dataclass
class ItemIndex:
    """The items of one task version in the order first seen, with a short prompt for each."""

    ids: list[str] = field(default_factory=list)
    pos: dict[str, int] = field(default_factory=dict)
    previews: list[str] = field(default_factory=list)

    def add(self, item: str, prompt: str) -> int:
        i = self.pos.get(item)
        if i is None:
            i = self.pos[item] = len(self.ids)
            self.ids.append(item)
            self.previews.append(preview(prompt))
        return i


@dataclass(frozen=True)
class TaskValues:
    """One run's item values on one task, by position in the task version's ItemIndex (NaN: not scored)."""

    score: np.ndarray
    headline: np.ndarray | None = None  # safety tasks reporting their headline rate; else None

    @staticmethod
    def present(values: np.ndarray) -> np.ndarray:
        return values[~np.isnan(values)]

    def at(self, values: np.ndarray | None, n: int) -> np.ndarray:
        """``values`` padded with NaN to ``n`` items (items first seen in a later run)."""
        if values is None:
            return np.full(n, np.nan)
        return values if len(values) >= n else np.concatenate([values, np.full(n - len(values), np.nan)])


def headline_value(tr: TaskResult) -> Callable[[SampleRecord], float | None] | None:
    """The item value behind a safety task's headline rate, when the task reports that rate."""
    if not is_domain(tr.task.domain):
        return None
    info = domain_info(tr.task.domain)
    if not info.is_safety or info.metric not in tr.metrics:
        return None  # a harm judge without refusal labels: no compliance rate, not a rate of 0
    return _VALUE.get(info.metric)


class ItemCollector:
    """Sums per item while the records of one run's task stream past."""

    def __init__(self, index: ItemIndex, tr: TaskResult) -> None:
        self.index = index
        self.headline = headline_value(tr)
        self._sums: dict[int, list[float]] = {}  # position -> [score sum, scored, headline sum, headlined]

    def add(self, rec: SampleRecord) -> None:
        i = self.index.add(rec.sample_id, rec.prompt)
        acc = self._sums.setdefault(i, [0.0, 0, 0.0, 0])
        if rec.score is not None:
            acc[0] += rec.score
            acc[1] += 1
        if self.headline is not None and (v := self.headline(rec)) is not None:
            acc[2] += v
            acc[3] += 1

    def finish(self) -> TaskValues:
        n = len(self.index.ids)
        score, head = np.full(n, np.nan), np.full(n, np.nan)
        for i, (s, ns, h, nh) in self._sums.items():
            if ns:
                score[i] = s / ns
            if nh:
                head[i] = h / nh
        return TaskValues(score, head if self.headline is not None else None)


def collect(records: Iterable[SampleRecord], tr: TaskResult, index: ItemIndex | None = None) -> TaskValues:
    """Item values of one task's records (a fresh index when none is shared)."""
    c = ItemCollector(index if index is not None else ItemIndex(), tr)
    for rec in records:
        c.add(rec)
    return c.finish()
