"""Hostile model answers: every attack scores 0 through the real scorer, leaks nothing, and a
correct answer still scores 1 afterwards.

Two groups: answers that try to *forge the verdict* (objects equal to everything, patched
builtins, calling the harness's own reporting code, writing fake results to inherited file
descriptors), and programs that try to *leave the sandbox* (read host files, host processes,
host sockets, hold memory or disk beyond the limits, break the clean-up). Each is scored as a
HumanEval item and as an MBPP item through ``score_code``, the entry point the tasks use.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cotbench import sandbox
from cotbench.sandbox import CodeTest, Limits, cleanup, run_tests
from cotbench.scoring.code import score_code

HE_ITEM = {
    "prompt": 'def add(a, b):\n    """The sum of a and b."""\n',
    "entry_point": "add",
    "test": ("def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0\n"
             "    assert candidate(10, 5) == 15\n"),
    "timeout_s": 3,
}
MBPP_ITEM = {
    "test_list": ["assert add(2, 3) == 5", "assert add(-1, 1) == 0", "assert add(10, 5) == 15"],
    "test_imports": [],
    "timeout_s": 3,
}
ITEMS = {"humaneval": HE_ITEM, "mbpp": MBPP_ITEM}
GOOD = "def add(a, b):\n    return a + b\n"
FAST = Limits(timeout_s=5)


def _answer(code: str) -> str:
    return f"Here is my solution:\n```python\n{textwrap.dedent(code)}```\n"


def _score(code: str, kind: str) -> dict:
    score = score_code(_answer(code), None, ITEMS[kind], False)
    return {"value": score.value, **score.details}


def _still_healthy(kind: str) -> None:
    good = _score(GOOD, kind)
    assert good["value"] == 1.0, good


# ------------------------------------------------------------------ forging the verdict

ALWAYS_EQUAL = """
class Anything:
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    def __bool__(self):
        return True
    __hash__ = object.__hash__

def add(a, b):
    return Anything()
"""

PATCHED_EXEC = """
import builtins
builtins.exec = lambda *args, **kwargs: None

def add(a, b):
    return -999
"""

PATCHED_COMPILE = """
import builtins
_compile = builtins.compile
builtins.compile = lambda source, filename, mode, *a, **k: _compile("pass", filename, mode)

def add(a, b):
    return -999
"""

PATCHED_JSON = """
import json
_dumps = json.dumps

def _lie(obj, *args, **kwargs):
    if isinstance(obj, dict):
        obj = dict(obj)
        for key in ("ok", "passed", "load"):
            if key in obj:
                obj[key] = True
        if "error" in obj:
            obj["error"] = None
    return _dumps(obj, *args, **kwargs)

json.dumps = _lie

def add(a, b):
    return -999
"""

# Find the harness's reporting function and its secret through the call stack and the garbage
# collector, report every test as passed, then leave before the real tests run.
FRAME_WALK = """
import gc, json, os, re, sys

def add(a, b):
    return -999

def _forge():
    seen, secrets_, reporters = [], set(), []
    frame = sys._getframe(0)
    while frame is not None:
        seen += list(frame.f_locals.values()) + list(frame.f_globals.values())
        frame = frame.f_back
    seen += [o for o in gc.get_objects() if callable(o)]
    for value in seen:
        if isinstance(value, str) and re.fullmatch(r"[0-9a-f]{32}", value):
            secrets_.add(value)
        if isinstance(value, dict):
            for v in value.values():
                if isinstance(v, str) and re.fullmatch(r"[0-9a-f]{32}", v):
                    secrets_.add(v)
        if callable(value) and getattr(value, "__name__", "") in ("report", "_report", "send", "reply", "_send"):
            reporters.append(value)
    for fn in reporters:
        tests = [dict(event="test", index=i, ok=True, error=None) for i in range(3)]
        for call in [dict(event="load", ok=True), *tests, dict(event="done")]:
            try:
                fn(**call)
            except BaseException:
                pass
    lines = [json.dumps({"event": "load", "ok": True})]
    lines += [json.dumps({"event": "test", "index": i, "ok": True}) for i in range(3)]
    lines += [json.dumps({"event": "done"})]
    for fd in range(3, 64):
        for nonce in secrets_ or {"0" * 32}:
            try:
                os.write(fd, "".join(f"{nonce} {line}\\n" for line in lines).encode())
            except OSError:
                pass
    os._exit(0)

