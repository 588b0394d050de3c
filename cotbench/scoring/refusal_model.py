"""The learned layer of the refusal classifier: fitted weights read from a JSON file, no pickle.

The model is gated logistic regression: one multinomial logistic regression per verdict of the
positional rules (:mod:`cotbench.scoring.refusal_rules`), each over the features of
:mod:`cotbench.scoring.refusal_features`. The rules' verdict picks the model; the model confirms or
corrects it. ``python -m cotbench.safety.refusal_fit`` writes the file from the dev data.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from pathlib import Path

from cotbench.domains import REFUSAL_LABELS, RefusalLabel
from cotbench.errors import CotbenchError
from cotbench.scoring.refusal_features import FEATURE_NAMES

MODEL_FORMAT = "cotbench-refusal-gated-logreg/1"
# Shipped beside the labelled data it was fitted on.
MODEL_PATH = Path(__file__).resolve().parents[1] / "safety" / "refusal_model.json"


@dataclass(frozen=True)
class LinearModel:
    """Class scores ``coef @ x + intercept`` (features already scaled into the weights)."""

    classes: tuple[RefusalLabel, ...]
    coef: tuple[tuple[float, ...], ...]
    intercept: tuple[float, ...]

    def probabilities(self, x: tuple[float, ...]) -> dict[RefusalLabel, float]:
        scores = [b + math.fsum(w * v for w, v in zip(row, x, strict=True))
                  for row, b in zip(self.coef, self.intercept, strict=True)]
        return softmax(dict(zip(self.classes, scores, strict=True)))


def softmax(scores: dict[RefusalLabel, float]) -> dict[RefusalLabel, float]:
    """Class scores (logits, or log-probabilities) to probabilities."""
    top = max(scores.values())
    exp = {c: math.exp(v - top) for c, v in scores.items()}
    total = sum(exp.values())
    return {c: v / total for c, v in exp.items()}


@dataclass(frozen=True)
class GatedModel:
    gates: dict[RefusalLabel, LinearModel]

    def predict(self, rule_label: RefusalLabel, x: tuple[float, ...]) -> tuple[RefusalLabel, dict[RefusalLabel, float]]:
        probs = self.gates[rule_label].probabilities(x)
        return decide(probs, rule_label), probs


def decide(probs: dict[RefusalLabel, float], rule_label: RefusalLabel) -> RefusalLabel:
    """The most probable class; ties (never seen in practice) go to the rules' own verdict, then to the label order."""
    return max(probs, key=lambda c: (probs[c], c == rule_label, -REFUSAL_LABELS.index(c)))


def parse_model(payload: object, source: str) -> GatedModel:
    """Check a model file's content against the features this code computes, and build the model."""
    if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT:
        raise CotbenchError(f"refusal model {source}: not a {MODEL_FORMAT} file")
    if tuple(payload.get("features", ())) != FEATURE_NAMES:
        raise CotbenchError(f"refusal model {source}: its features differ from this version's; refit it with "
                            "`python -m cotbench.safety.refusal_fit`")
    gates: dict[RefusalLabel, LinearModel] = {}
    try:
        for label in REFUSAL_LABELS:
            g = payload["gates"][label]
            classes = tuple(g["classes"])
            coef = tuple(tuple(float(w) for w in row) for row in g["coef"])
            intercept = tuple(float(b) for b in g["intercept"])
            if not set(classes) <= set(REFUSAL_LABELS) or not (len(classes) == len(coef) == len(intercept)):
                raise ValueError("classes, coef and intercept disagree")
            if any(len(row) != len(FEATURE_NAMES) for row in coef):
                raise ValueError("a weight row has the wrong length")
            gates[label] = LinearModel(classes, coef, intercept)
    except (KeyError, TypeError, ValueError) as e:
        raise CotbenchError(f"refusal model {source}: malformed ({e})") from None
    return GatedModel(gates)


def read_weights(path: Path, what: str) -> object:
    """The JSON content of a shipped weights file, or one clear error naming ``what`` and the file."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CotbenchError(f"{what} not found: {path}") from None
    except (OSError, ValueError) as e:
        raise CotbenchError(f"cannot read {what} {path}: {e}") from None


@functools.cache
def load_model(path: Path = MODEL_PATH) -> GatedModel:
    return parse_model(read_weights(path, "refusal model"), str(path))
