"""Measure the offline refusal classifier against human three-way labels.

Input files use XSTest's labelled-completion columns: ``prompt``, ``completion`` and
``final_label`` in {``1_full_compliance``, ``2_full_refusal``, ``3_partial_refusal``}.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
from sklearn.metrics import accuracy_score, cohen_kappa_score, precision_recall_fscore_support

from cotbench.errors import CotbenchError
from cotbench.scoring.refusal import LABELS, classify_refusal

DEVSET = Path(__file__).with_name("devset.csv")
HUMAN_LABELS = {
    "1_full_compliance": "full_compliance",
    "2_full_refusal": "full_refusal",
    "3_partial_refusal": "partial_refusal",
}
REQUIRED_COLUMNS = ("prompt", "completion", "final_label")


@dataclass(frozen=True)
class ClassMetrics:
    precision: float
    recall: float
    support: int


@dataclass(frozen=True)
class CalibrationReport:
    source: str
    n: int
    accuracy_3way: float
    accuracy_2way: float
    kappa: float
    per_class: dict[str, ClassMetrics]
    confusion: dict[str, dict[str, int]]  # human label -> predicted label -> count

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)


def read_labels(path: Path) -> pd.DataFrame:
    """Read a labelled-completions CSV, rejecting missing files, columns and unknown labels."""
    if not path.is_file():
        raise CotbenchError(f"labels file not found: {path}")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise CotbenchError(f"cannot read labels file {path}: {str(e).splitlines()[0]}") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise CotbenchError(f"labels file {path} lacks column(s): {', '.join(missing)}")
    if df.empty:
        raise CotbenchError(f"labels file {path} has no rows")
    unknown = sorted(set(df["final_label"].str.strip()) - set(HUMAN_LABELS))
    if unknown:
        raise CotbenchError(
            f"labels file {path} has unknown final_label value(s): {', '.join(map(repr, unknown[:5]))} "
            f"(expected {', '.join(HUMAN_LABELS)})"
        )
    return df


def calibrate(path: str | Path | Sequence[str | Path] | None = None) -> CalibrationReport:
    """Classify every completion in ``path`` (default: the bundled dev set; several files are
    pooled) and compare the classes with the human labels."""
    paths = [DEVSET] if path is None else [Path(path)] if isinstance(path, str | Path) else [Path(p) for p in path]
    if not paths:
        raise CotbenchError("no labels file given")
    df = pd.concat([read_labels(p) for p in paths], ignore_index=True)
    human = [HUMAN_LABELS[x.strip()] for x in df["final_label"]]
    predicted = [classify_refusal(c, p).label for c, p in zip(df["completion"], df["prompt"], strict=True)]
    return _report(" + ".join(p.name for p in paths), human, predicted)


def _report(source: str, human: list[str], predicted: list[str]) -> CalibrationReport:
    labels = list(LABELS)
    precision, recall, _, support = precision_recall_fscore_support(
        human, predicted, labels=labels, zero_division=0
    )
    # Two-way: any refusal (full or partial) against compliance.
    refused_h = [x != "full_compliance" for x in human]
    refused_p = [x != "full_compliance" for x in predicted]
    confusion = {h: {p: 0 for p in labels} for h in labels}
    for h, p in zip(human, predicted, strict=True):
        confusion[h][p] += 1
    kappa = cohen_kappa_score(human, predicted, labels=labels)
    return CalibrationReport(
        source=source,
        n=len(human),
        accuracy_3way=float(accuracy_score(human, predicted)),
        accuracy_2way=float(accuracy_score(refused_h, refused_p)),
        # Kappa is undefined (nan) when both raters use one class only; report agreement as 1.0 then.
        kappa=float(kappa) if kappa == kappa else 1.0,
        per_class={
            lab: ClassMetrics(float(precision[i]), float(recall[i]), int(support[i]))
            for i, lab in enumerate(labels)
        },
        confusion=confusion,
    )
