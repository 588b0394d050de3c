"""CI gating of model changes: a policy of non-inferiority rules, evaluated on a baseline and a
candidate run, reported as Markdown, JSON and JUnit XML (``cotbench gate``)."""

from cotbench.gate.evaluate import GateResult, RuleCheck, evaluate_gate, run_gate
from cotbench.gate.policy import GateError, Policy, Rule, load_policy, parse_policy

__all__ = ["GateError", "GateResult", "Policy", "Rule", "RuleCheck", "evaluate_gate", "load_policy",
           "parse_policy", "run_gate"]
