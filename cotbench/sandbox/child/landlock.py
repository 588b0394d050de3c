"""Landlock, the file-system bound where there is no jail (e.g. an unprivileged container): read
the system paths, write only the work directory, and where the kernel's ABI allows, no TCP,
abstract UNIX sockets or signals outside the process. Separate because it is a self-contained
ruleset built from the kernel's Landlock ABI version.
"""

from __future__ import annotations

import os

from cotbench.sandbox.child.libc import check
from cotbench.sandbox.child.paths import system_paths

TYPE_CHECKING = False  # no typing import at run time: each child starts faster
if TYPE_CHECKING:
    from typing import Any


def apply_landlock(libc: Any, work: str) -> None:
    """Landlock: read only the system paths, write only ``work``; where the kernel's ABI allows,
    also no TCP bind/connect, no abstract UNIX sockets or signals outside this process."""
    if TYPE_CHECKING:
        import ctypes
    else:
        ctypes = libc.ctypes  # the module load_libc imported, kept on the handle
    abi = libc.syscall(444, None, 0, 1)  # landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)
    if abi < 1:
        check(libc, -1, "landlock")
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
        check(libc, -1, "landlock ruleset")
    try:
        rules = [(p, read) for p in system_paths()]
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
                check(libc, libc.syscall(445, ruleset, 1, ctypes.byref(rule), 0), f"landlock rule {path}")
            finally:
                os.close(fd)
        check(libc, libc.prctl(38, 1, 0, 0, 0), "no_new_privs")
        check(libc, libc.syscall(446, ruleset, 0), "landlock_restrict_self")
    finally:
        os.close(ruleset)
