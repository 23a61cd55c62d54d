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
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from .._paths import page_name
from ..errors import ZoningError, quote
from ..layerset import LayerSet
from ..schema import SEVERITY, VERDICTS
from .assets import TOOLS
from .basemaps import Basemap, resolve_basemap
from .data import ScreeningData, load_screening  # load_screening: re-exported for old paths
from .escape import html_text, safe_url
from .features import feature_collection, layer_spec, tooltip_html, vector_basemap
from .overview import attach_legends, bounds_of, catalog_layer_specs
from .page import WebMap, build_page, check_lang
from .popups import (  # VERDICT_COLORS: re-exported for old import paths
    VERDICT_COLORS,
    VERDICT_TEXT,
    _popup_data,
    _PopupTable,
    _reasons_of_sites,
    _str,
    _verdict,
)
from .simplify import TOLERANCE_M, display_geometries
from .styles import kind_style, multi_swatch_html, swatch_html

__all__ = [
    "MAX_DATA_BYTES",
    "VERDICT_COLORS",
    "load_screening",
    "screening_map",
    "severity_order",
]

log = logging.getLogger(__name__)

#: The overlap pieces and then the buffer rings are left out (and the map says so) when they
#: would bring the page's data over this many bytes: with the 0.4 MB of inline scripts, the
#: page stays under about 5 MB (see benchmarks/map_size.py).
MAX_DATA_BYTES = 4_500_000


def _fmt_m2(v: Any) -> str:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return ""
    if math.isnan(x):
        return ""
    return f"{x / 1e4:,.2f} ha" if x >= 1e4 else f"{x:,.0f} m²"


def severity_order(verdicts) -> np.ndarray:
    """Positions of the sites, most severe first, input order within a verdict.

    Parameters
    ----------
    verdicts : iterable of str
        One verdict per site; anything not a verdict counts as ``unknown``.

    Returns
    -------
    numpy.ndarray
        Integer positions into ``verdicts``.
    """
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
    lang = check_lang(lang)
    if max_sites is not None and (isinstance(max_sites, bool) or int(max_sites) < 1):
        raise ZoningError(f"max_sites must be at least 1, not {quote(max_sites)}")
    bm = resolve_basemap(basemap, lang=lang, tianditu_key=tianditu_key)
    data = load_screening(result_or_dir, layers=layers)
    links = _report_links(data, report_dir, report_href)
    shown = _select_sites(data.sites, max_sites)
    notices = list(bm.notes()) + _shown_notice(shown)
    area, n_outside = _sites_area(shown, data.layers, margin_m)
    notices += _outside_notice(n_outside)
    specs, summary, demo = _constraint_layers(data, lang, bm, area, tolerance_m, notices)
    table = _PopupTable(lang)
    site_fc, verdicts, ids = _site_features(data, shown, table, bm, links, page_name)
    group = "筛选结果" if lang == "zh" else "Screening"
    vector = (
        vector_basemap(data.layers, shift=bm.shift, clip=area, lang=lang)
        if data.layers is not None
        else None
    )
    screening_specs = _pieces_and_rings(
        data,
        set(ids),
        bm,
        lang,
        group,
        budget=_Budget(max_data_bytes, _data_bytes(specs, site_fc, vector, table)),
        notices=notices,
        summary=summary,
    )
    screening_specs.insert(0, _sites_spec(site_fc, verdicts, lang, group))
    for i, s in enumerate(screening_specs):
        s["z"] = 1000 + i
    summary["sites"] = {"features": len(site_fc["features"]), "of": shown.n_total}
    bounds = _map_bounds(specs, area, n_outside, bm, shown)
    for s in specs:
        s.pop("_bounds", None)
    return build_page(
        title=title if title is not None else _default_title(lang, shown.n, shown.n_total),
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
        sites=_popup_data(table, lang, links.prefix),
    )


@dataclass(frozen=True)
class _ReportLinks:
    """Where the sites' report pages are: the folder to check (or None) and the URL prefix."""

    folder: Path | None
    prefix: str | None


def _report_links(
    data: ScreeningData, report_dir: str | Path | None, report_href: str | None
) -> _ReportLinks:
    """The report folder and the escaped URL prefix of the site pages (see screening_map)."""
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
    return _ReportLinks(rdir, report_prefix)


@dataclass(frozen=True)
class _ShownSites:
    """The sites drawn: least severe first (the most severe on top), and their positions."""

    sites: Any  # GeoDataFrame, working CRS
    positions: list[int]  # in the result's sites table
    n_total: int

    @property
    def n(self) -> int:
        return len(self.sites)

    @property
    def geoms(self) -> np.ndarray:
        return self.sites.geometry.to_numpy()


