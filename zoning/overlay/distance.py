"""Lower bounds on distances from boxes: the part boxes of a geometry and a box."""

from __future__ import annotations

import numpy as np
import shapely

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
