"""cotbench TaskDefs as Inspect AI tasks: same items, same prompts, same scoring code."""

from __future__ import annotations

import json
import math
from typing import Any

from inspect_ai import Task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import GenerateConfig
from inspect_ai.scorer import Metric, SampleScore, Score, Target, metric, scorer
from inspect_ai.solver import Generate, Solver, TaskState, solver

from cotbench.models.generator import derive_seed
from cotbench.results.schema import GenerationSettings
from cotbench.scoring.base import score_response
from cotbench.tasks.items import Item, build_items
from cotbench.tasks.taskdef import TaskDef


def _value(s: SampleScore) -> float:
    v = s.score.value
    return float(v) if isinstance(v, (int, float)) else math.nan


@metric
def scored_mean() -> Metric:
    """Mean over scored samples; unscored ones (NaN: truncated safety answers, judge
    errors) are left out rather than counted as 0."""

    def compute(scores: list[SampleScore]) -> float:
        vals = [v for v in map(_value, scores) if not math.isnan(v)]
        return sum(vals) / len(vals) if vals else math.nan

    return compute


@metric
def scored_stderr() -> Metric:
    def compute(scores: list[SampleScore]) -> float:
        vals = [v for v in map(_value, scores) if not math.isnan(v)]
        n = len(vals)
        if n < 2:
            return 0.0
        mean = sum(vals) / n
        return math.sqrt(sum((v - mean) ** 2 for v in vals) / (n - 1) / n)

    return compute


@scorer(metrics=[scored_mean(), scored_stderr()])
def cotbench_scorer(scorer_name: str) -> Any:
    """Inspect scorer that calls cotbench's shared scoring code on the model's output."""

    async def score(state: TaskState, target: Target) -> Score:
        meta = state.metadata
        finish = "length" if state.output.stop_reason == "max_tokens" else None
        scored = score_response(scorer_name, state.output.completion, json.loads(meta["target_json"]),
                                json.loads(meta["fields_json"]), finish_reason=finish)
        s = scored.score
        return Score(
            value=math.nan if s.value is None else s.value,
            answer=s.extracted,
            explanation=s.label,
            metadata={"label": s.label, "truncated": scored.cut, "truncation": scored.truncation,
                      "details": s.details},
        )

    return score


@solver
def seeded_generate(base_seed: int) -> Solver:
    """generate() with a seed derived from (run seed, sample id, epoch): a sampled response
    depends on nothing else, so both harnesses and reruns ask for the same thing."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        seed = derive_seed(base_seed, str(state.sample_id), state.epoch - 1)
        return await generate(state, seed=seed)

    return solve


def generate_config(settings: GenerationSettings) -> GenerateConfig:
    # Everything explicit: Inspect's hf provider would otherwise sample by default and cap tokens.
    return GenerateConfig(
        temperature=settings.temperature,
        top_p=settings.top_p,
        max_tokens=settings.max_tokens,
        stop_seqs=settings.stop or None,
        seed=settings.seed,
    )


def to_sample(item: Item, task: str) -> Sample:
    return Sample(
        id=item.id,
        input=item.prompt,
        target=json.dumps(item.target),
        metadata={"task": task, "category": item.category, "target_json": json.dumps(item.target),
                  "fields_json": json.dumps(item.fields, sort_keys=True)},
    )


def inspect_task(task: TaskDef, settings: GenerationSettings, items: list[Item] | None = None,
                 system_prompt: str | None = None) -> Task:
    from inspect_ai.solver import system_message

    items = build_items(task) if items is None else items
    steps: list[Solver] = [system_message(system_prompt)] if system_prompt else []
    steps.append(seeded_generate(settings.seed))
    return Task(
        name=task.name,
        dataset=MemoryDataset([to_sample(i, task.name) for i in items], name=task.name),
        solver=steps,
        scorer=cotbench_scorer(task.scorer),
        config=generate_config(settings),
        epochs=settings.k,
        version=int(task.version) if task.version.isdigit() else 0,
        metadata={"cotbench_task": task.name, "domain": task.domain},
    )
