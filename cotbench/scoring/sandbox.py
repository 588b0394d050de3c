"""Run untrusted, model-written Python against trusted tests, so that the verdict cannot be forged
and the program cannot reach the host.

Two processes per job, and the verdict is decided by the one that never runs model code:

- the **candidate** runs the program, inside the OS sandbox below. After loading the program
  it only answers requests: "the value of name N", "call handle H with these arguments",
  "run the program on this stdin". Every answer is *data*: a value of plain type (None, bool,
  int, float, complex, str, bytes, list, tuple, dict, set, frozenset, nested) serialised as
  tagged JSON, or an opaque handle number for anything else (a function, a class, an instance).
- the **judge** runs the tests: the benchmark's own code (HumanEval's ``check``, MBPP's asserts,
  LiveCodeBench's expected output) in a fresh interpreter that never loads the program. Names
  the tests take from the program are proxies whose calls go to the candidate; what comes back
  is rebuilt from the JSON as fresh objects of exactly those plain types (nothing else can be
  built from it), so ``==``, ``math.isclose``, ``set()``... all run on the judge's own objects,
  with the judge's own builtins. A handle compares equal only to itself and cannot be ordered;
  ``bool()``, ``len()``, ``iter()`` and ``[]`` on it ask the candidate for plain data, which
  gives the program no power it did not have by returning that data. Expected values and the
  test code are never sent to the candidate.
So whatever the program does to its own process (objects equal to everything, patched
``exec``/``compile``/``json``, frame or ``gc`` walks, fake messages on any descriptor), it can
only influence the values it returns: it passes by returning the right values, or not at all.
The judge reports each test to this process on its own pipe; errors in the record are made here
or by the judge from exception *type names* (a builtin exception's name, or "an exception of
its own"), errno names and line numbers, never from text the program produced.

The candidate's sandbox, each layer used when the host allows it (``SandboxResult.layers``):
- ``netns``/``pidns``/``ipcns``: fresh network (no interfaces but a down loopback; abstract
  UNIX sockets are per network namespace), PID (the program sees only itself; when it dies
  the kernel kills everything it left) and System V IPC namespaces (``unshare``).
- ``jail``: a private mount namespace whose root is a new, read-only tmpfs holding only the
  system directories (``/usr``, ``/lib*``, ``/bin``...) and the Python installation, bind-mounted
  read-only, ``/dev/{null,zero,full,random,urandom}``, a fresh read-only ``/proc`` of the PID
  namespace, and the work directory ``/sandbox`` (also ``/tmp``, HOME, TMPDIR): a tmpfs of
  ``max_disk_mb`` with an inode cap. The host's other files (home directories, ``/etc``, ``/run``
  and its sockets, ``/tmp``) do not exist there; the old root is detached (``pivot_root``, or
  ``chroot`` where the root cannot be pivoted). The work tmpfs vanishes with the namespace, so
  nothing is left on the host to clean up, however deep the tree the program made.
- ``nobody``: as real root, the program runs as uid/gid 65534 with no supplementary groups.
- ``nocaps``: every capability dropped (bounding set too) and no-new-privs.
- ``landlock``: only where there is no jail (e.g. an unprivileged container): read-only access
  to the same system paths, writes only in the work directory, and (kernel ABI 4/6) no TCP
  bind/connect, abstract UNIX sockets or signals outside the process.
- ``seccomp``: a filter refusing process creation (fork, vfork, clone without CLONE_THREAD;
  threads still work), memory outside the address-space limit (memfd_create, memfd_secret,
  System V shm/message queues), session changes, and kernel surfaces a test never needs
  (ptrace, process_vm_*, io_uring, userfaultfd, bpf, perf_event_open, keyrings, mount,
  namespaces). With one process, RLIMIT_AS plus the work tmpfs bounds the job's memory.
- ``cgroup`` / ``memcg``: a per-job pids cgroup (``pids.max``) and memory cgroup (the job's
  total, tmpfs pages included), where this process may create them.
- ``rlimits``: CPU seconds, address space, file size, open files, no core dumps.
- ``guard``: Python-level refusals of sockets, process creation and outside file access, for
  clear errors; it can be bypassed from Python (its wrappers hold the real functions), which is
  why nothing above depends on it.
The layers a host allows are found once per process by a probe job; a job then insists on all
of them: a candidate that cannot rebuild one exits before its "ready" message, and ``run_tests``
raises (a host problem, not a score). Always: a minimal
environment, stdin from /dev/null, a wall-clock timeout that kills both processes, output
capped. Without the jail the work directory is a host temp directory (removed by a walk that
cannot fail), host UNIX sockets stay reachable by path and the disk total is not bounded (only
each file); without namespaces or Landlock, only the guard keeps host files out of reach.
The judge is a plain subprocess with rlimits (and not dumpable): test code is trusted.

The module also runs as the children: ``python -I sandbox.py candidate|judge|probe`` reads a
JSON job on stdin (so it imports nothing from cotbench).
"""

from __future__ import annotations

# The children (``python -I sandbox.py ROLE``) need only these; they stop at the dispatch below,
# before the parent side and its slower imports, so each job starts faster.
import builtins
import json
import os
import signal
import sys

_INSIDE_WORK = "/sandbox"  # the work directory's path in the jail
_NOBODY = 65534
_MAX_MESSAGE = 16 << 20  # bytes in one reply the judge accepts
_MAX_DEPTH = 200  # nesting of a serialised value
_INT_DIGITS = 100_000  # int <-> str conversions both children allow


# ------------------------------------------------------------------ values on the wire
# Plain JSON for None/bool/int/float/str and lists; {"$t": tag, "v": payload} for the rest.

_SCALARS = (type(None), bool, int, float, str)


def _encode(value: Any, other: Any, depth: int = 0) -> Any:
    kind = type(value)
    if kind in _SCALARS:
        return value
    if depth > _MAX_DEPTH:
        raise ValueError("value nested too deeply")
    if kind is list:
        return [_encode(v, other, depth + 1) for v in value]
    if kind in (tuple, set, frozenset):
        return {"$t": kind.__name__, "v": [_encode(v, other, depth + 1) for v in value]}
    if kind is dict:
        return {"$t": "dict", "v": [[_encode(k, other, depth + 1), _encode(v, other, depth + 1)]
                                    for k, v in value.items()]}
    if kind in (bytes, bytearray):
        return {"$t": kind.__name__, "v": bytes(value).decode("latin-1")}
    if kind is complex:
        return {"$t": "complex", "v": [value.real, value.imag]}
    return other(value, depth)


