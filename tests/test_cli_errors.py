"""Bad input through the real CLI: one clear line on stderr, exit code 2, never a traceback (issue 12:
errors and interruptions). The first tests start a cotbench process each; the rest call the same
entry point in this process."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from cotbench.cli import INTERRUPTED, run_cli
from cotbench.errors import ResultsError
from cotbench.results.store import RunDir
from tests.e2e import cli
from tests.factories import FakeTask, make_run


def _one_line_error(proc, fragment: str) -> None:  # type: ignore[no-untyped-def]
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert fragment in lines[0], lines[0]


@pytest.mark.parametrize(
    "spec, fragment",
    [
        ("hf:notarepo", "not a Hub repo id"),
        ("hf:org/name@", "empty revision"),
        ("gpt:foo", "expected a prefix"),
        ("hf:/definitely/not/here", "does not exist"),
        ("hf:org/name?dtype=fp7", "dtype must be one of"),
        ("vllm:/definitely/not/here", "optional package 'vllm'"),
        ("openai:@http://localhost:1", "missing model name"),
        ("openai:m@localhost:8000", "base URL must start with"),
        ("hf:org/name/sub folder", "invalid subfolder"),
    ],
)
def test_malformed_and_missing_specs(spec: str, fragment: str, tmp_path: Path) -> None:
    _one_line_error(cli("run", "--model", spec, "--tasks", "arithmetic", "--output", str(tmp_path)), fragment)


def test_unreachable_hub(tmp_path: Path) -> None:
    proc = cli("run", "--model", "hf:some-org/some-model@refs/pr/3", "--tasks", "arithmetic", "--output", str(tmp_path),
               env={"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")})
    _one_line_error(proc, "cannot reach the Hugging Face Hub")


def test_missing_optional_dependency(tmp_path: Path) -> None:
    model = tmp_path / "m"
    model.mkdir()
    (model / "config.json").write_text("{}")
    _one_line_error(cli("run", "--model", f"vllm:{model}", "--tasks", "arithmetic", "--output", str(tmp_path)),
                    "optional package 'vllm'")


def test_local_dir_that_is_not_a_model(tmp_path: Path) -> None:
    (tmp_path / "x.gguf").write_text("")
    _one_line_error(cli("run", "--model", f"hf:{tmp_path}", "--tasks", "arithmetic", "--output", str(tmp_path)),
                    "add ?gguf_file=x.gguf")


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--tasks", "nope"], "unknown task 'nope'"),
        (["--suite", "nope"], "unknown suite 'nope'"),
        (["--suite", "smoke", "--tasks", "arithmetic"], "either --suite or --tasks"),
        (["--limit", "0", "--tasks", "arithmetic"], "--limit must be at least 1"),
        (["--engine", "helm", "--tasks", "arithmetic"], "unknown engine 'helm'"),
        (["--steps", "a,b", "--tasks", "arithmetic"], "--steps must be integers"),
        (["--data-dir", "/no/such/dir", "--tasks", "arithmetic"], "data directory /no/such/dir does not exist"),
    ],
)
def test_bad_options(args: list[str], fragment: str, tmp_path: Path) -> None:
    _one_line_error(cli("run", "--model", "hf:/definitely/not/here", *args, "--output", str(tmp_path))
                    if "nope" in fragment else cli("run", *args, "--output", str(tmp_path)), fragment)


def test_results_show_on_missing_dir(tmp_path: Path) -> None:
    _one_line_error(cli("results", "show", str(tmp_path / "none")), "file not found")


def test_help_for_every_command() -> None:
    for cmd in ([], ["run"], ["results", "show"], ["tasks"], ["profile"], ["trajectory"], ["gate"],
                ["safety", "calibrate"], ["leaderboard", "build"], ["leaderboard", "serve"]):
        proc = cli(*cmd, "--help")
        assert proc.returncode == 0 and "Usage" in proc.stdout, (cmd, proc.stderr)


# --- in-process: the same entry point, without a new interpreter per case -------------------------------

FAKE_MODEL = "openai:fake-model@http://127.0.0.1:9"  # resolves offline; never contacted here


@dataclass
class Result:
    rc: int
    out: str
    err: str


def invoke(*args: str) -> Result:
    """``cotbench ARGS`` in this process: what ``main()`` would print and exit with."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = run_cli(list(args))
    return Result(rc, out.getvalue(), err.getvalue())


