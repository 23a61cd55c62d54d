"""The page layout of the PDF documents (fpdf2): fonts, header and footer, headings, tables
that break across pages with their headings repeated, the figure and the sign-off block.

:class:`Document` knows nothing of a screening: :mod:`zoning.documents.pdf` tells it what to
write.  Every string passes :meth:`Document.text`, which keeps a character the shipped font
lacks when the machine's fallback font has it, and otherwise draws □ and remembers it; the
document ends with the list of such characters (:meth:`Document.finish`).

Speed (measured on the 21 example projects): fpdf2 breaks lines by asking, for every
character, the width of the whole line so far (quadratic in the line's length) and the width
of the character through its generic text-width path; :func:`fast_line_breaking` answers both
from the font's width table, summing each line once (the same integer sums, so the same
breaks and the same bytes), while a :class:`Document` breaks lines.  At output fpdf2 subsets
the fonts; :meth:`Document.output` keeps the shipped font's bounding boxes instead of
recomputing them from every outline (0.20 s to 0.05 s per document).
"""

from __future__ import annotations

import functools
import io
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf import line_break as _lb
from fpdf.enums import TableCellFillMode
from fpdf.fonts import FontFace, TTFFont

from ..labels import VERDICT_LABELS
from ..report.figure import VERDICT_COLORS
from .common import DEMO_HEADER, is_demonstration

__all__ = ["FONT_DIR", "Document", "Fonts", "fast_line_breaking"]

#: The shipped fonts (a subset of Noto Sans CJK SC, OFL; see ``fonts/README.md``).
FONT_DIR = Path(__file__).resolve().parent / "fonts"
_REGULAR = FONT_DIR / "NotoSansSC-Subset-Regular.ttf"
_BOLD = FONT_DIR / "NotoSansSC-Subset-Bold.ttf"

#: Drawn for a character no font has.
PLACEHOLDER = "□"
_FAMILY = "zoning-cjk"
_FALLBACK = "zoning-fallback"


@functools.lru_cache(maxsize=8)
def _cmap(path: str, index: int = 0) -> frozenset[int]:
    """The code points a font file (member ``index`` of a collection) maps."""
    from fontTools.ttLib import TTCollection, TTFont

    if path.lower().endswith((".ttc", ".otc")):
        with TTCollection(path, lazy=True) as ttc:
            return frozenset(ttc.fonts[index].getBestCmap())
    with TTFont(path, lazy=True) as font:
        return frozenset(font.getBestCmap())


@dataclass(frozen=True)
class Fonts:
    """The fonts of a document: the shipped ones and, optionally, a fallback on the machine."""

    regular: Path
    bold: Path
    fallback: tuple[str, int] | None

    @classmethod
    def shipped(cls, fallback: tuple[str, int] | None) -> Fonts:
        """The shipped fonts with ``fallback``.

        Parameters
        ----------
        fallback : (str, int) or None
            A font file on this machine and its index in a collection.

        Returns
        -------
        Fonts
        """
        return cls(_REGULAR, _BOLD, fallback)

    def has(self, cp: int) -> bool:
        """Whether the shipped fonts draw code point ``cp``.

        Parameters
        ----------
        cp : int

        Returns
        -------
        bool
        """
        return cp in _cmap(str(self.regular))

    def fallback_has(self, cp: int) -> bool:
        """Whether the fallback font draws code point ``cp``.

        Parameters
        ----------
        cp : int

        Returns
        -------
        bool
        """
        return self.fallback is not None and cp in _cmap(*self.fallback)


def _plain_ttf(frag: Any) -> Any:
    """The font of a fragment whose width is the plain sum of its characters' widths (a
    TrueType font, no shaping, spacing or stretching), else None."""
    if type(frag) is not _lb.Fragment:
        return None
    gs = frag.graphics_state
    font = gs.current_font
    if (
        type(font) is not TTFFont
        or font.is_symbol
        or gs.text_shaping
        or gs.char_spacing != 0
        or gs.font_stretching != 100
    ):
        return None
    return font


def _fragment_width(frag: Any, initial_cs: bool) -> float:
    """``frag.get_width(initial_cs=...)``, summing only the characters added since the last
    call (a line's fragments only grow until the line ends; fpdf2 replaces the list when it
    cuts one)."""
    font = _plain_ttf(frag)
    if font is None:
        return frag.get_width(initial_cs=initial_cs)
    chars = frag.characters
    cached = frag.__dict__.get("_zoning_w")
    start, total = 0, 0
    if cached is not None and cached[0] is chars and cached[1] <= len(chars):
        start, total = cached[1], cached[2]
    cw = font.cw
    for ch in chars[start:]:
        total += cw[ord(ch)]
    frag._zoning_w = (chars, len(chars), total)
    return total * frag.font_size_pt * 0.001 / frag.k


