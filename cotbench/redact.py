"""Absolute local paths out of published provenance: ``/home/alice/ckpts/run1/checkpoint-640``
becomes ``…/run1/checkpoint-640`` (the last two parts, what the run's label already shows).

Used by the leaderboard (what it shows) and by ``cotbench push`` (what it uploads). Only
provenance goes through here (model specs, paths, task sources, errors, scorer modes); prompts
and model output are left as they were written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

KEEP = 2  # trailing path parts kept: enough to tell checkpoints apart, not whose disk they are on
ELLIPSIS = "…"
_STOP = r"""\s'"`,;()\[\]{}<>|"""
# A path starts the text, follows a delimiter, or follows a scheme-like prefix (``hf:/x``,
# ``C:\x``); a slash that is followed by another slash (``https://``) is no local path, and a
# lone slash (``MIT / Apache-2.0``) names no place.
_PATH = re.compile(
    rf"(?P<pre>^|[\s(\[{{<=,;'\"`]|(?<![\w/.\\])[A-Za-z][\w+.-]*:)"
    rf"(?P<path>~?[/\\](?![/\\])[^{_STOP}]+|~(?=[{_STOP}]|$))"
)
_FILE_URL = re.compile(rf"file://(?P<path>/[^{_STOP}]*)")
_WHOLE_PATH = re.compile(r"~?[/\\][^\s]+|[A-Za-z]:\\[^\s]*")


def _short(path: str, rooted: bool) -> str:
    parts = [p for p in re.split(r"[/\\]", path) if p and p != "~" and p != ELLIPSIS]
    head = ("/" if rooted else "") + ELLIPSIS
    return head + "/" + "/".join(parts[-KEEP:]) if parts else head


def redact_paths(text: str, rooted: bool = False) -> str:
    """``text`` with every absolute or home-relative local path cut to its last two parts;
    URLs (``https://…``) and relative paths (``run1/checkpoint-640``) stay as they are.

    ``rooted`` keeps a cut path absolute (``/…/run1/checkpoint-640``), so that code reading a
    results file still sees a local path (a checkpoint series is grouped by its folder)."""
    if "/" not in text and "\\" not in text and "~" not in text:
        return text
    text = _FILE_URL.sub(lambda m: "file://" + _short(m.group("path"), rooted), text)
    return _PATH.sub(lambda m: m.group("pre") + _short(m.group("path"), rooted), text)


def redactor(enabled: bool) -> Callable[[object], str]:
    """The function every provenance string goes through: ``redact_paths``, or ``str`` when off."""
    if not enabled:
        return lambda value: "" if value is None else str(value)
    return lambda value: "" if value is None else redact_paths(str(value))


def redact_json(value: Any, whole_only: frozenset[str] = frozenset(), only: frozenset[str] | None = None,
                key: str | None = None, inside: bool = False) -> Any:
    """``value`` (parsed JSON) with local paths cut in its strings (rooted, see ``redact_paths``).

    Keys in ``whole_only`` hold text that is content (a chat template, a system prompt): it is cut
    only when the whole value is one path. With ``only``, strings are cut only under those keys
    (a sample's scorer details, not its prompt or output). Keys are never changed."""
    if isinstance(value, dict):
        return {k: redact_json(v, whole_only, only, k, inside or (only is not None and k in only))
                for k, v in value.items()}
    if isinstance(value, list):
        return [redact_json(v, whole_only, only, key, inside) for v in value]
    if not isinstance(value, str) or (only is not None and not inside):
        return value
    if key in whole_only:
        return redact_paths(value, rooted=True) if _WHOLE_PATH.fullmatch(value) else value
    return redact_paths(value, rooted=True)


def redact_json_text(text: str, whole_only: frozenset[str] = frozenset(), indent: int | None = 2) -> str:
    """A JSON document with its local paths cut; the text as it was when there were none."""
    data = json.loads(text)
    cut = redact_json(data, whole_only)
    if cut == data:
        return text
    return json.dumps(cut, indent=indent, ensure_ascii=False) + "\n"
