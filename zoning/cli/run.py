"""Shared pieces of the command line: error handling, catalog options, logging."""

from __future__ import annotations

import functools
import logging
import re
import sys
from collections.abc import Callable
from typing import Any

import click

from ..errors import ZoningError

#: Exit codes used by every command.
EXIT_OK, EXIT_CHECK_FAILED, EXIT_INPUT_ERROR = 0, 1, 2


def fail(message: str) -> None:
    """Print a one-line error to stderr and exit with code 2."""
    click.echo(f"zoning: error: {' '.join(str(message).split())}", err=True)
    sys.exit(EXIT_INPUT_ERROR)


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn every ZoningError (and OS errors on user paths) into one line and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ZoningError as exc:
            fail(str(exc))
        except BrokenPipeError:
            # The reader went away (``zoning ... | head``): no message, the shell's SIGPIPE code.
            import os

            try:  # Python would complain again when it flushes stdout at exit
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            except (OSError, ValueError):
                pass
            sys.exit(141)
        except OSError as exc:
            fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))
        except click.exceptions.ClickException:
            raise
        except Exception as exc:
            # A bug must not look like a failed check (exit 1) nor spill a traceback on users.
            logging.getLogger("zoning").debug("internal error", exc_info=True)
            fail(
                f"internal error: {type(exc).__name__}: {exc} (please report it; -vv shows details)"
            )

    return wrapper


def configure_logging(verbose: int, quiet: int) -> None:
    level = logging.WARNING - 10 * verbose + 10 * quiet
    logging.basicConfig(
        level=max(level, logging.DEBUG), format="%(levelname)s %(name)s: %(message)s"
    )


