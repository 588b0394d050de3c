"""Bad values for every option and argument of every command, found by walking the typer app.

Each value is either valid for its parameter (the command then succeeds) or invalid; an
invalid one must end in exactly one ``error: ...`` line naming the option (or the file), exit
code 2, no traceback, no ``internal error``, nothing heavy started (no evaluation, figure,
site rendering or server: validation comes first), and not one byte of the results directory
changed. Which values are valid is written down below for every parameter; a parameter missing
from that table fails ``test_every_parameter_is_classified``, so new options get fuzzed too.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer.main

from cotbench.cli import app
from cotbench.errors import printable
from tests.factories import FakeTask, make_run
from tests.fake_hub import FakeHub, Token
from tests.test_cli_errors import FAKE_MODEL, invoke

FUZZ_TOKEN = "hf_fuzz_token"

# -- the values ---------------------------------------------------------------------------------------------

KINDS = ("empty", "text", "neg", "zero", "huge", "missing", "dir", "badutf8", "markup", "esc")
PATH_KINDS = {"missing", "dir", "badutf8"}


def values(scratch: Path) -> dict[str, str]:
    """Fresh for each case: a command that writes (validly) must not change what the next one sees."""
    (scratch / "empty-dir").mkdir()
    (scratch / "bad-utf8.txt").write_bytes(b"\xff\xfe\x00not utf-8 \xc3\x28\n")
    return {"empty": "", "text": "abc", "neg": "-1", "zero": "0", "huge": "1e999",
            "missing": str(scratch / "no-such-path"), "dir": str(scratch / "empty-dir"),
            "badutf8": str(scratch / "bad-utf8.txt"), "markup": "[/]", "esc": "\x1b[31m"}


# -- which values are valid, per parameter ---------------------------------------------------------------------

NONE: frozenset[str] = frozenset()
ZERO = frozenset({"zero"})
# A folder that is written: any name that is not empty and not an existing file will do.
OUT_DIR = frozenset({"text", "neg", "zero", "huge", "missing", "dir", "markup", "esc"})
# A file that is written: any name that is not empty and not a folder.
OUT_FILE = frozenset({"text", "neg", "zero", "huge", "missing", "badutf8", "markup", "esc"})
ANY_TEXT = frozenset(KINDS) - {"empty"}
FLAG = "flag"  # takes no value: --flag=VALUE is always a usage error

VALID: dict[tuple[str, str], frozenset[str] | str] = {
    ("", "version"): FLAG,
    ("run", "model"): NONE,
    ("run", "suite"): NONE,
    ("run", "tasks"): NONE,
    ("run", "limit"): NONE,
    ("run", "output"): OUT_DIR,
    ("run", "engine"): NONE,
    ("run", "preset"): NONE,
    ("run", "seed"): ZERO,
    ("run", "max_tokens"): NONE,
    ("run", "revisions"): NONE,
    ("run", "subfolders"): NONE,  # the base model is an API model: it has none
    ("run", "steps"): ZERO,  # one checkpoint, step 0
    ("run", "data_dir"): frozenset({"dir"}),  # probes need no files, so any folder is fine
    ("run", "include_path"): frozenset({"dir"}),
    ("tasks", "include_path"): frozenset({"dir"}),  # any folder
    ("run", "judge"): NONE,
    ("run", "system_prompt"): ANY_TEXT,
    ("run", "device"): NONE,
    ("run", "batch_size"): NONE,
    ("run", "ray"): NONE,  # no value is a cluster address; valid ones would start Ray
    ("run", "gpus_per_model"): ZERO,  # the default: no --ray needed
    ("run", "cpus_per_unit"): NONE,
    ("run", "memory_per_unit"): NONE,  # only with --ray
    ("run", "ray_unit"): NONE,
    ("run", "wandb"): frozenset({"text", "neg", "zero", "huge"}),  # a project name: no "/" (W&B offline here)
    ("run", "mlflow"): frozenset({"text", "neg", "zero", "huge", "missing", "dir", "markup"}),  # a store folder
    ("run", "tracker_strict"): FLAG,
    # import reads an lm-eval output folder written by lm-eval itself (tests/test_import_runs.py)
    ("import", "paths"): NONE,
    ("import", "output"): OUT_DIR,
    ("import", "domain"): NONE,  # TASK=DOMAIN only
    ("import", "data_dir"): frozenset({"dir"}),
    ("import", "allow_incomplete"): FLAG,
    ("import", "tokenizer"): NONE,  # no value is a tokenizer folder
    ("import", "label"): ANY_TEXT - {"esc"},
    ("import", "step"): ZERO,
    ("run", "push_to_hub"): NONE,  # no value is namespace/name
    ("run", "push_private"): FLAG,
    ("results show", "run_dir"): NONE,
    ("results show", "as_json"): FLAG,
    ("results show", "samples"): ZERO,
    ("profile", "run"): NONE,
    ("profile", "reference"): NONE,
    ("profile", "json_out"): FLAG,
    ("profile", "figure_dir"): OUT_DIR,
    ("profile", "allow_mismatch"): NONE,
    ("trajectory", "runs"): NONE,
    ("trajectory", "reference"): NONE,
    ("trajectory", "scores"): NONE,
    ("trajectory", "json_out"): FLAG,
    ("trajectory", "figure_dir"): OUT_DIR,
    ("trajectory", "step_override"): NONE,  # one step for three runs, or not a step list at all
    ("trajectory", "allow_mismatch"): NONE,
    ("trajectory", "margin"): ZERO,
    ("gate", "baseline"): NONE,
    ("gate", "candidate"): NONE,
    ("gate", "policy"): NONE,
    ("gate", "output"): OUT_DIR,
    ("gate", "json_path"): OUT_FILE,
    ("gate", "junit"): OUT_FILE,
    ("gate", "markdown"): OUT_FILE,
    ("gate", "quiet"): FLAG,
    ("gate", "allow_mismatch"): NONE,
    ("safety calibrate", "labels"): NONE,
    ("safety calibrate", "as_json"): FLAG,
    ("safety calibrate", "judge"): NONE,  # no value is a judge (a valid one would reach a model)
    ("leaderboard build", "results"): NONE,
    ("leaderboard build", "output"): OUT_DIR,
    ("leaderboard build", "reference_map"): NONE,
    ("leaderboard build", "title"): ANY_TEXT - {"esc"},  # shown in every page's <title>: no control characters
    ("leaderboard build", "samples"): FLAG,
    ("leaderboard build", "strict"): FLAG,
    ("leaderboard build", "workers"): ZERO,
    ("leaderboard build", "allow_mismatch"): NONE,
    ("leaderboard build", "redact_paths"): FLAG,
    ("leaderboard serve", "site"): NONE,
    ("leaderboard serve", "port"): ZERO,
    # push / pull talk to a local stand-in for the Hub (tests/fake_hub.py) holding the base run
    ("push", "run_dirs"): NONE,
    ("push", "repo"): NONE,
    ("push", "token"): NONE,  # no value is a token it knows
    ("push", "private"): FLAG,
    ("push", "redact_paths"): FLAG,
    ("push", "revision"): frozenset({"text", "zero", "huge"}),  # git branch names
    ("push", "include_cache"): FLAG,
    ("push", "message"): ANY_TEXT,
    ("pull", "repo"): NONE,
    ("pull", "dest"): OUT_DIR,
    ("pull", "run"): NONE,
    ("pull", "revision"): NONE,
    ("pull", "token"): NONE,
    ("pull", "include_cache"): FLAG,
    ("pull", "overwrite"): FLAG,
    ("export", "run_dir"): NONE,
    ("export", "fmt"): NONE,
    ("export", "out"): OUT_DIR,
    ("export", "samples"): FLAG,
    ("export", "model_name"): ANY_TEXT,
    ("export", "source_url"): NONE,  # an http(s) URL
}
PATH_PARAMS = {  # a message may name the file given instead of the option
    ("results show", "run_dir"),
    ("profile", "run"),
    ("profile", "reference"),
    ("trajectory", "runs"),
    ("trajectory", "reference"),
    ("trajectory", "scores"),
    ("gate", "baseline"),
    ("gate", "candidate"),
    ("gate", "policy"),
    ("safety calibrate", "labels"),
    ("leaderboard build", "results"),
    ("leaderboard build", "reference_map"),
    ("leaderboard serve", "site"),
    ("run", "data_dir"),
    ("run", "include_path"),
    ("tasks", "include_path"),
    ("run", "model"),
    ("run", "judge"),
    ("push", "run_dirs"),
    ("export", "run_dir"),
    ("import", "paths"),
}


def _walk() -> Iterator[tuple[str, Any]]:
    """(command path, click command or group) for every command of the app, groups included."""
    def walk(cmd: Any, path: list[str]) -> Iterator[tuple[str, Any]]:
        yield " ".join(path), cmd
        for name, sub in sorted(getattr(cmd, "commands", {}).items()):
            yield from walk(sub, [*path, name])

    yield from walk(typer.main.get_command(app), [])


COMMANDS = dict(_walk())
PARAMS = [(path, p) for path, cmd in COMMANDS.items() for p in cmd.params]


# -- the world the commands run in -------------------------------------------------------------------------------

@dataclass
class World:
    results: Path  # every run; must not change, byte for byte, when a command fails
    base: Path
    ref: Path
    series: list[Path]
    site: Path
    calls: list[str]  # heavy work that started (stubbed): must stay empty for invalid values
    prepared: dict[str, str]  # the results as the fixture wrote them: no command may change them
    hub: Any = None  # the stand-in for the Hub that push and pull reach
    lm_eval_out: Path | None = None  # an lm-eval output folder for import

    def base_args(self, command: str) -> list[str]:
        r = self.results
        return {
            "": ["tasks"],
            "tasks": ["tasks"],
            "results schema": ["results", "schema"],
            "run": ["run", "-m", FAKE_MODEL, "--tasks", "arithmetic", "--limit", "1", "-o", str(r)],
            "results show": ["results", "show", str(self.base)],
            "profile": ["profile", str(self.base), "--reference", str(self.ref)],
            "trajectory": ["trajectory", *map(str, self.series)],
            "gate": ["gate", "-b", str(self.base), "-c", str(self.base)],
            "safety calibrate": ["safety", "calibrate"],
            "leaderboard build": ["leaderboard", "build", str(self.base), str(self.ref), "-o", "site-out"],
            "leaderboard serve": ["leaderboard", "serve", str(self.site), "--port", "0"],
            "push": ["push", str(self.base), "--repo", "org/fuzz"],
            "pull": ["pull", "--repo", "org/fuzz", "--dest", "pulled"],
            "export": ["export", str(self.base), "--format", "model-index", "--out", "exported"],
            "import": ["import", str(self.lm_eval_out), "-o", str(r)],
        }[command]


def _snapshot(root: Path) -> dict[str, str]:
    out = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        out[rel] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("fuzz")
    results = root / "results"
    tasks = {"gsm8k": FakeTask("in_domain", [[1.0], [0.0], [1.0], [1.0]]),
             "mmlu_pro": FakeTask("general", [[1.0], [0.0], [0.0], [1.0]])}
    base = make_run(results, "acme/tuned", tasks).path
    ref = make_run(results, "acme/base", tasks).path
    series = [make_run(results, "acme/ckpt", tasks, step=s).path for s in (0, 100, 200)]
    site = root / "site"
    site.mkdir()
    (site / "index.html").write_text("<!DOCTYPE html><title>site</title>\n")
    calls: list[str] = []

    def stub(name: str, result: Any = None) -> Callable[..., Any]:
        def heavy(*args: Any, **kwargs: Any) -> Any:
            calls.append(name)
            return result
        return heavy

    import http.server

    from cotbench import runner
    from cotbench.analysis import figures
    from cotbench.site import build

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(runner, "_evaluate", stub("evaluate"))  # loading the model and generating
        mp.setattr(figures, "profile_figures", stub("figures", []))
        mp.setattr(figures, "trajectory_figures", stub("figures", []))
        mp.setattr(build, "_render", stub("render"))
        mp.setattr(http.server.ThreadingHTTPServer, "serve_forever", stub("serve"))
        mp.delenv("GITHUB_STEP_SUMMARY", raising=False)
        mp.delenv("COTBENCH_DATA_DIR", raising=False)
        mp.delenv("COTBENCH_DEBUG", raising=False)
        mp.setenv("WANDB_MODE", "offline")  # a valid --wandb logs, never to the network
        with FakeHub({FUZZ_TOKEN: Token("fuzz", namespaces=("org",))}) as hub:
            from huggingface_hub import constants

            from cotbench.hub.push import push_runs

            with pytest.MonkeyPatch.context() as online:  # tests run with HF_HUB_OFFLINE=1 (conftest)
                online.setattr(constants, "HF_HUB_OFFLINE", False)
                push_runs([base], "org/fuzz", token=FUZZ_TOKEN, endpoint=hub.url)
            from tests.test_import_runs import write_lm_eval

            lm_eval_out = write_lm_eval(root / "lm_eval", "acme/imported", True)
            yield World(results, base, ref, series, site, calls, _snapshot(results), hub, lm_eval_out)


def _online(monkeypatch: pytest.MonkeyPatch, hub: Any, home: Path) -> None:
    """huggingface_hub pointed at the stand-in, with its token and no login or cache of the machine's."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "ENDPOINT", hub.url)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", hub.url + "/{repo_id}/resolve/{revision}/{filename}")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(home / "token"))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(home / "hub"))
    monkeypatch.setenv("HF_TOKEN", FUZZ_TOKEN)


