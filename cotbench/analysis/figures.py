"""Figures for profiles and trajectories, written as PNG and SVG with matplotlib (Agg)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cotbench.analysis.profile import Profile
from cotbench.analysis.trajectory import Series, Trajectory
from cotbench.domains import BENIGN_DOMAIN, DOMAIN_TABLE, HARMFUL_DOMAIN, METRIC_LABELS, domain_info, headline_label
from cotbench.errors import CotbenchError, MissingDependencyError
from cotbench.results.estimate import Estimate

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FORMATS = ("png", "svg")
# A domain is drawn by its headline number, so it is labelled by it ("harmful compliance").
DOMAIN_LABELS: dict[str, str] = {d.name: d.metric_label for d in DOMAIN_TABLE}


def _plt() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise MissingDependencyError("matplotlib", "figures") from None
    matplotlib.use("Agg")  # files only, never a display
    import matplotlib.pyplot as plt

    return plt


def _text(s: str) -> str:
    """Untrusted names as literal text: '$' would start matplotlib mathtext."""
    return s.replace("\\", "\\\\").replace("$", r"\$")


def _filename(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", s).strip("_") or "series"


def _save(fig: Figure, out_dir: Path, stem: str) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext in FORMATS:
        path = out_dir / f"{stem}.{ext}"
        fig.savefig(path, dpi=150, bbox_inches="tight", metadata={"Date": None} if ext == "svg" else None)
        paths.append(path)
    _plt().close(fig)
    return paths


def _err(e: Estimate) -> tuple[float, float]:
    """Error-bar half-widths (below, above) of an estimate's CI, zero when it has none."""
    if e.delta is None or e.ci_low is None or e.ci_high is None:
        return 0.0, 0.0
    return max(0.0, e.delta - e.ci_low), max(0.0, e.ci_high - e.delta)


# -- profile ---------------------------------------------------------------------------------------


def profile_figures(profile: Profile, out_dir: str | Path) -> list[Path]:
    """``capability_cost_plane`` and ``domain_deltas``, each as PNG and SVG; returns the paths."""
    out = Path(out_dir)
    return _plane(profile, out) + _domain_bars(profile, out)


def _plane(p: Profile, out: Path) -> list[Path]:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    ax.axhline(0, color="grey", lw=0.8)
    ax.axvline(0, color="grey", lw=0.8)
    math_d, harm_d = p.domain("in_domain"), p.domain(HARMFUL_DOMAIN)
    x = p.reasoning_gain
    y = p.safety_cost
    if x is None or y is None:
        missing = "in-domain tasks" if x is None else "harmful-prompt safety tasks"
        ax.text(0.5, 0.5, f"not defined: the runs share no {missing}", ha="center", va="center",
                transform=ax.transAxes)
    else:
        xe = _err(math_d.score) if math_d else (0.0, 0.0)
        ye = _err(harm_d.safety) if harm_d and harm_d.safety else (0.0, 0.0)
        ax.errorbar([100 * x], [100 * y], xerr=[[100 * xe[0]], [100 * xe[1]]], yerr=[[100 * ye[0]], [100 * ye[1]]],
                    fmt="o", color="C0", capsize=4)
        ax.annotate(_text(p.model), (100 * x, 100 * y), textcoords="offset points", xytext=(6, 6))
        benign = p.domain(BENIGN_DOMAIN)
        if benign and benign.safety and benign.safety.delta is not None:
            # the other safety cost, at the same x: over-refusal on benign prompts
            be = _err(benign.safety)
            ax.errorbar([100 * x], [100 * benign.safety.delta], yerr=[[100 * be[0]], [100 * be[1]]], fmt="s",
                        mfc="none", color="C1", capsize=3, label="over-refusal Δ")
            ax.legend(fontsize=7, loc="lower left")
            ye = (ye[0], ye[1]) if abs(y) >= abs(benign.safety.delta) else be
            y = y if abs(y) >= abs(benign.safety.delta) else benign.safety.delta
        lim = max(5.0, 1.2 * max(abs(100 * x) + 100 * max(xe), abs(100 * y) + 100 * max(ye)))
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
    ax.set_xlabel("reasoning gain: in-domain score Δ (points)")
    ax.set_ylabel("safety cost: harmful-compliance Δ (points)")
    ax.set_title(_text(f"{p.model} vs {p.reference}"))
    return _save(fig, out, "capability_cost_plane")