def error_line(res: Result, *fragments: str) -> str:
    """Exit code 2 and exactly one line on stderr, ``error: ...`` with every fragment in it."""
    assert res.rc == 2, (res.rc, res.out, res.err)
    assert "Traceback" not in res.out + res.err and "internal error" not in res.err, res.err
    lines = [ln for ln in res.err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), res.err
    for f in fragments:
        assert f in lines[0], lines[0]
    return lines[0]


def _one_run(root: Path, label: str = "base", **kw: object) -> RunDir:
    return make_run(root, label, {"gsm8k": FakeTask("in_domain", [[1.0], [0.0], [1.0]])}, **kw)  # type: ignore[arg-type]


# usage errors: typer's own copy of click raises them, main() used to miss them ----------------------------

@pytest.mark.parametrize("args, fragments", [
    (["run", "--limit", "abc"], ["'--limit'", "cotbench run --help"]),
    (["run", "--batch-size", "1e999"], ["'--batch-size'"]),
    (["results", "show"], ["Missing argument", "run_dir"]),
    (["run", "--bogus"], ["No such option: --bogus"]),
    (["run", "--limit"], ["'--limit' requires an argument"]),
    (["results"], ["'cotbench results' needs a command: show, schema"]),
    ([], ["'cotbench' needs a command", "run"]),
    (["nosuchcommand"], ["No such command", "nosuchcommand"]),
    (["tasks", "extra"], ["unexpected extra argument"]),
    (["results", "show", "--json=yes", "x"], ["'--json' does not take a value"]),
])
def test_usage_errors_are_one_line_exit_2(args: list[str], fragments: list[str]) -> None:
    error_line(invoke(*args), *fragments)


def test_no_subcommand_still_shows_the_help_on_stdout() -> None:
    res = invoke("results")
    assert "show" in res.out and "schema" in res.out


# OS errors: unreadable inputs, unwritable or full outputs, an output that is a file ------------------------

def test_unreadable_input_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rd = _one_run(tmp_path)
    real = Path.read_text

    def deny(self: Path, *a: object, **k: object) -> str:
        if self.name == "manifest.json":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "read_text", deny)
    error_line(invoke("results", "show", str(rd.path)), str(rd.manifest_path), "Permission denied")


def test_unreadable_samples_name_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rd = _one_run(tmp_path)
    samples = rd.task_dir("gsm8k") / "samples.jsonl"
    real = Path.open

    def deny(self: Path, *a: object, **k: object):  # type: ignore[no-untyped-def]
        if self == samples:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "open", deny)
    error_line(invoke("results", "show", str(rd.path), "--samples", "2"), str(samples), "Permission denied")


def test_full_output_disk_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = str(_one_run(tmp_path).path)
    real = os.replace

    def full(src: str, dst: str) -> None:
        if str(dst).endswith("g.json"):
            raise OSError(28, "No space left on device", str(dst))
        real(src, dst)

    monkeypatch.setattr(os, "replace", full)
    error_line(invoke("gate", "-b", base, "-c", base, "--json", str(tmp_path / "g.json")), "g.json", "No space left")


def test_reports_to_pipes_and_devices_are_written_in_place(tmp_path: Path) -> None:
    """Renaming a temp file over /dev/stdout or a FIFO would replace the node itself (as root: /dev/full)."""
    from cotbench.results.store import atomic_write_text

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    atomic_write_text(fifo, "report\n")
    reader.join(10)
    assert got == ["report\n"] and fifo.is_fifo()
    target = tmp_path / "real.md"
    target.write_text("old")
    (tmp_path / "link.md").symlink_to(target)
    atomic_write_text(tmp_path / "link.md", "new")
    assert (tmp_path / "link.md").is_symlink() and target.read_text() == "new"


def test_full_disk_during_a_run_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cotbench.results import store

    def full(self: RunDir, manifest: object) -> None:
        raise OSError(28, "No space left on device", str(self.manifest_path))

    monkeypatch.setattr(store.RunDir, "write_manifest", full)
    line = error_line(invoke("run", "-m", FAKE_MODEL, "--tasks", "arithmetic", "--limit", "1", "-o", str(tmp_path)),
                      "manifest.json", "No space left on device")
    assert "free some space" in line


