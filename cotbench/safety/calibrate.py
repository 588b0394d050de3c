"""Measure a refusal classifier or a safety judge against a user's human labels.

The labels file is a CSV with one response per row:

- ``prompt`` (required): the request; ``completion`` (required): the response to it. Reasoning
  (``<think>...</think>``) is split off as in a run: classifiers and judges see the answer only,
  and a completion cut off inside its reasoning is unscored.
- ``final_label``: the human refusal class, in XSTest's coding (``1_full_compliance``,
  ``2_full_refusal``, ``3_partial_refusal``) or by name (``full_compliance``, ...).
- ``harmful``: whether the response carries out the harmful request (``yes``/``no``,
  ``true``/``false``, ``1``/``0``): what a harm judge decides.
- optional ``category`` (figures per category), ``behavior`` and ``context`` (HarmBench: the
  behavior string, default the prompt, and the context of a contextual behavior).

At least one label column is needed; an empty cell leaves that row out of that measure. The
offline classifier (no judge) is measured on refusal labels. A judge is measured on what it
decides: refusal (3-way where it tells three classes, always 2-way: any refusal against
compliance) and harm. Rows the judge could not grade (``judge_error``) are counted apart.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    cohen_kappa_score,
    precision_recall_fscore_support,
)

from cotbench.domains import FULL_COMPLIANCE, REFUSAL_LABELS
from cotbench.errors import CotbenchError
from cotbench.scoring.refusal import classify_refusal
from cotbench.scoring.thinking import split_reasoning

DEVSET = Path(__file__).with_name("devset.csv")
HUMAN_LABELS: dict[str, str] = {
    "1_full_compliance": "full_compliance",
    "2_full_refusal": "full_refusal",
    "3_partial_refusal": "partial_refusal",
    **{label: label for label in REFUSAL_LABELS},
}
HARM_VALUES = {"yes": True, "no": False, "true": True, "false": False, "1": True, "0": False}
REQUIRED_COLUMNS = ("prompt", "completion")
LABEL_COLUMNS = ("final_label", "harmful")
REFUSED = "refusal"  # the two-way class: full or partial refusal


@dataclass(frozen=True)
class ClassMetrics:
    precision: float
    recall: float
    support: int
    f1: float = 0.0


@dataclass(frozen=True)
class HarmAgreement:
    """The judge's harmful / not harmful against the human ``harmful`` labels."""

    n: int
    accuracy: float
    kappa: float
    precision: float  # of "harmful"
    recall: float
    f1: float
    confusion: dict[str, dict[str, int]]  # human -> judge -> count, over harmful / not_harmful


@dataclass(frozen=True)
class CategoryFigures:
    n: int
    accuracy_2way: float | None = None
    accuracy_3way: float | None = None
    harm_accuracy: float | None = None


@dataclass(frozen=True)
class CalibrationReport:
    """Agreement with the human labels. The refusal figures are at the top level (``n`` rows
    compared); ``accuracy_3way`` and ``kappa`` (3-way) are None for a judge that tells only two
    refusal classes, whose ``per_class`` and ``confusion`` are then two-way (``full_compliance``
    and ``refusal``)."""

    source: str
    n: int
    accuracy_3way: float | None
    accuracy_2way: float | None
    kappa: float | None
    per_class: dict[str, ClassMetrics]
    confusion: dict[str, dict[str, int]]  # human label -> predicted label -> count
    kappa_2way: float | None = None
    harm: HarmAgreement | None = None
    per_category: dict[str, CategoryFigures] = field(default_factory=dict)
    judge: dict[str, Any] | None = None  # None: the offline classifier
    n_rows: int = 0
    unscored: dict[str, int] = field(default_factory=dict)  # rows left out: judge_error, truncated
    model_calls: int = 0
    cache_hits: int = 0

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)


def read_labels(path: Path) -> pd.DataFrame:
    """Read a labels CSV, rejecting missing files and columns and unknown label values."""
    if not path.is_file():
        raise CotbenchError(f"labels file not found: {path}")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise CotbenchError(f"cannot read labels file {path}: {str(e).splitlines()[0]}") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing or not any(c in df.columns for c in LABEL_COLUMNS):
        lacking = ", ".join(missing + ([] if any(c in df.columns for c in LABEL_COLUMNS)
                                       else [" or ".join(LABEL_COLUMNS)]))
        raise CotbenchError(f"labels file {path} lacks column(s): {lacking}")
    if df.empty:
        raise CotbenchError(f"labels file {path} has no rows")
    for column, known in (("final_label", HUMAN_LABELS), ("harmful", HARM_VALUES)):
        if column not in df.columns:
            continue
        values = df[column].str.strip()
        unknown = sorted(set(values[values != ""]) - set(known) - {v.upper() for v in known}
                         - {v.capitalize() for v in known})
        if unknown:
            raise CotbenchError(
                f"labels file {path} has unknown {column} value(s): {', '.join(map(repr, unknown[:5]))} "
                f"(expected {', '.join(k for k in known if column == 'harmful' or k[0].isdigit())})"
            )
    return df


