"""Statistics helpers: values checked against hand arithmetic and textbook examples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cotbench.analysis import stats
from cotbench.errors import CotbenchError
from cotbench.results.schema import SampleRecord


def _rec(sid: str, score: float | None, repeat: int = 0, label: str | None = None) -> SampleRecord:
    return SampleRecord(run_id="r", task="t", task_hash="h", sample_id=sid, repeat=repeat, prompt="p",
                        output="o", score=score, label=label, engine="lm_eval")


def test_wilson_textbook_value() -> None:
    iv = stats.wilson_interval(8, 10)
    assert iv.estimate == 0.8
    assert iv.low == pytest.approx(0.4902, abs=1e-4)
    assert iv.high == pytest.approx(0.9433, abs=1e-4)
    edge = stats.wilson_interval(0, 20)
    assert edge.low == 0.0 and 0.1 < edge.high < 0.2
    with pytest.raises(CotbenchError):
        stats.wilson_interval(3, 0)


def test_mcnemar_counts_only_discordant_pairs() -> None:
    # n10 = 1 (a right, b wrong), n01 = 6: p = 2 * (C(7,0) + C(7,1)) / 2^7 = 0.125
    a = [1, 0, 0, 0, 0, 0, 0, 1, 1, 0]
    b = [0, 1, 1, 1, 1, 1, 1, 1, 1, 0]
    assert stats.mcnemar_exact(a, b) == pytest.approx(16 / 128)
    assert stats.mcnemar_exact(a, b, "less") == pytest.approx(8 / 128)
    assert stats.mcnemar_exact([1, 0], [1, 0]) == 1.0
    with pytest.raises(CotbenchError):
        stats.mcnemar_exact([0.5], [1])


def test_paired_test_uses_t_for_non_binary_items() -> None:
    a = np.array([0.2, 0.4, 0.9, 0.6, 0.3])
    b = np.array([0.1, 0.5, 0.6, 0.2, 0.3])
    d = a - b
    t = d.mean() / (d.std(ddof=1) / math.sqrt(5))
    from scipy.stats import t as tdist
    assert stats.paired_test(a, b) == pytest.approx(2 * tdist.sf(t, 4))
    assert stats.paired_test([0.5, 0.5], [0.25, 0.25], "greater") == 0.0  # no noise, strictly above


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


def test_paired_bootstrap_is_seeded_and_covers_estimate() -> None:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 2, 200).astype(float)
    b = rng.integers(0, 2, 200).astype(float)
    ci1 = stats.paired_bootstrap_ci(a, b, seed=7, n_boot=2000)
    ci2 = stats.paired_bootstrap_ci(a, b, seed=7, n_boot=2000)
    assert ci1 == ci2
    assert ci1.low < ci1.estimate < ci1.high
    assert ci1.estimate == pytest.approx((a - b).mean())
    # width close to the normal-theory one: 2 * 1.96 * sd(d) / sqrt(n)
    normal_width = 2 * 1.96 * (a - b).std(ddof=1) / math.sqrt(200)
    assert ci1.high - ci1.low == pytest.approx(normal_width, rel=0.15)
    const = stats.paired_bootstrap_ci([1, 1, 1], [0.5, 0.5, 0.5])
    assert (const.low, const.estimate, const.high) == (0.5, 0.5, 0.5)


def test_stratified_bootstrap_weights_tasks_equally() -> None:
    ci = stats.stratified_bootstrap_ci([np.full(3, 1.0), np.full(300, 0.0)], n_boot=200)
    assert ci.estimate == 0.5 and ci.low == ci.high == 0.5


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


def test_newcombe_paired_interval_by_hand() -> None:
    # n11 = 2, n10 = 2: p1 = 1 (Wilson 4/4 = [.5101, 1]), p2 = .5 (Wilson 2/4 = [.1501, .8499]);
    # phi = 0 (a zero margin): lower = .5 - sqrt(.4899² + .3499²), upper = .5 + .3499
    ci = stats.newcombe_paired_ci([1, 1, 1, 1], [1, 0, 0, 1])
    assert ci.estimate == 0.5
    assert ci.low == pytest.approx(0.5 - math.hypot(0.4899, 0.3499), abs=1e-3)
    assert ci.high == pytest.approx(0.8499, abs=1e-3)
    # nothing happened in either run: still an interval as wide as 20 items allow
    zero = stats.newcombe_paired_ci([0] * 20, [0] * 20)
    w = stats.wilson_interval(0, 20)
    assert (zero.low, zero.high) == pytest.approx((-w.high, w.high))


def test_newcombe_close_to_normal_theory_for_large_n() -> None:
    rng = np.random.default_rng(3)
    a = (rng.random(2000) < 0.6).astype(float)
    b = np.where(rng.random(2000) < 0.8, a, 1 - a)  # correlated pairs
    ci = stats.newcombe_paired_ci(a, b)
    d = a - b
    half = 1.959964 * d.std(ddof=1) / math.sqrt(len(d))
    assert ci.low == pytest.approx(d.mean() - half, abs=0.005)
    assert ci.high == pytest.approx(d.mean() + half, abs=0.005)
