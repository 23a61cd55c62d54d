"""The CSV files of a screening: ``sites.csv``, ``hits.csv``, ``clauses.csv``, ``codes.csv``
(and ``ranking.csv``, ``rejected.csv``), in UTF-8 (with or without a byte-order mark) or GBK,
formulas made inert."""

from __future__ import annotations

import codecs
import csv
import io
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from ..io.cells import escape_cell, escape_formulas
from .frames import (
    _ranking_table,
    _rejected_table,
    clauses_arrow,
    clauses_note,
    codes_arrow,
    hits_arrow,
    sites_arrow,
)

if TYPE_CHECKING:
    from ..screening import ScreeningResult

log = logging.getLogger("zoning.screening")

__all__ = ["CSV_ENCODINGS", "check_csv_encoding", "write_csv"]

#: Encodings the CSV files can be written in: UTF-8 with a byte-order mark (the default: Excel
#: on Chinese Windows reads a CSV without one as GBK and shows UTF-8 Chinese as mojibake),
#: UTF-8 without it, and GBK (code page 936).  GBK and not GB18030: GB18030 encodes every
#: character, but those outside GBK as four-byte sequences that Excel, reading code page
#: 936, shows as garbage; GBK refuses them, naming the cell, so nothing is shown wrong.
CSV_ENCODINGS = ("utf-8-sig", "utf-8", "gbk")
_ENCODING_NAMES = {"utf-8-sig": "utf-8-sig", "utf_8_sig": "utf-8-sig", "utf-8": "utf-8",
                   "utf8": "utf-8", "gbk": "gbk", "cp936": "gbk"}  # fmt: skip


def check_csv_encoding(encoding: str) -> str:
    """The CSV encoding asked for, as one of :data:`CSV_ENCODINGS`.

    Parameters
    ----------
    encoding : str
        ``utf-8-sig``, ``utf-8`` or ``gbk`` (any case; ``utf8``, ``cp936`` accepted).

    Returns
    -------
    str
        One of :data:`CSV_ENCODINGS`.

    Raises
    ------
    ZoningError
        Another encoding (one line naming the choices).
    """
    from ..errors import ZoningError, quote

    name = _ENCODING_NAMES.get(str(encoding).strip().lower())
    if name is None:
        raise ZoningError(
            f"csv_encoding / --csv-encoding {quote(encoding)}: choose {', '.join(CSV_ENCODINGS)} "
            "(utf-8-sig, the default, is UTF-8 with a byte-order mark: Excel opens it)"
        )
    return name


def _check_gbk(table: pd.DataFrame, name: str) -> None:
    """A text GBK cannot encode is an error naming the file, the row and the column."""
    from ..errors import ZoningError, quote

    def bad_char(text: str) -> str | None:
        try:
            text.encode("gbk")
            return None
        except UnicodeEncodeError as exc:
            return text[exc.start]

    def fail(where: str, ch: str) -> None:
        raise ZoningError(
            f"{name}, {where}: the character {ch!r} (U+{ord(ch):04X}) cannot be written in "
            "GBK; write the CSV as UTF-8 (csv_encoding='utf-8-sig' / --csv-encoding utf-8-sig, "
            "the default)"
        )

    for column in table.columns:
        ch = bad_char(str(column))
        if ch is not None:
            fail(f"header, column {quote(column)}", ch)
    for column in table.columns:
        dtype = table[column].dtype
        if not (pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)):
            continue
        values = table[column].to_numpy(dtype=object)
        texts = [v for v in values if isinstance(v, str)]
        if bad_char("\n".join(texts)) is None:
            continue
        for i, v in enumerate(values):
            ch = bad_char(v) if isinstance(v, str) else None
            if ch is not None:
                fail(f"row {i + 2}, column {quote(column)}", ch)


def _write_table(table: pd.DataFrame, folder: Path, name: str, encoding: str) -> None:
    """One CSV file: formulas made inert, in ``encoding`` (GBK checked first)."""
    table = escape_formulas(table)
    if encoding == "gbk":
        _check_gbk(table, name)
    table.to_csv(folder / name, index=False, encoding=encoding)


#: A text a spreadsheet would run as a formula (:func:`zoning.io.cells.escape_cell`).
_FORMULA = r"^[\t\r]*[=+\-@]"
_STARTS = pa.array(["=", "+", "-", "@", "\t", "\r"])


