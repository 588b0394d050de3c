"""Build the generator and the token counter for a resolved model (both lazily)."""

from __future__ import annotations

import functools
from collections.abc import Callable

from cotbench.models import embedded
from cotbench.models.generator import Generator, word_count
from cotbench.models.resolve import ResolvedModel


def generator_factory(rm: ResolvedModel, device: str | None = None) -> Callable[[], Generator]:
    spec = rm.spec

    def load() -> Generator:
        if spec.backend == "openai":
            from cotbench.models.api_generators import OpenAIGenerator

            return OpenAIGenerator(spec.model, spec.base_url)
        if spec.backend == "vllm":
            from cotbench.models.api_generators import VLLMGenerator

            return VLLMGenerator(rm.path or spec.model, revision=rm.resolved_revision, dtype=spec.dtype,
                                 chat_template=rm.chat_template, subfolder=spec.subfolder)
        from cotbench.models.hf_generator import TransformersGenerator

        path = embedded.converted_dir() if spec.backend == "embedded" else rm.path
        assert path is not None
        return TransformersGenerator(path, subfolder=spec.subfolder, gguf_file=spec.gguf_file, dtype=spec.dtype,
                                     chat_template=rm.chat_template, device=device)

    return load


def token_counter(rm: ResolvedModel) -> Callable[[str], int]:
    """Counts with the model's tokenizer, loaded alone (cheap: no weights), so a fully
    cached rerun never loads the model. API models fall back to a word count."""
    spec = rm.spec

    @functools.cache
    def tokenizer():  # type: ignore[no-untyped-def]
        from cotbench.models.hf_generator import load_tokenizer

        if spec.backend == "embedded":
            return load_tokenizer(embedded.converted_dir(), None, None, None)
        if rm.path is not None:
            return load_tokenizer(rm.path, spec.subfolder, spec.gguf_file, None)
        return None

    def count(text: str) -> int:
        if not text:
            return 0
        tok = tokenizer()
        if tok is None:
            return word_count(text)
        return len(tok(text, add_special_tokens=False)["input_ids"])

    return count

