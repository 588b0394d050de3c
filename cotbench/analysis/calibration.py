"""Seeded simulations that check the statistics: gate error rates, interval coverage, dip verdicts.

Used by ``benchmarks/gate_calibration.py``, ``benchmarks/ci_coverage.py`` and
``benchmarks/dip_detector.py`` (full grids) and by the tests (small grids, loose tolerances).

The item model, per task of ``n`` items evaluated with ``k`` repeats:

- *loss* items (baseline better) and *gain* items (candidate better), the rest *ties* that
  both models answer the same way every time (half right, half wrong);
- with ``k = 1`` a loss item is right for the baseline and wrong for the candidate; with
  ``k > 1`` it is right with probability 0.75 for the baseline and 0.25 for the candidate, so
  item means (avg@k) take every value ``j/k`` and differ by 0.5 on average;
- ``discordance`` is the share of changed items besides those that make the true difference:
  gains = discordance / 2, losses = discordance / 2 + (share that moves the mean by ``delta``).

Zero discordance at a non-zero difference is the hard case: most runs of few items then show
no disagreement at all, which a test must not read as "no difference".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cotbench.analysis import score as sc

HI, LO = 0.75, 0.25  # per-repeat success of a changed item's better / worse side when k > 1


@dataclass(frozen=True)
class Cell:
    tasks: int
    items: int
    discordance: float
    k: int

    def __str__(self) -> str:
        return f"{self.tasks}x{self.items} d={100 * self.discordance:g}% k={self.k}"


def _item_shift(k: int) -> float:
    return 1.0 if k == 1 else HI - LO


def _diff_pmf(k: int, p_cand: float, p_base: float) -> tuple[np.ndarray, np.ndarray]:
    """Lattice values ``j/k`` (j = -k..k) and the pmf of ``mean(cand) - mean(base)`` on one item."""
    from scipy import stats as sps

    pc = sps.binom.pmf(np.arange(k + 1), k, p_cand)
    pb = sps.binom.pmf(np.arange(k + 1), k, p_base)
    pmf = np.convolve(pc, pb[::-1])  # index i <-> (i - k) / k
    return np.arange(-k, k + 1) / k, pmf


def paired_strata(cell: Cell, delta: float, reps: int, rng: np.random.Generator) -> list[sc.Stratum]:
    """Simulated paired differences (candidate - baseline) with true mean ``delta`` in every task."""
    shift = _item_shift(cell.k)
    gain = cell.discordance / 2 + max(delta, 0.0) / shift
    loss = cell.discordance / 2 + max(-delta, 0.0) / shift
    if gain + loss > 1:
        raise ValueError(f"{cell}: difference {delta} is not reachable")
    values, pmf_loss = _diff_pmf(cell.k, LO if cell.k > 1 else 0.0, HI if cell.k > 1 else 1.0)
    pmf_gain = pmf_loss[::-1]
    zero = cell.k  # index of value 0
    out = []
    for _ in range(cell.tasks):
        types = rng.multinomial(cell.items, [loss, gain, 1 - loss - gain], size=reps)
        counts = rng.multinomial(types[:, 0], pmf_loss) + rng.multinomial(types[:, 1], pmf_gain)
        counts = counts.astype(float)
        counts[:, zero] += types[:, 2]
        out.append(sc.Stratum(values, counts))
    return out


def rate_strata(cell: Cell, rate: float, reps: int, rng: np.random.Generator) -> list[sc.Stratum]:
    """Simulated item values in [0, 1] of one run whose true mean is ``rate`` (per task).

    A share ``discordance`` of items (at most what ``rate`` allows) has per-repeat success 0.5; the
    rest are always right or always wrong, in the proportion that makes the mean ``rate``.
    """
    noisy = min(cell.discordance, 2 * rate, 2 * (1 - rate))
    right = rate - 0.5 * noisy
    if right < 0 or right + noisy > 1:
        raise ValueError(f"{cell}: rate {rate} not reachable")
    values = np.arange(cell.k + 1) / cell.k
    from scipy import stats as sps

    pmf = sps.binom.pmf(np.arange(cell.k + 1), cell.k, 0.5)
    out = []
    for _ in range(cell.tasks):
        types = rng.multinomial(cell.items, [noisy, right, 1 - noisy - right], size=reps)
        counts = rng.multinomial(types[:, 0], pmf).astype(float)
        counts[:, -1] += types[:, 1]
        counts[:, 0] += types[:, 2]
        out.append(sc.Stratum(values, counts))
    return out


def mirror(strata: list[sc.Stratum]) -> list[sc.Stratum]:
    """Differences of ``1 - v`` (how the gate orients lower-is-better rates): values negate."""
    return [sc.Stratum(-s.values[::-1], s.counts[:, ::-1]) for s in strata]


def grid(tasks: tuple[int, ...] = (1, 2, 3, 5), items: tuple[int, ...] = (10, 20, 30, 100, 500),
         discordance: tuple[float, ...] = (0.0, 0.01, 0.02, 0.05), ks: tuple[int, ...] = (1, 3, 10)) -> list[Cell]:
    return [Cell(t, n, d, k) for t in tasks for n in items for d in discordance for k in ks]


def mc_error(rate: float, reps: int) -> float:
    """Monte Carlo standard error of an estimated rate."""
    return float(np.sqrt(rate * (1 - rate) / reps))
