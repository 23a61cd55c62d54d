"""``zoning demo``: the main job on the bundled demonstration data."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..checks import check_layers
from ..dashboard import render_dashboard
from ..indicators import indicators
from ..io import atomic_path
from ._common import DEMO_BANNER, handle_errors, load_layers
from .layers import render_check


@click.command("demo")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default="maps/demo",
    show_default=True,
    help="Folder for the outputs.",
)
@handle_errors
def demo(out_dir: str) -> None:
    """Run the main job on the demonstration data: check every layer, measure the indicators.

    Writes OUT/layers_check.{txt,json} and OUT/indicators.{csv,html}.  Everything is computed
    before anything is written, and each file is written atomically.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)  # fail on an unwritable folder before any work
    ls = load_layers(None, ())
    result = check_layers(ls)
    text = render_check(result)
    table = indicators(ls)
    html = render_dashboard(table, ls)
    files = {
        "layers_check.json": json.dumps(result.to_dict(), ensure_ascii=False, indent=2),
        "layers_check.txt": text + "\n",
        "indicators.csv": f"# {DEMO_BANNER}\n" + table.drop(columns=["group"]).to_csv(index=False),
        "indicators.html": html,
    }
    for name, content in files.items():
        with atomic_path(out / name) as tmp:
            tmp.write_text(content, encoding="utf-8")
    click.echo(text)
    click.echo("")
    city = table[(table.scope == "city") & table.target.notna()]
    counts = city["status"].value_counts()
    click.echo(
        "indicators (city targets): "
        + ", ".join(f"{counts.get(k, 0)} {k}" for k in ("met", "not met"))
        + f", {counts.get('not measurable with these layers', 0)} not measurable with these layers"
    )
    click.echo("wrote " + ", ".join(str(out / n) for n in files))
    click.echo(DEMO_BANNER)
    raise SystemExit(0 if result.ok else 1)
