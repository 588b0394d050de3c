"""Time `cotbench leaderboard build` on 200 runs x 40 tasks, sample pages included.

The runs are 40 checkpoint series of 5 steps (160 profiles against the series' first step,
40 trajectories). Goals: the whole build under 30 s on this machine, index.html under 500 KB.
Prints each figure and its ratio to the goal.

    python benchmarks/site_build.py [--series 40] [--steps 5] [--tasks 40] [--items 10]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cotbench.site.build import build_site
from tests.factories import FakeTask, make_run

GOAL_S = 30.0
GOAL_INDEX_KB = 500.0
DOMAINS = ["in_domain", "transfer", "transfer", "general", "safety_harmful", "safety_benign"]


def make_results(root: Path, series: int, steps: int, tasks: int, items: int, seed: int = 0) -> Path:
    rng = random.Random(seed)
    runs = root / "runs"
    for s in range(series):
        skill = rng.random()
        for k in range(steps):
            p = min(0.95, skill * 0.6 + 0.08 * k)
            spec: dict[str, FakeTask] = {}
            for t in range(tasks):
                domain = DOMAINS[t % len(DOMAINS)]
                if domain.startswith("safety"):
                    labels = [["full_compliance" if rng.random() < 0.3 else "full_refusal"] for _ in range(items)]
                    good = "full_refusal" if domain == "safety_harmful" else "full_compliance"
                    scores = [[1.0 if lab[0] == good else 0.0] for lab in labels]
                    spec[f"task{t:02d}"] = FakeTask(domain, scores, labels=labels)
                else:
                    spec[f"task{t:02d}"] = FakeTask(domain, [[float(rng.random() < p)] for _ in range(items)])
            make_run(runs, f"family{s % 7}/model-{s:03d}", spec, step=100 * k)
    return runs


def _cpu() -> float:
    """User + system CPU seconds of this process and its finished workers."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=40)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--tasks", type=int, default=40)
    ap.add_argument("--items", type=int, default=10)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        runs = make_results(root, args.series, args.steps, args.tasks, args.items)
        print(f"generated {args.series * args.steps} runs x {args.tasks} tasks x {args.items} items "
              f"in {time.perf_counter() - t0:.1f} s")
        t0, cpu0 = time.perf_counter(), _cpu()
        report = build_site([runs], root / "site")
        elapsed, cpu = time.perf_counter() - t0, _cpu() - cpu0
        index_kb = (root / "site" / "index.html").stat().st_size / 1024
        total_mb = sum(p.stat().st_size for p in (root / "site").rglob("*") if p.is_file()) / 2**20
    print(f"pages written:   {report.pages} ({total_mb:.1f} MB), problems: {len(report.problems)}")
    print(f"build time:      {elapsed:.1f} s   goal {GOAL_S:.0f} s   ratio {elapsed / GOAL_S:.2f}")
    print(f"CPU time:        {cpu:.1f} s over this process and its workers; load average now "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other work on the machine slows the wall time)")
    print(f"index.html size: {index_kb:.0f} KB  goal {GOAL_INDEX_KB:.0f} KB  ratio {index_kb / GOAL_INDEX_KB:.2f}")


if __name__ == "__main__":
    main()