def _select_sites(all_sites, max_sites: int | None) -> _ShownSites:
    """The ``max_sites`` most severe sites (every site by default), in drawing order."""
    all_sites = all_sites.reset_index(drop=True)
    order = severity_order([_verdict(v) for v in all_sites["verdict"]])
    keep = order if max_sites is None else order[: int(max_sites)]
    # Drawn least severe first, so that the most severe sites lie on top.
    draw = keep[::-1]
    return _ShownSites(
        sites=all_sites.iloc[draw].reset_index(drop=True),
        positions=[int(p) for p in draw],
        n_total=len(all_sites),
    )


def _shown_notice(shown: _ShownSites) -> list[tuple[str, str]]:
    """The notice "showing N of M sites" when not every site is drawn."""
    n, n_total = shown.n, shown.n_total
    if n >= n_total:
        return []
    return [
        (
            f"显示 {n_total:,} 个场址中最严重的 {n:,} 个（按结论排序）；"
            "全部结论见 sites.csv 与报告。",
            f"Showing {n:,} of {n_total:,} sites, the most severe first; every verdict is "
            "in sites.csv and the report.",
        )
    ]


def _sites_area(shown: _ShownSites, layers: LayerSet | None, margin_m: float):
    """The area around the sites (working CRS) and the number of sites beyond the layers.

    Constraint layers are clipped to the area.  Sites beyond the layers' own area (outside
    Shanghai) widen it to include that area, so the map shows where they are relative to the
    layers.  The area is None without a site geometry.
    """
    area = None
    extent = _layers_extent(layers)
    n_outside = 0
    if shown.n:
        geoms = shown.geoms
        present = geoms[~shapely.is_empty(geoms)]
        x0, y0, x1, y1 = shapely.total_bounds(present) if len(present) else (0, 0, 0, 0)
        if extent is not None and len(present):
            n_outside = int((~shapely.intersects(present, extent)).sum())
            if n_outside:
                ex = extent.bounds
                x0, y0 = min(x0, ex[0]), min(y0, ex[1])
                x1, y1 = max(x1, ex[2]), max(y1, ex[3])
        if len(present):
            area = shapely.box(x0 - margin_m, y0 - margin_m, x1 + margin_m, y1 + margin_m)
    return area, n_outside


def _outside_notice(n_outside: int) -> list[tuple[str, str]]:
    """The notice that some sites lie beyond the layers (the map is zoomed out)."""
    if not n_outside:
        return []
    return [
        (
            f"{n_outside:,} 个场址位于图层覆盖范围之外：地图已缩放到同时显示场址与图层范围。",
            f"{n_outside:,} {'site lies' if n_outside == 1 else 'sites lie'} outside the "
            "area the layers cover: the map is zoomed "
            "out to show both.",
        )
    ]


def _constraint_layers(
    data: ScreeningData,
    lang: str,
    bm: Basemap,
    area,
    tolerance_m: float,
    notices: list[tuple[str, str]],
) -> tuple[list[dict], dict, bool]:
    """The catalog's layers clipped to ``area``: (specs, summary, demonstration).

    Appends the notices of layers whose file differs from the one screened.
    """
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
    return specs, summary, demo


def _site_styles() -> dict[str, dict]:
    """The style of the sites of each verdict; lines are drawn in the verdict colour itself."""
    styles = {
        v: {"color": "#222222", "weight": 1.5, "fillColor": c, "fillOpacity": 0.85, "opacity": 1}
        for v, c in VERDICT_COLORS.items()
    }
    for v, c in VERDICT_COLORS.items():
        styles[v + ":line"] = {"color": c, "weight": 5, "opacity": 0.95}
    return styles


def _site_features(
    data: ScreeningData,
    shown: _ShownSites,
    table: _PopupTable,
    bm: Basemap,
    links: _ReportLinks,
    page_name,
) -> tuple[dict, list[str], list[str]]:
    """The sites as a FeatureCollection (display coordinates) with their popup references.

    Returns the collection, the sites' verdicts and their ids.  The reasons' texts go into
    ``table`` once each; a site's properties refer to them by index.
    """
    sites, n = shown.sites, shown.n
    ids = [_str(v) for v in sites["site_id"]] if "site_id" in sites.columns else [""] * n
    names = [_str(v) for v in sites["name"]] if "name" in sites.columns else [""] * n
    verdicts = [_verdict(v) for v in sites["verdict"]]
    reasons = data.reasons
    by_position = (
        reasons is not None
        and len(reasons) > 0
        and "site" in reasons.columns
        and pd.to_numeric(reasons["site"], errors="coerce").between(0, shown.n_total - 1).all()
    )
    keys = shown.positions if by_position else ids
    by_site = _reasons_of_sites(reasons, keys, by_position, table)
    site_geoms_w = shown.geoms
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
        if links.prefix is not None:
            page = f"{page_name(sid)}.html"
            if links.folder is None or (links.folder / "sites" / page).is_file():
                p["h"] = page
        if rep[i] is not None:
            p["rp"] = rep[i]
        props.append(p)
    site_geoms = display_geometries(site_geoms_w, shift=bm.shift, precision=6)
    site_fc, _ = feature_collection(site_geoms, props)
    fam = shapely.get_dimensions(site_geoms_w)
    for feat, dim in zip(site_fc["features"], fam[~shapely.is_empty(site_geoms)], strict=True):
        if dim == 1:
            feat["properties"]["c"] = feat["properties"]["c"] + ":line"
    return site_fc, verdicts, ids


