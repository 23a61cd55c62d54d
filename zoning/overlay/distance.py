"""Distance queries of a layer index: feature boundaries near or within reach of geometries.

The queries (:func:`boundaries_near`, :func:`boundaries_within`, :func:`features_near`) work on
a :class:`~zoning.overlay.LayerIndex` (its boundary chunks and pieces, and their STRtrees);
:func:`boundaries_near` prunes candidates with lower bounds from boxes (:func:`_part_boxes`,
:func:`_box_lower_bound`).  Distances are in metres in the working CRS.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import shapely

from .pairs import _empty_pairs, _min_per_pair

if TYPE_CHECKING:
    from .index import LayerIndex

#: Part boxes per geometry for the distance lower bound (:func:`_part_boxes`).
_PART_BOXES = 16


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


def boundaries_near(
    ix: LayerIndex,
    geoms: np.ndarray,
    distance: float,
    boxes: np.ndarray | None = None,
    parts: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
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

    Returns
    -------
    geometries, features : arrays of int64
    distances : array of float
        The smallest distance of every pair within ``distance``, sorted by (geometry,
        feature).

    Notes
    -----
    Cost: one STRtree query by widened box; then, per (geometry, feature) pair, the exact
    distance to the chunk whose box is nearest to the geometry's part boxes, and to the
    other chunks only where the boxes leave room for a shorter distance (the box distance
    is a lower bound), so a long line near a dense boundary measures a few chunks, not
    every one within reach.
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
