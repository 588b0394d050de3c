"""``CotbenchTask``: the lm-eval task class of every cotbench task YAML.

A task YAML names it (``class: !function cotbench.engines.lm_eval.task_class.CotbenchTask``,
for bundled tasks through ``include: _cotbench_task_yaml``) and holds only cotbench's fields
under ``metadata.cotbench``. The class fills in the harness lines from them: the dataset, the
prompt and target columns, the scoring, and the generation settings, repeats (k) and filter of
the task's default preset. Native ``lm_eval --include_path`` runs therefore measure what
cotbench's default preset measures; a line the YAML states itself wins, and ``cotbench run``
writes its run's preset over the same config.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from lm_eval.api.task import ConfigurableTask

from cotbench.engines.lm_eval.hooks import load_dataset, process_results
from cotbench.engines.lm_eval.native import one_line_errors_at_cli, warn_without_chat_template
from cotbench.errors import CotbenchError
from cotbench.results.schema import GenerationSettings
from cotbench.tasks.catalog import task_defs
from cotbench.tasks.taskdef import TaskDef


def preset_config(settings: GenerationSettings) -> dict[str, Any]:
    """The lm-eval lines one preset decides: sampling, budget, k repeats, and a filter that
    keeps all k responses (lm-eval's default keeps only the first)."""
    return {
        "generation_kwargs": {
            "until": list(settings.stop),
            "max_gen_toks": settings.max_tokens,
            "do_sample": not settings.greedy,
            "temperature": settings.temperature,
            "top_p": settings.top_p,
        },
        "repeats": settings.k,
        "filter_list": [{"name": "all", "filter": [{"function": "take_first_k", "k": settings.k}]}],
    }


def harness_config(task: TaskDef) -> dict[str, Any]:
    """Every harness line of ``task`` (what the task YAMLs used to repeat)."""
    return {
        "custom_dataset": functools.partial(load_dataset, task),
        "test_split": "test",
        "output_type": "generate_until",
        "doc_to_text": "prompt",
        "doc_to_target": "target_json",
        "process_results": functools.partial(process_results, task),
        # lm-eval's own mean (docs without a scored response give no value): lm-eval knows its
        # closed-form stderr, which only its own aggregation functions get.
        "metric_list": [{"metric": "score", "aggregation": "mean", "higher_is_better": True}],
        **preset_config(task.settings()),
    }


def config_task(config: dict[str, Any]) -> TaskDef:
    """The TaskDef a task config describes (for a template, the subtask its ``task`` names)."""
    source = (config.get("metadata") or {}).get("config_source")
    path = Path(source) if source and source != "inline" else None
    name = config.get("task")
    for td in task_defs(config, path):
        if td.lm_eval_task == name:
            return td
    raise CotbenchError(f"{path or 'task config'}: defines no cotbench task named '{name}'")


def full_config(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` (a task YAML as lm-eval loads it) with the harness lines filled in."""
    cfg = {k: v for k, v in config.items() if k != "class"}
    return {**harness_config(config_task(cfg)), **cfg}


class CotbenchTask(ConfigurableTask):
    """A ConfigurableTask whose harness lines come from ``metadata.cotbench``."""

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        if config is None:
            raise CotbenchError("CotbenchTask needs the task's config (metadata.cotbench)")
        one_line_errors_at_cli()  # before the dataset loads: a missing one is the likely error
        super().__init__(config=full_config(config))

    def build_all_requests(self, *, apply_chat_template: bool = False, **kwargs: Any) -> None:
        """lm-eval's request building, after a warning when a chat template goes unused (lm-eval
        tells the task whether it applies one only here; the model's arguments are its metadata)."""
        warn_without_chat_template(self.config.task, self.config.metadata or {}, apply_chat_template)
        super().build_all_requests(apply_chat_template=apply_chat_template, **kwargs)
