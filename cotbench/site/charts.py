"""Charts as Vega-Lite specs, rendered at build time to sanitised inline SVG (vl-convert).

No script or CDN is needed to view them: the SVG is part of the page. Every chart carries a
title and a description for screen readers, and encodes series by shape, dash or text as
well as colour.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from cotbench.errors import MissingDependencyError
from cotbench.site.sanitize import sanitize_svg

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


def _spec(layers: list[dict[str, Any]], values: list[dict[str, Any]], title: str, **props: Any) -> dict[str, Any]:
    """A layered Vega-Lite spec; written as plain data because building it is then instant."""
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "data": {"values": values},
        "title": title,
        "padding": {"left": 24, "right": 24, "top": 8, "bottom": 8},
        "config": {"font": _FONT, "view": {"stroke": None},
                   "axis": {"labelLimit": 260, "labelFontSize": 11, "titleFontSize": 12}},
        "layer": layers,
        **props,
    }


def interval_bars(key: str, rows: Sequence[dict[str, Any]], title: str, desc: str, category: str,
                  legend: bool = True) -> Chart:
    """Horizontal bars with 95% interval whiskers; ``rows``: label, value, low, high, group.

    Values are not printed on the bars (text layout is the slowest part of rendering); the
    table beside every chart gives them, and each bar's accessible label carries its numbers.
    Without ``legend`` the axis labels alone name the bars (a legend costs half the drawing time).
    """
    values = [
        dict(r, text=f"{r['value']:.3f}", desc=f"{r['label']}: {r['value']:.3f} [{r['low']:.3f}, {r['high']:.3f}]")
        for r in rows
    ]
    y = {"field": "label", "type": "nominal", "sort": [r["label"] for r in rows], "title": None}
    layers: list[dict[str, Any]] = [
        {"mark": {"type": "bar", "height": 14},
         "encoding": {"y": y, "x": {"field": "value", "type": "quantitative", "title": "score (95% interval)",
                                    "scale": {"domain": [0, 1], "clamp": True}},
                      "color": {"field": "group", "type": "nominal", "title": category,
                                "legend": {"orient": "bottom"} if legend else None},
                      "description": {"field": "desc", "type": "nominal"}}},
        {"mark": {"type": "rule", "color": "#222"},
         "encoding": {"y": y, "x": {"field": "low", "type": "quantitative"}, "x2": {"field": "high"}}},
    ]
    spec = _spec(layers, values, title, width=520, height={"step": 20})
    spec["config"]["axisY"] = {"grid": False}  # bars need no horizontal rules
    return Chart(key, spec, title, desc)


PLANE_WIDTH, PLANE_HEIGHT = 620, 420
LABEL_FONT = 10


def _span(values: Sequence[float]) -> tuple[float, float]:
    """An axis domain holding ``values`` and 0, with 6% to spare on each side."""
    lo, hi = min([0.0, *values]), max([0.0, *values])
    pad = (hi - lo) * 0.06 or 0.05
    return lo - pad, hi + pad


def plane(key: str, points: Sequence[dict[str, Any]], title: str, desc: str) -> Chart:
    """Capability-cost plane: x reasoning gain, y safety cost, each with its 95% interval; points
    link to model pages.

    ``points``: label, gain, gain_low, gain_high, cost, cost_low, cost_high, family, href (an
    interval bound may be None). Each point has its family's shape, so colour is never the only
    cue, and its label where :func:`cotbench.site.labels.place_labels` finds room for it. The
    axes have fixed domains, so the placement's pixels are the drawing's.
    """
    from cotbench.site.labels import place_labels

    values = [dict(p, mark=f"pt:{i}") for i, p in enumerate(points)]
    families = sorted({p["family"] for p in points})
    xs = [v for p in points for v in (p["gain"], p.get("gain_low"), p.get("gain_high")) if v is not None]
    ys = [v for p in points for v in (p["cost"], p.get("cost_low"), p.get("cost_high")) if v is not None]
    (x0, x1), (y0, y1) = _span(xs), _span(ys)

    def px(v: float) -> float:
        return (v - x0) / (x1 - x0) * PLANE_WIDTH

    def py(v: float) -> float:
        return PLANE_HEIGHT - (v - y0) / (y1 - y0) * PLANE_HEIGHT

    def data_x(p: float) -> float:
        return x0 + p / PLANE_WIDTH * (x1 - x0)

    def data_y(p: float) -> float:
        return y0 + (PLANE_HEIGHT - p) / PLANE_HEIGHT * (y1 - y0)

    xscale = {"domain": [x0, x1], "nice": False, "zero": False}
    yscale = {"domain": [y0, y1], "nice": False, "zero": False}
    x = {
        "field": "gain",
        "type": "quantitative",
        "title": "reasoning gain (in-domain delta vs reference, 95% interval)",
        "scale": xscale,
    }
    y = {"field": "cost", "type": "quantitative",
         "title": "safety cost (harmful-compliance delta vs reference, 95% interval)", "scale": yscale}
    spots = place_labels([(px(p["gain"]), py(p["cost"])) for p in points], [p["label"] for p in points],
                         PLANE_WIDTH, PLANE_HEIGHT, LABEL_FONT)
    texts, leaders = [], []
    for p, spot in zip(points, spots, strict=True):
        if spot is None:
            continue
        texts.append({"lx": data_x(spot.x), "ly": data_y(spot.y), "text": p["label"]})
        if spot.leader:  # from the point to the nearest point of the label's box
            bx = min(max(px(p["gain"]), spot.box.x0), spot.box.x1)
            by = min(max(py(p["cost"]), spot.box.y0), spot.box.y1)
            leaders.append({"x": p["gain"], "y": p["cost"], "x2": data_x(bx), "y2": data_y(by)})
    zero = {"mark": {"type": "rule", "color": "#999", "strokeDash": [4, 3]}}
    whisker = {"type": "rule", "color": "#555", "opacity": 0.7}
    layers: list[dict[str, Any]] = [
        dict(
            zero, data={"values": [{"v": 0}]}, encoding={"x": {"field": "v", "type": "quantitative", "scale": xscale}}
        ),
        dict(
            zero, data={"values": [{"v": 0}]}, encoding={"y": {"field": "v", "type": "quantitative", "scale": yscale}}
        ),
        {
            "data": {"values": [p for p in values if p.get("gain_low") is not None and p.get("gain_high") is not None]},
            "mark": whisker,
            "encoding": {"x": dict(x, field="gain_low"), "x2": {"field": "gain_high"}, "y": y},
        },
        {
            "data": {"values": [p for p in values if p.get("cost_low") is not None and p.get("cost_high") is not None]},
            "mark": whisker,
            "encoding": {"x": x, "y": dict(y, field="cost_low"), "y2": {"field": "cost_high"}},
        },
        {
            "mark": {"type": "point", "size": 90, "filled": True, "opacity": 0.9},
            "encoding": {
                "x": x,
                "y": y,
                "shape": {
                    "field": "family",
                    "type": "nominal",
                    "legend": {"orient": "bottom"},
                    "scale": {"domain": families, "range": _SHAPES},
                },
                "color": {"field": "family", "type": "nominal", "legend": None},
                "description": {"field": "mark", "type": "nominal"},
            },
        },
    ]
    if leaders:
        layers.append({"data": {"values": leaders}, "mark": {"type": "rule", "color": "#888", "strokeWidth": 0.8},
                       "encoding": {"x": dict(x, field="x"), "y": dict(y, field="y"), "x2": {"field": "x2"},
                                    "y2": {"field": "y2"}}})
    if texts:
        layers.append({"data": {"values": texts},
                       "mark": {"type": "text", "align": "left", "baseline": "middle", "fontSize": LABEL_FONT,
                                "color": "#222"},
                       "encoding": {"x": dict(x, field="lx"), "y": dict(y, field="ly"),
                                    "text": {"field": "text", "type": "nominal"}}})
    links = {f"pt:{i}": (p["href"], f"{p['label']}: gain {_ci_text(p, 'gain')}, safety cost {_ci_text(p, 'cost')}")
             for i, p in enumerate(points)}
    return Chart(key, _spec(layers, values, title, width=PLANE_WIDTH, height=PLANE_HEIGHT), title, desc, links)


def _ci_text(p: dict[str, Any], name: str) -> str:
    low, high = p.get(f"{name}_low"), p.get(f"{name}_high")
    ci = f" [{low:+.3f}, {high:+.3f}]" if low is not None and high is not None else ""
    return f"{p[name]:+.3f}{ci}"


def trajectory(key: str, rows: Sequence[dict[str, Any]], title: str, desc: str) -> Chart:
    """Score per series over training steps; each series has its own dash and marker shape."""
    names = sorted({r["series"] for r in rows})
    dashes = [[1, 0], [6, 3], [2, 2], [8, 3, 2, 3], [1, 3], [10, 2], [4, 4], [12, 3, 3, 3]]
    x = {"field": "step", "type": "quantitative", "title": "training step"}
    y = {"field": "value", "type": "quantitative", "title": "score", "scale": {"zero": False}}
    color = {"field": "series", "type": "nominal", "title": "series", "legend": {"orient": "bottom"}}
    layers: list[dict[str, Any]] = [
        {"mark": "errorbar", "encoding": {"x": x, "y": {"field": "low", "type": "quantitative", "title": "score"},
                                          "y2": {"field": "high"}, "color": color}},
        {"mark": "line", "encoding": {"x": x, "y": y, "color": color, "strokeDash": {
            "field": "series", "type": "nominal", "legend": None,
            "scale": {"domain": names, "range": dashes[: len(names)]}}}},
        {"mark": {"type": "point", "filled": True, "size": 50},
         "encoding": {"x": x, "y": y, "color": color, "description": {"field": "desc", "type": "nominal"},
                      "shape": {"field": "series", "type": "nominal", "legend": None,
                                "scale": {"domain": names, "range": _SHAPES[: len(names)]}}}},
    ]
    return Chart(key, _spec(layers, list(rows), title, width=520, height=260), title, desc)


def dots(key: str, rows: Sequence[dict[str, Any]], title: str, desc: str) -> Chart:
    """Scores of many models at once: x the score, one row per family, a shape per family.

    Used where a bar per model would need hundreds of axis labels; every dot links to its
    model page and carries its label and interval as its tooltip. ``rows``: label, value,
    low, high, group (the family), href.
    """
    families = sorted({r["group"] for r in rows})
    values = [dict(r, mark=f"pt:{i}") for i, r in enumerate(rows)]
    layers = [{"mark": {"type": "point", "filled": True, "size": 60, "opacity": 0.75},
               "encoding": {"x": {"field": "value", "type": "quantitative", "title": "score",
                                  "scale": {"domain": [0, 1]}},
                            "y": {"field": "group", "type": "nominal", "title": "family"},
                            "shape": {"field": "group", "type": "nominal", "legend": None,
                                      "scale": {"domain": families, "range": _SHAPES}},
                            "color": {"field": "group", "type": "nominal", "legend": None},
                            "description": {"field": "mark", "type": "nominal"}}}]
    links = {f"pt:{i}": (r["href"], f"{r['label']}: {r['value']:.3f} [{r['low']:.3f}, {r['high']:.3f}]")
             for i, r in enumerate(rows)}
    return Chart(key, _spec(layers, values, title, width=520, height={"step": 28}), title, desc, links)


def require_renderer() -> None:
    """Fail early, in this process, when the renderer is missing (not later inside a worker)."""
    try:
        import vl_convert  # noqa: F401
    except ImportError:
        raise MissingDependencyError("vl-convert-python", "the leaderboard charts") from None


def render_one(chart: Chart) -> str:
    import vl_convert as vlc

    return sanitize_svg(vlc.vegalite_to_svg(chart.spec), chart.key, chart.title, chart.desc, chart.links)


def render_all(charts: Sequence[Chart]) -> list[str]:
    return [render_one(c) for c in charts]


def submit(pool: Executor, charts: Sequence[Chart], jobs: int) -> list[tuple[list[str], Future[list[str]]]]:
    """Queue charts on ``pool`` in about ``jobs`` batches (vl-convert draws one chart at a time per process)."""
    n = max(1, min(jobs, len(charts)))
    batches = [list(charts[i::n]) for i in range(n)]
    return [([c.key for c in b], pool.submit(render_all, b)) for b in batches if b]


def collect(pending: list[tuple[list[str], Future[list[str]]]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for keys, fut in pending:
        out.update(zip(keys, fut.result(), strict=True))
    return out


_P = ParamSpec("_P")
_T = TypeVar("_T")


class InlineExecutor(Executor):
    """Runs each job at once in this process: for small sites, where starting workers costs more."""

    def submit(self, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> Future[_T]:
        fut: Future[_T] = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - handed to the caller through the future, as a pool would
            fut.set_exception(exc)
        return fut


def new_pool(workers: int) -> Executor:
    """``workers`` processes (spawned: vl-convert's runtime must not be forked), or inline for 0."""
    if workers <= 0:
        return InlineExecutor()
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


def render(charts: Sequence[Chart], workers: int = 0) -> dict[str, str]:
    """Render charts to sanitised SVG, keyed by chart key."""
    with new_pool(workers) as pool:
        return collect(submit(pool, charts, 2 * max(1, workers))) if charts else {}
