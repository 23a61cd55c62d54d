"""A job's upload: a multipart body streamed to a private folder, and its form fields.

The body of ``POST /jobs`` is ``multipart/form-data`` with one file part named ``file`` (the
sites: GeoJSON, zipped Shapefile, GeoPackage, KML, DXF, CSV or XLSX) and text fields named as
the command line's options (``crs``, ``industry``, ``nature``, ``id_field``, ``layer_name``,
``sheet``, ``as_of``, ``search_radius_m``, ``formats`` ...).

What a client sends never names anything on the server's disk: the file is written under a
name the server chooses (``sites`` plus the extension of the client's file name, which must be
one of :data:`SUFFIXES`), in the job's private folder, and the body is counted while it
streams (over :attr:`~zoning.service.security.Limits.max_upload_bytes`: 413 at once, the
partial file removed by the caller).  :func:`check_upload` then applies the readers' own
hardening before a job is queued: a zip's members are counted and sized from its directory
(nothing is extracted: the readers open it through ``/vsizip/``), absolute, ``..`` and
symbolic-link members are refused (:func:`zoning.io.guard.check_zip` and more), and a file that
is a VRT or links to another source is refused by content (:func:`zoning.io.guard.check_local`).
"""

from __future__ import annotations

import math
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from fastapi import Request

from ..errors import ZoningError, quote
from ..schema import FLAGS
from .problems import Problem
from .security import Limits

#: The extensions an upload may have (the client's file name gives only this).
SUFFIXES = (".geojson", ".json", ".zip", ".gpkg", ".kml", ".dxf", ".csv", ".xlsx")
#: Text fields: the command line's options of the same names.
TEXT_FIELDS = (
    "crs",
    "industry",
    "nature",
    "discharge",
    "red_line_activity",
    "id_field",
    "name_field",
    "layer_name",
    "sheet",
    "dxf_layer",
    "encoding",
    "on_row_error",
    "as_of",
    "search_radius_m",
    "formats",
    "lang",
    "csv_encoding",
    "out_crs",
)
#: Yes/no fields (``true``/``false``; absent: from the file's columns, as the command line).
FLAG_FIELDS = FLAGS
#: Fields that may be given more than once (``facility``; also ``;``-joined).
LIST_FIELDS = ("facility",)
#: The attributes that apply to every site (:class:`zoning.cli.run.ProjectAttributes`).
ATTRIBUTES = ("industry", "nature", "discharge", "red_line_activity", *FLAG_FIELDS, "facility")
#: The default output formats (as ``zoning screen --format``).
DEFAULT_FORMATS = "csv,gpkg,json,html"
_MAX_FIELD_BYTES = 4096
_MAX_FIELDS = 64
_TRUE, _FALSE = ("true", "yes", "1", "on"), ("false", "no", "0", "off")


@dataclass
class JobRequest:
    """What ``POST /jobs`` asked for.

    Attributes
    ----------
    path : Path
        The uploaded file, under a server-chosen name.
    client_name : str
        The client's file name (base name only, cleaned), for messages and the provenance.
    fields : dict
        The text fields as sent (one value each; ``facility`` a list).
    """

    path: Path | None = None
    client_name: str = ""
    fields: dict[str, Any] = field(default_factory=dict)

    def attributes(self) -> dict[str, Any]:
        """The project attributes given, parsed (flags as bool, ``facility`` as a list).

        Returns
        -------
        dict

        Raises
        ------
        Problem
            422 naming a flag that is not yes/no.
        """
        out: dict[str, Any] = {}
        for name in ATTRIBUTES:
            value = self.fields.get(name)
            if value is None or value == [] or value == "":
                continue
            if name in FLAG_FIELDS:
                low = str(value).strip().lower()
                if low not in _TRUE + _FALSE:
                    raise Problem(422, f"{name}: {quote(value)} is not true or false", kind="input")
                out[name] = low in _TRUE
            elif name == "facility":
                out[name] = [p.strip() for v in value for p in str(v).split(";") if p.strip()]
            else:
                out[name] = str(value).strip()
        return out

    def text(self, name: str) -> str | None:
        """A text field, stripped; None when absent or empty.

        Parameters
        ----------
        name : str

        Returns
        -------
        str or None
        """
        value = self.fields.get(name)
        if value is None:
            return None
        value = str(value).strip()
        return value or None

    def search_radius(self) -> float | None:
        """``search_radius_m`` as metres (None: the default).

        Returns
        -------
        float or None

        Raises
        ------
        Problem
            422: not a number, negative or not finite.
        """
        text = self.text("search_radius_m")
        if text is None:
            return None
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < 0:
            raise Problem(
                422,
                f"search_radius_m: {quote(text)} is not a distance in metres (0 or more)",
                kind="input",
            )
        return value


