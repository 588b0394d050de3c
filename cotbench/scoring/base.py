"""The scorer contract shared by both harnesses, the scorer registry, and scoring a response.

A scorer sees only the *answer* part of a response (reasoning already split off by
``cotbench.scoring.thinking``), the item's target and fields, and whether the response was
truncated inside its reasoning (then the answer is empty), and returns a ``Score``.
Both the lm-eval adapter and the Inspect adapter call ``score_response`` so the two
harnesses cannot disagree on a score.

A scorer is registered as a factory of such functions, with its arguments and the metric sets
its results get (``@scorer("exact", metrics=("accuracy",))`` on ``def exact(*, bbh=False)``); a
task names it with a ``ScorerSpec`` (``scorer: exact`` or ``{name: exact, args: {bbh: true}}``).
``register_scorer(name)`` registers a plain score function as a factory without arguments.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import hashlib
import inspect
import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar, get_args

from pydantic import ConfigDict, TypeAdapter, ValidationError

from cotbench.errors import CotbenchError
from cotbench.registry import scorers
from cotbench.scoring.spec import ScorerSpec
from cotbench.scoring.thinking import SplitResponse, split_reasoning


@dataclass(frozen=True)
class Score:
    value: float | None  # None: could not be scored (reported apart, never averaged in)
    extracted: str | None = None
    label: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


class Scorer(Protocol):
    def __call__(self, answer: str, target: Any, item: Mapping[str, Any], truncated: bool) -> Score: ...


F = TypeVar("F", bound=Callable[..., Any])

# The metric sets a scorer can declare (cotbench.results.task_result computes them):
# "accuracy": score (avg@k), pass@k and label rates; "refusal:harmful" / "refusal:benign": the
# safety rates of harmful or benign prompts from refusal labels; "safe_at_k": Safe@1 and Safe@k.
MetricSet = Literal["accuracy", "refusal:harmful", "refusal:benign", "safe_at_k"]
METRIC_SETS: tuple[MetricSet, ...] = get_args(MetricSet)
Metrics = Sequence[MetricSet] | Callable[..., Sequence[MetricSet]]  # a callable gets the factory's arguments
_STRICT = ConfigDict(strict=True, arbitrary_types_allowed=True)


@dataclass(frozen=True)
class ScorerDef:
    """A registered scorer: the factory, its metric sets and, for an alias, the arguments it fixes."""

    factory: Callable[..., Scorer]
    metrics: Metrics = ("accuracy",)
    fixed: Mapping[str, Any] = field(default_factory=dict)
    alias_of: str | None = None
    _built: dict[str, Scorer] = field(default_factory=dict, compare=False, repr=False)  # by canonical spec

    @functools.cached_property
    def _signature(self) -> inspect.Signature:
        try:
            return inspect.signature(self.factory, eval_str=True)
        except (NameError, SyntaxError):  # an annotation only a type checker can read: arguments go unchecked
            return inspect.signature(self.factory)

    @functools.cached_property
    def _adapters(self) -> dict[str, TypeAdapter[Any]]:
        # Strict: a YAML "true" or 1 is not a bool, "3" is not an int.
        return {n: TypeAdapter(p.annotation, config=_STRICT) for n, p in self._signature.parameters.items()
                if p.annotation is not p.empty and not isinstance(p.annotation, str)}

    def arguments(self, spec: ScorerSpec) -> dict[str, Any]:
        """The factory's keyword arguments for ``spec`` (its own and an alias's), defaults filled in."""
        params = {n: p for n, p in self._signature.parameters.items()
                  if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}
        name = f"scorer '{spec.name}'"
        for arg in spec.args:
            if arg in self.fixed:
                raise CotbenchError(f"{name} is '{self.alias_of}' with {arg}={self.fixed[arg]!r}; "
                                    f"give {arg} to '{self.alias_of}' instead")
            if arg not in params:
                known = ", ".join(n for n in params if n not in self.fixed) or "none"
                raise CotbenchError(f"{name}: unknown argument '{arg}' (arguments: {known})")
        given = {**self.fixed, **spec.args}
        bound = self._signature.bind_partial(**given)
        bound.apply_defaults()
        missing = [n for n, p in params.items() if n not in bound.arguments and p.default is p.empty]
        if missing:
            raise CotbenchError(f"{name}: missing argument '{missing[0]}'")
        return dict(bound.arguments)

    def build(self, spec: ScorerSpec) -> Scorer:
        if (built := self._built.get(spec)) is not None:
            return built
        kwargs = self.arguments(spec)
        for arg, value in kwargs.items():
            if (adapter := self._adapters.get(arg)) is None:
                continue
            try:
                kwargs[arg] = adapter.validate_python(value)
            except ValidationError as exc:
                raise CotbenchError(f"scorer '{spec.name}': argument '{arg}': {exc.errors()[0]['msg']} "
                                    f"(got {value!r})") from None
        return self._built.setdefault(str(spec), self.factory(**kwargs))

    def metric_sets(self, spec: ScorerSpec) -> tuple[MetricSet, ...]:
        sets = tuple(self.metrics(**self.arguments(spec)) if callable(self.metrics) else self.metrics)
        return _checked_metrics(spec.name, sets)


def _checked_metrics(name: str, sets: Sequence[str]) -> tuple[MetricSet, ...]:
    unknown = [m for m in sets if m not in METRIC_SETS]
    problem = (f"unknown metric set '{unknown[0]}'" if unknown
               else "its metrics must include 'accuracy'" if "accuracy" not in sets
               else "harmful and benign refusal rates exclude each other"
               if {"refusal:harmful", "refusal:benign"} <= set(sets) else None)
    if problem:
        raise CotbenchError(f"scorer '{name}': {problem} (metric sets: {', '.join(METRIC_SETS)})")
    return tuple(m for m in METRIC_SETS if m in sets)  # one order: the order metrics are written in


def scorer(name: str, *, metrics: Metrics = ("accuracy",),
           aliases: Mapping[str, Mapping[str, Any]] | None = None) -> Callable[[F], F]:
    """Register a scorer factory as ``name``: ``factory(**args)`` returns the score function.
    ``metrics``: the metric sets of its results (or a function of the factory's arguments that
    returns them). ``aliases``: other names, each fixing some arguments (old task files' names)."""

    def deco(factory: F) -> F:
        if not callable(metrics):
            _checked_metrics(name, metrics)
        origin = factory.__module__
        scorers.add(name, ScorerDef(factory, metrics), origin)
        for alias, fixed in (aliases or {}).items():
            scorers.add(alias, ScorerDef(factory, metrics, dict(fixed), alias_of=name), origin)
        return factory

    return deco


def register_scorer(name: str, metrics: Metrics = ("accuracy",)) -> Callable[[Scorer], Scorer]:
    """Register a plain score function as ``name``: a scorer without arguments."""

    def deco(fn: Scorer) -> Scorer:
        def factory() -> Scorer:
            return fn

        factory.__module__ = fn.__module__
        factory.__qualname__ = getattr(fn, "__qualname__", name)
        scorer(name, metrics=metrics)(factory)
        return fn

    return deco


def get_scorer(spec: str | ScorerSpec) -> Scorer:
    """The score function a spec names (``exact``, ``refusal(prompts='benign')``, a ``ScorerSpec``)."""
    s = _spec(spec)
    return scorers.get(s.name).build(s)


def scorer_names() -> list[str]:
    return scorers.names()


def scorer_module(spec: str | ScorerSpec) -> str:
    """The module that defines the scorer's code (an alias's is its target's)."""
    return scorers.get(_spec(spec).name).factory.__module__


def scorer_metrics(spec: str | ScorerSpec) -> tuple[MetricSet, ...]:
    """The metric sets the scorer declares for these arguments, in a fixed order."""
    s = _spec(spec)
    return scorers.get(s.name).metric_sets(s)


def check_scorer(spec: str | ScorerSpec, where: str) -> None:
    """Build the scorer once, so that an unknown name or a bad argument is a one-line error
    naming ``where`` (the task file) when the task is read, not when it is scored."""
    try:
        get_scorer(spec)
        scorer_metrics(spec)
    except CotbenchError as exc:
        raise CotbenchError(f"{where}: {exc}") from None


def _spec(spec: str | ScorerSpec) -> ScorerSpec:
    try:
        return ScorerSpec.parse(spec)
    except ValueError as exc:
        raise CotbenchError(f"scorer: {exc}") from None


Truncation = Literal["reasoning", "answer"]


@dataclass(frozen=True)
class ScoredResponse:
    reasoning: str
    answer: str
    truncated: bool  # cut inside its reasoning or solution block: the scorer saw no finished answer
    score: Score
    truncation: Truncation | None = None  # "answer": cut at the budget after reasoning, or not reasoning
    split: SplitResponse | None = None

    @property
    def split_details(self) -> dict[str, str]:
        """How the answer was separated, for the record: the markers used and where it was cut."""
        out: dict[str, str] = {}
        if self.split and self.split.marker:
            out["reasoning_marker"] = self.split.marker
        if self.split and self.split.solution_marker:
            out["solution_marker"] = self.split.solution_marker
        if self.truncation:
            out["truncation"] = self.truncation
        return out

    @property
    def cut(self) -> bool:
        """Whether the response is incomplete at all (what a record's ``truncated`` says)."""
        return self.truncation is not None


def score_response(scorer_name: str | ScorerSpec, output: str, target: Any, item: Mapping[str, Any],
                   finish_reason: str | None = None) -> ScoredResponse:
    """Split reasoning off ``output`` and score the answer.

    The truncation rule: a response whose reasoning (or solution) block was opened and never
    closed, by the model or by a chat template that pre-fills the marker, is cut inside its
    reasoning: the scorer gets an empty answer and ``truncated=True`` (0 for capability,
    unscored for safety), whatever ``finish_reason`` says. A response that finished its
    reasoning, or never reasoned, and stopped at the token budget (``finish_reason`` "length")
    is scored on what it said and reported as truncated ("answer").

    Inside ``scoring_once()`` each distinct response is scored once, however often the harness
    and the record builder ask for it.
    """
    split = split_reasoning(output)
    truncation: Truncation | None = (
        "reasoning" if split.truncated else "answer" if finish_reason == "length" else None
    )
    memo = _memo.get()
    if memo is None:
        score = _score(scorer_name, split, target, item)
    else:
        key = hashlib.sha256(json.dumps([scorer_name, output, target, dict(item)], sort_keys=True,
                                        default=str).encode()).digest()
        with memo.lock:
            known = memo.scores.get(key)
        score = known if known is not None else _score(scorer_name, split, target, item)
        if known is None:
            with memo.lock:
                memo.scores[key] = score
    return ScoredResponse(split.reasoning, split.answer, split.truncated, score, truncation, split)


def _score(scorer_name: str | ScorerSpec, split: SplitResponse, target: Any, item: Mapping[str, Any]) -> Score:
    return get_scorer(scorer_name)(split.answer, target, item, split.truncated)


@dataclass
class _Memo:
    scores: dict[bytes, Score] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)  # asyncio tasks' worker threads share it


# Scores by response for the current scoring_once() scope; None outside one. A context variable:
# lm-eval calls process_results with (doc, results) only, so the memo cannot be passed, and two
# runs at once (threads, event loops) must not share one. Asyncio tasks and the worker threads
# anyio and asyncio.to_thread start copy the context, so they see the run's memo.
_memo: contextvars.ContextVar[_Memo | None] = contextvars.ContextVar("cotbench_scoring_memo", default=None)


@contextlib.contextmanager
def scoring_once() -> Iterator[None]:
    """Score each distinct response once within this scope (an engine's run): lm-eval's
    ``process_results`` (or Inspect's scorer) and the record builder share the score, so the
    sandbox or a judge runs once per response. Nested scopes share the outer memo."""
    if _memo.get() is not None:
        yield
        return
    token = _memo.set(_Memo())
    try:
        yield
    finally:
        _memo.reset(token)
