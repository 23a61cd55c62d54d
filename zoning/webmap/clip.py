"""Clipping layers to an area for display: a district's map, a screening map's surroundings.

:func:`clip_geometries` keeps only the parts of a feature's own dimension and drops the slivers
of the clip edge, so a neighbour that merely shares a boundary is neither drawn nor counted
(the public site's district statistics use the same rule).
"""

from __future__ import annotations

import numpy as np
import shapely

__all__ = ["CLIP_SLIVER_M", "CLIP_SLIVER_M2", "CLIP_SLIVER_WIDTH_M", "clip_geometries"]


#: A clipped polygon part smaller than this (m²) is a sliver of the clip edge, not a feature
#: (the same threshold as the layer checks' ``SLIVER_M2``).
CLIP_SLIVER_M2 = 10.0
#: A clipped polygon part whose mean width (2 x area / perimeter) is under this (m) is a sliver
#: along the clip edge, however long: two boundaries that agree to a few millimetres.
CLIP_SLIVER_WIDTH_M = 1.0
#: A clipped line part shorter than this (m) is where the line crosses or grazes the clip edge.
CLIP_SLIVER_M = 1.0


def _flat_parts(geom) -> list:
    """The single geometries in ``geom`` (multi-parts and collections opened, recursively)."""
    out = []
    for part in shapely.get_parts(geom):
        if shapely.get_type_id(part) in (4, 5, 6, 7):  # multi-parts and collections
            out.extend(_flat_parts(part))
        elif not part.is_empty:
            out.append(part)
    return out


def _keep_parts(geom, dim: int, min_area_m2: float, min_width_m: float, min_length_m: float):
    """The parts of a clipped piece worth drawing: the feature's own dimension, no slivers."""
    keep = []
    for part in _flat_parts(geom):
        if shapely.get_dimensions(part) != dim:
            continue
        if dim == 2:
            area = part.area
            if area < min_area_m2 or 2.0 * area < min_width_m * part.length:
                continue
        elif dim == 1 and part.length < min_length_m:
            continue
        keep.append(part)
    if not keep:
        return shapely.Polygon()
    if len(keep) == 1:
        return keep[0]
    make = {0: shapely.multipoints, 1: shapely.multilinestrings, 2: shapely.multipolygons}[dim]
    return make(np.asarray(keep, dtype=object))


def clip_geometries(
    geoms: np.ndarray,
    clip,
    *,
    min_area_m2: float = CLIP_SLIVER_M2,
    min_width_m: float = CLIP_SLIVER_WIDTH_M,
    min_length_m: float = CLIP_SLIVER_M,
) -> np.ndarray:
    """Intersect with the clip area (working CRS); features outside become empty.

    Only the parts of a feature's own dimension are kept: a polygon that merely shares an edge
    with the clip area (a neighbouring district, a control unit next door) gives a line, which
    is dropped, not drawn.  Slivers of the clip edge are dropped too: polygon parts under
    ``min_area_m2`` or thinner on average than ``min_width_m`` (neighbours whose boundaries
    agree to a few millimetres leave such slivers, whatever their length), and line parts
    under ``min_length_m``.  A piece is a single geometry when one part is left, else a
    multi-part geometry.  The input is not modified.
    """
    geoms = np.asarray(geoms, dtype=object)
    if not len(geoms):
        return geoms
    hit = shapely.intersects(geoms, clip)
    out = np.full(len(geoms), shapely.Polygon(), dtype=object)
    if hit.any():
        src = geoms[hit]
        cut = np.asarray(shapely.intersection(src, clip), dtype=object)
        dims = shapely.get_dimensions(src)
        for i in range(len(cut)):
            cut[i] = _keep_parts(cut[i], int(dims[i]), min_area_m2, min_width_m, min_length_m)
        out[hit] = cut
    return out
