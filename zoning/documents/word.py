"""The Word section 生态环境分区管控符合性分析 (``--format docx``), shaped as it goes into the
"其他符合性分析" of a 建设项目环境影响报告表.

:func:`write_docx` writes one ``.docx`` per site into ``docx/`` and the run's combined
``screening.docx``.  Each site's section holds, in this order: the demonstration notice (when
any layer or the rule set is demonstration), 一、项目基本情况 (name, id, industry code and
section, nature, the declared, derived and undeclared attributes), 二、所在生态环境管控单元
(code, name, category and share of the site of each unit the site touches), 三、生态环境准入
清单符合性分析 (the clause table in the four dimensions, a result per clause with its citation
and quote), 四、与相关法律法规的符合性 (the 长江保护法, 饮用水水源保护 and 负面清单 clauses with
the site's measured distances), 五、结论 (the verdict, the standard conclusion wording, the
deciding reasons, the next steps, boundary warnings, the disclaimer) and 六、数据版本.

Everything shown comes from :func:`zoning.report.models.document_models` (the report's site
pages), except two facts the models do not carry, read (never recomputed) from the result's
tables: each control unit's category (``hits.category``) and the control units of every site
of the combined document's summary table.  Fonts: see :mod:`zoning.documents.docx_layout`.
"""

from __future__ import annotations

import copy
import datetime
from pathlib import Path
from typing import Any

from ..dates import TIMEZONE
from ..labels import CLAUSE_RESULT_LABELS, DATA_STATUS_LABELS, LAYER_STATUS_LABELS, VERDICT_LABELS
from ..report.format import _page_names, as_str, check_lang, is_missing
from ..report.models import document_models
from ..report.selection import site_order, site_table, top_reasons, verdict_keys
from ..schema import DIMENSIONS, INDUSTRY_SECTION_OF, VERDICT_ORDER
from . import docx_layout as lay

__all__ = ["MAX_SECTIONS", "MAX_SITE_DOCUMENTS", "TITLE", "write_docx"]

#: The section's title, as a 报告表 names it.
TITLE = "生态环境分区管控符合性分析"
#: At most this many site sections in ``screening.docx``; above it, the summary table only.
MAX_SECTIONS = 50
#: At most this many site documents in ``docx/`` (the report's site-page limit): above it only
#: the non-permitted sites, most severe first.
MAX_SITE_DOCUMENTS = 1000

#: Control-unit categories (``hits.category`` of a ``control_unit`` layer).
UNIT_CATEGORIES = {
    "priority": "优先保护单元",
    "key": "重点管控单元",
    "general": "一般管控单元",
}
#: GB/T 4754-2017 sections (门类).
INDUSTRY_SECTION_NAMES = {
    "A": "农、林、牧、渔业",
    "B": "采矿业",
    "C": "制造业",
    "D": "电力、热力、燃气及水生产和供应业",
    "E": "建筑业",
    "F": "批发和零售业",
    "G": "交通运输、仓储和邮政业",
    "H": "住宿和餐饮业",
    "I": "信息传输、软件和信息技术服务业",
    "J": "金融业",
    "K": "房地产业",
    "L": "租赁和商务服务业",
    "M": "科学研究和技术服务业",
    "N": "水利、环境和公共设施管理业",
    "O": "居民服务、修理和其他服务业",
    "P": "教育",
    "Q": "卫生和社会工作",
    "R": "文化、体育和娱乐业",
    "S": "公共管理、社会保障和社会组织",
    "T": "国际组织",
}
#: The notes of the attribute rows of the models, in Chinese.
_NOTES = {
    "declared": "申报",
    "derived from the industry code": "由行业代码推定",
    "derived from the geometry (a line site)": "由场址几何推定（线状场址）",
}
_NOT_STATED = {"not stated": "未注明", None: "未注明", "": "未注明"}
_DISCLAIMER = (
    "本分析由筛查工具依据已编码的规则集与图层自动生成，限于所列条款和图层，供环境影响评价文件"
    "编制参考，不代替主管部门的审查。项目是否符合生态环境分区管控要求，最终判断以审批部门"
    "（有审批权的生态环境主管部门）的意见为准。"
)
_GLOSS = "Zoning conformity"
_RESULT_COLOURS = {"violates": lay.RED, "needs_review": None, "undecided": None}


