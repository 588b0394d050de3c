"""``harness``: the scorer of a task imported with another harness's own scores (``cotbench import``).

It names where the scores came from (``harness(harness='lm_eval', metric='exact_match')``) and
gets the accuracy metrics of any 0..1 score; cotbench cannot score such a task itself, so asking
it to is a one-line error rather than a silent guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cotbench.errors import CotbenchError
from cotbench.scoring.base import Score, Scorer, scorer

NAME = "harness"


@scorer(NAME, metrics=("accuracy",))
def harness(*, harness: str, metric: str) -> Scorer:
    def score(answer: str, target: Any, item: Mapping[str, Any], truncated: bool) -> Score:
        raise CotbenchError(f"this task's scores were kept from {harness} ({metric}); cotbench has no scorer for "
                            "it: import the log again instead of re-scoring")

    return score
