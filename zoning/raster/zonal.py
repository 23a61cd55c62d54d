"""Zonal statistics of a raster by window: :func:`zonal_stats`.

Any raster is summarised by control unit, district, catalog layer or a GeoDataFrame of zones,
read window by window so that memory is bounded by the window and never by the raster; cell
areas come from :mod:`zoning.raster.cellarea`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyproj

from .._optional import require
from .._paths import data_dir
from ..catalog import KINDS
from ..errors import CatalogError, CRSError, LayerDataError, LayerReadError, RasterError, quote
from .cellarea import _CellAreas
from .windows import _Burner, _crs_label, _window_transform, _windows

if TYPE_CHECKING:
    import geopandas as gpd
    from rasterio.io import DatasetReader
    from rasterio.windows import Window

    from ..layerset import LayerSet

#: The bundled modelled population grid (DEMONSTRATION data; ``layers/build_demo_raster.py``).
DEMO_RASTER = data_dir("layers") / "demo_population.tif"

MAX_CLASSES = 1000
#: Largest raster :func:`zonal_stats` reads, in bytes as its header declares them (width x
#: height x bands x bytes per cell), checked before anything is read or allocated.
MAX_RASTER_BYTES = 64 * 2**30
#: Largest internal block (tile or strip) accepted, in bytes: GDAL decodes a whole block to
#: read any window of it, so one absurd block would be allocated whatever the window.
MAX_BLOCK_BYTES = 256 * 2**20
#: Largest ``window_size``: memory grows with its square (about 48 bytes per window cell).
MAX_WINDOW = 8192


def _open_raster(path: str | Path) -> DatasetReader:
    rasterio = require("rasterio")
    text = str(path)
    is_uri = "://" in text or text.startswith("/vsi")
    if not is_uri and not Path(text).exists():
        raise LayerReadError(f"raster not found: {text}")
    try:
        return rasterio.open(text)
    except rasterio.errors.RasterioIOError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LayerReadError(f"cannot open raster {text}: {first}") from None


def _check_size(ds: DatasetReader, path: str, max_bytes: int) -> None:
    """Refuse a raster whose declared size or block size is beyond the limits, before any
    read: a header of a few bytes can declare 10^12 cells."""
    cell = [np.dtype(d).itemsize for d in ds.dtypes]
    declared = ds.width * ds.height * sum(cell)
    dtypes = ", ".join(dict.fromkeys(ds.dtypes))
    if declared > max_bytes:
        raise RasterError(
            f"{path}: the raster declares {ds.width:,} x {ds.height:,} cells x {ds.count} "
            f"band{'s' if ds.count != 1 else ''} of {dtypes} = {declared:,} bytes, more than "
            f"the limit of {max_bytes:,} bytes (zonal_stats max_bytes); not read"
        )
    for i, (rows, cols) in enumerate(ds.block_shapes):
        block = rows * cols * cell[i]
        if block > MAX_BLOCK_BYTES:
            raise RasterError(
                f"{path}: band {i + 1} is stored in blocks of {cols:,} x {rows:,} cells "
                f"({block:,} bytes each), more than the limit of {MAX_BLOCK_BYTES:,} bytes; "
                "rewrite it tiled (e.g. gdal_translate -co TILED=YES)"
            )


def _zones_from_catalog(by: str, layers: LayerSet | None) -> tuple[gpd.GeoDataFrame, str, bool]:
    """The zones named by ``by``: ``units``, ``districts``, a layer id or a kind.

    ``districts`` are the districts of :meth:`zoning.LayerSet.districts` (rows of the district
    layers that share a name form one zone, named by its first feature id); the other choices
    give one zone per feature.
    """
    import geopandas as gpd

    from ..layerset import load_catalog

    ls = layers if layers is not None else load_catalog()
    alias = {"units": "control_unit", "districts": "district"}
    if by in alias or (by not in ls and by in KINDS):
        kind = alias.get(by, by)
        chosen = ls.of_kind(kind)
        if not chosen:
            raise CatalogError(f"zones {quote(by)}: the catalog has no {kind} layer")
    elif by in ls:
        chosen = [ls[by]]
    else:
        raise CatalogError(
            f"zones {quote(by)}: not a layer of the catalog "
            f"(use units, districts or a layer id: {', '.join(ls.ids)})"
        )
    for lyr in chosen:
        geometry = lyr.entry.kind_info.geometry
        if geometry != "polygon":
            raise LayerDataError(
                f"zones {quote(by)}: layer {lyr.id} ({lyr.kind}) holds {geometry}s, not polygons; "
                "zonal statistics need polygon zones (units, districts or a polygon layer)"
            )
    ids = ",".join(lyr.id for lyr in chosen)
    demo = any(lyr.entry.is_demonstration for lyr in chosen)
    if by == "districts":  # districts as the one lookup names them: rows sharing a name
        found = ls.districts()
        gdf = gpd.GeoDataFrame(
            {
                "feature_id": [d.codes[0] for d in found],
                "name": [d.name for d in found],
                "layer": ids,
            },
            geometry=[d.geometry for d in found],
            crs=ls.crs,
        )
        return gdf, ids, demo
    frames = [lyr.gdf.assign(layer=lyr.id) for lyr in chosen]
    gdf = frames[0] if len(frames) == 1 else gpd.GeoDataFrame(pd.concat(frames, ignore_index=True))
    return gdf, ids, demo


def _raster_crs(ds: DatasetReader, path: str) -> pyproj.CRS:
    if ds.crs is None:
        raise CRSError(f"{path}: the raster has no CRS; assign one (e.g. gdal_edit.py -a_srs)")
    return pyproj.CRS.from_wkt(ds.crs.to_wkt())


def _reproject_zones(zones: gpd.GeoDataFrame, crs: pyproj.CRS) -> tuple[gpd.GeoDataFrame, str]:
    if zones.crs is None:
        raise CRSError("zones: the GeoDataFrame has no CRS; set one with .set_crs()")
    source = pyproj.CRS.from_user_input(zones.crs)
    if source == crs:
        return zones, f"none (zones already in {_crs_label(crs)})"
    return zones.to_crs(crs), f"zones reprojected from {_crs_label(source)} to {_crs_label(crs)}"


def _legend(ds: DatasetReader, band: int) -> dict[str, str]:
    text = ds.tags(band).get("legend")
    if not text:
        return {}
    try:
        table = json.loads(text)
    except ValueError:
        return {}
    return {
        str(k): (v.get("code", str(v)) if isinstance(v, dict) else str(v)) for k, v in table.items()
    }


class _Categorical:
    """Counts and areas per (zone, value), accumulated window by window with ``np.bincount``.

    Per window: the zones present are numbered 0..k-1 through a lookup table (no sort), integer
    values of a small range are offset to 0..m-1 (other values are numbered with ``np.unique``),
    and one ``np.bincount`` over ``zone * m + value`` counts every pair (``np.unique`` of the
    pair keys instead when k x m would outgrow the window, so memory stays O(window)).  The
    non-zero pairs are kept as arrays and folded (summed per pair) whenever they outgrow the
    folded total, so memory stays O(zones x classes) whatever the number of windows.  The
    distinct classes are tracked as they come: more than ``max_classes`` raise
    :class:`RasterError` at once, before memory grows with them.
    """

    def __init__(self, n_zones: int, max_classes: int, too_many: str) -> None:
        self.n = n_zones
        self.lut = np.zeros(n_zones + 1, "int64")
        self.parts: list[tuple[np.ndarray, ...]] = []
        self.rows = 0
        self.folded = 0
        self.classes = np.array([])
        self.max_classes = max_classes
        self.too_many = too_many

    def add(self, zone: np.ndarray, value: np.ndarray, area: np.ndarray | float) -> None:
        """Count the cells of one window: zone numbers, values and cell areas (an array, or
        one number when every cell has the same area)."""
        if zone.size == 0:
            return
        present = np.flatnonzero(np.bincount(zone, minlength=self.n + 1))
        self.lut[present] = np.arange(len(present))
        zi = self.lut[zone]
        values, vi = self._number(value, len(present), zone.size)
        m = len(values)
        if m > self.max_classes:  # perhaps too many classes already: check before pairing
            self._admit(values[np.bincount(vi, minlength=m) > 0])
        key = zi * m + vi
        uniform = np.ndim(area) == 0
        if len(present) * m <= max(4 * zone.size, 1 << 16):
            counts = np.bincount(key, minlength=len(present) * m)
            pairs = np.flatnonzero(counts)
            counts = counts[pairs]
            if not uniform:
                areas = np.bincount(key, weights=area, minlength=len(present) * m)[pairs]
        else:  # many zones x many values: count the pairs present only, in O(window) memory
            pairs, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
            if not uniform:
                areas = np.bincount(inverse.ravel(), weights=area, minlength=len(pairs))
        if uniform:
            areas = counts * float(area)
        self._admit(values[np.unique(pairs % m)])
        self.parts.append((present[pairs // m], values[pairs % m], counts, areas))
        self.rows += len(pairs)
        if self.rows > max(1 << 16, 2 * self.folded):
            self._fold()

    def _admit(self, classes: np.ndarray) -> None:
        """Add the classes seen in a window; raise as soon as there are too many."""
        if len(classes) > self.max_classes:
            raise RasterError(self.too_many)
        self.classes = np.union1d(self.classes, classes)
        if len(self.classes) > self.max_classes:
            raise RasterError(self.too_many)

    @staticmethod
    def _number(value: np.ndarray, n_zones: int, n_cells: int) -> tuple[np.ndarray, np.ndarray]:
        """The distinct values (sorted) and each cell's position among them."""
        if value.dtype.kind in "iub":
            low, high = int(value.min()), int(value.max())
            span = high - low + 1
            if n_zones * span <= max(4 * n_cells, 1 << 16):
                return np.arange(low, high + 1), value.astype("int64") - low
        values, inverse = np.unique(value, return_inverse=True)
        return values, inverse.ravel()

    def _fold(self) -> None:
        if not self.parts:
            return
        zone, value, count, area = (np.concatenate(a) for a in zip(*self.parts, strict=True))
        order = np.lexsort((value, zone))
        zone, value, count, area = zone[order], value[order], count[order], area[order]
        first = np.ones(len(zone), bool)
        first[1:] = (zone[1:] != zone[:-1]) | (value[1:] != value[:-1])
        starts = np.flatnonzero(first)
        self.parts = [
            (
                zone[starts],
                value[starts],
                np.add.reduceat(count, starts),
                np.add.reduceat(area, starts),
            )
        ]
        self.rows = self.folded = len(starts)

    def frame(self) -> pd.DataFrame:
        self._fold()
        zone, value, count, area = self.parts[0] if self.parts else ([], [], [], [])
        df = pd.DataFrame(
            {
                "zone": np.asarray(zone, "int64"),
                "value": np.asarray(value),
                "count": np.asarray(count, "int64"),
            }
        )
        df["share"] = df["count"] / df.groupby("zone")["count"].transform("sum")
        df["area"] = np.asarray(area, "float64")
        return df


