"""What changed between two screenings of the same sites, and why (``zoning diff``).

:func:`diff_runs` reads two screening output folders (``zoning screen --out DIR``, with
``screening.json``), matches their sites by ``site_id`` and lists every site whose verdict,
reasons or clause results changed, with the cause of each change: the document, rule or layer
vintage in force that differs, the site's project attributes or geometry, the input or
options, the rule-set or catalog file, the tool version — or "cause not determined".

>>> from zoning.diff import diff_runs
>>> d = diff_runs("out/as_of_2026-03-01", "out/as_of_2026-04-01")  # doctest: +SKIP
>>> d.save("out")  # diff.csv, diff.html                            # doctest: +SKIP
"""

from __future__ import annotations

from .causes import CAUSE_KINDS, Cause
from .changes import DIFF_COLUMNS, SITE_COLUMNS, WHATS
from .result import DIFF_FORMATS, DIFF_MARKER, DiffResult, check_formats, diff_runs
from .runs import DiffError, Run, load_run

__all__ = [
    "CAUSE_KINDS",
    "DIFF_COLUMNS",
    "DIFF_FORMATS",
    "DIFF_MARKER",
    "SITE_COLUMNS",
    "WHATS",
    "Cause",
    "DiffError",
    "DiffResult",
    "Run",
    "check_formats",
    "diff_runs",
    "load_run",
]
