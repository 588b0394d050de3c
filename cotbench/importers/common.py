"""What every importer shares: the imported model and tasks, re-scoring with cotbench's scorers,
records that keep a harness's own score, and writing the result as a cotbench run directory.

A task cotbench knows is rebuilt from cotbench's catalog (its items, prompts, targets) and every
response is scored again by ``cotbench.scoring.base.score_response`` through the engines' own
record builder, so an imported run and a native one cannot disagree on a score. Any other task
keeps the harness's per-sample score, under a domain the user names (``--domain TASK=DOMAIN``,
default ``general``), and says so in its ``scorer_mode``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from cotbench import __version__
from cotbench.domains import CAPABILITY_DOMAINS
from cotbench.errors import CotbenchError, DataError, printable
from cotbench.results.schema import (
    EngineName,
    GenerationSettings,
    SampleRecord,
    TaskInfo,
)
from cotbench.tasks.catalog import all_tasks
from cotbench.tasks.items import Item, build_items
from cotbench.tasks.taskdef import TaskDef

Harness = Literal["lm_eval", "inspect"]
HARNESS_PACKAGE: dict[str, str] = {"lm_eval": "lm_eval", "inspect": "inspect_ai"}
HARNESS_LABEL: dict[str, str] = {"lm_eval": "lm-eval", "inspect": "Inspect"}
DEFAULT_DOMAIN = "general"
PROVENANCE_FILE = "imported.json"
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")

TokenCounter = Callable[[str], int]


class LogImportError(CotbenchError):
    """A log or results file that cannot be imported: malformed, partial, or not what it claims."""


def fail(path: object, why: str) -> LogImportError:
    """The one-line error for an input file: ``PATH: why``."""
    return LogImportError(f"{printable(path)}: {why}")


@dataclass
class ImportOptions:
    """``domains``: harness task name -> domain for tasks cotbench does not know."""

    domains: dict[str, str] = field(default_factory=dict)
    allow_incomplete: bool = False
    count_tokens: TokenCounter | None = None
    label: str | None = None
    step: int | None = None


@dataclass(frozen=True)
class HarnessModel:
    """The model as the harness recorded it; one run directory per distinct model."""

    harness: Harness
    harness_version: str
    model: str
    backend: str
    model_args: str = ""
    revision: str | None = None
    base_url: str | None = None
    system_prompt: str | None = None

    @property
    def identity(self) -> str:
        """Stable for the same model and harness settings, so a re-import lands in the same run."""
        key = [self.harness, self.model, self.backend, self.model_args, self.revision, self.base_url,
               self.system_prompt]
        return hashlib.sha256(json.dumps(key).encode()).hexdigest()

    def label(self, options: ImportOptions) -> str:
        return options.label or self.model

    def run_id(self, options: ImportOptions) -> str:
        slug = _UNSAFE_NAME.sub("_", self.label(options)).strip("_")[:80] or "model"
        step = f"-step{options.step}" if options.step is not None else ""
        return f"{slug}{step}-{self.identity[:8]}"


@dataclass
class ImportedTask:
    """One task of one harness log, as cotbench records it."""

    info: TaskInfo
    records: list[SampleRecord]
    harness_task: str
    files: list[str]
    rescored: bool
    started_at: datetime
    finished_at: datetime
    harness_metrics: dict[str, Any] = field(default_factory=dict)
    harness_status: str = "success"
    notes: list[str] = field(default_factory=list)


@dataclass
class ImportedRun:
    model: HarnessModel
    tasks: list[ImportedTask]


class TaskProvenance(BaseModel):
    harness_task: str
    files: list[str]
    scores: Literal["rescored by cotbench", "kept from the harness"]
    harness_status: str = "success"
    notes: list[str] = Field(default_factory=list)


class ImportProvenance(BaseModel):
    """``imported.json`` beside the manifest: where an imported run came from."""

    imported_by: str = f"cotbench {__version__}"
    harness: Harness
    harness_version: str
    imported_at: datetime
    files: list[str]
    tasks: dict[str, TaskProvenance]


# -- tasks cotbench knows ---------------------------------------------------------------------------------------

def known_task(name: str, prefix: str, path: object) -> TaskDef | None:
    """The cotbench task a harness task name (``cotbench_<name>``, ``cotbench/<name>``) stands for."""
    if not name.startswith(prefix):
        return None
    tasks = all_tasks()
    td = tasks.get(name[len(prefix):])
    if td is None:
        raise fail(path, f"task '{printable(name)}' is named as a cotbench task, but this cotbench has no task "
                         f"'{printable(name[len(prefix):])}' (see `cotbench tasks`)")
    return td


def catalog_items(td: TaskDef, path: object) -> dict[str, Item]:
    """Every item of ``td`` by id, rebuilt from cotbench's catalog (local data: --data-dir)."""
    try:
        return {i.id: i for i in build_items(td)}
    except DataError as exc:
        raise fail(path, f"cannot rebuild the items of task {td.name} to re-score it ({exc}); pass --data-dir "
                         "with the benchmark files") from None


