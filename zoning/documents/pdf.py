"""The PDF 符合性分析 of a screening: one A4 document per site (``pdf/<page>.pdf``) and one
for the run (``screening.pdf``: cover, summary table, then every site's analysis).

Laid out with fpdf2 from the page models of :func:`zoning.report.models.document_models`; no
verdict, area or distance is computed here.  Text is set in the subset of Noto Sans CJK SC
shipped in ``zoning/documents/fonts/`` (OFL), embedded and subset again in every document, so a
document needs nothing installed to open.  A character the shipped font lacks is drawn with a
CJK font found on the machine (:func:`_system_fallback`), or else as □, the document ending
with a line that lists the characters it could not draw: nothing vanishes silently.

Every page carries the demonstration notice when any layer or the rule set is demonstration,
and "第 x 页 / 共 y 页".  Maps are drawn by :func:`zoning.report.figure.site_figure` (CGCS2000 /
WGS84, never GCJ-02); corner coordinates come from :mod:`zoning.documents.corners`.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from .._optional import require
from ..labels import CLAUSE_RESULT_LABELS, VERDICT_LABELS
from ..report.format import check_lang
from ..report.models import document_models, limit_items
from . import common as shared
from .pdf_layout import Document, Fonts

__all__ = ["MAX_COMBINED_SITES", "MAX_SITE_DOCUMENTS", "write_pdf", "write_run_pdf"]

log = logging.getLogger(__name__)

#: Above this many sites, ``screening.pdf`` holds the cover and the summary table only (it
#: says so on the cover); each site still has its own document in ``pdf/``.
MAX_COMBINED_SITES = shared.MAX_COMBINED_SITES
#: At most this many site documents (as the HTML report's ``max_site_pages``): above it, only
#: the non-permitted sites, most severe first.
MAX_SITE_DOCUMENTS = shared.MAX_SITE_DOCUMENTS
#: The map figure's size, mm: the Word writer's, so that one drawing serves both documents
#: of a run (printed 180 mm wide here).
FIGURE_MM = (157.0, 106.0)

#: Common places of a CJK font on Linux, macOS and Windows: (path, collection index).
_FALLBACK_PATHS = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
    ("/System/Library/Fonts/PingFang.ttc", 0),
    ("/Library/Fonts/Arial Unicode.ttf", 0),
    ("C:/Windows/Fonts/msyh.ttc", 0),
    ("C:/Windows/Fonts/simsun.ttc", 0),
)
#: Family names of CJK fonts matplotlib may know.
_FALLBACK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
    "Microsoft YaHei",
    "SimHei",
    "SimSun",
    "PingFang SC",
    "Arial Unicode MS",
)


@functools.lru_cache(maxsize=1)
def _system_fallback() -> tuple[str, int] | None:
    """A CJK font on this machine to draw what the shipped font lacks: ``(path, index in a
    collection)``, or None.  Looked up in matplotlib's font list, then in common paths."""
    try:
        from matplotlib import font_manager

        for entry in font_manager.fontManager.ttflist:
            if entry.name in _FALLBACK_FAMILIES and Path(entry.fname).is_file():
                return entry.fname, _collection_index(entry.fname, entry.name)
    except Exception:  # no matplotlib, or a broken font cache: try the common paths
        log.debug("matplotlib's font list is not available", exc_info=True)
    for path, index in _FALLBACK_PATHS:
        if Path(path).is_file():
            return path, index
    return None


def _collection_index(path: str, family: str) -> int:
    """The index of ``family`` (its SC member for Noto CJK) in the font collection ``path``."""
    if not path.lower().endswith((".ttc", ".otc")):
        return 0
    from fontTools.ttLib import TTCollection

    with TTCollection(path, lazy=True) as ttc:
        names = [f["name"].getDebugName(1) or "" for f in ttc.fonts]
    for want in ("Noto Sans CJK SC", family):
        if want in names:
            return names.index(want)
    return 0


def _prepare(result: Any, positions: list[int], lang: str) -> dict:
    """What every document of the run draws from: the models and each site's figure and
    corners (:func:`zoning.documents.common.site_extras`)."""
    models = document_models(result, positions)
    extras = {
        m["position"]: shared.site_extras(
            result, m["position"], width_mm=FIGURE_MM[0], height_mm=FIGURE_MM[1]
        )
        for m in models.sites
    }
    return {"models": models, "extras": extras, "lang": lang}


