"""Score tests and score intervals for means of bounded item values, stratified by task.

One method serves every comparison cotbench makes on item values (0/1 items, avg@k means,
partial credit; paired differences in [-1, 1] or single values in [0, 1]):

- For a null mean ``mu0`` each stratum's variance is taken from the **restricted maximum-
  likelihood fit**: the distribution on the observed values plus the two bounds that is most
  likely among those whose mean is ``mu0`` (the empirical-likelihood fit, with the bounds as
  extra support points). On 0/1 pairs this is exactly Tango's (1998) score test for paired
  proportions; on single 0/1 values it is the Wilson score test.
- The statistic for a stratified mean (the unweighted mean over tasks of per-task means) is
  ``Z(mu0) = (mean - mu0) / sqrt(sum_s V_s(mu0) / n_s) * S`` with ``S`` strata; intervals
  are the ``mu0`` where ``|Z| <= z``, found by bisection.

Why not a bootstrap or a t-test: with no disagreements every resample (and the sample
variance) is 0, which reads as certainty. The restricted fit puts the mass the null needs on
the bound (e.g. "1% of items lost"), so zero observed variance still gives an honest width:
identical runs of 100 items give about (-3.7, +3.7) points, never (0, 0).

Every function is vectorised over replicates (rows of ``counts``) so the simulation
benchmarks run the same code as the product.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
from scipy import optimize
from scipy import stats as sps

from cotbench.errors import CotbenchError

Alternative = Literal["two-sided", "less", "greater"]
_EPS = 1e-12
_NEWTON_STEPS = 60
_BISECT_STEPS = 48


@dataclass(frozen=True)
class Stratum:
    """Item values of one task as distinct ``values`` (J,) with ``counts`` (R, J) per replicate."""

    values: np.ndarray
    counts: np.ndarray

    @cached_property
    def n(self) -> np.ndarray:
        return self.counts.sum(axis=1)

    @cached_property
    def mean(self) -> np.ndarray:
        return self.counts @ self.values / self.n


def stratum(x: Sequence[float] | np.ndarray) -> Stratum:
    """One replicate of item values as a stratum."""
    x = np.asarray(x, dtype=float)
    if x.size == 0:
        raise CotbenchError("a score test needs at least one item in every task")
    values, counts = np.unique(x, return_counts=True)
    return Stratum(values, counts[None, :].astype(float))


def null_variance(s: Stratum, mu0: np.ndarray | float, lo: float, hi: float) -> np.ndarray:
    """Per-item variance (R,) under the restricted ML fit with mean ``mu0`` on support within [lo, hi].

    Weights are ``p_j = c_j / (n (1 + lam u_j))`` with ``u_j = v_j - mu0``; ``lam`` solves
    ``sum_j c_j u_j / (1 + lam u_j) = 0`` inside ``[-1/(hi - mu0), 1/(mu0 - lo)]``. When no root
    lies there the data cannot reach ``mu0`` on their own support and the bound on the far side
    takes the missing mass (the KKT condition for an unobserved support point).
    """
    c = s.counts
    r = c.shape[0]
    if r == 1 and np.ndim(mu0) == 0:
        return np.array([_null_variance_one(s.values, c[0], float(mu0), lo, hi)])
    mu = np.clip(np.broadcast_to(np.asarray(mu0, float), (r,)), lo + _EPS, hi - _EPS)  # (R,)
    n = c.sum(axis=1)
    u = s.values[None, :] - mu[:, None]  # (R, J)
    lam_hi = 1.0 / (mu - lo)  # mass at the lower bound
    lam_lo = -1.0 / (hi - mu)  # mass at the upper bound
    obs = c > 0

    def g(lam: np.ndarray) -> np.ndarray:
        den = 1.0 + lam[:, None] * u
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(obs, c * u / den, 0.0)
        return terms.sum(axis=1)

    at_lo = obs & (np.abs(s.values[None, :] - lo) < _EPS)
    at_hi = obs & (np.abs(s.values[None, :] - hi) < _EPS)
    # g decreases in lam; an observed point at a bound sends g to -inf/+inf at that end.
    g_hi = np.where(at_lo.any(axis=1), -np.inf, g(lam_hi * (1 - 1e-15)))
    g_lo = np.where(at_hi.any(axis=1), np.inf, g(lam_lo * (1 - 1e-15)))
    lam = np.where(g_hi >= 0, lam_hi, np.where(g_lo <= 0, lam_lo, 0.0))
    interior = (g_hi < 0) & (g_lo > 0)
    if interior.any():
        a, b = lam_lo[interior], lam_hi[interior]
        ui, ci, oi = u[interior], c[interior], obs[interior]
        x = np.zeros_like(a)
        for _ in range(_NEWTON_STEPS):
            den = 1.0 + x[:, None] * ui
            with np.errstate(divide="ignore", invalid="ignore"):
                f = np.where(oi, ci * ui / den, 0.0).sum(axis=1)
                df = -np.where(oi, ci * ui * ui / (den * den), 0.0).sum(axis=1)
            a = np.where(f > 0, x, a)  # root lies above x
            b = np.where(f < 0, x, b)
            with np.errstate(divide="ignore", invalid="ignore"):
                step = x - f / df
            ok = np.isfinite(step) & (step > a) & (step < b)
            new = np.where(ok, step, 0.5 * (a + b))
            if np.all(np.abs(new - x) <= 1e-14 * (1 + np.abs(x))):
                x = new
                break
            x = new
        lam[interior] = x
    den = 1.0 + lam[:, None] * u
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(obs, c / (n[:, None] * den), 0.0)
    var = (p * u * u).sum(axis=1)
    rest = np.clip(1.0 - p.sum(axis=1), 0.0, 1.0)  # mass the fit put on an unobserved bound
    edge = np.where(lam > 0, (lo - mu) ** 2, (hi - mu) ** 2)
    return var + rest * edge


def _null_variance_one(values: np.ndarray, counts: np.ndarray, mu0: float, lo: float, hi: float) -> float:
    """:func:`null_variance` for one replicate in plain floats (the product's path: numpy's per-call
    overhead dominates on a handful of support points). Same fit, same result."""
    mu0 = min(max(mu0, lo + _EPS), hi - _EPS)
    seen = {float(v): float(c) for v, c in zip(values, counts, strict=True) if c > 0}
    if seen.keys() <= {lo, hi}:  # only the bounds: the fit is the two-point law with mean mu0 (Wilson)
        return (mu0 - lo) * (hi - mu0)
    if (lo, hi) == (-1.0, 1.0) and seen.keys() <= {-1.0, 0.0, 1.0}:  # paired 0/1 items: Tango's closed form
        n = sum(seen.values())
        gain, loss = seen.get(1.0, 0.0) / n, seen.get(-1.0, 0.0) / n
        b = mu0 * (2 - gain + loss) - (gain + loss)
        c = -loss * mu0 * (1 - mu0)
        q = (-b + math.sqrt(max(b * b - 8 * c, 0.0))) / 4
        return 2 * q + mu0 * (1 - mu0)
    pts = [(v - mu0, c) for v, c in seen.items()]
    n = sum(c for _, c in pts)
    lam_hi, lam_lo = 1.0 / (mu0 - lo), -1.0 / (hi - mu0)

    def g(lam: float) -> float:
        return sum(c * u / (1.0 + lam * u) for u, c in pts)

    has_lo = any(abs(u + mu0 - lo) < _EPS for u, _ in pts)
    has_hi = any(abs(u + mu0 - hi) < _EPS for u, _ in pts)
    g_hi = -math.inf if has_lo else g(lam_hi * (1 - 1e-15))
    g_lo = math.inf if has_hi else g(lam_lo * (1 - 1e-15))
    if g_hi >= 0:
        lam = lam_hi
    elif g_lo <= 0:
        lam = lam_lo
    else:
        a, b, lam = lam_lo, lam_hi, 0.0
        for _ in range(_NEWTON_STEPS):
            f = sum(c * u / (1.0 + lam * u) for u, c in pts)
            df = -sum(c * u * u / (1.0 + lam * u) ** 2 for u, c in pts)
            if f > 0:
                a = lam
            elif f < 0:
                b = lam
            else:
                break
            step = lam - f / df if df != 0 else math.nan
            new = step if a < step < b else 0.5 * (a + b)
            if abs(new - lam) <= 1e-14 * (1 + abs(lam)):
                lam = new
                break
            lam = new
    weights = [c / (n * (1.0 + lam * u)) if 1.0 + lam * u > 0 else 0.0 for u, c in pts]
    var = sum(w * u * u for w, (u, _) in zip(weights, pts, strict=True))
    rest = min(max(1.0 - sum(weights), 0.0), 1.0)
    edge = (lo - mu0) ** 2 if lam > 0 else (hi - mu0) ** 2
    return var + rest * edge


def _z_one(strata: Sequence[Stratum], mu0: float, lo: float, hi: float, continuity: bool,
           step: float | None = None) -> float:
    k = len(strata)
    est = sum(float(s.mean[0]) for s in strata) / k
    var = sum(_null_variance_one(s.values, s.counts[0], mu0, lo, hi) / float(s.n[0]) for s in strata) / k**2
    num = est - mu0
    if continuity:
        step = float(lattice_step(strata, lo, hi)[0]) if step is None else step
        num = math.copysign(max(abs(num) - 0.5 * step, 0.0), num)
    if var > 0:
        return num / math.sqrt(var)
    return 0.0 if num == 0 else math.copysign(math.inf, num)


def lattice_step(strata: Sequence[Stratum], lo: float, hi: float) -> np.ndarray:
    """Smallest step (R,) the stratified mean can take: the finest gap between a task's support
    values (bounds included) over its items, over the number of tasks."""
    steps = []
    for s in strata:
        r = s.counts.shape[0]
        prev = np.full(r, lo)
        gap = np.full(r, hi - lo)
        for j, v in enumerate(s.values):  # consecutive observed values, per replicate
            seen = s.counts[:, j] > 0
            if lo < v < hi:
                gap = np.where(seen, np.minimum(gap, v - prev), gap)
                prev = np.where(seen, v, prev)
        steps.append(np.minimum(gap, hi - prev) / s.n)
    return np.min(steps, axis=0) / len(strata)


def z_stat(strata: Sequence[Stratum], mu0: np.ndarray | float, lo: float, hi: float,
           continuity: bool = False) -> np.ndarray:
    """``Z(mu0)`` (R,) for the unweighted mean over strata; 0 where both numerator and variance vanish.

    ``continuity`` shrinks the numerator by half a lattice step (Yates): with it the one-run
    interval is Wilson's continuity-corrected interval on 0/1 items, which keeps its coverage
    near 0% and 100%, where the uncorrected one falls to 92% (``benchmarks/ci_coverage.py``).
    """
    if all(s.counts.shape[0] == 1 for s in strata) and np.ndim(mu0) == 0:
        return np.array([_z_one(strata, float(mu0), lo, hi, continuity)])
    k = len(strata)
    est = sum(s.mean for s in strata) / k
    var = sum(null_variance(s, mu0, lo, hi) / s.n for s in strata) / k**2
    num = est - np.asarray(mu0, float)
    if continuity:
        num = np.sign(num) * np.maximum(np.abs(num) - 0.5 * lattice_step(strata, lo, hi), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(var > 0, num / np.sqrt(var), np.where(num == 0, 0.0, np.sign(num) * np.inf))
    return z


def dof(strata: Sequence[Stratum]) -> np.ndarray:
    """Degrees of freedom (R,) of the t reference: items minus tasks, at least 1."""
    return np.maximum(1.0, sum(s.n for s in strata) - len(strata))


def critical(strata: Sequence[Stratum], level: float) -> np.ndarray:
    """The ``level`` quantile (R,) of the reference distribution, e.g. 0.975 for a 95% interval."""
    return np.asarray(sps.t.ppf(level, dof(strata)))


def p_value(strata: Sequence[Stratum], mu0: float, lo: float, hi: float,
            alternative: Alternative = "two-sided", continuity: bool = False) -> np.ndarray:
    """p-value (R,) of H0: mean = ``mu0``; ``less`` asks whether the true mean is below ``mu0``.

    The score statistic is referred to Student's t with ``items - tasks`` degrees of freedom:
    a small-sample correction (the normal reference left the 95% interval at 93.9% coverage in
    the worst cell of ``benchmarks/ci_coverage.py``; t brings every cell to at least 94%).
    """
    z = z_stat(strata, mu0, lo, hi, continuity)
    df = dof(strata)
    if alternative == "less":
        return np.asarray(sps.t.cdf(z, df))
    if alternative == "greater":
        return np.asarray(sps.t.sf(z, df))
    return np.minimum(1.0, 2 * sps.t.sf(np.abs(z), df))


def interval(strata: Sequence[Stratum], lo: float, hi: float, z: float | np.ndarray,
             continuity: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Bounds (R,) of ``{mu0 : -z <= Z(mu0) <= z}``; ``z`` from :func:`critical`."""
    k = len(strata)
    est = np.asarray(sum(s.mean for s in strata) / k)

    def solve(a: np.ndarray, b: np.ndarray, target: float | np.ndarray) -> np.ndarray:
        # Z decreases in mu0: find Z(mu0) = target between a (Z above) and b (Z below).
        for _ in range(_BISECT_STEPS):
            mid = 0.5 * (a + b)
            above = z_stat(strata, mid, lo, hi, continuity) > target
            a, b = np.where(above, mid, a), np.where(above, b, mid)
        return 0.5 * (a + b)

    r = est.shape[0]
    if r == 1:  # one replicate (the product): Brent's method needs far fewer evaluations
        zz = float(np.asarray(z).ravel()[0])
        e = float(est[0])

        step = float(lattice_step(strata, lo, hi)[0]) if continuity else None

        def f(mu0: float, target: float) -> float:
            return _z_one(strata, mu0, lo, hi, continuity, step) - target

        def root(a: float, b: float, target: float) -> float:
            fa, fb = f(a, target), f(b, target)
            if fa <= 0:  # Z never rises above the target inside: the bound is the edge
                return lo if a - lo < 1e-9 else a
            if fb >= 0:
                return hi if hi - b < 1e-9 else b
            return float(optimize.brentq(f, a, b, args=(target,), xtol=1e-9))

        return (np.array([max(lo, root(lo + _EPS, e, zz))]), np.array([min(hi, root(e, hi - _EPS, -zz))]))
    low = solve(np.full(r, lo), est.copy(), z)
    high = solve(est.copy(), np.full(r, hi), -z)
    return np.maximum(low, lo), np.minimum(high, hi)


