"""The two exact paths of ``boundaries_near`` against a brute-force shapely oracle.

:func:`zoning.overlay.distance.boundaries_near` measures, per (site, feature) pair within a
distance, the smallest distance between the site (a polygon site's outline) and the feature's
boundary (a line or point feature itself).  It takes one of two paths -- geometry x chunk
candidates pruned by box lower bounds, or one GEOS nearest-neighbour query per (site, feature)
candidate on the feature's own chunk tree -- chosen by an estimate of the work.  Both paths are
run here on every case, and must give the same pairs and the same distances as plain shapely:
``shapely.distance`` between the site and the whole, unsplit boundary of every feature, for
every (site, feature) pair (no index, no pruning).

Sites: rotated rectangles and random-walk lines placed on and around feature boundaries of the
demonstration layers (within the 1 km search radius, inside and outside the features, some
crossing the boundary), and random points searched at 5 km; plus hand-made layers with a shared
edge, a hole, a line and point features, and sites exactly at the search distance.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, MultiPoint, Point, Polygon, box

from zoning.overlay import LayerIndex
from zoning.overlay import distance as D
from zoning.overlay.families import _POLY

LAYERS = ("control_units", "water", "districts", "yangtze_shoreline", "red_line")


def oracle(ix: LayerIndex, edges: np.ndarray, radius: float):
    """Every (site, feature) pair within ``radius`` of the feature's boundary, by brute force."""
    bnd = shapely.boundary(ix.geoms) if ix.family == _POLY else ix.geoms
    d = shapely.distance(edges[:, None], bnd[None, :])
    s, f = np.nonzero(d <= radius)
    return s, f, d[s, f]


def both_paths(ix: LayerIndex, edges: np.ndarray, radius: float):
    """The answer of each path and of ``boundaries_near`` (which picks one)."""
    b = shapely.bounds(edges)
    boxes = shapely.box(b[:, 0] - radius, b[:, 1] - radius, b[:, 2] + radius, b[:, 3] + radius)
    si, fi, _ = D._feature_candidates(ix, edges, radius, boxes)
    return (
        D._near_by_feature(ix, edges, radius, si, fi),
        D._near_by_chunks(ix, edges, radius, boxes, None),
        D.boundaries_near(ix, edges, radius),
    )


def check(ix: LayerIndex, edges: np.ndarray, radius: float) -> int:
    want_s, want_f, want_d = oracle(ix, edges, radius)
    for got in both_paths(ix, edges, radius):
        s, f, d = got
        assert np.array_equal(s, want_s) and np.array_equal(f, want_f)
        # The same GEOS distances, minimum over the same segments: identical, not just close.
        assert np.array_equal(d, want_d), np.max(np.abs(d - want_d))
    return len(want_s)


def rectangles(cx, cy, rng):
    n = len(cx)
    w = rng.uniform(20, 400, n)
    h = w * rng.uniform(1, 3, n)
    a = rng.uniform(0, np.pi, n)
    dx = np.array([-0.5, 0.5, 0.5, -0.5, -0.5])
    dy = np.array([-0.5, -0.5, 0.5, 0.5, -0.5])
    c, s = np.cos(a)[:, None], np.sin(a)[:, None]
    px, py = dx[None, :] * w[:, None], dy[None, :] * h[:, None]
    xs = cx[:, None] + px * c - py * s
    ys = cy[:, None] + px * s + py * c
    return shapely.polygons(shapely.linearrings(np.stack([xs, ys], axis=-1)))


def walks(x0, y0, rng):
    out = []
    for x, y in zip(x0, y0, strict=True):
        k = int(rng.integers(2, 9))
        turn = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0, 0.5, k))
        step = rng.uniform(50, 1500) / k
        out.append(
            LineString(
                np.c_[
                    x + np.r_[0, np.cumsum(step * np.cos(turn))],
                    y + np.r_[0, np.cumsum(step * np.sin(turn))],
                ]
            )
        )
    return np.array(out, dtype=object)


