"""Statistics shared by profile, trajectory, gate and leaderboard.

Conventions:
- The unit of analysis is the *item*: with k repeats per item, the item's value is the mean of
  its scored repeats (avg@k); unscored samples (score None) are dropped, never counted as 0.
- Differences are ``a - b`` (model minus reference); paired functions take aligned arrays.
- Intervals and tests on item values are score methods (:mod:`cotbench.analysis.score`): an
  interval is the set of values its test does not reject, so p-values and intervals agree.
- Two-sided tests and intervals at ``alpha = 0.05`` unless stated; ``alternative="less"`` asks
  whether ``a`` is below ``b``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from cotbench.analysis import score
from cotbench.errors import CotbenchError
from cotbench.results.aggregate import item_means  # per-item means, written once at the bottom of results/
from cotbench.results.schema import SampleRecord

Alternative = score.Alternative


# -- pairing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Paired:
    """Item values of two runs over the items both have scored, aligned by ``ids``."""

    ids: tuple[str, ...]
    a: np.ndarray
    b: np.ndarray

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def diff(self) -> np.ndarray:
        return self.a - self.b


def pair_items(a: Mapping[str, float], b: Mapping[str, float]) -> Paired:
    """Align two ``{sample_id: item value}`` maps over their shared ids (sorted for determinism)."""
    ids = tuple(sorted(set(a) & set(b)))
    return Paired(ids, np.array([a[i] for i in ids], dtype=float), np.array([b[i] for i in ids], dtype=float))


def pair_samples(
    a: Iterable[SampleRecord],
    b: Iterable[SampleRecord],
    value: Callable[[SampleRecord], float | None] = lambda s: s.score,
) -> Paired:
    """Pair two runs' samples of one task: item value = mean over its scored repeats."""
    return pair_items(item_means(a, value), item_means(b, value))


# -- intervals -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float


def z_critical(alpha: float = 0.05) -> float:
    """Two-sided normal critical value, e.g. 1.96 for alpha 0.05."""
    return float(sps.norm.ppf(1 - alpha / 2))


def paired_score(pairs: Sequence[Paired], alpha: float = 0.05,
                 alternative: Alternative = "two-sided") -> score.ScoreResult:
    """Score interval and p-value of the unweighted mean over tasks of paired item differences.

    The item values lie in [0, 1]; see :mod:`cotbench.analysis.score` (Tango's interval for 0/1
    items). Never zero-width: identical runs of 100 items give about +-3.7 points.
    """
    if not pairs or any(p.n == 0 for p in pairs):
        raise CotbenchError("paired score test needs at least one shared item in every task")
    return score.paired([p.a for p in pairs], [p.b for p in pairs], alpha, alternative)


def value_score(groups: Sequence[np.ndarray], alpha: float = 0.05) -> score.ScoreResult:
    """Score interval of one run's unweighted mean over tasks of item values in [0, 1] (Wilson's
    interval for one task of 0/1 items)."""
    return score.single(groups, alpha)


def stratified_t(diffs: Sequence[Sequence[float] | np.ndarray], alpha: float = 0.05) -> tuple[Interval, float] | None:
    """Student-t interval and two-sided p-value of the unweighted mean over tasks of mean paired
    differences of unbounded values (token counts), Welch-Satterthwaite df across tasks. ``None``
    when a task has fewer than two items; equal differences give a zero-width interval, which is
    the data's, not the method's: the caller labels it."""
    ds = [np.asarray(d, dtype=float) for d in diffs]
    if not ds or min(len(d) for d in ds) < 2:
        return None
    k = len(ds)
    m = float(np.mean([d.mean() for d in ds]))
    var = [float(d.var(ddof=1)) / len(d) for d in ds]
    se = math.sqrt(sum(var)) / k
    if se == 0:
        return Interval(m, m, m), (1.0 if m == 0 else 0.0)
    df = sum(var) ** 2 / sum(v * v / (len(d) - 1) for v, d in zip(var, ds, strict=True) if v > 0)
    t = float(sps.t.ppf(1 - alpha / 2, df))
    return Interval(m, m - t * se, m + t * se), float(2 * sps.t.sf(abs(m / se), df))


def paired_t(diff: Sequence[float] | np.ndarray, alpha: float = 0.05) -> tuple[Interval, float] | None:
    """:func:`stratified_t` of one task: the Student-t interval on n - 1 df."""
    return stratified_t([diff], alpha)


