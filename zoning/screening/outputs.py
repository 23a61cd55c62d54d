"""Where :meth:`ScreeningResult.to_file` writes, all-or-nothing: the output folder transaction.

Checks the folder before anything is written (:func:`_check_outputs`: only what an earlier
screening wrote, listed in :data:`OUTPUT_MARKER`, is ever replaced or removed), writes every
file into a hidden temporary folder (the tables through :mod:`zoning.tables`, the report
through :func:`zoning.report.write_report`), then moves them into place, older outputs moved
aside first and put back if a move fails (:func:`_commit`).
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ZoningError

if TYPE_CHECKING:
    from .result import ScreeningResult

log = logging.getLogger("zoning.screening")

#: Output formats :meth:`ScreeningResult.to_file` writes.
FORMATS = ("csv", "gpkg", "json", "html")

#: Every name :meth:`ScreeningResult.to_file` may write into its folder.
_OUTPUTS = ("sites.csv", "hits.csv", "ranking.csv", "screening.gpkg", "screening.json", "report")
#: The file :meth:`ScreeningResult.to_file` writes into its folder, listing the files it wrote
#: (POSIX paths relative to the folder): only these are ever replaced or removed by a later call.
OUTPUT_MARKER = ".zoning-screen.json"


def _planned_names(formats: Sequence[str], *, comparison: bool) -> list[str]:
    """The top-level names :meth:`ScreeningResult.to_file` writes for ``formats``."""
    names: list[str] = []
    if "csv" in formats:
        names += ["sites.csv", "hits.csv"] + (["ranking.csv"] if comparison else [])
    if "gpkg" in formats:
        names.append("screening.gpkg")
    if "json" in formats:
        names.append("screening.json")
    if "html" in formats:
        names.append("report")
    return names


def _read_marker(out: Path) -> set[str] | None:
    """The files an earlier :meth:`ScreeningResult.to_file` wrote into ``out``, or None."""
    path = out / OUTPUT_MARKER
    if not path.exists() and not path.is_symlink():
        return None
    try:
        if path.is_symlink() or not path.is_file():
            raise ValueError("not a regular file")
        doc = json.loads(path.read_text(encoding="utf-8"))
        files = doc.get("files") if isinstance(doc, dict) else None
        if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
            raise ValueError("no list of files")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ZoningError(
            f"{path}: cannot read the list of earlier outputs ({exc}); "
            "move it away or choose another output folder"
        ) from None
    return set(files)


def _entries(path: Path, rel: str) -> list[str]:
    """The files (and symbolic links) at or under ``path``, as POSIX paths starting with
    ``rel``; symbolic links are not followed."""
    if path.is_symlink() or not path.is_dir():
        return [rel]
    files: list[str] = []
    for root, subdirs, names in os.walk(path):
        base = Path(rel) / Path(root).relative_to(path)
        files += [(base / d).as_posix() for d in subdirs if (Path(root) / d).is_symlink()]
        files += [(base / n).as_posix() for n in names]
    return sorted(files)


def _foreign(out: Path, name: str, ours: set[str]) -> tuple[str | None, bool]:
    """For the output ``out/name``: its first path not listed in ``ours`` (None if it is all
    ours), and whether any of it is listed."""
    target = out / name
    if target.is_symlink():  # never written by us: we write files and folders only
        return name, False
    files = _entries(target, name)
    # Empty folders hold nothing to lose: only files and links count.
    listed = [f for f in files if f in ours]
    foreign = [f for f in files if f not in ours]
    return (min(foreign) if foreign else None), bool(listed)


def _check_outputs(out: Path, planned: Sequence[str]) -> list[str]:
    """Check that ``to_file`` may write ``planned`` into ``out``; return the earlier outputs
    (top-level names) it must remove as stale.

    Raises
    ------
    ZoningError
        A planned name (or a stale output partly ours) holds something no earlier call wrote.
    """
    if not out.is_dir():
        return []
    ours = _read_marker(out) or set()
    stale: list[str] = []
    for name in _OUTPUTS:
        target = out / name
        if not target.exists() and not target.is_symlink():
            continue
        first, any_ours = _foreign(out, name, ours)
        if name not in planned and not any_ours:
            continue  # the user's own file, under a name this call does not write
        if first is not None:
            what = "would be replaced" if name in planned else "is inside an earlier output"
            raise ZoningError(
                f"{out / first}: not written by an earlier screening in this folder (not "
                f"listed in {OUTPUT_MARKER}) and {what}; move it away or choose another "
                "output folder"
            )
        if name not in planned:
            stale.append(name)
    return stale


def _write_marker(tmp: Path, names: Sequence[str], provenance: Mapping[str, Any]) -> None:
    """Write :data:`OUTPUT_MARKER` into ``tmp`` listing every file under ``names``."""
    files: list[str] = []
    for name in names:
        files += _entries(tmp / name, name)
    doc = {
        "written_by": "zoning",
        "tool_version": provenance.get("tool_version"),
        "created": provenance.get("created"),
        "note": "the files a zoning screening wrote here; only these are replaced or removed "
        "by a later run",
        "files": sorted(files),
    }
    (tmp / OUTPUT_MARKER).write_text(
        json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )


def _make_dirs(out: Path) -> list[Path]:
    """Create ``out`` and its missing parents; return the folders created, outermost first."""
    missing: list[Path] = []
    p = out
    while not p.exists():
        if p.is_symlink():  # a dangling link: mkdir would fail with a confusing message
            raise FileNotFoundError(errno.ENOENT, "dangling symbolic link", str(p))
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    if p.exists() and not p.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a directory", str(p))
    created: list[Path] = []
    try:
        for d in reversed(missing):
            d.mkdir()
            created.append(d)
    except BaseException:
        _remove_created(created)
        raise
    return created


def _remove_created(created: list[Path]) -> None:
    """Remove the folders :func:`_make_dirs` created, innermost first (those still empty)."""
    for d in reversed(created):
        try:
            d.rmdir()
        except OSError:
            pass


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _commit(tmp: Path, out: Path, names: list[str], managed: Sequence[str]) -> None:
    """Move ``tmp/<name>`` to ``out/<name>`` for every name, all or nothing.

    Existing outputs (``names`` and the stale outputs named in ``managed``, both checked by
    :func:`_check_outputs` to be ours) are first moved aside into ``tmp``; if any move fails,
    the new files are taken out and the old ones put back.  The caller deletes ``tmp`` (and
    with it the old outputs) afterwards.
    """
    aside: list[tuple[Path, Path]] = []
    placed: list[Path] = []
    try:
        for k, name in enumerate(dict.fromkeys([*names, *managed])):
            target = out / name
            if target.exists() or target.is_symlink():
                old = tmp / f".old-{k}-{name}"
                os.replace(target, old)
                aside.append((old, target))
        for name in names:
            os.replace(tmp / name, out / name)
            placed.append(out / name)
    except BaseException:
        for target in reversed(placed):
            _remove(target)
        for old, target in reversed(aside):
            os.replace(old, target)
        raise


def _formats(formats: Iterable[str]) -> list[str]:
    """The formats asked for, validated (a comma-separated string is split)."""
    if isinstance(formats, str):
        formats = formats.split(",")
    formats = [str(f).strip().lower() for f in formats if str(f).strip()]
    bad = sorted(set(formats) - set(FORMATS))
    if bad:
        raise ZoningError(
            f"unknown output format(s) {', '.join(bad)} (known: {', '.join(FORMATS)})"
        )
    if not formats:
        raise ZoningError(f"no output format given (known: {', '.join(FORMATS)})")
    return formats


def write_outputs(
    result: ScreeningResult,
    out_dir: str | Path,
    formats: Iterable[str],
    lang: str,
    map_options: Mapping[str, Any] | None,
) -> dict[str, Path]:
    """Write ``result`` into ``out_dir``, all-or-nothing: what :meth:`ScreeningResult.to_file`
    does (see there for the files, the marker and the rules of replacement).

    Parameters
    ----------
    result : ScreeningResult
        What to write.
    out_dir : path
        The output folder (created, with its parents, if needed).
    formats : iterable of str or str
        Some of :data:`FORMATS` (a comma-separated string is split).
    lang : {"both", "zh", "en"}
        Language of the HTML report.
    map_options : mapping or None
        Options of the report's map, passed to :func:`zoning.report.write_report`.

    Returns
    -------
    dict
        What was written, by format (as :meth:`ScreeningResult.to_file` returns it).

    Raises
    ------
    ZoningError
        An unknown or no format, or a file in the way that no earlier screening wrote;
        raised before anything is written.
    OSError
        Writing or moving failed; the folder is as it was.
    """
    formats = _formats(formats)
    out = Path(out_dir)
    planned = _planned_names(formats, comparison=result.ranking is not None)
    stale = _check_outputs(out, planned)  # refuses before anything is written
    created = _make_dirs(out)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=".zoning-screen-", dir=out))
        try:
            names = _write_all(result, tmp, formats, lang, dict(map_options or {}))
            top = [n for files in names.values() for n in files]
            _write_marker(tmp, top, result.provenance)
            _commit(tmp, out, [*top, OUTPUT_MARKER], stale)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        _remove_created(created)
        raise
    written: dict[str, Path] = {}
    for fmt, files in names.items():
        written[fmt] = out / files[0]
        if fmt == "csv":
            written["hits"] = out / "hits.csv"
    if "html" in written:
        written["html"] = out / "report" / "index.html"
    log.info("wrote %s into %s", ", ".join(written), out)
    return written


def _write_all(
    result: ScreeningResult, tmp: Path, formats: list[str], lang: str, map_options: dict[str, Any]
) -> dict[str, list[str]]:
    """Write every format into ``tmp``; return the top-level names written, by format."""
    from .. import tables

    names: dict[str, list[str]] = {}
    if "csv" in formats:
        names.update(tables.write_csv(result, tmp))
    if "gpkg" in formats:
        tables.write_gpkg(result, tmp / "screening.gpkg")
        names["gpkg"] = ["screening.gpkg"]
    if "json" in formats:
        tables.write_json(result, tmp / "screening.json")
        names["json"] = ["screening.json"]
    if "html" in formats:
        from ..report import write_report

        write_report(result, tmp, lang=lang, **map_options)
        names["html"] = ["report"]
    return names