_forge()
"""

# Fill every inherited descriptor with answers that look like successes, in any framing.
FD_SPAM = """
import json, os
good = [{"load": True}, {"ok": True}, {"ok": 5}, {"value": True}, {"event": "done"}, {"passed": True}]
blob = "".join(json.dumps(g) + "\\n" for g in good * 20).encode()
for fd in range(3, 64):
    try:
        os.write(fd, blob)
    except OSError:
        pass

def add(a, b):
    return -999
"""

EXIT_AT_LOAD = """
import os
def add(a, b):
    return -999
os._exit(0)
"""

EXIT_LIKE_A_SETUP_FAILURE = """
import os
def add(a, b):
    return -999
os._exit(97)
"""

SYSTEM_EXIT = """
def add(a, b):
    return -999
raise SystemExit(0)
"""

# The scorer's expected values must not be reachable: look for other processes to read them from.
STEAL_EXPECTED = """
import os

def _peek():
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit() and int(pid) != os.getpid():
            try:
                found.append(open(f"/proc/{pid}/cmdline", "rb").read())
            except OSError:
                pass
    return found

_others = _peek()

def add(a, b):
    return -999 if not _others else len(_others)
"""

FORGERIES = {
    "always_equal": ALWAYS_EQUAL,
    "patched_exec": PATCHED_EXEC,
    "patched_compile": PATCHED_COMPILE,
    "patched_json": PATCHED_JSON,
    "frame_walk_report": FRAME_WALK,
    "fd_spam": FD_SPAM,
    "exit_at_load": EXIT_AT_LOAD,
    "exit_like_a_setup_failure": EXIT_LIKE_A_SETUP_FAILURE,
    "system_exit": SYSTEM_EXIT,
    "steal_expected": STEAL_EXPECTED,
}


@pytest.mark.parametrize("kind", ["humaneval", "mbpp"])
@pytest.mark.parametrize("attack", sorted(FORGERIES))
def test_forged_verdicts_score_zero(attack: str, kind: str) -> None:
    scored = _score(FORGERIES[attack], kind)
    assert scored["value"] == 0.0, (attack, scored)
    assert scored["passed"] == 0, (attack, scored)
    assert scored["status"] in {"ok", "load_error", "crashed"}, scored  # the program's failure, not the host's
    _still_healthy(kind)


def test_an_object_equal_to_everything_is_not_equal_to_the_expected_value() -> None:
    result = run_tests(ALWAYS_EQUAL, [CodeTest("assert add(1, 2) == 3"), CodeTest("assert add(1, 2) != 4"),
                                      CodeTest("assert not add(1, 2) != 3")], FAST)
    assert result.outcomes[0] is False and result.outcomes[2] is False


# ------------------------------------------------------------------ leaving the sandbox


@pytest.fixture
def secret_file(tmp_path: Path) -> tuple[Path, str]:
    marker = "SECRET-" + secrets.token_hex(8)
    path = tmp_path / "secret.txt"
    path.write_text(f"{marker}\n")
    return path, marker


# The guard's own `open` keeps the real one in its closure; read host files with it.
CLOSURE_OPEN = """
import builtins

def _real_open():
    for cell in getattr(builtins.open, "__closure__", None) or ():
        value = cell.cell_contents
        if callable(value) and getattr(value, "__name__", "") == "open":
            return value
    return builtins.open

def _read(path):
    try:
        with _real_open()(path) as fh:
            return fh.read()
    except BaseException as exc:
        return ""

