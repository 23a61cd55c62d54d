"""Distance bands (rings): the ring each distance falls in, and the ring geometries."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from ..crs import WORKING_CRS
from .constants import RING_QUAD_SEGS
from .frames import Blocks, geo_frame
from .sitepack import _SiteSet


def _ring_of(d: np.ndarray, rings: tuple[float, ...]) -> np.ndarray:
    """The smallest ring (m) that reaches each distance; NaN beyond the last or for NaN."""
    r = np.asarray(rings, dtype=float)
    d = np.asarray(d, dtype=float)
    out = np.full(len(d), np.nan)
    fin = np.isfinite(d)
    idx = np.searchsorted(r, d[fin], side="left")
    ok = idx < len(r)
    vals = np.full(len(idx), np.nan)
    vals[ok] = r[idx[ok]]
    out[fin] = vals
    return out


def _rings(S: _SiteSet, layers, *, enabled: bool, max_sites: int, notes: list[str]):
    n = len(S)
    if not enabled or not n:
        return _no_rings()
    if n > max_sites:
        notes.append(
            f"buffer-ring geometries are drawn for at most {max_sites:,} sites; "
            f"{n:,} given, none drawn (ring membership is still in hits and summary)"
        )
        return _no_rings()
    sets: dict[tuple[float, ...], list[str]] = {}
    for L in layers:
        if L.status == "ok":
            sets.setdefault(L.index.rings_m, []).append(L.layer_id)
    frames = Blocks(["site", "site_id", "layer_ids", "inner_m", "outer_m"])
    geoms = []
    for rings_m, ids in sets.items():
        prev = None
        inner = 0.0
        for r in rings_m:
            buf = shapely.buffer(S.geoms, r, quad_segs=RING_QUAD_SEGS)
            ring = buf if prev is None else shapely.difference(buf, prev)
            frames.add(
                n,
                {
                    "site": np.arange(n),
                    "site_id": S.ids,
                    "layer_ids": ", ".join(ids),
                    "inner_m": inner,
                    "outer_m": r,
                },
            )
            geoms.append(ring)
            prev, inner = buf, r
    if not geoms:
        return _no_rings()
    return geo_frame(frames.frame(), np.concatenate(geoms), WORKING_CRS)


def _no_rings() -> gpd.GeoDataFrame:
    cols = {"site": [], "site_id": [], "layer_ids": [], "inner_m": [], "outer_m": []}
    return geo_frame(cols, [], WORKING_CRS)
