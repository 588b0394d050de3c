"""Rich progress bars for `cotbench run` (one bar per task)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from cotbench.engines.base import TaskPlan
from cotbench.errors import markup_safe
from cotbench.runner import RunReporter


class RichReporter(RunReporter):
    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress: Progress | None = None
        self.bars: dict[str, TaskID] = {}

    def start_model(self, label: str, run_dir: Path) -> None:
        self.console.print(f"[bold]{markup_safe(label)}[/] -> {markup_safe(run_dir)}", highlight=False)

    def start_tasks(self, plans: list[TaskPlan], cached: list[str]) -> None:
        self.progress = Progress(TextColumn("{task.description:<18}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=self.console, transient=False)
        self.progress.start()
        for p in plans:
            done = p.n_requests if p.task.name in cached else 0
            label = markup_safe(p.task.name) + (" (cached)" if p.task.name in cached else "")
            self.bars[p.task.name] = self.progress.add_task(label, total=p.n_requests, completed=done)

    def advance(self, task: str, n: int) -> None:
        if self.progress and task in self.bars:
            self.progress.advance(self.bars[task], n)

    def task_done(self, task: str, ok: bool, error: str | None = None) -> None:
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
