"""What an input file may make the toolkit do: no other local file, no network, no zip bomb.

- **Network.** None by default, from any command: GDAL's HTTP client is pointed at a closed
  local port (so a ``/vsicurl/`` path inside a VRT, a GeoJSON ``"crs": {"type": "link"}`` or a
  GML schema download fails without a request) and PROJ's network is switched off.  Remote
  catalog sources are read only after :func:`set_network_allowed` (``--allow-network``).
- **Other files.** A file that makes GDAL open other sources (an OGR or GDAL VRT) is refused
  by :func:`check_local`, whatever its extension, unless a trusted catalog says
  ``allow_vrt: true`` for that layer.
- **Time.** :func:`within_budget` gives each GDAL open or read :data:`READ_BUDGET_S` seconds
  (``ZONING_READ_TIMEOUT_S``): a GeoPackage layer that is a recursive SQL view fails with one
  line instead of hanging.
- **Zips.** :func:`check_zip` refuses members with absolute or ``..`` paths and archives that
  expand beyond :data:`ZIP_MAX_BYTES` or more than :data:`ZIP_MAX_RATIO` times, before
  anything is read (``ZONING_ZIP_MAX_MB`` / ``ZONING_ZIP_MAX_RATIO`` raise the limits).
"""

from __future__ import annotations

import mmap
import os
import re
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TypeVar

from ..errors import LayerReadError, quote

__all__ = [
    "READ_BUDGET_S",
    "SNIFF_BYTES",
    "ZIP_MAX_BYTES",
    "ZIP_MAX_RATIO",
    "check_local",
    "check_zip",
    "is_remote",
    "network_allowed",
    "set_network_allowed",
    "within_budget",
]

T = TypeVar("T")

#: How much of a file is looked at to recognise a VRT (and to guess a ``.dbf``'s encoding).
SNIFF_BYTES = 1 << 16
#: Default limits of a zip: total uncompressed size and compression ratio.
ZIP_MAX_BYTES = 2 << 30
ZIP_MAX_RATIO = 200.0
#: The ratio is only held against archives that expand to more than this.
_ZIP_RATIO_FLOOR = 64 << 20
#: GDAL's HTTP proxy while the network is off: a port nothing answers on, so every request
#: fails at once without reaching its host.
_NO_NETWORK_PROXY = "127.0.0.1:9"
_VRT_TAG = re.compile(rb"<\s*(OGRVRTDataSource|VRTDataset)\b", re.IGNORECASE)
_REFERENCING = {".vrt": "an OGR/GDAL VRT (it reads other files)"}
#: Content that points at another source, which zoning never follows: a GeoJSON ``crs`` member
#: of type ``link`` (its coordinates would be in a CRS found elsewhere) and a KML
#: ``NetworkLink`` (features loaded from elsewhere would be silently missing).  Every file's
#: head is searched; the whole file only for the suffixes of the format the link belongs to
#: (a large GeoPackage is not scanned for JSON).
_LINKS = (
    (
        re.compile(rb'"crs"\s*:\s*\{(?:[^{}]|\{[^{}]*\})*?"type"\s*:\s*"link"', re.IGNORECASE),
        "a GeoJSON whose 'crs' is a link to another source",
        (".geojson", ".json"),
    ),
    (
        re.compile(rb"<\s*(\w+:)?NetworkLink\b"),
        "a KML with a NetworkLink to another source",
        (".kml",),
    ),
)
_REMOTE_PREFIXES = ("/vsicurl", "/vsis3", "/vsigs", "/vsiaz", "/vsiadls", "/vsioss", "/vsiswift")
_REMOTE_PREFIXES += ("/vsiwebhdfs", "/vsihdfs")
#: Default seconds one GDAL open or read of a source may take.
READ_BUDGET_S = 600.0
_state: dict[str, object] = {"network": False}


def _apply_network(allowed: bool) -> None:
    options = {"GDAL_HTTP_PROXY": None if allowed else _NO_NETWORK_PROXY}
    options.update(GDAL_HTTPS_PROXY=options["GDAL_HTTP_PROXY"], GML_DOWNLOAD_WFS_SCHEMA="NO")
    options["PROJ_NETWORK"] = "ON" if allowed else "OFF"
    import pyogrio  # here: zoning.io.guard is imported by commands that read no layer

    pyogrio.set_gdal_config_options(options)
    try:
        import pyproj.network

        pyproj.network.set_network_enabled(allowed)
    except (ImportError, AttributeError):  # pragma: no cover - pyproj without PROJ network
        pass


