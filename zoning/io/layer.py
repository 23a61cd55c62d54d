"""Read one catalog layer into the working CRS, with an honest load report.

Nothing is repaired silently: invalid geometries are repaired (and named),
null and empty geometries are dropped (and named), Z is dropped (and noted),
the text encoding used is recorded and the input CRS is kept in the report.
:func:`read_layer` is a sequence of named steps (open, choose the encoding,
read, resolve the CRS, check the fields, clean the geometries, build the frame,
project); where the data is and what CRS it is in is settled in :mod:`.vector`.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pyproj
import shapely

from ..catalog import LayerEntry
from ..crs import WGS84, WORKING_CRS, to_wgs84_geometries
from ..errors import CRSError, LayerDataError, LayerReadError, quote
from .guard import check_local, is_remote, network_allowed, within_budget
from .postgis import is_database_url, read_table
from .vector import (
    _check_coordinates,
    _open_info,
    _resolve_crs,
    file_sha256,
    first_line,
    resolve_source,
    shapefile_encoding,
    split_zip,
    zip_source,
)

__all__ = [
    "SEGMENT_DEG",
    "SEGMENT_M",
    "LoadReport",
    "drop_empty_parts",
    "polygonal",
    "read_layer",
    "read_source",
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
SEGMENT_DEG, SEGMENT_M = 0.001, 100.0
#: Geometry type names by shapely type id (0-7).
TYPE_NAMES = (
    "Point",
    "LineString",
    "LinearRing",
    "Polygon",
    "MultiPoint",
    "MultiLineString",
    "MultiPolygon",
    "GeometryCollection",
)


@dataclass
class LoadReport:
    """What happened while a layer was read.  Every field is plain data (JSON-ready).

    Attributes
    ----------
    layer_id, source, layer : str
        The catalog id, the path or URI GDAL opened, the layer name inside it.
    driver, input_crs, conversion, encoding : str or None
        GDAL driver; the CRS label the coordinates were read in (``crs_declared``: from
        the catalog); the pseudo-CRS conversion applied; the text encoding used
        (``encoding_detected``: guessed from the bytes).
    features_read, features, repaired, dropped : int
        Features in the source, kept, repaired (ids in ``repaired_ids``), dropped as
        null or empty (ids in ``dropped_ids``).
    z_dropped : bool
        Z coordinates were removed.
    sha256 : str or None
        Hash of the local file(s), None for remote sources; for a database table the hash of
        its content (:func:`zoning.io.postgis.content_sha256`).
    bounds_wgs84 : tuple of float or None
        Extent of the kept features in longitude/latitude.
    notes : list of str
        What else the user should know.
    """

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
        """The report as a plain dictionary (``dataclasses.asdict``)."""
        return asdict(self)


def read_layer(
    entry: LayerEntry, base_dir: Path | str = ".", *, sha256: str | None = None
) -> tuple[gpd.GeoDataFrame, LoadReport]:
    """Read one catalog layer into the working CRS.

    Parameters
    ----------
    entry : LayerEntry
        The catalog entry.
    base_dir : path
        Directory that relative sources resolve against (the catalog's folder).
    sha256 : str, keyword-only, optional
        The source file's hash when the caller computed it already (the index cache keys
        layers by it); else it is computed here.

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
    if is_database_url(entry.source):
        gdf, info_crs, report = _read_database(entry)
        source = report.source
    else:
        source, report, info = _open_source(entry, Path(base_dir), sha256)
        encoding = _choose_encoding(entry, source, info, report)
        gdf = _read_frame(entry, source, encoding)
        info_crs = info.get("crs")
    report.features_read = len(gdf)
    crs, pseudo = _resolve_crs(info_crs, entry, source, report)
    mapped = _check_fields(gdf, entry, source)
    ids = _feature_ids(gdf, entry)
    if len(set(ids)) != len(ids):
        report.notes.append("feature ids are not unique")
    geoms = gdf.geometry.to_numpy()
    _check_coordinates(geoms, crs, entry, source)
    geoms, keep = _clean_geometries(geoms, ids, entry, report)
    geoms = _densify(geoms, keep, crs, pseudo, report)
    out = _standard_frame(gdf, geoms, keep, ids, mapped, crs, entry, report)
    out = _project(out, entry, report)
    report.features = len(out)
    out.index = range(len(out))
    log.info("read layer %s: %d features from %s", entry.id, len(out), source)
    return out, report


