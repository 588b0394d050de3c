"""The served-model backend: any OpenAI-compatible server (also the vLLM and llama.cpp servers
cotbench starts itself, ``cotbench.models.servers``).

Requests go out asynchronously, up to ``concurrency`` at once, and completions stream back as
they finish, so a server with continuous batching stays full. Transient failures (429, 5xx,
timeouts, dropped connections) are retried with exponential backoff by the openai client
itself; after the last try the run stops with one line naming the server. Token counts come
from the server's usage report (reasoning tokens where it reports them).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from typing import Any

from cotbench.errors import MissingDependencyError, ModelLoadError
from cotbench.models.generator import Completion, FinishReason, Generator, GenRequest, trim_at_stop, word_count
from cotbench.scoring.thinking import reopen, split_reasoning


def _reasoning_wrapped(content: str, reasoning: str | None, cut: bool = False) -> str:
    """Servers with a reasoning parser return the chain of thought apart; put it back
    in <think> tags so every backend yields the same raw-output shape.

    A response stopped by the token budget with reasoning and no content was cut while it was
    still thinking: the block stays open, so it reads as truncated, not as an empty answer
    (which would count as a refusal on harmful prompts and an over-refusal on benign ones)."""
    if not reasoning:
        return content
    if cut and not content.strip():
        return f"<think>{reasoning}"
    return f"<think>{reasoning}</think>{content}"


DEFAULT_CONCURRENCY = 64
DEFAULT_TRIES = 6  # the first request and five retries
_DONE = object()


class OpenAIGenerator(Generator):
    name = "openai"
    thread_safe = True

    def __init__(self, model: str, base_url: str | None, concurrency: int = DEFAULT_CONCURRENCY,
                 timeout: float = 3600.0, opens_reasoning: str | None = None, tries: int = DEFAULT_TRIES,
                 server: Any = None) -> None:
        """``opens_reasoning``: the marker the server's chat template pre-fills (None: none); its
        template cannot be seen from here, so the model spec says so. ``server``: a managed
        server this generator owns and stops on ``close``."""
        try:
            import openai
        except ImportError:
            raise MissingDependencyError("openai", "the openai: backend") from None
        key = os.environ.get("COTBENCH_OPENAI_API_KEY") or os.environ.get("OPENAI_API_KEY")
        if not key and not base_url:
            raise ModelLoadError("openai: backend needs OPENAI_API_KEY (or a base URL of a local server)")
        self._openai = openai
        self.model = model
        self.opens_reasoning = opens_reasoning
        self.max_in_flight = concurrency
        self.tries = tries
        self.server = server
        self._client_args: dict[str, Any] = {"api_key": key or "EMPTY", "base_url": base_url, "timeout": timeout,
                             "max_retries": tries - 1}
        self.client = openai.OpenAI(**self._client_args)
        self._errors = (openai.APIError,)
        self._tokenize: str | None = None  # which /tokenize dialect the server speaks, once known

    # ------------------------------------------------------------------ provenance

    def describe(self) -> dict[str, str]:
        facts = {"generator": self.name, "base_url": str(self.client.base_url),
                 "token_counts": "server usage" + (" + /tokenize" if self._tokenize not in (None, "none") else "")}
        try:
            ids = [m.id for m in self.client.models.list()]
            if ids:
                facts["server_model"] = ",".join(ids[:4])
        except self._errors:
            pass
        version = self._server_version()
        if version:
            facts["server_version"] = version
        return facts

    def _root(self) -> str:
        return str(self.client.base_url).rstrip("/").removesuffix("/v1")

    def _get_json(self, path: str) -> Any:
        try:
            with urllib.request.urlopen(self._root() + path, timeout=5) as r:
                return json.loads(r.read())
        except (urllib.error.URLError, OSError, ValueError):
            return None

    def _server_version(self) -> str | None:
        vllm = self._get_json("/version")  # vLLM: {"version": "0.x"}
        if isinstance(vllm, dict) and vllm.get("version"):
            return f"vllm {vllm['version']}"
        props = self._get_json("/props")  # llama.cpp: {"build_info": "b1234-abcdef", ...}
        if isinstance(props, dict) and props.get("build_info"):
            return f"llama.cpp {props['build_info']}"
        return None

    # ------------------------------------------------------------------ tokens

    def count_tokens(self, text: str) -> int | None:
        """Tokens of ``text`` by the served model's own tokenizer (its ``/tokenize``), or None
        when the server has no such endpoint."""
        if not text:
            return 0
        # llama.cpp's body first: vLLM rejects it (no "prompt"), while llama.cpp would answer
        # vLLM's body with an empty token list.
        bodies = {"llama.cpp": {"content": text, "add_special": False},
                  "vllm": {"model": self.model, "prompt": text, "add_special_tokens": False}}
        for dialect in [self._tokenize] if self._tokenize else list(bodies):
            if dialect == "none":
                return None
            req = urllib.request.Request(self._root() + "/tokenize", data=json.dumps(bodies[dialect]).encode(),
                                         headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    reply = json.loads(r.read())
            except (urllib.error.URLError, OSError, ValueError):
                continue
            if isinstance(reply, dict) and isinstance(reply.get("tokens"), list):
                self._tokenize = dialect
                return int(reply.get("count", len(reply["tokens"])))
        self._tokenize = "none"
        return None

    # ------------------------------------------------------------------ requests

    def _kwargs(self, req: GenRequest) -> dict[str, Any]:
        s = req.settings
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": req.as_messages(),
            "temperature": s.temperature,
            "top_p": s.top_p,
            "max_tokens": s.max_tokens,
            "seed": req.seed,
        }
        if s.stop:
            kwargs["stop"] = s.stop[:4]  # the API accepts at most four
        return kwargs

    def _completion(self, resp: Any, req: GenRequest, latency: float) -> Completion:
        choice = resp.choices[0]
        msg = choice.message
        finish: FinishReason = "unknown"
        if choice.finish_reason in ("stop", "length"):
            finish = choice.finish_reason
        text = _reasoning_wrapped(msg.content or "", getattr(msg, "reasoning_content", None)
                                  or getattr(msg, "reasoning", None), cut=finish == "length")
        text, _ = trim_at_stop(text, req.settings.stop)
        text = reopen(text, self.opens_reasoning)
        usage = resp.usage
        tokens = usage.completion_tokens if usage and usage.completion_tokens is not None else word_count(text)
        details = getattr(usage, "completion_tokens_details", None) if usage else None
        reasoning = getattr(details, "reasoning_tokens", None) if details else None
        return Completion(text, finish, tokens, latency, reasoning_tokens=reasoning)

    def _failed(self, exc: Exception) -> ModelLoadError:
        return ModelLoadError(f"request to {self.client.base_url} failed after {self.tries} tries: {exc}")

    def _one(self, req: GenRequest) -> Completion:
        start = time.perf_counter()
        try:
            resp = self.client.chat.completions.create(**self._kwargs(req))
        except self._errors as exc:
            raise self._failed(exc) from None
        return self._completion(resp, req, time.perf_counter() - start)

    def generate(self, requests: list[GenRequest]) -> list[Completion]:
        results = dict(self.stream(requests))
        return [results[i] for i in range(len(requests))]

    def stream(self, requests: Sequence[GenRequest]) -> Iterator[tuple[int, Completion]]:
        """All requests go out on one event loop (a worker thread), ``max_in_flight`` at a time;
        completions come back as each finishes. Closing the iterator cancels what is in flight."""
        out: queue.SimpleQueue[Any] = queue.SimpleQueue()
        ready = threading.Event()
        state: dict[str, Any] = {}

        def run() -> None:
            try:
                asyncio.run(self._stream_all(requests, out, ready, state))
            except BaseException as exc:  # noqa: BLE001 - handed to the consuming thread
                out.put(exc)
            finally:
                ready.set()
                out.put(_DONE)

        worker = threading.Thread(target=run, name="cotbench-openai", daemon=True)
        worker.start()
        try:
            while (item := out.get()) is not _DONE:
                if isinstance(item, BaseException):
                    if isinstance(item, asyncio.CancelledError):
                        continue
                    raise item
                yield item
        finally:
            ready.wait()
            loop, main = state.get("loop"), state.get("task")
            if loop is not None and main is not None and not main.done():
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(main.cancel)
            worker.join()

    async def _stream_all(self, requests: Sequence[GenRequest], out: queue.SimpleQueue[Any],
                          ready: threading.Event, state: dict[str, Any]) -> None:
        state["loop"], state["task"] = asyncio.get_running_loop(), asyncio.current_task()
        ready.set()
        gate = asyncio.Semaphore(self.max_in_flight)
        async with self._openai.AsyncOpenAI(**self._client_args) as client:

            async def one(i: int, req: GenRequest) -> None:
                async with gate:
                    start = time.perf_counter()
                    try:
                        resp = await client.chat.completions.create(**self._kwargs(req))
                    except self._errors as exc:
                        raise self._failed(exc) from None
                    done = self._completion(resp, req, time.perf_counter() - start)
                    if done.reasoning_tokens is None:  # not in the usage report: the server's tokenizer
                        reasoning = split_reasoning(done.text).reasoning
                        n = await asyncio.to_thread(self.count_tokens, reasoning) if reasoning else 0
                        if n is not None:
                            done = dataclasses.replace(done, reasoning_tokens=n)
                    out.put((i, done))

            try:
                async with asyncio.TaskGroup() as group:
                    for i, req in enumerate(requests):
                        group.create_task(one(i, req))
            except* Exception as errors:  # the first failure, as itself (the rest were cancelled)
                raise errors.exceptions[0] from None

    def close(self) -> None:
        self.client.close()
        if self.server is not None:
            self.server.stop()
