"""Collect run directories into the plain data the site renders: entries, tasks, comparability groups."""

from __future__ import annotations

import hashlib
import math
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from cotbench.errors import CotbenchError, ResultsError
from cotbench.results.load import find_runs
from cotbench.results.schema import RunManifest, TaskInfo, TaskResult
from cotbench.results.store import RunDir
from cotbench.site.safety import slugify

DOMAINS = ("in_domain", "transfer", "general", "safety_harmful", "safety_benign")
CAPABILITY_DOMAINS = ("in_domain", "transfer", "general")
Z95 = 1.959963984540054


@dataclass(frozen=True)
class Estimate:
    """A value with its standard error and the normal 95% interval shown on hover."""

    value: float
    stderr: float
    n: int

    @property
    def low(self) -> float:
        return self.value - Z95 * self.stderr

    @property
    def high(self) -> float:
        return self.value + Z95 * self.stderr

    @property
    def ok(self) -> bool:
        return not math.isnan(self.value)


@dataclass
class Entry:
    """One run (a model or one checkpoint of a series) and its task results."""

    run: RunDir
    manifest: RunManifest
    tasks: dict[str, TaskResult]
    slug: str
    family: str
    series: str | None
    reference: Entry | None = None
    group: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def run_id(self) -> str:
        return self.manifest.run_id

    @property
    def label(self) -> str:
        return self.manifest.model.label

    @property
    def step(self) -> int | None:
        return self.manifest.model.step

    @property
    def display(self) -> str:
        return self.label if self.step is None else f"{self.label} @ step {self.step}"

    @property
    def scorer_modes(self) -> list[str]:
        return sorted({t.task.scorer_mode for t in self.tasks.values()})

    def sort_key(self) -> tuple:
        return (self.label, self.step if self.step is not None else -1, self.run_id)


@dataclass
class Group:
    """Runs whose numbers may be ranked together: same suite, task versions and scorer modes."""

    id: str
    suite: str | None
    tasks: tuple[tuple[str, str, str, str], ...]  # (name, version, hash, scorer_mode)
    entries: list[Entry]

    @property
    def scorer_modes(self) -> list[str]:
        return sorted({t[3] for t in self.tasks})


@dataclass
class TaskVersion:
    """One version of a task as found in the results, with every run that evaluated it."""

    info: TaskInfo
    results: list[tuple[Entry, TaskResult]]
    slug: str


@dataclass
class SiteData:
    entries: list[Entry]
    groups: list[Group]
    tasks: dict[str, list[TaskVersion]]  # task name -> its versions, newest-looking first
    problems: list[str]  # malformed or partial inputs, reported by name and skipped


def metric(tr: TaskResult, name: str) -> Estimate | None:
    mv = tr.metrics.get(name)
    return Estimate(mv.value, mv.stderr, mv.n) if mv is not None else None


def compliance_rate(tr: TaskResult) -> Estimate | None:
    """``rate:full_compliance``; a labelled task with no compliant sample has rate 0."""
    est = metric(tr, "rate:full_compliance")
    if est is not None:
        return est
    if any(k.startswith("rate:") for k in tr.metrics):
        return Estimate(0.0, 0.0, tr.metrics["score"].n if "score" in tr.metrics else 0)
    return None


def token_cost(tr: TaskResult) -> float:
    return tr.mean_reasoning_tokens + tr.mean_answer_tokens


def _family(entry_model: str, label: str) -> str:
    name = entry_model or label
    return name.split("/", 1)[0] if "/" in name else name.split("-", 1)[0]


