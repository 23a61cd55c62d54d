"""Vector sources as GDAL sees them: paths, zips, text encodings, file hashes and CRS.

Everything :func:`zoning.io.read_layer` (and :func:`zoning.sites.load_sites`) must settle
about a source before and right after opening it: where the data is (a path, a URI, a member
of a zip), how its text is encoded (a Shapefile without ``.cpg`` is detected as UTF-8 or
GB18030), what it hashes to, and which CRS its coordinates are in (the file's own, a declared
one, or a web-map pseudo-CRS) and whether the coordinates fit that CRS.
"""

from __future__ import annotations

import codecs
import hashlib
import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyogrio
import pyproj
import shapely

from ..catalog import LayerEntry
from ..crs import check_earth_crs, parse_crs
from ..errors import CRSError, LayerReadError, quote
from .guard import SNIFF_BYTES, check_zip, within_budget

if TYPE_CHECKING:
    from .layer import LoadReport

__all__ = [
    "detect_dbf_encoding",
    "file_sha256",
    "first_line",
    "gk_zone",
    "is_gk_cm",
    "resolve_source",
    "shapefile_encoding",
    "split_zip",
    "zip_source",
]

#: How much of a ``.dbf`` encoding detection reads: its header and first records.
_DBF_SAMPLE = 64 * SNIFF_BYTES
_SINGLE_FILE_FORMATS = {".gpkg", ".geojson", ".json", ".fgb", ".kml", ".gml", ".sqlite"}


def resolve_source(entry: LayerEntry, base_dir: Path) -> str:
    """The path or URI GDAL opens for ``entry``; relative paths resolve against the catalog.

    Parameters
    ----------
    entry : LayerEntry
        The catalog entry (its ``source``).
    base_dir : Path
        The catalog's folder.

    Returns
    -------
    str
        A URI (``https://...``, ``/vsi...``) as given, else the path with ``~`` expanded and
        made absolute against ``base_dir``.
    """
    src = entry.source
    if "://" in src or src.startswith("/vsi"):
        return src
    path = Path(src).expanduser()
    if not path.is_absolute():
        path = base_dir / path
    return str(path)


def file_sha256(path: str | Path) -> str | None:
    """SHA-256 of a local file (or of all files of a Shapefile set), None for URIs.

    Parameters
    ----------
    path : path
        A file, a ``.shp`` (hashed with every file of its set: same folder, same stem, in
        name order) or a folder (every file under it, in path order).

    Returns
    -------
    str or None
        The hex digest; None when ``path`` does not exist (a URI) or holds no file.

    Notes
    -----
    Cost: one read of every byte, in 1 MiB chunks.
    """
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

    Parameters
    ----------
    dbf : bytes
        The ``.dbf`` file, or its beginning: a sample cut within a record reads the records
        before the cut (callers pass a sample of at most 7 MiB).

    Returns
    -------
    str or None
        ``UTF-8`` for pure ASCII and valid UTF-8; ``GB18030`` (a superset of GBK and
        GB2312) for text that is not UTF-8 but decodes as GB18030; None for anything else
        (the caller must ask for a declared encoding) or a file too broken to parse.

    Notes
    -----
    Field names and character fields are checked; a multi-byte character cut by a field's
    width is not taken as proof of another encoding.
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


# --------------------------------------------------------------------------- zips


def split_zip(path: str) -> tuple[str | None, str]:
    """Split a path into (zip file, member inside it).

    Parameters
    ----------
    path : str
        ``x.zip``, ``x.zip/inner``, ``/vsizip/x.zip/inner`` or any other path.

    Returns
    -------
    (str or None, str)
        ``("x.zip", "inner")`` (member ``""`` for the zip itself); ``(None, path)`` when the
        path names no zip.
    """
    local = path[len("/vsizip/") :] if path.startswith("/vsizip/") else path
    low = local.lower()
    cut = low.find(".zip/")
    if cut >= 0:
        return local[: cut + 4], local[cut + 5 :].strip("/")
    if low.endswith(".zip"):
        return local, ""
    return None, path


