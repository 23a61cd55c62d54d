"""The clause table (符合性分析) of a site's report page: the clauses grouped by dimension, and
the site's conclusion in the standard wording.

Page models are plain dicts of formatted strings; the template ``site.html`` only escapes and
lays them out.  The clause table itself is :attr:`zoning.screening.ScreeningResult.clauses`.
"""

from __future__ import annotations

from typing import Any

from ..labels import CLAUSE_RESULT_LABELS, CLAUSE_SCOPE_LABELS
from ..rules.clauses import clause_conclusions
from ..schema import DIMENSIONS
from .format import as_str
from .selection import _group

__all__ = ["clause_context", "clause_data"]


def clause_data(result: Any, paged: set[int]) -> dict[str, dict]:
    """The clause rows and the conclusion of each paged site, by site position.

    Parameters
    ----------
    result : ScreeningResult
    paged : set of int
        The positions of the sites that get a page.

    Returns
    -------
    dict
        ``clauses``: position -> list of clause records; ``conclusions``: position ->
        ``(zh, en)``.  Only the paged sites' clauses are built (unless the result holds the
        whole table already).
    """
    if not paged or not hasattr(result, "_clauses_of"):
        return {"clauses": {}, "conclusions": {}}
    table = result._clauses_of(sorted(paged))
    reasons = result.reasons
    reasons = reasons[reasons["site"].isin(paged)] if len(reasons) else reasons
    conc = clause_conclusions(result.rule_set, table, reasons, len(result.sites))
    conc = conc[conc["site"].isin(paged)]
    return {
        "clauses": _group(table, paged),
        "conclusions": {
            int(s): (z, e)
            for s, z, e in zip(
                conc["site"], conc["conclusion_zh"], conc["conclusion_en"], strict=True
            )
        },
    }


def clause_context(rows: list[dict] | None, conclusion: tuple[str, str] | None) -> dict:
    """The clause section of a site page.

    Parameters
    ----------
    rows : list of dict, optional
        The site's clause records (columns of :data:`zoning.schema.CLAUSE_COLUMNS`).
    conclusion : (str, str), optional
        The site's conclusion (zh, en).

    Returns
    -------
    dict
        ``clause_groups``: one group per dimension that has clauses (in the order of
        :data:`zoning.schema.DIMENSIONS`), each with its rows; ``conclusion``: ``{"zh", "en"}``
        or None.
    """
    groups: dict[str, list[dict]] = {}
    for rec in rows or []:
        dim = as_str(rec.get("dimension")) or ""
        result = as_str(rec.get("result")) or ""
        zh, en = CLAUSE_RESULT_LABELS.get(result, (result, result))
        scope = as_str(rec.get("scope")) or ""
        szh, sen = CLAUSE_SCOPE_LABELS.get(scope, (scope, scope))
        groups.setdefault(dim, []).append(
            {
                "rule_id": as_str(rec.get("rule_id")),
                "list_id": as_str(rec.get("list_id")),
                "scope_zh": szh,
                "scope_en": sen,
                "clause": as_str(rec.get("clause_zh")),
                "citation": as_str(rec.get("citation")),
                "quote": as_str(rec.get("quote")),
                "reads": as_str(rec.get("reads")),
                "result": result,
                "result_zh": zh,
                "result_en": en,
                "explanation_zh": as_str(rec.get("explanation_zh")),
                "explanation_en": as_str(rec.get("explanation_en")),
            }
        )
    order = list(DIMENSIONS)
    dims = sorted(groups, key=lambda d: order.index(d) if d in order else len(order))
    return {
        "clause_groups": [{"zh": d, "en": DIMENSIONS.get(d, d), "rows": groups[d]} for d in dims],
        "conclusion": None if conclusion is None else {"zh": conclusion[0], "en": conclusion[1]},
    }
