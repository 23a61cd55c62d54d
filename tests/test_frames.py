"""The overlay's frame builders give what pandas and geopandas give the slow way.

:class:`zoning.overlay.frames.Blocks` builds the hits and summary tables (one block of rows per
layer) in one frame; the oracle is ``pd.concat`` of one ``DataFrame`` per block, as the tables
were built before.  :func:`~zoning.overlay.frames.geo_frame` is checked against
``GeoDataFrame(columns, geometry=..., crs=...)``.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from zoning.crs import WORKING_CRS
from zoning.overlay.frames import Blocks, geo_frame

TEXT = np.array(["a", "b"], dtype=object)
TEXT_NONE = np.array(["a", None], dtype=object)
NONES = np.array([None, None], dtype=object)
MIXED = np.array(["a", 1], dtype=object)
EMPTY = np.zeros(0, dtype=object)

# Per case: the blocks, each (n, {column: values}).
CASES = {
    "text": [(2, {"c": TEXT}), (2, {"c": TEXT_NONE})],
    "text and none": [(2, {"c": TEXT}), (2, {"c": NONES})],
    "text and empty": [(2, {"c": TEXT}), (0, {"c": EMPTY})],
    "all empty": [(0, {"c": EMPTY}), (0, {"c": EMPTY})],
    "mixed": [(2, {"c": MIXED}), (2, {"c": TEXT})],
    "scalar text": [(2, {"c": "layer"}), (0, {"c": "other"})],
    "scalar text, no rows": [(0, {"c": "layer"}), (0, {"c": "other"})],
    "scalar none": [(2, {"c": None}), (2, {"c": TEXT})],
    "scalars": [(2, {"c": np.nan}), (1, {"c": 1.5})],
    "bools": [(2, {"c": np.array([True, False])}), (1, {"c": False})],
    "bool and float": [(2, {"c": np.array([True, False])}), (1, {"c": np.array([0.5])})],
    "ints and floats": [(2, {"c": np.arange(2)}), (2, {"c": np.array([0.5, np.nan])})],
    "int widths": [(2, {"c": np.arange(2, dtype=np.int32)}), (1, {"c": np.arange(1)})],
}


@pytest.mark.parametrize("name", list(CASES))
def test_blocks_build_what_concat_of_frames_builds(name):
    blocks = CASES[name]
    want = pd.concat([pd.DataFrame(v, index=range(n)) for n, v in blocks], ignore_index=True)
    got = Blocks(["c"])
    for n, v in blocks:
        got.add(n, v)
    pd.testing.assert_frame_equal(got.frame(), want)


def test_blocks_keep_the_column_order():
    b = Blocks(["z", "a"])
    b.add(1, {"a": 1, "z": "x"})
    assert list(b.frame().columns) == ["z", "a"]


@pytest.mark.parametrize("n", [0, 1, 3])
def test_geo_frame_is_the_geodataframe_of_its_columns(n):
    geoms = shapely.points(np.arange(n, dtype=float), np.arange(n, dtype=float))
    columns = {"site": np.arange(n), "name": np.array(["a"] * n, dtype=object), "k": "x"}
    want = gpd.GeoDataFrame(columns, geometry=geoms, crs=WORKING_CRS)
    got = geo_frame(columns, geoms, WORKING_CRS)
    pd.testing.assert_frame_equal(got, want)
    assert got.crs == WORKING_CRS and got.geometry.name == "geometry"
    frame = pd.DataFrame(columns)
    pd.testing.assert_frame_equal(
        geo_frame(frame, geoms, WORKING_CRS),
        gpd.GeoDataFrame(frame, geometry=geoms, crs=WORKING_CRS),
    )
