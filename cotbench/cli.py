"""The ``cotbench`` command line: parsing and printing only; the work is in the Python API."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cotbench import __version__
from cotbench.errors import CotbenchError

app = typer.Typer(
    name="cotbench",
    help="Capability-cost evaluation of reasoning models: math gains, transfer, safety and token cost, "
    "against a reference, across checkpoints.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
results_app = typer.Typer(help="Inspect finished run directories.", no_args_is_help=True)
app.add_typer(results_app, name="results")

console = Console()
err_console = Console(stderr=True, soft_wrap=True)


def _csv(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cotbench {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")] = False,
) -> None:
    """cotbench: one run measures in-domain and transfer gains, general ability, refusals,
    over-refusal and token cost; `profile`, `trajectory`, `gate` and `leaderboard` turn runs into answers."""


def _quiet_libraries() -> None:
    """cotbench draws its own progress bars; the harnesses' and transformers' would interleave."""
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


@app.command()
def run(
    model: Annotated[list[str] | None, typer.Option(
        "--model", "-m",
        help="Model spec, repeatable: hf:org/name[@rev], hf:org/name/sub/folder, hf:/local/dir (globs allowed), "
        "vllm:..., openai:MODEL@URL, or smollm2-135m (the embedded default). Options after '?': "
        "dtype=, gguf_file=, chat_template=, system_prompt=, step=, label=.")] = None,
    suite: Annotated[str | None, typer.Option("--suite", "-s", help="Named suite (see `cotbench tasks`); default: smoke.")] = None,
    tasks: Annotated[str | None, typer.Option("--tasks", "-t", help="Comma-separated task names instead of a suite.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", "-n", help="At most N items per task.")] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Where run directories are written.")] = Path("results"),
    engine: Annotated[str, typer.Option("--engine", "-e", help="Harness: lm_eval (default) or inspect.")] = "lm_eval",
    preset: Annotated[str | None, typer.Option("--preset", help="Generation preset: greedy or reasoning (default: the suite's).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Sampling seed (per-sample seeds derive from it).")] = None,
    max_tokens: Annotated[int | None, typer.Option("--max-tokens", help="Override every task's generation budget.")] = None,
    revisions: Annotated[str | None, typer.Option("--revisions", help="Comma-separated revisions of one hf: model: one checkpoint each.")] = None,
    subfolders: Annotated[str | None, typer.Option("--subfolders", help="Comma-separated subfolders of one hf: repo: one checkpoint each.")] = None,
    steps: Annotated[str | None, typer.Option("--steps", help="Training step of each checkpoint, comma-separated (else parsed from names).")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Local benchmark files in upstream layout (env COTBENCH_DATA_DIR).")] = None,
    judge: Annotated[str | None, typer.Option("--judge", help="Grade safety tasks with this model spec "
                                              "(StrongREJECT/HarmBench/XSTest rubrics) instead of the offline classifier.")] = None,
    system_prompt: Annotated[str | None, typer.Option("--system-prompt", help="System message sent before every prompt.")] = None,
    device: Annotated[str | None, typer.Option("--device", help="torch device for hf: models (default: cuda if available, else cpu).")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Requests per generation batch.")] = 8,
) -> None:
    """Evaluate a model (or a series of checkpoints) on a suite; resumable, cached, offline-capable."""
    _quiet_libraries()
    from cotbench.progress import RichReporter
    from cotbench.runner import run_models
    from cotbench.summary import run_summary_table

    step_list = None
    if steps:
        try:
            step_list = [int(s) for s in _csv(steps) or []]
        except ValueError:
            raise CotbenchError(f"--steps must be integers, got '{steps}'") from None
    reporter = RichReporter(console)
    rds = run_models(model or ["smollm2-135m"], suite=suite, tasks=_csv(tasks), limit=limit, output=output,
                     engine=engine, seed=seed, revisions=_csv(revisions), subfolders=_csv(subfolders),
                     steps=step_list, reporter=reporter, preset=preset, data_dir=data_dir,
                     system_prompt=system_prompt, device=device, batch_size=batch_size, max_tokens=max_tokens,
                     judge=judge)
    for rd in rds:
        console.print(run_summary_table(rd))
        console.print(f"results: {rd.path}")
    failed = [t.name for rd in rds for t in rd.read_manifest().tasks if t.status == "error"]
    if failed:
        err_console.print(f"[red]{len(failed)} task(s) failed: {', '.join(sorted(set(failed)))}[/] (see manifest.json)")
        raise typer.Exit(1)


@results_app.command("show")
def results_show(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by `cotbench run`.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print metrics as JSON.")] = False,
    samples: Annotated[int, typer.Option("--samples", help="Also print the first N samples per task.")] = 0,
) -> None:
    """Print a finished run: provenance, per-task metrics, per-domain summary."""
    from cotbench.results.store import RunDir
    from cotbench.summary import run_summary_table, samples_table

    rd = RunDir(run_dir)
    manifest = rd.read_manifest()
    if as_json:
        payload = {"manifest": manifest.model_dump(mode="json"),
                   "tasks": {t: rd.read_task(t).model_dump(mode="json") for t in rd.task_names()}}
        typer.echo(json.dumps(payload, indent=2))
        return
    m = manifest.model
    console.print(f"[bold]{m.label}[/] ({m.spec}) engine={manifest.engine} step={m.step} "
                  f"revision={m.resolved_revision or m.revision or '-'} identity={m.identity}", markup=True,
                  highlight=False)
    console.print(run_summary_table(rd))
    if samples:
        for task in rd.task_names():
            console.print(samples_table(rd, task, samples))


@results_app.command("schema")
def results_schema() -> None:
    """Print the JSON Schema of run-directory files (manifest, task metrics, sample records)."""
    from cotbench.results.schema import SCHEMA_VERSION, RunManifest, SampleRecord, TaskResult

    typer.echo(json.dumps({"schema_version": SCHEMA_VERSION,
                           "manifest.json": RunManifest.model_json_schema(),
                           "tasks/<task>/metrics.json": TaskResult.model_json_schema(),
                           "tasks/<task>/samples.jsonl (one per line)": SampleRecord.model_json_schema()},
                          indent=2))


@app.command("tasks")
def tasks_cmd() -> None:
    """List tasks and suites."""
    from rich.table import Table

    from cotbench.tasks.registry import all_suites, all_tasks

    t = Table("task", "domain", "scorer", "version", "source", "license", title="tasks")
    for name, td in sorted(all_tasks().items()):
        src = td.source.hub_id or td.source.loader
        t.add_row(name, td.domain, td.scorer, td.version, src, td.license)
    console.print(t)
    s = Table("suite", "preset", "tasks", "description", title="suites")
    for name, su in sorted(all_suites().items()):
        s.add_row(name, su.preset or "-", ", ".join(su.tasks), su.description)
    console.print(s)


def _register_optional() -> None:
    """Sub-commands from the analysis, gate, safety and site stages."""
    from cotbench.analysis.cli import profile, trajectory
    from cotbench.gate.cli import gate
    from cotbench.safety.cli import app as safety_app
    from cotbench.site.cli import app as site_app

    app.command()(profile)
    app.command()(trajectory)
    app.command("gate")(gate)
    app.add_typer(safety_app, name="safety")
    app.add_typer(site_app, name="leaderboard")


_register_optional()


def main() -> None:
    """Entry point: user errors become one line on stderr and exit code 2, never a traceback."""
    debug = bool(os.environ.get("COTBENCH_DEBUG"))
    try:
        # Without standalone mode click returns the exit code instead of exiting.
        rc = app(standalone_mode=False)
        sys.exit(rc if isinstance(rc, int) else 0)
    except CotbenchError as exc:
        err_console.print(f"error: {exc}", markup=False, highlight=False)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted: finished work is saved; run the same command again to resume")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, EOFError):
        sys.exit(1)
    except Exception as exc:  # click usage errors and anything unexpected
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if debug:
            raise
        err_console.print(f"internal error: {exc.__class__.__name__}: {exc} (set COTBENCH_DEBUG=1 for a traceback)",
                          markup=False, highlight=False)
        sys.exit(2)
