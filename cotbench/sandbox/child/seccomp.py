"""The seccomp filter: a small BPF program refusing process creation, memory outside the
address-space limit and kernel surfaces a test never needs. Separate because it is a table of
syscall numbers per architecture and the program built from it.
"""

from __future__ import annotations

import os

from cotbench.sandbox.child.libc import check

TYPE_CHECKING = False  # no typing import at run time: each child starts faster
if TYPE_CHECKING:
    from typing import Any


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


def apply_seccomp(libc: Any) -> None:
    """Refuse the calls in ``_DENIED`` (EPERM), clone without CLONE_THREAD (EPERM) and clone3
    (ENOSYS, so threads fall back to clone); kill on a foreign syscall ABI."""
    if TYPE_CHECKING:
        import ctypes
    else:
        ctypes = libc.ctypes  # the module load_libc imported, kept on the handle
    column, arch = _ARCHES[os.uname().machine]
    allow, kill = 0x7FFF0000, 0x80000000
    eperm, enosys = 0x00050000 | 1, 0x00050000 | 38
    ld, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    prog = [(ld, 0, 0, 4), (jeq, 1, 0, arch), (ret, 0, 0, kill), (ld, 0, 0, 0)]
    if column == 0:
        prog += [(jge, 0, 1, 0x40000000), (ret, 0, 0, eperm)]  # the x32 ABI
    for numbers in _DENIED.values():
        if (number := numbers[column]) is not None:
            prog += [(jeq, 0, 1, number), (ret, 0, 0, eperm)]
    prog += [(jeq, 0, 1, _CLONE3[column]), (ret, 0, 0, enosys)]
    prog += [(jeq, 0, 3, _CLONE[column]), (ld, 0, 0, 16), (jset, 1, 0, 0x00010000), (ret, 0, 0, eperm)]
    prog += [(ret, 0, 0, allow)]

    class Filter(ctypes.Structure):
        _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint32)]

    class Program(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(Filter))]

    filters = (Filter * len(prog))(*[Filter(*ins) for ins in prog])
    fprog = Program(len(prog), filters)
    check(libc, libc.prctl(38, 1, 0, 0, 0), "no_new_privs")
    check(libc, libc.prctl(22, 2, ctypes.addressof(fprog), 0, 0), "seccomp")  # PR_SET_SECCOMP, FILTER
