"""Writing a Cloud-Optimized GeoTIFF: tiled, compressed, with overviews, legends and sidecars.

:func:`_write_cog` writes blocks to a temporary tiled GeoTIFF and copies it to a COG
atomically; class names and colours of categorical bands go to a GDAL PAM sidecar
(``<out>.aux.xml``), a long unit table to ``<out>.units.csv``.
"""

from __future__ import annotations

import contextlib
import csv
import math
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyproj

from .._optional import require
from ..io import atomic_path
from ..io.cells import escape_cell
from ..io.outputs import temporary_folder

if TYPE_CHECKING:
    from affine import Affine
    from rasterio.windows import Window


_BLOCK = 256  # COG tile size


def _write_cog(
    out: Path,
    *,
    shape: tuple[int, int],
    transform: Affine,
    crs: pyproj.CRS,
    dtype: str,
    nodata: float,
    band_names: list[str],
    blocks: Iterable[tuple[Window, np.ndarray]],
    tags: dict[str, str],
    band_tags: list[dict[str, str]] | None = None,
    legends: dict[int, dict[int, dict[str, str]]] | None = None,
    units: list[str] | None = None,
    resampling: str = "MODE",
) -> None:
    """Write ``blocks`` (window, (bands, rows, cols) array) to a temporary tiled GeoTIFF, then
    copy it to ``out`` as a DEFLATE-compressed COG with internal overviews, atomically.

    ``legends`` (band -> value -> entry with ``code``, ``zh``, ``en``, ``colour``) go to the
    ``<out>.aux.xml`` sidecar (see :func:`_write_pam`), and into the TIFF's own colour table
    when the file has a single band."""
    rasterio = require("rasterio")
    from rasterio.crs import CRS
    from rasterio.shutil import copy as gdal_copy

    rows, cols = shape
    profile = {
        "driver": "GTiff",
        "width": cols,
        "height": rows,
        "count": len(band_names),
        "dtype": dtype,
        "crs": CRS.from_wkt(crs.to_wkt()),
        "transform": transform,
        "nodata": nodata,
        "tiled": True,
        "blockxsize": _BLOCK,
        "blockysize": _BLOCK,
        "compress": "deflate",
        "zlevel": 1,
        "bigtiff": "IF_SAFER",
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    with temporary_folder(out.parent, "zoning-rasterize") as tmpdir:
        work = tmpdir / "work.tif"
        with rasterio.open(work, "w", **profile) as dst:
            for window, data in blocks:
                dst.write(data, window=window)
            for i, name in enumerate(band_names, start=1):
                dst.set_band_description(i, name)
            dst.update_tags(**tags)
            for i, btags in enumerate(band_tags or [], start=1):
                if btags:
                    dst.update_tags(i, **btags)
            if len(band_names) == 1:
                for i, legend in (legends or {}).items():
                    dst.write_colormap(i, {v: _rgba(e["colour"]) for v, e in legend.items()})
        with contextlib.ExitStack() as stack:
            if units is not None:
                _write_units_csv(stack.enter_context(atomic_path(_units_path(out))), units)
            pam = bool(legends)
            if pam:
                _write_pam(stack.enter_context(atomic_path(_aux_path(out))), legends)
            tmp_out = stack.enter_context(atomic_path(out))
            with rasterio.open(work) as src:
                gdal_copy(
                    src,
                    tmp_out,
                    driver="COG",
                    COMPRESS="DEFLATE",
                    PREDICTOR="YES",
                    BLOCKSIZE=str(_BLOCK),
                    OVERVIEW_RESAMPLING=resampling,
                    OVERVIEW_COUNT=str(_overview_count(rows, cols)),
                    BIGTIFF="IF_SAFER",
                )
        if not pam and _aux_path(out).exists():
            _aux_path(out).unlink()  # PAM metadata of the file just replaced


def _overview_count(rows: int, cols: int) -> int:
    """Halve until the longest side fits one tile; at least one level when it is ≥ 2 cells."""
    side = max(rows, cols)
    if side < 2:
        return 0
    return max(1, math.ceil(math.log2(side / _BLOCK))) if side > _BLOCK else 1


def _aux_path(out: Path) -> Path:
    return out.with_name(out.name + ".aux.xml")


# GDAL raster attribute table codes (gdal.h): field types and usages.
_GFT_INTEGER, _GFT_STRING = 0, 2
_GFU_GENERIC, _GFU_NAME, _GFU_MINMAX = 0, 2, 5
_GFU_RED, _GFU_GREEN, _GFU_BLUE, _GFU_ALPHA = 6, 7, 8, 9
_RAT_FIELDS = (  # name, type, usage
    ("Value", _GFT_INTEGER, _GFU_MINMAX),
    ("Name", _GFT_STRING, _GFU_NAME),
    ("code", _GFT_STRING, _GFU_GENERIC),
    ("name_zh", _GFT_STRING, _GFU_GENERIC),
    ("name_en", _GFT_STRING, _GFU_GENERIC),
    ("Red", _GFT_INTEGER, _GFU_RED),
    ("Green", _GFT_INTEGER, _GFU_GREEN),
    ("Blue", _GFT_INTEGER, _GFU_BLUE),
    ("Alpha", _GFT_INTEGER, _GFU_ALPHA),
)


def _class_name(entry: dict[str, str]) -> str:
    """The class name GIS tools show: ``"priority 优先保护单元"``."""
    return f"{entry['code']} {entry['zh']}"


def _write_pam(path: Path, legends: dict[int, dict[int, dict[str, str]]]) -> None:
    """Class names and colours of categorical bands as a GDAL PAM sidecar (``<out>.aux.xml``).

    Per band: a colour table (entry i is the colour of value i), ``<CategoryNames>`` (entry i
    is the name of value i, empty for values without a class) and a thematic raster attribute
    table (``<GDALRasterAttributeTable>``: one row per class with its value, name, code,
    Chinese and English names and RGBA colour).  A TIFF holds a colour table only in
    single-sample files (GDAL: "SetColorTable() not supported for multi-sample TIFF files")
    and no category names or attribute table at all, so they go to the sidecar that GDAL
    (hence rasterio, QGIS and ArcGIS) reads with the file.
    """
    from xml.etree import ElementTree as ET

    root = ET.Element("PAMDataset")
    for band, legend in sorted(legends.items()):
        node = ET.SubElement(root, "PAMRasterBand", band=str(band))
        ET.SubElement(node, "ColorInterp").text = "Palette"
        names = ET.SubElement(node, "CategoryNames")
        table = ET.SubElement(node, "ColorTable")
        for value in range(max(legend) + 1):
            entry = legend.get(value)
            ET.SubElement(names, "Category").text = _class_name(entry) if entry else ""
            r, g, b, a = _rgba(entry["colour"]) if entry else (0, 0, 0, 0)
            ET.SubElement(table, "Entry", c1=str(r), c2=str(g), c3=str(b), c4=str(a))
        rat = ET.SubElement(node, "GDALRasterAttributeTable", tableType="thematic")
        for i, (name, ftype, usage) in enumerate(_RAT_FIELDS):
            field = ET.SubElement(rat, "FieldDefn", index=str(i))
            ET.SubElement(field, "Name").text = name
            ET.SubElement(field, "Type").text = str(ftype)
            ET.SubElement(field, "Usage").text = str(usage)
        for row, (value, entry) in enumerate(sorted(legend.items())):
            cells = (value, _class_name(entry), entry["code"], entry["zh"], entry["en"])
            node_row = ET.SubElement(rat, "Row", index=str(row))
            for cell in (*cells, *_rgba(entry["colour"])):
                ET.SubElement(node_row, "F").text = str(cell)
    ET.indent(root)
    path.write_text(ET.tostring(root, encoding="unicode") + "\n", encoding="utf-8")


def _units_path(out: Path) -> Path:
    return out.with_name(out.name + ".units.csv")


def _write_units_csv(path: Path, units: list[str]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["index", "unit_code"])
        writer.writerows((i, escape_cell(code)) for i, code in enumerate(units, start=1))


def _rgba(colour: str) -> tuple[int, int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16), 255
