"""cotbench TaskDefs as Inspect AI tasks: same items, same prompts, same scoring code.

Greedy presets decode greedily on every provider. The task's config says ``temperature=0``,
which the OpenAI-compatible servers (``openai-api/``, ``vllm/``, sglang, llama.cpp) and
cotbench's own ``cotbench/`` provider take as greedy decoding. Inspect's ``hf`` (and
``nnterp``) providers always sample unless told ``-M do_sample=false``, and transformers
rejects a temperature of 0 when sampling; there the solver asks for ``top_k=1`` at
temperature 1 instead: sampling from the single most likely token is greedy decoding.
"""

from __future__ import annotations

import json
from typing import Any

from inspect_ai import Task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import GenerateConfig, GenerateConfigArgs, ModelName, get_model
from inspect_ai.solver import Generate, Solver, TaskState, solver

from cotbench.engines.inspect.scorer import inspect_scorer
from cotbench.models.generator import derive_seed
from cotbench.results.schema import GenerationSettings
from cotbench.tasks.items import Item, build_items
from cotbench.tasks.taskdef import TaskDef

# Providers that sample whatever the temperature (transformers' generate with do_sample=True).
SAMPLING_PROVIDERS = frozenset({"hf", "nnterp"})


def greedy_overrides(provider: str) -> GenerateConfigArgs:
    """What a greedy request adds for ``provider`` on top of the task's ``temperature=0``."""
    if provider in SAMPLING_PROVIDERS:
        return GenerateConfigArgs(temperature=1.0, top_k=1)
    return GenerateConfigArgs()


@solver
def seeded_generate(base_seed: int, greedy: bool = False) -> Solver:
    """generate() with a seed derived from (run seed, sample id, epoch): a sampled response
    depends on nothing else, so both harnesses and reruns ask for the same thing. A greedy
    request gets what the active model's provider needs to decode greedily."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        args = greedy_overrides(ModelName(get_model()).api) if greedy else GenerateConfigArgs()
        args["seed"] = derive_seed(base_seed, str(state.sample_id), state.epoch - 1)
        return await generate(state, **args)

    return solve


def generate_config(settings: GenerationSettings) -> GenerateConfig:
    # Everything explicit: providers would otherwise use their own defaults (and token caps).
    return GenerateConfig(
        temperature=settings.temperature,
        top_p=settings.top_p,
        max_tokens=settings.max_tokens,
        stop_seqs=settings.stop or None,
        seed=settings.seed,
    )


def display_target(target: Any) -> str:
    """The target as a person reads it (the scorer reads the exact value from metadata)."""
    if target is None:
        return ""
    if isinstance(target, str):
        return target
    if isinstance(target, (bool, int, float)):
        return str(target)
    if isinstance(target, (list, tuple)) and all(isinstance(t, (str, int, float)) for t in target):
        return " ".join(map(str, target))
    return json.dumps(target, ensure_ascii=False, sort_keys=True)


def to_sample(item: Item, task: str) -> Sample:
    return Sample(
        id=item.id,
        input=item.prompt,
        target=display_target(item.target),
        metadata={"task": task, "category": item.category, "target_json": json.dumps(item.target),
                  "fields_json": json.dumps(item.fields, sort_keys=True)},
    )


def _dataset(task: TaskDef, items: list[Item]) -> MemoryDataset:
    src = task.source
    if src.hub_id:
        location = src.hub_id + (f"@{src.hub_revision}" if src.hub_revision else "")
    else:
        location = f"cotbench:{src.loader}" + (f"/{src.options['file']}" if src.options.get("file") else "")
    return MemoryDataset([to_sample(i, task.name) for i in items], name=task.name, location=location)


def task_metadata(task: TaskDef, settings: GenerationSettings, preset: str | None) -> dict[str, Any]:
    src = task.source
    meta: dict[str, Any] = {
        "cotbench_task": task.name, "domain": task.domain, "scorer": str(task.scorer),
        "preset": preset, "k": settings.k, "source": src.hub_id or f"cotbench:{src.loader}",
        "source_revision": src.hub_revision, "license": task.license or None, "citation": task.citation or None,
        "tags": task.tags or None,
    }
    return {k: v for k, v in meta.items() if v is not None}


def inspect_task(task: TaskDef, settings: GenerationSettings, items: list[Item] | None = None,
                 system_prompt: str | None = None, preset: str | None = None) -> Task:
    from inspect_ai.solver import system_message

    items = build_items(task) if items is None else items
    steps: list[Solver] = [system_message(system_prompt)] if system_prompt else []
    steps.append(seeded_generate(settings.seed, settings.greedy))
    return Task(
        name=task.name,
        dataset=_dataset(task, items),
        solver=steps,
        scorer=inspect_scorer(task.scorer, settings.stop),
        config=generate_config(settings),
        epochs=settings.k,
        version=int(task.version) if task.version.isdigit() else task.version,
        metadata=task_metadata(task, settings, preset),
    )
