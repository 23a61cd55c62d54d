"""The public map pages: a static site built from a catalog (``zoning publish OUT_DIR``).

What the site holds (paths relative to ``OUT_DIR``; the default language at the top, the other
one under ``en/`` or ``zh/`` with the same pages)::

    index.html                the layers (titles, provenance, counts, areas), links to every
                              page and download, the city indicator table, how it was made
    map.html                  the overview map (every layer; control units one click away)
    districts/<slug>.html     one per district: its clipped map, the area of each layer inside
                              it (km², share, features) and its indicator table
    en/ (or zh/)              the same pages in the other language
    downloads/<layer>.geojson each layer, WGS84 (RFC 7946), full resolution
    downloads/zoning_layers.gpkg   every layer in one GeoPackage (EPSG:4326)
    downloads/README.txt      what each file is, provenance and licence per layer
    downloads/SHA256SUMS      checksums of the downloads
    assets/                   Leaflet, the map plugins, the site's style sheets (shared)
    .zoning-publish.json      the marker of a site made here: its provenance and its files

Every page works from ``file://`` and from any static web server, and makes no network request
except for map tiles, which ``offline=True`` leaves off (only the built-in vector basemap is
offered); each page's Content-Security-Policy allows nothing else.
Only whitelisted attribute columns (:data:`zoning.webmap.simplify.FIELDS`) plus the catalog's
provenance (status, source, vintage, licence) are published, on the pages and in the downloads.
Every string from data or users is escaped for the context it lands in (jinja2 autoescaping for
the pages, :mod:`zoning.webmap.escape` on the maps).  Pages showing demonstration data carry the
demonstration notice, visible and not dismissable.

The site is built in a temporary folder beside ``OUT_DIR`` and swapped in only when complete:
on any failure ``OUT_DIR`` is left as it was.
"""

from __future__ import annotations

import json
import logging
import os
import posixpath
import re
import shutil
import tempfile
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from ._optional import require
from ._version import __version__
from .crs import WGS84, WORKING_CRS
from .errors import PublishError
from .io import file_sha256
from .layerset import LayerSet, load_catalog

__all__ = [
    "DOWNLOAD_PRECISION_DEG",
    "GPKG_NAME",
    "SITE_MARKER",
    "District",
    "PublishError",
    "PublishedSite",
    "check_out_dir",
    "district_statistics",
    "districts_of",
    "download_columns",
    "layer_statistics",
    "publish_site",
]

log = logging.getLogger(__name__)

#: The file that marks a folder as a site made by ``zoning publish`` (only such a folder, an
#: empty one or a new one is ever replaced).
SITE_MARKER = ".zoning-publish.json"
#: The GeoPackage with every layer.
GPKG_NAME = "zoning_layers.gpkg"
#: Coordinates of the downloads are snapped to this grid (degrees; 1e-7° is about 1 cm), and
#: vertices closer than this to the straight line through their neighbours are left out.
DOWNLOAD_PRECISION_DEG = 1e-7
#: Provenance columns added to every download (from the catalog, not from the data).
PROVENANCE_COLUMNS = ("status", "source", "vintage", "licence")
#: Districts whose boundaries run side by side for at least this long are neighbours (m).
NEIGHBOUR_MIN_SHARED_M = 200.0
_NEIGHBOUR_SNAP_M = 30.0


# ------------------------------------------------------------------------------ districts


@dataclass(frozen=True)
class District:
    """One district of the catalog (rows of the district layers that share a name)."""

    name: str
    name_en: str | None
    slug: str
    geometry: Any  # shapely geometry, working CRS
    area_km2: float
    neighbours: tuple[str, ...] = ()  # slugs of the districts next to it, in catalog order

    def label(self, lang: str) -> str:
        """The name in ``lang`` (the English name when there is one)."""
        if lang == "en" and self.name_en:
            return self.name_en
        return self.name


def _slug(text: str | None) -> str:
    """Lower-case ASCII letters, digits and hyphens ("Jing'an" -> "jing-an"), or ""."""
    if not text:
        return ""
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60]


def districts_of(layers: LayerSet) -> list[District]:
    """The districts of the catalog's district layers, in catalog order.

    Rows that share a ``name`` form one district (as in :func:`zoning.indicators`); a row
    without a name is named by its ``feature_id``.  The slug (the page's file name) comes from
    the English name, else the feature id, else the position; it holds only ``a-z0-9-``.

    Returns
    -------
    list of District
        With their neighbours: districts whose boundaries run side by side for at least
        :data:`NEIGHBOUR_MIN_SHARED_M` metres.
    """
    groups: dict[str, dict] = {}
    for layer in layers.of_kind("district"):
        gdf = layer.gdf
        names = gdf["name"] if "name" in gdf.columns else pd.Series([None] * len(gdf))
        en = gdf["name_en"] if "name_en" in gdf.columns else pd.Series([None] * len(gdf))
        for i in range(len(gdf)):
            fid = str(gdf["feature_id"].iloc[i])
            name = str(names.iloc[i]) if pd.notna(names.iloc[i]) else fid
            g = groups.setdefault(name, {"geoms": [], "en": None, "fid": fid})
            g["geoms"].append(gdf.geometry.iloc[i])
            if g["en"] is None and pd.notna(en.iloc[i]) and str(en.iloc[i]).strip():
                g["en"] = str(en.iloc[i]).strip()
    out: list[District] = []
    taken: set[str] = set()
    for n, (name, g) in enumerate(groups.items(), 1):
        base = _slug(g["en"]) or _slug(g["fid"]) or f"district-{n}"
        slug, k = base, 1
        while slug in taken:
            k += 1
            slug = f"{base}-{k}"
        taken.add(slug)
        geom = shapely.union_all(np.asarray(g["geoms"], dtype=object))
        out.append(
            District(
                name=name,
                name_en=g["en"],
                slug=slug,
                geometry=geom,
                area_km2=float(shapely.area(geom)) / 1e6,
            )
        )
    return _with_neighbours(out)


