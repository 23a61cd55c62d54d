"""Distance queries of a layer index: feature boundaries near or within reach of geometries.

The queries (:func:`boundaries_near`, :func:`boundaries_within`, :func:`features_near`) work on
a :class:`~zoning.overlay.LayerIndex` (its boundary chunks and pieces, and their STRtrees).
:func:`boundaries_near` takes one of two exact paths: through the geometry x chunk candidates,
pruned with lower bounds from boxes (:func:`_near_by_chunks`, :func:`_part_boxes`,
:func:`_box_lower_bound`), or -- where a search reaches many chunks of each feature (points
at 5 km) -- one GEOS nearest-neighbour query per (geometry, feature) candidate on the
feature's own chunk tree (:func:`_near_by_feature`, :class:`_FeatureTrees`).  Both give the
minimum of the same GEOS distances.  Distances are in metres in the working CRS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import shapely

from .pairs import _empty_pairs, _min_per_pair

if TYPE_CHECKING:
    from .index import LayerIndex

#: Part boxes per geometry for the distance lower bound (:func:`_part_boxes`).
_PART_BOXES = 16
#: :func:`boundaries_near` queries feature by feature (:func:`_near_by_feature`) when the
#: search is expected to meet more than this many chunks per (geometry, feature) candidate.
#: Measured on the demonstration layers: a GEOS nearest-neighbour query per candidate costs
#: about as much as 4-12 chunk candidates of the other path (points: 4-5, lines: ~12).
FEATURE_PATH_CHUNKS = 8.0


def _part_boxes(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Boxes covering each geometry in at most :data:`_PART_BOXES` pieces: consecutive runs of
    its segments (a geometry without segments -- points -- has its own box).

    Returns ``(boxes, off)``: the boxes (shape (k, 4)) of geometry ``i`` are
    ``boxes[off[i]:off[i + 1]]``.
    """
    n = len(geoms)
    parts, owner = shapely.get_parts(geoms, return_index=True)
    xy, idx = shapely.get_coordinates(parts, return_index=True)
    seg = np.flatnonzero(idx[1:] == idx[:-1])
    site = owner[idx[seg]]
    a, b = xy[seg], xy[seg + 1]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    count = np.bincount(site, minlength=n)
    bare = np.flatnonzero(count == 0)  # points: their own box
    if len(bare):
        bb = shapely.bounds(geoms[bare])
        site = np.r_[site, bare]
        lo = np.r_[lo, bb[:, :2]]
        hi = np.r_[hi, bb[:, 2:]]
        count[bare] = 1
        order = np.argsort(site, kind="stable")
        site, lo, hi = site[order], lo[order], hi[order]
    start = np.cumsum(count) - count
    rank = np.arange(len(site)) - start[site]
    per = np.maximum(1, -(-count // _PART_BOXES))  # segments per box
    group = site * _PART_BOXES + rank // per[site]
    cut = np.r_[0, np.flatnonzero(np.diff(group)) + 1]
    boxes = np.column_stack(
        [
            np.minimum.reduceat(lo[:, 0], cut),
            np.minimum.reduceat(lo[:, 1], cut),
            np.maximum.reduceat(hi[:, 0], cut),
            np.maximum.reduceat(hi[:, 1], cut),
        ]
    ) if len(cut) and len(site) else np.empty((0, 4))  # fmt: skip
    off = np.searchsorted(group[cut] // _PART_BOXES if len(site) else group, np.arange(n + 1))
    return boxes, off


def _box_lower_bound(
    boxes: np.ndarray, off: np.ndarray, rows: np.ndarray, other: np.ndarray
) -> np.ndarray:
    """Per candidate: a lower bound on the distance between geometry ``rows[i]`` (its part
    boxes, see :func:`_part_boxes`) and the box ``other[i]``: the nearest pair of boxes."""
    k = off[rows + 1] - off[rows]
    if len(k) and (k == 1).all():  # one box per geometry (points): no minimum to take
        return _box_distance(boxes[off[rows]], other) * (1 - 1e-12) - 1e-9
    cand = np.repeat(np.arange(len(rows)), k)
    part = np.arange(int(k.sum())) - np.repeat(np.cumsum(k) - k, k) + np.repeat(off[rows], k)
    pb, ob = boxes[part], other[cand]
    dx = np.maximum(0.0, np.maximum(pb[:, 0] - ob[:, 2], ob[:, 0] - pb[:, 2]))
    dy = np.maximum(0.0, np.maximum(pb[:, 1] - ob[:, 3], ob[:, 1] - pb[:, 3]))
    lower = np.full(len(rows), np.inf)
    np.minimum.at(lower, cand, np.hypot(dx, dy))
    # Boxes hold their geometry's coordinates exactly; the slack covers the rounding of the
    # subtraction (far below a micrometre here).
    return lower * (1 - 1e-12) - 1e-9


def _box_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row by row: the distance between boxes ``a`` and ``b`` (shape (k, 4)), 0 where they
    meet."""
    dx = np.maximum(0.0, np.maximum(a[:, 0] - b[:, 2], b[:, 0] - a[:, 2]))
    dy = np.maximum(0.0, np.maximum(a[:, 1] - b[:, 3], b[:, 1] - a[:, 3]))
    return np.hypot(dx, dy)


@dataclass(frozen=True)
class _FeatureTrees:
    """Per feature of a layer: an STRtree over its boundary chunks, and the features' boxes.

    Built from :attr:`LayerIndex.chunks` on first use and kept with the index
    (:func:`_feature_trees`; milliseconds for the demonstration layers).
    """

    #: The features with chunks (positions in the layer), in the order of ``box_tree``.
    features: np.ndarray
    #: Per feature of the layer: its chunks' STRtree (None without chunks).
    trees: list
    #: Per feature of the layer: its number of chunks, and its box (NaN without chunks).
    n_chunks: np.ndarray
    bounds: np.ndarray
    #: An STRtree over the boxes of ``features``.
    box_tree: shapely.STRtree


def _feature_trees(ix: LayerIndex) -> _FeatureTrees:
    """The :class:`_FeatureTrees` of a layer index, built once and kept with it."""
    cached = ix.__dict__.get("_feature_trees")
    if cached is not None and cached.trees is not None and len(cached.trees) == ix.n:
        return cached
    owner = ix.chunk_owner
    order = np.argsort(owner, kind="stable")
    start = np.searchsorted(owner[order], np.arange(ix.n + 1))
    count = np.diff(start)
    chunks = ix.chunks[order]
    trees = [
        shapely.STRtree(chunks[start[f] : start[f + 1]]) if count[f] else None for f in range(ix.n)
    ]
    features = np.flatnonzero(count > 0)
    cb = ix.chunk_bounds[order]
    cut = start[features]
    bounds = np.full((ix.n, 4), np.nan)
    if len(features):
        bounds[features] = np.column_stack(
            [
                np.minimum.reduceat(cb[:, 0], cut),
                np.minimum.reduceat(cb[:, 1], cut),
                np.maximum.reduceat(cb[:, 2], cut),
                np.maximum.reduceat(cb[:, 3], cut),
            ]
        )
    fb = bounds[features]
    box_tree = shapely.STRtree(shapely.box(fb[:, 0], fb[:, 1], fb[:, 2], fb[:, 3]))
    built = _FeatureTrees(features, trees, count, bounds, box_tree)
    ix.__dict__["_feature_trees"] = built
    return built


def _feature_candidates(
    ix: LayerIndex,
    geoms: np.ndarray,
    distance: float,
    boxes: np.ndarray,
    bounds: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """(geometry, feature) pairs whose boxes lie within ``distance`` of each other (a lower
    bound on every distance between them), and the number of chunk candidates the chunk path
    would meet, estimated from how much of each feature's box the widened box covers."""
    ft = _feature_trees(ix)
    si, bi = ft.box_tree.query(boxes)
    fi = ft.features[bi]
    gb = (shapely.bounds(geoms) if bounds is None else bounds)[si]
    fb = ft.bounds[fi]
    keep = _box_distance(gb, fb) * (1 - 1e-12) - 1e-9 <= distance
    si, fi, gb, fb = si[keep], fi[keep], gb[keep], fb[keep]
    share = np.ones(len(si))
    for lo, hi in ((0, 2), (1, 3)):
        span = fb[:, hi] - fb[:, lo]
        meet = np.minimum(fb[:, hi], gb[:, hi] + distance) - np.maximum(
            fb[:, lo], gb[:, lo] - distance
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            share *= np.where(span > 0, np.clip(meet / span, 0.0, 1.0), 1.0)
    return si.astype(np.int64), fi.astype(np.int64), float((ft.n_chunks[fi] * share).sum())


def _near_by_feature(
    ix: LayerIndex, geoms: np.ndarray, distance: float, si: np.ndarray, fi: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`boundaries_near` for the candidate pairs ``(si, fi)``: per feature, one GEOS
    nearest-neighbour query of its candidate geometries on the feature's chunk tree.

    GEOS measures only the chunks its branch-and-bound cannot rule out, and the geometry x
    chunk candidates (millions for 20,000 points at 5 km) are never enumerated.  The distance
    of a pair is the smallest GEOS distance to the feature's chunks, as in
    :func:`_near_by_chunks`.
    """
    trees = _feature_trees(ix).trees
    order = np.argsort(fi, kind="stable")
    si, fi = si[order], fi[order]
    cut = np.searchsorted(fi, np.arange(ix.n + 1))
    out_s, out_f, out_d = [], [], []
    for f in np.flatnonzero(np.diff(cut) > 0):
        s = si[cut[f] : cut[f + 1]]
        (qi, _), d = trees[f].query_nearest(
            geoms[s], max_distance=distance, return_distance=True, all_matches=False
        )
        out_s.append(s[qi])
        out_f.append(np.full(len(qi), f, dtype=np.int64))
        out_d.append(d)
    if not out_s:
        return _min_per_pair(*_empty_pairs(), np.empty(0))
    s, f, d = np.concatenate(out_s), np.concatenate(out_f), np.concatenate(out_d)
    ok = d <= distance
    return _min_per_pair(s[ok], f[ok], d[ok])


def boundaries_near(
    ix: LayerIndex,
    geoms: np.ndarray,
    distance: float,
    boxes: np.ndarray | None = None,
    parts: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    bounds: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(geometry, feature, distance) for feature boundaries within ``distance`` (min per pair).

    For a geometry outside a feature this is the distance to the feature; for one that
    intersects a polygon feature, the distance to its boundary.  Line and point features are
    their own "boundary".  ``distance`` 0 finds the pairs that touch a boundary.

    Parameters
    ----------
    ix : LayerIndex
        The layer's index.
    geoms : array of shapely geometries
        What distances are measured from (for a polygon site: its outline).
    distance : float
        How far to search (m).
    boxes : array of shapely polygons, optional
        The geometries' bounding boxes widened by ``distance``, if built already.
    parts : tuple of arrays, optional
        The boxes of their parts (:func:`~zoning.overlay.distance._part_boxes`) and the row
        of each geometry in them, if built already.
    bounds : array of float, optional
        The geometries' bounding boxes (shape (n, 4)), if computed already.

    Returns
    -------
    geometries, features : arrays of int64
    distances : array of float
        The smallest distance of every pair within ``distance``, sorted by (geometry,
        feature).

    Notes
    -----
    Cost: one STRtree query of the features' boxes, then one of two exact paths, chosen by
    how many chunks of each feature the search is expected to meet
    (:data:`FEATURE_PATH_CHUNKS`).  Few: one STRtree query by widened box against the
    chunks; per (geometry, feature) pair, the exact distance to the chunk whose box is
    nearest to the geometry's part boxes, and to the other chunks only where the boxes leave
    room for a shorter distance (the box distance is a lower bound).  Many (a large radius):
    per (geometry, feature) pair whose boxes lie within ``distance``, one GEOS
    nearest-neighbour query on the feature's own chunk tree.  Either way a pair's distance
    is the smallest GEOS distance between the geometry and the feature's chunks.
    """
    geoms = np.asarray(geoms, dtype=object)
    if distance < 0 or not len(geoms) or not len(ix.chunks):
        return _min_per_pair(*_empty_pairs(), np.empty(0))
    if distance == 0:
        si, ci = ix.chunk_tree.query(geoms, predicate="intersects")
        return _min_per_pair(si, ix.chunk_owner[ci], np.zeros(len(si)))
    if boxes is None:
        b = shapely.bounds(geoms)
        boxes = shapely.box(b[:, 0] - distance, b[:, 1] - distance, b[:, 2] + distance,
                            b[:, 3] + distance)  # fmt: skip
    si, fi, chunk_work = _feature_candidates(ix, geoms, distance, boxes, bounds)
    if chunk_work > FEATURE_PATH_CHUNKS * len(si):
        return _near_by_feature(ix, geoms, distance, si, fi)
    return _near_by_chunks(ix, geoms, distance, boxes, parts)


def _near_by_chunks(
    ix: LayerIndex,
    geoms: np.ndarray,
    distance: float,
    boxes: np.ndarray,
    parts: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`boundaries_near` through the geometry x chunk candidates of the widened boxes:
    per pair, the chunk with the nearest box first, the others only where the box lower
    bound leaves room for a shorter distance."""
    if parts is None:
        pb, off = _part_boxes(geoms)
        rows = np.arange(len(geoms))
    else:
        pb, off, rows = parts
    si, ci = ix.chunk_tree.query(boxes)
    lower = _box_lower_bound(pb, off, rows[si], ix.chunk_bounds[ci])
    keep = lower <= distance
    si, ci, lower = si[keep], ci[keep], lower[keep]
    if not len(si):
        return _min_per_pair(*_empty_pairs(), np.empty(0))
    fi = ix.chunk_owner[ci]
    # Per pair: the chunk with the nearest box first; the others only if they might be
    # nearer than it (and within the distance).
    key = si.astype(np.int64) * np.int64(ix.n) + fi
    order = np.lexsort((lower, key))
    key_o = key[order]
    first = np.r_[True, key_o[1:] != key_o[:-1]]
    lead = order[first]
    d_lead = shapely.distance(geoms[si[lead]], ix.chunks[ci[lead]])
    bound = np.repeat(np.minimum(d_lead, distance), np.diff(np.r_[np.flatnonzero(first),
                                                                  len(order)]))  # fmt: skip
    rest = order[~first & (lower[order] < bound)]
    d_rest = shapely.distance(geoms[si[rest]], ix.chunks[ci[rest]])
    pick = np.r_[lead, rest]
    d = np.r_[d_lead, d_rest]
    ok = d <= distance
    return _min_per_pair(si[pick][ok], fi[pick][ok], d[ok])


def boundaries_within(
    ix: LayerIndex, geoms: np.ndarray, distance: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(geometry, feature, touches) for every feature boundary within ``distance`` of each
    geometry (one distance per geometry), without measuring any distance.

    Parameters
    ----------
    ix : LayerIndex
        The layer's index.
    geoms : array of shapely geometries
    distance : array of float
        One distance (m) per geometry.

    Returns
    -------
    geometries, features : arrays of int64
    touches : array of bool
        The geometry intersects the feature's boundary.  Line and point features are
        their own boundary.  Sorted by (geometry, feature).

    Notes
    -----
    Cost: one STRtree predicate query and one ``intersects`` per (geometry, boundary
    chunk) pair found.
    """
    geoms = np.asarray(geoms, dtype=object)
    distance = np.asarray(distance, dtype=float)
    if not len(geoms) or not len(ix.chunks):
        e = np.empty(0, dtype=np.int64)
        return e, e.copy(), np.zeros(0, dtype=bool)
    if (distance == 0).all():
        si, ci = ix.chunk_tree.query(geoms, predicate="intersects")
        touch = np.ones(len(si), dtype=bool)
    else:
        si, ci = ix.chunk_tree.query(geoms, predicate="dwithin", distance=distance)
        touch = shapely.intersects(geoms[si], ix.chunks[ci])
    if not len(si):
        e = np.empty(0, dtype=np.int64)
        return e, e.copy(), np.zeros(0, dtype=bool)
    si = si.astype(np.int64)
    fi = ix.chunk_owner[ci]
    key = si * (int(fi.max()) + 1) + fi
    order = np.argsort(key, kind="stable")
    key = key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    touches = np.maximum.reduceat(touch[order], starts).astype(bool)
    return si[order][starts], fi[order][starts], touches


def features_near(
    ix: LayerIndex, geoms: np.ndarray, distance: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(geometry, feature, distance to the feature) for features within ``distance``.

    Parameters
    ----------
    ix : LayerIndex
        The layer's index.
    geoms : array of shapely geometries
    distance : float
        How far to search (m).

    Returns
    -------
    geometries, features : arrays of int64
    distances : array of float
        The distance to the feature (not its boundary: a geometry inside a feature gets
        0), smallest per pair, sorted by (geometry, feature).

    Notes
    -----
    Cost: one STRtree ``dwithin`` query against the pieces and one distance per pair.
    """
    geoms = np.asarray(geoms, dtype=object)
    if distance < 0 or not len(geoms) or not ix.n:
        return _min_per_pair(*_empty_pairs(), np.empty(0))
    si, gi = ix.piece_tree.query(geoms, predicate="dwithin", distance=distance)
    d = shapely.distance(geoms[si], ix.pieces[gi])
    return _min_per_pair(si, ix.piece_owner[gi], d)
