"""The ``math`` scorer: final-answer extraction plus symbolic equivalence via math-verify.

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
``last-expression``, or ``none``.

Equivalence (fractions, radicals, intervals, thousands separators, ``\\text{}``, units,
percentages, degrees, ``\\dfrac``) is math-verify's ``verify``; we only normalise ``°``.

Why a worker process: math-verify bounds its time with ``signal.alarm``, which only works in
the main thread, and a sympy call stuck in C code (a huge power, a factorial) ignores signals
anyway. Grading therefore runs in a small pool of long-lived child processes that use
math-verify's own timeouts in their main thread; the parent adds a hard wall-clock limit and
kills and replaces a worker that overruns. This works from any thread or event loop.
"""

from __future__ import annotations

import atexit
import json
import os
import queue
import re
import select
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cotbench.errors import CotbenchError
from cotbench.scoring.base import Score, register_scorer

PARSE_TIMEOUT_S = 2  # math-verify's own per-parse and per-comparison limits (whole seconds)
VERIFY_TIMEOUT_S = 2
HARD_TIMEOUT_S = 8.0  # parent-side wall clock per sample; a worker past it is killed
WORKER_MEMORY_BYTES = 4 << 30
_WORKER_START_TIMEOUT_S = 120.0
_MAX_WORKERS = max(1, min(4, os.cpu_count() or 1))

# ---------------------------------------------------------------- extraction (no sympy)

_BOX_RE = re.compile(r"\\(?:boxed|fbox)\b")
_ANCHOR_RE = re.compile(
    r"####|\b(?:final answer|the answer|answer)\b[*_]*\s*(?:is\b\s*[:=]?|[:=])", re.IGNORECASE
)
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


def _first_expression(clause: str) -> str | None:
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
    """(the last anchor, lower-cased, and the first expression of its clause), or None."""
    matches = list(_ANCHOR_RE.finditer(text))
    if not matches:
        return None
    found = matches[-1]
    # The clause may start on a later line ("Final answer:\n\n$$..$$"); it ends with its sentence.
    start = len(text) - len(text[found.end() :].lstrip(" \t\r\n*_:"))
    end = next((m.start() for m in _CLAUSE_RE.finditer(text, start) if m.group("end")), len(text))
    label = re.sub(r"\s+", " ", re.sub(r"[*_]", "", found.group(0))).strip().lower()
    return label, _first_expression(text[start:end])


def anchored_answer(text: str) -> str | None:
    """The expression right after the last ``####`` / ``the answer is`` / ``Answer:``."""
    anchor = last_anchor(text)
    return anchor[1] if anchor else None


def _normalise(text: str) -> str:
    # math-verify reads ``^\circ`` but not the Unicode degree sign.
    return text.replace("°", "^{\\circ}")


# ---------------------------------------------------------------- grading (runs in a worker)

def _grade(target: str, answer: str) -> dict[str, Any]:
    """Extract and verify; called inside a worker process (main thread, so signals work)."""
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify
    from sympy import FiniteSet

    configs = [LatexExtractionConfig(), ExprExtractionConfig()]

    def _parse(text: str) -> list[Any]:
        return parse(text, extraction_config=configs, parsing_timeout=PARSE_TIMEOUT_S)

    gold = _parse(f"\\boxed{{{_normalise(target)}}}") or _parse(_normalise(target))
    if not gold:
        return {"correct": False, "extracted": None, "method": "none", "error": "target not parseable"}
    multi = any(isinstance(g, FiniteSet) and len(g) > 1 for g in gold)

    answer = _normalise(answer)
    boxes = [content for _, _, content in boxed_spans(answer)]
    attempts: list[tuple[str, str, str, str]] = []  # (method, extraction, text to parse, extracted)
    anchor = None if boxes else last_anchor(answer)
    if boxes:
        attempts.append(("boxed", "boxed", f"\\boxed{{{boxes[-1]}}}", boxes[-1]))
        if len(boxes) > 1 and multi:
            joined = ", ".join(boxes)
            attempts.append(("boxed_set", "boxed-set", f"\\boxed{{{joined}}}", joined))
    elif anchor and anchor[1] and _parse(f"\\boxed{{{anchor[1]}}}"):
        # Boxed, so math-verify reads bare LaTeX ("2x + 1", "(1, 2]") whole instead of taking its
        # last number; its parses are cached, so checking here first costs little.
        attempts.append(("anchor", f"anchor:{anchor[0]}", f"\\boxed{{{anchor[1]}}}", anchor[1]))
    else:
        attempts.append(("search", "last-expression", answer, ""))

    first: tuple[str | None, str] | None = None  # (extracted, extraction) of the first attempt
    for method, extraction, text, extracted in attempts:
        pred = _parse(text)
        shown = extracted or (str(pred[-1]) if pred else "")
        extraction = extraction if pred or extracted else "none"  # an unparseable box is still "boxed"
        if first is None:
            first = (shown or None, extraction)
        if pred and verify(gold, pred, timeout_seconds=VERIFY_TIMEOUT_S):
            return {"correct": True, "extracted": shown or None, "method": method, "extraction": extraction}
    assert first is not None
    return {"correct": False, "extracted": first[0], "method": attempts[0][0], "extraction": first[1]}


def _serve() -> None:
    """Worker loop: one JSON request per stdin line, one JSON reply per stdout line."""
    import logging
    import resource

    logging.disable(logging.WARNING)  # math-verify logs every timeout; replies carry it instead
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
            reply = {"correct": False, "extracted": None, "method": "none", "error": "memory limit"}
        except Exception as exc:  # a bad input must not kill the worker
            reply = {"correct": False, "extracted": None, "method": "none", "error": type(exc).__name__}
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


def grade(target: str, answer: str) -> dict[str, Any]:
    """Grade ``answer`` against ``target`` in a worker; a timeout is an incorrect answer."""
    reply = _POOL.grade(target, answer)
    if reply is None:
        return {"correct": False, "extracted": None, "method": "none", "error": "timeout"}
    return reply


@register_scorer("math")
def score_math(answer: str, target: Any, item: Mapping[str, Any], truncated: bool) -> Score:
    if truncated or not answer.strip():
        return Score(0.0, details={"reason": "truncated" if truncated else "empty answer"})
    if target is None or not str(target).strip():
        raise CotbenchError("math scorer: the item has no reference answer")
    reply = grade(str(target).strip(), answer)
    details = {"method": reply["method"]}
    for key in ("extraction", "error"):
        if key in reply:
            details[key] = reply[key]
    return Score(1.0 if reply["correct"] else 0.0, extracted=reply["extracted"], details=details)
