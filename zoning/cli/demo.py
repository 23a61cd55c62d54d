"""``zoning demo``: the main job on the bundled demonstration data."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..checks import check_layers
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
    """Run the main job on the demonstration data: check every layer and write an overview.

    Writes OUT/layers_check.json and OUT/layers_check.txt.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)  # fail on an unwritable folder before any work
    ls = load_layers(None, ())
    result = check_layers(ls)
    text = render_check(result)
    with atomic_path(out / "layers_check.json") as tmp:
        tmp.write_text(json.dumps(result.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    with atomic_path(out / "layers_check.txt") as tmp:
        tmp.write_text(text + "\n", encoding="utf-8")
    click.echo(text)
    click.echo("")
    click.echo(f"wrote {out / 'layers_check.json'} and {out / 'layers_check.txt'}")
    click.echo(DEMO_BANNER)
    raise SystemExit(0 if result.ok else 1)
