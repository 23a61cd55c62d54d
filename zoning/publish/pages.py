"""The pages of the public site: templates, links between pages, and one writer per page.

:class:`SiteContent` holds everything the pages show, read and measured before anything is
written; :func:`write_pages` writes the index, the overview map and one map per district, in
each language (the default one at the top of the site, the other under ``en/`` or ``zh/``).
Every string lands in a jinja2 template with autoescaping, or in a map page of
:mod:`zoning.webmap`, which escapes for its own contexts.
"""

from __future__ import annotations

import posixpath
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .._optional import require
from ..crs import WORKING_CRS
from ..layerset import LayerSet
from .downloads import GPKG_NAME, _write, download_columns
from .statistics import District
from .text import (
    INDICATOR_STATUS,
    STATUS_LABELS,
    UI,
    _num,
    _pick,
    _records,
    _str_or_none,
    _target_text,
    _value_text,
    _web_url,
)

#: The folder of the site's templates and style sheets.
TEMPLATES = Path(__file__).parent.parent / "templates" / "publish"


@dataclass(frozen=True)
class MapOptions:
    """How the maps of the site are drawn.

    Attributes
    ----------
    basemap : str
        Tiles of the maps (see :func:`zoning.webmap.overview_map`).
    offline : bool
        Maps open on the built-in vector basemap: no page makes any network request.
    tianditu_key : str, optional
        For ``basemap="tianditu"``.
    """

    basemap: str = "osm"
    offline: bool = False
    tianditu_key: str | None = None


def _templates():
    jinja2 = require("jinja2")
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


class _Tree:
    """Where a page sits: relative links to the site root, the language root and the others."""

    def __init__(self, default_lang: str):
        self.default = default_lang
        self.other = "en" if default_lang == "zh" else "zh"

    def prefix(self, lang: str) -> str:
        return "" if lang == self.default else f"{lang}/"

    def path(self, lang: str, rel: str) -> str:
        return self.prefix(lang) + rel

    @staticmethod
    def link(from_path: str, to_path: str) -> str:
        start = posixpath.dirname(from_path) or "."
        return posixpath.relpath(to_path, start)

    def links(self, lang: str, rel: str) -> dict[str, str]:
        here = self.path(lang, rel)
        other = "en" if lang == "zh" else "zh"
        return {
            "site": self.link(here, "index.html").removesuffix("index.html"),
            "lang": self.link(here, self.path(lang, "index.html")).removesuffix("index.html"),
            "alt": self.link(here, self.path(other, rel)),
            "alt_lang": other,
        }


@dataclass(frozen=True)
class SiteContent:
    """Everything the pages of a site show, read and measured before anything is written.

    Attributes
    ----------
    layers : LayerSet
    stats : pandas.DataFrame
        :func:`zoning.publish.layer_statistics` of ``layers``.
    districts : list of District
    district_stats : pandas.DataFrame
        :func:`zoning.publish.district_statistics` of ``layers`` and ``districts``.
    indicators : pandas.DataFrame
        The indicator table (:func:`zoning.indicators`), city and district rows.
    documents : dict
        Document id -> (Chinese title, English title), for the indicator tables.
    demonstration : bool
        True when any layer is demonstration data.
    provenance : dict
        What the site's marker records (tool version, catalog, layers, options, time).
    tree : _Tree
        The site's languages and the links between its pages.
    env : jinja2.Environment
        The site's templates.
    """

    layers: LayerSet
    stats: pd.DataFrame
    districts: list[District]
    district_stats: pd.DataFrame
    indicators: pd.DataFrame
    documents: dict[str, tuple[str, str]]
    demonstration: bool
    provenance: dict
    tree: _Tree
    env: Any

    def context(self, lang: str, rel: str) -> dict:
        """The template variables every page of ``lang`` at ``rel`` shares.

        Parameters
        ----------
        lang : {"zh", "en"}
            The page language.
        rel : str
            The page's path relative to the site root (POSIX), for relative links.

        Returns
        -------
        dict
        """
        return _page_context(
            lang=lang,
            rel=rel,
            tree=self.tree,
            site_title=UI[lang]["site_title"],
            demonstration=self.demonstration,
            districts=self.districts,
        )


