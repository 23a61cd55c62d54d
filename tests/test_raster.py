"""Raster products: the catalog as a COG, zonal statistics by window, the demo population grid.

Oracles are independent of the code under test: shapely point-in-polygon at cell centres,
hand-computed tables on hand-made rasters, block-wise arithmetic for a large patterned raster,
the census figures of the districts layer, geodesic areas (``pyproj.Geod`` on the zone
polygons, densified and taken to longitude/latitude) and GDAL itself reading the sidecar.
"""

from __future__ import annotations

import csv
import ctypes
import importlib.util
import io
import json
import math
import subprocess
import sys
import tracemalloc
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from click.testing import CliRunner
from shapely.geometry import box

import zoning
from conftest import REPO, write_catalog

rasterio = pytest.importorskip("rasterio")
from affine import Affine  # noqa: E402
from rasterio.windows import Window  # noqa: E402

import zoning.raster as zr  # noqa: E402
from zoning.cli.raster import rasterize_cmd, zonal_cmd  # noqa: E402

UTM = "EPSG:32651"
X0, Y0 = 400_000.0, 3_500_000.0  # top-left corner of the hand-made rasters (UTM 51N, Shanghai)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def demo_cog(demo_layers, tmp_path_factory):
    out = tmp_path_factory.mktemp("cog") / "shanghai_1000m.tif"
    return zr.rasterize(demo_layers, res=1000, out=out)


def write_raster(path, array, *, nodata=None, crs=UTM, res=10.0, **extra):
    """A single-band GeoTIFF whose top-left corner is (X0, Y0)."""
    profile = {
        "driver": "GTiff",
        "width": array.shape[1],
        "height": array.shape[0],
        "count": 1,
        "dtype": array.dtype.name,
        "transform": Affine(res, 0, X0, 0, -res, Y0),
        "nodata": nodata,
        **extra,
    }
    if crs is not None:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(array, 1)
    return path


def cell_box(row0, row1, col0, col1, res=10.0):
    """The polygon covering rows [row0, row1) and columns [col0, col1), edges on cell edges."""
    return box(X0 + col0 * res, Y0 - row1 * res, X0 + col1 * res, Y0 - row0 * res)


def zones_gdf(boxes: dict, crs=UTM):
    return gpd.GeoDataFrame(
        {"feature_id": list(boxes), "name": [f"zone {k}" for k in boxes]},
        geometry=list(boxes.values()),
        crs=crs,
    )


def as_table(df, *cols):
    return {tuple(r[c] for c in cols): r for r in df.to_dict("records")}


GEOD = pyproj.Geod(ellps="WGS84")


def geodesic_area(geom, crs) -> float:
    """True area (m²) of a polygon given in ``crs``: edges densified to 1/200 of its size and
    taken to longitude/latitude, then the geodesic area on WGS 84."""
    xmin, ymin, xmax, ymax = geom.bounds
    dense = gpd.GeoSeries([geom], crs=crs).segmentize(max(xmax - xmin, ymax - ymin) / 200)
    return abs(GEOD.geometry_area_perimeter(dense.to_crs(4326).iloc[0])[0])


# True area of one 10 m cell of the hand-made rasters (UTM 51N, 100 km west of the central
# meridian: 0.055 % more than the nominal 100 m²); the cells of a 6 x 6 raster differ by < 1e-8.
CELL_M2 = geodesic_area(box(X0, Y0 - 60, X0 + 60, Y0), UTM) / 36


# --------------------------------------------------------------------------- rasterize


def test_rasterize_grid_crs_nodata_and_tags(demo_layers, demo_cog):
    bounds = np.array([lyr.gdf.total_bounds for lyr in demo_layers])
    xmin, ymin = bounds[:, 0].min(), bounds[:, 1].min()
    xmax, ymax = bounds[:, 2].max(), bounds[:, 3].max()
    units = demo_layers["control_units"].gdf
    with rasterio.open(demo_cog.path) as ds:
        assert pyproj.CRS.from_wkt(ds.crs.to_wkt()) == zoning.WORKING_CRS
        assert ds.res == (1000.0, 1000.0)
        # origin snapped to a multiple of 1000 m, the grid covers every layer by < one cell
        assert ds.transform.c == math.floor(xmin / 1000) * 1000
        assert ds.transform.f == math.ceil(ymax / 1000) * 1000
        assert 0 <= ds.bounds.right - xmax < 1000 and 0 <= ymin - ds.bounds.bottom < 1000
        assert (ds.height, ds.width) == demo_cog.shape
        assert set(ds.dtypes) == {"uint16"}  # 293 units need more than uint8
        assert ds.nodata == 65535 == demo_cog.nodata
        assert ds.descriptions == demo_cog.bands
        assert ds.descriptions[:2] == ("control_unit_category", "control_unit_index")
        assert set(ds.descriptions[2:]) == {
            "red_line",
            "development_boundary",
            "basic_farmland",
            "water",
            "water_source_zone",
            "nature_reserve",
            "heritage_site",
            "noise_sensitive_area",
        }
        tags = ds.tags()
        legend = json.loads(tags["legend"])
        assert legend["1"]["code"] == "priority" and legend["1"]["zh"] == "优先保护单元"
        assert [legend[k]["code"] for k in ("2", "3")] == ["key", "general"]
        assert json.loads(ds.tags(1)["legend"]) == legend
        assert tags["demonstration"] == "true" and "DEMONSTRATION DATA" in tags["note"]
        assert tags["zoning_version"] == zoning.__version__
        assert [entry["id"] for entry in json.loads(tags["layers"])] == demo_layers.ids
        assert tags["catalog"].endswith("catalog.yml")
        codes = json.loads(tags["unit_codes"])
        assert len(codes) == len(units) == 293 and set(codes) == set(units["unit_code"])
        assert ds.colormap(1)[1][:3] == (26, 152, 80)  # from the .aux.xml sidecar
        assert legend["1"]["colour"] == "#1a9850"
        mask_legend = json.loads(ds.tags(3)["legend"])
        assert mask_legend["1"]["code"] == "inside" and ds.tags(3)["kind"] == ds.descriptions[2]


