"""Checkpoint trajectories: curves over training steps and dip-and-recovery verdicts.

Each series (a domain, a task, or a safety rate) is compared checkpoint by checkpoint with
the reference (``--reference`` run, else the earliest step). The detector:

1. For every checkpoint, a one-sided test of "worse than the reference" (paired over shared
   items when per-item results exist, else a normal test on proportions, see ``from_csv``).
   "Significantly worse" means the two-sided ``1 - alpha`` interval of the delta lies wholly
   on the worse side of 0 (one-sided p < alpha/2): a drop inside the CI is never a dip.
2. Holm's correction over all checkpoints of the series: a **dip** needs a Holm-adjusted
   one-sided p-value below ``alpha/2``, so pure noise produces a dip anywhere in the series
   with probability at most ``alpha/2`` (family-wise, any dependence between checkpoints).
   The dip reported is the worst such point; ``onset_step`` is the first one.
3. **Recovery**: the first later checkpoint whose uncorrected interval reaches the
   reference again (one-sided p >= alpha/2): statistically back at or above the reference.
4. Verdict from the latest checkpoint: ``no-dip`` (no dip at all); ``dip-recovered``
   (latest is back at or above the reference); ``in-dip`` (latest still significantly
   worse, uncorrected, but significantly better than the dip, Bonferroni over the dip's
   candidate points: rising, keep training);
   ``degraded`` (still worse and not significantly better than the dip).
"""

from __future__ import annotations

import math
import os
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from cotbench.analysis import runs as rl
from cotbench.analysis import stats
from cotbench.analysis.profile import CAPABILITY_DOMAINS
from cotbench.analysis.runs import LoadedRun, RunLike, load_run
from cotbench.errors import CotbenchError
from cotbench.results.schema import SampleRecord

TRAJECTORY_SCHEMA_VERSION = "1"
Verdict = Literal["no-dip", "dip-recovered", "in-dip", "degraded"]

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
    value: float
    ci_low: float
    ci_high: float
    n: int = Field(description="items behind the value (summed over tasks)")
    tasks: list[str]
    reference_value: float | None = Field(None, description="the reference over this point's tasks")
    delta: float | None = Field(None, description="value - reference over the tasks (and items) both share")
    delta_ci_low: float | None = None
    delta_ci_high: float | None = None
    p_worse: float | None = Field(None, description="one-sided p-value: worse than the reference")
    p_worse_holm: float | None = Field(None, description="Holm-adjusted over the series' checkpoints")
    dip: bool = Field(False, description="significantly worse than the reference after Holm")


class DipInfo(BaseModel):
    step: int
    value: float
    depth: float = Field(description="how much worse than the reference (positive = worse)")
    depth_ci_low: float
    depth_ci_high: float
    p_holm: float


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
    onset_step: int | None = Field(None, description="first checkpoint significantly worse (Holm)")
    recovery_step: int | None = None
    peak_step: int
    peak_value: float
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
    correction: str = "holm"
    variance: str = Field(description="how the sampling variance was obtained")
    verdicts: dict[str, Verdict] = Field(default_factory=dict, description="per-domain verdicts")
    series: list[Series]
    tokens: list[TokenPoint] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)

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
    """One task at one checkpoint: its value, the variance of that value, and item values if known."""

    value: float
    var: float
    n: int
    items: dict[str, float] | None = None
    hash: str | None = None


Obs = dict[str, TaskObs]  # task -> observation, for one series at one checkpoint


@dataclass(frozen=True)
class _Diff:
    delta: float
    se: float
    p_worse: float
    p_better: float


def _compare(x: Obs, y: Obs, higher_is_better: bool) -> _Diff | None:
    """``x - y`` over shared tasks (unweighted mean), paired over shared items where both have them."""
    deltas, variances, paired = [], [], []
    for t in sorted(set(x) & set(y)):
        a, b = x[t], y[t]
        if a.items is not None and b.items is not None:
            p = stats.pair_items(a.items, b.items)
            if p.n == 0:
                continue
            deltas.append(float(p.diff.mean()))
            variances.append(float(np.var(p.diff, ddof=1)) / p.n if p.n > 1 else 0.0)
            paired.append(p)
        else:
            deltas.append(a.value - b.value)
            variances.append(a.var + b.var)
    if not deltas:
        return None
    delta = float(np.mean(deltas))
    se = math.sqrt(sum(variances)) / len(deltas)
    worse, better = ("less", "greater") if higher_is_better else ("greater", "less")
    if len(deltas) == 1 and len(paired) == 1:
        # one task with per-item results: exact McNemar (binary) or paired t
        p = paired[0]
        return _Diff(delta, se, stats.paired_test(p.a, p.b, worse), stats.paired_test(p.a, p.b, better))
    return _Diff(delta, se, stats.z_test(delta, se, worse), stats.z_test(delta, se, better))


