"""Real-benchmark tasks through both harnesses, the reference solutions as model outputs, and
the tasks as plain lm-eval / Inspect tasks (no cotbench CLI)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cotbench.engines.base import ModelHandle, TaskPlan, make_record
from cotbench.models.cache import CachedGenerator, GenerationCache
from cotbench.models.generator import Completion, Generator, GenRequest
from cotbench.paths import tasks_dir
from cotbench.tasks.catalog import all_tasks, get_task
from cotbench.tasks.data import using_data_dir
from cotbench.tasks.items import Item, build_items
from cotbench.tasks.taskdef import TaskDef
from tests.test_benchmarks import BENCHMARKS, write_fixtures

LCB_SOLUTIONS = {
    "abc000_a": "a, b = map(int, input().split())\nprint(a + b)\n",
    "9001": "class Solution:\n    def add(self, a: int, b: int) -> int:\n        return a + b\n",
}


def reference(task: TaskDef, item: Item) -> str:
    """The benchmark's own reference answer, written as a model would answer."""
    f = item.fields
    if task.scorer == "math":
        return f"<think>Let me work it out.</think>So the final answer is $\\boxed{{{item.target}}}$."
    if task.scorer == "choice":
        return f"<think>Compare the options.</think>The answer is \\boxed{{{item.target}}}."
    if task.scorer == "bbh":
        return f"<think>Step by step.</think>So the answer is {item.target}."
    if task.name == "humaneval":
        return f"Here it is:\n```python\n{f['prompt']}{f['canonical_solution']}```"
    if task.name == "mbpp":
        return f"```python\n{f['code']}\n```"
    if task.name == "livecodebench":
        return f"```python\n{LCB_SOLUTIONS[item.id]}```"
    return "Hello. This answer follows no instruction in particular."


class ReferenceModel(Generator):
    """Answers with the reference for about half the prompts (by hash) and wrongly otherwise, so
    parity is checked on both right and wrong answers."""

    name = "reference"

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers

    def generate(self, requests: list[GenRequest]) -> list[Completion]:
        out = []
        for r in requests:
            prompt = r.messages[-1][1]
            right = int(hashlib.sha256(f"{prompt}|{r.seed}".encode()).hexdigest(), 16) % 2 == 0
            text = self.answers[prompt] if right else "<think>Hmm.</think>The answer is \\boxed{Z}. So the answer is Z."
            out.append(Completion(text=text, finish_reason="stop", output_tokens=len(text.split()), latency_s=0.001))
        return out


@pytest.fixture
def data_dir(shared_data: Path, tmp_path: Path) -> Iterator[Path]:
    """The shared data plus invented upstream-format files for GPQA, MMLU-Pro and LiveCodeBench."""
    root = tmp_path / "data"
    root.mkdir()
    for sub in shared_data.iterdir():
        (root / sub.name).symlink_to(sub)
    write_fixtures(root)
    with using_data_dir(root):
        yield root


@pytest.fixture
def punkt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """IFEval's checkers need NLTK punkt_tab; without it, an untrained stand-in (no download)."""
    nltk = pytest.importorskip("nltk")
    try:
        nltk.data.find("tokenizers/punkt_tab")
        return
    except LookupError:
        pass
    model = tmp_path / "nltk" / "tokenizers" / "punkt_tab" / "english"
    model.mkdir(parents=True)
    for name in ("collocations.tab", "sent_starters.txt", "abbrev_types.txt", "ortho_context.tab"):
        (model / name).write_text("")
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path / "nltk"), *nltk.data.path])


def _plan(name: str, n: int, k: int = 1) -> TaskPlan:
    task = get_task(name)
    settings = task.settings("greedy").model_copy(update={"k": k, "temperature": 0.6 if k > 1 else 0.0})
    return TaskPlan(task, task.content_hash(), settings, build_items(task, limit=n), limit=n)