def _line_width(line: Any) -> float:
    """``CurrentLine.width``, incrementally."""
    width = 0
    for i, frag in enumerate(line.fragments):
        width += _fragment_width(frag, i > 0)
    return width


_ORIGINAL_CHAR_WIDTH = _lb.Fragment.get_character_width
_ORIGINAL_LINE_WIDTH = _lb.CurrentLine.width


def _character_width(
    frag: Any, character: str, print_sh: bool = False, initial_cs: bool = True
) -> float:
    """``Fragment.get_character_width`` from the width table."""
    font = _plain_ttf(frag)
    if font is None:
        return _ORIGINAL_CHAR_WIDTH(frag, character, print_sh, initial_cs)
    if character == _lb.SOFT_HYPHEN and not print_sh:
        character = _lb.HYPHEN
    return font.cw[ord(character)] * frag.font_size_pt * 0.001 / frag.k


class _FastLineBreaking:
    """Context: fpdf2's line breaking with the widths above (re-entrant, thread-safe)."""

    _lock = threading.Lock()
    _depth = 0

    def __enter__(self) -> None:
        with self._lock:
            if _FastLineBreaking._depth == 0:
                _lb.CurrentLine.width = property(_line_width)
                _lb.Fragment.get_character_width = _character_width
            _FastLineBreaking._depth += 1

    def __exit__(self, *exc: Any) -> None:
        with self._lock:
            _FastLineBreaking._depth -= 1
            if _FastLineBreaking._depth == 0:
                _lb.CurrentLine.width = _ORIGINAL_LINE_WIDTH
                _lb.Fragment.get_character_width = _ORIGINAL_CHAR_WIDTH


def fast_line_breaking() -> _FastLineBreaking:
    """A context in which fpdf2 breaks lines with widths summed once per line.

    Returns
    -------
    context manager
        While entered, fpdf2's line widths come from the fonts' width tables (the same
        numbers fpdf2 computes, so the same line breaks); fpdf2's own code is restored on exit.
    """
    return _FastLineBreaking()


#: The shipped fonts as fpdf2 read them, once per process (see Document._add_shipped_font).
_FONT_TEMPLATES: dict[tuple[str, str], TTFFont] = {}
_TEMPLATE_LOCK = threading.Lock()


def _copy_font(font: TTFFont, doc: FPDF | None, path: Path | None) -> TTFFont:
    """A copy of fpdf2's font ``font`` for the document ``doc`` (None: a template), sharing
    the read-only tables (widths, character map, glyph ids) and owning what a document changes
    (its index, descriptor, subset, the fontTools object subset at output)."""
    import copy

    from fontTools import ttLib
    from fpdf.fonts import SubsetMap

    new = copy.copy(font)
    new.desc = copy.copy(font.desc)
    new.missing_glyphs = []
    new.biggest_size_pt = 0
    new._hbfont = None
    if doc is not None:
        new.i = len(doc.fonts) + 1
        new.ttfont = ttLib.TTFont(path, recalcTimestamp=False, lazy=True)
    new.subset = SubsetMap(new)
    return new


_GREY = (235, 235, 235)
_RED = (178, 24, 43)


def _clip(text: str, n: int) -> str:
    """``text`` cut to ``n`` characters (… marks a cut)."""
    return text if len(text) <= n else text[: n - 1] + "…"


def _rgb(hex_color: str) -> tuple[int, int, int]:
    """``#rrggbb`` as a tuple."""
    h = hex_color.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


