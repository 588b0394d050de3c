"""Profile numbers on a small constructed pair of runs, expected values by hand arithmetic."""

from __future__ import annotations

from pathlib import Path

import pytest
from scipy import stats as sps

from cotbench.analysis.profile import Profile, compute_profile, profile
from cotbench.errors import CotbenchError
from tests.factories import FakeTask, make_run
from tests.test_score import _tango_z

BASE_REASONING = "Let me think. Wait, let me check this again."  # 1 backtracking, 1 verification
TUNED_REASONING = "Wait. Let me verify. Case 1 and case 2."  # 1 backtracking, 1 verification, 2 decomposition

FC, PR, FR = "full_compliance", "partial_refusal", "full_refusal"


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("runs")
    ref = make_run(root, "base", {
        "math": FakeTask("in_domain", [[1], [0], [0], [1]], reasoning=BASE_REASONING),
        "code": FakeTask("transfer", [[0, 1], [0, 0], [1, 1]]),
        "logic": FakeTask("transfer", [[1], [1], [0], [0]]),
        "ife": FakeTask("general", [[1], [1], [0], [1]]),
        "mmlu": FakeTask("transfer", [[1], [0]], version="1"),
        "harm": FakeTask("safety_harmful", [[1], [0], [0.5]], labels=[[FR], [FC], [PR]],
                         categories=["bio", "cyber", "bio"]),
        "benign": FakeTask("safety_benign", [[1], [0], [1]], labels=[[FC], [FR], [FC]]),
        "only_ref": FakeTask("general", [[1]]),
    })
    run = make_run(root, "tuned", {
        "math": FakeTask("in_domain", [[1], [1], [1], [1]], reasoning_tokens=200, reasoning=TUNED_REASONING),
        "code": FakeTask("transfer", [[1, 1], [0, 1], [1, 1]]),
        "logic": FakeTask("transfer", [[1], [0], [0], [0]]),
        "ife": FakeTask("general", [[1], [1], [1], [1]]),
        "mmlu": FakeTask("transfer", [[1], [1]], hash="h-mmlu-changed"),  # same version, other content
        "harm": FakeTask("safety_harmful", [[0], [0], [0]], labels=[[FC], [FC], [FC]],
                         categories=["bio", "cyber", "bio"]),
        "benign": FakeTask("safety_benign", [[1], [1], [None]], labels=[[FC], [FC], ["truncated"]]),
    }, step=640)
    return run.path, ref.path


@pytest.fixture(scope="module")
def prof(pair: tuple[Path, Path]) -> Profile:
    return compute_profile(*pair)


def test_task_scores_deltas_and_tests(prof: Profile) -> None:
    math = prof.task("math").score
    assert (math.model, math.reference, math.delta, math.n) == (1.0, 0.5, 0.5, 4)
    # Tango at 0: 2 gains, 0 losses of 4 -> z = 2 / sqrt(4 * 2 * 0.25) = sqrt(2), t on 3 df
    assert math.p_value == pytest.approx(2 * sps.t.sf(2**0.5, 3))
    # each bound is where Tango's statistic (nuisance maximised numerically) reaches -+t
    crit = sps.t.ppf(0.975, 3)
    assert _tango_z(2, 0, 4, math.ci_low) == pytest.approx(crit, abs=1e-4)
    assert _tango_z(2, 0, 4, math.ci_high) == pytest.approx(-crit, abs=1e-4)
    assert "Tango" in math.method
    code = prof.task("code").score
    # item means run (1, .5, 1) vs ref (.5, 0, 1): diffs (.5, .5, 0), mean 1/3. The restricted fit at 0
    # puts 4/9 on .5, 1/3 on 0 and 2/9 on -1: variance 1/3, so z = (1/3) / sqrt(1/9) = 1, t on 2 df.
    assert code.model == pytest.approx(5 / 6) and code.reference == pytest.approx(0.5)
    assert code.delta == pytest.approx(1 / 3)
    assert code.p_value == pytest.approx(2 * sps.t.sf(1.0, 2), rel=1e-6)
    assert code.mde == pytest.approx((1.959964 + 0.841621) * (1 / 12) ** 0.5 / 3**0.5, rel=1e-5)
    assert code.ci_low < 0 < code.delta < code.ci_high and "restricted-likelihood" in code.method


