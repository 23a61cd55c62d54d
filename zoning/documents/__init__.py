"""Documents a reviewer can file: the PDF and Word 符合性分析 of a screening and its Excel
workbook.

Each writer lays out the page models of :mod:`zoning.report.models` (the same facts as the
HTML report's site pages); none computes a verdict, an area or a distance.  Modules:
:mod:`~zoning.documents.pdf` (``--format pdf``), :mod:`~zoning.documents.word`
(``--format docx``) and :mod:`~zoning.documents.excel` (``--format xlsx``); each is imported
only when its format is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .._optional import require

__all__ = ["DOCUMENT_FORMATS", "check_dependencies", "document_names", "write_document"]

#: The formats written by this package, and the top-level names each writes into a folder.
DOCUMENT_FORMATS = {
    "pdf": ("screening.pdf", "pdf"),
    "docx": ("screening.docx", "docx"),
    "xlsx": ("screening.xlsx",),
}


#: The packages each document format cannot do without (the map figure's matplotlib is not
#: among them: without it a document says the figure was not drawn).
_NEEDS = {"pdf": ("fpdf", "pypdf"), "docx": ("docx",), "xlsx": ("openpyxl",)}


def check_dependencies(formats: Iterable[str]) -> None:
    """Raise, before any work, when a package a document format needs is not installed.

    Parameters
    ----------
    formats : iterable of str
        Output formats; those that are not document formats are ignored.

    Raises
    ------
    MissingDependencyError
        One line naming the package and the extra to install
        (``pip install 'zoning[documents]'``).
    """
    for fmt in formats:
        for module in _NEEDS.get(fmt, ()):
            require(module)


def document_names(fmt: str) -> list[str]:
    """The top-level names ``fmt`` writes into an output folder.

    Parameters
    ----------
    fmt : {"pdf", "docx", "xlsx"}

    Returns
    -------
    list of str
    """
    return list(DOCUMENT_FORMATS[fmt])


def write_document(result: Any, folder: Path, fmt: str, lang: str = "both") -> list[str]:
    """Write the ``fmt`` documents of ``result`` into ``folder``.

    Parameters
    ----------
    result : ScreeningResult
    folder : Path
        An existing folder (the output transaction's temporary folder).
    fmt : {"pdf", "docx", "xlsx"}
    lang : {"both", "zh", "en"}
        Language of the labels.

    Returns
    -------
    list of str
        The top-level names written.
    """
    if fmt == "pdf":
        from .pdf import write_pdf

        return write_pdf(result, folder, lang=lang)
    if fmt == "docx":
        from .word import write_docx

        return write_docx(result, folder, lang=lang)
    if fmt == "xlsx":
        from .excel import write_xlsx

        return write_xlsx(result, folder, lang=lang)
    raise ValueError(f"not a document format: {fmt!r}")
