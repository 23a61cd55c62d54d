"""``screening.xlsx``: the input rows as the user gave them, each with its result, and the
hits, the clause table and the provenance, in one workbook (``--format xlsx``).

Sheets, in order:

- ``筛查结果 results`` (:data:`RESULTS_SHEET`): every input row, in input order, its columns
  as given (a table's cells, a vector file's attributes), followed by :data:`RESULT_COLUMNS`;
  a row set aside with ``on_row_error="report"`` reads ``input_error`` / 输入错误, its message
  in ``input_error``, the row highlighted;
- ``hits`` and ``clauses``: the columns of ``hits.csv`` and ``clauses.csv``, cut down for large
  screenings as ``clauses.csv`` is (:func:`_cap`), with a note in the first row;
- ``provenance``: rule set, layers with vintages and hashes, day, input file and its SHA-256,
  time in Asia/Shanghai.

A demonstration-data notice is the first row of every sheet when any layer or the rule set
is demonstration data.  Headers are bold and frozen, with an autofilter; numbers are numbers;
text that looks like a formula stays text.  The writer lays out the result's tables and
computes no verdict, area or distance.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..dates import shanghai_time
from ..errors import ZoningError
from ..labels import (
    CLAUSE_RESULT_LABELS,
    DATA_STATUS_LABELS,
    INPUT_ERROR_LABELS,
    VERDICT_LABELS,
)

__all__ = ["EXCEL_MAX_ROWS", "RESULTS_SHEET", "RESULT_COLUMNS", "SHEETS", "write_xlsx"]

#: The first sheet: the input rows and their results.
RESULTS_SHEET = "筛查结果 results"
#: The sheets of ``screening.xlsx``, in order.
SHEETS = (RESULTS_SHEET, "hits", "clauses", "codes", "provenance")
#: Columns appended to the input's on the results sheet (``site_id`` only when the input has
#: no id column; ``input_error`` only when rows were read with ``on_row_error="report"``).
RESULT_COLUMNS = (
    "site_id",
    "verdict_zh",
    "verdict",
    "rule_ids",
    "reason_codes",
    "clause_results_zh",
    "conclusion_code",
    "nearest_m",
    "boundary_sensitive",
    "input_error",
)
#: Rows a sheet holds (Excel's limit, the header included).
EXCEL_MAX_ROWS = 1_048_576
#: Rows the hits and clauses sheets hold at most: a workbook is for reading; past this the
#: sheet would take minutes to write and open (20,000 sites wrote 836,638 rows, 86 MB, in 57 s)
#: and the CSV files hold every row.
DETAIL_MAX_ROWS = 100_000
#: The clause results counted in ``clause_results_zh``, most severe first.
_COUNTED = ("violates", "undecided", "needs_review", "complies")
_NOTICE = (
    f"{DATA_STATUS_LABELS['demonstration'][0]}：非官方生态保护红线与生态环境管控单元，结果不能"
    "用于审批 — DEMONSTRATION DATA: not the official ecological protection red line or "
    "control units; not for approval"
)
_MAX_WIDTH = 60
_MAX_TEXT = 32_767  # characters in an Excel cell


def write_xlsx(result: Any, folder: Path, *, lang: str = "both") -> list[str]:
    """Write ``screening.xlsx`` into ``folder``.

    Parameters
    ----------
    result : ScreeningResult
        What to write.
    folder : Path
        An existing folder (the output transaction's temporary folder).
    lang : {"both", "zh", "en"}
        Language of the sheets' notes (column names are the codes the README documents).

    Returns
    -------
    list of str
        ``["screening.xlsx"]``.

    Raises
    ------
    ZoningError
        More input rows than a sheet holds (:data:`EXCEL_MAX_ROWS`): one line, nothing
        written.

    Notes
    -----
    Written with openpyxl in write-only mode (rows streamed, not held as cell objects).
    Reading ``result.hits`` and ``result.clauses`` builds them if no one did yet.

    Cost, measured on a shared 2-core machine with the demonstration catalog and rules (wall
    time of ``to_file(out, ["xlsx"])`` after the screening, hits and clauses were built): the
    21 example projects (251 hits, 951 clause rows) 0.3 s, 289 kB; 100,000 random points in
    Shanghai's bounding box 7.5 s, 9.1 MB (the results sheet only: above 50,000 sites the hits
    and clauses sheets hold no rows); 20,000 random points 57 s, 86 MB (the hits with a rule
    that fired and the violates / undecided / needs_review rows of 836,638 clause rows), peak
    memory 1.0-1.4 GB, as for the screening.  Most of it is openpyxl writing each cell; other
    processes loading the machine made the same runs up to three times slower.
    """
    from openpyxl import Workbook

    header, rows, marked = _results_rows(result)
    if len(rows) + 2 > EXCEL_MAX_ROWS:
        raise ZoningError(
            f"screening.xlsx: {len(rows):,} rows do not fit in a sheet (Excel holds "
            f"{EXCEL_MAX_ROWS:,}); write csv instead, or screen fewer sites at a time"
        )
    notice = _NOTICE if result.is_demonstration else None
    wb = Workbook(write_only=True)
    formats = {header.index("nearest_m"): "0.0"}
    _write_sheet(wb, RESULTS_SHEET, header, rows, notice, marked=marked, formats=formats)
    hits, hits_note = _cap(result, _hits(result), "hits")
    _write_sheet(wb, "hits", list(hits.columns), _records(hits), _join(notice, hits_note))
    clauses, clauses_note = _cap(result, _clauses(result), "clauses")
    _write_sheet(
        wb, "clauses", list(clauses.columns), _records(clauses), _join(notice, clauses_note)
    )
    codes = _codes(result)
    _write_sheet(wb, "codes", list(codes.columns), _records(codes), notice)
    _write_sheet(wb, "provenance", ["item", "value"], _provenance_rows(result, lang), notice)
    wb.save(folder / "screening.xlsx")
    return ["screening.xlsx"]


# ----------------------------------------------------------------------------- the results


def _results_rows(result: Any) -> tuple[list[str], list[list[Any]], set[int]]:
    """(header, rows, indexes of the rows set aside) of the results sheet."""
    sites = result.sites
    n = len(sites)
    rows_in = getattr(result, "input_rows", None)
    table = None if rows_in is None else rows_in.table
    if rows_in is None or table is None:
        table = pd.DataFrame(
            {"site_id": sites["site_id"].to_numpy(dtype=object), "name": sites["name"].to_numpy()}
        )
        at = np.arange(n)
        with_id = True
    else:
        at = np.asarray(rows_in.sites, dtype=np.int64)
        with_id = rows_in.id_column is not None
    rejected = None if rows_in is None else rows_in.rejected
    appended = [
        c
        for c in RESULT_COLUMNS
        if (c != "site_id" or not with_id) and (c != "input_error" or rejected is not None)
    ]
    results = _site_results(result)
    site_of = np.full(len(table), -1, dtype=np.int64)
    site_of[at] = np.arange(n)
    errors = (
        {}
        if rejected is None
        else dict(zip(rejected["position"], rejected["message"], strict=True))
    )
    input_cols = [table[c].to_numpy(dtype=object) for c in table.columns]
    rows: list[list[Any]] = []
    marked: set[int] = set()
    for p in range(len(table)):
        row = [col[p] for col in input_cols]
        s = int(site_of[p])
        if s >= 0:
            row += [results[c][s] for c in appended]
        else:
            marked.add(p)
            bad = {
                "verdict_zh": INPUT_ERROR_LABELS[0],
                "verdict": "input_error",
                "input_error": errors.get(p),
            }
            row += [bad.get(c) for c in appended]
        rows.append(row)
    header = [str(c) for c in table.columns] + appended
    return header, rows, marked


def _site_results(result: Any) -> dict[str, list[Any]]:
    """Each appended column's value per site (in the sites' order)."""
    from ..tables import site_codes

    sites = result.sites
    codes = site_codes(result)
    verdicts = sites["verdict"].to_numpy(dtype=object)
    nearest = pd.to_numeric(sites["nearest_m"], errors="coerce").to_numpy(dtype=float)
    return {
        "site_id": list(sites["site_id"].to_numpy(dtype=object)),
        "verdict_zh": [VERDICT_LABELS[v][0] for v in verdicts],
        "verdict": list(verdicts),
        "rule_ids": codes.rule_ids.to_pylist(),
        "reason_codes": codes.reason_codes.to_pylist(),
        "clause_results_zh": _clause_counts(result),
        "conclusion_code": codes.conclusion_code.to_pylist(),
        "nearest_m": [round(float(x), 1) if math.isfinite(x) else None for x in nearest],
        "boundary_sensitive": [bool(b) for b in sites["boundary_sensitive"].to_numpy()],
        "input_error": [None] * len(sites),
    }


def _clause_counts(result: Any) -> list[str | None]:
    """``不符合 1 / 需论证 2 / 符合 12`` per site, from the clause table (None when no table
    is built, above :data:`zoning.tables.CLAUSES_MAX_SITES` sites)."""
    from ..tables import CLAUSES_MAX_SITES

    n = len(result.sites)
    if n > CLAUSES_MAX_SITES or not hasattr(type(result), "clauses"):
        return [None] * n
    clauses = result.clauses
    counts = (
        clauses.groupby(["site", "result"]).size().unstack(fill_value=0)
        if len(clauses)
        else pd.DataFrame()
    )
    out: list[str | None] = []
    for s in range(n):
        parts = []
        for code in _COUNTED:
            k = int(counts.at[s, code]) if s in counts.index and code in counts.columns else 0
            if k:
                parts.append(f"{CLAUSE_RESULT_LABELS[code][0]} {k}")
        out.append(" / ".join(parts) or None)
    return out


# ------------------------------------------------------------------------ hits and clauses


def _hits(result: Any) -> pd.DataFrame:
    from ..tables import _hits_table

    return _hits_table(result)


def _codes(result: Any) -> pd.DataFrame:
    """The words of the results sheet's ``reason_codes`` and ``conclusion_code``, once."""
    from ..tables import site_codes

    return site_codes(result).codes


