"""`cotbench --help` and every sub-command's `--help` start without the heavy libraries: the
statistics, scoring, harness and plotting stacks are imported inside the commands that use them."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("scipy", "sklearn", "pandas", "torch", "transformers", "lm_eval", "inspect_ai", "datasets", "matplotlib")

# Runs in a fresh interpreter: every command path's --help, then which heavy packages got imported.
_WALK = """
import contextlib, io, json, sys
import typer.main
from cotbench.cli import app, run_cli

def paths(cmd, prefix):
    yield prefix
    for name, sub in sorted(getattr(cmd, "commands", {}).items()):
        yield from paths(sub, [*prefix, name])

seen, codes = [], {}
for path in paths(typer.main.get_command(app), []):
    with contextlib.redirect_stdout(io.StringIO()):
        codes[" ".join(path)] = run_cli([*path, "--help"])
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(sys.argv[1])))
print(json.dumps({"codes": codes, "heavy": heavy}))
"""


def _modules_imported_by(*args: str) -> set[str]:
    """Top-level packages a fresh ``python -m cotbench ARGS`` imports (from ``-X importtime``)."""
    res = subprocess.run([sys.executable, "-X", "importtime", "-m", "cotbench", *args], capture_output=True,
                         text=True, cwd=ROOT, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    return {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in res.stderr.splitlines()
            if line.startswith("import time:")}


def test_help_imports_no_heavy_library() -> None:
    mods = _modules_imported_by("--help")
    assert "cotbench" in mods and "typer" in mods  # the measurement sees imports at all
    assert not mods & set(HEAVY), sorted(mods & set(HEAVY))


def test_every_sub_command_help_imports_no_heavy_library() -> None:
    res = subprocess.run([sys.executable, "-c", _WALK, json.dumps(HEAVY)], capture_output=True, text=True,
                         cwd=ROOT, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    # the walk reached the nested commands, and each printed its help
    assert {"gate", "profile", "trajectory", "safety calibrate", "leaderboard build", "results show"} <= set(
        out["codes"]
    )
    assert set(out["codes"].values()) == {0}, out["codes"]
    assert out["heavy"] == []


def test_lazy_packages_still_give_their_api() -> None:
    import cotbench.analysis
    import cotbench.gate
    import cotbench.safety
    from cotbench.analysis.profile import compute_profile
    from cotbench.gate.evaluate import run_gate
    from cotbench.safety.calibrate import CalibrationReport

    assert cotbench.analysis.compute_profile is compute_profile and cotbench.gate.run_gate is run_gate
    assert cotbench.safety.CalibrationReport is CalibrationReport
    # A name shared by a function and its module gives the function, as the eager imports did.
    code = ("from cotbench.safety import calibrate; from cotbench.analysis import profile, trajectory; "
            "print(calibrate.__module__, profile.__module__, trajectory.__module__)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert res.stdout.split() == ["cotbench.safety.calibrate", "cotbench.analysis.profile",
                                  "cotbench.analysis.trajectory"], res.stderr[-2000:]


def test_trajectory_margin_default_is_the_analysis_default() -> None:
    from cotbench.analysis import cli
    from cotbench.analysis.trajectory import DEFAULT_MARGIN

    assert cli.DEFAULT_MARGIN == DEFAULT_MARGIN
    assert inspect.signature(cli.trajectory).parameters["margin"].default == DEFAULT_MARGIN
