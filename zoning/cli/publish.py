"""``zoning publish OUT_DIR``: the public map pages, a static site safe to publish."""

from __future__ import annotations

import click

from ..errors import quote
from .errors import OneLineCommand, fail, handle_errors
from .options import catalog_options, site_options
from .run import DEMO_BANNER, load_layers


@click.command("publish", cls=OneLineCommand)
@click.argument("out_dir", required=False, type=click.Path(), metavar="OUT_DIR")
@catalog_options
@site_options
@handle_errors
def publish(
    out_dir, catalog_path, layer_specs, lang, basemap, tianditu_key, offline, out_option
) -> None:
    """Build the public map pages into OUT_DIR: an index with the layers, their provenance and
    the city indicators, the overview map, one page per district (map, layer areas,
    indicators), and the layers as GeoJSON and GeoPackage downloads — in Chinese and English.

    OUT_DIR must be new, empty, or a site made earlier by zoning publish (it is then replaced
    as a whole, and only once the new site is complete; files you added to it, such as a CNAME
    or .nojekyll, are kept).  The pages work from file:// and from any static web server.
    """
    from ..publish import check_out_dir, publish_site
    from ..webmap.basemaps import resolve_basemap

    if out_dir and out_option and out_dir != out_option:
        fail(f"give the site folder once: OUT_DIR {quote(out_dir)} or --out {quote(out_option)}")
    target = out_dir or out_option
    if not target:
        fail("give the site folder: zoning publish OUT_DIR")
    check_out_dir(target)  # a file, someone else's folder or no permission: before any work
    resolve_basemap(basemap, lang=lang, tianditu_key=tianditu_key)
    layers = load_layers(catalog_path, layer_specs)
    site = publish_site(
        target,
        layers,
        lang=lang,
        basemap=basemap,
        offline=offline,
        tianditu_key=tianditu_key,
        layer_specs=layer_specs,
    )
    page, size = site.largest_page
    click.echo(
        f"wrote {target}: {len(site.pages)} pages, {len(site.files)} files, "
        f"{site.bytes / 1e6:.1f} MB (largest page {page}, {size / 1e6:.2f} MB) "
        f"in {site.seconds:.1f} s{', offline' if offline else ''}"
    )
    if site.kept:
        names = ", ".join(site.kept[:5]) + (" ..." if len(site.kept) > 5 else "")
        click.echo(f"kept {len(site.kept)} files the previous site did not write: {names}")
    click.echo(f"open {site.path / 'index.html'}")
    if site.demonstration:
        click.echo(DEMO_BANNER)
