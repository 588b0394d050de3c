"""Runs made under different generation settings, task versions or scorer modes are never
compared silently: profile, trajectory, gate and leaderboard refuse unless told otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cotbench.analysis.comparability import (
    FIELDS,
    ComparabilityError,
    model_differences,
    parse_allowed,
    require_comparable,
    run_differences,
    task_differences,
)
from cotbench.analysis.profile import compute_profile
from cotbench.analysis.trajectory import from_runs
from cotbench.gate.evaluate import evaluate_gate
from cotbench.gate.policy import parse_policy
from cotbench.results.schema import GenerationSettings, ModelInfo, TaskInfo
from cotbench.results.store import RunDir
from tests.e2e import cli
from tests.factories import FakeTask, make_run
from tests.test_cli_errors import _one_line_error

POLICY = parse_policy("rules:\n  - {name: r, margin: 0.05}\n")
MSG = r"task arithmetic: max_tokens differs \(reference 256, run 1024\)"


def _info(**kw: object) -> TaskInfo:
    gen = {k: kw.pop(k) for k in list(kw) if k in GenerationSettings.model_fields}
    return TaskInfo(name="t", version=str(kw.pop("version", "1")), hash="h", domain="in_domain", scorer="exact",
                    scorer_mode=str(kw.pop("scorer_mode", "exact")), generation=GenerationSettings(**gen), n_items=1)


def _model(**kw: str | None) -> ModelInfo:
    return ModelInfo(spec="hf:m", backend="hf", model="m", label="m", identity="i", **kw)


def _tasks(correct: int = 30) -> dict[str, FakeTask]:
    return {"arithmetic": FakeTask("in_domain", [[1.0]] * correct + [[0.0]] * (40 - correct))}


def _pair(root: Path, **candidate: object) -> tuple[RunDir, RunDir]:
    """Two checkpoints of one model: step 0 at max_tokens 256, step 10 differing as given (default:
    max_tokens 1024) and 20 points worse."""
    gen = candidate.pop("generation", {"max_tokens": 1024})
    base = make_run(root, "m", _tasks(30), step=0, generation={"max_tokens": 256})
    gen = {"max_tokens": 256, **gen}  # type: ignore[dict-item]
    cand = make_run(root, "m", _tasks(22), step=10, generation=gen, **candidate)  # type: ignore[arg-type]
    return base, cand


# -- the comparison itself ---------------------------------------------------------------------------


@pytest.mark.parametrize("field, a, b", [
    ("temperature", 0.0, 0.6), ("top_p", 1.0, 0.95), ("max_tokens", 256, 1024), ("k", 1, 4), ("seed", 1, 2),
    ("stop", [], ["\n\n"]), ("version", "1", "2"), ("scorer_mode", "exact", "judge"),
])
def test_every_task_field_is_detected(field: str, a: object, b: object) -> None:
    (d,) = task_differences(_info(**{field: a}), _info(**{field: b}))
    assert (d.field, d.baseline, d.candidate, d.task) == (field, a, b, "t")


@pytest.mark.parametrize("field", ["system_prompt", "chat_template"])
def test_model_fields_are_detected(field: str) -> None:
    (d,) = model_differences(_model(), _model(**{field: "Think step by step."}))
    assert (d.field, d.baseline, d.candidate, d.task) == (field, None, "Think step by step.", None)
    with pytest.raises(ComparabilityError, match=f"^{field} differs \\(baseline none, candidate 'Think step"):
        require_comparable([d], ())


def test_identical_settings_pass() -> None:
    assert task_differences(_info(max_tokens=256), _info(max_tokens=256)) == []
    assert model_differences(_model(system_prompt="x"), _model(system_prompt="x")) == []
    assert require_comparable([], ()) == []


def test_error_names_every_difference_and_the_flags_that_allow_them() -> None:
    diffs = task_differences(_info(max_tokens=256, seed=1), _info(max_tokens=1024, seed=2))
    with pytest.raises(ComparabilityError) as exc:
        require_comparable(diffs, ("seed",))
    assert str(exc.value) == ("task t: max_tokens differs (baseline 256, candidate 1024); rerun with the same "
                              "settings or pass --allow-mismatch max_tokens")
    assert require_comparable(diffs, ("all",)) == ["mismatch allowed: task t: max_tokens differs (baseline 256, "
                                                   "candidate 1024)", "mismatch allowed: task t: seed differs "
                                                   "(baseline 1, candidate 2)"]


def test_a_suite_wide_change_names_its_tasks_once() -> None:
    base = {n: _info(max_tokens=256).model_copy(update={"name": n}) for n in "abcde"}
    cand = {n: _info(max_tokens=1024).model_copy(update={"name": n}) for n in "abcde"}
    with pytest.raises(ComparabilityError, match=r"^tasks a, b, c and 2 more: max_tokens differs \(baseline 256, "
                       r"candidate 1024\); rerun with the same settings or pass --allow-mismatch max_tokens$"):
        require_comparable(run_differences(base, cand), ())


def test_allowed_fields_are_validated() -> None:
    assert parse_allowed(["seed", "max_tokens,seed"]) == ("max_tokens", "seed")
    assert parse_allowed(["all", "seed"]) == ("all",)
    assert set(FIELDS) >= {"temperature", "top_p", "max_tokens", "k", "seed", "stop", "system_prompt",
                           "chat_template", "version", "scorer_mode"}
    with pytest.raises(ComparabilityError, match="unknown --allow-mismatch field 'max_token'"):
        parse_allowed(["max_token"])


# -- profile, trajectory, gate -------------------------------------------------------------------------


def test_profile_refuses_different_max_tokens(tmp_path: Path) -> None:
    base, cand = _pair(tmp_path)
    with pytest.raises(ComparabilityError, match=MSG + "; rerun with the same settings or pass --allow-mismatch "
                       "max_tokens"):
        compute_profile(cand, base)


def test_profile_override_is_recorded(tmp_path: Path) -> None:
    base, cand = _pair(tmp_path)
    p = compute_profile(cand, base, allow_mismatch=["max_tokens"])
    assert p.mismatches_allowed == ["max_tokens"]
    assert p.task("arithmetic") is not None and p.task("arithmetic").score.delta == pytest.approx(-0.2)
    assert any("max_tokens differs (reference 256, run 1024)" in w for w in p.warnings)
    assert compute_profile(base, base).mismatches_allowed == []


@pytest.mark.parametrize("kw, fragment", [
    ({"system_prompt": "Be brief."}, "system_prompt differs (reference none, run 'Be brief.')"),
    ({"chat_template": "t.jinja"}, "chat_template differs (reference none, run 't.jinja')"),
    ({"scorer_mode": "judge"}, "task arithmetic: scorer_mode differs (reference exact, run judge)"),
    ({"generation": {"temperature": 0.6}}, "task arithmetic: temperature differs (reference 0.0, run 0.6)"),
])
def test_profile_refuses_model_and_scorer_differences(tmp_path: Path, kw: dict, fragment: str) -> None:
    base, cand = _pair(tmp_path, **kw)
    with pytest.raises(ComparabilityError) as exc:
        compute_profile(cand, base)
    assert fragment in str(exc.value)


def test_profile_still_excludes_a_hash_mismatch_of_the_same_version(tmp_path: Path) -> None:
    base = make_run(tmp_path, "base", {**_tasks(), "other": FakeTask("transfer", [[1.0]] * 4)})
    cand = make_run(tmp_path, "cand", {**_tasks(), "other": FakeTask("transfer", [[1.0]] * 4, hash="h-changed")})
    p = compute_profile(cand, base)
    assert [e.task for e in p.excluded] == ["other"] and p.mismatches_allowed == []


def test_profile_refuses_a_version_change_and_excludes_it_when_allowed(tmp_path: Path) -> None:
    base = make_run(tmp_path, "base", {**_tasks(), "other": FakeTask("transfer", [[1.0]] * 4)})
    cand = make_run(tmp_path, "cand", {**_tasks(), "other": FakeTask("transfer", [[1.0]] * 4, version="2")})
    with pytest.raises(ComparabilityError, match=r"task other: version differs \(reference 1, run 2\)"):
        compute_profile(cand, base)
    p = compute_profile(cand, base, allow_mismatch=["version"])
    assert [e.task for e in p.excluded] == ["other"] and p.mismatches_allowed == ["version"]


def test_trajectory_checks_every_checkpoint_against_the_reference(tmp_path: Path) -> None:
    ref = make_run(tmp_path, "m", _tasks(30), step=0, generation={"max_tokens": 256})
    same = make_run(tmp_path, "m", _tasks(28), step=5, generation={"max_tokens": 256})
    other = make_run(tmp_path, "m", _tasks(22), step=10, generation={"max_tokens": 1024})
    assert from_runs([ref, same]).mismatches_allowed == []
    with pytest.raises(ComparabilityError, match=r"max_tokens differs \(reference 256, step 10 1024\)"):
        from_runs([ref, same, other])
    t = from_runs([ref, same, other], allow_mismatch=["max_tokens"])
    assert t.mismatches_allowed == ["max_tokens"] and t.steps == [5, 10]
    assert json.loads(t.model_dump_json())["mismatches_allowed"] == ["max_tokens"]
    assert any("max_tokens differs (reference 256, step 10 1024)" in w for w in t.warnings)


def test_gate_refuses_and_records_the_override(tmp_path: Path) -> None:
    base, cand = _pair(tmp_path)
    with pytest.raises(ComparabilityError, match=r"max_tokens differs \(baseline 256, candidate 1024\)"):
        evaluate_gate(base, cand, POLICY)
    result = evaluate_gate(base, cand, POLICY, allow_mismatch=["max_tokens"])
    assert result.verdict == "fail" and result.mismatches_allowed == ["max_tokens"]
    assert any("max_tokens differs (baseline 256, candidate 1024)" in n for n in result.notes)
    assert evaluate_gate(base, base, POLICY).mismatches_allowed == []


# -- the command line ------------------------------------------------------------------------------------


def test_cli_refuses_with_one_line_and_the_flag_overrides(tmp_path: Path) -> None:
    base, cand = (str(rd.path) for rd in _pair(tmp_path))
    flag = "pass --allow-mismatch max_tokens"
    _one_line_error(cli("profile", cand, "--reference", base),
                    "max_tokens differs (reference 256, run 1024); rerun with the same settings or " + flag)
    _one_line_error(cli("trajectory", base, cand), "max_tokens differs (reference 256, step 10 1024)")
    _one_line_error(cli("gate", "-b", base, "-c", cand), "max_tokens differs (baseline 256, candidate 1024)")
    _one_line_error(cli("profile", cand, "-r", base, "--allow-mismatch", "max_token"), "unknown --allow-mismatch field")

    ok = cli("profile", cand, "--reference", base, "--json", "--allow-mismatch", "max_tokens")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["mismatches_allowed"] == ["max_tokens"]
    text = cli("profile", cand, "--reference", base, "--allow-mismatch", "all")
    assert text.returncode == 0 and "mismatches allowed: all" in text.stdout
    traj = cli("trajectory", base, cand, "--json", "--allow-mismatch", "max_tokens")
    assert traj.returncode == 0 and json.loads(traj.stdout)["mismatches_allowed"] == ["max_tokens"]
    gate = cli("gate", "-b", base, "-c", cand, "--json", str(tmp_path / "g.json"), "--allow-mismatch", "max_tokens")
    assert gate.returncode == 1, gate.stderr  # compared, and the 20-point drop fails the gate
    assert json.loads((tmp_path / "g.json").read_text())["mismatches_allowed"] == ["max_tokens"]
    assert "mismatches allowed" in gate.stdout.lower()


# -- the leaderboard ---------------------------------------------------------------------------------------


def test_leaderboard_separates_settings_and_skips_mismatched_deltas(tmp_path: Path) -> None:
    from cotbench.site.build import build_site

    runs = tmp_path / "runs"
    _pair(runs)  # one checkpoint series whose steps used different max tokens
    report = build_site([runs], tmp_path / "out", samples=False, workers=0)
    index = (tmp_path / "out" / "index.html").read_text()
    assert "2 comparability groups" in index and "generation settings" in index
    assert any("not compared" in p and "max_tokens differs (reference 256, run 1024)" in p for p in report.problems)
    assert any("no trajectory" in p and "max_tokens differs" in p for p in report.problems)
    rows = json.loads((tmp_path / "out" / "leaderboard.json").read_text())
    assert len({r["group"] for r in rows}) == 2 and all(r["delta_in_domain"] is None for r in rows)
    (task_page,) = (tmp_path / "out" / "tasks").glob("*.html")
    assert "used different settings (max_tokens)" in task_page.read_text()
    assert "max tokens 256" in index and "max tokens 1024" in index


def test_leaderboard_override_merges_and_records(tmp_path: Path) -> None:
    from cotbench.site.build import build_site

    runs = tmp_path / "runs"
    _pair(runs)
    report = build_site([runs], tmp_path / "out", samples=False, workers=0, allow_mismatch=["max_tokens"])
    assert report.problems == []
    index = (tmp_path / "out" / "index.html").read_text()
    assert "comparability groups" not in index and "mismatches allowed: max_tokens" in index
    rows = json.loads((tmp_path / "out" / "leaderboard.json").read_text())
    assert {r["mismatches_allowed"] for r in rows} == {"max_tokens"}
    assert [r["delta_in_domain"] for r in rows if r["step"] == 10] == [pytest.approx(-0.2)]


def test_leaderboard_cli_flag(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cotbench.site.cli import app

    runs = tmp_path / "runs"
    _pair(runs)
    args = ["build", str(runs), "--output", str(tmp_path / "out"), "--no-samples", "--workers", "0"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0 and "skipped:" in res.output and "max_tokens differs" in res.output
    res = CliRunner().invoke(app, [*args, "--allow-mismatch", "max_tokens"])
    assert res.exit_code == 0 and "skipped:" not in res.output, res.output
