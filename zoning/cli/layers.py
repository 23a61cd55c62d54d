"""``zoning layers``: list, check and load (into PostGIS) the layers of a catalog."""

from __future__ import annotations

import json

import click

from ..checks import SLIVER_M2, TOTAL_TOLERANCE_KM2, CheckResult, check_layers
from ..io.postgis import redact
from .errors import handle_errors
from .options import Decorator, catalog_options
from .render import format_table
from .run import DEMO_BANNER, load_layers

#: ``--format table|json``: how both commands print.
_format_option = click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)


def _non_negative_option(name: str, default: float, help: str) -> Decorator:
    """A number option (>= 0) whose ``--help`` shows its default."""
    return click.option(
        name, type=click.FloatRange(min=0), default=default, show_default=True, help=help
    )


@click.group("layers")
def layers() -> None:
    """List, check and load constraint layers."""


@layers.command("list")
@catalog_options
@_format_option
@handle_errors
def list_layers(catalog_path: str | None, layer_specs: tuple[str, ...], fmt: str) -> None:
    """List the catalog's layers (without reading them)."""
    ls = load_layers(catalog_path, layer_specs)
    rows = [
        {
            "id": e.id,
            "kind": e.kind,
            "title_zh": e.title("zh"),
            "title_en": e.title("en"),
            "source": redact(ls.source_of(e.id)) + (f" table {e.table}" if e.table else ""),
            "layer": e.layer,
            "status": e.provenance.status if e.provenance else "unknown",
        }
        for e in ls.catalog.layers
    ]
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if ls.is_demonstration:
        click.echo(DEMO_BANNER)
    click.echo(
        format_table(
            ["id", "kind", "title", "status", "source"],
            [
                [
                    r["id"],
                    r["kind"],
                    r["title_zh"] + " / " + r["title_en"],
                    r["status"],
                    r["source"] + (f" ({r['layer']})" if r["layer"] else ""),
                ]
                for r in rows
            ],
        )
    )


@layers.command("check")
@catalog_options
@_format_option
@_non_negative_option(
    "--tolerance-km2", TOTAL_TOLERANCE_KM2, "Allowed difference from an official total."
)
@_non_negative_option("--sliver-m2", SLIVER_M2, "Ignore gap/overlap pieces smaller than this.")
@handle_errors
def check(
    catalog_path: str | None,
    layer_specs: tuple[str, ...],
    fmt: str,
    tolerance_km2: float,
    sliver_m2: float,
) -> None:
    """Check layers: counts, areas, official totals, control-unit tiling, three-line overlaps.

    Exit code 0 when every check passes, 1 when a check fails, 2 for input errors.
    """
    ls = load_layers(catalog_path, layer_specs)
    result = check_layers(ls, tolerance_km2=tolerance_km2, sliver_m2=sliver_m2)
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(render_check(result))
    raise SystemExit(0 if result.ok else 1)


