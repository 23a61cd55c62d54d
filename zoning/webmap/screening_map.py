"""The screening map: sites coloured by verdict, overlap pieces, buffer rings, constraint layers.

Built from a :class:`~zoning.screening.ScreeningResult` or from the folder
:meth:`ScreeningResult.to_file` wrote (``screening.gpkg`` + ``screening.json``).  Each site has a
popup with its verdict, its reasons with their clause citations and a link to its page of the
HTML report; the constraint layers are clipped to the sites' surroundings and grouped in the
layer control; a legend gives the verdict colours in Chinese and English.
"""

from __future__ import annotations

import json
import logging
import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..crs import WORKING_CRS
from ..errors import ZoningError
from ..layerset import LayerSet, load_catalog
from ..rules import SEVERITY, VERDICTS
from .assets import TOOLS
from .basemaps import resolve_basemap
from .escape import html_attr, html_text, safe_url
from .overview import attach_legends, bounds_of, catalog_layer_specs
from .page import (
    WebMap,
    build_page,
    check_lang,
    feature_collection,
    kind_style,
    layer_spec,
    multi_swatch_html,
    swatch_html,
    tooltip_html,
    vector_basemap,
)
from .simplify import TOLERANCE_M, display_geometries

__all__ = [
    "MAX_DATA_BYTES",
    "VERDICT_COLORS",
    "load_screening",
    "screening_map",
    "severity_order",
]

log = logging.getLogger(__name__)

#: Colour of each verdict (most severe darkest).
VERDICT_COLORS = {
    "prohibited": "#b2182b",
    "unknown": "#7b4fa8",
    "restricted": "#f46d43",
    "conditional": "#e6b400",
    "permitted": "#1a9850",
}
#: Verdict labels (zh, en); the same words as the HTML report.
VERDICT_TEXT = {
    "prohibited": ("禁止", "prohibited"),
    "restricted": ("限制", "restricted"),
    "conditional": ("有条件", "conditional"),
    "permitted": ("允许", "permitted"),
    "unknown": ("未知", "unknown"),
}
#: Reasons listed in a popup (the report page has all of them).
MAX_POPUP_REASONS = 5
#: The overlap pieces and then the buffer rings are left out (and the map says so) when they
#: would bring the page's data over this many bytes: with the 0.4 MB of inline scripts, the
#: page stays under about 5 MB (see benchmarks/map_size.py).
MAX_DATA_BYTES = 4_500_000
#: A reason without a rule id is listed by its status, in words.
STATUS_TEXT = {
    "outside_coverage": ("超出图层覆盖范围", "outside the layer's coverage"),
    "layer_missing": ("图层缺失", "layer missing"),
    "needs_attribute": ("缺少项目属性", "project attribute not declared"),
    "no_access_list": ("无准入清单", "no access list"),
    "applies": ("适用", "applies"),
}
#: Words of the popups (assembled in the page).
POPUP_LABELS = {
    "zh": {
        "site_id": "场址编号",
        "feature": "要素",
        "more_before": "另有 ",
        "more_after": " 条理由见报告",
        "open_report": "打开场址报告",
    },
    "en": {
        "site_id": "Site id",
        "feature": "Feature",
        "more_before": "",
        "more_after": " more reasons in the report",
        "open_report": "Open the site report",
    },
}


@dataclass
class ScreeningData:
    """What a screening map needs, from a result or an output folder (geometries: working CRS)."""

    sites: gpd.GeoDataFrame
    reasons: pd.DataFrame
    pieces: gpd.GeoDataFrame
    rings: gpd.GeoDataFrame
    provenance: dict
    layers: LayerSet | None
    source: str
    report_dir: Path | None = None


