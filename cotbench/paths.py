"""Where cotbench finds its bundled resources and keeps its caches."""

from __future__ import annotations

import os
from pathlib import Path

_PKG = Path(__file__).resolve().parent


def _resource(name: str) -> Path:
    # Source checkout / editable install: top-level folder next to the package.
    # Wheel install: force-included under cotbench/_data/.
    for candidate in (_PKG.parent / name, _PKG / "_data" / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"cotbench resource folder '{name}' not found (broken installation?)")


def tasks_dir() -> Path:
    """The folder of task definitions (valid lm-eval task YAMLs; usable as --include_path)."""
    return _resource("tasks")


def leaderboard_dir() -> Path:
    return _resource("leaderboard")


def cache_dir() -> Path:
    """cotbench's own cache (converted embedded model, ...); override with COTBENCH_CACHE_DIR."""
    root = os.environ.get("COTBENCH_CACHE_DIR")
    path = Path(root) if root else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "cotbench"
    path.mkdir(parents=True, exist_ok=True)
    return path
