"""Upload run directories to a Hub dataset repo, one folder per run under ``runs/<run_id>/``,
with the dataset card regenerated from every run in the repo, in one commit.

A run pushed again replaces its folder (files it no longer has are deleted in the same commit);
other runs in the repo are left as they are. Unchanged files are not uploaded again (the Hub
reports their ids), so pushing the same run twice makes no second commit.

The generation cache (``generations.sqlite``) stays local unless asked for: it can be large. When
it is included, a consistent copy is uploaded (SQLite's backup API: the live file may have
pages still in its write-ahead log). Tasks whose license forbids redistribution are left out of a
public repo; the card says which.

Local paths are cut from what goes up unless asked otherwise (``redact_paths=False``): every JSON
file of the run (manifest, task results, import record) and the scorer provenance of each sample
(``scorer_mode``, a judge's ``spec``) pass through ``cotbench.redact``, in copies; the run directory
itself is never changed, and the card is made from the copies. Prompts and model output go up as
written.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cotbench.errors import CotbenchError, ResultsError, printable
from cotbench.hub.card import RUNS_DIR, CardRun, render_card
from cotbench.hub.client import (
    DEFAULT_BRANCH,
    REPO_TYPE,
    HubError,
    check_branch,
    check_online,
    check_repo_id,
    hub_api,
    hub_errors,
    quiet_progress,
    require_token,
)
from cotbench.redact import redact_json, redact_json_text
from cotbench.results.schema import RunManifest, TaskResult
from cotbench.results.store import (
    GENERATION_CACHE,
    MANIFEST,
    METRICS,
    SAMPLES,
    TASKS_DIR,
    RunDir,
)

README = "README.md"
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_CACHE_SIDE_FILES = (f"{GENERATION_CACHE}-wal", f"{GENERATION_CACHE}-shm", f"{GENERATION_CACHE}-journal")
# Text the model was given, not where it came from: cut only when the whole value is a path.
_CONTENT_KEYS = frozenset({"chat_template", "system_prompt"})
# What of a sample is provenance (who scored it), not the prompt or the response.
_SAMPLE_PROVENANCE = frozenset({"scorer_mode", "spec"})
_NO_REDISTRIBUTION = re.compile(r"no redistribution|not (?:be )?redistribut|do not redistribute", re.IGNORECASE)


@dataclass
class LocalRun:
    """A run directory to upload: what the card needs and the files, by path in the repo."""

    path: Path
    manifest: RunManifest
    tasks: list[TaskResult]
    files: dict[str, Path] = field(default_factory=dict)
    withheld: list[str] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        return f"{RUNS_DIR}/{self.manifest.run_id}/"


@dataclass
class PushResult:
    repo_id: str
    revision: str
    repo_url: str
    commit_url: str | None  # None when nothing changed (no commit made)
    runs: list[str]
    files: int
    withheld: dict[str, list[str]] = field(default_factory=dict)


def restricted(tr: TaskResult) -> bool:
    """A task whose data may not be redistributed (its license says so)."""
    return bool(_NO_REDISTRIBUTION.search(tr.task.license))


def read_local_run(path: str | os.PathLike[str], include_cache: bool) -> LocalRun:
    """The run at ``path`` with the files to upload: every regular file but hidden ones (the lock,
    temporary files) and, unless ``include_cache``, the generation cache."""
    rd = RunDir(path)
    if not rd.path.is_dir() or not rd.exists():
        raise ResultsError(f"{rd.path}: not a run directory (no {MANIFEST}); give a folder written by `cotbench run`")
    manifest = rd.read_manifest()
    if not _RUN_ID.match(manifest.run_id):
        raise ResultsError(f"{rd.manifest_path}: run_id '{printable(manifest.run_id)}' cannot name a folder on the Hub")
    tasks = [rd.read_task(t) for t in rd.task_names()]
    run = LocalRun(rd.path, manifest, tasks)
    for file in sorted(rd.path.rglob("*")):
        rel = file.relative_to(rd.path)
        if any(part.startswith(".") for part in rel.parts) or file.is_symlink() or not file.is_file():
            continue
        if rel.as_posix() in _CACHE_SIDE_FILES or (rel.as_posix() == GENERATION_CACHE and not include_cache):
            continue
        run.files[run.prefix + rel.as_posix()] = file
    return run


def _withhold(run: LocalRun) -> None:
    """Leave the restricted tasks' folders out of the upload (public repos)."""
    for tr in [t for t in run.tasks if restricted(t)]:
        folder = f"{run.prefix}{TASKS_DIR}/{tr.task.name}/"
        run.files = {p: f for p, f in run.files.items() if not p.startswith(folder)}
        run.withheld.append(tr.task.name)
    run.tasks = [t for t in run.tasks if not restricted(t)]


