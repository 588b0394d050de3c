"""The judge (trusted: runs only test code): a fresh interpreter that never loads the program.
Names the tests take from the program are proxies whose calls go to the candidate; the
replies are rebuilt as plain values, so comparisons run on the judge's own objects. It reports
each test to the host, tagged with the job's nonce. Separate because it must stay free of
anything the candidate runs.
"""

from __future__ import annotations

import builtins
import json
import sys

from cotbench.sandbox.child.libc import load_libc
from cotbench.sandbox.child.wire import INT_DIGITS, MAX_MESSAGE, Channel, decode, encode, plain_base

TYPE_CHECKING = False  # no typing import at run time: each child starts faster
if TYPE_CHECKING:
    from typing import Any


class _Gone(BaseException):
    """The candidate ended or broke the protocol: no further answers (not catchable as Exception)."""


_EXCEPTIONS = {n: getattr(builtins, n) for n in dir(builtins)
               if isinstance(getattr(builtins, n), type) and issubclass(getattr(builtins, n), BaseException)}


def _exc_name(name: Any) -> str:
    return name if type(name) is str and name in _EXCEPTIONS else "an exception of its own"


def main() -> None:
    import errno as errno_mod
    import importlib
    import resource

    job = json.loads(sys.stdin.buffer.read())
    libc = load_libc()
    if libc is not None:  # PR_SET_DUMPABLE 0: no /proc/<pid>/mem or fd/ for same-uid processes
        libc.prctl(4, 0, 0, 0, 0)
    resource.setrlimit(resource.RLIMIT_CPU, (job["cpu_s"], job["cpu_s"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if hasattr(sys, "set_int_max_str_digits"):  # Python 3.10.7+
        sys.set_int_max_str_digits(INT_DIGITS)
    nonce = job["nonce"]

    def report(**msg: Any) -> None:
        sys.stdout.write(f"{nonce} {json.dumps(msg)}\n")
        sys.stdout.flush()

    chan = Channel(job["resp_fd"], job["req_fd"], MAX_MESSAGE)
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
                return decode(reply["ok"], handle)
            except (ValueError, TypeError, RecursionError, MemoryError, UnicodeError):
                raise _NotPlain() from None
        err = reply.get("err")
        exc_type = _EXCEPTIONS.get(err) if type(err) is str else None
        exc: Any  # a builtin exception class found by name, tagged with the program's own name below
        try:
            exc = exc_type() if exc_type is not None else RuntimeError()
        except BaseException:  # noqa: BLE001 - a builtin that needs arguments
            exc = RuntimeError()
        exc.from_program = _exc_name(err)
        raise exc

    def handle(ref: int) -> _Remote:
        if ref not in remotes:
            remotes[ref] = _Remote(ref, ask)
        return remotes[ref]

    def encode_arg(value: Any, depth: int) -> Any:
        if isinstance(value, _Remote):
            return {"$t": "ref", "v": value._ref}
        base = plain_base(value)
        if base is None:
            raise TypeError(f"cannot pass a {type(value).__name__} to the program")
        return encode(base, encode_arg, depth)

    _Remote.encode = staticmethod(lambda v: encode(v, encode_arg))
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
