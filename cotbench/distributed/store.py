"""Where a Ray run's generations are committed: the driver's run directory, through an actor.

Workers need not share a filesystem with the driver (and SQLite over a network filesystem is
not safe), so a worker never opens the run directory. Each run directory gets one
``GenerationStore`` actor pinned to the driver's node; it owns that directory's
``generations.sqlite``. A worker's cached generator reads and commits through it
(``RemoteCache``), one completion at a time, so when Ray retries a unit on another node after its
worker died, every completion already committed is served from the store and not generated
again. Results (sample records) come back to the driver as the unit's return value and the
driver writes them, exactly as a local run does.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path
from typing import Any

import ray

from cotbench.models.cache import GenerationCache
from cotbench.models.generator import Completion


@ray.remote(num_cpus=0, max_concurrency=64)  # type: ignore[call-overload]  # ray's overloads omit actor options
class GenerationStore:
    """Owns one run directory's generation cache on the driver's node; counts progress."""

    def __init__(self, cache_path: str) -> None:
        self.cache = GenerationCache(Path(cache_path))
        self.done: Counter[str] = Counter()
        self.committed = 0

    def get_many(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        return {k: dataclasses.asdict(c) for k, c in self.cache.get_many(keys).items()}

    def put_many(self, items: dict[str, dict[str, Any]]) -> None:
        self.cache.put_many({k: Completion(**v) for k, v in items.items()})
        self.committed += len(items)

    def progress(self, task: str, n: int) -> None:
        self.done[task] += n

    def stats(self) -> dict[str, Any]:
        return {"done": dict(self.done), "committed": self.committed}

    def close(self) -> None:
        self.cache.close()


class RemoteCache:
    """``GenerationCache``'s interface, backed by a ``GenerationStore`` actor."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def get_many(self, keys: list[str]) -> dict[str, Completion]:
        found = ray.get(self.store.get_many.remote(keys))
        return {k: dataclasses.replace(Completion(**v), cached=True) for k, v in found.items()}

    def put_many(self, items: dict[str, Completion]) -> None:
        ray.get(self.store.put_many.remote({k: dataclasses.asdict(c) for k, c in items.items()}))

    def close(self) -> None:
        """The store belongs to the driver; nothing to close here."""