@dataclass(frozen=True)
class _Row:
    prompt: str
    answer: str
    truncated: bool
    human: str | None  # refusal label
    harmful: bool | None
    category: str | None
    item: dict[str, str]


def _rows(df: pd.DataFrame) -> list[_Row]:
    rows = []
    for rec in df.to_dict("records"):
        split = split_reasoning(rec["completion"])
        final = str(rec.get("final_label", "")).strip()
        harm = str(rec.get("harmful", "")).strip().lower()
        prompt = rec["prompt"]
        item = {"prompt": prompt, "behavior": str(rec.get("behavior") or "").strip() or prompt,
                "context": str(rec.get("context") or "").strip()}
        rows.append(_Row(prompt, split.answer, split.truncated, HUMAN_LABELS[final] if final else None,
                         HARM_VALUES[harm] if harm else None, str(rec.get("category") or "").strip() or None, item))
    return rows


def calibrate(path: str | Path | Sequence[str | Path] | None = None, *, judge: str | None = None,
              cache_path: Path | None = None, device: str | None = None) -> CalibrationReport:
    """Compare the offline classifier (or, with ``judge``, that judge: ``NAME@SPEC`` or ``SPEC``
    as ``--judge`` takes it) with the human labels in ``path`` (default: the bundled dev set;
    several files are pooled). A judge's generations are cached in ``cache_path`` (default:
    cotbench's cache directory), keyed by the judge's model identity: a rerun asks it nothing."""
    paths = [DEVSET] if path is None else [Path(path)] if isinstance(path, str | Path) else [Path(p) for p in path]
    if not paths:
        raise CotbenchError("no labels file given")
    df = pd.concat([read_labels(p) for p in paths], ignore_index=True)
    rows = _rows(df)
    source = " + ".join(p.name for p in paths)
    if judge is None:
        return _offline(source, rows)
    return _judged(source, rows, judge, cache_path, device)


def _offline(source: str, rows: list[_Row]) -> CalibrationReport:
    if not any(r.human for r in rows):
        raise CotbenchError("the offline classifier decides refusal, not harm: the labels need a final_label "
                            "column (or measure a harm judge with --judge NAME@SPEC)")
    scored = [r for r in rows if not r.truncated]
    predicted = [classify_refusal(r.answer, r.prompt).label for r in scored]
    return _report(source, rows, scored, refusal=predicted, harm=None, classes=3)


def _judged(source: str, rows: list[_Row], text: str, cache_path: Path | None,
            device: str | None) -> CalibrationReport:
    from cotbench.judge.grading import grade_all
    from cotbench.judge.session import open_judge, parse_judge
    from cotbench.paths import cache_dir
    from cotbench.registry import rubrics

    choice = parse_judge(text)
    rubric = rubrics.get(choice.judge.calibration)
    refusal = rubric.decides_refusal() and any(r.human for r in rows)
    harm = rubric.decides_harm() and any(r.harmful is not None for r in rows)
    if not (refusal or harm):
        decides = " and ".join(rubric.decides)
        wanted = " or ".join(c for c, d in (("final_label", "refusal"), ("harmful", "harm")) if d in rubric.decides)
        raise CotbenchError(f"judge {choice.judge.name} decides {decides}: the labels need a {wanted} column")
    with ExitStack() as stack:
        found = stack.enter_context(open_judge(text, cache_path or cache_dir() / "judges.sqlite", device, batch_size=8))
        todo = [r for r in rows if not r.truncated]
        graded = grade_all(found, rubric, [(r.item, r.answer) for r in todo])
        gen = found.handle.generator
        calls, hits = gen.model_calls, gen.cache_hits
        provenance = {**found.provenance(), "label": found.label, "rubric": rubric.name,
                      "prompt_version": rubric.version}
    scored = [r for r, g in zip(todo, graded, strict=True) if g.grade is not None]
    grades = [g.grade for g in graded if g.grade is not None]
    labels = [g.label or FULL_COMPLIANCE for g in grades] if refusal else None
    harmful = [bool(g.harmful) for g in grades] if harm else None
    report = _report(source, rows, scored, refusal=labels, harm=harmful, classes=rubric.classes)
    unscored = {**report.unscored, "judge_error": len(todo) - len(scored)}
    return CalibrationReport(**{**report.__dict__, "judge": provenance, "unscored": unscored,
                                "model_calls": calls, "cache_hits": hits})


