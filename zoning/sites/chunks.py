"""Sites in chunks: a big input read, checked and handed on a bounded number of rows at a time.

:func:`iter_site_chunks` gives the sites of a file as :class:`SitesChunk` objects of at most
``chunk_size`` sites each, the same sites, ids, attributes, notes and errors as
:func:`~zoning.sites.load_sites` gives for the whole file:

- CSV (``.csv``, ``.tsv``, ``.txt``) is streamed with pandas' chunked reader: the encoding is
  sniffed over the file in blocks (UTF-8, else GB18030, as :func:`load_sites`), the header
  gives the separator and the coordinate columns, and each block of rows goes through the
  same column detection, parsing and checks as a whole file (rows are named by their line in
  the file, ``sites.csv, row 700003``);
- Parquet (``.parquet``, ``.geoparquet``) is read one row group batch at a time (pyarrow);
  GeoParquet's WKB geometry column and its CRS are used, otherwise lon/lat, x/y or WKT
  columns as in a CSV;
- any other input is read whole with :func:`load_sites` and split.

Site ids must be unique over the whole input: an id seen in an earlier chunk is an error
naming the id and both rows.  Sites numbered by their row (no id column) are numbered by
their place in the whole input.  With ``on_row_error="report"`` the rows set aside are
collected across chunks (their positions in the whole input).
"""

from __future__ import annotations

import codecs
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..catalog import check_encoding
from ..errors import LayerReadError, SitesError, quote
from ..io.vector import first_line
from .attributes import _attribute_columns, _check_options
from .geometry import _resolve_crs
from .load import (
    ON_ROW_ERROR,
    Sites,
    _check_left,
    _checked_rows,
    _input_rows,
    _read_attributes,
    _site_frame,
)
from .raw import _MAX_LISTED, _all_blank, _Raw, _Where
from .sources import _TABLE_SUFFIXES, _csv_header, _from_table

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "PARQUET_SUFFIXES",
    "SitesChunk",
    "count_sites",
    "iter_site_chunks",
    "take_sites",
]

#: Sites per chunk when none is given: measured (points, --search-radius 0) 1.0 GB peak for
#: chunks of 50,000, 1.9 GB for 200,000, 4.1 GB for 500,000 (layers and indexes included).
DEFAULT_CHUNK_SIZE = 100_000
#: Suffixes read as (Geo)Parquet.
PARQUET_SUFFIXES = (".parquet", ".geoparquet", ".pq")
_SNIFF_BLOCK = 1 << 24


@dataclass(frozen=True)
class SitesChunk:
    """A chunk of sites and where its rows sit in the whole input.

    Attributes
    ----------
    sites : Sites
        The chunk's sites (index ``0..n-1``); ``input_rows.table`` is the chunk's rows only.
    positions : ndarray of int64
        Each site's position in the whole input (0-based; the CSV data row, feature or row).
    rejected : DataFrame or None
        Rows of this chunk set aside (``on_row_error="report"``), ``position`` in the whole
        input.
    """

    sites: Sites
    positions: np.ndarray
    rejected: pd.DataFrame | None = None

    def __len__(self) -> int:
        return len(self.sites)


def _kind(source: object) -> str:
    """``csv``, ``parquet`` or ``other`` for a sites input."""
    if isinstance(source, str | Path):
        path = Path(source).expanduser()
        if path.is_file():
            suffix = path.suffix.lower()
            if suffix in _TABLE_SUFFIXES:
                return "csv"
            if suffix in PARQUET_SUFFIXES:
                return "parquet"
    return "other"


def count_sites(source: object) -> int | None:
    """How many rows a CSV or Parquet input holds, without reading it (None: not known).

    Parameters
    ----------
    source : path or object
        The sites input.

    Returns
    -------
    int or None
        Data rows of a CSV (lines after the header; a quoted cell spanning lines counts
        more than once), rows of a Parquet file; None for anything else.
    """
    kind = _kind(source)
    if kind == "parquet":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(Path(source).expanduser()).metadata.num_rows)  # type: ignore[arg-type]
    if kind != "csv":
        return None
    lines, last = 0, b"\n"
    with Path(source).expanduser().open("rb") as fh:  # type: ignore[arg-type]
        while block := fh.read(_SNIFF_BLOCK):
            lines += block.count(b"\n")
            last = block[-1:]
    if last != b"\n":
        lines += 1
    return max(lines - 1, 0)


