"""Charts as Vega-Lite specs (altair), rendered at build time to sanitised inline SVG (vl-convert).

No script or CDN is needed to view them: the SVG is part of the page. Every chart carries a
title and a description for screen readers, and encodes series by shape, dash or text as
well as colour.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from cotbench.errors import MissingDependencyError
from cotbench.site.safety import sanitize_svg

DOMAIN_LABELS = {
    "in_domain": "in-domain (math)",
    "transfer": "transfer",
    "general": "general",
    "safety_harmful": "harmful: refused",
    "safety_benign": "benign: answered",
}
_SHAPES = ["circle", "square", "triangle-up", "diamond", "cross", "triangle-down", "triangle-left", "triangle-right"]
_FONT = "system-ui, sans-serif"


@dataclass
class Chart:
    """A chart to render: its spec plus the accessible text and the links of its marks."""

    key: str  # unique on the site; becomes the SVG id prefix
    spec: dict[str, Any]
    title: str
    desc: str
    links: dict[str, tuple[str, str]] = field(default_factory=dict)


def _alt():  # noqa: ANN202 - altair is an optional heavy import
    try:
        import altair as alt
    except ImportError:
        raise MissingDependencyError("altair", "the leaderboard charts") from None
    return alt


def _finish(chart: Any, title: str) -> dict[str, Any]:
    return (chart.properties(title=title)
            .configure(font=_FONT)
            .configure_view(stroke=None)
            .configure_axis(labelLimit=260, labelFontSize=11, titleFontSize=12)
            .to_dict(validate=False))


def interval_bars(key: str, rows: Sequence[dict[str, Any]], title: str, desc: str, category: str) -> Chart:
    """Horizontal bars with 95% interval whiskers and value labels; ``rows``: label, value, low, high, group."""
    alt = _alt()
    values = [dict(r, text=f"{r['value']:.3f}", desc=f"{r['label']}: {r['value']:.3f} [{r['low']:.3f}, {r['high']:.3f}]")
              for r in rows]
    y = alt.Y("label:N", sort=[r["label"] for r in rows], title=None)
    base = alt.Chart(alt.Data(values=values))
    bars = base.mark_bar(height=14).encode(
        y=y, x=alt.X("value:Q", title="score (95% interval)", scale=alt.Scale(domain=[0, 1], clamp=True)),
        color=alt.Color("group:N", title=category, legend=alt.Legend(orient="bottom")),
        description="desc:N")
    whiskers = base.mark_rule(color="#222").encode(y=y, x="low:Q", x2="high:Q")
    labels = base.mark_text(align="left", dx=4, fontSize=10, color="#222").encode(y=y, x="high:Q", text="text:N")
    chart = (bars + whiskers + labels).properties(width=520, height={"step": 20})
    return Chart(key, _finish(chart, title), title, desc)


def plane(key: str, points: Sequence[dict[str, Any]], title: str, desc: str) -> Chart:
    """Capability-cost plane: x reasoning gain, y safety cost; points link to model pages.

    ``points``: label, gain, cost, family, href. Each point is drawn with its family's shape
    and its model label as text, so colour is never the only cue.
    """
    alt = _alt()
    values = [dict(p, mark=f"pt:{i}") for i, p in enumerate(points)]
    families = sorted({p["family"] for p in points})
    base = alt.Chart(alt.Data(values=values))
    pts = base.mark_point(size=90, filled=True, opacity=0.85).encode(
        x=alt.X("gain:Q", title="reasoning gain (in-domain delta vs reference)"),
        y=alt.Y("cost:Q", title="safety cost (harmful-compliance delta vs reference)"),
        shape=alt.Shape("family:N", scale=alt.Scale(domain=families, range=_SHAPES), legend=alt.Legend(orient="bottom")),
        color=alt.Color("family:N", legend=None),
        description="mark:N")
    text = base.mark_text(align="left", dx=7, dy=-6, fontSize=10, color="#333").encode(x="gain:Q", y="cost:Q", text="label:N")
    zero_x = alt.Chart(alt.Data(values=[{"v": 0}])).mark_rule(color="#999", strokeDash=[4, 3]).encode(x="v:Q")
    zero_y = alt.Chart(alt.Data(values=[{"v": 0}])).mark_rule(color="#999", strokeDash=[4, 3]).encode(y="v:Q")
    chart = (zero_x + zero_y + pts + text).properties(width=620, height=420)
    links = {f"pt:{i}": (p["href"], f"{p['label']}: gain {p['gain']:+.3f}, safety cost {p['cost']:+.3f}")
             for i, p in enumerate(points)}
    return Chart(key, _finish(chart, title), title, desc, links)


def trajectory(key: str, rows: Sequence[dict[str, Any]], title: str, desc: str) -> Chart:
    """Score per domain over training steps; each domain has its own dash and marker shape."""
    alt = _alt()
    domains = sorted({r["series"] for r in rows})
    dashes = [[1, 0], [6, 3], [2, 2], [8, 3, 2, 3], [1, 3]]
    base = alt.Chart(alt.Data(values=rows))
    enc = dict(x=alt.X("step:Q", title="training step"),
               y=alt.Y("value:Q", title="score", scale=alt.Scale(zero=False)),
               color=alt.Color("series:N", title="domain", legend=alt.Legend(orient="bottom")))
    lines = base.mark_line().encode(
        strokeDash=alt.StrokeDash("series:N", scale=alt.Scale(domain=domains, range=dashes[: len(domains)] or [[1, 0]]),
                                  legend=None), **enc)
    band = base.mark_errorbar().encode(x="step:Q", y=alt.Y("low:Q", title="score"), y2="high:Q", color=enc["color"])
    pts = base.mark_point(filled=True, size=50).encode(
        shape=alt.Shape("series:N", scale=alt.Scale(domain=domains, range=_SHAPES[: len(domains)]), legend=None),
        description="desc:N", **enc)
    chart = (band + lines + pts).properties(width=520, height=260)
    return Chart(key, _finish(chart, title), title, desc)


def render(charts: Sequence[Chart], workers: int | None = None) -> dict[str, str]:
    """Render to sanitised SVG, in parallel threads (vl-convert releases the GIL); output order is fixed."""
    try:
        import vl_convert as vlc
    except ImportError:
        raise MissingDependencyError("vl-convert-python", "the leaderboard charts") from None

    def one(c: Chart) -> str:
        return sanitize_svg(vlc.vegalite_to_svg(c.spec), c.key, c.title, c.desc, c.links)

    workers = workers or min(4, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(zip((c.key for c in charts), pool.map(one, charts)))