class _Writer:
    """Lays out the page models of one screening into Word documents."""

    def __init__(self, result: Any, lang: str):
        self.result = result
        self.lang = lang
        self.sites = site_table(result)
        self.order = [int(p) for p in site_order(self.sites)]
        hits = getattr(result, "hits", None)
        self.units = _unit_hits(hits)

    def gloss(self, en: str) -> str | None:
        """An English gloss for a heading, unless the document is Chinese only."""
        return None if self.lang == "zh" else en

    # ---------------------------------------------------------------------------------- files

    def write(self, folder: Path, max_sections: int, max_site_documents: int) -> list[str]:
        """Write ``docx/`` and ``screening.docx`` into ``folder``."""
        paged = self._paged(max_site_documents)
        models = document_models(self.result, paged)
        common = models.common
        names = _page_names(
            (p, self.sites["site_id"].iat[p] if "site_id" in self.sites else None) for p in paged
        )
        out = folder / "docx"
        out.mkdir(parents=True, exist_ok=True)
        combined = len(paged) <= max_sections
        bodies = []
        for model in models.sites:
            doc = self._document(common, f"{TITLE} · {_site_label(model)}")
            lay.heading(doc, 1, TITLE, self.gloss(_GLOSS))
            start = len(doc.element.body) - 1  # before the section properties
            self.site_section(doc, model, common)
            doc.save(out / (names[model["position"]][: -len(".html")] + ".docx"))
            if combined:  # the same section, copied rather than laid out twice
                bodies.append(copy.deepcopy(list(doc.element.body)[start:-1]))
        doc = self._document(common, f"{TITLE}（筛查汇总）")
        self.summary(doc, common, paged, models.counts, max_sections, max_site_documents)
        end = doc.element.body.sectPr
        for model, body in zip(models.sites, bodies, strict=False):
            lay.page_break(doc)
            lay.heading(doc, 1, f"{TITLE}：{_site_label(model)}", self.gloss(_GLOSS))
            for element in body:
                end.addprevious(element)
        doc.save(folder / "screening.docx")
        return ["screening.docx", "docx"]

    def _paged(self, limit: int) -> list[int]:
        """The sites that get a document: all, most severe first; above ``limit`` only the
        non-permitted ones up to it (as the report's site pages)."""
        if len(self.order) <= limit:
            return list(self.order)
        keys = verdict_keys(self.sites["verdict"]).to_numpy()
        return [p for p in self.order if keys[p] != "permitted"][:limit]

    def _document(self, common: dict, title: str) -> Any:
        doc = lay.new_document()
        lay.set_header(doc, title, _demo_header(common))
        tool = as_str(common["footer"].get("tool")) or "?"
        rs = common.get("rule_set") or {}
        lay.set_footer(doc, f"筛查工具 zoning {tool} · 规则集 {rs.get('id')} {rs.get('version')}")
        return doc

    # -------------------------------------------------------------------------------- summary

    def summary(
        self,
        doc: Any,
        common: dict,
        paged: list[int],
        counts: dict,
        max_sections: int,
        max_site_documents: int,
    ) -> None:
        """The combined document's opening: title, notice, counts and the summary table."""
        lay.heading(doc, 1, f"{TITLE}（筛查汇总）", self.gloss("Screening summary"))
        self.notice(doc, common)
        n = len(self.sites)
        words = "、".join(
            f"{VERDICT_LABELS[k][0]} {counts.get(k, 0)} 个"
            for k in VERDICT_ORDER
            if counts.get(k, 0)
        )
        lay.paragraph(doc, f"本次筛查共 {n} 个场址：{words}。下表按结论从严到宽排列。")
        if len(paged) < n:
            lay.paragraph(
                doc,
                f"场址超过 {max_site_documents} 个：下表及 docx/ 文件夹只列出未获“"
                f"{VERDICT_LABELS['permitted'][0]}”结论的前 {len(paged)} 个场址。",
            )
        if len(paged) > max_sections:
            lay.paragraph(
                doc,
                f"本次共 {n} 个场址，超过 {max_sections} 个，本文件只列汇总表；各场址的符合性"
                "分析见 docx/ 文件夹中的单独文件。",
                bold=True,
            )
        tops = top_reasons(self.result.reasons, paged)
        rows = []
        for i, pos in enumerate(paged, 1):
            rec = self.sites.iloc[pos]
            top = tops.get(pos) or {}
            units = "、".join(f"{u['code']} {u['name']}" for u in self.units.get(pos, [])) or "—"
            rows.append(
                [
                    str(i),
                    as_str(rec.get("name")) or "—",
                    as_str(rec.get("site_id")) or f"#{pos}",
                    VERDICT_LABELS[_verdict(rec.get("verdict"))][0],
                    units,
                    as_str(top.get("citation")) or "—",
                ]
            )
        lay.data_table(
            doc,
            ["序号", "项目名称", "项目编号", "筛查结论", "所在管控单元", "主要依据"],
            rows,
            [1.2, 3.6, 2.8, 2.0, 3.5, 2.6],
        )

    def notice(self, doc: Any, common: dict) -> None:
        """The demonstration notice in the body (nothing for authoritative data)."""
        text = _demo_body(common)
        if text:
            lay.paragraph(doc, text, bold=True, color=lay.RED, shade="FFF2CC")

    # ------------------------------------------------------------------------------ site

    def site_section(self, doc: Any, model: dict, common: dict) -> None:
        """One site's 符合性分析 (after its heading)."""
        self.notice(doc, common)
        self.identification(doc, model)
        self.control_units(doc, model, common)
        self.clauses(doc, model)
        self.statutes(doc, model, common)
        self.conclusion(doc, model)
        self.versions(doc, common)

    def identification(self, doc: Any, model: dict) -> None:
        """一、项目基本情况."""
        lay.heading(doc, 2, "一、项目基本情况", self.gloss("Project"))
        site, rec = model["site"], model["record"]
        industry = as_str(rec.get("industry"))
        division = as_str(rec.get("industry_division"))
        if industry:
            section = INDUSTRY_SECTION_OF.get(int(division)) if (division or "").isdigit() else None
            name = INDUSTRY_SECTION_NAMES.get(section or "", "")
            industry = (
                f"{industry}（GB/T 4754-2017 门类 {section} {name}，大类 {division}）"
                if section
                else industry
            )
        attrs = {a["label_zh"]: a for a in model["attributes"]}
        nature = attrs.get("建设性质", {}).get("zh") or "未申报"
        size = " / ".join(x for x in (site.get("area"), site.get("length")) if x) or "—"
        rows = [
            ("项目名称", site.get("name") or "—"),
            ("项目编号", site.get("site_id") or "—"),
            ("行业代码及类别", industry or "未申报"),
            ("建设性质", nature),
            ("场址规模", size),
            ("输入坐标系", site.get("input_crs") or "—"),
        ]
        lay.kv_table(doc, rows, [3.2, 12.4])
        lay.paragraph(doc, "项目属性（筛查规则读取的申报值；“未申报”的属性不能视为已满足）：")
        attr_rows = [
            [a["label_zh"], a["zh"], _note(a)]
            for a in model["attributes"]
            if a["label_zh"] not in ("建设性质",) and not a["label_zh"].startswith("行业代码")
        ]
        lay.data_table(doc, ["属性", "取值", "来源"], attr_rows, [6.0, 6.0, 3.6])

    def control_units(self, doc: Any, model: dict, common: dict) -> None:
        """二、所在生态环境管控单元: the control-unit layer's features the site touches."""
        lay.heading(doc, 2, "二、所在生态环境管控单元", self.gloss("Environmental control units"))
        group = _group(model, "control_unit")
        if group is None:
            lay.paragraph(doc, "本次筛查没有生态环境管控单元图层，无法确定项目所在的管控单元。")
            return
        if group["status_key"] != "ok":
            why = _layer_state(group)
            lay.paragraph(doc, f"无法确定项目所在的管控单元：{why}。")
            return
        units = {u["feature_id"]: u for u in self.units.get(model["position"], [])}
        touched = [f for f in group["features"] if f["relation"] != "nearby"]
        near = [f for f in group["features"] if f["relation"] == "nearby"]
        if not touched:
            lay.paragraph(doc, f"项目场址不在{group['title_zh']}的任何单元内。")
        else:
            lay.paragraph(
                doc,
                f"据{group['title_zh']}图层，项目场址涉及 {len(touched)} 个生态环境管控单元：",
            )
            rows = []
            for f in touched:
                unit = units.get(str(f["feature_id"]), {})
                rows.append(
                    [
                        unit.get("code") or str(f["feature_id"]),
                        f["name"] or "—",
                        UNIT_CATEGORIES.get(
                            unit.get("category") or "", unit.get("category") or "—"
                        ),
                        f["share_of_site"],
                    ]
                )
            lay.data_table(
                doc, ["单元编码", "单元名称", "单元类别", "占场址比例"], rows, [3.4, 7.2, 2.8, 2.2]
            )
        if near:
            listed = "；".join(
                f"{f['name']}（{f['feature_id']}，距 {f['distance']}）" for f in near[:5]
            )
            more = f"等 {len(near)} 个" if len(near) > 5 else ""
            lay.paragraph(
                doc, f"周边 {common['search_radius']} 范围内的其他管控单元{more}：{listed}。"
            )

    def clauses(self, doc: Any, model: dict) -> None:
        """三、生态环境准入清单符合性分析: the clause table, four dimensions."""
        lay.heading(
            doc, 2, "三、生态环境准入清单符合性分析", self.gloss("Clauses, four dimensions")
        )
        groups = {g["zh"]: g["rows"] for g in model.get("clause_groups") or []}
        counts: dict[str, int] = {}
        rows, emphasis = [], {}
        dims = list(DIMENSIONS) + [d for d in groups if d not in DIMENSIONS]
        for dim in dims:
            mine = groups.get(dim) or []
            if not mine:
                rows.append(
                    [dim, "本次筛查的规则集在本维度没有适用于本场址的条款。", "—", "—", "—"]
                )
                continue
            for r in mine:
                counts[r["result"]] = counts.get(r["result"], 0) + 1
                if r["result"] in _RESULT_COLOURS:
                    emphasis[len(rows)] = _RESULT_COLOURS[r["result"]]
                rows.append([dim, *_clause_cells(r)])
        total = sum(counts.values())
        said = "，".join(
            f"{zh} {counts[k]} 条" for k, (zh, _) in CLAUSE_RESULT_LABELS.items() if counts.get(k)
        )
        lay.paragraph(
            doc,
            f"对照生态环境准入清单和法定底线，逐条分析如下（共 {total} 条：{said}；"
            "不适用的条款只列要求和依据，不摘录原文）。"
            if total
            else "本次筛查没有适用于本场址的已编码条款。",
        )
        lay.data_table(
            doc,
            ["维度", "管控要求", "依据及原文", "本项目情况", "符合性"],
            rows,
            [1.3, 5.2, 3.9, 3.5, 1.8],
            emphasis=emphasis,
            merge_first=True,
        )

    def statutes(self, doc: Any, model: dict, common: dict) -> None:
        """四、与相关法律法规的符合性: the clause rows of the named statutes, with distances."""
        lay.heading(doc, 2, "四、与相关法律法规的符合性", self.gloss("Related statutes"))
        rows = [
            r | {"dimension": g["zh"]} for g in model.get("clause_groups") or [] for r in g["rows"]
        ]
        parts = [
            (
                "（一）《长江保护法》",
                "Yangtze River Protection Law",
                [r for r in rows if "长江保护法" in (r["citation"] or "")],
                _distance_sentence(model, common, "shoreline", "《长江保护法》"),
            ),
            (
                "（二）饮用水水源保护",
                "Drinking-water sources",
                [r for r in rows if _water_source(r)],
                _distance_sentence(model, common, "water_source_zone", "饮用水水源保护"),
            ),
            (
                "（三）《长江经济带发展负面清单指南》",
                "Negative list",
                [r for r in rows if "负面清单" in (r["citation"] or "")],
                None,
            ),
        ]
        for zh, en, mine, sentence in parts:
            lay.heading(doc, 3, zh, self.gloss(en))
            if sentence:
                lay.paragraph(doc, sentence)
            _statute_rows(doc, mine)

    def conclusion(self, doc: Any, model: dict) -> None:
        """五、结论: verdict, standard wording, deciding reasons, next steps, disclaimer."""
        lay.heading(doc, 2, "五、结论", self.gloss("Conclusion"))
        verdict = model["site"]["verdict"]
        para = lay.paragraph(doc, "筛查结论：", bold=True)
        lay.add_run(
            para,
            verdict["zh"],
            bold=True,
            color=lay.RED if verdict["key"] == "prohibited" else None,
        )
        conclusion = model.get("conclusion") or {}
        if conclusion.get("zh"):
            lay.paragraph(doc, conclusion["zh"].rstrip("。") + "。")
        if self.lang != "zh" and conclusion.get("en"):
            lay.paragraph(doc, conclusion["en"] + ".", size=lay.SMALL_PT)
        deciding = [r for r in model["reasons"] if r["verdict"]["key"] == verdict["key"]]
        if deciding and verdict["key"] != "permitted":
            lay.paragraph(doc, "主要依据：", bold=True)
            for r in deciding:
                cite = f"{r['cite']}：" if r.get("cite") else ""
                lay.paragraph(doc, f"· {cite}{r['message_zh']}")
        if model.get("next_steps"):
            lay.paragraph(doc, "建议：", bold=True)
            for step in model["next_steps"]:
                lay.paragraph(doc, f"· {step['zh']}")
            if model.get("steps_note"):
                lay.paragraph(doc, model["steps_note"][0])
        for w in model.get("warnings") or []:
            tol = _NOT_STATED.get(w["tolerance"], w["tolerance"])
            lay.paragraph(
                doc,
                f"边界提示：场址距{w['title_zh']}边界 {w['boundary_distance']}，小于该图层的位置"
                f"容差（{tol}），边界的不确定性可能改变结论，请以权威矢量数据核实。",
            )
        for b in model.get("bands") or []:
            lay.paragraph(
                doc,
                f"距离提示：场址距{b['title_zh']} {b['distance']}，与规则 {b['rules']} 的距离阈值"
                f" {b['threshold']} 之差小于图层容差 {b['tolerance']}，请以权威数据核实。",
            )
        lay.paragraph(doc, _DISCLAIMER, bold=True)

    def versions(self, doc: Any, common: dict) -> None:
        """六、数据版本: layers, rule set, as-of date, input file, tool, time."""
        lay.heading(doc, 2, "六、数据版本", self.gloss("Data versions"))
        prov = common.get("provenance") or {}
        full = {
            str(p.get("id")): p.get("sha256")
            for p in prov.get("layers") or []
            if isinstance(p, dict)
        }
        rows = []
        for layer in common["layers"]:
            status = DATA_STATUS_LABELS.get(layer.get("data_status"), (layer.get("data_status"),))[
                0
            ]
            rows.append(
                [
                    [(layer["title_zh"], None), (str(layer["id"]), lay.SMALL_PT)],
                    status or "—",
                    _NOT_STATED.get(layer.get("vintage"), layer.get("vintage")),
                    [(full.get(str(layer["id"])) or layer.get("sha256") or "—", lay.SMALL_PT)],
                ]
            )
        lay.data_table(
            doc, ["图层", "数据状态", "版本/时相", "文件 SHA-256"], rows, [4.6, 1.8, 4.0, 5.2]
        )
        lay.paragraph(doc)
        lay.kv_table(doc, _version_rows(common), [3.2, 12.4])


