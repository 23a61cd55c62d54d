"""PostgreSQL/PostGIS: connection URLs, passwords kept out of sight, reading a layer's table.

A database is named by a URL, ``postgresql://[user[:password]@][host][:port][/database]
[?param=value&...]`` (``postgres://`` is the same).  Credentials come from the URL, from
libpq's ``PG*`` environment variables (``PGHOST``, ``PGUSER``, ``PGPASSWORD`` ...), from a
password file (``~/.pgpass``) or from a connection service file (``?service=NAME``, see
``PGSERVICEFILE``): the URL is handed to libpq (through psycopg) as it is, less the
toolkit's own ``schema`` parameter.  A password is never shown: every message, log line and
provenance record goes through :func:`redact`.

:func:`read_table` reads one catalog layer's table (``table: schema.table``, optional
``where:``) through SQLAlchemy + psycopg with :func:`geopandas.read_postgis`, inside a
read-only transaction; the ``where:`` condition is catalog text, trusted like the catalog
itself (it is SQL), but a ``;`` is refused.  Everything heavy (SQLAlchemy, psycopg) is
imported on first use, so reading a URL's parts costs nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from .._optional import require
from ..errors import DatabaseError, LayerReadError

__all__ = [
    "DEFAULT_SCHEMA",
    "DatabaseTarget",
    "connect",
    "content_sha256",
    "engine",
    "is_database_url",
    "qualified",
    "read_table",
    "redact",
    "redact_text",
    "split_table",
    "without_password",
]

#: The schema ``?schema=`` selects when absent: layers and results are kept apart from
#: ``public``.
DEFAULT_SCHEMA = "zoning"
_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")
#: Any database URL inside a longer text (an error message).
_URL_IN_TEXT = re.compile(r"postgres(?:ql)?(?:\+psycopg)?://[^\s'\"<>]+", re.IGNORECASE)
#: ``password=...`` in a libpq keyword string or a query.
_PASSWORD_KV = re.compile(r"(password\s*=\s*)('[^']*'|[^\s&'\"]+)", re.IGNORECASE)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


def _join(scheme: str, netloc: str, path: str, query: str, fragment: str) -> str:
    """A URL from its parts, keeping ``scheme://`` even with no host (libpq needs it)."""
    return (
        f"{scheme}://{netloc}{path}"
        + (f"?{query}" if query else "")
        + (f"#{fragment}" if fragment else "")
    )


def is_database_url(source: object) -> bool:
    """Whether ``source`` names a PostgreSQL database (``postgresql://`` or ``postgres://``).

    Parameters
    ----------
    source : object
        A catalog ``source:``, an ``--out`` value ...

    Returns
    -------
    bool
    """
    return isinstance(source, str) and source.lower().startswith(_SCHEMES)


def redact(url: str) -> str:
    """``url`` with its password (in the user part or a ``password=`` parameter) as ``***``.

    Parameters
    ----------
    url : str
        A database URL (anything else is returned unchanged).

    Returns
    -------
    str
        E.g. ``postgresql://planner:***@db.example:5432/gis?schema=zoning``.
    """
    if not is_database_url(url):
        return url
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
    except ValueError:
        return _URL_IN_TEXT.sub("postgresql://***", url)
    if "@" in netloc:
        user, _, host = netloc.rpartition("@")
        if ":" in user:
            user = user.split(":", 1)[0] + ":***"
        netloc = f"{user}@{host}"
    query = _PASSWORD_KV.sub(lambda m: m.group(1) + "***", parts.query)
    return _join(parts.scheme, netloc, parts.path, query, parts.fragment)


def redact_text(text: str) -> str:
    """``text`` with every database URL in it redacted (:func:`redact`) and ``password=``
    values hidden: for messages that quote a URL or a libpq connection string.

    Parameters
    ----------
    text : str

    Returns
    -------
    str
    """
    text = _URL_IN_TEXT.sub(lambda m: redact(m.group(0)), text)
    return _PASSWORD_KV.sub(lambda m: m.group(1) + "***", text)


def without_password(url: str) -> str:
    """``url`` with no password at all (for a catalog written to disk: libpq then takes the
    password from ``PGPASSWORD``, ``~/.pgpass`` or a service file).

    Parameters
    ----------
    url : str
        A database URL.

    Returns
    -------
    str
    """
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.split(':', 1)[0]}@{host}"
    query = [(k, v) for k, v in parse_qsl(parts.query) if k.lower() != "password"]
    return _join(parts.scheme, netloc, parts.path, urlencode(query), parts.fragment)


