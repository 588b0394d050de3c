"""Terminal tables (rich) for profiles and trajectories. Names are shown as plain text, never markup."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from cotbench.analysis.behaviour import MOVES
from cotbench.analysis.profile import Profile
from cotbench.analysis.trajectory import Trajectory
from cotbench.domains import CAPABILITY_DOMAINS, METRIC_LABELS, headline_label
from cotbench.results.estimate import Estimate


def _pct(x: float | None, signed: bool = False) -> str:
    if x is None:
        return "—"
    return f"{100 * x:+.1f}" if signed else f"{100 * x:.1f}"


def _num(x: float | None, signed: bool = False, digits: int = 1) -> str:
    if x is None:
        return "—"
    return f"{x:+.{digits}f}" if signed else f"{x:.{digits}f}"


def _ci(e: Estimate, scale: float = 100.0) -> str:
    if e.ci_low is None or e.ci_high is None:
        return "—"
    return f"[{scale * e.ci_low:+.1f}, {scale * e.ci_high:+.1f}]"


def _delta_cell(e: Estimate) -> Text:
    """Delta in points; bold when significant after Holm's correction within its family."""
    t = Text(_pct(e.delta, signed=True))
    if e.significant:
        t.stylize("bold")
    return t


def _p(e: Estimate) -> str:
    """The adjusted p-value where a family applies (tasks, categories), else the raw one (domains)."""
    return _num(e.p_holm if e.p_holm is not None else e.p_value, digits=3)


def profile_tables(p: Profile) -> list[Table]:
    title = Text(f"{p.model} vs {p.reference}")
    scores = Table(title=title, caption=f"Δ in points; CI: {p.interval}; p (Holm): {p.correction}; bold: "
                   f"p (Holm) < {p.alpha:g}; MDE: smallest Δ detectable with power 0.8")
    for col in ("domain / task", "metric", "model", "reference", "Δ", "95% CI", "p (Holm)", "MDE", "n"):
        scores.add_column(col, justify="left" if col in ("domain / task", "metric") else "right")
    for d in p.domains:
        metric = "score" if d.domain in CAPABILITY_DOMAINS else (d.safety_metric or "score")
        e = d.score if d.domain in CAPABILITY_DOMAINS else (d.safety or d.score)
        scores.add_row(Text(headline_label(d.domain), style="bold"), metric, _pct(e.model),
                       _pct(e.reference), _delta_cell(e), _ci(e), _p(e), _pct(e.mde), str(e.n))
        for t in (t for t in p.tasks if t.domain == d.domain):
            te = t.score if d.domain in CAPABILITY_DOMAINS else (t.safety or t.score)
            scores.add_row(Text(f"  {t.task}"), metric, _pct(te.model), _pct(te.reference), _delta_cell(te), _ci(te),
                           _p(te), _pct(te.mde), str(te.n))
            for cat, ce in t.safety_by_category.items():
                scores.add_row(Text(f"    {cat}"), metric, _pct(ce.model), _pct(ce.reference), _delta_cell(ce),
                               _ci(ce), _p(ce), _pct(ce.mde), str(ce.n))

    ti = p.transferability
    transfer = Table(title="Transferability Index (arXiv 2507.00432)")
    for col in ("ΔR_math", "ΔR_other", "ΔR_non", "TI_other", "TI_non"):
        transfer.add_column(col, justify="right")
    transfer.add_row(*(_pct(ti.relative_gain.get(g), signed=True) + "%" if ti.relative_gain.get(g) is not None else "—"
                       for g in ("math", "other", "non")),
                     _num(ti.ti_other, digits=1) if ti.ti_other is not None else "undefined",
                     _num(ti.ti_non, digits=1) if ti.ti_non is not None else "undefined")

    tokens = Table(title="Token cost and reasoning behaviour (per domain, model vs reference)")
    for col in ("domain", "reasoning tok", "answer tok", "tok / correct", "truncated %",
                *(f"{m} /1k" for m in MOVES)):
        tokens.add_column(col, justify="left" if col == "domain" else "right")
    for d in p.domains:
        tc, bh = d.tokens, d.behaviour

        def pair(e: Estimate, pct: bool = False) -> str:
            f = _pct if pct else _num
            return f"{f(e.model)} / {f(e.reference)}"

        tokens.add_row(headline_label(d.domain), pair(tc.reasoning_tokens, ), pair(tc.answer_tokens),
                       pair(tc.tokens_per_correct), pair(tc.truncation_rate, pct=True),
                       *(pair(bh.per_1k_tokens[m]) for m in MOVES))
    tables = [scores, transfer, tokens]
    if (safety := safety_table(p)) is not None:
        tables.insert(1, safety)
    return tables


