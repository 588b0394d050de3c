"""``run_tests``: one job from start to clean-up. It builds the two children's jobs, starts the
candidate (inside the isolation ``host`` found) and the judge, enforces the wall-clock limit,
kills and removes everything after, and collects the judge's report.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from cotbench.sandbox.cgroups import Cgroups
from cotbench.sandbox.child.paths import INSIDE_WORK
from cotbench.sandbox.cleanup import remove_tree
from cotbench.sandbox.events import collect, output_tail, read_events
from cotbench.sandbox.host import CHILD_SCRIPT, child_env, isolation, kill_group, mount_namespace
from cotbench.sandbox.jobs import CodeTest, Limits, SandboxResult, Test
from cotbench.sandbox.names import program_names

DEFAULT_LIMITS = Limits()


def run_tests(program: str, tests: Sequence[Test], limits: Limits = DEFAULT_LIMITS, guard: bool = True,
              setup: str = "", remote: Iterable[str] = ()) -> SandboxResult:
    """Run ``program`` in the sandboxed candidate and ``tests`` in the judge (see ``cotbench.sandbox``).

    ``setup``: trusted code the judge runs before the tests (test imports, a HumanEval prompt's
    helpers). ``remote``: names the judge must take from the program even though ``setup``
    defines them (HumanEval's entry point, whose stub the prompt defines). ``guard=False``
    leaves out only the Python-level guard (tests use it to show that the OS layers hold)."""
    iso = isolation()
    start = time.monotonic()
    private = tempfile.mkdtemp(prefix="cotbench-sbx-")
    groups = Cgroups()
    fds: list[int] = []
    try:
        groups = Cgroups.make(limits)
        newroot = os.path.join(private, "root")
        os.mkdir(newroot)
        if iso.jail:
            work = INSIDE_WORK
        else:
            work = os.path.join(private, "work")
            os.mkdir(work)
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        fds = [req_r, req_w, resp_r, resp_w]
        names, modules = program_names(program, setup, tests, remote)
        nonce = secrets.token_hex(16)
        candidate_job = {
            "program": program,
            "exec_program": any(isinstance(t, CodeTest) for t in tests),
            "jail": iso.jail, "newroot": newroot, "root": work, "require": list(iso.layers),
            "host_mnt_ns": mount_namespace(),
            "cgroups": [str(g) for g in groups.dirs], "disk_mb": limits.max_disk_mb,
            "limits": {"cpu_s": max(1, int(limits.timeout_s) + 1), "memory_mb": limits.memory_mb,
                       "max_processes": limits.max_processes, "max_file_mb": limits.max_file_mb},
            "guard": guard, "req_fd": req_r, "resp_fd": resp_w,
        }
        judge_job = {
            "setup": setup, "remote": names, "modules": modules, "nonce": nonce,
            "tests": [{"kind": "code", "code": t.code, "name": t.name or f"test {i}"} if isinstance(t, CodeTest)
                      else {"kind": "io", "stdin": t.stdin, "expected": t.expected, "name": t.name or f"test {i}"}
                      for i, t in enumerate(tests)],
            "req_fd": req_w, "resp_fd": resp_r, "cpu_s": max(1, int(limits.timeout_s) + 1),
        }
        out, err = Path(private) / "stdout", Path(private) / "stderr"
        timed_out = False
        with out.open("wb") as o, err.open("wb") as e:
            cand = subprocess.Popen(iso.command([sys.executable, "-I", str(CHILD_SCRIPT), "candidate"]),
                                    stdin=subprocess.PIPE, stdout=o, stderr=e, cwd=private, env=child_env(work),
                                    start_new_session=True, pass_fds=(req_r, resp_w))
            judge = None
            try:
                try:
                    assert cand.stdin is not None
                    cand.stdin.write(json.dumps(candidate_job).encode())
                    cand.stdin.close()
                except OSError:
                    pass  # it died before reading its job: the judge sees it gone
                judge = subprocess.Popen([sys.executable, "-I", str(CHILD_SCRIPT), "judge"], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=private,
                                         env=child_env(private), start_new_session=True, pass_fds=(req_w, resp_r))
                for fd in fds:
                    os.close(fd)
                fds = []
                remaining = max(0.1, limits.timeout_s - (time.monotonic() - start))
                try:
                    report, _ = judge.communicate(json.dumps(judge_job).encode(), timeout=remaining)
                except subprocess.TimeoutExpired:
                    timed_out = True
                    kill_group(judge.pid)
                    report, _ = judge.communicate()
                try:  # a candidate that ended by itself gives its own exit status
                    cand.wait(timeout=0.2)
                except subprocess.TimeoutExpired:
                    pass
            finally:
                kill_group(cand.pid)  # also reaps stragglers that outlived a normal exit
                groups.kill()
                cand.wait()
                if judge is not None and judge.poll() is None:
                    kill_group(judge.pid)
                    judge.wait()
        events = read_events(report.decode("utf-8", "replace"), nonce)
        if not timed_out and any(m.get("event") == "unready" for m in events):
            raise RuntimeError("sandbox: the candidate process could not set up the layers the probe found "
                               f"({', '.join(iso.layers)}; exit status {cand.returncode})")
        result = collect(events, len(tests), timed_out, cand.returncode,
                          groups.oom_killed(), time.monotonic() - start,
                          (*iso.layers, *groups.layers, "rlimits", *(("guard",) if guard else ())))
        return dataclasses.replace(result, stdout=output_tail(out, limits.max_output_chars),
                                   stderr=output_tail(err, limits.max_output_chars), peak_processes=groups.peak())
    finally:
        for fd in fds:
            os.close(fd)
        groups.remove()
        remove_tree(private)
