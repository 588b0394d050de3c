"""Write imported runs as cotbench run directories (the results contract of ``cotbench.results``).

One run directory per model; importing again into the same output adds tasks to it and replaces
the ones imported before. Beside the manifest, ``imported.json`` says it was imported: from which
files, written by which harness version, whose scores each task carries.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from cotbench import __version__
from cotbench.errors import CotbenchError, ResultsError, printable
from cotbench.importers.common import (
    HARNESS_PACKAGE,
    PROVENANCE_FILE,
    ImportedRun,
    ImportOptions,
    ImportProvenance,
    TaskProvenance,
    now,
)
from cotbench.results.schema import ModelInfo, RunManifest, TaskStatusEntry
from cotbench.results.store import RunDir, atomic_write_text
from cotbench.results.task_result import build_task_result


def _previous(rd: RunDir) -> tuple[RunManifest | None, ImportProvenance | None]:
    """What an earlier import left in ``rd``; a run directory that no import wrote is refused."""
    if not rd.exists():
        return None, None
    path = rd.path / PROVENANCE_FILE
    if not path.is_file():
        raise CotbenchError(f"{rd.path}: a run directory that was not imported is in the way; choose another --output")
    try:
        provenance = ImportProvenance.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError) as exc:
        raise ResultsError(f"{path}: not a valid import record ({exc.__class__.__name__})") from None
    return rd.read_manifest(), provenance


def write_run(run: ImportedRun, output: Path, options: ImportOptions) -> RunDir:
    """Write ``run`` under ``output``; returns its run directory."""
    m = run.model
    run_id = m.run_id(options)
    rd = RunDir(output / run_id)
    with rd.locked():
        manifest, provenance = _previous(rd)
        if provenance is not None and provenance.harness != m.harness:
            raise CotbenchError(f"{rd.path}: imported from {provenance.harness} before; cannot add {m.harness} tasks")
        info = ModelInfo(spec=f"{m.harness}:{m.model}", backend=m.backend, model=m.model, revision=m.revision,
                         base_url=m.base_url, system_prompt=m.system_prompt, step=options.step,
                         label=m.label(options), identity=m.identity)
        new = {t.info.name for t in run.tasks}
        for t in run.tasks:
            result = build_task_result(run_id, t.info, m.harness, t.records, t.started_at, t.finished_at,
                                       t.harness_metrics)
            rd.write_task(result, t.records)
        kept = [e for e in (manifest.tasks if manifest else []) if e.name not in new]
        entries = kept + [TaskStatusEntry(name=t.info.name, hash=t.info.hash, status="complete") for t in run.tasks]
        starts = [t.started_at for t in run.tasks] + ([manifest.started_at] if manifest else [])
        ends = [t.finished_at for t in run.tasks] + (
            [manifest.finished_at] if manifest and manifest.finished_at else []
        )
        tasks_prov = dict(provenance.tasks) if provenance else {}
        tasks_prov.update({t.info.name: TaskProvenance(
            harness_task=t.harness_task, files=t.files,
            scores="rescored by cotbench" if t.rescored else "kept from the harness",
            harness_status=t.harness_status, notes=t.notes) for t in run.tasks})
        files = sorted({f for p in tasks_prov.values() for f in p.files})
        record = ImportProvenance(harness=m.harness, harness_version=m.harness_version, imported_at=now(),
                                  files=files, tasks=tasks_prov)
        atomic_write_text(rd.path / PROVENANCE_FILE, record.model_dump_json(indent=2) + "\n")
        rd.write_manifest(RunManifest(
            run_id=run_id, model=info, engine=m.harness, suite=None, limit=None,
            tasks=sorted(entries, key=lambda e: e.name),
            packages={HARNESS_PACKAGE[m.harness]: m.harness_version, "cotbench": __version__},
            started_at=min(starts), finished_at=max(ends), cotbench_version=__version__))
    return rd


def describe(rd: RunDir) -> str:
    """One line per imported run for the terminal."""
    manifest = rd.read_manifest()
    return f"{printable(manifest.model.label)}: {len(manifest.tasks)} task(s) in {printable(rd.path)}"
