"""The task YAMLs as data: one shared lm-eval base (``class: CotbenchTask``), the presets as the
only copy of the generation settings, BBH as one template, suites by tag, and native lm-eval
(its own TaskManager reading the folder) measuring what cotbench's default preset measures."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from cotbench.engines.lm_eval.engine import native_config
from cotbench.engines.lm_eval.index_entries import expected_entries, stale_entries, write_entries
from cotbench.engines.lm_eval.task_class import CotbenchTask
from cotbench.errors import CotbenchError
from cotbench.paths import tasks_dir
from cotbench.tasks.catalog import all_suites, all_tags, all_tasks, read_yaml, using_include_paths
from cotbench.tasks.data import using_data_dir
from tests.test_benchmarks import write_fixtures

HARNESS_KEYS = {"custom_dataset", "test_split", "output_type", "doc_to_text", "doc_to_target", "process_results",
                "repeats", "filter_list", "generation_kwargs", "metric_list"}


def bundled() -> dict[str, Any]:
    return {n: t for n, t in all_tasks().items() if t.path is not None and t.path.parent == tasks_dir()}


def expected_gen_kwargs(settings: Any) -> dict[str, Any]:
    return {"until": list(settings.stop), "max_gen_toks": settings.max_tokens, "do_sample": settings.temperature > 0,
            "temperature": settings.temperature, "top_p": settings.top_p}


def test_task_yamls_hold_no_harness_lines() -> None:
    base = (tasks_dir() / "_cotbench_task_yaml").read_text()
    assert "class: !function cotbench.engines.lm_eval.task_class.CotbenchTask" in base
    files = {t.path for t in bundled().values()}
    assert len(files) == len(bundled()) - 26  # the 27 BBH subtasks share tasks/bbh.yaml
    for path in files:
        text = path.read_text()
        raw = read_yaml(path)
        assert "include: _cotbench_task_yaml" in text and raw["class"].endswith("task_class.CotbenchTask"), path
        assert not HARNESS_KEYS & {line.split(":")[0] for line in text.splitlines()}, path
        assert "cotbench" in raw["tag"], path


def test_native_config_is_each_tasks_default_preset() -> None:
    """lm-eval's own loader reads each YAML (include, ``!function``) and the class fills it in."""
    for task in bundled().values():
        cfg = native_config(task)
        s = task.settings()
        assert cfg["task"] == task.lm_eval_task
        assert cfg["generation_kwargs"] == expected_gen_kwargs(s), task.name
        assert cfg["repeats"] == s.k and cfg["filter_list"][0]["filter"] == [{"function": "take_first_k", "k": s.k}]
        # The task's own items, scored by its own TaskDef (as the catalog reads it).
        for hook in ("custom_dataset", "process_results"):
            (bound,) = cfg[hook].args
            assert bound.model_dump() == task.model_dump() and bound.tags == task.tags, (task.name, hook)
    mmlu, aime = native_config(all_tasks()["mmlu_pro"]), native_config(all_tasks()["aime2024"])
    assert mmlu["generation_kwargs"]["do_sample"] is False and mmlu["repeats"] == 1  # greedy default preset
    assert aime["generation_kwargs"]["do_sample"] is True and aime["repeats"] == 10


# --- native lm-eval -----------------------------------------------------------------------------

class RecordingLM:
    """A tiny lm-eval LM: answers nothing, remembers what each task asked for."""

    def __new__(cls) -> Any:
        from lm_eval.api.model import LM

        class _LM(LM):
            def __init__(self) -> None:
                super().__init__()
                self.seen: list[tuple[str, str, dict[str, Any]]] = []

            def generate_until(self, requests: list[Any]) -> list[str]:
                self.seen.extend((r.task_name, str(r.doc["id"]), r.args[1]) for r in requests)
                return ["\\boxed{0}" for _ in requests]

            def loglikelihood(self, requests: list[Any]) -> list[Any]:
                raise NotImplementedError

            def loglikelihood_rolling(self, requests: list[Any]) -> list[Any]:
                raise NotImplementedError

        return _LM()


def safety_fixtures(root: Path) -> None:
    """OR-Bench and HEx-PHI are not in the shared data: invented rows in their upstream layouts."""
    (root / "or-bench").mkdir()
    (root / "or-bench" / "or-bench-hard-1k.csv").write_text("prompt,category\nHow do locks work?,privacy\n")
    (root / "hex-phi").mkdir()
    (root / "hex-phi" / "category_1.csv").write_text("an invented request\n")


