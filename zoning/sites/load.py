"""Sites in: read the project sites to screen, with their project attributes.

:func:`load_sites` accepts what planners actually have:

- vector files GDAL reads (GeoJSON -- including the FeatureCollection a Leaflet
  draw tool exports --, GeoPackage, Shapefile, zipped Shapefile, KML; a
  spreadsheet GDAL reads without geometry is treated like a CSV);
- CSV with longitude/latitude columns (``lon``/``lng``/``longitude``/``经度``,
  ``lat``/``latitude``/``纬度``), projected ``x``/``y`` columns, or a WKT column
  (``wkt``/``geometry``/``geom``);
- Python objects: a GeoDataFrame, GeoSeries, shapely geometry or list of
  geometries, a plain DataFrame shaped like the CSV;
- inline ``wkt=`` strings and ``points=`` (``(lon, lat)`` or ``"LON,LAT"``).

It returns :class:`Sites`: a GeoDataFrame in :data:`zoning.WORKING_CRS` with one
row per site and the columns of the shared contract (``site_id``, ``name``,
``industry``, ``industry_division``, ``nature``, the flags ``linear``,
``wastewater``, ``air``, ``hazardous``, ``two_high``, ``two_high_source``,
``linear_source``, ``input_crs``, ``datum_shift_m``, ``uncertainty_m``, ``geometry``).

Sites are the user's own input, so nothing is dropped: a missing or empty
geometry, a GeometryCollection, a bad coordinate, a bad industry code or flag,
or a duplicate id is a :class:`~zoning.errors.SitesError` whose one-line message
names the file, the row and the column.  Invalid polygons are repaired with
``make_valid`` and listed in :attr:`Sites.notes`; Z is dropped with a note.

Rows are named as the user sees them: in a CSV, ``row N`` is the spreadsheet
row (the header is row 1, the first data row is row 2); in other files,
``feature N`` is the feature's position starting at 1; in a DataFrame,
``row <index label>``; inline input is ``wkt N`` / ``point N``.

Project attributes come from columns (names compared case-insensitively, with
Chinese aliases: ``id``/``编号``, ``name``/``项目名称``, ``industry``/``行业代码``,
``nature``/``建设性质``, ``linear``/``线性工程``, ``wastewater``/``排放废水``,
``air``/``废气``, ``hazardous``/``危险化学品``, ``two_high``/``两高``) or from the
``attributes=`` mapping, which applies to every site (the CLI's ``--industry``
etc.).  A column and an option for the same attribute must agree on every row.
Flags accept yes/no, true/false, y/n, 1/0, 是/否 (any case); an empty cell is
None (not declared).  Natures accept new/expansion/rebuild/relocation and
新建/扩建/改建/迁建; 改扩建 counts as an expansion (it adds capacity).  Industry
codes are GB/T 4754-2017 (:func:`parse_industry_code`); "两高" is derived from the
major division (:data:`TWO_HIGH_DIVISIONS`, less :data:`TWO_HIGH_EXCEPTIONS`) unless
declared; ``linear`` is derived (True) for LineString/MultiLineString sites unless
declared -- points and polygons stay undeclared.  ``two_high_source`` and
``linear_source`` say ``declared`` or ``derived`` (None: neither).  Sites without
an id column are numbered ``1..n`` (GeoPackage and GeoJSON feature ids are used
when the file has them).

Coordinates without a CRS of their own -- longitude/latitude columns, ``points=``,
x/y and WKT columns, ``wkt=``, bare geometries -- need a declared ``crs``; none
declared is an error, never a guess: the same longitude/latitude read as WGS84
(GPS, ``EPSG:4326``), GCJ-02 (Amap, Tencent: ``gcj02``) or BD-09 (Baidu:
``bd09``) are 300-600 m apart in Shanghai.  GeoJSON is WGS84 by definition
(RFC 7946), so a draw tool's export needs no declaration.

Coordinates copied from Chinese web maps (Amap/Tencent: GCJ-02, Baidu: BD-09)
are declared with ``crs="gcj02"`` / ``crs="bd09"`` and converted vertex by
vertex to WGS84 (:mod:`zoning.crs`).  Each site records how far the conversion
moved it (``datum_shift_m``) and the positional uncertainty the conversion
adds (``uncertainty_m``, see :data:`GCJ02_UNCERTAINTY_M`).
"""

from __future__ import annotations

import functools
import logging
import re
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

from ..crs import (
    WORKING_CRS,
    ParsedCRS,
    bd09_to_wgs84,
    gcj02_to_wgs84,
    parse_crs,
    to_wgs84_geometries,
)
from ..errors import LayerReadError, SitesError
from ..io import (
    _SEGMENT_DEG,
    _SEGMENT_M,
    _first_line,
    _gk_zone,
    _is_gk_cm,
    _polygonal,
    _shapefile_encoding,
    _zip_source,
    drop_empty_parts,
    split_zip,
)

__all__ = [
    "BD09_UNCERTAINTY_M",
    "FLAGS",
    "GCJ02_UNCERTAINTY_M",
    "NATURES",
    "SITE_COLUMNS",
    "TWO_HIGH_DIVISIONS",
    "TWO_HIGH_EXCEPTIONS",
    "Sites",
    "load_sites",
    "parse_industry_code",
]

log = logging.getLogger(__name__)

