"""The overlay engine: sites x layers -> hits (geometry only, no rules).

For every site and every layer the engine finds the features the site touches, how much of the
site and of the feature they share (areas for polygons, lengths for lines, member points for
multipoints), the features within a search radius and their distances, the distance band ("ring")
each falls in, and whether the result is *boundary-sensitive*: the site (a polygon site: its
outline) lies within the layer's positional tolerance (plus the input CRS's conversion
uncertainty) of a feature boundary, so a small error in either could change it.

Everything is vectorised over sites with shapely 2.  Each layer is indexed once
(:class:`LayerIndex`, cached on the :class:`~zoning.layerset.Layer`):

* features are cut into pieces of at most :data:`MAX_PIECE_VERTICES` vertices (like PostGIS
  ``ST_Subdivide``), so point-in-polygon tests, clipping and distances work on small geometries
  instead of a 30,000-vertex river network;
* feature boundaries are cut into short chunks of the *original* segments, for distances (from
  inside a feature to its edge, and from outside to the feature) and for exact decisions near a
  boundary;
* point sites are first looked up in a grid (:class:`CellGrid`, polygon and line layers): a
  cell that no feature boundary crosses is wholly inside one feature or wholly outside all, so
  only points in cells a boundary crosses need the exact test; the grid also bounds each
  point's distance to the nearest boundary, so most points need no boundary query.

Every verdict is exact with respect to the unsubdivided feature: cutting a feature moves the
vertices it creates on the feature's boundary by floating-point rounding (~1e-12 m), so a site
within :data:`NEAR_BOUNDARY_M` of a feature's boundary is decided on the original boundary (it
touches it) or, failing that, on the original feature.  The grid's answers are therefore
identical to ``shapely.intersects`` on the original features (tested on 100,000 random points and
on points placed on, a nanometre beside, and along the boundaries of the demonstration layers).

Semantics
---------
* Features are closed sets: a site that touches a feature's boundary (a point on the edge, a
  polygon sharing an edge) *intersects* it, with overlap 0 — and is boundary-sensitive.
* ``share_of_site``: polygon sites the overlap area over the site's area; line sites the overlap
  length over the site's length (polygon and line layers); point and multipoint sites the
  fraction of their points inside or on a feature.  ``share_of_feature``: polygon features the
  overlap area over the feature's area; line features the overlap length over the feature's
  length.  NaN where the ratio has no meaning (a polygon site crossing a line, points).
* In ``layer_summary`` overlapping features of one layer count once: the overlap is measured on
  the union of the per-feature overlaps (line overlaps are unioned with snap rounding on a
  :data:`LINE_GRID_M` grid, so collinear pieces from different features merge), so
  ``share_of_site`` never exceeds 1.
* Distances are to the nearest point of a feature (0 for intersecting features).
  ``boundary_distance_m`` of an intersecting feature is the distance between the feature's
  boundary and the site's (a polygon site's outline, holes included; a line or point site
  itself; line and point features are their own boundary): how far the feature could move
  before the overlap changes.  A site on or across a boundary gets 0; a site wholly inside a
  feature, its distance to the feature's edge; a site that holds a whole feature away from its
  own outline, the gap between the two.  A site is boundary-sensitive for a layer when this
  distance (for features it misses: the distance to them) is within the layer's positional
  tolerance plus the site's uncertainty.  Distances are reported up to the search radius
  (boundary distances up to the larger of the radius and the tolerance); NaN beyond.
* Search radius 0 is *containment only*: no distance is reported — ``boundary_distance_m`` is
  0 where the site touches the feature's boundary and NaN elsewhere — but the
  boundary-sensitive flags are decided exactly as above: the point grid proves most single
  points farther than the tolerance from every boundary, or within it of the boundary of the
  one feature they lie in (or of any, outside every feature); the others are measured.
* Coverage: the territory is the union of the layers of the coverage kinds (districts and sea
  area); a site not wholly inside it gets status ``outside_coverage`` for every layer, and so
  does nothing silently pass.

All geometry is in :data:`zoning.crs.WORKING_CRS` (metres, equal-area), so areas agree with
geodesic areas to far better than 0.01 %, and lengths and distances within 0.01 % within about
180 km of the projection centre.

The package holds one module per responsibility: :mod:`~zoning.overlay.engine` (the
:func:`overlay` entry point), :mod:`~zoning.overlay.sitepack` (checking and packing the sites),
:mod:`~zoning.overlay.index` (:class:`LayerIndex`), :mod:`~zoning.overlay.subdivide` (pieces and
boundary chunks), :mod:`~zoning.overlay.distance` (distance queries),
:mod:`~zoning.overlay.cellgrid`, :mod:`~zoning.overlay.pointgrid` and
:mod:`~zoning.overlay.samples` (the cell grids), :mod:`~zoning.overlay.passes` and
:mod:`~zoning.overlay.pointpass` (one layer's pass), :mod:`~zoning.overlay.overlaps` (clipping
and unions), :mod:`~zoning.overlay.summary`, :mod:`~zoning.overlay.coverage`,
:mod:`~zoning.overlay.rings` and :mod:`~zoning.overlay.result` (:class:`OverlayResult`); the
small helpers :mod:`~zoning.overlay.constants`, :mod:`~zoning.overlay.families` and
:mod:`~zoning.overlay.pairs`.
"""

from __future__ import annotations

from .cellgrid import CellGrid
from .constants import CHUNK_SEGMENTS as CHUNK_SEGMENTS
from .constants import COVERAGE_TOLERANCE as COVERAGE_TOLERANCE
from .constants import DEFAULT_RINGS_M, DEFAULT_SEARCH_RADIUS_M, STANDARD_ATTRIBUTES
from .constants import LINE_GRID_M as LINE_GRID_M
from .constants import MAX_PIECE_VERTICES as MAX_PIECE_VERTICES
from .constants import NEAR_BOUNDARY_M as NEAR_BOUNDARY_M
from .constants import RING_QUAD_SEGS as RING_QUAD_SEGS
from .constants import TOUCH_AREA_M2 as TOUCH_AREA_M2
from .constants import TOUCH_LENGTH_M as TOUCH_LENGTH_M
from .engine import overlay
from .families import _LINE as _LINE
from .families import _POINT as _POINT
from .families import _POLY as _POLY
from .index import LayerIndex
from .index import LayerInput as LayerInput
from .pointpass import POINT_GRID_MIN_POINTS as POINT_GRID_MIN_POINTS
from .pointpass import prepare_point_grid
from .result import OverlayResult
from .subdivide import boundary_chunks as boundary_chunks
from .subdivide import subdivide as subdivide

# Re-exported for old import paths (the ``X as X`` imports above): names that zoning, tests and
# benchmarks import from zoning.overlay (LayerInput, LINE_GRID_M, POINT_GRID_MIN_POINTS,
# TOUCH_AREA_M2, CHUNK_SEGMENTS, MAX_PIECE_VERTICES, boundary_chunks, subdivide, _POLY), with the
# other constants and geometry families the single module used to define.

__all__ = [
    "DEFAULT_RINGS_M",
    "DEFAULT_SEARCH_RADIUS_M",
    "STANDARD_ATTRIBUTES",
    "CellGrid",
    "LayerIndex",
    "OverlayResult",
    "overlay",
    "prepare_point_grid",
]