def client_name(filename: str) -> tuple[str, str]:
    """The client's file name as shown in messages, and its checked extension.

    Parameters
    ----------
    filename : str
        As the multipart part gave it (any path in it is dropped).

    Returns
    -------
    (str, str)
        The base name (control characters removed, at most 120 characters) and the lower-case
        extension, one of :data:`SUFFIXES`.

    Raises
    ------
    Problem
        415 for another extension.
    """
    base = re.split(r"[/\\]", filename)[-1]
    base = re.sub(r"[\x00-\x1f\x7f]", "", base).strip()[:120] or "upload"
    suffix = PurePosixPath(base).suffix.lower()
    if suffix not in SUFFIXES:
        raise Problem(
            415,
            f"{base}: uploads must be one of {', '.join(SUFFIXES)} "
            f"(a zipped Shapefile as .zip); got {quote(suffix or 'no extension')}",
            kind="upload-type",
        )
    return base, suffix


class _FormReader:
    """The callbacks of a streaming multipart parser writing the file part to ``dest``."""

    def __init__(self, dest: Path, limits: Limits) -> None:
        self.dest, self.limits = dest, limits
        self.request = JobRequest()
        self.headers: dict[bytes, bytes] = {}
        self.header_field, self.header_value = b"", b""
        self.name: str | None = None
        self.value = bytearray()
        self.fh: Any = None
        self.parts = 0

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": self.header_field_data,
            "on_header_value": self.header_value_data,
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.part_data,
            "on_part_end": self.part_end,
        }

    def part_begin(self) -> None:
        self.parts += 1
        if self.parts > _MAX_FIELDS:
            raise Problem(422, f"more than {_MAX_FIELDS} form fields", kind="input")
        self.headers, self.name, self.value = {}, None, bytearray()

    def header_field_data(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def header_value_data(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def header_end(self) -> None:
        self.headers[self.header_field.strip().lower()] = self.header_value.strip()
        self.header_field, self.header_value = b"", b""

    def headers_finished(self) -> None:
        from python_multipart.multipart import parse_options_header

        _, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        self.name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        if filename is None:
            known = (*TEXT_FIELDS, *FLAG_FIELDS, *LIST_FIELDS)
            if self.name not in known:
                raise Problem(
                    422,
                    f"unknown form field {quote(self.name)} (known: file, {', '.join(known)})",
                    kind="input",
                )
            return
        if self.name != "file":
            raise Problem(
                422, f"the upload's form field is 'file', not {quote(self.name)}", kind="input"
            )
        if self.request.path is not None:
            raise Problem(422, "one file per job (form field 'file')", kind="input")
        shown, suffix = client_name(filename.decode("utf-8", "replace"))
        self.request.client_name = shown
        self.request.path = self.dest / f"sites{suffix}"
        self.fh = self.request.path.open("xb")

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if self.fh is not None:
            self.fh.write(data[start:end])
            return
        self.value += data[start:end]
        if len(self.value) > _MAX_FIELD_BYTES:
            raise Problem(
                422,
                f"form field {quote(self.name)}: longer than {_MAX_FIELD_BYTES} bytes",
                kind="input",
            )

    def part_end(self) -> None:
        if self.fh is not None:
            self.fh.close()
            self.fh = None
            return
        text = self.value.decode("utf-8", "replace")
        if self.name in LIST_FIELDS:
            self.request.fields.setdefault(self.name, []).append(text)
        elif self.name in self.request.fields:
            raise Problem(422, f"form field {quote(self.name)} given twice", kind="input")
        else:
            self.request.fields[self.name] = text

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()
            self.fh = None


async def receive(request: Request, dest: Path, limits: Limits) -> JobRequest:
    """Stream a ``multipart/form-data`` body into ``dest``, counting its bytes.

    Parameters
    ----------
    request : Request
    dest : Path
        The job's private upload folder (exists, empty).
    limits : Limits

    Returns
    -------
    JobRequest

    Raises
    ------
    Problem
        415 not multipart or a file of another type; 413 over ``max_upload_bytes`` (declared
        or streamed); 422 no file, an unknown or repeated field, a malformed body.
    """
    from python_multipart.multipart import (
        MultipartParseError,
        MultipartParser,
        parse_options_header,
    )

    kind, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise Problem(
            415,
            "send the sites file as multipart/form-data, in the form field 'file'",
            kind="upload-type",
        )
    limit = limits.max_upload_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    reader = _FormReader(dest, limits)
    parser = MultipartParser(boundary, reader.callbacks())
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as exc:
        raise Problem(422, f"the multipart body is malformed: {exc}", kind="input") from None
    finally:
        reader.close()
    if reader.request.path is None:
        raise Problem(422, "no sites file: send it in the form field 'file'", kind="input")
    return reader.request


def _too_large(limit: int) -> Problem:
    return Problem(
        413,
        f"the upload is larger than {limit:,} bytes (the service's limit); split the sites "
        "into several jobs",
        kind="too-large",
        limit=limit,
    )


def check_upload(upload: JobRequest, limits: Limits) -> None:
    """Refuse, before a job is queued, an upload the readers must not open.

    A zip: more than ``max_zip_members`` members, more than ``max_unzipped_bytes`` once
    expanded, a member with an absolute or ``..`` path or a symbolic link, or what
    :func:`zoning.io.guard.check_zip` refuses (a compression ratio of a bomb).  Any file: a VRT
    or a link to another source (:func:`zoning.io.guard.check_local`).  Nothing is extracted.

    Parameters
    ----------
    upload : JobRequest
    limits : Limits

    Returns
    -------
    None

    Raises
    ------
    Problem
        413 for the size limits, 422 for the rest; the message names the client's file.
    """
    from ..io.guard import check_local, check_zip

    assert upload.path is not None
    label, path = upload.client_name, str(upload.path)
    try:
        if upload.path.suffix == ".zip":
            _check_zip_members(upload.path, label, limits)
            check_zip(path, label)
        else:
            check_local(path, label)
    except ZoningError as exc:
        raise Problem(422, scrub(str(exc), upload), kind="input") from None


def _check_zip_members(path: Path, label: str, limits: Limits) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (OSError, zipfile.BadZipFile) as exc:
        raise Problem(422, f"{label} is not a readable zip: {exc}", kind="input") from None
    if len(infos) > limits.max_zip_members:
        raise Problem(
            413,
            f"{label} holds {len(infos):,} members; at most {limits.max_zip_members:,}",
            kind="zip-limit",
        )
    total = sum(i.file_size for i in infos)
    if total > limits.max_unzipped_bytes:
        raise Problem(
            413,
            f"{label} expands to {total:,} bytes; at most {limits.max_unzipped_bytes:,} "
            "(refused before reading)",
            kind="zip-limit",
        )
    for info in infos:
        if stat.S_ISLNK(info.external_attr >> 16):
            raise Problem(
                422,
                f"{label} holds a symbolic link ({quote(info.filename)}); refused",
                kind="input",
            )


def scrub(message: str, upload: JobRequest) -> str:
    """A message with the server's paths of the upload replaced by the client's file name.

    Parameters
    ----------
    message : str
    upload : JobRequest

    Returns
    -------
    str
    """
    if upload.path is None:
        return message
    for server in (f"/vsizip/{upload.path}", str(upload.path)):
        message = message.replace(server, upload.client_name)
    return message.replace(str(upload.path.parent) + "/", "").replace(
        str(upload.path.parent), "(upload)"
    )
