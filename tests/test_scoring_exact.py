"""The exact and bbh scorers: final-answer extraction and normalisation."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cotbench.errors import CotbenchError
from cotbench.scoring.exact import extract_final, score_bbh, score_exact

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "bbh"


@pytest.mark.parametrize(
    ("answer", "target"),
    [
        ("Let's count. So the answer is 6.", "6"),
        ("So the answer is Yes.", "yes"),
        ("the answer is   TRUE  ", "True"),
        ("Answer: **valid**", "valid"),
        ("So the answer is 1,000.", "1000"),
        ("So the answer is 6.0", "6"),
        ("So the answer is -219.", "-219"),
        ("So the answer is 24. Let me double-check: yes.", "24"),
        ("I reasoned a lot.\n\nNo", "No"),
        ('So the answer is "Paris".', "paris"),
    ],
)
def test_exact_matches(answer: str, target: str) -> None:
    assert score_exact(answer, target, {}, False).value == 1.0


@pytest.mark.parametrize(
    ("answer", "target"),
    [
        ("So the answer is 7.", "6"),
        ("So the answer is Yes.", "No"),
        ("So the answer is not valid.", "valid"),
        ("", "6"),
    ],
)
def test_exact_mismatches(answer: str, target: str) -> None:
    assert score_exact(answer, target, {}, False).value == 0.0


def test_exact_accepts_a_list_of_targets_and_rejects_missing_ones() -> None:
    assert score_exact("The answer is colour.", ["color", "colour"], {}, False).value == 1.0
    with pytest.raises(CotbenchError):
        score_exact("x", None, {}, False)


@pytest.mark.parametrize(
    ("answer", "target"),
    [
        ("So the answer is (C).", "(C)"),
        ("So the answer is C.", "(C)"),
        ("So the answer is (C) 12/11/1937.", "(C)"),
        ("So the answer is ] } ].", "] } ]"),
        ("So the answer is ]}].", "] } ]"),
        ("So the answer is apple, banana, cherry.", "apple banana cherry"),
        ("So the answer is apple banana cherry.", "apple banana cherry"),
    ],
)
def test_bbh_format_allowances(answer: str, target: str) -> None:
    assert score_bbh(answer, target, {}, False).value == 1.0


def test_bbh_mismatches_and_truncation() -> None:
    assert score_bbh("So the answer is (D).", "(C)", {}, False).value == 0.0
    assert score_bbh("So the answer is Cat.", "(C)", {}, False).value == 0.0
    assert score_bbh("So the answer is ] ] }.", "] } ]", {}, False).value == 0.0
    assert score_bbh("So the answer is banana apple.", "apple banana", {}, False).value == 0.0
    assert score_bbh("", "(C)", {}, True).value == 0.0
    # exact (no BBH allowances) does not read "C" as "(C)"
    assert score_exact("So the answer is C.", "(C)", {}, False).value == 0.0


def test_extracted_text_is_reported() -> None:
    assert score_bbh("So the answer is (B).", "(B)", {}, False).extracted == "(B)"
    assert extract_final("Answer: 3\nThe answer is 4.") == "4"


def _bbh_files() -> list[Path]:
    if not (DATA / "bbh").is_dir():
        pytest.skip("BBH data not present")
    return sorted((DATA / "bbh").glob("*.json"))


def test_bbh_targets_score_in_cot_form() -> None:
    files = _bbh_files()
    assert len(files) == 27
    for path in files:
        examples = json.loads(path.read_text())["examples"]
        targets = sorted({e["target"] for e in examples})
        for ex in examples[:20]:
            answer = f"Let's think step by step.\nSome working. So the answer is {ex['target']}."
            assert score_bbh(answer, ex["target"], ex, False).value == 1.0, (path.name, ex["target"])
            wrong = next((t for t in targets if t != ex["target"]), None)
            if wrong is not None:
                assert score_bbh(f"So the answer is {wrong}.", ex["target"], ex, False).value == 0.0


def test_bbh_cot_prompt_exemplars_extract_their_answers() -> None:
    _bbh_files()
    for path in sorted((DATA / "cot-prompts").glob("*.txt")):
        text = path.read_text()
        answers = re.findall(r"A: Let's think step by step\.(.*?)(?=\n\nQ:|\Z)", text, re.S)
        assert answers, path.name
        for ans in answers:
            stated = re.findall(r"So the answer is (.*)\.\s*$", ans.strip())[-1]
            assert score_bbh(ans, stated, {}, False).value == 1.0, path.name
