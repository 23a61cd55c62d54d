"""The Arrow tables of one screened chunk.

:func:`chunk_tables` gives ``sites``, ``hits``, ``clauses`` and ``codes`` as
:func:`zoning.tables.parquet_tables` builds them for a whole screening when that function
exists; otherwise a stand-in built from the CSV tables of :mod:`zoning.tables` (every column
as it is written to CSV, the clause table whole).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa

__all__ = ["chunk_tables", "conform"]


def _arrow(df: pd.DataFrame) -> pa.Table:
    table = pa.Table.from_pandas(pd.DataFrame(df), preserve_index=False)
    fields = [
        pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f for f in table.schema
    ]
    return table.cast(pa.schema(fields, metadata=table.schema.metadata))


def _standin(result: Any) -> dict[str, pa.Table]:
    from .. import tables as t

    sites = t._sites_table(result)
    hits = t._hits_table(result)
    n = len(result.sites)
    clauses = (
        pd.DataFrame(result.clauses[list(t.CLAUSE_COLUMNS)])
        if 0 < n <= t.CLAUSES_MAX_SITES and hasattr(type(result), "clauses")
        else None
    )
    reasons = (
        pd.DataFrame(result.reasons)[["rule_id", "message_en", "message_zh"]]
        if {"rule_id", "message_en", "message_zh"} <= set(result.reasons.columns)
        else pd.DataFrame({"rule_id": pd.Series([], dtype=object)})
    ).drop_duplicates()
    if clauses is None:
        clauses = pd.DataFrame({c: pd.Series([], dtype=object) for c in t.CLAUSE_COLUMNS})
    return {
        "sites": _arrow(sites),
        "hits": _arrow(hits),
        "clauses": _arrow(clauses),
        "codes": _arrow(reasons),
    }


def chunk_tables(result: Any, total: int | None = None) -> dict[str, pa.Table]:
    """The tables of a screened chunk, as the Parquet output of the whole run holds them.

    Parameters
    ----------
    result : ScreeningResult
        One chunk's screening.
    total : int, optional
        Sites of the whole run.  The clause table and ``conclusion_zh`` are cut down for a
        large run (:func:`zoning.tables.clauses_note`) by the size of the run, not of the
        chunk: above :data:`~zoning.tables.CLAUSES_MAX_SITES` sites no clause rows and no
        conclusions, above :data:`~zoning.tables.CLAUSES_FULL_MAX_SITES` only the rows that
        keep a site from complying.

    Returns
    -------
    dict of str to pyarrow.Table
        ``sites``, ``hits``, ``clauses`` (appended chunk after chunk) and the small tables of
        codes and texts (merged over the chunks, written once).
    """
    from .. import tables as t

    build = getattr(t, "parquet_tables", None) or _standin
    if total is not None and total > t.CLAUSES_MAX_SITES:
        result = _WithoutClauses(result)  # never built: the whole run has none
    return _as_whole_run(build(result), len(result.sites), total)


class _WithoutClauses:
    """A screening as the writers see one without a clause table (``type(r).clauses`` absent):
    every other attribute is the screening's."""

    def __init__(self, result: Any) -> None:
        self._result = result

    def __getattr__(self, name: str) -> Any:
        if name in ("clauses", "clause_conclusions"):
            raise AttributeError(name)
        return getattr(self._result, name)

    def __len__(self) -> int:
        return len(self._result)


def _as_whole_run(out: dict[str, pa.Table], n: int, total: int | None) -> dict[str, pa.Table]:
    """Cut the clause table and the conclusions as a whole run of ``total`` sites would."""
    import pyarrow.compute as pc

    from .. import tables as t

    if total is None or total <= n:
        return out
    most, full = t.CLAUSES_MAX_SITES, t.CLAUSES_FULL_MAX_SITES
    clauses = out["clauses"]
    if total > most:
        out["clauses"] = clauses.slice(0, 0)
        sites = out["sites"]
        i = sites.schema.get_field_index("conclusion_zh")
        if i >= 0:
            field = sites.schema.field(i)
            out["sites"] = sites.set_column(i, field, pa.nulls(sites.num_rows, field.type))
    elif total > full and n <= full and "result" in clauses.schema.names:
        keep = pc.is_in(clauses.column("result"), value_set=pa.array(list(t._DECISIVE)))
        out["clauses"] = clauses.filter(keep)
    return out


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with the columns and types of ``schema`` (the first chunk's).

    Parameters
    ----------
    table : pyarrow.Table
    schema : pyarrow.Schema

    Returns
    -------
    pyarrow.Table

    Raises
    ------
    ValueError
        The columns differ, or a column cannot take the schema's type.
    """
    if table.schema.names != schema.names:
        raise ValueError(f"columns {table.schema.names} differ from {schema.names}")
    if table.schema.equals(schema, check_metadata=False):
        return table.replace_schema_metadata(schema.metadata)
    return table.cast(schema)
