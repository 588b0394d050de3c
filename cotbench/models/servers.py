"""Inference servers cotbench starts for a run: ``vllm serve`` and llama.cpp's ``llama-server``.

A managed server listens on 127.0.0.1 on a free port, is polled until its health endpoint
answers, is talked to through the OpenAI-compatible backend, and is stopped when the run ends,
fails or is interrupted. It runs in its own process group and is told to die with its parent
(``PR_SET_PDEATHSIG``), so even a ``kill -9`` of cotbench leaves no orphan behind.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cotbench.errors import MissingDependencyError, ModelLoadError, SpecError
from cotbench.models import embedded
from cotbench.models.spec import ModelSpec

START_TIMEOUT_S = float(os.environ.get("COTBENCH_SERVER_START_TIMEOUT", "900"))
_STOP_GRACE_S = 10.0
_running: set[ManagedServer] = set()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """In the child before exec: its own process group, and SIGKILL when cotbench dies."""
    os.setpgrp()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


@dataclass(eq=False)
class ManagedServer:
    """One server process; ``start()`` returns once ``health_path`` answers 200."""

    name: str
    command: Sequence[str]
    port: int
    health_path: str = "/health"

    def __post_init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        fd, path = tempfile.mkstemp(prefix=f"cotbench-{self.name}-", suffix=".log")
        os.close(fd)  # reopened by start(); only the name is kept
        self.log_path = Path(path)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, timeout: float = START_TIMEOUT_S) -> ManagedServer:
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(list(self.command), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        _running.add(self)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.stop()
                raise ModelLoadError(f"{self.name} exited with status {self.proc.returncode} while starting: "
                                     f"{self.log_tail()}")
            if self._healthy():
                return self
            time.sleep(0.25)
        self.stop()
        raise ModelLoadError(f"{self.name} did not become healthy within {timeout:.0f} s: {self.log_tail()}")

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{self.health_path}", timeout=2) as r:
                return bool(r.status == 200)
        except (urllib.error.URLError, OSError, ValueError):
            return False

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 3) -> str:
        try:
            text = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return " | ".join(line.strip() for line in text[-lines:]) or "(empty log)"

    def stop(self) -> None:
        """SIGTERM to the whole process group, SIGKILL after a grace period."""
        _running.discard(self)
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(_STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        with contextlib.suppress(OSError):
            self.log_path.unlink()


@atexit.register
def _stop_all() -> None:
    for server in list(_running):
        server.stop()


def served_model_ids(base_url: str, timeout: float = 10.0) -> list[str]:
    """The model ids a running OpenAI-compatible server serves (``GET /v1/models``)."""
    try:
        with urllib.request.urlopen(base_url.rstrip("/") + "/models", timeout=timeout) as r:
            data = json.loads(r.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise SpecError(f"cannot reach the server at {base_url}: {exc}") from None
    return [str(m["id"]) for m in data.get("data", []) if isinstance(m, dict) and "id" in m]


def gguf_file(spec: ModelSpec) -> Path:
    return embedded.gguf_path() if spec.model == "embedded" else Path(spec.model)


def llama_server_binary() -> str:
    """``$COTBENCH_LLAMA_SERVER``, else ``llama-server`` on PATH, else the CI build's cache."""
    candidates = [os.environ.get("COTBENCH_LLAMA_SERVER"), shutil.which("llama-server")]
    cache = Path.home() / ".cache" / "cotbench"
    candidates += sorted((str(p) for p in cache.glob("llama-server-*/llama-server")), reverse=True)
    for c in candidates:
        if c and os.access(c, os.X_OK):
            return c
    raise MissingDependencyError("llama-server", "the llamacpp: backend (build it with .ci/build-llama-server, "
                                 "or set COTBENCH_LLAMA_SERVER to the binary)")


@dataclass(frozen=True)
class LlamaCppOptions:
    parallel: int = 16  # server slots = requests decoded together (continuous batching)
    ctx_size: int | None = None  # total KV cache; default: 4096 tokens per slot
    threads: int | None = None
    gpu_layers: int | None = None  # offload to a GPU build; None: the build's default


def llama_server_command(gguf: Path, port: int, opts: LlamaCppOptions, chat_template: Path | None = None) -> list[str]:
    ctx = opts.ctx_size or 4096 * opts.parallel
    cmd = [llama_server_binary(), "--model", str(gguf), "--host", "127.0.0.1", "--port", str(port),
           "--parallel", str(opts.parallel), "--ctx-size", str(ctx), "--cont-batching", "--jinja"]
    if opts.threads:
        cmd += ["--threads", str(opts.threads)]
    if opts.gpu_layers is not None:
        cmd += ["--n-gpu-layers", str(opts.gpu_layers)]
    if chat_template is not None:
        cmd += ["--chat-template-file", str(chat_template)]
    return cmd


@dataclass(frozen=True)
class VLLMOptions:
    tensor_parallel_size: int = 1
    data_parallel_size: int = 1
    max_model_len: int | None = None
    gpu_memory_utilization: float = 0.90
    prefix_caching: bool = True
    reasoning_parser: str | None = None  # e.g. deepseek_r1, qwen3: reasoning comes back apart
    max_num_seqs: int = 256


def vllm_command(model: str, port: int, opts: VLLMOptions, *, served_name: str, revision: str | None,
                 dtype: str | None, chat_template: Path | None) -> list[str]:
    exe = shutil.which("vllm")
    if exe is None:
        raise MissingDependencyError("vllm", "the vllm: backend (CUDA only)", extra="vllm")
    cmd = [exe, "serve", model, "--host", "127.0.0.1", "--port", str(port), "--served-model-name", served_name,
           "--dtype", dtype or "auto", "--tensor-parallel-size", str(opts.tensor_parallel_size),
           "--data-parallel-size", str(opts.data_parallel_size),
           "--gpu-memory-utilization", str(opts.gpu_memory_utilization), "--max-num-seqs", str(opts.max_num_seqs),
           "--generation-config", "vllm",  # cotbench's sampling settings, not the checkpoint's defaults
           "--enable-prefix-caching" if opts.prefix_caching else "--no-enable-prefix-caching"]
    if revision:
        cmd += ["--revision", revision]
    if opts.max_model_len:
        cmd += ["--max-model-len", str(opts.max_model_len)]
    if opts.reasoning_parser:
        cmd += ["--reasoning-parser", opts.reasoning_parser]
    if chat_template is not None:
        cmd += ["--chat-template", str(chat_template)]
    return cmd
