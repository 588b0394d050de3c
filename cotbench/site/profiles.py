"""Profiles and trajectories from cotbench.analysis (the site never redoes their statistics).

The job functions take paths and return plain results so that they run in worker processes.
"""

from __future__ import annotations

from collections.abc import Sequence

from cotbench.analysis.profile import Profile, compute_profile
from cotbench.analysis.trajectory import Trajectory, from_runs
from cotbench.errors import CotbenchError

ProfileJob = tuple[str, str, str]  # run id, run path, reference path


def profile_job(pairs: list[ProfileJob],
                allow_mismatch: Sequence[str] = ()) -> list[tuple[str, Profile | None, str | None]]:
    """Each run against its reference; a pair that cannot be compared (other settings, say) gives its reason."""
    out: list[tuple[str, Profile | None, str | None]] = []
    for run_id, run, ref in pairs:
        try:
            out.append((run_id, compute_profile(run, ref, allow_mismatch=allow_mismatch), None))
        except CotbenchError as exc:
            out.append((run_id, None, str(exc)))
    return out


TrajectoryJob = tuple[str, list[str], str]  # series slug, checkpoint paths, reference path


def trajectory_job(series: list[TrajectoryJob],
                   allow_mismatch: Sequence[str] = ()) -> list[tuple[str, Trajectory | None, str | None]]:
    """Each checkpoint series' trajectory against the reference the series chose (step 0, its
    base model, else its earliest step: see ``site.series``), as ``cotbench trajectory --reference``."""
    out: list[tuple[str, Trajectory | None, str | None]] = []
    for key, paths, ref in series:
        try:
            out.append((key, from_runs(paths, reference=ref, allow_mismatch=allow_mismatch), None))
        except CotbenchError as exc:
            out.append((key, None, str(exc)))
    return out