def _plain_base(value: Any) -> Any:
    """A subclass of a plain type (namedtuple, Counter, IntEnum, numpy scalar) as its base value."""
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return value.tolist()
    for base in (bool, int, float, complex, str, bytes, bytearray, tuple, list, dict, set, frozenset):
        if isinstance(value, base):
            return str.__str__(value) if base is str else base(value)
    return None


_DECODERS = {"tuple": tuple, "set": set, "frozenset": frozenset}


def _decode(value: Any, ref: Any, depth: int = 0) -> Any:
    """Rebuild a value from parsed JSON; only plain types (and ``ref(n)``'s handles) come out."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if depth > _MAX_DEPTH:
        raise ValueError("value nested too deeply")
    if kind is list:
        return [_decode(v, ref, depth + 1) for v in value]
    if kind is not dict or value.keys() != {"$t", "v"}:
        raise ValueError("not a plain value")
    tag, payload = value["$t"], value["v"]
    if tag in _DECODERS and type(payload) is list:
        return _DECODERS[tag](_decode(v, ref, depth + 1) for v in payload)
    if tag == "dict" and type(payload) is list:
        out = {}
        for pair in payload:
            if type(pair) is not list or len(pair) != 2:
                raise ValueError("bad dict item")
            out[_decode(pair[0], ref, depth + 1)] = _decode(pair[1], ref, depth + 1)
        return out
    if tag in ("bytes", "bytearray") and type(payload) is str:
        return (bytes if tag == "bytes" else bytearray)(payload.encode("latin-1"))
    if tag == "complex" and type(payload) is list and len(payload) == 2 \
            and all(type(p) in (int, float) for p in payload):
        return complex(payload[0], payload[1])
    if tag == "ref" and type(payload) is int:
        return ref(payload)
    raise ValueError("not a plain value")


class _Channel:
    """One JSON object per line over a pipe pair."""

    def __init__(self, read_fd: int, write_fd: int, limit: int = 1 << 62) -> None:
        self._reader = open(read_fd, "rb", buffering=1 << 16)  # noqa: SIM115 - lives as long as the process
        self._write_fd = write_fd
        self._limit = limit

    def send(self, message: Any) -> None:
        data = memoryview(json.dumps(message, separators=(",", ":")).encode() + b"\n")
        while data:
            data = data[os.write(self._write_fd, data):]

    def recv(self) -> Any:
        line = self._reader.readline(self._limit + 1)
        if not line:
            raise EOFError
        if len(line) > self._limit or not line.endswith(b"\n"):
            raise ValueError("reply too long")
        return json.loads(line)


# ------------------------------------------------------------------ judge (trusted: runs only test code)

class _Gone(BaseException):
    """The candidate ended or broke the protocol: no further answers (not catchable as Exception)."""


_EXCEPTIONS = {n: getattr(builtins, n) for n in dir(builtins)
               if isinstance(getattr(builtins, n), type) and issubclass(getattr(builtins, n), BaseException)}


def _exc_name(name: Any) -> str:
    return name if type(name) is str and name in _EXCEPTIONS else "an exception of its own"


def _judge_main() -> None:
    import errno as errno_mod
    import importlib
    import resource

    job = json.loads(sys.stdin.buffer.read())
    libc = _libc()
    if libc is not None:  # PR_SET_DUMPABLE 0: no /proc/<pid>/mem or fd/ for same-uid processes
        libc.prctl(4, 0, 0, 0, 0)
    resource.setrlimit(resource.RLIMIT_CPU, (job["cpu_s"], job["cpu_s"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if hasattr(sys, "set_int_max_str_digits"):  # Python 3.10.7+
        sys.set_int_max_str_digits(_INT_DIGITS)
    nonce = job["nonce"]

    def report(**msg: Any) -> None:
        sys.stdout.write(f"{nonce} {json.dumps(msg)}\n")
        sys.stdout.flush()

    chan = _Channel(job["resp_fd"], job["req_fd"], _MAX_MESSAGE)
    remotes: dict[int, _Remote] = {}

    def ask(op: str, **args: Any) -> Any:
        try:
            chan.send({"op": op, **args})
            reply = chan.recv()
        except (EOFError, OSError):
            raise _Gone("the program's process ended") from None
        except (ValueError, RecursionError, MemoryError):
            raise _Gone("the program's reply was unreadable") from None
        if type(reply) is not dict:
            raise _Gone("the program's reply was unreadable")
        if "ok" in reply:
            try:
                return _decode(reply["ok"], handle)
            except (ValueError, TypeError, RecursionError, MemoryError, UnicodeError):
                raise _NotPlain() from None
        exc_type = _EXCEPTIONS.get(reply.get("err")) if type(reply.get("err")) is str else None
        try:
            exc = exc_type() if exc_type is not None else RuntimeError()
        except BaseException:  # noqa: BLE001 - a builtin that needs arguments
            exc = RuntimeError()
        exc.from_program = _exc_name(reply.get("err"))  # type: ignore[attr-defined]
        raise exc

    def handle(ref: int) -> _Remote:
        if ref not in remotes:
            remotes[ref] = _Remote(ref, ask)
        return remotes[ref]

    def encode_arg(value: Any, depth: int) -> Any:
        if isinstance(value, _Remote):
            return {"$t": "ref", "v": value._ref}
        base = _plain_base(value)
        if base is None:
            raise TypeError(f"cannot pass a {type(value).__name__} to the program")
        return _encode(base, encode_arg, depth)

    _Remote.encode = staticmethod(lambda v: _encode(v, encode_arg))  # type: ignore[attr-defined]
    tests = job["tests"]

    def describe(test: dict[str, Any], exc: BaseException) -> str:
        where = test["name"]
        if isinstance(exc, _Gone):
            return f"{where}: {exc.args[0] if exc.args else 'the program stopped answering'}"
        if isinstance(exc, _NotPlain):
            return f"{where}: the program returned a value that is not plain data"
        if hasattr(exc, "from_program"):
            return f"{where}: the program raised {exc.from_program}"
        text = f"{where}: {type(exc).__name__}"
        if isinstance(exc, AssertionError):
            tb = exc.__traceback__
            line = None
            while tb is not None:
                if tb.tb_frame.f_code.co_filename == "<test>":
                    line = tb.tb_lineno
                tb = tb.tb_next
            if line is not None:
                text += f" (test line {line})"
        return text

    try:  # sent before the program runs: without it, the sandbox (not the program) failed
        ready = chan.recv()
    except (EOFError, OSError, ValueError, RecursionError):
        ready = None
    if ready != {"ready": True}:
        report(event="unready")
        report(event="done")
        return
    try:
        hello = chan.recv()
    except (EOFError, OSError, ValueError, RecursionError):
        hello = None
    if type(hello) is not dict or "load" not in hello:
        report(event="gone", error="the program's process ended before loading")
        report(event="done")
        return
    if hello.get("load") is not True:
        detail = _exc_name(hello.get("err"))
        line, code = hello.get("line"), hello.get("errno")
        if type(line) is int:
            detail += f" (line {line})"
        if type(code) is int and code in errno_mod.errorcode:
            detail += f" [{errno_mod.errorcode[code]}]"
        report(event="load", ok=False, error=f"the program failed to load: {detail}")
        report(event="done")
        return
    report(event="load", ok=True)

    namespace: dict[str, Any] = {"__name__": "__test__", "__builtins__": builtins}
    setup_error = None
    try:
        for module in job["modules"]:
            namespace[module] = importlib.import_module(module)
        exec(compile(job["setup"], "<setup>", "exec"), namespace)  # noqa: S102 - trusted benchmark code
    except BaseException as exc:  # noqa: BLE001
        setup_error = f"the test setup failed: {type(exc).__name__}"
    try:
        for name in job["remote"]:
            try:
                namespace[name] = ask("get", name=name)
            except _NotPlain:
                namespace.pop(name, None)
            except _Gone:
                raise
            except BaseException:  # noqa: BLE001 - the program does not define it
                namespace.pop(name, None)
    except _Gone as gone:
        for index, test in enumerate(tests):
            report(event="test", index=index, ok=False, error=describe(test, gone) if index == 0 else None)
        report(event="gone")
        report(event="done")
        return

    for index, test in enumerate(tests):
        ok, error = False, setup_error
        if setup_error is None:
            try:
                if test["kind"] == "code":
                    exec(compile(test["code"], "<test>", "exec"), namespace)  # noqa: S102
                    ok = True
                else:
                    got = ask("io", stdin=test["stdin"])
                    if type(got) is not str:
                        raise _NotPlain()
                    lines = [ln.rstrip() for ln in got.strip().splitlines()]
                    ok = lines == [ln.rstrip() for ln in test["expected"].strip().splitlines()]
                    error = None if ok else f"{test['name']}: wrong output"
            except _Gone as gone:
                report(event="test", index=index, ok=False, error=describe(test, gone))
                report(event="gone")
                break
            except BaseException as exc:  # noqa: BLE001 - a failed test, whatever it raised
                ok, error = False, describe(test, exc)
        report(event="test", index=index, ok=ok, error=None if ok else error)
    report(event="done")


class _NotPlain(Exception):
    """The program's reply held something other than plain data."""


