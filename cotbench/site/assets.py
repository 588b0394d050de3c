"""Locate the leaderboard templates and assets, from a source checkout or an installed wheel."""

from __future__ import annotations

from pathlib import Path

from cotbench.errors import CotbenchError

_PACKAGE = Path(__file__).resolve().parents[1]  # .../cotbench


def leaderboard_dir() -> Path:
    """The ``leaderboard/`` folder: the wheel's ``cotbench/_data/leaderboard`` or the repo root's."""
    for candidate in (_PACKAGE / "_data" / "leaderboard", _PACKAGE.parent / "leaderboard"):
        if (candidate / "templates").is_dir():
            return candidate
    raise CotbenchError("leaderboard templates not found (expected cotbench/_data/leaderboard or ./leaderboard)")


def templates_dir() -> Path:
    return leaderboard_dir() / "templates"


def static_dir() -> Path:
    return leaderboard_dir() / "assets"