def wilson_cc(x: np.ndarray | float, n: np.ndarray | float, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson's continuity-corrected interval of ``x / n`` (Newcombe 1998, method 4); ``x`` may be fractional."""
    x, n = np.asarray(x, float), np.asarray(n, float)
    p = x / n
    den = 2 * (n + z * z)
    with np.errstate(invalid="ignore"):
        low = (2 * n * p + z * z - 1 - z * np.sqrt(np.maximum(z * z - 2 - 1 / n + 4 * p * (n * (1 - p) + 1), 0))) / den
        high = (2 * n * p + z * z + 1 + z * np.sqrt(np.maximum(z * z + 2 - 1 / n + 4 * p * (n * (1 - p) - 1), 0))) / den
    return np.where(p <= 0, 0.0, np.clip(low, 0, 1)), np.where(p >= 1, 1.0, np.clip(high, 0, 1))


def mover_interval(pa: np.ndarray, na: np.ndarray, pb: np.ndarray, nb: np.ndarray, alpha: float = 0.05,
                   deff: np.ndarray | float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Interval of the unweighted mean over tasks (last axis) of independent differences ``pa - pb``.

    For aggregate proportions without items (a trajectory CSV): Wilson continuity-corrected
    intervals of each proportion combined by MOVER (Newcombe's square-and-add, Zou and Donner
    2008). ``deff`` divides each n (the design effect of k correlated repeats per item).
    """
    z = z_critical(alpha)
    pa, pb = np.asarray(pa, float), np.asarray(pb, float)
    ea, eb = np.asarray(na, float) / deff, np.asarray(nb, float) / deff
    la, ua = wilson_cc(pa * ea, ea, z)
    lb, ub = wilson_cc(pb * eb, eb, z)
    k = np.shape(pa)[-1] if np.ndim(pa) else 1
    est = np.mean(pa - pb, axis=-1)
    down = np.sqrt(np.sum((pa - la) ** 2 + (ub - pb) ** 2, axis=-1)) / k
    up = np.sqrt(np.sum((ua - pa) ** 2 + (pb - lb) ** 2, axis=-1)) / k
    return est - down, est + up


def mover_p_below(pa: np.ndarray, na: np.ndarray, pb: np.ndarray, nb: np.ndarray,
                  deff: np.ndarray | float = 1.0, threshold: float = 0.0) -> float:
    """One-sided p-value that the mean of ``pa - pb`` is below ``threshold``, consistent with
    :func:`mover_interval`: the level at which the interval's upper one-sided bound reaches the
    threshold (bisection)."""

    def upper(one_sided: float) -> float:
        return float(mover_interval(pa, na, pb, nb, 2 * one_sided, deff)[1])

    lo_a, hi_a = 1e-12, 0.5
    if upper(hi_a) >= threshold:  # even the point estimate is not below
        return 1.0 if upper(hi_a) > threshold else 0.5
    if upper(lo_a) < threshold:
        return lo_a
    for _ in range(60):
        mid = 0.5 * (lo_a + hi_a)
        if upper(mid) < threshold:
            hi_a = mid
        else:
            lo_a = mid
    return 0.5 * (lo_a + hi_a)


def max_t_adjust(p_one_sided: Sequence[float], corr: np.ndarray, draws: int = 20_000, seed: int = 0) -> list[float]:
    """Single-step max-T adjusted p-values (Westfall and Young) for correlated one-sided tests.

    ``corr`` is the correlation of the test statistics (e.g. checkpoints compared with one shared
    reference: about 0.5). ``P(max_j Z_j >= z_i)`` under a normal with that correlation, from a
    seeded simulation (Monte Carlo error about 0.0015 at p = 0.05). Controls the family-wise
    error like Holm, but gains the power Holm gives away by ignoring the correlation.
    """
    p = np.clip(np.asarray(p_one_sided, dtype=float), 1e-300, 1.0)
    m = len(p)
    if m == 0:
        return []
    if m == 1:
        return p.tolist()
    w, v = np.linalg.eigh((np.asarray(corr, float) + np.asarray(corr, float).T) / 2)
    root = v * np.sqrt(np.clip(w, 0.0, None))  # nearest PSD factor: estimated correlations may be slightly off
    rng = np.random.default_rng(seed)
    mx = np.sort((rng.standard_normal((draws, m)) @ root.T).max(axis=1))
    z = sps.norm.isf(p)
    exceed = draws - np.searchsorted(mx, z, side="left")
    return np.minimum(1.0, np.maximum(p, (exceed + 1) / (draws + 1))).tolist()


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (family-wise error control, any dependence)."""
    p = np.asarray(pvalues, dtype=float)
    m = len(p)
    order = np.argsort(p, kind="stable")
    adj = np.empty(m)
    running = 0.0
    for rank, idx in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[idx]))
        adj[idx] = running
    return adj.tolist()


# -- minimum detectable effect --------------------------------------------------------------------


def _z_sum(alpha: float, power: float) -> float:
    return z_critical(alpha) + float(sps.norm.ppf(power))


def mde_paired(sd_diff: float, n: int, alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest true mean difference a two-sided paired test detects with ``power``:
    ``(z_{1-alpha/2} + z_{power}) * sd_diff / sqrt(n)``.
    """
    if n <= 0:
        return float("inf")
    return _z_sum(alpha, power) * sd_diff / math.sqrt(n)


def mde_two_sample(sd_a: float, n_a: int, sd_b: float, n_b: int,
                   alpha: float = 0.05, power: float = 0.8) -> float:
    """MDE for a difference of two independent means: ``(z_a + z_b) * sqrt(sd_a²/n_a + sd_b²/n_b)``."""
    if n_a <= 0 or n_b <= 0:
        return float("inf")
    return _z_sum(alpha, power) * math.sqrt(sd_a**2 / n_a + sd_b**2 / n_b)


def mde_proportion(p: float, n_a: int, n_b: int | None = None, alpha: float = 0.05, power: float = 0.8) -> float:
    """MDE of a difference of two proportions near ``p`` (independent samples; ``n_b`` defaults to ``n_a``)."""
    sd = math.sqrt(max(p * (1 - p), 0.0))
    return mde_two_sample(sd, n_a, sd, n_b if n_b is not None else n_a, alpha, power)


def mde_for_pairs(a: np.ndarray, b: np.ndarray, alpha: float = 0.05, power: float = 0.8) -> float:
    """MDE for paired item values, from the observed SD of the differences.

    With fewer than two items, or no observed variation in the differences (e.g. identical
    runs), the SD is unknown; we fall back to the independent-proportions bound at the pooled
    mean, which over-states the MDE for positively correlated pairs (a cautious reading).
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    n = len(a)
    d = a - b
    if n >= 2 and float(np.std(d, ddof=1)) > 0:
        return mde_paired(float(np.std(d, ddof=1)), n, alpha, power)
    p = float(np.clip(np.mean(np.concatenate([a, b])) if n else 0.5, 0.0, 1.0))
    return mde_proportion(p, n, n, alpha, power)
