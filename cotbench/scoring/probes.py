"""Exact scorers for cotbench's procedural probe tasks (no judge, no tolerance)."""

from __future__ import annotations

import ast
import datetime as dt
import operator
import re
from collections import Counter
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from cotbench.scoring.base import Score, register_scorer
from cotbench.scoring.extract import ANSWER_IS_OR_COLON, anchored_rests, last_boxed, last_line


def final_answer(text: str) -> str | None:
    """The committed answer: last \\boxed{}, else the last 'answer is/Answer:' line, else the last line."""
    return committed(text)[0]


def committed(text: str) -> tuple[str | None, str]:
    """(the committed answer, how it was found: ``boxed``, ``anchor``, ``last-line`` or ``none``)."""
    boxed = last_boxed(text)
    if boxed is not None:
        return boxed, "boxed"
    rests = anchored_rests(text, ANSWER_IS_OR_COLON)
    if rests:
        return rests[-1].strip().strip("*").strip(), "anchor"
    line = last_line(text)
    return (line.strip(), "last-line") if line is not None else (None, "none")


def _found(text: str) -> dict[str, str]:
    return {"extraction": committed(text)[1]}


_INT = re.compile(r"-?\d[\d,]*")


@register_scorer("integer", metrics=("accuracy",))
def score_integer(answer: str, target: Any, item: Mapping[str, Any], truncated: bool) -> Score:
    """The last integer of the committed answer must equal the target."""
    found = final_answer(answer)
    nums = _INT.findall(found or "")
    if not nums:
        return Score(0.0, None, details=_found(answer))
    got = nums[-1].replace(",", "")
    return Score(float(int(got) == int(target)), got, details=_found(answer))


@register_scorer("word_option", metrics=("accuracy",))
def score_word_option(answer: str, target: Any, item: Mapping[str, Any], truncated: bool) -> Score:
    """One of ``item['options']`` (e.g. True/False); the last option named in the answer counts."""
    found = final_answer(answer) or ""
    options: list[str] = list(item.get("options", []))
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, options)) + r")\b", re.IGNORECASE)
    hits = pattern.findall(found)
    how = _found(answer)
    if not hits:
        hits, how = pattern.findall(answer), {"extraction": "last-option"}
    if not hits:
        return Score(0.0, None, details={"extraction": "none"})
    got = hits[-1].lower()
    return Score(float(got == str(target).lower()), got, details=how)


_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")


@register_scorer("date", metrics=("accuracy",))
def score_date(answer: str, target: Any, item: Mapping[str, Any], truncated: bool) -> Score:
    """The last ISO date (YYYY-MM-DD) in the committed answer must be the target date."""
    found = final_answer(answer) or ""
    dates = _DATE.findall(found)
    how = _found(answer)
    if not dates:
        dates, how = _DATE.findall(answer), {"extraction": "last-date"}
    if not dates:
        return Score(0.0, None, details={"extraction": "none"})
    try:
        got = dt.date(*map(int, dates[-1])).isoformat()
    except ValueError:
        return Score(0.0, "-".join(dates[-1]), details={**how, "error": "not a calendar date"})
    return Score(float(got == target), got, details=how)


@register_scorer("word_list", metrics=("accuracy",))
def score_word_list(answer: str, target: Any, item: Mapping[str, Any], truncated: bool) -> Score:
    """The committed answer's words, in order, must be exactly the target list."""
    found = final_answer(answer) or ""
    words = re.findall(r"[A-Za-z]+", found)
    got = [w.lower() for w in words]
    return Score(float(got == [t.lower() for t in target]), " ".join(got), details=_found(answer))


_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def _eval_arith(node: ast.AST, used: list[int]) -> Fraction:
    if isinstance(node, ast.Expression):
        return _eval_arith(node.body, used)
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        used.append(node.value)
        return Fraction(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        left, right = _eval_arith(node.left, used), _eval_arith(node.right, used)
        if isinstance(node.op, ast.Div) and right == 0:
            raise ZeroDivisionError
        return _OPS[type(node.op)](left, right)
    raise ValueError("only integers, + - * / and parentheses are allowed")


def _expression_of(text: str) -> str | None:
    found = final_answer(text)
    if not found:
        return None
    found = found.replace("\\times", "*").replace("×", "*").replace("\\cdot", "*").replace("÷", "/")
    found = found.replace("\\left", "").replace("\\right", "").replace("$", "").strip()
    # "expr = 24": keep the side that is an expression.
    sides = [s.strip() for s in found.split("=") if s.strip()]
    candidates = [s for s in sides if re.search(r"[+\-*/]", s)]
    return candidates[0] if candidates else (sides[0] if sides else None)


@register_scorer("countdown", metrics=("accuracy",))
def score_countdown(answer: str, target: Any, item: Mapping[str, Any], truncated: bool) -> Score:
    """Countdown: an expression using each given number exactly once that equals the target."""
    expr = _expression_of(answer)
    how = _found(answer)
    if not expr or len(expr) > 200:
        return Score(0.0, expr, details=how)
    try:
        used: list[int] = []
        value = _eval_arith(ast.parse(expr, mode="eval"), used)
    except (SyntaxError, ValueError, ZeroDivisionError, RecursionError):
        return Score(0.0, expr, details={**how, "error": "not a valid arithmetic expression"})
    numbers_ok = Counter(used) == Counter(item["numbers"])
    correct = numbers_ok and value == Fraction(int(target))
    return Score(float(correct), expr, details={**how, "value": str(value), "numbers_ok": numbers_ok})
