"""Writing frames into PostGIS tables: column types, added columns and COPY of the rows.

Every name is quoted as an identifier (:mod:`psycopg.sql`), every value travels through
``COPY ... FROM STDIN`` (never pasted into SQL); geometries as hex EWKB with their SRID.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import shapely

__all__ = ["add_columns", "copy_frame", "existing_columns", "sql_type"]


def sql_type(series: pd.Series) -> str:
    """The PostgreSQL type a column of this pandas dtype is stored as.

    Parameters
    ----------
    series : pandas.Series

    Returns
    -------
    str
        ``boolean``, ``bigint``, ``double precision``, ``timestamptz``, ``timestamp`` or
        ``text`` (anything else, including mixed objects, which are written as JSON or text).
    """
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "bigint"
    if pd.api.types.is_float_dtype(dtype):
        return "double precision"
    if isinstance(dtype, pd.DatetimeTZDtype):
        return "timestamptz"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "timestamp"
    values = series.dropna()
    if len(values) and all(isinstance(v, bool | np.bool_) for v in values):
        return "boolean"
    return "text"


def existing_columns(conn: Any, schema: str, table: str) -> list[str]:
    """The columns a table has (empty when it does not exist).

    Parameters
    ----------
    conn : psycopg.Connection
    schema, table : str

    Returns
    -------
    list of str
        In the table's order.
    """
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND "
        "table_name = %s ORDER BY ordinal_position",
        [schema, table],
    ).fetchall()
    return [r[0] for r in rows]


def add_columns(conn: Any, schema: str, table: str, frame: pd.DataFrame) -> None:
    """Add to the table the columns of ``frame`` it lacks (typed by :func:`sql_type`).

    Parameters
    ----------
    conn : psycopg.Connection
    schema, table : str
    frame : DataFrame
        Its non-geometry columns are compared with the table's.
    """
    from psycopg import sql

    have = set(existing_columns(conn, schema, table))
    for col in frame.columns:
        if col in have or col == getattr(frame, "_geometry_column_name", None):
            continue
        conn.execute(
            sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
                sql.Identifier(schema, table), sql.Identifier(col), sql.SQL(sql_type(frame[col]))
            )
        )


def _cell(value: Any) -> Any:
    """A Python value COPY writes: None for missing, plain numbers, text for the rest."""
    if value is None:
        return None
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.to_pydatetime()
    if isinstance(value, dt.datetime | dt.date | str):
        return value
    if isinstance(value, list | tuple | dict | np.ndarray):
        return json.dumps(value.tolist() if isinstance(value, np.ndarray) else value, default=str)
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def ewkb(geoms: Sequence[Any], srid: int) -> list[str | None]:
    """Hex EWKB with ``srid`` for each geometry (None stays None).

    Parameters
    ----------
    geoms : sequence of shapely geometries
    srid : int

    Returns
    -------
    list of str or None
    """
    arr = shapely.set_srid(np.asarray(geoms, dtype=object), srid)
    out = shapely.to_wkb(arr, hex=True, include_srid=True)
    return [None if g is None else str(g) for g in out]


def copy_frame(
    conn: Any, schema: str, table: str, columns: dict[str, Sequence[Any]], n: int
) -> None:
    """COPY ``n`` rows into ``schema.table``, one sequence of values per column.

    Parameters
    ----------
    conn : psycopg.Connection
    schema, table : str
    columns : dict of str to sequence
        Column name -> its values (geometry columns as hex EWKB from :func:`ewkb`).
    n : int
        Rows.
    """
    from psycopg import sql

    names = list(columns)
    stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(schema, table), sql.SQL(", ").join(map(sql.Identifier, names))
    )
    values = [list(columns[c]) for c in names]
    with conn.cursor() as cur, cur.copy(stmt) as copy:
        for i in range(n):
            copy.write_row([_cell(v[i]) for v in values])
