"""Sites in: every input format, CRS handling, project attributes and every error path.

Fixtures are real files (hand-made ones in tests/data/sites/, the rest written to tmp_path).
Oracles are independent of zoning.sites: prcoords for GCJ-02/BD-09, pyproj.Geod for
distances and areas, pyproj transformers for positions.
"""

from __future__ import annotations

import dataclasses
import json
import re
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import prcoords
import pyproj
import pytest
import shapely
from shapely.geometry import GeometryCollection, LineString, Point, Polygon, box

from geometries import GEOMETRIES
from zoning.crs import WORKING_CRS
from zoning.errors import CRSError, LayerReadError, SitesError
from zoning.sites import (
    BD09_UNCERTAINTY_M,
    GCJ02_UNCERTAINTY_M,
    SITE_COLUMNS,
    TWO_HIGH_DIVISIONS,
    Sites,
    load_sites,
    parse_industry_code,
)

DATA = Path(__file__).parent / "data" / "sites"
TO_WGS = pyproj.Transformer.from_crs(WORKING_CRS, 4326, always_xy=True)
TO_WORK = pyproj.Transformer.from_crs(4326, WORKING_CRS, always_xy=True)
GEOD = pyproj.Geod(ellps="WGS84")
W84 = "EPSG:4326"  # longitude/latitude need a declared CRS (GPS/WGS84 here)


