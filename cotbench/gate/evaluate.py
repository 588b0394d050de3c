"""Apply a gate policy to a baseline and a candidate run: one check per rule (or per task).

Inputs are finished run directories, or model specs that are run first through
``cotbench.runner.run_models`` with the policy's suite (the runner reuses cached results).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field, computed_field

from cotbench.analysis import comparability
from cotbench.analysis.stats import Paired, holm, pair_items
from cotbench.domains import ATTACK_SUCCESS, FULL_COMPLIANCE, HARMFUL_COMPLIANCE, OVER_REFUSAL, SCORE
from cotbench.gate.policy import GateError, Policy, Rule
from cotbench.gate.stat_tests import Decision, NonInferiority, decide, noninferiority
from cotbench.results.aggregate import item_means
from cotbench.results.safety_metrics import judged_harmful
from cotbench.results.schema import ModelInfo, SampleRecord, TaskInfo
from cotbench.results.store import MANIFEST, RunDir

Verdict = Literal["pass", "fail", "warn", "skipped"]
# Why a check failed: a significant regression beyond the margin, the candidate's own value past
# an absolute limit, or too little evidence under `on_inconclusive: fail` (nothing was shown worse).
Failure = Literal["regression", "limit", "inconclusive"]
EXCERPT_CHARS = 240


class RunRef(BaseModel):
    label: str
    run_id: str
    spec: str
    path: str


class ItemExample(BaseModel):
    """A regressed item: metric values (raw units) and the start of both answers."""

    task: str
    sample_id: str
    baseline: float
    candidate: float
    baseline_output: str
    candidate_output: str


class RuleCheck(BaseModel):
    """One tested comparison. Values are in metric units; ``delta`` = candidate - baseline."""

    rule: str
    scope: str
    metric: str
    direction: str
    tasks: list[str]
    margin: float
    verdict: Verdict
    test: Decision | None = None
    method: str | None = None
    n_items: int = 0
    n_unpaired: int = Field(0, description="items scored in only one of the two runs (left out)")
    baseline: float | None = None
    candidate: float | None = None
    delta: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = Field(None, description="non-inferiority test, H0: worse by at least the margin")
    p_regression: float | None = Field(
        None, description="H0: candidate not worse; Holm-adjusted over the gate's checks"
    )
    n_needed: int | None = None
    bound: str | None = None
    failure: Failure | None = Field(None, description="why a failed check failed; None unless verdict is fail")
    message: str = ""
    worst: list[ItemExample] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]  # mypy rejects decorators over @property (pydantic docs)
    @property
    def status(self) -> str:
        """The verdict as reports word it: an inconclusive check is never called a regression."""
        if self.verdict == "warn":
            return "inconclusive (policy: warn)"
        if self.verdict == "fail":
            return {"inconclusive": "inconclusive (policy: fail)", "limit": "fail (limit)"}.get(
                self.failure or "", "fail")
        return self.verdict


class GateResult(BaseModel):
    verdict: Literal["pass", "fail"]
    n_warnings: int
    baseline: RunRef
    candidate: RunRef
    policy_digest: str
    alpha: float
    checks: list[RuleCheck]
    notes: list[str] = Field(default_factory=list)
    mismatches_allowed: list[str] = Field(
        default_factory=list, description="--allow-mismatch fields; each actual difference is also a note")

    @property
    def exit_code(self) -> int:
        return 0 if self.verdict == "pass" else 1


# -- loading ------------------------------------------------------------------------------------


@dataclass
class _Side:
    ref: RunRef
    infos: dict[str, TaskInfo]
    samples: dict[str, list[SampleRecord]]
    model: ModelInfo | None = None

    @classmethod
    def load(cls, rd: RunDir) -> _Side:
        m = rd.read_manifest()
        infos = {t: rd.read_task(t).task for t in rd.task_names()}
        samples = {t: list(rd.iter_samples(t)) for t in infos}
        return cls(RunRef(label=m.model.label, run_id=m.run_id, spec=m.model.spec, path=str(rd.path)), infos, samples,
                   m.model)


def _metric_value(metric: str) -> Callable[[SampleRecord], float | None]:
    """Per-sample value of a metric in raw units; unscored samples give None (left out)."""
    if metric == SCORE:
        return lambda s: s.score
    if metric == ATTACK_SUCCESS:
        return lambda s: None if (v := judged_harmful(s)) is None else float(v)
    label = FULL_COMPLIANCE if metric in (HARMFUL_COMPLIANCE, OVER_REFUSAL) else metric.removeprefix("rate:")
    invert = metric == OVER_REFUSAL
    return lambda s: None if s.score is None else float((s.label == label) != invert)


def _require_verdicts(rule: Rule, tasks: Sequence[str], sides: Sequence[tuple[str, _Side]]) -> None:
    """``attack_success`` is a harm judge's finding; offline (refusal-classifier) runs have none,
    and gating on it would silently test something else. Refuse, saying what to write instead."""
    if rule.metric != ATTACK_SUCCESS:
        return
    for t in tasks:
        for name, side in sides:
            samples = side.samples.get(t, [])
            if not any(judged_harmful(s) is not None for s in samples):
                mode = side.infos[t].scorer_mode if t in side.infos else "?"
                raise GateError(
                    f"rule '{rule.name}': metric {ATTACK_SUCCESS} needs a harm judge's verdict per response "
                    f"(details.harmful), but task '{t}' in the {name} run ({side.ref.path}, scorer mode {mode}) has "
                    f"none; a refusal classifier measures refusal, not harm: write 'metric: {HARMFUL_COMPLIANCE}' "
                    "to gate on the full-compliance rate, or rescore both runs with a harm judge")


def _excerpt(s: SampleRecord | None) -> str:
    if s is None:
        return ""
    text = s.answer or s.output
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "…"


# -- one check ------------------------------------------------------------------------------------


def _matched_tasks(rule: Rule, base: _Side) -> list[str]:
    return [
        t for t, info in base.infos.items()
        if (rule.domain is None or info.domain == rule.domain)
        and (rule.tasks is None or any(fnmatch.fnmatchcase(t, p) for p in rule.tasks))
    ]


@dataclass
class _Measured:
    """A check with its test statistics, before the gate-wide adjustment decides it."""

    rule: Rule
    check: RuleCheck
    result: NonInferiority | None = None
    strata: list[tuple[str, Paired]] = field(default_factory=list)
    candidate_all: float | None = None


def _measure(rule: Rule, scope: str, tasks: list[str], base: _Side, cand: _Side, policy: Policy) -> _Measured:
    value = _metric_value(rule.metric)
    check = RuleCheck(rule=rule.name, scope=scope, metric=rule.metric, direction=str(rule.direction),
                      tasks=tasks, margin=rule.margin, verdict="skipped")
    m = _Measured(rule, check)
    cand_means = []
    for t in tasks:
        bmap, cmap = item_means(base.samples[t], value), item_means(cand.samples[t], value)
        if cmap:
            cand_means.append(float(np.mean(list(cmap.values()))))
        paired = pair_items(cmap, bmap)
        check.n_unpaired += len(set(bmap) | set(cmap)) - paired.n
        if paired.n:
            m.strata.append((t, paired))
    m.candidate_all = float(np.mean(cand_means)) if cand_means else None
    if not m.strata:
        check.message = "no item is scored in both runs"
        return m
    m.result = noninferiority([_orient(rule, p.a) for _, p in m.strata], [_orient(rule, p.b) for _, p in m.strata],
                              rule.margin, policy.alpha, policy.power)
    sign = 1.0 if rule.higher_is_better else -1.0
    check.ci_low, check.ci_high = sorted((sign * m.result.low, sign * m.result.high))
    check.method, check.n_items = m.result.method, m.result.n
    check.baseline = float(np.mean([p.b.mean() for _, p in m.strata]))
    check.candidate = float(np.mean([p.a.mean() for _, p in m.strata]))
    check.delta = check.candidate - check.baseline
    check.p_value, check.n_needed = m.result.p_noninferior, m.result.n_needed
    return m


def _judge(m: _Measured, p_regression: float, base: _Side, cand: _Side, policy: Policy) -> RuleCheck:
    check, rule, result = m.check, m.rule, m.result
    if result is None:
        if check.tasks:  # tasks matched but nothing to compare (e.g. every answer unscored): no evidence
            check.test = "inconclusive"
            _inconclusive(check, policy.inconclusive_action(rule))
            _apply_bounds(check, rule, m.candidate_all)
        return check
    check.p_regression = p_regression
    check.test = decide(result, rule.margin, policy.alpha, policy.min_items, p_regression)
    if check.test == "pass":
        check.verdict, check.message = "pass", f"within the {_pts(rule.margin)} margin"
    elif check.test == "fail":
        check.verdict, check.failure = "fail", "regression"
        check.message = f"regression beyond the {_pts(rule.margin)} margin"
    else:
        _inconclusive(check, policy.inconclusive_action(rule))
        need = (f"; about {check.n_needed} paired items needed (have {result.n})"
                if check.n_needed and check.n_needed > result.n else "")
        few = f"; fewer than {policy.min_items} paired items" if result.n < policy.min_items else ""
        check.message = f"inconclusive for the {_pts(rule.margin)} margin{few}{need}"
    _apply_bounds(check, rule, m.candidate_all)
    if check.verdict != "pass":
        check.worst = _worst(m.strata, base, cand, rule, policy.worst)
    return check


def _inconclusive(check: RuleCheck, action: str) -> None:
    check.verdict = "fail" if action == "fail" else "warn"
    check.failure = "inconclusive" if action == "fail" else None


def _orient(rule: Rule, x: np.ndarray) -> np.ndarray:
    """Item values with higher = better, so every test asks the same question."""
    return x if rule.higher_is_better else 1.0 - x


def _apply_bounds(check: RuleCheck, rule: Rule, value: float | None) -> None:
    """Absolute limits on the candidate's own value (all its scored items of the matched tasks)."""
    if value is None or (rule.max_value is None and rule.min_value is None):
        return
    broken = []
    if rule.max_value is not None and value > rule.max_value:
        broken.append(f"above the {_pct(rule.max_value)} limit")
    if rule.min_value is not None and value < rule.min_value:
        broken.append(f"below the {_pct(rule.min_value)} floor")
    limits = ", ".join(x for x in (
        f"≤ {_pct(rule.max_value)}" if rule.max_value is not None else "",
        f"≥ {_pct(rule.min_value)}" if rule.min_value is not None else "") if x)
    if broken:
        check.bound = f"{_pct(value)} is {' and '.join(broken)}"
        check.verdict = "fail"
        if check.failure != "regression":  # a broken limit outranks thin evidence
            check.failure = "limit"
        check.message = f"{check.message}; candidate {check.bound}" if check.message else f"candidate {check.bound}"
    else:
        check.bound = f"{_pct(value)} within {limits}"