def _with_neighbours(districts: list[District]) -> list[District]:
    if len(districts) < 2:
        return districts
    geoms = np.asarray([d.geometry for d in districts], dtype=object)
    boundaries = shapely.boundary(geoms)
    tree = shapely.STRtree(geoms)
    pairs = tree.query(geoms, predicate="dwithin", distance=_NEIGHBOUR_SNAP_M)
    near: dict[int, set[int]] = {i: set() for i in range(len(districts))}
    for a, b in zip(*pairs, strict=True):
        if a >= b:
            continue
        zone = shapely.buffer(geoms[b], _NEIGHBOUR_SNAP_M)
        shared = float(shapely.length(shapely.intersection(boundaries[a], zone)))
        if shared >= NEIGHBOUR_MIN_SHARED_M:
            near[a].add(b)
            near[b].add(a)
    return [
        District(
            name=d.name,
            name_en=d.name_en,
            slug=d.slug,
            geometry=d.geometry,
            area_km2=d.area_km2,
            neighbours=tuple(districts[j].slug for j in sorted(near[i])),
        )
        for i, d in enumerate(districts)
    ]


# ------------------------------------------------------------------------------ statistics


def _family(layer) -> str:
    return layer.entry.kind_info.geometry


def layer_statistics(layers: LayerSet) -> pd.DataFrame:
    """Per layer: features, area (polygons) or length (lines) and provenance, city-wide.

    Areas are those of ``zoning layers check``: the union of the layer's features (overlaps
    counted once) in the equal-area working CRS, km².  Lengths are of the union of the lines,
    km.  Reads every layer.
    """
    rows = []
    for lay in layers:
        e = lay.entry
        prov = e.provenance
        family = _family(lay)
        union = lay.union() if len(lay.gdf) else shapely.Polygon()
        rows.append(
            {
                "id": e.id,
                "kind": e.kind,
                "geometry": family,
                "title_zh": e.title("zh"),
                "title_en": e.title("en"),
                "status": prov.status if prov else "unknown",
                "source": prov.source if prov else None,
                "vintage": prov.vintage if prov else None,
                "licence": prov.licence if prov else None,
                "url": prov.url if prov else None,
                "note": prov.note if prov else None,
                "features": len(lay.gdf),
                "area_km2": float(shapely.area(union)) / 1e6 if family == "polygon" else None,
                "length_km": float(shapely.length(union)) / 1e3 if family == "line" else None,
                "file": Path(lay.report.source).name if lay.report.source else None,
                "sha256": lay.report.sha256,
            }
        )
    return pd.DataFrame(rows)


def district_statistics(
    layers: LayerSet, districts: Iterable[District] | None = None
) -> pd.DataFrame:
    """The part of each layer inside each district.

    Parameters
    ----------
    layers : LayerSet
    districts : iterable of District, optional
        Default: :func:`districts_of` ``(layers)``.

    Returns
    -------
    pandas.DataFrame
        One row per district and non-district layer: ``district``, ``slug``, ``layer``,
        ``kind``, ``geometry`` (polygon/line/point), ``features`` (features with a piece
        inside), ``area_km2`` (area of the union of those pieces: overlaps counted once),
        ``share_pct`` (of the district's area), ``length_km`` (lines), and
        ``district_area_km2``.

    Notes
    -----
    A feature counts when its piece inside the district is more than a sliver of the
    boundary (:func:`zoning.webmap.page.clip_geometries`: polygon parts of at least 10 m² and
    1 m mean width, line parts of at least 1 m) — the rule the district maps use, so a
    neighbour that only shares the boundary is not counted, and slivers add no area.
    Measured in the equal-area working CRS (geodesic within 0.01 %).  Cost: one clip of every
    layer per district.
    """
    from .webmap.page import clip_geometries

    districts = list(districts) if districts is not None else districts_of(layers)
    columns = [
        "district",
        "slug",
        "layer",
        "kind",
        "geometry",
        "features",
        "area_km2",
        "share_pct",
        "length_km",
        "district_area_km2",
    ]
    rows = []
    for lay in layers:
        if lay.kind == "district":
            continue
        family = _family(lay)
        geoms = lay.gdf.geometry.to_numpy()
        for d in districts:
            pieces = clip_geometries(geoms, d.geometry)
            pieces = pieces[~shapely.is_empty(pieces)]
            inside = shapely.union_all(pieces) if len(pieces) else shapely.Polygon()
            area = float(shapely.area(inside)) / 1e6 if family == "polygon" else None
            rows.append(
                {
                    "district": d.name,
                    "slug": d.slug,
                    "layer": lay.id,
                    "kind": lay.kind,
                    "geometry": family,
                    "features": len(pieces),
                    "area_km2": area,
                    "share_pct": (
                        100.0 * area / d.area_km2 if area is not None and d.area_km2 else None
                    ),
                    "length_km": (
                        float(shapely.length(inside)) / 1e3 if family == "line" else None
                    ),
                    "district_area_km2": d.area_km2,
                }
            )
    # With no district, or no layer but the districts, the table is empty but keeps its columns.
    return pd.DataFrame(rows, columns=columns)


