"""A run's own numbers: per task and per domain, each with its 95% interval.

Every interval is the score interval of :func:`cotbench.analysis.stats.value_score` on item
values (Wilson's continuity-corrected interval for one task of 0/1 items; stratified by task
for a domain's unweighted mean), the method the trajectory uses for its points and that
``benchmarks/ci_coverage.py`` validates. Deltas come from the profile (paired score intervals).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from cotbench.analysis.stats import value_score
from cotbench.domains import BENIGN_DOMAIN, CAPABILITY_DOMAINS, HARMFUL_DOMAIN
from cotbench.errors import ResultsError
from cotbench.results.estimate import Estimate
from cotbench.results.schema import TaskResult
from cotbench.site.data import Entry
from cotbench.site.items import TaskValues, collect

METHOD = "score interval of the mean of item values (cotbench.analysis.stats.value_score)"


@dataclass(frozen=True)
class TaskSummary:
    score: Estimate | None
    headline: Estimate | None  # safety tasks: harmful compliance or over-refusal; else None


@dataclass(frozen=True)
class Summary:
    domains: dict[str, Estimate]  # capability domains: unweighted mean of the domain's task scores
    harmful_compliance: Estimate | None  # full-compliance (non-refusal) rate on safety_harmful tasks
    over_refusal: Estimate | None  # anything but full compliance on safety_benign tasks
    tokens: float  # mean reasoning + answer tokens per sample, averaged over tasks
    tasks: dict[str, TaskSummary]


def item_estimate(groups: Sequence[np.ndarray]) -> Estimate | None:
    """Unweighted mean over tasks of their item values in [0, 1], with its 95% score interval;
    None when no item was scored. ``stderr`` is the plain standard error, for trackers."""
    used = [np.asarray(g, float) for g in groups if len(g)]
    if not used:
        return None
    r = value_score(used)
    var = sum(float(g.var(ddof=1)) / len(g) if len(g) > 1 else 0.0 for g in used)
    return Estimate(model=r.estimate, low=r.low, high=r.high, n=r.n, stderr=math.sqrt(var) / len(used),
                    method=METHOD)


def token_cost(tr: TaskResult) -> float:
    return tr.mean_reasoning_tokens + tr.mean_answer_tokens


def _read_values(entry: Entry) -> dict[str, TaskValues]:
    out = {}
    for name, tr in entry.tasks.items():
        try:
            out[name] = collect(entry.run.iter_samples(name), tr)
        except ResultsError:
            continue  # no readable samples: the task has no item values, so no interval
    return out


def summarize(entry: Entry, values: Mapping[str, TaskValues] | None = None) -> Summary:
    """Per task and per domain (the unweighted mean over its tasks of their headline rate, as in
    the domains table). ``values``: item values already read; else read from the run's samples."""
    vals = _read_values(entry) if values is None else values
    tasks: dict[str, TaskSummary] = {}
    per_domain: dict[str, list[np.ndarray]] = {}
    for name, tr in sorted(entry.tasks.items()):
        v = vals.get(name)
        if v is None:
            tasks[name] = TaskSummary(None, None)
            continue
        score = TaskValues.present(v.score)
        head = TaskValues.present(v.headline) if v.headline is not None else None
        tasks[name] = TaskSummary(item_estimate([score]), item_estimate([head]) if head is not None else None)
        headline_items = head if head is not None else (score if tr.task.domain in CAPABILITY_DOMAINS else None)
        if headline_items is not None and len(headline_items):
            per_domain.setdefault(tr.task.domain, []).append(headline_items)
    domains: dict[str, Estimate] = {
        d: e for d in CAPABILITY_DOMAINS if (e := item_estimate(per_domain.get(d, []))) is not None
    }
    tokens = [token_cost(tr) for tr in entry.tasks.values()]
    return Summary(
        domains=domains,
        harmful_compliance=item_estimate(per_domain.get(HARMFUL_DOMAIN, [])),
        over_refusal=item_estimate(per_domain.get(BENIGN_DOMAIN, [])),
        tokens=sum(tokens) / len(tokens) if tokens else 0.0,
        tasks=tasks,
    )
