"""Generators for served models: any OpenAI-compatible server, and vLLM in-process."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from cotbench.errors import MissingDependencyError, ModelLoadError
from cotbench.models.generator import Completion, Generator, GenRequest, trim_at_stop, word_count


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


class OpenAIGenerator(Generator):
    name = "openai"

    def __init__(self, model: str, base_url: str | None, concurrency: int = 8, timeout: float = 600.0) -> None:
        try:
            import openai
        except ImportError:
            raise MissingDependencyError("openai", "the openai: backend") from None
        key = os.environ.get("COTBENCH_OPENAI_API_KEY") or os.environ.get("OPENAI_API_KEY")
        if not key and not base_url:
            raise ModelLoadError("openai: backend needs OPENAI_API_KEY (or a base URL of a local server)")
        self.model = model
        self.client = openai.OpenAI(api_key=key or "EMPTY", base_url=base_url, timeout=timeout, max_retries=3)
        self.concurrency = concurrency
        self._errors = (openai.APIError,)

    def describe(self) -> dict[str, str]:
        return {"generator": self.name, "base_url": str(self.client.base_url)}

    def generate(self, requests: list[GenRequest]) -> list[Completion]:
        with ThreadPoolExecutor(self.concurrency) as pool:
            return list(pool.map(self._one, requests))

    def _one(self, req: GenRequest) -> Completion:
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
        start = time.perf_counter()
        try:
            resp = self.client.chat.completions.create(**kwargs)
        except self._errors as exc:
            raise ModelLoadError(f"request to {self.client.base_url} failed: {exc}") from None
        choice = resp.choices[0]
        msg = choice.message
        finish = {"stop": "stop", "length": "length"}.get(choice.finish_reason or "", "unknown")
        text = _reasoning_wrapped(msg.content or "", getattr(msg, "reasoning_content", None)
                                  or getattr(msg, "reasoning", None), cut=finish == "length")
        text, _ = trim_at_stop(text, s.stop)
        tokens = resp.usage.completion_tokens if resp.usage else word_count(text)
        return Completion(text, finish, tokens, time.perf_counter() - start)  # type: ignore[arg-type]


class VLLMGenerator(Generator):
    name = "vllm"

    def __init__(self, path: Path | str, *, revision: str | None, dtype: str | None,
                 chat_template: str | None, subfolder: str | None) -> None:
        try:
            import vllm
        except ImportError:
            raise MissingDependencyError("vllm", "the vllm: backend (CUDA only)", extra="vllm") from None
        self._vllm = vllm
        model = str(Path(path) / subfolder) if subfolder else str(path)
        self.llm = vllm.LLM(model=model, revision=revision, dtype=dtype or "auto")
        self.chat_template = chat_template


    def generate(self, requests: list[GenRequest]) -> list[Completion]:
        params = [
            self._vllm.SamplingParams(temperature=r.settings.temperature, top_p=r.settings.top_p,
                                      max_tokens=r.settings.max_tokens, seed=r.seed,
                                      stop=r.settings.stop or None)
            for r in requests
        ]
        start = time.perf_counter()
        outs = self.llm.chat([r.as_messages() for r in requests], params, chat_template=self.chat_template,
                             use_tqdm=False)
        per = (time.perf_counter() - start) / max(len(requests), 1)
        result = []
        for o in outs:
            c = o.outputs[0]
            finish = "length" if c.finish_reason == "length" else "stop"
            result.append(Completion(c.text, finish, len(c.token_ids), per))
        return result
