"""Raster products: the catalog as a Cloud-Optimized GeoTIFF, and zonal statistics by window.

:func:`rasterize` burns the control units (category and unit index) and one mask per constraint
kind onto a regular grid and writes a Cloud-Optimized GeoTIFF that carries its own legend, unit
table and provenance.  :func:`zonal_stats` summarises any raster by control unit, district, any
catalog layer or a GeoDataFrame of zones, reading the raster window by window so that memory is
bounded by the window and never by the raster.

Both need the optional ``rasterio`` dependency (``pip install 'zoning[raster]'``); it is imported
lazily, so ``import zoning`` works without it.

Modules: :mod:`~zoning.raster.burn` (:func:`rasterize`), :mod:`~zoning.raster.cog` (writing
the COG and its sidecars), :mod:`~zoning.raster.zonal` (:func:`zonal_stats`),
:mod:`~zoning.raster.cellarea` (true cell areas) and :mod:`~zoning.raster.windows` (windows
and the burner both use).  The module holding :func:`rasterize` is called ``burn`` so that the
name ``zoning.raster.rasterize`` stays the function.  Limits such as :data:`MAX_TAG_CHARS` and
:data:`MAX_CLASSES` are read from the module that uses them (``burn``, ``zonal``).

Examples
--------
>>> import zoning, zoning.raster as zr
>>> info = zr.rasterize(zoning.load_catalog(), res=1000, out="/tmp/zoning.tif")  # doctest: +SKIP
>>> zr.zonal_stats(zr.DEMO_RASTER, by="districts").head()                        # doctest: +SKIP
"""

from __future__ import annotations

from ..errors import RasterError
from .burn import CATEGORY_LEGEND, RasterInfo, rasterize
from .burn import DEMONSTRATION_NOTE as DEMONSTRATION_NOTE
from .burn import MAX_CELLS as MAX_CELLS
from .burn import MAX_TAG_CHARS as MAX_TAG_CHARS
from .burn import TERRITORY_KINDS as TERRITORY_KINDS
from .cog import _write_cog as _write_cog
from .zonal import DEMO_RASTER, zonal_stats
from .zonal import MAX_CLASSES as MAX_CLASSES

# Re-exported for old import paths (names of the former single module zoning/raster.py):
# DEMONSTRATION_NOTE, MAX_CELLS, MAX_TAG_CHARS, MAX_CLASSES, TERRITORY_KINDS, _write_cog
# (layers/build_demo_raster.py).

__all__ = [
    "CATEGORY_LEGEND",
    "DEMO_RASTER",
    "RasterError",
    "RasterInfo",
    "rasterize",
    "zonal_stats",
]
