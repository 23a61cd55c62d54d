"""The overlay engine's constants: default distances, cutting sizes and tolerances."""

from __future__ import annotations

from ..schema import STANDARD_ATTRIBUTES as _STANDARD_ATTRIBUTES

#: Distance bands reported when a layer's catalog entry sets none (m).
DEFAULT_RINGS_M: tuple[float, ...] = (100.0, 500.0, 1000.0)
#: How far the engine looks for the nearest feature of each layer by default (m).
DEFAULT_SEARCH_RADIUS_M = 1000.0
#: Features are cut into pieces of at most this many vertices.
MAX_PIECE_VERTICES = 256
#: A polygon or line site sharing less than this area (m²) / length (m) with a polygon feature
#: only touches it (floating-point residue of clipping along a shared edge is far smaller).
TOUCH_AREA_M2 = 0.01
TOUCH_LENGTH_M = 0.001
#: Boundary chunks hold at most this many segments.
CHUNK_SEGMENTS = 8
#: A site closer than this (m) to a feature's boundary is decided on the original geometry, not
#: on the subdivided pieces (whose cut vertices carry ~1e-12 m of rounding).
NEAR_BOUNDARY_M = 1e-6
#: Snap-rounding grid (m) for unions of line overlaps: collinear pieces of the same site line
#: that differ by rounding merge instead of counting twice.
LINE_GRID_M = 1e-6
#: A site whose covered share is below ``1 - COVERAGE_TOLERANCE`` is outside the coverage.
COVERAGE_TOLERANCE = 1e-6
#: Segments per quarter circle of the buffer-ring geometries (a 64-gon; the drawn ring is inscribed
#: in the true one: its area is 0.16 % short and its edge at most 0.12 % of the radius inside).
RING_QUAD_SEGS = 16
#: Feature attributes copied into the hits table (None where a layer lacks them).
STANDARD_ATTRIBUTES = _STANDARD_ATTRIBUTES
