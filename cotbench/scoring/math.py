"""The ``math`` scorer: final-answer extraction, fast exact checks, then symbolic equivalence
via math-verify.

Extraction, in order:
1. ``\\boxed{...}`` / ``\\fbox{...}`` (balanced braces, so nested braces work). With several
   boxed answers the *last* top-level one is the answer; only when the reference is a set of
   several values (e.g. ``1, -2``) and the model boxed each value separately are all boxed
   values compared together as a set (a second attempt after the last box alone).
2. The last anchor (``#### X`` (GSM8K), ``The final answer is X``, ``Answer: X``), read as the
   *first* expression of the clause right after it (a ``$..$`` / ``\\(..\\)`` / ``$$..$$`` span,
   or a bare number / LaTeX run up to the first word), so "The answer is 5 since 3 + 2" is 5.
   An anchor with no parseable expression there falls through to step 3.
3. Otherwise math-verify's own search of the whole answer (rightmost LaTeX or number).

``details["extraction"]`` names the step: ``boxed``, ``boxed-set``, ``anchor:<anchor text>``,
``last-expression``, or ``none`` (``last-line`` for a prose reference, below).

Equivalence, in order; ``details["equivalence"]`` names the path that decided:
- ``reference-string``: the reference is prose (two words in a row and words for at least half
  its characters, e.g. "It has 1 real root.") or math-verify cannot parse it. math-verify would
  grade such a reference by a stray number in it (any answer of 1 passed) or as a product of
  letters, so it is compared as a string instead: the last box, else the rest of the line after
  the last anchor or the last line, must equal it after normalisation and lower-casing. The
  record says so: ``details["reference"] = "unparseable"`` and ``details["reference_reason"]``
  (``prose``, ``no parse``, ``parse timeout``).
- Fast paths, in the parent (no worker, no sympy), on the boxed or anchored answer:
  ``string``: equal after rewrites that never change the value (``\\left``/``\\right``, spaces and
  spacing commands, ``$``, ``\\$``, ``\\dfrac``, ``\\text{..}`` wrappers, ``{,}``, ``°`` = ``^\\circ``,
  ``_1`` = ``_{1}``, ``\\frac12`` = ``\\frac{1}{2}``, a trailing period); only ever "equal".
  ``number`` / ``fraction``: both sides a plain number (optional sign, thousands separators,
  decimals, ``1e-5``, ``3\\times 10^{-5}``; a trailing degree sign, percent sign or unit such as
  ``\\text{ cm}`` or ``18 dollars`` dropped) or a simple fraction (``\\frac{a}{b}``, ``a/b``),
  compared exactly as fractions. "Not equal" only when both sides are such numbers and they
  differ by more than math-verify's float rounding (6 places) could hide; anything else, a
  number vs an expression included, goes on to sympy.
- ``sympy``: math-verify's ``verify`` in a worker (fractions, radicals, intervals, sets, tuples,
  equations, matrices, ``\\text{}`` answers, units), with these fixes:
  scientific notation (``1e-5``, ``2.5E3``) is a number, not an expression in Euler's e (so
  ``2e-1`` reads 0.2: write Euler's number as ``2e - 1``); digit groups joined by ``{,}``,
  ``\\,``, ``\\ `` or spaces are one number (``10\\,000`` is 10000, not 10*0); ``E_1`` is a name,
  not a subscripted e; a trailing letter that math-verify's unit stripping would drop is a
  variable (``\\frac{1}{m}t`` is t/m, ``5t`` is not 5, ``5 m`` is 5m; units are read only as
  words such as ``cm``, ``dollars`` or inside ``\\text{}``); equations are compared with a lone
  name on the left (``2C = E`` is ``E = 2C``), so sets of equations match with swapped sides;
  a percent sign on one side only is equal to the bare number (``12.5`` = ``12.5\\%``; as in
  math-verify, ``12.5\\%`` also equals ``0.125``).
- ``timeout``: math-verify's own limits or the parent's hard limit ran out (scored 0);
  ``error``: the worker failed on the input (scored 0).

Why a worker process: math-verify bounds its time with ``signal.alarm``, which only works in
the main thread, and a sympy call stuck in C code (a huge power, a factorial) ignores signals
anyway. Grading therefore runs in a small pool of long-lived child processes that use
math-verify's own timeouts in their main thread; the parent adds a hard wall-clock limit and
kills and replaces a worker that overruns. This works from any thread or event loop. The fast
paths decide most real samples (reference solutions: all of them) without that round trip.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import queue
import re
import select
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from cotbench.errors import CotbenchError
from cotbench.scoring.base import Score, register_scorer
from cotbench.scoring.extract import (
    MATH_ANCHOR,
    anchor_label,
    boxed_spans,
    last_anchor,
    last_line,
    last_match,
    rest_of_line,
)
from cotbench.scoring.extract import anchored_answer as anchored_answer  # the math scorer's reading of an anchor

PARSE_TIMEOUT_S = 2  # math-verify's own per-parse and per-comparison limits (whole seconds)
VERIFY_TIMEOUT_S = 2
HARD_TIMEOUT_S = 8.0  # parent-side wall clock per sample; a worker past it is killed
WORKER_MEMORY_BYTES = 4 << 30
_WORKER_START_TIMEOUT_S = 120.0
_MAX_WORKERS = max(1, min(4, os.cpu_count() or 1))

# ---------------------------------------------------------------- extraction (cotbench.scoring.extract)


def _normalise(text: str) -> str:
    # math-verify reads ``^\circ`` but not the Unicode degree sign.
    return text.replace("°", "^{\\circ}")


# ---------------------------------------------------------------- rewrites before math-verify (no sympy)

# A number with an exponent (1e-5, 2.5E3, 3e+2), not part of a word or of a longer number.
_SCI_RE = re.compile(r"(?<![\w.\\])(\d+(?:\.\d*)?|\.\d+)[eE]([-+]?\d{1,4})(?![\w.])")
# A digit-group separator between digits: ``{,}`` (LaTeX's thousands comma), ``\,``, ``\ ``, ``~``.
_GROUP_SEP_RE = re.compile(r"(?<=\d)(?:\{,\}|\\[, ]|~)(?=\d{3}(?!\d))")
_GROUP_SPACE_RE = re.compile(r"(?<=\d) +(?=\d{3}(?!\d))")
_GROUP_COMMA_RE = re.compile(r"(?<=\d)(?:\{,\}|,)(?:\\[!,]|\s)*(?=\d{3}(?!\d))")
# ``E_1``, ``e_{2}``: a subscripted name; Euler's number cannot take a subscript, so it fails to parse.
_EULER_SUB_RE = re.compile(r"(?<![\\A-Za-z])([Ee])(?=\s*_)")
_TRAILING_RUN_RE = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{1,3}$")
# math-verify strips a trailing unit from an expression, and its unit list has single letters
# (t, h, c, l, s, g, m, d, o) and short words (ab, bc, st, day, ...) that are variables here.
_UNIT_LETTERS = frozenset("tchlsgmdo")
_UNIT_ABBREVIATIONS = frozenset(
    "cm mm km kg mg ml ft yd mi in lb lbs oz hr hrs min mins sec secs mph kph kmh deg sq day yr yrs pt pts".split()
)


def _protect_trailing_variable(expr: str) -> str:
    """``\\frac{1}{m}t`` -> ``\\frac{1}{m}{t}``: a braced group is not read as a unit."""
    s = expr.rstrip()
    m = _TRAILING_RUN_RE.search(s)
    if m is None or not s[: m.start()].strip():
        return expr
    run = m.group(0)
    if (run in _UNIT_LETTERS) if len(run) == 1 else (run.lower() not in _UNIT_ABBREVIATIONS):
        return f"{s[: m.start()]}{{{run}}}"
    return expr


def _prepare(text: str, whole_answer: bool = False) -> str:
    """Rewrites math-verify needs before it parses: degrees, scientific notation, digit groups,
    and, for a lone expression (a reference, a boxed or anchored answer), spaced digit groups,
    subscripted ``E`` and a trailing variable that its unit stripping would drop."""
    text = _SCI_RE.sub(r"\1\\times 10^{\2}", _normalise(text))
    text = _GROUP_SEP_RE.sub("", text)
    if whole_answer:
        return text
    text = _EULER_SUB_RE.sub(r"\\mathrm{\1}", _GROUP_SPACE_RE.sub("", text))
    if (value := _plain_value(text)) is not None:
        # A plain number, as the fast paths read it: thousands commas ("58,500^\\circ",
        # "\\$32,\\!348") make one number, not a set, and a unit math-verify does not know goes.
        text = _strip_units(text) if value.fraction else _GROUP_COMMA_RE.sub("", _strip_units(text))
    return _protect_trailing_variable(text)


# ---------------------------------------------------------------- fast paths (parent, no sympy)

FAST_PATHS = True  # grade(..., fast=False) or this switch sends every sample to the worker
_FLOAT_SLACK = Fraction(1, 10**6)  # math-verify rounds floats to 6 places: closer than this, ask it
_MAX_FAST_LEN = 200

_TEXT_CMD = r"\\(?:text|textrm|textnormal|textbf|textit|textup|mathrm|mathit|mathbf|mathsf|mbox)"
_TEXT_GROUP_RE = re.compile(_TEXT_CMD + r"\s*\{([^{}]*)\}")
_UNIT_TEXT_RE = re.compile(_TEXT_CMD + r"\s*\{([^{}]*)\}\s*(?:\^\s*\{?\s*[23]\s*\}?)?\s*$")
_UNIT_WORDS_RE = re.compile(r"(?<=[\d}])\s+([A-Za-z]+(?:\s+[A-Za-z]+)*)\s*\.?\s*$")
_NOT_UNITS = frozenset("or and not no nor less more than times plus minus mod over is are".split())
_PERCENT_WORD_RE = re.compile(
    r"\s*(?:\\text\s*\{\s*(?:percent|percentage|pct)\s*\}|(?<![A-Za-z])(?:percent|percentage|pct))\s*$"
)
_CIRC_RE = re.compile(r"\^\s*(?:\{\s*\\circ\s*\}|\\circ(?![A-Za-z]))|\\degree(?![A-Za-z])")
_SPACING_RE = re.compile(r"(?<!\\)\\[,;:! ]|\\q?quad(?![A-Za-z])|~|\\displaystyle(?![A-Za-z])")
_DELIM_SIZE_RE = re.compile(r"\\(?:left|right|[Bb]igg?[lr]?)(?![A-Za-z])\s*\.?")
_INT = r"(?:\d{1,3}(?:,\d{3})+|\d+)"
_NUMBER_RE = re.compile(
    rf"([-+]?)({_INT}(?:\.\d*)?|\.\d+)(?:[eE]([-+]?\d+)|(?:\\times|\\cdot|\*|×|·)10\^\{{([-+]?\d+)\}})?"
)
_POW10_RE = re.compile(r"([-+]?)10\^\{([-+]?\d+)\}")
_FRAC_RE = re.compile(r"([-+]?)\\frac\{([^{}]+)\}\{([^{}]+)\}")


def _unbox(text: str) -> str:
    while (spans := boxed_spans(text)) and len(spans) == 1 and spans[0][:2] == (0, len(text)):
        text = spans[0][2].strip()
    return text


def _canonical(text: str) -> str:
    """A normal form for string equality, made only of rewrites that never change the value:
    ``\\left``/``\\right``, spacing commands and spaces, ``$``, ``\\dfrac``, ``\\text{..}`` wrappers,
    ``{,}``, degree signs, ``_1`` -> ``_{1}``, ``\\frac12`` -> ``\\frac{1}{2}``, a trailing period."""
    s = _unbox(text.strip()).replace("\u2212", "-").replace("°", "^{\\circ}")
    s = _CIRC_RE.sub(r"^{\\circ}", s)
    s = re.sub(r"\\[dt]frac(?![A-Za-z])", r"\\frac", s)
    s = _DELIM_SIZE_RE.sub("", s)
    s = _SPACING_RE.sub(" ", s).replace("{,}", ",").replace("\\$", "").replace("$", "")
    s = _TEXT_GROUP_RE.sub(r"\1", s)
    s = re.sub(r"([_^])\s*([A-Za-z0-9])", r"\1{\2}", s)
    s = re.sub(r"\\frac\s*([0-9A-Za-z])\s*([0-9A-Za-z])", r"\\frac{\1}{\2}", s)
    s = re.sub(r"\\frac\s*([0-9A-Za-z])\s*(?=\{)", r"\\frac{\1}", s)
    s = re.sub(r"\\frac\s*(\{[^{}]*\})\s*([0-9A-Za-z])", r"\\frac\1{\2}", s)
    # Spaces go, except the one that ends a command name before a letter (``\pi r``).
    s = re.sub(r"(\\[A-Za-z]+)\s+(?=[A-Za-z])", "\\1\x00", s)
    return re.sub(r"\s+", "", s).replace("\x00", " ").rstrip(".")


@dataclass(frozen=True)
class _Value:
    value: Fraction
    fraction: bool  # written as a fraction (``\frac{a}{b}``, ``a/b``)
    inexact: bool  # a decimal point, an exponent or a percent: math-verify compares it as a float
    percent: bool


def _strip_units(text: str) -> str:
    """Drop a trailing unit: ``\\text{ cm}``/``\\mbox{ inches}^2`` or plain words (``18 dollars``)."""
    m = _UNIT_TEXT_RE.search(text)
    if m and re.fullmatch(r"\s*[A-Za-z][A-Za-z .]*", m.group(1)) and not _NOT_UNITS & set(m.group(1).lower().split()):
        return text[: m.start()].rstrip()
    m = _UNIT_WORDS_RE.search(text)
    if m and not _NOT_UNITS & set(w := m.group(1).lower().split()) and all(
        len(x) > 2 or x in _UNIT_ABBREVIATIONS for x in w
    ):
        return text[: m.start()].rstrip()
    return text


def _number(s: str) -> tuple[Fraction, bool] | None:
    """(exact value, written inexactly) of a plain number in canonical form, or None."""
    if m := _NUMBER_RE.fullmatch(s):
        sign, mantissa, e1, e2 = m.groups()
        exponent = int(e1 or e2 or 0)
        if abs(exponent) > 400:
            return None
        value = Fraction(Decimal(mantissa.replace(",", ""))) * Fraction(10) ** exponent
        return (-value if sign == "-" else value), "." in mantissa or e1 is not None
    if m := _POW10_RE.fullmatch(s):
        if abs(exponent := int(m.group(2))) > 400:
            return None
        value = Fraction(10) ** exponent
        return (-value if m.group(1) == "-" else value), False
    return None


def _plain_value(text: str) -> _Value | None:
    """The exact value of a plain number or simple fraction (with an optional percent sign,
    degree sign or trailing unit), or None for anything else."""
    if len(text) > _MAX_FAST_LEN:
        return None
    s = _canonical(_strip_units(_PERCENT_WORD_RE.sub(r"\\%", _unbox(text.strip()))))
    percent = s.endswith("%")
    s = s.removesuffix("\\%").removesuffix("%").removesuffix("^{\\circ}")
    if (n := _number(s)) is not None:
        return _Value(n[0], False, n[1] or percent, percent)
    m = _FRAC_RE.fullmatch(s)
    parts = (m.group(1), m.group(2), m.group(3)) if m else ("", *s.split("/", 1)) if s.count("/") == 1 else None
    if parts is None:
        return None
    num, den = _number(parts[1]), _number(parts[2])
    if num is None or den is None or den[0] == 0:
        return None
    value = num[0] / den[0]
    return _Value(-value if parts[0] == "-" else value, True, num[1] or den[1] or percent, percent)


def fast_equivalence(reference: str, answer: str) -> tuple[bool, str] | None:
    """(equal, path) when a fast path can decide, else None (ask sympy).

    ``string``: equal canonical forms (only ever "equal"). ``number`` / ``fraction``: both sides
    plain numbers or simple fractions, compared exactly as fractions; "not equal" is returned
    only when they differ by more than math-verify's float rounding could hide. A percent sign on
    one side only is equal to the bare number (and, as in math-verify, to the number / 100)."""
    ref, ans = _canonical(reference), _canonical(answer)
    if ref and ref == ans:
        return True, "string"
    r, a = _plain_value(reference), _plain_value(answer)
    if r is None or a is None:
        return None
    path = "fraction" if r.fraction or a.fraction else "number"
    pairs = [(r.value, a.value)]
    if r.percent != a.percent:
        pairs.append((r.value / 100, a.value) if r.percent else (r.value, a.value / 100))
    if any(x == y for x, y in pairs):
        return True, path
    close = any(abs(x - y) <= _FLOAT_SLACK * max(Fraction(1), abs(x), abs(y)) for x, y in pairs)
    if (r.inexact or a.inexact) and close:
        return None
    return False, path


def _fast_grade(target: str, answer: str) -> dict[str, Any] | None:
    text = _normalise(answer)
    boxes = boxed_spans(text)
    if boxes:
        extracted, method, extraction = boxes[-1][2], "boxed", "boxed"
    elif (anchor := last_anchor(text)) and anchor[1]:
        extracted, method, extraction = anchor[1], "anchor", f"anchor:{anchor[0]}"
    else:
        return None
    verdict = fast_equivalence(target, extracted)
    if verdict is None:
        return None
    return {"correct": verdict[0], "extracted": extracted, "method": method, "extraction": extraction,
            "equivalence": verdict[1]}


# ---------------------------------------------------------------- references that are not math

_WORD_RE = re.compile(r"[A-Za-z]{2,}")
_TWO_WORDS_RE = re.compile(r"[A-Za-z]{2,}[\s,]+[A-Za-z]{2,}")
_NOT_WORDS_RE = re.compile(r"\\(?:begin|end|operatorname|mathbb|mathcal|mathfrak)\s*\{[^{}]*\}|\\[A-Za-z]+|\\.")


def reference_problem(target: str) -> str | None:
    """``"prose"`` when the reference is mostly words: after dropping a trailing unit and LaTeX
    command names, two words in a row (``has real``, not ``ab + bc``) and words for at least half
    of its characters. math-verify grades such a reference by a stray number in it or as a
    product of letters. None otherwise."""
    text = _NOT_WORDS_RE.sub(" ", _strip_units(target))
    if not _TWO_WORDS_RE.search(text):
        return None
    letters = sum(map(len, _WORD_RE.findall(text)))
    return "prose" if 2 * letters >= len(re.sub(r"[\s{}]", "", text)) else None


def _loose(text: str) -> str:
    return _canonical(text).lower().strip(".,;:!*\"'")


def _string_grade(target: str, answer: str, reason: str) -> dict[str, Any]:
    """Conservative grading for a reference math-verify cannot read: the last box, else the rest
    of the line after the last anchor or the last line, must equal it after normalisation."""
    text = _normalise(answer)
    boxes = boxed_spans(text)
    candidates: list[tuple[str, str, str]] = []  # (method, extraction, text)
    if boxes:
        candidates.append(("boxed", "boxed", boxes[-1][2]))
    else:
        if (found := last_match(MATH_ANCHOR, text)) is not None:
            rest = rest_of_line(text, found.end()).lstrip(" \t*_:")
            candidates.append(("anchor", f"anchor:{anchor_label(found)}", rest))
        if (line := last_line(text)) is not None:
            candidates.append(("line", "last-line", line))
    ref = _loose(target)
    matched = next((c for c in candidates if ref and _loose(c[2]) == ref), None)
    method, extraction, extracted = matched or (candidates[0] if candidates else ("none", "none", ""))
    return {"correct": matched is not None, "extracted": extracted.strip() or None, "method": method,
            "extraction": extraction, "equivalence": "reference-string", "reference": "unparseable",
            "reference_reason": reason}


# ---------------------------------------------------------------- grading (runs in a worker)

class _TimeoutLog(logging.Handler):
    """Notes math-verify's own timeouts, which it logs and then reads as "no parse" / "not equal"."""

    hit = False

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("Timeout"):
            self.hit = True


