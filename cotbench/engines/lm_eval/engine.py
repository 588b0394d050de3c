"""Run cotbench tasks through lm-eval (``lm_eval.simple_evaluate``).

The task configs are cotbench's YAMLs, loaded by lm-eval itself, with this run's preset
(max tokens, sampling, k repeats) written over their defaults. Model calls go through
``CotbenchLM``, an lm-eval ``LM`` that forwards to cotbench's cached generator: lm-eval's
default ``max_gen_toks`` (256), its model-blind request cache and its ``think_end_token``
stripping never apply.
"""

from __future__ import annotations

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
from cotbench.tasks.catalog import LM_EVAL_PREFIX


def _lm_class() -> type:
    from lm_eval.api.model import LM

    class CotbenchLM(LM):
        """An lm-eval LM backed by cotbench's generator (cache keyed by model identity)."""

        def __init__(self, model: ModelHandle, settings: dict[str, GenerationSettings], progress: Progress) -> None:
            super().__init__()
            self.model = model
            self.settings = settings
            self.progress = progress
            self.completions: dict[tuple[str, str, int], Completion] = {}

        def generate_until(self, requests: list[Any]) -> list[str]:
            seen: Counter[tuple[str, str]] = Counter()
            keys, reqs = [], []
            for inst in requests:
                task = inst.task_name.removeprefix(LM_EVAL_PREFIX)
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
    """The task's own YAML (as lm-eval loads it) with this run's settings applied."""
    assert plan.task.path is not None
    cfg = _load_yaml(plan.task.path)
    s = plan.settings
    cfg["generation_kwargs"] = {
        "until": list(s.stop),
        "max_gen_toks": s.max_tokens,
        "do_sample": not s.greedy,
        "temperature": s.temperature,
        "top_p": s.top_p,
    }
    cfg["repeats"] = s.k
    # Keep all k responses (lm-eval's default filter keeps only the first).
    cfg["filter_list"] = [{"name": "all", "filter": [{"function": "take_first_k", "k": s.k}]}]
    cfg["metadata"] = {**cfg.get("metadata", {}), "cotbench_subset": plan.subset, "cotbench_limit": plan.limit}
    return cfg


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

    def run(self, plans: list[TaskPlan], model: ModelHandle, run_id: str, progress: Progress) -> dict[str, EngineOutput]:
        logging.getLogger("lm_eval").setLevel(logging.ERROR)
        with scoring_once():  # lm-eval's process_results and the records share each score
            return self._run(plans, model, run_id, progress)

    def _run(self, plans: list[TaskPlan], model: ModelHandle, run_id: str, progress: Progress) -> dict[str, EngineOutput]:
        from lm_eval import simple_evaluate
        from lm_eval.tasks import TaskManager

        lm = _lm_class()(model, {p.task.name: p.settings for p in plans}, progress)
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