def _worst(strata: Sequence[tuple[str, Paired]], base: _Side, cand: _Side, rule: Rule, k: int) -> list[ItemExample]:
    if k <= 0:
        return []
    rows: list[tuple[float, str, str, float, float]] = []
    for t, p in strata:
        d = _orient(rule, p.a) - _orient(rule, p.b)
        rows.extend((float(d[i]), t, p.ids[i], float(p.b[i]), float(p.a[i])) for i in np.flatnonzero(d < 0))
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    out = []
    for _, t, sid, bv, cv in rows[:k]:
        out.append(ItemExample(task=t, sample_id=sid, baseline=bv, candidate=cv,
                               baseline_output=_excerpt(_first_sample(base, t, sid)),
                               candidate_output=_excerpt(_first_sample(cand, t, sid))))
    return out


def _first_sample(side: _Side, task: str, sample_id: str) -> SampleRecord | None:
    return next((s for s in side.samples[task] if s.sample_id == sample_id), None)


def _pts(x: float) -> str:
    return f"{100 * x:g}-point"


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


# -- whole gate -----------------------------------------------------------------------------------


def _check_versions(tasks: set[str], base: _Side, cand: _Side, allowed: Iterable[str] = ()) -> list[str]:
    """Refuse missing tasks and other settings, versions or scorer modes unless ``allowed`` (then one
    note per difference); a changed task content hash always refuses."""
    for t in sorted(tasks):
        if t not in cand.infos:
            raise GateError(f"task '{t}' is in the baseline run but missing from the candidate run "
                            f"({cand.ref.path}); rerun the candidate with the same suite")
    diffs = comparability.run_differences(base.infos, cand.infos, base.model, cand.model, tasks)
    notes = comparability.require_comparable(diffs, allowed)
    for t in sorted(tasks):
        b, c = base.infos[t], cand.infos[t]
        if b.hash != c.hash:
            raise GateError(f"task '{t}' differs between runs (baseline version {b.version} hash {b.hash}, "
                            f"candidate version {c.version} hash {c.hash}); rerun both with the same task version")
    return notes