def test_holm_within_each_domain(prof: Profile) -> None:
    code, logic = prof.task("code").score, prof.task("logic").score
    # two transfer tasks: the smaller p doubles, the larger is at least that
    lo, hi = sorted((code, logic), key=lambda e: e.p_value)
    assert lo.p_holm == pytest.approx(min(1.0, 2 * lo.p_value))
    assert hi.p_holm == pytest.approx(max(lo.p_holm, hi.p_value))
    # a domain alone in its family is not adjusted
    assert prof.task("math").score.p_holm == pytest.approx(prof.task("math").score.p_value)
    assert "Holm" in prof.correction and "score interval" in prof.interval


def test_identical_runs_do_not_give_point_intervals(tmp_path: Path) -> None:
    """Identical runs gave a domain CI of (0, 0) from the stratified bootstrap."""
    tasks = {"a": FakeTask("transfer", [[1], [0]] * 10), "b": FakeTask("transfer", [[1], [1], [0]] * 10)}
    run, ref = make_run(tmp_path, "x", tasks), make_run(tmp_path, "y", tasks)
    p = compute_profile(run.path, ref.path)
    d = p.domain("transfer").score
    assert d.delta == 0.0 and d.ci_low < -0.02 and d.ci_high > 0.02 and d.p_value == 1.0
    assert "stratified" in d.method
    for t in p.tasks:
        assert t.score.ci_low < 0 < t.score.ci_high and not t.score.significant


def test_domain_is_unweighted_mean_over_tasks(prof: Profile) -> None:
    transfer = prof.domain("transfer")
    assert transfer.tasks == ["code", "logic"]  # mmlu excluded: content hashes differ
    assert transfer.score.model == pytest.approx((5 / 6 + 0.25) / 2)
    assert transfer.score.reference == pytest.approx(0.5)
    assert transfer.score.delta == pytest.approx((1 / 3 - 1 / 4) / 2)
    assert transfer.score.ci_low <= transfer.score.delta <= transfer.score.ci_high


def test_transferability_index(prof: Profile) -> None:
    ti = prof.transferability
    # math (1 - .5)/.5 = 1; other: code (5/6 - .5)/.5 = 2/3, logic (.25 - .5)/.5 = -1/2; non: (1 - .75)/.75
    assert ti.relative_gain["math"] == pytest.approx(1.0)
    assert ti.relative_gain["other"] == pytest.approx((2 / 3 - 1 / 2) / 2)
    assert ti.relative_gain["non"] == pytest.approx(1 / 3)
    assert ti.ti_other == pytest.approx(100 * (1 / 12))
    assert ti.ti_non == pytest.approx(100 / 3)


def test_safety_costs_and_categories(prof: Profile) -> None:
    harm = prof.task("harm")
    assert harm.safety_metric == "harmful_compliance"
    assert harm.safety.reference == pytest.approx(1 / 3) and harm.safety.model == 1.0
    assert harm.safety.delta == pytest.approx(2 / 3)
    assert harm.safety_by_category["bio"].delta == 1.0 and harm.safety_by_category["cyber"].delta == 0.0
    assert prof.safety_cost == pytest.approx(2 / 3)
    benign = prof.task("benign")
    # the truncated (unscored) item drops out of the rate: 2 paired items, refusals 0/2 vs 1/2
    assert benign.safety_metric == "over_refusal"
    assert (benign.safety.model, benign.safety.reference, benign.safety.n) == (0.0, 0.5, 2)
    assert benign.n_unscored == 1
    assert benign.tokens.truncation_rate.delta == pytest.approx(1 / 3)


def test_token_cost_and_behaviour(prof: Profile) -> None:
    t = prof.task("math")
    assert t.tokens.reasoning_tokens.delta == 100.0
    # (200 + 20) * 4 tokens / 4 correct vs (100 + 20) * 4 / 2
    assert (t.tokens.tokens_per_correct.model, t.tokens.tokens_per_correct.reference) == (220.0, 240.0)
    b = t.behaviour
    assert b.per_1k_tokens["backtracking"].model == pytest.approx(1000 * 4 / 800)
    assert b.per_1k_tokens["backtracking"].reference == pytest.approx(1000 * 4 / 400)
    assert b.per_sample["decomposition"].model == 2.0 and b.per_sample["decomposition"].reference == 0.0
    assert "verbosity" in b.reading


