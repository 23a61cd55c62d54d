"""Geometry families (polygonal, lineal, puntal) and the dimension of their overlaps."""

from __future__ import annotations

import numpy as np
import shapely

_POLY, _LINE, _POINT = 0, 1, 2
#: Topological dimension of the overlap of a site family (row) with a layer family (column).
_OVERLAP_DIM = np.array([[2, 1, 0], [1, 1, 0], [0, 0, 0]], dtype=np.int8)
_EMPTY_BY_DIM = {
    0: shapely.from_wkt("MULTIPOINT EMPTY"),
    1: shapely.from_wkt("MULTILINESTRING EMPTY"),
    2: shapely.from_wkt("MULTIPOLYGON EMPTY"),
}


def _family(geoms: np.ndarray) -> np.ndarray:
    """0 polygonal, 1 lineal, 2 puntal for every geometry (collections and None: polygonal)."""
    t = shapely.get_type_id(geoms)
    out = np.full(len(geoms), _POLY, dtype=np.int8)
    out[np.isin(t, (1, 2, 5))] = _LINE
    out[np.isin(t, (0, 4))] = _POINT
    return out
