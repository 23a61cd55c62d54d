"""LayerIndex, everything the engine needs about one layer, and LayerInput."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.errors import GEOSException

from ..errors import quote
from ..layerset import Layer, register_derived
from .cellgrid import CellGrid
from .constants import DEFAULT_RINGS_M, LINE_GRID_M, NEAR_BOUNDARY_M
from .distance import boundaries_near, boundaries_within, features_near
from .families import _LINE, _POINT, _POLY, _family
from .pairs import _empty_pairs, _in_sorted
from .persist import PERSISTED, dump_part, load_part
from .subdivide import boundary_chunks, subdivide

log = logging.getLogger(__name__)


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
        :data:`~zoning.overlay.constants.DEFAULT_RINGS_M`).  Declared rings (the catalog's
        ``buffer_rings_m``) are searched to the outermost even beyond the search radius
        (:func:`~zoning.overlay.overlay`).
    store : zoning.io.layercache.LayerStore, keyword-only, optional
        The layer's entries in the index cache: the derived data
        (:data:`~zoning.overlay.persist.PERSISTED`) is loaded from it when there, and written to
        it when first computed.  Only for indexes of that layer's features.

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
        store: Any = None,
    ):
        self.store = store
        self.geoms = np.asarray(geoms, dtype=object)
        self.n = len(self.geoms)
        tol = float(tolerance_m or 0.0)
        if not np.isfinite(tol) or tol < 0:
            raise ValueError(f"tolerance_m must be a distance >= 0 m, not {quote(tolerance_m)}")
        self.tolerance_m = tol
        rings = tuple(float(r) for r in (rings_m or DEFAULT_RINGS_M))
        if any(not np.isfinite(r) or r <= 0 for r in rings) or sorted(set(rings)) != list(rings):
            raise ValueError(
                f"rings_m must be distinct positive distances in ascending order, not "
                f"{quote(rings_m)}"
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

    def _cached(self, name: str, build: Any) -> Any:
        """A derived structure from the index cache, else built (and then stored)."""
        store = self.store
        if store is None:
            return build()
        part = PERSISTED[name]
        got = store.load(part)
        if got is not None:
            try:
                return load_part(name, *got, self.n)
            except (ValueError, KeyError, TypeError, GEOSException) as exc:
                store.forget(part, " ".join(str(exc).split()) or type(exc).__name__)
        value = build()
        try:
            store.save(part, *dump_part(name, value))
        except (OSError, ValueError, TypeError) as exc:  # the cache never fails a screening
            log.warning("index cache part %s not written: %s", part, exc)
        return value

    @cached_property
    def _pieces(self) -> tuple[np.ndarray, np.ndarray]:
        def build() -> tuple[np.ndarray, np.ndarray]:
            if self.family == _POINT:
                parts, owner = shapely.get_parts(self.geoms, return_index=True)
                return parts, owner.astype(np.int64)
            return subdivide(self.geoms)

        return self._cached("_pieces", build)

    @property
    def pieces(self) -> np.ndarray:
        """The features cut into pieces of at most
        :data:`~zoning.overlay.constants.MAX_PIECE_VERTICES` vertices."""
        return self._pieces[0]

    @property
    def piece_owner(self) -> np.ndarray:
        """The feature index of every piece."""
        return self._pieces[1]

    @cached_property
    def piece_tree(self) -> shapely.STRtree:
        """An STRtree over the (prepared) pieces."""
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
        its intersections with these pieces (see :func:`~zoning.overlay.overlaps._site_measures`).
        """
        return self._cached("dissolved", self._dissolve)

    def _dissolve(self) -> tuple[np.ndarray, shapely.STRtree]:
        try:
            union = shapely.union_all(self.geoms)
        except GEOSException:  # robustness failure on near-coincident edges: snap-round
            union = shapely.union_all(self.geoms, grid_size=LINE_GRID_M)
        pieces, _ = subdivide(np.array([union], dtype=object))
        shapely.prepare(pieces)
        return pieces, shapely.STRtree(pieces)

    @cached_property
    def _chunks(self) -> tuple[np.ndarray, np.ndarray]:
        return self._cached("_chunks", lambda: boundary_chunks(self.geoms))

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
        """An STRtree over the boundary chunks."""
        return shapely.STRtree(self.chunks)

    @cached_property
    def grid(self) -> CellGrid | None:
        """The point pre-screen grid (polygon and line layers with features)."""
        return self._cached("grid", self._build_grid)

    def _build_grid(self) -> CellGrid | None:
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

    def _exact_pairs(
        self, geoms: np.ndarray, *, touching: bool = False, piece_pairs=None
    ) -> tuple[np.ndarray, ...]:
        """(geometry index, feature index) of every pair that intersects, exactly.

        The pieces decide, except for pairs within :data:`~zoning.overlay.constants.NEAR_BOUNDARY_M`
        of the feature's boundary: those intersect when they touch the boundary (an original chunk),
        and otherwise as the original feature says.  With ``touching``, a third array flags the
        pairs whose geometry touches the feature's boundary (found on the way).  ``piece_pairs``:
        the ``intersects`` query of ``geoms`` against :attr:`piece_tree`, if made already.
        """
        if not len(geoms) or not self.n:
            e = _empty_pairs()
            return (*e, np.zeros(0, dtype=bool)) if touching else e
        m = np.int64(self.n)
        if piece_pairs is None:
            piece_pairs = self.piece_tree.query(geoms, predicate="intersects")
        qi, pi = piece_pairs
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

        Parameters
        ----------
        x, y : arrays of float
            The points' coordinates (working CRS).
        code : array of int32, optional
            The points' grid codes (:meth:`CellGrid.lookup`), if looked up already.

        Returns
        -------
        points, features : arrays of int64
            One entry per (point, feature) pair, sorted by point, then feature.  Empty for
            point layers (use :meth:`intersecting`).

        Notes
        -----
        The grid answers for points in clean cells; the others get the exact test.  Identical
        to ``shapely.intersects(point, feature)`` on the original features.
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
        """(geometry index, feature index) pairs that intersect, deduplicated and exact.

        Parameters
        ----------
        geoms : array of shapely geometries
            Any geometries in the working CRS.

        Returns
        -------
        geometries, features : arrays of int64
            One entry per intersecting pair, sorted by geometry, then feature.

        Notes
        -----
        Cost: one STRtree query against the pieces and one against the boundary chunks; pairs within
        :data:`~zoning.overlay.constants.NEAR_BOUNDARY_M` of a boundary are decided on the original
        feature.
        """
        return self._exact_pairs(np.asarray(geoms, dtype=object))

    def near(
        self,
        geoms: np.ndarray,
        distance: float,
        boxes: np.ndarray | None = None,
        parts: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(geometry, feature, distance) for feature boundaries within ``distance``.

        Parameters
        ----------
        geoms : array of shapely geometries
            What distances are measured from (working CRS).
        distance : float
            How far to search (m).
        boxes, parts : optional
            Boxes built already, as in :func:`~zoning.overlay.distance.boundaries_near`.

        Returns
        -------
        geometries, features : arrays of int64
        distances : array of float
            The smallest distance of every pair within ``distance``, sorted by (geometry,
            feature).

        Notes
        -----
        Delegates to :func:`~zoning.overlay.distance.boundaries_near` (its Notes give the
        cost).
        """
        return boundaries_near(self, geoms, distance, boxes, parts)

    def within(
        self, geoms: np.ndarray, distance: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(geometry, feature, touches) for feature boundaries within ``distance`` of each geometry.

        Parameters
        ----------
        geoms : array of shapely geometries
            Working CRS.
        distance : array of float
            One distance (m) per geometry.

        Returns
        -------
        geometries, features : arrays of int64
        touches : array of bool
            Whether the geometry intersects the feature's boundary; sorted by (geometry,
            feature).

        Notes
        -----
        Delegates to :func:`~zoning.overlay.distance.boundaries_within`; no distance is
        measured.
        """
        return boundaries_within(self, geoms, distance)

    def outside_distance(
        self, geoms: np.ndarray, distance: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(geometry, feature, distance to the feature) for features within ``distance``.

        Parameters
        ----------
        geoms : array of shapely geometries
            Working CRS.
        distance : float
            How far to search (m).

        Returns
        -------
        geometries, features : arrays of int64
        distances : array of float
            The distance to the feature (0 for a geometry inside it), smallest per pair,
            sorted by (geometry, feature).

        Notes
        -----
        Delegates to :func:`~zoning.overlay.distance.features_near`: one STRtree query and
        one distance per pair.
        """
        return features_near(self, geoms, distance)


@dataclass
class LayerInput:
    """One layer as the engine sees it.

    Attributes
    ----------
    layer_id, kind : str
        The catalog's layer id and kind.
    index : LayerIndex
        The layer's features, indexed (None when the layer failed to load).
    attributes : DataFrame
        ``feature_id`` and any of :data:`~zoning.overlay.STANDARD_ATTRIBUTES`, one row per
        feature in the order of ``index.geoms`` (None when the layer failed to load).
    status : str
        ``"ok"`` or ``"failed"``.
    error : str or None
        Why the layer failed to load.
    """

    layer_id: str
    kind: str
    index: LayerIndex
    attributes: pd.DataFrame  # feature_id + STANDARD_ATTRIBUTES, positional
    status: str = "ok"  # ok | failed
    error: str | None = None

    def column(self, name: str) -> np.ndarray | None:
        """One column of :attr:`attributes` as an object array (None: the layer has none).

        Parameters
        ----------
        name : str
            ``feature_id`` or one of :data:`~zoning.overlay.STANDARD_ATTRIBUTES`.

        Returns
        -------
        array or None
            Kept with the index (a warm layer set reads each column once, not once per
            screening); read-only.
        """
        cache = self.index.__dict__.get("_columns")
        if cache is None or cache[0] is not self.attributes:
            cache = (self.attributes, {})
            self.index.__dict__["_columns"] = cache
        cols = cache[1]
        if name not in cols:
            attrs = self.attributes
            cols[name] = attrs[name].to_numpy(dtype=object) if name in attrs else None
        return cols[name]


def layer_index(layer: Layer) -> LayerIndex:
    """Build the engine's index of a loaded catalog layer.

    Parameters
    ----------
    layer : zoning.Layer
        A loaded layer (working CRS); its catalog entry gives the positional tolerance and
        the buffer rings.

    Returns
    -------
    LayerIndex

    Notes
    -----
    Registered with :func:`zoning.layerset.register_derived` as ``"index"``, so
    ``layer.index`` builds it once and keeps it with the layer.
    """
    return LayerIndex(
        layer.gdf.geometry.to_numpy(),
        tolerance_m=layer.entry.positional_tolerance_m or 0.0,
        rings_m=layer.entry.buffer_rings_m,
        store=layer.store,
    )


register_derived("index", layer_index)
