"""Log a run to Weights & Biases: provenance as the run's config, metrics as one history step
(and so the run's summary), and the samples as a ``wandb.Table``.

Authentication, entity and offline mode are W&B's own (``wandb login``, ``WANDB_ENTITY``,
``WANDB_MODE=offline``, ``WANDB_DIR``). One W&B run per cotbench run directory, grouped by the
model's label, so the checkpoints of a series sit together.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cotbench.trackers.record import SAMPLE_COLUMNS, TrackerRecord

SAMPLES_KEY = "samples"


def log_wandb(record: TrackerRecord, project: str) -> str:
    """Log ``record`` to ``project``; returns where the run is (its URL, or its offline folder)."""
    import wandb

    run = wandb.init(project=project, name=record.name, group=record.group, job_type="eval",
                     config=record.config, tags=record.tags, reinit="create_new",
                     settings=wandb.Settings(console="off", quiet=True))
    ok = False
    try:
        table = wandb.Table(columns=list(SAMPLE_COLUMNS), data=list[Iterable[Any]](record.rows))
        summary: dict[str, object] = dict(record.metrics)
        if record.step is not None:
            summary["training_step"] = record.step
        run.log({**summary, SAMPLES_KEY: table})
        ok = True
    finally:
        run.finish(exit_code=0 if ok else 1)
    if getattr(run, "offline", False):
        return str(Path(run.dir).parent)
    return run.url or str(Path(run.dir).parent)
