"""The catalog as a Cloud-Optimized GeoTIFF: :func:`rasterize`.

The control units (category and unit index) and one mask per constraint kind are burnt onto
a regular grid window by window and written as a COG (:mod:`zoning.raster.cog`) that carries
its own legend, unit table and provenance.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyproj

from .._optional import require
from .._version import __version__
from ..catalog import KINDS, UNIT_CATEGORY_ALIASES
from ..crs import WORKING_CRS, parse_crs
from ..errors import CRSError, LayerDataError, RasterError, quote
from ..labels import UNIT_CATEGORY_LABELS
from ..schema import COVERAGE_KINDS
from .cog import _aux_path, _units_path, _write_cog
from .windows import _Burner, _crs_label, _window_transform, _windows

if TYPE_CHECKING:
    import geopandas as gpd
    from affine import Affine
    from rasterio.windows import Window

    from ..layerset import Layer, LayerSet

log = logging.getLogger("zoning.raster")

#: Values of the ``control_unit_category`` band.
CATEGORY_LEGEND: dict[int, dict[str, str]] = {
    value: {
        "code": code,
        "zh": UNIT_CATEGORY_LABELS[code][0],
        "en": UNIT_CATEGORY_LABELS[code][1].capitalize(),
        "colour": colour,
    }
    for value, code, colour in (
        (1, "priority", "#1a9850"),
        (2, "key", "#d73027"),
        (3, "general", "#fee08b"),
    )
}
# Category values as catalogs spell them -> raster value (one alias table for the toolkit).
_CATEGORY_VALUE = {v["code"]: k for k, v in CATEGORY_LEGEND.items()}
_CATEGORY_ALIASES = {alias: _CATEGORY_VALUE[code] for alias, code in UNIT_CATEGORY_ALIASES.items()}
_MASK_LEGEND = {
    "0": {"code": "outside", "zh": "范围外", "en": "outside"},
    "1": {"code": "inside", "zh": "范围内", "en": "inside"},
}

#: Kinds whose union is the territory; mask cells outside it are nodata.
TERRITORY_KINDS = COVERAGE_KINDS
_NOT_MASKED = {"control_unit", *TERRITORY_KINDS}

#: Largest grid :func:`rasterize` accepts (cells); finer grids are refused, not attempted.
MAX_CELLS = 1_000_000_000
#: Longest JSON unit table kept as a tag; a longer one goes to ``<out>.units.csv``.
MAX_TAG_CHARS = 32_000

_WRITE_WINDOW = 1024  # rasterize works on windows of this many cells a side

DEMONSTRATION_NOTE = (
    "DEMONSTRATION DATA — not the official ecological protection red line or control units "
    "(演示数据，非官方生态保护红线)"
)


@dataclass(frozen=True)
class RasterInfo:
    """What :func:`rasterize` wrote.

    Attributes
    ----------
    path : Path
        The Cloud-Optimized GeoTIFF.
    shape : (int, int)
        Rows and columns.
    transform : affine.Affine
        Pixel -> grid CRS coordinates of the top-left cell corner.
    crs : pyproj.CRS
        The grid CRS.
    bands : tuple of str
        Band names (also the band descriptions in the file), band 1 first.
    dtype : str
        The data type shared by every band.
    nodata : int
        The nodata value shared by every band (the largest value of ``dtype``).
    demonstration : bool
        True when any layer of the catalog is demonstration data.
    units_file : Path or None
        The ``<out>.units.csv`` sidecar when the unit table was too long for a tag.
    aux_file : Path or None
        The ``<out>.aux.xml`` sidecar (GDAL PAM) holding band 1's colour table, category names
        and raster attribute table.
    """

    path: Path
    shape: tuple[int, int]
    transform: Affine
    crs: pyproj.CRS
    bands: tuple[str, ...]
    dtype: str
    nodata: int
    demonstration: bool
    units_file: Path | None = None
    aux_file: Path | None = None

    @property
    def res(self) -> float:
        """Cell size in grid CRS units (metres)."""
        return float(self.transform.a)


@dataclass(frozen=True)
class _Grid:
    transform: Affine
    rows: int
    cols: int
    crs: pyproj.CRS


def _check_res(res: object) -> float:
    try:
        value = float(res)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise RasterError(f"res: {quote(res)} is not a number of metres") from None
    if not math.isfinite(value) or value <= 0:
        raise RasterError(f"res: {quote(res)} must be a positive number of metres")
    return value


def _grid_crs(crs: object) -> pyproj.CRS:
    if crs is None:
        return WORKING_CRS
    parsed = parse_crs(crs, what="crs")
    if parsed.pseudo:
        raise CRSError(f"crs: {parsed.label} is a coordinate shift, not a grid CRS")
    if not parsed.crs.is_projected:
        raise CRSError(f"crs: {parsed.label} is not projected; the grid needs metres")
    unit = parsed.crs.axis_info[0]
    if unit.unit_conversion_factor != 1.0:
        raise CRSError(f"crs: {parsed.label} is in {unit.unit_name}; the grid needs metres")
    return parsed.crs


def _make_grid(
    bounds: Iterable[float] | None,
    frames: list[gpd.GeoDataFrame],
    res: float,
    crs: pyproj.CRS,
) -> _Grid:
    from affine import Affine

    if bounds is None:
        boxes = np.array([f.total_bounds for f in frames if len(f)])
        if not len(boxes):
            raise RasterError("rasterize: the layers hold no features, so there is no extent")
        xmin, ymin = boxes[:, 0].min(), boxes[:, 1].min()
        xmax, ymax = boxes[:, 2].max(), boxes[:, 3].max()
    else:
        try:
            xmin, ymin, xmax, ymax = (float(v) for v in bounds)
        except (TypeError, ValueError):
            raise RasterError(f"bounds: {quote(bounds)} is not (xmin, ymin, xmax, ymax)") from None
        if not (xmin < xmax and ymin < ymax and all(map(math.isfinite, (xmin, ymin, xmax, ymax)))):
            raise RasterError(f"bounds: {quote(bounds)} is not (xmin, ymin, xmax, ymax)")
    # Snap the origin to a multiple of res, so grids of one res line up across runs and catalogs.
    left, top = math.floor(xmin / res) * res, math.ceil(ymax / res) * res
    cols, rows = math.ceil((xmax - left) / res), math.ceil((top - ymin) / res)
    if rows * cols > MAX_CELLS:
        raise RasterError(
            f"res: {res:g} m gives a grid of {rows} x {cols} cells (limit {MAX_CELLS:,}); "
            "use a coarser res or smaller bounds"
        )
    return _Grid(Affine(res, 0.0, left, 0.0, -res, top), max(rows, 1), max(cols, 1), crs)


def _band_dtype(n_units: int) -> str:
    """The smallest unsigned type holding the unit indices 1..n plus a nodata value above them."""
    for dtype in ("uint8", "uint16", "uint32"):
        if n_units < np.iinfo(dtype).max:
            return dtype
    raise RasterError(f"rasterize: {n_units} control units do not fit a uint32 band")


def _category_codes(layer: Layer, gdf: gpd.GeoDataFrame) -> np.ndarray:
    if "category" not in gdf.columns:
        raise LayerDataError(
            f"{layer.id}: control units need a 'category' field (priority/key/general); "
            "map it under fields: in the catalog"
        )
    raw = gdf["category"].astype("string").str.strip()
    codes = raw.map(_CATEGORY_ALIASES)
    bad = raw[codes.isna()]
    if len(bad):
        ids = gdf.loc[bad.index, "feature_id"].astype(str).head(5).tolist()
        raise LayerDataError(
            f"{layer.id}: field 'category' has values {sorted(set(bad.fillna('<null>')))[:5]} "
            f"(features {', '.join(ids)}); expected priority, key or general"
        )
    return codes.to_numpy(dtype="int64")


def _unit_table(units: list[tuple[Layer, gpd.GeoDataFrame]]) -> tuple[np.ndarray, list, np.ndarray]:
    """Geometries, unit codes and category codes of all control units, in catalog order."""
    geoms, codes, cats = [], [], []
    for layer, gdf in units:
        code_col = "unit_code" if "unit_code" in gdf.columns else "feature_id"
        cats.append(_category_codes(layer, gdf))
        codes.extend(gdf[code_col].astype(str).tolist())
        geoms.append(gdf.geometry.to_numpy())
    if not geoms:
        return np.array([], dtype=object), [], np.array([], dtype="int64")
    return np.concatenate(geoms), codes, np.concatenate(cats)


def _layer_tags(layers: list[Layer]) -> str:
    return json.dumps(
        [
            {
                "id": lyr.id,
                "kind": lyr.kind,
                "status": lyr.entry.provenance.status if lyr.entry.provenance else "unknown",
                "features": len(lyr.gdf),
                "sha256": lyr.report.sha256,
            }
            for lyr in layers
        ],
        ensure_ascii=False,
    )


def rasterize(
    layers: LayerSet | None = None,
    *,
    res: float,
    out: str | Path,
    bounds: tuple[float, float, float, float] | None = None,
    crs: object = None,
) -> RasterInfo:
    """Rasterize a catalog's control units and constraint layers to a Cloud-Optimized GeoTIFF.

    Parameters
    ----------
    layers : LayerSet, optional
        The layers to burn (default: the bundled demonstration catalog).
    res : float
        Cell size in metres (positive).
    out : path
        The GeoTIFF to write.  Replaced atomically: on error no partial file is left.
    bounds : (xmin, ymin, xmax, ymax), optional
        Extent in the grid CRS.  Default: the union of the bounds of all layers.
    crs : CRS-like, optional
        A metric projected CRS for the grid (``"EPSG:32651"``, a WKT, a ``pyproj.CRS``).
        Default: the working CRS.  The vectors are reprojected to it.

    Returns
    -------
    RasterInfo
        Path, shape, transform, CRS and band names of the file written.

    Raises
    ------
    RasterError
        For a non-positive ``res``, malformed ``bounds`` or a grid over :data:`MAX_CELLS` cells.
    CRSError
        When ``crs`` is not a metric projected CRS.
    LayerDataError
        When a control-unit layer has no ``category`` field or unknown category values.

    Notes
    -----
    **Bands** (all bands share one data type and one nodata value, because a GeoTIFF stores a
    single type and a single nodata value per file; the type is the smallest unsigned type that
    holds the unit indices, ``uint16`` for Shanghai's 293 units, and nodata is its largest value):

    1. ``control_unit_category``: 1 priority, 2 key, 3 general (:data:`CATEGORY_LEGEND`);
       nodata outside every control unit.  Its names and colours are in the legend tag
       (``code``, ``zh``, ``en``, ``colour``) and, for GIS tools, in the sidecar
       ``<out>.aux.xml`` as a GDAL colour table, category names (``"priority 优先保护单元"``,
       ...) and a thematic raster attribute table (Value, Name, code, name_zh, name_en, Red,
       Green, Blue, Alpha): TIFF keeps colour tables only in single-band files and category
       names or attribute tables not at all, so GDAL, rasterio and QGIS read them from the
       sidecar.  Keep it beside the ``.tif``.
    2. ``control_unit_index``: 1-based index into the unit table, nodata outside every unit.
       The table is the dataset tag ``unit_codes`` (a JSON list), or, when longer than
       :data:`MAX_TAG_CHARS` characters, the sidecar ``<out>.units.csv`` named by the tag
       ``unit_codes_file``.
    3. one band per other polygon kind present (``red_line``, ``development_boundary``,
       ``basic_farmland``, ``water``, ...; in :data:`zoning.KINDS` order): 1 inside, 0 outside,
       nodata outside the territory (districts ∪ sea area) when the catalog has a
       ``district`` or ``sea_area`` layer; without them the masks have no nodata cells.

    Without a control-unit layer, bands 1 and 2 are omitted and the masks come first.  Line
    and point layers are skipped (tag ``skipped_layers``).  Dataset tags hold the legend,
    ``demonstration`` (``true``/``false``), a ``note`` when any layer is demonstration data,
    and provenance: ``zoning_version``, ``catalog``, ``layers`` (ids, kinds, status, SHA-256),
    ``created``; the grid CRS is in the file's georeferencing.

    **Rasterization** follows GDAL's rule with ``all_touched=False``: a cell takes a feature's
    value when the cell *centre* lies inside it.  Features narrower than a cell may vanish; a
    band records areas at the resolution of the grid, not exactly.  Control units do not
    overlap; should they, the unit listed last wins.

    **CRS**: the layers are in the working CRS, a Lambert azimuthal equal-area projection, so
    every cell of the default grid has the same true area (``res``²).  With ``crs`` the
    vectors are reprojected (their edges are already densified to ≤ 100 m) and cell areas are
    those of that projection.  The grid origin is snapped to a multiple of ``res``.

    **Cost**: reading the layers, then O(cells × bands) to burn and write, done window by
    window (1024 × 1024 cells), so memory is bounded by the window whatever the grid size;
    each window rasterizes only the features whose envelope meets it, clipped to it.  GDAL
    then copies the temporary GeoTIFF to the COG and builds its overviews (mode resampling).
    For the demonstration catalog (districts and sea, 167 × 150 km), after the layers are read:
    0.4 s at 1000 m, 1 s at 100 m (1503 × 1670 cells, 432 KiB), 20 s at 20 m (7511 × 8349
    cells, 4.1 MiB); ``tracemalloc`` peaks stay near 50 MiB whatever the resolution.

    Examples
    --------
    >>> import zoning
    >>> info = rasterize(zoning.load_catalog(), res=1000, out="/tmp/shanghai.tif")  # doctest: +SKIP
    >>> info.bands[:2]                                                              # doctest: +SKIP
    ('control_unit_category', 'control_unit_index')
    """
    require("rasterio")
    from ..layerset import load_catalog

    res = _check_res(res)
    out = Path(out)
    ls = layers if layers is not None else load_catalog()
    grid_crs = _grid_crs(crs)
    loaded = list(ls)
    polygonal = [lyr for lyr in loaded if lyr.entry.kind_info.geometry == "polygon"]
    skipped = [lyr.id for lyr in loaded if lyr.entry.kind_info.geometry != "polygon"]
    frames = {lyr.id: _to_crs(lyr.gdf, grid_crs) for lyr in polygonal}
    grid = _make_grid(bounds, list(frames.values()), res, grid_crs)

    units = [(lyr, frames[lyr.id]) for lyr in polygonal if lyr.kind == "control_unit"]
    unit_geoms, unit_codes, unit_cats = _unit_table(units)
    mask_kinds = [
        k for k in KINDS if k not in _NOT_MASKED and any(lyr.kind == k for lyr in polygonal)
    ]
    if not units and not mask_kinds:
        raise RasterError("rasterize: the catalog has no control-unit or constraint polygons")
    dtype = _band_dtype(len(unit_codes))
    nodata = int(np.iinfo(dtype).max)

    bands = _Bands(
        transform=grid.transform,
        dtype=dtype,
        nodata=nodata,
        units=_Burner(unit_geoms, np.arange(1, len(unit_codes) + 1)) if units else None,
        lut=np.concatenate([[nodata], unit_cats]).astype(dtype),
        territory=_Burner(_geoms_of(polygonal, frames, TERRITORY_KINDS), 1),
        masks=[_Burner(_geoms_of(polygonal, frames, [k]), 1) for k in mask_kinds],
    )
    band_names = (["control_unit_category", "control_unit_index"] if units else []) + mask_kinds
    tags, band_tags, units_file = _rasterize_tags(
        ls, loaded, polygonal, skipped, grid, unit_codes, mask_kinds, nodata, out
    )
    blocks = ((w, bands.render(w)) for w in _windows(grid.rows, grid.cols, _WRITE_WINDOW))
    _write_cog(
        out,
        shape=(grid.rows, grid.cols),
        transform=grid.transform,
        crs=grid_crs,
        dtype=dtype,
        nodata=nodata,
        band_names=band_names,
        blocks=blocks,
        tags=tags,
        band_tags=band_tags,
        legends={1: CATEGORY_LEGEND} if units else None,
        units=unit_codes if units_file else None,
    )
    log.info("rasterize: wrote %s (%d x %d cells of %g m)", out, grid.rows, grid.cols, res)
    return RasterInfo(
        path=out,
        shape=(grid.rows, grid.cols),
        transform=grid.transform,
        crs=grid_crs,
        bands=tuple(band_names),
        dtype=dtype,
        nodata=nodata,
        demonstration=ls.is_demonstration,
        units_file=units_file,
        aux_file=_aux_path(out) if units else None,
    )


def _geoms_of(
    polygonal: list[Layer], frames: dict[str, gpd.GeoDataFrame], kinds: Iterable[str]
) -> np.ndarray:
    """The geometries of the polygon layers of some kinds (grid CRS), in catalog order."""
    arrays = [frames[lyr.id].geometry.to_numpy() for lyr in polygonal if lyr.kind in kinds]
    return np.concatenate(arrays) if arrays else np.array([], dtype=object)


@dataclass(frozen=True)
class _Bands:
    """The bands of one :func:`rasterize` run, burnt onto any window of the grid."""

    transform: Affine
    dtype: str
    nodata: int
    units: _Burner | None  # unit index 1..n; None without a control-unit layer
    lut: np.ndarray  # unit index -> category value (index 0: nodata)
    territory: _Burner
    masks: list[_Burner]

    def render(self, window: Window) -> np.ndarray:
        """The (bands, rows, cols) block of ``window``: unit category and index, then masks."""
        shape = (int(window.height), int(window.width))
        wt = _window_transform(self.transform, window)
        dtype, nodata = self.dtype, self.nodata
        bands = []
        if self.units is not None:
            idx = self.units.burn(wt, shape, fill=0, dtype="int32")
            idx = np.zeros(shape, "int32") if idx is None else idx
            bands.append(np.where(idx > 0, self.lut[idx], nodata).astype(dtype))
            bands.append(np.where(idx > 0, idx, nodata).astype(dtype))
        outside = _outside(self.territory, wt, shape) if self.masks else None
        for burner in self.masks:
            mask = burner.burn(wt, shape, fill=0, dtype="uint8")
            band = np.zeros(shape, dtype) if mask is None else mask.astype(dtype)
            if outside is not None:
                band[outside] = nodata
            bands.append(band)
        return np.stack(bands)


def _outside(territory: _Burner, transform: Affine, shape: tuple[int, int]) -> np.ndarray | None:
    """Cells outside the territory (None when the catalog defines no territory)."""
    if not len(territory):
        return None
    inside = territory.burn(transform, shape, fill=0, dtype="uint8")
    return np.ones(shape, bool) if inside is None else inside == 0


def _to_crs(gdf: gpd.GeoDataFrame, crs: pyproj.CRS) -> gpd.GeoDataFrame:
    return gdf if gdf.crs == crs else gdf.to_crs(crs)


def _rasterize_tags(
    ls: LayerSet,
    loaded: list[Layer],
    polygonal: list[Layer],
    skipped: list[str],
    grid: _Grid,
    unit_codes: list[str],
    mask_kinds: list[str],
    nodata: int,
    out: Path,
) -> tuple[dict[str, str], list[dict[str, str]], Path | None]:
    """Dataset tags, per-band tags and the sidecar path (None when the unit table fits a tag)."""
    legend = json.dumps({str(k): v for k, v in CATEGORY_LEGEND.items()}, ensure_ascii=False)
    territory_ids = [lyr.id for lyr in polygonal if lyr.kind in TERRITORY_KINDS]
    demo = ls.is_demonstration
    tags: dict[str, str] = {
        "demonstration": "true" if demo else "false",
        "zoning_version": __version__,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "catalog": str(ls.catalog.path) if ls.catalog.path else "(in memory)",
        "layers": _layer_tags(loaded),
        "grid_crs": (
            _crs_label(grid.crs)
            if grid.crs == WORKING_CRS
            else f"{_crs_label(grid.crs)} (layers reprojected from the working CRS)"
        ),
        "resolution_m": f"{grid.transform.a:g}",
        "rasterization": "cell centres (all_touched=False); the feature listed last wins",
        "nodata": f"{nodata}: no control unit (bands 1-2); outside the territory (mask bands)",
        "territory": " ∪ ".join(territory_ids) if territory_ids else "none (masks have no nodata)",
    }
    if demo:
        tags["note"] = DEMONSTRATION_NOTE
    if skipped:
        tags["skipped_layers"] = ",".join(skipped)
    band_tags: list[dict[str, str]] = []
    units_file = None
    if unit_codes:
        tags["legend"] = legend
        table = json.dumps(unit_codes, ensure_ascii=False)
        if len(table) <= MAX_TAG_CHARS:
            tags["unit_codes"] = table
        else:
            units_file = _units_path(out)
            tags["unit_codes_file"] = units_file.name
        band_tags.append({"legend": legend, "values": "control-unit category"})
        band_tags.append({"values": "1-based index into the unit_codes table"})
    for kind in mask_kinds:
        ids = [lyr.id for lyr in polygonal if lyr.kind == kind]
        band_tags.append(
            {
                "legend": json.dumps(_MASK_LEGEND, ensure_ascii=False),
                "kind": kind,
                "title_zh": KINDS[kind].title_zh,
                "title_en": KINDS[kind].title_en,
                "layers": ",".join(ids),
            }
        )
    return tags, band_tags, units_file