class _Remote:
    """A value that lives in the candidate. Equal only to itself; no ordering, no arithmetic."""

    __slots__ = ("_ref", "_ask")
    encode: Any = None

    def __init__(self, ref: int, ask: Any) -> None:
        self._ref = ref
        self._ask = ask

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        enc = type(self).encode
        return self._ask("call", ref=self._ref, args=[enc(a) for a in args],
                         kwargs={str(k): enc(v) for k, v in kwargs.items()})

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._ask("attr", ref=self._ref, name=name)

    def __bool__(self) -> bool:
        value = self._ask("bool", ref=self._ref)
        if type(value) is not bool:
            raise _NotPlain()
        return value

    def __len__(self) -> int:
        value = self._ask("len", ref=self._ref)
        if type(value) is not int or value < 0:
            raise _NotPlain()
        return value

    def __iter__(self) -> Any:
        value = self._ask("list", ref=self._ref)
        if type(value) is not list:
            raise _NotPlain()
        return iter(value)

    def __getitem__(self, key: Any) -> Any:
        return self._ask("item", ref=self._ref, key=type(self).encode(key))

    def __repr__(self) -> str:
        return f"<object {self._ref} of the program>"


# ------------------------------------------------------------------ candidate (runs the program)

def _candidate_main() -> None:
    import io

    job = json.loads(sys.stdin.buffer.read())
    _setup(job, strict=True)
    if hasattr(sys, "set_int_max_str_digits"):  # Python 3.10.7+
        sys.set_int_max_str_digits(_INT_DIGITS)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # oversized writes fail instead of killing us
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115
    os.chdir(job["root"])
    chan = _Channel(job["req_fd"], job["resp_fd"])
    if job["guard"]:
        _install_guard(job["root"], builtins, io)
    program = job["program"]
    run, compile_, base_exc = exec, compile, BaseException
    chan.send({"ready": True})
    handles: dict[int, Any] = {}
    ids: dict[int, int] = {}

    def describe(exc: BaseException) -> dict[str, Any]:
        out: dict[str, Any] = {"err": type(exc).__name__}
        if isinstance(getattr(exc, "errno", None), int):
            out["errno"] = exc.errno  # type: ignore[attr-defined]
        if isinstance(exc, SyntaxError) and isinstance(exc.lineno, int):
            out["line"] = exc.lineno
        return out

    def keep(value: Any, depth: int) -> Any:
        base = _plain_base(value)
        if base is not None and type(base) is not type(value):
            return _encode(base, keep, depth)
        if id(value) not in ids:
            ids[id(value)] = len(handles) + 1
            handles[len(handles) + 1] = value
        return {"$t": "ref", "v": ids[id(value)]}

    def arg(ref: int) -> Any:
        return handles[ref]

    def leave() -> None:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except base_exc:  # noqa: BLE001 - the program may have replaced them
                pass
        os._exit(0)  # skip atexit hooks the program may have registered

    namespace: dict[str, Any] = {"__name__": "solution", "__builtins__": builtins}
    try:
        code = compile_(program, "solution.py", "exec")
        # Programs judged on stdin/stdout run once per test instead; they would block on input().
        if job["exec_program"]:
            run(code, namespace)
    except base_exc as exc:  # SystemExit and all: the program failed to load
        chan.send({"load": False, **describe(exc)})
        leave()
    chan.send({"load": True})

    def run_io(stdin: str) -> str:
        saved = sys.stdin, sys.stdout
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin.encode()), encoding="utf-8")
        sys.stdout = captured = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
        try:
            run(compile_(program, "solution.py", "exec"), {"__name__": "__main__", "__builtins__": builtins})
        except SystemExit as exc:
            if exc.code not in (None, 0):
                raise
        finally:
            sys.stdin, sys.stdout = saved
        captured.flush()
        return captured.buffer.getvalue().decode("utf-8", "replace")

    while True:
        try:
            req = chan.recv()
        except base_exc:
            leave()  # the judge is done
        try:
            op = req["op"]
            if op == "get":
                if req["name"] not in namespace:
                    raise NameError(req["name"])
                value = namespace[req["name"]]
            elif op == "io":
                value = run_io(req["stdin"])
            else:
                target = handles[req["ref"]]
                if op == "call":
                    value = target(*_decode(req["args"], arg), **{k: _decode(v, arg) for k, v in req["kwargs"].items()})
                elif op == "attr":
                    value = getattr(target, req["name"])
                elif op == "bool":
                    value = bool(target)
                elif op == "len":
                    value = len(target)
                elif op == "list":
                    value = list(target)
                elif op == "item":
                    value = target[_decode(req["key"], arg)]
                else:
                    raise ValueError(op)
            reply = {"ok": _encode(value, keep)}
        except base_exc as exc:  # noqa: BLE001 - reported to the judge by type only
            reply = describe(exc)
        try:
            chan.send(reply)
        except (TypeError, ValueError, RecursionError):
            chan.send({"err": "ValueError"})
        except OSError:
            leave()


