"""The tables of a screening as written: sites, hits, clauses, codes, ranking, rejected rows.

Every writer (:mod:`.csvfile`, :mod:`.parquet`, :mod:`.vector`, :mod:`.jsonfile`, the
workbook of :mod:`zoning.documents.excel`) writes these frames; they select, order and
convert the result's tables (geometries to EPSG:4326) and compute nothing new.  Their
columns are those of :mod:`zoning.schema` (``SITES_OUTPUT_TYPES``, ``HITS_OUTPUT_TYPES``,
``CLAUSE_OUTPUT_TYPES``, ``CODES_OUTPUT_TYPES``), always all of them, in order.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
from geopandas.array import transform as gpd_transform

from ..crs import WGS84, WORKING_CRS, transformer
from ..labels import VERDICT_LABELS
from ..schema import (
    CLAUSE_COLUMNS,
    HITS_CSV_COLUMNS,
    SITES_CSV_COLUMNS,
    SITES_OUTPUT_TYPES,
)
from .arrow import column, output_schemas
from .arrow import table as arrow_table
from .codes import SiteCodes, result_codes

if TYPE_CHECKING:
    from ..screening import ScreeningResult

log = logging.getLogger("zoning.screening")

__all__ = [
    "CLAUSES_FULL_MAX_SITES",
    "CLAUSES_MAX_SITES",
    "JSON_FULL_TABLES_MAX_SITES",
    "REJECTED_CSV_COLUMNS",
    "clauses_arrow",
    "clauses_note",
    "codes_arrow",
    "hits_arrow",
    "site_codes",
    "sites_arrow",
]

#: Above this many sites ``screening.json`` leaves out the ``layer_summary`` and ``reasons``
#: rows (a row per site and layer, several per site and rule: some 12 kB per site, 12 GB for a
#: million points); ``sites.csv`` and ``hits.csv`` still hold every site and every hit.
JSON_FULL_TABLES_MAX_SITES = 100_000


#: Up to this many sites ``clauses.csv`` and ``screening.json`` hold every row of the clause
#: table (about 40 rows per site on the demonstration rules 2026.12, some 30 kB per site in the
#: CSV); above it ``clauses.csv`` holds only the rows that keep a site from complying
#: (``violates``, ``undecided``, ``needs_review``) and ``screening.json`` leaves the clauses out.
#: Measured on a shared 2-core machine with 100,000 random points in Shanghai's bounding box
#: (one project): 4.08 million rows built in 9.7 s (plus 2.7 s for the conclusions), 2.9 GB
#: as CSV written in 34 s, peak memory 3.1 GB (1.0 GB for the screening alone).
CLAUSES_FULL_MAX_SITES = 10_000
#: Above this many sites no clause table is built at all (see the memory above): ``clauses.csv``
#: has its header only and ``conclusion_zh`` is empty; a note says so.
CLAUSES_MAX_SITES = 50_000
#: The results ``clauses.csv`` keeps above :data:`CLAUSES_FULL_MAX_SITES` sites.
_DECISIVE = ("violates", "undecided", "needs_review")

# The column lists live in zoning.schema; _SITE_COLUMNS and _HITS_COLUMNS keep their old names.
_SITE_COLUMNS = SITES_CSV_COLUMNS
_HITS_COLUMNS = HITS_CSV_COLUMNS
#: The Chinese verdict words of ``sites.csv``'s ``verdict_zh`` column.
_VERDICT_ZH = {code: zh for code, (zh, _) in VERDICT_LABELS.items()}


def _data_status(result: ScreeningResult) -> str:
    """``demonstration`` when any layer or the rule set is, else the layers' statuses."""
    if result.is_demonstration:
        return "demonstration"
    statuses = {
        str(p.get("status") or "unknown")
        for p in result.provenance.get("layers", [])
        if isinstance(p, dict) and p.get("load", "ok") == "ok"
    }
    return "; ".join(sorted(statuses)) or "unknown"


