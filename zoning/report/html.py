"""The static HTML screening report: one index page plus one page per site, and its map.

The HTML is rendered with jinja2 templates (``zoning/templates/report/``) with autoescaping
on: every string that comes from data (site ids, names, feature names, messages, citations)
is escaped, and no data-derived string is marked safe.  Pages are pure HTML with inline CSS:
no JavaScript, no external requests, so they open from ``file://`` on an offline machine.

Writers never compute: verdicts, areas and distances come from the
:class:`~zoning.screening.ScreeningResult`; this package only selects, sorts and formats them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._optional import require
from ..errors import quote
from ..io.outputs import OutputFolder
from .advice import _unknown_texts
from .clauses import clause_context, clause_data
from .context import (
    _Catalog,
    _Rules,
)
from .format import (
    VERDICT_ORDER,
    _page_names,
    _verdict_model,
    as_str,
    check_lang,
    plain_text,
)
from .models import _common as _run_context
from .pages import _ranking_rows, _site_context, _site_row
from .selection import (
    _group,
    n_boundary_sensitive,
    site_order,
    site_table,
    top_reasons,
    verdict_counts,
    verdict_keys,
)

if TYPE_CHECKING:  # pragma: no cover
    from ..screening import ScreeningResult

__all__ = ["MAX_MAP_SITES", "write_report"]

log = logging.getLogger(__name__)

#: The jinja2 templates of the report pages (package data of ``zoning``).
TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates" / "report"


def _environment(jinja2: Any) -> Any:
    """The jinja2 environment of the report templates: autoescaping on, undefined names fail."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env


def _render(env: Any, name: str, context: dict) -> str:
    """Render one template with ``context``."""
    return env.get_template(name).render(**context)


#: The largest screening drawn on the report's map (and the default of ``zoning map
#: --screening --max-sites``).  Measured with ``benchmarks/map_size.py --screening 5000,8000
#: --polygons`` (offline pages, headless Chromium, 2 CPUs, median of 7 loads): 5,000 random
#: points on the demonstration layers 3.26 MB, 1.58 s; 5,000 squares of ~100 m 4.19 MB,
#: 2.35 s; 8,000 squares 5.24 MB, 2.82 s (max 3.55 s) — past the 5 MB / 3 s budget.
MAX_MAP_SITES = 5000


