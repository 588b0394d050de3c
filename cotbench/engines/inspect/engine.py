"""Run cotbench tasks through Inspect AI (``inspect_ai.eval``).

Inspect's log of the run is kept in the run directory (``inspect_logs/``). ``inspect eval``
reports success even when an eval failed, so the log's status is checked explicitly.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from cotbench.engines.base import EngineOutput, ModelHandle, Progress, TaskPlan, make_record
from cotbench.errors import CotbenchError, ModelLoadError
from cotbench.models.generator import Completion
from cotbench.scoring.base import scoring_once

if TYPE_CHECKING:  # at run time inspect_ai is imported inside the methods that use it, as in _run_one
    from inspect_ai.log import EvalLog


class InspectEngine:
    name = "inspect"

    def __init__(self, log_dir: Path | None = None) -> None:
        self.log_dir = log_dir

    def run(
        self, plans: list[TaskPlan], model: ModelHandle, run_id: str, progress: Progress
    ) -> dict[str, EngineOutput]:
        import cotbench.engines.inspect.model  # noqa: F401 - registers the cotbench/ provider

        logging.getLogger("inspect_ai").setLevel(logging.ERROR)
        with scoring_once():  # Inspect's scorer and the records share each score
            return {p.task.name: self._run_one(p, model, run_id, progress) for p in plans}

    def _run_one(self, plan: TaskPlan, model: ModelHandle, run_id: str, progress: Progress) -> EngineOutput:
        from inspect_ai import eval as inspect_eval
        from inspect_ai.model import get_model

        from cotbench.engines.inspect.model import inspect_roles
        from cotbench.engines.inspect.tasks import inspect_task

        name = plan.task.name
        inspect_model = get_model(f"cotbench/{model.label}", handle=model, memoize=False,
                                  batch_size=model.generator.batch_size,
                                  on_done=lambda _out: progress(name, 1))
        task = inspect_task(plan.task, plan.settings, plan.items, model.system_prompt)
        logs = inspect_eval(task, model=inspect_model, log_dir=str(self.log_dir) if self.log_dir else None,
                            display="none", log_level="error", fail_on_error=True, score=True,
                            max_samples=max(4 * model.generator.batch_size, model.generator.max_in_flight),
                            model_roles=inspect_roles() or None)
        log = logs[0]
        if log.status != "success":
            message = log.error.message if log.error else log.status
            if "ModelLoadError" in (log.error.traceback if log.error else ""):
                raise ModelLoadError(message)
            raise CotbenchError(f"Inspect eval of {name} ended with status '{log.status}': {message}")
        return EngineOutput(self._records(plan, log, model, run_id), self._harness_metrics(log))

    @staticmethod
    def _records(plan: TaskPlan, log: EvalLog, model: ModelHandle, run_id: str) -> list:
        items = {i.id: i for i in plan.items}
        records = []
        for s in log.samples or []:
            meta = s.output.metadata or {}
            comp = Completion(text=s.output.completion, finish_reason=meta.get("finish_reason", "unknown"),
                              output_tokens=s.output.usage.output_tokens if s.output.usage else 0,
                              latency_s=float(meta.get("latency_s", 0.0)), cached=bool(meta.get("cached", False)))
            records.append(make_record(run_id, plan, items[str(s.id)], s.epoch - 1, comp, "inspect",
                                       model.count_tokens))
        records.sort(key=lambda r: (r.sample_id, r.repeat))
        return records

    @staticmethod
    def _harness_metrics(log: object) -> dict[str, float]:
        out: dict[str, float] = {}
        results = getattr(log, "results", None)
        for sc in getattr(results, "scores", []) or []:
            for name, m in sc.metrics.items():
                if isinstance(m.value, (int, float)):
                    out[name] = float(m.value)
        return out
