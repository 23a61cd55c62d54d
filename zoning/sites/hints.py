"""Which CRS was probably meant, when the sites' coordinates land outside Shanghai.

A Shanghai site plan in CGCS2000 Gauss-Krüger coordinates declared with the neighbouring zone's
code (EPSG:4549 for 4550), with or without the zone prefix, x and y swapped (surveyors write
the northing first), longitude and latitude swapped, degrees declared as metres or metres as
degrees: each puts every site hundreds of kilometres away, where no layer covers it.
:func:`crs_hint` tries the other readings and names the one that puts the most sites (more than
half) inside Shanghai's bounding box (:data:`SHANGHAI_BOX`, the districts and the sea area).

Candidates, in order of preference (the first of equally good ones wins): the same CRS with
the axes swapped; CGCS2000 geographic (EPSG:4490; WGS84 is within a metre of it); the 3-degree
Gauss-Krüger codes (CM variants EPSG:4534-4554, zone-numbered EPSG:4513-4533), then the
6-degree ones (EPSG:4502-4512, EPSG:4491-4501); each also with the axes swapped.  Coordinates
that cannot fit a candidate (a northing outside 3.3-3.6 million metres, an easting without the
candidate's zone prefix) are ruled out before any transformation, so a hint costs a few
milliseconds.  Projected coordinates all within 100 km of 0 get a different hint: they look
like a local grid (the Shanghai city grid has no EPSG code and must be converted first).
"""

from __future__ import annotations

import functools

import numpy as np
import pyproj

from ..crs import WORKING_CRS, transformer

__all__ = ["SHANGHAI_BOX", "crs_hint", "outside_shanghai"]

#: Longitude/latitude box around Shanghai's districts and sea area (with a margin of about 5 km).
SHANGHAI_BOX = (120.8, 30.5, 122.7, 31.95)
#: Gauss-Krüger northings of the box (m; CGCS2000, any zone).
_NORTHING = (3.3e6, 3.6e6)
#: Projected coordinates all within this many metres of 0 look like a local grid (the Shanghai
#: city grid has its origin in the city centre).
_LOCAL_GRID_M = 100_000.0
#: How many sites the candidates are tried on (the first ones).
_SAMPLE = 500
_GK3_CM = tuple(range(4534, 4555))  # zones 25-45, CM 75-135°E, no zone prefix
_GK3_ZONE = tuple(range(4513, 4534))  # zones 25-45, easting prefixed with the zone
_GK6_CM = tuple(range(4502, 4513))  # zones 13-23, CM 75-135°E
_GK6_ZONE = tuple(range(4491, 4502))  # zones 13-23


def _zone(code: int) -> int | None:
    if code in _GK3_ZONE:
        return code - 4488
    if code in _GK6_ZONE:
        return code - 4478
    return None