def zip_source(path: str, entry: LayerEntry) -> str:
    """Point GDAL at the data inside a zip, even when it sits in a folder (the usual case).

    Parameters
    ----------
    path : str
        The source path as resolved from the catalog.
    entry : LayerEntry
        The catalog entry (its declared layer name, if any).

    Returns
    -------
    str
        A ``/vsizip/`` path to the data set inside the zip, or ``path`` unchanged when it is
        not a zip or already names a member.

    Raises
    ------
    LayerReadError
        A zip :func:`~zoning.io.guard.check_zip` refuses (members with absolute or ``..``
        paths, too large or too compressed), no data file or several data sets.
    """
    zip_path, inner = split_zip(path)
    if zip_path is None or not zipfile.is_zipfile(zip_path):
        return path
    check_zip(zip_path, f"layer {quote(entry.id)}")
    if inner:
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
        raise LayerReadError(f"layer {quote(entry.id)}: {zip_path} holds no vector data file")
    raise LayerReadError(
        f"layer {quote(entry.id)}: {zip_path} holds several datasets; name one as "
        f"/vsizip/{zip_path}/<path inside the zip>"
    )


def _siblings(p: Path) -> list[Path]:
    """Files of a Shapefile set: same folder, same stem (no glob: names may hold [ ] * ?)."""
    if not p.parent.is_dir():
        return []
    return sorted(q for q in p.parent.iterdir() if q.is_file() and q.stem == p.stem)


def _zip_dbfs(names: list[str], inner: str, layer: str | None) -> list[str]:
    """The ``.dbf`` members of a zip (``names``) for the Shapefile ``inner``, ``layer``'s first."""
    prefix = inner.rsplit(".", 1)[0] if inner.lower().endswith(".shp") else inner
    dbfs = [n for n in names if n.lower().endswith(".dbf") and n.startswith(prefix)]
    if layer:
        dbfs = [n for n in dbfs if Path(n).stem == layer] or dbfs
    return dbfs


def _dir_dbfs(p: Path, layer: str | None) -> list[Path]:
    """The ``.dbf`` files of the folder ``p``, sorted; only ``layer``'s if it has one."""
    dbfs = sorted(q for q in p.iterdir() if q.suffix.lower() == ".dbf")
    if layer:
        dbfs = [q for q in dbfs if q.stem == layer] or dbfs
    return dbfs


def shapefile_encoding(path: str, layer: str | None) -> tuple[str | None, str]:
    """The text encoding of a Shapefile whose catalog entry declares none.

    Parameters
    ----------
    path : str
        The ``.shp`` path, possibly inside a zip (``archive.zip/folder/name.shp``).
    layer : str or None
        The layer name, when the path names a folder or a zip.

    Returns
    -------
    encoding : str or None
        The encoding to read with (None: let GDAL decide).
    how : str
        How it was found (``.cpg``, detected from the ``.dbf`` sample, ...), for the report.

    Notes
    -----
    Detection reads at most 7 MiB of the ``.dbf``, never the whole file: the header and the
    first 4 MiB of records, and 1 MiB of records at each of half-way, three quarters and the
    end (inside a zip, only the first 4 MiB: seeking there would inflate everything before).
    """
    zip_path, inner = split_zip(path)
    if zip_path is not None:
        with zipfile.ZipFile(zip_path) as zf:
            names = zf.namelist()
            dbfs = _zip_dbfs(names, inner, layer)
            if not dbfs:
                return None, "no .dbf"
            stem = dbfs[0][:-4]
            if any(n.lower() == (stem + ".cpg").lower() for n in names):
                return None, ".cpg"
            with zf.open(dbfs[0]) as fh:
                return detect_dbf_encoding(fh.read(_DBF_SAMPLE)), "detected"
    p = Path(path)
    if p.is_dir():
        dbfs = _dir_dbfs(p, layer)
        if not dbfs:
            return None, "no .dbf"
        p = dbfs[0]
    family = _siblings(p)
    if any(q.suffix.lower() == ".cpg" for q in family):
        return None, ".cpg"
    dbf = [q for q in family if q.suffix.lower() == ".dbf"]
    if not dbf:
        return None, "no .dbf"
    return detect_dbf_encoding(_dbf_sample(dbf[0])), "detected"


def _dbf_header(path: str, layer: str | None) -> tuple[bytes, str | None]:
    """(the first 64 KiB of a Shapefile's ``.dbf``, its ``.cpg`` text or None); ``b""`` if none."""
    zip_path, inner = split_zip(path)
    if zip_path is not None:
        with zipfile.ZipFile(zip_path) as zf:
            names = zf.namelist()
            dbfs = _zip_dbfs(names, inner, layer)
            if not dbfs:
                return b"", None
            cpg = [n for n in names if n.lower() == (dbfs[0][:-4] + ".cpg").lower()]
            with zf.open(dbfs[0]) as fh:
                head = fh.read(1 << 16)
            return head, zf.read(cpg[0]).decode("ascii", "replace") if cpg else None
    p = Path(path)
    if p.is_dir():
        dbfs = _dir_dbfs(p, layer)
        if not dbfs:
            return b"", None
        p = dbfs[0]
    family = _siblings(p)
    dbf = [q for q in family if q.suffix.lower() == ".dbf"]
    cpg = [q for q in family if q.suffix.lower() == ".cpg"]
    if not dbf:
        return b"", None
    with dbf[0].open("rb") as fh:
        head = fh.read(1 << 16)
    return head, cpg[0].read_text("ascii", "replace") if cpg else None