_TIMEOUTS = _TimeoutLog(logging.WARNING)


def _quiet_math_verify() -> None:
    log = logging.getLogger("math_verify")
    if _TIMEOUTS not in log.handlers:
        log.addHandler(_TIMEOUTS)
        log.propagate = False  # replies carry the timeout instead of a log line per sample


def _orient(expr: Any) -> Any:
    """``2C = E`` -> ``E = 2C``: a lone name goes on the left, as math-verify expects of an
    assignment (it orders sets of equations by their right-hand sides)."""
    from latex2sympy2_extended import is_expr_of_only_symbols
    from latex2sympy2_extended.logic import And
    from latex2sympy2_extended.sets import FiniteSet
    from sympy import Eq

    try:
        if isinstance(expr, Eq):
            if is_expr_of_only_symbols(expr.rhs) and not is_expr_of_only_symbols(expr.lhs):
                return Eq(expr.rhs, expr.lhs, evaluate=False)
        elif isinstance(expr, (FiniteSet, And)) and hasattr(expr, "_unsorted_args"):
            args = list(expr._unsorted_args)
            oriented = [_orient(a) for a in args]
            if any(o is not a for o, a in zip(oriented, args, strict=True)):
                return type(expr)(*oriented)
    except Exception:  # a form sympy will not rebuild stays as it was
        pass
    return expr


