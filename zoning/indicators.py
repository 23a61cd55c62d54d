"""Old import path of :mod:`zoning.targets.indicators` (policy indicators and their targets).

Re-exported for old import paths; new code imports from :mod:`zoning.targets.indicators`.
Once :mod:`zoning` is imported, the attribute ``zoning.indicators`` is the function (the
package re-exports it under this module's name); ``from zoning.indicators import ...`` still
reads this module.
"""

from __future__ import annotations

from .targets.indicators import (
    APPROX_TOLERANCE,
    CATEGORIES,
    MEASUREMENT_TOLERANCE,
    MET,
    MU_M2,
    NO_TARGET,
    NOT_MEASURABLE,
    NOT_MET,
    OFFICIAL_LAND_KM2,
    OFFICIAL_LAND_SOURCE,
    REGISTRY,
    WALK_DISTANCE_M,
    Measure,
    UnknownDistrictError,
    compare,
    indicators,
)

__all__ = [
    "APPROX_TOLERANCE",
    "CATEGORIES",
    "MEASUREMENT_TOLERANCE",
    "MET",
    "MU_M2",
    "NOT_MEASURABLE",
    "NOT_MET",
    "NO_TARGET",
    "OFFICIAL_LAND_KM2",
    "OFFICIAL_LAND_SOURCE",
    "REGISTRY",
    "WALK_DISTANCE_M",
    "Measure",
    "UnknownDistrictError",
    "compare",
    "indicators",
]
