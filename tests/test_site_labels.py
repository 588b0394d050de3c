"""The plane's label placement: no overlaps, inside the plot, deterministic (cotbench.site.labels)."""

from __future__ import annotations

import itertools
import random

import pytest

from cotbench.site.labels import Box, place_labels, text_size


def _check(points: list[tuple[float, float]], texts: list[str], w: float = 620, h: float = 420) -> list:
    out = place_labels(points, texts, w, h)
    boxes = [p.box for p in out if p is not None]
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)
    markers = [Box(x - 6, y - 6, x + 6, y + 6) for x, y in points]
    for box in boxes:
        assert box.inside(w, h)
        assert not any(box.overlaps(m) for m in markers)
    return out


def test_a_cluster_of_points_gets_labels_that_never_overlap() -> None:
    rng = random.Random(7)
    points = [(300 + rng.uniform(-40, 40), 200 + rng.uniform(-30, 30)) for _ in range(12)]
    texts = [f"org/model-{i} @ step {100 * i}" for i in range(12)]
    out = _check(points, texts)
    assert sum(p is not None for p in out) >= 6  # most find a place; the rest are left out, not stacked
    assert out == place_labels(points, texts, 620, 420)  # deterministic


def test_coincident_points_and_the_plot_edge() -> None:
    out = _check([(610, 10), (610, 10), (5, 415)], ["right-edge model", "the same spot", "bottom left"])
    assert out[0] is not None and out[0].box.x1 < 610  # to the left of a point at the right edge
    assert out[1] is not None  # the second label of the same spot finds another place (checked: no overlap)
    assert out[2] is not None and out[2].box.y1 < 415  # above a point at the bottom edge


def test_a_label_far_from_its_point_has_a_leader() -> None:
    points = [(300.0, 200.0)] * 9  # one spot: only the first ring's eight places are next to the point
    out = _check(points, [f"label {i}" for i in range(9)])
    assert [p.leader for p in out if p is not None].count(True) >= 1


def test_width_estimates_are_generous() -> None:
    w, h = text_size("MMMM", 10)
    assert w >= 36 and h >= 12
    assert text_size("名前", 10)[0] >= 20
    with pytest.raises(ValueError):
        place_labels([(0, 0)], [], 10, 10)
