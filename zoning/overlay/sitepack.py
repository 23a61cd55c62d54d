"""Checking and packing the sites: what every layer pass needs about them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from ..errors import SitesError
from .distance import _part_boxes
from .families import _LINE, _POINT, _POLY, _family


@dataclass
class _SiteSet:
    """The sites, checked, with what every layer pass needs."""

    geoms: np.ndarray
    ids: np.ndarray
    fam: np.ndarray
    #: Area (polygon sites), length (line sites) or number of points (point sites).
    measure: np.ndarray
    #: The points of point and multipoint sites, their site, and coordinates.
    member: np.ndarray
    member_site: np.ndarray
    mx: np.ndarray
    my: np.ndarray
    #: Single-point sites and their coordinates (NaN elsewhere), for the grid's distance bound.
    single: np.ndarray
    #: What boundary distances are measured from: a polygon site's outline (holes included),
    #: other sites themselves.
    edges: np.ndarray
    px: np.ndarray
    py: np.ndarray

    def __len__(self) -> int:
        return len(self.geoms)

    def additive(self, sites: np.ndarray, family: int) -> np.ndarray:
        """Per site: its intersections with pieces can be summed without a union.

        True for polygon sites, and for line sites that do not overlap themselves and, in
        polygon layers, have no segment within a billionth of a radian of an axis: cuts
        between polygon pieces are axis-parallel, so only such a segment could run along a
        cut and be counted in both pieces.  (Line layers' pieces share no stretch.)
        """
        flags = self.__dict__.get("_additive")
        if flags is None:
            simple = np.ones(len(self), dtype=bool)
            oblique = np.ones(len(self), dtype=bool)
            lines = np.flatnonzero(self.fam == _LINE)
            if len(lines):
                simple[lines] = shapely.is_simple(self.geoms[lines])
                parts, owner = shapely.get_parts(self.geoms[lines], return_index=True)
                xy, idx = shapely.get_coordinates(parts, return_index=True)
                seg = idx[1:] == idx[:-1]
                dx = np.abs(np.diff(xy[:, 0]))[seg]
                dy = np.abs(np.diff(xy[:, 1]))[seg]
                axis = (dx <= 1e-9 * dy) | (dy <= 1e-9 * dx)
                bad = np.unique(owner[idx[:-1][seg][axis]])
                oblique[lines[bad]] = False
            flags = self.__dict__["_additive"] = (simple, simple & oblique)
        simple, oblique = flags
        return (simple if family == _LINE else oblique)[sites]

    def parts(self) -> tuple[np.ndarray, np.ndarray]:
        """:func:`~zoning.overlay.distance._part_boxes` of every site's edges (built once)."""
        if "_parts" not in self.__dict__:
            self.__dict__["_parts"] = _part_boxes(self.edges)
        return self.__dict__["_parts"]

    def bounds(self) -> np.ndarray:
        """Every site's bounding box, shape (n, 4) (built once)."""
        if "_bounds" not in self.__dict__:
            self.__dict__["_bounds"] = shapely.bounds(self.geoms)
        return self.__dict__["_bounds"]

    def boxes(self, distance: float) -> np.ndarray:
        """Every site's bounding box widened by ``distance`` (built once per distance)."""
        cache = self.__dict__.setdefault("_boxes", {})
        if distance not in cache:
            b = self.bounds()
            cache[distance] = shapely.box(
                b[:, 0] - distance, b[:, 1] - distance, b[:, 2] + distance, b[:, 3] + distance
            )
        return cache[distance]


def _check_sites(sites: object, site_ids: object, notes: list[str]) -> _SiteSet:
    """The sites checked and packed for the layer passes (see :func:`~zoning.overlay.overlay`).

    Raises :class:`~zoning.errors.SitesError` for a site that is not a geometry, has none, is a
    GeometryCollection, has non-finite coordinates or is invalid; ``ValueError`` when the ids
    do not match.  Z coordinates are dropped (with a note in ``notes``).
    """
    geoms, ids = _as_arrays(sites, site_ids)
    fast = _single_points(geoms, ids)
    if fast is not None:
        return fast
    geoms = _validated(geoms, ids, notes)
    return _pack_sites(geoms, ids)


def _as_arrays(sites: object, site_ids: object) -> tuple[np.ndarray, np.ndarray]:
    """The sites and their ids as object arrays of one length, every site a shapely geometry."""
    geoms = np.asarray(sites, dtype=object)
    if geoms.ndim != 1:
        geoms = np.asarray(list(sites), dtype=object)  # type: ignore[call-overload]
    n = len(geoms)
    if isinstance(site_ids, np.ndarray) and site_ids.dtype == object and site_ids.ndim == 1:
        ids = site_ids.copy()
    else:
        ids = np.asarray(list(site_ids), dtype=object)  # type: ignore[call-overload]
    if len(ids) != n:
        raise ValueError(f"{len(ids)} site ids for {n} sites")
    bad_type = ~shapely.is_valid_input(geoms)
    if bad_type.any():
        i = int(np.flatnonzero(bad_type)[0])
        raise SitesError(f"site {ids[i]}: {type(geoms[i]).__name__} is not a shapely geometry")
    return geoms, ids


def _single_points(geoms: np.ndarray, ids: np.ndarray) -> _SiteSet | None:
    """The bulk case: single 2-D points with finite coordinates are their own members, with
    coordinates from their bounds (None for anything else, which takes the full checks)."""
    n = len(geoms)
    if not n or not (shapely.get_type_id(geoms) == 0).all():
        return None
    xy = shapely.bounds(geoms)[:, :2]
    if not np.isfinite(xy).all() or shapely.has_z(geoms).any():
        return None
    x, y = xy[:, 0].copy(), xy[:, 1].copy()
    return _SiteSet(
        geoms=geoms,
        ids=ids,
        fam=np.full(n, _POINT, dtype=np.int8),
        measure=np.ones(n),
        member=geoms,
        member_site=np.arange(n, dtype=np.int64),
        mx=x,
        my=y,
        single=np.ones(n, dtype=bool),
        edges=geoms,
        px=x,
        py=y,
    )


def _validated(geoms: np.ndarray, ids: np.ndarray, notes: list[str]) -> np.ndarray:
    """The sites checked (naming the ids of the bad ones), in 2-D."""
    n = len(geoms)

    def named(mask: np.ndarray) -> str:
        pos = np.flatnonzero(mask)
        shown = ", ".join(str(ids[i]) for i in pos[:5])
        more = f" and {len(pos) - 5} more" if len(pos) > 5 else ""
        return f"site{'s' if len(pos) > 1 else ''} {shown}{more}"

    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        raise SitesError(f"{named(missing)}: no geometry (null or empty); every site needs one")
    types = shapely.get_type_id(geoms)
    if (types == 7).any():
        raise SitesError(
            f"{named(types == 7)}: a GeometryCollection is not a site; split it into separate "
            "sites or use a Multi* geometry"
        )
    if n and shapely.has_z(geoms).any():
        notes.append(
            f"Z coordinates of {int(shapely.has_z(geoms).sum())} site(s) ignored "
            "(the engine works in 2-D)"
        )
        geoms = shapely.force_2d(geoms)  # a new array: the caller's geometries are untouched
    if n:
        finite = np.isfinite(shapely.bounds(geoms)).all(axis=1)
        if not finite.all():
            raise SitesError(f"{named(~finite)}: coordinates are not finite numbers")
    other = _family(geoms) != _POINT
    invalid = np.zeros(n, dtype=bool)
    if other.any():
        invalid[other] = ~shapely.is_valid(geoms[other])
    if invalid.any():
        i = int(np.flatnonzero(invalid)[0])
        raise SitesError(
            f"{named(invalid)}: invalid geometry ({shapely.is_valid_reason(geoms[i])}); "
            "repair it first (zoning.sites.load_sites repairs polygons)"
        )
    return geoms


def _pack_sites(geoms: np.ndarray, ids: np.ndarray) -> _SiteSet:
    """The checked sites with their members, measures and edges."""
    n = len(geoms)
    types = shapely.get_type_id(geoms)
    fam = _family(geoms)
    pts = np.flatnonzero(fam == _POINT)
    if (types[pts] == 0).all():  # single points (never empty here): their own members
        member, member_site = geoms[pts], pts.astype(np.int64)
    else:
        member, m_own = shapely.get_parts(geoms[pts], return_index=True)
        keep = ~shapely.is_empty(member)
        member, member_site = member[keep], pts[m_own[keep]].astype(np.int64)
    mxy = shapely.get_coordinates(member)
    measure = np.full(n, np.nan)
    measure[fam == _POLY] = shapely.area(geoms[fam == _POLY])
    lines = np.flatnonzero(fam == _LINE)
    measure[lines] = shapely.length(geoms[lines])
    # A line that runs over itself (or a multiline whose parts overlap) covers each stretch
    # once, as its overlaps do: measure it dissolved.
    rerun = lines[~shapely.is_simple(geoms[lines])]
    measure[rerun] = shapely.length(shapely.union(geoms[rerun], geoms[rerun]))
    measure[pts] = np.bincount(member_site, minlength=n)[pts]
    single = types == 0
    px = np.full(n, np.nan)
    py = np.full(n, np.nan)
    if single.any():
        xy = shapely.get_coordinates(geoms[single])
        px[single], py[single] = xy[:, 0], xy[:, 1]
    edges = geoms.copy()
    edges[fam == _POLY] = shapely.boundary(geoms[fam == _POLY])
    return _SiteSet(
        geoms=geoms,
        ids=ids,
        fam=fam,
        measure=measure,
        member=member,
        member_site=member_site,
        mx=mxy[:, 0],
        my=mxy[:, 1],
        single=single,
        edges=edges,
        px=px,
        py=py,
    )


def _check_uncertainty(uncertainty_m: object, n: int) -> np.ndarray:
    if uncertainty_m is None:
        return np.zeros(n)
    unc = np.asarray(uncertainty_m, dtype=float)
    if unc.ndim == 0:
        unc = np.full(n, float(unc))
    if unc.shape != (n,):
        raise ValueError(f"uncertainty_m has {unc.size} values for {n} sites")
    if not (np.isfinite(unc) & (unc >= 0)).all():
        raise ValueError("uncertainty_m must hold distances >= 0 m (no NaN)")
    return unc