_TO_WGS84: list = []


def _wgs84(sites: gpd.GeoDataFrame) -> np.ndarray:
    """The sites' geometries in WGS84 (as ``geometry.to_crs(WGS84)``; from the working CRS
    with one transformer kept, without geopandas' per-call lookup of it by the CRSs' WKT)."""
    if sites.crs is not WORKING_CRS and sites.crs != WORKING_CRS:
        return sites.geometry.to_crs(WGS84).to_numpy()
    if not _TO_WGS84:
        _TO_WGS84.append(transformer(WORKING_CRS, WGS84))
    geoms = sites.geometry.to_numpy()
    return gpd_transform(geoms, _TO_WGS84[0].transform)


def _wgs84_of(result: ScreeningResult) -> np.ndarray:
    """:func:`_wgs84` of ``result``'s sites, once per result (every writer needs it)."""
    sites = result.sites
    cached = result.__dict__.get("_wgs84")
    if cached is not None and cached[0] is sites:
        return cached[1]
    geoms = _wgs84(sites)
    result.__dict__["_wgs84"] = (sites, geoms)
    return geoms


def _wgs84_points(result: ScreeningResult) -> tuple[np.ndarray, np.ndarray] | None:
    """The WGS84 longitudes and latitudes of point sites (None unless every site is a
    non-empty point in the working CRS): coordinates only, no geometry objects."""
    sites = result.sites
    if sites.crs is not WORKING_CRS and sites.crs != WORKING_CRS:
        return None
    geoms = sites.geometry.to_numpy()
    if not len(geoms) or not bool((shapely.get_type_id(geoms) == 0).all()):
        return None
    xy = shapely.get_coordinates(geoms)
    if len(xy) != len(geoms):
        return None
    _wgs84(sites.iloc[:0])  # the transformer, kept
    x, y = _TO_WGS84[0].transform(xy[:, 0], xy[:, 1])
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def _point_wkb(x: np.ndarray, y: np.ndarray) -> pa.Array:
    """2-D points as WKB (little-endian), built as one buffer."""
    rec = np.empty(len(x), dtype=[("order", "u1"), ("type", "<u4"), ("x", "<f8"), ("y", "<f8")])
    rec["order"] = 1
    rec["type"] = 1
    rec["x"] = x
    rec["y"] = y
    fixed = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(21), len(x), [None, pa.py_buffer(rec.tobytes())]
    )
    return fixed.cast(pa.binary())


def sites_arrow(result: ScreeningResult, *, geometry: bool = True) -> pa.Table:
    """The sites table as Arrow: the columns of :data:`zoning.schema.SITES_OUTPUT_TYPES`.

    Parameters
    ----------
    result : ScreeningResult
    geometry : bool
        Fill ``geometry`` (each site as WKB in EPSG:4326); False: nulls.

    Returns
    -------
    pyarrow.Table
        Of the fixed schema ``output_schemas(result.provenance)["sites"]``: lon/lat of a
        point on each site (WGS84), the code columns of :func:`site_codes`, ``data_status``
        (``demonstration`` when the data are).

    Notes
    -----
    Cost: vectorised (no Python per row): the transformation to WGS84, three
    factorisations for the codes, the conversion of each column to Arrow.
    """
    s = result.sites
    n = len(s)
    codes = site_codes(result)
    points = _wgs84_points(result)
    if points is not None:
        lon, lat = points
        wkb = _point_wkb(lon, lat) if geometry else None
    else:
        geoms = _wgs84_of(result)
        rep = shapely.point_on_surface(geoms)
        lon, lat = shapely.get_x(rep), shapely.get_y(rep)
        wkb = shapely.to_wkb(geoms) if geometry else None
    verdict = s["verdict"]
    columns: dict[str, Any] = {name: s[name] for name in SITES_OUTPUT_TYPES if name in s.columns}
    columns.update(
        {
            "verdict_zh": verdict.map(_VERDICT_ZH),
            "lon": np.round(lon, 7),
            "lat": np.round(lat, 7),
            "rule_ids": codes.rule_ids,
            "reason_codes": codes.reason_codes,
            "data_status": pa.repeat(_data_status(result), n).cast(pa.string()),
            "conclusion_code": codes.conclusion_code,
        }
    )
    columns["geometry"] = wkb
    return arrow_table(columns, output_schemas(result.provenance)["sites"], n)


