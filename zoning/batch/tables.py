"""The Arrow tables of one screened chunk, as the Parquet output of the whole run holds them.

:func:`chunk_tables` is :func:`zoning.tables.parquet_tables` (fixed schemas, so the chunks'
tables append to one file each) with the clause limits of the *whole run*: the clause table
and the conclusions are cut down by the number of sites of the run
(:func:`zoning.tables.clauses_note`), not of the chunk, so that a run in chunks writes the same
rows as the same run in one piece.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

__all__ = ["chunk_tables", "conform"]


def chunk_tables(result: Any, total: int | None = None) -> dict[str, pa.Table]:
    """The tables of a screened chunk, as the Parquet output of the whole run holds them.

    Parameters
    ----------
    result : ScreeningResult
        One chunk's screening.
    total : int, optional
        Sites of the whole run.  Above :data:`~zoning.tables.CLAUSES_MAX_SITES` no clause
        rows and no conclusions (the chunk's clause table is never built); above
        :data:`~zoning.tables.CLAUSES_FULL_MAX_SITES` only the rows that keep a site from
        complying.

    Returns
    -------
    dict of str to pyarrow.Table
        ``sites``, ``hits``, ``clauses`` (appended chunk after chunk) and ``codes`` (merged
        over the chunks, written once).
    """
    from ..tables import CLAUSES_MAX_SITES, parquet_tables

    if total is not None and total > CLAUSES_MAX_SITES:
        result = _WithoutClauses(result)  # never built: the whole run has none
    return _as_whole_run(parquet_tables(result), len(result.sites), total)


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
    """Keep only the clause rows a whole run of ``total`` sites keeps."""
    import pyarrow.compute as pc

    from ..tables import _DECISIVE, CLAUSES_FULL_MAX_SITES

    clauses = out["clauses"]
    if total is None or total <= n or n > CLAUSES_FULL_MAX_SITES:
        return out
    if total > CLAUSES_FULL_MAX_SITES and "result" in clauses.schema.names:
        keep = pc.is_in(clauses.column("result"), value_set=pa.array(list(_DECISIVE)))
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
