"""Single files zoning wrote, so that a later run may replace them and nothing else.

The ``--out FILE`` of ``map``, ``zonal``, ``indicators`` and ``rasterize`` is one file (with
sidecars for a GeoTIFF) in a folder shared with the user.  Each write is recorded in the
folder's :data:`FILES_MARKER` with the file's size and modification time; a later run replaces
a file only when the marker lists it unchanged (or another zoning marker of the folder lists
it, e.g. ``map.html`` of a screening folder).  Any other existing file is refused, naming it,
unless the caller says ``overwrite`` (``--overwrite``): a file the user made, or edited after
zoning wrote it, is never replaced silently.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from .outputs import OutputError, check_target, write_atomic

__all__ = ["FILES_MARKER", "claim_files", "owned_files", "record_files"]

log = logging.getLogger(__name__)

#: The marker of the single files zoning wrote in a folder:
#: ``{"written_by": "zoning", "files": {name: {"size": bytes, "mtime_ns": ns}}}``.
FILES_MARKER = ".zoning-outputs.json"


def _fingerprint(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _read(folder: Path) -> dict[str, dict]:
    """The files the folder's marker records (empty when it is absent or unreadable)."""
    path = folder / FILES_MARKER
    try:
        if path.is_symlink() or not path.is_file():
            return {}
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    files = doc.get("files") if isinstance(doc, dict) else None
    if not isinstance(files, dict):
        return {}
    return {k: v for k, v in files.items() if isinstance(k, str) and isinstance(v, dict)}


def _listed_by_other_marker(folder: Path, name: str) -> bool:
    """Whether another zoning marker of ``folder`` (``.zoning-*.json``) lists ``name``."""
    for marker in folder.glob(".zoning-*.json"):
        if marker.name == FILES_MARKER or marker.is_symlink():
            continue
        try:
            doc = json.loads(marker.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            continue
        files = doc.get("files") if isinstance(doc, dict) else None
        if isinstance(files, list) and name in files:
            return True
    return False


def _ours(path: Path) -> bool:
    entry = _read(path.parent).get(path.name)
    if entry is not None:
        return entry == _fingerprint(path)
    return _listed_by_other_marker(path.parent, path.name)


def claim_files(
    paths: Sequence[str | Path], *, overwrite: bool = False, error: type[Exception] = OutputError
) -> None:
    """Check, writing nothing, that each of ``paths`` may be written.

    Parameters
    ----------
    paths : sequence of path
        The files about to be written (a file and its sidecars).
    overwrite : bool
        Replace existing regular files whoever wrote them (``--overwrite``).
    error : exception class
        Raised with a one-line message naming the file.

    Raises
    ------
    error
        A path is a symbolic link, device, FIFO or socket (always), or an existing file that
        zoning did not write or that changed since (unless ``overwrite``).
    """
    for p in map(Path, paths):
        check_target(p, error)
        if overwrite or not p.is_file():
            continue
        if not _ours(p):
            raise error(
                f"{p}: exists and was not written by zoning (or was changed since); "
                "give --overwrite to replace it, or choose another --out"
            )


def record_files(paths: Sequence[str | Path]) -> None:
    """Record in each folder's :data:`FILES_MARKER` the files of ``paths`` that exist now.

    Parameters
    ----------
    paths : sequence of path
        Files just written (those absent now are dropped from the record, as are recorded
        files that no longer exist).

    Notes
    -----
    The marker is written atomically; failing to write it is only a warning (the next run
    then asks for ``--overwrite``).
    """
    by_folder: dict[Path, list[Path]] = {}
    for p in map(Path, paths):
        by_folder.setdefault(p.parent, []).append(p)
    for folder, files in by_folder.items():
        record = _read(folder)
        for p in files:
            if p.is_file() and not p.is_symlink():
                record[p.name] = _fingerprint(p)
            else:
                record.pop(p.name, None)
        record = {k: v for k, v in sorted(record.items()) if (folder / k).is_file()}
        doc = {"written_by": "zoning", "files": record}
        try:
            write_atomic(folder / FILES_MARKER, json.dumps(doc, indent=1) + "\n")
        except OSError as exc:
            log.warning("could not record the outputs in %s (%s)", folder / FILES_MARKER, exc)


@contextmanager
def owned_files(
    *paths: str | Path, overwrite: bool = False, error: type[Exception] = OutputError
) -> Iterator[None]:
    """Claim ``paths`` (:func:`claim_files`) on entering; record them on success.

    Parameters
    ----------
    *paths : path
        The file and its sidecars.
    overwrite : bool
        As :func:`claim_files`.
    error : exception class
        As :func:`claim_files`.

    Yields
    ------
    None
        The block writes the files (through :func:`zoning.io.outputs.atomic_path`).
    """
    claim_files(paths, overwrite=overwrite, error=error)
    yield
    record_files(paths)
