"""A run's numbers for a model repo on the Hub, in the two conventions ``huggingface_hub`` reads:

- ``model-index.yaml``: the ``model-index`` block of a model card's YAML front matter (paste it
  into README.md's metadata), built with ``huggingface_hub.ModelCardData`` / ``EvalResult``: one
  result per task (task type ``text-generation``), one metric per cotbench metric.
- ``.eval_results/<owner>__<dataset>.yaml``: the Hub's eval-results files (one list of entries
  per benchmark dataset, ``huggingface_hub.EvalResultEntry``), for tasks whose items come from a
  Hub dataset and whose number is a score (capability domains). The ``task_id`` is cotbench's
  task name: cotbench's prompts and scorers are its own, so a value joins a benchmark's Hub
  leaderboard only where the benchmark declares that task id, never silently under its
  official protocol. Safety tasks and probes are in the model-index only.

Undefined (NaN) metrics are left out of both.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cotbench.domains import METRIC_LABELS, domain_info
from cotbench.errors import CotbenchError
from cotbench.export.run_view import RunView, hub_source, read_run
from cotbench.results.schema import TaskResult
from cotbench.results.store import atomic_write_text

TASK_TYPE = "text-generation"
PROBE_DATASET = "cotbench-probe"  # dataset type of cotbench's procedural probes (no Hub dataset)
SOURCE_NAME = "cotbench"
_COMMIT = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class _Dataset:
    type: str
    name: str
    config: str | None
    split: str | None
    revision: str | None


def _catalog_source(task: str) -> tuple[str | None, str | None]:
    """Config and split of a task's Hub dataset, from the task definitions this cotbench has."""
    from cotbench.tasks.catalog import all_tasks

    td = all_tasks().get(task)
    return (td.source.hub_config, td.source.hub_split) if td is not None else (None, None)


def _datasets(view: RunView) -> dict[str, _Dataset]:
    out: dict[str, _Dataset] = {}
    for tr in view.tasks:
        src = hub_source(tr.task.source)
        if src is None:
            out[tr.task.name] = _Dataset(PROBE_DATASET, f"cotbench {tr.task.name}", tr.task.name, None, None)
            continue
        config, split = _catalog_source(tr.task.name)
        out[tr.task.name] = _Dataset(src.dataset_id, src.dataset_id, config, split, src.revision)
    # The model-index keys a result on (task type, dataset, config, split, revision): two tasks
    # reading the same config and split (XSTest's safe and unsafe prompts) would merge into one.
    seen = Counter((d.type, d.config, d.split, d.revision) for d in out.values())
    return {t: d if seen[(d.type, d.config, d.split, d.revision)] == 1 else
            _Dataset(d.type, d.name, t, d.split, d.revision) for t, d in out.items()}


def _metric_name(tr: TaskResult, metric: str) -> str:
    k = tr.task.generation.k
    if metric == "score":
        return f"score (avg@{k})" if k > 1 else "score"
    if metric.startswith("rate:"):
        return f"share of responses labelled {metric.removeprefix('rate:')}"
    return METRIC_LABELS.get(metric, metric)


def eval_results(view: RunView, source_url: str | None = None) -> list[Any]:
    """``huggingface_hub.EvalResult`` per (task, metric), tasks in display order."""
    from huggingface_hub import EvalResult

    datasets = _datasets(view)
    out = []
    for tr in view.tasks:
        d = datasets[tr.task.name]
        for metric, mv in tr.metrics.items():
            if math.isnan(mv.value):
                continue
            out.append(EvalResult(
                task_type=TASK_TYPE, task_name=tr.task.name,
                dataset_type=d.type, dataset_name=d.name, dataset_config=d.config, dataset_split=d.split,
                dataset_revision=d.revision,
                metric_type=metric, metric_value=float(mv.value), metric_name=_metric_name(tr, metric),
                source_name=SOURCE_NAME if source_url else None, source_url=source_url))
    return out


def default_model_name(view: RunView) -> str:
    m = view.manifest.model
    return m.model if m.backend in ("hf", "vllm") and not Path(m.model).is_absolute() else m.label


def model_index_yaml(view: RunView, model_name: str | None = None, source_url: str | None = None) -> str:
    """The ``model-index:`` YAML block for a model card's front matter."""
    from huggingface_hub import ModelCardData

    data = ModelCardData(model_name=model_name or default_model_name(view),
                         eval_results=eval_results(view, source_url))
    return data.to_yaml() + "\n"


def _notes(view: RunView, tr: TaskResult) -> str:
    g = tr.task.generation
    decoding = "greedy" if g.greedy else f"temperature {g.temperature}, top_p {g.top_p}"
    return (f"cotbench {view.manifest.cotbench_version or '?'} task {tr.task.name} v{tr.task.version} "
            f"(hash {tr.task.hash}), {tr.n_items} items, {decoding}, max {g.max_tokens} tokens, "
            f"avg@{g.k}, scorer {tr.task.scorer}")


def eval_result_files(view: RunView, source_url: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """File name under ``.eval_results/`` -> its entries (as ``eval_result_entries_to_yaml`` writes
    them), one file per benchmark dataset."""
    try:
        from huggingface_hub import EvalResultEntry, eval_result_entries_to_yaml
    except ImportError:
        raise CotbenchError("writing .eval_results needs a huggingface_hub with EvalResultEntry "
                            "(pip install -U huggingface_hub)") from None
    by_dataset: dict[str, list[Any]] = defaultdict(list)
    date = view.finished.isoformat().replace("+00:00", "Z")
    for tr in view.tasks:
        src = hub_source(tr.task.source)
        if src is None or domain_info(tr.task.domain).is_safety or math.isnan(tr.metrics["score"].value):
            continue
        by_dataset[src.dataset_id].append(EvalResultEntry(
            dataset_id=src.dataset_id, task_id=tr.task.name, value=float(tr.metrics["score"].value),
            dataset_revision=src.revision if _COMMIT.match(src.revision) else None, date=date,
            source_url=source_url, source_name=SOURCE_NAME if source_url else None, notes=_notes(view, tr)))
    return {f"{ds.replace('/', '__')}.yaml": eval_result_entries_to_yaml(entries)
            for ds, entries in sorted(by_dataset.items())}


def write_model_index(run: str | os.PathLike[str] | RunView, out_dir: str | os.PathLike[str],
                      model_name: str | None = None, source_url: str | None = None) -> list[Path]:
    """Write ``model-index.yaml`` and ``.eval_results/*.yaml`` under ``out_dir``; returns the files."""
    import yaml

    view = run if isinstance(run, RunView) else read_run(run)
    out = Path(out_dir)
    block = out / "model-index.yaml"
    atomic_write_text(block, model_index_yaml(view, model_name, source_url))
    written = [block]
    for name, entries in eval_result_files(view, source_url).items():
        path = out / ".eval_results" / name
        atomic_write_text(path, yaml.safe_dump(entries, sort_keys=False, allow_unicode=True))
        written.append(path)
    return written
