"""Asking a judge for grades: strict parsing, retries, and never a guessed grade.

Each case is tried up to ``RETRIES + 1`` times: greedy first (reproducible), then sampled with a
seed derived from the prompt and the attempt, so a judge stuck on a bad format can escape it.
A try fails on a generation error (a timeout, a server error), an output the rubric's parser
rejects, or a reasoning judge that ran out of tokens inside its reasoning (its thinking is split
off before parsing; a verdict inside unfinished reasoning is not a verdict). When every try
fails the case has no grade: the caller reports ``judge_error``.

Cases are sent together (a served judge streams them), one round per attempt.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cotbench.errors import MissingDependencyError, ModelLoadError
from cotbench.judge.grade import Grade, GradeError, Rubric
from cotbench.models.generator import Completion, GenRequest, derive_seed
from cotbench.results.schema import GenerationSettings
from cotbench.scoring.roles import Judge
from cotbench.scoring.thinking import split_reasoning

RETRIES = 2
RETRY_TEMPERATURE = 0.7


@dataclass(frozen=True)
class Graded:
    """A case's grade (None when every try failed) and the record of what the judge said."""

    grade: Grade | None
    info: dict[str, Any] = field(default_factory=dict)


def settings_for(rubric: Rubric, attempt: int) -> GenerationSettings:
    if attempt == 0:
        return GenerationSettings(temperature=0.0, max_tokens=rubric.max_tokens, seed=0, k=1)
    return GenerationSettings(temperature=RETRY_TEMPERATURE, top_p=0.95, max_tokens=rubric.max_tokens, seed=0, k=1)


def request_for(rubric: Rubric, prompt: str, attempt: int) -> GenRequest:
    settings = settings_for(rubric, attempt)
    seed = derive_seed(settings.seed, hashlib.sha256(prompt.encode()).hexdigest(), attempt)
    return GenRequest.build(prompt, settings, seed)


def parse(rubric: Rubric, raw: str) -> Grade:
    split = split_reasoning(raw)
    if split.truncated:
        raise GradeError("judge output truncated inside its reasoning")
    return rubric.parse(split.answer)


def grade_all(judge: Judge, rubric: Rubric, cases: Sequence[tuple[Mapping[str, Any], str]]) -> list[Graded]:
    """Grade each (item fields, answer) case with ``rubric``; results in case order."""
    prompts = [rubric.build(item, answer) for item, answer in cases]
    info = {**judge.provenance(), "rubric": rubric.name, "prompt_version": rubric.version}
    failures: list[list[dict[str, str]]] = [[] for _ in cases]
    done: dict[int, Graded] = {}
    pending = list(range(len(cases)))
    for attempt in range(RETRIES + 1):
        if not pending:
            break
        outs = _generate(judge, [request_for(rubric, prompts[i], attempt) for i in pending])
        still = []
        for i, out in zip(pending, outs, strict=True):
            if isinstance(out, Exception):
                failures[i].append({"error": f"{type(out).__name__}: {out}"})
                still.append(i)
                continue
            try:
                g = parse(rubric, out.text)
            except GradeError as exc:
                failures[i].append({"raw": out.text, "error": str(exc)})
                still.append(i)
                continue
            done[i] = Graded(g, {**info, "raw": out.text, "parsed": g.fields, "attempts": attempt + 1,
                                 "failures": failures[i]})
        pending = still
    for i in pending:
        last = failures[i][-1]
        done[i] = Graded(None, {**info, "raw": last.get("raw"), "attempts": RETRIES + 1, "failures": failures[i],
                                "error": last["error"]})
    return [done[i] for i in range(len(cases))]


def _generate(judge: Judge, requests: list[GenRequest]) -> list[Completion | Exception]:
    """The judge's completions, or for each request that failed, its error. A judge that cannot
    be loaded or reached at all stops the caller (``ModelLoadError``)."""
    gen = judge.handle.generator
    try:
        return list(gen.generate(requests))
    except (ModelLoadError, MissingDependencyError):
        raise
    except Exception as exc:  # noqa: BLE001 - a timeout or server error is a failed try, retried
        if len(requests) == 1:
            return [exc]
    # One request of a batch failed: ask each alone, so the others keep their try. Those that
    # finished before the failure are served from the cache.
    outs: list[Completion | Exception] = []
    for req in requests:
        outs.extend(_generate(judge, [req]))
    return outs
