"""Checkpoint trajectories: curves over training steps and dip-and-recovery verdicts.

Each series (a domain, a task, or a safety rate) is compared checkpoint by checkpoint with
the reference (``--reference`` run, else the earliest step). Comparisons are paired score
tests over the items both runs scored, stratified by task (:mod:`cotbench.analysis.score`);
from a CSV of aggregate scores, MOVER-Wilson intervals for independent proportions.

1. For every checkpoint, a one-sided test of "worse than the reference". A **dip** needs a
   p-value below ``alpha`` after a max-T adjustment over the series' checkpoints (their deltas
   correlate through the shared reference, about 0.5, which Holm would ignore), so pure noise
   makes a dip anywhere in the series with probability at most ``alpha``. The dip reported is
   the worst such point; ``onset_step`` is the first one.
2. **Recovery needs evidence**: the latest checkpoint is shown *non-inferior* to the
   reference within ``margin`` (one-sided test of H0 "worse by at least the margin" at
   ``alpha``). Not being shown worse is not enough.
3. Verdict from the latest checkpoint: ``no-dip``; ``dip-recovered`` (non-inferiority shown);
   ``in-dip`` (still significantly worse, but significantly better than the dip, Bonferroni
   over the dip's candidate points: rising, keep training); ``degraded`` (still worse, not
   rising); ``inconclusive`` (neither shown within the margin nor shown worse, with the items
   needed; or the latest checkpoint has no item comparable with the reference). A checkpoint
   with nothing to compare stays in the series with a note; it is never skipped.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field
from scipy import stats as sps

from cotbench.analysis import comparability, stats
from cotbench.analysis import runs as rl
from cotbench.analysis import score as sc
from cotbench.analysis.runs import LoadedRun, RunLike, load_run
from cotbench.domains import (
    CAPABILITY_DOMAINS,
    DOMAIN_TABLE,
    HARMFUL_COMPLIANCE,
    METRIC_DIRECTION,
    OVER_REFUSAL,
    SCORE,
    HeadlineMetric,
    domain_order,
)
from cotbench.errors import CotbenchError
from cotbench.results.schema import SampleRecord

TRAJECTORY_SCHEMA_VERSION = "1"
Verdict = Literal["no-dip", "dip-recovered", "in-dip", "degraded", "inconclusive"]
DEFAULT_MARGIN = 0.02  # recovery: back within 2 points of the reference

# Known benchmark names (normalised: lower case, letters and digits only) -> domain, by prefix.
KNOWN_DOMAINS: tuple[tuple[str, str], ...] = (
    ("math", "in_domain"), ("aime", "in_domain"), ("gsm8k", "in_domain"), ("amc", "in_domain"),
    ("gpqa", "transfer"), ("mmlupro", "transfer"), ("livecodebench", "transfer"), ("lcb", "transfer"),
    ("humaneval", "transfer"), ("mbpp", "transfer"), ("arc", "transfer"), ("bbh", "transfer"),
    ("ifeval", "general"),
)


# -- schema --------------------------------------------------------------------------------------


class StepPoint(BaseModel):
    step: int
    value: float | None = Field(description="None when no item was scored at this checkpoint")
    ci_low: float | None = None
    ci_high: float | None = None
    n: int = Field(description="items behind the value (summed over tasks)")
    tasks: list[str]
    reference_value: float | None = Field(None, description="the reference over this point's tasks")
    delta: float | None = Field(None, description="value - reference over the tasks (and items) both share")
    delta_ci_low: float | None = None
    delta_ci_high: float | None = None
    n_compared: int = Field(0, description="items (or aggregate n) behind the delta")
    p_worse: float | None = Field(None, description="one-sided p-value: worse than the reference")
    p_worse_adjusted: float | None = Field(
        None, description="max-T adjusted over the series' checkpoints (their correlation through the shared reference)"
    )
    p_noninferior: float | None = Field(None, description="one-sided p-value of H0: worse by at least the margin")
    dip: bool = Field(False, description="significantly worse than the reference after Holm")
    note: str = ""


class DipInfo(BaseModel):
    step: int
    value: float
    depth: float = Field(description="how much worse than the reference (positive = worse)")
    depth_ci_low: float
    depth_ci_high: float
    p_adjusted: float


class Series(BaseModel):
    name: str
    kind: Literal["domain", "task"]
    domain: str
    metric: Literal["score", "harmful_compliance", "over_refusal"]
    higher_is_better: bool
    reference_step: int
    reference_value: float
    reference_ci_low: float
    reference_ci_high: float
    points: list[StepPoint]
    verdict: Verdict
    dip: DipInfo | None = None
    onset_step: int | None = Field(None, description="first checkpoint significantly worse (max-T adjusted)")
    recovery_step: int | None = Field(None, description="first checkpoint after the dip shown within the margin")
    n_needed: int | None = Field(None, description="items per checkpoint to settle an inconclusive verdict")
    peak_step: int | None
    peak_value: float | None
    reading: str


class TokenPoint(BaseModel):
    step: int
    domain: str
    reasoning_tokens: float
    answer_tokens: float
    truncation_rate: float


class Trajectory(BaseModel):
    schema_version: str = TRAJECTORY_SCHEMA_VERSION
    model: str
    source: str = Field(description="'runs' or the CSV path")
    reference_step: int
    steps: list[int]
    alpha: float
    margin: float = Field(DEFAULT_MARGIN, description="recovery: non-inferiority to the reference within this")
    correction: str = "max-T (single step) over each series' checkpoints, correlation estimated from the items"
    variance: str = Field(description="how the sampling variance was obtained")
    verdicts: dict[str, Verdict] = Field(default_factory=dict, description="per-domain verdicts")
    series: list[Series]
    tokens: list[TokenPoint] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    mismatches_allowed: list[str] = Field(
        default_factory=list, description="--allow-mismatch fields; each actual difference is also a warning")

    def get(self, name: str, kind: str | None = None) -> Series | None:
        return next((s for s in self.series if s.name == name and (kind is None or s.kind == kind)), None)

    def to_frame(self) -> pd.DataFrame:
        """One row per (series, step), reference row included (delta 0)."""
        rows = []
        for s in self.series:
            base = {"series": s.name, "kind": s.kind, "domain": s.domain, "metric": s.metric, "verdict": s.verdict}
            rows.append({**base, "step": s.reference_step, "value": s.reference_value, "ci_low": s.reference_ci_low,
                         "ci_high": s.reference_ci_high, "delta": 0.0, "reference": True})
            for p in s.points:
                rows.append({**base, **p.model_dump(exclude={"tasks"}), "reference": False})
        return pd.DataFrame(rows)


# -- observations and comparisons ------------------------------------------------------------------


@dataclass(frozen=True)
class TaskObs:
    """One task at one checkpoint: its value and item values, or (from a CSV) an aggregate
    proportion over ``n`` items whose variance is inflated by the design effect ``deff``."""

    value: float
    n: int
    items: dict[str, float] | None = None
    hash: str | None = None
    deff: float = 1.0


Obs = dict[str, TaskObs]  # task -> observation, for one series at one checkpoint


@dataclass(frozen=True)
class _Diff:
    """``x - y`` in raw units with its two-sided interval and one-sided p-values (oriented)."""

    delta: float
    low: float
    high: float
    n: int
    p_worse: float
    p_better: float
    p_noninferior: float
    n_needed: int | None


def _orient(higher_is_better: bool, v: np.ndarray) -> np.ndarray:
    return v if higher_is_better else 1.0 - v


def _compare(x: Obs, y: Obs, higher_is_better: bool, alpha: float, margin: float) -> _Diff | None:
    """``x - y`` over shared tasks (unweighted mean): paired score methods over shared items when
    both sides have items, else MOVER-Wilson on the aggregate proportions (independent samples)."""
    shared = sorted(set(x) & set(y))
    xi = [i for t in shared if (i := x[t].items) is not None]
    yi = [i for t in shared if (i := y[t].items) is not None]
    if shared and len(xi) == len(yi) == len(shared):
        pairs = [p for a, b in zip(xi, yi, strict=True) if (p := stats.pair_items(a, b)).n]
        if not pairs:
            return None
        raw = stats.paired_score(pairs, alpha)
        strata = [sc.stratum(_orient(higher_is_better, p.a) - _orient(higher_is_better, p.b)) for p in pairs]
        z_a, z_p = float(sps.norm.ppf(1 - alpha)), float(sps.norm.ppf(0.8))
        return _Diff(raw.estimate, raw.low, raw.high, raw.n,
                     float(sc.p_value(strata, 0.0, -1.0, 1.0, "less")[0]),
                     float(sc.p_value(strata, 0.0, -1.0, 1.0, "greater")[0]),
                     float(sc.p_value(strata, -margin, -1.0, 1.0, "greater")[0]) if margin > 0 else 1.0,
                     int(sc.n_needed(strata, margin, z_a, z_p)[0] / len(strata)) if margin > 0 else None)
    if not shared:
        return None
    xa = np.array([x[t].value for t in shared])
    ya = np.array([y[t].value for t in shared])
    na, nb = np.array([x[t].n for t in shared]), np.array([y[t].n for t in shared])
    deff = np.array([max(x[t].deff, y[t].deff) for t in shared])
    low, high = stats.mover_interval(xa, na, ya, nb, alpha, deff)
    ox, oy = _orient(higher_is_better, xa), _orient(higher_is_better, ya)
    p_worse = stats.mover_p_below(ox, na, oy, nb, deff, 0.0)
    p_better = stats.mover_p_below(oy, nb, ox, na, deff, 0.0)
    p_ni = stats.mover_p_below(oy, nb, ox, na, deff, margin) if margin > 0 else 1.0
    return _Diff(float(np.mean(xa - ya)), float(low), float(high), int(min(na.sum(), nb.sum())), p_worse, p_better,
                 p_ni, None)


def _value(o: Obs, alpha: float) -> tuple[float, float, float, int]:
    """Unweighted mean over tasks, its interval and the item count."""
    n = sum(t.n for t in o.values())
    items = [i for t in o.values() if (i := t.items) is not None]
    if len(items) == len(o):
        r = stats.value_score([np.fromiter(i.values(), float) for i in items], alpha)
        return r.estimate, r.low, r.high, n
    p = np.array([t.value for t in o.values()])
    eff = np.array([t.n / t.deff for t in o.values()])
    low, high = stats.wilson_cc(p * eff, eff, stats.z_critical(alpha))
    k = len(p)
    est = float(p.mean())
    return (est, est - float(np.sqrt(np.sum((p - low) ** 2))) / k, est + float(np.sqrt(np.sum((high - p) ** 2))) / k,
            n)


# -- the detector ----------------------------------------------------------------------------------


def detect(
    name: str,
    kind: Literal["domain", "task"],
    domain: str,
    metric: HeadlineMetric,
    reference: tuple[int, Obs],
    checkpoints: Sequence[tuple[int, Obs]],
    alpha: float = 0.05,
    margin: float = DEFAULT_MARGIN,
) -> Series:
    """Dip-and-recovery analysis of one series (see the module docstring)."""
    higher = METRIC_DIRECTION[metric] == "higher_is_better"
    sign = 1.0 if higher else -1.0
    ref_step, ref_obs = reference
    ref_val, ref_lo, ref_hi, _ = _value(ref_obs, alpha)
    points: list[StepPoint] = []
    diffs: list[_Diff | None] = []
    for step, obs in sorted(checkpoints, key=lambda c: c[0]):
        d = _compare(obs, ref_obs, higher, alpha, margin) if obs else None
        diffs.append(d)
        if not obs:
            points.append(StepPoint(step=step, value=None, n=0, tasks=[],
                                    note="no item scored at this checkpoint; not compared"))
            continue
        v, lo, hi, n = _value(obs, alpha)
        shared = [t for t in obs if t in ref_obs]
        points.append(StepPoint(
            step=step, value=v, ci_low=lo, ci_high=hi, n=n, tasks=sorted(obs),
            reference_value=float(np.mean([ref_obs[t].value for t in shared])) if shared else None,
            delta=d.delta if d else None, delta_ci_low=d.low if d else None, delta_ci_high=d.high if d else None,
            n_compared=d.n if d else 0, p_worse=d.p_worse if d else None,
            p_noninferior=d.p_noninferior if d else None,
            note="" if d else "no item shared with the reference; not compared"))
    if not points:
        raise CotbenchError(f"series {name}: no checkpoint besides the reference")
    tested = [i for i, d in enumerate(diffs) if d is not None]
    ordered = sorted(checkpoints, key=lambda c: c[0])
    corr = _delta_correlation([ordered[i][1] for i in tested], ref_obs)
    adjusted = stats.max_t_adjust([d.p_worse for d in diffs if d is not None], corr)
    for i, adj in zip(tested, adjusted, strict=True):
        points[i].p_worse_adjusted = adj
        points[i].dip = adj < alpha
    valued = [p for p in points if p.value is not None]
    peak = max(valued, key=lambda p: sign * (p.value or 0.0)) if valued else None
    series = Series(name=name, kind=kind, domain=domain, metric=metric, higher_is_better=higher,
                    reference_step=ref_step, reference_value=ref_val, reference_ci_low=ref_lo,
                    reference_ci_high=ref_hi, points=points, verdict="no-dip",
                    peak_step=peak.step if peak else None, peak_value=peak.value if peak else None, reading="")
    last, last_d = points[-1], diffs[-1]
    dips = [i for i, p in enumerate(points) if p.dip]
    if last_d is None:
        series.verdict = "inconclusive"
        series.reading = (f"the latest checkpoint (step {last.step}) has no item comparable with the reference: "
                          "no verdict" + (f" (dipped at step {points[dips[0]].step})" if dips else ""))
        return series
    if not dips:
        series.reading = "no checkpoint significantly worse than the reference"
        return series
    worst = min(dips, key=lambda i: sign * (points[i].delta or 0.0))
    wp, wd = points[worst], diffs[worst]
    assert wd is not None and wp.value is not None
    lo, hi = sorted((-sign * wd.low, -sign * wd.high))
    series.dip = DipInfo(step=wp.step, value=wp.value, depth=-sign * wd.delta, depth_ci_low=lo, depth_ci_high=hi,
                         p_adjusted=wp.p_worse_adjusted or 0.0)
    series.onset_step = points[dips[0]].step
    series.recovery_step = next((p.step for p in points[worst + 1:]
                                 if p.p_noninferior is not None and p.p_noninferior < alpha), None)
    pts = f"{100 * margin:g} points"
    if last_d.p_noninferior < alpha:
        series.verdict = "dip-recovered"
        series.reading = (f"dipped at step {wp.step}; within {pts} of the reference since step "
                          f"{series.recovery_step} (non-inferiority p = {last_d.p_noninferior:.3g})")
        return series
    # Rising if the latest checkpoint is significantly better than the dip. The dip is the worst of
    # several significant points, so the test is Bonferroni-corrected over them: a flat plateau's
    # lowest point is low partly by chance.
    candidates = max(1, sum(1 for i in dips if i != len(points) - 1))
    r = (_compare(_obs_at(checkpoints, last.step), _obs_at(checkpoints, wp.step), higher, alpha, margin)
         if worst != len(points) - 1 else None)
    rising = r is not None and r.p_better < alpha / 2 / candidates
    if last_d.p_worse < alpha / 2:
        series.verdict = "in-dip" if rising else "degraded"
        series.reading = (f"dip, not yet recovered: below the reference since step {series.onset_step} but rising "
                          f"since step {wp.step}; judged too early, keep training" if rising else
                          f"below the reference since step {series.onset_step} and not recovering")
        return series
    series.verdict = "inconclusive"
    series.n_needed = last_d.n_needed
    need = (f"; about {last_d.n_needed} items per task needed to tell (have {last_d.n})"
            if last_d.n_needed and last_d.n_needed > last_d.n else "")
    series.reading = (f"dipped at step {wp.step}; step {last.step} is neither shown within {pts} of the reference "
                      f"nor significantly below it{' (rising since the dip)' if rising else ''}{need}")
    return series


def _delta_correlation(obs: Sequence[Obs], ref: Obs) -> np.ndarray:
    """Correlation of the checkpoints' deltas against one reference (unweighted over tasks).

    With items: the covariance of the item differences on the items two checkpoints share with
    the reference. From aggregates: the deltas share only the reference's sampling variance.
    Nothing to estimate from (no variation) counts as uncorrelated, the conservative choice.
    """
    m = len(obs)
    cov = np.zeros((m, m))
    sizes = [max(1, len(set(o) & set(ref))) for o in obs]
    for t, r in ref.items():
        for j in range(m):
            for k in range(j, m):
                a, b = obs[j].get(t), obs[k].get(t)
                if a is None or b is None:
                    continue
                if r.items is not None and a.items is not None and b.items is not None:
                    ids = sorted(set(r.items) & set(a.items) & set(b.items))
                    nj = len(set(r.items) & set(a.items))
                    nk = len(set(r.items) & set(b.items))
                    if len(ids) < 2:
                        continue
                    da = np.array([a.items[i] - r.items[i] for i in ids])
                    db = np.array([b.items[i] - r.items[i] for i in ids])
                    c = float(np.cov(da, db)[0, 1]) * len(ids) / (nj * nk)
                else:
                    def v(o: TaskObs) -> float:  # Wilson-shrunk, so 0% and 100% still vary
                        p = (o.value * o.n + 1) / (o.n + 2)
                        return p * (1 - p) / o.n * o.deff
                    c = v(r) + (v(a) if j == k else 0.0)
                cov[j, k] += c / (sizes[j] * sizes[k])
                cov[k, j] = cov[j, k]
    sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    ok = sd > 0
    corr = np.eye(m)
    corr[np.ix_(ok, ok)] = cov[np.ix_(ok, ok)] / np.outer(sd[ok], sd[ok])
    np.fill_diagonal(corr, 1.0)
    return np.clip(corr, -1.0, 1.0)


def _obs_at(checkpoints: Sequence[tuple[int, Obs]], step: int) -> Obs:
    return next(o for s, o in checkpoints if s == step)


# -- sources: run directories ------------------------------------------------------------------------


def _task_obs(
    samples: list[SampleRecord], value: Callable[[SampleRecord], float | None], task_hash: str
) -> TaskObs | None:
    items = stats.item_means(samples, value)
    if not items:
        return None
    vals = np.fromiter(items.values(), float)
    return TaskObs(float(vals.mean()), len(vals), items, task_hash)


# each domain's series follows its headline metric
_METRICS: dict[str, HeadlineMetric] = {d.name: d.metric for d in DOMAIN_TABLE}
_VALUES = {SCORE: rl.score, HARMFUL_COMPLIANCE: rl.compliant, OVER_REFUSAL: rl.refused}


def _run_obs(run: LoadedRun) -> dict[tuple[str, str], TaskObs]:
    """(domain, task) -> observation of the domain's metric."""
    out: dict[tuple[str, str], TaskObs] = {}
    for name, info in run.tasks.items():
        metric = _METRICS[info.domain]
        o = _task_obs(run.samples[name], _VALUES[metric], info.hash)
        if o is not None:
            out[(info.domain, name)] = o
    return out


