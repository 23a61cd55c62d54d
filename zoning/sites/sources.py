"""Where sites come from: files, CSV and other tables, Python objects, inline WKT and points.

Vector files GDAL reads (GeoJSON, GeoPackage, Shapefile, zipped Shapefile, KML ...; an ODS
spreadsheet GDAL reads without geometry is treated like a CSV), (Geo)Parquet read with
pyarrow and geopandas (:mod:`.parquet`), Excel workbooks read with
openpyxl (:mod:`.spreadsheet`), DXF site plans read with ezdxf (:mod:`.dxf`; a DWG is
refused), CSV read here (UTF-8 or GB18030, the separator sniffed; lon/lat as numbers or
degrees-minutes-seconds, or one "lon,lat" column), GeoDataFrames, GeoSeries, DataFrames,
shapely geometries, ``wkt=`` and ``points=``: each becomes a :class:`~.raw._Raw` record, with
the source's own CRS where it has one.  A table row whose geometry cells do not parse is set
aside in ``raw.errors`` (see :func:`_from_table`).
"""

from __future__ import annotations

import re
import warnings
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

from ..errors import LayerReadError, SitesError, quote
from ..io.guard import check_local, within_budget
from ..io.vector import cut_field_name, first_line, shapefile_encoding, split_zip, zip_source
from .coordinates import parse_cells, parse_lonlat
from .dxf import is_dwg, read_dxf
from .geometry import _crs_label
from .parquet import PARQUET_SUFFIXES, read_parquet_sites
from .raw import _is_blank, _is_number, _norm, _Raw, _RowsError, _short, _Where
from .spreadsheet import WORKBOOK_SUFFIXES, read_workbook

# Geometry columns of a table.
_LON = ("lon", "lng", "long", "longitude", "经度")
_LAT = ("lat", "latitude", "纬度")
_X = ("x", "easting", "x坐标")
_Y = ("y", "northing", "y坐标")
_WKT = ("wkt", "geometry", "geom", "the_geom")
# One column holding "lon,lat" as Amap copies it (zoning.sites.coordinates.parse_lonlat).
_LONLAT = (
    "坐标",
    "经纬度",
    "经纬度坐标",
    "location",
    "lnglat",
    "lonlat",
    "lng_lat",
    "lon_lat",
    "lon,lat",
    "lng,lat",
    "经度,纬度",
)
_COORD_NAMES = frozenset(n.lower() for n in (*_LON, *_LAT, *_X, *_Y))
_TABLE_SUFFIXES = {".csv", ".tsv", ".txt"}
_WKT_WORDS = ("POINT", "LINESTRING", "POLYGON", "MULTI", "GEOMETRYCOLLECTION")


def _find(columns: Iterable[str], names: tuple[str, ...], where: _Where, what: str) -> str | None:
    wanted = {n.lower() for n in names}
    hits = [c for c in columns if _norm(c) in wanted]
    if len(hits) > 1:
        raise SitesError(
            f"{where.name}: columns {', '.join(repr(h) for h in hits)} all look like the {what}; "
            "keep one"
        )
    return hits[0] if hits else None


def _numbers(series: pd.Series, where: _Where, column: str, axis: str | None = None) -> np.ndarray:
    """A coordinate column as float64 (lon/lat also in degrees-minutes-seconds); a blank or
    non-numeric cell is an error naming it."""
    reason = "not a number"
    try:
        values = series.to_numpy(dtype="float64", na_value=np.nan)
    except (ValueError, TypeError):
        if axis is None:
            values = pd.to_numeric(series, errors="coerce").to_numpy("float64", na_value=np.nan)
        else:
            values, _, why = parse_cells(series.to_numpy(dtype=object), axis)
            reason = why or reason
    bad = ~np.isfinite(values)
    if bad.any():

        def message(i: int) -> str:
            raw = series.iloc[i]
            what = "is empty" if _is_blank(raw) else f"holds {_short(raw)}, {reason}"
            return f"{where.cell(i, column)} {what}: every site needs coordinates"

        raise _RowsError.at(np.flatnonzero(bad), column, message)
    return values