def write(tmp_path: Path, text: str, name: str = "sites.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def lonlat(geom) -> np.ndarray:
    """Vertices of a working-CRS geometry as lon/lat."""
    xy = shapely.get_coordinates(geom)
    return np.column_stack(TO_WGS.transform(xy[:, 0], xy[:, 1]))


def feature(geom, id=None, **properties) -> dict:
    out = {"type": "Feature", "properties": properties, "geometry": geom.__geo_interface__}
    if id is not None:
        out["id"] = id
    return out


def collection(*features) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


def geodesic_area(poly_lonlat: Polygon) -> float:
    return abs(GEOD.geometry_area_perimeter(poly_lonlat)[0])


# ----------------------------------------------------------------------------- formats


def test_leaflet_draw_export_works_unchanged():
    sites = load_sites(DATA / "leaflet_draw.geojson")
    gdf = sites.gdf
    assert isinstance(sites, Sites) and len(sites) == 3
    assert list(gdf.columns) == list(SITE_COLUMNS)
    assert gdf.crs == WORKING_CRS and list(gdf.index) == [0, 1, 2]
    assert list(gdf.geom_type) == ["Polygon", "Point", "LineString"]
    assert list(gdf["site_id"]) == ["1", "2", "3"]
    assert sites.input_crs == "EPSG:4326" and sites.pseudo is None
    assert (gdf["datum_shift_m"] == 0).all() and (gdf["uncertainty_m"] == 0).all()
    assert gdf["name"].isna().all() and gdf["industry"].isna().all()
    # nobody typed --linear: the drawn line is linear (derived), the polygon and point undeclared
    assert list(gdf["linear"]) == [None, None, True]
    assert list(gdf["linear_source"]) == [None, None, "derived"]
    assert any("linear derived from the geometry for 1 line site(s)" in n for n in sites.notes)
    raw = json.loads((DATA / "leaflet_draw.geojson").read_text())["features"]
    # the point lands where pyproj puts it
    x, y = TO_WORK.transform(*raw[1]["geometry"]["coordinates"])
    assert gdf.geometry[1].distance(Point(x, y)) < 1e-6
    # the polygon's planar area in the equal-area working CRS is its geodesic area
    poly = Polygon(raw[0]["geometry"]["coordinates"][0])
    assert gdf.geometry[0].area == pytest.approx(geodesic_area(poly), rel=1e-5)
    # the line's length is its geodesic length (edges densified before projecting)
    line = LineString(raw[2]["geometry"]["coordinates"])
    assert gdf.geometry[2].length == pytest.approx(GEOD.geometry_length(line), rel=1e-4)


def test_geojson_feature_ids_are_site_ids(tmp_path):
    fc = collection(feature(Point(121.4, 31.2), id=17), feature(Point(121.5, 31.2), id=42))
    path = write(tmp_path, json.dumps(fc), "ids.geojson")
    assert list(load_sites(path).gdf["site_id"]) == ["17", "42"]
    for f, sid in zip(fc["features"], ("a-1", "b-2"), strict=True):
        f["id"] = sid
    path = write(tmp_path, json.dumps(fc), "sids.geojson")
    assert list(load_sites(path).gdf["site_id"]) == ["a-1", "b-2"]


def test_geopackage_with_attributes(tmp_path):
    path = tmp_path / "sites.gpkg"
    gpd.GeoDataFrame(
        {
            "ProjectName": ["化工厂", "餐厅"],
            "Industry": ["2614", "H6210"],
            "Nature": ["迁建", "rebuild"],
            "wastewater": [True, False],  # a boolean field
            "air": [1, 0],  # an integer field
        },
        geometry=[box(121.40, 31.20, 121.41, 31.21), Point(121.47, 31.23)],
        crs=4490,
    ).to_file(path)
    sites = load_sites(path, name_field="ProjectName")
    gdf = sites.gdf
    assert sites.input_crs == "EPSG:4490"
    assert list(gdf["site_id"]) == ["1", "2"]  # GeoPackage feature ids
    assert list(gdf["name"]) == ["化工厂", "餐厅"]
    assert list(gdf["industry"]) == ["C2614", "H6210"]
    assert list(gdf["industry_division"]) == ["26", "62"]
    assert list(gdf["nature"]) == ["relocation", "rebuild"]
    assert list(gdf["wastewater"]) == [True, False] and list(gdf["air"]) == [True, False]
    assert list(gdf["linear"]) == [None, None]
    assert list(gdf["two_high"]) == [True, False]
    assert list(gdf["two_high_source"]) == ["derived", "derived"]
    # EPSG:4490 is latitude-first officially; nothing may be swapped
    assert np.allclose(lonlat(gdf.geometry[1]), [[121.47, 31.23]], atol=1e-9)


def _gbk_shapefile(folder: Path) -> Path:
    path = folder / "选址.shp"
    gpd.GeoDataFrame(
        {"项目名称": ["金山化工", "崇明风电"], "行业代码": ["C2614", "D4415"], "两高": ["", "否"]},
        geometry=[box(121.30, 30.70, 121.31, 30.71), box(121.90, 31.55, 121.92, 31.56)],
        crs=4326,
    ).to_file(path, encoding="gbk")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    return path


def test_shapefile_gbk_without_cpg(tmp_path):
    sites = load_sites(_gbk_shapefile(tmp_path))
    gdf = sites.gdf
    assert list(gdf["name"]) == ["金山化工", "崇明风电"]
    assert list(gdf["two_high"]) == [True, False]
    assert list(gdf["two_high_source"]) == ["derived", "declared"]
    assert any("GB18030" in n for n in sites.notes)


def test_zipped_shapefile_in_a_folder(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    _gbk_shapefile(folder)
    zpath = tmp_path / "sites.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for part in folder.iterdir():
            zf.write(part, f"export/{part.name}")
    sites = load_sites(zpath)
    assert list(sites.gdf["name"]) == ["金山化工", "崇明风电"]
    assert sites.source == str(zpath)
    poly = box(121.30, 30.70, 121.31, 30.71)
    assert sites.gdf.geometry[0].area == pytest.approx(geodesic_area(poly), rel=1e-5)


def test_kml_from_google_earth(tmp_path):
    kml = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>选址</name>
<Placemark><name>备选一</name><Point><coordinates>121.47,31.23,0</coordinates></Point></Placemark>
<Placemark><name>备选二</name><LineString><coordinates>121.40,31.20,0 121.42,31.21,0</coordinates>
</LineString></Placemark>
</Document></kml>"""
    sites = load_sites(write(tmp_path, kml, "sites.kml"))
    gdf = sites.gdf
    assert list(gdf["name"]) == ["备选一", "备选二"] and list(gdf["site_id"]) == ["1", "2"]
    assert not gdf.geometry.has_z.any() and "Z coordinates dropped" in sites.notes
    assert np.allclose(lonlat(gdf.geometry[0]), [[121.47, 31.23]], atol=1e-9)


def test_csv_with_chinese_headers_and_bom():
    sites = load_sites(DATA / "sites_zh.csv", crs="EPSG:4326")
    gdf = sites.gdf
    assert list(gdf["site_id"]) == ["S1", "S2", "S3", "S4"]
    assert gdf["name"][0] == "金山化工新材料项目"
    assert list(gdf["industry"]) == ["C2614", "H6210", "D4610", "D4415"]
    assert list(gdf["nature"]) == ["new", "new", "expansion", "expansion"]  # 改扩建 -> expansion
    assert list(gdf["linear"]) == [False, False, True, False]
    assert list(gdf["wastewater"]) == [True, True, False, False]
    assert list(gdf["air"]) == [True, False, False, False]
    assert list(gdf["hazardous"]) == [None] * 4
    # S4 (wind farm, division 44) declares 两高 = 否: the declaration wins
    assert list(gdf["two_high"]) == [True, False, False, False]
    assert list(gdf["two_high_source"]) == ["derived", "derived", "derived", "declared"]
    assert np.allclose(lonlat(gdf.geometry[1]), [[121.4903, 31.2301]], atol=1e-9)


def test_csv_saved_by_excel_in_gbk(tmp_path):
    text = "项目名称,经度,纬度\n青草沙管线,121.56,31.44\n"
    sites = load_sites(write(tmp_path, text, encoding="gbk"), crs="EPSG:4326")
    assert sites.gdf["name"][0] == "青草沙管线"
    assert any("GB18030" in n for n in sites.notes)
    # a declared encoding is used as given
    again = load_sites(tmp_path / "sites.csv", encoding="gbk", crs="EPSG:4326")
    assert again.gdf["name"][0] == "青草沙管线"


@pytest.mark.parametrize(
    ("lon", "lat"), [("lng", "lat"), ("Longitude", "Latitude"), ("LON", "LAT")]
)
def test_csv_coordinate_column_names(tmp_path, lon, lat):
    sites = load_sites(write(tmp_path, f"{lon},{lat}\n121.5,31.2\n"), crs="EPSG:4326")
    assert np.allclose(lonlat(sites.gdf.geometry[0]), [[121.5, 31.2]], atol=1e-9)


def test_csv_tab_separated(tmp_path):
    sites = load_sites(
        write(tmp_path, "id\tlon\tlat\nA\t121.5\t31.2\n", "sites.tsv"), crs="EPSG:4326"
    )
    assert list(sites.gdf["site_id"]) == ["A"]


def test_csv_xy_in_epsg4549_matches_lonlat(tmp_path):
    lon = np.array([121.20, 121.4737, 121.90])
    lat = np.array([30.80, 31.2304, 31.60])
    x, y = pyproj.Transformer.from_crs(4326, 4549, always_xy=True).transform(lon, lat)
    rows = "\n".join(f"{a:.4f},{b:.4f}" for a, b in zip(x, y, strict=True))
    xy = load_sites(write(tmp_path, f"X,Y\n{rows}\n", "xy.csv"), crs="4549")
    rows = "\n".join(f"{float(a)!r},{float(b)!r}" for a, b in zip(lon, lat, strict=True))
    ll = load_sites(write(tmp_path, f"lon,lat\n{rows}\n", "ll.csv"), crs="EPSG:4326")
    assert xy.input_crs == "EPSG:4549"
    d = shapely.distance(xy.gdf.geometry.to_numpy(), ll.gdf.geometry.to_numpy())
    assert (d < 0.01).all()  # 0.1 mm rounding of the eastings/northings, far below 1 cm


def test_csv_xy_without_crs_is_an_error(tmp_path):
    path = write(tmp_path, "x,y\n350000,3450000\n")
    with pytest.raises(SitesError, match=r"sites\.csv.*no CRS and none declared"):
        load_sites(path)


def test_csv_wkt_column(tmp_path):
    square = box(121.40, 31.20, 121.41, 31.21)
    text = f'name,wkt\n"a square","{square.wkt}"\n"a line","LINESTRING (121.4 31.2, 121.5 31.3)"\n'
    path = write(tmp_path, text)
    with pytest.raises(SitesError, match=r"WKT column 'wkt'.*no CRS and none declared"):
        load_sites(path)
    sites = load_sites(path, crs="EPSG:4326")
    assert list(sites.gdf.geom_type) == ["Polygon", "LineString"]
    assert sites.gdf.geometry[0].area == pytest.approx(geodesic_area(square), rel=1e-5)


def test_points_option():
    sites = load_sites(points=[(121.47, 31.23), "121.5,31.2", " 121.6 , 31.3 "], crs="4326")
    assert sites.input_crs == "EPSG:4326" and sites.source == "points"
    got = np.vstack([lonlat(g) for g in sites.gdf.geometry])
    assert np.allclose(got, [[121.47, 31.23], [121.5, 31.2], [121.6, 31.3]], atol=1e-9)
    assert len(load_sites(points="121.47,31.23", crs="EPSG:4326")) == 1
    assert len(load_sites(points=(121.47, 31.23), crs="EPSG:4326")) == 1


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (
            lambda p: load_sites(write(p, "id,lon,lat\nA,121.5,31.2\n")),
            r"sites\.csv \(columns 'lon'/'lat'\)",
        ),
        (
            lambda p: load_sites(write(p, "编号,经度,纬度\nA,121.5,31.2\n")),
            r"columns '经度'/'纬度'",
        ),
        (lambda p: load_sites(pd.DataFrame({"lng": [121.5], "lat": [31.2]})), r"DataFrame"),
        (lambda p: load_sites(points=["121.5,31.2"]), r"^points"),
        (lambda p: load_sites(points=[(121.5, 31.2)]), r"^points"),
        (lambda p: load_sites(points=np.array([[121.5, 31.2]])), r"^points"),
    ],
)
def test_lonlat_without_a_crs_is_an_error(tmp_path, make, name):
    """The same numbers are WGS84 from a GPS, GCJ-02 from Amap, BD-09 from Baidu (hundreds of
    metres apart): none is assumed, and the one-line message names the input and the choices."""
    with pytest.raises(SitesError) as info:
        make(tmp_path)
    message = str(info.value)
    assert re.search(name, message), message
    assert "no CRS and none declared" in message and "\n" not in message
    for choice in ("EPSG:4326 for GPS/WGS84", "gcj02 for coordinates copied from Amap or Tencent"):
        assert choice in message
    assert "bd09 for Baidu" in message and "--crs" in message


def test_lonlat_declared_reads_as_declared(tmp_path):
    """Declared WGS84 lands where pyproj puts it; declared GCJ-02 where prcoords does."""
    path = write(tmp_path, "id,lon,lat\nA,121.475,31.2335\n")
    wgs = load_sites(path, crs="EPSG:4326")
    x, y = TO_WORK.transform(121.475, 31.2335)
    assert wgs.input_crs == "EPSG:4326" and wgs.gdf.geometry[0].distance(Point(x, y)) < 1e-6
    gcj = load_sites(path, crs="gcj02")
    ref = prcoords.gcj_wgs_bored((31.2335, 121.475))
    got = lonlat(gcj.gdf.geometry[0])[0]
    assert GEOD.inv(got[0], got[1], ref.lon, ref.lat)[2] < 0.01


def test_points_with_a_projected_crs_name_wkt_not_columns():
    with pytest.raises(SitesError, match="declared crs EPSG:4549 is projected") as info:
        load_sites(points=["500000,3450000"], crs="EPSG:4549")
    assert "--wkt 'POINT (x y)'" in str(info.value) and "columns" not in str(info.value)


def test_wkt_option():
    with pytest.raises(SitesError, match="no CRS and none declared"):
        load_sites(wkt="POINT (121.47 31.23)")
    sites = load_sites(
        wkt=[
            "POINT (121.47 31.23)",
            "POLYGON ((121.4 31.2, 121.41 31.2, 121.41 31.21, 121.4 31.2))",
        ],
        crs="EPSG:4326",
        attributes={"industry": "2614", "nature": "新建", "linear": "no"},
    )
    assert list(sites.gdf["industry"]) == ["C2614", "C2614"]
    assert list(sites.gdf["nature"]) == ["new", "new"]
    assert list(sites.gdf["linear"]) == [False, False]
    assert sites.source == "wkt"
    with pytest.raises(SitesError, match=r"wkt 2: 'POINT \(1\)' is not valid WKT"):
        load_sites(wkt=["POINT (121 31)", "POINT (1)"], crs="EPSG:4326")


def test_python_objects():
    gdf = gpd.GeoDataFrame(
        {"id": ["a", "b"], "industry": ["C2614", None]},
        geometry=[Point(121.47, 31.23), box(121.4, 31.2, 121.41, 31.21)],
        crs=4326,
        index=[10, 20],
    )
    before = gdf.copy()
    sites = load_sites(gdf)
    assert list(sites.gdf["site_id"]) == ["a", "b"] and list(sites.gdf.index) == [0, 1]
    assert list(sites.gdf["industry"]) == ["C2614", None]
    pd.testing.assert_frame_equal(gdf, before)  # the input is not mutated
    assert len(load_sites(gdf.geometry)) == 2
    assert len(load_sites(Point(121.47, 31.23), crs="EPSG:4326")) == 1
    assert len(load_sites([Point(121.47, 31.23), Point(121.5, 31.2)], crs="gcj02")) == 2
    with pytest.raises(SitesError, match="no CRS and none declared"):
        load_sites(gdf.set_crs(None, allow_override=True))
    table = pd.DataFrame({"经度": [121.47], "纬度": [31.23], "行业代码": ["2614"]})
    assert load_sites(table, crs="EPSG:4326").gdf["industry"][0] == "C2614"


def test_sites_is_frozen():
    sites = load_sites(points=["121.47,31.23"], crs="EPSG:4326")
    with pytest.raises(dataclasses.FrozenInstanceError):
        sites.source = "x"  # type: ignore[misc]
    assert "n=1" in repr(sites)


# ----------------------------------------------------------------------------- GCJ-02 / BD-09


AMAP = [(121.475, 31.2335), (121.83, 31.42), (121.32, 30.72)]  # copied from Amap


def test_gcj02_points_against_prcoords():
    sites = load_sites(points=AMAP, crs="gcj02")
    assert sites.pseudo == "gcj02" and sites.input_crs == "gcj02"
    for (glon, glat), geom, shift, unc in zip(
        AMAP,
        sites.gdf.geometry,
        sites.gdf["datum_shift_m"],
        sites.gdf["uncertainty_m"],
        strict=True,
    ):
        ref = prcoords.gcj_wgs_bored((glat, glon))  # independent implementation
        got = lonlat(geom)[0]
        assert GEOD.inv(got[0], got[1], ref.lon, ref.lat)[2] < 0.01
        assert shift == pytest.approx(GEOD.inv(glon, glat, ref.lon, ref.lat)[2], abs=0.01)
        assert 300 < shift < 700
        assert unc == GCJ02_UNCERTAINTY_M
    assert set(sites.gdf["input_crs"]) == {"gcj02"}
    assert any("gcj02" in n for n in sites.notes)


def test_bd09_points_against_prcoords(tmp_path):
    text = "id,lng,lat\n" + "\n".join(f"p{i},{a},{b}" for i, (a, b) in enumerate(AMAP)) + "\n"
    sites = load_sites(write(tmp_path, text), crs="bd09")
    for (blon, blat), geom, shift in zip(
        AMAP, sites.gdf.geometry, sites.gdf["datum_shift_m"], strict=True
    ):
        ref = prcoords.bd_wgs_bored((blat, blon))
        got = lonlat(geom)[0]
        assert GEOD.inv(got[0], got[1], ref.lon, ref.lat)[2] < 0.01
        assert shift == pytest.approx(GEOD.inv(blon, blat, ref.lon, ref.lat)[2], abs=0.01)
    assert (sites.gdf["uncertainty_m"] == BD09_UNCERTAINTY_M).all()


def test_gcj02_polygon_converted_vertex_by_vertex(tmp_path):
    # An Amap-traced polygon, mislabelled EPSG:4326 by the tool that saved it.
    square = box(121.47, 31.23, 121.48, 31.24)
    path = tmp_path / "amap.geojson"
    gpd.GeoDataFrame({"name": ["traced"]}, geometry=[square], crs=4326).to_file(path)
    sites = load_sites(path, crs="gcj02")
    assert any("declared gcj02" in n for n in sites.notes)
    got = lonlat(sites.gdf.geometry[0])
    for lon, lat in shapely.get_coordinates(square):
        ref = prcoords.gcj_wgs_bored((lat, lon))
        # every converted corner is a vertex of the site (edges densified in between)
        assert np.min(np.hypot(got[:, 0] - ref.lon, got[:, 1] - ref.lat)) < 1e-7
    rep = shapely.point_on_surface(square)
    ref = prcoords.gcj_wgs_bored((rep.y, rep.x))
    expected = GEOD.inv(rep.x, rep.y, ref.lon, ref.lat)[2]
    assert sites.gdf["datum_shift_m"][0] == pytest.approx(expected, abs=0.01)


def test_declared_crs_contradicting_the_file(tmp_path):
    path = tmp_path / "utm.gpkg"
    gpd.GeoDataFrame(
        {"i": [1]}, geometry=[box(350000, 3450000, 351000, 3451000)], crs=32651
    ).to_file(path)
    with pytest.raises(SitesError, match=r"utm\.gpkg: declared crs EPSG:4490 contradicts"):
        load_sites(path, crs="EPSG:4490")
    with pytest.raises(SitesError, match=r"utm\.gpkg: declared gcj02.*projected EPSG:32651"):
        load_sites(path, crs="gcj02")
    assert load_sites(path, crs="EPSG:32651").input_crs == "EPSG:32651"  # agreeing is fine


def test_unknown_crs_string():
    with pytest.raises(CRSError, match="'wgs-99'"):
        load_sites(points=["121.47,31.23"], crs="wgs-99")


# ----------------------------------------------------------------------------- industry codes


@pytest.mark.parametrize(
    ("text", "code", "division"),
    [
        ("C2614", "C2614", "26"),
        ("2614", "C2614", "26"),
        ("c2614", "C2614", "26"),
        ("261", "C261", "26"),
        ("26", "C26", "26"),
        (" C 2614 ", "C2614", "26"),
        ("0511", "A0511", "05"),  # leading zero kept: section A
        ("B0610", "B0610", "06"),
        ("4415", "D4415", "44"),
        ("k7010", "K7010", "70"),
        ("T97", "T97", "97"),
        ("01", "A01", "01"),
    ],
)
def test_parse_industry_code(text, code, division):
    assert parse_industry_code(text) == (code, division)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("B2614", "section letter B does not match major division 26"),
        ("X2614", "section letter X does not match"),
        ("9812", "major division 98 does not exist"),
        ("00", "major division 00 does not exist"),
        ("2", "not a GB/T 4754-2017 industry code"),
        ("26145", "not a GB/T 4754-2017 industry code"),
        ("C", "not a GB/T 4754-2017 industry code"),
        ("化工", "not a GB/T 4754-2017 industry code"),
        ("C26.14", "not a GB/T 4754-2017 industry code"),
    ],
)
def test_parse_industry_code_rejects(text, why):
    with pytest.raises(SitesError, match=why):
        parse_industry_code(text)


def test_parse_industry_code_refuses_numbers():
    with pytest.raises(SitesError, match="store industry codes as text"):
        parse_industry_code(511)  # type: ignore[arg-type]


def test_two_high_divisions(tmp_path):
    assert frozenset({"25", "26", "30", "31", "32", "44"}) == TWO_HIGH_DIVISIONS
    text = "id,lon,lat,industry,two_high\n" + "".join(
        f"{d},121.5,31.2,{d}10,\n" for d in ("25", "26", "30", "31", "32", "44", "27", "45")
    )
    sites = load_sites(write(tmp_path, text), crs="EPSG:4326")
    assert list(sites.gdf["two_high"]) == [True] * 6 + [False] * 2
    assert set(sites.gdf["two_high_source"]) == {"derived"}


def test_two_high_not_for_clean_power_or_the_grid(tmp_path):
    """45号 names coal power (煤电), not the power sector: hydro, nuclear, wind, solar, biomass,
    other generation and power supply are not 两高; coal/gas power, CHP and heat supply are, and
    a code that stops at the division or group cannot tell, so it keeps the division's rule."""
    codes = ["D4411", "4412", "4430", "44", "441", "4413", "4414", "4415", "4416", "4417"]
    codes += ["4419", "D4420"]
    text = "id,lon,lat,industry\n" + "".join(f"{i},121.5,31.2,{c}\n" for i, c in enumerate(codes))
    sites = load_sites(write(tmp_path, text), crs="EPSG:4326")
    assert list(sites.gdf["two_high"]) == [True] * 5 + [False] * 7
    assert "4420" in " ".join(sites.notes)


def test_no_code_no_two_high(tmp_path):
    text = "lon,lat,industry,两高\n121.5,31.2,,\n121.5,31.2,,yes\n"
    sites = load_sites(write(tmp_path, text), crs="EPSG:4326")
    assert list(sites.gdf["two_high"]) == [None, True]
    assert list(sites.gdf["two_high_source"]) == [None, "declared"]


# ----------------------------------------------------------------------------- attributes


def test_attributes_option_applies_to_every_site(tmp_path):
    path = write(tmp_path, "id,lon,lat\nA,121.5,31.2\nB,121.6,31.3\n")
    sites = load_sites(
        path, crs=W84, attributes={"industry": "C2614", "hazardous": True, "name": "厂"}
    )
    assert list(sites.gdf["industry"]) == ["C2614"] * 2
    assert list(sites.gdf["hazardous"]) == [True, True]
    assert list(sites.gdf["name"]) == ["厂", "厂"]


def test_attributes_option_and_column_must_agree(tmp_path):
    path = write(tmp_path, "id,lon,lat,industry\nA,121.5,31.2,2614\nB,121.6,31.3,C2611\n")
    with pytest.raises(
        SitesError, match=r"sites\.csv, row 3: industry is given by column 'industry'.*option"
    ):
        load_sites(path, crs=W84, attributes={"industry": "C2614"})
    ok = write(tmp_path, "id,lon,lat,industry\nA,121.5,31.2,2614\nB,121.6,31.3,c2614\n", "ok.csv")
    got = load_sites(ok, crs=W84, attributes={"industry": "C2614"}).gdf["industry"]
    assert list(got) == ["C2614"] * 2


def test_attributes_option_errors():
    with pytest.raises(SitesError, match=r"unknown key.*'colour'"):
        load_sites(points=["121.5,31.2"], crs=W84, attributes={"colour": "red"})
    with pytest.raises(SitesError, match="option wastewater: 'maybe' is not yes/no"):
        load_sites(points=["121.5,31.2"], crs=W84, attributes={"wastewater": "maybe"})
    with pytest.raises(SitesError, match="option industry: 2614 is a number"):
        load_sites(points=["121.5,31.2"], crs=W84, attributes={"industry": 2614})


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("true", True),
        ("Yes", True),
        ("Y", True),
        ("1", True),
        ("是", True),
        ("FALSE", False),
        ("no", False),
        ("n", False),
        ("0", False),
        ("否", False),
        ("", None),
        (" ", None),
    ],
)
def test_flag_values(tmp_path, cell, value):
    sites = load_sites(write(tmp_path, f"lon,lat,air\n121.5,31.2,{cell}\n"), crs=W84)
    assert sites.gdf["air"][0] is value


