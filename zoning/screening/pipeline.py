"""Screen project sites: load them, overlay the layers, apply the access-list rules.

>>> import zoning
>>> result = zoning.screen(points=[(121.47, 31.23)], crs="EPSG:4326")  # doctest: +SKIP
>>> result.sites[["site_id", "verdict"]]                          # doctest: +SKIP

:func:`screen` is a short orchestrator of named steps: read the sites, load the catalog and
the rules, choose the search radius, load the layers, overlay, apply the rules
(:mod:`zoning.screening.apply`), total each site (:mod:`zoning.overlay.totals`) and record
the provenance (:mod:`zoning.screening.provenance`).  The geometry work stays in
:mod:`zoning.overlay`, the rules in :mod:`zoning.rules`, the writers in :mod:`zoning.tables`.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..crs import WORKING_CRS
from ..dates import as_of_date
from ..errors import CatalogError, CRSError, LayerDataError, LayerReadError, ZoningError, quote
from ..layerset import Layer, LayerSet, load_catalog
from ..overlay import DEFAULT_SEARCH_RADIUS_M, LayerInput, OverlayResult, overlay
from ..overlay.totals import site_totals
from ..rules import RuleSet, load_rules
from ..rules.reasons import PYTHON_STR
from ..sites import Sites
from .apply import _apply_rules, _RulesOutcome
from .options import ScreenOptions, SiteReading
from .provenance import _input_file, _layer_loaded, _layer_provenance, _options, _provenance
from .reach import _rule_reach, _searched_by_kind
from .relevance import attribute_groups, boundary_reach, boundary_texts, unit_boundaries_that_matter
from .result import ScreeningResult

__all__ = ["prepare_point_grid", "screen"]

log = logging.getLogger("zoning.screening")


def screen(
    sites: object = None,
    layers: LayerSet | str | Path | None = None,
    *,
    rules: RuleSet | str | Path | None = None,
    crs: object = None,
    wkt: str | Sequence[str] | None = None,
    points: Sequence[object] | None = None,
    attributes: Mapping[str, object] | None = None,
    id_field: str | None = None,
    name_field: str | None = None,
    layer: str | None = None,
    encoding: str | None = None,
    dxf_layer: str | None = None,
    sheet: str | None = None,
    on_row_error: str = "fail",
    search_radius_m: float | None = None,
    pieces: bool = True,
    rings: bool = True,
    on_layer_error: str = "raise",
    progress: Callable[[str, int, int], object] | None = None,
    as_of: object = None,
) -> ScreeningResult:
    """Screen project sites against the catalog's layers and the access-list rules.

    Parameters
    ----------
    sites : path, GeoDataFrame, geometries or :class:`~zoning.sites.Sites`
        What to screen (see :func:`zoning.sites.load_sites`); or use ``wkt=`` / ``points=``.
    layers : LayerSet or catalog path, optional
        Default: the bundled demonstration catalog.
    rules : RuleSet or path, keyword-only
        Default: the bundled demonstration rule set.
    crs : CRS of the sites when they carry none, or ``gcj02`` / ``bd09``.
    wkt, points : inline sites (see :func:`~zoning.sites.load_sites`), keyword-only.
    attributes : dict
        Project attributes for every site (``industry``, ``nature``, ``linear``, ...).
    id_field, name_field, layer, encoding : str
        Passed to :func:`~zoning.sites.load_sites` (columns holding id and name, the layer of
        a multi-layer file, the text encoding of a CSV or a Shapefile without ``.cpg``).
    dxf_layer : str
        Passed to :func:`~zoning.sites.load_sites`: the boundary layer of a DXF site plan.
    sheet, on_row_error : str
        Passed to :func:`~zoning.sites.load_sites`: the sheet of a workbook, and whether a
        row that does not parse stops the screening (``"fail"``) or is set aside
        (``"report"``: ``result.input_rows.rejected``, ``rejected.csv``, marked in
        ``screening.xlsx``).
    search_radius_m : float
        How far to look for the nearest feature of each layer; default the larger of 1000 m
        and, per ``within`` rule, its distance plus its layer's positional tolerance and the
        sites' largest conversion uncertainty.  A layer with declared buffer rings is searched
        to its outermost ring even beyond it.  ``0`` skips the distance search (containment
        only) — rules that need a distance then give ``unknown`` (and their distance band is
        not flagged), and ``boundary_distance_m`` is reported only where it is 0 (the flags of
        the layers' boundaries are still decided exactly).
    pieces, rings : bool
        Build the overlap-piece and buffer-ring geometries (skip for very large runs).
    on_layer_error : {"raise", "unknown"}
        What a layer that fails to load (missing or unreadable file, bad CRS) does: ``"raise"``
        (default) stops with its error; ``"unknown"`` goes on without it, the rules that need
        it give ``unknown`` and the failure is in ``result.notes`` and the provenance.
    progress : callable, optional
        ``progress(stage, step, total)`` is called before each stage: ``"load <layer id>"``
        for every catalog layer, ``"overlay <layer id>"`` for every layer, then ``"rules"``
        (``total`` = 2 x layers + 1).  For progress bars; the library never prints.
    as_of : date, datetime or ``"YYYY-MM-DD"``, optional
        The day whose law and layers apply: only the rules in force that day
        (:meth:`RuleSet.in_force <zoning.rules.RuleSet.in_force>`) and the catalog's layers in
        force that day (:meth:`LayerSet.at <zoning.layerset.LayerSet.at>`; a LayerSet given
        for another day keeps its loaded layers) are used.  Default: today in Asia/Shanghai.
        The provenance records the day (``as_of``), the documents and rules in force
        (``law``), each layer's ``valid_from`` / ``valid_to`` and the layers not in force
        (``layers_not_in_force``).

    Returns
    -------
    ScreeningResult

    Raises
    ------
    SitesError, CRSError, LayerReadError
        Bad sites, a bad ``crs`` or an unreadable sites file (see :func:`load_sites`).
    CatalogError, RulesError
        A catalog or rule set that does not validate, or with nothing in force on ``as_of``.
    ZoningError
        ``as_of`` is not a date (one line naming the value).
    LayerReadError, LayerDataError, CRSError
        A layer that cannot be loaded (unless ``on_layer_error="unknown"``).

    Notes
    -----
    Missing data is never read as "no constraint": a kind the rules need that no layer
    provides, or a layer skipped with ``on_layer_error="unknown"``, gives ``unknown`` wherever
    its rules could apply.

    Cost: each layer is read and indexed once per :class:`~zoning.layerset.LayerSet` (reuse
    the LayerSet across calls); then every step is vectorised over sites, and the rules run
    once per *situation* (:mod:`zoning.screening.apply`), not once per site.  ``hits``,
    ``reasons`` and ``layer_summary`` are built on first access.  Measured on a shared 2-core
    machine with the demonstration catalog and rules, in a fresh process: the 20 example
    projects (``layers/examples/projects.geojson``) take 5.2 s the first time, nearly all of it
    reading and indexing the layers, then 0.13 s with the same LayerSet (peak memory 0.6 GB);
    100,000 random points in Shanghai's bounding box take 12.8 s the first time and 5.4 s with
    the same LayerSet, plus 1.6 s when ``result.hits`` (394,000 rows) is first read (peak
    memory 1.0 GB; 83 % of those points get ``unknown``).  While other processes loaded the
    machine these times were up to three times longer.  One site with a warm LayerSet and
    RuleSet (a service's request): about 31 ms for a point and 36 ms for a 200 m square, plus
    22-26 ms for ``result.to_dict()`` (``benchmarks/one_site.py``): what depends only on the
    rule set, a layer or a file is worked out once and kept with it.  Time and memory grow
    about linearly with the sites; ``pieces=False`` and ``rings=False`` save the geometry work
    of very large runs of polygons or lines.

    CRS: sites are converted to :data:`zoning.WORKING_CRS` from their own CRS, from ``crs=``
    when they carry none (longitude/latitude without a declared CRS is an error, never
    guessed), or from GCJ-02 / BD-09 with ``crs="gcj02"`` / ``"bd09"`` (the conversion and its
    uncertainty are recorded per site and in the provenance).  Layers are in the working CRS
    already (the catalog converts them when loading).  Areas and distances are measured in
    the working CRS (equal-area, metres), which agrees with geodesic values within 0.01 % over
    Shanghai; the result's geometries are in the working CRS, the written files in EPSG:4326.

    Examples
    --------
    >>> import zoning
    >>> result = zoning.screen(
    ...     points=["121.4737,31.2304"], crs="EPSG:4326", attributes={"industry": "H6210"}
    ... )
    >>> result.sites.loc[0, "verdict"] in zoning.screening.SEVERITY
    True
    """
    options = ScreenOptions(
        search_radius_m=search_radius_m,
        pieces=pieces,
        rings=rings,
        on_layer_error=on_layer_error,
        as_of=as_of_date(as_of),
    )
    started = datetime.now(UTC)
    clock = time.perf_counter()
    reading = SiteReading(
        crs=crs,
        wkt=wkt,
        points=points,
        attributes=attributes,
        id_field=id_field,
        name_field=name_field,
        layer=layer,
        encoding=encoding,
        dxf_layer=dxf_layer,
        sheet=sheet,
        on_row_error=on_row_error,
    )
    input_path = _input_file(sites)
    from_sites = isinstance(sites, Sites)
    sites = reading.read(sites)
    layers = _catalog(layers, options.as_of)
    rule_set = rules if isinstance(rules, RuleSet) else load_rules(rules)
    rule_set = rule_set.in_force(options.as_of)
    radius = _search_radius(rule_set, layers, sites, search_radius_m)
    notes = list(sites.notes)
    tick = _Progress(progress, 2 * len(layers.catalog.layers) + 1)
    inputs, layer_prov = _load_layers(layers, options.on_layer_error, notes, tick)
    missing = _missing_kinds(layers, rule_set, notes)
    ov = _overlay_sites(sites.gdf, inputs, radius, missing, options, tick)
    notes.extend(ov.notes)
    searched = _searched_by_kind(ov, radius)
    notes.extend(_short_search_notes(rule_set, searched, radius))
    tick("rules")
    rules_out = _apply_rules(rule_set, sites.gdf, ov, searched)
    out = _site_table(sites.gdf, ov, rule_set, rules_out, searched)
    run = _options(reading, options, radius, from_sites=from_sites)
    prov = _provenance(layers, layer_prov, rule_set, sites, radius, started, run, input_path)
    prov["duration_s"] = round(time.perf_counter() - clock, 3)
    _input_rows_provenance(prov, sites, reading)
    result = ScreeningResult(
        sites=out,
        hits=rules_out.hits,
        layer_summary=lambda: ov.layer_summary,
        reasons=rules_out.reasons,
        pieces=ov.pieces,
        rings=ov.rings,
        provenance=prov,
        layers=layers,
        rule_set=rule_set,
        notes=notes,
        input_rows=sites.input_rows,
    )
    prov["notes"] = notes
    prov["verdicts"] = result.verdict_counts()
    return result


# --------------------------------------------------------------------------- the steps


def _input_rows_provenance(prov: dict, sites: Sites, reading: SiteReading) -> None:
    """Record the sheet read and the rows set aside (``on_row_error="report"``)."""
    rows = sites.input_rows
    rejected = None if rows is None or rows.rejected is None else len(rows.rejected)
    prov["input"].update(sheet=None if rows is None else rows.sheet, rejected_rows=rejected)
    prov["options"].update(sheet=reading.sheet, on_row_error=reading.on_row_error)


class _Progress:
    """``progress(stage, step, total)`` before each stage, counting the steps (or nothing)."""

    def __init__(self, progress: Callable[[str, int, int], object] | None, total: int) -> None:
        self.progress = progress
        self.total = total
        self.step = 0

    def __call__(self, stage: str) -> None:
        if self.progress is not None:
            self.progress(stage, self.step, self.total)
        self.step += 1


def _catalog(layers: LayerSet | str | Path | None, as_of: date | None = None) -> LayerSet:
    """A loaded layer set as of a day (None: today): ``layers`` itself (or its view for that
    day, sharing its loaded layers), or the catalog at that path (None: the demonstration
    catalog)."""
    if layers is None or isinstance(layers, str | Path):
        return load_catalog(layers, as_of=as_of)
    return layers if as_of is None else layers.at(as_of)


def _search_radius(
    rule_set: RuleSet, layers: LayerSet, sites: Sites, search_radius_m: float | None
) -> float:
    """The search radius: the one given, or the larger of the default, the rule set's and the
    reach of its ``within`` rules (plus tolerances and the sites' largest uncertainty)."""
    needed_radius = float(rule_set.search_radius_m)
    unc_max = float(sites.gdf["uncertainty_m"].max()) if len(sites.gdf) else 0.0
    reach = _rule_reach(rule_set, layers.catalog.layers, unc_max if np.isfinite(unc_max) else 0.0)
    radius = (
        max(DEFAULT_SEARCH_RADIUS_M, needed_radius, reach)
        if search_radius_m is None
        else float(search_radius_m)
    )
    if radius < 0 or not math.isfinite(radius):
        raise ZoningError(f"search radius must be a distance >= 0 m, not {quote(search_radius_m)}")
    return radius


def _loaded_input(layers: LayerSet, entry: Any) -> tuple[LayerInput, Layer]:
    """The overlay input of one catalog layer, and the layer (loading it if needed)."""
    lay = layers[entry.id]
    index = lay.index
    return LayerInput(entry.id, entry.kind, index, lay.attributes), lay


def _load_layers(
    layers: LayerSet, on_layer_error: str, notes: list[str], tick: _Progress
) -> tuple[list[LayerInput], list[dict]]:
    """Load every catalog layer: its overlay input and its provenance record.

    A layer that fails to load raises (``on_layer_error="raise"``) or becomes a failed input
    whose rules give ``unknown``, with a note (``"unknown"``).
    """
    inputs: list[LayerInput] = []
    layer_prov: list[dict] = []
    for entry in layers.catalog.layers:
        tick(f"load {entry.id}")
        prov = _layer_provenance(entry)
        try:
            layer_input, lay = _loaded_input(layers, entry)
            inputs.append(layer_input)
            _layer_loaded(prov, lay.report)
            _cache_notes(notes, getattr(lay, "store", None), entry.id)
        except (LayerReadError, LayerDataError, CRSError, CatalogError) as exc:
            if on_layer_error == "raise":
                raise
            msg = " ".join(str(exc).split())
            inputs.append(LayerInput(entry.id, entry.kind, None, None, status="failed", error=msg))  # type: ignore[arg-type]
            prov.update(load="failed", error=msg)
            notes.append(f"layer {entry.id} failed to load ({msg}); rules needing it give unknown")
            log.warning("layer %s failed to load: %s", entry.id, msg)
        layer_prov.append(prov)
    cache = getattr(layers, "index_cache", None)
    if cache is not None:
        notes.extend(n for n in cache.notes if n not in notes)
    return inputs, layer_prov


def _cache_notes(notes: list[str], store: Any, layer_id: str) -> None:
    """Say which of a layer's index cache entries were ignored (damaged, foreign) and rebuilt."""
    if store is None:
        return
    for note in store.notes:
        text = f"layer {layer_id}: {note}"
        if text not in notes:
            notes.append(text)


def _missing_kinds(layers: LayerSet, rule_set: RuleSet, notes: list[str]) -> list[str]:
    """The kinds the rules read that no catalog layer provides (each with a note)."""
    present = {e.kind for e in layers.catalog.layers}
    missing = [k for k in rule_set.kinds if k not in present]
    for k in missing:
        notes.append(f"no {k} layer in the catalog: rules needing it give unknown")
    return missing


def _overlay_sites(
    gdf: gpd.GeoDataFrame,
    inputs: list[LayerInput],
    radius: float,
    missing: list[str],
    options: ScreenOptions,
    tick: _Progress,
) -> OverlayResult:
    """The overlay of the sites with every layer (:func:`zoning.overlay.overlay`)."""
    return overlay(
        gdf.geometry.to_numpy(),
        gdf["site_id"].to_numpy(dtype=object),
        inputs,
        search_radius_m=radius,
        uncertainty_m=gdf["uncertainty_m"].to_numpy(dtype=float),
        missing_kinds=missing,
        pieces=options.pieces,
        rings=options.rings,
        progress=lambda layer_id: tick(f"overlay {layer_id}"),
    )


def _short_search_notes(
    rule_set: RuleSet, searched: Mapping[str, float], radius: float
) -> list[str]:
    """A note per (kind, distance) a ``within`` rule needs beyond how far that kind was
    searched."""
    short = sorted(
        {
            (r.applies_to.kind, r.applies_to.distance_m)
            for r in rule_set.rules
            if r.applies_to is not None
            and r.applies_to.distance_m is not None
            and searched.get(r.applies_to.kind, radius) < r.applies_to.distance_m
        }
    )
    return [
        f"the {kind} layers were searched to {searched.get(kind, radius):g} m, below the "
        f"{need:g} m a rule needs: that rule gives unknown where nothing was found"
        for kind, need in short
    ]


def _site_table(
    gdf: gpd.GeoDataFrame,
    ov: OverlayResult,
    rule_set: RuleSet,
    rules_out: _RulesOutcome,
    searched: Mapping[str, float],
) -> gpd.GeoDataFrame:
    """``result.sites``: the sites with their verdict, totals, sizes and top reasons."""
    n = len(gdf)
    geoms = gdf.geometry.to_numpy()
    out = pd.DataFrame(gdf)  # a plain frame (copy on write): quicker to add columns to
    out["verdict"] = _text_column(rules_out.verdict)
    unc = gdf["uncertainty_m"].to_numpy(dtype=float)
    groups = attribute_groups(rule_set, gdf)
    reach, group, possible_ids = boundary_reach(rule_set, gdf, groups)
    reach, unit_texts = unit_boundaries_that_matter(reach, ov, rule_set, gdf, group, unc, groups)
    totals = site_totals(ov, n, reach, unc, geoms, searched)
    bits = totals.pop("boundary_bits")
    for col, values in totals.items():
        out[col] = values
    out["boundary_rules"] = _text_column(
        boundary_texts(reach.flag_keys, bits, group, possible_ids, rule_set, unit_texts)
    )
    fam = shapely.get_dimensions(geoms)
    out["area_m2"] = _measured(shapely.area, geoms, fam == 2)
    out["length_m"] = _measured(shapely.length, geoms, fam == 1)
    out["n_reasons"] = rules_out.n_reasons
    out["reasons_en"] = _text_column(rules_out.reasons_en)
    out["reasons_zh"] = _text_column(rules_out.reasons_zh)
    # ``out`` is a new frame (copy on write): geopandas need not copy it again.
    return gpd.GeoDataFrame(out, geometry="geometry", crs=WORKING_CRS, copy=False)


def _measured(measure: Callable, geoms: np.ndarray, which: np.ndarray) -> np.ndarray:
    """``measure`` of the geometries ``which`` selects, NaN for the others (a million points
    need no GEOS call)."""
    out = np.full(len(geoms), np.nan)
    if which.any():
        out[which] = measure(geoms[which])
    return out


def _text_column(values: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """A text column of the sites table as pandas strings held as Python objects.

    The texts repeat (one per situation, shared by many sites): held as Python strings the
    column is an array of references to them; pandas' default pyarrow strings would copy
    every text into one buffer (gigabytes and tens of seconds for a million sites' reasons).
    The dtype is still ``"str"`` (``dtype == "str"``), storage ``"python"``.
    """
    return pd.array(np.asarray(values, dtype=object), dtype=PYTHON_STR)


def prepare_point_grid(layers: LayerSet | str | Path | None = None) -> None:
    """Build the combined point grid of a catalog's layers once, so that every later
    ``screen(..., search_radius_m=0)`` of point sites with these layers uses it.

    Parameters
    ----------
    layers : LayerSet or catalog path, optional
        A loaded catalog (the same object passed to :func:`screen`), a catalog path, or None
        for the demonstration catalog.

    Raises
    ------
    CatalogError
        A catalog that does not validate.  Layers that fail to load are left out, as
        :func:`screen` would.

    Notes
    -----
    A single screening builds the grid only for :data:`zoning.overlay.POINT_GRID_MIN_POINTS`
    points or more (it takes seconds to build, then saves about 4.5 s per million points); a
    process that screens many batches of points calls this first.  The grid is kept with the
    layers' indexes (working CRS), so it serves only screenings with the same LayerSet.
    """
    from ..overlay import prepare_point_grid as _prepare

    layers = _catalog(layers)
    inputs = []
    for entry in layers.catalog.layers:
        try:
            inputs.append(_loaded_input(layers, entry)[0])
        except (LayerReadError, LayerDataError, CRSError, CatalogError):
            continue
    _prepare(inputs)