#: Assumed positional uncertainty (m) of a site entered in GCJ-02 (Amap, Tencent).  This is an
#: assumption, not a measurement: the published GCJ-02 formulas reproduce the official (secret)
#: shift to within a few metres, and a point picked on a web map and copied is rarely better
#: than a few metres either; 10 m covers both.
GCJ02_UNCERTAINTY_M = 10.0
#: Assumed positional uncertainty (m) of a site entered in BD-09 (Baidu).  An assumption, stated
#: as such: BD-09 adds Baidu's own published (approximate) shift on top of GCJ-02, and Baidu's
#: coordinate picker is coarser; 20 m covers the GCJ-02 budget twice over.
BD09_UNCERTAINTY_M = 20.0
_UNCERTAINTY = {"gcj02": GCJ02_UNCERTAINTY_M, "bd09": BD09_UNCERTAINTY_M}
_TO_WGS84 = {"gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}

#: GB/T 4754-2017 major divisions whose projects count as "两高" (high energy use, high
#: emission): petroleum/coal processing, chemicals, non-metallic minerals, ferrous and
#: non-ferrous smelting, power and heat (环环评〔2021〕45号; NDRC's six industries).
TWO_HIGH_DIVISIONS = frozenset({"25", "26", "30", "31", "32", "44"})
#: Classes inside those divisions that are not "两高" although their division is: renewable,
#: nuclear and other non-fossil power generation and the grid itself (the MEE's six types
#: name 煤电, coal power, not the whole power sector).  A code given only to the division
#: (``44``) or group (``441``) still counts as 两高.
TWO_HIGH_EXCEPTIONS = frozenset({"4413", "4414", "4415", "4416", "4417", "4419", "4420"})
#: Project natures, in the contract's spelling.
NATURES = ("new", "expansion", "rebuild", "relocation")
#: Yes/no project attributes.
FLAGS = ("linear", "wastewater", "air", "hazardous", "two_high")
#: Columns of :attr:`Sites.gdf`, in order.
SITE_COLUMNS = (
    "site_id",
    "name",
    "industry",
    "industry_division",
    "nature",
    *FLAGS,
    "two_high_source",
    "linear_source",
    "input_crs",
    "datum_shift_m",
    "uncertainty_m",
    "geometry",
)

# GB/T 4754-2017 sections (门类) and their major divisions (大类), inclusive ranges.
_SECTIONS = (
    ("A", 1, 5),
    ("B", 6, 12),
    ("C", 13, 43),
    ("D", 44, 46),
    ("E", 47, 50),
    ("F", 51, 52),
    ("G", 53, 60),
    ("H", 61, 62),
    ("I", 63, 65),
    ("J", 66, 69),
    ("K", 70, 70),
    ("L", 71, 72),
    ("M", 73, 75),
    ("N", 76, 79),
    ("O", 80, 82),
    ("P", 83, 83),
    ("Q", 84, 85),
    ("R", 86, 90),
    ("S", 91, 96),
    ("T", 97, 97),
)
_SECTION_OF = {d: letter for letter, lo, hi in _SECTIONS for d in range(lo, hi + 1)}
_SECTION_RANGE = {letter: (lo, hi) for letter, lo, hi in _SECTIONS}
_CODE_RE = re.compile(r"([A-Za-z]?)(\d{2,4})")

_NATURE_WORDS = {
    "new": "new",
    "expansion": "expansion",
    "rebuild": "rebuild",
    "relocation": "relocation",
    "新建": "new",
    "扩建": "expansion",
    "改建": "rebuild",
    "迁建": "relocation",
    # 改扩建 (rebuilding with added capacity) adds capacity, which is what the access lists
    # regulate, so it counts as an expansion.
    "改扩建": "expansion",
}
_TRUE = frozenset({"true", "yes", "y", "1", "是"})
_FALSE = frozenset({"false", "no", "n", "0", "否"})

# Attribute columns: accepted names (compared case-insensitively, spaces and '-' as '_').
_ATTR_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "site_id", "siteid", "编号", "项目编号", "序号"),
    "name": ("name", "site_name", "project_name", "名称", "项目名称"),
    "industry": (
        "industry",
        "industry_code",
        "gbt4754",
        "gb_t4754",
        "gb4754",
        "行业代码",
        "行业类别代码",
        "行业分类代码",
        "国民经济行业代码",
    ),
    "nature": ("nature", "建设性质", "性质"),
    "linear": ("linear", "线性工程", "线性基础设施", "是否线性工程"),
    "wastewater": ("wastewater", "废水", "排放废水", "废水排放", "是否排放废水"),
    "air": ("air", "废气", "排放废气", "大气污染物", "是否排放废气"),
    "hazardous": ("hazardous", "危险化学品", "危化品", "涉及危险化学品"),
    "two_high": ("two_high", "两高", "是否两高"),
}
_ATTRIBUTE_COLUMNS = SITE_COLUMNS[1 : SITE_COLUMNS.index("linear_source") + 1]
_OPTION_KEYS = ("id", "name", "industry", "nature", *FLAGS)
# Geometry columns of a table.
_LON = ("lon", "lng", "long", "longitude", "经度")
_LAT = ("lat", "latitude", "纬度")
_X = ("x", "easting", "x坐标")
_Y = ("y", "northing", "y坐标")
_WKT = ("wkt", "geometry", "geom", "the_geom")
_COORD_NAMES = frozenset(n.lower() for n in (*_LON, *_LAT, *_X, *_Y))
_TABLE_SUFFIXES = {".csv", ".tsv", ".txt"}
_WKT_WORDS = ("POINT", "LINESTRING", "POLYGON", "MULTI", "GEOMETRYCOLLECTION")
_TYPE_NAMES = (
    "Point",
    "LineString",
    "LinearRing",
    "Polygon",
    "MultiPoint",
    "MultiLineString",
    "MultiPolygon",
    "GeometryCollection",
)
_MAX_LISTED = 10
#: The CRS choices named when longitude/latitude come without one.
_LONLAT_CHOICES = (
    "crs= / --crs: EPSG:4326 for GPS/WGS84 coordinates, gcj02 for coordinates copied from "
    "Amap or Tencent maps, bd09 for Baidu maps (EPSG:4490 for CGCS2000)"
)
#: Broad box around Shanghai (lon/lat); sites outside it are noted, not refused.
_SHANGHAI_REGION = (119.0, 29.5, 124.5, 33.0)
_GEOD = pyproj.Geod(ellps="WGS84")


@dataclass(frozen=True)
class Sites:
    """Project sites ready to screen.

    Attributes
    ----------
    gdf : geopandas.GeoDataFrame
        One row per site, index ``0..n-1``, in :data:`zoning.WORKING_CRS`, with the
        columns :data:`SITE_COLUMNS`.  Flags are ``True``/``False``/``None`` (None:
        not declared); text attributes are ``str`` or ``None``.
    source : str
        Where the sites came from: the path as given, ``"wkt"``, ``"points"``,
        ``"GeoDataFrame"`` ...
    input_crs : str
        Label of the CRS the coordinates were given in (``"EPSG:4326"``, ``"gcj02"``).
    pseudo : str or None
        ``"gcj02"`` or ``"bd09"`` when the coordinates were converted from a web-map
        pseudo-CRS, else None.
    notes : list of str
        What was done that the user should know: repairs, Z dropped, encodings,
        conversions, derived attributes.
    """

    gdf: gpd.GeoDataFrame
    source: str
    input_crs: str
    pseudo: str | None = None
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.gdf)

    def __repr__(self) -> str:
        return (
            f"Sites(n={len(self.gdf)}, source={self.source!r}, input_crs={self.input_crs!r}, "
            f"pseudo={self.pseudo!r})"
        )


# --------------------------------------------------------------------------- rows and values


@dataclass
class _Where:
    """How rows are named in messages: ``sites.csv, row 3`` or ``feature 2`` or ``wkt 1``."""

    source: str | None
    word: str
    start: int = 1
    labels: Any = None  # an Index of labels instead of numbers (DataFrames)
    title: str | None = None  # what to call inline input in messages: "wkt", "points"

    def row(self, i: int) -> str:
        label = self.labels[i] if self.labels is not None else i + self.start
        prefix = f"{self.source}, " if self.source else ""
        return f"{prefix}{self.word} {label}"

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


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def parse_industry_code(text: str) -> tuple[str, str]:
    """Normalise a GB/T 4754-2017 industry code: ``"2614"`` -> ``("C2614", "26")``.

    Accepts an optional section letter (门类, A-T, any case) followed by 2-4 digits
    (大类 / 中类 / 小类), with spaces anywhere: ``"C2614"``, ``"c2614"``, ``" C 2614 "``,
    ``"261"``, ``"26"``.  The major division (the first two digits) must be 01-97 and
    a given letter must be the section of that division.

    Parameters
    ----------
    text : str
        The code as written.  Numbers are refused: a code stored as a number has
        lost its leading zero (``0511`` -> ``511``, which reads as division 51).

    Returns
    -------
    (code, division) : tuple of str
        The code with its section letter (``"C2614"``) and the two-digit major
        division (``"26"``).

    Raises
    ------
    SitesError
        When the text is not such a code, with the reason.

    Notes
    -----
    Only the section and major division are checked against the standard (the
    table in ``shanghai_facts.md`` §5.2); whether a 3- or 4-digit class exists
    is not checked, since the full class list is not shipped.
    """
    try:
        return _parse_industry(text)
    except _Bad as exc:
        raise SitesError(str(exc)) from None


