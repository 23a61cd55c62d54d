"""The named options the commands share (the ``rio`` way): each a click decorator.

A command stacks the groups it takes; each group keeps its options in the order ``--help``
lists them.  Option names, defaults, metavars and help texts are part of the command line's
interface: change them here, once.

- :func:`catalog_options`: ``--catalog`` and ``--layer`` (every command that reads layers);
- :func:`screening_options`: what ``zoning screen`` and ``zoning compare`` share, made of
  :func:`sites_options`, :func:`table_io_options`, :func:`project_options`, :func:`rules_options`,
  :func:`output_options` and :func:`run_options`;
- :func:`site_options`: the public site of ``zoning publish`` (language, basemap, offline);
- :func:`basemap_option`, :func:`tianditu_key_option`, :func:`offline_option`: the map options,
  each command with its own help text;
- :func:`index_cache_option`: ``--index-cache`` (screen, compare, serve, index);
- :func:`configure_logging`: ``-v`` / ``-q`` mapped to the log level.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import click

from ..schema import FACILITIES

__all__ = [
    "BASEMAP_CHOICES",
    "FAIL_ON_LEVELS",
    "PROGRESS_MIN_SITES",
    "basemap_option",
    "catalog_options",
    "configure_logging",
    "fail_on_option",
    "index_cache_option",
    "non_empty_path",
    "offline_option",
    "output_options",
    "project_options",
    "rules_options",
    "run_options",
    "scale_options",
    "screening_options",
    "site_options",
    "sites_options",
    "table_io_options",
    "tianditu_key_option",
]

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

#: The basemaps a command offers (see :data:`zoning.webmap.BASEMAPS`).
BASEMAP_CHOICES = ("osm", "carto", "gaode", "tianditu", "none")
#: Verdict levels ``--fail-on`` accepts, least severe first.
FAIL_ON_LEVELS = ("conditional", "restricted", "unknown", "prohibited")
#: ``--progress`` is on by default (on a terminal) from this many sites.
PROGRESS_MIN_SITES = 1000
_UNDECLARED = "from the input's columns, else undeclared"
_FLAG_OPTIONS = (
    (
        "linear",
        "linear infrastructure (pipeline, road, power line ...)",
        "from the input's columns, else yes for line sites and undeclared for points and polygons",
    ),
    ("wastewater", "produces waste water (where it goes: --discharge)", _UNDECLARED),
    ("air", "emits air pollutants", _UNDECLARED),
    ("hazardous", "stores or uses hazardous chemicals", _UNDECLARED),
    (
        "two-high",
        '"两高" (high energy use, high emission)',
        "from the input's columns, else derived from the industry code",
    ),
    ("key-project", "a key project (重大建设项目 listed in 自然资规〔2018〕3号)", _UNDECLARED),
    (
        "residential-building",
        "catering in a residential or mixed residential building",
        _UNDECLARED,
    ),
    ("noise", "emits industrial noise", _UNDECLARED),
)


def configure_logging(verbose: int, quiet: int) -> None:
    """Set the log level from ``-v`` / ``-q`` counts (WARNING by default, DEBUG at most).

    Parameters
    ----------
    verbose, quiet : int
        How often ``-v`` and ``-q`` were given; each moves the level by one step.
    """
    level = logging.WARNING - 10 * verbose + 10 * quiet
    logging.basicConfig(
        level=max(level, logging.DEBUG), format="%(levelname)s %(name)s: %(message)s"
    )


def _stack(options: list[Decorator]) -> Decorator:
    """One decorator applying ``options`` so that ``--help`` lists them in the given order."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        for opt in reversed(options):
            func = opt(func)
        return func

    return decorate


def _network_conflict(ctx: click.Context, key: str, value: bool) -> None:
    """Record ``--offline`` / ``--allow-network``; both together is a usage error."""
    ctx.meta[key] = value
    if ctx.meta.get("zoning.offline") and ctx.meta.get("zoning.allow_network"):
        raise click.UsageError("--offline and --allow-network exclude each other", ctx=ctx)