def _clauses(result: Any) -> pd.DataFrame:
    from ..schema import CLAUSE_COLUMNS
    from ..tables import CLAUSES_MAX_SITES, _clauses_table

    if not hasattr(type(result), "clauses"):
        return pd.DataFrame({c: [] for c in CLAUSE_COLUMNS})
    if len(result.sites) > CLAUSES_MAX_SITES:
        return pd.DataFrame({c: [] for c in (*CLAUSE_COLUMNS, "data_status")})
    return _clauses_table(result)


def _cap(result: Any, table: pd.DataFrame, what: str) -> tuple[pd.DataFrame, str | None]:
    """The rows a sheet keeps, and a note when some are left out.

    As ``clauses.csv``: every row up to :data:`zoning.tables.CLAUSES_FULL_MAX_SITES` sites;
    above, only the hits with a rule that fired (the clause rows that keep a site from
    complying, as ``clauses.csv`` keeps them) up to :data:`zoning.tables.CLAUSES_MAX_SITES`
    sites; above that none.  Never more rows than a sheet holds.
    """
    from ..tables import CLAUSES_FULL_MAX_SITES, CLAUSES_MAX_SITES

    n = len(result.sites)
    note = None
    if n > CLAUSES_MAX_SITES:
        table = table.iloc[:0]
        note = (
            f"no {what} rows for {n:,} sites (more than {CLAUSES_MAX_SITES:,}): see {what}.csv"
            if what == "hits"
            else f"no clause table for {n:,} sites (more than {CLAUSES_MAX_SITES:,})"
        )
    elif n > CLAUSES_FULL_MAX_SITES and what == "hits":
        fired = table["rule_ids"].map(lambda v: isinstance(v, str) and bool(v.strip()))
        table = table[fired.to_numpy(dtype=bool)]
        note = (
            f"only the hits with a rule that fired, for {n:,} sites (more than "
            f"{CLAUSES_FULL_MAX_SITES:,}); hits.csv holds every hit"
        )
    elif n > CLAUSES_FULL_MAX_SITES:
        note = (
            f"only the violates, undecided and needs_review rows, for {n:,} sites (more than "
            f"{CLAUSES_FULL_MAX_SITES:,})"
        )
    limit = min(EXCEL_MAX_ROWS - 2, DETAIL_MAX_ROWS)
    if len(table) > limit:
        note = _join(
            note,
            f"the first {limit:,} of {len(table):,} rows (a sheet to read, not the whole table: "
            f"{what}.csv holds them)",
        )
        table = table.iloc[:limit]
    return table, note


