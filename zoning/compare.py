"""Compare alternative sites or routes of one project.

Alternatives are ranked by overall verdict (least severe first), then by the constrained area
(polygons) or length (lines) they overlap, then by the distance to the nearest constraint
(farther first).  Planners use it to re-site linear projects around the red line.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .rules import SEVERITY
from .screening import ScreeningResult

__all__ = ["rank_alternatives"]

_COLUMNS = [
    "rank",
    "site_id",
    "name",
    "verdict",
    "constrained_m2",
    "constrained_length_m",
    "nearest_m",
    "n_constraints",
    "boundary_sensitive",
    "reasons_en",
]


def rank_alternatives(result: ScreeningResult) -> pd.DataFrame:
    """Rank the sites of a screening as alternatives of one project.

    Parameters
    ----------
    result : ScreeningResult
        A screening of the alternatives (one site each).

    Returns
    -------
    DataFrame
        One row per alternative, best first: ``rank`` (1 = best; ties share a rank),
        ``site_id``, ``name``, ``verdict``, ``constrained_m2`` (overlap with constraint layers,
        overlapping features counted once per layer), ``constrained_length_m`` (for lines),
        ``nearest_m`` (nearest constraint within the search radius; NaN: none within it),
        ``n_constraints``, ``boundary_sensitive``, ``reasons_en``.

    Notes
    -----
    Constraint layers are every layer except those in
    :data:`zoning.screening.CONTEXT_KINDS` (districts, sea area, control units, development
    boundary ...): being inside a control unit or the development boundary is not an
    encroachment.  The verdict still reflects every rule.
    """
    s = result.sites
    table = pd.DataFrame(
        {
            "site_id": s["site_id"].to_numpy(),
            "name": s["name"].to_numpy() if "name" in s else None,
            "verdict": s["verdict"].to_numpy(),
            "constrained_m2": s["overlap_m2_total"].fillna(0.0).to_numpy(),
            "constrained_length_m": s["overlap_length_m_total"].fillna(0.0).to_numpy(),
            "nearest_m": s["nearest_m"].to_numpy(),
            "n_constraints": s["n_constraints"].to_numpy(),
            "boundary_sensitive": s["boundary_sensitive"].to_numpy(),
            "reasons_en": s["reasons_en"].to_numpy(),
        }
    )
    sev = table["verdict"].map(SEVERITY).to_numpy()
    # Farther is better; nothing within the search radius is best of all.
    far = np.where(np.isnan(table["nearest_m"].to_numpy(dtype=float)), np.inf, table["nearest_m"])
    key = pd.DataFrame(
        {
            "sev": sev,
            "area": table["constrained_m2"].round(2),
            "length": table["constrained_length_m"].round(2),
            "far": -far,
        }
    )
    order = np.lexsort((key["far"], key["length"], key["area"], key["sev"]))
    table = table.iloc[order].reset_index(drop=True)
    key = key.iloc[order].reset_index(drop=True)
    same = (key.shift() == key).all(axis=1)
    rank = np.arange(1, len(table) + 1)
    for i in range(1, len(table)):
        if same.iloc[i]:
            rank[i] = rank[i - 1]
    table.insert(0, "rank", rank)
    return table[_COLUMNS]
