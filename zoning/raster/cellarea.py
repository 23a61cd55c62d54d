"""True cell areas of any raster grid, projected or geographic (:class:`_CellAreas`).

Used by :func:`zoning.raster.zonal_stats` to weight the cells it counts; see its Notes.
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pyproj

from .windows import _window_transform

if TYPE_CHECKING:
    from affine import Affine
    from rasterio.windows import Window


# Cell areas: the areal scale is evaluated on a lattice of cell centres this many cells apart (and
# at most _LATTICE_M metres apart) and interpolated bilinearly in between; the scale of a map
# projection varies so slowly that the interpolation error stays below 1e-5.
_LATTICE_STEP = 32
_LATTICE_M = 10_000.0
_PARALLEL_STEP_DEG = 0.01  # geographic cells: their north and south edges densified to this


def _ellipsoid_es(crs: pyproj.CRS) -> tuple[float, float, str]:
    """Semi-major axis (m), squared eccentricity and name of the CRS's ellipsoid (WGS 84 if
    it has none)."""
    ell = crs.ellipsoid
    if ell is None:
        return 6_378_137.0, 0.0066943799901413165, "WGS 84"
    a, b = ell.semi_major_metre, ell.semi_minor_metre
    return a, 1.0 - (b / a) ** 2, ell.name


def _nodes(n: int, step: int) -> np.ndarray:
    """Lattice positions 0, step, 2·step, ... and always the last index n - 1."""
    nodes = np.arange(0, n, step)
    return nodes if nodes[-1] == n - 1 else np.append(nodes, n - 1)


@functools.lru_cache(maxsize=16)
def _linear_weights(n: int, step: int) -> np.ndarray:
    """The (n, nodes) matrix interpolating linearly from lattice nodes (:func:`_nodes`) to
    0..n-1; a bilinear interpolation is then two matrix products."""
    nodes = _nodes(n, step)
    i = np.arange(n)
    k = np.clip(np.searchsorted(nodes, i, side="right") - 1, 0, max(len(nodes) - 2, 0))
    k1 = np.minimum(k + 1, len(nodes) - 1)
    w = (i - nodes[k]) / np.maximum(nodes[k1] - nodes[k], 1)
    weights = np.zeros((n, len(nodes)))
    np.add.at(weights, (i, k), 1 - w)
    np.add.at(weights, (i, k1), w)
    weights.flags.writeable = False
    return weights


class _CellAreas:
    """The true area in m² of each cell of a window, however the raster is projected.

    * projected CRS: the nominal cell area divided by the projection's areal scale factor at
      the cell centre, ``|det J| · (1 - e² sin² φ)² / ((1 - e²) cos φ)`` where ``J`` holds the
      partial derivatives ``∂(x, y)/∂(λ, φ)`` from :meth:`pyproj.Proj.get_factors` and ``e``
      is the eccentricity of the CRS's ellipsoid.  This equals PROJ's own ``areal_scale`` for
      ellipsoidal projections and also corrects those PROJ evaluates on a sphere although
      their coordinates are ellipsoidal (Web Mercator, whose ``areal_scale`` is 0.3 % low in
      Shanghai).  Evaluated on a lattice of cell centres and interpolated (see
      ``_LATTICE_STEP``);
    * geographic CRS, north-up: the geodesic area of one cell per row
      (:meth:`pyproj.Geod.polygon_area_perimeter`, north and south edges along the parallels);
      rotated: the ellipsoid's area element at the cell centres;
    * otherwise, or if PROJ cannot give the scale: the nominal cell area.
    """

    def __init__(self, transform: Affine, crs: pyproj.CRS, height: int, width: int) -> None:
        self.transform = transform
        self.det = abs(transform.a * transform.e - transform.b * transform.d)
        self.nominal: float | None = None  # m² per cell of the grid, before any correction
        self.step = 1
        self._geo_rows = False  # geographic north-up: one geodesic area per row
        self._row_block: tuple[int, np.ndarray] | None = None  # (first row, areas) of a window
        self._func: Any = None
        hz = crs.sub_crs_list[0] if crs.is_compound and crs.sub_crs_list else crs
        unit = hz.axis_info[0].unit_conversion_factor if hz.axis_info else 1.0
        self.a, self.es, ellipsoid = _ellipsoid_es(hz)
        if hz.is_geographic:
            self.deg = math.degrees(unit)  # degrees per CRS unit
            self.geod = hz.get_geod() or pyproj.Geod(ellps="WGS84")
            if transform.b == 0 and transform.d == 0:
                self._geo_rows = True
                self.method = f"geodesic cell area per row (pyproj.Geod, {ellipsoid} ellipsoid)"
            else:
                self._func = self._area_element
                self.method = f"ellipsoidal area element at cell centres ({ellipsoid} ellipsoid)"
            return
        self.nominal = self.det * unit * unit
        if not hz.is_projected:
            self.method = "count x nominal cell area (the CRS is neither projected nor geographic)"
            return
        try:
            self.proj = pyproj.Proj(hz)
            self.to_geo = pyproj.Transformer.from_crs(hz, hz.geodetic_crs, always_xy=True)
            t = transform
            cx = t.a * width / 2 + t.b * height / 2 + t.c
            cy = t.d * width / 2 + t.e * height / 2 + t.f
            probe = self._scaled_area(np.array([cx]), np.array([cy]))
            if not np.isfinite(probe).all():
                raise ValueError("no finite scale factor at the raster's centre")
        except Exception as exc:  # PROJ cannot give the scale: keep the nominal area
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            self.method = f"count x nominal cell area (no scale factor: {first})"
            return
        side_m = math.sqrt(self.nominal) if self.nominal > 0 else _LATTICE_M
        self.step = max(1, min(_LATTICE_STEP, int(_LATTICE_M // side_m)))
        self._func = self._scaled_area
        self.method = (
            "cell area / areal scale factor at cell centres "
            f"(pyproj get_factors, {ellipsoid} ellipsoid)"
        )

    def _scaled_area(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        lon, lat = self.to_geo.transform(xs, ys, errcheck=False)
        f = self.proj.get_factors(lon, lat, errcheck=False)
        det = np.abs(
            np.asarray(f.dx_dlam) * np.asarray(f.dy_dphi)
            - np.asarray(f.dx_dphi) * np.asarray(f.dy_dlam)
        )
        sin2 = np.sin(np.radians(lat)) ** 2
        scale = det * (1 - self.es * sin2) ** 2 / ((1 - self.es) * np.cos(np.radians(lat)))
        with np.errstate(divide="ignore", invalid="ignore"):
            area = self.nominal / scale
        return np.where(np.isfinite(area) & (area > 0), area, np.nan)

    def _area_element(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        phi = np.radians(np.clip(ys * self.deg, -90, 90))
        sin2 = np.sin(phi) ** 2
        per_rad2 = self.a**2 * (1 - self.es) * np.cos(phi) / (1 - self.es * sin2) ** 2
        return self.det * math.radians(self.deg) ** 2 * per_rad2

    def _row_area(self, row: int) -> float:
        t, d = self.transform, self.deg
        lat0, lat1 = (float(np.clip((t.f + t.e * r) * d, -90, 90)) for r in (row, row + 1))
        width = abs(t.a) * d
        n = max(2, math.ceil(width / _PARALLEL_STEP_DEG) + 1)
        lons = np.linspace(0.0, width, n)
        lon = np.concatenate([lons, lons[::-1]])
        lat = np.concatenate([np.full(n, lat0), np.full(n, lat1)])
        area, _ = self.geod.polygon_area_perimeter(lon, lat)
        return abs(area)

    def of(self, window: Window) -> np.ndarray:
        """Cell areas (m²) of ``window``, an array broadcast to its shape."""
        shape = (int(window.height), int(window.width))
        if self._geo_rows:  # windows come row band by row band: keep the current band only
            r0 = int(window.row_off)
            block = self._row_block
            if block is None or block[0] != r0 or len(block[1]) < shape[0]:
                block = (r0, np.array([self._row_area(r0 + i) for i in range(shape[0])]))
                self._row_block = block
            return np.broadcast_to(block[1][: shape[0], None], shape)
        if self._func is None:
            return np.broadcast_to(np.float64(self.nominal), shape)
        grid = self._at_centres(window, self.step)
        if self.step == 1:
            return grid
        if not np.isfinite(grid).all():  # partly outside the projection's domain: every cell
            return self._at_centres(window, 1)
        if np.ptp(grid) <= 1e-9 * grid.max():
            return np.broadcast_to(np.float64(grid.mean()), shape)  # equal-area: one value
        return _linear_weights(shape[0], self.step) @ grid @ _linear_weights(shape[1], self.step).T

    def _at_centres(self, window: Window, step: int) -> np.ndarray:
        """Cell areas at the lattice of cell centres ``step`` cells apart (:func:`_nodes`)."""
        rows, cols = _nodes(int(window.height), step), _nodes(int(window.width), step)
        a, b, c, d, e, f = _window_transform(self.transform, window)[:6]
        cc, rr = np.meshgrid(cols + 0.5, rows + 0.5)
        xs, ys = a * cc + b * rr + c, d * cc + e * rr + f
        return self._func(xs.ravel(), ys.ravel()).reshape(len(rows), len(cols))