def catalog_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--catalog PATH`` and repeatable ``--layer KIND=PATH``."""
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


def _width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def format_table(headers: list[str], rows: list[list[object]]) -> str:
    """Align rows under headers (CJK characters count double), for terminal output."""
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([_width(h)] + [_width(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(values: list[str]) -> str:
        return "  ".join(
            v + " " * (w - _width(v)) for v, w in zip(values, widths, strict=True)
        ).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def load_layers(catalog_path: str | None, layer_specs: tuple[str, ...]):
    """Load the catalog named by ``--catalog`` plus ``--layer`` files."""
    from ..layerset import load_catalog

    return load_catalog(catalog_path, layers=list(layer_specs))


DEMO_BANNER = (
    "DEMONSTRATION DATA — not the official ecological protection red line or control units "
    "(演示数据，非官方生态保护红线)"
)


# --------------------------------------------------------------------------- screen / compare


class InputError(click.ClickException):
    """A usage or input error shown as one line on stderr, exit code 2."""

    exit_code = EXIT_INPUT_ERROR

    def show(self, file: Any = None) -> None:
        click.echo(f"zoning: error: {' '.join(self.format_message().split())}", err=True)


class OneLineCommand(click.Command):
    """A command whose usage errors (bad option value, unknown option) are one line, exit 2."""

    def make_context(self, info_name, args, parent=None, **extra):  # type: ignore[override]
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as exc:
            raise InputError(exc.format_message()) from None


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
    ("wastewater", "discharges waste water", _UNDECLARED),
    ("air", "emits air pollutants", _UNDECLARED),
    ("hazardous", "stores or uses hazardous chemicals", _UNDECLARED),
    (
        "two-high",
        '"两高" (high energy use, high emission)',
        "from the input's columns, else derived from the industry code",
    ),
)


def screening_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The options ``zoning screen`` and ``zoning compare`` share (after ``SITES``)."""
    opts = [
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
        click.option("--id-field", default=None, metavar="F", help="Column holding the site id."),
        click.option(
            "--name-field", default=None, metavar="F", help="Column holding the site name."
        ),
        click.option(
            "--encoding",
            default=None,
            help="Text encoding of a CSV or a Shapefile without .cpg (default: UTF-8 or "
            "GB18030, detected).",
        ),
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
            help="Project nature of every site (also 新建/扩建/改建/迁建).",
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
            "--rules",
            "rules_path",
            type=click.Path(dir_okay=False),
            default=None,
            help="Rule set (YAML). Default: the bundled demonstration rule set.",
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
        click.option(
            "--out",
            "out_dir",
            type=click.Path(file_okay=False),
            default=None,
            metavar="DIR",
            help="Write the results into DIR. Without it only the console summary is printed.",
        ),
        click.option(
            "--format",
            "formats",
            default="csv,gpkg,json,html",
            show_default=True,
            metavar="LIST",
            help="Comma-separated outputs to write with --out: csv, gpkg, json, html.",
        ),
        click.option(
            "--lang",
            type=click.Choice(["zh", "en", "both"]),
            default="both",
            show_default=True,
            help="Language of the report and the console summary.",
        ),
        click.option(
            "--offline",
            is_flag=True,
            help="The report's map (report/map.html) opens on its built-in vector basemap and "
            "requests no tiles: the pages load nothing from the network (archived evidence).",
        ),
        click.option(
            "--basemap",
            type=click.Choice(["osm", "carto", "gaode", "tianditu", "none"]),
            default="osm",
            show_default=True,
            help="Tile basemap of the report's map; gaode shifts the overlays to GCJ-02 to match "
            "its tiles (the map says so); tianditu needs --tianditu-key or $TIANDITU_KEY.",
        ),
        click.option(
            "--tianditu-key",
            default=None,
            metavar="KEY",
            help="Your Tianditu key (for --basemap tianditu; default: $TIANDITU_KEY). It is "
            "written into the report's map page, readable by anyone who opens it: use a browser "
            "key restricted to where the report is served.",
        ),
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
    for opt in reversed(opts):
        func = opt(func)
    return catalog_options(func)


def parse_formats(text: str) -> list[str]:
    """``"csv, json"`` -> ``["csv", "json"]``; unknown or no formats are an input error."""
    from ..screening import FORMATS

    formats = list(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        what = f"unknown format(s) {', '.join(bad)}" if bad else "no format given"
        fail(f"--format {text!r}: {what} (choose from {', '.join(FORMATS)})")
    return formats


def check_out_dir(out_dir: str) -> None:
    """Fail early (before any work) when ``--out`` cannot be a folder we can write in."""
    import os
    from pathlib import Path

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        fail(f"--out {out_dir}: exists and is not a folder")
    p = out
    while not p.exists():
        if p.parent == p:
            break
        p = p.parent
    if not p.is_dir():
        fail(f"--out {out_dir}: {p} is not a folder")
    if not os.access(p, os.W_OK | os.X_OK):
        fail(f"--out {out_dir}: cannot write in {p} (permission denied)")


class Progress:
    """The ``progress(stage, step, total)`` callback of :func:`zoning.screen`, on stderr.

    A bar on a terminal, one line per stage otherwise.  Call :meth:`close` before printing
    anything else.
    """

    def __init__(self) -> None:
        self.stream = sys.stderr
        self.tty = self.stream.isatty()
        self.bar: Any = None

    def __call__(self, stage: str, step: int, total: int) -> None:
        if not self.tty:
            click.echo(f"zoning: {stage} ({step + 1}/{total})", err=True)
            return
        if self.bar is None:
            self.bar = click.progressbar(
                length=total,
                label="screening",
                file=self.stream,
                show_pos=True,
                item_show_func=lambda item: item,
            )
            self.bar.__enter__()
        self.bar.update(step - self.bar.pos, current_item=stage)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.update(self.bar.length - self.bar.pos)
            self.bar.__exit__(None, None, None)
            self.bar = None


def run_screening(
    *,
    sites: str | None,
    catalog_path: str | None,
    layer_specs: tuple[str, ...],
    wkt: tuple[str, ...],
    points: tuple[str, ...],
    crs: str | None,
    layer_name: str | None,
    id_field: str | None,
    name_field: str | None,
    encoding: str | None,
    industry: str | None,
    nature: str | None,
    linear: bool | None,
    wastewater: bool | None,
    air: bool | None,
    hazardous: bool | None,
    two_high: bool | None,
    rules_path: str | None,
    search_radius: float | None,
    out_dir: str | None,
    formats: str,
    lang: str,
    offline: bool = False,
    basemap: str = "osm",
    tianditu_key: str | None = None,
    no_pieces: bool,
    no_rings: bool,
    progress: bool | None,
    on_layer_error: str = "fail",
    min_sites: int = 1,
    compare: bool = False,
):
    """Everything ``zoning screen`` and ``zoning compare`` do before printing.

    Every input is read and checked before any work, and nothing is written unless the whole
    screening succeeded (:meth:`zoning.ScreeningResult.to_file` is all-or-nothing).

    Returns
    -------
    (ScreeningResult, dict of written paths)
    """
    from ..compare import compare_alternatives
    from ..crs import parse_crs
    from ..errors import SitesError
    from ..rules import load_rules
    from ..screening import screen
    from ..sites import load_sites

    given = [
        name for name, value in (("SITES", sites), ("--wkt", wkt), ("--point", points)) if value
    ]
    if len(given) != 1:
        fail(
            "give the sites as a file (SITES), --wkt or --point"
            + (f", not {' and '.join(given)} together" if given else "")
        )
    fmts = parse_formats(formats)
    if out_dir is not None:
        check_out_dir(out_dir)
    map_options = {"offline": offline, "basemap": basemap, "tianditu_key": tianditu_key}
    if out_dir is not None and "html" in fmts:
        # The report's map: a missing extra or a Tianditu key problem fails before any work.
        from .._optional import require

        require("folium")
        from ..webmap.basemaps import resolve_basemap

        resolve_basemap(basemap, tianditu_key=tianditu_key)
    if crs is not None:
        parse_crs(crs, what="--crs")
    layers = load_layers(catalog_path, layer_specs)
    rule_set = load_rules(rules_path)
    attributes = {
        "industry": industry,
        "nature": nature,
        "linear": linear,
        "wastewater": wastewater,
        "air": air,
        "hazardous": hazardous,
        "two_high": two_high,
    }
    attributes = {k: v for k, v in attributes.items() if v is not None}
    try:
        loaded = load_sites(
            sites or None,
            wkt=list(wkt) or None,
            points=list(points) or None,
            crs=crs,
            layer=layer_name,
            id_field=id_field,
            name_field=name_field,
            attributes=attributes or None,
            encoding=encoding,
        )
    except SitesError as exc:
        fail(_cli_words(str(exc)))
    if len(loaded) < min_sites:
        fail(
            f"{loaded.source}: {len(loaded)} site(s); compare needs at least {min_sites} "
            "alternatives (use zoning screen for one site)"
        )
    show = progress if progress is not None else (len(loaded) >= PROGRESS_MIN_SITES)
    bar = Progress() if show and (progress or sys.stderr.isatty()) else None
    run = compare_alternatives if compare else screen
    try:
        result = run(
            loaded,
            layers,
            rules=rule_set,
            search_radius_m=search_radius,
            pieces=not no_pieces,
            rings=not no_rings,
            on_layer_error="unknown" if on_layer_error == "unknown" else "raise",
            progress=bar,
        )
    finally:
        if bar is not None:
            bar.close()
    # The options recorded in the provenance are what the user gave, not the loaded object.
    result.provenance["options"].update(
        {
            "attributes": attributes,
            "id_field": id_field,
            "name_field": name_field,
            "layer": layer_name,
            "encoding": encoding,
            "crs": crs,
        }
    )
    written = (
        result.to_file(out_dir, fmts, lang=lang, map_options=map_options)
        if out_dir is not None
        else {}
    )
    return result, written


def _cli_words(message: str) -> str:
    """A sites error as the command line says it: options are ``--industry``, not keywords.

    ``option industry: ...`` -> ``--industry: ...``; ``the option industry='C2614'`` ->
    ``--industry 'C2614'``; ``the option linear=False`` -> ``--no-linear``; ``crs= / --crs`` ->
    ``--crs``; inline sites ``points: ...`` / ``point 2: ...`` -> ``--point: ...`` /
    ``--point 2: ...`` (and ``--wkt``).
    """

    def option(m: re.Match) -> str:
        name = m[1].replace("_", "-")
        value = m[2]
        if value in ("True", "False"):
            return f"--{'' if value == 'True' else 'no-'}{name}"
        return f"--{name} {value}"

    message = re.sub(r"^option (\w+):", lambda m: f"--{m[1].replace('_', '-')}:", message)
    message = re.sub(r"^(point|wkt)s?(:| \d)", r"--\1\2", message)  # inline sites
    message = re.sub(r"\bthe option (\w+)=('[^']*'|True|False)", option, message)
    return message.replace("crs= / --crs", "--crs").replace("wkt= / --wkt", "--wkt")


def report_written(out_dir: str | None, written: dict) -> None:
    """Say what was written, or that nothing was."""
    from pathlib import Path

    if out_dir is None:
        click.echo(
            "No files written (give --out DIR to write sites.csv, hits.csv, screening.gpkg, "
            "screening.json and the HTML report)."
        )
        return
    names = [Path(p).relative_to(Path(out_dir)).as_posix() for p in written.values()]
    report_map = Path(out_dir) / "report" / "map.html"
    if "html" in written and report_map.is_file():
        names.append("report/map.html")
    click.echo(f"Wrote into {out_dir}: {', '.join(names)}")


def exit_for(result, fail_on: str | None, *, best: bool = False) -> None:
    """Exit 1 when ``--fail-on LEVEL`` is met: by any site, or (``best``) by the best one."""
    from ..rules import SEVERITY

    if fail_on is None or not len(result.sites):
        return
    level = SEVERITY[fail_on]
    sev = result.sites["verdict"].map(SEVERITY)
    if best:
        if sev.min() >= level:
            click.echo(
                f"zoning: --fail-on {fail_on}: every alternative is {fail_on} or worse", err=True
            )
            sys.exit(EXIT_CHECK_FAILED)
        return
    n = int((sev >= level).sum())
    if n:
        click.echo(
            f"zoning: --fail-on {fail_on}: {n:,} site{'s' if n != 1 else ''} {fail_on} or worse",
            err=True,
        )
        sys.exit(EXIT_CHECK_FAILED)
