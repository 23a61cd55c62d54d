"""The map figure of a site: the site and the constraint features it touches or nears, drawn
in CGCS2000 / WGS84 longitude and latitude (EPSG:4490), with a scale bar, a north arrow, a
legend and the data sources with their vintages.  A PNG (matplotlib, Agg backend), used by
the report's site pages and by the PDF and Word documents.

Coordinates are never GCJ-02: a screening's geometries are true WGS84 positions (a GCJ-02
input was converted when read), transformed here from the working CRS to EPSG:4490.
"""

from __future__ import annotations

import functools
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._optional import require
from ..labels import VERDICT_LABELS
from ..webmap.popups import VERDICT_COLORS  # the report map's colours

__all__ = [
    "FIGURE_FONT",
    "VERDICT_COLORS",
    "figure_sources",
    "figure_view",
    "site_figure",
    "site_figure_with_sources",
]

#: The CJK font the figure's words are set in (shipped with :mod:`zoning.documents`).
FIGURE_FONT = (
    Path(__file__).resolve().parent.parent / "documents" / "fonts" / "NotoSansSC-Subset-Regular.ttf"
)


#: Feature colours by layer kind (edge, face); kinds not listed are grey.
_KIND_COLORS = {
    "red_line": ("#b2182b", "#d6604d"),
    "development_boundary": ("#542788", None),
    "basic_farmland": ("#4d9221", "#b8e186"),
    "water": ("#2171b5", "#6baed6"),
    "water_source_zone": ("#08519c", "#3182bd"),
    "nature_reserve": ("#006d2c", "#31a354"),
    "control_unit": ("#666666", "#cccccc"),
    "district": ("#444444", None),
    "sea_area": ("#6baed6", "#c6dbef"),
    "shoreline": ("#08306b", None),
    "coastline": ("#08306b", None),
    "heritage": ("#8c510a", "#d8b365"),
    "noise_sensitive": ("#c51b7d", "#f1b6da"),
    "industrial_park": ("#8c510a", "#d8b365"),
}
_GREY = ("#525252", "#bdbdbd")

#: The least and the most the view reaches beyond the site, metres.
_MIN_MARGIN_M = 250.0
_MAX_MARGIN_M = 3500.0
#: A layer whose nearest feature lies within this distance of the site is drawn (its nearest
#: feature inside the view) even when no rule fired on it: the reader sees what the site nears.
NEAR_M = 2000.0


@dataclass(frozen=True)
class FigureView:
    """What a site's figure shows: its extent (working CRS) and the features drawn."""

    bounds: tuple[float, float, float, float]
    features: list[dict]


def figure_view(result: Any, position: int) -> FigureView:
    """The extent of a site's figure and the features drawn in it.

    Parameters
    ----------
    result : ScreeningResult
    position : int
        The site's row in ``result.sites``.

    Returns
    -------
    FigureView
        ``bounds`` (working CRS): the site plus a margin reaching the features a rule fired
        on and the nearest feature of every layer within :data:`NEAR_M` of the site (at
        least 250 m, at most 3.5 km); ``features``: one dict per hit of the site whose
        feature lies in the view (``layer_id``, ``kind``, ``title_zh``, ``geometry`` in the
        working CRS, ``fired`` when a rule fired on it).
    """
    import shapely

    geom = result.sites.geometry.iloc[int(position)]
    hits = result.hits
    mine = hits[hits["site"] == int(position)] if len(hits) else hits
    fired = mine["verdict"].notna() if "verdict" in mine.columns else None
    margin = _MIN_MARGIN_M
    if fired is not None and fired.any():
        far = mine.loc[fired, "distance_m"].astype(float).max()
        if np.isfinite(far):
            margin = max(margin, far * 1.15 + 150.0)
    if len(mine) and "distance_m" in mine.columns:
        dist = mine["distance_m"].astype(float)
        nearest = dist[dist <= NEAR_M].groupby(mine["layer_id"]).min()
        if len(nearest):
            margin = max(margin, float(nearest.max()) * 1.15 + 150.0)
    minx, miny, maxx, maxy = geom.bounds
    size = max(maxx - minx, maxy - miny)
    margin = min(max(margin, 0.3 * size), _MAX_MARGIN_M + 0.3 * size)
    bounds = (minx - margin, miny - margin, maxx + margin, maxy + margin)
    box = shapely.box(*bounds)
    features = []
    for lid, group in mine.groupby("layer_id", sort=False) if len(mine) else []:
        if lid not in result.layers:
            continue
        layer = result.layers[lid]
        gdf = layer.gdf
        fired_ids = (
            {
                str(f)
                for f, v in zip(group["feature_id"], group["verdict"], strict=True)
                if isinstance(v, str)
            }
            if "verdict" in group.columns
            else set()
        )
        wanted = gdf["feature_id"].astype(str).isin(set(group["feature_id"].astype(str)))
        for fid, g in zip(
            gdf.loc[wanted, "feature_id"].astype(str), gdf.geometry[wanted], strict=True
        ):
            if g is None or g.is_empty or not g.intersects(box):
                continue
            features.append(
                {
                    "layer_id": lid,
                    "kind": layer.kind,
                    "title_zh": layer.entry.title("zh"),
                    "geometry": shapely.clip_by_rect(g, *bounds),
                    "fired": fid in fired_ids,
                }
            )
    return FigureView(bounds, features)


