"""The ``exact`` and ``bbh`` scorers: normalised exact match for short free-form answers.

Extraction: the text after the last "the answer is" (BBH chain-of-thought prompts end with
"So the answer is X."), else after the last "Answer:", else the last non-empty line.
Normalisation: case, whitespace, surrounding quotes/markdown/``$``, trailing punctuation.
Numbers compare as numbers ("1,000" == "1000.0"). ``bbh`` adds what BBH targets need:
option targets like "(C)" match "C" or "(C)", bracket sequences (dyck languages) ignore
spaces, and a word list (word sorting) may be comma separated.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from cotbench.errors import CotbenchError
from cotbench.scoring.base import Score, register_scorer

_ANSWER_IS_RE = re.compile(r"\bthe (?:final )?answer is\s*:?\s*", re.IGNORECASE)
_ANSWER_COLON_RE = re.compile(r"\b(?:final )?answer\s*:\s*", re.IGNORECASE)
_WRAPPERS = " \t\n*_`\"'“”‘’$"
_NUMBER_RE = re.compile(r"^[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?$")
_BRACKETS = set("()[]{}<>")


def extract_final(answer: str) -> str:
    """The part of ``answer`` that states the final answer (see module doc)."""
    return extract_with_method(answer)[0]


def extract_with_method(answer: str) -> tuple[str, str]:
    """(the final answer, how: ``anchor:the answer is``, ``anchor:answer:``, ``last-line``, ``none``)."""
    for pattern, how in ((_ANSWER_IS_RE, "anchor:the answer is"), (_ANSWER_COLON_RE, "anchor:answer:")):
        matches = list(pattern.finditer(answer))
        if matches:
            tail = answer[matches[-1].end() :]
            line = tail.split("\n", 1)[0]
            # "So the answer is 24. Let me double-check..." -> "24": cut at a sentence end.
            return re.split(r"(?<=[^\d\s])\.\s|(?<=\d)\.\s+(?=[A-Z])", line, maxsplit=1)[0].strip().removesuffix("."), how
    lines = [ln for ln in answer.splitlines() if ln.strip()]
    return (lines[-1], "last-line") if lines else ("", "none")


def normalize(text: str) -> str:
    text = re.sub(r"\\text\{([^{}]*)\}", r"\1", text)
    text = re.sub(r"\s+", " ", text).strip(_WRAPPERS)
    text = text.rstrip(".!?;:,").strip(_WRAPPERS)
    return text.casefold()


def as_number(text: str) -> float | None:
    t = text.replace(" ", "").lstrip("$").rstrip("%")
    if not t or not _NUMBER_RE.match(t) or not any(c.isdigit() for c in t):
        return None
    return float(t.replace(",", ""))


def _same(extracted: str, target: str) -> bool:
    a, b = normalize(extracted), normalize(target)
    if a == b:
        return True
    na, nb = as_number(a), as_number(b)
    return na is not None and nb is not None and math.isclose(na, nb, rel_tol=1e-9, abs_tol=1e-9)


def _bbh_same(extracted: str, target: str) -> bool:
    if _same(extracted, target):
        return True
    a, b = normalize(extracted), normalize(target)
    option = re.fullmatch(r"\(([a-r])\)", b)
    if option:  # "(C)" target: accept "C", "(C)", "(C) some option text"
        m = re.match(r"^\(?([a-r])\)?(?:$|[\s.:)])", a)
        return bool(m and m.group(1) == option.group(1))
    if b and set(b.replace(" ", "")) <= _BRACKETS:  # dyck languages: spacing is not content
        return a.replace(" ", "") == b.replace(" ", "")
    if "," not in b:  # word sorting: "apple, banana" == "apple banana"
        return a.replace(",", " ").split() == b.split()
    return False


def _score(answer: str, target: Any, truncated: bool, same: Any) -> Score:
    if truncated:
        return Score(0.0, details={"reason": "truncated"})
    targets = target if isinstance(target, list) else [target]
    if not targets or any(t is None or str(t).strip() == "" for t in targets):
        raise CotbenchError(f"exact-match scorer: the item has no usable target ({target!r})")
    extracted, how = extract_with_method(answer)
    extracted = extracted.strip()
    ok = bool(extracted) and any(same(extracted, str(t)) for t in targets)
    return Score(1.0 if ok else 0.0, extracted=extracted or None, details={"extraction": how})


@register_scorer("exact")
def score_exact(answer: str, target: Any, item: Mapping[str, Any], truncated: bool) -> Score:
    """Normalised exact match; ``target`` may be a list of acceptable answers."""
    return _score(answer, target, truncated, _same)


@register_scorer("bbh")
def score_bbh(answer: str, target: Any, item: Mapping[str, Any], truncated: bool) -> Score:
    """BIG-Bench Hard: exact match with the per-format allowances in the module doc."""
    return _score(answer, target, truncated, _bbh_same)
