"""The scorer contract shared by both harnesses, and a name -> scorer registry.

A scorer sees only the *answer* part of a response (reasoning already split off by
``cotbench.scoring.thinking``), the item's target and fields, and whether the response was
truncated inside its reasoning (then the answer is empty), and returns a ``Score``.
Both the lm-eval adapter and the Inspect adapter call ``score_response`` so the two
harnesses cannot disagree on a score.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from cotbench.scoring.thinking import split_reasoning


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


@dataclass(frozen=True)
class ScoredResponse:
    reasoning: str
    answer: str
    truncated: bool
    score: Score


def score_response(scorer_name: str, output: str, target: Any, item: Mapping[str, Any]) -> ScoredResponse:
    """Split reasoning off ``output`` and score the answer. Memoised: both harness adapters
    and the record builder may ask for the same score, and code scoring is expensive."""
    return _score_cached(scorer_name, output, json.dumps(target, sort_keys=True, default=str),
                         json.dumps(dict(item), sort_keys=True, default=str))


@functools.lru_cache(maxsize=4096)
def _score_cached(scorer_name: str, output: str, target_json: str, item_json: str) -> ScoredResponse:
    split = split_reasoning(output)
    scorer = get_scorer(scorer_name)
    score = scorer(split.answer, json.loads(target_json), json.loads(item_json), split.truncated)
    return ScoredResponse(split.reasoning, split.answer, split.truncated, score)
