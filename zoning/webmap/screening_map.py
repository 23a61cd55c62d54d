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
import pandas as pd
import shapely

from ..crs import WORKING_CRS
from ..errors import ZoningError
from ..layerset import LayerSet, load_catalog
from ..rules import SEVERITY, VERDICTS
from .assets import TOOLS
from .basemaps import resolve_basemap
from .escape import href, html_attr, html_text
from .overview import bounds_of, catalog_layer_specs, legend_html
from .page import (
    WebMap,
    build_page,
    check_lang,
    feature_collection,
    kind_style,
    layer_spec,
    swatch_html,
    tooltip_html,
    vector_basemap,
)
from .simplify import TOLERANCE_M, display_geometries

__all__ = ["VERDICT_COLORS", "load_screening", "screening_map"]

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
    gpkg, js = folder / "screening.gpkg", folder / "screening.json"
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
    report = folder / "report"
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


def _reasons_by_site(reasons: pd.DataFrame) -> dict[str, list[dict]]:
    if reasons is None or not len(reasons) or "site_id" not in reasons.columns:
        return {}
    r = reasons.copy()
    r["site_id"] = r["site_id"].map(_str)
    r["_sev"] = r["verdict"].map(lambda v: SEVERITY.get(_verdict(v), 0))
    r = r.drop_duplicates(["site_id", "rule_id"]).sort_values(
        ["site_id", "_sev"], ascending=[True, False], kind="stable"
    )
    return {k: g.to_dict("records") for k, g in r.groupby("site_id", sort=False)}


def _verdict_badge(v: str) -> str:
    zh, en = VERDICT_TEXT[v]
    return (
        f'<span class="zp-verdict" style="{html_attr("background:" + VERDICT_COLORS[v])}">'
        f"{html_text(zh)} {html_text(en)}</span>"
    )


