"""The ``cotbench`` command line: parsing and printing only; the work is in the Python API."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from cotbench import __version__
from cotbench.errors import (
    CotbenchError,
    MissingDependencyError,
    markup_safe,
    name_value,
    one_line,
    path_value,
    printable,
    text_value,
)

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
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """cotbench: one run measures in-domain and transfer gains, general ability, refusals,
    over-refusal and token cost; `profile`, `trajectory`, `gate` and `leaderboard` turn runs into answers."""


INCLUDE_PATH_HELP = ("A folder of task and suite YAMLs to add to the bundled ones, repeatable "
                     "(env COTBENCH_TASKS_PATH, os.pathsep-separated).")


def _use_include_paths(ctx: typer.Context, paths: list[Path] | None) -> None:
    """Read tasks from ``paths`` too, until the command ends."""
    from cotbench.tasks.catalog import using_include_paths

    ctx.with_resource(using_include_paths(paths or [], option="--include-path"))


def _quiet_libraries() -> None:
    """cotbench draws its own progress bars; the harnesses' and transformers' would interleave."""
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


@app.command()
def run(
    ctx: typer.Context,
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            "-m",
            parser=name_value,
            help="Model spec, repeatable: hf:org/name[@rev], hf:org/name/sub/folder, hf:/local/dir (globs allowed), "
            "vllm:..., openai:MODEL@URL, or smollm2-135m (the embedded default). Options after '?': "
            "dtype=, gguf_file=, chat_template=, system_prompt=, step=, label=.",
        ),
    ] = None,
    suite: Annotated[
        str | None,
        typer.Option("--suite", "-s", parser=name_value, help="Named suite (see `cotbench tasks`); default: smoke."),
    ] = None,
    tasks: Annotated[
        str | None,
        typer.Option("--tasks", "-t", parser=name_value, help="Comma-separated task names instead of a suite."),
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", "-n", help="At most N items per task.")] = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", parser=path_value, help="Where run directories are written.")
    ] = Path("results"),
    engine: Annotated[
        str, typer.Option("--engine", "-e", parser=name_value, help="Harness: lm_eval (default) or inspect.")
    ] = "lm_eval",
    preset: Annotated[
        str | None,
        typer.Option(
            "--preset", parser=name_value, help="Generation preset: greedy or reasoning (default: the suite's)."
        ),
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Sampling seed (per-sample seeds derive from it).")] = None,
    max_tokens: Annotated[
        int | None, typer.Option("--max-tokens", help="Override every task's generation budget.")
    ] = None,
    revisions: Annotated[
        str | None,
        typer.Option(
            "--revisions", parser=name_value, help="Comma-separated revisions of one hf: model: one checkpoint each."
        ),
    ] = None,
    subfolders: Annotated[
        str | None,
        typer.Option(
            "--subfolders", parser=name_value, help="Comma-separated subfolders of one hf: repo: one checkpoint each."
        ),
    ] = None,
    steps: Annotated[
        str | None,
        typer.Option(
            "--steps",
            parser=name_value,
            help="Training step of each checkpoint, comma-separated (else parsed from names).",
        ),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir", parser=path_value, help="Local benchmark files in upstream layout (env COTBENCH_DATA_DIR)."
        ),
    ] = None,
    include_path: Annotated[
        list[Path] | None, typer.Option("--include-path", parser=path_value, help=INCLUDE_PATH_HELP)
    ] = None,
    judge: Annotated[
        str | None,
        typer.Option(
            "--judge",
            parser=name_value,
            help="Grade safety tasks with a judge "
            "instead of the offline classifier: NAME@SPEC with NAME one of harmbench-cls, "
            "llama-guard-3, wildguard, strongreject, refusal3 (e.g. "
            "harmbench-cls@vllm:/path/to/weights), NAME alone (its published model via "
            "hf:), or a model spec alone (StrongREJECT/HarmBench/XSTest rubrics by task). "
            "See docs/safety.md.",
        ),
    ] = None,
    system_prompt: Annotated[
        str | None, typer.Option("--system-prompt", parser=text_value, help="System message sent before every prompt.")
    ] = None,
    device: Annotated[
        str | None,
        typer.Option(
            "--device", parser=name_value, help="torch device for hf: models (default: cuda if available, else cpu)."
        ),
    ] = None,
    batch_size: Annotated[
        int,
        typer.Option(
            "--batch-size", help="Requests per batch of the in-process transformers backend (served backends stream)."
        ),
    ] = 8,
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray",
            parser=name_value,
            help="Run on a Ray cluster: auto, local (start one here), ray://HOST:PORT or HOST:PORT.",
        ),
    ] = None,
    gpus_per_model: Annotated[float, typer.Option("--gpus-per-model", help="GPUs each Ray unit asks for.")] = 0.0,
    cpus_per_unit: Annotated[float, typer.Option("--cpus-per-unit", help="CPUs each Ray unit asks for.")] = 1.0,
    memory_per_unit: Annotated[
        float | None, typer.Option("--memory-per-unit", help="Memory each Ray unit asks for, in GB.")
    ] = None,
    ray_unit: Annotated[
        str,
        typer.Option(
            "--ray-unit",
            parser=name_value,
            help="What one Ray unit evaluates: checkpoint (all its tasks, one model load) or task.",
        ),
    ] = "checkpoint",
    wandb: Annotated[
        str | None,
        typer.Option(
            "--wandb",
            parser=name_value,
            metavar="PROJECT",
            help="Log each finished run to this Weights & Biases project (pip install 'cotbench[wandb]').",
        ),
    ] = None,
    mlflow: Annotated[
        str | None,
        typer.Option(
            "--mlflow",
            parser=name_value,
            metavar="URI",
            help="Log each finished run to this MLflow tracking URI or folder (pip install 'cotbench[mlflow]').",
        ),
    ] = None,
    tracker_strict: Annotated[
        bool,
        typer.Option(
            "--tracker-strict",
            help="Exit 1 when logging to a tracker fails (default: a warning; the results are saved either way).",
        ),
    ] = False,
    push_to_hub: Annotated[
        str | None,
        typer.Option(
            "--push-to-hub",
            parser=name_value,
            metavar="REPO",
            help="Push each finished run directory to this Hub dataset repo (namespace/name; token from HF_TOKEN).",
        ),
    ] = None,
    push_private: Annotated[
        bool,
        typer.Option(
            "--push-private",
            help="Create the --push-to-hub repo private (an existing public repo is refused, not changed).",
        ),
    ] = False,
) -> None:
    """Evaluate a model (or a series of checkpoints) on a suite; resumable, cached, offline-capable."""
    _quiet_libraries()
    _use_include_paths(ctx, include_path)
    from cotbench.progress import progress_reporter
    from cotbench.results.store import RunDir
    from cotbench.runner import run_models
    from cotbench.terminal_summary import run_summary_table

    specs = model or ["smollm2-135m"]
    step_list = _check_run_options(specs, suite=suite, tasks=tasks, limit=limit, output=output, preset=preset,
                                   seed=seed, max_tokens=max_tokens, revisions=revisions, subfolders=subfolders,
                                   steps=steps, data_dir=data_dir, device=device, batch_size=batch_size,
                                   judge=judge, engine=engine)
    ray_opts = _ray_options(ray, gpus_per_model, cpus_per_unit, memory_per_unit, ray_unit, judge)
    trackers = _check_trackers(wandb, mlflow, tracker_strict)
    _check_push_to_hub(push_to_hub, push_private)
    summarised: set[Path] = set()

    def summarise(path: Path) -> None:
        # Each checkpoint's summary as soon as it finishes, not all at the end of a series.
        summarised.add(path)
        console.print(run_summary_table(RunDir(path)))
        console.print(f"results: {markup_safe(path)}", highlight=False)

    reporter = progress_reporter(console, summarise)
    try:
        if ray_opts is not None:
            from cotbench.distributed.ray_run import run_models_on_ray
            from cotbench.progress import RichRayReporter

            rds = run_models_on_ray(specs, ray=ray_opts, suite=suite, tasks=_csv(tasks), limit=limit, output=output,
                                    engine=engine, revisions=_csv(revisions), subfolders=_csv(subfolders),
                                    steps=step_list, ray_reporter=RichRayReporter(console), preset=preset, seed=seed,
                                    max_tokens=max_tokens, data_dir=data_dir, device=device, batch_size=batch_size,
                                    system_prompt=system_prompt)
        else:
            rds = run_models(specs, suite=suite, tasks=_csv(tasks), limit=limit, output=output,
                             engine=engine, seed=seed, revisions=_csv(revisions), subfolders=_csv(subfolders),
                             steps=step_list, reporter=reporter, preset=preset, data_dir=data_dir,
                             system_prompt=system_prompt, device=device, batch_size=batch_size,
                             max_tokens=max_tokens, judge=judge)
    finally:
        reporter.end_model()  # an error or Ctrl-C mid-run: stop the progress display before the message
    for rd in rds:
        if rd.path not in summarised:  # Ray runs report once all units are done
            summarise(rd.path)
    tracker_failed = _log_trackers(rds, trackers, preset or (None if tasks else _suite_preset(suite)))
    if push_to_hub:
        _push_finished(rds, push_to_hub, push_private)
    failed = [t.name for rd in rds for t in rd.read_manifest().tasks if t.status == "error"]
    if failed:
        names = markup_safe(", ".join(sorted(set(failed))))
        err_console.print(f"[red]{len(failed)} task(s) failed: {names}[/] (see manifest.json)", highlight=False)
        raise typer.Exit(1)
    if tracker_failed and tracker_strict:
        raise typer.Exit(1)


def _check_push_to_hub(repo: str | None, private: bool = False) -> None:
    """Before any model runs: a repo id, the Hub reachable in principle, and a token to push with."""
    if repo is None:
        if private:
            raise CotbenchError("--push-private applies to --push-to-hub: add --push-to-hub REPO or leave out "
                                "--push-private")
        return
    from cotbench.hub.client import check_online, check_repo_id, require_token

    check_repo_id(repo, "--push-to-hub")
    check_online(repo, "--push-to-hub: push to")
    require_token(None, repo)


def _push_finished(rds: list[Any], repo: str, private: bool = False) -> None:
    """Push the run directories whose tasks all finished; one with a failed task stays local."""
    from cotbench.hub.cli import print_push
    from cotbench.hub.client import HubError
    from cotbench.hub.push import push_runs

    done = [rd for rd in rds if all(t.status == "complete" for t in rd.read_manifest().tasks)]
    for rd in rds:
        if rd not in done:
            err_console.print(f"not pushed (not every task finished): {markup_safe(rd.path)}", highlight=False)
    if not done:
        return
    try:
        print_push(push_runs([rd.path for rd in done], repo, private=private))
    except HubError as exc:
        raise HubError(f"{exc} (the results are saved; push them later with `cotbench push RUN_DIR --repo "
                       f"{repo}`)") from None


def _check_trackers(wandb: str | None, mlflow: str | None, strict: bool) -> Any:
    """The trackers' packages and values, checked before any model is loaded."""
    if wandb is None and mlflow is None:
        if strict:
            raise CotbenchError("--tracker-strict applies to a run logged to a tracker: add --wandb or --mlflow")
        return None
    from cotbench.trackers.dispatch import Trackers, check_trackers

    return check_trackers(Trackers(wandb=wandb, mlflow=mlflow))