def write_report(
    result: ScreeningResult,
    out_dir: str | Path,
    *,
    lang: str = "both",
    max_site_pages: int = 1000,
    map: bool = True,
    offline: bool = False,
    basemap: str = "osm",
    tianditu_key: str | None = None,
    max_map_sites: int = MAX_MAP_SITES,
) -> Path:
    """Write the HTML screening report to ``OUT/report/``, with its map.

    Parameters
    ----------
    result : ScreeningResult
        The output of :func:`zoning.screen`.  Only the attributes of the shared contract are
        read: ``sites``, ``hits``, ``layer_summary``, ``reasons``, ``provenance``, ``layers``
        (for layer titles and positional tolerances) and ``rule_set``; ``ranking`` and
        ``notes`` when present.
    out_dir : path
        The output directory; the report goes to ``out_dir/report/`` (created if needed).
    lang : {"both", "zh", "en"}
        Language of labels and messages; ``"both"`` shows Chinese and English side by side.
    max_site_pages : int
        At most this many site pages.  With more sites than this, pages are written only for
        the non-permitted sites, most severe first, up to the limit, and the index says so.
    map : bool
        Also write the interactive screening map ``report/map.html``
        (:func:`zoning.webmap.screening_map`: sites coloured by verdict, overlap pieces,
        buffer rings, constraint layers, popups linking to the site pages); needs the
        ``maps`` extra.  Skipped, with a note on the index, above ``max_map_sites`` sites.
    offline, basemap, tianditu_key
        The map's basemap; ``offline=True`` opens it on the built-in vector basemap so that
        nothing at all is requested from the network (a report archived as evidence).
    max_map_sites : int
        The largest screening drawn on a map (a page must stay small enough to open).

    Returns
    -------
    Path
        ``out_dir/report/index.html``.

    Notes
    -----
    Layout: ``index.html`` (verdict counts, for a comparison the ranking of the alternatives
    in the order :func:`zoning.compare.rank_alternatives` gave, the table of sites, the
    screening's notes) and ``sites/<name>.html`` per site, where ``<name>`` is an ASCII slug
    of the site id plus a short hash of the exact id (see :func:`page_name`), so any id a user
    typed gives a safe, unique file name.

    The report is built in a temporary directory beside ``out_dir/report`` and renamed into
    place only when every page has been written; an existing report is replaced only then.
    A failure leaves no partial report, any older report intact, and no ``out_dir`` (nor
    parent) that this call created (:class:`zoning.io.outputs.OutputFolder`).

    Cost: one pass over ``sites`` (sorting by severity) plus rendering of at most
    ``max_site_pages + 1`` pages; hits and reasons are filtered to the paged sites first,
    so a million-site run writes at most ``max_site_pages`` site pages.

    Report pages are static HTML with inline CSS: no JavaScript and no external requests.
    Every data-derived string is escaped by jinja2's autoescaping (the map escapes its own
    data, see :mod:`zoning.webmap`).  The map carries Leaflet and its plugins inline, so it
    works from ``file://`` with no network when ``offline`` is set.
    """
    jinja2 = require("jinja2")
    _check_options(lang, max_site_pages)
    env = _environment(jinja2)
    out_dir = Path(out_dir)
    target = out_dir / "report"
    maps = _MapOptions(map, offline, basemap, tianditu_key, max_map_sites)
    sites = site_table(result)
    sel = _select_sites(sites, max_site_pages)
    cat = _Catalog(result.layers)
    rules = _Rules(result.rule_set)
    common = _common_context(result, sites, lang, cat, maps)
    data = _site_data(result, sites, sel)

    # The whole report/ folder is the output, replaced only once every page is written.
    with OutputFolder(target, None, tag="partial") as tmp:
        _write_site_pages(tmp, env, sites, sel, data, common, cat, rules, result)
        rows = _index_rows(result, sites, sel, data, cat, rules)
        map_href, map_note = _write_map(tmp, result, lang, maps, sel.n)
        ctx = _index_context(result, sites, sel, common, rows, max_site_pages)
        ctx.update(map_href=map_href, map_note=map_note, offline=offline)
        (tmp / "index.html").write_text(_render(env, "index.html", ctx), encoding="utf-8")
    log.info("wrote %s (%d site pages of %d sites)", target, len(sel.pages), sel.n)
    return target / "index.html"


@dataclass(frozen=True)
class _MapOptions:
    """The report map's options, as :func:`write_report` takes them."""

    draw: bool
    offline: bool
    basemap: str
    tianditu_key: str | None
    max_sites: int


@dataclass(frozen=True)
class _Selection:
    """Which sites a report shows: ``listed`` on the index, ``paged`` with a page of their own
    (positions, most severe first), and the page file name of each paged site."""

    n: int
    counts: dict[str, int]
    listed: np.ndarray
    paged: np.ndarray
    pages: dict[int, str]
    capped: bool
    n_non_permitted: int


def _check_options(lang: str, max_site_pages: Any) -> None:
    """Raise on a language or a page limit :func:`write_report` does not take."""
    check_lang(lang)
    if isinstance(max_site_pages, bool) or not isinstance(max_site_pages, int | np.integer):
        raise TypeError(f"max_site_pages must be an integer, not {quote(max_site_pages)}")
    if max_site_pages < 0:
        raise ValueError(f"max_site_pages must be >= 0, not {max_site_pages}")


