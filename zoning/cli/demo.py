"""``zoning demo``: the main job on the bundled demonstration data."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from ..checks import check_layers
from ..io.cells import csv_text
from ..io.outputs import write_atomic
from ..screening import FORMATS
from ..screening.outputs import DEFAULT_FORMATS, check_outputs
from ..targets.dashboard import render_dashboard
from ..targets.indicators import indicators
from .errors import handle_errors
from .layers import render_check
from .options import non_empty_path
from .render import format_table
from .run import DEMO_BANNER, check_out_dir, load_layers

#: Subfolders of OUT that ``zoning demo`` writes its screenings into.
SCREENING_DIR, AMAP_DIR, COMPARE_DIR = "screening", "screening_gcj02", "compare"


@click.command("demo")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default="maps/demo",
    callback=non_empty_path,
    show_default=True,
    help="Folder for the outputs.",
)
@handle_errors
def demo(out_dir: str) -> None:
    """Run the main job on the demonstration data: check every layer, measure the indicators,
    screen the bundled example projects and compare the example route alternatives.

    Writes OUT/layers_check.{txt,json}, OUT/indicators.{csv,html}, OUT/screening/ (the example
    projects of layers/examples/projects.geojson: sites.csv, hits.csv, clauses.csv, screening.gpkg,
    screening.json, report/, and the documents to file: screening.pdf and pdf/, screening.docx
    and docx/, screening.xlsx), OUT/screening_gcj02/ (the site copied from Amap, read as GCJ-02)
    and OUT/compare/ (ranking.csv and the report of the pipeline alternatives).  Everything is
    computed before anything is written, and each file or folder is written atomically.

    Exit codes: 0 all layer checks pass and every example gets its documented verdict and
    rank; 1 otherwise (the departures are listed); 2 input error (nothing written).
    """
    from ..examples import load_amap_example, load_examples, load_route_examples, run_examples

    started = time.perf_counter()
    check_out_dir(out_dir)  # fail on an unwritable folder before any work, creating nothing
    out = Path(out_dir)
    # Files of the user where the screenings write: refused now, not after the work and the
    # first files (each to_file below checks again, atomically, before it writes).
    for sub, formats, comparison in (
        (SCREENING_DIR, FORMATS, False),
        (AMAP_DIR, DEFAULT_FORMATS, False),
        (COMPARE_DIR, ("csv", "html"), True),
    ):
        check_outputs(out / sub, formats, comparison=comparison)
    # The example files and their expectations are read first: a broken one fails in a second.
    load_examples()
    load_amap_example()
    load_route_examples()
    ls = load_layers(None, ())
    result = check_layers(ls)
    text = render_check(result)
    table = indicators(ls)
    html = render_dashboard(table, ls)
    run = run_examples(ls)

    files = {
        "layers_check.json": json.dumps(result.to_dict(), ensure_ascii=False, indent=2),
        "layers_check.txt": text + "\n",
        "indicators.csv": f"# {DEMO_BANNER}\n" + csv_text(table.drop(columns=["group"])),
        "indicators.html": html,
    }
    out.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        write_atomic(out / name, content)
    run.projects.to_file(out / SCREENING_DIR, FORMATS)
    run.amap.to_file(out / AMAP_DIR, DEFAULT_FORMATS)
    run.routes.to_file(out / COMPARE_DIR, ("csv", "html"))

    click.echo(text)
    click.echo("")
    city = table[(table.scope == "city") & table.target.notna()]
    counts = city["status"].value_counts()
    click.echo(
        "indicators (city targets): "
        + ", ".join(f"{counts.get(k, 0)} {k}" for k in ("met", "not met"))
        + f", {counts.get('not measurable with these layers', 0)} not measurable with these layers"
    )
    click.echo("")
    click.echo(_examples_summary(run))
    click.echo("")
    written = [*(str(out / n) for n in files)] + [
        str(out / d) + "/" for d in (SCREENING_DIR, AMAP_DIR, COMPARE_DIR)
    ]
    click.echo("wrote " + ", ".join(written))
    click.echo(f"done in {time.perf_counter() - started:.1f} s")
    click.echo(DEMO_BANNER)
    raise SystemExit(0 if result.ok and run.ok else 1)


def _examples_summary(run) -> str:
    """Verdict counts, the GCJ-02 site both ways, the ranking, and every departure."""
    lines = []
    counts = run.projects.verdict_counts()
    n = len(run.projects.sites)
    lines.append(
        f"example projects ({n}): " + ", ".join(f"{v} {k}" for k, v in counts.items() if v)
    )
    amap = run.amap.sites.iloc[0]
    wrong = run.amap_as_wgs84.sites.iloc[0]
    lines.append(
        f"Amap site {amap['site_id']}: {amap['verdict']} read as GCJ-02 "
        f"(shifted {amap['datum_shift_m']:.0f} m, boundary-sensitive: "
        f"{'yes' if amap['boundary_sensitive'] else 'no'}); {wrong['verdict']} if the same "
        "numbers are declared WGS84 (--crs EPSG:4326)"
    )
    rk = run.routes.ranking
    lines.append("route alternatives:")
    rows = [
        [int(r["rank"]), r["site_id"], r["verdict"], f"{r['constrained_length_m'] / 1000:.2f}"]
        for _, r in rk.iterrows()
    ]
    lines.append(format_table(["rank", "alternative", "verdict", "constrained km"], rows))
    if run.outcome_mismatches:
        lines.append(
            f"{len(run.outcome_mismatches)} example(s) DIFFER from their documented outcome:"
        )
        lines.extend(f"  {m}" for m in run.outcome_mismatches)
    else:
        lines.append("every example got its documented verdict and rank")
    if run.reason_mismatches:
        lines.append(
            f"{len(run.reason_mismatches)} documented reason(s) differ (verdicts unaffected):"
        )
        lines.extend(f"  {m}" for m in run.reason_mismatches)
    return "\n".join(lines)
