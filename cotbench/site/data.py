"""Collect run directories into the plain data the site renders: entries, tasks, comparability groups."""

from __future__ import annotations

import hashlib
import math
import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml

from cotbench.analysis.comparability import ALL, GENERATION_FIELDS, MODEL_FIELDS, parse_allowed
from cotbench.analysis.stats import wilson_cc
from cotbench.errors import CotbenchError, ResultsError
from cotbench.results.load import find_runs
from cotbench.results.schema import RunManifest, TaskInfo, TaskResult
from cotbench.results.store import RunDir
from cotbench.site.sanitize import slugify

DOMAINS = ("in_domain", "transfer", "general", "safety_harmful", "safety_benign")
CAPABILITY_DOMAINS = ("in_domain", "transfer", "general")
Z95 = 1.959963984540054


@dataclass(frozen=True)
class Estimate:
    """A rate in [0, 1] over ``n`` items with its standard error and the 95% interval shown on hover.

    The interval is Wilson's continuity-corrected score interval on the effective number of items
    ``p(1-p) / stderr²`` (never fewer than ``n``: avg@k items vary less than 0/1 ones), so a rate
    of 0% or 100% keeps an honest width; a normal ``p ± 1.96 se`` would collapse to a point there.
    A mean over tasks sets ``n_floor`` to the harmonic-mean item count, k² / Σ 1/n_t, the
    binomial effective size of an unweighted mean (see ``summary.macro_mean``).
    """

    value: float
    stderr: float
    n: int
    n_floor: float | None = None

    @cached_property
    def _bounds(self) -> tuple[float, float]:
        p = min(max(self.value, 0.0), 1.0)
        floor = float(self.n) if self.n_floor is None else self.n_floor
        n_eff = max(floor, p * (1 - p) / self.stderr**2 if self.stderr > 0 else 0.0)
        if n_eff <= 0:
            return 0.0, 1.0
        low, high = wilson_cc(p * n_eff, n_eff, Z95)
        return float(low), float(high)

    @property
    def low(self) -> float:
        return self._bounds[0]

    @property
    def high(self) -> float:
        return self._bounds[1]

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
    """Runs whose numbers may be ranked together: same suite, task versions, scorer modes and
    generation settings (except the fields allowed to differ, listed when they do)."""

    id: str
    suite: str | None
    tasks: tuple[tuple[str, str, str, str], ...]  # (name, version, hash, scorer_mode)
    entries: list[Entry]
    settings: dict[str, str] = field(default_factory=dict)  # task -> its settings, as text
    mismatches_allowed: list[str] = field(default_factory=list)  # allowed fields that do differ here

    @property
    def scorer_modes(self) -> list[str]:
        return sorted({t[3] for t in self.tasks})


@dataclass
class TaskVersion:
    """One version of a task as found in the results, with every run that evaluated it."""

    info: TaskInfo
    results: list[tuple[Entry, TaskResult]]
    slug: str

    @property
    def settings_differ(self) -> list[str]:
        """Settings that differ between the runs listed together on this task's page."""
        name = self.info.name
        return [f for f in (*GENERATION_FIELDS, *MODEL_FIELDS)
                if len({_settings(e, (f,), name) for e, _ in self.results}) > 1]


@dataclass
class SiteData:
    entries: list[Entry]
    groups: list[Group]
    tasks: dict[str, list[TaskVersion]]  # task name -> its versions, newest-looking first
    problems: list[str]  # malformed or partial inputs, reported by name and skipped
    allow_mismatch: tuple[str, ...] = ()  # comparability fields allowed to differ (--allow-mismatch)


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
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
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


def _settings(e: Entry, fields: Sequence[str], only: str | None = None) -> tuple:
    """The run's prompt overrides and per-task generation settings, restricted to ``fields``."""
    model = e.manifest.model
    run_level = tuple((f, getattr(model, f)) for f in MODEL_FIELDS if f in fields)
    per_task = tuple((n, tuple((f, str(getattr(tr.task.generation, f))) for f in GENERATION_FIELDS if f in fields))
                     for n, tr in sorted(e.tasks.items()) if only is None or n == only)
    return run_level, per_task


def _settings_text(members: list[Entry], task: str) -> str:
    """A task's settings in a group; a field allowed to differ shows every value ("256 / 1024")."""
    def vals(f: str) -> str | None:
        got = [getattr(e.manifest.model, f) if f in MODEL_FIELDS else getattr(e.tasks[task].task.generation, f)
               for e in members]
        got = [v for v in got if v is not None and v != []]  # no override, no stop sequences: not shown
        return " / ".join(dict.fromkeys(repr(v) if isinstance(v, str) else str(v) for v in got)) or None

    labels = {"top_p": "top-p", "max_tokens": "max tokens", "system_prompt": "system prompt",
              "chat_template": "chat template"}
    return ", ".join(f"{labels.get(f, f)} {v}" for f in (*GENERATION_FIELDS, *MODEL_FIELDS) if (v := vals(f)))


def group_entries(entries: list[Entry], allow_mismatch: Iterable[str] = ()) -> list[Group]:
    """Comparability groups: runs are ranked together only within one group. Settings named in
    ``allow_mismatch`` do not split groups (versions and scorer modes always do)."""
    allowed = parse_allowed(allow_mismatch)
    loose = [f for f in (*GENERATION_FIELDS, *MODEL_FIELDS) if ALL in allowed or f in allowed]
    strict = [f for f in (*GENERATION_FIELDS, *MODEL_FIELDS) if f not in loose]
    buckets: dict[tuple, list[Entry]] = defaultdict(list)
    for e in entries:
        tasks = tuple(sorted((n, t.task.version, t.task.hash, t.task.scorer_mode) for n, t in e.tasks.items()))
        buckets[(e.manifest.suite or "", tasks, _settings(e, strict))].append(e)
    groups = []
    for (suite, tasks, settings), members in buckets.items():
        gid = "g-" + hashlib.sha1(repr((suite, tasks, settings)).encode()).hexdigest()[:8]
        for e in members:
            e.group = gid
        differ = [f for f in loose if len({_settings(e, (f,)) for e in members}) > 1]
        groups.append(Group(id=gid, suite=suite or None, tasks=tasks, entries=members, mismatches_allowed=differ,
                            settings={t[0]: _settings_text(members, t[0]) for t in tasks}))
    groups.sort(key=lambda g: (-len(g.entries), g.suite or "", g.tasks, g.id))
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


def load_site_data(paths: list[str | os.PathLike[str]], reference_map: str | os.PathLike[str] | None = None,
                   allow_mismatch: Iterable[str] = ()) -> SiteData:
    allowed = parse_allowed(allow_mismatch)
    entries, problems = load_entries(paths)
    try:
        assign_references(entries, read_reference_map(reference_map))
    except CotbenchError as exc:
        if reference_map is None or str(exc).startswith(str(reference_map)):
            raise
        raise CotbenchError(f"{reference_map}: {exc}") from None
    return SiteData(entries=entries, groups=group_entries(entries, allowed), tasks=collect_tasks(entries),
                    problems=problems, allow_mismatch=allowed)