def set_network_allowed(allowed: bool) -> bool:
    """Allow or forbid network requests by GDAL and PROJ (forbidden by default).

    Parameters
    ----------
    allowed : bool
        True lets catalog layers with remote sources (``https://...``, ``/vsicurl/...``) be
        read; False (the default) makes any request fail before it is sent, and takes
        ``no_proxy`` / ``NO_PROXY`` out of the environment until the network is allowed again
        (they would let requests bypass the closed proxy).

    Returns
    -------
    bool
        The previous setting.
    """
    previous = _state["network"]
    _state["network"] = bool(allowed)
    _apply_network(bool(allowed))
    # libcurl lets ``no_proxy`` bypass the closed proxy: while the network is off, it is
    # taken out of the environment (and put back when the network is allowed again).
    saved = _state.setdefault("no_proxy", {})
    assert isinstance(saved, dict)
    for name in ("no_proxy", "NO_PROXY"):
        if not allowed and name in os.environ:
            saved[name] = os.environ.pop(name)
        elif allowed and name in saved:
            os.environ[name] = saved.pop(name)
    return previous


def network_allowed() -> bool:
    """Whether network requests are allowed (see :func:`set_network_allowed`).

    Returns
    -------
    bool
    """
    return _state["network"]


def is_remote(source: str) -> bool:
    """Whether GDAL would fetch ``source`` over the network (a URL or a remote ``/vsi`` path).

    Parameters
    ----------
    source : str
        A path or URI, possibly nested (``/vsizip//vsicurl/https://...``).

    Returns
    -------
    bool
    """
    low = source.lower()
    return "://" in low or any(p in low for p in _REMOTE_PREFIXES)


def _head(source: str) -> bytes:
    """The first :data:`SNIFF_BYTES` of a local file or of a member of a local zip."""
    from .vector import split_zip

    zip_path, inner = split_zip(source)
    try:
        if zip_path is not None and inner and zipfile.is_zipfile(zip_path):
            with zipfile.ZipFile(zip_path) as zf:
                if inner not in zf.namelist():
                    return b""
                with zf.open(inner) as fh:
                    return fh.read(SNIFF_BYTES)
        path = Path(source)
        if path.is_file():
            with path.open("rb") as fh:
                return fh.read(SNIFF_BYTES)
    except (OSError, zipfile.BadZipFile, RuntimeError):
        return b""
    return b""


def _search_file(
    pattern: re.Pattern[bytes], source: str, head: bytes, suffixes: tuple[str, ...]
) -> bool:
    """Whether ``pattern`` occurs in a local file: its head, else, for a file of one of
    ``suffixes``, the whole file (memory-mapped, one pass; members of zips: the head only)."""
    if pattern.search(head):
        return True
    path = Path(source)
    if len(head) < SNIFF_BYTES or path.suffix.lower() not in suffixes or not path.is_file():
        return False
    try:
        with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            return pattern.search(mm) is not None
    except (OSError, ValueError):
        return False


def check_local(source: str, label: str, *, allow_vrt: bool = False) -> None:
    """Refuse a source that would make GDAL read other files: a VRT, by name or by content.

    Also refused, even in a trusted catalog: a GeoJSON whose ``crs`` is a link and a KML with
    a ``NetworkLink`` (found in the first :data:`SNIFF_BYTES` of the file).

    Parameters
    ----------
    source : str
        The local path (or ``/vsizip/`` path into a local zip) about to be opened.
    label : str
        How the error names the input (``layer 'red_line'``, the sites file's name).
    allow_vrt : bool
        A trusted catalog's ``allow_vrt: true``: VRTs pass.

    Raises
    ------
    LayerReadError
        One line naming the file and why it is refused.
    """
    head = _head(source)[:SNIFF_BYTES]
    for pattern, what, suffixes in _LINKS:
        if _search_file(pattern, source, head, suffixes):
            raise LayerReadError(
                f"{label}: {source} is {what}; refused: zoning does not follow links in input "
                "files (remove it; GeoJSON is WGS84, or declare the CRS)"
            )
    if allow_vrt:
        return
    why = _REFERENCING.get(PurePosixPath(source).suffix.lower())
    if why is None and _VRT_TAG.search(head):
        why = "an OGR/GDAL VRT (it reads other files)"
    if why is not None:
        raise LayerReadError(
            f"{label}: {source} is {why}; refused: input files may not reference other files "
            "(a trusted catalog may set 'allow_vrt: true' on the layer)"
        )


