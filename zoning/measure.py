"""Layers measured against zones: unions per kind, areas and lengths inside zones, tolerances.

The layer checks (:mod:`zoning.checks`) and the policy indicators (:mod:`zoning.targets`)
measure the layers through this module, so that an area is computed the same way wherever it
is reported.  Every geometry is in the equal-area working CRS (a Lambert azimuthal equal-area
projection on Shanghai), so planar areas agree with geodesic areas within 0.01 %.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

if TYPE_CHECKING:
    import pandas as pd

    from .layerset import Layer, LayerSet

__all__ = [
    "MEASUREMENT_TOLERANCE",
    "MU_M2",
    "TOTAL_TOLERANCE_KM2",
    "KindUnions",
    "area_m2",
    "length_m",
    "points_inside",
    "union_of",
    "union_of_layers",
]

#: Tolerance on official totals, km²; also the measurement tolerance of area targets.
TOTAL_TOLERANCE_KM2 = 0.05
#: 1 亩 in m² (10000 / 15).
MU_M2 = 10000.0 / 15.0

#: Measurement tolerance per unit, the same the layer checks allow on official totals
#: (0.05 km²): a calibrated 999.997 km² meets "150万亩".
MEASUREMENT_TOLERANCE = {
    "km2": TOTAL_TOLERANCE_KM2,
    "ha": TOTAL_TOLERANCE_KM2 * 100,
    "mu": TOTAL_TOLERANCE_KM2 * 1e6 / MU_M2,
    "m2": TOTAL_TOLERANCE_KM2 * 1e6,
    "percent": 0.005,
    "km": 0.05,
}


def union_of(geoms: Sequence[Any] | np.ndarray) -> shapely.Geometry:
    """The union of some geometries, an empty polygon when there are none.

    Parameters
    ----------
    geoms : sequence of shapely geometries
        In the working CRS.

    Returns
    -------
    shapely.Geometry
        Overlaps counted once.

    Notes
    -----
    One ``shapely.union_all`` call: O(n log n) in the number of vertices.
    """
    return shapely.union_all(np.array(geoms, dtype=object)) if len(geoms) else shapely.Polygon()


def union_of_layers(layers: Iterable[Layer]) -> shapely.Geometry | None:
    """The union of all features of some layers, None when they hold no features.

    Parameters
    ----------
    layers : iterable of Layer
        Layers of one catalog (working CRS).

    Returns
    -------
    shapely.Geometry or None
        The union of the layers' own unions (:meth:`zoning.Layer.union`, cached per layer);
        None when no layer has a feature or the union is empty.
    """
    parts = [layer.union() for layer in layers if len(layer.gdf)]
    if not parts:
        return None
    union = parts[0] if len(parts) == 1 else shapely.union_all(np.array(parts, dtype=object))
    return None if union.is_empty else union


def _clip(geom: shapely.Geometry, zone: shapely.Geometry | None) -> shapely.Geometry:
    return geom if zone is None else shapely.intersection(geom, zone)


def area_m2(geom: shapely.Geometry, zone: shapely.Geometry | None = None) -> float:
    """Area of ``geom`` (the part inside ``zone`` when given), m².

    Parameters
    ----------
    geom : shapely.Geometry
        A geometry in the working CRS.
    zone : shapely.Geometry, optional
        A polygon in the working CRS; None measures all of ``geom``.

    Returns
    -------
    float
        Planar area in the equal-area working CRS.
    """
    return float(shapely.area(_clip(geom, zone)))


def length_m(geom: shapely.Geometry, zone: shapely.Geometry | None = None) -> float:
    """Length of ``geom`` (the part inside ``zone`` when given), m; arguments as :func:`area_m2`.

    Notes
    -----
    Planar length in the working CRS, an equal-area (not equidistant) projection.
    """
    return float(shapely.length(_clip(geom, zone)))


def points_inside(zone: shapely.Geometry, points: np.ndarray) -> np.ndarray:
    """Which points lie inside ``zone``.

    Parameters
    ----------
    zone : shapely.Geometry
        A polygon in the working CRS.
    points : numpy.ndarray of shapely points
        Same CRS.

    Returns
    -------
    numpy.ndarray of bool
        True for a point inside the zone (not on its boundary).

    Notes
    -----
    ``shapely.contains_xy`` on the coordinates: O(points) after the zone is prepared.
    """
    return shapely.contains_xy(zone, shapely.get_x(points), shapely.get_y(points))


class KindUnions:
    """Unions per layer kind of one catalog, computed once; measured inside zones on demand.

    Parameters
    ----------
    ls : LayerSet
        The catalog's layers (working CRS).

    Attributes
    ----------
    ls : LayerSet
    kinds : set of str
        The kinds the catalog lists (whether or not their layers hold features).

    Notes
    -----
    A kind held by one layer shares that layer's cached union (:meth:`zoning.Layer.union`),
    so the layer checks and the indicators measure the same geometry.  Several layers, or a
    row filter, take one ``shapely.union_all`` of the selected features, cached under the
    kind and ``key``.
    """

    def __init__(self, ls: LayerSet):
        self.ls = ls
        self._unions: dict[str, object] = {}
        self.kinds = {e.kind for e in ls.catalog.layers}

    def layers(self, kind: str) -> list[Layer]:
        """The layers of ``kind``, in catalog order."""
        return self.ls.of_kind(kind)

    def union(
        self,
        kind: str,
        where: Callable[[pd.DataFrame], np.ndarray] | None = None,
        key: str = "",
    ) -> shapely.Geometry:
        """The union of the features of ``kind`` (those ``where`` selects), cached.

        Parameters
        ----------
        kind : str
            A layer kind.
        where : callable, optional
            Row filter: a layer's GeoDataFrame -> boolean array.
        key : str
            Cache key of the filter (one key per distinct ``where``).

        Returns
        -------
        shapely.Geometry
            An empty polygon when no feature is selected.
        """
        cache = f"{kind}|{key}"
        layers = self.layers(kind)
        if cache not in self._unions and where is None and len(layers) == 1:
            self._unions[cache] = layers[0].union()  # shared with the layer checks
        if cache not in self._unions:
            geoms = []
            for layer in layers:
                gdf = layer.gdf
                sel = gdf if where is None else gdf[where(gdf)]
                geoms.extend(sel.geometry.to_numpy())
            self._unions[cache] = union_of(geoms)
        return self._unions[cache]

    def area_in(self, kind: str, zone: shapely.Geometry | None, **kw: Any) -> float:
        """Area (m²) of the union of ``kind`` inside ``zone`` (all of it when None).

        Parameters
        ----------
        kind : str
            A layer kind.
        zone : shapely.Geometry or None
            A polygon in the working CRS.
        **kw
            ``where`` and ``key``, as for :meth:`union`.

        Returns
        -------
        float
        """
        return area_m2(self.union(kind, **kw), zone)

    def length_in(self, kind: str, zone: shapely.Geometry | None, **kw: Any) -> float:
        """Length (m) of the union of ``kind`` inside ``zone``; arguments as :meth:`area_in`."""
        return length_m(self.union(kind, **kw), zone)
