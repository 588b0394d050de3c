"""Bad input through the real CLI: one clear line on stderr, exit code 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e import cli


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
