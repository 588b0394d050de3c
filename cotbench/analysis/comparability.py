"""Whether two runs' numbers may be compared: same generation settings, task version and scorer mode.

The task hash leaves generation presets out (the same task content may be run greedy or sampled,
at any token budget), so a run at 256 max tokens and one at 1024 share hashes yet differ by tens
of points. Profile, trajectory, gate and leaderboard call ``require_comparable``, which refuses
unless the differing fields are allowed (``--allow-mismatch FIELD``, ``all`` for every field).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from cotbench.errors import CotbenchError
from cotbench.results.schema import ModelInfo, TaskInfo

GENERATION_FIELDS = ("temperature", "top_p", "max_tokens", "k", "seed", "stop")
TASK_FIELDS = ("version", "scorer_mode")
MODEL_FIELDS = ("system_prompt", "chat_template")  # spec-level overrides in the manifest
FIELDS = GENERATION_FIELDS + TASK_FIELDS + MODEL_FIELDS
ALL = "all"
FLAG_HELP = (f"compare although this differs between the runs: {', '.join(FIELDS)} or {ALL} (repeatable); "
             "recorded in the output")
_MAX_SHOWN = 3  # task names spelled out per difference, to keep the error one readable line


class ComparabilityError(CotbenchError):
    """Two runs whose numbers are not comparable (different settings, version or scorer mode)."""


@dataclass(frozen=True)
class Difference:
    """One field whose value differs between the baseline (reference) run and the candidate run."""

    field: str
    baseline: object
    candidate: object
    task: str | None = None  # None for run-level fields (system prompt, chat template)

    def describe(self, names: tuple[str, str] = ("baseline", "candidate")) -> str:
        where = f"task {self.task}: " if self.task else ""
        a, b = _show(self.baseline), _show(self.candidate)
        return f"{where}{self.field} differs ({names[0]} {a}, {names[1]} {b})"


def _show(v: object) -> str:
    """Free text (prompts, templates) quoted and cut short so the error stays one readable line."""
    if v is None:
        return "none"
    if isinstance(v, str) and not v.isalnum():
        return repr(v if len(v) <= 40 else v[:40] + "…")
    return str(v)


def task_differences(baseline: TaskInfo, candidate: TaskInfo) -> list[Difference]:
    """Generation settings, version and scorer mode of one task in two runs."""
    pairs = [(f, getattr(baseline.generation, f), getattr(candidate.generation, f)) for f in GENERATION_FIELDS]
    pairs += [(f, getattr(baseline, f), getattr(candidate, f)) for f in TASK_FIELDS]
    return [Difference(f, a, b, baseline.name) for f, a, b in pairs if a != b]


def model_differences(baseline: ModelInfo | None, candidate: ModelInfo | None) -> list[Difference]:
    """System prompt and chat-template override of two runs (no manifest: nothing to compare)."""
    if baseline is None or candidate is None:
        return []
    pairs = [(f, getattr(baseline, f), getattr(candidate, f)) for f in MODEL_FIELDS]
    return [Difference(f, a, b) for f, a, b in pairs if a != b]


def run_differences(baseline: Mapping[str, TaskInfo], candidate: Mapping[str, TaskInfo],
                    baseline_model: ModelInfo | None = None, candidate_model: ModelInfo | None = None,
                    tasks: Iterable[str] | None = None) -> list[Difference]:
    """Differences over ``tasks`` (default: the tasks both runs have) plus the run-level fields."""
    names = sorted(set(baseline) & set(candidate) if tasks is None else set(tasks) & set(candidate))
    out = model_differences(baseline_model, candidate_model)
    for n in names:
        out += task_differences(baseline[n], candidate[n])
    return out


def parse_allowed(fields: Iterable[str] | None) -> tuple[str, ...]:
    """Validated, sorted field names (comma lists accepted); ``("all",)`` when ``all`` is among them."""
    names = {f.strip() for item in fields or () for f in item.split(",") if f.strip()}
    unknown = sorted(names - {*FIELDS, ALL})
    if unknown:
        raise ComparabilityError(f"unknown --allow-mismatch field {unknown[0]!r} (one of {', '.join(FIELDS)}, {ALL})")
    return (ALL,) if ALL in names else tuple(sorted(names))


def _summaries(diffs: Sequence[Difference], names: tuple[str, str]) -> list[str]:
    """One phrase per (field, values): a suite-wide change names its tasks once, not once per task."""
    groups: dict[tuple[str, str, str], list[Difference]] = {}
    for d in diffs:
        groups.setdefault((d.field, repr(d.baseline), repr(d.candidate)), []).append(d)
    out = []
    for ds in groups.values():
        tasks = [d.task for d in ds if d.task]
        line = Difference(ds[0].field, ds[0].baseline, ds[0].candidate).describe(names)
        if tasks:
            shown = ", ".join(tasks[:_MAX_SHOWN]) + (f" and {len(tasks) - _MAX_SHOWN} more" if len(tasks) > _MAX_SHOWN
                                                     else "")
            line = f"task{'s' * (len(tasks) > 1)} {shown}: {line}"
        out.append(line)
    return out


def require_comparable(diffs: Sequence[Difference], allowed: Iterable[str] | None,
                       names: tuple[str, str] = ("baseline", "candidate")) -> list[str]:
    """Raise ``ComparabilityError`` naming every difference not allowed; warnings for the allowed ones."""
    ok = parse_allowed(allowed)
    refused = [d for d in diffs if ALL not in ok and d.field not in ok]
    if refused:
        flags = " ".join(f"--allow-mismatch {f}" for f in dict.fromkeys(d.field for d in refused))
        raise ComparabilityError(
            f"{'; '.join(_summaries(refused, names))}; rerun with the same settings or pass {flags}"
        )
    return [f"mismatch allowed: {line}" for line in _summaries(diffs, names)]