def _fonts() -> Fonts:
    """The shipped fonts and the machine's fallback CJK font."""
    return Fonts.shipped(_system_fallback())


def write_pdf(result: Any, folder: Path, *, lang: str = "both") -> list[str]:
    """Write the PDF documents of ``result`` into ``folder``.

    Parameters
    ----------
    result : ScreeningResult
    folder : Path
        An existing folder (the output transaction's temporary folder).
    lang : {"both", "zh", "en"}
        Language of the headings and labels (``both``: Chinese and English headings, the
        messages in Chinese).

    Returns
    -------
    list of str
        ``["screening.pdf", "pdf"]``: the run's document and the folder of site documents
        (one per site, named as the report's site pages, most severe first; above
        :data:`MAX_SITE_DOCUMENTS` sites only the non-permitted ones).

    Notes
    -----
    Each site is laid out once: its document in ``pdf/`` is also, page for page, its part of
    ``screening.pdf`` (cover and summary laid out by fpdf2, the sites' documents appended
    with pypdf; see :func:`_run_pdf` for the page numbers).  Cost for the 21 example
    projects: 13.8 s on a shared 2-core machine (load average about 1; before, laying each
    site out twice: 28.8 s), 5.7 MB for ``screening.pdf`` (each site keeps its font subset)
    and 5.6 MB for ``pdf/``; ``benchmarks/documents.py`` measures it.
    """
    require("fpdf")
    check_lang(lang)
    folder = Path(folder)
    choice = shared.choose_sites(result)
    data = _prepare(result, choice.positions, lang)
    fonts = _fonts()
    (folder / "pdf").mkdir()
    keep = len(data["models"].sites) <= MAX_COMBINED_SITES
    parts = []
    for m in data["models"].sites:
        blob, n_pages = _site_pdf(m, data, fonts)
        (folder / "pdf" / choice.file_name(m["position"], ".pdf")).write_bytes(blob)
        if keep:
            parts.append((m["site"]["site_id"], blob, n_pages))
    (folder / "screening.pdf").write_bytes(_run_pdf(data, fonts, choice.capped, parts))
    return ["screening.pdf", "pdf"]


def write_run_pdf(result: Any, path: str | Path, *, lang: str = "both") -> Path:
    """Write the run's document (cover, summary, each site's analysis) to ``path``.

    Parameters
    ----------
    result : ScreeningResult
    path : path
        The PDF file to write (its folder is created if needed); replaced only once the new
        document is complete.
    lang : {"both", "zh", "en"}

    Returns
    -------
    Path
        ``path``.
    """
    require("fpdf")
    check_lang(lang)
    path = Path(path)
    choice = shared.choose_sites(result)
    capped = choice.capped
    data = _prepare(result, choice.positions, lang)
    fonts = _fonts()
    parts = []
    if len(data["models"].sites) <= MAX_COMBINED_SITES:
        for m in data["models"].sites:
            parts.append((m["site"]["site_id"], *_site_pdf(m, data, fonts)))
    blob = _run_pdf(data, fonts, capped, parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".zoning-", suffix=".pdf", dir=path.parent)
    os.close(fd)
    try:
        Path(tmp).write_bytes(blob)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _site_pdf(m: dict, data: dict, fonts: Fonts) -> tuple[bytes, int]:
    """A site's document: its bytes and its number of pages."""
    site_id = m["site"]["site_id"]
    doc = Document(fonts, data["models"].common, data["lang"], title=site_id, label=site_id)
    _site_document(doc, m, data)
    doc.finish()
    return bytes(doc.output()), doc.page_no()


def _front(data: dict, fonts: Fonts, capped: bool, n_sites_pages: int | None) -> Document:
    """The cover and summary of the run's document (``n_sites_pages``: the pages of the
    sites' documents that follow, None when only the summary is written)."""
    models = data["models"]
    summary_only = n_sites_pages is None
    total = None if summary_only else 1 + n_sites_pages
    for _ in range(3):  # until the front's page count is the one its footers assumed
        doc = Document(fonts, models.common, data["lang"], title="screening", total=total)
        _cover(doc, models, summary_only, capped, total)
        _summary(doc, models)
        doc.finish()
        if summary_only or total == doc.page_no() + n_sites_pages:
            break
        total = doc.page_no() + n_sites_pages
    return doc


