"""Collect run directories into the plain data the site renders: entries, groups, series, tasks."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from cotbench.analysis.comparability import ALL, GENERATION_FIELDS, MODEL_FIELDS, parse_allowed
from cotbench.errors import CotbenchError, ResultsError
from cotbench.results.load import find_runs
from cotbench.results.schema import ModelInfo, RunManifest, TaskInfo, TaskResult
from cotbench.results.store import RunDir
from cotbench.site.groups import Group, group_entries, item_set, settings_of, settings_text
from cotbench.site.sanitize import slugify
from cotbench.site.series import Series, find_series, is_local


@dataclass
class Entry:
    """One run (a model or one checkpoint of a series) and its task results."""

    run: RunDir
    manifest: RunManifest
    tasks: dict[str, TaskResult]
    slug: str
    family: str
    series: str | None = None  # slug of the checkpoint series the run belongs to (see site.series)
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
class TaskTable:
    """Runs of one task version that evaluated the same items with the same settings: ranked together."""

    results: list[tuple[Entry, TaskResult]]
    n_items: int
    settings: str
    apart: list[str] = field(default_factory=list)  # why not ranked with the first table of the task


@dataclass
class TaskVersion:
    """One version of a task as found in the results, with every run that evaluated it."""

    info: TaskInfo
    results: list[tuple[Entry, TaskResult]]
    slug: str
    tables: list[TaskTable] = field(default_factory=list)

    @property
    def settings_differ(self) -> list[str]:
        """Settings that differ between the runs listed on this task's page."""
        name = self.info.name
        return [f for f in (*GENERATION_FIELDS, *MODEL_FIELDS)
                if len({settings_of(e, (f,), name) for e, _ in self.results}) > 1]


@dataclass
class SiteData:
    entries: list[Entry]
    groups: list[Group]
    tasks: dict[str, list[TaskVersion]]  # task name -> its versions, newest-looking first
    problems: list[str]  # malformed or partial inputs, reported by name and skipped
    allow_mismatch: tuple[str, ...] = ()  # comparability fields allowed to differ (--allow-mismatch)
    series: list[Series] = field(default_factory=list)


def _family(model: ModelInfo) -> str:
    """``org`` of a Hub id, the training run's folder of a local checkpoint, else the name's first word."""
    name = model.label if is_local(model) else (model.model or model.label)
    return name.split("/", 1)[0] if "/" in name else name.split("-", 1)[0]


def load_entries(paths: list[str | os.PathLike[str]]) -> tuple[list[Entry], list[str]]:
    """Read every run; a malformed manifest or task file is reported and skipped, not fatal."""
    problems: list[str] = []
    runs: list[RunDir] = []
    for p in paths:
        try:
            runs.extend(find_runs([p], problems))
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
        try:
            names = rd.task_names()
        except ResultsError as exc:
            problems.append(str(exc))
            names = []
        for name in names:
            try:
                tasks[name] = rd.read_task(name)
            except ResultsError as exc:
                problems.append(str(exc))
        if not tasks:
            problems.append(f"{rd.path}: no readable task results, skipped")
            continue
        seen.add(manifest.run_id)
        model = manifest.model
        entries.append(Entry(run=rd, manifest=manifest, tasks=tasks, slug=slugify(manifest.run_id),
                             family=_family(model)))
    entries.sort(key=Entry.sort_key)
    return entries, problems


def read_reference_map(path: str | os.PathLike[str] | None) -> dict[str, str]:
    if path is None:
        return {}
    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CotbenchError(f"{p}: cannot read reference map ({exc.__class__.__name__})") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        raise CotbenchError(f"{p}: a reference map must map model labels or run ids to a reference label or run id")
    return dict(raw)


def assign_references(entries: list[Entry], series: list[Series], ref_map: dict[str, str]) -> None:
    """refs.yaml first (run id, then label); otherwise a checkpoint series' reference (step 0, its
    base model or its earliest step: see ``site.series``) is the reference of its other runs."""
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

    for s in series:
        ref = s.reference
        for e in s.members:
            e.series = s.slug
            if e is not ref:
                e.reference = ref
    unknown = [k for k in ref_map if k not in by_id and k not in by_label]
    if unknown:
        known = sorted({e.label for e in entries})
        shown = ", ".join(repr(k) for k in known[:5]) + (" ..." if len(known) > 5 else "")
        raise CotbenchError(f"reference map: {unknown[0]!r} is neither a model label nor a run id of the given "
                            f"results (labels: {shown}); fix or remove that entry")
    for e in entries:
        key = e.run_id if e.run_id in ref_map else e.label if e.label in ref_map else None
        if key is not None:
            ref = resolve(ref_map[key])
            e.reference = None if ref is e else ref


def _tables(name: str, results: list[tuple[Entry, TaskResult]], loose: list[str]) -> list[TaskTable]:
    """Split a task version's runs by item set and (not allowed to differ) settings, largest first."""
    strict = [f for f in (*GENERATION_FIELDS, *MODEL_FIELDS) if f not in loose]
    buckets: dict[tuple, list[tuple[Entry, TaskResult]]] = defaultdict(list)
    for e, tr in results:
        buckets[(item_set(e, name), settings_of(e, strict, name))].append((e, tr))
    tables = [TaskTable(members, items[0], settings_text([e for e, _ in members], name))
              for (items, _), members in buckets.items()]
    tables.sort(key=lambda t: (-len(t.results), -t.n_items, t.settings))
    first = tables[0]
    for t in tables[1:]:
        why = []
        if t.n_items != first.n_items:
            why.append(f"{t.n_items} items (vs {first.n_items})")
        elif item_set(t.results[0][0], name) != item_set(first.results[0][0], name):
            why.append(f"other items of the same count ({t.n_items})")
        if t.settings != first.settings:
            why.append(f"settings {t.settings or 'defaults'} (vs {first.settings or 'defaults'})")
        t.apart = why or ["other settings"]
    return tables


def collect_tasks(entries: list[Entry], allow_mismatch: Iterable[str] = ()) -> dict[str, list[TaskVersion]]:
    allowed = parse_allowed(allow_mismatch)
    loose = [f for f in (*GENERATION_FIELDS, *MODEL_FIELDS) if ALL in allowed or f in allowed]
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
        tv.tables = _tables(name, tv.results, loose)
        out[name].append(tv)
    for versions in out.values():
        versions.sort(key=lambda v: (-len(v.results), v.info.version, v.info.hash))
    return dict(sorted(out.items()))


def load_site_data(paths: list[str | os.PathLike[str]], reference_map: str | os.PathLike[str] | None = None,
                   allow_mismatch: Iterable[str] = ()) -> SiteData:
    allowed = parse_allowed(allow_mismatch)
    entries, problems = load_entries(paths)
    groups = group_entries(entries, allowed)  # before the series: a series stays within one group
    series = find_series(entries)
    try:
        assign_references(entries, series, read_reference_map(reference_map))
    except CotbenchError as exc:
        if reference_map is None or str(exc).startswith(str(reference_map)):
            raise
        raise CotbenchError(f"{reference_map}: {exc}") from None
    return SiteData(entries=entries, groups=groups, tasks=collect_tasks(entries, allowed), problems=problems,
                    allow_mismatch=allowed, series=series)
