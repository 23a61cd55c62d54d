"""Read any vector source GDAL reads into the working CRS; write outputs all or nothing.

- :mod:`.vector`: paths, zips, text encodings, file hashes and the CRS of a source;
- :mod:`.layer`: :func:`read_layer`, one catalog layer into the working CRS, with its
  :class:`LoadReport`;
- :mod:`.outputs`: the output transaction (:func:`atomic_path` for one file,
  :class:`OutputFolder` for a folder of outputs).

Re-exported for old import paths (``from zoning.io import ...``; zoning.sites uses them):
``_SEGMENT_DEG``, ``_SEGMENT_M``, ``_first_line``, ``_gk_zone``, ``_is_gk_cm``,
``_polygonal``, ``_shapefile_encoding``, ``_zip_source``, ``split_zip``.
"""

from __future__ import annotations

from .layer import (  # noqa: F401 (re-exported for old import paths)
    _SEGMENT_DEG,
    _SEGMENT_M,
    LoadReport,
    _polygonal,
    drop_empty_parts,
    read_layer,
)
from .outputs import OutputFolder, atomic_path
from .vector import (  # noqa: F401 (re-exported for old import paths)
    _first_line,
    _gk_zone,
    _is_gk_cm,
    _shapefile_encoding,
    _zip_source,
    detect_dbf_encoding,
    file_sha256,
    resolve_source,
    split_zip,
)

__all__ = [
    "LoadReport",
    "OutputFolder",
    "atomic_path",
    "detect_dbf_encoding",
    "drop_empty_parts",
    "file_sha256",
    "read_layer",
    "resolve_source",
]