def test_rasterize_is_a_cloud_optimized_geotiff(demo_cog):
    with rasterio.open(demo_cog.path) as ds:
        assert ds.overviews(1)  # internal overviews
        assert ds.profile["tiled"] and ds.block_shapes[0] == (256, 256)
        assert ds.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert ds.compression.name.upper() == "DEFLATE"


def test_rasterize_agrees_with_point_in_polygon_at_cell_centres(demo_layers, demo_cog):
    """Sampled cells against shapely: the unit (category and code) and the red line containing
    each cell centre, and nodata outside the territory."""
    units = demo_layers["control_units"].gdf
    expected_cat = units["category"].map({"priority": 1, "key": 2, "general": 3}).to_numpy()
    red = shapely.union_all(demo_layers["red_line"].gdf.geometry.to_numpy())
    territory = shapely.union_all(
        np.concatenate([demo_layers[i].gdf.geometry.to_numpy() for i in ("districts", "sea_area")])
    )
    shapely.prepare(red)
    shapely.prepare(territory)
    rng = np.random.default_rng(20260522)
    with rasterio.open(demo_cog.path) as ds:
        data = ds.read()
        codes = json.loads(ds.tags()["unit_codes"])
        red_band = ds.descriptions.index("red_line")
        rows = rng.integers(0, ds.height, 600)
        cols = rng.integers(0, ds.width, 600)
        t = ds.transform  # north-up: cell centres by hand
        xs, ys = t.c + (cols + 0.5) * t.a, t.f + (rows + 0.5) * t.e
    points = shapely.points(xs, ys)
    inside_pt, unit_idx = units.sindex.query(points, predicate="within")
    owner = np.full(len(points), -1)
    owner[inside_pt] = unit_idx
    cat_ok = code_ok = red_ok = 0
    for k, (r, c) in enumerate(zip(rows, cols, strict=True)):
        cat, idx = int(data[0, r, c]), int(data[1, r, c])
        if owner[k] < 0:
            cat_ok += cat == 65535
            code_ok += idx == 65535
        else:
            cat_ok += cat == expected_cat[owner[k]]
            code_ok += idx != 65535 and codes[idx - 1] == units["unit_code"].iloc[owner[k]]
        if not territory.contains(points[k]):
            red_ok += data[red_band, r, c] == 65535
        else:
            red_ok += data[red_band, r, c] == int(red.contains(points[k]))
    print(f"cell-centre agreement of {len(points)}: {int(cat_ok)}, {int(code_ok)}, {int(red_ok)}")
    assert (owner >= 0).sum() > 300  # most samples fall in a unit
    for ok in (cat_ok, code_ok, red_ok):
        assert ok / len(points) >= 0.995, (cat_ok, code_ok, red_ok)


def test_rasterize_category_of_representative_points(demo_layers, demo_cog):
    """Large units of each category: the cell under the unit's representative point."""
    units = demo_layers["control_units"].gdf
    big = units[units.area > 40e6]
    with rasterio.open(demo_cog.path) as ds:
        band = ds.read(1)
        checked = 0
        for category, value in (("priority", 1), ("key", 2), ("general", 3)):
            for geom in big[big["category"] == category].geometry.head(5):
                pt = geom.representative_point()
                row, col = ds.index(pt.x, pt.y)
                t = ds.transform
                x0, y0 = t.c + col * t.a, t.f + row * t.e
                cell = box(x0, y0 + t.e, x0 + t.a, y0)
                if geom.contains(cell):  # the cell lies wholly inside the unit
                    assert band[row, col] == value
                    checked += 1
    assert checked >= 9


def test_rasterize_in_another_crs(demo_layers, tmp_path):
    info = zr.rasterize(demo_layers, res=4000, out=tmp_path / "utm.tif", crs=UTM)
    with rasterio.open(info.path) as ds:
        assert ds.crs.to_epsg() == 32651 and ds.res == (4000.0, 4000.0)
        assert "EPSG:32651" in ds.tags()["grid_crs"] and "reprojected" in ds.tags()["grid_crs"]
        # Shanghai and its waters lie 250-560 km east, 3.3-3.55 Mm north in UTM 51N
        assert 250e3 < ds.bounds.left < ds.bounds.right < 560e3
        assert 3.3e6 < ds.bounds.bottom < ds.bounds.top < 3.55e6
        # People's Square, placed with pyproj: central-city units are all "key" (2)
        x, y = pyproj.Transformer.from_crs(4326, 32651, always_xy=True).transform(121.475, 31.232)
        row, col = ds.index(x, y)
        assert ds.read(1)[row, col] == 2


def test_rasterize_bounds_and_argument_errors(demo_layers, tmp_path):
    info = zr.rasterize(
        demo_layers, res=2000, out=tmp_path / "b.tif", bounds=(-10_000, -6_000, 9_000, 0)
    )
    assert info.shape == (3, 10) and (info.transform.c, info.transform.f) == (-10_000, 0)
    for bad in (0, -5, "abc", float("nan")):
        with pytest.raises(zr.RasterError, match="res"):
            zr.rasterize(demo_layers, res=bad, out=tmp_path / "x.tif")
    with pytest.raises(zoning.CRSError, match="not projected"):
        zr.rasterize(demo_layers, res=1000, out=tmp_path / "x.tif", crs="EPSG:4326")
    with pytest.raises(zr.RasterError, match="limit"):
        zr.rasterize(demo_layers, res=0.5, out=tmp_path / "x.tif")
    with pytest.raises(zr.RasterError, match="bounds"):
        zr.rasterize(demo_layers, res=1000, out=tmp_path / "x.tif", bounds=(5, 5, 0, 0))
    assert not (tmp_path / "x.tif").exists()


