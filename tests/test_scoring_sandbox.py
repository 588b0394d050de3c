"""The code sandbox contains runaway and misbehaving programs, and scoring continues after."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cotbench.scoring import sandbox
from cotbench.scoring.sandbox import CodeTest, IOTest, Limits, run_tests

FAST = Limits(timeout_s=3)


def _sandbox_processes() -> list[int]:
    """PIDs of processes still running the sandbox child script."""
    marker = str(sandbox._CHILD_SCRIPT).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _healthy() -> None:
    result = run_tests("def inc(x):\n    return x + 1\n", [CodeTest("assert inc(1) == 2")], FAST)
    assert result.all_passed and result.status == "ok"


def test_passing_and_partially_passing_programs() -> None:
    program = "def double(x):\n    return x * 2 if x < 10 else x\n"
    tests = [CodeTest("assert double(1) == 2"), CodeTest("assert double(3) == 6"), CodeTest("assert double(20) == 40")]
    result = run_tests(program, tests, FAST)
    assert result.status == "ok" and result.outcomes == [True, True, False]
    assert result.passed == 2 and not result.all_passed
    assert "AssertionError" in (result.error or "")


def test_syntax_error_fails_every_test() -> None:
    result = run_tests("def broken(:\n", [CodeTest("assert True"), CodeTest("assert True")], FAST)
    assert result.status == "load_error" and result.passed == 0 and result.total == 2
    assert "SyntaxError" in (result.error or "")


def test_infinite_loop_times_out_and_keeps_earlier_results() -> None:
    program = "def f(n):\n    while n:\n        pass\n    return 0\n"
    result = run_tests(program, [CodeTest("assert f(0) == 0"), CodeTest("assert f(1) == 0")], Limits(timeout_s=2))
    assert result.status == "timeout" and result.outcomes == [True, False]
    assert result.duration_s < 10
    assert not _sandbox_processes()
    _healthy()


@pytest.mark.parametrize("guard", [True, False])
def test_fork_bomb_is_contained(guard: bool) -> None:
    program = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    limits = Limits(timeout_s=2, max_processes=8)
    result = run_tests(program, [CodeTest("assert True")], limits, guard=guard)
    assert not result.all_passed and result.passed == 0
    if "cgroup" in result.layers and result.peak_processes is not None:
        # With the guard, fork is refused outright; without it, pids.max caps the bomb.
        assert result.peak_processes <= limits.max_processes + 2
    assert not _sandbox_processes(), "fork bomb children outlived the sandbox"
    _healthy()


def test_subprocess_and_ctypes_are_refused() -> None:
    program = "import subprocess\nsubprocess.run(['true'])\n"
    assert "subprocess" in (run_tests(program, [CodeTest("assert True")], FAST).error or "")
    assert run_tests("import ctypes\n", [CodeTest("assert True")], FAST).status == "load_error"
    assert "fork" in (run_tests("import os\nos.fork()\n", [CodeTest("assert True")], FAST).error or "")


@pytest.mark.parametrize(
    "program",
    ["x = bytearray(16 * 1024 ** 3)\n", "x = []\nwhile True:\n    x.append(" " * 10 ** 8)\n"],
)
def test_memory_bomb_is_contained(program: str) -> None:
    result = run_tests(program, [CodeTest("assert True")], Limits(timeout_s=10, memory_mb=512))
    assert not result.all_passed
    assert result.status in {"load_error", "crashed"}
    _healthy()


@pytest.mark.parametrize("guard", [True, False])
def test_network_is_unreachable(guard: bool) -> None:
    program = "import socket\ns = socket.create_connection(('1.1.1.1', 80), timeout=2)\n"
    result = run_tests(program, [CodeTest("assert s")], FAST, guard=guard)
    assert result.status == "load_error" and not result.all_passed
    if not guard:
        assert "netns" in result.layers, "without the guard only the network namespace stops this"
    _healthy()


def test_urllib_call_fails() -> None:
    program = "import urllib.request\nurllib.request.urlopen('http://example.com', timeout=2)\n"
    result = run_tests(program, [CodeTest("assert True")], FAST)
    assert result.status == "load_error"


@pytest.fixture
def outside_file(tmp_path: Path) -> Path:
    path = tmp_path / "precious.txt"
    path.write_text("do not touch")
    return path


@pytest.mark.parametrize(
    "attack",
    [
        "import os\nos.remove({p!r})\n",
        "import pathlib\npathlib.Path({p!r}).unlink()\n",
        "import shutil\nshutil.rmtree({d!r})\n",
        "import os\nos.rename({p!r}, 'stolen.txt')\n",
        "open({p!r}, 'w').write('overwritten')\n",
        "import io\nio.FileIO({p!r}, 'w')\n",
        "import os\nos.truncate({p!r}, 0)\n",
    ],
)
def test_outside_files_cannot_be_changed(outside_file: Path, attack: str) -> None:
    program = attack.format(p=str(outside_file), d=str(outside_file.parent))
    result = run_tests(program, [CodeTest("assert True")], FAST)
    assert result.status == "load_error" and "sandbox" in (result.error or "")
    assert outside_file.read_text() == "do not touch"
    _healthy()


@pytest.mark.parametrize(
    "attack",
    [
        "data = open({p!r}).read()\n",
        "import os\nfd = os.open({p!r}, os.O_RDONLY)\ndata = os.read(fd, 100)\n",
        "import os\ndata = os.listdir({d!r})\n",
    ],
)
def test_outside_files_cannot_be_read(outside_file: Path, attack: str) -> None:
    program = attack.format(p=str(outside_file), d=str(outside_file.parent))
    result = run_tests(program, [CodeTest("assert data")], FAST)
    assert result.status == "load_error" and "outside the sandbox" in (result.error or "")
    assert "do not touch" not in result.stdout + result.stderr


def test_the_sandbox_directory_is_private_and_writable() -> None:
    program = (
        "import os, tempfile\n"
        "open('scratch.txt', 'w').write('ok')\n"
        "here = os.getcwd()\n"
        "home, tmp = os.environ['HOME'], tempfile.gettempdir()\n"
        "os.remove('scratch.txt')\n"
    )
    tests = [CodeTest("assert home == here and tmp == here"), CodeTest("assert not os.path.exists('scratch.txt')")]
    result = run_tests(program, tests, FAST)
    assert result.all_passed, result.error


def test_stdin_programs() -> None:
    program = "n = int(input())\nprint(n * 2)\n"
    result = run_tests(program, [IOTest("3\n", "6\n"), IOTest("4", "9")], FAST)
    assert result.status == "ok" and result.outcomes == [True, False]


def test_fake_reports_from_the_program_are_ignored() -> None:
    # The harness tags its report lines with a secret nonce the program does not know.
    program = "import os\nfor fd in range(3, 20):\n    try:\n        os.write(fd, b'x {\"event\": \"done\"}\\n')\n    except OSError:\n        pass\n"
    result = run_tests(program, [CodeTest("assert False")], FAST)
    assert result.outcomes == [False]


def test_huge_output_is_capped() -> None:
    program = "import sys\nfor _ in range(10 ** 6):\n    sys.stdout.write('y' * 100 + '\\n')\n"
    result = run_tests(program, [CodeTest("assert True")], Limits(timeout_s=10, max_file_mb=1, max_output_chars=500))
    assert len(result.stdout) <= 500


def test_layers_are_reported() -> None:
    result = run_tests("x = 1\n", [CodeTest("assert x == 1")], FAST)
    assert {"rlimits", "guard"} <= set(result.layers)
    assert set(sandbox.isolation_layers()) == set(result.layers)
    if os.geteuid() == 0 and os.path.exists("/usr/bin/unshare"):
        assert "netns" in result.layers


def test_outside_files_stay_intact_without_the_python_guard(outside_file: Path) -> None:
    program = f"import os\nos.remove({str(outside_file)!r})\n"
    result = run_tests(program, [CodeTest("assert True")], FAST, guard=False)
    if "rofs" not in result.layers:
        pytest.skip("this host does not allow a read-only mount namespace")
    assert result.status == "load_error" and "Read-only file system" in (result.error or "")
    assert outside_file.read_text() == "do not touch"
