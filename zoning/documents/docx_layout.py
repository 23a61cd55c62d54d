"""The Word building blocks of the 符合性分析 section: an A4 document whose styles and runs all
name their East Asian font, headings, key-value and data tables with a repeated header row,
page headers and footers.

Chinese reports are typeset in 宋体 (body) and 黑体 (headings) with Times New Roman for Latin
text.  A run that names only a Latin font, or a style that names a *theme* font, takes
whatever the reader's Word or WPS picks when the section is pasted into a 报告表; so every
style here and every run written through :func:`add_run` names all four faces (``w:ascii``,
``w:hAnsi``, ``w:eastAsia``, ``w:cs``) and no theme font.  Nothing here knows about
screenings: :mod:`zoning.documents.word` lays out the page models with these functions.
"""

from __future__ import annotations

import copy
import functools
import io
import re
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import nsmap, qn
from docx.oxml.parser import parse_xml
from docx.shared import Cm, Pt, RGBColor
from docx.text.run import Run

from ..report.format import plain_text

__all__ = [
    "BODY",
    "HEAD",
    "LATIN",
    "add_run",
    "caption",
    "data_table",
    "heading",
    "kv_table",
    "new_document",
    "page_break",
    "paragraph",
    "picture",
    "renumber",
    "set_footer",
    "set_header",
    "text_width",
]

#: Body text (East Asian face).
BODY = "宋体"
#: Headings (East Asian face).
HEAD = "黑体"
#: Latin text, both faces.
LATIN = "Times New Roman"
#: Sizes: 五号 10.5 pt body, 小五 9 pt tables, 小三 15 pt / 四号 14 pt / 小四 12 pt headings.
BODY_PT, TABLE_PT, SMALL_PT = 10.5, 9.0, 8.0
HEADING_PT = {1: 15.0, 2: 14.0, 3: 12.0}
#: Dark red of a failing result and of the demonstration notice.
RED = RGBColor(0xA5, 0x00, 0x00)
_BLACK = RGBColor(0, 0, 0)
_THEME_ATTRS = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")


def _set_fonts(rpr: Any, east: str) -> None:
    """Name the four faces on ``rpr`` (a ``w:rPr``) and drop any theme font."""
    fonts = rpr.get_or_add_rFonts()
    for attr in _THEME_ATTRS:
        fonts.attrib.pop(qn(attr), None)
    fonts.set(qn("w:ascii"), LATIN)
    fonts.set(qn("w:hAnsi"), LATIN)
    fonts.set(qn("w:cs"), LATIN)
    fonts.set(qn("w:eastAsia"), east)


def _style(doc: Any, name: str, east: str, size: float, *, bold: bool | None = None) -> None:
    style = doc.styles[name]
    font = style.font
    font.name = LATIN
    font.size = Pt(size)
    font.color.rgb = _BLACK
    if bold is not None:
        font.bold = bold
    _set_fonts(style.element.get_or_add_rPr(), east)


def new_document() -> Any:
    """An empty A4 portrait document with the report styles.

    Returns
    -------
    docx.document.Document
        Styles Normal (宋体 10.5 pt), Heading 1-3 (黑体, black), Table Grid (宋体 9 pt),
        Header and Footer (宋体 8 pt) all name their East Asian font; the document
        defaults too; margins 2.5 cm (left 2.8 cm).
    """
    doc = Document()
    styles = doc.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    if defaults is not None:
        rpr = defaults.find(qn("w:rPrDefault") + "/" + qn("w:rPr"))
        if rpr is not None:
            _set_fonts(rpr, BODY)
            lang = rpr.find(qn("w:lang"))
            if lang is None:
                lang = OxmlElement("w:lang")
                rpr.append(lang)
            lang.set(qn("w:eastAsia"), "zh-CN")
    _style(doc, "Normal", BODY, BODY_PT)
    doc.styles["Normal"].paragraph_format.space_after = Pt(3)
    for level, size in HEADING_PT.items():
        _style(doc, f"Heading {level}", HEAD, size, bold=level > 1)
        fmt = doc.styles[f"Heading {level}"].paragraph_format
        fmt.space_before, fmt.space_after = Pt(12 if level == 1 else 8), Pt(6)
        fmt.keep_with_next = True
    _style(doc, "Table Grid", BODY, TABLE_PT)
    for name in ("Header", "Footer"):
        _style(doc, name, BODY, SMALL_PT)
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.top_margin = section.bottom_margin = Cm(2.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.5)
    section.header_distance = section.footer_distance = Cm(1.5)
    return doc


