"""Grading speed of the ``math`` scorer: fast paths vs sending every sample to sympy.

Grades each item's reference solution against its reference answer (GSM8K: the solution with
its ``#### N`` line; MATH-500: the solution with its ``\\boxed{..}``), one sample at a time
from one caller, twice in this same process:
  baseline  every sample goes to the worker (math-verify / sympy): ``grade(.., fast=False)``
  default   the parent's fast paths first (string, number, fraction), the worker only when they
            cannot decide: ``grade(..)``
Prints gradings/s for both, the ratio default / baseline, the goal (>= 500 gradings/s per
core for the default), the fraction of samples each path decided, the share graded correct in
each mode and how many verdicts differ between the two (expected 0). The worker is started
before timing, so neither figure includes its start-up.

With ``--variants`` it also grades ``grader_agreement.py``'s completions (reformatted numbers,
fractions as decimals, units, wrong answers: correctness known by construction), where the
number, fraction and sympy paths all get work; "correct" there is agreement with the truth.

    python benchmarks/grader_speed.py [--data-dir ../shared/data] [--limit 200] [--variants]
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GOAL_PER_S = 500.0
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


Sample = tuple[str, str, bool]  # (reference answer, completion, truth)


def samples(data_dir: Path, limit: int | None, variants: bool) -> dict[str, list[Sample]]:
    """(reference answer, reference solution, True) per dataset, and the variant completions."""
    from cotbench.tasks.benchmarks.math import gsm8k_answer

    def read(name: str) -> list[dict[str, Any]]:
        lines = (data_dir / name / "test.jsonl").read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()][:limit]

    gsm, math500 = read("gsm8k"), read("math500")
    out = {
        "GSM8K": [(gsm8k_answer(r["answer"]), r["answer"], True) for r in gsm],
        "MATH-500": [(r["answer"], r["solution"], True) for r in math500],
    }
    if variants:
        spec = importlib.util.spec_from_file_location(
            "grader_agreement", Path(__file__).with_name("grader_agreement.py")
        )
        assert spec and spec.loader
        agreement = sys.modules.setdefault("grader_agreement", importlib.util.module_from_spec(spec))
        spec.loader.exec_module(agreement)
        out["GSM8K variants"] = [(c.doc["target"], c.text, c.correct) for c in agreement.gsm8k_cases(gsm)]
        out["MATH-500 variants"] = [(c.doc["target"], c.text, c.correct) for c in agreement.math500_cases(math500)]
    return out


def run(pairs: list[Sample], fast: bool) -> tuple[float, list[dict[str, Any]]]:
    """(seconds, replies) for grading every sample in turn."""
    from cotbench.scoring.math import grade

    start = time.perf_counter()
    replies = [grade(target, answer, fast=fast) for target, answer, _ in pairs]
    return time.perf_counter() - start, replies


def measure(pairs: list[Sample]) -> dict[str, Any]:
    base_s, base = run(pairs, fast=False)
    fast_s, fast = run(pairs, fast=True)
    n = len(pairs)
    return {
        "n": n,
        "baseline_per_s": n / base_s,
        "default_per_s": n / fast_s,
        "paths": collections.Counter(r.get("equivalence", "?") for r in fast),
        "baseline_correct": sum(r["correct"] == truth for r, (_, _, truth) in zip(base, pairs, strict=True)) / n,
        "default_correct": sum(r["correct"] == truth for r, (_, _, truth) in zip(fast, pairs, strict=True)) / n,
        "differ": sum(a["correct"] != b["correct"] for a, b in zip(base, fast, strict=True)),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=os.environ.get("COTBENCH_DATA_DIR") or DEFAULT_DATA)
    ap.add_argument("--limit", type=int, default=None, help="first N items of each dataset")
    ap.add_argument("--variants", action="store_true", help="also grade grader_agreement.py's completions")
    args = ap.parse_args()
    if not (args.data_dir / "gsm8k").is_dir():
        raise SystemExit(f"no gsm8k/ under {args.data_dir}: pass --data-dir (the shared data dir)")

    from cotbench.scoring.math import grade

    grade("1", "\\boxed{x + 1 - x}", fast=False)  # start the worker and warm sympy outside the timings
    print(f"one caller, one sample at a time; goal: default >= {GOAL_PER_S:.0f} gradings/s per core\n")
    print("| dataset | n | baseline /s | default /s | ratio default/baseline | ratio default/goal "
          "| correct baseline | correct default | verdicts differ | decided by |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for name, pairs in samples(args.data_dir, args.limit, args.variants).items():
        m = measure(pairs)
        paths = ", ".join(f"{p} {c / m['n']:.1%}" for p, c in m["paths"].most_common())
        print(f"| {name} | {m['n']} | {m['baseline_per_s']:.0f} | {m['default_per_s']:.0f} "
              f"| {m['default_per_s'] / m['baseline_per_s']:.1f} | {m['default_per_s'] / GOAL_PER_S:.2f} "
              f"| {m['baseline_correct']:.1%} | {m['default_correct']:.1%} | {m['differ']} | {paths} |")


if __name__ == "__main__":
    main()
