"""Score tests and intervals (cotbench.analysis.score): hand-checked cases, the review's
examples of zero variance read as certainty, and small seeded simulations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize
from scipy import stats as sps

from cotbench.analysis import calibration as cal
from cotbench.analysis import score as sc
from cotbench.analysis import stats

Z95 = float(sps.norm.ppf(0.975))


def _tango_z(gains: int, losses: int, n: int, delta0: float) -> float:
    """Tango's (1998) statistic with the nuisance parameter maximised numerically, independently
    of cotbench's fit: P(gain) = q + delta0, P(loss) = q."""
    rest = n - gains - losses

    def nll(q: float) -> float:
        terms = [(gains, q + delta0), (losses, q), (rest, 1 - 2 * q - delta0)]
        return -sum(c * math.log(p) for c, p in terms if c)

    lo, hi = max(0.0, -delta0) + 1e-13, (1 - delta0) / 2 - 1e-13
    q = optimize.minimize_scalar(nll, bounds=(lo, hi), method="bounded", options={"xatol": 1e-14}).x
    return (gains - losses - n * delta0) / math.sqrt(n * (2 * q + delta0 * (1 - delta0)))


def _diffs(gains: int, losses: int, n: int) -> np.ndarray:
    return np.r_[np.ones(gains), -np.ones(losses), np.zeros(n - gains - losses)]


@pytest.mark.parametrize(("gains", "losses", "n", "delta0"), [
    (10, 20, 200, -0.02), (5, 5, 100, -0.05), (30, 3, 500, 0.02), (3, 30, 500, -0.1),
    (0, 0, 10, -0.01), (0, 0, 50, -0.01), (0, 7, 20, 0.0), (2, 0, 30, -0.05)])
def test_binary_pairs_give_tangos_statistic(gains: int, losses: int, n: int, delta0: float) -> None:
    z = sc.z_stat([sc.stratum(_diffs(gains, losses, n))], delta0, -1.0, 1.0)[0]
    assert z == pytest.approx(_tango_z(gains, losses, n, delta0), rel=1e-6, abs=1e-9)


def test_single_binary_values_give_wilsons_interval() -> None:
    # Wilson 8/10 (textbook: 0.4902, 0.9433) and 0/20 at z = 1.96, no correction
    for x, n, low, high in ((8, 10, 0.4902, 0.9433), (0, 20, 0.0, 0.1611)):
        lo, hi = sc.interval([sc.stratum(np.r_[np.ones(x), np.zeros(n - x)])], 0.0, 1.0, Z95)
        assert (lo[0], hi[0]) == (pytest.approx(low, abs=1e-4), pytest.approx(high, abs=1e-4))
    # with the continuity correction: Newcombe's method 4, in closed form in stats.wilson_cc
    for x, n in ((8, 10), (0, 20), (3, 7), (20, 20)):
        lo, hi = sc.interval([sc.stratum(np.r_[np.ones(x), np.zeros(n - x)])], 0.0, 1.0, Z95, continuity=True)
        want = stats.wilson_cc(x, n, Z95)
        assert lo[0] == pytest.approx(float(want[0]), abs=1e-7) and hi[0] == pytest.approx(float(want[1]), abs=1e-7)


def test_no_disagreement_is_not_a_point() -> None:
    """The review's example: (n11, n10, n01, n00) = (50, 0, 0, 50) gave the interval (0, 0)."""
    a = np.r_[np.ones(50), np.zeros(50)]
    r = stats.paired_score([stats.Paired(tuple(map(str, range(100))), a, a.copy())])
    assert r.estimate == 0.0 and r.p_value == 1.0
    # Tango's bound where sqrt(n m / (1 - m)) = t: about 3.8 points either side
    assert r.low == pytest.approx(-r.high) and 0.035 < r.high < 0.04


@pytest.mark.parametrize(("a", "b"), [([0.75], [0.5]), ([0.75] * 3, [0.5] * 3), ([1.0, 1.0], [0.0, 0.0])])
def test_zero_variance_is_not_certainty(a: list[float], b: list[float]) -> None:
    """One item 0.75 vs 0.5, or three items each +0.25, gave p = 0 and 'significant'."""
    r = sc.paired([np.array(a)], [np.array(b)])
    assert r.p_value > 0.05 and r.low < 0 < r.high