def safety_table(p: Profile) -> Table | None:
    """The safety cost as a pair (harmful compliance, over-refusal), each a paired delta with its
    interval, and attack success where a harm judge gave verdicts; None without safety tasks."""
    pair = p.safety_pair
    rows = [(m, e) for m, e in (("harmful_compliance", pair.harmful_compliance), ("over_refusal", pair.over_refusal),
                                ("attack_success", pair.attack_success)) if e is not None]
    if not rows:
        return None
    table = Table(title="Safety cost (up is worse for both)", caption=Text(pair.reading))
    for col in ("metric", "model", "reference", "Δ", "95% CI", "p", "MDE", "n"):
        table.add_column(col, justify="left" if col == "metric" else "right")
    for m, e in rows:
        table.add_row(METRIC_LABELS[m], _pct(e.model), _pct(e.reference), _delta_cell(e), _ci(e), _p(e),
                      _pct(e.mde), str(e.n))
    return table


def print_profile(p: Profile, console: Console | None = None) -> None:
    console = console or Console()
    for t in profile_tables(p):
        console.print(t)
    for d in p.domains:
        console.print(Text(f"{headline_label(d.domain)}: {d.behaviour.reading}"))
    for note in p.transferability.notes:
        console.print(Text(f"note: {note}"))
    if p.mismatches_allowed:
        console.print(Text(f"mismatches allowed: {', '.join(p.mismatches_allowed)}", style="yellow"))
    for w in p.warnings:
        console.print(Text(f"warning: {w}", style="yellow"))


def trajectory_tables(traj: Trajectory) -> list[Table]:
    verdicts = Table(title=Text(f"{traj.model}: dip-and-recovery (reference step {traj.reference_step}, "
                                f"Holm over {len(traj.steps)} checkpoints)"))
    for col in ("series", "metric", "verdict", "onset", "dip step", "depth (pts)", "recovery", "peak step", "peak"):
        verdicts.add_column(col, justify="left" if col in ("series", "metric", "verdict") else "right")
    for s in traj.series:
        name = Text(headline_label(s.name) if s.kind == "domain" else f"  {s.name}",
                    style="bold" if s.kind == "domain" else "")
        style = {"no-dip": "green", "dip-recovered": "cyan", "in-dip": "yellow", "degraded": "red",
                 "inconclusive": "magenta"}[s.verdict]
        verdicts.add_row(name, s.metric, Text(s.verdict, style=style), _num(s.onset_step, digits=0) if s.onset_step
                         is not None else "—", str(s.dip.step) if s.dip else "—",
                         f"{100 * s.dip.depth:.1f}" if s.dip else "—",
                         str(s.recovery_step) if s.recovery_step is not None else "—",
                         str(s.peak_step) if s.peak_step is not None else "—",
                         _pct(s.peak_value))
    curves = Table(title="Per-step values (%), Δ vs reference in points; * = dip")
    curves.add_column("series")
    curves.add_column(f"step {traj.reference_step}", justify="right")
    for st in traj.steps:
        curves.add_column(f"step {st}", justify="right")
    for s in traj.series:
        by_step = {p.step: p for p in s.points}
        cells = [_pct(s.reference_value)]
        for st in traj.steps:
            p = by_step.get(st)
            cells.append("—" if p is None or p.value is None else
                         f"{_pct(p.value)} ({_pct(p.delta, signed=True)}){'*' if p.dip else ''}")
        curves.add_row(Text(headline_label(s.name) if s.kind == "domain" else f"  {s.name}"), *cells)
    tables = [verdicts, curves]
    if traj.tokens:
        tok = Table(title="Mean reasoning tokens per sample (truncation %)")
        tok.add_column("domain")
        steps = sorted({t.step for t in traj.tokens})
        for st in steps:
            tok.add_column(f"step {st}", justify="right")
        for dom in sorted({t.domain for t in traj.tokens}):
            by = {t.step: t for t in traj.tokens if t.domain == dom}
            tok.add_row(headline_label(dom), *(f"{by[st].reasoning_tokens:.0f} ({100 * by[st].truncation_rate:.0f})"
                                                       if st in by else "—" for st in steps))
        tables.append(tok)
    return tables


def print_trajectory(traj: Trajectory, console: Console | None = None) -> None:
    console = console or Console()
    for t in trajectory_tables(traj):
        console.print(t)
    for s in (s for s in traj.series if s.kind == "domain"):
        console.print(Text(f"{headline_label(s.name)}: {s.reading}"))
    console.print(Text(f"variance: {traj.variance}; recovery: shown within {100 * traj.margin:g} points of "
                       "the reference (non-inferiority)", style="dim"))
    if traj.mismatches_allowed:
        console.print(Text(f"mismatches allowed: {', '.join(traj.mismatches_allowed)}", style="yellow"))
    for w in traj.warnings:
        console.print(Text(f"warning: {w}", style="yellow"))
