"""One DataFrame from many column blocks, typed as ``pd.concat`` of one frame per block.

The hits and summary tables have one block of rows per layer.  Building a DataFrame per layer
and concatenating them costs about a millisecond per layer whatever the number of rows, which
is most of the time of a one-site screening; :class:`Blocks` concatenates the columns with
numpy and builds one frame, with the dtypes the concatenation of per-block frames gets (a text
column is ``str`` only when every block's values would be inferred as text, else ``object``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
from geopandas.array import from_shapely
from pandas.api.types import infer_dtype

__all__ = ["Blocks", "geo_frame", "text_from_codes"]

#: How a block's column is typed when it is a frame of its own.
_TEXT, _OBJECT, _ARRAY = 0, 1, 2
#: The dtype a frame gives a column of text (``str`` in pandas 3, ``object`` before).
_TEXT_DTYPE = pd.Series(["a"]).dtype
#: Whether that dtype holds its values in Arrow (then text columns are built in Arrow: pandas
#: converting an object array of Python strings costs about 0.7 s per million values).
_ARROW_TEXT = isinstance(_TEXT_DTYPE, pd.StringDtype) and _TEXT_DTYPE.storage == "pyarrow"


def text_from_codes(uniques: np.ndarray, codes: np.ndarray) -> Any:
    """The values ``uniques[codes]`` typed as a frame types a column of text.

    Parameters
    ----------
    uniques : array of str
        The distinct values.
    codes : array of int
        Per row: a position in ``uniques``; -1 for a missing value.

    Returns
    -------
    array
        With pandas' Arrow-backed ``str`` dtype, a ``str`` array built in Arrow (no Python
        string per row); else an object array of the values (NaN where missing).
    """
    codes = np.asarray(codes, dtype=np.int64)
    if not _ARROW_TEXT:
        if not len(uniques):
            return np.full(len(codes), np.nan, dtype=object)
        out = np.asarray(uniques, dtype=object)[np.maximum(codes, 0)]
        out[codes < 0] = np.nan
        return out
    dictionary = pa.array(list(uniques), type=pa.large_string())
    index = pa.array(codes, mask=codes < 0) if (codes < 0).any() else pa.array(codes)
    return pd.array(dictionary.take(index), dtype=_TEXT_DTYPE)


def _arrow_text(parts: list[tuple[np.ndarray, int]], consts: list[Any]) -> Any:
    """A text column's blocks as one ``str`` array built in Arrow (a block of one repeated
    value as the repetition of that value)."""
    pieces = []
    for (arr, _), const in zip(parts, consts, strict=True):
        if const is not None:
            pieces.append(pa.repeat(pa.scalar(const, pa.large_string()), len(arr)))
        else:
            pieces.append(pa.array(arr, type=pa.large_string(), from_pandas=True))
    return pd.array(
        pa.chunked_array(pieces, type=pa.large_string()).combine_chunks(), dtype=_TEXT_DTYPE
    )


def _block_column(value: Any, n: int) -> tuple[np.ndarray, int]:
    """The column of one block as an array, and whether a frame would type it as text,
    as object, or by its numpy dtype."""
    if isinstance(value, np.ndarray):
        if value.dtype != object:
            return value, _ARRAY
        return value, _TEXT if infer_dtype(value, skipna=True) == "string" else _OBJECT
    if isinstance(value, str):
        return np.full(n, value, dtype=object), _TEXT
    if value is None:
        return np.full(n, None, dtype=object), _OBJECT
    arr = np.full(n, value)
    return arr, _ARRAY


class Blocks:
    """Column blocks of one table (one block per layer), built into one frame.

    Parameters
    ----------
    columns : sequence of str
        The table's columns, in order.
    """

    def __init__(self, columns: Sequence[str]) -> None:
        self.columns = list(columns)
        self.parts: dict[str, list[tuple[np.ndarray, int]]] = {c: [] for c in self.columns}
        self.consts: dict[str, list[Any]] = {c: [] for c in self.columns}

    def add(self, n: int, values: Mapping[str, Any]) -> None:
        """Add a block of ``n`` rows.

        Parameters
        ----------
        n : int
            The block's number of rows.
        values : mapping
            Per column: an array of ``n`` values, or one value for every row.
        """
        for c in self.columns:
            self.parts[c].append(_block_column(values[c], n))
            self.consts[c].append(values[c] if isinstance(values[c], str) else None)

    def __len__(self) -> int:
        return len(self.parts[self.columns[0]]) if self.columns else 0

    def frame(self) -> pd.DataFrame:
        """The table: the blocks' rows in order, typed as ``pd.concat`` of per-block frames.

        Returns
        -------
        DataFrame
        """
        data: dict[str, Any] = {}
        for c in self.columns:
            parts = self.parts[c]
            arrays = [a for a, _ in parts]
            kinds = {k for _, k in parts}
            if kinds == {_ARRAY}:
                first = arrays[0].dtype
                same = all(a.dtype == first for a in arrays)
                if same or all(a.dtype.kind in "iuf" for a in arrays):
                    data[c] = np.concatenate(arrays) if len(arrays) > 1 else arrays[0]
                    continue
                data[c] = pd.Series(
                    np.concatenate([a.astype(object) for a in arrays]), dtype=object
                )
                continue
            if kinds == {_TEXT} and _ARROW_TEXT and sum(len(a) for a in arrays):
                data[c] = _arrow_text(parts, self.consts[c])
                continue
            values = np.concatenate([a.astype(object, copy=False) for a in arrays])
            if kinds == {_TEXT}:
                data[c] = values if len(values) else pd.Series(values, dtype=_TEXT_DTYPE)
            else:
                data[c] = pd.Series(values, dtype=object)
        return pd.DataFrame(data, columns=self.columns)


def geo_frame(
    columns: Mapping[str, Any] | pd.DataFrame, geometry: Any, crs: Any
) -> gpd.GeoDataFrame:
    """A GeoDataFrame of ``columns`` plus a ``geometry`` column (last) in ``crs``.

    Parameters
    ----------
    columns : mapping or DataFrame
        The other columns (arrays, or one value for every row).
    geometry : array of shapely geometries (or None)
    crs : pyproj.CRS

    Returns
    -------
    GeoDataFrame
        As ``GeoDataFrame(columns, geometry=geometry, crs=crs)``, built about three times
        faster (geopandas checks a frame given a geometry and a CRS column by column; given a
        geometry column already in its CRS it does not).
    """
    geoms = from_shapely(np.asarray(geometry, dtype=object), crs=crs)
    if isinstance(columns, pd.DataFrame):
        frame = columns.copy()
        frame["geometry"] = geoms
    else:
        frame = pd.DataFrame({**columns, "geometry": geoms})
    return gpd.GeoDataFrame(frame, geometry="geometry", copy=False)  # frame is new
