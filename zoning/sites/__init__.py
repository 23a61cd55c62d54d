"""Sites in: read the project sites to screen, with their project attributes.

:func:`load_sites` (in :mod:`.load`, which documents what it accepts) is a short sequence of
named steps over the modules of this package:

- :mod:`.sources`: files (GeoJSON, GeoPackage, Shapefile, zips, KML), CSV, workbooks
  (:mod:`.spreadsheet`: ``.xlsx`` read with openpyxl), Python objects, inline ``wkt=`` and
  ``points=``; :mod:`.dxf`: DXF site plans (closed boundaries as polygons; DWG refused);
  :mod:`.coordinates`: "lon,lat" and degrees-minutes-seconds cells;
- :mod:`.geometry`: the CRS (declared or the source's own; GCJ-02/BD-09 shifts), coordinate
  checks, geometry checks and repairs, projection to the working CRS; :mod:`.hints`: which
  CRS was probably meant when the sites land outside Shanghai;
- :mod:`.attributes`: industry codes, flags, nature, ids, and the derived "两高" and
  ``linear``;
- :mod:`.raw`: the raw input record and how rows are named in messages.
"""

from __future__ import annotations

from .attributes import (
    FLAGS,
    NATURES,
    SITE_COLUMNS,
    TWO_HIGH_DIVISIONS,
    TWO_HIGH_EXCEPTIONS,
    parse_industry_code,
)
from .geometry import BD09_UNCERTAINTY_M, GCJ02_UNCERTAINTY_M
from .load import ON_ROW_ERROR, InputRows, Sites, load_sites

__all__ = [
    "BD09_UNCERTAINTY_M",
    "FLAGS",
    "GCJ02_UNCERTAINTY_M",
    "NATURES",
    "ON_ROW_ERROR",
    "SITE_COLUMNS",
    "TWO_HIGH_DIVISIONS",
    "TWO_HIGH_EXCEPTIONS",
    "InputRows",
    "Sites",
    "load_sites",
    "parse_industry_code",
]
