"""Terminal summary: a task with no scored sample is shown as not scored, not as 0%; the table fits
in 80 columns with a legend."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from cotbench.results.schema import TaskStatusEntry
from cotbench.results.store import RunDir
from cotbench.terminal_summary import headline_metric, run_summary_table
from tests.e2e import requires_embedded
from tests.factories import FakeTask, make_run


def _text(rd) -> str:
    console = Console(width=200, record=True, color_system=None)
    console.print(run_summary_table(rd))
    return console.export_text()


def _row(text: str, start: str) -> str:
    return next(line for line in text.splitlines() if line.strip("│ ").startswith(start))


def test_unscored_task_is_not_zero_and_not_in_domain_mean(tmp_path: Path) -> None:
    rd = make_run(tmp_path, "m", {
        "h_none": FakeTask("safety_harmful", [[None], [None]], labels=[["truncated"], ["truncated"]]),
        "h_refused": FakeTask("safety_harmful", [[1.0], [1.0]], labels=[["full_refusal"], ["full_refusal"]]),
        "h_half": FakeTask("safety_harmful", [[1.0], [0.0]], labels=[["full_refusal"], ["full_compliance"]]),
    })
    label, value, _ = headline_metric(rd.read_task("h_none"))
    assert label == "complied" and value != value  # NaN: undefined, not 0
    assert headline_metric(rd.read_task("h_refused"))[1] == 0.0  # scored, none complied: 0 is right
    text = _text(rd)
    assert "– (0 scored)" in _row(text, "h_none") and "0.0" not in _row(text, "h_none")
    mean = _row(text, "harmful (mean")
    assert "25.0" in mean and "2/3" in mean  # (0 + 50) / 2, the unscored task left out
    assert "mean of k of the domain's m tasks" in " ".join(text.split())


def test_nan_score_and_all_unscored_domain(tmp_path: Path) -> None:
    rd = make_run(tmp_path, "m", {"t": FakeTask("in_domain", [[None], [None]]),
                                  "u": FakeTask("transfer", [[1.0], [0.0]])})
    assert headline_metric(rd.read_task("t"))[1] != headline_metric(rd.read_task("t"))[1]
    text = _text(rd)
    assert "– (0 scored)" in _row(text, "t ")
    assert "n/a" in _row(text, "math (mean")
    mean = _row(text, "transfer (mean")
    assert "50.0" in mean and "/" not in mean  # nothing left out: no count shown


def _wide_run(tmp_path: Path) -> RunDir:
    """Every domain, the widest cells a real run has: 4-digit item counts, a 5-digit reasoning
    budget, an unscored task, a long task name, and a failed task with a long error."""
    rd = make_run(tmp_path, "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B", {
        "gsm8k": FakeTask("in_domain", [[1.0], [0.0]] * 660, reasoning_tokens=32768, answer_tokens=1024),
        "bbh_tracking_shuffled_objects_seven_objects": FakeTask("transfer", [[1.0], [0.0]]),
        "ifeval": FakeTask("general", [[None], [None]]),
        "strongreject": FakeTask("safety_harmful", [[0.0]] * 3, labels=[["full_compliance"]] * 3),
        "xstest_safe": FakeTask("safety_benign", [[0.0], [1.0]], labels=[["full_refusal"], ["full_compliance"]]),
    })
    manifest = rd.read_manifest()
    manifest.tasks.append(TaskStatusEntry(name="humaneval", hash="h", status="error",
                                          error="sandbox: the judge child exited with signal 9 " * 3))
    rd.write_manifest(manifest)
    return rd


def test_summary_fits_80_columns_with_nothing_cut(tmp_path: Path) -> None:
    console = Console(width=80, record=True, color_system=None)
    console.print(run_summary_table(_wide_run(tmp_path)))
    text = console.export_text()
    assert "…" not in text and max(map(len, text.splitlines())) <= 80
    lines = text.splitlines()
    for cell in ("32768/1024", "1320", "– (0 scored)", "over-refused ↓", "complied ↓", "100.0 ± 0.0"):
        assert cell in text, cell
    # a long task name wraps in its column (its first lines hold nothing else there)
    first = next(i for i, line in enumerate(lines) if line.startswith("bbh_"))
    assert "".join(line.split()[0] for line in lines[first:first + 3]) == "bbh_tracking_shuffled_objects_seven_objects"
    assert "signal 9" in " ".join(text.split())
    # each row names its headline metric with its direction; the legend says what the arrows mean
    assert "score ↑" in _row(text, "gsm8k") and "complied ↓" in _row(text, "strongreject")
    assert "over-refused ↓" in _row(text, "xstest_safe") and "over-refused ↓" in _row(text, "benign (mean")
    legend = " ".join(text.split())
    assert "↑ higher is better, ↓ lower is better" in legend
    assert "harmful: complied ↓ (harmful compliance)" in legend and "benign: over-refused ↓ (over-refusal)" in legend
    assert "math, transfer, general: score ↑" in legend and "error in humaneval: sandbox" in legend


def test_legend_names_only_the_domains_of_the_run(tmp_path: Path) -> None:
    rd = make_run(tmp_path, "m", {"u": FakeTask("transfer", [[1.0], [0.0]])})
    legend = " ".join(_text(rd).split())
    assert "transfer: score ↑." in legend and "complied" not in legend and "math" not in legend


@pytest.mark.e2e
@requires_embedded
def test_a_real_run_in_a_ci_log(tmp_path: Path) -> None:
    """What a CI job at 80 columns shows, run outside any git checkout: the whole summary, and no
    "fatal: not a git repository" from lm-eval's provenance lookup."""
    work = tmp_path / "job"
    work.mkdir()
    env = {**os.environ, "COLUMNS": "80", "GIT_CEILING_DIRECTORIES": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "cotbench", "run", "-m", "smollm2-135m", "--engine", "lm_eval",
                           "--tasks", "arithmetic,probe_harmful,probe_benign", "--limit", "2", "--max-tokens", "16",
                           "-o", "out"], cwd=work, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "not a git repository" not in proc.stderr and "fatal" not in proc.stderr, proc.stderr[-3000:]
    assert "…" not in proc.stdout and max(map(len, proc.stdout.splitlines())) <= 80
    assert "complied ↓" in proc.stdout and "over-refused ↓" in proc.stdout and "score ↑" in proc.stdout
