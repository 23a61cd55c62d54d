"""``zoning screen --out postgresql://...``: a screening appended to PostGIS as one run.

Tables in the target schema (``?schema=NAME``, default ``zoning``), created when missing:

- ``runs``: one row per run: ``run_id``, ``created`` (a timestamp, and ``created_local`` its
  Shanghai time ``+08:00`` as text), ``as_of``, the rule set's id, version and hash, the
  layers' hashes (JSON ``{layer id: sha256}``), the catalog's hash, the demonstration flag,
  the tool version and the row counts;
- ``sites``: the columns of ``sites.csv`` with ``geom`` (EPSG:4326) and ``geom_cgcs2000``
  (EPSG:4490), keyed ``(run_id, site_id)``, referencing ``runs``;
- ``hits`` and ``clauses``: the rows of ``hits.csv`` (with the overlap piece as ``geom`` /
  ``geom_cgcs2000`` where there is one) and ``clauses.csv``, referencing ``sites``;
- ``codes``: the rows of ``codes.csv`` (the words of the sites' ``reason_codes`` and
  ``conclusion_code``), keyed ``(run_id, code)``, referencing ``runs``;
- ``provenance``: the run's full provenance (JSON, passwords redacted).

GiST indexes on every geometry column, B-tree indexes on the foreign keys.  A run is written in
one transaction: all of its rows or none; columns a later run brings are added to the tables.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .._optional import require
from ..dates import shanghai_zone
from ..io.postgis import DatabaseTarget, connect, redact_text
from ..tables import _clauses_table, _codes_table, _hits_table, _sites_table
from .write import add_columns, copy_frame, ewkb

__all__ = ["RunWritten", "check_database", "write_screening"]

log = logging.getLogger(__name__)

_GEOMS = (("geom", 4326), ("geom_cgcs2000", 4490))
_RUNS_DDL = """
CREATE TABLE IF NOT EXISTS {runs} (
    run_id text PRIMARY KEY,
    created timestamptz NOT NULL,
    created_local text NOT NULL,
    as_of date,
    rule_set_id text,
    rule_set_version text,
    rule_set_hash text,
    layer_hashes jsonb NOT NULL,
    catalog_sha256 text,
    demonstration boolean NOT NULL,
    tool_version text,
    n_sites integer NOT NULL,
    n_hits integer NOT NULL,
    n_clauses integer NOT NULL
)"""
_SITES_DDL = """
CREATE TABLE IF NOT EXISTS {sites} (
    run_id text NOT NULL REFERENCES {runs} (run_id) ON DELETE CASCADE,
    site_id text NOT NULL,
    geom geometry(Geometry, 4326),
    geom_cgcs2000 geometry(Geometry, 4490),
    PRIMARY KEY (run_id, site_id)
)"""
_CHILD_DDL = """
CREATE TABLE IF NOT EXISTS {child} (
    run_id text NOT NULL,
    site_id text NOT NULL,
    {geoms}
    FOREIGN KEY (run_id, site_id) REFERENCES {sites} (run_id, site_id) ON DELETE CASCADE
)"""
_CODES_DDL = """
CREATE TABLE IF NOT EXISTS {codes} (
    run_id text NOT NULL REFERENCES {runs} (run_id) ON DELETE CASCADE,
    code text NOT NULL,
    PRIMARY KEY (run_id, code)
)"""
_PROVENANCE_DDL = """
CREATE TABLE IF NOT EXISTS {prov} (
    run_id text PRIMARY KEY REFERENCES {runs} (run_id) ON DELETE CASCADE,
    provenance jsonb NOT NULL
)"""


@dataclass(frozen=True)
class RunWritten:
    """What :func:`write_screening` wrote.

    Attributes
    ----------
    run_id : str
    schema : str
    shown : str
        The database URL, redacted.
    sites, hits, clauses : int
        Rows written.
    """

    run_id: str
    schema: str
    shown: str
    sites: int
    hits: int
    clauses: int


def check_database(url: str, what: str = "--out") -> None:
    """Connect once and check that PostGIS is there: before any work, so a bad host or login
    fails in a second with one line.

    Parameters
    ----------
    url : str
        ``postgresql://...``.
    what : str
        The option, to start the message.

    Raises
    ------
    DatabaseError
        Unreachable, refused, or no PostGIS extension.
    """
    from ..errors import DatabaseError

    target = DatabaseTarget.parse(url, what)
    with connect(target, what, read_only=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone()
    if found is None:
        raise DatabaseError(
            f"{what}: {target.shown}: the PostGIS extension is not installed in this database "
            "(CREATE EXTENSION postgis)"
        )


def _new_run_id(created: dt.datetime) -> str:
    return f"{created.astimezone(shanghai_zone()):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


#: Our tables, each commented ``zoning: ...`` so that a table of the same name that someone
#: else made is recognised (and left alone).
_TABLES = ("runs", "sites", "hits", "clauses", "codes", "provenance")


def _check_ours(conn: Any, schema: str, shown: str) -> None:
    """Refuse a schema where a table of ours by name was not made by zoning."""
    from ..errors import DatabaseError

    for name in _TABLES:
        found = conn.execute(
            "SELECT c.oid IS NOT NULL, obj_description(c.oid, 'pg_class') FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND "
            "c.relname = %s",
            [schema, name],
        ).fetchone()
        if found is not None and not str(found[1] or "").startswith("zoning:"):
            raise DatabaseError(
                f"--out {shown}: table {schema}.{name} exists and was not made by zoning; left "
                "alone: write into another ?schema="
            )


def _ddl(conn: Any, schema: str) -> None:
    """Create the schema, the tables and their indexes when missing."""
    from psycopg import sql

    def ident(name: str) -> Any:
        return sql.Identifier(schema, name)

    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    conn.execute(sql.SQL(_RUNS_DDL).format(runs=ident("runs")))
    conn.execute(sql.SQL(_SITES_DDL).format(sites=ident("sites"), runs=ident("runs")))
    geoms = sql.SQL("geom geometry(Geometry, 4326), geom_cgcs2000 geometry(Geometry, 4490),")
    for child, spatial in (("hits", True), ("clauses", False)):
        conn.execute(
            sql.SQL(_CHILD_DDL).format(
                child=ident(child), sites=ident("sites"), geoms=geoms if spatial else sql.SQL("")
            )
        )
        conn.execute(
            sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (run_id, site_id)").format(
                sql.Identifier(f"{child}_run_site"), ident(child)
            )
        )
    conn.execute(sql.SQL(_CODES_DDL).format(codes=ident("codes"), runs=ident("runs")))
    conn.execute(sql.SQL(_PROVENANCE_DDL).format(prov=ident("provenance"), runs=ident("runs")))
    for name in _TABLES:
        conn.execute(
            sql.SQL("COMMENT ON TABLE {} IS {}").format(
                ident(name), sql.Literal(f"zoning: screening {name}, one run per run_id")
            )
        )
    for table in ("sites", "hits"):
        for col, _ in _GEOMS:
            conn.execute(
                sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} USING GIST ({})").format(
                    sql.Identifier(f"{table}_{col}_gist"), ident(table), sql.Identifier(col)
                )
            )


def _geometries(geoms: Any, crs: Any) -> dict[str, list]:
    """The geometries (a GeoSeries in ``crs``) as hex EWKB in EPSG:4326 and EPSG:4490."""
    import geopandas as gpd

    series = gpd.GeoSeries(list(geoms), crs=crs)
    return {col: ewkb(series.to_crs(epsg=srid).to_numpy(), srid) for col, srid in _GEOMS}


def _columns(run_id: str, table: pd.DataFrame) -> dict[str, Any]:
    out: dict[str, Any] = {"run_id": [run_id] * len(table)}
    out.update({c: table[c].astype(object).to_numpy() for c in table.columns if c != "run_id"})
    return out


def _run_row(result: Any, run_id: str, created: dt.datetime, counts: tuple) -> dict[str, Any]:
    prov = result.provenance
    rules = prov.get("rule_set") or {}
    layers = {
        lay["id"]: lay.get("sha256")
        for lay in prov.get("layers") or []
        if isinstance(lay, dict) and "id" in lay
    }
    return {
        "run_id": run_id,
        "created": created,
        "created_local": created.astimezone(shanghai_zone()).isoformat(timespec="seconds"),
        "as_of": prov.get("as_of"),
        "rule_set_id": rules.get("id"),
        "rule_set_version": None if rules.get("version") is None else str(rules["version"]),
        "rule_set_hash": rules.get("hash"),
        "layer_hashes": json.dumps(layers),
        "catalog_sha256": (prov.get("catalog") or {}).get("sha256"),
        "demonstration": bool(prov.get("demonstration")),
        "tool_version": prov.get("tool_version"),
        "n_sites": counts[0],
        "n_hits": counts[1],
        "n_clauses": counts[2],
    }


def write_screening(result: Any, url: str, *, run_id: str | None = None) -> RunWritten:
    """Append a screening to the PostGIS database ``url`` as one run (all or nothing).

    Parameters
    ----------
    result : ScreeningResult
    url : str
        ``postgresql://...[?schema=NAME]`` (default schema ``zoning``, created if needed).
    run_id : str, optional
        The run's id (default: the Shanghai time and a random suffix,
        ``20260401T093000-1a2b3c``); an id already in ``runs`` is an error.

    Returns
    -------
    RunWritten

    Raises
    ------
    DatabaseError
        Unreachable database, refused login, a failing statement (nothing is written).

    Notes
    -----
    The tables hold what ``sites.csv``, ``hits.csv``, ``clauses.csv`` and ``codes.csv`` hold
    (the clause table cut down as there for large screenings).
    """
    sql = require("psycopg.sql")
    target = DatabaseTarget.parse(url, "--out")
    created = dt.datetime.now(dt.UTC).replace(microsecond=0)
    run_id = run_id or _new_run_id(created)
    sites = _sites_table(result)
    hits = _hits_table(result)
    clauses = _clauses_table(result)
    codes = _codes_table(result)
    site_geoms = _geometries(result.sites.geometry.to_numpy(), result.sites.crs)
    hit_geoms = _geometries(result.hits.geometry.to_numpy(), result.sites.crs)
    row = _run_row(result, run_id, created, (len(sites), len(hits), len(clauses)))
    prov = redact_text(json.dumps(result.provenance, ensure_ascii=False, default=str))
    schema = target.schema
    with connect(target, "--out") as conn:
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"zoning:{schema}"])
        _check_ours(conn, schema, target.shown)
        _ddl(conn, schema)
        names = list(row)
        conn.execute(
            sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                sql.Identifier(schema, "runs"),
                sql.SQL(", ").join(map(sql.Identifier, names)),
                sql.SQL(", ").join(sql.Placeholder() * len(names)),
            ),
            [row[n] for n in names],
        )
        conn.execute(
            sql.SQL("INSERT INTO {} (run_id, provenance) VALUES (%s, %s)").format(
                sql.Identifier(schema, "provenance")
            ),
            [run_id, prov],
        )
        for name, table, geoms in (
            ("sites", sites, site_geoms),
            ("hits", hits, hit_geoms),
            ("clauses", clauses, None),
            ("codes", codes, None),
        ):
            add_columns(conn, schema, name, table)
            columns = _columns(run_id, table)
            if geoms is not None:
                columns.update(geoms)
            copy_frame(conn, schema, name, columns, len(table))
    log.info("wrote run %s into %s (schema %s)", run_id, target.shown, schema)
    return RunWritten(run_id, schema, target.shown, len(sites), len(hits), len(clauses))
