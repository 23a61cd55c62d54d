"""Excel workbooks as planners keep them: the sheet, its header row, its cells.

:func:`read_workbook` reads one sheet of an ``.xlsx`` / ``.xlsm`` with openpyxl into a table
of cells as Excel holds them (numbers, text, dates, booleans), rows named as Excel numbers
them.  The first visible sheet with content is read unless a sheet is named; title rows above
the header are skipped (the header is the first row naming a coordinate, WKT, id or name
column); blank rows, and blank columns without a header, are left out; merged cells hold their
value in their first cell.  Formulas are read as the values Excel stored with them (a formula
without one is an error naming the cell).  Industry codes typed as numbers become text when
no leading zero can have been lost (2 or 4 digits: ``2641`` and ``2641.0`` read ``"2641"``);
``511`` could be the group 511 or the class 0511 and stays a number, which the industry
parser refuses with its reason.
"""

from __future__ import annotations

import datetime
import re
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import LayerReadError, SitesError, quote
from ..io.guard import within_budget
from ..io.vector import first_line
from .attributes import _ATTR_ALIASES
from .raw import _is_blank, _norm, _Where

__all__ = ["WORKBOOK_SUFFIXES", "read_workbook"]

#: Suffixes read by :func:`read_workbook` (``.xls`` only to say it is not read).
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")
#: Rows searched for the header (title rows above it are skipped).
_HEADER_SEARCH_ROWS = 30
_INDUSTRY = frozenset(n.lower() for n in _ATTR_ALIASES["industry"])
_ID_NAME = frozenset(n.lower() for n in (*_ATTR_ALIASES["id"], *_ATTR_ALIASES["name"]))
#: A formula element in a sheet's XML (``<f>``, ``<f t="shared" .../>``, ``<x:f>``).
_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")


def read_workbook(
    path: Path, label: str, sheet: str | None, known: Iterable[str] = ()
) -> tuple[pd.DataFrame, _Where, list[str]]:
    """One sheet of a workbook as a table of cells.

    Parameters
    ----------
    path : Path
        The ``.xlsx`` / ``.xlsm`` file.
    label : str
        How messages name the file (the path as given).
    sheet : str or None
        The sheet to read; None: the first visible sheet with content.
    known : iterable of str
        Column names (normalised) that mark the header row besides the id and name aliases:
        the coordinate and WKT columns.

    Returns
    -------
    (DataFrame, _Where, list of str)
        The cells below the header (object columns named by the header, values as Excel
        holds them), how rows are named (``book.xlsx, sheet 项目, row 7``, with each column's
        letter) and notes (which sheet, which header row).

    Raises
    ------
    LayerReadError
        Not a workbook openpyxl can read; an ``.xls`` (the old binary format).
    SitesError
        No such sheet; a first sheet without a table in a workbook of several sheets (the
        error names ``sheet=`` / ``--sheet`` and the sheets); a formula without a stored value
        (the cell is named); two columns with the same recognised name.
    """
    if path.suffix.lower() == ".xls":
        raise LayerReadError(
            f"{label}: the old Excel format (.xls) is not read; save it as an Excel Workbook "
            "(.xlsx) or CSV"
        )
    import openpyxl

    def load(data_only: bool) -> Any:
        return openpyxl.load_workbook(path, read_only=True, data_only=data_only)

    try:
        wb = within_budget(lambda: load(True), label)
    except LayerReadError:
        raise
    except Exception as exc:
        raise LayerReadError(
            f"{label}: cannot read as an Excel workbook: {first_line(exc)}"
        ) from None
    try:
        name, rows, notes = _choose_sheet(wb, label, sheet, frozenset(known) | _ID_NAME)
        header_at = _header_row(rows, frozenset(known) | _ID_NAME)
        df, where = _table(rows, header_at, label, name)
        if _has_formulas(path, wb[name]):
            formulas = load(False)
            try:
                _check_cached(formulas[name], df, where, label, name)
            finally:
                formulas.close()
    finally:
        wb.close()
    if header_at > 0:
        notes.append(
            f"sheet {quote(name)}: header in row {header_at + 1}; rows 1-{header_at} above it "
            "skipped (title)"
            if header_at > 1
            else f"sheet {quote(name)}: header in row 2; row 1 above it skipped (title)"
        )
    return df, where, notes


