"""Import optional dependencies through one helper that says which extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import ZoningError

#: module -> the extra of this package that installs it
EXTRAS = {
    "rasterio": "raster",
    "matplotlib": "report",
    "jinja2": "report",
    "folium": "maps",
    "xstatic": "maps",
    "fpdf": "documents",
    "pypdf": "documents",
    "docx": "documents",
    "fastapi": "service",
    "fastapi_offline": "service",
    "uvicorn": "service",
    "multipart": "service",
    "sqlalchemy": "postgis",
    "psycopg": "postgis",
}


class MissingDependencyError(ZoningError, ImportError):
    """An optional dependency is not installed."""


def require(module: str) -> ModuleType:
    """Import ``module`` or raise a one-line error naming the extra that provides it.

    Parameters
    ----------
    module : str
        Dotted module name, e.g. ``"rasterio"`` or ``"matplotlib.pyplot"``; its top-level
        package is looked up in :data:`EXTRAS` (unknown packages name the ``all`` extra).

    Returns
    -------
    ModuleType
        The imported module.

    Raises
    ------
    MissingDependencyError
        The import fails with any ``ImportError``; the message reads
        ``this feature needs <package>: pip install 'zoning[<extra>]'``.
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        extra = EXTRAS.get(module.split(".")[0], "all")
        raise MissingDependencyError(
            f"this feature needs {module.split('.')[0]}: pip install 'zoning[{extra}]'"
        ) from None
