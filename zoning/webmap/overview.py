"""The layer overview map: every catalog layer, styled by kind and category (``zoning map``)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from ..crs import WGS84, WORKING_CRS
from ..errors import UnknownDistrictError, ZoningError, quote
from ..layerset import LayerSet, load_catalog
from .assets import TOOLS
from .basemaps import resolve_basemap
from .clip import clip_geometries
from .escape import html_text
from .features import feature_collection, layer_spec, tooltip_html, vector_basemap
from .page import WebMap, build_page, check_lang, field_label, value_label
from .simplify import (
    COVERAGE_GROUPS,
    TOLERANCE_M,
    display_geometries,
    fields_for,
    simplify_coverage,
    simplify_features,
)
from .styles import category_styles, kind_style, swatch_html

__all__ = ["GROUPS", "attach_legends", "overview_map", "resolve_clip"]

log = logging.getLogger(__name__)

#: Layer-control groups: (zh, en) title and the kinds in it, in the order they are listed.
GROUPS: tuple[tuple[tuple[str, str], tuple[str, ...]], ...] = (
    (
        ("三条控制线", "Control lines"),
        ("red_line", "development_boundary", "basic_farmland", "cultivated_land"),
    ),
    (
        ("水", "Water"),
        ("water_source_zone", "water", "wetland", "shoreline", "coastline"),
    ),
    (("自然与绿地", "Nature and green space"), ("nature_reserve", "forest", "park", "greenway")),
    (("生态环境管控单元", "Environmental control units"), ("control_unit", "industrial_park")),
    (("行政区与海域", "Districts and sea"), ("district", "sea_area", "population")),
)
#: Drawing order, bottom first (later kinds are drawn on top).
DRAW_ORDER = (
    "sea_area",
    "control_unit",
    "cultivated_land",
    "basic_farmland",
    "forest",
    "park",
    "wetland",
    "water",
    "industrial_park",
    "development_boundary",
    "water_source_zone",
    "nature_reserve",
    "red_line",
    "greenway",
    "coastline",
    "shoreline",
    "district",
    "population",
)
#: Kinds not shown when the page opens (one click away in the layer control).
HIDDEN_AT_LOAD = frozenset({"control_unit"})


def _group_of(kind: str, lang: str) -> tuple[int, str]:
    for i, ((zh, en), kinds) in enumerate(GROUPS):
        if kind in kinds:
            return i, zh if lang == "zh" else en
    return len(GROUPS), "其他" if lang == "zh" else "Other"


def _as_layerset(layers) -> LayerSet:
    if isinstance(layers, LayerSet):
        return layers
    if layers is None or isinstance(layers, str | Path):
        return load_catalog(layers)
    raise TypeError(f"layers must be a LayerSet or a catalog path, not {type(layers).__name__}")


def _district_area(layers: LayerSet, name: str) -> shapely.Geometry:
    """The polygon of the district ``name`` denotes (:meth:`zoning.LayerSet.district`)."""
    try:
        return layers.district(name).geometry
    except UnknownDistrictError:
        raise UnknownDistrictError(
            f"no district named {quote(name)} in the catalog's district layers"
        ) from None


def resolve_clip(layers: LayerSet, clip=None, bbox: Sequence[float] | None = None):
    """The clip area in the working CRS, or None.

    Parameters
    ----------
    layers : LayerSet
        The catalog whose district layers name the districts.
    clip : shapely geometry (WGS84 lon/lat), GeoSeries or GeoDataFrame (any CRS), or str
        An area (a GeoSeries is unioned after reprojection to the working CRS; one already in
        the working CRS is used as it is), or a district, by any name
        :meth:`zoning.LayerSet.district` knows (``"金山区"``, ``"金山"``, ``"Jinshan"``,
        ``"Jinshan District"``, ``"310116"``).
    bbox : (min_lon, min_lat, max_lon, max_lat), WGS84
        Intersected with the clip area when both are given.

    Returns
    -------
    shapely.Geometry or None
        None when neither ``clip`` nor ``bbox`` is given.

    Raises
    ------
    UnknownDistrictError
        No district answers to the name (a :class:`~zoning.errors.ZoningError`).
    ZoningError
        A GeoSeries without CRS, or a malformed ``bbox``.
    """
    area = None
    if isinstance(clip, gpd.GeoDataFrame):
        clip = clip.geometry
    if isinstance(clip, gpd.GeoSeries):
        if clip.crs is None:
            raise ZoningError("clip: the GeoSeries has no CRS")
        series = clip if clip.crs == WORKING_CRS else clip.to_crs(WORKING_CRS)
        area = shapely.union_all(series.to_numpy())
    elif isinstance(clip, str):
        area = _district_area(layers, clip)
    elif clip is not None:
        if not isinstance(clip, shapely.Geometry):
            raise TypeError("clip must be a shapely geometry in WGS84 or a district name")
        area = gpd.GeoSeries([clip], crs=WGS84).to_crs(WORKING_CRS).iloc[0]
    if bbox is not None:
        if len(bbox) != 4 or not (bbox[0] < bbox[2] and bbox[1] < bbox[3]):
            raise ZoningError(
                f"bbox must be (min_lon, min_lat, max_lon, max_lat), not {quote(bbox)}"
            )
        box = shapely.segmentize(shapely.box(*bbox), 0.01)
        box = gpd.GeoSeries([box], crs=WGS84).to_crs(WORKING_CRS).iloc[0]
        area = box if area is None else shapely.intersection(area, box)
    return area


def catalog_layer_specs(
    layers: LayerSet,
    *,
    lang: str,
    shift: str | None,
    clip=None,
    tolerance_m: float = TOLERANCE_M,
    show: Iterable[str] | str | None = None,
    z_offset: int = 0,
) -> tuple[list[dict], dict, bool]:
    """Layer specs for every catalog layer (simplified, clipped, whitelisted properties).

    Parameters
    ----------
    layers : LayerSet
        The catalog's layers; files not yet read are read here.
    lang : {"zh", "en", "both"}
        Language of titles and tooltips.
    shift : {"gcj02", None}
        Shift the drawn coordinates for a basemap in GCJ-02 (Gaode tiles).
    clip : shapely.Geometry, optional
        Clip area in the working CRS (clipped on the full-resolution geometry first).
    tolerance_m : float
        Display simplification tolerance, m (coverages are simplified together).
    show : iterable of str, "all" or None
        Layer ids shown when the page loads; None shows all but the hidden-at-load kinds.
    z_offset : int
        Added to each layer's drawing order.

    Returns
    -------
    specs : list of dict
        In layer-control order.
    summary : dict
        Features drawn per layer id.
    demonstration : bool
        Whether any layer is demonstration data.

    Raises
    ------
    LayerReadError
        A missing or unreadable layer file.
    """
    entries = list(layers.catalog.layers)
    loaded = {e.id: layers[e.id] for e in entries}
    # Clip first, on the full-resolution geometry, then simplify what is left: clipping a
    # simplified coverage would leave slivers of the neighbours (their simplified edges run up
    # to the tolerance inside the clip area), and it is faster.
    source = {e.id: loaded[e.id].gdf.geometry.to_numpy() for e in entries}
    if clip is not None:
        source = {k: clip_geometries(v, clip) for k, v in source.items()}
    # Coverages are simplified together (shared edges move once for both neighbours).
    simplified: dict[str, np.ndarray] = {}
    for group in COVERAGE_GROUPS:
        members = [e for e in entries if e.kind in group]
        if not members:
            continue
        arrays = [source[e.id] for e in members]
        merged = simplify_coverage(np.concatenate(arrays), tolerance_m)
        start = 0
        for e, arr in zip(members, arrays, strict=True):
            simplified[e.id] = merged[start : start + len(arr)]
            start += len(arr)
    specs, summary, demo = [], {}, False
    if show == "all":
        shown = {e.id for e in entries}
    elif show is None:
        shown = {e.id for e in entries if e.kind not in HIDDEN_AT_LOAD}
    else:
        shown = set(show)
    for e in entries:
        lay = loaded[e.id]
        gdf = lay.gdf
        geoms = simplified.get(e.id)
        if geoms is None:
            geoms = simplify_features(source[e.id], tolerance_m)
        disp = display_geometries(geoms, shift=shift)
        cats = gdf["category"] if "category" in gdf.columns else None
        styles = category_styles(e.kind, cats.dropna().astype(str)) if cats is not None else {}
        title = e.title(lang)
        fields = [f for f in fields_for(e.kind) if f in gdf.columns]
        columns = {f: gdf[f].to_numpy(dtype=object) for f in fields}
        catvals = cats.to_numpy(dtype=object) if cats is not None else None
        props = []
        for i in range(len(gdf)):
            rows = []
            for f in fields:
                v = columns[f][i]
                if f in ("category", "level", "realm"):
                    v = value_label(v, lang) if v is not None else v
                rows.append((field_label(f, lang), v))
            p = {"t": tooltip_html(title, rows)}
            if styles and catvals is not None and catvals[i] is not None:
                p["c"] = str(catvals[i])
            props.append(p)
        fc, dropped = feature_collection(disp, props)
        group_index, group = _group_of(e.kind, lang)
        style = kind_style(e.kind)
        shape = {"line": "line", "point": "dot"}.get(e.kind_info.geometry, "box")
        name_html = swatch_html(style, shape) + html_text(title)
        spec = layer_spec(
            id=e.id,
            name_html=name_html,
            group=group,
            kind=e.kind,
            data=fc,
            show=e.id in shown,
            style=style,
            styles=styles,
        )
        order = DRAW_ORDER.index(e.kind) if e.kind in DRAW_ORDER else len(DRAW_ORDER)
        spec["z"] = z_offset + order
        spec["_group_index"] = group_index
        # The legend shows what the page draws: categories present among the features kept.
        present = {f["properties"].get("c") for f in fc["features"]}
        legend_styles = {c: st for c, st in styles.items() if c in present}
        spec["_legend"] = (title, style, legend_styles, shape, e.kind, len(fc["features"]))
        present = disp[~shapely.is_empty(disp)]
        spec["_bounds"] = shapely.total_bounds(present) if len(present) else None
        specs.append(spec)
        summary[e.id] = {"features": len(fc["features"]), "dropped": dropped}
        demo = demo or e.is_demonstration
        if dropped:
            log.info("%s: %d features outside the map area or below 1 m", e.id, dropped)
    specs.sort(key=lambda s: s["_group_index"])
    return specs, summary, demo


def attach_legends(specs: list[dict], lang: str) -> None:
    """Give each spec its block of the legend (``legend_html``: escaped parts).

    A layer with categories gets its title and one indented line per category present; a
    layer without gets one line (its swatch and title), in a block of its own so it cannot be
    read as a category of the layer above.  Layers with no feature on the page get no block
    (they stay in the layer control), and categories no feature on the page has are left out.
    The page shows a block only while its layer is on the map.

    Parameters
    ----------
    specs : list of dict
        Layer specs of :func:`catalog_layer_specs`; modified in place (their private legend
        entry is replaced by ``legend_html``).
    lang : {"zh", "en", "both"}
    """
    for spec in specs:
        title, style, styles, shape, _kind, n_features = spec.pop("_legend")
        spec.pop("_group_index", None)
        if not n_features:
            continue  # nothing of this layer on the page (it stays in the layer control)
        if styles:
            parts = [f'<div class="lg-h">{html_text(title)}</div>']
            for cat, st in styles.items():
                label = html_text(value_label(cat, lang))
                parts.append(f'<div class="lg-i">{swatch_html(st, shape)}{label}</div>')
        else:
            parts = [f'<div class="lg-i">{swatch_html(style, shape)}{html_text(title)}</div>']
        spec["legend_html"] = "".join(parts)


def bounds_of(specs: list[dict]) -> list[list[float]] | None:
    """[[south, west], [north, east]] of the features in the specs (display coordinates).

    Parameters
    ----------
    specs : list of dict
        Layer specs; their private bounds entries are removed.

    Returns
    -------
    list or None
        None when no spec has features.
    """
    boxes = [s["_bounds"] for s in specs if s.get("_bounds") is not None]
    for s in specs:
        s.pop("_bounds", None)
    if not boxes:
        return None
    b = np.array(boxes)
    return [
        [float(b[:, 1].min()), float(b[:, 0].min())],
        [float(b[:, 3].max()), float(b[:, 2].max())],
    ]


def overview_map(
    layers: LayerSet | str | Path | None = None,
    *,
    lang: str = "zh",
    basemap: str = "osm",
    offline: bool = False,
    tianditu_key: str | None = None,
    clip=None,
    bbox: Sequence[float] | None = None,
    show: Iterable[str] | str | None = None,
    title: str | None = None,
    tolerance_m: float = TOLERANCE_M,
    tools: Iterable[str] = TOOLS,
    collapsed: bool = False,
) -> WebMap:
    """Build the layer overview map: every catalog layer, styled by kind and category.

    Parameters
    ----------
    layers : LayerSet or catalog path, optional
        Default: the bundled demonstration catalog.
    lang : {"zh", "en"}
        Language of titles, labels, legend and tooltips.
    basemap : {"osm", "carto", "gaode", "tianditu", "none"}
        See :mod:`zoning.webmap.basemaps`.  ``"gaode"`` shifts every overlay to GCJ-02.
    offline : bool
        Only the built-in vector basemap, no tiles offered: the page makes no network request
        (its Content-Security-Policy forbids them).
    tianditu_key : str, optional
        Key for ``basemap="tianditu"`` (else ``TIANDITU_KEY``).  It is written into the page's
        tile URLs: use a browser key restricted to the domain that serves the page.
    clip : shapely geometry (WGS84), GeoSeries (any CRS) or district name, optional
        Keep only what lies inside (per-district maps: ``clip="金山区"``).  Features are clipped
        at full resolution, then simplified; pieces that only touch the area's edge (lines of
        a polygon layer, slivers under 10 m²) are dropped.
    bbox : (min_lon, min_lat, max_lon, max_lat), optional
        Keep only what lies inside this box (WGS84).
    show : iterable of layer ids, or "all", optional
        Layers drawn when the page opens (default: all but the control units); the others
        are listed in the layer control.
    title : str, optional
        Page title (plain text).
    tolerance_m : float
        Simplification tolerance (metres); see :mod:`zoning.webmap.simplify`.
    tools : iterable of str
        Any of ``scale``, ``measure``, ``fullscreen``, ``coordinates``, ``draw``.
    collapsed : bool
        Show the layer control as a button that opens on hover (small maps).

    Returns
    -------
    WebMap
        Call :meth:`WebMap.save` (or :meth:`WebMap.to_html`).

    Notes
    -----
    Tooltips show only the whitelisted fields of :data:`zoning.webmap.simplify.FIELDS`.
    Cost: one read of each layer (cached by the LayerSet), one coverage simplification per
    coverage group, one per-feature simplification per other layer; the demonstration catalog
    builds in about 2 s.  The layer objects are not modified.
    """
    lang = check_lang(lang)
    layers = _as_layerset(layers)
    bm = resolve_basemap(basemap, lang=lang, tianditu_key=tianditu_key)
    area = resolve_clip(layers, clip, bbox)
    specs, summary, demo = catalog_layer_specs(
        layers, lang=lang, shift=bm.shift, clip=area, tolerance_m=tolerance_m, show=show
    )
    vector = vector_basemap(layers, shift=bm.shift, clip=area, lang=lang)
    bounds = bounds_of(specs)
    attach_legends(specs, lang)
    if title is None:
        cat_title = layers.catalog.title
        base = "生态空间图层总览" if lang == "zh" else "Zoning layers overview"
        title = f"{base} — {cat_title}" if cat_title else base
        if isinstance(clip, str):
            title = f"{title} — {clip}"
    return build_page(
        title=title,
        lang=lang,
        basemap=bm,
        offline=offline,
        layers=specs,
        vector=vector,
        legend_html="",
        bounds=bounds,
        demonstration=demo,
        notices=bm.notes(),
        tools=tools,
        collapsed=collapsed,
        summary={"layers": summary, "basemap": bm.name, "shift": bm.shift},
    )
