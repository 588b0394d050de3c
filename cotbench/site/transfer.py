"""The Transferability Index of a profile as a table, not as lines of notes.

One row per TI group (math, transfer, general): its relative gain ΔR, the TI, the tasks that
went into ΔR and those left out (with their reference score), and why a value is undefined.
Every number comes from the Profile; the thresholds are the profile's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cotbench.analysis.profile import MIN_MATH_GAIN, MIN_REFERENCE_SCORE, TI_GROUPS, Profile
from cotbench.domains import domain_label


@dataclass
class TIRow:
    group: str  # "math", "other", "non"
    domain: str
    label: str
    relative_gain: float | None
    ti: float | None  # None for math (the denominator) and where undefined
    used: list[tuple[str, float, float]] = field(default_factory=list)  # task, reference, model score
    left_out: list[tuple[str, float]] = field(default_factory=list)  # task, its reference score
    status: str = ""  # why ΔR or TI is undefined, or how to read it


def ti_rows(p: Profile) -> list[TIRow]:
    t = p.transferability
    math_gain = t.relative_gain.get("math")
    rows = []
    for group, domain in TI_GROUPS.items():
        row = TIRow(group, domain, domain_label(domain), t.relative_gain.get(group),
                    None if group == "math" else (t.ti_other if group == "other" else t.ti_non))
        for tp in (x for x in p.tasks if x.domain == domain):
            ref, mod = tp.score.reference, tp.score.model
            if ref is None or mod is None:
                continue
            if ref < MIN_REFERENCE_SCORE:
                row.left_out.append((tp.task, ref))
            else:
                row.used.append((tp.task, ref, mod))
        if row.relative_gain is None:
            row.status = f"ΔR undefined: no {row.label} task with a reference score of at least {MIN_REFERENCE_SCORE}"
        elif group == "math":
            if abs(row.relative_gain) < MIN_MATH_GAIN:
                row.status = f"|ΔR| below {MIN_MATH_GAIN}: no in-domain gain to transfer, so no TI"
            elif row.relative_gain < 0:
                row.status = "ΔR negative: TI signs are inverted (a positive TI means the group also fell)"
            else:
                row.status = "the denominator of every TI"
        elif row.ti is None:
            row.status = ("TI undefined: ΔR of math is undefined" if math_gain is None
                          else "TI undefined: no in-domain gain to transfer")
        else:
            row.status = "TI = ΔR / ΔR(math) × 100"
        rows.append(row)
    return rows
