"""``zoning diff``: what changed between two screenings of the same sites, and why; and the
``zoning screen --as-of D1 --diff-as-of D2`` run (both screenings and their diff)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .errors import OneLineCommand, fail, handle_errors
from .options import non_empty_path

__all__ = ["diff_cmd", "screen_diff_as_of"]


@click.command("diff", cls=OneLineCommand)
@click.argument("before", metavar="A", type=click.Path(file_okay=True, dir_okay=True))
@click.argument("after", metavar="B", type=click.Path(file_okay=True, dir_okay=True))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    callback=non_empty_path,
    metavar="DIR",
    help="Write diff.csv and diff.html into DIR. Without it only the console summary is printed.",
)
@click.option(
    "--format",
    "formats",
    default="csv,html",
    show_default=True,
    metavar="LIST",
    help="Comma-separated outputs to write with --out: csv, html.",
)
@click.option(
    "--lang",
    type=click.Choice(["zh", "en", "both"]),
    default="both",
    show_default=True,
    help="Language of diff.html.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="How many changes the console summary lists.",
)
@handle_errors
def diff_cmd(
    before: str, after: str, out_dir: str | None, formats: str, lang: str, limit: int
) -> None:
    """Compare two screening output folders A (before) and B (after) of the same sites.

    A and B are folders written by zoning screen --out (with the json format). Sites are
    matched by site_id; every site whose verdict, reasons or clause results changed is listed
    with the cause of each change: the document, rule or layer vintage in force that differs,
    the project attributes or site geometry, the input or options, the rule-set or catalog
    file, the tool version, or "cause not determined".

    With --out DIR writes diff.csv (one row per change) and diff.html (the report section),
    all or nothing.

    Exit codes: 0 done (changes or not); 2 usage or input error (nothing written).
    """
    from ..diff import DIFF_FORMATS, diff_runs
    from ..diff.result import check_no_screenings, diff_output_folder

    fmts = _formats(formats) if out_dir is not None else []
    if out_dir is not None:
        from .run import check_out_dir

        check_out_dir(out_dir)
        check_no_screenings(out_dir)
        diff_output_folder(out_dir, [DIFF_FORMATS[f] for f in fmts]).check()
    result = diff_runs(before, after)
    click.echo(result.summary(limit), nl=False)
    if out_dir is None:
        click.echo("No files written (give --out DIR to write diff.csv and diff.html).")
        return
    written = result.save(out_dir, fmts, lang=lang)
    click.echo(f"Wrote into {out_dir}: {', '.join(p.name for p in written.values())}")


def _formats(text: str) -> list[str]:
    from ..diff import DIFF_FORMATS

    fmts = list(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    bad = [f for f in fmts if f not in DIFF_FORMATS]
    if bad or not fmts:
        what = f"unknown format(s) {', '.join(bad)}" if bad else "no format given"
        fail(f"--format {text!r}: {what} (choose from {', '.join(DIFF_FORMATS)})")
    return fmts


def _day(text: str) -> str:
    """``--diff-as-of``: a ``YYYY-MM-DD`` day (one-line usage error otherwise), as ``--as-of``."""
    from ..dates import parse_date

    try:
        return parse_date(text).isoformat()
    except ValueError as exc:
        fail(f"--diff-as-of: {exc} (e.g. 2026-04-01)")
        raise  # pragma: no cover - fail() exits


def _as_of_folder(day: Any) -> str:
    return f"as_of_{day}"


def screen_diff_as_of(sites: str | None, diff_as_of: str, options: dict[str, Any]) -> list[Any]:
    """``zoning screen ... --as-of D1 --diff-as-of D2 --out DIR``: screen the sites as of both
    dates and write both screenings and their diff into ``DIR``, all or nothing.

    ``DIR/as_of_D1/`` and ``DIR/as_of_D2/`` hold the screenings (as ``--out`` would, with
    ``json`` added to the formats: the diff reads it); ``DIR/diff.csv`` and ``DIR/diff.html``
    the diff.

    Parameters
    ----------
    sites : str or None
        The ``SITES`` argument.
    diff_as_of : str
        The ``--diff-as-of`` date (YYYY-MM-DD).
    options : dict
        The screening options (``as_of`` and ``out_dir`` required).

    Returns
    -------
    list of ScreeningResult
        The screenings as of the two dates (for ``--fail-on``).

    Raises
    ------
    SystemExit
        Exit 2 with one line: no ``--as-of``, no ``--out``, the same date twice, or any input
        error of the screening.
    """
    from ..diff import diff_runs
    from ..diff.result import diff_output_folder, earlier_screenings
    from .render import console_summary
    from .run import (
        ScreeningRequest,
        check_out_dir,
        echo_in_force,
        parse_formats,
        run_screening,
    )

    d1, d2 = options.get("as_of"), _day(diff_as_of)
    if d1 is None:
        fail("--diff-as-of needs --as-of (the first date); give --as-of D1 --diff-as-of D2")
    out_dir = options.get("out_dir")
    if out_dir is None:
        fail("--diff-as-of needs --out DIR (both screenings and the diff are written there)")
    if str(d1) == str(d2):
        fail(f"--as-of and --diff-as-of are the same date ({d1}); give two dates")
    fmts = parse_formats(options.get("formats") or "csv,gpkg,json,html")
    if "json" not in fmts:
        fmts.append("json")
    check_out_dir(out_dir)
    lang = options.get("lang", "both")
    names = [_as_of_folder(d1), _as_of_folder(d2)]
    # Screenings of other dates an earlier run wrote here are removed: the folder holds one run.
    folder = diff_output_folder(
        Path(out_dir),
        [*names, "diff.csv", "diff.html"],
        managed=[*names, *earlier_screenings(out_dir)],
    )
    folder.check()  # a file in the way: refused before screening
    results = []
    for day in (d1, d2):
        result, _ = run_screening(sites=sites, **{**options, "as_of": day, "out_dir": None})
        results.append((day, result))
    request = ScreeningRequest.from_options(**options)
    with folder as tmp:
        for (_, result), name in zip(results, names, strict=True):
            result.to_file(tmp / name, fmts, lang=lang, map_options=request.output.map_options())
        diff = diff_runs(tmp / names[0], tmp / names[1], labels=(names[0], names[1]))
        diff.write_into(tmp, ["csv", "html"], lang)
    for day, result in results:
        click.echo(f"== as of {day}")
        click.echo(console_summary(result, lang=lang), nl=False)
        echo_in_force(result)
    click.echo(diff.summary(), nl=False)
    click.echo(f"Wrote into {out_dir}: {'/, '.join(names)}/, diff.csv, diff.html")
    return [result for _, result in results]