def read_source(
    entry: LayerEntry, base_dir: Path | str = "."
) -> tuple[gpd.GeoDataFrame, pyproj.CRS]:
    """Read one catalog layer as its source holds it: nothing repaired, dropped or projected.

    Parameters
    ----------
    entry : LayerEntry
        The catalog entry.
    base_dir : path
        Directory that relative sources resolve against.

    Returns
    -------
    (GeoDataFrame, pyproj.CRS)
        The source's rows and columns (geometry column ``geometry``) and the CRS
        the coordinates are in (for a declared GCJ-02/BD-09 source: WGS84, the label the
        coordinates carry).

    Raises
    ------
    LayerReadError, CRSError
        As :func:`read_layer`.
    """
    if is_database_url(entry.source):
        gdf, info_crs, report = _read_database(entry)
    else:
        source, report, info = _open_source(entry, Path(base_dir))
        gdf = _read_frame(entry, source, _choose_encoding(entry, source, info, report))
        info_crs = info.get("crs")
    crs, _ = _resolve_crs(info_crs, entry, report.source, report)
    return gdf, crs


def _open_source(
    entry: LayerEntry, base_dir: Path, sha256: str | None = None
) -> tuple[str, LoadReport, dict]:
    """Resolve and open the source: (path GDAL opens, the report begun, GDAL's layer info)."""
    source = resolve_source(entry, base_dir)
    report = LoadReport(layer_id=entry.id, source=source, layer=entry.layer)
    zip_path, _ = split_zip(source)
    local = zip_path or source
    remote = is_remote(source)
    virtual = remote or (source.startswith("/vsi") and zip_path is None)  # e.g. /vsimem/
    if remote and not network_allowed():
        raise LayerReadError(
            f"layer {quote(entry.id)}: source {source} is remote and the network is off; give "
            "--allow-network to fetch it (Python: zoning.io.set_network_allowed(True))"
        )
    if not virtual and not Path(local).exists():
        raise LayerReadError(f"layer {quote(entry.id)}: source file not found: {local}")
    if zip_path is not None and not remote:
        source = zip_source(source, entry)
        report.source = source
    if not remote:
        check_local(source, f"layer {quote(entry.id)}", allow_vrt=entry.allow_vrt)
    info = _open_info(source, entry, entry.encoding)
    report.driver = info.get("driver")
    if report.driver in ("OGR_VRT", "VRT") and not entry.allow_vrt:
        raise LayerReadError(
            f"layer {quote(entry.id)}: {source} is a VRT (it reads other files); refused (a "
            f"trusted "
            "catalog may set 'allow_vrt: true' on the layer)"
        )
    report.sha256 = None if virtual else (sha256 or file_sha256(local))
    return source, report, info


def _read_database(entry: LayerEntry) -> tuple[gpd.GeoDataFrame, str | None, LoadReport]:
    """Read a ``postgresql://`` layer's table: (rows, CRS text or None, the report begun)."""
    gdf, crs, record = read_table(
        entry.source, entry.table or "", entry.where, f"layer {quote(entry.id)}"
    )
    report = LoadReport(layer_id=entry.id, source=record["source"], layer=record["layer"])
    report.driver = "PostgreSQL/PostGIS"
    report.encoding = "UTF-8"
    report.sha256 = record["sha256"]
    if record["where"]:
        report.notes.append(f"rows where {record['where']}")
    report.notes.extend(record["notes"])
    return gdf, crs, report


