"""Run untrusted, model-written Python against tests in a separate, limited process.

Threat model (read this before trusting it): this is defence in depth against *accidents and
careless code* — infinite loops, fork/memory bombs, stray network calls, code that deletes or
reads files — not a security boundary against an adversary who targets it. Use a container or
VM (gVisor, Firecracker, nsjail) for code you believe is hostile.

Layers, each used when the host allows it (``SandboxResult.layers`` says which were active):
- ``netns``: a fresh network namespace (``unshare --net``): no interfaces but a down loopback.
- ``pidns``: a fresh PID namespace; when the sandbox's first process dies the kernel kills every
  process it left behind, so a fork bomb cannot outlive its timeout.
- ``rofs``: a private mount namespace in which every mount except the work directory is
  remounted read-only, so nothing outside can be created, changed or deleted even if the
  Python guard is bypassed (best effort: a mount that refuses the remount stays writable).
- ``cgroup``: a per-run pids cgroup with ``pids.max`` (RLIMIT_NPROC does not bind uid 0, and we
  usually run as root).
- ``nocaps``: all capabilities dropped and no-new-privs set (``setpriv``) before Python starts.
- ``rlimits``: CPU seconds, address space, file size, open files, no core dumps; RLIMIT_NPROC
  too when not running as root.
- ``guard``: before the program runs, Python-level guards refuse socket creation, process
  creation (fork/exec/subprocess/multiprocessing/ctypes) and file access outside the sandbox's
  temp directory (``open``, ``os``/``posix`` file functions, ``io.FileIO``; reads of the Python
  installation are allowed so imports work). Python-level guards can be bypassed by determined
  code; the OS layers above do not depend on them. Reading outside files is stopped only by
  this guard: at the OS level the job runs as the caller's user and can read what it can.
Always: a throwaway working directory (also HOME and TMPDIR), a minimal environment, stdin
from /dev/null, a wall-clock timeout that kills the whole process group, and output capped.

The module also runs as the child: ``python -I sandbox.py`` reads a JSON job on stdin (so it
imports nothing from cotbench).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

_CHILD_SCRIPT = Path(__file__).resolve()


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 10.0  # wall clock for the whole job
    memory_mb: int = 1024  # address space
    max_processes: int = 16
    max_file_mb: int = 16
    max_output_chars: int = 4000  # stdout/stderr tails kept in the result


@dataclass(frozen=True)
class CodeTest:
    """Python statements run after the program, in its namespace (e.g. an assert)."""

    code: str
    name: str = ""


@dataclass(frozen=True)
class IOTest:
    """Run the program with ``stdin``; its stdout must equal ``expected`` (line-wise, trimmed)."""

    stdin: str
    expected: str
    name: str = ""


Test = CodeTest | IOTest


@dataclass(frozen=True)
class SandboxResult:
    status: str  # "ok" (ran to the end), "timeout", "crashed" (died early), "load_error"
    passed: int
    total: int
    outcomes: list[bool]  # one per test; tests that never ran count as failed
    error: str | None  # the first failure, one line
    stdout: str
    stderr: str
    returncode: int | None
    duration_s: float
    layers: tuple[str, ...] = field(default=())
    peak_processes: int | None = None  # from the pids cgroup, when there was one

    @property
    def all_passed(self) -> bool:
        return self.status == "ok" and self.total > 0 and self.passed == self.total


# ------------------------------------------------------------------ parent side

# Runs first inside the new mount namespace: join the pids cgroup (before /sys goes read-only),
# keep the work directory writable and make every other mount read-only, then exec the job.
_ROFS_SCRIPT = r"""set -e
work=$1; cgroup=$2; shift 2
if [ -n "$cgroup" ]; then echo $$ > "$cgroup/cgroup.procs" || true; fi
mount --bind "$work" "$work"
for m in $(cut -d' ' -f2 /proc/self/mounts | sort -u); do
  [ "$m" = "$work" ] || mount -o remount,bind,ro "$m" 2>/dev/null || true