def _inside(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    x0, y0, x1, y1 = SHANGHAI_BOX
    return (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)


@functools.lru_cache(maxsize=64)
def _to_lonlat(code: int) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(f"EPSG:{code}", "EPSG:4490", always_xy=True)


@functools.lru_cache(maxsize=1)
def _working_box() -> tuple[float, float, float, float]:
    """:data:`SHANGHAI_BOX` in the working CRS: the bounds of its densified outline."""
    x0, y0, x1, y1 = SHANGHAI_BOX
    t = np.linspace(0.0, 1.0, 50)
    lon = np.concatenate([x0 + (x1 - x0) * t, np.full(50, x1), x1 - (x1 - x0) * t, np.full(50, x0)])
    lat = np.concatenate([np.full(50, y0), y0 + (y1 - y0) * t, np.full(50, y1), y1 - (y1 - y0) * t])
    to_work = transformer("EPSG:4490", WORKING_CRS)
    x, y = to_work.transform(lon, lat)
    return float(x.min()), float(y.min()), float(x.max()), float(y.max())


def outside_shanghai(bounds: np.ndarray) -> np.ndarray:
    """Per site: its bounds in the working CRS miss Shanghai's box entirely.

    Parameters
    ----------
    bounds : ndarray, shape (n, 4)
        ``xmin, ymin, xmax, ymax`` of each site in :data:`zoning.WORKING_CRS`.

    Returns
    -------
    ndarray of bool
    """
    x0, y0, x1, y1 = _working_box()
    return (bounds[:, 2] < x0) | (bounds[:, 0] > x1) | (bounds[:, 3] < y0) | (bounds[:, 1] > y1)


def _candidates(code: int | None) -> list[tuple[int, bool]]:
    """(EPSG code, axes swapped) to try, in order of preference, without the given reading."""
    out: list[tuple[int, bool]] = [(code, True)] if code is not None else []
    codes = (4490, *_GK3_CM, *_GK3_ZONE, *_GK6_CM, *_GK6_ZONE)
    out += [(c, False) for c in codes] + [(c, True) for c in codes]
    return [c for c in dict.fromkeys(out) if c != (code, False)]


def _fits(code: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Which coordinates can possibly be in Shanghai read in ``code`` (before transforming)."""
    if code == 4490:
        return _inside(x, y)
    ok = (y >= _NORTHING[0]) & (y <= _NORTHING[1])
    zone = _zone(code)
    if zone is not None:
        return ok & ((x // 1_000_000) == zone)
    return ok & (x > 0) & (x < 1_000_000)


def best_reading(
    x: np.ndarray, y: np.ndarray, code: int | None, geographic: bool
) -> tuple[int, bool] | None:
    """The reading of ``(x, y)`` that puts the most (more than half) of them in Shanghai.

    Parameters
    ----------
    x, y : ndarray
        The coordinates as given (one point per site).
    code : int or None
        The EPSG code they were read in (None: no CRS, or one without a code).
    geographic : bool
        Whether that CRS is geographic.

    Returns
    -------
    (int, bool) or None
        The EPSG code and whether the axes are swapped; None when no reading does better.
    """
    code = 4490 if geographic else code  # any geographic CRS: within metres of CGCS2000 here
    x = np.asarray(x, dtype="float64")[:_SAMPLE]
    y = np.asarray(y, dtype="float64")[:_SAMPLE]
    finite = np.isfinite(x) & np.isfinite(y)
    x, y = x[finite], y[finite]
    if not len(x):
        return None
    best, best_n = None, len(x) // 2
    for cand, swapped in _candidates(code):
        cx, cy = (y, x) if swapped else (x, y)
        fits = _fits(cand, cx, cy)
        if int(fits.sum()) <= best_n:
            continue
        if cand == 4490:
            n = int(fits.sum())
        else:
            lon, lat = _to_lonlat(cand).transform(cx[fits], cy[fits])
            n = int(_inside(np.asarray(lon), np.asarray(lat)).sum())
        if n > best_n:
            best, best_n = (cand, swapped), n
    return best


def crs_hint(x: np.ndarray, y: np.ndarray, code: int | None, geographic: bool) -> str | None:
    """``did you mean EPSG:4550?`` (or ``... with x and y swapped?``), or None.

    Parameters
    ----------
    x, y : ndarray
        The coordinates as given (one point per site).
    code : int or None
        The EPSG code of the CRS they were read in (None: none).
    geographic : bool
        Whether that CRS is geographic.

    Returns
    -------
    str or None
        The words to add to the error, or None when no other reading puts the sites in
        Shanghai.
    """
    found = best_reading(x, y, code, geographic)
    if found is None:
        small = np.abs(np.concatenate([x, y]))
        small = small[np.isfinite(small)]
        if not geographic and len(small) and (small < _LOCAL_GRID_M).all():
            return (
                "the coordinates look like a local grid (such as the Shanghai city grid, which "
                "has no EPSG code): convert them to CGCS2000 (e.g. EPSG:4549) first"
            )
        return None
    cand, swapped = found
    if swapped and geographic and cand == 4490:
        return "longitude and latitude swapped? (swapped, the sites lie in Shanghai)"
    name = "EPSG:4490 (or EPSG:4326)" if cand == 4490 else f"EPSG:{cand}"
    axes = "longitude and latitude" if cand == 4490 else "x and y"
    return f"did you mean {name}{f' with {axes} swapped' if swapped else ''}?"
