"""What every engine needs: the per-task plan, the model handle (``cotbench.models.handle``), and
one record builder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from cotbench.models.generator import Completion
from cotbench.models.handle import ModelHandle
from cotbench.results.schema import EngineName, GenerationSettings, SampleRecord
from cotbench.scoring.base import score_response
from cotbench.tasks.items import Item
from cotbench.tasks.taskdef import TaskDef


@dataclass
class TaskPlan:
    """One task as this run evaluates it."""

    task: TaskDef
    hash: str
    settings: GenerationSettings
    items: list[Item]
    subset: int | None = None
    limit: int | None = None

    @property
    def n_requests(self) -> int:
        return len(self.items) * self.settings.k


@dataclass
class EngineOutput:
    records: list[SampleRecord]
    harness_metrics: dict[str, float] = field(default_factory=dict)


Progress = Callable[[str, int], None]  # (task name, newly finished requests)


class Engine(Protocol):
    name: EngineName

    def run(
        self, plans: list[TaskPlan], model: ModelHandle, run_id: str, progress: Progress
    ) -> dict[str, EngineOutput]:
        """Evaluate every plan; return records per task name."""
        ...


def make_record(
    run_id: str,
    plan: TaskPlan,
    item: Item,
    repeat: int,
    completion: Completion,
    engine: EngineName,
    count_tokens: Callable[[str], int],
) -> SampleRecord:
    scored = score_response(plan.task.scorer, completion.text, item.target, item.fields,
                            finish_reason=completion.finish_reason)
    s = scored.score
    if completion.reasoning_tokens is not None:  # the server's own count (usage or its tokenizer)
        reasoning_tokens = completion.reasoning_tokens
        answer_tokens = max(completion.output_tokens - reasoning_tokens, 0) if scored.answer else 0
    else:
        reasoning_tokens, answer_tokens = count_tokens(scored.reasoning), count_tokens(scored.answer)
    return SampleRecord(
        run_id=run_id,
        task=plan.task.name,
        task_hash=plan.hash,
        sample_id=item.id,
        repeat=repeat,
        prompt=item.prompt,
        target=item.target,
        output=completion.text,
        reasoning=scored.reasoning,
        answer=scored.answer,
        extracted=s.extracted,
        score=s.value,
        label=s.label,
        category=item.category,
        truncated=scored.cut,  # see score_response for the rule
        finish_reason=completion.finish_reason,
        reasoning_tokens=reasoning_tokens,
        answer_tokens=answer_tokens,
        output_tokens=completion.output_tokens,
        latency_s=completion.latency_s,
        engine=engine,
        scorer_mode=s.details.get("scorer_mode", "exact") if s.details else "exact",
        cached=completion.cached,
        details={**s.details, **scored.split_details},
    )
