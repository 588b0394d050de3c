"""A checkpoint series of the embedded model, run in one call, then profiled and traced."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.e2e import cli, requires_embedded

pytestmark = [pytest.mark.e2e, requires_embedded]


def _checkpoint(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True)
    for f in src.iterdir():
        if f.is_file():
            os.symlink(f, dst / f.name)


def test_checkpoint_series_profile_and_trajectory(tmp_path: Path) -> None:
    from cotbench.models.embedded import converted_dir

    src = converted_dir()
    for step in (0, 20, 640):
        _checkpoint(src, tmp_path / "train" / f"checkpoint-{step}")
    out = tmp_path / "runs"
    proc = cli("run", "--model", f"hf:{tmp_path}/train/checkpoint-*", "--tasks", "arithmetic,probe_harmful",
               "--limit", "4", "--max-tokens", "24", "--output", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = sorted((p for p in out.iterdir() if (p / "manifest.json").is_file()),
                  key=lambda p: json.loads((p / "manifest.json").read_text())["model"]["step"])
    steps = [json.loads((p / "manifest.json").read_text())["model"]["step"] for p in runs]
    assert steps == [0, 20, 640]

    prof = cli("profile", str(runs[2]), "--reference", str(runs[0]), "--json")
    assert prof.returncode == 0, prof.stderr[-2000:]
    data = json.loads(prof.stdout)
    assert data and "arithmetic" in json.dumps(data)

    traj = cli("trajectory", *map(str, runs), "--json")
    assert traj.returncode == 0, traj.stderr[-2000:]
    verdicts = json.loads(traj.stdout)
    # Identical weights at every step: noise-free, so no dip anywhere.
    assert "dip-recovered" not in json.dumps(verdicts) and "degraded" not in json.dumps(verdicts)

    import cotbench

    df = cotbench.trajectory([str(p) for p in runs])
    assert set(df["step"]) >= {0, 20, 640}
    assert not cotbench.profile(str(runs[1]), str(runs[0])).empty
