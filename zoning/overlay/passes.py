"""The per-layer pass: one layer's hits and layer-summary arrays for every site.

:func:`_layer_pass` runs these steps in order:

1. :func:`_intersecting_pairs`: the (site, feature) pairs that intersect, exactly (the points of
   point sites one by one, polygon and line layers through the layer's grid);
2. :func:`_measure_pairs`: the overlap of each pair and its shares of the site and the feature;
3. :func:`_split_touching`: pairs that only touch a polygon feature become "touches" rows;
4. :func:`_query_plan`: which sites the boundary query measures (the grid proves many single
   points far from every boundary, or within the tolerance of the right one);
5. :func:`_containment_boundaries` (search radius 0) or :func:`_measured_boundaries`: boundary
   distances, nearby features and the boundary-sensitive flags;
6. :func:`_overlap_per_site` and :func:`~zoning.overlay.summary._summarise` (per site), and
   :func:`_piece_frame` (the overlap pieces);
7. :func:`_assemble`: the :class:`~zoning.overlay.result._LayerPass`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import geopandas as gpd
import numpy as np
import shapely

from ..crs import WORKING_CRS
from .constants import TOUCH_AREA_M2, TOUCH_LENGTH_M
from .distance import boundaries_near
from .families import _LINE, _OVERLAP_DIM, _POINT, _POLY
from .frames import geo_frame
from .index import LayerIndex, LayerInput
from .overlaps import _clip_pairs, _site_measures
from .pairs import _compact, _empty_pairs, _in_sorted, _lookup_pairs
from .result import _LayerPass
from .sitepack import _SiteSet
from .summary import _Boundaries, _summarise

#: The pairs that only touch a polygon feature: their sites and features.
_Touching = tuple[np.ndarray, np.ndarray]


@dataclass
class _Pairs:
    """The intersecting (site, feature) pairs of a layer pass, sorted by (site, feature)."""

    hs: np.ndarray
    hf: np.ndarray
    #: The site's family, and the dimension of the pair's overlap.
    fam: np.ndarray
    dim: np.ndarray
    overlap_m2: np.ndarray
    overlap_len: np.ndarray
    share_site: np.ndarray
    share_feat: np.ndarray
    #: The overlap geometry where it was built (None elsewhere).
    geom: np.ndarray

    @property
    def g(self) -> np.ndarray:
        """The positions of the pairs of polygon and line sites (point sites have no clip)."""
        return np.flatnonzero(self.fam != _POINT)

    def take(self, keep: np.ndarray) -> _Pairs:
        """The pairs selected by the mask ``keep``."""
        return _Pairs(**{f.name: getattr(self, f.name)[keep] for f in fields(self)})


@dataclass
class _QueryPlan:
    """Which sites the boundary query of a layer pass measures, and how far."""

    #: Per site: the layer's positional tolerance plus the site's uncertainty (m).
    thresh: np.ndarray
    #: How far boundaries are searched (the larger of the radius and the largest threshold).
    cap: float
    radius: float
    #: The sites to query.
    q: np.ndarray
    #: Per site: a single point the grid proves boundary-sensitive (no query needed).
    sure: np.ndarray


def _layer_pass(
    S: _SiteSet,
    L: LayerInput,
    *,
    radius: float,
    unc: np.ndarray,
    want_pieces: bool,
    want_geometry: bool,
) -> _LayerPass:
    """One layer's results for every site: the general path of :func:`~zoning.overlay.overlay`.

    Notes
    -----
    See the module docstring for the steps.  ``radius`` is the search radius for this layer
    (0: containment only), ``unc`` the per-site uncertainty added to the layer's tolerance.
    """
    ix = L.index
    # Grid codes and distance bounds of single-point sites, looked up once for steps 1 and 4.
    pre = _point_bounds(S, ix)
    hs, hf, cnt, member_in, piece_pairs = _intersecting_pairs(S, ix, pre)
    measured = _measure_pairs(S, ix, hs, hf, cnt, want_geometry, piece_pairs)
    pairs, touching = _split_touching(ix, measured)
    plan = _query_plan(S, ix, pre, radius=radius, unc=unc)
    if radius == 0:
        bounds = _containment_boundaries(S, ix, pairs, touching, plan)
    else:
        bounds = _measured_boundaries(S, ix, pairs, touching, plan)
    known = _overlap_per_site(S, ix, pairs)
    summary = _summarise(S, ix, pairs.hs, pairs.hf, known, member_in, bounds)
    pieces = _piece_frame(S, L, pairs) if want_pieces else None
    return _assemble(L, pairs, bounds, summary, pieces, member_in)


def _point_bounds(S: _SiteSet, ix: LayerIndex):
    """:meth:`~zoning.overlay.CellGrid.bounds` of the sites when they are all single points
    (else None)."""
    grid = ix.grid
    if grid is not None and S.single.any() and len(S.member) == int(S.single.sum()):
        return grid.bounds(S.mx, S.my)  # the members are the single points, in site order
    return None


def _intersecting_pairs(S: _SiteSet, ix: LayerIndex, pre) -> tuple[np.ndarray, ...]:
    """Intersecting pairs (exact): ``(hs, hf, cnt, member_in, piece_pairs)``.

    Points of point sites are tested one by one (polygon and line layers through the grid);
    a site hits a feature when any of its points does.  ``cnt``: per pair, the points of a
    point site inside or on the feature (0 for other sites); ``member_in``: per member point,
    inside or on some feature; ``piece_pairs``: (site, piece) of the pieces the polygon and line
    sites intersect (the one piece query, which the clipping reuses), or None.
    """
    m = np.int64(max(ix.n, 1))
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
    piece_pairs = None
    if len(gen) and ix.n:
        # The piece query serves both the exact test and the clipping (_clip_pairs).
        qi, pi = ix.piece_tree.query(S.geoms[gen], predicate="intersects")
        s2, f2 = ix._exact_pairs(S.geoms[gen], piece_pairs=(qi, pi))
        piece_pairs = (gen[qi], pi)
    else:
        s2, f2 = _empty_pairs()
    hs = np.concatenate([k_pt // m, gen[s2]]).astype(np.int64)
    hf = np.concatenate([k_pt % m, f2]).astype(np.int64)
    cnt = np.concatenate([n_in, np.zeros(len(s2), dtype=np.int64)])
    if len(s2):  # the point pairs alone are sorted already
        order = np.lexsort((hf, hs))
        hs, hf, cnt = hs[order], hf[order], cnt[order]
    return hs, hf, cnt, member_in, piece_pairs


def _measure_pairs(
    S: _SiteSet,
    ix: LayerIndex,
    hs: np.ndarray,
    hf: np.ndarray,
    cnt: np.ndarray,
    want: bool,
    piece_pairs: tuple[np.ndarray, np.ndarray] | None = None,
) -> _Pairs:
    """The overlap of each pair (area or length), its shares, and (``want``) its geometry
    (``piece_pairs``: the sites' piece query, if made already)."""
    hs_fam = S.fam[hs]
    dim = _OVERLAP_DIM[hs_fam, ix.family] if len(hs) else np.empty(0, dtype=np.int8)
    p = _Pairs(
        hs=hs,
        hf=hf,
        fam=hs_fam,
        dim=dim,
        overlap_m2=np.full(len(hs), np.nan),
        overlap_len=np.full(len(hs), np.nan),
        share_site=np.full(len(hs), np.nan),
        share_feat=np.full(len(hs), np.nan),
        geom=np.full(len(hs), None, dtype=object),
    )
    is_pt = hs_fam == _POINT
    p.share_site[is_pt] = cnt[is_pt] / S.measure[hs[is_pt]]
    g = np.flatnonzero(~is_pt)
    if not len(g):
        return p
    # Overlap geometries are built for the pieces table (and where a line overlap must be
    # unioned to be measured, see _clip_pairs); the measures never need them.
    measure, p.geom[g] = _clip_pairs(
        S,
        hs[g],
        hf[g],
        ix,
        dim[g],
        np.full(len(g), bool(want)),
        piece_pairs=piece_pairs,
    )
    area = dim == 2
    lin = dim == 1
    p.overlap_m2[g[dim[g] == 2]] = measure[dim[g] == 2]
    p.overlap_len[g[dim[g] == 1]] = measure[dim[g] == 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        p.share_site[area] = p.overlap_m2[area] / S.measure[hs[area]]
        p.share_feat[area] = p.overlap_m2[area] / ix.measure[hf[area]]
        line_site = lin & (hs_fam == _LINE)
        p.share_site[line_site] = p.overlap_len[line_site] / S.measure[hs[line_site]]
        if ix.family == _LINE:
            p.share_feat[lin] = p.overlap_len[lin] / ix.measure[hf[lin]]
    return p


def _split_touching(ix: LayerIndex, p: _Pairs) -> tuple[_Pairs, _Touching]:
    """The pairs that occupy the feature, and ``(ts, tf)``: those that only touch it.

    A polygon or line site that only touches a polygon feature (a shared edge or corner: no
    area, no length inside) does not occupy it: relation "touches", at distance 0, and it is
    boundary-sensitive.  Points on a boundary stay hits (they are covered by the feature), and
    a line crossing a line feature is a hit however short the shared part.  Shares are clipped
    to [0, 1].
    """
    touch = np.zeros(len(p.hs), dtype=bool)
    g = p.g
    if ix.family == _POLY and len(g):
        touch[g] = ((p.dim[g] == 2) & ~(p.overlap_m2[g] > TOUCH_AREA_M2)) | (
            (p.dim[g] == 1) & ~(p.overlap_len[g] > TOUCH_LENGTH_M)
        )
    touching = (p.hs[touch], p.hf[touch])
    if touch.any():
        p = p.take(~touch)
    p.share_site = np.clip(p.share_site, 0.0, 1.0)
    p.share_feat = np.clip(p.share_feat, 0.0, 1.0)
    return p, touching


def _query_plan(S: _SiteSet, ix: LayerIndex, pre, *, radius: float, unc: np.ndarray) -> _QueryPlan:
    """Which sites the boundary query must measure.

    Single points the grid proves farther than the cap from every boundary need no query (with
    cap 0: the points the grid proves off every boundary).  In containment screenings no
    distance is reported, so a point the grid proves within the tolerance of a boundary needs
    no query either, if it has no hit row (a clean cell outside every feature) or its one hit
    row's feature is one whose boundary the bound is about (a clean cell inside that feature
    only): those are ``sure``.
    """
    n = len(S)
    thresh = ix.tolerance_m + unc
    cap = max(float(np.max(thresh)) if n else 0.0, radius)
    q = np.arange(n)
    sure = np.zeros(n, dtype=bool)
    grid = ix.grid
    if grid is not None and S.single.any():
        single = np.flatnonzero(S.single)
        code, lower, upper, near = (
            pre if pre is not None else grid.bounds(S.px[single], S.py[single])
        )
        far = np.zeros(n, dtype=bool)
        far[single] = lower > cap
        if radius == 0 and cap > 0:
            within = (code != -2) & (upper < thresh[single] - 1e-9)
            own = np.zeros(len(single), dtype=bool)
            cand = np.flatnonzero(within & (code >= 0))
            by = grid.crossing(near[cand])
            own[cand] = (by[:, 0] == code[cand]) | (by[:, 1] == code[cand])
            sure[single] = within & ((code == -1) | own)
        q = q[~far & ~sure]
    return _QueryPlan(thresh=thresh, cap=cap, radius=radius, q=q, sure=sure)


def _hit_keys(p: _Pairs, touching: _Touching, m: np.int64) -> np.ndarray:
    """The sorted keys (``site * m + feature``) of the pairs that intersect or touch."""
    ts, tf = touching
    return np.sort(np.r_[p.hs * m + p.hf, ts * m + tf])


def _containment_boundaries(
    S: _SiteSet, ix: LayerIndex, p: _Pairs, touching: _Touching, plan: _QueryPlan
) -> _Boundaries:
    """Boundary-sensitive flags without measuring any distance (search radius 0).

    A predicate query finds the feature boundaries within each site's tolerance, and which of
    them the site touches; ``boundary_distance_m`` is reported only where the site touches it.
    """
    m = np.int64(max(ix.n, 1))
    q, thresh, sure = plan.q, plan.thresh, plan.sure
    if ix.n:
        bs, bf, btouch = ix.within(S.edges[q], thresh[q] + 1e-9)
    else:
        bs, bf, btouch = (*_empty_pairs(), np.zeros(0, dtype=bool))
    bs = q[bs]
    found = _lookup_pairs(p.hs, p.hf, bs, bf, btouch.astype(float), m)  # NaN: not within
    ts, tf = touching
    return _Boundaries(
        bsens=np.isfinite(found) | sure[p.hs],
        bdist=np.where(found == 1, 0.0, np.nan),
        ns=ts.astype(np.int64),
        nf=tf.astype(np.int64),
        nd=np.zeros(len(ts)),
        n_sens=np.ones(len(ts), dtype=bool),  # a site touching a boundary is sensitive
        miss_sens=bs[~_in_sorted(bs * m + bf, _hit_keys(p, touching, m))],
        sure=sure,
        n_touch=len(ts),
    )


def _measured_boundaries(
    S: _SiteSet, ix: LayerIndex, p: _Pairs, touching: _Touching, plan: _QueryPlan
) -> _Boundaries:
    """Distances between boundaries and to features, in one query (search radius > 0).

    Intersecting pairs get the distance between the boundaries (how far the feature's
    boundary may move before the overlap changes); the features a site misses within the
    radius are its nearby rows (touching features first, at distance 0, whatever the radius).
    A feature the site misses within the tolerance makes it boundary-sensitive even when it
    lies beyond the search radius (and is not reported as nearby).
    """
    m = np.int64(max(ix.n, 1))
    q, thresh, cap = plan.q, plan.thresh, plan.cap
    if ix.n:
        bs, bf, bd = boundaries_near(
            ix, S.edges[q], cap, S.boxes(cap)[q], (*S.parts(), q), S.bounds()[q]
        )
    else:
        bs, bf, bd = (*_empty_pairs(), np.empty(0))
    bs = q[bs]
    bdist = _lookup_pairs(p.hs, p.hf, bs, bf, bd, m)
    is_hit = _in_sorted(bs * m + bf, _hit_keys(p, touching, m))
    keep = ~is_hit & (bd <= plan.radius)
    ts, tf = touching
    ns = np.r_[ts, bs[keep]].astype(np.int64)
    nd = np.r_[np.zeros(len(ts)), bd[keep]]
    return _Boundaries(
        bsens=(np.isfinite(bdist) & (bdist <= thresh[p.hs] + 1e-9)) | plan.sure[p.hs],
        bdist=bdist,
        ns=ns,
        nf=np.r_[tf, bf[keep]].astype(np.int64),
        nd=nd,
        n_sens=nd <= thresh[ns] + 1e-9,
        miss_sens=bs[~is_hit & (bd <= thresh[bs] + 1e-9)],
        sure=plan.sure,
        n_touch=len(ts),
    )


def _overlap_per_site(S: _SiteSet, ix: LayerIndex, p: _Pairs) -> tuple[np.ndarray, np.ndarray]:
    """The overlap measure of every polygon and line site with an overlap, overlapping features
    counted once (:func:`~zoning.overlay.overlaps._site_measures`)."""
    g = p.g
    pair_measure = np.where(p.dim[g] == 2, p.overlap_m2[g], p.overlap_len[g])
    return _site_measures(S, ix, p.hs[g], p.dim[g], pair_measure, p.geom[g])


def _piece_frame(S: _SiteSet, L: LayerInput, p: _Pairs) -> gpd.GeoDataFrame | None:
    """The overlap pieces of the pairs with a non-empty overlap (None when there is none)."""
    g = p.g
    if not len(g):
        return None
    pg = p.geom[g]
    ok = ~shapely.is_empty(pg)
    if not ok.any():
        return None
    sel = g[ok]
    fids = L.column("feature_id")
    return geo_frame(
        {
            "site": p.hs[sel],
            "site_id": S.ids[p.hs[sel]],
            "layer_id": L.layer_id,
            "kind": L.kind,
            "feature_id": fids[p.hf[sel]],
            "overlap_m2": p.overlap_m2[sel],
            "overlap_length_m": p.overlap_len[sel],
        },
        pg[ok],
        WORKING_CRS,
    )


def _assemble(
    L: LayerInput,
    p: _Pairs,
    b: _Boundaries,
    summary: dict[str, np.ndarray],
    pieces: gpd.GeoDataFrame | None,
    member_in: np.ndarray,
) -> _LayerPass:
    """The pass's arrays: the intersecting pairs, then the touching and nearby ones (the rows
    of the hits table, relation 0, 1 and 2), and the per-site summary."""
    nn = np.full(len(b.ns), np.nan)
    rel = np.r_[
        np.zeros(len(p.hs), dtype=np.int8),
        np.ones(b.n_touch, dtype=np.int8),
        np.full(len(b.ns) - b.n_touch, 2, dtype=np.int8),
    ]
    return _LayerPass(
        layer=L,
        ps=np.concatenate([p.hs, b.ns]),
        pf=np.concatenate([p.hf, b.nf]),
        rel=rel,
        overlap_m2=_compact(np.r_[p.overlap_m2, nn]),
        share_site=np.r_[p.share_site, nn],
        share_feat=_compact(np.r_[p.share_feat, nn]),
        overlap_len=_compact(np.r_[p.overlap_len, nn]),
        dist=np.r_[np.zeros(len(p.hs)), b.nd],
        bdist=np.r_[b.bdist, b.nd],
        psens=np.r_[b.bsens, b.n_sens].astype(bool),
        pieces=pieces,
        site_overlap=None,
        member_in=member_in,
        **summary,
    )
