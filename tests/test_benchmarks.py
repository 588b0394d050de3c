"""Real-benchmark tasks: items load from the shared data (upstream layouts) and from tiny
upstream-format fixtures, targets are right, GPQA shuffling is fixed, offline errors are clear."""

from __future__ import annotations

import base64
import json
import pickle
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from cotbench.errors import DataError
from cotbench.paths import tasks_dir
from cotbench.scoring.choice import LETTERS
from cotbench.tasks.benchmarks.code import decode_private_tests
from cotbench.tasks.catalog import all_suites, all_tasks, get_task
from cotbench.tasks.data import using_data_dir
from cotbench.tasks.items import build_items

BBH_COUNTS = {"causal_judgement": 187, "penguins_in_a_table": 146, "snarks": 178}
# The bundled capability benchmarks (not the probes, the safety sets or the BBH subtasks), from the
# catalog: a new benchmark YAML is tested without editing this file.
BENCHMARKS = sorted(n for n, t in all_tasks().items()
                    if t.source.kind == "benchmark" and t.path is not None and t.path.parent == tasks_dir()
                    and not t.domain.startswith("safety_") and "cotbench_bbh" not in t.tags)
# Sample counts of the benchmarks the paper's protocol fixes.
REASONING_K = {"math500": 3, "aime2024": 10, "aime2025": 10, "gpqa_diamond": 3, "livecodebench": 3, "gsm8k": 1,
               "mmlu_pro": 1, "arc_challenge": 1, "humaneval": 1, "mbpp": 1, "ifeval": 1}


# --- tiny fixtures in the upstream formats (invented rows, never real benchmark data) -------------