class _Continuous:
    """Count, sum, min, max and area per zone with ``np.bincount`` and ``np.minimum.at``."""

    def __init__(self, n_zones: int) -> None:
        self.count = np.zeros(n_zones + 1, "int64")
        self.sum = np.zeros(n_zones + 1, "float64")
        self.min = np.full(n_zones + 1, np.inf)
        self.max = np.full(n_zones + 1, -np.inf)
        self.area = np.zeros(n_zones + 1, "float64")

    def add(self, zone: np.ndarray, value: np.ndarray, area: np.ndarray | float) -> None:
        if zone.size == 0:
            return
        n = len(self.count)
        value = value.astype("float64", copy=False)
        count = np.bincount(zone, minlength=n)
        self.count += count
        self.sum += np.bincount(zone, weights=value, minlength=n)
        self.area += (
            count * area if np.ndim(area) == 0 else np.bincount(zone, weights=area, minlength=n)
        )
        np.minimum.at(self.min, zone, value)
        np.maximum.at(self.max, zone, value)

    def frame(self) -> pd.DataFrame:
        seen = self.count[1:] > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = self.sum[1:] / self.count[1:]
        return pd.DataFrame(
            {
                "zone": np.arange(1, len(self.count)),
                "count": self.count[1:],
                "sum": self.sum[1:],
                "mean": np.where(seen, mean, np.nan),
                "min": np.where(seen, self.min[1:], np.nan),
                "max": np.where(seen, self.max[1:], np.nan),
                "area": self.area[1:],
            }
        )


