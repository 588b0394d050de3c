"""A finished task's result: its metrics, per-category scores and token figures, from its
sample records. Which metrics a task gets is what its scorer declares (``TaskInfo.scorer``
names it, with its arguments): ``accuracy`` (score, pass@k, label rates), the refusal rates of
harmful or benign prompts, Safe@k."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from cotbench.domains import Domain
from cotbench.results.metrics import compute_metrics
from cotbench.results.safety_metrics import by_category_rates, safe_at_k, safety_rates
from cotbench.results.schema import EngineName, MetricValue, SampleRecord, TaskInfo, TaskResult
from cotbench.scoring.base import MetricSet, scorer_metrics

# The refusal metric sets and the domain whose safety rates they are.
_REFUSAL: dict[MetricSet, Domain] = {"refusal:harmful": "safety_harmful", "refusal:benign": "safety_benign"}


def task_metrics(samples: Sequence[SampleRecord], sets: Sequence[MetricSet], k: int) -> dict[str, MetricValue]:
    """The metrics of ``sets`` over ``samples`` (``k`` responses per item), in the sets' order."""
    metrics: dict[str, MetricValue] = {}
    for name in sets:
        if name == "accuracy":
            metrics.update(compute_metrics(samples, k))
        elif name in _REFUSAL:
            metrics.update(safety_rates(samples, _REFUSAL[name]))
        elif name == "safe_at_k" and k > 1:  # Safe@k is reported for k > 1 responses per item only
            metrics.update(safe_at_k(samples, k))
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
    n = len(samples)
    sets = scorer_metrics(task.scorer)
    metrics = task_metrics(samples, sets, task.generation.k)
    safety = next((_REFUSAL[m] for m in sets if m in _REFUSAL), None)
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
        category_metrics=by_category_rates(samples, task.generation.k, safety),
        harness_metrics=harness_metrics or {},
        started_at=started_at,
        finished_at=finished_at,
    )
