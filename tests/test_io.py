"""Reading real files: encodings, CRS, geometry repair, formats. Every fixture is a real file."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import prcoords
import pyproj
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon, box

from zoning.catalog import LayerEntry
from zoning.crs import WORKING_CRS
from zoning.errors import CRSError, LayerDataError, LayerReadError
from zoning.io import detect_dbf_encoding, read_layer

NAMES = ["崇明东滩鸟类国家级自然保护区", "九段沙湿地", "青草沙水库"]
TO_WGS = pyproj.Transformer.from_crs(WORKING_CRS, 4326, always_xy=True)


def entry(source, kind="red_line", **kw) -> LayerEntry:
    return LayerEntry(id="t", kind=kind, source=str(source), **kw)


def squares(n=3, lon=121.5, lat=31.2, size=0.01):
    return [box(lon + i * 0.02, lat, lon + i * 0.02 + size, lat + size) for i in range(n)]


def write_shp(path: Path, encoding: str, keep_cpg: bool) -> Path:
    gdf = gpd.GeoDataFrame(
        {"名称": NAMES, "code": ["0101", "0102", "A1"]}, geometry=squares(), crs=4326
    )
    gdf.to_file(path, encoding=encoding)
    if not keep_cpg:
        path.with_suffix(".cpg").unlink(missing_ok=True)
    return path


def lonlat(gdf):
    x, y = TO_WGS.transform(*shapely.get_coordinates(gdf.geometry.to_numpy()).T)
    return np.column_stack([x, y])


# ----------------------------------------------------------------------------- encodings


def test_gbk_shapefile_without_cpg_reads_correct_chinese(tmp_path):
    path = write_shp(tmp_path / "gbk.shp", "gbk", keep_cpg=False)
    assert not path.with_suffix(".cpg").exists()
    gdf, report = read_layer(entry(path, fields={"name": "名称"}))
    assert list(gdf["名称"]) == NAMES
    assert list(gdf["name"]) == NAMES
    assert report.encoding == "GB18030" and report.encoding_detected
    assert any("GB18030" in n for n in report.notes)


def test_declared_encoding_wins(tmp_path):
    path = write_shp(tmp_path / "gbk.shp", "gbk", keep_cpg=False)
    gdf, report = read_layer(entry(path, encoding="ISO-8859-1"))
    assert report.encoding == "ISO-8859-1" and not report.encoding_detected
    assert "名称" not in gdf.columns  # mojibake, because the user said so


def test_utf8_shapefile_without_cpg(tmp_path):
    path = write_shp(tmp_path / "u8.shp", "utf-8", keep_cpg=False)
    gdf, report = read_layer(entry(path))
    assert list(gdf["名称"]) == NAMES and report.encoding == "UTF-8"


def test_zipped_gbk_shapefile(tmp_path):
    write_shp(tmp_path / "z.shp", "gbk", keep_cpg=False)
    zpath = tmp_path / "z.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for part in tmp_path.glob("z.*"):
            if part.suffix != ".zip":
                zf.write(part, part.name)
    gdf, report = read_layer(entry(zpath))
    assert list(gdf["名称"]) == NAMES and report.encoding == "GB18030"


def test_detect_dbf_encoding_on_truncated_utf8(tmp_path):
    # A 10-byte field holding UTF-8 text cut inside a 3-byte character is still UTF-8.
    gdf = gpd.GeoDataFrame({"n": ["青草沙水库青草沙"]}, geometry=squares(1), crs=4326)
    path = tmp_path / "cut.shp"
    gdf.to_file(path, encoding="utf-8", layer_options={"RESIZE": "NO"})
    assert detect_dbf_encoding(path.with_suffix(".dbf").read_bytes()) == "UTF-8"


# ----------------------------------------------------------------------------- CRS


@pytest.mark.filterwarnings("ignore:'crs' was not provided")  # fixture has none
def test_file_without_crs_is_an_error(tmp_path):
    path = tmp_path / "nocrs.shp"
    gpd.GeoDataFrame({"a": [1]}, geometry=squares(1)).to_file(path)
    assert not path.with_suffix(".prj").exists()
    with pytest.raises(CRSError, match="has no CRS"):
        read_layer(entry(path))
    _, report = read_layer(entry(path, crs="EPSG:4326"))
    assert report.input_crs == "EPSG:4326" and report.crs_declared


def test_epsg4490_axis_order(tmp_path):
    # EPSG:4490 is latitude-first officially; files store lon/lat. Nothing may be swapped.
    pts = [Point(121.4737, 31.2304), Point(121.8, 31.1)]
    path = tmp_path / "cgcs.gpkg"
    gpd.GeoDataFrame({"i": [1, 2]}, geometry=[p.buffer(0.001) for p in pts], crs=4490).to_file(path)
    gdf, report = read_layer(entry(path))
    assert report.input_crs == "EPSG:4490"
    c = shapely.centroid(gdf.geometry.to_numpy())
    lon, lat = TO_WGS.transform(shapely.get_x(c), shapely.get_y(c))
    assert np.allclose(lon, [121.4737, 121.8], atol=1e-5)
    assert np.allclose(lat, [31.2304, 31.1], atol=1e-5)


def test_gauss_kruger_zone_and_cm_variants_agree(tmp_path):
    lonlat_poly = box(121.40, 31.10, 121.45, 31.15)
    paths = {}
    for code in (4528, 4549):  # zone 40 (easting prefixed with 40), and CM 120E (no prefix)
        t = pyproj.Transformer.from_crs(4326, code, always_xy=True)
        poly = shapely.transform(lonlat_poly, lambda xy, t=t: np.column_stack(t.transform(*xy.T)))
        paths[code] = tmp_path / f"gk{code}.gpkg"
        gpd.GeoDataFrame({"i": [1]}, geometry=[poly], crs=code).to_file(paths[code])
    a, _ = read_layer(entry(paths[4528]))
    b, _ = read_layer(entry(paths[4549]))
    assert shapely.equals_exact(a.geometry[0], b.geometry[0], tolerance=1e-3)
    # and both land on the lon/lat box they were made from (to 1 cm)
    xmin, ymin, xmax, ymax = TO_WGS.transform_bounds(*a.total_bounds)
    assert np.allclose([xmin, ymin, xmax, ymax], lonlat_poly.bounds, atol=1e-7)
    # Zone-prefixed eastings labelled with the CM code are caught, not silently misplaced.
    bad = tmp_path / "bad.shp"
    gpd.read_file(paths[4528]).set_crs(4549, allow_override=True).to_file(bad)
    with pytest.raises(CRSError, match="zone prefix"):
        read_layer(entry(bad))


def test_declared_gcj02_converts(tmp_path):
    # Coordinates copied from Amap, mislabelled EPSG:4326 — the declaration wins.
    square = box(121.47, 31.23, 121.48, 31.24)
    path = tmp_path / "amap.geojson"
    gpd.GeoDataFrame({"i": [1]}, geometry=[square], crs=4326).to_file(path)
    gdf, report = read_layer(entry(path, crs="gcj02"))
    assert report.conversion and report.input_crs == "gcj02"
    got = lonlat(gdf)
    corners = shapely.get_coordinates(square)
    ref = [prcoords.gcj_wgs_bored((lat, lon)) for lon, lat in corners]  # independent oracle
    ex, ey = np.array([c.lon for c in ref]), np.array([c.lat for c in ref])
    # every converted corner is a vertex of the loaded polygon (edges were densified in between)
    for x, y in zip(ex, ey, strict=True):
        assert (
            np.min(np.hypot(got[:, 0] - x, got[:, 1] - y)) < 1e-7
        )  # 1 cm, after a round trip through the working CRS
    shift = pyproj.Geod(ellps="WGS84").inv(121.47, 31.23, ex[0], ey[0])[2]
    assert 300 < shift < 700


def test_declared_crs_contradicting_file_is_an_error(tmp_path):
    path = tmp_path / "utm.gpkg"
    gpd.GeoDataFrame(
        {"i": [1]}, geometry=[box(350000, 3450000, 351000, 3451000)], crs=32651
    ).to_file(path)
    with pytest.raises(CRSError, match="contradicts"):
        read_layer(entry(path, crs="EPSG:4490"))


def test_projected_coordinates_labelled_geographic(tmp_path):
    path = tmp_path / "mislabelled.gpkg"
    gpd.GeoDataFrame(
        {"i": [1]}, geometry=[box(350000, 3450000, 351000, 3451000)], crs=4326
    ).to_file(path)
    with pytest.raises(CRSError, match="not degrees"):
        read_layer(entry(path))


# ----------------------------------------------------------------------------- geometry


def test_invalid_polygon_repaired_and_reported(tmp_path):
    bowtie = Polygon([(121.5, 31.2), (121.51, 31.21), (121.51, 31.2), (121.5, 31.21)])
    assert not bowtie.is_valid
    path = tmp_path / "bow.gpkg"
    gpd.GeoDataFrame({"rid": ["ok", "bow"]}, geometry=[squares(1)[0], bowtie], crs=4326).to_file(
        path
    )
    gdf, report = read_layer(entry(path, fields={"id": "rid"}))
    assert report.repaired == 1 and report.repaired_ids == ["bow"]
    assert gdf.geometry.is_valid.all()
    # The repaired bow-tie is two triangles, together half the bounding square.
    t = pyproj.Transformer.from_crs(4326, WORKING_CRS, always_xy=True)
    sq = shapely.transform(
        box(121.5, 31.2, 121.51, 31.21), lambda xy: np.column_stack(t.transform(*xy.T))
    )
    assert gdf.geometry[1].area == pytest.approx(sq.area / 2, rel=1e-3)


def test_null_and_empty_geometries_dropped_and_named(tmp_path):
    path = tmp_path / "holes.gpkg"
    gdf = gpd.GeoDataFrame(
        {"rid": ["a", "b", "c"]}, geometry=[squares(1)[0], None, Polygon()], crs=4326
    )
    gdf.to_file(path)
    out, report = read_layer(entry(path, fields={"id": "rid"}))
    assert list(out["feature_id"]) == ["a"]
    assert report.dropped == 2 and sorted(report.dropped_ids) == ["b", "c"]


def test_z_dropped_with_note(tmp_path):
    poly = Polygon([(121.5, 31.2, 5), (121.51, 31.2, 5), (121.51, 31.21, 5), (121.5, 31.2, 5)])
    path = tmp_path / "z.gpkg"
    gpd.GeoDataFrame({"i": [1]}, geometry=[poly], crs=4326).to_file(path)
    out, report = read_layer(entry(path))
    assert report.z_dropped and not out.geometry.has_z.any()


def test_polygon_layer_with_lines_names_the_features(tmp_path):
    path = tmp_path / "mixed.geojson"
    geoms = [squares(1)[0], LineString([(121.5, 31.2), (121.6, 31.3)])]
    gpd.GeoDataFrame({"rid": ["p1", "l1"]}, geometry=geoms, crs=4326).to_file(path)
    with pytest.raises(LayerDataError, match=r"l1 \(LineString\)"):
        read_layer(entry(path, fields={"id": "rid"}))


# ----------------------------------------------------------------------------- formats and errors


@pytest.mark.parametrize(
    ("driver", "suffix"),
    [
        ("GPKG", ".gpkg"),
        ("GeoJSON", ".geojson"),
        ("FlatGeobuf", ".fgb"),
        ("KML", ".kml"),
        ("OpenFileGDB", ".gdb"),
    ],
)
def test_formats(tmp_path, driver, suffix):
    import pyogrio

    if "w" not in pyogrio.list_drivers().get(driver, ""):
        pytest.skip(f"this GDAL cannot write {driver}")
    path = tmp_path / f"layer{suffix}"
    gpd.GeoDataFrame({"label": NAMES}, geometry=squares(), crs=4326).to_file(path, driver=driver)
    gdf, report = read_layer(entry(path))
    assert len(gdf) == 3 and report.driver is not None
    assert set(gdf["label"]) == set(NAMES)


def test_missing_file(tmp_path):
    with pytest.raises(LayerReadError, match="not found"):
        read_layer(entry(tmp_path / "nope.gpkg"))


def test_unreadable_file(tmp_path):
    path = tmp_path / "junk.gpkg"
    path.write_bytes(b"this is not a geopackage" * 10)
    with pytest.raises(LayerReadError, match="cannot"):
        read_layer(entry(path))


def test_wrong_field_mapping(square_gpkg):
    with pytest.raises(LayerDataError, match=r"fields\.name names column 'nom'"):
        read_layer(entry(square_gpkg, fields={"name": "nom"}))


def test_multi_layer_file_needs_layer(tmp_path):
    path = tmp_path / "two.gpkg"
    for name in ("a", "b"):
        gpd.GeoDataFrame({"i": [1]}, geometry=squares(1), crs=4326).to_file(path, layer=name)
    with pytest.raises(LayerReadError, match="set 'layer:'"):
        read_layer(entry(path))
    with pytest.raises(LayerReadError, match="no layer 'c'"):
        read_layer(entry(path, layer="c"))
    gdf, _ = read_layer(entry(path, layer="b"))
    assert len(gdf) == 1


def test_epsg4490_latitude_first_gml(tmp_path):
    # GML 3 with an EPSG URN uses the authority axis order: latitude first.
    gml = tmp_path / "latfirst.gml"
    gml.write_text(
        """<?xml version="1.0" encoding="UTF-8"?>
