"""A model as the engines and judges use it: a cached, lazily loaded generator and a token counter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cotbench.models.cache import CachedGenerator, GenerationCache
from cotbench.models.load import generator_factory, token_counter
from cotbench.models.resolve import ResolvedModel


@dataclass
class ModelHandle:
    generator: CachedGenerator
    count_tokens: Callable[[str], int]
    system_prompt: str | None = None
    label: str = "model"


def model_handle(rm: ResolvedModel, cache_path: Path, device: str | None = None, batch_size: int = 8) -> ModelHandle:
    """A lazily loaded, cached model (it loads on the first cache miss)."""
    gen = CachedGenerator(rm.identity, GenerationCache(cache_path), generator_factory(rm, device, batch_size),
                          batch_size=batch_size)
    return ModelHandle(gen, token_counter(rm), rm.spec.system_prompt, rm.spec.display)
