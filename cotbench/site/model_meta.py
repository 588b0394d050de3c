"""What is known about a run's model from its manifest: size, precision, where its card is.

Nothing is looked up: the Hub is not asked and checkpoints are not opened. The parameter count
is the one the run read from the model's weight files (``ModelInfo.facts``: a safetensors header
or GGUF metadata) where it recorded one, else read from the model's name when it spells one
(``Qwen2.5-Math-1.5B``, ``SmolLM2-135M``, ``Mixtral-8x7B``); ``parameters_source`` says which. A
field that is not known stays None and is shown as such.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cotbench.results.schema import ModelInfo
from cotbench.site.series import is_local

HUB = "https://huggingface.co/"
_HUB_BACKENDS = {"hf", "vllm"}  # backends whose model names a Hub repo unless it is a path
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_SIZE = re.compile(r"(?<![A-Za-z0-9.])((?:\d+x)?\d+(?:\.\d+)?)([BMbm])(?![A-Za-z0-9])")
_GGUF_QUANT = re.compile(r"(?i)(?<![A-Za-z0-9])(I?Q\d(?:_[A-Z0-9]+)*|F16|F32|BF16)(?![A-Za-z0-9])")


@dataclass(frozen=True)
class ModelMeta:
    parameters: str | None  # "7B", "135M", "8x7B": as the name spells it, or the recorded count rounded
    parameters_source: str | None  # where the count comes from ("safetensors header", "gguf metadata", "model name")
    parameters_billions: float | None  # the same as a number, for sorting
    precision: str | None  # the dtype asked for, a GGUF file's quantisation, or the dtype the weights are stored in
    hub_id: str | None  # the Hub repo the weights came from
    card_url: str | None  # its model card
    revision_url: str | None  # the exact commit evaluated, where one was resolved


def parameters_from_name(name: str) -> str | None:
    """``"Qwen/Qwen2.5-Math-1.5B-Instruct"`` -> ``"1.5B"``; the first size in the repo's name."""
    m = _SIZE.search(name.rsplit("/", 1)[-1])
    return f"{m.group(1)}{m.group(2).upper()}" if m else None


def billions(size: str | None) -> float | None:
    """``"8x7B"`` -> 56.0, ``"135M"`` -> 0.135."""
    if not size:
        return None
    m = re.fullmatch(r"(?:(\d+)x)?(\d+(?:\.\d+)?)([BM])", size)
    if not m:
        return None
    n = float(m.group(2)) * (int(m.group(1)) if m.group(1) else 1)
    return n if m.group(3) == "B" else n / 1000


def spelled(count: int) -> str:
    """134515008 -> ``"135M"``, 1543714304 -> ``"1.5B"``: as model names spell sizes."""
    for scale, unit in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if count >= scale:
            value = count / scale
            text = f"{value:.0f}" if value >= 100 else f"{value:.1f}".removesuffix(".0")
            return text + unit
    return str(count)


def hub_id(model: ModelInfo) -> str | None:
    if model.backend not in _HUB_BACKENDS or is_local(model) or not _REPO_ID.match(model.model):
        return None
    return model.model


def model_meta(model: ModelInfo) -> ModelMeta:
    repo = hub_id(model)
    facts = model.facts
    params: str | None
    source: str | None
    size: float | None
    if facts is not None and facts.parameters:
        params, source, size = spelled(facts.parameters), facts.parameters_source, facts.parameters / 1e9
    else:
        params = parameters_from_name(repo or model.label)
        source, size = ("model name" if params else None), billions(params)
    precision = model.dtype
    if precision is None and facts is not None and facts.quantization:
        precision = f"GGUF {facts.quantization}"
    if precision is None and model.gguf_file:
        q = _GGUF_QUANT.search(model.gguf_file.rsplit("/", 1)[-1])
        precision = f"GGUF {q.group(1).upper()}" if q else "GGUF"
    if precision is None and facts is not None and facts.torch_dtype:
        precision = f"{facts.torch_dtype} (stored)"
    card = f"{HUB}{repo}" if repo else None
    rev = f"{HUB}{repo}/tree/{model.resolved_revision}" if repo and model.resolved_revision and \
        re.fullmatch(r"[0-9a-f]{7,64}", model.resolved_revision) else None
    return ModelMeta(params, source, size, precision, repo, card, rev)