def _choose_encoding(entry: LayerEntry, source: str, info: dict, report: LoadReport) -> str | None:
    """The text encoding to read with (None: GDAL's own choice), recorded in the report."""
    encoding = entry.encoding
    if encoding is not None:
        report.encoding = encoding
    elif report.driver == "ESRI Shapefile":
        detected, how = shapefile_encoding(source, entry.layer)
        if how != "detected":
            report.encoding = info.get("encoding")
        elif detected is None:
            raise LayerReadError(
                f"layer {quote(entry.id)}: {source} has no .cpg and its text is neither UTF-8 nor "
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
    return encoding


def _read_frame(entry: LayerEntry, source: str, encoding: str | None) -> gpd.GeoDataFrame:
    """The features as GDAL reads them (source CRS, source columns)."""

    def read() -> gpd.GeoDataFrame:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return pyogrio.read_dataframe(source, layer=entry.layer, encoding=encoding)

    try:
        return within_budget(read, f"layer {quote(entry.id)}")
    except LayerReadError:
        raise
    except Exception as exc:
        raise LayerReadError(
            f"layer {quote(entry.id)}: cannot read {source}: {first_line(exc)}"
        ) from None


def _check_fields(gdf: gpd.GeoDataFrame, entry: LayerEntry, source: str) -> dict[str, str]:
    """The field mapping ``{standard name: column}``; every mapped column must exist."""
    mapped = entry.fields.mapped()
    for key, column in mapped.items():
        if column not in gdf.columns:
            cols = ", ".join(c for c in gdf.columns if c != "geometry")
            raise LayerDataError(
                f"layer {quote(entry.id)}: fields.{key} names column {quote(column)}, "
                f"which {source if is_database_url(source) else Path(source).name} "
                f"does not have (columns: {cols})"
            )
    return mapped


def _feature_ids(gdf: gpd.GeoDataFrame, entry: LayerEntry) -> np.ndarray:
    col = entry.fields.id
    if col is None:
        return np.array([f"{entry.id}:{i + 1}" for i in range(len(gdf))], dtype=object)
    return gdf[col].astype(str).to_numpy(dtype=object)


def _missing(geoms: np.ndarray) -> np.ndarray:
    return shapely.is_missing(geoms) | shapely.is_empty(geoms)


def _clean_geometries(
    geoms: np.ndarray, ids: np.ndarray, entry: LayerEntry, report: LoadReport
) -> tuple[np.ndarray, np.ndarray]:
    """Drop Z, check the family, drop empty parts, repair polygons: (geometries, kept mask).

    Null and empty geometries (also those the repair leaves empty) are not kept, and named
    in the report.
    """
    missing = _missing(geoms)
    if shapely.has_z(geoms[~missing]).any():
        geoms = shapely.force_2d(geoms)
        report.z_dropped = True
        report.notes.append("Z coordinates dropped")
    family = entry.kind_info.geometry
    _check_family(geoms, missing, ids, entry, family)
    # Empty members of Multi* geometries are dropped first (GEOS crashes on them), and named.
    geoms, emptied = drop_empty_parts(geoms)
    if emptied.any():
        report.notes.append(
            f"empty parts removed from {int(emptied.sum())} multi-part feature(s): "
            + ", ".join(str(i) for i in ids[emptied][:_MAX_LISTED])
        )
        missing = _missing(geoms)
    if family == "polygon":
        invalid = ~missing & ~shapely.is_valid(geoms)
        if invalid.any():
            fixed = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
            fixed = np.array([polygonal(g) for g in fixed], dtype=object)
            geoms = geoms.copy()
            geoms[invalid] = fixed
            report.repaired = int(invalid.sum())
            report.repaired_ids = [str(i) for i in ids[invalid]]
            missing = _missing(geoms)
    if missing.any():
        report.dropped = int(missing.sum())
        report.dropped_ids = [str(i) for i in ids[missing]]
    return geoms, ~missing


def _check_family(
    geoms: np.ndarray, missing: np.ndarray, ids: np.ndarray, entry: LayerEntry, family: str
) -> None:
    """Every geometry must be of the kind's family (polygon, line, point); the wrong are named."""
    types = shapely.get_type_id(geoms)
    names = np.array(TYPE_NAMES, dtype=object)
    type_names = np.where(types >= 0, names[np.clip(types, 0, 7)], "None")
    wrong = ~missing & np.array([_GEOM_FAMILY.get(t) != family for t in type_names], dtype=bool)
    if wrong.any():
        bad = [
            f"{i} ({t})"
            for i, t in zip(ids[wrong][:_MAX_LISTED], type_names[wrong][:_MAX_LISTED], strict=True)
        ]
        raise LayerDataError(
            f"layer {quote(entry.id)} (kind {entry.kind}) must hold {family}s, but "
            f"{int(wrong.sum())} "
            f"feature(s) are not: {', '.join(bad)}"
        )


def _densify(
    geoms: np.ndarray, keep: np.ndarray, crs: pyproj.CRS, pseudo: str | None, report: LoadReport
) -> np.ndarray:
    """Convert a pseudo-CRS to WGS84, then densify the kept geometries' long edges."""
    if pseudo is not None:
        geoms = geoms.copy()
        geoms[keep] = to_wgs84_geometries(geoms[keep], pseudo)
        report.conversion = f"{pseudo} -> WGS84 (zoning.crs)"
    # Densify long edges before reprojecting: a straight edge in the source CRS is curved in
    # the working CRS, and without this a T-junction between neighbours opens a sliver there.
    geoms = geoms.copy()
    geoms[keep] = shapely.segmentize(geoms[keep], SEGMENT_DEG if crs.is_geographic else SEGMENT_M)
    return geoms


def _standard_frame(
    gdf: gpd.GeoDataFrame,
    geoms: np.ndarray,
    keep: np.ndarray,
    ids: np.ndarray,
    mapped: dict[str, str],
    crs: pyproj.CRS,
    entry: LayerEntry,
    report: LoadReport,
) -> gpd.GeoDataFrame:
    """The kept features (source CRS) with ``feature_id`` and the mapped standard columns."""
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
                f"layer {quote(entry.id)}: fields.unit_code column {quote(column)} holds "
                f"numbers; unit codes "
                "must be text (leading zeros and letters matter)"
            )
        if key != column:
            out[key] = values.astype(object).where(values.notna(), None)
    return out


