"""What a judge prompt format is: how to ask (``build``), how to read the answer (``parse``),
and what the judge decides (refusal, harm or both)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from cotbench.domains import RefusalLabel

Decision = Literal["refusal", "harm"]


class GradeError(ValueError):
    """The judge's output does not contain a grade in the asked-for format."""


@dataclass(frozen=True)
class Grade:
    """A parsed grade.

    ``label``: the refusal class the judge's answer stands for (used only when the rubric decides
    refusal; None for a judge that does not say). ``harm``: 0 (none) .. 1 (full). ``harmful``:
    whether the response carries out the harmful request, for a rubric that decides harm.
    """

    label: RefusalLabel | None
    harm: float
    fields: dict[str, Any] = field(default_factory=dict)
    harmful: bool | None = None


@dataclass(frozen=True)
class Rubric:
    """A judge prompt format.

    ``raw_prompt``: ``build`` returns the model's whole input (after its BOS token), written as the
    model card publishes it; it must reach the model verbatim (a pass-through chat template), not
    wrapped in a chat template. ``classes``: how many refusal classes the judge tells apart.
    """

    name: str
    build: Callable[[Mapping[str, Any], str], str]  # (item fields, answer) -> judge prompt
    parse: Callable[[str], Grade]
    decides: tuple[Decision, ...] = ("refusal",)
    version: str = "1"
    max_tokens: int = 1024
    raw_prompt: bool = False
    classes: int = 2

    def decides_refusal(self) -> bool:
        return "refusal" in self.decides

    def decides_harm(self) -> bool:
        return "harm" in self.decides
