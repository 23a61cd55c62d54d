"""Policy targets: the target file's model, the indicators measured against it, the dashboard.

* :mod:`zoning.targets.model`: :class:`Target`, :class:`TargetSet` and :func:`load_targets`
  (the quantified goals of ``seeds/targets.yml``);
* :mod:`zoning.targets.indicators`: the spatial indicators measured from the layers (through
  :mod:`zoning.measure`) and matched to the targets;
* :mod:`zoning.targets.dashboard`: the indicator table as one self-contained HTML page.

The function ``indicators`` is not re-exported here, so that ``zoning.targets.indicators``
stays the module; call ``zoning.indicators(...)`` or
``zoning.targets.indicators.indicators(...)``.
"""

from __future__ import annotations

from .dashboard import render_dashboard, write_dashboard
from .indicators import UnknownDistrictError, compare
from .model import DEFAULT_TARGETS_PATH, Document, Target, TargetSet, format_value, load_targets

__all__ = [
    "DEFAULT_TARGETS_PATH",
    "Document",
    "Target",
    "TargetSet",
    "UnknownDistrictError",
    "compare",
    "format_value",
    "load_targets",
    "render_dashboard",
    "write_dashboard",
]
