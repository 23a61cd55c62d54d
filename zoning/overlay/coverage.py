"""Coverage: the share of each site inside the union of the coverage layers."""

from __future__ import annotations

import numpy as np
import shapely

from .constants import COVERAGE_TOLERANCE
from .families import _EMPTY_BY_DIM, _OVERLAP_DIM, _POINT, _POLY
from .overlaps import _clip_pairs, _group_union, _union
from .result import _LayerPass
from .sitepack import _SiteSet


def _outside_coverage(
    S: _SiteSet, cov_passes: list[_LayerPass], cov_failed: list[str], notes: list[str]
) -> np.ndarray:
    """Per site: not wholly inside the territory, the union of the coverage layers.

    When a coverage layer failed to load, or there is none, coverage is not checked (every
    site is inside) and a note in ``notes`` says so; so does one naming the sites outside.
    """
    outside = np.zeros(len(S), dtype=bool)
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
    return outside


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