def n_needed(strata: Sequence[Stratum], margin: float, z_alpha: float, z_power: float,
             lo: float = -1.0, hi: float = 1.0) -> np.ndarray:
    """Total items (R,) for the non-inferiority test at ``-margin`` to pass with the given power if
    the true difference is 0, keeping the tasks' proportions and each task's variances.

    The variance under the null comes from the restricted fit at ``-margin``; under the
    alternative from the observed spread, floored by the null's zero-difference fit, so that no
    observed disagreement never means "one item is enough".
    """
    k = len(strata)
    v0 = sum(null_variance(s, -margin, lo, hi) / s.n for s in strata) / k**2
    v1 = sum(np.maximum(_sample_var(s), 0.0) / s.n for s in strata) / k**2
    total = sum(s.n for s in strata)
    f = ((z_alpha * np.sqrt(v0) + z_power * np.sqrt(v1)) / margin) ** 2
    return np.maximum(1, np.ceil(f * total - 1e-9)).astype(int)


def _sample_var(s: Stratum) -> np.ndarray:
    m = s.mean
    n = s.n
    ss = (s.counts * (s.values[None, :] - m[:, None]) ** 2).sum(axis=1)
    return np.where(n > 1, ss / np.maximum(n - 1, 1), 0.0)


# -- scalar conveniences for the product (one replicate) --------------------------------------------