def _site_popup(
    site_id: str, name: str, verdict: str, reasons: list[dict], link: str | None, lang: str
) -> str:
    msg_key = "message_zh" if lang == "zh" else "message_en"
    parts = [f'<div class="zp-title">{html_text(name or site_id)}</div>']
    label = "场址编号" if lang == "zh" else "Site id"
    parts.append(f'<div><span class="zp-k">{html_text(label)}:</span> {html_text(site_id)}</div>')
    parts.append(f"<div>{_verdict_badge(verdict)}</div>")
    if reasons:
        items = []
        for rec in reasons[:MAX_POPUP_REASONS]:
            rv = _verdict(rec.get("verdict"))
            vz, ve = VERDICT_TEXT[rv]
            cite = _str(rec.get("citation"))
            items.append(
                f"<li><b>{html_text(_str(rec.get('rule_id')))}</b> "
                f"({html_text(vz if lang == 'zh' else ve)}): {html_text(_str(rec.get(msg_key)))}"
                + (f'<br><span class="zp-cite">{html_text(cite)}</span>' if cite else "")
                + "</li>"
            )
        parts.append(f"<ul>{''.join(items)}</ul>")
        more = len(reasons) - MAX_POPUP_REASONS
        if more > 0:
            text = (
                f"另有 {more} 条理由见报告"
                if lang == "zh"
                else f"{more} more reasons in the report"
            )
            parts.append(f"<div>{html_text(text)}</div>")
    if link:
        text = "打开场址报告" if lang == "zh" else "Open the site report"
        parts.append(
            f'<div><a href="{link}" target="_blank" rel="noopener">{html_text(text)}</a></div>'
        )
    return "".join(parts)


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
        links are ``{report_href}/sites/{page_name(site_id)}.html``.
    margin_m : float
        Constraint layers are drawn within this distance of the sites.
    title : str, optional
    tolerance_m : float
        Simplification tolerance of the constraint layers (the sites, pieces and rings are drawn
        unsimplified).  Screening itself never sees simplified geometry.
    tools : iterable of str

    Returns
    -------
    WebMap
    """
    from ..report import page_name

    lang = check_lang(lang)
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

    sites = data.sites.reset_index(drop=True)
    n = len(sites)
    # The area around the sites (working CRS): constraint layers are clipped to it.
    if n:
        x0, y0, x1, y1 = shapely.total_bounds(sites.geometry.to_numpy())
        area = shapely.box(x0 - margin_m, y0 - margin_m, x1 + margin_m, y1 + margin_m)
    else:
        area = None
    specs: list[dict] = []
    summary: dict = {}
    demo = bool(data.provenance.get("demonstration"))
    notices = list(bm.notes())
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
    layer_legend = legend_html(specs, lang) if specs else ""

    # ----- sites, coloured by verdict
    by_site = _reasons_by_site(data.reasons)
    ids = [_str(v) for v in sites["site_id"]] if "site_id" in sites.columns else [""] * n
    names = [_str(v) for v in sites["name"]] if "name" in sites.columns else [""] * n
    verdicts = [_verdict(v) for v in sites["verdict"]]
    props = []
    for sid, name, v in zip(ids, names, verdicts, strict=True):
        link = None
        if report_href is not None:
            page = f"{page_name(sid)}.html"
            if rdir is None or (rdir / "sites" / page).is_file():
                link = href(f"{report_href.rstrip('/')}/sites/{page}")
        zh, en = VERDICT_TEXT[v]
        tip = tooltip_html(name or sid, [("", f"{zh} {en}")]).replace(
            '<span class="zt-k">:</span> ', ""
        )
        props.append(
            {"c": v, "t": tip, "p": _site_popup(sid, name, v, by_site.get(sid, []), link, lang)}
        )
    site_geoms = display_geometries(sites.geometry.to_numpy(), shift=bm.shift, precision=6)
    site_fc, _ = feature_collection(site_geoms, props)
    site_styles = {
        v: {"color": "#222222", "weight": 1.5, "fillColor": c, "fillOpacity": 0.85, "opacity": 1}
        for v, c in VERDICT_COLORS.items()
    }
    # Lines are drawn in the verdict colour itself.
    for v, c in VERDICT_COLORS.items():
        site_styles[v + ":line"] = {"color": c, "weight": 5, "opacity": 0.95}
    fam = shapely.get_dimensions(sites.geometry.to_numpy())
    for feat, dim in zip(site_fc["features"], fam[~shapely.is_empty(site_geoms)], strict=True):
        if dim == 1:
            feat["properties"]["c"] = feat["properties"]["c"] + ":line"
    group = "筛选结果" if lang == "zh" else "Screening"
    t_sites = "场址（按结论着色）" if lang == "zh" else "Sites (by verdict)"
    t_pieces = "重叠部分" if lang == "zh" else "Overlap pieces"
    t_rings = "缓冲环" if lang == "zh" else "Buffer rings"
    screening_specs = []

    # ----- buffer rings
    rings = data.rings
    if len(rings):
        rprops = []
        for rec in rings.drop(columns=rings.geometry.name).to_dict("records"):
            inner, outer = rec.get("inner_m"), rec.get("outer_m")
            label = (
                f"{_str(rec.get('site_id'))}: {float(inner or 0):,.0f}–{float(outer or 0):,.0f} m"
            )
            rprops.append(
                {
                    "t": tooltip_html(t_rings, [("", label)]).replace(
                        '<span class="zt-k">:</span> ', ""
                    )
                }
            )
        rfc, _ = feature_collection(
            display_geometries(rings.geometry.to_numpy(), shift=bm.shift), rprops
        )
        rstyle = {
            "color": "#525252",
            "weight": 1,
            "dashArray": "4 4",
            "fillColor": "#bdbdbd",
            "fillOpacity": 0.08,
        }
        screening_specs.append(
            layer_spec(
                id="rings",
                name_html=swatch_html(rstyle) + html_text(t_rings),
                group=group,
                kind="rings",
                data=rfc,
                show=True,
                style=rstyle,
                pane="zoningRings",
            )
        )
    # ----- overlap pieces
    pieces = data.pieces
    if len(pieces):
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
            pprops.append(
                {"c": kind, "t": tooltip_html(f"{t_pieces}: {titles.get(lid, lid)}", rows)}
            )
        pfc, _ = feature_collection(
            display_geometries(pieces.geometry.to_numpy(), shift=bm.shift, precision=6), pprops
        )
        pstyle = {"color": "#000000", "weight": 1.5, "fillColor": "#000000", "fillOpacity": 0.5}
        screening_specs.append(
            layer_spec(
                id="pieces",
                name_html=swatch_html(pstyle) + html_text(t_pieces),
                group=group,
                kind="pieces",
                data=pfc,
                show=True,
                style=pstyle,
                styles=pstyles,
                pane="zoningPieces",
            )
        )
    sstyle = dict(site_styles["unknown"])
    screening_specs.insert(
        0,
        layer_spec(
            id="sites",
            name_html=swatch_html(sstyle, "dot") + html_text(t_sites),
            group=group,
            kind="sites",
            data=site_fc,
            show=True,
            style=sstyle,
            styles=site_styles,
            pane="zoningSites",
        ),
    )
    for i, s in enumerate(screening_specs):
        s["z"] = 1000 + i
    summary["sites"] = {"features": len(site_fc["features"])}
    if n:
        b = shapely.total_bounds(site_geoms[~shapely.is_empty(site_geoms)])
        pad = 0.01
        bounds = [[b[1] - pad, b[0] - pad], [b[3] + pad, b[2] + pad]]
    else:
        bounds = bounds_of(specs)
    for s in specs:
        s.pop("_bounds", None)

    # ----- legend: verdicts in both languages, then the layers
    heading = "图例 Legend"
    items = [
        f"<h4>{html_text(heading)}</h4>",
        f'<div class="lg-h">{html_text("结论 Verdict")}</div>',
    ]
    counts = pd.Series(verdicts, dtype=object).value_counts()
    for v in sorted(VERDICTS, key=SEVERITY.get, reverse=True):
        zh, en = VERDICT_TEXT[v]
        items.append(
            f'<div class="lg-i">{swatch_html(site_styles[v], "dot")}'
            f"{html_text(f'{zh} {en} ({int(counts.get(v, 0))})')}</div>"
        )
    items.append(f'<div class="lg-h">{html_text("筛选图形 Screening shapes")}</div>')
    for st, text in (
        ({"color": "#000", "fillColor": "#000"}, "重叠部分 overlap pieces"),
        ({"color": "#525252", "fillColor": "#eee"}, "缓冲环 buffer rings"),
    ):
        items.append(f'<div class="lg-i">{swatch_html(st)}{html_text(text)}</div>')
    legend = "".join(items) + layer_legend

    if title is None:
        base = "场址筛选图" if lang == "zh" else "Screening map"
        unit = "个场址" if lang == "zh" else "sites"
        title = f"{base} — {n} {unit}"
    return build_page(
        title=title,
        lang=lang,
        basemap=bm,
        offline=offline,
        layers=screening_specs + specs,
        vector=vector_basemap(data.layers, shift=bm.shift, clip=area, lang=lang)
        if data.layers is not None
        else None,
        legend_html=legend,
        bounds=bounds,
        demonstration=demo,
        notices=notices,
        tools=tools,
        summary={"layers": summary, "basemap": bm.name, "shift": bm.shift, "source": data.source},
    )


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