def cut_field_name(path: str, layer: str | None, encoding: str | None) -> str | None:
    """What is wrong with a Shapefile whose field name does not decode: the name cut short.

    dBase keeps 10 bytes of a field name, so GDAL cuts longer UTF-8 names -- three Chinese
    characters fill nine bytes, a fourth is cut in the middle -- and the name no longer decodes.

    Parameters
    ----------
    path : str
        The ``.shp`` (or its folder, or a path inside a zip).
    layer : str or None
        The layer, when the path names a folder or a zip.
    encoding : str or None
        The encoding the file is read with (default: its ``.cpg``, else UTF-8).

    Returns
    -------
    str or None
        ``field '项目名…' ... use GeoPackage`` for the first field name that does not decode,
        else None (the trouble is elsewhere).
    """
    try:
        head, cpg = _dbf_header(path, layer)
        codec = encoding or (cpg or "").strip() or "utf-8"
        codecs.lookup(codec)
    except (OSError, LookupError, zipfile.BadZipFile):
        return None
    if len(head) < 32:
        return None
    header = head[: struct.unpack("<H", head[8:10])[0]]
    for name, _ in _dbf_text_chunks(header[:4] + bytes(4) + header[8:]):  # no records
        try:
            name.decode(codec)
        except UnicodeDecodeError:
            readable = name.decode(codec, errors="ignore")
            return (
                f"field name {quote(readable + '…')} does not decode as {codec}: it was cut "
                "mid-character (a Shapefile keeps 10 bytes of a field name, 3 Chinese "
                "characters in UTF-8); shorten the field names or use GeoPackage"
            )
    return None


