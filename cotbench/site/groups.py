"""Comparability groups: runs whose absolute numbers may be ranked together.

Runs share a group only when they evaluated the same suite, task versions, scorer modes and
items (a ``--limit`` of 50 and the full set are different item sets, and so are two subsets of
the same size) with the same generation settings, except the fields allowed to differ
(``--allow-mismatch``). Every other group says why it is not ranked with the largest one.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cotbench.analysis.comparability import ALL, GENERATION_FIELDS, MODEL_FIELDS, parse_allowed

if TYPE_CHECKING:
    from cotbench.site.data import Entry

TaskKey = tuple[str, str, str, str]  # (name, version, hash, scorer_mode)
ItemSet = tuple[int, str | None]  # (items evaluated, hash of the ordered items; None before schema 1.3)
_LABELS = {"top_p": "top-p", "max_tokens": "max tokens", "system_prompt": "system prompt",
           "chat_template": "chat template"}
_MAX_SHOWN = 3


@dataclass
class Group:
    """Runs ranked together, and what they share."""

    id: str
    suite: str | None
    tasks: tuple[TaskKey, ...]
    entries: list[Entry]
    items: dict[str, ItemSet] = field(default_factory=dict)  # task -> its item set
    limits: tuple[int | None, ...] = ()  # the runs' --limit values (the items decide, not the limit)
    settings: dict[str, str] = field(default_factory=dict)  # task -> its settings, as text
    mismatches_allowed: list[str] = field(default_factory=list)  # allowed fields that do differ here
    apart: list[str] = field(default_factory=list)  # why not ranked with the first group (empty for it)

    @property
    def scorer_modes(self) -> list[str]:
        return sorted({t[3] for t in self.tasks})


def item_set(e: Entry, task: str) -> ItemSet:
    info = e.tasks[task].task
    return info.n_items, info.items_hash


def settings_of(e: Entry, fields: Sequence[str], only: str | None = None) -> tuple:
    """The run's prompt overrides and per-task generation settings, restricted to ``fields``."""
    model = e.manifest.model
    run_level = tuple((f, getattr(model, f)) for f in MODEL_FIELDS if f in fields)
    per_task = tuple((n, tuple((f, str(getattr(tr.task.generation, f))) for f in GENERATION_FIELDS if f in fields))
                     for n, tr in sorted(e.tasks.items()) if only is None or n == only)
    return run_level, per_task


def _value(e: Entry, f: str, task: str) -> object:
    return getattr(e.manifest.model, f) if f in MODEL_FIELDS else getattr(e.tasks[task].task.generation, f)


def _shown(v: object) -> str:
    return repr(v) if isinstance(v, str) else str(v)


def settings_text(members: list[Entry], task: str) -> str:
    """A task's settings in a group; a field allowed to differ shows every value ("256 / 1024")."""
    def vals(f: str) -> str | None:
        got = [_value(e, f, task) for e in members]
        got = [v for v in got if v is not None and v != []]  # no override, no stop sequences: not shown
        return " / ".join(dict.fromkeys(_shown(v) for v in got)) or None

    return ", ".join(f"{_LABELS.get(f, f)} {v}" for f in (*GENERATION_FIELDS, *MODEL_FIELDS) if (v := vals(f)))


