"""CLI commands ``profile`` and ``trajectory``: parsing and printing only.

Register them on the main app with ``app.command()(profile)`` and ``app.command()(trajectory)``;
``app`` below holds both for use on its own. Errors are ``CotbenchError`` (exit 2 in the main CLI).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from cotbench.analysis.comparability import FLAG_HELP
from cotbench.errors import CotbenchError, name_value, path_value, printable

if TYPE_CHECKING:
    from cotbench.analysis.profile import Profile
    from cotbench.analysis.trajectory import Trajectory

# The statistics (scipy, pandas) are imported inside the commands, so `--help` stays fast.
# The same value as cotbench.analysis.trajectory.DEFAULT_MARGIN (tests/test_cli_startup.py checks).
DEFAULT_MARGIN = 0.02

app = typer.Typer(help="Capability-cost profiles and checkpoint trajectories.", no_args_is_help=True)


def _figures(obj: Profile | Trajectory, figure_dir: Path, quiet: bool) -> None:
    from cotbench.analysis import figures  # matplotlib only when figures are asked for
    from cotbench.analysis.profile import Profile

    paths = (
        figures.profile_figures(obj, figure_dir) if isinstance(obj, Profile)
        else figures.trajectory_figures(obj, figure_dir)
    )
    # with --json, stdout carries only JSON
    out = Console(stderr=True) if quiet else Console()
    out.print(f"wrote {len(paths)} figure files to {printable(figure_dir)}", markup=False, highlight=False)


def profile(
    run: Annotated[Path, typer.Argument(parser=path_value, help="run directory of the model (or checkpoint)")],
    reference: Annotated[Path, typer.Option("--reference", "-r", parser=path_value,
                                            help="run directory of the reference, e.g. the base model")],
    json_out: Annotated[bool, typer.Option("--json", help="print the Profile as JSON instead of tables")] = False,
    figure_dir: Annotated[
        Path | None, typer.Option("--figure-dir", parser=path_value,
                                  help="write the capability-cost plane and per-domain bars (PNG, SVG)")
    ] = None,
    allow_mismatch: Annotated[list[str] | None, typer.Option("--allow-mismatch", metavar="FIELD", parser=name_value,
                                                             help=FLAG_HELP)] = None,
) -> None:
    """Capability-cost profile of RUN against --reference: per-domain and per-task deltas with CIs,
    Transferability Index, safety cost, token cost and reasoning behaviour."""
    from cotbench.analysis.profile import compute_profile

    _check_figure_dir(figure_dir)
    p = compute_profile(_run_dir(run, "RUN"), _run_dir(reference, "--reference"), allow_mismatch=allow_mismatch or ())
    if json_out:
        sys.stdout.write(p.model_dump_json(indent=2) + "\n")
    else:
        from cotbench.analysis.render import print_profile

        print_profile(_for_terminal(p))
    if figure_dir is not None:
        _figures(p, figure_dir, json_out)


def _for_terminal(value: Any) -> Any:
    """A copy for the tables with every string printable: labels and task names come from results
    files, and an escape sequence in one would drive the terminal (rich's Text keeps them)."""
    from pydantic import BaseModel

    if isinstance(value, str):
        return printable(value)
    if isinstance(value, BaseModel):
        return value.model_copy(update={k: _for_terminal(getattr(value, k)) for k in type(value).model_fields})
    if isinstance(value, list):
        return [_for_terminal(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_for_terminal(v) for v in value)
    if isinstance(value, dict):
        return {_for_terminal(k): _for_terminal(v) for k, v in value.items()}
    return value


def parse_steps(text: str) -> list[int]:
    """``"0,20,640"`` -> ``[0, 20, 640]``."""
    try:
        steps = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise CotbenchError(f"--step-override must be comma-separated integers, got {text!r}") from None
    if not steps or any(s < 0 for s in steps):
        raise CotbenchError(f"--step-override must be non-negative training steps, got {text!r}")
    return steps


def _check_figure_dir(figure_dir: Path | None) -> None:
    """Before any statistics are computed: a file where the figures' folder should be."""
    if figure_dir is None:
        return
    for p in (figure_dir, *figure_dir.parents):
        if p.exists():
            if not p.is_dir():
                raise CotbenchError(f"--figure-dir {figure_dir}: {p} is a file, not a folder")
            break


def _run_dir(path: Path, name: str) -> Path:
    """A run directory (it holds manifest.json), or one clear line naming what it is instead."""
    if (path / "manifest.json").is_file():
        return path
    if not path.exists():
        raise CotbenchError(f"{name} {path}: no such run directory")
    what = "a folder without manifest.json" if path.is_dir() else "a file"
    raise CotbenchError(f"{name} {path}: not a run directory ({what}; give a folder written by `cotbench run`)")


def trajectory(
    runs: Annotated[
        list[Path] | None, typer.Argument(parser=path_value, help="checkpoint run directories (or folders of runs)")
    ] = None,
    reference: Annotated[
        Path | None,
        typer.Option("--reference", "-r", parser=path_value, help="reference run (default: the earliest step)"),
    ] = None,
    scores: Annotated[
        Path | None,
        typer.Option(
            "--scores",
            parser=path_value,
            help="CSV of published or exported numbers: step, task, score, n[, domain, k]",
        ),
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="print the Trajectory (with per-domain verdicts) as JSON")
    ] = False,
    figure_dir: Annotated[
        Path | None, typer.Option("--figure-dir", parser=path_value, help="write one figure per domain (PNG, SVG)")
    ] = None,
    step_override: Annotated[
        str | None,
        typer.Option(
            "--step-override", parser=name_value, help="comma-separated training steps, one per RUN, in order"
        ),
    ] = None,
    allow_mismatch: Annotated[
        list[str] | None, typer.Option("--allow-mismatch", metavar="FIELD", parser=name_value, help=FLAG_HELP)
    ] = None,
    margin: Annotated[
        float,
        typer.Option(
            "--margin",
            help="recovery: the latest checkpoint must be shown within this of the reference (0.02 = 2 points)",
        ),
    ] = DEFAULT_MARGIN,
) -> None:
    """Curves over training steps and dip-and-recovery verdicts per domain, task and safety rate."""
    from cotbench.analysis.trajectory import compute_trajectory

    if not runs and scores is None:
        raise CotbenchError("give checkpoint run directories or --scores FILE.csv")
    if not 0 <= margin < 1:
        raise CotbenchError(f"--margin must be at least 0 and below 1 (metric units, 0.02 = 2 points), got {margin:g}")
    if scores is not None and step_override is not None:
        raise CotbenchError("--step-override applies to run directories, not to --scores")
    if scores is not None and not scores.is_file():
        raise CotbenchError(
            f"--scores {scores}: {'is a folder' if scores.is_dir() else 'no such file'}; give a CSV file"
        )
    steps = parse_steps(step_override) if step_override is not None else None
    _check_figure_dir(figure_dir)
    paths = _expand(runs or [])
    if steps is not None and len(steps) != len(paths):
        raise CotbenchError(f"--step-override gives {len(steps)} step(s) for {len(paths)} run(s); give one per run")
    ref = _run_dir(reference, "--reference") if reference is not None else None
    t = compute_trajectory(paths, ref, scores, steps, allow_mismatch=allow_mismatch or (), margin=margin)
    if json_out:
        sys.stdout.write(t.model_dump_json(indent=2) + "\n")
    else:
        from cotbench.analysis.render import print_trajectory

        print_trajectory(_for_terminal(t))
    if figure_dir is not None:
        _figures(t, figure_dir, json_out)


def _expand(paths: list[Path]) -> list[Path]:
    """Run directories named directly, or the runs one level below a folder of runs."""
    from cotbench.results.load import find_runs

    return [rd.path for rd in find_runs(list(paths))] if paths else []


app.command()(profile)
app.command()(trajectory)
