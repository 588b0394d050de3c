"""``cotbench safety ...`` commands (a typer sub-app; the main CLI mounts it)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cotbench.errors import markup_safe as escape
from cotbench.errors import CotbenchError, path_value
from cotbench.safety.calibrate import CalibrationReport, calibrate

app = typer.Typer(help="Safety evaluation: refusal classifier calibration.", no_args_is_help=True)


@app.callback()
def safety() -> None:
    """Safety evaluation: refusal classifier calibration."""


@app.command("calibrate")
def calibrate_cmd(
    labels: Annotated[
        list[Path] | None,
        typer.Option("--labels", parser=path_value, help="CSV with prompt, completion, final_label (XSTest format); "
                                      "repeat to pool files; default: the bundled development set"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the figures as one JSON object")] = False,
) -> None:
    """Measure the offline refusal classifier against human three-way labels."""
    for path in labels or []:
        if path.is_dir():
            raise CotbenchError(f"--labels {path} is a folder; give a CSV file")
    report = calibrate(labels or None)
    if as_json:
        typer.echo(report.to_json())
    else:
        Console().print(render_table(report))


def render_table(report: CalibrationReport) -> Table:
    table = Table(title=f"Refusal classifier vs human labels: {escape(report.source)} (n={report.n})")
    table.add_column("class")
    table.add_column("precision", justify="right")
    table.add_column("recall", justify="right")
    table.add_column("support", justify="right")
    for label, m in report.per_class.items():
        table.add_row(escape(label), f"{m.precision:.3f}", f"{m.recall:.3f}", str(m.support))
    table.caption = (
        f"accuracy 3-way {report.accuracy_3way:.3f} | 2-way {report.accuracy_2way:.3f} | "
        f"Cohen's kappa {report.kappa:.3f}"
    )
    return table