def _sites_table(result: ScreeningResult, *, geometry: bool = False) -> pd.DataFrame:
    """The sites table: the columns of :data:`zoning.schema.SITES_OUTPUT_TYPES`, in order
    (:func:`sites_arrow` as pandas).  With ``geometry``, a GeoDataFrame with the sites'
    geometries (working CRS)."""
    table = _pandas(sites_arrow(result, geometry=False).drop_columns(["geometry"]))
    if geometry:
        return gpd.GeoDataFrame(table, geometry=result.sites.geometry.to_numpy(), crs=WORKING_CRS)
    return table


def _pandas(table: pa.Table) -> pd.DataFrame:
    """An output table as pandas: text as ``str``, booleans with nulls as objects."""
    return table.to_pandas()


def site_codes(result: ScreeningResult) -> SiteCodes:
    """The code columns of ``result``'s sites and its codes table (cached on the result).

    Parameters
    ----------
    result : ScreeningResult

    Returns
    -------
    SiteCodes
        See :func:`zoning.tables.codes.site_codes`; conclusions are coded up to
        :data:`CLAUSES_MAX_SITES` sites.
    """
    return result_codes(result, _conclusion_texts(result))


def codes_arrow(result: ScreeningResult) -> pa.Table:
    """The codes table (:data:`zoning.schema.CODES_OUTPUT_TYPES`) of ``result`` as Arrow.

    Parameters
    ----------
    result : ScreeningResult

    Returns
    -------
    pyarrow.Table
    """
    codes = site_codes(result).codes
    schema = output_schemas(result.provenance)["codes"]
    return arrow_table({c: codes[c].to_numpy(dtype=object) for c in codes}, schema, len(codes))


def _codes_table(result: ScreeningResult) -> pd.DataFrame:
    """The codes table (:data:`zoning.schema.CODES_OUTPUT_TYPES`) of ``result``."""
    return _pandas(codes_arrow(result))


def hits_arrow(result: ScreeningResult) -> pa.Table:
    """The hits table as Arrow: the columns of :data:`zoning.schema.HITS_OUTPUT_TYPES`.

    Parameters
    ----------
    result : ScreeningResult

    Returns
    -------
    pyarrow.Table
        Each hit with its layer's data status (``layer_status``).
    """
    h = result.hits
    n = len(h)
    columns: dict[str, Any] = {c: h[c] for c in _HITS_COLUMNS if c in h.columns}
    status = {
        p.get("id"): p.get("status")
        for p in result.provenance.get("layers", [])
        if isinstance(p, dict)
    }
    if n:
        layer = column(h["layer_id"], "string", n)
        if isinstance(layer, pa.ChunkedArray):
            layer = layer.combine_chunks()
        encoded = layer.dictionary_encode()
        names = encoded.dictionary.to_pylist()
        values = pa.array([status.get(v) for v in names], type=pa.string())
        columns["layer_status"] = values.take(encoded.indices)
    return arrow_table(columns, output_schemas(result.provenance)["hits"], n)


def _hits_table(result: ScreeningResult) -> pd.DataFrame:
    """``hits.csv``: the columns of :data:`zoning.schema.HITS_CSV_COLUMNS` and each layer's
    data status."""
    return _pandas(hits_arrow(result))