def _inert(table: pa.Table) -> pa.Table:
    """``table`` as CSV shows it: formulas made inert (a leading ``'``, as
    :func:`zoning.io.cells.escape_formulas`), booleans as ``True`` / ``False``, vectorised."""
    columns = []
    for field, col in zip(table.schema, table.columns, strict=True):
        if pa.types.is_string(field.type) and len(col):
            first = pc.utf8_slice_codeunits(col, 0, 1)
            if pc.any(pc.is_in(first, value_set=_STARTS)).as_py():  # rare: then the regex
                hit = pc.match_substring_regex(col, _FORMULA)
                col = pc.if_else(hit, pc.binary_join_element_wise("'", col, ""), col)
        elif pa.types.is_boolean(field.type):
            col = pc.if_else(col, "True", "False")
        columns.append(col)
    return pa.Table.from_arrays(columns, names=[escape_cell(n) for n in table.column_names])


def _write_arrow(table: pa.Table, folder: Path, name: str, encoding: str) -> None:
    """One CSV file from an Arrow table: Arrow's CSV writer for UTF-8 (text quoted, empty
    cells for missing values), the pandas path for GBK (checked first)."""
    if "geometry" in table.column_names:
        table = table.drop_columns(["geometry"])
    if encoding == "gbk":
        _write_table(table.to_pandas(), folder, name, encoding)
        return
    table = _inert(table)
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow(table.column_names)  # quoted only if need be
    with open(folder / name, "wb") as fh:
        if encoding == "utf-8-sig":
            fh.write(codecs.BOM_UTF8)
        fh.write(header.getvalue().encode("utf-8"))
        pa_csv.write_csv(table, fh, pa_csv.WriteOptions(include_header=False))


def write_csv(
    result: ScreeningResult, folder: Path, *, encoding: str = "utf-8-sig"
) -> dict[str, list[str]]:
    """Write ``sites.csv``, ``hits.csv``, ``codes.csv`` and ``clauses.csv`` (and
    ``ranking.csv`` for a comparison, ``rejected.csv`` when rows were read with
    ``on_row_error="report"``).

    Parameters
    ----------
    result : ScreeningResult
        What to write.
    folder : Path
        An existing folder; the files are written directly into it.
    encoding : {"utf-8-sig", "utf-8", "gbk"}, keyword-only
        :data:`CSV_ENCODINGS`; default UTF-8 with a byte-order mark, which Excel opens.

    Returns
    -------
    dict
        The names written, by output: ``csv`` -> ``["sites.csv", "hits.csv"]``, ``codes`` ->
        ``["codes.csv"]`` (the words of the code columns of ``sites.csv``), ``clauses``
        -> ``["clauses.csv"]`` (the clause table, cut down above
        :data:`CLAUSES_FULL_MAX_SITES` sites, see :func:`clauses_note`), for a
        comparison ``ranking`` -> ``["ranking.csv"]``, and ``rejected`` ->
        ``["rejected.csv"]`` (``row``, ``site_id``, ``field``, ``message`` of each row set
        aside; a header only when none was).

    Raises
    ------
    ZoningError
        An unknown encoding; with ``gbk``, a character GBK cannot encode (the file, row and
        column are named).

    Notes
    -----
    ``sites.csv`` gives the longitude and latitude (EPSG:4326, 7 decimals) of a point on each
    site; areas and distances are those of the result (working CRS, metres).  Reading
    ``result.hits`` builds that table if it was not built yet.

    Cost: UTF-8 files are written by Arrow's CSV writer from the Arrow tables of
    :mod:`zoning.tables.frames` (no Python per row; text cells are quoted); GBK goes
    through pandas, cell by cell, to name a character GBK cannot encode.
    """
    encoding = check_csv_encoding(encoding)
    _write_arrow(sites_arrow(result, geometry=False), folder, "sites.csv", encoding)
    _write_arrow(hits_arrow(result), folder, "hits.csv", encoding)
    _write_arrow(codes_arrow(result), folder, "codes.csv", encoding)
    names = {"csv": ["sites.csv", "hits.csv"], "codes": ["codes.csv"]}
    if hasattr(type(result), "clauses"):
        note = clauses_note(result)
        if note:
            log.warning(note)
        _write_arrow(clauses_arrow(result), folder, "clauses.csv", encoding)
        names["clauses"] = ["clauses.csv"]
    if result.ranking is not None:
        _write_table(_ranking_table(result), folder, "ranking.csv", encoding)
        names["ranking"] = ["ranking.csv"]
    rejected = _rejected_table(result)
    if rejected is not None:
        _write_table(rejected, folder, "rejected.csv", encoding)
        names["rejected"] = ["rejected.csv"]
    return names