def _version_rows(common: dict) -> list[tuple[str, Any]]:
    """Rule set, as-of date, catalog, input file, tool and time of a screening."""
    prov = common.get("provenance") or {}
    rs = prov.get("rule_set") or {}
    info = common.get("rule_set") or {}
    cat = prov.get("catalog") or {}
    inp = prov.get("input") or {}
    status = DATA_STATUS_LABELS.get(info.get("status"), (info.get("status") or "—",))[0]
    return [
        ("规则集", f"{info.get('id') or rs.get('id')}，版本 {info.get('version')}（{status}）"),
        ("规则集 SHA-256", [(info.get("hash") or rs.get("hash") or "—", lay.SMALL_PT)]),
        ("适用日期", f"{prov.get('as_of') or '—'}（按此日施行的法规与图层筛查）"),
        (
            "图层目录",
            [
                (f"{cat.get('title') or '—'}，版本 {cat.get('version') or '—'}", None),
                (f"SHA-256 {cat.get('sha256') or '—'}", lay.SMALL_PT),
            ],
        ),
        ("输入文件", as_str(inp.get("source")) or "—"),
        ("输入文件 SHA-256", [(as_str(inp.get("sha256")) or "—", lay.SMALL_PT)]),
        ("筛查工具", f"zoning {prov.get('tool_version') or common['footer'].get('tool')}"),
        ("筛查时间", _shanghai_time(prov.get("created"))),
    ]


