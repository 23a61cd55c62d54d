"""``zoning map``: the interactive layer overview map, or the map of a screening folder."""

from __future__ import annotations

import os
from pathlib import Path

import click

from ..io.outputs import make_folders, remove_folders
from ..io.owned import claim_files, record_files
from .errors import fail, handle_errors
from .options import (
    basemap_option,
    catalog_options,
    non_empty_path,
    offline_option,
    tianditu_key_option,
)
from .run import DEMO_BANNER, load_layers


def _check_out(out: Path, overwrite: bool) -> None:
    """Refuse early (one line, exit 2) an output the page cannot be written to: a folder, a
    device, FIFO, socket or symbolic link, a file zoning did not write (without --overwrite).

    Nothing is created here: :func:`_save` creates the page's missing folders once the page is
    built.
    """
    if out.is_dir() and not out.is_symlink():
        fail(f"{out}: is a folder; give the page's file name (e.g. {out / 'map.html'})")
    claim_files([out], overwrite=overwrite)
    parent = out.parent if str(out.parent) else Path(".")
    missing = False
    ancestor = parent
    while not ancestor.exists():
        missing = True
        if ancestor.parent == ancestor:
            break
        ancestor = ancestor.parent
    if ancestor.exists() and not ancestor.is_dir():
        fail(f"cannot create the output folder {parent}: {ancestor} is not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        if missing:
            fail(f"cannot create the output folder {parent}: {ancestor} is not writable")
        fail(f"the output folder {parent} is not writable")


def _tree(folder: Path) -> set[Path]:
    """Every file, link and folder under ``folder`` (links not followed)."""
    if folder.is_symlink() or not folder.is_dir():
        return set()
    found: set[Path] = set()
    for root, dirs, files in os.walk(folder):
        found.update(Path(root) / n for n in [*dirs, *files])
    return found


def _save(page, out: Path, assets: str) -> None:
    """Create the missing folders and write the page; on failure remove what was created
    (with everything in it: what this run added to an assets/ folder too), and record the
    page as written by zoning on success."""
    try:
        made = make_folders(out.parent if str(out.parent) else Path("."))
    except OSError as exc:
        fail(f"cannot create the output folder {exc.filename}: {exc.strerror or exc}")
    assets_dir = out.parent / "assets"
    before = _tree(assets_dir)
    had_assets = assets_dir.exists() or assets_dir.is_symlink()
    try:
        page.save(out, assets=assets)
    except BaseException:
        added = sorted(_tree(assets_dir) - before, key=lambda p: len(p.parts), reverse=True)
        for p in added:  # deepest first: files, then the folders they emptied
            try:
                p.rmdir() if p.is_dir() and not p.is_symlink() else p.unlink()
            except OSError:
                pass
        if not had_assets:
            remove_folders([assets_dir])
        remove_folders(made, contents=True)
        raise
    record_files([out])


@click.command("map")
@catalog_options
@click.option(
    "--screening",
    "screening_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Map a screening output folder (screening.gpkg + screening.json) instead of the layers.",
)
@click.option(
    "--max-sites",
    type=click.IntRange(min=0),
    default=None,
    metavar="N",
    help="With --screening: draw at most N sites, the most severe first (the map says "
    "'showing N of M sites'); 0 draws every site.  [default: 5000, the largest screening "
    "whose page stays under about 5 MB and loads in under 3 s]",
)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@basemap_option(
    "Tiles (osm and carto are both offered); gaode shifts overlays to GCJ-02; "
    "none: only the built-in vector basemap."
)
@tianditu_key_option(
    "Key for --basemap tianditu (default: the TIANDITU_KEY environment variable).  The "
    "key is written into the page's tile URLs, readable by anyone who gets the page: use a "
    "browser key restricted to the domain that serves the page."
)
@offline_option(
    "The built-in vector basemap only, no tiles offered: the page makes no network "
    "request at all (its Content-Security-Policy forbids them)."
)
@click.option(
    "--district",
    default=None,
    help="Overview of one district only (name or English name, e.g. 金山区 or Jinshan).",
)
@click.option(
    "--assets",
    type=click.Choice(["inline", "folder"]),
    default="inline",
    show_default=True,
    help="inline: one self-contained file; folder: scripts in an assets/ folder beside the page.",
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=True),
    default=None,
    callback=non_empty_path,
    help="The page to write (default: overview.html; with --screening DIR: DIR/map.html).",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace --out even if it exists and was not written by zoning (never a device, "
    "FIFO, socket or symbolic link).",
)
@handle_errors
def map_cmd(
    catalog_path,
    layer_specs,
    screening_dir,
    max_sites,
    lang,
    basemap,
    tianditu_key,
    offline,
    district,
    assets,
    out_path,
    overwrite,
) -> None:
    """Write an interactive map page: every catalog layer styled by kind and category, or, with
    --screening DIR, the sites of a screening coloured by verdict with their reasons."""
    from ..webmap import overview_map, screening_map
    from ..webmap.basemaps import resolve_basemap
    from ..webmap.escape import relative_url

    resolve_basemap(basemap, lang=lang, tianditu_key=tianditu_key)  # a bad key fails first
    if screening_dir is not None:
        from ..report import MAX_MAP_SITES

        if district:
            fail("--district applies to the overview map, not to --screening")
        folder = Path(screening_dir)
        if not folder.is_dir():
            fail(f"{folder}: no such folder (expected a screening output folder)")
        out = Path(out_path) if out_path else folder / "map.html"
        _check_out(out, overwrite)
        layers = load_layers(catalog_path, layer_specs) if (catalog_path or layer_specs) else None
        report = folder / "report"
        href = None
        if report.is_dir():
            # The page's folder may not exist yet: resolve what does, then the rest by name.
            page_dir = os.path.realpath(out.parent if str(out.parent) else ".")
            rel = os.path.relpath(os.path.realpath(report), page_dir)
            href = relative_url(rel.replace(os.sep, "/"))
        if max_sites is None:
            max_sites = MAX_MAP_SITES
        page = screening_map(
            folder,
            lang=lang,
            basemap=basemap,
            offline=offline,
            tianditu_key=tianditu_key,
            layers=layers,
            report_href=href,
            max_sites=max_sites or None,
        )
    else:
        if max_sites is not None:
            fail("--max-sites applies to --screening maps")
        out = Path(out_path) if out_path else Path("overview.html")
        _check_out(out, overwrite)
        layers = load_layers(catalog_path, layer_specs)
        page = overview_map(
            layers,
            lang=lang,
            basemap=basemap,
            offline=offline,
            tianditu_key=tianditu_key,
            clip=district,
        )
    _save(page, out, assets)
    size = out.stat().st_size / 1e6
    click.echo(f"wrote {out} ({size:.2f} MB{', offline' if offline else ''})")
    if page.demonstration:
        click.echo(DEMO_BANNER)
