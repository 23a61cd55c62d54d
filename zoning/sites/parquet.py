"""Sites from Parquet: GeoParquet (1.0 / 1.1 ``geo`` metadata) or a table with lon/lat columns.

A GeoParquet file carries its geometry column and CRS in its ``geo`` metadata: the CRS is
the file's own (a missing ``crs`` member means OGC:CRS84, as the specification says; a
``null`` one means unknown, so ``--crs`` is needed).  A plain Parquet table gives its
sites by lon/lat, x/y or WKT columns (the same names as a CSV, :mod:`.sources`), or a WKB
column named like a WKT one, and needs ``--crs`` as a CSV does.

Files are untrusted: before anything is read, the file must end with a footer that fits in
it, and the footer's row count and uncompressed size must stay within
:data:`PARQUET_MAX_ROWS` and :data:`PARQUET_MAX_BYTES` (``ZONING_PARQUET_MAX_ROWS``,
``ZONING_PARQUET_MAX_MB``), so a forged header cannot make the reader allocate without
bound.  Every problem is one line naming the file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from ..errors import SitesError, quote
from ..io.guard import check_local
from .raw import _Raw, _Where

__all__ = [
    "GEOPARQUET_ENCODINGS",
    "PARQUET_MAX_BYTES",
    "PARQUET_MAX_ROWS",
    "PARQUET_SUFFIXES",
    "read_parquet_sites",
]

#: File suffixes read as Parquet.
PARQUET_SUFFIXES = frozenset({".parquet", ".geoparquet", ".pq"})
#: Rows a Parquet sites file may declare (``ZONING_PARQUET_MAX_ROWS`` raises it).
PARQUET_MAX_ROWS = 100_000_000
#: Uncompressed bytes a Parquet sites file may declare (``ZONING_PARQUET_MAX_MB``).
PARQUET_MAX_BYTES = 16 << 30
#: The largest footer read (the file's metadata): a forged footer length beyond it is refused.
_FOOTER_MAX_BYTES = 64 << 20
#: Geometry encodings of GeoParquet 1.0 (WKB) and 1.1 (GeoArrow native encodings).
GEOPARQUET_ENCODINGS = (
    "WKB",
    "point",
    "linestring",
    "polygon",
    "multipoint",
    "multilinestring",
    "multipolygon",
)
_MAGIC = b"PAR1"
_WKB_NAMES = ("wkb", "geometry", "geom", "the_geom", "wkb_geometry")


def _limits() -> tuple[int, int]:
    rows, size = PARQUET_MAX_ROWS, PARQUET_MAX_BYTES
    try:
        rows = int(float(os.environ["ZONING_PARQUET_MAX_ROWS"]))
    except (KeyError, ValueError):
        pass
    try:
        size = int(float(os.environ["ZONING_PARQUET_MAX_MB"]) * (1 << 20))
    except (KeyError, ValueError):
        pass
    return rows, size


def _check_frame(path: Path, label: str) -> None:
    """The file starts and ends with ``PAR1`` and its footer length fits in it."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(4)
        if head != _MAGIC:
            raise SitesError(f"{label}: not a Parquet file (it does not start with PAR1)")
        if size < 12:
            raise SitesError(f"{label}: truncated Parquet file ({size} bytes)")
        fh.seek(size - 8)
        tail = fh.read(8)
    footer = int.from_bytes(tail[:4], "little")
    if tail[4:] != _MAGIC:
        raise SitesError(f"{label}: truncated or damaged Parquet file (no PAR1 at its end)")
    if footer > size - 12:
        raise SitesError(
            f"{label}: truncated or damaged Parquet file (its footer claims {footer:,} bytes, "
            f"the file has {size:,})"
        )
    if footer > _FOOTER_MAX_BYTES:
        raise SitesError(
            f"{label}: Parquet footer of {footer / (1 << 20):,.0f} MiB refused (more than "
            f"{_FOOTER_MAX_BYTES >> 20} MiB of metadata)"
        )


def _metadata(path: Path, label: str) -> Any:
    """The file's footer (pyarrow.parquet.FileMetaData), checked against the limits."""
    import pyarrow.parquet as pq

    try:
        meta = pq.read_metadata(path)
    except Exception as exc:
        raise SitesError(
            f"{label}: damaged Parquet file (its metadata cannot be read: {_first(exc)})"
        ) from None
    max_rows, max_bytes = _limits()
    rows = int(meta.num_rows)
    declared = sum(int(meta.row_group(i).num_rows) for i in range(meta.num_row_groups))
    if rows < 0 or rows != declared:
        raise SitesError(
            f"{label}: damaged Parquet file (it declares {rows:,} rows, its row groups "
            f"{declared:,})"
        )
    if rows > max_rows:
        raise SitesError(
            f"{label}: {rows:,} rows, more than {max_rows:,}; refused before reading "
            "(ZONING_PARQUET_MAX_ROWS raises the limit)"
        )
    total = sum(int(meta.row_group(i).total_byte_size) for i in range(meta.num_row_groups))
    if total > max_bytes:
        raise SitesError(
            f"{label}: {total / (1 << 20):,.0f} MiB of uncompressed data, more than "
            f"{max_bytes / (1 << 20):,.0f} MiB; refused before reading (ZONING_PARQUET_MAX_MB "
            "raises the limit)"
        )
    return meta


