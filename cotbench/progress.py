"""Rich progress bars for `cotbench run` (one bar per task)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from cotbench.engines.base import TaskPlan
from cotbench.runner import RunReporter


class RichReporter(RunReporter):
    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress: Progress | None = None
        self.bars: dict[str, TaskID] = {}

    def start_model(self, label: str, run_dir: Path) -> None:
        self.console.print(f"[bold]{label}[/] -> {run_dir}", highlight=False)

    def start_tasks(self, plans: list[TaskPlan], cached: list[str]) -> None:
        self.progress = Progress(TextColumn("{task.description:<18}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=self.console, transient=False)
        self.progress.start()
        for p in plans:
            done = p.n_requests if p.task.name in cached else 0
            label = p.task.name + (" (cached)" if p.task.name in cached else "")
            self.bars[p.task.name] = self.progress.add_task(label, total=p.n_requests, completed=done)

    def advance(self, task: str, n: int) -> None:
        if self.progress and task in self.bars:
            self.progress.advance(self.bars[task], n)

    def task_done(self, task: str, ok: bool, error: str | None = None) -> None:
        if self.progress and task in self.bars:
            bar = self.bars[task]
            total = self.progress.tasks[bar].total or 0
            self.progress.update(bar, completed=total, description=task if ok else f"{task} [red]failed[/]")
        if error:
            self.console.print(f"[red]{task}: {error}[/]", highlight=False)

    def end_model(self) -> None:
        if self.progress:
            self.progress.stop()
            self.progress = None
            self.bars = {}
