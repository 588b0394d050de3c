"""Analysis of run directories: statistics, capability-cost profiles, checkpoint trajectories.

``profile(run, reference)`` and ``trajectory(runs, ...)`` return pandas DataFrames;
``compute_profile`` / ``compute_trajectory`` return the pydantic ``Profile`` / ``Trajectory``
that the CLI prints, writes as JSON and the leaderboard renders.
"""

from __future__ import annotations

from cotbench.analysis.profile import Profile, compute_profile, profile
from cotbench.analysis.trajectory import Trajectory, compute_trajectory, trajectory

__all__ = ["Profile", "Trajectory", "compute_profile", "compute_trajectory", "profile",
           "trajectory"]