def _setup(job: dict[str, Any], strict: bool) -> list[str]:
    """Build the sandbox around this process; the layers reached. ``strict``: any layer in
    ``job["require"]`` that fails here ends the process (a job never runs with fewer)."""
    import resource

    done: list[str] = []

    def step(name: str, fn: Any) -> None:
        try:
            fn()
            done.append(name)
        except Exception as exc:  # noqa: BLE001
            if strict and name in job["require"]:
                sys.stderr.write(f"sandbox: {name} failed: {type(exc).__name__}\n")
                os._exit(97)

    for group in job["cgroups"]:  # first, while /sys is still there and we may write to it
        try:
            with open(os.path.join(group, "cgroup.procs"), "w") as fh:
                fh.write("0")
        except OSError:
            if strict:
                os._exit(97)
    libc = _libc()
    real_root = _is_real_root()
    if job["jail"] and libc is not None:
        step("jail", lambda: _jail(libc, job["newroot"], job["disk_mb"], real_root, job["host_mnt_ns"]))
    bounding = False
    if libc is not None:  # needs CAP_SETPCAP, so before the uid changes
        try:
            _drop_bounding_set(libc)
            bounding = True
        except OSError:
            pass
    if "jail" in done and real_root:
        step("nobody", lambda: _become_nobody(libc))
    if libc is not None:
        step("nocaps", lambda: _drop_caps(libc, bounding))
        if "jail" not in done:  # the next best file-system bound, needs no privileges
            step("landlock", lambda: _landlock(libc, job["root"]))
        step("seccomp", lambda: _seccomp(libc))
    if job["limits"] is not None:
        lim, mb = job["limits"], 1 << 20
        for res, value in ((resource.RLIMIT_CPU, lim["cpu_s"]), (resource.RLIMIT_AS, lim["memory_mb"] * mb),
                           (resource.RLIMIT_FSIZE, lim["max_file_mb"] * mb), (resource.RLIMIT_NOFILE, 64),
                           (resource.RLIMIT_CORE, 0)):
            resource.setrlimit(res, (value, value))
        if os.geteuid() != 0 and "seccomp" not in done:  # otherwise the filter refuses new processes
            try:
                resource.setrlimit(resource.RLIMIT_NPROC, (lim["max_processes"], lim["max_processes"]))
            except (ValueError, OSError):
                pass
    return done


def _libc() -> Any:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        ul = ctypes.c_ulong
        libc.prctl.argtypes = [ctypes.c_int, ul, ul, ul, ul]
        libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ul, ctypes.c_char_p]
        libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
        libc.ctypes = ctypes
        return libc
    except (ImportError, OSError, AttributeError):
        return None


def _is_real_root() -> bool:
    """uid 0 of the initial user namespace (not root mapped inside a user namespace)."""
    try:
        with open("/proc/self/uid_map") as fh:
            return os.geteuid() == 0 and fh.read().split()[:3] == ["0", "0", "4294967295"]
    except OSError:
        return False


def _check(libc: Any, result: int, what: str) -> None:
    if result != 0:
        err = libc.ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


_MS = {"rdonly": 1, "nosuid": 2, "nodev": 4, "noexec": 8, "remount": 32, "bind": 4096, "rec": 16384,
       "private": 1 << 18, "noatime": 1024, "nodiratime": 2048, "relatime": 1 << 21}


def _jail(libc: Any, new: str, disk_mb: int, real_root: bool, host_mnt_ns: str) -> None:
    """A new root: system directories and Python read-only, a tmpfs work directory, fresh /proc."""
    if os.readlink("/proc/self/ns/mnt") == host_mnt_ns:  # never remount or pivot the host's root
        raise OSError("not in a private mount namespace")
    ms = _MS

    def mount(src: str | None, dst: str, fstype: str | None, flags: int, data: str | None = None) -> None:
        _check(libc, libc.mount(src and src.encode(), dst.encode(), fstype and fstype.encode(), flags,
                                data and data.encode()), f"mount {dst}")

    def bind_ro(src: str, dst: str, device: bool = False) -> None:
        mount(src, dst, None, ms["bind"])
        st = os.statvfs(src).f_flag
        kept = sum(flag for bit, flag in ((2, ms["nosuid"]), (4, ms["nodev"]), (8, ms["noexec"]),
                                          (1024, ms["noatime"]), (2048, ms["nodiratime"]), (4096, ms["relatime"]))
                   if st & bit)
        extra = ms["nosuid"] | (0 if device else ms["nodev"])
        mount(None, dst, None, ms["remount"] | ms["bind"] | ms["rdonly"] | kept | extra)

    mount(None, "/", None, ms["rec"] | ms["private"])
    mount("tmpfs", new, "tmpfs", ms["nosuid"] | ms["nodev"], "size=1m,nr_inodes=1000,mode=755")
    done: list[str] = []
    for path in _system_paths():
        if path in ("/", "") or not os.path.lexists(path) or \
                any(path == d or path.startswith(d.rstrip("/") + "/") for d in done):
            continue
        dst = new + path
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.islink(path):
            if not os.path.lexists(dst):
                os.symlink(os.readlink(path), dst)
            continue
        if os.path.isdir(path):
            os.makedirs(dst, exist_ok=True)
        else:
            open(dst, "a").close()  # noqa: SIM115
        bind_ro(path, dst)
        done.append(path)
    os.makedirs(new + "/dev")
    for dev in ("null", "zero", "full", "random", "urandom"):
        if os.path.exists(f"/dev/{dev}"):
            open(f"{new}/dev/{dev}", "a").close()  # noqa: SIM115
            bind_ro(f"/dev/{dev}", f"{new}/dev/{dev}", device=True)
    os.makedirs(new + "/proc")
    mount("proc", new + "/proc", "proc", ms["nosuid"] | ms["nodev"] | ms["noexec"] | ms["rdonly"])
    owner = f",uid={_NOBODY},gid={_NOBODY}" if real_root else ""
    os.makedirs(new + _INSIDE_WORK)
    mount("tmpfs", new + _INSIDE_WORK, "tmpfs", ms["nosuid"] | ms["nodev"] | ms["noexec"],
          f"size={disk_mb}m,nr_inodes=4096,mode=700{owner}")
    os.symlink(_INSIDE_WORK.lstrip("/"), new + "/tmp")
    os.chdir(new)
    nr = {"x86_64": 155, "aarch64": 41}.get(os.uname().machine)
    if nr is not None and libc.syscall(nr, b".", b".") == 0:  # pivot_root(".", "."), then drop the old root
        _check(libc, libc.umount2(b".", 2), "detach the old root")  # MNT_DETACH
    else:  # e.g. an initramfs root: chroot, which holds once the capabilities are gone
        os.chroot(".")
    os.chdir("/")
    mount(None, "/", None, ms["remount"] | ms["rdonly"] | ms["nosuid"] | ms["nodev"])
    os.chdir(_INSIDE_WORK)


