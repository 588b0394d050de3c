"""A generation cache keyed by model identity, stored in the run directory.

Each completion is committed as soon as it exists, so a run killed at any point loses at
most the batch in flight; a rerun serves every finished completion without loading the
model. (lm-eval's own request cache keys on the prompt alone, which would serve one
model's answers for another: cotbench does not use it.)
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

from cotbench.models.generator import Completion, Generator, GenRequest


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
                            "output_tokens": c.output_tokens, "latency_s": c.latency_s}))
            for k, c in items.items()
        ]
        with self._lock:
            self._db.executemany("INSERT OR REPLACE INTO completions VALUES (?, ?)", rows)

    def close(self) -> None:
        with self._lock:
            self._db.close()


class CachedGenerator:
    """Serves cached completions; loads the real generator only on the first miss."""

    def __init__(self, identity: str, cache: GenerationCache, load: Callable[[], Generator],
                 batch_size: int = 8) -> None:
        self.identity = identity
        self.cache = cache
        self._load = load
        self._generator: Generator | None = None
        self._lock = threading.Lock()
        self.batch_size = batch_size
        self.model_calls = 0  # requests actually sent to the model
        self.cache_hits = 0

    @property
    def generator(self) -> Generator:
        with self._lock:
            if self._generator is None:
                self._generator = self._load()
            return self._generator

    @property
    def loaded(self) -> bool:
        return self._generator is not None

    def generate(self, requests: list[GenRequest],
                 on_done: Callable[[list[int]], None] | None = None) -> list[Completion]:
        """Completions in request order; ``on_done`` gets the indices of requests as they finish."""
        keys = [r.cache_key(self.identity) for r in requests]
        results: dict[str, Completion] = self.cache.get_many(sorted(set(keys)))
        self.cache_hits += sum(k in results for k in keys)
        if on_done:
            on_done([i for i, k in enumerate(keys) if k in results])
        todo: dict[str, GenRequest] = {}
        for key, req in zip(keys, requests, strict=True):
            if key not in results:
                todo.setdefault(key, req)
        pending = list(todo.items())
        for i in range(0, len(pending), self.batch_size):
            batch = pending[i : i + self.batch_size]
            outs = self.generator.generate([r for _, r in batch])
            self.model_calls += len(batch)
            fresh = {k: c for (k, _), c in zip(batch, outs, strict=True)}
            self.cache.put_many(fresh)
            results.update(fresh)
            if on_done:
                on_done([i for i, k in enumerate(keys) if k in fresh])
        return [results[k] for k in keys]
