"""CLI commands, tables and figures end to end on synthetic run directories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from cotbench.analysis.cli import app, parse_steps
from cotbench.analysis.profile import compute_profile
from cotbench.analysis.render import print_profile, print_trajectory
from cotbench.analysis.trajectory import from_csv
from cotbench.errors import CotbenchError
from tests.factories import FakeTask, make_run

FIXTURE = Path(__file__).parent / "fixtures" / "qwen3_4b_base_math_cot_20k.csv"
FC, FR = "full_compliance", "full_refusal"
EVIL = "m[bold]x$y$<b>"


def _runs(root: Path) -> tuple[Path, Path]:
    def harm(labels: list[str]) -> FakeTask:
        return FakeTask("safety_harmful", [[1.0 if x == FR else 0.0] for x in labels], labels=[[x] for x in labels],
                        categories=["[red]bio", "cyber"] * (len(labels) // 2))

    ref = make_run(root, "base", {"math": FakeTask("in_domain", [[1], [0]] * 20),
                                  "benign": FakeTask("safety_benign", [[1], [0]], labels=[[FC], [FR]]),
                                  "harm": harm([FR] * 20)}, step=0)
    run = make_run(root, EVIL, {"math": FakeTask("in_domain", [[1], [1]] * 20, reasoning_tokens=250),
                                "benign": FakeTask("safety_benign", [[1], [1]], labels=[[FC], [FC]]),
                                "harm": harm([FC] * 8 + [FR] * 12)}, step=100, run_id="tuned")
    return run.path, ref.path


def test_profile_command_json_and_figures(tmp_path: Path) -> None:
    run, ref = _runs(tmp_path)
    figs = tmp_path / "figs"
    res = CliRunner().invoke(app, ["profile", str(run), "--reference", str(ref), "--json", "--figure-dir", str(figs),
                                   ])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["model"] == EVIL and data["domains"][0]["domain"] == "in_domain"
    assert data["domains"][0]["score"]["delta"] == pytest.approx(0.5)
    assert sorted(p.name for p in figs.iterdir()) == ["capability_cost_plane.png", "capability_cost_plane.svg",
                                                      "domain_deltas.png", "domain_deltas.svg"]
    assert (figs / "domain_deltas.png").read_bytes()[:4] == b"\x89PNG"
    svg = (figs / "capability_cost_plane.svg").read_text()
    assert "<b>" not in svg  # the model name is escaped text in SVG, never markup


def test_profile_tables_show_untrusted_names_literally(tmp_path: Path) -> None:
    run, ref = _runs(tmp_path)
    console = Console(record=True, width=200)
    print_profile(compute_profile(run, ref), console)
    text = console.export_text()
    assert EVIL in text and "[red]bio" in text
    assert "harmful_compliance" in text and "over-refusal" in text and "TI_other" in text


def test_trajectory_command_from_scores_and_runs(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["trajectory", "--scores", str(FIXTURE), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["verdicts"] == {"in_domain": "dip-recovered", "transfer": "no-dip"}
    root = tmp_path / "runs"
    for step, math in [(0, [[1], [1]] * 100), (10, [[0], [0]] * 100), (20, [[1], [1]] * 100)]:
        make_run(root, "ck", {"math": FakeTask("in_domain", math)}, step=step)
    figs = tmp_path / "figs"
    res = CliRunner().invoke(app, ["trajectory", str(root), "--figure-dir", str(figs)])
    assert res.exit_code == 0, res.output
    assert "dipped at step 10; within 2 points of the reference since step 20" in " ".join(res.stdout.split())
    assert {p.name for p in figs.iterdir()} == {"trajectory_in_domain.png", "trajectory_in_domain.svg"}
    res = CliRunner().invoke(app, ["trajectory", str(root), "--step-override", "5,6,7", "--json"])
    assert json.loads(res.stdout)["steps"] == [6, 7]


def test_trajectory_command_errors() -> None:
    res = CliRunner().invoke(app, ["trajectory"])
    assert isinstance(res.exception, CotbenchError)
    res = CliRunner().invoke(app, ["trajectory", "--scores", str(FIXTURE), "--step-override", "1"])
    assert isinstance(res.exception, CotbenchError)
    with pytest.raises(CotbenchError, match="comma-separated"):
        parse_steps("1,x")


def test_trajectory_table_text() -> None:
    console = Console(record=True, width=200)
    print_trajectory(from_csv(FIXTURE), console)
    text = console.export_text()
    assert "LiveCodeBench v2" in text and "62.9 (-7.9)*" in text
