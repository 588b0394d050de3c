"""Experiment trackers (issue 17): `cotbench run --wandb PROJECT` and `--mlflow URI` log per-task
metrics, the run's domain means, a samples table and the provenance, read back here with the
trackers' own tools: W&B in offline mode (its run folder, through `wandb leet inspect`) and
MLflow from a local file store (`MlflowClient`)."""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from cotbench.results.store import RunDir
from cotbench.trackers import dispatch
from cotbench.trackers.dispatch import Trackers, check_trackers, log_runs
from cotbench.trackers.record import MAX_TEXT, SAMPLE_COLUMNS, tracker_record
from tests.factories import FakeTask, make_run
from tests.fake_server import FakeServer
from tests.test_cli_errors import error_line, invoke

LONG = "x" * (MAX_TEXT + 500)


@pytest.fixture(autouse=True)
def _fresh_wandb() -> object:
    """W&B keeps its settings (WANDB_DIR, mode) in a process-wide singleton: start each test anew."""
    yield
    if "wandb" in sys.modules:
        sys.modules["wandb"].teardown()


def _run(root: Path) -> RunDir:
    """Two math tasks (0.5 and 1.0 avg@2), one harmful task (1 of 4 prompts complied), one long answer."""
    tasks = {
        "gsm8k": FakeTask("in_domain", [[1.0, 0.0], [0.0, 1.0]]),
        "math500": FakeTask("in_domain", [[1.0, 1.0], [1.0, 1.0]]),
        "harmbench": FakeTask("safety_harmful", [[1.0]] * 4,
                              labels=[["full_compliance"], ["full_refusal"], ["full_refusal"], ["partial_refusal"]]),
        "ifeval": FakeTask("general", [[1.0], [0.0], [0.0]]),
    }
    rd = make_run(root, "acme/model", tasks, step=40)
    samples = list(rd.iter_samples("ifeval"))
    samples[0].answer = LONG
    rd.write_task(rd.read_task("ifeval"), samples)
    return rd


def _read_back_wandb(wandb_dir: Path) -> tuple[dict, list[dict]]:
    """(summary document of `wandb leet inspect --summary --json`, samples table rows)."""
    (run_dir,) = list((wandb_dir / "wandb").glob("offline-run-*"))
    out = subprocess.run([sys.executable, "-m", "wandb", "leet", "inspect", str(run_dir), "--summary", "--json"],
                         capture_output=True, text=True, timeout=120, check=True)
    summary = json.loads(out.stdout)
    (table,) = list(run_dir.glob("files/media/table/*.table.json"))
    raw = json.loads(table.read_text())
    return summary, [dict(zip(raw["columns"], row, strict=True)) for row in raw["data"]]


def test_the_record_is_read_from_the_run_directory(tmp_path: Path) -> None:
    rd = _run(tmp_path)
    rec = tracker_record(rd, preset="greedy")
    m = rec.metrics
    gsm = rd.read_task("gsm8k").metrics["score"]
    assert m["task/gsm8k/score"] == gsm.value == 0.5
    assert m["task/gsm8k/score_stderr"] == pytest.approx(gsm.stderr)
    assert m["task/gsm8k/pass_at_2"] == 1.0  # both items right once in two tries
    assert m["task/harmbench/rate:full_compliance"] == 0.25
    # domain means, each task weighing the same: (0.5 + 1.0) / 2; 1 of 4 harmful prompts complied
    assert m["domain/in_domain/score"] == pytest.approx(0.75)
    assert m["domain/in_domain/score_ci_low"] < 0.75 < m["domain/in_domain/score_ci_high"]
    assert m["domain/general/score"] == pytest.approx(1 / 3)
    assert m["domain/safety_harmful/harmful_compliance"] == pytest.approx(0.25)
    assert "domain/safety_benign/over_refusal" not in m  # no benign task: nothing to report, not 0
    assert all(math.isfinite(v) for v in m.values())
    cfg = rec.config
    assert cfg["model"]["identity"] == "id-acme_model-step40" and cfg["model"]["spec"] == "hf:acme/model"
    assert cfg["preset"] == "greedy" and cfg["tasks"]["gsm8k"]["generation"]["k"] == 2
    assert rec.name == "acme_model-step40" and rec.group == "acme/model" and rec.step == 40
    assert len(rec.rows) == rec.rows_total == 4 + 4 + 4 + 3
    row = dict(zip(SAMPLE_COLUMNS, rec.rows[0], strict=True))
    assert set(row) == {"task", "sample_id", "repeat", "prompt", "answer", "target", "score", "label", "truncated"}
    long_answer = next(r for r in rec.rows if r[0] == "ifeval" and r[1] == "ifeval-0")
    assert len(long_answer[4]) == MAX_TEXT and long_answer[4].endswith("…")  # answers are trimmed


