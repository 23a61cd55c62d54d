"""The page models of a screening, for writers other than the HTML report (PDF, Word, Excel).

:func:`document_models` gives the same plain dicts the report's site pages are rendered from
(:func:`zoning.report.pages._site_context` plus the clause table of
:mod:`zoning.report.clauses`), for any choice of sites, without writing anything.  A document
writer lays these out; it never computes a verdict, an area or a distance itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import pandas as pd

from ..dates import shanghai_time
from ..schema import INDUSTRY_SECTION_OF
from .clauses import clause_context, clause_data
from .context import (
    _Catalog,
    _footer,
    _layer_rows,
    _limits,
    _Rules,
    _search_radius,
    is_demonstration,
    rule_set_info,
)
from .format import VERDICT_LABELS, _radius_text, as_str
from .pages import _site_context
from .selection import _group, site_order, site_table, top_reasons, verdict_counts

__all__ = ["INDUSTRY_SECTION_NAMES", "DocumentModels", "document_models", "limit_items"]

#: The sections (门类) of GB/T 4754-2017, by letter: (zh, en).
INDUSTRY_SECTION_NAMES = {
    "A": ("农、林、牧、渔业", "agriculture, forestry, animal husbandry and fishery"),
    "B": ("采矿业", "mining"),
    "C": ("制造业", "manufacturing"),
    "D": ("电力、热力、燃气及水生产和供应业", "electricity, heat, gas and water supply"),
    "E": ("建筑业", "construction"),
    "F": ("批发和零售业", "wholesale and retail trade"),
    "G": ("交通运输、仓储和邮政业", "transport, storage and post"),
    "H": ("住宿和餐饮业", "accommodation and catering"),
    "I": ("信息传输、软件和信息技术服务业", "information transmission, software and IT services"),
    "J": ("金融业", "finance"),
    "K": ("房地产业", "real estate"),
    "L": ("租赁和商务服务业", "leasing and business services"),
    "M": ("科学研究和技术服务业", "scientific research and technical services"),
    "N": ("水利、环境和公共设施管理业", "water conservancy, environment and public facilities"),
    "O": ("居民服务、修理和其他服务业", "residential, repair and other services"),
    "P": ("教育", "education"),
    "Q": ("卫生和社会工作", "health and social work"),
    "R": ("文化、体育和娱乐业", "culture, sports and entertainment"),
    "S": (
        "公共管理、社会保障和社会组织",
        "public administration, social security and organisations",
    ),
    "T": ("国际组织", "international organisations"),
}


@dataclass(frozen=True)
class DocumentModels:
    """What a document of a screening shows.

    Attributes
    ----------
    common : dict
        The run-wide facts every page shows: ``demonstration``, ``rule_set``
        (:func:`zoning.report.context.rule_set_info`), ``layers`` (one row per layer:
        id, title, kind, vintage, source, sha256, demonstration, ...), ``footer``
        (provenance: tool, created, catalog, CRSs, input, search radius, ``other``),
        ``limits``, ``search_radius``, ``labels``.
    sites : list of dict
        One model per chosen site, in the order chosen: the report's site-page context
        (``site``, ``attributes``, ``constraints``, ``reasons``, ``warnings``, ``bands``,
        ``next_steps``, ``clause_groups`` / ``conclusion_zh`` / ``conclusion_en`` ...), plus
        ``position`` (the site's row in ``result.sites``) and ``top`` (its most severe reason
        record, or None).
    positions : list of int
        The positions of the chosen sites, in order.
    counts : dict
        Verdict counts over all sites of the result.
    n_sites : int
        Number of sites in the result (not only the chosen ones).
    """

    common: dict
    sites: list[dict]
    positions: list[int]
    counts: dict[str, int]
    n_sites: int


def document_models(result: Any, positions: Iterable[int] | None = None) -> DocumentModels:
    """The page models of ``result``'s sites, as the report's site pages show them.

    Parameters
    ----------
    result : ScreeningResult
        A screening.
    positions : iterable of int, optional
        The sites to model (row positions in ``result.sites``), in the order given; default
        every site, most severe first (the report's order).

    Returns
    -------
    DocumentModels
        The run-wide context and one model per chosen site.

    Notes
    -----
    Only the chosen sites' hits, reasons and clauses are grouped, so modelling a few sites
    of a large run stays cheap.
    """
    sites = site_table(result)
    order = site_order(sites) if positions is None else list(positions)
    chosen = [int(p) for p in order]
    cat = _Catalog(result.layers)
    rules = _Rules(result.rule_set)
    common = _common(result, sites, cat)
    wanted = set(chosen)
    summaries = _group(result.layer_summary, wanted)
    hits = _group(result.hits, wanted)
    reasons = _group(result.reasons, wanted)
    tops = top_reasons(result.reasons, chosen)
    clauses = clause_data(result, wanted)
    models = []
    for pos in chosen:
        rec = sites.iloc[pos].to_dict()
        ctx = _site_context(
            pos, rec, summaries.get(pos), hits.get(pos), reasons.get(pos), cat, common, rules
        )
        ctx.update(clause_context(clauses["clauses"].get(pos), clauses["conclusions"].get(pos)))
        ctx["position"] = pos
        ctx["top"] = tops.get(pos)
        ctx["record"] = rec
        ctx["industry"] = _industry(rec)
        for row in ctx["attributes"]:
            row["source"] = _attribute_source(row)
        _unit_fields(ctx, hits.get(pos))
        models.append(ctx)
    return DocumentModels(common, models, chosen, verdict_counts(sites), len(sites))


def _common(result: Any, sites: pd.DataFrame, cat: _Catalog) -> dict:
    """The run-wide context every report page and document shows (the HTML report adds its
    language and map link)."""
    layer_rows = _layer_rows(result, cat)
    footer = _footer(result)
    return {
        "lang": "both",
        "demonstration": is_demonstration(result),
        "rule_set": rule_set_info(result),
        "layers": layer_rows,
        "footer": footer,
        "search_radius": _radius_text(footer["search_radius_m"]),
        "search_radius_m": _search_radius(result),
        "labels": VERDICT_LABELS,
        "limits": _limits(result, sites, layer_rows),
        "site_undeclared": None,
        "outside_coverage": False,
        "map_href": None,
        "provenance": dict(result.provenance or {}),
        "versions": _versions(result, layer_rows),
    }


def _unit_fields(ctx: dict, hits: list[dict] | None) -> None:
    """Put each control unit's ``unit_code`` (its feature id without one) and ``category`` on
    the feature rows of the site's control-unit constraint groups."""
    units = {
        (as_str(h.get("layer_id")), as_str(h.get("feature_id"))): h
        for h in hits or []
        if h.get("kind") == "control_unit"
    }
    for group in ctx.get("constraints") or []:
        if group.get("kind") != "control_unit":
            continue
        for f in group["features"]:
            hit = units.get((group.get("layer_id"), f.get("feature_id"))) or {}
            f["unit_code"] = as_str(hit.get("unit_code")) or f.get("feature_id")
            f["category"] = as_str(hit.get("category"))


def _industry(rec: dict) -> dict:
    """A site's industry: code, major division, section letter and the section's name."""
    code = as_str(rec.get("industry"))
    division = as_str(rec.get("industry_division"))
    section = code[0] if code and code[0].isalpha() else None
    if section is None and division and division.isdigit():
        section = INDUSTRY_SECTION_OF.get(int(division))
    zh, en = INDUSTRY_SECTION_NAMES.get(section or "", (None, None))
    return {
        "code": code,
        "division": division,
        "section": section,
        "section_zh": zh,
        "section_en": en,
    }


def _attribute_source(row: dict) -> str:
    """Whether an attribute row of a site page was ``declared``, ``derived`` or ``undeclared``."""
    if row.get("zh") == "未申报":
        return "undeclared"
    if "derived" in (row.get("note") or ""):
        return "derived"
    return "declared"


def _versions(result: Any, layer_rows: list[dict]) -> dict:
    """The data versions a document states: each layer's vintage and full file hash, the
    rule set, the as-of date, the input file and its SHA-256, the tool and the time."""
    prov = dict(result.provenance or {})
    full = {
        str(p.get("id")): p for p in prov.get("layers") or [] if isinstance(p, dict) and p.get("id")
    }
    layers = []
    for row in layer_rows:
        p = full.get(str(row.get("id")), {})
        layers.append({**row, "sha256_full": as_str(p.get("sha256")) or row.get("sha256")})
    inp = prov.get("input") if isinstance(prov.get("input"), dict) else {}
    source = as_str(inp.get("source"))
    rs = prov.get("rule_set") if isinstance(prov.get("rule_set"), dict) else {}
    cat = prov.get("catalog") if isinstance(prov.get("catalog"), dict) else {}
    return {
        "layers": layers,
        "rule_set": rule_set_info(result),
        "rule_set_hash": as_str(rs.get("hash") or rs.get("sha256"))
        or rule_set_info(result).get("hash"),
        "as_of": as_str(prov.get("as_of")),
        "input_name": PurePath(source).name if source else None,
        "input_source": source,
        "input_sha256": as_str(inp.get("sha256")),
        "input_crs": as_str(inp.get("crs")),
        "input_conversion": as_str(inp.get("conversion")),
        "catalog_sha256": as_str(cat.get("sha256")),
        "catalog_version": as_str(cat.get("version")),
        "tool_version": as_str(prov.get("tool_version")),
        "created_local": shanghai_time(as_str(prov.get("created")), readable=True),
    }


def limit_items(ctx: dict) -> list[tuple[str, str]]:
    """What a result does not tell you, as the report's "limits" section says it: ``(zh, en)``
    items for a site's model (or the run-wide context of :class:`DocumentModels`).

    Parameters
    ----------
    ctx : dict
        A site model of :func:`document_models` (or its ``common``).

    Returns
    -------
    list of (str, str)
    """
    limits = ctx["limits"]
    items: list[tuple[str, str]] = []
    if ctx.get("demonstration"):
        items.append(_LIMIT_DEMO)
    if not limits.get("coverage_checked"):
        items.append(tuple(limits["coverage_text"]))
    vintage = _LIMIT_VINTAGE
    if limits.get("no_vintage"):
        ids = ", ".join(limits["no_vintage"])
        vintage = (
            f"{vintage[0]}以下图层未注明数据年份，其现势性未知：{ids}。",
            f"{vintage[1]} These layers state no vintage, so how current they are is "
            f"unknown: {ids}.",
        )
    items.append(vintage)
    undeclared = ctx.get("site_undeclared")
    attrs = _LIMIT_ATTRIBUTES
    if undeclared:
        attrs = (
            attrs[0] + "本场址未申报：" + "；".join(a[0] for a in undeclared) + "。",
            attrs[1] + " Not declared for this site: " + "; ".join(a[1] for a in undeclared) + ".",
        )
    elif undeclared is not None:
        attrs = (
            attrs[0] + "本场址已申报全部属性。",
            attrs[1] + " Every attribute was declared for this site.",
        )
    items += [attrs, *_LIMIT_FIXED]
    if limits.get("shoreline_demo"):
        items.append(_LIMIT_SHORELINE)
    items.append(_LIMIT_AUTHORITY)
    items.append(_LIMIT_BOUNDARY)
    radius = ctx.get("search_radius_m")
    if radius is not None and radius <= 0:
        items.append(_LIMIT_NO_RADIUS)
    elif ctx.get("search_radius"):
        r = ctx["search_radius"]
        items.append(
            (
                f"搜索半径以外的要素不会报告（声明了缓冲环的图层检索至其最外环）；搜索半径：{r}。",
                "Features beyond the search radius are not reported (a layer with declared buffer "
                f"rings is searched to its outermost ring); search radius: {r}.",
            )
        )
    items.append(_LIMIT_RULES)
    return items


# The wording of the report's limits section (templates/report/_limits.html).
_LIMIT_DEMO = (
    "演示数据：不是官方生态保护红线、城镇开发边界、永久基本农田或管控单元。官方矢量数据未公开；"
    "请使用您自己的权威数据重新筛查。",
    "Demonstration data: this is not the official ecological protection red line, development "
    "boundary, basic farmland or control units. The official polygons are not public; screen "
    "again with your authoritative files.",
)
_LIMIT_VINTAGE = (
    "数据年份见数据版本表；结论只反映这些数据年份的图层。",
    "Data vintage: see the data versions; the verdicts reflect the layers as of those dates only.",
)
_LIMIT_ATTRIBUTES = (
    "结论取决于申报的项目属性（行业代码、建设性质、是否为线性基础设施、是否产生废水及其排放去向、"
    "是否排放大气污染物、是否涉及危险化学品、是否为“两高”项目、是否为重大建设项目、所属红线有限人为活动、"
    "涉及的设施、是否位于居民楼、是否产生工业噪声）：申报有误或未申报都会改变结论，未申报的属性使依赖它的"
    "规则无法判定。",
    "The verdict depends on the project attributes declared (industry code, nature, linear "
    "infrastructure, waste water and where it goes, air pollutants, hazardous chemicals, 两高, key "
    "project, red-line limited activity, facilities, residential building, industrial noise): a "
    "wrong or missing declaration changes it, and an undeclared attribute leaves the rules that "
    "test it undecided.",
)
_LIMIT_FIXED = (
    (
        "未评估环评类别（报告书、报告表或登记表，按《建设项目环境影响评价分类管理名录》确定）及周边环境"
        "敏感目标（居住区、学校、医院、文物保护单位等）：二者须在环评中确定。",
        "The EIA category (report, report form or registration form, set by the "
        "建设项目环境影响评价分类管理名录) and the sensitive receptors around the site (housing, "
        "schools, hospitals, protected cultural relics, ...) are not assessed: the EIA settles "
        "both.",
    ),
    (
        "未评估涉河审批：跨河、穿河、临河及河道管理范围内的建设须另行办理涉河建设方案审批和防洪影响评价，"
        "本筛查不作判断。",
        "River-crossing and flood-control permits are not assessed: works across, under or "
        "beside a river, or inside its management area, need the river authority's approval of the "
        "construction plan and a flood-impact assessment, which this screening does not judge.",
    ),
    (
        "未评估用海：海域使用权和海洋功能区划（《海域使用管理法》）不在本规则集中；位于海域的场址须另行"
        "进行用海审查，城镇开发边界规则不适用于完全位于海域的场址。",
        "Sea use is not assessed: sea-use rights and marine functional zoning (海域使用管理法) are "
        "not in this rule set; a site at sea needs its own sea-use review, and the "
        "development-boundary rule does not apply to sites wholly at sea.",
    ),
)
_LIMIT_SHORELINE = (
    "演示长江岸线包括长江干流和支流黄浦江（一公里从两岸岸线量起），不含苏州河等其他河流；长江保护法"
    "第二十六条的一公里范围适用于干支流岸线，靠近未收录支流的化工项目在此未被检查。",
    "The demonstration Yangtze shoreline holds the main stream and one tributary, the 黄浦江 "
    "(Huangpu; the 1 km is measured from its banks), but no other river such as the 苏州河; art. "
    "26 of the Yangtze Protection Law covers main-stream and tributary shorelines, so chemical "
    "projects near a tributary not in the layer are not checked here.",
)
_LIMIT_AUTHORITY = (
    "筛查不能替代环境影响评价（环评），也不能替代生态环境准入审查；最终结论以主管部门意见为准。",
    "Screening does not replace the environmental impact assessment (EIA, 环评) or the access "
    "review (生态环境准入审查); the competent authority decides.",
)
_LIMIT_BOUNDARY = (
    "边界位置存在误差（见各图层的位置容差）；靠近边界的场址标记为“边界敏感”，结论可能随权威边界变化。",
    "Boundaries carry positional error (each layer's tolerance); sites near a boundary are "
    "flagged boundary-sensitive and their verdict may change with the authoritative boundary.",
)
_LIMIT_NO_RADIUS = (
    "未进行距离检索（搜索半径 0 米）：只报告与场址相交或相接的要素；"
    "按距离判定的规则（如长江岸线一公里范围）无法判定。",
    "No distance search was run (search radius 0 m): only features the site intersects or "
    "touches are reported, and within-distance rules (such as the 1 km Yangtze shoreline band) "
    "are undecided.",
)
_LIMIT_RULES = (
    "规则是对政策条文的机器可读摘录，未收录的条款不会被检查。",
    "Rules are machine-readable extracts of the policy clauses; clauses not encoded are not "
    "checked.",
)
