"""The judges a run can name (``--judge NAME@SPEC``) and which of their scorers grades which task.

A task names its rubrics in its YAML (``judge: {harm: strongreject}``; keys ``harm`` and
``refusal``); without one, a safety task is judged for refusal with the three-way rubric. The
``rubric`` judge (a plain ``--judge SPEC``) follows the task's choice; a named judge applies its
own format to every task whose prompts it can judge, and leaves the others (e.g. over-refusal on
benign prompts, for a judge that does not decide refusal) to their offline scorer.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from dataclasses import dataclass
from pathlib import Path

from cotbench.domains import domain_info, is_domain
from cotbench.errors import CotbenchError
from cotbench.judge.grade import Rubric
from cotbench.registry import judges as _registry
from cotbench.registry import rubrics
from cotbench.scoring.judge import PromptKind, judge_scorer
from cotbench.tasks.taskdef import TaskDef

DEFAULT_RUBRIC = "refusal3"
TASK_JUDGE_KEYS = ("harm", "refusal")


@dataclass(frozen=True)
class JudgeDef:
    """A named judge: the rubric it applies to harmful and to benign prompts (None: it does not
    judge them; the ``rubric`` judge takes the task's own), the model it defaults to, and the
    rubric ``safety calibrate`` measures."""

    name: str
    description: str
    harmful: str | None
    benign: str | None
    calibration: str
    default_model: str | None = None
    from_task: bool = False

    def rubric_for(self, task: TaskDef) -> str | None:
        kind = prompt_kind(task)
        if kind is None:
            return None
        if self.from_task:
            return task_rubric(task, kind)
        return self.harmful if kind == "harmful" else self.benign

    def scorer_for(self, task: TaskDef) -> str | None:
        """The judge scorer for ``task`` (None: the task keeps its own scorer)."""
        rubric = self.rubric_for(task)
        kind = prompt_kind(task)
        return judge_scorer(rubric, kind) if rubric and kind else None

    def rubrics(self) -> list[Rubric]:
        names = {self.calibration} | ({"strongreject", "harmbench", "refusal3"} if self.from_task else
                                      {n for n in (self.harmful, self.benign) if n})
        return [rubrics.get(n) for n in sorted(names)]

    @property
    def prompt_version(self) -> str:
        """The version of every prompt this judge may send, in one string."""
        return ",".join(f"{r.name}:{r.version}" for r in self.rubrics())

    @property
    def raw_prompt(self) -> bool:
        """Whether its prompts must reach the model verbatim (``classifiers.PASSTHROUGH_TEMPLATE``)."""
        return any(r.raw_prompt for r in self.rubrics())

    def source_digest(self) -> str:
        """A digest of the code that holds its prompts and parsers: a changed prompt is a new task."""
        h = hashlib.sha256()
        for path in sorted({inspect.getsourcefile(r.build) or "" for r in self.rubrics()}):
            h.update(Path(path).read_bytes() if path else b"")
        return h.hexdigest()


BUILTIN_JUDGES: tuple[JudgeDef, ...] = (
    JudgeDef("rubric", "any chat model with cotbench's rubrics, chosen by task (StrongREJECT, HarmBench-style, "
             "XSTest three-way)", None, None, calibration="refusal3", from_task=True),
    JudgeDef("strongreject", "any chat model with the StrongREJECT rubric on harmful prompts",
             "strongreject", None, calibration="strongreject"),
    JudgeDef("refusal3", "any chat model with the XSTest three-way refusal rubric", "refusal3", "refusal3",
             calibration="refusal3"),
    JudgeDef("harmbench-cls", "the HarmBench classifier, yes/no on behavior and generation (contextual "
             "behaviors with their context)", "harmbench_cls", None, calibration="harmbench_cls",
             default_model="hf:cais/HarmBench-Llama-2-13b-cls"),
    JudgeDef("llama-guard-3", "Llama Guard 3: safe/unsafe and hazard categories S1-S14 of the response",
             "llama_guard3", None, calibration="llama_guard3", default_model="hf:meta-llama/Llama-Guard-3-8B"),
    JudgeDef("wildguard", "WildGuard: harmful request, response refusal, harmful response",
             "wildguard", "wildguard", calibration="wildguard", default_model="hf:allenai/wildguard"),
)
for _judge in BUILTIN_JUDGES:
    _registry.add(_judge.name, _judge, __name__)


def get_judge(name: str) -> JudgeDef:
    """A registered judge; an unknown name is one line listing the known ones."""
    if name not in _registry:
        raise CotbenchError(f"unknown judge '{name}' (known: {', '.join(_registry.names())}; "
                            "or a model spec alone for the rubric judge)")
    judge: JudgeDef = _registry.get(name)
    return judge


def judge_names() -> list[str]:
    return _registry.names()


def prompt_kind(task: TaskDef) -> PromptKind | None:
    """Harmful or benign prompts (from the domains table); None for a capability task."""
    return domain_info(task.domain).safety if is_domain(task.domain) else None


def task_rubric(task: TaskDef, kind: PromptKind) -> str:
    """The rubric the task's YAML asks the rubric judge for: its harm rubric on harmful prompts,
    else its refusal rubric, else the three-way refusal rubric."""
    chosen = dict(getattr(task, "judge", None) or {})
    unknown = sorted(set(chosen) - set(TASK_JUDGE_KEYS))
    if unknown:
        raise CotbenchError(f"task {task.name}: judge: unknown key(s) {', '.join(unknown)} "
                            f"(known: {', '.join(TASK_JUDGE_KEYS)})")
    keys = ("harm", "refusal") if kind == "harmful" else ("refusal",)
    name = next((chosen[k] for k in keys if chosen.get(k)), DEFAULT_RUBRIC)
    if name not in rubrics or (kind == "benign" and not rubrics.get(name).decides_refusal()):
        usable = [r for r, fmt in rubrics.items() if kind == "harmful" or fmt.decides_refusal()]
        raise CotbenchError(f"task {task.name}: judge rubric '{name}' cannot grade {kind} prompts "
                            f"(choose from {', '.join(usable)})")
    if rubrics.get(name).raw_prompt:
        # A classifier's prompt is its own model's whole input: not one for any chat model.
        raise CotbenchError(f"task {task.name}: judge rubric '{name}' is a classifier's own prompt; "
                            "grade with that classifier (--judge NAME@SPEC) instead")
    return name


def judge_identity(judge: JudgeDef, model_identity: str) -> str:
    """Judge name, prompt versions and the model's identity, as one key."""
    payload = [judge.name, judge.prompt_version, model_identity]
    return hashlib.sha256(json.dumps(payload).encode()).hexdigest()[:20]