def load_entries(paths: list[str | os.PathLike[str]]) -> tuple[list[Entry], list[str]]:
    """Read every run; a malformed manifest or task file is reported and skipped, not fatal."""
    problems: list[str] = []
    runs: list[RunDir] = []
    for p in paths:
        try:
            runs.extend(find_runs([p]))
        except ResultsError as exc:
            problems.append(str(exc))
    entries: list[Entry] = []
    seen: set[str] = set()
    for rd in runs:
        try:
            manifest = rd.read_manifest()
        except ResultsError as exc:
            problems.append(str(exc))
            continue
        if manifest.run_id in seen:
            problems.append(f"{rd.path}: duplicate run id {manifest.run_id!r}, skipped")
            continue
        tasks: dict[str, TaskResult] = {}
        for name in rd.task_names():
            try:
                tasks[name] = rd.read_task(name)
            except ResultsError as exc:
                problems.append(str(exc))
        if not tasks:
            problems.append(f"{rd.path}: no readable task results, skipped")
            continue
        seen.add(manifest.run_id)
        model = manifest.model
        series = model.model if model.step is not None else None
        entries.append(Entry(run=rd, manifest=manifest, tasks=tasks, slug=slugify(manifest.run_id),
                             family=_family(model.model, model.label), series=series))
    entries.sort(key=Entry.sort_key)
    return entries, problems


def read_reference_map(path: str | os.PathLike[str] | None) -> dict[str, str]:
    if path is None:
        return {}
    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CotbenchError(f"{p}: cannot read reference map ({exc.__class__.__name__})") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        raise CotbenchError(f"{p}: a reference map must map model labels or run ids to a reference label or run id")
    return dict(raw)


def assign_references(entries: list[Entry], ref_map: dict[str, str]) -> None:
    """refs.yaml first (run id, then label); otherwise a series' earliest step is its later steps' reference."""
    by_id = {e.run_id: e for e in entries}
    by_label: dict[str, list[Entry]] = defaultdict(list)
    for e in entries:
        by_label[e.label].append(e)

    def resolve(name: str) -> Entry:
        if name in by_id:
            return by_id[name]
        found = by_label.get(name, [])
        if len(found) != 1:
            why = "matches no run" if not found else f"matches {len(found)} runs; name a run id"
            raise CotbenchError(f"reference map: {name!r} {why}")
        return found[0]

    series: dict[str, list[Entry]] = defaultdict(list)
    for e in entries:
        if e.series is not None:
            series[e.series].append(e)
    for members in series.values():
        first = min(members, key=lambda e: (e.step, e.run_id))
        for e in members:
            if e is not first:
                e.reference = first
    for e in entries:
        key = e.run_id if e.run_id in ref_map else e.label if e.label in ref_map else None
        if key is not None:
            ref = resolve(ref_map[key])
            e.reference = None if ref is e else ref


def group_entries(entries: list[Entry]) -> list[Group]:
    """Comparability groups: runs are ranked together only within one group."""
    buckets: dict[tuple, list[Entry]] = defaultdict(list)
    for e in entries:
        tasks = tuple(sorted((n, t.task.version, t.task.hash, t.task.scorer_mode) for n, t in e.tasks.items()))
        buckets[(e.manifest.suite or "", tasks)].append(e)
    groups = []
    for (suite, tasks), members in buckets.items():
        gid = "g-" + hashlib.sha1(repr((suite, tasks)).encode()).hexdigest()[:8]
        for e in members:
            e.group = gid
        groups.append(Group(id=gid, suite=suite or None, tasks=tasks, entries=members))
    groups.sort(key=lambda g: (-len(g.entries), g.suite or "", g.tasks))
    return groups


def collect_tasks(entries: list[Entry]) -> dict[str, list[TaskVersion]]:
    by_version: dict[tuple[str, str], TaskVersion] = {}
    for e in entries:
        for name, tr in sorted(e.tasks.items()):
            key = (name, tr.task.hash)
            if key not in by_version:
                slug = slugify(f"{name}@{tr.task.version}@{tr.task.hash}")
                by_version[key] = TaskVersion(info=tr.task, results=[], slug=slug)
            by_version[key].results.append((e, tr))
    out: dict[str, list[TaskVersion]] = defaultdict(list)
    for (name, _), tv in sorted(by_version.items()):
        out[name].append(tv)
    for versions in out.values():
        versions.sort(key=lambda v: (-len(v.results), v.info.version, v.info.hash))
    return dict(sorted(out.items()))


def load_site_data(paths: list[str | os.PathLike[str]], reference_map: str | os.PathLike[str] | None = None) -> SiteData:
    entries, problems = load_entries(paths)
    assign_references(entries, read_reference_map(reference_map))
    return SiteData(entries=entries, groups=group_entries(entries), tasks=collect_tasks(entries), problems=problems)