def test_output_that_is_a_file(tmp_path: Path) -> None:
    f = tmp_path / "results.txt"
    f.write_text("not a folder")
    error_line(invoke("run", "-m", FAKE_MODEL, "--tasks", "arithmetic", "-o", str(f)), "--output", str(f), "is a file")
    error_line(invoke("run", "-m", FAKE_MODEL, "--tasks", "arithmetic", "-o", str(f / "sub")), "--output",
               "is a file")
    assert f.read_text() == "not a folder"


def test_unwritable_output_names_the_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = Path.mkdir

    def deny(self: Path, *a: object, **k: object) -> None:
        if tmp_path / "ro" in (self, *self.parents):
            raise PermissionError(13, "Permission denied", str(self))
        real(self, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "mkdir", deny)
    error_line(invoke("run", "-m", FAKE_MODEL, "--tasks", "arithmetic", "-o", str(tmp_path / "ro")),
               str(tmp_path / "ro"), "Permission denied")


# bugs that ended in "internal error" --------------------------------------------------------------------

@pytest.mark.parametrize("value", ["0", "-3"])
def test_batch_size_below_one(value: str, tmp_path: Path) -> None:
    error_line(invoke("run", "--tasks", "arithmetic", "--batch-size", value, "-o", str(tmp_path)),
               f"--batch-size must be at least 1, got {value}")


def test_invalid_utf8_in_samples_names_file_and_line(tmp_path: Path) -> None:
    rd = _one_run(tmp_path)
    samples = rd.task_dir("gsm8k") / "samples.jsonl"
    samples.write_bytes(samples.read_bytes() + b'{"sample_id": "\xff\xfe"}\n')
    error_line(invoke("results", "show", str(rd.path), "--samples", "9"), f"{samples}:4", "not valid UTF-8")
    with pytest.raises(ResultsError, match="samples.jsonl:4: not valid UTF-8"):
        list(rd.iter_samples("gsm8k"))


def test_trajectory_csv_with_only_a_header(tmp_path: Path) -> None:
    scores = tmp_path / "scores.csv"
    scores.write_text("step,task,score,n\n")
    error_line(invoke("trajectory", "--scores", str(scores)), str(scores), "no rows")


