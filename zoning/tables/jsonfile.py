"""``screening.json`` and :meth:`ScreeningResult.to_dict`: every table and the provenance."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from . import frames
from .frames import (
    _clauses_table,
    _codes_table,
    _hits_table,
    _ranking_table,
    _sites_table,
    _wgs84_of,
    clauses_note,
)

if TYPE_CHECKING:
    from ..screening import ScreeningResult

__all__ = ["to_dict", "write_json"]


def _result_tables(result: ScreeningResult, empty: Sequence[str] = ()) -> dict[str, pd.DataFrame]:
    """The tables of :func:`to_dict` and of ``screening.json``, in order (those named in
    ``empty`` without rows, and not built)."""
    sites = _sites_table(result)
    geoms = _wgs84_of(result)
    sites["wkt"] = shapely.to_wkt(geoms, rounding_precision=7, trim=True)
    tables = {
        "sites": sites,
        "hits": _hits_table(result),
        "codes": _codes_table(result),
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
            if "clauses" in empty or len(result.sites) > frames.CLAUSES_FULL_MAX_SITES
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
    For more than :data:`~zoning.tables.JSON_FULL_TABLES_MAX_SITES` sites the
    ``layer_summary`` and
    ``reasons`` lists are empty, ``omitted`` names them and a note says so.  Geometries are
    WKT in EPSG:4326 (7 decimals); NaN and infinities are ``null``, floats keep 6 decimals.
    """
    big = len(result.sites) > frames.JSON_FULL_TABLES_MAX_SITES
    skip = ("layer_summary", "reasons") if big else ()
    notes = list(result.notes)
    if len(result.sites) > frames.CLAUSES_FULL_MAX_SITES and hasattr(type(result), "clauses"):
        notes.append(clauses_note(result))
    if big:
        notes.append(
            f"screening.json leaves out the layer_summary and reasons rows for "
            f"{len(result.sites):,} sites (more than {frames.JSON_FULL_TABLES_MAX_SITES:,}); "
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
        geometry in WGS84), ``hits`` (the columns of ``hits.csv``), ``codes`` (the words of
        the sites' code columns, as ``codes.csv``), ``layer_summary``,
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
