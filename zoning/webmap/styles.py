"""The look of the map layers: base style per kind, colours per category, legend swatches.

Styles are Leaflet path options; swatches are escaped HTML for the layer control and legend.
"""

from __future__ import annotations

import colorsys
from collections.abc import Iterable, Sequence
from typing import Any

from .escape import html_attr

__all__ = [
    "CATEGORY_COLORS",
    "KIND_STYLES",
    "category_styles",
    "kind_style",
    "multi_swatch_html",
    "swatch_html",
]

#: Base style of each kind (Leaflet path options).
KIND_STYLES: dict[str, dict[str, Any]] = {
    "red_line": {"color": "#b2182b", "fillColor": "#d6604d", "fillOpacity": 0.45, "weight": 1.2},
    "development_boundary": {
        "color": "#542788",
        "fillColor": "#8073ac",
        "fillOpacity": 0.12,
        "weight": 1.5,
        "dashArray": "5 3",
    },
    "basic_farmland": {
        "color": "#4d9221",
        "fillColor": "#b8e186",
        "fillOpacity": 0.55,
        "weight": 0.6,
    },
    "water": {"color": "#2171b5", "fillColor": "#6baed6", "fillOpacity": 0.65, "weight": 0.5},
    "water_source_zone": {
        "color": "#08519c",
        "fillColor": "#3182bd",
        "fillOpacity": 0.3,
        "weight": 1.2,
    },
    "nature_reserve": {
        "color": "#006d2c",
        "fillColor": "#31a354",
        "fillOpacity": 0.4,
        "weight": 1.2,
    },
    "control_unit": {"color": "#666666", "fillColor": "#cccccc", "fillOpacity": 0.3, "weight": 0.6},
    "district": {"color": "#444444", "fillOpacity": 0.0, "weight": 1.6, "fill": False},
    "sea_area": {"color": "#6baed6", "fillColor": "#c6dbef", "fillOpacity": 0.35, "weight": 0.8},
    "forest": {"color": "#1b7837", "fillColor": "#5aae61", "fillOpacity": 0.45, "weight": 0.6},
    "park": {"color": "#1a9850", "fillColor": "#91cf60", "fillOpacity": 0.45, "weight": 0.6},
    "industrial_park": {
        "color": "#8c510a",
        "fillColor": "#d8b365",
        "fillOpacity": 0.35,
        "weight": 1,
    },
    "wetland": {"color": "#01665e", "fillColor": "#80cdc1", "fillOpacity": 0.45, "weight": 0.6},
    "cultivated_land": {
        "color": "#a6d96a",
        "fillColor": "#d9ef8b",
        "fillOpacity": 0.45,
        "weight": 0.5,
    },
    "greenway": {"color": "#1a9850", "weight": 2.5, "opacity": 0.9},
    "coastline": {"color": "#08306b", "weight": 2.5, "opacity": 0.9},
    "shoreline": {"color": "#08306b", "weight": 3, "opacity": 0.9},
    "population": {"color": "#7f2704", "fillColor": "#fd8d3c", "fillOpacity": 0.7, "weight": 1},
}
_FALLBACK_STYLE = {"color": "#525252", "fillColor": "#969696", "fillOpacity": 0.3, "weight": 1}

#: Fill colours of known categories, per kind.
CATEGORY_COLORS: dict[str, dict[str, str]] = {
    "control_unit": {"priority": "#1a9850", "key": "#f46d43", "general": "#fee08b"},
    "water_source_zone": {"level1": "#08519c", "level2": "#4292c6", "quasi": "#9ecae1"},
    "nature_reserve": {"core": "#00441b", "buffer": "#238b45", "experimental": "#a1d99b"},
    "development_boundary": {
        "central_city": "#542788",
        "new_town": "#8073ac",
        "district_centre": "#b2abd2",
        "industrial": "#e08214",
    },
    "water": {"river": "#2171b5", "canal": "#6baed6", "lake": "#08519c", "reservoir": "#08306b"},
}


def _shades(base: str, n: int) -> list[str]:
    """n shades of a colour (lightness from dark to light), for categories without a palette."""
    r, g, b = (int(base[i : i + 2], 16) / 255 for i in (1, 3, 5))
    h, _light, s = colorsys.rgb_to_hls(r, g, b)
    out = []
    for i in range(n):
        li = 0.28 + 0.5 * (i / max(n - 1, 1))
        rr, gg, bb = colorsys.hls_to_rgb(h, li, s)
        out.append(f"#{round(rr * 255):02x}{round(gg * 255):02x}{round(bb * 255):02x}")
    return out


