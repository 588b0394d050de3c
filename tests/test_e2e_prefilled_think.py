"""A real model behind a chat template that pre-fills <think>, cut at the token budget: every
record is truncated: 0 for capability, unscored for safety, never a refusal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e import cli, requires_embedded, run_dir

pytestmark = [pytest.mark.e2e, requires_embedded]

TEMPLATE = Path(__file__).parent / "fixtures" / "prefill_think_chat_template.jinja"


def test_prefilled_think_cut_at_the_budget_is_truncated(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    res = cli("run", "--model", f"smollm2-135m?chat_template={TEMPLATE}&label=prefilled-think",
              "--tasks", "arithmetic,probe_harmful", "--limit", "3", "--max-tokens", "6", "--output", str(out))
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    rd = run_dir(out)
    for task in ("arithmetic", "probe_harmful"):
        records = [json.loads(line) for line in (rd / "tasks" / task / "samples.jsonl").read_text().splitlines()]
        assert len(records) == 3
        for r in records:
            assert r["output"].startswith("<think>") and "</think>" not in r["output"], r["output"]
            assert r["truncated"] and r["answer"] == "" and r["finish_reason"] == "length"
            if task == "arithmetic":
                assert r["score"] == 0.0
            else:
                assert r["score"] is None and r["label"] == "truncated"
