"""The ``exact`` scorer: normalised exact match for short free-form answers.

Extraction (``cotbench.scoring.extract``): the rest of the line after the last "the answer is"
(BBH chain-of-thought prompts end with "So the answer is X."), else after the last "Answer:",
cut at its first sentence end; else the last non-empty line.
Normalisation: case, whitespace, surrounding quotes/markdown/``$``, trailing punctuation.
Numbers compare as numbers ("1,000" == "1000.0"). With ``bbh=True`` (registered as ``bbh``
too, the name BBH task files use) it adds what BBH targets need: option targets like "(C)"
match "C" or "(C)", bracket sequences (dyck languages) ignore spaces, and a word list (word
sorting) may be comma separated.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from cotbench.errors import CotbenchError
from cotbench.scoring.base import Score, Scorer, scorer
from cotbench.scoring.extract import ANSWER_COLON, THE_ANSWER_IS, after_last_anchor, first_sentence, last_line

_HOW = {THE_ANSWER_IS: "anchor:the answer is", ANSWER_COLON: "anchor:answer:"}
_WRAPPERS = " \t\n*_`\"'“”‘’$"
_NUMBER_RE = re.compile(r"^[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?$")
_BRACKETS = set("()[]{}<>")


def extract_final(answer: str) -> str:
    """The part of ``answer`` that states the final answer (see module doc)."""
    return extract_with_method(answer)[0]


def extract_with_method(answer: str) -> tuple[str, str]:
    """(the final answer, how: ``anchor:the answer is``, ``anchor:answer:``, ``last-line``, ``none``)."""
    if (found := after_last_anchor(answer, THE_ANSWER_IS, ANSWER_COLON)) is not None:
        # "So the answer is 24. Let me double-check..." -> "24": cut at a sentence end.
        return first_sentence(found[0]), _HOW[found[1]]
    line = last_line(answer)
    return (line, "last-line") if line is not None else ("", "none")


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


@scorer("exact", metrics=("accuracy",), aliases={"bbh": {"bbh": True}})
def exact(*, bbh: bool = False) -> Scorer:
    """Normalised exact match; ``target`` may be a list of acceptable answers. ``bbh``: with the
    per-format allowances of BIG-Bench Hard targets (module doc)."""
    same = _bbh_same if bbh else _same

    def score(answer: str, target: Any, item: Mapping[str, Any], truncated: bool) -> Score:
        return _score(answer, target, truncated, same)

    return score


score_exact = exact()
score_bbh = exact(bbh=True)
