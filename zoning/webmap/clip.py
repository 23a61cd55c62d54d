"""Clipping layers to an area for display: a district's map, a screening map's surroundings.

:func:`clip_geometries` keeps only the parts of a feature's own dimension and drops the slivers
of the clip edge, so a neighbour that merely shares a boundary is neither drawn nor counted.
The rule is the measuring one of :func:`zoning.measure.pieces_inside`, which the public site's
district statistics use too: what a district map draws is what its statistics count.
"""

from __future__ import annotations

import numpy as np

from ..measure import SLIVER_LENGTH_M, SLIVER_M2, SLIVER_WIDTH_M, pieces_inside

__all__ = ["CLIP_SLIVER_M", "CLIP_SLIVER_M2", "CLIP_SLIVER_WIDTH_M", "clip_geometries"]


#: A clipped polygon part smaller than this (m²) is a sliver of the clip edge, not a feature
#: (:data:`zoning.measure.SLIVER_M2`, the layer checks' threshold).
CLIP_SLIVER_M2 = SLIVER_M2
#: A clipped polygon part whose mean width (2 x area / perimeter) is under this (m) is a sliver
#: along the clip edge, however long (:data:`zoning.measure.SLIVER_WIDTH_M`).
CLIP_SLIVER_WIDTH_M = SLIVER_WIDTH_M
#: A clipped line part shorter than this (m) is where the line crosses or grazes the clip edge
#: (:data:`zoning.measure.SLIVER_LENGTH_M`).
CLIP_SLIVER_M = SLIVER_LENGTH_M


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
    is dropped, not drawn.  Slivers of the clip edge are dropped too.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
        The features, in the working CRS; not modified.
    clip : shapely.Geometry
        The clip area, same CRS.
    min_area_m2, min_width_m, min_length_m : float
        The sliver thresholds (m², m, m).

    Returns
    -------
    numpy.ndarray of shapely geometries
        One piece per feature (:func:`zoning.measure.pieces_inside`).
    """
    return pieces_inside(
        geoms, clip, min_area_m2=min_area_m2, min_width_m=min_width_m, min_length_m=min_length_m
    )
