"""The page models of a screening, for writers other than the HTML report (PDF, Word, Excel).

:func:`document_models` gives the same plain dicts the report's site pages are rendered from
(:func:`zoning.report.pages._site_context` plus the clause table of
:mod:`zoning.report.clauses`), for any choice of sites, without writing anything.  A document
writer lays these out; it never computes a verdict, an area or a distance itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .clauses import clause_context, clause_data
from .context import (
    _Catalog,
    _footer,
    _layer_rows,
    _limits,
    _Rules,
    _search_radius,
    is_demonstration,
    rule_set_info,
)
from .format import VERDICT_LABELS, _radius_text
from .pages import _site_context
from .selection import _group, site_order, site_table, top_reasons, verdict_counts

__all__ = ["DocumentModels", "document_models"]


@dataclass(frozen=True)
class DocumentModels:
    """What a document of a screening shows.

    Attributes
    ----------
    common : dict
        The run-wide facts every page shows: ``demonstration``, ``rule_set``
        (:func:`zoning.report.context.rule_set_info`), ``layers`` (one row per layer:
        id, title, kind, vintage, source, sha256, demonstration, ...), ``footer``
        (provenance: tool, created, catalog, CRSs, input, search radius, ``other``),
        ``limits``, ``search_radius``, ``labels``.
    sites : list of dict
        One model per chosen site, in the order chosen: the report's site-page context
        (``site``, ``attributes``, ``constraints``, ``reasons``, ``warnings``, ``bands``,
        ``next_steps``, ``clause_groups`` / ``conclusion_zh`` / ``conclusion_en`` ...), plus
        ``position`` (the site's row in ``result.sites``) and ``top`` (its most severe reason
        record, or None).
    positions : list of int
        The positions of the chosen sites, in order.
    counts : dict
        Verdict counts over all sites of the result.
    n_sites : int
        Number of sites in the result (not only the chosen ones).
    """

    common: dict
    sites: list[dict]
    positions: list[int]
    counts: dict[str, int]
    n_sites: int


def document_models(result: Any, positions: Iterable[int] | None = None) -> DocumentModels:
    """The page models of ``result``'s sites, as the report's site pages show them.

    Parameters
    ----------
    result : ScreeningResult
        A screening.
    positions : iterable of int, optional
        The sites to model (row positions in ``result.sites``), in the order given; default
        every site, most severe first (the report's order).

    Returns
    -------
    DocumentModels
        The run-wide context and one model per chosen site.

    Notes
    -----
    Only the chosen sites' hits, reasons and clauses are grouped, so modelling a few sites
    of a large run stays cheap.
    """
    sites = site_table(result)
    order = site_order(sites) if positions is None else list(positions)
    chosen = [int(p) for p in order]
    cat = _Catalog(result.layers)
    rules = _Rules(result.rule_set)
    common = _common(result, sites, cat)
    wanted = set(chosen)
    summaries = _group(result.layer_summary, wanted)
    hits = _group(result.hits, wanted)
    reasons = _group(result.reasons, wanted)
    tops = top_reasons(result.reasons, chosen)
    clauses = clause_data(result, wanted)
    models = []
    for pos in chosen:
        rec = sites.iloc[pos].to_dict()
        ctx = _site_context(
            pos, rec, summaries.get(pos), hits.get(pos), reasons.get(pos), cat, common, rules
        )
        ctx.update(clause_context(clauses["clauses"].get(pos), clauses["conclusions"].get(pos)))
        ctx["position"] = pos
        ctx["top"] = tops.get(pos)
        ctx["record"] = rec
        models.append(ctx)
    return DocumentModels(common, models, chosen, verdict_counts(sites), len(sites))


def _common(result: Any, sites: pd.DataFrame, cat: _Catalog) -> dict:
    """The run-wide context (as the report's, without the HTML-only keys)."""
    layer_rows = _layer_rows(result, cat)
    footer = _footer(result)
    return {
        "lang": "both",
        "demonstration": is_demonstration(result),
        "rule_set": rule_set_info(result),
        "layers": layer_rows,
        "footer": footer,
        "search_radius": _radius_text(footer["search_radius_m"]),
        "search_radius_m": _search_radius(result),
        "labels": VERDICT_LABELS,
        "limits": _limits(result, sites, layer_rows),
        "site_undeclared": None,
        "outside_coverage": False,
        "map_href": None,
        "provenance": dict(result.provenance or {}),
    }
