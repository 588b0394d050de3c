"""The ``ifeval`` scorer: instruction following, judged by lm-eval's own IFEval checkers.

The item carries ``instruction_id_list``, ``kwargs`` and ``prompt`` as in IFEval's
``input_data.jsonl``. Score = prompt-level strict accuracy (1 only if every instruction is
followed); details carry the instruction-level strict and loose results and the prompt-level
loose result, so the four standard IFEval metrics can be aggregated from records.

Offline use: lm-eval's IFEval module downloads NLTK's ``punkt_tab`` tokenizer data *when it is
imported* if the data is missing. We check for the data first and refuse with a one-line
error instead of letting an evaluation reach for the network; install it once with
``python -m nltk.downloader punkt_tab`` (or copy it into a directory on ``NLTK_DATA``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from cotbench.errors import CotbenchError, MissingDependencyError
from cotbench.scoring.base import Score, register_scorer

NLTK_RESOURCE = "tokenizers/punkt_tab"


def _require_punkt() -> None:
    try:
        import nltk
    except ImportError:
        raise MissingDependencyError("nltk", "the ifeval scorer") from None
    try:
        nltk.data.find(NLTK_RESOURCE)
    except LookupError:
        raise CotbenchError(
            "the ifeval scorer needs NLTK's 'punkt_tab' data, which is not installed and is not downloaded "
            "automatically: run 'python -m nltk.downloader punkt_tab' or put it in a directory on NLTK_DATA"
        ) from None


@functools.cache
def _lm_eval_ifeval() -> ModuleType:
    """lm-eval's IFEval utils module, imported only once the tokenizer data is known present."""
    try:
        from lm_eval.tasks.ifeval import utils
    except ImportError as exc:
        raise MissingDependencyError(exc.name or "lm-eval", "the ifeval scorer") from None
    return utils


def checker() -> ModuleType:
    _require_punkt()  # checked on every call: the data can disappear or arrive between runs
    return _lm_eval_ifeval()


def _validate(item: Mapping[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    ids = item.get("instruction_id_list")
    kwargs = item.get("kwargs")
    if not isinstance(ids, list) or not ids:
        raise CotbenchError("ifeval scorer: the item has no instruction_id_list")
    if not isinstance(kwargs, list) or len(kwargs) != len(ids):
        raise CotbenchError("ifeval scorer: the item's kwargs must be a list with one dict per instruction")
    return [str(i) for i in ids], [dict(k or {}) for k in kwargs]


@register_scorer("ifeval")
def score_ifeval(answer: str, target: Any, item: Mapping[str, Any], truncated: bool) -> Score:
    ids, kwargs = _validate(item)
    if truncated or not answer.strip():
        misses = [False] * len(ids)
        return Score(0.0, details={"instruction_ids": ids, "inst_strict": misses, "inst_loose": misses,
                                   "prompt_loose": False, "reason": "truncated" if truncated else "empty answer"})
    utils = checker()
    unknown = [i for i in ids if i not in utils.instructions_registry.INSTRUCTION_DICT]
    if unknown:
        raise CotbenchError(f"ifeval scorer: unknown instruction id(s) {', '.join(unknown)}")
    example = utils.InputExample(key=item.get("key", 0), instruction_id_list=ids,
                                 prompt=str(item.get("prompt", "")), kwargs=kwargs)
    strict = utils.test_instruction_following_strict(example, answer)
    loose = utils.test_instruction_following_loose(example, answer)
    return Score(
        1.0 if strict.follow_all_instructions else 0.0,
        details={
            "instruction_ids": ids,
            "inst_strict": list(strict.follow_instruction_list),
            "inst_loose": list(loose.follow_instruction_list),
            "prompt_loose": bool(loose.follow_all_instructions),
        },
    )
