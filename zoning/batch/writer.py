"""Appending chunks' tables to Parquet files, inside the output transaction.

:class:`ParquetAppender` opens ``sites.parquet``, ``hits.parquet`` and ``clauses.parquet`` on
the first chunk (its schema and metadata are the files'), appends each further chunk as row
groups (a ``site`` column, the site's row in its chunk, becomes its row in ``sites.parquet``),
merges the small tables of codes and texts over the chunks and writes them once, and records
the whole run (sites, chunks, verdict counts) in each file's key-value metadata on closing.  It
writes into the temporary folder of :class:`zoning.io.outputs.OutputFolder`: nothing appears
in the user's folder before the run has succeeded.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .tables import conform

__all__ = ["APPENDED", "ParquetAppender"]

#: The tables appended chunk after chunk (the others -- codes and their texts -- are merged
#: over the chunks and written once).
APPENDED = ("sites", "hits", "clauses")


class ParquetAppender:
    """Append chunk tables to ``<name>.parquet`` files in ``folder``.

    Parameters
    ----------
    folder : path
        Where the files are written (the output transaction's temporary folder).
    compression : str
        Parquet compression codec.
    """

    def __init__(self, folder: str | Path, compression: str = "zstd") -> None:
        self.folder = Path(folder)
        self.compression = compression
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.rows: dict[str, int] = dict.fromkeys(APPENDED, 0)
        self.merged: dict[str, list[pa.Table]] = {}

    def append(self, tables: dict[str, pa.Table]) -> None:
        """Append one chunk's tables.

        Parameters
        ----------
        tables : dict of str to pyarrow.Table
            At least the names of :data:`APPENDED`; the others are kept for the end.
        """
        base = self.rows["sites"]  # rows of sites.parquet before this chunk's
        for name in APPENDED:
            table = _renumbered(tables[name], base) if name != "sites" else tables[name]
            writer = self.writers.get(name)
            if writer is None:
                writer = pq.ParquetWriter(
                    self.folder / f"{name}.parquet", table.schema, compression=self.compression
                )
                self.writers[name] = writer
            else:
                table = conform(table, writer.schema)
            writer.write_table(table)
            self.rows[name] += table.num_rows
        for name, table in tables.items():
            if name in APPENDED:
                continue
            kept = self.merged.setdefault(name, [])
            kept.append(table)
            if len(kept) > 16:  # merged as it goes: never a table per chunk held
                self.merged[name] = [_merged(kept)]

    def close(self, run: dict[str, Any], update: dict[str, Any] | None = None) -> list[str]:
        """Record ``run`` in every file's metadata, write the merged tables, close.

        Parameters
        ----------
        run : dict
            JSON-serialisable summary of the run (sites, chunks, verdict counts ...), stored
            under the key ``zoning_run``.
        update : dict, optional
            Whole-run values (``verdicts``, ``duration_s``, ``notes``) replacing the first
            chunk's in the provenance the tables carry in their metadata (any metadata value
            that is a JSON object with a ``verdicts`` entry).

        Returns
        -------
        list of str
            The file names written.
        """
        meta = {"zoning_run": json.dumps(run, ensure_ascii=False, default=str)}
        names = []
        for name, writer in self.writers.items():
            writer.add_key_value_metadata({**_provenance(writer.schema, update), **meta})
            writer.close()
            names.append(f"{name}.parquet")
        self.writers = {}
        for name, kept in self.merged.items():
            table = _merged(kept)
            extra = {k.encode(): v.encode() for k, v in meta.items()}
            pq.write_table(
                table.replace_schema_metadata({**(table.schema.metadata or {}), **extra}),
                self.folder / f"{name}.parquet",
                compression=self.compression,
            )
            names.append(f"{name}.parquet")
        self.merged = {}
        return names

    def abort(self) -> None:
        """Close the open files without finishing them (the transaction removes them)."""
        for writer in self.writers.values():
            try:
                writer.close()
            except Exception:
                pass
        self.writers = {}


def _provenance(schema: pa.Schema, update: dict[str, Any] | None) -> dict[str, str]:
    """The provenance entries of ``schema``'s metadata with the whole run's values."""
    out: dict[str, str] = {}
    if not update:
        return out
    for key, value in (schema.metadata or {}).items():
        try:
            prov = json.loads(value)
        except ValueError:
            continue
        if isinstance(prov, dict) and "verdicts" in prov:
            prov.update(update)
            out[key.decode()] = json.dumps(prov, ensure_ascii=False, default=str)
    return out


def _renumbered(table: pa.Table, base: int) -> pa.Table:
    """A ``site`` column (the row of the site in the chunk's sites table) made the row in
    ``sites.parquet``."""
    i = table.schema.get_field_index("site")
    if i < 0 or not base or not pa.types.is_integer(table.schema.field(i).type):
        return table
    import pyarrow.compute as pc

    column = pc.add(table.column(i), pa.scalar(base, table.schema.field(i).type))
    return table.set_column(i, table.schema.field(i), column)


def _merged(tables: list[pa.Table]) -> pa.Table:
    """The distinct rows of ``tables`` (the first one's schema), in first-seen order."""
    first = tables[0]
    rest = [conform(t, first.schema) for t in tables[1:]]
    df = pa.concat_tables([first, *rest]).to_pandas()
    df = df.drop_duplicates(ignore_index=True)
    return pa.Table.from_pandas(df, schema=first.schema, preserve_index=False)
