"""Analysis of run directories: statistics, capability-cost profiles, checkpoint trajectories.

``profile(run, reference)`` and ``trajectory(runs, ...)`` return pandas DataFrames;
``compute_profile`` / ``compute_trajectory`` return the pydantic ``Profile`` / ``Trajectory``
that the CLI prints, writes as JSON and the leaderboard renders.
"""

from __future__ import annotations

import importlib
from typing import Any

# Imported on first use: the statistics need scipy and pandas, and the CLI imports light modules
# of this package (comparability) for every command, `--help` included.
_LAZY = {"Profile": "profile", "compute_profile": "profile", "profile": "profile",
         "Trajectory": "trajectory", "compute_trajectory": "trajectory", "trajectory": "trajectory"}

__all__ = ["Profile", "Trajectory", "compute_profile", "compute_trajectory", "profile",
           "trajectory"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f"cotbench.analysis.{_LAZY[name]}"), name)
        globals()[name] = value  # the function, not the submodule of the same name, from now on
        return value
    raise AttributeError(f"module 'cotbench.analysis' has no attribute {name!r}")
