"""The indicator dashboard: one self-contained HTML page (table, charts, district choropleth).

Charts are drawn with matplotlib and embedded as PNG data URIs, so the page works offline and
from ``file://``.  Every string from data goes through jinja2's autoescaping.
"""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from .._optional import require
from .._version import __version__
from ..io.outputs import write_atomic
from ..layerset import LayerSet

__all__ = ["render_dashboard", "write_dashboard"]

_STATUS_CLASS = {
    "met": "met",
    "not met": "notmet",
    "not measurable with these layers": "na",
    "no target": "info",
}

_TEMPLATE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body{font-family:system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:0;color:#222}
header{padding:1rem 2rem;background:#f4f7f4;border-bottom:1px solid #ccd}
main{padding:1rem 2rem}
.demo{background:#b00020;color:#fff;padding:.6rem 2rem;font-weight:600}
table{border-collapse:collapse;font-size:.85rem;margin:1rem 0}
th,td{border:1px solid #ccd;padding:.25rem .5rem;vertical-align:top}
th{background:#eef}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.met{background:#e3f6e3}.notmet{background:#fde2e2}.na{color:#777}.info{color:#333}
figure{margin:1rem 0}img{max-width:100%}
small{color:#555}
</style></head><body>
{% if demonstration %}<div class="demo" role="alert">DEMONSTRATION DATA — not the official
ecological protection red line or control units ·
演示数据，非官方生态保护红线与管控单元</div>{% endif %}
<header><h1>{{ title }}</h1>
<p>Catalog <code>{{ catalog }}</code> · targets {{ targets_version }} · zoning {{ version }} ·
{{ generated }}</p>
<p><small>Areas are measured in an equal-area projection (geodesic within 0.01 %). A target
"about X" counts as met within ±{{ approx }} %; area targets allow the same 0.05 km²
measurement tolerance as <code>zoning layers check</code>. A "5-minute walk" is {{ walk }} m
straight-line — an approximation.</small></p></header>
<main>
{% for fig in figures %}<figure><img alt="{{ fig.alt }}" src="data:image/png;base64,{{ fig.data }}">
<figcaption>{{ fig.caption }}</figcaption></figure>{% endfor %}
{% for zone in zones %}
<h2>{{ zone.title }}</h2>
<table><thead><tr><th>indicator 指标</th><th>measured</th><th>unit</th><th>target</th><th>year</th>
<th>status</th><th>denominator / note</th><th>source</th></tr></thead><tbody>
{% for r in zone.rows %}<tr class="{{ r.css }}">
<td>{{ r.title_zh }}<br><small>{{ r.title_en }}</small></td>
<td class="num">{{ r.value_text }}</td><td>{{ r.unit }}</td><td>{{ r.target or "" }}</td>
<td>{{ r.year or "" }}</td><td>{{ r.status }}</td>
<td><small>{{ r.denominator or "" }}{% if r.denominator and r.note %}<br>{% endif %}
{{ r.note or "" }}</small></td>
<td><small>{{ r.document or "" }} {{ r.clause or "" }}</small></td></tr>
{% endfor %}</tbody></table>
{% endfor %}
</main></body></html>
"""


def _fmt(value, unit: str = "") -> str:
    if value is None or pd.isna(value):
        return "—"
    value = float(value)
    if unit == "count":
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _bar_figures(df: pd.DataFrame, plt) -> list[dict]:
    """One chart per indicator group: the group's indicators per district."""
    out = []
    districts = df[df.scope == "district"]
    for group, frame in districts.groupby("group", sort=False):
        keys = [
            k
            for k in frame["indicator"].unique()
            if frame.loc[frame.indicator == k, "value"].notna().any()
        ]
        if not keys:
            continue
        ncol = min(3, len(keys))
        nrow = -(-len(keys) // ncol)
        fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 4.2 * nrow), squeeze=False)
        for ax in axes.flat[len(keys) :]:
            ax.set_visible(False)
        for ax, key in zip(axes.flat, keys, strict=False):
            sel = frame[frame.indicator == key]
            names = [str(n) for n in sel["district"]]
            labels = [_latin(df, n) for n in names]
            ax.barh(labels, sel["value"].astype(float), color="#4a7")
            ax.set_title(f"{key}\n({sel['unit'].iloc[0]})", fontsize=9)
            ax.tick_params(labelsize=7)
            city = df[(df.scope == "city") & (df.indicator == key) & df.target_value.notna()]
            if (
                len(city)
                and city["unit"].iloc[0] == sel["unit"].iloc[0]
                and city["unit"].iloc[0] == "percent"
            ):
                ax.axvline(float(city["target_value"].iloc[0]), color="#b00020", ls="--", lw=1)
            ax.invert_yaxis()
            ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, 4))
        fig.suptitle(
            f"{group} — per district (DEMONSTRATION DATA)"
            if df.attrs.get("demonstration")
            else f"{group} — per district",
            fontsize=10,
            y=1.05,
        )
        out.append(
            {
                "data": _png(fig),
                "alt": f"Chart: {group} per district",
                "caption": f"{group}: per-district values; "
                "dashed line = city target where one applies.",
            }
        )
        plt.close(fig)
    return out


def _latin(df: pd.DataFrame, name: str) -> str:
    # Matplotlib's default fonts have no CJK glyphs: label districts with their English names.
    return df.attrs.get("district_en", {}).get(name, name)


def _choropleth(df: pd.DataFrame, layers: LayerSet, plt) -> list[dict]:
    d_layers = layers.of_kind("district")
    if not d_layers:
        return []
    gdf = pd.concat([x.gdf for x in d_layers], ignore_index=True)
    keys = [
        k
        for k in (
            "red_line_share_of_land",
            "water_surface_ratio",
            "control_units_area_share_priority",
        )
        if df[(df.scope == "district") & (df.indicator == k)]["value"].notna().any()
    ]
    if not keys:
        return []
    fig, axes = plt.subplots(1, len(keys), figsize=(5.5 * len(keys), 5.5), squeeze=False)
    for ax, key in zip(axes[0], keys, strict=True):
        vals = df[(df.scope == "district") & (df.indicator == key)].set_index("district")["value"]
        names = gdf["name"] if "name" in gdf.columns else gdf["feature_id"]
        plot = gdf.assign(value=names.astype(str).map(vals).astype(float))
        plot.plot(
            column="value",
            ax=ax,
            cmap="YlGn",
            legend=True,
            edgecolor="#555",
            linewidth=0.3,
            legend_kwds={"shrink": 0.6},
        )
        ax.set_title(f"{key} (%)", fontsize=9)
        ax.set_axis_off()
    fig.suptitle(
        "Districts (DEMONSTRATION DATA)" if df.attrs.get("demonstration") else "Districts",
        fontsize=10,
    )
    data = _png(fig)
    plt.close(fig)
    return [
        {
            "data": data,
            "alt": "Choropleth map of the districts",
            "caption": "Choropleth of the districts (equal-area working CRS).",
        }
    ]


def render_dashboard(df: pd.DataFrame, layers: LayerSet) -> str:
    """The dashboard HTML for an :func:`zoning.indicators` table.

    Parameters
    ----------
    df : pandas.DataFrame
        The table :func:`zoning.indicators` returned (its ``attrs`` included); not modified.
    layers : LayerSet
        The catalog the table was measured from: its district layer names the districts
        (English names) and draws the choropleth.

    Returns
    -------
    str
        One self-contained HTML page: table per zone, bar charts and a district choropleth
        as PNG data URIs, every data string escaped.

    Raises
    ------
    ImportError
        When the optional ``jinja2`` or ``matplotlib`` is not installed.

    Notes
    -----
    Cost: one matplotlib figure (Agg backend) per chart, rendered to PNG in memory; the
    district polygons are drawn in the equal-area working CRS.
    """
    jinja2 = require("jinja2")
    require("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    df = df.copy()  # attrs are set below; the caller's frame stays as it was
    en = {}
    for layer in layers.of_kind("district"):
        gdf = layer.gdf
        if "name" not in gdf.columns:
            continue
        latin = gdf["name_en"] if "name_en" in gdf.columns else gdf["feature_id"]
        en.update(dict(zip(gdf["name"].astype(str), latin.astype(str), strict=True)))
    df.attrs["district_en"] = en
    # Labels come from data: never let matplotlib parse "$...$" in them as math text.
    with plt.rc_context({"text.parse_math": False}):
        figures = _bar_figures(df, plt) + _choropleth(df, layers, plt)
    zones = []
    for (scope, district), frame in df.groupby(["scope", "district"], dropna=False, sort=False):
        title = "Shanghai 上海市" if scope == "city" else f"{district} {en.get(str(district), '')}"
        rows = []
        for r in frame.to_dict("records"):
            r["css"] = _STATUS_CLASS.get(r["status"], "")
            r["value_text"] = _fmt(r["value"], r["unit"])
            r["target"] = r["target"] if isinstance(r["target"], str) else None
            r["year"] = None if pd.isna(r["year"]) else int(r["year"])
            for key in ("denominator", "note", "document", "clause"):
                r[key] = r[key] if isinstance(r[key], str) else None
            rows.append(r)
        zones.append({"title": title, "rows": rows})
    env = jinja2.Environment(autoescape=True)
    return env.from_string(_TEMPLATE).render(
        title="Beautiful Shanghai spatial indicators · 美丽上海空间指标",
        demonstration=bool(df.attrs.get("demonstration")),
        catalog=df.attrs.get("catalog"),
        targets_version=df.attrs.get("targets_version"),
        version=__version__,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        approx=round(100 * df.attrs.get("approx_tolerance", 0.05)),
        walk=int(df.attrs.get("walk_distance_m", 400)),
        figures=figures,
        zones=zones,
    )


def write_dashboard(df: pd.DataFrame, layers: LayerSet, path: str | Path) -> Path:
    """Write the dashboard page to ``path`` atomically (no half-written page on error).

    Parameters
    ----------
    df : pandas.DataFrame
        The table :func:`zoning.indicators` returned.
    layers : LayerSet
        The catalog the table was measured from.
    path : str or path-like
        The HTML file to write (replaced atomically).

    Returns
    -------
    Path
        ``path``.

    See Also
    --------
    render_dashboard : the page as a string.
    """
    html = render_dashboard(df, layers)
    path = Path(path)
    return write_atomic(path, html)