def _from_wkt_values(values: np.ndarray, where: _Where, column: str | None) -> np.ndarray:
    def at(i: int) -> str:
        return where.cell(i, column) if column else where.row(i)

    texts = np.array([v if isinstance(v, str) else "" for v in values], dtype=object)
    blank = (
        np.array([not t.strip() for t in texts], dtype=bool) if len(texts) else np.zeros(0, bool)
    )
    if blank.any():
        raise _RowsError.at(
            np.flatnonzero(blank),
            column,
            lambda i: f"{at(i)}: no geometry (empty WKT); every site needs one",
        )
    geoms = shapely.from_wkt(texts, on_invalid="ignore")
    bad = shapely.is_missing(geoms)
    if bad.any():
        raise _RowsError.at(
            np.flatnonzero(bad), column, lambda i: f"{at(i)}: {_short(texts[i])} is not valid WKT"
        )
    return geoms


def _from_table(df: pd.DataFrame, where: _Where) -> _Raw:
    """Sites from a table: a WKT column, lon/lat columns or x/y columns.

    A row whose geometry cells do not parse is set aside (``raw.errors``; the loader stops at
    the first unless rows are reported) and the others are read.
    """
    df = df.set_axis([str(c) for c in df.columns], axis=1)
    table, named, errors = df, where, []
    positions = np.arange(len(df))
    while True:
        try:
            raw = _table_sites(table, named)
            break
        except _RowsError as exc:
            errors.append(exc.moved(positions))
            keep = np.ones(len(table), dtype=bool)
            keep[[p for p, _, _ in exc.rows]] = False
            table, named, positions = (
                table[keep].reset_index(drop=True),
                named.subset(keep),
                positions[keep],
            )
    raw.input_table, raw.input_where, raw.errors = df, where, errors
    raw.positions = positions if errors else None
    return raw


def _table_sites(df: pd.DataFrame, where: _Where) -> _Raw:
    """Sites from a table whose geometry cells all parse (else a :class:`_RowsError`)."""
    cols = list(df.columns)
    wkt = _find(cols, _WKT, where, "WKT geometry column")
    lon = _find(cols, _LON, where, "longitude")
    lat = _find(cols, _LAT, where, "latitude")
    x = _find(cols, _X, where, "x coordinate")
    y = _find(cols, _Y, where, "y coordinate")
    both = _find(cols, _LONLAT, where, "lon,lat column")
    for a, b, na, nb in ((lon, lat, "longitude", "latitude"), (x, y, "x", "y")):
        if (a is None) != (b is None):
            have = a or b
            raise SitesError(
                f"{where.name}: column {quote(have)} has no matching {nb if a else na} column"
            )
    raw = _Raw(where=where, n=len(df), table=df)
    ignored: list[str] = []
    if wkt is not None:
        raw.geoms = _from_wkt_values(df[wkt].to_numpy(dtype=object), where, wkt)
        raw.crs_subject = f"WKT column {quote(wkt)}"
        raw.geometry_columns = (wkt,)
        ignored = [c for c in (lon, lat, x, y) if c]
    elif lon is not None:
        raw.xy = (_numbers(df[lon], where, lon, "lon"), _numbers(df[lat], where, lat, "lat"))
        raw.lonlat = True
        raw.crs_subject = f"columns {quote(lon)}/{quote(lat)}"
        raw.geometry_columns = (lon, lat)
        ignored = [c for c in (x, y, both) if c]
    elif both is not None:
        raw.xy = _lonlat_column(df[both], where, both)
        raw.lonlat = True
        raw.crs_subject = f"column {quote(both)}"
        raw.geometry_columns = (both,)
        ignored = [c for c in (x, y) if c]
    elif x is not None:
        raw.xy = (_numbers(df[x], where, x), _numbers(df[y], where, y))
        raw.crs_subject = f"columns {quote(x)}/{quote(y)}"
        raw.geometry_columns = (x, y)
    else:
        shown = ", ".join(repr(c) for c in cols[:12]) or "none"
        raise SitesError(
            f"{where.name}: no coordinate columns (looked for lon/lat, lng, longitude/latitude, "
            f"经度/纬度, one lon,lat column 坐标/经纬度/location, x/y or a WKT column "
            f"wkt/geometry/geom; columns: {shown})"
        )
    if ignored:
        used = ", ".join(repr(c) for c in raw.geometry_columns)
        raw.notes.append(
            f"geometry taken from {used}; columns {', '.join(repr(c) for c in ignored)} ignored"
        )
    return raw


