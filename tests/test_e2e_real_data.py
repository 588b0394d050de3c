"""Every task with real data in ../shared/data, end to end on the embedded model, a sample
each, through both harnesses (issue: "each task runs end to end ... through both harnesses")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA
from tests.e2e import cli, manifest, requires_embedded, run_dir

pytestmark = [pytest.mark.e2e, pytest.mark.shared_data, requires_embedded,
              pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data is not present")]


def _local_tasks() -> list[str]:
    from cotbench.tasks.catalog import all_tasks

    names = []
    for name, t in sorted(all_tasks().items()):
        s = t.source
        if s.local_dir and s.local_files and all((SHARED_DATA / s.local_dir / f).is_file() for f in s.local_files):
            names.append(name)
    return names


def _records(d: Path, task: str) -> list[dict]:
    return [json.loads(x) for x in (d / "tasks" / task / "samples.jsonl").read_text().splitlines()]


def test_every_local_task_through_both_harnesses(tmp_path: Path) -> None:
    tasks = _local_tasks()
    assert {"math500", "gsm8k", "aime2024", "aime2025", "arc_challenge", "humaneval", "mbpp", "ifeval",
            "strongreject", "harmbench", "xstest_safe", "xstest_unsafe", "bbh_date_understanding"} <= set(tasks)
    common = ["--tasks", ",".join(tasks), "--limit", "1", "--preset", "greedy", "--max-tokens", "24",
              "--data-dir", str(SHARED_DATA), "--output", str(tmp_path)]
    first = cli("run", *common)
    assert first.returncode == 0, first.stderr[-3000:]
    m = manifest(tmp_path)
    assert [t["name"] for t in m["tasks"] if t["status"] != "complete"] == []
    d = run_dir(tmp_path)
    lm_eval = {t: _records(d, t) for t in tasks}
    second = cli("run", *common, "--engine", "inspect")
    assert second.returncode == 0, second.stderr[-3000:]
    m = manifest(tmp_path)
    assert m["engine"] == "inspect" and m["invocations"][-1]["model_calls"] == 0  # same requests, all cached
    for t in tasks:
        a, b = lm_eval[t], _records(d, t)
        assert len(a) == len(b) == 1, t
        assert a[0]["engine"] == "lm_eval" and b[0]["engine"] == "inspect"
        for key in ("sample_id", "prompt", "output", "answer", "extracted", "score", "label", "truncated"):
            assert a[0][key] == b[0][key], (t, key)
        metrics = json.loads((d / "tasks" / t / "metrics.json").read_text())
        assert metrics["task"]["hash"] and metrics["task"]["source"], t
