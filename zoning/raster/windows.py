"""Windows of a raster grid, and the burner that rasterizes geometries onto any window.

Shared by :mod:`zoning.raster.burn` (the catalog written window by window) and
:mod:`zoning.raster.zonal` (zones burnt onto each window read); rasterio is imported lazily.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import pyproj
import shapely

from ..crs import WORKING_CRS

if TYPE_CHECKING:
    from affine import Affine
    from rasterio.windows import Window


def _crs_label(crs: pyproj.CRS) -> str:
    if crs == WORKING_CRS:
        return "the working CRS (LAEA on Shanghai)"
    auth = crs.to_authority()
    return f"{auth[0]}:{auth[1]}" if auth else crs.name


def _envelope(transform: Affine, rows: int, cols: int) -> tuple[float, float, float, float]:
    """Envelope of a window's four corners (rotated transforms included)."""
    a, b, c, d, e, f = transform[:6]
    cs, rs = np.array([0, cols, 0, cols]), np.array([0, 0, rows, rows])
    xs, ys = a * cs + b * rs + c, d * cs + e * rs + f
    return float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())


def _window_transform(transform: Affine, window: Window) -> Affine:
    """The transform of a window (computed here: affine's ``*`` is being deprecated)."""
    from affine import Affine

    a, b, c, d, e, f = transform[:6]
    col, row = window.col_off, window.row_off
    return Affine(a, b, c + a * col + b * row, d, e, f + d * col + e * row)


def _windows(height: int, width: int, size: int) -> Iterator[Window]:
    from rasterio.windows import Window

    for row in range(0, height, size):
        for col in range(0, width, size):
            yield Window(col, row, min(size, width - col), min(size, height - row))


class _Burner:
    """Burn a fixed set of geometries onto any window, fast: STRtree filter, clip, rasterize."""

    def __init__(self, geoms: np.ndarray, values: np.ndarray | int):
        keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        self.geoms = np.asarray(geoms)[keep]
        values = np.broadcast_to(np.asarray(values), np.asarray(geoms).shape)
        self.values = values[keep]
        self.tree = shapely.STRtree(self.geoms)

    def __len__(self) -> int:
        return len(self.geoms)

    def burn(
        self, transform: Affine, shape: tuple[int, int], *, fill: int, dtype: str
    ) -> np.ndarray | None:
        """The burnt window (cell centres, later geometries win), or None if nothing touches it."""
        from rasterio import features

        env = _envelope(transform, *shape)
        hits = np.sort(self.tree.query(shapely.box(*env)))
        if hits.size == 0:
            return None
        # Clip to the window plus one cell, so huge polygons cost only their local vertices;
        # cell centres lie half a cell inside the window, away from the clip edges.
        pad = max(abs(transform.a), abs(transform.b), abs(transform.d), abs(transform.e))
        clipped = shapely.clip_by_rect(
            self.geoms[hits], env[0] - pad, env[1] - pad, env[2] + pad, env[3] + pad
        )
        keep = ~shapely.is_empty(clipped)
        if not keep.any():
            return None
        pairs = zip(clipped[keep], self.values[hits][keep].tolist(), strict=True)
        return features.rasterize(
            pairs, out_shape=shape, transform=transform, fill=fill, dtype=dtype, all_touched=False
        )
