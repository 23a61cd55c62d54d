"""The inputs planners actually have: DXF site plans, wrong CRS declarations, Shapefiles whose
Chinese field names were cut, Amap's "lon,lat" cells, degrees-minutes-seconds, 建设性质 words.

Every fixture is written in tmp_path by the test itself (DXF drawings with ezdxf, a second
library; Shapefiles with pyogrio, their .dbf header patched byte by byte).  Oracles: pyproj for
positions, hand-computed degrees, areas of the hand-made shapes (shapely on the same vertices,
pi r^2 for arcs), the demonstration layers for the verdict.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import ezdxf
import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from click.testing import CliRunner
from shapely.geometry import box

from zoning.cli import main
from zoning.crs import WORKING_CRS
from zoning.errors import SitesError, ZoningError
from zoning.sites import load_sites

GK40 = 4549  # CGCS2000 3-degree Gauss-Krüger zone 40, CM 120°E, no zone prefix
GK41 = 4550  # zone 41, CM 123°E
TO_WGS = pyproj.Transformer.from_crs(WORKING_CRS, 4326, always_xy=True)


def one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text, text
    return text


def to_crs(lon: float, lat: float, epsg: int) -> tuple[float, float]:
    return pyproj.Transformer.from_crs(4326, epsg, always_xy=True).transform(lon, lat)


def square(cx: float, cy: float, half: float) -> list[tuple[float, float]]:
    return [
        (cx - half, cy - half),
        (cx + half, cy - half),
        (cx + half, cy + half),
        (cx - half, cy + half),
    ]


def drawing(version: str = "R2000", *, gbk: bool = True):
    doc = ezdxf.new(version)
    if gbk:
        doc.encoding = "gbk"  # written as $DWGCODEPAGE ANSI_936, text in GBK bytes
    return doc, doc.modelspace()


def area_m2(sites) -> np.ndarray:
    return sites.gdf.geometry.area.to_numpy()


# ---------------------------------------------------------------------------------------------
# DXF site plans (红线图)


@pytest.fixture(scope="module")
def footprint(demo_layers):
    """A 100 m square (EPSG:4549 vertices) inside the level-1 source zone at 金泽 (WSZ01)."""
    zone = demo_layers["water_source_zones"].gdf
    row = zone[zone["feature_id"] == "WSZ01"].iloc[0]
    assert row["category"] == "level1"
    p = row.geometry.representative_point()
    lon, lat = TO_WGS.transform(p.x, p.y)
    return square(*to_crs(lon, lat, GK40), 50.0)


def plan_dxf(path: Path, ring, *, layer: str = "红线", name: str | None = "金泽地块") -> Path:
    """A site plan as a CAD user draws it: the red line, its label, a dimension, a block, a road."""
    doc, msp = drawing()
    doc.layers.add(layer)
    doc.layers.add("标注")
    msp.add_lwpolyline(ring, close=True, dxfattribs={"layer": layer})
    (x0, y0), (x1, y1) = ring[0], ring[2]
    if name:
        msp.add_text(name, dxfattribs={"layer": "标注", "insert": ((x0 + x1) / 2, (y0 + y1) / 2)})
    msp.add_mtext("用地面积约1公顷", dxfattribs={"layer": "标注", "insert": (x1 + 30, y1)})
    msp.add_linear_dim(
        base=(x0, y0 - 10), p1=(x0, y0), p2=(x1, y0), dxfattribs={"layer": "标注"}
    ).render()
    block = doc.blocks.new("TREE")
    block.add_circle((0, 0), 1.0)
    msp.add_blockref("TREE", ((x0 + x1) / 2, y0 + 5), dxfattribs={"layer": "标注"})
    msp.add_line((x0 - 100, y0), (x1 + 100, y0), dxfattribs={"layer": "道路"})
    doc.saveas(path)
    return path


def test_dxf_and_shapefile_of_one_footprint_screen_alike(footprint, demo_layers, tmp_path):
    import zoning

    shp = tmp_path / "site.shp"
    gpd.GeoDataFrame(
        {"name": ["金泽地块"]}, geometry=[shapely.Polygon(footprint)], crs=GK40
    ).to_file(shp, encoding="UTF-8")
    dxf = plan_dxf(tmp_path / "site.dxf", footprint)
    attrs = {"industry": "C2614", "nature": "new", "wastewater": True, "discharge": "sewer"}
    a = zoning.screen(str(shp), demo_layers, attributes=attrs)
    b = zoning.screen(str(dxf), demo_layers, attributes=attrs, crs=f"EPSG:{GK40}")
    assert b.sites.geometry.iloc[0].geom_type == "Polygon"
    assert b.sites.geometry.iloc[0].area == pytest.approx(100.0 * 100.0, rel=1e-3)
    assert a.sites.geometry.iloc[0].symmetric_difference(b.sites.geometry.iloc[0]).area < 1e-3
    assert list(a.sites["verdict"]) == list(b.sites["verdict"]) == ["prohibited"]


def test_dxf_plan_reads_the_red_line_and_notes_what_it_ignored(footprint, tmp_path):
    dxf = plan_dxf(tmp_path / "plan.dxf", footprint)
    sites = load_sites(dxf, crs=f"EPSG:{GK40}")
    assert len(sites) == 1
    row = sites.gdf.iloc[0]
    assert row["name"] == "金泽地块"  # the one text inside the boundary
    assert row["site_id"].startswith("红线-")  # layer and handle
    notes = " | ".join(sites.notes)
    assert "1 text" in notes and "1 mtext" in notes, notes
    assert "1 dimension" in notes and "1 block reference" in notes, notes
    assert "1 line" in notes, notes


def test_dxf_code_page_936_layer_names(footprint, tmp_path):
    dxf = plan_dxf(tmp_path / "gbk.dxf", footprint, layer="用地红线")
    data = dxf.read_bytes()
    assert b"ANSI_936" in data and "用地红线".encode("gbk") in data  # really GBK bytes on disk
    assert "用地红线".encode() not in data
    sites = load_sites(dxf, crs=f"EPSG:{GK40}", dxf_layer="用地红线")
    assert sites.gdf["site_id"].iloc[0].startswith("用地红线-")


def test_dxf_gbk_text_under_a_western_code_page(footprint, tmp_path):
    dxf = plan_dxf(tmp_path / "gbk.dxf", footprint)
    data = dxf.read_bytes().replace(b"ANSI_936", b"ANSI_1252")  # a careless exporter
    dxf.write_bytes(data)
    sites = load_sites(dxf, crs=f"EPSG:{GK40}", dxf_layer="红线")
    assert sites.gdf["name"].iloc[0] == "金泽地块"
    assert any("GBK (detected" in n for n in sites.notes), sites.notes


@pytest.mark.parametrize("kind", ["lwpolyline_not_flagged", "polyline", "spline", "circle"])
def test_dxf_closed_shapes_become_polygons(kind, tmp_path):
    doc, msp = drawing()
    ring = square(500_000.0, 3_450_000.0, 40.0)
    expected = 80.0 * 80.0
    if kind == "lwpolyline_not_flagged":  # first vertex repeated at the end, no closed flag
        msp.add_lwpolyline([*ring, ring[0]], dxfattribs={"layer": "A"})
    elif kind == "polyline":  # the old-style 2D POLYLINE
        msp.add_polyline2d(ring, close=True, dxfattribs={"layer": "A"})
    elif kind == "spline":
        msp.add_spline(ring, dxfattribs={"layer": "A"}).closed = True
        expected = None
    else:
        msp.add_circle((500_000.0, 3_450_000.0), 40.0, dxfattribs={"layer": "A"})
        expected = math.pi * 40.0**2
    doc.saveas(tmp_path / "x.dxf")
    sites = load_sites(tmp_path / "x.dxf", crs="EPSG:4549", dxf_layer="A")
    geom = sites.gdf.geometry.iloc[0]
    assert geom.geom_type == "Polygon"
    if expected is not None:
        assert sites.gdf.geometry.area.iloc[0] == pytest.approx(expected, rel=2e-3)


def test_dxf_circle_only_on_the_chosen_layer(tmp_path):
    doc, msp = drawing()
    msp.add_lwpolyline(square(500_000.0, 3_450_000.0, 40.0), close=True, dxfattribs={"layer": "A"})
    msp.add_circle((500_000.0, 3_450_000.0), 1.0, dxfattribs={"layer": "A"})  # a tree symbol
    doc.saveas(tmp_path / "x.dxf")
    sites = load_sites(tmp_path / "x.dxf", crs="EPSG:4549")
    assert len(sites) == 1
    assert any("1 circle" in n for n in sites.notes), sites.notes


def test_dxf_hatch_with_a_hole_and_an_arc_edge(tmp_path):
    doc, msp = drawing()
    cx, cy = 500_000.0, 3_450_000.0
    hatch = msp.add_hatch(dxfattribs={"layer": "H"})
    hatch.paths.add_polyline_path(square(cx, cy, 100.0), is_closed=True, flags=1)  # external
    hatch.paths.add_polyline_path(square(cx, cy, 20.0), is_closed=True, flags=16)  # hole
    # A second hatch from edges: a half disc of radius 50 (a line and a 180° arc).
    half = msp.add_hatch(dxfattribs={"layer": "H"})
    edges = half.paths.add_edge_path(flags=1)
    edges.add_line((cx + 300 - 50, cy), (cx + 300 + 50, cy))
    edges.add_arc((cx + 300, cy), 50.0, 0, 180)
    doc.saveas(tmp_path / "h.dxf")
    sites = load_sites(tmp_path / "h.dxf", crs="EPSG:4549")
    areas = sorted(area_m2(sites))
    assert len(areas) == 2
    assert areas[0] == pytest.approx(math.pi * 50.0**2 / 2, rel=2e-3)
    assert areas[1] == pytest.approx(200.0**2 - 40.0**2, rel=1e-3)


def test_dxf_polyline_and_its_hatch_are_one_site(tmp_path):
    doc, msp = drawing()
    ring = square(500_000.0, 3_450_000.0, 100.0)
    msp.add_lwpolyline(ring, close=True, dxfattribs={"layer": "红线"})
    msp.add_hatch(dxfattribs={"layer": "红线"}).paths.add_polyline_path(ring, is_closed=True)
    doc.saveas(tmp_path / "twin.dxf")
    sites = load_sites(tmp_path / "twin.dxf", crs="EPSG:4549")
    assert len(sites) == 1
    assert any("1 duplicate boundary" in n for n in sites.notes), sites.notes


def test_dxf_boundaries_on_several_layers_need_dxf_layer(tmp_path):
    doc, msp = drawing()
    doc.layers.add("红线")
    doc.layers.add("建筑")
    msp.add_lwpolyline(
        square(500_000.0, 3_450_000.0, 100.0), close=True, dxfattribs={"layer": "红线"}
    )
    for dx in (-40.0, 40.0):
        msp.add_lwpolyline(
            square(500_000.0 + dx, 3_450_000.0, 10.0), close=True, dxfattribs={"layer": "建筑"}
        )
    doc.saveas(tmp_path / "p.dxf")
    with pytest.raises(SitesError) as exc:
        load_sites(tmp_path / "p.dxf", crs="EPSG:4549")
    msg = one_line(exc)
    assert "p.dxf" in msg and "红线" in msg and "建筑" in msg and "dxf_layer" in msg
    sites = load_sites(tmp_path / "p.dxf", crs="EPSG:4549", dxf_layer="红线")
    assert len(sites) == 1 and area_m2(sites)[0] == pytest.approx(200.0**2, rel=1e-3)
    with pytest.raises(SitesError) as exc:
        load_sites(tmp_path / "p.dxf", crs="EPSG:4549", dxf_layer="道路")
    msg = one_line(exc)
    assert "道路" in msg and "红线" in msg and "建筑" in msg


def test_dxf_without_closed_boundary_is_one_line_error(tmp_path):
    doc, msp = drawing()
    msp.add_lwpolyline(square(500_000.0, 3_450_000.0, 100.0), dxfattribs={"layer": "红线"})  # open
    msp.add_line((0, 0), (10, 0), dxfattribs={"layer": "红线"})
    msp.add_line((0, 0), (0, 10), dxfattribs={"layer": "红线"})
    msp.add_text("地块", dxfattribs={"layer": "红线"})
    doc.saveas(tmp_path / "open.dxf")
    with pytest.raises(SitesError) as exc:
        load_sites(tmp_path / "open.dxf", crs="EPSG:4549", dxf_layer="红线")
    msg = one_line(exc)
    assert "open.dxf" in msg and "红线" in msg and "no closed boundary" in msg
    assert "1 open polyline" in msg and "2 lines" in msg and "1 text" in msg


def test_dwg_is_refused(tmp_path):
    dwg = tmp_path / "plan.dwg"
    dwg.write_bytes(b"AC1032" + bytes(200))
    disguised = tmp_path / "plan.dxf"
    disguised.write_bytes(b"AC1027" + bytes(200))
    for path in (dwg, disguised):
        with pytest.raises(ZoningError) as exc:
            load_sites(path, crs="EPSG:4549")
        msg = one_line(exc)
        assert path.name in msg and "save it as DXF" in msg


def test_dxf_layer_is_for_dxf_only(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("name,lon,lat\na,121.47,31.23\n", encoding="utf-8")
    with pytest.raises(SitesError) as exc:
        load_sites(path, crs="EPSG:4326", dxf_layer="红线")
    assert "s.csv" in one_line(exc) and "DXF" in one_line(exc)


def test_dxf_needs_a_declared_crs(footprint, tmp_path):
    dxf = plan_dxf(tmp_path / "plan.dxf", footprint)
    with pytest.raises(SitesError) as exc:
        load_sites(dxf)
    msg = one_line(exc)
    assert "plan.dxf" in msg and "crs" in msg and "DXF" in msg
    assert "did you mean EPSG:4549?" in msg  # read as zone 40, they lie in Shanghai


def test_cli_dxf_layer(footprint, tmp_path):
    dxf = plan_dxf(tmp_path / "plan.dxf", footprint)
    runner = CliRunner()
    res = runner.invoke(
        main,
        [
            "screen",
            str(dxf),
            "--crs",
            "EPSG:4549",
            "--dxf-layer",
            "红线",
            "--industry",
            "C2614",
            "--nature",
            "new",
        ],
    )
    assert res.exit_code == 0, res.output
    # the console names the site (its TEXT) and its id: 金泽地块 (红线-<handle>)
    assert re.search(r"\(红线-\w+\) +禁止 prohibited", res.stdout), res.stdout
    res = runner.invoke(main, ["screen", str(dxf), "--crs", "EPSG:4549", "--dxf-layer", "无此图层"])
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "无此图层" in lines[0] and "Traceback" not in res.output


# ---------------------------------------------------------------------------------------------
# Wrong CRS declared: "did you mean EPSG:...?"

QINGCAOSHA = (121.60, 31.45)  # zone 41 (east of 121.5°E)
SONGJIANG = (121.22, 31.03)  # zone 40


@pytest.mark.filterwarnings("ignore:.crs. was not provided")
def test_shapefile_in_zone_41_declared_zone_40(tmp_path):
    x, y = to_crs(*QINGCAOSHA, GK41)
    geom = shapely.Polygon(square(x, y, 50.0))
    bare = tmp_path / "bare.shp"
    gpd.GeoDataFrame({"name": ["a"]}, geometry=[geom]).to_file(bare)  # no .prj
    with pytest.raises(SitesError) as exc:
        load_sites(bare, crs="EPSG:4549")
    msg = one_line(exc)
    assert "bare.shp" in msg and "did you mean EPSG:4550?" in msg
    # The same with the wrong CRS in the file's own .prj.
    labelled = tmp_path / "labelled.shp"
    gpd.GeoDataFrame({"name": ["a"]}, geometry=[geom], crs=GK40).to_file(labelled)
    with pytest.raises(SitesError) as exc:
        load_sites(labelled)
    msg = one_line(exc)
    assert "labelled.shp" in msg and "did you mean EPSG:4550?" in msg
    # Declared right, it loads where it belongs.
    sites = load_sites(bare, crs="EPSG:4550")
    c = sites.gdf.geometry.iloc[0].centroid
    assert TO_WGS.transform(c.x, c.y) == pytest.approx(QINGCAOSHA, abs=1e-5)


def test_csv_with_latitude_and_longitude_swapped(tmp_path):
    path = tmp_path / "swapped.csv"
    path.write_text(f"name,lon,lat\na,{QINGCAOSHA[1]},{QINGCAOSHA[0]}\n", encoding="utf-8")
    with pytest.raises(SitesError) as exc:
        load_sites(path, crs="EPSG:4326")
    msg = one_line(exc)
    assert "swapped" in msg and "Shanghai" in msg


def test_projected_x_y_swapped(tmp_path):
    x, y = to_crs(*SONGJIANG, GK40)
    path = tmp_path / "xy.csv"
    path.write_text(f"name,x,y\na,{y:.2f},{x:.2f}\n", encoding="utf-8")  # surveyors' X is north
    with pytest.raises(SitesError) as exc:
        load_sites(path, crs="EPSG:4549")
    assert "did you mean EPSG:4549 with x and y swapped?" in one_line(exc)


@pytest.mark.parametrize(
    ("declared", "prefix", "meant"),
    [(4549, True, 4528), (4528, False, 4549), (4529, True, 4528)],
)
def test_zone_prefix_hint(declared, prefix, meant):
    x, y = to_crs(*SONGJIANG, GK40)
    x = x + 40_000_000 if prefix else x
    with pytest.raises(SitesError) as exc:
        load_sites(wkt=f"POINT ({x:.2f} {y:.2f})", crs=f"EPSG:{declared}")
    assert f"did you mean EPSG:{meant}?" in one_line(exc)


def test_degrees_declared_projected_and_metres_declared_geographic():
    with pytest.raises(SitesError) as exc:
        load_sites(wkt=f"POINT ({SONGJIANG[0]} {SONGJIANG[1]})", crs="EPSG:4549")
    assert "did you mean EPSG:4490" in one_line(exc)
    x, y = to_crs(*SONGJIANG, GK40)
    with pytest.raises(SitesError) as exc:
        load_sites(wkt=f"POINT ({x:.2f} {y:.2f})", crs="EPSG:4326")
    assert "did you mean EPSG:4549?" in one_line(exc)


def test_local_grid_hint():
    with pytest.raises(SitesError) as exc:
        load_sites(wkt=["POINT (-3250.5 2480.2)", "POINT (1200 -800)"], crs="EPSG:4549")
    assert "local grid" in one_line(exc)


def test_no_hint_for_sites_in_shanghai_or_nowhere_near():
    x, y = to_crs(*SONGJIANG, GK40)
    assert len(load_sites(wkt=f"POINT ({x:.2f} {y:.2f})", crs="EPSG:4549")) == 1
    far = load_sites(points=["116.40,39.90"], crs="EPSG:4326")  # Beijing: outside, no candidate
    assert any("outside the Shanghai region" in n for n in far.notes)


def test_cli_wrong_zone_is_exit_2(tmp_path):
    x, y = to_crs(*QINGCAOSHA, GK41)
    path = tmp_path / "s.csv"
    path.write_text(f"name,x,y\na,{x:.2f},{y:.2f}\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["screen", str(path), "--crs", "EPSG:4549"])
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "did you mean EPSG:4550?" in lines[0]
    assert "crs=" not in lines[0]


# ---------------------------------------------------------------------------------------------
# A UTF-8 Shapefile whose Chinese field name was cut at 10 bytes


def cut_shapefile(path: Path) -> Path:
    """A UTF-8 Shapefile whose first field name is 项目名称 cut at 10 bytes, mid-character."""
    gdf = gpd.GeoDataFrame(
        {"AAAAAAAAAA": ["x"], "industry": ["C2614"]},
        geometry=[box(500_000, 3_450_000, 500_100, 3_450_100)],
        crs=GK40,
    )
    gdf.to_file(path, encoding="UTF-8")
    assert path.with_suffix(".cpg").read_text().strip().upper() in ("UTF-8", "UTF8")
    dbf = path.with_suffix(".dbf")
    data = bytearray(dbf.read_bytes())
    i = data.index(b"AAAAAAAAAA")
    data[i : i + 10] = "项目名称".encode()[:10]  # 项目名 (9 bytes) + the first byte of 称
    dbf.write_bytes(bytes(data))
    return path


def test_shapefile_field_name_cut_mid_character(tmp_path):
    path = cut_shapefile(tmp_path / "cut.shp")
    with pytest.raises(ZoningError) as exc:
        load_sites(path)
    msg = one_line(exc)
    assert "cut.shp" in msg and "项目名" in msg and "GeoPackage" in msg and "shorten" in msg
    assert "codec" not in msg


def test_catalog_layer_field_name_cut_mid_character(tmp_path):
    from zoning.catalog import LayerEntry
    from zoning.errors import LayerReadError
    from zoning.io import read_layer

    path = cut_shapefile(tmp_path / "layer.shp")
    with pytest.raises(LayerReadError) as exc:
        read_layer(LayerEntry(id="t", kind="red_line", source=str(path)))
    msg = one_line(exc)
    assert "'t'" in msg and "项目名" in msg and "GeoPackage" in msg


# ---------------------------------------------------------------------------------------------
# Coordinate cells: one "lon,lat" column, degrees-minutes-seconds


@pytest.mark.parametrize("column", ["坐标", "经纬度", "location", "lnglat", "LngLat", "lon,lat"])
@pytest.mark.parametrize(
    "cell", ["121.473701,31.230416", "121.473701，31.230416", " 121.473701 , 31.230416 "]
)
def test_single_lonlat_column(column, cell):
    df = pd.DataFrame({"name": ["a"], column: [cell]})
    sites = load_sites(df, crs="gcj02")
    ref = load_sites(points=["121.473701,31.230416"], crs="gcj02")
    assert sites.gdf.geometry.iloc[0].distance(ref.gdf.geometry.iloc[0]) < 1e-6


def test_single_lonlat_column_csv_and_errors(tmp_path):
    path = tmp_path / "amap.csv"
    path.write_text('项目名称,坐标\n甲,"121.47,31.23"\n乙,121.48，31.24\n', encoding="utf-8")
    sites = load_sites(path, crs="gcj02")
    assert list(sites.gdf["name"]) == ["甲", "乙"]
    bad = tmp_path / "bad.csv"
    bad.write_text('name,坐标\na,"121.47,31.23"\nb,121.47\n', encoding="utf-8")
    with pytest.raises(SitesError) as exc:
        load_sites(bad, crs="gcj02")
    msg = one_line(exc)
    assert "bad.csv, row 3" in msg and "坐标" in msg and "121.47" in msg


DMS = [
    ("121°28'12.5\"E", 121 + 28 / 60 + 12.5 / 3600),
    ("121°28′12.5″", 121 + 28 / 60 + 12.5 / 3600),
    ("121度28分12.5秒", 121 + 28 / 60 + 12.5 / 3600),
    ("E121°28'12.5\"", 121 + 28 / 60 + 12.5 / 3600),
    ("东经121°28'12.5\"", 121 + 28 / 60 + 12.5 / 3600),
    ("31°13'N", 31 + 13 / 60),
    ("31°13.5'N", 31 + 13.5 / 60),
    ("北纬31度13分", 31 + 13 / 60),
    ("-121°28'12.5\"", -(121 + 28 / 60 + 12.5 / 3600)),
    ("33°52'S", -(33 + 52 / 60)),
    ("70°30'W", -70.5),
    ("121.4701", 121.4701),
    ("121° 28' 12.5\" E", 121 + 28 / 60 + 12.5 / 3600),
]


@pytest.mark.parametrize(("text", "value"), DMS)
def test_degrees_minutes_seconds(text, value):
    from zoning.sites.coordinates import parse_degrees

    assert parse_degrees(text) == pytest.approx(value, abs=1e-12)


@pytest.mark.parametrize(
    "text", ["121°61'", "121°28'60\"", "121°E28'", "abc", "121°28'12\"NE", "1.2.3"]
)
def test_degrees_minutes_seconds_refused(text):
    from zoning.sites.coordinates import parse_degrees

    with pytest.raises(ValueError):
        parse_degrees(text)


def test_dms_columns(tmp_path):
    path = tmp_path / "dms.csv"
    path.write_text(
        "name,经度,纬度\na,121°28'12.5\"E,31°13'48\"N\nb,121度28分12.5秒,31度13分48秒\n",
        encoding="utf-8",
    )
    sites = load_sites(path, crs="EPSG:4326")
    lon, lat = 121 + 28 / 60 + 12.5 / 3600, 31 + 13 / 60 + 48 / 3600
    for g in sites.gdf.geometry:
        assert TO_WGS.transform(g.x, g.y) == pytest.approx((lon, lat), abs=1e-7)
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("name,经度,纬度\na,31°13'48\"N,121°28'12.5\"E\n", encoding="utf-8")
    with pytest.raises(SitesError) as exc:
        load_sites(wrong, crs="EPSG:4326")
    msg = one_line(exc)
    assert "wrong.csv, row 2" in msg and "经度" in msg and "N" in msg
    bad = tmp_path / "bad.csv"
    bad.write_text("name,lon,lat\na,121°61',31.2\n", encoding="utf-8")
    with pytest.raises(SitesError) as exc:
        load_sites(bad, crs="EPSG:4326")
    msg = one_line(exc)
    assert "bad.csv, row 2" in msg and "'lon'" in msg and "121°61'" in msg


# ---------------------------------------------------------------------------------------------
# 建设性质 words


@pytest.mark.parametrize(
    ("word", "code"),
    [
        ("新建", "new"),
        ("New", "new"),
        ("扩建", "expansion"),
        ("改扩建", "expansion"),
        ("extension", "expansion"),
        ("改建", "rebuild"),
        ("改造", "rebuild"),
        ("技改", "rebuild"),
        ("技术改造", "rebuild"),
        ("technical upgrade", "rebuild"),
        ("恢复", "rebuild"),
        ("迁建", "relocation"),
        ("搬迁", "relocation"),
        ("异地迁建", "relocation"),
        ("Relocation", "relocation"),
    ],
)
def test_nature_words(word, code):
    sites = load_sites(points=["121.47,31.23"], crs="EPSG:4326", attributes={"nature": word})
    assert sites.gdf["nature"].iloc[0] == code
    df = pd.DataFrame({"lon": [121.47], "lat": [31.23], "建设性质": [f" {word} "]})
    assert load_sites(df, crs="EPSG:4326").gdf["nature"].iloc[0] == code


def test_unknown_nature_lists_the_words():
    df = pd.DataFrame({"lon": [121.47], "lat": [31.23], "建设性质": ["翻新"]})
    with pytest.raises(SitesError) as exc:
        load_sites(df, crs="EPSG:4326")
    msg = one_line(exc)
    assert "翻新" in msg and "建设性质" in msg
    for word in ("新建", "改扩建", "技术改造", "迁建", "relocation"):
        assert word in msg


def test_nature_table_is_the_readme_table():
    from zoning.sites.choices import NATURE_WORDS

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    table = readme.split("| code | words |", 1)[1].split("\n\n", 1)[0]  # that table only
    rows = dict(re.findall(r"^ *\| `(\w+)` \| ([^|]+) \|", table, flags=re.M))
    documented = {w.strip(): code for code, words in rows.items() for w in words.split(",")}
    documented = {w.strip("` "): c for w, c in documented.items() if w.strip("` ")}
    assert documented == dict(NATURE_WORDS)
