"""A map page: a folium map whose layers, controls and tools come from one escaped JSON document.

:class:`WebMap` is what :func:`~zoning.webmap.overview_map` and
:func:`~zoning.webmap.screening_map` return.  Its :attr:`WebMap.map` is a :class:`folium.Map`
stripped of folium's CDN scripts (no jQuery, no Bootstrap, no Font Awesome); Leaflet, the
plugins and the page's own script (``static/zoning-map.js``) are placed by
:mod:`zoning.webmap.assets`.  The data travel in a ``<script type="application/json">`` element
written with :func:`~zoning.webmap.escape.script_json`; the page's script builds the Leaflet
layers from it and puts data strings into the DOM as text (see ``zoning-map.js``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ZoningError, quote
from ..io.outputs import write_atomic
from ..labels import UNIT_CATEGORY_LABELS
from .assets import ASSET_MODES, TOOLS, asset_tags, assets_for, copy_assets
from .basemaps import Basemap
from .clip import (  # re-exported for old import paths
    CLIP_SLIVER_M,
    CLIP_SLIVER_M2,
    CLIP_SLIVER_WIDTH_M,
    clip_geometries,
)
from .escape import html_attr, html_text, script_json
from .features import (  # noqa: F401 (re-exported for old import paths)
    BASEMAP_WATER,
    feature_collection,
    layer_spec,
    tooltip_html,
    vector_basemap,
)
from .simplify import (  # noqa: F401 (re-exported for old import paths)
    BASEMAP_TOLERANCE_M,
    display_geometries,
    simplify_coverage,
)
from .styles import (  # noqa: F401 (re-exported for old import paths)
    CATEGORY_COLORS,
    KIND_STYLES,
    category_styles,
    kind_style,
    multi_swatch_html,
    swatch_html,
)

__all__ = [
    "CLIP_SLIVER_M",
    "CLIP_SLIVER_M2",
    "CLIP_SLIVER_WIDTH_M",
    "DEMO_NOTICE",
    "LANGS",
    "ZOOM_SNAP",
    "WebMap",
    "clip_geometries",
    "content_security_policy",
    "tile_hosts",
]

log = logging.getLogger(__name__)

LANGS = ("zh", "en")
#: The notice every page showing demonstration data carries (visible, not dismissable).
DEMO_NOTICE = ("演示数据，非官方生态保护红线", "DEMONSTRATION DATA — not the official red line")

#: Display names of the standard fields.
FIELD_LABELS = {
    "name": ("名称", "Name"),
    "name_en": ("英文名称", "English name"),
    "category": ("类别", "Category"),
    "realm": ("区域", "Realm"),
    "district": ("所在区", "District"),
    "level": ("级别", "Level"),
    "unit_code": ("单元编码", "Unit code"),
}
#: Display names of coded values.
VALUE_LABELS = {
    **UNIT_CATEGORY_LABELS,
    "level1": ("一级保护区", "grade I protection zone"),
    "level2": ("二级保护区", "grade II protection zone"),
    "quasi": ("准保护区", "quasi-protection zone"),
    "core": ("核心区", "core zone"),
    "buffer": ("缓冲区", "buffer zone"),
    "experimental": ("实验区", "experimental zone"),
    "national": ("国家级", "national"),
    "municipal": ("市级", "municipal"),
    "land": ("陆域", "land"),
    "sea": ("长江河口及海域", "estuary and sea"),
    "river": ("河流", "river"),
    "canal": ("河道", "canal"),
    "lake": ("湖泊", "lake"),
    "reservoir": ("水库", "reservoir"),
    "central_city": ("主城区", "central city"),
    "new_town": ("新城", "new town"),
    "district_centre": ("区级中心", "district centre"),
    "industrial": ("产业基地", "industrial area"),
    # red-line types (生态保护红线类型), written in Chinese in the data
    "水源涵养": ("水源涵养", "water conservation"),
    "生物多样性维护": ("生物多样性维护", "biodiversity maintenance"),
    "特别保护海岛": ("特别保护海岛", "specially protected islands"),
    "重要渔业资源产卵场": ("重要渔业资源产卵场", "important fishery spawning grounds"),
    "重要滩涂及浅海水域": ("重要滩涂及浅海水域", "important tidal flats and shallow waters"),
    "水土保持": ("水土保持", "soil and water conservation"),
    "防风固沙": ("防风固沙", "windbreak and sand fixation"),
    "海岸生态稳定": ("海岸生态稳定", "coastal ecological stability"),
}


def value_label(value: Any, lang: str) -> str:
    """The display name of a coded value in ``lang`` (:data:`VALUE_LABELS`), else the value.

    Parameters
    ----------
    value : any
        None gives "".
    lang : {"zh", "en"}

    Returns
    -------
    str
    """
    text = "" if value is None else str(value)
    pair = VALUE_LABELS.get(text)
    if pair is None:
        return text
    return pair[0] if lang == "zh" else pair[1]


def field_label(name: str, lang: str) -> str:
    """The display name of a standard field in ``lang`` (:data:`FIELD_LABELS`), else ``name``.

    Parameters
    ----------
    name : str
    lang : {"zh", "en"}

    Returns
    -------
    str
    """
    pair = FIELD_LABELS.get(name, (name, name))
    return pair[0] if lang == "zh" else pair[1]


def check_lang(lang: str) -> str:
    """``lang`` when it is one of :data:`LANGS`.

    Parameters
    ----------
    lang : str

    Returns
    -------
    str

    Raises
    ------
    ZoningError
        Another language.
    """
    if lang not in LANGS:
        raise ZoningError(f"unknown language {quote(lang)} (use zh or en)")
    return lang


# ------------------------------------------------------------------------------------ the page


UI = {
    "zh": {
        "export_title": "导出所绘场址为 GeoJSON（WGS84，可直接用于 zoning screen）",
        "fullscreen": "全屏",
        "fullscreen_exit": "退出全屏",
        "tiles_unreachable": "无法加载在线底图，已切换为矢量底图。",
        "legend": "图例",
    },
    "en": {
        "export_title": "Export the drawn sites as GeoJSON (WGS84, for zoning screen as is)",
        "fullscreen": "Full screen",
        "fullscreen_exit": "Exit full screen",
        "tiles_unreachable": "Online tiles unreachable: switched to the vector basemap.",
        "legend": "Legend",
    },
}


#: Zoom steps of every page (half levels: a district or a set of sites fills the map better).
ZOOM_SNAP = 0.5


def tile_hosts(tiles: Sequence) -> list[str]:
    """CSP host sources of the tile URLs (``https://*.basemaps.cartocdn.com`` for ``{s}``).

    Parameters
    ----------
    tiles : sequence of TileSource
        The offered tile layers; every URL of each (``urls``) is read.

    Returns
    -------
    list of str
        ``scheme://host`` (no port or path) in first-seen order, without repeats; a
        placeholder in the host's first label makes it ``*``.  URLs without a host add
        nothing.

    Raises
    ------
    ZoningError
        A placeholder (``{``) in a label of the host other than the first.
    """
    from urllib.parse import urlsplit

    hosts: list[str] = []
    for t in tiles:
        for url in t.urls:
            parts = urlsplit(url)
            labels = parts.hostname.split(".") if parts.hostname else []
            if not labels:
                continue
            if "{" in labels[0]:
                labels[0] = "*"
            if any("{" in lab for lab in labels):
                raise ZoningError(f"tile URL with a placeholder inside its host: {url}")
            host = f"{parts.scheme}://{'.'.join(labels)}"
            if host not in hosts:
                hosts.append(host)
    return hosts


def content_security_policy(*, tile_hosts: Sequence[str] = (), tools: Sequence[str] = ()) -> str:
    """The page's Content-Security-Policy: nothing from the network but the given tile hosts.

    Scripts and styles may come from the page itself (inline, or an assets folder beside it);
    images from the page, ``data:``/``blob:`` URIs and the tile hosts; no ``fetch``/XHR
    (``connect-src 'none'``), no frames, no plugins, no form posts, no ``<base>``.  An offline
    page (no tile hosts) can make no network request at all.  ``'unsafe-eval'`` is allowed
    only with the measure tool (leaflet-measure 2.1.7 compiles its templates with
    ``new Function``); ``'unsafe-inline'`` is needed by the inline assets.

    Parameters
    ----------
    tile_hosts : sequence of str
        Host sources allowed for images (:func:`tile_hosts`), in this order.
    tools : sequence of str
        The page's tools; only ``"measure"`` changes the policy.

    Returns
    -------
    str
        The directives joined by ``"; "`` (the ``content`` of the page's ``<meta>``, to be
        attribute-escaped there).
    """
    script = "script-src 'self' 'unsafe-inline'"
    if "measure" in tools:
        script += " 'unsafe-eval'"
    img = " ".join(["img-src 'self' data: blob:", *tile_hosts])
    return "; ".join(
        [
            "default-src 'none'",
            script,
            "style-src 'self' 'unsafe-inline'",
            img,
            "font-src 'self' data:",
            "connect-src 'none'",
            "media-src 'none'",
            "object-src 'none'",
            "frame-src 'none'",
            "worker-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )


def _folium():
    from .._optional import require

    return require("folium")


@dataclass
class WebMap:
    """A built map page.

    Attributes
    ----------
    map : folium.Map
        The page's folium map (its figure holds the assets, notices and data elements).  Add
        your own elements with care: folium's ``Tooltip``/``Popup``/``GeoJsonTooltip`` do not
        escape, and folium plugins bring CDN links back.
    config : dict
        The page's data (what ``zoning-map.js`` builds the map from).
    title : str
        Plain-text page title.
    lang : {"zh", "en"}
    offline : bool
        True when the page offers no tile layer: only the built-in vector basemap, and a
        Content-Security-Policy that forbids every network request.
    demonstration : bool
        True when a shown layer is demonstration data (the page carries :data:`DEMO_NOTICE`).
    summary : dict
        Layer ids -> number of features drawn, and what was dropped or shifted.
    """

    map: Any
    config: dict
    title: str
    lang: str
    offline: bool
    demonstration: bool
    tools: tuple[str, ...]
    notices: list[tuple[str, str]] = field(default_factory=list)
    summary: dict = field(default_factory=dict)

    def add_html(self, html: str, *, where: str = "top", name: str | None = None) -> WebMap:
        """Put HTML on the page (a site's navigation bar, a side panel); returns the page.

        Parameters
        ----------
        html : str
            Markup placed verbatim: build it from escaped parts (:mod:`zoning.webmap.escape`
            or a jinja2 template with autoescaping), never from raw data.  It is not treated
            as a template (``{{ }}`` in it stays text).
        where : {"top", "bottom", "head"}
            ``"top"``: first in ``<body>``, above the notices; ``"bottom"``: after the map
            element; ``"head"``: in ``<head>``, after the assets (style sheets, meta tags).
        name : str, optional
            Element name; adding again under the same name replaces the element.

        Returns
        -------
        WebMap
            This page, for chaining.

        Raises
        ------
        ZoningError
            ``where`` is not one of the three places.
        """
        if where not in ("top", "bottom", "head"):
            raise ZoningError(f"where must be 'top', 'bottom' or 'head', not {quote(where)}")
        fig = self.map.get_root()
        key = name or f"zoning_extra_{where}_{len(fig.html._children) + len(fig.header._children)}"
        element = _raw_element(html)
        if where == "head":
            fig.header.add_child(element, name=key)
        elif where == "top":
            fig.html.add_child(element, name=key, index=0)
        else:
            # The map's own element is added when the page renders; hold its place first so
            # that what is added here comes after it.
            map_name = self.map.get_name()
            if map_name not in fig.html._children:
                fig.html.add_child(_raw_element(""), name=map_name)
            fig.html.add_child(element, name=key)
        return self

    def to_html(self, *, assets: str = "inline", assets_url: str = "assets") -> str:
        """The page as HTML text.

        Parameters
        ----------
        assets : {"inline", "folder"}
            ``"inline"``: one self-contained file.  ``"folder"``: links to ``assets_url``
            (relative to the page), which :meth:`save` or :func:`~zoning.webmap.assets.copy_assets`
            fills.
        assets_url : str
            URL of the assets folder relative to the page (``"folder"`` mode).

        Returns
        -------
        str
            The whole page.

        Raises
        ------
        ZoningError
            An unknown ``assets`` mode, or an asset that cannot be inlined
            (:func:`~zoning.webmap.assets.asset_tags`).
        """
        if assets not in ASSET_MODES:
            raise ZoningError(
                f"unknown assets mode {quote(assets)} (known: {', '.join(ASSET_MODES)})"
            )
        fig = self.map.get_root()
        fig.header._children["zoning_assets"].raw = asset_tags(
            assets_for(self.tools), assets, folder_url=assets_url
        )
        return fig.render()

    def save(
        self,
        path: str | Path,
        *,
        assets: str = "inline",
        assets_dir: str = "assets",
    ) -> Path:
        """Write the page atomically (temporary file, then rename); returns the path.

        With ``assets="folder"`` the assets are first copied into ``assets_dir`` beside the
        page (relative to the page's folder).  A failure leaves no partial page.

        Parameters
        ----------
        path : path
            The page's file; its folder must exist.
        assets : {"inline", "folder"}
            As in :meth:`to_html`.
        assets_dir : str
            With ``"folder"``: the assets folder, relative to the page's folder; it is also
            the URL the page links to.

        Returns
        -------
        Path
            ``path``.

        Raises
        ------
        OSError
            The page's folder does not exist.
        ZoningError
            An unknown ``assets`` mode, or an asset that cannot be inlined or copied
            (:func:`~zoning.webmap.assets.asset_tags`,
            :func:`~zoning.webmap.assets.copy_assets`).

        Notes
        -----
        The whole page is rendered in memory before it is written (inline, it carries about
        0.2 to 0.4 MB of assets besides the data).  Assets copied before a failure of the
        page's own write stay in ``assets_dir``.
        """
        path = Path(path)
        parent = path.parent if str(path.parent) else Path(".")
        if not parent.is_dir():
            raise OSError(2, "output folder does not exist", str(parent))
        text = self.to_html(assets=assets, assets_url=assets_dir)
        if assets == "folder":
            copy_assets(assets_for(self.tools), parent / assets_dir)
        write_atomic(path, text)
        log.info("wrote %s (%.1f kB)", path, len(text.encode("utf-8")) / 1024)
        return path


#: branca's page template (branca 0.8), with the page's language on <html>.
_FIGURE_TEMPLATE = (
    "<!DOCTYPE html>\n"
    '<html lang="@LANG@">\n'
    "<head>\n"
    "{% if this.title %}<title>{{this.title}}</title>{% endif %}"
    "    {{this.header.render(**kwargs)}}\n"
    "</head>\n"
    "<body>\n"
    "    {{this.html.render(**kwargs)}}\n"
    "</body>\n"
    "<script>\n"
    "    {{this.script.render(**kwargs)}}\n"
    "</script>\n"
    "</html>\n"
)


def _raw_element(html: str):
    """A branca element that renders ``html`` verbatim.

    branca's ``Element(text)`` treats its text as a jinja2 template, so data containing
    ``{{ ... }}`` or ``{% ... %}`` would be evaluated; page content never goes through it.
    """
    from branca.element import Element

    class RawHTML(Element):
        def __init__(self, raw: str):
            super().__init__()
            self._name = "RawHTML"
            self.raw = raw

        def render(self, **kwargs) -> str:
            return self.raw

    return RawHTML(html)


def build_page(
    *,
    title: str,
    lang: str,
    basemap: Basemap,
    offline: bool,
    layers: list[dict],
    vector: dict | None,
    legend_html: str,
    bounds: list[list[float]] | None,
    demonstration: bool,
    notices: list[tuple[str, str]],
    tools: Sequence[str],
    collapsed: bool = False,
    summary: dict | None = None,
    sites: dict | None = None,
) -> WebMap:
    """Assemble a :class:`WebMap` from prepared layer specs (see :func:`layer_spec`).

    ``legend_html`` is the legend's fixed part (escaped parts; the layers' own blocks come
    with their specs); ``sites`` the data the screening's site popups are built from.
    Offline pages offer no tile layer; every page carries a Content-Security-Policy
    (:func:`content_security_policy`) allowing only the offered tile hosts.

    Parameters
    ----------
    title : str
        Plain-text title: the page's ``<title>`` and its first notice.
    lang : {"zh", "en"}
        Language of the page's interface texts and notices.
    basemap : Basemap
        Its tile layers are offered (the first one shown) unless ``offline``; its shift is
        passed to the page's script.
    offline : bool
        Offer no tile layer: the page can make no network request.
    layers : list of dict
        Overlay specs (:func:`layer_spec`), listed in this order in the layer control.
    vector : dict or None
        The vector basemap (:func:`vector_basemap`); the active basemap when the page is
        offline or has no tiles.
    legend_html : str
        The legend's fixed part (escaped HTML).
    bounds : list of list of float or None
        ``[[south, west], [north, east]]`` in display coordinates: the map is fitted to
        them and centred between them; None: centred on 31.2 N, 121.45 E.
    demonstration : bool
        Add :data:`DEMO_NOTICE` after the title.
    notices : list of (str, str)
        Further ``(zh, en)`` notices, shown in ``lang`` after the title.
    tools : sequence of str
        Tools of the page (:data:`~zoning.webmap.assets.TOOLS`), kept in that order.
    collapsed : bool
        Start with the layer control collapsed (narrow screens always do).
    summary : dict, optional
        Stored as :attr:`WebMap.summary`.
    sites : dict, optional
        Stored in the page's data; the site popups and tooltips are built from it.

    Returns
    -------
    WebMap
        Its assets are placed when it is rendered (:meth:`WebMap.to_html`,
        :meth:`WebMap.save`).

    Raises
    ------
    ZoningError
        An unknown tool.
    MissingDependencyError
        folium is not installed.

    Notes
    -----
    The map's element id is fixed, so the same inputs give the same page.
    """
    folium = _folium()
    from folium.template import Template

    tools = _check_tools(tools)
    # An offline page offers no tiles at all: its CSP forbids every network request.
    sources = () if offline else basemap.tiles
    config = _page_config(
        lang=lang,
        basemap=basemap,
        offline=offline,
        sources=sources,
        layers=layers,
        vector=vector,
        legend_html=legend_html,
        tools=tools,
        bounds=bounds,
        collapsed=collapsed,
        sites=sites,
    )
    center = [31.2, 121.45]
    if bounds:
        center = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    m = folium.Map(
        location=center,
        zoom_start=9,
        tiles=None,
        prefer_canvas=True,
        control_scale=False,
        zoom_control=True,
    )
    # No CDN scripts: Leaflet and the plugins come from zoning.webmap.assets.
    m.default_js = []
    m.default_css = []
    m._id = "zoning"  # a stable element id: the same inputs give the same page
    fig = m.get_root()
    fig.title = html_text(title)  # branca writes the title unescaped
    csp = content_security_policy(tile_hosts=tile_hosts(sources), tools=tools)
    # First in <head>: the policy covers every script and style sheet after it.
    fig.header.add_child(
        _raw_element(f'<meta http-equiv="Content-Security-Policy" content="{html_attr(csp)}">'),
        name="zoning_csp",
    )
    fig.header.add_child(_raw_element(""), name="zoning_assets")
    fig.html.add_child(
        _raw_element(_notices_html(title, lang, demonstration, notices)), name="zoning_notices"
    )
    fig.html.add_child(
        _raw_element(
            f'<script type="application/json" id="zoning-data">{script_json(config)}</script>'
        ),
        name="zoning_data",
    )
    _add_builder(m)
    html_lang = "zh-CN" if lang == "zh" else "en"
    # branca's page template has a bare <html>: say the language (fonts, screen readers).
    fig._template = Template(_FIGURE_TEMPLATE.replace("@LANG@", html_attr(html_lang)))
    fig.header.add_child(
        _raw_element(f'<meta name="zoning-lang" content="{html_attr(html_lang)}">'),
        name="zoning_meta",
    )
    return WebMap(
        map=m,
        config=config,
        title=title,
        lang=lang,
        offline=offline,
        demonstration=demonstration,
        tools=tools,
        notices=list(notices),
        summary=summary or {},
    )


def _check_tools(tools: Sequence[str]) -> tuple[str, ...]:
    """The known tools among ``tools``, in :data:`TOOLS` order; unknown ones raise."""
    bad = set(tools) - set(TOOLS)
    if bad:
        raise ZoningError(
            f"unknown map tool(s) {', '.join(sorted(bad))} (known: {', '.join(TOOLS)})"
        )
    return tuple(t for t in TOOLS if t in set(tools))


def _page_config(
    *,
    lang: str,
    basemap: Basemap,
    offline: bool,
    sources: Sequence,
    layers: list[dict],
    vector: dict | None,
    legend_html: str,
    tools: tuple[str, ...],
    bounds: list[list[float]] | None,
    collapsed: bool,
    sites: dict | None,
) -> dict:
    """The JSON document the page's script builds the map from."""
    tiles = [t.to_config(lang, active=(i == 0)) for i, t in enumerate(sources)]
    if vector is not None:
        vector = dict(vector, active=offline or not tiles)
    config = {
        "lang": lang,
        "ui": UI[lang],
        "tiles": tiles,
        "vector": vector,
        "layers": layers,
        "legend_html": legend_html,
        "tools": list(tools),
        "shift": basemap.shift,
        "bounds": bounds,
        "collapsed": bool(collapsed),
        "zoom_snap": ZOOM_SNAP,
    }
    if sites is not None:
        config["sites"] = sites
    return config


def _notices_html(
    title: str, lang: str, demonstration: bool, notices: list[tuple[str, str]]
) -> str:
    """The page's notices (escaped): its title, the demonstration notice, then the others."""
    all_notices = [(title, title)]
    if demonstration:
        all_notices.append(DEMO_NOTICE)
    all_notices += notices
    items = []
    for i, (zh, en) in enumerate(all_notices):
        cls = "zoning-notice zoning-title" if i == 0 else "zoning-notice"
        if (zh, en) == DEMO_NOTICE:
            cls = "zoning-notice zoning-demo"
            text = f"{zh} / {en}"
        else:
            text = zh if lang == "zh" else en
        items.append(f'<div class="{cls}">{html_text(text)}</div>')
    return f'<div class="zoning-notices" role="note">{"".join(items)}</div>'


def _add_builder(m) -> None:
    """Add the script that builds the map from the page's JSON document."""
    from branca.element import MacroElement
    from folium.template import Template

    class _Build(MacroElement):
        _template = Template(
            "{% macro script(this, kwargs) %}"
            "zoningBuild({{ this._parent.get_name() }}, "
            'JSON.parse(document.getElementById("zoning-data").textContent));'
            "{% endmacro %}"
        )

    builder = _Build()
    builder._id = "zoning"
    m.add_child(builder, name="zoning_build")