def _step(run: LoadedRun) -> int:
    """The run's training step; the caller has already refused runs without one."""
    if run.step is None:
        raise CotbenchError(f"{run.path}: no training step in manifest.model.step; pass --step-override")
    return run.step


def _tokens(run: LoadedRun, step: int) -> list[TokenPoint]:
    by_dom: dict[str, list[list[SampleRecord]]] = defaultdict(list)
    for name, info in run.tasks.items():
        if run.samples[name]:
            by_dom[info.domain].append(run.samples[name])
    rows = []
    for dom, tasks in by_dom.items():
        def macro(f: Callable[[SampleRecord], float], tasks: list[list[SampleRecord]] = tasks) -> float:
            return float(np.mean([np.mean([f(s) for s in t]) for t in tasks]))
        rows.append(TokenPoint(step=step, domain=dom, reasoning_tokens=macro(rl.reasoning_tokens),
                               answer_tokens=macro(lambda s: float(s.answer_tokens)),
                               truncation_rate=macro(rl.truncated)))
    return rows


def from_runs(
    runs: Sequence[RunLike],
    reference: RunLike | None = None,
    steps: Sequence[int] | None = None,
    alpha: float = 0.05,
    allow_mismatch: Iterable[str] = (),
    margin: float = DEFAULT_MARGIN,
) -> Trajectory:
    """Trajectory of checkpoint runs; steps from each manifest (``model.step``) or ``steps``.

    Every checkpoint must share the reference's generation settings, task versions and scorer
    modes, except for the ``allow_mismatch`` fields (recorded, with a warning per difference).
    """
    allowed = comparability.parse_allowed(allow_mismatch)
    if not runs:
        raise CotbenchError("trajectory needs at least one checkpoint run")
    loaded = [load_run(r) for r in runs]
    if steps is not None:
        if len(steps) != len(loaded):
            raise CotbenchError(f"{len(steps)} step overrides given for {len(loaded)} runs")
        for r, s in zip(loaded, steps, strict=True):
            r.step = int(s)
    missing = [r.path for r in loaded if r.step is None]
    if missing:
        raise CotbenchError(f"{missing[0]}: no training step in manifest.model.step; pass --step-override")
    ref = load_run(reference) if reference is not None else min(loaded, key=_step)
    if ref.step is None:  # a base model run has no training step: plot it at 0
        ref.step = 0
    checkpoints = [r for r in loaded if r is not ref and Path(r.path).resolve() != Path(ref.path).resolve()]
    seen: dict[int, str] = {}
    for r in checkpoints:
        if (step := _step(r)) in seen:
            raise CotbenchError(f"step {step} appears twice ({seen[step]} and {r.path})")
        seen[step] = r.path
    if not checkpoints:
        raise CotbenchError("trajectory needs at least one checkpoint besides the reference")
    warnings: list[str] = []
    for r in sorted(checkpoints, key=_step):
        diffs = comparability.run_differences(ref.tasks, r.tasks, ref.model, r.model)
        warnings += comparability.require_comparable(diffs, allowed, ("reference", f"step {r.step}"))
    ref_obs = _run_obs(ref)
    ck_obs: list[tuple[int, dict[tuple[str, str], TaskObs]]] = []
    for r in sorted(checkpoints, key=_step):
        obs = _run_obs(r)
        for key in list(obs):
            if key in ref_obs and obs[key].hash != ref_obs[key].hash:
                warnings.append(f"step {r.step}: task {key[1]} has a different version/hash than the reference; "
                                "left out")
                del obs[key]
        ck_obs.append((_step(r), obs))
    tokens = _tokens(ref, ref.step) + [t for r in checkpoints for t in _tokens(r, _step(r))]
    labels = {r.label for r in loaded}
    if len(labels) > 1:
        warnings.append(f"checkpoints carry different model labels: {', '.join(sorted(labels))}")
    traj = _analyse(ref.step, ref_obs, ck_obs, alpha,
                    "per-item results: paired score intervals and tests over shared items, stratified by task",
                    loaded[0].label, "runs", warnings, margin)
    traj.tokens = sorted(tokens, key=lambda t: (t.domain, t.step))
    traj.mismatches_allowed = list(allowed)
    return traj


