"""PointGrid: places points with respect to every layer of a screening at once.

For containment screenings of many points (``search_radius_m=0``).  One look-up gives, per
layer, the feature a point lies in and whether it is boundary-sensitive (a feature boundary
within the layer's positional tolerance); cells a boundary crosses are refined into
:data:`BLOCK` x :data:`BLOCK` sub-cells, and sensitivity near the tolerance is settled by the
distance to boundary samples (:class:`~zoning.overlay.samples.BoundarySamples`) before any GEOS
call.  The grid is exact: a cell it cannot decide says so, and its points get the exact test.

All coordinates are in :data:`zoning.crs.WORKING_CRS` (metres).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely

from .cellgrid import crossed_cells, features_at, region_codes
from .samples import _SLACK_M, BoundarySamples

log = logging.getLogger(__name__)

#: Sub-cells per side of a refined cell of a :class:`PointGrid`.
BLOCK = 8
#: Largest number of first-level cells of a :class:`PointGrid` (the cell size grows to fit).
POINT_GRID_CELLS = 4_000_000
#: Smallest first-level cell of a :class:`PointGrid` (m).
POINT_GRID_MIN_CELL_M = 25.0
#: Boundary samples for the distance test lie at most this fraction of a first-level cell apart.
SAMPLE_FRACTION = 0.25

# Per-layer state of a cell or sub-cell: the feature code (-1 none, k >= 0 feature k alone,
# -2 undecided: a boundary crosses it, or features overlap there) and the sensitivity
# (0 no boundary within the tolerance, 1 one within it, 2 undecided), packed as
# (code + 2) * 3 + sens >= 0.  -1 in a first-level cell: look in the layer's sub-cells.
_REFINED = -1


def _pack(code: np.ndarray, sens: np.ndarray) -> np.ndarray:
    return (code.astype(np.int64) + 2) * 3 + sens


@dataclass
class _LayerCells:
    """One layer's part of a :class:`PointGrid`."""

    #: Flat indices (ascending) of the first-level cells whose sub-cells are stored.
    refined: np.ndarray
    #: Packed states of their sub-cells, shape (len(refined), BLOCK, BLOCK).
    sub: np.ndarray
    samples: BoundarySamples | None
    tolerance_m: float