def _accumulate(
    ds: DatasetReader,
    band: int,
    burner: _Burner,
    acc: _Categorical | _Continuous,
    areas: _CellAreas,
    window_size: int,
    is_float: bool,
) -> None:
    """Burn the zones onto each window, read the window's values and accumulate the valid ones
    with their cell areas."""
    for window in _windows(ds.height, ds.width, window_size):
        shape = (int(window.height), int(window.width))
        zone = burner.burn(_window_transform(ds.transform, window), shape, fill=0, dtype="int32")
        if zone is None:
            continue  # no zone meets this window: do not even read it
        data = _read(ds, band, window)
        valid = ~np.ma.getmaskarray(data)
        valid &= zone > 0
        values = np.ma.getdata(data)
        if is_float:
            valid &= np.isfinite(values)
        if not valid.any():
            continue
        cell = areas.of(window)
        area = float(cell.flat[0]) if not any(cell.strides) else cell[valid]
        acc.add(zone[valid], values[valid], area)


def _read(ds: DatasetReader, band: int, window: Window) -> np.ma.MaskedArray:
    """One window of ``band``; a read GDAL refuses (a corrupt block) is one line."""
    rasterio = require("rasterio")
    try:
        return ds.read(band, window=window, masked=True)
    except rasterio.errors.RasterioIOError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LayerReadError(
            f"cannot read raster {ds.name}: band {band}, rows {window.row_off}-"
            f"{window.row_off + window.height - 1}, columns {window.col_off}-"
            f"{window.col_off + window.width - 1}: {first}"
        ) from None


