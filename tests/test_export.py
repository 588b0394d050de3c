"""`cotbench export`: lm-eval's results layout, read back with lm-eval's own readers and compared
with what lm-eval itself returned for the same run; the model-index block and .eval_results files,
read back with huggingface_hub's parsers."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from cotbench.export.lm_eval_results import write_lm_eval
from cotbench.export.metric_direction import higher_is_better
from cotbench.export.model_index import write_model_index
from cotbench.results.store import RunDir
from tests.factories import FakeTask, make_run
from tests.test_hub import FAKE_MODEL, error_line, invoke

TASKS = ["arithmetic", "probe_harmful", "probe_benign"]


@pytest.fixture(scope="module")
def native(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A run through cotbench's lm-eval engine (fake generator), and what lm-eval's
    ``simple_evaluate`` itself returned for it, merged over its calls."""
    import lm_eval

    from cotbench.models import handle
    from cotbench.runner import run_models
    from tests.fakes import FakeGenerator

    returned: list[dict[str, Any]] = []
    real = lm_eval.simple_evaluate

    def capture(*args: Any, **kwargs: Any) -> Any:
        out = real(*args, **kwargs)
        returned.append(out)
        return out

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(handle, "generator_factory", lambda *a, **k: FakeGenerator)
        mp.setattr(lm_eval, "simple_evaluate", capture)
        (rd,) = run_models([FAKE_MODEL], tasks=TASKS, limit=4, output=tmp_path_factory.mktemp("runs"))
    merged: dict[str, Any] = {}
    for r in returned:
        for key, value in r.items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key].update(value)
            else:
                merged[key] = value
    return rd.path, merged


def _exported(run: Path, out: Path) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    paths = write_lm_eval(run, out)
    results = json.loads(paths[0].read_text())
    samples = {}
    from lm_eval.utils import get_file_task_name

    for p in paths[1:]:
        samples[get_file_task_name(p.name)] = [json.loads(line) for line in p.read_text().splitlines()]
    return results, samples


# -- lm-eval --------------------------------------------------------------------------------------------------


def test_lm_eval_layout_and_lm_evals_file_name_readers(native: tuple[Path, dict], tmp_path: Path) -> None:
    from lm_eval.utils import (
        get_file_datetime,
        get_latest_filename,
        get_results_filenames,
        get_sample_results_filenames,
        sanitize_model_name,
    )

    run, _ = native
    paths = write_lm_eval(run, tmp_path / "out")
    folder = tmp_path / "out" / sanitize_model_name("fake-model")
    assert all(p.parent == folder for p in paths)
    names = [str(p) for p in paths]
    (results,) = get_results_filenames(names)
    assert results == names[0] and get_latest_filename([results]) == results
    samples = get_sample_results_filenames(names)
    assert sorted(Path(s).name.split("_", 1)[1].rsplit("_", 1)[0] for s in samples) == sorted(
        f"cotbench_{t}" for t in TASKS)
    stamp = RunDir(run).read_manifest().finished_at.replace(tzinfo=None).isoformat().replace(":", "-")
    assert Path(results).name == f"results_{stamp}.json" and get_file_datetime(Path(results).name) == f"{stamp}.json"
    assert {get_file_datetime(Path(s).name) for s in samples} == {stamp}  # the run's end, not the export's time
    assert write_lm_eval(run, tmp_path / "out") == paths  # the same run, the same files