def _run_pdf(data: dict, fonts: Fonts, capped: bool, parts: list) -> bytes:
    """The run's document: the cover and summary, then each site's document as it is.

    Page numbers: the cover and summary say "第 x 页 / 共 N 页" of the whole document; each
    site's pages keep their own "第 x 页 / 共 y 页" with the site's id at the left of the
    footer (the cover says so), and the PDF's page labels read the same (``1`` ... for the
    front, ``<site id>-1`` ... for a site); each site is an outline entry.
    """
    if not parts:
        return bytes(_front(data, fonts, capped, None).output())
    front = _front(data, fonts, capped, sum(p[2] for p in parts))
    return _combine(bytes(front.output()), front.page_no(), parts)


def _combine(front: bytes, n_front: int, parts: list) -> bytes:
    """``front`` followed by every site's document (pypdf), with page labels and outline."""
    require("pypdf")
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    reader = PdfReader(io.BytesIO(front))
    writer.append(reader)
    if reader.metadata:
        writer.add_metadata(dict(reader.metadata))
    writer.set_page_label(0, n_front - 1, style="/D", start=1)
    at = n_front
    for site_id, blob, n_pages in parts:
        writer.append(PdfReader(io.BytesIO(blob)), outline_item=site_id)
        writer.set_page_label(at, at + n_pages - 1, style="/D", prefix=f"{site_id}-", start=1)
        at += n_pages
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def _cover(
    doc: Document, models: Any, summary_only: bool, capped: bool, total: int | None = None
) -> None:
    """The cover of the run's document."""
    common = models.common
    v = common["versions"]
    doc.add_page()
    doc.title_block(
        doc.tr("生态环境分区管控符合性分析（筛查）", "Ecological zoning compliance screening"),
        doc.tr("本次筛查全部场址", "every site of this screening"),
    )
    counts = "；".join(
        f"{VERDICT_LABELS[k][0]} {n}" if doc.lang != "en" else f"{VERDICT_LABELS[k][1]} {n}"
        for k, n in models.counts.items()
    )
    doc.kv_table(
        [
            (doc.tr("场址数", "sites"), f"{models.n_sites:,}"),
            (doc.tr("结论分布", "verdicts"), counts),
            (doc.tr("输入文件", "input file"), v["input_name"] or "—"),
            ("SHA-256", v["input_sha256"] or "—"),
            (doc.tr("规则集", "rule set"), doc.msg(*shared.rule_set_text(v))),
            (doc.tr("适用日期", "as of"), v["as_of"] or "—"),
            (doc.tr("生成时间", "created"), v["created_local"] or "—"),
        ]
    )
    if total is not None:
        doc.note(
            f"本文件共 {total:,} 页。封面与汇总按全文编页；"
            "其后每个场址的分析与该场址的单独文件逐页相同，页码自成一组（页脚左侧为场址编号）。",
            f"This document has {total:,} pages. The cover and the summary are numbered in "
            "the whole document; then each site's analysis is, page for page, the site's own "
            "document, numbered on its own (the site's id at the left of the footer).",
        )
    if summary_only:
        doc.note(
            f"本文件仅含汇总表：场址 {len(models.sites):,} 个，超过合并文件 {MAX_COMBINED_SITES:,} "
            "个场址的上限；各场址的完整分析见 pdf/ 文件夹中的单独文件。",
            f"This document holds the summary table only: {len(models.sites):,} sites exceed "
            f"the limit of {MAX_COMBINED_SITES:,} sites in one document; each site's analysis "
            "is in its own file in the pdf/ folder.",
        )
    if capped:
        doc.note(
            f"场址数量超过 {MAX_SITE_DOCUMENTS:,} 个：仅为有问题的场址（“未发现不符合项”以外）"
            "按严重程度写出文件；完整结果见 sites.csv 与 JSON 输出。",
            f"More than {MAX_SITE_DOCUMENTS:,} sites: documents were written only for the "
            "non-permitted sites, most severe first; the full results are in sites.csv and "
            "the JSON output.",
        )