def _lonlat_column(series: pd.Series, where: _Where, column: str) -> tuple[np.ndarray, np.ndarray]:
    """(lon, lat) from one "lon,lat" column; a cell that is not two angles is an error."""
    lon, lat = np.empty(len(series)), np.empty(len(series))
    bad: dict[int, str] = {}
    for i, cell in enumerate(series.to_numpy(dtype=object)):
        try:
            if _is_blank(cell):
                raise ValueError("is empty")
            lon[i], lat[i] = parse_lonlat(str(cell))
        except ValueError as exc:
            bad[i] = "is empty" if _is_blank(cell) else f"holds {_short(cell)}: {exc}"
    if bad:  # every bad cell (rows set aside with on_row_error="report"); the first is the error
        raise _RowsError.at(sorted(bad), column, lambda i: f"{where.cell(i, column)} {bad[i]}")
    return lon, lat


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


def _csv_header(path: Path, label: str, enc: str) -> tuple[str, set[str]]:
    """``(separator, coordinate column names)`` from a CSV's header row."""
    with path.open(encoding=enc, errors="replace", newline="") as fh:
        header = fh.readline()
    if not header.strip():
        raise SitesError(f"{label}: empty file (no header row)")
    sep = max([",", "\t", ";", "|"], key=header.count)
    if header.count(sep) == 0:
        sep = ","
    names = [c.strip().strip('"').strip() for c in header.rstrip("\r\n").split(sep)]
    return sep, {c for c in names if _norm(c) in _COORD_NAMES}


def _read_csv(path: Path, label: str, encoding: str | None) -> _Raw:
    enc, note = _sniff_encoding(path, encoding)
    # Every cell is read as text (industry codes keep their leading zeros); coordinate columns
    # are parsed as numbers by the C parser when every cell is one -- otherwise everything is
    # read as text and the offending cell is named.
    sep, coords = _csv_header(path, label, enc)
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
                raise SitesError(f"{label}: cannot read as CSV: {first_line(exc)}") from None
        except UnicodeDecodeError as exc:
            raise SitesError(f"{label}: cannot read as CSV: {first_line(exc)}") from None
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
            source = zip_source(source, SimpleNamespace(id="sites"))  # type: ignore[arg-type]
        except LayerReadError as exc:
            raise LayerReadError(str(exc).replace("layer 'sites': ", f"{label}: ", 1)) from None
    check_local(source, label)
    try:
        names = [str(n) for n in within_budget(lambda: pyogrio.list_layers(source), label)[:, 0]]
    except LayerReadError:
        raise
    except Exception as exc:
        raise LayerReadError(f"{label}: cannot open: {first_line(exc)}") from None
    what, option = (
        ("sheets", "sheet= / --sheet NAME")
        if label.lower().endswith(".ods")
        else (
            "layers",
            "layer=",
        )
    )
    if layer is None and len(names) > 1:
        raise SitesError(
            f"{label} holds {len(names)} {what} ({', '.join(names[:8])}); choose one with {option}"
        )
    if layer is not None and layer not in names:
        raise SitesError(
            f"{label} has no {what[:-1]} {quote(layer)} (it has: {', '.join(names[:8])})"
        )
    notes: list[str] = []
    try:
        info = within_budget(
            lambda: pyogrio.read_info(source, layer=layer, encoding=encoding), label
        )
    except LayerReadError:
        raise
    except Exception as exc:
        cut = cut_field_name(source, layer, encoding) if isinstance(exc, UnicodeError) else None
        if cut:
            raise SitesError(f"{label}: {cut}") from None
        raise LayerReadError(f"{label}: cannot read: {first_line(exc)}") from None
    driver = info.get("driver")
    if driver in ("OGR_VRT", "VRT"):
        raise LayerReadError(
            f"{label} is a VRT (it reads other files); refused: input files may not reference "
            "other files"
        )
    if encoding is None and driver == "ESRI Shapefile":
        detected, how = shapefile_encoding(source, layer)
        if how == "detected":
            if detected is None:
                raise SitesError(
                    f"{label} has no .cpg and its text is neither UTF-8 nor GB18030; declare "
                    "its encoding (encoding=, e.g. GBK, Big5)"
                )
            encoding = detected
            if detected != "UTF-8":
                notes.append(f"no .cpg: text decoded as {detected} (detected)")

    def read():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.simplefilter("ignore", UserWarning)
            return pyogrio.read_dataframe(source, layer=layer, encoding=encoding, fid_as_index=True)

    try:
        df = within_budget(read, label)
    except LayerReadError:
        raise
    except Exception as exc:
        raise LayerReadError(f"{label}: cannot read: {first_line(exc)}") from None

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