def _system_paths() -> list[str]:
    """What Python needs to keep importing: system directories and the Python installation."""
    paths = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc/ld.so.cache", "/etc/localtime"]
    for p in (sys.base_prefix, sys.prefix, sys.exec_prefix, os.path.dirname(sys.executable)):
        paths += [os.path.abspath(p), os.path.realpath(p)]
    return paths


def _landlock(libc: Any, work: str) -> None:
    """Landlock: read only the system paths, write only ``work``; where the kernel's ABI allows,
    also no TCP bind/connect, no abstract UNIX sockets or signals outside this process."""
    ctypes = libc.ctypes
    abi = libc.syscall(444, None, 0, 1)  # landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)
    if abi < 1:
        _check(libc, -1, "landlock")
    fs_all = (1 << 13) - 1 | (1 << 13 if abi >= 2 else 0) | (1 << 14 if abi >= 3 else 0) | (1 << 15 if abi >= 5 else 0)
    read = 1 | 4 | 8  # EXECUTE, READ_FILE, READ_DIR
    device = 2 | 4 | (1 << 14 if abi >= 3 else 0)  # WRITE_FILE, READ_FILE, TRUNCATE

    class Ruleset(ctypes.Structure):
        _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]

    class PathBeneath(ctypes.Structure):
        _pack_ = 1
        _fields_ = [("allowed", ctypes.c_uint64), ("fd", ctypes.c_int32)]

    attr = Ruleset(fs_all, 3 if abi >= 4 else 0, 3 if abi >= 6 else 0)
    ruleset = libc.syscall(444, ctypes.byref(attr), ctypes.sizeof(attr), 0)
    if ruleset < 0:
        _check(libc, -1, "landlock ruleset")
    try:
        rules = [(p, read) for p in _system_paths()]
        rules += [(f"/dev/{d}", device) for d in ("null", "zero", "full", "random", "urandom")] + [(work, fs_all)]
        for path, allowed in rules:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                if not os.path.isdir(path):
                    allowed &= 1 | 2 | 4 | (1 << 14) | (1 << 15)  # the rights a file can carry
                rule = PathBeneath(allowed & fs_all, fd)
                _check(libc, libc.syscall(445, ruleset, 1, ctypes.byref(rule), 0), f"landlock rule {path}")
            finally:
                os.close(fd)
        _check(libc, libc.prctl(38, 1, 0, 0, 0), "no_new_privs")
        _check(libc, libc.syscall(446, ruleset, 0), "landlock_restrict_self")
    finally:
        os.close(ruleset)


def _become_nobody(libc: Any) -> None:
    os.setgroups([])
    os.setresgid(_NOBODY, _NOBODY, _NOBODY)
    os.setresuid(_NOBODY, _NOBODY, _NOBODY)
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG: a credential change cleared it


def _drop_bounding_set(libc: Any) -> None:
    for cap in range(64):  # PR_CAPBSET_DROP until the kernel's last capability
        if libc.prctl(24, cap, 0, 0, 0) != 0:
            if libc.ctypes.get_errno() == 22:  # EINVAL: no such capability
                break
            raise OSError(libc.ctypes.get_errno(), "capability bounding set")


def _drop_caps(libc: Any, bounding: bool) -> None:
    ctypes = libc.ctypes
    if not bounding:
        raise OSError("the capability bounding set could not be dropped")
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()
    _check(libc, libc.capset(header, data), "capset")
    _check(libc, libc.prctl(38, 1, 0, 0, 0), "no_new_privs")  # PR_SET_NO_NEW_PRIVS


# syscall numbers: x86_64, and the generic table aarch64 uses (None: no such call there)
_DENIED = {
    "fork": (57, None), "vfork": (58, None), "memfd_create": (319, 279), "memfd_secret": (447, 447),
    "shmget": (29, 194), "msgget": (68, 186), "setsid": (112, 157), "setpgid": (109, 154),
    "ptrace": (101, 117), "process_vm_readv": (310, 270), "process_vm_writev": (311, 271),
    "io_uring_setup": (425, 425), "userfaultfd": (323, 282), "bpf": (321, 280), "perf_event_open": (298, 241),
    "keyctl": (250, 219), "add_key": (248, 217), "request_key": (249, 218), "unshare": (272, 97),
    "setns": (308, 268), "mount": (165, 40), "umount2": (166, 39), "pivot_root": (155, 41),
}
_CLONE, _CLONE3 = (56, 220), (435, 435)
_ARCHES = {"x86_64": (0, 0xC000003E), "aarch64": (1, 0xC00000B7)}


def _seccomp(libc: Any) -> None:
    """Refuse the calls in ``_DENIED`` (EPERM), clone without CLONE_THREAD (EPERM) and clone3
    (ENOSYS, so threads fall back to clone); kill on a foreign syscall ABI."""
    ctypes = libc.ctypes
    column, arch = _ARCHES[os.uname().machine]
    allow, kill = 0x7FFF0000, 0x80000000
    eperm, enosys = 0x00050000 | 1, 0x00050000 | 38
    ld, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    prog = [(ld, 0, 0, 4), (jeq, 1, 0, arch), (ret, 0, 0, kill), (ld, 0, 0, 0)]
    if column == 0:
        prog += [(jge, 0, 1, 0x40000000), (ret, 0, 0, eperm)]  # the x32 ABI
    for numbers in _DENIED.values():
        if numbers[column] is not None:
            prog += [(jeq, 0, 1, numbers[column]), (ret, 0, 0, eperm)]
    prog += [(jeq, 0, 1, _CLONE3[column]), (ret, 0, 0, enosys)]
    prog += [(jeq, 0, 3, _CLONE[column]), (ld, 0, 0, 16), (jset, 1, 0, 0x00010000), (ret, 0, 0, eperm)]
    prog += [(ret, 0, 0, allow)]

    class Filter(ctypes.Structure):
        _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint32)]

    class Program(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(Filter))]

    filters = (Filter * len(prog))(*[Filter(*ins) for ins in prog])
    fprog = Program(len(prog), filters)
    _check(libc, libc.prctl(38, 1, 0, 0, 0), "no_new_privs")
    _check(libc, libc.prctl(22, 2, ctypes.addressof(fprog), 0, 0), "seccomp")  # PR_SET_SECCOMP, FILTER


