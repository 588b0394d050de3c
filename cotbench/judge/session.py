"""Run-level judge wiring, above the engines: which judge, its model, which tasks it grades.

``--judge`` takes ``NAME@SPEC`` (a named judge on a cotbench model spec), ``NAME`` alone (the
judge's published model, through ``hf:``) or ``SPEC`` alone (the ``rubric`` judge)::

    harmbench-cls@vllm:/path/to/HarmBench-Llama-2-13b-cls
    llama-guard-3@openai:meta-llama/Llama-Guard-3-8B@http://host:8000/v1
    wildguard@hf:allenai/wildguard
    openai:gpt-4o-mini                    (rubric judge: StrongREJECT / HarmBench-style / XSTest by task)

``judge_mode`` opens the judge's model (lazily: it loads or connects on the first grade), binds it
as the run's grader role for the block (``cotbench.scoring.roles``), and gives the judged plans:
each task the judge grades gets its judge scorer, and a hash that covers that scorer, the
judge's prompts and parsers and the judge's identity (a different judge is a different task).
The judge's generations are cached in the given cache, keyed by its model identity.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import inspect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cotbench.engines.base import ModelHandle, TaskPlan
from cotbench.errors import CotbenchError, ModelLoadError, SpecError
from cotbench.judge import grading
from cotbench.judge.classifiers import PASSTHROUGH_TEMPLATE
from cotbench.judge.judges import JudgeDef, get_judge, judge_identity, judge_names
from cotbench.judge.verbatim import renders_verbatim
from cotbench.models.generator import Generator
from cotbench.models.spec import ModelSpec, parse_spec
from cotbench.scoring.roles import Judge, Roles, current_judge, using_roles
from cotbench.scoring.spec import ScorerSpec

_NAMED = re.compile(r"([A-Za-z][\w.-]*)@(.+)", re.DOTALL)
# Backends whose chat template cotbench renders (hf) or passes to the server it starts.
_TEMPLATE_BACKENDS = ("hf", "llamacpp", "embedded")


@dataclass(frozen=True)
class JudgeChoice:
    """What ``--judge`` named: the judge, its model spec, and the label records carry."""

    judge: JudgeDef
    spec: ModelSpec
    label: str


def parse_judge(text: str) -> JudgeChoice:
    """Parse a ``--judge`` value; one-line errors name the option."""
    text = text.strip()
    if not text:
        raise CotbenchError("--judge: empty value (give NAME@SPEC, NAME or a model spec)")
    m = _NAMED.fullmatch(text)
    if text in judge_names():
        judge = get_judge(text)
        if judge.default_model is None:
            raise CotbenchError(f"--judge {text} needs a model: {text}@SPEC (e.g. {text}@openai:MODEL@URL)")
        spec_text, label = judge.default_model, f"{text}@{judge.default_model}"
    elif m and ":" not in m.group(1) and "/" not in m.group(1):
        try:
            judge = get_judge(m.group(1))
        except CotbenchError as exc:
            raise CotbenchError(f"--judge: {exc}") from None
        spec_text, label = m.group(2), text
    else:
        judge, spec_text, label = get_judge("rubric"), text, text
    try:
        spec = parse_spec(spec_text)
    except SpecError as exc:
        raise SpecError(f"--judge: {exc}") from None
    if judge.name == "rubric" and label.startswith("rubric@"):
        label = spec_text  # the rubric judge is labelled by its spec alone, as a plain --judge SPEC
    return JudgeChoice(judge, _with_template(judge, spec), label)


def _with_template(judge: JudgeDef, spec: ModelSpec) -> ModelSpec:
    """A classifier's published prompt is its whole input: render it verbatim where cotbench
    controls the template (a server someone else runs must be started with it)."""
    if not judge.raw_prompt or spec.chat_template is not None:
        return spec
    if spec.backend in _TEMPLATE_BACKENDS or (spec.backend == "vllm" and not spec.base_url):
        return spec.with_options(chat_template=PASSTHROUGH_TEMPLATE)
    return spec


@contextlib.contextmanager
def using_judge(handle: ModelHandle, spec: str, identity: str, judge: JudgeDef | None = None,
                label: str | None = None, model_identity: str = "", revision: str | None = None) -> Iterator[Judge]:
    """Bind ``handle`` as the run's grader for the block."""
    jd = judge or get_judge("rubric")
    role = Judge(handle=handle, spec=spec, identity=identity, name=jd.name, label=label or spec,
                 model_identity=model_identity, revision=revision, pick=jd.scorer_for)
    with using_roles(Roles(grader=role)):
        yield role