@dataclass(frozen=True)
class DatabaseTarget:
    """A database URL taken apart: what libpq gets, the schema, and what may be shown.

    Attributes
    ----------
    conninfo : str
        The URL libpq connects with (``postgresql://``, without ``schema``); holds the
        password when the URL did: never show it.
    schema : str
        ``?schema=NAME`` (default :data:`DEFAULT_SCHEMA`).
    shown : str
        The redacted URL (:func:`redact`), for messages.
    """

    conninfo: str
    schema: str
    shown: str

    @classmethod
    def parse(cls, url: str, what: str = "database") -> DatabaseTarget:
        """Take ``url`` apart; a malformed URL or schema name is a one-line error.

        Parameters
        ----------
        url : str
            ``postgresql://...`` or ``postgres://...``.
        what : str
            What the URL is (an option or a layer), to start the error message.

        Returns
        -------
        DatabaseTarget

        Raises
        ------
        DatabaseError
            Not a database URL, or ``schema`` not a plain SQL name.
        """
        shown = redact(url)
        if not is_database_url(url):
            raise DatabaseError(f"{what}: {shown} is not a postgresql:// URL")
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018  (raises on a bad port)
        except ValueError as exc:
            raise DatabaseError(f"{what}: malformed URL {shown}: {redact_text(str(exc))}") from None
        query = parse_qsl(parts.query, keep_blank_values=True)
        schema = next((v for k, v in query if k == "schema"), DEFAULT_SCHEMA)
        if not _NAME.fullmatch(schema) or len(schema) > 63:
            raise DatabaseError(
                f"{what}: schema {schema!r} in {shown} is not a plain SQL name (letters, digits, _)"
            )
        rest = urlencode([(k, v) for k, v in query if k != "schema"], quote_via=quote)
        conninfo = _join("postgresql", parts.netloc, parts.path, rest, "")
        return cls(conninfo=conninfo, schema=schema, shown=shown)


