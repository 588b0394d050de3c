"""Statistical behaviour of the gate's non-inferiority tests, by simulation over arrays."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from scipy import optimize

from cotbench.analysis.stats import holm
from cotbench.gate.tests import (
    _tango_z,
    bootstrap_noninferiority,
    decide,
    noninferiority,
    tango_noninferiority,
)

ALPHA = 0.05


def _brute_tango_z(gains: int, losses: int, n: int, delta0: float) -> float:
    """Score statistic with the nuisance parameter maximised numerically."""
    rest = n - gains - losses

    def nll(q: float) -> float:
        return -(gains * math.log(q + delta0) + losses * math.log(q) + rest * math.log(1 - 2 * q - delta0))

    lo, hi = max(0.0, -delta0) + 1e-12, (1 - delta0) / 2 - 1e-12
    q = optimize.minimize_scalar(nll, bounds=(lo, hi), method="bounded", options={"xatol": 1e-13}).x
    return (gains - losses - n * delta0) / math.sqrt(n * (2 * q + delta0 * (1 - delta0)))


@pytest.mark.parametrize(("gains", "losses", "n", "delta0"),
                         [(10, 20, 200, -0.02), (5, 5, 100, -0.05), (30, 3, 500, 0.02), (3, 30, 500, -0.1)])
def test_tango_statistic_uses_the_restricted_mle(gains: int, losses: int, n: int, delta0: float) -> None:
    assert _tango_z(gains, losses, n, delta0) == pytest.approx(_brute_tango_z(gains, losses, n, delta0), rel=1e-6)


def _pairs(gains: int, losses: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    cand = np.r_[np.ones(gains), np.zeros(losses), np.ones(n - gains - losses)]
    base = np.r_[np.zeros(gains), np.ones(losses), np.ones(n - gains - losses)]
    return cand, base


def test_tango_interval_agrees_with_the_test() -> None:
    cand, base = _pairs(12, 25, 400)
    r = tango_noninferiority(cand, base, margin=0.02, alpha=ALPHA)
    assert r.estimate == pytest.approx(-13 / 400)
    assert r.low < r.estimate < r.high
    # The lower bound is exactly the margin at which non-inferiority stops being shown.
    for margin, shown in ((-r.low + 1e-4, True), (-r.low - 1e-4, False)):
        assert (tango_noninferiority(cand, base, margin, ALPHA).p_noninferior < ALPHA) is shown


def test_identical_outputs_need_enough_items_to_pass() -> None:
    # No disagreement seen, but a small sample cannot rule out a 1-point regression.
    small, large = _pairs(0, 0, 150), _pairs(0, 0, 400)
    r_small = tango_noninferiority(*small, margin=0.01)
    assert decide(r_small, 0.01, ALPHA) == "inconclusive" and r_small.n_needed > 150
    r_large = tango_noninferiority(*large, margin=0.01)
    assert decide(r_large, 0.01, ALPHA) == "pass" and r_large.n_needed <= 400


def _simulate(n: int, effect: float, margin: float, trials: int, k: int, seed: int) -> Counter[str]:
    """Baseline and candidate sampled independently (different seeds) from the same item
    difficulties; the candidate's solve rates are scaled down so its mean drops by ``effect``."""
    rng = np.random.default_rng(seed)
    out: Counter[str] = Counter()
    for _ in range(trials):
        p = rng.beta(0.6, 0.6, n)
        p_cand = np.clip(p * (1 - effect / p.mean()), 0, 1)
        base = (rng.random((n, k)) < p[:, None]).mean(axis=1)
        cand = (rng.random((n, k)) < p_cand[:, None]).mean(axis=1)
        if k == 1:
            r = tango_noninferiority(cand, base, margin, ALPHA, with_interval=False)
        else:
            r = bootstrap_noninferiority([cand - base], margin, ALPHA, n_boot=500, rng=rng)
        out[decide(r, margin, ALPHA, 20)] += 1
    return out


