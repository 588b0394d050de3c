"""cotbench's ``math`` grader vs lm-eval's own built-in scoring, on the same completions.

Completions are built from the shared data (``COTBENCH_DATA_DIR`` or ``--data-dir``): each
item's reference solution plus systematic variants whose correctness is known by construction
(reformatted numbers, ``\\boxed`` vs "The answer is", equivalent forms, units, wrong answers).
Graders, each imported from the installed packages (nothing copied):
  GSM8K     cotbench math | lm-eval gsm8k strict-match and flexible-extract (the regex filters
            and exact_match settings read from lm-eval's own gsm8k.yaml)
  MATH-500  cotbench math | lm-eval hendrycks_math500 (hendrycks_math utils) | lm-eval
            minerva_math (utils: exact_match and math_verify), when its imports succeed
Prints, per dataset, each grader's accuracy against the known truth, its agreement with
cotbench, whether cotbench is right wherever the lm-eval grader is right, and the
disagreements by kind of variant.

    python benchmarks/grader_agreement.py --data-dir ../shared/data [--limit 200]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@dataclass(frozen=True)
class Case:
    dataset: str
    item: str
    kind: str  # which variant of the answer
    text: str  # the completion
    correct: bool  # truth, by construction
    doc: dict[str, Any]  # the item as the graders need it


# --- completions -----------------------------------------------------------------------------------

def _shift(number: str) -> str:
    """A different number of the same shape (a wrong answer)."""
    return str(int(number) + 1) if re.fullmatch(r"-?\d+", number) else f"{number}+1"


def gsm8k_cases(rows: list[dict[str, Any]]) -> Iterator[Case]:
    from cotbench.tasks.benchmarks.math import gsm8k_answer

    for i, r in enumerate(rows):
        n, body = gsm8k_answer(r["answer"]), r["answer"].rsplit("####", 1)[0].rstrip()
        doc = {"question": r["question"], "answer": r["answer"], "target": n}
        variants = [
            ("reference", r["answer"], True),
            ("boxed", f"{body}\nThe answer is \\boxed{{{n}}}.", True),
            ("answer_is", f"{body}\nThe answer is {n}.", True),
            ("dollar_sign", f"{body}\nThe answer is ${n}.", True),
            ("unit_word", f"{body}\nThe answer is {n} dollars.", True),
            ("trailing_zeros", f"{body}\n#### {n}.00", True),
            ("number_after_answer", f"{body}\nThe answer is \\boxed{{{n}}}, which is {_shift(n)} minus one.", True),
            ("wrong", f"{body}\n#### {_shift(n)}", False),
            ("wrong_boxed", f"{body}\nThe answer is \\boxed{{{_shift(n)}}}.", False),
        ]
        if re.fullmatch(r"\d{4,}", n):
            variants.append(("thousands_separator", f"{body}\n#### {int(n):,}", True))
        for kind, text, ok in variants:
            yield Case("gsm8k", f"{i:04d}", kind, text, ok, doc)


_FRAC_RE = re.compile(r"^(-?)\\[dt]?frac\{(\d+)\}\{(\d+)\}$")


def _decimal(answer: str) -> str | None:
    """A terminating decimal equal to a plain fraction answer (\\frac{3}{4} -> 0.75)."""
    m = _FRAC_RE.match(answer)
    if not m:
        return None
    p, q = int(m.group(2)), int(m.group(3))
    for digits in range(1, 7):
        if (p * 10**digits) % q == 0:
            return f"{m.group(1)}{p * 10**digits // q / 10**digits:.{digits}f}".rstrip("0").rstrip(".")
    return None


def math500_cases(rows: list[dict[str, Any]]) -> Iterator[Case]:
    for r in rows:
        a = r["answer"]
        doc = {"problem": r["problem"], "solution": r["solution"], "answer": a, "target": a}
        # Format variants: where the answer is stated. Equivalence variants: how it is written,
        # always as "The answer is $X$." (a form both cotbench and hendrycks_math extract), so
        # they test equivalence and not extraction.
        variants = [
            ("reference_solution", r["solution"], True),
            ("boxed", f"The final answer is $\\boxed{{{a}}}$.", True),
            ("minerva_format", f"Final Answer: The final answer is ${a}$. I hope it is correct.", True),
            ("answer_is_dollars", f"The answer is ${a}$.", True),
        ]
        forms = [("wrong", _shift(a), False)]
        if "\\frac" in a:
            forms.append(("dfrac_form", a.replace("\\frac", "\\dfrac"), True))
        if (dec := _decimal(a)) is not None:
            forms.append(("decimal_for_fraction", dec, True))
        if re.fullmatch(r"-?\d+", a):
            forms += [("integer_as_decimal", f"{a}.0", True), ("unit_text", f"{a}\\text{{ units}}", True)]
            if abs(int(a)) >= 1000:
                forms.append(("thousands_separator", f"{int(a):,}", True))
        variants += [(kind, f"The answer is ${form}$.", ok) for kind, form, ok in forms]
        for kind, text, ok in variants:
            yield Case("math500", r["unique_id"], kind, text, ok, doc)


# --- graders ---------------------------------------------------------------------------------------

Grader = Callable[[Case], bool]


def cotbench_grader(case: Case) -> bool:
    from cotbench.scoring.base import score_response

    return score_response("math", case.text, case.doc["target"], {}).score.value == 1.0


def lm_eval_gsm8k_graders() -> dict[str, Grader]:
    """strict-match and flexible-extract exactly as lm-eval's gsm8k.yaml configures them."""
    import lm_eval
    import yaml
    from lm_eval.api.metrics import exact_match_hf_evaluate
    from lm_eval.filters.extraction import RegexFilter

    cfg = yaml.safe_load((Path(lm_eval.__file__).parent / "tasks" / "gsm8k" / "gsm8k.yaml").read_text())
    metric = next(m for m in cfg["metric_list"] if m["metric"] == "exact_match")
    match_kwargs = {k: metric[k] for k in ("ignore_case", "ignore_punctuation", "regexes_to_ignore")}
    graders: dict[str, Grader] = {}
    for flt in cfg["filter_list"]:
        regex = next(f for f in flt["filter"] if f["function"] == "regex")
        rf = RegexFilter(regex_pattern=regex["regex_pattern"], group_select=regex.get("group_select", 0))

        def grade(case: Case, rf: RegexFilter = rf) -> bool:
            extracted = next(iter(rf.apply([[case.text]], [case.doc])))[0]
            # doc_to_target is the whole solution; regexes_to_ignore strips it to the number.
            return exact_match_hf_evaluate([extracted], [case.doc["answer"]], **match_kwargs)["exact_match"] == 1.0

        graders[f"lm-eval gsm8k {flt['name']}"] = grade
    return graders