def _parse_industry(text: object) -> tuple[str, str]:
    if _is_number(text):
        raise _Bad(
            f"{text!r} is a number; store industry codes as text (leading zeros matter: "
            "0511 stored as a number reads as 511)"
        )
    if not isinstance(text, str):
        raise _Bad(f"{_short(text)} is not a GB/T 4754-2017 industry code")
    compact = "".join(text.split())
    m = _CODE_RE.fullmatch(compact)
    if m is None:
        raise _Bad(
            f"{_short(text)} is not a GB/T 4754-2017 industry code (expected an optional "
            "section letter A-T and 2-4 digits, e.g. C2614 or 2614)"
        )
    letter, digits = m.group(1).upper(), m.group(2)
    division = digits[:2]
    section = _SECTION_OF.get(int(division))
    if section is None:
        raise _Bad(
            f"{_short(text)}: major division {division} does not exist in GB/T 4754-2017 (01-97)"
        )
    if letter and letter != section:
        if letter in _SECTION_RANGE:
            lo, hi = _SECTION_RANGE[letter]
            span = f"{lo:02d}-{hi:02d}" if lo != hi else f"{lo:02d}"
            why = f"section {letter} holds divisions {span}"
        else:
            why = "sections are A-T"
        raise _Bad(
            f"{_short(text)}: section letter {letter} does not match major division {division} "
            f"(section {section}; {why})"
        )
    return section + digits, division


def _derived_two_high(parsed: tuple[str, str]) -> bool:
    """ "两高" from a parsed industry code (code with section letter, division)."""
    digits = parsed[0].lstrip("ABCDEFGHIJKLMNOPQRST")
    return parsed[1] in TWO_HIGH_DIVISIONS and digits[:4] not in TWO_HIGH_EXCEPTIONS


def _parse_industry_cell(value: object) -> tuple[str, str] | None:
    return None if _is_blank(value) else _parse_industry(value)


def _parse_flag(value: object) -> bool | None:
    if _is_blank(value):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if _is_number(value):
        if value == 1:
            return True
        if value == 0:
            return False
    elif isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise _Bad(
        f"{_short(value)} is not yes/no (use yes/no, true/false, y/n, 1/0, 是/否, or leave empty)"
    )


def _parse_nature(value: object) -> str | None:
    if _is_blank(value):
        return None
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _NATURE_WORDS:
            return _NATURE_WORDS[word]
    allowed = ", ".join(_NATURE_WORDS)
    raise _Bad(f"{_short(value)} is not a project nature (allowed: {allowed})")


def _parse_text(value: object) -> str | None:
    if _is_blank(value):
        return None
    return _id_text(value)


def _id_text(value: object) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def _map_values(
    values: Any, parse: Callable[[object], Any], where: _Where, column: str
) -> tuple[np.ndarray, list[Any]]:
    """Parse each distinct value once: (codes into the parsed list, parsed distinct values).

    Blank cells are code -1, and the parsed list ends with ``parse(None)``, so
    ``np.asarray(parsed, dtype=object)[codes]`` is the parsed column.
    """
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    parsed: list[Any] = []
    for k, value in enumerate(uniques):
        try:
            parsed.append(parse(value))
        except _Bad as exc:
            row = int(np.flatnonzero(codes == k)[0])
            raise SitesError(f"{where.row(row)}, column {column!r}: {exc}") from None
    parsed.append(None)
    return codes, parsed


def _take(parsed: list[Any], codes: np.ndarray) -> np.ndarray:
    arr = np.empty(len(parsed), dtype=object)
    arr[:] = parsed
    return arr[codes]


# --------------------------------------------------------------------------- raw input


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


def _norm(name: object) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


def _find(columns: Iterable[str], names: tuple[str, ...], where: _Where, what: str) -> str | None:
    wanted = {n.lower() for n in names}
    hits = [c for c in columns if _norm(c) in wanted]
    if len(hits) > 1:
        raise SitesError(
            f"{where.name}: columns {', '.join(repr(h) for h in hits)} all look like the {what}; "
            "keep one"
        )
    return hits[0] if hits else None


def _numbers(series: pd.Series, where: _Where, column: str) -> np.ndarray:
    """A coordinate column as float64; a blank or non-numeric cell is an error naming it."""
    try:
        values = series.to_numpy(dtype="float64", na_value=np.nan)
    except (ValueError, TypeError):
        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raw = series.iloc[i]
        what = "is empty" if _is_blank(raw) else f"holds {_short(raw)}, not a number"
        raise SitesError(f"{where.row(i)}, column {column!r} {what}: every site needs coordinates")
    return values


def _from_wkt_values(values: np.ndarray, where: _Where, column: str | None) -> np.ndarray:
    col = f", column {column!r}" if column else ""
    texts = np.array([v if isinstance(v, str) else "" for v in values], dtype=object)
    blank = (
        np.array([not t.strip() for t in texts], dtype=bool) if len(texts) else np.zeros(0, bool)
    )
    if blank.any():
        i = int(np.flatnonzero(blank)[0])
        raise SitesError(f"{where.row(i)}{col}: no geometry (empty WKT); every site needs one")
    geoms = shapely.from_wkt(texts, on_invalid="ignore")
    bad = shapely.is_missing(geoms)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise SitesError(f"{where.row(i)}{col}: {_short(texts[i])} is not valid WKT")
    return geoms


def _from_table(df: pd.DataFrame, where: _Where) -> _Raw:
    """Sites from a table: a WKT column, lon/lat columns or x/y columns."""
    cols = [str(c) for c in df.columns]
    df = df.set_axis(cols, axis=1)
    wkt = _find(cols, _WKT, where, "WKT geometry column")
    lon = _find(cols, _LON, where, "longitude")
    lat = _find(cols, _LAT, where, "latitude")
    x = _find(cols, _X, where, "x coordinate")
    y = _find(cols, _Y, where, "y coordinate")
    for a, b, na, nb in ((lon, lat, "longitude", "latitude"), (x, y, "x", "y")):
        if (a is None) != (b is None):
            have = a or b
            raise SitesError(
                f"{where.name}: column {have!r} has no matching {nb if a else na} column"
            )
    raw = _Raw(where=where, n=len(df), table=df)
    ignored: list[str] = []
    if wkt is not None:
        raw.geoms = _from_wkt_values(df[wkt].to_numpy(dtype=object), where, wkt)
        raw.crs_subject = f"WKT column {wkt!r}"
        raw.geometry_columns = (wkt,)
        ignored = [c for c in (lon, lat, x, y) if c]
    elif lon is not None:
        raw.xy = (_numbers(df[lon], where, lon), _numbers(df[lat], where, lat))
        raw.lonlat = True
        raw.crs_subject = f"columns {lon!r}/{lat!r}"
        raw.geometry_columns = (lon, lat)
        ignored = [c for c in (x, y) if c]
    elif x is not None:
        raw.xy = (_numbers(df[x], where, x), _numbers(df[y], where, y))
        raw.crs_subject = f"columns {x!r}/{y!r}"
        raw.geometry_columns = (x, y)
    else:
        shown = ", ".join(repr(c) for c in cols[:12]) or "none"
        raise SitesError(
            f"{where.name}: no coordinate columns (looked for lon/lat, lng, longitude/latitude, "
            f"经度/纬度, x/y or a WKT column wkt/geometry/geom; columns: {shown})"
        )
    if ignored:
        used = ", ".join(repr(c) for c in raw.geometry_columns)
        raw.notes.append(
            f"geometry taken from {used}; columns {', '.join(repr(c) for c in ignored)} ignored"
        )
    return raw