def test_id_and_name_fields(tmp_path):
    path = write(tmp_path, "code,title,lon,lat\nK1,一号,121.5,31.2\nK2,二号,121.6,31.3\n")
    sites = load_sites(path, crs=W84, id_field="code", name_field="TITLE")
    assert list(sites.gdf["site_id"]) == ["K1", "K2"] and list(sites.gdf["name"]) == [
        "一号",
        "二号",
    ]
    with pytest.raises(SitesError, match=r"id_field 'ref' is not a column \(columns: 'code'"):
        load_sites(path, crs=W84, id_field="ref")


def test_linear_derived_for_line_sites_only(tmp_path):
    """Undeclared lines are linear (derived); a declared value always wins, on lines too;
    points and polygons stay undeclared."""
    line = LineString([(121.40, 31.20), (121.42, 31.21)])
    multi = shapely.MultiLineString(
        [[(121.5, 31.2), (121.51, 31.2)], [(121.6, 31.3), (121.61, 31.3)]]
    )
    fc = collection(
        feature(line, id="l-blank"),
        feature(multi, id="m-blank", linear=None),
        feature(line, id="l-no", linear="no"),
        feature(line, id="l-yes", linear=True),
        feature(box(121.4, 31.2, 121.41, 31.21), id="poly"),
        feature(Point(121.5, 31.2), id="pt"),
    )
    path = write(tmp_path, json.dumps(fc), "lines.geojson")
    gdf = load_sites(path).gdf
    assert list(gdf["linear"]) == [True, True, False, True, None, None]
    assert list(gdf["linear_source"]) == ["derived", "derived", "declared", "declared", None, None]
    # an option declares it for every site: nothing derived
    bare = collection(feature(line), feature(multi), feature(Point(121.5, 31.2)))
    path = write(tmp_path, json.dumps(bare), "bare.geojson")
    assert list(load_sites(path).gdf["linear"]) == [True, True, None]
    opt = load_sites(path, attributes={"linear": "no"})
    assert list(opt.gdf["linear"]) == [False] * 3
    assert set(opt.gdf["linear_source"]) == {"declared"}
    assert not any("linear derived" in n for n in opt.notes)
    # a closed ring (LinearRing) is a line too; WKT and bare geometries behave the same
    ring = shapely.LinearRing([(121.4, 31.2), (121.41, 31.2), (121.41, 31.21)])
    got = load_sites([ring, box(121.4, 31.2, 121.41, 31.21)], crs="EPSG:4326").gdf
    assert list(got["linear"]) == [True, None] and got.geom_type[0] == "LineString"
    assert list(load_sites(wkt="POINT (121.4 31.2)", crs="EPSG:4326").gdf["linear"]) == [None]