def _records(table: pd.DataFrame) -> Iterable[list[Any]]:
    """The rows of ``table`` as lists of cell values (streamed)."""
    columns = [table[c].to_numpy(dtype=object) for c in table.columns]
    for i in range(len(table)):
        yield [col[i] for col in columns]


def _join(*notes: str | None) -> str | None:
    text = " — ".join(n for n in notes if n)
    return text or None


# ------------------------------------------------------------------------------ provenance


def _provenance_rows(result: Any, lang: str) -> list[list[Any]]:
    """(item, value) rows: tool, time, day, rule set, catalog, layers, input, notes."""
    from ..dates import TIMEZONE

    prov = result.provenance
    rule = prov.get("rule_set") or {}
    cat = prov.get("catalog") or {}
    inp = prov.get("input") or {}
    rows: list[list[Any]] = [
        ["tool", f"zoning {prov.get('tool_version')}"],
        [f"time ({TIMEZONE})", shanghai_time(prov.get("created"))],
        ["as of", prov.get("as_of")],
        ["data status", _data_status(result)],
        ["rule set", f"{rule.get('id')} {rule.get('version')} ({rule.get('status')})"],
        ["rule set SHA-256", rule.get("hash")],
        ["catalog", cat.get("title") or cat.get("path")],
        ["catalog SHA-256", cat.get("sha256")],
        ["input file", inp.get("source")],
        ["input SHA-256", inp.get("sha256")],
        ["input sheet", inp.get("sheet")],
        ["input CRS", inp.get("crs")],
        ["input conversion", inp.get("conversion")],
        ["sites", inp.get("sites")],
        ["input rows set aside", inp.get("rejected_rows")],
        ["search radius (m)", prov.get("search_radius_m")],
    ]
    for lay in prov.get("layers") or []:
        if not isinstance(lay, dict):
            continue
        title = lay.get("title_zh") if lang == "zh" else lay.get("title_en") or lay.get("title_zh")
        value = "; ".join(
            str(v)
            for v in (
                title,
                f"status {lay.get('status')}",
                f"vintage {lay.get('vintage')}",
                f"SHA-256 {lay.get('sha256')}",
                None if lay.get("load", "ok") == "ok" else f"failed: {lay.get('error')}",
            )
            if v
        )
        rows.append([f"layer {lay.get('id')}", value])
    for i, note in enumerate(result.notes, start=1):
        rows.append([f"note {i}", note])
    return [r for r in rows if r[1] is not None]


