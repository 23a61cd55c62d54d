"""The tables of a screening and their writers: CSV, Parquet, GeoPackage, JSON.

What :meth:`zoning.screening.ScreeningResult.to_file` writes: ``sites.csv``, ``hits.csv``,
``codes.csv`` and ``clauses.csv`` (:func:`write_csv`), ``sites.parquet``, ``hits.parquet``,
``clauses.parquet`` and ``codes.parquet`` (:func:`write_parquet`), ``screening.gpkg``
(:func:`write_gpkg`) and ``screening.json`` (:func:`write_json`), and the plain data of
:meth:`~zoning.screening.ScreeningResult.to_dict` (:func:`to_dict`).  The writers compute
nothing new: they select, order and convert the result's tables
(:mod:`zoning.tables.frames`; geometries to EPSG:4326).  Rows carry codes, not prose: each
site's reasons and conclusion are codes whose words are in the codes table, once
(:mod:`zoning.tables.codes`).  Where the files go, and how a folder is replaced
all-or-nothing, is :mod:`zoning.screening.outputs`'s business.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .codes import SiteCodes, split_reasons
from .csvfile import CSV_ENCODINGS, _check_gbk, _write_table, check_csv_encoding, write_csv
from .frames import (
    _DECISIVE,
    CLAUSES_FULL_MAX_SITES,
    CLAUSES_MAX_SITES,
    JSON_FULL_TABLES_MAX_SITES,
    REJECTED_CSV_COLUMNS,
    _clauses_table,
    _codes_table,
    _conclusions,
    _data_status,
    _hits_table,
    _ranking_table,
    _rejected_table,
    _sites_table,
    _wgs84,
    _wgs84_of,
    clauses_arrow,
    clauses_note,
    codes_arrow,
    hits_arrow,
    site_codes,
    sites_arrow,
)
from .jsonfile import _result_tables, to_dict, write_json
from .vector import OUT_CRS_CODES, check_out_crs, write_gpkg

if TYPE_CHECKING:
    from .parquet import (
        PARQUET_COMPRESSION,
        PARQUET_TABLES,
        PROVENANCE_KEY,
        parquet_schemas,
        parquet_tables,
        union_codes,
        write_parquet,
        write_table,
    )

#: The Parquet writer's names, imported on first use (PEP 562): it imports pyarrow.parquet and
#: builds the Arrow schemas, which a run writing CSV does not need.
_PARQUET = (
    "PARQUET_COMPRESSION",
    "PARQUET_TABLES",
    "PROVENANCE_KEY",
    "parquet_schemas",
    "parquet_tables",
    "union_codes",
    "write_parquet",
    "write_table",
)


def __getattr__(name: str) -> object:
    """Import a name of :mod:`zoning.tables.parquet` on first access."""
    if name not in _PARQUET:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import parquet

    value = getattr(parquet, name)
    globals()[name] = value
    return value


__all__ = [
    "CLAUSES_FULL_MAX_SITES",
    "CLAUSES_MAX_SITES",
    "CSV_ENCODINGS",
    "JSON_FULL_TABLES_MAX_SITES",
    "OUT_CRS_CODES",
    "PARQUET_COMPRESSION",
    "PARQUET_TABLES",
    "PROVENANCE_KEY",
    "REJECTED_CSV_COLUMNS",
    "SiteCodes",
    "check_csv_encoding",
    "check_out_crs",
    "clauses_arrow",
    "clauses_note",
    "codes_arrow",
    "hits_arrow",
    "parquet_schemas",
    "parquet_tables",
    "site_codes",
    "sites_arrow",
    "split_reasons",
    "to_dict",
    "union_codes",
    "write_csv",
    "write_gpkg",
    "write_json",
    "write_parquet",
    "write_table",
]
# Private names other modules import (kept importable from zoning.tables).
_PRIVATE = (
    _DECISIVE,
    _check_gbk,
    _write_table,
    _clauses_table,
    _codes_table,
    _conclusions,
    _data_status,
    _hits_table,
    _ranking_table,
    _rejected_table,
    _sites_table,
    _wgs84,
    _wgs84_of,
    _result_tables,
)