def _probe_main() -> None:
    job = json.loads(sys.stdin.buffer.read())
    layers = _setup(job, strict=False)
    if "jail" in layers:  # the outside must be gone and the work directory writable
        ok = not os.path.exists("/etc/hostname") and not os.path.exists("/home") and os.getcwd() == _INSIDE_WORK
        with open("probe", "w") as fh:
            fh.write("x")
        if not ok:
            layers.remove("jail")
    if "landlock" in layers:
        try:
            with open("/proc/self/status"):
                layers.remove("landlock")
        except OSError:
            pass
    if "seccomp" in layers:
        try:
            os.memfd_create("probe")
            layers.remove("seccomp")
        except OSError:
            pass
    print(json.dumps(layers))


# ------------------------------------------------------------------ the Python guard

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
        return PermissionError(1, f"sandbox: {what} is not allowed")

    busy = []  # non-empty while check() runs: realpath's own readlink calls are not the program's

    def check(path: Any, write: bool = True, dir_fd: Any = None) -> None:
        if busy:
            return
        if dir_fd is not None:
            raise denied("dir_fd file access")
        busy.append(1)
        try:
            ok = inside(path, (root,) if write else (root, *readable, "/dev/null", "/dev/urandom"))
        finally:
            busy.clear()
        if not ok:
            raise denied("access outside the sandbox")

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
    {"candidate": _candidate_main, "judge": _judge_main, "probe": _probe_main}[sys.argv[1]]()
    sys.exit(0)

# ------------------------------------------------------------------ parent side

import ast  # noqa: E402
import dataclasses  # noqa: E402
import re  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterable, Sequence  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from functools import cache  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

_CHILD_SCRIPT = Path(__file__).resolve()


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 10.0  # wall clock for the whole job
    memory_mb: int = 1024  # address space, and the memory cgroup's limit where there is one
    max_processes: int = 16  # the pids cgroup (the seccomp filter refuses new processes anyway)
    max_file_mb: int = 16  # one file, also the program's stdout/stderr
    max_disk_mb: int = 64  # the work directory in all
    max_output_chars: int = 4000  # stdout/stderr tails kept in the result


@dataclass(frozen=True)
class CodeTest:
    """Python statements run by the judge (e.g. an assert); names they read that the job's
    setup does not define are taken from the program (see ``run_tests``)."""

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
    error: str | None  # the first failure, one short line made by the scorer
    stdout: str  # the program's own output (tails): never put these in a record unreviewed
    stderr: str
    returncode: int | None
    duration_s: float
    layers: tuple[str, ...] = field(default=())
    peak_processes: int | None = None  # from the pids cgroup, when there was one

    @property
    def all_passed(self) -> bool:
        return self.status == "ok" and self.total > 0 and self.passed == self.total


@dataclass(frozen=True)
class _Isolation:
    namespaces: tuple[str, ...] = ()  # the unshare command line, or empty
    jail: bool = False  # the candidate builds the private root
    layers: tuple[str, ...] = ()  # what the candidate achieves here (found by the probe)

    def command(self, argv: list[str]) -> list[str]:
        return [*self.namespaces, *argv]


@cache
def _isolation() -> _Isolation:
    """The strongest combination of layers this host allows, found by trying them once."""
    unshare = shutil.which("unshare")
    user = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    tail = ["--fork", "--kill-child"]
    candidates: list[tuple[tuple[str, ...], bool, tuple[str, ...]]] = []
    if unshare:
        candidates += [
            ((unshare, *user, "--mount", "--propagation", "private", "--net", "--pid", "--ipc", *tail), True,
             ("netns", "pidns", "ipcns")),
            ((unshare, *user, "--net", "--pid", "--ipc", *tail), False, ("netns", "pidns", "ipcns")),
            ((unshare, "--user", "--map-root-user", "--net", *tail), False, ("netns",)),
        ]
    candidates.append(((), False, ()))
    for namespaces, jail, ns_layers in candidates:
        found = _probe(namespaces, jail)
        if found is None:
            continue
        if jail and "jail" not in found:
            continue  # the next candidate gives the same namespaces without a mount namespace
        return _Isolation(namespaces, jail, (*ns_layers, *found))
    return _Isolation()


def _probe(namespaces: tuple[str, ...], jail: bool) -> list[str] | None:
    """Set the sandbox up once in a throwaway child; the layers it reached, or None."""
    private = tempfile.mkdtemp(prefix="cotbench-probe-")
    try:
        os.mkdir(os.path.join(private, "root"))
        job = {"jail": jail, "newroot": os.path.join(private, "root"), "root": private, "require": [], "cgroups": [],
               "disk_mb": 1, "limits": None, "host_mnt_ns": _mount_namespace()}
        proc = subprocess.run([*namespaces, sys.executable, "-I", str(_CHILD_SCRIPT), "probe"],
                              input=json.dumps(job).encode(), capture_output=True, timeout=20,
                              cwd=private, env=_child_env(private))
        if proc.returncode != 0:
            return None
        layers = json.loads(proc.stdout.decode().strip().splitlines()[-1])
        return [str(x) for x in layers] if isinstance(layers, list) else None
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None
    finally:
        _remove_tree(private)


def isolation_layers() -> tuple[str, ...]:
    """The layers a job on this host gets (for a 'doctor' command or a run manifest)."""
    groups = _Cgroups.make(Limits())
    groups.remove()
    return (*_isolation().layers, *groups.layers, "rlimits", "guard")


def _mount_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/mnt")
    except OSError:
        return ""  # no /proc: the jail refuses to start (its own readlink fails too)


def _child_env(work: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": work, "TMPDIR": work, "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}


