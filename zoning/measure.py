"""Layers measured against zones: unions per kind, areas and lengths inside zones, tolerances.

The layer checks (:mod:`zoning.checks`), the policy indicators (:mod:`zoning.targets`) and the
public site's statistics (:mod:`zoning.publish.statistics`) measure the layers through this
module, so that an area is computed the same way wherever it is reported.  The pieces of
features inside a zone (:func:`pieces_inside`, slivers of the zone's edge dropped) are also
what the district maps draw (:mod:`zoning.webmap.clip`).  Every geometry is in the equal-area
working CRS (a Lambert azimuthal equal-area projection on Shanghai), so planar areas agree
with geodesic areas within 0.01 %.
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
    "NEIGHBOUR_MIN_SHARED_M",
    "NEIGHBOUR_SNAP_M",
    "SLIVER_LENGTH_M",
    "SLIVER_M2",
    "SLIVER_WIDTH_M",
    "TOTAL_TOLERANCE_KM2",
    "KindUnions",
    "area_m2",
    "layer_union",
    "length_m",
    "neighbours",
    "pieces_inside",
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


#: Polygon pieces smaller than this (m²) are floating-point slivers, not features: ignored by
#: the layer checks, dropped from the pieces of a layer inside a zone.
SLIVER_M2 = 10.0
#: A polygon piece inside a zone whose mean width (2 x area / perimeter) is under this (m) is
#: a sliver along the zone's edge, however long: two boundaries that agree to a few millimetres.
SLIVER_WIDTH_M = 1.0
#: A line piece inside a zone shorter than this (m) is where the line crosses or grazes the
#: zone's edge.
SLIVER_LENGTH_M = 1.0
#: Zones whose boundaries run side by side for at least this long are neighbours (m).
NEIGHBOUR_MIN_SHARED_M = 200.0
#: Boundaries within this distance of each other (m) run side by side.
NEIGHBOUR_SNAP_M = 30.0


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


def layer_union(layer: Layer) -> shapely.Geometry:
    """The union of a layer's features (:meth:`zoning.Layer.union`, cached), or an empty polygon.

    Parameters
    ----------
    layer : Layer
        In the working CRS.

    Returns
    -------
    shapely.Geometry
        An empty polygon when the layer holds no feature.
    """
    return layer.union() if len(layer.gdf) else shapely.Polygon()


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
    """Length of ``geom`` (the part inside ``zone`` when given), m.

    Parameters
    ----------
    geom : shapely.Geometry
        In the working CRS.
    zone : shapely.Geometry, optional
        Only the part of ``geom`` inside it is measured.

    Returns
    -------
    float

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


def _flat_parts(geom: shapely.Geometry) -> list:
    """The single geometries in ``geom`` (multi-parts and collections opened, recursively)."""
    out = []
    for part in shapely.get_parts(geom):
        if shapely.get_type_id(part) in (4, 5, 6, 7):  # multi-parts and collections
            out.extend(_flat_parts(part))
        elif not part.is_empty:
            out.append(part)
    return out


def _keep_parts(
    geom: shapely.Geometry, dim: int, min_area_m2: float, min_width_m: float, min_length_m: float
) -> shapely.Geometry:
    """The parts of a piece that count: the feature's own dimension, no slivers."""
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


def pieces_inside(
    geoms: np.ndarray,
    zone: shapely.Geometry,
    *,
    min_area_m2: float = SLIVER_M2,
    min_width_m: float = SLIVER_WIDTH_M,
    min_length_m: float = SLIVER_LENGTH_M,
) -> np.ndarray:
    """The piece of each feature inside a zone; features outside give an empty polygon.

    Only the parts of a feature's own dimension are kept: a polygon that merely shares an edge
    with the zone (a neighbouring district, a control unit next door) gives a line, which is
    dropped.  Slivers of the zone's edge are dropped too: polygon parts under ``min_area_m2``
    or thinner on average than ``min_width_m`` (neighbours whose boundaries agree to a few
    millimetres leave such slivers, whatever their length), and line parts under
    ``min_length_m``.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
        The features, in the working CRS; not modified.
    zone : shapely.Geometry
        A polygon in the same CRS.
    min_area_m2, min_width_m, min_length_m : float
        The sliver thresholds (m², m, m).

    Returns
    -------
    numpy.ndarray of shapely geometries
        One piece per feature, in order: a single geometry when one part is left, else a
        multi-part geometry; an empty polygon when nothing is left.

    Notes
    -----
    One vectorised intersects test, then one intersection per feature that meets the zone.
    """
    geoms = np.asarray(geoms, dtype=object)
    if not len(geoms):
        return geoms
    hit = shapely.intersects(geoms, zone)
    out = np.full(len(geoms), shapely.Polygon(), dtype=object)
    if hit.any():
        src = geoms[hit]
        cut = np.asarray(shapely.intersection(src, zone), dtype=object)
        dims = shapely.get_dimensions(src)
        for i in range(len(cut)):
            cut[i] = _keep_parts(cut[i], int(dims[i]), min_area_m2, min_width_m, min_length_m)
        out[hit] = cut
    return out


def neighbours(
    zones: Sequence[Any],
    min_shared_m: float = NEIGHBOUR_MIN_SHARED_M,
    snap_m: float = NEIGHBOUR_SNAP_M,
) -> list[list[int]]:
    """Which zones are next to which: their boundaries run side by side long enough.

    Parameters
    ----------
    zones : sequence of shapely polygons
        In the working CRS.
    min_shared_m : float
        Two zones are neighbours when the boundary of one runs within ``snap_m`` of the other
        for at least this long (m).
    snap_m : float
        How far apart two boundaries may be and still run side by side (m): neighbouring
        polygons digitised separately do not share their vertices.

    Returns
    -------
    list of list of int
        For each zone, the positions of its neighbours, ascending.

    Notes
    -----
    One STRtree query for the pairs within ``snap_m``, then per pair one buffer and one
    boundary intersection.
    """
    if len(zones) < 2:
        return [[] for _ in zones]
    geoms = np.asarray(zones, dtype=object)
    boundaries = shapely.boundary(geoms)
    tree = shapely.STRtree(geoms)
    pairs = tree.query(geoms, predicate="dwithin", distance=snap_m)
    near: dict[int, set[int]] = {i: set() for i in range(len(geoms))}
    for a, b in zip(*pairs, strict=True):
        if a >= b:
            continue
        shared = length_m(boundaries[a], shapely.buffer(geoms[b], snap_m))
        if shared >= min_shared_m:
            near[a].add(b)
            near[b].add(a)
    return [sorted(near[i]) for i in range(len(geoms))]


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
        """The layers of ``kind``, in catalog order.

        Parameters
        ----------
        kind : str

        Returns
        -------
        list of Layer
            Read on first access (:meth:`zoning.LayerSet.of_kind`).
        """
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
        """Length (m) of the union of ``kind`` inside ``zone``.

        Parameters
        ----------
        kind : str
        zone : shapely.Geometry or None
            None measures the whole union.
        **kw
            ``where`` and ``key`` of :meth:`union`.

        Returns
        -------
        float
        """
        return length_m(self.union(kind, **kw), zone)
