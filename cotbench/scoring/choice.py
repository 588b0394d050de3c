"""The ``choice`` scorer: which option letter a free-form answer commits to.

Order of evidence (first that decides wins):
1. commitments ("The answer is (B)", "Answer: b", "I'll go with C", "correct option is **D**")
   and ``\\boxed{B}``, taken in answer order: the *last* one that names a valid option letter
   decides; if the last commitment naming a letter names several ("A or C") there is no answer;
2. an answer that restates one option's text exactly (when the item carries ``choices``);
3. letter forms in the whole answer: the answer is just a letter ("B", "(b)", "**B**."), or the
   strong letter forms ("(B)", "**B**", "B." opening a line, a lone letter ending the answer)
   all name the same letter. Several different letters without a commitment: no answer.

Letters run A-J (MMLU-Pro has ten options), cut to the number of ``choices`` when given.
A bare capital "A"/"I" followed by a lowercase word is read as an article or pronoun, except
right after a commitment ("The answer is A because"), where only "I think/believe/..." is.
``details["extraction"]`` is ``choice:<method>`` when a letter was found.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from cotbench.errors import CotbenchError
from cotbench.scoring.base import Score, register_scorer
from cotbench.scoring.extract import BOXED_LETTER, CHOICE_COMMITMENT
from cotbench.tasks.shuffle import LETTERS

# One letter in a wrapper: (B), [B], **B**, $B$, \text{B}, or bare.
_TOKEN_RE = re.compile(
    r"^[\s*_$\[(]*(?:\\text(?:bf)?\{)?\(?([A-Za-z])\)?\}?(?![A-Za-z0-9'])[\s*_$\])]*(?P<rest>.*)$",
    re.DOTALL,
)
_ALTERNATIVE_RE = re.compile(r"^(?:[.,;:]?\s*)(?:or|and|/|,|vs\.?)\s*[*(\[]*([A-Za-z])\b", re.IGNORECASE)
# A lowercase word after "A"/"I" makes it an article or pronoun, unless it links options.
_WORD_AFTER_RE = re.compile(r"\s+(?!(?:or|and|nor|vs)\b)[a-z]")
# After a commitment, "I" + one of these is still the pronoun ("Answer: I think it's B").
_PRONOUN_VERB_RE = re.compile(
    r"\s+(?:think|believe|guess|suppose|feel|reckon|suspect|would|will|am|was|have|had|do|did|don't|can|"
    r"could|cannot|can't|must|should|need|might|may|pick|choose|chose|select|go|went|say|said|conclude|"
    r"know|see|get|got|agree|expect|hope|find|found|want|prefer|lean|also|still|really|just)\b"
)
_BARE_RE = re.compile(r"(?<![\w'])([A-J])(?![\w'])")
_STRONG_FORMS = (
    re.compile(r"\(([A-J])\)"),  # (B)
    re.compile(r"\*\*\s*\(?([A-J])\)?\s*\*\*"),  # **B**
    re.compile(r"(?m)^\s*([A-J])\s*[.):](?:\s|$)"),  # "B. text" opening a line
)


def _letters(item: Mapping[str, Any]) -> str:
    choices = item.get("choices")
    if isinstance(choices, Sequence) and not isinstance(choices, str) and 0 < len(choices) <= len(LETTERS):
        return LETTERS[: len(choices)]
    return LETTERS


def _leading_letter(segment: str, letters: str, committed: bool = False) -> tuple[str | None, bool]:
    """The letter a segment opens with, and whether it goes on to name an alternative;
    ``committed``: the segment follows a commitment phrase."""
    m = _TOKEN_RE.match(segment)
    if not m:
        return None, False
    letter, rest = m.group(1), m.group("rest")
    if letter.upper() not in letters:
        return None, False
    after = segment[m.end(1) :]
    wrapped = segment[: m.start(1)].strip() != "" or after[:1] in {")", "*", "]", "}", "$"}
    # "the answer is a prime" / "answer: I think": an article, pronoun or word, not an option;
    # but "The answer is A because" commits to A (else correct A and I answers would be lost).
    if not wrapped and _WORD_AFTER_RE.match(after) and (
        letter.islower() or (letter in "AI" and not committed) or (letter == "I" and _PRONOUN_VERB_RE.match(after))
    ):
        return None, False
    alt = _ALTERNATIVE_RE.match(rest)
    ambiguous = bool(alt and alt.group(1).upper() in letters and alt.group(1).upper() != letter.upper())
    return letter.upper(), ambiguous


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[*_`$]", "", text)).strip().strip(".").strip().casefold()


def extract_choice(answer: str, item: Mapping[str, Any] | None = None) -> tuple[str | None, str]:
    """(letter or None, how it was found)."""
    item = item or {}
    letters = _letters(item)
    text = answer.strip()
    if not text:
        return None, "empty"

    commits = list(CHOICE_COMMITMENT.finditer(text))
    # A later box overrides an earlier "the answer is C" and vice versa: newest evidence first.
    marks = sorted([*commits, *BOXED_LETTER.finditer(text)], key=lambda m: m.start(), reverse=True)
    for m in marks:
        if m.re is BOXED_LETTER:
            if m.group(1).upper() in letters:
                return m.group(1).upper(), "boxed"
            continue
        segment = text[m.end() : m.end() + 80].split("\n", 1)[0]
        # A bare noun ("to answer I need...") is a weak commitment; a verb, colon or "final" is not.
        noun = (m.group("noun") or "").lower()
        strong = not noun or noun.startswith("final") or bool(m.group("link").strip(" \t*_") or m.group("opt"))
        letter, ambiguous = _leading_letter(segment, letters, committed=strong)
        if ambiguous:
            return None, "ambiguous"
        if letter:
            return letter, "commitment"

    choices = item.get("choices")
    if isinstance(choices, Sequence) and not isinstance(choices, str):
        said = {_norm(text)}
        said.update(_norm(text[m.end() :].split("\n", 1)[0]) for m in commits[-1:])
        hits = {LETTERS[i] for i, c in enumerate(choices[: len(letters)]) if _norm(str(c)) in said}
        if len(hits) == 1:
            return hits.pop(), "option_text"

    whole, ambiguous = _leading_letter(text, letters)
    # a leading letter means the token pattern matched
    if whole and not ambiguous and (tok := _TOKEN_RE.match(text)) and tok.group("rest").strip(" .*)") == "":
        return whole, "lone_letter"

    found = {f.upper() for form in _STRONG_FORMS for f in form.findall(text) if f.upper() in letters}
    last = re.search(r"(?:^|[\s:,])\(?([A-J])\)?[.!]?\s*$", text)
    if last and last.group(1) in letters:
        found.add(last.group(1))
        # A closing lone letter only counts if no other bare capital letter competes with it.
        found.update(
            b.group(1) for b in _BARE_RE.finditer(text)
            if b.group(1) in letters and not (b.group(1) in "AI" and _WORD_AFTER_RE.match(text, b.end()))
        )
    if len(found) == 1:
        return found.pop(), "letter_form"
    return None, "ambiguous" if found else "none"


@register_scorer("choice", metrics=("accuracy",))
def score_choice(answer: str, target: Any, item: Mapping[str, Any], truncated: bool) -> Score:
    if truncated:
        return Score(0.0, details={"reason": "truncated"})
    gold = str(target).strip().strip("()").upper() if target is not None else ""
    if isinstance(target, int) and not isinstance(target, bool):
        gold = LETTERS[target] if 0 <= target < len(LETTERS) else ""
    if len(gold) != 1 or gold not in LETTERS:
        raise CotbenchError(f"choice scorer: target must be an option letter A-J, got {target!r}")
    letter, method = extract_choice(answer, item)
    details = {"method": method, **({"extraction": f"choice:{method}"} if letter else {})}
    return Score(1.0 if letter == gold else 0.0, extracted=letter, details=details)