def write_fixtures(root: Path) -> Path:
    """GPQA, MMLU-Pro and LiveCodeBench files laid out as their upstreams publish them."""
    import csv

    import pyarrow as pa
    import pyarrow.parquet as pq

    (root / "gpqa").mkdir(parents=True)
    cols = ["Record ID", "Question", "Correct Answer", "Incorrect Answer 1", "Incorrect Answer 2",
            "Incorrect Answer 3", "High-level domain", "Subdomain"]
    with (root / "gpqa" / "gpqa_diamond.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        for i in range(6):
            w.writerow({"Record ID": f"rec{i}", "Question": f"What is {i} + {i}? ", "Correct Answer": f" {2 * i}",
                        "Incorrect Answer 1": f"{2 * i + 1}", "Incorrect Answer 2": f"{2 * i + 2}",
                        "Incorrect Answer 3": f"{2 * i + 3}", "High-level domain": "Physics", "Subdomain": "toy"})
    (root / "mmlu_pro" / "data").mkdir(parents=True)
    rows = [{"question_id": 70 + i, "question": f"Pick option number {i}.", "options": [f"opt{j}" for j in range(10)],
             "answer": LETTERS[i], "answer_index": i, "cot_content": "", "category": "math" if i % 2 else "law",
             "src": "toy"} for i in range(10)]
    pq.write_table(pa.Table.from_pylist(rows), root / "mmlu_pro" / "data" / "test-00000-of-00001.parquet")
    lcb = root / "livecodebench"
    lcb.mkdir()
    stdin_private = base64.b64encode(zlib.compress(pickle.dumps(json.dumps(
        [{"input": "10 20\n", "output": "30\n", "testtype": "stdin"}])))).decode()
    stdin = {
        "question_title": "Sum",
        "question_content": "Read two integers and print their sum.",
        "platform": "atcoder",
        "question_id": "abc000_a",
        "contest_id": "abc000",
        "contest_date": "2023-05-06T00:00:00",
        "starter_code": "",
        "difficulty": "easy",
        "public_test_cases": json.dumps([{"input": "1 2\n", "output": "3\n", "testtype": "stdin"}]),
        "private_test_cases": stdin_private,
        "metadata": "{}",
    }
    func = {"question_title": "Add", "question_content": "Return a + b.", "platform": "leetcode",
            "question_id": "9001", "contest_id": "weekly-0", "contest_date": "2023-06-01T00:00:00",
            "starter_code": "class Solution:\n    def add(self, a: int, b: int) -> int:\n        ",
            "difficulty": "medium",
            "public_test_cases": json.dumps([{"input": "1\n2", "output": "3", "testtype": "functional"}]),
            "private_test_cases": json.dumps([{"input": "-5\n5", "output": "0", "testtype": "functional"}]),
            "metadata": json.dumps({"func_name": "add"})}
    (lcb / "test.jsonl").write_text(json.dumps(stdin) + "\n")
    (lcb / "test2.jsonl").write_text(json.dumps(func) + "\n")
    return root


@pytest.fixture
def fixture_dir(tmp_path: Path) -> Iterator[Path]:
    root = write_fixtures(tmp_path / "data")
    with using_data_dir(root):
        yield root


@pytest.fixture
def shared(shared_data: Path) -> Iterator[Path]:
    with using_data_dir(shared_data):
        yield shared_data


# --- definitions -----------------------------------------------------------------------------------

def test_every_benchmark_and_27_bbh_subtasks_are_defined() -> None:
    tasks = all_tasks()
    bbh = [n for n in tasks if n.startswith("bbh_")]
    assert len(bbh) == 27 and all(n in tasks for n in BENCHMARKS)
    for name in [*BENCHMARKS, *bbh]:
        t = tasks[name]
        assert t.lm_eval_task == f"cotbench_{name}"
        assert set(t.presets) == {"greedy", "reasoning"} and t.source.hub_revision
        r, g = t.presets["reasoning"], t.presets["greedy"]
        assert (r.temperature, r.top_p, r.max_tokens, g.temperature) == (0.6, 0.95, 32768, 0.0)
    assert set(REASONING_K) <= set(BENCHMARKS)
    assert {n: tasks[n].presets["reasoning"].k for n in REASONING_K} == REASONING_K
    assert tasks["mmlu_pro"].default_preset == "greedy"
    assert {tasks[n].default_preset for n in BENCHMARKS if n != "mmlu_pro"} == {"reasoning"}


def test_suites() -> None:
    suites = all_suites()
    paper = suites["paper"]
    assert paper.tasks == ["math500", "aime2024", "livecodebench", "gpqa_diamond", "mmlu_pro", "ifeval"]
    assert paper.preset is None and paper.subset == {"mmlu_pro": 1000}
    assert [get_task(t).settings(paper.preset).k for t in paper.tasks] == [3, 10, 3, 3, 1, 1]
    assert get_task("mmlu_pro").settings(paper.preset).temperature == 0.0
    quick = suites["quick"]
    assert quick.preset == "greedy" and all(
        quick.subset[t] == (10 if t.startswith("bbh_") else 50) for t in quick.tasks
    )
    standard = suites["standard"]
    assert set(standard.tasks) == {n for n in all_tasks() if n in BENCHMARKS or n.startswith("bbh_")}
    assert standard.subset == {"mmlu_pro": 1000}


# --- shared data -----------------------------------------------------------------------------------

@pytest.mark.usefixtures("shared")
@pytest.mark.parametrize("name, count", [("math500", 500), ("gsm8k", 1319), ("aime2024", 30), ("aime2025", 30),
                                         ("arc_challenge", 1172), ("humaneval", 164), ("mbpp", 257), ("ifeval", 541)])
def test_counts_from_shared_data(name: str, count: int) -> None:
    items = build_items(get_task(name))
    assert len(items) == count


@pytest.mark.usefixtures("shared")
def test_bbh_counts_and_prompts() -> None:
    total = 0
    for name in (n for n in all_tasks() if n.startswith("bbh_")):
        items = build_items(get_task(name))
        assert len(items) == BBH_COUNTS.get(name.removeprefix("bbh_"), 250), name
        total += len(items)
        # 3-shot CoT from the upstream prompt file: exemplars end with the answer sentence.
        p = items[0].prompt
        assert (
            p.count("Let's think step by step.") == 4 and "canary" not in p and p.endswith("Let's think step by step.")
        )
    assert total == 6511


@pytest.mark.usefixtures("shared")
def test_targets_spot_checked_by_hand() -> None:
    gsm = {i.id: i for i in build_items(get_task("gsm8k"))}
    assert gsm["0000"].target == "18"  # Janet's ducks
    assert gsm["0000"].prompt.startswith("Janet") and "\\boxed{}" in gsm["0000"].prompt
    math = {i.id: i for i in build_items(get_task("math500"))}
    first = math["test/precalculus/807.json"]
    assert first.target == "\\left( 3, \\frac{\\pi}{2} \\right)" and first.category == "Precalculus"
    aime25 = [i.target for i in build_items(get_task("aime2025"))]
    assert aime25[:3] == ["70", "588", "16"] and aime25[15:17] == ["468", "49"]
    assert build_items(get_task("aime2024"))[0].target == "204"
    arc = build_items(get_task("arc_challenge"))
    assert arc[0].target == "C" and "(C) Planetary days will become shorter." in arc[0].prompt
    assert {i.target for i in arc} == set("ABCDE") - {"E"} | ({"E"} & {i.target for i in arc})
    mbpp = build_items(get_task("mbpp"))
    assert {int(i.id) for i in mbpp} <= set(range(11, 511)) and mbpp[0].fields["test_list"]
    he = build_items(get_task("humaneval"))
    assert he[0].id == "HumanEval/0" and he[0].fields["entry_point"] == "has_close_elements"
    nav = build_items(get_task("bbh_navigate"))
    assert {i.target for i in nav} == {"Yes", "No"}


def test_arc_numeric_labels_become_letters(shared: Path) -> None:
    raw = [json.loads(line) for line in (shared / "arc_challenge" / "ARC-Challenge-Test.jsonl").open()]
    numeric = {r["id"]: r for r in raw if r["answerKey"].isdigit()}
    assert len(numeric) == 22
    items = {i.id: i for i in build_items(get_task("arc_challenge")) if i.id in numeric}
    for rid, item in items.items():
        labels = [c["label"] for c in numeric[rid]["question"]["choices"]]
        assert item.target == LETTERS[labels.index(numeric[rid]["answerKey"])]
        assert f"({item.target}) " in item.prompt and "(1) " not in item.prompt


# --- fixtures for the benchmarks not in the shared data ----------------------------------------------

@pytest.mark.usefixtures("fixture_dir")
def test_gpqa_shuffle_is_deterministic_and_keeps_the_answer() -> None:
    task = get_task("gpqa_diamond")
    a, b = build_items(task), build_items(task)
    assert [(i.prompt, i.target) for i in a] == [(i.prompt, i.target) for i in b]
    for item in a:
        i = int(item.id.removeprefix("rec"))
        assert item.fields["choices"][LETTERS.index(item.target)] == str(2 * i)  # stripped text
        assert item.category == "Physics"
    # The correct answer does not stay in first place (upstream order), and another seed reorders.
    assert len({i.target for i in a}) > 1
    other = task.model_copy(update={"source": task.source.model_copy(update={"options": {"shuffle_seed": 1}})})
    assert [i.fields["choices"] for i in build_items(other)] != [i.fields["choices"] for i in a]


@pytest.mark.usefixtures("fixture_dir")
def test_mmlu_pro_ten_options_and_fixed_subset() -> None:
    task = get_task("mmlu_pro")
    items = build_items(task)
    assert [i.target for i in items] == list(LETTERS) and "(J) opt9" in items[0].prompt
    assert items[1].category == "math"
    sub = build_items(task, subset=4)
    assert len(sub) == 4 and [i.id for i in sub] == [i.id for i in build_items(task, subset=4)]


@pytest.mark.usefixtures("fixture_dir")
def test_livecodebench_both_test_kinds() -> None:
    items = {i.id: i for i in build_items(get_task("livecodebench"))}
    stdin, func = items["abc000_a"], items["9001"]
    assert stdin.fields["private_test_cases"] == [{"input": "10 20\n", "output": "30\n", "testtype": "stdin"}]
    assert "standard input" in stdin.prompt and stdin.category == "easy"
    assert "class Solution" in func.prompt and func.fields["metadata"] == {"func_name": "add"}


def test_private_tests_refuse_pickled_objects() -> None:
    import collections

    # Any global (a class, a callable) must be refused: unpickling one can run code.
    evil = base64.b64encode(zlib.compress(pickle.dumps(collections.OrderedDict(a=1)))).decode()
    with pytest.raises(DataError, match="only a string"):
        decode_private_tests(evil)


def test_missing_local_file_is_a_data_error(tmp_path: Path) -> None:
    (tmp_path / "gsm8k").mkdir()
    with using_data_dir(tmp_path), pytest.raises(DataError, match="upstream layout"):
        build_items(get_task("gsm8k"))


def test_data_dir_without_the_task_folder_names_it_and_never_reaches_for_the_hub(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets

    def no_hub(*args: object, **kwargs: object) -> None:
        raise AssertionError("the Hub was contacted although --data-dir was given")

    monkeypatch.setattr(datasets, "load_dataset", no_hub)
    with using_data_dir(tmp_path), pytest.raises(DataError) as exc:
        build_items(get_task("mmlu_pro"))
    msg = str(exc.value)
    assert "\n" not in msg and str(tmp_path) in msg and "mmlu_pro/" in msg and "--data-dir" in msg


# --- the Hub, offline --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["gsm8k", "bbh_navigate", "livecodebench"])
def test_offline_without_data_dir_is_one_clear_line(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.delenv("COTBENCH_DATA_DIR", raising=False)
    with using_data_dir(None), pytest.raises(DataError) as exc:
        build_items(get_task(name))
    msg = str(exc.value)
    assert "\n" not in msg and "--data-dir" in msg and "COTBENCH_DATA_DIR" in msg


def test_gated_gpqa_says_how_to_get_access(monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets
    import httpx
    from huggingface_hub.errors import GatedRepoError

    def gated(*_a: object, **_k: object) -> None:
        url = "https://huggingface.co/datasets/Idavidrein/gpqa/resolve/main/README.md"
        response = httpx.Response(401, request=httpx.Request("GET", url))
        raise GatedRepoError("Cannot access gated repo for url " + url, response=response)

    monkeypatch.setattr(datasets, "load_dataset", gated)
    monkeypatch.delenv("COTBENCH_DATA_DIR", raising=False)
    with using_data_dir(None), pytest.raises(DataError) as exc:
        build_items(get_task("gpqa_diamond"))
    assert "https://huggingface.co/datasets/Idavidrein/gpqa" in str(exc.value)
    assert "huggingface-cli login" in str(exc.value)


def test_hub_rows_are_read_with_the_pinned_revision(monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets

    seen: dict[str, object] = {}

    def fake(path: str, name: str | None = None, split: str | None = None, revision: str | None = None) -> list:
        seen.update(path=path, name=name, split=split, revision=revision)
        return [{"input": "1 + 1 =", "target": "2"}]

    monkeypatch.setattr(datasets, "load_dataset", fake)
    monkeypatch.delenv("COTBENCH_DATA_DIR", raising=False)
    task = get_task("bbh_multistep_arithmetic_two")
    with using_data_dir(None):
        items = build_items(task)
    assert seen == {"path": "lukaemon/bbh", "name": "multistep_arithmetic_two", "split": "test",
                    "revision": task.source.hub_revision}
    # No CoT prompts on the Hub: zero-shot CoT with the answer-format instruction.
    assert items[0].prompt.startswith("Answer the question below.") and items[0].target == "2"