def _suite_preset(suite: str | None) -> str | None:
    from cotbench.tasks.catalog import DEFAULT_SUITE, get_suite

    return get_suite(suite or DEFAULT_SUITE).preset


def _log_trackers(rds: list[Any], trackers: Any, preset: str | None) -> bool:
    """Log the finished runs to the trackers; True when one failed (already said, as a warning)."""
    if trackers is None:
        return False
    from cotbench.trackers.dispatch import log_runs

    failures = log_runs(rds, trackers, preset,
                        say=lambda line: console.print(line, markup=False, highlight=False),
                        warn=lambda line: err_console.print(f"warning: {line}", markup=False, highlight=False))
    return bool(failures)


def _ray_options(address: str | None, gpus: float, cpus: float, memory_gb: float | None, unit: str,
                 judge: str | None) -> Any:
    """The Ray options, checked before anything starts (None: a local run)."""
    import math
    import re

    ray_only = {"--gpus-per-model": gpus != 0.0, "--cpus-per-unit": cpus != 1.0,
                "--memory-per-unit": memory_gb is not None, "--ray-unit": unit != "checkpoint"}
    if address is None:
        given = [name for name, set_ in ray_only.items() if set_]
        if given:
            raise CotbenchError(f"{given[0]} applies to a Ray run: add --ray auto|local|ray://HOST:PORT")
        return None
    if not (address in ("auto", "local") or re.fullmatch(r"(ray://)?[A-Za-z0-9.\-]+:\d{1,5}", address)):
        raise CotbenchError(f"--ray: expected auto, local, ray://HOST:PORT or HOST:PORT, got '{printable(address)}'")
    for name, value, low in (("--gpus-per-model", gpus, 0.0), ("--cpus-per-unit", cpus, None),
                             ("--memory-per-unit", memory_gb, None)):
        if value is None:
            continue
        if not math.isfinite(value) or value < 0 or (low is None and value == 0):
            raise CotbenchError(f"{name} must be a {'non-negative' if low == 0.0 else 'positive'} number, got {value}")
    if unit not in ("checkpoint", "task"):
        raise CotbenchError(f"--ray-unit must be checkpoint or task, got '{printable(unit)}'")
    if judge:
        raise CotbenchError("--judge cannot be combined with --ray yet: run the judged safety tasks locally")
    if importlib.util.find_spec("ray") is None:
        raise MissingDependencyError("ray", "--ray", extra="ray")
    from cotbench.distributed.ray_run import RayOptions

    return RayOptions(address=address, gpus_per_model=gpus, cpus_per_unit=cpus,
                      memory_per_unit=int(memory_gb * 1e9) if memory_gb else None, unit=unit)


