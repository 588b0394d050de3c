"""A rerun into a run directory keeps the facts of the invocation that produced the results
and is recorded on its own; older manifests (no invocations) still load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_cli_errors import FAKE_MODEL, invoke


@pytest.fixture(autouse=True)
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    from cotbench.models import handle
    from tests.fakes import FakeGenerator

    monkeypatch.setattr(handle, "generator_factory", lambda *a, **k: FakeGenerator)
    monkeypatch.setattr(handle, "token_counter", lambda rm: lambda t: len(t.split()))


def _manifest(root: Path) -> dict:
    (rd,) = [p for p in root.iterdir() if (p / "manifest.json").is_file()]
    return json.loads((rd / "manifest.json").read_text())


def test_cached_rerun_keeps_the_original_generation_facts(tmp_path: Path) -> None:
    args = ("run", "-m", FAKE_MODEL, "--tasks", "arithmetic", "--limit", "3", "-o", str(tmp_path))
    assert invoke(*args).rc == 0
    first = _manifest(tmp_path)
    assert first["model_calls"] == 3 and len(first["invocations"]) == 1
    assert first["invocations"][0]["evaluated"] == ["arithmetic"]
    assert invoke(*args).rc == 0
    again = _manifest(tmp_path)
    for key in ("started_at", "finished_at", "model_calls", "cache_hits", "cotbench_version", "engine", "packages"):
        assert again[key] == first[key], key
    rerun = again["invocations"][-1]
    assert len(again["invocations"]) == 2 and rerun["evaluated"] == [] and rerun["model_calls"] == 0
    assert rerun["finished_at"] > first["finished_at"]


def test_a_rerun_that_adds_work_adds_to_the_totals(tmp_path: Path) -> None:
    base = ("run", "-m", FAKE_MODEL, "-o", str(tmp_path), "--limit", "2")
    assert invoke(*base, "--tasks", "arithmetic").rc == 0
    assert invoke(*base, "--tasks", "arithmetic,boolean_logic").rc == 0
    m = _manifest(tmp_path)
    assert [i["evaluated"] for i in m["invocations"]] == [["arithmetic"], ["boolean_logic"]]
    assert m["model_calls"] == sum(i["model_calls"] for i in m["invocations"]) == 4
    assert m["finished_at"] == m["invocations"][-1]["finished_at"]
    assert m["started_at"] == m["invocations"][0]["started_at"]


def test_manifests_without_invocations_still_load(tmp_path: Path) -> None:
    from cotbench.results.store import RunDir

    assert invoke("run", "-m", FAKE_MODEL, "--tasks", "arithmetic", "--limit", "1", "-o", str(tmp_path)).rc == 0
    (rd,) = [p for p in tmp_path.iterdir() if (p / "manifest.json").is_file()]
    data = json.loads((rd / "manifest.json").read_text())
    data.pop("invocations")
    (rd / "manifest.json").write_text(json.dumps(data))
    assert RunDir(rd).read_manifest().invocations == []
    assert invoke("run", "-m", FAKE_MODEL, "--tasks", "arithmetic", "--limit", "1", "-o", str(tmp_path)).rc == 0
    assert len(_manifest(tmp_path)["invocations"]) == 1
