"""Plugins: a separate package adds a scorer through the ``cotbench`` entry-point group, a task
from an ``--include-path`` folder uses it, and ``cotbench run`` scores with it; a broken plugin
is one line naming its entry point."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cotbench.paths import tasks_dir
from tests.e2e import cli, run_dir
from tests.fake_server import FakeServer

PLUGIN = '''
"""A scorer from outside cotbench: 1 when the answer mentions ``word``."""

from cotbench.scoring.base import Score, Scorer, scorer


@scorer("mentions", metrics=("accuracy",))
def mentions(*, word: str, times: int = 1) -> Scorer:
    def score(answer, target, item, truncated):
        n = answer.lower().count(word.lower())
        return Score(float(n >= times), extracted=str(n), details={"plugin": "mentions"})

    return score
'''


def _pyproject(name: str, module: str, entry: str) -> str:
    return textwrap.dedent(f"""\
        [build-system]
        requires = ["setuptools"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "{name}"
        version = "0.1"

        [tool.setuptools]
        py-modules = ["{module}"]

        [project.entry-points.cotbench]
        {entry} = "{module}"
        """)


def install_plugin(tmp: Path, name: str, module: str, source: str, entry: str = "demo") -> Path:
    """Build ``module`` as the distribution ``name`` (entry point ``entry``) and install it into
    a folder of its own; returns the folder to put on ``PYTHONPATH``."""
    src = tmp / f"{name}-src"
    src.mkdir()
    (src / "pyproject.toml").write_text(_pyproject(name, module, entry))
    (src / f"{module}.py").write_text(source)
    target = tmp / f"{name}-site"
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                           "--no-build-isolation", "--target", str(target), str(src)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    dist = name.replace("-", "_")  # the dist-info folder's name is normalised
    assert (target / f"{dist}-0.1.dist-info" / "entry_points.txt").is_file(), sorted(p.name for p in target.iterdir())
    return target


def _task_yaml(scorer: str) -> str:
    return textwrap.dedent(f"""\
        include: {tasks_dir() / "_cotbench_task_yaml"}
        task: cotbench_plugin_arithmetic
        metadata:
          version: 1
          cotbench:
            name: plugin_arithmetic
            domain: in_domain
            description: Arithmetic probes scored by a plugin's scorer.
            scorer: {scorer}
            source: {{kind: probe, loader: arithmetic, n: 3, seed: 2}}
            prompt: |-
              Calculate {{expression}}.
              Think step by step, then give the final answer as an integer in \\boxed{{{{}}}}.
            presets:
              greedy: {{temperature: 0.0, max_tokens: 64}}
            default_preset: greedy
        """)


@pytest.fixture(scope="module")
def plugin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return install_plugin(tmp_path_factory.mktemp("plugin"), "cotbench-plugin-demo", "cotbench_plugin_demo", PLUGIN)


def test_a_plugin_scorer_scores_a_task_from_an_include_path(plugin: Path, tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    folder.mkdir()
    (folder / "plugin_arithmetic.yaml").write_text(_task_yaml("{name: mentions, args: {word: answer}}"))
    env = {"PYTHONPATH": str(plugin)}
    listed = cli("tasks", "--include-path", str(folder), env=env)
    assert listed.returncode == 0 and "plugin_arithmetic" in listed.stdout, listed.stderr[-2000:]
    with FakeServer() as server:  # answers "...The answer is \boxed{N}"
        for engine in ("lm_eval", "inspect"):
            out = tmp_path / engine
            proc = cli("run", "--model", f"openai:fake@{server.url}", "--tasks", "plugin_arithmetic",
                       "--engine", engine, "--include-path", str(folder), "--output", str(out), env=env)
            assert proc.returncode == 0, proc.stderr[-3000:]
            d = run_dir(out) / "tasks" / "plugin_arithmetic"
            metrics = json.loads((d / "metrics.json").read_text())
            assert metrics["task"]["scorer"] == "mentions(word='answer')"
            assert metrics["metrics"]["score"]["value"] == 1.0 and metrics["n_items"] == 3
            records = [json.loads(line) for line in (d / "samples.jsonl").read_text().splitlines()]
            assert [(r["extracted"], r["details"]["plugin"]) for r in records] == [("1", "mentions")] * 3
    # The same scorer asked to see the word twice: every answer says it once.
    (folder / "plugin_arithmetic.yaml").write_text(_task_yaml("{name: mentions, args: {word: answer, times: 2}}"))
    with FakeServer() as server:
        proc = cli("run", "--model", f"openai:fake@{server.url}", "--tasks", "plugin_arithmetic",
                   "--include-path", str(folder), "--output", str(tmp_path / "twice"), env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads((run_dir(tmp_path / "twice") / "tasks" / "plugin_arithmetic" / "metrics.json").read_text())
    assert metrics["metrics"]["score"]["value"] == 0.0


def _one_error_line(proc: subprocess.CompletedProcess[str], *fragments: str) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-1000:], proc.stderr[-2000:])
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in proc.stderr, proc.stderr
    for f in fragments:
        assert f in lines[0], lines[0]
    return lines[0]


def test_bad_arguments_to_a_plugin_scorer_name_the_task_file(plugin: Path, tmp_path: Path) -> None:
    path = tmp_path / "plugin_arithmetic.yaml"
    env = {"PYTHONPATH": str(plugin)}
    for scorer, fragment in (("{name: mentions, args: {word: answer, color: red}}", "unknown argument 'color'"),
                             ("{name: mentions, args: {word: answer, times: two}}", "argument 'times'"),
                             ("mentions", "missing argument 'word'")):
        path.write_text(_task_yaml(scorer))
        proc = cli("tasks", "--include-path", str(tmp_path), env=env)
        _one_error_line(proc, str(path), "scorer 'mentions'", fragment)


def test_a_broken_plugin_is_one_line_naming_its_entry_point(tmp_path: Path) -> None:
    broken = install_plugin(tmp_path, "cotbench-plugin-broken", "cotbench_plugin_broken",
                            "import a_module_that_is_not_installed\n", entry="broken_demo")
    line = _one_error_line(cli("tasks", env={"PYTHONPATH": str(broken)}), "cotbench plugin 'broken_demo'",
                           "cotbench_plugin_broken", "ModuleNotFoundError")
    assert "a_module_that_is_not_installed" in line


def test_a_plugin_cannot_shadow_a_builtin_scorer(tmp_path: Path) -> None:
    source = PLUGIN.replace('@scorer("mentions"', '@scorer("exact"')
    clash = install_plugin(tmp_path, "cotbench-plugin-clash", "cotbench_plugin_clash", source, entry="clash")
    _one_error_line(cli("tasks", env={"PYTHONPATH": str(clash)}), "cotbench plugin 'clash'",
                    "scorer 'exact' is registered twice", "cotbench.scoring.exact", "cotbench_plugin_clash")