def _data_status(result: Any) -> str:
    from ..tables import _data_status as status

    return status(result)


# ---------------------------------------------------------------------------- the sheets


def _write_sheet(
    wb: Any,
    title: str,
    header: Sequence[str],
    rows: Iterable[list[Any]],
    note: str | None,
    *,
    marked: set[int] = frozenset(),  # type: ignore[assignment]
    formats: dict[int, str] | None = None,
) -> None:
    """A sheet: ``note`` (bold, red) in row 1 when given, the header (bold, frozen, with an
    autofilter), then the rows; the rows at ``marked`` highlighted, the columns of
    ``formats`` (index -> number format) formatted."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title)
    rows = list(rows) if not isinstance(rows, list) else rows
    width = max(len(header), 1)
    top = 1
    bold = Font(bold=True)
    if note:
        cell = WriteOnlyCell(ws, value=note)
        cell.font = Font(bold=True, color="C00000")
        cell.fill = PatternFill("solid", fgColor="FFF2CC")
        top = 2
    last = get_column_letter(width)
    ws.freeze_panes = f"A{top + 1}"
    ws.auto_filter.ref = f"A{top}:{last}{top + max(len(rows), 1)}"
    for c, w in enumerate(_widths(header, rows), start=1):
        ws.column_dimensions[get_column_letter(c)].width = w
    if note:
        ws.append([cell])
    ws.append([_styled(ws, h, bold) for h in header])
    fill = PatternFill("solid", fgColor="FFC7CE")
    formats = formats or {}
    # Converted column by column: most columns need no per-cell work (see _column).
    columns = [_column(ws, [r[c] for r in rows]) for c in range(len(header))]
    for i, values in enumerate(zip(*columns, strict=True)):
        cells = list(values)
        if i in marked:
            cells = [_styled(ws, v, None, fill) for v in cells]
        for c, fmt in formats.items():
            if cells[c] is not None:
                cells[c] = _styled(ws, cells[c])
                cells[c].number_format = fmt
        ws.append(cells)


def _column(ws: Any, values: list[Any]) -> list[Any]:
    """One column's cell values (:func:`_value` of each); a column of plain text, or of plain
    numbers, whose cells need nothing done is passed through at once."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    kinds = set(map(type, values))
    if kinds <= {str, type(None)}:
        texts = [v for v in values if v is not None]
        joined = "\n" + "\n".join(texts)
        if (
            "\n=" not in joined
            and not ILLEGAL_CHARACTERS_RE.search(joined)
            and max(map(len, texts), default=0) <= _MAX_TEXT
        ):
            return values
    elif kinds <= {int, bool, type(None)}:
        return values
    elif kinds <= {float, int, type(None)}:
        return [v if v is None or math.isfinite(v) else None for v in values]
    return [_value(ws, v) for v in values]


