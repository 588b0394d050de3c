"""Which trackers a run logs to, checked before the run starts, and the logging of finished runs.

A tracker is told about a run only after its results are on disk, and a tracker that fails
(no login, a server that is down, a full disk) costs a warning, never the results.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from cotbench.errors import CotbenchError, MissingDependencyError, one_line, printable
from cotbench.results.store import RunDir

_DATABASE_SCHEMES = ("sqlite", "postgresql", "mysql", "mssql")


@dataclass(frozen=True)
class Trackers:
    """``wandb``: a W&B project; ``mlflow``: an MLflow tracking URI (a folder becomes a file: URI)."""

    wandb: str | None = None
    mlflow: str | None = None

    @property
    def any(self) -> bool:
        return bool(self.wandb or self.mlflow)


def _scheme(uri: str) -> str:
    head, sep, _ = uri.partition(":")
    # "C:\\runs" is a Windows path, not a scheme
    return head.split("+", 1)[0].lower() if sep and len(head) > 1 else ""


def mlflow_uri(value: str) -> str:
    """The tracking URI for ``--mlflow``: URIs as given, a plain path as an absolute ``file:`` URI."""
    return value if _scheme(value) else Path(value).expanduser().resolve().as_uri()


def check_trackers(trackers: Trackers) -> Trackers:
    """Before any generation: the optional packages are installed and the values make sense.
    Returns the trackers with the MLflow URI normalised."""
    if trackers.wandb is not None:
        if not trackers.wandb.strip() or any(c in trackers.wandb for c in "/\\#?%:"):
            raise CotbenchError(f"--wandb '{printable(trackers.wandb)}': a W&B project name (no /, \\, #, ?, %, :); "
                                "set the entity with WANDB_ENTITY")
        if importlib.util.find_spec("wandb") is None:
            raise MissingDependencyError("wandb", "--wandb", extra="wandb")
    uri = trackers.mlflow
    if uri is not None:
        if not uri.strip():
            raise CotbenchError("--mlflow: the tracking URI is empty (give a folder, file:///path, sqlite:///db or "
                                "http://host:port)")
        if importlib.util.find_spec("mlflow") is None:
            raise MissingDependencyError("mlflow", "--mlflow", extra="mlflow")
        uri = mlflow_uri(uri)
        scheme = _scheme(uri)
        if scheme in _DATABASE_SCHEMES and importlib.util.find_spec("sqlalchemy") is None:
            raise CotbenchError(f"--mlflow {printable(uri)}: a database store needs the full MLflow package "
                                "(pip install mlflow); or give a folder for a local file store")
        if scheme == "file":
            path = Path(unquote(urlparse(uri).path))
            if path.exists() and not path.is_dir():
                raise CotbenchError(f"--mlflow {printable(uri)}: {printable(path)} is a file; give a folder")
    return Trackers(wandb=trackers.wandb, mlflow=uri)


def _allow_file_store(uri: str) -> None:
    """MLflow 3 refuses a file store unless told it is wanted; a file: URI is the user saying so."""
    if _scheme(uri) == "file":
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")


def log_runs(run_dirs: Iterable[RunDir], trackers: Trackers, preset: str | None = None,
             say: Callable[[str], None] = print, warn: Callable[[str], None] = print) -> list[str]:
    """Log each finished run to each tracker; returns one line per failure (also passed to ``warn``)."""
    from cotbench.trackers.record import tracker_record

    failures: list[str] = []
    for rd in run_dirs:
        try:
            record = tracker_record(rd, preset)
        except CotbenchError as exc:
            failures.append(f"{rd.path}: not logged to any tracker ({one_line(exc)})")
            warn(failures[-1])
            continue
        if record.rows_cut:
            warn(f"{record.name}: the trackers get the first {len(record.rows)} of {record.rows_total} samples")
        for name, send in _senders(trackers):
            try:
                where = send(record)
            except Exception as exc:  # noqa: BLE001 - any tracker error: the results are safe on disk
                failures.append(
                    f"{name}: logging {record.name} failed ({one_line(f'{exc.__class__.__name__}: {exc}')}); "
                    f"the results are in {rd.path}"
                )
                warn(failures[-1])
            else:
                say(f"{name}: logged {record.name} ({where})")
    return failures


def _senders(trackers: Trackers) -> list[tuple[str, Callable[..., str]]]:
    out: list[tuple[str, Callable[..., str]]] = []
    if trackers.wandb:
        from cotbench.trackers.wandb_log import log_wandb

        project = trackers.wandb
        out.append(("wandb", lambda record: log_wandb(record, project)))
    if trackers.mlflow:
        from cotbench.trackers.mlflow_log import log_mlflow

        uri = trackers.mlflow
        _allow_file_store(uri)
        out.append(("mlflow", lambda record: log_mlflow(record, uri)))
    return out