<ogr:FeatureCollection xmlns:ogr="http://ogr.maptools.org/" xmlns:gml="http://www.opengis.net/gml/3.2">
 <ogr:featureMember><ogr:site gml:id="s1"><ogr:geometryProperty>
  <gml:Polygon srsName="urn:ogc:def:crs:EPSG::4490" gml:id="p1"><gml:exterior><gml:LinearRing>
   <gml:posList>31.23 121.47 31.24 121.47 31.24 121.48 31.23 121.48 31.23 121.47</gml:posList>
  </gml:LinearRing></gml:exterior></gml:Polygon>
 </ogr:geometryProperty><ogr:name>人民广场</ogr:name></ogr:site></ogr:featureMember>
</ogr:FeatureCollection>
""",
        encoding="utf-8",
    )
    gdf, report = read_layer(entry(gml))
    assert "4490" in report.input_crs
    xmin, ymin, xmax, ymax = TO_WGS.transform_bounds(*gdf.total_bounds)
    assert np.allclose([xmin, ymin, xmax, ymax], [121.47, 31.23, 121.48, 31.24], atol=1e-6)


def test_empty_layer(tmp_path):
    path = tmp_path / "empty.gpkg"
    gpd.GeoDataFrame({"i": []}, geometry=[], crs=4326).to_file(path)
    gdf, report = read_layer(entry(path))
    assert len(gdf) == 0 and report.features == 0


def test_source_columns_named_like_standard_ones_are_kept(tmp_path):
    path = tmp_path / "cols.gpkg"
    gdf = gpd.GeoDataFrame(
        {"feature_id": ["x1"], "name": ["old"], "MC": ["新名"]}, geometry=squares(1), crs=4326
    )
    gdf.to_file(path)
    out, report = read_layer(entry(path, fields={"name": "MC"}))
    assert out["name"].tolist() == ["新名"] and out["src_name"].tolist() == ["old"]
    assert out["src_feature_id"].tolist() == ["x1"] and out["feature_id"].tolist() == ["t:1"]
    assert any("renamed" in n for n in report.notes)


def test_short_gbk_values_detected(tmp_path):
    # Two-byte GBK values (是 = CA C7) must not pass for truncated UTF-8.
    path = tmp_path / "short.shp"
    gdf = gpd.GeoDataFrame({"flag": ["是", "否"]}, geometry=squares(2), crs=4326)
    gdf.to_file(path, encoding="gbk")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    out, report = read_layer(entry(path))
    assert out["flag"].tolist() == ["是", "否"] and report.encoding == "GB18030"


def test_gbk_truncated_field_still_gbk(tmp_path):
    gdf = gpd.GeoDataFrame({"n": ["青草沙水库青草沙"]}, geometry=squares(1), crs=4326)
    path = tmp_path / "cutgbk.shp"
    gdf.to_file(path, encoding="gbk", layer_options={"RESIZE": "NO"})
    assert detect_dbf_encoding(path.with_suffix(".dbf").read_bytes()) == "GB18030"


def test_declared_encoding_beats_wrong_cpg(tmp_path):
    path = write_shp(tmp_path / "wrong.shp", "gbk", keep_cpg=False)
    path.with_suffix(".cpg").write_text("UTF-8")
    out, report = read_layer(entry(path, encoding="GBK"))
    assert list(out["名称"]) == NAMES and report.encoding == "GBK"


def test_undetectable_encoding_asks_for_declaration(tmp_path):
    path = tmp_path / "odd.shp"
    gpd.GeoDataFrame({"n": ["XXXX"]}, geometry=squares(1), crs=4326).to_file(path)
    path.with_suffix(".cpg").unlink(missing_ok=True)
    dbf = path.with_suffix(".dbf")
    dbf.write_bytes(
        dbf.read_bytes().replace(b"XXXX", b"\xff\xfe\xff\xfe")
    )  # neither UTF-8 nor GB18030
    with pytest.raises(LayerReadError, match="declare 'encoding:'"):
        read_layer(entry(path))
    gdf, _ = read_layer(entry(path, encoding="ISO-8859-1"))
    assert gdf["n"].tolist() == ["ÿþÿþ"]


def test_zip_with_folder_inside(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    write_shp(folder / "红线.shp", "gbk", keep_cpg=False)
    zpath = tmp_path / "export.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for part in folder.iterdir():
            zf.write(part, f"data/{part.name}")
    gdf, report = read_layer(entry(zpath))
    assert list(gdf["名称"]) == NAMES and report.encoding == "GB18030"
    assert report.sha256 is not None


def test_brackets_in_file_name(tmp_path):
    path = write_shp(tmp_path / "红线[2023].shp", "gbk", keep_cpg=False)
    gdf, report = read_layer(entry(path))
    assert list(gdf["名称"]) == NAMES
    assert report.sha256 != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.filterwarnings("ignore:'crs' was not provided")  # fixture has none
def test_local_cs_needs_a_declared_crs(tmp_path):
    path = tmp_path / "local.shp"
    gpd.GeoDataFrame({"i": [1]}, geometry=[box(500, 500, 900, 900)]).to_file(path)
    path.with_suffix(".prj").write_text('LOCAL_CS["Shanghai City",UNIT["Meter",1]]')
    with pytest.raises(CRSError, match="local"):
        read_layer(entry(path))


def test_wrong_zone_prefix(tmp_path):
    t = pyproj.Transformer.from_crs(4326, 4529, always_xy=True)  # zone 41
    poly = shapely.transform(
        box(121.6, 31.1, 121.65, 31.15), lambda xy: np.column_stack(t.transform(*xy.T))
    )
    path = tmp_path / "z41.gpkg"
    gpd.GeoDataFrame({"i": [1]}, geometry=[poly], crs=4528).to_file(path)  # labelled zone 40
    with pytest.raises(CRSError, match="zone prefix 40"):
        read_layer(entry(path))