def _check_run_options(specs: list[str], *, suite: str | None, tasks: str | None, limit: int | None, output: Path,
                       preset: str | None, seed: int | None, max_tokens: int | None, revisions: str | None,
                       subfolders: str | None, steps: str | None, data_dir: Path | None, device: str | None,
                       batch_size: int, judge: str | None, engine: str) -> list[int] | None:
    """Every option checked before any model is resolved, downloaded or loaded; returns the steps."""
    from cotbench.errors import SpecError
    from cotbench.models.spec import parse_spec
    from cotbench.registry import engines
    from cotbench.tasks.catalog import all_suites, all_tasks

    for text in specs:
        try:
            parse_spec(text)
        except SpecError as exc:
            raise SpecError(f"--model: {exc}") from None
    if judge is not None:
        from cotbench.judge.session import parse_judge

        parse_judge(judge)  # its errors name --judge
    if tasks is not None and not _csv(tasks):
        raise CotbenchError(f"--tasks '{tasks}' names no task (see `cotbench tasks`)")
    for name in _csv(tasks) or []:
        if name not in all_tasks():
            raise CotbenchError(f"--tasks: unknown task '{name}' (see `cotbench tasks`)")
    if suite is not None and not tasks and suite not in all_suites():
        raise CotbenchError(f"--suite: unknown suite '{suite}' (choose from {', '.join(sorted(all_suites()))})")
    if engine not in engines:
        raise CotbenchError(f"--engine: unknown engine '{engine}' (choose from {', '.join(engines.names())})")
    if limit is not None and limit < 1:
        raise CotbenchError("--limit must be at least 1")
    if max_tokens is not None and max_tokens < 1:
        raise CotbenchError("--max-tokens must be at least 1")
    if batch_size < 1:
        raise CotbenchError(f"--batch-size must be at least 1, got {batch_size}")
    if seed is not None and not 0 <= seed < 2**63:
        raise CotbenchError(f"--seed must be a non-negative integer below 2**63, got {seed}")
    if preset is not None:
        known = sorted({p for t in all_tasks().values() for p in t.presets}
                       | {s.preset for s in all_suites().values() if s.preset})
        if preset not in known:
            raise CotbenchError(f"unknown --preset '{preset}' (choose from {', '.join(known)})")
    for option, value in (("--revisions", revisions), ("--subfolders", subfolders)):
        if value is not None:
            _check_checkpoint_option(option, value, specs)
    step_list = None
    if steps is not None:
        try:
            step_list = [int(s) for s in _csv(steps) or []]
        except ValueError:
            raise CotbenchError(f"--steps must be integers, got '{steps}'") from None
        if not step_list or any(s < 0 for s in step_list):
            raise CotbenchError(f"--steps must be non-negative integers, got '{steps}'")
    if output.exists() and not output.is_dir():
        raise CotbenchError(f"--output {output} is a file; give a folder for run directories")
    for parent in output.parents:
        if parent.exists():
            if not parent.is_dir():
                raise CotbenchError(f"--output {output}: {parent} is a file, not a folder")
            break
    if data_dir is not None and not data_dir.is_dir():
        if data_dir.exists():
            raise CotbenchError(f"--data-dir {data_dir} is a file; give the folder holding the benchmark files")
        raise CotbenchError(f"--data-dir: data directory {data_dir} does not exist")
    if device is not None:
        _check_device(device)
    return step_list


