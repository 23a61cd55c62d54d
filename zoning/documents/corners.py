"""The corner coordinates (拐点坐标) of a site in CGCS2000: geographic (EPSG:4490) and in the
3-degree Gauss-Krüger zone that contains the site.

CGCS2000 3-degree Gauss-Krüger zone ``n`` has its central meridian at ``3n`` °E.  Its EPSG
code with the zone number written in front of the easting is ``4488 + n`` (zone 40: EPSG:4528,
central meridian 120°E, 118.5–121.5°E; zone 41: EPSG:4529, 123°E), and the "CM" variant
without the zone number ``4509 + n`` (EPSG:4549, EPSG:4550).  Shanghai straddles zones 40 and
41; the zone of a site is the zone of its centroid.  The site's geometry is taken from the
screening (working CRS, true WGS84 positions even for a GCJ-02 input) and transformed by
pyproj; CGCS2000 and WGS84 coordinates agree to within the accuracy pyproj gives them
(it treats the two datums as the same).

Used by the PDF and Word documents; nothing here lays out a page.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

__all__ = ["MAX_CORNERS", "CornerRow", "Corners", "gk_zone", "result_corners", "site_corners"]

#: At most this many vertices are listed; a site with more says how many were left out.
MAX_CORNERS = 60

#: Geographic CGCS2000.
GEOGRAPHIC_EPSG = 4490


def gk_zone(lon: float) -> tuple[int, int, int]:
    """The CGCS2000 3-degree Gauss-Krüger zone containing longitude ``lon``.

    Parameters
    ----------
    lon : float
        Longitude in degrees east.

    Returns
    -------
    (int, int, int)
        ``(zone, epsg, epsg_cm)``: the zone number, the EPSG code with the zone number in
        the easting (4513–4533) and the code of its CM variant (4534–4554).

    Raises
    ------
    ValueError
        Outside the zones 25–45 (75–135 °E) that EPSG defines for CGCS2000.
    """
    zone = math.floor((float(lon) + 1.5) / 3.0)
    if not 25 <= zone <= 45:
        raise ValueError(
            f"longitude {lon:.6f} lies outside the CGCS2000 3-degree Gauss-Krüger zones 25-45"
        )
    return zone, 4488 + zone, 4509 + zone


@dataclass(frozen=True)
class CornerRow:
    """One listed vertex: its label (J1, J2 ...), part, CGCS2000 lon/lat and Gauss-Krüger
    coordinates (``x`` northing, ``y`` easting with the zone number, metres)."""

    label: str
    part: int
    lon: float
    lat: float
    x: float
    y: float


@dataclass(frozen=True)
class Corners:
    """The corner coordinates of a site.

    Attributes
    ----------
    geom_type : str
        ``Point``, ``LineString``, ``Polygon`` or a multi type.
    zone, epsg, epsg_cm, central_meridian
        The Gauss-Krüger zone of the site's centroid, its EPSG code (zone number in the
        easting), the code of its CM variant and the central meridian (°E).
    rows : list of CornerRow
        The listed vertices (at most ``max_corners``).
    n_vertices : int
        The site's distinct vertices (closing vertices of rings not counted).
    n_omitted : int
        Vertices not listed.
    centroid : (float, float)
        The centroid's lon/lat (EPSG:4490).
    """

    geom_type: str
    zone: int
    epsg: int
    epsg_cm: int
    central_meridian: float
    rows: list[CornerRow] = field(default_factory=list)
    n_vertices: int = 0
    n_omitted: int = 0
    centroid: tuple[float, float] = (math.nan, math.nan)

    def texts(self) -> dict[str, tuple[str, str]]:
        """What a document says about these coordinates, ``(zh, en)`` each.

        Returns
        -------
        dict
            ``systems`` (the two systems and their EPSG codes), ``omitted`` (empty when
            every vertex is listed) and ``kind`` (what the listed vertices are).
        """
        systems = (
            f"CGCS2000 地理坐标（EPSG:{GEOGRAPHIC_EPSG}，经度、纬度，度）；"
            f"CGCS2000 3度带高斯-克吕格投影第 {self.zone} 带"
            f"（中央经线 {self.central_meridian:g}°E，EPSG:{self.epsg}，Y 含带号；"
            f"不含带号的同带坐标系为 EPSG:{self.epsg_cm}），X 为北向、Y 为东向，单位米",
            f"CGCS2000 geographic (EPSG:{GEOGRAPHIC_EPSG}, lon/lat in degrees); CGCS2000 3-degree "
            f"Gauss-Krüger zone {self.zone} (central meridian {self.central_meridian:g}°E, "
            f"EPSG:{self.epsg}, Y with the zone number; the same zone without it is "
            f"EPSG:{self.epsg_cm}), X northing, Y easting, metres",
        )
        omitted = ("", "")
        if self.n_omitted:
            omitted = (
                f"共 {self.n_vertices:,} 个拐点，列出前 {len(self.rows):,} 个，"
                f"其余 {self.n_omitted:,} 个未列出（完整几何见 screening.gpkg）。",
                f"{self.n_vertices:,} vertices: the first {len(self.rows):,} are listed, "
                f"{self.n_omitted:,} omitted (the full geometry is in screening.gpkg).",
            )
        if self.geom_type.endswith("Point"):
            kind = ("点位坐标", "point coordinates")
        elif "Line" in self.geom_type:
            kind = ("线路折点坐标", "vertices of the line")
        else:
            kind = (
                "界址拐点坐标（闭合点不重复列出）",
                "boundary vertices (closing vertex not repeated)",
            )
        return {"systems": systems, "omitted": omitted, "kind": kind}


def _parts(geom: Any) -> list[list[tuple[float, float]]]:
    """The vertex sequences of ``geom`` (rings without their closing vertex), part by part."""
    gtype = geom.geom_type
    if gtype.startswith("Multi") or gtype == "GeometryCollection":
        out: list[list[tuple[float, float]]] = []
        for g in geom.geoms:
            out += _parts(g)
        return out
    if gtype == "Polygon":
        rings = [geom.exterior, *geom.interiors]
        return [list(r.coords)[:-1] for r in rings]
    return [list(geom.coords)]


#: Vertices less than this far (degrees, about a millimetre) off a straight edge are not
#: corners.
_STRAIGHT_DEG = 1e-8


def site_corners(geometry: Any, crs: Any, *, max_corners: int = MAX_CORNERS) -> Corners:
    """The corner coordinates of a site.

    Parameters
    ----------
    geometry : shapely geometry
        The site, in ``crs`` (a screening's sites are in its working CRS).
    crs : pyproj.CRS or str
        The CRS of ``geometry``.
    max_corners : int
        At most this many vertices are listed.

    Returns
    -------
    Corners
        The vertices in EPSG:4490 and in the Gauss-Krüger zone of the site's centroid.

    Raises
    ------
    ValueError
        An empty geometry, or a site outside the Gauss-Krüger zones 25-45.
    """
    if geometry is None or geometry.is_empty:
        raise ValueError("the site has no geometry: no corner coordinates")
    to_geo = _transformer(crs, f"EPSG:{GEOGRAPHIC_EPSG}")
    c = geometry.centroid
    clon, clat = to_geo.transform(c.x, c.y)
    zone, epsg, epsg_cm = gk_zone(clon)
    to_gk = _transformer(f"EPSG:{GEOGRAPHIC_EPSG}", f"EPSG:{epsg}")
    geographic = shapely.transform(
        geometry, lambda xy: np.column_stack(to_geo.transform(xy[:, 0], xy[:, 1]))
    )
    # reading a file may add vertices on straight edges (densified for the CRS conversion):
    # the corners are those that turn, by more than a millimetre
    geographic = shapely.simplify(geographic, _STRAIGHT_DEG, preserve_topology=True)
    parts = _parts(geographic)
    n_vertices = sum(len(p) for p in parts)
    rows: list[CornerRow] = []
    k = 0
    for part_no, coords in enumerate(parts, start=1):
        for x0, y0, *_ in coords:
            k += 1
            if len(rows) >= max_corners:
                continue
            lon, lat = x0, y0
            east, north = to_gk.transform(lon, lat)
            rows.append(CornerRow(f"J{k}", part_no, lon, lat, north, east))
    return Corners(
        geom_type=geometry.geom_type,
        zone=zone,
        epsg=epsg,
        epsg_cm=epsg_cm,
        central_meridian=3.0 * zone,
        rows=rows,
        n_vertices=n_vertices,
        n_omitted=max(0, n_vertices - len(rows)),
        centroid=(clon, clat),
    )


def result_corners(result: Any, position: int, *, max_corners: int = MAX_CORNERS) -> Corners:
    """The corner coordinates of the site at ``position`` of a screening.

    Parameters
    ----------
    result : ScreeningResult
    position : int
        The site's row in ``result.sites``.
    max_corners : int
        At most this many vertices are listed.

    Returns
    -------
    Corners
    """
    sites = result.sites
    return site_corners(sites.geometry.iloc[int(position)], sites.crs, max_corners=max_corners)


@functools.lru_cache(maxsize=16)
def _transformer(src: Any, dst: str) -> Any:
    """A pyproj transformer (lon/lat order), made once per pair: making one costs about
    50 ms, more than transforming a site."""
    from pyproj import Transformer

    return Transformer.from_crs(src, dst, always_xy=True)