@pytest.mark.parametrize(("n", "k", "trials"), [(200, 1, 1500), (1000, 1, 800), (200, 4, 300)])
def test_unchanged_model_passes_at_least_95_percent(n: int, k: int, trials: int) -> None:
    outcome = _simulate(n, effect=0.0, margin=0.02, trials=trials, k=k, seed=n + k)
    assert outcome["fail"] / trials <= ALPHA


def test_noninferiority_has_level_alpha_at_the_margin() -> None:
    # A candidate exactly `margin` worse must be let through at most alpha of the time
    # (plus Monte Carlo slack of three standard errors).
    trials = 1500
    outcome = _simulate(500, effect=0.03, margin=0.03, trials=trials, k=1, seed=7)
    assert outcome["pass"] / trials <= ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / trials)


@pytest.mark.parametrize(("n", "effect", "min_power"), [(500, 0.08, 0.8), (1000, 0.06, 0.8)])
def test_planted_regression_beyond_the_margin_fails(n: int, effect: float, min_power: float) -> None:
    trials = 300
    outcome = _simulate(n, effect=effect, margin=0.02, trials=trials, k=1, seed=11)
    assert outcome["fail"] / trials >= min_power
    assert outcome["pass"] == 0


def test_holm_keeps_a_many_check_gate_within_alpha() -> None:
    # Eight independent unchanged checks: without adjustment the gate would fail far more often.
    rng = np.random.default_rng(3)
    trials, checks, n = 400, 8, 200
    gate_fail = raw_fail = 0
    for _ in range(trials):
        results = []
        for _ in range(checks):
            p = rng.beta(0.6, 0.6, n)
            base, cand = (rng.random(n) < p).astype(float), (rng.random(n) < p).astype(float)
            results.append(tango_noninferiority(cand, base, 0.02, ALPHA, with_interval=False))
        adjusted = holm([r.p_regression for r in results])
        gate_fail += any(decide(r, 0.02, ALPHA, 20, p) == "fail" for r, p in zip(results, adjusted))
        raw_fail += any(decide(r, 0.02, ALPHA, 20) == "fail" for r in results)
    assert gate_fail / trials <= ALPHA < raw_fail / trials


def test_stratified_bootstrap_weighs_tasks_equally() -> None:
    rng = np.random.default_rng(0)
    small = np.full(20, -0.5)      # a small task that regressed badly
    large = np.zeros(2000)         # a large unchanged task
    r = noninferiority([small + 0.5, large], [np.full(20, 0.5), large], margin=0.05, rng=rng)
    assert r.method == "paired-bootstrap" and r.estimate == pytest.approx(-0.25)
    assert decide(r, 0.05, ALPHA) == "fail"


def test_non_binary_single_task_uses_bootstrap_and_binary_uses_score_test() -> None:
    a = np.array([1.0, 0.5, 0.0, 1.0] * 10)
    assert noninferiority([a], [a], 0.02).method == "paired-bootstrap"
    b = np.array([1.0, 0.0] * 20)
    assert noninferiority([b], [b], 0.02).method == "tango-score"


@pytest.mark.parametrize(("discordance", "margin"), [(0.1, 0.02), (0.02, 0.01)])
def test_items_needed_gives_the_target_power(discordance: float, margin: float) -> None:
    # Equal models disagreeing on a fraction of items: at the advertised n, non-inferiority
    # should be shown about `power` (0.8) of the time.
    cand, base = _pairs(int(1000 * discordance / 2), int(1000 * discordance / 2), 1000)
    n = tango_noninferiority(cand, base, margin).n_needed
    rng, trials, shown = np.random.default_rng(5), 600, 0
    for _ in range(trials):
        u = rng.random(n)
        gain, loss = u < discordance / 2, (u >= discordance / 2) & (u < discordance)
        shown += tango_noninferiority(gain.astype(float), loss.astype(float), margin,
                                      with_interval=False).p_noninferior < ALPHA
    assert 0.72 <= shown / trials <= 0.88
