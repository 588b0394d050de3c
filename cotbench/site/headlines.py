"""Per-run headline numbers read straight from TaskResult metrics (no resampling here)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from cotbench.site.data import (
    CAPABILITY_DOMAINS,
    Entry,
    Estimate,
    compliance_rate,
    metric,
    token_cost,
)


@dataclass(frozen=True)
class Summary:
    domains: dict[str, Estimate]  # capability domains: unweighted mean of the domain's task scores
    harmful_compliance: Estimate | None  # attack success on safety_harmful tasks
    over_refusal: Estimate | None  # 1 - full compliance on safety_benign tasks
    tokens: float  # mean reasoning + answer tokens per sample, averaged over tasks


def macro_mean(estimates: list[Estimate]) -> Estimate | None:
    """Unweighted mean over tasks; tasks are independent samples, so their variances add. The
    interval is Wilson's on the mean's effective size, at least k² / Σ 1/n_t items (adding the
    tasks' skewed intervals by MOVER covered 91% at 3 tasks x 10 items near 0%)."""
    ok = [e for e in estimates if e.ok and e.n > 0]
    if not ok:
        return None
    k = len(ok)
    return Estimate(sum(e.value for e in ok) / k, math.sqrt(sum(e.stderr**2 for e in ok)) / k, sum(e.n for e in ok),
                    n_floor=k * k / sum(1 / e.n for e in ok))


def summarize(entry: Entry) -> Summary:
    per_domain: dict[str, list[Estimate]] = {}
    harmful: list[Estimate] = []
    benign: list[Estimate] = []
    for tr in entry.tasks.values():
        domain = tr.task.domain
        if domain in CAPABILITY_DOMAINS:
            est = metric(tr, "score")
            if est is not None:
                per_domain.setdefault(domain, []).append(est)
        else:
            rate = compliance_rate(tr)
            if rate is not None:
                (harmful if domain == "safety_harmful" else benign).append(rate)
    answered = macro_mean(benign)
    domains = {d: m for d in CAPABILITY_DOMAINS if (m := macro_mean(per_domain.get(d, []))) is not None}
    tokens = [token_cost(tr) for tr in entry.tasks.values()]
    return Summary(
        domains=domains,
        harmful_compliance=macro_mean(harmful),
        # Wilson's interval is symmetric in p -> 1 - p, so the complement keeps the same effective size
        over_refusal=Estimate(1 - answered.value, answered.stderr, answered.n, answered.n_floor) if answered else None,
        tokens=sum(tokens) / len(tokens) if tokens else 0.0,
    )
