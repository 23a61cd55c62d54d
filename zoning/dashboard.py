"""Old import path of :mod:`zoning.targets.dashboard` (the indicator dashboard page).

Re-exported for old import paths; new code imports from :mod:`zoning.targets`.
"""

from __future__ import annotations

from .targets.dashboard import render_dashboard, write_dashboard

__all__ = ["render_dashboard", "write_dashboard"]
