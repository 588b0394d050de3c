"""Coverage of cotbench's 95% intervals by seeded simulation.

Interval types (every interval that profile, trajectory, gate and leaderboard show):

- ``paired delta``: the score interval of a (stratified) paired difference: profile task and
  domain deltas, safety-rate deltas, trajectory deltas; the gate shows the same interval at
  its one-sided level (checked by ``gate_calibration.py``);
- ``value``: the score interval of one run's (stratified) mean: trajectory points, the
  reference band, and every interval of the leaderboard (``stats.value_score``);
- ``aggregate delta``: the MOVER-Wilson interval used when a trajectory is read from a CSV
  of aggregate scores (independent proportions, no items).

Coverage of a score interval is read by inverting the test (the true value is inside the
interval exactly when the score test at that value does not reject); ``tests/test_score.py``
checks that inversion against the bisected bounds. Stage 2 re-runs the worst cells with more
replicates, since the smallest of many noisy rates understates the worst true coverage.

    python benchmarks/ci_coverage.py [--reps 2000] [--confirm-reps 20000] [--confirm 20]
"""

from __future__ import annotations

import argparse
import sys
import time
import zlib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cotbench.analysis import calibration as cal
from cotbench.analysis import score as sc
from cotbench.analysis.stats import mover_interval

DELTAS = (0.0, -0.01, -0.02, -0.05)
RATES = (0.02, 0.1, 0.5)


def _rng(*key: object) -> np.random.Generator:
    return np.random.default_rng([zlib.crc32("|".join(map(str, key)).encode())])


def paired_coverage(cell: cal.Cell, delta: float, reps: int) -> float:
    strata = cal.paired_strata(cell, delta, reps, _rng("paired", cell, delta))
    return float((np.abs(sc.z_stat(strata, delta, -1.0, 1.0)) <= sc.critical(strata, 0.975)).mean())


def value_coverage(cell: cal.Cell, rate: float, reps: int) -> float:
    strata = cal.rate_strata(cell, rate, reps, _rng("value", cell, rate))
    return float((np.abs(sc.z_stat(strata, rate, 0.0, 1.0, continuity=True)) <= sc.critical(strata, 0.975)).mean())


def aggregate_coverage(cell: cal.Cell, rate: float, delta: float, reps: int) -> float:
    """Two independent binomial runs per task (k = 1), stratified mean of the differences."""
    rng = _rng("aggregate", cell, rate, delta)
    n = cell.items
    xa = rng.binomial(n, rate + delta, size=(reps, cell.tasks))
    xb = rng.binomial(n, rate, size=(reps, cell.tasks))
    low, high = mover_interval(xa / n, n, xb / n, n, 0.05)
    return float(((low <= delta) & (delta <= high)).mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=2000)
    ap.add_argument("--confirm-reps", type=int, default=20000)
    ap.add_argument("--confirm", type=int, default=20)
    args = ap.parse_args()
    t0 = time.perf_counter()
    kinds = {
        "paired delta": [(c, d) for c in cal.grid() for d in DELTAS],
        "value": [(c, r) for c in cal.grid() for r in RATES],
        "aggregate delta": [(c, (r, d)) for c in cal.grid(ks=(1,)) for r in (0.1, 0.5) for d in DELTAS],
    }
    run = {
        "paired delta": lambda c, d, reps: paired_coverage(c, d, reps),
        "value": lambda c, r, reps: value_coverage(c, r, reps),
        "aggregate delta": lambda c, rd, reps: aggregate_coverage(c, rd[0], rd[1], reps),
    }
    print(f"nominal 95%; stage 1 {args.reps} replicates per cell "
          f"(Monte Carlo error at 95%: {100 * cal.mc_error(0.95, args.reps):.2f} points)")
    for kind, cells in kinds.items():
        cov = [(run[kind](c, x, args.reps), c, x) for c, x in cells]
        lowest = sorted(cov, key=lambda r: r[0])
        print(f"{kind:<16} {len(cells)} cells: mean coverage {100 * np.mean([r[0] for r in cov]):.2f}%, "
              f"lowest {100 * lowest[0][0]:.2f}% ({lowest[0][1]}, {lowest[0][2]})")
        confirmed = sorted(((run[kind](c, x, args.confirm_reps), c, x) for _, c, x in lowest[: args.confirm]),
                           key=lambda r: r[0])
        for r, c, x in confirmed[:3]:
            print(f"  stage 2 ({args.confirm_reps} reps): {100 * r:.2f}%  {c}  {x}")
        print(f"worst cell, {kind}: {100 * confirmed[0][0]:.2f}% ({confirmed[0][1]}, {confirmed[0][2]}); target >= 94%")
    print(f"elapsed {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