def _styled(ws: Any, value: Any, font: Any = None, fill: Any = None) -> Any:
    from openpyxl.cell import WriteOnlyCell

    value = _value(ws, value)
    cell = value if hasattr(value, "data_type") else WriteOnlyCell(ws, value=value)
    if font is not None:
        cell.font = font
    if fill is not None:
        cell.fill = fill
    return cell


def _value(ws: Any, value: Any) -> Any:
    """A cell value openpyxl writes as it is: numbers as numbers, missing as empty, text
    without the characters XML cannot hold, text starting with ``=`` as text."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime.datetime):
        return value.replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, datetime.date | datetime.time):
        return value
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime().replace(tzinfo=None)
    if not isinstance(value, str):
        value = str(value)
    return _text(ws, value)


def _text(ws: Any, value: str) -> Any:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)[:_MAX_TEXT]
    if value.startswith("="):
        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"  # shown as the text it is, never run as a formula
        return cell
    return value


def _widths(header: Sequence[str], rows: Sequence[list[Any]], sample: int = 200) -> list[float]:
    """Readable column widths: the widest of the header and the first rows, CJK counted
    double, at most :data:`_MAX_WIDTH`."""

    def size(value: Any) -> int:
        if value is None:
            return 0
        if isinstance(value, float):
            text = f"{value:.1f}"
        elif isinstance(value, datetime.datetime):
            text = "2026-01-01 00:00"
        else:
            text = str(value)
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text[: _MAX_WIDTH * 2])

    out = []
    for c, name in enumerate(header):
        widest = max([size(name)] + [size(r[c]) for r in rows[:sample] if c < len(r)])
        out.append(float(min(max(widest + 2, 8), _MAX_WIDTH)))
    return out
