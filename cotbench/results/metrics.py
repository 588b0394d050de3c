"""Task metrics from sample records, the same code whichever engine produced them.

With k repeats per item the unit of analysis is the item: its score is the mean over its
repeats (avg@k) and the standard error is that of the mean of item scores, so repeats
never inflate the sample size.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from cotbench.results.schema import EngineName, MetricValue, SampleRecord, TaskInfo, TaskResult


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
    by_item: dict[str, list[float]] = defaultdict(list)
    for s in samples:
        if s.score is not None:
            by_item[s.sample_id].append(s.score)
    return by_item


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
    by_item = item_scores(samples)
    metrics = {"score": mean_and_stderr([sum(v) / len(v) for v in by_item.values()])}
    scored = [s for s in samples if s.score is not None]
    binary = all(s.score in (0.0, 1.0) for s in scored)
    if k > 1 and binary:
        metrics[f"pass@{k}"] = mean_and_stderr(
            [pass_at_k(len(v), int(sum(v)), k) for v in by_item.values() if len(v) >= k]
        )
    labels = sorted({s.label for s in scored if s.label})
    if labels:
        per_item: dict[str, list[str | None]] = defaultdict(list)
        for s in scored:
            per_item[s.sample_id].append(s.label)
        for label in labels:
            metrics[f"rate:{label}"] = mean_and_stderr(
                [sum(x == label for x in v) / len(v) for v in per_item.values()]
            )
    return metrics


def build_task_result(
    run_id: str,
    task: TaskInfo,
    engine: EngineName,
    samples: Sequence[SampleRecord],
    started_at: datetime,
    finished_at: datetime,
    harness_metrics: dict[str, Any] | None = None,
) -> TaskResult:
    from cotbench.results.safety_metrics import by_category_rates, safe_at_k, safety_rates

    n = len(samples)
    metrics = compute_metrics(samples, task.generation.k)
    if task.domain.startswith("safety_"):
        metrics.update(safety_rates(samples, task.domain))
        # Safe@k (SafeChain) is defined on harmful prompts; on benign ones "safe" means something else.
        if task.domain == "safety_harmful" and task.generation.k > 1:
            metrics.update(safe_at_k(samples, task.generation.k))
    by_cat: dict[str, list[SampleRecord]] = defaultdict(list)
    for s in samples:
        if s.category:
            by_cat[s.category].append(s)
    return TaskResult(
        run_id=run_id,
        task=task,
        engine=engine,
        metrics=metrics,
        n_samples=n,
        n_items=len({s.sample_id for s in samples}),
        n_unscored=sum(s.score is None for s in samples),
        truncation_rate=(sum(s.truncated or s.finish_reason == "length" for s in samples) / n) if n else 0.0,
        mean_reasoning_tokens=(sum(s.reasoning_tokens for s in samples) / n) if n else 0.0,
        mean_answer_tokens=(sum(s.answer_tokens for s in samples) / n) if n else 0.0,
        by_category={c: compute_metrics(v, task.generation.k)["score"] for c, v in sorted(by_cat.items())},
        category_metrics=by_category_rates(samples, task.generation.k, task.domain),
        harness_metrics=harness_metrics or {},
        started_at=started_at,
        finished_at=finished_at,
    )
