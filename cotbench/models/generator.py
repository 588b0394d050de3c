"""The one interface both harness adapters use to talk to a model.

A request is a chat (list of role/content messages) plus generation settings and a seed
derived from (run seed, sample id, repeat), so a response does not depend on batching,
ordering, or which harness asked for it.
"""

from __future__ import annotations

import hashlib
import json
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from cotbench.results.schema import FinishReason, GenerationSettings

Message = dict[str, str]


@dataclass(frozen=True)
class GenRequest:
    messages: tuple[tuple[str, str], ...]  # (role, content) pairs; hashable for the cache
    settings: GenerationSettings
    seed: int

    @classmethod
    def build(
        cls, prompt: str, settings: GenerationSettings, seed: int, system_prompt: str | None = None
    ) -> GenRequest:
        msgs = ((("system", system_prompt),) if system_prompt else ()) + (("user", prompt),)
        return cls(msgs, settings, seed)

    def as_messages(self) -> list[Message]:
        return [{"role": r, "content": c} for r, c in self.messages]

    def cache_key(self, identity: str) -> str:
        s = self.settings
        payload = {
            "model": identity,
            "messages": self.messages,
            # k is how many requests there are, not how each is generated
            "settings": [s.temperature, s.top_p, s.max_tokens, sorted(s.stop)],
            "seed": None if s.greedy else self.seed,
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Completion:
    text: str
    finish_reason: FinishReason
    output_tokens: int
    latency_s: float
    cached: bool = False
    reasoning_tokens: int | None = None  # as the server reported it (usage), where it does


def derive_seed(base_seed: int, sample_id: str, repeat: int) -> int:
    """Stable across processes (never Python's hash())."""
    digest = hashlib.sha256(f"{base_seed}:{sample_id}:{repeat}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


_WORDS = re.compile(r"\w+|[^\w\s]")


def word_count(text: str) -> int:
    """Words and punctuation marks: the token count where no tokenizer is known."""
    return len(_WORDS.findall(text))


class Generator(ABC):
    """A loaded model. Implementations: transformers, OpenAI-compatible servers (also the
    vLLM and llama.cpp servers cotbench manages).

    ``stream`` is what the run uses: every request is handed over at once and completions come
    back as they finish, so a backend with continuous batching stays full. ``max_in_flight`` is
    how many requests a backend wants outstanding; ``thread_safe`` whether two streams may run
    at once (an in-process model may not).
    """

    name: str = "generator"
    max_in_flight: int = 1
    thread_safe: bool = False

    @abstractmethod
    def generate(self, requests: list[GenRequest]) -> list[Completion]: ...

    def stream(self, requests: Sequence[GenRequest]) -> Iterator[tuple[int, Completion]]:
        """(index into ``requests``, completion) as each finishes; by default one ``generate``."""
        yield from enumerate(self.generate(list(requests)))

    def close(self) -> None:  # noqa: B027 (an optional hook: most backends hold nothing)
        """Release what the backend holds (a server process, a connection pool)."""

    def describe(self) -> dict[str, str]:
        """Backend facts for provenance (device, dtype, ...)."""
        return {"generator": self.name}


def trim_at_stop(text: str, stop: list[str]) -> tuple[str, bool]:
    """Cut ``text`` at the first stop sequence (excluded, as lm-eval does)."""
    cut = min((i for i in (text.find(s) for s in stop if s) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)
