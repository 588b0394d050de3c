"""End to end on the real embedded model (SmolLM2-135M-Instruct GGUF), through the CLI:
a run of every smoke task, a fully cached rerun, the same run through Inspect, and
kill-and-resume."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e import COTBENCH, cli, manifest, requires_embedded, run_dir

pytestmark = [pytest.mark.e2e, requires_embedded]

FAST = ["--max-tokens", "48"]


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("smoke")
    proc = cli("run", "--limit", "2", "--output", str(out), *FAST)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "mean" in proc.stdout and "results:" in proc.stdout
    return out


def test_run_writes_complete_results(smoke_run: Path) -> None:
    m = manifest(smoke_run)
    names = [t["name"] for t in m["tasks"]]
    assert names == ["countdown", "arithmetic", "boolean_logic", "date_arithmetic", "word_sorting",
                     "probe_harmful", "probe_benign"]
    assert all(t["status"] == "complete" for t in m["tasks"])
    assert m["model"]["backend"] == "embedded" and m["model"]["resolved_revision"].startswith("sha256:")
    assert {"cotbench", "lm_eval", "inspect_ai", "transformers", "torch"} <= set(m["packages"])
    assert m["model_calls"] == 14 and m["engine"] == "lm_eval"
    d = run_dir(smoke_run)
    for name in names:
        metrics = json.loads((d / "tasks" / name / "metrics.json").read_text())
        assert metrics["n_items"] == 2 and metrics["task"]["generation"]["max_tokens"] == 48
        assert "stderr" in metrics["metrics"]["score"]
        lines = (d / "tasks" / name / "samples.jsonl").read_text().splitlines()
        assert len(lines) == 2
        rec = json.loads(lines[0])
        assert rec["output"] and rec["engine"] == "lm_eval" and rec["output_tokens"] > 0
        assert rec["finish_reason"] in ("stop", "length") and rec["latency_s"] > 0
        assert rec["answer_tokens"] > 0 or rec["answer"] == ""
    harmful = [json.loads(x) for x in (d / "tasks/probe_harmful/samples.jsonl").read_text().splitlines()]
    assert all(r["label"] in ("full_compliance", "partial_refusal", "full_refusal", "truncated") for r in harmful)


def test_identical_rerun_makes_no_model_calls(smoke_run: Path) -> None:
    before = {p: p.stat().st_mtime_ns for p in run_dir(smoke_run).rglob("metrics.json")}
    proc = cli("run", "--limit", "2", "--output", str(smoke_run), *FAST)
    assert proc.returncode == 0, proc.stderr[-2000:]
    m = manifest(smoke_run)
    last = m["invocations"][-1]
    assert last["model_calls"] == 0 and last["cache_hits"] == 0 and last["evaluated"] == []  # not even re-run
    # The facts of the invocation that produced the results are kept, not overwritten by the rerun.
    first = m["invocations"][0]
    assert m["model_calls"] == 14 and m["started_at"] == first["started_at"]
    assert m["finished_at"] == first["finished_at"] < last["finished_at"]
    after = {p: p.stat().st_mtime_ns for p in run_dir(smoke_run).rglob("metrics.json")}
    assert before == after


def test_inspect_engine_reuses_generations_and_agrees(smoke_run: Path) -> None:
    d = run_dir(smoke_run)
    lm = {n: [json.loads(x) for x in (d / "tasks" / n / "samples.jsonl").read_text().splitlines()]
          for n in ("arithmetic", "probe_benign")}
    proc = cli("run", "--limit", "2", "--engine", "inspect", "--output", str(smoke_run), *FAST)
    assert proc.returncode == 0, proc.stderr[-2000:]
    m = manifest(smoke_run)
    last = m["invocations"][-1]
    assert last["model_calls"] == 0 and last["cache_hits"] == 14 and m["engine"] == last["engine"] == "inspect"
    for name, old in lm.items():
        new = [json.loads(x) for x in (d / "tasks" / name / "samples.jsonl").read_text().splitlines()]
        key = lambda r: (r["sample_id"], r["output"], r["score"], r["label"])  # noqa: E731
        assert sorted(map(key, new)) == sorted(map(key, old))
        assert {r["engine"] for r in new} == {"inspect"}
    assert list((d / "inspect_logs").glob("*.eval"))


def test_results_show_and_pandas(smoke_run: Path) -> None:
    proc = cli("results", "show", str(run_dir(smoke_run)), "--samples", "1")
    assert proc.returncode == 0 and "countdown" in proc.stdout
    from cotbench.results.load import load_samples

    df = load_samples(run_dir(smoke_run))
    assert len(df) == 14 and df.groupby("task").size().to_dict() == dict.fromkeys(df["task"].unique(), 2)
    assert {"prompt", "output", "reasoning", "answer", "score", "latency_s", "engine", "model"} <= set(df.columns)


def _cached_rows(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            return db.execute("SELECT count(*) FROM completions").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_kill_and_resume(tmp_path: Path) -> None:
    args = ["run", "--tasks", "arithmetic,word_sorting", "--limit", "4", "--batch-size", "1",
            "--output", str(tmp_path), *FAST]
    proc = subprocess.Popen([*COTBENCH, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ}, start_new_session=True)
    cache = None
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        dirs = [p for p in tmp_path.iterdir() if p.is_dir()]
        cache = dirs[0] / "generations.sqlite" if dirs else None
        if cache is not None and _cached_rows(cache) >= 3:
            break
        assert proc.poll() is None, "run ended before it could be killed"
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert cache is not None
    done_before = _cached_rows(cache)
    assert 3 <= done_before < 8
    resumed = cli(*args)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    m = manifest(tmp_path)
    assert all(t["status"] == "complete" for t in m["tasks"])
    # Nothing redone, nothing lost, nothing duplicated.
    assert m["model_calls"] == 8 - done_before
    d = run_dir(tmp_path)
    for name in ("arithmetic", "word_sorting"):
        ids = [json.loads(x)["sample_id"] for x in (d / "tasks" / name / "samples.jsonl").read_text().splitlines()]
        assert len(ids) == 4 and len(set(ids)) == 4
    assert _cached_rows(cache) == 8
