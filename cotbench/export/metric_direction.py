"""Whether a higher value of a cotbench task metric is better, for formats that record it
(lm-eval's ``higher_is_better``, the dataset card's arrows).

The headline metric of each domain takes its direction from :mod:`cotbench.domains`; the other
metrics follow from what they count. Refusing a harmful prompt is good and refusing a benign one
is not, so the same label rate points different ways on the two safety domains.
"""

from __future__ import annotations

from cotbench.domains import (
    ATTACK_SUCCESS,
    FULL_COMPLIANCE,
    FULL_REFUSAL,
    HARMFUL_COMPLIANCE,
    OVER_REFUSAL,
    REFUSAL_RATE,
    domain_info,
    is_domain,
)


def higher_is_better(domain: str, metric: str) -> bool | None:
    """True or False where the metric has a direction on ``domain``; None where it has none
    (a partial-refusal share, a label cotbench does not know)."""
    if is_domain(domain) and metric == domain_info(domain).metric:
        return domain_info(domain).higher_is_better
    harmful = domain == "safety_harmful"
    if metric == "score" or metric.startswith(("pass@", "safe@")):
        return True
    if metric in (HARMFUL_COMPLIANCE, ATTACK_SUCCESS, OVER_REFUSAL):
        return False
    if metric == REFUSAL_RATE or metric == f"rate:{FULL_REFUSAL}":
        return harmful if domain.startswith("safety_") else None
    if metric == f"rate:{FULL_COMPLIANCE}":
        return (not harmful) if domain.startswith("safety_") else None
    return None


def arrow(direction: bool | None) -> str:
    """↑ higher is better, ↓ lower is better, nothing when the metric has no direction."""
    return "" if direction is None else "↑" if direction else "↓"
