"""Absolute local paths out of published provenance: ``/home/alice/ckpts/run1/checkpoint-640``
becomes ``…/run1/checkpoint-640`` (the last two parts, what the run's label already shows).

Only provenance goes through here (model specs, paths, task sources, warnings); model output
on the sample pages is shown as it was written.
"""

from __future__ import annotations

import re
from collections.abc import Callable

KEEP = 2  # trailing path parts kept: enough to tell checkpoints apart, not whose disk they are on
ELLIPSIS = "…"
_STOP = r"""\s'"`,;()\[\]{}<>|"""
# A path starts the text, follows a delimiter, or follows a scheme-like prefix (``hf:/x``,
# ``C:\x``); a slash that is followed by another slash (``https://``) is no local path.
_PATH = re.compile(
    rf"(?P<pre>^|[\s(\[{{<=,;'\"`]|(?<![\w/.\\])[A-Za-z][\w+.-]*:)"
    rf"(?P<path>~?[/\\](?![/\\])[^{_STOP}]*|~(?=[{_STOP}]|$))"
)
_FILE_URL = re.compile(rf"file://(?P<path>/[^{_STOP}]*)")


def _short(path: str) -> str:
    parts = [p for p in re.split(r"[/\\]", path) if p and p != "~"]
    return ELLIPSIS + "/" + "/".join(parts[-KEEP:]) if parts else ELLIPSIS


def redact_paths(text: str) -> str:
    """``text`` with every absolute or home-relative local path cut to its last two parts;
    URLs (``https://…``) and relative paths (``run1/checkpoint-640``) stay as they are."""
    if "/" not in text and "\\" not in text and "~" not in text:
        return text
    text = _FILE_URL.sub(lambda m: "file://" + _short(m.group("path")), text)
    return _PATH.sub(lambda m: m.group("pre") + _short(m.group("path")), text)


def redactor(enabled: bool) -> Callable[[object], str]:
    """The function every provenance string goes through: ``redact_paths``, or ``str`` when off."""
    if not enabled:
        return lambda value: "" if value is None else str(value)
    return lambda value: "" if value is None else redact_paths(str(value))
