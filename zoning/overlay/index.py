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
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.errors import GEOSException

from .crs import WORKING_CRS
from .errors import SitesError
from .grid import PointGrid, crossed_cells, region_codes

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

log = logging.getLogger(__name__)

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
#: Containment screenings of at least this many single points build the combined point grid
#: (:class:`zoning.grid.PointGrid`).  Measured on the demonstration layers (2 cores): building
#: it takes ~12 s, and it saves ~4.5 s per million points over the per-layer path (1.6 s
#: against 7.1 s for a million), so one screening repays it from ~2.7 million points.  A
#: process that screens many batches builds it once with :func:`prepare_point_grid`.
POINT_GRID_MIN_POINTS = 2_500_000
#: Feature attributes copied into the hits table (None where a layer lacks them).
STANDARD_ATTRIBUTES = (
    "name",
    "name_en",
    "category",
    "unit_code",
    "level",
    "realm",
    "district",
    "access_list",
)

_POLY, _LINE, _POINT = 0, 1, 2
#: Topological dimension of the overlap of a site family (row) with a layer family (column).
_OVERLAP_DIM = np.array([[2, 1, 0], [1, 1, 0], [0, 0, 0]], dtype=np.int8)
_EMPTY_BY_DIM = {
    0: shapely.from_wkt("MULTIPOINT EMPTY"),
    1: shapely.from_wkt("MULTILINESTRING EMPTY"),
    2: shapely.from_wkt("MULTIPOLYGON EMPTY"),
}


def _family(geoms: np.ndarray) -> np.ndarray:
    """0 polygonal, 1 lineal, 2 puntal for every geometry (collections and None: polygonal)."""
    t = shapely.get_type_id(geoms)
    out = np.full(len(geoms), _POLY, dtype=np.int8)
    out[np.isin(t, (1, 2, 5))] = _LINE
    out[np.isin(t, (0, 4))] = _POINT
    return out


def _empty_pairs() -> tuple[np.ndarray, np.ndarray]:
    e = np.empty(0, dtype=np.int64)
    return e, e.copy()


# --------------------------------------------------------------------------- indexing


def subdivide(
    geoms: np.ndarray, max_vertices: int = MAX_PIECE_VERTICES
) -> tuple[np.ndarray, np.ndarray]:
    """Cut polygons or lines into pieces of at most ``max_vertices`` vertices.

    Parameters
    ----------
    geoms : array of shapely geometries
        Polygonal or lineal geometries (one family).
    max_vertices : int
        The largest number of vertices a piece may hold.

    Returns
    -------
    pieces : array of shapely geometries
        Polygons or linestrings.
    owner : array of int64
        The index in ``geoms`` of the geometry each piece came from.

    Notes
    -----
    Halves are cut along the longer side of the bounding box, like PostGIS ``ST_Subdivide``.
    Polygon pieces of one geometry share only cut edges, and a line is split so that each of its
    points goes to exactly one side (a stretch lying on a cut line goes to the first half), so
    areas and lengths of the pieces add up to the whole (to rounding).  A cut moves the vertices
    it creates by floating-point rounding (~1e-12 m), which :class:`LayerIndex` corrects for near
    boundaries.
    """
    geoms = np.asarray(geoms, dtype=object)
    if not len(geoms):
        return np.empty(0, dtype=object), np.empty(0, dtype=np.int64)
    parts, owner = shapely.get_parts(geoms, return_index=True)
    fam_of = _family(geoms)
    done_p: list[np.ndarray] = []
    done_o: list[np.ndarray] = []
    for _ in range(40):
        if not len(parts):
            break
        n = shapely.get_num_coordinates(parts)
        small = n <= max_vertices
        done_p.append(parts[small])
        done_o.append(owner[small])
        parts, owner = parts[~small], owner[~small]
        if not len(parts):
            break
        b = shapely.bounds(parts)
        wide = (b[:, 2] - b[:, 0]) >= (b[:, 3] - b[:, 1])
        midx = (b[:, 0] + b[:, 2]) / 2
        midy = (b[:, 1] + b[:, 3]) / 2
        pad = 1.0
        x0, y0, x1, y1 = b[:, 0] - pad, b[:, 1] - pad, b[:, 2] + pad, b[:, 3] + pad
        box_a = shapely.box(x0, y0, np.where(wide, midx, x1), np.where(wide, y1, midy))
        box_b = shapely.box(np.where(wide, midx, x0), np.where(wide, y0, midy), x1, y1)
        a = shapely.intersection(parts, box_a)
        line = fam_of[owner] == _LINE
        c = np.empty(len(parts), dtype=object)
        # Polygons: the two closed halves overlap only on the cut (no area).  Lines: the second
        # half is the line minus the first, so a stretch along the cut is not counted twice.
        c[~line] = shapely.intersection(parts[~line], box_b[~line])
        c[line] = shapely.difference(parts[line], box_a[line])
        new = np.concatenate([a, c])
        new_owner = np.concatenate([owner, owner])
        # Keep only the family of the input (clipping can leave stray points or lines).
        new, idx = shapely.get_parts(new, return_index=True)
        new_owner = new_owner[idx]
        keep = (_family(new) == fam_of[new_owner]) & ~shapely.is_empty(new)
        parts, owner = new[keep], new_owner[keep]
    if len(parts):  # pathological inputs: keep what is left as is
        done_p.append(parts)
        done_o.append(owner)
    return np.concatenate(done_p), np.concatenate(done_o).astype(np.int64)