def test_interval_is_the_set_the_test_does_not_reject() -> None:
    rng = np.random.default_rng(0)
    for values in (rng.choice([-1.0, 0.0, 1.0], 80, p=[0.1, 0.8, 0.1]), rng.choice(np.arange(-3, 4) / 3, 40),
                   np.zeros(30), -np.ones(5)):
        strata = [sc.stratum(values), sc.stratum(values[: len(values) // 2 + 1])]
        crit = sc.critical(strata, 0.975)
        lo, hi = sc.interval(strata, -1.0, 1.0, crit)
        for bound, sign in ((lo[0], 1), (hi[0], -1)):
            if -1 + 1e-9 < bound < 1 - 1e-9:
                assert sc.z_stat(strata, bound, -1.0, 1.0)[0] == pytest.approx(sign * crit[0], abs=1e-5)
        # the replicated (vectorised) path finds the same bounds
        rep = [sc.Stratum(s.values, np.repeat(s.counts, 3, axis=0)) for s in strata]
        vlo, vhi = sc.interval(rep, -1.0, 1.0, sc.critical(rep, 0.975))
        assert np.allclose(vlo, lo[0], atol=1e-8) and np.allclose(vhi, hi[0], atol=1e-8)


def test_scalar_and_vectorised_fits_agree() -> None:
    rng = np.random.default_rng(3)
    for _ in range(200):
        k = int(rng.choice([1, 3, 10]))
        s = sc.stratum(rng.choice(np.arange(-k, k + 1) / k, int(rng.integers(1, 40))))
        for mu0 in (-0.99, -0.3, -0.02, 0.0, 0.5):
            two = sc.Stratum(s.values, np.repeat(s.counts, 2, axis=0))  # two replicates: the vectorised path
            assert sc.null_variance(two, mu0, -1, 1)[0] == pytest.approx(
                sc._null_variance_one(s.values, s.counts[0], mu0, -1, 1), abs=1e-12)


def test_items_needed_with_no_disagreement() -> None:
    """Two identical runs of 2 tasks x 10 items at a 1-point margin: ~268 items, not 1."""
    strata = [sc.stratum(np.zeros(10)), sc.stratum(np.zeros(10))]
    assert sc.n_needed(strata, 0.01, float(sps.norm.ppf(0.95)), float(sps.norm.ppf(0.8)))[0] == 268


def test_paired_coverage_at_one_point_drop() -> None:
    """True difference -1 point, n = 100, p about 0.5: the collapsed interval covered 64%."""
    cell = cal.Cell(1, 100, 0.0, 1)
    strata = cal.paired_strata(cell, -0.01, 3000, np.random.default_rng(1))
    covered = np.abs(sc.z_stat(strata, -0.01, -1.0, 1.0)) <= sc.critical(strata, 0.975)
    assert covered.mean() >= 0.93


@pytest.mark.parametrize("cell", [cal.Cell(2, 20, 0.02, 1), cal.Cell(3, 30, 0.05, 3), cal.Cell(1, 100, 0.01, 10)])
def test_small_coverage_simulation(cell: cal.Cell) -> None:
    """A fast version of benchmarks/ci_coverage.py with a loose tolerance."""
    rng = np.random.default_rng(7)
    for delta in (0.0, -0.02):
        strata = cal.paired_strata(cell, delta, 1500, rng)
        cov = (np.abs(sc.z_stat(strata, delta, -1.0, 1.0)) <= sc.critical(strata, 0.975)).mean()
        assert cov >= 0.92
    strata = cal.rate_strata(cell, 0.1, 1500, rng)
    cov = (np.abs(sc.z_stat(strata, 0.1, 0.0, 1.0, continuity=True)) <= sc.critical(strata, 0.975)).mean()
    assert cov >= 0.92


def test_mover_interval_for_aggregates() -> None:
    # one task: Newcombe's square-and-add of the two Wilson-cc intervals, by hand
    la, ua = stats.wilson_cc(40, 100, Z95)
    lb, ub = stats.wilson_cc(50, 100, Z95)
    lo, hi = stats.mover_interval(np.array([0.4]), np.array([100]), np.array([0.5]), np.array([100]))
    assert lo == pytest.approx(-0.1 - math.hypot(0.4 - la, ub - 0.5))
    assert hi == pytest.approx(-0.1 + math.hypot(ua - 0.4, 0.5 - lb))
    # the one-sided p-value is the level at which the bound reaches the threshold
    p = stats.mover_p_below(np.array([0.4]), np.array([100]), np.array([0.5]), np.array([100]))
    _, edge = stats.mover_interval(np.array([0.4]), np.array([100]), np.array([0.5]), np.array([100]), 2 * p)
    assert edge == pytest.approx(0.0, abs=1e-8) and 0 < p < 0.5
    assert stats.mover_p_below(np.array([0.5]), np.array([100]), np.array([0.4]), np.array([100])) == 1.0
