"""Progress for `cotbench run`: rich bars on a terminal, plain timed lines elsewhere.

A CI log or a Slurm output file is not a terminal: rich draws nothing there until a model's
tasks finish, so a job looks hung for hours. ``progress_reporter`` picks plain lines (task,
done/total, rate, tokens/s, ETA) printed at a steady interval for those.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from cotbench.engines.base import TaskPlan
from cotbench.errors import markup_safe
from cotbench.runner import RunReporter

INTERVAL_ENV = "COTBENCH_PROGRESS_INTERVAL"
DEFAULT_INTERVAL = 30.0  # seconds between plain progress lines


def progress_reporter(console: Console, on_model_done: Callable[[Path], None] | None = None) -> RunReporter:
    """Rich bars on a terminal, else timed plain lines (interval: ``COTBENCH_PROGRESS_INTERVAL``)."""
    if console.is_terminal:
        return RichReporter(console, on_model_done)
    return PlainReporter(console, interval_from_env(), on_model_done)


def interval_from_env() -> float:
    raw = os.environ.get(INTERVAL_ENV, "")
    try:
        value = float(raw) if raw else DEFAULT_INTERVAL
    except ValueError:
        return DEFAULT_INTERVAL
    return value if value > 0 else DEFAULT_INTERVAL


def duration(seconds: float) -> str:
    """``1h02m``, ``3m05s``, ``42s``."""
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


@dataclass
class TaskClock:
    """One task's counts since it started generating, for rates and an ETA."""

    total: int
    done: int = 0
    tokens: int = 0
    cached: bool = False
    started: float | None = None
    finished: float | None = None
    failed: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def advance(self, n: int, now: float) -> None:
        with self._lock:
            if self.started is None:
                self.started = now
            self.done += n

    def add_tokens(self, n: int) -> None:
        with self._lock:
            self.tokens += n

    def elapsed(self, now: float) -> float:
        if self.started is None:
            return 0.0
        return (self.finished or now) - self.started

    def rate(self, now: float) -> float:
        t = self.elapsed(now)
        return self.done / t if t > 0 else 0.0

    def tokens_per_s(self, now: float) -> float:
        t = self.elapsed(now)
        return self.tokens / t if t > 0 else 0.0

    def eta(self, now: float) -> float | None:
        r = self.rate(now)
        return (self.total - self.done) / r if r > 0 and self.done < self.total else None