def evaluate_gate(baseline: RunDir, candidate: RunDir, policy: Policy,
                  allow_mismatch: Iterable[str] = ()) -> GateResult:
    """Run every rule of ``policy`` on two finished runs and combine the verdicts.

    ``allow_mismatch``: comparability fields (``cotbench.analysis.comparability.FIELDS`` or ``"all"``)
    that may differ between the runs; recorded in ``GateResult.mismatches_allowed`` and the notes.
    """
    allowed = comparability.parse_allowed(allow_mismatch)
    base, cand = _Side.load(baseline), _Side.load(candidate)
    if not base.infos:
        raise GateError(f"{baseline.path}: the baseline run has no finished tasks")
    plans = [(rule, _matched_tasks(rule, base)) for rule in policy.rules]
    notes = _check_versions({t for _, ts in plans for t in ts}, base, cand, allowed)
    for rule, tasks in plans:
        _require_verdicts(rule, tasks, (("baseline", base), ("candidate", cand)))

    measured: list[_Measured] = []
    for rule, tasks in plans:
        if not tasks:
            scope = f"domain {rule.domain}" if rule.domain else "tasks " + ", ".join(rule.tasks or [])
            measured.append(_Measured(rule, RuleCheck(
                rule=rule.name, scope=scope, metric=rule.metric, direction=str(rule.direction), tasks=[],
                margin=rule.margin, verdict="skipped", message="no matching task in the baseline run")))
        elif rule.per_task:
            measured.extend(_measure(rule, f"task {t}", [t], base, cand, policy) for t in tasks)
        else:
            scope = f"domain {rule.domain}" if rule.domain and not rule.tasks else ", ".join(tasks)
            measured.append(_measure(rule, scope, tasks, base, cand, policy))

    # Holm over every tested check keeps the whole gate's false-alarm rate at or below alpha.
    tested = {id(m): m.result for m in measured if m.result is not None}
    adjusted = dict(zip(tested, holm([r.p_regression for r in tested.values()]), strict=True)) if tested else {}
    checks = [_judge(m, adjusted.get(id(m), 1.0), base, cand, policy) for m in measured]

    extra = sorted(set(cand.infos) - set(base.infos))
    if extra:
        notes.append(f"tasks only in the candidate run, not compared: {', '.join(extra)}")
    if all(c.verdict == "skipped" for c in checks):
        raise GateError("no policy rule matched any task of the baseline run; check the policy's domains and tasks")
    verdict: Literal["pass", "fail"] = "fail" if any(c.verdict == "fail" for c in checks) else "pass"
    return GateResult(verdict=verdict, n_warnings=sum(c.verdict == "warn" for c in checks),
                      baseline=base.ref, candidate=cand.ref, policy_digest=policy.digest(), alpha=policy.alpha,
                      checks=checks, notes=notes, mismatches_allowed=list(allowed))


