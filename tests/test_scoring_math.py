"""The math scorer: extraction, equivalent forms, timeouts from any thread, real MATH/GSM8K items."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path

import pytest

from cotbench.errors import CotbenchError
from cotbench.scoring import math as math_scorer
from cotbench.scoring.base import score_response
from cotbench.scoring.math import anchored_answer, boxed_spans, score_math

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _score(answer: str, target: str) -> float:
    return score_math(answer, target, {}, False).value


@pytest.mark.parametrize(
    ("answer", "target"),
    [
        (r"So the result is $\boxed{\dfrac{1}{2}}$.", r"\frac{1}{2}"),
        (r"\boxed{0.5}", r"\frac12"),
        (r"\boxed{1/2}", r"\frac{1}{2}"),
        (r"\boxed{\sqrt{12}}", r"2\sqrt{3}"),
        (r"\boxed{\frac{\sqrt{3}}{3}}", r"\frac{1}{\sqrt{3}}"),
        (r"\boxed{(1,2]}", r"(1,2]"),
        (r"\boxed{(-\infty, 3) \cup (5, \infty)}", r"(-\infty,3)\cup(5,\infty)"),
        (r"\boxed{1,000}", "1000"),
        ("The total is 1,000 dollars.\n#### 1,000", "1000"),
        ("The answer is 18.", "18"),
        ("Answer: $42$", "42"),
        (r"\boxed{5 \text{ cm}}", "5"),
        ("The answer is 5 cm.", "5"),
        (r"\boxed{\text{Evelyn}}", r"\text{Evelyn}"),
        (r"\boxed{30^\circ}", "30"),
        ("The angle is 30°.", r"30^\circ"),
        (r"\boxed{25\%}", "25"),
        (r"\boxed{\$18.00}", "18"),
        (r"\boxed{\boxed{18}}", "18"),
        (r"\boxed{\left( 3, \frac{\pi}{2} \right)}", r"\left( 3, \frac{\pi}{2} \right)"),
        (r"\boxed{x = 3}", "3"),
        (r"first \boxed{3}, then corrected: \boxed{7}", "7"),
        (r"The roots are \boxed{1} and \boxed{-2}.", "1,-2"),
        (r"\boxed{-2, 1}", "1,-2"),
        (r"\boxed 5", "5"),
    ],
)
def test_equivalent_forms_score_one(answer: str, target: str) -> None:
    assert _score(answer, target) == 1.0


@pytest.mark.parametrize(
    ("answer", "target"),
    [
        (r"\boxed{\frac{1}{3}}", r"\frac{1}{2}"),
        (r"\boxed{[1,2)}", r"(1,2]"),  # open/closed ends matter
        (r"first \boxed{3}, then corrected: \boxed{7}", "3"),  # the last box is the answer
        (r"\boxed{1} and \boxed{-2}", "1"),  # a single target is not a set: last box only
        ("I could not solve it.", "5"),
        (r"\boxed{2\sqrt{2}}", r"2\sqrt{3}"),
    ],
)
def test_wrong_answers_score_zero(answer: str, target: str) -> None:
    assert _score(answer, target) == 0.0


def test_extracted_is_the_last_boxed_content_with_nested_braces() -> None:
    score = score_math(r"x \boxed{1} y \boxed{\frac{a}{b^{2}}} z", r"\frac{a}{b^2}", {}, False)
    assert score.extracted == r"\frac{a}{b^{2}}"
    assert score.details["method"] == "boxed"
    assert [c for _, _, c in boxed_spans(r"\boxed{\boxed{1}+2} \boxed{3")] == [r"\boxed{1}+2"]


def test_anchors() -> None:
    assert anchored_answer("work\n#### 72") == "72"
    assert anchored_answer("The answer is 5. Then...\nSo the final answer is 6.") == "6"
    assert anchored_answer("no anchor here") is None


def test_truncated_and_empty_answers_score_zero() -> None:
    assert score_math("", "5", {}, True).value == 0.0
    assert score_math("   ", "5", {}, False).value == 0.0
    scored = score_response("math", r"<think>the answer is \boxed{5} maybe", "5", {})
    assert scored.truncated and scored.answer == "" and scored.score.value == 0.0
    closed = score_response("math", r"<think>hmm</think>The answer is $\boxed{5}$.", "5", {})
    assert not closed.truncated and closed.score.value == 1.0


def test_missing_target_is_a_user_error() -> None:
    with pytest.raises(CotbenchError):
        score_math(r"\boxed{1}", "", {}, False)


PATHOLOGICAL = [r"\boxed{9^{9^{9^{9}}}}", r"\boxed{(10^{10^{10}})!}"]


def test_pathological_input_returns_zero_quickly() -> None:
    start = time.monotonic()
    score = score_math(PATHOLOGICAL[0], "5", {}, False)
    assert score.value == 0.0 and score.details["equivalence"] == "timeout"  # math-verify's own limit
    assert time.monotonic() - start < 15  # math-verify's own limit is 2 s; 15 s is slack for slow CI


def test_timeouts_work_from_worker_threads_and_event_loops() -> None:
    results: list[float] = []
    thread = threading.Thread(target=lambda: results.append(_score(PATHOLOGICAL[0], "5")))
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive() and results == [0.0]

    async def in_loop() -> list[float]:
        return list(await asyncio.gather(
            asyncio.to_thread(_score, PATHOLOGICAL[1], "5"),
            asyncio.to_thread(_score, r"\boxed{\frac{2}{4}}", r"\frac12"),
        ))

    assert asyncio.run(in_loop()) == [0.0, 1.0]


def test_hard_timeout_kills_a_stuck_worker_and_scoring_continues(monkeypatch: pytest.MonkeyPatch) -> None:
    # A wall-clock limit far below the worker's own 2 s sympy timeout forces the kill path.
    monkeypatch.setattr(math_scorer, "HARD_TIMEOUT_S", 0.2)
    score = score_math(PATHOLOGICAL[0], "5", {}, False)
    assert score.value == 0.0 and score.details["error"] == score.details["equivalence"] == "timeout"
    monkeypatch.undo()
    assert _score(r"\boxed{4}", "4") == 1.0


def _rows(path: Path) -> list[dict]:
    if not path.is_file():
        pytest.skip(f"{path} not present")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_math500_reference_answers_verify_boxed_and_in_their_solutions() -> None:
    rows = _rows(DATA / "math500" / "test.jsonl")
    assert len(rows) == 500
    for row in rows[::5]:
        boxed = score_math(f"The final answer is $\\boxed{{{row['answer']}}}$.", row["answer"], row, False)
        assert boxed.value == 1.0, row["answer"]
        assert score_math(row["solution"], row["answer"], row, False).value == 1.0, row["unique_id"]


def test_gsm8k_reference_solutions_verify() -> None:
    rows = _rows(DATA / "gsm8k" / "test.jsonl")
    for row in rows[:100]:
        target = row["answer"].split("####")[-1].strip()
        assert score_math(row["answer"], target, row, False).value == 1.0
        assert score_math(f"#### {int(target.replace(',', '')) + 1}", target, row, False).value == 0.0


def test_forked_child_gets_its_own_workers() -> None:
    import os

    assert _score(r"\boxed{2}", "2") == 1.0  # the parent now holds a worker
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: grade with fresh workers, report through the pipe
        ok = False
        try:
            ok = _score(r"\boxed{\frac{4}{2}}", "2") == 1.0
        finally:
            os.write(write, b"1" if ok else b"0")
            os._exit(0)
    os.close(write)
    assert os.read(read, 1) == b"1"
    os.waitpid(pid, 0)
    assert _score(r"\boxed{3}", "3") == 1.0  # the parent's worker still answers


# ---------------------------------------------------------------- anchors take the expression right after them

@pytest.mark.parametrize(
    ("answer", "target"),
    [
        # review examples: the rest of the line used to hand math-verify its *last* number
        ("The answer is 5 since we need 3 more than 2.", "5"),
        ("The answer is 12 apples and 3 oranges remain.", "12"),
        ("The answer is 7. Let me check: 7 = 7, so it is 7 for n = 3.", "7"),
        # an anchor with no expression falls back to the search of the whole answer
        ("We get 12 in total.\nFinal answer: see the computation above.", "12"),
        ("The answer is twelve. Indeed 4 * 3 = 12.", "12"),
    ],
)
def test_anchor_review_examples(answer: str, target: str) -> None:
    assert _score(answer, target) == 1.0


@pytest.mark.parametrize(
    ("answer", "target"),
    [
        (r"The answer is $\frac{1}{2}$, which is 0.5 of the total.", r"\frac12"),
        ("The answer is 3.5 km, not 4.", "3.5"),
        ("Final answer: -7 (since x < 0 rules out 3)", "-7"),
        ("The answer is 1,000 dollars and 50 cents.", "1000"),
        ("The final answer is:\n\n$$\n\\frac{3}{4}\n$$\nbecause 3 of the 4 work.", r"\frac34"),
        ("So the answer is 2x + 1 for all x > 3.", "2x+1"),
        ("The answer is (1, 2] as shown above.", "(1,2]"),
        (r"The answer is \(\sqrt{2}\) metres, about 1.41.", r"\sqrt{2}"),
        ("**Answer:** 42 (the other 6 were discarded)", "42"),
        ("The answer is 30° because the triangle has 60° and 90°.", r"30^\circ"),
        ("#### 72\nThe 5 extra apples are not counted.", "72"),
        ("The answer is 5. Wait, no: the answer is 6, since 2 * 3 = 6 and not 2 + 3.", "6"),
        (r"The answer is 5, but boxed: \boxed{6} (a box outranks an anchor)", "6"),
    ],
)
def test_anchor_hard_cases(answer: str, target: str) -> None:
    assert _score(answer, target) == 1.0


@pytest.mark.parametrize(
    ("answer", "target"),
    [
        ("The answer is 5 since we need 3 more than 2.", "2"),  # used to score 1 on the trailing 2
        ("The answer is 7. Let me check: 7 = 7, so it is 7 for n = 3.", "3"),
        ("The answer is 12 apples and 3 oranges remain.", "3"),
        (r"The answer is 5, but boxed: \boxed{6}", "5"),
    ],
)
def test_anchor_ignores_later_numbers(answer: str, target: str) -> None:
    assert _score(answer, target) == 0.0


def test_extraction_is_recorded() -> None:
    def how(answer: str, target: str) -> str:
        return score_math(answer, target, {}, False).details["extraction"]

    assert how(r"so \boxed{4}", "4") == "boxed"
    assert how(r"\boxed{1} and \boxed{-2}", "1,-2") == "boxed-set"
    assert how("The answer is 5 since 3 + 2.", "5") == "anchor:the answer is"
    assert how("So the **Final Answer:** 5", "5") == "anchor:final answer:"
    assert how("work\n#### 72", "72") == "anchor:####"
    assert how("The answer is below. It is 9.", "9") == "last-expression"
    assert how("No idea.", "9") == "none"
    assert how(r"\boxed{\text{???}}", "9") == "boxed"  # found, though math-verify cannot read it
    score = score_math("The answer is 12 apples and 3 oranges remain.", "12", {}, False)
    assert score.extracted == "12" and score.details["method"] == "anchor"


def test_anchored_answer_takes_the_first_expression_of_the_clause() -> None:
    assert anchored_answer("The answer is 5 since we need 3 more than 2.") == "5"
    assert anchored_answer("The answer is 7. Let me check: 7 = 7") == "7"
    assert anchored_answer("The answer is $x = 3$ here.") == "x = 3"
    assert anchored_answer(r"The answer is \$18.00, paid in cash.") == r"\$18.00"
    assert anchored_answer("The answer is 1, -2 as both check out.") == "1, -2"
    assert anchored_answer("The answer is 5 a day.") == "5"
    assert anchored_answer("The answer is unclear. We get 4.") is None  # the clause has no expression
    assert anchored_answer("Final answer: see above") is None


# ---------------------------------------------------------------- equivalence gaps found on real graded solutions
# Each case runs both with the fast paths (the default) and with every sample sent to sympy.

EQUAL = [
    # scientific notation is a number, not an expression in Euler's e
    ("1e-5", r"\boxed{0.00001}"),
    ("2.5e3", r"\boxed{2500}"),
    ("1E-5", r"\boxed{0.00001}"),
    ("3e-5", r"\boxed{3\times 10^{-5}}"),
    ("0.00003", r"\boxed{3e-5}"),
    # a trailing variable is not a unit
    (r"\frac{1}{m}t", r"\boxed{\frac{t}{m}}"),
    ("5t", r"\boxed{5t}"),
    # a percent sign on one side only is the bare number
    ("12.5", r"\boxed{12.5\%}"),
    (r"12.5\%", r"\boxed{12.5}"),
    ("25", r"\boxed{25\%}"),
    (r"12.5\%", r"\boxed{0.125}"),  # and, as math-verify has it, the number / 100
    # equations with swapped sides, subscripted names, LaTeX thousands separators
    ("B=2D, E=2C", r"\boxed{B = 2D, 2C = E}"),
    ("E_{1},E_{2}", r"\boxed{E_1, E_2}"),
    (r"10{,}000", r"\boxed{10000}"),
    ("10000", r"\boxed{10{,}000}"),
    (r"10\,000", r"\boxed{10000}"),
    # hard cases
    ("-5", r"\boxed{-5}"),
    ("-5", r"\boxed{- 5}"),
    ("-5", "\\boxed{\u22125}"),
    (r"-\frac{1}{2}", r"\boxed{-0.5}"),
    ("-0.5", r"\boxed{\frac{-1}{2}}"),
    (r"\frac34", r"\boxed{3/4}"),
    (r"\frac{3}{4}", r"\boxed{0.75}"),
    (r"\frac{1}{2}", r"\boxed{\dfrac{1}{2}}"),
    ("(1,2]", r"\boxed{\left(1, 2\right]}"),
    ("3", r"\boxed{x=3}"),
    ("x=3", r"\boxed{3}"),
    ("30", r"\boxed{30^\circ}"),
    ("30", r"\boxed{30^{\circ}}"),
    (r"30^\circ", "The angle is 30°."),
    ("1000", r"\boxed{1,000}"),
    ("1,000", "#### 1000"),
    ("1000000", r"\boxed{1,000,000}"),
    ("1,2", r"\boxed{2, 1}"),
    ("5", r"\boxed{5\text{ cm}}"),
    (r"864 \mbox{ inches}^2", r"\boxed{864}"),
    ("18", r"\boxed{18 \text{ dollars}}"),
    ("18", "The answer is 18 dollars."),
    ("0.125", r"\boxed{12.5 percent}"),
    ("18", r"\boxed{18 dollars}"),  # a unit math-verify's list lacks
    (r"\frac43", r"\boxed{\frac43\%}"),  # a percent math-verify cannot parse
    ("-5", r"\boxed{-5\%}"),
    (r"\$32,\!348", r"\boxed{32348}"),
    (r"11,\! 111,\! 111,\! 100", r"\boxed{11{,} 111{,} 111{,} 100}"),
    (r"5 \text{ square units}", r"\boxed{5}"),
    (r"\left( 3, \frac{\pi}{2} \right)", r"\boxed{(3, \frac{\pi}{2})}"),
    ("(1,2)", r"\boxed{(1, 2)}"),
    (r"\frac{270}7\text{ degrees}", r"\boxed{\frac{270}{7}}"),
]

NOT_EQUAL = [
    (r"\frac{1}{m}t", r"\boxed{\frac{1}{m}}"),
    # math-verify's unit stripping used to drop these trailing variables, and a spaced group
    ("5t", r"\boxed{5}"),
    ("x + t", r"\boxed{x}"),
    ("2 + 3d", r"\boxed{5}"),
    ("2ab", r"\boxed{2}"),
    (r"10\,000", r"\boxed{0}"),
    ("1e-5", r"\boxed{1}"),
    ("2.5e3", r"\boxed{2.5}"),
    ("12.5", r"\boxed{13\%}"),
    (r"12.5\%", r"\boxed{12}"),
    ("1,2", r"\boxed{12}"),
    ("12", r"\boxed{1,2}"),
    ("1000", r"\boxed{1,001}"),
    ("1,000", r"\boxed{100}"),
    ("-5", r"\boxed{5}"),
    (r"-\frac{1}{2}", r"\boxed{0.5}"),
    (r"\frac{1}{3}", r"\boxed{0.33}"),
    ("(1,2)", r"\boxed{(2, 1)}"),
    ("(1,2]", r"\boxed{[1,2]}"),
    ("B=2D, E=2C", r"\boxed{B = 2D, E = 3C}"),
    ("E_{1},E_{2}", r"\boxed{E_1, E_3}"),
    ("3", r"\boxed{x=4}"),
    ("x + 1", r"\boxed{1}"),
    ("30", r"\boxed{31^\circ}"),
]


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "sympy"])
@pytest.mark.parametrize(("target", "answer"), EQUAL)
def test_equivalence_gaps_equal(target: str, answer: str, fast: bool) -> None:
    assert math_scorer.grade(target, answer, fast=fast)["correct"] is True


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "sympy"])
@pytest.mark.parametrize(("target", "answer"), NOT_EQUAL)
def test_equivalence_gaps_not_equal(target: str, answer: str, fast: bool) -> None:
    assert math_scorer.grade(target, answer, fast=fast)["correct"] is False


def test_the_registered_scorer_grades_the_gaps() -> None:
    assert [score_response("math", a, t, {}).score.value for t, a in EQUAL[:12]] == [1.0] * 12
    assert [_score(a, t) for t, a in NOT_EQUAL[:6]] == [0.0] * 6


def test_a_prose_reference_is_reported_and_compared_as_a_string() -> None:
    # math-verify reads this sentence as the number 1, so any answer of 1 used to pass
    prose = "It has 1 real root."
    score = score_math(r"\boxed{1}", prose, {}, False)
    assert score.value == 0.0
    assert score.details["reference"] == "unparseable" and score.details["reference_reason"] == "prose"
    assert score.details["equivalence"] == "reference-string"
    assert _score("We check both cases.\nThe answer is 1.", prose) == 0.0
    assert _score(r"\boxed{\text{It has 1 real root}}", prose) == 1.0
    assert _score("Checking the discriminant.\nThe answer is: it has 1 real root.", prose) == 1.0
    assert _score("Only one real root.\nIt has 1 real root.", prose) == 1.0  # the last line
    assert _score(r"\boxed{2}", "Only one, namely 1.") == 0.0
    assert math_scorer.reference_problem(r"\text{Evelyn}") is None  # a one-word answer is not prose
    assert math_scorer.reference_problem("ab + bc + ca") is None  # products of variables are not words
    assert math_scorer.reference_problem(r"5 \text{ square units}") is None  # nor is a unit
    assert _score(r"\boxed{ab+bc+ca}", "ab + bc + ca") == 1.0
    assert _score(r"\boxed{ab+bc+cd}", "ab + bc + ca") == 0.0
    assert math_scorer.reference_problem(r"\begin{pmatrix} -1/3 \\ 2/3 \end{pmatrix}") is None


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "sympy"])
def test_a_reference_math_verify_cannot_parse_is_reported(fast: bool) -> None:
    reply = math_scorer.grade("#", r"\boxed{1}", fast=fast)
    assert (reply["correct"], reply["reference"], reply["reference_reason"]) == (False, "unparseable", "no parse")
    assert math_scorer.grade("#", r"so \boxed{\#}", fast=fast)["correct"] is False
    assert math_scorer.grade("#", r"so \boxed{ # }", fast=fast)["correct"] is True


def test_the_record_names_the_path_that_decided() -> None:
    def path(answer: str, target: str) -> str:
        return score_math(answer, target, {}, False).details["equivalence"]

    assert path(r"so \boxed{\dfrac{1}{2}}", r"\frac12") == "string"
    assert path("work\n#### 1,000", "1000") == "number"
    assert path("#### 999", "1000") == "number"
    assert path(r"\boxed{0.5}", r"\frac{1}{2}") == "fraction"
    assert path(r"\boxed{\sqrt{12}}", r"2\sqrt{3}") == "sympy"
    assert path("The answer is below. It is 9.", "9") == "sympy"  # no box or anchor: the worker's search
    assert path(r"\boxed{1}", "It has 1 real root.") == "reference-string"


def test_fast_paths_decide_only_what_they_can() -> None:
    fast = math_scorer.fast_equivalence
    assert fast("5", "x") is None  # a number vs an expression goes to sympy
    assert fast("5", "2+3") is None
    assert fast(r"\frac{1}{3}", "0.3333333") is None  # within math-verify's float rounding: ask it
    assert fast(r"\frac{1}{3}", "0.33") == (False, "fraction")
    assert fast("x+1", "x + 1") == (True, "string")
    assert fast("x+1", "1+x") is None  # different strings are never "not equal"
    assert fast("1,2", "1, 2") == (True, "string")
    assert fast("1,2", "12") is None  # a set is not a number
    assert fast("1" * 500, "1" * 500) == (True, "string")
    assert fast("1" * 500, "2") is None  # too long for the number path


FORMS = ["1000", "1,000", "1000.0", "999", "1e3", r"\frac{2000}{2}", "0.5", r"\frac12", "-0.5", r"-\frac{1}{2}",
         "12.5", r"12.5\%", "0.125", r"\frac{1}{8}", r"\frac{1}{3}", "0.333333", "0.33", r"3\times 10^{-5}", "0.00003",
         r"30^\circ", "30", r"5\text{ cm}", "5", "-5", "25", r"25\%", "0.25"]


def test_fast_path_verdicts_match_sympy_wherever_they_decide() -> None:
    decided = 0
    for target in FORMS:
        for form in FORMS:
            verdict = math_scorer.fast_equivalence(target, form)
            if verdict is not None:
                decided += 1
                assert math_scorer._grade(target, f"\\boxed{{{form}}}")["correct"] is verdict[0], (target, form)
    assert decided > 0.9 * len(FORMS) ** 2


def test_grader_speed_benchmark_quick_mode() -> None:
    import importlib.util
    import sys

    if not (DATA / "gsm8k").is_dir():
        pytest.skip("../shared/data is not present")
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "grader_speed.py"
    spec = importlib.util.spec_from_file_location("grader_speed", path)
    assert spec and spec.loader
    bench = sys.modules.setdefault("grader_speed", importlib.util.module_from_spec(spec))
    spec.loader.exec_module(bench)
    for name, pairs in bench.samples(DATA, 8, variants=True).items():
        m = bench.measure(pairs)
        assert m["differ"] == 0 and m["baseline_correct"] == m["default_correct"] == 1.0, name
        assert sum(m["paths"].values()) == m["n"]
