"""The candidate (untrusted): builds its sandbox, loads the program, then only answers the
judge's requests (a name's value, a call, a run on some stdin) with plain data or handles.
Separate because it is the only process that runs model code; everything it imports is loaded
before the jail is built, since this package is not inside the jail.
"""

from __future__ import annotations

import builtins
import json
import os
import signal
import sys

from cotbench.sandbox.child.guard import install_guard
from cotbench.sandbox.child.layers import build_sandbox
from cotbench.sandbox.child.wire import INT_DIGITS, Channel, decode, encode, plain_base

TYPE_CHECKING = False  # no typing import at run time: each child starts faster
if TYPE_CHECKING:
    from typing import Any


def main() -> None:
    import io

    job = json.loads(sys.stdin.buffer.read())
    build_sandbox(job, strict=True)
    if hasattr(sys, "set_int_max_str_digits"):  # Python 3.10.7+
        sys.set_int_max_str_digits(INT_DIGITS)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # oversized writes fail instead of killing us
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115
    os.chdir(job["root"])
    chan = Channel(job["req_fd"], job["resp_fd"])
    if job["guard"]:
        install_guard(job["root"], builtins, io)
    program = job["program"]
    run, compile_, base_exc = exec, compile, BaseException
    chan.send({"ready": True})
    handles: dict[int, Any] = {}
    ids: dict[int, int] = {}

    def describe(exc: BaseException) -> dict[str, Any]:
        out: dict[str, Any] = {"err": type(exc).__name__}
        errno = getattr(exc, "errno", None)
        if isinstance(errno, int):
            out["errno"] = errno
        if isinstance(exc, SyntaxError) and isinstance(exc.lineno, int):
            out["line"] = exc.lineno
        return out

    def keep(value: Any, depth: int) -> Any:
        base = plain_base(value)
        if base is not None and type(base) is not type(value):
            return encode(base, keep, depth)
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
                    value = target(*decode(req["args"], arg), **{k: decode(v, arg) for k, v in req["kwargs"].items()})
                elif op == "attr":
                    value = getattr(target, req["name"])
                elif op == "bool":
                    value = bool(target)
                elif op == "len":
                    value = len(target)
                elif op == "list":
                    value = list(target)
                elif op == "item":
                    value = target[decode(req["key"], arg)]
                else:
                    raise ValueError(op)
            reply = {"ok": encode(value, keep)}
        except base_exc as exc:  # noqa: BLE001 - reported to the judge by type only
            reply = describe(exc)
        try:
            chan.send(reply)
        except (TypeError, ValueError, RecursionError):
            chan.send({"err": "ValueError"})
        except OSError:
            leave()
