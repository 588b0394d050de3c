"""What a sandbox job takes and gives back: its limits, its tests and its result. Separate so
that the host modules and the scorers share these types without importing the launcher.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 10.0  # wall clock for the whole job
    memory_mb: int = 1024  # address space, and the memory cgroup's limit where there is one
    max_processes: int = 16  # the pids cgroup (the seccomp filter refuses new processes anyway)
    max_file_mb: int = 16  # one file, also the program's stdout/stderr
    max_disk_mb: int = 64  # the work directory in all
    max_output_chars: int = 4000  # stdout/stderr tails kept in the result


@dataclass(frozen=True)
class CodeTest:
    """Python statements run by the judge (e.g. an assert); names they read that the job's
    setup does not define are taken from the program (see ``run_tests``)."""

    code: str
    name: str = ""


@dataclass(frozen=True)
class IOTest:
    """Run the program with ``stdin``; its stdout must equal ``expected`` (line-wise, trimmed)."""

    stdin: str
    expected: str
    name: str = ""


Test = CodeTest | IOTest


@dataclass(frozen=True)
class SandboxResult:
    status: str  # "ok" (ran to the end), "timeout", "crashed" (died early), "load_error"
    passed: int
    total: int
    outcomes: list[bool]  # one per test; tests that never ran count as failed
    error: str | None  # the first failure, one short line made by the scorer
    stdout: str  # the program's own output (tails): never put these in a record unreviewed
    stderr: str
    returncode: int | None
    duration_s: float
    layers: tuple[str, ...] = field(default=())
    peak_processes: int | None = None  # from the pids cgroup, when there was one

    @property
    def all_passed(self) -> bool:
        return self.status == "ok" and self.total > 0 and self.passed == self.total