def test_numeric_ids_from_a_geopackage(tmp_path):
    path = tmp_path / "n.gpkg"
    gpd.GeoDataFrame(
        {"site_id": [101, 102]}, geometry=[Point(121.5, 31.2), Point(121.6, 31.3)], crs=4326
    ).to_file(path)
    assert list(load_sites(path).gdf["site_id"]) == ["101", "102"]


def test_invalid_polygon_repaired_and_noted(tmp_path):
    bowtie = Polygon([(121.5, 31.2), (121.51, 31.21), (121.51, 31.2), (121.5, 31.21)])
    path = tmp_path / "bow.geojson"
    gpd.GeoDataFrame(geometry=[box(121.4, 31.2, 121.41, 31.21), bowtie], crs=4326).to_file(path)
    sites = load_sites(path)
    assert sites.gdf.geometry.is_valid.all()
    assert any("repaired" in n and "feature 2" in n for n in sites.notes)
    # the repaired bow-tie is two triangles, half the bounding square
    half = geodesic_area(box(121.5, 31.2, 121.51, 31.21)) / 2
    assert sites.gdf.geometry[1].area == pytest.approx(half, rel=1e-4)


def test_multi_geometries_are_fine():
    mp = shapely.MultiPolygon([box(121.4, 31.2, 121.41, 31.21), box(121.5, 31.2, 121.51, 31.21)])
    sites = load_sites([mp], crs="EPSG:4326")
    assert sites.gdf.geom_type[0] == "MultiPolygon"


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ("S2,121.5,31.2,C99,,", r"sites\.csv, row 3, column 'industry': 'C99'.*division 99"),
        ("S2,121.5,31.2,B2614,,", r"row 3, column 'industry': 'B2614'.*letter B does not match"),
        ("S2,121.5,31.2,26A,,", r"row 3, column 'industry': '26A' is not a GB/T 4754-2017"),
        ("S2,121.5,31.2,2614,maybe,", r"row 3, column 'wastewater': 'maybe' is not yes/no"),
        ("S2,121.5,31.2,2614,,rebuilt", r"row 3, column 'nature': 'rebuilt'.*allowed: new, exp"),
        ("S1,121.5,31.2,2614,,", r"duplicate site ids in column 'id': 'S1' \(row 2, row 3\)"),
        ("S2,abc,31.2,2614,,", r"row 3, column 'lon' holds 'abc', not a number"),
        ("S2,,31.2,2614,,", r"row 3, column 'lon' is empty"),
        ("S2,31.2,121.5,2614,,", r"row 3: .* not a longitude/latitude.*swapped"),
    ],
)
def test_csv_errors_name_file_row_and_column(tmp_path, cells, message):
    text = f"id,lon,lat,industry,wastewater,nature\nS1,121.4,31.2,C2614,yes,new\n{cells}\n"
    with pytest.raises(SitesError, match=message):
        load_sites(write(tmp_path, text), crs=W84)


