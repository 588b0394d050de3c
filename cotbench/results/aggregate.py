"""Item grouping and NaN-aware means, written once for every stage that aggregates records.

The item is cotbench's unit of analysis: with k repeats per item, an item's value is the mean
over its scored repeats, and unscored samples (score None) are left out, never counted as 0.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import TypeVar

from cotbench.results.schema import SampleRecord

R = TypeVar("R", bound=SampleRecord)
Value = Callable[[SampleRecord], float | None]


def by_item(records: Iterable[R]) -> dict[str, list[R]]:
    """Scored records (score not None) grouped by ``sample_id``, in input order."""
    out: dict[str, list[R]] = defaultdict(list)
    for r in records:
        if r.score is not None:
            out[r.sample_id].append(r)
    return dict(out)


def item_values(records: Iterable[SampleRecord], value: Value = lambda s: s.score) -> dict[str, list[float]]:
    """Per item, ``value`` of each repeat where it is not None."""
    out: dict[str, list[float]] = defaultdict(list)
    for r in records:
        v = value(r)
        if v is not None:
            out[r.sample_id].append(float(v))
    return dict(out)


def item_means(records: Iterable[SampleRecord], value: Value = lambda s: s.score) -> dict[str, float]:
    """Per item, the mean of ``value`` over its repeats, skipping repeats where it is None.

    ``value`` defaults to the score; pass e.g. ``lambda s: None if s.score is None else
    float(s.label == "full_compliance")`` for a label rate.
    """
    return {k: sum(v) / len(v) for k, v in item_values(records, value).items()}


def finite_mean(values: Iterable[float | None]) -> tuple[float, int]:
    """Mean of the finite values and how many there were; NaN and 0 when there are none.

    Undefined values (NaN, None: nothing scored) are left out rather than counted as 0."""
    ok = [float(v) for v in values if v is not None and math.isfinite(v)]
    return (sum(ok) / len(ok) if ok else math.nan), len(ok)