def kind_style(kind: str) -> dict[str, Any]:
    """A copy of the base style of ``kind`` (:data:`KIND_STYLES`; grey for unknown kinds).

    Parameters
    ----------
    kind : str

    Returns
    -------
    dict
        Leaflet path options.
    """
    return dict(KIND_STYLES.get(kind, _FALLBACK_STYLE))


def category_styles(kind: str, categories: Iterable[str]) -> dict[str, dict[str, Any]]:
    """A style per category value: the kind's palette, else shades of the kind's colour (<= 8).

    Parameters
    ----------
    kind : str
    categories : iterable of str
        The layer's category values (None and "" are left out).

    Returns
    -------
    dict
        Category -> Leaflet path options.
    """
    base = kind_style(kind)
    cats = sorted({str(c) for c in categories if c is not None and str(c) != ""})
    palette = CATEGORY_COLORS.get(kind, {})
    if not cats or len(cats) > 8 or base.get("fill") is False:
        return {}
    unknown = [c for c in cats if c not in palette]
    shades = dict(
        zip(unknown, _shades(base.get("fillColor", base["color"]), len(unknown)), strict=True)
    )
    out = {}
    for c in cats:
        colour = palette.get(c) or shades[c]
        st = dict(base)
        if "fillColor" in st or st.get("fill", True):
            st["fillColor"] = colour
        else:
            st["color"] = colour
        out[c] = st
    return out


def _rgba(colour: str, alpha: float) -> str:
    """A CSS colour with ``alpha`` applied (``#rgb``/``#rrggbb``; others are returned as is)."""
    c = str(colour).strip()
    if c.startswith("#") and len(c) in (4, 7):
        h = c[1:]
        if len(h) == 3:
            h = "".join(ch * 2 for ch in h)
        try:
            r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
        except ValueError:
            return c
        a = min(max(float(alpha), 0.0), 1.0)
        return f"rgba({r},{g},{b},{a:g})"
    return c


def swatch_html(style: dict[str, Any], shape: str = "box") -> str:
    """A legend swatch drawn as the map draws ``style`` (Leaflet path options).

    The fill is the fill colour at its ``fillOpacity`` (Leaflet's default 0.2), the outline
    the stroke colour at its ``opacity`` (default 1), dashed when the style has a
    ``dashArray``; ``fill: False`` leaves the inside empty.  Points are drawn as dots, lines as
    a stroke.

    Parameters
    ----------
    style : dict
        Leaflet path options.
    shape : {"box", "dot", "line"}

    Returns
    -------
    str
        Escaped HTML.
    """
    stroke = _rgba(style.get("color", "#3388ff"), style.get("opacity", 1.0))
    border = "dashed" if style.get("dashArray") else "solid"
    if style.get("fill", True) is False or shape == "line":
        fill = "transparent"
    else:
        fill = _rgba(
            style.get("fillColor", style.get("color", "#3388ff")), style.get("fillOpacity", 0.2)
        )
    css = f"border-color:{stroke};border-style:{border};background:{fill}"
    if shape == "line":
        css = f"border-color:{stroke};border-style:{border}"
    cls = {"box": "sw", "line": "sw line", "dot": "sw dot"}[shape]
    return f'<span class="{cls}" style="{html_attr(css)}"></span>'


def multi_swatch_html(colours: Sequence[str], shape: str = "dot") -> str:
    """A swatch split into the given colours (a layer drawn in several colours).

    Parameters
    ----------
    colours : sequence of str
        CSS colours, in the order the swatch shows them.
    shape : {"dot", "box"}

    Returns
    -------
    str
        Escaped HTML.
    """
    n = max(len(colours), 1)
    stops = ",".join(
        f"{c} {100 * i / n:.0f}% {100 * (i + 1) / n:.0f}%" for i, c in enumerate(colours)
    )
    css = f"border-color:#222222;background:conic-gradient({stops})"
    cls = {"box": "sw", "dot": "sw dot"}[shape]
    return f'<span class="{cls}" style="{html_attr(css)}"></span>'
