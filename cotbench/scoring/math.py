"""The ``math`` scorer: final-answer extraction plus symbolic equivalence via math-verify.

Extraction, in order:
1. ``\\boxed{...}`` / ``\\fbox{...}`` (balanced braces, so nested braces work). With several
   boxed answers the *last* top-level one is the answer; only when the reference is a set of
   several values (e.g. ``1, -2``) and the model boxed each value separately are all boxed
   values compared together as a set (a second attempt after the last box alone).
2. Anchors: ``#### X`` (GSM8K), ``The final answer is X``, ``Answer: X`` (the last one wins).
3. Otherwise math-verify's own search of the whole answer (rightmost LaTeX or number).

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
    r"(?:####|\b(?:final answer|the answer|answer)\b\s*(?:is\s*[:=]?|[:=]))[ \t]*(?P<ans>[^\n]+)",
    re.IGNORECASE,
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


def anchored_answer(text: str) -> str | None:
    """Text after the last ``####`` / ``the answer is`` / ``Answer:`` on its line."""
    found = None
    for m in _ANCHOR_RE.finditer(text):
        found = m.group("ans")
    if found is None:
        return None
    found = found.strip().rstrip(".").strip()
    return found or None


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
    attempts: list[tuple[str, str, str]] = []  # (method, text to parse, extracted string)
    if boxes:
        attempts.append(("boxed", f"\\boxed{{{boxes[-1]}}}", boxes[-1]))
        if len(boxes) > 1 and multi:
            joined = ", ".join(boxes)
            attempts.append(("boxed_set", f"\\boxed{{{joined}}}", joined))
    elif (anchored := anchored_answer(answer)) is not None:
        attempts.append(("anchor", anchored, anchored))
    else:
        attempts.append(("search", answer, ""))

    first_extracted: str | None = None
    for method, text, extracted in attempts:
        pred = _parse(text)
        shown = extracted or (str(pred[-1]) if pred else "")
        if first_extracted is None:
            first_extracted = shown or None
        if pred and verify(gold, pred, timeout_seconds=VERIFY_TIMEOUT_S):
            return {"correct": True, "extracted": shown or None, "method": method}
    return {"correct": False, "extracted": first_extracted, "method": attempts[0][0]}


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
    if "error" in reply:
        details["error"] = reply["error"]
    return Score(1.0 if reply["correct"] else 0.0, extracted=reply["extracted"], details=details)
