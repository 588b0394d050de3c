"""Procedural moves in reasoning text, counted with a small versioned lexicon.

The point is to tell *learned procedure* from *surface verbosity*: a model that learned to
check its work uses more verification moves per token; one that only writes longer traces
has more tokens but not more moves per 1,000 tokens.

Lexicon ``LEXICON_VERSION`` (bump it whenever a pattern changes; profiles record it):

- ``backtracking``: abandoning or revisiting a line of thought: "wait", "hold on",
  "let me reconsider/rethink/re-examine", "on second thought", "actually, no", "I made a
  mistake", "that's wrong/incorrect", "scratch that".
- ``verification``: checking a result: "let me check/verify/double-check/confirm",
  "checking", "verify", "sanity check", "plug(ging) back in", "substitut(e|ing) back",
  "does this/that make sense", "to confirm".
- ``decomposition``: splitting the problem: "case 1/2/...", "in the first/second case",
  "consider the cases", "break (it) down", "step 1/2/...", "first, ..." at a clause start,
  "sub-problem/subproblem", "split into".

Patterns are case-insensitive, whole-word regular expressions. A move's patterns are joined
into one alternation, so overlapping phrases ("let me verify" also contains "verify") count
once: regex matches never overlap.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

LEXICON_VERSION = "1"

LEXICON: Mapping[str, tuple[str, ...]] = {
    "backtracking": (
        r"\bwait\b",
        r"\bhold on\b",
        r"\blet me (?:reconsider|rethink|re-?examine|re-?evaluate|start over|go back)\b",
        r"\bon second thought\b",
        r"\bactually,? no\b",
        r"\bi made (?:a|an) (?:mistake|error)\b",
        r"\bthat(?:'s| is) (?:wrong|incorrect|not right)\b",
        r"\bscratch that\b",
    ),
    "verification": (
        r"\blet me (?:check|verify|double[- ]check|confirm)\b",
        r"\b(?:double[- ])?checking\b",
        r"\bverify(?:ing)?\b",
        r"\bsanity check\b",
        r"\bplug(?:ging)? (?:it |this |that |them )?back in\b",
        r"\bsubstitut(?:e|ing) (?:it |this |that |them )?back\b",
        r"\bdoes (?:this|that) make sense\b",
        r"\bto confirm\b",
    ),
    "decomposition": (
        r"\bcase \d+\b",
        r"\bin the (?:first|second|third|other) case\b",
        r"\bconsider (?:the |two |three |all )?cases\b",
        r"\bbreak (?:it |this |the problem )?down\b",
        r"\bstep \d+\b",
        r"(?:^|[.:\n]\s*)first,",
        r"\bsub-?problems?\b",
        r"\bsplit (?:it |this )?into\b",
    ),
}

_COMPILED: dict[str, re.Pattern[str]] = {
    move: re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE) for move, patterns in LEXICON.items()
}

MOVES: tuple[str, ...] = tuple(LEXICON)


def count_moves(text: str) -> dict[str, int]:
    """Occurrences of each move in ``text`` (all moves present, zero when absent)."""
    return {move: len(pat.findall(text)) for move, pat in _COMPILED.items()}


def reasoning_token_count(reasoning: str, recorded: int) -> int:
    """The recorded reasoning token count, or a whitespace word count when none was recorded."""
    return recorded if recorded > 0 else len(reasoning.split())


def per_thousand(count: float, tokens: float) -> float:
    """Moves per 1,000 reasoning tokens (NaN without reasoning tokens)."""
    return 1000.0 * count / tokens if tokens > 0 else float("nan")
