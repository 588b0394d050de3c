"""Error rates of the trajectory's dip-and-recovery verdicts by seeded simulation.

Series of 8 checkpoints (``--checkpoints``) against a reference, one task of ``n`` items whose difficulties vary
(solve rate p_i ~ Beta(2, 2)); every run samples each item once, independently (so checkpoints
share the reference's noise, as real ones do). ``SE`` is the true standard error of one
checkpoint-vs-reference difference, sqrt(2 E[p(1-p)] / n) = sqrt(0.4 / n). Three figures:

- **planted dip found**: one checkpoint 4 SE below the reference, the rest at it: how often
  a dip is reported (target >= 95%);
- **recovered when still below**: a dip of 6 SE, then the series ends exactly ``margin`` below
  the reference: how often it is called ``dip-recovered`` (target <= 5%);
- **false dip**: no change anywhere: how often any dip is reported (target <= 5%).

Both sources are run: per-item results (paired score tests) and aggregate proportions (the
``--scores`` CSV path, MOVER-Wilson). Prints each rate with its Monte Carlo error.

    python benchmarks/dip_detector.py [--reps 400] [--items 100 400]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cotbench.analysis.calibration import mc_error
from cotbench.analysis.trajectory import DEFAULT_MARGIN, TaskObs, detect

STEPS = [10, 20, 40, 80, 160, 320, 640, 1280]
E_PQ = 0.2  # E[p(1-p)] for p ~ Beta(2, 2)


def _shift(p: np.ndarray, d: float) -> np.ndarray:
    """Move every solve rate so that the mean moves by ``d`` (scaled towards 0 or 1, no clipping)."""
    return p * (1 + 2 * d) if d < 0 else p + 2 * d * (1 - p)


def _obs(rng: np.random.Generator, p: np.ndarray, paired: bool) -> TaskObs:
    vals = (rng.random(len(p)) < p).astype(float)
    if paired:
        return TaskObs(float(vals.mean()), len(vals), {f"i{j}": v for j, v in enumerate(vals)})
    return TaskObs(float(vals.mean()), len(vals))


def series(rng: np.random.Generator, n: int, shifts: list[float], paired: bool):
    p = rng.beta(2, 2, n)
    ref = {"t": _obs(rng, p, paired)}
    cks = [(s, {"t": _obs(rng, _shift(p, d), paired)}) for s, d in zip(STEPS, shifts, strict=True)]
    return detect("t", "task", "in_domain", "score", (0, ref), cks, 0.05, DEFAULT_MARGIN)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=400)
    ap.add_argument("--items", type=int, nargs="+", default=[100, 400])
    ap.add_argument("--checkpoints", type=int, default=8, choices=range(3, 9))
    args = ap.parse_args()
    c = args.checkpoints
    t0 = time.perf_counter()
    print(
        f"{c} checkpoints per series, {args.reps} series per cell; "
        f"Monte Carlo error {100 * mc_error(0.05, args.reps):.1f} points at 5%/95%"
    )
    worst = {"found": 1.0, "recovered": 0.0, "false": 0.0}
    for n in args.items:
        se = (2 * E_PQ / n) ** 0.5
        m = DEFAULT_MARGIN
        scenarios = {
            "found": ([0, -4 * se] + [0] * (c - 2), lambda s: s.dip is not None),
            "recovered": ([0, -6 * se, -3 * se] + [-m] * (c - 3), lambda s: s.verdict == "dip-recovered"),
            "false": ([0.0] * c, lambda s: s.dip is not None),
        }
        for paired in (True, False):
            rng = np.random.default_rng([n, paired])
            rates = {}
            for name, (shifts, hit) in scenarios.items():
                rates[name] = sum(hit(series(rng, n, shifts, paired)) for _ in range(args.reps)) / args.reps
            src = "per-item" if paired else "aggregate"
            print(f"n={n:<4} {src:<9} planted 4-SE dip found {100 * rates['found']:5.1f}%  "
                  f"recovered while {100 * m:g} points below {100 * rates['recovered']:4.1f}%  "
                  f"false dip (noise) {100 * rates['false']:4.1f}%")
            worst["found"] = min(worst["found"], rates["found"])
            worst["recovered"] = max(worst["recovered"], rates["recovered"])
            worst["false"] = max(worst["false"], rates["false"])
    print(f"worst: planted dips found {100 * worst['found']:.1f}% (target >= 95%), called recovered while "
          f"below by the margin {100 * worst['recovered']:.1f}% (target <= 5%), false dip "
          f"{100 * worst['false']:.1f}% (target <= 5%)")
    print(f"elapsed {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