_PERCENT_RE = re.compile(r"(?s)(.*?[^\s\\])\s*\\?%\s*")


def _split_percent(text: str) -> tuple[str, bool]:
    """(``text`` without a trailing percent sign or word, whether it had one)."""
    m = _PERCENT_RE.fullmatch(_PERCENT_WORD_RE.sub(r"\\%", text))
    return (m.group(1), True) if m else (text, False)


def _bare(exprs: list[Any]) -> tuple[list[Any], bool]:
    """math-verify's percentages (``x * UnevaluatedExpr(1/100)``) as bare numbers, and whether any were."""
    from sympy import Mul, Rational, UnevaluatedExpr

    pct, out, found = UnevaluatedExpr(Rational(1, 100)), [], False
    for e in exprs:
        if isinstance(e, Mul) and pct in e.args:
            e, found = Mul(*(a for a in e.args if a != pct)), True
        out.append(e)
    return out, found


def _grade(target: str, answer: str) -> dict[str, Any]:
    """Extract and verify; called inside a worker process (main thread, so signals work)."""
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify
    from sympy import FiniteSet, Rational

    if problem := reference_problem(target):
        return _string_grade(target, answer, problem)
    _quiet_math_verify()
    _TIMEOUTS.hit = False
    configs = [LatexExtractionConfig(), ExprExtractionConfig()]

    def _parse(text: str) -> list[Any]:
        return parse(text, extraction_config=configs, parsing_timeout=PARSE_TIMEOUT_S)

    def _math(parsed: list[Any]) -> list[Any]:
        return [p for p in parsed if not isinstance(p, str)]

    def _read(text: str) -> tuple[list[Any], bool]:
        """A lone expression (reference, box, anchor), boxed so math-verify reads it whole:
        (its parse with any percent sign dropped, whether it had one)."""
        bare, percent = _split_percent(text)
        parsed, found = _bare(_parse(f"\\boxed{{{_prepare(bare)}}}"))
        return parsed, percent or found

    def _equal(gold: list[Any], gold_pct: bool, pred: list[Any], pred_pct: bool) -> bool:
        gold, pred = [_orient(g) for g in gold], [_orient(p) for p in pred]
        if verify(gold, pred, timeout_seconds=VERIFY_TIMEOUT_S):
            return True
        if gold_pct == pred_pct:
            return False
        # A percent sign on one side only is the bare number (checked above) or, as math-verify
        # has it, the number / 100: 12.5\% is 12.5 and 0.125.
        def scaled(exprs: list[Any]) -> list[Any]:
            return [e if isinstance(e, str) else e * Rational(1, 100) for e in exprs]

        return verify(scaled(gold) if gold_pct else gold, pred if gold_pct else scaled(pred),
                      timeout_seconds=VERIFY_TIMEOUT_S)

    gold, gold_pct = _read(target)
    if not _math(gold):
        # Read bare, math-verify may find a stray number in it; take it only if it is most of it.
        reference = _prepare(_split_percent(target)[0])
        plain, found_pct = _bare(_parse(reference))
        found = next((p for p in reversed(plain) if isinstance(p, str)), "")
        if _math(plain) and 2 * len(_canonical(found)) >= len(_canonical(reference)):
            gold, gold_pct = plain, gold_pct or found_pct
    if not _math(gold):
        return _string_grade(target, answer, "parse timeout" if _TIMEOUTS.hit else "no parse")
    multi = any(isinstance(g, FiniteSet) and len(g) > 1 for g in gold)

    answer = _normalise(answer)
    boxes = [content for _, _, content in boxed_spans(answer)]
    attempts: list[tuple[str, str, str, bool]] = []  # (method, extraction, text, read as a lone expression)
    anchor = None if boxes else last_anchor(answer)
    if boxes:
        attempts.append(("boxed", "boxed", boxes[-1], True))
        if len(boxes) > 1 and multi:
            attempts.append(("boxed_set", "boxed-set", ", ".join(boxes), True))
    elif anchor and anchor[1] and _read(anchor[1])[0]:
        # Boxed, so math-verify reads bare LaTeX ("2x + 1", "(1, 2]") whole instead of taking its
        # last number; its parses are cached, so checking here first costs little.
        attempts.append(("anchor", f"anchor:{anchor[0]}", anchor[1], True))
    else:
        attempts.append(("search", "last-expression", answer, False))

    first: tuple[str | None, str] | None = None  # (extracted, extraction) of the first attempt
    for method, extraction, text, lone in attempts:
        pred, pred_pct = _read(text) if lone else _bare(_parse(_prepare(text, whole_answer=True)))
        shown = text if lone else (str(pred[-1]) if pred else "")
        extraction = extraction if pred or lone else "none"  # an unparseable box is still "boxed"
        if first is None:
            first = (shown or None, extraction)
        if pred and _equal(gold, gold_pct, pred, pred_pct):
            return {"correct": True, "extracted": shown or None, "method": method, "extraction": extraction,
                    "equivalence": "sympy"}
    assert first is not None
    return {"correct": False, "extracted": first[0], "method": attempts[0][0], "extraction": first[1],
            "equivalence": "timeout" if _TIMEOUTS.hit else "sympy"}


