"""CI gating of model changes: a policy of non-inferiority rules, evaluated on a baseline and a
candidate run, reported as Markdown, JSON and JUnit XML (``cotbench gate``)."""

from __future__ import annotations

import importlib
from typing import Any

# Imported on first use: evaluate needs numpy and scipy, and `cotbench gate --help` imports this package.
_LAZY = {"GateResult": "evaluate", "RuleCheck": "evaluate", "evaluate_gate": "evaluate", "run_gate": "evaluate",
         "GateError": "policy", "Policy": "policy", "Rule": "policy", "load_policy": "policy",
         "parse_policy": "policy"}

__all__ = ["GateError", "GateResult", "Policy", "Rule", "RuleCheck", "evaluate_gate", "load_policy",
           "parse_policy", "run_gate"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"cotbench.gate.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'cotbench.gate' has no attribute {name!r}")
