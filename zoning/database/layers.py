"""``zoning layers load``: a catalog's layers into PostGIS, one system of record with vintages.

Each layer becomes a table ``<schema>.<layer id>`` holding the features as the source file has
them (source CRS as the SRID, source columns, nothing repaired: reading the table back goes
through the same checks and repairs as the file, and reports them), keyed by ``zoning_fid``
(the file's feature order) with a GiST index on ``geom``; the table ``<schema>.vintages`` holds
one row per layer: its kind, titles, status and demonstration flag, vintage, validity dates,
the source file's name and SHA-256, the features, the SRID and the hash of the table content.
Everything is written in one transaction: all layers or none.  Loading a layer whose file
hash the vintages table already holds does nothing (idempotent); a layer id already loaded
from another file is refused (a new vintage gets a new id), unless ``replace``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._optional import require
from .._version import __version__
from ..catalog import Catalog, LayerEntry
from ..errors import DatabaseError, LayerDataError, quote
from ..io import read_layer, resolve_source
from ..io.layer import read_source
from ..io.postgis import (
    LOAD_KEY,
    DatabaseTarget,
    connect,
    content_sha256,
    redact,
    without_password,
)
from .write import copy_frame, ewkb, sql_type

__all__ = ["LoadedLayer", "database_catalog", "load_layers_into"]

log = logging.getLogger(__name__)

#: The table of vintages, in the target schema.
VINTAGES = "vintages"
_VINTAGES_DDL = """
CREATE TABLE IF NOT EXISTS {t} (
    layer_id text PRIMARY KEY,
    table_name text NOT NULL UNIQUE,
    kind text NOT NULL,
    title_zh text,
    title_en text,
    status text NOT NULL,
    demonstration boolean NOT NULL,
    vintage text,
    valid_from date,
    valid_to date,
    source_file text,
    source_sha256 text,
    features integer NOT NULL,
    srid integer NOT NULL,
    content_sha256 text NOT NULL,
    provenance jsonb,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    tool_version text,
    CHECK (valid_to IS NULL OR valid_from IS NULL OR valid_from <= valid_to)
)"""


@dataclass(frozen=True)
class LoadedLayer:
    """What :func:`load_layers_into` did with one layer.

    Attributes
    ----------
    layer_id, table : str
        The catalog id and ``schema.table``.
    action : str
        ``loaded``, ``replaced`` or ``unchanged`` (already there, same file hash).
    features : int
        Rows in the table.
    sha256 : str or None
        The source file's hash.
    period : str
        The validity period (``2017-10-07 to 2026-03-14``).
    """

    layer_id: str
    table: str
    action: str
    features: int
    sha256: str | None
    period: str


def table_name(layer_id: str) -> str:
    """The table a layer id is loaded into: lower case, other characters as ``_``.

    Parameters
    ----------
    layer_id : str

    Returns
    -------
    str
    """
    return re.sub(r"[^a-z0-9_]", "_", layer_id.lower())[:63]


def load_layers_into(catalog: Catalog, url: str, *, replace: bool = False) -> list[LoadedLayer]:
    """Load every layer of ``catalog`` into the PostGIS database ``url`` (all or nothing).

    Parameters
    ----------
    catalog : Catalog
        Each layer is read and checked first (:func:`zoning.read_layer`): a layer that would
        fail to screen is not loaded.
    url : str
        ``postgresql://...[?schema=NAME]`` (default schema ``zoning``, created if needed).
    replace : bool
        Replace a layer loaded earlier from another file (default: refuse).

    Returns
    -------
    list of LoadedLayer
        In catalog order.

    Raises
    ------
    DatabaseError
        Unreachable database, refused login, a layer id loaded from another file.
    LayerReadError, CRSError, LayerDataError
        A layer that does not read (as for a screening).
    """
    sql = require("psycopg.sql")
    target = DatabaseTarget.parse(url, "--into")
    base = catalog.base_dir
    frames = []
    for entry in catalog.layers:
        _, report = read_layer(entry, base)  # the checks a screening makes, before any write
        gdf, crs = read_source(entry, base)
        srid = crs.to_epsg()
        if srid is None:
            raise LayerDataError(
                f"layer {quote(entry.id)}: its CRS {report.input_crs} has no EPSG code, which "
                "PostGIS needs as the SRID; reproject the file first"
            )
        frames.append((entry, gdf, srid, report.sha256))
    out = []
    schema = target.schema
    with connect(target, "--into") as conn:
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"zoning:{schema}"])
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        conn.execute(sql.SQL(_VINTAGES_DDL).format(t=sql.Identifier(schema, VINTAGES)))
        for entry, gdf, srid, sha in frames:
            out.append(_load_one(conn, schema, entry, gdf, srid, sha, replace, target.shown))
    return out


def _load_one(
    conn: Any,
    schema: str,
    entry: LayerEntry,
    gdf: Any,
    srid: int,
    sha: str | None,
    replace: bool,
    shown: str,
) -> LoadedLayer:
    """Load one layer (or find it there already)."""
    from psycopg import sql

    table = table_name(entry.id)
    qualified = f"{schema}.{table}"
    row = conn.execute(
        sql.SQL("SELECT source_sha256, features FROM {} WHERE layer_id = %s").format(
            sql.Identifier(schema, VINTAGES)
        ),
        [entry.id],
    ).fetchone()
    exists = conn.execute("SELECT to_regclass(%s)", [f'"{schema}"."{table}"']).fetchone()[0]
    if row is not None and exists is not None and sha is not None and row[0] == sha:
        return LoadedLayer(entry.id, qualified, "unchanged", row[1], sha, entry.period())
    if row is None and exists is not None:
        raise DatabaseError(
            f"--into {shown}: table {qualified} exists and is not a layer zoning loaded (no row "
            f"in {schema}.{VINTAGES}); left alone: load into another ?schema="
        )
    if row is not None and not replace:
        raise DatabaseError(
            f"--into {shown}: layer {quote(entry.id)} is already loaded from another file "
            f"(sha256 {str(row[0])[:12]}…); give the new vintage its own id, or --replace"
        )
    attrs = [c for c in gdf.columns if c != gdf.geometry.name]
    if LOAD_KEY in attrs or "geom" in attrs:
        raise LayerDataError(
            f"layer {quote(entry.id)}: a column is named {LOAD_KEY} or geom, which the "
            "database table uses itself; rename it"
        )
    ident = sql.Identifier(schema, table)
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(ident))
    cols = sql.SQL("").join(
        sql.SQL(", {} {}").format(sql.Identifier(c), sql.SQL(sql_type(gdf[c]))) for c in attrs
    )
    conn.execute(
        sql.SQL("CREATE TABLE {} ({} bigint PRIMARY KEY{}, geom geometry(Geometry, {}))").format(
            ident, sql.Identifier(LOAD_KEY), cols, sql.Literal(srid)
        )
    )
    columns: dict[str, Any] = {LOAD_KEY: range(1, len(gdf) + 1)}
    columns.update({c: gdf[c].astype(object).to_numpy() for c in attrs})
    columns["geom"] = ewkb(gdf.geometry.to_numpy(), srid)
    copy_frame(conn, schema, table, columns, len(gdf))
    conn.execute(
        sql.SQL("CREATE INDEX {} ON {} USING GIST (geom)").format(
            sql.Identifier(f"{table[:50]}_geom_gist"), ident
        )
    )
    conn.execute(
        sql.SQL("COMMENT ON TABLE {} IS {}").format(ident, sql.Literal(_comment(entry, sha)))
    )
    _record_vintage(conn, schema, entry, table, gdf, srid, sha)
    log.info("loaded layer %s into %s (%d features)", entry.id, qualified, len(gdf))
    return LoadedLayer(
        entry.id, qualified, "replaced" if row else "loaded", len(gdf), sha, entry.period()
    )


def _comment(entry: LayerEntry, sha: str | None) -> str:
    """The table comment: layer, status, vintage, period and file hash."""
    prov = entry.provenance
    status = prov.status if prov else "unknown"
    vintage = prov.vintage if prov and prov.vintage else "-"
    demo = " DEMONSTRATION DATA, not official." if entry.is_demonstration else ""
    return (
        f"zoning layer {entry.id} ({entry.kind}), status {status}, vintage {vintage}, valid "
        f"{entry.period()}, source sha256 {sha or '-'}.{demo}"
    )


def _record_vintage(
    conn: Any,
    schema: str,
    entry: LayerEntry,
    table: str,
    gdf: Any,
    srid: int,
    sha: str | None,
) -> None:
    """Insert (or replace) the layer's row of the vintages table."""
    from psycopg import sql

    prov = entry.provenance
    source = (
        f"{redact(entry.source)} table {entry.table}"
        if entry.table
        else Path(resolve_source(entry, Path("."))).name
    )
    values = {
        "layer_id": entry.id,
        "table_name": table,
        "kind": entry.kind,
        "title_zh": entry.title("zh"),
        "title_en": entry.title("en"),
        "status": prov.status if prov else "unknown",
        "demonstration": entry.is_demonstration,
        "vintage": prov.vintage if prov else None,
        "valid_from": entry.valid_from,
        "valid_to": entry.valid_to,
        "source_file": source,
        "source_sha256": sha,
        "features": len(gdf),
        "srid": srid,
        "content_sha256": content_sha256(gdf, srid),
        "provenance": json.dumps(prov.model_dump() if prov else None, ensure_ascii=False),
        "loaded_at": dt.datetime.now(dt.UTC),
        "tool_version": __version__,
    }
    names = list(values)
    conn.execute(
        sql.SQL("DELETE FROM {} WHERE layer_id = %s").format(sql.Identifier(schema, VINTAGES)),
        [entry.id],
    )
    conn.execute(
        sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            sql.Identifier(schema, VINTAGES),
            sql.SQL(", ").join(map(sql.Identifier, names)),
            sql.SQL(", ").join(sql.Placeholder() * len(names)),
        ),
        [values[n] for n in names],
    )


