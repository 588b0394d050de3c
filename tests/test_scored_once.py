"""Each response is scored once per engine run: the harness's number and the record share it."""

from __future__ import annotations

import dataclasses
import functools
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from cotbench.engines.inspect.engine import InspectEngine
from cotbench.engines.inspect.scorer import score_metric
from cotbench.engines.lm_eval.engine import LmEvalEngine
from cotbench.registry import scorers
from cotbench.scoring.base import score_response, scoring_once
from tests.fakes import fake_handle
from tests.test_engines import _plan


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[tuple[str, str, str]]]:
    counter: Counter[tuple[str, str, str]] = Counter()
    for name, definition in list(scorers.items()):
        @functools.wraps(definition.factory)
        def factory(*args, _make=definition.factory, _name=name, **kwargs):  # type: ignore[no-untyped-def]
            fn = _make(*args, **kwargs)

            def counted(answer, target, item, truncated):  # type: ignore[no-untyped-def]
                counter[(_name, answer, json.dumps(dict(item), sort_keys=True, default=str))] += 1
                return fn(answer, target, item, truncated)

            return counted

        monkeypatch.setitem(scorers._entries, name, dataclasses.replace(definition, factory=factory, _built={}))
    yield counter


def test_a_run_of_many_responses_scores_each_once(calls: Counter[tuple[str, str, str]]) -> None:
    # More distinct responses than any bounded cache would keep (the old memo held 4096).
    outputs = [f"The answer is {i}" for i in range(5000)]
    with scoring_once():
        for _ in range(2):  # the harness's pass, then the record builder's
            values = [score_response("integer", o, 7, {}).score.value for o in outputs]
    assert len(calls) == 5000 and set(calls.values()) == {1}
    assert values[7] == 1.0 and sum(values) == 1.0


def test_outside_a_run_nothing_is_remembered(calls: Counter[tuple[str, str, str]]) -> None:
    score_response("integer", "The answer is 7", 7, {})
    score_response("integer", "The answer is 7", 7, {})
    assert calls[("integer", "The answer is 7", "{}")] == 2


@pytest.mark.parametrize("engine", ["lm_eval", "inspect"])
def test_engines_score_each_response_once(engine: str, tmp_path: Path, calls: Counter[tuple[str, str, str]]) -> None:
    plans = [_plan("arithmetic", 3, 0.6), _plan("probe_harmful", 3, 0.6)]
    handle, _ = fake_handle(tmp_path / "c.sqlite")
    runner = LmEvalEngine() if engine == "lm_eval" else InspectEngine(log_dir=tmp_path / "logs")
    out = runner.run(plans, handle, "run", lambda t, n: None)
    responses = {(p.task.scorer, r.sample_id, r.output) for p in plans for r in out[p.task.name].records}
    assert sum(calls.values()) == len(responses) and set(calls.values()) == {1}
    # ... and the harness's own number is the mean of those same scores.
    for p in plans:
        recs = out[p.task.name].records
        by_item: dict[str, list[float]] = {}
        for r in recs:
            if r.score is not None:
                by_item.setdefault(r.sample_id, []).append(r.score)
        key = "score" if engine == "lm_eval" else score_metric(p.task.scorer)
        harness = out[p.task.name].harness_metrics[key]
        # both harnesses average an item's scored repeats, then the items
        assert harness == pytest.approx(sum(sum(v) / len(v) for v in by_item.values()) / len(by_item))


def test_finish_reason_reaches_scoring_and_the_record() -> None:
    from cotbench.engines.base import make_record
    from cotbench.models.generator import Completion

    plan = _plan("arithmetic", n=1)
    item = plan.items[0]
    target = item.target

    def record(text: str, finish: str):  # type: ignore[no-untyped-def]
        return make_record("run", plan, item, 0, Completion(text, finish, 10, 0.0), "lm_eval", lambda t: 0)  # type: ignore[arg-type]

    # A model that does not reason, cut at the budget after saying its answer: scored on it, marked cut.
    cut_answer = record(f"The answer is \\boxed{{{target}}} and to double check", "length")
    assert (cut_answer.score, cut_answer.truncated, cut_answer.details["truncation"]) == (1.0, True, "answer")
    # Cut inside its reasoning: never an answer, whatever the finish reason says.
    for finish in ("length", "stop"):
        cut_thought = record(f"<think>so it is {target}, let me double check", finish)
        assert (cut_thought.score, cut_thought.truncated, cut_thought.answer) == (0.0, True, "")
        assert cut_thought.details["truncation"] == "reasoning"
    done = record(f"<think>ok</think>\\boxed{{{target}}}", "stop")
    assert (done.score, done.truncated, "truncation" in done.details) == (1.0, False, False)


def test_record_names_the_markers_that_split_the_answer() -> None:
    from cotbench.engines.base import make_record
    from cotbench.models.generator import Completion

    plan = _plan("arithmetic", n=1)
    item = plan.items[0]
    text = (f"<|begin_of_thought|>work<|end_of_thought|><|begin_of_solution|>\\boxed{{{item.target}}}"
            "<|end_of_solution|>")
    rec = make_record("run", plan, item, 0, Completion(text, "stop", 10, 0.0), "lm_eval", lambda t: 0)
    assert rec.score == 1.0
    assert rec.details["reasoning_marker"] == "<|begin_of_thought|>...<|end_of_thought|>"
    assert rec.details["solution_marker"] == "<|begin_of_solution|>...<|end_of_solution|>"
    assert rec.details["extraction"] == "boxed"


def test_concurrent_runs_in_threads_keep_their_own_memo(calls: Counter[tuple[str, str, str]]) -> None:
    # Two engine runs at once (threads): one finishing its scope must not end the other's.
    import threading

    first_in, first_out = threading.Event(), threading.Event()

    def first() -> None:
        with scoring_once():
            first_in.set()
            first_out.wait(10)

    t = threading.Thread(target=first)
    t.start()
    assert first_in.wait(10)

    def second() -> None:
        with scoring_once():
            score_response("integer", "The answer is 7", 7, {})
            first_out.set()
            t.join(10)  # the first run has ended its scope
            score_response("integer", "The answer is 7", 7, {})

    u = threading.Thread(target=second)
    u.start()
    u.join(10)
    assert calls[("integer", "The answer is 7", "{}")] == 1


def test_a_run_memo_reaches_asyncio_tasks_and_worker_threads(calls: Counter[tuple[str, str, str]]) -> None:
    # Inspect scores in asyncio tasks of the run's event loop, and anyio hands sync work to threads
    # with the caller's context: both see the run's memo.
    import asyncio

    import anyio.to_thread

    async def run() -> None:
        async def one() -> None:
            score_response("integer", "The answer is 7", 7, {})

        await asyncio.gather(*(asyncio.create_task(one()) for _ in range(3)))
        await anyio.to_thread.run_sync(lambda: score_response("integer", "The answer is 7", 7, {}))

    with scoring_once():
        asyncio.run(run())
        score_response("integer", "The answer is 7", 7, {})
    assert calls[("integer", "The answer is 7", "{}")] == 1
    asyncio.run(run())  # outside a run nothing is shared
    assert calls[("integer", "The answer is 7", "{}")] == 5
