"""Build synthetic run directories for tests of the stages after `run`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cotbench.results.schema import (
    GenerationSettings,
    ModelInfo,
    RunManifest,
    SampleRecord,
    TaskInfo,
    TaskStatusEntry,
)
from cotbench.results.store import RunDir
from cotbench.results.task_result import build_task_result

T0 = datetime(2026, 1, 1, tzinfo=UTC)
# The scorer a real task of each domain has: it declares the task's metrics (safety rates included).
SCORER_OF_DOMAIN = {"safety_harmful": "refusal_harmful", "safety_benign": "refusal_benign"}


@dataclass
class FakeTask:
    """Scores per item (a list of k repeats each) and, for safety tasks, labels."""

    domain: str
    scores: Sequence[Sequence[float | None]]
    labels: Sequence[Sequence[str | None]] | None = None
    categories: Sequence[str | None] | None = None
    version: str = "1"
    hash: str | None = None
    reasoning_tokens: int = 100
    answer_tokens: int = 20
    outputs: Sequence[str] | None = None
    reasoning: str = "Let me think. Wait, let me check this again."
    extra: dict = field(default_factory=dict)


def make_run(
    root: Path,
    label: str,
    tasks: dict[str, FakeTask],
    step: int | None = None,
    run_id: str | None = None,
    engine: str = "lm_eval",
    scorer_mode: str = "exact",
    generation: dict | None = None,
    system_prompt: str | None = None,
    chat_template: str | None = None,
) -> RunDir:
    """``generation``: GenerationSettings fields applied to every task (k defaults to the repeats)."""
    run_id = run_id or (f"{label}-step{step}" if step is not None else label).replace("/", "_")
    rd = RunDir(root / run_id)
    model = ModelInfo(spec=f"hf:{label}", backend="hf", model=label, label=label, step=step,
                      system_prompt=system_prompt, chat_template=chat_template, identity=f"id-{run_id}")
    entries = []
    for name, t in tasks.items():
        k = max(len(v) for v in t.scores)
        info = TaskInfo(name=name, version=t.version, hash=t.hash or f"h-{name}-{t.version}",
                        domain=t.domain, scorer=SCORER_OF_DOMAIN.get(t.domain, "exact"), scorer_mode=scorer_mode,
                        source="synthetic",
                        generation=GenerationSettings(**{"k": k, **(generation or {})}), n_items=len(t.scores))
        records = []
        for i, reps in enumerate(t.scores):
            for r, sc in enumerate(reps):
                lab = t.labels[i][r] if t.labels else None
                out = t.outputs[i] if t.outputs else f"<think>{t.reasoning}</think>answer {i}"
                records.append(SampleRecord(
                    run_id=run_id, task=name, task_hash=info.hash, sample_id=f"{name}-{i}", repeat=r,
                    prompt=f"prompt {i}", target="x", output=out, reasoning=t.reasoning,
                    answer=f"answer {i}", extracted=str(i), score=sc, label=lab,
                    category=t.categories[i] if t.categories else None,
                    truncated=sc is None, finish_reason="stop",
                    reasoning_tokens=t.reasoning_tokens, answer_tokens=t.answer_tokens,
                    output_tokens=t.reasoning_tokens + t.answer_tokens, latency_s=0.1,
                    engine=engine, scorer_mode=scorer_mode))
        rd.write_task(build_task_result(run_id, info, engine, records, T0, T0), records)
        entries.append(TaskStatusEntry(name=name, hash=info.hash, status="complete"))
    rd.write_manifest(RunManifest(run_id=run_id, model=model, engine=engine, tasks=entries,
                                  started_at=T0, finished_at=T0, cotbench_version="test"))
    return rd
