"""What the PDF and the Word documents of a screening share, so that both say the same things
in the same words: which sites get a document and the documents' file names, whether a run is
demonstration and the notices that say so, the disclaimer, each site's map figure with its
caption (or the sentence saying why it is missing), the corner-coordinate table, the
data-version rows, the summary rows, and the words for a site's industry and for where an
attribute's value came from.

Words and choices only, as ``(zh, en)`` pairs or plain rows: no layout, and nothing about a
verdict is computed here (the facts come from :func:`zoning.report.models.document_models`,
:func:`zoning.report.figure.site_figure` and :func:`zoning.documents.corners.result_corners`).
"""

from __future__ import annotations

import logging
import threading
import weakref
from dataclasses import dataclass
from typing import Any

from .._optional import MissingDependencyError
from ..labels import DATA_STATUS_LABELS

__all__ = [
    "ATTRIBUTE_SOURCES",
    "CORNER_HEADERS",
    "DEMO_HEADER",
    "DISCLAIMER",
    "MAX_COMBINED_SITES",
    "MAX_SITE_DOCUMENTS",
    "NOT_STATED",
    "SiteChoice",
    "SiteExtras",
    "attribute_source",
    "band_warning",
    "boundary_warning",
    "choose_sites",
    "corner_cells",
    "demonstration_notice",
    "figure_note",
    "industry_text",
    "is_demonstration",
    "layer_version_rows",
    "rule_set_text",
    "site_extras",
    "site_label",
    "stated",
    "summary_rows",
    "version_rows",
]

log = logging.getLogger("zoning.documents")

#: Above this many sites, the run's combined document holds its summary table only.
MAX_COMBINED_SITES = 50
#: At most this many site documents (the HTML report's ``max_site_pages``): above it, only the
#: non-permitted sites, most severe first.
MAX_SITE_DOCUMENTS = 1000

#: The demonstration notice of every page header.
DEMO_HEADER = (
    "演示数据：图层与规则为演示用途，非官方成果，不得作为审批依据",
    "DEMONSTRATION DATA: layers and rules for demonstration only, not official, not for approvals",
)
#: The closing statement of every site's analysis.
DISCLAIMER = (
    "本文件为依据上列数据与规则自动筛查的结果，限于已编码的条款和图层，供项目选址与环评文件编制"
    "参考，不是行政许可或审批意见，不代替主管部门的审查；项目是否符合生态环境分区管控要求，"
    "最终结论以审批部门意见为准。",
    "This document is an automatic screening against the data and rules listed above, limited "
    "to the clauses and layers encoded, for siting and EIA preparation; it is not a permit or an "
    "approval and does not replace the authority's review. The final judgement rests with the "
    "approving authority (最终结论以审批部门意见为准).",
)
#: A value the data do not state (a layer's vintage, a tolerance).
NOT_STATED = ("未注明", "not stated")
#: Where an attribute's value came from (``source`` of an attribute row of the models).
ATTRIBUTE_SOURCES = {
    "declared": ("申报", "declared"),
    "derived": ("推定", "derived"),
    "undeclared": ("未申报", "not declared"),
}
#: How a derived attribute was derived (``note`` of its row), in words.
_DERIVATIONS = {
    "derived from the industry code": ("由行业代码推定", "derived from the industry code"),
    "derived from the geometry (a line site)": (
        "由场址几何推定（线状场址）",
        "derived from the geometry (a line site)",
    ),
}
#: The columns of the corner-coordinate table.
CORNER_HEADERS = (
    ("点号", "point"),
    ("经度 °E", "lon °E"),
    ("纬度 °N", "lat °N"),
    ("X（北向，m）", "X (north, m)"),
    ("Y（东向，含带号，m）", "Y (east, zone no., m)"),
)
#: What the map figure is drawn in, and what it shows.
_FIGURE_NOTE = (
    "坐标系：CGCS2000 / WGS84 经纬度（EPSG:4490）。图中要素为场址接触或邻近的约束要素；"
    "加粗者为触发规则的要素。",
    "Coordinates: CGCS2000 / WGS84 longitude and latitude (EPSG:4490). Drawn: the constraint "
    "features the site touches or nears; heavier lines mark features a rule fired on.",
)


# ------------------------------------------------------------------------------ which sites