# -- one case -------------------------------------------------------------------------------------------------------

def _args(w: World, command: str, param: Any, value: str) -> list[str]:
    """The command's working arguments with ``param`` set to ``value`` (and what conflicts with it dropped)."""
    args = w.base_args(command)
    n_cmd = len(command.split()) if command else 0
    head, rest = args[:n_cmd], args[n_cmd:]
    if command == "run" and param.name in ("suite",):
        rest = [a for i, a in enumerate(rest) if a != "--tasks" and (i == 0 or rest[i - 1] != "--tasks")]
    if command == "trajectory" and param.name == "scores":
        rest = []
    if param.param_type_name == "argument":
        options = [a for a in rest if not _is_positional(w, command, a)]
        return [*head, *options, "--", value]
    if getattr(param, "is_flag", False):
        return [*head, *rest, f"{param.opts[0]}={value}"]
    for opt in param.opts:  # replace the base value of this option, if the base sets it
        if opt in rest:
            i = rest.index(opt)
            rest = rest[:i] + rest[i + 2:]
    return [*head, *rest, param.opts[0], value]


def _is_positional(w: World, command: str, arg: str) -> bool:
    positional = {"results show": [str(w.base)], "profile": [str(w.base)], "trajectory": list(map(str, w.series)),
                  "push": [str(w.base)], "export": [str(w.base)], "import": [str(w.lm_eval_out)],
                  "leaderboard build": [str(w.base), str(w.ref)], "leaderboard serve": [str(w.site)]}
    return arg in positional.get(command, [])


