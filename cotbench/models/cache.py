"""A generation cache keyed by model identity, stored in the run directory.

Each completion is committed the moment the backend returns it (backends stream), so a run
killed at any point loses only the requests in flight; a rerun serves every finished completion without loading the
model. (lm-eval's own request cache keys on the prompt alone, which would serve one
model's answers for another: cotbench does not use it.)
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from cotbench.models.generator import Completion, Generator, GenRequest


class CompletionCache(Protocol):
    """What CachedGenerator needs of a cache: GenerationCache here, a Ray actor's RemoteCache on a worker."""

    def get_many(self, keys: list[str]) -> dict[str, Completion]: ...
    def put_many(self, items: dict[str, Completion]) -> None: ...
    def close(self) -> None: ...


class GenerationCache:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS completions (key TEXT PRIMARY KEY, value TEXT NOT NULL)")

    def get_many(self, keys: list[str]) -> dict[str, Completion]:
        found: dict[str, Completion] = {}
        with self._lock:
            for i in range(0, len(keys), 500):
                chunk = keys[i : i + 500]
                q = f"SELECT key, value FROM completions WHERE key IN ({','.join('?' * len(chunk))})"
                for key, value in self._db.execute(q, chunk):
                    d = json.loads(value)
                    found[key] = Completion(**d, cached=True)
        return found

    def put_many(self, items: dict[str, Completion]) -> None:
        rows = [
            (k, json.dumps({"text": c.text, "finish_reason": c.finish_reason,
                            "output_tokens": c.output_tokens, "latency_s": c.latency_s,
                            **({"reasoning_tokens": c.reasoning_tokens} if c.reasoning_tokens is not None else {})}))
            for k, c in items.items()
        ]
        with self._lock:
            self._db.executemany("INSERT OR REPLACE INTO completions VALUES (?, ?)", rows)

    def close(self) -> None:
        with self._lock:
            self._db.close()


class CachedGenerator:
    """Serves cached completions; loads the real generator only on the first miss.

    Misses are streamed to the backend all at once (it bounds what is in flight) and each
    completion is committed to the cache as it arrives. ``batch_size`` is only for the
    in-process transformers backend, which pads a batch to its longest prompt.
    """

    def __init__(self, identity: str, cache: CompletionCache, load: Callable[[], Generator],
                 batch_size: int = 8) -> None:
        self.identity = identity
        self.cache = cache
        self._load = load
        self._generator: Generator | None = None
        self._lock = threading.Lock()
        self._serial = threading.Lock()  # held while a backend that is not thread-safe streams
        self.batch_size = batch_size
        self.model_calls = 0  # requests actually sent to the model
        self.cache_hits = 0
        self.description: dict[str, str] = {}  # the backend's provenance, taken when it is closed

    @property
    def generator(self) -> Generator:
        with self._lock:
            if self._generator is None:
                self._generator = self._load()
            return self._generator

    @property
    def loaded(self) -> bool:
        return self._generator is not None

    @property
    def max_in_flight(self) -> int:
        """How many requests callers should keep outstanding (before the model is loaded: a guess)."""
        return self._generator.max_in_flight if self._generator is not None else 64

    def generate(self, requests: list[GenRequest],
                 on_done: Callable[[list[int]], None] | None = None,
                 on_generated: Callable[[list[int], int], None] | None = None) -> list[Completion]:
        """Completions in request order; ``on_done`` gets the indices of requests as they finish,
        ``on_generated`` the indices and output tokens of each completion the model generated."""
        keys = [r.cache_key(self.identity) for r in requests]
        results: dict[str, Completion] = self.cache.get_many(sorted(set(keys)))
        self.cache_hits += sum(k in results for k in keys)
        if on_done:
            hits = [i for i, k in enumerate(keys) if k in results]
            if hits:
                on_done(hits)
        waiting: dict[str, list[int]] = {}
        todo: dict[str, GenRequest] = {}
        for i, (key, req) in enumerate(zip(keys, requests, strict=True)):
            if key not in results:
                todo.setdefault(key, req)
                waiting.setdefault(key, []).append(i)
        if todo:
            pending = list(todo.items())
            gen = self.generator
            with contextlib.nullcontext() if gen.thread_safe else self._serial:
                for j, completion in gen.stream([r for _, r in pending]):
                    key = pending[j][0]
                    self.cache.put_many({key: completion})
                    results[key] = completion
                    with self._lock:
                        self.model_calls += 1
                    if on_done:
                        on_done(waiting[key])
                    if on_generated:
                        on_generated(waiting[key], completion.output_tokens)
        return [results[k] for k in keys]

    def close(self) -> None:
        """Stop the backend (a managed server) and close the cache."""
        with self._lock:
            gen, self._generator = self._generator, None
        if gen is not None:
            self.description = gen.describe()
            gen.close()
        self.cache.close()
