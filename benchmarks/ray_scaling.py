"""A checkpoint series locally and on a local Ray cluster with 1 and 2 workers.

The series is the embedded SmolLM2-135M at three "checkpoints" (symlinked copies), evaluated on
two smoke tasks with a small token budget. Prints wall time of each, the speed-up of 2 workers
over 1, and Ray's overhead per unit ((1-worker time - local time) / units), each measured in
this process; every run starts from an empty output directory, so nothing is served from a
cache. On a 2-core machine the 2-worker speed-up is bounded by the cores the model's own
threads already use: the figure to read is the overhead.

    python benchmarks/ray_scaling.py [--checkpoints 3] [--limit 6] [--max-tokens 32]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
TASKS = ["arithmetic", "boolean_logic"]


def series(root: Path, n: int) -> str:
    from cotbench.models.embedded import converted_dir

    src = converted_dir()
    for step in range(n):
        dst = root / "train" / f"checkpoint-{step * 10}"
        dst.mkdir(parents=True)
        for f in src.iterdir():
            if f.is_file():
                os.symlink(f, dst / f.name)
    return f"hf:{root}/train/checkpoint-*"


def timed(spec: str, args: argparse.Namespace, ray: object = None) -> float:
    from cotbench.distributed.ray_run import run_models_on_ray
    from cotbench.runner import run_models

    out = Path(tempfile.mkdtemp(prefix="cotbench-ray-bench-"))
    start = time.perf_counter()
    if ray is None:
        run_models([spec], tasks=TASKS, limit=args.limit, max_tokens=args.max_tokens, output=out)
    else:
        run_models_on_ray([spec], ray=ray, tasks=TASKS, limit=args.limit, max_tokens=args.max_tokens, output=out)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoints", type=int, default=3)
    ap.add_argument("--limit", type=int, default=6)
    ap.add_argument("--max-tokens", type=int, default=32)
    args = ap.parse_args()

    import ray

    from cotbench.distributed.ray_run import RayOptions

    spec = series(Path(tempfile.mkdtemp()), args.checkpoints)
    timed(spec, args)  # warm-up: the embedded conversion, imports, file hashes
    local = timed(spec, args)
    results = {}
    for workers in (1, 2):
        ray.shutdown()
        start = time.perf_counter()
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, configure_logging=False,
                 object_store_memory=256 << 20)
        startup = time.perf_counter() - start
        results[workers] = (timed(spec, args, RayOptions("local")), startup)
    ray.shutdown()
    units = args.checkpoints
    one, two = results[1][0], results[2][0]
    print(f"{args.checkpoints} checkpoints x {len(TASKS)} tasks x {args.limit} items, <= {args.max_tokens} tokens")
    print(f"  local:           {local:7.1f} s")
    print(f"  Ray, 1 worker:   {one:7.1f} s  (+ {results[1][1]:.1f} s to start Ray)")
    print(f"  Ray, 2 workers:  {two:7.1f} s  (+ {results[2][1]:.1f} s to start Ray)")
    print(f"  speed-up 2 vs 1 workers: {one / two:.2f}x;  Ray overhead per unit: {(one - local) / units:+.1f} s "
          f"({units} units, one per checkpoint)")


if __name__ == "__main__":
    main()