def _serve() -> None:
    """Worker loop: one JSON request per stdin line, one JSON reply per stdout line."""
    import resource

    _quiet_math_verify()  # math-verify logs every timeout; replies carry it instead
    try:
        resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY_BYTES, WORKER_MEMORY_BYTES))
    except (ValueError, OSError):
        pass
    import math_verify  # noqa: F401  (warm the import before announcing readiness)

    out = sys.stdout
    out.write("ready\n")
    out.flush()
    for line in sys.stdin:
        req = json.loads(line)
        try:
            reply = _grade(req["target"], req["answer"])
        except MemoryError:
            reply = {"correct": False, "extracted": None, "method": "none", "equivalence": "error",
                     "error": "memory limit"}
        except Exception as exc:  # a bad input must not kill the worker
            reply = {"correct": False, "extracted": None, "method": "none", "equivalence": "error",
                     "error": type(exc).__name__}
        out.write(json.dumps(reply) + "\n")
        out.flush()


# ---------------------------------------------------------------- worker pool (parent side)

class _Worker:
    def __init__(self) -> None:
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from cotbench.scoring.math import _serve; _serve()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, env=env,
        )
        if self._readline(_WORKER_START_TIMEOUT_S) != "ready":
            self.close()
            raise CotbenchError("the math scorer's worker process failed to start (is math-verify installed?)")

    def _readline(self, timeout: float) -> str | None:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            return None
        line = self.proc.stdout.readline()
        return line.strip() if line else None

    def ask(self, request: dict[str, str], timeout: float) -> dict[str, Any] | None:
        """The reply, or None when the worker overran ``timeout`` or died (it is then dead)."""
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self.close()
            return None
        line = self._readline(timeout)
        if not line:
            self.close()
            return None
        return json.loads(line)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()


