"""Reasoning/answer split, including truncated reasoning."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cotbench.scoring.base import score_response
from cotbench.scoring.thinking import split_reasoning


def test_closed_block() -> None:
    s = split_reasoning("<think>2+2 is 4</think>\nThe answer is 4.")
    assert (s.reasoning, s.answer, s.truncated) == ("2+2 is 4", "The answer is 4.", False)


def test_template_opened_block() -> None:
    # Templates like DeepSeek-R1's put <think> in the prompt; the output only closes it.
    s = split_reasoning("hmm, 2+2... 4</think>4")
    assert (s.reasoning, s.answer, s.truncated) == ("hmm, 2+2... 4", "4", False)


def test_unclosed_block_is_truncated_with_empty_answer() -> None:
    s = split_reasoning("<think>Let me see, the answer might be \\boxed{5} but wait")
    assert s.truncated and s.answer == "" and "boxed{5}" in s.reasoning


def test_no_markers_and_other_markers() -> None:
    s = split_reasoning("  just an answer ")
    assert (s.reasoning, s.answer, s.truncated, s.has_reasoning_block) == ("", "just an answer", False, False)
    s = split_reasoning("<|begin_of_thought|>r<|end_of_thought|>a")
    assert (s.reasoning, s.answer) == ("r", "a")
    s = split_reasoning("<THINK>r</THINK>a")
    assert (s.reasoning, s.answer) == ("r", "a")


def test_last_close_wins() -> None:
    s = split_reasoning("<think>a</think>b</think>c")
    assert s.answer == "c" and s.reasoning == "a</think>b"


# -- solution markers (Sky-T1 / OpenThoughts format) ------------------------------------------------

SKY_T1 = Path(__file__).resolve().parents[2] / "shared" / "data" / "traces" / "sky_t1" / \
    "sky-t1-math-correct-5k-27b_aime24.jsonl"


def test_solution_markers_hold_the_answer() -> None:
    s = split_reasoning("<|begin_of_thought|>try 6*7<|end_of_thought|>\n\n<|begin_of_solution|>So \\boxed{42}."
                        "<|end_of_solution|>")
    assert (s.reasoning, s.answer, s.truncated) == ("try 6*7", "So \\boxed{42}.", False)


def test_a_solution_cut_before_its_end_is_truncated() -> None:
    s = split_reasoning("<|begin_of_thought|>t<|end_of_thought|><|begin_of_solution|>First, 6*7 = 42, and then")
    assert s.truncated and s.answer == "First, 6*7 = 42, and then"
    scored = score_response("math", "<|begin_of_thought|>t<|end_of_thought|><|begin_of_solution|>\\boxed{42} but",
                            "42", {})
    assert scored.truncated and scored.score.value == 0.0


@pytest.mark.parametrize("text, reasoning", [("[THINK]hmm[/THINK]B", "hmm"), ("<thought>x</thought> B", "x")])
def test_more_families(text: str, reasoning: str) -> None:
    s = split_reasoning(text)
    assert (s.reasoning, s.answer, s.truncated) == (reasoning, "B", False)


@pytest.mark.shared_data
@pytest.mark.skipif(not SKY_T1.is_file(), reason="needs ../shared/data/traces/sky_t1")
def test_recorded_reasoning_model_outputs() -> None:
    """24 of the 30 AIME responses of a 27B reasoning model end mid-thought: truncated, 0, no answer."""
    rows = [json.loads(line) for line in SKY_T1.read_text().splitlines() if line.strip()]
    cut = complete = 0
    for r in rows:
        out = r["code"][0]
        scored = score_response("math", out, r["gt"], {})
        if "<|begin_of_thought|>" in out and "<|end_of_thought|>" not in out:
            cut += 1
            assert scored.truncated and scored.answer == "" and scored.score.value == 0.0
        elif "<|end_of_solution|>" in out:
            complete += 1
            assert not scored.truncated and "<|" not in scored.answer and "\\boxed" in scored.answer
            # the harness graded 2 of the 3 complete answers correct (25 and 116; 234 is wrong: 73)
            assert scored.score.value == float(r["gt"] in scored.answer)
    assert (cut, complete) == (24, 3)
