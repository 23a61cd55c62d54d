"""Site totals of a screening: constraint layers and features touched, overlap totals, nearest.

Per site, from the overlay passes: ``n_constraints``, ``n_hits``, ``boundary_sensitive``,
``overlap_m2_total`` / ``overlap_length_m_total`` (the union of the overlaps, so shared ground
counts once) and ``nearest_m``.  Geometry only (working CRS, metres): the caller says which
kinds some rule reads and at which distances ``within`` rules decide (:class:`RuleReach`);
nothing here knows the rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from ..schema import CONTEXT_KINDS
from .constants import LINE_GRID_M
from .engine import overlay
from .families import _POLY
from .result import OverlayResult


@dataclass(frozen=True)
class RuleReach:
    """What the site totals need to know of a rule set, as plain data.

    Attributes
    ----------
    read_kinds : frozenset of str
        Layer kinds some rule reads (the development boundary and control units included;
        kinds no rule reads, such as ``water``, feed no total).
    within : mapping of str to tuple of float
        Per kind with a ``within`` rule, the rule distances in ascending order (m).
    relevant : mapping of str to numpy.ndarray of bool, optional
        Per kind: per site, whether a rule reading that kind's boundaries (other than its
        ``within`` rules) could apply to the site's project.  None: every kind matters to every
        site; a kind absent from the mapping matters to none.
    bands : mapping of str to tuple of (float, numpy.ndarray of bool), optional
        Per kind with ``within`` rules: per rule distance, the sites some rule of that distance
        could apply to.  None: every distance matters to every site.
    """

    read_kinds: frozenset[str]
    within: Mapping[str, tuple[float, ...]]
    relevant: Mapping[str, np.ndarray] | None = None
    bands: Mapping[str, tuple[tuple[float, np.ndarray], ...]] | None = None

    @property
    def flag_keys(self) -> tuple:
        """What each bit of ``boundary_bits`` stands for: a kind (near one of its feature
        boundaries), then ``(kind, distance)`` (near a ``within`` rule distance).

        Returns
        -------
        tuple of str or (str, float)
        """
        kinds = tuple(sorted(self.read_kinds))
        bands = tuple((k, float(d)) for k in sorted(self.within) for d in self.within[k])
        return kinds + bands

    def band_masks(self, kind: str, n: int) -> tuple[tuple[float, np.ndarray | None], ...]:
        """Per rule distance of ``kind``: the sites it matters to (None: every site).

        Parameters
        ----------
        kind : str
        n : int
            The number of sites.

        Returns
        -------
        tuple of (float, numpy.ndarray or None)
        """
        if self.bands is None:
            return tuple((float(d), None) for d in self.within.get(kind, ()))
        return tuple(self.bands.get(kind, ()))

    def kind_mask(self, kind: str, n: int) -> np.ndarray:
        """Per site: whether ``kind``'s feature boundaries matter (see ``relevant``).

        Parameters
        ----------
        kind : str
        n : int
            The number of sites.

        Returns
        -------
        numpy.ndarray of bool
        """
        if self.relevant is None:
            return np.ones(n, dtype=bool)
        return self.relevant.get(kind, np.zeros(n, dtype=bool))


def band_sensitive(
    dist: np.ndarray, tolerance: np.ndarray | float, distances: Sequence[float]
) -> np.ndarray:
    """Whether each distance lies within ``tolerance`` of one of the rule ``distances``.

    Parameters
    ----------
    dist : numpy.ndarray
        Distances, m (NaN where none was measured).
    tolerance : float or numpy.ndarray
        The layer's positional tolerance plus the sites' uncertainty, m.
    distances : sequence of float
        Rule distances, m.

    Returns
    -------
    numpy.ndarray of bool
        ``|d - D| <= tolerance`` for some ``D`` (False for NaN distances).
    """
    dist = np.asarray(dist, dtype=float)
    out = np.zeros(dist.shape, dtype=bool)
    for d in distances:
        with np.errstate(invalid="ignore"):
            out |= np.abs(dist - d) <= tolerance
    return out


def site_totals(
    ov: OverlayResult,
    n: int,
    reach: RuleReach,
    unc: np.ndarray,
    geoms: np.ndarray,
    searched: Mapping[str, float] | None = None,
) -> dict[str, np.ndarray]:
    """Per site: constraint layers and features touched, flags, overlap totals, nearest.

    ``boundary_sensitive``: a layer of a kind some rule reads (``reach.read_kinds``: the
    development boundary and the control units included; layers no rule reads, such as
    ``water``, left out) has a feature boundary within its positional tolerance plus the
    site's uncertainty, or — for a kind with a ``within`` rule — a feature whose distance lies
    within that of a rule distance; and a rule that reads it could apply to the site's project
    (``reach.relevant`` and ``reach.bands``: a shift of the boundary could change an outcome).
    ``boundary_bits`` says which: bit ``i`` stands for ``reach.flag_keys[i]``.

    Counts, totals and the nearest distance over the layers that are not
    :data:`CONTEXT_KINDS` and that some rule reads (*constraint layers*), with status ``ok`` (a
    site outside the coverage has none):

    * ``n_constraints``: constraint layers the site touches, or — for a kind with a ``within``
      rule (the shoreline) — lies within the largest rule distance of;
    * ``n_hits``: features of constraint layers the site intersects;
    * ``overlap_m2_total`` / ``overlap_length_m_total``: the area / length of the union of the
      site's overlaps with the constraint layers, so ground two layers share counts once (NaN
      when no constraint layer measures one);
    * ``nearest_m``: the distance to the nearest feature of a constraint layer, up to the
      shortest distance every constraint layer was searched to (``searched``, per kind: a layer
      searched farther, such as the shoreline to its 3 km ring, must not stand in for layers
      not searched that far); NaN when none lies within it.

    Layers no rule reads (``water``) feed none of these: they are in ``hits`` and
    ``layer_summary`` only.  ``geoms`` (working CRS) serve the union when overlap pieces were
    not built.

    Parameters
    ----------
    ov : OverlayResult
        The overlay of the sites with the layers (its ``passes``, ``outside`` and ``pieces``).
    n : int
        The number of sites.
    reach : RuleReach
        The kinds the rules read and their ``within`` distances.
    unc : numpy.ndarray of float
        Each site's positional uncertainty, m.
    geoms : numpy.ndarray of shapely geometries
        The sites, working CRS, in the order of the overlay's site positions.
    searched : mapping of str to float, optional
        Per kind, how far its layers were searched (m); None: ``nearest_m`` is not capped.

    Returns
    -------
    dict of str to numpy.ndarray
        The columns above, each of length ``n``: ``n_constraints``, ``n_hits`` (int),
        ``boundary_sensitive`` (bool), ``boundary_bits`` (int64), ``overlap_m2_total``,
        ``overlap_length_m_total`` and ``nearest_m`` (float, NaN for none).

    Notes
    -----
    Linear in the overlay passes, except for sites that two or more constraint layers overlap
    with positive area (or length): their overlaps are unioned, from ``ov.pieces`` or, when
    the pieces were not built, from an extra overlay run for those sites alone.  A line site
    overlapped by polygon layers only is measured as one intersection, without pieces.
    """
    read = reach.read_kinds
    within = reach.within
    ok = ~ov.outside
    n_constraints = np.zeros(n, dtype=int)
    n_hits = np.zeros(n, dtype=int)
    keys = reach.flag_keys
    bits = np.zeros(n, dtype=np.int64)
    area = np.zeros(n)
    area_n = np.zeros(n, dtype=int)
    length = np.zeros(n)
    length_n = np.zeros(n, dtype=int)
    nearest = np.full(n, np.inf)
    positive_area = np.zeros(n, dtype=int)
    positive_length = np.zeros(n, dtype=int)
    constraint: list = []
    for p in ov.passes:
        kind = p.layer.kind
        if kind in read:
            near = p.sens & reach.kind_mask(kind, n)
            bits[near] |= np.int64(1) << keys.index(kind)
            tol = p.layer.index.tolerance_m + unc[p.ps]
            for d, matters in reach.band_masks(kind, n):
                band = band_sensitive(p.dist, tol, (d,))
                if matters is not None:
                    band &= matters[p.ps]
                bits[p.ps[band]] |= np.int64(1) << keys.index((kind, d))
        if kind in CONTEXT_KINDS or kind not in read:
            continue
        constraint.append(p)
        counted = p.hit.copy()
        if kind in within:
            with np.errstate(invalid="ignore"):
                counted |= p.sdist <= within[kind][-1]
        n_constraints += counted & ok
        n_hits += np.bincount(p.ps[p.rel == 0], minlength=n)
        for total, count, pos, values in (
            (area, area_n, positive_area, p.ov),
            (length, length_n, positive_length, p.ln),
        ):
            has = ok & ~np.isnan(values)
            total[has] += values[has]
            count += has
            pos += has & (values > 0)
        has = ok & ~np.isnan(p.sdist)
        nearest[has] = np.minimum(nearest[has], p.sdist[has])
    if searched is not None and constraint:
        cap = min(searched.get(p.layer.kind, np.inf) for p in constraint)
        nearest[nearest > cap] = np.inf
    # Where two or more constraint layers overlap a site, the sum may count shared ground
    # twice: measure the union of the overlap pieces instead.
    multi = np.flatnonzero((positive_area > 1) | (positive_length > 1))
    if len(multi):
        u_area, u_length = _union_overlaps(ov, constraint, multi, geoms)
        sel = positive_area[multi] > 1
        area[multi[sel]] = u_area[sel]
        sel = positive_length[multi] > 1
        length[multi[sel]] = u_length[sel]
    return {
        "n_constraints": n_constraints,
        "n_hits": n_hits,
        "boundary_sensitive": bits != 0,
        "boundary_bits": bits,
        "overlap_m2_total": np.where(area_n > 0, area, np.nan),
        "overlap_length_m_total": np.where(length_n > 0, length, np.nan),
        "nearest_m": np.where(np.isfinite(nearest), nearest, np.nan),
    }


def _union_overlaps(
    ov: OverlayResult, passes: list, sites: np.ndarray, geoms: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Area and length of the union of the overlap pieces of ``sites`` (positions) with the
    layers of ``passes``: polygon pieces for the area, line pieces for the length (snapped to
    :data:`zoning.overlay.LINE_GRID_M`, so collinear pieces of two layers merge).

    A line site overlapped by polygon layers only is measured without pieces: the line
    inside the union of those layers' features (:func:`_line_in_polygons`).  The other pieces
    come from ``ov.pieces``; when they were not built (``pieces=False``) the engine builds them
    for the remaining sites only.
    """
    out_area = np.zeros(len(sites))
    out_length = np.zeros(len(sites))
    direct = np.zeros(len(sites), dtype=bool)
    for j in np.flatnonzero(shapely.get_dimensions(geoms[sites]) == 1):
        with np.errstate(invalid="ignore"):
            here = [p for p in passes if p.ln[sites[j]] > 0]
        if here and all(p.layer.index.family == _POLY for p in here):
            out_length[j] = _line_in_polygons(geoms[sites[j]], [p.layer.index for p in here])
            direct[j] = True
    rest = sites[~direct]
    if not len(rest):
        return out_area, out_length
    layer_ids = {p.layer_id for p in passes}
    pieces = ov.pieces
    if len(pieces):
        pieces = pieces[pieces["layer_id"].isin(layer_ids) & pieces["site"].isin(rest)]
        site = pieces["site"].to_numpy(dtype=np.int64)
    else:
        sub = overlay(
            geoms[rest],
            np.asarray(rest, dtype=object),
            [p.layer for p in passes],
            search_radius_m=0.0,
            pieces=True,
            rings=False,
        )
        pieces = sub.pieces
        site = np.asarray(rest)[pieces["site"].to_numpy(dtype=np.int64)]
    g = pieces.geometry.to_numpy()
    pos = np.searchsorted(sites, site)
    for dim, out in ((2, out_area), (1, out_length)):
        sel = shapely.get_dimensions(g) == dim
        if not sel.any():
            continue
        frame = pd.DataFrame({"pos": pos[sel], "g": g[sel]})
        for k, part in frame.groupby("pos", sort=False)["g"]:
            parts = part.to_numpy()
            if dim == 2:
                out[int(k)] = shapely.area(shapely.union_all(parts))
            else:
                out[int(k)] = shapely.length(shapely.union_all(parts, grid_size=LINE_GRID_M))
    return out_area, out_length


def _line_in_polygons(line, indexes: list) -> float:
    """Length of ``line`` inside the union of the features of polygon layers ``indexes``.

    One intersection with the union of the feature pieces that meet the line: pieces of the
    line clipped by different layers hold the same stretch with vertices nanometres apart,
    which a union of the pieces (even snap-rounded) can count twice.
    """
    near = []
    for ix in indexes:
        near.append(ix.pieces[ix.piece_tree.query(line, predicate="intersects")])
    try:
        area = shapely.union_all(np.concatenate(near))
    except shapely.errors.GEOSException:  # near-coincident edges of two layers: snap-round
        area = shapely.union_all(np.concatenate(near), grid_size=LINE_GRID_M)
    return float(shapely.length(shapely.intersection(line, area)))
