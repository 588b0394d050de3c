"""The shared answer extraction (cotbench.scoring.extract), on hand-checked tricky inputs, and
the scorers reading answers through it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import cotbench.scoring as scoring_pkg
from cotbench.scoring.base import score_response
from cotbench.scoring.exact import extract_with_method, score_exact
from cotbench.scoring.extract import (
    ANSWER_COLON,
    ANSWER_IS_OR_COLON,
    BOXED_LETTER,
    CHOICE_COMMITMENT,
    MATH_ANCHOR,
    THE_ANSWER_IS,
    after_last_anchor,
    anchor_label,
    anchored_answer,
    anchored_rests,
    boxed_spans,
    first_sentence,
    last_anchor,
    last_boxed,
    last_line,
    last_match,
)
from cotbench.scoring.probes import committed

# --- boxes ---------------------------------------------------------------------------------------


def test_boxed_spans_are_balanced_and_top_level() -> None:
    text = r"so \boxed{\frac{1}{2}} then"
    assert boxed_spans(text) == [(3, 22, r"\frac{1}{2}")] and text[3:22] == r"\boxed{\frac{1}{2}}"
    # a box inside a box stays in the outer one's content; the last top-level box is the answer
    assert [c for _, _, c in boxed_spans(r"\boxed{a} and \boxed{\boxed{b}+1}")] == ["a", r"\boxed{b}+1"]
    assert last_boxed(r"\boxed{a} and \boxed{\boxed{b}+1}") == r"\boxed{b}+1"
    assert [c for _, _, c in boxed_spans(r"\fbox{7} \boxed{x^{2^{3}}}")] == ["7", "x^{2^{3}}"]
    # an escaped brace is text, not a group
    assert [c for _, _, c in boxed_spans(r"\boxed{a\}b}")] == [r"a\}b"]


def test_boxes_without_braces_unclosed_or_empty() -> None:
    assert [c for _, _, c in boxed_spans(r"\boxed 5")] == ["5"]
    assert [c for _, _, c in boxed_spans(r"\boxed 5.")] == ["5."]  # the token runs to the next space
    assert boxed_spans(r"\boxed5") == [] and boxed_spans(r"\boxed$5$") == []  # no space, no brace: not a box
    assert boxed_spans(r"\boxedx{1}") == []  # another command
    assert boxed_spans(r"\boxed{3") == [] and last_boxed(r"\boxed{2} \boxed{3") == "2"  # unclosed: ignored
    assert last_boxed(r"\boxed{}") == "" and last_boxed("no box") is None
    assert last_boxed(r"\boxed {  3 }") == "3"


# --- anchors -------------------------------------------------------------------------------------


def test_the_answer_is_wins_over_answer_colon_wherever_they_are() -> None:
    text = "The answer is 4.\nFinal answer: 3"
    assert after_last_anchor(text, THE_ANSWER_IS, ANSWER_COLON) == ("4.", THE_ANSWER_IS)
    assert after_last_anchor("Answer: 3", THE_ANSWER_IS, ANSWER_COLON) == ("3", ANSWER_COLON)
    assert after_last_anchor("no anchor", THE_ANSWER_IS, ANSWER_COLON) is None
    assert extract_with_method(text) == ("4", "anchor:the answer is")


def test_several_anchors_take_the_last() -> None:
    assert extract_with_method("the answer is 3. Wait, no: the answer is 5.") == ("5", "anchor:the answer is")
    assert anchored_answer("The answer is 5. Then...\nSo the final answer is 6.") == "6"
    m = last_match(MATH_ANCHOR, "#### 1\n#### 2")
    assert m is not None and m.start() == 7
    assert last_match(MATH_ANCHOR, "nothing") is None


def test_probe_anchors_take_the_rest_of_their_line() -> None:
    # An anchor takes its whole line: a second one on that line is part of the first's answer.
    assert anchored_rests("answer is 3, final answer: 5", ANSWER_IS_OR_COLON) == ["3, final answer: 5"]
    assert anchored_rests("the answer is 3\nanswer: 4", ANSWER_IS_OR_COLON) == ["3", "4"]
    assert anchored_rests("Answer:\n\n7", ANSWER_IS_OR_COLON) == ["7"]  # the colon may end its line
    assert committed("Final answer: **12**") == ("12", "anchor")
    assert committed("work\n\n  42  \n") == ("42", "last-line")
    assert committed("   ") == (None, "none")


def test_math_anchor_labels_and_clauses() -> None:
    assert last_anchor("Final answer:\n\n$$x^2$$") == ("final answer:", "x^2")
    assert last_anchor("**Final Answer**: 12") == ("final answer:", "12")
    assert last_anchor("The answer = 5") == ("the answer =", "5")
    assert last_anchor("#### 1,234") == ("####", "1,234")
    assert last_anchor("The answer is unclear.") == ("the answer is", None)
    m = MATH_ANCHOR.search("**The answer** is: 3")
    assert m is not None and anchor_label(m) == "the answer is:"


def test_choice_anchors() -> None:
    box = BOXED_LETTER.search(r"so \boxed{\text{(c)}}.")
    assert box is not None and box.group(1) == "c"
    assert BOXED_LETTER.search(r"\boxed{12}") is None
    commits = [m.group(0).strip() for m in CHOICE_COMMITMENT.finditer("I'll go with C. The correct option is D")]
    assert commits == ["I'll go with", "correct option is"]


# --- lines and sentences ---------------------------------------------------------------------------


@pytest.mark.parametrize(("line", "expected"), [
    ("24. Let me double-check: yes.", "24"),  # a number, then a capital: a sentence end
    ("6.5 apples", "6.5 apples"),  # a decimal point is not
    ("Yes. Then no", "Yes"),
    ("6.", "6"),
    ("x = 2. So", "x = 2"),
    ("3.14", "3.14"),
    ("“Paris”.", "“Paris”"),
])
def test_first_sentence(line: str, expected: str) -> None:
    assert first_sentence(line) == expected


def test_last_line_keeps_the_line_as_written() -> None:
    assert last_line("a\n\n  b  \n \n") == "  b  "
    assert last_line(" \n\t") is None and last_line("") is None
    assert last_line("one\u2028two") == "two"  # str.splitlines' line boundaries


# --- the scorers, through the shared module ------------------------------------------------------------


def test_unicode_quotes_around_an_exact_answer() -> None:
    assert extract_with_method("So the answer is “Paris”.") == ("“Paris”", "anchor:the answer is")
    assert score_exact("So the answer is “Paris”.", "Paris", {}, False).value == 1.0
    assert score_exact("So the answer is ‘no’.", "No", {}, False).value == 1.0


def test_anchors_inside_the_reasoning_are_not_the_answer() -> None:
    # The scorers see the answer after the reasoning only: an anchor or a box in the thoughts is no answer.
    assert score_response("integer", "<think>The answer is 3.</think>The answer is 5.", 5, {}).score.value == 1.0
    assert score_response("integer", "<think>\\boxed{5}</think>So it is 3.", 5, {}).score.value == 0.0
    assert score_response("exact", "<think>the answer is yes</think>No", "yes", {}).score.value == 0.0
    assert score_response("choice", "<think>the answer is (A)</think>The answer is (C).", "C", {}).score.value == 1.0


def test_boxed_without_braces_in_the_math_and_probe_scorers() -> None:
    assert score_response("integer", "So \\boxed 12", 12, {}).score.value == 1.0
    assert score_response("math", "So \\boxed 12", "12", {}).score.details["extraction"] == "boxed"


_SCORER_MODULES = ("exact", "math", "choice", "probes")


@pytest.mark.parametrize("module", _SCORER_MODULES)
def test_scorers_compile_no_anchor_or_box_pattern_of_their_own(module: str) -> None:
    source = (Path(scoring_pkg.__file__).parent / f"{module}.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    imports = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "cotbench.scoring.extract" in imports
    patterns = [ast.literal_eval(n.args[0]) for n in ast.walk(tree)
                if isinstance(n, ast.Call) and ast.unparse(n.func) == "re.compile" and n.args
                and isinstance(n.args[0], ast.Constant)]
    owned = [p for p in patterns if re.search(r"answer|boxed|fbox|####", p, re.IGNORECASE)]
    assert owned == [], f"{module}.py compiles its own anchor: {owned}"
