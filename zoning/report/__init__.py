"""Screening reports: the static HTML report (an index page plus one page per site)."""

from .html import (
    DECIDED_BY,
    MAX_MAP_SITES,
    VERDICT_LABELS,
    console_summary,
    fmt_area,
    fmt_ha,
    fmt_m,
    fmt_number,
    fmt_share,
    page_name,
    write_report,
)

__all__ = [
    "DECIDED_BY",
    "MAX_MAP_SITES",
    "VERDICT_LABELS",
    "console_summary",
    "fmt_area",
    "fmt_ha",
    "fmt_m",
    "fmt_number",
    "fmt_share",
    "page_name",
    "write_report",
]