def _value(o: Obs) -> tuple[float, float, int]:
    """Unweighted mean over tasks, its variance, and the item count."""
    vals = [t.value for t in o.values()]
    var = sum(t.var for t in o.values()) / len(vals) ** 2
    return float(np.mean(vals)), var, sum(t.n for t in o.values())


# -- the detector ----------------------------------------------------------------------------------


def detect(
    name: str,
    kind: Literal["domain", "task"],
    domain: str,
    metric: Literal["score", "harmful_compliance", "over_refusal"],
    reference: tuple[int, Obs],
    checkpoints: Sequence[tuple[int, Obs]],
    alpha: float = 0.05,
) -> Series:
    """Dip-and-recovery analysis of one series (see the module docstring)."""
    higher = metric == "score"
    sign = 1.0 if higher else -1.0
    z = stats.z_critical(alpha)
    ref_step, ref_obs = reference
    ref_val, ref_var, _ = _value(ref_obs)
    points: list[StepPoint] = []
    diffs: list[_Diff | None] = []
    for step, obs in sorted(checkpoints, key=lambda c: c[0]):
        if not obs:
            continue
        v, var, n = _value(obs)
        d = _compare(obs, ref_obs, higher)
        diffs.append(d)
        points.append(StepPoint(step=step, value=v, ci_low=v - z * math.sqrt(var), ci_high=v + z * math.sqrt(var),
                                n=n, tasks=sorted(obs), delta=d.delta if d else None,
                                reference_value=_value({t: ref_obs[t] for t in obs if t in ref_obs})[0]
                                if set(obs) & set(ref_obs) else None,
                                delta_ci_low=d.delta - z * d.se if d else None,
                                delta_ci_high=d.delta + z * d.se if d else None,
                                p_worse=d.p_worse if d else None))
    if not points:
        raise CotbenchError(f"series {name}: no checkpoint besides the reference")
    tested = [i for i, d in enumerate(diffs) if d is not None]
    for i, adj in zip(tested, stats.holm([diffs[i].p_worse for i in tested]), strict=True):  # type: ignore[union-attr]
        points[i].p_worse_holm = adj
        points[i].dip = adj < alpha / 2
    ref_ci = (ref_val - z * math.sqrt(ref_var), ref_val + z * math.sqrt(ref_var))
    peak = max(points, key=lambda p: sign * p.value)
    series = Series(name=name, kind=kind, domain=domain, metric=metric, higher_is_better=higher,
                    reference_step=ref_step, reference_value=ref_val, reference_ci_low=ref_ci[0],
                    reference_ci_high=ref_ci[1], points=points, verdict="no-dip", peak_step=peak.step,
                    peak_value=peak.value, reading="")
    dips = [i for i, p in enumerate(points) if p.dip]
    if not dips:
        series.reading = "no checkpoint significantly worse than the reference"
        return series
    worst = min(dips, key=lambda i: sign * (points[i].delta or 0.0))
    wp, wd = points[worst], diffs[worst]
    assert wd is not None
    series.dip = DipInfo(step=wp.step, value=wp.value, depth=-sign * wd.delta,
                         depth_ci_low=-sign * wd.delta - z * wd.se, depth_ci_high=-sign * wd.delta + z * wd.se,
                         p_holm=wp.p_worse_holm or 0.0)
    series.onset_step = points[dips[0]].step
    series.recovery_step = next((p.step for p in points[worst + 1:] if p.p_worse is not None and p.p_worse >= alpha / 2),
                                None)
    last = points[-1]
    if last.p_worse is None or last.p_worse >= alpha / 2:
        series.verdict = "dip-recovered"
        series.reading = f"dipped at step {wp.step}, back at the reference by step {series.recovery_step}"
        return series
    # Still worse: rising if the latest checkpoint is significantly better than the dip. The dip is
    # the worst of several significant points, so the test is Bonferroni-corrected over them:
    # a flat plateau's lowest point is low partly by chance.
    candidates = max(1, sum(1 for i in dips if i != len(points) - 1))
    rising = worst != len(points) - 1 and (
        (r := _compare(_obs_at(checkpoints, last.step), _obs_at(checkpoints, wp.step), higher)) is not None
        and r.p_better < alpha / 2 / candidates)
    series.verdict = "in-dip" if rising else "degraded"
    series.reading = (f"below the reference since step {series.onset_step} but rising since step {wp.step}: "
                      "judged too early, keep training" if rising else
                      f"below the reference since step {series.onset_step} and not recovering")
    return series


