"""``zoning screen``: screen project sites against the layers and the access-list rules."""

from __future__ import annotations

import click

from .errors import OneLineCommand, handle_errors
from .options import fail_on_option, scale_options, screening_options
from .render import console_summary
from .run import echo_in_force, exit_for, report_rejected, report_written, run_screening


@click.command("screen", cls=OneLineCommand)
@click.argument("sites", required=False, metavar="[SITES]")
@screening_options
@fail_on_option(
    "Exit 1 when any site is LEVEL or worse (conditional, restricted, unknown, "
    "prohibited; in that order of severity)."
)
@click.option(
    "--diff-as-of",
    metavar="YYYY-MM-DD",
    default=None,
    help="Also screen as of this date and compare: with --as-of D1 and --out DIR, writes "
    "DIR/as_of_D1/, DIR/as_of_D2/ and their diff (diff.csv, diff.html; see zoning diff).",
)
@scale_options
@click.pass_context
@handle_errors
def screen_cmd(
    ctx: click.Context,
    sites: str | None,
    fail_on: str | None,
    diff_as_of: str | None = None,
    chunk_size: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    **options,
) -> None:
    """Screen project sites against the zoning layers and the access-list rules.

    SITES is a file: GeoJSON (also as exported by a web map's draw tool), GeoPackage,
    Shapefile (or .zip), KML, or CSV or Excel workbook (.xlsx; --sheet NAME) with lon/lat, x/y
    or WKT columns. Or give --wkt / --point.
    Coordinates without a CRS of their own (CSV columns, --point, --wkt) need --crs:
    EPSG:4326 for GPS/WGS84, gcj02 for Amap/Tencent, bd09 for Baidu; GeoJSON is WGS84.
    Project attributes come from the file's columns (id, name, industry, nature, linear,
    wastewater, air, hazardous, two_high, key_project, residential_building, noise,
    discharge, red_line_activity, facility, or 编号, 项目名称, 行业代码, 建设性质, 排放去向,
    设施 ...) or from the options, which apply to every site. wastewater means the project
    produces waste water; discharge says where it goes. Line sites are linear unless declared
    otherwise; 两高 is derived from the industry code unless declared.

    Prints a summary. With --out DIR writes sites.csv, hits.csv, clauses.csv, screening.gpkg,
    screening.json, report/index.html (a page per site) and report/map.html (the
    interactive map), all or nothing. With --out postgresql://...?schema=NAME appends the
    screening as one run to PostGIS (tables runs, sites, hits, clauses, provenance).

    Big inputs run in chunks (--chunk-size N, default 100,000; a CSV or Parquet file of more
    than 1,000,000 sites is chunked when the output is Parquet): memory stays bounded and the
    results are appended to sites.parquet, hits.parquet, clauses.parquet and codes.parquet.
    --workers N screens the chunks on N local processes, --scheduler tcp://HOST:PORT on a
    dask.distributed cluster (its workers read the same catalog and index-cache paths).

    Exit codes: 0 done; 1 --fail-on met, or rows set aside (--on-row-error report); 2 usage
    or input error (nothing written).
    """
    from .chunked import screen_in_chunks, wants_chunks

    source = ctx.get_parameter_source("formats")
    format_given = source is not None and source.name != "DEFAULT"
    if wants_chunks(
        sites,
        workers=workers,
        scheduler=scheduler,
        chunk_size=chunk_size,
        formats=options["formats"] if format_given else None,
    ):
        if diff_as_of is not None:
            raise click.UsageError("--diff-as-of is not for a run in chunks")
        screen_in_chunks(
            sites,
            options,
            workers=workers,
            scheduler=scheduler,
            chunk_size=chunk_size,
            fail_on=fail_on,
            format_given=format_given,
        )
        return
    if diff_as_of is not None:
        from ..io.postgis import is_database_url
        from .diff import screen_diff_as_of

        if is_database_url(options.get("out_dir")):
            raise click.UsageError("--diff-as-of writes folders; --out postgresql:// is not for it")

        for result in screen_diff_as_of(sites, diff_as_of, options):
            exit_for(result, fail_on)
        return
    result, written = run_screening(sites=sites, **options)
    click.echo(console_summary(result, lang=options["lang"]), nl=False)
    echo_in_force(result)
    report_written(options["out_dir"], written)
    report_rejected(result, options["out_dir"])
    exit_for(result, fail_on)