def test_rasterize_writes_atomically(demo_layers, tmp_path, monkeypatch):
    out = tmp_path / "keep.tif"
    out.write_bytes(b"previous file")

    def broken_copy(src, dst, **options):
        Path(dst).write_bytes(b"partial")
        raise RuntimeError("disk full")

    monkeypatch.setattr(rasterio.shutil, "copy", broken_copy)
    with pytest.raises(RuntimeError, match="disk full"):
        zr.rasterize(demo_layers, res=5000, out=out)
    assert out.read_bytes() == b"previous file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.tif"]  # no temporary leftovers


def test_rasterize_long_unit_table_goes_to_a_sidecar(demo_layers, tmp_path, monkeypatch):
    monkeypatch.setattr(zr.burn, "MAX_TAG_CHARS", 100)
    info = zr.rasterize(demo_layers, res=5000, out=tmp_path / "s.tif")
    assert info.units_file == tmp_path / "s.tif.units.csv"
    with rasterio.open(info.path) as ds:
        assert "unit_codes" not in ds.tags()
        assert ds.tags()["unit_codes_file"] == "s.tif.units.csv"
    with info.units_file.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 293 and rows[0]["index"] == "1"
    assert [r["unit_code"] for r in rows] == demo_layers["control_units"].gdf["unit_code"].tolist()


def test_rasterize_without_units_or_territory(tmp_path, square_gpkg):
    """A catalog with one red-line square: a single uint8 mask band, no nodata cells."""
    cat = write_catalog(
        tmp_path / "c.yml", [{"id": "rl", "kind": "red_line", "source": square_gpkg.name}]
    )
    ls = zoning.load_catalog(cat)
    xmin, ymin, xmax, ymax = ls["rl"].gdf.total_bounds
    info = zr.rasterize(ls, res=100, out=tmp_path / "rl.tif", bounds=(xmin - 500, ymin, xmax, ymax))
    assert info.bands == ("red_line",) and info.dtype == "uint8" and info.nodata == 255
    assert info.aux_file is None and not info.demonstration
    with rasterio.open(info.path) as ds:
        data = ds.read(1)
        assert ds.tags()["demonstration"] == "false" and "note" not in ds.tags()
    assert set(np.unique(data)) == {0, 1}  # no territory layer: no nodata cell
    assert (data[:, :5] == 0).all() and data[:, 5:].mean() > 0.9  # 500 m margin on the west


def gdal_read_categories(path):
    """Band 1's category names and raster attribute table as GDAL itself reads them, through
    the libgdal that rasterio ships (ctypes); None when that library cannot be found."""
    libs = sorted(Path(rasterio.__file__).parent.parent.glob("rasterio.libs/libgdal*.so*"))
    if not libs:
        return None
    lib = ctypes.CDLL(str(libs[0]))
    vp, cp = ctypes.c_void_p, ctypes.c_char_p
    for name, res, args in [
        ("GDALOpen", vp, [cp, ctypes.c_int]),
        ("GDALGetRasterBand", vp, [vp, ctypes.c_int]),
        ("GDALGetDefaultRAT", vp, [vp]),
        ("GDALGetRasterCategoryNames", ctypes.POINTER(cp), [vp]),
        ("GDALRATGetRowCount", ctypes.c_int, [vp]),
        ("GDALRATGetColumnCount", ctypes.c_int, [vp]),
        ("GDALRATGetNameOfCol", cp, [vp, ctypes.c_int]),
        ("GDALRATGetUsageOfCol", ctypes.c_int, [vp, ctypes.c_int]),
        ("GDALRATGetValueAsString", cp, [vp, ctypes.c_int, ctypes.c_int]),
        ("GDALClose", None, [vp]),
    ]:
        getattr(lib, name).restype, getattr(lib, name).argtypes = res, args
    lib.GDALAllRegister()
    handle = lib.GDALOpen(str(path).encode(), 0)
    assert handle, f"GDAL cannot open {path}"
    try:
        band = lib.GDALGetRasterBand(handle, 1)
        # The RAT first: GTiff loads the sidecar lazily, on the first call that needs it
        # (colour table, RAT, metadata), and GetCategoryNames alone does not trigger it.
        rat = lib.GDALGetDefaultRAT(band)
        assert rat, "GDAL finds no raster attribute table"
        names, raw = [], lib.GDALGetRasterCategoryNames(band)
        while raw and raw[len(names)] is not None:
            names.append(raw[len(names)].decode())
        n_cols = lib.GDALRATGetColumnCount(rat)
        columns = [lib.GDALRATGetNameOfCol(rat, i).decode() for i in range(n_cols)]
        usages = [lib.GDALRATGetUsageOfCol(rat, i) for i in range(n_cols)]
        rows = [
            [lib.GDALRATGetValueAsString(rat, r, c).decode() for c in range(n_cols)]
            for r in range(lib.GDALRATGetRowCount(rat))
        ]
    finally:
        lib.GDALClose(handle)
    return names, columns, usages, rows


