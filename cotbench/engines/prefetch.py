"""One generation queue for a whole run.

Before any harness runs, every request of every pending task of the model goes to the backend
in one stream (a background thread), so a server with continuous batching stays full across
task boundaries; each completion is committed to the cache as it arrives. The harnesses then
run task by task as soon as a task's completions are all in: they ask for exactly the same
requests (same prompts, settings and seeds) and every one is a cache hit, so lm-eval and
Inspect score as they always do while later tasks are still generating.
"""

from __future__ import annotations

import threading
from collections import Counter

from cotbench.engines.base import ModelHandle, Progress, TaskPlan
from cotbench.models.generator import GenRequest, derive_seed


def plan_requests(plan: TaskPlan, system_prompt: str | None) -> list[GenRequest]:
    """The requests both harnesses make for ``plan``: each item's prompt, k repeats, seeded by
    (run seed, sample id, repeat)."""
    s = plan.settings
    return [GenRequest.build(item.prompt, s, derive_seed(s.seed, item.id, r), system_prompt)
            for item in plan.items for r in range(s.k)]


class Prefetch:
    """Generates all of ``plans`` in a background thread; ``wait(plan)`` returns once that
    plan's completions are all cached, or raises what stopped the generation."""

    def __init__(self, handle: ModelHandle, plans: list[TaskPlan], progress: Progress,
                 tokens: Progress | None = None) -> None:
        self.handle = handle
        self.progress = progress
        self.tokens = tokens  # (task, output tokens) of each completion the model generated
        self._requests: list[GenRequest] = []
        self._owner: list[str] = []
        for plan in plans:
            reqs = plan_requests(plan, handle.system_prompt)
            self._requests += reqs
            self._owner += [plan.task.name] * len(reqs)
        self._left = Counter(self._owner)
        self._ready = {p.task.name: threading.Event() for p in plans}
        for name, event in self._ready.items():
            if not self._left[name]:
                event.set()
        self._lock = threading.Lock()
        self.error: BaseException | None = None
        self.cache_hits = 0  # requests of this run found in the cache before it started
        self._thread = threading.Thread(target=self._run, name="cotbench-prefetch", daemon=True)

    def start(self) -> Prefetch:
        self._thread.start()
        return self

    def _run(self) -> None:
        gen = self.handle.generator
        before = gen.cache_hits
        try:
            gen.generate(self._requests, on_done=self._done,
                         on_generated=self._generated if self.tokens else None)
            self.cache_hits = gen.cache_hits - before
        except BaseException as exc:  # noqa: BLE001 - handed to the thread that waits
            self.error = exc
        finally:
            for event in self._ready.values():
                event.set()

    def _done(self, indices: list[int]) -> None:
        finished = Counter(self._owner[i] for i in indices)
        with self._lock:
            for name, n in finished.items():
                self._left[name] -= n
                if self._left[name] <= 0:
                    self._ready[name].set()
        for name, n in finished.items():
            self.progress(name, n)

    def _generated(self, indices: list[int], output_tokens: int) -> None:
        # A completion shared by identical requests was generated once: count it for the first.
        if self.tokens is not None and indices:
            self.tokens(self._owner[indices[0]], output_tokens)

    def wait(self, plan: TaskPlan) -> None:
        self._ready[plan.task.name].wait()
        with self._lock:
            complete = self._left[plan.task.name] <= 0
        if not complete and self.error is not None:
            raise self.error

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)
