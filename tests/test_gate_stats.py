"""Statistical behaviour of the gate's non-inferiority tests: the review's examples, and small
seeded versions of benchmarks/gate_calibration.py (loose tolerances, never fixed outputs)."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from cotbench.analysis import calibration as cal
from cotbench.analysis.stats import holm
from cotbench.gate.stat_tests import decide, decide_many, noninferiority, score_strata

ALPHA = 0.05


def _pairs(gains: int, losses: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    cand = np.r_[np.ones(gains), np.zeros(losses), np.ones(n - gains - losses)]
    base = np.r_[np.zeros(gains), np.ones(losses), np.ones(n - gains - losses)]
    return cand, base


def test_identical_small_runs_are_inconclusive_not_a_pass() -> None:
    """Two identical runs of 2 tasks x 10 items at a 1-point margin: the stratified bootstrap said
    pass with interval [0, 0], p = 1/(B+1) and 1 item needed; Tango says p = 0.33, ~268 needed."""
    a = np.r_[np.ones(5), np.zeros(5)]
    r = noninferiority([a, a], [a, a], margin=0.01)
    assert r.method == "stratified-tango-score"
    assert r.low < 0 < r.high and r.high - r.low > 0.1
    assert 0.25 < r.p_noninferior < 0.4
    assert r.n_needed == 268
    assert decide(r, 0.01, ALPHA, min_items=2) == "inconclusive"


def test_identical_outputs_need_enough_items_to_pass() -> None:
    small, large = _pairs(0, 0, 150), _pairs(0, 0, 400)
    r_small = noninferiority([small[0]], [small[1]], margin=0.01)
    assert decide(r_small, 0.01, ALPHA) == "inconclusive" and r_small.n_needed > 150
    r_large = noninferiority([large[0]], [large[1]], margin=0.01)
    assert decide(r_large, 0.01, ALPHA) == "pass" and r_large.n_needed <= 400


def test_interval_agrees_with_the_test() -> None:
    cand, base = _pairs(12, 25, 400)
    r = noninferiority([cand], [base], margin=0.02)
    assert r.method == "tango-score" and r.estimate == pytest.approx(-13 / 400)
    assert r.low < r.estimate < r.high
    # The lower bound is exactly the margin at which non-inferiority stops being shown.
    for margin, shown in ((-r.low + 1e-4, True), (-r.low - 1e-4, False)):
        assert (noninferiority([cand], [base], margin).p_noninferior < ALPHA) is shown


def test_single_avg_at_k_item_cannot_fail() -> None:
    """The gate failed a single avg@3 item with p = 0; min_items held only on the pass branch."""
    r = noninferiority([np.array([0.0])], [np.array([1.0])], margin=0.05)
    assert r.p_regression > ALPHA
    assert decide(r, 0.05, ALPHA, min_items=2) == "inconclusive"
    # six clearly worse items still do not fail a policy that asks for 20
    worse = noninferiority([np.zeros(6)], [np.ones(6)], margin=0.05)
    assert worse.p_regression < ALPHA
    assert decide(worse, 0.05, ALPHA, min_items=20) == "inconclusive"
    assert decide(worse, 0.05, ALPHA, min_items=2) == "fail"


def test_methods_by_data() -> None:
    b = np.array([1.0, 0.0] * 20)
    a = np.array([1.0, 2 / 3, 0.0, 1.0] * 10)
    assert noninferiority([b], [b], 0.02).method == "tango-score"
    assert noninferiority([a], [a], 0.02).method == "el-score"
    assert noninferiority([a, b], [a, b], 0.02).method == "stratified-el-score"


def test_stratified_test_weighs_tasks_equally() -> None:
    small = np.zeros(20)      # a small task that regressed on every item
    large = np.ones(2000)     # a large unchanged task
    r = noninferiority([small, large], [np.ones(20), large], margin=0.05)
    assert r.estimate == pytest.approx(-0.5)
    assert decide(r, 0.05, ALPHA) == "fail"


@pytest.mark.parametrize(("cell", "margin"), [
    (cal.Cell(2, 20, 0.0, 1), 0.01),    # the review: passed 68% of the time
    (cal.Cell(3, 30, 0.0, 1), 0.02),    # 16%
    (cal.Cell(2, 50, 0.0, 1), 0.02),    # harmful compliance up 2 points: 14%
    (cal.Cell(1, 100, 0.05, 3), 0.02),
    (cal.Cell(3, 30, 0.02, 10), 0.05),
])
def test_pass_rate_at_the_margin(cell: cal.Cell, margin: float) -> None:
    reps = 3000
    rng = np.random.default_rng(17)
    for strata in (cal.paired_strata(cell, -margin, reps, rng),
                   cal.mirror(cal.paired_strata(cell, margin, reps, rng))):  # a lower-is-better rate
        est, n, p_ni, p_reg = score_strata(strata, margin)
        passed = (decide_many(est, n, p_ni, p_reg, margin, ALPHA, 2) == "pass").mean()
        assert passed <= ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / reps)


@pytest.mark.parametrize("cell", [cal.Cell(1, 100, 0.05, 1), cal.Cell(3, 30, 0.05, 3), cal.Cell(5, 20, 0.02, 1)])
def test_unchanged_model_rarely_fails(cell: cal.Cell) -> None:
    reps = 3000
    strata = cal.paired_strata(cell, 0.0, reps, np.random.default_rng(5))
    est, n, p_ni, p_reg = score_strata(strata, 0.01)
    failed = (decide_many(est, n, p_ni, p_reg, 0.01, ALPHA, 2) == "fail").mean()
    assert failed <= ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / reps)


def _simulate(n: int, effect: float, margin: float, trials: int, k: int, seed: int) -> Counter[str]:
    """Baseline and candidate sampled independently from the same item difficulties; the
    candidate's solve rates are scaled down so its mean drops by ``effect``."""
    rng = np.random.default_rng(seed)
    out: Counter[str] = Counter()
    for _ in range(trials):
        p = rng.beta(0.6, 0.6, n)
        p_cand = np.clip(p * (1 - effect / p.mean()), 0, 1)
        base = (rng.random((n, k)) < p[:, None]).mean(axis=1)
        cand = (rng.random((n, k)) < p_cand[:, None]).mean(axis=1)
        out[decide(noninferiority([cand], [base], margin), margin, ALPHA, 20)] += 1
    return out