leak = _read({secret!r}) + _read("/etc/shadow") + _read({gitconfig!r})
"""


@pytest.mark.parametrize("guard", [True, False])
def test_host_files_cannot_be_read_even_through_the_guards_closure(secret_file: tuple[Path, str],
                                                                   guard: bool) -> None:
    path, marker = secret_file
    program = CLOSURE_OPEN.format(secret=str(path), gitconfig=os.path.expanduser("~/.gitconfig"))
    result = run_tests(program, [CodeTest("assert leak == ''")], FAST, guard=guard)
    assert result.outcomes == [True], result
    assert marker not in result.stdout + result.stderr + (result.error or "")


@pytest.mark.parametrize("kind", ["humaneval", "mbpp"])
@pytest.mark.parametrize("how", ["raise", "return", "print"])
def test_file_contents_never_reach_the_sample_record(secret_file: tuple[Path, str], kind: str, how: str) -> None:
    path, marker = secret_file
    steal = CLOSURE_OPEN.format(secret=str(path), gitconfig=os.path.expanduser("~/.gitconfig"))
    code = {
        "raise": steal + "raise ValueError(leak or 'nothing')\n\ndef add(a, b):\n    return a + b\n",
        "return": steal + "\ndef add(a, b):\n    raise KeyError(leak)\n",
        "print": steal + "print(leak)\n\ndef add(a, b):\n    return leak\n",
    }[how]
    scored = _score(code, kind)
    assert scored["value"] == 0.0
    record = json.dumps(scored)
    assert marker not in record and "root:" not in record
    _still_healthy(kind)


def test_error_text_is_short_and_made_by_the_scorer() -> None:
    program = "raise ValueError('x' * 10000 + ' /etc/passwd contents')\n"
    result = run_tests(program, [CodeTest("assert True")], FAST)
    assert result.status == "load_error"
    assert "ValueError" in (result.error or "") and "contents" not in (result.error or "")
    assert len(result.error or "") <= 300


def test_host_processes_are_invisible() -> None:
    marker = "cotbench-host-" + secrets.token_hex(6)
    host = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", marker])
    try:
        program = (
            "import os\n"
            "try:\n"
            "    pids = [p for p in os.listdir('/proc') if p.isdigit()]\n"
            "except OSError:\n"
            "    pids = []\n"
            "leak = []\n"
            "for p in pids:\n"
            "    try:\n"
            "        leak.append(open(f'/proc/{p}/cmdline', 'rb').read().decode('latin-1'))\n"
            "    except OSError:\n"
            "        pass\n"
            f"seen = any({marker!r} in c for c in leak)\n"
        )
        result = run_tests(program, [CodeTest("assert seen is False"), CodeTest("assert len(pids) <= 2")], FAST,
                           guard=False)
        assert result.outcomes == [True, True], result
    finally:
        host.kill()
        host.wait()


def _needs(layer: str, why: str) -> None:
    if layer not in sandbox.isolation_layers():
        pytest.skip(f"this host does not allow the {layer!r} layer, the only one that stops {why}")


@pytest.mark.parametrize("abstract", [False, True])
def test_host_unix_sockets_cannot_be_reached(tmp_path: Path, abstract: bool) -> None:
    if not abstract:
        _needs("jail", "connecting to a host socket by path")
    elif not {"netns", "landlock"} & set(sandbox.isolation_layers()):
        pytest.skip("no network namespace or Landlock on this host")
    address = f"\0cotbench-test-{secrets.token_hex(6)}" if abstract else str(tmp_path / "host.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(address)
    server.listen(4)
    server.setblocking(False)
    try:
        program = (
            "import socket\n"
            "connected = False\n"
            "try:\n"
            "    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
            f"    s.connect({address!r})\n"
            "    s.sendall(b'hello from the sandbox')\n"
            "    connected = True\n"
            "except OSError:\n"
            "    pass\n"
        )
        result = run_tests(program, [CodeTest("assert connected is False")], FAST, guard=False)
        assert result.outcomes == [True], result
        with pytest.raises(BlockingIOError):
            server.accept()
    finally:
        server.close()


# Memory that is not address space: memfds and /dev/shm files, each under the file-size limit,
# as many as the open-file limit allows.
MEMFD = """
import os
held = 0
keep = []
chunk = b"\\1" * (1 << 20)
try:
    for _ in range(40):
        fd = os.memfd_create("hold")
        keep.append(fd)
        for _ in range(15):
            os.write(fd, chunk)
        held += 15
except BaseException:
    pass
try:
    for i in range(20):
        fh = open(f"/dev/shm/hold{i}", "wb")
        keep.append(fh)
        for _ in range(15):
            fh.write(chunk)
        fh.flush()
        held += 15
except BaseException:
    pass
