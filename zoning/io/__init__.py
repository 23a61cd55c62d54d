"""Read any vector source GDAL reads into the working CRS; write outputs all or nothing.

- :mod:`.vector`: paths, zips, text encodings, file hashes and the CRS of a source;
- :mod:`.guard`: what an input may make us do: no network unless allowed
  (:func:`set_network_allowed`), no VRT reading other files, no zip bomb;
- :mod:`.layer`: :func:`read_layer`, one catalog layer into the working CRS, with its
  :class:`LoadReport`;
- :mod:`.outputs`: the output transaction (:func:`atomic_path` for one file,
  :class:`OutputFolder` for a folder of outputs);
- :mod:`.postgis`: PostgreSQL/PostGIS URLs (credentials, :func:`~.postgis.redact`) and
  reading a catalog layer's table;
- :mod:`.owned`: which single files zoning wrote (``--out FILE`` replaces only those);
- :mod:`.temporaries`: temporaries of killed runs, removed by the next run;
- :mod:`.cells`: CSV cells a spreadsheet would run as formulas, made inert.

Re-exported for old import paths (``from zoning.io import ...``; zoning.sites uses them):
``SEGMENT_DEG``, ``SEGMENT_M``, ``first_line``, ``gk_zone``, ``is_gk_cm``,
``polygonal``, ``shapefile_encoding``, ``zip_source``, ``split_zip``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # what the lazy attributes below resolve to, for type checkers and editors
    from .guard import network_allowed, set_network_allowed
    from .layer import (
        SEGMENT_DEG,
        SEGMENT_M,
        LoadReport,
        drop_empty_parts,
        polygonal,
        read_layer,
    )
    from .outputs import OutputFolder, atomic_path
    from .vector import (
        detect_dbf_encoding,
        file_sha256,
        first_line,
        gk_zone,
        is_gk_cm,
        resolve_source,
        shapefile_encoding,
        split_zip,
        zip_source,
    )

#: Where each name lives, imported on first access (PEP 562): ``zoning.io.postgis`` or
#: ``zoning.io.outputs`` alone do not import pyogrio, geopandas and the layer reader.
_LAZY = {
    **dict.fromkeys(("network_allowed", "set_network_allowed"), "guard"),
    **dict.fromkeys(
        ("SEGMENT_DEG", "SEGMENT_M", "LoadReport", "drop_empty_parts", "polygonal", "read_layer"),
        "layer",
    ),
    **dict.fromkeys(("OutputFolder", "atomic_path"), "outputs"),
    **dict.fromkeys(
        (
            "detect_dbf_encoding",
            "file_sha256",
            "first_line",
            "gk_zone",
            "is_gk_cm",
            "resolve_source",
            "shapefile_encoding",
            "split_zip",
            "zip_source",
        ),
        "vector",
    ),
}


def __getattr__(name: str) -> object:
    """Import one of the names above on first access."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names and every re-exported name, loaded or not."""
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "SEGMENT_DEG",
    "SEGMENT_M",
    "LoadReport",
    "OutputFolder",
    "atomic_path",
    "detect_dbf_encoding",
    "drop_empty_parts",
    "file_sha256",
    "first_line",
    "gk_zone",
    "is_gk_cm",
    "network_allowed",
    "polygonal",
    "read_layer",
    "resolve_source",
    "set_network_allowed",
    "shapefile_encoding",
    "split_zip",
    "zip_source",
]
