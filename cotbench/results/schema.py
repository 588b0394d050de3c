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

import math
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cotbench.domains import (
    ATTACK_SUCCESS,
    FULL_COMPLIANCE,
    HARMFUL_COMPLIANCE,
    OVER_REFUSAL,
    domain_info,
    is_domain,
)
from cotbench.domains import Domain as Domain  # defined there, re-exported: stages import it from here too

# 1.4: on harmful prompts the full-compliance share is ``harmful_compliance`` (was
# ``attack_success``); ``attack_success`` now means a harm judge's verdict (see TaskResult).
SCHEMA_VERSION = "1.4"
FinishReason = Literal["stop", "length", "error", "unknown"]
# A registered engine's name (cotbench.registry.engines: lm_eval, inspect, or a plugin's). Not
# checked against the registry: results load wherever they are read, plugins installed or not.
EngineName = str
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


class ModelFacts(_Model):
    """What a local model's own files say about it, read at run time (``cotbench.models.facts``);
    absent for served and API models, and in results written before it was recorded."""

    parameters: int | None = Field(None, description="elements of every tensor, from the weight files' headers")
    parameters_source: str | None = Field(None, description='"safetensors header" or "gguf metadata"')
    torch_dtype: str | None = Field(None, description="config.json's torch_dtype: the precision the weights are "
                                    "stored in")
    base_model: str | None = Field(None, description="config.json's _name_or_path")
    quantization: str | None = Field(None, description="a GGUF file's type (general.file_type), e.g. Q4_1")


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
    facts: ModelFacts | None = Field(None, description="read from the model's files; not part of the identity")


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
    details: dict[str, Any] = Field(
        default_factory=dict, description="scorer details; a harm judge's verdict is details['harmful'] (bool), "
        "the only input of attack_success")


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

    @model_validator(mode="before")
    @classmethod
    def _read_older(cls, data: Any) -> Any:
        """Files from before 1.4 are read in today's names (see ``upgrade_task_result``)."""
        if isinstance(data, dict) and _version(str(data.get("schema_version", SCHEMA_VERSION))) < _version("1.4"):
            return upgrade_task_result(data)
        return data


class TaskStatusEntry(_Model):
    name: str
    hash: str
    status: TaskStatus = "pending"
    error: str | None = None


class Invocation(_Model):
    """One `cotbench run` into a run directory: the first one and every rerun or resume."""

    started_at: datetime
    finished_at: datetime | None = None  # None: still running, or killed
    engine: str = ""
    evaluated: list[str] = Field(default_factory=list, description="tasks this invocation evaluated")
    model_calls: int = 0
    cache_hits: int = 0
    cotbench_version: str = ""
    host: str = ""


class RunManifest(_Model):
    """Provenance of one (model, checkpoint) run.

    The top-level facts describe how the results were produced: ``started_at`` is the first
    invocation's start, ``finished_at`` the end of the last one that evaluated anything, and
    ``model_calls``/``cache_hits`` add up over invocations; a fully cached rerun leaves them as
    they were. Each invocation is also recorded on its own in ``invocations``.
    """

    schema_version: str = SCHEMA_VERSION
    run_id: str
    model: ModelInfo
    engine: EngineName
    suite: str | None = None
    limit: int | None = None
    tasks: list[TaskStatusEntry] = Field(default_factory=list)
    packages: dict[str, str] = Field(default_factory=dict)
    model_calls: int = Field(0, description="requests sent to the model, over all invocations")
    cache_hits: int = Field(0, description="requests served from the generation cache, over all invocations")
    host: str = ""
    device: str = ""
    started_at: datetime
    finished_at: datetime | None = None
    cotbench_version: str = ""
    invocations: list[Invocation] = Field(default_factory=list)

    def task_entry(self, name: str) -> TaskStatusEntry | None:
        return next((t for t in self.tasks if t.name == name), None)


def _version(v: str) -> tuple[int, ...]:
    """``"1.3"`` -> (1, 3); a version that is not dotted integers sorts as the current one."""
    try:
        return tuple(int(x) for x in v.split("."))
    except ValueError:
        return _version(SCHEMA_VERSION)


def upgrade_task_result(raw: dict[str, Any]) -> dict[str, Any]:
    """A pre-1.4 TaskResult in today's names.

    Before 1.4, ``attack_success`` on harmful prompts was the full-compliance share from refusal
    labels (no judge of harm was involved, whatever the scorer), so it is read as
    ``harmful_compliance``. Files older than the named safety rates get ``harmful_compliance`` /
    ``over_refusal`` from ``rate:full_compliance`` (0 when labelled samples were scored but none
    complied; NaN when nothing was scored).
    """
    out = dict(raw)
    domain = (out.get("task") or {}).get("domain") if isinstance(out.get("task"), dict) else None

    def fix(metrics: Any) -> Any:
        if not isinstance(metrics, dict):
            return metrics
        m = dict(metrics)
        if ATTACK_SUCCESS in m:
            old = m.pop(ATTACK_SUCCESS)
            m.setdefault(HARMFUL_COMPLIANCE, old)
        if isinstance(domain, str) and is_domain(domain) and domain_info(domain).is_safety:
            key = domain_info(domain).metric
            if key not in m:
                derived = _from_compliance(m, complement=key == OVER_REFUSAL)
                if derived is not None:
                    m[key] = derived
        return m

    out["metrics"] = fix(out.get("metrics"))
    if isinstance(out.get("category_metrics"), dict):
        out["category_metrics"] = {c: fix(m) for c, m in out["category_metrics"].items()}
    out["schema_version"] = SCHEMA_VERSION
    return out


def _from_compliance(metrics: dict[str, Any], complement: bool) -> dict[str, Any] | None:
    rate = metrics.get(f"rate:{FULL_COMPLIANCE}")
    score = metrics.get("score")
    if isinstance(rate, dict):
        value = float(rate["value"])
        return {**rate, "value": 1.0 - value if complement else value}
    if not isinstance(score, dict):
        return None
    if not any(k.startswith("rate:") for k in metrics) or not score.get("n"):
        return {"value": math.nan, "stderr": math.nan, "n": 0}
    # labelled and scored, and no response fully complied
    return {"value": 1.0 if complement else 0.0, "stderr": 0.0, "n": score["n"]}
