"""Build the generator and the token counter for a resolved model (both lazily).

Local and embedded weights are checked against the identity right before and right after
they are read (``verify_unchanged``): files changed since the run resolved the model would
otherwise answer under the old model's identity, and fill its cache."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TypeVar

from cotbench.models import embedded
from cotbench.models.generator import Generator, word_count
from cotbench.models.resolve import ResolvedModel, verify_unchanged

T = TypeVar("T")


def _checked(rm: ResolvedModel, read: Callable[[], T]) -> T:
    verify_unchanged(rm)
    out = read()
    verify_unchanged(rm)
    return out


def generator_factory(rm: ResolvedModel, device: str | None = None, batch_size: int = 8) -> Callable[[], Generator]:
    spec = rm.spec
    # Said in the spec, or (None) read off the rendered template where the backend renders one.
    opens = spec.reasoning_marker if spec.opens_reasoning is not None else None

    def load() -> Generator:
        return _checked(rm, _load)

    def _load() -> Generator:
        if spec.backend in ("openai", "vllm", "llamacpp"):
            from cotbench.models.served import served_generator

            return served_generator(rm)
        from cotbench.models.hf_generator import AUTO, TransformersGenerator

        path = embedded.converted_dir() if spec.backend == "embedded" else rm.path
        assert path is not None
        return TransformersGenerator(path, subfolder=spec.subfolder, gguf_file=spec.gguf_file, dtype=spec.dtype,
                                     chat_template=rm.chat_template, device=device,
                                     opens_reasoning=opens if spec.opens_reasoning is not None else AUTO,
                                     batch_size=batch_size)

    return load


def token_counter(rm: ResolvedModel) -> Callable[[str], int]:
    """Counts with the model's tokenizer, loaded alone (cheap: no weights), so a fully
    cached rerun never loads the model. API models fall back to a word count."""
    spec = rm.spec
    lock = threading.Lock()

    @functools.cache
    def _loaded():
        return _checked(rm, _tokenizer)

    def tokenizer():
        # Counted from several threads at once (Inspect's provider): the first load is serialised,
        # since importing transformers from two threads at once fails.
        with lock:
            return _loaded()

    def _tokenizer():
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

