"""Profiles against references, from cotbench.analysis.profile (the site never redoes the statistics)."""

from __future__ import annotations

from collections.abc import Iterable

from cotbench.analysis.profile import Profile, compute_profile
from cotbench.errors import CotbenchError
from cotbench.site.data import Entry


def profiles_for(entries: Iterable[Entry], problems: list[str]) -> dict[str, Profile]:
    """run id -> profile against its reference; a pair that cannot be compared is reported, not fatal."""
    out: dict[str, Profile] = {}
    for e in entries:
        if e.reference is None:
            continue
        try:
            out[e.run_id] = compute_profile(e.run, e.reference.run)
        except CotbenchError as exc:
            msg = f"{e.run_id} vs reference {e.reference.run_id}: not compared ({exc})"
            e.problems.append(msg)
            problems.append(msg)
    return out