def _sniff_encoding(path: Path, encoding: str | None) -> tuple[str, str | None]:
    """As :func:`zoning.sites.sources._sniff_encoding`, in blocks (a big file is never held)."""
    if encoding is not None:
        return encoding, None
    for enc in ("utf-8", "gb18030"):
        decoder = codecs.getincrementaldecoder(enc)()
        try:
            with path.open("rb") as fh:
                while block := fh.read(_SNIFF_BLOCK):
                    decoder.decode(block)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        if enc == "utf-8":
            return "utf-8-sig", None
        return "gb18030", f"{path.name} is not UTF-8: read as GB18030 (detected)"
    raise SitesError(
        f"{path}: text is neither UTF-8 nor GB18030; declare its encoding (encoding=, e.g. "
        "Big5 or ISO-8859-1)"
    )


def _csv_frames(path: Path, label: str, encoding: str | None, chunk_size: int):
    """(note, iterator of (offset, DataFrame)): the CSV's rows in blocks, cells as text
    (coordinate columns as numbers while every cell is one, as :func:`load_sites`)."""
    enc, note = _sniff_encoding(path, encoding)
    sep, coords = _csv_header(path, label, enc)

    def reader(dtypes: dict, skip: int):
        return pd.read_csv(
            path,
            dtype=defaultdict(lambda: object, dtypes),
            na_filter=False,
            keep_default_na=False,
            encoding=enc,
            sep=sep,
            skipinitialspace=True,
            chunksize=chunk_size,
            skiprows=range(1, skip + 1) if skip else None,
        )

    def frames():
        offset = 0
        dtypes = {c: "float64" for c in coords}
        it = reader(dtypes, 0)
        while True:
            try:
                df = next(it)
            except StopIteration:
                return
            except UnicodeDecodeError as exc:
                raise SitesError(f"{label}: cannot read as CSV: {first_line(exc)}") from None
            except ValueError as exc:
                if isinstance(exc, pd.errors.ParserError | pd.errors.EmptyDataError) or not dtypes:
                    raise SitesError(f"{label}: cannot read as CSV: {first_line(exc)}") from None
                dtypes = {}  # a coordinate cell is not a number: from here on as text
                it = reader(dtypes, offset)
                continue
            yield offset, df.rename(columns=lambda c: str(c).strip())
            offset += len(df)

    return note, frames()


def _parquet_frames(path: Path, label: str, chunk_size: int):
    """(None, iterator of (offset, DataFrame or GeoDataFrame)): a (Geo)Parquet file in
    batches; GeoParquet's primary geometry column is decoded from WKB with its CRS."""
    import json

    import geopandas as gpd
    import pyarrow.parquet as pq
    import shapely

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:
        raise LayerReadError(f"{label}: cannot read as Parquet: {first_line(exc)}") from None
    meta = pf.schema_arrow.metadata or {}
    geo = json.loads(meta[b"geo"]) if b"geo" in meta else None
    column = geo.get("primary_column") if geo else None
    crs = None
    if column is not None:
        spec = geo.get("columns", {}).get(column, {})
        crs = spec.get("crs", "OGC:CRS84") if "crs" in spec else "OGC:CRS84"
        if spec.get("encoding", "WKB").upper() != "WKB":
            raise SitesError(
                f"{label}: geometry column {quote(column)} is {spec.get('encoding')}; "
                "only WKB GeoParquet is read"
            )

    def frames():
        offset = 0
        for batch in pf.iter_batches(batch_size=chunk_size):
            df = batch.to_pandas()
            if column is not None:
                geoms = shapely.from_wkb(df.pop(column).to_numpy())
                df = gpd.GeoDataFrame(df, geometry=geoms, crs=crs)
            yield offset, df
            offset += len(df)

    return None, frames()


def _raw_of(frame: pd.DataFrame, label: str, word: str, start: int) -> _Raw:
    """A block of rows as the raw record :func:`load_sites` reads."""
    import geopandas as gpd

    from .sources import _own_crs

    where = _Where(label, word, start=start)
    if isinstance(frame, gpd.GeoDataFrame):
        attrs = pd.DataFrame(frame.drop(columns=frame.geometry.name)).reset_index(drop=True)
        raw = _Raw(where=where, n=len(frame), table=attrs, geoms=frame.geometry.to_numpy())
        _own_crs(raw, frame.crs)
        raw.input_table, raw.input_where = raw.table, where
        return raw
    return _from_table(frame, where)


