"""Turn what a job's children left into a ``SandboxResult``: the judge's event lines (only those
tagged with the job's nonce), the status and first error, and the tails of the program's output.
Separate because it only reads, so it can be checked apart from launching processes.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from cotbench.sandbox.jobs import SandboxResult


def output_tail(path: Path, limit: int) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 4 * limit))
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return text[-limit:]


def read_events(report: str, nonce: str) -> list[dict[str, Any]]:
    """The judge's messages (lines tagged with this job's nonce)."""
    events = []
    for line in report.splitlines():
        tag, _, payload = line.partition(" ")
        if tag == nonce:
            try:
                msg = json.loads(payload)
            except json.JSONDecodeError:
                continue
            if isinstance(msg, dict):
                events.append(msg)
    return events


def collect(events: list[dict[str, Any]], n: int, timed_out: bool, returncode: int | None, oom: bool,
             duration: float, layers: tuple[str, ...]) -> SandboxResult:
    outcomes = [False] * n
    loaded: bool | None = None
    finished = gone = False
    error = None
    for msg in events:
        event = msg.get("event")
        if event == "load":
            loaded = msg.get("ok") is True
        elif event == "test" and type(msg.get("index")) is int and 0 <= msg["index"] < n:
            outcomes[msg["index"]] = msg.get("ok") is True
        elif event == "gone":
            gone = True
        elif event == "done":
            finished = True
        if isinstance(msg.get("error"), str) and error is None:
            error = msg["error"]
    if timed_out:
        status, error = "timeout", error or "timed out"
    elif loaded is False:
        status = "load_error"
    elif finished and not gone:
        status = "ok"
    else:
        status = "crashed"
        why = "the memory limit" if oom else f"exit status {returncode}"
        error = f"{error} ({why})" if error else f"the program's process ended early ({why})"
    if error:
        error = re.sub(r"\s+", " ", error)[:300]
    return SandboxResult(status, sum(outcomes), n, outcomes, error, "", "", returncode, round(duration, 3), layers)
