"""Served-model throughput: cotbench's generation path vs a plain client, on llama.cpp's server.

Starts llama.cpp's ``llama-server`` (continuous batching, ``--parallel N`` slots) on the embedded
SmolLM2-135M GGUF and sends the same prompts and settings (the arithmetic task, greedy, a fixed
token budget) through

  (a) a plain async OpenAI client at concurrency N, straight to the server (the baseline);
  (b) cotbench's own path for a run: ``openai:...@URL`` through the cached generator, with every
      request of the run in one stream (what ``cotbench run`` does before the harnesses score);
  (c) the whole ``cotbench run --model openai:...@URL`` (generation, both lm-eval scoring and
      the records), for reference;

and prints output tokens/s of each and the ratios b/a and c/a (goal b/a >= 0.95). Each side runs
``--repeats`` times, alternating, after one warm-up; the medians are compared, each side with a
fresh cache so nothing is served from it.

Then the embedded model through transformers (the in-process default, ``--batch-size 8``) vs the
same GGUF through llama.cpp: tokens/s and the ratio.

    python benchmarks/served_throughput.py [--n 32] [--max-tokens 64] [--parallel 8] [--repeats 4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def _plans(n: int, max_tokens: int):  # type: ignore[no-untyped-def]
    from cotbench.runner import RunOptions, plan_tasks

    return plan_tasks(RunOptions(tasks=["arithmetic"], limit=n, preset="greedy", max_tokens=max_tokens))


def direct(url: str, requests: list, concurrency: int) -> tuple[int, float]:  # type: ignore[type-arg]
    import openai

    async def main() -> int:
        gate = asyncio.Semaphore(concurrency)
        async with openai.AsyncOpenAI(api_key="EMPTY", base_url=url) as client:

            async def one(req) -> int:  # type: ignore[no-untyped-def]
                async with gate:
                    s = req.settings
                    r = await client.chat.completions.create(model="m", messages=req.as_messages(),
                                                             temperature=s.temperature, top_p=s.top_p,
                                                             max_tokens=s.max_tokens, seed=req.seed)
                    return r.usage.completion_tokens

            return sum(await asyncio.gather(*(one(r) for r in requests)))

    start = time.perf_counter()
    tokens = asyncio.run(main())
    return tokens, time.perf_counter() - start


def cotbench_generation(spec: str, plans: list, workdir: Path) -> tuple[int, float]:  # type: ignore[type-arg]
    from cotbench.engines.prefetch import Prefetch
    from cotbench.models.handle import model_handle
    from cotbench.models.resolve import resolve
    from cotbench.models.spec import parse_spec

    handle = model_handle(resolve(parse_spec(spec)), Path(tempfile.mkdtemp(dir=workdir)) / "g.sqlite")
    start = time.perf_counter()
    queue = Prefetch(handle, plans, lambda t, n: None).start()
    for p in plans:
        queue.wait(p)
    elapsed = time.perf_counter() - start
    from cotbench.engines.prefetch import plan_requests

    reqs = [r for p in plans for r in plan_requests(p, None)]
    tokens = sum(c.output_tokens for c in handle.generator.generate(reqs))  # all cache hits now
    handle.generator.close()
    return tokens, elapsed


def cotbench_run(spec: str, n: int, max_tokens: int, workdir: Path) -> tuple[int, float]:
    import json

    from cotbench.runner import run_models

    start = time.perf_counter()
    (rd,) = run_models([spec], tasks=["arithmetic"], limit=n, preset="greedy", max_tokens=max_tokens,
                       output=Path(tempfile.mkdtemp(dir=workdir)))
    elapsed = time.perf_counter() - start
    lines = (rd.path / "tasks" / "arithmetic" / "samples.jsonl").read_text().splitlines()
    return sum(json.loads(x)["output_tokens"] for x in lines), elapsed


def _rate(runs: list[tuple[int, float]]) -> float:
    return statistics.median(t / s for t, s in runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=32, help="prompts (arithmetic items)")
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--parallel", type=int, default=8, help="llama-server slots = client concurrency")
    ap.add_argument("--repeats", type=int, default=4)
    ap.add_argument("--hf-n", type=int, default=16, help="prompts for the transformers comparison (0: skip)")
    args = ap.parse_args()

    from cotbench.engines.prefetch import plan_requests
    from cotbench.models.embedded import gguf_path
    from cotbench.models.servers import LlamaCppOptions, ManagedServer, free_port, llama_server_command

    plans = _plans(args.n, args.max_tokens)
    requests = [r for p in plans for r in plan_requests(p, None)]
    port = free_port()
    opts = LlamaCppOptions(parallel=args.parallel, ctx_size=args.parallel * (args.max_tokens + 384))
    t0 = time.perf_counter()
    server = ManagedServer("llama-server", llama_server_command(gguf_path(), port, opts), port).start()
    print(f"llama-server up in {time.perf_counter() - t0:.1f} s ({args.parallel} slots)")
    spec = f"openai:m@{server.base_url}?concurrency={args.parallel}"
    work = Path(tempfile.mkdtemp(prefix="cotbench-bench-"))
    try:
        direct(server.base_url, requests, args.parallel)  # warm-up
        a, b, c = [], [], []
        for i in range(args.repeats):  # alternating order, so drift on a shared machine hits both sides
            sides = [lambda: a.append(direct(server.base_url, requests, args.parallel)),
                     lambda: b.append(cotbench_generation(spec, plans, work)),
                     lambda: c.append(cotbench_run(spec, args.n, args.max_tokens, work))]
            for side in sides if i % 2 == 0 else reversed(sides):
                side()
        ra, rb, rc = _rate(a), _rate(b), _rate(c)
        print(f"{args.n} prompts x <= {args.max_tokens} tokens, concurrency {args.parallel}, median of {args.repeats}")
        print(f"  (a) plain async client           {ra:8.1f} output tokens/s")
        print(f"  (b) cotbench generation path     {rb:8.1f} output tokens/s   b/a = {rb / ra:.3f}  (goal >= 0.95)")
        print(f"  (c) cotbench run (with scoring)  {rc:8.1f} output tokens/s   c/a = {rc / ra:.3f}")
        if args.hf_n:
            few = _plans(args.hf_n, args.max_tokens)
            llama = cotbench_generation(spec, few, work)
            hf = cotbench_generation("smollm2-135m", few, work)
            rl, rh = llama[0] / llama[1], hf[0] / hf[1]
            print(f"embedded SmolLM2-135M, {args.hf_n} prompts: transformers {rh:.1f} tokens/s, "
                  f"llama.cpp {rl:.1f} tokens/s, llama.cpp/transformers = {rl / rh:.2f}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
