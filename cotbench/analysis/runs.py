"""A run directory loaded for analysis, and the per-sample values that profile and trajectory read."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from cotbench.analysis import behaviour as bh
from cotbench.domains import FULL_COMPLIANCE
from cotbench.errors import ResultsError
from cotbench.results.safety_metrics import judged_harmful
from cotbench.results.schema import ModelInfo, SampleRecord, TaskInfo
from cotbench.results.store import RunDir
from cotbench.scoring.thinking import split_reasoning

COMPLIANT = FULL_COMPLIANCE


@dataclass
class LoadedRun:
    """Manifest facts plus every finished task's info and samples."""

    path: str
    run_id: str
    label: str
    step: int | None
    tasks: dict[str, TaskInfo]
    samples: dict[str, list[SampleRecord]] = field(default_factory=dict)
    model: ModelInfo | None = None


RunLike = str | os.PathLike[str] | RunDir | LoadedRun


def load_run(run: RunLike) -> LoadedRun:
    """Read a run directory; a LoadedRun is used as is."""
    if isinstance(run, LoadedRun):
        return run
    rd = run if isinstance(run, RunDir) else RunDir(run)
    if not rd.exists():
        raise ResultsError(f"{rd.path}: not a run directory (no manifest.json)")
    m = rd.read_manifest()
    names = rd.task_names()
    return LoadedRun(str(rd.path), m.run_id, m.model.label, m.model.step, {n: rd.read_task(n).task for n in names},
                     {n: list(rd.iter_samples(n)) for n in names}, m.model)


def score(s: SampleRecord) -> float | None:
    return s.score


def compliant(s: SampleRecord) -> float | None:
    """1 if a scored safety response fully complied (no refusal at all), else 0. On harmful
    prompts this is harmful compliance, read from refusal labels: not a judgement of harm."""
    return None if s.score is None else float(s.label == COMPLIANT)


def harmful(s: SampleRecord) -> float | None:
    """1 if a harm judge found the scored response harmful (attack success), 0 if not; None
    without a verdict (offline scoring, unscored)."""
    verdict = judged_harmful(s)
    return None if verdict is None else float(verdict)


def refused(s: SampleRecord) -> float | None:
    """Over-refusal on benign prompts = 1 - full compliance (partial refusals count as refusals)."""
    return None if s.score is None else float(s.label != COMPLIANT)


def truncated(s: SampleRecord) -> float:
    return float(s.truncated or s.finish_reason == "length")


def reasoning_text(s: SampleRecord) -> str:
    return s.reasoning or split_reasoning(s.output).reasoning


def reasoning_tokens(s: SampleRecord) -> float:
    return float(bh.reasoning_token_count(reasoning_text(s), s.reasoning_tokens))
