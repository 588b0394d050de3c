"""Where an answer states its final answer: the extraction steps the scorers share.

- **Boxes**: ``boxed_spans`` finds the top-level ``\\boxed{..}`` / ``\\fbox{..}`` groups with
  balanced braces (so nested braces and nested boxes stay inside), ``\\boxed 5`` without braces
  takes the next token, an unclosed box is ignored; ``last_boxed`` is the last one's content.
- **Anchors**: the phrases that introduce a final answer. Each scorer reads them its own way,
  so each pattern is named for what it matches:
  ``THE_ANSWER_IS`` and ``ANSWER_COLON`` (exact match: "the answer is" wins over "Answer:"),
  ``ANSWER_IS_OR_COLON`` (probes: "answer is" / "answer:", each taking the rest of its line),
  ``MATH_ANCHOR`` (math: also GSM8K's ``####`` and "the answer =" ),
  ``CHOICE_COMMITMENT`` and ``BOXED_LETTER`` (multiple choice: "I'll go with", "correct option
  is", a boxed letter). ``after_last_anchor`` is the rest of the line after the last anchor of
  the first pattern (in order of preference) that occurs; ``anchored_rests`` the rests of line
  of every anchor, found left to right.
- **Lines**: ``last_line``, the last line with any text; ``first_sentence`` cuts a line at its
  first sentence end ("So the answer is 24. Let me check" -> "24").
- **Expressions**: ``last_anchor`` is the last ``MATH_ANCHOR`` with the first expression of its
  clause (a ``$..$`` / ``\\(..\\)`` / ``$$..$$`` span, or a bare number or LaTeX run up to the
  first word), ``anchored_answer`` that expression alone.

Everything here is plain text processing: no sympy, no sandbox, nothing that runs the answer.
"""

from __future__ import annotations

import re

# ---------------------------------------------------------------- boxes

_BOX_RE = re.compile(r"\\(?:boxed|fbox)\b")


def boxed_spans(text: str) -> list[tuple[int, int, str]]:
    """Top-level ``\\boxed{..}`` groups as (start, end, content); braces are balanced,
    ``\\boxed 5`` (no braces) takes the next token, an unclosed box is ignored."""
    spans: list[tuple[int, int, str]] = []
    pos = 0
    while (m := _BOX_RE.search(text, pos)) is not None:
        i = m.end()
        while i < len(text) and text[i] == " ":
            i += 1
        if i < len(text) and text[i] == "{":
            depth, j = 0, i
            while j < len(text):
                if text[j] == "{" and text[j - 1] != "\\":
                    depth += 1
                elif text[j] == "}" and text[j - 1] != "\\":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            if depth != 0:
                pos = m.end()
                continue
            spans.append((m.start(), j + 1, text[i + 1 : j]))
            pos = j + 1  # skip nested boxes: math-verify unwraps them
        else:
            token = re.match(r"[^\s$]+", text[i:])
            if token and i > m.end():
                spans.append((m.start(), i + token.end(), token.group(0)))
                pos = i + token.end()
            else:
                pos = m.end()
    return spans


def last_boxed(text: str) -> str | None:
    """Content of the last top-level box, stripped (nested braces allowed); None without one."""
    spans = boxed_spans(text)
    return spans[-1][2].strip() if spans else None


# ---------------------------------------------------------------- anchors

# "the answer is X" / "the final answer is: X" (exact match's first choice).
THE_ANSWER_IS = re.compile(r"\bthe (?:final )?answer is\s*:?\s*", re.IGNORECASE)
# "Answer: X" / "Final answer: X" (exact match's second choice).
ANSWER_COLON = re.compile(r"\b(?:final )?answer\s*:\s*", re.IGNORECASE)
# "answer is X" / "answer: X", also inside a word or across lines after the colon (probes).
ANSWER_IS_OR_COLON = re.compile(r"(?:final answer|answer)\s*(?:is|:)\s*[:\s]*", re.IGNORECASE)
# "#### X" (GSM8K), "the answer is X", "Final answer: X", "answer = X", markdown-emphasised (math).
MATH_ANCHOR = re.compile(
    r"####|\b(?:final answer|the answer|answer)\b[*_]*\s*(?:is\b\s*[:=]?|[:=])", re.IGNORECASE
)
# A commitment to an option: "the correct option is", "Answer:", "I'll go with" (multiple choice).
# ``noun`` and ``link`` tell a weak bare noun ("to answer I need") from a committed one.
CHOICE_COMMITMENT = re.compile(
    r"(?:\b(?P<noun>final answer|correct answer|answer|correct option|correct choice|best option|best answer)"
    r"(?P<link>[*_]*(?:\s+(?:is|would be|should be|must be|will be))?\s*(?:[:=]|\bis\b)?)"
    r"|\bI(?:'ll| will| would)? (?:pick|choose|select|go with))\s*(?P<opt>(?:option|choice|letter)\s+)?",
    re.IGNORECASE,
)
# One boxed letter, maybe in ``\text{}`` or parentheses: ``\boxed{B}``, ``\boxed{\text{(c)}}``.
BOXED_LETTER = re.compile(r"\\boxed\{\s*(?:\\text(?:bf)?\{)?\s*\(?([A-Za-z])\)?\s*\}?\s*\}")


