"""Sites in: read the project sites to screen, with their project attributes.

:func:`load_sites` accepts what planners actually have:

- vector files GDAL reads (GeoJSON -- including the FeatureCollection a Leaflet
  draw tool exports --, GeoPackage, Shapefile, zipped Shapefile, KML; an ODS
  spreadsheet is treated like a CSV);
- Excel workbooks (``.xlsx``, ``.xlsm``; :mod:`zoning.sites.spreadsheet`): the first
  sheet with content or ``sheet=``, title rows above the header skipped, rows named
  as Excel numbers them (``book.xlsx, sheet 项目, row 7 (D7)``);
- DXF site plans (红线图): each closed boundary (closed polyline, hatch, closed spline) is a
  polygon site, ``dxf_layer=`` picks the boundary layer; a DWG is refused
  (:mod:`zoning.sites.dxf`);
- CSV with longitude/latitude columns (``lon``/``lng``/``longitude``/``经度``,
  ``lat``/``latitude``/``纬度``; decimal or degrees-minutes-seconds such as ``121°28'12.5"E``),
  one ``lon,lat`` column as Amap copies it (``坐标``/``经纬度``/``location``/``lnglat``),
  projected ``x``/``y`` columns, or a WKT column (``wkt``/``geometry``/``geom``);
- Python objects: a GeoDataFrame, GeoSeries, shapely geometry or list of
  geometries, a plain DataFrame shaped like the CSV;
- inline ``wkt=`` strings and ``points=`` (``(lon, lat)`` or ``"LON,LAT"``).

It returns :class:`Sites`: a GeoDataFrame in :data:`zoning.WORKING_CRS` with one
row per site and the columns of the shared contract (``site_id``, ``name``,
``industry``, ``industry_division``, ``nature``, the flags ``linear``,
``wastewater`` (produces waste water), ``air``, ``hazardous``, ``two_high``,
``key_project``, ``residential_building``, ``noise``, the choices ``discharge`` (where
the waste water goes), ``red_line_activity`` and ``facility``
(:mod:`zoning.sites.choices`), ``two_high_source``, ``linear_source``, ``input_crs``,
``datum_shift_m``, ``uncertainty_m``, ``geometry``).

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
``air``/``废气``, ``hazardous``/``危险化学品``, ``two_high``/``两高``,
``key_project``/``重大建设项目``, ``residential_building``/``居民楼``,
``noise``/``工业噪声``, ``discharge``/``排放去向``, ``red_line_activity``/``红线有限人为活动``,
``facility``/``设施``) or from the
``attributes=`` mapping, which applies to every site (the CLI's ``--industry``
etc.).  A column and an option for the same attribute must agree on every row.
Flags accept yes/no, true/false, y/n, 1/0, 是/否 (any case); an empty cell is
None (not declared).  ``discharge`` accepts none/sewer/direct and 无/纳管/直排,
``red_line_activity`` none/无 or 1-10, ``facility`` none/无 or facility codes (or
Chinese names such as 尾矿库, 排污口) separated by ``;`` ``,`` or ``、``
(:mod:`zoning.sites.choices`).  Natures accept new/expansion/rebuild/relocation and the
words of :data:`zoning.sites.choices.NATURE_WORDS` (新建/扩建/改建/迁建, 改扩建 as an
expansion, 技改/技术改造 as a rebuild, 搬迁 ...).  Industry
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
(RFC 7946), so a draw tool's export needs no declaration.  When every site lands outside
Shanghai and another reading of the numbers (another Gauss-Krüger zone or CM variant, the axes
swapped, degrees for metres) puts them inside, the error names it ("did you mean
EPSG:4550?", :mod:`zoning.sites.hints`).

Coordinates copied from Chinese web maps (Amap/Tencent: GCJ-02, Baidu: BD-09)
are declared with ``crs="gcj02"`` / ``crs="bd09"`` and converted vertex by
vertex to WGS84 (:mod:`zoning.crs`).  Each site records how far the conversion
moved it (``datum_shift_m``) and the positional uncertainty the conversion
adds (``uncertainty_m``, see :data:`GCJ02_UNCERTAINTY_M`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from geopandas.array import from_shapely

from ..catalog import check_encoding
from ..crs import WORKING_CRS, parse_crs
from ..errors import SitesError, quote
from .attributes import (
    _ATTRIBUTE_COLUMNS,
    _attribute_columns,
    _attributes,
    _check_options,
    _derive_linear,
    _site_ids,
)
from .geometry import _UNCERTAINTY, _geometry_sites, _InputCRS, _point_sites, _resolve_crs
from .raw import (
    _GEOJSON_SUFFIXES,
    _check_geojson_nul,
    _check_text_nul,
    _id_text,
    _is_blank,
    _Raw,
    _RowsError,
)
from .sources import _gather

__all__ = ["ON_ROW_ERROR", "InputRows", "Sites", "load_sites"]

#: What a row that does not parse does: stop with its error, or be set aside and reported.
ON_ROW_ERROR = ("fail", "report")
#: Columns of :attr:`InputRows.rejected` (``rejected.csv`` without ``position``).
REJECTED_COLUMNS = ("position", "row", "site_id", "field", "message")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InputRows:
    """The input as the user gave it, and which row each site is.

    Attributes
    ----------
    table : DataFrame or None
        Every input row as read, its columns in the input's order (a vector file's attribute
        columns; cells of a workbook as Excel holds them); None for inline input.
    rows : ndarray
        How each input row is named in messages: a spreadsheet's row number (header row 1 in
        a CSV), the feature number, a DataFrame's index label, ``1..n`` for inline input.
    word : str
        ``row``, ``feature``, ``point``, ``wkt`` ...
    sites : ndarray of int
        The input position of each site, in the sites' order.
    rejected : DataFrame or None
        With ``on_row_error="report"``: one row per input row set aside, in input order:
        ``position``, ``row``, ``site_id`` (from the id column, or the number the row would
        have had), ``field`` (the column or ``coordinates`` / ``geometry``) and ``message``
        (the one-line error).  None with ``"fail"``.
    sheet : str or None
        The workbook sheet read.
    id_column : str or None
        The column of ``table`` that gave the site ids (None: the sites were numbered).
    """

    table: pd.DataFrame | None
    rows: np.ndarray
    word: str
    sites: np.ndarray
    rejected: pd.DataFrame | None = None
    sheet: str | None = None
    id_column: str | None = None


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
    input_rows : InputRows or None
        The input table and each site's row in it; the rows set aside with
        ``on_row_error="report"``.
    """

    gdf: gpd.GeoDataFrame
    source: str
    input_crs: str
    pseudo: str | None = None
    notes: list[str] = field(default_factory=list)
    input_rows: InputRows | None = None

    def __len__(self) -> int:
        return len(self.gdf)

    def __repr__(self) -> str:
        return (
            f"Sites(n={len(self.gdf)}, source={quote(self.source)}, "
            f"input_crs={quote(self.input_crs)}, "
            f"pseudo={quote(self.pseudo)})"
        )


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
    dxf_layer: str | None = None,
    sheet: str | None = None,
    on_row_error: str = "fail",
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
        Attributes for every site (``industry``, ``nature``, flags, ``discharge``,
        ``red_line_activity``, ``facility`` -- a code, or for ``facility`` a list of codes or
        a text joined with ``;`` --, ``name``, ``id``); a column giving the same attribute must
        agree with it on every row.
    encoding : str
        Text encoding of a CSV or a Shapefile without ``.cpg`` (default: detected,
        UTF-8 or GB18030).
    dxf_layer : str
        The layer of a DXF site plan holding the boundaries (the red line); needed when closed
        boundaries lie on several layers (:mod:`zoning.sites.dxf`).
    sheet : str
        The sheet of a workbook (``.xlsx``, ``.xlsm``, ``.ods``); default the first visible
        sheet with content (a note names it).  Title rows above the header are skipped;
        industry codes typed as numbers are read as text when no leading zero can have been
        lost (2 or 4 digits); formulas are read as their stored values.
    on_row_error : {"fail", "report"}
        A row that does not parse (a bad or missing coordinate, an invalid WKT, a bad
        industry code, flag or other value, an empty id, a missing geometry): ``"fail"``
        (default) stops with its one-line error; ``"report"`` sets it aside with that line
        (:attr:`Sites.input_rows` ``.rejected``) and reads the others.  Errors of the whole
        input (no CRS, no coordinate columns, duplicate ids, a column contradicting an option)
        stop either way, as does every row failing.

    Returns
    -------
    Sites

    Raises
    ------
    LayerReadError
        The file does not exist or cannot be opened.
    SitesError
        Anything wrong with the sites: no CRS, bad coordinates (the bad vertex is named),
        missing geometry, bad attribute values, duplicate ids, a NUL character in an id,
        a name or a GeoJSON property (never cut silently), a DXF without a closed boundary,
        a DWG, every site outside Shanghai where another reading of the CRS puts them inside
        ("did you mean EPSG:4550?") -- one line naming file, row and column.
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
    _check_one_input(source=source, wkt=wkt, points=points)
    declared = parse_crs(crs, what="crs") if crs is not None else None
    options = _check_options(attributes)
    if encoding is not None:
        try:
            check_encoding(encoding)
        except ValueError as exc:
            raise SitesError(f"encoding: {exc}") from None
    if on_row_error not in ON_ROW_ERROR:
        raise SitesError(f"on_row_error must be 'fail' or 'report', not {quote(on_row_error)}")
    report = on_row_error == "report"
    raw = _read_input(source, wkt, points, layer, encoding, dxf_layer, sheet, report)
    given = _resolve_crs(raw, declared)
    raw, ids, attrs, geoms, shift = _checked_rows(raw, given, id_field, name_field, options, report)
    gdf = _site_frame(ids, attrs, geoms, shift, given)
    name = raw.where.file or raw.where.name
    log.info("loaded %d sites from %s (%s)", raw.n, name, given.label)
    rows = _input_rows(raw, id_field, name_field, report)
    if rows.rejected is not None and len(rows.rejected):
        raw.notes.append(
            f"{len(rows.rejected)} row(s) with input errors set aside: "
            f"{raw.input_where.rows(rows.rejected['position'].to_numpy())}"  # type: ignore[union-attr]
        )
    return Sites(
        gdf=gdf,
        source=name,
        input_crs=given.label,
        pseudo=given.pseudo,
        notes=raw.notes,
        input_rows=rows,
    )