def _redacted_samples(text: str) -> str:
    out, changed = [], False
    for line in text.splitlines(keepends=True):
        if not line.strip():
            out.append(line)
            continue
        rec = json.loads(line)
        cut = redact_json(rec, only=_SAMPLE_PROVENANCE)
        if cut != rec:
            changed = True
            line = json.dumps(cut, ensure_ascii=False, separators=(",", ":")) + "\n"
        out.append(line)
    return "".join(out) if changed else text


def redact_run(run: LocalRun, into: Path) -> None:
    """Point each uploaded file that holds a local path at a copy with the paths cut (under
    ``into``), and read the manifest and task results the card shows from the copies."""
    for path_in_repo, local in list(run.files.items()):
        if local.suffix != ".json" and local.name != SAMPLES:
            continue
        try:
            text = local.read_text(encoding="utf-8")
            cut = redact_json_text(text, _CONTENT_KEYS) if local.suffix == ".json" else _redacted_samples(text)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ResultsError(f"{local}: cannot be read to redact its local paths ({exc.__class__.__name__}); fix or "
                               "remove it, or push with --no-redact-paths") from None
        if cut == text:
            continue
        copy = into / run.manifest.run_id / path_in_repo.removeprefix(run.prefix)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text(cut, encoding="utf-8")
        run.files[path_in_repo] = copy
    run.manifest = RunManifest.model_validate_json(run.files[run.prefix + MANIFEST].read_bytes())
    run.tasks = [TaskResult.model_validate_json(
        run.files[f"{run.prefix}{TASKS_DIR}/{t.task.name}/{METRICS}"].read_bytes()) for t in run.tasks]