def _page_context(
    *,
    lang: str,
    rel: str,
    tree: _Tree,
    site_title: str,
    demonstration: bool,
    districts: list[District],
) -> dict:
    from ..webmap import DEMO_NOTICE

    return {
        "lang": lang,
        "html_lang": "zh-CN" if lang == "zh" else "en",
        "t": UI[lang],
        "t_alt": UI["en" if lang == "zh" else "zh"],
        "links": tree.links(lang, rel),
        "site_title": site_title,
        "demonstration": demonstration,
        "demo_notice": DEMO_NOTICE,
        "districts": [
            {"slug": d.slug, "label": d.label(lang), "other": _other_label(d, lang)}
            for d in districts
        ],
        "current": rel,
        "other_lang": "en" if lang == "zh" else "zh-CN",
    }


def _other_label(d: District, lang: str) -> str | None:
    other = d.name if lang == "en" else d.name_en
    return other if other and other != d.label(lang) else None


def _layer_rows(stats: pd.DataFrame, lang: str) -> list[dict]:
    rows = []
    for r in stats.to_dict("records"):
        status = r["status"]
        rows.append(
            {
                "id": r["id"],
                "title": r["title_zh"] if lang == "zh" else r["title_en"],
                "title_other": r["title_en"] if lang == "zh" else r["title_zh"],
                "kind": r["kind"],
                "status": _pick(STATUS_LABELS.get(status, (status, status)), lang),
                "status_key": status,
                "source": _str_or_none(r["source"]),
                "vintage": _str_or_none(r["vintage"]),
                "licence": _str_or_none(r["licence"]),
                "url": _str_or_none(r["url"]),
                "link": _web_url(r["url"]),
                "note": _str_or_none(r["note"]),
                "features": f"{int(r['features']):,}",
                "size": (
                    _num(r["area_km2"])
                    if r["area_km2"] is not None and not pd.isna(r["area_km2"])
                    else (
                        f"{_num(r['length_km'])} km"
                        if r["length_km"] is not None and not pd.isna(r["length_km"])
                        else "—"
                    )
                ),
                "file": r["file"],
                "sha256": r["sha256"],
                "download": f"downloads/{r['id']}.geojson",
            }
        )
    return rows


def _stats_rows(stats: pd.DataFrame, entries: dict, lang: str) -> list[dict]:
    rows = []
    for r in stats.to_dict("records"):
        e = entries[r["layer"]]
        if r["geometry"] == "polygon":
            size = _num(r["area_km2"], 2)
            share = f"{_num(r['share_pct'], 2)} %"
        elif r["geometry"] == "line":
            size = f"{_num(r['length_km'], 2)} km"
            share = "—"
        else:
            size, share = "—", "—"
        rows.append(
            {
                "title": e.title(lang),
                "title_other": e.title("en" if lang == "zh" else "zh"),
                "features": f"{int(r['features']):,}",
                "size": size,
                "share": share,
                "empty": int(r["features"]) == 0,
            }
        )
    return rows


def _indicator_rows(frame: pd.DataFrame, lang: str, documents: dict[str, tuple[str, str]]) -> list:
    """Rows of an indicator table (plain strings; the template escapes them)."""
    out = []
    for r in frame.to_dict("records"):
        status = r.get("status")
        zh, en, css = INDICATOR_STATUS.get(status, (status, status, ""))
        doc_id = _str_or_none(r.get("document"))
        doc = documents.get(doc_id) if doc_id else None
        note = _str_or_none(r.get("note"))
        out.append(
            {
                "title": _str_or_none(r.get("title_zh" if lang == "zh" else "title_en"))
                or str(r.get("indicator")),
                "title_other": _str_or_none(r.get("title_en" if lang == "zh" else "title_zh")),
                "target": _target_text(r, lang),
                "measured": _value_text(r.get("value"), r.get("unit"), lang),
                "status": zh if lang == "zh" else en,
                "css": css,
                "note": note,
                "denominator": _str_or_none(r.get("denominator")),
                "document": (doc[0] if lang == "zh" else doc[1]) if doc else doc_id,
                "clause": _str_or_none(r.get("clause")),
            }
        )
    return out