def test_rasterize_writes_class_names_and_attribute_table(demo_cog):
    """Band 1's classes get names in the .aux.xml sidecar: <CategoryNames> and a thematic
    raster attribute table beside the colour table; GDAL itself reads them back."""
    aux = demo_cog.aux_file
    assert aux == demo_cog.path.with_name(demo_cog.path.name + ".aux.xml") and aux.exists()
    band = ET.parse(aux).getroot().find("PAMRasterBand[@band='1']")
    want_names = ["", "priority 优先保护单元", "key 重点管控单元", "general 一般管控单元"]
    assert [c.text or "" for c in band.find("CategoryNames")] == want_names
    rat = band.find("GDALRasterAttributeTable")
    assert rat.get("tableType") == "thematic"
    fields = [(f.findtext("Name"), f.findtext("Type"), f.findtext("Usage")) for f in rat]
    fields = [f for f in fields if f[0]]
    # GDAL codes: type 0 integer, 2 string; usage 5 MinMax, 2 Name, 0 generic, 6-9 RGBA
    assert fields == [
        ("Value", "0", "5"),
        ("Name", "2", "2"),
        ("code", "2", "0"),
        ("name_zh", "2", "0"),
        ("name_en", "2", "0"),
        ("Red", "0", "6"),
        ("Green", "0", "7"),
        ("Blue", "0", "8"),
        ("Alpha", "0", "9"),
    ]
    rows = [[f.text for f in row] for row in rat.findall("Row")]
    assert rows[0] == [
        "1", "priority 优先保护单元", "priority", "优先保护单元", "Priority protection unit",
        "26", "152", "80", "255",
    ]  # fmt: skip
    assert [r[:2] for r in rows] == [
        ["1", want_names[1]],
        ["2", want_names[2]],
        ["3", want_names[3]],
    ]
    assert [r[5:8] for r in rows] == [
        ["26", "152", "80"],
        ["215", "48", "39"],
        ["254", "224", "139"],
    ]
    with rasterio.open(demo_cog.path) as ds:  # the colour table is still read from the sidecar
        assert ds.colormap(1)[2][:3] == (215, 48, 39)
    read = gdal_read_categories(demo_cog.path)
    if read is None:
        pytest.skip("rasterio's libgdal not found: GDAL's own reading not checked")
    names, columns, usages, gdal_rows = read
    assert names == want_names
    assert columns == [f[0] for f in fields] and usages == [int(f[2]) for f in fields]
    assert gdal_rows == rows


# --------------------------------------------------------------------------- zonal statistics

# A 6 x 6 categorical raster (nodata 0) on a 10 m UTM grid.
CLASSES = np.array(
    [
        [1, 1, 2, 2, 3, 3],
        [1, 1, 2, 2, 3, 3],
        [1, 0, 2, 2, 3, 3],
        [4, 4, 4, 1, 1, 1],
        [4, 4, 4, 1, 1, 1],
        [4, 4, 4, 1, 0, 1],
    ],
    dtype="uint8",
)
ZONES = {
    "A": cell_box(0, 3, 0, 3),  # rows 0-2, columns 0-2
    "B": cell_box(0, 6, 3, 6),  # rows 0-5, columns 3-5
    "C": cell_box(3, 6, 0, 3),  # rows 3-5, columns 0-2
    "far": box(X0 + 5_000, Y0 - 5_000, X0 + 5_100, Y0 - 4_900),  # outside the raster
}
# Counted by hand from the array above: zone -> class -> cells.
EXPECTED_COUNTS = {
    "A": {1: 5, 2: 3},
    "B": {1: 8, 2: 3, 3: 6},
    "C": {4: 9},
}


@pytest.fixture
def classes_tif(tmp_path):
    return write_raster(tmp_path / "classes.tif", CLASSES, nodata=0)


def check_counts(df):
    assert set(df.columns) >= {"zone_id", "zone_name", "value", "count", "share", "area_m2"}
    got = {(r["zone_id"], int(r["value"])): r for r in df.to_dict("records")}
    want = {(z, v): n for z, per in EXPECTED_COUNTS.items() for v, n in per.items()}
    assert set(got) == set(want)
    for (zone, value), n in want.items():
        total = sum(EXPECTED_COUNTS[zone].values())
        assert got[zone, value]["count"] == n
        assert got[zone, value]["share"] == pytest.approx(n / total)
        assert got[zone, value]["area_m2"] == pytest.approx(n * CELL_M2, rel=1e-6)


@pytest.mark.parametrize("window_size", [1024, 4, 2, 1])
def test_zonal_categorical_hand_made(classes_tif, window_size):
    df = zr.zonal_stats(classes_tif, zones_gdf(ZONES), window_size=window_size)
    check_counts(df)
    assert df.attrs["categorical"] is True and df.attrs["nodata"] == 0
    assert df.attrs["zones_without_cells"] == ["far"]
    assert df.attrs["reprojection"].startswith("none")
    assert df.attrs["crs"] == "EPSG:32651" and df.attrs["raster"] == str(classes_tif)
    assert df.attrs["demonstration"] is False


def test_zonal_reprojects_zones_to_the_raster_crs(classes_tif):
    zones = zones_gdf(ZONES).to_crs(4326)
    df = zr.zonal_stats(classes_tif, zones)
    check_counts(df)
    assert df.attrs["reprojection"] == "zones reprojected from EPSG:4326 to EPSG:32651"


