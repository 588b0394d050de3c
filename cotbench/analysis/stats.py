"""Statistics shared by profile, trajectory, gate and leaderboard.

Conventions:
- The unit of analysis is the *item*: with k repeats per item, the item's value is the mean of
  its scored repeats (avg@k); unscored samples (score None) are dropped, never counted as 0.
- Differences are ``a - b`` (model minus reference); paired functions take aligned arrays.
- Every random draw comes from a seeded ``numpy.random.Generator``, so results reproduce.
- Two-sided tests and intervals at ``alpha = 0.05`` unless stated; ``alternative="less"`` asks
  whether ``a`` is below ``b``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats as sps

from cotbench.errors import CotbenchError
from cotbench.results.schema import SampleRecord

Alternative = Literal["two-sided", "less", "greater"]

DEFAULT_N_BOOT = 10_000
DEFAULT_SEED = 20260101
_BOOT_CHUNK = 2_000_000  # resampled values held in memory at once


# -- pairing -------------------------------------------------------------------------------------


def item_means(
    samples: Iterable[SampleRecord],
    value: Callable[[SampleRecord], float | None] = lambda s: s.score,
) -> dict[str, float]:
    """Per-item mean of ``value`` over the item's repeats, skipping repeats where it is None.

    ``value`` defaults to the score; pass e.g. ``lambda s: None if s.score is None else
    float(s.label == "full_compliance")`` for a label rate.
    """
    acc: dict[str, list[float]] = defaultdict(list)
    for s in samples:
        v = value(s)
        if v is not None:
            acc[s.sample_id].append(float(v))
    return {k: sum(v) / len(v) for k, v in acc.items()}


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


def wilson_interval(successes: float, n: int, alpha: float = 0.05) -> Interval:
    """Wilson score interval for a proportion (``successes`` may be fractional, e.g. avg@k)."""
    if n <= 0:
        raise CotbenchError("Wilson interval needs at least one observation")
    if not 0 <= successes <= n:
        raise CotbenchError(f"Wilson interval: successes {successes} outside 0..{n}")
    p, z = successes / n, z_critical(alpha)
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half))


def newcombe_paired_ci(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray,
                       alpha: float = 0.05) -> Interval:
    """CI of ``mean(a) - mean(b)`` for paired binary outcomes: Newcombe (1998) method 10.

    Combines the Wilson intervals of the two marginal proportions with their phi correlation.
    Unlike a bootstrap it stays informative at 0% or 100% (e.g. no compliance in either run
    still gives an interval as wide as the sample size warrants).
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    n = len(a)
    if n == 0 or len(b) != n:
        raise CotbenchError("paired interval needs two equally long, non-empty samples")
    n11 = int(((a == 1) & (b == 1)).sum())
    n10 = int(((a == 1) & (b == 0)).sum())
    n01 = int(((a == 0) & (b == 1)).sum())
    n00 = n - n11 - n10 - n01
    w1, w2 = wilson_interval(n11 + n10, n, alpha), wilson_interval(n11 + n01, n, alpha)
    p1, p2 = w1.estimate, w2.estimate
    denom = (n11 + n10) * (n01 + n00) * (n11 + n01) * (n10 + n00)
    phi = (n11 * n00 - n10 * n01) / math.sqrt(denom) if denom > 0 else 0.0
    lo = math.sqrt(max(0.0, (p1 - w1.low) ** 2 - 2 * phi * (p1 - w1.low) * (w2.high - p2) + (w2.high - p2) ** 2))
    hi = math.sqrt(max(0.0, (w1.high - p1) ** 2 - 2 * phi * (w1.high - p1) * (p2 - w2.low) + (p2 - w2.low) ** 2))
    d = p1 - p2
    return Interval(d, max(-1.0, d - lo), min(1.0, d + hi))


