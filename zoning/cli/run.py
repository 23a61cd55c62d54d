"""What the commands run: loading the layers, and the screening of ``zoning screen`` / ``compare``.

The screening options travel as small frozen dataclasses built from the click options
(:class:`ScreeningRequest`: :class:`SitesInput`, :class:`ProjectAttributes`,
:class:`EngineOptions`, :class:`OutputOptions`); :func:`run_screening` checks every input,
then screens, then writes, as named steps.
"""

from __future__ import annotations

import re
import sys
from dataclasses import asdict, dataclass
from typing import Any

import click

from ..errors import quote
from ..io.postgis import is_database_url
from .errors import EXIT_CHECK_FAILED, fail
from .options import PROGRESS_MIN_SITES

__all__ = [
    "DEMO_BANNER",
    "EngineOptions",
    "OutputOptions",
    "Progress",
    "ProjectAttributes",
    "ScreeningRequest",
    "SitesInput",
    "check_out_dir",
    "echo_in_force",
    "exit_for",
    "large_run_formats",
    "load_layers",
    "parse_formats",
    "report_rejected",
    "report_written",
    "run_screening",
]


def load_layers(
    catalog_path: str | None,
    layer_specs: tuple[str, ...],
    *,
    as_of: str | None = None,
    index_cache: str | bool | None = False,
):
    """Load the catalog named by ``--catalog`` plus ``--layer`` files.

    Parameters
    ----------
    catalog_path : str, optional
        Default: the bundled demonstration catalog.
    layer_specs : tuple of str
        ``KIND=PATH`` specs; each replaces the catalog's layers of that kind.
    as_of : str, optional
        ``--as-of``: the day whose layers are seen (default today in Asia/Shanghai).
    index_cache : str, None or False
        ``--index-cache``: a folder or ``off``; None: ``ZONING_INDEX_CACHE``, else the user
        cache folder (:func:`zoning.io.cachedir.resolve_index_cache`); False (commands
        without the option): no cache.

    Returns
    -------
    LayerSet
    """
    from ..layerset import load_catalog

    cache = None
    if index_cache is not False:
        from ..io.cachedir import resolve_index_cache

        cache = resolve_index_cache(index_cache, background=True)
    return load_catalog(catalog_path, layers=list(layer_specs), as_of=as_of, index_cache=cache)


DEMO_BANNER = (
    "DEMONSTRATION DATA — not the official ecological protection red line or control units "
    "(演示数据，非官方生态保护红线)"
)


# --------------------------------------------------------------------------- screen / compare


#: What ``--format`` is when not given (for a run of up to
#: :data:`~zoning.screening.outputs.LARGE_RUN_SITES` sites).
DEFAULT_FORMAT_LIST = "csv,gpkg,json,html"


def large_run_formats(n_sites: int, given: str | None, out_dir: str | None) -> list[str] | None:
    """The formats of a large run when ``--format`` was not given, and say why (one line).

    Parameters
    ----------
    n_sites : int
        The sites read.
    given : str, optional
        The ``--format`` value (None: not given).
    out_dir : str, optional
        The ``--out`` folder (None or a database: nothing changes).

    Returns
    -------
    list of str or None
        :data:`~zoning.screening.outputs.LARGE_RUN_FORMATS` for more than
        :data:`~zoning.screening.outputs.LARGE_RUN_SITES` sites written into a folder
        without ``--format``; None otherwise (the formats stay as they were).
    """
    from ..screening.outputs import LARGE_RUN_FORMATS, LARGE_RUN_SITES

    if given is not None or out_dir is None or is_database_url(out_dir):
        return None
    if n_sites <= LARGE_RUN_SITES:
        return None
    click.echo(
        f"{n_sites:,} sites (more than {LARGE_RUN_SITES:,}): writing Parquet (sites.parquet, "
        "hits.parquet, clauses.parquet, codes.parquet), which is quicker and far smaller than "
        f"the default {DEFAULT_FORMAT_LIST} for so many sites; give --format csv (or any "
        "list) for others"
    )
    return list(LARGE_RUN_FORMATS)


