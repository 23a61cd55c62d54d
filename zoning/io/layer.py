"""Read any vector source GDAL reads into the working CRS, with an honest load report.

Nothing is repaired silently: invalid geometries are repaired (and named),
null and empty geometries are dropped (and named), Z is dropped (and noted),
the text encoding used is recorded and the input CRS is kept in the report.
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import os
import struct
import tempfile
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pyproj
import shapely

from .catalog import LayerEntry
from .crs import WGS84, WORKING_CRS, parse_crs, to_wgs84_geometries
from .errors import CRSError, LayerDataError, LayerReadError

__all__ = [
    "LoadReport",
    "atomic_path",
    "detect_dbf_encoding",
    "drop_empty_parts",
    "file_sha256",
    "read_layer",
    "resolve_source",
]

log = logging.getLogger(__name__)

_GEOM_FAMILY = {
    "Polygon": "polygon",
    "MultiPolygon": "polygon",
    "LineString": "line",
    "MultiLineString": "line",
    "LinearRing": "line",
    "Point": "point",
    "MultiPoint": "point",
}
#: Broad box around Shanghai (lon/lat); data outside it is measured less accurately.
_SHANGHAI_REGION = (119.0, 29.5, 124.5, 33.0)
_MAX_LISTED = 10
#: Longest edge kept when reprojecting: 0.001 degree (about 100 m) or 100 m.
_SEGMENT_DEG, _SEGMENT_M = 0.001, 100.0
_SINGLE_FILE_FORMATS = {".gpkg", ".geojson", ".json", ".fgb", ".kml", ".gml", ".sqlite"}


@dataclass
class LoadReport:
    """What happened while a layer was read.  Every field is plain data (JSON-ready)."""

    layer_id: str
    source: str
    layer: str | None
    driver: str | None = None
    input_crs: str | None = None
    crs_declared: bool = False
    conversion: str | None = None
    encoding: str | None = None
    encoding_detected: bool = False
    features_read: int = 0
    features: int = 0
    repaired: int = 0
    repaired_ids: list[str] = field(default_factory=list)
    dropped: int = 0
    dropped_ids: list[str] = field(default_factory=list)
    z_dropped: bool = False
    sha256: str | None = None
    bounds_wgs84: tuple[float, float, float, float] | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def resolve_source(entry: LayerEntry, base_dir: Path) -> str:
    """The path or URI GDAL opens for ``entry``; relative paths resolve against the catalog."""
    src = entry.source
    if "://" in src or src.startswith("/vsi"):
        return src
    path = Path(src).expanduser()
    if not path.is_absolute():
        path = base_dir / path
    return str(path)


def file_sha256(path: str | Path) -> str | None:
    """SHA-256 of a local file (or of all files of a Shapefile set), None for URIs."""
    p = Path(path)
    if not p.exists():
        return None
    digest = hashlib.sha256()
    members = [p]
    if p.suffix.lower() == ".shp":
        members = _siblings(p)
    elif p.is_dir():
        members = sorted(q for q in p.rglob("*") if q.is_file())
    if not members:
        return None
    for member in members:
        with member.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------- encoding


def _dbf_text_chunks(data: bytes) -> Iterator[tuple[bytes, bool]]:
    """Field names and character values of a dBase file: (raw bytes, may be cut by the width)."""
    if len(data) < 32:
        return
    n_records, header_len, record_len = struct.unpack("<IHH", data[4:12])
    header_end = min(header_len, len(data))
    fields = []
    pos = 32
    while pos + 32 <= header_end and data[pos] != 0x0D:
        desc = data[pos : pos + 32]
        name = desc[:11].split(b"\x00", 1)[0]
        yield name, len(name) >= 10
        fields.append((chr(desc[11]), desc[16]))
        pos += 32
    offset = header_len
    for _ in range(n_records):
        record = data[offset : offset + record_len]
        if len(record) < record_len or record_len == 0:
            break
        cursor = 1  # deletion flag
        for ftype, width in fields:
            if ftype in "CM":
                value = record[cursor : cursor + width].rstrip(b" \x00")
                yield value, len(value) == width
            cursor += width
        offset += record_len


def _decodes(chunks: list[tuple[bytes, bool]], encoding: str) -> bool:
    # A multi-byte character cut by the field width is not proof of another encoding, so a
    # value that fills its field may end in an incomplete sequence -- but nothing else may be off.
    for chunk, maybe_cut in chunks:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            decoder.decode(chunk, final=not maybe_cut)
        except UnicodeDecodeError:
            return False
    return True


def detect_dbf_encoding(dbf: bytes) -> str | None:
    """Guess the encoding of a dBase (.dbf) file's text: ``UTF-8``, ``GB18030`` or None.

    Pure ASCII and valid UTF-8 give ``UTF-8``; text that is not UTF-8 but
    decodes as GB18030 (a superset of GBK and GB2312) gives ``GB18030``;
    anything else gives None (the caller must ask for a declared encoding).
    """
    try:
        chunks = [c for c in _dbf_text_chunks(dbf) if c[0]]
    except (struct.error, IndexError):
        return None
    if _decodes(chunks, "utf-8"):
        return "UTF-8"
    if _decodes(chunks, "gb18030"):
        return "GB18030"
    return None


def split_zip(path: str) -> tuple[str | None, str]:
    """(zip file, member inside it) for ``x.zip`` or ``/vsizip/x.zip/inner``; else (None, path)."""
    local = path[len("/vsizip/") :] if path.startswith("/vsizip/") else path
    low = local.lower()
    cut = low.find(".zip/")
    if cut >= 0:
        return local[: cut + 4], local[cut + 5 :].strip("/")
    if low.endswith(".zip"):
        return local, ""
    return None, path


def _zip_source(path: str, entry: LayerEntry) -> str:
    """Point GDAL at the data inside a zip, even when it sits in a folder (the usual case)."""
    zip_path, inner = split_zip(path)
    if zip_path is None or inner or not zipfile.is_zipfile(zip_path):
        return path
    with zipfile.ZipFile(zip_path) as zf:
        names = [n for n in zf.namelist() if not n.endswith("/")]
    shp_dirs = sorted({str(Path(n).parent) for n in names if n.lower().endswith(".shp")})
    others = [n for n in names if Path(n).suffix.lower() in _SINGLE_FILE_FORMATS]
    if len(shp_dirs) == 1 and not others:
        folder = "" if shp_dirs[0] == "." else shp_dirs[0]
        return f"/vsizip/{zip_path}/{folder}".rstrip("/")
    if not shp_dirs and len(others) == 1:
        return f"/vsizip/{zip_path}/{others[0]}"
    if not shp_dirs and not others:
        raise LayerReadError(f"layer {entry.id!r}: {zip_path} holds no vector data file")
    raise LayerReadError(
        f"layer {entry.id!r}: {zip_path} holds several datasets; name one as "
        f"/vsizip/{zip_path}/<path inside the zip>"
    )


def _siblings(p: Path) -> list[Path]:
    """Files of a Shapefile set: same folder, same stem (no glob: names may hold [ ] * ?)."""
    if not p.parent.is_dir():
        return []
    return sorted(q for q in p.parent.iterdir() if q.is_file() and q.stem == p.stem)


def _shapefile_encoding(path: str, layer: str | None) -> tuple[str | None, str]:
    """(encoding to use, how it was found) for a Shapefile without a declared encoding."""
    zip_path, inner = split_zip(path)
    if zip_path is not None:
        with zipfile.ZipFile(zip_path) as zf:
            names = zf.namelist()
            prefix = inner.rsplit(".", 1)[0] if inner.lower().endswith(".shp") else inner
            dbfs = [n for n in names if n.lower().endswith(".dbf") and n.startswith(prefix)]
            if layer:
                dbfs = [n for n in dbfs if Path(n).stem == layer] or dbfs
            if not dbfs:
                return None, "no .dbf"
            stem = dbfs[0][:-4]
            if any(n.lower() == (stem + ".cpg").lower() for n in names):
                return None, ".cpg"
            return detect_dbf_encoding(zf.read(dbfs[0])), "detected"
    p = Path(path)
    if p.is_dir():
        dbfs = sorted(q for q in p.iterdir() if q.suffix.lower() == ".dbf")
        if layer:
            dbfs = [q for q in dbfs if q.stem == layer] or dbfs
        if not dbfs:
            return None, "no .dbf"
        p = dbfs[0]
    family = _siblings(p)
    if any(q.suffix.lower() == ".cpg" for q in family):
        return None, ".cpg"
    dbf = [q for q in family if q.suffix.lower() == ".dbf"]
    if not dbf:
        return None, "no .dbf"
    return detect_dbf_encoding(dbf[0].read_bytes()), "detected"


# --------------------------------------------------------------------------- reading


def _open_info(path: str, entry: LayerEntry, encoding: str | None) -> dict:
    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:
        raise LayerReadError(
            f"layer {entry.id!r}: cannot open {path}: {_first_line(exc)}"
        ) from None
    names = [str(n) for n in layers[:, 0]]
    if entry.layer is None and len(names) > 1:
        raise LayerReadError(
            f"layer {entry.id!r}: {path} holds {len(names)} layers ({', '.join(names[:8])}); "
            "set 'layer:' in the catalog"
        )
    if entry.layer is not None and entry.layer not in names:
        raise LayerReadError(
            f"layer {entry.id!r}: {path} has no layer {entry.layer!r} "
            f"(it has: {', '.join(names[:8])})"
        )
    try:
        return pyogrio.read_info(path, layer=entry.layer, encoding=encoding)
    except Exception as exc:
        raise LayerReadError(
            f"layer {entry.id!r}: cannot read {path}: {_first_line(exc)}"
        ) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _feature_ids(gdf: gpd.GeoDataFrame, entry: LayerEntry) -> np.ndarray:
    col = entry.fields.id
    if col is None:
        return np.array([f"{entry.id}:{i + 1}" for i in range(len(gdf))], dtype=object)
    return gdf[col].astype(str).to_numpy(dtype=object)


def _resolve_crs(info_crs: str | None, entry: LayerEntry, source: str, report: LoadReport):
    """Return (pyproj CRS of the stored coordinates, pseudo-CRS or None)."""
    file_crs = None
    if info_crs is not None:
        try:
            file_crs = pyproj.CRS.from_user_input(info_crs)
        except pyproj.exceptions.CRSError:
            file_crs = None
        if file_crs is not None and not (file_crs.is_geographic or file_crs.is_projected):
            file_crs = None  # a LOCAL_CS / engineering CRS says nothing about the earth
        if file_crs is None:
            report.notes.append(f"file CRS not usable ({str(info_crs)[:60]}…)")
    if entry.crs is not None:
        declared = parse_crs(entry.crs, what=f"layer {entry.id!r}: key 'crs'")
        report.crs_declared = True
        if file_crs is not None:
            if declared.pseudo is not None:
                # GCJ-02/BD-09 data are routinely mislabelled as WGS84: the declaration wins,
                # but only over a geographic label.
                if not file_crs.is_geographic:
                    raise CRSError(
                        f"layer {entry.id!r}: declared {declared.label} but {source} is in the "
                        f"projected CRS {info_crs}"
                    )
                report.notes.append(f"file labelled {info_crs}; declared {declared.label} used")
            elif not file_crs.equals(declared.crs, ignore_axis_order=True):
                raise CRSError(
                    f"layer {entry.id!r}: declared crs {declared.label} contradicts the file's CRS "
                    f"{info_crs} ({source}); remove 'crs:' or fix the file"
                )
        report.input_crs = declared.label
        return declared.crs, declared.pseudo
    if file_crs is None:
        what = "no CRS" if info_crs is None else "a local (engineering) CRS"
        raise CRSError(
            f"layer {entry.id!r}: {source} has {what} and none is declared; add e.g. "
            "crs: EPSG:4490 (or gcj02 / bd09) to the catalog entry, or --layer KIND=PATH@EPSG:4490"
        )
    report.input_crs = info_crs
    return file_crs, None


def _check_coordinates(geoms: np.ndarray, crs: pyproj.CRS, entry: LayerEntry, source: str) -> None:
    valid = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if len(valid) == 0:
        return
    xmin, ymin, xmax, ymax = shapely.total_bounds(valid)
    if crs.is_geographic and (xmin < -180 or xmax > 180 or ymin < -90 or ymax > 90):
        raise CRSError(
            f"layer {entry.id!r}: coordinates ({xmin:.0f}, {ymin:.0f}) .. ({xmax:.0f}, {ymax:.0f}) "
            "in "
            f"{source} are not degrees, but the CRS is geographic; declare the projected CRS"
        )
    code = crs.to_epsg()
    zone = _gk_zone(code)
    if zone is not None:
        prefixes = {int(xmin // 1_000_000), int(xmax // 1_000_000)}
        if prefixes != {zone}:
            raise CRSError(
                f"layer {entry.id!r}: eastings {xmin:.0f} .. {xmax:.0f} m do not carry the zone "
                f"prefix {zone} that EPSG:{code} expects; check the zone, or use the 'CM' code "
                "if the eastings have no prefix"
            )
    elif _is_gk_cm(code) and xmax > 1_000_000:
        raise CRSError(
            f"layer {entry.id!r}: eastings up to {xmax:.0f} m carry a zone prefix, but EPSG:{code} "
            "is a Gauss-Krüger 'CM' CRS without one; use the matching 'zone' code"
        )


def _gk_zone(code: int | None) -> int | None:
    """Zone number of a CGCS2000 Gauss-Krüger 'zone' code (easting prefixed with the zone)."""
    if code is None:
        return None
    if 4491 <= code <= 4501:  # 6-degree zones 13-23
        return code - 4478
    if 4513 <= code <= 4533:  # 3-degree zones 25-45
        return code - 4488
    return None


def _is_gk_cm(code: int | None) -> bool:
    """CGCS2000 Gauss-Krüger 'CM' codes: eastings without a zone prefix."""
    return code is not None and (4502 <= code <= 4512 or 4534 <= code <= 4554)


def read_layer(
    entry: LayerEntry, base_dir: Path | str = "."
) -> tuple[gpd.GeoDataFrame, LoadReport]:
    """Read one catalog layer into the working CRS.

    Parameters
    ----------
    entry : LayerEntry
        The catalog entry.
    base_dir : path
        Directory that relative sources resolve against (the catalog's folder).

    Returns
    -------
    (GeoDataFrame, LoadReport)
        The features in :data:`zoning.crs.WORKING_CRS` with the standard
        columns ``feature_id`` (str) and, where mapped, ``name``, ``name_en``,
        ``category``, ``unit_code``, ``realm``, ``level``, ``district``, next
        to the source's own columns; and the report of what was done.

    Raises
    ------
    LayerReadError
        Missing or unreadable source, unknown layer name.
    CRSError
        No CRS and none declared; a declared CRS that contradicts the file;
        coordinates that do not fit the CRS.
    LayerDataError
        Geometries of the wrong type for the kind (named), a field mapping
        naming a missing column, a code column holding numbers.

    Notes
    -----
    Cost: one read, one ``make_valid`` pass over invalid features only, one
    reprojection.  Pseudo-CRS (GCJ-02/BD-09) sources are converted vertex by
    vertex to WGS84 before reprojection.
    """
    source = resolve_source(entry, Path(base_dir))
    report = LoadReport(layer_id=entry.id, source=source, layer=entry.layer)
    zip_path, _ = split_zip(source)
    local = zip_path or source
    is_remote = "://" in source or (source.startswith("/vsi") and zip_path is None)
    if not is_remote and not Path(local).exists():
        raise LayerReadError(f"layer {entry.id!r}: source file not found: {local}")
    if zip_path is not None:
        source = _zip_source(source, entry)
        report.source = source
    info = _open_info(source, entry, entry.encoding)
    report.driver = info.get("driver")
    report.sha256 = None if is_remote else file_sha256(local)

    encoding = entry.encoding
    if encoding is not None:
        report.encoding = encoding
    elif report.driver == "ESRI Shapefile":
        detected, how = _shapefile_encoding(source, entry.layer)
        if how != "detected":
            report.encoding = info.get("encoding")
        elif detected is None:
            raise LayerReadError(
                f"layer {entry.id!r}: {source} has no .cpg and its text is neither UTF-8 nor "
                "GB18030; declare 'encoding:' in the catalog (e.g. GBK, Big5, ISO-8859-1)"
            )
        else:
            encoding = detected
            report.encoding_detected = True
            report.encoding = encoding
            if encoding != "UTF-8":
                report.notes.append(f"no .cpg: text decoded as {encoding} (detected)")
    else:
        report.encoding = info.get("encoding") or "UTF-8"

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            gdf = pyogrio.read_dataframe(source, layer=entry.layer, encoding=encoding)
    except Exception as exc:
        raise LayerReadError(
            f"layer {entry.id!r}: cannot read {source}: {_first_line(exc)}"
        ) from None
    report.features_read = len(gdf)

    crs, pseudo = _resolve_crs(info.get("crs"), entry, source, report)

    # Field mapping: every mapped column must exist.
    mapped = entry.fields.mapped()
    for key, column in mapped.items():
        if column not in gdf.columns:
            cols = ", ".join(c for c in gdf.columns if c != "geometry")
            raise LayerDataError(
                f"layer {entry.id!r}: fields.{key} names column {column!r}, "
                f"which {Path(source).name} "
                f"does not have (columns: {cols})"
            )
    ids = _feature_ids(gdf, entry)
    if len(set(ids)) != len(ids):
        report.notes.append("feature ids are not unique")

    geoms = gdf.geometry.to_numpy()
    _check_coordinates(geoms, crs, entry, source)

    # Null / empty geometries: dropped and named.
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if shapely.has_z(geoms[~missing]).any():
        geoms = shapely.force_2d(geoms)
        report.z_dropped = True
        report.notes.append("Z coordinates dropped")

    # Geometry family must fit the kind.
    family = entry.kind_info.geometry
    types = shapely.get_type_id(geoms)
    names = np.array(
        [
            "Point",
            "LineString",
            "LinearRing",
            "Polygon",
            "MultiPoint",
            "MultiLineString",
            "MultiPolygon",
            "GeometryCollection",
        ],
        dtype=object,
    )
    type_names = np.where(types >= 0, names[np.clip(types, 0, 7)], "None")
    wrong = ~missing & np.array([_GEOM_FAMILY.get(t) != family for t in type_names], dtype=bool)
    if wrong.any():
        bad = [
            f"{i} ({t})"
            for i, t in zip(ids[wrong][:_MAX_LISTED], type_names[wrong][:_MAX_LISTED], strict=True)
        ]
        raise LayerDataError(
            f"layer {entry.id!r} (kind {entry.kind}) must hold {family}s, but {int(wrong.sum())} "
            f"feature(s) are not: {', '.join(bad)}"
        )

    # Empty members of Multi* geometries are dropped first (GEOS crashes on them), and named.
    geoms, emptied = drop_empty_parts(geoms)
    if emptied.any():
        report.notes.append(
            f"empty parts removed from {int(emptied.sum())} multi-part feature(s): "
            + ", ".join(str(i) for i in ids[emptied][:_MAX_LISTED])
        )
        missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)

    # Invalid polygons: repaired and named.
    if family == "polygon":
        invalid = ~missing & ~shapely.is_valid(geoms)
        if invalid.any():
            fixed = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
            fixed = np.array([_polygonal(g) for g in fixed], dtype=object)
            geoms = geoms.copy()
            geoms[invalid] = fixed
            report.repaired = int(invalid.sum())
            report.repaired_ids = [str(i) for i in ids[invalid]]
            missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        report.dropped = int(missing.sum())
        report.dropped_ids = [str(i) for i in ids[missing]]

    keep = ~missing
    if pseudo is not None:
        geoms = geoms.copy()
        geoms[keep] = to_wgs84_geometries(geoms[keep], pseudo)
        report.conversion = f"{pseudo} -> WGS84 (zoning.crs)"

    # Densify long edges before reprojecting: a straight edge in the source CRS is curved in
    # the working CRS, and without this a T-junction between neighbours opens a sliver there.
    geoms = geoms.copy()
    geoms[keep] = shapely.segmentize(geoms[keep], _SEGMENT_DEG if crs.is_geographic else _SEGMENT_M)
    attrs = gdf.drop(columns="geometry")
    # Source columns named like a standard column are kept under src_<name>, never overwritten.
    standard = {"feature_id"} | {k for k in mapped if k != "id"}
    renames = {c: f"src_{c}" for c in attrs.columns if c in standard and mapped.get(c) != c}
    if renames:
        attrs = attrs.rename(columns=renames)
        mapped = {k: renames.get(v, v) for k, v in mapped.items()}
        report.notes.append(
            "source columns renamed to keep the standard names free: "
            + ", ".join(f"{a} -> {b}" for a, b in renames.items())
        )
    out = gpd.GeoDataFrame(attrs, geometry=geoms, crs=crs)
    out = out.loc[keep].copy()
    out.insert(0, "feature_id", ids[keep])
    for key, column in mapped.items():
        if key == "id":
            continue
        values = out[column]
        if key == "unit_code" and not all(isinstance(v, str) for v in values[values.notna()]):
            raise LayerDataError(
                f"layer {entry.id!r}: fields.unit_code column {column!r} holds numbers; unit codes "
                "must be text (leading zeros and letters matter)"
            )
        if key != column:
            out[key] = values.astype(object).where(values.notna(), None)
    if len(out):
        try:
            wgs = out.geometry.to_crs(WGS84)
        except pyproj.exceptions.ProjError as exc:
            raise CRSError(
                f"layer {entry.id!r}: cannot transform from {report.input_crs}: {_first_line(exc)}"
            ) from None
        bounds = tuple(float(round(b, 6)) for b in wgs.total_bounds)
        report.bounds_wgs84 = bounds  # type: ignore[assignment]
        if not _within(bounds, _SHANGHAI_REGION):
            report.notes.append(
                "extends beyond the Shanghai region: measurements there are less accurate"
            )
        try:
            out = out.to_crs(WORKING_CRS)
        except pyproj.exceptions.ProjError as exc:
            raise CRSError(
                f"layer {entry.id!r}: cannot transform from {report.input_crs}: {_first_line(exc)}"
            ) from None
        if not np.isfinite(out.total_bounds).all():
            raise CRSError(
                f"layer {entry.id!r}: coordinates could not be transformed from {report.input_crs}"
            )
    else:
        out = out.set_crs(WORKING_CRS, allow_override=True)
    report.features = len(out)
    out.index = range(len(out))
    log.info("read layer %s: %d features from %s", entry.id, len(out), source)
    return out, report


def drop_empty_parts(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rebuild Multi* geometries without their empty members.

    GeoJSON allows ``"MultiPolygon", "coordinates": [[], [...]]``; GEOS 3.14 crashes the whole
    process (a segmentation fault, no exception) when such a geometry is densified or noded.
    Returns the cleaned array (a copy only when something changed) and a boolean mask of the
    geometries that lost an empty member.  A geometry whose members are all empty becomes empty.
    """
    geoms = np.asarray(geoms, dtype=object)
    changed = np.zeros(len(geoms), dtype=bool)
    multi = np.flatnonzero(np.isin(shapely.get_type_id(geoms), (4, 5, 6)))
    if not len(multi):
        return geoms, changed
    parts, owner = shapely.get_parts(geoms[multi], return_index=True)
    empty = shapely.is_empty(parts)
    if not empty.any():
        return geoms, changed
    hit = np.unique(owner[empty])
    geoms = geoms.copy()
    build = {4: shapely.multipoints, 5: shapely.multilinestrings, 6: shapely.multipolygons}
    for k in hit:
        i = multi[k]
        kept = parts[(owner == k) & ~empty]
        geoms[i] = build[int(shapely.get_type_id(geoms[i]))](kept)
        changed[i] = True
    return geoms, changed


def _polygonal(geom):
    """The polygonal part of a repaired geometry (lines and points from the repair are dropped)."""
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        return None
    return shapely.union_all(parts)


def _within(bounds, region) -> bool:
    return (
        bounds[0] >= region[0]
        and bounds[1] >= region[1]
        and bounds[2] <= region[2]
        and bounds[3] <= region[3]
    )


@contextmanager
def atomic_path(target: str | Path, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; move it into place only if the block succeeds."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=suffix or target.suffix, dir=target.parent
    )
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp creates 0600; give the usual mode
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
