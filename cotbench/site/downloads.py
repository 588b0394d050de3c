"""The leaderboard's rows as data: what the index table shows, in ``leaderboard.csv`` and ``.json``."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable
from typing import Any

from cotbench.analysis.profile import Profile
from cotbench.domains import CAPABILITY_DOMAINS, DOMAINS, domain_info
from cotbench.site.data import Entry
from cotbench.site.headlines import Summary
from cotbench.site.model_meta import model_meta

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def leaderboard_row(entry: Entry, summary: Summary, group: str, prof: Profile | None, mismatches: list[str],
                    series: str | None, prov: Callable[[object], str]) -> dict[str, Any]:
    """One row; every text from the manifest goes through ``prov`` (path redaction)."""
    m = entry.manifest.model
    meta = model_meta(m)
    row: dict[str, Any] = {"group": group, "run_id": entry.run_id, "model": entry.label, "step": entry.step,
                           "family": entry.family, "scorer_modes": " ".join(entry.scorer_modes),
                           "mismatches_allowed": " ".join(mismatches),
                           "reference": entry.reference.run_id if entry.reference else None,
                           "base_model": entry.reference.label if entry.reference else None,
                           "series": series, "spec": m.spec, "backend": m.backend, "hub_id": meta.hub_id,
                           "revision": m.resolved_revision or m.revision, "precision": meta.precision,
                           "parameters": meta.parameters, "model_card": meta.card_url,
                           "suite": entry.manifest.suite, "limit": entry.manifest.limit}
    for d in CAPABILITY_DOMAINS:
        est = summary.domains.get(d)
        row[f"{d}"] = est.model if est else None
        row[f"{d}_ci_low"] = est.low if est else None
        row[f"{d}_ci_high"] = est.high if est else None
    for name, est in (("harmful_compliance", summary.harmful_compliance), ("over_refusal", summary.over_refusal)):
        row[name] = est.model if est else None
        row[f"{name}_ci_low"] = est.low if est else None
        row[f"{name}_ci_high"] = est.high if est else None
    row["tokens"] = summary.tokens
    for d in DOMAINS:
        dp = prof.domain(d) if prof else None
        est = (dp.safety if domain_info(d).is_safety else dp.score) if dp else None
        row[f"delta_{d}"] = est.delta if est else None
        row[f"delta_{d}_ci_low"] = est.ci_low if est else None
        row[f"delta_{d}_ci_high"] = est.ci_high if est else None
    row["ti_transfer"] = prof.transferability.ti_other if prof else None
    row["ti_general"] = prof.transferability.ti_non if prof else None
    return {k: prov(v) if isinstance(v, str) else v for k, v in row.items()}


def csv_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet will not run: text from results (labels, run ids) that starts like a
    formula (= + - @, tab, CR) gets a leading apostrophe; numbers, and text that is a plain number
    such as -0.5, stay as they are. A CR inside becomes a line feed, which the writer quotes (it
    would leave a bare CR unquoted, and readers would split the row there)."""
    if not isinstance(value, str):
        return value
    if value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        value = "'" + value
    return value.replace("\r\n", "\n").replace("\r", "\n")


def downloads(rows: list[dict[str, Any]]) -> tuple[str, str]:
    """``leaderboard.csv`` and ``leaderboard.json`` (NaN written as empty / null)."""
    clean = [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()} for r in rows]
    buf = io.StringIO()
    if clean:
        writer = csv.DictWriter(buf, fieldnames=list(clean[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: csv_cell(v) for k, v in r.items()} for r in clean)
    return buf.getvalue(), json.dumps(clean, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
