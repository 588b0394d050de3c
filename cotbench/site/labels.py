"""Point labels that do not overlap: a greedy, deterministic placement pass in pixel space.

Each label tries positions around its point (right, left, the four diagonals, above, below),
then the same positions farther out (drawn with a leader line); the first one inside the plot
that overlaps no placed label and no marker wins. Points are taken left to right, so the
same input always gives the same picture. A label with no free position is left out: the
point keeps its tooltip and its row in the table beside the chart.

Text widths are estimated per character on the generous side (browsers' fonts differ), so a
placement that is clear here is clear when drawn.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

_NARROW = set("il.,:;'!|()[]{}`")
_SEMI = set("fjrtI1 -/")
_WIDE = set("mwMW@%&")
PAD = 2.0  # pixels kept clear around every label


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: Box) -> bool:
        return self.x0 < other.x1 and other.x0 < self.x1 and self.y0 < other.y1 and other.y0 < self.y1

    def inside(self, width: float, height: float) -> bool:
        return self.x0 >= 0 and self.y0 >= 0 and self.x1 <= width and self.y1 <= height


@dataclass(frozen=True)
class Placement:
    """A label's left edge and vertical centre (draw with align=left, baseline=middle), its box,
    and whether it sits away from its point (then a leader line joins them)."""

    x: float
    y: float
    box: Box
    leader: bool


def char_width(ch: str, font_size: float) -> float:
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return font_size
    if not ch.isascii():
        return 0.8 * font_size
    if ch in _NARROW:
        return 0.36 * font_size
    if ch in _SEMI:
        return 0.5 * font_size
    if ch in _WIDE:
        return 0.95 * font_size
    if ch.isupper():
        return 0.75 * font_size
    return 0.64 * font_size


def text_size(text: str, font_size: float) -> tuple[float, float]:
    """Width and height (pixels) that ``text`` needs at least, with room to spare."""
    return sum(char_width(c, font_size) for c in text), 1.3 * font_size


_DIRECTIONS = ((1, 0), (-1, 0), (1, -1), (1, 1), (-1, -1), (-1, 1), (0, -1), (0, 1))


def _candidate(px: float, py: float, w: float, h: float, dx: int, dy: int, gap: float) -> Box:
    if dx > 0:
        x0 = px + gap
    elif dx < 0:
        x0 = px - gap - w
    else:
        x0 = px - w / 2
    if dy > 0:
        y0 = py + gap
    elif dy < 0:
        y0 = py - gap - h
    else:
        y0 = py - h / 2
    return Box(x0 - PAD, y0 - PAD, x0 + w + PAD, y0 + h + PAD)


def place_labels(points: Sequence[tuple[float, float]], texts: Sequence[str], width: float, height: float,
                 font_size: float = 10.0, marker: float = 6.0, rings: int = 3) -> list[Placement | None]:
    """A placement per point (pixel coordinates, y down), or None where no free position exists."""
    if len(points) != len(texts):
        raise ValueError("one label per point")
    markers = [Box(x - marker, y - marker, x + marker, y + marker) for x, y in points]
    placed: list[Box] = []
    out: list[Placement | None] = [None] * len(points)
    for i in sorted(range(len(points)), key=lambda i: (points[i][0], points[i][1], texts[i])):
        px, py = points[i]
        w, h = text_size(texts[i], font_size)
        for ring in range(1, rings + 1):
            gap = marker + 2 + (ring - 1) * (h + 4)
            hit = next((b for dx, dy in _DIRECTIONS
                        if (b := _candidate(px, py, w, h, dx, dy, gap)).inside(width, height)
                        and not any(b.overlaps(o) for o in placed)
                        and not any(b.overlaps(m) for m in markers)), None)
            if hit is not None:
                placed.append(hit)
                out[i] = Placement(hit.x0 + PAD, (hit.y0 + hit.y1) / 2, hit, leader=ring > 1)
                break
    return out