def _limits() -> tuple[int, float]:
    try:
        max_bytes = int(float(os.environ["ZONING_ZIP_MAX_MB"]) * (1 << 20))
    except (KeyError, ValueError):
        max_bytes = ZIP_MAX_BYTES
    try:
        ratio = float(os.environ["ZONING_ZIP_MAX_RATIO"])
    except (KeyError, ValueError):
        ratio = ZIP_MAX_RATIO
    return max_bytes, ratio


def _bad_member(name: str) -> bool:
    parts = PurePosixPath(name.replace("\\", "/")).parts
    return (
        name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) is not None or (".." in parts)
    )


def check_zip(zip_path: str, label: str) -> None:
    """Check a zip before anything in it is read: member paths, total size, compression ratio.

    Parameters
    ----------
    zip_path : str
        A local zip file.
    label : str
        How the error names the input.

    Raises
    ------
    LayerReadError
        A member with an absolute or ``..`` path; an archive expanding beyond the limits
        (:data:`ZIP_MAX_BYTES`, :data:`ZIP_MAX_RATIO`, or ``ZONING_ZIP_MAX_MB`` /
        ``ZONING_ZIP_MAX_RATIO``), named with the limits; a broken zip.
    """
    try:
        with zipfile.ZipFile(zip_path) as zf:
            infos = zf.infolist()
    except (OSError, zipfile.BadZipFile) as exc:
        raise LayerReadError(f"{label}: {zip_path} is not a readable zip: {exc}") from None
    bad = [i.filename for i in infos if _bad_member(i.filename)]
    if bad:
        raise LayerReadError(
            f"{label}: {zip_path} holds a member with an absolute or '..' path ({quote(bad[0])}); "
            "refused: members must be relative paths inside the zip"
        )
    total = sum(i.file_size for i in infos)
    packed = max(sum(i.compress_size for i in infos), 1)
    max_bytes, max_ratio = _limits()
    ratio = total / packed
    if total > max_bytes or (total > _ZIP_RATIO_FLOOR and ratio > max_ratio):
        raise LayerReadError(
            f"{label}: {zip_path} expands to {total / (1 << 20):,.0f} MiB ({ratio:,.0f}x its "
            f"compressed size); refused before reading (limits: {max_bytes / (1 << 20):,.0f} MiB "
            f"and {max_ratio:g}x above {_ZIP_RATIO_FLOOR >> 20} MiB; raise them with "
            "ZONING_ZIP_MAX_MB / ZONING_ZIP_MAX_RATIO)"
        )


def within_budget(func: Callable[[], T], label: str) -> T:
    """Run one GDAL open or read with a time budget (``ZONING_READ_TIMEOUT_S``, 0: none).

    Parameters
    ----------
    func : callable
        The call, without arguments; it runs in a worker thread (GDAL releases the GIL).
    label : str
        How the error names the input.

    Returns
    -------
    object
        What ``func`` returned; what it raised is raised here.

    Raises
    ------
    LayerReadError
        ``func`` ran out of time.  The worker cannot be stopped: it is left running as a
        daemon thread, which ends with the process (the command line exits at once).
    """
    try:
        budget = float(os.environ.get("ZONING_READ_TIMEOUT_S", READ_BUDGET_S))
    except ValueError:
        budget = READ_BUDGET_S
    if budget <= 0:
        return func()
    box: dict = {}

    def work() -> None:
        try:
            box["value"] = func()
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=work, name="zoning-read", daemon=True)
    worker.start()
    worker.join(budget)
    if worker.is_alive():
        raise LayerReadError(
            f"{label}: reading took longer than {budget:g} s and was abandoned (a recursive SQL "
            "view?); raise the budget with ZONING_READ_TIMEOUT_S"
        )
    if "error" in box:
        raise box["error"]
    return box["value"]


set_network_allowed(False)  # no network by default, no_proxy included
