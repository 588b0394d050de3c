"""Log a run to MLflow: provenance as params (flattened, and whole as a JSON artifact), metrics,
and the samples as a table artifact (``samples.json``, read back with ``mlflow.load_table``).

The tracking URI is MLflow's: a server (``http://...``), a database (``sqlite:///mlflow.db``,
which needs the full ``mlflow`` package) or a local folder (``file:///path/mlruns``). The
experiment is ``MLFLOW_EXPERIMENT_NAME`` or ``cotbench``.
"""

from __future__ import annotations

import os
import time
from typing import Any

from cotbench.trackers.record import SAMPLE_COLUMNS, TrackerRecord

DEFAULT_EXPERIMENT = "cotbench"
SAMPLES_ARTIFACT = "samples.json"
PROVENANCE_ARTIFACT = "cotbench_provenance.json"
MAX_PARAM = 500  # characters of a param value: the limit of older MLflow servers


def flatten(config: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested provenance as ``a.b.c`` params with string values cut to ``MAX_PARAM``."""
    out: dict[str, str] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{name}."))
        elif value is not None:
            text = value if isinstance(value, str) else str(value)
            out[name] = text if len(text) <= MAX_PARAM else text[: MAX_PARAM - 1] + "…"
    return out


def log_mlflow(record: TrackerRecord, uri: str) -> str:
    """Log ``record`` to the tracking store at ``uri``; returns the MLflow run id."""
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)  # else MLflow 3 defaults the registry to sqlite
    name = os.environ.get("MLFLOW_EXPERIMENT_NAME") or DEFAULT_EXPERIMENT
    experiment = client.get_experiment_by_name(name)
    experiment_id = experiment.experiment_id if experiment else client.create_experiment(name)
    run = client.create_run(experiment_id, run_name=record.name,
                            tags={"cotbench.group": record.group, "cotbench.tags": ",".join(record.tags)})
    run_id = run.info.run_id
    try:
        now = int(time.time() * 1000)
        step = record.step or 0
        client.log_batch(run_id, metrics=[Metric(k, v, now, step) for k, v in record.metrics.items()],
                         params=[Param(k, v) for k, v in flatten(record.config).items()],
                         tags=[RunTag("cotbench.run_id", record.name)])
        client.log_table(run_id, {c: [row[i] for row in record.rows] for i, c in enumerate(SAMPLE_COLUMNS)},
                         SAMPLES_ARTIFACT)
        client.log_dict(run_id, record.config, PROVENANCE_ARTIFACT)
    except BaseException:
        client.set_terminated(run_id, "FAILED")
        raise
    client.set_terminated(run_id, "FINISHED")
    return run_id
