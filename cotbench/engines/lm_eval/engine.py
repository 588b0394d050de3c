"""Run cotbench tasks through lm-eval (``lm_eval.simple_evaluate``).

The task configs are cotbench's YAMLs, loaded by lm-eval itself and completed by their
``CotbenchTask`` class, with this run's preset (max tokens, sampling, k repeats) written over
the default preset and the run's planned items as the dataset. Model calls go through
``CotbenchLM``, an lm-eval ``LM`` that forwards to cotbench's cached generator: lm-eval's
default ``max_gen_toks`` (256), its model-blind request cache and its ``think_end_token``
stripping never apply.
"""

from __future__ import annotations

import functools
import logging
import math
from collections import Counter
from pathlib import Path
from typing import Any

from cotbench.engines.base import EngineOutput, ModelHandle, Progress, TaskPlan, make_record
from cotbench.errors import CotbenchError
from cotbench.models.generator import Completion, GenRequest, derive_seed
from cotbench.results.schema import GenerationSettings
from cotbench.scoring.base import scoring_once
from cotbench.tasks.items import Item
from cotbench.tasks.taskdef import TaskDef


def _lm_class() -> type:
    from lm_eval.api.model import LM

    class CotbenchLM(LM):
        """An lm-eval LM backed by cotbench's generator (cache keyed by model identity)."""

        def __init__(self, model: ModelHandle, settings: dict[str, GenerationSettings], names: dict[str, str],
                     progress: Progress) -> None:
            super().__init__()
            self.model = model
            self.settings = settings
            self.names = names  # lm-eval task name -> cotbench task name
            self.progress = progress
            self.completions: dict[tuple[str, str, int], Completion] = {}

        def generate_until(self, requests: list[Any]) -> list[str]:
            seen: Counter[tuple[str, str]] = Counter()
            keys, reqs = [], []
            for inst in requests:
                task = self.names[inst.task_name]
                sample_id = str(inst.doc["id"])
                # lm-eval repeats the same Instance k times; its position is the repeat index.
                repeat = seen[(task, sample_id)]
                seen[(task, sample_id)] += 1
                s = self.settings[task]
                reqs.append(GenRequest.build(inst.args[0], s, derive_seed(s.seed, sample_id, repeat),
                                             self.model.system_prompt))
                keys.append((task, sample_id, repeat))
            def on_done(indices: list[int]) -> None:
                for task, n in Counter(keys[i][0] for i in indices).items():
                    self.progress(task, n)

            outs = self.model.generator.generate(reqs, on_done=on_done)
            for key, out in zip(keys, outs, strict=True):
                self.completions[key] = out
            return [o.text for o in outs]

        def loglikelihood(self, requests: list[Any]) -> list[tuple[float, bool]]:
            raise CotbenchError("cotbench tasks are generative; loglikelihood requests are not supported")

        def loglikelihood_rolling(self, requests: list[Any]) -> list[float]:
            raise CotbenchError("cotbench tasks are generative; loglikelihood requests are not supported")

    return CotbenchLM


def task_config(plan: TaskPlan) -> dict[str, Any]:
    """The task's config as native lm-eval builds it (its YAML, from its own folder), with this
    run's preset written over the default one and the plan's items as the dataset."""
    from cotbench.engines.lm_eval.hooks import items_dataset
    from cotbench.engines.lm_eval.task_class import preset_config

    cfg = yaml_config(plan.task)
    cfg.update(preset_config(plan.settings))
    cfg["custom_dataset"] = functools.partial(items_dataset, plan.task.name, plan.items)
    cfg["metadata"] = {**cfg.get("metadata", {}), "cotbench_subset": plan.subset, "cotbench_limit": plan.limit}
    return cfg


def yaml_config(task: TaskDef) -> dict[str, Any]:
    """The task's YAML as lm-eval loads it (includes merged, ``!function`` resolved next to the
    file), naming this task (a template names one task per subtask). A TaskDef built in memory
    gets the same class and its fields as metadata."""
    from cotbench.engines.lm_eval.task_class import CotbenchTask

    if task.path is None:
        spec = task.model_dump(mode="json", exclude={"lm_eval_task", "version"})
        return {"class": CotbenchTask, "task": task.lm_eval_task,
                "metadata": {"version": task.version, "cotbench": spec}}
    cfg = _load_yaml(task.path)
    cfg["task"] = task.lm_eval_task
    return cfg


def native_config(task: TaskDef) -> dict[str, Any]:
    """Everything native lm-eval configures for ``task`` from its YAML (no cotbench run)."""
    from cotbench.engines.lm_eval.task_class import full_config

    return full_config(yaml_config(task))


def _load_yaml(path: Path) -> dict[str, Any]:
    """lm-eval's own YAML loader (it resolves ``!function`` next to the file); its home
    moved between lm-eval releases."""
    try:
        from lm_eval.tasks._yaml_loader import load_yaml

        return load_yaml(path)
    except ImportError:
        from lm_eval.utils import load_yaml_config  # lm-eval < 0.4.10

        return load_yaml_config(str(path))


class LmEvalEngine:
    name = "lm_eval"

    def run(
        self, plans: list[TaskPlan], model: ModelHandle, run_id: str, progress: Progress
    ) -> dict[str, EngineOutput]:
        logging.getLogger("lm_eval").setLevel(logging.ERROR)
        with scoring_once():  # lm-eval's process_results and the records share each score
            return self._run(plans, model, run_id, progress)

    def _run(
        self, plans: list[TaskPlan], model: ModelHandle, run_id: str, progress: Progress
    ) -> dict[str, EngineOutput]:
        from lm_eval import simple_evaluate
        from lm_eval.tasks import TaskManager

        lm = _lm_class()(model, {p.task.name: p.settings for p in plans},
                         {p.task.lm_eval_task: p.task.name for p in plans}, progress)
        results = simple_evaluate(
            model=lm,
            tasks=[task_config(p) for p in plans],
            task_manager=TaskManager(include_defaults=False),
            log_samples=True,
            apply_chat_template=False,  # the generator applies the model's chat template itself
            bootstrap_iters=0,
            device="cpu",
        )
        assert results is not None
        outputs: dict[str, EngineOutput] = {}
        for plan in plans:
            lm_name = plan.task.lm_eval_task
            samples = results["samples"].get(lm_name, [])
            items = {i.id: i for i in plan.items}
            records = []
            for s in samples:
                item: Item = items[str(s["doc"]["id"])]
                for r in range(plan.settings.k):
                    comp = lm.completions[(plan.task.name, item.id, r)]
                    records.append(make_record(run_id, plan, item, r, comp, "lm_eval", model.count_tokens))
            harness = {k.split(",")[0]: v for k, v in results["results"].get(lm_name, {}).items()
                       if isinstance(v, (int, float)) and not (isinstance(v, float) and math.isnan(v))}
            outputs[plan.task.name] = EngineOutput(records, harness)
        return outputs
