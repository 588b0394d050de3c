"""vLLM throughput: raw ``vllm.LLM.generate`` on all prompts at once vs ``cotbench run --model vllm:``.

For a machine with a CUDA GPU and vLLM installed (``pip install 'cotbench[vllm]'``); anywhere
else it says so and exits 0. Both sides use the same model, prompts (the arithmetic task,
rendered with the model's chat template), greedy decoding and token budget:

  (a) ``vllm.LLM(model).generate(all prompts)``: the engine's own best case;
  (b) cotbench's path for ``--model vllm:MODEL``: it starts ``vllm serve`` and streams every request
      of the run to it (up to 256 in flight), committing each completion to the cache;

and prints output tokens/s of each and b/a (goal >= 0.90). The server's start-up time is
reported apart and left out of (b), as model loading is left out of (a).

    python benchmarks/vllm_throughput.py --model /path/to/Qwen2.5-0.5B-Instruct [--n 256] [--max-tokens 512]
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import sys
import tempfile
import time
from pathlib import Path


def _gpu() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except ImportError:
        return False


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="Qwen/Qwen2.5-0.5B-Instruct", help="a local path or a Hub id")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--max-tokens", type=int, default=512)
    args = ap.parse_args()
    if importlib.util.find_spec("vllm") is None or shutil.which("vllm") is None or not _gpu():
        print("skipped: needs vLLM and a CUDA GPU (none here)")
        return

    from vllm import LLM, SamplingParams

    from cotbench.engines.prefetch import plan_requests
    from cotbench.runner import RunOptions, plan_tasks, run_models

    plans = plan_tasks(RunOptions(tasks=["arithmetic"], limit=args.n, preset="greedy", max_tokens=args.max_tokens))
    requests = [r for p in plans for r in plan_requests(p, None)]

    llm = LLM(model=args.model, generation_config="vllm", enable_prefix_caching=True)
    params = SamplingParams(temperature=0.0, max_tokens=args.max_tokens)
    start = time.perf_counter()
    outs = llm.chat([r.as_messages() for r in requests], params, use_tqdm=False)
    raw_s = time.perf_counter() - start
    raw_tokens = sum(len(o.outputs[0].token_ids) for o in outs)
    del llm
    import gc

    gc.collect()

    from cotbench.engines.prefetch import Prefetch
    from cotbench.models.handle import model_handle
    from cotbench.models.resolve import resolve
    from cotbench.models.spec import parse_spec

    spec = f"vllm:{args.model}"
    handle = model_handle(resolve(parse_spec(spec)), Path(tempfile.mkdtemp(prefix="cotbench-vllm-")) / "g.sqlite")
    start = time.perf_counter()
    _ = handle.generator.generator  # starts `vllm serve` and waits for it to be healthy
    startup_s = time.perf_counter() - start
    start = time.perf_counter()
    queue = Prefetch(handle, plans, lambda t, n: None).start()
    for p in plans:
        queue.wait(p)
    gen_s = time.perf_counter() - start
    tokens = sum(c.output_tokens for c in handle.generator.generate(requests))  # cache hits now
    handle.generator.close()
    ra, rb = raw_tokens / raw_s, tokens / gen_s
    print(f"{len(requests)} prompts x <= {args.max_tokens} tokens on {args.model}")
    print(f"  (a) vllm.LLM.generate              {ra:9.1f} output tokens/s ({raw_s:.1f} s)")
    print(f"  (b) cotbench's vllm: serving path  {rb:9.1f} output tokens/s   b/a = {rb / ra:.3f}  (goal >= 0.90)")
    print(f"  vllm serve start-up (left out of b): {startup_s:.1f} s")
    out = Path(tempfile.mkdtemp(prefix="cotbench-vllm-run-"))
    start = time.perf_counter()
    run_models([spec], tasks=["arithmetic"], limit=args.n, preset="greedy", max_tokens=args.max_tokens, output=out)
    print(f"  cotbench run --model vllm: in all (start-up, generation, scoring): {time.perf_counter() - start:.1f} s")

if __name__ == "__main__":
    sys.exit(main())
