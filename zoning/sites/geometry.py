"""Sites' coordinates: which CRS they are in, whether they fit it, and their geometry.

The CRS is the declared one or the source's own, never a guess; coordinates must fit it
(degrees, Gauss-Krüger zone prefixes).  GCJ-02/BD-09 are converted vertex by vertex to WGS84
(the shift is measured per site), geometries are checked and polygons repaired, long edges
densified, and everything projected to the working CRS.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyproj
import shapely

from ..crs import (
    WORKING_CRS,
    ParsedCRS,
    bd09_to_wgs84,
    check_earth_crs,
    gcj02_to_wgs84,
    to_wgs84_geometries,
    transformer,
)
from ..errors import SitesError, quote
from ..io.layer import SEGMENT_DEG, SEGMENT_M, TYPE_NAMES, drop_empty_parts
from ..io.layer import polygonal as polygonal_part
from ..io.vector import gk_zone, is_gk_cm
from .hints import crs_hint, outside_shanghai
from .raw import _Raw, _RowsError, _Where

__all__ = ["BD09_UNCERTAINTY_M", "GCJ02_UNCERTAINTY_M"]

#: Assumed positional uncertainty (m) of a site entered in GCJ-02 (Amap, Tencent).  This is an
#: assumption, not a measurement: the published GCJ-02 formulas reproduce the official (secret)
#: shift to within a few metres, and a point picked on a web map and copied is rarely better
#: than a few metres either; 10 m covers both.
GCJ02_UNCERTAINTY_M = 10.0
#: Assumed positional uncertainty (m) of a site entered in BD-09 (Baidu).  An assumption, stated
#: as such: BD-09 adds Baidu's own published (approximate) shift on top of GCJ-02, and Baidu's
#: coordinate picker is coarser; 20 m covers the GCJ-02 budget twice over.
BD09_UNCERTAINTY_M = 20.0
_UNCERTAINTY = {"gcj02": GCJ02_UNCERTAINTY_M, "bd09": BD09_UNCERTAINTY_M}
_TO_WGS84 = {"gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}
#: The CRS choices named when longitude/latitude come without one.
_LONLAT_CHOICES = (
    "crs= / --crs: EPSG:4326 for GPS/WGS84 coordinates, gcj02 for coordinates copied from "
    "Amap or Tencent maps, bd09 for Baidu maps (EPSG:4490 for CGCS2000)"
)
#: Broad box around Shanghai (lon/lat); sites outside it are noted, not refused.
_SHANGHAI_REGION = (119.0, 29.5, 124.5, 33.0)
_GEOD = pyproj.Geod(ellps="WGS84")


def _resolve_crs(raw: _Raw, declared: ParsedCRS | None) -> _InputCRS:
    """The CRS of the given coordinates: declared, or the source's own; never a guess."""
    name = raw.where.name
    if declared is not None:
        if raw.own_crs is not None:
            if declared.pseudo is not None:
                # Web-map coordinates are routinely mislabelled WGS84: the declaration wins, but
                # only over a geographic label (as for catalog layers, zoning.io).
                if not raw.own_crs.is_geographic:
                    raise SitesError(
                        f"{name}: declared {declared.label}, but its own CRS is the projected "
                        f"{raw.own_label}; drop the declared crs or fix the file"
                    )
                raw.notes.append(f"labelled {raw.own_label}; declared {declared.label} used")
            elif not raw.own_crs.equals(declared.crs, ignore_axis_order=True):
                raise SitesError(
                    f"{name}: declared crs {declared.label} contradicts its own CRS "
                    f"{raw.own_label}; drop the declared crs or fix the file"
                )
        elif raw.own_unusable:
            raw.notes.append(f"its own CRS is {raw.own_unusable}; declared {declared.label} used")
        if raw.lonlat and not declared.crs.is_geographic:
            how = (
                "name the columns x/y for projected coordinates"
                if raw.table is not None
                else "points are longitude,latitude; give projected coordinates as WKT "
                "(wkt= / --wkt 'POINT (x y)')"
            )
            raise SitesError(
                f"{name}: longitude/latitude given, but the declared crs {declared.label} is "
                f"projected; {how}"
            )
        return _InputCRS(declared.crs, declared.pseudo, declared.label)
    if raw.own_crs is not None:
        label = raw.own_label or raw.own_crs.to_string()
        check_earth_crs(raw.own_crs, what=name, shown=quote(label))
        return _InputCRS(raw.own_crs, None, label)
    if raw.lonlat:
        # Longitude/latitude without a datum: the same numbers are WGS84 from a GPS, GCJ-02
        # from Amap or Tencent, BD-09 from Baidu -- 300-600 m apart in Shanghai, so no guess.
        subject = f" ({raw.crs_subject})" if raw.crs_subject else ""
        raise SitesError(
            f"{name}{subject}: longitude/latitude with no CRS and none declared; declare "
            f"which with {_LONLAT_CHOICES}"
        )
    subject = f" ({raw.crs_subject})" if raw.crs_subject and raw.crs_subject != name else ""
    what = f"only {raw.own_unusable}, no usable CRS," if raw.own_unusable else "no CRS"
    if raw.xy is not None:
        centres = np.column_stack([*raw.xy, *raw.xy])
    else:
        centres = shapely.bounds(np.asarray(raw.geoms, dtype=object))
    raise SitesError(
        f"{name}{subject}: {what} and none declared; declare one with crs= / --crs "
        f"(e.g. EPSG:4326, EPSG:4490, EPSG:4549, gcj02 or bd09){_hint(centres, None)}"
    )


