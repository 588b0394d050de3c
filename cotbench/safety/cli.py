"""``cotbench safety ...`` commands (a typer sub-app; the main CLI mounts it)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console, Group
from rich.table import Table

from cotbench.errors import CotbenchError, name_value, path_value
from cotbench.errors import markup_safe as escape

if TYPE_CHECKING:  # the classifier's calibration needs scikit-learn and pandas: imported when run
    from cotbench.safety.calibrate import CalibrationReport

app = typer.Typer(help="Safety evaluation: refusal classifier and judge calibration.", no_args_is_help=True)


@app.callback()
def safety() -> None:
    """Safety evaluation: refusal classifier and judge calibration."""


@app.command("calibrate")
def calibrate_cmd(
    labels: Annotated[
        list[Path] | None,
        typer.Option("--labels", parser=path_value, help="CSV of labelled responses: prompt, completion and "
                     "final_label (XSTest's refusal classes) and/or harmful (yes/no); optional category, "
                     "behavior, context. Repeat to pool files; default: the bundled development set."),
    ] = None,
    judge: Annotated[str | None, typer.Option(
        "--judge", parser=name_value,
        help="Measure this judge instead of the offline classifier: NAME@SPEC (harmbench-cls, llama-guard-3, "
             "wildguard, strongreject, refusal3; e.g. wildguard@openai:allenai/wildguard@http://HOST:8000/v1), "
             "NAME alone (its published model via hf:) or a model spec alone (three-way refusal rubric). "
             "Its outputs are cached: a rerun asks the model nothing.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the figures as one JSON object")] = False,
) -> None:
    """Measure the offline refusal classifier, or a judge, against human labels."""
    from cotbench.safety.calibrate import calibrate

    if judge is not None:
        from cotbench.judge.session import parse_judge

        parse_judge(judge)  # a bad --judge is one line before any file is read
    for path in labels or []:
        if path.is_dir():
            raise CotbenchError(f"--labels {path} is a folder; give a CSV file")
    report = calibrate(labels or None, judge=judge)
    if as_json:
        typer.echo(report.to_json())
    else:
        Console().print(render(report))


def render(report: CalibrationReport) -> Group:
    """The report as rich tables: refusal agreement, harm agreement, per category."""
    who = "offline refusal classifier" if report.judge is None else f"judge {report.judge.get('label')}"
    parts: list[Table] = []
    if report.per_class:
        parts.append(render_table(report, who))
    if report.harm is not None:
        h = report.harm
        table = Table(title=f"Harm: {escape(who)} vs human labels: {escape(report.source)} (n={h.n})")
        table.add_column("human \\ judge")
        for col in ("harmful", "not_harmful"):
            table.add_column(col, justify="right")
        for row, counts in h.confusion.items():
            table.add_row(row, *(str(counts[c]) for c in ("harmful", "not_harmful")))
        table.caption = (f"accuracy {h.accuracy:.3f} | kappa {h.kappa:.3f} | harmful: precision {h.precision:.3f}, "
                         f"recall {h.recall:.3f}, F1 {h.f1:.3f}")
        parts.append(table)
    if report.per_category:
        table = Table(title="Per category")
        for col in ("category", "n", "2-way", "3-way", "harm"):
            table.add_column(col, justify="left" if col == "category" else "right")
        for cat, c in report.per_category.items():
            table.add_row(escape(cat), str(c.n), *(f"{v:.3f}" if v is not None else "-"
                                                    for v in (c.accuracy_2way, c.accuracy_3way, c.harm_accuracy)))
        parts.append(table)
    if report.judge is not None:
        left_out = ", ".join(f"{k} {v}" for k, v in report.unscored.items() if v) or "none"
        note = Table.grid()
        note.add_row(escape(f"judge {report.judge.get('name')} (prompt {report.judge.get('prompt_version')}, "
                            f"identity {report.judge.get('identity')}): {report.model_calls} model calls, "
                            f"{report.cache_hits} cached; left out: {left_out}"))
        parts.append(note)
    return Group(*parts)


def render_table(report: CalibrationReport, who: str = "Refusal classifier") -> Table:
    table = Table(title=f"Refusal: {escape(who)} vs human labels: {escape(report.source)} (n={report.n})")
    table.add_column("class")
    table.add_column("precision", justify="right")
    table.add_column("recall", justify="right")
    table.add_column("F1", justify="right")
    table.add_column("support", justify="right")
    for label, m in report.per_class.items():
        table.add_row(escape(label), f"{m.precision:.3f}", f"{m.recall:.3f}", f"{m.f1:.3f}", str(m.support))
    three = f"{report.accuracy_3way:.3f}" if report.accuracy_3way is not None else "- (two classes)"
    kappa = f"{report.kappa:.3f}" if report.kappa is not None else f"{report.kappa_2way:.3f} (2-way)"
    table.caption = (f"accuracy 3-way {three} | 2-way {report.accuracy_2way:.3f} | Cohen's kappa {kappa}")
    return table