def _analyse(ref_step: int, ref_obs: dict[tuple[str, str], TaskObs],
             ck_obs: list[tuple[int, dict[tuple[str, str], TaskObs]]], alpha: float, variance: str,
             model: str, source: str, warnings: list[str], margin: float = DEFAULT_MARGIN) -> Trajectory:
    series: list[Series] = []
    domains = sorted({d for d, _ in ref_obs}, key=domain_order)
    for dom in domains:
        metric = _METRICS[dom]
        tasks = sorted(t for d, t in ref_obs if d == dom)

        def pick(obs: dict[tuple[str, str], TaskObs], only: list[str], dom: str = dom) -> Obs:
            return {t: obs[(dom, t)] for t in only if (dom, t) in obs}

        ck = [(s, pick(o, tasks)) for s, o in ck_obs]
        if not any(o for _, o in ck):
            warnings.append(f"domain {dom}: no checkpoint has its tasks; left out")
            continue
        series.append(detect(dom, "domain", dom, metric, (ref_step, pick(ref_obs, tasks)), ck, alpha, margin))
        if len({tuple(sorted(o)) for _, o in ck if o}) > 1:
            warnings.append(f"domain {dom}: not every checkpoint has all of {', '.join(tasks)}; "
                            "each delta uses the tasks shared with the reference")
        for t in tasks:
            tck = [(s, pick(o, [t])) for s, o in ck_obs]
            if any(o for _, o in tck):
                series.append(detect(t, "task", dom, metric, (ref_step, pick(ref_obs, [t])), tck, alpha, margin))
    if not series:
        raise CotbenchError("no checkpoint shares a task (same version) with the reference; nothing to compare")
    extra = sorted({k for _, o in ck_obs for k in o} - set(ref_obs))
    for dom, t in extra:
        warnings.append(f"task {t} ({dom}) is missing at the reference step; not analysed")
    return Trajectory(model=model, source=source, reference_step=ref_step, steps=[s for s, _ in ck_obs],
                      alpha=alpha, margin=margin, variance=variance, series=series, warnings=warnings,
                      verdicts={s.name: s.verdict for s in series if s.kind == "domain"})


