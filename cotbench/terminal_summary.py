"""Terminal tables for a finished run: per task, then per domain."""

from __future__ import annotations

import math
from collections import defaultdict

from rich.table import Table

from cotbench.errors import markup_safe as escape  # untrusted text: rich markup and control characters

from cotbench.results.schema import TaskResult
from cotbench.results.store import RunDir

_HEADLINE = {
    "safety_harmful": ("rate:full_compliance", "complied"),
    "safety_benign": ("rate:full_compliance", "answered"),
}
_SHORT = {"in_domain": "math", "transfer": "transfer", "general": "general",
          "safety_harmful": "harmful", "safety_benign": "benign"}


def headline_metric(tr: TaskResult) -> tuple[str, float, float]:
    """The number a reader wants first: score, or the attack-success / answer rate for safety.
    NaN when no sample was scored: the rate is undefined then, not 0."""
    key, label = _HEADLINE.get(tr.task.domain, ("score", "score"))
    mv = tr.metrics.get(key)
    if mv is None:  # no scored sample had that label: 0 if any was scored, else undefined
        score = tr.metrics["score"]
        zero = 0.0 if score.n else math.nan
        mv = score.model_copy(update={"value": zero, "stderr": zero})
    return label, mv.value, mv.stderr


def run_summary_table(rd: RunDir) -> Table:
    manifest = rd.read_manifest()
    table = Table(title=f"{escape(manifest.model.label)} ({manifest.engine})", title_justify="left")
    for col in ("task", "domain", "metric", "% ± se", "n", "trunc%", "tokens r/a"):
        table.add_column(col, justify="right" if col not in ("domain", "task", "metric") else "left",
                         no_wrap=col != "metric")
    per_domain: dict[str, list[float]] = defaultdict(list)
    results = [rd.read_task(t) for t in rd.task_names()]
    order = list(_SHORT)
    for tr in sorted(results, key=lambda r: (order.index(r.task.domain), r.task.name)):
        label, value, se = headline_metric(tr)
        per_domain[tr.task.domain].append(value)
        shown = "– (0 scored)" if math.isnan(value) else f"{100 * value:.1f} ± {100 * se:.1f}"
        table.add_row(escape(tr.task.name), _SHORT[tr.task.domain], label, shown,
                      str(tr.n_items), f"{100 * tr.truncation_rate:.0f}",
                      f"{tr.mean_reasoning_tokens:.0f}/{tr.mean_answer_tokens:.0f}")
    table.add_section()
    for domain in sorted(per_domain, key=order.index):
        # Unscored tasks have no rate: leave them out of the mean, and say how many it averages.
        values = [v for v in per_domain[domain] if not math.isnan(v)]
        label = _HEADLINE.get(domain, ("", "score"))[1]
        if len(values) < len(per_domain[domain]):
            label += f" ({len(values)}/{len(per_domain[domain])} tasks)"
        table.add_row(f"[bold]{_SHORT[domain]} (mean)[/]", _SHORT[domain], label,
                      f"{100 * sum(values) / len(values):.1f}" if values else "n/a", "", "", "")
    errors = [t for t in manifest.tasks if t.status == "error"]
    for t in errors:
        table.add_row(escape(t.name), "", "[red]error[/]", escape(t.error or ""), "", "", "")
    return table


def samples_table(rd: RunDir, task: str, n: int) -> Table:
    table = Table("id", "rep", "score", "label", "extracted", "answer (start)", title=f"{escape(task)}: first {n} samples",
                  title_justify="left")
    for i, s in enumerate(rd.iter_samples(task)):
        if i >= n:
            break
        answer = s.answer.replace("\n", " ")[:80]
        table.add_row(escape(s.sample_id), str(s.repeat), "-" if s.score is None else f"{s.score:.2f}",
                      escape(s.label or ""), escape(s.extracted or ""), escape(answer))
    return table
