"""Non-inferiority tests on paired item values: the statistics behind each gate rule.

Values are oriented so that higher is better (the caller maps lower-is-better metrics
``v -> 1 - v``); ``d = candidate - baseline`` and a regression is ``d < 0``.

Each rule asks two one-sided questions at level ``alpha``:

- non-inferiority, H0: ``d <= -margin``; rejecting it means the candidate is within the margin;
- regression, H0: ``d >= 0``; rejecting it means the candidate is significantly worse.

Single-task binary items (greedy, k=1) use Tango's score test for paired proportions (with
its score interval) and the exact McNemar test; anything else (avg@k, partial credit, means
over several tasks) uses a percentile paired bootstrap, stratified by task, with a paired
t-test on the same stratified mean for the regression question.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import optimize
from scipy import stats as sps

from cotbench.analysis.stats import bootstrap_means, mcnemar_exact
from cotbench.errors import CotbenchError

Method = Literal["tango-score", "paired-bootstrap"]
Decision = Literal["pass", "fail", "inconclusive"]


@dataclass(frozen=True)
class NonInferiority:
    """Outcome of one paired comparison (oriented: positive ``estimate`` = candidate better)."""

    method: Method
    n: int
    estimate: float
    low: float
    high: float
    p_noninferior: float
    p_regression: float
    n_needed: int | None


def _z(p: float) -> float:
    return float(sps.norm.ppf(p))


def _is_binary(x: np.ndarray) -> bool:
    return bool(np.isin(x, (0.0, 1.0)).all())


# -- Tango's score test for a difference of paired proportions ---------------------------------


def _null_loss_rate(gain: float, loss: float, delta0: float) -> float:
    """Maximum-likelihood P(loss) under H0: P(gain) - P(loss) = delta0, given the observed gain
    and loss proportions (the root of a quadratic; Tango 1998)."""
    b = delta0 * (2 - gain + loss) - (gain + loss)
    c = -loss * delta0 * (1 - delta0)
    return (-b + math.sqrt(max(b * b - 8 * c, 0.0))) / 4


def _tango_z(gains: int, losses: int, n: int, delta0: float) -> float:
    """Score statistic for H0: p_cand - p_base = delta0, from discordant counts.

    ``gains`` = items right only for the candidate, ``losses`` = right only for the baseline.
    """
    q = _null_loss_rate(gains / n, losses / n, delta0)
    var = n * (2 * q + delta0 * (1 - delta0))
    num = gains - losses - n * delta0
    if var <= 1e-300:
        return math.copysign(math.inf, num) if num else 0.0
    return num / math.sqrt(var)


def _tango_interval(gains: int, losses: int, n: int, alpha: float) -> tuple[float, float]:
    """Two-sided (1 - 2 alpha) score interval, i.e. the two one-sided (1 - alpha) bounds."""
    z = _z(1 - alpha)
    est = (gains - losses) / n
    eps = 1e-9

    def bound(target: float, lo: float, hi: float, edge: float) -> float:
        f = lambda d0: _tango_z(gains, losses, n, d0) - target  # noqa: E731
        if f(lo) * f(hi) > 0:
            return edge
        return float(optimize.brentq(f, lo, hi, xtol=1e-10))

    low = bound(z, -1 + eps, est, -1.0) if est > -1 + eps else -1.0
    high = bound(-z, est, 1 - eps, 1.0) if est < 1 - eps else 1.0
    return low, high


def _tango_n_needed(discordance: float, margin: float, alpha: float, power: float) -> int | None:
    """Items for the score test to show non-inferiority with ``power`` if the models are truly
    equal and disagree on a fraction ``discordance`` of items (normal approximation)."""
    if margin <= 0:
        return None
    q = _null_loss_rate(discordance / 2, discordance / 2, -margin)
    sd0 = math.sqrt(max(2 * q - margin * (1 + margin), 1e-12))
    sd1 = math.sqrt(discordance)
    return max(1, math.ceil(((_z(1 - alpha) * sd0 + _z(power) * sd1) / margin) ** 2))


def tango_noninferiority(cand: np.ndarray, base: np.ndarray, margin: float, alpha: float = 0.05,
                         power: float = 0.8, with_interval: bool = True) -> NonInferiority:
    """Non-inferiority of paired binary outcomes (Tango 1998) plus an exact McNemar regression test."""
    n = len(cand)
    gains = int(((cand == 1) & (base == 0)).sum())
    losses = int(((cand == 0) & (base == 1)).sum())
    est = (gains - losses) / n
    p_ni = float(sps.norm.sf(_tango_z(gains, losses, n, -margin)))
    p_reg = mcnemar_exact(cand, base, alternative="less")
    low, high = _tango_interval(gains, losses, n, alpha) if with_interval else (math.nan, math.nan)
    return NonInferiority("tango-score", n, est, low, high, p_ni, p_reg,
                          _tango_n_needed((gains + losses) / n, margin, alpha, power))


# -- stratified paired bootstrap ----------------------------------------------------------------


def bootstrap_noninferiority(diffs: Sequence[np.ndarray], margin: float, alpha: float = 0.05,
                             power: float = 0.8, n_boot: int = 4000,
                             rng: np.random.Generator | None = None) -> NonInferiority:
    """Non-inferiority of the unweighted mean over strata (tasks) of mean paired differences.

    p-values are bootstrap tail fractions, so ``p_noninferior < alpha`` matches the lower
    percentile bound lying above ``-margin``.
    """
    rng = rng or np.random.default_rng(0)
    boots = np.mean([bootstrap_means(d, n_boot, rng) for d in diffs], axis=0)
    est = float(np.mean([d.mean() for d in diffs]))
    low, high = (float(x) for x in np.quantile(boots, [alpha, 1 - alpha]))
    p_ni = (1 + int((boots <= -margin).sum())) / (n_boot + 1)
    n_total = sum(len(d) for d in diffs)
    # Standard error of the stratum-mean estimate; scaling every stratum by f divides its variance by f.
    se = math.sqrt(sum(float(np.var(d, ddof=1)) / len(d) if len(d) > 1 else 0.0 for d in diffs)) / len(diffs)
    # The regression test is a t-test: percentile-bootstrap tails run slightly light at small n,
    # which would push the false-alarm rate of an unchanged model above alpha.
    p_reg = _t_less(est, se, max(1, min(len(d) for d in diffs) - 1))
    n_needed = None
    if margin > 0:
        factor = ((_z(1 - alpha) + _z(power)) * se / margin) ** 2
        n_needed = max(1, math.ceil(factor * n_total))
    return NonInferiority("paired-bootstrap", n_total, est, low, high, p_ni, p_reg, n_needed)


def _t_less(estimate: float, se: float, df: int) -> float:
    """One-sided p-value for H1: true mean < 0."""
    if se <= 0:
        return 0.0 if estimate < 0 else 1.0
    return float(sps.t.cdf(estimate / se, df))


# -- entry point and decision -------------------------------------------------------------------


def noninferiority(cand: Sequence[np.ndarray], base: Sequence[np.ndarray], margin: float,
                   alpha: float = 0.05, power: float = 0.8, n_boot: int = 4000,
                   rng: np.random.Generator | None = None) -> NonInferiority:
    """Compare aligned per-stratum item values (higher is better) of candidate and baseline."""
    if len(cand) != len(base) or not cand:
        raise CotbenchError("non-inferiority test needs matching, non-empty strata")
    cand = [np.asarray(c, float) for c in cand]
    base = [np.asarray(b, float) for b in base]
    if any(len(c) != len(b) or len(c) == 0 for c, b in zip(cand, base)):
        raise CotbenchError("non-inferiority test needs equal, non-empty paired arrays per stratum")
    if len(cand) == 1 and _is_binary(cand[0]) and _is_binary(base[0]):
        return tango_noninferiority(cand[0], base[0], margin, alpha, power)
    return bootstrap_noninferiority([c - b for c, b in zip(cand, base)], margin, alpha, power, n_boot, rng)


def decide(result: NonInferiority, margin: float, alpha: float, min_items: int = 2,
           p_regression: float | None = None) -> Decision:
    """pass: non-inferiority shown (and enough items to trust it); fail: the estimate is worse
    than the margin and the drop is significant; otherwise inconclusive.

    Requiring a significant drop bounds the false-alarm rate of an unchanged model by alpha;
    pass ``p_regression`` adjusted over all of a gate's checks (Holm) to keep that bound for
    the whole gate. Passing needs every check to pass, so non-inferiority needs no adjustment.
    """
    p_reg = result.p_regression if p_regression is None else p_regression
    if result.p_noninferior < alpha and result.n >= min_items:
        return "pass"
    if result.estimate < -margin and p_reg < alpha:
        return "fail"
    return "inconclusive"