def catalog_source(td: TaskDef) -> str:
    src = td.source
    if src.kind == "probe":
        return f"cotbench probe '{src.loader}' (seed {src.seed})" if src.seed is not None else f"cotbench {src.loader}"
    return f"{src.hub_id}@{src.hub_revision}" if src.hub_id else (src.local_dir or src.loader)


def check_prompt(item: Item, prompt: str | None, path: object, task: str) -> None:
    """The harness asked what cotbench's item asks; anything else is another task version's item."""
    if prompt is not None and prompt != item.prompt:
        raise fail(path, f"item {printable(item.id)} of {task} has another prompt than cotbench's (the log was "
                         "written by another version of the task); it cannot be re-scored as this one")


def reasoning_tokens_known(output: str, output_tokens: int | None, reasoning_tokens: int | None,
                           counting: bool) -> int | None:
    """The reasoning-token count to hand the record builder as the server's, or None to count.

    A harness that reported the reasoning tokens is taken at its word; with a tokenizer
    (``--tokenizer``) cotbench counts; otherwise a response without reasoning has none (all its
    output tokens are the answer's), and any other split is unknown (0 and 0, with a note)."""
    from cotbench.scoring.thinking import split_reasoning

    if reasoning_tokens is not None:
        return reasoning_tokens
    if not counting and output_tokens and not split_reasoning(output).reasoning:
        return 0
    return None


def zero_tokens(text: str) -> int:
    """The counter without a tokenizer: token counts unknown, recorded as 0."""
    return 0


def rescored_records(td: TaskDef, settings: GenerationSettings, items: Sequence[Item],
                     responses: Sequence[tuple[Item, int, Any, float | None]], run_id: str, engine: EngineName,
                     count: TokenCounter) -> list[SampleRecord]:
    """``responses``: (item, repeat, Completion, the harness's own score); records built exactly as
    the engines build theirs, with the harness's score kept beside cotbench's for the record."""
    from cotbench.engines.base import TaskPlan, make_record

    plan = TaskPlan(task=td, hash=td.content_hash(), settings=settings, items=list(items))
    records = []
    for item, repeat, completion, harness_score in responses:
        rec = make_record(run_id, plan, item, repeat, completion, engine, count)
        if harness_score is not None and math.isfinite(harness_score):
            rec.details["harness_score"] = harness_score
        records.append(rec)
    return records


def rescored_info(td: TaskDef, settings: GenerationSettings, items: Sequence[Item], records: Sequence[SampleRecord],
                  identity: str) -> TaskInfo:
    from cotbench.engines.base import TaskPlan
    from cotbench.runner import items_hash

    plan = TaskPlan(task=td, hash=td.content_hash(), settings=settings, items=list(items))
    modes = sorted({r.scorer_mode for r in records})
    return TaskInfo(name=td.name, version=td.version, hash=plan.hash, domain=td.domain, scorer=td.scorer,
                    scorer_mode=",".join(modes) or "exact", source=catalog_source(td), license=td.license,
                    generation=settings, n_items=len(items), items_hash=items_hash(plan), model_identity=identity)


# -- tasks kept with the harness's scores ----------------------------------------------------------------------

def kept_task_name(harness: Harness, harness_task: str) -> str:
    """A folder-safe task name; one that is a cotbench task's name gets the harness as a prefix, so
    lm-eval's own ``gsm8k`` never passes for cotbench's."""
    name = _UNSAFE_NAME.sub("_", harness_task).strip("_") or "task"
    return f"{harness}_{name}" if name in all_tasks() else name


def kept_scorer(harness: Harness, metric: str) -> str:
    """The registered ``harness`` scorer naming the harness and its metric (``cotbench.scoring.harness``)."""
    from cotbench.scoring.spec import ScorerSpec

    return str(ScorerSpec("harness", {"harness": harness, "metric": metric}))


def kept_domain(harness_task: str, name: str, options: ImportOptions) -> str:
    return options.domains.get(harness_task) or options.domains.get(name) or DEFAULT_DOMAIN


