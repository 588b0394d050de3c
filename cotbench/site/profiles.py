"""Profiles and trajectories from cotbench.analysis (the site never redoes their statistics)."""

from __future__ import annotations

from collections.abc import Iterable

from cotbench.analysis.profile import Profile, compute_profile
from cotbench.analysis.trajectory import Trajectory, from_runs
from cotbench.errors import CotbenchError
from cotbench.site.data import Entry


def profiles_for(entries: Iterable[Entry], problems: list[str], n_boot: int = 2000) -> dict[str, Profile]:
    """run id -> profile against its reference; a pair that cannot be compared is reported, not fatal."""
    out: dict[str, Profile] = {}
    for e in entries:
        if e.reference is None:
            continue
        try:
            out[e.run_id] = compute_profile(e.run, e.reference.run, n_boot=n_boot)
        except CotbenchError as exc:
            msg = f"{e.run_id} vs reference {e.reference.run_id}: not compared ({exc})"
            e.problems.append(msg)
            problems.append(msg)
    return out


def trajectories_for(series: dict[str, list[Entry]], problems: list[str]) -> dict[str, Trajectory]:
    """series key -> trajectory with dip-and-recovery verdicts (earliest step is the reference)."""
    out: dict[str, Trajectory] = {}
    for key, members in series.items():
        try:
            out[key] = from_runs([e.run for e in members])
        except CotbenchError as exc:
            problems.append(f"series {key}: no trajectory ({exc})")
    return out