def _dbf_sample(path: Path) -> bytes:
    """A bounded sample of a ``.dbf``: its header and first records, plus whole records from
    three windows further on (half-way, three quarters, the end), as one smaller dBase file."""
    with path.open("rb") as fh:
        head = fh.read(_DBF_SAMPLE)
        size = fh.seek(0, 2)
        if size <= len(head) or len(head) < 32:
            return head
        _, header_len, record_len = struct.unpack("<IHH", head[4:12])
        if record_len == 0 or header_len >= len(head):
            return head
        n_head = (len(head) - header_len) // record_len
        records = [head[header_len : header_len + n_head * record_len]]
        n_total = (size - header_len) // record_len
        per_window = max(1, (_DBF_SAMPLE // 4) // record_len)
        for fraction in (0.5, 0.75, 1.0):
            first = max(n_head, min(int(n_total * fraction), n_total - per_window))
            fh.seek(header_len + first * record_len)
            chunk = fh.read(per_window * record_len)
            records.append(chunk[: len(chunk) // record_len * record_len])
    body = b"".join(records)
    n = len(body) // record_len
    return head[:4] + struct.pack("<I", n) + head[8:header_len] + body


# --------------------------------------------------------------------------- opening


def _open_info(path: str, entry: LayerEntry, encoding: str | None) -> dict:
    try:
        layers = within_budget(lambda: pyogrio.list_layers(path), f"layer {quote(entry.id)}")
    except LayerReadError:
        raise
    except Exception as exc:
        raise LayerReadError(
            f"layer {quote(entry.id)}: cannot open {path}: {first_line(exc)}"
        ) from None
    names = [str(n) for n in layers[:, 0]]
    if entry.layer is None and len(names) > 1:
        raise LayerReadError(
            f"layer {quote(entry.id)}: {path} holds {len(names)} layers ({', '.join(names[:8])}); "
            "set 'layer:' in the catalog"
        )
    if entry.layer is not None and entry.layer not in names:
        raise LayerReadError(
            f"layer {quote(entry.id)}: {path} has no layer {quote(entry.layer)} "
            f"(it has: {', '.join(names[:8])})"
        )
    try:
        return within_budget(
            lambda: pyogrio.read_info(path, layer=entry.layer, encoding=encoding),
            f"layer {quote(entry.id)}",
        )
    except LayerReadError:
        raise
    except Exception as exc:
        cut = cut_field_name(path, entry.layer, encoding) if isinstance(exc, UnicodeError) else None
        raise LayerReadError(
            f"layer {quote(entry.id)}: cannot read {path}: {cut or first_line(exc)}"
        ) from None


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message, for a one-line error.

    Parameters
    ----------
    exc : BaseException

    Returns
    -------
    str
        The message's first non-empty line, or the exception's class name.
    """
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# --------------------------------------------------------------------------- CRS


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
        declared = parse_crs(entry.crs, what=f"layer {quote(entry.id)}: key 'crs'")
        report.crs_declared = True
        if file_crs is not None:
            if declared.pseudo is not None:
                # GCJ-02/BD-09 data are routinely mislabelled as WGS84: the declaration wins,
                # but only over a geographic label.
                if not file_crs.is_geographic:
                    raise CRSError(
                        f"layer {quote(entry.id)}: declared {declared.label} but {source} is "
                        f"in the "
                        f"projected CRS {info_crs}"
                    )
                report.notes.append(f"file labelled {info_crs}; declared {declared.label} used")
            elif not file_crs.equals(declared.crs, ignore_axis_order=True):
                raise CRSError(
                    f"layer {quote(entry.id)}: declared crs {declared.label} contradicts the "
                    f"file's CRS "
                    f"{info_crs} ({source}); remove 'crs:' or fix the file"
                )
        report.input_crs = declared.label
        return declared.crs, declared.pseudo
    if file_crs is None:
        what = "no CRS" if info_crs is None else "a local (engineering) CRS"
        raise CRSError(
            f"layer {quote(entry.id)}: {source} has {what} and none is declared; add e.g. "
            "crs: EPSG:4490 (or gcj02 / bd09) to the catalog entry, or --layer KIND=PATH@EPSG:4490"
        )
    check_earth_crs(file_crs, what=f"layer {quote(entry.id)}: {source}", shown=quote(info_crs))
    report.input_crs = info_crs
    return file_crs, None


def _check_coordinates(geoms: np.ndarray, crs: pyproj.CRS, entry: LayerEntry, source: str) -> None:
    valid = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if len(valid) == 0:
        return
    xmin, ymin, xmax, ymax = shapely.total_bounds(valid)
    if crs.is_geographic and (xmin < -180 or xmax > 180 or ymin < -90 or ymax > 90):
        raise CRSError(
            f"layer {quote(entry.id)}: coordinates ({xmin:.0f}, {ymin:.0f}) .. ({xmax:.0f}, "
            f"{ymax:.0f}) "
            "in "
            f"{source} are not degrees, but the CRS is geographic; declare the projected CRS"
        )
    code = crs.to_epsg()
    zone = gk_zone(code)
    if zone is not None:
        prefixes = {int(xmin // 1_000_000), int(xmax // 1_000_000)}
        if prefixes != {zone}:
            raise CRSError(
                f"layer {quote(entry.id)}: eastings {xmin:.0f} .. {xmax:.0f} m do not carry "
                f"the zone "
                f"prefix {zone} that EPSG:{code} expects; check the zone, or use the 'CM' code "
                "if the eastings have no prefix"
            )
    elif is_gk_cm(code) and xmax > 1_000_000:
        raise CRSError(
            f"layer {quote(entry.id)}: eastings up to {xmax:.0f} m carry a zone prefix, but "
            f"EPSG:{code} "
            "is a Gauss-Krüger 'CM' CRS without one; use the matching 'zone' code"
        )


def gk_zone(code: int | None) -> int | None:
    """Zone number of a CGCS2000 Gauss-Krüger 'zone' code (easting prefixed with the zone).

    Parameters
    ----------
    code : int or None
        An EPSG code.

    Returns
    -------
    int or None
        The zone number for EPSG:4491-4501 (6-degree zones 13-23) and EPSG:4513-4533
        (3-degree zones 25-45), else None.
    """
    if code is None:
        return None
    if 4491 <= code <= 4501:  # 6-degree zones 13-23
        return code - 4478
    if 4513 <= code <= 4533:  # 3-degree zones 25-45
        return code - 4488
    return None


def is_gk_cm(code: int | None) -> bool:
    """Whether an EPSG code is a CGCS2000 Gauss-Krüger 'CM' code (eastings without a zone prefix).

    Parameters
    ----------
    code : int or None

    Returns
    -------
    bool
        True for EPSG:4502-4512 and EPSG:4534-4554.
    """
    return code is not None and (4502 <= code <= 4512 or 4534 <= code <= 4554)
