"""``zoning indicators``: the policy's spatial targets measured from the layers."""

from __future__ import annotations

import json

import click
import pandas as pd

from ..io.cells import csv_text
from ..io.outputs import write_atomic
from ..io.owned import claim_files, record_files
from ..targets.indicators import indicators as measure
from .errors import fail, handle_errors
from .options import catalog_options, non_empty_path
from .render import format_table
from .run import DEMO_BANNER, load_layers

_COLUMNS = [
    "scope",
    "district",
    "indicator",
    "value",
    "unit",
    "target",
    "year",
    "status",
    "denominator",
    "note",
    "document",
    "clause",
    "target_id",
    "title_zh",
    "title_en",
]


@click.command("indicators")
@catalog_options
@click.option("--district", default=None, help="Only this district (name, English name or id).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json", "html"]),
    default="table",
    show_default=True,
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False),
    default=None,
    callback=non_empty_path,
    help="Write to this file (required for html).",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace --out even if it exists and was not written by zoning (never a device, "
    "FIFO, socket or symbolic link).",
)
@handle_errors
def indicators(catalog_path, layer_specs, district, fmt, out_path, overwrite) -> None:
    """Measure red line, development boundary, farmland, water, green space and control-unit
    composition for the city and each district, against the targets in seeds/targets.yml."""
    if fmt == "html" and not out_path:
        fail("--format html writes a page: give --out FILE.html")
    if out_path:
        claim_files([out_path], overwrite=overwrite)  # before the work: refuse early
    ls = load_layers(catalog_path, layer_specs)
    df = measure(ls, district=district)
    demo = df.attrs["demonstration"]
    if fmt == "html":
        from ..targets.dashboard import write_dashboard

        write_dashboard(df, ls, out_path)
        record_files([out_path])
        click.echo(f"wrote {out_path}")
        if demo:
            click.echo(DEMO_BANNER)
        return
    table = df[_COLUMNS].astype({"year": "Int64"})
    if fmt == "csv":
        text = ("# " + DEMO_BANNER + "\n" if demo else "") + csv_text(table)
    elif fmt == "json":
        text = json.dumps(
            {
                "demonstration_data": demo,
                "note": DEMO_BANNER if demo else None,
                "conventions": {k: v for k, v in df.attrs.items() if k != "district_en"},
                "indicators": json.loads(table.to_json(orient="records", force_ascii=False)),
            },
            ensure_ascii=False,
            indent=2,
        )
    else:
        rows = [
            [
                r.district if isinstance(r.district, str) else "上海市",
                r.indicator,
                _num(r.value, r.unit),
                r.unit,
                r.target if isinstance(r.target, str) else "",
                _year(r.year),
                r.status,
            ]
            for r in table.itertuples()
        ]
        text = ((DEMO_BANNER + "\n") if demo else "") + format_table(
            ["zone", "indicator", "measured", "unit", "target", "year", "status"], rows
        )
    if out_path:
        write_atomic(out_path, text + ("\n" if not text.endswith("\n") else ""))
        record_files([out_path])
        click.echo(f"wrote {out_path}")
    else:
        click.echo(text)


def _num(value, unit: str) -> str:
    if value is None or value != value:
        return "—"
    if unit == "count":
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def _year(value) -> str:
    return "" if pd.isna(value) else str(int(value))