def _rows(ws: Any) -> list[tuple]:
    """The sheet's rows from row 1 (empty rows included, so index + 1 is Excel's row number),
    without the trailing empty ones."""
    rows = list(ws.iter_rows(min_row=1, values_only=True))
    while rows and all(_is_blank(v) for v in rows[-1]):
        rows.pop()
    return rows


def _choose_sheet(
    wb: Any, label: str, sheet: str | None, marks: frozenset[str]
) -> tuple[str, list[tuple], list[str]]:
    """(sheet name, its rows, notes): the sheet asked for, or the first visible one with
    content; in a workbook of several sheets one without a header row is an error naming
    ``sheet=`` and the sheets."""
    names = list(wb.sheetnames)
    shown = ", ".join(names[:12]) + (f" and {len(names) - 12} more" if len(names) > 12 else "")
    if sheet is not None:
        if sheet not in names:
            raise SitesError(f"{label} has no sheet {quote(sheet)} (sheets: {shown})")
        ws = wb[sheet]
        if not hasattr(ws, "iter_rows"):
            raise SitesError(f"{label}, sheet {quote(sheet)} is a chart, not a table")
        return sheet, _rows(ws), []
    for name in names:
        ws = wb[name]
        if not hasattr(ws, "iter_rows") or getattr(ws, "sheet_state", "visible") != "visible":
            continue
        rows = _rows(ws)
        if not rows:
            continue
        if len(names) > 1 and _find_header(rows, marks) is None:
            raise SitesError(
                f"{label}: its first sheet with content, {quote(name)}, has no header row naming "
                "coordinate columns (lon/lat, 经度/纬度, x/y or WKT); choose the sheet with "
                f"sheet= / --sheet NAME (sheets: {shown})"
            )
        notes = []
        if len(names) > 1:
            notes.append(
                f"{Path(label).name}: read sheet {quote(name)}, the first with content of its "
                f"{len(names)} sheets ({shown}); choose another with sheet= / --sheet NAME"
            )
        return name, rows, notes
    raise SitesError(f"{label}: every sheet is empty (sheets: {shown})")


def _find_header(rows: Sequence[tuple], marks: frozenset[str]) -> int | None:
    """Index of the first row (of the first few) with two or more cells, one naming a column
    in ``marks``."""
    for i, row in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        cells = [v for v in row if not _is_blank(v)]
        if len(cells) >= 2 and any(_norm(v) in marks for v in cells if isinstance(v, str)):
            return i
    return None


def _header_row(rows: Sequence[tuple], marks: frozenset[str]) -> int:
    """The header row: the first naming a known column, else the first with two or more
    cells, else the first with any."""
    found = _find_header(rows, marks)
    if found is not None:
        return found
    filled = [sum(not _is_blank(v) for v in row) for row in rows]
    for want in (2, 1):
        for i, k in enumerate(filled):
            if k >= want:
                return i
    return 0


def _letter(col: int) -> str:
    """Excel's letters of a 0-based column index (0 -> A, 27 -> AB)."""
    from openpyxl.utils import get_column_letter

    return get_column_letter(col + 1)


def _header_name(value: object, col: int) -> str:
    if _is_blank(value):
        return f"column {_letter(col)}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return str(value).strip()