@pytest.mark.parametrize("port", ["-1", "65536", "99999999999999999999"])
def test_serve_port_out_of_range(port: str, tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!DOCTYPE html>")
    error_line(invoke("leaderboard", "serve", str(tmp_path), "--port", port), "--port")


HOSTILE_LABEL = "evil[/]\x1b[31mRED\x1b]0;title\x07[bold]x\r\u202e"


def test_labels_with_markup_and_escape_sequences_print_literally(tmp_path: Path) -> None:
    rd = make_run(tmp_path, HOSTILE_LABEL, {"t[b]\x1b[2J": FakeTask("in_domain", [[1.0]])}, run_id="hostile")
    res = invoke("results", "show", str(rd.path), "--samples", "1")
    assert res.rc == 0, res.err
    for bad in ("\x1b", "\x07", "\r", "\u202e"):
        assert bad not in res.out
    assert "evil[/]\\x1b[31mRED\\x1b]0;title\\x07[bold]x\\x0d\\u202e" in res.out and "t[b]\\x1b[2J" in res.out


def test_profile_trajectory_and_gate_print_hostile_labels_literally(tmp_path: Path) -> None:
    tasks = {
        "gsm8k\x1b[1m": FakeTask("in_domain", [[1.0], [0.0], [1.0]]),
        "ifeval": FakeTask("general", [[1.0], [0.0]]),
    }
    a = make_run(tmp_path, HOSTILE_LABEL, tasks, run_id="a").path
    b = make_run(tmp_path, "ref[/]\x1b[2J", tasks, run_id="b").path
    series = [make_run(tmp_path / "s", HOSTILE_LABEL, tasks, step=k, run_id=f"s{k}").path for k in (0, 1, 2)]
    for args in (
        ["profile", str(a), "-r", str(b)],
        ["trajectory", *map(str, series)],
        ["gate", "-b", str(a), "-c", str(b)],
    ):
        res = invoke(*args)
        assert res.rc == 0, (args, res.err)
        assert not any(c in res.out + res.err for c in ("\x1b", "\x07", "\r", "\u202e")), args
    assert "evil[/]\\x1b[31mRED" in invoke("profile", str(a), "-r", str(b)).out


def test_progress_lines_escape_labels(tmp_path: Path) -> None:
    from rich.console import Console

    from cotbench.progress import RichReporter

    buf = io.StringIO()
    rep = RichReporter(Console(file=buf, width=200))
    rep.start_model(HOSTILE_LABEL, tmp_path / "[/]")
    rep.task_done("t[/]", False, "boom [/] \x1b[31m")
    assert "\x1b" not in buf.getvalue() and "evil[/]" in buf.getvalue() and "boom [/]" in buf.getvalue()


def test_device_nonsense_fails_before_anything_runs(tmp_path: Path) -> None:
    error_line(invoke("run", "-m", FAKE_MODEL, "--tasks", "arithmetic", "--device", "nonsense", "-o", str(tmp_path)),
               "--device 'nonsense' is not a torch device")
    assert list(tmp_path.iterdir()) == []  # no run directory, so no task left "running"


def test_device_cuda_without_cuda(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    error_line(invoke("run", "--tasks", "arithmetic", "--device", "cuda", "-o", str(tmp_path)),
               "--device cuda: CUDA is not available", "--device cpu")


def test_device_index_and_type_are_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    error_line(invoke("run", "--tasks", "arithmetic", "--device", "cuda:3", "-o", str(tmp_path)),
               "--device cuda:3", "1 CUDA device(s)")
    error_line(invoke("run", "--tasks", "arithmetic", "--device", "meta", "-o", str(tmp_path)),
               "--device 'meta'", "not supported")
    assert list(tmp_path.iterdir()) == []


class _CrashingEngine:
    """Stands in for a harness whose model blows up mid-task (a bad device, Ctrl-C)."""

    name = "lm_eval"

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def run(self, *args: object, **kwargs: object) -> dict:
        raise self.exc


def _crash_in_engine(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> None:
    """The model answers (a fake, no network); the harness then raises ``exc`` in the main thread."""
    from cotbench import runner
    from cotbench.models import handle
    from tests.fakes import FakeGenerator

    monkeypatch.setattr(handle, "generator_factory", lambda *a, **k: FakeGenerator)
    monkeypatch.setattr(runner, "get_engine", lambda name, run_dir=None: _CrashingEngine(exc))


def _statuses(root: Path) -> list[str]:
    (rd,) = [p for p in root.iterdir() if (p / "manifest.json").is_file()]
    return [t["status"] for t in json.loads((rd / "manifest.json").read_text())["tasks"]]


def test_a_crash_mid_task_leaves_no_task_running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _crash_in_engine(monkeypatch, RuntimeError("bad device"))
    res = invoke("run", "-m", FAKE_MODEL, "--tasks", "arithmetic,boolean_logic", "--limit", "1", "-o", str(tmp_path))
    assert res.rc == 2 and "internal error: RuntimeError: bad device" in res.err
    assert _statuses(tmp_path) == ["pending", "pending"]


# bad inputs that were accepted ----------------------------------------------------------------------------

@pytest.mark.parametrize("args, fragments", [
    (["--preset", "foo", "--tasks", "arithmetic"], ["unknown --preset 'foo'", "greedy", "reasoning"]),
    (["--tasks", ""], ["'--tasks'", "empty"]),
    (["--tasks", " , "], ["--tasks", "names no task"]),
    (["--suite", ""], ["'--suite'", "empty"]),
    (["--output", "", "--tasks", "arithmetic"], ["'--output'", "empty"]),
    (["--revisions", "main,v2", "--tasks", "arithmetic"], ["--revisions applies to a Hub model", "smollm2-135m"]),
    (["-m", FAKE_MODEL, "--subfolders", "step-1", "--tasks", "arithmetic"], ["--subfolders", "openai backend"]),
    (["-m", "hf:/tmp", "--revisions", "r1", "--tasks", "arithmetic"], ["--revisions", "a local directory"]),
    (["--revisions", "", "--tasks", "arithmetic"], ["'--revisions'", "empty"]),
    (["--judge", "", "--tasks", "arithmetic"], ["'--judge'", "empty"]),
    (["--judge", "nonsense", "--tasks", "arithmetic"], ["--judge", "nonsense"]),
    (["--system-prompt", "", "--tasks", "arithmetic"], ["'--system-prompt'", "empty"]),
    (["--seed", "-1", "--tasks", "arithmetic"], ["--seed must be a non-negative integer"]),
    (["--steps", "-5", "--tasks", "arithmetic"], ["--steps must be non-negative"]),
])
def test_run_rejects_what_it_used_to_accept(args: list[str], fragments: list[str], tmp_path: Path) -> None:
    out = [] if "--output" in args else ["-o", str(tmp_path / "out")]
    error_line(invoke("run", *args, *out), *fragments)
    assert not (tmp_path / "out").exists()


def test_leaderboard_n_boot_is_no_option(tmp_path: Path) -> None:
    # bootstrap resampling is gone from the leaderboard: --n-boot 0 must not pass silently
    error_line(invoke("leaderboard", "build", str(tmp_path), "--n-boot", "0"), "No such option: --n-boot")


def test_leaderboard_workers_below_zero(tmp_path: Path) -> None:
    _one_run(tmp_path / "runs")
    error_line(invoke("leaderboard", "build", str(tmp_path / "runs"), "-o", str(tmp_path / "site"), "--workers", "-1"),
               "--workers must be 0")
    assert not (tmp_path / "site").exists()


def test_reference_map_with_unknown_names(tmp_path: Path) -> None:
    _one_run(tmp_path / "runs", "base")
    _one_run(tmp_path / "runs", "tuned")
    refs = tmp_path / "refs.yaml"
    refs.write_text("tunedd: base\n")  # a typo: used to be ignored without a word
    error_line(invoke("leaderboard", "build", str(tmp_path / "runs"), "-o", str(tmp_path / "site"),
                      "--reference-map", str(refs)), str(refs), "'tunedd'", "neither a model label nor a run id")


def test_metrics_json_that_is_a_directory_is_reported(tmp_path: Path) -> None:
    rd = make_run(tmp_path / "runs", "m", {"a": FakeTask("in_domain", [[1.0]]), "b": FakeTask("transfer", [[1.0]])})
    metrics = rd.task_dir("b") / "metrics.json"
    metrics.unlink()
    metrics.mkdir()
    assert rd.task_names() == ["a", "b"]  # listed, so that reading it says what is wrong
    error_line(invoke("results", "show", str(rd.path)), str(metrics), "not a regular file")
    from cotbench.site.data import load_entries

    entries, problems = load_entries([tmp_path / "runs"])
    assert [sorted(e.tasks) for e in entries] == [["a"]] and any(str(metrics) in p for p in problems)


# Ctrl-C --------------------------------------------------------------------------------------------------

def test_ctrl_c_says_how_to_resume_and_leaves_no_task_running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _crash_in_engine(monkeypatch, KeyboardInterrupt())
    res = invoke("run", "-m", FAKE_MODEL, "--tasks", "arithmetic", "--limit", "1", "-o", str(tmp_path))
    assert res.rc == 130
    assert res.err.strip().splitlines()[-1] == INTERRUPTED
    assert "resume" in INTERRUPTED and "saved" in INTERRUPTED
    assert _statuses(tmp_path) == ["pending"]


def test_ctrl_c_outside_a_command_too(monkeypatch: pytest.MonkeyPatch) -> None:
    import cotbench.cli as cli_mod

    def interrupted(*a: object, **k: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_mod, "app", interrupted)
    res = invoke("tasks")
    assert res.rc == 130 and INTERRUPTED in res.err


# two runs into one run directory ----------------------------------------------------------------------------

def test_run_directory_lock_is_exclusive(tmp_path: Path) -> None:
    rd = RunDir(tmp_path / "r")
    with rd.locked():
        with pytest.raises(ResultsError, match=f"run directory {rd.path} is in use by another cotbench run"):
            with rd.locked():
                pass
    with rd.locked():  # released
        pass


def test_a_second_run_into_the_same_directory_fails_fast(tmp_path: Path) -> None:
    from cotbench.models.resolve import resolve
    from cotbench.models.spec import parse_spec
    from cotbench.runner import run_id_for

    rd = RunDir(tmp_path / run_id_for(resolve(parse_spec(FAKE_MODEL))))
    with rd.locked():
        error_line(invoke("run", "-m", FAKE_MODEL, "--tasks", "arithmetic", "-o", str(tmp_path)),
                   str(rd.path), "in use by another cotbench run")
    assert not rd.manifest_path.exists()


def test_the_lock_holds_across_processes(tmp_path: Path) -> None:
    rd = RunDir(tmp_path / "r")
    code = ("import sys; from cotbench.results.store import RunDir\n"
            "with RunDir(sys.argv[1]).locked():\n    print('held', flush=True); sys.stdin.read()\n")
    holder = subprocess.Popen([sys.executable, "-c", code, str(rd.path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[1])
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(ResultsError, match="in use"):
            with rd.locked():
                pass
    finally:
        holder.communicate("")
    with rd.locked():
        pass


# the leaderboard --------------------------------------------------------------------------------------------

def test_build_skips_an_unreadable_run_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runs = tmp_path / "runs"
    good = _one_run(runs, "good")
    bad_utf8 = _one_run(runs, "bad-utf8")
    samples = bad_utf8.task_dir("gsm8k") / "samples.jsonl"
    samples.write_bytes(b"\xff" + samples.read_bytes())
    locked = _one_run(runs, "no-access")
    real = Path.is_file

    def deny(self: Path) -> bool:
        if self == locked.manifest_path:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "is_file", deny)
    res = invoke("leaderboard", "build", str(runs), "-o", str(tmp_path / "site"), "--workers", "0")
    assert res.rc == 0, res.err
    assert f"skipped: {samples}:1: not valid UTF-8" in res.err
    assert f"skipped: {locked.path}: cannot read (Permission denied)" in res.err
    assert "for 2 run(s)" in res.out  # good, and bad-utf8 without its sample pages; no-access skipped
    assert good.path.name not in res.err


def _serve(site: Path):  # type: ignore[no-untyped-def]
    from cotbench.site.cli import make_server

    server = make_server(site, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def test_serve_sends_a_strict_csp_and_lists_no_directories(tmp_path: Path) -> None:
    from cotbench.site.build import CSP, build_site

    _one_run(tmp_path / "runs")
    site = tmp_path / "site"
    build_site([tmp_path / "runs"], site, workers=0)
    pages = [p.read_text() for p in site.rglob("*.html")]
    # what the policy must allow: no inline script or style anywhere, only the site's own files
    assert not any("<style" in h or " style=" in h or "<script>" in h or " on" + "load=" in h for h in pages)
    assert all(f'content="{CSP}"'.replace("'", "&#39;") in h for h in pages)
    server, url = _serve(site)
    try:
        with urllib.request.urlopen(f"{url}/index.html", timeout=10) as resp:
            csp = resp.headers["Content-Security-Policy"]
            assert resp.status == 200 and resp.headers["X-Content-Type-Options"] == "nosniff"
        assert csp.startswith(CSP) and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        for folder in ("/assets/", "/models/", "/samples/"):
            with pytest.raises(urllib.error.HTTPError) as exc:
                urllib.request.urlopen(url + folder, timeout=10)
            assert exc.value.code == 404 and exc.value.headers["Content-Security-Policy"]
        with urllib.request.urlopen(f"{url}/", timeout=10) as resp:  # a folder with index.html still serves it
            assert resp.status == 200
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("label", ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_leaderboard_csv_neutralises_formulas(label: str, tmp_path: Path) -> None:
    from cotbench.site.build import build_site, csv_cell

    make_run(tmp_path / "runs", label, {"gsm": FakeTask("in_domain", [[1.0], [0.0]])}, run_id="r1")
    build_site([tmp_path / "runs"], tmp_path / "site", workers=0, samples=False)
    with (tmp_path / "site" / "leaderboard.csv").open(newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["model"] == "'" + label.replace("\r", "\n")
    assert row["in_domain"] == "0.5"  # numbers stay numbers
    assert json.loads((tmp_path / "site" / "leaderboard.json").read_text())[0]["model"] == label  # JSON is data
    assert csv_cell("-0.5") == "-0.5" and csv_cell(-0.5) == -0.5 and csv_cell("+3e-2") == "+3e-2"
    assert csv_cell("-") == "'-" and csv_cell("plain") == "plain" and csv_cell(None) is None


# --data-dir without the task's folder --------------------------------------------------------------------------

def test_data_dir_without_the_task_folder_says_so_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets
    import huggingface_hub

    def no_network(*a: object, **k: object) -> None:
        raise AssertionError("reached for the Hub although a data dir was given")

    monkeypatch.setattr(datasets, "load_dataset", no_network)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", no_network)
    for task in ("bbh_navigate", "livecodebench", "mmlu_pro", "xstest_safe"):
        error_line(invoke("run", "--tasks", task, "--data-dir", str(tmp_path), "-o", str(tmp_path / "out")),
                   str(tmp_path))
    error_line(invoke("run", "--tasks", "gsm8k", "--data-dir", str(tmp_path), "-o", str(tmp_path / "out")),
               "has no folder gsm8k/", str(tmp_path / "gsm8k"), "test.jsonl", "without --data-dir")


def test_data_dir_that_is_a_file(tmp_path: Path) -> None:
    f = tmp_path / "data.zip"
    f.write_bytes(b"PK")
    error_line(invoke("run", "--tasks", "gsm8k", "--data-dir", str(f), "-o", str(tmp_path)), "--data-dir", "is a file")


# lm-eval's git provenance ----------------------------------------------------------------------------------

def test_no_git_complaint_outside_a_checkout(tmp_path: Path) -> None:
    """lm-eval runs ``git describe`` with the terminal as stderr; outside a checkout that printed
    "fatal: not a git repository" on every run."""
    repo = Path(__file__).resolve().parents[1]
    code = ("import lm_eval.evaluator as ev\n"
            "from cotbench.runner import get_engine\n"
            "get_engine('lm_eval')\n"
            "print(repr(ev.get_git_commit_hash()))\n")
    env = {**os.environ, "PYTHONPATH": str(repo), "GIT_CEILING_DIRECTORIES": str(tmp_path.parent)}

    def python(source: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", source], cwd=tmp_path, capture_output=True, text=True, env=env,
                              timeout=600)

    import shutil

    if shutil.which("git"):  # the complaint this guards against is real here
        unpatched = python("import lm_eval.evaluator as ev; ev.get_git_commit_hash()")
        assert "not a git repository" in unpatched.stderr, unpatched.stderr
    proc = python(code)
    assert proc.returncode == 0, proc.stderr
    assert "fatal" not in proc.stderr and "not a git repository" not in proc.stderr, proc.stderr
    assert proc.stdout.strip() == "None"


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_a_real_sigint_mid_run(tmp_path: Path, signame: str) -> None:
    """The signal itself (Ctrl-C, or a scheduler's SIGTERM), in a separate cotbench process whose
    model is slow (a fake, no network): exit code 130, the resume line, and the manifest says
    pending, not running."""
    import signal
    import time

    script = tmp_path / "slow_run.py"
    script.write_text(
        "import sys, time\n"
        "from cotbench.models import handle\n"
        "from tests.fakes import FakeGenerator\n"
        "class Slow(FakeGenerator):\n"
        "    def generate(self, requests):\n"
        "        time.sleep(5)\n"
        "        return super().generate(requests)\n"
        "handle.generator_factory = lambda *a, **k: Slow\n"
        "from cotbench.cli import main\n"
        "main(sys.argv[1:])\n")
    out = tmp_path / "out"
    repo = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen([sys.executable, str(script), "run", "-m", FAKE_MODEL, "--tasks", "arithmetic",
                             "--limit", "2", "-o", str(out)], cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(repo)})
    try:
        deadline = time.time() + 300
        while time.time() < deadline and proc.poll() is None:
            manifests = list(out.glob("*/manifest.json"))
            if manifests and '"running"' in manifests[0].read_text():
                break
            time.sleep(0.2)
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.5)
        started = time.time()
        proc.send_signal(getattr(signal, signame))
        stdout, stderr = proc.communicate(timeout=120)
        assert time.time() - started < 20  # it exits at once, not after the generation in flight
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, (proc.returncode, stderr)
    assert stderr.strip().splitlines()[-1] == INTERRUPTED and "Traceback" not in stderr
    assert _statuses(out) == ["pending"]