@pytest.mark.parametrize(("n", "effect", "min_power"), [(500, 0.08, 0.8), (1000, 0.06, 0.8)])
def test_planted_regression_beyond_the_margin_fails(n: int, effect: float, min_power: float) -> None:
    trials = 150
    outcome = _simulate(n, effect=effect, margin=0.02, trials=trials, k=1, seed=11)
    assert outcome["fail"] / trials >= min_power
    assert outcome["pass"] == 0


def test_holm_keeps_a_many_check_gate_within_alpha() -> None:
    # Eight independent unchanged checks: without adjustment the gate would fail far more often.
    rng = np.random.default_rng(3)
    trials, checks = 3000, 8
    strata = [cal.paired_strata(cal.Cell(1, 200, 0.3, 1), 0.0, trials, rng) for _ in range(checks)]
    tested = [score_strata(s, 0.02) for s in strata]
    p_reg = np.array([t[3] for t in tested])  # checks x trials
    adjusted = np.array([holm(list(col)) for col in p_reg.T]).T
    gate = np.zeros(trials, bool)
    raw = np.zeros(trials, bool)
    for (est, n, p_ni, p), adj in zip(tested, adjusted, strict=True):
        gate |= decide_many(est, n, p_ni, adj, 0.02, ALPHA, 20) == "fail"
        raw |= decide_many(est, n, p_ni, p, 0.02, ALPHA, 20) == "fail"
    assert gate.mean() <= ALPHA < raw.mean()


@pytest.mark.parametrize(("discordance", "margin"), [(0.1, 0.02), (0.02, 0.01)])
def test_items_needed_gives_the_target_power(discordance: float, margin: float) -> None:
    # Equal models disagreeing on a fraction of items: at the advertised n, non-inferiority
    # should be shown about `power` (0.8) of the time.
    cand, base = _pairs(int(1000 * discordance / 2), int(1000 * discordance / 2), 1000)
    n = noninferiority([cand], [base], margin).n_needed
    assert n is not None
    strata = cal.paired_strata(cal.Cell(1, n, discordance, 1), 0.0, 2000, np.random.default_rng(5))
    est, nn, p_ni, p_reg = score_strata(strata, margin)
    shown = (p_ni < ALPHA).mean()
    assert 0.72 <= shown <= 0.88
