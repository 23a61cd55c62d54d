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
