"""Procedural, contamination-free probe tasks generated from a seed.

``GENERATOR_VERSION`` is part of every probe task's content hash (this file's source is
hashed too), so changing a generator never lets old and new numbers mix.
"""

from __future__ import annotations

import datetime as dt
import random
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from cotbench.tasks.loaders import Row, register_loader

if TYPE_CHECKING:
    from cotbench.tasks.taskdef import TaskDef

GENERATOR_VERSION = "1"


def _rng(task: TaskDef) -> random.Random:
    # random.Random(int) is stable across Python versions and platforms.
    return random.Random(f"cotbench:{task.source.loader}:{task.source.seed}:{GENERATOR_VERSION}")


def _n(task: TaskDef) -> int:
    return task.source.n or 100


@register_loader("countdown")
def countdown(task: TaskDef, data_dir: Path | None) -> list[Row]:
    """Four numbers and a target reachable by combining all four with + - * /."""
    rng = _rng(task)
    rows: list[Row] = []
    while len(rows) < _n(task):
        numbers = [rng.randint(1, 12) for _ in range(3)] + [rng.choice([2, 3, 5, 10, 25])]
        target = _random_combination(rng, [Fraction(x) for x in numbers])
        if target is None or target.denominator != 1 or not 10 <= target <= 200:
            continue
        shown = numbers[:]
        rng.shuffle(shown)
        rows.append({"id": f"countdown-{len(rows):04d}", "numbers": shown, "numbers_text": ", ".join(map(str, shown)),
                     "target": int(target)})
    return rows


def _random_combination(rng: random.Random, values: list[Fraction]) -> Fraction | None:
    pool = values[:]
    while len(pool) > 1:
        a = pool.pop(rng.randrange(len(pool)))
        b = pool.pop(rng.randrange(len(pool)))
        op = rng.choice("+-*/")
        if op == "/" and b == 0:
            return None
        pool.append({"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else a}[op])
    return pool[0]


@register_loader("arithmetic")
def arithmetic(task: TaskDef, data_dir: Path | None) -> list[Row]:
    """Multi-step integer arithmetic with parentheses, e.g. (17 + 8) * 3 - 12."""
    rng = _rng(task)
    rows: list[Row] = []
    for i in range(_n(task)):
        a, b, c, d = (rng.randint(2, 30) for _ in range(4))
        op1, op2 = rng.choice("+-"), rng.choice("+-")
        expr = f"({a} {op1} {b}) * {c} {op2} {d}"
        rows.append({"id": f"arith-{i:04d}", "expression": expr, "target": int(eval(expr))})  # noqa: S307 - our own literal
    return rows


def _bool_expr(rng: random.Random, depth: int) -> str:
    if depth == 0:
        return rng.choice(["True", "False"])
    kind = rng.random()
    if kind < 0.25:
        return f"not {_bool_expr(rng, depth - 1)}"
    op = rng.choice(["and", "or"])
    return f"({_bool_expr(rng, depth - 1)} {op} {_bool_expr(rng, depth - 1)})"


@register_loader("boolean_logic")
def boolean_logic(task: TaskDef, data_dir: Path | None) -> list[Row]:
    """Nested boolean expressions; the answer is True or False."""
    rng = _rng(task)
    rows: list[Row] = []
    seen: set[str] = set()
    while len(rows) < _n(task):
        expr = _bool_expr(rng, rng.randint(2, 3))
        if expr in seen:
            continue
        seen.add(expr)
        value = eval(expr, {"__builtins__": {}}, {})  # noqa: S307 - generated from True/False/and/or/not only
        rows.append({"id": f"bool-{len(rows):04d}", "expression": expr, "options": ["True", "False"],
                     "target": str(bool(value))})
    return rows


@register_loader("date_arithmetic")
def date_arithmetic(task: TaskDef, data_dir: Path | None) -> list[Row]:
    """The calendar date N days after or before a given date (leap years included)."""
    rng = _rng(task)
    rows: list[Row] = []
    for i in range(_n(task)):
        start = dt.date(1990, 1, 1) + dt.timedelta(days=rng.randint(0, 15000))
        days = rng.randint(1, 400)
        direction = rng.choice(["after", "before"])
        end = start + dt.timedelta(days=days if direction == "after" else -days)
        rows.append({"id": f"date-{i:04d}", "start": start.isoformat(), "days": days, "direction": direction,
                     "target": end.isoformat()})
    return rows


_WORDS = (
    "apple banana cherry delta echo falcon garden harbor island jungle kettle lemon mango noble ocean "
    "pepper quartz river salmon tiger umbrella violet walnut xenon yellow zebra anchor breeze canyon dragon "
    "ember forest glacier hollow ivory jasper kernel lantern meadow nectar orbit prairie quill raven summit "
    "thistle velvet willow"
).split()


@register_loader("word_sorting")
def word_sorting(task: TaskDef, data_dir: Path | None) -> list[Row]:
    """Sort five to seven words alphabetically."""
    rng = _rng(task)
    rows: list[Row] = []
    for i in range(_n(task)):
        words = rng.sample(_WORDS, rng.randint(5, 7))
        rows.append({"id": f"sort-{i:04d}", "words": ", ".join(words), "target": sorted(words)})
    return rows
