"""What a map page draws: GeoJSON feature collections, layer specs, tooltips, the vector basemap.

Plain data for the page's script (:mod:`zoning.webmap.page` assembles the page): coordinates
already in display degrees (WGS84, or GCJ-02 for Gaode tiles), every string escaped for the
context it lands in.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely

from ..errors import quote
from .clip import clip_geometries
from .escape import html_text
from .simplify import BASEMAP_TOLERANCE_M, display_geometries, simplify_coverage

__all__ = ["BASEMAP_WATER", "feature_collection", "layer_spec", "tooltip_html", "vector_basemap"]


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and np.isnan(value):
        return False
    return str(value).strip() != ""


def tooltip_html(title: str, rows: Sequence[tuple[str, Any]]) -> str:
    """Tooltip HTML: a bold title and ``label: value`` lines, every part escaped.

    Parameters
    ----------
    title : str
        Plain text, shown first (``<div class="zt-title">``).
    rows : sequence of (str, any)
        Labels and values in display order; a row whose value is None, NaN or blank text is
        left out.  Values are shown as ``str(value)``.

    Returns
    -------
    str
        HTML built from escaped parts only (the page's script binds it as a tooltip).
    """
    parts = [f'<div class="zt-title">{html_text(title)}</div>']
    for label, value in rows:
        if _present(value):
            parts.append(
                f'<div><span class="zt-k">{html_text(label)}:</span> {html_text(value)}</div>'
            )
    return "".join(parts)


# ------------------------------------------------------------------------------------ features


def feature_collection(geoms: np.ndarray, props: Sequence[dict]) -> tuple[dict, int]:
    """A GeoJSON FeatureCollection of display geometries; empty geometries are dropped.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
        Display geometries (WGS84 or GCJ-02 degrees, as
        :func:`~zoning.webmap.simplify.display_geometries` gives); empty ones and None are
        dropped with their properties.
    props : sequence of dict
        One ``properties`` dict per geometry (same length as ``geoms``), used as is.

    Returns
    -------
    dict
        ``{"type": "FeatureCollection", "features": [...]}``, in the order of ``geoms``.
    int
        The number of features dropped.

    Notes
    -----
    Each kept geometry is written as GeoJSON text by shapely and parsed back: the whole
    collection is held in memory as Python dicts and lists of coordinates.
    """
    keep = ~shapely.is_empty(geoms) & ~shapely.is_missing(geoms)
    texts = shapely.to_geojson(geoms[keep])
    kept_props = [p for p, k in zip(props, keep, strict=True) if k]
    feats = [
        {"type": "Feature", "geometry": json.loads(t), "properties": p}
        for t, p in zip(texts, kept_props, strict=True)
    ]
    return {"type": "FeatureCollection", "features": feats}, int((~keep).sum())


def layer_spec(
    *,
    id: str,
    name_html: str,
    group: str,
    kind: str,
    data: dict,
    show: bool,
    style: dict,
    styles: dict | None = None,
    pane: str | None = None,
    ns: str = "catalog",
    legend_html: str | None = None,
) -> dict:
    """One overlay of a page.

    ``ns`` is ``"catalog"`` for catalog layers (``zoningMap.layers[id]`` in the page) or
    ``"screening"`` for the screening's own layers (``zoningMap.screening[id]``): the two never
    share keys, whatever a catalog calls its layers.  ``legend_html`` (escaped parts) is the
    layer's block in the legend, shown while the layer is on the map.

    Parameters
    ----------
    id : str
        The layer's key in its namespace.
    name_html : str
        The layer's name in the layer control (escaped HTML).
    group : str
        Heading of the layer control's group (plain text; the page sets it as text).
    kind : str
        The layer's kind; ``"sites"`` (on a page with ``sites`` data) and ``"rings"`` get
        the screening's own tooltips and popups, others each feature's ``t`` (tooltip) and
        ``p`` (popup) properties.
    data : dict
        A GeoJSON FeatureCollection (:func:`feature_collection`).
    show : bool
        Whether the layer is on the map when the page opens.
    style : dict
        Leaflet path options of the features.
    styles : dict, optional
        Path options by class: a feature whose ``c`` property is a key here gets that style
        instead of ``style``.
    pane : str, optional
        Leaflet pane to draw in (default ``"overlayPane"``).
    ns : {"catalog", "screening"}
        The namespace of ``id`` (see above).
    legend_html : str, optional
        The layer's legend block (escaped HTML).

    Returns
    -------
    dict
        The spec, with ``pane`` and ``legend_html`` only when given.

    Raises
    ------
    ValueError
        ``ns`` is neither ``"catalog"`` nor ``"screening"``.
    """
    if ns not in ("catalog", "screening"):
        raise ValueError(f"ns must be 'catalog' or 'screening', not {quote(ns)}")
    spec = {
        "id": id,
        "ns": ns,
        "name_html": name_html,
        "group": group,
        "kind": kind,
        "show": bool(show),
        "style": style,
        "styles": styles or {},
        "data": data,
    }
    if pane:
        spec["pane"] = pane
    if legend_html:
        spec["legend_html"] = legend_html
    return spec


# ------------------------------------------------------------------------------------ basemap

#: Water categories drawn on the vector basemap ("main water bodies").
BASEMAP_WATER = ("river", "lake", "reservoir")


def vector_basemap(
    layers, *, shift: str | None, clip=None, lang: str = "zh", active: bool = True
) -> dict | None:
    """The built-in vector basemap: districts, sea area and main water bodies of the catalog.

    Simplified at :data:`~zoning.webmap.simplify.BASEMAP_TOLERANCE_M` (districts and sea as one
    coverage); not interactive.  ``None`` when the catalog has none of these layers.  With
    ``clip`` (working CRS), what lies in the clip area's bounding box.

    Parameters
    ----------
    layers : LayerSet
        The catalog's layers (working CRS); its ``sea_area``, ``district`` and ``water``
        layers are drawn, water only for the categories in :data:`BASEMAP_WATER` when the
        layer has a ``category`` column.
    shift : {None, "gcj02"}
        Shift of the display coordinates (see
        :func:`~zoning.webmap.simplify.display_geometries`).
    clip : shapely geometry, optional
        The area shown (working CRS); its bounding box clips the basemap, neighbours
        included (:func:`~zoning.webmap.clip.clip_geometries`, slivers dropped).
    lang : {"zh", "en"}
        Language of the basemap's name.
    active : bool
        Stored as the basemap's ``active`` flag; :func:`build_page` replaces it (active when
        the page is offline or offers no tiles).

    Returns
    -------
    dict or None
        ``{"name_html", "active", "parts"}``, each part ``{"data", "style"}`` (a
        FeatureCollection with empty properties, and its Leaflet path options): sea, then
        districts, then each water layer; None when no part has a feature.

    Notes
    -----
    CRS: geometries are simplified and clipped in the working CRS (metres), then converted
    to WGS84 (or GCJ-02) degrees for display.  Districts and sea are simplified together as
    one coverage, so shared edges stay shared; water features are simplified one by one
    (topology preserved).
    """
    parts = []
    if clip is not None:
        # The basemap is context: everything in the clip area's bounding box (neighbours
        # included), not just the clip area.
        clip = shapely.envelope(clip)
    cover, cover_kind = [], []
    for kind in ("sea_area", "district"):
        for lay in layers.of_kind(kind):
            g = lay.gdf.geometry.to_numpy()
            cover.append(g)
            cover_kind += [kind] * len(g)
    styles = {
        "sea_area": {"color": "#9ecae1", "weight": 0.5, "fillColor": "#deebf7", "fillOpacity": 1},
        "district": {"color": "#9e9e9e", "weight": 1, "fillColor": "#f7f5f0", "fillOpacity": 1},
        "water": {"color": "#9ecae1", "weight": 0.4, "fillColor": "#b3d4ec", "fillOpacity": 1},
    }
    if cover:
        geoms = simplify_coverage(np.concatenate(cover), BASEMAP_TOLERANCE_M)
        kinds = np.asarray(cover_kind)
        for kind in ("sea_area", "district"):
            sel = geoms[kinds == kind]
            if clip is not None:
                sel = clip_geometries(sel, clip)
            disp = display_geometries(sel, shift=shift)
            fc, _ = feature_collection(disp, [{}] * len(disp))
            if fc["features"]:
                parts.append({"data": fc, "style": styles[kind]})
    for lay in layers.of_kind("water"):
        gdf = lay.gdf
        if "category" in gdf.columns:
            gdf = gdf[gdf["category"].astype(str).isin(BASEMAP_WATER)]
        sel = shapely.simplify(gdf.geometry.to_numpy(), BASEMAP_TOLERANCE_M, preserve_topology=True)
        if clip is not None:
            sel = clip_geometries(sel, clip)
        disp = display_geometries(sel, shift=shift)
        fc, _ = feature_collection(disp, [{}] * len(disp))
        if fc["features"]:
            parts.append({"data": fc, "style": styles["water"]})
    if not parts:
        return None
    title = "矢量底图（离线可用）" if lang == "zh" else "Vector basemap (works offline)"
    return {"name_html": html_text(title), "active": bool(active), "parts": parts}
