"""The results contract: what a run directory holds, versioned.

Every later stage (profile, trajectory, gate, leaderboard) reads only these models, so a
change here bumps ``SCHEMA_VERSION``. ``cotbench schema`` prints the JSON Schema.

Run directory layout::

    RUN_DIR/
      manifest.json              RunManifest
      tasks/<task>/metrics.json  TaskResult (metrics + task provenance)
      tasks/<task>/samples.jsonl one SampleRecord per line
      generations.sqlite         generation cache keyed by model identity (resume, reruns)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1.3"

Domain = Literal["in_domain", "transfer", "general", "safety_harmful", "safety_benign"]
FinishReason = Literal["stop", "length", "error", "unknown"]
EngineName = Literal["lm_eval", "inspect"]
TaskStatus = Literal["pending", "running", "complete", "error"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class GenerationSettings(_Model):
    """Sampling settings sent to the model; temperature 0 means greedy decoding."""

    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 1024
    k: int = Field(1, description="samples per item (avg@k)")
    seed: int = 1234
    stop: list[str] = Field(default_factory=list)

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0.0


class ModelInfo(_Model):
    """The model spec as evaluated (see cotbench.models.spec.ModelSpec)."""

    spec: str
    backend: str
    model: str
    revision: str | None = None
    resolved_revision: str | None = None
    subfolder: str | None = None
    gguf_file: str | None = None
    dtype: str | None = None
    chat_template: str | None = None
    system_prompt: str | None = None
    base_url: str | None = None
    step: int | None = None
    label: str
    identity: str = Field(description="stable hash of everything that changes outputs; the cache key")


class TaskInfo(_Model):
    """A task as evaluated: enough to refuse comparing numbers across versions."""

    name: str
    version: str
    hash: str = Field(description="content hash of prompt template, data source/revision, scorer, generator")
    domain: Domain
    scorer: str
    scorer_mode: str = "exact"
    source: str = ""
    license: str = ""
    generation: GenerationSettings
    n_items: int
    items_hash: str | None = Field(
        None, description="hash of the ordered items (ids, prompts, targets, fields); a finished task is reused "
        "only for the very same items (absent before 1.3: such results are recomputed, not reused)")
    model_identity: str | None = Field(None, description="identity of the model the results are from")


class SampleRecord(_Model):
    """One model response to one item (one of k repeats), scored."""

    run_id: str
    task: str
    task_hash: str
    sample_id: str
    repeat: int = 0
    prompt: str
    target: Any = None
    output: str
    reasoning: str = ""
    answer: str = ""
    extracted: str | None = None
    score: float | None = Field(
        description="0..1; None when the sample could not be scored (e.g. a safety response truncated inside "
        "its reasoning, or a judge error) - such samples are reported apart, never averaged in"
    )
    label: str | None = Field(None, description="class label where the scorer has one, e.g. a refusal class")
    category: str | None = None
    truncated: bool = False
    finish_reason: FinishReason = "unknown"
    reasoning_tokens: int = 0
    answer_tokens: int = 0
    output_tokens: int = 0
    latency_s: float = 0.0
    engine: EngineName
    scorer_mode: str = "exact"
    cached: bool = False
    details: dict[str, Any] = Field(default_factory=dict)


class MetricValue(_Model):
    # NaN (written as the JSON constant NaN) when no item could be scored.
    model_config = ConfigDict(extra="forbid", ser_json_inf_nan="constants")

    value: float
    stderr: float
    n: int = Field(description="number of items (clusters of k repeats)")


class TaskResult(_Model):
    """Per-task metrics, computed by cotbench from the SampleRecords (same code for both engines)."""

    schema_version: str = SCHEMA_VERSION
    run_id: str
    task: TaskInfo
    engine: EngineName
    metrics: dict[str, MetricValue]
    n_samples: int
    n_items: int
    n_unscored: int = Field(0, description="samples with score None (truncated safety responses, judge errors)")
    truncation_rate: float
    mean_reasoning_tokens: float
    mean_answer_tokens: float
    by_category: dict[str, MetricValue] = Field(default_factory=dict, description="score per category")
    category_metrics: dict[str, dict[str, MetricValue]] = Field(
        default_factory=dict, description="every metric per category (label rates, safety rates)")
    harness_metrics: dict[str, Any] = Field(default_factory=dict, description="what the harness itself reported")
    started_at: datetime
    finished_at: datetime


class TaskStatusEntry(_Model):
    name: str
    hash: str
    status: TaskStatus = "pending"
    error: str | None = None


class RunManifest(_Model):
    """Provenance of one (model, checkpoint) run."""

    schema_version: str = SCHEMA_VERSION
    run_id: str
    model: ModelInfo
    engine: EngineName
    suite: str | None = None
    limit: int | None = None
    tasks: list[TaskStatusEntry] = Field(default_factory=list)
    packages: dict[str, str] = Field(default_factory=dict)
    model_calls: int = Field(0, description="requests sent to the model by the latest invocation")
    cache_hits: int = Field(0, description="requests served from the generation cache by the latest invocation")
    host: str = ""
    device: str = ""
    started_at: datetime
    finished_at: datetime | None = None
    cotbench_version: str = ""

    def task_entry(self, name: str) -> TaskStatusEntry | None:
        return next((t for t in self.tasks if t.name == name), None)