def _rpr(east: str, size: float | None, bold: bool, color: RGBColor | None) -> Any:
    """The ``w:rPr`` of a run (built once per combination, copied into each run)."""
    key = (east, size, bold, str(color))
    if key not in _RPR:
        run = Run(OxmlElement("w:r"), None)
        _set_fonts(run._r.get_or_add_rPr(), east)
        if bold:
            run.bold = True
        if color is not None:
            run.font.color.rgb = color
        if size is not None:
            run.font.size = Pt(size)
        _RPR[key] = run._r.rPr
    return copy.deepcopy(_RPR[key])


_RPR: dict[tuple, Any] = {}
#: What XML cannot hold (lone surrogates, U+FFFE/U+FFFF) besides the control characters.
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")


def _text(value: Any) -> str:
    """Text a run can hold: one line, control and bidirectional-override characters and what
    XML cannot hold replaced by ``"?"`` (a hostile name stays readable, never breaks the file)."""
    text = "" if value is None else str(value)
    core = _NOT_XML.sub("?", plain_text(text))
    if not core:
        return core
    lead = " " if text[:1].isspace() else ""
    trail = " " if text[-1:].isspace() else ""
    return f"{lead}{core}{trail}"


_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"


def _r(
    text: str,
    east: str = BODY,
    size: float | None = None,
    bold: bool = False,
    color: RGBColor | None = None,
) -> Any:
    """A ``w:r`` element holding ``text`` (line breaks and tabs become spaces)."""
    r = OxmlElement("w:r")
    r.append(_rpr(east, size, bold, color))
    t = OxmlElement("w:t")
    t.text = _text(text)
    t.set(_XML_SPACE, "preserve")
    r.append(t)
    return r


def add_run(
    paragraph: Any,
    text: str,
    *,
    east: str = BODY,
    size: float | None = None,
    bold: bool = False,
    color: RGBColor | None = None,
) -> Any:
    """Append a run whose four faces are named.

    Parameters
    ----------
    paragraph : docx.text.paragraph.Paragraph
    text : str
    east : str
        The East Asian face (:data:`BODY` or :data:`HEAD`).
    size : float, optional
        Points; default the paragraph style's.
    bold : bool
    color : RGBColor, optional

    Returns
    -------
    docx.text.run.Run
    """
    r = _r(text, east, size, bold, color)
    paragraph._p.append(r)
    return Run(r, paragraph)


def paragraph(
    container: Any,
    text: str = "",
    *,
    bold: bool = False,
    size: float | None = None,
    color: RGBColor | None = None,
    shade: str | None = None,
) -> Any:
    """A Normal paragraph holding one run of ``text``.

    Parameters
    ----------
    container : Document, cell, header or footer
    text : str
    bold, size, color
        As :func:`add_run`.
    shade : str, optional
        Background fill (hex ``"FFF2CC"``) of the whole paragraph, with a border: a notice.

    Returns
    -------
    docx.text.paragraph.Paragraph
    """
    para = container.add_paragraph()
    if text:
        add_run(para, text, bold=bold, size=size, color=color)
    if shade:
        ppr = para._p.get_or_add_pPr()
        borders = OxmlElement("w:pBdr")
        for side in ("top", "left", "bottom", "right"):
            edge = OxmlElement(f"w:{side}")
            edge.set(qn("w:val"), "single")
            edge.set(qn("w:sz"), "6")
            edge.set(qn("w:space"), "4")
            edge.set(qn("w:color"), "A50000")
            borders.append(edge)
        ppr.append(borders)
        ppr.append(_shading(shade))
    return para


def heading(doc: Any, level: int, zh: str, en: str | None = None) -> Any:
    """A Heading ``level`` paragraph: the Chinese words in 黑体, an English gloss after them.

    Parameters
    ----------
    doc : Document
    level : {1, 2, 3}
    zh : str
    en : str, optional
        A short gloss in a smaller size (omitted for Chinese-only documents).

    Returns
    -------
    docx.text.paragraph.Paragraph
    """
    para = doc.add_paragraph()
    para._p.get_or_add_pPr().style = f"Heading{level}"  # the style id (a lookup by name is slow)
    add_run(para, zh, east=HEAD, bold=True)
    if en:
        add_run(para, f"  {en}", east=HEAD, size=HEADING_PT[level] - 3)
    return para


def page_break(doc: Any) -> None:
    """Start the next content on a new page.

    Parameters
    ----------
    doc : Document
    """
    para = doc.add_paragraph()
    add_run(para, "").add_break(WD_BREAK.PAGE)


def _shading(fill: str) -> Any:
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    return shd


#: Paragraph properties of a table cell: no spacing, single lines.
_CELL_PPR = '<w:pPr><w:spacing w:before="0" w:after="0" w:line="240" w:lineRule="auto"/></w:pPr>'


