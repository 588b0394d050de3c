"""The probe: build the sandbox once without insisting on any layer, check that the layers it
reached really hold, and print their names. Separate because the host runs it once per
process to decide what every later job must get.
"""

from __future__ import annotations

import json
import os
import sys

from cotbench.sandbox.child.layers import build_sandbox
from cotbench.sandbox.child.paths import INSIDE_WORK


def main() -> None:
    job = json.loads(sys.stdin.buffer.read())
    layers = build_sandbox(job, strict=False)
    if "jail" in layers:  # the outside must be gone and the work directory writable
        ok = not os.path.exists("/etc/hostname") and not os.path.exists("/home") and os.getcwd() == INSIDE_WORK
        with open("probe", "w") as fh:
            fh.write("x")
        if not ok:
            layers.remove("jail")
    if "landlock" in layers:
        try:
            with open("/proc/self/status"):
                layers.remove("landlock")
        except OSError:
            pass
    if "seccomp" in layers:
        try:
            os.memfd_create("probe")
            layers.remove("seccomp")
        except OSError:
            pass
    print(json.dumps(layers))
