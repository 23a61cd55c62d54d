"""``zoning map``: the interactive layer overview map, or the map of a screening folder."""

from __future__ import annotations

import os
from pathlib import Path

import click

from ._common import DEMO_BANNER, catalog_options, fail, handle_errors, load_layers

_BASEMAPS = ("osm", "carto", "gaode", "tianditu", "none")


def _prepare_out(out: Path) -> None:
    """Create the output folder; refuse early (one line, exit 2) when it cannot be written."""
    parent = out.parent if str(out.parent) else Path(".")
    if out.is_dir():
        fail(f"{out}: is a folder; give the page's file name (e.g. {out / 'map.html'})")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"cannot create the output folder {parent}: {exc.strerror or exc}")
    if not os.access(parent, os.W_OK | os.X_OK):
        fail(f"the output folder {parent} is not writable")


@click.command("map")
@catalog_options
@click.option(
    "--screening",
    "screening_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Map a screening output folder (screening.gpkg + screening.json) instead of the layers.",
)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option(
    "--basemap",
    type=click.Choice(_BASEMAPS),
    default="osm",
    show_default=True,
    help="Tiles (osm and carto are both offered); gaode shifts overlays to GCJ-02; "
    "none: only the built-in vector basemap.",
)
@click.option(
    "--tianditu-key",
    default=None,
    metavar="KEY",
    help="Key for --basemap tianditu (default: the TIANDITU_KEY environment variable).",
)
@click.option(
    "--offline",
    is_flag=True,
    help="Open on the built-in vector basemap: the page makes no network request at all.",
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
    help="The page to write (default: overview.html; with --screening DIR: DIR/map.html).",
)
@handle_errors
def map_cmd(
    catalog_path,
    layer_specs,
    screening_dir,
    lang,
    basemap,
    tianditu_key,
    offline,
    district,
    assets,
    out_path,
) -> None:
    """Write an interactive map page: every catalog layer styled by kind and category, or, with
    --screening DIR, the sites of a screening coloured by verdict with their reasons."""
    from ..webmap import overview_map, screening_map
    from ..webmap.basemaps import resolve_basemap

    resolve_basemap(basemap, lang=lang, tianditu_key=tianditu_key)  # a bad key fails first
    if screening_dir is not None:
        if district:
            fail("--district applies to the overview map, not to --screening")
        folder = Path(screening_dir)
        if not folder.is_dir():
            fail(f"{folder}: no such folder (expected a screening output folder)")
        out = Path(out_path) if out_path else folder / "map.html"
        _prepare_out(out)
        layers = load_layers(catalog_path, layer_specs) if (catalog_path or layer_specs) else None
        report = folder / "report"
        href = None
        if report.is_dir():
            href = os.path.relpath(report.resolve(), out.parent.resolve()).replace(os.sep, "/")
        page = screening_map(
            folder,
            lang=lang,
            basemap=basemap,
            offline=offline,
            tianditu_key=tianditu_key,
            layers=layers,
            report_href=href,
        )
    else:
        out = Path(out_path) if out_path else Path("overview.html")
        _prepare_out(out)
        layers = load_layers(catalog_path, layer_specs)
        page = overview_map(
            layers,
            lang=lang,
            basemap=basemap,
            offline=offline,
            tianditu_key=tianditu_key,
            clip=district,
        )
    page.save(out, assets=assets)
    size = out.stat().st_size / 1e6
    click.echo(f"wrote {out} ({size:.2f} MB{', offline' if offline else ''})")
    if page.demonstration:
        click.echo(DEMO_BANNER)