@functools.cache
def _rpr_xml(east: str, size: float | None, bold: bool, color: str | None) -> str:
    """The ``w:rPr`` of a table run as XML text (schema order: fonts, bold, colour, size)."""
    fonts = f'<w:rFonts w:ascii="{LATIN}" w:hAnsi="{LATIN}" w:eastAsia="{east}" w:cs="{LATIN}"/>'
    b = "<w:b/><w:bCs/>" if bold else ""
    c = f'<w:color w:val="{color}"/>' if color else ""
    sz = f'<w:sz w:val="{round(size * 2)}"/><w:szCs w:val="{round(size * 2)}"/>' if size else ""
    return f"<w:rPr>{fonts}{b}{c}{sz}</w:rPr>"


def _tc(width: int, value: Any, *, bold: bool, color: RGBColor | None, **props: Any) -> str:
    """A ``w:tc`` of ``width`` twips holding ``value`` (a string, or a list of ``(text,
    size)`` paragraphs, size None: the table size), as XML text."""
    pr = f'<w:tcW w:w="{width}" w:type="dxa"/>'
    if props.get("vmerge") is not None:
        pr += f'<w:vMerge w:val="{props["vmerge"]}"/>' if props["vmerge"] else "<w:vMerge/>"
    if props.get("fill"):
        pr += f'<w:shd w:val="clear" w:color="auto" w:fill="{props["fill"]}"/>'
    parts = value if isinstance(value, list) else [(value, None)]
    paras = []
    for text, size in parts or [("", None)]:
        run = ""
        if text not in (None, ""):
            rpr = _rpr_xml(BODY, size or TABLE_PT, bold, str(color) if color else None)
            run = f'<w:r>{rpr}<w:t xml:space="preserve">{escape(_text(text))}</w:t></w:r>'
        paras.append(f"<w:p>{_CELL_PPR}{run}</w:p>")
    return f"<w:tc><w:tcPr>{pr}</w:tcPr>{''.join(paras)}</w:tc>"


def _table(doc: Any, widths: Sequence[float], rows: list[str]) -> Any:
    """A grid table of fixed column widths holding ``rows`` (``w:tr`` XML text), parsed once
    and appended to the body."""
    twips = [int(Cm(w).twips) for w in widths]
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in twips)
    xml = (
        f'<w:tbl xmlns:w="{nsmap["w"]}"><w:tblPr><w:tblStyle w:val="TableGrid"/>'
        f'<w:tblW w:w="{sum(twips)}" w:type="dxa"/><w:jc w:val="center"/>'
        '<w:tblLayout w:type="fixed"/><w:tblLook w:val="04A0"/></w:tblPr>'
        f"<w:tblGrid>{grid}</w:tblGrid>{''.join(rows)}</w:tbl>"
    )
    tbl = parse_xml(xml)
    body = doc.element.body
    body.sectPr.addprevious(tbl) if body.sectPr is not None else body.append(tbl)
    return tbl


def data_table(
    doc: Any,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    widths: Sequence[float],
    *,
    emphasis: dict[int, RGBColor | None] | None = None,
    merge_first: bool = False,
) -> Any:
    """A grid table: a shaded header row repeated on every page, then ``rows``.

    Parameters
    ----------
    doc : Document
    headers : sequence of str
    rows : sequence of sequences
        One value per column: a string, or a list of ``(text, size)`` paragraphs.
    widths : sequence of float
        Column widths in cm.
    emphasis : dict, optional
        Row index -> colour: the row's last cell is written bold in that colour (None: bold
        black).
    merge_first : bool
        Merge the first column's cells down runs of equal values (a grouped table).

    Returns
    -------
    lxml element
        The ``w:tbl``.
    """
    twips = [int(Cm(w).twips) for w in widths]
    head = "".join(
        _tc(w, t, bold=True, color=None, fill="D9D9D9") for w, t in zip(twips, headers, strict=True)
    )
    xml = [f'<w:tr><w:trPr><w:tblHeader w:val="true"/></w:trPr>{head}</w:tr>']
    emphasis = emphasis or {}
    last = len(twips) - 1
    for i, values in enumerate(rows):
        cells = []
        for j, (w, value) in enumerate(zip(twips, values, strict=True)):
            vmerge = None
            if merge_first and j == 0:
                same_before = i > 0 and rows[i - 1][0] == value
                same_after = i + 1 < len(rows) and rows[i + 1][0] == value
                vmerge = "" if same_before else ("restart" if same_after else None)
                if same_before:
                    value = ""
            strong = j == last and i in emphasis
            colour = emphasis.get(i) if strong else None
            cells.append(_tc(w, value, bold=strong, color=colour, vmerge=vmerge))
        xml.append(f"<w:tr>{''.join(cells)}</w:tr>")
    return _table(doc, widths, xml)