def lm_eval_math_graders() -> tuple[dict[str, Grader], list[str]]:
    """hendrycks_math500 (always importable) and minerva_math (needs antlr4 4.11 for sympy)."""
    import datasets
    from lm_eval.tasks.hendrycks_math import utils as hendrycks

    notes: list[str] = []

    def processed(module: Any, case: Case) -> dict[str, Any]:
        key = (module.__name__, case.item)
        if key not in _DOCS:
            raw = {k: case.doc[k] for k in ("problem", "solution", "answer")}
            _DOCS[key] = module.process_docs(datasets.Dataset.from_list([raw]))[0]
        return _DOCS[key]

    graders: dict[str, Grader] = {
        "lm-eval hendrycks_math500": lambda c: (
            hendrycks.process_results(processed(hendrycks, c), [c.text])["exact_match"] == 1
        ),
    }
    try:
        from lm_eval.tasks.minerva_math import utils as minerva
    except (ImportError, AssertionError) as exc:
        notes.append(f"lm-eval minerva_math not run: its utils do not import here ({str(exc).splitlines()[0][:160]})")
    else:
        graders["lm-eval minerva exact_match"] = lambda c: (
            minerva.process_results(processed(minerva, c), [c.text])["exact_match"] == 1
        )
        graders["lm-eval minerva math_verify"] = lambda c: (
            minerva.process_results(processed(minerva, c), [c.text])["math_verify"] == 1
        )
    return graders, notes


_DOCS: dict[tuple[str, str], dict[str, Any]] = {}


# --- report ----------------------------------------------------------------------------------------

def report(dataset: str, cases: list[Case], graders: dict[str, Grader]) -> None:
    t0 = time.perf_counter()
    verdicts = {name: [g(c) for c in cases] for name, g in graders.items()}
    ours = verdicts["cotbench math"]
    print(f"\n## {dataset}: {len({c.item for c in cases})} items, {len(cases)} completions "
          f"({time.perf_counter() - t0:.1f}s)\n")
    print("| grader | accuracy vs truth | agrees with cotbench | cotbench right where it is right |")
    print("|---|---:|---:|---:|")
    for name, v in verdicts.items():
        acc = sum(x == c.correct for x, c in zip(v, cases, strict=True)) / len(cases)
        agree = sum(x == y for x, y in zip(v, ours, strict=True)) / len(cases)
        right = [i for i, (x, c) in enumerate(zip(v, cases, strict=True)) if x == c.correct]
        covered = sum(ours[i] == cases[i].correct for i in right) / len(right) if right else float("nan")
        print(f"| {name} | {acc:.2%} | {agree:.2%} | {covered:.2%} |")
    print("\nDisagreements with cotbench by kind (n = completions of that kind; "
          "'cotbench right' = cotbench matches the truth and the other grader does not):\n")
    print("| grader | kind | n | disagree | cotbench right | other right |")
    print("|---|---|---:|---:|---:|---:|")
    examples: list[str] = []
    for name, v in verdicts.items():
        if name == "cotbench math":
            continue
        by_kind: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0, 0, 0])
        for x, y, c in zip(v, ours, cases, strict=True):
            row = by_kind[c.kind]
            row[0] += 1
            if x != y:
                row[1] += 1
                row[2] += y == c.correct
                row[3] += x == c.correct
                if x == c.correct and len(examples) < 12:
                    examples.append(f"- {name} right, cotbench wrong: {c.dataset} {c.item} [{c.kind}] "
                                    f"target {c.doc['target']!r}, completion ends {c.text[-80:]!r}")
        for kind, (n, dis, ours_right, theirs_right) in sorted(by_kind.items()):
            if dis:
                print(f"| {name} | {kind} | {n} | {dis} | {ours_right} | {theirs_right} |")
    if examples:
        print("\nWhere cotbench is the one that is wrong:\n")
        print("\n".join(examples))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=os.environ.get("COTBENCH_DATA_DIR"))
    ap.add_argument("--limit", type=int, default=None, help="first N items of each dataset")
    args = ap.parse_args()
    if args.data_dir is None:
        raise SystemExit("pass --data-dir (the shared data dir with gsm8k/ and math500/)")

    def read(name: str) -> list[dict[str, Any]]:
        lines = (args.data_dir / name / "test.jsonl").read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines[: args.limit] if line.strip()]

    gsm = list(gsm8k_cases(read("gsm8k")))
    report("GSM8K", gsm, {"cotbench math": cotbench_grader, **lm_eval_gsm8k_graders()})
    math_graders, notes = lm_eval_math_graders()
    report("MATH-500", list(math500_cases(read("math500"))), {"cotbench math": cotbench_grader, **math_graders})
    for note in notes:
        print(f"\nNote: {note}")


if __name__ == "__main__":
    main()
