"""``zoning publish OUT_DIR``: the public map pages, a static site safe to publish."""

from __future__ import annotations

import click

from ._common import DEMO_BANNER, OneLineCommand, catalog_options, fail, handle_errors, load_layers

_BASEMAPS = ("osm", "carto", "gaode", "tianditu", "none")


@click.command("publish", cls=OneLineCommand)
@click.argument("out_dir", required=False, type=click.Path(), metavar="OUT_DIR")
@catalog_options
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="zh",
    show_default=True,
    help="Language of the pages at the top of the site; the other one is under en/ (or zh/).",
)
@click.option(
    "--basemap",
    type=click.Choice(_BASEMAPS),
    default="osm",
    show_default=True,
    help="Map tiles; gaode shifts the overlays to GCJ-02; none: only the vector basemap.",
)
@click.option(
    "--tianditu-key",
    default=None,
    metavar="KEY",
    help="Key for --basemap tianditu (default: the TIANDITU_KEY environment variable).  The "
    "key is written into every map page's tile URLs, readable by anyone who visits the site: "
    "use a browser key restricted to the site's domain.",
)
@click.option(
    "--offline",
    is_flag=True,
    help="Maps show only the built-in vector basemap (no tiles offered): no page makes any "
    "network request (each page's Content-Security-Policy forbids them).",
)
@click.option(
    "--out",
    "out_option",
    type=click.Path(),
    default=None,
    metavar="OUT_DIR",
    help="The site folder (the same as the OUT_DIR argument).",
)
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
        fail(f"give the site folder once: OUT_DIR {out_dir!r} or --out {out_option!r}")
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