class Document(FPDF):
    """An A4 document of the screening: header with the demonstration notice, footer with
    "第 x 页 / 共 y 页", and the blocks :mod:`zoning.documents.pdf` lays out.

    Parameters
    ----------
    fonts : Fonts
    common : dict
        The run-wide model (``demonstration``, ``versions``).
    lang : {"both", "zh", "en"}
    title : str
        The document's title (its metadata).
    label : str
        Printed at the left of every footer (a site document: the site's id).
    total : int or None
        The "共 y 页" of the footers when the document is the start of a larger one (the run's
        document: cover and summary before the sites' documents); None: this document's pages.
    """

    def __init__(
        self,
        fonts: Fonts,
        common: dict,
        lang: str,
        title: str,
        *,
        label: str = "",
        total: int | None = None,
    ) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.zfonts = fonts
        self.lang = lang
        self.demonstration = is_demonstration(common)
        self.tool = (common.get("versions") or {}).get("tool_version") or ""
        self.missing: set[str] = set()
        self.label = label
        self.total = total
        self._fallback_added = False
        self._add_shipped_font("", fonts.regular)
        self._add_shipped_font("B", fonts.bold)
        self.set_margins(15, 22, 15)
        self.set_auto_page_break(True, margin=18)
        self.set_title(title)
        self.set_creator(f"zoning {self.tool}")
        self.set_font(_FAMILY, size=9)

    def _add_shipped_font(self, style: str, path: Path) -> None:
        """``add_font`` for a shipped font, its tables read once per process: a document's
        font is a copy of the first one read (widths, character map, descriptor) with its own
        subset and its own fontTools object to subset at output.  Falls back to ``add_font``
        if fpdf2's font object is not what this expects."""
        key = (str(path), style)
        template = _FONT_TEMPLATES.get(key)
        fontkey = f"{_FAMILY}{style}"
        if template is not None:
            try:
                font = _copy_font(template, self, path)
            except Exception:  # another fpdf2: read the font as fpdf2 does
                font = None
            if font is not None:
                self.fonts[fontkey] = font
                return
        self.add_font(_FAMILY, style, str(path))
        with _TEMPLATE_LOCK:
            _FONT_TEMPLATES.setdefault(key, _copy_font(self.fonts[fontkey], None, None))

    # ------------------------------------------------------------------ words

    def text(self, value: Any) -> str:
        """``value`` as text the fonts can draw (□ for what none draws, remembered).

        Parameters
        ----------
        value : object

        Returns
        -------
        str
        """
        if value is None:
            return "—"
        out = []
        for ch in str(value):
            cp = ord(ch)
            if ch in "\n\t" or self.zfonts.has(cp):
                out.append(ch)
            elif self.zfonts.fallback_has(cp):
                self._use_fallback()
                out.append(ch)
            else:
                self.missing.add(ch)
                out.append(PLACEHOLDER)
        return "".join(out)

    def _use_fallback(self) -> None:
        """Register the machine's fallback font (on first need only: it may be large)."""
        if self._fallback_added:
            return
        path, index = self.zfonts.fallback
        self.add_font(_FALLBACK, "", path, collection_font_number=index)
        self.set_fallback_fonts([_FALLBACK], exact_match=False)
        self._fallback_added = True

    def tr(self, zh: str, en: str) -> str:
        """A label in the document's language (``both``: Chinese, then English).

        Parameters
        ----------
        zh, en : str

        Returns
        -------
        str
        """
        if self.lang == "zh" or zh == en:
            return zh
        if self.lang == "en":
            return en
        return f"{zh} {en}"

    def msg(self, zh: str | None, en: str | None) -> str:
        """A message in the document's language (``both``: the Chinese one).

        Parameters
        ----------
        zh, en : str or None

        Returns
        -------
        str
        """
        if self.lang == "en":
            return en or zh or ""
        return zh or en or ""

    def word(self, verdict: dict) -> str:
        """The verdict word of a verdict model (:data:`zoning.labels.VERDICT_LABELS`).

        Parameters
        ----------
        verdict : dict
            ``{"key", "zh", "en"}``.

        Returns
        -------
        str
        """
        zh, en = VERDICT_LABELS.get(verdict["key"], (verdict["zh"], verdict["en"]))
        return self.tr(zh, en)

    # ------------------------------------------------------------------ page furniture

    def header(self) -> None:
        """The demonstration notice (every page, when any data are demonstration)."""
        self.set_y(7)
        if self.demonstration:
            self.set_font(_FAMILY, "B", 8.5)
            self.set_text_color(*_RED)
            self.set_fill_color(253, 236, 236)
            zh, en = DEMO_HEADER
            notice = zh if self.lang == "zh" else en if self.lang == "en" else f"{zh}\n{en}"
            self.multi_cell(0, 4.2, self.text(notice), align="C", fill=True)
            self.set_text_color(0, 0, 0)
        self.set_y(self.t_margin)
        self.set_font(_FAMILY, "", 9)

    def footer(self) -> None:
        """Page number "第 x 页 / 共 y 页" and the tool."""
        self.set_y(-13)
        self.set_font(_FAMILY, "", 7.5)
        self.set_text_color(90, 90, 90)
        total = "{nb}" if self.total is None else f"{self.total:,}"
        page = f"第 {self.page_no()} 页 / 共 {total} 页"
        if self.lang == "en":
            page = f"page {self.page_no()} of {total}"
        if self.label:
            self.cell(55, 5, self.text(_clip(self.label, 24)), align="L")
            self.set_x(self.l_margin)
        self.cell(0, 5, page, align="C")
        self.set_x(self.l_margin)
        self.cell(0, 5, f"zoning {self.tool}", align="R")
        self.set_text_color(0, 0, 0)

    def multi_cell(self, *args: Any, **kwargs: Any) -> Any:
        """fpdf2's ``multi_cell`` with :func:`fast_line_breaking` (same arguments, same
        result).

        Parameters
        ----------
        *args, **kwargs
            As ``FPDF.multi_cell``.

        Returns
        -------
        object
            As ``FPDF.multi_cell``.
        """
        with _FastLineBreaking():
            return super().multi_cell(*args, **kwargs)

    def output(self, *args: Any, **kwargs: Any) -> Any:
        """fpdf2's ``output``, the fonts subset without recomputing their bounding boxes: the
        shipped font's (a superset of every subset's) stay valid, and recomputing them
        decompiles and recompiles every outline.

        Parameters
        ----------
        *args, **kwargs
            As ``FPDF.output``.

        Returns
        -------
        bytearray or None
            As ``FPDF.output``.
        """
        for font in self.fonts.values():
            ttfont = getattr(font, "ttfont", None)
            if ttfont is not None:
                ttfont.recalcBBoxes = False
        return super().output(*args, **kwargs)

    def finish(self) -> None:
        """End the document: the list of characters no font could draw, if any."""
        if not self.missing:
            return
        codes = "、".join(f"U+{ord(c):04X}" for c in sorted(self.missing))
        self.ln(3)
        self.warning(
            f"以下字符在文档字体中不存在，以 {PLACEHOLDER} 代替：{codes}",
            f"Characters missing from the document's fonts, drawn as {PLACEHOLDER}: {codes}",
        )

    # ------------------------------------------------------------------ blocks

    def title_block(self, title: str, subtitle: str) -> None:
        """The title of a document or of a site's analysis.

        Parameters
        ----------
        title, subtitle : str
        """
        self.set_font(_FAMILY, "B", 15)
        self.multi_cell(0, 8, self.text(title), align="L", new_x="LMARGIN", new_y="NEXT")
        self.set_font(_FAMILY, "B", 12)
        self.multi_cell(0, 7, self.text(subtitle), align="L", new_x="LMARGIN", new_y="NEXT")
        self.ln(2)

    def heading(self, text: str, level: int = 1) -> None:
        """A section heading (kept with what follows it).

        Parameters
        ----------
        text : str
        level : {1, 2}
        """
        if self.get_y() > self.h - self.b_margin - (30 if level == 1 else 20):
            self.add_page()
        self.ln(2 if level == 1 else 1)
        self.set_font(_FAMILY, "B", 11.5 if level == 1 else 9.5)
        self.multi_cell(0, 6 if level == 1 else 5, self.text(text), new_x="LMARGIN", new_y="NEXT")
        self.set_font(_FAMILY, "", 9)

    def paragraph(self, text: str, size: float = 9, bold: bool = False) -> None:
        """A paragraph, wrapped.

        Parameters
        ----------
        text : str
        size : float
        bold : bool
        """
        self.set_font(_FAMILY, "B" if bold else "", size)
        self.multi_cell(0, size * 0.5, self.text(text), new_x="LMARGIN", new_y="NEXT")
        self.set_font(_FAMILY, "", 9)
        self.ln(1)

    def bullet(self, text: str, size: float = 9) -> None:
        """A bullet item.

        Parameters
        ----------
        text : str
        size : float
        """
        self.set_font(_FAMILY, "", size)
        self.cell(4, size * 0.5, "·")
        self.multi_cell(0, size * 0.5, self.text(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(0.5)

    def note(self, zh: str, en: str) -> None:
        """A framed note in the document's language.

        Parameters
        ----------
        zh, en : str
        """
        self.set_font(_FAMILY, "B", 9)
        self.set_fill_color(255, 247, 220)
        self.multi_cell(
            0, 5, self.text(self.msg(zh, en)), border=1, fill=True, new_x="LMARGIN", new_y="NEXT"
        )
        self.set_font(_FAMILY, "", 9)
        self.ln(2)

    def warning(self, zh: str, en: str) -> None:
        """A warning (boundary sensitivity, missing characters, a missing figure).

        Parameters
        ----------
        zh, en : str
        """
        self.set_font(_FAMILY, "", 8.5)
        self.set_text_color(150, 60, 0)
        self.multi_cell(0, 4.5, self.text("！ " + self.msg(zh, en)), new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0, 0, 0)
        self.set_font(_FAMILY, "", 9)
        self.ln(1)

    def verdict_line(self, label: str, verdict: dict, boundary_sensitive: bool) -> None:
        """The verdict, large and in its colour.

        Parameters
        ----------
        label : str
        verdict : dict
        boundary_sensitive : bool
        """
        self.set_font(_FAMILY, "B", 14)
        self.cell(self.get_string_width(self.text(label + "：")) + 1, 9, self.text(label + "："))
        self.set_text_color(*_rgb(VERDICT_COLORS.get(verdict["key"], "#000000")))
        word = self.text(self.word(verdict))
        self.cell(self.get_string_width(word) + 3, 9, word)
        self.set_text_color(0, 0, 0)
        if boundary_sensitive:
            self.set_font(_FAMILY, "B", 9)
            self.cell(0, 9, self.text(self.tr("（边界敏感）", "(boundary-sensitive)")))
        self.ln(10)
        self.set_font(_FAMILY, "", 9)

    def kv_table(self, rows: list[tuple[str, str]]) -> None:
        """A two-column table of facts.

        Parameters
        ----------
        rows : list of (str, str)
        """
        self.table(None, [list(r) for r in rows], widths=(52, 128), size=8)

    def table(
        self,
        headings: list[str] | None,
        rows: list[list[Any]],
        *,
        widths: tuple[float, ...],
        size: float = 8,
    ) -> None:
        """A table whose long cells wrap (never clipped) and which breaks across pages with its
        headings repeated.

        Parameters
        ----------
        headings : list of str or None
        rows : list of list
            Cells: text, or ``(text, style)`` with ``style`` a verdict key (coloured bold) or
            ``"bold"``.
        widths : tuple of float
            Column widths, mm.
        size : float
            Font size, pt.
        """
        self.set_font(_FAMILY, "", size)
        head_style = FontFace(emphasis="BOLD", fill_color=_GREY)
        kwargs: dict[str, Any] = {
            "col_widths": widths,
            "width": sum(widths),
            "text_align": "LEFT",
            "line_height": size * 0.45,
            "padding": 0.8,
            "cell_fill_mode": TableCellFillMode.NONE,
        }
        if headings is None:
            kwargs["first_row_as_headings"] = False
        else:
            kwargs.update(headings_style=head_style, repeat_headings=1)
        with super().table(**kwargs) as table:
            if headings is not None:
                row = table.row()
                for h in headings:
                    row.cell(self.text(h))
            for cells in rows:
                row = table.row()
                for cell in cells:
                    if isinstance(cell, tuple):
                        text, style = cell
                        face = None
                        if style == "bold":
                            face = FontFace(emphasis="BOLD")
                        elif style in VERDICT_COLORS:
                            face = FontFace(emphasis="BOLD", color=_rgb(VERDICT_COLORS[style]))
                        row.cell(self.text(text), style=face)
                    else:
                        row.cell(self.text(cell))
        self.set_font(_FAMILY, "", 9)
        self.ln(2)

    def figure(self, png: bytes, width: float) -> None:
        """A PNG figure, on a new page when it does not fit.

        Parameters
        ----------
        png : bytes
        width : float
            mm.
        """
        from PIL import Image

        with Image.open(io.BytesIO(png)) as im:
            height = width * im.height / im.width
        if self.get_y() + height > self.h - self.b_margin:
            self.add_page()
        self.image(io.BytesIO(png), x=self.l_margin, w=width)
        self.ln(1)

    def sign_off(self, labels: list[str]) -> None:
        """The sign-off block: a labelled blank to sign for each of ``labels``.

        Parameters
        ----------
        labels : list of str
        """
        if self.get_y() > self.h - self.b_margin - 25:
            self.add_page()
        self.ln(4)
        self.set_font(_FAMILY, "", 10)
        width = (self.w - self.l_margin - self.r_margin) / len(labels)
        for label in labels:
            self.cell(width, 10, self.text(label + "：________________"))
        self.ln(12)
        self.set_font(_FAMILY, "", 9)
