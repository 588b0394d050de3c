"""Calibration of the gate's decision rule by seeded simulation.

For every cell of the grid (tasks x items per task x discordance x k repeats), every margin
and both rule directions (higher-is-better scores; lower-is-better safety rates, oriented the
way the gate orients them), two scenarios:

- the true difference sits exactly at the margin (candidate worse by ``margin``): the gate
  must pass at most ``alpha`` of the time;
- the candidate is unchanged: the gate must fail at most ``alpha`` of the time.

One task with k = 1 is the "binary task" rule (Tango score test), one task with k > 1 the
avg@k rule, several tasks a domain rule. ``min_items`` is set to 2 so that the statistics, not
the item floor, decide the small cells. Stage 1 runs every cell with ``--reps`` replicates;
stage 2 re-runs the cells that look worst with ``--confirm-reps`` replicates, because the
largest of 2,880 noisy rates overstates the worst true rate by several Monte Carlo errors.

    python benchmarks/gate_calibration.py [--reps 2000] [--confirm-reps 20000] [--confirm 20]
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
from cotbench.gate.stat_tests import decide_many, score_strata

ALPHA = 0.05
MARGINS = (0.01, 0.02, 0.05)
DIRECTIONS = ("higher", "lower")


def rates(cell: cal.Cell, margin: float, direction: str, reps: int) -> tuple[float, float]:
    """(pass rate at the margin, fail rate when unchanged) for one cell."""
    rng = np.random.default_rng([zlib.crc32(f"{cell}|{margin}|{direction}".encode())])
    out = []
    for delta, wanted in ((-margin, "pass"), (0.0, "fail")):
        if direction == "higher":
            strata = cal.paired_strata(cell, delta, reps, rng)
        else:  # a rate that rose by `margin`, oriented by the gate as 1 - v: the test sees -margin
            strata = cal.mirror(cal.paired_strata(cell, -delta, reps, rng))
        est, n, p_ni, p_reg = score_strata(strata, margin)
        out.append(float((decide_many(est, n, p_ni, p_reg, margin, ALPHA, 2) == wanted).mean()))
    return out[0], out[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=2000)
    ap.add_argument("--confirm-reps", type=int, default=20000)
    ap.add_argument("--confirm", type=int, default=20, help="worst cells re-run in stage 2")
    args = ap.parse_args()
    t0 = time.perf_counter()
    rows = []
    for margin in MARGINS:
        for direction in DIRECTIONS:
            for cell in cal.grid():
                pr, ff = rates(cell, margin, direction, args.reps)
                rows.append((cell, margin, direction, pr, ff))
    print(f"stage 1: {len(rows)} cells x 2 scenarios, {args.reps} replicates each "
          f"(Monte Carlo error at 5%: {100 * cal.mc_error(ALPHA, args.reps):.2f} points)")
    print(f"{'margin':>6} {'dir':>6} {'cell':<22} {'pass@margin':>11} {'false fail':>10}")
    for margin in MARGINS:
        for direction in DIRECTIONS:
            sub = [r for r in rows if r[1] == margin and r[2] == direction]
            wp = max(sub, key=lambda r: r[3])
            wf = max(sub, key=lambda r: r[4])
            print(f"{100 * margin:>5g}p {direction:>6} {str(wp[0]):<22} {100 * wp[3]:>10.2f}% "
                  f"{'(worst pass cell)':>10}")
            print(f"{100 * margin:>5g}p {direction:>6} {str(wf[0]):<22} {'':>11} {100 * wf[4]:>9.2f}%")
    by_kind = {"binary task": lambda c: c.tasks == 1 and c.k == 1, "avg@k task": lambda c: c.tasks == 1 and c.k > 1,
               "domain (2-5 tasks)": lambda c: c.tasks > 1}
    for kind, sel in by_kind.items():
        sub = [r for r in rows if sel(r[0])]
        print(f"{kind:<20} worst pass rate at the margin {100 * max(r[3] for r in sub):.2f}%, "
              f"worst false-fail rate {100 * max(r[4] for r in sub):.2f}% over {len(sub)} cells")
    print(f"stage 2: the {args.confirm} worst cells of each scenario again with {args.confirm_reps} replicates "
          f"(Monte Carlo error at 5%: {100 * cal.mc_error(ALPHA, args.confirm_reps):.2f} points)")
    for idx, name in ((3, "pass at the margin"), (4, "false fail")):
        worst = sorted(rows, key=lambda r: -r[idx])[: args.confirm]
        confirmed = []
        for cell, margin, direction, *_ in worst:
            pr, ff = rates(cell, margin, direction, args.confirm_reps)
            confirmed.append((pr if idx == 3 else ff, cell, margin, direction))
        top = max(confirmed, key=lambda r: r[0])
        for r, cell, margin, direction in sorted(confirmed, key=lambda r: -r[0])[:5]:
            print(f"  {name:<18} {str(cell):<22} margin {100 * margin:g}p {direction:<6} {100 * r:.2f}%")
        print(f"worst cell, {name}: {100 * top[0]:.2f}% ({top[1]}, margin {100 * top[2]:g} points, {top[3]}); "
              f"target <= {100 * ALPHA:g}% + 1 point")
    print(f"elapsed {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
