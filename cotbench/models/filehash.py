"""Full SHA-256 hashes of model files, remembered across runs.

A model's identity hashes every byte of its weights and tokenizer/config files, so an
unchanged multi-GB checkpoint would be read in full on every run. This cache remembers
each file's hash under its *signature*: real path, device, inode, size, mtime_ns and
ctime_ns. Any write to a file moves its mtime and ctime (ctime cannot be set back from
user space, so even a tool that restores the mtime is seen), and a file replaced by
another has a new inode: a changed file never matches its old entry and is read again.

Two more guards cover what a signature alone cannot:

* A file whose signature differs before and after it is read changed while it was being
  hashed: the hash is used for this call only, never stored.
* A file modified less than ``RACY_WINDOW_NS`` before it is hashed is not stored either.
  Timestamps are only as fine as the filesystem's clock tick (milliseconds on ext4 with
  coarse timestamps, 2 s on FAT), so a second write within the same tick could leave the
  signature unchanged (git calls such entries "racily clean").

Entries live under ``cache_dir()/file-hashes`` as one small JSON file per file, named by
its path and signature, written to a unique temporary name and renamed into place: a
concurrent run never reads a half-written entry, and concurrent runs never lose each
other's entries. An entry that cannot be read, or that records another signature, is a
miss; a cache that cannot be written costs speed only. Storing a file's new entry removes
its stale ones.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from pathlib import Path

from cotbench.paths import cache_dir

RACY_WINDOW_NS = 2_000_000_000
_VERSION = 1
_CHUNK = 8 << 20
_SIGNATURE = ("dev", "ino", "size", "mtime_ns", "ctime_ns")


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The SHA-256 (hex) of the file's full content, from the cache when it is unchanged."""
    real = os.path.realpath(path)
    before = _signature(os.stat(real))
    entry = _entry_path(real, before)
    cached = _lookup(entry, real, before)
    if cached is not None:
        return cached
    digest = _hash_file(real)
    after = _signature(os.stat(real))
    if after == before and _now_ns() - max(before["mtime_ns"], before["ctime_ns"]) >= RACY_WINDOW_NS:
        _store(entry, {"v": _VERSION, "path": real, **before, "sha256": digest})
    return digest


def _hash_file(path: str) -> str:
    h = hashlib.sha256()
    buf = bytearray(_CHUNK)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as fh:
        while n := fh.readinto(buf):
            h.update(view[:n])
    return h.hexdigest()


def _now_ns() -> int:
    return time.time_ns()


def _signature(st: os.stat_result) -> dict[str, int]:
    return {"dev": st.st_dev, "ino": st.st_ino, "size": st.st_size, "mtime_ns": st.st_mtime_ns,
            "ctime_ns": st.st_ctime_ns}


def _root() -> Path:
    return cache_dir() / "file-hashes" / f"v{_VERSION}"


def _entry_path(real: str, sig: dict[str, int]) -> Path:
    by_path = hashlib.sha256(real.encode("utf-8", "surrogateescape")).hexdigest()[:32]
    by_sig = hashlib.sha256(json.dumps([sig[k] for k in _SIGNATURE]).encode()).hexdigest()[:32]
    return _root() / by_path[:2] / by_path / f"{by_sig}.json"


def _lookup(entry: Path, real: str, sig: dict[str, int]) -> str | None:
    try:
        data = json.loads(entry.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("v") != _VERSION or data.get("path") != real:
        return None
    if any(data.get(k) != sig[k] for k in _SIGNATURE):
        return None
    digest = data.get("sha256")
    if not isinstance(digest, str) or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        return None
    return digest


def _store(entry: Path, data: dict[str, object]) -> None:
    tmp = entry.with_name(f"{entry.name}.tmp{os.getpid()}.{threading.get_ident()}")
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, entry)
    except OSError:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        return
    # Entries for the file's earlier signatures can never match again.
    try:
        for old in entry.parent.glob("*.json"):
            if old.name != entry.name:
                old.unlink(missing_ok=True)
    except OSError:
        pass