def test_zonal_continuous_hand_made(tmp_path):
    values = (np.arange(36, dtype="float32").reshape(6, 6)) * 0.5  # cell (r, c) = (6r + c) / 2
    values[0, 0] = values[4, 4] = -9999
    values[5, 0] = np.nan  # in zone C only: not finite, excluded
    path = write_raster(tmp_path / "values.tif", values, nodata=-9999)
    df = zr.zonal_stats(path, zones_gdf(ZONES), window_size=4)
    assert df.attrs["categorical"] is False
    rows = as_table(df, "zone_id")
    # Hand-computed: A = rows 0-2 x columns 0-2 without (0, 0).
    a = rows[("A",)]
    assert (a["count"], a["sum"], a["min"], a["max"]) == (8, 31.5, 0.5, 7.0)
    assert a["mean"] == pytest.approx(31.5 / 8)
    # B = rows 0-5 x columns 3-5 without (4, 4): row sums 6, 15, 24, 33, 28, 51.
    b = rows[("B",)]
    assert (b["count"], b["sum"], b["min"], b["max"]) == (17, 157.0, 1.5, 17.5)
    assert b["mean"] == pytest.approx(157 / 17)
    # C = rows 3-5 x columns 0-2 without the NaN at (5, 0).
    c = rows[("C",)]
    assert (c["count"], c["sum"], c["min"], c["max"]) == (8, 97.5, 9.0, 16.0)
    assert c["area_m2"] == pytest.approx(8 * CELL_M2, rel=1e-6)
    far = rows[("far",)]
    assert far["count"] == 0 and math.isnan(far["mean"]) and math.isnan(far["min"])
    assert far["area_m2"] == 0


def test_zonal_overlapping_zones_cell_goes_to_the_zone_drawn_last(classes_tif):
    ones = write_raster(classes_tif.with_name("ones.tif"), np.ones((6, 6), "uint8"), nodata=0)
    left, right = cell_box(0, 6, 0, 4), cell_box(0, 6, 2, 6)  # columns 2-3 overlap
    df = zr.zonal_stats(ones, zones_gdf({"L": left, "R": right}), categorical=False)
    assert as_table(df, "zone_id")[("L",)]["count"] == 12
    assert as_table(df, "zone_id")[("R",)]["count"] == 24
    df = zr.zonal_stats(ones, zones_gdf({"R": right, "L": left}), categorical=False)
    assert as_table(df, "zone_id")[("L",)]["count"] == 24


def test_zonal_errors(tmp_path, classes_tif):
    no_crs = write_raster(tmp_path / "nocrs.tif", CLASSES, nodata=0, crs=None)
    with pytest.raises(zoning.CRSError, match=r"nocrs\.tif"):
        zr.zonal_stats(no_crs, zones_gdf(ZONES))
    with pytest.raises(zoning.LayerReadError, match=r"missing\.tif"):
        zr.zonal_stats(tmp_path / "missing.tif", zones_gdf(ZONES))
    with pytest.raises(OSError):  # LayerReadError is an OSError
        zr.zonal_stats(tmp_path / "missing.tif", zones_gdf(ZONES))
    junk = tmp_path / "junk.tif"
    junk.write_bytes(b"not a tiff" * 10)
    with pytest.raises(zoning.LayerReadError, match=r"junk\.tif"):
        zr.zonal_stats(junk, zones_gdf(ZONES))
    with pytest.raises(zr.RasterError, match="band 2"):
        zr.zonal_stats(classes_tif, zones_gdf(ZONES), band=2)
    with pytest.raises(zoning.CRSError, match="no CRS"):
        zr.zonal_stats(classes_tif, zones_gdf(ZONES).set_crs(None, allow_override=True))
    with pytest.raises(zoning.CatalogError, match="nope"):
        zr.zonal_stats(classes_tif, by="nope")


# A known box in Shanghai, 121.0-122.0 E x 30.7-31.9 N, as a grid in several CRSs.
SH_WEST, SH_NORTH, SH_EAST, SH_SOUTH = 121.0, 31.9, 122.0, 30.7