def test_error_messages_are_one_line(tmp_path):
    text = "id,lon,lat,nature\nS1,121.4,31.2,whatever\n"
    with pytest.raises(SitesError, match="whatever") as info:
        load_sites(write(tmp_path, text), crs=W84)
    assert "\n" not in str(info.value)


def test_numeric_industry_code_in_a_geopackage(tmp_path):
    path = tmp_path / "num.gpkg"
    gpd.GeoDataFrame(
        {"industry": [2614, 511]}, geometry=[Point(121.5, 31.2)] * 2, crs=4326
    ).to_file(path)
    with pytest.raises(
        SitesError, match=r"num\.gpkg, feature 1, column 'industry': 2614 is a number; store"
    ):
        load_sites(path)


def test_numeric_industry_code_in_geojson(tmp_path):
    fc = collection(feature(Point(121.5, 31.2), 行业代码=2614))
    path = write(tmp_path, json.dumps(fc, ensure_ascii=False), "num.geojson")
    with pytest.raises(SitesError, match=r"feature 1, column '行业代码': 2614 is a number"):
        load_sites(path)


def test_empty_geometry_is_an_error(tmp_path):
    path = tmp_path / "holes.gpkg"
    gpd.GeoDataFrame(
        {"id": ["a", "b", "c"]}, geometry=[Point(121.5, 31.2), None, Polygon()], crs=4326
    ).to_file(path)
    with pytest.raises(SitesError, match=r"holes\.gpkg: feature 2, feature 3: no geometry"):
        load_sites(path)


