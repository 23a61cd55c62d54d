"""``zoning rasterize`` and ``zoning zonal``: the catalog as a COG; zonal statistics of a raster."""

from __future__ import annotations

import json
import math
from pathlib import Path

import click
import pandas as pd

from ..errors import quote
from ..io.cells import csv_text
from ..io.outputs import write_atomic
from ..io.owned import claim_files, owned_files, record_files
from .errors import fail, handle_errors
from .options import catalog_options, non_empty_path
from .render import format_table
from .run import DEMO_BANNER, load_layers


def parse_positive(text: str | None, option: str, *, integer: bool = False) -> float:
    """Parse a positive number given as text, or exit with one line (code 2) naming ``option``.

    Options are declared as plain strings and checked here, because click's own type errors
    print a three-line usage message.

    Parameters
    ----------
    text : str or None
        The option's value as given; None when it was not given.
    option : str
        The option's name for the message, e.g. ``"--res"``.
    integer : bool
        Parse with :class:`int` (``"1.5"`` is then refused) rather than :class:`float`.

    Returns
    -------
    float or int
        The value, finite and > 0 (an ``int`` when ``integer`` is true).

    Raises
    ------
    SystemExit
        Code 2, through :func:`~zoning.cli.errors.fail`: ``text`` is None, not a number (not
        an integer with ``integer``), not finite, or not positive.
    """
    if text is None:
        fail(f"{option} is required")
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        kind = "a positive integer" if integer else "a positive number"
        fail(f"{option}: {quote(text)} is not {kind}")
    if not math.isfinite(value) or value <= 0:
        fail(f"{option}: {quote(text)} must be positive")
    return value


def _size(n_bytes: int) -> str:
    for unit in ("B", "KiB", "MiB"):
        if n_bytes < 1024 or unit == "MiB":
            return f"{n_bytes:.0f} {unit}" if unit == "B" else f"{n_bytes:.1f} {unit}"
        n_bytes /= 1024
    return f"{n_bytes:.1f} GiB"