@dataclass(frozen=True)
class SiteChoice:
    """The sites that get a document and the stems of their file names.

    Attributes
    ----------
    positions : list of int
        Rows of ``result.sites``, most severe first.
    stems : dict
        Position -> file name without suffix (the report's site-page name).
    capped : bool
        Whether there were more sites than the limit (only the non-permitted ones chosen).
    """

    positions: list[int]
    stems: dict[int, str]
    capped: bool

    def file_name(self, position: int, suffix: str) -> str:
        """The file name of a site's document.

        Parameters
        ----------
        position : int
        suffix : str
            ``".pdf"`` or ``".docx"``.

        Returns
        -------
        str
        """
        return self.stems[position] + suffix


def choose_sites(result: Any, limit: int = MAX_SITE_DOCUMENTS) -> SiteChoice:
    """The sites that get a document, as the HTML report chooses its site pages.

    Parameters
    ----------
    result : ScreeningResult
    limit : int
        At most this many: with more sites, only the non-permitted ones, most severe first.

    Returns
    -------
    SiteChoice
    """
    from ..report.html import _select_sites
    from ..report.selection import site_table

    sel = _select_sites(site_table(result), limit)
    positions = [int(p) for p in sel.paged]
    stems = {p: sel.pages[p].removesuffix(".html") for p in positions}
    return SiteChoice(positions, stems, bool(sel.capped))


# ------------------------------------------------------------------------------ notices


def is_demonstration(common: dict) -> bool:
    """Whether a document must carry the demonstration notice: the run's flag, any
    demonstration layer, or a demonstration rule set.

    Parameters
    ----------
    common : dict
        ``DocumentModels.common``.

    Returns
    -------
    bool
    """
    rs = common.get("rule_set") or {}
    return bool(
        common.get("demonstration")
        or any(layer.get("demonstration") for layer in common.get("layers") or [])
        or rs.get("status") == "demonstration"
    )


def demonstration_notice(common: dict) -> tuple[str, str] | None:
    """The demonstration notice of a document's body, naming the demonstration layers.

    Parameters
    ----------
    common : dict
        ``DocumentModels.common``.

    Returns
    -------
    (str, str) or None
        None for authoritative layers and rules.
    """
    if not is_demonstration(common):
        return None
    layers = [x for x in common.get("layers") or [] if x.get("demonstration")]
    zh_which = f"下列图层为演示数据：{'、'.join(x['title_zh'] for x in layers)}。" if layers else ""
    en_which = (
        f" Demonstration layers: {'; '.join(x['title_en'] for x in layers)}." if layers else ""
    )
    demo_rules = (common.get("rule_set") or {}).get("status") == "demonstration"
    return (
        "演示数据提示：本分析使用的数据不是官方发布的生态保护红线、生态环境管控单元等成果。"
        f"{zh_which}{'所用规则集亦为演示规则集。' if demo_rules else ''}"
        "本文件仅用于演示工具的用法，不得作为环评文件的依据或审批依据；"
        "正式使用须换用主管部门提供的权威数据重新筛查。",
        "Demonstration data: the data used are not the official ecological protection red "
        f"line, control units and so on.{en_which}"
        f"{' The rule set is a demonstration too.' if demo_rules else ''} This document only "
        "shows how the tool is used and may not support an EIA or an approval; screen again "
        "with the authority's data.",
    )


# ------------------------------------------------------------------------------ words


def stated(value: Any) -> tuple[str, str]:
    """A value of the data as ``(zh, en)``, :data:`NOT_STATED` when it is not stated.

    Parameters
    ----------
    value : object

    Returns
    -------
    (str, str)
    """
    if value is None or str(value) in ("", "not stated", "nan", "None"):
        return NOT_STATED
    return str(value), str(value)


def site_label(site: dict) -> str:
    """``name（id）`` of a site model's ``site`` (the id alone without a name).

    Parameters
    ----------
    site : dict

    Returns
    -------
    str
    """
    name, sid = site.get("name"), site.get("site_id")
    return f"{name}（{sid}）" if name else str(sid)


