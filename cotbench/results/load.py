"""Load finished runs into pandas, one call each."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from cotbench.errors import ResultsError
from cotbench.results.store import RunDir


def find_runs(paths: list[str | os.PathLike[str]]) -> list[RunDir]:
    """Run directories named directly, or found one level below a directory of runs."""
    runs: list[RunDir] = []
    for p in map(Path, paths):
        if (p / "manifest.json").is_file():
            runs.append(RunDir(p))
        elif p.is_dir():
            runs.extend(RunDir(c) for c in sorted(p.iterdir()) if (c / "manifest.json").is_file())
        else:
            raise ResultsError(f"{p}: not a run directory (no manifest.json)")
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
