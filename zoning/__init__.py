"""zoning: screen project sites against Shanghai's ecological zoning.

The bundled layer set is DEMONSTRATION data calibrated to official totals; it is
not the official ecological protection red line, and the bundled rule set is not
Shanghai's official access list.

The public API, in the order data flows through it:

- layers: :func:`read_catalog` (the catalog), :func:`load_catalog` (a :class:`LayerSet` of
  :class:`Layer` objects in :data:`WORKING_CRS`), :func:`read_layer`, :func:`check_layers`;
- sites: :func:`load_sites` (:class:`Sites`), :func:`parse_crs`, :func:`gcj02_to_wgs84`,
  :func:`wgs84_to_gcj02`;
- rules: :func:`load_rules` (:class:`RuleSet`);
- screening: :func:`screen` (:class:`ScreeningResult`: tables, ``to_file``),
  :func:`compare_alternatives`, :func:`rank_alternatives`;
- products: :func:`indicators`, :func:`rasterize`, :func:`zonal_stats`, :func:`publish_site`;
- errors: :class:`ZoningError` and its subclasses, :class:`ZoningWarning`.

Each stage is a sub-package or module (``zoning.overlay``, ``zoning.rules``,
``zoning.screening``, ``zoning.report``, ``zoning.webmap``, ...); see the README's Layout.

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
    RasterError,
    RulesError,
    SeedsError,
    SitesError,
    ZoningError,
    ZoningWarning,
)
from .io import LoadReport, read_layer
from .layerset import Layer, LayerSet, load_catalog
from .publish import publish_site
from .raster import rasterize, zonal_stats
from .rules import RuleSet, load_rules
from .screening import ScreeningResult, screen
from .sites import Sites, load_sites
from .targets.indicators import indicators

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
    "RasterError",
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
