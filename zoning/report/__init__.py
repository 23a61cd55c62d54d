"""Screening reports: the static HTML report (an index page plus one page per site, and its
map).

Modules, lowest first: :mod:`~zoning.report.format` (formatting of values, verdict labels,
page names), :mod:`~zoning.report.selection` (which sites, in what order, verdict counts, top
reasons), :mod:`~zoning.report.context` (catalog and rule-set lookups, report-wide facts,
reason rows), :mod:`~zoning.report.advice` (next steps, why a site is unknown, boundary
warnings), :mod:`~zoning.report.pages` (the page models) and :mod:`~zoning.report.html`
(:func:`write_report`: render and write the pages).  The terminal summary lives in
:mod:`zoning.cli.render`.
"""

from .format import (
    DECIDED_BY,
    VERDICT_LABELS,
    fmt_area,
    fmt_ha,
    fmt_m,
    fmt_number,
    fmt_share,
    page_name,
)
from .html import MAX_MAP_SITES, TEMPLATE_DIR, write_report

__all__ = [
    "DECIDED_BY",
    "MAX_MAP_SITES",
    "TEMPLATE_DIR",
    "VERDICT_LABELS",
    "fmt_area",
    "fmt_ha",
    "fmt_m",
    "fmt_number",
    "fmt_share",
    "page_name",
    "write_report",
]
