"""The Python-level guard: refusals of sockets, process creation and file access outside the
work directory, for clear errors. Separate because nothing depends on it: it can be bypassed
from Python (its wrappers hold the real functions), and ``guard=False`` leaves it out to show
that the OS layers hold without it.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # no typing import at run time: each child starts faster
if TYPE_CHECKING:
    from typing import Any


def install_guard(root: str, builtins: Any, io: Any) -> None:
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

    busy: list[int] = []  # non-empty while check() runs: realpath's own readlink calls are not the program's

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

    class GuardedFileIO(real_fileio):  # type: ignore[misc, valid-type]  # a base held in a variable
        def __init__(self, file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> None:
            check(file, write=mode_writes(mode))
            super().__init__(file, mode, *args, **kwargs)

    io.FileIO = _io.FileIO = GuardedFileIO  # type: ignore[misc]  # replacing the stdlib class is the point

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
    module: Any  # os and posix: typeshed declares open in only one of them
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

    socket.socket = NoSocket  # type: ignore[misc]  # replacing the stdlib class is the point
    socket.socketpair = socket.create_connection = socket.create_server = refuse("network access")
    import _socket

    _socket.socket = NoSocket  # type: ignore[misc]  # replacing the stdlib class is the point
    import subprocess as sp

    sp.Popen = refuse("subprocess")  # type: ignore[misc]  # replacing the stdlib class is the point
    for name in ("multiprocessing", "ctypes", "_ctypes", "_posixsubprocess", "pty", "concurrent.futures.process"):
        sys.modules[name] = None  # type: ignore[assignment]  # None, which typeshed forbids, makes "import name" fail
    import shutil as sh

    sh.rmtree = path_guard(sh.rmtree, write=True)
    sh.move = path_guard(sh.move, write=True)