def unit_score(value: Any, path: object, task: str, metric: str) -> float | None:
    """A harness's per-sample value as a 0..1 score (None: unscored)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return float(value)
    if not isinstance(value, (int, float)):
        raise fail(path, f"task {task}: metric {metric} has a non-numeric value {printable(repr(value))[:40]}")
    v = float(value)
    if math.isnan(v):
        return None
    if not 0.0 <= v <= 1.0:
        raise fail(path, f"task {task}: metric {metric} is not a 0..1 score (a sample has {v:g}); cotbench imports "
                         "accuracy-like metrics only")
    return v


def kept_record(run_id: str, task: str, task_hash: str, engine: EngineName, sample_id: str, repeat: int,
                prompt: str, target: Any, output: str, extracted: str | None, score: float | None,
                finish_reason: str, output_tokens: int | None, reasoning_tokens: int | None,
                count: TokenCounter | None, latency_s: float, scorer_mode: str, details: dict[str, Any]
                ) -> SampleRecord:
    """A sample scored by the harness: reasoning split off as cotbench splits it, the score as given."""
    from cotbench.scoring.thinking import split_reasoning

    split = split_reasoning(output)
    server_reasoning = reasoning_tokens_known(output, output_tokens, reasoning_tokens, count is not None)
    counter = count or zero_tokens
    r_tokens = server_reasoning if server_reasoning is not None else counter(split.reasoning)
    if server_reasoning is not None and output_tokens is not None:
        a_tokens = max(output_tokens - server_reasoning, 0) if split.answer else 0
    else:
        a_tokens = counter(split.answer)
    return SampleRecord(
        run_id=run_id, task=task, task_hash=task_hash, sample_id=sample_id, repeat=repeat, prompt=prompt,
        target=target, output=output, reasoning=split.reasoning, answer=split.answer, extracted=extracted,
        score=score, truncated=split.truncated or finish_reason == "length",
        finish_reason=finish_reason if finish_reason in ("stop", "length", "error") else "unknown",
        reasoning_tokens=r_tokens, answer_tokens=a_tokens,
        output_tokens=output_tokens if output_tokens is not None else r_tokens + a_tokens,
        latency_s=latency_s, engine=engine, scorer_mode=scorer_mode, details=details)


def content_hash(*parts: Any) -> str:
    """A kept task's hash: what the harness's config says the task is (same length as cotbench's)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def check_domains(options: ImportOptions, runs: Sequence[ImportedRun]) -> None:
    """Every ``--domain`` names a task that was imported with the harness's scores."""
    kept = {n for r in runs for t in r.tasks if not t.rescored for n in (t.harness_task, t.info.name)}
    rescored = {t.harness_task: t.info for r in runs for t in r.tasks if t.rescored}
    for name in options.domains:
        if name in rescored:
            raise CotbenchError(f"--domain {printable(name)}: a cotbench task; its domain is "
                                f"{rescored[name].domain}")
        if name not in kept:
            known = ", ".join(sorted(kept)) or "none"
            raise CotbenchError(f"--domain {printable(name)}: no imported task of that name (kept with the "
                                f"harness's scores: {known})")


def parse_domains(values: Sequence[str]) -> dict[str, str]:
    """``--domain TASK=DOMAIN`` values; a kept score may be a capability, never a safety rate (those
    need cotbench's refusal labels)."""
    out: dict[str, str] = {}
    for value in values:
        task, sep, domain = value.partition("=")
        task, domain = task.strip(), domain.strip()
        if not sep or not task or not domain:
            raise CotbenchError(f"--domain '{printable(value)}': expected TASK=DOMAIN")
        if domain not in CAPABILITY_DOMAINS:
            raise CotbenchError(f"--domain {printable(value)}: a harness's score can be counted as "
                                f"{', '.join(CAPABILITY_DOMAINS)}; safety domains need cotbench's refusal labels "
                                "(import a cotbench safety task to get them)")
        out[task] = domain
    return out


def utc(value: datetime | str | float | None) -> datetime | None:
    """A harness's time stamp as an aware datetime (naive ones are taken as UTC)."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, (int, float)):
            return datetime.fromtimestamp(float(value), tz=UTC)
        dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except (ValueError, OverflowError, OSError):
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def now() -> datetime:
    return datetime.now(UTC)



def load_token_counter(name: str) -> TokenCounter:
    """``--tokenizer``: count tokens with a Hugging Face tokenizer (a local folder or a cached Hub id)."""
    from transformers import AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(name)
    except Exception as exc:  # noqa: BLE001 - transformers raises many kinds; all mean "cannot load"
        reason = " ".join(str(exc).split())[:200]
        raise CotbenchError(f"--tokenizer {printable(name)}: cannot load a tokenizer ({reason})") from None

    def count(text: str) -> int:
        return len(tok.encode(text, add_special_tokens=False)) if text else 0

    return count
