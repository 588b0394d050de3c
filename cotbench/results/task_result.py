"""A finished task's result: its metrics (capability, and safety where the domain is one),
per-category scores and token figures, from its sample records."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from cotbench.results.metrics import compute_metrics
from cotbench.results.safety_metrics import by_category_rates, safe_at_k, safety_rates
from cotbench.results.schema import EngineName, SampleRecord, TaskInfo, TaskResult


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