def test_empty_wkt_cell_is_an_error(tmp_path):
    path = write(tmp_path, 'id,wkt\na,"POINT (121.5 31.2)"\nb,\n')
    with pytest.raises(SitesError, match=r"sites\.csv, row 3, column 'wkt': no geometry"):
        load_sites(path, crs="EPSG:4326")


def test_geometry_collection_is_an_error(tmp_path):
    gc = GeometryCollection([Point(121.5, 31.2), LineString([(121.5, 31.2), (121.6, 31.3)])])
    fc = collection(feature(Point(121.4, 31.2)), feature(gc))
    path = write(tmp_path, json.dumps(fc), "gc.geojson")
    with pytest.raises(SitesError, match=r"gc\.geojson: feature 2: a GeometryCollection"):
        load_sites(path)


#: What load_sites makes today of each geometry of tests/geometries.py: (geometry type, linear,
#: "Z coordinates dropped" noted) or the error it raises.  Lines count as linear, a ring is a
#: line, Z is dropped; a LinearRing Z loses its Z without the note.
LOADED = {
    "point": ("Point", None, False),
    "line_string": ("LineString", True, False),
    "linear_ring": ("LineString", True, False),
    "polygon": ("Polygon", None, False),
    "polygon_with_hole": ("Polygon", None, False),
    "multi_point": ("MultiPoint", None, False),
    "multi_line_string": ("MultiLineString", True, False),
    "multi_polygon": ("MultiPolygon", None, False),
    "geometry_collection": r"geometry 1: a GeometryCollection is not a site",
    "point_z": ("Point", None, True),
    "line_string_z": ("LineString", True, True),
    "linear_ring_z": ("LineString", True, False),
    "polygon_z": ("Polygon", None, True),
    "multi_point_z": ("MultiPoint", None, True),
    "multi_line_string_z": ("MultiLineString", True, True),
    "multi_polygon_z": ("MultiPolygon", None, True),
    "geometry_collection_z": r"geometry 1: a GeometryCollection is not a site",
    **dict.fromkeys([n for n in GEOMETRIES if "empty" in n], r"geometry 1: no geometry \(null"),
}