def _summary(doc: Document, models: Any) -> None:
    """The summary table of the run's document: one row per site, most severe first."""
    doc.heading(doc.tr("筛查汇总", "Summary"), level=1)
    rows = [
        [
            str(r["n"]),
            r["site_id"],
            r["name"] or "—",
            (doc.word(r["verdict"]), r["verdict"]["key"]),
            doc.msg(*r["reason"]) or "—",
            r["citation"] or "—",
            r["nearest"],
        ]
        for r in shared.summary_rows(models)
    ]
    doc.table(
        [
            "#",
            doc.tr("编号", "id"),
            doc.tr("项目名称", "name"),
            doc.tr("结论", "verdict"),
            doc.tr("主要原因", "main reason"),
            doc.tr("依据", "citation"),
            doc.tr("最近约束", "nearest"),
        ],
        rows,
        widths=(8, 26, 32, 18, 54, 26, 16),
        size=7,
    )


def _site_document(doc: Document, m: dict, data: dict) -> None:
    """A site's analysis: identification, conclusion, clauses, constraints, map, corners,
    data versions, limits, disclaimer and sign-off."""
    s = m["site"]
    doc.add_page()
    doc.title_block(
        doc.tr("生态环境分区管控符合性分析（筛查）", "Ecological zoning compliance screening"),
        f"{s['site_id']}" + (f" · {s['name']}" if s["name"] else ""),
    )
    _identification(doc, m)
    _conclusion(doc, m)
    _clauses(doc, m)
    _constraints(doc, m)
    extras = data["extras"][m["position"]]
    _figure(doc, m, extras)
    _corners(doc, extras)
    _versions(doc, m)
    _limits(doc, m)
    _sign_off(doc)


def _identification(doc: Document, m: dict) -> None:
    """一、项目基本情况: name, id, industry, nature and the declared attributes."""
    s = m["site"]
    doc.heading(doc.tr("一、项目基本情况", "1. The project"), level=1)
    industry = shared.industry_text(m["industry"]) or shared.ATTRIBUTE_SOURCES["undeclared"]
    rows = [
        (doc.tr("项目名称", "name"), s["name"] or "—", ""),
        (doc.tr("项目编号", "id"), s["site_id"], ""),
        (
            doc.tr("行业代码与名称（GB/T 4754-2017）", "industry (GB/T 4754-2017)"),
            doc.msg(*industry),
            "",
        ),
    ]
    for a in m["attributes"]:
        if a["label_zh"].startswith("行业代码"):
            continue
        src = doc.msg(*shared.attribute_source(a))
        rows.append((doc.tr(a["label_zh"], a["label_en"]), doc.msg(a["zh"], a["en"]), src))
    size = s["area"] or s["length"] or "—"
    rows.append((doc.tr("场址面积 / 长度", "area / length"), size, ""))
    crs = s["input_crs"] + (
        f"（{doc.tr('转换位移', 'shift')} {s['datum_shift']}）" if s["datum_shift"] else ""
    )
    rows.append((doc.tr("输入坐标系", "input CRS"), crs, ""))
    doc.table(
        [doc.tr("项目", "item"), doc.tr("内容", "value"), doc.tr("来源", "source")],
        rows,
        widths=(58, 82, 40),
        size=8,
    )


def _conclusion(doc: Document, m: dict) -> None:
    """二、筛查结论: the verdict word, the conclusion in the standard wording, the reasons."""
    s = m["site"]
    doc.heading(doc.tr("二、筛查结论", "2. Conclusion"), level=1)
    doc.verdict_line(doc.tr("结论", "Verdict"), s["verdict"], s["boundary_sensitive"])
    conc = m.get("conclusion")
    if conc:
        doc.paragraph(doc.msg(conc["zh"], conc["en"]), size=10, bold=True)
    if m["reasons"]:
        doc.heading(doc.tr("决定性原因与依据", "Deciding reasons and citations"), level=2)
        rows = []
        for r in m["reasons"]:
            cite = (r["cite"] or "—") + (f"\n{r['doc_title']}" if r["doc_title"] else "")
            rows.append(
                [
                    (doc.word(r["verdict"]), r["verdict"]["key"]),
                    f"{r['rule_id'] or '—'}\n{doc.msg(r['layer_zh'], r['layer_en'])}",
                    cite,
                    doc.msg(r["message_zh"], r["message_en"]),
                ]
            )
        doc.table(
            [
                doc.tr("结论", "verdict"),
                doc.tr("规则 / 约束", "rule / constraint"),
                doc.tr("依据", "citation"),
                doc.tr("说明", "message"),
            ],
            rows,
            widths=(18, 40, 42, 80),
            size=7.5,
        )
    else:
        doc.paragraph(
            doc.msg(
                "没有规则被触发：在已筛查的图层中，本场址未发现不符合项（限于已编码的规则与图层）。",
                "No rule fired: the site is permitted on the screened layers.",
            )
        )
    if m["next_steps"]:
        doc.heading(doc.tr("下一步", "Next steps"), level=2)
        for step in m["next_steps"]:
            doc.bullet(doc.msg(step["zh"], step["en"]))
        if m.get("steps_note"):
            doc.paragraph(doc.msg(*m["steps_note"]), size=8)