def _read_gpkg_layer(path: Path, layer: str) -> gpd.GeoDataFrame:
    import pyogrio

    names = [n for n, _ in pyogrio.list_layers(path)]
    if layer not in names:
        return gpd.GeoDataFrame({"geometry": []}, geometry="geometry", crs=WORKING_CRS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        gdf = gpd.read_file(path, layer=layer)
    if gdf.crs is None:
        raise ZoningError(f"{path}: layer {layer!r} has no CRS")
    return gdf.to_crs(WORKING_CRS)


def load_screening(source, *, layers: LayerSet | str | Path | None = None) -> ScreeningData:
    """Normalise a ScreeningResult or a screening output folder for :func:`screening_map`.

    Raises
    ------
    ZoningError
        A folder without ``screening.gpkg`` and ``screening.json``, or whose files do not
        parse; the message names the folder and the file.
    """
    from ..screening import ScreeningResult

    if isinstance(source, ScreeningResult):
        lay = (
            layers
            if isinstance(layers, LayerSet)
            else (load_catalog(layers) if layers is not None else source.layers)
        )
        return ScreeningData(
            sites=source.sites,
            reasons=source.reasons,
            pieces=source.pieces,
            rings=source.rings,
            provenance=source.provenance,
            layers=lay,
            source="result",
        )
    folder = Path(source)
    if not folder.is_dir():
        raise ZoningError(f"{folder}: not a folder (expected a screening output folder)")
    # Absolute paths for GDAL: a relative folder named like a URL ("http:x", "/vsicurl/...")
    # must not be read as one.
    base = folder.resolve()
    gpkg, js = base / "screening.gpkg", base / "screening.json"
    missing = [p.name for p in (gpkg, js) if not p.is_file()]
    if missing:
        raise ZoningError(
            f"{folder}: not a screening output folder: {' and '.join(missing)} missing "
            "(write it with zoning screen ... --out DIR --format gpkg,json)"
        )
    try:
        doc = json.loads(js.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ZoningError(f"{js}: cannot read the screening JSON ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("sites"), list):
        raise ZoningError(f"{js}: not a screening JSON (no 'sites' table)")
    try:
        sites = _read_gpkg_layer(gpkg, "sites")
        pieces = _read_gpkg_layer(gpkg, "pieces")
        rings = _read_gpkg_layer(gpkg, "rings")
    except ZoningError:
        raise
    except Exception as exc:
        raise ZoningError(f"{gpkg}: cannot read the screening GeoPackage ({exc})") from None
    if "site_id" not in sites.columns or "verdict" not in sites.columns:
        raise ZoningError(f"{gpkg}: layer 'sites' lacks the site_id and verdict columns")
    reasons = pd.DataFrame(doc.get("reasons") or [])
    prov = doc.get("provenance") or {}
    if layers is None:
        cat_path = (prov.get("catalog") or {}).get("path")
        if cat_path and Path(cat_path).is_file():
            layers = cat_path
        elif cat_path:
            raise ZoningError(
                f"{js}: the catalog screened against ({cat_path}) is not here; "
                "pass --catalog to draw the constraint layers"
            )
    lay = (
        layers
        if isinstance(layers, LayerSet)
        else (load_catalog(layers) if layers is not None else load_catalog())
    )
    report = base / "report"
    return ScreeningData(
        sites=sites,
        reasons=reasons,
        pieces=pieces,
        rings=rings,
        provenance=prov,
        layers=lay,
        source=str(folder),
        report_dir=report if report.is_dir() else None,
    )


def _str(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return str(v)


def _verdict(v: Any) -> str:
    v = _str(v)
    return v if v in SEVERITY else "unknown"


def _fmt_m2(v: Any) -> str:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return ""
    if math.isnan(x):
        return ""
    return f"{x / 1e4:,.2f} ha" if x >= 1e4 else f"{x:,.0f} m²"


def _verdict_badge(v: str) -> str:
    zh, en = VERDICT_TEXT[v]
    return (
        f'<span class="zp-verdict" style="{html_attr("background:" + VERDICT_COLORS[v])}">'
        f"{html_text(zh)} {html_text(en)}</span>"
    )


class _PopupTable:
    """The reason texts of the popups, each written once; sites refer to them by index.

    A reason item is its rule (or, without a rule id, its status in words), verdict, message
    and citation, as escaped HTML; the feature a reason is about is a separate plain-text
    table.  Popups are assembled in the page from these when opened.
    """

    def __init__(self, lang: str):
        self.lang = lang
        self.items: list[str] = []
        self.features: list[str] = []
        self._item_index: dict[tuple, int] = {}
        self._feature_index: dict[str, int] = {}

    def item(self, rec: dict) -> int:
        msg_key = "message_zh" if self.lang == "zh" else "message_en"
        v = _verdict(rec.get("verdict"))
        rule = _str(rec.get("rule_id"))
        if not rule:
            status = _str(rec.get("status"))
            pair = STATUS_TEXT.get(status)
            rule = (pair[0] if self.lang == "zh" else pair[1]) if pair else (status or "—")
        key = (rule, v, _str(rec.get(msg_key)), _str(rec.get("citation")))
        idx = self._item_index.get(key)
        if idx is None:
            vz, ve = VERDICT_TEXT[v]
            cite = key[3]
            self.items.append(
                f"<b>{html_text(rule)}</b> ({html_text(vz if self.lang == 'zh' else ve)}): "
                f"{html_text(key[2])}"
                + (f'<br><span class="zp-cite">{html_text(cite)}</span>' if cite else "")
            )
            idx = self._item_index[key] = len(self.items) - 1
        return idx

    def feature(self, rec: dict) -> int | None:
        name = _str(rec.get("feature_name")) or _str(rec.get("feature_id"))
        if not name:
            return None
        idx = self._feature_index.get(name)
        if idx is None:
            self.features.append(name)
            idx = self._feature_index[name] = len(self.features) - 1
        return idx


def _reasons_of_sites(
    reasons: pd.DataFrame, keys: list, by_position: bool, table: _PopupTable
) -> dict[Any, tuple[list[list[int]], int]]:
    """Per site key: the popup's reason references (most severe first) and how many are left.

    Every reason row of the site counts, as in the report: rows without a rule id (the site
    outside a layer's coverage, a missing layer) are listed by their status.
    """
    if reasons is None or not len(reasons):
        return {}
    col = "site" if by_position else "site_id"
    if col not in reasons.columns:
        return {}
    wanted = set(keys)
    r = reasons
    site_key = r[col].map(lambda v: int(v) if by_position else _str(v))
    r = r[site_key.isin(wanted)].assign(_key=site_key)
    if not len(r):
        return {}
    r = r.assign(_sev=r["verdict"].map(lambda v: SEVERITY.get(_verdict(v), 0)))
    r = r.sort_values(["_sev"], ascending=False, kind="stable")
    wanted_cols = ("_key", "rule_id", "status", "verdict", "message_zh", "message_en")
    wanted_cols += ("citation", "feature_name", "feature_id")
    cols = [c for c in wanted_cols if c in r.columns]
    refs: dict[Any, list[list[int]]] = {}
    total: dict[Any, int] = {}
    for rec in r[cols].to_dict("records"):
        key = rec["_key"]
        total[key] = total.get(key, 0) + 1
        mine = refs.setdefault(key, [])
        if len(mine) >= MAX_POPUP_REASONS:
            continue
        ref = [table.item(rec)]
        f = table.feature(rec)
        if f is not None:
            ref.append(f)
        mine.append(ref)
    return {k: (v, total[k] - len(v)) for k, v in refs.items()}


def severity_order(verdicts) -> np.ndarray:
    """Positions of the sites, most severe first, input order within a verdict."""
    sev = np.array([SEVERITY.get(_verdict(v), 0) for v in verdicts], dtype=np.int64)
    return np.argsort(-sev, kind="stable")


def _ring_tolerance(outer_m) -> np.ndarray:
    """Simplification tolerance of each ring: 1 % of its outer radius, 0.5 m to 10 m."""
    r = pd.to_numeric(pd.Series(outer_m), errors="coerce").fillna(0).to_numpy(dtype=float)
    return np.clip(0.01 * r, 0.5, TOLERANCE_M)


def _layers_extent(layers: LayerSet | None):
    """The area the catalog describes (working CRS): districts and sea, else every layer."""
    if layers is None:
        return None
    boxes = []
    for kind in ("district", "sea_area"):
        for lay in layers.of_kind(kind):
            if len(lay.gdf):
                boxes.append(shapely.total_bounds(lay.gdf.geometry.to_numpy()))
    if not boxes:
        for lay in layers:
            if len(lay.gdf):
                boxes.append(shapely.total_bounds(lay.gdf.geometry.to_numpy()))
    if not boxes:
        return None
    b = np.array(boxes)
    return shapely.box(b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())


def _json_bytes(obj: Any) -> int:
    return len(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def screening_map(
    result_or_dir,
    *,
    lang: str = "zh",
    basemap: str = "osm",
    offline: bool = False,
    tianditu_key: str | None = None,
    layers: LayerSet | str | Path | None = None,
    report_dir: str | Path | None = None,
    report_href: str | None = None,
    margin_m: float = 3000.0,
    title: str | None = None,
    tolerance_m: float = TOLERANCE_M,
    tools: Iterable[str] = TOOLS,
    max_sites: int | None = None,
    max_data_bytes: int = MAX_DATA_BYTES,
) -> WebMap:
    """Build the screening map.

    Parameters
    ----------
    result_or_dir : ScreeningResult or path
        A result, or a folder written by :meth:`ScreeningResult.to_file` with
        ``screening.gpkg`` and ``screening.json``.
    lang : {"zh", "en"}
    basemap, offline, tianditu_key
        As for :func:`~zoning.webmap.overview_map`.
    layers : LayerSet or catalog path, optional
        The constraint layers to draw.  Default: the result's own layers; for a folder, the
        catalog named in its provenance (else the bundled demonstration catalog).  Layers whose
        file hash differs from the screened one are named in a notice on the map.
    report_dir : path, optional
        The HTML report folder (``report/``); only sites whose page exists there get a link.
        Default for a folder: ``DIR/report`` when present.
    report_href : str, optional
        URL of the report folder relative to where the map will be saved (default
        ``"report"`` when there is a report folder, i.e. the map saved in the screening folder);
        links are ``{report_href}/sites/{page_name(site_id)}.html``.  Write a relative path
        whose first folder holds a colon with a leading ``./``
        (:func:`~zoning.webmap.escape.relative_url`).
    margin_m : float
        Constraint layers are drawn within this distance of the sites.
    title : str, optional
    tolerance_m : float
        Simplification tolerance of the constraint layers (the sites and overlap pieces are
        drawn unsimplified, the buffer rings within 1 % of their radius).  Screening itself
        never sees simplified geometry.
    tools : iterable of str
    max_sites : int, optional
        Draw at most this many sites, the most severe first (input order within a verdict);
        the map then says "showing N of M sites".  Default: every site.
    max_data_bytes : int
        The overlap pieces, then the buffer rings, are drawn only while the page's data
        (layers, sites, popups, pieces, rings) stay within this many bytes; what does not fit
        is left out and the map says so.  The default keeps a page under about 5 MB with its
        inline scripts.

    Returns
    -------
    WebMap

    Raises
    ------
    ZoningError
        A bad folder, report folder or ``report_href``, or ``max_sites`` below 1.

    Notes
    -----
    Size: each site costs its geometry and about 100 bytes (popups are assembled in the page
    from a table holding each reason text once); the constraint layers, clipped to the sites'
    surroundings, cost at most what the city overview costs (about 2 MB on the
    demonstration catalog).  ``benchmarks/map_size.py --screening`` measures pages of
    thousands of sites.
    """
    from ..report import page_name

    lang = check_lang(lang)
    if max_sites is not None and (isinstance(max_sites, bool) or int(max_sites) < 1):
        raise ZoningError(f"max_sites must be at least 1, not {max_sites!r}")
    bm = resolve_basemap(basemap, lang=lang, tianditu_key=tianditu_key)
    data = load_screening(result_or_dir, layers=layers)
    if report_dir is not None:
        rdir = Path(report_dir)
        if not rdir.is_dir():
            raise ZoningError(f"{rdir}: the report folder does not exist")
    else:
        rdir = data.report_dir
    if report_href is None and rdir is not None:
        report_href = "report"
    report_prefix = None
    if report_href is not None:
        try:
            report_prefix = safe_url(f"{report_href.rstrip('/')}/sites/")
        except ValueError as exc:
            raise ZoningError(f"report_href: {exc}") from None

    all_sites = data.sites.reset_index(drop=True)
    n_total = len(all_sites)
    verdicts_all = [_verdict(v) for v in all_sites["verdict"]]
    order = severity_order(verdicts_all)
    keep = order if max_sites is None else order[: int(max_sites)]
    # Drawn least severe first, so that the most severe sites lie on top.
    draw = keep[::-1]
    sites = all_sites.iloc[draw].reset_index(drop=True)
    positions = [int(p) for p in draw]
    n = len(sites)
    notices = list(bm.notes())
    if n < n_total:
        notices.append(
            (
                f"显示 {n_total:,} 个场址中最严重的 {n:,} 个（按结论排序）；"
                "全部结论见 sites.csv 与报告。",
                f"Showing {n:,} of {n_total:,} sites, the most severe first; every verdict is "
                "in sites.csv and the report.",
            )
        )
    site_geoms_w = sites.geometry.to_numpy()
    # The area around the sites (working CRS): constraint layers are clipped to it.  Sites
    # beyond the layers' own area (outside Shanghai) widen it to include that area, so the map
    # shows where they are relative to the layers.
    area = None
    extent = _layers_extent(data.layers)
    n_outside = 0
    if n:
        present = site_geoms_w[~shapely.is_empty(site_geoms_w)]
        x0, y0, x1, y1 = shapely.total_bounds(present) if len(present) else (0, 0, 0, 0)
        if extent is not None and len(present):
            n_outside = int((~shapely.intersects(present, extent)).sum())
            if n_outside:
                ex = extent.bounds
                x0, y0 = min(x0, ex[0]), min(y0, ex[1])
                x1, y1 = max(x1, ex[2]), max(y1, ex[3])
        if len(present):
            area = shapely.box(x0 - margin_m, y0 - margin_m, x1 + margin_m, y1 + margin_m)
    if n_outside:
        notices.append(
            (
                f"{n_outside:,} 个场址位于图层覆盖范围之外：地图已缩放到同时显示场址与图层范围。",
                f"{n_outside:,} {'site lies' if n_outside == 1 else 'sites lie'} outside the "
                "area the layers cover: the map is zoomed "
                "out to show both.",
            )
        )
    specs: list[dict] = []
    summary: dict = {}
    demo = bool(data.provenance.get("demonstration"))
    if data.layers is not None:
        specs, summary, layer_demo = catalog_layer_specs(
            data.layers,
            lang=lang,
            shift=bm.shift,
            clip=area,
            tolerance_m=tolerance_m,
            show={e.id for e in data.layers.catalog.layers if e.kind != "control_unit"},
        )
        demo = demo or layer_demo
        notices += _hash_notes(data)
        attach_legends(specs, lang)

    # ----- sites, coloured by verdict
    table = _PopupTable(lang)
    ids = [_str(v) for v in sites["site_id"]] if "site_id" in sites.columns else [""] * n
    names = [_str(v) for v in sites["name"]] if "name" in sites.columns else [""] * n
    verdicts = [_verdict(v) for v in sites["verdict"]]
    reasons = data.reasons
    by_position = (
        reasons is not None
        and len(reasons) > 0
        and "site" in reasons.columns
        and pd.to_numeric(reasons["site"], errors="coerce").between(0, n_total - 1).all()
    )
    keys = positions if by_position else ids
    by_site = _reasons_of_sites(reasons, keys, by_position, table)
    rep = _representative_points(site_geoms_w, bm.shift)
    props = []
    for i, (sid, name, v) in enumerate(zip(ids, names, verdicts, strict=True)):
        p: dict[str, Any] = {"c": v, "s": sid}
        if name and name != sid:
            p["n"] = name
        refs, more = by_site.get(keys[i], ([], 0))
        if refs:
            p["r"] = refs
        if more:
            p["m"] = more
        if report_prefix is not None:
            page = f"{page_name(sid)}.html"
            if rdir is None or (rdir / "sites" / page).is_file():
                p["h"] = page
        if rep[i] is not None:
            p["rp"] = rep[i]
        props.append(p)
    site_geoms = display_geometries(site_geoms_w, shift=bm.shift, precision=6)
    site_fc, _ = feature_collection(site_geoms, props)
    site_styles = {
        v: {"color": "#222222", "weight": 1.5, "fillColor": c, "fillOpacity": 0.85, "opacity": 1}
        for v, c in VERDICT_COLORS.items()
    }
    # Lines are drawn in the verdict colour itself.
    for v, c in VERDICT_COLORS.items():
        site_styles[v + ":line"] = {"color": c, "weight": 5, "opacity": 0.95}
    fam = shapely.get_dimensions(site_geoms_w)
    for feat, dim in zip(site_fc["features"], fam[~shapely.is_empty(site_geoms)], strict=True):
        if dim == 1:
            feat["properties"]["c"] = feat["properties"]["c"] + ":line"
    group = "筛选结果" if lang == "zh" else "Screening"
    t_sites = "场址（按结论着色）" if lang == "zh" else "Sites (by verdict)"
    screening_specs = []
    shown_ids = set(ids)

    # ----- overlap pieces, then buffer rings: drawn when the page's data stay within budget
    vector = (
        vector_basemap(data.layers, shift=bm.shift, clip=area, lang=lang)
        if data.layers is not None
        else None
    )
    public = [{k: v for k, v in sp.items() if not k.startswith("_")} for sp in specs]
    used = _json_bytes(public) + _json_bytes(site_fc) + _json_bytes(vector)
    used += _json_bytes([table.items, table.features])
    for make in (_pieces_layer, _rings_layer):
        built = make(data, shown_ids, bm.shift, lang, group, room=max_data_bytes - used)
        if built is None:
            continue
        spec, n_feats, what = built
        size = _json_bytes(spec["data"]) if spec is not None else None
        if size is not None and used + size <= max_data_bytes:
            screening_specs.append(spec)
            used += size
            continue
        zh, en = what
        notices.append(
            (
                f"{zh}未绘制：{n_feats:,} 个{zh}超出页面数据 {max_data_bytes / 1e6:.1f} MB 的上限"
                "（各场址的距离与重叠见报告）。",
                f"{en.capitalize()} not drawn: the {n_feats:,} {en} do not fit in the page's "
                f"limit of {max_data_bytes / 1e6:.1f} MB of data (the report gives each "
                "site's distances and overlaps).",
            )
        )
        summary[en.replace(" ", "_")] = {"features": 0, "omitted": n_feats, "bytes": size}
    # ----- the sites layer and its legend block: verdicts in both languages
    counts = pd.Series(verdicts, dtype=object).value_counts()
    vitems = [f'<div class="lg-h">{html_text("结论 Verdict")}</div>']
    for v in sorted(VERDICTS, key=SEVERITY.get, reverse=True):
        zh, en = VERDICT_TEXT[v]
        vitems.append(
            f'<div class="lg-i">{swatch_html(site_styles[v], "dot")}'
            f"{html_text(f'{zh} {en} ({int(counts.get(v, 0)):,})')}</div>"
        )
    sstyle = dict(site_styles["unknown"])
    screening_specs.insert(
        0,
        layer_spec(
            id="sites",
            ns="screening",
            name_html=multi_swatch_html(
                [VERDICT_COLORS[v] for v in sorted(VERDICTS, key=SEVERITY.get, reverse=True)]
            )
            + html_text(t_sites),
            group=group,
            kind="sites",
            data=site_fc,
            show=True,
            style=sstyle,
            styles=site_styles,
            pane="zoningSites",
            legend_html="".join(vitems),
        ),
    )
    for i, s in enumerate(screening_specs):
        s["z"] = 1000 + i
    summary["sites"] = {"features": len(site_fc["features"]), "of": n_total}
    if area is None:
        bounds = bounds_of(specs)
    else:
        if n_outside:  # the sites and the layers' area
            b = shapely.total_bounds(display_geometries(np.asarray([area]), shift=bm.shift))
        else:  # the sites
            b = shapely.total_bounds(site_geoms[~shapely.is_empty(site_geoms)])
            b = (b[0] - 0.01, b[1] - 0.01, b[2] + 0.01, b[3] + 0.01)
        bounds = [[float(b[1]), float(b[0])], [float(b[3]), float(b[2])]]
    for s in specs:
        s.pop("_bounds", None)

    popup = {
        "reasons_html": table.items,
        "features": table.features,
        "labels": POPUP_LABELS[lang],
        "verdicts": {v: f"{zh} {en}" for v, (zh, en) in VERDICT_TEXT.items()},
        "colors": VERDICT_COLORS,
        "report_prefix": report_prefix,
    }
    if title is None:
        base = "场址筛选图" if lang == "zh" else "Screening map"
        unit = "个场址" if lang == "zh" else ("site" if n_total == 1 else "sites")
        if n < n_total:
            of = f"{n:,} / {n_total:,}" if lang == "zh" else f"{n:,} of {n_total:,}"
            title = f"{base} — {of} {unit}"
        else:
            title = f"{base} — {n:,} {unit}"
    return build_page(
        title=title,
        lang=lang,
        basemap=bm,
        offline=offline,
        layers=screening_specs + specs,
        vector=vector,
        legend_html="",
        bounds=bounds,
        demonstration=demo,
        notices=notices,
        tools=tools,
        summary={"layers": summary, "basemap": bm.name, "shift": bm.shift, "source": data.source},
        sites=popup,
    )


#: No feature takes fewer bytes of a page than this (properties, type, a few coordinates):
#: layers that could not fit even so are not built at all.
MIN_FEATURE_BYTES = 100


def _rings_layer(data: ScreeningData, shown_ids: set, shift, lang: str, group: str, *, room: float):
    """The buffer rings of the shown sites: (spec, rings, names), spec None when they cannot
    fit in ``room`` bytes; None without rings.  Rings are simplified within 1 % of their
    radius."""
    rings = data.rings
    if len(rings) and "site_id" in rings.columns:
        rings = rings[rings["site_id"].map(_str).isin(shown_ids)]
    if not len(rings):
        return None
    if len(rings) * MIN_FEATURE_BYTES > room:
        return None, len(rings), ("缓冲环", "buffer rings")
    rprops = []
    for rec in rings.drop(columns=rings.geometry.name).to_dict("records"):
        rp: dict[str, Any] = {"s": _str(rec.get("site_id"))}
        for key, col in (("a", "inner_m"), ("b", "outer_m")):
            val = pd.to_numeric(rec.get(col), errors="coerce")
            if val is not None and not pd.isna(val):
                rp[key] = round(float(val), 1)
        rprops.append(rp)
    outer = rings["outer_m"] if "outer_m" in rings.columns else np.full(len(rings), 1000.0)
    simple = shapely.simplify(
        rings.geometry.to_numpy(), _ring_tolerance(outer), preserve_topology=True
    )
    rfc, _ = feature_collection(display_geometries(simple, shift=shift), rprops)
    t_rings = "缓冲环" if lang == "zh" else "Buffer rings"
    rstyle = {
        "color": "#525252",
        "weight": 1,
        "dashArray": "4 4",
        "fillColor": "#bdbdbd",
        "fillOpacity": 0.08,
    }
    spec = layer_spec(
        id="rings",
        ns="screening",
        name_html=swatch_html(rstyle) + html_text(t_rings),
        group=group,
        kind="rings",
        data=rfc,
        show=True,
        style=rstyle,
        pane="zoningRings",
        legend_html=f'<div class="lg-i">{swatch_html(rstyle)}'
        f"{html_text('缓冲环 buffer rings')}</div>",
    )
    spec["tip_title"] = t_rings
    return spec, len(rfc["features"]), ("缓冲环", "buffer rings")


def _pieces_layer(
    data: ScreeningData, shown_ids: set, shift, lang: str, group: str, *, room: float
):
    """The overlap pieces of the shown sites (unsimplified), as :func:`_rings_layer`."""
    pieces = data.pieces
    if len(pieces) and "site_id" in pieces.columns:
        pieces = pieces[pieces["site_id"].map(_str).isin(shown_ids)]
    if not len(pieces):
        return None
    if len(pieces) * MIN_FEATURE_BYTES > room:
        return None, len(pieces), ("重叠部分", "overlap pieces")
    t_pieces = "重叠部分" if lang == "zh" else "Overlap pieces"
    titles = {}
    if data.layers is not None:
        titles = {e.id: e.title(lang) for e in data.layers.catalog.layers}
    pprops, pstyles = [], {}
    for rec in pieces.drop(columns=pieces.geometry.name).to_dict("records"):
        kind = _str(rec.get("kind"))
        lid = _str(rec.get("layer_id"))
        st = kind_style(kind)
        pstyles[kind] = {
            "color": "#000000",
            "weight": 1.5,
            "fillColor": st.get("fillColor", st["color"]),
            "fillOpacity": 0.9,
        }
        rows = [
            ("场址" if lang == "zh" else "Site", _str(rec.get("site_id"))),
            ("要素" if lang == "zh" else "Feature", _str(rec.get("feature_id"))),
            ("重叠面积" if lang == "zh" else "Overlap", _fmt_m2(rec.get("overlap_m2"))),
        ]
        pprops.append({"c": kind, "t": tooltip_html(f"{t_pieces}: {titles.get(lid, lid)}", rows)})
    pfc, _ = feature_collection(
        display_geometries(pieces.geometry.to_numpy(), shift=shift, precision=6), pprops
    )
    pstyle = {"color": "#000000", "weight": 1.5, "fillColor": "#000000", "fillOpacity": 0.5}
    legend_st = {"color": "#000000", "fillColor": "#000000", "fillOpacity": 0.9}
    spec = layer_spec(
        id="pieces",
        ns="screening",
        name_html=swatch_html(pstyle) + html_text(t_pieces),
        group=group,
        kind="pieces",
        data=pfc,
        show=True,
        style=pstyle,
        styles=pstyles,
        pane="zoningPieces",
        legend_html=f'<div class="lg-i">{swatch_html(legend_st)}'
        f"{html_text('重叠部分（按图层着色）overlap pieces (by layer)')}</div>",
    )
    return spec, len(pfc["features"]), ("重叠部分", "overlap pieces")


def _representative_points(geoms: np.ndarray, shift: str | None) -> list:
    """[lon, lat] (display coordinates) of a point inside each polygon or on each line site.

    ``None`` for point sites (they are drawn as dots already) and empty geometries.
    """
    out: list = [None] * len(geoms)
    if not len(geoms):
        return out
    dims = shapely.get_dimensions(geoms)
    empty = shapely.is_empty(geoms) | shapely.is_missing(geoms)
    sel = np.flatnonzero((dims >= 1) & ~empty)
    if not len(sel):
        return out
    g = geoms[sel]
    pts = np.empty(len(sel), dtype=object)
    poly = shapely.get_dimensions(g) == 2
    pts[poly] = shapely.point_on_surface(g[poly])
    lines = ~poly
    if lines.any():
        merged = shapely.line_merge(g[lines])
        pts[lines] = [
            shapely.line_interpolate_point(m, 0.5, normalized=True)
            if shapely.get_type_id(m) == 1
            else shapely.point_on_surface(m)
            for m in merged
        ]
    disp = display_geometries(pts, shift=shift, precision=6)
    for i, p in zip(sel, disp, strict=True):
        if p is not None and not p.is_empty:
            out[int(i)] = [round(p.x, 6), round(p.y, 6)]
    return out


def _hash_notes(data: ScreeningData) -> list[tuple[str, str]]:
    """Notices for constraint layers whose file differs from the one screened."""
    screened = {
        p.get("id"): p.get("sha256") for p in data.provenance.get("layers", []) if p.get("sha256")
    }
    if not screened or data.layers is None:
        return []
    differ = []
    for e in data.layers.catalog.layers:
        want = screened.get(e.id)
        if want is None:
            continue
        try:
            got = data.layers[e.id].report.sha256
        except Exception:
            continue
        if got != want:
            differ.append(e.id)
    if not differ:
        return []
    names = ", ".join(differ)
    return [
        (
            f"注意：以下图层的文件与筛选时所用的不同：{names}",
            f"Note: these layers differ from the files screened: {names}",
        )
    ]
