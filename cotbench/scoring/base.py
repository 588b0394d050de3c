"""The scorer contract shared by both harnesses, and a name -> scorer registry.

A scorer sees only the *answer* part of a response (reasoning already split off by
``cotbench.scoring.thinking``), the item's target and fields, and whether the response was
truncated inside its reasoning (then the answer is empty), and returns a ``Score``.
Both the lm-eval adapter and the Inspect adapter call ``score_response`` so the two
harnesses cannot disagree on a score.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from cotbench.scoring.thinking import SplitResponse, split_reasoning


@dataclass(frozen=True)
class Score:
    value: float | None  # None: could not be scored (reported apart, never averaged in)
    extracted: str | None = None
    label: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


class Scorer(Protocol):
    def __call__(self, answer: str, target: Any, item: Mapping[str, Any], truncated: bool) -> Score: ...


_SCORERS: dict[str, Scorer] = {}


def register_scorer(name: str) -> Callable[[Scorer], Scorer]:
    def deco(fn: Scorer) -> Scorer:
        _SCORERS[name] = fn
        return fn

    return deco


def get_scorer(name: str) -> Scorer:
    _load_builtin_scorers()
    try:
        return _SCORERS[name]
    except KeyError:
        from cotbench.errors import CotbenchError

        raise CotbenchError(f"unknown scorer '{name}' (known: {', '.join(sorted(_SCORERS))})") from None


def scorer_names() -> list[str]:
    _load_builtin_scorers()
    return sorted(_SCORERS)


@functools.cache
def _load_builtin_scorers() -> None:
    # Importing the modules runs their @register_scorer decorators.
    import importlib
    import pkgutil

    import cotbench.scoring as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        if mod.name not in {"base", "thinking"}:
            importlib.import_module(f"cotbench.scoring.{mod.name}")


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


def score_response(scorer_name: str, output: str, target: Any, item: Mapping[str, Any],
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
    if _memo is None:
        score = _score(scorer_name, split, target, item)
    else:
        key = hashlib.sha256(json.dumps([scorer_name, output, target, dict(item)], sort_keys=True,
                                        default=str).encode()).digest()
        with _memo_lock:
            score = _memo.get(key)
        if score is None:
            score = _score(scorer_name, split, target, item)
            with _memo_lock:
                _memo[key] = score
    return ScoredResponse(split.reasoning, split.answer, split.truncated, score, truncation, split)


def _score(scorer_name: str, split: SplitResponse, target: Any, item: Mapping[str, Any]) -> Score:
    return get_scorer(scorer_name)(split.answer, target, item, split.truncated)


# Scores by response for the current scoring_once() scope; None outside one. A module global on
# purpose: lm-eval calls process_results with (doc, results) only, so the memo cannot be passed.
_memo: dict[bytes, Score] | None = None
_memo_lock = threading.Lock()


@contextlib.contextmanager
def scoring_once() -> Iterator[None]:
    """Score each distinct response once within this scope (an engine's run): lm-eval's
    ``process_results`` (or Inspect's scorer) and the record builder share the score, so the
    sandbox or a judge runs once per response. Nested scopes share the outer memo."""
    global _memo
    if _memo is not None:
        yield
        return
    _memo = {}
    try:
        yield
    finally:
        _memo = None