def _check_checkpoint_option(option: str, value: str, specs: list[str]) -> None:
    """--revisions / --subfolders name checkpoints of one Hub repo; other backends have none."""
    from cotbench.models.spec import parse_spec

    if not _csv(value):
        raise CotbenchError(f"{option} '{value}' names no checkpoint")
    for text in specs:
        spec = parse_spec(text)
        if spec.backend not in ("hf", "vllm") or spec.local:
            kind = "a local directory" if spec.local else f"the {spec.backend} backend"
            raise CotbenchError(
                f"{option} applies to a Hub model (hf:org/name or vllm:org/name); "
                f"'{text}' is {kind}, which has none (for local checkpoints use a glob: hf:/dir/step-*)"
            )


def _check_device(device: str) -> None:
    """A torch device this machine has, before any model loads onto it."""
    import torch

    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError, TypeError):
        raise CotbenchError(f"--device '{device}' is not a torch device (use cpu, cuda, cuda:N or mps)") from None
    if dev.type == "cpu":
        return
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise CotbenchError(f"--device {device}: CUDA is not available on this machine (no GPU, or torch was "
                                "built without CUDA); use --device cpu")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise CotbenchError(f"--device {device}: this machine has {torch.cuda.device_count()} CUDA device(s) "
                                f"(cuda:0 to cuda:{torch.cuda.device_count() - 1})")
        return
    if dev.type == "mps":
        if not torch.backends.mps.is_available():
            raise CotbenchError(f"--device {device}: Apple MPS is not available on this machine; use --device cpu")
        return
    raise CotbenchError(
        f"--device '{device}': device type '{dev.type}' is not supported (use cpu, cuda, cuda:N or mps)"
    )


