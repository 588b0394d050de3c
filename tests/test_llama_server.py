"""A real server: llama.cpp's llama-server on 127.0.0.1 with the embedded SmolLM2 GGUF.

CI builds the binary (``.ci/build-llama-server``) and sets ``COTBENCH_REQUIRE_LLAMA_SERVER=1``,
so there these tests run and never skip; elsewhere they skip when no binary is found.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from cotbench.errors import CotbenchError
from tests.e2e import COTBENCH, cli, committed, embedded_available, run_dir


def _binary() -> str | None:
    from cotbench.models.servers import llama_server_binary

    try:
        return llama_server_binary()
    except CotbenchError:
        return None


if os.environ.get("COTBENCH_REQUIRE_LLAMA_SERVER") == "1":
    assert _binary() is not None, "COTBENCH_REQUIRE_LLAMA_SERVER=1 but no llama-server binary was found"
    assert embedded_available(), "the embedded GGUF is required here"
pytestmark = pytest.mark.skipif(_binary() is None or not embedded_available(),
                                reason="llama-server not built (.ci/build-llama-server) or no embedded model")


@pytest.fixture(scope="module")
def server():  # type: ignore[no-untyped-def]
    from cotbench.models.embedded import gguf_path
    from cotbench.models.servers import LlamaCppOptions, ManagedServer, free_port, llama_server_command

    port = free_port()
    srv = ManagedServer("llama-server", llama_server_command(gguf_path(), port, LlamaCppOptions(parallel=8,
                                                                                                ctx_size=8 * 1024)),
                        port).start()
    yield srv
    srv.stop()


def _samples(out: Path, task: str) -> list[dict]:
    return [json.loads(x) for x in (run_dir(out) / "tasks" / task / "samples.jsonl").read_text().splitlines()]


def _slots_busy(port: int) -> int:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/slots", timeout=5) as r:
        return sum(bool(s.get("is_processing")) for s in json.loads(r.read()))


def test_openai_backend_against_llama_server(server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "runs"
    proc = subprocess.Popen([*COTBENCH, "run", "--model", f"openai:smollm2@{server.base_url}?concurrency=8",
                             "--tasks", "arithmetic", "--limit", "24", "--max-tokens", "48", "--output", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "COLUMNS": "200"})
    busy = 0
    while proc.poll() is None:
        try:
            busy = max(busy, _slots_busy(server.port))
        except OSError:
            pass
        time.sleep(0.05)
    assert proc.returncode == 0, proc.stderr
    assert busy >= 6  # the server decoded (nearly) all 8 slots at once: continuous batching was fed
    recs = _samples(out, "arithmetic")
    assert len(recs) == 24 and all(r["output_tokens"] > 0 for r in recs)
    assert all(r["finish_reason"] in ("stop", "length") for r in recs)
    # token counts are the server's: the record's split adds up to its usage report
    assert all(r["reasoning_tokens"] + r["answer_tokens"] == r["output_tokens"] for r in recs if r["answer"])
    manifest = json.loads((run_dir(out) / "manifest.json").read_text())
    assert "server_version=llama.cpp" in manifest["device"]
    again = cli("run", "--model", f"openai:smollm2@{server.base_url}?concurrency=8", "--tasks", "arithmetic",
                "--limit", "24", "--max-tokens", "48", "--output", str(out))
    again_manifest = json.loads((run_dir(out) / "manifest.json").read_text())
    assert again.returncode == 0 and again_manifest["invocations"][-1]["model_calls"] == 0


def test_managed_llama_server_run_kill_and_resume(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    args = ["run", "--model", "llamacpp:default?parallel=4", "--tasks", "arithmetic", "--limit", "40",
            "--max-tokens", "64", "--output", str(out)]
    proc = subprocess.Popen([*COTBENCH, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "COLUMNS": "200"})
    kept = 0
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        kept = committed(out)
        if kept >= 6:
            break
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(1)
    # the server died with cotbench: no llama-server left behind
    left = subprocess.run(["pgrep", "-f", "llama-server.*--parallel 4"], capture_output=True, text=True)
    assert left.stdout.strip() == ""
    res = cli(*args)
    assert res.returncode == 0, res.stderr
    recs = _samples(out, "arithmetic")
    assert len(recs) == 40 and len({r["sample_id"] for r in recs}) == 40
    assert json.loads((run_dir(out) / "manifest.json").read_text())["model_calls"] == 40 - kept


def test_server_that_dies_mid_run(tmp_path: Path) -> None:
    from cotbench.models.embedded import gguf_path
    from cotbench.models.servers import LlamaCppOptions, ManagedServer, free_port, llama_server_command

    port = free_port()
    cmd = llama_server_command(gguf_path(), port, LlamaCppOptions(parallel=2, ctx_size=2048))
    srv = ManagedServer("llama-server", cmd, port).start()
    out = tmp_path / "runs"
    args = ["run", "--model", f"openai:smollm2@{srv.base_url}?concurrency=2&tries=2", "--tasks", "arithmetic",
            "--limit", "30", "--max-tokens", "64", "--output", str(out)]
    proc = subprocess.Popen([*COTBENCH, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "COLUMNS": "200"})
    deadline = time.monotonic() + 300
    kept = 0
    while time.monotonic() < deadline and kept < 4:
        kept = committed(out)
        time.sleep(0.1)
    assert srv.proc is not None
    os.killpg(srv.proc.pid, signal.SIGKILL)
    _, err = proc.communicate(timeout=300)
    srv.stop()
    assert proc.returncode == 2 and "Traceback" not in err and srv.base_url in err
    assert committed(out) >= kept  # finished work kept
    srv2 = ManagedServer("llama-server", llama_server_command(gguf_path(), port, LlamaCppOptions(parallel=2,
                                                                                                 ctx_size=2048)),
                         port).start()
    try:
        res = cli(*args)
    finally:
        srv2.stop()
    assert res.returncode == 0, res.stderr
    assert len(_samples(out, "arithmetic")) == 30