#: Projected coordinates beyond this many metres are no place on Earth (false eastings with
#: zone prefixes stay below 1e8).
_MAX_PROJECTED_M = 1e9


def _vertex(geoms: np.ndarray | None, i: int, bad: Callable[[np.ndarray, np.ndarray], np.ndarray]):
    """``(" vertex K", x, y)``: the first vertex of site ``i`` for which ``bad(x, y)`` holds.

    ``K`` counts from 1 along the geometry's coordinates; for a point (one vertex) the word
    is left out.  Without geometries (point sites), None.
    """
    if geoms is None:
        return None
    xy = shapely.get_coordinates(geoms[i])
    hits = np.flatnonzero(bad(xy[:, 0], xy[:, 1]))
    if not len(hits):
        return None
    k = int(hits[0])
    return ("" if len(xy) == 1 else f" vertex {k + 1}"), float(xy[k, 0]), float(xy[k, 1])


def _first_bad(
    bounds: np.ndarray,
    geoms: np.ndarray | None,
    rows: np.ndarray,
    bad: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> tuple[int, str, float, float]:
    """``(row, " vertex K", x, y)`` of the first row flagged in ``rows``, naming its bad vertex.

    Without geometries (or if no single vertex is bad), the row's lower-left bounds.
    """
    i = int(np.flatnonzero(rows)[0])
    found = _vertex(geoms, i, bad)
    if found is None:
        return i, "", float(bounds[i, 0]), float(bounds[i, 1])
    return (i, *found)


def _check_extent(
    bounds: np.ndarray, crs: pyproj.CRS, label: str, where: _Where, geoms: np.ndarray | None = None
) -> None:
    """Coordinates must fit the CRS (labelled ``label``); the first row that does not is named,
    with its first bad vertex (index and value) when ``geoms`` are given."""
    xmin, ymin, xmax, ymax = bounds.T
    finite = np.isfinite(bounds).all(axis=1)
    if not finite.all():
        i, vertex, x, y = _first_bad(
            bounds, geoms, ~finite, lambda x, y: ~(np.isfinite(x) & np.isfinite(y))
        )
        raise SitesError(
            f"{where.row(i)}:{vertex} ({x:.6g}, {y:.6g}): coordinates are not finite numbers"
        )
    if crs.is_geographic:
        bad_lat = (ymin < -90) | (ymax > 90)
        bad_lon = (xmin < -180) | (xmax > 180)
        if (bad_lat | bad_lon).any():
            hint = _hint(bounds, crs)
            if hint:  # another reading of every site's coordinates: the whole input's error
                i, vertex, x, y = _first_bad(
                    bounds,
                    geoms,
                    bad_lat | bad_lon,
                    lambda x, y: (np.abs(x) > 180) | (np.abs(y) > 90),
                )
                raise SitesError(
                    f"{where.row(i)}:{vertex} ({x:.6g}, {y:.6g}) is not a longitude/latitude "
                    f"in {label}{hint}"
                )

            def message(i: int) -> str:
                only = np.zeros(len(bounds), dtype=bool)
                only[i] = True
                _, vertex, x, y = _first_bad(
                    bounds, geoms, only, lambda x, y: (np.abs(x) > 180) | (np.abs(y) > 90)
                )
                hint = ""
                if abs(y) > 90 and abs(x) <= 90:
                    hint = " (longitude and latitude swapped?)"
                elif abs(x) > 1000 or abs(y) > 1000:
                    hint = " (projected coordinates? declare their CRS, e.g. EPSG:4549)"
                return (
                    f"{where.row(i)}:{vertex} ({x:.6g}, {y:.6g}) is not a longitude/latitude "
                    f"in {label}{hint}"
                )

            raise _RowsError.at(np.flatnonzero(bad_lat | bad_lon), "coordinates", message)
        return
    huge = (np.abs(bounds) > _MAX_PROJECTED_M).any(axis=1)
    if huge.any():
        i, vertex, x, y = _first_bad(
            bounds,
            geoms,
            huge,
            lambda x, y: (np.abs(x) > _MAX_PROJECTED_M) | (np.abs(y) > _MAX_PROJECTED_M),
        )
        raise SitesError(
            f"{where.row(i)}:{vertex} ({x:.6g}, {y:.6g}) is beyond any place on Earth in "
            f"{label} (metres)"
        )
    looks_degrees = (np.abs(bounds[:, [0, 2]]) <= 180).all() and (
        np.abs(bounds[:, [1, 3]]) <= 90
    ).all()
    if len(bounds) and looks_degrees:
        raise SitesError(
            f"{where.row(0)}: ({xmin[0]:.6g}, {ymin[0]:.6g}) looks like longitude/latitude, "
            f"but {label} is projected (metres); declare the geographic CRS{_hint(bounds, crs)}"
        )
    code = _crs_identity(crs.to_wkt())[1]
    zone = gk_zone(code)
    if zone is not None:
        bad = ((xmin // 1_000_000) != zone) | ((xmax // 1_000_000) != zone)
        if bad.any():
            i, vertex, x, _ = _first_bad(bounds, geoms, bad, lambda x, y: (x // 1_000_000) != zone)
            hint = _hint(bounds, crs) or (
                "; check the zone, or use the 'CM' code if the eastings have no prefix"
            )
            raise SitesError(
                f"{where.row(i)}:{vertex} easting {x:.0f} m does not carry the zone prefix "
                f"{zone} that {label} expects{hint}"
            )
    elif is_gk_cm(code):
        bad = xmax > 1_000_000
        if bad.any():
            i, vertex, x, _ = _first_bad(bounds, geoms, bad, lambda x, y: x > 1_000_000)
            hint = _hint(bounds, crs) or "; use the matching 'zone' code"
            raise SitesError(
                f"{where.row(i)}:{vertex} easting {x:.0f} m carries a zone prefix, but {label} "
                f"is a Gauss-Krüger 'CM' CRS without one{hint}"
            )


def _hint(bounds: np.ndarray, crs: pyproj.CRS | None) -> str:
    """``"; did you mean EPSG:4550?"`` when another reading of the sites' centres (their bounds'
    middles) puts them in Shanghai (:mod:`zoning.sites.hints`), else ``""``."""
    if not len(bounds):
        return ""
    code = _crs_identity(crs.to_wkt())[1] if crs is not None else None
    x, y = (bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2
    words = crs_hint(x, y, code, crs is not None and crs.is_geographic)
    return f"; {words}" if words else ""


def _check_whereabouts(
    work_bounds: np.ndarray, given_bounds: np.ndarray, given: _InputCRS, raw: _Raw
) -> None:
    """Every site outside Shanghai, and another reading of the coordinates puts them inside:
    an error saying which (``did you mean EPSG:4550?``).  Otherwise nothing (sites elsewhere
    are only noted, by :func:`_region_note` or the coverage check)."""
    if not len(work_bounds) or not outside_shanghai(work_bounds).all():
        return
    hint = _hint(given_bounds, given.crs)
    if not hint:
        return
    b = work_bounds[0]
    lon, lat = transformer(WORKING_CRS, "EPSG:4326").transform((b[0] + b[2]) / 2, (b[1] + b[3]) / 2)
    whose = "its own CRS " if raw.own_crs is not None else ""
    fix = ""
    if "did you mean" in hint:
        fix = (
            "; if the file's CRS is wrong, fix it (a Shapefile's .prj)"
            if raw.own_crs is not None
            else " (declare it with crs= / --crs)"
        )
    raise SitesError(
        f"{raw.where.name}: every site lies outside Shanghai read in {whose}{given.label} "
        f"({raw.where.row(0)} falls at {lon:.3f}°E {lat:.3f}°N){hint}{fix}"
    )


@functools.lru_cache(maxsize=64)
def _crs_identity(wkt: str) -> tuple[tuple[str, str] | None, int | None]:
    """``(crs.to_authority(), crs.to_epsg())`` of the CRS with this WKT, computed once.

    PROJ searches its whole database for a CRS it cannot name (0.1-0.3 s each for the working
    CRS itself), so the answer is cached per CRS definition.
    """
    crs = pyproj.CRS.from_wkt(wkt)
    return crs.to_authority(), crs.to_epsg()


def _crs_label(crs: pyproj.CRS) -> str:
    auth = _crs_identity(crs.to_wkt())[0]
    return f"{auth[0]}:{auth[1]}" if auth else crs.name


def _is_working_crs(crs: pyproj.CRS, pseudo: str | None) -> bool:
    """The coordinates are already in the working CRS (nothing to convert or project)."""
    return pseudo is None and crs == WORKING_CRS


def _region_note(lon: np.ndarray, lat: np.ndarray, notes: list[str]) -> None:
    x0, y0, x1, y1 = _SHANGHAI_REGION
    outside = (lon < x0) | (lon > x1) | (lat < y0) | (lat > y1)
    if outside.any():
        notes.append(
            f"{int(outside.sum())} site(s) lie outside the Shanghai region "
            "(lon 119-124.5, lat 29.5-33): check the coordinates"
        )


def _transformer(crs: pyproj.CRS) -> pyproj.Transformer:
    """The transformer from ``crs`` to the working CRS (built once per CRS, then reused)."""
    return transformer(crs, WORKING_CRS)


@dataclass(frozen=True)
class _InputCRS:
    """The CRS the given coordinates are in: the CRS, the pseudo-CRS converted, the label."""

    crs: pyproj.CRS
    pseudo: str | None  # "gcj02" / "bd09" (converted to WGS84 first), or None
    label: str

    @property
    def is_working(self) -> bool:
        """The coordinates are already in the working CRS (nothing to convert or project)."""
        return _is_working_crs(self.crs, self.pseudo)


def _point_sites(raw: _Raw, given: _InputCRS, notes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Point sites from coordinate arrays, without a Python loop: (geometries, datum shift)."""
    assert raw.xy is not None
    x, y = raw.xy
    crs, pseudo = given.crs, given.pseudo
    given_bounds = np.column_stack([x, y, x, y])
    _check_extent(given_bounds, crs, given.label, raw.where)
    shift = np.zeros(len(x))
    if pseudo is not None:
        lon, lat = _TO_WGS84[pseudo](x, y)
        shift = np.asarray(_GEOD.inv(x, y, lon, lat)[2], dtype="float64")
        x, y = lon, lat
    if crs.is_geographic:
        _region_note(x, y, notes)
    if given.is_working:
        X, Y = x, y
    else:
        X, Y = _transformer(crs).transform(x, y)
        bad = ~(np.isfinite(X) & np.isfinite(Y))
        if bad.any():
            _cannot_transform(raw.where, int(np.flatnonzero(bad)[0]), crs)
    _check_whereabouts(np.column_stack([X, Y, X, Y]), given_bounds, given, raw)
    return shapely.points(X, Y), shift


def _geometry_sites(raw: _Raw, given: _InputCRS, notes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Sites from shapely geometries: checks, repairs, conversion, densify, project."""
    assert raw.geoms is not None
    geoms, types = _checked_geometries(raw.geoms, raw.where, notes)
    given_bounds = shapely.bounds(geoms)
    _check_extent(given_bounds, given.crs, given.label, raw.where, geoms)
    others = ~np.isin(types, (0, 4))  # not points
    geoms = _repair_polygons(geoms, types, others, raw.where, notes)
    geoms, shift = _from_pseudo(geoms, given.pseudo)
    if given.crs.is_geographic:
        rep = shapely.point_on_surface(geoms) if others.any() else geoms
        _region_note(shapely.get_x(rep), shapely.get_y(rep), notes)
    if not given.is_working:
        # (In the working CRS already, nothing is densified or projected: the geometries are
        # immutable, so the caller's objects are shared, not copied.)
        geoms = _projected(geoms, others, given.crs, raw.where)
    _check_whereabouts(shapely.bounds(geoms), given_bounds, given, raw)
    return geoms, shift


def _checked_geometries(
    values: np.ndarray, where: _Where, notes: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Every site has one geometry, not a collection: (2-D geometries, their type ids).

    Empty parts are removed, rings become lines and Z is dropped (each noted); the type ids
    are those given (a ring is still 2).
    """
    geoms = np.asarray(values, dtype=object)
    # Empty members of Multi* geometries are dropped first (GEOS crashes on them), and named.
    geoms, emptied = drop_empty_parts(geoms)
    if emptied.any():
        notes.append(
            f"empty parts removed from multi-part geometries: {where.rows(np.flatnonzero(emptied))}"
        )
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        pos = np.flatnonzero(missing)
        message = f"{where.located(pos)}: no geometry (null or empty); every site needs one"
        raise _RowsError.at(
            pos,
            "geometry",
            lambda i: (
                message
                if i == pos[0]
                else f"{where.row(i)}: no geometry (null or empty); every site needs one"
            ),
        )
    types = shapely.get_type_id(geoms)
    collections = types == 7
    if collections.any():
        pos = np.flatnonzero(collections)
        what = (
            "a GeometryCollection is not a site; split it into separate sites or use a Multi* "
            "geometry"
        )
        raise _RowsError.at(
            pos,
            "geometry",
            lambda i: f"{where.located(pos)}: {what}" if i == pos[0] else f"{where.row(i)}: {what}",
        )
    ring = types == 2
    if ring.any():
        geoms = geoms.copy()
        geoms[ring] = shapely.linestrings([shapely.get_coordinates(g) for g in geoms[ring]])
    if shapely.has_z(geoms).any():
        geoms = shapely.force_2d(geoms)
        notes.append("Z coordinates dropped")
    return geoms, types


def _repair_polygons(
    geoms: np.ndarray, types: np.ndarray, others: np.ndarray, where: _Where, notes: list[str]
) -> np.ndarray:
    """Invalid polygons repaired with ``make_valid`` (and noted); an invalid line is an error."""
    if not others.any():
        return geoms
    polygonal = np.isin(types, (3, 6))
    invalid = np.zeros(len(geoms), dtype=bool)
    invalid[others] = ~shapely.is_valid(geoms[others])
    lines = invalid & ~polygonal
    if lines.any():
        i = int(np.flatnonzero(lines)[0])
        reason = shapely.is_valid_reason(geoms[i])
        raise SitesError(f"{where.row(i)}: invalid {TYPE_NAMES[types[i]]} ({reason})")
    if invalid.any():
        pos = np.flatnonzero(invalid)
        geoms = geoms.copy()
        fixed = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
        fixed = np.array([polygonal_part(g) for g in fixed], dtype=object)
        gone = shapely.is_missing(fixed)
        if gone.any():
            i = int(pos[np.flatnonzero(gone)[0]])
            raise SitesError(
                f"{where.row(i)}: the polygon has no area left after repair (degenerate)"
            )
        geoms[invalid] = fixed
        notes.append(f"invalid polygons repaired (make_valid): {where.rows(pos)}")
    return geoms


def _from_pseudo(geoms: np.ndarray, pseudo: str | None) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02/BD-09 geometries converted to WGS84, and each site's shift (m) measured at its
    representative point; other geometries unchanged, shift 0."""
    shift = np.zeros(len(geoms))
    if pseudo is None:
        return geoms, shift
    rep = shapely.point_on_surface(geoms)
    lon0, lat0 = shapely.get_x(rep), shapely.get_y(rep)
    lon1, lat1 = _TO_WGS84[pseudo](lon0, lat0)
    shift = np.asarray(_GEOD.inv(lon0, lat0, lon1, lat1)[2], dtype="float64")
    return to_wgs84_geometries(geoms, pseudo), shift


def _projected(geoms: np.ndarray, others: np.ndarray, crs: pyproj.CRS, where: _Where) -> np.ndarray:
    """Geometries densified (all but points) and projected from ``crs`` to the working CRS."""
    if others.any():
        # Densify long edges before projecting: a straight edge in the source CRS is curved in
        # the working CRS (as zoning.io does for layers).
        geoms = geoms.copy()
        geoms[others] = shapely.segmentize(
            geoms[others], SEGMENT_DEG if crs.is_geographic else SEGMENT_M
        )
    t = _transformer(crs)
    projected = shapely.transform(geoms, lambda c: np.column_stack(t.transform(c[:, 0], c[:, 1])))
    finite = np.isfinite(shapely.bounds(projected)).all(axis=1)
    if not finite.all():
        _cannot_transform(where, int(np.flatnonzero(~finite)[0]), crs)
    return projected


def _cannot_transform(where: _Where, i: int, crs: pyproj.CRS) -> None:
    raise SitesError(
        f"{where.row(i)}: cannot be transformed from {_crs_label(crs)} to the working CRS"
    )