def _copy_site_assets(folder: Path) -> None:
    dest = folder / "site"
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("site.css", "district.css"):
        shutil.copyfile(TEMPLATES / name, dest / name)


def _demo_notice() -> str:
    from ..webmap import DEMO_NOTICE

    return f"{DEMO_NOTICE[0]} / {DEMO_NOTICE[1]}"


def _assets_url(rel: str) -> str:
    depth = rel.count("/")
    return "../" * depth + "assets"


def _nav_district(districts: list[District], i: int, lang: str) -> dict | None:
    if 0 <= i < len(districts):
        return {"slug": districts[i].slug, "label": districts[i].label(lang)}
    return None


def _dress_map(
    page, content: SiteContent, lang: str, rel: str, *, panel: str | None = None
) -> None:
    """Give a map page the site's navigation bar, style sheets and (districts) side panel."""
    ctx = content.context(lang, rel)
    env = content.env
    page.add_html(
        env.get_template("map_head.html").render(**ctx, district=panel is not None),
        where="head",
        name="zoning_site_head",
    )
    page.add_html(env.get_template("nav.html").render(**ctx), where="top", name="zoning_site_nav")
    if panel is not None:
        page.add_html(panel, where="bottom", name="zoning_site_panel")


def write_download_notes(content: SiteContent, folder: Path, downloads: list[dict]) -> None:
    """Write ``README.txt`` (what each download is) and ``SHA256SUMS`` into ``folder``.

    Parameters
    ----------
    content : SiteContent
    folder : Path
        The site's ``downloads`` folder, where :func:`_write_downloads` wrote ``downloads``.
    downloads : list of dict
        One record per download file (``file``, ``sha256``, ...).
    """
    layers = content.layers
    _write(
        folder / "README.txt",
        content.env.get_template("README.txt").render(
            site_title=UI["en"]["site_title"],
            catalog_title=layers.catalog.title,
            layers=_records(content.stats),
            columns={lay.id: download_columns(lay) for lay in layers},
            downloads=downloads,
            gpkg=GPKG_NAME,
            demonstration=content.demonstration,
            demo_notice=_demo_notice(),
            provenance=content.provenance,
        ),
    )
    _write(folder / "SHA256SUMS", "".join(f"{f['sha256']}  {f['file']}\n" for f in downloads))


def write_index_page(content: SiteContent, lang: str, downloads: list[dict], root: Path) -> str:
    """Write the index page of ``lang``: layers, provenance, indicators, downloads.

    Parameters
    ----------
    content : SiteContent
    lang : {"zh", "en"}
    downloads : list of dict
        The download records (:func:`zoning.publish.downloads._write_downloads`).
    root : Path
        The folder the site is built in.

    Returns
    -------
    str
        The page's path relative to ``root`` (POSIX).
    """
    layers = content.layers
    table = content.indicators
    city = table[table["scope"] == "city"]
    ctx = dict(
        content.context(lang, "index.html"),
        layers=_layer_rows(content.stats, lang),
        indicators=_indicator_rows(city, lang, content.documents),
        downloads=downloads,
        gpkg=GPKG_NAME,
        provenance=content.provenance,
        district_areas={d.slug: _num(d.area_km2) for d in content.districts},
        layer_titles={e.id: e.title(lang) for e in layers.catalog.layers},
        catalog_note=_str_or_none(layers.catalog.note),
        catalog_title=_str_or_none(layers.catalog.title),
    )
    rel = content.tree.path(lang, "index.html")
    _write(root / rel, content.env.get_template("index.html").render(**ctx))
    return rel


