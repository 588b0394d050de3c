"""Whether a judge server someone else runs renders a chat message verbatim.

A classifier judge's prompt is its model's whole input (``cotbench.judge.classifiers``); a server
that applies the model's own chat template would wrap it a second time and the classifier would
judge something else, with outputs that still parse. vLLM's ``/tokenize`` shows what the server
makes of a chat message: rendered verbatim, its tokens are those of the bare text with the
tokenizer's special tokens (BOS).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

_PROBE = "cotbench probe: is this message rendered verbatim?"


def _post(url: str, body: dict[str, Any], timeout: float) -> list[int] | None:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            reply = json.loads(r.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None
    tokens = reply.get("tokens") if isinstance(reply, dict) else None
    return tokens if isinstance(tokens, list) and tokens else None


def renders_verbatim(base_url: str, model: str, timeout: float = 10.0) -> bool | None:
    """True: the server renders one user message as the text itself after BOS; False: it wraps
    it in a template; None: it cannot tell (no vLLM-style ``/tokenize``)."""
    root = base_url.rstrip("/").removesuffix("/v1")
    chat = _post(root + "/tokenize", {"model": model, "messages": [{"role": "user", "content": _PROBE}],
                                      "add_generation_prompt": True}, timeout)
    bare = _post(root + "/tokenize", {"model": model, "prompt": _PROBE, "add_special_tokens": True}, timeout)
    if chat is None or bare is None:
        return None
    return chat == bare