@dataclass
class _Cgroups:
    """Per-job pids and memory cgroups (cgroup v1 hierarchies or our v2 subtree), where allowed."""

    dirs: list[Path] = field(default_factory=list)
    pids: Path | None = None
    memory: Path | None = None

    @property
    def layers(self) -> tuple[str, ...]:
        return (*(("cgroup",) if self.pids else ()), *(("memcg",) if self.memory else ()))

    @classmethod
    def make(cls, limits: Limits) -> _Cgroups:
        name = f"cotbench-sbx-{os.getpid()}-{secrets.token_hex(4)}"
        own: dict[str, str] = {}
        try:
            for line in Path("/proc/self/cgroup").read_text().splitlines():
                _, controllers, path = line.split(":", 2)
                for c in controllers.split(",") if controllers else [""]:
                    own[c] = path.lstrip("/")
        except (OSError, ValueError):
            pass
        base = Path("/sys/fs/cgroup")
        v2 = base / own.get("", "") if (base / "cgroup.controllers").exists() else None
        memory_bytes = (limits.memory_mb + limits.max_disk_mb + 64) << 20
        groups = cls()
        for controller, limit_files in (("pids", {"pids.max": str(limits.max_processes + 2)}),
                                        ("memory", {"memory.limit_in_bytes": str(memory_bytes),
                                                    "memory.max": str(memory_bytes), "memory.swap.max": "0",
                                                    "memory.memsw.limit_in_bytes": str(memory_bytes)})):
            roots = [base / controller / own[controller]] if controller in own else []
            roots += [v2] if v2 is not None else []
            for root in roots:
                group = root / name
                if group in groups.dirs:
                    made = group
                else:
                    made = cls._mkdir(group)
                if made is None:
                    continue
                wrote = False
                for fname, value in limit_files.items():
                    if (made / fname).exists():
                        try:
                            (made / fname).write_text(value)
                            wrote = wrote or fname in ("pids.max", "memory.limit_in_bytes", "memory.max")
                        except OSError:
                            pass
                if made not in groups.dirs:
                    groups.dirs.append(made)
                if wrote:
                    setattr(groups, controller, made)
                    break
        for group in list(groups.dirs):
            if group not in (groups.pids, groups.memory):
                groups.dirs.remove(group)
                _rmdir_cgroup(group)
        return groups

    @staticmethod
    def _mkdir(group: Path) -> Path | None:
        try:
            group.mkdir()
        except OSError:
            return None
        if not (group / "cgroup.procs").exists():  # a plain directory, not a cgroup
            try:
                group.rmdir()
            except OSError:
                pass
            return None
        return group

    def kill(self) -> None:
        # Without a PID namespace, a process that left our process group is still in the cgroup.
        for group in self.dirs:
            for _ in range(3):
                try:
                    pids = [int(p) for p in (group / "cgroup.procs").read_text().split()]
                except (OSError, ValueError):
                    break
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass
                time.sleep(0.02)

    def oom_killed(self) -> bool:
        if self.memory is None:
            return False
        for fname, key in (("memory.events", "oom_kill"), ("memory.oom_control", "oom_kill")):
            try:
                for line in (self.memory / fname).read_text().splitlines():
                    k, _, v = line.partition(" ")
                    if k == key and int(v) > 0:
                        return True
            except (OSError, ValueError):
                continue
        return False

    def peak(self) -> int | None:
        if self.pids is None:
            return None
        try:
            return int((self.pids / "pids.peak").read_text().strip())
        except (OSError, ValueError):
            return None

    def remove(self) -> None:
        for group in self.dirs:
            _rmdir_cgroup(group)


def _rmdir_cgroup(group: Path) -> None:
    for _ in range(50):  # the kernel frees killed tasks asynchronously
        try:
            group.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.02)


def _remove_tree(path: str) -> None:
    """Delete ``path`` and everything under it; never raises (deep trees and odd modes included)."""
    try:
        if not os.path.lexists(path):
            return
        rm = shutil.which("rm")
        if rm:
            subprocess.run([rm, "-rf", "--one-file-system", "--", path], capture_output=True, timeout=60)
        if os.path.lexists(path):
            _remove_tree_by_fd(path)
    except Exception:  # noqa: BLE001 - clean-up must never take the scorer down
        pass


def _remove_tree_by_fd(path: str) -> None:
    """Iterative removal relative to one directory descriptor at a time, so neither the depth
    nor the path length matters (for hosts without ``rm``)."""
    if os.path.islink(path) or not os.path.isdir(path):
        os.unlink(path)
        return
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
    below: list[str] = []  # the names from ``path`` down to the directory ``fd`` is open on
    fd = os.open(path, flags)
    try:
        while True:
            sub = None
            for entry in os.scandir(fd):
                if entry.is_dir(follow_symlinks=False):
                    sub = entry.name
                    break
                os.unlink(entry.name, dir_fd=fd)
            if sub is not None:
                fd, old = os.open(sub, flags, dir_fd=fd), fd
                os.close(old)
                below.append(sub)
                continue
            if not below:
                break
            fd, old = os.open("..", flags, dir_fd=fd), fd
            os.close(old)
            os.rmdir(below.pop(), dir_fd=fd)  # a failure raises: stop rather than loop
    finally:
        os.close(fd)
    os.rmdir(path)


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


def names_read_bound(tree: ast.AST) -> tuple[set[str], set[str]]:
    """(names read, names bound) anywhere in ``tree``, scopes ignored."""
    read: set[str] = set()
    bound: set[str] = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Name):
            (read if isinstance(n.ctx, ast.Load) else bound).add(n.id)
        elif isinstance(n, ast.arg):
            bound.add(n.arg)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(n.name)
        elif isinstance(n, ast.ExceptHandler) and n.name:
            bound.add(n.name)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in n.names}
    return read, bound


def _parse(code: str) -> ast.Module | None:
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _program_names(program: str, setup: str, tests: Sequence[Test], remote: Iterable[str]) -> tuple[list[str], list[str]]:
    """(names the judge takes from the program, stdlib modules the judge imports itself).

    The tests' free names (read, bound neither by them nor by ``setup``) come from the program,
    except builtins and standard-library modules: the judge uses its own ``set``, ``math``,
    ``sys``... A builtin comes from the program only when it is all the tests need and the
    program defines it with ``def``/``class`` (MBPP 126 defines its own ``sum``); a module name
    only when the program defines it that way."""
    read: set[str] = set()
    bound: set[str] = set()
    for code in [setup, *(t.code for t in tests if isinstance(t, CodeTest))]:
        tree = _parse(code)
        if tree is not None:
            r, b = names_read_bound(tree)
            read |= r
            bound |= b
    prog = _parse(program)
    defined = {n.name for n in prog.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))} \
        if prog is not None else set()
    explicit = set(remote)
    free = read - bound - explicit
    modules = {n for n in free if n in sys.stdlib_module_names and n not in defined}
    own = {n for n in free - modules if not hasattr(builtins, n)}
    if not own and not explicit:
        own = {n for n in free - modules if n in defined}
    return sorted(own | explicit), sorted(modules)


