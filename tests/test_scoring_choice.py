"""The choice scorer's letter extraction, and deterministic option shuffling."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cotbench.errors import CotbenchError
from cotbench.scoring.base import score_response
from cotbench.scoring.choice import extract_choice, score_choice
from cotbench.tasks.shuffle import shuffle_choices

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.mark.parametrize(
    ("answer", "letter"),
    [
        ("The answer is (B).", "B"),
        ("Answer: B", "B"),
        ("**B**", "B"),
        ("(B) Paris is the capital.", "B"),
        ("Weighing everything up.\nC", "C"),
        ("the answer is (b)", "B"),
        ("answer: d", "D"),
        ("b", "B"),
        ("(c)", "C"),
        ("So, B.", "B"),
        ("The answer is J", "J"),  # MMLU-Pro has ten options
        ("**Answer:** (E)", "E"),
        ("Final answer: **(H)**", "H"),
        (r"\boxed{C}", "C"),
        (r"\boxed{\text{B}}", "B"),
        ("A reasonable approach... so the answer is D.", "D"),
        ("I think the answer is a tricky one. Final answer: C", "C"),
        ("(A) is wrong and (B) is wrong, so I'll go with C.", "C"),
        ("The correct option is D) 42", "D"),
        ("The answer is: A", "A"),
        ("Answer: I", "I"),
        ("Answer: I think it's B", "B"),
    ],
)
def test_letter_extraction(answer: str, letter: str) -> None:
    assert extract_choice(answer)[0] == letter
    assert score_choice(answer, letter, {}, False).value == 1.0


@pytest.mark.parametrize(
    "answer",
    [
        "It could be A or C.",
        "Both (A) and (C) seem plausible.",
        "The answer is A or C.",
        "A. 5\nB. 6\nI am not sure.",
        "Between A and B it is hard to say, maybe A",
        "I do not know.",
        "",
    ],
)
def test_no_commitment_means_no_answer(answer: str) -> None:
    letter, _ = extract_choice(answer)
    assert letter is None
    assert score_choice(answer, "A", {}, False).value == 0.0


def test_option_text_and_choice_count() -> None:
    item = {"choices": ["London", "Paris", "Rome"]}
    assert extract_choice("Paris", item) == ("B", "option_text")
    assert extract_choice("The answer is **Paris**.", item) == ("B", "option_text")
    assert extract_choice("The answer is Parisian.", item)[0] is None
    assert extract_choice("D", item)[0] is None  # only A-C exist here
    assert score_choice("Rome", "C", item, False).value == 1.0


def test_targets_and_truncation() -> None:
    assert score_choice("(b)", "(B)", {}, False).value == 1.0
    assert score_choice("B", 1, {}, False).value == 1.0  # an index target
    assert score_choice("", "B", {}, True).value == 0.0
    with pytest.raises(CotbenchError):
        score_choice("B", "Z", {}, False)
    scored = score_response("choice", "<think>It is clearly B, so", "B", {})
    assert scored.truncated and scored.score.value == 0.0
    assert score_response("choice", "<think>B?</think>The answer is (B).", "B", {}).score.value == 1.0


def test_shuffle_is_deterministic_and_tracks_the_correct_option() -> None:
    choices = ["w", "x", "y", "z", "v"]
    first = shuffle_choices(choices, 2, seed=7, item_id="q-1")
    assert first == shuffle_choices(choices, 2, seed=7, item_id="q-1")
    shuffled, idx = first
    assert sorted(shuffled) == sorted(choices) and shuffled[idx] == "y"
    orders = {tuple(shuffle_choices(choices, 0, seed=s, item_id=f"q-{s}")[0]) for s in range(30)}
    assert len(orders) > 5  # different seeds/items give different orders
    with pytest.raises(CotbenchError):
        shuffle_choices(choices, 5, seed=0, item_id="q")


def test_shuffle_is_stable_across_processes() -> None:
    # Python's hash() is salted per process; the shuffle must not be.
    code = "from cotbench.tasks.shuffle import shuffle_choices as s; print(s(list('abcdef'), 3, 11, 'gpqa-42'))"
    root = Path(__file__).resolve().parents[1]
    outs = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root,
                       env={"PYTHONHASHSEED": seed, "PYTHONPATH": str(root)}).stdout
        for seed in ("1", "2")
    }
    assert len(outs) == 1
    assert outs.pop().strip() == repr(shuffle_choices(list("abcdef"), 3, 11, "gpqa-42"))


def test_arc_challenge_items() -> None:
    path = DATA / "arc_challenge" / "ARC-Challenge-Test.jsonl"
    if not path.is_file():
        pytest.skip("ARC data not present")
    rows = [json.loads(line) for line in path.read_text().splitlines()[:50]]
    for row in rows:
        labels = [c["label"] for c in row["question"]["choices"]]
        texts = [c["text"] for c in row["question"]["choices"]]
        if labels != list("ABCDE"[: len(labels)]):
            continue  # some ARC items number their options 1-4
        key = row["answerKey"]
        item = {"choices": texts}
        assert score_choice(f"The answer is ({key}).", key, item, False).value == 1.0
        assert score_choice(texts[labels.index(key)], key, item, False).value == 1.0


# ---------------------------------------------------------------- a capital after a commitment; the last one wins

@pytest.mark.parametrize(
    ("answer", "letter", "item"),
    [
        # review examples: "A"/"I" before a lowercase word were read as article/pronoun even here
        ("The answer is A because the others fail.", "A", {}),
        ("The answer is B because the others fail.", "B", {}),
        ("The answer is I because the others fail.", "I", {}),  # MMLU-Pro's ninth option
        # a later box beats an earlier textual commitment
        ("The answer is C.\nFinal Answer\n\\boxed{B}", "B", {}),
        # hard cases
        ("Final answer: A is correct, since B fails.", "A", {}),
        ("The answer is option A because it is the only one.", "A", {}),
        ("**Answer**: A since it holds.", "A", {}),
        ("I'll go with I as it is the ninth choice.", "I", {}),
        ("\\boxed{B}\nWait, that is wrong: the answer is C.", "C", {}),
        ("The answer is C.\nFinal Answer: \\boxed{42}", "C", {}),  # the box names no option
        ("The answer is C, not \\boxed{E}.", "C", {"choices": ["w", "x", "y", "z"]}),  # E does not exist here
        ("A is tempting, but the answer is B.", "B", {}),
        ("The answer is D. A key point is that it scales.", "D", {}),
        ("Answer: I think it's B", "B", {}),  # the pronoun "I" still is not an option
        ("Answer: I believe the answer is A because it fits.", "A", {}),
    ],
)
def test_commitment_then_capital_and_last_commitment(answer: str, letter: str, item: dict) -> None:
    assert extract_choice(answer, item)[0] == letter
    assert score_choice(answer, letter, item, False).value == 1.0


@pytest.mark.parametrize(
    "answer",
    [
        "I think the answer is a tricky one.",  # a lowercase "a" after a commitment is still an article
        "The answer is A or C because both fit.",
        "\\boxed{B}\nHmm, the answer is A or C.",  # the last commitment is ambiguous
    ],
)
def test_commitment_edge_cases_without_answer(answer: str) -> None:
    assert extract_choice(answer)[0] is None


def test_choice_extraction_is_recorded() -> None:
    assert score_choice("The answer is A because.", "A", {}, False).details["extraction"] == "choice:commitment"
    assert score_choice("So \\boxed{B}", "B", {}, False).details["extraction"] == "choice:boxed"
    item = {"choices": ["London", "Paris"]}
    assert score_choice("Paris", "B", item, False).details["extraction"] == "choice:option_text"
    assert "extraction" not in score_choice("I do not know.", "B", {}, False).details
