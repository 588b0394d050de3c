"""An Inspect model provider (``cotbench/<label>``) backed by cotbench's cached generator.

Inspect calls ``generate`` once per sample, concurrently; a small micro-batcher gathers
the concurrent calls into batches for the underlying generator, which runs in worker
threads so Inspect's event loop stays responsive. Batches are not serialised here: a served
backend takes several at once, and an in-process model is serialised by the generator.
"""

from __future__ import annotations

import asyncio
from typing import Any

from inspect_ai.model import (
    ChatMessage,
    GenerateConfig,
    ModelAPI,
    ModelOutput,
    ModelUsage,
    modelapi,
)
from inspect_ai.tool import ToolChoice, ToolInfo

from cotbench.engines.base import ModelHandle
from cotbench.models.generator import Completion, GenRequest
from cotbench.results.schema import GenerationSettings
from cotbench.scoring.roles import current_judge

_BATCH_WINDOW_S = 0.02


class _MicroBatcher:
    def __init__(self, handle: ModelHandle, batch_size: int) -> None:
        self.handle = handle
        self.batch_size = batch_size
        self.pending: list[tuple[GenRequest, asyncio.Future[Completion]]] = []
        self.timer: asyncio.TimerHandle | None = None
        self.on_done: Any = None

    async def submit(self, req: GenRequest) -> Completion:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Completion] = loop.create_future()
        self.pending.append((req, fut))
        if len(self.pending) >= self.batch_size:
            loop.create_task(self._flush())
        elif self.timer is None:
            self.timer = loop.call_later(_BATCH_WINDOW_S, lambda: loop.create_task(self._flush()))
        return await fut

    async def _flush(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        batch, self.pending = self.pending, []
        if not batch:
            return
        try:
            outs = await asyncio.to_thread(self.handle.generator.generate, [r for r, _ in batch])
        except BaseException as exc:  # noqa: BLE001 - hand the failure to every waiting sample
            for _, fut in batch:
                if not fut.done():
                    fut.set_exception(exc)
            return
        for (_, fut), out in zip(batch, outs, strict=True):
            if not fut.done():
                fut.set_result(out)


def _handle_for_spec(spec_text: str) -> ModelHandle:
    """``inspect eval ... --model cotbench/<spec>`` (e.g. cotbench/smollm2-135m): any cotbench
    model spec, with generations cached under cotbench's cache directory."""
    from cotbench.models.handle import model_handle
    from cotbench.models.resolve import resolve
    from cotbench.models.spec import parse_spec
    from cotbench.paths import cache_dir

    rm = resolve(parse_spec(spec_text))
    return model_handle(rm, cache_dir() / "inspect" / f"{rm.identity}.sqlite")


@modelapi(name="cotbench")
class CotbenchModelAPI(ModelAPI):
    """Model provider for cotbench runs; created by the Inspect engine with a ModelHandle."""

    def __init__(self, model_name: str, base_url: str | None = None, api_key: str | None = None,
                 config: GenerateConfig | None = None, handle: ModelHandle | None = None,
                 batch_size: int = 8, on_done: Any = None, **model_args: Any) -> None:
        super().__init__(model_name, base_url, api_key, [], config or GenerateConfig())
        self.handle = handle or _handle_for_spec(model_name)
        self.batcher = _MicroBatcher(self.handle, batch_size)
        self.on_done = on_done

    def max_connections(self) -> int:
        return max(4 * self.batcher.batch_size, self.handle.generator.max_in_flight)

    def _count_prompt(self, messages: tuple[tuple[str, str], ...]) -> int:
        return sum(self.handle.count_tokens(text) for _, text in messages)

    async def generate(self, input: list[ChatMessage], tools: list[ToolInfo], tool_choice: ToolChoice,
                       config: GenerateConfig) -> ModelOutput:
        settings = GenerationSettings(
            temperature=config.temperature if config.temperature is not None else 0.0,
            top_p=config.top_p if config.top_p is not None else 1.0,
            max_tokens=config.max_tokens or 1024,
            seed=config.seed if config.seed is not None else 0,
            stop=list(config.stop_seqs or []),
        )
        messages = tuple((m.role, m.text) for m in input)
        req = GenRequest(messages, settings, settings.seed)
        out = await self.batcher.submit(req)
        if self.on_done is not None:
            self.on_done(out)
        result = ModelOutput.from_content(model=self.model_name, content=out.text,
                                          stop_reason="max_tokens" if out.finish_reason == "length" else "stop")
        # The prompt counted with the model's tokenizer (message texts, not the chat template's own
        # tokens): cotbench's backends do not report it. Off the event loop: the first count loads it.
        input_tokens = await asyncio.to_thread(self._count_prompt, messages)
        result.usage = ModelUsage(input_tokens=input_tokens, output_tokens=out.output_tokens,
                                  total_tokens=input_tokens + out.output_tokens,
                                  reasoning_tokens=out.reasoning_tokens)
        result.time = out.latency_s
        result.metadata = {"finish_reason": out.finish_reason, "latency_s": out.latency_s, "cached": out.cached}
        return result


def inspect_roles() -> dict[str, Any]:
    """Inspect ``model_roles`` for ``inspect_ai.eval``: the run's judge as the ``grader`` role (empty
    without one). Grading itself goes through the shared scorer, identical in both harnesses."""
    from inspect_ai.model import get_model

    judge = current_judge()
    if judge is None:
        return {}
    return {"grader": get_model(f"cotbench/{judge.handle.label}", handle=judge.handle, memoize=False, batch_size=1)}
