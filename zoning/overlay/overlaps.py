"""Overlaps of sites and features: clipping through the pieces, unions, measures per site."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.errors import GEOSException

from .constants import LINE_GRID_M
from .families import _EMPTY_BY_DIM, _OVERLAP_DIM
from .index import LayerIndex
from .sitepack import _SiteSet


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
    S: _SiteSet,
    si,
    fi,
    ix: LayerIndex,
    dim: np.ndarray,
    want: np.ndarray,
    *,
    piece_pairs: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Overlap of each (site, feature) pair, via the feature's pieces, of dimension ``dim``.

    ``piece_pairs``: (site, piece) for every piece that intersects a site of ``S``, as the
    ``intersects`` query of :attr:`~zoning.overlay.LayerIndex.piece_tree` returns them (sites
    ascending, pieces in query order), if made already; else the pairs' sites are queried.

    Returns
    -------
    measure : array of float
        The overlap area (``dim`` 2) or length (``dim`` 1) of every pair.
    geom : array of shapely geometries
        The overlap of the pairs in ``want`` (and of the line pairs that must be unioned to be
        measured, see below); None elsewhere.

    Notes
    -----
    The pieces of a feature share no area (polygons) and no stretch (lines), so an overlap is the
    sum of the site's intersections with the pieces: no union is needed unless the geometry is.  A
    site that a piece covers is its own intersection with it (a prepared ``covers`` test instead of
    an overlay operation: most small sites lie inside one piece).  The one exception is a line site
    running along a cut between two pieces of a polygon feature, which both pieces hold: cuts are
    axis-parallel, so a line with an (almost) axis-parallel segment, or one that overlaps itself,
    has its overlaps unioned (with snap rounding, see :func:`_union`) before they are measured (see
    :meth:`~zoning.overlay.sitepack._SiteSet.additive`).
    """
    sites = S.geoms
    if piece_pairs is None:
        ps, pg = ix.piece_tree.query(sites[si], predicate="intersects")
        own = ix.piece_owner[pg] == fi[ps]
        ps, pg = ps[own], pg[own]
    else:
        ps, pg = _pieces_of_pairs(si, fi, ix, *piece_pairs)
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


def _pieces_of_pairs(
    si: np.ndarray, fi: np.ndarray, ix: LayerIndex, qs: np.ndarray, qp: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(pair, piece) for the pieces of feature ``fi[k]`` that site ``si[k]`` intersects, from
    the sites' piece query ``(qs, qp)``: in the order a query of the pairs' sites would give
    (pairs ascending, each pair's pieces in query order), so sums over them are the same."""
    m = np.int64(max(ix.n, 1))
    key = si.astype(np.int64) * m + fi
    order = np.argsort(key, kind="stable")
    k_sorted = key[order]
    qkey = qs.astype(np.int64) * m + ix.piece_owner[qp]
    lo = np.searchsorted(k_sorted, qkey, side="left")
    hi = np.searchsorted(k_sorted, qkey, side="right")
    # A pair key may repeat (never in the passes, but be safe): one row per pair.
    count = hi - lo
    rows = np.repeat(np.arange(len(qkey)), count)
    pos = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count) + lo[rows]
    ps = order[pos]
    pg = qp[rows]
    final = np.lexsort((rows, ps))  # pairs ascending, then the query's order
    return ps[final], pg[final]


def _site_measures(
    S: _SiteSet, ix: LayerIndex, hs: np.ndarray, dim: np.ndarray, measure, geom
) -> tuple[np.ndarray, np.ndarray]:
    """Per site with an overlap: its overlap with the layer, overlapping features counted once.

    ``hs``, ``dim``, ``measure`` and ``geom`` describe the site's intersecting pairs (polygon and
    line sites).  A site meeting one feature has that pair's measure; one meeting several is clipped
    by the layer's dissolved pieces (:attr:`~zoning.overlay.LayerIndex.dissolved`: the union of the
    features, cut into pieces that share no area or stretch) and the parts are summed -- or, for the
    line sites whose overlaps are not additive, their pairs' overlaps are unioned.

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