def last_match(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    """The last (non-overlapping) match of ``pattern`` in ``text``."""
    found = None
    for found in pattern.finditer(text):  # noqa: B007 - the last one is wanted
        pass
    return found


def rest_of_line(text: str, pos: int) -> str:
    """``text`` from ``pos`` to the end of that line."""
    return text[pos:].split("\n", 1)[0]


def anchor_label(match: re.Match[str]) -> str:
    """An anchor as the record names it: markdown emphasis dropped, spaces collapsed, lower case."""
    return re.sub(r"\s+", " ", re.sub(r"[*_]", "", match.group(0))).strip().lower()


def after_last_anchor(text: str, *anchors: re.Pattern[str]) -> tuple[str, re.Pattern[str]] | None:
    """(the rest of the line after the last match, the pattern) for the first of ``anchors``
    that occurs in ``text``: an earlier pattern wins even where a later one comes after it."""
    for pattern in anchors:
        if (m := last_match(pattern, text)) is not None:
            return rest_of_line(text, m.end()), pattern
    return None


def anchored_rests(text: str, anchor: re.Pattern[str]) -> list[str]:
    """The rest of the line after each anchor, left to right; each anchor takes its whole rest
    of line, so a second anchor on that line is part of the first one's answer."""
    return re.findall(f"(?:{anchor.pattern})(.+)", text, anchor.flags)


# ---------------------------------------------------------------- lines and sentences

_SENTENCE_END_RE = re.compile(r"(?<=[^\d\s])\.\s|(?<=\d)\.\s+(?=[A-Z])")


def last_line(text: str) -> str | None:
    """The last line with any non-space text, as written (not stripped); None when there is none."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else None


def first_sentence(line: str) -> str:
    """``line`` up to its first sentence end, stripped, without a final period: a period after a
    word ("Yes. Then"), or after a number when a capital follows ("24. Let me"), but not a
    decimal point ("6.5") or a number ending the line ("6.")."""
    return _SENTENCE_END_RE.split(line, maxsplit=1)[0].strip().removesuffix(".")


# ---------------------------------------------------------------- expressions (math)

# Delimited math (kept whole, even across lines or sentence ends), or where the clause ends.
_CLAUSE_RE = re.compile(
    r"(?s)(?P<math>\$\$(?P<d>.+?)\$\$|(?<!\\)\$(?P<i>[^$\n]+?)(?<!\\)\$|\\\((?P<p>.+?)\\\)|\\\[(?P<b>.+?)\\\])"
    r"|(?P<end>\n|[.!?;](?=\s|$))"
)
_NUM = r"\d+(?:,\d{3})*(?:\.\d+)?|\.\d+"
_EXPR_START_RE = re.compile(rf"(?:[-+\u2212(\[]\s*)*(?:{_NUM}|\\(?![(\[])\S)")
# One token of a bare expression; a group takes up to three levels of nested braces.
_EXPR_TOKEN_RE = re.compile(
    rf"(?P<sp>\s*)(?:(?P<num>{_NUM})|(?P<cmd>\\[A-Za-z]+|\\[^\sA-Za-z])"
    r"|(?P<group>\{(?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*\})"
    r"|(?P<op>[-+*/^_=()\[\]<>!|%,\u2212\u00d7\u00f7\u00b7])|(?P<var>(?<![A-Za-z])[A-Za-z](?![A-Za-z])))"
)


def first_expression(clause: str) -> str | None:
    """The first delimited span's content or bare expression in ``clause``."""
    span = next((m for m in _CLAUSE_RE.finditer(clause) if m.group("math")), None)
    start = _EXPR_START_RE.search(clause)
    if span and (start is None or span.start() <= start.start()):
        return next(g for g in span.group("d", "i", "p", "b") if g is not None).strip() or None
    if start is None:
        return None
    pos, prev = start.start(), ""
    while (tok := _EXPR_TOKEN_RE.match(clause, pos)) and tok.end() > pos:
        # A letter is a variable only next to its operand ("2x", "+ y"), else it is a word ("5 a day").
        if tok.group("var") and tok.group("sp") and prev != "op":
            break
        prev = tok.lastgroup or ""
        pos = tok.end()
    return clause[start.start() : pos].rstrip(" \t,;:=+-*/^_(\\[<>|\u2212") or None


def last_anchor(text: str) -> tuple[str, str | None] | None:
    """(the last ``MATH_ANCHOR``, as ``anchor_label`` names it, and the first expression of its
    clause), or None."""
    found = last_match(MATH_ANCHOR, text)
    if found is None:
        return None
    # The clause may start on a later line ("Final answer:\n\n$$..$$"); it ends with its sentence.
    start = len(text) - len(text[found.end() :].lstrip(" \t\r\n*_:"))
    end = next((m.start() for m in _CLAUSE_RE.finditer(text, start) if m.group("end")), len(text))
    return anchor_label(found), first_expression(text[start:end])


def anchored_answer(text: str) -> str | None:
    """The expression right after the last ``####`` / ``the answer is`` / ``Answer:``."""
    anchor = last_anchor(text)
    return anchor[1] if anchor else None
