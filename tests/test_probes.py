"""Probe generators are deterministic and solvable; probe scorers are exact on hand-checked cases."""

from __future__ import annotations

import datetime as dt
import itertools
from fractions import Fraction

import pytest

from cotbench.scoring.base import score_response
from cotbench.tasks.catalog import all_suites, all_tasks, get_task
from cotbench.tasks.items import build_items


def test_generation_is_deterministic_and_subset_is_fixed() -> None:
    for name in ("countdown", "arithmetic", "boolean_logic", "date_arithmetic", "word_sorting"):
        task = get_task(name)
        a, b = build_items(task), build_items(task)
        assert a == b and len(a) == task.source.n
        assert len({i.id for i in a}) == len(a)
        assert build_items(task, subset=10) == build_items(task, subset=10)
        assert build_items(task, subset=10, limit=3) == build_items(task, subset=10)[:3]


def _solvable(numbers: list[int], target: int) -> bool:
    def values(nums: tuple[Fraction, ...]) -> set[Fraction]:
        if len(nums) == 1:
            return {nums[0]}
        out: set[Fraction] = set()
        for i, j in itertools.permutations(range(len(nums)), 2):
            rest = tuple(n for k, n in enumerate(nums) if k not in (i, j))
            a, b = nums[i], nums[j]
            for v in {a + b, a - b, a * b} | ({a / b} if b else set()):
                out |= values(rest + (v,))
        return out

    return Fraction(target) in values(tuple(Fraction(n) for n in numbers))


def test_countdown_items_are_solvable() -> None:
    for item in build_items(get_task("countdown"), limit=15):
        assert _solvable(item.fields["numbers"], item.target), item


def test_arithmetic_and_dates_targets_are_right() -> None:
    for item in build_items(get_task("arithmetic"), limit=5):
        assert item.target == eval(item.fields["expression"])  # noqa: S307 - generated literal arithmetic
    d = build_items(get_task("date_arithmetic"), limit=1)[0]
    start = dt.date.fromisoformat(d.fields["start"])
    sign = 1 if d.fields["direction"] == "after" else -1
    assert d.target == (start + dt.timedelta(days=sign * d.fields["days"])).isoformat()


def score(scorer: str, output: str, target: object, fields: dict | None = None) -> float | None:
    return score_response(scorer, output, target, fields or {}).score.value


@pytest.mark.parametrize(
    "output, expected",
    [
        ("(3 + 5) * 2 - 4 = 12 so \\boxed{(3+5)*2-4}", 1.0),
        ("\\boxed{(3 + 5) \\times 2 - 4 = 12}", 1.0),
        ("\\boxed{(3+5)*2}", 0.0),  # misses a number
        ("\\boxed{(3+5)*2-4+4}", 0.0),  # reuses a number
        ("\\boxed{3*5-4+2}", 0.0),  # uses all numbers, wrong value (13)
        ("\\boxed{__import__('os')}", 0.0),  # not arithmetic: never evaluated
        ("<think>\\boxed{(3+5)*2-4}", 0.0),  # truncated reasoning: empty answer
    ],
)
def test_countdown_scorer(output: str, expected: float) -> None:
    assert score("countdown", output, 12, {"numbers": [3, 5, 2, 4]}) == expected


def test_other_probe_scorers() -> None:
    assert score("integer", "so the total is \\boxed{1,234}", 1234) == 1.0
    assert score("integer", "The answer is: -7.", -7) == 1.0
    assert score("integer", "<think>it is 5</think>The answer is 6", 5) == 0.0
    opts = {"options": ["True", "False"]}
    assert score("word_option", "not True is False, so \\boxed{False}", "False", opts) == 1.0
    assert score("word_option", "The answer is true", "False", opts) == 0.0
    assert score("date", "Counting days... \\boxed{2012-02-15}", "2012-02-15") == 1.0
    assert score("date", "\\boxed{2012-02-30}", "2012-02-15") == 0.0
    assert score("word_list", "\\boxed{apple banana cherry}", ["apple", "banana", "cherry"]) == 1.0
    assert score("word_list", "\\boxed{apple, cherry, banana}", ["apple", "banana", "cherry"]) == 0.0


def test_smoke_suite_meets_the_safety_brief() -> None:
    suite = all_suites()["smoke"]
    domains = {all_tasks()[t].domain for t in suite.tasks}
    assert {"in_domain", "transfer", "safety_harmful", "safety_benign"} <= domains
    harmful = build_items(get_task("probe_harmful"))
    benign = build_items(get_task("probe_benign"))
    assert len(harmful) >= 50 and len({i.category for i in harmful}) >= 8
    assert len(benign) >= 50


def test_task_yaml_generation_kwargs_match_default_preset() -> None:
    """The lm-eval YAML's own generation_kwargs (used by `lm_eval --include_path`) must be
    the task's default preset, so standalone lm-eval and cotbench agree."""
    from cotbench.engines.lm_eval.engine import native_config

    for task in all_tasks().values():
        cfg = native_config(task)
        s = task.settings()
        gk = cfg["generation_kwargs"]
        assert gk["max_gen_toks"] == s.max_tokens, task.name
        assert float(gk.get("temperature", 0.0)) == s.temperature, task.name
