"""The public map pages: a static site built from a catalog (``zoning publish OUT_DIR``).

The site's layout, its guarantees and the order of the build are described in
:mod:`zoning.publish.site`.  Modules:

- :mod:`~zoning.publish.site`: :func:`publish_site`, the build as named steps, and the
  output transaction (temporary folder, marker, swap, the user's files kept);
- :mod:`~zoning.publish.statistics`: the districts and what each layer holds in them;
- :mod:`~zoning.publish.downloads`: the GeoJSON and GeoPackage downloads;
- :mod:`~zoning.publish.pages`: the templates and one writer per page;
- :mod:`~zoning.publish.text`: the UI strings and the formatting of values.
"""

from ..errors import PublishError
from .downloads import (
    DOWNLOAD_PRECISION_DEG,
    GPKG_NAME,
    PROVENANCE_COLUMNS,  # noqa: F401 (re-exported for old import paths)
    _write_downloads,  # noqa: F401 (re-exported for old import paths)
    download_columns,
)
from .site import SITE_MARKER, PublishedSite, check_out_dir, publish_site
from .statistics import (
    NEIGHBOUR_MIN_SHARED_M,  # noqa: F401 (re-exported for old import paths)
    District,
    district_statistics,
    districts_of,
    layer_statistics,
)
from .text import UI  # noqa: F401 (re-exported for old import paths)

# re-exported for old import paths: _write_downloads (the tests read it), PROVENANCE_COLUMNS,
# NEIGHBOUR_MIN_SHARED_M, UI (module constants of the former zoning/publish.py)

__all__ = [
    "DOWNLOAD_PRECISION_DEG",
    "GPKG_NAME",
    "SITE_MARKER",
    "District",
    "PublishError",
    "PublishedSite",
    "check_out_dir",
    "district_statistics",
    "districts_of",
    "download_columns",
    "layer_statistics",
    "publish_site",
]
