"""The Word section 生态环境分区管控符合性分析 (``--format docx``), shaped as it goes into the
"其他符合性分析" of a 建设项目环境影响报告表.

:func:`write_docx` writes one ``.docx`` per site into ``docx/`` and the run's combined
``screening.docx``.  Each site's section holds, in this order: the demonstration notice (when
any layer or the rule set is demonstration), 一、项目基本情况 (name, id, industry code and
section, nature, the declared, derived and undeclared attributes), 二、项目位置 (the map figure
of :func:`zoning.report.figure.site_figure` at the text width with its caption, and the corner
coordinates of :mod:`zoning.documents.corners` in CGCS2000), 三、所在生态环境管控单元 (code,
name, category and share of the site of each unit the site touches), 四、生态环境准入清单符合性
分析 (the clause table in the four dimensions, a result per clause with its citation and
quote), 五、与相关法律法规的符合性 (the 长江保护法, 饮用水水源保护 and 负面清单 clauses with the
site's measured distances), 六、结论 (the verdict, the standard conclusion wording, the deciding
reasons, the next steps, boundary warnings, the disclaimer), 七、数据版本 and 八、本结果不能告诉
您什么.

Everything shown comes from :func:`zoning.report.models.document_models` (the report's site
pages) and the words the PDF shares (:mod:`zoning.documents.common`), except one fact the
models do not carry, read (never recomputed) from ``result.hits``: each control unit's code
and category.  Fonts: see :mod:`zoning.documents.docx_layout`.
"""

from __future__ import annotations

import copy
import io
from pathlib import Path
from typing import Any

from ..labels import CLAUSE_RESULT_LABELS, LAYER_STATUS_LABELS, UNIT_CATEGORY_LABELS, VERDICT_LABELS
from ..report.format import check_lang
from ..report.models import document_models, limit_items
from ..schema import DIMENSIONS, VERDICT_ORDER
from . import common as shared
from . import docx_layout as lay

__all__ = ["MAX_SECTIONS", "MAX_SITE_DOCUMENTS", "TITLE", "write_docx"]

#: The section's title, as a 报告表 names it.
TITLE = "生态环境分区管控符合性分析"
#: At most this many site sections in ``screening.docx``; above it, the summary table only.
MAX_SECTIONS = shared.MAX_COMBINED_SITES
#: At most this many site documents in ``docx/`` (the report's site-page limit): above it only
#: the non-permitted sites, most severe first.
MAX_SITE_DOCUMENTS = shared.MAX_SITE_DOCUMENTS

_GLOSS = "Zoning conformity"
_RESULT_COLOURS = {"violates": lay.RED, "needs_review": None, "undecided": None}
#: The map figure's size: the text width of the page (21 cm less 2.8 + 2.5 cm margins).
_FIGURE_MM = (157.0, 106.0)