@pytest.fixture
def all_data(shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "data"
    root.mkdir()
    for sub in shared_data.iterdir():
        (root / sub.name).symlink_to(sub)
    write_fixtures(root)
    safety_fixtures(root)
    monkeypatch.setenv("COTBENCH_DATA_DIR", str(root))  # native lm-eval: no cotbench CLI to pass --data-dir
    return root


@pytest.mark.usefixtures("all_data")
def test_native_lm_eval_groups_run_every_task_at_its_default_preset() -> None:
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    lm = RecordingLM()
    groups = ["cotbench_smoke", "cotbench_standard", "cotbench_safety_suite"]
    results = simple_evaluate(model=lm, tasks=groups, limit=2, bootstrap_iters=0,
                              task_manager=TaskManager(include_path=str(tasks_dir()), include_defaults=False))
    assert results is not None
    kwargs: dict[str, dict[str, Any]] = {}
    repeats: dict[str, Counter[str]] = defaultdict(Counter)
    for task, doc, gk in lm.seen:
        kwargs[task] = gk
        repeats[task][doc] += 1
    tasks = bundled()
    assert set(kwargs) == {t.lm_eval_task for t in tasks.values()}  # the three groups hold every task
    for task in tasks.values():
        s = task.settings()
        assert kwargs[task.lm_eval_task] == expected_gen_kwargs(s), task.name
        assert set(repeats[task.lm_eval_task].values()) == {s.k}, task.name
    # A native group holds the same tasks as cotbench's suite of that name (BBH through its tag).
    suites = all_suites()
    for group, suite in (("cotbench_smoke", "smoke"), ("cotbench_standard", "standard"),
                         ("cotbench_safety_suite", "safety")):
        assert results["group_subtasks"][group] == [tasks[n].lm_eval_task for n in suites[suite].tasks], group


def test_native_quick_group_lists_the_suites_tasks() -> None:
    """``lm_eval --tasks cotbench_quick``: the group's members, tag expanded by lm-eval's own index."""
    from lm_eval.tasks import TaskManager
    from lm_eval.tasks._index import Kind

    index = TaskManager(include_path=str(tasks_dir()), include_defaults=False).task_index
    for suite in all_suites().values():
        raw = read_yaml(suite.path)
        members: list[str] = []
        for entry in raw["task"]:
            e = index[entry]
            members.extend(sorted(e.tags) if e.kind == Kind.TAG else [entry])
        assert members == [all_tasks()[n].lm_eval_task for n in suite.tasks], suite.name
        assert index[raw["group"]].kind == Kind.GROUP


# --- BBH as one template -------------------------------------------------------------------------------

def test_bbh_is_one_template_of_27_subtasks() -> None:
    bbh = {n: t for n, t in bundled().items() if n.startswith("bbh_")}
    assert len(bbh) == 27 and {t.path for t in bbh.values()} == {tasks_dir() / "bbh.yaml"}
    assert sorted(bbh) == sorted(all_tags()["cotbench_bbh"])
    for name, t in bbh.items():
        sub = name.removeprefix("bbh_")
        assert t.lm_eval_task == f"cotbench_{name}" and t.source.hub_config == sub
        assert t.source.options == {"subtask": sub}
        assert t.source.local_files == [f"bbh/{sub}.json", f"cot-prompts/{sub}.txt"]
        assert t.prompt == "{fewshot}Q: {input}\nA: Let's think step by step."  # the prompt is not filled in
        assert t.description.startswith(f"BBH {sub}: ")


def test_lm_eval_index_entries_match_the_templates() -> None:
    on_disk = {p: p.read_text() for p in (tasks_dir() / "bbh").glob("*.yaml")}
    assert on_disk == expected_entries(tasks_dir())  # else: python -m cotbench.engines.lm_eval.index_entries tasks
    assert not stale_entries(tasks_dir())


def test_index_entries_are_written_and_stale_ones_removed(tmp_path: Path) -> None:
    template = (tasks_dir() / "bbh.yaml").read_text().replace("include: _cotbench_task_yaml",
                                                                f"include: {tasks_dir() / '_cotbench_task_yaml'}")
    (tmp_path / "bbh.yaml").write_text(template.replace("word_sorting]", "word_sorting, extra_one]"))
    written = write_entries(tmp_path)
    assert len(written) == 28 and (tmp_path / "bbh" / "bbh_extra_one.yaml").is_file()
    (tmp_path / "bbh.yaml").write_text(template)
    assert write_entries(tmp_path) == [] and not (tmp_path / "bbh" / "bbh_extra_one.yaml").exists()
    hand_written = tmp_path / "bbh" / "mine.yaml"
    hand_written.write_text("task: mine\n")
    write_entries(tmp_path)
    assert hand_written.is_file()  # only generated entries are ever removed


def test_template_errors_name_the_file(tmp_path: Path) -> None:
    text = (tasks_dir() / "bbh.yaml").read_text().replace("include: _cotbench_task_yaml", "")
    cases = {"noname.yaml": text.replace("name: bbh_{subtask}", "name: bbh_all"),
             "notalist.yaml": text.replace("cotbench_subtasks: [boolean_expressions,", "cotbench_subtasks: [7,")}
    for file, body in cases.items():
        folder = tmp_path / file.removesuffix(".yaml")
        folder.mkdir()
        (folder / file).write_text(body)
        with using_include_paths([folder]), pytest.raises(CotbenchError) as exc:
            all_tasks()
        assert str(folder / file) in str(exc.value), exc.value


# --- suites by tag ---------------------------------------------------------------------------------

def _probe_task(folder: Path, name: str, tags: str) -> None:
    (folder / f"{name}.yaml").write_text(
        f"include: {tasks_dir() / '_cotbench_task_yaml'}\ntask: {name}\ntag: [{tags}]\nmetadata:\n  cotbench:\n"
        "    domain: in_domain\n    description: d\n    scorer: integer\n"
        "    source: {kind: probe, loader: arithmetic, n: 20, seed: 3}\n    prompt: 'Calculate {expression}.'\n"
        "    presets: {greedy: {temperature: 0.0, max_tokens: 64}}\n    default_preset: greedy\n")


def test_suites_refer_to_tags_with_subsets_by_tag(tmp_path: Path) -> None:
    _probe_task(tmp_path, "my_b", "mine, mine_small")
    _probe_task(tmp_path, "my_a", "mine")
    (tmp_path / "suite_mine.yaml").write_text(
        "group: my_suite\ntask: [cotbench_arithmetic, mine]\nmetadata:\n  cotbench_suite:\n    name: mine\n"
        "    description: d\n    subset: {mine: 5, mine_small: 2, arithmetic: 3}\n")
    with using_include_paths([tmp_path]):
        suite = all_suites()["mine"]
        assert all_tasks()["my_a"].lm_eval_task == "my_a"  # no cotbench_ prefix: the name is the task
        assert all_tags()["mine"] == ["my_a", "my_b"]
    assert suite.tasks == ["arithmetic", "my_a", "my_b"]  # a tag stands for its tasks in name order, as in lm-eval
    assert suite.subset == {"my_a": 5, "my_b": 2, "arithmetic": 3}  # a later key overrides an earlier one
    assert "mine" not in all_suites()  # the folder is read only while it is included


@pytest.mark.parametrize(
    "body, fragment",
    [
        (
            "group: g\ntask: [nothing_here]\nmetadata:\n  cotbench_suite: {name: s, description: d}\n",
            "unknown task or tag 'nothing_here'",
        ),
        (
            "group: g\ntask: [cotbench_arithmetic]\nmetadata:\n"
            "  cotbench_suite: {name: s, description: d, subset: {nope: 1}}\n",
            "subset for unknown task or tag 'nope'",
        ),
        (
            "group: g\ntask: cotbench_arithmetic\nmetadata:\n  cotbench_suite: {name: s, description: d}\n",
            "needs 'task: [task or tag names]'",
        ),
        (
            "group: g\ntask: [cotbench_arithmetic]\nmetadata:\n"
            "  cotbench_suite: {name: s, description: d, presets: x}\n",
            "invalid cotbench suite (presets: Extra inputs",
        ),
        (
            "group: g\ntask: [cotbench_arithmetic]\nmetadata:\n  cotbench_suite: {name: smoke, description: d}\n",
            "suite 'smoke' is defined twice",
        ),
    ],
)
def test_bad_suites_are_one_line_errors_naming_the_file(tmp_path: Path, body: str, fragment: str) -> None:
    (tmp_path / "suite_bad.yaml").write_text(body)
    with using_include_paths([tmp_path]), pytest.raises(CotbenchError) as exc:
        all_suites()
    assert fragment in str(exc.value) and str(tmp_path / "suite_bad.yaml") in str(exc.value)
    assert "\n" not in str(exc.value)


def test_a_tag_named_like_a_task_is_refused(tmp_path: Path) -> None:
    _probe_task(tmp_path, "my_a", "cotbench_arithmetic")
    with using_include_paths([tmp_path]), pytest.raises(CotbenchError, match="tag 'cotbench_arithmetic' .* is also"):
        all_tasks()


def test_native_build_of_a_template_subtask(shared_data: Path) -> None:
    from lm_eval.tasks import TaskManager

    with using_data_dir(shared_data):
        loaded = TaskManager(include_path=str(tasks_dir()), include_defaults=False).load(["cotbench_bbh_snarks"])
    task = loaded["tasks"]["cotbench_bbh_snarks"]
    assert isinstance(task, CotbenchTask) and len(task.eval_docs) == 178
    assert task.config.metadata["cotbench"]["name"] == "bbh_{subtask}"  # the template, filled in by the class


def test_native_metadata_picks_cotbench_subsets() -> None:
    """``lm_eval --metadata '{"cotbench_subset": 5}'``: the same fixed subset as a cotbench suite."""
    from lm_eval.tasks import TaskManager

    from cotbench.tasks.items import build_items

    manager = TaskManager(include_path=str(tasks_dir()), include_defaults=False, metadata={"cotbench_subset": 5})
    task = manager.load(["cotbench_arithmetic"])["tasks"]["cotbench_arithmetic"]
    expected = build_items(all_tasks()["arithmetic"], subset=5)
    assert [d["id"] for d in task.eval_docs] == [i.id for i in expected] and len(expected) == 5
    assert [d["prompt"] for d in task.eval_docs] == [i.prompt for i in expected]
