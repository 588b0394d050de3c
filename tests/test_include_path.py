"""Tasks from outside the package: ``--include-path`` / ``COTBENCH_TASKS_PATH``, and the worked
example of CONTRIBUTING.md (CommonsenseQA as exactly one YAML, read from a local JSONL in its
upstream layout) through both harnesses, native lm-eval, and the profile."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cotbench.engines.base import ModelHandle
from cotbench.models.cache import CachedGenerator, GenerationCache
from cotbench.models.generator import Completion, Generator, GenRequest
from cotbench.paths import tasks_dir
from cotbench.runner import RunOptions, plan_tasks
from cotbench.tasks.catalog import ENV_VAR, all_tasks, using_include_paths
from cotbench.tasks.data import using_data_dir
from tests.e2e import cli, run_dir
from tests.fake_server import FakeServer
from tests.test_cli_errors import error_line, invoke

CONTRIBUTING = Path(__file__).resolve().parents[1] / "CONTRIBUTING.md"

# Invented questions in CommonsenseQA's upstream JSONL layout (never real benchmark data).
QUESTIONS = [
    ("cq-01", "kettle", "Where is a kettle usually kept?", ["garage", "ocean", "kitchen", "attic", "car"], "C"),
    ("cq-02", "umbrella", "What do you open when it starts to rain?", ["umbrella", "oven", "book", "door", "map"], "A"),
    ("cq-03", "library", "Where would you borrow a novel?", ["bakery", "library", "stadium", "farm", "harbor"], "B"),
    ("cq-04", "thirst", "What does a thirsty person want?", ["sleep", "music", "shade", "water", "paint"], "D"),
    ("cq-05", "winter", "When does snow usually fall?", ["noon", "summer", "spring", "autumn", "winter"], "E"),
    ("cq-06", "key", "What opens a locked door?", ["spoon", "feather", "key", "cloud", "song"], "C"),
]


def example_yaml() -> str:
    """The CommonsenseQA task YAML exactly as CONTRIBUTING.md's "Add a benchmark" shows it."""
    section = CONTRIBUTING.read_text(encoding="utf-8").split("## Add a benchmark", 1)[1].split("\n## ", 1)[0]
    (block,) = [b for b in re.findall(r"```yaml\n(.*?)```", section, re.DOTALL) if "commonsense_qa" in b]
    return block


