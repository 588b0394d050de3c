"""Terminal summary: a task with no scored sample is shown as not scored, not as 0%."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from cotbench.terminal_summary import headline_metric, run_summary_table
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
    assert "25.0" in mean and "2/3 tasks" in mean  # (0 + 50) / 2, the unscored task left out


def test_nan_score_and_all_unscored_domain(tmp_path: Path) -> None:
    rd = make_run(tmp_path, "m", {"t": FakeTask("in_domain", [[None], [None]]),
                                  "u": FakeTask("transfer", [[1.0], [0.0]])})
    assert headline_metric(rd.read_task("t"))[1] != headline_metric(rd.read_task("t"))[1]
    text = _text(rd)
    assert "– (0 scored)" in _row(text, "t ")
    assert "n/a" in _row(text, "math (mean")
    mean = _row(text, "transfer (mean")
    assert "50.0" in mean and "tasks" not in mean  # nothing left out: no count shown
