"""BoundarySamples: points along a layer's boundaries in a k-d tree, for distance bounds."""

from __future__ import annotations

import os

import numpy as np
import shapely

#: Slack (m) on every distance bound: rounding of coordinates (~1e-10 m here) is far smaller.
_SLACK_M = 1e-6


class BoundarySamples:
    """Points along a layer's boundaries at most ``spacing`` apart, in a k-d tree.

    The distance ``d`` from a point to a boundary and the distance ``d_s`` to the nearest
    sample of it satisfy ``d_s - spacing / 2 <= d <= d_s``: the samples lie on the boundary
    (the vertices and the points ``segmentize`` adds on the segments), and the boundary point
    nearest to the point has a sample within half a spacing along its segment.  Each sample
    keeps the feature it belongs to (a shared edge has samples of both features), so the same
    holds for the boundary of one feature among the nearest samples.

    Parameters
    ----------
    chunks : array of shapely geometries
        The layer's boundary chunks (:attr:`~zoning.overlay.LayerIndex.chunks`).
    owner : array of int
        The feature of every chunk.
    spacing : float
        The largest distance (m) between neighbouring samples.

    Notes
    -----
    Cost: one ``segmentize`` and a k-d tree build (scipy); a query is a few microseconds per
    point and runs on up to two threads.  Memory: about 50 bytes per sample.
    """

    #: Nearest samples looked at when the boundary of one feature is wanted (features that
    #: share an edge have coincident samples).
    K = 6

    def __init__(self, chunks: np.ndarray, owner: np.ndarray, spacing: float):
        from scipy.spatial import cKDTree

        self.spacing = float(spacing)
        xy, idx = shapely.get_coordinates(
            shapely.segmentize(chunks, self.spacing), return_index=True
        )
        self.owner = np.asarray(owner, dtype=np.int32)[idx]
        self.tree = cKDTree(xy, balanced_tree=False, compact_nodes=False)

    def nearest(
        self, x: np.ndarray, y: np.ndarray, feature: np.ndarray, within: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Distance (m) from each point to the nearest sample, and to its feature's.

        Parameters
        ----------
        x, y : arrays of float
            The points (working CRS).
        feature : array of int
            Per point: the feature whose nearest sample is wanted (-1 for none).
        within : float
            The search stops at this distance (m).

        Returns
        -------
        d_any, d_own : arrays of float
            The distance to the nearest sample, and to the nearest sample of ``feature``
            among the :attr:`K` nearest; inf beyond ``within`` or when no such sample is found.
        """
        n = len(x)
        if not n:
            return np.empty(0), np.empty(0)
        workers = min(2, os.cpu_count() or 1)
        xy = np.column_stack([x, y])
        feature = np.asarray(feature)
        if not (feature >= 0).any():
            d, _ = self.tree.query(xy, k=1, distance_upper_bound=within, workers=workers)
            return d, np.full(n, np.inf)
        k = min(self.K, self.tree.n)
        d, i = self.tree.query(xy, k=k, distance_upper_bound=within, workers=workers)
        if d.ndim == 1:
            d, i = d[:, None], i[:, None]
        found = i < self.tree.n
        mine = found & (self.owner[np.where(found, i, 0)] == feature[:, None])
        d_own = np.where(mine, d, np.inf).min(axis=1)
        return d[:, 0], d_own

    def decide(
        self, x: np.ndarray, y: np.ndarray, feature: np.ndarray, thresh: np.ndarray
    ) -> np.ndarray:
        """Per point: is a boundary within the threshold?

        Parameters
        ----------
        x, y : arrays of float
            The points (working CRS).
        feature : array of int
            Per point: the feature it lies in (-1 for none).
        thresh : array of float
            Per point: the distance (m).

        Returns
        -------
        array of int8
            1 when the boundary of ``feature`` (any boundary for -1) lies within ``thresh``,
            0 when no boundary does, 2 undecided (the exact test decides).

        Notes
        -----
        "Within" is the exact test's ``distance <= thresh + 1e-9``.  A point inside a feature
        is decided 1 only on that feature's boundary, which also puts it within the
        tolerance of the layer.
        """
        if not len(x):
            return np.zeros(0, dtype=np.int8)
        reach = float(np.max(thresh)) + self.spacing / 2 + 2 * _SLACK_M
        d_any, d_own = self.nearest(x, y, feature, reach)
        out = np.full(len(d_any), 2, dtype=np.int8)
        mine = np.where(np.asarray(feature) >= 0, d_own, d_any)
        out[mine + _SLACK_M <= thresh] = 1
        out[d_any - self.spacing / 2 - _SLACK_M > thresh] = 0
        return out
