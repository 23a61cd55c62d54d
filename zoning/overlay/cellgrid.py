"""CellGrid: a one-layer grid that places points without a geometry operation.

Also the cell helpers :class:`~zoning.overlay.pointgrid.PointGrid` shares with it: which cells a
feature boundary crosses (:func:`crossed_cells`) and, for the others, which feature each
connected region of clean cells lies in (:func:`features_at`, :func:`region_codes`).  Both
grids are exact: a cell a grid cannot decide says so, and its points get the exact test.

All coordinates are in :data:`zoning.crs.WORKING_CRS` (metres).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

#: Relative widening of the cell boxes a boundary is marked in (rounding in cell indices).
_EPS = 1e-6


#: The integer dtypes :func:`narrow_int` tries, narrowest first.
_INT_DTYPES = (np.int8, np.int16, np.int32, np.int64)


def int_dtype(lo: int, hi: int) -> np.dtype:
    """The narrowest signed integer dtype holding every integer from ``lo`` to ``hi``.

    Parameters
    ----------
    lo, hi : int

    Returns
    -------
    numpy.dtype
        ``int8``, ``int16``, ``int32`` or ``int64``.

    Raises
    ------
    ValueError
        When the range does not fit 64 bits.
    """
    for dtype in _INT_DTYPES:
        info = np.iinfo(dtype)
        if info.min <= lo and hi <= info.max:
            return np.dtype(dtype)
    raise ValueError(f"values from {lo} to {hi} do not fit 64 bits")


def narrow_int(values: np.ndarray) -> np.ndarray:
    """An integer array in the narrowest signed dtype that holds every one of its values.

    Parameters
    ----------
    values : array of integers

    Returns
    -------
    array
        The same values (checked element by element after the conversion), as ``int8``,
        ``int16``, ``int32`` or ``int64``.

    Raises
    ------
    TypeError
        For an array that is not of integers.
    ValueError
        When the converted values differ from the originals (never expected: the range is
        checked first; the check makes a narrowing that loses values impossible).
    """
    values = np.asarray(values)
    if values.dtype.kind not in "iu":
        raise TypeError(f"narrow_int takes integers, not {values.dtype}")
    if not values.size:
        return values.astype(np.int8)
    lo, hi = int(values.min()), int(values.max())
    for dtype in _INT_DTYPES:
        info = np.iinfo(dtype)
        if info.min <= lo and hi <= info.max:
            if values.dtype == dtype:
                return values
            out = values.astype(dtype)
            if not np.array_equal(out, values):
                raise ValueError(f"values do not fit {np.dtype(dtype).name}")
            return out
    raise ValueError(f"values from {lo} to {hi} do not fit 64 bits")


def crossed_cells(
    chunks: np.ndarray,
    x0: float,
    y0: float,
    size: float,
    owner: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cells (column, row; unbounded) that the boundary chunks cross, with the chunk owners.

    Every boundary is sampled at half a cell; a sub-segment that short lies within the cells
    its bounding box spans (at most 2 x 2), and the box is widened by a millionth of a cell so
    that rounding in the sampling or in a point's cell index cannot leave a boundary point in an
    unmarked cell (then at most 3 x 3 cells).  Cell ``(cx, cy)`` covers
    ``x0 + cx*size <= x < x0 + (cx+1)*size`` and the same in y.

    Returns
    -------
    cx, cy : arrays of int64
        One entry per (sub-segment, cell) mark; a cell may appear many times.
    by : array of int64
        The ``owner`` of the chunk each mark comes from (-1 when ``owner`` is None).

    Notes
    -----
    Cost: one ``segmentize`` of the chunks and a few numpy passes over the samples.
    """
    if not len(chunks):
        e = np.empty(0, dtype=np.int64)
        return e, e.copy(), e.copy()
    seg = shapely.segmentize(chunks, size / 2)
    xy, idx = shapely.get_coordinates(seg, return_index=True)
    same = np.flatnonzero(idx[1:] == idx[:-1])
    by = (
        np.full(len(same), -1, dtype=np.int64)
        if owner is None
        else np.asarray(owner, dtype=np.int64)[idx[same]]
    )
    lo, span = [], []
    for k, origin in ((0, x0), (1, y0)):
        u = (xy[:, k] - origin) / size
        a, c = u[same], u[same + 1]
        first = np.floor(np.minimum(a, c) - _EPS).astype(np.int64)
        last = np.floor(np.maximum(a, c) + _EPS).astype(np.int64)
        lo.append(first)
        span.append(last - first)
    del xy, idx
    out_x, out_y, out_o = [lo[0]], [lo[1]], [by]
    # Sub-segments whose (widened) box reaches into a second column or row: the other cells.
    wide = np.flatnonzero((span[0] > 0) | (span[1] > 0))
    if len(wide):
        lx, ly, sx, sy, bw = lo[0][wide], lo[1][wide], span[0][wide], span[1][wide], by[wide]
        for dx in range(int(sx.max()) + 1):
            for dy in range(int(sy.max()) + 1):
                if dx == dy == 0:
                    continue
                m = (sx >= dx) & (sy >= dy)
                out_x.append(lx[m] + dx)
                out_y.append(ly[m] + dy)
                out_o.append(bw[m])
    return np.concatenate(out_x), np.concatenate(out_y), np.concatenate(out_o)


