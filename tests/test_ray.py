"""Checkpoint series on a local Ray cluster: same records as a local run, worker and driver kills."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e import committed, requires_embedded

ray = pytest.importorskip("ray")
pytestmark = [pytest.mark.e2e, requires_embedded]

TASKS = ["arithmetic", "probe_harmful"]
KEYS = ("sample_id", "repeat", "output", "reasoning", "answer", "extracted", "score", "label", "truncated",
        "finish_reason", "output_tokens", "reasoning_tokens", "answer_tokens")


def _series(root: Path, steps: tuple[int, ...] = (0, 20, 640)) -> str:
    from cotbench.models.embedded import converted_dir

    src = converted_dir()
    for step in steps:
        dst = root / "train" / f"checkpoint-{step}"
        dst.mkdir(parents=True)
        for f in src.iterdir():
            if f.is_file():
                os.symlink(f, dst / f.name)
    return f"hf:{root}/train/checkpoint-*"


def _records(out: Path) -> dict[tuple[str, str], list[tuple]]:
    found: dict[tuple[str, str], list[tuple]] = {}
    for rd in sorted(p for p in out.iterdir() if (p / "manifest.json").is_file()):
        for task in TASKS:
            lines = (rd / "tasks" / task / "samples.jsonl").read_text().splitlines()
            recs = sorted((json.loads(x) for x in lines), key=lambda r: (r["sample_id"], r["repeat"]))
            found[(rd.name, task)] = [tuple(r[k] for k in KEYS) for r in recs]
    return found


def _driver(spec: str, out: Path, limit: int, max_tokens: int, cpus: int | None = None) -> list[str]:
    code = ("import sys; from pathlib import Path; "
            "from cotbench.distributed.ray_run import RayOptions, run_models_on_ray; "
            f"run_models_on_ray([{spec!r}], tasks={TASKS!r}, limit={limit}, max_tokens={max_tokens}, batch_size=1, "
            f"output=Path({str(out)!r}), ray=RayOptions('local', unit='task', local_cpus={cpus!r}))")
    return [sys.executable, "-c", code]


def _stable_count(out: Path, quiet_s: float = 3.0) -> int:
    last, since = committed(out), time.monotonic()
    while time.monotonic() - since < quiet_s:
        time.sleep(0.2)
        now = committed(out)
        if now != last:
            last, since = now, time.monotonic()
    return last


def test_ray_run_equals_local_run_and_survives_a_worker_kill(tmp_path: Path) -> None:
    from cotbench.runner import run_models

    spec = _series(tmp_path)
    local = tmp_path / "local"
    run_models([spec], tasks=TASKS, limit=4, max_tokens=24, output=local)
    expected = _records(local)

    # On Ray (one CPU: one unit at a time), with the running unit's worker killed (kill -9) once
    # it has committed some completions: Ray retries the unit and those are not generated again.
    out = tmp_path / "ray"
    driver = subprocess.Popen(_driver(spec, out, 4, 24, cpus=1), stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    killed, kept, finished = None, 0, 0
    deadline = time.monotonic() + 600
    while driver.poll() is None and time.monotonic() < deadline and killed is None:
        if committed(out) >= 2:
            pids = subprocess.run(["pgrep", "-f", "ray::cotbench_unit"], capture_output=True, text=True).stdout.split()
            if pids:
                killed = int(pids[0])
                os.kill(killed, signal.SIGKILL)
                time.sleep(0.3)  # the store commits what was already on its way
                kept = committed(out)
                # completions of units that had already finished (their records are written)
                finished = sum(len(f.read_text().splitlines()) for f in out.glob("*/tasks/*/samples.jsonl"))
        time.sleep(0.05)
    _, err = driver.communicate(timeout=900)
    assert killed is not None, "no unit was running to kill"
    assert driver.returncode == 0, err[-3000:]
    assert _records(out) == expected
    calls = sum(json.loads((rd / "manifest.json").read_text())["model_calls"]
                for rd in out.iterdir() if (rd / "manifest.json").is_file())
    total = sum(len(v) for v in expected.values())
    # what the dead worker had committed was not generated again
    assert kept - finished >= 1 and calls == total - (kept - finished)


def test_killed_driver_resumes(tmp_path: Path) -> None:
    spec = _series(tmp_path, (0, 20))
    out = tmp_path / "ray"
    driver = subprocess.Popen(_driver(spec, out, 4, 24), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while driver.poll() is None and committed(out) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    kept = _stable_count(out)  # the cluster's processes wind down just after the driver
    assert kept >= 3
    again = subprocess.run(_driver(spec, out, 4, 24), capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    records = _records(out)
    assert all(len(v) == 4 for v in records.values()) and len(records) == 4
    calls = sum(json.loads((rd / "manifest.json").read_text())["model_calls"]
                for rd in out.iterdir() if (rd / "manifest.json").is_file())
    assert calls == 16 - kept


def test_a_unit_that_fails_every_retry_marks_its_tasks_and_the_rest_finish(tmp_path: Path) -> None:
    from cotbench.distributed.ray_run import RayOptions, run_models_on_ray

    good = _series(tmp_path, (0,))
    broken = tmp_path / "broken" / "checkpoint-5"
    broken.mkdir(parents=True)
    (broken / "config.json").write_text('{"model_type": "no-such-architecture"}')
    rds = run_models_on_ray([good, f"hf:{broken}"], tasks=TASKS, limit=2, max_tokens=16, output=tmp_path / "runs",
                     ray=RayOptions("local"))
    status = {rd.path.name: {t.name: (t.status, t.error) for t in rd.read_manifest().tasks} for rd in rds}
    ok, bad = (status[rd.path.name] for rd in rds)
    assert {s for s, _ in ok.values()} == {"complete"}
    assert {s for s, _ in bad.values()} == {"error"}
    assert all("failed on Ray after" in (e or "") for _, e in bad.values())