def _domain_bars(p: Profile, out: Path) -> list[Path]:
    plt = _plt()
    rows = []
    for d in p.domains:
        e = d.safety if domain_info(d.domain).is_safety else d.score
        if e is not None and e.delta is not None:
            rows.append((headline_label(d.domain), e, domain_info(d.domain).is_safety))
    if not rows:
        raise CotbenchError("no domain has a comparable value to plot")
    fig, ax = plt.subplots(figsize=(1.3 * len(rows) + 2, 4))
    xs = range(len(rows))
    errs = [_err(e) for _, e, _ in rows]
    colors = ["C3" if safety else "C0" for _, _, safety in rows]
    ax.bar(xs, [100 * (e.delta or 0.0) for _, e, _ in rows],
           yerr=[[100 * a for a, _ in errs], [100 * b for _, b in errs]], capsize=4, color=colors)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xticks(list(xs), [lbl for lbl, _, _ in rows], rotation=20, ha="right")
    ax.set_ylabel("Δ vs reference (points, 95% CI)")
    ax.set_title(_text(f"{p.model} vs {p.reference}: per-domain change"))
    return _save(fig, out, "domain_deltas")


# -- trajectory ------------------------------------------------------------------------------------


def trajectory_figures(traj: Trajectory, out_dir: str | Path) -> list[Path]:
    """One figure per domain series (``trajectory_<domain>``): the change against the reference
    with its CI band, dip and recovery marks; the tasks' own curves; and, from run directories,
    reasoning and answer tokens per sample."""
    out = Path(out_dir)
    paths: list[Path] = []
    for s in (s for s in traj.series if s.kind == "domain"):
        tasks = [t for t in traj.series if t.kind == "task" and t.domain == s.domain]
        paths += _series_figure(traj, s, tasks, out)
    return paths


def _series_figure(traj: Trajectory, s: Series, tasks: list[Series], out: Path) -> list[Path]:
    plt = _plt()
    tokens = sorted((t for t in traj.tokens if t.domain == s.domain), key=lambda t: t.step)
    nrows = 3 if tokens else 2
    fig, axes = plt.subplots(nrows, 1, figsize=(7, 3.0 * nrows), sharex=True, squeeze=False)
    metric = METRIC_LABELS.get(s.metric, s.metric)
    # Panel 1: the delta, which stays comparable when a checkpoint lacks some of the domain's tasks.
    ax = axes[0][0]
    pts = [p for p in s.points if p.delta is not None]
    steps = [s.reference_step] + [p.step for p in pts]
    ax.axhline(0, color="grey", lw=0.8)
    ax.fill_between(steps, [0.0] + [100 * (p.delta_ci_low or 0.0) for p in pts],
                    [0.0] + [100 * (p.delta_ci_high or 0.0) for p in pts], color="C0", alpha=0.2, label="95% CI")
    ax.plot(steps, [0.0] + [100 * (p.delta or 0.0) for p in pts], "o-", color="C0", lw=2,
            label=_text(headline_label(s.name)))
    by_step = {p.step: p for p in pts}
    if s.dip is not None:
        ax.plot([s.dip.step], [100 * (by_step[s.dip.step].delta or 0.0)], "v", color="C3", ms=11,
                label=f"dip (step {s.dip.step})")
    if s.recovery_step is not None and s.recovery_step in by_step:
        ax.plot([s.recovery_step], [100 * (by_step[s.recovery_step].delta or 0.0)], "^", color="C2", ms=11,
                label=f"recovered (step {s.recovery_step})")
    ax.set_ylabel(f"{metric} Δ vs step {s.reference_step} (points)")
    ax.set_title(_text(f"{traj.model}: {headline_label(s.name)} — {s.verdict}"))
    ax.legend(fontsize=7, loc="best")
    # Panel 2: each task's own curve with its CI band.
    tax = axes[1][0]
    for i, t in enumerate(tasks):
        shown = [p for p in t.points if p.value is not None]  # a checkpoint with nothing scored has no point
        xs = [t.reference_step] + [p.step for p in shown]
        c = f"C{i % 10}"
        tax.fill_between(xs, [100 * t.reference_ci_low] + [100 * (p.ci_low or 0.0) for p in shown],
                         [100 * t.reference_ci_high] + [100 * (p.ci_high or 0.0) for p in shown], color=c, alpha=0.12)
        tax.plot(xs, [100 * t.reference_value] + [100 * (p.value or 0.0) for p in shown], ".-", color=c,
                 label=_text(f"{t.name} ({t.verdict})"))
    tax.set_ylabel(f"{metric} (%)")
    tax.legend(fontsize=7, loc="best")
    if tokens:
        kax = axes[2][0]
        kax.plot([t.step for t in tokens], [t.reasoning_tokens for t in tokens], "o-", color="C1",
                 label="reasoning tokens / sample")
        kax.plot([t.step for t in tokens], [t.answer_tokens for t in tokens], "s--", color="C4",
                 label="answer tokens / sample")
        kax.set_ylabel("tokens")
        kax.legend(fontsize=7, loc="best")
    axes[-1][0].set_xlabel("training step")
    positive = sorted({x for x in steps if x > 0})
    if positive and positive[-1] / positive[0] >= 50:
        for a in axes[:, 0]:
            a.set_xscale("symlog", linthresh=positive[0])  # spread the early checkpoints out
    return _save(fig, out, f"trajectory_{_filename(s.name)}")
