"""Non-inferiority tests on paired item values: the statistics behind each gate rule.

Values are oriented so that higher is better (the caller maps lower-is-better metrics
``v -> 1 - v``); ``d = candidate - baseline`` and a regression is ``d < 0``.

Each rule asks two one-sided questions at level ``alpha``:

- non-inferiority, H0: ``d <= -margin``; rejecting it means the candidate is within the margin;
- regression, H0: ``d >= 0``; rejecting it means the candidate is significantly worse.

Both are score tests on the unweighted mean over tasks of per-task mean differences
(:mod:`cotbench.analysis.score`): Tango's score test when the items are 0/1, its
restricted-likelihood generalisation for avg@k or partial-credit items, stratified by task.
The interval shown is the set of differences neither test rejects: its lower bound lies above
``-margin`` exactly when non-inferiority is shown. No disagreement between the runs never
reads as certainty: the null fit puts the margin's worth of losses on the bound.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, cast

import numpy as np
from scipy import stats as sps

from cotbench.analysis import score as sc
from cotbench.errors import CotbenchError

Method = Literal["tango-score", "stratified-tango-score", "el-score", "stratified-el-score"]
Decision = Literal["pass", "fail", "inconclusive"]
METHOD_TEXT = {
    "tango-score": "Tango score test (0/1 items, one task)",
    "stratified-tango-score": "stratified Tango score test (0/1 items, unweighted over tasks)",
    "el-score": "restricted-likelihood score test (avg@k items, one task)",
    "stratified-el-score": "stratified restricted-likelihood score test (unweighted over tasks)",
}


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


def method_for(cand: Sequence[np.ndarray], base: Sequence[np.ndarray]) -> Method:
    """Name of the test by the items' values: Tango's on 0/1 items, else its generalisation."""
    binary = all(np.isin(x, (0.0, 1.0)).all() for x in (*cand, *base))
    one = len(cand) == 1
    if binary:
        return "tango-score" if one else "stratified-tango-score"
    return "el-score" if one else "stratified-el-score"


def score_strata(strata: Sequence[sc.Stratum], margin: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised over replicates: (estimate, total items, p non-inferior, p regression)."""
    est = np.asarray(sum(s.mean for s in strata) / len(strata))
    n = np.asarray(sum(s.n for s in strata))
    p_ni = sc.p_value(strata, -margin, -1.0, 1.0, "greater")
    p_reg = sc.p_value(strata, 0.0, -1.0, 1.0, "less")
    return est, n, p_ni, p_reg


def decide_many(est: np.ndarray, n: np.ndarray, p_ni: np.ndarray, p_reg: np.ndarray, margin: float, alpha: float,
                min_items: int) -> np.ndarray:
    """Decisions (array of ``pass``/``fail``/``inconclusive``), the rule of :func:`decide`."""
    enough = n >= min_items
    passed = enough & (p_ni < alpha)
    failed = enough & ~passed & (est < -margin) & (p_reg < alpha)
    return np.where(passed, "pass", np.where(failed, "fail", "inconclusive"))


def noninferiority(cand: Sequence[np.ndarray], base: Sequence[np.ndarray], margin: float,
                   alpha: float = 0.05, power: float = 0.8) -> NonInferiority:
    """Compare aligned per-task item values (higher is better) of candidate and baseline."""
    if len(cand) != len(base) or not cand:
        raise CotbenchError("non-inferiority test needs matching, non-empty strata")
    cand = [np.asarray(c, float) for c in cand]
    base = [np.asarray(b, float) for b in base]
    if any(len(c) != len(b) or len(c) == 0 for c, b in zip(cand, base, strict=True)):
        raise CotbenchError("non-inferiority test needs equal, non-empty paired arrays per stratum")
    strata = [sc.stratum(c - b) for c, b in zip(cand, base, strict=True)]
    est, n, p_ni, p_reg = score_strata(strata, margin)
    low, high = sc.interval(strata, -1.0, 1.0, sc.critical(strata, 1 - alpha))
    needed = (int(sc.n_needed(strata, margin, float(sps.norm.ppf(1 - alpha)), float(sps.norm.ppf(power)))[0])
              if margin > 0 else None)
    return NonInferiority(method_for(cand, base), int(n[0]), float(est[0]), float(low[0]), float(high[0]),
                          float(p_ni[0]), float(p_reg[0]), needed)


def decide(result: NonInferiority, margin: float, alpha: float, min_items: int = 2,
           p_regression: float | None = None) -> Decision:
    """pass: non-inferiority shown; fail: the estimate is worse than the margin and the drop is
    significant; otherwise inconclusive. Fewer than ``min_items`` paired items is always
    inconclusive, whichever way the numbers point.

    Requiring a significant drop bounds the false-alarm rate of an unchanged model by alpha;
    pass ``p_regression`` adjusted over all of a gate's checks (Holm) to keep that bound for
    the whole gate. Passing needs every check to pass, so non-inferiority needs no adjustment.
    """
    p_reg = result.p_regression if p_regression is None else p_regression
    out = decide_many(np.array([result.estimate]), np.array([result.n]), np.array([result.p_noninferior]),
                      np.array([p_reg]), margin, alpha, min_items)
    return cast(Decision, str(out[0]))  # decide_many gives only the three decisions
