"""`cotbench gate` exit codes and outputs (0 pass, 1 fail, 2 usage or infrastructure error)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cotbench.gate import cli as gate_cli
from tests.factories import FakeTask, make_run

app = typer.Typer()
app.command("gate")(gate_cli.gate)
runner = CliRunner()


def _run(root: Path, label: str, correct: int) -> str:
    tasks = {"gsm8k": FakeTask("in_domain", [[1.0]] * correct + [[0.0]] * (500 - correct))}
    return str(make_run(root, label, tasks).path)


@pytest.fixture(autouse=True)
def _no_step_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


def test_pass_exits_0_and_writes_every_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = _run(tmp_path, "base", 300)
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    res = runner.invoke(app, ["--baseline", base, "--candidate", base, "--json", str(tmp_path / "g.json"),
                              "--junit", str(tmp_path / "g.xml"), "--markdown", str(tmp_path / "g.md")])
    assert res.exit_code == 0, res.output
    assert "✅ **PASS**" in res.output
    assert json.loads((tmp_path / "g.json").read_text())["verdict"] == "pass"
    assert (tmp_path / "g.xml").read_text().startswith("<?xml")
    assert summary.read_text().startswith("earlier step\n## cotbench gate")   # appended, not replaced


def test_regression_exits_1(tmp_path: Path) -> None:
    res = runner.invoke(app, ["-b", _run(tmp_path, "base", 300), "-c", _run(tmp_path, "cand", 240), "-q"])
    assert res.exit_code == 1 and "FAIL" in res.output


def test_bad_policy_exits_2_with_one_line(tmp_path: Path) -> None:
    base = _run(tmp_path, "base", 300)
    policy = tmp_path / "gate.yaml"
    policy.write_text("rules:\n  - {name: r, margin: -1}\n")
    res = runner.invoke(app, ["-b", base, "-c", base, "--policy", str(policy)])
    assert res.exit_code == 2
    assert res.output.strip().count("\n") == 0 and "rules.0.margin" in res.output


def test_missing_run_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "cotbench.runner", None)
    res = runner.invoke(app, ["-b", str(tmp_path / "nope"), "-c", str(tmp_path / "nope")])
    assert res.exit_code == 2 and "error:" in res.output


def test_unexpected_crash_exits_2_never_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("bug")

    monkeypatch.setattr("cotbench.gate.evaluate.run_gate", boom)  # the command imports it when run
    base = _run(tmp_path, "base", 300)
    res = runner.invoke(app, ["-b", base, "-c", base])
    assert res.exit_code == 2 and "internal error: ZeroDivisionError: bug" in res.output


def test_missing_option_is_a_usage_error() -> None:
    assert runner.invoke(app, ["--baseline", "x"]).exit_code == 2


def test_inconclusive_under_fail_policy_is_said_so_in_every_output(tmp_path: Path) -> None:
    small = {"gsm8k": FakeTask("in_domain", [[1.0]] * 10 + [[0.0]] * 5)}
    base, cand = (str(make_run(tmp_path, label, small).path) for label in ("base", "cand"))
    policy = tmp_path / "gate.yaml"
    policy.write_text("on_inconclusive: fail\nrules:\n  - {name: math, domain: in_domain, margin: 0.02}\n")
    res = runner.invoke(app, ["-b", base, "-c", cand, "--policy", str(policy), "--json", str(tmp_path / "g.json"),
                              "--junit", str(tmp_path / "g.xml")])
    assert res.exit_code == 1, res.output
    assert "❌ **FAIL**: 1 of 1 check inconclusive (policy: fail)" in res.output
    assert "| ❌ inconclusive (policy: fail) |" in res.output and "failed" not in res.output
    check = json.loads((tmp_path / "g.json").read_text())["checks"][0]
    assert (check["verdict"], check["failure"], check["status"]) == ("fail", "inconclusive",
                                                                   "inconclusive (policy: fail)")
    assert 'type="inconclusive"' in (tmp_path / "g.xml").read_text()
    quiet = runner.invoke(app, ["-b", base, "-c", cand, "--policy", str(policy), "-q"])
    assert quiet.output.strip() == "❌ **FAIL**: 1 of 1 check inconclusive (policy: fail)"
