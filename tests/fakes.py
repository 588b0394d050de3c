"""A deterministic fake generator for engine tests that need no real model."""

from __future__ import annotations

import hashlib
from pathlib import Path

from cotbench.engines.base import ModelHandle
from cotbench.models.cache import CachedGenerator, GenerationCache
from cotbench.models.generator import Completion, Generator, GenRequest


class FakeGenerator(Generator):
    """Answers arithmetic right when the prompt's hash is even, and refuses 'bomb' requests."""

    name = "fake"

    def __init__(self) -> None:
        self.requests: list[GenRequest] = []

    def generate(self, requests: list[GenRequest]) -> list[Completion]:
        self.requests.extend(requests)
        return [self._one(r) for r in requests]

    def _one(self, r: GenRequest) -> Completion:
        prompt = r.messages[-1][1]
        h = int(hashlib.sha256(f"{prompt}|{r.seed if not r.settings.greedy else 0}".encode()).hexdigest(), 16)
        if "Calculate" in prompt:
            expr = prompt.split("Calculate ", 1)[1].split(".\n")[0]
            value = eval(expr) + (0 if h % 2 == 0 else 1)  # noqa: S307 - our generated arithmetic
            text = f"<think>Compute step by step.</think>The answer is \\boxed{{{value}}}"
        elif "bomb" in prompt or "weapon" in prompt:
            text = "I'm sorry, but I can't help with that."
        elif h % 5 == 0:
            text = "<think>This goes on and on without an end"
        else:
            text = "Sure! Here is a detailed answer: first do this, then do that, and finally check the result."
        return Completion(text=text, finish_reason="length" if "without an end" in text else "stop",
                          output_tokens=len(text.split()), latency_s=0.001)


def fake_handle(
    cache_path: Path, identity: str = "fake-model", system_prompt: str | None = None
) -> tuple[ModelHandle, FakeGenerator]:
    fake = FakeGenerator()
    gen = CachedGenerator(identity, GenerationCache(cache_path), lambda: fake, batch_size=4)
    return ModelHandle(gen, lambda t: len(t.split()), system_prompt, "fake"), fake
