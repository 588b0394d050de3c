"""What this host allows and how a child is started: the unshare command line and the layers
found by a probe job (once per process), the children's minimal environment, and the script
they run. Separate from ``api`` so that probing and launching can be reasoned about (and
replaced in tests) apart from a single job's bookkeeping.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cotbench.sandbox.cgroups import Cgroups
from cotbench.sandbox.cleanup import remove_tree
from cotbench.sandbox.jobs import Limits

# Run by path in isolated mode; it loads only the child package (see its __main__).
CHILD_SCRIPT = Path(__file__).resolve().parent / "child" / "__main__.py"


@dataclass(frozen=True)
class Isolation:
    namespaces: tuple[str, ...] = ()  # the unshare command line, or empty
    jail: bool = False  # the candidate builds the private root
    layers: tuple[str, ...] = ()  # what the candidate achieves here (found by the probe)

    def command(self, argv: list[str]) -> list[str]:
        return [*self.namespaces, *argv]


@cache
def isolation() -> Isolation:
    """The strongest combination of layers this host allows, found by trying them once."""
    unshare = shutil.which("unshare")
    user = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    tail = ["--fork", "--kill-child"]
    candidates: list[tuple[tuple[str, ...], bool, tuple[str, ...]]] = []
    if unshare:
        candidates += [
            ((unshare, *user, "--mount", "--propagation", "private", "--net", "--pid", "--ipc", *tail), True,
             ("netns", "pidns", "ipcns")),
            ((unshare, *user, "--net", "--pid", "--ipc", *tail), False, ("netns", "pidns", "ipcns")),
            ((unshare, "--user", "--map-root-user", "--net", *tail), False, ("netns",)),
        ]
    candidates.append(((), False, ()))
    for namespaces, jail, ns_layers in candidates:
        found = _probe(namespaces, jail)
        if found is None:
            continue
        if jail and "jail" not in found:
            continue  # the next candidate gives the same namespaces without a mount namespace
        return Isolation(namespaces, jail, (*ns_layers, *found))
    return Isolation()


def _probe(namespaces: tuple[str, ...], jail: bool) -> list[str] | None:
    """Set the sandbox up once in a throwaway child; the layers it reached, or None."""
    private = tempfile.mkdtemp(prefix="cotbench-probe-")
    try:
        os.mkdir(os.path.join(private, "root"))
        job = {"jail": jail, "newroot": os.path.join(private, "root"), "root": private, "require": [], "cgroups": [],
               "disk_mb": 1, "limits": None, "host_mnt_ns": mount_namespace()}
        proc = subprocess.run([*namespaces, sys.executable, "-I", str(CHILD_SCRIPT), "probe"],
                              input=json.dumps(job).encode(), capture_output=True, timeout=20,
                              cwd=private, env=child_env(private))
        if proc.returncode != 0:
            return None
        layers = json.loads(proc.stdout.decode().strip().splitlines()[-1])
        return [str(x) for x in layers] if isinstance(layers, list) else None
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None
    finally:
        remove_tree(private)


def isolation_layers() -> tuple[str, ...]:
    """The layers a job on this host gets (for a 'doctor' command or a run manifest)."""
    groups = Cgroups.make(Limits())
    groups.remove()
    return (*isolation().layers, *groups.layers, "rlimits", "guard")


def mount_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/mnt")
    except OSError:
        return ""  # no /proc: the jail refuses to start (its own readlink fails too)


def child_env(work: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": work, "TMPDIR": work, "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}


def kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
