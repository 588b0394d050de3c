"""Run untrusted, model-written Python against trusted tests, so that the verdict cannot be forged
and the program cannot reach the host.

Two processes per job, and the verdict is decided by the one that never runs model code:

- the **candidate** runs the program, inside the OS sandbox below. After loading the program
  it only answers requests: "the value of name N", "call handle H with these arguments",
  "run the program on this stdin". Every answer is *data*: a value of plain type (None, bool,
  int, float, complex, str, bytes, list, tuple, dict, set, frozenset, nested) serialised as
  tagged JSON, or an opaque handle number for anything else (a function, a class, an instance).
- the **judge** runs the tests: the benchmark's own code (HumanEval's ``check``, MBPP's asserts,
  LiveCodeBench's expected output) in a fresh interpreter that never loads the program. Names
  the tests take from the program are proxies whose calls go to the candidate; what comes back
  is rebuilt from the JSON as fresh objects of exactly those plain types (nothing else can be
  built from it), so ``==``, ``math.isclose``, ``set()``... all run on the judge's own objects,
  with the judge's own builtins. A handle compares equal only to itself and cannot be ordered;
  ``bool()``, ``len()``, ``iter()`` and ``[]`` on it ask the candidate for plain data, which
  gives the program no power it did not have by returning that data. Expected values and the
  test code are never sent to the candidate.
So whatever the program does to its own process (objects equal to everything, patched
``exec``/``compile``/``json``, frame or ``gc`` walks, fake messages on any descriptor), it can
only influence the values it returns: it passes by returning the right values, or not at all.
The judge reports each test to this process on its own pipe; errors in the record are made here
or by the judge from exception *type names* (a builtin exception's name, or "an exception of
its own"), errno names and line numbers, never from text the program produced.

The candidate's sandbox, each layer used when the host allows it (``SandboxResult.layers``):
- ``netns``/``pidns``/``ipcns``: fresh network (no interfaces but a down loopback; abstract
  UNIX sockets are per network namespace), PID (the program sees only itself; when it dies
  the kernel kills everything it left) and System V IPC namespaces (``unshare``).
- ``jail``: a private mount namespace whose root is a new, read-only tmpfs holding only the
  system directories (``/usr``, ``/lib*``, ``/bin``...) and the Python installation, bind-mounted
  read-only, ``/dev/{null,zero,full,random,urandom}``, a fresh read-only ``/proc`` of the PID
  namespace, and the work directory ``/sandbox`` (also ``/tmp``, HOME, TMPDIR): a tmpfs of
  ``max_disk_mb`` with an inode cap. The host's other files (home directories, ``/etc``, ``/run``
  and its sockets, ``/tmp``) do not exist there; the old root is detached (``pivot_root``, or
  ``chroot`` where the root cannot be pivoted). The work tmpfs vanishes with the namespace, so
  nothing is left on the host to clean up, however deep the tree the program made.
- ``nobody``: as real root, the program runs as uid/gid 65534 with no supplementary groups.
- ``nocaps``: every capability dropped (bounding set too) and no-new-privs.
- ``landlock``: only where there is no jail (e.g. an unprivileged container): read-only access
  to the same system paths, writes only in the work directory, and (kernel ABI 4/6) no TCP
  bind/connect, abstract UNIX sockets or signals outside the process.
- ``seccomp``: a filter refusing process creation (fork, vfork, clone without CLONE_THREAD;
  threads still work), memory outside the address-space limit (memfd_create, memfd_secret,
  System V shm/message queues), session changes, and kernel surfaces a test never needs
  (ptrace, process_vm_*, io_uring, userfaultfd, bpf, perf_event_open, keyrings, mount,
  namespaces). With one process, RLIMIT_AS plus the work tmpfs bounds the job's memory.
- ``cgroup`` / ``memcg``: a per-job pids cgroup (``pids.max``) and memory cgroup (the job's
  total, tmpfs pages included), where this process may create them.
- ``rlimits``: CPU seconds, address space, file size, open files, no core dumps.
- ``guard``: Python-level refusals of sockets, process creation and outside file access, for
  clear errors; it can be bypassed from Python (its wrappers hold the real functions), which is
  why nothing above depends on it.
The layers a host allows are found once per process by a probe job; a job then insists on all
of them: a candidate that cannot rebuild one exits before its "ready" message, and ``run_tests``
raises (a host problem, not a score). Always: a minimal
environment, stdin from /dev/null, a wall-clock timeout that kills both processes, output
capped. Without the jail the work directory is a host temp directory (removed by a walk that
cannot fail), host UNIX sockets stay reachable by path and the disk total is not bounded (only
each file); without namespaces or Landlock, only the guard keeps host files out of reach.
The judge is a plain subprocess with rlimits (and not dumpable): test code is trusted.

Where each part lives: ``api`` (``run_tests``), ``jobs`` (``Limits``, the tests, ``SandboxResult``),
``names`` (which names the judge takes from the program), ``host`` (probing the layers, launching
the children), ``cgroups``, ``cleanup`` and ``events`` (the judge's report into a result) on the
host; ``child`` for everything that runs in the two children (the wire format, the judge, the
candidate, the guard and each isolation layer). The children run
``python -I cotbench/sandbox/child/__main__.py candidate|judge|probe``, reading a JSON job on
stdin, and import nothing from cotbench outside ``cotbench.sandbox.child``.
"""

from __future__ import annotations

from cotbench.sandbox.api import run_tests
from cotbench.sandbox.host import isolation_layers
from cotbench.sandbox.jobs import CodeTest, IOTest, Limits, SandboxResult, Test
from cotbench.sandbox.names import names_read_bound

__all__ = ["CodeTest", "IOTest", "Limits", "SandboxResult", "Test", "isolation_layers", "names_read_bound",
           "run_tests"]