def _table(
    rows: list[tuple], header_at: int, label: str, sheet: str
) -> tuple[pd.DataFrame, _Where]:
    """The cells below the header as a table, and how its rows are named."""
    header = list(rows[header_at]) if rows else []
    body = [(r + 1, row) for r, row in enumerate(rows[header_at + 1 :], start=header_at + 1)]
    body = [(n, row) for n, row in body if not all(_is_blank(v) for v in row)]
    width = len(header)
    for _, row in body:
        width = max(width, len(row))
    used = [
        c
        for c in range(width)
        if (c < len(header) and not _is_blank(header[c]))
        or any(c < len(row) and not _is_blank(row[c]) for _, row in body)
    ]
    names = _unique([_header_name(header[c] if c < len(header) else None, c) for c in used])
    where = _Where(
        f"{label}, sheet {sheet}",
        "row",
        labels=np.array([n for n, _ in body], dtype=object),
        file=label,
        letters={name: _letter(c) for name, c in zip(names, used, strict=True)},
    )
    _check_duplicates(names, where)
    data = {
        name: pd.Series([row[c] if c < len(row) else None for _, row in body], dtype=object)
        for name, c in zip(names, used, strict=True)
    }
    df = pd.DataFrame(data, columns=names)
    for name in names:
        if _norm(name) in _INDUSTRY:
            df[name] = df[name].map(_industry_cell).astype(object)
    return df, where


def _unique(names: list[str]) -> list[str]:
    """Column names made unique as pandas does (the second ``备注`` is ``备注.1``)."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        k = seen.get(name, 0)
        seen[name] = k + 1
        out.append(name if k == 0 else f"{name}.{k}")
    return out


def _check_duplicates(names: list[str], where: _Where) -> None:
    """Two columns with the same recognised name (``经度`` twice) is an error naming both."""
    for name in names:
        base, dot, k = name.rpartition(".")
        if not dot or not k.isdigit() or base not in names:
            continue
        key = _norm(base)
        recognised = key in _ID_NAME or any(
            key in {a.lower() for a in aliases} for aliases in _ATTR_ALIASES.values()
        )
        if recognised or key in {"lon", "lat", "经度", "纬度", "x", "y", "wkt"}:
            letters = where.letters or {}
            raise SitesError(
                f"{where.source}: columns {letters.get(base)} and {letters.get(name)} are both "
                f"named {quote(base)}; keep one"
            )


def _industry_cell(value: object) -> object:
    """An industry code typed as a number, as text when no leading zero can have been lost."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if isinstance(value, float) and not value.is_integer():
        return value
    text = str(int(value))
    return text if len(text) in (2, 4) else value


def _has_formulas(path: Path, ws: Any) -> bool:
    """Whether the sheet's XML holds any formula (scanned as bytes; True when unsure)."""
    part = getattr(ws, "_worksheet_path", None)
    if not isinstance(part, str):
        return True
    try:
        with zipfile.ZipFile(path) as z, z.open(part) as fh:
            tail = b""
            while chunk := fh.read(1 << 20):
                if _FORMULA_TAG.search(tail + chunk):
                    return True
                tail = chunk[-16:]
    except (OSError, KeyError, zipfile.BadZipFile):
        return True
    return False


def _check_cached(ws: Any, df: pd.DataFrame, where: _Where, label: str, sheet: str) -> None:
    """A formula whose stored value is missing (None in the table) is an error naming it."""
    letters = where.letters or {}
    columns = {letters[c]: c for c in df.columns if c in letters}
    wanted = {int(n) for n in where.labels}
    from openpyxl.utils import column_index_from_string

    index = {column_index_from_string(letter) - 1: name for letter, name in columns.items()}
    position = {int(n): i for i, n in enumerate(where.labels)}
    for r, row in enumerate(ws.iter_rows(min_row=1, values_only=True), start=1):
        if r not in wanted:
            continue
        for c, value in enumerate(row):
            name = index.get(c)
            if name is None or not (isinstance(value, str) and value.startswith("=")):
                continue
            if _is_blank(df[name].iloc[position[r]]):
                raise SitesError(
                    f"{label}, sheet {sheet}, cell {_letter(c)}{r}: the formula {value[:60]} has "
                    "no cached value (the workbook was not calculated and saved by a spreadsheet "
                    "program); open and save it in Excel or LibreOffice, or type the value"
                )