def _select_sites(sites: pd.DataFrame, max_site_pages: int) -> _Selection:
    """Every site, most severe first; above ``max_site_pages`` sites, only the non-permitted
    ones up to the limit (listed and paged alike)."""
    n = len(sites)
    counts = verdict_counts(sites)
    order = site_order(sites)
    capped = n > max_site_pages
    if capped:
        non_permitted = order[verdict_keys(sites["verdict"]).to_numpy()[order] != "permitted"]
        paged = non_permitted[:max_site_pages]
        listed = paged
        n_non_permitted = len(non_permitted)
    else:
        paged = order
        listed = order
        n_non_permitted = n - counts["permitted"]
    site_ids = sites["site_id"] if "site_id" in sites.columns else pd.Series([None] * n)
    pages = _page_names((int(p), site_ids.iat[int(p)]) for p in paged)
    return _Selection(n, counts, listed, paged, pages, capped, n_non_permitted)


def _common_context(
    result: Any, sites: pd.DataFrame, lang: str, cat: _Catalog, maps: _MapOptions
) -> dict:
    """What every page shows: language, demonstration banner, rule set, layer table, limits,
    provenance footer and the link to the map (the documents' run context, with the page's
    language and map link)."""
    common = _run_context(result, sites, cat)
    common.update(
        lang=lang,
        html_lang="en" if lang == "en" else "zh-CN",
        # Site pages link back to the map when the report has one.
        map_href="map.html" if maps.draw and len(sites) <= maps.max_sites else None,
    )
    return common


def _site_data(result: Any, sites: pd.DataFrame, sel: _Selection) -> dict[str, dict]:
    """The layer summary, hits and reasons of the paged sites, and the top reason of each
    listed site, grouped by site position."""
    paged = {int(p) for p in sel.paged}
    return {
        "summaries": _group(result.layer_summary, paged),
        "hits": _group(result.hits, paged),
        "reasons": _group(result.reasons, paged),
        "tops": top_reasons(result.reasons, [int(p) for p in sel.listed]),
        **clause_data(result, paged),
    }


#: Site pages drawn with a map figure; later pages have none.  The 21 example pages took
#: 2.7 s with their figures and 0.3 s without (shared 2-core machine).
MAX_SITE_FIGURES = 200


def _can_draw_figures() -> bool:
    """Whether matplotlib is installed (the figure is left out of the pages otherwise)."""
    import importlib.util

    return importlib.util.find_spec("matplotlib") is not None


def _write_figure(folder: Path, page: str, result: Any, pos: int) -> str | None:
    """Write the map figure of the site at ``pos`` next to its page; its file name, or None
    when it could not be drawn (logged)."""
    from .figure import site_figure

    name = page.removesuffix(".html") + ".png"
    try:
        (folder / name).write_bytes(site_figure(result, pos, width_mm=170, height_mm=110, dpi=110))
    except Exception as exc:  # a page without its figure beats no report
        log.warning("no map figure for site page %s: %s", page, exc)
        return None
    return name


def _write_site_pages(
    tmp: Path,
    env: Any,
    sites: pd.DataFrame,
    sel: _Selection,
    data: dict[str, dict],
    common: dict,
    cat: _Catalog,
    rules: _Rules,
    result: Any = None,
) -> None:
    """Render one page per paged site into ``tmp/sites/``, with its map figure
    (``sites/<page>.png``) for the first :data:`MAX_SITE_FIGURES` pages when matplotlib is
    installed."""
    (tmp / "sites").mkdir()
    figures = _can_draw_figures() and result is not None
    for k, pos in enumerate(sel.paged):
        pos = int(pos)
        rec = sites.iloc[pos].to_dict()
        ctx = _site_context(
            pos,
            rec,
            data["summaries"].get(pos),
            data["hits"].get(pos),
            data["reasons"].get(pos),
            cat,
            common,
            rules,
        )
        ctx.update(clause_context(data["clauses"].get(pos), data["conclusions"].get(pos)))
        ctx["figure_src"] = None
        if figures and k < MAX_SITE_FIGURES:
            ctx["figure_src"] = _write_figure(tmp / "sites", sel.pages[pos], result, pos)
        html = _render(env, "site.html", ctx)
        (tmp / "sites" / sel.pages[pos]).write_text(html, encoding="utf-8")


