"""Compare alternative sites or routes of one project.

Alternatives are ranked by overall verdict (least severe first), then by the constrained area
(polygons) or length (lines) they overlap, then by the distance to the nearest constraint
(farther first).  Planners use it to re-site linear projects around the red line.

>>> import zoning
>>> result = zoning.compare_alternatives(                       # doctest: +SKIP
...     wkt=["LINESTRING (121.30 31.10, 121.40 31.10)", "LINESTRING (121.30 31.12, 121.40 31.12)"],
...     crs="EPSG:4326", attributes={"linear": True})
>>> result.ranking[["rank", "site_id", "verdict", "decided_by"]]  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from .rules import SEVERITY
from .screening import ScreeningResult, screen

__all__ = ["RANKING_COLUMNS", "compare_alternatives", "rank_alternatives"]

#: Columns of :func:`rank_alternatives` (and of ``ranking.csv``), in order.
RANKING_COLUMNS = [
    "rank",
    "site_id",
    "name",
    "verdict",
    "constrained_m2",
    "constrained_length_m",
    "nearest_m",
    "decided_by",
    "n_constraints",
    "boundary_sensitive",
    "reasons_en",
    "reasons_zh",
]

#: The ranking keys in order, as ``decided_by`` names them.
_KEYS = ("verdict", "area", "length", "distance")


def rank_alternatives(result: ScreeningResult) -> pd.DataFrame:
    """Rank the sites of a screening as alternatives of one project.

    Parameters
    ----------
    result : ScreeningResult
        A screening of the alternatives (one site each).

    Returns
    -------
    DataFrame
        One row per alternative, best first, columns :data:`RANKING_COLUMNS`: ``rank``
        (1 = best; ties share a rank), ``site_id``, ``name``, ``verdict``, ``constrained_m2``
        (the site's overlap with the union of the constraint layers: ground two layers or two
        features share counts once), ``constrained_length_m`` (for lines, likewise),
        ``nearest_m`` (nearest constraint within the distance every constraint layer was
        searched to, 0 when touching one; NaN: none within it), ``decided_by`` (what put the
        alternative below the one ranked above it: ``verdict``, ``area``, ``length``,
        ``distance``, or ``tie``; empty for the first), ``n_constraints``,
        ``boundary_sensitive``, ``reasons_en``, ``reasons_zh``.

    Raises
    ------
    ValueError
        A site whose verdict is not one of :data:`zoning.rules.SEVERITY`.

    Notes
    -----
    The keys, in order: verdict severity (``permitted`` < ``conditional`` < ``restricted`` <
    ``unknown`` < ``prohibited``); constrained area, smaller first, compared to 0.01 m²;
    constrained length, shorter first, compared to 0.01 m; distance to the nearest
    constraint, farther first, compared to 0.01 m, with nothing within the search radius
    counting as farthest.  Polygons are compared by area and lines by length (a line has no
    area, a polygon no length, so in a mixed set a line beats a polygon of the same verdict
    that overlaps anything).

    Constraint layers are the layers of kinds some rule reads, except those in
    :data:`zoning.screening.CONTEXT_KINDS` (districts, sea area, control units, development
    boundary ...): being inside a control unit or the development boundary is not an
    encroachment, and layers no rule reads (rivers and lakes) do not rank.  The verdict still
    reflects every rule.  Cost: one sort of the sites.
    """
    s = result.sites
    n = len(s)

    def col(name: str, default: object = None) -> np.ndarray:
        if name in s.columns:
            return s[name].to_numpy()
        return np.full(n, default, dtype=object)

    table = pd.DataFrame(
        {
            "site_id": col("site_id"),
            "name": col("name"),
            "verdict": col("verdict"),
            "constrained_m2": pd.to_numeric(s["overlap_m2_total"]).fillna(0.0).to_numpy(),
            "constrained_length_m": pd.to_numeric(s["overlap_length_m_total"])
            .fillna(0.0)
            .to_numpy(),
            "nearest_m": pd.to_numeric(s["nearest_m"]).to_numpy(dtype=float),
            "n_constraints": col("n_constraints", 0),
            "boundary_sensitive": col("boundary_sensitive", False),
            "reasons_en": col("reasons_en", ""),
            "reasons_zh": col("reasons_zh", ""),
        }
    )
    sev = table["verdict"].map(SEVERITY)
    if sev.isna().any():
        bad = sorted(set(table.loc[sev.isna(), "verdict"].astype(str)))
        raise ValueError(f"unknown verdict(s) {', '.join(bad)}")
    # Farther is better; nothing within the search radius is best of all.
    near = table["nearest_m"].to_numpy(dtype=float)
    far = np.where(np.isnan(near), np.inf, np.round(near, 2))
    key = pd.DataFrame(
        {
            "verdict": sev.to_numpy(dtype=np.int64),
            "area": table["constrained_m2"].round(2).to_numpy(),
            "length": table["constrained_length_m"].round(2).to_numpy(),
            "distance": -far,
        }
    )
    order = np.lexsort((key["distance"], key["length"], key["area"], key["verdict"]))
    table = table.iloc[order].reset_index(drop=True)
    key = key.iloc[order].reset_index(drop=True)
    rank = np.arange(1, n + 1)
    decided = np.full(n, "", dtype=object)
    for i in range(1, n):
        differs = [k for k in _KEYS if key.at[i, k] != key.at[i - 1, k]]
        if differs:
            decided[i] = differs[0]
        else:
            decided[i] = "tie"
            rank[i] = rank[i - 1]
    table.insert(0, "rank", rank)
    table["decided_by"] = decided
    return table[RANKING_COLUMNS]


def compare_alternatives(sites: object = None, layers=None, **options) -> ScreeningResult:
    """Screen alternative sites or routes of one project and rank them.

    Parameters
    ----------
    sites, layers, **options
        As for :func:`zoning.screen` (``rules=``, ``crs=``, ``wkt=``, ``points=``,
        ``attributes=`` ...); every site is one alternative.

    Returns
    -------
    ScreeningResult
        The screening with ``ranking`` set to :func:`rank_alternatives` of it; its writers
        add ``ranking.csv``, a ``ranking`` table in the JSON and a ranking section in the
        HTML report.

    Raises
    ------
    ZoningError, SitesError, CRSError, CatalogError, RulesError, LayerReadError
        As :func:`zoning.screen` raises them.

    Notes
    -----
    Cost: that of :func:`zoning.screen` for these sites, plus one sort; every table of the
    result (``hits``, ``layer_summary``, ``reasons``) is built at once, since the result is
    copied with its ranking.
    """
    result = screen(sites, layers, **options)
    return dataclasses.replace(result, ranking=rank_alternatives(result))