def parse_formats(text: str) -> list[str]:
    """``"csv, json"`` -> ``["csv", "json"]``; unknown or no formats are an input error.

    Parameters
    ----------
    text : str
        The ``--format`` value.

    Returns
    -------
    list of str
        Lower-case, each once, in the given order.

    Raises
    ------
    SystemExit
        Exit 2 with one line (:func:`~zoning.cli.errors.fail`).
    """
    from ..screening import FORMATS

    formats = list(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        what = f"unknown format(s) {', '.join(bad)}" if bad else "no format given"
        fail(f"--format {quote(text)}: {what} (choose from {', '.join(FORMATS)})")
    from ..documents import check_dependencies

    check_dependencies(formats)  # before the screening: a missing extra is one line, exit 2
    return formats


def check_out_dir(out_dir: str) -> None:
    """Fail early (before any work) when ``--out`` cannot be a folder we can write in.

    Parameters
    ----------
    out_dir : str
        The ``--out`` folder; it need not exist (nothing is created here).

    Raises
    ------
    SystemExit
        Exit 2 with one line: a file, a file on the way, or no permission.
    """
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
        """Fill the bar to its end and close it; nothing to do without a bar."""
        if self.bar is not None:
            self.bar.update(self.bar.length - self.bar.pos)
            self.bar.__exit__(None, None, None)
            self.bar = None


@dataclass(frozen=True)
class SitesInput:
    """Where the sites come from (``SITES``, ``--wkt``, ``--point``) and how to read them.

    Attributes
    ----------
    sites : str, optional
        The sites file (``SITES``).
    wkt, points : tuple of str
        Inline sites (``--wkt``, ``--point``).
    crs, layer_name, id_field, name_field, encoding, dxf_layer : str, optional
        As the options of the same names.
    sheet : str, optional
        ``--sheet``: the sheet of a workbook.
    on_row_error : {"fail", "report"}
        ``--on-row-error``.
    """

    sites: str | None = None
    wkt: tuple[str, ...] = ()
    points: tuple[str, ...] = ()
    crs: str | None = None
    layer_name: str | None = None
    id_field: str | None = None
    name_field: str | None = None
    encoding: str | None = None
    dxf_layer: str | None = None
    sheet: str | None = None
    on_row_error: str = "fail"


@dataclass(frozen=True)
class ProjectAttributes:
    """The project's attributes given as options; they apply to every site.

    Attributes
    ----------
    industry, nature : str, optional
    linear, wastewater, air, hazardous, two_high : bool, optional
        None: from the input's columns (or derived), as the options' help says.
        ``wastewater``: the project produces waste water (``discharge`` says where it goes).
    key_project, residential_building, noise : bool, optional
    discharge, red_line_activity : str, optional
    facility : tuple of str
        ``--facility`` (repeatable); empty: from the input's columns.
    """

    industry: str | None = None
    nature: str | None = None
    linear: bool | None = None
    wastewater: bool | None = None
    air: bool | None = None
    hazardous: bool | None = None
    two_high: bool | None = None
    key_project: bool | None = None
    residential_building: bool | None = None
    noise: bool | None = None
    discharge: str | None = None
    red_line_activity: str | None = None
    facility: tuple[str, ...] = ()

    def given(self) -> dict[str, Any]:
        """The attributes the user gave (None and an empty --facility left out), in option order."""
        return {k: v for k, v in asdict(self).items() if v is not None and v != ()}


@dataclass(frozen=True)
class EngineOptions:
    """What is screened against and how: layers, rules, search radius, geometry, progress.

    Attributes
    ----------
    catalog_path : str, optional
    layer_specs : tuple of str
        ``--layer KIND=PATH`` options.
    rules_path : str, optional
    search_radius : float, optional
    no_pieces, no_rings : bool
    on_layer_error : {"fail", "unknown"}
    progress : bool, optional
        None: on a terminal, from :data:`~zoning.cli.options.PROGRESS_MIN_SITES` sites.
    as_of : str, optional
        ``--as-of YYYY-MM-DD``; None: today in Asia/Shanghai.
    index_cache : str, optional
        ``--index-cache``: a folder or ``off`` (None: the environment or the default).
    """

    catalog_path: str | None = None
    layer_specs: tuple[str, ...] = ()
    rules_path: str | None = None
    as_of: str | None = None
    search_radius: float | None = None
    no_pieces: bool = False
    no_rings: bool = False
    on_layer_error: str = "fail"
    progress: bool | None = None
    index_cache: str | None = None


@dataclass(frozen=True)
class OutputOptions:
    """What is written: the folder, the formats, the language and the report's map.

    Attributes
    ----------
    out_dir : str, optional
        None: only the console summary is printed.
    formats : str, optional
        Comma-separated (``--format``); None (not given): :data:`DEFAULT_FORMAT_LIST`, or
        Parquet for a run of more than
        :data:`~zoning.screening.outputs.LARGE_RUN_SITES` sites (:func:`large_run_formats`).
    lang : {"zh", "en", "both"}
    offline : bool
    basemap : str
    tianditu_key : str, optional
    out_crs : str, optional
        The CRS of ``screening.gpkg`` (``--out-crs``; None: EPSG:4326).
    csv_encoding : str
        ``--csv-encoding`` (default ``utf-8-sig``).
    """

    out_dir: str | None = None
    formats: str | None = None
    lang: str = "both"
    offline: bool = False
    basemap: str = "osm"
    tianditu_key: str | None = None
    out_crs: str | None = None
    csv_encoding: str = "utf-8-sig"

    def map_options(self) -> dict[str, Any]:
        """The options of the report's map (:meth:`zoning.ScreeningResult.to_file`)."""
        return {"offline": self.offline, "basemap": self.basemap, "tianditu_key": self.tianditu_key}


_GROUPS = {
    "sites": SitesInput,
    "attributes": ProjectAttributes,
    "engine": EngineOptions,
    "output": OutputOptions,
}


@dataclass(frozen=True)
class ScreeningRequest:
    """Everything ``zoning screen`` / ``zoning compare`` were asked to do.

    Attributes
    ----------
    sites : SitesInput
    attributes : ProjectAttributes
    engine : EngineOptions
    output : OutputOptions
    """

    sites: SitesInput
    attributes: ProjectAttributes
    engine: EngineOptions
    output: OutputOptions

    @classmethod
    def from_options(cls, **options: Any) -> ScreeningRequest:
        """Build the request from the click options (keyword names as the options' names).

        Raises
        ------
        TypeError
            An unknown option name.
        """
        parts: dict[str, dict[str, Any]] = {name: {} for name in _GROUPS}
        fields = {f: name for name, kind in _GROUPS.items() for f in kind.__dataclass_fields__}
        for key, value in options.items():
            if key not in fields:
                raise TypeError(f"run_screening() got an unexpected keyword argument {quote(key)}")
            parts[fields[key]][key] = value
        return cls(**{name: kind(**parts[name]) for name, kind in _GROUPS.items()})


def run_screening(
    request: ScreeningRequest | None = None,
    /,
    *,
    min_sites: int = 1,
    compare: bool = False,
    **options: Any,
):
    """Everything ``zoning screen`` and ``zoning compare`` do before printing.

    Every input is read and checked before any work, and nothing is written unless the whole
    screening succeeded (:meth:`zoning.ScreeningResult.to_file` is all-or-nothing).

    Parameters
    ----------
    request : ScreeningRequest, optional
        What to do.  Without it, the click options as keywords (``sites=...``,
        ``catalog_path=...``, ...) build it (:meth:`ScreeningRequest.from_options`).
    min_sites : int
        Fewer sites than this is an input error (``compare`` needs two).
    compare : bool
        Rank the sites as alternatives (:func:`zoning.compare.compare_alternatives`).
    **options
        The click options, when ``request`` is not given.

    Returns
    -------
    (ScreeningResult, dict of written paths)
    """
    if request is None:
        request = ScreeningRequest.from_options(**options)
    elif options:
        raise TypeError("run_screening() takes a request or the options, not both")
    fmts = _check_request(request)
    from ..dates import as_of_date

    as_of = as_of_date(request.engine.as_of, what="--as-of")
    engine = request.engine
    layers = load_layers(
        engine.catalog_path, engine.layer_specs, as_of=as_of, index_cache=engine.index_cache
    )
    from ..rules import load_rules

    rule_set = load_rules(request.engine.rules_path).in_force(as_of)
    loaded = _load_sites(request.sites, request.attributes, min_sites)
    fmts = large_run_formats(len(loaded), request.output.formats, request.output.out_dir) or fmts
    result = _screen(loaded, layers, rule_set, request.engine, compare)
    _record_options(result, request)
    out = request.output
    if is_database_url(out.out_dir):
        from ..database import write_screening

        return result, {"database": write_screening(result, out.out_dir)}
    written = (
        result.to_file(
            out.out_dir,
            fmts,
            lang=out.lang,
            map_options=out.map_options(),
            csv_encoding=out.csv_encoding,
            out_crs=out.out_crs,
        )
        if out.out_dir is not None
        else {}
    )
    if layers.index_cache is not None:
        layers.index_cache.flush()  # entries written in the background meanwhile
    return result, written


def _check_request(request: ScreeningRequest) -> list[str]:
    """Check what can be checked before reading anything; returns the formats to write."""
    from ..crs import parse_crs

    s, out = request.sites, request.output
    given = [
        name
        for name, value in (("SITES", s.sites), ("--wkt", s.wkt), ("--point", s.points))
        if value
    ]
    if len(given) != 1:
        fail(
            "give the sites as a file (SITES), --wkt or --point"
            + (f", not {' and '.join(given)} together" if given else "")
        )
    fmts = parse_formats(out.formats or DEFAULT_FORMAT_LIST)
    if is_database_url(out.out_dir):
        from ..database import check_database

        check_database(out.out_dir, "--out")  # a bad host or login fails before any work
        return fmts
    if out.out_dir is not None:
        check_out_dir(out.out_dir)
    if out.out_dir is not None and "html" in fmts:
        # The report's map: a missing extra or a Tianditu key problem fails before any work.
        from .._optional import require

        require("folium")
        from ..webmap.basemaps import resolve_basemap

        resolve_basemap(out.basemap, tianditu_key=out.tianditu_key)
    if s.crs is not None:
        parse_crs(s.crs, what="--crs")
    return fmts


def _load_sites(sites: SitesInput, attributes: ProjectAttributes, min_sites: int):
    """Read the sites (an error in the words of the command line); at least ``min_sites``."""
    from ..errors import SitesError
    from ..sites import load_sites

    given = attributes.given()
    try:
        loaded = load_sites(
            sites.sites or None,
            wkt=list(sites.wkt) or None,
            points=list(sites.points) or None,
            crs=sites.crs,
            layer=sites.layer_name,
            id_field=sites.id_field,
            name_field=sites.name_field,
            attributes=given or None,
            encoding=sites.encoding,
            dxf_layer=sites.dxf_layer,
            sheet=sites.sheet,
            on_row_error=sites.on_row_error,
        )
    except SitesError as exc:
        fail(_cli_words(str(exc)))
    if len(loaded) < min_sites:
        fail(
            f"{loaded.source}: {len(loaded)} site(s); compare needs at least {min_sites} "
            "alternatives (use zoning screen for one site)"
        )
    return loaded


def _screen(loaded, layers, rule_set, engine: EngineOptions, compare: bool):
    """Screen (or compare) the sites, with a progress display when asked or on a terminal."""
    from ..compare import compare_alternatives
    from ..screening import screen

    progress = engine.progress
    show = progress if progress is not None else (len(loaded) >= PROGRESS_MIN_SITES)
    bar = Progress() if show and (progress or sys.stderr.isatty()) else None
    run = compare_alternatives if compare else screen
    try:
        return run(
            loaded,
            layers,
            rules=rule_set,
            search_radius_m=engine.search_radius,
            pieces=not engine.no_pieces,
            rings=not engine.no_rings,
            on_layer_error="unknown" if engine.on_layer_error == "unknown" else "raise",
            progress=bar,
            as_of=rule_set.as_of,
        )
    finally:
        if bar is not None:
            bar.close()


def _record_options(result, request: ScreeningRequest) -> None:
    """Record in the provenance the options the user gave (not the loaded object's)."""
    s = request.sites
    result.provenance["options"].update(
        {
            "attributes": request.attributes.given(),
            "id_field": s.id_field,
            "name_field": s.name_field,
            "layer": s.layer_name,
            "encoding": s.encoding,
            "dxf_layer": s.dxf_layer,
            "crs": s.crs,
            "sheet": s.sheet,
            "on_row_error": s.on_row_error,
            "csv_encoding": request.output.csv_encoding,
        }
    )


def _cli_words(message: str) -> str:
    """A sites error as the command line says it: options are ``--industry``, not keywords.

    ``option industry: ...`` -> ``--industry: ...``; ``the option industry='C2614'`` ->
    ``--industry 'C2614'``; ``the option linear=False`` -> ``--no-linear``; ``crs= / --crs`` ->
    ``--crs``; inline sites ``points: ...`` / ``point 2: ...`` -> ``--point: ...`` /
    ``--point 2: ...`` (and ``--wkt``); ``sheet= / --sheet NAME`` -> ``--sheet NAME``.
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
    message = message.replace("dxf_layer= / --dxf-layer", "--dxf-layer")
    message = re.sub(
        r"\bsheet=('[^']*') and layer=('[^']*')", r"--sheet \1 and --layer-name \2", message
    )
    return (
        message.replace("crs= / --crs", "--crs")
        .replace("wkt= / --wkt", "--wkt")
        .replace("sheet= / --sheet", "--sheet")
        .replace("sheet= is for", "--sheet is for")
        .replace("; use layer=", "; use --layer-name")
    )


def echo_in_force(result) -> None:
    """Print the line saying which rules, documents and layer vintages were in force.

    Parameters
    ----------
    result : ScreeningResult
    """
    from ..screening.provenance import in_force_line

    line = in_force_line(result.provenance)
    if line:
        click.echo(line)


def report_written(out_dir: str | None, written: dict) -> None:
    """Say what was written, or that nothing was.

    Parameters
    ----------
    out_dir : str, optional
        The ``--out`` folder (None: nothing was written).
    written : dict
        Format -> path, as :meth:`zoning.ScreeningResult.to_file` returns.
    """
    from pathlib import Path

    run = written.get("database")
    if run is not None:
        click.echo(
            f"Wrote run {run.run_id} into {run.shown} (schema {run.schema}): {run.sites} "
            f"site(s), {run.hits} hit(s), {run.clauses} clause row(s)"
        )
        return
    if out_dir is None:
        click.echo(
            "No files written (give --out DIR to write sites.csv, hits.csv, codes.csv, "
            "clauses.csv, screening.gpkg, screening.json and the HTML report)."
        )
        return
    names = [
        Path(p).relative_to(Path(out_dir)).as_posix() + ("/" if Path(p).is_dir() else "")
        for p in written.values()
    ]
    report_map = Path(out_dir) / "report" / "map.html"
    if "html" in written and report_map.is_file():
        names.append("report/map.html")
    click.echo(f"Wrote into {out_dir}: {', '.join(names)}")


def _rejected(result):
    """The rows set aside (``--on-row-error report``): a DataFrame, or None."""
    rows = getattr(result, "input_rows", None)
    return None if rows is None else rows.rejected


def report_rejected(result, out_dir: str | None) -> None:
    """Say how many input rows were set aside (``--on-row-error report``), which, and where
    they are listed; nothing when none was.

    Parameters
    ----------
    result : ScreeningResult
    out_dir : str, optional
        The ``--out`` folder (None: nothing was written).
    """
    rejected = _rejected(result)
    if rejected is None or not len(rejected):
        return
    n = len(rejected)
    rows = result.input_rows
    shown = ", ".join(str(r) for r in rejected["row"].iloc[:10])
    more = f" and {n - 10} more" if n > 10 else ""
    sheet = f", sheet {rows.sheet}" if rows.sheet else ""
    from pathlib import Path

    files = [
        what
        for name, what in (
            ("rejected.csv", "listed in rejected.csv"),
            ("screening.xlsx", "marked in screening.xlsx"),
        )
        if out_dir is not None and (Path(out_dir) / name).is_file()
    ]
    where = (
        f"{' and '.join(files)} in {out_dir}"
        if files
        else "write them with --out DIR --format csv (rejected.csv) or xlsx (screening.xlsx)"
    )
    word = rows.word + ("s" if n != 1 else "")
    click.echo(
        f"{n} {word} with input errors set aside, not screened "
        f"({result.provenance['input'].get('source')}{sheet}: {rows.word} {shown}{more}); {where}:"
    )
    for message in rejected["message"].iloc[:10]:
        click.echo(f"  {message}")


def exit_for(result, fail_on: str | None, *, best: bool = False) -> None:
    """Exit 1 when ``--fail-on LEVEL`` is met: by any site, or (``best``) by the best one;
    or when input rows were set aside (``--on-row-error report``).

    Parameters
    ----------
    result : ScreeningResult
    fail_on : str, optional
        The ``--fail-on`` level (None: never exit here).
    best : bool
        ``zoning compare``: only the best alternative counts.

    Raises
    ------
    SystemExit
        Exit 1 with one line on stderr when the level is met.
    """
    from ..rules import SEVERITY

    if fail_on is not None and len(result.sites):
        level = SEVERITY[fail_on]
        sev = result.sites["verdict"].map(SEVERITY)
        if best and sev.min() >= level:
            click.echo(
                f"zoning: --fail-on {fail_on}: every alternative is {fail_on} or worse", err=True
            )
            sys.exit(EXIT_CHECK_FAILED)
        n = int((sev >= level).sum())
        if n and not best:
            click.echo(
                f"zoning: --fail-on {fail_on}: {n:,} site{'s' if n != 1 else ''} {fail_on} "
                "or worse",
                err=True,
            )
            sys.exit(EXIT_CHECK_FAILED)
    rejected = _rejected(result)
    if rejected is not None and len(rejected):
        n = len(rejected)
        click.echo(
            f"zoning: {n:,} input row{'s' if n != 1 else ''} set aside with errors "
            "(--on-row-error report)",
            err=True,
        )
        sys.exit(EXIT_CHECK_FAILED)
