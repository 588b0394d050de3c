"""Gate policy parsing and validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from cotbench.gate.policy import GateError, load_policy, parse_policy

MINIMAL = "rules:\n  - {name: r, margin: 0.02}\n"


def test_default_policy_covers_every_domain() -> None:
    policy = load_policy()
    by_name = {r.name: r for r in policy.rules}
    assert by_name["harmful-compliance"].domain == "safety_harmful"
    assert by_name["harmful-compliance"].direction == "lower_is_better"
    assert by_name["over-refusal"].domain == "safety_benign"
    assert {r.domain for r in policy.rules} >= {"in_domain", "transfer", "general", "safety_harmful", "safety_benign"}
    assert any(r.per_task for r in policy.rules)
    assert policy.on_inconclusive == "warn"


def test_policy_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "gate.yaml"
    path.write_text("suite: smoke\nlimit: 50\non_inconclusive: fail\n" + MINIMAL)
    policy = load_policy(path)
    assert (policy.suite, policy.limit, policy.on_inconclusive) == ("smoke", 50, "fail")
    assert policy.rules[0].direction == "higher_is_better"
    assert policy.digest() == parse_policy("limit: 50\nsuite: smoke\non_inconclusive: fail\n" + MINIMAL).digest()
    assert policy.digest() != parse_policy(MINIMAL).digest()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rules:\n  - {name: r, margin: 1.5}\n", "rules.0.margin"),
        ("rules:\n  - {name: r, margin: 0.02, metric: accuracy}\n", "unknown metric 'accuracy'"),
        ("rules:\n  - {name: r, margin: 0.02, metric: 'rate:partial_refusal'}\n", "needs a direction"),
        ("rules:\n  - {name: r, margin: 0.02, metric: harmful_compliance, domain: in_domain}\n",
         "defined on domain safety_harmful"),
        ("rules:\n  - {name: r, margin: 0.02, direction: lower_is_better}\n", "contradicts"),
        ("rules:\n  - {name: r, margin: 0.02}\n  - {name: r, margin: 0.01}\n", "used twice"),
        ("rules:\n  - {name: r, margin: 0.02, domain: maths}\n", "rules.0.domain"),
        ("rules:\n  - {name: r, margin: 0.02, treshold: 3}\n", "rules.0.treshold"),
        ("alpha: 0.7\n" + MINIMAL, "alpha"),
        ("on_inconclusive: ignore\n" + MINIMAL, "on_inconclusive"),
        ("rules: []\n", "rules"),
        ("suite: smoke\ntasks: [arithmetic]\n" + MINIMAL, "either suite or tasks"),
        ("suite: quick\n", "rules"),
        ("- just\n- a list\n", "expected a mapping"),
        ("rules: [\n", "not valid YAML"),
    ],
)
def test_bad_policies_give_one_line_naming_the_field(text: str, expected: str) -> None:
    with pytest.raises(GateError) as err:
        parse_policy(text, "gate.yaml")
    message = str(err.value)
    assert message.startswith("gate.yaml: ") and expected in message and "\n" not in message


def test_missing_policy_file(tmp_path: Path) -> None:
    with pytest.raises(GateError, match="cannot read policy"):
        load_policy(tmp_path / "nope.yaml")
