"""cotbench run vs calling lm-eval directly, on the same tasks, items and settings.

Prints wall times and two ratios, each against a baseline measured in this same process:
  cold  = cotbench run (fresh run dir)  / lm_eval.simple_evaluate with lm-eval's own HF model
  warm  = cotbench run (identical rerun) / cotbench run (cold)
Goals: cold <= 1.05, warm <= 0.05. Both sides use the embedded SmolLM2-135M on the CPU,
greedy decoding, the same prompts (cotbench's task YAMLs through --include_path) and the
same max tokens; the direct run applies the chat template through lm-eval.

    python benchmarks/run_vs_lm_eval.py [--limit 8] [--max-tokens 64] [--tasks arithmetic,boolean_logic]
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def direct_lm_eval(tasks: list[str], limit: int, max_tokens: int, batch_size: int) -> float:
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    from cotbench.models.embedded import converted_dir
    from cotbench.paths import tasks_dir

    logging.getLogger("lm_eval").setLevel(logging.ERROR)
    start = time.perf_counter()
    simple_evaluate(
        model="hf",
        model_args={"pretrained": str(converted_dir()), "dtype": "float32"},
        tasks=[f"cotbench_{t}" for t in tasks],
        task_manager=TaskManager(include_path=str(tasks_dir()), include_defaults=False),
        limit=limit,
        batch_size=batch_size,
        device="cpu",
        apply_chat_template=True,
        gen_kwargs={"max_gen_toks": max_tokens, "do_sample": False, "temperature": 0.0},
        bootstrap_iters=0,
        log_samples=True,
    )
    return time.perf_counter() - start


def cotbench_run(tasks: list[str], limit: int, max_tokens: int, batch_size: int, out: Path) -> float:
    from cotbench.runner import run_models

    start = time.perf_counter()
    run_models(["smollm2-135m"], tasks=tasks, limit=limit, output=out, max_tokens=max_tokens,
               batch_size=batch_size)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", default="arithmetic,boolean_logic")
    ap.add_argument("--limit", type=int, default=8)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=8)
    args = ap.parse_args()
    tasks = args.tasks.split(",")

    from cotbench.models.embedded import converted_dir

    converted_dir()  # one-time GGUF conversion stays out of both timings
    with tempfile.TemporaryDirectory() as tmp:
        # Warm both code paths (imports, model load, kernels) before timing.
        direct_lm_eval(tasks[:1], 1, 4, args.batch_size)
        cotbench_run(tasks[:1], 1, 4, args.batch_size, Path(tmp) / "warmup")
        direct = direct_lm_eval(tasks, args.limit, args.max_tokens, args.batch_size)
        cold = cotbench_run(tasks, args.limit, args.max_tokens, args.batch_size, Path(tmp) / "runs")
        warm = cotbench_run(tasks, args.limit, args.max_tokens, args.batch_size, Path(tmp) / "runs")
    print(f"tasks={args.tasks} limit={args.limit} max_tokens={args.max_tokens} batch={args.batch_size}")
    print(f"lm_eval.simple_evaluate (direct, hf model): {direct:8.2f} s")
    print(f"cotbench run (cold):                        {cold:8.2f} s")
    print(f"cotbench run (identical rerun, cached):     {warm:8.2f} s")
    print(f"ratio cold / direct: {cold / direct:.3f}   (goal <= 1.05)")
    print(f"ratio rerun / cold:  {warm / cold:.3f}   (goal <= 0.05)")


if __name__ == "__main__":
    main()