def _obs_at(checkpoints: Sequence[tuple[int, Obs]], step: int) -> Obs:
    return next(o for s, o in checkpoints if s == step)


# -- sources: run directories ------------------------------------------------------------------------


def _task_obs(samples: list[SampleRecord], value: Callable[[SampleRecord], float | None], task_hash: str) -> TaskObs | None:
    items = stats.item_means(samples, value)
    if not items:
        return None
    vals = np.fromiter(items.values(), float)
    var = float(np.var(vals, ddof=1)) / len(vals) if len(vals) > 1 else 0.0
    return TaskObs(float(vals.mean()), var, len(vals), items, task_hash)


_METRICS = {"in_domain": "score", "transfer": "score", "general": "score",
            "safety_harmful": "harmful_compliance", "safety_benign": "over_refusal"}
_VALUES = {"score": rl.score, "harmful_compliance": rl.compliant, "over_refusal": rl.refused}


def _run_obs(run: LoadedRun) -> dict[tuple[str, str], TaskObs]:
    """(domain, task) -> observation of the domain's metric."""
    out = {}
    for name, info in run.tasks.items():
        metric = _METRICS[info.domain]
        o = _task_obs(run.samples[name], _VALUES[metric], info.hash)
        if o is not None:
            out[(info.domain, name)] = o
    return out


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
) -> Trajectory:
    """Trajectory of checkpoint runs; steps from each manifest (``model.step``) or ``steps``."""
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
    ref = load_run(reference) if reference is not None else min(loaded, key=lambda r: r.step)  # type: ignore[arg-type]
    if ref.step is None:  # a base model run has no training step: plot it at 0
        ref.step = 0
    checkpoints = [r for r in loaded if r is not ref and Path(r.path).resolve() != Path(ref.path).resolve()]
    seen: dict[int, str] = {}
    for r in checkpoints:
        if r.step in seen:
            raise CotbenchError(f"step {r.step} appears twice ({seen[r.step]} and {r.path})")
        seen[r.step] = r.path  # type: ignore[index]
    if not checkpoints:
        raise CotbenchError("trajectory needs at least one checkpoint besides the reference")
    warnings: list[str] = []
    ref_obs = _run_obs(ref)
    ck_obs: list[tuple[int, dict[tuple[str, str], TaskObs]]] = []
    for r in sorted(checkpoints, key=lambda r: r.step):  # type: ignore[arg-type, return-value]
        obs = _run_obs(r)
        for key in list(obs):
            if key in ref_obs and obs[key].hash != ref_obs[key].hash:
                warnings.append(f"step {r.step}: task {key[1]} has a different version/hash than the reference; "
                                "left out")
                del obs[key]
        ck_obs.append((r.step, obs))  # type: ignore[arg-type]
    tokens = _tokens(ref, ref.step) + [t for r in checkpoints for t in _tokens(r, r.step)]  # type: ignore[arg-type]
    labels = {r.label for r in loaded}
    if len(labels) > 1:
        warnings.append(f"checkpoints carry different model labels: {', '.join(sorted(labels))}")
    traj = _analyse(ref.step, ref_obs, ck_obs, alpha, "per-item results: paired tests over shared items",  # type: ignore[arg-type]
                    loaded[0].label, "runs", warnings)
    traj.tokens = sorted(tokens, key=lambda t: (t.domain, t.step))
    return traj


