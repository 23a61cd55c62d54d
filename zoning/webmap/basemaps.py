"""Tile basemaps a map page offers, and which coordinate system the overlays must use for them.

- ``osm`` (default) and ``carto``: OpenStreetMap and CARTO Positron, both offered, the chosen
  one shown first.  WGS84 overlays line up with them.
- ``gaode``: Amap/Gaode road tiles.  They are drawn in GCJ-02, so when Gaode is chosen every
  overlay (and the vector basemap) is shifted from WGS84 to GCJ-02 with the forward formulas of
  :mod:`zoning.crs`, the page says so, cursor coordinates are converted back to WGS84 for
  display, and shapes drawn on the page are converted back to WGS84 before export.  OSM and
  CARTO are then not offered (they would not line up).
- ``tianditu``: the national platform's vector tiles and labels (CGCS2000, which agrees with
  WGS84 to well under a metre); needs a key (``tianditu_key`` or the ``TIANDITU_KEY``
  environment variable), which is written into the page's tile URLs.
- ``none``: no tiles, only the built-in vector basemap (districts, sea, main water bodies).

Every page also carries the vector basemap.  Offline pages offer nothing else (no tile layer in
the layer control), and their Content-Security-Policy forbids every network request; online
pages allow images from their tile hosts only (:func:`zoning.webmap.page.content_security_policy`).
A Tianditu key ends up in every page written with it: use a browser key restricted to the
domain that serves the pages.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from ..errors import ZoningError, quote

__all__ = ["BASEMAPS", "Basemap", "TileSource", "resolve_basemap"]

#: Basemap names accepted by ``--basemap`` and the ``basemap=`` options.
BASEMAPS = ("osm", "carto", "gaode", "tianditu", "none")

_TIANDITU_KEY = re.compile(r"^[A-Za-z0-9]{16,64}$")


@dataclass(frozen=True)
class TileSource:
    """One tile layer (or a stack of tile URLs drawn together, e.g. tiles plus labels)."""

    id: str
    title_zh: str
    title_en: str
    urls: tuple[str, ...]
    attribution_html: str  # a constant written by this module, never data
    subdomains: str = ""
    max_zoom: int = 19

    def title(self, lang: str) -> str:
        """The layer's name in one language.

        Parameters
        ----------
        lang : str
            ``"zh"`` for the Chinese name; any other value gives the English one.

        Returns
        -------
        str
        """
        return self.title_zh if lang == "zh" else self.title_en

    def to_config(self, lang: str, *, active: bool) -> dict:
        """The tile layer as the page's script reads it (plain JSON-ready data).

        Parameters
        ----------
        lang : str
            Language of the name (``"zh"`` or another value for English).
        active : bool
            Whether the page shows this layer first.

        Returns
        -------
        dict
            ``id``, ``name_html`` (the title, HTML-escaped), ``urls``, ``options``
            (``attribution`` HTML, ``maxZoom``, and ``subdomains`` when set) and ``active``.
        """
        from .escape import html_text

        options = {"attribution": self.attribution_html, "maxZoom": self.max_zoom}
        if self.subdomains:
            options["subdomains"] = self.subdomains
        return {
            "id": self.id,
            "name_html": html_text(self.title(lang)),
            "urls": list(self.urls),
            "options": options,
            "active": active,
        }


@dataclass(frozen=True)
class Basemap:
    """The resolved choice: tile layers to offer (first is the chosen one) and the overlay shift."""

    name: str
    tiles: tuple[TileSource, ...]
    shift: str | None  # None or "gcj02"

    def notes(self) -> list[tuple[str, str]]:
        """(zh, en) notes the page must show for this basemap."""
        if self.shift == "gcj02":
            return [
                (
                    "叠加图层已由 WGS84 转换为 GCJ-02 坐标以匹配高德底图；"
                    "光标坐标与导出的图形为 WGS84。",
                    "Overlays shifted to GCJ-02 to match Gaode tiles; cursor coordinates and "
                    "exported shapes are WGS84.",
                )
            ]
        return []


_OSM = TileSource(
    "osm",
    "OpenStreetMap",
    "OpenStreetMap",
    ("https://tile.openstreetmap.org/{z}/{x}/{y}.png",),
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
)
_CARTO = TileSource(
    "carto",
    "CARTO 浅色",
    "CARTO Positron",
    ("https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}.png",),
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors '
    '&copy; <a href="https://carto.com/attributions">CARTO</a>',
    subdomains="abcd",
    max_zoom=20,
)


def _gaode(lang: str) -> TileSource:
    code = "zh_cn" if lang == "zh" else "en"
    return TileSource(
        "gaode",
        "高德地图（GCJ-02）",
        "Gaode / Amap (GCJ-02)",
        (
            f"https://webrd0{{s}}.is.autonavi.com/appmaptile?lang={code}&size=1&scale=1&style=8"
            "&x={x}&y={y}&z={z}",
        ),
        "&copy; 高德地图 AutoNavi",
        subdomains="1234",
        max_zoom=18,
    )


def _tianditu(key: str, lang: str) -> TileSource:
    labels = "cva" if lang == "zh" else "eva"

    def url(layer: str) -> str:
        return (
            f"https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
            f"&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
            f"&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
        )

    return TileSource(
        "tianditu",
        "天地图",
        "Tianditu",
        (url("vec"), url(labels)),
        "&copy; 天地图 Tianditu (国家地理信息公共服务平台)",
        subdomains="01234567",
        max_zoom=18,
    )


def resolve_basemap(
    name: str | None = "osm", *, lang: str = "zh", tianditu_key: str | None = None
) -> Basemap:
    """Resolve a ``--basemap`` choice.

    Parameters
    ----------
    name : str or None, default "osm"
        One of :data:`BASEMAPS`, in any case and with surrounding spaces; None or empty means
        ``osm``.
    lang : str, default "zh"
        Language of the Gaode and Tianditu tile labels (``"zh"``, else English).
    tianditu_key : str, optional
        The Tianditu key; default the ``TIANDITU_KEY`` environment variable.  Read only for
        ``tianditu``.

    Returns
    -------
    Basemap
        ``osm``: OSM then CARTO; ``carto``: CARTO then OSM; ``gaode``: Gaode tiles only, with
        the overlays shifted to GCJ-02; ``tianditu``: Tianditu, then OSM and CARTO; ``none``:
        no tiles.

    Raises
    ------
    ZoningError
        For an unknown name, or ``tianditu`` without a key (argument or ``TIANDITU_KEY``) or
        with a key that is not 16-64 letters and digits.
    """
    name = (name or "osm").strip().lower()
    if name not in BASEMAPS:
        raise ZoningError(f"unknown basemap {quote(name)} (known: {', '.join(BASEMAPS)})")
    if name == "osm":
        return Basemap(name, (_OSM, _CARTO), None)
    if name == "carto":
        return Basemap(name, (_CARTO, _OSM), None)
    if name == "gaode":
        return Basemap(name, (_gaode(lang),), "gcj02")
    if name == "tianditu":
        key = tianditu_key or os.environ.get("TIANDITU_KEY", "")
        key = key.strip()
        if not key:
            raise ZoningError(
                "the tianditu basemap needs a key: pass --tianditu-key KEY or set TIANDITU_KEY "
                "(a free browser key from the Tianditu developer console)"
            )
        if not _TIANDITU_KEY.match(key):
            raise ZoningError("the Tianditu key must be 16-64 letters and digits")
        return Basemap(name, (_tianditu(key, lang), _OSM, _CARTO), None)
    return Basemap(name, (), None)
