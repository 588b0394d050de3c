"""Served backends: an OpenAI-compatible generator, started on a managed server where needed.

* ``openai:MODEL@URL``: a server someone else runs.
* ``vllm:URL``: a running vLLM server (its served model id is read from ``/v1/models``).
* ``vllm:<hf form>``: cotbench starts ``vllm serve`` on the checkpoint with the spec's options.
* ``llamacpp:FILE.gguf`` / ``llamacpp:default``: cotbench starts llama.cpp's ``llama-server``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from cotbench.errors import ModelLoadError, SpecError
from cotbench.models.api_generators import DEFAULT_CONCURRENCY, DEFAULT_TRIES, OpenAIGenerator
from cotbench.models.resolve import ResolvedModel
from cotbench.models.servers import (
    LlamaCppOptions,
    ManagedServer,
    VLLMOptions,
    free_port,
    gguf_file,
    llama_server_command,
    served_model_ids,
    vllm_command,
)

SERVED_NAME = "cotbench-model"
VLLM_CONCURRENCY = 256


def _template_file(text: str | None) -> Path | None:
    if text is None:
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".jinja", prefix="cotbench-template-", delete=False) as f:
        f.write(text)
    return Path(f.name)


def _opened_by_template(rm: ResolvedModel) -> str | None:
    """The reasoning marker the checkpoint's chat template pre-fills, rendered locally."""
    from cotbench.models.hf_generator import load_tokenizer
    from cotbench.scoring.thinking import opened_marker

    if rm.path is None:
        return None
    try:
        tok = load_tokenizer(rm.path, rm.spec.subfolder, None, rm.chat_template)
        rendered = tok.apply_chat_template([{"role": "user", "content": "2+2?"}], tokenize=False,
                                           add_generation_prompt=True)
    except Exception:  # noqa: BLE001 - no renderable template: nothing is pre-filled that we can see
        return None
    return opened_marker(str(rendered))


def served_generator(rm: ResolvedModel) -> OpenAIGenerator:
    spec = rm.spec
    tries = spec.server_int("tries", DEFAULT_TRIES)

    def client(model: str, url: str | None, concurrency: int, opens: str | None,
               server: ManagedServer | None = None) -> OpenAIGenerator:
        return OpenAIGenerator(model, url, concurrency, opens_reasoning=opens, tries=tries, server=server)

    said = spec.opens_reasoning is not None
    if spec.backend == "openai":
        return client(spec.model, spec.base_url, spec.server_int("concurrency", DEFAULT_CONCURRENCY),
                      spec.reasoning_marker)
    if spec.backend == "vllm" and spec.base_url:
        ids = served_model_ids(spec.base_url)
        if not ids:
            raise ModelLoadError(f"the vLLM server at {spec.base_url} serves no model")
        return client(ids[0], spec.base_url, spec.server_int("concurrency", VLLM_CONCURRENCY),
                      spec.reasoning_marker)
    port = free_port()
    template = _template_file(rm.chat_template)
    if spec.backend == "vllm":
        opts = VLLMOptions(
            tensor_parallel_size=spec.server_int("tp", 1),
            data_parallel_size=spec.server_int("dp", 1),
            max_model_len=spec.server_int("max_model_len"),
            gpu_memory_utilization=spec.server_float("gpu_memory_utilization", 0.90),
            prefix_caching=spec.server_bool("prefix_caching", True),
            reasoning_parser=spec.server_str("reasoning_parser"),
        )
        if rm.path is not None:
            model = str(rm.path / spec.subfolder) if spec.subfolder else str(rm.path)
            revision = None
        else:
            model, revision = spec.model, rm.resolved_revision
        cmd = vllm_command(model, port, opts, served_name=SERVED_NAME, revision=revision, dtype=spec.dtype,
                           chat_template=template)
        server = ManagedServer("vllm serve", cmd, port, "/health").start()
        opens = spec.reasoning_marker if said else _opened_by_template(rm)
        return client(SERVED_NAME, server.base_url, spec.server_int("concurrency", VLLM_CONCURRENCY), opens,
                      server)
    if spec.backend == "llamacpp":
        lopts = LlamaCppOptions(
            parallel=spec.server_int("parallel", 16),
            ctx_size=spec.server_int("ctx_size"),
            threads=spec.server_int("threads"),
            gpu_layers=spec.server_int("gpu_layers"),
        )
        cmd = llama_server_command(gguf_file(spec), port, lopts, template)
        server = ManagedServer("llama-server", cmd, port, "/health").start()
        return client(SERVED_NAME, server.base_url, spec.server_int("concurrency", lopts.parallel),
                      spec.reasoning_marker, server)
    raise SpecError(f"backend {spec.backend}: is not served")