@dataclass(frozen=True)
class ScoreResult:
    estimate: float
    low: float
    high: float
    p_value: float
    n: int


def _strata(groups: Sequence[Sequence[float] | np.ndarray]) -> list[Stratum]:
    if not groups:
        raise CotbenchError("a score test needs at least one task")
    return [stratum(g) for g in groups]


def score_estimate(groups: Sequence[Sequence[float] | np.ndarray], lo: float, hi: float, alpha: float = 0.05,
                   alternative: Alternative = "two-sided", mu0: float = 0.0, continuity: bool = False) -> ScoreResult:
    """Stratified mean of ``groups`` (one array per task) with its two-sided ``1 - alpha`` score
    interval and the p-value of H0: mean = ``mu0``."""
    st = _strata(groups)
    est = float(sum(s.mean[0] for s in st) / len(st))
    low, high = interval(st, lo, hi, critical(st, 1 - alpha / 2), continuity)
    p = float(p_value(st, mu0, lo, hi, alternative, continuity)[0])
    return ScoreResult(est, float(low[0]), float(high[0]), p, int(sum(s.n[0] for s in st)))


def paired(groups_a: Sequence[np.ndarray], groups_b: Sequence[np.ndarray], alpha: float = 0.05,
           alternative: Alternative = "two-sided") -> ScoreResult:
    """``mean(a) - mean(b)`` over paired items (values in [0, 1]), stratified by task."""
    diffs = [np.asarray(a, float) - np.asarray(b, float) for a, b in zip(groups_a, groups_b, strict=True)]
    return score_estimate(diffs, -1.0, 1.0, alpha, alternative)


def single(groups: Sequence[np.ndarray], alpha: float = 0.05) -> ScoreResult:
    """Mean of item values in [0, 1]: Wilson's continuity-corrected interval for one task of 0/1 items."""
    return score_estimate(groups, 0.0, 1.0, alpha, continuity=True)


__all__ = [
    "Stratum",
    "stratum",
    "null_variance",
    "z_stat",
    "p_value",
    "dof",
    "critical",
    "interval",
    "n_needed",
    "ScoreResult",
    "score_estimate",
    "paired",
    "single",
]