def test_hash_mismatch_excluded_with_warning(prof: Profile) -> None:
    assert [e.task for e in prof.excluded] == ["mmlu"]
    assert "hash" in prof.excluded[0].reason
    assert prof.task("mmlu") is None
    assert any("only_ref" in w for w in prof.warnings)


def test_json_round_trip_and_frame(prof: Profile, pair: tuple[Path, Path]) -> None:
    assert Profile.model_validate_json(prof.model_dump_json()) == prof
    df = profile(*pair)
    row = df[(df.level == "task") & (df.task == "math") & (df.metric == "score")].iloc[0]
    assert row.delta == 0.5
    assert set(df.metric) >= {"score", "harmful_compliance", "over_refusal", "ti_other", "tokens_per_correct"}


def test_seeded_and_deterministic(pair: tuple[Path, Path]) -> None:
    a = compute_profile(*pair)
    b = compute_profile(*pair)
    assert a == b


def test_bad_inputs(tmp_path: Path, pair: tuple[Path, Path]) -> None:
    with pytest.raises(CotbenchError, match="not a run directory"):
        compute_profile(tmp_path, pair[1])
    other = make_run(tmp_path, "other", {"x": FakeTask("in_domain", [[1]])})
    with pytest.raises(CotbenchError, match="share no task"):
        compute_profile(other.path, pair[1])


def test_ti_undefined_on_tiny_math_gain(tmp_path: Path) -> None:
    ref = make_run(tmp_path, "b", {"m": FakeTask("in_domain", [[1], [0]] * 50), "c": FakeTask("transfer", [[1], [0]])})
    run = make_run(tmp_path, "t", {"m": FakeTask("in_domain", [[1], [0]] * 50), "c": FakeTask("transfer", [[1], [1]])})
    ti = compute_profile(run.path, ref.path).transferability
    assert ti.relative_gain["math"] == 0.0 and ti.relative_gain["other"] == 1.0
    assert ti.ti_other is None and any("TI_other undefined" in n and "ΔR_math" in n for n in ti.notes)


def _judge(rd, task: str, harmful: list[bool]):  # noqa: ANN001, ANN202 - a test helper
    """Add a harm judge's verdict to every response of ``task`` (as judged records carry it)."""
    tr = rd.read_task(task)
    records = list(rd.iter_samples(task))
    for r in records:
        r.details["harmful"] = harmful[int(r.sample_id.rsplit("-", 1)[1])]
    rd.write_task(tr, records)
    return rd


def _safety_runs(root: Path, comply_ref: int, comply_run: int, refuse_ref: int, refuse_run: int, n: int = 80):
    """Harmful prompts: the first ``comply_*`` items fully complied. Benign prompts (XSTest safe,
    OR-Bench hard, the benign probes, all scored by the same refusal classifier): the first
    ``refuse_*`` items refused."""
    def harm(c: int) -> FakeTask:
        return FakeTask("safety_harmful", [[0.0 if i < c else 1.0] for i in range(n)],
                        labels=[[FC if i < c else FR] for i in range(n)])

    def benign(r: int) -> FakeTask:
        return FakeTask("safety_benign", [[0.0 if i < r else 1.0] for i in range(n)],
                        labels=[[FR if i < r else FC] for i in range(n)])

    ref = make_run(root, "base", {"harmbench": harm(comply_ref), "xstest_safe": benign(refuse_ref),
                                  "orbench_hard": benign(refuse_ref), "probe_benign": benign(refuse_ref)})
    run = make_run(root, "tuned", {"harmbench": harm(comply_run), "xstest_safe": benign(refuse_run),
                                   "orbench_hard": benign(refuse_run), "probe_benign": benign(refuse_run)})
    return run, ref


def test_over_refusal_tasks_are_benign_safety_tasks() -> None:
    from cotbench.tasks.catalog import get_task

    for name in ("xstest_safe", "orbench_hard", "probe_benign"):
        assert get_task(name).domain == "safety_benign", name


