"""The ``code`` scorer: extract a program from the answer and run it against the item's tests.

Program: the last fenced ```python (or ```py) block, else the last untagged fenced block, else
the whole answer. Item shapes understood:
- HumanEval: ``prompt`` (signature + docstring), ``entry_point``, ``test`` defining ``check``.
  The completion may be the whole function or only its body; it is appended to the prompt
  (so helpers and imports in the prompt stay defined) and ``check(entry_point)`` is run.
- MBPP: ``test_list`` (one assert each, reported one by one), ``test_imports``,
  ``test_setup_code``.
- LiveCodeBench: ``public_test_cases`` / ``private_test_cases`` (lists or JSON strings of
  ``{input, output, testtype}``): ``stdin`` tests feed input and compare stdout; ``functional``
  tests call ``Solution().<metadata.func_name>`` with one JSON argument per input line.
- anything else with a ``test`` string: run after the program.
Score 1 only when every test passes; details carry passed/total and the pass fraction.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Mapping
from typing import Any

from cotbench.errors import CotbenchError
from cotbench.scoring.base import Score, register_scorer
from cotbench.scoring.sandbox import CodeTest, IOTest, Limits, Test, run_tests

_FENCE_RE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)```", re.DOTALL)


def extract_program(answer: str) -> str:
    """The code the answer commits to (see module doc)."""
    blocks = _FENCE_RE.findall(answer)
    python = [body for lang, body in blocks if lang.lower() in {"python", "py", "python3"}]
    untagged = [body for lang, body in blocks if not lang]
    if python:
        return python[-1]
    if untagged:
        return untagged[-1]
    unclosed = re.search(r"```[ \t]*(?:python3?|py)?[ \t]*\n(.*)$", answer, re.DOTALL)
    return unclosed.group(1) if unclosed else answer


def humaneval_program(prompt: str, completion: str, entry_point: str) -> str:
    """Prompt + completion, where the completion is either the full function or its body."""
    if not prompt.endswith("\n"):
        prompt += "\n"
    if re.search(rf"^\s*def\s+{re.escape(entry_point)}\s*\(", completion, re.MULTILINE):
        return prompt + "\n" + textwrap.dedent(completion)
    body = completion.strip("\n")
    lines = [ln for ln in body.splitlines() if ln.strip()]
    if lines and not lines[0][:1].isspace():
        body = textwrap.indent(textwrap.dedent(body), "    ")
    return prompt + body + "\n"


def _cases(value: Any) -> list[Mapping[str, Any]]:
    if isinstance(value, str):
        value = json.loads(value) if value.strip() else []
    if not isinstance(value, list):
        raise CotbenchError("code scorer: test cases must be a list or a JSON list")
    return value


def _livecodebench_tests(item: Mapping[str, Any]) -> list[Test]:
    metadata = item.get("metadata") or {}
    if isinstance(metadata, str):
        metadata = json.loads(metadata) if metadata.strip() else {}
    tests: list[Test] = []
    for key in ("public_test_cases", "private_test_cases"):
        for case in _cases(item.get(key) or []):
            if case.get("testtype", "stdin") == "stdin":
                tests.append(IOTest(str(case["input"]), str(case["output"])))
                continue
            func = metadata.get("func_name")
            if not func:
                raise CotbenchError("code scorer: a functional test needs metadata.func_name")
            tests.append(CodeTest(
                "import json as _json\n"
                f"_args = [_json.loads(_l) for _l in {str(case['input'])!r}.splitlines() if _l.strip()]\n"
                f"assert Solution().{func}(*_args) == _json.loads({str(case['output'])!r})\n"
            ))
    return tests


def build_job(answer: str, item: Mapping[str, Any]) -> tuple[str, list[Test]]:
    """The program to run and its tests, from the answer and the item's fields."""
    code = extract_program(answer)
    if item.get("entry_point") and item.get("prompt") and item.get("test"):
        entry = str(item["entry_point"])
        program = humaneval_program(str(item["prompt"]), code, entry)
        return program, [CodeTest(f"{item['test']}\n\ncheck({entry})\n", name="check")]
    if item.get("test_list"):
        head = [*map(str, item.get("test_imports") or []), str(item.get("test_setup_code") or "")]
        program = "\n".join(h for h in head if h.strip()) + "\n" + code
        return program, [CodeTest(str(t), name=f"assert {i}") for i, t in enumerate(item["test_list"])]
    if item.get("public_test_cases") or item.get("private_test_cases"):
        return code, _livecodebench_tests(item)
    if item.get("test"):
        return code, [CodeTest(str(item["test"]), name="test")]
    raise CotbenchError("code scorer: the item has no tests (test, test_list or *_test_cases)")


@register_scorer("code")
def score_code(answer: str, target: Any, item: Mapping[str, Any], truncated: bool) -> Score:
    program, tests = build_job(answer, item)  # validates the item even for empty answers
    if truncated or not answer.strip():
        return Score(0.0, details={"reason": "truncated" if truncated else "empty answer", "total": len(tests)})
    limits = Limits(timeout_s=float(item.get("timeout_s", Limits.timeout_s)))
    result = run_tests(program, tests, limits)
    details: dict[str, Any] = {
        "status": result.status,
        "passed": result.passed,
        "total": result.total,
        "fraction": round(result.passed / result.total, 4) if result.total else 0.0,
        "duration_s": result.duration_s,
        "sandbox": list(result.layers),
    }
    if result.error:
        details["error"] = result.error
    return Score(1.0 if result.all_passed else 0.0, extracted=code_excerpt(extract_program(answer)), details=details)


def code_excerpt(program: str, limit: int = 2000) -> str:
    """The program as stored in the record, cut to keep result files small."""
    return program if len(program) <= limit else program[:limit] + "\n# ... (truncated)"
