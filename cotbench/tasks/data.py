"""Where benchmark data comes from: the Hub at a pinned revision (default), or a local
directory laid out as the upstream projects publish their files (``--data-dir`` or
``COTBENCH_DATA_DIR``)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from cotbench.errors import DataError

ENV_VAR = "COTBENCH_DATA_DIR"
_override: Path | None = None


def data_dir() -> Path | None:
    if _override is not None:
        return _override
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else None


@contextlib.contextmanager
def using_data_dir(path: Path | None) -> Iterator[None]:
    """Use ``path`` as the local data directory for the duration of a run."""
    global _override
    if path is not None and not path.is_dir():
        raise DataError(f"data directory {path} does not exist")
    old, _override = _override, path
    try:
        yield
    finally:
        _override = old


def local_files(root: Path | None, sub: str | None, names: list[str]) -> list[Path] | None:
    """The task's files under the data dir, or None when no data dir is in use."""
    if root is None or sub is None:
        return None
    folder = root / sub
    paths = [folder / n for n in names]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise DataError(f"data file {missing[0]} not found (expected the upstream layout under {root})")
    return paths
