"""Fetch runs from a Hub dataset repo written by ``cotbench push`` into ``DEST/<run_id>/``, the
layout ``cotbench run`` writes, so that profile, gate, trajectory and leaderboard read them.

Files arrive in a staging folder inside ``DEST`` and each run is moved into place only once it
reads as a run directory, so an interrupted or failed pull leaves no half run behind. The whole
pull reads one commit (the revision resolved once), never a mix of two pushes.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from cotbench.errors import CotbenchError, ResultsError, printable
from cotbench.hub.card import RUNS_DIR
from cotbench.hub.client import (
    DEFAULT_BRANCH,
    REPO_TYPE,
    HubError,
    check_online,
    check_repo_id,
    hub_api,
    hub_errors,
    quiet_progress,
    resolve_token,
)
from cotbench.results.store import GENERATION_CACHE, MANIFEST, RunDir

_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def runs_in(files: Sequence[str]) -> list[str]:
    """Run ids of a repo's file list (folders ``runs/<id>/`` that hold a manifest)."""
    return sorted({p.split("/")[1] for p in files if re.fullmatch(rf"{RUNS_DIR}/[^/]+/{re.escape(MANIFEST)}", p)})


def _check_dest(dest: Path, run_ids: Sequence[str], overwrite: bool) -> None:
    if dest.exists() and not dest.is_dir():
        raise CotbenchError(f"--dest {dest} is a file; give a folder for the run directories")
    for rid in run_ids:
        target = dest / rid
        if not os.path.lexists(target):
            continue
        if not overwrite:
            raise CotbenchError(f"--dest: {target} exists; remove it, choose another --dest, or pass --overwrite")
        if not (target.is_dir() and not target.is_symlink() and (target / MANIFEST).is_file()):
            raise CotbenchError(f"--dest: {target} exists and is not a run directory; --overwrite replaces run "
                                "directories only")


def _verify(path: Path, repo_id: str, rid: str) -> None:
    rd = RunDir(path)
    try:
        rd.read_manifest()
        for task in rd.task_names():
            rd.read_task(task)
    except ResultsError as exc:
        raise HubError(f"pull from {repo_id}: run '{rid}' is not a readable run directory ({exc})") from None


def pull_runs(repo_id: str, dest: str | os.PathLike[str], *, run_ids: Sequence[str] | None = None,
              token: str | None = None, revision: str | None = None, include_cache: bool = False,
              overwrite: bool = False, endpoint: str | None = None) -> list[Path]:
    """Download the runs ``run_ids`` (default: every run in the repo) to ``dest/<run_id>/``;
    returns their paths. The generation caches come only with ``include_cache``."""
    from huggingface_hub import snapshot_download

    check_repo_id(repo_id)
    for rid in run_ids or []:
        if not _RUN_ID.match(rid):
            raise CotbenchError(f"--run '{printable(rid)}' is not a run id (the folder name under {RUNS_DIR}/)")
    dest = Path(dest)
    _check_dest(dest, run_ids or [], overwrite)
    rev = revision or DEFAULT_BRANCH
    check_online(repo_id, "pull from")
    token = resolve_token(token)
    quiet_progress()
    api = hub_api(token, endpoint)
    with hub_errors(repo_id, "pull from", rev, endpoint):
        sha = api.repo_info(repo_id, repo_type=REPO_TYPE, revision=rev).sha
        available = runs_in(api.list_repo_files(repo_id, repo_type=REPO_TYPE, revision=sha))
        if not available:
            raise HubError(f"pull from {repo_id}: no cotbench runs at revision '{printable(rev)}' "
                           f"(no {RUNS_DIR}/<run_id>/{MANIFEST})")
        wanted = list(dict.fromkeys(run_ids)) if run_ids else available
        missing = [r for r in wanted if r not in available]
        if missing:
            shown = ", ".join(available[:10]) + (f" and {len(available) - 10} more" if len(available) > 10 else "")
            raise HubError(f"pull from {repo_id}: --run '{printable(missing[0])}' is not in the repo at revision "
                           f"'{printable(rev)}' (runs there: {shown})")
        _check_dest(dest, wanted, overwrite)
        dest.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".cotbench-pull-", dir=dest))
        try:
            snapshot_download(repo_id, repo_type=REPO_TYPE, revision=sha, local_dir=staging, token=token,
                              endpoint=endpoint, allow_patterns=[f"{RUNS_DIR}/{r}/*" for r in wanted],
                              ignore_patterns=None if include_cache else [f"{RUNS_DIR}/*/{GENERATION_CACHE}"])
            for rid in wanted:
                _verify(staging / RUNS_DIR / rid, repo_id, rid)
            out = []
            for rid in wanted:
                target = dest / rid
                if overwrite and target.is_dir():
                    shutil.rmtree(target)
                os.replace(staging / RUNS_DIR / rid, target)
                out.append(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return out