def _font(fm: Any) -> Any:
    """The figure's font properties (the shipped CJK font, registered once)."""
    if str(FIGURE_FONT) not in {f.fname for f in fm.fontManager.ttflist}:
        fm.fontManager.addfont(str(FIGURE_FONT))
    return fm.FontProperties(fname=str(FIGURE_FONT))


def _draw(ax: Any, geom: Any, *, edge: str, face: str | None, lw: float, z: int, **kw) -> None:
    """Draw a shapely geometry (lon/lat) on ``ax``."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MPath

    gtype = geom.geom_type
    if gtype.startswith("Multi") or gtype == "GeometryCollection":
        for g in geom.geoms:
            _draw(ax, g, edge=edge, face=face, lw=lw, z=z, **kw)
        return
    if gtype == "Polygon":
        verts, codes = [], []
        for ring in [geom.exterior, *geom.interiors]:
            xy = np.asarray(ring.coords)[:, :2]
            if len(xy) < 3:
                continue
            verts.append(xy)
            codes += [MPath.MOVETO] + [MPath.LINETO] * (len(xy) - 2) + [MPath.CLOSEPOLY]
        if not verts:
            return
        path = MPath(np.concatenate(verts), codes)
        ax.add_patch(
            PathPatch(
                path,
                facecolor=face or "none",
                edgecolor=edge,
                linewidth=lw,
                zorder=z,
                alpha=kw.get("alpha", 1.0),
            )
        )
    elif gtype in ("LineString", "LinearRing"):
        xy = np.asarray(geom.coords)[:, :2]
        ax.plot(xy[:, 0], xy[:, 1], color=edge, linewidth=lw, zorder=z, solid_capstyle="round")
    elif gtype == "Point":
        ax.plot(
            [geom.x],
            [geom.y],
            marker="o",
            markersize=kw.get("markersize", 9),
            markerfacecolor=face or edge,
            markeredgecolor="#000000",
            zorder=z,
        )


def _wrap(text: str, units: int) -> str:
    """``text`` broken into lines of at most ``units`` (a CJK character counts 2)."""
    lines, line, width = [], "", 0
    for ch in text:
        w = 2 if ord(ch) > 0x2E7F else 1
        if width + w > units:
            lines.append(line)
            line, width = "", 0
        line += ch
        width += w
    lines.append(line)
    return "\n".join(lines[:4])


def _nice(length: float) -> float:
    """A round scale-bar length (1, 2 or 5 times a power of ten) not above ``length``."""
    p = 10 ** math.floor(math.log10(length))
    for k in (5, 2, 1):
        if k * p <= length:
            return k * p
    return p


def figure_sources(result: Any, view: FigureView) -> str:
    """The source line of a site's figure: each drawn layer with its vintage, and the
    demonstration notice.

    Parameters
    ----------
    result : ScreeningResult
    view : FigureView
        The figure's :func:`figure_view`.

    Returns
    -------
    str
        ``数据来源：<layer>（<vintage>）；...`` (Chinese, as printed under the map).
    """
    seen: dict[str, str] = {}
    prov = {
        str(p.get("id")): p
        for p in (result.provenance or {}).get("layers", [])
        if isinstance(p, dict)
    }
    for f in view.features:
        lid = f["layer_id"]
        if lid in seen:
            continue
        vintage = prov.get(lid, {}).get("vintage") or "未注明"
        seen[lid] = f"{f['title_zh']}（{vintage}）"
    text = "数据来源：" + "；".join(seen.values()) if seen else "数据来源：无邻近约束要素"
    if getattr(result, "is_demonstration", False):
        text += "。演示数据，非官方成果"
    return text


def site_figure(
    result: Any,
    position: int,
    *,
    width_mm: float = 170.0,
    height_mm: float = 115.0,
    dpi: int = 150,
    compress_level: int = 6,
) -> bytes:
    """The map figure of the site at ``position`` of a screening, as PNG bytes.

    Parameters
    ----------
    result : ScreeningResult
    position : int
        The site's row in ``result.sites``.
    width_mm, height_mm : float
        Size of the figure.
    dpi : int
        Resolution.
    compress_level : int
        zlib level of the PNG, 0-9 (the pixels are the same).

    Returns
    -------
    bytes
        The PNG of :func:`site_figure_with_sources`.
    """
    return site_figure_with_sources(
        result,
        position,
        width_mm=width_mm,
        height_mm=height_mm,
        dpi=dpi,
        compress_level=compress_level,
    )[0]


def site_figure_with_sources(
    result: Any,
    position: int,
    *,
    width_mm: float = 170.0,
    height_mm: float = 115.0,
    dpi: int = 150,
    compress_level: int = 6,
) -> tuple[bytes, str]:
    """The map figure of the site at ``position`` of a screening, and its source line (the
    view computed once for both).

    Parameters
    ----------
    result : ScreeningResult
    position : int
        The site's row in ``result.sites``.
    width_mm, height_mm : float
        Size of the figure.
    dpi : int
        Resolution.
    compress_level : int
        zlib level of the PNG, 0-9 (the pixels are the same; a PDF writer that re-encodes
        the image gains time with 1).

    Returns
    -------
    (bytes, str)
        A PNG: the site in its verdict's colour, the features of :func:`figure_view` (those a
        rule fired on drawn heavier), a legend, a scale bar, a north arrow, the axes in
        CGCS2000 / WGS84 degrees and the data sources with their vintages; and that source
        line (:func:`figure_sources`).

    Notes
    -----
    Needs matplotlib (the ``documents`` extra); drawn with the Agg backend, so no display is
    needed.  Cost: 0.07-0.5 s per site for the examples (shared 2-core machine).
    """
    require("matplotlib")
    import matplotlib

    matplotlib.use("Agg", force=False)
    import shapely
    from matplotlib import font_manager as fm
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    sites = result.sites
    pos = int(position)
    view = figure_view(result, pos)
    tr = _to_4490(sites.crs)

    def geo(g: Any) -> Any:
        return shapely.transform(g, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))

    font = _font(fm)
    small = font.copy()
    small.set_size(6.5)
    fig = Figure(figsize=(width_mm / 25.4, height_mm / 25.4), dpi=dpi)
    ax = fig.add_axes((0.08, 0.2, 0.56, 0.76))
    x0, y0, x1, y1 = view.bounds
    corners = tr.transform([x0, x1, x0, x1], [y0, y0, y1, y1])
    lon0, lon1 = min(corners[0]), max(corners[0])
    lat0, lat1 = min(corners[1]), max(corners[1])
    mid_lat = (lat0 + lat1) / 2
    ax.set_xlim(lon0, lon1)
    ax.set_ylim(lat0, lat1)
    ax.set_aspect(1.0 / math.cos(math.radians(mid_lat)))
    handles: dict[str, Any] = {}
    order = sorted(view.features, key=lambda f: (f["fired"], f["kind"] != "district"))
    for f in order:
        edge, face = _KIND_COLORS.get(f["kind"], _GREY)
        g = geo(f["geometry"])
        if g.is_empty:
            continue
        lw = 1.6 if f["fired"] else 0.7
        if f["kind"] in ("shoreline", "coastline"):
            lw = 2.4
        _draw(ax, g, edge=edge, face=face, lw=lw, z=2 if f["fired"] else 1, alpha=0.45)
        label = f["title_zh"] + ("（触发规则）" if f["fired"] else "")
        if label not in handles:
            if g.geom_type.endswith("LineString"):
                handles[label] = Line2D([], [], color=edge, linewidth=lw)
            else:
                handles[label] = Patch(facecolor=face or "none", edgecolor=edge, alpha=0.7)
    verdict = str(sites["verdict"].iloc[pos]) if "verdict" in sites.columns else "unknown"
    color = VERDICT_COLORS.get(verdict, "#000000")
    site = geo(sites.geometry.iloc[pos])
    _draw(ax, site, edge="#000000", face=color, lw=1.2, z=5, markersize=10)
    if site.geom_type.endswith("LineString"):
        _draw(ax, site, edge=color, face=None, lw=3.0, z=6)
    vzh = VERDICT_LABELS.get(verdict, (verdict, verdict))[0]
    site_handle = (
        Line2D([], [], color=color, linewidth=3.0)
        if site.geom_type.endswith("LineString")
        else Patch(facecolor=color, edgecolor="#000000")
    )
    legend = {f"本场址（{vzh}）": site_handle, **handles}
    ax.legend(
        list(legend.values()),
        list(legend.keys()),
        prop=small,
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        frameon=False,
        title="图例",
        title_fontproperties=font,
    )
    ax.tick_params(labelsize=6)
    ax.ticklabel_format(useOffset=False, style="plain")
    ax.set_xlabel("经度 °E（CGCS2000 / WGS84，EPSG:4490）", fontproperties=small)
    ax.set_ylabel("纬度 °N", fontproperties=small)
    _scale_bar(ax, lon0, lon1, lat0, lat1, mid_lat, small)
    _north_arrow(ax, font)
    sources = figure_sources(result, view)
    fig.text(0.02, 0.01, _wrap(sources, 124), fontproperties=small, va="bottom")
    buf = io.BytesIO()
    fig.savefig(
        buf,
        format="png",
        dpi=dpi,
        facecolor="white",
        pil_kwargs={"compress_level": compress_level},
    )
    return buf.getvalue(), sources


@functools.lru_cache(maxsize=8)
def _to_4490(crs: Any) -> Any:
    """The transformer from ``crs`` to EPSG:4490 (lon/lat), made once per CRS (about 50 ms)."""
    from pyproj import Transformer

    return Transformer.from_crs(crs, "EPSG:4490", always_xy=True)


def _scale_bar(ax: Any, lon0: float, lon1: float, lat0: float, lat1: float, lat: float, font):
    """A scale bar in the lower left corner of ``ax``, in metres or kilometres."""
    m_per_deg = 111_320.0 * math.cos(math.radians(lat))
    width_m = (lon1 - lon0) * m_per_deg
    length = _nice(width_m / 4)
    x = lon0 + 0.05 * (lon1 - lon0)
    y = lat0 + 0.06 * (lat1 - lat0)
    dx = length / m_per_deg
    ax.plot([x, x + dx], [y, y], color="#000000", linewidth=3, zorder=10, solid_capstyle="butt")
    ax.plot([x, x + dx / 2], [y, y], color="#ffffff", linewidth=1.5, zorder=11)
    text = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(x + dx / 2, y + 0.02 * (lat1 - lat0), text, ha="center", fontproperties=font, zorder=11)


def _north_arrow(ax: Any, font: Any) -> None:
    """A north arrow in the upper right corner of ``ax``."""
    ax.annotate(
        "北 N",
        xy=(0.93, 0.95),
        xytext=(0.93, 0.80),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontproperties=font,
        arrowprops={"facecolor": "#000000", "width": 3, "headwidth": 9, "headlength": 9},
        zorder=12,
    )
