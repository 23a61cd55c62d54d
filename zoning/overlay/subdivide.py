"""Cutting features into small pieces and their boundaries into short chunks."""

from __future__ import annotations

import numpy as np
import shapely

from .constants import CHUNK_SEGMENTS, MAX_PIECE_VERTICES
from .families import _LINE, _POINT, _POLY, _family


def subdivide(
    geoms: np.ndarray, max_vertices: int = MAX_PIECE_VERTICES
) -> tuple[np.ndarray, np.ndarray]:
    """Cut polygons or lines into pieces of at most ``max_vertices`` vertices.

    Parameters
    ----------
    geoms : array of shapely geometries
        Polygonal or lineal geometries (one family).
    max_vertices : int
        The largest number of vertices a piece may hold.

    Returns
    -------
    pieces : array of shapely geometries
        Polygons or linestrings.
    owner : array of int64
        The index in ``geoms`` of the geometry each piece came from.

    Notes
    -----
    Halves are cut along the longer side of the bounding box, like PostGIS ``ST_Subdivide``.
    Polygon pieces of one geometry share only cut edges, and a line is split so that each of its
    points goes to exactly one side (a stretch lying on a cut line goes to the first half), so areas
    and lengths of the pieces add up to the whole (to rounding).  A cut moves the vertices it
    creates by floating-point rounding (~1e-12 m), which :class:`~zoning.overlay.LayerIndex`
    corrects for near boundaries.
    """
    geoms = np.asarray(geoms, dtype=object)
    if not len(geoms):
        return np.empty(0, dtype=object), np.empty(0, dtype=np.int64)
    parts, owner = shapely.get_parts(geoms, return_index=True)
    fam_of = _family(geoms)
    done_p: list[np.ndarray] = []
    done_o: list[np.ndarray] = []
    for _ in range(40):
        if not len(parts):
            break
        n = shapely.get_num_coordinates(parts)
        small = n <= max_vertices
        done_p.append(parts[small])
        done_o.append(owner[small])
        parts, owner = parts[~small], owner[~small]
        if not len(parts):
            break
        b = shapely.bounds(parts)
        wide = (b[:, 2] - b[:, 0]) >= (b[:, 3] - b[:, 1])
        midx = (b[:, 0] + b[:, 2]) / 2
        midy = (b[:, 1] + b[:, 3]) / 2
        pad = 1.0
        x0, y0, x1, y1 = b[:, 0] - pad, b[:, 1] - pad, b[:, 2] + pad, b[:, 3] + pad
        box_a = shapely.box(x0, y0, np.where(wide, midx, x1), np.where(wide, y1, midy))
        box_b = shapely.box(np.where(wide, midx, x0), np.where(wide, y0, midy), x1, y1)
        a = shapely.intersection(parts, box_a)
        line = fam_of[owner] == _LINE
        c = np.empty(len(parts), dtype=object)
        # Polygons: the two closed halves overlap only on the cut (no area).  Lines: the second
        # half is the line minus the first, so a stretch along the cut is not counted twice.
        c[~line] = shapely.intersection(parts[~line], box_b[~line])
        c[line] = shapely.difference(parts[line], box_a[line])
        new = np.concatenate([a, c])
        new_owner = np.concatenate([owner, owner])
        # Keep only the family of the input (clipping can leave stray points or lines).
        new, idx = shapely.get_parts(new, return_index=True)
        new_owner = new_owner[idx]
        keep = (_family(new) == fam_of[new_owner]) & ~shapely.is_empty(new)
        parts, owner = new[keep], new_owner[keep]
    if len(parts):  # pathological inputs: keep what is left as is
        done_p.append(parts)
        done_o.append(owner)
    return np.concatenate(done_p), np.concatenate(done_o).astype(np.int64)


def boundary_chunks(
    geoms: np.ndarray, segments: int = CHUNK_SEGMENTS
) -> tuple[np.ndarray, np.ndarray]:
    """Split the boundaries of polygons (or lines themselves) into short linestrings.

    Parameters
    ----------
    geoms : array of shapely geometries
        Polygons (their boundaries are split, holes included), lines (split as they are) or
        points (returned as they are).
    segments : int
        The largest number of segments a chunk holds.

    Returns
    -------
    chunks : array of shapely geometries
    owner : array of int64
        The index in ``geoms`` of the geometry each chunk came from.

    Notes
    -----
    Chunks consist of the original vertices (no new vertex is computed), so the union of the
    chunks of a feature *is* its boundary: distances to them equal distances to the boundary,
    and a geometry intersects a chunk exactly when it touches the boundary.
    """
    geoms = np.asarray(geoms, dtype=object)
    if not len(geoms):
        return np.empty(0, dtype=object), np.empty(0, dtype=np.int64)
    fam = _family(geoms)
    lines = geoms.copy()
    poly = fam == _POLY
    lines[poly] = shapely.boundary(geoms[poly])
    lines[fam == _POINT] = None
    parts, owner = shapely.get_parts(lines, return_index=True)
    coords, pidx = shapely.get_coordinates(parts, return_index=True)
    chunks = np.empty(0, dtype=object)
    chunk_owner = np.empty(0, dtype=np.int64)
    if len(coords):
        starts = np.r_[0, np.flatnonzero(np.diff(pidx)) + 1]
        pos = np.arange(len(coords)) - np.repeat(starts, np.diff(np.r_[starts, len(coords)]))
        chunk_local = pos // segments
        # Vertices that end one chunk and start the next belong to both.
        dup = (pos % segments == 0) & (pos > 0)
        cid_main = pidx.astype(np.int64) * 1_000_000 + chunk_local
        cid_dup = (pidx[dup].astype(np.int64) * 1_000_000) + chunk_local[dup] - 1
        all_cid = np.concatenate([cid_main, cid_dup])
        all_pos = np.concatenate([pos, pos[dup]])
        all_xy = np.concatenate([coords, coords[dup]])
        order = np.lexsort((all_pos, all_cid))
        all_cid, all_xy = all_cid[order], all_xy[order]
        uniq, inverse, counts = np.unique(all_cid, return_inverse=True, return_counts=True)
        ok = counts >= 2
        keep = ok[inverse]
        uniq_ok = uniq[ok]
        if len(uniq_ok):
            chunks = shapely.linestrings(
                all_xy[keep], indices=np.searchsorted(uniq_ok, all_cid[keep])
            )
            chunk_owner = owner[(uniq_ok // 1_000_000).astype(np.int64)]
    if (fam == _POINT).any():
        pts = np.flatnonzero(fam == _POINT)
        p_parts, p_owner = shapely.get_parts(geoms[pts], return_index=True)
        p_keep = ~shapely.is_empty(p_parts)
        chunks = np.concatenate([chunks, p_parts[p_keep]])
        chunk_owner = np.concatenate([chunk_owner, pts[p_owner[p_keep]]])
    return chunks, chunk_owner.astype(np.int64)
