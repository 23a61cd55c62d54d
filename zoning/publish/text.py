"""The words of the public site: UI strings in both languages and the formatting of values.

:data:`UI` holds every string the templates show (``zh`` and ``en``); the helpers turn numbers,
units, targets and statuses into the plain text the templates escape.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..labels import DATA_STATUS_LABELS, INDICATOR_STATUS_LABELS, UNIT_LABELS

# UNIT_LABELS lives in zoning.labels; re-exported for old import paths.

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

#: Status of a layer's data (zh, en): the shared words of :mod:`zoning.labels`.
STATUS_LABELS = DATA_STATUS_LABELS
#: CSS class of each indicator status on the district pages.
_INDICATOR_STATUS_CLASS = {
    "met": "met",
    "not met": "notmet",
    "not measurable with these layers": "na",
    "no target": "info",
}
#: Indicator status: (zh, en, CSS class).
INDICATOR_STATUS = {
    status: (*words, _INDICATOR_STATUS_CLASS[status])
    for status, words in INDICATOR_STATUS_LABELS.items()
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