def zonal_stats(
    raster: str | Path,
    zones: gpd.GeoDataFrame | None = None,
    *,
    by: str = "units",
    band: int = 1,
    categorical: bool | None = None,
    window_size: int = 1024,
    layers: LayerSet | None = None,
    max_bytes: int | None = None,
) -> pd.DataFrame:
    """Zonal statistics of one raster band by control unit, district, catalog layer or zones.

    Parameters
    ----------
    raster : path
        Any raster GDAL reads, with a CRS.
    zones : GeoDataFrame, optional
        The zones (any CRS).  When given, ``by`` and ``layers`` are ignored.  Zones are named
        by their ``feature_id`` column, else by their index.
    by : str
        ``"units"`` (the control units), ``"districts"``, or a layer id (or kind) of the catalog.
    band : int
        1-based band number.
    categorical : bool, optional
        Count cells per class (True) or summarise values (False).  Default: True for integer
        bands of at most 16 bits, False for wider integers and floating-point bands (an
        elevation or count band is rarely a set of classes).  At most :data:`MAX_CLASSES`
        distinct values are counted per class.
    window_size : int
        Side of the square windows read one at a time, in cells (at most
        :data:`MAX_WINDOW`).  Memory is bounded by it.
    layers : LayerSet, optional
        The catalog the zones come from (default: the bundled demonstration catalog).
    max_bytes : int, optional
        Largest raster accepted, in bytes as its header declares them (width x height x
        bands x bytes per cell); default :data:`MAX_RASTER_BYTES`.

    Returns
    -------
    pandas.DataFrame
        Categorical: one row per zone and class, columns ``zone_id``, ``zone_name`` (when the
        zones have names), ``value``, ``label`` (when the band carries a ``legend`` tag),
        ``count``, ``share`` (of the zone's valid cells) and ``area_m2`` (true area of those
        cells, see Notes).  Continuous: one row per zone, columns ``zone_id``, ``zone_name``,
        ``count``, ``sum``, ``mean``, ``min``, ``max`` and ``area_m2`` (of the valid cells);
        a zone without valid cells has count 0, area 0 and NaN statistics.  ``df.attrs``
        holds the raster path, band, CRS, ``categorical``, nodata, ``cell_area_m2`` (the
        nominal cell area of a projected grid, None for a geographic one), ``area_method``,
        ``demonstration`` (raster tag or zone layer), the raster's ``note``, the zone layer
        id, ``reprojection`` and ``zones_without_cells``.

    Raises
    ------
    LayerReadError
        When the raster is missing or unreadable.
    CRSError
        When the raster or the zones have no CRS.
    CatalogError
        When ``by`` names no layer of the catalog.
    LayerDataError
        When ``by`` names a line or point layer: zones must be polygons.
    RasterError
        When ``band`` or ``window_size`` is out of range, when the raster's header declares
        more than ``max_bytes`` bytes or blocks of more than :data:`MAX_BLOCK_BYTES`, when
        ``zones`` holds geometries other than polygons, or when a categorical band has more
        than :data:`MAX_CLASSES` distinct values (summarise it with ``categorical=False``).

    Notes
    -----
    **CRS**: the raster's CRS is honoured.  The zones are reprojected to it (never the raster
    to the zones), which keeps the cell values untouched; ``df.attrs["reprojection"]`` says
    what was done.  The catalog's layers have edges densified to ≤ 100 m, so their
    reprojection is faithful.

    **Areas**: ``area_m2`` is the sum of the true (ellipsoidal) areas of the cells counted,
    whatever the CRS; ``df.attrs["area_method"]`` says how they were obtained.  In a projected
    CRS each cell's nominal area is divided by the projection's areal scale factor at the cell
    centre, from the partial derivatives of :meth:`pyproj.Proj.get_factors` and the CRS's
    ellipsoid (so also right for Web Mercator, which PROJ's own ``areal_scale`` treats as
    spherical, 0.3 % off in Shanghai); the factor is evaluated on a lattice of cell centres
    ≤ 32 cells and ≤ 10 km apart and interpolated bilinearly (error < 1e-5).  Without the
    correction Web Mercator overstates areas in Shanghai by 37 % (Huangpu: 28.0 instead of
    20.45 km²), UTM 51N by less than 0.1 % either way, an equal-area CRS not at all.  In a
    geographic CRS the cells of a row share one geodesic area
    (:meth:`pyproj.Geod.polygon_area_perimeter`; rotated grids: the ellipsoid's area element
    at the cell centres).  The remaining error is the rasterization's: cells along a zone's
    edge are counted whole or not at all.

    **Cells**: a cell belongs to a zone when its centre lies inside it (GDAL's rasterization
    with ``all_touched=False``); cells equal to the band's nodata value, masked by the file,
    or not finite are excluded.  Where zones overlap, a cell belongs to the zone drawn last,
    i.e. the one that comes later in the zones table; control units and districts do not
    overlap.  Zones smaller than a cell may get no cell at all; they are listed in
    ``df.attrs["zones_without_cells"]``.

    **Cost**: the raster is read in ``window_size`` × ``window_size`` windows (choose a
    multiple of the file's block size); windows that no zone's envelope meets are not read.
    For each window the zones whose envelope meets it are clipped to it and burnt with their
    index, then cells are counted with ``np.bincount`` (categorical: per zone × class, or
    ``np.unique`` of the zone-class pairs when there are many of both; continuous: counts and
    sums, ``np.minimum.at`` / ``np.maximum.at`` for extremes), cell areas as weights.  Time is
    O(cells + windows × local zone vertices); memory is O(window_size² + zones × classes),
    about 48 bytes per window cell and never the whole raster: measured with ``tracemalloc``
    on an 8000 × 8000 uint8 raster (61 MiB), the peak is 4 MiB with 256-cell windows and
    49 MiB with 1024-cell windows (GDAL's block cache, outside Python, comes on top).  Very
    small windows cost time: about 2 ms of overhead per window.  Weighting by cell area
    costs about 10 ns per cell counted (an area array per window, weighted bincounts).

    **Classes** are bounded: the distinct values are tracked window by window and the
    :data:`MAX_CLASSES` + 1st raises :class:`RasterError` in the window where it appears
    (the zone-value pairs of a window are counted in O(window) memory in any case), so a band
    of many values (a float band forced categorical, a 32-bit integer band) fails fast
    instead of filling memory with millions of rows.

    Examples
    --------
    >>> df = zonal_stats(DEMO_RASTER, by="districts")   # doctest: +SKIP
    >>> df[["zone_name", "sum"]].head(2)               # doctest: +SKIP
    """
    _check_args(band, window_size)
    limit = MAX_RASTER_BYTES if max_bytes is None else max_bytes
    zone_gdf, zone_layer, zones_demo = _zone_source(zones, by, layers)
    path = str(raster)
    with _open_raster(path) as ds:
        _check_size(ds, path, limit)
        crs = _raster_crs(ds, path)
        if not 1 <= band <= ds.count:
            raise RasterError(f"{path}: band {band} does not exist (the raster has {ds.count})")
        dtype = np.dtype(ds.dtypes[band - 1])
        is_float = dtype.kind in "fc"
        if categorical is None:
            categorical = dtype.kind in "iub" and dtype.itemsize <= 2
        zone_gdf, reprojection = _reproject_zones(zone_gdf, crs)
        burner = _Burner(zone_gdf.geometry.to_numpy(), np.arange(1, len(zone_gdf) + 1))
        too_many = (
            f"{path}: band {band} ({dtype}) has more than {MAX_CLASSES} distinct values, too "
            "many to count per class; summarise it with --continuous (categorical=False)"
        )
        acc: _Categorical | _Continuous = (
            _Categorical(len(zone_gdf), MAX_CLASSES, too_many)
            if categorical
            else _Continuous(len(zone_gdf))
        )
        areas = _CellAreas(ds.transform, crs, ds.height, ds.width)
        _accumulate(ds, band, burner, acc, areas, window_size, is_float)
        legend = _legend(ds, band) if categorical else {}
        tags = ds.tags()
        nodata = ds.nodatavals[band - 1]
        description = ds.descriptions[band - 1]
    df = _finish(acc.frame(), zone_gdf, legend)
    seen = set(df["zone_id"][df["count"] > 0]) if len(df) else set()
    ids = _zone_ids(zone_gdf)
    df.attrs.update(
        {
            "raster": path,
            "band": band,
            "band_description": description,
            "crs": _crs_label(crs),
            "categorical": bool(categorical),
            "nodata": None if nodata is None else float(nodata),
            "cell_area_m2": areas.nominal,
            "area_method": areas.method,
            "demonstration": tags.get("demonstration") == "true" or zones_demo,
            "raster_demonstration": tags.get("demonstration") == "true",
            "note": tags.get("note"),
            "zone_layer": zone_layer,
            "zones": len(zone_gdf),
            "reprojection": reprojection,
            "window_size": window_size,
            "zones_without_cells": [z for z in ids if z not in seen],
        }
    )
    return df