def features_at(tree: shapely.STRtree, owner: np.ndarray, x: np.ndarray, y: np.ndarray):
    """The feature each point lies in: -1 none, ``k`` feature ``k`` only, -2 several.

    Parameters
    ----------
    tree : shapely.STRtree
        Indexes the features' pieces.
    owner : array of int
        The feature of every piece.
    x, y : arrays of float
        The points (working CRS).

    Returns
    -------
    array of int64
        One code per point.

    Notes
    -----
    Meant for points at least a millionth of a metre from every boundary (cell centres),
    where the pieces answer exactly as the original features do.  Cost: one STRtree
    ``intersects`` query of the points.
    """
    n = len(x)
    out = np.full(n, -1, dtype=np.int64)
    if not n:
        return out
    pi, gi = tree.query(shapely.points(x, y), predicate="intersects")
    if not len(pi):
        return out
    feats = np.asarray(owner, dtype=np.int64)[gi]
    out[pi] = feats
    pairs = np.unique(np.stack([pi, feats], axis=1), axis=0)
    multi = np.bincount(pairs[:, 0], minlength=n) > 1
    out[multi] = -2
    return out


def region_codes(
    mixed: np.ndarray, tree: shapely.STRtree, owner: np.ndarray, x0: float, y0: float, size: float
) -> np.ndarray:
    """Per cell of a grid: the feature its points lie in.

    Parameters
    ----------
    mixed : array of bool, shape (ny, nx)
        The cells a boundary crosses.
    tree, owner : shapely.STRtree, array of int
        The features' pieces and the feature of every piece (see :func:`features_at`).
    x0, y0, size : float
        The grid's lower-left corner and cell size (m).

    Returns
    -------
    array of int32, shape (ny, nx)
        ``-2`` crossed (or in several features), ``-1`` outside every feature, ``k`` inside
        feature ``k`` only.

    Notes
    -----
    A cell no boundary crosses is wholly inside or outside each feature, and so is every cell
    it connects to without crossing a boundary cell: the connected regions of clean cells are
    labelled and one centre per region is tested (:func:`features_at`; a centre is half a cell
    from any boundary, so the pieces in ``tree`` answer for it exactly as the features do).
    """
    from scipy import ndimage

    ny, nx = mixed.shape
    code = np.full((ny, nx), -1, dtype=np.int32)
    labels, n_regions = ndimage.label(~mixed)
    if n_regions:
        flat = labels.ravel()
        first_cell = np.full(n_regions + 1, -1, dtype=np.int64)
        cells = np.flatnonzero(flat)
        first_cell[flat[cells[::-1]]] = cells[::-1]
        iy, jx = np.divmod(first_cell[1:], nx)
        value = features_at(tree, owner, x0 + (jx + 0.5) * size, y0 + (iy + 0.5) * size)
        code = np.r_[-2, value].astype(np.int32)[labels]
    code[mixed] = -2
    return code


