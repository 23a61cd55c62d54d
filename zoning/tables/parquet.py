"""The (Geo)Parquet files of a screening: ``sites.parquet`` (GeoParquet 1.1, WKB in EPSG:4326),
``hits.parquet``, ``clauses.parquet`` and ``codes.parquet``, the provenance in each file's
metadata (key :data:`PROVENANCE_KEY`).

The Arrow schemas are fixed (:func:`parquet_schemas`, from the column types of
:mod:`zoning.schema`): they never depend on the data, so a run in chunks appends each chunk's
:func:`parquet_tables` to one :class:`pyarrow.parquet.ParquetWriter` per table.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

from ..schema import (
    CLAUSE_OUTPUT_TYPES,
    CODES_OUTPUT_TYPES,
    HITS_OUTPUT_TYPES,
    SITES_OUTPUT_TYPES,
)
from .frames import _clauses_table, _codes_table, _hits_table, _sites_table, _wgs84, clauses_note

if TYPE_CHECKING:
    from ..screening import ScreeningResult

__all__ = [
    "PARQUET_COMPRESSION",
    "PARQUET_TABLES",
    "PROVENANCE_KEY",
    "parquet_schemas",
    "parquet_tables",
    "write_parquet",
]

#: The key of the provenance (JSON) in every Parquet file's metadata.
PROVENANCE_KEY = b"zoning:provenance"
#: The tables of a screening written as Parquet, in order, and their files.
PARQUET_TABLES = {
    "sites": "sites.parquet",
    "hits": "hits.parquet",
    "clauses": "clauses.parquet",
    "codes": "codes.parquet",
}
#: Compression of the Parquet files.
PARQUET_COMPRESSION = "zstd"
#: The Arrow type of each type name of :mod:`zoning.schema`.
_ARROW = {
    "string": pa.string(),
    "bool": pa.bool_(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "wkb": pa.binary(),
}
_TYPES = {
    "sites": {**SITES_OUTPUT_TYPES, "geometry": "wkb"},
    "hits": HITS_OUTPUT_TYPES,
    "clauses": CLAUSE_OUTPUT_TYPES,
    "codes": CODES_OUTPUT_TYPES,
}


def _geo_metadata() -> dict[str, Any]:
    """The ``geo`` metadata of ``sites.parquet`` (GeoParquet 1.1): WKB, EPSG:4326 (PROJJSON)."""
    import pyproj

    return {
        "version": "1.1.0",
        "primary_column": "geometry",
        "columns": {
            "geometry": {
                "encoding": "WKB",
                "geometry_types": [],
                "crs": pyproj.CRS.from_epsg(4326).to_json_dict(),
                "edges": "planar",
            }
        },
    }


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
    meta: dict[bytes, bytes] = {}
    if provenance is not None:
        meta[PROVENANCE_KEY] = json.dumps(
            provenance, ensure_ascii=False, default=_json_default
        ).encode("utf-8")
    out = {}
    for name, types in _TYPES.items():
        fields = [pa.field(c, _ARROW[t]) for c, t in types.items()]
        extra = {b"geo": json.dumps(_geo_metadata()).encode()} if name == "sites" else {}
        out[name] = pa.schema(fields, metadata={**meta, **extra} or None)
    return out


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def _column(values: Any, kind: str, n: int) -> pa.Array:
    """One column as an Arrow array of ``kind`` (never guessed from the values)."""
    typ = _ARROW[kind]
    if isinstance(values, pd.Series):
        values = values.to_numpy(dtype=object) if values.dtype == object else values.array
    try:
        return pa.array(values, type=typ, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        if kind != "string":
            raise
    # A text column holding other values (numbers in a layer's attribute): as text.
    arr = np.asarray(values, dtype=object)
    miss = pd.isna(arr)
    text = np.where(miss, None, arr.astype(str).astype(object))
    return pa.array(text, type=typ)


def to_arrow(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """``frame`` as an Arrow table of exactly ``schema`` (missing columns are nulls).

    Parameters
    ----------
    frame : pandas.DataFrame
        A table of :mod:`zoning.tables.frames`.
    schema : pyarrow.Schema
        One of :func:`parquet_schemas`.

    Returns
    -------
    pyarrow.Table
    """
    n = len(frame)
    arrays = []
    for field in schema:
        if field.name in frame.columns:
            kind = next(k for k, t in _ARROW.items() if t == field.type)
            arrays.append(_column(frame[field.name], kind, n))
        else:
            arrays.append(pa.nulls(n, field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


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
    schemas = parquet_schemas(result.provenance)
    sites = _sites_table(result)
    sites["geometry"] = shapely.to_wkb(_wgs84(result.sites))
    out = {
        "sites": to_arrow(sites, schemas["sites"]),
        "hits": to_arrow(_hits_table(result), schemas["hits"]),
        "codes": to_arrow(_codes_table(result), schemas["codes"]),
    }
    if hasattr(type(result), "clauses"):
        out["clauses"] = to_arrow(_clauses_table(result), schemas["clauses"])
    else:
        out["clauses"] = schemas["clauses"].empty_table()
    return {name: out[name] for name in PARQUET_TABLES}


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
    import logging

    note = clauses_note(result) if hasattr(type(result), "clauses") else None
    if note:
        logging.getLogger("zoning.screening").warning(
            note.replace("clauses.csv", "clauses.parquet")
        )
    tables = parquet_tables(result)
    for name, file in PARQUET_TABLES.items():
        pq.write_table(tables[name], folder / file, compression=PARQUET_COMPRESSION)
    return {"parquet": list(PARQUET_TABLES.values())}
