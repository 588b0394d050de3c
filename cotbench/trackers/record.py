"""What cotbench logs to an experiment tracker for one run directory, whichever the tracker."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from cotbench.domains import BENIGN_DOMAIN, HARMFUL_DOMAIN, domain_info
from cotbench.results.estimate import Estimate
from cotbench.results.schema import SampleRecord, TaskResult
from cotbench.results.store import RunDir
from cotbench.site.data import Entry
from cotbench.site.headlines import summarize

SAMPLE_COLUMNS = ("task", "sample_id", "repeat", "prompt", "answer", "target", "score", "label", "truncated")
MAX_TEXT = 2000  # characters of a prompt, answer or target in the samples table
MAX_ROWS = 100_000  # W&B tables hold at most 200,000 rows; a run rarely has this many samples
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_\-. :/]")  # MLflow's metric-name alphabet; W&B takes it too


@dataclass
class TrackerRecord:
    """One run as a tracker sees it: ``config`` (provenance, nested), ``metrics`` (flat, finite),
    and the samples table (``rows`` in ``SAMPLE_COLUMNS`` order, cut at ``MAX_ROWS``)."""

    name: str
    group: str
    step: int | None
    config: dict[str, Any]
    metrics: dict[str, float]
    rows: list[list[Any]] = field(default_factory=list)
    rows_total: int = 0
    tags: list[str] = field(default_factory=list)

    @property
    def rows_cut(self) -> bool:
        return self.rows_total > len(self.rows)


def metric_key(*parts: str) -> str:
    """A metric name both trackers accept: ``pass@10`` becomes ``pass_at_10``."""
    return "/".join(_NAME_UNSAFE.sub("_", p.replace("@", "_at_")) for p in parts)


def _trim(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _finite(metrics: dict[str, float], key: str, value: float | None) -> None:
    if value is not None and math.isfinite(value):
        metrics[key] = float(value)


def _estimate(metrics: dict[str, float], prefix: str, est: Estimate | None) -> None:
    """A run's own rate with its standard error and 95% interval, as the leaderboard shows it."""
    if est is None or not est.ok:
        return
    _finite(metrics, prefix, est.model)
    _finite(metrics, f"{prefix}_stderr", est.stderr)
    _finite(metrics, f"{prefix}_ci_low", est.low)
    _finite(metrics, f"{prefix}_ci_high", est.high)
    _finite(metrics, f"{prefix}_n", est.n)


def task_metrics(tr: TaskResult) -> dict[str, float]:
    """Every metric of one task with its standard error and item count, plus its token figures."""
    out: dict[str, float] = {}
    name = tr.task.name
    for metric, mv in tr.metrics.items():
        _finite(out, metric_key("task", name, metric), mv.value)
        _finite(out, metric_key("task", name, f"{metric}_stderr"), mv.stderr)
        _finite(out, metric_key("task", name, f"{metric}_n"), mv.n)
    for figure in ("n_items", "n_samples", "n_unscored", "truncation_rate", "mean_reasoning_tokens",
                   "mean_answer_tokens"):
        _finite(out, metric_key("task", name, figure), getattr(tr, figure))
    return out


def domain_metrics(rd: RunDir, tasks: dict[str, TaskResult]) -> dict[str, float]:
    """The run's own domain means, as the leaderboard computes them (``site.headlines``)."""
    manifest = rd.read_manifest()
    summary = summarize(Entry(run=rd, manifest=manifest, tasks=tasks, slug=manifest.run_id, family="", series=None))
    out: dict[str, float] = {}
    for domain, est in summary.domains.items():
        _estimate(out, metric_key("domain", domain, domain_info(domain).metric), est)
    _estimate(out, metric_key("domain", HARMFUL_DOMAIN, domain_info(HARMFUL_DOMAIN).metric), summary.harmful_compliance)
    _estimate(out, metric_key("domain", BENIGN_DOMAIN, domain_info(BENIGN_DOMAIN).metric), summary.over_refusal)
    if tasks:
        _finite(out, "run/tokens_per_sample", summary.tokens)
    return out


def sample_row(s: SampleRecord) -> list[Any]:
    target = s.target if isinstance(s.target, str) else json.dumps(s.target, ensure_ascii=False, default=str)
    return [s.task, s.sample_id, s.repeat, _trim(s.prompt), _trim(s.answer), _trim(target), s.score,
            s.label or "", s.truncated]


def provenance(rd: RunDir, tasks: dict[str, TaskResult], preset: str | None) -> dict[str, Any]:
    """The run's provenance as a tracker's config: model spec and identity, revision, suite, preset,
    versions, and each task's version, hash and generation settings."""
    m = rd.read_manifest()
    return {
        "run_id": m.run_id,
        "run_dir": str(rd.path),
        "engine": m.engine,
        "suite": m.suite,
        "preset": preset or "task defaults",
        "limit": m.limit,
        "cotbench_version": m.cotbench_version,
        "schema_version": m.schema_version,
        "host": m.host,
        "device": m.device,
        "started_at": m.started_at.isoformat(),
        "finished_at": m.finished_at.isoformat() if m.finished_at else None,
        "model": m.model.model_dump(mode="json"),
        "packages": dict(m.packages),
        "tasks": {name: {"version": tr.task.version, "hash": tr.task.hash, "domain": tr.task.domain,
                         "scorer": tr.task.scorer, "scorer_mode": tr.task.scorer_mode, "n_items": tr.n_items,
                         "generation": tr.task.generation.model_dump(mode="json")}
                  for name, tr in sorted(tasks.items())},
    }


def tracker_record(rd: RunDir, preset: str | None = None, max_rows: int = MAX_ROWS) -> TrackerRecord:
    """Everything logged for ``rd``, read from its files (never from the run in memory)."""
    manifest = rd.read_manifest()
    tasks = {name: rd.read_task(name) for name in rd.task_names()}
    metrics: dict[str, float] = {}
    for tr in tasks.values():
        metrics.update(task_metrics(tr))
    metrics.update(domain_metrics(rd, tasks))
    rows: list[list[Any]] = []
    total = 0
    for name in tasks:
        for s in rd.iter_samples(name):
            total += 1
            if len(rows) < max_rows:
                rows.append(sample_row(s))
    tags = ["cotbench", manifest.engine] + ([manifest.suite] if manifest.suite else [])
    return TrackerRecord(name=manifest.run_id, group=manifest.model.label, step=manifest.model.step,
                         config=provenance(rd, tasks, preset), metrics=metrics, rows=rows, rows_total=total,
                         tags=tags)