class _Writer:
    """Lays out the page models of one screening into Word documents."""

    def __init__(self, result: Any, lang: str):
        self.result = result
        self.lang = lang

    def gloss(self, en: str) -> str | None:
        """An English gloss for a heading, unless the document is Chinese only."""
        return None if self.lang == "zh" else en

    # ---------------------------------------------------------------------------------- files

    def write(self, folder: Path, max_sections: int, max_site_documents: int) -> list[str]:
        """Write ``docx/`` and ``screening.docx`` into ``folder``."""
        choice = shared.choose_sites(self.result, max_site_documents)
        models = document_models(self.result, choice.positions)
        common = models.common
        out = folder / "docx"
        out.mkdir(parents=True, exist_ok=True)
        combined = len(choice.positions) <= max_sections
        bodies = []
        for model in models.sites:
            pos = model["position"]
            extras = shared.site_extras(
                self.result, pos, width_mm=_FIGURE_MM[0], height_mm=_FIGURE_MM[1]
            )
            doc = self._document(common, f"{TITLE} · {shared.site_label(model['site'])}")
            lay.heading(doc, 1, TITLE, self.gloss(_GLOSS))
            start = len(doc.element.body) - 1  # before the section properties
            self.site_section(doc, model, common, extras)
            doc.save(out / choice.file_name(pos, ".docx"))
            if combined:  # the same section, copied rather than laid out twice
                elements = copy.deepcopy(list(doc.element.body)[start:-1])
                bodies.append((elements, _images(doc, elements)))
        doc = self._document(common, f"{TITLE}（筛查汇总）")
        self.summary(doc, models, choice, max_sections, max_site_documents)
        end = doc.element.body.sectPr
        for model, (elements, images) in zip(models.sites, bodies, strict=False):
            lay.page_break(doc)
            lay.heading(doc, 1, f"{TITLE}：{shared.site_label(model['site'])}", self.gloss(_GLOSS))
            _relink(doc, elements, images)
            for element in elements:
                end.addprevious(element)
        lay.renumber(doc)
        doc.save(folder / "screening.docx")
        return ["screening.docx", "docx"]

    def _document(self, common: dict, title: str) -> Any:
        doc = lay.new_document()
        # the header stays Chinese (as the body): it is pasted into a Chinese report
        notice = shared.DEMO_HEADER[0] if shared.is_demonstration(common) else None
        lay.set_header(doc, title, notice)
        v = common["versions"]
        rs = shared.rule_set_text(v)[0]
        lay.set_footer(doc, f"筛查工具 zoning {v.get('tool_version') or '?'} · 规则集 {rs}")
        return doc

    # -------------------------------------------------------------------------------- summary

    def summary(
        self, doc: Any, models: Any, choice: Any, max_sections: int, max_site_documents: int
    ) -> None:
        """The combined document's opening: title, notice, counts and the summary table."""
        lay.heading(doc, 1, f"{TITLE}（筛查汇总）", self.gloss("Screening summary"))
        self.notice(doc, models.common)
        n, counts, paged = models.n_sites, models.counts, choice.positions
        words = "、".join(
            f"{VERDICT_LABELS[k][0]} {counts.get(k, 0)} 个"
            for k in VERDICT_ORDER
            if counts.get(k, 0)
        )
        lay.paragraph(doc, f"本次筛查共 {n} 个场址：{words}。下表按结论从严到宽排列。")
        if choice.capped:
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
        rows = []
        by_position = {m["position"]: m for m in models.sites}
        for row in shared.summary_rows(models):
            units = _touched_units(by_position[row["position"]])
            rows.append(
                [
                    str(row["n"]),
                    row["name"] or "—",
                    row["site_id"],
                    row["verdict"]["zh"],
                    "、".join(f"{u['unit_code']} {u['name']}" for u in units) or "—",
                    row["citation"] or "—",
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
        text = shared.demonstration_notice(common)
        if text:
            lay.paragraph(doc, text[0], bold=True, color=lay.RED, shade="FFF2CC")

    # ------------------------------------------------------------------------------ site

    def site_section(self, doc: Any, model: dict, common: dict, extras: Any) -> None:
        """One site's 符合性分析 (after its heading)."""
        self.notice(doc, common)
        self.identification(doc, model)
        self.location(doc, model, extras)
        self.control_units(doc, model, common)
        self.clauses(doc, model)
        self.statutes(doc, model, common)
        self.conclusion(doc, model)
        self.versions(doc, common)
        self.limits(doc, model)

    def identification(self, doc: Any, model: dict) -> None:
        """一、项目基本情况."""
        lay.heading(doc, 2, "一、项目基本情况", self.gloss("Project"))
        site = model["site"]
        industry = shared.industry_text(model["industry"])
        attrs = {a["label_zh"]: a for a in model["attributes"]}
        nature = attrs.get("建设性质", {}).get("zh") or "未申报"
        size = " / ".join(x for x in (site.get("area"), site.get("length")) if x) or "—"
        rows = [
            ("项目名称", site.get("name") or "—"),
            ("项目编号", site.get("site_id") or "—"),
            ("行业代码与名称（GB/T 4754-2017）", industry[0] if industry else "未申报"),
            ("建设性质", nature),
            ("场址规模", size),
            ("输入坐标系", site.get("input_crs") or "—"),
        ]
        lay.kv_table(doc, rows, [3.2, 12.4])
        lay.paragraph(doc, "项目属性（筛查规则读取的申报值；“未申报”的属性不能视为已满足）：")
        attr_rows = [
            [a["label_zh"], a["zh"], shared.attribute_source(a)[0]]
            for a in model["attributes"]
            if a["label_zh"] != "建设性质" and not a["label_zh"].startswith("行业代码")
        ]
        lay.data_table(doc, ["属性", "取值", "来源"], attr_rows, [6.0, 6.0, 3.6])

    def location(self, doc: Any, model: dict, extras: Any) -> None:
        """二、项目位置: the map figure with its caption, and the corner coordinates."""
        lay.heading(doc, 2, "二、项目位置", self.gloss("Location"))
        lay.heading(doc, 3, "（一）位置图", self.gloss("Map"))
        if extras.figure is None:
            lay.paragraph(doc, extras.figure_missing[0])
        else:
            lay.picture(doc, extras.figure, lay.text_width(doc))
            note = shared.figure_note(model["site"].get("input_crs"))[0]
            sources = (extras.sources or "").rstrip("。")
            title = f"{shared.site_label(model['site'])}位置图"
            lay.caption(doc, "图", title, f"{note}{sources}。")
        lay.heading(doc, 3, "（二）拐点坐标（CGCS2000）", self.gloss("Corner coordinates"))
        corners = extras.corners
        if corners is None:
            lay.paragraph(doc, extras.corners_missing[0])
            return
        texts = corners.texts()
        lay.paragraph(doc, f"{texts['kind'][0]}；{texts['systems'][0]}。")
        lay.data_table(
            doc,
            [zh for zh, _ in shared.CORNER_HEADERS],
            shared.corner_cells(corners),
            [1.5, 3.3, 3.3, 3.5, 4.0],
        )
        if corners.n_omitted:
            lay.paragraph(doc, texts["omitted"][0])

    def control_units(self, doc: Any, model: dict, common: dict) -> None:
        """三、所在生态环境管控单元: the control-unit layer's features the site touches."""
        lay.heading(doc, 2, "三、所在生态环境管控单元", self.gloss("Environmental control units"))
        group = _group(model, "control_unit")
        if group is None:
            lay.paragraph(doc, "本次筛查没有生态环境管控单元图层，无法确定项目所在的管控单元。")
            return
        if group["status_key"] != "ok":
            why = _layer_state(group)
            lay.paragraph(doc, f"无法确定项目所在的管控单元：{why}。")
            return
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
                category = f.get("category") or ""
                rows.append(
                    [
                        f.get("unit_code") or str(f["feature_id"]),
                        f["name"] or "—",
                        UNIT_CATEGORY_LABELS.get(category, (category or "—",))[0],
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
        """四、生态环境准入清单符合性分析: the clause table, four dimensions."""
        lay.heading(
            doc, 2, "四、生态环境准入清单符合性分析", self.gloss("Clauses, four dimensions")
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
        """五、与相关法律法规的符合性: the clause rows of the named statutes, with distances."""
        lay.heading(doc, 2, "五、与相关法律法规的符合性", self.gloss("Related statutes"))
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
        """六、结论: verdict, standard wording, deciding reasons, next steps, disclaimer."""
        lay.heading(doc, 2, "六、结论", self.gloss("Conclusion"))
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
            lay.paragraph(doc, shared.boundary_warning(w, model["site"])[0])
        for b in model.get("bands") or []:
            lay.paragraph(doc, shared.band_warning(b)[0])
        lay.paragraph(doc, shared.DISCLAIMER[0], bold=True)
        if self.lang != "zh":
            lay.paragraph(doc, shared.DISCLAIMER[1], size=lay.SMALL_PT)

    def versions(self, doc: Any, common: dict) -> None:
        """七、数据版本: each layer, then the input file, rule set, as-of date, tool, time."""
        lay.heading(doc, 2, "七、数据版本", self.gloss("Data versions"))
        v = common["versions"]
        rows = [
            [
                [(layer["title"][0], None), (layer["id"], lay.SMALL_PT)],
                layer["status"][0],
                layer["vintage"][0],
                [(layer["sha256"], lay.SMALL_PT)],
            ]
            for layer in shared.layer_version_rows(v)
        ]
        lay.data_table(
            doc, ["图层", "数据状态", "版本/时相", "文件 SHA-256"], rows, [4.6, 1.8, 4.0, 5.2]
        )
        lay.paragraph(doc)
        facts = [
            (zh, [(value, lay.SMALL_PT)] if "SHA-256" in zh else value)
            for zh, _en, value in shared.version_rows(v)
        ]
        lay.kv_table(doc, facts, [4.2, 11.4])

    def limits(self, doc: Any, model: dict) -> None:
        """八、本结果不能告诉您什么 (the report's limits section)."""
        lay.heading(
            doc, 2, "八、本结果不能告诉您什么", self.gloss("What this result does not tell you")
        )
        for zh, _en in limit_items(model):
            lay.paragraph(doc, f"· {zh}", size=lay.SMALL_PT + 1)


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


def _touched_units(model: dict) -> list[dict]:
    """The control units a site model's site lies in or touches (their feature rows, with
    ``unit_code`` and ``category``)."""
    group = _group(model, "control_unit")
    if group is None:
        return []
    return [f for f in group["features"] if f["relation"] != "nearby"]


def _images(doc: Any, elements: list) -> dict[str, bytes]:
    """The images the pictures among ``elements`` show: relationship id -> bytes."""
    out = {}
    for element in elements:
        for blip in element.iter(_BLIP):
            rid = blip.get(_EMBED)
            out[rid] = doc.part.related_parts[rid].blob
    return out


def _relink(doc: Any, elements: list, images: dict[str, bytes]) -> None:
    """Point the pictures among ``elements`` (copied from another document) at images of
    ``doc``, added to it."""
    new = {rid: doc.part.get_or_add_image(io.BytesIO(blob))[0] for rid, blob in images.items()}
    for element in elements:
        for blip in element.iter(_BLIP):
            blip.set(_EMBED, new[blip.get(_EMBED)])


_BLIP = "{http://schemas.openxmlformats.org/drawingml/2006/main}blip"
_EMBED = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}embed"


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