def database_catalog(catalog: Catalog, url: str, loaded: list[LoadedLayer]) -> dict[str, Any]:
    """A catalog (as YAML-ready data) whose layers are the tables :func:`load_layers_into` wrote.

    Parameters
    ----------
    catalog : Catalog
        The catalog that was loaded.
    url : str
        The database URL; written without its password (libpq then reads ``PGPASSWORD``,
        ``~/.pgpass`` or a service file).
    loaded : list of LoadedLayer

    Returns
    -------
    dict
        ``{"title", "version", "note", "layers": [...]}``: each entry as the original (kind,
        titles, fields, official figures, provenance, validity, declared ``crs``) with
        ``source`` the URL and ``table`` the loaded table.
    """
    target = DatabaseTarget.parse(url, "--into")
    source = without_password(url)
    tables = {lay.layer_id: lay.table for lay in loaded}
    layers = []
    for entry in catalog.layers:
        data = entry.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
        for key in ("layer", "encoding", "allow_vrt", "where"):
            data.pop(key, None)
        data.update(source=source, table=tables.get(entry.id, f"{target.schema}.{entry.id}"))
        layers.append(data)
    out = {k: getattr(catalog, k) for k in ("version", "title", "note") if getattr(catalog, k)}
    out["layers"] = layers
    return out
