"""The code sandbox contains runaway and misbehaving programs, and scoring continues after."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cotbench import sandbox
from cotbench.sandbox import CodeTest, IOTest, Limits, api, host, run_tests

FAST = Limits(timeout_s=3)


def _sandbox_processes() -> list[int]:
    """PIDs of processes still running the sandbox child script."""
    marker = str(host.CHILD_SCRIPT).encode()
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


@pytest.mark.parametrize("guard", [True, False])
def test_subprocess_and_fork_are_refused(guard: bool) -> None:
    for program in ("import subprocess\nsubprocess.run(['true'])\n", "import os\nos.fork()\n"):
        result = run_tests(program, [CodeTest("assert True")], FAST, guard=guard)
        assert result.status == "load_error", result
        if guard or "seccomp" in result.layers:
            assert "PermissionError" in (result.error or ""), result.error
    if guard:
        assert run_tests("import ctypes\n", [CodeTest("assert True")], FAST).status == "load_error"
    _healthy()


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
    if not guard and not {"netns", "landlock"} & set(sandbox.isolation_layers()):
        pytest.skip("no network namespace or Landlock on this host: only the guard stops this")
    result = run_tests(program, [CodeTest("assert s")], FAST, guard=guard)
    assert result.status == "load_error" and not result.all_passed
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
    for guard in (True, False):
        result = run_tests(program, [CodeTest("assert True")], FAST, guard=guard)
        if not guard and "jail" not in result.layers:
            continue  # without the jail, only the guard stops this
        # refused by the guard, or the path does not exist in the jail
        assert result.status == "load_error", result
        assert any(e in (result.error or "") for e in ("PermissionError", "FileNotFoundError", "EROFS")), result.error
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
    assert result.status == "load_error"
    assert "PermissionError" in (result.error or "") or "FileNotFoundError" in (result.error or "")
    assert "do not touch" not in result.stdout + result.stderr + (result.error or "")


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
    program = ('import os\nfor fd in range(3, 20):\n    try:\n'
               '        os.write(fd, b\'x {"event": "done"}\\n\')\n    except OSError:\n        pass\n')
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
    if "jail" not in result.layers:
        pytest.skip("this host does not allow a mount namespace")
    assert result.status == "load_error" and "FileNotFoundError" in (result.error or "")
    assert outside_file.read_text() == "do not touch"
    # the system directories are there, read-only
    result = run_tests("import os\nos.remove('/usr/bin/env')\n", [CodeTest("assert True")], FAST, guard=False)
    assert result.status == "load_error" and ("EROFS" in (result.error or "") or "EACCES" in (result.error or ""))
    assert os.path.exists("/usr/bin/env")


def test_the_jail_holds_only_the_system_python_and_the_work_directory() -> None:
    if "jail" not in sandbox.isolation_layers():
        pytest.skip("this host does not allow a mount namespace")
    import sys

    allowed = {"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc", "dev", "proc", "sandbox", "tmp"}
    allowed |= {Path(p).resolve().parts[1] for p in (sys.prefix, sys.base_prefix)}
    allowed |= {Path(p).absolute().parts[1] for p in (sys.prefix, sys.base_prefix)}
    program = (
        "import os\n"
        "top = sorted(os.listdir('/'))\n"
        "etc = sorted(os.listdir('/etc'))\n"
        "cwd, home = os.getcwd(), os.environ['HOME']\n"
        "procs = [p for p in os.listdir('/proc') if p.isdigit()]\n"
        "uid = os.getuid()\n"
        "import json, math, collections, decimal\n"
    )
    tests = [
        CodeTest(f"assert set(top) <= {allowed!r}, top"),
        CodeTest("assert set(etc) <= {'ld.so.cache', 'localtime'}"),
        CodeTest("assert cwd == home == '/sandbox'"),
        CodeTest("assert len(procs) == 1"),
    ]
    if "nobody" in sandbox.isolation_layers():
        tests.append(CodeTest("assert uid == 65534"))
    result = run_tests(program, tests, FAST, guard=False)
    assert result.all_passed, result


def test_the_child_modules_import_only_the_standard_library_and_each_other() -> None:
    import ast
    import sys

    child = host.CHILD_SCRIPT.parent
    modules = sorted(child.glob("*.py"))
    assert {"__main__.py", "candidate.py", "judge.py", "probe.py", "wire.py"} <= {m.name for m in modules}
    for path in modules:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                assert node.level == 0 and node.module, (path.name, ast.unparse(node))
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in sys.stdlib_module_names or name.startswith("cotbench.sandbox.child."), \
                    (path.name, name)


def test_the_children_run_isolated_and_load_only_the_child_package() -> None:
    # Both children: isolated mode, nothing of the host's cotbench loaded, and neither the child
    # package's directory nor the sandbox package's on sys.path (they would shadow the stdlib).
    child = str(host.CHILD_SCRIPT.parent)
    own = "[m for m in sys.modules if m.split('.')[0] == 'cotbench' and not m.startswith('cotbench.sandbox.child')]"
    program = (
        "import os, sys\n"
        f"loaded, other = sorted(m for m in sys.modules if m.startswith('cotbench.')), {own}\n"
        "flags = [sys.flags.isolated, sys.flags.no_user_site, sys.flags.ignore_environment]\n"
        "path = list(sys.path)\n"
        f"source_visible = os.path.exists({child!r})\n"
    )
    shadowing = {"", ".", child, str(Path(child).parent)}
    tests = [CodeTest("assert 'cotbench.sandbox.child.candidate' in loaded and other == []"),
             CodeTest("assert flags == [1, 1, 1]"),
             CodeTest(f"assert not set(path) & {shadowing!r}"),
             CodeTest(f"import sys\nassert {own} == []\nassert sys.flags.isolated == 1\n"
                      f"assert not set(sys.path) & {shadowing!r}")]
    if "jail" in sandbox.isolation_layers():  # loaded before the jail, which does not hold the source
        tests.append(CodeTest("assert source_visible is False"))
    result = run_tests(program, tests, FAST, guard=False)
    assert result.all_passed, result


# ------------------------------------------------------------------ the judge decides: values cross as data


def test_returned_values_cross_as_plain_data() -> None:
    program = (
        "import collections\n"
        "Point = collections.namedtuple('Point', 'x y')\n"
        "def counts(s):\n    return collections.Counter(s)\n"
        "def point():\n    return Point(1, 2)\n"
        "def gen(n):\n    return (i * i for i in range(n))\n"
        "def mixed():\n    return {(1, 2): {3, 4}, 'b': b'\\x00\\xff', 'c': 1 + 2j, 'f': frozenset([1])}\n"
        "def kw(a, *, b=1):\n    return a - b\n"
        "def big():\n    return 2 ** 4000\n"
        "class Pair:\n    def __init__(self, a, b):\n        self.a, self.b = a, b\n"
        "def longest(pairs):\n    return max(p.b - p.a for p in pairs)\n"
        "def boom(x):\n    raise ValueError(x)\n"
    )
    tests = [
        CodeTest("assert counts('aab') == {'a': 2, 'b': 1}"),
        CodeTest("assert point() == (1, 2)"),
        CodeTest("assert list(gen(3)) == [0, 1, 4]"),
        CodeTest("assert mixed() == {(1, 2): {3, 4}, 'b': b'\\x00\\xff', 'c': 1 + 2j, 'f': frozenset([1])}"),
        CodeTest("assert kw(5, b=2) == 3"),
        CodeTest("assert big() == 2 ** 4000"),
        CodeTest("assert longest([Pair(1, 5), Pair(2, 3)]) == 4 and Pair(1, 2).a == 1"),
        CodeTest("try:\n    boom(1)\nexcept ValueError:\n    pass\nelse:\n    raise AssertionError"),
        CodeTest("assert boom(2) == 2"),
    ]
    result = run_tests(program, tests, FAST)
    assert result.outcomes == [True] * 8 + [False], result
    assert result.error == "test 8: the program raised ValueError"


def test_program_objects_are_not_plain_values() -> None:
    program = (
        "class Weird:\n    def __eq__(self, other):\n        return True\n"
        "    def __lt__(self, other):\n        return True\n"
        "    def __bool__(self):\n        return False\n    def __len__(self):\n        return 3\n"
        "def make():\n    return Weird()\n"
        "deep = []\nfor _ in range(5000):\n    deep = [deep]\n"
        "def nested():\n    return deep\n"
        "loop = []\nloop.append(loop)\n"
        "def cyclic():\n    return loop\n"
    )
    tests = [
        CodeTest("assert make() == 1"),
        CodeTest("assert make() != make() and make() is not None"),
        CodeTest("assert sorted([make(), make()])"),
        CodeTest("assert not make() and len(make()) == 3"),  # bool()/len() ask for plain data: fine
        CodeTest("assert nested() is not None"),
        CodeTest("assert cyclic() is not None"),
    ]
    result = run_tests(program, tests, FAST)
    assert result.outcomes == [False, True, False, True, False, False], result


def test_the_program_never_sees_the_tests_or_expected_values() -> None:
    secret = "MARKER-" + os.urandom(4).hex()
    program = (
        "import gc, os, re, sys\n"
        "def f(x):\n"
        "    pattern = re.compile('MARKER-[0-9a-f]{8}')\n"
        "    seen = [repr(o) for o in gc.get_objects() if isinstance(o, (str, bytes, dict, list, tuple))]\n"
        "    seen += sys.argv\n"
        "    try:\n"
        "        seen.append(open('/proc/self/cmdline', 'rb').read().decode('latin-1'))\n"
        "    except OSError:\n"
        "        pass\n"
        "    return any(pattern.search(s) for s in seen)\n"
    )
    result = run_tests(program, [CodeTest(f"assert f(1) is False  # {secret}"),
                                 CodeTest(f"expected = {secret!r}\nassert f(2) is False")], FAST, guard=False)
    assert result.outcomes == [True, True], result


def test_setup_and_remote_names() -> None:
    # HumanEval: the prompt defines a stub and a helper; the judge uses the helper and the
    # program's function, never the stub.
    prompt = "def helper(x):\n    return x + 100\n\ndef f(x):\n    \"\"\"doc\"\"\"\n"
    program = prompt + "    return helper(x) * 2\n"
    test = CodeTest("def check(candidate):\n    assert candidate(1) == 202\n    assert helper(1) == 101\ncheck(f)\n")
    assert run_tests(program, [test], FAST, setup=prompt, remote=["f"]).all_passed
    stub_only = run_tests(prompt, [CodeTest("assert f(1) is None")], FAST, setup=prompt, remote=["f"])
    assert stub_only.all_passed  # the program's own (stub) f ran in the candidate
    missing = run_tests("x = 1\n", [CodeTest("assert g(1) == 1")], FAST)
    assert missing.outcomes == [False] and "NameError" in (missing.error or "")


def test_stdin_programs_can_use_the_buffer() -> None:
    program = "import sys\ndata = sys.stdin.buffer.read().split()\nsys.stdout.write(str(sum(map(int, data))) + '\\n')\n"
    result = run_tests(program, [IOTest("1 2 3\n", "6\n")], FAST)
    assert result.all_passed, result


def test_cleanup_leaves_nothing_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    made: list[str] = []
    real = tempfile.mkdtemp
    monkeypatch.setattr(api.tempfile, "mkdtemp", lambda *a, **k: made.append(real(*a, **k)) or made[-1])
    program = "import os\nos.makedirs('a/b/c')\nopen('a/b/c/x.txt', 'w').write('x' * 1000)\n"
    run_tests(program, [CodeTest("assert True")], FAST)
    run_tests(program, [CodeTest("assert True")], FAST, guard=False)
    assert made and not any(os.path.exists(m) for m in made)


def test_a_layer_the_host_cannot_give_fails_loudly_and_never_touches_the_host(monkeypatch: pytest.MonkeyPatch) -> None:
    # A job that must build the jail without a private mount namespace: the candidate refuses
    # (it would otherwise remount the host's root), and run_tests raises instead of scoring 0.
    broken = host.Isolation(namespaces=(), jail=True, layers=("jail",))
    monkeypatch.setattr(api, "isolation", lambda: broken)
    mounts = Path("/proc/self/mountinfo").read_text()
    with pytest.raises(RuntimeError, match="could not set up"):
        run_tests("x = 1\n", [CodeTest("assert x == 1")], FAST)
    assert Path("/proc/self/mountinfo").read_text() == mounts