def _first(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def _geo(meta: Any, label: str) -> dict | None:
    """The ``geo`` metadata, checked (None for a plain Parquet table)."""
    kv = meta.metadata or {}
    raw = kv.get(b"geo")
    if raw is None:
        return None
    try:
        geo = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SitesError(
            f"{label}: its GeoParquet 'geo' metadata is not valid JSON ({_first(exc)})"
        ) from None
    columns = geo.get("columns") if isinstance(geo, dict) else None
    primary = geo.get("primary_column") if isinstance(geo, dict) else None
    if not isinstance(columns, dict) or not isinstance(primary, str) or primary not in columns:
        raise SitesError(
            f"{label}: its GeoParquet 'geo' metadata names no geometry column "
            "(primary_column and columns are required)"
        )
    col = columns[primary]
    encoding = col.get("encoding") if isinstance(col, dict) else None
    if encoding not in GEOPARQUET_ENCODINGS:
        raise SitesError(
            f"{label}: geometry column {quote(primary)} has the encoding {quote(str(encoding))}, "
            f"not one GeoParquet defines ({', '.join(GEOPARQUET_ENCODINGS)})"
        )
    if primary not in meta.schema.to_arrow_schema().names:
        raise SitesError(
            f"{label}: the 'geo' metadata names the geometry column {quote(primary)}, which the "
            "file does not have"
        )
    return geo


def _crs_of(geo: dict, label: str) -> Any:
    """The CRS of the primary column: OGC:CRS84 when not given, None when ``null``."""
    import pyproj

    col = geo["columns"][geo["primary_column"]]
    if "crs" not in col:
        return pyproj.CRS.from_user_input("OGC:CRS84")
    value = col["crs"]
    if value is None:
        return None
    try:
        return pyproj.CRS.from_user_input(value)
    except (pyproj.exceptions.CRSError, TypeError, ValueError):
        raise SitesError(
            f"{label}: the CRS in its 'geo' metadata is not one PROJ understands"
        ) from None


def read_parquet_sites(path: Path, label: str) -> _Raw:
    """The sites of a (Geo)Parquet file.

    Parameters
    ----------
    path : Path
        The file.
    label : str
        How messages name it.

    Returns
    -------
    _Raw
        Geometries and the file's own CRS (GeoParquet), or the table for the lon/lat,
        x/y, WKT or WKB columns (plain Parquet; the CRS is the user's to give).

    Raises
    ------
    SitesError
        Not Parquet, truncated or damaged, beyond the limits, ``geo`` metadata that is not
        JSON or names an unknown encoding, a CRS PROJ does not understand, no geometry and
        no coordinate columns: one line naming the file.
    """
    from .sources import _from_table, _own_crs

    check_local(str(path), label)
    _check_frame(path, label)
    meta = _metadata(path, label)
    geo = _geo(meta, label)
    if geo is None:
        df = _read_table(path, label)
        return _plain_table(df, label, _from_table)
    crs = _crs_of(geo, label)
    gdf = _read_geo(path, label, geo)
    primary = geo["primary_column"]
    attrs = pd.DataFrame(gdf.drop(columns=[primary])).reset_index(drop=True)
    raw = _Raw(
        where=_Where(label, "row"),
        n=len(gdf),
        table=attrs,
        geoms=gdf[primary].to_numpy(),
        crs_subject=f"{label} (GeoParquet metadata without a CRS)",
    )
    if crs is not None:
        _own_crs(raw, crs)
    return raw


def _read_table(path: Path, label: str) -> pd.DataFrame:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:
        raise SitesError(f"{label}: cannot read as Parquet: {_first(exc)}") from None
    return table.to_pandas()


def _read_geo(path: Path, label: str, geo: dict) -> Any:
    import geopandas as gpd

    try:
        return gpd.read_parquet(path)
    except Exception as exc:
        raise SitesError(f"{label}: cannot read as GeoParquet: {_first(exc)}") from None


def _plain_table(df: pd.DataFrame, label: str, from_table: Any) -> _Raw:
    """Sites of a Parquet table without ``geo`` metadata: a WKB column is decoded, the rest
    is a table as a CSV's (lon/lat, x/y, WKT)."""
    where = _Where(label, "row")
    binary = [
        c
        for c in df.columns
        if str(c).strip().lower() in _WKB_NAMES
        and len(df)
        and isinstance(df[c].dropna().iloc[0] if df[c].notna().any() else None, bytes)
    ]
    if not binary:
        return from_table(df, where)
    column = binary[0]
    values = df[column].to_numpy(dtype=object)
    try:
        geoms = shapely.from_wkb(values, on_invalid="raise")
    except Exception as exc:
        raise SitesError(
            f"{label}: column {quote(column)} holds binary values that are not WKB ({_first(exc)})"
        ) from None
    missing = np.flatnonzero(shapely.is_missing(geoms))
    if len(missing):
        raise SitesError(f"{where.row(int(missing[0]))}: no geometry in column {quote(column)}")
    return _Raw(
        where=where,
        n=len(df),
        table=df.drop(columns=[column]).reset_index(drop=True),
        geoms=geoms,
        crs_subject=f"WKB column {quote(column)} (Parquet without GeoParquet metadata)",
        geometry_columns=(column,),
    )
