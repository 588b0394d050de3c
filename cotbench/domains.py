"""What each task domain means, in one table that every stage reads.

A domain says which side of the capability-cost profile a task is on, in what order it is
shown, what it is called (in prose and in narrow tables), which number is its headline and
whether higher or lower is better. The safety domains also name the refusal labels the
offline classifier and the judges assign, and the metric names built from them.

This module is at the bottom of cotbench: it imports nothing from the package.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Domain = Literal["in_domain", "transfer", "general", "safety_harmful", "safety_benign"]
SafetyKind = Literal["harmful", "benign"]
Direction = Literal["higher_is_better", "lower_is_better"]

# Refusal classes of a safety response (offline classifier and three-way judges alike).
RefusalLabel = Literal["full_compliance", "partial_refusal", "full_refusal"]
FULL_COMPLIANCE: RefusalLabel = "full_compliance"
PARTIAL_REFUSAL: RefusalLabel = "partial_refusal"
FULL_REFUSAL: RefusalLabel = "full_refusal"
REFUSAL_LABELS: tuple[RefusalLabel, ...] = (FULL_COMPLIANCE, PARTIAL_REFUSAL, FULL_REFUSAL)

# Metric names (keys of TaskResult.metrics, gate rules, profile and trajectory series).
HeadlineMetric = Literal["score", "harmful_compliance", "over_refusal"]  # the domains' headline metrics
SCORE: HeadlineMetric = "score"
# Harmful prompts, from refusal labels: the share of responses with no refusal at all (full
# compliance) and the share of full refusals. A refusal classifier measures refusal, not harm.
HARMFUL_COMPLIANCE: HeadlineMetric = "harmful_compliance"
REFUSAL_RATE = "refusal_rate"
# Harmful prompts, only when a harm judge decided per response whether it carries out the
# request (records carry ``details[HARMFUL_DETAIL]``): attack success rate.
ATTACK_SUCCESS = "attack_success"
HARMFUL_DETAIL = "harmful"
# Benign prompts: anything but full compliance (partial refusals count as refusals).
OVER_REFUSAL: HeadlineMetric = "over_refusal"


@dataclass(frozen=True)
class DomainInfo:
    """One row of the domains table; the table's order is the display order."""

    name: Domain
    label: str  # prose, wide tables, the leaderboard
    short: str  # narrow tables (the terminal summary)
    metric: HeadlineMetric  # the headline metric in TaskResult.metrics, profiles, trajectories and gates
    metric_label: str  # what the headline number is, e.g. in a figure's axis or legend
    metric_short: str  # the same, for narrow tables
    direction: Direction  # of the headline metric
    safety: SafetyKind | None = None  # harmful or benign prompts; None for capability domains

    @property
    def higher_is_better(self) -> bool:
        return self.direction == "higher_is_better"

    @property
    def is_safety(self) -> bool:
        return self.safety is not None


DOMAIN_TABLE: tuple[DomainInfo, ...] = (
    DomainInfo("in_domain", "in-domain (math)", "math", SCORE, "in-domain (math)", "score", "higher_is_better"),
    DomainInfo("transfer", "transfer", "transfer", SCORE, "transfer", "score", "higher_is_better"),
    DomainInfo("general", "general", "general", SCORE, "general", "score", "higher_is_better"),
    DomainInfo("safety_harmful", "safety: harmful prompts", "harmful", HARMFUL_COMPLIANCE, "harmful compliance",
               "complied", "lower_is_better", "harmful"),
    DomainInfo("safety_benign", "safety: benign prompts", "benign", OVER_REFUSAL, "over-refusal",
               "over-refused", "lower_is_better", "benign"),
)

_BY_NAME: dict[str, DomainInfo] = {d.name: d for d in DOMAIN_TABLE}
DOMAINS: tuple[Domain, ...] = tuple(d.name for d in DOMAIN_TABLE)
CAPABILITY_DOMAINS: tuple[Domain, ...] = tuple(d.name for d in DOMAIN_TABLE if not d.is_safety)
SAFETY_DOMAINS: tuple[Domain, ...] = tuple(d.name for d in DOMAIN_TABLE if d.is_safety)
HARMFUL_DOMAIN: Domain = next(d.name for d in DOMAIN_TABLE if d.safety == "harmful")
BENIGN_DOMAIN: Domain = next(d.name for d in DOMAIN_TABLE if d.safety == "benign")
# Named safety metrics and the domain each is defined on.
SAFETY_METRIC_DOMAIN: dict[str, Domain] = {
    HARMFUL_COMPLIANCE: HARMFUL_DOMAIN, REFUSAL_RATE: HARMFUL_DOMAIN, ATTACK_SUCCESS: HARMFUL_DOMAIN,
    OVER_REFUSAL: BENIGN_DOMAIN,
}
# Labels of the headline metrics, for any stage that names a metric rather than a domain.
METRIC_LABELS: dict[str, str] = {
    SCORE: "score", HARMFUL_COMPLIANCE: "harmful compliance", REFUSAL_RATE: "refusal rate",
    ATTACK_SUCCESS: "attack success", OVER_REFUSAL: "over-refusal",
}

# Which way is better for each named metric: the headline metrics' directions from the table,
# and attack success, which like harmful compliance is better lower. (refusal_rate has no
# implied direction: more refusals of harmful prompts are safer but may be over-cautious.)
METRIC_DIRECTION: dict[str, Direction] = {
    **{d.metric: d.direction for d in DOMAIN_TABLE}, ATTACK_SUCCESS: "lower_is_better",
}


def domain_info(name: str) -> DomainInfo:
    """The table row of ``name``; KeyError names the known domains."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown domain {name!r} (one of {', '.join(DOMAINS)})") from None


def is_domain(name: str) -> bool:
    return name in _BY_NAME


def as_refusal_label(value: object) -> RefusalLabel | None:
    """``value`` as a refusal label, None where it is not one."""
    return next((label for label in REFUSAL_LABELS if label == value), None)


def domain_order(name: str) -> int:
    """Sort key: the table's order, unknown names last."""
    return DOMAINS.index(name) if name in _BY_NAME else len(DOMAINS)


def domain_label(name: str) -> str:
    """The domain's label, or the name itself for a domain the table does not know."""
    return _BY_NAME[name].label if name in _BY_NAME else name


def headline_label(name: str) -> str:
    """What a domain's headline number is called (``"harmful compliance"`` for harmful prompts)."""
    return _BY_NAME[name].metric_label if name in _BY_NAME else name
