"""The public map pages: a static site built from a catalog (``zoning publish OUT_DIR``).

What the site holds (paths relative to ``OUT_DIR``; the default language at the top, the other
one under ``en/`` or ``zh/`` with the same pages)::

    index.html                the layers (titles, provenance, counts, areas), links to every
                              page and download, the city indicator table, how it was made
    map.html                  the overview map (every layer; control units one click away)
    districts/<slug>.html     one per district: its clipped map, the area of each layer inside
                              it (km², share, features) and its indicator table
    en/ (or zh/)              the same pages in the other language
    downloads/<layer>.geojson each layer, WGS84 (RFC 7946), full resolution
    downloads/zoning_layers.gpkg   every layer in one GeoPackage (EPSG:4326)
    downloads/README.txt      what each file is, provenance and licence per layer
    downloads/SHA256SUMS      checksums of the downloads
    assets/                   Leaflet, the map plugins, the site's style sheets (shared)
    .zoning-publish.json      the marker of a site made here: its provenance and its files

Every page works from ``file://`` and from any static web server, and makes no network request
except for map tiles, which ``offline=True`` leaves off (only the built-in vector basemap is
offered); each page's Content-Security-Policy allows nothing else.
Only whitelisted attribute columns (:data:`zoning.webmap.simplify.FIELDS`) plus the catalog's
provenance (status, source, vintage, licence) are published, on the pages and in the downloads.
Every string from data or users is escaped for the context it lands in (jinja2 autoescaping for
the pages, :mod:`zoning.webmap.escape` on the maps).  Pages showing demonstration data carry the
demonstration notice, visible and not dismissable.

The site is built in a temporary folder beside ``OUT_DIR`` and swapped in only when complete:
on any failure ``OUT_DIR`` is left as it was.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from .._version import __version__
from ..crs import WORKING_CRS
from ..errors import PublishError
from ..io import file_sha256
from ..layerset import LayerSet, load_catalog
from .downloads import _write, _write_downloads
from .pages import (
    MapOptions,
    SiteContent,
    _copy_site_assets,
    _templates,
    _Tree,
    write_download_notes,
    write_pages,
)
from .statistics import District, district_statistics, districts_of, layer_statistics

__all__ = ["SITE_MARKER", "PublishedSite", "check_out_dir", "publish_site"]

log = logging.getLogger(__name__)

#: The file that marks a folder as a site made by ``zoning publish`` (only such a folder, an
#: empty one or a new one is ever replaced).
SITE_MARKER = ".zoning-publish.json"


@dataclass
class PublishedSite:
    """What :func:`publish_site` wrote.

    Attributes
    ----------
    path : Path
        The site folder (``OUT_DIR``).
    files : list of str
        Every file, relative to ``path`` (POSIX separators).
    pages : list of str
        The HTML pages among them.
    districts : list of District
    demonstration : bool
        True when any layer is demonstration data (every page carries the notice).
    bytes : int
        Total size of the site.
    largest_page : (str, int)
        The largest HTML page and its size in bytes.
    seconds : float
        Build time.
    provenance : dict
        Tool version, catalog and layer hashes, time, options (also in :data:`SITE_MARKER`,
        with the list of files the site is made of).
    kept : list of str
        Files in ``path`` that an earlier publish did not write (a ``CNAME``, a
        ``.nojekyll``, anything the user added): kept as they were.
    """

    path: Path
    files: list[str]
    pages: list[str]
    districts: list[District]
    demonstration: bool
    bytes: int
    largest_page: tuple[str, int]
    seconds: float
    provenance: dict = field(default_factory=dict)
    kept: list[str] = field(default_factory=list)


def check_out_dir(out_dir: str | Path) -> Path:
    """The site folder as an absolute path, after checking that it may be (re)placed.

    Parameters
    ----------
    out_dir : path
        The site folder; ``~`` is expanded and symbolic links resolved.  Nothing is created.

    Returns
    -------
    Path

    Raises
    ------
    PublishError
        ``out_dir`` is a file; it is a folder that is not empty and holds no
        :data:`SITE_MARKER` (not made by ``zoning publish``); it or the folder it would be
        created in is not writable.
    """
    given = str(out_dir)
    out = Path(os.path.realpath(Path(out_dir).expanduser()))
    if out.parent == out:
        raise PublishError(f"{given}: cannot publish into the root of a file system")
    if out.exists() and not out.is_dir():
        raise PublishError(f"{given}: exists and is not a folder")
    if out.is_dir():
        try:
            entries = [p.name for p in out.iterdir()]
        except OSError as exc:
            raise PublishError(f"{given}: cannot read the folder ({exc.strerror or exc})") from None
        if entries and SITE_MARKER not in entries:
            raise PublishError(
                f"{given}: the folder is not empty and was not made by zoning publish "
                f"(no {SITE_MARKER}); give a new or empty folder"
            )
        if not os.access(out, os.W_OK | os.X_OK):
            raise PublishError(f"{given}: the folder is not writable")
    ancestor = out.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise PublishError(f"{given}: {ancestor} is not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise PublishError(f"{given}: cannot write in {ancestor} (permission denied)")
    return out


def _catalog_info(layers: LayerSet, layer_specs: Iterable[str]) -> dict:
    cat = layers.catalog
    path = cat.path
    return {
        "title": cat.title,
        "version": cat.version,
        "file": path.name if path else None,
        "sha256": file_sha256(path) if path else None,
        "added_layers": [str(s) for s in layer_specs],
    }


def _fix_modes(folder: Path) -> None:
    """Give the site the usual modes (temporary folders and files are private by default)."""
    umask = os.umask(0)
    os.umask(umask)
    for root, dirs, files in os.walk(folder):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o777 & ~umask)
        for f in files:
            os.chmod(os.path.join(root, f), 0o666 & ~umask)
    os.chmod(folder, 0o777 & ~umask)


#: What a site made before the marker listed its files consists of (top-level names).
_LEGACY_LAYOUT = frozenset(
    {SITE_MARKER, "index.html", "map.html", "districts", "downloads", "assets", "en", "zh"}
)


def _site_manifest(out: Path) -> set[str] | None:
    """The files the site in ``out`` was made of (its marker's list), or None (no marker)."""
    try:
        doc = json.loads((out / SITE_MARKER).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PublishError(f"{out / SITE_MARKER}: cannot read the site's marker ({exc})") from None
    files = doc.get("files") if isinstance(doc, dict) else None
    if isinstance(files, list) and all(isinstance(f, str) for f in files):
        return set(files)
    return set()  # a site made before markers listed files: see _LEGACY_LAYOUT


def _folder_files(folder: Path) -> list[str]:
    """Every file and symbolic link under ``folder`` (POSIX paths), symlinks not followed."""
    out = []
    for root, dirs, names in os.walk(folder):
        rel = Path(root).relative_to(folder)
        for d in dirs:
            if (Path(root) / d).is_symlink():
                out.append((rel / d).as_posix())
        out += [(rel / n).as_posix() for n in names]
    return sorted(out)


def _carry_user_files(out: Path, tmp: Path, new_files: set[str]) -> list[str]:
    """Put the files of ``out`` that the previous publish did not write into ``tmp``.

    A ``CNAME``, a ``.nojekyll`` or any page the user added to the site folder survives
    republishing.  Files are hard-linked (copied where links are not possible), so ``out``
    is untouched until the swap.  Returns their paths.

    Raises
    ------
    PublishError
        A file the user added sits where the new site writes one of its own; nothing is
        replaced (one line naming the files).
    """
    if not out.is_dir():
        return []
    manifest = _site_manifest(out)
    if manifest is None:  # empty folder (check_out_dir allows nothing else without a marker)
        return []
    present = _folder_files(out)
    if manifest:
        extra = [f for f in present if f not in manifest and f != SITE_MARKER]
    else:
        extra = [f for f in present if f.split("/", 1)[0] not in _LEGACY_LAYOUT]
    clash = [f for f in extra if f in new_files or any(n.startswith(f + "/") for n in new_files)]
    if clash:
        names = ", ".join(clash[:5]) + (f" and {len(clash) - 5} more" if len(clash) > 5 else "")
        raise PublishError(
            f"{out}: files you added would be overwritten by the new site: {names}; "
            "move them away and publish again"
        )
    for rel in extra:
        src, dest = out / rel, tmp / rel
        if dest.parent.exists() and not dest.parent.is_dir():
            raise PublishError(
                f"{out}: {rel} cannot be kept: the new site has a file named "
                f"{dest.parent.relative_to(tmp).as_posix()}"
            )
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            os.symlink(os.readlink(src), dest)
            continue
        try:
            os.link(src, dest)
        except OSError:
            shutil.copy2(src, dest)
    return extra


def _swap_in(tmp: Path, out: Path) -> None:
    """Replace ``out`` (absent, empty or an older site) by ``tmp``; restore ``out`` on failure."""
    if not out.exists():
        os.rename(tmp, out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    os.rmdir(old)
    os.rename(out, old)
    try:
        os.rename(tmp, out)
    except BaseException:
        os.rename(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)
    if old.exists():
        log.warning("could not remove the previous site at %s", old)


def publish_site(
    out_dir: str | Path,
    layers: LayerSet | str | Path | None = None,
    *,
    lang: str = "zh",
    basemap: str = "osm",
    offline: bool = False,
    tianditu_key: str | None = None,
    layer_specs: Iterable[str] = (),
    now: datetime | None = None,
) -> PublishedSite:
    """Build the public map pages of a catalog into ``out_dir``.

    Parameters
    ----------
    out_dir : path
        The site folder: new, empty, or an earlier site made by this function (it holds
        :data:`SITE_MARKER`); it is replaced as a whole, except for files the earlier publish
        did not write (its marker lists the files it wrote), which are kept.
    layers : LayerSet or catalog path, optional
        Default: the bundled demonstration catalog.
    lang : {"zh", "en"}
        The language of the pages at the top of the site; the other language is under
        ``en/`` (or ``zh/``), and every page links to its counterpart.
    basemap : {"osm", "carto", "gaode", "tianditu", "none"}
        Tiles of the maps (see :func:`zoning.webmap.overview_map`).
    offline : bool
        Maps open on the built-in vector basemap: no page makes any network request.
    tianditu_key : str, optional
        For ``basemap="tianditu"``.
    layer_specs : iterable of str
        The ``--layer KIND=PATH`` options used to build ``layers`` (recorded in the
        provenance only).
    now : datetime, optional
        The generation time written on the pages (default: now, UTC).

    Returns
    -------
    PublishedSite

    Raises
    ------
    PublishError
        ``out_dir`` cannot be used (see :func:`check_out_dir`); nothing is written.
    ZoningError
        A bad catalog, a missing or unreadable layer file, a bad basemap key: raised before
        anything is written.

    Notes
    -----
    Every input is read and every number computed before the first file is written; the
    site is then written into a temporary folder beside ``out_dir`` and swapped in when
    complete (an older site is replaced only then; on failure the temporary folder is
    removed and ``out_dir`` is left as it was).  The steps: read and measure
    (:func:`layer_statistics`, :func:`districts_of`, :func:`district_statistics`, the
    indicators), write the assets and downloads, write the pages
    (:func:`zoning.publish.pages.write_pages`), seal (marker and file modes), carry over the
    user's files, swap in.

    Cost, measured on the demonstration catalog (16 districts; ``offline=True``): 36 pages,
    15.2 MB, about 20 s of CPU time in one thread and a peak resident memory of about
    240 MB for the whole process (imports included).  The two overview maps and the 32
    district maps dominate; the build runs in one thread, so on an idle machine the
    wall-clock time is about the CPU time.
    """
    from ..webmap.basemaps import resolve_basemap
    from ..webmap.page import check_lang

    t0 = time.perf_counter()
    lang = check_lang(lang)
    out = check_out_dir(out_dir)
    if layers is None or isinstance(layers, str | Path):
        layers = load_catalog(layers)
    maps = MapOptions(basemap=basemap, offline=offline, tianditu_key=tianditu_key)
    resolve_basemap(basemap, lang=lang, tianditu_key=tianditu_key)  # a bad key fails first
    content = _read_and_measure(layers, lang, maps, layer_specs, now)
    created = _create_parents(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.publish-", dir=out.parent))
    try:
        pages = _write_site(content, maps, tmp)
        files, sizes = _seal(tmp, content.provenance)
        kept = _carry_user_files(out, tmp, set(files))
        _swap_in(tmp, out)
    except BaseException:
        _discard(tmp, created)
        raise
    return _summary(out, content, pages, files, sizes, kept, time.perf_counter() - t0)


def _read_and_measure(
    layers: LayerSet,
    lang: str,
    maps: MapOptions,
    layer_specs: Iterable[str],
    now: datetime | None,
) -> SiteContent:
    """Read every input and compute every number (errors here leave no trace on disk)."""
    from ..indicators import indicators
    from ..seeds import load_targets

    env = _templates()
    stats = layer_statistics(layers)  # reads every layer: a missing file fails here
    districts = districts_of(layers)
    dstats = district_statistics(layers, districts)
    targets = load_targets()
    table = indicators(layers, targets=targets)
    demonstration = layers.is_demonstration
    generated = (now or datetime.now(UTC)).astimezone(UTC)
    provenance = {
        "generator": "zoning publish",
        "tool_version": __version__,
        "generated": generated.isoformat(timespec="seconds"),
        "catalog": _catalog_info(layers, layer_specs),
        "layers": [
            {"id": r["id"], "file": r["file"], "sha256": r["sha256"], "status": r["status"]}
            for r in stats.to_dict("records")
        ],
        "options": {"lang": lang, "basemap": maps.basemap, "offline": bool(maps.offline)},
        "demonstration": demonstration,
        "working_crs": WORKING_CRS.name,
    }
    return SiteContent(
        layers=layers,
        stats=stats,
        districts=districts,
        district_stats=dstats,
        indicators=table,
        documents={d.id: (d.title_zh, d.title_en) for d in targets.documents},
        demonstration=demonstration,
        provenance=provenance,
        tree=_Tree(lang),
        env=env,
    )


def _create_parents(out: Path) -> list[Path]:
    """Create the missing folders above ``out``; returns them, deepest first."""
    created: list[Path] = []
    parent = out.parent
    while not parent.exists():
        created.append(parent)
        parent = parent.parent
    for p in reversed(created):
        p.mkdir()
    return created


def _write_site(content: SiteContent, maps: MapOptions, tmp: Path) -> list[str]:
    """Write the assets, the downloads and every page into ``tmp``; returns the pages."""
    from ..webmap.assets import assets_for, copy_assets

    copy_assets(
        assets_for(("scale", "measure", "fullscreen", "coordinates", "draw")), tmp / "assets"
    )
    _copy_site_assets(tmp / "assets")
    downloads = _write_downloads(content.layers, tmp / "downloads")
    write_download_notes(content, tmp / "downloads", downloads)
    return write_pages(content, maps, downloads, tmp)


def _seal(tmp: Path, provenance: dict) -> tuple[list[str], dict[str, int]]:
    """Write the site's marker (provenance and files) and give the files their usual modes.

    Returns the site's files (relative POSIX paths, sorted) and their sizes.
    """
    ours = sorted(p.relative_to(tmp).as_posix() for p in tmp.rglob("*") if p.is_file())
    marker = dict(provenance, files=[*ours, SITE_MARKER])
    _write(tmp / SITE_MARKER, json.dumps(marker, ensure_ascii=False, indent=2) + "\n")
    files = sorted([*ours, SITE_MARKER])
    sizes = {f: (tmp / f).stat().st_size for f in files}
    _fix_modes(tmp)
    return files, sizes


def _discard(tmp: Path, created: list[Path]) -> None:
    """Remove the temporary folder and the folders created for the site (after a failure)."""
    shutil.rmtree(tmp, ignore_errors=True)
    for p in created:
        try:
            p.rmdir()
        except OSError:
            break


def _summary(
    out: Path,
    content: SiteContent,
    pages: list[str],
    files: list[str],
    sizes: dict[str, int],
    kept: list[str],
    seconds: float,
) -> PublishedSite:
    """Log what was published and describe it."""
    largest = max(pages, key=lambda p: sizes[p])
    log.info(
        "published %d pages and %d files (%.1f MB) into %s in %.1f s",
        len(pages),
        len(files),
        sum(sizes.values()) / 1e6,
        out,
        seconds,
    )
    if kept:
        log.info("kept %d files the previous site did not write: %s", len(kept), ", ".join(kept))
    return PublishedSite(
        path=out,
        files=files,
        kept=kept,
        pages=pages,
        districts=content.districts,
        demonstration=content.demonstration,
        bytes=sum(sizes.values()),
        largest_page=(largest, sizes[largest]),
        seconds=seconds,
        provenance=content.provenance,
    )