def _checked_rows(raw: _Raw, given, id_field, name_field, options: dict, report: bool):
    """``(raw, ids, attributes, geometries, shifts)`` of the rows that pass every check.

    A check that finds bad rows raises (``report`` False) or sets them aside and runs again
    on the rows left (``report`` True), so ``raw`` may come back with fewer rows.
    """
    while True:
        notes = list(raw.notes)
        try:
            ids, attrs = _read_attributes(raw, id_field, name_field, options)
            geoms, shift = _site_geometries(raw, given, attrs)
            return raw, ids, attrs, geoms, shift
        except _RowsError as exc:
            if not report:
                raise
            raw.notes = notes
            raw = raw.without(exc)
            _check_left(raw)


def _check_left(raw: _Raw) -> None:
    """Every row set aside is an error of the whole input (nothing left to screen)."""
    if raw.n == 0:
        first = raw.errors[0].rows[0][2]
        k = sum(len(e.rows) for e in raw.errors)
        name = raw.where.file or raw.where.name
        raise SitesError(f"{name}: every row has an input error ({k} rows; the first: {first})")


def _input_rows(raw: _Raw, id_field: str | None, name_field: str | None, report: bool):
    """The input table, each site's row in it and (report) the rows set aside."""
    where = raw.input_where or raw.where
    table = raw.input_table
    n_input = len(table) if table is not None else raw.n + sum(len(e.rows) for e in raw.errors)
    labels = where.labels_of(n_input)
    rejected = None
    id_col = None
    if table is not None:
        probe = _Raw(where=where, n=len(table), table=table, geometry_columns=raw.geometry_columns)
        id_col = _attribute_columns(probe, id_field, name_field).get("id")
    if report:
        found = sorted((p, f, m) for e in raw.errors for p, f, m in e.rows)
        site_ids = [
            _id_text(table[id_col].iloc[p])
            if id_col is not None and not _is_blank(table[id_col].iloc[p])  # type: ignore[index]
            else str(p + 1)
            for p, _, _ in found
        ]
        rejected = pd.DataFrame(
            {
                "position": pd.Series([p for p, _, _ in found], dtype="int64"),
                "row": pd.Series([labels[p] for p, _, _ in found], dtype=object),
                "site_id": pd.Series(site_ids, dtype=object),
                "field": pd.Series([f for _, f, _ in found], dtype=object),
                "message": pd.Series([m for _, _, m in found], dtype=object),
            },
            columns=list(REJECTED_COLUMNS),
        )
    sheet = None
    if where.file and where.source and where.source.startswith(f"{where.file}, sheet "):
        sheet = where.source[len(f"{where.file}, sheet ") :]
    return InputRows(
        table=table,
        rows=labels,
        word=where.word,
        sites=raw.input_positions(),
        rejected=rejected,
        sheet=sheet,
        id_column=id_col,
    )


