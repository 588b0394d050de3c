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
    "test_list": [
        "assert root(4) == 2",
        "assert root(9) == 3",
        "assert root(2) == math.sqrt(2)",
        "assert root(0) == 0",
    ],
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


# Answers with several fenced blocks: the solution is often followed by an "Example usage" block.
ADD_ITEM = {
    "prompt": "def add(a, b):\n    \"\"\"Sum of a and b.\"\"\"\n",
    "entry_point": "add",
    "test": "def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0\n",
}
OCC_ITEM = {  # MBPP task 11, as the mbpp loader builds it
    "id": "11", "test_imports": [],
    "test_list": ['assert remove_Occ("hello","l") == "heo"', 'assert remove_Occ("abcda","a") == "bcd"',
                  'assert remove_Occ("PHP","P") == "H"'],
}
ADD_OK = "def add(a, b):\n    return a + b\n"
ADD_BAD = "def add(a, b):\n    return a - b\n"
OCC_OK = ("def remove_Occ(s, ch):\n    i = s.find(ch)\n    s = s[:i] + s[i + 1:]\n"
          "    j = s.rfind(ch)\n    return s[:j] + s[j + 1:]\n")


def _fences(*blocks: str, lang: str = "python") -> str:
    return "\n".join(f"Step {i}:\n```{lang}\n{b}```" for i, b in enumerate(blocks, 1))


@pytest.mark.parametrize(
    "item, answer, source",
    [
        (ADD_ITEM, f"Here is the solution:\n```python\n{ADD_OK}```\nExample usage:\n```python\nprint(add(2, 3))\n```",
         "block 1 defining add"),
        (OCC_ITEM, _fences(OCC_OK, 'print(remove_Occ("hello", "l"))  # heo\n'), "block 1 defining remove_Occ"),
        (OCC_ITEM, _fences(OCC_OK, 's = input()\nprint(remove_Occ(s, "l"))\n', lang=""), "block 1 defining remove_Occ"),
    ],
)
def test_example_usage_block_after_the_solution_is_not_run(item: dict, answer: str, source: str) -> None:
    scored = score_response("code", f"<think>Easy.</think>\n{answer}", None, item)
    assert scored.score.value == 1.0, scored.score.details
    details = scored.score.details
    assert details["program_source"] == source and "print(" not in details["program"]
    assert "print(" not in scored.score.extracted


def test_last_block_defining_the_entry_point_wins() -> None:
    wrong_last = score_code(_fences(ADD_OK, ADD_BAD, "print(add(2, 3))\n"), None, ADD_ITEM, False)
    assert wrong_last.value == 0.0 and wrong_last.details["program_source"] == "block 2 defining add"
    right_last = score_code(_fences(ADD_BAD, ADD_OK, "print(add(2, 3))\n"), None, ADD_ITEM, False)
    assert right_last.value == 1.0 and right_last.details["program_source"] == "block 2 defining add"


def test_helpers_from_other_blocks_are_assembled_without_example_code() -> None:
    helper = ("import functools\nimport operator\n\n@functools.lru_cache(maxsize=None)\n"
              "def _plus(a, b):\n    return operator.add(a, b)\n\nprint(_plus(1, 1))\n")
    answer = _fences(helper, "def add(a, b):\n    return _plus(a, b)\n", "assert add(2, 2) == 5\nprint(add(2, 3))\n")
    score = score_code(answer, None, ADD_ITEM, False)
    assert score.value == 1.0, score.details
    assert score.details["program_source"] == "assembled from 2 blocks"
    assert "print(" not in score.details["program"] and "assert add" not in score.details["program"]
    # MBPP: a class and the function the tests call, in separate blocks, none defining both
    item = {"test_list": ["assert longest([Pair(1, 2), Pair(3, 4)]) == 2"]}
    blocks = ("class Pair:\n    def __init__(self, a, b):\n        self.a, self.b = a, b\n",
              "LIMIT = 10\nunused = input()\n\ndef longest(ps):\n    return min(len(ps), LIMIT)\n",
              "print(longest([Pair(1, 2)]))\n")
    score = score_code(_fences(*blocks), None, item, False)
    assert score.value == 1.0, score.details
    assert score.details["program_source"] == "assembled from 2 blocks" and "input()" not in score.details["program"]


def test_blocks_with_syntax_errors_are_skipped() -> None:
    broken = "def add(a, b)\n    return a - b\n"
    score = score_code(_fences(ADD_OK, broken, "print(add(2, 3))\n"), None, ADD_ITEM, False)
    assert score.value == 1.0 and score.details["program_source"] == "block 1 defining add"
    # nothing parses: the last block runs, as before
    score = score_code(_fences("def add(a, b) return a\n", broken), None, ADD_ITEM, False)
    assert score.value == 0.0 and score.details["program_source"] == "last block"