done
exec "$@"
"""
_DROP_CAPS = ("--no-new-privs", "--bounding-set=-all", "--inh-caps=-all")


@dataclass(frozen=True)
class _Isolation:
    namespaces: tuple[str, ...] = ()  # the unshare command line, or empty
    rofs: bool = False  # run _ROFS_SCRIPT inside the namespaces
    drop_caps: tuple[str, ...] = ()  # the setpriv command line, or empty
    layers: tuple[str, ...] = ()

    def command(self, work: str, cgroup: Path | None, argv: list[str]) -> list[str]:
        rofs = ["sh", "-c", _ROFS_SCRIPT, "sh", work, str(cgroup or "")] if self.rofs else []
        return [*self.namespaces, *rofs, *self.drop_caps, *argv]


@cache
def _isolation() -> _Isolation:
    """The strongest combination of OS layers this host allows, found by trying them once."""
    unshare, setpriv = shutil.which("unshare"), shutil.which("setpriv")
    if not unshare:
        return _Isolation()
    user = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    tail = ["--fork", "--kill-child"]
    candidates = [
        (_Isolation((unshare, *user, "--mount", "--propagation", "private", "--net", "--pid", *tail), True),
         ("netns", "pidns", "rofs")),
        (_Isolation((unshare, *user, "--net", "--pid", *tail)), ("netns", "pidns")),
        (_Isolation((unshare, "--user", "--map-root-user", "--net", *tail)), ("netns",)),
    ]
    for iso, layers in candidates:
        if not _probe_isolation(iso):
            continue
        with_caps = dataclasses.replace(iso, drop_caps=(setpriv, *_DROP_CAPS)) if setpriv else iso
        if setpriv and _probe_isolation(with_caps):
            return dataclasses.replace(with_caps, layers=(*layers, "nocaps"))
        return dataclasses.replace(iso, layers=layers)
    return _Isolation()


def isolation_layers() -> tuple[str, ...]:
    """The layers a job on this host gets (for a 'doctor' command or a run manifest)."""
    cgroup = _make_cgroup(2)
    if cgroup is not None:
        _remove_cgroup(cgroup)
    return (*_isolation().layers, *(("cgroup",) if cgroup else ()), "rlimits", "guard")


def _probe_isolation(iso: _Isolation) -> bool:
    """Run a tiny job: the work directory must be writable and, with rofs, the outside not."""
    with tempfile.TemporaryDirectory(prefix="cotbench-probe-") as work:
        outside = work + "-outside"
        check = ["sh", "-c", 'touch "$0/in" && ! touch "$1" 2>/dev/null' if iso.rofs else 'touch "$0/in"', work, outside]
        ok = _probe(iso.command(work, None, check)) and os.path.exists(os.path.join(work, "in"))
        if os.path.exists(outside):
            os.unlink(outside)
            ok = False
        return ok


def _probe(cmd: list[str]) -> bool:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _make_cgroup(max_pids: int) -> Path | None:
    """A fresh pids cgroup (v1 hierarchy or our v2 subtree), or None if we may not make one."""
    name = f"cotbench-sbx-{os.getpid()}-{secrets.token_hex(4)}"
    roots = [Path("/sys/fs/cgroup/pids")]
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            if line.startswith("0::"):
                roots.append(Path("/sys/fs/cgroup") / line[3:].lstrip("/"))
    except OSError:
        pass
    for root in roots:
        group = root / name
        try:
            group.mkdir()
        except OSError:
            continue
        try:
            (group / "pids.max").write_text(str(max_pids))
            return group
        except OSError:
            _remove_cgroup(group)
    return None


def _remove_cgroup(group: Path) -> None:
    for _ in range(50):  # the kernel frees killed tasks asynchronously
        try:
            group.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.02)


def _tail(path: Path, limit: int) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 4 * limit))
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return text[-limit:]


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_tests(program: str, tests: Sequence[Test], limits: Limits = Limits(), guard: bool = True) -> SandboxResult:
    """Run ``program`` then each test in one sandboxed child process.

    ``guard=False`` leaves out only the Python-level guard (tests use it to show that the OS
    layers hold on their own)."""
    iso = _isolation()
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cotbench-sbx-") as work, \
            tempfile.TemporaryDirectory(prefix="cotbench-io-") as private:
        out, err, rep = (Path(private) / n for n in ("stdout", "stderr", "report"))
        cgroup = _make_cgroup(limits.max_processes + 2)
        nonce = secrets.token_hex(16)
        job = {
            "program": program,
            "tests": [
                {"kind": "code", "code": t.code} if isinstance(t, CodeTest)
                else {"kind": "io", "stdin": t.stdin, "expected": t.expected}
                for t in tests
            ],
            "root": os.path.realpath(work),
            "cgroup": str(cgroup) if cgroup else None,
            "limits": {"cpu_s": max(1, int(limits.timeout_s) + 1), "memory_mb": limits.memory_mb,
                       "max_processes": limits.max_processes, "max_file_mb": limits.max_file_mb},
            "guard": guard,
            "nonce": nonce,
        }
        env = {"PATH": "/usr/bin:/bin", "HOME": work, "TMPDIR": work, "LANG": "C.UTF-8",
               "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}
        cmd = iso.command(work, cgroup, [sys.executable, "-I", str(_CHILD_SCRIPT)])
        with out.open("wb") as o, err.open("wb") as e, rep.open("wb") as r:
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=o, stderr=e, cwd=work, env=env,
                                    start_new_session=True, pass_fds=(r.fileno(),))
            job["report_fd"] = r.fileno()
            timed_out = False
            try:
                proc.communicate(json.dumps(job).encode(), timeout=limits.timeout_s)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                _kill_group(proc.pid)  # also reaps stragglers that outlived a normal exit
                proc.wait()
        peak = None
        if cgroup is not None:
            _kill_cgroup(cgroup)
            peak = _read_int(cgroup / "pids.peak")
            _remove_cgroup(cgroup)
        active = (*iso.layers, *(("cgroup",) if cgroup else ()), "rlimits", *(("guard",) if guard else ()))
        result = _collect(rep, nonce, len(tests), timed_out, proc.returncode, _tail(out, limits.max_output_chars),
                          _tail(err, limits.max_output_chars), time.monotonic() - start, active)
        return dataclasses.replace(result, peak_processes=peak)


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _kill_cgroup(group: Path) -> None:
    # Without a PID namespace, a process that left our process group is still in the cgroup.
    for _ in range(3):
        try:
            pids = [int(p) for p in (group / "cgroup.procs").read_text().split()]
        except OSError:
            return
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.02)


def _collect(report: Path, nonce: str, n: int, timed_out: bool, returncode: int | None, stdout: str,
             stderr: str, duration: float, layers: tuple[str, ...]) -> SandboxResult:
    outcomes: list[bool | None] = [None] * n
    seen, loaded, finished, error = False, False, False, None
    try:
        lines = report.read_text("utf-8", "replace").splitlines()
    except OSError:
        lines = []
    for line in lines:
        tag, _, payload = line.partition(" ")
        if tag != nonce:
            continue  # written by the program itself, not the harness
        try:
            msg = json.loads(payload)
        except json.JSONDecodeError:
            continue
        if msg.get("event") == "load":
            seen, loaded = True, bool(msg.get("ok"))
        elif msg.get("event") == "test" and isinstance(msg.get("index"), int) and 0 <= msg["index"] < n:
            outcomes[msg["index"]] = bool(msg.get("ok"))
        elif msg.get("event") == "done":
            finished = True
        if msg.get("error") and error is None:
            error = str(msg["error"])[:300]
    status = ("timeout" if timed_out else "load_error" if seen and not loaded
              else "ok" if finished else "crashed")
    if status == "crashed" and error is None:
        error = f"process exited with code {returncode} before the tests finished"
    if status == "timeout" and error is None:
        error = "timed out"
    final = [bool(o) for o in outcomes]
    return SandboxResult(status, sum(final), n, final, error, stdout, stderr, returncode, round(duration, 3), layers)


# ------------------------------------------------------------------ child side

def _child_main() -> None:
    import builtins
    import io
    import resource

    job = json.loads(sys.stdin.buffer.read())
    report_fd = job["report_fd"]
    nonce = job["nonce"]
    root = job["root"]
    lim = job["limits"]

    def report(**msg: Any) -> None:
        os.write(report_fd, f"{nonce} {json.dumps(msg)}\n".encode())

    if job["cgroup"]:
        try:
            with open(os.path.join(job["cgroup"], "cgroup.procs"), "w") as fh:
                fh.write(str(os.getpid()))
        except OSError:
            pass
    mb = 1 << 20
    for res, value in ((resource.RLIMIT_CPU, lim["cpu_s"]), (resource.RLIMIT_AS, lim["memory_mb"] * mb),
                       (resource.RLIMIT_FSIZE, lim["max_file_mb"] * mb), (resource.RLIMIT_NOFILE, 64),
                       (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(res, (value, value))
    if os.geteuid() != 0:  # root ignores RLIMIT_NPROC; the cgroup covers that case
        try:
            resource.setrlimit(resource.RLIMIT_NPROC, (lim["max_processes"], lim["max_processes"]))
        except (ValueError, OSError):
            pass
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # oversized writes fail instead of killing us
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    sys.stdin = open(0, closefd=False)
    os.chdir(root)
    if job["guard"]:
        _install_guard(root, builtins, io)

    # Not "__main__": a demo block under ``if __name__ == "__main__":`` (often calling input())
    # must not run when the program is judged by its functions, as in HumanEval's harness.
    namespace: dict[str, Any] = {"__name__": "solution", "__builtins__": builtins}
    try:
        code = compile(job["program"], "solution.py", "exec")
        # Programs judged on stdin/stdout run once per test instead; they would block on input().
        if any(t["kind"] == "code" for t in job["tests"]):
            exec(code, namespace)
    except BaseException as exc:  # noqa: BLE001 - SystemExit and all: the program failed to load
        report(event="load", ok=False, error=_describe(exc))
        report(event="done")
        os._exit(0)
    report(event="load", ok=True)
    for index, test in enumerate(job["tests"]):
        try:
            if test["kind"] == "code":
                exec(compile(test["code"], f"test_{index}.py", "exec"), namespace)
                ok, error = True, None
            else:
                ok, error = _run_io(job["program"], test, builtins, io)
        except BaseException as exc:  # noqa: BLE001
            ok, error = False, _describe(exc)
        report(event="test", index=index, ok=ok, error=error)
    report(event="done")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # skip atexit hooks the program may have registered


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
    return re.sub(r"\s+", " ", text)[:300]


def _run_io(program: str, test: dict[str, Any], builtins: Any, io: Any) -> tuple[bool, str | None]:
    stdin, stdout = io.StringIO(test["stdin"]), io.StringIO()
    saved = sys.stdin, sys.stdout
    sys.stdin, sys.stdout = stdin, stdout
    try:
        exec(compile(program, "solution.py", "exec"), {"__name__": "__main__", "__builtins__": builtins})
    except SystemExit as exc:
        if exc.code not in (None, 0):
            raise
    finally:
        sys.stdin, sys.stdout = saved
    got = [ln.rstrip() for ln in stdout.getvalue().strip().splitlines()]
    want = [ln.rstrip() for ln in test["expected"].strip().splitlines()]
    return (True, None) if got == want else (False, "wrong output")


def _install_guard(root: str, builtins: Any, io: Any) -> None:
    """Python-level refusals of network, process creation and outside file access."""
    import _io
    import posix
    import socket

    readable = tuple({os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)})

    def inside(path: Any, roots: tuple[str, ...]) -> bool:
        if isinstance(path, int):
            return True  # an fd can only come from an open we allowed
        real = os.path.realpath(os.path.join(root, os.fsdecode(path)))
        return any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in roots)

    def denied(what: str) -> PermissionError:
        return PermissionError(f"sandbox: {what} is not allowed")

    def check(path: Any, write: bool = True, dir_fd: Any = None) -> None:
        if dir_fd is not None:
            raise denied("dir_fd file access")
        if not inside(path, (root,) if write else (root, *readable, "/dev/null", "/dev/urandom")):
            raise denied(f"access to {os.fsdecode(path)!r} outside the sandbox")

    def mode_writes(mode: Any) -> bool:
        return isinstance(mode, str) and any(c in mode for c in "wax+")

    real_open = builtins.open

    def guarded_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        check(file, write=mode_writes(mode))
        return real_open(file, mode, *args, **kwargs)

    builtins.open = io.open = _io.open = guarded_open

    real_fileio = _io.FileIO

    class GuardedFileIO(real_fileio):  # type: ignore[misc, valid-type]
        def __init__(self, file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> None:
            check(file, write=mode_writes(mode))
            super().__init__(file, mode, *args, **kwargs)

    io.FileIO = _io.FileIO = GuardedFileIO

    real_os_open = os.open

    def guarded_os_open(path: Any, flags: int, *args: Any, dir_fd: Any = None, **kwargs: Any) -> int:
        writes = bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND))
        check(path, write=writes, dir_fd=dir_fd)
        return real_os_open(path, flags, *args, **kwargs)

    def path_guard(fn: Any, write: bool) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for arg in args[:2]:
                if isinstance(arg, (str, bytes, os.PathLike)):
                    check(arg, write=write, dir_fd=kwargs.get("dir_fd") or kwargs.get("src_dir_fd"))
            if not args:
                raise denied(fn.__name__)
            return fn(*args, **kwargs)
        return wrapper

    def refuse(name: str) -> Any:
        def wrapper(*_args: Any, **_kwargs: Any) -> Any:
            raise denied(name)
        return wrapper

    writers = ("remove", "unlink", "rmdir", "removedirs", "rename", "renames", "replace", "mkdir", "makedirs",
               "chmod", "lchmod", "chown", "lchown", "link", "symlink", "truncate", "utime", "mkfifo", "mknod",
               "chroot", "setxattr", "removexattr")
    # stat/access stay open: imports and os.path need them, and they reveal no file contents.
    readers = ("listdir", "scandir", "chdir", "readlink", "getxattr", "listxattr")
    spawners = ("fork", "forkpty", "system", "popen", "posix_spawn", "posix_spawnp", "execv", "execve", "execl",
                "execle", "execlp", "execlpe", "execvp", "execvpe", "spawnl", "spawnle", "spawnlp", "spawnlpe",
                "spawnv", "spawnve", "spawnvp", "spawnvpe", "kill", "killpg", "setsid", "setpgid")
    for module in (os, posix):
        if hasattr(module, "open"):
            module.open = guarded_os_open
        for name in writers:
            if hasattr(module, name):
                setattr(module, name, path_guard(getattr(module, name), write=True))
        for name in readers:
            if hasattr(module, name):
                setattr(module, name, path_guard(getattr(module, name), write=False))
        for name in spawners:
            if hasattr(module, name):
                setattr(module, name, refuse(f"process control ({name})"))

    class NoSocket(socket.socket):
        def __init__(self, *_args: Any, **_kwargs: Any) -> None:
            raise denied("network access")

    socket.socket = NoSocket  # type: ignore[misc]
    socket.socketpair = socket.create_connection = socket.create_server = refuse("network access")  # type: ignore[assignment]
    import _socket

    _socket.socket = NoSocket  # type: ignore[misc]
    import subprocess as sp

    sp.Popen = refuse("subprocess")  # type: ignore[assignment, misc]
    for name in ("multiprocessing", "ctypes", "_ctypes", "_posixsubprocess", "pty", "concurrent.futures.process"):
        sys.modules[name] = None  # type: ignore[assignment]  # makes "import name" raise ImportError
    import shutil as sh

    sh.rmtree = path_guard(sh.rmtree, write=True)  # type: ignore[assignment]
    sh.move = path_guard(sh.move, write=True)  # type: ignore[assignment]


if __name__ == "__main__":
    _child_main()
