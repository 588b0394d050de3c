"""`cotbench gate`: exit 0 pass, 1 fail, 2 usage or infrastructure error (never 1 for a crash)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from cotbench.analysis.comparability import FLAG_HELP
from cotbench.errors import CotbenchError, name_value, one_line, path_value, printable

EXIT_PASS, EXIT_FAIL, EXIT_ERROR = 0, 1, 2


def _append_step_summary(markdown: str) -> None:
    """GitHub Actions renders $GITHUB_STEP_SUMMARY as the job summary; other CIs leave it unset."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(markdown + "\n")


def _check_paths(baseline: str, candidate: str, output: Path, reports: dict[str, Path | None]) -> None:
    """Before any model runs: run directories that are not, and report files that cannot be."""
    from cotbench.errors import SpecError
    from cotbench.models.spec import parse_spec

    for option, value in (("--baseline", baseline), ("--candidate", candidate)):
        p = Path(value)
        if p.exists() and not (p / "manifest.json").is_file():
            what = "a folder without manifest.json" if p.is_dir() else "a file"
            raise CotbenchError(f"{option} {value}: not a run directory ({what}); give a folder written by "
                                "`cotbench run`, or a model spec")
        if not p.exists():
            try:
                parse_spec(value)
            except SpecError as exc:
                raise CotbenchError(f"{option}: no run directory {value}, nor a model spec ({exc})") from None
    if output.exists() and not output.is_dir():
        raise CotbenchError(f"--output {output} is a file; give a folder for run directories")
    for option, path in reports.items():
        if path is None:
            continue
        if path.is_dir():
            raise CotbenchError(f"{option} {path} is a folder; give a file name")
        for parent in path.parents:
            if parent.exists():
                if not parent.is_dir():
                    raise CotbenchError(f"{option} {path}: {parent} is a file, not a folder")
                break


def gate(
    baseline: Annotated[
        str, typer.Option("--baseline", "-b", parser=name_value, help="Baseline run directory or model spec.")
    ],
    candidate: Annotated[
        str, typer.Option("--candidate", "-c", parser=name_value, help="Candidate run directory or model spec.")
    ],
    policy: Annotated[
        Path | None,
        typer.Option("--policy", "-p", parser=path_value, help="Gate policy YAML (default: the shipped policy)."),
    ] = None,
    output: Annotated[
        Path,
        typer.Option("--output", "-o", parser=path_value, help="Where runs of model specs are written (and reused)."),
    ] = Path("results"),
    json_path: Annotated[
        Path | None, typer.Option("--json", parser=path_value, help="Write the result as JSON.")
    ] = None,
    junit: Annotated[Path | None, typer.Option("--junit", parser=path_value, help="Write JUnit XML.")] = None,
    markdown: Annotated[
        Path | None, typer.Option("--markdown", parser=path_value, help="Write the Markdown report.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the verdict line.")] = False,
    allow_mismatch: Annotated[
        list[str] | None, typer.Option("--allow-mismatch", metavar="FIELD", parser=name_value, help=FLAG_HELP)
    ] = None,
) -> None:
    """Block a model change that regresses beyond the policy's margins; pass changes within noise."""
    # The statistics (numpy, scipy) only when the gate runs, so `--help` stays fast.
    from cotbench.gate.evaluate import run_gate
    from cotbench.gate.policy import load_policy
    from cotbench.gate.report import headline, to_markdown, write_reports

    try:
        _check_paths(baseline, candidate, output, {"--json": json_path, "--junit": junit, "--markdown": markdown})
        result = run_gate(baseline, candidate, load_policy(policy), output, allow_mismatch or ())
        report = to_markdown(result)
        write_reports(result, markdown=markdown, json=json_path, junit=junit)
        _append_step_summary(report)
    except CotbenchError as exc:
        typer.echo(f"error: {one_line(exc)}", err=True)
        raise typer.Exit(EXIT_ERROR) from None
    except OSError as exc:  # an unwritable, full or misplaced report file
        where = exc.filename if exc.filename is not None else "a report file"
        typer.echo(f"error: cannot write {one_line(where)}: {exc.strerror or exc.__class__.__name__}", err=True)
        raise typer.Exit(EXIT_ERROR) from None
    except Exception as exc:  # noqa: BLE001 - a crash must never read as a failed gate (exit 1)
        typer.echo(f"internal error: {exc.__class__.__name__}: {exc}", err=True)
        raise typer.Exit(EXIT_ERROR) from None
    typer.echo(printable(headline(result) if quiet else report, keep_lines=True))
    raise typer.Exit(EXIT_PASS if result.verdict == "pass" else EXIT_FAIL)


app = typer.Typer(add_completion=False, help="CI gating of model changes.")
app.command("gate")(gate)

if __name__ == "__main__":
    app()
