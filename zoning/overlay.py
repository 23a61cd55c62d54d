"""The overlay engine: sites x layers -> hits (geometry only, no rules).

For every site and every layer the engine finds the features the site touches, how much of the
site and of the feature they share (areas for polygons, lengths for lines), the features within a
search radius and their distances, the distance band ("ring") each falls in, and whether the result
is *boundary-sensitive*: the site lies within the layer's positional tolerance (plus the input
CRS's conversion uncertainty) of a feature boundary, so a small error in either could change it.

Everything is vectorised over sites with shapely 2.  Each layer is indexed once
(:class:`LayerIndex`, cached on the :class:`~zoning.layerset.Layer`):

* features are cut into pieces of at most :data:`MAX_PIECE_VERTICES` vertices (like PostGIS
  ``ST_Subdivide``), so point-in-polygon tests, clipping and distances work on small geometries
  instead of a 30,000-vertex river network;
* polygon boundaries are cut into short chunks, for distances from inside a feature to its edge;
* point sites are first looked up in a grid (:class:`CellGrid`): a cell that no feature boundary
  crosses is wholly inside one feature or wholly outside all, so only points in cells a boundary
  crosses need the exact test.  Answers are identical to the exact test (tested).

All geometry is in :data:`zoning.crs.WORKING_CRS` (metres, equal-area), so areas, lengths and
distances agree with geodesic values within 0.01 % over Shanghai.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .crs import WORKING_CRS

__all__ = [
    "DEFAULT_RINGS_M",
    "DEFAULT_SEARCH_RADIUS_M",
    "STANDARD_ATTRIBUTES",
    "CellGrid",
    "LayerIndex",
    "OverlayResult",
    "overlay",
]

log = logging.getLogger(__name__)

#: Distance bands reported when a layer's catalog entry sets none (m).
DEFAULT_RINGS_M: tuple[float, ...] = (100.0, 500.0, 1000.0)
#: How far the engine looks for the nearest feature of each layer by default (m).
DEFAULT_SEARCH_RADIUS_M = 1000.0
#: Features are cut into pieces of at most this many vertices.
MAX_PIECE_VERTICES = 256
#: Boundary chunks hold at most this many segments.
CHUNK_SEGMENTS = 8
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


def _family(geoms: np.ndarray) -> np.ndarray:
    """0 polygonal, 1 lineal, 2 puntal for every geometry."""
    t = shapely.get_type_id(geoms)
    out = np.full(len(geoms), _POLY, dtype=np.int8)
    out[np.isin(t, (1, 2, 5))] = _LINE
    out[np.isin(t, (0, 4))] = _POINT
    return out


# --------------------------------------------------------------------------- indexing


def subdivide(geoms: np.ndarray, max_vertices: int = MAX_PIECE_VERTICES):
    """Cut polygons or lines into pieces of at most ``max_vertices`` vertices.

    Returns ``(pieces, owner)``: the pieces and the index of the geometry each came from.  The
    pieces of one geometry do not overlap (they share only cut edges), so areas and lengths of
    pieces add up to the whole.  Cut halves along the longer side of the bounding box, like
    PostGIS ``ST_Subdivide``.
    """
    parts, owner = shapely.get_parts(geoms, return_index=True)
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
        c = shapely.intersection(parts, box_b)
        new = np.concatenate([a, c])
        new_owner = np.concatenate([owner, owner])
        # Keep only the family of the input (clipping can leave stray points or lines).
        new, idx = shapely.get_parts(new, return_index=True)
        new_owner = new_owner[idx]
        fam_in = _family(geoms[new_owner])
        keep = (_family(new) == fam_in) & ~shapely.is_empty(new)
        parts, owner = new[keep], new_owner[keep]
    if len(parts):  # pathological inputs: keep what is left as is
        done_p.append(parts)
        done_o.append(owner)
    return np.concatenate(done_p), np.concatenate(done_o).astype(np.int64)


def boundary_chunks(geoms: np.ndarray, segments: int = CHUNK_SEGMENTS):
    """Split the boundaries of polygons (or lines themselves) into short linestrings.

    Returns ``(chunks, owner)``.  Distances to the chunks of a feature equal distances to its
    boundary; each chunk holds at most ``segments`` segments.
    """
    fam = _family(geoms)
    lines = np.where(fam == _POLY, shapely.boundary(geoms), geoms)
    parts, owner = shapely.get_parts(lines, return_index=True)
    coords, pidx = shapely.get_coordinates(parts, return_index=True)
    if not len(coords):
        return np.empty(0, dtype=object), np.empty(0, dtype=np.int64)
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
    chunks = shapely.linestrings(all_xy[keep], indices=np.searchsorted(uniq_ok, all_cid[keep]))
    chunk_owner = owner[(uniq_ok // 1_000_000).astype(np.int64)]
    if fam.size and (fam == _POINT).any():
        pts = np.flatnonzero(fam == _POINT)
        p_parts, p_owner = shapely.get_parts(geoms[pts], return_index=True)
        chunks = np.concatenate([chunks, p_parts])
        chunk_owner = np.concatenate([chunk_owner, pts[p_owner]])
    return chunks, chunk_owner.astype(np.int64)


@dataclass
class CellGrid:
    """A grid over a polygon layer: each cell is empty, inside one feature, or "mixed".

    ``code[iy, ix]`` is ``-1`` when the cell touches no feature, ``k >= 0`` when it lies wholly
    inside feature ``k`` and no other, and ``-2`` when a boundary crosses it or features overlap
    there (points in those cells get the exact test).
    """

    x0: float
    y0: float
    size: float
    code: np.ndarray
    #: Distance (m) from each cell centre to the centre of the nearest cell a boundary may cross.
    edge: np.ndarray

    @classmethod
    def build(cls, pieces: np.ndarray, owner: np.ndarray, chunks: np.ndarray, size: float):
        b = shapely.total_bounds(pieces)
        x0, y0 = b[0] - size, b[1] - size
        nx = int(np.ceil((b[2] + size - x0) / size)) + 1
        ny = int(np.ceil((b[3] + size - y0) / size)) + 1
        code = np.full((ny, nx), -1, dtype=np.int32)
        # Cells a boundary crosses: sample every boundary at <= size/2 and mark the cells of both
        # ends of every sub-segment, and the two other corners of their box (a segment shorter
        # than a cell crosses at most those four cells).
        seg = shapely.segmentize(chunks, size / 2)
        xy, idx = shapely.get_coordinates(seg, return_index=True)
        same = idx[1:] == idx[:-1]
        ax = np.floor((xy[:-1, 0][same] - x0) / size).astype(np.int64)
        ay = np.floor((xy[:-1, 1][same] - y0) / size).astype(np.int64)
        bx = np.floor((xy[1:, 0][same] - x0) / size).astype(np.int64)
        by = np.floor((xy[1:, 1][same] - y0) / size).astype(np.int64)
        mixed = np.zeros((ny, nx), dtype=bool)
        for cx, cy in ((ax, ay), (bx, by), (ax, by), (bx, ay)):
            mixed[np.clip(cy, 0, ny - 1), np.clip(cx, 0, nx - 1)] = True
        # Every other cell is wholly inside or outside each feature, and so is every cell it
        # connects to without crossing a boundary cell: label the connected regions of clean
        # cells and test one centre per region.
        from scipy import ndimage

        labels, n_regions = ndimage.label(~mixed)
        if n_regions:
            flat = labels.ravel()
            first_cell = np.full(n_regions + 1, -1, dtype=np.int64)
            cells = np.flatnonzero(flat)
            first_cell[flat[cells[::-1]]] = cells[::-1]
            rep = first_cell[1:]
            iy, ix = np.divmod(rep, nx)
            cxs = x0 + (ix + 0.5) * size
            cys = y0 + (iy + 0.5) * size
            tree = shapely.STRtree(pieces)
            pi, gi = tree.query(shapely.points(cxs, cys), predicate="intersects")
            feats = owner[gi]
            first = np.full(n_regions, -1, dtype=np.int64)
            first[pi] = feats
            # Centres in two distinct features (overlaps) go to the exact test.
            multi = np.zeros(n_regions, dtype=bool)
            if len(pi):
                pairs = np.unique(np.stack([pi, feats], axis=1), axis=0)
                multi = np.bincount(pairs[:, 0], minlength=n_regions) > 1
            value = np.r_[-2, np.where(multi, -2, first)].astype(np.int32)
            code = value[labels]
        code[mixed] = -2
        edge = (ndimage.distance_transform_edt(~mixed) * size).astype(np.float32)
        return cls(float(x0), float(y0), float(size), code, edge)

    def _cells(self, x: np.ndarray, y: np.ndarray):
        ix = np.floor((x - self.x0) / self.size).astype(np.int64)
        iy = np.floor((y - self.y0) / self.size).astype(np.int64)
        ny, nx = self.code.shape
        inside = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
        return ix, iy, inside

    def lookup(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The cell code of every point (-1 outside the grid)."""
        ix, iy, inside = self._cells(x, y)
        out = np.full(len(x), -1, dtype=np.int32)
        out[inside] = self.code[iy[inside], ix[inside]]
        return out

    def edge_lower_bound(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """A lower bound (m) on each point's distance to any feature boundary.

        A boundary lies only in cells marked as crossed, within half a diagonal of their centre,
        and the point within half a diagonal of its own cell's centre.
        """
        ix, iy, inside = self._cells(x, y)
        out = np.zeros(len(x))
        out[inside] = self.edge[iy[inside], ix[inside]] - self.size * np.sqrt(2.0)
        return out


class LayerIndex:
    """Everything the engine needs about one layer, built once and reused.

    Parameters
    ----------
    geoms : array of shapely geometries (working CRS)
    tolerance_m : float
        The layer's positional tolerance.
    rings_m : sequence of float
        The layer's distance bands.

    Notes
    -----
    Cost: one subdivision pass (a few intersections per vertex), one boundary split, and STRtrees
    over both; the point grid is built on first use.  Do not share one index between threads:
    prepared GEOS geometries are not thread-safe.
    """

    def __init__(self, geoms: np.ndarray, *, tolerance_m: float = 0.0, rings_m=DEFAULT_RINGS_M):
        self.geoms = np.asarray(geoms, dtype=object)
        self.n = len(self.geoms)
        self.tolerance_m = float(tolerance_m or 0.0)
        self.rings_m = tuple(float(r) for r in (rings_m or DEFAULT_RINGS_M))
        fam = _family(self.geoms) if self.n else np.empty(0, dtype=np.int8)
        self.family = int(fam[0]) if self.n else _POLY
        self.measure = (
            shapely.area(self.geoms) if self.family == _POLY else shapely.length(self.geoms)
        )

    @cached_property
    def _pieces(self):
        if self.family == _POINT:
            parts, owner = shapely.get_parts(self.geoms, return_index=True)
            return parts, owner.astype(np.int64)
        return subdivide(self.geoms)

    @property
    def pieces(self) -> np.ndarray:
        return self._pieces[0]

    @property
    def piece_owner(self) -> np.ndarray:
        return self._pieces[1]

    @cached_property
    def piece_tree(self) -> shapely.STRtree:
        shapely.prepare(self.pieces)
        return shapely.STRtree(self.pieces)

    @cached_property
    def _chunks(self):
        return boundary_chunks(self.geoms)

    @property
    def chunks(self) -> np.ndarray:
        return self._chunks[0]

    @property
    def chunk_owner(self) -> np.ndarray:
        return self._chunks[1]

    @cached_property
    def chunk_tree(self) -> shapely.STRtree:
        return shapely.STRtree(self.chunks)

    @cached_property
    def grid(self) -> CellGrid | None:
        if self.family != _POLY or not self.n:
            return None
        b = shapely.total_bounds(self.pieces)
        extent = max(b[2] - b[0], b[3] - b[1])
        # ~2000 cells across the layer's extent, at least 25 m.
        size = max(25.0, extent / 2000.0)
        return CellGrid.build(self.pieces, self.piece_owner, self.chunks, size)

    # ---------------------------------------------------------------- queries

    def contains_points(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(point index, feature index) for every point inside (or on) a polygon feature."""
        n = len(x)
        grid = self.grid
        if grid is None:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        code = grid.lookup(x, y)
        sure = code >= 0
        p_sure = np.flatnonzero(sure)
        f_sure = code[sure].astype(np.int64)
        check = np.flatnonzero(code == -2)
        if len(check):
            pts = shapely.points(x[check], y[check])
            pi, gi = self.piece_tree.query(pts, predicate="intersects")
            pairs = np.unique(
                np.stack([check[pi], self.piece_owner[gi]], axis=1).reshape(-1, 2), axis=0
            )
            p_ex, f_ex = pairs[:, 0], pairs[:, 1]
        else:
            p_ex = f_ex = np.empty(0, np.int64)
        p = np.concatenate([p_sure, p_ex])
        f = np.concatenate([f_sure, f_ex])
        del n
        return p, f

    def intersecting(self, sites: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(site index, feature index) pairs that intersect, deduplicated."""
        si, gi = self.piece_tree.query(sites, predicate="intersects")
        if not len(si):
            return si.astype(np.int64), si.astype(np.int64)
        pairs = np.unique(np.stack([si, self.piece_owner[gi]], axis=1), axis=0)
        return pairs[:, 0], pairs[:, 1]

    def near(self, sites: np.ndarray, distance: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(site, feature, distance) for features within ``distance`` of each site (min per pair).

        Distances to features a site lies inside are measured to the feature's boundary.
        """
        if distance <= 0 or not len(sites):
            e = np.empty(0, np.int64)
            return e, e, np.empty(0)
        si, ci = self.chunk_tree.query(sites, predicate="dwithin", distance=distance)
        if not len(si):
            e = np.empty(0, np.int64)
            return e, e, np.empty(0)
        d = shapely.distance(sites[si], self.chunks[ci])
        fi = self.chunk_owner[ci]
        return _min_per_pair(si, fi, d)

    def outside_distance(
        self, sites: np.ndarray, distance: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(site, feature, distance to the feature) for features within ``distance``.

        Uses the feature pieces, so a site inside a feature gets 0.
        """
        if distance < 0 or not len(sites):
            e = np.empty(0, np.int64)
            return e, e, np.empty(0)
        si, gi = self.piece_tree.query(sites, predicate="dwithin", distance=distance)
        if not len(si):
            e = np.empty(0, np.int64)
            return e, e, np.empty(0)
        d = shapely.distance(sites[si], self.pieces[gi])
        return _min_per_pair(si, self.piece_owner[gi], d)


def _min_per_pair(si: np.ndarray, fi: np.ndarray, d: np.ndarray):
    if not len(si):
        e = np.empty(0, np.int64)
        return e, e, np.empty(0)
    order = np.lexsort((d, fi, si))
    si, fi, d = si[order], fi[order], d[order]
    first = np.r_[True, (si[1:] != si[:-1]) | (fi[1:] != fi[:-1])]
    return si[first].astype(np.int64), fi[first].astype(np.int64), d[first]


# --------------------------------------------------------------------------- the engine


@dataclass
class LayerInput:
    """One layer as the engine sees it."""

    layer_id: str
    kind: str
    index: LayerIndex
    attributes: pd.DataFrame  # feature_id + STANDARD_ATTRIBUTES, positional
    status: str = "ok"  # ok | failed
    error: str | None = None


@dataclass
class OverlayResult:
    """What the engine found (see :func:`overlay`)."""

    hits: pd.DataFrame
    layer_summary: pd.DataFrame
    pieces: gpd.GeoDataFrame
    rings: gpd.GeoDataFrame
    notes: list[str] = field(default_factory=list)


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


def _ring_of(d: np.ndarray, rings: tuple[float, ...]) -> np.ndarray:
    r = np.asarray(rings, dtype=float)
    idx = np.searchsorted(r, d, side="left")
    out = np.full(len(d), np.nan)
    ok = (idx < len(r)) & np.isfinite(d)
    out[ok] = r[idx[ok]]
    return out


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
    progress=None,
) -> OverlayResult:
    """Overlay sites with layers.

    Parameters
    ----------
    sites : array of shapely geometries
        The sites, in :data:`~zoning.crs.WORKING_CRS`.  Points, lines and polygons may be mixed.
    site_ids : sequence of str
    layers : sequence of LayerInput
    search_radius_m : float, keyword-only
        Features within this distance are reported as ``nearby`` with their distance; 0 skips
        the distance search (containment only).
    uncertainty_m : array of float, optional
        Per-site positional uncertainty from the input CRS (GCJ-02/BD-09 conversion), added to
        each layer's positional tolerance for the boundary-sensitive flag.
    coverage : kinds whose union is the territory the layers cover; a site not wholly inside it
        gets status ``outside_coverage`` for every layer.
    missing_kinds : kinds some rule needs that no layer provides (a ``missing`` summary row each).
    pieces, rings : bool
        Build the overlap pieces and the buffer-ring geometries.
    progress : callable, optional
        Called with each layer id as the engine starts on it (the CLI's progress bar).

    Returns
    -------
    OverlayResult
        ``hits``, ``layer_summary``, ``pieces``, ``rings`` as described in the module docs.

    Notes
    -----
    Overlapping features of one layer never count twice in ``layer_summary``: the overlap there
    is measured on the union of the pieces, so ``share_of_site`` never exceeds 1.
    """
    sites = np.asarray(sites, dtype=object)
    n = len(sites)
    site_ids = np.asarray(site_ids, dtype=object)
    unc = np.zeros(n) if uncertainty_m is None else np.asarray(uncertainty_m, dtype=float)
    fam = _family(sites)
    is_pt = fam == _POINT
    site_measure = np.where(
        fam == _POLY, shapely.area(sites), np.where(fam == _LINE, shapely.length(sites), np.nan)
    )
    px = np.full(n, np.nan)
    py = np.full(n, np.nan)
    if is_pt.any():
        # Single points (multipoints take the general path).
        single = is_pt & (shapely.get_type_id(sites) == 0)
        xy = shapely.get_coordinates(sites[single])
        px[single], py[single] = xy[:, 0], xy[:, 1]
        is_pt = single

    hit_frames: list[pd.DataFrame] = []
    summary_frames: list[pd.DataFrame] = []
    piece_frames: list[gpd.GeoDataFrame] = []
    notes: list[str] = []

    for L in layers:
        if progress is not None:
            progress(L.layer_id)
        if L.status != "ok":
            summary_frames.append(_status_rows(n, site_ids, L.layer_id, L.kind, L.status))
            continue
        ix = L.index
        # 1. Intersections.
        p_pt = np.flatnonzero(is_pt)
        p_gen = np.flatnonzero(~is_pt)
        if ix.family == _POLY and len(p_pt):
            a, f = ix.contains_points(px[p_pt], py[p_pt])
            s1, f1 = p_pt[a], f
        elif len(p_pt):
            a, f = ix.intersecting(sites[p_pt])
            s1, f1 = p_pt[a], f
        else:
            s1 = f1 = np.empty(0, np.int64)
        if len(p_gen):
            a, f = ix.intersecting(sites[p_gen])
            s2, f2 = p_gen[a], f
        else:
            s2 = f2 = np.empty(0, np.int64)
        hs = np.concatenate([s1, s2]).astype(np.int64)
        hf = np.concatenate([f1, f2]).astype(np.int64)
        order = np.lexsort((hf, hs))
        hs, hf = hs[order], hf[order]

        overlap_m2 = np.full(len(hs), np.nan)
        overlap_len = np.full(len(hs), np.nan)
        share_site = np.full(len(hs), np.nan)
        share_feat = np.full(len(hs), np.nan)
        piece_geoms = np.full(len(hs), None, dtype=object)
        hs_fam = fam[hs]
        # Points: the containing feature; share of site = 1.
        share_site[hs_fam == _POINT] = 1.0
        gen = np.flatnonzero(hs_fam != _POINT)
        if len(gen):
            ov, geo = _clip_pairs(sites, hs[gen], hf[gen], ix, want_geoms=pieces)
            g_fam = hs_fam[gen]
            if ix.family == _POLY:
                m_poly = g_fam == _POLY
                overlap_m2[gen[m_poly]] = shapely.area(ov[m_poly])
                m_line = g_fam == _LINE
                overlap_len[gen[m_line]] = shapely.length(ov[m_line])
                with np.errstate(invalid="ignore", divide="ignore"):
                    share_site[gen[m_poly]] = (
                        overlap_m2[gen[m_poly]] / site_measure[hs[gen[m_poly]]]
                    )
                    share_site[gen[m_line]] = (
                        overlap_len[gen[m_line]] / site_measure[hs[gen[m_line]]]
                    )
                    share_feat[gen[m_poly]] = overlap_m2[gen[m_poly]] / ix.measure[hf[gen[m_poly]]]
            elif ix.family == _LINE:
                lens = shapely.length(ov)
                overlap_len[gen] = lens
                with np.errstate(invalid="ignore", divide="ignore"):
                    share_feat[gen] = lens / ix.measure[hf[gen]]
                    m_line = g_fam == _LINE
                    share_site[gen[m_line]] = lens[m_line] / site_measure[hs[gen[m_line]]]
            piece_geoms[gen] = geo
        overlap_ha = overlap_m2 / 1e4
        share_site = np.clip(share_site, 0.0, 1.0)
        share_feat = np.clip(share_feat, 0.0, 1.0)

        # 2. Boundary distance of intersecting pairs (to the feature's edge), capped.
        thresh = ix.tolerance_m + unc
        cap = max(float(np.max(thresh)) if n else 0.0, float(search_radius_m))
        bdist = np.full(len(hs), np.nan)
        if len(hs) and ix.family != _POINT:
            hit_sites = np.unique(hs)
            if ix.grid is not None and cap > 0:
                # Points that the grid proves are farther than the cap from every boundary
                # need no exact distance.
                pt = is_pt[hit_sites]
                lb = ix.grid.edge_lower_bound(px[hit_sites[pt]], py[hit_sites[pt]])
                far = np.zeros(len(hit_sites), dtype=bool)
                far[pt] = lb > cap
                hit_sites = hit_sites[~far]
            if cap > 0:
                bs, bf, bd = ix.near(sites[hit_sites], cap)
                bdist = _lookup_pairs(hs, hf, hit_sites[bs], bf, bd)
            else:
                # Zero tolerance and no search: only "on the boundary" counts.
                qs, qc = ix.chunk_tree.query(sites[hit_sites], predicate="intersects")
                on = np.zeros(len(qs))
                bs, bf, bd = _min_per_pair(qs, ix.chunk_owner[qc], on)
                bdist = _lookup_pairs(hs, hf, hit_sites[bs], bf, bd)
        bsens = np.isfinite(bdist) & (bdist <= thresh[hs] + 1e-9)

        # 3. Nearby features (not intersecting), within the search radius.
        if search_radius_m > 0:
            ns, nf, nd = ix.outside_distance(sites, float(search_radius_m))
            inter_key = hs * (ix.n + 1) + hf
            near_key = ns * (ix.n + 1) + nf
            keep = ~np.isin(near_key, inter_key) & (nd > 0)
            ns, nf, nd = ns[keep], nf[keep], nd[keep]
        else:
            ns = nf = np.empty(0, np.int64)
            nd = np.empty(0)
        n_sens = np.isfinite(nd) & (nd <= thresh[ns] + 1e-9) if len(ns) else np.zeros(0, bool)

        all_s = np.concatenate([hs, ns])
        all_f = np.concatenate([hf, nf])
        dist = np.concatenate([np.zeros(len(hs)), nd])
        frame = pd.DataFrame(
            {
                "site": all_s,
                "site_id": site_ids[all_s] if len(all_s) else np.empty(0, dtype=object),
                "layer_id": L.layer_id,
                "kind": L.kind,
                "feature_id": L.attributes["feature_id"].to_numpy()[all_f]
                if len(all_f)
                else np.empty(0, dtype=object),
                "relation": np.r_[
                    np.full(len(hs), "intersects", dtype=object),
                    np.full(len(ns), "nearby", dtype=object),
                ],
                "overlap_m2": np.r_[overlap_m2, np.full(len(ns), np.nan)],
                "overlap_ha": np.r_[overlap_ha, np.full(len(ns), np.nan)],
                "share_of_site": np.r_[share_site, np.full(len(ns), np.nan)],
                "share_of_feature": np.r_[share_feat, np.full(len(ns), np.nan)],
                "overlap_length_m": np.r_[overlap_len, np.full(len(ns), np.nan)],
                "distance_m": dist,
                "ring_m": _ring_of(dist, ix.rings_m),
                "boundary_distance_m": np.r_[bdist, nd],
                "boundary_sensitive": np.r_[bsens, n_sens].astype(bool),
            }
        )
        for col in STANDARD_ATTRIBUTES:
            vals = L.attributes[col].to_numpy() if col in L.attributes else None
            frame[col] = (
                vals[all_f] if vals is not None and len(all_f) else np.full(len(all_f), None)
            )
        hit_frames.append(frame)

        # 4. Per-site summary: union over features (no double counting).
        summary_frames.append(
            _summarise(
                n,
                site_ids,
                L,
                hs,
                hf,
                overlap_m2,
                overlap_len,
                piece_geoms,
                fam,
                site_measure,
                bsens,
                ns,
                nf,
                nd,
                n_sens,
                ix,
            )
        )
        if pieces and len(gen):
            pg = piece_geoms[gen]
            ok = np.array([g is not None for g in pg], dtype=bool)
            ok[ok] = ~shapely.is_empty(pg[ok])
            if ok.any():
                sel = gen[ok]
                piece_frames.append(
                    gpd.GeoDataFrame(
                        {
                            "site_id": site_ids[hs[sel]],
                            "layer_id": L.layer_id,
                            "kind": L.kind,
                            "feature_id": L.attributes["feature_id"].to_numpy()[hf[sel]],
                            "overlap_m2": overlap_m2[sel],
                            "overlap_length_m": overlap_len[sel],
                        },
                        geometry=pg[ok],
                        crs=WORKING_CRS,
                    )
                )

    for kind in missing_kinds:
        summary_frames.append(_status_rows(n, site_ids, None, kind, "missing"))

    hits = (
        pd.concat(hit_frames, ignore_index=True)
        if hit_frames
        else pd.DataFrame({c: [] for c in _HIT_COLUMNS})
    )
    hits = hits[_HIT_COLUMNS]
    summary = pd.concat(summary_frames, ignore_index=True) if summary_frames else None
    if summary is None:
        summary = pd.DataFrame({c: [] for c in _SUMMARY_COLUMNS})
    summary = summary[_SUMMARY_COLUMNS]

    # Coverage: the territory is the union of the coverage kinds that loaded.
    cov = summary[summary["kind"].isin(coverage) & (summary["status"] == "ok")]
    if len(cov):
        covered = cov.groupby("site")["share_of_site"].sum().reindex(range(n), fill_value=0.0)
        outside = covered.to_numpy() < 1.0 - 1e-6
        if outside.any():
            mask = summary["site"].isin(np.flatnonzero(outside)) & (summary["status"] == "ok")
            summary.loc[mask, "status"] = "outside_coverage"
            notes.append(
                f"{int(outside.sum())} site(s) lie wholly or partly outside the layers' coverage "
                f"({', '.join(sorted(cov['layer_id'].unique()))}): their result is unknown"
            )
    else:
        notes.append(
            "no district or sea-area layer: whether sites lie inside the layers' coverage is "
            "not checked"
        )

    piece_gdf = (
        pd.concat(piece_frames, ignore_index=True)
        if piece_frames
        else gpd.GeoDataFrame(
            {
                c: []
                for c in (
                    "site_id",
                    "layer_id",
                    "kind",
                    "feature_id",
                    "overlap_m2",
                    "overlap_length_m",
                )
            },
            geometry=[],
            crs=WORKING_CRS,
        )
    )
    piece_gdf = gpd.GeoDataFrame(piece_gdf, geometry="geometry", crs=WORKING_CRS)
    ring_gdf = _rings(sites, site_ids, layers, enabled=rings, max_sites=max_ring_sites, notes=notes)
    return OverlayResult(hits, summary, piece_gdf, ring_gdf, notes)


def _lookup_pairs(hs, hf, bs, bf, bd) -> np.ndarray:
    """Values ``bd`` of pairs (bs, bf) looked up for pairs (hs, hf); NaN where absent."""
    m = int(max(hf.max(initial=0), bf.max(initial=0))) + 1
    key_h = hs * m + hf
    key_b = bs * m + bf
    order = np.argsort(key_b)
    key_b, bd = key_b[order], bd[order]
    pos = np.searchsorted(key_b, key_h)
    pos_c = np.clip(pos, 0, max(len(key_b) - 1, 0))
    found = (
        (pos < len(key_b)) & (key_b[pos_c] == key_h) if len(key_b) else np.zeros(len(key_h), bool)
    )
    out = np.full(len(key_h), np.nan)
    out[found] = bd[pos_c[found]]
    return out


def _clip_pairs(sites, si, fi, ix: LayerIndex, *, want_geoms: bool):
    """Intersection of each site with each feature (via the feature's pieces)."""
    # Candidate pieces of the pair's feature that touch the site.
    ps, pg = ix.piece_tree.query(sites[si], predicate="intersects")
    own = ix.piece_owner[pg] == fi[ps]
    ps, pg = ps[own], pg[own]
    parts = shapely.intersection(sites[si][ps], ix.pieces[pg])
    out = np.full(len(si), None, dtype=object)
    # Most pairs touch one piece: no union needed.
    counts = np.bincount(ps, minlength=len(si))
    single = counts[ps] == 1
    out[ps[single]] = parts[single]
    multi = np.flatnonzero(counts > 1)
    if len(multi):
        sel = ~single
        ps_m, parts_m = ps[sel], parts[sel]
        order = np.argsort(ps_m, kind="stable")
        ps_m, parts_m = ps_m[order], parts_m[order]
        bounds = np.r_[0, np.flatnonzero(np.diff(ps_m)) + 1, len(ps_m)]
        for a, b in itertools.pairwise(bounds):
            group = parts_m[a:b]
            group = group[~shapely.is_empty(group)]
            out[ps_m[a]] = (
                shapely.union_all(group)
                if len(group)
                else shapely.from_wkt("GEOMETRYCOLLECTION EMPTY")
            )
    missing = np.array([g is None for g in out], dtype=bool)
    if missing.any():
        out[missing] = shapely.from_wkt("GEOMETRYCOLLECTION EMPTY")
    # Keep only the dimension that matters (polygon overlaps: areas; lines: lengths).
    return out, (out if want_geoms else np.full(len(si), None, dtype=object))


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


def _summarise(
    n,
    site_ids,
    L,
    hs,
    hf,
    overlap_m2,
    overlap_len,
    piece_geoms,
    fam,
    site_measure,
    bsens,
    ns,
    nf,
    nd,
    n_sens,
    ix,
) -> pd.DataFrame:
    hit = np.zeros(n, dtype=bool)
    hit[hs] = True
    ov = np.full(n, np.nan)
    ln = np.full(n, np.nan)
    share = np.zeros(n)
    counts = np.bincount(hs, minlength=n)
    single = counts[hs] == 1
    s1 = hs[single]
    ov[s1] = overlap_m2[single]
    ln[s1] = overlap_len[single]
    multi = np.flatnonzero(counts > 1)
    if len(multi):
        # Union of the pieces of all features a site touches: overlaps counted once.
        sel = np.flatnonzero(~single)
        order = np.argsort(hs[sel], kind="stable")
        sel = sel[order]
        bounds = np.r_[0, np.flatnonzero(np.diff(hs[sel])) + 1, len(sel)]
        for a, b in itertools.pairwise(bounds):
            rows = sel[a:b]
            s = hs[rows[0]]
            if fam[s] == _POINT:
                continue
            g = [x for x in piece_geoms[rows] if x is not None]
            if not g or all(x is None for x in g):
                ov[s] = np.nansum(overlap_m2[rows]) if fam[s] == _POLY else np.nan
                ln[s] = (
                    np.nansum(overlap_len[rows]) if np.isfinite(overlap_len[rows]).any() else np.nan
                )
                continue
            u = shapely.union_all(np.asarray(g, dtype=object))
            if fam[s] == _POLY and ix.family == _POLY:
                ov[s] = shapely.area(u)
            else:
                ln[s] = shapely.length(u)
    is_point = fam == _POINT
    share[is_point & hit] = 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        poly = (fam == _POLY) & hit & np.isfinite(ov)
        share[poly] = ov[poly] / site_measure[poly]
        line = (fam == _LINE) & hit & np.isfinite(ln)
        if ix.family == _POLY:
            share[line] = ln[line] / site_measure[line]
    share = np.clip(share, 0.0, 1.0)
    # Lines touching a polygon site (or line features crossing a line site): hit, share n/a.
    if ix.family != _POLY:
        share[~is_point & hit] = np.nan
        share[~hit] = 0.0
    sens = np.zeros(n, dtype=bool)
    np.logical_or.at(sens, hs, bsens)
    dist = np.full(n, np.nan)
    nearest = np.full(n, None, dtype=object)
    fids = L.attributes["feature_id"].to_numpy()
    dist[hs] = 0.0
    if len(hs):
        # The nearest intersecting feature: the first one (ordered by feature index).
        first = np.r_[True, hs[1:] != hs[:-1]]
        nearest[hs[first]] = fids[hf[first]]
    if len(ns):
        order = np.lexsort((nd, ns))
        ns_o, nf_o, nd_o = ns[order], nf[order], nd[order]
        first = np.r_[True, ns_o[1:] != ns_o[:-1]]
        cand_s, cand_f, cand_d = ns_o[first], nf_o[first], nd_o[first]
        free = ~hit[cand_s]
        dist[cand_s[free]] = cand_d[free]
        nearest[cand_s[free]] = fids[cand_f[free]]
        np.logical_or.at(sens, ns, n_sens)
    return pd.DataFrame(
        {
            "site": np.arange(n),
            "site_id": site_ids,
            "layer_id": L.layer_id,
            "kind": L.kind,
            "status": "ok",
            "hit": hit,
            "overlap_m2": ov,
            "share_of_site": share,
            "overlap_length_m": ln,
            "distance_m": dist,
            "nearest_feature_id": nearest,
            "ring_m": _ring_of(dist, ix.rings_m),
            "boundary_sensitive": sens,
        }
    )


def _rings(sites, site_ids, layers, *, enabled: bool, max_sites: int, notes: list[str]):
    cols = {"site_id": [], "layer_ids": [], "inner_m": [], "outer_m": []}
    empty = gpd.GeoDataFrame(cols, geometry=[], crs=WORKING_CRS)
    if not enabled or not len(sites):
        return empty
    if len(sites) > max_sites:
        notes.append(
            f"buffer-ring geometries are drawn for at most {max_sites:,} sites; "
            f"{len(sites):,} given, none drawn (ring membership is still in hits and summary)"
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
            buf = shapely.buffer(sites, r, quad_segs=16)
            ring = buf if prev is None else shapely.difference(buf, prev)
            frames.append(
                gpd.GeoDataFrame(
                    {
                        "site_id": site_ids,
                        "layer_ids": ", ".join(ids),
                        "inner_m": inner,
                        "outer_m": r,
                    },
                    geometry=ring,
                    crs=WORKING_CRS,
                )
            )
            prev, inner = buf, r
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=WORKING_CRS)