def boundary_chunks(
    geoms: np.ndarray, segments: int = CHUNK_SEGMENTS
) -> tuple[np.ndarray, np.ndarray]:
    """Split the boundaries of polygons (or lines themselves) into short linestrings.

    Parameters
    ----------
    geoms : array of shapely geometries
        Polygons (their boundaries are split, holes included), lines (split as they are) or
        points (returned as they are).
    segments : int
        The largest number of segments a chunk holds.

    Returns
    -------
    chunks : array of shapely geometries
    owner : array of int64
        The index in ``geoms`` of the geometry each chunk came from.

    Notes
    -----
    Chunks consist of the original vertices (no new vertex is computed), so the union of the
    chunks of a feature *is* its boundary: distances to them equal distances to the boundary,
    and a geometry intersects a chunk exactly when it touches the boundary.
    """
    geoms = np.asarray(geoms, dtype=object)
    if not len(geoms):
        return np.empty(0, dtype=object), np.empty(0, dtype=np.int64)
    fam = _family(geoms)
    lines = geoms.copy()
    poly = fam == _POLY
    lines[poly] = shapely.boundary(geoms[poly])
    lines[fam == _POINT] = None
    parts, owner = shapely.get_parts(lines, return_index=True)
    coords, pidx = shapely.get_coordinates(parts, return_index=True)
    chunks = np.empty(0, dtype=object)
    chunk_owner = np.empty(0, dtype=np.int64)
    if len(coords):
        starts = np.r_[0, np.flatnonzero(np.diff(pidx)) + 1]
        pos = np.arange(len(coords)) - np.repeat(starts, np.diff(np.r_[starts, len(coords)]))
        chunk_local = pos // segments
        # Vertices that end one chunk and start the next belong to both.
        dup = (pos % segments == 0) & (pos > 0)
        cid_main = pidx.astype(np.int64) * 1_000_000 + chunk_local
        cid_dup = (pidx[dup].astype(np.int64) * 1_000_000) + chunk_local[dup] - 1
        all_cid = np.concatenate([cid_main, cid_dup])
        all_pos = np.concatenate([pos, pos[dup]])
        all_xy = np.concatenate([coords, coords[dup]])
        order = np.lexsort((all_pos, all_cid))
        all_cid, all_xy = all_cid[order], all_xy[order]
        uniq, inverse, counts = np.unique(all_cid, return_inverse=True, return_counts=True)
        ok = counts >= 2
        keep = ok[inverse]
        uniq_ok = uniq[ok]
        if len(uniq_ok):
            chunks = shapely.linestrings(
                all_xy[keep], indices=np.searchsorted(uniq_ok, all_cid[keep])
            )
            chunk_owner = owner[(uniq_ok // 1_000_000).astype(np.int64)]
    if (fam == _POINT).any():
        pts = np.flatnonzero(fam == _POINT)
        p_parts, p_owner = shapely.get_parts(geoms[pts], return_index=True)
        p_keep = ~shapely.is_empty(p_parts)
        chunks = np.concatenate([chunks, p_parts[p_keep]])
        chunk_owner = np.concatenate([chunk_owner, pts[p_owner[p_keep]]])
    return chunks, chunk_owner.astype(np.int64)


@dataclass
class CellGrid:
    """A grid over a polygon layer: each cell is empty, inside one feature, or "mixed".

    ``code[iy, ix]`` is ``-1`` when the cell touches no feature, ``k >= 0`` when it lies wholly
    inside feature ``k`` and no other, and ``-2`` when a boundary crosses it (or passes within a
    millionth of a cell of it) or features overlap there (points in those cells get the exact
    test).  Cell ``(iy, ix)`` covers ``x0 + ix*size <= x < x0 + (ix+1)*size`` (and the same in y).

    A cell is *crossed* when the bounding box of a boundary stretch at most half a cell long,
    widened by a millionth of a cell, reaches it.  Every boundary point lies in a crossed cell,
    and a boundary passes within one diagonal of every crossed cell's centre (half a diagonal to
    a point the box shares with the cell, half a diagonal across the box).  ``nearest`` gives,
    per cell, the crossed cell whose centre is nearest; ``crossed`` and ``crossed_by`` list the
    crossed cells and two of the features whose boundaries cross each (the smallest and the
    largest feature position; the same twice when one does).  Hence per point (see
    :meth:`bounds`) a lower and an upper bound on its distance to any boundary, and an upper
    bound on its distance to the boundary of a feature that crosses the nearest crossed cell.
    """

    x0: float
    y0: float
    size: float
    code: np.ndarray
    #: Per cell: the flat index (``iy * nx + ix``) of the nearest crossed cell (int32).
    nearest: np.ndarray
    #: The crossed cells' flat indices, ascending, and two features crossing each, shape (k, 2).
    crossed: np.ndarray
    crossed_by: np.ndarray

    @classmethod
    def build(
        cls,
        pieces: np.ndarray,
        owner: np.ndarray,
        chunks: np.ndarray,
        size: float,
        chunk_owner: np.ndarray | None = None,
        *,
        lines: bool = False,
    ) -> CellGrid:
        """Build the grid from a layer's pieces and boundary chunks.

        Parameters
        ----------
        pieces, owner : the layer's polygon pieces and the feature each belongs to
        chunks : the layer's boundary chunks (every boundary, holes included)
        size : cell size (m)
        chunk_owner : the feature each chunk belongs to (unknown: -1 for every crossed cell)
        lines : the pieces are lines: every cell a boundary does not cross is outside them

        Notes
        -----
        Cost: one sampling of every boundary at half a cell, a connected-component labelling and
        a Euclidean distance transform of the grid (scipy.ndimage), one point-in-polygon test
        per connected region of clean cells.  Memory: two int32 per cell.
        """
        from scipy import ndimage

        b = shapely.total_bounds(pieces)
        x0, y0 = b[0] - size, b[1] - size
        nx = int(np.ceil((b[2] + size - x0) / size)) + 1
        ny = int(np.ceil((b[3] + size - y0) / size)) + 1
        # Cells a boundary crosses (see zoning.grid.crossed_cells), and the features whose
        # boundaries cross each.
        cx, cy, seg_owner = crossed_cells(chunks, x0, y0, size, chunk_owner)
        cells_all = np.clip(cy, 0, ny - 1) * nx + np.clip(cx, 0, nx - 1)
        mixed = np.zeros((ny, nx), dtype=bool)
        mixed.ravel()[cells_all] = True
        order = np.lexsort((seg_owner, cells_all))
        cells_all, owners_all = cells_all[order], seg_owner[order]
        starts = np.flatnonzero(np.r_[True, cells_all[1:] != cells_all[:-1]])
        ends = np.r_[starts[1:], len(cells_all)] - 1
        crossed = cells_all[starts]
        crossed_by = np.stack([owners_all[starts], owners_all[ends]], axis=1).astype(np.int32)
        # Every other cell is wholly inside or outside each feature (zoning.grid.region_codes;
        # a centre in two features, where they overlap, leaves its region to the exact test).
        if lines:
            code = np.where(mixed, -2, -1).astype(np.int32)
        else:
            code = region_codes(mixed, shapely.STRtree(pieces), owner, x0, y0, size)
        near_iy, near_ix = ndimage.distance_transform_edt(
            ~mixed, return_distances=False, return_indices=True
        )
        nearest = (near_iy.astype(np.int64) * nx + near_ix).astype(np.int32)
        return cls(float(x0), float(y0), float(size), code, nearest, crossed, crossed_by)

    def _cells(self, x: np.ndarray, y: np.ndarray):
        with np.errstate(invalid="ignore"):
            fx = np.floor((np.asarray(x, dtype=float) - self.x0) / self.size)
            fy = np.floor((np.asarray(y, dtype=float) - self.y0) / self.size)
        ny, nx = self.code.shape
        inside = np.isfinite(fx) & np.isfinite(fy) & (fx >= 0) & (fx < nx) & (fy >= 0) & (fy < ny)
        ix = np.where(inside, fx, 0).astype(np.int64)
        iy = np.where(inside, fy, 0).astype(np.int64)
        return ix, iy, inside

    def _edge(self, ix: np.ndarray, iy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distance (m) between cell centres and their nearest crossed cell's, and that cell."""
        near = self.nearest[iy, ix].astype(np.int64)
        niy, nix = np.divmod(near, self.code.shape[1])
        return np.hypot(ix - nix, iy - niy) * self.size, near

    def lookup(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The cell code of every point (-1 outside the grid)."""
        ix, iy, inside = self._cells(x, y)
        out = np.full(len(ix), -1, dtype=np.int32)
        out[inside] = self.code[iy[inside], ix[inside]]
        return out

    def edge_lower_bound(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """A lower bound (m) on each point's distance to any feature boundary.

        A boundary lies only in crossed cells, within half a diagonal of their centre, and the
        point within half a diagonal of its own cell's centre.
        """
        return self.bounds(x, y)[1]

    def bounds(
        self, x: np.ndarray, y: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per point: cell code, bounds (m) on the distance to any boundary, nearest crossed cell.

        Returns
        -------
        code : array of int32
            As :meth:`lookup`.
        lower, upper : arrays of float
            ``lower <= distance to the nearest feature boundary <= upper``: the distance
            between the centres of the point's cell and of the nearest crossed cell, less one
            diagonal, plus one and a half (see the class notes).  Off the grid: the distance to
            the grid (every boundary lies inside it) and infinity.
        near : array of int64
            The flat index of that nearest crossed cell (-1 off the grid); :meth:`crossing`
            names two features whose boundaries cross it, so lie within ``upper`` of the point.

        Notes
        -----
        Cost: a few numpy operations per point, no geometry.
        """
        ix, iy, inside = self._cells(x, y)
        n = len(ix)
        code = np.full(n, -1, dtype=np.int32)
        lower = np.zeros(n)
        upper = np.full(n, np.inf)
        out = ~inside
        if out.any():
            ny, nx = self.code.shape
            x1, y1 = self.x0 + nx * self.size, self.y0 + ny * self.size
            xo = np.asarray(x, dtype=float)[out]
            yo = np.asarray(y, dtype=float)[out]
            dx = np.maximum(np.maximum(self.x0 - xo, xo - x1), 0.0)
            dy = np.maximum(np.maximum(self.y0 - yo, yo - y1), 0.0)
            with np.errstate(invalid="ignore"):
                lower[out] = np.nan_to_num(np.hypot(dx, dy) * (1 - 1e-9), nan=0.0)
        near = np.full(n, -1, dtype=np.int64)
        ix, iy = ix[inside], iy[inside]
        code[inside] = self.code[iy, ix]
        edge, near[inside] = self._edge(ix, iy)
        diag = self.size * np.sqrt(2.0)
        lower[inside] = edge - diag * (1 + 1e-5)
        upper[inside] = edge + 1.5 * diag * (1 + 1e-5)
        return code, lower, upper, near

    def crossing(self, near: np.ndarray) -> np.ndarray:
        """Two features (positions, shape (n, 2)) whose boundaries cross each crossed cell
        ``near`` (flat indices from :meth:`bounds`; -1 for -1)."""
        near = np.asarray(near, dtype=np.int64)
        out = np.full((len(near), 2), -1, dtype=np.int32)
        ok = near >= 0
        if ok.any() and len(self.crossed):
            pos = np.minimum(np.searchsorted(self.crossed, near[ok]), len(self.crossed) - 1)
            out[ok] = self.crossed_by[pos]
        return out


class LayerIndex:
    """Everything the engine needs about one layer, built once and reused.

    Parameters
    ----------
    geoms : array of shapely geometries
        The layer's features in the working CRS, all of one family (polygonal, lineal or
        puntal), none empty.
    tolerance_m : float, keyword-only
        The layer's positional tolerance (m, >= 0).
    rings_m : sequence of float, keyword-only
        The layer's distance bands: distinct positive distances in ascending order (default
        :data:`DEFAULT_RINGS_M`).  Declared rings (the catalog's ``buffer_rings_m``) are
        searched to the outermost even beyond the search radius (:func:`overlay`).

    Notes
    -----
    Cost: one subdivision pass (a few intersections per vertex), one boundary split, and STRtrees
    over both, each built on first use; the point grid (polygon layers) is built on first use.
    Do not share one index between threads: prepared GEOS geometries are not thread-safe.
    """

    def __init__(
        self,
        geoms: np.ndarray,
        *,
        tolerance_m: float = 0.0,
        rings_m: Sequence[float] | None = None,
    ):
        self.geoms = np.asarray(geoms, dtype=object)
        self.n = len(self.geoms)
        tol = float(tolerance_m or 0.0)
        if not np.isfinite(tol) or tol < 0:
            raise ValueError(f"tolerance_m must be a distance >= 0 m, not {tolerance_m!r}")
        self.tolerance_m = tol
        rings = tuple(float(r) for r in (rings_m or DEFAULT_RINGS_M))
        if any(not np.isfinite(r) or r <= 0 for r in rings) or sorted(set(rings)) != list(rings):
            raise ValueError(
                f"rings_m must be distinct positive distances in ascending order, not {rings_m!r}"
            )
        self.rings_m = rings
        self.rings_declared = bool(rings_m)
        if self.n:
            bad = shapely.is_missing(self.geoms) | shapely.is_empty(self.geoms)
            if bad.any():
                raise ValueError(
                    f"layer features {np.flatnonzero(bad)[:5].tolist()} have no geometry"
                )
            fam = np.unique(_family(self.geoms))
            if len(fam) != 1:
                raise ValueError(
                    "a layer must hold one geometry family (polygons, lines or points)"
                )
            self.family = int(fam[0])
        else:
            self.family = _POLY
        self.measure = (
            shapely.area(self.geoms) if self.family == _POLY else shapely.length(self.geoms)
        )

    @cached_property
    def _pieces(self) -> tuple[np.ndarray, np.ndarray]:
        if self.family == _POINT:
            parts, owner = shapely.get_parts(self.geoms, return_index=True)
            return parts, owner.astype(np.int64)
        return subdivide(self.geoms)

    @property
    def pieces(self) -> np.ndarray:
        """The features cut into pieces of at most :data:`MAX_PIECE_VERTICES` vertices."""
        return self._pieces[0]

    @property
    def piece_owner(self) -> np.ndarray:
        """The feature index of every piece."""
        return self._pieces[1]

    @cached_property
    def piece_tree(self) -> shapely.STRtree:
        shapely.prepare(self.pieces)
        return shapely.STRtree(self.pieces)

    @cached_property
    def _prepared_geoms(self) -> np.ndarray:
        # Copies, prepared for the exact tests near boundaries (the caller's geometries are
        # left as they are).
        copies = shapely.from_wkb(shapely.to_wkb(self.geoms))
        shapely.prepare(copies)
        return copies

    @cached_property
    def dissolved(self) -> tuple[np.ndarray, shapely.STRtree]:
        """The union of the features, cut into pieces like the features, and their STRtree.

        Overlapping features count once in it: a site's overlap with the layer is the sum of
        its intersections with these pieces (see :func:`_site_measures`).
        """
        try:
            union = shapely.union_all(self.geoms)
        except GEOSException:  # robustness failure on near-coincident edges: snap-round
            union = shapely.union_all(self.geoms, grid_size=LINE_GRID_M)
        pieces, _ = subdivide(np.array([union], dtype=object))
        shapely.prepare(pieces)
        return pieces, shapely.STRtree(pieces)

    @cached_property
    def _chunks(self) -> tuple[np.ndarray, np.ndarray]:
        return boundary_chunks(self.geoms)

    @property
    def chunks(self) -> np.ndarray:
        """The feature boundaries (lines and points: the features) in short original chunks."""
        return self._chunks[0]

    @property
    def chunk_owner(self) -> np.ndarray:
        """The feature index of every chunk."""
        return self._chunks[1]

    @cached_property
    def chunk_bounds(self) -> np.ndarray:
        """The bounding box of every chunk, shape (n, 4)."""
        return shapely.bounds(self.chunks)

    @cached_property
    def chunk_tree(self) -> shapely.STRtree:
        return shapely.STRtree(self.chunks)

    @cached_property
    def grid(self) -> CellGrid | None:
        """The point pre-screen grid (polygon and line layers with features)."""
        if self.family == _POINT or not self.n:
            return None
        b = shapely.total_bounds(self.pieces)
        extent = max(b[2] - b[0], b[3] - b[1])
        # ~2000 cells across the layer's extent, at least 25 m.
        size = max(25.0, extent / 2000.0)
        return CellGrid.build(
            self.pieces,
            self.piece_owner,
            self.chunks,
            size,
            chunk_owner=self.chunk_owner,
            lines=self.family == _LINE,
        )

    # ---------------------------------------------------------------- queries

    def _exact_pairs(self, geoms: np.ndarray, *, touching: bool = False) -> tuple[np.ndarray, ...]:
        """(geometry index, feature index) of every pair that intersects, exactly.

        The pieces decide, except for pairs within :data:`NEAR_BOUNDARY_M` of the feature's
        boundary: those intersect when they touch the boundary (an original chunk), and
        otherwise as the original feature says.  With ``touching``, a third array flags the
        pairs whose geometry touches the feature's boundary (found on the way).
        """
        if not len(geoms) or not self.n:
            e = _empty_pairs()
            return (*e, np.zeros(0, dtype=bool)) if touching else e
        m = np.int64(self.n)
        qi, pi = self.piece_tree.query(geoms, predicate="intersects")
        k_piece = np.unique(qi.astype(np.int64) * m + self.piece_owner[pi])
        if len(self.chunks):
            qj, cj = self.chunk_tree.query(geoms, predicate="dwithin", distance=NEAR_BOUNDARY_M)
        else:
            qj = cj = np.empty(0, dtype=np.int64)
        k_touch = np.empty(0, dtype=np.int64)
        if len(qj):
            key = qj.astype(np.int64) * m + self.chunk_owner[cj]
            k_near = np.unique(key)
            touch = shapely.intersects(geoms[qj], self.chunks[cj])
            k_touch = np.unique(key[touch])
            k_doubt = np.setdiff1d(k_near, k_touch, assume_unique=True)
            if len(k_doubt):
                s, f = np.divmod(k_doubt, m)
                k_doubt = k_doubt[shapely.intersects(self._prepared_geoms[f], geoms[s])]
            keys = np.union1d(
                np.setdiff1d(k_piece, k_near, assume_unique=True), np.union1d(k_touch, k_doubt)
            )
        else:
            keys = k_piece
        s, f = np.divmod(keys, m)
        if touching:
            return s.astype(np.int64), f.astype(np.int64), _in_sorted(keys, k_touch)
        return s.astype(np.int64), f.astype(np.int64)

    def contains_points(
        self, x: np.ndarray, y: np.ndarray, code: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(point index, feature index) for every point inside or on a polygon or line feature.

        The grid answers for points in clean cells; the others get the exact test.  Identical to
        ``shapely.intersects(point, feature)`` on the original features.  Empty for point
        layers (use :meth:`intersecting`).  ``code``: the points' grid codes, if looked up
        already.
        """
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        grid = self.grid
        if grid is None or not len(x):
            return _empty_pairs()
        if code is None:
            code = grid.lookup(x, y)
        sure = code >= 0
        p_sure = np.flatnonzero(sure).astype(np.int64)
        f_sure = code[sure].astype(np.int64)
        check = np.flatnonzero(code == -2)
        p_ex, f_ex = self._exact_pairs(shapely.points(x[check], y[check]))
        p = np.concatenate([p_sure, check[p_ex]])
        f = np.concatenate([f_sure, f_ex])
        order = np.lexsort((f, p))
        return p[order], f[order]

    def intersecting(self, geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(geometry index, feature index) pairs that intersect, deduplicated and exact."""
        return self._exact_pairs(np.asarray(geoms, dtype=object))

    def near(
        self,
        geoms: np.ndarray,
        distance: float,
        boxes: np.ndarray | None = None,
        parts: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(geometry, feature, distance) for feature boundaries within ``distance`` (min per pair).

        For a geometry outside a feature this is the distance to the feature; for one that
        intersects a polygon feature, the distance to its boundary.  Line and point features are
        their own "boundary".  ``distance`` 0 finds the pairs that touch a boundary.  ``boxes``:
        the geometries' bounding boxes widened by ``distance``; ``parts``: the boxes of their
        parts (:func:`_part_boxes`, and the row of each geometry in them), if built already.

        Notes
        -----
        Cost: one STRtree query by widened box; then, per (geometry, feature) pair, the exact
        distance to the chunk whose box is nearest to the geometry's part boxes, and to the
        other chunks only where the boxes leave room for a shorter distance (the box distance
        is a lower bound), so a long line near a dense boundary measures a few chunks, not
        every one within reach.
        """
        geoms = np.asarray(geoms, dtype=object)
        if distance < 0 or not len(geoms) or not len(self.chunks):
            return _min_per_pair(*_empty_pairs(), np.empty(0))
        if distance == 0:
            si, ci = self.chunk_tree.query(geoms, predicate="intersects")
            return _min_per_pair(si, self.chunk_owner[ci], np.zeros(len(si)))
        if boxes is None:
            b = shapely.bounds(geoms)
            boxes = shapely.box(b[:, 0] - distance, b[:, 1] - distance, b[:, 2] + distance,
                                b[:, 3] + distance)  # fmt: skip
        if parts is None:
            pb, off = _part_boxes(geoms)
            rows = np.arange(len(geoms))
        else:
            pb, off, rows = parts
        si, ci = self.chunk_tree.query(boxes)
        lower = _box_lower_bound(pb, off, rows[si], self.chunk_bounds[ci])
        keep = lower <= distance
        si, ci, lower = si[keep], ci[keep], lower[keep]
        if not len(si):
            return _min_per_pair(*_empty_pairs(), np.empty(0))
        fi = self.chunk_owner[ci]
        # Per pair: the chunk with the nearest box first; the others only if they might be
        # nearer than it (and within the distance).
        key = si.astype(np.int64) * np.int64(self.n) + fi
        order = np.lexsort((lower, key))
        key_o = key[order]
        first = np.r_[True, key_o[1:] != key_o[:-1]]
        lead = order[first]
        d_lead = shapely.distance(geoms[si[lead]], self.chunks[ci[lead]])
        bound = np.repeat(np.minimum(d_lead, distance), np.diff(np.r_[np.flatnonzero(first),
                                                                      len(order)]))  # fmt: skip
        rest = order[~first & (lower[order] < bound)]
        d_rest = shapely.distance(geoms[si[rest]], self.chunks[ci[rest]])
        pick = np.r_[lead, rest]
        d = np.r_[d_lead, d_rest]
        ok = d <= distance
        return _min_per_pair(si[pick][ok], fi[pick][ok], d[ok])

    def within(
        self, geoms: np.ndarray, distance: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(geometry, feature, touches) for every feature boundary within ``distance`` of each
        geometry (one distance per geometry), without measuring any distance.

        ``touches``: the geometry intersects the feature's boundary.  Line and point features
        are their own boundary.  Sorted by (geometry, feature).  Cost: one STRtree predicate
        query and one ``intersects`` per (geometry, boundary chunk) pair found.
        """
        geoms = np.asarray(geoms, dtype=object)
        distance = np.asarray(distance, dtype=float)
        if not len(geoms) or not len(self.chunks):
            e = np.empty(0, dtype=np.int64)
            return e, e.copy(), np.zeros(0, dtype=bool)
        if (distance == 0).all():
            si, ci = self.chunk_tree.query(geoms, predicate="intersects")
            touch = np.ones(len(si), dtype=bool)
        else:
            si, ci = self.chunk_tree.query(geoms, predicate="dwithin", distance=distance)
            touch = shapely.intersects(geoms[si], self.chunks[ci])
        if not len(si):
            e = np.empty(0, dtype=np.int64)
            return e, e.copy(), np.zeros(0, dtype=bool)
        si = si.astype(np.int64)
        fi = self.chunk_owner[ci]
        key = si * (int(fi.max()) + 1) + fi
        order = np.argsort(key, kind="stable")
        key = key[order]
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        touches = np.maximum.reduceat(touch[order], starts).astype(bool)
        return si[order][starts], fi[order][starts], touches

    def outside_distance(
        self, geoms: np.ndarray, distance: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(geometry, feature, distance to the feature) for features within ``distance``.

        Uses the feature pieces, so a geometry inside a feature gets 0.
        """
        geoms = np.asarray(geoms, dtype=object)
        if distance < 0 or not len(geoms) or not self.n:
            return _min_per_pair(*_empty_pairs(), np.empty(0))
        si, gi = self.piece_tree.query(geoms, predicate="dwithin", distance=distance)
        d = shapely.distance(geoms[si], self.pieces[gi])
        return _min_per_pair(si, self.piece_owner[gi], d)


#: Part boxes per geometry for the distance lower bound (:func:`_part_boxes`).
_PART_BOXES = 16


def _part_boxes(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Boxes covering each geometry in at most :data:`_PART_BOXES` pieces: consecutive runs of
    its segments (a geometry without segments -- points -- has its own box).

    Returns ``(boxes, off)``: the boxes (shape (k, 4)) of geometry ``i`` are
    ``boxes[off[i]:off[i + 1]]``.
    """
    n = len(geoms)
    parts, owner = shapely.get_parts(geoms, return_index=True)
    xy, idx = shapely.get_coordinates(parts, return_index=True)
    seg = np.flatnonzero(idx[1:] == idx[:-1])
    site = owner[idx[seg]]
    a, b = xy[seg], xy[seg + 1]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    count = np.bincount(site, minlength=n)
    bare = np.flatnonzero(count == 0)  # points: their own box
    if len(bare):
        bb = shapely.bounds(geoms[bare])
        site = np.r_[site, bare]
        lo = np.r_[lo, bb[:, :2]]
        hi = np.r_[hi, bb[:, 2:]]
        count[bare] = 1
        order = np.argsort(site, kind="stable")
        site, lo, hi = site[order], lo[order], hi[order]
    start = np.cumsum(count) - count
    rank = np.arange(len(site)) - start[site]
    per = np.maximum(1, -(-count // _PART_BOXES))  # segments per box
    group = site * _PART_BOXES + rank // per[site]
    cut = np.r_[0, np.flatnonzero(np.diff(group)) + 1]
    boxes = np.column_stack(
        [
            np.minimum.reduceat(lo[:, 0], cut),
            np.minimum.reduceat(lo[:, 1], cut),
            np.maximum.reduceat(hi[:, 0], cut),
            np.maximum.reduceat(hi[:, 1], cut),
        ]
    ) if len(cut) and len(site) else np.empty((0, 4))  # fmt: skip
    off = np.searchsorted(group[cut] // _PART_BOXES if len(site) else group, np.arange(n + 1))
    return boxes, off


def _box_lower_bound(
    boxes: np.ndarray, off: np.ndarray, rows: np.ndarray, other: np.ndarray
) -> np.ndarray:
    """Per candidate: a lower bound on the distance between geometry ``rows[i]`` (its part
    boxes, see :func:`_part_boxes`) and the box ``other[i]``: the nearest pair of boxes."""
    k = off[rows + 1] - off[rows]
    cand = np.repeat(np.arange(len(rows)), k)
    part = np.arange(int(k.sum())) - np.repeat(np.cumsum(k) - k, k) + np.repeat(off[rows], k)
    pb, ob = boxes[part], other[cand]
    dx = np.maximum(0.0, np.maximum(pb[:, 0] - ob[:, 2], ob[:, 0] - pb[:, 2]))
    dy = np.maximum(0.0, np.maximum(pb[:, 1] - ob[:, 3], ob[:, 1] - pb[:, 3]))
    lower = np.full(len(rows), np.inf)
    np.minimum.at(lower, cand, np.hypot(dx, dy))
    # Boxes hold their geometry's coordinates exactly; the slack covers the rounding of the
    # subtraction (far below a micrometre here).
    return lower * (1 - 1e-12) - 1e-9


def _min_per_pair(si: np.ndarray, fi: np.ndarray, d: np.ndarray):
    """The smallest ``d`` of every (si, fi) pair, sorted by (si, fi)."""
    if not len(si):
        e = np.empty(0, np.int64)
        return e, e.copy(), np.empty(0)
    si = si.astype(np.int64)
    fi = fi.astype(np.int64)
    key = si * (int(fi.max()) + 1) + fi
    order = np.argsort(key, kind="stable")
    key = key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    dmin = np.minimum.reduceat(d[order], starts)
    return si[order][starts], fi[order][starts], dmin


# --------------------------------------------------------------------------- the engine


@dataclass
class LayerInput:
    """One layer as the engine sees it.

    ``attributes`` holds ``feature_id`` and any of :data:`STANDARD_ATTRIBUTES`, one row per
    feature in the order of ``index.geoms``.  A layer that failed to load has ``status``
    ``"failed"``, ``index`` and ``attributes`` None and the reason in ``error``.
    """

    layer_id: str
    kind: str
    index: LayerIndex
    attributes: pd.DataFrame  # feature_id + STANDARD_ATTRIBUTES, positional
    status: str = "ok"  # ok | failed
    error: str | None = None


_HIT_COLUMNS = [
    "site",
    "site_id",
    "layer_id",
    "kind",
    "feature_id",
    "relation",
    "overlap_m2",
    "overlap_ha",
    "share_of_site",
    "share_of_feature",
    "overlap_length_m",
    "distance_m",
    "ring_m",
    "boundary_distance_m",
    "boundary_sensitive",
    *STANDARD_ATTRIBUTES,
]
_SUMMARY_COLUMNS = [
    "site",
    "site_id",
    "layer_id",
    "kind",
    "status",
    "hit",
    "overlap_m2",
    "share_of_site",
    "overlap_length_m",
    "distance_m",
    "nearest_feature_id",
    "ring_m",
    "boundary_sensitive",
]
_PIECE_COLUMNS = [
    "site",
    "site_id",
    "layer_id",
    "kind",
    "feature_id",
    "overlap_m2",
    "overlap_length_m",
]


def _ring_of(d: np.ndarray, rings: tuple[float, ...]) -> np.ndarray:
    """The smallest ring (m) that reaches each distance; NaN beyond the last or for NaN."""
    r = np.asarray(rings, dtype=float)
    d = np.asarray(d, dtype=float)
    out = np.full(len(d), np.nan)
    fin = np.isfinite(d)
    idx = np.searchsorted(r, d[fin], side="left")
    ok = idx < len(r)
    vals = np.full(len(idx), np.nan)
    vals[ok] = r[idx[ok]]
    out[fin] = vals
    return out


@dataclass
class _SiteSet:
    """The sites, checked, with what every layer pass needs."""

    geoms: np.ndarray
    ids: np.ndarray
    fam: np.ndarray
    #: Area (polygon sites), length (line sites) or number of points (point sites).
    measure: np.ndarray
    #: The points of point and multipoint sites, their site, and coordinates.
    member: np.ndarray
    member_site: np.ndarray
    mx: np.ndarray
    my: np.ndarray
    #: Single-point sites and their coordinates (NaN elsewhere), for the grid's distance bound.
    single: np.ndarray
    #: What boundary distances are measured from: a polygon site's outline (holes included),
    #: other sites themselves.
    edges: np.ndarray
    px: np.ndarray
    py: np.ndarray

    def __len__(self) -> int:
        return len(self.geoms)

    def additive(self, sites: np.ndarray, family: int) -> np.ndarray:
        """Per site: its intersections with pieces can be summed without a union.

        True for polygon sites, and for line sites that do not overlap themselves and, in
        polygon layers, have no segment within a billionth of a radian of an axis: cuts
        between polygon pieces are axis-parallel, so only such a segment could run along a
        cut and be counted in both pieces.  (Line layers' pieces share no stretch.)
        """
        flags = self.__dict__.get("_additive")
        if flags is None:
            simple = np.ones(len(self), dtype=bool)
            oblique = np.ones(len(self), dtype=bool)
            lines = np.flatnonzero(self.fam == _LINE)
            if len(lines):
                simple[lines] = shapely.is_simple(self.geoms[lines])
                parts, owner = shapely.get_parts(self.geoms[lines], return_index=True)
                xy, idx = shapely.get_coordinates(parts, return_index=True)
                seg = idx[1:] == idx[:-1]
                dx = np.abs(np.diff(xy[:, 0]))[seg]
                dy = np.abs(np.diff(xy[:, 1]))[seg]
                axis = (dx <= 1e-9 * dy) | (dy <= 1e-9 * dx)
                bad = np.unique(owner[idx[:-1][seg][axis]])
                oblique[lines[bad]] = False
            flags = self.__dict__["_additive"] = (simple, simple & oblique)
        simple, oblique = flags
        return (simple if family == _LINE else oblique)[sites]

    def parts(self) -> tuple[np.ndarray, np.ndarray]:
        """:func:`_part_boxes` of every site's edges (built once)."""
        if "_parts" not in self.__dict__:
            self.__dict__["_parts"] = _part_boxes(self.edges)
        return self.__dict__["_parts"]

    def boxes(self, distance: float) -> np.ndarray:
        """Every site's bounding box widened by ``distance`` (built once per distance)."""
        cache = self.__dict__.setdefault("_boxes", {})
        if distance not in cache:
            b = shapely.bounds(self.geoms)
            cache[distance] = shapely.box(
                b[:, 0] - distance, b[:, 1] - distance, b[:, 2] + distance, b[:, 3] + distance
            )
        return cache[distance]


def _check_sites(sites: object, site_ids: object, notes: list[str]) -> _SiteSet:
    geoms = np.asarray(sites, dtype=object)
    if geoms.ndim != 1:
        geoms = np.asarray(list(sites), dtype=object)  # type: ignore[call-overload]
    n = len(geoms)
    if isinstance(site_ids, np.ndarray) and site_ids.dtype == object and site_ids.ndim == 1:
        ids = site_ids.copy()
    else:
        ids = np.asarray(list(site_ids), dtype=object)  # type: ignore[call-overload]
    if len(ids) != n:
        raise ValueError(f"{len(ids)} site ids for {n} sites")
    bad_type = ~shapely.is_valid_input(geoms)
    if bad_type.any():
        i = int(np.flatnonzero(bad_type)[0])
        raise SitesError(f"site {ids[i]}: {type(geoms[i]).__name__} is not a shapely geometry")
    if n and (shapely.get_type_id(geoms) == 0).all():
        # Single 2-D points with finite coordinates (the bulk case): their own members, with
        # coordinates from their bounds.  Anything else takes the checks below.
        xy = shapely.bounds(geoms)[:, :2]
        if np.isfinite(xy).all() and not shapely.has_z(geoms).any():
            x, y = xy[:, 0].copy(), xy[:, 1].copy()
            return _SiteSet(
                geoms=geoms,
                ids=ids,
                fam=np.full(n, _POINT, dtype=np.int8),
                measure=np.ones(n),
                member=geoms,
                member_site=np.arange(n, dtype=np.int64),
                mx=x,
                my=y,
                single=np.ones(n, dtype=bool),
                edges=geoms,
                px=x,
                py=y,
            )

    def named(mask: np.ndarray) -> str:
        pos = np.flatnonzero(mask)
        shown = ", ".join(str(ids[i]) for i in pos[:5])
        more = f" and {len(pos) - 5} more" if len(pos) > 5 else ""
        return f"site{'s' if len(pos) > 1 else ''} {shown}{more}"

    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        raise SitesError(f"{named(missing)}: no geometry (null or empty); every site needs one")
    types = shapely.get_type_id(geoms)
    if (types == 7).any():
        raise SitesError(
            f"{named(types == 7)}: a GeometryCollection is not a site; split it into separate "
            "sites or use a Multi* geometry"
        )
    if n and shapely.has_z(geoms).any():
        notes.append(
            f"Z coordinates of {int(shapely.has_z(geoms).sum())} site(s) ignored "
            "(the engine works in 2-D)"
        )
        geoms = shapely.force_2d(geoms)  # a new array: the caller's geometries are untouched
    if n:
        finite = np.isfinite(shapely.bounds(geoms)).all(axis=1)
        if not finite.all():
            raise SitesError(f"{named(~finite)}: coordinates are not finite numbers")
    fam = _family(geoms)
    other = fam != _POINT
    invalid = np.zeros(n, dtype=bool)
    if other.any():
        invalid[other] = ~shapely.is_valid(geoms[other])
    if invalid.any():
        i = int(np.flatnonzero(invalid)[0])
        raise SitesError(
            f"{named(invalid)}: invalid geometry ({shapely.is_valid_reason(geoms[i])}); "
            "repair it first (zoning.sites.load_sites repairs polygons)"
        )

    pts = np.flatnonzero(fam == _POINT)
    if (types[pts] == 0).all():  # single points (never empty here): their own members
        member, member_site = geoms[pts], pts.astype(np.int64)
    else:
        member, m_own = shapely.get_parts(geoms[pts], return_index=True)
        keep = ~shapely.is_empty(member)
        member, member_site = member[keep], pts[m_own[keep]].astype(np.int64)
    mxy = shapely.get_coordinates(member)
    measure = np.full(n, np.nan)
    measure[fam == _POLY] = shapely.area(geoms[fam == _POLY])
    lines = np.flatnonzero(fam == _LINE)
    measure[lines] = shapely.length(geoms[lines])
    # A line that runs over itself (or a multiline whose parts overlap) covers each stretch
    # once, as its overlaps do: measure it dissolved.
    rerun = lines[~shapely.is_simple(geoms[lines])]
    measure[rerun] = shapely.length(shapely.union(geoms[rerun], geoms[rerun]))
    measure[pts] = np.bincount(member_site, minlength=n)[pts]
    single = types == 0
    px = np.full(n, np.nan)
    py = np.full(n, np.nan)
    if single.any():
        xy = shapely.get_coordinates(geoms[single])
        px[single], py[single] = xy[:, 0], xy[:, 1]
    edges = geoms.copy()
    edges[fam == _POLY] = shapely.boundary(geoms[fam == _POLY])
    return _SiteSet(
        geoms=geoms,
        ids=ids,
        fam=fam,
        measure=measure,
        member=member,
        member_site=member_site,
        mx=mxy[:, 0],
        my=mxy[:, 1],
        single=single,
        edges=edges,
        px=px,
        py=py,
    )


def _check_uncertainty(uncertainty_m: object, n: int) -> np.ndarray:
    if uncertainty_m is None:
        return np.zeros(n)
    unc = np.asarray(uncertainty_m, dtype=float)
    if unc.ndim == 0:
        unc = np.full(n, float(unc))
    if unc.shape != (n,):
        raise ValueError(f"uncertainty_m has {unc.size} values for {n} sites")
    if not (np.isfinite(unc) & (unc >= 0)).all():
        raise ValueError("uncertainty_m must hold distances >= 0 m (no NaN)")
    return unc


def overlay(
    sites: np.ndarray,
    site_ids: Sequence[str],
    layers: Sequence[LayerInput],
    *,
    search_radius_m: float = DEFAULT_SEARCH_RADIUS_M,
    uncertainty_m: np.ndarray | None = None,
    coverage: Sequence[str] = ("district", "sea_area"),
    missing_kinds: Sequence[str] = (),
    pieces: bool = True,
    rings: bool = True,
    max_ring_sites: int = 10_000,
    progress: Callable[[str], object] | None = None,
) -> OverlayResult:
    """Overlay sites with layers.

    Parameters
    ----------
    sites : array of shapely geometries
        The sites, in :data:`~zoning.crs.WORKING_CRS`: points, multipoints, lines, multilines,
        polygons and multipolygons, mixed.  Z is ignored (with a note).
    site_ids : sequence of str
        One id per site (reported beside the site's position).
    layers : sequence of LayerInput
    search_radius_m : float, keyword-only
        Features within this distance are reported as ``nearby`` with their distance; a layer
        whose declared buffer rings reach farther is searched to its outermost ring (the Yangtze
        shoreline's 3 km ring, for example).  0 skips the distance search (containment only:
        boundary distances are reported only where they are 0; the boundary-sensitive flags are
        still exact).
    uncertainty_m : array of float, optional
        Per-site positional uncertainty from the input CRS (GCJ-02/BD-09 conversion), added to
        each layer's positional tolerance for the boundary-sensitive flag.
    coverage : sequence of str
        Kinds whose union is the territory the layers cover; a site not wholly inside it gets
        status ``outside_coverage`` for every layer.  When a layer of these kinds failed to load,
        or there is none, coverage is not checked (and a note says so).
    missing_kinds : sequence of str
        Kinds some rule needs that no layer provides (a ``missing`` summary row each).
    pieces, rings : bool
        Build the overlap pieces and the buffer-ring geometries.  Neither changes any number.
    max_ring_sites : int
        Draw ring geometries for at most this many sites.
    progress : callable, optional
        Called with each layer id as the engine starts on it (the CLI's progress bar).

    Returns
    -------
    OverlayResult
        ``hits`` and ``layer_summary`` (one row per site x layer: ``status`` ``ok``, ``failed``,
        ``missing`` or ``outside_coverage``; ``hit``; ``overlap_m2``, ``share_of_site``,
        ``overlap_length_m`` with overlapping features counted once; ``distance_m`` and
        ``nearest_feature_id``; ``ring_m``; ``boundary_sensitive``), ``pieces``, ``rings`` and
        ``notes``.  ``site`` columns are positions in ``sites``.

    Raises
    ------
    SitesError
        A site has no geometry, is a GeometryCollection, has non-finite coordinates or is
        invalid (naming the site ids).
    ValueError
        ``site_ids`` or ``uncertainty_m`` do not match the sites; a negative search radius.

    Notes
    -----
    Cost: per layer, one STRtree query of the sites against the feature pieces and one against
    the boundary chunks, one clip per intersecting (site, piece) pair and one union per site that
    touches several features; point sites in polygon layers go through the grid first (only
    points in cells a boundary crosses get the exact test, and only points the grid cannot
    place with respect to the tolerance get the boundary query).  The ``hits`` and
    ``layer_summary`` frames are built on first access.  The inputs are not modified (the
    layer index caches its own structures).
    """
    notes: list[str] = []
    S = _check_sites(sites, site_ids, notes)
    n = len(S)
    unc = _check_uncertainty(uncertainty_m, n)
    radius = float(search_radius_m)
    if not np.isfinite(radius) or radius < 0:
        raise ValueError(f"search radius must be a distance >= 0 m, not {search_radius_m!r}")
    coverage = tuple(coverage)

    entries: list = []
    piece_frames: list[gpd.GeoDataFrame] = []
    cov_passes: list[_LayerPass] = []
    cov_failed: list[str] = []

    placed = _place_points(S, layers, radius)
    for L in layers:
        if progress is not None:
            progress(L.layer_id)
        if L.status != "ok":
            entries.append((L.layer_id, L.kind, L.status))
            if L.kind in coverage:
                cov_failed.append(L.layer_id)
            continue
        if id(L) in placed:
            res = _point_pass(S, L, *placed[id(L)], unc=unc)
        else:
            # A layer with declared buffer rings is searched to its outermost ring when that
            # reaches farther than the search radius, so every ring it declares can be reported
            # (radius 0: no distance search).
            reach = L.index.rings_m[-1] if L.index.rings_declared and radius > 0 else 0.0
            res = _layer_pass(
                S,
                L,
                radius=max(radius, reach),
                unc=unc,
                want_pieces=pieces,
                want_geometry=pieces,
            )
        entries.append(res)
        if res.pieces is not None:
            piece_frames.append(res.pieces)
        if L.kind in coverage:
            cov_passes.append(res)

    for kind in missing_kinds:
        entries.append((None, kind, "missing"))

    # Coverage: the territory is the union of the coverage layers.
    outside = np.zeros(n, dtype=bool)
    if cov_failed:
        notes.append(
            f"coverage layer(s) {', '.join(cov_failed)} failed to load: whether sites lie inside "
            "the layers' coverage is not checked"
        )
    elif cov_passes:
        covered = _covered_share(S, cov_passes)
        outside = covered < 1.0 - COVERAGE_TOLERANCE
        if outside.any():
            notes.append(
                f"{int(outside.sum())} site(s) lie wholly or partly outside the layers' coverage "
                f"({', '.join(p.layer_id for p in cov_passes)}): the part outside was not "
                "screened (their result is unknown unless a screened constraint already "
                "prohibits them)"
            )
    else:
        notes.append(
            "no district or sea-area layer: whether sites lie inside the layers' coverage is "
            "not checked"
        )
    for e in entries:
        if isinstance(e, _LayerPass):
            e.site_overlap = None  # only the coverage test needs it

    piece_gdf = (
        pd.concat(piece_frames, ignore_index=True)
        if piece_frames
        else gpd.GeoDataFrame({c: [] for c in _PIECE_COLUMNS}, geometry=[], crs=WORKING_CRS)
    )
    piece_gdf = gpd.GeoDataFrame(piece_gdf, geometry="geometry", crs=WORKING_CRS)
    ring_gdf = _rings(S, layers, enabled=rings, max_sites=max_ring_sites, notes=notes)
    return OverlayResult(
        site_ids=S.ids,
        entries=entries,
        outside=outside,
        pieces=piece_gdf,
        rings=ring_gdf,
        notes=notes,
    )


@dataclass
class _LayerPass:
    """One layer's results as arrays (the frames are built on demand by :class:`OverlayResult`).

    The pair arrays (``ps`` ... ``psens``) are the rows of the layer's part of the hits table,
    in table order; the per-site arrays (``hit`` ... ``sens``) are its layer-summary rows.
    """

    layer: LayerInput
    #: Site and feature positions of every pair; relation 0 intersects, 1 touches, 2 nearby.
    ps: np.ndarray
    pf: np.ndarray
    rel: np.ndarray
    overlap_m2: np.ndarray
    share_site: np.ndarray
    share_feat: np.ndarray
    overlap_len: np.ndarray
    dist: np.ndarray
    bdist: np.ndarray
    psens: np.ndarray
    #: Per site: hit, overlap area, share of site, overlap length, distance, nearest feature
    #: (position, -1 for none) and boundary-sensitive flag.
    hit: np.ndarray
    ov: np.ndarray
    share: np.ndarray
    ln: np.ndarray
    sdist: np.ndarray
    nearest: np.ndarray
    sens: np.ndarray
    pieces: gpd.GeoDataFrame | None
    #: Per site: the union of its overlaps with the layer's features (None: no overlap);
    #: dropped once the coverage test has used it.
    site_overlap: np.ndarray | None
    #: Per member point of the point sites: inside or on a feature.
    member_in: np.ndarray

    @property
    def layer_id(self) -> str:
        return self.layer.layer_id


def _point_grid(indexes: list[LayerIndex]) -> PointGrid:
    """The :class:`~zoning.grid.PointGrid` of these layer indexes, built once.

    Kept on the first index (with the indexes it was built from, so a new set of layers gets
    its own); at most one grid per first index.
    """
    cache = indexes[0].__dict__.setdefault("_point_grids", {})
    key = tuple(id(ix) for ix in indexes)
    grid = cache.get(key)
    if grid is None or any(a is not b for a, b in zip(grid.indexes, indexes, strict=True)):
        cache.clear()
        grid = cache[key] = PointGrid(indexes)
    return grid


def _grid_layers(layers: Sequence[LayerInput]) -> list[LayerInput]:
    """The layers the combined point grid covers: loaded polygon and line layers with
    features (point layers go through :func:`_layer_pass`)."""
    return [
        L
        for L in layers
        if L.status == "ok" and L.index is not None and L.index.n
        and L.index.family in (_POLY, _LINE)
    ]  # fmt: skip


def prepare_point_grid(layers: Sequence[LayerInput]) -> PointGrid | None:
    """Build (once) the combined point grid of ``layers``, so that every later containment
    screening of point sites with the same layers uses it, however few the points.

    For processes that screen many batches (a service, a benchmark's warm indexes): a single
    screening builds it only from :data:`POINT_GRID_MIN_POINTS` points.  Returns the grid, or
    None when no layer takes part.
    """
    use = _grid_layers(layers)
    return _point_grid([L.index for L in use]) if use else None


def _place_points(S: _SiteSet, layers: Sequence[LayerInput], radius: float) -> dict:
    """Point sites placed by the combined grid: ``{id(layer): (code, sens, samples)}``.

    Only for containment screenings (radius 0) of single points, and only when there are at
    least :data:`POINT_GRID_MIN_POINTS` of them or the grid of these layers is built already:
    building it costs seconds, which a few thousand points do not repay.  Polygon and line
    layers with features take part; point layers go through :func:`_layer_pass`.
    """
    use = _grid_layers(layers)
    if radius != 0 or not use or not len(S) or not S.single.all():
        return {}
    indexes = [L.index for L in use]
    cache = indexes[0].__dict__.get("_point_grids", {})
    if len(S) < POINT_GRID_MIN_POINTS and tuple(id(ix) for ix in indexes) not in cache:
        return {}
    grid = _point_grid(indexes)
    code, sens = grid.classify(S.px, S.py)
    return {id(L): (code[:, j], sens[:, j], grid.layers[j].samples) for j, L in enumerate(use)}


def _point_pass(
    S: _SiteSet,
    L: LayerInput,
    code: np.ndarray,
    sens: np.ndarray,
    samples,
    *,
    unc: np.ndarray,
) -> _LayerPass:
    """One layer's results for single-point sites placed by the combined grid (radius 0).

    ``code`` and ``sens`` are the grid's answers per site (:meth:`PointGrid.classify`):
    the feature the point lies in (-2: undecided) and whether a boundary lies within the
    layer's tolerance (2: undecided; the grid's answer is for the tolerance alone, so a site
    with its own uncertainty that the grid puts beyond it is undecided too).  Undecided
    sensitivities are settled by the distance to the layer's boundary samples, and what those
    cannot settle, like every undecided containment, by the exact tests of
    :class:`LayerIndex` -- so the results are those of :func:`_layer_pass`.
    """
    ix = L.index
    n = len(S)
    m = np.int64(ix.n)
    thresh = ix.tolerance_m + unc
    # 1. Containment: the grid's feature, or the exact test (which also tells which pairs
    #    touch a boundary).
    ex = np.flatnonzero(code == -2)
    pe, fe, te = ix._exact_pairs(S.geoms[ex], touching=True)
    sure = np.flatnonzero(code >= 0)
    hs = np.concatenate([sure, ex[pe]])
    hf = np.concatenate([code[sure].astype(np.int64), fe])
    touch = np.concatenate([np.zeros(len(sure), dtype=bool), te])
    if len(pe):
        order = np.lexsort((hf, hs))
        hs, hf, touch = hs[order], hf[order], touch[order]
    # 2. Sensitivity.  ``state`` is the site's (for a site in one feature: also the pair's).
    state = sens.astype(np.int8)
    state[(state == 0) & (unc > 0)] = 2
    state[ex] = 2  # measured below with the pairs they belong to
    und = np.flatnonzero((state == 2) & (code != -2))
    if len(und) and samples is not None:
        state[und] = samples.decide(S.px[und], S.py[und], code[und], thresh[und])
    measure = np.flatnonzero(state == 2)
    bs, bf, _ = ix.within(S.geoms[measure], thresh[measure] + 1e-9)
    bs = measure[bs]
    site_sens = state == 1
    site_sens[bs] = True
    psens = site_sens[hs]  # sites decided without a measurement: the site's answer
    measured = np.zeros(n, dtype=bool)
    measured[measure] = True
    on_pair = measured[hs]
    psens[on_pair] = _in_sorted(hs[on_pair] * m + hf[on_pair], np.sort(bs * m + bf))
    # 3. Per site.
    hit = np.zeros(n, dtype=bool)
    hit[hs] = True
    nearest = np.full(n, -1, dtype=np.int64)
    if len(hs):
        first = np.r_[True, hs[1:] != hs[:-1]]
        nearest[hs[first]] = hf[first]
    nan_pairs = np.broadcast_to(np.float64(np.nan), (len(hs),))
    nan_sites = np.broadcast_to(np.float64(np.nan), (n,))
    return _LayerPass(
        layer=L,
        ps=hs,
        pf=hf,
        rel=np.zeros(len(hs), dtype=np.int8),
        overlap_m2=nan_pairs,
        share_site=np.ones(len(hs)),
        share_feat=nan_pairs,
        overlap_len=nan_pairs,
        dist=np.zeros(len(hs)),
        bdist=np.where(touch, 0.0, np.nan),
        psens=psens,
        hit=hit,
        ov=nan_sites,
        share=hit.astype(float),
        ln=nan_sites,
        sdist=np.where(hit, 0.0, np.nan),
        nearest=nearest,
        sens=site_sens,
        pieces=None,
        site_overlap=None,
        member_in=hit,
    )


def _layer_pass(
    S: _SiteSet,
    L: LayerInput,
    *,
    radius: float,
    unc: np.ndarray,
    want_pieces: bool,
    want_geometry: bool,
) -> _LayerPass:
    ix = L.index
    n = len(S)
    m = np.int64(max(ix.n, 1))
    fids = L.attributes["feature_id"].to_numpy(dtype=object)

    # 1. Intersecting pairs (exact).  Points of point sites are tested one by one (polygon
    #    layers through the grid); a site hits a feature when any of its points does.
    grid = ix.grid
    # Grid codes and distance bounds of single-point sites, looked up once for steps 1 and 3.
    pre = None
    if grid is not None and S.single.any() and len(S.member) == int(S.single.sum()):
        pre = grid.bounds(S.mx, S.my)  # the members are the single points, in site order
    if len(S.member) and ix.n:
        if ix.family in (_POLY, _LINE):
            a, f = ix.contains_points(S.mx, S.my, None if pre is None else pre[0])
        else:
            a, f = ix.intersecting(S.member)
    else:
        a, f = _empty_pairs()
    member_in = np.zeros(len(S.member), dtype=bool)
    member_in[a] = True
    k_pt = S.member_site[a] * m + f
    if len(k_pt) and (np.diff(k_pt) > 0).all():  # single points: pairs already sorted, unique
        n_in = np.ones(len(k_pt), dtype=np.int64)
    else:
        k_pt, n_in = np.unique(k_pt, return_counts=True)
    gen = np.flatnonzero(S.fam != _POINT)
    s2, f2 = ix.intersecting(S.geoms[gen]) if len(gen) and ix.n else _empty_pairs()
    hs = np.concatenate([k_pt // m, gen[s2]]).astype(np.int64)
    hf = np.concatenate([k_pt % m, f2]).astype(np.int64)
    cnt = np.concatenate([n_in, np.zeros(len(s2), dtype=np.int64)])
    if len(s2):  # the point pairs alone are sorted already
        order = np.lexsort((hf, hs))
        hs, hf, cnt = hs[order], hf[order], cnt[order]

    # 2. Overlaps of each pair.
    hs_fam = S.fam[hs]
    dim = _OVERLAP_DIM[hs_fam, ix.family] if len(hs) else np.empty(0, dtype=np.int8)
    overlap_m2 = np.full(len(hs), np.nan)
    overlap_len = np.full(len(hs), np.nan)
    share_site = np.full(len(hs), np.nan)
    share_feat = np.full(len(hs), np.nan)
    pair_geom = np.full(len(hs), None, dtype=object)
    is_pt = hs_fam == _POINT
    share_site[is_pt] = cnt[is_pt] / S.measure[hs[is_pt]]
    g = np.flatnonzero(~is_pt)
    if len(g):
        # Overlap geometries are built for the pieces table (and where a line overlap must be
        # unioned to be measured, see _clip_pairs); the measures never need them.
        want = np.full(len(g), bool(want_geometry))
        measure, pair_geom[g] = _clip_pairs(S, hs[g], hf[g], ix, dim[g], want)
        area = dim == 2
        lin = dim == 1
        overlap_m2[g[dim[g] == 2]] = measure[dim[g] == 2]
        overlap_len[g[dim[g] == 1]] = measure[dim[g] == 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            share_site[area] = overlap_m2[area] / S.measure[hs[area]]
            share_feat[area] = overlap_m2[area] / ix.measure[hf[area]]
            line_site = lin & (hs_fam == _LINE)
            share_site[line_site] = overlap_len[line_site] / S.measure[hs[line_site]]
            if ix.family == _LINE:
                share_feat[lin] = overlap_len[lin] / ix.measure[hf[lin]]
    # A polygon or line site that only touches a polygon feature (a shared edge or corner: no
    # area, no length inside) does not occupy it: relation "touches", at distance 0, and it is
    # boundary-sensitive.  Points on a boundary stay hits (they are covered by the feature), and
    # a line crossing a line feature is a hit however short the shared part.
    touch = np.zeros(len(hs), dtype=bool)
    if ix.family == _POLY and len(g):
        touch[g] = ((dim[g] == 2) & ~(overlap_m2[g] > TOUCH_AREA_M2)) | (
            (dim[g] == 1) & ~(overlap_len[g] > TOUCH_LENGTH_M)
        )
    ts, tf = hs[touch], hf[touch]
    if touch.any():
        keep_pair = ~touch
        hs, hf, cnt, dim = hs[keep_pair], hf[keep_pair], cnt[keep_pair], dim[keep_pair]
        hs_fam, overlap_m2, overlap_len = (
            hs_fam[keep_pair],
            overlap_m2[keep_pair],
            overlap_len[keep_pair],
        )
        share_site, share_feat = share_site[keep_pair], share_feat[keep_pair]
        pair_geom = pair_geom[keep_pair]
        g = np.flatnonzero(hs_fam != _POINT)
    share_site = np.clip(share_site, 0.0, 1.0)
    share_feat = np.clip(share_feat, 0.0, 1.0)

    # 3. Distances between boundaries (intersecting pairs: how far the feature's boundary may
    #    move before the overlap changes) and to features (the others), in one query.
    thresh = ix.tolerance_m + unc
    cap = max(float(np.max(thresh)) if n else 0.0, radius)
    q = np.arange(n)
    sure = np.zeros(n, dtype=bool)  # single points the grid proves boundary-sensitive
    if grid is not None and S.single.any():
        # Single points the grid proves farther than the cap from every boundary need no query
        # (with cap 0: the points the grid proves off every boundary).
        single = np.flatnonzero(S.single)
        code, lower, upper, near = (
            pre if pre is not None else grid.bounds(S.px[single], S.py[single])
        )
        far = np.zeros(n, dtype=bool)
        far[single] = lower > cap
        if radius == 0 and cap > 0:
            # Containment only: no distance is reported, so a point the grid proves within
            # the tolerance of a boundary needs no query either, if it has no hit row (a
            # clean cell outside every feature) or its one hit row's feature is one whose
            # boundary the bound is about (a clean cell inside that feature only).
            within = (code != -2) & (upper < thresh[single] - 1e-9)
            own = np.zeros(len(single), dtype=bool)
            cand = np.flatnonzero(within & (code >= 0))
            by = grid.crossing(near[cand])
            own[cand] = (by[:, 0] == code[cand]) | (by[:, 1] == code[cand])
            sure[single] = within & ((code == -1) | own)
        q = q[~far & ~sure]
    hit_keys = np.sort(np.r_[hs * m + hf, ts * m + tf])
    if radius == 0:
        # Containment only: no distance is measured.  A predicate query finds the feature
        # boundaries within each site's tolerance, and which of them the site touches.
        if ix.n:
            bs, bf, btouch = ix.within(S.edges[q], thresh[q] + 1e-9)
        else:
            bs, bf, btouch = (*_empty_pairs(), np.zeros(0, dtype=bool))
        bs = q[bs]
        found = _lookup_pairs(hs, hf, bs, bf, btouch.astype(float), m)  # NaN: not within
        bsens = np.isfinite(found) | sure[hs]
        bdist = np.where(found == 1, 0.0, np.nan)  # reported only where the site touches it
        ns, nf, nd = ts.astype(np.int64), tf.astype(np.int64), np.zeros(len(ts))
        n_sens = np.ones(len(ts), dtype=bool)  # a site touching a boundary is sensitive
        miss_sens = bs[~_in_sorted(bs * m + bf, hit_keys)]
    else:
        if ix.n:
            bs, bf, bd = ix.near(S.edges[q], cap, boxes=S.boxes(cap)[q], parts=(*S.parts(), q))
        else:
            bs, bf, bd = (*_empty_pairs(), np.empty(0))
        bs = q[bs]
        bdist = _lookup_pairs(hs, hf, bs, bf, bd, m)
        bsens = (np.isfinite(bdist) & (bdist <= thresh[hs] + 1e-9)) | sure[hs]
        # Features within the search radius that the site does not intersect (touching
        # features come first, at distance 0, whatever the radius).
        is_hit = _in_sorted(bs * m + bf, hit_keys)
        keep = ~is_hit & (bd <= radius)
        ns = np.r_[ts, bs[keep]].astype(np.int64)
        nf = np.r_[tf, bf[keep]].astype(np.int64)
        nd = np.r_[np.zeros(len(ts)), bd[keep]]
        n_sens = nd <= thresh[ns] + 1e-9
        # A feature the site misses within the tolerance makes it boundary-sensitive even when
        # it lies beyond the search radius (and is not reported as nearby).
        miss_sens = bs[~is_hit & (bd <= thresh[bs] + 1e-9)]

    # 4. The pairs (the rows of the hits table), kept as arrays; frames are built on demand.
    all_s = np.concatenate([hs, ns])
    all_f = np.concatenate([hf, nf])
    nn = np.full(len(ns), np.nan)
    rel = np.r_[
        np.zeros(len(hs), dtype=np.int8),
        np.ones(len(ts), dtype=np.int8),
        np.full(len(ns) - len(ts), 2, dtype=np.int8),
    ]

    # 5. Per-site summary: overlaps of one layer counted once.
    pair_measure = np.where(dim[g] == 2, overlap_m2[g], overlap_len[g])
    known = _site_measures(S, ix, hs[g], dim[g], pair_measure, pair_geom[g])
    summary = _summarise(
        S, ix, hs, hf, known, member_in, bsens, ns, nf, nd, n_sens,
    )  # fmt: skip
    summary["sens"][miss_sens] = True
    summary["sens"][sure] = True

    piece_frame = None
    if want_pieces and len(g):
        pg = pair_geom[g]
        ok = ~shapely.is_empty(pg)
        if ok.any():
            sel = g[ok]
            piece_frame = gpd.GeoDataFrame(
                {
                    "site": hs[sel],
                    "site_id": S.ids[hs[sel]],
                    "layer_id": L.layer_id,
                    "kind": L.kind,
                    "feature_id": fids[hf[sel]],
                    "overlap_m2": overlap_m2[sel],
                    "overlap_length_m": overlap_len[sel],
                },
                geometry=pg[ok],
                crs=WORKING_CRS,
            )
    return _LayerPass(
        layer=L,
        ps=all_s,
        pf=all_f,
        rel=rel,
        overlap_m2=_compact(np.r_[overlap_m2, nn]),
        share_site=np.r_[share_site, nn],
        share_feat=_compact(np.r_[share_feat, nn]),
        overlap_len=_compact(np.r_[overlap_len, nn]),
        dist=np.r_[np.zeros(len(hs)), nd],
        bdist=np.r_[bdist, nd],
        psens=np.r_[bsens, n_sens].astype(bool),
        pieces=piece_frame,
        site_overlap=None,
        member_in=member_in,
        **summary,
    )


def _compact(values: np.ndarray) -> np.ndarray:
    """``values``, or a read-only broadcast NaN of its shape when every value is NaN (a million
    point sites have no overlap areas: no need to hold megabytes of NaN per layer)."""
    if len(values) and np.isnan(values).all():
        return np.broadcast_to(np.float64(np.nan), values.shape)
    return values


def _in_sorted(keys: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """``np.isin(keys, ref)`` for a sorted ``ref`` (no sort of ``keys``)."""
    if not len(ref) or not len(keys):
        return np.zeros(len(keys), dtype=bool)
    pos = np.minimum(np.searchsorted(ref, keys), len(ref) - 1)
    return ref[pos] == keys


def _lookup_pairs(hs, hf, bs, bf, bd, m) -> np.ndarray:
    """Values ``bd`` of pairs (bs, bf) looked up for pairs (hs, hf); NaN where absent."""
    out = np.full(len(hs), np.nan)
    if not len(hs) or not len(bs):
        return out
    key_h = hs * m + hf
    key_b = bs * m + bf
    if not (np.diff(key_b) >= 0).all():
        order = np.argsort(key_b)
        key_b, bd = key_b[order], bd[order]
    pos = np.clip(np.searchsorted(key_b, key_h), 0, len(key_b) - 1)
    found = key_b[pos] == key_h
    out[found] = bd[pos[found]]
    return out


def _extract(geoms: np.ndarray, dim: np.ndarray) -> np.ndarray:
    """The parts of each geometry of dimension ``dim`` (per geometry) as a Multi* geometry."""
    out = np.empty(len(geoms), dtype=object)
    if not len(geoms):
        return out
    parts, idx = shapely.get_parts(geoms, return_index=True)
    parts, idx2 = shapely.get_parts(parts, return_index=True)  # collections inside collections
    idx = idx[idx2]
    keep = (shapely.get_dimensions(parts) == dim[idx]) & ~shapely.is_empty(parts)
    makers = {2: shapely.multipolygons, 1: shapely.multilinestrings, 0: shapely.multipoints}
    for d, make in makers.items():
        rows = dim == d
        if not rows.any():
            continue
        out[rows] = _EMPTY_BY_DIM[d]
        sel = keep & (dim[idx] == d)
        if sel.any():
            make(parts[sel], indices=idx[sel], out=out)
    return out


def _union(geoms: np.ndarray, dim: int):
    geoms = geoms[~shapely.is_empty(geoms)]
    if not len(geoms):
        return _EMPTY_BY_DIM[dim]
    if len(geoms) == 1:
        return geoms[0]
    if dim == 1:
        u = shapely.union_all(geoms, grid_size=LINE_GRID_M)
    else:
        try:
            u = shapely.union_all(geoms)
        except GEOSException:  # robustness failure on near-coincident edges: snap-round
            u = shapely.union_all(geoms, grid_size=LINE_GRID_M)
    return _extract(np.array([u], dtype=object), np.array([dim]))[0]


def _group_union(keys: np.ndarray, geoms: np.ndarray, dims: np.ndarray, size: int) -> np.ndarray:
    """Per key (0..size-1): the union of its geometries (None for keys without any)."""
    out = np.full(size, None, dtype=object)
    if not len(keys):
        return out
    order = np.argsort(keys, kind="stable")
    k, g, d = keys[order], geoms[order], dims[order]
    starts = np.r_[0, np.flatnonzero(np.diff(k)) + 1]
    ends = np.r_[starts[1:], len(k)]
    single = ends - starts == 1
    out[k[starts[single]]] = g[starts[single]]
    for a, b in zip(starts[~single], ends[~single], strict=True):
        out[k[a]] = _union(g[a:b], int(d[a]))
    return out


def _clip_pairs(
    S: _SiteSet, si, fi, ix: LayerIndex, dim: np.ndarray, want: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Overlap of each (site, feature) pair, via the feature's pieces, of dimension ``dim``.

    Returns
    -------
    measure : array of float
        The overlap area (``dim`` 2) or length (``dim`` 1) of every pair.
    geom : array of shapely geometries
        The overlap of the pairs in ``want`` (and of the line pairs that must be unioned to be
        measured, see below); None elsewhere.

    Notes
    -----
    The pieces of a feature share no area (polygons) and no stretch (lines), so an overlap is
    the sum of the site's intersections with the pieces: no union is needed unless the
    geometry is.  A site that a piece covers is its own intersection with it (a prepared
    ``covers`` test instead of an overlay operation: most small sites lie inside one piece).
    The one exception is a line site running along a cut between two pieces of a polygon
    feature, which both pieces hold: cuts are axis-parallel, so a line with an (almost)
    axis-parallel segment, or one that overlaps itself, has its overlaps unioned (with snap
    rounding, see :func:`_union`) before they are measured (see :meth:`_SiteSet.additive`).
    """
    sites = S.geoms
    ps, pg = ix.piece_tree.query(sites[si], predicate="intersects")
    own = ix.piece_owner[pg] == fi[ps]
    ps, pg = ps[own], pg[own]
    # A site that a piece covers is its own overlap with it (no overlay operation needed).
    pair_sites, pair_pieces = sites[si[ps]], ix.pieces[pg]
    covered = shapely.covers(pair_pieces, pair_sites)
    raw = pair_sites.copy()
    raw[~covered] = shapely.intersection(pair_sites[~covered], pair_pieces[~covered])
    d = dim[ps]
    size = np.where(d == 2, shapely.area(raw), shapely.length(raw))
    measure = np.bincount(ps, weights=np.where(d == 0, 0.0, size), minlength=len(si))
    union = (dim == 1) & ~S.additive(si, ix.family)
    build = want | union
    sel = build[ps]
    built = _group_union(ps[sel], _extract(raw[sel], d[sel]), d[sel], len(si))
    geom = np.full(len(si), None, dtype=object)
    geom[build] = built[build]
    # A pair decided on the original feature (within NEAR_BOUNDARY_M of its boundary) may touch
    # no piece: its overlap is empty.
    for j in np.flatnonzero(build & np.equal(geom, None)):
        geom[j] = _EMPTY_BY_DIM[int(dim[j])]
    measure[union] = shapely.length(geom[union])
    return measure, geom


def _site_measures(
    S: _SiteSet, ix: LayerIndex, hs: np.ndarray, dim: np.ndarray, measure, geom
) -> tuple[np.ndarray, np.ndarray]:
    """Per site with an overlap: its overlap with the layer, overlapping features counted once.

    ``hs``, ``dim``, ``measure`` and ``geom`` describe the site's intersecting pairs (polygon
    and line sites).  A site meeting one feature has that pair's measure; one meeting several
    is clipped by the layer's dissolved pieces (:attr:`LayerIndex.dissolved`: the union of
    the features, cut into pieces that share no area or stretch) and the parts are summed --
    or, for the line sites whose overlaps are not additive, their pairs' overlaps are unioned.

    Returns
    -------
    sites, values : arrays
        The sites and their overlap area (polygon x polygon) or length (where a line is
        involved).
    """
    n = len(S)
    measured = dim > 0  # a polygon site's overlap with points has no measure
    hs, dim, measure, geom = hs[measured], dim[measured], measure[measured], geom[measured]
    if not len(hs):
        return np.empty(0, dtype=np.int64), np.empty(0)
    count = np.bincount(hs, minlength=n)
    lone = count[hs] == 1
    sites, values = [hs[lone]], [measure[lone]]
    multi = np.unique(hs[~lone])
    if len(multi):
        fam_dim = _OVERLAP_DIM[S.fam[multi], ix.family]
        add = (fam_dim == 2) | S.additive(multi, ix.family)
        sites.append(multi[add])
        values.append(_dissolved_measure(S, multi[add], ix))
        rest = multi[~add]
        if len(rest):
            rows = np.isin(hs, rest)
            union = _group_union(hs[rows], geom[rows], dim[rows], n)[rest]
            sites.append(rest)
            values.append(shapely.length(union))
    return np.concatenate(sites), np.concatenate(values)


def _dissolved_measure(S: _SiteSet, sites: np.ndarray, ix: LayerIndex) -> np.ndarray:
    """Area (polygon sites in polygon layers) or length of each site's overlap with the union
    of the layer's features: the sum of its intersections with the dissolved pieces."""
    if not len(sites):
        return np.empty(0)
    pieces, tree = ix.dissolved
    geoms = S.geoms[sites]
    qs, qp = tree.query(geoms, predicate="intersects")
    pair_sites, pair_pieces = geoms[qs], pieces[qp]
    covered = shapely.covers(pair_pieces, pair_sites)
    raw = pair_sites.copy()
    raw[~covered] = shapely.intersection(pair_sites[~covered], pair_pieces[~covered])
    area = _OVERLAP_DIM[S.fam[sites], ix.family] == 2
    size = np.where(area[qs], shapely.area(raw), shapely.length(raw))
    return np.bincount(qs, weights=size, minlength=len(sites)).astype(float)


def _status_rows(n, site_ids, layer_id, kind, status) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "site": np.arange(n),
            "site_id": site_ids,
            "layer_id": layer_id,
            "kind": kind,
            "status": status,
            "hit": False,
            "overlap_m2": np.nan,
            "share_of_site": np.nan,
            "overlap_length_m": np.nan,
            "distance_m": np.nan,
            "nearest_feature_id": None,
            "ring_m": np.nan,
            "boundary_sensitive": False,
        }
    )


def _measure_overlap(S: _SiteSet, family: int, known: tuple[np.ndarray, np.ndarray]):
    """Per site: overlap area, overlap length and share of site, from the measures of the
    sites that have an overlap (``known``: sites and their area or length)."""
    n = len(S)
    ov = np.full(n, np.nan)
    ln = np.full(n, np.nan)
    share = np.full(n, np.nan)
    sites, values = known
    dim = _OVERLAP_DIM[S.fam[sites], family]
    area = sites[dim == 2]
    lin = sites[dim == 1]
    ov[area] = values[dim == 2]
    ln[lin] = values[dim == 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        share[area] = ov[area] / S.measure[area]
        line_site = lin[S.fam[lin] == _LINE]
        share[line_site] = ln[line_site] / S.measure[line_site]
    return ov, ln, np.clip(share, 0.0, 1.0)


def _summarise(
    S: _SiteSet,
    ix: LayerIndex,
    hs,
    hf,
    known: tuple[np.ndarray, np.ndarray],
    member_in,
    bsens,
    ns,
    nf,
    nd,
    n_sens,
) -> dict[str, np.ndarray]:
    """The per-site arrays of a layer pass (see :class:`_LayerPass`).

    ``known`` gives the overlap measure of the polygon and line sites with an overlap
    (:func:`_site_measures`).
    """
    n = len(S)
    hit = np.zeros(n, dtype=bool)
    hit[hs] = True
    ov, ln, share = _measure_overlap(S, ix.family, known)
    # Point sites: the share of their points inside or on any feature (each point once).
    pts = S.fam == _POINT
    inside = np.bincount(S.member_site[member_in], minlength=n)
    share[pts] = inside[pts] / S.measure[pts]
    # A site that misses the layer has share 0.
    share[~hit] = 0.0
    sens = np.zeros(n, dtype=bool)
    sens[hs[bsens]] = True
    sens[ns[n_sens]] = True
    dist = np.full(n, np.nan)
    nearest = np.full(n, -1, dtype=np.int64)
    dist[hs] = 0.0
    if len(hs):
        # The nearest intersecting feature: the first one (by feature order).
        first = np.r_[True, hs[1:] != hs[:-1]]
        nearest[hs[first]] = hf[first]
    if len(ns):
        order = np.lexsort((nf, nd, ns))
        ns_o, nf_o, nd_o = ns[order], nf[order], nd[order]
        first = np.r_[True, ns_o[1:] != ns_o[:-1]]
        cand_s, cand_f, cand_d = ns_o[first], nf_o[first], nd_o[first]
        free = ~hit[cand_s]
        dist[cand_s[free]] = cand_d[free]
        nearest[cand_s[free]] = cand_f[free]
    return {
        "hit": hit,
        "ov": _compact(ov),
        "share": share,
        "ln": _compact(ln),
        "sdist": dist,
        "nearest": nearest,
        "sens": sens,
    }


_RELATIONS = np.array(["intersects", "touches", "nearby"], dtype=object)


def _pair_frame(p: _LayerPass, ids: np.ndarray, rows: np.ndarray | None, site_col) -> pd.DataFrame:
    """The hits-table rows of one layer pass (``rows`` of its pairs, all when None)."""
    L = p.layer
    take = (lambda a: a) if rows is None else (lambda a: a[rows])
    s, f = take(p.ps), take(p.pf)
    fids = L.attributes["feature_id"].to_numpy(dtype=object)
    om2 = take(p.overlap_m2)
    dist = take(p.dist)
    frame = pd.DataFrame(
        {
            "site": site_col(s),
            "site_id": ids[s] if len(s) else np.empty(0, dtype=object),
            "layer_id": L.layer_id,
            "kind": L.kind,
            "feature_id": fids[f] if len(f) else np.empty(0, dtype=object),
            "relation": _RELATIONS[take(p.rel)],
            "overlap_m2": om2,
            "overlap_ha": om2 / 1e4,
            "share_of_site": take(p.share_site),
            "share_of_feature": take(p.share_feat),
            "overlap_length_m": take(p.overlap_len),
            "distance_m": dist,
            "ring_m": _ring_of(dist, L.index.rings_m),
            "boundary_distance_m": take(p.bdist),
            "boundary_sensitive": take(p.psens).astype(bool),
        }
    )
    for col in STANDARD_ATTRIBUTES:
        vals = L.attributes[col].to_numpy(dtype=object) if col in L.attributes else None
        frame[col] = vals[f] if vals is not None and len(f) else np.full(len(f), None)
    return frame


def _summary_frame(
    p: _LayerPass, ids: np.ndarray, sites: np.ndarray | None, outside: np.ndarray | None
) -> pd.DataFrame:
    """The layer-summary rows of one layer pass (``sites``, all when None; renumbered)."""
    L = p.layer
    n_all = len(p.hit)
    take = (lambda a: a) if sites is None else (lambda a: a[sites])
    near = take(p.nearest)
    fids = L.attributes["feature_id"].to_numpy(dtype=object)
    nearest = np.full(len(near), None, dtype=object)
    has = near >= 0
    nearest[has] = fids[near[has]]
    status: object = "ok"
    if outside is not None and take(outside).any():
        status = np.where(take(outside), "outside_coverage", "ok").astype(object)
    sdist = take(p.sdist)
    return pd.DataFrame(
        {
            "site": np.arange(n_all) if sites is None else np.arange(len(sites)),
            "site_id": take(ids),
            "layer_id": L.layer_id,
            "kind": L.kind,
            "status": status,
            "hit": take(p.hit),
            "overlap_m2": take(p.ov),
            "share_of_site": take(p.share),
            "overlap_length_m": take(p.ln),
            "distance_m": sdist,
            "nearest_feature_id": nearest,
            "ring_m": _ring_of(sdist, L.index.rings_m),
            "boundary_sensitive": take(p.sens),
        }
    )


class OverlayResult:
    """What the engine found (see :func:`overlay`).

    Attributes
    ----------
    hits : DataFrame
        One row per site x feature that intersects (``relation`` ``"intersects"``), only touches
        a polygon feature with no area or length inside it (``"touches"``: distance 0, always
        boundary-sensitive, not a hit), or lies within the search radius (``"nearby"``);
        ``site`` is the site's position in the input.
    layer_summary : DataFrame
        One row per site x layer (and per missing kind), overlaps of one layer counted once.
    pieces : GeoDataFrame
        The overlap of each site and feature with a non-empty overlap of the pair's dimension
        (areas for polygon x polygon, lines where a line is involved); working CRS.
    rings : GeoDataFrame
        The distance bands around each site, per set of ring distances; working CRS.
    notes : list of str
        What the caller should know (coverage, Z ignored).
    passes : list
        The per-layer results as arrays, in layer order (layers that loaded).
    outside : array of bool
        Per site: outside the layers' coverage.

    Notes
    -----
    ``hits`` and ``layer_summary`` are built from the per-layer arrays on first access and then
    cached (a million point sites give several million rows: a screening that only needs
    verdicts never builds them).  :meth:`tables_for` builds the rows of some sites only.
    """

    def __init__(
        self,
        *,
        site_ids: np.ndarray,
        entries: list,
        outside: np.ndarray,
        pieces: gpd.GeoDataFrame,
        rings: gpd.GeoDataFrame,
        notes: list[str],
    ):
        self.site_ids = site_ids
        #: In summary order: a :class:`_LayerPass`, or ``(layer_id, kind, status)`` for a
        #: layer that failed or a kind that is missing.
        self.entries = entries
        self.outside = outside
        self.pieces = pieces
        self.rings = rings
        self.notes = notes

    def __len__(self) -> int:
        return len(self.site_ids)

    @property
    def passes(self) -> list[_LayerPass]:
        return [e for e in self.entries if isinstance(e, _LayerPass)]

    @cached_property
    def hits(self) -> pd.DataFrame:
        return self._hits(None)

    @cached_property
    def layer_summary(self) -> pd.DataFrame:
        return self._summary(None)

    def tables_for(self, sites: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
        """``(hits, layer_summary)`` restricted to ``sites`` (ascending positions).

        ``site`` is renumbered to the position in ``sites``; rows keep their relative order, so
        the rules see the same rows, in the same order, for each of these sites.
        """
        sites = np.asarray(sites, dtype=np.int64)
        return self._hits(sites), self._summary(sites)

    def _hits(self, sites: np.ndarray | None) -> pd.DataFrame:
        frames = []
        new = None
        if sites is not None:
            new = np.full(len(self.site_ids), -1, dtype=np.int64)
            new[sites] = np.arange(len(sites))
        for p in self.passes:
            if new is None:
                frames.append(_pair_frame(p, self.site_ids, None, lambda s: s))
            else:
                rows = np.flatnonzero(new[p.ps] >= 0)
                frames.append(_pair_frame(p, self.site_ids, rows, lambda s: new[s]))
        hits = pd.concat(frames, ignore_index=True) if frames else None
        if hits is None:
            hits = pd.DataFrame({c: [] for c in _HIT_COLUMNS})
        return hits[_HIT_COLUMNS]

    def _summary(self, sites: np.ndarray | None) -> pd.DataFrame:
        n = len(self.site_ids) if sites is None else len(sites)
        ids = self.site_ids if sites is None else self.site_ids[sites]
        frames = []
        for e in self.entries:
            if isinstance(e, _LayerPass):
                frames.append(_summary_frame(e, self.site_ids, sites, self.outside))
            else:
                frames.append(_status_rows(n, ids, *e))
        summary = pd.concat(frames, ignore_index=True) if frames else None
        if summary is None:
            summary = pd.DataFrame({c: [] for c in _SUMMARY_COLUMNS})
        return summary[_SUMMARY_COLUMNS]


def _covered_share(S: _SiteSet, passes: list[_LayerPass]) -> np.ndarray:
    """Per site: the share inside the union of the coverage layers (each part counted once)."""
    n = len(S)
    covered = np.zeros(n)
    pts = S.fam == _POINT
    if len(S.member):
        any_in = np.zeros(len(S.member), dtype=bool)
        for p in passes:
            any_in |= p.member_in
        covered[pts] = np.bincount(S.member_site[any_in], minlength=n)[pts] / S.measure[pts]
    gen = ~pts
    n_hit = np.zeros(n, dtype=np.int64)
    total = np.zeros(n)
    for p in passes:
        n_hit += p.hit
        total += np.where(p.hit & gen, np.nan_to_num(p.share), 0.0)
    one = gen & (n_hit == 1)
    covered[one] = total[one]
    # Sites in several coverage layers: union their overlaps (layers may overlap each other).
    multi = np.flatnonzero(gen & (n_hit > 1))
    if not len(multi):
        return covered
    overlaps = [_site_overlaps(S, p, multi[p.hit[multi]]) for p in passes]
    for s in multi:
        parts = np.array([o[s] for o in overlaps if s in o], dtype=object)
        dim = 2 if S.fam[s] == _POLY else 1
        parts = parts[shapely.get_dimensions(parts) == dim] if len(parts) else parts
        u = _union(parts, dim) if len(parts) else _EMPTY_BY_DIM[dim]
        measure = shapely.area(u) if dim == 2 else shapely.length(u)
        covered[s] = min(measure / S.measure[s], 1.0) if S.measure[s] > 0 else 0.0
    return covered


def _site_overlaps(S: _SiteSet, p: _LayerPass, sites: np.ndarray) -> dict:
    """{site: its overlap with the features of pass ``p`` it intersects} for ``sites`` (which
    intersect some), built in one batch where the pass did not keep them."""
    kept = p.site_overlap
    out = {} if kept is None else {int(s): kept[s] for s in sites if kept[s] is not None}
    build = np.array([s for s in sites if int(s) not in out], dtype=np.int64)
    if len(build):
        rows = np.flatnonzero(np.isin(p.ps, build) & (p.rel == 0))
        ps, pf = p.ps[rows], p.pf[rows]
        dim = _OVERLAP_DIM[S.fam[ps], p.layer.index.family].astype(np.int8)
        _, geoms = _clip_pairs(S, ps, pf, p.layer.index, dim, np.ones(len(ps), bool))
        union = _group_union(ps, geoms, dim, len(S))
        out.update({int(s): union[s] for s in build})
    return out


def _rings(S: _SiteSet, layers, *, enabled: bool, max_sites: int, notes: list[str]):
    cols = {"site": [], "site_id": [], "layer_ids": [], "inner_m": [], "outer_m": []}
    empty = gpd.GeoDataFrame(cols, geometry=[], crs=WORKING_CRS)
    n = len(S)
    if not enabled or not n:
        return empty
    if n > max_sites:
        notes.append(
            f"buffer-ring geometries are drawn for at most {max_sites:,} sites; "
            f"{n:,} given, none drawn (ring membership is still in hits and summary)"
        )
        return empty
    sets: dict[tuple[float, ...], list[str]] = {}
    for L in layers:
        if L.status == "ok":
            sets.setdefault(L.index.rings_m, []).append(L.layer_id)
    frames = []
    for rings_m, ids in sets.items():
        prev = None
        inner = 0.0
        for r in rings_m:
            buf = shapely.buffer(S.geoms, r, quad_segs=RING_QUAD_SEGS)
            ring = buf if prev is None else shapely.difference(buf, prev)
            frames.append(
                gpd.GeoDataFrame(
                    {
                        "site": np.arange(n),
                        "site_id": S.ids,
                        "layer_ids": ", ".join(ids),
                        "inner_m": inner,
                        "outer_m": r,
                    },
                    geometry=ring,
                    crs=WORKING_CRS,
                )
            )
            prev, inner = buf, r
    if not frames:
        return empty
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=WORKING_CRS)
