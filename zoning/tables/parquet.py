"""The (Geo)Parquet files of a screening: ``sites.parquet`` (GeoParquet 1.1, WKB in EPSG:4326),
``hits.parquet``, ``clauses.parquet`` and ``codes.parquet``, the provenance in each file's
metadata (key :data:`PROVENANCE_KEY`).

The Arrow schemas are fixed (:func:`parquet_schemas`, from the column types of
:mod:`zoning.schema`): they never depend on the data, so a run in chunks appends each chunk's
:func:`parquet_tables` to one :class:`pyarrow.parquet.ParquetWriter` per table.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from .arrow import PROVENANCE_KEY, output_schemas
from .frames import clauses_arrow, clauses_note, codes_arrow, hits_arrow, sites_arrow

if TYPE_CHECKING:
    from ..screening import ScreeningResult

log = logging.getLogger("zoning.screening")

__all__ = [
    "PARQUET_COMPRESSION",
    "PARQUET_TABLES",
    "PROVENANCE_KEY",
    "parquet_schemas",
    "parquet_tables",
    "union_codes",
    "write_parquet",
    "write_table",
]

#: The tables of a screening written as Parquet, in order, and their files.
PARQUET_TABLES = {
    "sites": "sites.parquet",
    "hits": "hits.parquet",
    "clauses": "clauses.parquet",
    "codes": "codes.parquet",
}
#: Compression of the Parquet files.
PARQUET_COMPRESSION = "zstd"


def parquet_schemas(provenance: Mapping[str, Any] | None = None) -> dict[str, pa.Schema]:
    """The Arrow schema of each Parquet table of a screening (:data:`PARQUET_TABLES`).

    Parameters
    ----------
    provenance : mapping, optional
        Written as JSON under :data:`PROVENANCE_KEY` in each schema's metadata.

    Returns
    -------
    dict of str to pyarrow.Schema
        ``sites`` (the columns of :data:`zoning.schema.SITES_OUTPUT_TYPES` and ``geometry``,
        WKB, with the GeoParquet ``geo`` metadata), ``hits``, ``clauses``, ``codes``.  The
        same whatever the data: open a :class:`pyarrow.parquet.ParquetWriter` with it and
        append the tables of :func:`parquet_tables` chunk after chunk.
    """
    return output_schemas(provenance)


def parquet_tables(result: ScreeningResult) -> dict[str, pa.Table]:
    """The tables of ``result`` as Arrow tables of the fixed :func:`parquet_schemas`.

    Parameters
    ----------
    result : ScreeningResult

    Returns
    -------
    dict of str to pyarrow.Table
        ``sites`` (with ``geometry``: each site as WKB in EPSG:4326), ``hits``, ``clauses``
        (cut down for large runs as ``clauses.csv``, :func:`zoning.tables.clauses_note`) and
        ``codes``; each table's schema metadata holds the provenance
        (:data:`PROVENANCE_KEY`) and, for ``sites``, the GeoParquet ``geo`` metadata.

    Notes
    -----
    The schemas never depend on the data (an all-null column keeps its type), so the tables
    of the chunks of one run may be appended to one file each.  The codes of the chunks'
    ``codes`` tables are stable (they depend only on the words): rows with equal codes are
    equal, so the union of the chunks' codes tables, without duplicate codes, is the run's.
    """
    tables = {
        "sites": sites_arrow(result),
        "hits": hits_arrow(result),
        "clauses": clauses_arrow(result),
        "codes": codes_arrow(result),
    }
    return {name: tables[name] for name in PARQUET_TABLES}


def union_codes(tables: list[pa.Table]) -> pa.Table:
    """The codes table of a run in chunks: the union of the chunks' codes tables.

    Parameters
    ----------
    tables : list of pyarrow.Table
        The ``codes`` tables of :func:`parquet_tables`, one per chunk.

    Returns
    -------
    pyarrow.Table
        Each code once (codes depend only on their words, so equal codes are equal rows),
        reasons first, then conclusions, each sorted by code, as one run's table.
    """
    if not tables:
        return output_schemas()["codes"].empty_table()
    whole = pa.concat_tables(tables)
    codes = whole.column("code").to_pylist()
    first = sorted({c: i for i, c in reversed(list(enumerate(codes)))}.values())
    kinds = whole.column("kind").to_pylist()
    order = sorted(first, key=lambda i: (kinds[i] != "reason", codes[i]))
    return whole.take(pa.array(order, type=pa.int64()))


def write_parquet(result: ScreeningResult, folder: Path) -> dict[str, list[str]]:
    """Write ``sites.parquet``, ``hits.parquet``, ``clauses.parquet`` and ``codes.parquet``.

    Parameters
    ----------
    result : ScreeningResult
        What to write.
    folder : Path
        An existing folder; the files are written directly into it.

    Returns
    -------
    dict
        ``parquet`` -> the four names.

    Notes
    -----
    zstd-compressed; ``sites.parquet`` is GeoParquet 1.1 (``geo`` metadata, WKB,
    EPSG:4326), readable with :func:`geopandas.read_parquet`; the others are plain Parquet.
    The clause table is cut down for large runs as ``clauses.csv`` is (a note says so).
    """
    note = clauses_note(result) if hasattr(type(result), "clauses") else None
    if note:
        log.warning(note.replace("clauses.csv", "clauses.parquet"))
    tables = parquet_tables(result)

    def write(name: str) -> None:
        write_table(tables[name], folder / PARQUET_TABLES[name])

    with ThreadPoolExecutor(max_workers=2) as pool:  # Arrow writes without the GIL
        list(pool.map(write, PARQUET_TABLES))
    return {"parquet": list(PARQUET_TABLES.values())}


#: Columns never dictionary-encoded (nearly every value distinct).
_NO_DICTIONARY = frozenset({"site_id", "name", "feature_id", "geometry"})


def write_table(table: pa.Table, path: Path) -> None:
    """Write one output table as Parquet, as :func:`write_parquet` does.

    Parameters
    ----------
    table : pyarrow.Table
        One of :func:`parquet_tables` (its schema's metadata is written too).
    path : Path
        The file.

    Notes
    -----
    zstd; text columns dictionary-encoded except ids and names (numbers and geometries
    never: nearly every value differs).
    """
    dictionary = [
        f.name for f in table.schema if pa.types.is_string(f.type) and f.name not in _NO_DICTIONARY
    ]
    pq.write_table(table, path, compression=PARQUET_COMPRESSION, use_dictionary=dictionary or False)
