"""Geometry and properties for map pages: simplification, precision, property whitelists.

Maps never change what screening measures: every function here returns new arrays and leaves
the layer objects alone, and screening always runs on the unsimplified layers.

- **Coverages** (layers that tile the territory: the control units; the districts together with
  the sea area) are edge-matched with :func:`shapely.coverage_clean` (shapely >= 2.2) and
  simplified with :func:`shapely.coverage_simplify`, which moves shared edges once for both
  neighbours, so simplification (and the rounding below) opens no gaps and makes no overlaps.
  Without ``coverage_simplify`` (shapely < 2.1 or GEOS < 3.12) coverages are written
  unsimplified (larger pages, same picture).
- **Other layers** are simplified one feature at a time with
  ``simplify(tolerance, preserve_topology=True)``: no vertex moves further than the tolerance.
- Both use :data:`TOLERANCE_M` (metres, in the working CRS) — 10 m, below one screen pixel up to
  zoom 13 and about one pixel at zoom 14 — and :data:`BASEMAP_TOLERANCE_M` (50 m) for the built-in
  vector basemap.
- Coordinates are then written in degrees rounded to :data:`PRECISION` decimals (5: about 1 m;
  6 decimals would claim 0.1 m) by snapping to that grid with valid output (GEOS
  ``set_precision``), so rounding cannot leave self-intersections or collapsed rings.
- Only whitelisted properties (:data:`FIELDS`, per kind, in the standard column names the
  catalog maps to) reach a page; every other column of the source stays out.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import shapely

from ..crs import WGS84, WORKING_CRS, from_wgs84_geometries

__all__ = [
    "BASEMAP_TOLERANCE_M",
    "COVERAGE_GROUPS",
    "FIELDS",
    "PRECISION",
    "TOLERANCE_M",
    "display_geometries",
    "has_coverage_simplify",
    "repair_geometries",
    "simplify_coverage",
    "simplify_features",
]

log = logging.getLogger(__name__)

#: Simplification tolerance of the map layers, metres (working CRS).
TOLERANCE_M = 10.0
#: Simplification tolerance of the built-in vector basemap, metres.
BASEMAP_TOLERANCE_M = 50.0
#: Decimals of longitude/latitude written to pages (1e-5 degrees is about 1 m in Shanghai).
PRECISION = 5

#: Kinds whose layers are simplified together as one coverage (they tile the territory).
COVERAGE_GROUPS: tuple[frozenset[str], ...] = (
    frozenset({"control_unit"}),
    frozenset({"district", "sea_area"}),
)

#: Properties a page may show, per kind (standard column names; see ``FieldMap``).
FIELDS: dict[str, tuple[str, ...]] = {
    "red_line": ("name", "name_en", "category", "realm", "district"),
    "development_boundary": ("name", "name_en", "category"),
    "basic_farmland": ("name", "district"),
    "water": ("name", "name_en", "category"),
    "water_source_zone": ("name", "name_en", "level"),
    "nature_reserve": ("name", "name_en", "category", "level"),
    "control_unit": ("unit_code", "name", "name_en", "category", "district"),
    "district": ("name", "name_en"),
    "sea_area": ("name", "name_en"),
    "shoreline": ("name", "name_en"),
    "coastline": ("name", "name_en"),
    "greenway": ("name", "name_en"),
    "population": ("name",),
}
#: The whitelist of kinds not listed in :data:`FIELDS`.
DEFAULT_FIELDS: tuple[str, ...] = ("name", "name_en", "category", "level", "district")


def fields_for(kind: str) -> tuple[str, ...]:
    """The whitelisted properties of a kind.

    Parameters
    ----------
    kind : str
        A layer kind.

    Returns
    -------
    tuple of str
        The kind's entry of :data:`FIELDS`, else :data:`DEFAULT_FIELDS`.
    """
    return FIELDS.get(kind, DEFAULT_FIELDS)


def has_coverage_simplify() -> bool:
    """True when shapely offers ``coverage_simplify`` (shapely >= 2.1 with GEOS >= 3.12)."""
    if not hasattr(shapely, "coverage_simplify"):
        return False
    return shapely.geos_version >= (3, 12, 0)


def simplify_coverage(geoms: Sequence, tolerance_m: float) -> np.ndarray:
    """Simplify polygons that tile an area as one coverage (shared edges move together).

    Parameters
    ----------
    geoms : array of polygons in a metric CRS
        The coverage (neighbours share edges; tiny slivers of the input are kept as they are).
    tolerance_m : float
        Simplification tolerance in the CRS units.

    Returns
    -------
    numpy.ndarray
        New geometries, same order; the input is not modified.  Without ``coverage_simplify``
        the input geometries are returned unsimplified (and that is logged).
    """
    arr = np.asarray(geoms, dtype=object)
    if tolerance_m <= 0 or not len(arr):
        return arr.copy()
    if not has_coverage_simplify():
        log.info("shapely.coverage_simplify is not available: coverage layers are not simplified")
        return arr.copy()
    if hasattr(shapely, "coverage_clean"):
        # Edge-match first: neighbours that share an edge but not its vertices (common after a
        # reprojection or a digitising tool) would otherwise part by up to the rounding of the
        # page's coordinates, opening hairline gaps.  Cleaning snaps vertices by a tiny
        # distance derived from the extent and leaves the areas unchanged (< 1 m² in total on
        # the demonstration control units).
        arr = np.asarray(shapely.coverage_clean(arr), dtype=object)
    return np.asarray(shapely.coverage_simplify(arr, tolerance_m), dtype=object)


def simplify_features(geoms: Sequence, tolerance_m: float) -> np.ndarray:
    """Simplify each geometry on its own, keeping it valid (``preserve_topology=True``).

    Parameters
    ----------
    geoms : array of shapely geometries in a metric CRS
        The features; neighbours may part or overlap after simplification (use
        :func:`simplify_coverage` for layers that tile an area).
    tolerance_m : float
        Simplification tolerance in the CRS units; 0 or less returns a copy unsimplified.

    Returns
    -------
    numpy.ndarray
        New geometries, same order; the input is not modified.
    """
    arr = np.asarray(geoms, dtype=object)
    if tolerance_m <= 0 or not len(arr):
        return arr.copy()
    return np.asarray(shapely.simplify(arr, tolerance_m, preserve_topology=True), dtype=object)


def display_geometries(
    geoms: Sequence,
    *,
    crs=WORKING_CRS,
    shift: str | None = None,
    precision: int = PRECISION,
) -> np.ndarray:
    """Geometries as a page draws them: WGS84 (or GCJ-02), snapped to ``precision`` decimals.

    Parameters
    ----------
    geoms : array of shapely geometries in ``crs``
    crs : the CRS of ``geoms`` (default the working CRS)
    shift : {None, "gcj02"}
        ``"gcj02"`` shifts the result with the WGS84 -> GCJ-02 formulas of :mod:`zoning.crs`,
        for basemaps drawn in GCJ-02 (Gaode).
    precision : int
        Decimals kept (snapping to a 10**-precision degree grid with valid output).

    Returns
    -------
    numpy.ndarray
        New geometries; parts that collapse at this precision become empty geometries (the
        caller drops them).  Z values are dropped.
    """
    import geopandas as gpd

    arr = np.asarray(geoms, dtype=object)
    if not len(arr):
        return arr.copy()
    arr = shapely.force_2d(arr)
    out = gpd.GeoSeries(arr, crs=crs).to_crs(WGS84).to_numpy()
    if shift is not None:
        out = from_wgs84_geometries(out, shift)
    # Reprojection and above all the GCJ-02 shift (a different offset at every vertex) can
    # make a valid polygon invalid where two edges ran within a hair of each other (a clipped
    # coverage): GEOS then refuses to snap it to the grid.  Repair such geometries first.
    out = repair_geometries(out)
    grid = 10.0**-precision
    try:
        return np.asarray(shapely.set_precision(out, grid), dtype=object)
    except shapely.errors.GEOSException:
        return np.asarray([_snap_one(g, grid) for g in out], dtype=object)


def _same_dimension(geom, dim: int):
    """The parts of ``geom`` of dimension ``dim`` (collections opened), as one geometry."""
    parts = []
    stack = [geom]
    while stack:
        g = stack.pop()
        if g is None or g.is_empty:
            continue
        if shapely.get_type_id(g) in (4, 5, 6, 7):
            stack.extend(shapely.get_parts(g)[::-1])
        elif shapely.get_dimensions(g) == dim:
            parts.append(g)
    if not parts:
        return shapely.Polygon() if dim == 2 else shapely.LineString()
    if len(parts) == 1:
        return parts[0]
    make = {0: shapely.multipoints, 1: shapely.multilinestrings, 2: shapely.multipolygons}[dim]
    return make(np.asarray(parts, dtype=object))


def repair_geometries(geoms: Sequence) -> np.ndarray:
    """Invalid geometries made valid, keeping only the parts of their own dimension.

    A polygon that a transformation turned into a bow-tie or a self-touching ring comes back
    as its polygonal part (``make_valid`` may add the lines or points where rings touched;
    they are dropped).  Valid geometries are returned as they are; the input is not modified.
    The number repaired is logged.

    Parameters
    ----------
    geoms : array of shapely geometries
        Any CRS; missing geometries (None) are allowed and kept.

    Returns
    -------
    numpy.ndarray
        A copy of the array, same order, with the invalid geometries replaced.

    Notes
    -----
    One validity test per geometry; ``make_valid`` runs on the invalid ones only.
    """
    arr = np.asarray(geoms, dtype=object).copy()
    if not len(arr):
        return arr
    present = ~shapely.is_missing(arr)
    bad = np.zeros(len(arr), dtype=bool)
    bad[present] = ~shapely.is_valid(arr[present])
    if bad.any():
        dims = shapely.get_dimensions(arr[bad])
        fixed = shapely.make_valid(arr[bad])
        arr[bad] = [_same_dimension(g, int(d)) for g, d in zip(fixed, dims, strict=True)]
        log.info("repaired %d geometries made invalid by reprojection or shift", int(bad.sum()))
    return arr


def _snap_one(geom, grid: float):
    """One geometry snapped to the grid; repaired and snapped again if GEOS refuses it."""
    if geom is None:
        return geom
    try:
        return shapely.set_precision(geom, grid)
    except shapely.errors.GEOSException:
        dim = int(shapely.get_dimensions(geom))
        snapped = shapely.set_precision(geom, grid, mode="pointwise")
        return shapely.set_precision(_same_dimension(shapely.make_valid(snapped), dim), grid)
