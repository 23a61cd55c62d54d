"""Which sites a report or summary shows, and in what order: the site table, verdict counts,
the severity order, the top reason of each site, and rows grouped by site.

Unrecognised verdicts always read as ``unknown``, never as a pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from ..rules import SEVERITY as _SEVERITY
from .format import VERDICT_ORDER


def site_table(result: Any) -> pd.DataFrame:
    """The screening's sites as a plain table: no geometry, positions ``0..n-1`` as index.

    Parameters
    ----------
    result : ScreeningResult
        A screening (or any object whose ``sites`` is a GeoDataFrame).

    Returns
    -------
    pandas.DataFrame
        A copy of ``result.sites`` without its geometry column and with a fresh
        ``RangeIndex``, so that row positions are the ``site`` positions of ``hits`` and
        ``reasons``.
    """
    sites = pd.DataFrame(result.sites.drop(columns=result.sites.geometry.name, errors="ignore"))
    return sites.reset_index(drop=True)


def verdict_keys(verdicts: pd.Series) -> pd.Series:
    """Verdict strings, anything unrecognised read as ``unknown`` (never as a pass).

    Parameters
    ----------
    verdicts : pandas.Series
        A ``verdict`` column.

    Returns
    -------
    pandas.Series
        Object dtype, same index; every value a key of ``VERDICT_LABELS``.
    """
    return verdicts.where(verdicts.isin(list(_SEVERITY)), "unknown").astype(object)


def _severity(verdicts: pd.Series) -> np.ndarray:
    """The severity level of each verdict (``zoning.rules.SEVERITY``; unknown ranks high)."""
    return verdict_keys(verdicts).map(_SEVERITY).to_numpy(dtype=np.int8)


def site_order(sites: pd.DataFrame) -> np.ndarray:
    """Positions of the sites, most severe first, input order within a level.

    Parameters
    ----------
    sites : pandas.DataFrame
        A site table with a ``verdict`` column (see :func:`site_table`).

    Returns
    -------
    numpy.ndarray
        Row positions; a stable sort, so ties keep the input order.
    """
    sev = _severity(sites["verdict"])
    return np.argsort(-sev, kind="stable")


def verdict_counts(sites: pd.DataFrame) -> dict[str, int]:
    """How many sites have each verdict.

    Parameters
    ----------
    sites : pandas.DataFrame
        A site table with a ``verdict`` column.

    Returns
    -------
    dict
        ``{verdict: count}`` for every verdict, most severe first (zero counts included);
        unrecognised verdicts count as unknown.
    """
    counts = verdict_keys(sites["verdict"]).value_counts()
    return {v: int(counts.get(v, 0)) for v in VERDICT_ORDER}


def n_boundary_sensitive(sites: pd.DataFrame) -> int:
    """How many sites are flagged ``boundary_sensitive`` (0 without the column).

    Parameters
    ----------
    sites : pandas.DataFrame
        A site table.

    Returns
    -------
    int
    """
    if "boundary_sensitive" not in sites.columns:
        return 0
    return int(sites["boundary_sensitive"].eq(True).sum())


def top_reasons(reasons: pd.DataFrame, positions: Iterable[int]) -> dict[int, dict]:
    """The most severe reason of each listed site (first in rule order among ties).

    Parameters
    ----------
    reasons : pandas.DataFrame or None
        A screening's ``reasons`` (``site`` holds site positions).
    positions : iterable of int
        Positions of the sites wanted.

    Returns
    -------
    dict
        ``{position: reason record}`` for the listed sites that have a reason.
    """
    pos = list(positions)
    if reasons is None or not len(reasons) or not pos:
        return {}
    sel = reasons[reasons["site"].isin(pos)]
    if not len(sel):
        return {}
    sev = _severity(sel["verdict"])
    sel = sel.iloc[np.argsort(-sev, kind="stable")].drop_duplicates("site")
    return {int(r["site"]): r for r in sel.to_dict("records")}


def _group(frame: pd.DataFrame | None, positions: set[int]) -> dict[int, list[dict]]:
    """The rows of ``frame`` for the listed sites, as records grouped by site position."""
    if frame is None or not len(frame) or not positions:
        return {}
    sel = frame[frame["site"].isin(positions)]
    out: dict[int, list[dict]] = {}
    for rec in sel.to_dict("records"):
        out.setdefault(int(rec["site"]), []).append(rec)
    return out