# ------------------------------------------------------------------------------------ helpers


def _statute_rows(doc: Any, rows: list[dict]) -> None:
    """The clause rows citing one statute: a table of those that apply, then one sentence
    naming those that do not and why."""
    if not rows:
        lay.paragraph(doc, "本次筛查的规则集中没有引用该法规、适用于本场址的条款。")
        return
    apply = [r for r in rows if r["result"] != "not_applicable"]
    if apply:
        lay.data_table(
            doc,
            ["依据", "管控要求", "本项目情况", "符合性"],
            [
                [
                    r["citation"] or "—",
                    r["clause"] or "—",
                    r["explanation_zh"] or "—",
                    r["result_zh"],
                ]
                for r in apply
            ],
            [3.2, 6.2, 4.5, 1.8],
            emphasis={
                i: _RESULT_COLOURS[r["result"]]
                for i, r in enumerate(apply)
                if r["result"] in _RESULT_COLOURS
            },
        )
    rest = [r for r in rows if r["result"] == "not_applicable"]
    if rest:
        word = CLAUSE_RESULT_LABELS["not_applicable"][0]
        listed = "；".join(f"{r['citation'] or '—'}（{r['explanation_zh'] or '—'}）" for r in rest)
        lay.paragraph(doc, f"以下 {len(rest)} 条{word}于本项目：{listed}。")