def test_lm_eval_results_match_what_lm_eval_returned(native: tuple[Path, dict], tmp_path: Path) -> None:
    """Key for key against the dict lm-eval's ``simple_evaluate`` returned in the same run."""
    from lm_eval.result_schema import EvalResults

    run, theirs = native
    ours, _ = _exported(run, tmp_path / "out")
    assert set(ours) - {"cotbench"} <= set(EvalResults.__annotations__)
    native_keys = set(theirs) - {"samples", "pretty_env_info", "config"}
    assert native_keys <= set(ours), native_keys - set(ours)
    names = [f"cotbench_{t}" for t in TASKS]
    assert sorted(ours["results"]) == sorted(theirs["results"]) == sorted(names)
    for name in names:
        mine, native_entry = ours["results"][name], theirs["results"][name]
        assert set(native_entry) <= set(mine)
        assert mine["name"] == native_entry["name"] and mine["alias"] == native_entry["alias"]
        assert mine["sample_len"] == native_entry["sample_len"] == 4
        assert mine["score,all"] == pytest.approx(native_entry["score,all"])
        assert isinstance(mine["score_stderr,all"], float)  # lm-eval itself says "N/A" (no bootstrap)
        for key in ("versions", "n-shot", "n-samples"):
            assert ours[key][name] == theirs[key][name], key
        assert ours["higher_is_better"][name]["score"] == theirs["higher_is_better"][name]["score"]
        cfg, native_cfg = ours["configs"][name], theirs["configs"][name]
        for key in ("task", "output_type", "repeats", "generation_kwargs", "filter_list", "num_fewshot", "test_split"):
            assert cfg[key] == native_cfg[key], key
        assert cfg["metadata"]["version"] == native_cfg["metadata"]["version"]
    assert ours["group_subtasks"] == theirs["group_subtasks"]
    assert ours["lm_eval_version"] == theirs["lm_eval_version"]


def test_lm_eval_samples_match_lm_evals_own(native: tuple[Path, dict], tmp_path: Path) -> None:
    """Per document: the same id, target, responses, prompt and target hashes and score as the
    samples lm-eval logged (after its save-time sanitising)."""
    from lm_eval.utils import sanitize_list

    run, theirs = native
    results, samples = _exported(run, tmp_path / "out")
    for task in TASKS:
        name = f"cotbench_{task}"
        native = theirs["samples"][name]
        mine = samples[name]
        assert len(mine) == len(native) == 4
        for m, n in zip(mine, native, strict=True):
            assert m["doc_id"] == n["doc_id"]
            assert m["doc"]["id"] == n["doc"]["id"] and m["doc"]["prompt"] == n["doc"]["prompt"]
            assert m["target"] == str(n["target"])
            assert m["resps"] == sanitize_list(n["resps"]) and m["filtered_resps"] == sanitize_list(n["filtered_resps"])
            assert m["arguments"]["gen_args_0"]["arg_0"] == n["arguments"][0][0]
            assert m["arguments"]["gen_args_0"]["arg_1"] == n["arguments"][0][1]
            assert m["filter"] == n["filter"] and m["metrics"] == n["metrics"]
            assert m["prompt_hash"] == n["prompt_hash"] and m["target_hash"] == n["target_hash"]
            assert m["score"] == pytest.approx(n["score"], nan_ok=True)
        assert results["task_hashes"][name]  # lm-eval's recipe over the lines written


def test_lm_eval_readers_render_the_export(native: tuple[Path, dict], tmp_path: Path) -> None:
    from lm_eval.utils import make_table

    run, _ = native
    results, _ = _exported(run, tmp_path / "out")
    rows: dict[tuple[str, str], tuple[str, float, float]] = {}
    task = ""
    for line in make_table(results).splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        task = cells[0] or task
        rows[(task, cells[4])] = (cells[5], float(cells[6]), float(cells[8]))
    for name in TASKS:
        for metric, mv in RunDir(run).read_task(name).metrics.items():
            # every cotbench metric, with its standard error and direction
            arrow, value, se = rows[(f"cotbench_{name}", metric)]
            assert value == pytest.approx(mv.value, abs=5e-5) and se == pytest.approx(mv.stderr, abs=5e-5)
            assert arrow == {True: "↑", False: "↓", None: ""}[higher_is_better(RunDir(run).read_task(name).task.domain,
                                                                               metric)]
    hib = results["higher_is_better"]["cotbench_probe_harmful"]
    assert hib["harmful_compliance"] is False and hib["refusal_rate"] is True and hib["score"] is True


