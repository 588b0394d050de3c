"""Statistics helpers: values checked against hand arithmetic and textbook examples."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from cotbench.analysis import stats
from cotbench.results.schema import SampleRecord


def _rec(sid: str, score: float | None, repeat: int = 0, label: str | None = None) -> SampleRecord:
    return SampleRecord(run_id="r", task="t", task_hash="h", sample_id=sid, repeat=repeat, prompt="p",
                        output="o", score=score, label=label, engine="lm_eval")


def test_holm_adjustment_by_hand() -> None:
    # sorted 0.01, 0.03, 0.04 -> 3*0.01, max(0.03, 2*0.03), max(0.06, 1*0.04)
    assert stats.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert stats.holm([]) == []


def test_mde_formulas() -> None:
    zsum = 1.959964 + 0.841621
    assert stats.mde_paired(1.0, 100) == pytest.approx(zsum / 10, rel=1e-5)
    assert stats.mde_proportion(0.5, 100) == pytest.approx(zsum * math.sqrt(0.5 / 100), rel=1e-5)
    assert stats.mde_paired(1.0, 0) == math.inf
    # identical runs: no observed variance -> fall back to independent proportions at the pooled mean
    a = np.array([1.0, 0.0, 1.0, 0.0])
    assert stats.mde_for_pairs(a, a) == pytest.approx(stats.mde_proportion(0.5, 4))


def test_item_means_and_pairing_skip_unscored_and_unshared() -> None:
    a = [_rec("x", 1.0, 0), _rec("x", 0.0, 1), _rec("x", None, 2), _rec("y", 1.0), _rec("z", None)]
    b = [_rec("x", 1.0), _rec("y", 0.0), _rec("w", 1.0)]
    assert stats.item_means(a) == {"x": 0.5, "y": 1.0}
    p = stats.pair_samples(a, b)
    assert p.ids == ("x", "y") and p.a.tolist() == [0.5, 1.0] and p.b.tolist() == [1.0, 0.0]
    assert p.diff.tolist() == [-0.5, 1.0]
    rate = stats.item_means([_rec("x", 0, 0, "full_compliance"), _rec("x", 1, 1, "full_refusal")],
                            lambda s: float(s.label == "full_compliance"))
    assert rate == {"x": 0.5}


def test_paired_score_close_to_normal_theory_for_large_n() -> None:
    rng = np.random.default_rng(3)
    a = (rng.random(2000) < 0.6).astype(float)
    b = np.where(rng.random(2000) < 0.8, a, 1 - a)  # correlated pairs
    r = stats.paired_score([stats.Paired(tuple(map(str, range(2000))), a, b)])
    d = a - b
    half = 1.959964 * d.std(ddof=1) / math.sqrt(len(d))
    assert r.low == pytest.approx(d.mean() - half, abs=0.005)
    assert r.high == pytest.approx(d.mean() + half, abs=0.005)


def test_paired_t_for_unbounded_counts() -> None:
    iv, p = stats.paired_t([10.0, 12.0, 14.0])
    assert iv.estimate == 12.0 and iv.low == pytest.approx(12 - 4.302653 * 2 / math.sqrt(3), rel=1e-5)
    assert p == pytest.approx(2 * sps.t.sf(12 / (2 / math.sqrt(3)), 2))
    assert stats.paired_t([5.0]) is None
    same, p_same = stats.paired_t([3.0, 3.0])  # every item the same: the width is the data's
    assert (same.low, same.high, p_same) == (3.0, 3.0, 0.0)


def test_max_t_adjustment_between_bonferroni_and_none() -> None:
    p = [0.01, 0.2, 0.5, 0.04]
    indep = stats.max_t_adjust(p, np.eye(4))
    # independent statistics: Sidak, 1 - (1 - p)^m
    assert indep[0] == pytest.approx(1 - 0.99**4, abs=3e-3)
    same = stats.max_t_adjust(p, np.ones((4, 4)))
    assert same == pytest.approx(p, abs=3e-3)  # one statistic four times: no penalty
    half = np.full((4, 4), 0.5) + 0.5 * np.eye(4)
    mid = stats.max_t_adjust(p, half)
    assert p[0] < mid[0] < indep[0] <= min(1.0, 4 * p[0]) + 3e-3  # Bonferroni, up to Monte Carlo error
    assert stats.max_t_adjust(p, half) == mid  # seeded
    assert stats.max_t_adjust([0.3], np.eye(1)) == [0.3]