def industry_text(industry: dict) -> tuple[str, str] | None:
    """A site's industry code with its GB/T 4754-2017 section and major division.

    Parameters
    ----------
    industry : dict
        ``industry`` of a site model (code, division, section, section_zh, section_en).

    Returns
    -------
    (str, str) or None
        None when no industry code was declared.
    """
    code = industry.get("code")
    if not code:
        return None
    section, division = industry.get("section"), industry.get("division")
    if not section:
        return code, code
    zh = f"{code}（门类 {section} {industry.get('section_zh') or ''}".rstrip()
    en = f"{code} (section {section} {industry.get('section_en') or ''}".rstrip()
    if division:
        zh += f"；大类 {division}"
        en += f"; division {division}"
    return zh + "）", en + ")"


def attribute_source(attribute: dict) -> tuple[str, str]:
    """Where an attribute row's value came from: declared, derived (and from what), or not
    declared.

    Parameters
    ----------
    attribute : dict
        An ``attributes`` row of a site model (``source``, ``note``).

    Returns
    -------
    (str, str)
    """
    source = attribute.get("source") or "declared"
    if source == "derived":
        return _DERIVATIONS.get(attribute.get("note") or "", ATTRIBUTE_SOURCES["derived"])
    return ATTRIBUTE_SOURCES.get(source, (source, source))


def boundary_warning(warning: dict, site: dict) -> tuple[str, str]:
    """The warning of a boundary-sensitive layer: the site lies within the layer's positional
    tolerance of its boundary, so the verdict may change with the authoritative boundary.

    Parameters
    ----------
    warning : dict
        A ``warnings`` row of a site model (``title_zh``, ``title_en``, ``tolerance``,
        ``boundary_distance``).
    site : dict
        The model's ``site`` (its ``uncertainty``: the input CRS conversion's).

    Returns
    -------
    (str, str)
    """
    tol = stated(warning.get("tolerance"))
    near = warning.get("boundary_distance")
    dist = (
        (f"；距边界 {near}", f"; {near} from the boundary") if near not in (None, "—") else ("", "")
    )
    unc = site.get("uncertainty")
    zh_unc = f"；输入坐标系转换不确定度 ± {unc}" if unc else ""
    en_unc = f"; input CRS conversion uncertainty ± {unc}" if unc else ""
    return (
        f"边界敏感：场址位于“{warning['title_zh']}”边界的位置容差范围内"
        f"（容差 {tol[0]}{dist[0]}{zh_unc}）。结论可能随权威边界而改变，请用官方数据核实。",
        f"Boundary-sensitive: the site lies within the positional tolerance of the boundary of "
        f"{warning['title_en']} ({tol[1]}{dist[1]}{en_unc}). The verdict may change with the "
        "authoritative boundary: check against official data.",
    )


def band_warning(band: dict) -> tuple[str, str]:
    """The warning of a distance rule whose threshold lies within the layer's tolerance of the
    measured distance: with the authoritative line the rule may or may not apply.

    Parameters
    ----------
    band : dict
        A ``bands`` row of a site model (``title_zh``, ``title_en``, ``distance``, ``rules``,
        ``threshold``, ``tolerance``).

    Returns
    -------
    (str, str)
    """
    b, tol = band, stated(band.get("tolerance"))
    return (
        f"距{b['title_zh']} {b['distance']}：与规则 {b['rules']} 的 {b['threshold']} "
        f"阈值之差在该图层 {tol[0]} 的位置容差以内——按权威岸线，该规则可能适用，"
        "也可能不适用。请用官方数据核实。",
        f"{b['distance']} from the {b['title_en']}: within the layer's {tol[1]} tolerance of "
        f"rule {b['rules']}'s {b['threshold']} threshold. Check against official data.",
    )


def rule_set_text(versions: dict) -> tuple[str, str]:
    """``id version (status)`` of the rule set of ``common["versions"]``.

    Parameters
    ----------
    versions : dict

    Returns
    -------
    (str, str)
    """
    rs = versions.get("rule_set") or {}
    text = f"{rs.get('id') or '—'} {rs.get('version') or ''}".strip()
    status = rs.get("status")
    if not status:
        return text, text
    zh, en = DATA_STATUS_LABELS.get(status, (status, status))
    return f"{text}（{zh}）", f"{text} ({en})"


