"""zoning: screen project sites against Shanghai's ecological zoning.

The bundled layer set is DEMONSTRATION data calibrated to official totals; it is
not the official ecological protection red line.

>>> import zoning
>>> layers = zoning.load_catalog()          # the demonstration catalog
>>> result = zoning.check_layers(layers)    # what `zoning layers check` prints
>>> table = zoning.indicators(layers)        # policy targets measured, per city and district
>>> result = zoning.screen(points=["121.4737,31.2304"], crs="EPSG:4326", layers=layers)
>>> result.sites[["site_id", "verdict"]]                                  # doctest: +SKIP
"""

from __future__ import annotations

from ._version import __version__
from .catalog import KINDS, Catalog, LayerEntry, read_catalog
from .checks import CheckResult, check_layers
from .compare import compare_alternatives, rank_alternatives
from .crs import WORKING_CRS, gcj02_to_wgs84, parse_crs, wgs84_to_gcj02
from .errors import (
    CatalogError,
    CRSError,
    LayerDataError,
    LayerReadError,
    PublishError,
    RulesError,
    SeedsError,
    SitesError,
    ZoningError,
    ZoningWarning,
)
from .indicators import indicators
from .io import LoadReport, read_layer
from .layerset import Layer, LayerSet, load_catalog
from .publish import publish_site
from .raster import rasterize, zonal_stats
from .rules import RuleSet, load_rules
from .screening import ScreeningResult, screen
from .sites import Sites, load_sites

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
    "PublishError",
    "RuleSet",
    "RulesError",
    "ScreeningResult",
    "SeedsError",
    "Sites",
    "SitesError",
    "ZoningError",
    "ZoningWarning",
    "__version__",
    "check_layers",
    "compare_alternatives",
    "gcj02_to_wgs84",
    "indicators",
    "load_catalog",
    "load_rules",
    "load_sites",
    "parse_crs",
    "publish_site",
    "rank_alternatives",
    "rasterize",
    "read_catalog",
    "read_layer",
    "screen",
    "wgs84_to_gcj02",
    "zonal_stats",
]
