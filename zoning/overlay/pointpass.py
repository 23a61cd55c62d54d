"""Containment screenings of many single points through the combined PointGrid."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .families import _LINE, _POLY
from .index import LayerIndex, LayerInput
from .pairs import _first_feature, _in_sorted
from .pointgrid import PointGrid
from .result import _LayerPass
from .sitepack import _SiteSet

#: Containment screenings of at least this many single points build the combined point grid
#: (:class:`~zoning.overlay.pointgrid.PointGrid`).  Measured on the demonstration layers
#: (2 cores): building it takes ~12 s, and it saves ~4.5 s per million points over the
#: per-layer path (1.6 s against 7.1 s for a million), so one screening repays it from ~2.7
#: million points.  A process that screens many batches builds it once with
#: :func:`prepare_point_grid`.
POINT_GRID_MIN_POINTS = 2_500_000


def _point_grid(indexes: list[LayerIndex]) -> PointGrid:
    """The :class:`~zoning.overlay.pointgrid.PointGrid` of these layer indexes, built once.

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
    features (point layers go through :func:`~zoning.overlay.passes._layer_pass`)."""
    return [
        L
        for L in layers
        if L.status == "ok" and L.index is not None and L.index.n
        and L.index.family in (_POLY, _LINE)
    ]  # fmt: skip


def prepare_point_grid(layers: Sequence[LayerInput]) -> PointGrid | None:
    """Build (once) the combined point grid of ``layers``, so that every later containment
    screening of point sites with the same layers uses it, however few the points.

    Parameters
    ----------
    layers : sequence of LayerInput
        The layers of the screenings to come; loaded polygon and line layers with features take
        part.

    Returns
    -------
    PointGrid or None
        The grid (cached on the first layer's index), or None when no layer takes part.

    Notes
    -----
    For processes that screen many batches (a service, a benchmark's warm indexes): a single
    screening builds it only from :data:`POINT_GRID_MIN_POINTS` points.  Cost: a few seconds per
    dense layer (see :class:`~zoning.overlay.pointgrid.PointGrid`).
    """
    use = _grid_layers(layers)
    return _point_grid([L.index for L in use]) if use else None


def _place_points(S: _SiteSet, layers: Sequence[LayerInput], radius: float) -> dict:
    """Point sites placed by the combined grid: ``{id(layer): (code, sens, samples)}``.

    Only for containment screenings (radius 0) of single points, and only when there are at
    least :data:`POINT_GRID_MIN_POINTS` of them or the grid of these layers is built already:
    building it costs seconds, which a few thousand points do not repay.  Polygon and line
    layers with features take part; point layers go through
    :func:`~zoning.overlay.passes._layer_pass`.
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

    ``code`` and ``sens`` are the grid's answers per site
    (:meth:`~zoning.overlay.pointgrid.PointGrid.classify`): the feature the point lies in (-2:
    undecided) and whether a boundary lies within the layer's tolerance (2: undecided; the grid's
    answer is for the tolerance alone, so a site with its own uncertainty that the grid puts beyond
    it is undecided too).  Undecided sensitivities are settled by the distance to the layer's
    boundary samples, and what those cannot settle, like every undecided containment, by the exact
    tests of :class:`~zoning.overlay.LayerIndex` -- so the results are those of
    :func:`~zoning.overlay.passes._layer_pass`.
    """
    ix = L.index
    n = len(S)
    ex = np.flatnonzero(code == -2)
    hs, hf, touch = _placed_pairs(S, ix, code, ex)
    site_sens, psens = _placed_sensitivity(S, ix, hs, hf, code, sens, samples, unc=unc)
    hit = np.zeros(n, dtype=bool)
    hit[hs] = True
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
        nearest=_first_feature(hs, hf, n),
        sens=site_sens,
        pieces=None,
        site_overlap=None,
        member_in=hit,
    )


def _placed_pairs(
    S: _SiteSet, ix: LayerIndex, code: np.ndarray, ex: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Containment pairs ``(hs, hf, touch)``: the grid's feature, or for the undecided sites
    ``ex`` the exact test (which also tells which pairs touch a boundary)."""
    pe, fe, te = ix._exact_pairs(S.geoms[ex], touching=True)
    sure = np.flatnonzero(code >= 0)
    hs = np.concatenate([sure, ex[pe]])
    hf = np.concatenate([code[sure].astype(np.int64), fe])
    touch = np.concatenate([np.zeros(len(sure), dtype=bool), te])
    if len(pe):
        order = np.lexsort((hf, hs))
        hs, hf, touch = hs[order], hf[order], touch[order]
    return hs, hf, touch


def _placed_sensitivity(
    S: _SiteSet,
    ix: LayerIndex,
    hs: np.ndarray,
    hf: np.ndarray,
    code: np.ndarray,
    sens: np.ndarray,
    samples,
    *,
    unc: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Boundary-sensitive flags per site and per pair ``(hs, hf)``.

    The grid's state is the site's (for a site in one feature: also the pair's); undecided
    states go to the boundary samples, then to the exact ``within`` query.
    """
    n = len(S)
    m = np.int64(ix.n)
    state = sens.astype(np.int8)
    if unc.any():
        state[(state == 0) & (unc > 0)] = 2
    state[code == -2] = 2  # measured below with the pairs they belong to
    und = np.flatnonzero((state == 2) & (code != -2))
    if len(und) and samples is not None:
        thresh = ix.tolerance_m + unc[und]
        state[und] = samples.decide(S.px[und], S.py[und], code[und], thresh)
    measure = np.flatnonzero(state == 2)
    bs, bf, _ = ix.within(S.geoms[measure], (ix.tolerance_m + unc[measure]) + 1e-9)
    bs = measure[bs]
    site_sens = state == 1
    site_sens[bs] = True
    psens = site_sens[hs]  # sites decided without a measurement: the site's answer
    measured = np.zeros(n, dtype=bool)
    measured[measure] = True
    on_pair = measured[hs]
    psens[on_pair] = _in_sorted(hs[on_pair] * m + hf[on_pair], np.sort(bs * m + bf))
    return site_sens, psens