class _Ids:
    """Site ids seen in earlier chunks, as sorted 64-bit hashes (8 bytes a site).

    A hash seen before is looked up in the earlier rows (read again, ids only): a duplicate
    is an error naming the id and both rows; a mere collision of two hashes is not.
    """

    def __init__(self) -> None:
        self.hashes = np.empty(0, dtype=np.uint64)

    def add(self, ids: np.ndarray) -> np.ndarray:
        """Add the ids of a chunk; returns the positions (in ``ids``) of those whose hash was
        seen in an earlier chunk."""
        h = pd.util.hash_array(np.asarray(ids, dtype=object), categorize=False)  # ids unique
        order = np.argsort(h, kind="stable")
        h = h[order]
        at = np.searchsorted(self.hashes, h)  # sorted queries: one pass over memory
        inside = at < len(self.hashes)
        seen = np.zeros(len(h), dtype=bool)
        seen[inside] = self.hashes[at[inside]] == h[inside]
        self.hashes = np.insert(self.hashes, at, h)
        return np.sort(order[seen])


def _earlier_rows(frames, wanted: set, upto: int, read_ids) -> dict:
    """The first row (position) of each id of ``wanted`` before position ``upto``."""
    found: dict = {}
    for offset, frame in frames:
        if offset >= upto:
            break
        ids = read_ids(frame, offset)
        for i in np.flatnonzero(pd.Series(ids, dtype=object).isin(wanted).to_numpy()):
            found.setdefault(ids[i], offset + int(i))
    return found


def _chunk_sites(
    raw: _Raw,
    declared,
    options: dict,
    id_field: str | None,
    name_field: str | None,
    report: bool,
    offset: int,
) -> tuple[Sites, np.ndarray]:
    """The steps of :func:`load_sites` after reading, for one block of rows."""
    if raw.errors and not report:
        raise raw.errors[0]
    if raw.errors:
        _check_left(raw)
    given = _resolve_crs(raw, declared)
    raw, ids, attrs, geoms, shift = _checked_rows(raw, given, id_field, name_field, options, report)
    rows = _input_rows(raw, id_field, name_field, report)
    positions = rows.sites.astype("int64") + offset
    if _numbered(raw, id_field, name_field, options):
        ids = (positions + 1).astype(str).astype(object)
    gdf = _site_frame(ids, attrs, geoms, shift, given)
    sites = Sites(
        gdf=gdf,
        source=raw.where.file or raw.where.name,
        input_crs=given.label,
        pseudo=given.pseudo,
        notes=raw.notes,
        input_rows=rows,
    )
    return sites, positions


def _numbered(raw: _Raw, id_field, name_field, options: dict) -> bool:
    """Whether the sites were numbered by their row (no ids given)."""
    if options.get("id") is not None or raw.file_ids is not None:
        return False
    table = raw.input_table if raw.input_table is not None else raw.table
    if table is None:
        return True
    probe = _Raw(where=raw.where, n=len(table), table=table, geometry_columns=raw.geometry_columns)
    column = _attribute_columns(probe, id_field, name_field).get("id")
    return column is None or (id_field is None and _all_blank(table[column]))


