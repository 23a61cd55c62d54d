"""PostGIS as a system of record: catalog layers loaded with their vintages, screenings
appended as runs.

- :mod:`.layers`: :func:`load_layers_into` (``zoning layers load``) and
  :func:`database_catalog` (a catalog pointing at the loaded tables);
- :mod:`.results`: :func:`write_screening` (``zoning screen --out postgresql://...``) and
  :func:`check_database`;
- :mod:`.write`: column types and COPY of frames.

Reading a catalog layer from a database (``source: postgresql://...``, ``table:``) is
:func:`zoning.read_layer`'s, through :mod:`zoning.io.postgis`, which also holds the URL
handling and :func:`~zoning.io.postgis.redact`.  Needs the ``postgis`` extra (SQLAlchemy,
psycopg, GeoAlchemy2).
"""

from __future__ import annotations

from .layers import LoadedLayer, database_catalog, load_layers_into
from .results import RunWritten, check_database, write_screening

__all__ = [
    "LoadedLayer",
    "RunWritten",
    "check_database",
    "database_catalog",
    "load_layers_into",
    "write_screening",
]