def _sniff_encoding(path: Path, encoding: str | None) -> tuple[str, str | None]:
    """(encoding, note) for a text table: UTF-8 (BOM or not), else GB18030 (Excel in Chinese)."""
    if encoding is not None:
        return encoding, None
    data = path.read_bytes()
    try:
        data.decode("utf-8")
        return "utf-8-sig", None
    except UnicodeDecodeError:
        pass
    try:
        data.decode("gb18030")
    except UnicodeDecodeError:
        raise SitesError(
            f"{path}: text is neither UTF-8 nor GB18030; declare its encoding (encoding=, e.g. "
            "Big5 or ISO-8859-1)"
        ) from None
    return "gb18030", f"{path.name} is not UTF-8: read as GB18030 (detected)"


def _read_csv(path: Path, label: str, encoding: str | None) -> _Raw:
    enc, note = _sniff_encoding(path, encoding)
    with path.open(encoding=enc, errors="replace", newline="") as fh:
        header = fh.readline()
    if not header.strip():
        raise SitesError(f"{label}: empty file (no header row)")
    sep = max([",", "\t", ";", "|"], key=header.count)
    if header.count(sep) == 0:
        sep = ","
    # Every cell is read as text (industry codes keep their leading zeros); coordinate columns
    # are parsed as numbers by the C parser when every cell is one -- otherwise everything is
    # read as text and the offending cell is named.
    names = [c.strip().strip('"').strip() for c in header.rstrip("\r\n").split(sep)]
    coords = {c for c in names if _norm(c) in _COORD_NAMES}
    df = None
    for dtypes in ({c: "float64" for c in coords}, {}) if coords else ({},):
        try:
            df = pd.read_csv(
                path,
                dtype=defaultdict(lambda: object, dtypes),
                na_filter=False,
                keep_default_na=False,
                encoding=enc,
                sep=sep,
                skipinitialspace=True,
            )
            break
        except ValueError as exc:
            if isinstance(exc, pd.errors.ParserError | pd.errors.EmptyDataError) or not dtypes:
                raise SitesError(f"{label}: cannot read as CSV: {_first_line(exc)}") from None
        except UnicodeDecodeError as exc:
            raise SitesError(f"{label}: cannot read as CSV: {_first_line(exc)}") from None
    assert df is not None
    df = df.rename(columns=lambda c: str(c).strip())
    raw = _from_table(df, _Where(label, "row", start=2))
    if note:
        raw.notes.insert(0, note)
    return raw


