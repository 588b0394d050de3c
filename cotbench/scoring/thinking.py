"""Split a response into its reasoning and its answer.

Reasoning models wrap their chain of thought in markers such as ``<think>...</think>``.
Scorers judge only the answer. A think block that is opened but never closed means the
model ran out of budget while reasoning: the answer is empty and the sample is truncated.
Some families also wrap the answer (``<|begin_of_solution|>...<|end_of_solution|>``): the
answer is what the solution block holds, and a solution block opened but never closed is a
truncated answer, scored as one (0 for capability, unscored for safety).

Markers by family (open reasoning models, checked against their chat templates / model cards):
``<think>`` DeepSeek-R1 and its distills, Qwen3 / QwQ, Phi-4-reasoning, GLM-Z1, Nemotron,
OLMo Think; ``<|begin_of_thought|>`` + ``<|begin_of_solution|>`` Sky-T1, Bespoke-Stratos and
OpenThinker (the OpenThoughts format); ``[THINK]`` Magistral; ``<thought>`` EXAONE Deep;
``◁think▷`` Kimi; ``<thinking>`` / ``<reasoning>`` common in SFT data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# (open, close) marker pairs seen in the wild; matched case-insensitively.
THINK_MARKERS: tuple[tuple[str, str], ...] = (
    ("<think>", "</think>"),
    ("<thinking>", "</thinking>"),
    ("<reasoning>", "</reasoning>"),
    ("<|begin_of_thought|>", "<|end_of_thought|>"),
    ("◁think▷", "◁/think▷"),
    ("[THINK]", "[/THINK]"),
    ("<thought>", "</thought>"),
)
# (open, close) pairs around the final answer, after the reasoning.
SOLUTION_MARKERS: tuple[tuple[str, str], ...] = (("<|begin_of_solution|>", "<|end_of_solution|>"),)


@dataclass(frozen=True)
class SplitResponse:
    reasoning: str
    answer: str
    truncated: bool
    has_reasoning_block: bool
    marker: str | None = None  # the reasoning marker pair that split it, as "<open>...<close>"
    solution_marker: str | None = None  # the solution marker pair the answer was taken from


def split_reasoning(text: str) -> SplitResponse:
    """Separate reasoning from answer.

    - ``<think>R</think>A`` -> reasoning R, answer A.
    - ``R</think>A`` (template already opened the block in the prompt) -> reasoning R, answer A.
    - ``<think>R`` with no close -> reasoning R, answer "", truncated.
    - no markers -> the whole text is the answer.
    - then, in the answer, ``<|begin_of_solution|>S<|end_of_solution|>`` -> answer S; with no
      close -> answer S, truncated.
    """
    split = _split_thought(text)
    answer, cut, solution = _solution(split.answer)
    return SplitResponse(split.reasoning, answer, split.truncated or cut, split.has_reasoning_block,
                         split.marker, solution)


def _solution(answer: str) -> tuple[str, bool, str | None]:
    """The answer inside solution markers, whether the solution block was left open, and which pair."""
    lowered = answer.lower()
    for open_tag, close_tag in SOLUTION_MARKERS:
        o, c = open_tag.lower(), close_tag.lower()
        open_at = lowered.find(o)
        start = open_at + len(o) if open_at >= 0 else 0
        close_at = lowered.find(c, start)
        if close_at >= 0:
            return answer[start:close_at].strip(), False, f"{open_tag}...{close_tag}"
        if open_at >= 0:
            return answer[start:].strip(), True, f"{open_tag}...{close_tag}"
    return answer, False, None


def _split_thought(text: str) -> SplitResponse:
    lowered = text.lower()
    for open_tag, close_tag in THINK_MARKERS:
        o, c = open_tag.lower(), close_tag.lower()
        close_at = lowered.rfind(c)
        open_at = lowered.find(o)
        if close_at >= 0:
            start = open_at + len(o) if 0 <= open_at < close_at else 0
            reasoning = text[start:close_at]
            answer = text[close_at + len(c) :]
            return SplitResponse(reasoning.strip(), answer.strip(), False, True, f"{open_tag}...{close_tag}")
        if open_at >= 0:
            # Text before an unclosed block is preamble, not an answer the model committed to.
            reasoning = text[open_at + len(o) :]
            return SplitResponse(reasoning.strip(), "", True, True, f"{open_tag}...{close_tag}")
    return SplitResponse("", text.strip(), False, False)


def opened_marker(rendered_prompt: str) -> str | None:
    """The reasoning marker a rendered chat prompt ends with, if any: templates of R1 distills,
    Qwen3 thinking and many SFT checkpoints pre-fill ``<think>`` so the output never opens it."""
    tail = rendered_prompt.rstrip().lower()
    return next((o for o, _ in THINK_MARKERS if tail.endswith(o.lower())), None)


def with_opened_reasoning(rendered_prompt: str, completion: str) -> str:
    """The completion as the model's whole turn: the pre-filled marker put back in front, so an
    unfinished thought reads as an open block (truncated), never as the answer."""
    return reopen(completion, opened_marker(rendered_prompt))


def reopen(completion: str, marker: str | None) -> str:
    """``completion`` with ``marker`` in front unless it already opens with it (a server that
    returned its reasoning apart, re-wrapped in ``<think>``, already does)."""
    if marker is None or completion.lstrip().lower().startswith(marker.lower()):
        return completion
    return marker + completion


def opening_marker(option: str) -> str | None:
    """The marker a model spec's ``opens_reasoning`` option names: ``true`` is ``<think>``,
    ``false`` none, or one of the opening markers above. Raises ValueError otherwise."""
    value = option.strip()
    if value.lower() in {"true", "yes", "1"}:
        return "<think>"
    if value.lower() in {"false", "no", "0"}:
        return None
    marker = next((o for o, _ in THINK_MARKERS if o.lower() == value.lower()), None)
    if marker is None:
        raise ValueError(f"expected true, false or one of {', '.join(o for o, _ in THINK_MARKERS)}")
    return marker


_WS = re.compile(r"\s+")


def normalize_ws(text: str) -> str:
    return _WS.sub(" ", text).strip()