@pytest.mark.usefixtures("data_dir", "punkt")
def test_parity_on_every_benchmark_task(tmp_path: Path) -> None:
    from cotbench.engines.inspect.engine import InspectEngine
    from cotbench.engines.lm_eval.engine import LmEvalEngine

    names = [*BENCHMARKS, *sorted(n for n in all_tasks() if n.startswith("bbh_"))]
    plans = [_plan(n, 2, k=2 if n == "math500" else 1) for n in names]
    answers = {i.prompt: reference(p.task, i) for p in plans for i in p.items}
    gen = CachedGenerator("reference-model", GenerationCache(tmp_path / "c.sqlite"),
                          lambda: ReferenceModel(answers), batch_size=8)
    handle = ModelHandle(gen, lambda t: len(t.split()), None, "reference")
    lm = LmEvalEngine().run(plans, handle, "run", lambda t, n: None)
    ins = InspectEngine(log_dir=tmp_path / "logs").run(plans, handle, "run", lambda t, n: None)
    keys = ("sample_id", "repeat", "output", "answer", "extracted", "score", "truncated")
    scores: list[float | None] = []
    for p in plans:
        a = sorted(lm[p.task.name].records, key=lambda r: (r.sample_id, r.repeat))
        b = sorted(ins[p.task.name].records, key=lambda r: (r.sample_id, r.repeat))
        assert len(a) == len(b) == p.n_requests, p.task.name
        assert [[getattr(r, f) for f in keys] for r in a] == [[getattr(r, f) for f in keys] for r in b], p.task.name
        for r in a:
            right = r.output == answers[r.prompt]
            if p.task.scorer != "ifeval":  # the stand-in answer follows no instruction
                assert r.score == (1.0 if right else 0.0), (p.task.name, r.sample_id, r.output[:200], r.details)
            scores.append(r.score)
    assert 0.0 in scores and 1.0 in scores


def _every(task: TaskDef, n: int | None = None) -> list[Item]:
    items = build_items(task)
    return items if n is None else items[:: max(1, len(items) // n)][:n]


@pytest.mark.usefixtures("data_dir")
@pytest.mark.parametrize("name, n", [("math500", 40), ("gsm8k", 40), ("humaneval", 12), ("mbpp", 12),
                                     ("bbh_dyck_languages", 10), ("bbh_word_sorting", 10), ("bbh_navigate", 5),
                                     ("arc_challenge", 20), ("aime2025", 30), ("livecodebench", None)])
def test_reference_solutions_score_one(name: str, n: int | None) -> None:
    task = get_task(name)
    plan = TaskPlan(task, task.content_hash(), task.settings(), [])
    for item in _every(task, n):
        text = reference(task, item)
        if name == "math500":
            # MATH's worked solution, which boxes its answer, is itself a model-like output.
            text = item.fields["solution"]
        if name == "gsm8k":
            text = item.fields["solution"]  # ends in '#### <number>'
        rec = make_record("run", plan, item, 0, Completion(text, "stop", 10, 0.0), "lm_eval", len)
        assert rec.score == 1.0, (item.id, item.target, text[-300:], rec.details)


def test_lm_eval_cli_runs_a_task_standalone(shared_data: Path, tmp_path: Path) -> None:
    env = {**os.environ, "COTBENCH_DATA_DIR": str(shared_data), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "lm_eval", "--include_path", str(tasks_dir()), "--tasks", "cotbench_gsm8k",
         "--model", "dummy", "--limit", "2"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "cotbench_gsm8k" in proc.stdout


@pytest.mark.usefixtures("data_dir")
def test_inspect_registry_builds_benchmark_tasks() -> None:
    import cotbench.engines.inspect.registry as registry

    for name, preset, k in (("gsm8k", None, 1), ("math500", "reasoning", 3), ("mmlu_pro", None, 1),
                            ("bbh_snarks", "greedy", 1), ("livecodebench", None, 3)):
        task = getattr(registry, name)(preset=preset, limit=2)
        assert len(task.dataset) == 2
        assert task.epochs == k  # avg@k: Inspect epochs, one per sample
