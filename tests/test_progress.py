"""Progress output: plain timed lines when stdout is not a terminal, per-checkpoint summaries
as each finishes, token rates, and results files readable under the user's umask."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest
from rich.console import Console

from cotbench.progress import PlainReporter, RichReporter, TaskClock, duration, progress_reporter
from tests.test_cli_errors import FAKE_MODEL, invoke


class _Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


class _Plan:
    """What a reporter reads from a TaskPlan."""

    def __init__(self, name: str, n: int) -> None:
        self.n_requests = n
        self.task = type("T", (), {"name": name})()


def test_duration() -> None:
    assert [duration(s) for s in (0, 42.4, 65, 3600 + 125)] == ["0s", "42s", "1m05s", "1h02m"]


def test_status_line_has_counts_rate_tokens_and_eta() -> None:
    c = TaskClock(total=100)
    c.advance(25, now=0.0)  # starts the clock
    c.add_tokens(5000)
    line = PlainReporter.status_line("gsm8k", c, now=10.0)
    assert line == "gsm8k: 25/100 (25%), 2.50 req/s, 500 tok/s, elapsed 10s, ETA 30s"


def test_plain_reporter_prints_running_tasks_and_finish_times() -> None:
    buf, clock = io.StringIO(), _Clock()
    rep = PlainReporter(Console(file=buf, width=300), interval=3600, clock=clock)
    rep.start_model("model[/]\x1b[31m", Path("/runs/x"))
    rep.start_tasks([_Plan("a", 10), _Plan("b", 4), _Plan("c", 3)], cached=["c"])
    rep.advance("a", 4)
    clock.t += 2
    rep.report()
    rep.advance("a", 6)
    clock.t += 3
    rep.task_done("a", True)
    rep.report()  # a is finished, b has not started, c is cached: nothing to say
    rep.end_model()
    lines = buf.getvalue().splitlines()
    assert lines[0] == "model[/]\\x1b[31m -> /runs/x"  # markup and control characters inert
    assert lines[1] == "3 task(s), 14 request(s) to do, 1 cached"
    assert lines[2] == "a: 4/10 (40%), 2.00 req/s, elapsed 2s, ETA 3s"
    assert lines[3] == "a: done in 5s"
    assert len(lines) == 4


def test_plain_reporter_ticks_on_its_own() -> None:
    buf = io.StringIO()
    rep = PlainReporter(Console(file=buf, width=300), interval=0.05)
    rep.start_model("m", Path("r"))
    rep.start_tasks([_Plan("a", 10)], cached=[])
    rep.advance("a", 1)
    import time

    deadline = time.monotonic() + 5
    while "a: 1/10" not in buf.getvalue() and time.monotonic() < deadline:
        time.sleep(0.02)
    rep.end_model()
    assert "a: 1/10 (10%)" in buf.getvalue()


def test_terminal_gets_bars_and_logs_get_lines() -> None:
    assert isinstance(progress_reporter(Console(file=io.StringIO(), force_terminal=True)), RichReporter)
    assert isinstance(progress_reporter(Console(file=io.StringIO(), force_terminal=False)), PlainReporter)


def test_rich_bars_show_tokens_per_second() -> None:
    buf = io.StringIO()
    rep = RichReporter(Console(file=buf, width=200, force_terminal=True))
    rep.start_model("m", Path("r"))
    rep.start_tasks([_Plan("a", 10)], cached=[])
    rep.advance("a", 5)
    rep.tokens("a", 1000)
    assert rep.progress is not None
    assert rep.progress.tasks[0].fields["speed"].endswith(" tok/s")
    rep.end_model()


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    from cotbench.models import handle
    from tests.fakes import FakeGenerator

    monkeypatch.setattr(handle, "generator_factory", lambda *a, **k: FakeGenerator)
    monkeypatch.setattr(handle, "token_counter", lambda rm: lambda t: len(t.split()))


def test_a_series_prints_each_summary_as_its_checkpoint_finishes(tmp_path: Path, fake_model: None,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COTBENCH_PROGRESS_INTERVAL", "3600")
    res = invoke("run", "-m", FAKE_MODEL + "?label=first", "-m", FAKE_MODEL + "?label=second",
                 "--tasks", "arithmetic", "--limit", "2", "-o", str(tmp_path))
    assert res.rc == 0, res.err
    out = res.out
    first_summary = out.index("results: ")
    assert first_summary < out.index("second ->")  # the first checkpoint's summary came before the second started
    assert out.count("results: ") == 2
    assert "arithmetic: done in " in out


def test_results_files_follow_the_umask(tmp_path: Path, fake_model: None) -> None:
    old = os.umask(0o022)
    try:
        res = invoke("run", "-m", FAKE_MODEL, "--tasks", "arithmetic", "--limit", "1", "-o", str(tmp_path))
    finally:
        os.umask(old)
    assert res.rc == 0, res.err
    (rd,) = [p for p in tmp_path.iterdir() if (p / "manifest.json").is_file()]
    for f in (rd / "manifest.json", rd / "tasks" / "arithmetic" / "metrics.json"):
        assert stat.S_IMODE(f.stat().st_mode) == 0o644, f


def test_prefetch_counts_generated_tokens_per_task(tmp_path: Path) -> None:
    from cotbench.engines.prefetch import Prefetch
    from cotbench.runner import RunOptions, plan_tasks
    from tests.fakes import fake_handle

    handle, fake = fake_handle(tmp_path / "c.sqlite")
    plans = plan_tasks(RunOptions(tasks=["arithmetic", "boolean_logic"], limit=2, output=tmp_path))
    tokens: dict[str, int] = {}
    q = Prefetch(handle, plans, lambda t, n: None, lambda t, n: tokens.__setitem__(t, tokens.get(t, 0) + n)).start()
    q.join(30)
    expected: dict[str, int] = {}
    for p in plans:
        from cotbench.engines.prefetch import plan_requests

        outs = handle.generator.generate(plan_requests(p, None))  # all cached now
        expected[p.task.name] = sum(o.output_tokens for o in outs)
    assert tokens == expected and all(v > 0 for v in tokens.values())
