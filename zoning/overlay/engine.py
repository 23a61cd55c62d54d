"""The overlay() entry point: sites x layers -> OverlayResult, as a sequence of named steps."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from ..crs import WORKING_CRS
from ..errors import quote
from ..schema import COVERAGE_KINDS
from .constants import DEFAULT_SEARCH_RADIUS_M
from .coverage import _outside_coverage
from .frames import geo_frame
from .index import LayerInput
from .passes import _layer_pass
from .pointpass import _place_points, _point_pass
from .result import _PIECE_COLUMNS, OverlayResult, _LayerPass
from .rings import _rings
from .sitepack import _check_sites, _check_uncertainty, _SiteSet


def overlay(
    sites: np.ndarray,
    site_ids: Sequence[str],
    layers: Sequence[LayerInput],
    *,
    search_radius_m: float = DEFAULT_SEARCH_RADIUS_M,
    uncertainty_m: np.ndarray | None = None,
    coverage: Sequence[str] = COVERAGE_KINDS,
    missing_kinds: Sequence[str] = (),
    pieces: bool = True,
    rings: bool = True,
    max_ring_sites: int = 10_000,
    progress: Callable[[str], object] | None = None,
) -> OverlayResult:
    """Overlay sites with layers.

    Parameters
    ----------
    sites : array of shapely geometries
        The sites, in :data:`~zoning.crs.WORKING_CRS`: points, multipoints, lines, multilines,
        polygons and multipolygons, mixed.  Z is ignored (with a note).
    site_ids : sequence of str
        One id per site (reported beside the site's position).
    layers : sequence of LayerInput
    search_radius_m : float, keyword-only
        Features within this distance are reported as ``nearby`` with their distance; a layer
        whose declared buffer rings reach farther is searched to its outermost ring (the Yangtze
        shoreline's 3 km ring, for example).  0 skips the distance search (containment only:
        boundary distances are reported only where they are 0; the boundary-sensitive flags are
        still exact).
    uncertainty_m : array of float, optional
        Per-site positional uncertainty from the input CRS (GCJ-02/BD-09 conversion), added to
        each layer's positional tolerance for the boundary-sensitive flag.
    coverage : sequence of str
        Kinds whose union is the territory the layers cover; a site not wholly inside it gets
        status ``outside_coverage`` for every layer.  When a layer of these kinds failed to load,
        or there is none, coverage is not checked (and a note says so).
    missing_kinds : sequence of str
        Kinds some rule needs that no layer provides (a ``missing`` summary row each).
    pieces, rings : bool
        Build the overlap pieces and the buffer-ring geometries.  Neither changes any number.
    max_ring_sites : int
        Draw ring geometries for at most this many sites.
    progress : callable, optional
        Called with each layer id as the engine starts on it (the CLI's progress bar).

    Returns
    -------
    OverlayResult
        ``hits`` and ``layer_summary`` (one row per site x layer: ``status`` ``ok``, ``failed``,
        ``missing`` or ``outside_coverage``; ``hit``; ``overlap_m2``, ``share_of_site``,
        ``overlap_length_m`` with overlapping features counted once; ``distance_m`` and
        ``nearest_feature_id``; ``ring_m``; ``boundary_sensitive``), ``pieces``, ``rings`` and
        ``notes``.  ``site`` columns are positions in ``sites``.

    Raises
    ------
    SitesError
        A site has no geometry, is a GeometryCollection, has non-finite coordinates or is
        invalid (naming the site ids).
    ValueError
        ``site_ids`` or ``uncertainty_m`` do not match the sites; a negative search radius.

    Notes
    -----
    Cost: per layer, one STRtree query of the sites against the feature pieces and one against
    the boundary chunks, one clip per intersecting (site, piece) pair and one union per site that
    touches several features; point sites in polygon layers go through the grid first (only
    points in cells a boundary crosses get the exact test, and only points the grid cannot
    place with respect to the tolerance get the boundary query).  The ``hits`` and
    ``layer_summary`` frames are built on first access.  The inputs are not modified (the
    layer index caches its own structures).
    """
    notes: list[str] = []
    S = _check_sites(sites, site_ids, notes)
    unc = _check_uncertainty(uncertainty_m, len(S))
    radius = float(search_radius_m)
    if not np.isfinite(radius) or radius < 0:
        raise ValueError(f"search radius must be a distance >= 0 m, not {quote(search_radius_m)}")
    run = _run_layers(S, layers, _RunOptions(radius, unc, pieces, tuple(coverage), progress))
    run.entries.extend((None, kind, "missing") for kind in missing_kinds)
    outside = _outside_coverage(S, run.cov_passes, run.cov_failed, notes)
    for e in run.entries:
        if isinstance(e, _LayerPass):
            e.site_overlap = None  # only the coverage test needs it
    piece_gdf = _piece_table(run.piece_frames)
    ring_gdf = _rings(S, layers, enabled=rings, max_sites=max_ring_sites, notes=notes)
    return OverlayResult(
        site_ids=S.ids,
        entries=run.entries,
        outside=outside,
        pieces=piece_gdf,
        rings=ring_gdf,
        notes=notes,
    )


@dataclass(frozen=True)
class _RunOptions:
    """What every layer pass of one :func:`overlay` call is given."""

    radius: float
    #: Per site: positional uncertainty (m) added to each layer's tolerance.
    unc: np.ndarray
    #: Build the overlap pieces.
    pieces: bool
    #: Kinds whose union is the territory the layers cover.
    coverage: tuple[str, ...]
    progress: Callable[[str], object] | None


@dataclass
class _Run:
    """The layer passes of one :func:`overlay` call, in layer order."""

    #: A :class:`~zoning.overlay.result._LayerPass`, or ``(layer_id, kind, status)`` for a
    #: layer that failed.
    entries: list = field(default_factory=list)
    piece_frames: list[gpd.GeoDataFrame] = field(default_factory=list)
    #: The passes of the coverage layers, and the ids of the coverage layers that failed.
    cov_passes: list[_LayerPass] = field(default_factory=list)
    cov_failed: list[str] = field(default_factory=list)


def _run_layers(S: _SiteSet, layers: Sequence[LayerInput], opts: _RunOptions) -> _Run:
    """Every layer's pass: through the combined point grid where it placed the sites, the
    general path otherwise; a layer that failed to load gets a status entry."""
    run = _Run()
    placed = _place_points(S, layers, opts.radius)
    for L in layers:
        if opts.progress is not None:
            opts.progress(L.layer_id)
        if L.status != "ok":
            run.entries.append((L.layer_id, L.kind, L.status))
            if L.kind in opts.coverage:
                run.cov_failed.append(L.layer_id)
            continue
        if id(L) in placed:
            res = _point_pass(S, L, *placed[id(L)], unc=opts.unc)
        else:
            res = _layer_pass(
                S,
                L,
                radius=_layer_radius(L, opts.radius),
                unc=opts.unc,
                want_pieces=opts.pieces,
                want_geometry=opts.pieces,
            )
        run.entries.append(res)
        if res.pieces is not None:
            run.piece_frames.append(res.pieces)
        if L.kind in opts.coverage:
            run.cov_passes.append(res)
    return run


def _layer_radius(L: LayerInput, radius: float) -> float:
    """How far a layer is searched: a layer with declared buffer rings is searched to its
    outermost ring when that reaches farther than the search radius, so every ring it declares
    can be reported (radius 0: no distance search)."""
    reach = L.index.rings_m[-1] if L.index.rings_declared and radius > 0 else 0.0
    return max(radius, reach)


def _piece_table(piece_frames: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """The overlap pieces of every layer in one frame (working CRS)."""
    if not piece_frames:
        return geo_frame({c: [] for c in _PIECE_COLUMNS}, [], WORKING_CRS)
    piece_gdf = pd.concat(piece_frames, ignore_index=True)
    return gpd.GeoDataFrame(piece_gdf, geometry="geometry", crs=WORKING_CRS)