_RESULT_STYLE = {"violates": "prohibited", "needs_review": "restricted", "undecided": "unknown"}


def _clauses(doc: Document, m: dict) -> None:
    """三、符合性分析（逐条）: every clause of the four dimensions with its result."""
    doc.heading(doc.tr("三、符合性分析（逐条）", "3. Compliance, clause by clause"), level=1)
    if not m["clause_groups"]:
        doc.paragraph(doc.msg("没有适用的条款。", "No clause applies."))
        return
    doc.paragraph(
        doc.msg(
            "列出适用于本场址所在图层与管控单元的每一条规则（不只是触发的规则），按四个维度分组；"
            "结果为"
            + "、".join(CLAUSE_RESULT_LABELS[k][0] for k in CLAUSE_RESULT_LABELS)
            + "之一。",
            "Every clause that applies to the site's layers and control units (not only those "
            "that fire), grouped by the four dimensions.",
        ),
        size=8,
    )
    for g in m["clause_groups"]:
        doc.heading(doc.tr(g["zh"], g["en"]), level=2)
        rows = []
        for c in g["rows"]:
            clause = (
                c["clause"] or "—"
            ) + f"\n{c['rule_id']} · {doc.tr(c['scope_zh'], c['scope_en'])}"
            cite = (c["citation"] or "—") + (f"\n“{c['quote']}”" if c["quote"] else "")
            word = doc.tr(c["result_zh"], c["result_en"])
            rows.append(
                [
                    clause,
                    cite,
                    c["reads"] or "—",
                    (word, _RESULT_STYLE.get(c["result"])),
                    doc.msg(c["explanation_zh"], c["explanation_en"]) or "—",
                ]
            )
        doc.table(
            [
                doc.tr("条款", "clause"),
                doc.tr("依据", "citation"),
                doc.tr("项目情况", "facts"),
                doc.tr("结果", "result"),
                doc.tr("说明", "explanation"),
            ],
            rows,
            widths=(52, 46, 22, 16, 44),
            size=7,
        )


def _constraints(doc: Document, m: dict) -> None:
    """四、约束与距离: the constraint table and the boundary-sensitive warnings."""
    doc.heading(doc.tr("四、逐项约束与距离", "4. Constraints and distances"), level=1)
    rows = []
    for g in m["constraints"]:
        title = doc.tr(g["title_zh"], g["title_en"]) + (
            f"\n{g['layer_id']}" if g["layer_id"] else ""
        )
        rows.append(
            [
                (title, "bold"),
                doc.tr(g["result_zh"], g["result_en"]),
                g["overlap"],
                g["share_of_site"],
                g["length"],
                g["distance"],
                g["ring"],
                doc.tr("是", "yes") if g["boundary_sensitive"] else "—",
            ]
        )
        for f in g["features"]:
            rel = {
                "intersects": ("相交", "intersects"),
                "nearby": ("邻近", "nearby"),
                "touches": ("相接（未占用）", "touches"),
            }.get(f["relation"] or "")
            rows.append(
                [
                    "  · "
                    + f["name"]
                    + (
                        f" ({f['feature_id']})"
                        if f["feature_id"] and f["feature_id"] != f["name"]
                        else ""
                    ),
                    doc.tr(*rel) if rel else (f["relation"] or "—"),
                    f["overlap"],
                    f["share_of_site"],
                    f["length"],
                    f["distance"],
                    f["ring"],
                    doc.tr("是", "yes") if f["boundary_sensitive"] else "—",
                ]
            )
    if rows:
        doc.table(
            [
                doc.tr("约束图层 / 要素", "constraint / feature"),
                doc.tr("结果", "result"),
                doc.tr("重叠面积", "overlap"),
                doc.tr("占场址", "share"),
                doc.tr("重叠长度", "length"),
                doc.tr("距离", "distance"),
                doc.tr("缓冲圈", "ring"),
                doc.tr("边界敏感", "boundary"),
            ],
            rows,
            widths=(56, 20, 26, 16, 16, 16, 16, 14),
            size=7,
        )
    else:
        doc.paragraph(doc.msg("没有图层结果。", "No layer results for this site."))
    for b in m["bands"]:
        doc.warning(*shared.band_warning(b))
    for w in m["warnings"]:
        doc.warning(*shared.boundary_warning(w, m["site"]))