def test_unfenced_and_body_only_answers() -> None:
    plain = score_code(ADD_OK, None, ADD_ITEM, False)
    assert plain.value == 1.0 and plain.details["program_source"] == "whole answer"
    unclosed = score_code(f"```python\n{ADD_OK}", None, ADD_ITEM, False)
    assert unclosed.value == 1.0 and unclosed.details["program_source"] == "unclosed block"
    body = score_code(_fences("    return a + b\n", "print(add(2, 3))\n"), None, ADD_ITEM, False)
    assert body.value == 1.0 and body.details["program_source"] == "body in block 1"
    unindented = score_code(_fences("return a + b\n"), None, ADD_ITEM, False)
    assert unindented.value == 1.0, unindented.details
    # no entry point to look for (stdin programs): the last block runs whole, as before
    stdin_item = {"public_test_cases": [{"input": "4\n", "output": "8\n", "testtype": "stdin"}]}
    stdin = score_code(_fences("def double(n):\n    return 2 * n\n", "print(double(int(input())))\n"),
                       None, stdin_item, False)
    assert stdin.value == 0.0 and stdin.details["program_source"] == "last block"


def test_program_selection_only_parses_and_the_program_runs_in_the_sandbox(monkeypatch: pytest.MonkeyPatch,
                                                                           tmp_path: Path) -> None:
    import cotbench.scoring.code as code_mod

    marker = tmp_path / "ran-on-host"
    side_effect = f"open({str(marker)!r}, 'w').write('x')\n"
    ran: list[str] = []
    real = code_mod.run_tests
    monkeypatch.setattr(code_mod, "run_tests", lambda program, *a, **k: ran.append(program) or real(program, *a, **k))
    deep = "x = " + "-" * 200_000 + "1\n"  # ast.parse raises MemoryError/RecursionError on this
    answer = _fences(f"def _h():\n    return 0\n{side_effect}", deep, "(" * 5000 + "\n",
                     f"def add(a, b):\n    return a + b\n{side_effect}", "x\0 = 1\n")
    score = score_code(answer, None, ADD_ITEM, False)
    assert not marker.exists() and len(ran) == 1 and ran[0].startswith(ADD_ITEM["prompt"])
    assert score.details["program_source"] == "block 4 defining add"
    long = score_code(_fences(ADD_OK + "\n".join(f"# {i}" for i in range(2000))), None, ADD_ITEM, False)
    assert long.value == 1.0 and len(long.details["program"]) < 4100


def test_a_test_block_importing_the_solution_does_not_define_it() -> None:
    pytest_block = "from solution import add\n\ndef test_add():\n    assert add(2, 3) == 5\n"
    score = score_code(_fences(ADD_OK, pytest_block), None, ADD_ITEM, False)
    assert score.value == 1.0 and score.details["program_source"] == "block 1 defining add"
    # assembling too: the definition wins over the later import of the same name
    score = score_code(_fences("def _plus(a, b):\n    return a + b\n", "def add(a, b):\n    return _plus(a, b)\n",
                               pytest_block), None, ADD_ITEM, False)
    assert score.value == 1.0 and score.details["program_source"] == "assembled from 2 blocks"


def test_mbpp_names_from_the_solutions_imports_and_shadowed_builtins() -> None:
    sizes = {"test_list": ["assert tuple_size((1, 2)) == sys.getsizeof((1, 2))"]}  # MBPP 596: sys comes from the code
    answer = _fences("import sys\n\ndef tuple_size(t):\n    return sys.getsizeof(t)\n", "print(tuple_size((1,)))\n")
    score = score_code(answer, None, sizes, False)
    assert score.value == 1.0 and score.details["program_source"] == "block 1 defining sys, tuple_size"
    divisors = {"test_list": ["assert sum(10, 15) == 6"]}  # MBPP 126 defines its own sum
    answer = _fences("def sum(a, b):\n    return 6 if (a, b) == (10, 15) else 0\n", "print(sum(10, 15))\n")
    score = score_code(answer, None, divisors, False)
    assert score.value == 1.0 and score.details["program_source"] == "block 1 defining sum"


def test_humaneval_helpers_come_from_the_prompt_not_the_answer() -> None:
    # The tests use the prompt's encoder; an answer that redefines it cannot make a wrong decoder pass.
    item = {
        "prompt": 'def enc(s):\n    return s[::-1]\n\n\ndef dec(s):\n    """Undo enc."""\n',
        "entry_point": "dec",
        "test": "def check(candidate):\n    assert candidate(enc('abc')) == 'abc'\n    assert candidate('') == ''\n",
    }
    rigged = "```python\ndef enc(s):\n    return s\n\n\ndef dec(s):\n    return s\n```"
    assert score_code(rigged, None, item, False).value == 0.0
    assert score_code("```python\ndef dec(s):\n    return s[::-1]\n```", None, item, False).value == 1.0


def test_a_sandbox_failure_scores_zero_and_the_run_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    import cotbench.scoring.code as code_mod

    def broken(*_args: object, **_kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(code_mod, "run_tests", broken)
    score = score_code("```python\ndef root(n):\n    return math.sqrt(n)\n```", None, MBPP_ITEM, False)
    assert score.value == 0.0 and score.details["status"] == "sandbox_error"
    assert score.details["total"] == 4 and "OSError" in score.details["error"]
