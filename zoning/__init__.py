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

import importlib
from typing import TYPE_CHECKING

from ._version import __version__
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

if TYPE_CHECKING:  # what the lazy attributes below resolve to, for type checkers and editors
    from .catalog import KINDS, Catalog, LayerEntry, read_catalog
    from .checks import CheckResult, check_layers
    from .compare import compare_alternatives, rank_alternatives
    from .crs import WORKING_CRS, gcj02_to_wgs84, parse_crs, wgs84_to_gcj02
    from .io import LoadReport, read_layer
    from .layerset import Layer, LayerSet, load_catalog
    from .publish import publish_site
    from .raster import rasterize, zonal_stats
    from .rules import RuleSet, load_rules
    from .screening import ScreeningResult, screen
    from .sites import Sites, load_sites
    from .targets.indicators import indicators

#: Where each public name lives: imported on first access (PEP 562), so ``import zoning`` and a
#: command that needs one stage do not pay for geopandas, scipy or pyogrio up front.
_LAZY = {
    **dict.fromkeys(("KINDS", "Catalog", "LayerEntry", "read_catalog"), "catalog"),
    **dict.fromkeys(("CheckResult", "check_layers"), "checks"),
    **dict.fromkeys(("compare_alternatives", "rank_alternatives"), "compare"),
    **dict.fromkeys(("WORKING_CRS", "gcj02_to_wgs84", "parse_crs", "wgs84_to_gcj02"), "crs"),
    **dict.fromkeys(("LoadReport", "read_layer"), "io"),
    **dict.fromkeys(("Layer", "LayerSet", "load_catalog"), "layerset"),
    "publish_site": "publish",
    **dict.fromkeys(("rasterize", "zonal_stats"), "raster"),
    **dict.fromkeys(("RuleSet", "load_rules"), "rules"),
    **dict.fromkeys(("ScreeningResult", "screen"), "screening"),
    **dict.fromkeys(("Sites", "load_sites"), "sites"),
    "indicators": "targets.indicators",
}


def __getattr__(name: str) -> object:
    """Import a public name, or a stage sub-package (``zoning.overlay``), on first access."""
    module = _LAZY.get(name)
    if module is not None:
        if module == "layerset":
            # The engine registers how a layer's index is derived (``Layer.index``), as it did
            # when every stage was imported with the package.
            importlib.import_module(".overlay", __name__)
        value = getattr(importlib.import_module(f".{module}", __name__), name)
        globals()[name] = value
        return value
    if not name.startswith("__"):  # ``import zoning; zoning.overlay.x`` as when imports were eager
        try:
            return importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """The module's names and every public name, loaded or not."""
    return sorted(set(globals()) | set(__all__))


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
