"""``zoning seeds``: list the policy targets of the Beautiful Shanghai documents."""

from __future__ import annotations

import json

import click

from ..errors import quote
from ..targets.model import Target, format_value, load_targets
from .errors import fail, handle_errors
from .render import format_table, text_width

#: Column headers of the table output, in order.
TABLE_COLUMNS = ("id", "scope", "indicator", "target", "year", "document", "clause")

#: Longer indicator titles are cut to this display width in the table.
TITLE_WIDTH = 48

_UNIT_LABELS = {
    "km2": "km²",
    "m2": "m²",
    "m2_per_person": "m²/person",
    "percent": "%",
    "ug_m3": "µg/m³",
    "count": "",
}


@click.command("seeds")
@click.option(
    "--file",
    "path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Target file (YAML). Default: the bundled seeds/targets.yml.",
)
@click.option(
    "--scope",
    type=click.Choice(["city", "district"]),
    default=None,
    help="Only city-wide or only district targets.",
)
@click.option(
    "--district",
    default=None,
    metavar="NAME",
    help="Only the targets of one district, by Chinese name (e.g. 金山区).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="Output format.",
)
@handle_errors
def seeds(path: str | None, scope: str | None, district: str | None, fmt: str) -> None:
    """List the policy targets (red line area, forest cover, parks, ...) with their sources.

    Every target cites its document, clause and an exact quote; use --format csv or
    json to get the quotes and notes as well.
    """
    target_set = load_targets(path)
    if district is not None:
        if district not in target_set.districts:
            known = ", ".join(target_set.districts) or "none"
            fail(f"unknown district {quote(district)}; the target file covers: {known}")
        if scope == "city":
            fail("--district selects district targets; it cannot be combined with --scope city")
    targets = target_set.select(scope=scope, district=district)
    if fmt == "json":
        click.echo(json.dumps(target_set.records(targets), ensure_ascii=False, indent=2))
    elif fmt == "csv":
        click.echo(target_set.to_frame(targets).to_csv(index=False), nl=False)
    else:
        click.echo(render_table(targets))


def render_table(targets: list[Target]) -> str:
    """Render targets as an aligned plain-text table.

    Parameters
    ----------
    targets : list of Target
        Rows to show, in order.

    Returns
    -------
    str
        Header, separator and one line per target; ``'(no targets)'`` when empty.
    """
    if not targets:
        return "(no targets)"
    rows = [TABLE_COLUMNS] + [
        (
            t.id,
            t.district or t.scope,
            _truncate(t.title_en, TITLE_WIDTH),
            _requirement(t),
            str(t.year),
            t.document,
            t.clause,
        )
        for t in targets
    ]
    return format_table(rows[0], rows[1:])


def _requirement(target: Target) -> str:
    unit = _UNIT_LABELS.get(target.unit, target.unit)
    sep = "" if unit in ("", "%") else " "
    return f"{target.comparator} {format_value(target.value)}{sep}{unit}".rstrip()


def _truncate(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` display columns, marking the cut with an ellipsis."""
    if text_width(text) <= width:
        return text
    while text_width(text) > width - 1:
        text = text[:-1]
    return text.rstrip() + "…"
