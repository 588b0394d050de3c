"""Expand a series of checkpoints (revisions, subfolders or a glob of local dirs) into specs."""

from __future__ import annotations

import glob
from dataclasses import replace
from pathlib import Path

from cotbench.errors import SpecError
from cotbench.models.spec import ModelSpec, parse_spec, parse_step

_GLOB_CHARS = set("*?[")


def expand_checkpoints(
    specs: list[str],
    revisions: list[str] | None = None,
    subfolders: list[str] | None = None,
    steps: list[int] | None = None,
) -> list[ModelSpec]:
    """One ModelSpec per checkpoint, ordered as given (globs sorted by training step)."""
    if (revisions or subfolders) and len(specs) != 1:
        raise SpecError("--revisions/--subfolders apply to exactly one --model")
    if revisions and subfolders:
        raise SpecError("give either --revisions or --subfolders, not both")
    out: list[ModelSpec] = []
    for text in specs:
        base = parse_spec(text)
        if base.local and _GLOB_CHARS & set(base.model):
            out.extend(_expand_glob(base, text))
        elif revisions:
            out.extend(replace(base, revision=r, step=parse_step(r), raw=f"{text}@{r}") for r in revisions)
        elif subfolders:
            out.extend(replace(base, subfolder=s, step=parse_step(s), raw=f"{text}/{s}") for s in subfolders)
        else:
            out.append(base)
    if steps:
        if len(steps) != len(out):
            raise SpecError(f"--steps gives {len(steps)} steps for {len(out)} checkpoints")
        out = [replace(s, step=st) for s, st in zip(out, steps, strict=True)]
    return out


def _expand_glob(base: ModelSpec, text: str) -> list[ModelSpec]:
    matches = sorted(p for p in glob.glob(base.model) if Path(p).is_dir())
    if not matches:
        raise SpecError(f"model spec '{text}': no checkpoint directory matches '{base.model}'")
    specs = [replace(base, model=str(Path(m).resolve()), step=parse_step(Path(m).name), raw=f"{base.backend}:{m}")
             for m in matches]
    # Order by training step where every name has one; otherwise by name.
    stepped = [(s.step, s) for s in specs if s.step is not None]
    if len(stepped) == len(specs):
        return [s for _, s in sorted(stepped, key=lambda pair: pair[0])]
    return specs
