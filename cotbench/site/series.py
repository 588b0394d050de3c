"""Checkpoint series: which runs are steps of one training run, and which run is their reference.

A series is keyed on where its checkpoints come from, with the step taken out:

- local checkpoints (``hf:/ckpts/run1/checkpoint-*``): the folder plus the checkpoint's name
  with its step digits as ``*`` (``/ckpts/run1/checkpoint-*``), so a glob's checkpoints are one
  series and two runs in one folder (``a-step*``, ``b-step*``) are two;
- Hub checkpoints: the repo (revisions), or the repo plus the subfolder pattern (subfolders).

A series whose steps repeat is split by comparability group (one checkpoint evaluated twice,
with a --limit and in full); otherwise the profile and trajectory say what differs.
The reference is chosen as ``cotbench trajectory`` does (:func:`cotbench.analysis.trajectory.from_runs`):
the step-0 checkpoint; else the series' base model, a run without a step in the checkpoints'
own folder (plotted at step 0); else the earliest step. A Hub repo's stepless run is not taken
as the base: its main branch is as often the final model as the base.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING

from cotbench.results.schema import ModelInfo

if TYPE_CHECKING:
    from cotbench.site.data import Entry

_DRIVE = re.compile(r"^[A-Za-z]:[/\\]")


@dataclass(frozen=True)
class SeriesKey:
    key: str  # identifies the series (may hold a local path: never published)
    name: str  # what the site calls it: no absolute path
    folder: str | None = None  # local checkpoints: the folder they sit in (for the base model)


def is_local(model: ModelInfo) -> bool:
    """The model is a path on the machine that ran it (``hf:/dir``, ``hf:./dir``, ``hf:~/dir``)."""
    m = model.model
    return m.startswith(("/", "~", "./", "../", "\\")) or bool(_DRIVE.match(m))


def _path(text: str) -> PurePosixPath | PureWindowsPath:
    return PureWindowsPath(text) if _DRIVE.match(text) or "\\" in text else PurePosixPath(text)


def _wild(name: str, step: int) -> str:
    """``checkpoint-640`` -> ``checkpoint-*``: the last digit run that spells the step becomes ``*``."""
    runs = [m for m in re.finditer(r"\d+", name) if int(m.group()) == step]
    if not runs:
        return "*"  # a step given on the command line, not in the name: any checkpoint of the folder
    m = runs[-1]
    return name[: m.start()] + "*" + name[m.end():]


def series_key(model: ModelInfo) -> SeriesKey | None:
    """The series of a checkpoint run; None for a run without a training step."""
    if model.step is None:
        return None
    if is_local(model):
        p = _path(model.model)
        wild = _wild(p.name, model.step)
        folder = str(p.parent)
        return SeriesKey(f"{model.backend}:{p.parent / wild}", f"{p.parent.name}/{wild}" if p.parent.name else wild,
                         folder=f"{model.backend}:{folder}")
    name = model.model
    if model.subfolder:
        sub = PurePosixPath(model.subfolder)
        name = f"{name}/{sub.parent / _wild(sub.name, model.step)}" if str(sub.parent) != "." else \
            f"{name}/{_wild(sub.name, model.step)}"
    return SeriesKey(f"{model.backend}:{name}", name)


def base_folder(model: ModelInfo) -> str | None:
    """The folder a stepless local run sits in: the base model of checkpoints saved beside it."""
    if model.step is not None or not is_local(model):
        return None
    return f"{model.backend}:{_path(model.model).parent}"


@dataclass
class Series:
    key: SeriesKey
    group: str  # comparability group id when a repeated step split the series; else ""
    checkpoints: list[Entry]  # in step order
    base: Entry | None = None  # a stepless base model run, when found

    @property
    def slug(self) -> str:
        """File-name and element-id safe, and free of the key's local path."""
        return "s-" + hashlib.sha1(f"{self.group}\0{self.key.key}".encode()).hexdigest()[:10]

    @property
    def name(self) -> str:
        return self.key.name

    @property
    def reference(self) -> Entry:
        """Step 0, else the base model, else the earliest step (as ``cotbench trajectory``)."""
        first = self.checkpoints[0]
        if first.step == 0 or self.base is None:
            return first
        return self.base

    @property
    def members(self) -> list[Entry]:
        """Every run of the series, the base model (if any) first, then by step."""
        return ([self.base] if self.base is not None else []) + self.checkpoints

    @property
    def compared(self) -> list[Entry]:
        """The checkpoints compared with the reference (the reference itself left out)."""
        ref = self.reference
        return [e for e in self.checkpoints if e is not ref]


def _unique_steps(members: list[Entry]) -> bool:
    steps = [e.step for e in members]
    return len(steps) == len(set(steps))


def find_series(entries: list[Entry]) -> list[Series]:
    """Series of two or more runs (``Entry.group`` must be set). A series whose steps repeat (one
    checkpoint evaluated with a --limit and in full, say) is split by comparability group; else
    its runs stay together across groups, and the profile and trajectory say what differs."""
    buckets: dict[str, list[Entry]] = defaultdict(list)
    keys: dict[str, SeriesKey] = {}
    bases: dict[str, list[Entry]] = defaultdict(list)  # folder -> stepless local runs in it
    for e in entries:
        k = series_key(e.manifest.model)
        if k is not None:
            buckets[k.key].append(e)
            keys[k.key] = k
        elif (folder := base_folder(e.manifest.model)) is not None:
            bases[folder].append(e)
    parts: list[tuple[SeriesKey, str, list[Entry]]] = []
    for key, members in sorted(buckets.items()):
        if _unique_steps(members):
            parts.append((keys[key], "", members))
            continue
        by_group: dict[str, list[Entry]] = defaultdict(list)
        for e in members:
            by_group[e.group].append(e)
        parts += [(keys[key], g, m) for g, m in sorted(by_group.items())]
    per_folder: dict[str, int] = defaultdict(int)
    for k, _, _ in parts:
        if k.folder is not None:
            per_folder[k.folder] += 1
    out: list[Series] = []
    for k, group, members in parts:
        members.sort(key=lambda e: (e.step, e.run_id))
        candidates = [b for b in bases.get(k.folder or "", []) if not group or b.group == group]
        # one stepless run beside one series of checkpoints: its base model
        base = candidates[0] if k.folder is not None and per_folder[k.folder] == 1 and len(candidates) == 1 else None
        series = Series(k, group, members, base)
        if len(series.members) > 1:
            out.append(series)
    return out
