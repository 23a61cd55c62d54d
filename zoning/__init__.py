"""zoning: screen project sites against Shanghai's ecological zoning.

The bundled layer set is DEMONSTRATION data calibrated to official totals; it is
not the official ecological protection red line.

>>> import zoning
>>> layers = zoning.load_catalog()          # the demonstration catalog
>>> result = zoning.check_layers(layers)    # what `zoning layers check` prints
>>> table = zoning.indicators(layers)        # policy targets measured, per city and district
"""

from __future__ import annotations

__version__ = "0.1.0"

from .catalog import KINDS, Catalog, LayerEntry, read_catalog
from .checks import CheckResult, check_layers
from .crs import WORKING_CRS, gcj02_to_wgs84, parse_crs, wgs84_to_gcj02
from .errors import (
    CatalogError,
    CRSError,
    LayerDataError,
    LayerReadError,
    SeedsError,
    ZoningError,
    ZoningWarning,
)
from .indicators import indicators
from .io import LoadReport, read_layer
from .layerset import Layer, LayerSet, load_catalog
from .raster import rasterize, zonal_stats

__all__ = [
    "KINDS",
    "WORKING_CRS",
    "CRSError",
    "Catalog",
    "CatalogError",
    "CheckResult",
    "Layer",
    "LayerDataError",
    "LayerEntry",
    "LayerReadError",
    "LayerSet",
    "LoadReport",
    "SeedsError",
    "ZoningError",
    "ZoningWarning",
    "__version__",
    "check_layers",
    "gcj02_to_wgs84",
    "indicators",
    "load_catalog",
    "parse_crs",
    "rasterize",
    "read_catalog",
    "read_layer",
    "wgs84_to_gcj02",
    "zonal_stats",
]