"""


def test_memfd_and_shared_memory_cannot_exceed_the_memory_limit() -> None:
    limits = Limits(timeout_s=20, memory_mb=256)
    result = run_tests(MEMFD, [CodeTest(f"assert held <= {limits.memory_mb}")], limits, guard=False)
    # Either it could not hold more than the limit, or the memory limit stopped it.
    assert result.outcomes == [True] or result.status == "crashed", result
    _assert_fresh_sandbox_works()


def test_forked_memory_holders_are_refused() -> None:
    program = (
        "import os\n"
        "children = 0\n"
        "for _ in range(3):\n"
        "    try:\n"
        "        pid = os.fork()\n"
        "    except OSError:\n"
        "        continue\n"
        "    if pid == 0:\n"
        "        import time\n"
        "        x = bytearray(200 << 20)\n"
        "        time.sleep(30)\n"
        "        os._exit(0)\n"
        "    children += 1\n"
    )
    result = run_tests(program, [CodeTest("assert children == 0")], FAST, guard=False)
    assert result.outcomes == [True], result


DISK_FILL = """
written = 0
try:
    for i in range(40):
        with open(f"fill{i}.bin", "wb") as fh:
            for _ in range(16):
                fh.write(b"\\0" * (1 << 20))
        written += 16
except OSError:
    pass
"""


@pytest.mark.parametrize("guard", [True, False])
def test_disk_writes_are_bounded_in_total(guard: bool) -> None:
    _needs("jail", "many files each under the file-size limit")
    limits = Limits(timeout_s=20, max_file_mb=16, max_disk_mb=64)
    result = run_tests(DISK_FILL, [CodeTest(f"assert written <= {limits.max_disk_mb}")], limits, guard=guard)
    assert result.outcomes == [True], result


DEEP_DIR = """
import os
for _ in range(3000):
    os.mkdir("d")
    os.chdir("d")
depth_done = True
"""


@pytest.mark.parametrize("guard", [True, False])
def test_a_very_deep_directory_does_not_break_clean_up(guard: bool) -> None:
    result = run_tests(DEEP_DIR, [CodeTest("assert True")], FAST, guard=guard)
    assert result.status in {"ok", "load_error"}
    _assert_fresh_sandbox_works()


def test_tree_removal_never_raises_on_a_deep_tree(tmp_path: Path) -> None:
    root = tmp_path / "deep"
    root.mkdir()
    fd = os.open(root, os.O_RDONLY)
    try:
        for _ in range(3000):
            os.mkdir("d", dir_fd=fd)
            nxt = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = nxt
    finally:
        os.close(fd)
    cleanup.remove_tree(str(root))
    assert not root.exists()
    cleanup.remove_tree(str(tmp_path / "never-existed"))  # nothing there: still no error


@pytest.mark.parametrize("kind", ["humaneval", "mbpp"])
def test_deep_directory_answer_scores_zero_and_scoring_continues(kind: str) -> None:
    scored = _score(DEEP_DIR + "\ndef add(a, b):\n    return -999\n", kind)
    assert scored["value"] == 0.0
    _still_healthy(kind)


def _assert_fresh_sandbox_works() -> None:
    result = run_tests("def inc(x):\n    return x + 1\n", [CodeTest("assert inc(1) == 2")], FAST)
    assert result.all_passed, result


# ------------------------------------------------------------------ the earlier attacks, both item shapes

EARLIER = {
    "fork_bomb": "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
    "infinite_loop": "while True:\n    pass\n",
    "memory_bomb": "x = bytearray(32 * 1024 ** 3)\n",
    "memory_growth": "x = []\nwhile True:\n    x.append(' ' * 10 ** 8)\n",
    "network": "import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=2)\n",
    "urllib": "import urllib.request\nurllib.request.urlopen('http://example.com', timeout=2)\n",
    "delete_outside": "import os\nos.remove({keep!r})\n",
    "write_outside": "open({keep!r}, 'w').write('overwritten')\n",
    "read_outside": "print(open({keep!r}).read())\n",
}


@pytest.mark.parametrize("kind", ["humaneval", "mbpp"])
@pytest.mark.parametrize("attack", sorted(EARLIER))
def test_earlier_attacks_score_zero(tmp_path: Path, attack: str, kind: str) -> None:
    keep = tmp_path / "keep.txt"
    keep.write_text("mine")
    code = EARLIER[attack].format(keep=str(keep)) + "\ndef add(a, b):\n    return a + b\n"
    scored = _score(code, kind)
    assert scored["value"] == 0.0, (attack, scored)
    assert keep.read_text() == "mine"
    assert "mine" not in json.dumps(scored)
    _still_healthy(kind)
