"""The paths the candidate keeps: the work directory's name in the jail and what Python needs to
keep importing. Separate because the jail bind-mounts exactly these paths and Landlock allows
exactly these, so the two layers cannot drift apart.
"""

from __future__ import annotations

import os
import sys

INSIDE_WORK = "/sandbox"  # the work directory's path in the jail


def system_paths() -> list[str]:
    """What Python needs to keep importing: system directories and the Python installation."""
    paths = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc/ld.so.cache", "/etc/localtime"]
    for p in (sys.base_prefix, sys.prefix, sys.exec_prefix, os.path.dirname(sys.executable)):
        paths += [os.path.abspath(p), os.path.realpath(p)]
    return paths