def group_entries(entries: list[Entry], allow_mismatch: Iterable[str] = ()) -> list[Group]:
    """Comparability groups, largest first; sets ``Entry.group``. Settings named in
    ``allow_mismatch`` do not split groups (versions, scorer modes and item sets always do)."""
    allowed = parse_allowed(allow_mismatch)
    loose = [f for f in (*GENERATION_FIELDS, *MODEL_FIELDS) if ALL in allowed or f in allowed]
    strict = [f for f in (*GENERATION_FIELDS, *MODEL_FIELDS) if f not in loose]
    buckets: dict[tuple, list[Entry]] = defaultdict(list)
    for e in entries:
        tasks = tuple(sorted((n, t.task.version, t.task.hash, t.task.scorer_mode) for n, t in e.tasks.items()))
        items = tuple(sorted((n, item_set(e, n)) for n in e.tasks))
        buckets[(e.manifest.suite or "", tasks, items, settings_of(e, strict))].append(e)
    groups = []
    for (suite, tasks, items, settings), members in buckets.items():
        gid = "g-" + hashlib.sha1(repr((suite, tasks, items, settings)).encode()).hexdigest()[:8]
        for e in members:
            e.group = gid
        differ = [f for f in loose if len({settings_of(e, (f,)) for e in members}) > 1]
        groups.append(
            Group(
                id=gid,
                suite=suite or None,
                tasks=tasks,
                entries=members,
                items=dict(items),
                limits=tuple(sorted({e.manifest.limit for e in members}, key=lambda v: (v is None, v or 0))),
                mismatches_allowed=differ,
                settings={t[0]: settings_text(members, t[0]) for t in tasks},
            )
        )
    groups.sort(key=lambda g: (-len(g.entries), g.suite or "", g.tasks, g.id))
    for g in groups[1:]:
        g.apart = why_apart(g, groups[0])
    return groups


def _names(tasks: Sequence[str]) -> str:
    shown = ", ".join(tasks[:_MAX_SHOWN])
    return shown + (f" and {len(tasks) - _MAX_SHOWN} more" if len(tasks) > _MAX_SHOWN else "")


def _limits(limits: tuple[int | None, ...]) -> str:
    return " / ".join("all items" if v is None else f"first {v}" for v in limits)


def why_apart(g: Group, main: Group) -> list[str]:
    """What separates ``g`` from ``main``, one phrase per kind of difference."""
    out: list[str] = []
    if g.suite != main.suite:
        out.append(f"suite {g.suite or 'unnamed'} (vs {main.suite or 'unnamed'})")
    mine, theirs = {t[0]: t for t in g.tasks}, {t[0]: t for t in main.tasks}
    if extra := sorted(set(mine) - set(theirs)):
        out.append(f"also evaluated {_names(extra)}")
    if missing := sorted(set(theirs) - set(mine)):
        out.append(f"did not evaluate {_names(missing)}")
    shared = sorted(set(mine) & set(theirs))
    if versions := [t for t in shared if mine[t][1:3] != theirs[t][1:3]]:
        out.append(f"other task version of {_names(versions)}")
    if modes := [t for t in shared if mine[t][3] != theirs[t][3]]:
        out.append(f"scorer mode {', '.join(sorted({mine[t][3] for t in modes}))} on {_names(modes)} "
                   f"(vs {', '.join(sorted({theirs[t][3] for t in modes}))})")
    if g.limits != main.limits:
        out.append(f"--limit: {_limits(g.limits)} (vs {_limits(main.limits)})")
    counts = [t for t in shared if g.items.get(t, (0, None))[0] != main.items.get(t, (0, None))[0]]
    if counts:
        out.append("items: " + ", ".join(f"{t} {g.items[t][0]} (vs {main.items[t][0]})" for t in counts[:_MAX_SHOWN])
                   + (f" and {len(counts) - _MAX_SHOWN} more" if len(counts) > _MAX_SHOWN else ""))
    same_count = [t for t in shared if t not in counts and g.items.get(t) != main.items.get(t)]
    if same_count:
        out.append(f"other items of the same count on {_names(same_count)}")
    if settings := [t for t in shared if g.settings.get(t) != main.settings.get(t)]:
        out.append("settings: " + "; ".join(f"{t}: {g.settings[t] or 'defaults'} (vs {main.settings[t] or 'defaults'})"
                                            for t in settings[:_MAX_SHOWN])
                   + (f" and {len(settings) - _MAX_SHOWN} more" if len(settings) > _MAX_SHOWN else ""))
    return out or ["other settings"]