def _clause_cells(r: dict) -> list[Any]:
    """The requirement, citation-and-quote, situation and result cells of a clause row; a
    clause that does not apply is listed without its scope and quote (it only says why)."""
    if r["result"] == "not_applicable":
        clause: list = [(r["clause"] or "—", None)]
        cite: list = [(r["citation"] or "—", None)]
    else:
        scope = r["scope_zh"] + (f"（{r['list_id']}）" if r.get("list_id") else "")
        clause = [(r["clause"] or "—", None), (f"适用范围：{scope}", lay.SMALL_PT)]
        cite = [(r["citation"] or "—", None)]
        if r.get("quote"):
            cite.append((f"原文：“{r['quote']}”", lay.SMALL_PT))
    return [clause, cite, r["explanation_zh"] or "—", r["result_zh"]]


def _shanghai_time(created: Any) -> str:
    """A provenance time (ISO, UTC) as Asia/Shanghai wall-clock time."""
    text = as_str(created)
    if not text:
        return "—"
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    try:
        from zoneinfo import ZoneInfo

        zone: datetime.tzinfo = ZoneInfo(TIMEZONE)
    except Exception:  # no time-zone database: China keeps UTC+8 all year
        zone = datetime.timezone(datetime.timedelta(hours=8))
    local = moment.astimezone(zone)
    return f"{local.strftime('%Y-%m-%d %H:%M:%S')}（{TIMEZONE}，UTC+8）"