def _cache_snapshot(live: Path, into: Path) -> Path:
    """A self-contained copy of the SQLite cache (WAL pages folded in), for upload."""
    into.mkdir(parents=True, exist_ok=True)
    target = into / GENERATION_CACHE
    src = sqlite3.connect(f"file:{live}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    return target


def _remote_runs(api: object, repo_id: str, revision: str, files: list[str], skip: set[str],
                 into: Path, endpoint: str | None, token: str) -> list[CardRun]:
    """The runs already in the repo (other than ``skip``), read from their manifests and metrics."""
    from huggingface_hub import snapshot_download

    ids = sorted({p.split("/")[1] for p in files if re.fullmatch(rf"{RUNS_DIR}/[^/]+/{MANIFEST}", p)} - skip)
    if not ids:
        return []
    snapshot_download(repo_id, repo_type=REPO_TYPE, revision=revision, local_dir=into, endpoint=endpoint, token=token,
                      allow_patterns=[f"{RUNS_DIR}/{i}/{MANIFEST}" for i in ids]
                      + [f"{RUNS_DIR}/{i}/{TASKS_DIR}/*/{METRICS}" for i in ids])
    out = []
    for i in ids:
        rd = RunDir(into / RUNS_DIR / i)
        try:
            out.append(CardRun(rd.read_manifest(), [rd.read_task(t) for t in rd.task_names()]))
        except ResultsError as exc:
            raise HubError(f"{repo_id}: run '{i}' in the repo cannot be read by this cotbench ({exc}); pull it and "
                           "check it, or push to another repo") from None
    return out


def push_runs(run_dirs: Sequence[str | os.PathLike[str]], repo_id: str, *, token: str | None = None,
              private: bool = False, revision: str | None = None, include_cache: bool = False,
              commit_message: str | None = None, endpoint: str | None = None,
              redact_paths: bool = True) -> PushResult:
    """Upload ``run_dirs`` to the dataset repo ``repo_id`` (created if missing; private if
    ``private``) on branch ``revision`` (created from main if missing), in one commit; local
    paths cut from what goes up unless ``redact_paths`` is False."""
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete

    check_repo_id(repo_id)
    if revision is not None:
        check_branch(revision)
    if not run_dirs:
        raise CotbenchError("push: give at least one run directory")
    runs = [read_local_run(p, include_cache) for p in run_dirs]
    seen: dict[str, Path] = {}
    for r in runs:
        if r.manifest.run_id in seen:
            raise CotbenchError(f"push: {seen[r.manifest.run_id]} and {r.path} are the same run "
                                f"('{r.manifest.run_id}'); give each run once")
        seen[r.manifest.run_id] = r.path
    branch = revision or DEFAULT_BRANCH
    check_online(repo_id, "push to")
    token = require_token(token, repo_id)
    quiet_progress()
    api = hub_api(token, endpoint)
    with tempfile.TemporaryDirectory(prefix="cotbench-push-") as tmp, hub_errors(repo_id, "push to", branch, endpoint):
        if redact_paths:
            for r in runs:
                redact_run(r, Path(tmp) / "redacted")
        repo_url = str(api.create_repo(repo_id, repo_type=REPO_TYPE, private=True if private else None, exist_ok=True))
        info = api.repo_info(repo_id, repo_type=REPO_TYPE)
        if private and not info.private:
            raise HubError(f"push to {repo_id}: the repo exists and is public; --private applies to a new repo only "
                           "(make it private on the Hub first, or leave out --private)")
        if branch != DEFAULT_BRANCH:
            api.create_branch(repo_id, branch=branch, repo_type=REPO_TYPE, exist_ok=True)
        if not info.private:
            for r in runs:
                _withhold(r)
        remote_files = api.list_repo_files(repo_id, repo_type=REPO_TYPE, revision=branch)
        others = _remote_runs(api, repo_id, branch, remote_files, set(seen), Path(tmp) / "remote", endpoint, token)
        existing = None
        if README in remote_files:
            from huggingface_hub import hf_hub_download

            existing = Path(
                hf_hub_download(
                    repo_id,
                    README,
                    repo_type=REPO_TYPE,
                    revision=branch,
                    token=token,
                    local_dir=Path(tmp) / "card",
                    endpoint=endpoint,
                )
            ).read_text(encoding="utf-8")
        ops: list[CommitOperationAdd | CommitOperationDelete] = []
        for r in runs:
            for path_in_repo, local in r.files.items():
                if local.name == GENERATION_CACHE:
                    local = _cache_snapshot(local, Path(tmp) / "caches" / r.manifest.run_id)
                ops.append(CommitOperationAdd(path_in_repo=path_in_repo, path_or_fileobj=str(local)))
            keep_cache = not include_cache
            for stale in sorted(p for p in remote_files if p.startswith(r.prefix) and p not in r.files):
                if keep_cache and stale == r.prefix + GENERATION_CACHE:
                    continue  # an earlier --include-cache upload: not pushing the cache is no reason to delete it
                ops.append(CommitOperationDelete(path_in_repo=stale))
        all_runs = sorted(others + [CardRun(r.manifest, r.tasks, r.withheld) for r in runs],
                          key=lambda c: c.manifest.run_id)
        tree_url = f"{api.endpoint}/datasets/{repo_id}/tree/{branch}"
        card = render_card(repo_id, all_runs, tree_url, existing)
        ops.append(CommitOperationAdd(path_in_repo=README, path_or_fileobj=card.encode("utf-8")))
        before = api.repo_info(repo_id, repo_type=REPO_TYPE, revision=branch).sha
        names = ", ".join(r.manifest.run_id for r in runs)
        commit = api.create_commit(repo_id, ops, repo_type=REPO_TYPE, revision=branch,
                                   commit_message=commit_message or f"cotbench: push {names}"[:200],
                                   parent_commit=before)
        changed = commit.oid != before
    return PushResult(repo_id=repo_id, revision=branch, repo_url=repo_url,
                      commit_url=commit.commit_url if changed else None, runs=[r.manifest.run_id for r in runs],
                      files=sum(len(r.files) for r in runs), withheld={r.manifest.run_id: r.withheld for r in runs
                                                                       if r.withheld})
