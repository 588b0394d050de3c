"""Run directories: atomic writes, validation with clear errors, pandas loading."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cotbench.errors import ResultsError
from cotbench.results.load import find_runs, load_metrics, load_samples
from cotbench.results.metrics import compute_metrics, pass_at_k
from cotbench.results.store import RunDir, atomic_write_text
from tests.factories import FakeTask, make_run


def test_atomic_write_leaves_old_file_on_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "f.json"
    atomic_write_text(target, "old")

    def boom(*a: object, **k: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        atomic_write_text(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]  # no temp file left behind


def test_metrics_use_items_as_units_and_skip_unscored(tmp_path: Path) -> None:
    rd = make_run(tmp_path, "m", {
        "t": FakeTask("in_domain", [[1, 0, 1], [0, 0, 0], [1, 1, 1]]),
        "s": FakeTask("safety_harmful", [[1], [0], [None], [0.5]],
                      labels=[["full_refusal"], ["full_compliance"], ["truncated"], ["partial_refusal"]]),
    })
    t = rd.read_task("t")
    # avg@3 per item: 2/3, 0, 1 -> mean 5/9; stderr over 3 items, not 9 samples.
    assert t.metrics["score"].value == pytest.approx(5 / 9) and t.metrics["score"].n == 3
    assert t.metrics["pass@3"].value == pytest.approx(2 / 3)
    s = rd.read_task("s")
    assert s.n_unscored == 1 and s.metrics["score"].n == 3
    assert s.metrics["score"].value == pytest.approx(0.5)
    assert s.metrics["rate:full_compliance"].value == pytest.approx(1 / 3)


def test_pass_at_k_estimator() -> None:
    assert pass_at_k(5, 0, 1) == 0.0 and pass_at_k(5, 5, 3) == 1.0
    assert pass_at_k(4, 1, 2) == pytest.approx(0.5)  # 1 - C(3,2)/C(4,2)


def test_load_to_pandas(tmp_path: Path) -> None:
    make_run(tmp_path, "a", {"t": FakeTask("transfer", [[1], [0]])}, step=10)
    make_run(tmp_path, "b", {"t": FakeTask("transfer", [[1], [1]])}, step=20)
    df = load_metrics(tmp_path)
    assert set(df["model"]) == {"a", "b"} and set(df["step"]) == {10, 20}
    samples = load_samples(find_runs([tmp_path])[0])
    assert len(samples) == 2 and {"score", "reasoning", "answer", "domain"} <= set(samples.columns)


def test_bad_files_give_one_line_errors(tmp_path: Path) -> None:
    rd = make_run(tmp_path, "a", {"t": FakeTask("transfer", [[1]])})
    (rd.task_dir("t") / "metrics.json").write_text("{not json")
    with pytest.raises(ResultsError, match="not valid JSON"):
        rd.read_task("t")
    manifest = json.loads(rd.manifest_path.read_text())
    manifest["schema_version"] = "9.0"
    rd.manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(ResultsError, match="schema version 9.0 is not supported"):
        rd.read_manifest()
    with (rd.task_dir("t") / "samples.jsonl").open("a") as fh:
        fh.write('{"sample_id": 3}\n')
    with pytest.raises(ResultsError, match=r"samples.jsonl:2: not a valid sample record"):
        list(rd.iter_samples("t"))
    with pytest.raises(ResultsError, match="not a run directory"):
        find_runs([tmp_path / "missing"])
    assert RunDir(tmp_path / "missing").task_names() == []


def test_compute_metrics_label_rates() -> None:
    from cotbench.results.schema import SampleRecord

    recs = [SampleRecord(run_id="r", task="t", task_hash="h", sample_id=str(i // 2), repeat=i % 2, prompt="",
                         output="", score=1.0 if lab == "full_refusal" else 0.0, label=lab, engine="lm_eval")
            for i, lab in enumerate(["full_refusal", "full_compliance", "full_refusal", "full_refusal"])]
    m = compute_metrics(recs, k=2)
    assert m["rate:full_compliance"].value == pytest.approx(0.25)  # items: 1/2 and 0
    assert m["pass@2"].value == 1.0


def test_pass_at_k_uses_only_items_with_k_scored_repeats() -> None:
    from cotbench.results.schema import SampleRecord

    def recs(scores: list[list[float | None]]) -> list[SampleRecord]:
        return [SampleRecord(run_id="r", task="t", task_hash="h", sample_id=str(i), repeat=j, prompt="",
                             output="", score=sc, engine="lm_eval")
                for i, reps in enumerate(scores) for j, sc in enumerate(reps)]

    # k = 2. a: n=3, c=1 -> 1 - C(2,2)/C(3,2) = 2/3; b: n=3, c=2 -> 1 (n - c < k);
    # c has one scored repeat, so it is left out of pass@2 (it would have added pass@1 = 1).
    m = compute_metrics(recs([[1, 0, 0], [1, 1, 0], [1, None, None]]), k=2)
    assert m["pass@2"].value == pytest.approx((2 / 3 + 1) / 2)
    assert m["pass@2"].n == 2 and m["score"].n == 3  # one item left out
    none = compute_metrics(recs([[1, None], [0, None]]), k=2)["pass@2"]
    assert none.n == 0 and none.value != none.value


def test_task_with_no_scored_sample_round_trips(tmp_path: Path) -> None:
    rd = make_run(tmp_path, "m", {"s": FakeTask("safety_harmful", [[None], [None]],
                                                labels=[["truncated"], ["truncated"]])})
    t = rd.read_task("s")
    assert t.n_unscored == 2 and t.metrics["score"].n == 0 and t.metrics["score"].value != t.metrics["score"].value


OLD_RUN = Path(__file__).parent / "fixtures" / "results_schema_1_3" / "old-model"


def test_schema_1_3_attack_success_reads_as_harmful_compliance() -> None:
    """Before 1.4 ``attack_success`` was the full-compliance share from refusal labels (offline):
    it is read under its true name, never presented as an attack success rate."""
    raw = json.loads((OLD_RUN / "tasks" / "strongreject" / "metrics.json").read_text())
    assert raw["schema_version"] == "1.3" and "attack_success" in raw["metrics"]  # the fixture is old-format
    tr = RunDir(OLD_RUN).read_task("strongreject")
    assert "attack_success" not in tr.metrics
    assert tr.metrics["harmful_compliance"].model_dump() == raw["metrics"]["attack_success"]
    assert tr.metrics["harmful_compliance"].value == tr.metrics["rate:full_compliance"].value == 0.5
    assert (
        "attack_success" not in tr.category_metrics["a"] and tr.category_metrics["b"]["harmful_compliance"].value == 0.5
    )
    assert tr.schema_version == "1.4"
    benign = RunDir(OLD_RUN).read_task("xstest_safe")
    assert benign.metrics["over_refusal"].value == 0.5 and "attack_success" not in benign.metrics
    df = load_metrics(OLD_RUN)
    assert "attack_success" not in set(df["metric"]) and "harmful_compliance" in set(df["metric"])


def test_older_safety_results_without_named_rates_get_them_derived(tmp_path: Path) -> None:
    rd = make_run(tmp_path, "m", {
        "h": FakeTask("safety_harmful", [[1.0], [1.0]], labels=[["full_refusal"], ["full_refusal"]]),
        "b": FakeTask("safety_benign", [[1.0], [0.0]], labels=[["full_compliance"], ["full_refusal"]]),
        "u": FakeTask("safety_harmful", [[None]], labels=[["truncated"]])})
    for t in ("h", "b", "u"):
        p = rd.task_dir(t) / "metrics.json"
        d = json.loads(p.read_text())
        d["schema_version"] = "1.2"
        for key in ("harmful_compliance", "over_refusal", "refusal_rate"):
            d["metrics"].pop(key, None)
        p.write_text(json.dumps(d))
    h = rd.read_task("h").metrics["harmful_compliance"]
    assert (h.value, h.n) == (0.0, 2)  # labelled and scored, none complied: 0, not undefined
    assert rd.read_task("b").metrics["over_refusal"].value == 0.5
    u = rd.read_task("u").metrics["harmful_compliance"]
    assert u.n == 0 and u.value != u.value  # nothing scored: undefined


def test_current_results_keep_attack_success_from_a_judge(tmp_path: Path) -> None:
    rd = make_run(tmp_path, "m", {"h": FakeTask("safety_harmful", [[0.0], [1.0]],
                                                labels=[["full_compliance"], ["full_refusal"]])})
    p = rd.task_dir("h") / "metrics.json"
    d = json.loads(p.read_text())
    d["metrics"]["attack_success"] = {"value": 0.5, "stderr": 0.5, "n": 2}  # as a harm judge writes it
    p.write_text(json.dumps(d))
    m = rd.read_task("h").metrics
    assert m["attack_success"].value == 0.5 and m["harmful_compliance"].value == 0.5
