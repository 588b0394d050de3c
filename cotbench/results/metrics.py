"""Task metrics from sample records, the same code whichever engine produced them.

With k repeats per item the unit of analysis is the item: its score is the mean over its
repeats (avg@k) and the standard error is that of the mean of item scores, so repeats
never inflate the sample size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from cotbench.results.aggregate import by_item, item_values
from cotbench.results.schema import MetricValue, SampleRecord


def mean_and_stderr(values: Sequence[float]) -> MetricValue:
    n = len(values)
    if n == 0:
        return MetricValue(value=float("nan"), stderr=float("nan"), n=0)
    mean = sum(values) / n
    if n == 1:
        return MetricValue(value=mean, stderr=0.0, n=1)
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    return MetricValue(value=mean, stderr=math.sqrt(var / n), n=n)


def item_scores(samples: Sequence[SampleRecord]) -> dict[str, list[float]]:
    """Scores grouped by item; unscored samples (score None) are left out."""
    return item_values(samples)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k estimator (Chen et al. 2021) for n samples with c correct."""
    if n - c < k:
        return 1.0
    return 1.0 - math.prod((n - c - i) / (n - i) for i in range(k))


def compute_metrics(samples: Sequence[SampleRecord], k: int) -> dict[str, MetricValue]:
    """``score`` is avg@k over scored samples; binary tasks with k > 1 also get pass@k.

    pass@k uses only items with at least k scored repeats, so it never mixes in pass@1..k-1:
    its ``n`` is the number of items used (``score``'s ``n`` minus those left out), and it is
    NaN with n = 0 when no item has k scored repeats.

    Labelled tasks (e.g. refusal classes) also get ``rate:<label>`` for every label seen:
    per item the fraction of its scored repeats with that label, averaged over items.
    """
    scores = item_scores(samples)
    metrics = {"score": mean_and_stderr([sum(v) / len(v) for v in scores.values()])}
    scored = [s for s in samples if s.score is not None]
    binary = all(s.score in (0.0, 1.0) for s in scored)
    if k > 1 and binary:
        metrics[f"pass@{k}"] = mean_and_stderr(
            [pass_at_k(len(v), int(sum(v)), k) for v in scores.values() if len(v) >= k]
        )
    labels = sorted({s.label for s in scored if s.label})
    if labels:
        items = by_item(scored)
        for label in labels:
            metrics[f"rate:{label}"] = mean_and_stderr(
                [sum(r.label == label for r in reps) / len(reps) for reps in items.values()]
            )
    return metrics