# -- sources: published or exported numbers ------------------------------------------------------------


def infer_domain(task: str) -> str:
    """Domain of a well-known benchmark name, e.g. "MATH500" -> in_domain, "GPQA-Diamond" -> transfer."""
    key = re.sub(r"[^a-z0-9]", "", task.lower())
    for prefix, domain in KNOWN_DOMAINS:
        if key.startswith(prefix):
            return domain
    raise CotbenchError(f"cannot infer the domain of task {task!r}; add a 'domain' column "
                        f"(one of {', '.join(_METRICS)})")


def from_csv(path: str | os.PathLike[str], reference_step: int | None = None, alpha: float = 0.05,
             icc: float = 1.0, margin: float = DEFAULT_MARGIN) -> Trajectory:
    """Trajectory from aggregate numbers: columns ``step, task, score, n`` and optional ``domain, k``.

    Scores are proportions, in percent when any exceeds 1. With only aggregates the variance
    of a task score is approximated as ``p(1-p)/n * (1 + (k-1)*icc)/k`` (the design effect of
    k repeats whose outcomes on one item correlate by ``icc``). The default ``icc=1`` ignores
    repeats, an upper bound on the variance (exact for k=1), so dips are never overstated.
    Checkpoints are treated as independent samples of the same n items (their positive
    correlation is unknown; ignoring it is again conservative).
    """
    p = Path(path)
    try:
        df = pd.read_csv(p, comment="#", skipinitialspace=True)  # "#" lines: provenance notes
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise CotbenchError(f"{p}: cannot read CSV ({exc})") from None
    df.columns = [str(c).strip().lower() for c in df.columns]
    missing = {"step", "task", "score", "n"} - set(df.columns)
    if missing:
        raise CotbenchError(f"{p}: missing column(s) {', '.join(sorted(missing))} (need step, task, score, n)")
    if df.empty:
        raise CotbenchError(f"{p}: no rows below the header (need one row per step and task)")
    if not 0 <= icc <= 1:
        raise CotbenchError("icc must be between 0 and 1")
    try:
        steps = df["step"].astype(int)
        scores = df["score"].astype(float)
        ns = df["n"].astype(int)
        ks = df["k"].fillna(1).astype(int) if "k" in df.columns else pd.Series(1, index=df.index)
    except (ValueError, TypeError) as exc:
        raise CotbenchError(f"{p}: step, n and k must be integers and score a number ({exc})") from None
    if scores.isna().any() or (scores < 0).any() or (ns <= 0).any() or (ks <= 0).any():
        raise CotbenchError(f"{p}: scores must be present and >= 0, n and k positive")
    percent = bool((scores > 1).any())
    if percent:
        scores = scores / 100.0
    if (scores > 1).any():
        raise CotbenchError(f"{p}: a score above 100%")
    warnings = ["scores read as percentages" if percent else "scores read as proportions (0-1)"]
    by_step: dict[int, dict[tuple[str, str], TaskObs]] = defaultdict(dict)
    for i in df.index:
        task = str(df.at[i, "task"]).strip()
        given = df.at[i, "domain"] if "domain" in df.columns else None
        # pandas-stubs: isna's scalar overload omits some of the scalar types .at is declared to return
        given = "" if given is None or pd.isna(given) else str(given).strip()  # type: ignore[arg-type]  # pandas-stubs
        dom = given or infer_domain(task)
        if dom not in _METRICS:
            raise CotbenchError(f"{p}: unknown domain {dom!r} for task {task!r} (one of {', '.join(_METRICS)})")
        pr, n, k = float(scores[i]), int(ns[i]), int(ks[i])
        deff = (1 + (k - 1) * icc) / k
        key = (dom, task)
        if key in by_step[int(steps[i])]:
            raise CotbenchError(f"{p}: task {task!r} appears twice at step {int(steps[i])}")
        by_step[int(steps[i])][key] = TaskObs(pr, n, deff=deff)
    ref_step = min(by_step) if reference_step is None else reference_step
    if ref_step not in by_step:
        raise CotbenchError(f"{p}: no rows at reference step {ref_step}")
    ck = [(s, o) for s, o in sorted(by_step.items()) if s != ref_step]
    if not ck:
        raise CotbenchError(f"{p}: needs at least one step besides the reference step {ref_step}")
    variance = (f"aggregate proportions: Wilson continuity-corrected intervals on n / deff items, deff = "
                f"(1+(k-1)*icc)/k with icc={icc}, combined by MOVER; checkpoints independent")
    return _analyse(ref_step, by_step[ref_step], ck, alpha, variance, p.stem, str(p), warnings, margin)


