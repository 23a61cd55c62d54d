"""Screen project sites: load them, overlay the layers, apply the access-list rules.

>>> import zoning
>>> result = zoning.screen(points=[(121.47, 31.23)], crs="EPSG:4326")  # doctest: +SKIP
>>> result.sites[["site_id", "verdict"]]                          # doctest: +SKIP

The package keeps the steps apart: :mod:`~zoning.screening.pipeline` (:func:`screen` as named
steps), :mod:`~zoning.screening.options` (its option groups), :mod:`~zoning.screening.apply`
(the rules, once per situation), :mod:`~zoning.overlay.totals` (the site totals),
:mod:`~zoning.screening.reach` (how far the search reaches), :mod:`~zoning.screening.provenance`,
:mod:`~zoning.screening.result` (:class:`ScreeningResult`) and :mod:`~zoning.screening.outputs`
(the all-or-nothing output folder; the files themselves are :mod:`zoning.tables`'s).  The
geometry work stays in :mod:`zoning.overlay`, the rules in :mod:`zoning.rules`.
"""

from ..overlay import DEFAULT_SEARCH_RADIUS_M  # noqa: F401 (re-exported for old import paths)
from ..rules import SEVERITY  # noqa: F401
from ..schema import CONTEXT_KINDS
from .apply import _attach_top_reasons, _situations  # noqa: F401
from .options import ScreenOptions, SiteReading
from .outputs import FORMATS, OUTPUT_MARKER, _check_outputs, _planned_names  # noqa: F401
from .pipeline import prepare_point_grid, screen
from .result import ScreeningResult

# Re-exported for old import paths (``zoning.screening`` was one module):
# FORMATS, _check_outputs, _planned_names (zoning.cli.demo), _attach_top_reasons and
# _situations (tests/test_fast_path.py), SEVERITY (the example of screen's docstring).

__all__ = [
    "CONTEXT_KINDS",
    "FORMATS",
    "OUTPUT_MARKER",
    "ScreenOptions",
    "ScreeningResult",
    "SiteReading",
    "prepare_point_grid",
    "screen",
]