@pytest.mark.parametrize("name", list(GEOMETRIES))
def test_every_geometry_type_is_loaded_or_refused(name):
    geom, expected = GEOMETRIES[name], LOADED[name]
    if isinstance(expected, str):
        with pytest.raises(SitesError, match=expected) as err:
            load_sites([geom], crs=W84)
        assert "\n" not in str(err.value)
        return
    geom_type, linear, z_noted = expected
    sites = load_sites([geom], crs=W84)
    assert list(sites.gdf.geom_type) == [geom_type]
    assert not sites.gdf.geometry.has_z.any()
    assert sites.gdf["linear"][0] == linear
    assert ("Z coordinates dropped" in sites.notes) == z_noted


def test_degenerate_line_is_an_error():
    with pytest.raises(SitesError, match=r"geometry 2: invalid LineString"):
        load_sites(
            [Point(121.5, 31.2), LineString([(121.5, 31.2), (121.5, 31.2)])], crs="EPSG:4326"
        )


@pytest.mark.filterwarnings("ignore:'crs' was not provided")  # the fixture has none
def test_file_without_crs_is_an_error(tmp_path):
    path = tmp_path / "nocrs.shp"
    gpd.GeoDataFrame({"a": [1]}, geometry=[Point(121.5, 31.2)]).to_file(path)
    assert not path.with_suffix(".prj").exists()
    with pytest.raises(SitesError, match=r"nocrs\.shp: no CRS and none declared"):
        load_sites(path)
    assert load_sites(path, crs="EPSG:4490").input_crs == "EPSG:4490"


def test_missing_file(tmp_path):
    path = tmp_path / "nope.geojson"
    with pytest.raises(LayerReadError, match=r"sites file not found: .*nope\.geojson"):
        load_sites(path)
    with pytest.raises(OSError, match="use wkt="):
        load_sites("POINT (121.5 31.2)")


def test_unreadable_file(tmp_path):
    path = tmp_path / "junk.gpkg"
    path.write_bytes(b"not a geopackage" * 10)
    with pytest.raises(LayerReadError, match=r"junk\.gpkg: cannot"):
        load_sites(path)


def test_csv_without_coordinate_columns(tmp_path):
    with pytest.raises(SitesError, match=r"sites\.csv: no coordinate columns.*columns: 'a', 'b'"):
        load_sites(write(tmp_path, "a,b\n1,2\n"))
    with pytest.raises(SitesError, match="column 'lon' has no matching latitude column"):
        load_sites(write(tmp_path, "lon,b\n1,2\n"))


def test_lonlat_columns_with_projected_crs(tmp_path):
    with pytest.raises(SitesError, match="declared crs EPSG:4549 is projected"):
        load_sites(write(tmp_path, "lon,lat\n121.5,31.2\n"), crs="EPSG:4549")


def test_degrees_in_a_projected_crs(tmp_path):
    with pytest.raises(SitesError, match=r"row 2: .*looks like longitude/latitude"):
        load_sites(write(tmp_path, "x,y\n121.5,31.2\n"), crs="EPSG:4549")


def test_zone_prefixed_eastings_with_a_cm_code(tmp_path):
    x, y = pyproj.Transformer.from_crs(4326, 4528, always_xy=True).transform(121.5, 31.2)
    path = write(tmp_path, f"x,y\n{x},{y}\n")
    with pytest.raises(SitesError, match=r"row 2: easting .* carries a zone prefix"):
        load_sites(path, crs="EPSG:4549")
    assert len(load_sites(path, crs="EPSG:4528")) == 1


def test_exactly_one_input():
    with pytest.raises(SitesError, match="exactly one of source"):
        load_sites()
    with pytest.raises(SitesError, match="source, wkt"):
        load_sites(DATA / "sites_zh.csv", wkt="POINT (1 1)")


def test_empty_input(tmp_path):
    with pytest.raises(SitesError, match=r"sites\.csv: no sites"):
        load_sites(write(tmp_path, "lon,lat\n"))


def test_multi_layer_file_needs_layer(tmp_path):
    path = tmp_path / "two.gpkg"
    for name in ("a", "b"):
        gpd.GeoDataFrame({"i": [1]}, geometry=[Point(121.5, 31.2)], crs=4326).to_file(
            path, layer=name
        )
    with pytest.raises(SitesError, match=r"holds 2 layers \(a, b\); choose one with layer="):
        load_sites(path)
    assert len(load_sites(path, layer="b")) == 1


def test_two_columns_for_one_attribute(tmp_path):
    path = write(tmp_path, "lon,lat,industry,行业代码\n121.5,31.2,2614,2614\n")
    with pytest.raises(SitesError, match=r"columns 'industry', '行业代码' all give industry"):
        load_sites(path, crs=W84)