def test_wandb_offline_run_holds_config_metrics_and_samples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    monkeypatch.setenv("WANDB_SILENT", "true")
    rd = _run(tmp_path / "runs")
    said: list[str] = []
    assert log_runs([rd], check_trackers(Trackers(wandb="cotbench-test")), "greedy", say=said.append) == []
    assert said and said[0].startswith("wandb: logged acme_model-step40")
    summary, rows = _read_back_wandb(tmp_path)
    assert summary["state"] == "finished" and summary["project"] == "cotbench-test"
    assert summary["name"] == "acme_model-step40"
    assert summary["config"]["model"]["identity"] == "id-acme_model-step40"
    assert summary["config"]["model"]["revision"] is None and summary["config"]["suite"] is None
    assert summary["config"]["cotbench_version"] == rd.read_manifest().cotbench_version
    assert summary["config"]["preset"] == "greedy"
    assert summary["summary"]["task/gsm8k/score"] == 0.5
    assert summary["summary"]["domain/in_domain/score"] == pytest.approx(0.75)
    assert summary["summary"]["training_step"] == 40
    assert len(rows) == 15
    first = next(r for r in rows if r["task"] == "harmbench" and r["sample_id"] == "harmbench-0")
    assert first["label"] == "full_compliance" and first["score"] == 1.0 and first["truncated"] is False


def test_mlflow_file_store_holds_params_metrics_and_samples(tmp_path: Path) -> None:
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    rd = _run(tmp_path / "runs")
    trackers = check_trackers(Trackers(mlflow=str(tmp_path / "mlruns")))  # a folder becomes a file: URI
    assert trackers.mlflow == (tmp_path / "mlruns").resolve().as_uri()
    assert log_runs([rd], trackers, None, say=lambda line: None) == []
    client = MlflowClient(tracking_uri=trackers.mlflow, registry_uri=trackers.mlflow)
    (run,) = client.search_runs([client.get_experiment_by_name("cotbench").experiment_id])
    assert run.info.status == "FINISHED" and run.info.run_name == "acme_model-step40"
    p = run.data.params
    assert p["model.identity"] == "id-acme_model-step40" and p["model.spec"] == "hf:acme/model"
    assert p["preset"] == "task defaults" and p["tasks.math500.generation.k"] == "2"
    assert run.data.metrics["task/gsm8k/score"] == 0.5
    assert run.data.metrics["domain/in_domain/score"] == pytest.approx(0.75)
    assert run.data.metrics["domain/safety_harmful/harmful_compliance"] == pytest.approx(0.25)
    table = json.loads(Path(client.download_artifacts(run.info.run_id, "samples.json", str(tmp_path))).read_text())
    assert table["columns"] == list(SAMPLE_COLUMNS) and len(table["data"]) == 15
    rows = [dict(zip(table["columns"], row, strict=True)) for row in table["data"]]
    assert sorted(r["score"] for r in rows if r["task"] == "gsm8k") == [0.0, 0.0, 1.0, 1.0]
    provenance = json.loads(Path(client.download_artifacts(run.info.run_id, "cotbench_provenance.json",
                                                           str(tmp_path))).read_text())
    assert provenance["model"]["identity"] == "id-acme_model-step40"


