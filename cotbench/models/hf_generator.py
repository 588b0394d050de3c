"""Generation with Hugging Face transformers (CPU or GPU), batched, with per-request seeds."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from cotbench.errors import ModelLoadError
from cotbench.models.generator import Completion, FinishReason, Generator, GenRequest, trim_at_stop
from cotbench.results.schema import GenerationSettings
from cotbench.scoring.thinking import opened_marker, reopen


def _torch_dtype(name: str | None) -> Any:
    import torch

    if name in (None, "auto"):
        return "auto"
    return {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[name]


def load_tokenizer(path: Path, subfolder: str | None, gguf_file: str | None, chat_template: str | None) -> Any:
    from transformers import AutoTokenizer

    kwargs: dict[str, Any] = {}
    if subfolder:
        kwargs["subfolder"] = subfolder
    if gguf_file:
        kwargs["gguf_file"] = gguf_file
    try:
        tok = AutoTokenizer.from_pretrained(path, **kwargs)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot load the tokenizer from {path}: {str(exc).splitlines()[0]}") from None
    if chat_template:
        tok.chat_template = chat_template
    tok.padding_side = "left"
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def render_chat(tokenizer: Any, messages: list[dict[str, str]]) -> str:
    """The model's chat template; a plain transcript for base models that have none."""
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    return "".join(f"{m['content']}\n\n" for m in messages)


class _SeededSampler:
    """Logits processor that samples each row with its own torch.Generator, then forces that
    token, so a sampled completion depends on its seed alone, not on its batch mates."""

    def __init__(self, seeds: list[int], temperature: float, top_p: float) -> None:
        import torch

        self.gens = [torch.Generator().manual_seed(s) for s in seeds]
        self.temperature = temperature
        self.top_p = top_p

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        logits = scores.float() / self.temperature
        probs = torch.softmax(logits, dim=-1)
        if self.top_p < 1.0:
            sorted_p, order = torch.sort(probs, descending=True, dim=-1)
            keep = torch.cumsum(sorted_p, dim=-1) - sorted_p < self.top_p
            sorted_p = sorted_p * keep
            probs = torch.zeros_like(probs).scatter(-1, order, sorted_p)
        forced = torch.full_like(scores, float("-inf"))
        for row, gen in enumerate(self.gens):
            token = torch.multinomial(probs[row] / probs[row].sum(), 1, generator=gen)
            forced[row, token] = 0.0
        return forced


AUTO = "auto"  # opens_reasoning: detect from the rendered prompt


class TransformersGenerator(Generator):
    name = "transformers"

    def __init__(self, path: Path, *, subfolder: str | None = None, gguf_file: str | None = None,
                 dtype: str | None = None, chat_template: str | None = None, device: str | None = None,
                 opens_reasoning: str | None = AUTO, batch_size: int = 8) -> None:
        """``opens_reasoning``: the marker the rendered prompt opens (None: none), or ``AUTO`` to
        read it off the end of each rendered prompt."""
        import torch
        from transformers import AutoModelForCausalLM

        self.opens_reasoning = opens_reasoning
        self.batch_size = batch_size
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.tokenizer = load_tokenizer(path, subfolder, gguf_file, chat_template)
        kwargs: dict[str, Any] = {"dtype": _torch_dtype(dtype if dtype or self.device != "cpu" else "float32")}
        if subfolder:
            kwargs["subfolder"] = subfolder
        if gguf_file:
            kwargs["gguf_file"] = gguf_file
        try:
            model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
            # transformers types .to() as a wrapper that wants the model, not the device, first
            self.model = model.to(self.device).eval()  # type: ignore[arg-type]  # transformers' .to() stub is wrong
        except (OSError, ValueError) as exc:
            raise ModelLoadError(f"cannot load the model from {path}: {str(exc).splitlines()[0]}") from None
        self.dtype = str(self.model.dtype).removeprefix("torch.")

    def describe(self) -> dict[str, str]:
        return {"generator": self.name, "device": self.device, "dtype": self.dtype}

    def generate(self, requests: list[GenRequest]) -> list[Completion]:
        results = dict(self.stream(requests))
        return [results[i] for i in range(len(requests))]

    def stream(self, requests: Sequence[GenRequest]) -> Iterator[tuple[int, Completion]]:
        """Batches of ``batch_size`` requests with identical settings, similar prompt lengths
        together (a batch is padded to its longest prompt); each batch's completions as it ends."""
        groups: dict[tuple, list[int]] = {}
        for i, r in enumerate(requests):
            s = r.settings
            groups.setdefault((s.temperature, s.top_p, s.max_tokens, tuple(s.stop)), []).append(i)
        for idx in groups.values():
            idx.sort(key=lambda i: -sum(len(c) for _, c in requests[i].messages))
            for b in range(0, len(idx), self.batch_size):
                chunk = idx[b : b + self.batch_size]
                yield from zip(chunk, self._generate_batch([requests[i] for i in chunk]), strict=True)

    def _generate_batch(self, requests: list[GenRequest]) -> list[Completion]:
        import torch
        from transformers import LogitsProcessorList

        settings: GenerationSettings = requests[0].settings
        texts = [render_chat(self.tokenizer, r.as_messages()) for r in requests]
        enc = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
        gen_kwargs: dict[str, Any] = {
            "max_new_tokens": settings.max_tokens,
            "do_sample": False,
            "pad_token_id": self.tokenizer.pad_token_id,
            # Neutralise sampling defaults from the checkpoint's generation_config.
            "temperature": None, "top_p": None, "top_k": None,
        }
        if not settings.greedy:
            gen_kwargs["logits_processor"] = LogitsProcessorList(
                [_SeededSampler([r.seed for r in requests], settings.temperature, settings.top_p)]
            )
        if settings.stop:
            gen_kwargs["stop_strings"] = settings.stop
            gen_kwargs["tokenizer"] = self.tokenizer
        start = time.perf_counter()
        with torch.inference_mode():
            seqs = self.model.generate(**enc, **gen_kwargs)
        # A batch shares one forward pass: each request is charged an equal share of it.
        per_request = (time.perf_counter() - start) / len(requests)
        new = seqs[:, enc["input_ids"].shape[1] :]
        eos_ids = set(self._eos_ids())
        completions = []
        for prompt, row in zip(texts, new.tolist(), strict=True):
            # Drop padding after EOS; count what the model actually produced.
            n = len(row)
            hit_eos = False
            for j, t in enumerate(row):
                if t in eos_ids:
                    n, hit_eos = j, True
                    break
            text = self.tokenizer.decode(row[:n], skip_special_tokens=False)
            text, hit_stop = trim_at_stop(text, settings.stop)
            text = reopen(text, opened_marker(prompt) if self.opens_reasoning == AUTO else self.opens_reasoning)
            finish: FinishReason = "stop" if hit_eos or hit_stop or n < settings.max_tokens else "length"
            completions.append(Completion(text=text, finish_reason=finish, output_tokens=n, latency_s=per_request))
        return completions

    def _eos_ids(self) -> list[int]:
        ids = self.model.generation_config.eos_token_id
        ids = ids if isinstance(ids, list) else [ids]
        if self.tokenizer.eos_token_id is not None:
            ids.append(self.tokenizer.eos_token_id)
        return [i for i in ids if i is not None]
