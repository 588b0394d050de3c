"""Dip-and-recovery detection: planted dips are found, pure noise yields no dip (seeded)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cotbench.analysis import stats
from cotbench.analysis.trajectory import (
    TaskObs,
    Trajectory,
    compute_trajectory,
    detect,
    from_csv,
    from_runs,
    infer_domain,
    trajectory,
)
from cotbench.errors import CotbenchError
from tests.factories import FakeTask, make_run

FIXTURE = Path(__file__).parent / "fixtures" / "qwen3_4b_base_math_cot_20k.csv"
STEPS = [10, 20, 40, 80, 160, 320, 640, 1280]


def _items(rng: np.random.Generator, p: np.ndarray) -> TaskObs:
    vals = (rng.random(len(p)) < p).astype(float)
    items = {f"i{j}": v for j, v in enumerate(vals)}
    return TaskObs(float(vals.mean()), len(vals), items)


def _aggregate(rng: np.random.Generator, p: float, n: int) -> TaskObs:
    v = rng.binomial(n, p) / n
    return TaskObs(v, n)


def _shift(p: np.ndarray, d: float) -> np.ndarray:
    """Move the mean item probability (0.5) by ``d`` without clipping: scale towards 0 or 1."""
    return p * (1 + 2 * d) if d < 0 else p + 2 * d * (1 - p)


def _series(rng: np.random.Generator, n: int, shifts: list[float], paired: bool):
    """Reference plus one checkpoint per shift; items have their own difficulty (paired case)."""
    if paired:
        difficulty = rng.beta(2, 2, n)
        ref = {"t": _items(rng, difficulty)}
        cks = [(s, {"t": _items(rng, _shift(difficulty, d))}) for s, d in zip(STEPS, shifts, strict=True)]
    else:
        ref = {"t": _aggregate(rng, 0.5, n)}
        cks = [(s, {"t": _aggregate(rng, 0.5 + d, n)}) for s, d in zip(STEPS, shifts, strict=True)]
    return detect("t", "task", "in_domain", "score", (0, ref), cks)


def _depth(n: int, z: float) -> float:
    """A shift of ``z`` standard errors of a checkpoint-vs-reference difference at ``n`` items."""
    return z * (0.5 / n) ** 0.5


@pytest.mark.parametrize("paired", [True, False])
@pytest.mark.parametrize("n", [50, 200, 1000])
def test_pure_noise_rarely_dips(n: int, paired: bool) -> None:
    rng = np.random.default_rng(1000 + n + paired)
    trials = 150
    # family-wise 5% over the checkpoints (max-T), with three Monte Carlo standard errors of slack
    false_dips = sum(_series(rng, n, [0.0] * len(STEPS), paired).dip is not None for _ in range(trials))
    assert false_dips / trials <= 0.05 + 3 * (0.05 * 0.95 / trials) ** 0.5


@pytest.mark.parametrize("paired", [True, False])
@pytest.mark.parametrize("n", [100, 300, 1000])
def test_planted_dips_found(n: int, paired: bool) -> None:
    """Every planted dip is found at its step; verdicts right in nearly every trial."""
    rng = np.random.default_rng(7 + n + paired)
    d = _depth(n, 5.5)
    # recovery must be shown (non-inferiority within 2 points), so it is planted clearly above
    recovered = [0, -d, -d / 2, 0, d / 4, d / 2, d, d]
    late = [0, 0, 0, 0, 0, 0, -d / 2, -d]
    trials, right = 20, 0
    for _ in range(trials):
        s = _series(rng, n, recovered, paired)
        assert s.dip is not None and s.dip.step == 20 and s.dip.depth_ci_low > 0
        right += s.verdict == "dip-recovered" and s.recovery_step is not None and s.recovery_step >= 40
        late_dip = _series(rng, n, late, paired)
        assert late_dip.dip is not None and late_dip.dip.step == 1280 and late_dip.verdict == "degraded"
    assert right / trials >= 0.95


@pytest.mark.parametrize("paired", [True, False])
@pytest.mark.parametrize("n", [400, 1000])
def test_rising_versus_flat_below_reference(n: int, paired: bool) -> None:
    """Telling "keep training" from "degraded" needs a larger effect than finding the dip; the
    rising test is controlled at alpha/2 per series, so a flat plateau is rarely called rising."""
    rng = np.random.default_rng(11 + n + paired)
    d = _depth(n, 9.0)
    in_dip = [0, -d / 4, -d, -d, -0.8 * d, -0.6 * d, -0.5 * d, -0.5 * d]
    degraded = [0, 0, -d / 2, -d, -d, -d, -d, -d]
    trials = 20
    rising = [_series(rng, n, in_dip, paired) for _ in range(trials)]
    flat = [_series(rng, n, degraded, paired) for _ in range(trials)]
    assert all(s.dip is not None for s in rising + flat)
    assert sum(s.verdict == "in-dip" for s in rising) / trials >= 0.9
    assert sum(s.verdict == "degraded" for s in flat) / trials >= 0.9
    assert all(s.onset_step <= s.dip.step for s in flat)


def test_published_qwen3_4b_math_cot_fixture() -> None:
    t = from_csv(FIXTURE)
    for task in ("MATH500", "LiveCodeBench v2"):
        s = t.get(task, "task")
        assert s.verdict == "dip-recovered", task
        assert s.dip.step == 20 and s.recovery_step == 640
    assert t.get("GPQA-Diamond", "task").verdict == "no-dip"
    assert t.get("in_domain", "domain").verdict == "dip-recovered"
    math = t.get("MATH500", "task")
    assert math.dip.depth == pytest.approx(0.708 - 0.629)
    assert math.peak_step == 640 and math.peak_value == pytest.approx(0.862)
    # step 20 has no MMLU-Pro: the transfer delta uses only the tasks shared with the reference
    p20 = t.get("transfer", "domain").points[0]
    assert p20.tasks == ["GPQA-Diamond", "LiveCodeBench v2"]
    assert p20.delta == pytest.approx(((0.145 - 0.206) + (0.173 - 0.146)) / 2)
    assert t.steps == [20, 640] and t.reference_step == 0


def test_csv_variance_uses_k_with_icc(tmp_path: Path) -> None:
    f = tmp_path / "s.csv"
    f.write_text("step,task,score,n,k,domain\n0,foo,0.5,100,4,general\n10,foo,0.4,100,4,general\n")
    conservative = from_csv(f).get("foo", "task").points[0]
    independent = from_csv(f, icc=0.0).get("foo", "task").points[0]
    # icc=1: the n=100 items count once; icc=0: 4 independent repeats each, 400 samples.
    # MOVER-Wilson by hand: upper = d + sqrt((u_a - p_a)^2 + (p_b - l_b)^2), Wilson-cc bounds.
    for point, n in ((conservative, 100), (independent, 400)):
        la, ua = stats.wilson_cc(0.4 * n, n, 1.959964)
        lb, ub = stats.wilson_cc(0.5 * n, n, 1.959964)
        assert point.delta_ci_high == pytest.approx(-0.1 + ((ua - 0.4) ** 2 + (0.5 - lb) ** 2) ** 0.5, rel=1e-5)
        assert point.delta_ci_low == pytest.approx(-0.1 - ((0.4 - la) ** 2 + (ub - 0.5) ** 2) ** 0.5, rel=1e-5)
    assert independent.p_worse < conservative.p_worse


def test_domain_inference_and_csv_errors(tmp_path: Path) -> None:
    assert infer_domain("MATH-500") == "in_domain" and infer_domain("aime24") == "in_domain"
    assert infer_domain("mmlu_pro") == "transfer" and infer_domain("IFEval") == "general"
    with pytest.raises(CotbenchError, match="domain"):
        infer_domain("mystery_bench")
    bad = tmp_path / "b.csv"
    bad.write_text("step,task,score\n0,math500,50\n")
    with pytest.raises(CotbenchError, match="missing column"):
        from_csv(bad)
    bad.write_text("step,task,score,n\n0,mystery,50,10\n10,mystery,40,10\n")
    with pytest.raises(CotbenchError, match="cannot infer"):
        from_csv(bad)
    bad.write_text("step,task,score,n\n0,math500,50,10\n")
    with pytest.raises(CotbenchError, match="besides the reference"):
        from_csv(bad)


def _ck(root: Path, step: int, math: list[int], harm_labels: list[str]) -> Path:
    score = {"full_compliance": 0.0, "full_refusal": 1.0}
    return make_run(root, "ckpt", {
        "math": FakeTask("in_domain", [[s] for s in math], reasoning_tokens=100 + step),
        "harm": FakeTask("safety_harmful", [[score[x]] for x in harm_labels], labels=[[x] for x in harm_labels]),
    }, step=step).path


def test_from_runs_dip_and_safety_onset(tmp_path: Path) -> None:
    n = 200
    good, bad = [1] * n, [1] * 10 + [0] * (n - 10)
    refuse, comply = ["full_refusal"] * n, ["full_compliance"] * 40 + ["full_refusal"] * (n - 40)
    runs = [_ck(tmp_path, 0, good, refuse), _ck(tmp_path, 10, bad, refuse),
            _ck(tmp_path, 20, good, comply), _ck(tmp_path, 30, good, comply)]
    t = from_runs(runs)
    assert t.reference_step == 0 and t.steps == [10, 20, 30]
    math = t.get("in_domain", "domain")
    assert math.verdict == "dip-recovered" and math.dip.step == 10 and math.recovery_step == 20
    harm = t.get("safety_harmful", "domain")
    assert harm.metric == "harmful_compliance" and not harm.higher_is_better
    assert harm.verdict == "degraded" and harm.onset_step == 20
    assert harm.points[1].delta == pytest.approx(40 / n)
    tok = {(p.domain, p.step): p.reasoning_tokens for p in t.tokens}
    assert tok[("in_domain", 30)] == 130
    # the same through the DataFrame API, and steps given explicitly
    df = trajectory(runs[1:], reference=runs[0], steps=[1, 2, 3])
    assert set(df[df.series == "math"].step) == {0, 1, 2, 3}
    assert Trajectory.model_validate_json(t.model_dump_json()) == t


def test_from_runs_errors_and_version_mismatch(tmp_path: Path) -> None:
    a = make_run(tmp_path, "m", {"math": FakeTask("in_domain", [[1], [0]])}, step=0).path
    b = make_run(tmp_path, "m", {"math": FakeTask("in_domain", [[1], [1]], version="2")}, step=5).path
    c = make_run(tmp_path, "nostep", {"math": FakeTask("in_domain", [[1], [1]])}).path
    with pytest.raises(CotbenchError, match="no training step"):
        from_runs([a, c])
    with pytest.raises(CotbenchError, match="step overrides"):
        from_runs([a, b], steps=[0])
    with pytest.raises(CotbenchError, match="not both"):
        compute_trajectory([a], scores=FIXTURE)
    with pytest.raises(CotbenchError, match=r"task math: version differs \(reference 1, step 5 2\)"):
        from_runs([a, b])
    with pytest.raises(CotbenchError, match="nothing to compare"):
        from_runs([a, b], allow_mismatch=["version"])  # the only checkpoint's task is another version


# -- recovery needs evidence (issue: "dip-recovered" was declared whenever a drop was not shown) --


def _csv(tmp_path: Path, rows: list[tuple[int, float, int]]) -> Path:
    f = tmp_path / "s.csv"
    f.write_text("step,task,score,n\n" + "".join(f"{s},math500,{v},{n}\n" for s, v, n in rows))
    return f


def test_back_at_the_dip_value_on_few_items_is_not_recovered(tmp_path: Path) -> None:
    """Reference 0.60 (n = 500), a dip to 0.50, then the last checkpoint at 0.50 on 50 items."""
    s = from_csv(_csv(tmp_path, [(0, 0.60, 500), (10, 0.50, 500), (20, 0.50, 50)])).get("math500", "task")
    assert s.dip is not None and s.dip.step == 10
    assert s.verdict == "inconclusive" and s.recovery_step is None
    assert "back at the reference" not in s.reading and "neither shown within 2 points" in s.reading


def test_last_point_clearly_below_within_its_noise_is_not_recovered(tmp_path: Path) -> None:
    """4.5 points below the reference with an interval reaching from about -10 to +1.6 points."""
    s = from_csv(_csv(tmp_path, [(0, 0.60, 500), (10, 0.45, 500), (20, 0.555, 300)])).get("math500", "task")
    last = s.points[-1]
    assert last.delta == pytest.approx(-0.045) and last.delta_ci_low < -0.09 and last.delta_ci_high > 0
    assert s.verdict == "inconclusive" and "dip-recovered" != s.verdict


def test_recovered_when_shown_within_the_margin(tmp_path: Path) -> None:
    s = from_csv(_csv(tmp_path, [(0, 0.60, 5000), (10, 0.50, 5000), (20, 0.61, 5000)])).get("math500", "task")
    assert s.verdict == "dip-recovered" and s.recovery_step == 20 and s.points[-1].p_noninferior < 0.05
    # a wider margin is easier to show, a zero margin needs the latest point significantly above
    loose = from_csv(_csv(tmp_path, [(0, 0.60, 5000), (10, 0.50, 5000), (20, 0.595, 5000)]), margin=0.05)
    assert loose.get("math500", "task").verdict == "dip-recovered"
    strict = from_csv(_csv(tmp_path, [(0, 0.60, 5000), (10, 0.50, 5000), (20, 0.595, 5000)]), margin=0.0)
    assert strict.get("math500", "task").verdict == "inconclusive"


def test_identical_to_reference_on_few_items_is_inconclusive_with_items_needed(tmp_path: Path) -> None:
    n = 60
    good, bad = [1] * n, [1] * 10 + [0] * (n - 10)
    refuse = ["full_refusal"] * n
    runs = [_ck(tmp_path, 0, good, refuse), _ck(tmp_path, 10, bad, refuse), _ck(tmp_path, 20, good, refuse)]
    s = from_runs(runs).get("in_domain", "domain")
    # zero disagreement is no proof at 60 items: Tango's test needs ~133 for a 2-point margin
    assert s.verdict == "inconclusive" and s.n_needed == 133
    assert "about 133 items per task needed" in s.reading


def test_last_checkpoint_without_shared_items_is_reported_not_skipped(tmp_path: Path) -> None:
    n = 40
    ref = [1] * n
    runs = [_ck(tmp_path, 0, ref, ["full_refusal"] * n),
            _ck(tmp_path, 10, [0] * n, ["full_refusal"] * n),
            # scored only on items the reference did not score... and nothing scored at all at step 30
            make_run(tmp_path, "ckpt", {"math": FakeTask("in_domain", [[None]] * n)}, step=30).path]
    t = from_runs(runs)
    s = t.get("math", "task")
    assert [p.step for p in s.points] == [10, 30]
    assert s.points[-1].value is None and s.points[-1].n == 0 and "no item scored" in s.points[-1].note
    assert s.verdict == "inconclusive" and "step 30" in s.reading and "None" not in s.reading


def test_disjoint_items_are_not_compared(tmp_path: Path) -> None:
    n = 40
    ref_scores = [[1.0]] * 20 + [[None]] * 20
    late = [[None]] * 20 + [[1.0]] * 20
    runs = [make_run(tmp_path, "ckpt", {"math": FakeTask("in_domain", ref_scores)}, step=0).path,
            make_run(tmp_path, "ckpt", {"math": FakeTask("in_domain", [[0.0]] * n)}, step=10).path,
            make_run(tmp_path, "ckpt", {"math": FakeTask("in_domain", late)}, step=20).path]
    s = from_runs(runs).get("math", "task")
    last = s.points[-1]
    assert last.delta is None and last.n_compared == 0 and "no item shared" in last.note
    assert s.verdict == "inconclusive" and "by step None" not in s.reading and "step 20" in s.reading


def test_single_task_p_value_and_interval_agree() -> None:
    """A single-task dip used McNemar's p with a normal-theory CI, which could disagree."""
    rng = np.random.default_rng(21)
    checked = 0
    for _ in range(40):
        n = int(rng.integers(8, 60))
        s = _series(rng, n, [0.0, -0.2, -0.1, 0.0, 0.05, 0.1, 0.0, -0.05], paired=True)
        for p in s.points:
            if p.p_worse is None or abs(p.p_worse - 0.025) < 1e-6:
                continue
            assert (p.p_worse < 0.025) == (p.delta_ci_high < 0), (n, p)
            checked += 1
    assert checked > 200
