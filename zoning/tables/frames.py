"""The tables of a screening as written: sites, hits, clauses, codes, ranking, rejected rows.

Every writer (:mod:`.csvfile`, :mod:`.parquet`, :mod:`.vector`, :mod:`.jsonfile`, the
workbook of :mod:`zoning.documents.excel`) writes these frames; they select, order and
convert the result's tables (geometries to EPSG:4326) and compute nothing new.  Their
columns are those of :mod:`zoning.schema` (``SITES_OUTPUT_TYPES``, ``HITS_OUTPUT_TYPES``,
``CLAUSE_OUTPUT_TYPES``, ``CODES_OUTPUT_TYPES``), always all of them, in order.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from geopandas.array import transform as gpd_transform

from ..crs import WGS84, WORKING_CRS, transformer
from ..labels import VERDICT_LABELS
from ..schema import (
    CLAUSE_COLUMNS,
    CLAUSE_OUTPUT_TYPES,
    HITS_CSV_COLUMNS,
    HITS_OUTPUT_TYPES,
    SITES_CSV_COLUMNS,
    SITES_OUTPUT_TYPES,
)
from .codes import SiteCodes, result_codes

if TYPE_CHECKING:
    from ..screening import ScreeningResult

log = logging.getLogger("zoning.screening")

__all__ = [
    "CLAUSES_FULL_MAX_SITES",
    "CLAUSES_MAX_SITES",
    "JSON_FULL_TABLES_MAX_SITES",
    "REJECTED_CSV_COLUMNS",
    "clauses_note",
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

#: The pandas dtype of an empty column of each output type.
_PANDAS = {"string": object, "int64": "int64", "float64": "float64", "bool": object}

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
    return gpd_transform(sites.geometry.to_numpy(), _TO_WGS84[0].transform)


def _sites_table(result: ScreeningResult, *, geometry: bool = False) -> pd.DataFrame:
    """The sites table: the columns of :data:`zoning.schema.SITES_OUTPUT_TYPES`, in order
    (lon/lat of a point on each site, WGS84; the code columns of :func:`site_codes`;
    ``data_status``: ``demonstration`` when the data are).  With ``geometry``, a
    GeoDataFrame with the sites' geometries (working CRS)."""
    s = result.sites
    n = len(s)
    codes = site_codes(result)
    rep = shapely.point_on_surface(_wgs84(s))
    made = {
        "verdict_zh": s["verdict"].map(_VERDICT_ZH).to_numpy(dtype=object),
        "lon": np.round(shapely.get_x(rep), 7),
        "lat": np.round(shapely.get_y(rep), 7),
        "rule_ids": codes.rule_ids,
        "reason_codes": codes.reason_codes,
        "data_status": np.full(n, _data_status(result), dtype=object),
        "conclusion_code": codes.conclusion_code,
    }
    columns = {}
    for name in SITES_OUTPUT_TYPES:
        if name in made:
            columns[name] = made[name]
        elif name in s.columns:
            columns[name] = s[name].to_numpy()
        else:  # a column the sites table lacks: empty, of the right kind
            columns[name] = _nulls(n, SITES_OUTPUT_TYPES[name])
    table = pd.DataFrame(columns, index=pd.RangeIndex(n), copy=False)
    if geometry:
        return gpd.GeoDataFrame(table, geometry=s.geometry.to_numpy(), crs=WORKING_CRS)
    return table


def _nulls(n: int, kind: str) -> np.ndarray:
    """``n`` missing values of an output column's type (NaN for floats, None otherwise)."""
    if kind == "float64":
        return np.full(n, np.nan)
    return np.full(n, None, dtype=object)


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


def _codes_table(result: ScreeningResult) -> pd.DataFrame:
    """The codes table (:data:`zoning.schema.CODES_OUTPUT_TYPES`) of ``result``."""
    return site_codes(result).codes


def _hits_table(result: ScreeningResult) -> pd.DataFrame:
    """``hits.csv``: the columns of :data:`zoning.schema.HITS_CSV_COLUMNS` and each layer's
    data status."""
    h = result.hits
    n = len(h)
    table = pd.DataFrame(
        {
            c: h[c].to_numpy() if c in h.columns else _nulls(n, HITS_OUTPUT_TYPES[c])
            for c in _HITS_COLUMNS
        },
        index=pd.RangeIndex(n),
    )
    status = {
        p.get("id"): p.get("status")
        for p in result.provenance.get("layers", [])
        if isinstance(p, dict)
    }
    table["layer_status"] = table["layer_id"].map(status).astype(object)
    return table


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


def _clauses_table(result: ScreeningResult) -> pd.DataFrame:
    """``clauses.csv``: the clause table, cut down for large screenings (:func:`clauses_note`)."""
    n = len(result.sites)
    if n > CLAUSES_MAX_SITES:
        table = pd.DataFrame(
            {c: pd.Series([], dtype=_PANDAS[CLAUSE_OUTPUT_TYPES[c]]) for c in CLAUSE_COLUMNS}
        )
    else:
        table = result.clauses
        if n > CLAUSES_FULL_MAX_SITES:
            table = table[table["result"].isin(_DECISIVE)]
        table = pd.DataFrame(table[list(CLAUSE_COLUMNS)])
    # As sites.csv: a reader of this file alone sees when the rules are demonstration ones.
    table["data_status"] = _data_status(result)
    return table


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
