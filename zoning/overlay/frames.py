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
from geopandas.array import from_shapely
from pandas.api.types import infer_dtype

__all__ = ["Blocks", "geo_frame"]

#: How a block's column is typed when it is a frame of its own.
_TEXT, _OBJECT, _ARRAY = 0, 1, 2
#: The dtype a frame gives a column of text (``str`` in pandas 3, ``object`` before).
_TEXT_DTYPE = pd.Series(["a"]).dtype


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