@layers.command("load")
@click.option(
    "--catalog",
    "catalog_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="The catalog whose layers to load (default: the bundled demonstration catalog).",
)
@click.option(
    "--into",
    "into",
    required=True,
    metavar="postgresql://...",
    help="The PostGIS database: postgresql://[user@]host[:port]/db[?schema=NAME] (schema "
    "default 'zoning'). Credentials from the URL, PG* variables, ~/.pgpass or ?service=NAME.",
)
@click.option(
    "--write-catalog",
    "write_catalog",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write a catalog YAML whose layers are the loaded tables (without a password).",
)
@click.option("--replace", is_flag=True, help="Replace layers loaded earlier from other files.")
@handle_errors
def load(catalog_path: str | None, into: str, write_catalog: str | None, replace: bool) -> None:
    """Load a catalog's layers into PostGIS: one table per layer (GiST-indexed), a table of
    vintages (status, vintage, validity, source file and hash), all or nothing.

    Re-loading the same files does nothing; a layer id loaded from another file is refused
    (give a new vintage its own id) unless --replace.
    """
    import yaml

    from ..catalog import read_catalog
    from ..database import database_catalog, load_layers_into
    from ..io import atomic_path
    from ..io.postgis import DatabaseTarget, is_database_url

    if not is_database_url(into):
        raise click.UsageError(f"--into {redact(into)}: expected a postgresql:// URL")
    target = DatabaseTarget.parse(into, "--into")
    catalog = read_catalog(catalog_path)
    if any(e.is_demonstration for e in catalog.layers):
        click.echo(DEMO_BANNER)
    loaded = load_layers_into(catalog, into, replace=replace)
    click.echo(
        format_table(
            ["layer", "table", "action", "features", "valid", "source sha256"],
            [
                [x.layer_id, x.table, x.action, x.features, x.period, (x.sha256 or "-")[:12]]
                for x in loaded
            ],
        )
    )
    counts = {a: sum(x.action == a for x in loaded) for a in ("loaded", "replaced", "unchanged")}
    click.echo(
        f"{target.shown}: schema {target.schema}: {counts['loaded']} loaded, "
        f"{counts['replaced']} replaced, {counts['unchanged']} unchanged; vintages in "
        f"{target.schema}.vintages"
    )
    if write_catalog:
        with atomic_path(write_catalog) as tmp:
            text = yaml.safe_dump(
                database_catalog(catalog, into, loaded), allow_unicode=True, sort_keys=False
            )
            header = "# Written by zoning layers load: the layers are tables in PostGIS.\n"
            tmp.write_text(header + text, encoding="utf-8")
        click.echo(f"Wrote {write_catalog} (its layers read the database)")


def render_check(result: CheckResult) -> str:
    """The human-readable report of ``zoning layers check``.

    Parameters
    ----------
    result : CheckResult
        What :func:`~zoning.checks.check_layers` returned.

    Returns
    -------
    str
        The demonstration banner when needed, a table of the layers, the repaired and dropped
        feature ids (ten at most per layer) and load notes, one line per check (with source and
        places), and a last line counting passes, failures and skips; no final newline.
    """
    out = []
    if result.demonstration:
        out.append(DEMO_BANNER)
    out.append(f"catalog: {result.catalog}")
    out.append("")
    rows = []
    for s in result.layers:
        b = s.bounds_wgs84
        bounds = f"{b[0]:.3f},{b[1]:.3f} .. {b[2]:.3f},{b[3]:.3f}" if b else "-"
        rows.append(
            [
                s.id,
                s.kind,
                s.status,
                s.features,
                "-" if s.area_km2 is None else f"{s.area_km2:.2f}",
                s.repaired,
                s.dropped,
                s.input_crs,
                s.encoding,
                bounds,
            ]
        )
    out.append(
        format_table(
            [
                "layer",
                "kind",
                "status",
                "features",
                "area km²",
                "repaired",
                "dropped",
                "input CRS",
                "encoding",
                "bounds (lon,lat)",
            ],
            rows,
        )
    )
    notes = [(s.id, n) for s in result.layers for n in s.load_report["notes"]]
    repaired = [
        (s.id, s.load_report["repaired_ids"], s.load_report["dropped_ids"])
        for s in result.layers
        if s.repaired or s.dropped
    ]
    for layer_id, fixed, dropped in repaired:
        if fixed:
            out.append(
                f"  {layer_id}: repaired {', '.join(fixed[:10])}{' …' if len(fixed) > 10 else ''}"
            )
        if dropped:
            out.append(
                f"  {layer_id}: dropped (null/empty) {', '.join(dropped[:10])}"
                f"{' …' if len(dropped) > 10 else ''}"
            )
    for layer_id, note in notes:
        out.append(f"  {layer_id}: {note}")
    out.append("")
    for c in result.checks:
        out.append(f"{c.status.upper():4}  {c.message}")
        if c.source and c.check.startswith("official"):
            out.append(f"      source: {c.source}")
        for p in c.places:
            feats = f" [{', '.join(p.features)}]" if p.features else ""
            out.append(f"      at {p.lon:.5f}, {p.lat:.5f}: {p.area_m2:,.0f} m²{feats}")
    counts = {k: sum(c.status == k for c in result.checks) for k in ("pass", "fail", "skip")}
    out.append("")
    out.append(
        f"checks: {counts['pass']} pass, {counts['fail']} fail, {counts['skip']} skipped"
        f" -> {'OK' if result.ok else 'FAILED'}"
    )
    return "\n".join(out)
