"""A finished run directory read once for the exporters: manifest, task results in display order,
and each task's records grouped by item."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cotbench.domains import domain_order
from cotbench.errors import ResultsError
from cotbench.results.schema import RunManifest, SampleRecord, TaskResult
from cotbench.results.store import RunDir

# "org/name@revision": how the runner records a Hub dataset as a task's source.
_HUB_SOURCE = re.compile(r"^(?P<id>[\w.\-]+/[\w.\-]+)@(?P<rev>\S+)$")


@dataclass(frozen=True)
class HubSource:
    dataset_id: str
    revision: str


@dataclass
class RunView:
    path: Path
    manifest: RunManifest
    tasks: list[TaskResult]  # finished tasks, by domain then name

    @property
    def rd(self) -> RunDir:
        return RunDir(self.path)

    def items(self, task: str) -> Iterator[list[SampleRecord]]:
        """The task's records grouped by item, items in file order, repeats in repeat order."""
        groups: dict[str, list[SampleRecord]] = {}
        for rec in self.rd.iter_samples(task):
            groups.setdefault(rec.sample_id, []).append(rec)
        for recs in groups.values():
            yield sorted(recs, key=lambda r: r.repeat)

    @property
    def started(self) -> datetime:
        return _utc(self.manifest.started_at)

    @property
    def finished(self) -> datetime:
        ends = [self.manifest.finished_at] if self.manifest.finished_at else [t.finished_at for t in self.tasks]
        return _utc(max(ends)) if ends else self.started


def read_run(path: str | os.PathLike[str]) -> RunView:
    """The run at ``path``; a ResultsError naming it when it is not a finished run directory."""
    rd = RunDir(path)
    if not rd.exists():
        raise ResultsError(f"{rd.path}: not a run directory (no manifest.json)")
    manifest = rd.read_manifest()
    tasks = sorted((rd.read_task(t) for t in rd.task_names()), key=lambda t: (domain_order(t.task.domain), t.task.name))
    if not tasks:
        raise ResultsError(f"{rd.path}: no finished task (no tasks/<task>/metrics.json)")
    return RunView(rd.path, manifest, tasks)


def hub_source(source: str) -> HubSource | None:
    """The Hub dataset a task's items came from, where its recorded source names one."""
    m = _HUB_SOURCE.match(source)
    return HubSource(m.group("id"), m.group("rev")) if m else None


def _utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC) if dt.tzinfo else dt.replace(tzinfo=UTC)
