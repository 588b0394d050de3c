"""Reasoning/answer split, including truncated reasoning."""

from __future__ import annotations

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
