"""Interactive Leaflet/folium maps: the layer overview map and the screening map.

>>> from zoning import webmap
>>> page = webmap.overview_map(lang="en", offline=True)        # doctest: +SKIP
>>> page.save("maps/overview.html")                              # doctest: +SKIP

Pages are safe with hostile data (every data string is escaped for where it lands; see
:mod:`zoning.webmap.escape`), work offline (Leaflet and its plugins come from installed files;
see :mod:`zoning.webmap.assets`), stay small (coverage simplification, 1 m coordinates and
whitelisted properties; see :mod:`zoning.webmap.simplify`) and carry a visible notice when they
show demonstration data.
"""

from __future__ import annotations

from .assets import ASSET_MODES, TOOLS
from .basemaps import BASEMAPS
from .overview import overview_map
from .page import DEMO_NOTICE, WebMap
from .screening_map import screening_map

__all__ = [
    "ASSET_MODES",
    "BASEMAPS",
    "DEMO_NOTICE",
    "TOOLS",
    "WebMap",
    "overview_map",
    "screening_map",
]
