"""Served models: streaming, one queue per run, retries, usage tokens, servers that die, kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cotbench.errors import ModelLoadError
from cotbench.models.servers import free_port
from cotbench.runner import run_models
from tests.e2e import COTBENCH, cli, committed, run_dir
from tests.fake_server import FakeServer


def _records(rd: Path, task: str) -> list[dict]:
    return [json.loads(line) for line in (rd / "tasks" / task / "samples.jsonl").read_text().splitlines()]


def _run(url: str, tmp: Path, tasks: list[str], limit: int, options: str = "") -> Path:
    spec = f"openai:fake-model@{url}" + (f"?{options}" if options else "")
    (rd,) = run_models([spec], tasks=tasks, limit=limit, output=tmp / "runs")
    return rd.path


def test_requests_of_all_tasks_are_in_flight_together(tmp_path: Path) -> None:
    with FakeServer(delay=0.4) as server:
        rd = _run(server.url, tmp_path, ["arithmetic", "probe_harmful"], 32, "concurrency=64")
    # One queue for the run: both tasks' 64 requests were at the server at once (was 8).
    assert server.max_in_flight == 64
    recs = _records(rd, "arithmetic")
    assert len(recs) == 32 and all(r["score"] == 1.0 for r in recs)
    assert len(_records(rd, "probe_harmful")) == 32
    manifest = json.loads((rd / "manifest.json").read_text())
    assert manifest["model_calls"] == 64
    assert "server_model=fake-model" in manifest["device"] and "server_version=llama.cpp fake-1" in manifest["device"]


def test_concurrency_option_bounds_what_is_in_flight(tmp_path: Path) -> None:
    with FakeServer(delay=0.2) as server:
        _run(server.url, tmp_path, ["arithmetic"], 40, "concurrency=5")
    assert server.max_in_flight == 5


def test_token_counts_come_from_the_server(tmp_path: Path) -> None:
    with FakeServer() as server:
        rd = _run(server.url, tmp_path, ["arithmetic"], 4)
    for r in _records(rd, "arithmetic"):
        words = r["output"].split()
        assert r["output_tokens"] == len(words)  # the usage report, not a count of ours
        # the reasoning counted by the server's /tokenize, the answer the rest of the usage
        assert r["reasoning_tokens"] == len(r["reasoning"].split())
        assert r["answer_tokens"] == r["output_tokens"] - r["reasoning_tokens"]


def test_reasoning_returned_apart_is_put_back(tmp_path: Path) -> None:
    with FakeServer(reasoning_field=True) as server:
        rd = _run(server.url, tmp_path, ["arithmetic"], 3)
    for r in _records(rd, "arithmetic"):
        assert r["output"].startswith("<think>Compute") and r["score"] == 1.0 and r["reasoning"]


def test_transient_errors_are_retried(tmp_path: Path) -> None:
    with FakeServer(fail_first=3, fail_status=429) as server:
        rd = _run(server.url, tmp_path, ["arithmetic"], 6, "tries=5")
    assert server.failed == 3 and len(_records(rd, "arithmetic")) == 6


def test_a_server_that_keeps_failing_stops_the_run_with_one_line(tmp_path: Path) -> None:
    with FakeServer(fail_first=10**6, fail_status=500) as server:
        res = cli("run", "--model", f"openai:fake-model@{server.url}?tries=2", "--tasks", "arithmetic",
                  "--limit", "3", "--output", str(tmp_path / "runs"))
    assert res.returncode == 2, res.stderr
    err = res.stderr.strip().splitlines()
    assert "Traceback" not in res.stderr and any("failed after 2 tries" in line and server.url in line for line in err)


def test_a_server_that_dies_mid_run_keeps_finished_work_and_resumes(tmp_path: Path) -> None:
    with FakeServer(delay=0.05, die_after=10) as server:
        port = server.port
        with pytest.raises(ModelLoadError):
            _run(server.url, tmp_path, ["arithmetic"], 30, "concurrency=2&tries=2")
    (rd,) = [p for p in (tmp_path / "runs").iterdir()]
    kept = committed(tmp_path / "runs")
    assert kept >= 10
    manifest = json.loads((rd / "manifest.json").read_text())
    assert {t["status"] for t in manifest["tasks"]} == {"pending"}
    with FakeServer(port=port) as again:
        rd2 = _run(again.url, tmp_path, ["arithmetic"], 30, "concurrency=2&tries=2")
    assert rd2 == rd and len(again.requests) == 30 - kept
    recs = _records(rd, "arithmetic")
    assert sorted(r["sample_id"] for r in recs) == sorted({r["sample_id"] for r in recs}) and len(recs) == 30


def test_kill_9_mid_run_loses_only_what_was_in_flight(tmp_path: Path) -> None:
    port = free_port()
    server = subprocess.Popen([sys.executable, str(Path(__file__).with_name("fake_server.py")), "--port", str(port),
                               "--delay", "0.25"])
    url = f"http://127.0.0.1:{port}/v1"
    out = tmp_path / "runs"
    try:
        _wait_healthy(port)
        args = ["run", "--model", f"openai:fake-model@{url}?concurrency=4", "--tasks", "arithmetic",
                "--limit", "40", "--output", str(out)]
        proc = subprocess.Popen([*COTBENCH, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env={**os.environ, "COLUMNS": "200"})
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and committed(out) < 8:
            time.sleep(0.1)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kept = committed(out)
        assert 8 <= kept < 40  # committed one by one: only the in-flight requests were lost
        res = cli(*args)
        assert res.returncode == 0, res.stderr
    finally:
        server.kill()
        server.wait()
    recs = _records(run_dir(out), "arithmetic")
    assert len(recs) == 40 and len({r["sample_id"] for r in recs}) == 40 and all(r["score"] == 1.0 for r in recs)
    assert json.loads((run_dir(out) / "manifest.json").read_text())["model_calls"] == 40 - kept


def _wait_healthy(port: int, timeout: float = 30) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("fake server did not start")


def _fake_vllm(tmp: Path) -> tuple[dict[str, str], Path]:
    """A ``vllm`` executable on PATH that records its argv and serves like vLLM would."""
    bindir, argv_file = tmp / "bin", tmp / "vllm-argv.json"
    bindir.mkdir()
    script = bindir / "vllm"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        f"json.dump({{'argv': sys.argv[1:], 'pid': os.getpid()}}, open({str(argv_file)!r}, 'w'))\n"
        f"sys.path.insert(0, {str(Path(__file__).parent.parent)!r})\n"
        "from tests.fake_server import main\n"
        "sys.argv = [sys.argv[0]] + sys.argv[sys.argv.index('--port'):]\n"
        "main()\n")
    script.chmod(0o755)
    return {"PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}, argv_file


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_vllm_is_started_as_a_managed_server_and_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env, argv_file = _fake_vllm(tmp_path)
    monkeypatch.setenv("PATH", env["PATH"])
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    (ckpt / "config.json").write_text("{}")
    spec = f"vllm:{ckpt}?tp=2&dp=4&max_model_len=8192&gpu_memory_utilization=0.8&prefix_caching=false" \
           "&reasoning_parser=deepseek_r1"
    (rd,) = run_models([spec], tasks=["arithmetic"], limit=6, output=tmp_path / "runs")
    started = json.loads(argv_file.read_text())
    argv = started["argv"]
    assert argv[:2] == ["serve", str(ckpt)]
    pairs = {a: b for a, b in zip(argv, argv[1:], strict=False) if a.startswith("--") and not b.startswith("--")}
    assert pairs["--host"] == "127.0.0.1" and pairs["--tensor-parallel-size"] == "2"
    assert pairs["--data-parallel-size"] == "4" and pairs["--max-model-len"] == "8192"
    assert pairs["--gpu-memory-utilization"] == "0.8" and pairs["--reasoning-parser"] == "deepseek_r1"
    assert "--no-enable-prefix-caching" in argv
    assert all(r["score"] == 1.0 for r in _records(rd.path, "arithmetic"))
    assert not _pid_alive(started["pid"])  # stopped when the run ended


def test_a_running_vllm_server_is_reused(tmp_path: Path) -> None:
    with FakeServer() as server:
        (rd,) = run_models([f"vllm:http://127.0.0.1:{server.port}"], tasks=["arithmetic"], limit=3,
                           output=tmp_path / "runs")
    assert {b["model"] for b in server.requests} == {"fake-model"}  # the id the server reported
    assert len(_records(rd.path, "arithmetic")) == 3


def test_no_orphan_server_when_cotbench_is_killed(tmp_path: Path) -> None:
    env, argv_file = _fake_vllm(tmp_path)
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    (ckpt / "config.json").write_text("{}")
    proc = subprocess.Popen([*COTBENCH, "run", "--model", f"vllm:{ckpt}", "--tasks", "arithmetic", "--limit", "5",
                             "--output", str(tmp_path / "runs")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**os.environ, **env})
    deadline = time.monotonic() + 120
    while not argv_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    pid = json.loads(argv_file.read_text())["pid"]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _pid_alive(pid)