def version_rows(versions: dict) -> list[tuple[str, str, str]]:
    """The data versions a document states, as ``(label_zh, label_en, value)`` rows: the
    input file and its SHA-256, the input CRS, the rule set and its hash, the catalog, the
    as-of date, the tool and the time in Asia/Shanghai.

    Parameters
    ----------
    versions : dict
        ``common["versions"]`` of :func:`zoning.report.models.document_models`.

    Returns
    -------
    list of (str, str, str)
        Values are Chinese where words (the rule set's status) are involved.
    """
    v = versions
    conv = v.get("input_conversion")
    return [
        ("输入文件", "input file", v.get("input_name") or "—"),
        ("输入文件 SHA-256", "input SHA-256", v.get("input_sha256") or "—"),
        ("输入坐标系", "input CRS", (v.get("input_crs") or "—") + (f"（{conv}）" if conv else "")),
        ("规则集", "rule set", rule_set_text(v)[0]),
        ("规则集 SHA-256", "rule set SHA-256", v.get("rule_set_hash") or "—"),
        (
            "图层目录",
            "catalog",
            f"{v.get('catalog_version') or '—'} · SHA-256 {v.get('catalog_sha256') or '—'}",
        ),
        ("适用日期", "as of", v.get("as_of") or "—"),
        ("工具版本", "tool", f"zoning {v.get('tool_version') or '—'}"),
        ("生成时间（北京时间）", "created (Asia/Shanghai)", v.get("created_local") or "—"),
    ]


def layer_version_rows(versions: dict) -> list[dict]:
    """One row per layer of ``common["versions"]``: title, id, data status, vintage, file
    hash.

    Parameters
    ----------
    versions : dict

    Returns
    -------
    list of dict
        ``title`` (zh, en), ``id``, ``status`` (zh, en), ``vintage`` (zh, en) and
        ``sha256`` (the full hash, or "—").
    """
    rows = []
    for layer in versions.get("layers") or []:
        ds = layer.get("data_status") or ("demonstration" if layer.get("demonstration") else None)
        rows.append(
            {
                "title": (layer.get("title_zh"), layer.get("title_en")),
                "id": str(layer.get("id")),
                "status": DATA_STATUS_LABELS.get(ds, stated(ds)),
                "vintage": stated(layer.get("vintage")),
                "sha256": layer.get("sha256_full") or layer.get("sha256") or "—",
            }
        )
    return rows


def summary_rows(models: Any) -> list[dict]:
    """The rows of a run's summary table: one per modelled site, in the models' order (most
    severe first).

    Parameters
    ----------
    models : DocumentModels

    Returns
    -------
    list of dict
        ``n`` (1, 2, ...), ``position``, ``site_id``, ``name``, ``verdict`` (the verdict
        model), ``reason`` (zh, en) and ``citation`` of the site's most severe reason (None
        without one) and ``nearest`` (the distance to the nearest constraint, formatted).
    """
    rows = []
    for i, m in enumerate(models.sites, start=1):
        s, top = m["site"], m.get("top") or {}
        rows.append(
            {
                "n": i,
                "position": m["position"],
                "site_id": s["site_id"],
                "name": s["name"],
                "verdict": s["verdict"],
                "reason": (_plain(top.get("message_zh")), _plain(top.get("message_en"))),
                "citation": _plain(top.get("citation")),
                "nearest": s["nearest"],
            }
        )
    return rows


def _plain(value: Any) -> str | None:
    """A table cell's text (None for a missing value)."""
    if value is None:
        return None
    text = str(value)
    return None if text in ("", "nan", "None") else text


# ------------------------------------------------------------------------------ figure, corners


def figure_note(input_crs: str | None) -> tuple[str, str]:
    """The words under a site's map figure: what it is drawn in and what it shows, and for a
    GCJ-02-like input that the shifted coordinates were converted and are not used.

    Parameters
    ----------
    input_crs : str or None
        The site's input CRS as its model shows it.

    Returns
    -------
    (str, str)
    """
    zh, en = _FIGURE_NOTE
    crs = input_crs or ""
    if "GCJ" in crs.upper() or "BD" in crs.upper():
        zh += (
            f"输入坐标为 {crs}（GCJ-02 一类的偏移坐标），已换算为 WGS84；"
            "图与拐点坐标均不使用偏移坐标。"
        )
        en += (
            f" The input was {crs} (shifted coordinates), converted to WGS84; the map and the "
            "corners never use them."
        )
    return zh, en


