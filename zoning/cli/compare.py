"""``zoning compare``: rank alternative sites or routes of one project."""

from __future__ import annotations

import click

from .errors import OneLineCommand, handle_errors
from .options import fail_on_option, screening_options
from .render import console_summary
from .run import echo_in_force, exit_for, report_rejected, report_written, run_screening


@click.command("compare", cls=OneLineCommand)
@click.argument("sites", required=False, metavar="[SITES]")
@screening_options
@fail_on_option("Exit 1 when even the best alternative is LEVEL or worse.")
@handle_errors
def compare_cmd(sites: str | None, fail_on: str | None, **options) -> None:
    """Rank alternative sites or routes of one project (each site of SITES is one alternative).

    Alternatives are ranked by overall verdict (least severe first), then by the constraint
    area (polygons) or length (lines) they overlap, then by the distance to the nearest
    constraint (farther first). Same inputs and outputs as zoning screen, plus ranking.csv and
    a ranking section in the report.

    Exit codes: 0 done; 1 --fail-on met by the best alternative, or rows set aside
    (--on-row-error report); 2 usage or input error.
    """
    result, written = run_screening(sites=sites, min_sites=2, compare=True, **options)
    click.echo(console_summary(result, lang=options["lang"]), nl=False)
    echo_in_force(result)
    report_written(options["out_dir"], written)
    report_rejected(result, options["out_dir"])
    exit_for(result, fail_on, best=True)
