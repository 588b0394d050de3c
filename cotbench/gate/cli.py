"""`cotbench gate`: exit 0 pass, 1 fail, 2 usage or infrastructure error (never 1 for a crash)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from cotbench.analysis.comparability import FLAG_HELP
from cotbench.errors import CotbenchError
from cotbench.gate.evaluate import run_gate
from cotbench.gate.policy import load_policy
from cotbench.gate.report import headline, to_markdown, write_reports

EXIT_PASS, EXIT_FAIL, EXIT_ERROR = 0, 1, 2


def _append_step_summary(markdown: str) -> None:
    """GitHub Actions renders $GITHUB_STEP_SUMMARY as the job summary; other CIs leave it unset."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(markdown + "\n")


def gate(
    baseline: Annotated[str, typer.Option("--baseline", "-b", help="Baseline run directory or model spec.")],
    candidate: Annotated[str, typer.Option("--candidate", "-c", help="Candidate run directory or model spec.")],
    policy: Annotated[Path | None, typer.Option("--policy", "-p", help="Gate policy YAML (default: the shipped policy).")] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Where runs of model specs are written (and reused).")] = Path("results"),  # noqa: E501
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the result as JSON.")] = None,
    junit: Annotated[Path | None, typer.Option("--junit", help="Write JUnit XML.")] = None,
    markdown: Annotated[Path | None, typer.Option("--markdown", help="Write the Markdown report.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the verdict line.")] = False,
    allow_mismatch: Annotated[list[str] | None, typer.Option("--allow-mismatch", metavar="FIELD", help=FLAG_HELP)] = None,
) -> None:
    """Block a model change that regresses beyond the policy's margins; pass changes within noise."""
    try:
        result = run_gate(baseline, candidate, load_policy(policy), output, allow_mismatch or ())
        report = to_markdown(result)
        write_reports(result, markdown=markdown, json=json_path, junit=junit)
        _append_step_summary(report)
    except CotbenchError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_ERROR) from None
    except Exception as exc:  # noqa: BLE001 - a crash must never read as a failed gate (exit 1)
        typer.echo(f"internal error: {exc.__class__.__name__}: {exc}", err=True)
        raise typer.Exit(EXIT_ERROR) from None
    typer.echo(headline(result) if quiet else report)
    raise typer.Exit(EXIT_PASS if result.verdict == "pass" else EXIT_FAIL)


app = typer.Typer(add_completion=False, help="CI gating of model changes.")
app.command("gate")(gate)

if __name__ == "__main__":
    app()