def _demo_layers(common: dict) -> list[str]:
    return [layer["title_zh"] for layer in common.get("layers") or [] if layer.get("demonstration")]


def _is_demo(common: dict) -> bool:
    rs = common.get("rule_set") or {}
    return bool(
        common.get("demonstration") or _demo_layers(common) or rs.get("status") == "demonstration"
    )


def _demo_header(common: dict) -> str | None:
    if not _is_demo(common):
        return None
    return "【演示数据】本文件基于演示图层/规则集生成，非官方成果，不得作为审批依据"


def _demo_body(common: dict) -> str | None:
    if not _is_demo(common):
        return None
    layers = _demo_layers(common)
    which = f"下列图层为演示数据：{'、'.join(layers)}。" if layers else ""
    rs = common.get("rule_set") or {}
    rules = "所用规则集亦为演示规则集。" if rs.get("status") == "demonstration" else ""
    return (
        "演示数据提示：本分析使用的数据不是官方发布的生态保护红线、生态环境管控单元等成果。"
        f"{which}{rules}本文件仅用于演示工具的用法，不得作为环评文件的依据或审批依据；"
        "正式使用须换用主管部门提供的权威数据重新筛查。"
    )


def _site_label(model: dict) -> str:
    site = model["site"]
    name, sid = site.get("name"), site.get("site_id")
    return f"{name}（{sid}）" if name else str(sid)


def _note(attr: dict) -> str:
    note = as_str(attr.get("note"))
    if attr.get("zh") == "未申报":
        return "未申报"
    if note is None:
        return "申报"
    return _NOTES.get(note, note)


def _group(model: dict, kind: str) -> dict | None:
    return next((g for g in model.get("constraints") or [] if g.get("kind") == kind), None)


