"""OverlayResult, the per-layer pass arrays and the hits and summary tables built from them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd

from ..schema import HIT_COLUMNS, RELATIONS, STANDARD_ATTRIBUTES, SUMMARY_COLUMNS
from .frames import Blocks
from .index import LayerInput
from .rings import _ring_of

_HIT_COLUMNS = list(HIT_COLUMNS)
_SUMMARY_COLUMNS = list(SUMMARY_COLUMNS)
_PIECE_COLUMNS = [
    "site",
    "site_id",
    "layer_id",
    "kind",
    "feature_id",
    "overlap_m2",
    "overlap_length_m",
]


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


def _status_rows(n, site_ids, layer_id, kind, status) -> tuple[int, dict]:
    return n, {
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


_RELATIONS = np.array(RELATIONS, dtype=object)


def _pair_frame(p: _LayerPass, ids: np.ndarray, rows: np.ndarray | None, site_col) -> tuple:
    """The hits-table rows of one layer pass (``rows`` of its pairs, all when None): their
    number and the columns (:class:`~zoning.overlay.frames.Blocks`)."""
    L = p.layer
    take = (lambda a: a) if rows is None else (lambda a: a[rows])
    s, f = take(p.ps), take(p.pf)
    fids = L.column("feature_id")
    om2 = take(p.overlap_m2)
    dist = take(p.dist)
    frame = {
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
    for col in STANDARD_ATTRIBUTES:
        vals = L.column(col)
        frame[col] = vals[f] if vals is not None and len(f) else np.full(len(f), None)
    return len(s), frame


def _summary_frame(
    p: _LayerPass, ids: np.ndarray, sites: np.ndarray | None, outside: np.ndarray | None
) -> tuple:
    """The layer-summary rows of one layer pass (``sites``, all when None; renumbered): their
    number and the columns (:class:`~zoning.overlay.frames.Blocks`)."""
    L = p.layer
    n_all = len(p.hit)
    take = (lambda a: a) if sites is None else (lambda a: a[sites])
    near = take(p.nearest)
    fids = L.column("feature_id")
    nearest = np.full(len(near), None, dtype=object)
    has = near >= 0
    nearest[has] = fids[near[has]]
    status: object = "ok"
    if outside is not None and take(outside).any():
        status = np.where(take(outside), "outside_coverage", "ok").astype(object)
    sdist = take(p.sdist)
    n = n_all if sites is None else len(sites)
    return n, {
        "site": np.arange(n),
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


class OverlayResult:
    """What the engine found (see :func:`~zoning.overlay.overlay`).

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
        """The per-layer results as arrays, in layer order (layers that loaded)."""
        return [e for e in self.entries if isinstance(e, _LayerPass)]

    @cached_property
    def hits(self) -> pd.DataFrame:
        """One row per site x feature that intersects, touches or lies nearby (cached)."""
        return self._hits(None)

    @cached_property
    def layer_summary(self) -> pd.DataFrame:
        """One row per site x layer (and per missing kind) (cached)."""
        return self._summary(None)

    def tables_for(self, sites: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
        """``(hits, layer_summary)`` restricted to some sites.

        Parameters
        ----------
        sites : array of int
            Site positions, ascending.

        Returns
        -------
        hits, layer_summary : DataFrame
            As :attr:`hits` and :attr:`layer_summary`, for these sites only.

        Notes
        -----
        ``site`` is renumbered to the position in ``sites``; rows keep their relative order, so
        the rules see the same rows, in the same order, for each of these sites.
        """
        sites = np.asarray(sites, dtype=np.int64)
        return self._hits(sites), self._summary(sites)

    def _hits(self, sites: np.ndarray | None) -> pd.DataFrame:
        frames = Blocks(_HIT_COLUMNS)
        new = None
        if sites is not None:
            new = np.full(len(self.site_ids), -1, dtype=np.int64)
            new[sites] = np.arange(len(sites))
        for p in self.passes:
            if new is None:
                frames.add(*_pair_frame(p, self.site_ids, None, lambda s: s))
            else:
                rows = np.flatnonzero(new[p.ps] >= 0)
                frames.add(*_pair_frame(p, self.site_ids, rows, lambda s: new[s]))
        if not len(frames):
            return pd.DataFrame({c: [] for c in _HIT_COLUMNS})[_HIT_COLUMNS]
        return frames.frame()

    def _summary(self, sites: np.ndarray | None) -> pd.DataFrame:
        n = len(self.site_ids) if sites is None else len(sites)
        ids = self.site_ids if sites is None else self.site_ids[sites]
        frames = Blocks(_SUMMARY_COLUMNS)
        for e in self.entries:
            if isinstance(e, _LayerPass):
                frames.add(*_summary_frame(e, self.site_ids, sites, self.outside))
            else:
                frames.add(*_status_rows(n, ids, *e))
        if not len(frames):
            return pd.DataFrame({c: [] for c in _SUMMARY_COLUMNS})[_SUMMARY_COLUMNS]
        return frames.frame()