def _fail(what: str, target: DatabaseTarget, exc: BaseException) -> DatabaseError:
    """A one-line :class:`DatabaseError` for a driver exception, its text redacted."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    text = lines[0] if lines else type(exc).__name__
    if text.startswith("(psycopg.") and ") " in text:  # SQLAlchemy's "(psycopg.X) text"
        text = text.split(") ", 1)[1]
    return DatabaseError(f"{what}: {target.shown}: {redact_text(text)}")


@contextlib.contextmanager
def connect(target: DatabaseTarget, what: str, *, read_only: bool = False) -> Iterator[Any]:
    """A psycopg connection in one transaction: committed when the block succeeds, rolled back
    (nothing written) when it fails.

    Parameters
    ----------
    target : DatabaseTarget
    what : str
        What the connection is for, to start error messages.
    read_only : bool
        Open the transaction read-only.

    Yields
    ------
    psycopg.Connection

    Raises
    ------
    DatabaseError
        The server cannot be reached, refuses the login, or a statement fails: one line naming
        ``what`` and the redacted URL.
    """
    psycopg = require("psycopg")
    try:
        conn = psycopg.connect(target.conninfo, connect_timeout=10)
    except psycopg.Error as exc:
        raise _fail(what, target, exc) from None
    try:
        with conn.transaction():
            if read_only:
                conn.execute("SET TRANSACTION READ ONLY")
            yield conn
    except psycopg.Error as exc:
        raise _fail(what, target, exc) from None
    finally:
        conn.close()


def engine(target: DatabaseTarget) -> Any:
    """A SQLAlchemy engine over psycopg for ``target`` (libpq reads the URL as given).

    Parameters
    ----------
    target : DatabaseTarget

    Returns
    -------
    sqlalchemy.engine.Engine
        One connection at a time (``NullPool``); dispose of it after use.
    """
    sqlalchemy = require("sqlalchemy")
    psycopg = require("psycopg")
    from sqlalchemy.pool import NullPool

    return sqlalchemy.create_engine(
        "postgresql+psycopg://",
        creator=lambda: psycopg.connect(target.conninfo, connect_timeout=10),
        poolclass=NullPool,
    )


def split_table(name: str, default_schema: str = "public") -> tuple[str, str]:
    """``schema.table`` (or ``table``) as ``(schema, table)``.

    Parameters
    ----------
    name : str
        A table name as a catalog writes it; a name with capitals or other characters is taken
        as written (it is quoted, never pasted into SQL).
    default_schema : str
        The schema of a bare ``table``.

    Returns
    -------
    (str, str)

    Raises
    ------
    ValueError
        Empty parts or more than one dot.
    """
    parts = name.split(".")
    if len(parts) > 2 or not all(p.strip() for p in parts):
        raise ValueError(f"table {name!r} is not 'schema.table' or 'table'")
    return (default_schema, parts[0]) if len(parts) == 1 else (parts[0], parts[1])


def qualified(schema: str, table: str) -> Any:
    """``"schema"."table"`` as a psycopg SQL identifier (quoted: no injection).

    Parameters
    ----------
    schema, table : str

    Returns
    -------
    psycopg.sql.Identifier
    """
    from psycopg import sql

    return sql.Identifier(schema, table)


def content_sha256(gdf: Any, srid: int) -> str:
    """SHA-256 of a table's content: its columns, SRID and each row's WKB and attributes, in
    row order (the order of the table's key), so that the same rows always give the same hash.

    Parameters
    ----------
    gdf : GeoDataFrame
        The rows as read (the geometry column last or anywhere).
    srid : int
        The geometries' SRID.

    Returns
    -------
    str
        64 hex digits.
    """
    import shapely

    h = hashlib.sha256()
    attrs = [c for c in gdf.columns if c != gdf.geometry.name]
    h.update(json.dumps({"columns": attrs, "srid": srid}).encode())
    wkb = shapely.to_wkb(gdf.geometry.to_numpy(), output_dimension=3)
    rows = gdf[attrs].astype(object).where(gdf[attrs].notna(), None).to_numpy().tolist()
    for geom, row in zip(wkb, rows, strict=True):
        h.update(geom if geom is not None else b"\x00")
        h.update(json.dumps(row, default=str, ensure_ascii=False).encode())
    return h.hexdigest()


@dataclass(frozen=True)
class _TableInfo:
    geometry: str
    srid: int
    columns: list[str]
    key: list[str]


def _table_info(conn: Any, schema: str, table: str, where: str | None, label: str) -> _TableInfo:
    """The geometry column, its SRID, the other columns and the primary key of a table."""
    from psycopg import sql

    name = f"{schema}.{table}"
    found = conn.execute("SELECT to_regclass(%s)", [str(qualified(schema, table).as_string(conn))])
    if found.fetchone()[0] is None:
        raise LayerReadError(f"{label}: table {name} not found")
    rows = conn.execute(
        "SELECT f_geometry_column, srid FROM geometry_columns "
        "WHERE f_table_schema = %s AND f_table_name = %s ORDER BY f_geometry_column",
        [schema, table],
    ).fetchall()
    if len(rows) != 1:
        what = "no geometry column" if not rows else "several geometry columns"
        raise LayerReadError(f"{label}: table {name} has {what} (one is needed)")
    geometry, srid = rows[0]
    if not srid:  # a generic geometry column: the SRID is the rows'
        cond = sql.SQL(" AND ({})").format(sql.SQL(where)) if where else sql.SQL("")
        query = sql.SQL("SELECT DISTINCT ST_SRID({g}) FROM {t} WHERE {g} IS NOT NULL{c} LIMIT 2")
        srids = conn.execute(
            query.format(g=sql.Identifier(geometry), t=qualified(schema, table), c=cond)
        ).fetchall()
        if len(srids) > 1:
            raise LayerReadError(f"{label}: table {name} mixes SRIDs in column {geometry}")
        srid = srids[0][0] if srids else 0
    columns = [
        r[0]
        for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s "
            "AND table_name = %s ORDER BY ordinal_position",
            [schema, table],
        ).fetchall()
        if r[0] != geometry
    ]
    key = [
        r[0]
        for r in conn.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = to_regclass(%s) AND i.indisprimary "
            "ORDER BY array_position(i.indkey, a.attnum)",
            [str(qualified(schema, table).as_string(conn))],
        ).fetchall()
    ]
    return _TableInfo(geometry=geometry, srid=int(srid), columns=columns, key=key)


def _crs_text(conn: Any, srid: int) -> str | None:
    """``EPSG:n`` for an EPSG SRID, else the WKT ``spatial_ref_sys`` holds; None for SRID 0."""
    if not srid:
        return None
    row = conn.execute(
        "SELECT auth_name, auth_srid, srtext FROM spatial_ref_sys WHERE srid = %s", [srid]
    ).fetchone()
    if row is None:
        return None
    auth, code, wkt = row
    return f"EPSG:{code}" if (auth or "").upper() == "EPSG" and code else wkt


#: The column :func:`zoning.database.load_layers_into` keys its tables with (not an attribute).
LOAD_KEY = "zoning_fid"


def read_table(
    url: str, table: str, where: str | None, label: str
) -> tuple[Any, str | None, dict[str, Any]]:
    """Read a layer's table: its rows in key order, its CRS and what to record of it.

    Parameters
    ----------
    url : str
        The database URL (credentials as :func:`connect` takes them).
    table : str
        ``schema.table`` (a bare name is in the URL's ``?schema=``, else ``public``).
    where : str, optional
        A SQL condition on the rows (trusted catalog text; ``;`` refused).
    label : str
        Who reads (``layer 'red_line'``), to start error messages.

    Returns
    -------
    (GeoDataFrame, str or None, dict)
        The rows (geometry column ``geometry``, no CRS set; the table's own columns less the
        loader's key ``zoning_fid``), the CRS as ``EPSG:n`` or WKT (None for SRID 0), and
        ``{"source", "layer", "sha256", "notes"}``: the redacted URL with the table, the
        table, the content hash (:func:`content_sha256`) and notes.

    Raises
    ------
    DatabaseError
        Unreachable server, refused login, a failing query (one line, redacted URL).
    LayerReadError
        Unknown table, no or several geometry columns, several SRIDs, a ``;`` in ``where``.
    """
    gpd = require("geopandas")
    from psycopg import sql

    target = DatabaseTarget.parse(url, label)
    schema_default = target.schema if "schema=" in url else "public"
    try:
        schema, name = split_table(table, schema_default)
    except ValueError as exc:
        raise LayerReadError(f"{label}: {exc}") from None
    if where is not None and ";" in where:
        raise LayerReadError(f"{label}: 'where' must be one condition, without ';'")
    source = f"{target.shown} table {schema}.{name}"
    notes: list[str] = []
    eng = engine(target)
    try:
        with eng.connect() as conn:
            raw = conn.connection.driver_connection
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            info = _table_info(raw, schema, name, where, f"{label}: {target.shown}")
            crs = _crs_text(raw, info.srid)
            cols = [c for c in info.columns if not (info.key == [LOAD_KEY] and c == LOAD_KEY)]
            query = sql.SQL("SELECT {cols}ST_AsBinary({g}) AS {g} FROM {t}{w}{o}").format(
                cols=sql.SQL("").join(sql.SQL("{}, ").format(sql.Identifier(c)) for c in cols),
                g=sql.Identifier(info.geometry),
                t=qualified(schema, name),
                w=sql.SQL(" WHERE ({})").format(sql.SQL(where)) if where else sql.SQL(""),
                o=sql.SQL(" ORDER BY {}").format(sql.SQL(", ").join(map(sql.Identifier, info.key)))
                if info.key
                else sql.SQL(""),
            )
            if not info.key:
                notes.append("table has no primary key: row order (and generated ids) may vary")
            text = query.as_string(raw)
            gdf = gpd.read_postgis(
                text, conn.execution_options(no_parameters=True), geom_col=info.geometry
            )
    except (LayerReadError, DatabaseError):
        raise
    except Exception as exc:
        if type(exc).__module__.split(".")[0] not in ("sqlalchemy", "psycopg"):
            raise
        raise _fail(label, target, getattr(exc, "orig", None) or exc) from None
    finally:
        eng.dispose()
    if gdf.geometry.name != "geometry":
        gdf = gdf.rename_geometry("geometry")
    record = {
        "source": source,
        "layer": f"{schema}.{name}",
        "sha256": content_sha256(gdf, info.srid),
        "notes": notes,
        "where": where,
    }
    return gdf, crs, record
