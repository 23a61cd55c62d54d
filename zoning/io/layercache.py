"""A layer's entries in the index cache: its key, and the layer as read, as arrays.

The key of a layer is the SHA-256 of its source file(s), the resolved source, the whole
catalog entry (fields, tolerance, rings, encoding, CRS, vintage ...), the toolkit version and
the cache format (:meth:`~zoning.io.cachedir.IndexCache.key`): change any of them and the
layer is read and indexed again.  Local files only: remote sources and database tables are
read every time.

The layer as read (:func:`~zoning.io.read_layer`) is stored as the geometries in the working
CRS (WKB, one flat ``uint8`` buffer plus ``int64`` offsets), the other columns as one Arrow IPC
stream (held in a ``uint8`` array) and the load report as JSON.
"""

from __future__ import annotations

import itertools
import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..catalog import LayerEntry
from ..crs import WORKING_CRS
from .cachedir import IndexCache
from .guard import is_remote
from .layer import LoadReport
from .postgis import is_database_url
from .vector import file_sha256, resolve_source, split_zip

__all__ = ["LayerStore", "geoms_from_arrays", "geoms_to_arrays", "layer_store"]

log = logging.getLogger(__name__)

#: The entry part holding the layer as read.
LAYER_PART = "layer"


def geoms_to_arrays(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Geometries as WKB in one flat buffer.

    Parameters
    ----------
    geoms : array of shapely geometries
        None is not allowed.

    Returns
    -------
    buffer : array of uint8
        The WKB of every geometry, one after the other.
    offsets : array of int64
        ``len(geoms) + 1`` offsets: geometry ``i`` is ``buffer[offsets[i]:offsets[i + 1]]``.
    """
    wkb = shapely.to_wkb(np.asarray(geoms, dtype=object))
    sizes = np.fromiter((len(b) for b in wkb), dtype=np.int64, count=len(wkb))
    offsets = np.zeros(len(wkb) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    return np.frombuffer(b"".join(wkb), dtype=np.uint8), offsets


def geoms_from_arrays(buffer: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """The geometries :func:`geoms_to_arrays` stored.

    Parameters
    ----------
    buffer : array of uint8
    offsets : array of int64

    Returns
    -------
    array of shapely geometries
        Bit-identical coordinates (WKB keeps every double).

    Raises
    ------
    ValueError
        Offsets that do not fit the buffer; shapely's error for bytes that are not WKB.
    """
    offsets = np.asarray(offsets, dtype=np.int64)
    if len(offsets) == 0 or offsets[0] != 0 or offsets[-1] != len(buffer):
        raise ValueError("WKB offsets do not fit the buffer")
    if (np.diff(offsets) < 0).any():
        raise ValueError("WKB offsets are not ascending")
    raw = bytes(buffer)
    bounds = offsets.tolist()
    items = np.array([raw[a:b] for a, b in itertools.pairwise(bounds)], dtype=object)
    return shapely.from_wkb(items, on_invalid="raise") if len(items) else np.empty(0, dtype=object)


class LayerStore:
    """One layer's entries in an :class:`~zoning.io.cachedir.IndexCache`.

    Parameters
    ----------
    cache : IndexCache
    key : str
        The layer's key (see the module notes).
    layer_id : str
    digest : str, optional
        The SHA-256 of the layer's source file(s) (passed on to :func:`~zoning.io.read_layer`).

    Attributes
    ----------
    notes : list of str
        Entries found damaged or foreign (each ignored, then rebuilt).
    read_parts : set of str
        The parts found in the cache when the store was made (cache hits; a part that then
        fails its checksums on load is taken out; parts this process writes later are not in it).

    Notes
    -----
    Every entry of the key found in the folder is checked (manifest and file sizes) when the
    store is made; a part's checksums when it is first loaded (:meth:`load`), before any of its
    arrays is used.  Arrays stay memory-mapped.
    """

    def __init__(self, cache: IndexCache, key: str, layer_id: str, digest: str | None = None):
        self.cache = cache
        self.digest = digest
        self.key = key
        self.layer_id = layer_id
        self.notes: list[str] = []
        self._found: dict[str, tuple[dict[str, np.ndarray], dict]] = {}
        self._unchecked: dict[str, dict] = {}
        self._report: LoadReport | None = None
        cache.flush()
        prefix = cache.entry_dir(key, "").name
        if cache.path.is_dir():
            for where in sorted(cache.path.glob(f"{prefix}*")):
                part = where.name[len(prefix) :]
                found = cache.open(key, part, self.notes)
                if found is not None:
                    self._unchecked[part] = found
        self.read_parts = set(self._unchecked)

    def __repr__(self) -> str:
        return f"<LayerStore {self.layer_id} in {self.cache.path}: {self.parts}>"

    @property
    def parts(self) -> list[str]:
        """The entries found for this layer (part names; checksums checked when loaded)."""
        return sorted({*self._found, *self._unchecked})

    def load(self, part: str) -> tuple[dict[str, np.ndarray], dict] | None:
        """The arrays and metadata of one part, or None when it is not cached.

        Parameters
        ----------
        part : str

        Returns
        -------
        (dict of arrays, dict) or None
            None also when the entry fails its checksums (noted; it is then written again).

        Notes
        -----
        A part's files are checksummed here, on its first load, not when the store is made:
        a process pays only for the parts it uses, and no array is used unchecked.
        """
        found = self._unchecked.pop(part, None)
        if found is not None:
            got = self.cache.load(found, self.notes)
            if got is None:
                self.read_parts.discard(part)
                self._tell_report()
            else:
                self._found[part] = got
        return self._found.get(part)

    def save(self, part: str, arrays: dict[str, np.ndarray], meta: dict | None = None) -> None:
        """Write one part (once: a part already cached is not written again).

        Parameters
        ----------
        part : str
        arrays : dict of str to array
        meta : dict, optional
            Plain JSON data.
        """
        if part in self._found or part in self._unchecked:
            return
        if self.cache.submit(self.key, part, arrays, meta):
            self._found[part] = ({k: np.asarray(v) for k, v in arrays.items()}, meta or {})

    def forget(self, part: str, why: str) -> None:
        """Note that a part could not be used (it is rebuilt, and written again).

        Parameters
        ----------
        part, why : str
        """
        self._found.pop(part, None)
        self._unchecked.pop(part, None)
        self.read_parts.discard(part)
        where = self.cache.entry_dir(self.key, part)
        self.cache.discard(where)
        name = where.name
        note = f"index cache entry {name} ignored ({why}); rebuilt"
        log.warning("%s", note)
        self.notes.append(note)
        self._tell_report()

    def _tell_report(self) -> None:
        """Copy the notes into the layer's load report (parts are checked when first used,
        after the report was made)."""
        report = self._report
        if report is not None:
            report.notes.extend(n for n in self.notes if n not in report.notes)

    # ------------------------------------------------------------------ the layer as read

    def load_layer(self) -> tuple[gpd.GeoDataFrame, LoadReport] | None:
        """The layer as :func:`~zoning.io.read_layer` returned it, or None when not cached.

        Returns
        -------
        (GeoDataFrame, LoadReport) or None
        """
        got = self.load(LAYER_PART)
        if got is None:
            return None
        arrays, meta = got
        try:
            import pyarrow as pa

            geoms = geoms_from_arrays(arrays["wkb"], arrays["wkb_offsets"])
            table = pa.ipc.open_stream(pa.py_buffer(np.asarray(arrays["columns"]))).read_all()
            attrs = _columns(table, meta["dtypes"])
            report = meta["report"]
            report["bounds_wgs84"] = (
                None if report["bounds_wgs84"] is None else tuple(report["bounds_wgs84"])
            )
            report = self._report = LoadReport(**report)
            if table.num_rows != len(geoms) or list(attrs) != meta["columns"]:
                raise ValueError("columns do not match the geometries")
        except Exception as exc:  # damaged data: shapely's, pyarrow's, the report's errors
            self.forget(LAYER_PART, describe(exc))
            return None
        name = meta["geometry"]
        attrs[name] = gpd.GeoSeries(geoms, crs=WORKING_CRS)
        frame = pd.DataFrame({c: attrs[c] for c in meta["columns_order"]})
        return gpd.GeoDataFrame(frame, geometry=name, crs=WORKING_CRS), report

    def save_layer(self, gdf: gpd.GeoDataFrame, report: LoadReport) -> None:
        """Store the layer as read (skipped, and logged, when a column cannot go into Arrow).

        Parameters
        ----------
        gdf : GeoDataFrame
            In the working CRS, as :func:`~zoning.io.read_layer` returned it.
        report : LoadReport
        """
        import pyarrow as pa

        self._report = report
        geom_col = gdf.geometry.name
        attrs = gdf.drop(columns=geom_col)
        attrs = attrs.reset_index(drop=True)
        dtypes = {str(c): str(attrs[c].dtype) for c in attrs.columns}
        try:
            table = pa.Table.from_pandas(attrs, preserve_index=False)
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, table.schema) as writer:
                writer.write_table(table)
            columns = np.frombuffer(sink.getvalue(), dtype=np.uint8)
            back = _columns(pa.ipc.open_stream(pa.py_buffer(columns)).read_all(), dtypes)
            if not all(_same(attrs[c], back[str(c)]) for c in attrs.columns):
                raise ValueError("a column does not come back from Arrow as it was")
        except Exception as exc:  # mixed-type object columns, ...
            log.info("layer %s not cached: %s", self.layer_id, describe(exc))
            return
        wkb, offsets = geoms_to_arrays(gdf.geometry.to_numpy())
        meta = {
            "report": report.to_dict(),
            "columns": [str(c) for c in attrs.columns],
            "columns_order": [str(c) for c in gdf.columns],
            "geometry": str(geom_col),
            "dtypes": dtypes,
        }
        self.save(LAYER_PART, {"wkb": wkb, "wkb_offsets": offsets, "columns": columns}, meta)


def _columns(table: Any, dtypes: dict[str, str]) -> dict[str, Any]:
    """The columns of an Arrow table as the frame had them: object columns as the Python
    values (None stays None), the others converted to their recorded dtype."""
    out: dict[str, Any] = {}
    for name, dtype in dtypes.items():
        col = table.column(name)
        if dtype == "object":
            values = np.empty(len(col), dtype=object)
            values[:] = col.to_pylist()
            out[name] = pd.Series(values, dtype=object)
        else:
            series = col.to_pandas()
            out[name] = series if str(series.dtype) == dtype else series.astype(dtype)
    return out


def _same(a: pd.Series, b: pd.Series) -> bool:
    """Same dtype, same values, missing values in the same places and of the same kind."""
    if a.dtype != b.dtype or len(a) != len(b):
        return False
    if a.dtype == object:
        x, y = a.tolist(), b.tolist()
        return [type(v) for v in x] == [type(v) for v in y] and all(
            (u == v) or (u is None and v is None) or (u != u and v != v)
            for u, v in zip(x, y, strict=True)
        )
    return bool(a.reset_index(drop=True).equals(b.reset_index(drop=True)))


def layer_store(cache: IndexCache, entry: LayerEntry, base_dir: Path | str) -> LayerStore | None:
    """The cache entries of one catalog layer, or None when its source is not a local file.

    Parameters
    ----------
    cache : IndexCache
    entry : LayerEntry
    base_dir : path
        The catalog's folder (relative sources).

    Returns
    -------
    LayerStore or None
        None for remote sources, database tables, virtual files and missing files (those are
        read, and fail, as without a cache).

    Notes
    -----
    Cost: one SHA-256 of the source file(s) (every byte read) and the check of the entries
    found (see :class:`LayerStore`).
    """
    if is_database_url(entry.source):
        return None
    source = resolve_source(entry, Path(base_dir))
    zip_path, _ = split_zip(source)
    local = zip_path or source
    if is_remote(source) or (source.startswith("/vsi") and zip_path is None):
        return None
    if not Path(local).exists():
        return None
    digest = _file_hash(cache, Path(local))
    if digest is None:
        return None
    key = cache.key(entry=entry.model_dump(mode="json"), source=source, sha256=digest)
    return LayerStore(cache, key, entry.id, digest)


def _file_hash(cache: IndexCache, path: Path) -> str | None:
    """:func:`~zoning.io.vector.file_sha256`, remembered per cache for a plain file whose size
    and modification time have not changed (catalogs often keep many layers in one file)."""
    if path.suffix.lower() == ".shp" or not path.is_file():
        return file_sha256(path)
    st = path.stat()
    memo = cache.digests
    mark = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if mark not in memo:
        memo[mark] = file_sha256(path)
    return memo[mark]


def describe(value: Any) -> str:
    """A short, one-line text of an exception or value (for notes).

    Parameters
    ----------
    value : object

    Returns
    -------
    str
    """
    return " ".join(str(value).split()) or type(value).__name__