def _analyse(ref_step: int, ref_obs: dict[tuple[str, str], TaskObs],
             ck_obs: list[tuple[int, dict[tuple[str, str], TaskObs]]], alpha: float, variance: str,
             model: str, source: str, warnings: list[str]) -> Trajectory:
    series: list[Series] = []
    domains = sorted({d for d, _ in ref_obs}, key=lambda d: list(_METRICS).index(d))
    for dom in domains:
        metric = _METRICS[dom]
        tasks = sorted(t for d, t in ref_obs if d == dom)

        def pick(obs: dict[tuple[str, str], TaskObs], only: list[str], dom: str = dom) -> Obs:
            return {t: obs[(dom, t)] for t in only if (dom, t) in obs}

        ck = [(s, pick(o, tasks)) for s, o in ck_obs]
        if not any(o for _, o in ck):
            warnings.append(f"domain {dom}: no checkpoint has its tasks; left out")
            continue
        series.append(detect(dom, "domain", dom, metric, (ref_step, pick(ref_obs, tasks)), ck, alpha))  # type: ignore[arg-type]
        if len({tuple(sorted(o)) for _, o in ck if o}) > 1:
            warnings.append(f"domain {dom}: not every checkpoint has all of {', '.join(tasks)}; "
                            "each delta uses the tasks shared with the reference")
        for t in tasks:
            tck = [(s, pick(o, [t])) for s, o in ck_obs]
            if any(o for _, o in tck):
                series.append(detect(t, "task", dom, metric, (ref_step, pick(ref_obs, [t])), tck, alpha))  # type: ignore[arg-type]
    if not series:
        raise CotbenchError("no checkpoint shares a task (same version) with the reference; nothing to compare")
    extra = sorted({k for _, o in ck_obs for k in o} - set(ref_obs))
    for dom, t in extra:
        warnings.append(f"task {t} ({dom}) is missing at the reference step; not analysed")
    return Trajectory(model=model, source=source, reference_step=ref_step, steps=[s for s, _ in ck_obs],
                      alpha=alpha, variance=variance, series=series, warnings=warnings,
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
             icc: float = 1.0) -> Trajectory:
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
        given = "" if given is None or pd.isna(given) else str(given).strip()
        dom = given or infer_domain(task)
        if dom not in _METRICS:
            raise CotbenchError(f"{p}: unknown domain {dom!r} for task {task!r} (one of {', '.join(_METRICS)})")
        pr, n, k = float(scores[i]), int(ns[i]), int(ks[i])
        deff = (1 + (k - 1) * icc) / k
        key = (dom, task)
        if key in by_step[int(steps[i])]:
            raise CotbenchError(f"{p}: task {task!r} appears twice at step {int(steps[i])}")
        by_step[int(steps[i])][key] = TaskObs(pr, pr * (1 - pr) / n * deff, n)
    ref_step = min(by_step) if reference_step is None else reference_step
    if ref_step not in by_step:
        raise CotbenchError(f"{p}: no rows at reference step {ref_step}")
    ck = [(s, o) for s, o in sorted(by_step.items()) if s != ref_step]
    if not ck:
        raise CotbenchError(f"{p}: needs at least one step besides the reference step {ref_step}")
    variance = f"aggregate proportions: p(1-p)/n x (1+(k-1)*icc)/k with icc={icc}; checkpoints independent"
    return _analyse(ref_step, by_step[ref_step], ck, alpha, variance, p.stem, str(p), warnings)


def trajectory(runs: Sequence[RunLike] = (), reference: RunLike | None = None, scores: str | os.PathLike[str] | None = None,
               steps: Sequence[int] | None = None, alpha: float = 0.05) -> pd.DataFrame:
    """Python API: the trajectory as a DataFrame (see ``Trajectory.to_frame``)."""
    return compute_trajectory(runs, reference, scores, steps, alpha).to_frame()


def compute_trajectory(runs: Sequence[RunLike] = (), reference: RunLike | None = None,
                       scores: str | os.PathLike[str] | None = None, steps: Sequence[int] | None = None,
                       alpha: float = 0.05) -> Trajectory:
    """Either run directories or a ``--scores`` CSV, not both."""
    if scores is not None:
        if runs or reference is not None:
            raise CotbenchError("give either run directories or --scores FILE.csv, not both")
        return from_csv(scores, alpha=alpha)
    return from_runs(runs, reference, steps, alpha)


__all__ = ["CAPABILITY_DOMAINS", "Trajectory", "Series", "compute_trajectory", "trajectory", "from_runs",
           "from_csv", "detect", "infer_domain", "TaskObs"]