def _map_page(content: SiteContent, lang: str, maps: MapOptions, title: str, **kwargs):
    from ..webmap import overview_map

    return overview_map(
        content.layers,
        lang=lang,
        basemap=maps.basemap,
        offline=maps.offline,
        tianditu_key=maps.tianditu_key,
        title=f"{title} — {UI[lang]['site_title']}",
        **kwargs,
    )


def write_overview_page(content: SiteContent, lang: str, maps: MapOptions, root: Path) -> str:
    """Write the overview map of ``lang`` (every layer) with the site's navigation.

    Parameters
    ----------
    content : SiteContent
    lang : {"zh", "en"}
    maps : MapOptions
    root : Path
        The folder the site is built in.

    Returns
    -------
    str
        The page's path relative to ``root`` (POSIX).
    """
    rel = content.tree.path(lang, "map.html")
    page = _map_page(content, lang, maps, UI[lang]["overview"])
    _dress_map(page, content, lang, "map.html")
    _write(root / rel, page.to_html(assets="folder", assets_url=_assets_url(rel)))
    return rel


def _district_panel(content: SiteContent, lang: str, i: int, rel_lang: str) -> str:
    """The side panel of a district page: its layers inside it, indicators, neighbours."""
    d = content.districts[i]
    table = content.indicators
    rows = content.district_stats[content.district_stats["slug"] == d.slug]
    drows = table[(table["scope"] == "district") & (table["district"] == d.name)]
    by_slug = {x.slug: x for x in content.districts}
    entries = {e.id: e for e in content.layers.catalog.layers}
    return content.env.get_template("district_panel.html").render(
        **content.context(lang, rel_lang),
        district={
            "label": d.label(lang),
            "other": _other_label(d, lang),
            "area": _num(d.area_km2),
            "slug": d.slug,
        },
        stats=_stats_rows(rows, entries, lang),
        indicators=_indicator_rows(drows, lang, content.documents),
        neighbours=[{"slug": s, "label": by_slug[s].label(lang)} for s in d.neighbours],
        previous=_nav_district(content.districts, i - 1, lang),
        next=_nav_district(content.districts, i + 1, lang),
    )


def write_district_page(
    content: SiteContent, lang: str, i: int, maps: MapOptions, root: Path
) -> str:
    """Write the page of the ``i``-th district: its clipped map and its side panel.

    Parameters
    ----------
    content : SiteContent
    lang : {"zh", "en"}
    i : int
        Position of the district in ``content.districts``.
    maps : MapOptions
    root : Path
        The folder the site is built in.

    Returns
    -------
    str
        The page's path relative to ``root`` (POSIX).
    """
    import geopandas as gpd

    d = content.districts[i]
    rel_lang = f"districts/{d.slug}.html"
    rel = content.tree.path(lang, rel_lang)
    page = _map_page(
        content,
        lang,
        maps,
        d.label(lang),
        clip=gpd.GeoSeries([d.geometry], crs=WORKING_CRS),
        collapsed=True,
    )
    panel = _district_panel(content, lang, i, rel_lang)
    _dress_map(page, content, lang, rel_lang, panel=panel)
    _write(root / rel, page.to_html(assets="folder", assets_url=_assets_url(rel)))
    return rel


def write_pages(
    content: SiteContent, maps: MapOptions, downloads: list[dict], root: Path
) -> list[str]:
    """Write every page of the site under ``root``, default language first.

    Parameters
    ----------
    content : SiteContent
    maps : MapOptions
    downloads : list of dict
        The download records, listed on the index pages.
    root : Path
        The folder the site is built in.

    Returns
    -------
    list of str
        The pages written, relative to ``root``: per language the index, the overview map,
        then one page per district.

    Notes
    -----
    Each map page holds its layers' geometry: two overview maps and one clipped map per
    district and language dominate the cost of a publish.
    """
    pages: list[str] = []
    for lang in (content.tree.default, content.tree.other):
        pages.append(write_index_page(content, lang, downloads, root))
        pages.append(write_overview_page(content, lang, maps, root))
        for i in range(len(content.districts)):
            pages.append(write_district_page(content, lang, i, maps, root))
    return pages