def _network_callback(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """``--allow-network``: allow the network for this command only."""
    from ..io.guard import set_network_allowed

    _network_conflict(ctx, "zoning.allow_network", bool(value))
    previous = set_network_allowed(bool(value))
    ctx.call_on_close(lambda: set_network_allowed(previous))


def _encoding_callback(ctx: click.Context, param: click.Parameter, value: str | None):
    """``--encoding``: a codec Python knows, checked before any work."""
    from ..catalog import check_encoding

    if value is None:
        return None
    try:
        return check_encoding(value)
    except ValueError as exc:
        raise click.UsageError(f"--encoding: {exc}", ctx=ctx) from None


def non_empty_path(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Click callback of every ``--out``: an empty path is a usage error.

    An empty ``--out ''`` would otherwise mean the current folder, a place the user did not
    name.

    Parameters
    ----------
    ctx : click.Context
    param : click.Parameter
        The option (its first name is quoted in the error).
    value : str or None
        The path given, or None when the option is absent.

    Returns
    -------
    str or None
        ``value`` unchanged.

    Raises
    ------
    click.UsageError
        For a path that is empty or only blanks.
    """
    if value is not None and not str(value).strip():
        raise click.UsageError(f"{param.opts[0]}: empty path; name a file or folder", ctx=ctx)
    return value


def _offline_callback(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    """``--offline``: passed on to the command, and checked against ``--allow-network``."""
    _network_conflict(ctx, "zoning.offline", bool(value))
    return value


def catalog_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--catalog PATH``, repeatable ``--layer KIND=PATH`` and ``--allow-network``.

    Parameters
    ----------
    func : callable
        The command; it receives ``catalog_path`` and ``layer_specs``
        (``--allow-network`` switches :func:`zoning.io.set_network_allowed` for the run).

    Returns
    -------
    callable
    """
    func = click.option(
        "--allow-network",
        is_flag=True,
        expose_value=False,
        callback=_network_callback,
        help="Let catalog layers with remote sources (https://..., /vsicurl/...) be fetched. "
        "Without it no command makes any network request; not with --offline.",
    )(func)
    func = click.option(
        "--layer",
        "layer_specs",
        multiple=True,
        metavar="KIND=PATH",
        help="Add a layer file ad hoc (repeatable); it replaces the catalog's layers of that kind.",
    )(func)
    func = click.option(
        "--catalog",
        "catalog_path",
        type=click.Path(dir_okay=False),
        default=None,
        help="Layer catalog (YAML). Default: the bundled Shanghai demonstration catalog.",
    )(func)
    return func


def index_cache_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--index-cache DIR``: where prepared layers and indexes persist (``off``: nowhere).

    Parameters
    ----------
    func : callable
        The command; it receives ``index_cache`` (None when not given: the
        ``ZONING_INDEX_CACHE`` environment variable, else the user cache folder;
        :func:`zoning.io.cachedir.resolve_index_cache`).

    Returns
    -------
    callable
    """
    return click.option(
        "--index-cache",
        "index_cache",
        default=None,
        metavar="DIR|off",
        help="Folder where layers as read and their indexes are kept between runs (default: "
        "$ZONING_INDEX_CACHE, else the user cache folder); 'off': no cache.",
    )(func)


#: The docstring of an option factory made by :func:`_help_option`.
_HELP_OPTION_DOC = """{summary}

    Parameters
    ----------
    help : str
        {help}

    Returns
    -------
    callable
        A click option decorator.
    """
#: What ``help`` is for the map options.
_PAGES_HELP = "The option's help text (each command says what the option does to its pages)."


def _help_option(
    name: str, summary: str, help_doc: str, *decls: str, **attrs: Any
) -> Callable[[str], Decorator]:
    """An option factory ``name(help)``: the option ``decls`` / ``attrs`` with each command's
    help text, documented by ``summary`` and ``help_doc`` (what ``help`` says)."""

    def option(help: str) -> Decorator:
        return click.option(*decls, help=help, **attrs)

    option.__name__ = option.__qualname__ = name
    option.__doc__ = _HELP_OPTION_DOC.format(summary=summary, help=help_doc)
    return option


basemap_option = _help_option(
    "basemap_option",
    "``--basemap`` (one of :data:`BASEMAP_CHOICES`, default ``osm``) with the given help.",
    _PAGES_HELP,
    "--basemap",
    type=click.Choice(BASEMAP_CHOICES),
    default="osm",
    show_default=True,
)
fail_on_option = _help_option(
    "fail_on_option",
    "``--fail-on LEVEL`` (one of :data:`FAIL_ON_LEVELS`, no default) with the given help.",
    "What exit code 1 means for the command.",
    "--fail-on",
    type=click.Choice(FAIL_ON_LEVELS),
    default=None,
    metavar="LEVEL",
)
tianditu_key_option = _help_option(
    "tianditu_key_option",
    "``--tianditu-key KEY`` with the given help (where the key ends up differs per command).",
    _PAGES_HELP,
    "--tianditu-key",
    default=None,
    metavar="KEY",
)
offline_option = _help_option(
    "offline_option",
    "The ``--offline`` flag with the given help.",
    _PAGES_HELP,
    "--offline",
    is_flag=True,
    callback=_offline_callback,
)


#: The project sites and how to read them (``sites_options``).
sites_options: Decorator = _stack(
    [
        click.option(
            "--wkt",
            "wkt",
            multiple=True,
            metavar="WKT",
            help="A site as WKT (repeatable; needs --crs).",
        ),
        click.option(
            "--point",
            "points",
            multiple=True,
            metavar="LON,LAT",
            help="A point site (repeatable); needs --crs: EPSG:4326 for GPS/WGS84, gcj02 for "
            "Amap/Tencent, bd09 for Baidu.",
        ),
        click.option(
            "--crs",
            default=None,
            metavar="CRS",
            help="CRS of the sites' coordinates, required when the input has none (lon/lat or "
            "x/y columns, --point, --wkt): EPSG:4326 for GPS/WGS84, gcj02 for coordinates "
            "copied from Amap/Tencent, bd09 for Baidu; also e.g. EPSG:4490, 4549. No CRS and "
            "none declared is an error. GeoJSON is WGS84 (RFC 7946) and needs none.",
        ),
        click.option("--layer-name", default=None, help="Layer inside a multi-layer sites file."),
        click.option(
            "--dxf-layer",
            default=None,
            metavar="NAME",
            help="The layer of a DXF site plan holding the red line (用地红线); needed when closed "
            "boundaries lie on several layers.",
        ),
        click.option("--id-field", default=None, metavar="F", help="Column holding the site id."),
        click.option(
            "--name-field", default=None, metavar="F", help="Column holding the site name."
        ),
        click.option(
            "--encoding",
            default=None,
            callback=_encoding_callback,
            help="Text encoding of a CSV or a Shapefile without .cpg (default: UTF-8 or "
            "GB18030, detected).",
        ),
    ]
)


def _csv_encoding_callback(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """``--csv-encoding``: one of the encodings the CSV files can be written in."""
    from ..errors import ZoningError
    from ..tables import check_csv_encoding

    try:
        return check_csv_encoding(value)
    except ZoningError:
        raise click.UsageError(
            f"--csv-encoding {value!r}: choose utf-8-sig, utf-8 or gbk", ctx=ctx
        ) from None


#: Workbooks in, rows with input errors, CSV out (``table_io_options``): the sheet read, what a
#: row that does not parse does, and the CSV files' encoding.
table_io_options: Decorator = _stack(
    [
        click.option(
            "--sheet",
            default=None,
            metavar="NAME",
            help="The sheet of an Excel workbook (.xlsx) to read (default: the first sheet with "
            "content; title rows above the header are skipped).",
        ),
        click.option(
            "--on-row-error",
            type=click.Choice(["fail", "report"]),
            default="fail",
            show_default=True,
            help="A row that does not parse (bad coordinate, industry code, flag, geometry "
            "...): fail stops with its error (exit 2); report sets it aside with its message, "
            "screens the others, lists the rows set aside in rejected.csv and marks them in "
            "screening.xlsx (exit 1 when any was).",
        ),
        click.option(
            "--csv-encoding",
            default="utf-8-sig",
            show_default=True,
            callback=_csv_encoding_callback,
            metavar="utf-8-sig|utf-8|gbk",
            help="Encoding of the CSV files: utf-8-sig (UTF-8 with a byte-order mark, which "
            "Excel on Chinese Windows opens), utf-8, or gbk (a character GBK cannot encode is "
            "an error naming the file, row and column).",
        ),
    ]
)

#: The project's attributes, applied to every site (``project_options``).
project_options: Decorator = _stack(
    [
        click.option(
            "--industry",
            default=None,
            metavar="CODE",
            help="GB/T 4754-2017 industry code of every site, e.g. C2614 or 2614.",
        ),
        click.option(
            "--nature",
            default=None,
            metavar="new|expansion|rebuild|relocation",
            help="Project nature of every site (also 新建/扩建/改建/迁建, 改扩建, 技改/技术改造, "
            "搬迁 ...: the table in the README).",
        ),
        *(
            click.option(
                f"--{name}/--no-{name}",
                name.replace("-", "_"),
                default=None,
                help=f"Every site: {text} (default: {default}).",
            )
            for name, text, default in _FLAG_OPTIONS
        ),
        click.option(
            "--discharge",
            default=None,
            metavar="none|sewer|direct",
            help="Every site: where its waste water goes: none, sewer (to a treatment plant "
            "outside the zone) or direct (an outfall in or into the zone); also 无/纳管/直排, "
            f"here or in a discharge (排放去向) column (default: {_UNDECLARED}).",
        ),
        click.option(
            "--red-line-activity",
            default=None,
            metavar="none|1..10",
            help="Every site: the limited human activity of 自然资发〔2022〕142号 (1-10) the "
            f"project claims in the ecological red line, or none (default: {_UNDECLARED}).",
        ),
        click.option(
            "--facility",
            multiple=True,
            metavar="CODE",
            help=f"Every site: a facility it has, repeatable ({', '.join(FACILITIES)}, or their "
            f"Chinese names such as 排污口, 尾矿库), or none (default: {_UNDECLARED}).",
        ),
    ]
)


def _out_crs_callback(ctx: click.Context, param: click.Parameter, value: str | None):
    """``--out-crs``: checked before anything is read (one line naming the option)."""
    if value is None:
        return None
    from ..errors import ZoningError
    from ..tables import check_out_crs

    try:
        return check_out_crs(value, "")
    except ZoningError as exc:
        raise click.BadParameter(str(exc).strip()) from None


def _as_of_callback(ctx: click.Context, param: click.Parameter, value: str | None):
    """``--as-of``: a ``YYYY-MM-DD`` day (kept as text; None: today in Asia/Shanghai)."""
    from ..dates import parse_date

    if value is None:
        return None
    try:
        return parse_date(value).isoformat()
    except ValueError as exc:
        raise click.BadParameter(f"{exc} (e.g. 2026-04-01)") from None


#: The rule set, the day and how far to look (``rules_options``).
rules_options: Decorator = _stack(
    [
        click.option(
            "--rules",
            "rules_path",
            type=click.Path(dir_okay=False),
            default=None,
            help="Rule set (YAML). Default: the bundled demonstration rule set.",
        ),
        click.option(
            "--as-of",
            "as_of",
            default=None,
            callback=_as_of_callback,
            metavar="YYYY-MM-DD",
            help="Screen as of this day: only the documents, rules and layer vintages in force "
            "that day apply (default: today in Asia/Shanghai).",
        ),
        click.option(
            "--search-radius",
            type=click.FloatRange(min=0),
            default=None,
            metavar="M",
            help="How far to look for nearby features, metres (default: 1000 m or, if larger, "
            "the farthest rule distance plus its layer's tolerance: 1,200 m on the demo "
            "catalog; layers with declared buffer rings are searched to their outermost ring). "
            "0: containment only — no nearby features or distances (the layers' boundary "
            "flags are still decided), and rules that need a distance give unknown.",
        ),
    ]
)

#: What a screening writes: folder, formats, language and the report's map
#: (``output_options``).
output_options: Decorator = _stack(
    [
        click.option(
            "--out",
            "out_dir",
            type=click.Path(file_okay=False),
            default=None,
            callback=non_empty_path,
            metavar="DIR",
            help="Write the results into DIR, or append them as a run to a PostGIS database "
            "(postgresql://...[?schema=NAME]: tables runs, sites, hits, clauses, provenance). "
            "Without it only the console summary is printed.",
        ),
        click.option(
            "--format",
            "formats",
            default=None,
            show_default="csv,gpkg,json,html; parquet above 100,000 sites",
            metavar="LIST",
            help="Comma-separated outputs to write with --out: csv, parquet (GeoParquet "
            "sites.parquet, hits.parquet, clauses.parquet, codes.parquet), gpkg, json, html, "
            "and the documents pdf (screening.pdf and one PDF per site in pdf/), docx (Word) "
            "and xlsx (Excel workbook); the documents need the documents extra.",
        ),
        click.option(
            "--out-crs",
            "out_crs",
            default=None,
            callback=_out_crs_callback,
            metavar="EPSG:CODE",
            help="CRS of screening.gpkg: EPSG:4326 (default), EPSG:4490 (CGCS2000) or a "
            "CGCS2000 Gauss-Krüger code EPSG:4491-4554 (e.g. EPSG:4528 zone 40, EPSG:4549 "
            "CM 120°E). The CSVs keep lon/lat in WGS84.",
        ),
        click.option(
            "--lang",
            type=click.Choice(["zh", "en", "both"]),
            default="both",
            show_default=True,
            help="Language of the report and the console summary.",
        ),
        offline_option(
            "The report's map (report/map.html) opens on its built-in vector basemap and "
            "requests no tiles: the pages load nothing from the network (archived evidence)."
        ),
        basemap_option(
            "Tile basemap of the report's map; gaode shifts the overlays to GCJ-02 to match "
            "its tiles (the map says so); tianditu needs --tianditu-key or $TIANDITU_KEY."
        ),
        tianditu_key_option(
            "Your Tianditu key (for --basemap tianditu; default: $TIANDITU_KEY). It is "
            "written into the report's map page, readable by anyone who opens it: use a browser "
            "key restricted to where the report is served."
        ),
    ]
)

#: How a screening runs: geometry it builds, layer failures, progress (``run_options``).
run_options: Decorator = _stack(
    [
        click.option(
            "--no-pieces",
            is_flag=True,
            help="Do not build overlap-piece geometries (huge runs).",
        ),
        click.option(
            "--no-rings", is_flag=True, help="Do not build buffer-ring geometries (huge runs)."
        ),
        click.option(
            "--on-layer-error",
            type=click.Choice(["fail", "unknown"]),
            default="fail",
            show_default=True,
            help="A catalog layer that fails to load (missing or unreadable file, bad CRS): fail "
            "stops with its error (exit 2); unknown goes on without it, the rules that need it "
            "give unknown, and the failure is in the notes, the report and the provenance.",
        ),
        click.option(
            "--progress/--no-progress",
            default=None,
            help=f"Progress on stderr (default: on a terminal, from {PROGRESS_MIN_SITES:,} sites).",
        ),
    ]
)


def screening_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The options ``zoning screen`` and ``zoning compare`` share (after ``SITES``).

    :func:`catalog_options`, :func:`sites_options`, :func:`table_io_options`,
    :func:`project_options`, :func:`rules_options`, :func:`output_options`,
    :func:`run_options` and :func:`index_cache_option`, in that order;
    :meth:`zoning.cli.run.ScreeningRequest.from_options` turns them into the request.

    Parameters
    ----------
    func : callable
        The command.

    Returns
    -------
    callable
    """
    return _stack(
        [
            catalog_options,
            sites_options,
            table_io_options,
            project_options,
            rules_options,
            output_options,
            run_options,
            index_cache_option,
        ]
    )(func)


#: The public site of ``zoning publish``: its language, maps and folder (``site_options``).
site_options: Decorator = _stack(
    [
        click.option(
            "--lang",
            type=click.Choice(["zh", "en"]),
            default="zh",
            show_default=True,
            help="Language of the pages at the top of the site; the other one is under en/ "
            "(or zh/).",
        ),
        basemap_option(
            "Map tiles; gaode shifts the overlays to GCJ-02; none: only the vector basemap."
        ),
        tianditu_key_option(
            "Key for --basemap tianditu (default: the TIANDITU_KEY environment variable).  The "
            "key is written into every map page's tile URLs, readable by anyone who visits the "
            "site: use a browser key restricted to the site's domain."
        ),
        offline_option(
            "Maps show only the built-in vector basemap (no tiles offered): no page makes any "
            "network request (each page's Content-Security-Policy forbids them)."
        ),
        click.option(
            "--out",
            "out_option",
            type=click.Path(),
            default=None,
            callback=non_empty_path,
            metavar="OUT_DIR",
            help="The site folder (the same as the OUT_DIR argument).",
        ),
    ]
)


def _positive(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    if value is not None and value < 1:
        raise click.BadParameter(f"must be at least 1, not {value}")
    return value


#: A run in chunks, here or on dask.distributed (``zoning screen`` only).
scale_options: Decorator = _stack(
    [
        click.option(
            "--chunk-size",
            type=int,
            default=None,
            callback=_positive,
            metavar="N",
            help="Read, screen and write the sites N at a time (default 100,000; a CSV or "
            "Parquet input of more than 1,000,000 sites is screened in chunks anyway unless "
            "another --format than parquet is asked for): memory stays bounded, results are "
            "appended to Parquet.",
        ),
        click.option(
            "--workers",
            type=int,
            default=None,
            callback=_positive,
            metavar="N",
            help="Screen the chunks on N local worker processes (dask.distributed; the "
            "distributed extra).",
        ),
        click.option(
            "--scheduler",
            default=None,
            metavar="URL",
            help="Screen the chunks on an existing dask.distributed cluster (tcp://HOST:PORT); "
            "its workers must read the catalog, layer and index-cache paths given here.",
        ),
    ]
)