def _check_one_input(**inputs: object) -> None:
    """Exactly one of the inputs (source, wkt=, points=) is given."""
    given = [k for k, v in inputs.items() if v is not None]
    if len(given) != 1:
        raise SitesError(
            "give exactly one of source, wkt= and points= "
            f"({'none' if not given else ', '.join(given)} given)"
        )


def _read_input(
    source,
    wkt,
    points,
    layer: str | None,
    encoding: str | None,
    dxf_layer: str | None = None,
    sheet: str | None = None,
    report: bool = False,
) -> _Raw:
    """The raw input, at least one site; its notes become the notes of the result.  Rows
    whose geometry cells did not parse were set aside: the first is the error unless
    ``report``."""
    raw = _gather(source, wkt, points, layer, encoding, dxf_layer, sheet)
    if raw.errors and not report:
        raise raw.errors[0]
    if raw.input_table is None:
        raw.input_table, raw.input_where = raw.table, raw.where
    if raw.errors:
        _check_left(raw)
    if isinstance(source, str | os.PathLike):
        path = Path(source).expanduser()
        if path.suffix.lower() in _GEOJSON_SUFFIXES and path.is_file():
            # GDAL has cut any text at a NUL already: the file itself is checked.
            _check_geojson_nul(path, raw.where)
    if raw.n == 0:
        raise SitesError(f"{raw.where.name}: no sites")
    raw.notes = list(raw.notes)
    return raw


