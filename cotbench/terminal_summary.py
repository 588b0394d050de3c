"""Terminal tables for a finished run: per task, then per domain, with a legend."""

from __future__ import annotations

import math
from collections import defaultdict

from rich import box
from rich.table import Table

from cotbench.domains import METRIC_LABELS, DomainInfo, domain_info, domain_order
from cotbench.errors import markup_safe as escape  # untrusted text: rich markup and control characters
from cotbench.results.aggregate import finite_mean
from cotbench.results.schema import TaskResult
from cotbench.results.store import RunDir


def headline_metric(tr: TaskResult) -> tuple[str, float, float]:
    """The number a reader wants first: the domain's headline metric (the score; for safety, the
    harmful-compliance or over-refusal rate). NaN when no sample was scored: undefined, not 0."""
    info = domain_info(tr.task.domain)
    mv = tr.metrics.get(info.metric)
    if mv is None:  # not measured (e.g. a judge of harm without refusal labels)
        return info.metric_short, math.nan, math.nan
    return info.metric_short, mv.value, mv.stderr


# The widest realistic cells: "over-refused ↓", "– (0 scored)", a 5-digit reasoning budget; with
# two spaces between columns these leave the task column 15 characters at 80 columns.
TASK_WIDTH = 15


def _arrow(info: DomainInfo) -> str:
    return "↑" if info.higher_is_better else "↓"


def _legend(domains: list[str], errors: list[tuple[str, str]], partial: bool) -> str:
    """Under the table: each domain's headline metric and which way is better, then the columns."""
    by_metric: dict[str, list[DomainInfo]] = {}
    for d in domains:
        info = domain_info(d)
        by_metric.setdefault(info.metric, []).append(info)
    parts = []
    for metric, infos in by_metric.items():
        first = infos[0]
        long = METRIC_LABELS.get(metric, metric)
        named = f"{first.metric_short} {_arrow(first)}" + ("" if long == first.metric_short else f" ({long})")
        parts.append(f"{', '.join(i.short for i in infos)}: {named}")
    lines = ["Headline metric per domain, ↑ higher is better, ↓ lower is better: " + "; ".join(parts) + ".",
             ("% ± se: percent and standard error; trunc: % of answers cut off at the token budget; "
              "tokens r/a: mean reasoning/answer tokens per response.")]
    if partial:
        lines.append("n of a mean row, as k/m: the mean of k of the domain's m tasks; the others have no scored "
                     "answer.")
    lines += [f"[red]error[/] in {escape(task)}: {escape(message)}" for task, message in errors]
    return "\n".join(lines)


def run_summary_table(rd: RunDir) -> Table:
    """Per task, then per domain, with a legend; fits in 80 columns (the task name wraps, nothing
    is cut)."""
    manifest = rd.read_manifest()
    table = Table(title=f"{escape(manifest.model.label)} ({manifest.engine})", title_justify="left",
                  caption_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
                  collapse_padding=True)
    table.add_column("task", overflow="fold", min_width=TASK_WIDTH)
    for col in ("domain", "metric", "% ± se", "n", "trunc", "tokens r/a"):
        table.add_column(col, justify="left" if col in ("domain", "metric") else "right", no_wrap=True)
    per_domain: dict[str, list[float]] = defaultdict(list)
    results = [rd.read_task(t) for t in rd.task_names()]
    for tr in sorted(results, key=lambda r: (domain_order(r.task.domain), r.task.name)):
        label, value, se = headline_metric(tr)
        per_domain[tr.task.domain].append(value)
        info = domain_info(tr.task.domain)
        shown = "– (0 scored)" if math.isnan(value) else f"{100 * value:.1f} ± {100 * se:.1f}"
        table.add_row(escape(tr.task.name), info.short, f"{label} {_arrow(info)}", shown,
                      str(tr.n_items), f"{100 * tr.truncation_rate:.0f}",
                      f"{tr.mean_reasoning_tokens:.0f}/{tr.mean_answer_tokens:.0f}")
    table.add_section()
    partial = False
    for domain in sorted(per_domain, key=domain_order):
        # Unscored tasks have no rate: leave them out of the mean, and say how many it averages
        # (in the n column, as used/all tasks: a label there would widen the table past 80).
        mean, used = finite_mean(per_domain[domain])
        info = domain_info(domain)
        left_out = used < len(per_domain[domain])
        partial = left_out or partial
        table.add_row(f"[bold]{info.short} (mean)[/]", info.short, f"{info.metric_short} {_arrow(info)}",
                      f"{100 * mean:.1f}" if used else "n/a", f"{used}/{len(per_domain[domain])}" if left_out else "",
                      "", "")
    errors = [(t.name, t.error or "") for t in manifest.tasks if t.status == "error"]
    for name, _ in errors:
        table.add_row(escape(name), "", "[red]error[/]", "(below)", "", "", "")
    table.caption = _legend(sorted(per_domain, key=domain_order), errors, partial)
    return table


def samples_table(rd: RunDir, task: str, n: int) -> Table:
    table = Table(
        "id",
        "rep",
        "score",
        "label",
        "extracted",
        "answer (start)",
        title=f"{escape(task)}: first {n} samples",
        title_justify="left",
    )
    for i, s in enumerate(rd.iter_samples(task)):
        if i >= n:
            break
        answer = s.answer.replace("\n", " ")[:80]
        table.add_row(escape(s.sample_id), str(s.repeat), "-" if s.score is None else f"{s.score:.2f}",
                      escape(s.label or ""), escape(s.extracted or ""), escape(answer))
    return table
