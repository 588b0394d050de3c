"""The C library through ctypes, for the system calls the standard library does not wrap
(prctl, mount, capset, seccomp, Landlock), and the check that turns a failed call into OSError.
Separate because every isolation layer and the judge need it, and ctypes loads lazily.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # no typing import at run time: each child starts faster
if TYPE_CHECKING:
    from typing import Any


def load_libc() -> Any:
    try:
        import ctypes

        libc: Any = ctypes.CDLL(None, use_errno=True)  # Any: its functions are looked up by name
        ul = ctypes.c_ulong
        libc.prctl.argtypes = [ctypes.c_int, ul, ul, ul, ul]
        libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ul, ctypes.c_char_p]
        libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
        libc.ctypes = ctypes
        return libc
    except (ImportError, OSError, AttributeError):
        return None


def check(libc: Any, result: int, what: str) -> None:
    if result != 0:
        err = libc.ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