# ------------------------------------------------------------------------------ downloads


def download_columns(layer) -> list[str]:
    """The attribute columns a layer's downloads carry, in order.

    ``feature_id`` (the catalog's id column), the kind's whitelisted fields present in the
    layer (:func:`zoning.webmap.simplify.fields_for`), then :data:`PROVENANCE_COLUMNS` from
    the catalog.  No other column of the source is ever published.
    """
    from .webmap.simplify import fields_for

    fields = [f for f in fields_for(layer.kind) if f in layer.gdf.columns]
    return ["feature_id", *fields, *PROVENANCE_COLUMNS]


def _download_frame(layer):
    """The layer as published: whitelisted columns, WGS84, full resolution (see module doc)."""
    import geopandas as gpd

    prov = layer.entry.provenance
    meta = {
        "status": prov.status if prov else "unknown",
        "source": prov.source if prov else None,
        "vintage": prov.vintage if prov else None,
        "licence": prov.licence if prov else None,
    }
    cols = download_columns(layer)
    data = {}
    for c in cols:
        if c in meta:
            data[c] = [meta[c]] * len(layer.gdf)
        else:
            values = layer.gdf[c]
            data[c] = values.astype(object).where(values.notna(), None).to_numpy(dtype=object)
    wgs = layer.gdf.geometry.to_crs(WGS84).to_numpy()
    # The working copy holds extra vertices (edges densified to <= 100 m for measuring); they
    # lie on the straight lines between the source's vertices and carry no shape.
    geoms = shapely.simplify(wgs, DOWNLOAD_PRECISION_DEG, preserve_topology=True)
    geoms = shapely.set_precision(geoms, DOWNLOAD_PRECISION_DEG)
    return gpd.GeoDataFrame(pd.DataFrame(data, columns=cols), geometry=geoms, crs=WGS84)


def _layer_description(layer) -> str:
    e = layer.entry
    prov = e.provenance
    parts = [f"{e.title('zh')} / {e.title('en')}"]
    if prov is not None:
        parts.append(f"status: {prov.status}")
        parts += [
            f"{k}: {v}"
            for k, v in (
                ("source", prov.source),
                ("vintage", prov.vintage),
                ("licence", prov.licence),
                ("note", prov.note),
            )
            if v
        ]
    return " | ".join(parts)


def _gpkg_identifiers(layers: LayerSet) -> dict[str, str]:
    """The GeoPackage identifier of each layer: its English title, made unique.

    GeoPackage requires unique identifiers (``gpkg_contents.identifier``); two layers with the
    same English title (or two of one kind without ``title_en``) get their layer id appended:
    ``Rivers and lakes (water_b)``.
    """
    titles = {lay.id: lay.entry.title("en") or lay.id for lay in layers}
    seen: dict[str, int] = {}
    for t in titles.values():
        key = t.casefold()
        seen[key] = seen.get(key, 0) + 1
    out: dict[str, str] = {}
    taken: set[str] = set()
    for lid, t in titles.items():
        ident = t if seen[t.casefold()] == 1 else f"{t} ({lid})"
        base, k = ident, 1
        while ident.casefold() in taken:  # a title that equals another's "title (id)"
            k += 1
            ident = f"{base} {k}"
        taken.add(ident.casefold())
        out[lid] = ident
    return out


def _write_downloads(layers: LayerSet, folder: Path) -> list[dict]:
    """Write the GeoJSON files and the GeoPackage; returns one record per file."""
    import pyogrio

    folder.mkdir(parents=True, exist_ok=True)
    files = []
    gpkg = folder / GPKG_NAME
    identifiers = _gpkg_identifiers(layers)
    for lay in layers:
        frame = _download_frame(lay)
        desc = _layer_description(lay)
        path = folder / f"{lay.id}.geojson"
        pyogrio.write_dataframe(
            frame,
            path,
            driver="GeoJSON",
            layer=lay.id,
            layer_options={"RFC7946": "YES", "WRITE_NAME": "YES", "DESCRIPTION": desc},
        )
        pyogrio.write_dataframe(
            frame,
            gpkg,
            driver="GPKG",
            layer=lay.id,
            layer_options={"IDENTIFIER": identifiers[lay.id], "DESCRIPTION": desc},
        )
        files.append({"layer": lay.id, "file": path.name, "format": "GeoJSON"})
    files.append({"layer": None, "file": gpkg.name, "format": "GeoPackage"})
    for f in files:
        p = folder / f["file"]
        f["bytes"] = p.stat().st_size
        f["sha256"] = file_sha256(p)
    return files


# ------------------------------------------------------------------------------ page text

