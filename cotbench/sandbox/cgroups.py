"""Per-job pids and memory cgroups (cgroup v1 hierarchies or a v2 subtree), where this process
may create them: made before a job, killed and removed after it. Separate because it is the
host's only file-system state per job and must be cleaned up whatever happened.
"""

from __future__ import annotations

import os
import secrets
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from cotbench.sandbox.jobs import Limits


@dataclass
class Cgroups:
    """Per-job pids and memory cgroups (cgroup v1 hierarchies or our v2 subtree), where allowed."""

    dirs: list[Path] = field(default_factory=list)
    pids: Path | None = None
    memory: Path | None = None

    @property
    def layers(self) -> tuple[str, ...]:
        return (*(("cgroup",) if self.pids else ()), *(("memcg",) if self.memory else ()))

    @classmethod
    def make(cls, limits: Limits) -> Cgroups:
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
                made = group if group in groups.dirs else cls._mkdir(group)
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