@dataclass
class CellGrid:
    """A grid over a polygon or line layer: each cell is empty, inside one feature, or "mixed".

    Built with :meth:`build`; the fields are described below and in the attribute comments.

    ``code[iy, ix]`` is ``-1`` when the cell touches no feature, ``k >= 0`` when it lies wholly
    inside feature ``k`` and no other, and ``-2`` when a boundary crosses it (or passes within a
    millionth of a cell of it) or features overlap there (points in those cells get the exact
    test).  Cell ``(iy, ix)`` covers ``x0 + ix*size <= x < x0 + (ix+1)*size`` (and the same in y).

    A cell is *crossed* when the bounding box of a boundary stretch at most half a cell long,
    widened by a millionth of a cell, reaches it.  Every boundary point lies in a crossed cell,
    and a boundary passes within one diagonal of every crossed cell's centre (half a diagonal to
    a point the box shares with the cell, half a diagonal across the box).  ``nearest`` gives,
    per cell, the crossed cell whose centre is nearest; ``crossed`` and ``crossed_by`` list the
    crossed cells and two of the features whose boundaries cross each (the smallest and the
    largest feature position; the same twice when one does).  Hence per point (see
    :meth:`bounds`) a lower and an upper bound on its distance to any boundary, and an upper
    bound on its distance to the boundary of a feature that crosses the nearest crossed cell.
    """

    x0: float
    y0: float
    size: float
    #: Per cell: -2, -1 or the feature (the narrowest integer dtype that holds them).
    code: np.ndarray
    #: Per cell: the flat index (``iy * nx + ix``) of the nearest crossed cell.
    nearest: np.ndarray
    #: The crossed cells' flat indices, ascending, and two features crossing each, shape (k, 2)
    #: (both in the narrowest integer dtypes that hold them).
    crossed: np.ndarray
    crossed_by: np.ndarray

    @classmethod
    def build(
        cls,
        pieces: np.ndarray,
        owner: np.ndarray,
        chunks: np.ndarray,
        size: float,
        chunk_owner: np.ndarray | None = None,
        *,
        lines: bool = False,
    ) -> CellGrid:
        """Build the grid from a layer's pieces and boundary chunks.

        Parameters
        ----------
        pieces, owner : the layer's polygon pieces and the feature each belongs to
        chunks : the layer's boundary chunks (every boundary, holes included)
        size : cell size (m)
        chunk_owner : the feature each chunk belongs to (unknown: -1 for every crossed cell)
        lines : the pieces are lines: every cell a boundary does not cross is outside them

        Notes
        -----
        Cost: one sampling of every boundary at half a cell, a connected-component labelling and
        a Euclidean distance transform of the grid (scipy.ndimage), one point-in-polygon test
        per connected region of clean cells.  Memory: two int32 per cell.
        """
        from scipy import ndimage

        b = shapely.total_bounds(pieces)
        x0, y0 = b[0] - size, b[1] - size
        nx = int(np.ceil((b[2] + size - x0) / size)) + 1
        ny = int(np.ceil((b[3] + size - y0) / size)) + 1
        # Cells a boundary crosses (see crossed_cells), and the features whose
        # boundaries cross each.
        cx, cy, seg_owner = crossed_cells(chunks, x0, y0, size, chunk_owner)
        cells_all = np.clip(cy, 0, ny - 1) * nx + np.clip(cx, 0, nx - 1)
        mixed = np.zeros((ny, nx), dtype=bool)
        mixed.ravel()[cells_all] = True
        order = np.lexsort((seg_owner, cells_all))
        cells_all, owners_all = cells_all[order], seg_owner[order]
        starts = np.flatnonzero(np.r_[True, cells_all[1:] != cells_all[:-1]])
        ends = np.r_[starts[1:], len(cells_all)] - 1
        crossed = cells_all[starts]
        crossed_by = np.stack([owners_all[starts], owners_all[ends]], axis=1).astype(np.int32)
        # Every other cell is wholly inside or outside each feature (region_codes;
        # a centre in two features, where they overlap, leaves its region to the exact test).
        if lines:
            code = np.where(mixed, -2, -1).astype(np.int32)
        else:
            code = region_codes(mixed, shapely.STRtree(pieces), owner, x0, y0, size)
        near_iy, near_ix = ndimage.distance_transform_edt(
            ~mixed, return_distances=False, return_indices=True
        )
        # Narrow integer dtypes, from the ranges the values can take (int8 codes for up to 126
        # features): a quarter of the memory, and of what the index cache writes and reads.
        top = max([0, *(int(np.max(o)) for o in (owner, chunk_owner) if o is not None and len(o))])
        cell_t, feature_t = int_dtype(0, ny * nx - 1), int_dtype(-2, top)
        nearest = (near_iy.astype(np.int64) * nx + near_ix).astype(cell_t)
        code, crossed = code.astype(feature_t), crossed.astype(cell_t)
        crossed_by = crossed_by.astype(feature_t)
        return cls(float(x0), float(y0), float(size), code, nearest, crossed, crossed_by)

    def _cells(self, x: np.ndarray, y: np.ndarray):
        with np.errstate(invalid="ignore"):
            fx = np.floor((np.asarray(x, dtype=float) - self.x0) / self.size)
            fy = np.floor((np.asarray(y, dtype=float) - self.y0) / self.size)
        ny, nx = self.code.shape
        inside = np.isfinite(fx) & np.isfinite(fy) & (fx >= 0) & (fx < nx) & (fy >= 0) & (fy < ny)
        ix = np.where(inside, fx, 0).astype(np.int64)
        iy = np.where(inside, fy, 0).astype(np.int64)
        return ix, iy, inside

    def _edge(self, ix: np.ndarray, iy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distance (m) between cell centres and their nearest crossed cell's, and that cell."""
        near = self.nearest[iy, ix].astype(np.int64)
        niy, nix = np.divmod(near, self.code.shape[1])
        return np.hypot(ix - nix, iy - niy) * self.size, near

    def lookup(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The cell code of every point.

        Parameters
        ----------
        x, y : arrays of float
            The points (working CRS).

        Returns
        -------
        array of int32
            ``code`` of each point's cell (-1 outside the grid).
        """
        ix, iy, inside = self._cells(x, y)
        out = np.full(len(ix), -1, dtype=np.int32)
        out[inside] = self.code[iy[inside], ix[inside]]
        return out

    def edge_lower_bound(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """A lower bound (m) on each point's distance to any feature boundary: the ``lower``
        of :meth:`bounds` for points ``x``, ``y`` (working CRS).

        Returns
        -------
        array of float
            One bound per point: a boundary lies only in crossed cells, within half
            a diagonal of their centre, and the point within half a diagonal of its own cell's
            centre.
        """
        return self.bounds(x, y)[1]

    def bounds(
        self, x: np.ndarray, y: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per point: cell code, bounds (m) on the distance to any boundary, nearest crossed cell.

        Returns
        -------
        code : array of int32
            As :meth:`lookup`.
        lower, upper : arrays of float
            ``lower <= distance to the nearest feature boundary <= upper``: the distance
            between the centres of the point's cell and of the nearest crossed cell, less one
            diagonal, plus one and a half (see the class notes).  Off the grid: the distance to
            the grid (every boundary lies inside it) and infinity.
        near : array of int64
            The flat index of that nearest crossed cell (-1 off the grid); :meth:`crossing`
            names two features whose boundaries cross it, so lie within ``upper`` of the point.

        Notes
        -----
        Cost: a few numpy operations per point, no geometry.
        """
        ix, iy, inside = self._cells(x, y)
        n = len(ix)
        code = np.full(n, -1, dtype=np.int32)
        lower = np.zeros(n)
        upper = np.full(n, np.inf)
        out = ~inside
        if out.any():
            ny, nx = self.code.shape
            x1, y1 = self.x0 + nx * self.size, self.y0 + ny * self.size
            xo = np.asarray(x, dtype=float)[out]
            yo = np.asarray(y, dtype=float)[out]
            dx = np.maximum(np.maximum(self.x0 - xo, xo - x1), 0.0)
            dy = np.maximum(np.maximum(self.y0 - yo, yo - y1), 0.0)
            with np.errstate(invalid="ignore"):
                lower[out] = np.nan_to_num(np.hypot(dx, dy) * (1 - 1e-9), nan=0.0)
        near = np.full(n, -1, dtype=np.int64)
        ix, iy = ix[inside], iy[inside]
        code[inside] = self.code[iy, ix]
        edge, near[inside] = self._edge(ix, iy)
        diag = self.size * np.sqrt(2.0)
        lower[inside] = edge - diag * (1 + 1e-5)
        upper[inside] = edge + 1.5 * diag * (1 + 1e-5)
        return code, lower, upper, near

    def crossing(self, near: np.ndarray) -> np.ndarray:
        """Two features whose boundaries cross each crossed cell.

        Parameters
        ----------
        near : array of int
            Flat indices of crossed cells (the ``near`` of :meth:`bounds`; -1 for none).

        Returns
        -------
        array of int32, shape (n, 2)
            Two feature positions per cell (the same twice when one feature crosses it; -1
            for -1).
        """
        near = np.asarray(near, dtype=np.int64)
        out = np.full((len(near), 2), -1, dtype=np.int32)
        ok = near >= 0
        if ok.any() and len(self.crossed):
            pos = np.minimum(np.searchsorted(self.crossed, near[ok]), len(self.crossed) - 1)
            out[ok] = self.crossed_by[pos]
        return out