def kv_table(doc: Any, rows: Sequence[tuple[str, Any]], widths: Sequence[float]) -> Any:
    """A two-column table of labels (shaded, bold) and values, without a header row.

    Parameters
    ----------
    doc : Document
    rows : sequence of (label, value)
        Values as :func:`data_table` takes them.
    widths : (float, float)
        Column widths in cm.

    Returns
    -------
    lxml element
        The ``w:tbl``.
    """
    a, b = (int(Cm(w).twips) for w in widths)
    xml = [
        "<w:tr>"
        + _tc(a, label, bold=True, color=None, fill="F2F2F2")
        + _tc(b, value, bold=False, color=None)
        + "</w:tr>"
        for label, value in rows
    ]
    return _table(doc, widths, xml)


def _field(paragraph: Any, instr: str, placeholder: str) -> None:
    """A simple field (PAGE, NUMPAGES) whose result run names its fonts."""
    fld = OxmlElement("w:fldSimple")
    fld.set(qn("w:instr"), instr)
    paragraph._p.append(fld)
    run = paragraph.add_run(placeholder)
    _set_fonts(run._r.get_or_add_rPr(), BODY)
    fld.append(run._r)


def set_header(doc: Any, title: str, notice: str | None) -> None:
    """The page header of every page: ``title``, and the demonstration notice in red.

    Parameters
    ----------
    doc : Document
    title : str
    notice : str, optional
    """
    for section in doc.sections:
        header = section.header
        para = header.paragraphs[0]
        add_run(para, title)
        if notice:
            add_run(header.add_paragraph(), notice, bold=True, color=RED)


def set_footer(doc: Any, text: str) -> None:
    """The page footer: 第 N 页 / 共 M 页 and ``text``.

    Parameters
    ----------
    doc : Document
    text : str
    """
    for section in doc.sections:
        para = section.footer.paragraphs[0]
        add_run(para, "第 ")
        _field(para, "PAGE", "1")
        add_run(para, " 页 / 共 ")
        _field(para, "NUMPAGES", "1")
        add_run(para, f" 页    {text}")


def text_width(doc: Any) -> Any:
    """The width between the margins of the document's first section.

    Parameters
    ----------
    doc : Document

    Returns
    -------
    docx.shared.Length
    """
    section = doc.sections[0]
    return section.page_width - section.left_margin - section.right_margin


def picture(doc: Any, png: bytes, width: Any) -> Any:
    """An inline picture, centred in a paragraph of its own, kept with its caption.

    Parameters
    ----------
    doc : Document
    png : bytes
        The image.
    width : docx.shared.Length
        Its width (the height follows the image's aspect).

    Returns
    -------
    docx.text.paragraph.Paragraph
    """
    para = doc.add_paragraph()
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    para.paragraph_format.keep_with_next = True
    para.paragraph_format.space_after = Pt(2)
    add_run(para, "").add_picture(io.BytesIO(png), width=width)
    return para


def caption(doc: Any, label: str, title: str, text: str) -> Any:
    """A figure caption: ``label`` numbered by a SEQ field (Word renumbers it where the
    section is pasted), ``title`` in bold, then ``text`` in the small size.

    Parameters
    ----------
    doc : Document
    label : str
        ``"图"``.
    title : str
    text : str

    Returns
    -------
    docx.text.paragraph.Paragraph
    """
    para = doc.add_paragraph()
    add_run(para, f"{label} ", bold=True, size=SMALL_PT + 1)
    _field(para, f"SEQ {label} \\* ARABIC", "1")
    add_run(para, f"  {title}", bold=True, size=SMALL_PT + 1)
    add_run(para, f"  {text}", size=SMALL_PT)
    return para


def renumber(doc: Any) -> None:
    """Give every drawing of ``doc`` its own id and every figure caption its number in order
    (sections copied from other documents bring theirs along).

    Parameters
    ----------
    doc : Document
    """
    body = doc.element.body
    wp = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}docPr"
    drawings = list(body.iter(wp))
    others = [int(v) for v in body.xpath("//@w:id") if str(v).isdigit()]  # bookmarks, comments
    start = max(others, default=0) + 1
    for k, element in enumerate(drawings):
        element.set("id", str(start + k))
    counts: dict[str, int] = {}
    for fld in body.iter(qn("w:fldSimple")):
        instr = (fld.get(qn("w:instr")) or "").split()
        if len(instr) >= 2 and instr[0] == "SEQ":
            counts[instr[1]] = counts.get(instr[1], 0) + 1
            for t in fld.iter(qn("w:t")):
                t.text = str(counts[instr[1]])