def _index_rows(
    result: Any,
    sites: pd.DataFrame,
    sel: _Selection,
    data: dict[str, dict],
    cat: _Catalog,
    rules: _Rules,
) -> list[dict]:
    """The index's table of sites: each listed site with its top reason (or, for an unknown
    site, why it is unknown)."""
    listed = [int(p) for p in sel.listed]
    records = sites.iloc[sel.listed].to_dict("records")
    unknown = _unknown_texts(result, listed, cat, rules)
    tops = data["tops"]
    return [
        _site_row(p, rec, sel.pages.get(p), tops.get(p), unknown.get(p))
        for p, rec in zip(listed, records, strict=True)
    ]


def _write_map(
    tmp: Path, result: Any, lang: str, maps: _MapOptions, n: int
) -> tuple[str | None, tuple[str, str] | None]:
    """Write ``tmp/map.html`` when asked and the screening is small enough.

    Returns ``(href, None)`` for a map, ``(None, note)`` for a screening too large to draw
    (the note says how to draw its most severe sites), ``(None, None)`` without a map.
    """
    if not maps.draw:
        return None, None
    if n > maps.max_sites:
        limit = maps.max_sites
        return None, (
            f"未生成地图：场址 {n:,} 个，超过地图上限 {limit:,} 个。"
            f"绘制最严重的 {limit:,} 个场址：zoning map --screening DIR "
            f"--max-sites {limit}（DIR 为本次筛选的输出目录，"
            "须含 --format gpkg,json 写出的 screening.gpkg 与 screening.json）。",
            f"No map: {n:,} sites exceed the map limit of {limit:,}. For a map of "
            f"the {limit:,} most severe: zoning map --screening DIR --max-sites "
            f"{limit} (DIR: this screening's output folder, with the "
            "screening.gpkg and screening.json that --format gpkg,json writes).",
        )
    require("folium")
    from ..webmap import screening_map

    page = screening_map(
        result,
        lang="en" if lang == "en" else "zh",
        basemap=maps.basemap,
        offline=maps.offline,
        tianditu_key=maps.tianditu_key,
        report_dir=tmp,
        report_href=".",
    )
    page.save(tmp / "map.html")
    return "map.html", None


def _index_context(
    result: Any,
    sites: pd.DataFrame,
    sel: _Selection,
    common: dict,
    rows: list[dict],
    max_site_pages: int,
) -> dict:
    """The index page's context (without its map link and note)."""
    n, counts = sel.n, sel.counts
    notes = [x for x in (getattr(result, "notes", None) or []) if as_str(x)]
    return {
        **common,
        "root": "",
        "n_sites": n,
        "counts": [
            {**_verdict_model(v), "count": counts[v], "count_text": f"{counts[v]:,}"}
            for v in VERDICT_ORDER
        ],
        "n_sites_text": f"{n:,}",
        "n_boundary_sensitive": f"{n_boundary_sensitive(sites):,}",
        "rows": rows,
        "ranking": _ranking_rows(
            getattr(result, "ranking", None), sites, sel.pages, result.reasons
        ),
        "notes": [plain_text(x) for x in notes],
        "capped": sel.capped,
        **_capped_texts(sel, len(rows), max_site_pages),
    }


def _capped_texts(sel: _Selection, n_rows: int, max_site_pages: int) -> dict[str, str]:
    """What the index says when the report holds pages for only some of the sites."""
    n, n_pages, n_np = sel.n, len(sel.pages), sel.n_non_permitted
    return {
        "capped_zh": (
            f"场址数量（{n:,}）超过每份报告 {max_site_pages:,} 个场址页面的上限："
            f"仅为有问题的场址（“未发现不符合项”以外）按严重程度写出页面，共 {n_pages:,} 页"
            f"（此类场址 {n_np:,} 个）。下表未列出的场址 "
            f"{n - n_rows:,} 个；完整结果见 sites.csv 与 JSON 输出。"
        ),
        "capped_en": (
            f"{n:,} sites exceed the limit of {max_site_pages:,} site pages per report: "
            f"pages were written only for the non-permitted sites, most severe first "
            f"({n_pages:,} pages of {n_np:,} non-permitted sites). "
            f"Sites not listed below: {n - n_rows:,}. The full results are in "
            "sites.csv and the JSON output."
        ),
    }