def shanghai_grid(tmp_path, crs, res):
    """A categorical raster over the box in ``crs``: class 1, 2, 3 in three bands of rows."""
    crs = pyproj.CRS.from_user_input(crs)
    to = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    x0, y0 = to.transform(SH_WEST, SH_NORTH)
    x1, y1 = to.transform(SH_EAST, SH_SOUTH)
    left, top = math.floor(x0 / res) * res, math.ceil(y0 / res) * res
    rows, cols = math.ceil((top - y1) / res), math.ceil((x1 - left) / res)
    classes = (1 + 3 * np.arange(rows) // rows)[:, None].repeat(cols, axis=1).astype("uint8")
    path = tmp_path / "grid.tif"
    write_raster(
        path, classes, nodata=0, crs=crs.to_wkt(), transform=Affine(res, 0, left, 0, -res, top)
    )

    def cells(r0, r1, c0, c1):  # the box of rows [r0, r1) x columns [c0, c1)
        return box(left + c0 * res, top - r1 * res, left + c1 * res, top - r0 * res)

    return path, crs, rows, cols, cells


@pytest.mark.parametrize(
    ("crs", "res", "method", "nominal_error"),
    [
        ("EPSG:3857", 200.0, "areal scale factor", 0.36),  # Web Mercator: +37 % nominally
        ("EPSG:4326", 0.002, "geodesic cell area per row", None),  # degrees: no nominal area
        ("EPSG:32651", 200.0, "areal scale factor", 5e-5),  # UTM 51N: off by < 0.1 %
        (zoning.WORKING_CRS, 200.0, "areal scale factor", None),  # equal-area: exact
    ],
    ids=["web-mercator", "geographic", "utm", "equal-area"],
)
def test_zonal_area_is_the_true_area_in_any_crs(tmp_path, crs, res, method, nominal_error):
    """area_m2 per zone and class against the geodesic area of the cells they cover: zones
    and classes are boxes on cell edges, so counting is exact and only the areas are tested."""
    path, crs, rows, cols, cells = shanghai_grid(tmp_path, crs, res)
    spans = {  # zone -> rows [r0, r1) x columns [c0, c1)
        "north": (0, int(0.4 * rows), 0, int(0.45 * cols)),
        "south": (int(0.5 * rows), rows, int(0.2 * cols), cols),
        "small": (int(0.45 * rows), int(0.47 * rows), int(0.6 * cols), int(0.65 * cols)),
    }
    zones = zones_gdf({k: cells(*v) for k, v in spans.items()}, crs=crs)
    df = zr.zonal_stats(path, zones, window_size=256)
    assert method in df.attrs["area_method"]
    bands = [(rows * k + 2) // 3 for k in range(4)]  # rows of class k + 1: [bands[k], bands[k+1])
    checked = 0
    for zone, (r0, r1, c0, c1) in spans.items():
        for k in range(3):
            lo, hi = max(r0, bands[k]), min(r1, bands[k + 1])
            if lo >= hi:
                continue
            row = as_table(df, "zone_id", "value")[(zone, k + 1)]
            assert row["count"] == (hi - lo) * (c1 - c0)
            want = geodesic_area(cells(lo, hi, c0, c1), crs)
            assert row["area_m2"] == pytest.approx(want, rel=2e-5), (zone, k + 1)
            checked += 1
            if nominal_error is not None:  # what count x nominal cell area would have said
                nominal = row["count"] * df.attrs["cell_area_m2"]
                assert abs(nominal / want - 1) > nominal_error
    assert checked == 5  # north: classes 1-2, south: 2-3, small: 2
    cont = as_table(zr.zonal_stats(path, zones, categorical=False), "zone_id")
    for zone, span in spans.items():
        want = geodesic_area(cells(*span), crs)
        assert cont[(zone,)]["area_m2"] == pytest.approx(want, rel=2e-5)


def test_zonal_area_of_huangpu_in_web_mercator(demo_layers, tmp_path):
    """The reviewer's case: Huangpu district on a 25 m Web Mercator grid came out 28 km²
    (count x nominal cell area) instead of its 20.45 km²; now within 0.5 % (rasterization)."""
    districts = demo_layers["districts"].gdf
    huangpu = districts[districts["name"] == "黄浦区"]
    truth = abs(GEOD.geometry_area_perimeter(huangpu.to_crs(4326).geometry.iloc[0])[0])
    assert truth == pytest.approx(20.45e6, rel=0.001)
    xmin, ymin, xmax, ymax = huangpu.to_crs(3857).total_bounds
    res = 25.0
    left, top = math.floor(xmin / res) * res - res, math.ceil(ymax / res) * res + res
    shape = (math.ceil((top - ymin) / res) + 1, math.ceil((xmax - left) / res) + 1)
    path = write_raster(
        tmp_path / "merc.tif", np.ones(shape, "uint8"), nodata=0, crs="EPSG:3857",
        transform=Affine(res, 0, left, 0, -res, top),
    )  # fmt: skip
    df = zr.zonal_stats(path, by="districts", layers=demo_layers)
    got = df.set_index("zone_id").loc[huangpu["feature_id"].iloc[0]]
    nominal = got["count"] * res * res
    print(f"Huangpu, EPSG:3857 at 25 m: {got['area_m2'] / 1e6:.3f} km² (nominal "
          f"{nominal / 1e6:.3f}), geodesic {truth / 1e6:.3f} km²")  # fmt: skip
    assert nominal / truth > 1.3  # the uncorrected figure
    assert got["area_m2"] == pytest.approx(truth, rel=0.005)


def test_zonal_area_on_a_rotated_geographic_grid(tmp_path):
    """A rotated longitude/latitude grid: the ellipsoid's area element at each cell centre,
    summed over the grid, against the geodesic area of the grid's footprint."""
    a, b, d, e = 0.002, 0.0005, 0.0004, -0.002
    transform = Affine(a, b, 121.2, d, e, 31.5)
    path = write_raster(
        tmp_path / "rot.tif", np.ones((200, 300), "uint8"), nodata=0, crs="EPSG:4326",
        transform=transform,
    )  # fmt: skip
    corners = [(0, 0), (300, 0), (300, 200), (0, 200)]
    footprint = shapely.Polygon([(a * c + b * r + 121.2, d * c + e * r + 31.5) for c, r in corners])
    everything = zones_gdf({"all": footprint.buffer(0.05)}, crs=4326)
    df = zr.zonal_stats(path, everything, categorical=False)
    assert "area element" in df.attrs["area_method"] and df.attrs["cell_area_m2"] is None
    assert df["count"].iloc[0] == 200 * 300
    assert df["area_m2"].iloc[0] == pytest.approx(geodesic_area(footprint, 4326), rel=1e-5)


def test_zonal_refuses_line_and_point_zones(tmp_path, classes_tif):
    points = zones_gdf({"p": shapely.Point(X0 + 5, Y0 - 5), "A": ZONES["A"]})
    with pytest.raises(zr.RasterError, match=r"1 of 2 geometries are not polygons \(Point\)"):
        zr.zonal_stats(classes_tif, points)


def test_cli_zonal_refuses_a_line_layer(tmp_path):
    """Before: a greenway (lines) came out as zones of 7.5 km²; now one line, exit 2."""
    lines = gpd.GeoDataFrame(
        {"name": ["a"]},
        geometry=[shapely.LineString([(121.4, 31.2), (121.5, 31.25)])],
        crs=4326,
    )
    lines.to_file(tmp_path / "greenway.gpkg")
    proc = run_process(
        "zonal", str(zr.DEMO_RASTER), "--layer", f"greenway={tmp_path / 'greenway.gpkg'}",
        "--by", "greenway",
    )  # fmt: skip
    assert_one_line_error(proc, "greenway", "lines", "polygon")


def test_zonal_default_kind_by_data_type(tmp_path):
    """Categorical by default only for integers of ≤ 16 bits."""
    zones = zones_gdf({"A": ZONES["A"]})
    kinds = {"uint8": True, "int16": True, "uint16": True, "int32": False, "uint32": False}
    for dtype, categorical in {**kinds, "float32": False}.items():
        path = write_raster(tmp_path / f"{dtype}.tif", CLASSES.astype(dtype), nodata=0)
        df = zr.zonal_stats(path, zones)
        assert df.attrs["categorical"] is categorical, dtype
        assert ("value" in df.columns) is categorical


def test_zonal_categorical_classes_are_capped(tmp_path, classes_tif, monkeypatch):
    # 4 classes: fine with a cap of 4, refused with 3, also when they come in different windows
    monkeypatch.setattr(zr.zonal, "MAX_CLASSES", 4)
    assert len(zr.zonal_stats(classes_tif, zones_gdf(ZONES), window_size=2)) == 6
    monkeypatch.setattr(zr.zonal, "MAX_CLASSES", 3)
    for window_size in (1024, 2):
        with pytest.raises(zr.RasterError, match=r"more than 3 distinct values.*--continuous"):
            zr.zonal_stats(classes_tif, zones_gdf(ZONES), window_size=window_size)
    # an int16 band (categorical by default) with 1500 distinct values
    values = np.arange(1, 1501, dtype="int16").reshape(30, 50)
    path = write_raster(tmp_path / "dem.tif", values, nodata=0)
    zones = zones_gdf({"all": cell_box(0, 30, 0, 50)})
    monkeypatch.undo()
    with pytest.raises(zr.RasterError, match=r"dem\.tif: band 1 \(int16\) has more than 1000"):
        zr.zonal_stats(path, zones)
    df = zr.zonal_stats(path, zones, categorical=False)
    assert df["count"].iloc[0] == 1500 and df["max"].iloc[0] == 1500


def test_zonal_many_distinct_values_fail_fast_in_bounded_memory(tmp_path):
    """A float band forced categorical, 512 x 512 distinct values under 64 zones: formerly
    158 MiB (a bincount of 64 zones x 262144 values per window) for a table of 262144 rows;
    now an error at the first window, in 20 MiB (a continuous pass takes 12)."""
    rng = np.random.default_rng(7)
    values = rng.random((512, 512), dtype="float32")
    path = write_raster(tmp_path / "float.tif", values, nodata=-1)
    zones = zones_gdf({f"z{i}{j}": cell_box(64 * i, 64 * (i + 1), 64 * j, 64 * (j + 1))
                       for i in range(8) for j in range(8)})  # fmt: skip
    tracemalloc.start()
    try:
        with pytest.raises(zr.RasterError, match="--continuous"):
            zr.zonal_stats(path, zones, categorical=True, window_size=512)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"tracemalloc peak {peak / 2**20:.1f} MiB")
    assert peak < 32 * 2**20
    # the command line: a random float band over People's Square, forced --categorical
    x, y = pyproj.Transformer.from_crs(4326, UTM, always_xy=True).transform(121.475, 31.232)
    square = write_raster(
        tmp_path / "square.tif", values[:200, :200], nodata=-1,
        transform=Affine(10, 0, x - 1000, 0, -10, y + 1000),
    )  # fmt: skip
    res = CliRunner().invoke(zonal_cmd, [str(square), "--by", "districts", "--categorical"])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert res.output.count("\n") == 1 and "--continuous" in res.output


# A large patterned raster: blocks of 100 x 100 cells; block (i, j) holds class (i + j) % 5,
# or nodata when (i * j) % 7 == 3.  8000 x 8000 uint8 = 64 MB uncompressed.
BIG, BLOCK, NODATA = 8000, 100, 255


def big_pattern(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    i, j = (rows // BLOCK)[:, None], (cols // BLOCK)[None, :]
    return np.where((i * j) % 7 == 3, NODATA, (i + j) % 5).astype("uint8")


def block_oracle(row0, row1, col0, col1) -> dict[int, int]:
    """Cells per class in rows [row0, row1) x cols [col0, col1), by block arithmetic."""
    row0, col0 = max(row0, 0), max(col0, 0)
    row1, col1 = min(row1, BIG), min(col1, BIG)
    counts: dict[int, int] = {}
    for i in range(BIG // BLOCK):
        h = max(0, min(row1, (i + 1) * BLOCK) - max(row0, i * BLOCK))
        for j in range(BIG // BLOCK):
            w = max(0, min(col1, (j + 1) * BLOCK) - max(col0, j * BLOCK))
            if h and w and (i * j) % 7 != 3:
                counts[(i + j) % 5] = counts.get((i + j) % 5, 0) + h * w
    return counts


@pytest.fixture(scope="module")
def big_tif(tmp_path_factory):
    path = tmp_path_factory.mktemp("big") / "big.tif"
    profile = dict(
        driver="GTiff", width=BIG, height=BIG, count=1, dtype="uint8", crs=UTM, nodata=NODATA,
        transform=Affine(10, 0, X0, 0, -10, Y0), tiled=True, blockxsize=256, blockysize=256,
        compress="deflate",
    )  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        cols = np.arange(BIG)
        for row in range(0, BIG, 512):
            rows = np.arange(row, min(row + 512, BIG))
            dst.write(big_pattern(rows, cols), 1, window=Window(0, row, BIG, len(rows)))
    return path


@pytest.mark.slow
def test_zonal_by_windows_on_a_large_raster_with_bounded_memory(big_tif):
    spans = {  # zone -> rows [r0, r1) x columns [c0, c1); "edge" sticks out of the raster
        "west": (0, 8000, 0, 3000),
        "middle": (1000, 5500, 3000, 8000),
        "edge": (6000, 9000, 7000, 9000),
    }
    zones = zones_gdf({k: cell_box(*v) for k, v in spans.items()})
    tracemalloc.start()
    try:
        df = zr.zonal_stats(big_tif, zones, window_size=256)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    raster_bytes = BIG * BIG
    print(f"tracemalloc peak {peak / 2**20:.1f} MiB for a {raster_bytes / 2**20:.0f} MiB raster")
    assert peak < 20 * 2**20 and peak < raster_bytes / 3
    got = {(r["zone_id"], int(r["value"])): r["count"] for r in df.to_dict("records")}
    want = {(z, v): n for z, s in spans.items() for v, n in block_oracle(*s).items()}
    assert got == want
    # "west" and "middle" share no cell, "middle" and "edge" overlap (edge drawn last)
    assert sum(got.values()) > 0.5 * BIG * BIG


# --------------------------------------------------------------------------- demo raster


def test_demo_raster_reproduces_census_totals(demo_layers):
    census = demo_layers["districts"].gdf.set_index("feature_id")["pop_2020"]
    df = zr.zonal_stats(zr.DEMO_RASTER, by="districts", layers=demo_layers)
    assert (
        df.attrs["reprojection"].startswith("zones reprojected")
        and "32651" in (df.attrs["reprojection"])
    )
    sums = df.set_index("zone_id")["sum"]
    assert set(sums.index) == set(census.index) and len(sums) == 16
    for district, pop in census.items():
        assert sums[district] == pytest.approx(pop, rel=0.01), district
    assert sums.sum() == pytest.approx(census.sum(), rel=1e-4)
    assert df.attrs["demonstration"] and "MODELLED" in df.attrs["note"]


def test_demo_raster_file(demo_layers):
    assert zr.DEMO_RASTER == REPO / "layers" / "demo_population.tif"
    assert zr.DEMO_RASTER.stat().st_size <= 1024 * 1024
    with rasterio.open(zr.DEMO_RASTER) as ds:
        tags = ds.tags()
        assert tags["demonstration"] == "true"
        assert tags["note"].startswith("MODELLED DEMONSTRATION POPULATION GRID")
        assert "not observed data" in tags["note"] and "persons" in tags["units"]
        assert ds.crs.to_epsg() == 32651 and ds.res == (500.0, 500.0)
        assert ds.dtypes == ("float32",) and ds.nodata == -1
        assert ds.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG" and ds.overviews(1)
        data = ds.read(1, masked=True)
        assert data.min() >= 0  # persons are never negative; -1 is only nodata


def test_demo_raster_is_up_to_date(tmp_path):
    spec = importlib.util.spec_from_file_location("bdr", REPO / "layers" / "build_demo_raster.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.build(tmp_path / "rebuilt.tif")
    with rasterio.open(tmp_path / "rebuilt.tif") as new, rasterio.open(zr.DEMO_RASTER) as old:
        assert np.array_equal(new.read(), old.read(), equal_nan=True)
        assert new.tags() == old.tags() and new.transform == old.transform


# --------------------------------------------------------------------------- command line


def run_process(*args):
    """The real entry point in a subprocess: exactly what a user sees."""
    return subprocess.run(
        [sys.executable, "-m", "zoning", *args], capture_output=True, text=True, timeout=300
    )


def assert_one_line_error(proc, *words):
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("zoning: error:"), proc.stderr
    for word in words:
        assert word in lines[0]


@pytest.mark.parametrize(
    ("res", "words"),
    [("abc", ["--res", "abc"]), ("-5", ["--res", "-5"]), ("0", ["--res"]), ("nan", ["--res"])],
)
def test_cli_rasterize_bad_res(tmp_path, res, words):
    proc = run_process("rasterize", "--res", res, "--out", str(tmp_path / "x.tif"))
    assert_one_line_error(proc, *words)
    assert not (tmp_path / "x.tif").exists()


@pytest.mark.slow
def test_cli_zonal_errors(tmp_path):
    no_crs = write_raster(tmp_path / "nocrs.tif", CLASSES, nodata=0, crs=None)
    assert_one_line_error(run_process("zonal", str(no_crs)), "nocrs.tif", "CRS")
    assert_one_line_error(
        run_process("zonal", str(zr.DEMO_RASTER), "--by", "no_such_layer"), "no_such_layer"
    )
    assert_one_line_error(run_process("zonal", str(tmp_path / "gone.tif")), "gone.tif")
    assert_one_line_error(run_process("zonal", str(zr.DEMO_RASTER), "--band", "x"), "--band")


def test_cli_rasterize_happy_path(tmp_path):
    out = tmp_path / "cli.tif"
    res = CliRunner().invoke(rasterize_cmd, ["--res", "5000", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "DEMONSTRATION DATA" in res.output and "band 1: control_unit_category" in res.output
    assert out.with_name("cli.tif.aux.xml").exists() and "class names" in res.output
    with rasterio.open(out) as ds:
        assert ds.res == (5000.0, 5000.0) and ds.count == 10


def test_cli_zonal_happy_paths(tmp_path):
    runner = CliRunner()
    res = runner.invoke(zonal_cmd, [str(zr.DEMO_RASTER), "--by", "districts", "--format", "csv"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0].startswith("# DEMONSTRATION DATA")
    rows = list(csv.DictReader(io.StringIO("\n".join(lines[1:]))))
    assert len(rows) == 16 and float(rows[0]["sum"]) == pytest.approx(662030, rel=0.01)

    out = tmp_path / "zonal.json"
    res = runner.invoke(zonal_cmd, [str(zr.DEMO_RASTER), "--format", "json", "--out", str(out)])
    assert res.exit_code == 0, res.output
    payload = json.loads(out.read_text(encoding="utf-8"))
    assert payload["demonstration_data"] is True and len(payload["rows"]) == 293
    assert payload["meta"]["zone_layer"] == "control_units"

    res = runner.invoke(zonal_cmd, [str(zr.DEMO_RASTER), "--by", "districts"])
    assert res.exit_code == 0 and "黄浦区" in res.output and "reprojection:" in res.output
