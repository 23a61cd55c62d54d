"""Old import path of :mod:`zoning.targets.model` (policy targets, ``seeds/targets.yml``).

Re-exported for old import paths; new code imports from :mod:`zoning.targets`.
"""

from __future__ import annotations

from .targets.model import (
    DEFAULT_TARGETS_PATH,
    Document,
    Target,
    TargetSet,
    format_value,
    load_targets,
)

__all__ = [
    "DEFAULT_TARGETS_PATH",
    "Document",
    "Target",
    "TargetSet",
    "format_value",
    "load_targets",
]