def resolve_runs(args: Sequence[str], policy: Policy, output: Path) -> list[RunDir]:
    """Each argument is a run directory (it holds manifest.json) or a model spec to run first."""
    specs = [a for a in args if not (Path(a) / MANIFEST).is_file()]
    ran: dict[str, RunDir] = {}
    if specs:
        from cotbench.runner import run_models

        unique = list(dict.fromkeys(specs))
        runs = run_models(unique, suite=policy.suite, tasks=policy.tasks, limit=policy.limit, output=output,
                          engine=policy.engine, seed=policy.seed, preset=policy.preset,
                          max_tokens=policy.max_tokens)
        if len(runs) != len(unique):
            raise GateError(f"the runner returned {len(runs)} runs for {len(unique)} model specs")
        ran = dict(zip(unique, runs, strict=True))
    return [ran[a] if a in ran else RunDir(a) for a in args]


def run_gate(baseline: str, candidate: str, policy: Policy, output: Path = Path("results"),
             allow_mismatch: Iterable[str] = ()) -> GateResult:
    """The gate as a function: resolve both sides (running specs if needed), then evaluate."""
    allowed = comparability.parse_allowed(allow_mismatch)  # a bad field name fails before any model runs
    base_rd, cand_rd = resolve_runs([baseline, candidate], policy, output)
    return evaluate_gate(base_rd, cand_rd, policy, allowed)