def iter_site_chunks(
    source: object,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    crs: object = None,
    id_field: str | None = None,
    name_field: str | None = None,
    attributes: Mapping[str, object] | None = None,
    encoding: str | None = None,
    layer: str | None = None,
    sheet: str | None = None,
    dxf_layer: str | None = None,
    on_row_error: str = "fail",
) -> Iterator[SitesChunk]:
    """The sites of ``source`` in chunks of at most ``chunk_size``, as :func:`load_sites` reads
    them.

    Parameters
    ----------
    source : path or object
        What :func:`~zoning.sites.load_sites` accepts; CSV and Parquet files are streamed.
    chunk_size : int
        Most sites (input rows) per chunk.
    crs, id_field, name_field, attributes, encoding, layer, sheet, dxf_layer, on_row_error
        As for :func:`~zoning.sites.load_sites`.

    Returns
    -------
    iterator of SitesChunk
        In input order; every site of the input once.

    Raises
    ------
    SitesError, LayerReadError, CRSError
        As :func:`~zoning.sites.load_sites`, raised when the chunk holding the problem is
        read (earlier chunks were given already); a site id seen in an earlier chunk is an
        error naming it and both rows.

    Notes
    -----
    Memory: one chunk's rows (and for CSV the parser's buffer) plus 8 bytes per site with an
    id column (the ids' 64-bit hashes, to find duplicates; 160 MB for 20 million).  When a
    hash was seen before, the earlier rows are read again (their ids only) to name the row,
    or to find that two different ids merely share a hash.
    """
    from ..crs import parse_crs

    if chunk_size < 1:
        raise SitesError(f"chunk size must be at least 1, not {chunk_size}")
    if on_row_error not in ON_ROW_ERROR:
        raise SitesError(f"on_row_error must be 'fail' or 'report', not {quote(on_row_error)}")
    kind = _kind(source)
    keywords = dict(
        crs=crs,
        id_field=id_field,
        name_field=name_field,
        attributes=attributes,
        encoding=encoding,
        layer=layer,
        sheet=sheet,
        dxf_layer=dxf_layer,
        on_row_error=on_row_error,
    )
    if kind == "other" or layer is not None or sheet is not None or dxf_layer is not None:
        yield from _split(source, chunk_size, keywords)
        return
    declared = parse_crs(crs, what="crs") if crs is not None else None
    options = _check_options(attributes)
    if encoding is not None:
        try:
            check_encoding(encoding)
        except ValueError as exc:
            raise SitesError(f"encoding: {exc}") from None
    report = on_row_error == "report"
    label = str(source)
    path = Path(label).expanduser()

    def read_frames():
        if kind == "csv":
            return _csv_frames(path, label, encoding, chunk_size)
        return _parquet_frames(path, label, chunk_size)

    def read_ids(frame: pd.DataFrame, offset: int) -> np.ndarray:
        raw = _raw_of(frame, label, "row", start + offset)
        return _read_attributes(raw, id_field, name_field, options)[0]

    note, frames = read_frames()
    word, start = "row", 2 if kind == "csv" else 1
    ids = _Ids()
    empty = True
    for offset, frame in frames:
        if not len(frame):
            continue
        raw = _raw_of(frame, label, word, start + offset)
        if note:
            raw.notes.insert(0, note)
        sites, positions = _chunk_sites(
            raw, declared, options, id_field, name_field, report, offset
        )
        rows = sites.input_rows
        if not _numbered(raw, id_field, name_field, options):
            values = sites.gdf["site_id"].to_numpy()
            seen = ids.add(values)
            if len(seen):
                earlier = _earlier_rows(
                    read_frames()[1], {values[i] for i in seen}, offset, read_ids
                )
                shown = [
                    f"{quote(values[i])} ({word} {earlier[values[i]] + start} and "
                    f"{word} {positions[i] + start})"
                    for i in seen
                    if values[i] in earlier
                ][:_MAX_LISTED]
                if shown:
                    what = f"column {quote(rows.id_column)}" if rows.id_column else "ids"
                    raise SitesError(
                        f"{sites.source}: duplicate site ids in {what}: {'; '.join(shown)}"
                    )
        rejected = None
        if rows.rejected is not None and len(rows.rejected):
            rejected = rows.rejected.copy()
            rejected["position"] = rejected["position"] + offset
        empty = False
        yield SitesChunk(sites=sites, positions=positions, rejected=rejected)
    if empty:
        raise SitesError(f"{label}: no sites")


def _split(source: object, chunk_size: int, keywords: dict) -> Iterator[SitesChunk]:
    """Any other input: read whole with :func:`load_sites`, then split."""
    from .load import load_sites

    whole = load_sites(source, **keywords)
    rows = whole.input_rows
    positions = (
        rows.sites.astype("int64") if rows is not None else np.arange(len(whole), dtype="int64")
    )
    rejected = rows.rejected if rows is not None else None
    for k, start in enumerate(range(0, len(whole), chunk_size)):
        part = take_sites(whole, np.arange(start, min(start + chunk_size, len(whole))))
        yield SitesChunk(
            sites=part,
            positions=positions[start : start + chunk_size],
            rejected=rejected if k == 0 else None,
        )


def take_sites(sites: Sites, index: np.ndarray) -> Sites:
    """The sites at ``index`` (positions), renumbered ``0..k-1``; the input table left out.

    Parameters
    ----------
    sites : Sites
    index : ndarray of int

    Returns
    -------
    Sites
    """
    gdf = sites.gdf.iloc[index].reset_index(drop=True)
    rows = sites.input_rows
    if rows is not None:
        rows = replace(rows, table=None, sites=np.asarray(rows.sites)[index], rejected=None)
    return replace(sites, gdf=gdf, input_rows=rows, notes=list(sites.notes))