def _conclusion_texts(result: ScreeningResult) -> tuple[np.ndarray, np.ndarray] | None:
    """Each site's ``conclusion_zh`` and ``conclusion_en``
    (:attr:`ScreeningResult.clause_conclusions`); None above :data:`CLAUSES_MAX_SITES` sites."""
    n = len(result.sites)
    if n > CLAUSES_MAX_SITES or not hasattr(type(result), "clause_conclusions"):
        return None
    conc = result.clause_conclusions
    return (
        conc["conclusion_zh"].to_numpy(dtype=object),
        conc["conclusion_en"].to_numpy(dtype=object),
    )


def _conclusions(result: ScreeningResult) -> np.ndarray:
    """Each site's conclusion (:attr:`ScreeningResult.clause_conclusions`); None for every site
    above :data:`CLAUSES_MAX_SITES` sites."""
    texts = _conclusion_texts(result)
    if texts is None:
        return np.full(len(result.sites), None, dtype=object)
    return texts[0]


def clauses_note(result: ScreeningResult) -> str | None:
    """What the written clause table leaves out for a large screening (None: nothing).

    Parameters
    ----------
    result : ScreeningResult

    Returns
    -------
    str or None
    """
    n = len(result.sites)
    if n > CLAUSES_MAX_SITES:
        return (
            f"no clause table for {n:,} sites (more than {CLAUSES_MAX_SITES:,}): clauses.csv "
            "has its header only and conclusion_code is empty; screen fewer sites at a time "
            "for the clause-by-clause analysis"
        )
    if n > CLAUSES_FULL_MAX_SITES:
        return (
            f"clauses.csv holds only the violates, undecided and needs_review rows for "
            f"{n:,} sites (more than {CLAUSES_FULL_MAX_SITES:,}), and screening.json no "
            "clauses; every site's conclusion is in sites.csv (conclusion_code, its words in "
            "codes.csv)"
        )
    return None


def clauses_arrow(result: ScreeningResult) -> pa.Table:
    """The clause table as Arrow, cut down for large screenings (:func:`clauses_note`).

    Parameters
    ----------
    result : ScreeningResult

    Returns
    -------
    pyarrow.Table
        The columns of :data:`zoning.schema.CLAUSE_OUTPUT_TYPES` (no rows above
        :data:`CLAUSES_MAX_SITES` sites, or for a result without a clause table).
    """
    schema = output_schemas(result.provenance)["clauses"]
    n = len(result.sites)
    if n > CLAUSES_MAX_SITES or not hasattr(type(result), "clauses"):
        return schema.empty_table()
    table = result.clauses
    if n > CLAUSES_FULL_MAX_SITES:
        table = table[table["result"].isin(_DECISIVE)]
    columns: dict[str, Any] = {c: table[c] for c in CLAUSE_COLUMNS}
    # As sites.csv: a reader of this file alone sees when the rules are demonstration ones.
    columns["data_status"] = pa.repeat(_data_status(result), len(table)).cast(pa.string())
    return arrow_table(columns, schema, len(table))


def _clauses_table(result: ScreeningResult) -> pd.DataFrame:
    """``clauses.csv``: the clause table, cut down for large screenings (:func:`clauses_note`)."""
    return _pandas(clauses_arrow(result))


def _ranking_table(result: ScreeningResult) -> pd.DataFrame:
    """``ranking.csv``: the ranking of a comparison as computed, plus the data status."""
    table = pd.DataFrame(result.ranking).copy()
    table["data_status"] = _data_status(result)
    return table


#: Columns of ``rejected.csv``.
REJECTED_CSV_COLUMNS = ("row", "site_id", "field", "message")


def _rejected_table(result: ScreeningResult) -> pd.DataFrame | None:
    """``rejected.csv``: the rows set aside (``on_row_error="report"``), None otherwise."""
    rows = getattr(result, "input_rows", None)
    if rows is None or rows.rejected is None:
        return None
    return pd.DataFrame(rows.rejected[list(REJECTED_CSV_COLUMNS)])