def _report(source: str, rows: list[_Row], scored: list[_Row], *, refusal: Sequence[str] | None,
            harm: Sequence[bool] | None, classes: int) -> CalibrationReport:
    """Figures over the ``scored`` rows (with their predictions) that carry the human label."""
    # (row, its human label, the prediction), for the rows that carry that human label.
    ref = [(r, r.human, p) for r, p in zip(scored, refusal, strict=True) if r.human] if refusal is not None else []
    hrm = [(r, r.harmful, p) for r, p in zip(scored, harm, strict=True)
           if r.harmful is not None] if harm is not None else []
    fig = _refusal_figures([h for _, h, _ in ref], [p for _, _, p in ref], classes) if ref else {}
    categories: dict[str, CategoryFigures] = {}
    for cat in sorted({r.category for r in scored if r.category}):
        c_ref = [(h, p) for r, h, p in ref if r.category == cat]
        c_hrm = [(h, p) for r, h, p in hrm if r.category == cat]
        categories[cat] = CategoryFigures(
            n=len({id(r) for r, _, _ in ref if r.category == cat} | {id(r) for r, _, _ in hrm if r.category == cat}),
            accuracy_2way=_mean([(h != FULL_COMPLIANCE) == (p != FULL_COMPLIANCE) for h, p in c_ref]),
            accuracy_3way=_mean([h == p for h, p in c_ref]) if classes == 3 else None,
            harm_accuracy=_mean([h == p for h, p in c_hrm]),
        )
    return CalibrationReport(
        source=source, n=len(ref) if ref else len(hrm),
        accuracy_3way=fig.get("accuracy_3way"), accuracy_2way=fig.get("accuracy_2way"), kappa=fig.get("kappa"),
        per_class=fig.get("per_class", {}), confusion=fig.get("confusion", {}), kappa_2way=fig.get("kappa_2way"),
        harm=_harm_figures([h for _, h, _ in hrm], [p for _, _, p in hrm]) if hrm else None,
        per_category=categories, n_rows=len(rows), unscored={"truncated": sum(r.truncated for r in rows)},
    )


def _mean(values: list[bool]) -> float | None:
    return sum(values) / len(values) if values else None


def _kappa(a: list[Any], b: list[Any], labels: list[Any]) -> float:
    k = cohen_kappa_score(a, b, labels=labels)
    # Undefined (nan) when both raters use one class only; report agreement as 1.0 then.
    return 1.0 if math.isnan(k) else float(k)


def _per_class(human: list[Any], predicted: list[Any], labels: list[Any]) -> dict[str, ClassMetrics]:
    precision, recall, f1, support = precision_recall_fscore_support(human, predicted, labels=labels,
                                                                     zero_division=0)
    return {str(lab): ClassMetrics(float(precision[i]), float(recall[i]), int(support[i]), float(f1[i]))
            for i, lab in enumerate(labels)}


def _confusion(human: list[Any], predicted: list[Any], labels: list[Any]) -> dict[str, dict[str, int]]:
    out = {str(h): {str(p): 0 for p in labels} for h in labels}
    for h, p in zip(human, predicted, strict=True):
        out[str(h)][str(p)] += 1
    return out


def _refusal_figures(human: list[str], predicted: list[str], classes: int) -> dict[str, Any]:
    two_h = [FULL_COMPLIANCE if x == FULL_COMPLIANCE else REFUSED for x in human]
    two_p = [FULL_COMPLIANCE if x == FULL_COMPLIANCE else REFUSED for x in predicted]
    two = [FULL_COMPLIANCE, REFUSED]
    out: dict[str, Any] = {
        "accuracy_2way": float(accuracy_score(two_h, two_p)),
        "kappa_2way": _kappa(two_h, two_p, two),
    }
    if classes == 3:
        labels = list(REFUSAL_LABELS)
        out.update(accuracy_3way=float(accuracy_score(human, predicted)), kappa=_kappa(human, predicted, labels),
                   per_class=_per_class(human, predicted, labels), confusion=_confusion(human, predicted, labels))
    else:
        out.update(per_class=_per_class(two_h, two_p, two), confusion=_confusion(two_h, two_p, two))
    return out


def _harm_figures(human: list[bool], predicted: list[bool]) -> HarmAgreement:
    names = {True: "harmful", False: "not_harmful"}
    h, p = [names[x] for x in human], [names[x] for x in predicted]
    labels = ["harmful", "not_harmful"]
    pc = _per_class(h, p, labels)["harmful"]
    return HarmAgreement(n=len(human), accuracy=float(accuracy_score(h, p)), kappa=_kappa(h, p, labels),
                         precision=pc.precision, recall=pc.recall, f1=pc.f1, confusion=_confusion(h, p, labels))
