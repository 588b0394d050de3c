"""The engines that evaluate cotbench tasks, by name (``cotbench run --engine``).

Each is registered in ``cotbench.registry.engines`` as a factory taking the run directory
(where a harness keeps its own logs) or None; its module is imported only when the engine is asked for. A
plugin adds an engine the same way: ``@engines.register("name")`` on such a factory.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from cotbench.registry import engines

if TYPE_CHECKING:
    from cotbench.engines.base import Engine

DEFAULT_ENGINE = "lm_eval"


@engines.register("lm_eval")
def lm_eval_engine(run_dir: Path | None = None) -> Engine:
    """lm-eval's ``simple_evaluate`` on cotbench's task YAMLs."""
    from cotbench.engines.lm_eval.engine import LmEvalEngine

    _quiet_lm_eval_git()
    return LmEvalEngine()


@engines.register("inspect")
def inspect_engine(run_dir: Path | None = None) -> Engine:
    """Inspect AI's ``eval``; its logs go to ``run_dir/inspect_logs``."""
    from cotbench.engines.inspect.engine import InspectEngine

    return InspectEngine(log_dir=run_dir / "inspect_logs" if run_dir else None)


def _quiet_lm_eval_git() -> None:
    """lm-eval records the git hash of the working directory by running ``git`` with the
    terminal as its stderr: outside a checkout every run printed "fatal: not a git repository".
    The same lookup, with git's complaints discarded."""
    try:
        import lm_eval.evaluator as evaluator
        import lm_eval.loggers.utils as lm_utils
    except ImportError:
        return

    def git_commit_hash() -> str | None:
        try:
            out = subprocess.run(["git", "describe", "--always"], capture_output=True, text=True,  # noqa: S607
                                 timeout=10, check=True, stdin=subprocess.DEVNULL)
            return out.stdout.strip() or None
        except (OSError, subprocess.SubprocessError):
            commit: str | None = lm_utils.get_commit_from_path(os.getcwd())
            return commit

    for module in (evaluator, lm_utils):
        if hasattr(module, "get_git_commit_hash"):
            module.get_git_commit_hash = git_commit_hash