def run_tests(program: str, tests: Sequence[Test], limits: Limits = Limits(), guard: bool = True,
              setup: str = "", remote: Iterable[str] = ()) -> SandboxResult:
    """Run ``program`` in the sandboxed candidate and ``tests`` in the judge (see module doc).

    ``setup``: trusted code the judge runs before the tests (test imports, a HumanEval prompt's
    helpers). ``remote``: names the judge must take from the program even though ``setup``
    defines them (HumanEval's entry point, whose stub the prompt defines). ``guard=False``
    leaves out only the Python-level guard (tests use it to show that the OS layers hold)."""
    iso = _isolation()
    start = time.monotonic()
    private = tempfile.mkdtemp(prefix="cotbench-sbx-")
    groups = _Cgroups()
    fds: list[int] = []
    try:
        groups = _Cgroups.make(limits)
        newroot = os.path.join(private, "root")
        os.mkdir(newroot)
        if iso.jail:
            work = _INSIDE_WORK
        else:
            work = os.path.join(private, "work")
            os.mkdir(work)
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        fds = [req_r, req_w, resp_r, resp_w]
        names, modules = _program_names(program, setup, tests, remote)
        nonce = secrets.token_hex(16)
        candidate_job = {
            "program": program,
            "exec_program": any(isinstance(t, CodeTest) for t in tests),
            "jail": iso.jail, "newroot": newroot, "root": work, "require": list(iso.layers),
            "host_mnt_ns": _mount_namespace(),
            "cgroups": [str(g) for g in groups.dirs], "disk_mb": limits.max_disk_mb,
            "limits": {"cpu_s": max(1, int(limits.timeout_s) + 1), "memory_mb": limits.memory_mb,
                       "max_processes": limits.max_processes, "max_file_mb": limits.max_file_mb},
            "guard": guard, "req_fd": req_r, "resp_fd": resp_w,
        }
        judge_job = {
            "setup": setup, "remote": names, "modules": modules, "nonce": nonce,
            "tests": [{"kind": "code", "code": t.code, "name": t.name or f"test {i}"} if isinstance(t, CodeTest)
                      else {"kind": "io", "stdin": t.stdin, "expected": t.expected, "name": t.name or f"test {i}"}
                      for i, t in enumerate(tests)],
            "req_fd": req_w, "resp_fd": resp_r, "cpu_s": max(1, int(limits.timeout_s) + 1),
        }
        out, err = Path(private) / "stdout", Path(private) / "stderr"
        timed_out = False
        with out.open("wb") as o, err.open("wb") as e:
            cand = subprocess.Popen(iso.command([sys.executable, "-I", str(_CHILD_SCRIPT), "candidate"]),
                                    stdin=subprocess.PIPE, stdout=o, stderr=e, cwd=private, env=_child_env(work),
                                    start_new_session=True, pass_fds=(req_r, resp_w))
            judge = None
            try:
                try:
                    assert cand.stdin is not None
                    cand.stdin.write(json.dumps(candidate_job).encode())
                    cand.stdin.close()
                except OSError:
                    pass  # it died before reading its job: the judge sees it gone
                judge = subprocess.Popen([sys.executable, "-I", str(_CHILD_SCRIPT), "judge"], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=private,
                                         env=_child_env(private), start_new_session=True, pass_fds=(req_w, resp_r))
                for fd in fds:
                    os.close(fd)
                fds = []
                remaining = max(0.1, limits.timeout_s - (time.monotonic() - start))
                try:
                    report, _ = judge.communicate(json.dumps(judge_job).encode(), timeout=remaining)
                except subprocess.TimeoutExpired:
                    timed_out = True
                    _kill_group(judge.pid)
                    report, _ = judge.communicate()
                try:  # a candidate that ended by itself gives its own exit status
                    cand.wait(timeout=0.2)
                except subprocess.TimeoutExpired:
                    pass
            finally:
                _kill_group(cand.pid)  # also reaps stragglers that outlived a normal exit
                groups.kill()
                cand.wait()
                if judge is not None and judge.poll() is None:
                    _kill_group(judge.pid)
                    judge.wait()
        events = _events(report.decode("utf-8", "replace"), nonce)
        if not timed_out and any(m.get("event") == "unready" for m in events):
            raise RuntimeError("sandbox: the candidate process could not set up the layers the probe found "
                               f"({', '.join(iso.layers)}; exit status {cand.returncode})")
        result = _collect(events, len(tests), timed_out, cand.returncode,
                          groups.oom_killed(), time.monotonic() - start,
                          (*iso.layers, *groups.layers, "rlimits", *(("guard",) if guard else ())))
        return dataclasses.replace(result, stdout=_tail(out, limits.max_output_chars),
                                   stderr=_tail(err, limits.max_output_chars), peak_processes=groups.peak())
    finally:
        for fd in fds:
            os.close(fd)
        groups.remove()
        _remove_tree(private)


def _events(report: str, nonce: str) -> list[dict[str, Any]]:
    """The judge's messages (lines tagged with this job's nonce)."""
    events = []
    for line in report.splitlines():
        tag, _, payload = line.partition(" ")
        if tag == nonce:
            try:
                msg = json.loads(payload)
            except json.JSONDecodeError:
                continue
            if isinstance(msg, dict):
                events.append(msg)
    return events


def _collect(events: list[dict[str, Any]], n: int, timed_out: bool, returncode: int | None, oom: bool,
             duration: float, layers: tuple[str, ...]) -> SandboxResult:
    outcomes = [False] * n
    loaded: bool | None = None
    finished = gone = False
    error = None
    for msg in events:
        event = msg.get("event")
        if event == "load":
            loaded = msg.get("ok") is True
        elif event == "test" and type(msg.get("index")) is int and 0 <= msg["index"] < n:
            outcomes[msg["index"]] = msg.get("ok") is True
        elif event == "gone":
            gone = True
        elif event == "done":
            finished = True
        if isinstance(msg.get("error"), str) and error is None:
            error = msg["error"]
    if timed_out:
        status, error = "timeout", error or "timed out"
    elif loaded is False:
        status = "load_error"
    elif finished and not gone:
        status = "ok"
    else:
        status = "crashed"
        why = "the memory limit" if oom else f"exit status {returncode}"
        error = f"{error} ({why})" if error else f"the program's process ended early ({why})"
    if error:
        error = re.sub(r"\s+", " ", error)[:300]
    return SandboxResult(status, sum(outcomes), n, outcomes, error, "", "", returncode, round(duration, 3), layers)