def _figure(doc: Document, m: dict, extras: shared.SiteExtras) -> None:
    """五、位置图: the map figure and what it is drawn in."""
    doc.heading(doc.tr("五、位置图", "5. Map"), level=1)
    if extras.figure is None:
        doc.warning(
            *(extras.figure_missing or ("未能绘制位置图。", "The map figure could not be drawn."))
        )
        return
    doc.figure(extras.figure, width=180)
    doc.paragraph(doc.msg(*shared.figure_note(m["site"]["input_crs"])), size=8)


def _corners(doc: Document, extras: shared.SiteExtras) -> None:
    """六、拐点坐标: the vertices in EPSG:4490 and in the site's Gauss-Krüger zone."""
    doc.heading(doc.tr("六、拐点坐标（CGCS2000）", "6. Corner coordinates (CGCS2000)"), level=1)
    corners = extras.corners
    if corners is None:
        doc.warning(*(extras.corners_missing or ("无法给出拐点坐标。", "No corner coordinates.")))
        return
    texts = corners.texts()
    doc.paragraph(doc.msg(*texts["kind"]) + "；" + doc.msg(*texts["systems"]) + "。", size=8)
    doc.table(
        [doc.tr(*h) for h in shared.CORNER_HEADERS],
        shared.corner_cells(corners),
        widths=(18, 38, 38, 40, 46),
        size=8,
    )
    if corners.n_omitted:
        doc.paragraph(doc.msg(*texts["omitted"]), size=8)


def _versions(doc: Document, m: dict) -> None:
    """七、数据版本: input file and hash, rule set, as-of date, tool, time, each layer."""
    v = m["versions"]
    doc.heading(doc.tr("七、数据版本", "7. Data versions"), level=1)
    rule_set = doc.msg(*shared.rule_set_text(v))
    doc.kv_table(
        [
            (doc.tr(zh, en), rule_set if en == "rule set" else value)
            for zh, en, value in shared.version_rows(v)
        ]
    )
    rows = [
        [
            doc.tr(*layer["title"]) + f"\n{layer['id']}",
            doc.tr(*layer["status"]),
            doc.msg(*layer["vintage"]),
            layer["sha256"],
        ]
        for layer in shared.layer_version_rows(v)
    ]
    doc.table(
        [
            doc.tr("图层", "layer"),
            doc.tr("数据性质", "data"),
            doc.tr("数据年份", "vintage"),
            doc.tr("文件 SHA-256", "file SHA-256"),
        ],
        rows,
        widths=(58, 20, 34, 68),
        size=7,
    )


def _limits(doc: Document, m: dict) -> None:
    """八、本结果不能告诉您什么."""
    doc.heading(
        doc.tr("八、本结果不能告诉您什么", "8. What this result does not tell you"), level=1
    )
    for item in limit_items(m):
        doc.bullet(doc.msg(*item), size=8)


def _sign_off(doc: Document) -> None:
    """The disclaimer and the sign-off block."""
    doc.heading(doc.tr("声明与签署", "Statement and sign-off"), level=1)
    doc.paragraph(doc.msg(*shared.DISCLAIMER), size=9, bold=True)
    doc.sign_off(
        [doc.tr("筛查人", "screened by"), doc.tr("复核人", "reviewed by"), doc.tr("日期", "date")]
    )