class RichReporter(RunReporter):
    """One bar per task: done/total, elapsed, ETA and generated tokens per second."""

    def __init__(self, console: Console, on_model_done: Callable[[Path], None] | None = None) -> None:
        self.console = console
        self.on_model_done = on_model_done
        self.progress: Progress | None = None
        self.bars: dict[str, TaskID] = {}
        self.clocks: dict[str, TaskClock] = {}

    def start_model(self, label: str, run_dir: Path) -> None:
        self.console.print(f"[bold]{markup_safe(label)}[/] -> {markup_safe(run_dir)}", highlight=False)

    def start_tasks(self, plans: list[TaskPlan], cached: list[str]) -> None:
        self.progress = Progress(TextColumn("{task.description:<18}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), TimeRemainingColumn(), TextColumn("{task.fields[speed]}"),
                                 console=self.console, transient=False)
        self.progress.start()
        for p in plans:
            is_cached = p.task.name in cached
            done = p.n_requests if is_cached else 0
            self.clocks[p.task.name] = TaskClock(p.n_requests, done, cached=is_cached)
            label = markup_safe(p.task.name) + (" (cached)" if is_cached else "")
            self.bars[p.task.name] = self.progress.add_task(label, total=p.n_requests, completed=done, speed="")

    def advance(self, task: str, n: int) -> None:
        if task in self.clocks:
            self.clocks[task].advance(n, time.monotonic())
        if self.progress and task in self.bars:
            self.progress.advance(self.bars[task], n)

    def tokens(self, task: str, n: int) -> None:
        clock = self.clocks.get(task)
        if clock is None:
            return
        clock.add_tokens(n)
        if self.progress and task in self.bars:
            self.progress.update(self.bars[task], speed=f"{clock.tokens_per_s(time.monotonic()):.0f} tok/s")

    def task_done(self, task: str, ok: bool, error: str | None = None) -> None:
        if task in self.clocks and self.clocks[task].finished is None:
            self.clocks[task].finished = time.monotonic()
        if self.progress and task in self.bars:
            bar = self.bars[task]
            total = self.progress.tasks[bar].total or 0
            name = markup_safe(task)
            self.progress.update(bar, completed=total, description=name if ok else f"{name} [red]failed[/]")
        if error:
            self.console.print(f"[red]{markup_safe(task)}: {markup_safe(error)}[/]", highlight=False)

    def end_model(self) -> None:
        if self.progress:
            self.progress.stop()
            self.progress = None
            self.bars = {}
            self.clocks.clear()

    def model_done(self, run_dir: Path) -> None:
        if self.on_model_done is not None:
            self.on_model_done(run_dir)


class PlainReporter(RunReporter):
    """Plain progress lines for logs: one per running task every ``interval`` seconds, one when
    a task finishes (with its elapsed time), so a batch job's log shows it is alive."""

    def __init__(self, console: Console, interval: float = DEFAULT_INTERVAL,
                 on_model_done: Callable[[Path], None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.console = console
        self.interval = interval
        self.on_model_done = on_model_done
        self.now = clock
        self.clocks: dict[str, TaskClock] = {}
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._print_lock = threading.Lock()

    def _line(self, text: str) -> None:
        with self._print_lock:
            self.console.print(markup_safe(text), highlight=False, soft_wrap=True)

    def start_model(self, label: str, run_dir: Path) -> None:
        self._line(f"{label} -> {run_dir}")

    def start_tasks(self, plans: list[TaskPlan], cached: list[str]) -> None:
        for p in plans:
            is_cached = p.task.name in cached
            self.clocks[p.task.name] = TaskClock(p.n_requests, p.n_requests if is_cached else 0, cached=is_cached)
        todo = [p for p in plans if p.task.name not in cached]
        self._line(f"{len(plans)} task(s), {sum(p.n_requests for p in todo)} request(s) to do"
                   + (f", {len(cached)} cached" if cached else ""))
        self._stop.clear()
        self._ticker = threading.Thread(target=self._tick, name="cotbench-progress", daemon=True)
        self._ticker.start()

    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            self.report()

    def report(self) -> None:
        """One line per task that is generating (started, not finished)."""
        now = self.now()
        for name, c in list(self.clocks.items()):
            if c.started is not None and c.finished is None and not c.cached:
                self._line(self.status_line(name, c, now))

    @staticmethod
    def status_line(name: str, c: TaskClock, now: float) -> str:
        pct = 100.0 * c.done / c.total if c.total else 100.0
        parts = [f"{name}: {c.done}/{c.total} ({pct:.0f}%)", f"{c.rate(now):.2f} req/s"]
        if c.tokens:
            parts.append(f"{c.tokens_per_s(now):.0f} tok/s")
        parts.append(f"elapsed {duration(c.elapsed(now))}")
        eta = c.eta(now)
        if eta is not None:
            parts.append(f"ETA {duration(eta)}")
        return ", ".join(parts)

    def advance(self, task: str, n: int) -> None:
        if task in self.clocks:
            self.clocks[task].advance(n, self.now())

    def tokens(self, task: str, n: int) -> None:
        if task in self.clocks:
            self.clocks[task].add_tokens(n)

    def task_done(self, task: str, ok: bool, error: str | None = None) -> None:
        c = self.clocks.get(task)
        took = ""
        if c is not None:
            if c.finished is None:
                c.finished = self.now()
            took = f" in {duration(c.elapsed(self.now()))}" if c.started is not None else ""
        self._line(f"{task}: done{took}" if ok else f"{task}: failed{took}: {error or 'error'}")

    def end_model(self) -> None:
        if self._ticker is not None:
            self._stop.set()
            self._ticker.join(timeout=5)
            self._ticker = None
            self.clocks.clear()

    def model_done(self, run_dir: Path) -> None:
        if self.on_model_done is not None:
            self.on_model_done(run_dir)


class RichRayReporter:
    """One line for a whole Ray run: units done / running / failed, completions and their rate."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress: Progress | None = None
        self.bar: TaskID | None = None

    def start(self, units: int, requests: int) -> None:
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[status]}"), TimeElapsedColumn(), console=self.console)
        self.progress.start()
        self.bar = self.progress.add_task("ray units", total=units, status=f"0 of {requests} generations")
        self.requests = requests

    def update(self, done: int, running: int, failed: int, completions: int, rate: float) -> None:
        if self.progress is not None and self.bar is not None:
            self.progress.update(self.bar, completed=done + failed,
                                 status=f"running {running}, failed {failed}, {completions}/{self.requests} "
                                        f"generations, {rate:.1f}/s")

    def end(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
