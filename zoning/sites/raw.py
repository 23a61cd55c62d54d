"""Sites' raw input and how its rows are named: the record every source fills in.

:class:`_Raw` is what a source gives before CRS, geometry and attribute handling;
:class:`_Where` names rows the way the user sees them in messages (``sites.csv, row 3``,
``feature 2``, ``wkt 1``); the small value helpers here are shared by the sources and the
attribute parsers.
"""

from __future__ import annotations

import json
import mmap
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyproj

from ..errors import SitesError, quote

_MAX_LISTED = 10


@dataclass
class _Where:
    """How rows are named in messages: ``sites.csv, row 3`` or ``feature 2`` or ``wkt 1``."""

    source: str | None
    word: str
    start: int = 1
    labels: Any = None  # an Index of labels instead of numbers (DataFrames)
    title: str | None = None  # what to call inline input in messages: "wkt", "points"
    file: str | None = None  # the file, when ``source`` says more (``book.xlsx, sheet 项目``)
    letters: dict[str, str] | None = None  # spreadsheet column letter of each column

    def label(self, i: int) -> Any:
        """How row ``i`` is numbered: its label, or ``i + start``."""
        return self.labels[i] if self.labels is not None else i + self.start

    def labels_of(self, n: int) -> np.ndarray:
        """The labels of rows ``0..n-1`` (:meth:`label` of each), an object array."""
        if self.labels is None:
            return (np.arange(n, dtype=np.int64) + self.start).astype(object)
        return np.asarray(self.labels[:n], dtype=object)

    def row(self, i: int) -> str:
        prefix = f"{self.source}, " if self.source else ""
        return f"{prefix}{self.word} {self.label(i)}"

    def cell(self, i: int, column: str) -> str:
        """``sites.csv, row 3, column 'lat'``; in a workbook ``book.xlsx, sheet S, row 7 (D7),
        column '纬度'``, the cell as Excel names it."""
        letter = (self.letters or {}).get(column)
        ref = f" ({letter}{self.label(i)})" if letter else ""
        return f"{self.row(i)}{ref}, column {quote(column)}"

    def subset(self, keep: np.ndarray) -> _Where:
        """The same naming for the rows ``keep`` (a boolean mask) of the rows named now."""
        n = len(keep)
        labels = self.labels_of(n)[keep]
        return _Where(
            self.source, self.word, self.start, labels, self.title, self.file, self.letters
        )

    def rows(self, positions: np.ndarray) -> str:
        """``row 3, row 7 and 2 more`` for the first few positions."""
        pos = [int(p) for p in positions[:_MAX_LISTED]]
        words = [
            f"{self.word} {self.labels[p] if self.labels is not None else p + self.start}"
            for p in pos
        ]
        more = len(positions) - len(pos)
        return ", ".join(words) + (f" and {more} more" if more else "")

    def located(self, positions: np.ndarray) -> str:
        """``sites.csv: row 3, row 7`` (or ``wkt 2`` for inline input)."""
        return f"{self.source}: {self.rows(positions)}" if self.source else self.rows(positions)

    @property
    def name(self) -> str:
        return self.source or self.title or "sites"


@dataclass
class _Raw:
    """Input gathered from any source, before CRS, geometry and attribute handling."""

    where: _Where
    n: int
    table: pd.DataFrame | None = None  # attribute columns (may include geometry columns)
    geoms: np.ndarray | None = None  # shapely geometries, or
    xy: tuple[np.ndarray, np.ndarray] | None = None  # coordinates of point sites
    own_crs: pyproj.CRS | None = None
    own_label: str | None = None
    own_unusable: str | None = None  # "a local (engineering) CRS" when the file has one
    lonlat: bool = False  # the coordinates are named longitude/latitude (columns or points=)
    crs_subject: str = ""  # what has no CRS, for the message: "columns x/y"
    geometry_columns: tuple[str, ...] = ()
    file_ids: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)
    # Rows set aside (on_row_error="report"): what was input, and where each row now is.
    input_table: pd.DataFrame | None = None  # every row as read (before any was set aside)
    input_where: _Where | None = None  # how the rows of ``input_table`` are named
    positions: np.ndarray | None = None  # position in the input of each row left (None: all)
    errors: list[_RowsError] = field(default_factory=list)  # rows set aside, by check

    def input_positions(self) -> np.ndarray:
        """The position in the input of each row left."""
        return np.arange(self.n) if self.positions is None else self.positions

    def without(self, error: _RowsError) -> _Raw:
        """These rows without those ``error`` names (their positions now); the error is kept,
        its rows renamed to their positions in the input."""
        keep = np.ones(self.n, dtype=bool)
        keep[[p for p, _, _ in error.rows]] = False
        pos = self.input_positions()
        self.errors.append(error.moved(pos))
        return _Raw(
            where=self.where.subset(keep),
            n=int(keep.sum()),
            table=None if self.table is None else self.table[keep].reset_index(drop=True),
            geoms=None if self.geoms is None else self.geoms[keep],
            xy=None if self.xy is None else (self.xy[0][keep], self.xy[1][keep]),
            own_crs=self.own_crs,
            own_label=self.own_label,
            own_unusable=self.own_unusable,
            lonlat=self.lonlat,
            crs_subject=self.crs_subject,
            geometry_columns=self.geometry_columns,
            file_ids=None if self.file_ids is None else self.file_ids[keep],
            notes=self.notes,
            input_table=self.input_table,
            input_where=self.input_where,
            positions=pos[keep],
            errors=self.errors,
        )


