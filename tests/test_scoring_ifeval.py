"""The ifeval scorer: lm-eval's checkers, strict vs loose, offline behaviour, real items."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cotbench.errors import CotbenchError
from cotbench.scoring.base import score_response
from cotbench.scoring.ifeval import score_ifeval

nltk = pytest.importorskip("nltk")
pytest.importorskip("lm_eval")

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ifeval" / "input_data.jsonl"


@pytest.fixture
def punkt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Use the installed punkt_tab data, else an *untrained* stand-in model (empty parameter
    files: sentences split at plain end punctuation), so tests never download anything."""
    try:
        nltk.data.find("tokenizers/punkt_tab")
        return
    except LookupError:
        pass
    model = tmp_path / "tokenizers" / "punkt_tab" / "english"
    model.mkdir(parents=True)
    for name in ("collocations.tab", "sent_starters.txt", "abbrev_types.txt", "ortho_context.tab"):
        (model / name).write_text("")
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path), *nltk.data.path])


def _item(ids: list[str], kwargs: list[dict], prompt: str = "p") -> dict:
    return {"key": 1, "prompt": prompt, "instruction_id_list": ids, "kwargs": kwargs}


def test_missing_tokenizer_data_uses_a_marked_untrained_splitter_without_download(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_download(*_a: object, **_k: object) -> None:
        raise AssertionError("the scorer tried to download NLTK data")

    monkeypatch.setenv("COTBENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(nltk, "download", no_download)
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path / "empty")])
    monkeypatch.setattr(nltk.data, "find", _find_only_in(tmp_path / "cache"))
    s = score_ifeval("First sentence. Dr. Smith agrees. Third one!", None,
                     _item(["length_constraints:number_sentences"], [{"relation": "less than", "num_sentences": 4}]),
                     False)
    assert s.value == 1.0  # 3 sentences: "Dr." is a known abbreviation
    assert s.details["sentence_splitter"] == "punkt-untrained"
    assert s.details["scorer_mode"] == "ifeval+punkt-untrained"


def _find_only_in(root: Path):  # type: ignore[no-untyped-def]
    """nltk.data.find that sees only files under ``root`` (the trained data may be installed)."""
    real_find = nltk.data.find

    def find(resource: str, paths: list[str] | None = None):  # type: ignore[no-untyped-def]
        return real_find(resource, [p for p in nltk.data.path if str(root) in p])

    return find


@pytest.mark.usefixtures("punkt")
def test_hand_checked_instructions() -> None:
    no_comma = _item(["punctuation:no_comma"], [{}])
    assert score_ifeval("No commas here at all.", None, no_comma, False).value == 1.0
    assert score_ifeval("One, two.", None, no_comma, False).value == 0.0

    lower = _item(["change_case:english_lowercase"], [{}])
    assert score_ifeval("all lowercase words here", None, lower, False).value == 1.0
    assert score_ifeval("Not all lowercase", None, lower, False).value == 0.0

    words = _item(["length_constraints:number_words"], [{"relation": "at least", "num_words": 5}])
    assert score_ifeval("one two three four five", None, words, False).value == 1.0
    assert score_ifeval("one two three four", None, words, False).value == 0.0

    sentences = _item(["length_constraints:number_sentences"], [{"relation": "less than", "num_sentences": 3}])
    assert score_ifeval("First sentence. Second sentence.", None, sentences, False).value == 1.0
    assert score_ifeval("One. Two. Three. Four.", None, sentences, False).value == 0.0


@pytest.mark.usefixtures("punkt")
def test_strict_vs_loose_and_per_instruction_details() -> None:
    item = _item(["detectable_format:json_format", "punctuation:no_comma"], [{}, {}])
    answer = 'Sure here is the JSON:\n{"a": 1}'
    score = score_ifeval(answer, None, item, False)
    # Strict: the preamble line breaks the JSON check. Loose drops the first line, so it passes.
    assert score.value == 0.0
    assert score.details["inst_strict"] == [False, True]
    assert score.details["inst_loose"] == [True, True]
    assert score.details["prompt_loose"] is True
    assert score_ifeval('{"a": 1}', None, item, False).value == 1.0


@pytest.mark.usefixtures("punkt")
def test_prompt_dependent_instruction_uses_the_item_prompt() -> None:
    prompt = "Repeat this request first."
    item = _item(["combination:repeat_prompt"], [{"prompt_to_repeat": prompt}], prompt=prompt)
    assert score_ifeval(f"{prompt} Then the answer.", None, item, False).value == 1.0
    assert score_ifeval("The answer without repeating.", None, item, False).value == 0.0


def test_truncated_and_malformed_items() -> None:
    item = _item(["punctuation:no_comma"], [{}])
    truncated = score_ifeval("", None, item, True)
    assert truncated.value == 0.0 and truncated.details["inst_strict"] == [False]
    scored = score_response("ifeval", "<think>no commas needed", None, item)
    assert scored.truncated and scored.score.value == 0.0
    with pytest.raises(CotbenchError):
        score_ifeval("x", None, {"instruction_id_list": ["punctuation:no_comma"], "kwargs": []}, False)
    with pytest.raises(CotbenchError):
        score_ifeval("x", None, {"kwargs": [{}]}, False)


@pytest.mark.usefixtures("punkt")
def test_unknown_instruction_is_a_user_error() -> None:
    with pytest.raises(CotbenchError, match="unknown instruction"):
        score_ifeval("x", None, _item(["made:up"], [{}]), False)


@pytest.mark.usefixtures("punkt")
def test_real_ifeval_item() -> None:
    if not DATA.is_file():
        pytest.skip("IFEval data not present")
    rows = {r["key"]: r for r in map(json.loads, DATA.read_text().splitlines())}
    assert len(rows) == 541
    item = rows[1000]  # no commas, >= 3 highlighted sections, >= 300 words
    assert item["instruction_id_list"] == [
        "punctuation:no_comma", "detectable_format:number_highlighted_sections", "length_constraints:number_words"]
    body = " ".join(["word"] * 300)
    good = f"*Early life* {body}\n*Reign* text here\n*Legacy* more text"
    assert score_ifeval(good, None, item, False).value == 1.0
    with_comma = good.replace("text here", "text, here")
    bad = score_ifeval(with_comma, None, item, False)
    assert bad.value == 0.0 and bad.details["inst_strict"] == [False, True, True]
    # every item's instructions are known to the installed checker
    for row in rows.values():
        score_ifeval("A short reply.", None, row, False)
