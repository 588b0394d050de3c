"""The code scorer: program extraction, HumanEval/MBPP/LiveCodeBench item shapes, real items."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cotbench.errors import CotbenchError
from cotbench.scoring.base import score_response
from cotbench.scoring.code import build_job, extract_program, humaneval_program, score_code

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

HUMANEVAL_ITEM = {
    "prompt": "from typing import List\n\n\ndef total(xs: List[int]) -> int:\n    \"\"\"Sum of xs.\"\"\"\n",
    "entry_point": "total",
    "test": "def check(candidate):\n    assert candidate([1, 2]) == 3\n    assert candidate([]) == 0\n",
}
MBPP_ITEM = {
    "test_imports": ["import math"],
    "test_list": ["assert root(4) == 2", "assert root(9) == 3", "assert root(2) == math.sqrt(2)", "assert root(0) == 0"],
}


def test_extract_program_prefers_the_last_python_fence() -> None:
    answer = "Draft:\n```python\nx = 1\n```\nShell:\n```bash\nls\n```\nFinal:\n```python\nx = 2\n```\nDone."
    assert extract_program(answer) == "x = 2\n"
    assert extract_program("```\ny = 3\n```") == "y = 3\n"
    assert extract_program("def f():\n    return 1") == "def f():\n    return 1"
    assert extract_program("```python\nz = 4\n") == "z = 4\n"  # unclosed fence


@pytest.mark.parametrize(
    "answer",
    [
        "```python\ndef total(xs):\n    return sum(xs)\n```",  # full function
        "    return sum(xs)\n",  # indented body
        "return sum(xs)",  # body without indentation
        "Here you go:\n```python\nfrom typing import List\n\ndef total(xs: List[int]) -> int:\n    acc = 0\n"
        "    for x in xs:\n        acc += x\n    return acc\n```\nThis loops once.",
    ],
)
def test_humaneval_full_function_or_body(answer: str) -> None:
    score = score_code(answer, None, HUMANEVAL_ITEM, False)
    assert score.value == 1.0, score.details


def test_humaneval_wrong_and_crashing_programs() -> None:
    assert score_code("return 0", None, HUMANEVAL_ITEM, False).value == 0.0
    crash = score_code("```python\ndef total(xs):\n    return xs[10]\n```", None, HUMANEVAL_ITEM, False)
    assert crash.value == 0.0 and "IndexError" in crash.details["error"]


def test_humaneval_program_keeps_prompt_helpers() -> None:
    prompt = "def helper(x):\n    return x * 2\n\ndef f(x):\n    \"\"\"doc\"\"\"\n"
    program = humaneval_program(prompt, "def f(x):\n    return helper(x)\n", "f")
    namespace: dict = {}
    exec(program, namespace)  # trusted text built here, not model output
    assert namespace["f"](2) == 4


def test_mbpp_partial_pass_reports_fraction() -> None:
    answer = "```python\ndef root(n):\n    return int(math.sqrt(n))\n```"
    score = score_code(answer, None, MBPP_ITEM, False)
    assert score.value == 0.0
    assert score.details["passed"] == 3 and score.details["total"] == 4 and score.details["fraction"] == 0.75
    full = score_code("```python\ndef root(n):\n    return math.sqrt(n)\n```", None, MBPP_ITEM, False)
    assert full.value == 1.0 and full.details["fraction"] == 1.0


def test_livecodebench_stdin_and_functional_tests() -> None:
    stdin_item = {"public_test_cases": json.dumps([
        {"input": "2 3\n", "output": "5\n", "testtype": "stdin"},
        {"input": "10 -4\n", "output": "6\n", "testtype": "stdin"},
    ])}
    good = "```python\na, b = map(int, input().split())\nprint(a + b)\n```"
    assert score_code(good, None, stdin_item, False).value == 1.0
    assert score_code("```python\nprint(5)\n```", None, stdin_item, False).details["passed"] == 1
    functional_item = {
        "public_test_cases": [{"input": "[1, 2, 3]\n2", "output": "true", "testtype": "functional"}],
        "metadata": {"func_name": "has"},
    }
    solution = "```python\nclass Solution:\n    def has(self, xs, x):\n        return x in xs\n```"
    assert score_code(solution, None, functional_item, False).value == 1.0


def test_truncated_empty_and_testless_items() -> None:
    assert score_code("", None, MBPP_ITEM, True).value == 0.0
    assert score_code("  ", None, MBPP_ITEM, False).value == 0.0
    scored = score_response("code", "<think>I will write def root(n):", None, MBPP_ITEM)
    assert scored.truncated and scored.score.value == 0.0
    with pytest.raises(CotbenchError):
        score_code("x = 1", None, {"prompt": "p"}, False)


def test_misbehaving_code_scores_zero_and_scoring_continues(tmp_path: Path) -> None:
    keep = tmp_path / "keep.txt"
    keep.write_text("mine")
    fast = {**MBPP_ITEM, "timeout_s": 2}
    attacks = [
        "import os\nwhile True:\n    os.fork()\n",
        "while True:\n    pass\n",
        "x = bytearray(32 * 1024 ** 3)\n",
        "import urllib.request\nurllib.request.urlopen('http://example.com')\n",
        f"import os\nos.remove({str(keep)!r})\n",
        f"print(open({str(keep)!r}).read())\n",
    ]
    for attack in attacks:
        score = score_code(f"```python\n{attack}```", None, fast, False)
        assert score.value == 0.0, attack
    assert keep.read_text() == "mine"
    assert score_code("```python\ndef root(n):\n    return math.sqrt(n)\n```", None, fast, False).value == 1.0


def _jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        pytest.skip(f"{path} not present")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_humaneval_canonical_solutions_pass_and_wrong_ones_fail() -> None:
    rows = _jsonl(DATA / "humaneval" / "HumanEval.jsonl")
    assert len(rows) == 164
    for row in rows[::32]:
        body = score_code(row["canonical_solution"], None, row, False)
        assert body.value == 1.0, (row["task_id"], body.details)
        full = score_code(f"```python\n{row['prompt']}{row['canonical_solution']}```", None, row, False)
        assert full.value == 1.0, (row["task_id"], full.details)
        assert score_code("    return None\n", None, row, False).value == 0.0, row["task_id"]


def test_mbpp_reference_code_passes() -> None:
    path = DATA / "mbpp" / "sanitized-mbpp.json"
    if not path.is_file():
        pytest.skip("MBPP data not present")
    rows = json.loads(path.read_text())
    for row in rows[::40]:
        score = score_code(f"```python\n{row['code']}\n```", None, row, False)
        assert score.value == 1.0, (row["task_id"], score.details)
        assert score.details["total"] == len(row["test_list"])
    program, tests = build_job("```python\npass\n```", rows[0])
    assert len(tests) == len(rows[0]["test_list"])


def test_main_block_does_not_run_for_function_tests_but_does_for_stdin_programs() -> None:
    program = "def root(n):\n    return math.sqrt(n)\n\nif __name__ == '__main__':\n    n = int(input())\n"
    assert score_code(f"```python\n{program}```", None, MBPP_ITEM, False).value == 1.0
    stdin_item = {"public_test_cases": [{"input": "4\n", "output": "8\n", "testtype": "stdin"}]}
    main_only = "def double(n):\n    return 2 * n\n\nif __name__ == '__main__':\n    print(double(int(input())))\n"
    assert score_code(f"```python\n{main_only}```", None, stdin_item, False).value == 1.0