class _RowsError(SitesError):
    """Rows that do not parse: ``rows`` holds (position, field, one-line message) of each, the
    first one's message is the error's.  :func:`~zoning.sites.load_sites` stops at it
    (``on_row_error="fail"``) or sets the rows aside (``"report"``)."""

    def __init__(self, rows: list[tuple[int, str | None, str]]) -> None:
        super().__init__(rows[0][2])
        self.rows = rows

    @classmethod
    def at(cls, positions: Any, field: str | None, message: Callable[[int], str]) -> _RowsError:
        """The error of the rows at ``positions`` (at least one), ``message(i)`` each."""
        return cls([(int(i), field, message(int(i))) for i in positions])

    def moved(self, positions: np.ndarray) -> _RowsError:
        """The same rows, numbered by ``positions`` (their positions in the input)."""
        return _RowsError([(int(positions[p]), f, m) for p, f, m in self.rows])


class _Bad(ValueError):
    """A cell value that does not parse (the caller adds file, row and column)."""


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…'"


def _is_blank(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _all_blank(values: pd.Series) -> bool:
    """Whether every value of ``values`` is blank (:func:`_is_blank`); stops at the first
    value that is not (a filled id column costs one look, not one per row)."""
    if len(values) and not _is_blank(values.iloc[0]):
        return False
    return all(_is_blank(v) for v in values.to_numpy(dtype=object))


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def _id_text(value: object) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def _norm(name: object) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


#: Suffixes of the files GDAL reads as GeoJSON, whose text values it cuts at a NUL.
_GEOJSON_SUFFIXES = (".geojson", ".json")
#: A NUL as JSON writes it (escaped) or raw: one pattern, so a file is scanned once.
_NUL_HINT = re.compile(rb"\\u0000|\x00")


def _nul_field(where: _Where, i: int, field: str) -> SitesError:
    """The error for a NUL character in ``field`` of row ``i``."""
    return SitesError(
        f"{where.row(i)}: {field} holds a NUL character (\\x00), which would cut the text "
        "there; remove it"
    )


def _check_geojson_nul(path: Path, where: _Where) -> None:
    """A GeoJSON feature whose id or a property holds a NUL character is an error.

    GDAL reads text as C strings and silently cuts it at a NUL, so the file is checked itself:
    a scan of the bytes for an escaped (or raw) NUL, and only when there is one the JSON is
    parsed to name the feature and the field.
    """
    try:
        if path.stat().st_size == 0:
            return
        with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            if _NUL_HINT.search(mm) is None:
                return
            data = bytes(mm)
        doc = json.loads(data.decode("utf-8", errors="replace"))
    except (OSError, ValueError, RecursionError):
        return  # the reader itself reports what it cannot read
    features = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(features, list):
        return
    for i, feature in enumerate(features):
        if not isinstance(feature, dict):
            continue
        if "\x00" in str(feature.get("id", "")):
            raise _nul_field(where, i, "the feature id")
        props = feature.get("properties")
        for key, value in props.items() if isinstance(props, dict) else ():
            if "\x00" in str(key) or (isinstance(value, str) and "\x00" in value):
                raise _nul_field(where, i, f"field {quote(str(key))}")


def _may_hold_nul(values: np.ndarray) -> bool:
    """Whether any text in ``values`` may hold a NUL (a quick test over every value at once;
    False proves there is none)."""
    try:
        return "\x00" in "".join(values)  # every value a string: one joined text searched
    except TypeError:  # other values too (None, numbers): they hold no text
        return "\x00" in "".join([v for v in values if isinstance(v, str)])


def _check_text_nul(values: np.ndarray, where: _Where, field: str) -> None:
    """A NUL character in a text value (a site id, a name) is an error naming the row."""
    if not _may_hold_nul(values):
        return
    for i, value in enumerate(values):
        if isinstance(value, str) and "\x00" in value:
            raise _nul_field(where, i, field)