def _data_bytes(specs: list[dict], site_fc: dict, vector, table: _PopupTable) -> int:
    """The bytes of the page's data so far: layers, sites, basemap and popup texts."""
    public = [{k: v for k, v in sp.items() if not k.startswith("_")} for sp in specs]
    used = _json_bytes(public) + _json_bytes(site_fc) + _json_bytes(vector)
    return used + _json_bytes([table.items, table.features])


@dataclass
class _Budget:
    """The page's data budget (bytes) and what is used of it."""

    limit: int
    used: int


def _pieces_and_rings(
    data: ScreeningData,
    shown_ids: set,
    bm: Basemap,
    lang: str,
    group: str,
    *,
    budget: _Budget,
    notices: list[tuple[str, str]],
    summary: dict,
) -> list[dict]:
    """The overlap pieces, then the buffer rings, while the page's data stay within budget.

    What does not fit is left out: a notice says so and ``summary`` counts it.
    """
    out = []
    max_data_bytes = budget.limit
    for make in (_pieces_layer, _rings_layer):
        built = make(data, shown_ids, bm.shift, lang, group, room=max_data_bytes - budget.used)
        if built is None:
            continue
        spec, n_feats, what = built
        size = _json_bytes(spec["data"]) if spec is not None else None
        if size is not None and budget.used + size <= max_data_bytes:
            out.append(spec)
            budget.used += size
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
    return out


def _sites_spec(site_fc: dict, verdicts: list[str], lang: str, group: str) -> dict:
    """The sites layer and its legend block: the verdicts in both languages, with counts."""
    site_styles = _site_styles()
    t_sites = "场址（按结论着色）" if lang == "zh" else "Sites (by verdict)"
    counts = pd.Series(verdicts, dtype=object).value_counts()
    vitems = [f'<div class="lg-h">{html_text("结论 Verdict")}</div>']
    for v in sorted(VERDICTS, key=SEVERITY.get, reverse=True):
        zh, en = VERDICT_TEXT[v]
        vitems.append(
            f'<div class="lg-i">{swatch_html(site_styles[v], "dot")}'
            f"{html_text(f'{zh} {en} ({int(counts.get(v, 0)):,})')}</div>"
        )
    return layer_spec(
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
        style=dict(site_styles["unknown"]),
        styles=site_styles,
        pane="zoningSites",
        legend_html="".join(vitems),
    )


def _map_bounds(specs: list[dict], area, n_outside: int, bm: Basemap, shown: _ShownSites):
    """The map's initial view: the sites (and the layers' area when sites lie beyond it)."""
    if area is None:
        return bounds_of(specs)
    if n_outside:  # the sites and the layers' area
        b = shapely.total_bounds(display_geometries(np.asarray([area]), shift=bm.shift))
    else:  # the sites
        site_geoms = display_geometries(shown.geoms, shift=bm.shift, precision=6)
        b = shapely.total_bounds(site_geoms[~shapely.is_empty(site_geoms)])
        b = (b[0] - 0.01, b[1] - 0.01, b[2] + 0.01, b[3] + 0.01)
    return [[float(b[1]), float(b[0])], [float(b[3]), float(b[2])]]


def _default_title(lang: str, n: int, n_total: int) -> str:
    """The map's title: "Screening map — N sites" (or "N of M sites")."""
    base = "场址筛选图" if lang == "zh" else "Screening map"
    unit = "个场址" if lang == "zh" else ("site" if n_total == 1 else "sites")
    if n < n_total:
        of = f"{n:,} / {n_total:,}" if lang == "zh" else f"{n:,} of {n_total:,}"
        return f"{base} — {of} {unit}"
    return f"{base} — {n:,} {unit}"


#: No feature takes fewer bytes of a page than this (properties, type, a few coordinates):
#: layers that could not fit even so are not built at all.
MIN_FEATURE_BYTES = 100


def _of_shown_sites(frame: pd.DataFrame, shown_ids: set) -> pd.DataFrame:
    """The rows of ``frame`` (rings or pieces) that belong to a shown site."""
    if len(frame) and "site_id" in frame.columns:
        frame = frame[frame["site_id"].map(_str).isin(shown_ids)]
    return frame


def _rings_layer(data: ScreeningData, shown_ids: set, shift, lang: str, group: str, *, room: float):
    """The buffer rings of the shown sites: (spec, rings, names), spec None when they cannot
    fit in ``room`` bytes; None without rings.  Rings are simplified within 1 % of their
    radius."""
    rings = _of_shown_sites(data.rings, shown_ids)
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
    pieces = _of_shown_sites(data.pieces, shown_ids)
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
