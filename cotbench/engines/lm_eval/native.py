"""What only native lm-eval use of a cotbench task needs (``lm_eval --include_path tasks``):
a warning when lm-eval sends a chat model cotbench's prompts without its chat template, and
one-line errors at the ``lm_eval`` command line.

Inside ``cotbench run`` neither applies: its generator renders the chat template itself and its
CLI prints errors as one line.
"""

from __future__ import annotations

import functools
import logging
import sys
from pathlib import Path
from types import TracebackType
from typing import Any

from cotbench.errors import CotbenchError, one_line

# A child of lm-eval's logger: shown with lm-eval's format, at its --verbosity.
log = logging.getLogger("lm_eval.cotbench")

# The model arguments (``--model_args``) that name the tokenizer, in the order lm-eval's model
# classes prefer them. lm-eval hands every model argument to the tasks as metadata.
TOKENIZER_ARGS = ("tokenizer", "pretrained", "model")


def chat_template_missing(task: str, metadata: dict[str, Any], apply_chat_template: bool) -> str | None:
    """The warning for ``task`` when lm-eval will not apply a chat template that the model's
    tokenizer has (None otherwise). Without it an instruct model reads cotbench's prompt as raw
    text and often answers nothing, which scores 0 without any error."""
    if apply_chat_template:
        return None
    name = tokenizer_with_chat_template(metadata)
    if name is None:
        return None
    return (f"{task}: the tokenizer of {name} has a chat template, but lm-eval is not applying it: cotbench "
            "prompts are chat turns, and an instruct model given them as raw text may answer nothing and "
            "score 0. Add --apply_chat_template (apply_chat_template=True in simple_evaluate).")


def tokenizer_with_chat_template(metadata: dict[str, Any]) -> str | None:
    """The tokenizer the model arguments name, if it has a chat template; None when it has none
    or cannot be read from local files (the model class has already downloaded it by now)."""
    for key in TOKENIZER_ARGS:
        value = metadata.get(key)
        if isinstance(value, str) and value:
            found = _has_chat_template(value, _text(metadata.get("revision")), _text(metadata.get("subfolder")),
                                       _text(metadata.get("gguf_file")), bool(metadata.get("trust_remote_code", False)))
            return value if found else None
        if getattr(value, "chat_template", None):  # a tokenizer object (simple_evaluate's model_args)
            return type(value).__name__
    return None


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


@functools.lru_cache(maxsize=32)
def _has_chat_template(name: str, revision: str | None, subfolder: str | None, gguf_file: str | None,
                       trust_remote_code: bool) -> bool:
    try:
        from transformers import AutoTokenizer

        kwargs = {k: v for k, v in (("subfolder", subfolder), ("gguf_file", gguf_file)) if v}
        tok = AutoTokenizer.from_pretrained(name, revision=revision, trust_remote_code=trust_remote_code,
                                            local_files_only=True, **kwargs)
    except Exception:  # noqa: BLE001 - an API model's name, a missing file, ...: nothing to warn about
        return False
    return bool(getattr(tok, "chat_template", None))


def warn_without_chat_template(task: str, metadata: dict[str, Any], apply_chat_template: bool) -> None:
    message = chat_template_missing(task, metadata, apply_chat_template)
    if message is not None:
        log.warning(message)


def in_lm_eval_cli() -> bool:
    """Whether this process is the ``lm_eval`` command (console script or ``python -m lm_eval``)."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    if spec is not None and spec.name in ("lm_eval", "lm_eval.__main__"):
        return True
    return bool(sys.argv) and Path(sys.argv[0]).name in ("lm_eval", "lm-eval")


def one_line_errors_at_cli() -> None:
    """At the ``lm_eval`` command line, end on a cotbench error (missing data, a bad subset) with
    its one-line message instead of a traceback. lm-eval's CLI catches nothing, so this is
    Python's hook for uncaught exceptions; the exception itself still propagates (a program
    calling lm-eval can catch it), and every other exception keeps its traceback."""
    if not in_lm_eval_cli() or getattr(sys.excepthook, "cotbench", False):
        return
    previous = sys.excepthook

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if isinstance(value, CotbenchError):
            print(f"error: {one_line(value)}", file=sys.stderr)
        else:
            previous(kind, value, tb)

    hook.cotbench = True  # type: ignore[attr-defined]  # a marker attribute on a function: typing cannot declare one
    sys.excepthook = hook
