"""Old import path of the cell grids, now in :mod:`zoning.overlay.cellgrid`,
:mod:`zoning.overlay.pointgrid` and :mod:`zoning.overlay.samples` (re-exported here so that
``from zoning.grid import ...`` keeps working)."""

from __future__ import annotations

from .overlay.cellgrid import _EPS as _EPS
from .overlay.cellgrid import crossed_cells, features_at, region_codes
from .overlay.pointgrid import _REFINED as _REFINED
from .overlay.pointgrid import BLOCK, PointGrid
from .overlay.pointgrid import POINT_GRID_CELLS as POINT_GRID_CELLS
from .overlay.pointgrid import POINT_GRID_MIN_CELL_M as POINT_GRID_MIN_CELL_M
from .overlay.pointgrid import SAMPLE_FRACTION as SAMPLE_FRACTION
from .overlay.pointgrid import _LayerCells as _LayerCells
from .overlay.pointgrid import _pack as _pack
from .overlay.samples import _SLACK_M as _SLACK_M
from .overlay.samples import BoundarySamples

# Re-exported for old import paths (the ``X as X`` imports above): the private names and
# constants zoning.grid used to define.

__all__ = [
    "BLOCK",
    "BoundarySamples",
    "PointGrid",
    "crossed_cells",
    "features_at",
    "region_codes",
]