@contextlib.contextmanager
def open_judge(text: str, cache_path: Path, device: str | None = None, batch_size: int = 1) -> Iterator[Judge]:
    """Resolve ``--judge`` ``text``, open its model (lazily) with generations cached in
    ``cache_path``, and bind it as the grader for the block."""
    from cotbench.models.cache import CachedGenerator, GenerationCache
    from cotbench.models.load import generator_factory, token_counter
    from cotbench.models.resolve import resolve

    choice = parse_judge(text)
    rm = resolve(choice.spec)
    load = generator_factory(rm, device, batch_size)
    if choice.judge.raw_prompt and choice.spec.chat_template is None:
        load = _checked_verbatim(load, choice)
    gen = CachedGenerator(rm.identity, GenerationCache(cache_path), load, batch_size=batch_size)
    handle = ModelHandle(gen, token_counter(rm), rm.spec.system_prompt, rm.spec.display)
    try:
        with using_judge(handle, choice.spec.raw or text, judge_identity(choice.judge, rm.identity), choice.judge,
                         choice.label, rm.identity, rm.resolved_revision) as judge:
            yield judge
    finally:
        handle.generator.close()  # stops a judge server cotbench started, closes the cache


def _checked_verbatim(load: Callable[[], Generator], choice: JudgeChoice) -> Callable[[], Generator]:
    """The judge's loader, checking on load that a server someone else runs renders the
    classifier's prompt verbatim (where the server can tell, see ``cotbench.judge.verbatim``)."""

    def checked() -> Generator:
        gen = load()
        url, model = getattr(gen, "client", None), getattr(gen, "model", None)
        if url is not None and isinstance(model, str) and renders_verbatim(str(url.base_url), model) is False:
            gen.close()
            raise ModelLoadError(
                f"--judge {choice.judge.name}: the server at {url.base_url} wraps prompts in its own chat template, "
                f"but the {choice.judge.name} prompt is the model's whole input: start the server with "
                f"--chat-template \"{PASSTHROUGH_TEMPLATE}\"")
        return gen

    return checked


@contextlib.contextmanager
def judge_mode(text: str | None, plans: list[TaskPlan], cache_path: Path,
               device: str | None = None) -> Iterator[list[TaskPlan]]:
    """What a run evaluates: ``plans`` unchanged without a judge, else the judged plans, with the
    judge bound for as long as the block runs (wrap the evaluation in it)."""
    if not text:
        yield plans
        return
    with open_judge(text, cache_path, device) as judge:
        yield [judged(p, judge) for p in plans]


def active_judge() -> Judge | None:
    return current_judge()


def judged(plan: TaskPlan, judge: Judge | None = None) -> TaskPlan:
    """``plan`` with its scorer replaced by the judge's scorer for it (unchanged when the judge
    does not grade the task)."""
    judge = judge or current_judge()
    if judge is None:
        raise CotbenchError("judged plans need a judge: run with --judge")
    name = judge.pick(plan.task)
    if name is None:
        return plan
    task = plan.task.model_copy(update={"scorer": ScorerSpec.parse(name)})
    h = hashlib.sha256(task.content_hash().encode())
    h.update(get_judge(judge.name).source_digest().encode())
    h.update(Path(inspect.getsourcefile(grading) or "").read_bytes())
    h.update(judge.identity.encode())
    return dataclasses.replace(plan, task=task, hash=h.hexdigest()[:16])