def test_points_as_an_array():
    arr = np.array([[121.47, 31.23], [121.5, 31.2]])
    sites = load_sites(points=arr, crs="gcj02")
    ref = prcoords.gcj_wgs_bored((31.2, 121.5))
    got = lonlat(sites.gdf.geometry[1])[0]
    assert GEOD.inv(got[0], got[1], ref.lon, ref.lat)[2] < 0.01
    assert arr.tolist() == [[121.47, 31.23], [121.5, 31.2]]  # not mutated


def test_dataframe_rows_are_named_by_index_label():
    table = pd.DataFrame({"lon": [121.5, 121.6], "lat": [31.2, 31.3], "air": ["y", "perhaps"]})
    table.index = ["site-a", "site-b"]
    with pytest.raises(SitesError, match=r"DataFrame, row site-b, column 'air': 'perhaps'"):
        load_sites(table, crs=W84)


def test_spreadsheet_without_geometry(tmp_path):
    import pyogrio

    if "w" not in pyogrio.list_drivers().get("XLSX", ""):
        pytest.skip("this GDAL cannot write XLSX")
    path = tmp_path / "sites.xlsx"
    table = pd.DataFrame(
        {"项目名称": ["甲"], "经度": [121.5], "纬度": [31.2], "行业代码": ["2614"]}
    )
    pyogrio.write_dataframe(table, path, driver="XLSX")
    sites = load_sites(path, crs=W84)
    assert sites.gdf["industry"][0] == "C2614" and sites.gdf["name"][0] == "甲"
    assert np.allclose(lonlat(sites.gdf.geometry[0]), [[121.5, 31.2]], atol=1e-9)


@pytest.mark.filterwarnings("ignore:'crs' was not provided")  # the fixture has none
def test_local_cs_needs_a_declared_crs(tmp_path):
    path = tmp_path / "local.shp"
    gpd.GeoDataFrame({"i": [1]}, geometry=[Point(500, 500)]).to_file(path)
    path.with_suffix(".prj").write_text('LOCAL_CS["Shanghai City",UNIT["Meter",1]]')
    with pytest.raises(SitesError, match=r"local\.shp: only a local \(engineering\) CRS"):
        load_sites(path)


def test_gcj02_declared_over_a_geographic_label_is_noted(tmp_path):
    path = write(tmp_path, json.dumps(collection(feature(Point(121.475, 31.2335)))), "a.geojson")
    sites = load_sites(path, crs="gcj02")
    assert sites.gdf["input_crs"][0] == "gcj02"
    assert "labelled EPSG:4326; declared gcj02 used" in sites.notes


def test_empty_id_column_from_kml_style_files_is_not_an_error(tmp_path):
    path = tmp_path / "ids.gpkg"
    gpd.GeoDataFrame(
        {"id": [None, None]}, geometry=[Point(121.5, 31.2), Point(121.6, 31.3)], crs=4326
    ).to_file(path)
    sites = load_sites(path)
    assert list(sites.gdf["site_id"]) == ["1", "2"]
    assert any("column 'id' is empty" in n for n in sites.notes)
    # but a partly empty id column is an error naming the row
    gpd.GeoDataFrame(
        {"id": ["a", None]}, geometry=[Point(121.5, 31.2), Point(121.6, 31.3)], crs=4326
    ).to_file(path)
    with pytest.raises(SitesError, match=r"ids\.gpkg, feature 2, column 'id': site id is empty"):
        load_sites(path)


def test_empty_column_and_option(tmp_path):
    # An empty template column gives nothing, so the option applies; a partly filled one must agree.
    path = write(tmp_path, "lon,lat,industry\n121.5,31.2,\n121.6,31.3,\n")
    sites = load_sites(path, crs=W84, attributes={"industry": "2614"})
    assert list(sites.gdf["industry"]) == ["C2614", "C2614"]
    assert any("column 'industry' is empty" in n for n in sites.notes)
    path = write(tmp_path, "lon,lat,industry\n121.5,31.2,C2614\n121.6,31.3,\n", "partly.csv")
    with pytest.raises(SitesError, match=r"partly\.csv, row 3: industry is given by column"):
        load_sites(path, crs=W84, attributes={"industry": "2614"})


def test_sites_already_in_the_working_crs_are_taken_as_they_are(tmp_path):
    """Geometries in the working CRS are neither densified nor reprojected (a long straight
    edge keeps its two vertices), and the input is not mutated; x/y columns in the working
    CRS give the same points.  The CRS label is PROJ's own (identified once, then cached)."""
    x, y = TO_WORK.transform([121.40, 121.47, 121.55], [31.20, 31.23, 31.30])
    long_edge = LineString([(x[0], y[0]), (x[2], y[2])])  # ~20 km: densified if projected
    gdf = gpd.GeoDataFrame(
        {"id": ["p", "l"]}, geometry=[Point(x[1], y[1]), long_edge], crs=WORKING_CRS
    )
    before = gdf.copy()
    sites = load_sites(gdf)
    got = sites.gdf.geometry.to_numpy()
    assert shapely.equals_exact(got, gdf.geometry.to_numpy(), tolerance=0).all()
    assert shapely.get_num_coordinates(got[1]) == 2
    pd.testing.assert_frame_equal(gdf, before)
    assert sites.input_crs == WORKING_CRS.name and sites.gdf.crs == WORKING_CRS
    table = pd.DataFrame({"x": x, "y": y})
    again = load_sites(table, crs=WORKING_CRS)
    assert list(shapely.get_x(again.gdf.geometry.to_numpy())) == list(x)
    assert list(shapely.get_y(again.gdf.geometry.to_numpy())) == list(y)
    # A geographic input still goes through the projection (and agrees with pyproj).
    wgs = load_sites(gpd.GeoDataFrame(geometry=[Point(121.47, 31.23)], crs=4326))
    px, py = TO_WORK.transform(121.47, 31.23)
    assert wgs.gdf.geometry[0].distance(Point(px, py)) < 1e-6
