"""Build the sandbox around the current process, layer by layer and in the order the layers
need (cgroups, jail, bounding set, uid, capabilities, Landlock, seccomp, rlimits). Separate
because the candidate and the probe share it: the probe finds which layers a host allows, and
the candidate insists on exactly those.
"""

from __future__ import annotations

import os
import sys

from cotbench.sandbox.child.caps import become_nobody, drop_bounding_set, drop_caps, is_real_root
from cotbench.sandbox.child.jail import build_jail
from cotbench.sandbox.child.landlock import apply_landlock
from cotbench.sandbox.child.libc import load_libc
from cotbench.sandbox.child.seccomp import apply_seccomp

TYPE_CHECKING = False  # no typing import at run time: each child starts faster
if TYPE_CHECKING:
    from typing import Any


def build_sandbox(job: dict[str, Any], strict: bool) -> list[str]:
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
    libc = load_libc()
    real_root = is_real_root()
    if job["jail"] and libc is not None:
        step("jail", lambda: build_jail(libc, job["newroot"], job["disk_mb"], real_root, job["host_mnt_ns"]))
    bounding = False
    if libc is not None:  # needs CAP_SETPCAP, so before the uid changes
        try:
            drop_bounding_set(libc)
            bounding = True
        except OSError:
            pass
    if "jail" in done and real_root:
        step("nobody", lambda: become_nobody(libc))
    if libc is not None:
        step("nocaps", lambda: drop_caps(libc, bounding))
        if "jail" not in done:  # the next best file-system bound, needs no privileges
            step("landlock", lambda: apply_landlock(libc, job["root"]))
        step("seccomp", lambda: apply_seccomp(libc))
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