def test_hand_checked_numbers_and_an_undefined_metric(tmp_path: Path) -> None:
    """avg@2 of items (1,0), (1,1), (0,0) is 0.5 with stderr sqrt(0.25/3); pass@2 is 2/3; a task
    with nothing scored is NaN with stderr "N/A", as lm-eval writes them, and make_table copes."""
    from lm_eval.utils import make_table

    rd = make_run(tmp_path / "runs", "org/model", {
        "gsm8k": FakeTask("in_domain", [[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]),
        "xstest_safe": FakeTask("safety_benign", [[None], [None]], labels=[[None], [None]]),
    })
    results, samples = _exported(rd.path, tmp_path / "out")
    g = results["results"]["cotbench_gsm8k"]
    assert g["score,all"] == pytest.approx(0.5) and g["score_stderr,all"] == pytest.approx(math.sqrt(0.25 / 3))
    assert g["pass@2,all"] == pytest.approx(2 / 3)
    assert [s["score"] for s in samples["cotbench_gsm8k"]] == [0.5, 1.0, 0.0]
    first = samples["cotbench_gsm8k"][0]
    output = "<think>Let me think. Wait, let me check this again.</think>answer 0"
    assert first["resps"] == first["filtered_resps"] == [[output] * 2]
    x = results["results"]["cotbench_xstest_safe"]
    assert math.isnan(x["score,all"]) and x["score_stderr,all"] == "N/A"
    assert all(math.isnan(s["score"]) for s in samples["cotbench_xstest_safe"])
    assert "cotbench_xstest_safe" in make_table(results)
    assert results["model_name"] == "org/model" and results["model_name_sanitized"] == "org__model"
    assert results["config"]["model_args"] == "pretrained=org/model"


@pytest.mark.parametrize("domain, metric, expected", [
    ("in_domain", "score", True), ("transfer", "pass@4", True),
    ("safety_harmful", "harmful_compliance", False), ("safety_harmful", "refusal_rate", True),
    ("safety_harmful", "rate:full_refusal", True), ("safety_harmful", "rate:full_compliance", False),
    ("safety_harmful", "attack_success", False), ("safety_harmful", "safe@1", True),
    ("safety_benign", "over_refusal", False), ("safety_benign", "refusal_rate", False),
    ("safety_benign", "rate:full_compliance", True), ("safety_benign", "rate:partial_refusal", None),
    ("general", "rate:full_refusal", None),
])
def test_metric_directions(domain: str, metric: str, expected: bool | None) -> None:
    assert higher_is_better(domain, metric) is expected


# -- model-index and .eval_results ----------------------------------------------------------------------------


def _hub_run(root: Path) -> RunDir:
    """A run whose tasks come from Hub datasets, two of them from the same dataset split."""
    rd = make_run(root, "org/model", {
        "gsm8k": FakeTask("in_domain", [[1.0], [0.0], [1.0], [1.0]]),
        "xstest_safe": FakeTask("safety_benign", [[1.0], [1.0]], labels=[["full_compliance"], ["full_refusal"]]),
        "xstest_unsafe": FakeTask("safety_harmful", [[1.0], [0.0]], labels=[["full_refusal"], ["full_compliance"]]),
        "arithmetic": FakeTask("in_domain", [[0.0], [1.0]]),
    })
    sources = {"gsm8k": "openai/gsm8k@main", "xstest_safe": "walledai/XSTest@main",
               "xstest_unsafe": "walledai/XSTest@main", "arithmetic": "cotbench probe 'arithmetic' (seed 2)"}
    for task, source in sources.items():
        tr = rd.read_task(task)
        tr.task.source = source
        rd.write_task(tr, list(rd.iter_samples(task)))
    return rd


def test_model_index_round_trips_through_huggingface_hubs_model_card(tmp_path: Path) -> None:
    from huggingface_hub import ModelCard

    rd = _hub_run(tmp_path / "runs")
    paths = write_model_index(rd.path, tmp_path / "out", source_url="https://huggingface.co/datasets/org/results")
    block = (tmp_path / "out" / "model-index.yaml").read_text()
    assert paths[0] == tmp_path / "out" / "model-index.yaml" and block.startswith("model-index:")
    card = ModelCard(f"---\n{block}---\n# model\n")
    assert card.data.model_name == "org/model"
    got = {(r.task_name, r.metric_type): r for r in card.data.eval_results}
    expected = {(t, m): mv.value for t in rd.task_names() for m, mv in rd.read_task(t).metrics.items()
                if not math.isnan(mv.value)}
    assert {k: r.metric_value for k, r in got.items()} == pytest.approx(expected)
    assert got[("gsm8k", "score")].dataset_type == "openai/gsm8k"
    assert got[("gsm8k", "score")].dataset_split == "test" and got[("gsm8k", "score")].dataset_config == "main"
    assert got[("arithmetic", "score")].dataset_type == "cotbench-probe"
    # XSTest's two tasks read the same split: kept apart (the model-index would merge them)
    assert got[("xstest_safe", "over_refusal")].dataset_config == "xstest_safe"
    assert got[("xstest_unsafe", "harmful_compliance")].dataset_config == "xstest_unsafe"
    assert got[("xstest_safe", "over_refusal")].metric_value == pytest.approx(0.5)
    assert {r.source_url for r in got.values()} == {"https://huggingface.co/datasets/org/results"}
    assert {r.task_type for r in got.values()} == {"text-generation"}


def test_eval_results_files_parse_with_huggingface_hub(tmp_path: Path) -> None:
    from huggingface_hub import parse_eval_result_entries

    rd = _hub_run(tmp_path / "runs")
    paths = write_model_index(rd.path, tmp_path / "out")
    (gsm8k,) = [p for p in paths if p.parent.name == ".eval_results"]  # capability tasks from Hub datasets only
    assert gsm8k.name == "openai__gsm8k.yaml"
    (entry,) = parse_eval_result_entries(yaml.safe_load(gsm8k.read_text()))
    assert entry.dataset_id == "openai/gsm8k" and entry.task_id == "gsm8k"
    assert entry.value == pytest.approx(0.75)
    assert entry.dataset_revision is None  # "main" is not a commit
    assert entry.date == "2026-01-01T00:00:00Z" and "cotbench" in entry.notes and "avg@1" in entry.notes


def test_export_cli(tmp_path: Path) -> None:
    rd = _hub_run(tmp_path / "runs")
    res = invoke("export", str(rd.path), "--format", "lm-eval", "--out", str(tmp_path / "lm"))
    assert res.rc == 0 and res.out.count("wrote ") == 5, res
    res = invoke("export", str(rd.path), "--format", "model-index", "--out", str(tmp_path / "mi"),
                 "--model-name", "my-model")
    assert res.rc == 0 and "model-index.yaml" in res.out, res
    assert yaml.safe_load((tmp_path / "mi" / "model-index.yaml").read_text())["model-index"][0]["name"] == "my-model"
    (tmp_path / "file").write_text("x")
    (tmp_path / "empty").mkdir()
    error_line(invoke("export", str(rd.path), "--format", "csv", "--out", str(tmp_path / "x")),
               "--format must be one of lm-eval, model-index")
    error_line(invoke("export", str(rd.path), "--format", "lm-eval", "--out", str(tmp_path / "file")),
               "--out", "is a file")
    error_line(invoke("export", str(tmp_path / "empty"), "--format", "lm-eval", "--out", str(tmp_path / "x")),
               "not a run directory")
    error_line(invoke("export", str(rd.path), "--format", "lm-eval", "--out", str(tmp_path / "x"),
                      "--source-url", "https://x"), "--source-url apply to --format model-index")
    assert not (tmp_path / "x").exists()