class _Pool:
    """At most ``size`` workers; a caller borrows an idle one or starts one."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._reset()

    def _reset(self) -> None:
        self._owner = os.getpid()
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(self._size)

    def grade(self, target: str, answer: str) -> dict[str, Any] | None:
        if os.getpid() != self._owner:
            self._reset()  # a forked child must not share its parent's worker pipes
        with self._slots:
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                worker = _Worker()
            reply = worker.ask({"target": target, "answer": answer}, HARD_TIMEOUT_S)
            if worker.alive:
                self._idle.put(worker)
            return reply

    def close(self) -> None:
        if os.getpid() != self._owner:
            return
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


_POOL = _Pool(_MAX_WORKERS)
atexit.register(_POOL.close)


def grade(target: str, answer: str, fast: bool | None = None) -> dict[str, Any]:
    """Grade ``answer`` against ``target``: a reference that is prose by string comparison, then
    the fast paths here (unless ``fast`` is False, or None and ``FAST_PATHS`` is off), then sympy
    in a worker; a timeout is an incorrect answer. The reply's ``equivalence`` names the path."""
    if problem := reference_problem(target):
        return _string_grade(target, answer, problem)
    if FAST_PATHS if fast is None else fast:
        if (reply := _fast_grade(target, answer)) is not None:
            return reply
    reply = _POOL.grade(target, answer)
    if reply is None:
        return {"correct": False, "extracted": None, "method": "none", "equivalence": "timeout", "error": "timeout"}
    return reply


@register_scorer("math", metrics=("accuracy",))
def score_math(answer: str, target: Any, item: Mapping[str, Any], truncated: bool) -> Score:
    if truncated or not answer.strip():
        return Score(0.0, details={"reason": "truncated" if truncated else "empty answer"})
    if target is None or not str(target).strip():
        raise CotbenchError("math scorer: the item has no reference answer")
    reply = grade(str(target).strip(), answer)
    details = {"method": reply["method"]}
    for key in ("extraction", "equivalence", "reference", "reference_reason", "error"):
        if key in reply:
            details[key] = reply[key]
    return Score(1.0 if reply["correct"] else 0.0, extracted=reply["extracted"], details=details)