def write_csqa(data: Path) -> None:
    folder = data / "commonsense_qa"
    folder.mkdir(parents=True)
    lines = [json.dumps({"answerKey": key, "id": qid, "question": {
        "question_concept": concept, "choices": [{"label": "ABCDE"[i], "text": t} for i, t in enumerate(choices)],
        "stem": stem}}) for qid, concept, stem, choices, key in QUESTIONS]
    (folder / "dev_rand_split.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def example(tmp_path: Path) -> tuple[Path, Path]:
    """(a task folder holding only the docs' YAML, a data dir holding the fixture)."""
    folder = tmp_path / "my_tasks"
    folder.mkdir()
    (folder / "commonsense_qa.yaml").write_text(example_yaml(), encoding="utf-8")
    write_csqa(tmp_path / "data")
    return folder, tmp_path / "data"


@pytest.fixture
def included(example: tuple[Path, Path]) -> Iterator[tuple[Path, Path]]:
    folder, data = example
    with using_include_paths([folder]), using_data_dir(data):
        yield folder, data


# --- the example, in this process ------------------------------------------------------------------

@pytest.mark.usefixtures("included")
def test_the_example_is_one_yaml_and_reads_the_upstream_layout() -> None:
    task = all_tasks()["commonsense_qa"]
    assert task.lm_eval_task == "cotbench_commonsense_qa" and task.source.loader == "fields"
    (plan,) = plan_tasks(RunOptions(tasks=["commonsense_qa"]))
    assert [i.id for i in plan.items] == [q[0] for q in QUESTIONS]
    assert [i.target for i in plan.items] == [q[4] for q in QUESTIONS]
    first = plan.items[0]
    assert first.prompt.startswith("Where is a kettle usually kept?\n\n(A) garage\n(B) ocean\n(C) kitchen\n")
    assert first.prompt.endswith("give the letter of the correct option in \\boxed{}.")
    assert first.fields["choices"] == QUESTIONS[0][3] and first.fields["concept"] == "kettle"
    assert plan.settings.temperature == 0.0 and plan.settings.k == 1  # its default preset


class HalfRight(Generator):
    """Boxes the right letter for the first, third and fifth question, a wrong one otherwise."""

    name = "half-right"

    def generate(self, requests: list[GenRequest]) -> list[Completion]:
        out = []
        for r in requests:
            prompt = r.messages[-1][1]
            n, q = next((n, q) for n, q in enumerate(QUESTIONS) if prompt.startswith(q[2]))
            letter = q[4] if n % 2 == 0 else ("A" if q[4] != "A" else "B")
            text = f"<think>Think about {q[1]}.</think>The answer is \\boxed{{{letter}}}."
            out.append(Completion(text=text, finish_reason="stop", output_tokens=12, latency_s=0.001))
        return out


def _handle(cache: Path) -> ModelHandle:
    gen = CachedGenerator("half-right", GenerationCache(cache), HalfRight, batch_size=4)
    return ModelHandle(gen, lambda t: len(t.split()), None, "half-right")


@pytest.mark.usefixtures("included")
def test_both_harnesses_score_the_example_alike(tmp_path: Path) -> None:
    from cotbench.engines.inspect.engine import InspectEngine
    from cotbench.engines.lm_eval.engine import LmEvalEngine

    plans = plan_tasks(RunOptions(tasks=["commonsense_qa"]))
    handle = _handle(tmp_path / "c.sqlite")
    lm = LmEvalEngine().run(plans, handle, "run", lambda t, n: None)["commonsense_qa"]
    ins = InspectEngine(log_dir=tmp_path / "logs").run(plans, handle, "run", lambda t, n: None)["commonsense_qa"]
    keys = ("sample_id", "repeat", "prompt", "output", "extracted", "score")
    a = [[getattr(r, k) for k in keys] for r in sorted(lm.records, key=lambda r: r.sample_id)]
    b = [[getattr(r, k) for k in keys] for r in sorted(ins.records, key=lambda r: r.sample_id)]
    assert a == b and [r[-1] for r in a] == [1.0, 0.0, 1.0, 0.0, 1.0, 0.0]
    assert lm.harness_metrics["score"] == pytest.approx(0.5)


def test_native_lm_eval_runs_the_example_from_its_folder(example: tuple[Path, Path],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    from tests.test_task_yaml import RecordingLM

    folder, data = example
    monkeypatch.setenv("COTBENCH_DATA_DIR", str(data))
    lm = RecordingLM()
    results = simple_evaluate(model=lm, tasks=["cotbench_commonsense_qa"], bootstrap_iters=0,
                              task_manager=TaskManager(include_path=str(folder), include_defaults=False))
    assert results is not None
    assert sorted(doc for _, doc, _ in lm.seen) == [q[0] for q in QUESTIONS]
    assert {json.dumps(gk, sort_keys=True) for _, _, gk in lm.seen} == {json.dumps(
        {"until": [], "max_gen_toks": 2048, "do_sample": False, "temperature": 0.0, "top_p": 1.0}, sort_keys=True)}
    assert results["results"]["cotbench_commonsense_qa"]["score,all"] == 0.0  # RecordingLM boxes no letter


# --- the example, through the CLI --------------------------------------------------------------------

def test_cli_runs_the_example_through_both_harnesses_and_the_profile(example: tuple[Path, Path],
                                                                     tmp_path: Path) -> None:
    folder, data = example
    listed = cli("tasks", "--include-path", str(folder))
    assert listed.returncode == 0 and "commonsense_qa" in listed.stdout, listed.stderr
    with FakeServer() as server:
        model = f"openai:fake-model@{server.url}"
        common = ["--model", model, "--data-dir", str(data), "--tasks", "commonsense_qa", "--limit", "4"]
        lm = cli("run", *common, "--include-path", str(folder), "--output", str(tmp_path / "a"))
        assert lm.returncode == 0, lm.stderr[-2000:]
        # The environment variable does what the option does (here for the Inspect harness).
        ins = cli("run", *common, "--engine", "inspect", "--output", str(tmp_path / "b"), env={ENV_VAR: str(folder)})
        assert ins.returncode == 0, ins.stderr[-2000:]
    for out, engine in (("a", "lm_eval"), ("b", "inspect")):
        d = run_dir(tmp_path / out)
        manifest = json.loads((d / "manifest.json").read_text())
        assert manifest["engine"] == engine and [t["name"] for t in manifest["tasks"]] == ["commonsense_qa"]
        metrics = json.loads((d / "tasks" / "commonsense_qa" / "metrics.json").read_text())
        assert metrics["n_items"] == 4 and metrics["task"]["domain"] == "transfer"
    prof = cli("profile", str(run_dir(tmp_path / "a")), "--reference", str(run_dir(tmp_path / "b")), "--json")
    assert prof.returncode == 0, prof.stderr[-2000:]
    assert "commonsense_qa" in json.dumps(json.loads(prof.stdout))


def test_inspect_registry_reads_the_tasks_path(example: tuple[Path, Path]) -> None:
    folder, data = example
    code = ("import cotbench.engines.inspect.registry as r; t = r.commonsense_qa(limit=3); "
            "print(len(t.dataset), t.dataset[0].id)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, ENV_VAR: str(folder), "COTBENCH_DATA_DIR": str(data)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["3", "cq-01"]


# --- errors: one line, naming the option or both files ---------------------------------------------------

@pytest.mark.parametrize("command", [["tasks"], ["run", "--tasks", "arithmetic"]])
def test_an_unknown_folder_names_the_option(command: list[str], tmp_path: Path) -> None:
    error_line(invoke(*command, "--include-path", str(tmp_path / "nope")), "--include-path", "does not exist")
    (tmp_path / "file.yaml").write_text("task: x\n")
    error_line(invoke(*command, "--include-path", str(tmp_path / "file.yaml")), "--include-path", "is a file")


def test_an_unknown_folder_in_the_environment_names_the_variable(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, os.pathsep.join([str(tmp_path), str(tmp_path / "gone")]))
    error_line(invoke("tasks"), ENV_VAR, str(tmp_path / "gone"), "does not exist")


def test_a_task_named_like_a_bundled_one_names_both_files(tmp_path: Path) -> None:
    clash = (tasks_dir() / "arithmetic.yaml").read_text().replace(
        "include: _cotbench_task_yaml", f"include: {tasks_dir() / '_cotbench_task_yaml'}")
    (tmp_path / "my_arithmetic.yaml").write_text(clash)
    line = error_line(invoke("tasks", "--include-path", str(tmp_path)), "task 'arithmetic' is defined twice")
    assert str(tasks_dir() / "arithmetic.yaml") in line and str(tmp_path / "my_arithmetic.yaml") in line
    renamed = clash.replace("name: arithmetic", "name: my_arithmetic")  # the lm-eval name still clashes
    (tmp_path / "my_arithmetic.yaml").write_text(renamed)
    error_line(invoke("run", "--tasks", "my_arithmetic", "--include-path", str(tmp_path)),
               "task 'cotbench_arithmetic' is defined twice", str(tmp_path / "my_arithmetic.yaml"))


def test_include_paths_last_only_for_their_command(example: tuple[Path, Path]) -> None:
    folder, _ = example
    res = invoke("tasks", "--include-path", str(folder), "--include-path", str(folder))
    assert res.rc == 0 and not res.err  # a folder given twice is read once, not a clash with itself
    assert "commonsense_qa" not in all_tasks()
    error_line(invoke("run", "--tasks", "commonsense_qa"), "unknown task 'commonsense_qa'")