@click.command("rasterize")
@click.option("--res", "res_text", metavar="METRES", help="Cell size in metres (required).")
@click.option(
    "--out",
    "out_path",
    metavar="FILE.tif",
    callback=non_empty_path,
    help="The Cloud-Optimized GeoTIFF to write (required).",
)
@click.option(
    "--crs",
    "crs_text",
    default=None,
    metavar="CRS",
    help="A metric projected grid CRS, e.g. EPSG:32651. Default: the working CRS.",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace --out even if it exists and was not written by zoning (never a device, "
    "FIFO, socket or symbolic link).",
)
@catalog_options
@handle_errors
def rasterize_cmd(
    res_text: str | None,
    out_path: str | None,
    crs_text: str | None,
    overwrite: bool,
    catalog_path: str | None,
    layer_specs: tuple[str, ...],
) -> None:
    """Rasterize the control units and constraint layers to a Cloud-Optimized GeoTIFF.

    Band 1 is the control-unit category (1 priority, 2 key, 3 general), band 2 the unit index
    (the unit_codes tag maps it to codes), then one 0/1 mask per constraint kind.  The legend,
    unit table and provenance are stored in the file's tags; band 1's class names and colours
    also in the FILE.tif.aux.xml sidecar (category names, attribute table, colour table).
    """
    from ..raster import rasterize

    res = parse_positive(res_text, "--res")
    if not out_path:
        fail("--out FILE.tif is required")
    out = Path(out_path)
    sidecars = [out.with_name(out.name + ext) for ext in (".aux.xml", ".units.csv")]
    with owned_files(out, *sidecars, overwrite=overwrite):
        ls = load_layers(catalog_path, layer_specs)
        info = rasterize(ls, res=res, out=out_path, crs=crs_text)
    if info.demonstration:
        click.echo(DEMO_BANNER)
    rows, cols = info.shape
    click.echo(
        f"wrote {info.path}: {rows} x {cols} cells of {info.res:g} m, {info.dtype}, "
        f"nodata {info.nodata}, {_size(info.path.stat().st_size)} (Cloud-Optimized GeoTIFF)"
    )
    for i, name in enumerate(info.bands, start=1):
        click.echo(f"  band {i}: {name}")
    if info.units_file:
        click.echo(f"unit table: {info.units_file}")
    if info.aux_file:
        click.echo(
            f"colour table and class names: {info.aux_file} (GDAL sidecar; keep it beside the .tif)"
        )


_FORMATS = ("table", "csv", "json")


@click.command("zonal")
@click.argument("raster", metavar="RASTER")
@click.option(
    "--by",
    default="units",
    show_default=True,
    metavar="units|districts|LAYER_ID",
    help="The zones: control units, districts or any layer id of the catalog.",
)
@click.option("--band", "band_text", default="1", show_default=True, help="1-based band number.")
@click.option(
    "--categorical/--continuous",
    default=None,
    help=(
        "Count cells per class, or sum/mean/min/max. Default: categorical for integer bands "
        "of up to 16 bits, continuous otherwise."
    ),
)
@click.option("--format", "fmt", type=click.Choice(_FORMATS), default="table", show_default=True)
@click.option(
    "--out",
    "out_path",
    default=None,
    metavar="FILE",
    callback=non_empty_path,
    help="Write to this file.",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace --out even if it exists and was not written by zoning (never a device, "
    "FIFO, socket or symbolic link).",
)
@click.option(
    "--window-size",
    "window_text",
    default="1024",
    show_default=True,
    help="Cells per side of the windows read at a time (bounds memory).",
)
@catalog_options
@handle_errors
def zonal_cmd(
    raster: str,
    by: str,
    band_text: str,
    categorical: bool | None,
    fmt: str,
    out_path: str | None,
    overwrite: bool,
    window_text: str,
    catalog_path: str | None,
    layer_specs: tuple[str, ...],
) -> None:
    """Zonal statistics of RASTER by control unit, district or polygon layer of the catalog.

    Integer bands of up to 16 bits are counted per class (count, share of the zone's valid
    cells, area; at most 1000 classes); other bands are summarised (count, sum, mean, min,
    max, area).  Areas are true areas in m² whatever the raster's CRS.  The zones are
    reprojected to the raster's CRS; a raster without a CRS is an error.
    """
    from ..raster import zonal_stats

    band = int(parse_positive(band_text, "--band", integer=True))
    window_size = int(parse_positive(window_text, "--window-size", integer=True))
    if out_path:
        claim_files([out_path], overwrite=overwrite)  # before the work: refuse early
    ls = load_layers(catalog_path, layer_specs)
    df = zonal_stats(
        raster,
        by=by,
        band=band,
        categorical=categorical,
        window_size=window_size,
        layers=ls,
    )
    text = render_zonal(df, fmt)
    if out_path:
        write_atomic(out_path, text)
        record_files([out_path])
        click.echo(f"wrote {out_path} ({len(df)} rows)")
        if df.attrs["demonstration"]:
            click.echo(DEMO_BANNER)
    else:
        click.echo(text, nl=not text.endswith("\n"))


def _meta(df: pd.DataFrame) -> dict:
    return {k: v for k, v in df.attrs.items() if k != "zones_without_cells"} | {
        "zones_without_cells": [str(z) for z in df.attrs.get("zones_without_cells", [])]
    }


def render_zonal(df: pd.DataFrame, fmt: str) -> str:
    """The zonal-statistics table as text (table), CSV or JSON, with its metadata.

    Parameters
    ----------
    df : pandas.DataFrame
        What :func:`zoning.raster.zonal_stats` returns; its ``attrs`` (``raster``, ``band``,
        ``band_description``, ``categorical``, ``nodata``, ``zone_layer``, ``zones``, ``crs``,
        ``reprojection``, ``zones_without_cells``; optional ``demonstration``, ``note``,
        ``area_method``) are the metadata.
    fmt : {"table", "csv", "json"}
        ``"csv"``: the rows only, after a ``# `` demonstration banner line when the data are
        demonstration data.  ``"json"``: ``{"demonstration_data", "meta", "rows"}``, the meta
        being ``attrs`` with the zones without cells as strings.  Any other value gives the
        table: the banner, the note and metadata lines (at most 10 zones without cells
        named), a blank line, then the rows, floats with thousands separators and at most 4
        decimals (NaN as blank).

    Returns
    -------
    str
        The text, ending with a newline.
    """
    demo = df.attrs.get("demonstration", False)
    if fmt == "csv":
        return ("# " + DEMO_BANNER + "\n" if demo else "") + csv_text(df)
    if fmt == "json":
        rows = json.loads(df.to_json(orient="records", force_ascii=False))
        payload = {"demonstration_data": demo, "meta": _meta(df), "rows": rows}
        return json.dumps(payload, ensure_ascii=False, indent=2, default=str) + "\n"
    lines = [DEMO_BANNER] if demo else []
    if df.attrs.get("note") and df.attrs["note"] not in lines:
        lines.append(f"note: {df.attrs['note']}")
    a = df.attrs
    lines.append(
        f"raster: {a['raster']}  band {a['band']} ({a['band_description'] or 'no description'})"
        f"  {'categorical' if a['categorical'] else 'continuous'}  nodata {a['nodata']}"
    )
    lines.append(f"zones: {a['zone_layer']} ({a['zones']})  crs: {a['crs']}")
    lines.append(f"reprojection: {a['reprojection']}")
    if a.get("area_method"):
        lines.append(f"area_m2: {a['area_method']}")
    if a["zones_without_cells"]:
        missing = [str(z) for z in a["zones_without_cells"]]
        more = " …" if len(missing) > 10 else ""
        lines.append(f"zones without cells: {', '.join(missing[:10])}{more}")
    lines.append("")
    lines.append(format_table(list(df.columns), [_row(r) for r in df.itertuples(index=False)]))
    return "\n".join(lines) + "\n"


def _row(values: tuple) -> list[object]:
    out: list[object] = []
    for v in values:
        if isinstance(v, float):
            out.append("" if math.isnan(v) else f"{v:,.4f}".rstrip("0").rstrip("."))
        else:
            out.append(v)
    return out