def _read_path(
    source: str | Path,
    layer: str | None,
    encoding: str | None,
    dxf_layer: str | None = None,
    sheet: str | None = None,
) -> _Raw:
    label = str(source)
    zip_path, _ = split_zip(label)
    local = Path(zip_path or label).expanduser()
    if not local.exists():
        hint = ""
        if label.strip().upper().startswith(_WKT_WORDS):
            hint = " (to give WKT inline, use wkt= / --wkt)"
        raise LayerReadError(f"sites file not found: {label}{hint}")
    if local.is_file() and zip_path is None and (local.suffix.lower() == ".dxf" or is_dwg(local)):
        return read_dxf(local, label, dxf_layer)
    if dxf_layer is not None:
        raise SitesError(f"{label}: dxf_layer= / --dxf-layer applies to DXF site plans only")
    if local.is_file() and zip_path is None and local.suffix.lower() in _TABLE_SUFFIXES:
        return _read_csv(local, label, encoding)
    if local.is_file() and zip_path is None and local.suffix.lower() in PARQUET_SUFFIXES:
        return read_parquet_sites(local, label)
    if local.is_file() and zip_path is None and local.suffix.lower() in WORKBOOK_SUFFIXES:
        check_local(str(local), label)
        df, where, notes = read_workbook(
            local,
            label,
            _sheet_name(label, sheet, layer),
            _COORD_NAMES | {n.lower() for n in (*_WKT, *_LONLAT)},
        )
        raw = _from_table(df, where)
        raw.notes[:0] = notes
        return raw
    if sheet is not None and local.suffix.lower() != ".ods":
        raise SitesError(f"{label}: sheet= is for workbooks (.xlsx, .xlsm, .ods); use layer=")
    if local.suffix.lower() == ".ods":
        layer = _sheet_name(label, sheet, layer)
    path = str(local) if zip_path is None else label
    return _open_vector(path, label, layer, encoding)


def _sheet_name(label: str, sheet: str | None, layer: str | None) -> str | None:
    """The sheet asked for: ``sheet=``, or ``layer=`` as workbooks were read before."""
    if sheet is not None and layer is not None and sheet != layer:
        raise SitesError(f"{label}: sheet={quote(sheet)} and layer={quote(layer)} differ; give one")
    return sheet if sheet is not None else layer


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


def _gather(
    source: object, wkt: object, points: object, layer, encoding, dxf_layer=None, sheet=None
) -> _Raw:
    if wkt is not None:
        return _from_wkt(wkt)  # type: ignore[arg-type]
    if points is not None:
        return _from_points(points)
    if isinstance(source, str | Path):
        return _read_path(source, layer, encoding, dxf_layer, sheet)
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