def _water_source(row: dict) -> bool:
    """A clause of the drinking-water source statutes: the 饮用水水源保护条例, or the 水污染防治法
    articles on source protection zones."""
    cite = row.get("citation") or ""
    return "饮用水水源保护条例" in cite or (
        "水污染防治法" in cite and "饮用水水源" in (row.get("clause") or "")
    )


def _layer_state(group: dict) -> str:
    """Why a layer gave no measurement for the site, in words."""
    if group["status_key"] == "outside_coverage":
        return f"项目场址位于{group['title_zh']}图层的覆盖范围之外"
    status = LAYER_STATUS_LABELS.get(group["status_key"], (group["status_key"],))[0]
    return f"{group['title_zh']}图层{status}"


def _distance_sentence(model: dict, common: dict, kind: str, law: str) -> str:
    """What the screening measured between the site and the layer of ``kind``."""
    group = _group(model, kind)
    if group is None:
        return f"本次筛查没有相应图层，未量算项目场址与其距离（{law}相关条款无法判定距离要求）。"
    title = group["title_zh"]
    if group["status_key"] != "ok":
        why = _layer_state(group)
        return f"未能量算项目场址与{title}的距离（{why}），{law}相关条款的距离要求无法判定。"
    touched = [f for f in group["features"] if f["relation"] != "nearby"]
    if touched:
        names = "、".join(f["name"] or str(f["feature_id"]) for f in touched)
        share = group.get("share_of_site")
        extra = f"，占场址 {share}" if share and share not in ("—", "0 %") else ""
        return f"经量算，项目场址与{names}相交（{title}图层{extra}），{law}相关条款分析见下表。"
    if not group["features"]:
        return (
            f"经量算，项目场址周边 {common['search_radius']} 范围内没有{title}图层的要素"
            f"（距离大于 {common['search_radius']}），{law}相关条款分析见下表。"
        )
    nearest = min(
        group["features"], key=lambda f: f["_distance"] if f["_distance"] is not None else 1e300
    )
    return (
        f"经量算，项目场址距{nearest['name'] or nearest['feature_id']}约 {nearest['distance']}"
        f"（{title}图层，场址边界至要素的最近距离），{law}相关条款分析见下表。"
    )


def _unit_hits(hits: Any) -> dict[int, list[dict]]:
    """The control units each site touches, read from ``result.hits``: position -> rows with
    ``feature_id``, ``code``, ``name``, ``category`` (the models do not carry the category)."""
    out: dict[int, list[dict]] = {}
    if hits is None or not len(hits) or "kind" not in hits.columns:
        return out
    mine = hits[(hits["kind"] == "control_unit") & (hits["relation"] != "nearby")]
    for rec in mine.drop(columns="geometry", errors="ignore").to_dict("records"):
        code = as_str(rec.get("unit_code")) or as_str(rec.get("feature_id")) or "—"
        out.setdefault(int(rec["site"]), []).append(
            {
                "feature_id": as_str(rec.get("feature_id")),
                "code": code,
                "name": as_str(rec.get("name")) or "—",
                "category": as_str(rec.get("category")),
            }
        )
    return out


def _verdict(value: Any) -> str:
    text = None if is_missing(value) else str(value)
    return text if text in VERDICT_LABELS else "unknown"


def write_docx(
    result: Any,
    folder: Path,
    *,
    lang: str = "both",
    max_sections: int = MAX_SECTIONS,
    max_site_documents: int = MAX_SITE_DOCUMENTS,
) -> list[str]:
    """Write the 生态环境分区管控符合性分析 of ``result`` as Word documents.

    Parameters
    ----------
    result : ScreeningResult
        A screening.
    folder : Path
        An existing folder; ``screening.docx`` and ``docx/`` are written into it.
    lang : {"both", "zh", "en"}
        ``"zh"``: Chinese only; otherwise headings carry short English glosses and the
        conclusion its English wording.  The body stays Chinese (it pastes into a 报告表).
    max_sections : int
        At most this many site sections in ``screening.docx``; above it, the summary table
        only, and the document says so.
    max_site_documents : int
        At most this many documents in ``docx/`` (one per site, named as the report's site
        pages): with more sites, only the non-permitted ones, most severe first.

    Returns
    -------
    list of str
        ``["screening.docx", "docx"]``.

    Raises
    ------
    ValueError
        An unknown ``lang``.
    """
    check_lang(lang)
    return _Writer(result, lang).write(Path(folder), max_sections, max_site_documents)
