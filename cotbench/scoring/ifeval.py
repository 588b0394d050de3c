"""The ``ifeval`` scorer: instruction following, judged by lm-eval's own IFEval checkers.

The item carries ``instruction_id_list``, ``kwargs`` and ``prompt`` as in IFEval's
``input_data.jsonl``. Score = prompt-level strict accuracy (1 only if every instruction is
followed); details carry the instruction-level strict and loose results and the prompt-level
loose result, so the four standard IFEval metrics can be aggregated from records.

Offline use: lm-eval's IFEval module downloads NLTK's ``punkt_tab`` tokenizer data *when it is
imported* if the data is missing. cotbench never lets an evaluation reach for the network:
when the trained data is absent (install it with ``python -m nltk.downloader punkt_tab``),
it uses an *untrained* Punkt model (sentence ends at ., ! and ?, plus a short list of common
English abbreviations) written to cotbench's cache, and marks every record with
``details["sentence_splitter"] = "punkt-untrained"`` and scorer mode ``ifeval+punkt-untrained``,
so results from the two splitters are never mixed silently. Only the instructions that count
sentences depend on the splitter.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from cotbench.errors import CotbenchError, MissingDependencyError
from cotbench.scoring.base import Score, register_scorer

NLTK_RESOURCE = "tokenizers/punkt_tab"
UNTRAINED = "punkt-untrained"
# Abbreviations whose period does not end a sentence (lower case, no final period).
_ABBREVIATIONS = ("dr", "mr", "mrs", "ms", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e", "fig", "no",
                  "inc", "ltd", "co", "corp", "dept", "approx", "a.m", "p.m", "u.s", "jan", "feb", "mar", "apr",
                  "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mt", "ave", "vol", "ed", "est")


def _write_untrained_punkt(root: Any) -> None:
    model = root / "tokenizers" / "punkt_tab" / "english"
    model.mkdir(parents=True, exist_ok=True)
    for name in ("collocations.tab", "sent_starters.txt", "ortho_context.tab"):
        (model / name).write_text("", encoding="utf-8")
    (model / "abbrev_types.txt").write_text("\n".join(_ABBREVIATIONS) + "\n", encoding="utf-8")


def _require_punkt() -> str:
    """Which sentence splitter lm-eval's checkers will use: NLTK's trained ``punkt_tab`` when
    installed, else cotbench's untrained fallback (made available on NLTK's data path)."""
    try:
        import nltk
    except ImportError:
        raise MissingDependencyError("nltk", "the ifeval scorer") from None
    try:
        path = nltk.data.find(NLTK_RESOURCE)
    except LookupError:
        from cotbench.paths import cache_dir

        root = cache_dir() / "nltk_data"
        if not (root / "tokenizers" / "punkt_tab" / "english" / "abbrev_types.txt").is_file():
            _write_untrained_punkt(root)
        if str(root) not in nltk.data.path:
            nltk.data.path.append(str(root))
        return UNTRAINED
    return UNTRAINED if "cotbench" in str(path) else "punkt_tab"


@functools.cache
def _lm_eval_ifeval() -> ModuleType:
    """lm-eval's IFEval utils module, imported only once the tokenizer data is known present."""
    try:
        from lm_eval.tasks.ifeval import utils
    except ImportError as exc:
        raise MissingDependencyError(exc.name or "lm-eval", "the ifeval scorer") from None
    return utils


def checker() -> tuple[ModuleType, str]:
    splitter = _require_punkt()  # checked on every call: the data can disappear or arrive between runs
    return _lm_eval_ifeval(), splitter


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
    utils, splitter = checker()
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
            "sentence_splitter": splitter,
            "scorer_mode": "ifeval" if splitter == "punkt_tab" else f"ifeval+{splitter}",
        },
    )