@results_app.command("show")
def results_show(
    run_dir: Annotated[Path, typer.Argument(parser=path_value, help="A run directory written by `cotbench run`.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print metrics as JSON.")] = False,
    samples: Annotated[int, typer.Option("--samples", help="Also print the first N samples per task.")] = 0,
) -> None:
    """Print a finished run: provenance, per-task metrics, per-domain summary."""
    from cotbench.results.store import RunDir
    from cotbench.terminal_summary import run_summary_table, samples_table

    if samples < 0:
        raise CotbenchError(f"--samples must be 0 or more, got {samples}")
    if run_dir.exists() and not run_dir.is_dir():
        raise CotbenchError(f"{run_dir}: not a run directory (a file; give the folder holding manifest.json)")
    rd = RunDir(run_dir)
    manifest = rd.read_manifest()
    if as_json:
        payload = {"manifest": manifest.model_dump(mode="json"),
                   "tasks": {t: rd.read_task(t).model_dump(mode="json") for t in rd.task_names()}}
        typer.echo(json.dumps(payload, indent=2))
        return
    m = manifest.model
    console.print(
        f"[bold]{markup_safe(m.label)}[/] ({markup_safe(m.spec)}) engine={manifest.engine} step={m.step} "
        f"revision={markup_safe(m.resolved_revision or m.revision or '-')} identity={markup_safe(m.identity)}",
        markup=True,
        highlight=False,
    )
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
def tasks_cmd(
    ctx: typer.Context,
    include_path: Annotated[list[Path] | None, typer.Option("--include-path", parser=path_value,
                                                            help=INCLUDE_PATH_HELP)] = None,
) -> None:
    """List tasks and suites."""
    _use_include_paths(ctx, include_path)
    from rich.table import Table

    from cotbench.tasks.catalog import all_suites, all_tasks

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
    _register_sharing()


def _register_sharing() -> None:
    """`push` / `pull` (results on the Hub) and `export` (lm-eval and model-card formats)."""
    from cotbench.export.cli import export
    from cotbench.hub.cli import pull, push

    app.command()(push)
    app.command()(pull)
    app.command()(export)