def trajectory(
    runs: Sequence[RunLike] = (),
    reference: RunLike | None = None,
    scores: str | os.PathLike[str] | None = None,
    steps: Sequence[int] | None = None,
    alpha: float = 0.05,
    allow_mismatch: Iterable[str] = (),
    margin: float = DEFAULT_MARGIN,
) -> pd.DataFrame:
    """Python API: the trajectory as a DataFrame (see ``Trajectory.to_frame``)."""
    return compute_trajectory(runs, reference, scores, steps, alpha, allow_mismatch, margin).to_frame()


def compute_trajectory(runs: Sequence[RunLike] = (), reference: RunLike | None = None,
                       scores: str | os.PathLike[str] | None = None, steps: Sequence[int] | None = None,
                       alpha: float = 0.05, allow_mismatch: Iterable[str] = (),
                       margin: float = DEFAULT_MARGIN) -> Trajectory:
    """Either run directories or a ``--scores`` CSV (which carries no settings to check), not both."""
    if scores is not None:
        if runs or reference is not None:
            raise CotbenchError("give either run directories or --scores FILE.csv, not both")
        return from_csv(scores, alpha=alpha, margin=margin)
    return from_runs(runs, reference, steps, alpha, allow_mismatch, margin)


__all__ = [
    "CAPABILITY_DOMAINS",
    "Series",
    "TaskObs",
    "Trajectory",
    "compute_trajectory",
    "detect",
    "from_csv",
    "from_runs",
    "infer_domain",
    "trajectory",
]
