"""Arrow columns of a fixed type: the output tables' schemas from :mod:`zoning.schema`.

Every table a screening writes is first built here as a :class:`pyarrow.Table` whose schema
is fixed by the column types of :mod:`zoning.schema` (``SITES_OUTPUT_TYPES`` ...), never
guessed from the data; the CSV, Parquet, GeoPackage, JSON and workbook writers convert it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ..schema import CLAUSE_OUTPUT_TYPES, CODES_OUTPUT_TYPES, HITS_OUTPUT_TYPES, SITES_OUTPUT_TYPES

__all__ = ["ARROW_TYPES", "OUTPUT_TYPES", "PROVENANCE_KEY", "column", "output_schemas", "table"]

#: The Arrow type of each type name of :mod:`zoning.schema` (``wkb``: a geometry as WKB).
ARROW_TYPES = {
    "string": pa.string(),
    "bool": pa.bool_(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "wkb": pa.binary(),
}
#: The column types of each output table (``sites`` with its ``geometry``, WKB in EPSG:4326).
OUTPUT_TYPES = {
    "sites": {**SITES_OUTPUT_TYPES, "geometry": "wkb"},
    "hits": HITS_OUTPUT_TYPES,
    "clauses": CLAUSE_OUTPUT_TYPES,
    "codes": CODES_OUTPUT_TYPES,
}
#: The key of the provenance (JSON) in a Parquet file's metadata.
PROVENANCE_KEY = b"zoning:provenance"


def _geo_metadata() -> dict[str, Any]:
    """The GeoParquet 1.1 ``geo`` metadata of the sites: WKB, EPSG:4326 (as PROJJSON)."""
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


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def output_schemas(provenance: Mapping[str, Any] | None = None) -> dict[str, pa.Schema]:
    """The Arrow schema of each output table: ``sites``, ``hits``, ``clauses``, ``codes``.

    Parameters
    ----------
    provenance : mapping, optional
        Written as JSON under :data:`PROVENANCE_KEY` in each schema's metadata.

    Returns
    -------
    dict of str to pyarrow.Schema
        Fixed: the same whatever the data.  ``sites`` ends with ``geometry`` (WKB) and
        carries the GeoParquet ``geo`` metadata.
    """
    meta: dict[bytes, bytes] = {}
    if provenance is not None:
        text = json.dumps(provenance, ensure_ascii=False, default=_json_default)
        meta[PROVENANCE_KEY] = text.encode("utf-8")
    out = {}
    for name, types in OUTPUT_TYPES.items():
        fields = [pa.field(c, ARROW_TYPES[t]) for c, t in types.items()]
        extra = {b"geo": json.dumps(_geo_metadata()).encode()} if name == "sites" else {}
        out[name] = pa.schema(fields, metadata={**meta, **extra} or None)
    return out


def column(values: Any, kind: str, n: int) -> pa.Array | pa.ChunkedArray:
    """``values`` as an Arrow column of ``kind`` (a type name of :data:`ARROW_TYPES`).

    Parameters
    ----------
    values : array-like or None
        A numpy array, a pandas Series or array, an Arrow array; None: ``n`` nulls.
    kind : str
        ``string``, ``bool``, ``int64``, ``float64`` or ``wkb``.
    n : int
        The number of rows.

    Returns
    -------
    pyarrow.Array or pyarrow.ChunkedArray
        NaN of a float column is null; a text column holding other values (numbers in a
        layer's attribute) holds their text.
    """
    typ = ARROW_TYPES[kind]
    if values is None:
        return pa.nulls(n, typ)
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return values if values.type == typ else values.cast(typ)
    if isinstance(values, pd.Series | pd.Index):
        # numpy-backed columns as numpy (pyarrow would wrap an object array in a Series,
        # which pandas 3 converts to its own strings first); Arrow-backed ones as they are
        values = values.to_numpy() if isinstance(values.dtype, np.dtype) else values.array
    try:
        arr = pa.array(values, from_pandas=True)
        return arr if arr.type == typ else arr.cast(typ)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        if kind != "string":
            raise
    arr = np.asarray(values, dtype=object)
    miss = pd.isna(arr)
    text = np.where(miss, None, arr.astype(str).astype(object))
    return pa.array(text, type=typ)


def table(columns: Mapping[str, Any], schema: pa.Schema, n: int) -> pa.Table:
    """An Arrow table of exactly ``schema`` from ``columns`` (missing ones are nulls).

    Parameters
    ----------
    columns : mapping
        Column name -> values (see :func:`column`).
    schema : pyarrow.Schema
        One of :func:`output_schemas`.
    n : int
        The number of rows.

    Returns
    -------
    pyarrow.Table
    """
    kinds = {t: k for k, t in ARROW_TYPES.items()}
    arrays = [column(columns.get(f.name), kinds[f.type], n) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)