def _read_attributes(
    raw: _Raw, id_field: str | None, name_field: str | None, options: dict[str, object]
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(site ids, attribute columns) from the attribute columns and the options."""
    columns = _attribute_columns(raw, id_field, name_field)
    for key in ("id", "name"):
        if key in columns:
            _check_text_nul(
                raw.table[columns[key]].to_numpy(), raw.where, f"field {quote(columns[key])}"
            )
        if isinstance(options.get(key), str) and "\x00" in options[key]:  # type: ignore[operator]
            raise SitesError(f"option {key}: holds a NUL character (\\x00); remove it")
    ids = _site_ids(
        raw, columns.get("id"), options.get("id"), explicit=id_field is not None, notes=raw.notes
    )
    return ids, _attributes(raw, columns, options, raw.notes, ids)


def _site_geometries(
    raw: _Raw, given: _InputCRS, attrs: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """(geometries in the working CRS, datum shift in m); ``linear`` derived for line sites."""
    if raw.xy is not None:
        geoms, shift = _point_sites(raw, given, raw.notes)
    else:
        geoms, shift = _geometry_sites(raw, given, raw.notes)
        _derive_linear(attrs, geoms, raw.notes)
    if given.pseudo is not None:
        raw.notes.append(
            f"converted from {given.pseudo} to WGS84 vertex by vertex (zoning.crs); shift "
            f"{shift.min():.0f}-{shift.max():.0f} m; assumed uncertainty "
            f"{_UNCERTAINTY[given.pseudo]:.0f} m"
        )
    return geoms, shift


def _site_frame(
    ids: np.ndarray,
    attrs: dict[str, np.ndarray],
    geoms: np.ndarray,
    shift: np.ndarray,
    given: _InputCRS,
) -> gpd.GeoDataFrame:
    """The sites' GeoDataFrame: the columns :data:`SITE_COLUMNS`, index ``0..n-1``."""
    n = len(ids)
    # Object columns keep None as None (pandas would turn a str column's None into NaN); built
    # as one object block, then the numbers and the geometry (already in its CRS: geopandas
    # then builds the frame about three times faster than from ``geometry=..., crs=...``).
    frame = pd.DataFrame(
        {
            "site_id": np.asarray(ids, dtype=object),
            **{k: np.asarray(attrs[k], dtype=object) for k in _ATTRIBUTE_COLUMNS},
            "input_crs": np.full(n, given.label, dtype=object),
        },
        index=pd.RangeIndex(n),
        dtype=object,
        copy=False,  # the arrays are new (not the caller's): no block of 20 columns copied
    )
    frame["datum_shift_m"] = shift
    frame["uncertainty_m"] = np.full(n, _UNCERTAINTY.get(given.pseudo or "", 0.0))
    frame["geometry"] = from_shapely(np.asarray(geoms, dtype=object), crs=WORKING_CRS)
    gdf = gpd.GeoDataFrame(frame, geometry="geometry", copy=False)  # frame is new
    gdf.index = pd.RangeIndex(n)
    return gdf