def near_boundaries(ix: LayerIndex, n: int, spread: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """``n`` positions on the features' boundaries, moved up to ``spread`` m in x and y."""
    bnd = shapely.boundary(ix.geoms) if ix.family == _POLY else ix.geoms
    pick = rng.integers(0, ix.n, n)
    at = shapely.line_interpolate_point(bnd[pick], rng.uniform(0, 1, n), normalized=True)
    xy = shapely.get_coordinates(at)
    return xy[:, 0] + rng.uniform(-spread, spread, n), xy[:, 1] + rng.uniform(-spread, spread, n)


@pytest.mark.parametrize("layer_id", LAYERS)
def test_polygon_and_line_sites_near_boundaries(demo_layers, layer_id):
    ix = demo_layers[layer_id].index
    rng = np.random.default_rng(sum(map(ord, layer_id)))
    cx, cy = near_boundaries(ix, 120, 1200.0, rng)
    polys = rectangles(cx, cy, rng)
    lx, ly = near_boundaries(ix, 40, 800.0, rng)
    edges = np.r_[shapely.boundary(polys), walks(lx, ly, rng)]
    assert check(ix, edges, 1000.0) > 20


@pytest.mark.parametrize("layer_id", LAYERS)
def test_points_at_5_km(demo_layers, layer_id):
    ix = demo_layers[layer_id].index
    rng = np.random.default_rng(7 + sum(map(ord, layer_id)))
    x, y = near_boundaries(ix, 150, 6000.0, rng)
    pts = shapely.points(x, y)
    assert check(ix, pts, 5000.0) > 20
    # At 5 km the search meets many chunks of each feature: boundaries_near must take the
    # feature-by-feature path for the dense layers (this is what makes it fast).
    if layer_id in ("control_units", "water"):
        b = shapely.bounds(pts)
        boxes = shapely.box(b[:, 0] - 5e3, b[:, 1] - 5e3, b[:, 2] + 5e3, b[:, 3] + 5e3)
        si, _, work = D._feature_candidates(ix, pts, 5000.0, boxes)
        assert work > D.FEATURE_PATH_CHUNKS * len(si)


# Hand-made layers (metres): two squares sharing an edge, one with a hole, a line, points.
SQ1 = box(0, 0, 1000, 1000)
SQ2 = box(1000, 0, 2000, 1000)
HOLED = Polygon(
    [(3000, 0), (5000, 0), (5000, 2000), (3000, 2000)],
    [[(3500, 500), (4500, 500), (4500, 1500), (3500, 1500)]],
)
LINE = LineString([(0, 3000), (2500, 3100), (6000, 2900)])


@pytest.mark.parametrize(
    ("features", "radius"),
    [
        ([SQ1, SQ2, HOLED], 300.0),
        ([SQ1, SQ2, HOLED], 5000.0),
        ([LINE, LineString([(0, -500), (6000, -400)])], 1000.0),
        ([Point(500, 500), MultiPoint([(1500, 1500), (4000, 1000)]), Point(6000, 0)], 1000.0),
    ],
)
def test_hand_made_layers(features, radius):
    ix = LayerIndex(np.array(features, dtype=object))
    rng = np.random.default_rng(3)
    x = rng.uniform(-1500, 7500, 400)
    y = rng.uniform(-1500, 4500, 400)
    special = [
        Point(-radius, 500),  # exactly at the search distance from SQ1's left edge
        Point(-radius - 1e-6, 500),  # just beyond it
        Point(1000, 500),  # on the shared edge
        Point(4000, 1000),  # inside the hole
        box(900, 400, 1100, 600).boundary,  # across the shared edge
        box(3600, 600, 3700, 700).boundary,  # in the hole
        LineString([(-100, 3000), (6100, 3000)]),  # crossing the line feature
    ]
    edges = np.r_[shapely.points(x, y), rectangles(x[:50], y[:50], rng), special]
    edges[400:450] = shapely.boundary(edges[400:450])
    assert check(ix, edges, radius) > 10


def test_no_candidates_and_empty_input(demo_layers):
    ix = demo_layers["red_line"].index
    far = np.array([Point(0, 0)], dtype=object)  # far from Shanghai in the working CRS
    for s, f, d in both_paths(ix, far, 1000.0):
        assert len(s) == len(f) == len(d) == 0
    s, f, d = D.boundaries_near(ix, np.empty(0, dtype=object), 1000.0)
    assert len(s) == len(f) == len(d) == 0
