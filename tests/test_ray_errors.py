"""--ray's errors: one line and exit 2, before anything starts (no cluster needed)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tests.test_cli_errors import FAKE_MODEL, invoke


def test_without_ray_installed_says_which_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a))
    res = invoke("run", "-m", FAKE_MODEL, "--tasks", "arithmetic", "--ray", "local")
    assert res.rc == 2 and "pip install 'cotbench[ray]'" in res.err and len(res.err.strip().splitlines()) == 1


def test_an_unreachable_cluster_fails_in_seconds(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    out = tmp_path / "runs"
    res = invoke("run", "-m", FAKE_MODEL, "--tasks", "arithmetic", "--limit", "1", "--ray", "127.0.0.1:1",
                 "-o", str(out))
    assert res.rc == 2 and "--ray 127.0.0.1:1: no Ray cluster reachable there" in res.err
    assert not out.exists()  # nothing started


@pytest.mark.parametrize("args, fragment", [
    (["--ray", "nowhere"], "--ray: expected auto, local"),
    (["--cpus-per-unit", "2"], "--cpus-per-unit applies to a Ray run"),
    (["--ray", "local", "--ray-unit", "shard"], "--ray-unit must be checkpoint or task"),
    (["--ray", "local", "--judge", "openai:m@http://127.0.0.1:9/v1"], "--judge cannot be combined with --ray"),
])
def test_bad_ray_options(args: list[str], fragment: str) -> None:
    res = invoke("run", "-m", FAKE_MODEL, "--tasks", "arithmetic", *args)
    assert res.rc == 2 and fragment in res.err, res.err