UI: dict[str, dict[str, str]] = {
    "zh": {
        "lang_name": "中文",
        "site_title": "上海生态空间分区公开图件",
        "home": "首页",
        "overview": "总览图",
        "districts": "各区",
        "downloads": "数据下载",
        "about": "关于本站",
        "intro": "本站以静态网页发布图层目录中的生态空间分区图层：生态保护红线、城镇开发边界、"
        "永久基本农田、河湖水面、饮用水水源保护区、自然保护区、长江岸线和生态环境管控单元。"
        "每个区有一页：区内地图、各图层在区内的面积与占比，以及政策指标的测算值与目标。"
        "所有数据可下载（GeoJSON、GeoPackage）。",
        "offline_note": "所有页面离线可用：可直接双击打开，也可放在任意静态网站服务器上。",
        "layers": "图层",
        "layer": "图层",
        "kind": "类型",
        "status": "数据状态",
        "ind_status": "达标情况",
        "source": "来源",
        "vintage": "年份",
        "licence": "许可",
        "features": "要素数",
        "area": "面积（km²）",
        "length": "长度（km）",
        "area_or_length": "面积（km²）/ 长度（km）",
        "share": "占本区面积",
        "file": "文件",
        "indicators_city": "全市指标（测算值与目标）",
        "indicators_district": "本区指标（测算值与目标）",
        "indicator": "指标",
        "target": "目标",
        "measured": "测算值",
        "clause": "出处与条款",
        "no_indicators": "没有可显示的指标。",
        "district_list": "各区页面",
        "district_area": "区域面积",
        "district_stats": "图层在本区内的面积",
        "stats_note": "面积按等积投影测算（与大地测量面积相差不超过 0.01%），"
        "同一图层内重叠部分只计一次；占比以本区行政区面（含河口滩涂）为分母。"
        "仅与区界相接的要素不计入。",
        "neighbours": "相邻各区",
        "previous": "上一区",
        "next": "下一区",
        "no_districts": "图层目录中没有行政区图层，因此没有分区页面。",
        "download_list": "下载",
        "download_intro": "每个图层一个 GeoJSON 文件（WGS84，RFC 7946），"
        "以及包含全部图层的 GeoPackage。"
        "几何为全分辨率（即 zoning 测算所用的几何，坐标保留 7 位小数，约 1 厘米）；"
        "只发布白名单字段以及数据状态、来源、年份与许可。",
        "readme": "说明（README.txt，含各图层来源与许可）",
        "checksums": "校验和（SHA256SUMS）",
        "all_layers_gpkg": "全部图层（GeoPackage）",
        "provenance": "生成信息",
        "tool": "工具",
        "catalog": "图层目录",
        "catalog_sha": "目录文件 SHA-256",
        "generated": "生成时间",
        "options": "选项",
        "layer_files": "图层文件 SHA-256",
        "map_link": "打开总览图",
        "district_map_hint": "地图显示本区范围内的各图层；在右上角的图层控件中可开关图层"
        "（生态环境管控单元默认关闭）。",
        "open_district": "分区页面",
        "km2": "km²",
        "not_available": "—",
        "skip": "跳到正文",
    },
    "en": {
        "lang_name": "English",
        "site_title": "Shanghai ecological zoning — public map pages",
        "home": "Home",
        "overview": "Overview map",
        "districts": "Districts",
        "downloads": "Downloads",
        "about": "About this site",
        "intro": "This site publishes the ecological zoning layers of a layer catalog as static "
        "pages: the ecological protection red line, the urban development boundary, permanent "
        "basic farmland, rivers and lakes, drinking-water source protection zones, nature "
        "reserves, the Yangtze shoreline and the environmental control units. Each district "
        "has a page with its map, the area and share of each layer inside it, and the policy "
        "indicators measured against their targets. Every layer can be downloaded (GeoJSON, "
        "GeoPackage).",
        "offline_note": "Every page works offline: open it by double-clicking, or put the "
        "folder on any static web server.",
        "layers": "Layers",
        "layer": "Layer",
        "kind": "Kind",
        "status": "Status",
        "ind_status": "Status",
        "source": "Source",
        "vintage": "Vintage",
        "licence": "Licence",
        "features": "Features",
        "area": "Area (km²)",
        "length": "Length (km)",
        "area_or_length": "Area (km²) / length (km)",
        "share": "Share of the district",
        "file": "File",
        "indicators_city": "City indicators (measured vs target)",
        "indicators_district": "District indicators (measured vs target)",
        "indicator": "Indicator",
        "target": "Target",
        "measured": "Measured",
        "clause": "Document and clause",
        "no_indicators": "No indicators to show.",
        "district_list": "District pages",
        "district_area": "District area",
        "district_stats": "Layers inside the district",
        "stats_note": "Areas are measured in an equal-area projection (within 0.01 % of geodesic "
        "areas), overlaps inside a layer counted once; shares are of the district polygon "
        "(administrative, including estuary shoals). Features that only touch the district "
        "boundary are not counted.",
        "neighbours": "Neighbouring districts",
        "previous": "Previous district",
        "next": "Next district",
        "no_districts": "The catalog has no district layer, so there are no district pages.",
        "download_list": "Downloads",
        "download_intro": "One GeoJSON file per layer (WGS84, RFC 7946) and one GeoPackage "
        "with every layer. Geometry is full resolution (the geometry zoning measures, "
        "coordinates to 7 decimals, about 1 cm); only whitelisted attribute columns are "
        "published, with each layer's status, source, vintage and licence.",
        "readme": "README.txt (what each file is, provenance and licence per layer)",
        "checksums": "Checksums (SHA256SUMS)",
        "all_layers_gpkg": "All layers (GeoPackage)",
        "provenance": "How this site was made",
        "tool": "Tool",
        "catalog": "Catalog",
        "catalog_sha": "Catalog file SHA-256",
        "generated": "Generated",
        "options": "Options",
        "layer_files": "Layer files SHA-256",
        "map_link": "Open the overview map",
        "district_map_hint": "The map shows every layer inside the district; switch layers "
        "on and off in the layer control at the top right (control units start off).",
        "open_district": "District page",
        "km2": "km²",
        "not_available": "—",
        "skip": "Skip to content",
    },
}