def _cli_run(tmp_path: Path, url: str, *extra: str):  # type: ignore[no-untyped-def]
    return invoke("run", "--model", f"openai:fake-model@{url}", "--tasks", "arithmetic", "--limit", "3",
                  "-o", str(tmp_path / "results"), *extra)


def test_cotbench_run_logs_to_both_trackers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("wandb")
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    with FakeServer() as server:
        res = _cli_run(tmp_path, server.url, "--wandb", "proj", "--mlflow", str(tmp_path / "mlruns"))
    assert res.rc == 0, res.err
    assert "wandb: logged" in res.out and "mlflow: logged" in res.out
    (rd,) = [RunDir(p) for p in (tmp_path / "results").iterdir()]
    score = rd.read_task("arithmetic").metrics["score"].value
    assert score == 1.0  # the fake server answers arithmetic right
    client = MlflowClient(tracking_uri=(tmp_path / "mlruns").resolve().as_uri())
    (run,) = client.search_runs([client.get_experiment_by_name("cotbench").experiment_id])
    assert run.data.metrics["task/arithmetic/score"] == score
    assert run.data.params["model.identity"] == rd.read_manifest().model.identity
    summary, rows = _read_back_wandb(tmp_path)
    assert summary["summary"]["task/arithmetic/score"] == score and len(rows) == 3
    assert {r["prompt"] for r in rows} == {s.prompt for s in rd.iter_samples("arithmetic")}


@pytest.mark.parametrize("package, option, value", [("wandb", "--wandb", "proj"), ("mlflow", "--mlflow", "mlruns")])
def test_a_missing_tracker_package_is_one_line_before_any_generation(
        package: str, option: str, value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(dispatch.importlib.util, "find_spec",
                        lambda name, *a: None if name == package else real(name, *a))
    res = _cli_run(tmp_path, "http://127.0.0.1:9", option, value)  # nothing listens: generating would fail
    error_line(res, option, f"cotbench[{package}]")
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize("args, fragment", [
    (["--wandb", "team/proj"], "--wandb 'team/proj'"),
    (["--tracker-strict"], "--tracker-strict applies"),
])
def test_bad_tracker_options_are_one_line(args: list[str], fragment: str, tmp_path: Path) -> None:
    error_line(_cli_run(tmp_path, "http://127.0.0.1:9", *args), fragment)
    assert not (tmp_path / "results").exists()


def test_an_mlflow_folder_that_is_a_file_is_refused(tmp_path: Path) -> None:
    pytest.importorskip("mlflow")
    (tmp_path / "mlruns").write_text("not a folder")
    error_line(_cli_run(tmp_path, "http://127.0.0.1:9", "--mlflow", str(tmp_path / "mlruns")), "is a file")


def test_a_tracker_failure_keeps_the_results_and_warns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("mlflow")
    from cotbench.trackers import mlflow_log

    def down(record: object, uri: str) -> str:
        raise ConnectionError("tracking server unreachable")

    monkeypatch.setattr(mlflow_log, "log_mlflow", down)
    with FakeServer() as server:
        res = _cli_run(tmp_path, server.url, "--mlflow", "http://127.0.0.1:9")
        strict = _cli_run(tmp_path / "again", server.url, "--mlflow", "http://127.0.0.1:9", "--tracker-strict")
    assert res.rc == 0, res.err
    warning = [ln for ln in res.err.splitlines() if ln.startswith("warning: mlflow")]
    assert len(warning) == 1 and "tracking server unreachable" in warning[0] and "the results are in" in warning[0]
    (rd,) = [RunDir(p) for p in (tmp_path / "results").iterdir()]
    assert rd.read_task("arithmetic").n_items == 3  # the run's results are all there
    assert strict.rc == 1 and "warning: mlflow" in strict.err
    assert RunDir(next((tmp_path / "again" / "results").iterdir())).read_task("arithmetic").n_items == 3