def _project(out: gpd.GeoDataFrame, entry: LayerEntry, report: LoadReport) -> gpd.GeoDataFrame:
    """Record the WGS84 bounds (and a note outside Shanghai), then project to the working CRS."""
    if not len(out):
        return out.set_crs(WORKING_CRS, allow_override=True)
    wgs = _to_crs(out.geometry, WGS84, entry, report)
    bounds = tuple(float(round(b, 6)) for b in wgs.total_bounds)
    report.bounds_wgs84 = bounds  # type: ignore[assignment]
    if not _within(bounds, _SHANGHAI_REGION):
        report.notes.append(
            "extends beyond the Shanghai region: measurements there are less accurate"
        )
    out = _to_crs(out, WORKING_CRS, entry, report)
    if not np.isfinite(out.total_bounds).all():
        raise CRSError(
            f"layer {quote(entry.id)}: coordinates could not be transformed from {report.input_crs}"
        )
    return out


def _to_crs(data, crs, entry: LayerEntry, report: LoadReport):
    """``data.to_crs(crs)``, a PROJ failure being a one-line :class:`CRSError`."""
    try:
        return data.to_crs(crs)
    except pyproj.exceptions.ProjError as exc:
        raise CRSError(
            f"layer {quote(entry.id)}: cannot transform from {report.input_crs}: {first_line(exc)}"
        ) from None


def drop_empty_parts(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rebuild Multi* geometries without their empty members.

    GeoJSON allows ``"MultiPolygon", "coordinates": [[], [...]]``; GEOS 3.14 crashes the whole
    process (a segmentation fault, no exception) when such a geometry is densified or noded.
    A geometry whose members are all empty becomes empty.

    Parameters
    ----------
    geoms : array of shapely geometries
        Any geometries (None allowed).

    Returns
    -------
    (ndarray, ndarray of bool)
        The cleaned array (a copy only when something changed) and a mask of the
        geometries that lost an empty member.
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


def polygonal(geom):
    """The polygonal part of a repaired geometry (lines and points from the repair are dropped).

    Parameters
    ----------
    geom : shapely geometry or None
        What ``make_valid`` returned for an invalid polygon.

    Returns
    -------
    shapely geometry or None
        The geometry itself when polygonal, the union of its polygonal parts, or None when it
        has none.
    """
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
