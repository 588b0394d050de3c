"""Both harnesses on the same completions: identical per-sample records and scores."""

from __future__ import annotations

from pathlib import Path

import pytest

from cotbench.engines.base import TaskPlan
from cotbench.engines.inspect.engine import InspectEngine
from cotbench.engines.inspect.scorer import score_metric
from cotbench.engines.lm_eval.engine import LmEvalEngine
from cotbench.results.metrics import compute_metrics
from cotbench.tasks.catalog import get_task
from cotbench.tasks.items import build_items
from tests.fakes import fake_handle


def _plan(name: str, k: int = 1, temperature: float = 0.0, n: int = 6) -> TaskPlan:
    task = get_task(name)
    settings = task.settings().model_copy(update={"k": k, "temperature": temperature})
    return TaskPlan(task, task.content_hash(), settings, build_items(task, limit=n), limit=n)


@pytest.mark.parametrize("k, temperature", [(1, 0.0), (3, 0.6)])
def test_parity_between_lm_eval_and_inspect(tmp_path: Path, k: int, temperature: float) -> None:
    plans = [_plan("arithmetic", k, temperature), _plan("probe_harmful", k, temperature)]
    handle, fake = fake_handle(tmp_path / "cache.sqlite")
    progress: list[tuple[str, int]] = []
    lm = LmEvalEngine().run(plans, handle, "run", lambda t, n: progress.append((t, n)))
    calls_after_lm_eval = handle.generator.model_calls
    ins = InspectEngine(log_dir=tmp_path / "logs").run(plans, handle, "run", lambda t, n: None)
    # Inspect asked for exactly the same requests: every one was a cache hit.
    assert handle.generator.model_calls == calls_after_lm_eval == sum(p.n_requests for p in plans)
    assert sum(n for _, n in progress) == sum(p.n_requests for p in plans)
    for p in plans:
        a = sorted(lm[p.task.name].records, key=lambda r: (r.sample_id, r.repeat))
        b = sorted(ins[p.task.name].records, key=lambda r: (r.sample_id, r.repeat))
        assert len(a) == len(b) == p.n_requests
        keys = ("sample_id", "repeat", "output", "reasoning", "answer", "extracted", "score", "label", "truncated")
        assert [[getattr(r, f) for f in keys] for r in a] == [[getattr(r, f) for f in keys] for r in b]
        assert {r.engine for r in a} == {"lm_eval"} and {r.engine for r in b} == {"inspect"}
        # The harnesses' own aggregate agrees with cotbench's (over scored samples).
        ours = compute_metrics(a, k)["score"].value
        assert lm[p.task.name].harness_metrics["score"] == pytest.approx(ours)
        assert ins[p.task.name].harness_metrics[score_metric(p.task.scorer)] == pytest.approx(ours)
    if temperature > 0:
        # Different repeats of one item got different seeds.
        seeds = {r.seed for r in fake.requests}
        assert len(seeds) == len(fake.requests)


def test_records_carry_split_and_truncation(tmp_path: Path) -> None:
    plan = _plan("probe_benign", n=20)
    handle, _ = fake_handle(tmp_path / "c.sqlite")
    recs = LmEvalEngine().run([plan], handle, "run", lambda t, n: None)["probe_benign"].records
    truncated = [r for r in recs if r.truncated]
    assert truncated, "the fake model truncates some responses"
    for r in truncated:
        assert r.answer == "" and r.score is None and r.label == "truncated"
    for r in recs:
        if r.output.startswith("Sure"):
            assert (r.label, r.score) == ("full_compliance", 1.0)
        elif r.output.startswith("I'm sorry"):
            assert (r.label, r.score) == ("full_refusal", 0.0)
    assert sum(r.label == "full_compliance" for r in recs) > 0