STATUS_LABELS = {
    "demonstration": ("演示数据", "demonstration"),
    "authoritative": ("权威数据", "authoritative"),
    "unknown": ("未声明", "unknown"),
}
INDICATOR_STATUS = {
    "met": ("达标", "met", "met"),
    "not met": ("未达标", "not met", "notmet"),
    "not measurable with these layers": (
        "现有图层无法测算",
        "not measurable with these layers",
        "na",
    ),
    "no target": ("无目标（仅测算）", "no target (measured only)", "info"),
}
UNIT_LABELS = {
    "km2": ("km²", "km²"),
    "km": ("km", "km"),
    "m2": ("m²", "m²"),
    "ha": ("公顷", "ha"),
    "mu": ("亩", "mu"),
    "percent": ("%", "%"),
    "count": ("个", ""),
    "m2_per_person": ("m²/人", "m²/person"),
    "ug_m3": ("µg/m³", "µg/m³"),
    "t": ("吨", "t"),
}
COMPARATORS = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "=": "=", "==": "=", "~": "≈"}


def _pick(pair: tuple[str, ...], lang: str) -> str:
    return pair[0] if lang == "zh" else pair[1]


def _num(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)) or pd.isna(value):
        return "—"
    return f"{float(value):,.{digits}f}"


def _unit(unit: Any, lang: str) -> str:
    if not isinstance(unit, str):
        return ""
    pair = UNIT_LABELS.get(unit)
    return _pick(pair, lang) if pair else unit


def _value_text(value: Any, unit: Any, lang: str) -> str:
    if value is None or pd.isna(value):
        return "—"
    digits = 0 if unit in ("count", "mu") else 2
    text = _num(value, digits)
    u = _unit(unit, lang)
    return f"{text} {u}".strip() if u not in ("%",) else f"{text} %"


