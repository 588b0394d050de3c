"""Remove a job's host directory, however deep the tree or odd the modes, never raising. Separate
because clean-up runs in ``finally`` blocks where an exception would take the scorer down.
"""

from __future__ import annotations

import os
import shutil
import subprocess


def remove_tree(path: str) -> None:
    """Delete ``path`` and everything under it; never raises (deep trees and odd modes included)."""
    try:
        if not os.path.lexists(path):
            return
        rm = shutil.which("rm")
        if rm:
            subprocess.run([rm, "-rf", "--one-file-system", "--", path], capture_output=True, timeout=60)
        if os.path.lexists(path):
            _remove_tree_by_fd(path)
    except Exception:  # noqa: BLE001 - clean-up must never take the scorer down
        pass


def _remove_tree_by_fd(path: str) -> None:
    """Iterative removal relative to one directory descriptor at a time, so neither the depth
    nor the path length matters (for hosts without ``rm``)."""
    if os.path.islink(path) or not os.path.isdir(path):
        os.unlink(path)
        return
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
    below: list[str] = []  # the names from ``path`` down to the directory ``fd`` is open on
    fd = os.open(path, flags)
    try:
        while True:
            sub = None
            for entry in os.scandir(fd):
                if entry.is_dir(follow_symlinks=False):
                    sub = entry.name
                    break
                os.unlink(entry.name, dir_fd=fd)
            if sub is not None:
                fd, old = os.open(sub, flags, dir_fd=fd), fd
                os.close(old)
                below.append(sub)
                continue
            if not below:
                break
            fd, old = os.open("..", flags, dir_fd=fd), fd
            os.close(old)
            os.rmdir(below.pop(), dir_fd=fd)  # a failure raises: stop rather than loop
    finally:
        os.close(fd)
    os.rmdir(path)