_register_optional()


def _register_import() -> None:
    """`import`: peers' lm-eval output directories and Inspect logs as run directories."""
    from cotbench.importers.cli import import_cmd

    app.command("import")(import_cmd)


_register_import()


INTERRUPTED = "interrupted: finished work is saved; run the same command again to resume"


def _usage_line(exc: Exception) -> str:
    """A click usage error as one line naming the option and where to read about it."""
    from typer._click.exceptions import NoArgsIsHelpError

    ctx = getattr(exc, "ctx", None)
    path = ctx.command_path if ctx is not None else "cotbench"
    if isinstance(exc, NoArgsIsHelpError) and ctx is not None:
        names = ", ".join(ctx.command.list_commands(ctx)) if hasattr(ctx.command, "list_commands") else ""
        return f"'{path}' needs a command{': ' + names if names else ''} (see '{path} --help')"
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    return f"{message.rstrip('.')} (see '{path} --help')"


def _os_error_line(exc: OSError) -> str:
    """An OSError (unreadable input, unwritable or full output) as one line naming the file."""
    import errno

    name = exc.filename if exc.filename is not None else None
    what = f"{name}: " if name is not None else ""
    reason = exc.strerror or exc.__class__.__name__
    hint = {errno.ENOSPC: "free some space or choose another --output",
            errno.EDQUOT: "free some space or choose another --output",
            errno.EACCES: "check its permissions or choose another path",
            errno.EPERM: "check its permissions or choose another path",
            errno.EROFS: "the file system is read-only; choose another path",
            errno.EISDIR: "a folder is in the way; give a file name",
            errno.ENOTDIR: "a part of the path is a file, not a folder",
            errno.ENOENT: "check the path",
            errno.EEXIST: "it exists already; choose another path"}.get(exc.errno or 0, "check the path")
    return f"{what}{reason} ({hint})"


def run_cli(args: list[str] | None = None) -> int:
    """Run the CLI and return its exit code; every user error is one line on stderr and code 2.

    Ctrl-C is 130 with a line saying how to resume; a traceback only with COTBENCH_DEBUG=1.
    """
    from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError

    debug = bool(os.environ.get("COTBENCH_DEBUG"))

    def fail(message: str) -> int:
        err_console.print(f"error: {one_line(message)}", markup=False, highlight=False)
        return 2

    try:
        # Without standalone mode click returns the exit code instead of exiting.
        rc = app(args=args, prog_name="cotbench", standalone_mode=False)
    except CotbenchError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:  # typer turns one inside a command into exit code 130 (below)
        rc = 130
    except NoArgsIsHelpError as exc:
        typer.echo(exc.format_message())  # the help, then why it is shown
        return fail(_usage_line(exc))
    except UsageError as exc:
        return fail(_usage_line(exc))
    except ClickException as exc:
        return fail(exc.format_message())
    except typer.Exit as exc:
        rc = exc.exit_code
    except (typer.Abort, EOFError):
        return 1
    except OSError as exc:
        if debug:
            raise
        return fail(_os_error_line(exc))
    except Exception as exc:  # a bug: say so in one line, never a traceback
        if debug:
            raise
        err_console.print(f"internal error: {one_line(f'{exc.__class__.__name__}: {exc}')} "
                          "(set COTBENCH_DEBUG=1 for a traceback)", markup=False, highlight=False)
        return 2
    rc = rc if isinstance(rc, int) else 0
    if rc == 130:
        err_console.print(INTERRUPTED, markup=False, highlight=False)
    return rc


def main(args: list[str] | None = None) -> None:
    """Entry point: user errors become one line on stderr and exit code 2, never a traceback."""
    import signal

    def terminated(signum: int, frame: object) -> None:  # SIGTERM (a scheduler, kill): as Ctrl-C
        raise KeyboardInterrupt

    with contextlib.suppress(ValueError):  # not the main thread (embedded use): leave it be
        signal.signal(signal.SIGTERM, terminated)
    rc = run_cli(args)
    if rc == 130:
        # Interrupted: everything finished is on disk (atomic writes). A generation thread may
        # still be inside native code, and tearing the interpreter down under it aborts the
        # process (SIGABRT instead of 130); leave without the teardown.
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(rc)
    sys.exit(rc)