def corner_cells(corners: Any) -> list[list[str]]:
    """The cells of the corner-coordinate table (:data:`CORNER_HEADERS`): point, lon and lat
    to 1e-8°, X and Y to the millimetre.

    Parameters
    ----------
    corners : Corners

    Returns
    -------
    list of list of str
    """
    return [
        [r.label, f"{r.lon:.8f}", f"{r.lat:.8f}", f"{r.x:.3f}", f"{r.y:.3f}"] for r in corners.rows
    ]


@dataclass(frozen=True)
class SiteExtras:
    """A site's map figure and corner coordinates, or why each is missing.

    Attributes
    ----------
    figure : bytes or None
        The PNG of :func:`zoning.report.figure.site_figure`.
    sources : str or None
        The figure's source line (the layers drawn, with their vintages).
    figure_missing : (str, str) or None
        Why there is no figure: the sentence a document prints instead.
    corners : Corners or None
    corners_missing : (str, str) or None
        Why there are no corner coordinates.
    """

    figure: bytes | None
    sources: str | None
    figure_missing: tuple[str, str] | None
    corners: Any
    corners_missing: tuple[str, str] | None


#: Figures drawn for live screenings: (id(result), position, options) -> (png, sources).
#: A result's entries go when the result is garbage-collected (weakref.finalize), so the PDF
#: and the Word writers of one ``to_file`` draw each site once; at most _FIGURES_MAX entries.
_FIGURES: dict[tuple, tuple[bytes, str]] = {}
_FIGURES_MAX = 4096
_FIGURES_LOCK = threading.Lock()
_WATCHED: set[int] = set()


def _forget(key: int) -> None:
    """Drop the figures of the result whose id was ``key`` (it was garbage-collected)."""
    with _FIGURES_LOCK:
        _WATCHED.discard(key)
        for k in [k for k in _FIGURES if k[0] == key]:
            del _FIGURES[k]


def _cached_figure(result: Any, position: int, options: dict) -> tuple[bytes, str]:
    """:func:`zoning.report.figure.site_figure_with_sources`, drawn once per result, site and
    options while the result lives."""
    from ..report.figure import site_figure_with_sources

    key = (id(result), int(position), tuple(sorted(options.items())))
    with _FIGURES_LOCK:
        hit = _FIGURES.get(key)
    if hit is not None:
        return hit
    drawn = site_figure_with_sources(result, position, **options)
    try:
        with _FIGURES_LOCK:
            if key[0] not in _WATCHED:
                weakref.finalize(result, _forget, key[0])
                _WATCHED.add(key[0])
            if len(_FIGURES) >= _FIGURES_MAX:
                del _FIGURES[next(iter(_FIGURES))]
            _FIGURES[key] = drawn
    except TypeError:  # a result that cannot be weakly referenced: not cached
        pass
    return drawn


def site_extras(result: Any, position: int, **figure_options: Any) -> SiteExtras:
    """The map figure and the corner coordinates of a site; what cannot be drawn or computed
    is said (never silently left out): no matplotlib, a figure that fails, a site outside the
    Gauss-Krüger zones.

    Parameters
    ----------
    result : ScreeningResult
    position : int
        The site's row in ``result.sites``.
    **figure_options
        Passed to :func:`zoning.report.figure.site_figure_with_sources` (``width_mm``,
        ``height_mm``, ``dpi``); a figure already drawn for this result, site and options is
        not drawn again (the PDF and the Word documents of one run share it).

    Returns
    -------
    SiteExtras
    """
    from .corners import result_corners

    site_id = result.sites["site_id"].iat[position] if "site_id" in result.sites else position
    png = sources = missing = None
    try:
        png, sources = _cached_figure(result, position, figure_options)
    except MissingDependencyError as exc:
        missing = (
            f"本机未安装绘图库 matplotlib，未绘制位置图（{exc}）。",
            f"matplotlib is not installed: no map figure ({exc}).",
        )
    except Exception as exc:  # a figure that cannot be drawn is said, not silently dropped
        log.warning("no map figure for site %s: %s", site_id, exc)
        png = None
        missing = (f"未能绘制位置图（{exc}）。", f"The map figure failed: {exc}.")
    corners = corners_missing = None
    try:
        corners = result_corners(result, position)
    except ValueError as exc:
        log.warning("no corner coordinates for site %s: %s", site_id, exc)
        corners_missing = (f"无法给出拐点坐标（{exc}）。", f"No corner coordinates ({exc}).")
    return SiteExtras(png, sources, missing, corners, corners_missing)