def bootstrap_means(values: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """``n_boot`` means of resamples (with replacement) of ``values``; chunked to bound memory."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    if n == 0:
        raise CotbenchError("cannot bootstrap an empty sample")
    out = np.empty(n_boot)
    step = max(1, _BOOT_CHUNK // n)
    for start in range(0, n_boot, step):
        stop = min(n_boot, start + step)
        out[start:stop] = values[rng.integers(0, n, size=(stop - start, n))].mean(axis=1)
    return out


def paired_bootstrap_ci(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    alpha: float = 0.05,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int | np.random.Generator = DEFAULT_SEED,
) -> Interval:
    """Percentile bootstrap CI of ``mean(a - b)`` resampling items (pairs stay together)."""
    return stratified_bootstrap_ci([np.asarray(a, float) - np.asarray(b, float)], alpha, n_boot, seed)


def stratified_bootstrap_ci(
    diffs: Sequence[np.ndarray],
    alpha: float = 0.05,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int | np.random.Generator = DEFAULT_SEED,
) -> Interval:
    """CI of the *unweighted mean over strata* of per-stratum mean differences.

    Used for domain scores (each task weighs the same): items are resampled within each
    task, so tasks of different sizes neither mix nor outweigh one another.
    """
    if not diffs or any(len(d) == 0 for d in diffs):
        raise CotbenchError("bootstrap needs at least one paired item in every stratum")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    boots = np.mean([bootstrap_means(np.asarray(d, float), n_boot, rng) for d in diffs], axis=0)
    est = float(np.mean([np.mean(d) for d in diffs]))
    lo, hi = np.quantile(boots, [alpha / 2, 1 - alpha / 2])
    return Interval(est, float(lo), float(hi))


# -- tests ---------------------------------------------------------------------------------------


def binomial_test(successes: int, n: int, p: float = 0.5, alternative: Alternative = "two-sided") -> float:
    """Exact binomial test p-value (1.0 when ``n == 0``)."""
    if n == 0:
        return 1.0
    return float(sps.binomtest(int(successes), int(n), p, alternative=alternative).pvalue)


def mcnemar_exact(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray,
                  alternative: Alternative = "two-sided") -> float:
    """Exact McNemar test for paired binary outcomes (``a`` vs ``b``, values 0/1).

    Only discordant pairs count: with ``n10`` items right in ``a`` only and ``n01`` right in
    ``b`` only, ``n10 ~ Binomial(n10 + n01, 1/2)`` under no difference.
    ``alternative="less"`` tests whether ``a`` is worse than ``b``.
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    if not (np.isin(a, (0.0, 1.0)).all() and np.isin(b, (0.0, 1.0)).all()):
        raise CotbenchError("McNemar's test needs binary (0/1) outcomes")
    n10 = int(((a == 1) & (b == 0)).sum())
    n01 = int(((a == 0) & (b == 1)).sum())
    return binomial_test(n10, n10 + n01, 0.5, alternative)


def z_test(estimate: float, se: float, alternative: Alternative = "two-sided") -> float:
    """Normal-approximation p-value of ``estimate`` against 0 given its standard error.

    A zero standard error means no sampling noise: the p-value is 0 or 1 by the sign.
    """
    if se <= 0 or not math.isfinite(se):
        below, above = estimate < 0, estimate > 0
        if alternative == "less":
            return 0.0 if below else 1.0
        if alternative == "greater":
            return 0.0 if above else 1.0
        return 0.0 if (below or above) else 1.0
    z = estimate / se
    if alternative == "less":
        return float(sps.norm.cdf(z))
    if alternative == "greater":
        return float(sps.norm.sf(z))
    return float(2 * sps.norm.sf(abs(z)))


def paired_test(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray,
                alternative: Alternative = "two-sided") -> float:
    """p-value for ``mean(a) - mean(b)`` over paired items.

    Binary items (greedy, k=1) use the exact McNemar test; otherwise a paired t-test on the
    item differences (avg@k item means are not binary).
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) != len(b):
        raise CotbenchError("paired test needs arrays of equal length")
    if len(a) == 0:
        return 1.0
    if np.isin(a, (0.0, 1.0)).all() and np.isin(b, (0.0, 1.0)).all():
        return mcnemar_exact(a, b, alternative)
    d = a - b
    if len(d) < 2 or np.std(d) == 0:
        return z_test(float(d.mean()), 0.0, alternative)
    return float(sps.ttest_1samp(d, 0.0, alternative=alternative).pvalue)


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