def _open_vector(source: str, label: str, layer: str | None, encoding: str | None) -> _Raw:
    zip_path, _ = split_zip(source)
    if zip_path is not None:
        try:
            source = _zip_source(source, SimpleNamespace(id="sites"))  # type: ignore[arg-type]
        except LayerReadError as exc:
            raise LayerReadError(str(exc).replace("layer 'sites': ", f"{label}: ", 1)) from None
    try:
        names = [str(n) for n in pyogrio.list_layers(source)[:, 0]]
    except Exception as exc:
        raise LayerReadError(f"{label}: cannot open: {_first_line(exc)}") from None
    if layer is None and len(names) > 1:
        raise SitesError(
            f"{label} holds {len(names)} layers ({', '.join(names[:8])}); choose one with layer="
        )
    if layer is not None and layer not in names:
        raise SitesError(f"{label} has no layer {layer!r} (it has: {', '.join(names[:8])})")
    notes: list[str] = []
    try:
        info = pyogrio.read_info(source, layer=layer, encoding=encoding)
    except Exception as exc:
        raise LayerReadError(f"{label}: cannot read: {_first_line(exc)}") from None
    driver = info.get("driver")
    if encoding is None and driver == "ESRI Shapefile":
        detected, how = _shapefile_encoding(source, layer)
        if how == "detected":
            if detected is None:
                raise SitesError(
                    f"{label} has no .cpg and its text is neither UTF-8 nor GB18030; declare "
                    "its encoding (encoding=, e.g. GBK, Big5)"
                )
            encoding = detected
            if detected != "UTF-8":
                notes.append(f"no .cpg: text decoded as {detected} (detected)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.simplefilter("ignore", UserWarning)
            df = pyogrio.read_dataframe(source, layer=layer, encoding=encoding, fid_as_index=True)
    except Exception as exc:
        raise LayerReadError(f"{label}: cannot read: {_first_line(exc)}") from None

    if not isinstance(df, gpd.GeoDataFrame) or info.get("geometry_type") is None:
        # A spreadsheet (XLSX, ODS) or a CSV GDAL read: a table, rows numbered as a spreadsheet.
        raw = _from_table(pd.DataFrame(df).reset_index(drop=True), _Where(label, "row", start=2))
        raw.notes[:0] = notes
        return raw

    fids = df.index.to_numpy()
    attrs = pd.DataFrame(df.drop(columns=df.geometry.name)).reset_index(drop=True)
    raw = _Raw(
        where=_Where(label, "feature"),
        n=len(df),
        table=attrs,
        geoms=df.geometry.to_numpy(),
        crs_subject=label,
        notes=notes,
    )
    if info.get("fid_column") or (
        driver == "GeoJSON" and len(fids) and not np.array_equal(fids, np.arange(len(fids)))
    ):
        # Stored feature ids (GeoPackage primary keys; GeoJSON integer "id" members, which
        # GDAL cannot tell from its own 0..n-1 numbering when they are exactly that).
        raw.file_ids = np.array([str(f) for f in fids], dtype=object)
    _own_crs(raw, info.get("crs"))
    return raw


def _own_crs(raw: _Raw, value: object) -> None:
    if value is None:
        return
    try:
        crs = pyproj.CRS.from_user_input(value)
    except pyproj.exceptions.CRSError:
        raw.own_unusable = "a CRS PROJ does not understand"
        return
    if not (crs.is_geographic or crs.is_projected):
        raw.own_unusable = "a local (engineering) CRS"
        return
    raw.own_crs = crs
    raw.own_label = _crs_label(crs)


def _read_path(source: str | Path, layer: str | None, encoding: str | None) -> _Raw:
    label = str(source)
    zip_path, _ = split_zip(label)
    local = Path(zip_path or label).expanduser()
    if not local.exists():
        hint = ""
        if label.strip().upper().startswith(_WKT_WORDS):
            hint = " (to give WKT inline, use wkt= / --wkt)"
        raise LayerReadError(f"sites file not found: {label}{hint}")
    if local.is_file() and zip_path is None and local.suffix.lower() in _TABLE_SUFFIXES:
        return _read_csv(local, label, encoding)
    path = str(local) if zip_path is None else label
    return _open_vector(path, label, layer, encoding)


def _from_geometries(values: Iterable[object], where: _Where) -> _Raw:
    items = list(values)
    bad = [i for i, g in enumerate(items) if g is not None and not isinstance(g, shapely.Geometry)]
    if bad:
        raise SitesError(
            f"{where.row(bad[0])}: {type(items[bad[0]]).__name__} is not a shapely geometry"
        )
    geoms = np.empty(len(items), dtype=object)
    geoms[:] = items
    return _Raw(where=where, n=len(items), geoms=geoms)


def _from_points(points: object) -> _Raw:
    where = _Where(None, "point", title="points")
    if isinstance(points, str) or (
        isinstance(points, tuple | list) and len(points) == 2 and all(_is_number(v) for v in points)
    ):
        points = [points]
    items = list(points)  # type: ignore[call-overload]
    if items and not any(isinstance(item, str) for item in items):
        try:
            arr = np.asarray(items, dtype="float64")
        except (TypeError, ValueError):
            arr = None
        if arr is not None and arr.ndim == 2 and arr.shape[1] == 2 and np.isfinite(arr).all():
            return _Raw(
                where=where,
                n=len(items),
                xy=(arr[:, 0].copy(), arr[:, 1].copy()),
                lonlat=True,
            )
    x = np.empty(len(items))
    y = np.empty(len(items))
    for i, item in enumerate(items):
        try:
            if isinstance(item, str):
                parts = [p for p in re.split(r"[,\s]+", item.strip()) if p]
            else:
                parts = list(item)
            if len(parts) != 2:
                raise ValueError
            x[i], y[i] = float(parts[0]), float(parts[1])
        except (TypeError, ValueError):
            raise SitesError(
                f"{where.row(i)}: {_short(item)} is not LON,LAT (e.g. 121.4737,31.2304)"
            ) from None
        if not (np.isfinite(x[i]) and np.isfinite(y[i])):
            raise SitesError(f"{where.row(i)}: {_short(item)} is not a finite coordinate")
    return _Raw(where=where, n=len(items), xy=(x, y), lonlat=True)


def _from_wkt(wkt: str | Iterable[str]) -> _Raw:
    where = _Where(None, "wkt", title="wkt")
    texts = [wkt] if isinstance(wkt, str) else list(wkt)
    values = np.empty(len(texts), dtype=object)
    values[:] = texts
    geoms = _from_wkt_values(values, where, None)
    return _Raw(where=where, n=len(texts), geoms=geoms)


def _gather(source: object, wkt: object, points: object, layer, encoding) -> _Raw:
    if wkt is not None:
        return _from_wkt(wkt)  # type: ignore[arg-type]
    if points is not None:
        return _from_points(points)
    if isinstance(source, str | Path):
        return _read_path(source, layer, encoding)
    if isinstance(source, gpd.GeoDataFrame):
        where = _Where("GeoDataFrame", "row", labels=source.index)
        if source.geometry.name not in source.columns:
            raise SitesError("GeoDataFrame: no active geometry column")
        attrs = pd.DataFrame(source.drop(columns=source.geometry.name))
        raw = _Raw(
            where=where,
            n=len(source),
            table=attrs.reset_index(drop=True),
            geoms=source.geometry.to_numpy(),
        )
        _own_crs(raw, source.crs)
        return raw
    if isinstance(source, gpd.GeoSeries):
        raw = _from_geometries(source.to_numpy(), _Where("GeoSeries", "row", labels=source.index))
        _own_crs(raw, source.crs)
        return raw
    if isinstance(source, pd.DataFrame):
        return _from_table(
            source.reset_index(drop=True), _Where("DataFrame", "row", labels=source.index)
        )
    if isinstance(source, shapely.Geometry):
        return _from_geometries([source], _Where(None, "geometry", title="geometries"))
    if isinstance(source, Iterable):
        return _from_geometries(source, _Where(None, "geometry", title="geometries"))
    raise SitesError(
        f"cannot read sites from a {type(source).__name__}; give a path, a GeoDataFrame, "
        "shapely geometries, wkt= or points="
    )


# --------------------------------------------------------------------------- CRS


def _resolve_crs(raw: _Raw, declared: ParsedCRS | None) -> tuple[pyproj.CRS, str | None, str]:
    """(CRS of the given coordinates, pseudo-CRS or None, label)."""
    name = raw.where.name
    if declared is not None:
        if raw.own_crs is not None:
            if declared.pseudo is not None:
                # Web-map coordinates are routinely mislabelled WGS84: the declaration wins, but
                # only over a geographic label (as for catalog layers, zoning.io).
                if not raw.own_crs.is_geographic:
                    raise SitesError(
                        f"{name}: declared {declared.label}, but its own CRS is the projected "
                        f"{raw.own_label}; drop the declared crs or fix the file"
                    )
                raw.notes.append(f"labelled {raw.own_label}; declared {declared.label} used")
            elif not raw.own_crs.equals(declared.crs, ignore_axis_order=True):
                raise SitesError(
                    f"{name}: declared crs {declared.label} contradicts its own CRS "
                    f"{raw.own_label}; drop the declared crs or fix the file"
                )
        elif raw.own_unusable:
            raw.notes.append(f"its own CRS is {raw.own_unusable}; declared {declared.label} used")
        if raw.lonlat and not declared.crs.is_geographic:
            how = (
                "name the columns x/y for projected coordinates"
                if raw.table is not None
                else "points are longitude,latitude; give projected coordinates as WKT "
                "(wkt= / --wkt 'POINT (x y)')"
            )
            raise SitesError(
                f"{name}: longitude/latitude given, but the declared crs {declared.label} is "
                f"projected; {how}"
            )
        return declared.crs, declared.pseudo, declared.label
    if raw.own_crs is not None:
        return raw.own_crs, None, raw.own_label or raw.own_crs.to_string()
    if raw.lonlat:
        # Longitude/latitude without a datum: the same numbers are WGS84 from a GPS, GCJ-02
        # from Amap or Tencent, BD-09 from Baidu -- 300-600 m apart in Shanghai, so no guess.
        subject = f" ({raw.crs_subject})" if raw.crs_subject else ""
        raise SitesError(
            f"{name}{subject}: longitude/latitude with no CRS and none declared; declare "
            f"which with {_LONLAT_CHOICES}"
        )
    subject = f" ({raw.crs_subject})" if raw.crs_subject and raw.crs_subject != name else ""
    what = f"only {raw.own_unusable}, no usable CRS," if raw.own_unusable else "no CRS"
    raise SitesError(
        f"{name}{subject}: {what} and none declared; declare one with crs= / --crs "
        "(e.g. EPSG:4326, EPSG:4490, EPSG:4549, gcj02 or bd09)"
    )


def _check_extent(bounds: np.ndarray, crs: pyproj.CRS, label: str, where: _Where) -> None:
    """Coordinates must fit the CRS (labelled ``label``); the first row that does not is named."""
    xmin, ymin, xmax, ymax = bounds.T
    finite = np.isfinite(bounds).all(axis=1)
    if not finite.all():
        i = int(np.flatnonzero(~finite)[0])
        raise SitesError(f"{where.row(i)}: coordinates are not finite numbers")
    if crs.is_geographic:
        bad_lat = (ymin < -90) | (ymax > 90)
        bad_lon = (xmin < -180) | (xmax > 180)
        if (bad_lat | bad_lon).any():
            i = int(np.flatnonzero(bad_lat | bad_lon)[0])
            hint = ""
            if bad_lat[i] and -90 <= xmin[i] and xmax[i] <= 90 and not bad_lon[i]:
                hint = " (longitude and latitude swapped?)"
            elif abs(xmax[i]) > 1000 or abs(ymax[i]) > 1000:
                hint = " (projected coordinates? declare their CRS, e.g. EPSG:4549)"
            raise SitesError(
                f"{where.row(i)}: ({xmin[i]:.6g}, {ymin[i]:.6g}) is not a longitude/latitude "
                f"in {label}{hint}"
            )
        return
    looks_degrees = (np.abs(bounds[:, [0, 2]]) <= 180).all() and (
        np.abs(bounds[:, [1, 3]]) <= 90
    ).all()
    if len(bounds) and looks_degrees:
        raise SitesError(
            f"{where.row(0)}: ({xmin[0]:.6g}, {ymin[0]:.6g}) looks like longitude/latitude, "
            f"but {label} is projected (metres); declare the geographic CRS"
        )
    code = _crs_identity(crs.to_wkt())[1]
    zone = _gk_zone(code)
    if zone is not None:
        bad = ((xmin // 1_000_000) != zone) | ((xmax // 1_000_000) != zone)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise SitesError(
                f"{where.row(i)}: easting {xmin[i]:.0f} m does not carry the zone prefix {zone} "
                f"that {label} expects; check the zone, or use the 'CM' code if the eastings "
                "have no prefix"
            )
    elif _is_gk_cm(code):
        bad = xmax > 1_000_000
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise SitesError(
                f"{where.row(i)}: easting {xmax[i]:.0f} m carries a zone prefix, but {label} is "
                "a Gauss-Krüger 'CM' CRS without one; use the matching 'zone' code"
            )


@functools.lru_cache(maxsize=64)
def _crs_identity(wkt: str) -> tuple[tuple[str, str] | None, int | None]:
    """``(crs.to_authority(), crs.to_epsg())`` of the CRS with this WKT, computed once.

    PROJ searches its whole database for a CRS it cannot name (0.1-0.3 s each for the working
    CRS itself), so the answer is cached per CRS definition.
    """
    crs = pyproj.CRS.from_wkt(wkt)
    return crs.to_authority(), crs.to_epsg()


def _crs_label(crs: pyproj.CRS) -> str:
    auth = _crs_identity(crs.to_wkt())[0]
    return f"{auth[0]}:{auth[1]}" if auth else crs.name


def _is_working_crs(crs: pyproj.CRS, pseudo: str | None) -> bool:
    """The coordinates are already in the working CRS (nothing to convert or project)."""
    return pseudo is None and crs == WORKING_CRS


def _region_note(lon: np.ndarray, lat: np.ndarray, notes: list[str]) -> None:
    x0, y0, x1, y1 = _SHANGHAI_REGION
    outside = (lon < x0) | (lon > x1) | (lat < y0) | (lat > y1)
    if outside.any():
        notes.append(
            f"{int(outside.sum())} site(s) lie outside the Shanghai region "
            "(lon 119-124.5, lat 29.5-33): check the coordinates"
        )


# --------------------------------------------------------------------------- geometry


def _transformer(crs: pyproj.CRS) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(crs, WORKING_CRS, always_xy=True)


def _point_sites(
    raw: _Raw, crs: pyproj.CRS, pseudo: str | None, label: str, notes: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Point sites from coordinate arrays, without a Python loop: (geometries, datum shift)."""
    assert raw.xy is not None
    x, y = raw.xy
    _check_extent(np.column_stack([x, y, x, y]), crs, label, raw.where)
    shift = np.zeros(len(x))
    if pseudo is not None:
        lon, lat = _TO_WGS84[pseudo](x, y)
        shift = np.asarray(_GEOD.inv(x, y, lon, lat)[2], dtype="float64")
        x, y = lon, lat
    if crs.is_geographic:
        _region_note(x, y, notes)
    if _is_working_crs(crs, pseudo):
        return shapely.points(x, y), shift
    X, Y = _transformer(crs).transform(x, y)
    bad = ~(np.isfinite(X) & np.isfinite(Y))
    if bad.any():
        raise SitesError(
            f"{raw.where.row(int(np.flatnonzero(bad)[0]))}: cannot be transformed from "
            f"{_crs_label(crs)} to the working CRS"
        )
    return shapely.points(X, Y), shift


def _geometry_sites(
    raw: _Raw, crs: pyproj.CRS, pseudo: str | None, label: str, notes: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Sites from shapely geometries: checks, repairs, conversion, densify, project."""
    assert raw.geoms is not None
    where = raw.where
    geoms = np.asarray(raw.geoms, dtype=object)
    # Empty members of Multi* geometries are dropped first (GEOS crashes on them), and named.
    geoms, emptied = drop_empty_parts(geoms)
    if emptied.any():
        notes.append(
            f"empty parts removed from multi-part geometries: {where.rows(np.flatnonzero(emptied))}"
        )
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        pos = np.flatnonzero(missing)
        raise SitesError(f"{where.located(pos)}: no geometry (null or empty); every site needs one")
    types = shapely.get_type_id(geoms)
    collections = types == 7
    if collections.any():
        pos = np.flatnonzero(collections)
        raise SitesError(
            f"{where.located(pos)}: a GeometryCollection is not a site; split it "
            "into separate sites or use a Multi* geometry"
        )
    ring = types == 2
    if ring.any():
        geoms = geoms.copy()
        geoms[ring] = shapely.linestrings([shapely.get_coordinates(g) for g in geoms[ring]])
    if shapely.has_z(geoms).any():
        geoms = shapely.force_2d(geoms)
        notes.append("Z coordinates dropped")
    _check_extent(shapely.bounds(geoms), crs, label, where)

    points = np.isin(types, (0, 4))
    polygonal = np.isin(types, (3, 6))
    others = ~points
    if others.any():
        invalid = np.zeros(len(geoms), dtype=bool)
        invalid[others] = ~shapely.is_valid(geoms[others])
        lines = invalid & ~polygonal
        if lines.any():
            i = int(np.flatnonzero(lines)[0])
            reason = shapely.is_valid_reason(geoms[i])
            raise SitesError(f"{where.row(i)}: invalid {_TYPE_NAMES[types[i]]} ({reason})")
        if invalid.any():
            pos = np.flatnonzero(invalid)
            geoms = geoms.copy()
            fixed = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
            fixed = np.array([_polygonal(g) for g in fixed], dtype=object)
            gone = shapely.is_missing(fixed)
            if gone.any():
                i = int(pos[np.flatnonzero(gone)[0]])
                raise SitesError(
                    f"{where.row(i)}: the polygon has no area left after repair (degenerate)"
                )
            geoms[invalid] = fixed
            notes.append(f"invalid polygons repaired (make_valid): {where.rows(pos)}")

    shift = np.zeros(len(geoms))
    if pseudo is not None:
        rep = shapely.point_on_surface(geoms)
        lon0, lat0 = shapely.get_x(rep), shapely.get_y(rep)
        lon1, lat1 = _TO_WGS84[pseudo](lon0, lat0)
        shift = np.asarray(_GEOD.inv(lon0, lat0, lon1, lat1)[2], dtype="float64")
        geoms = to_wgs84_geometries(geoms, pseudo)
    if crs.is_geographic:
        rep = shapely.point_on_surface(geoms) if others.any() else geoms
        _region_note(shapely.get_x(rep), shapely.get_y(rep), notes)
    if _is_working_crs(crs, pseudo):
        # Already in the working CRS: nothing to densify or project (the geometries are
        # immutable, so the caller's objects are shared, not copied).
        return geoms, shift
    if others.any():
        # Densify long edges before projecting: a straight edge in the source CRS is curved in
        # the working CRS (as zoning.io does for layers).
        geoms = geoms.copy()
        geoms[others] = shapely.segmentize(
            geoms[others], _SEGMENT_DEG if crs.is_geographic else _SEGMENT_M
        )
    t = _transformer(crs)
    projected = shapely.transform(geoms, lambda c: np.column_stack(t.transform(c[:, 0], c[:, 1])))
    finite = np.isfinite(shapely.bounds(projected)).all(axis=1)
    if not finite.all():
        i = int(np.flatnonzero(~finite)[0])
        raise SitesError(
            f"{where.row(i)}: cannot be transformed from {_crs_label(crs)} to the working CRS"
        )
    return projected, shift


# --------------------------------------------------------------------------- attributes


def _attribute_columns(raw: _Raw, id_field: str | None, name_field: str | None) -> dict[str, str]:
    """{attribute: column} for the attribute columns the table has."""
    if raw.table is None:
        if id_field or name_field:
            which = "id_field" if id_field else "name_field"
            raise SitesError(f"{raw.where.name}: {which} needs a source with attribute columns")
        return {}
    cols = [str(c) for c in raw.table.columns if str(c) not in raw.geometry_columns]
    found: dict[str, str] = {}
    for key, explicit, option in (("id", id_field, "id_field"), ("name", name_field, "name_field")):
        if explicit is None:
            continue
        match = [c for c in cols if c == explicit] or [
            c for c in cols if c.lower() == str(explicit).lower()
        ]
        if not match:
            shown = ", ".join(repr(c) for c in cols[:12]) or "none"
            raise SitesError(
                f"{raw.where.name}: {option} {explicit!r} is not a column (columns: {shown})"
            )
        found[key] = match[0]
    taken = set(found.values())
    for key, names in _ATTR_ALIASES.items():
        if key in found:
            continue
        wanted = {n.lower() for n in names}
        hits = [c for c in cols if _norm(c) in wanted and c not in taken]
        if len(hits) > 1:
            raise SitesError(
                f"{raw.where.name}: columns {', '.join(repr(h) for h in hits)} all give {key}; "
                "keep one"
            )
        if hits:
            found[key] = hits[0]
    return found


def _check_options(attributes: Mapping[str, object] | None) -> dict[str, object]:
    if attributes is None:
        return {}
    if not isinstance(attributes, Mapping):
        raise SitesError("attributes must be a mapping such as {'industry': 'C2614'}")
    unknown = [k for k in attributes if k not in _OPTION_KEYS]
    if unknown:
        raise SitesError(
            f"attributes: unknown key(s) {', '.join(repr(k) for k in unknown)} "
            f"(allowed: {', '.join(_OPTION_KEYS)})"
        )
    return {k: v for k, v in attributes.items() if v is not None}


def _option_value(key: str, value: object, parse: Callable[[object], Any]) -> Any:
    try:
        return parse(value)
    except _Bad as exc:
        raise SitesError(f"option {key}: {exc}") from None


def _site_ids(
    raw: _Raw, column: str | None, option: object | None, *, explicit: bool, notes: list[str]
) -> np.ndarray:
    n, where = raw.n, raw.where
    if (
        column is not None
        and not explicit
        and _is_blank(raw.table[column].iloc[0])  # type: ignore[index]
        and raw.table[column].map(_is_blank).all()  # type: ignore[index]
    ):
        # KML (LIBKML) always has an 'id' column, usually empty: no ids given is not an error.
        notes.append(f"column {column!r} is empty: sites numbered instead")
        column = None
    if column is not None:
        series = raw.table[column]  # type: ignore[index]
        if pd.api.types.is_integer_dtype(series.dtype):
            ids = series.astype("int64").astype(str).to_numpy(dtype=object)
        elif pd.api.types.infer_dtype(series, skipna=False) == "string":
            ids = np.array(
                [v.strip() for v in series.fillna("").to_numpy(dtype=object)], dtype=object
            )
        else:
            ids = np.array(["" if _is_blank(v) else _id_text(v) for v in series], dtype=object)
        blank = ids == ""
        if blank.any():
            i = int(np.flatnonzero(blank)[0])
            raise SitesError(f"{where.row(i)}, column {column!r}: site id is empty")
        if option is not None:
            wanted = _id_text(option)
            differ = ids != wanted
            if differ.any():
                i = int(np.flatnonzero(differ)[0])
                raise SitesError(
                    f"{where.row(i)}: id is given by column {column!r} ({ids[i]!r}) and by the "
                    f"option id={wanted!r}, and they differ; give it one way"
                )
    elif option is not None:
        ids = np.full(n, _id_text(option), dtype=object)
    elif raw.file_ids is not None:
        ids = raw.file_ids
    else:
        ids = np.arange(1, n + 1).astype(str).astype(object)
    series = pd.Series(ids, dtype=object)
    if series.is_unique:  # one hash pass; the duplicates are found only to name them
        return ids
    dup = series.duplicated(keep=False).to_numpy()
    if dup.any():
        shown = []
        for value, positions in list(pd.Series(np.flatnonzero(dup)).groupby(ids[dup], sort=False))[
            :_MAX_LISTED
        ]:
            shown.append(f"{value!r} ({where.rows(positions.to_numpy())})")
        source = f"column {column!r}" if column else ("option id" if option is not None else "ids")
        raise SitesError(f"{where.name}: duplicate site ids in {source}: {'; '.join(shown)}")
    return ids


def _attributes(
    raw: _Raw, columns: dict[str, str], options: dict[str, object], notes: list[str]
) -> dict[str, np.ndarray]:
    n, where = raw.n, raw.where
    out: dict[str, np.ndarray] = {}
    parsers: dict[str, Callable[[object], Any]] = {
        "name": _parse_text,
        "nature": _parse_nature,
        **{f: _parse_flag for f in FLAGS},
    }

    def column_or_option(key: str, parse: Callable[[object], Any]) -> tuple[np.ndarray, list, Any]:
        col = columns.get(key)
        opt = _option_value(key, options[key], parse) if key in options else None
        if col is None:
            codes = np.full(n, 0 if key in options else -1, dtype=np.intp)
            return codes, [opt, None] if key in options else [None], None
        codes, parsed = _map_values(raw.table[col].to_numpy(dtype=object), parse, where, col)  # type: ignore[index]
        if key in options and all(p is None for p in parsed):
            # An empty template column gives nothing: the option applies to every site.
            notes.append(f"column {col!r} is empty: option {key}={options[key]!r} used")
            return np.zeros(n, dtype=np.intp), [opt, None], None
        if key in options:
            differ = [k for k, v in enumerate(parsed[:-1]) if v != opt]
            bad = np.isin(codes, differ) | (codes == -1)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                got = parsed[codes[i]]
                shown = "empty" if got is None else repr(got[0] if key == "industry" else got)
                raise SitesError(
                    f"{where.row(i)}: {key} is given by column {col!r} ({shown}) and by the "
                    f"option {key}={options[key]!r}, and they differ; give it one way"
                )
        return codes, parsed, col

    known: dict[str, np.ndarray] = {}  # per key: which sites have a value
    for key, parse in parsers.items():
        codes, parsed, _ = column_or_option(key, parse)
        out[key] = _take(parsed, codes)
        known[key] = np.array([p is not None for p in parsed], dtype=bool)[codes]

    codes, parsed, _ = column_or_option("industry", _parse_industry_cell)
    out["industry"] = _take([p[0] if p else None for p in parsed], codes)
    out["industry_division"] = _take([p[1] if p else None for p in parsed], codes)
    # Derived "两高": only the major division decides; a declared value always wins.
    derived = _take([None if p is None else _derived_two_high(p) for p in parsed], codes)
    has_code = np.array([p is not None for p in parsed], dtype=bool)[codes]
    declared = out["two_high"]
    is_declared = known["two_high"]
    use_derived = ~is_declared & has_code
    two_high = declared.copy()
    two_high[use_derived] = derived[use_derived]
    source = np.full(n, None, dtype=object)
    source[is_declared] = "declared"
    source[use_derived] = "derived"
    out["two_high"] = two_high
    out["two_high_source"] = source
    linear_source = np.full(n, None, dtype=object)
    linear_source[known["linear"]] = "declared"
    out["linear_source"] = linear_source  # "derived" is set from the geometry (_derive_linear)
    if use_derived.any():
        notes.append(
            f"two_high derived from the industry code for {int(use_derived.sum())} site(s) "
            "(major divisions 25, 26, 30, 31, 32, 44 count as 两高, except non-fossil power "
            "generation and power supply: 4413-4417, 4419, 4420)"
        )
    return out


def _derive_linear(attrs: dict[str, np.ndarray], geoms: np.ndarray, notes: list[str]) -> None:
    """``linear`` from the geometry where it is not declared: a line site is linear.

    A LineString or MultiLineString site (a route drawn on a map, a draw tool's export) is a
    linear project; leaving it undeclared would judge a pipeline as if it were a building.
    Points and polygons stay undeclared.  A declared value always wins; ``linear_source``
    says which it was (``declared``, ``derived`` or None), as ``two_high_source`` does.
    """
    linear = attrs["linear"]
    undeclared = np.array([v is None for v in linear], dtype=bool)
    lines = np.isin(shapely.get_type_id(geoms), (1, 5))
    use = undeclared & lines
    if use.any():
        linear = linear.copy()
        linear[use] = True
        attrs["linear"] = linear
        attrs["linear_source"] = attrs["linear_source"].copy()
        attrs["linear_source"][use] = "derived"
        notes.append(
            f"linear derived from the geometry for {int(use.sum())} line site(s): a "
            "LineString/MultiLineString counts as linear infrastructure unless declared "
            "otherwise (linear=no / --no-linear)"
        )


# --------------------------------------------------------------------------- public


def load_sites(
    source: object = None,
    *,
    wkt: str | Iterable[str] | None = None,
    points: Iterable[object] | str | None = None,
    crs: object = None,
    layer: str | None = None,
    id_field: str | None = None,
    name_field: str | None = None,
    attributes: Mapping[str, object] | None = None,
    encoding: str | None = None,
) -> Sites:
    """Read project sites and their attributes into the working CRS.

    Parameters
    ----------
    source : path, GeoDataFrame, GeoSeries, DataFrame, shapely geometry or list of them
        A vector file (GeoJSON, GeoPackage, Shapefile, ``.zip`` of a Shapefile, KML, ...),
        a CSV (``.csv``/``.tsv``/``.txt``), or Python objects.  Give exactly one of
        ``source``, ``wkt`` and ``points``.
    wkt : str or list of str
        Sites as WKT; needs ``crs``.
    points : list of (lon, lat) or "LON,LAT" strings
        Point sites; need ``crs`` (``"EPSG:4326"``, ``"gcj02"``, ``"bd09"``, ...).
    crs : str or pyproj.CRS
        The CRS of the coordinates: ``"EPSG:4326"`` (GPS, WGS84), ``"EPSG:4490"``,
        ``"4549"``, ``"gcj02"`` (Amap, Tencent), ``"bd09"`` (Baidu).  Required when the
        input has none: longitude/latitude or x/y columns, ``points=``, WKT, geometries
        without a CRS (GeoJSON files are WGS84 by RFC 7946 and need none).
        Contradicting a file's own CRS is an error, except ``gcj02``/``bd09`` over a
        geographic label (web-map coordinates mislabelled as WGS84).
    layer : str
        Layer of a multi-layer file.
    id_field, name_field : str
        Columns holding the site id and name (default: columns named ``id``/``name``
        or an alias such as ``编号``/``项目名称``).
    attributes : dict
        Attributes for every site (``industry``, ``nature``, flags, ``name``, ``id``); a
        column giving the same attribute must agree with it on every row.
    encoding : str
        Text encoding of a CSV or a Shapefile without ``.cpg`` (default: detected,
        UTF-8 or GB18030).

    Returns
    -------
    Sites

    Raises
    ------
    LayerReadError
        The file does not exist or cannot be opened.
    SitesError
        Anything wrong with the sites: no CRS, bad coordinates, missing geometry,
        bad attribute values, duplicate ids -- one line naming file, row and column.
    CRSError
        ``crs`` is not a CRS.

    Notes
    -----
    Cost: one read; point sites from coordinate columns are built with array
    operations only (a million CSV points load in a few seconds); geometries are
    checked, converted and projected in vectorised shapely/pyproj calls.  Each
    distinct attribute value is parsed once.  Geographic edges are densified to
    0.001° before projecting.  GCJ-02/BD-09 are converted vertex by vertex; the
    conversion's shift is measured at each site's representative point.
    """
    given = [k for k, v in (("source", source), ("wkt", wkt), ("points", points)) if v is not None]
    if len(given) != 1:
        raise SitesError(
            "give exactly one of source, wkt= and points= "
            f"({'none' if not given else ', '.join(given)} given)"
        )
    declared = parse_crs(crs, what="crs") if crs is not None else None
    options = _check_options(attributes)
    raw = _gather(source, wkt, points, layer, encoding)
    if raw.n == 0:
        raise SitesError(f"{raw.where.name}: no sites")
    notes = list(raw.notes)
    raw.notes = notes
    in_crs, pseudo, label = _resolve_crs(raw, declared)

    columns = _attribute_columns(raw, id_field, name_field)
    ids = _site_ids(
        raw, columns.get("id"), options.get("id"), explicit=id_field is not None, notes=notes
    )
    attrs = _attributes(raw, columns, options, notes)

    if raw.xy is not None:
        geoms, shift = _point_sites(raw, in_crs, pseudo, label, notes)
    else:
        geoms, shift = _geometry_sites(raw, in_crs, pseudo, label, notes)
        _derive_linear(attrs, geoms, notes)
    if pseudo is not None:
        notes.append(
            f"converted from {pseudo} to WGS84 vertex by vertex (zoning.crs); shift "
            f"{shift.min():.0f}-{shift.max():.0f} m; assumed uncertainty "
            f"{_UNCERTAINTY[pseudo]:.0f} m"
        )
    n = raw.n
    # Object columns keep None as None (pandas would turn a str column's None into NaN).
    data = {
        "site_id": pd.Series(ids, dtype=object),
        **{k: pd.Series(attrs[k], dtype=object) for k in _ATTRIBUTE_COLUMNS},
        "input_crs": pd.Series(np.full(n, label, dtype=object), dtype=object),
        "datum_shift_m": shift,
        "uncertainty_m": np.full(n, _UNCERTAINTY.get(pseudo or "", 0.0)),
    }
    gdf = gpd.GeoDataFrame(data, geometry=geoms, crs=WORKING_CRS)
    gdf.index = pd.RangeIndex(n)
    source_label = raw.where.name
    log.info("loaded %d sites from %s (%s)", n, source_label, label)
    return Sites(gdf=gdf, source=source_label, input_crs=label, pseudo=pseudo, notes=notes)