def _check_args(band: object, window_size: object) -> None:
    """Refuse a band or window size that is not a positive integer (bools included)."""
    if isinstance(band, bool) or not isinstance(band, int | np.integer):
        raise RasterError(f"band: {quote(band)} is not a band number")
    if isinstance(window_size, bool) or not isinstance(window_size, int) or window_size < 1:
        raise RasterError(f"window_size: {quote(window_size)} must be a positive integer")
    if window_size > MAX_WINDOW:
        raise RasterError(
            f"window_size: {window_size} is more than {MAX_WINDOW} cells a side (memory grows "
            "with its square, about 48 bytes per cell)"
        )


def _zone_source(
    zones: gpd.GeoDataFrame | None, by: str, layers: LayerSet | None
) -> tuple[gpd.GeoDataFrame, str, bool]:
    """The zones, their layer name and whether they are demonstration data."""
    import geopandas as gpd

    if zones is None:
        return _zones_from_catalog(by, layers)
    if not isinstance(zones, gpd.GeoDataFrame):
        raise TypeError("zones must be a GeoDataFrame")
    _check_polygons(zones)
    return zones, "(GeoDataFrame)", False


def _check_polygons(zones: gpd.GeoDataFrame) -> None:
    """Refuse zones that are not (multi)polygons: lines and points have no area."""
    types = zones.geom_type
    bad = types.notna() & ~types.isin(["Polygon", "MultiPolygon"])
    if bad.any():
        kinds = ", ".join(sorted(set(types[bad])))
        raise RasterError(
            f"zones: {int(bad.sum())} of {len(zones)} geometries are not polygons ({kinds}); "
            "zonal statistics need polygon zones"
        )


def _zone_ids(zones: gpd.GeoDataFrame) -> list[Any]:
    if "feature_id" in zones.columns:
        return zones["feature_id"].tolist()
    return zones.index.tolist()


def _finish(df: pd.DataFrame, zones: gpd.GeoDataFrame, legend: dict[str, str]) -> pd.DataFrame:
    """Replace the internal 1-based zone number by the zone's id and name; add labels."""
    pos = df["zone"].to_numpy(dtype="int64") - 1
    out = pd.DataFrame({"zone_id": np.asarray(_zone_ids(zones), dtype=object)[pos]})
    if "name" in zones.columns:
        out["zone_name"] = zones["name"].to_numpy()[pos]
    rest = df.drop(columns=["zone", "area"]).reset_index(drop=True)
    if "value" in rest.columns and legend:
        labels = rest["value"].map(lambda v: legend.get(_value_key(v)))
        rest.insert(1, "label", labels)
    out = pd.concat([out, rest], axis=1)
    out["area_m2"] = df["area"].to_numpy()
    return out


def _value_key(value: Any) -> str:
    as_float = float(value)
    return str(int(as_float)) if as_float.is_integer() else str(value)