def _target_text(row: dict, lang: str) -> str:
    value = row.get("target_value")
    if value is None or pd.isna(value):
        return ""
    comp = COMPARATORS.get(str(row.get("comparator")), str(row.get("comparator") or ""))
    text = f"{comp} {_value_text(value, row.get('unit'), lang)}"
    year = row.get("year")
    if year is not None and not pd.isna(year):
        text += f" ({int(year)})"
    return text


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts with None where pandas holds NaN (templates test for None)."""
    return [
        {
            k: (None if not isinstance(v, str | list | dict) and pd.isna(v) else v)
            for k, v in r.items()
        }
        for r in frame.to_dict("records")
    ]


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _web_url(value: Any) -> str | None:
    """An http(s) URL that may become a link, else None (``javascript:`` and the like)."""
    from urllib.parse import urlsplit

    text = _str_or_none(value)
    if text is None:
        return None
    parts = urlsplit(text.strip())
    return text.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else None


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


# ------------------------------------------------------------------------------ the site


@dataclass
class PublishedSite:
    """What :func:`publish_site` wrote.

    Attributes
    ----------
    path : Path
        The site folder (``OUT_DIR``).
    files : list of str
        Every file, relative to ``path`` (POSIX separators).
    pages : list of str
        The HTML pages among them.
    districts : list of District
    demonstration : bool
        True when any layer is demonstration data (every page carries the notice).
    bytes : int
        Total size of the site.
    largest_page : (str, int)
        The largest HTML page and its size in bytes.
    seconds : float
        Build time.
    provenance : dict
        Tool version, catalog and layer hashes, time, options (also in :data:`SITE_MARKER`,
        with the list of files the site is made of).
    kept : list of str
        Files in ``path`` that an earlier publish did not write (a ``CNAME``, a
        ``.nojekyll``, anything the user added): kept as they were.
    """

    path: Path
    files: list[str]
    pages: list[str]
    districts: list[District]
    demonstration: bool
    bytes: int
    largest_page: tuple[str, int]
    seconds: float
    provenance: dict = field(default_factory=dict)
    kept: list[str] = field(default_factory=list)


def _templates():
    jinja2 = require("jinja2")
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates" / "publish")),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def check_out_dir(out_dir: str | Path) -> Path:
    """The site folder as an absolute path, after checking that it may be (re)placed.

    Raises
    ------
    PublishError
        ``out_dir`` is a file; it is a folder that is not empty and holds no
        :data:`SITE_MARKER` (not made by ``zoning publish``); it or the folder it would be
        created in is not writable.
    """
    given = str(out_dir)
    out = Path(os.path.realpath(Path(out_dir).expanduser()))
    if out.parent == out:
        raise PublishError(f"{given}: cannot publish into the root of a file system")
    if out.exists() and not out.is_dir():
        raise PublishError(f"{given}: exists and is not a folder")
    if out.is_dir():
        try:
            entries = [p.name for p in out.iterdir()]
        except OSError as exc:
            raise PublishError(f"{given}: cannot read the folder ({exc.strerror or exc})") from None
        if entries and SITE_MARKER not in entries:
            raise PublishError(
                f"{given}: the folder is not empty and was not made by zoning publish "
                f"(no {SITE_MARKER}); give a new or empty folder"
            )
        if not os.access(out, os.W_OK | os.X_OK):
            raise PublishError(f"{given}: the folder is not writable")
    ancestor = out.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise PublishError(f"{given}: {ancestor} is not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise PublishError(f"{given}: cannot write in {ancestor} (permission denied)")
    return out


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


def _catalog_info(layers: LayerSet, layer_specs: Iterable[str]) -> dict:
    cat = layers.catalog
    path = cat.path
    return {
        "title": cat.title,
        "version": cat.version,
        "file": path.name if path else None,
        "sha256": file_sha256(path) if path else None,
        "added_layers": [str(s) for s in layer_specs],
    }


def _page_context(
    *,
    lang: str,
    rel: str,
    tree: _Tree,
    site_title: str,
    demonstration: bool,
    districts: list[District],
) -> dict:
    from .webmap import DEMO_NOTICE

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


def _copy_site_assets(folder: Path) -> None:
    src = Path(__file__).parent / "templates" / "publish"
    dest = folder / "site"
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("site.css", "district.css"):
        shutil.copyfile(src / name, dest / name)


def _write(path: Path, text: str) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8")
    path.write_bytes(data)
    return len(data)


def _fix_modes(folder: Path) -> None:
    """Give the site the usual modes (temporary folders and files are private by default)."""
    umask = os.umask(0)
    os.umask(umask)
    for root, dirs, files in os.walk(folder):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o777 & ~umask)
        for f in files:
            os.chmod(os.path.join(root, f), 0o666 & ~umask)
    os.chmod(folder, 0o777 & ~umask)


#: What a site made before the marker listed its files consists of (top-level names).
_LEGACY_LAYOUT = frozenset(
    {SITE_MARKER, "index.html", "map.html", "districts", "downloads", "assets", "en", "zh"}
)


def _site_manifest(out: Path) -> set[str] | None:
    """The files the site in ``out`` was made of (its marker's list), or None (no marker)."""
    try:
        doc = json.loads((out / SITE_MARKER).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PublishError(f"{out / SITE_MARKER}: cannot read the site's marker ({exc})") from None
    files = doc.get("files") if isinstance(doc, dict) else None
    if isinstance(files, list) and all(isinstance(f, str) for f in files):
        return set(files)
    return set()  # a site made before markers listed files: see _LEGACY_LAYOUT


def _folder_files(folder: Path) -> list[str]:
    """Every file and symbolic link under ``folder`` (POSIX paths), symlinks not followed."""
    out = []
    for root, dirs, names in os.walk(folder):
        rel = Path(root).relative_to(folder)
        for d in dirs:
            if (Path(root) / d).is_symlink():
                out.append((rel / d).as_posix())
        out += [(rel / n).as_posix() for n in names]
    return sorted(out)


def _carry_user_files(out: Path, tmp: Path, new_files: set[str]) -> list[str]:
    """Put the files of ``out`` that the previous publish did not write into ``tmp``.

    A ``CNAME``, a ``.nojekyll`` or any page the user added to the site folder survives
    republishing.  Files are hard-linked (copied where links are not possible), so ``out``
    is untouched until the swap.  Returns their paths.

    Raises
    ------
    PublishError
        A file the user added sits where the new site writes one of its own; nothing is
        replaced (one line naming the files).
    """
    if not out.is_dir():
        return []
    manifest = _site_manifest(out)
    if manifest is None:  # empty folder (check_out_dir allows nothing else without a marker)
        return []
    present = _folder_files(out)
    if manifest:
        extra = [f for f in present if f not in manifest and f != SITE_MARKER]
    else:
        extra = [f for f in present if f.split("/", 1)[0] not in _LEGACY_LAYOUT]
    clash = [f for f in extra if f in new_files or any(n.startswith(f + "/") for n in new_files)]
    if clash:
        names = ", ".join(clash[:5]) + (f" and {len(clash) - 5} more" if len(clash) > 5 else "")
        raise PublishError(
            f"{out}: files you added would be overwritten by the new site: {names}; "
            "move them away and publish again"
        )
    for rel in extra:
        src, dest = out / rel, tmp / rel
        if dest.parent.exists() and not dest.parent.is_dir():
            raise PublishError(
                f"{out}: {rel} cannot be kept: the new site has a file named "
                f"{dest.parent.relative_to(tmp).as_posix()}"
            )
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            os.symlink(os.readlink(src), dest)
            continue
        try:
            os.link(src, dest)
        except OSError:
            shutil.copy2(src, dest)
    return extra


def _swap_in(tmp: Path, out: Path) -> None:
    """Replace ``out`` (absent, empty or an older site) by ``tmp``; restore ``out`` on failure."""
    if not out.exists():
        os.rename(tmp, out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    os.rmdir(old)
    os.rename(out, old)
    try:
        os.rename(tmp, out)
    except BaseException:
        os.rename(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)
    if old.exists():
        log.warning("could not remove the previous site at %s", old)


def publish_site(
    out_dir: str | Path,
    layers: LayerSet | str | Path | None = None,
    *,
    lang: str = "zh",
    basemap: str = "osm",
    offline: bool = False,
    tianditu_key: str | None = None,
    layer_specs: Iterable[str] = (),
    now: datetime | None = None,
) -> PublishedSite:
    """Build the public map pages of a catalog into ``out_dir``.

    Parameters
    ----------
    out_dir : path
        The site folder: new, empty, or an earlier site made by this function (it holds
        :data:`SITE_MARKER`); it is replaced as a whole, except for files the earlier publish
        did not write (its marker lists the files it wrote), which are kept.
    layers : LayerSet or catalog path, optional
        Default: the bundled demonstration catalog.
    lang : {"zh", "en"}
        The language of the pages at the top of the site; the other language is under
        ``en/`` (or ``zh/``), and every page links to its counterpart.
    basemap : {"osm", "carto", "gaode", "tianditu", "none"}
        Tiles of the maps (see :func:`zoning.webmap.overview_map`).
    offline : bool
        Maps open on the built-in vector basemap: no page makes any network request.
    tianditu_key : str, optional
        For ``basemap="tianditu"``.
    layer_specs : iterable of str
        The ``--layer KIND=PATH`` options used to build ``layers`` (recorded in the
        provenance only).
    now : datetime, optional
        The generation time written on the pages (default: now, UTC).

    Returns
    -------
    PublishedSite

    Raises
    ------
    PublishError
        ``out_dir`` cannot be used (see :func:`check_out_dir`); nothing is written.
    ZoningError
        A bad catalog, a missing or unreadable layer file, a bad basemap key: raised before
        anything is written.

    Notes
    -----
    Every input is read and every number computed before the first file is written; the
    site is then written into a temporary folder beside ``out_dir`` and swapped in when
    complete (an older site is replaced only then; on failure the temporary folder is
    removed and ``out_dir`` is left as it was).  Cost on the demonstration catalog (2 CPUs):
    about half a minute — two overview maps and 32 district maps dominate.
    """
    import geopandas as gpd

    from .indicators import indicators
    from .seeds import load_targets
    from .webmap import overview_map
    from .webmap.assets import assets_for, copy_assets
    from .webmap.basemaps import resolve_basemap
    from .webmap.page import check_lang

    t0 = time.perf_counter()
    lang = check_lang(lang)
    out = check_out_dir(out_dir)
    if layers is None or isinstance(layers, str | Path):
        layers = load_catalog(layers)
    resolve_basemap(basemap, lang=lang, tianditu_key=tianditu_key)  # a bad key fails first
    env = _templates()

    # ---- read and measure everything first (errors here leave no trace on disk)
    stats = layer_statistics(layers)  # reads every layer: a missing file fails here
    districts = districts_of(layers)
    dstats = district_statistics(layers, districts)
    targets = load_targets()
    table = indicators(layers, targets=targets)
    documents = {d.id: (d.title_zh, d.title_en) for d in targets.documents}
    demonstration = layers.is_demonstration
    generated = (now or datetime.now(UTC)).astimezone(UTC)
    provenance = {
        "generator": "zoning publish",
        "tool_version": __version__,
        "generated": generated.isoformat(timespec="seconds"),
        "catalog": _catalog_info(layers, layer_specs),
        "layers": [
            {"id": r["id"], "file": r["file"], "sha256": r["sha256"], "status": r["status"]}
            for r in stats.to_dict("records")
        ],
        "options": {"lang": lang, "basemap": basemap, "offline": bool(offline)},
        "demonstration": demonstration,
        "working_crs": WORKING_CRS.name,
    }
    entries = {e.id: e for e in layers.catalog.layers}
    cat_title = layers.catalog.title
    tree = _Tree(lang)
    by_slug = {d.slug: d for d in districts}

    # ---- write the site into a temporary folder beside out_dir
    created: list[Path] = []
    parent = out.parent
    while not parent.exists():
        created.append(parent)
        parent = parent.parent
    for p in reversed(created):
        p.mkdir()
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.publish-", dir=out.parent))
    pages: list[str] = []
    try:
        copy_assets(
            assets_for(("scale", "measure", "fullscreen", "coordinates", "draw")), tmp / "assets"
        )
        _copy_site_assets(tmp / "assets")
        downloads = _write_downloads(layers, tmp / "downloads")
        _write(
            tmp / "downloads" / "README.txt",
            env.get_template("README.txt").render(
                site_title=UI["en"]["site_title"],
                catalog_title=cat_title,
                layers=_records(stats),
                columns={lay.id: download_columns(lay) for lay in layers},
                downloads=downloads,
                gpkg=GPKG_NAME,
                demonstration=demonstration,
                demo_notice=_demo_notice(),
                provenance=provenance,
            ),
        )
        _write(
            tmp / "downloads" / "SHA256SUMS",
            "".join(f"{f['sha256']}  {f['file']}\n" for f in downloads),
        )
        city = table[table["scope"] == "city"]
        for page_lang in (lang, tree.other):
            t = UI[page_lang]
            site_title = t["site_title"]
            ctx = dict(
                _page_context(
                    lang=page_lang,
                    rel="index.html",
                    tree=tree,
                    site_title=site_title,
                    demonstration=demonstration,
                    districts=districts,
                ),
                layers=_layer_rows(stats, page_lang),
                indicators=_indicator_rows(city, page_lang, documents),
                downloads=downloads,
                gpkg=GPKG_NAME,
                provenance=provenance,
                district_areas={d.slug: _num(d.area_km2) for d in districts},
                layer_titles={e.id: e.title(page_lang) for e in layers.catalog.layers},
                catalog_note=_str_or_none(layers.catalog.note),
                catalog_title=_str_or_none(cat_title),
            )
            rel = tree.path(page_lang, "index.html")
            _write(tmp / rel, env.get_template("index.html").render(**ctx))
            pages.append(rel)

            # the overview map
            rel = tree.path(page_lang, "map.html")
            page = overview_map(
                layers,
                lang=page_lang,
                basemap=basemap,
                offline=offline,
                tianditu_key=tianditu_key,
                title=f"{t['overview']} — {site_title}",
            )
            _dress_map(page, env, tree, page_lang, "map.html", site_title, demonstration, districts)
            _write(tmp / rel, page.to_html(assets="folder", assets_url=_assets_url(rel)))
            pages.append(rel)

            # one page per district
            for i, d in enumerate(districts):
                rel_lang = f"districts/{d.slug}.html"
                rel = tree.path(page_lang, rel_lang)
                page = overview_map(
                    layers,
                    lang=page_lang,
                    basemap=basemap,
                    offline=offline,
                    tianditu_key=tianditu_key,
                    clip=gpd.GeoSeries([d.geometry], crs=WORKING_CRS),
                    collapsed=True,
                    title=f"{d.label(page_lang)} — {site_title}",
                )
                rows = dstats[dstats["slug"] == d.slug]
                drows = table[(table["scope"] == "district") & (table["district"] == d.name)]
                panel = env.get_template("district_panel.html").render(
                    **_page_context(
                        lang=page_lang,
                        rel=rel_lang,
                        tree=tree,
                        site_title=site_title,
                        demonstration=demonstration,
                        districts=districts,
                    ),
                    district={
                        "label": d.label(page_lang),
                        "other": _other_label(d, page_lang),
                        "area": _num(d.area_km2),
                        "slug": d.slug,
                    },
                    stats=_stats_rows(rows, entries, page_lang),
                    indicators=_indicator_rows(drows, page_lang, documents),
                    neighbours=[
                        {"slug": s, "label": by_slug[s].label(page_lang)} for s in d.neighbours
                    ],
                    previous=_nav_district(districts, i - 1, page_lang),
                    next=_nav_district(districts, i + 1, page_lang),
                )
                _dress_map(
                    page,
                    env,
                    tree,
                    page_lang,
                    rel_lang,
                    site_title,
                    demonstration,
                    districts,
                    panel=panel,
                )
                _write(tmp / rel, page.to_html(assets="folder", assets_url=_assets_url(rel)))
                pages.append(rel)

        ours = sorted(p.relative_to(tmp).as_posix() for p in tmp.rglob("*") if p.is_file())
        marker = dict(provenance, files=[*ours, SITE_MARKER])
        _write(tmp / SITE_MARKER, json.dumps(marker, ensure_ascii=False, indent=2) + "\n")
        files = sorted([*ours, SITE_MARKER])
        sizes = {f: (tmp / f).stat().st_size for f in files}
        _fix_modes(tmp)
        kept = _carry_user_files(out, tmp, set(files))
        _swap_in(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        for p in created:
            try:
                p.rmdir()
            except OSError:
                break
        raise
    largest = max(pages, key=lambda p: sizes[p])
    seconds = time.perf_counter() - t0
    log.info(
        "published %d pages and %d files (%.1f MB) into %s in %.1f s",
        len(pages),
        len(files),
        sum(sizes.values()) / 1e6,
        out,
        seconds,
    )
    if kept:
        log.info("kept %d files the previous site did not write: %s", len(kept), ", ".join(kept))
    return PublishedSite(
        path=out,
        files=files,
        kept=kept,
        pages=pages,
        districts=districts,
        demonstration=demonstration,
        bytes=sum(sizes.values()),
        largest_page=(largest, sizes[largest]),
        seconds=seconds,
        provenance=provenance,
    )


def _demo_notice() -> str:
    from .webmap import DEMO_NOTICE

    return f"{DEMO_NOTICE[0]} / {DEMO_NOTICE[1]}"


def _assets_url(rel: str) -> str:
    depth = rel.count("/")
    return "../" * depth + "assets"


def _nav_district(districts: list[District], i: int, lang: str) -> dict | None:
    if 0 <= i < len(districts):
        return {"slug": districts[i].slug, "label": districts[i].label(lang)}
    return None


def _dress_map(
    page,
    env,
    tree: _Tree,
    lang: str,
    rel: str,
    site_title: str,
    demonstration: bool,
    districts: list[District],
    *,
    panel: str | None = None,
) -> None:
    """Give a map page the site's navigation bar, style sheets and (districts) side panel."""
    ctx = _page_context(
        lang=lang,
        rel=rel,
        tree=tree,
        site_title=site_title,
        demonstration=demonstration,
        districts=districts,
    )
    page.add_html(
        env.get_template("map_head.html").render(**ctx, district=panel is not None),
        where="head",
        name="zoning_site_head",
    )
    page.add_html(env.get_template("nav.html").render(**ctx), where="top", name="zoning_site_nav")
    if panel is not None:
        page.add_html(panel, where="bottom", name="zoning_site_panel")
