"""The tables of a screening and their writers: CSV, GeoPackage, JSON.

What :meth:`zoning.screening.ScreeningResult.to_file` writes: ``sites.csv``, ``hits.csv`` and
``ranking.csv`` (:func:`write_csv`), ``screening.gpkg`` (:func:`write_gpkg`) and
``screening.json`` (:func:`write_json`), and the plain data of
:meth:`~zoning.screening.ScreeningResult.to_dict` (:func:`to_dict`).  The writers compute
nothing new: they select, order and convert the result's tables (geometries to EPSG:4326).
Where the files go, and how a folder is replaced all-or-nothing, is
:mod:`zoning.screening.outputs`'s business.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from geopandas.array import transform as gpd_transform

from .crs import WGS84, WORKING_CRS, transformer
from .io.cells import escape_formulas
from .labels import VERDICT_LABELS
from .schema import CLAUSE_COLUMNS, HITS_CSV_COLUMNS, SITES_CSV_COLUMNS

if TYPE_CHECKING:
    from .screening import ScreeningResult

log = logging.getLogger("zoning.screening")

__all__ = [
    "CLAUSES_FULL_MAX_SITES",
    "CLAUSES_MAX_SITES",
    "CSV_ENCODINGS",
    "JSON_FULL_TABLES_MAX_SITES",
    "OUT_CRS_CODES",
    "check_csv_encoding",
    "check_out_crs",
    "clauses_note",
    "to_dict",
    "write_csv",
    "write_gpkg",
    "write_json",
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
    return gpd_transform(sites.geometry.to_numpy(), _TO_WGS84[0].transform)


def _sites_table(result: ScreeningResult, *, geometry: bool = False) -> pd.DataFrame:
    """``sites.csv``: the columns of :data:`zoning.schema.SITES_CSV_COLUMNS`, lon/lat of a
    point on each site (WGS84) and ``data_status`` (``demonstration`` when the data are)."""
    s = result.sites
    cols = [c for c in _SITE_COLUMNS if c in s.columns]
    table = pd.DataFrame(s)[cols]  # a plain frame first: quicker than a GeoDataFrame's
    table.insert(cols.index("verdict") + 1, "verdict_zh", s["verdict"].map(_VERDICT_ZH).to_numpy())
    rep = shapely.point_on_surface(_wgs84(s))
    table.insert(4, "lon", np.round(shapely.get_x(rep), 7))
    table.insert(5, "lat", np.round(shapely.get_y(rep), 7))
    table["data_status"] = _data_status(result)
    table["conclusion_zh"] = _conclusions(result)
    if geometry:
        return gpd.GeoDataFrame(table, geometry=s.geometry.to_numpy(), crs=WORKING_CRS)
    return table


def _hits_table(result: ScreeningResult) -> pd.DataFrame:
    """``hits.csv``: the columns of :data:`zoning.schema.HITS_CSV_COLUMNS` and each layer's
    data status."""
    h = result.hits
    table = pd.DataFrame(h)[[c for c in _HITS_COLUMNS if c in h.columns]]
    status = {
        p.get("id"): p.get("status")
        for p in result.provenance.get("layers", [])
        if isinstance(p, dict)
    }
    table["layer_status"] = table["layer_id"].map(status).astype(object)
    return table


def _conclusions(result: ScreeningResult) -> np.ndarray:
    """Each site's conclusion (:attr:`ScreeningResult.clause_conclusions`); None for every site
    above :data:`CLAUSES_MAX_SITES` sites."""
    n = len(result.sites)
    if n > CLAUSES_MAX_SITES or not hasattr(type(result), "clause_conclusions"):
        return np.full(n, None, dtype=object)
    return result.clause_conclusions["conclusion_zh"].to_numpy(dtype=object)


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
            "has its header only and conclusion_zh is empty; screen fewer sites at a time "
            "for the clause-by-clause analysis"
        )
    if n > CLAUSES_FULL_MAX_SITES:
        return (
            f"clauses.csv holds only the violates, undecided and needs_review rows for "
            f"{n:,} sites (more than {CLAUSES_FULL_MAX_SITES:,}), and screening.json no "
            "clauses; every site's conclusion is in sites.csv (conclusion_zh)"
        )
    return None


def _clauses_table(result: ScreeningResult) -> pd.DataFrame:
    """``clauses.csv``: the clause table, cut down for large screenings (:func:`clauses_note`)."""
    n = len(result.sites)
    if n > CLAUSES_MAX_SITES:
        table = pd.DataFrame({c: pd.Series([], dtype=object) for c in CLAUSE_COLUMNS})
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


#: Encodings the CSV files can be written in: UTF-8 with a byte-order mark (the default: Excel
#: on Chinese Windows reads a CSV without one as GBK and shows UTF-8 Chinese as mojibake),
#: UTF-8 without it, and GBK (code page 936).  GBK and not GB18030: GB18030 encodes every
#: character, but those outside GBK as four-byte sequences that Excel, reading code page
#: 936, shows as garbage; GBK refuses them, naming the cell, so nothing is shown wrong.
CSV_ENCODINGS = ("utf-8-sig", "utf-8", "gbk")
_ENCODING_NAMES = {"utf-8-sig": "utf-8-sig", "utf_8_sig": "utf-8-sig", "utf-8": "utf-8",
                   "utf8": "utf-8", "gbk": "gbk", "cp936": "gbk"}  # fmt: skip


def check_csv_encoding(encoding: str) -> str:
    """The CSV encoding asked for, as one of :data:`CSV_ENCODINGS`.

    Parameters
    ----------
    encoding : str
        ``utf-8-sig``, ``utf-8`` or ``gbk`` (any case; ``utf8``, ``cp936`` accepted).

    Returns
    -------
    str
        One of :data:`CSV_ENCODINGS`.

    Raises
    ------
    ZoningError
        Another encoding (one line naming the choices).
    """
    from .errors import ZoningError, quote

    name = _ENCODING_NAMES.get(str(encoding).strip().lower())
    if name is None:
        raise ZoningError(
            f"csv_encoding / --csv-encoding {quote(encoding)}: choose {', '.join(CSV_ENCODINGS)} "
            "(utf-8-sig, the default, is UTF-8 with a byte-order mark: Excel opens it)"
        )
    return name


def _check_gbk(table: pd.DataFrame, name: str) -> None:
    """A text GBK cannot encode is an error naming the file, the row and the column."""
    from .errors import ZoningError, quote

    def bad_char(text: str) -> str | None:
        try:
            text.encode("gbk")
            return None
        except UnicodeEncodeError as exc:
            return text[exc.start]

    def fail(where: str, ch: str) -> None:
        raise ZoningError(
            f"{name}, {where}: the character {ch!r} (U+{ord(ch):04X}) cannot be written in "
            "GBK; write the CSV as UTF-8 (csv_encoding='utf-8-sig' / --csv-encoding utf-8-sig, "
            "the default)"
        )

    for column in table.columns:
        ch = bad_char(str(column))
        if ch is not None:
            fail(f"header, column {quote(column)}", ch)
    for column in table.columns:
        dtype = table[column].dtype
        if not (pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)):
            continue
        values = table[column].to_numpy(dtype=object)
        texts = [v for v in values if isinstance(v, str)]
        if bad_char("\n".join(texts)) is None:
            continue
        for i, v in enumerate(values):
            ch = bad_char(v) if isinstance(v, str) else None
            if ch is not None:
                fail(f"row {i + 2}, column {quote(column)}", ch)


def _write_table(table: pd.DataFrame, folder: Path, name: str, encoding: str) -> None:
    """One CSV file: formulas made inert, in ``encoding`` (GBK checked first)."""
    table = escape_formulas(table)
    if encoding == "gbk":
        _check_gbk(table, name)
    table.to_csv(folder / name, index=False, encoding=encoding)


def _rejected_table(result: ScreeningResult) -> pd.DataFrame | None:
    """``rejected.csv``: the rows set aside (``on_row_error="report"``), None otherwise."""
    rows = getattr(result, "input_rows", None)
    if rows is None or rows.rejected is None:
        return None
    return pd.DataFrame(rows.rejected[list(REJECTED_CSV_COLUMNS)])


#: Columns of ``rejected.csv``.
REJECTED_CSV_COLUMNS = ("row", "site_id", "field", "message")


def write_csv(
    result: ScreeningResult, folder: Path, *, encoding: str = "utf-8-sig"
) -> dict[str, list[str]]:
    """Write ``sites.csv``, ``hits.csv`` and ``clauses.csv`` (and ``ranking.csv`` for a
    comparison, ``rejected.csv`` when rows were read with ``on_row_error="report"``).

    Parameters
    ----------
    result : ScreeningResult
        What to write.
    folder : Path
        An existing folder; the files are written directly into it.
    encoding : {"utf-8-sig", "utf-8", "gbk"}, keyword-only
        :data:`CSV_ENCODINGS`; default UTF-8 with a byte-order mark, which Excel opens.

    Returns
    -------
    dict
        The names written, by output: ``csv`` -> ``["sites.csv", "hits.csv"]``, ``clauses``
        -> ``["clauses.csv"]`` (the clause table, cut down above
        :data:`CLAUSES_FULL_MAX_SITES` sites, see :func:`clauses_note`), for a
        comparison ``ranking`` -> ``["ranking.csv"]``, and ``rejected`` ->
        ``["rejected.csv"]`` (``row``, ``site_id``, ``field``, ``message`` of each row set
        aside; a header only when none was).

    Raises
    ------
    ZoningError
        An unknown encoding; with ``gbk``, a character GBK cannot encode (the file, row and
        column are named).

    Notes
    -----
    ``sites.csv`` gives the longitude and latitude (EPSG:4326, 7 decimals) of a point on each
    site; areas and distances are those of the result (working CRS, metres).  Reading
    ``result.hits`` builds that table if it was not built yet.
    """
    encoding = check_csv_encoding(encoding)
    _write_table(_sites_table(result), folder, "sites.csv", encoding)
    _write_table(_hits_table(result), folder, "hits.csv", encoding)
    names = {"csv": ["sites.csv", "hits.csv"]}
    if hasattr(type(result), "clauses"):
        note = clauses_note(result)
        if note:
            log.warning(note)
        _write_table(_clauses_table(result), folder, "clauses.csv", encoding)
        names["clauses"] = ["clauses.csv"]
    if result.ranking is not None:
        _write_table(_ranking_table(result), folder, "ranking.csv", encoding)
        names["ranking"] = ["ranking.csv"]
    rejected = _rejected_table(result)
    if rejected is not None:
        _write_table(rejected, folder, "rejected.csv", encoding)
        names["rejected"] = ["rejected.csv"]
    return names


#: The CRSs ``screening.gpkg`` may be written in: WGS84 (the default), CGCS2000 geographic
#: (EPSG:4490) and the CGCS2000 Gauss-Krüger projections EPSG:4491-4554 (6- and 3-degree
#: zones, with or without the zone number in the easting).
OUT_CRS_CODES = (4326, 4490, *range(4491, 4555))


def check_out_crs(value: Any, what: str = "out_crs") -> str:
    """The CRS a GeoPackage output is written in, checked: ``"EPSG:<code>"``.

    Parameters
    ----------
    value : str, int or None
        ``EPSG:4490``, ``4549``...; None: ``EPSG:4326``.
    what : str
        How the error names the value (``--out-crs`` on the command line).

    Returns
    -------
    str
        ``"EPSG:<code>"`` with a code of :data:`OUT_CRS_CODES`.

    Raises
    ------
    ZoningError
        Any other value, in one line listing those accepted.
    """
    from .errors import ZoningError, quote

    if value is None:
        return "EPSG:4326"
    text = str(value).strip().upper()
    code = text.removeprefix("EPSG:")
    if code.isdigit() and int(code) in OUT_CRS_CODES:
        return f"EPSG:{int(code)}"
    raise ZoningError(
        f"{what} {quote(str(value))} is not accepted: give EPSG:4326 (WGS84, the default), "
        "EPSG:4490 (CGCS2000) or a CGCS2000 Gauss-Krüger code EPSG:4491-4554 (e.g. EPSG:4528, "
        "EPSG:4549)"
    )


def write_gpkg(result: ScreeningResult, path: Path, out_crs: Any = None) -> None:
    """Write ``screening.gpkg``: the layers ``sites``, ``pieces`` and ``rings``.

    Parameters
    ----------
    result : ScreeningResult
        What to write; its geometries are in the working CRS.
    path : Path
        The GeoPackage to write (a new file).
    out_crs : str or int, optional
        The layers' CRS (:func:`check_out_crs`): EPSG:4326 (default), EPSG:4490 or a
        CGCS2000 Gauss-Krüger code.

    Notes
    -----
    Every layer is reprojected from :data:`zoning.WORKING_CRS` to ``out_crs`` (an empty
    ``pieces`` table without a CRS is taken as in the working CRS).  The ``sites`` layer holds
    the columns of ``sites.csv``.
    """
    crs = check_out_crs(out_crs)
    sites = _sites_table(result, geometry=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sites.to_crs(crs).to_file(path, layer="sites", driver="GPKG")
        pieces = result.pieces
        if not len(pieces):
            pieces = pieces.set_crs(WORKING_CRS, allow_override=True)
        pieces.to_crs(crs).to_file(path, layer="pieces", driver="GPKG")
        result.rings.to_crs(crs).to_file(path, layer="rings", driver="GPKG")


def _result_tables(result: ScreeningResult, empty: Sequence[str] = ()) -> dict[str, pd.DataFrame]:
    """The tables of :func:`to_dict` and of ``screening.json``, in order (those named in
    ``empty`` without rows, and not built)."""
    sites = _sites_table(result)
    geoms = _wgs84(result.sites)
    sites["wkt"] = shapely.to_wkt(geoms, rounding_precision=7, trim=True)
    tables = {
        "sites": sites,
        "hits": _hits_table(result),
        "layer_summary": pd.DataFrame()
        if "layer_summary" in empty
        else pd.DataFrame(result.layer_summary),
        "reasons": pd.DataFrame() if "reasons" in empty else pd.DataFrame(result.reasons),
    }
    if result.ranking is not None:
        tables["ranking"] = _ranking_table(result)
    if hasattr(type(result), "clauses"):
        tables["clauses"] = (
            pd.DataFrame()
            if "clauses" in empty or len(result.sites) > CLAUSES_FULL_MAX_SITES
            else _clauses_table(result)
        )
    return tables


def write_json(result: ScreeningResult, path: Path, chunk: int = 50_000) -> None:
    """Write ``screening.json``: :func:`to_dict` streamed table by table.

    Parameters
    ----------
    result : ScreeningResult
        What to write.
    path : Path
        The JSON file to write (UTF-8).
    chunk : int
        Rows converted at a time (pandas writes the rows, so a million-row table never
        becomes Python objects).

    Notes
    -----
    For more than :data:`JSON_FULL_TABLES_MAX_SITES` sites the ``layer_summary`` and
    ``reasons`` lists are empty, ``omitted`` names them and a note says so.  Geometries are
    WKT in EPSG:4326 (7 decimals); NaN and infinities are ``null``, floats keep 6 decimals.
    """
    big = len(result.sites) > JSON_FULL_TABLES_MAX_SITES
    skip = ("layer_summary", "reasons") if big else ()
    notes = list(result.notes)
    if len(result.sites) > CLAUSES_FULL_MAX_SITES and hasattr(type(result), "clauses"):
        notes.append(clauses_note(result))
    if big:
        notes.append(
            f"screening.json leaves out the layer_summary and reasons rows for "
            f"{len(result.sites):,} sites (more than {JSON_FULL_TABLES_MAX_SITES:,}); "
            "sites.csv holds every verdict and its main reasons, hits.csv every hit"
        )
    with open(path, "w", encoding="utf-8") as fh:
        fh.write('{"provenance": ')
        json.dump(
            result.provenance, fh, ensure_ascii=False, indent=1, default=_json, allow_nan=False
        )
        fh.write(',\n"notes": ')
        json.dump(notes, fh, ensure_ascii=False, indent=1, default=_json)
        if skip:
            fh.write(',\n"omitted": ')
            json.dump(list(skip), fh)
        for key, table in _result_tables(result, skip).items():
            fh.write(f',\n"{key}": [')
            for start in range(0, len(table), chunk):
                text = _records_json(table.iloc[start : start + chunk])
                fh.write(("," if start else "") + "\n" + text[1:-1])
            fh.write("\n]")
        fh.write("\n}\n")


def to_dict(result: ScreeningResult) -> dict:
    """Every table and the provenance of ``result``, as plain JSON-ready data.

    Parameters
    ----------
    result : ScreeningResult

    Returns
    -------
    dict
        ``provenance``, ``notes``, ``sites`` (the columns of ``sites.csv`` plus ``wkt``, the
        geometry in WGS84), ``hits`` (the columns of ``hits.csv``), ``layer_summary``,
        ``reasons`` and, for a comparison, ``ranking``.  Missing values are ``None``.
    """
    out: dict[str, Any] = {"provenance": result.provenance, "notes": result.notes}
    for key, table in _result_tables(result).items():
        out[key] = _records(table)
    return out


def _records_json(df: pd.DataFrame) -> str:
    """Rows as a JSON array; NaN and infinities are ``null``, floats keep 6 decimals."""
    return df.to_json(orient="records", force_ascii=False, double_precision=6, default_handler=str)


def _records(df: pd.DataFrame) -> list[dict]:
    return json.loads(_records_json(df))


def _json(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)