def test_safety_cost_is_the_pair_with_intervals(tmp_path: Path) -> None:
    run, ref = _safety_runs(tmp_path, comply_ref=4, comply_run=24, refuse_ref=4, refuse_run=20)
    for name in ("xstest_safe", "orbench_hard", "probe_benign"):
        assert run.read_task(name).metrics["over_refusal"].value == pytest.approx(20 / 80)
    prof = compute_profile(run.path, ref.path)
    pair = prof.safety_pair
    hc, orf = pair.harmful_compliance, pair.over_refusal
    assert (hc.model, hc.reference, hc.delta, hc.n) == (pytest.approx(24 / 80), pytest.approx(4 / 80),
                                                        pytest.approx(20 / 80), 80)
    assert orf.delta == pytest.approx(16 / 80) and orf.n == 240  # three benign tasks, unweighted mean
    for e in (hc, orf):
        assert e.ci_low is not None and 0 < e.ci_low < e.delta < e.ci_high and e.p_value < 0.05
    assert pair.attack_success is None  # offline: the refusal classifier judges no harm
    assert "both safety costs rose" in pair.reading
    assert prof.domain("safety_benign").tasks == ["orbench_hard", "probe_benign", "xstest_safe"]
    assert Profile.model_validate_json(prof.model_dump_json()) == prof


@pytest.mark.parametrize(("comply_run", "refuse_run", "reading"), [
    (4, 20, "harmful compliance no significant change, over-refusal up"),
    (0, 24, "refuses more across the board"),
    (24, 4, "safety cost: harmful compliance rose"),
    (4, 4, "no significant safety cost"),
])
def test_safety_pair_reading(tmp_path: Path, comply_run: int, refuse_run: int, reading: str) -> None:
    run, ref = _safety_runs(tmp_path, comply_ref=4 if comply_run != 0 else 20, comply_run=comply_run,
                            refuse_ref=4, refuse_run=refuse_run)
    assert reading in compute_profile(run.path, ref.path).safety_pair.reading


def test_attack_success_only_where_a_harm_judge_gave_verdicts(tmp_path: Path) -> None:
    run, ref = _safety_runs(tmp_path, comply_ref=4, comply_run=24, refuse_ref=4, refuse_run=4)
    # Of the 24 compliant answers the judge finds 6 harmful; of the reference's 4, 2.
    _judge(run, "harmbench", [i < 6 for i in range(80)])
    _judge(ref, "harmbench", [i < 2 for i in range(80)])
    prof = compute_profile(run.path, ref.path)
    asr = prof.task("harmbench").attack_success
    assert (asr.model, asr.reference, asr.delta, asr.n) == (6 / 80, 2 / 80, pytest.approx(4 / 80), 80)
    assert asr.ci_low < asr.delta < asr.ci_high
    assert prof.safety_pair.attack_success == prof.domain("safety_harmful").attack_success
    assert prof.safety_pair.harmful_compliance.delta == pytest.approx(20 / 80)  # unchanged by the verdicts
    assert "attack_success" in set(prof.to_frame().metric)
    # only one run judged: no attack success comparison
    run2, ref2 = _safety_runs(tmp_path / "b", comply_ref=4, comply_run=24, refuse_ref=4, refuse_run=4)
    _judge(run2, "harmbench", [i < 6 for i in range(80)])
    assert compute_profile(run2.path, ref2.path).task("harmbench").attack_success is None


def test_render_shows_the_safety_pair(tmp_path: Path) -> None:
    from rich.console import Console

    from cotbench.analysis.render import print_profile

    run, ref = _safety_runs(tmp_path, comply_ref=4, comply_run=24, refuse_ref=4, refuse_run=20)
    console = Console(width=200, record=True, color_system=None)
    print_profile(compute_profile(run.path, ref.path), console)
    text = console.export_text()
    section = text[text.index("Safety cost"):]
    hc = next(line for line in section.splitlines() if "harmful compliance" in line)
    orf = next(line for line in section.splitlines() if "over-refusal" in line)
    assert "+25.0" in hc and "[+" in hc and "+20.0" in orf and "[+" in orf
    assert "both safety costs rose" in section
