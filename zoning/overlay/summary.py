"""The per-site summary arrays of a layer pass (one row per site in the layer summary)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .families import _LINE, _OVERLAP_DIM, _POINT
from .index import LayerIndex
from .pairs import _compact, _first_feature
from .sitepack import _SiteSet


@dataclass
class _Boundaries:
    """The boundary results of a layer pass: per intersecting pair, and the other rows.

    The "other rows" are the pairs that only touch a polygon feature (the first ``n_touch``)
    and the features within the search radius that the site misses.
    """

    #: Per intersecting pair: boundary-sensitive, and the boundary distance (NaN: unknown).
    bsens: np.ndarray
    bdist: np.ndarray
    #: The touching and nearby pairs (site, feature, distance) and their sensitivity.
    ns: np.ndarray
    nf: np.ndarray
    nd: np.ndarray
    n_sens: np.ndarray
    #: Sites a feature they miss makes boundary-sensitive (beyond the radius too).
    miss_sens: np.ndarray
    #: Per site: a single point the grid proves boundary-sensitive.
    sure: np.ndarray
    n_touch: int


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
    hs: np.ndarray,
    hf: np.ndarray,
    known: tuple[np.ndarray, np.ndarray],
    member_in: np.ndarray,
    b: _Boundaries,
) -> dict[str, np.ndarray]:
    """The per-site arrays of a layer pass (see :class:`~zoning.overlay.result._LayerPass`).

    ``hs``, ``hf``: the intersecting pairs; ``known`` gives the overlap measure of the polygon
    and line sites with an overlap (:func:`~zoning.overlay.overlaps._site_measures`);
    ``member_in``: per member point of the point sites, inside or on a feature; ``b``: the
    boundary results of the pass.
    """
    ns, nf, nd = b.ns, b.nf, b.nd
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
    sens[hs[b.bsens]] = True
    sens[ns[b.n_sens]] = True
    sens[b.miss_sens] = True
    sens[b.sure] = True
    dist = np.full(n, np.nan)
    dist[hs] = 0.0
    # The nearest intersecting feature: the first one (by feature order).
    nearest = _first_feature(hs, hf, n)
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
