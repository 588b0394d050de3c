"""Load finished runs into pandas, one call each."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from cotbench.errors import ResultsError
from cotbench.results.store import MANIFEST, RunDir


def _has_manifest(p: Path) -> bool:
    """Raises OSError when ``p`` cannot be looked into (permissions)."""
    m = p / MANIFEST
    if os.path.lexists(m) and not m.is_file():
        raise ResultsError(f"{m}: not a regular file (a folder?)")
    return m.is_file()


def find_runs(paths: list[str | os.PathLike[str]], problems: list[str] | None = None) -> list[RunDir]:
    """Run directories named directly, or found one level below a directory of runs.

    A path that is no run and holds none raises ResultsError naming it; so does an unreadable
    run below a folder, unless ``problems`` is given: then it is listed there and skipped.
    """
    runs: list[RunDir] = []
    for p in map(Path, paths):
        try:
            if _has_manifest(p):
                runs.append(RunDir(p))
                continue
            if not p.is_dir():
                raise ResultsError(f"{p}: not a run directory (no manifest.json)")
            children = sorted(p.iterdir())
        except OSError as exc:
            raise ResultsError(f"{p}: cannot read ({exc.strerror or exc.__class__.__name__})") from None
        found = 0
        for c in children:
            try:
                if not _has_manifest(c):
                    continue
            except (OSError, ResultsError) as exc:
                why = str(exc) if isinstance(exc, ResultsError) else \
                    f"{c}: cannot read ({exc.strerror or exc.__class__.__name__}), skipped"
                if problems is None:
                    raise ResultsError(why) from None
                problems.append(why)
                found += 1
                continue
            runs.append(RunDir(c))
            found += 1
        if not found:
            raise ResultsError(f"{p}: not a run directory, and no folder in it is one (no manifest.json)")
    return runs


def load_samples(run: str | os.PathLike[str] | RunDir) -> pd.DataFrame:
    """One row per sample record of every finished task, with the run's model columns."""
    rd = run if isinstance(run, RunDir) else RunDir(run)
    manifest = rd.read_manifest()
    rows = []
    for task in rd.task_names():
        info = rd.read_task(task).task
        for s in rd.iter_samples(task):
            row = s.model_dump()
            row["domain"] = info.domain
            row["task_version"] = info.version
            rows.append(row)
    df = pd.DataFrame(rows)
    df["model"] = manifest.model.label
    df["step"] = manifest.model.step
    return df


def load_metrics(runs: list[str | os.PathLike[str]] | str | os.PathLike[str]) -> pd.DataFrame:
    """One row per (run, task, metric)."""
    paths = [runs] if isinstance(runs, (str, os.PathLike)) else list(runs)
    rows = []
    for rd in find_runs(paths):
        m = rd.read_manifest()
        for task in rd.task_names():
            tr = rd.read_task(task)
            for name, mv in tr.metrics.items():
                rows.append(
                    {
                        "run_id": m.run_id,
                        "model": m.model.label,
                        "step": m.model.step,
                        "task": task,
                        "domain": tr.task.domain,
                        "task_version": tr.task.version,
                        "task_hash": tr.task.hash,
                        "metric": name,
                        "value": mv.value,
                        "stderr": mv.stderr,
                        "n": mv.n,
                        "engine": tr.engine,
                    }
                )
    return pd.DataFrame(rows)
