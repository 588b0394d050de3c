"""Credentials and capabilities: who the candidate runs as (uid/gid 65534 when real root) and
dropping every capability, the bounding set included, with no-new-privs. Separate because the
order matters (the bounding set needs CAP_SETPCAP, so it goes before the uid changes) and
``layers`` sequences these steps around the others.
"""

from __future__ import annotations

import os
import signal

from cotbench.sandbox.child.libc import check

TYPE_CHECKING = False  # no typing import at run time: each child starts faster
if TYPE_CHECKING:
    from typing import Any

NOBODY = 65534


def is_real_root() -> bool:
    """uid 0 of the initial user namespace (not root mapped inside a user namespace)."""
    try:
        with open("/proc/self/uid_map") as fh:
            return os.geteuid() == 0 and fh.read().split()[:3] == ["0", "0", "4294967295"]
    except OSError:
        return False


def become_nobody(libc: Any) -> None:
    os.setgroups([])
    os.setresgid(NOBODY, NOBODY, NOBODY)
    os.setresuid(NOBODY, NOBODY, NOBODY)
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG: a credential change cleared it


def drop_bounding_set(libc: Any) -> None:
    for cap in range(64):  # PR_CAPBSET_DROP until the kernel's last capability
        if libc.prctl(24, cap, 0, 0, 0) != 0:
            if libc.ctypes.get_errno() == 22:  # EINVAL: no such capability
                break
            raise OSError(libc.ctypes.get_errno(), "capability bounding set")


def drop_caps(libc: Any, bounding: bool) -> None:
    ctypes = libc.ctypes
    if not bounding:
        raise OSError("the capability bounding set could not be dropped")
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()
    check(libc, libc.capset(header, data), "capset")
    check(libc, libc.prctl(38, 1, 0, 0, 0), "no_new_privs")  # PR_SET_NO_NEW_PRIVS
