"""Gate policies: what to run and which regressions block a merge, read from YAML.

A policy names the suite to run and a list of rules. Each rule picks tasks (by domain and/or
name pattern), a metric, and a non-inferiority margin: the largest regression, in metric
units (0.02 = 2 points), that still counts as "within noise". Optional absolute bounds add a
hard limit on the candidate's value (e.g. harmful compliance must stay under 10%).
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cotbench.domains import (
    ATTACK_SUCCESS,
    FULL_COMPLIANCE,
    HARMFUL_COMPLIANCE,
    METRIC_DIRECTION,
    OVER_REFUSAL,
    SAFETY_METRIC_DOMAIN,
    SCORE,
    Direction,
)
from cotbench.errors import CotbenchError
from cotbench.results.schema import Domain

OnInconclusive = Literal["warn", "fail"]

# Named metrics a rule may test (each with its domain and direction from cotbench.domains);
# `rate:<label>` is also accepted. `attack_success` needs a harm judge's verdicts (see evaluate).
GATE_METRICS = (SCORE, HARMFUL_COMPLIANCE, OVER_REFUSAL, ATTACK_SUCCESS)
COMPLIANCE_LABEL = FULL_COMPLIANCE
_METRIC_DOMAIN: dict[str, Domain] = {m: SAFETY_METRIC_DOMAIN[m] for m in GATE_METRICS if m in SAFETY_METRIC_DOMAIN}
DEFAULT_POLICY = "default_policy.yaml"


class GateError(CotbenchError):
    """A policy or gate input that cannot be used."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Rule(_Strict):
    """One non-inferiority check: the candidate may be worse than the baseline by at most ``margin``."""

    name: str = Field(min_length=1)
    metric: str = "score"
    domain: Domain | None = None
    tasks: list[str] | None = Field(None, description="task names or glob patterns; all tasks when omitted")
    per_task: bool = Field(False, description="one test per matched task instead of one for the group")
    margin: float = Field(ge=0.0, lt=1.0, description="largest tolerated regression, metric units (0.02 = 2 points)")
    direction: Direction | None = Field(None, description="required for rate:<label>; implied otherwise")
    max_value: float | None = Field(None, ge=0.0, le=1.0, description="absolute upper bound on the candidate")
    min_value: float | None = Field(None, ge=0.0, le=1.0, description="absolute lower bound on the candidate")
    on_inconclusive: OnInconclusive | None = Field(None, description="overrides the policy default")

    @model_validator(mode="after")
    def _check_metric(self) -> Rule:
        implied: Direction
        if self.metric in _METRIC_DOMAIN:
            want = _METRIC_DOMAIN[self.metric]
            if self.domain is None:
                self.domain = want
            elif self.domain != want:
                raise ValueError(f"metric {self.metric} is defined on domain {want}, not {self.domain}")
            implied = METRIC_DIRECTION[self.metric]
        elif self.metric == SCORE:
            implied = METRIC_DIRECTION[SCORE]
        elif self.metric.startswith("rate:") and len(self.metric) > 5:
            if self.direction is None:
                raise ValueError(f"metric {self.metric} needs a direction (higher_is_better or lower_is_better)")
            implied = self.direction
        else:
            raise ValueError(f"unknown metric '{self.metric}' (use {', '.join(GATE_METRICS)} or rate:<label>)")
        if self.direction is not None and self.direction != implied:
            raise ValueError(f"metric {self.metric} is {implied}; direction {self.direction} contradicts it")
        self.direction = implied
        if self.min_value is not None and self.max_value is not None and self.min_value > self.max_value:
            raise ValueError("min_value is above max_value")
        return self

    @property
    def higher_is_better(self) -> bool:
        return self.direction == "higher_is_better"


class Policy(_Strict):
    """What to run for a gate and the rules that decide it."""

    suite: str | None = Field(None, description="suite run for model specs; None: cotbench's default suite")
    tasks: list[str] | None = None
    limit: int | None = Field(None, gt=0)
    seed: int | None = 1234
    engine: str | None = None
    preset: str | None = Field(None, description="generation preset for model specs (greedy | reasoning)")
    max_tokens: int | None = Field(None, gt=0, description="generation budget override for model specs")
    alpha: float = Field(0.05, gt=0.0, lt=0.5, description="level of each one-sided test")
    on_inconclusive: OnInconclusive = "warn"
    power: float = Field(0.8, gt=0.5, lt=1.0, description="target power for the 'samples needed' estimate")
    min_items: int = Field(20, ge=2, description="fewer paired items than this is always inconclusive")
    worst: int = Field(5, ge=0, description="worst regressed items to show per failing rule")
    rules: list[Rule] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> Policy:
        if self.suite and self.tasks:
            raise ValueError("give either suite or tasks, not both")
        seen: set[str] = set()
        for r in self.rules:
            if r.name in seen:
                raise ValueError(f"rule name '{r.name}' is used twice")
            seen.add(r.name)
        return self

    def inconclusive_action(self, rule: Rule) -> OnInconclusive:
        return rule.on_inconclusive or self.on_inconclusive

    def digest(self) -> str:
        """Stable hash of the policy's content (a cache key part; YAML formatting does not matter)."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _field_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(x) for x in err.get("loc", ()))
    msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{loc}: {msg}" if loc else msg


def parse_policy(text: str, source: str = "policy") -> Policy:
    """Validate policy YAML; any problem becomes one line naming the bad field."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise GateError(f"{source}: not valid YAML{where}") from None
    if not isinstance(raw, dict):
        raise GateError(f"{source}: expected a mapping with a 'rules' list at the top level")
    try:
        return Policy.model_validate(raw)
    except ValidationError as exc:
        raise GateError(f"{source}: {_field_error(exc)}") from None


def load_policy(path: Path | None = None) -> Policy:
    """Read a policy file, or the shipped default policy when ``path`` is None."""
    if path is None:
        text = resources.files("cotbench.gate").joinpath(DEFAULT_POLICY).read_text(encoding="utf-8")
        return parse_policy(text, "default policy")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GateError(f"{path}: cannot read policy ({exc.__class__.__name__})") from None
    return parse_policy(text, str(path))
