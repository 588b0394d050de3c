"""The jail: a private root on a read-only tmpfs holding only the system directories and the
Python installation (read-only bind mounts), a few /dev nodes, a fresh /proc and a size-capped
tmpfs work directory; the old root is detached. Separate because it is the one layer that
mounts, and it refuses to run outside a private mount namespace.
"""

from __future__ import annotations

import os

from cotbench.sandbox.child.caps import NOBODY
from cotbench.sandbox.child.libc import check
from cotbench.sandbox.child.paths import INSIDE_WORK, system_paths

TYPE_CHECKING = False  # no typing import at run time: each child starts faster
if TYPE_CHECKING:
    from typing import Any


_MS = {"rdonly": 1, "nosuid": 2, "nodev": 4, "noexec": 8, "remount": 32, "bind": 4096, "rec": 16384,
       "private": 1 << 18, "noatime": 1024, "nodiratime": 2048, "relatime": 1 << 21}


def build_jail(libc: Any, new: str, disk_mb: int, real_root: bool, host_mnt_ns: str) -> None:
    """A new root: system directories and Python read-only, a tmpfs work directory, fresh /proc."""
    if os.readlink("/proc/self/ns/mnt") == host_mnt_ns:  # never remount or pivot the host's root
        raise OSError("not in a private mount namespace")
    ms = _MS

    def mount(src: str | None, dst: str, fstype: str | None, flags: int, data: str | None = None) -> None:
        check(libc, libc.mount(src and src.encode(), dst.encode(), fstype and fstype.encode(), flags,
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
    for path in system_paths():
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
    owner = f",uid={NOBODY},gid={NOBODY}" if real_root else ""
    os.makedirs(new + INSIDE_WORK)
    mount("tmpfs", new + INSIDE_WORK, "tmpfs", ms["nosuid"] | ms["nodev"] | ms["noexec"],
          f"size={disk_mb}m,nr_inodes=4096,mode=700{owner}")
    os.symlink(INSIDE_WORK.lstrip("/"), new + "/tmp")
    os.chdir(new)
    nr = {"x86_64": 155, "aarch64": 41}.get(os.uname().machine)
    if nr is not None and libc.syscall(nr, b".", b".") == 0:  # pivot_root(".", "."), then drop the old root
        check(libc, libc.umount2(b".", 2), "detach the old root")  # MNT_DETACH
    else:  # e.g. an initramfs root: chroot, which holds once the capabilities are gone
        os.chroot(".")
    os.chdir("/")
    mount(None, "/", None, ms["remount"] | ms["rdonly"] | ms["nosuid"] | ms["nodev"])
    os.chdir(INSIDE_WORK)
