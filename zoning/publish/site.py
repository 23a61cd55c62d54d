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

import logging
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from .._version import __version__
from ..crs import WORKING_CRS
from ..errors import PublishError
from ..io import file_sha256
from ..io.outputs import Marker, OutputFolder
from ..layerset import LayerSet, load_catalog
from .downloads import _write_downloads
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


#: What a site made before the marker listed its files consists of (top-level names).
_LEGACY_LAYOUT = frozenset(
    {SITE_MARKER, "index.html", "map.html", "districts", "downloads", "assets", "en", "zh"}
)


def _site_marker(provenance: dict) -> Marker:
    """The marker of a site: its provenance, then every file (itself last)."""
    return Marker(
        SITE_MARKER,
        writer="publish",
        info=provenance,
        indent=2,
        lists_itself=True,
        noun="site",
        legacy=_LEGACY_LAYOUT,
    )


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
    (:func:`zoning.publish.pages.write_pages`); then :class:`zoning.io.outputs.OutputFolder`
    seals the site (marker, file modes), carries over the user's files and swaps it in.

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
    site = OutputFolder(out, _site_marker(content.provenance), tag="publish", error=PublishError)
    try:
        with site as tmp:
            pages = _write_site(content, maps, tmp)
    except PublishError:
        raise
    except OSError as exc:  # a full disk, say: the older site is intact, no temporary left
        raise PublishError(
            f"{out}: cannot write the site ({exc.strerror or exc}); the previous site, if any, "
            "is unchanged"
        ) from None
    files = sorted([*site.files, SITE_MARKER])
    sizes = {f: (out / f).stat().st_size for f in files}
    return _summary(out, content, pages, files, sizes, site.kept, time.perf_counter() - t0)


def _read_and_measure(
    layers: LayerSet,
    lang: str,
    maps: MapOptions,
    layer_specs: Iterable[str],
    now: datetime | None,
) -> SiteContent:
    """Read every input and compute every number (errors here leave no trace on disk)."""
    from ..targets.indicators import indicators
    from ..targets.model import load_targets

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