class PointGrid:
    """Places points with respect to several layers at once (containment screenings).

    Parameters
    ----------
    indexes : sequence of :class:`zoning.overlay.LayerIndex`
        Polygon or line layers with features; each layer's ``tolerance_m`` is the distance
        within which a boundary makes a point boundary-sensitive.

    Notes
    -----
    A first-level cell holds a *combination*: per layer, the feature its points lie in (or
    none) and whether every point of it lies within the layer's tolerance of a boundary, beyond
    it, or either.  Cells a layer's boundary crosses (or where its features overlap) are cut
    into :data:`BLOCK` x :data:`BLOCK` sub-cells for that layer; sub-cells no boundary crosses
    take the feature of the clean neighbouring cell they touch, or one exact point-in-polygon test
    per connected region.  Sensitivity: cells are proven within or beyond the tolerance by the
    distance to the nearest crossed cell (a distance transform), or else by the distance of the cell
    centre to the layer's :class:`~zoning.overlay.samples.BoundarySamples`; points of the cells left
    undecided are measured against the samples when screened, and only those whose distance the
    samples cannot settle (within half a sample spacing of the tolerance) need GEOS.

    A point the grid places is placed exactly as ``shapely.intersects`` and
    ``shapely.dwithin(point, boundary, tolerance + 1e-9)`` on the original features would
    place it: every bound carries a slack far above the rounding of the coordinates.  In
    layers whose features overlap, a point inside a feature is left to the exact test for
    sensitivity (the boundary near it may belong to another feature).

    Cost: per layer one boundary sampling at half a cell and at half a sub-cell, a distance
    transform and a connected-component labelling of the first-level cells, a k-d tree of
    boundary samples, and point-in-polygon tests for a few regions; a few seconds per dense
    layer, once (the grid is cached with the layers' indexes).  Memory: one int32 per
    first-level cell, two bytes per stored sub-cell and the k-d trees.
    """

    def __init__(self, indexes: Sequence[Any]):
        from scipy import ndimage

        self.indexes = tuple(indexes)
        if not self.indexes:
            raise ValueError("a PointGrid needs at least one layer")
        bounds = np.array([shapely.total_bounds(ix.chunks) for ix in self.indexes])
        tol = max(float(ix.tolerance_m) for ix in self.indexes)
        w = bounds[:, 2].max() - bounds[:, 0].min()
        h = bounds[:, 3].max() - bounds[:, 1].min()
        size = max(POINT_GRID_MIN_CELL_M, float(np.sqrt(max(w * h, 1.0) / POINT_GRID_CELLS)))
        # Every boundary, and everything within the largest tolerance of one, is on the grid.
        margin = tol + 2 * size
        self.x0 = float(bounds[:, 0].min() - margin)
        self.y0 = float(bounds[:, 1].min() - margin)
        self.size = size
        self.nx = int(np.ceil((w + 2 * margin) / size)) + 1
        self.ny = int(np.ceil((h + 2 * margin) / size)) + 1
        self.sub_size = size / BLOCK
        self.layers: list[_LayerCells] = []
        states = np.empty((len(self.indexes), self.ny * self.nx), dtype=np.int32)
        for j, ix in enumerate(self.indexes):
            states[j], cells = self._layer(ix, ndimage)
            self.layers.append(cells)
        # Combinations: factorise the per-layer states cell by cell, one layer at a time.
        key = np.zeros(self.ny * self.nx, dtype=np.int64)
        for j in range(len(self.indexes)):
            radix = int(states[j].max()) + 2
            key = pd.factorize(key * radix + (states[j].astype(np.int64) + 1))[0]
        n_combo = int(key.max()) + 1
        first = np.empty(n_combo, dtype=np.int64)
        first[key[::-1]] = np.arange(len(key) - 1, -1, -1)
        self.combo = key.astype(np.int32).reshape(self.ny, self.nx)
        self.table = states[:, first].T.copy()  # (n combinations, n layers)
        del states
        # Off the grid: no feature, no boundary within any tolerance.
        outside = _pack(np.full(len(self.indexes), -1), np.zeros(len(self.indexes), np.int64))
        self.table = np.vstack([self.table, outside.astype(np.int32)[None, :]])
        self.n_combinations = len(self.table)
        log.info(
            "point grid: %d x %d cells of %.1f m, %d combinations, %d refined cells",
            self.nx,
            self.ny,
            size,
            self.n_combinations,
            sum(len(c.refined) for c in self.layers),
        )

    # ------------------------------------------------------------------ building

    def _layer(self, ix: Any, ndimage: Any) -> tuple[np.ndarray, _LayerCells]:
        """The first-level states of one layer and its refined cells."""
        nx, ny, size = self.nx, self.ny, self.size
        ncell = nx * ny
        lines = ix.family == 1
        tol = float(ix.tolerance_m)
        # Crossed cells, and two of the features whose boundaries cross each (the smallest
        # and the largest position: all of them when at most two do).
        cx, cy, by = crossed_cells(ix.chunks, self.x0, self.y0, size, ix.chunk_owner)
        ok = (cx >= 0) & (cx < nx) & (cy >= 0) & (cy < ny)
        flat = cy[ok] * nx + cx[ok]
        by = by[ok]
        del cx, cy, ok
        mixed = np.zeros(ncell, dtype=bool)
        mixed[flat] = True
        own_lo = np.full(ncell, np.iinfo(np.int32).max, dtype=np.int32)
        own_hi = np.full(ncell, -1, dtype=np.int32)
        np.minimum.at(own_lo, flat, by.astype(np.int32))
        np.maximum.at(own_hi, flat, by.astype(np.int32))
        del flat, by
        mixed = mixed.reshape(ny, nx)
        if lines:  # every cell a boundary does not cross is outside the lines
            code = np.where(mixed, -2, -1).astype(np.int32)
        else:
            code = region_codes(mixed, ix.piece_tree, ix.piece_owner, self.x0, self.y0, size)
        code_f = code.ravel()
        samples = None
        diag = size * np.sqrt(2.0)
        if tol > 0:
            # Bounds from the nearest crossed cell (see CellGrid.bounds): every point of a
            # cell lies within ``upper`` of a boundary crossing that cell, so of the boundary
            # of a feature crossing it, and no nearer than ``lower`` to any boundary.
            e, near = ndimage.distance_transform_edt(~mixed, return_indices=True)
            near = (near[0].astype(np.int64) * nx + near[1]).ravel()
            e = e.ravel() * size
            lower = e - diag * (1 + 1e-5) - _SLACK_M
            upper = e + 1.5 * diag * (1 + 1e-5) + _SLACK_M
            del e
            own = (own_lo[near] == code_f) | (own_hi[near] == code_f)
            within = upper <= tol
            del upper
            sens = np.full(ncell, 2, dtype=np.int8)
            sens[lower > tol] = 0
            del lower
            # Outside every feature the layer's boundaries count; inside a feature, its own.
            sens[within & ((code_f == -1) | own)] = 1
            # A refined cell keeps its own bound and the features its nearest crossed cell
            # records (its sub-cells are decided with them below).
            parent_site = np.where(within, 1, sens)
            parent_own = np.stack([own_lo[near], own_hi[near]], axis=1)
            del own, within, near
            samples = BoundarySamples(ix.chunks, ix.chunk_owner, size * SAMPLE_FRACTION)
            und = np.flatnonzero((sens == 2) & (code_f != -2))
            iy, jx = np.divmod(und, nx)
            half = diag / 2
            d_any, d_own = samples.nearest(
                self.x0 + (jx + 0.5) * size,
                self.y0 + (iy + 0.5) * size,
                code_f[und],
                tol + half + samples.spacing / 2 + 2 * _SLACK_M,
            )
            mine = np.where(code_f[und] >= 0, d_own, d_any)
            s_und = np.full(len(und), 2, dtype=np.int8)
            s_und[mine + half + _SLACK_M <= tol] = 1
            s_und[d_any - samples.spacing / 2 - half - _SLACK_M > tol] = 0
            sens[und] = s_und
        else:
            sens = np.where(mixed.ravel(), 2, 0).astype(np.int8)
            parent_site = sens
            parent_own = np.full((ncell, 2), -1, dtype=np.int32)
        states = _pack(code_f, sens).astype(np.int32)
        refined = np.flatnonzero(code_f == -2)
        states[refined] = _REFINED
        sub = self._refine(
            ix, refined, code, lines, tol, parent_site[refined], parent_own[refined], ndimage
        )
        return states, _LayerCells(refined, sub, samples, tol)

    def _refine(self, ix, refined, code, lines, tol, site, own, ndimage) -> np.ndarray:
        """Packed sub-cell states of the ``refined`` cells (code -2) of one layer.

        ``site``: per refined cell, its points' sensitivity to any boundary (0, 1, 2, as
        proven by the cell's bounds); ``own``: shape (k, 2), two features whose boundaries
        cross the cell's nearest crossed cell (the bound holds for their boundaries too).
        """
        nx, ny, k = self.nx, self.ny, len(refined)
        dtype = np.int16 if (ix.n + 2) * 3 < np.iinfo(np.int16).max else np.int32
        if not k:
            return np.empty((0, BLOCK, BLOCK), dtype=dtype)
        # Sub-cells a boundary crosses (marks outside the refined cells are dropped: those
        # cells hold no boundary point, so the first level is right about them).
        fx, fy, _ = crossed_cells(ix.chunks, self.x0, self.y0, self.sub_size)
        cell = (fy // BLOCK) * nx + (fx // BLOCK)
        ok = (fx >= 0) & (fy >= 0) & (fx < nx * BLOCK) & (fy < ny * BLOCK)
        pos = np.minimum(np.searchsorted(refined, cell), k - 1)
        ok &= refined[pos] == cell
        crossed = np.zeros((k, BLOCK, BLOCK), dtype=bool)
        crossed[pos[ok], fy[ok] % BLOCK, fx[ok] % BLOCK] = True
        del fx, fy, cell, pos, ok
        ry, rx = np.divmod(refined, nx)
        if lines:
            sub_code = np.where(crossed, -2, -1).astype(np.int64)
        else:
            structure = np.zeros((3, 3, 3), dtype=bool)
            structure[1] = [[0, 1, 0], [1, 1, 1], [0, 1, 0]]
            labels, n_lab = ndimage.label(~crossed, structure=structure)
            # A region touching a clean first-level neighbour lies in what that cell lies in
            # (the sub-cell and the cell share an edge and no boundary point); the others
            # get one exact test at a sub-cell centre.
            lo_v = np.full(n_lab + 1, np.iinfo(np.int64).max)
            hi_v = np.full(n_lab + 1, np.iinfo(np.int64).min)
            for dy, dx, lab in (
                (0, -1, labels[:, :, 0]),
                (0, 1, labels[:, :, -1]),
                (-1, 0, labels[:, 0, :]),
                (1, 0, labels[:, -1, :]),
            ):
                nyy, nxx = ry + dy, rx + dx
                inside = (nyy >= 0) & (nyy < ny) & (nxx >= 0) & (nxx < nx)
                nb = np.full(k, -2, dtype=np.int64)
                nb[inside] = code[nyy[inside], nxx[inside]]
                use = (lab > 0) & (nb != -2)[:, None]
                nb_u = np.broadcast_to(nb[:, None], lab.shape)[use]
                np.minimum.at(lo_v, lab[use], nb_u)
                np.maximum.at(hi_v, lab[use], nb_u)
            value = np.where(lo_v == hi_v, lo_v, -3)
            value[0] = -2
            todo = np.flatnonzero(value == -3)
            if len(todo):
                flat = labels.ravel()
                cells = np.flatnonzero(flat)
                first = np.full(n_lab + 1, -1, dtype=np.int64)
                first[flat[cells[::-1]]] = cells[::-1]
                b, rem = np.divmod(first[todo], BLOCK * BLOCK)
                sy, sx = np.divmod(rem, BLOCK)
                px = self.x0 + rx[b] * self.size + (sx + 0.5) * self.sub_size
                py = self.y0 + ry[b] * self.size + (sy + 0.5) * self.sub_size
                value[todo] = features_at(ix.piece_tree, ix.piece_owner, px, py)
            sub_code = value[labels]
            del labels
        # Sensitivity: tolerance 0 means on a boundary, so only crossed sub-cells are
        # undecided.  Otherwise the cell's bound holds for every sub-cell outside every
        # feature, and inside a feature when the bound is on that feature's boundary.
        if tol == 0:
            sub_sens = np.where(crossed, 2, 0)
        else:
            site_b = site[:, None, None]
            mine = (sub_code == own[:, 0, None, None]) | (sub_code == own[:, 1, None, None])
            sub_sens = np.where(site_b == 0, 0, 2) + np.zeros(crossed.shape, dtype=np.int64)
            sub_sens[(site_b == 1) & ((sub_code == -1) | ((sub_code >= 0) & mine))] = 1
        sub_sens[sub_code == -2] = 2  # the exact test measures these anyway
        return _pack(sub_code, sub_sens).astype(dtype)

    # ------------------------------------------------------------------ queries

    def classify(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per point and layer: the feature code and the sensitivity state.

        Returns
        -------
        code : array of int32, shape (n points, n layers)
            -1 in no feature, ``k`` in feature ``k`` only, -2 undecided (exact test).
        sens : array of int8, shape (n points, n layers)
            1 a boundary lies within the layer's tolerance, 0 none does, 2 undecided.

        Notes
        -----
        Cost: one cell look-up per point, and a sub-cell look-up per point and layer whose
        cell that layer's boundary crosses; no geometry.  The sensitivity is for the layer's
        own tolerance (a site's own uncertainty is added by the caller).
        """
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        with np.errstate(invalid="ignore"):
            fx = np.floor((x - self.x0) / self.size)
            fy = np.floor((y - self.y0) / self.size)
        on = np.isfinite(fx) & np.isfinite(fy) & (fx >= 0) & (fx < self.nx)
        on &= (fy >= 0) & (fy < self.ny)
        cell = np.where(on, fy * self.nx + fx, 0).astype(np.int64)
        combo = np.where(on, self.combo.ravel()[cell], self.n_combinations - 1)
        st = self.table[combo]  # (n, layers) packed states or _REFINED
        for j, lay in enumerate(self.layers):
            col = st[:, j]
            ref = np.flatnonzero(col == _REFINED)
            if not len(ref):
                continue
            c = cell[ref]
            b = np.searchsorted(lay.refined, c)
            iy, ix = np.divmod(c, self.nx)
            sx = np.floor((x[ref] - self.x0) / self.sub_size) - ix * BLOCK
            sy = np.floor((y[ref] - self.y0) / self.sub_size) - iy * BLOCK
            sx = np.clip(sx, 0, BLOCK - 1).astype(np.int64)
            sy = np.clip(sy, 0, BLOCK - 1).astype(np.int64)
            col[ref] = lay.sub[b, sy, sx]
        code = (st // 3 - 2).astype(np.int32)
        sens = (st % 3).astype(np.int8)
        return code, sens
