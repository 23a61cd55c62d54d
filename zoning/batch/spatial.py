"""Spatial order of sites: the Hilbert curve over a grid of the sites' bounding box.

Chunks of sites that lie close together touch fewer layer features and keep the engine's
per-feature work local; :func:`hilbert_order` sorts the sites of a block of the input along a
Hilbert curve, then the block is split into chunks.
"""

from __future__ import annotations

import numpy as np
import shapely

__all__ = ["hilbert_keys", "hilbert_order"]


def hilbert_keys(x: np.ndarray, y: np.ndarray, bounds: tuple, order: int = 16) -> np.ndarray:
    """The Hilbert index of each point on a ``2**order`` x ``2**order`` grid over ``bounds``.

    Parameters
    ----------
    x, y : ndarray of float
    bounds : (xmin, ymin, xmax, ymax)
    order : int
        Bits per axis (at most 31).

    Returns
    -------
    ndarray of uint64
    """
    n = 1 << order
    xmin, ymin, xmax, ymax = bounds
    w = max(xmax - xmin, 1e-9)
    h = max(ymax - ymin, 1e-9)
    xi = np.clip(((x - xmin) / w * (n - 1)).astype(np.int64), 0, n - 1)
    yi = np.clip(((y - ymin) / h * (n - 1)).astype(np.int64), 0, n - 1)
    d = np.zeros(len(xi), dtype=np.uint64)
    s = n >> 1
    while s > 0:
        rx = (xi & s) > 0
        ry = (yi & s) > 0
        d += np.uint64(s) * np.uint64(s) * ((3 * rx) ^ ry).astype(np.uint64)
        # rotate the quadrant
        flip = ~ry
        both = flip & rx
        xi = np.where(both, n - 1 - xi, xi)
        yi = np.where(both, n - 1 - yi, yi)
        xi, yi = np.where(flip, yi, xi), np.where(flip, xi, yi)
        s >>= 1
    return d


def hilbert_order(geometries: np.ndarray) -> np.ndarray:
    """The order of ``geometries`` along a Hilbert curve through their bounding-box centres.

    Parameters
    ----------
    geometries : ndarray of shapely geometries

    Returns
    -------
    ndarray of int
        A permutation (stable for equal keys); empty or missing geometries come last.
    """
    if len(geometries) == 0:
        return np.arange(0)
    b = shapely.bounds(geometries)
    cx = (b[:, 0] + b[:, 2]) / 2
    cy = (b[:, 1] + b[:, 3]) / 2
    ok = np.isfinite(cx) & np.isfinite(cy)
    if not ok.any():
        return np.arange(len(geometries))
    box = (cx[ok].min(), cy[ok].min(), cx[ok].max(), cy[ok].max())
    keys = np.full(len(geometries), np.iinfo(np.uint64).max, dtype=np.uint64)
    keys[ok] = hilbert_keys(cx[ok], cy[ok], box)
    return np.argsort(keys, kind="stable")