def _names(command: str, param: Any, value: str) -> list[str]:
    """What the error line may name: the option (long form), the argument, or the file given."""
    names = [o for o in (*param.opts, *param.secondary_opts) if o.startswith("--")]
    if param.param_type_name == "argument":
        names += [param.name, param.name.upper()]
    if (command, param.name) in PATH_PARAMS and value.strip():
        names.append(printable(value))
    return names


def _check(w: World, command: str, param: Any, kind: str, scratch: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    value = values(scratch)[kind]
    monkeypatch.chdir(scratch)
    if command in ("push", "pull"):
        _online(monkeypatch, w.hub, scratch.parent / f"hf-home-{kind}")
    args = _args(w, command, param, value)
    valid_kinds = VALID[(command, param.name)]
    valid = valid_kinds != FLAG and kind in valid_kinds
    before = _snapshot(w.results)
    w.calls.clear()
    res = invoke(*args)
    shown = f"{args!r}: rc={res.rc}\nstdout: {res.out[-2000:]}\nstderr: {res.err[-2000:]}"
    assert "Traceback" not in res.out + res.err, shown
    assert "internal error" not in res.err, shown
    assert "\x1b" not in res.out + res.err, f"an escape sequence reached the terminal: {shown}"
    after = _snapshot(w.results)
    # valid runs may add to their own run directory; what the fixture wrote stays as it was
    assert {k: v for k, v in after.items() if k in w.prepared} == w.prepared, f"existing results changed: {shown}"
    if valid:
        assert res.rc == 0, f"a valid value was refused: {shown}"
        return
    assert res.rc == 2, f"an invalid value was not refused with exit code 2: {shown}"
    lines = [ln for ln in res.err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), f"not one error line: {shown}"
    names = _names(command, param, value)
    assert any(n in lines[0] for n in names), f"the message names none of {names}: {shown}"
    assert w.calls == [], f"validation came after {w.calls}: {shown}"
    assert after == before, f"files appeared in the results: {sorted(set(after) - set(before))}: {shown}"


def _ids() -> list[str]:
    return [f"{c or 'cotbench'}:{p.name}" for c, p in PARAMS]


@pytest.mark.parametrize("command, param", PARAMS, ids=_ids())
def test_bad_values(command: str, param: Any, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for kind in KINDS:
        scratch = tmp_path / kind
        scratch.mkdir()
        _check(world, command, param, kind, scratch, monkeypatch)


def test_every_parameter_is_classified() -> None:
    seen = {(c, p.name) for c, p in PARAMS}
    assert seen == set(VALID), {"unclassified": sorted(seen - set(VALID)), "gone": sorted(set(VALID) - seen)}
    for (c, name), kinds in VALID.items():
        param = next(p for cc, p in PARAMS if (cc, p.name) == (c, name))
        assert (kinds == FLAG) == bool(getattr(param, "is_flag", False)), (c, name)


@pytest.mark.parametrize("command", [c for c in COMMANDS], ids=[c or "cotbench" for c in COMMANDS])
def test_unknown_option_and_extra_arguments(command: str, world: World, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    head = command.split() if command else []
    before = _snapshot(world.results)
    for args, fragment in (([*head, "--no-such-option"], "--no-such-option"),
                           ([*head, "--no-such-option=\x1b[31m"], "--no-such-option"),
                           ([*head, "-Z"], "-Z")):
        res = invoke(*args)
        lines = [ln for ln in res.err.splitlines() if ln.strip()]
        assert res.rc == 2 and len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], \
            (args, res.rc, res.err)
        assert "\x1b" not in res.err
    cmd = COMMANDS[command]
    takes_args = any(p.param_type_name == "argument" and p.nargs == -1 for p in cmd.params)
    if not hasattr(cmd, "commands") and not takes_args:
        res = invoke(*world.base_args(command), "surplus")
        assert res.rc == 2 and "unexpected extra argument" in res.err and "surplus" in res.err, (command, res.err)
    assert _snapshot(world.results) == before
    assert {k: v for k, v in before.items() if k in world.prepared} == world.prepared


def test_the_fuzz_can_fail(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Against a check removed, the same case fails: the assertions above are not vacuous."""
    from cotbench import cli

    param = next(p for c, p in PARAMS if (c, p.name) == ("run", "batch_size"))
    monkeypatch.setattr(cli, "_check_run_options", lambda *a, **k: None)
    scratch = tmp_path / "s"
    scratch.mkdir()
    with pytest.raises(AssertionError, match="validation came after|not refused|internal error"):
        _check(world, "run", param, "zero", scratch, monkeypatch)


def test_counts(capsys: pytest.CaptureFixture[str]) -> None:
    """How many bad inputs the fuzz tries (printed with -s; kept here so the number is on record)."""
    invalid = sum(1 for c, p in PARAMS for k in KINDS
                  if VALID[(c, p.name)] == FLAG or k not in VALID[(c, p.name)])
    generic = 3 * len(COMMANDS) + sum(1 for c in COMMANDS if not hasattr(COMMANDS[c], "commands"))
    assert invalid > 300
    with capsys.disabled():
        print(f"\n[cli fuzz] {len(PARAMS)} parameters x {len(KINDS)} values: {invalid} invalid, "
              f"{len(PARAMS) * len(KINDS) - invalid} valid; plus about {generic} unknown-option/extra-argument cases")
    assert os.environ.get("COTBENCH_DEBUG") is None
