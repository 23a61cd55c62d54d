"""``zoning screen``: real files in, every output checked, exit codes 0/1/2, no partial output.

The hand-made world (layers, catalog, rule set, site boxes) is tests/worlds.py's; expected
verdicts come from reading its rule set, distances and areas from pyproj.Geod.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import prcoords
import pyproj
import pytest
import yaml
from click.testing import CliRunner
from shapely.geometry import LineString, Point, mapping

from worlds import (
    EXPECTED,
    FARM,
    RED,
    REL,
    SITES,
    WATER,
    geod_area,
    geod_dist,
    make_world,
)
from zoning.cli import main


@pytest.fixture(scope="module")
def demo_world(tmp_path_factory):
    return make_world(tmp_path_factory.mktemp("demo_world"), status="demonstration")


def run(*args, cwd: Path | None = None):
    """Invoke the CLI in-process; stdout and stderr are kept apart."""
    runner = CliRunner()
    if cwd is None:
        return runner.invoke(main, [str(a) for a in args])
    import os

    old = os.getcwd()
    os.chdir(cwd)
    try:
        return runner.invoke(main, [str(a) for a in args])
    finally:
        os.chdir(old)


def screen(world, *args):
    """``zoning screen ARGS`` on the world's catalog and rules (unless ARGS give their own)."""
    given = {str(a) for a in args}
    extra = [] if "--catalog" in given else ["--catalog", world.catalog]
    extra += [] if "--rules" in given else ["--rules", world.rules]
    return run("screen", *args, *extra)


def sites_file(folder: Path, names=tuple(SITES), **cols) -> Path:
    path = folder / "sites.gpkg"
    gpd.GeoDataFrame(
        {"id": list(names), **cols}, geometry=[SITES[n] for n in names], crs=4326
    ).to_file(path)
    return path


def assert_input_error(res, *words):
    """Exit 2, exactly one line on stderr naming ``words``, nothing on stdout, no traceback."""
    assert res.exit_code == 2, (res.exit_code, res.output)
    assert "Traceback" not in res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("zoning: error: ")
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert res.stdout == ""


# ---------------------------------------------------------------------------------------------
# Success: every output, console summary


def test_screen_writes_every_output(world, tmp_path):
    src = sites_file(tmp_path)
    out = tmp_path / "OUT"
    res = screen(world, src, "--out", out)
    assert res.exit_code == 0, res.output
    assert res.stderr == ""
    files = sorted(p.name for p in out.iterdir())
    assert files == [
        ".zoning-screen.json",  # the list of what this run wrote (so a rerun replaces only that)
        "clauses.csv",
        "codes.csv",
        "hits.csv",
        "report",
        "screening.gpkg",
        "screening.json",
        "sites.csv",
    ]
    sites = pd.read_csv(out / "sites.csv", dtype={"site_id": str}).set_index("site_id")
    assert sites["verdict"].to_dict() == EXPECTED
    # C touches nothing but lies within the water zone's rule distance: a constraint it meets
    assert sites["n_constraints"].to_dict() == {"P": 1, "R": 1, "C": 1, "U": 1, "OK": 0}
    hits = pd.read_csv(out / "hits.csv", dtype={"site_id": str})
    farm = hits[(hits.site_id == "R") & (hits.layer_id == "farm")].iloc[0]
    assert farm.overlap_m2 == pytest.approx(geod_area(SITES["R"].intersection(FARM)), rel=REL)
    assert farm.rule_ids == "farm.occupy" and farm.verdict == "restricted"
    data = json.loads((out / "screening.json").read_text("utf-8"))
    assert data["provenance"]["input"]["source"] == str(src)
    assert data["provenance"]["input"]["sha256"] is not None
    assert (out / "report" / "index.html").is_file()
    # the console summary: counts, the worst site with its reason and citation, what was written
    text = res.stdout
    assert "Screened 5 sites" in text and "test_rules 1.0" in text
    assert "DEMONSTRATION" not in text
    assert "No construction in the red line" in text and "第一条" in text
    assert (
        f"Wrote into {out}: sites.csv, hits.csv, codes.csv, clauses.csv, screening.gpkg, "
        "screening.json" in text
    )


def test_format_subset_and_lang(world, tmp_path):
    out = tmp_path / "OUT"
    res = screen(
        world, "--wkt", SITES["P"].wkt, "--crs", "EPSG:4326", "--out", out,
        "--format", "json, html", "--lang", "zh",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == [
        ".zoning-screen.json",
        "report",
        "screening.json",
    ]
    assert "禁止" in res.stdout and "prohibited" not in res.stdout
    page = next((out / "report" / "sites").glob("*.html")).read_text("utf-8")
    assert "红线内禁止建设" in page and "No construction in the red line" not in page


def test_without_out_nothing_is_written(world, tmp_path):
    res = run(
        "screen", "--point", "121.03,31.03", "--crs", "EPSG:4326", "--catalog", world.catalog,
        "--rules", world.rules, cwd=tmp_path,
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "No files written (give --out DIR" in res.stdout
    assert list(tmp_path.iterdir()) == []


def test_demonstration_data_is_said_on_the_console(demo_world):
    res = screen(demo_world, "--point", "121.03,31.03", "--crs", "EPSG:4326")
    assert res.exit_code == 0
    assert res.stdout.startswith("WARNING: DEMONSTRATION DATA")


@pytest.mark.slow
def test_bundled_demo_catalog_says_demonstration(tmp_path):
    """The default catalog and rules: the summary and the report say DEMONSTRATION."""
    out = tmp_path / "OUT"
    res = run(
        "screen", "--point", "121.4737,31.2304", "--crs", "EPSG:4326", "--industry", "H6210",
        "--nature", "new", "--out", out, "--format", "csv,html",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "DEMONSTRATION DATA" in res.stdout
    assert "shanghai_demo" in res.stdout
    assert "DEMONSTRATION DATA" in (out / "report" / "index.html").read_text("utf-8")
    assert pd.read_csv(out / "sites.csv")["data_status"].tolist() == ["demonstration"]


# ---------------------------------------------------------------------------------------------
# --fail-on: exit 1 when met, 0 otherwise, at every level

LEVELS = ["conditional", "restricted", "unknown", "prohibited"]
ORDER = ["permitted", "conditional", "restricted", "unknown", "prohibited"]


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("site", list(SITES))
def test_fail_on_every_level(world, tmp_path, site, level):
    out = tmp_path / "OUT"
    res = screen(
        world, "--wkt", SITES[site].wkt, "--crs", "EPSG:4326", "--fail-on", level,
        "--out", out, "--format", "csv",
    )  # fmt: skip
    met = ORDER.index(EXPECTED[site]) >= ORDER.index(level)
    assert res.exit_code == (1 if met else 0), res.output
    # --fail-on is a result, not an error: the outputs are written either way
    assert pd.read_csv(out / "sites.csv")["verdict"].tolist() == [EXPECTED[site]]
    if met:
        assert res.stderr.strip() == f"zoning: --fail-on {level}: 1 site {level} or worse"
    else:
        assert res.stderr == ""


def test_no_fail_on_exits_0_even_when_prohibited(world):
    res = screen(world, "--wkt", SITES["P"].wkt, "--crs", "EPSG:4326")
    assert res.exit_code == 0 and "prohibited" in res.stdout


# ---------------------------------------------------------------------------------------------
# Sites in: draw tool, GCJ-02, GBK CSV, formats, attributes from options and columns


def test_leaflet_draw_geojson_screened_unchanged(world, tmp_path):
    """A FeatureCollection exactly as Leaflet.draw's toGeoJSON() exports it."""
    # a route whose west end is 0.003 deg of latitude (333 m) north of the water zone
    line = LineString([(121.150, 31.043), (121.170, 31.050)])
    fc = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {}, "geometry": mapping(SITES["P"])},
            {"type": "Feature", "properties": {}, "geometry": mapping(Point(121.09, 31.03))},
            {"type": "Feature", "properties": {}, "geometry": mapping(line)},
        ],
    }
    path = tmp_path / "drawn.geojson"
    path.write_text(json.dumps(fc, separators=(",", ":")), "utf-8")
    out = tmp_path / "OUT"
    res = screen(world, path, "--out", out, "--format", "csv")
    assert res.exit_code == 0, res.output
    sites = pd.read_csv(out / "sites.csv", dtype={"site_id": str})
    # ids 1..n in drawing order: the polygon half in the red line, the point in the farmland,
    # the route within 500 m of the water zone
    assert sites["site_id"].tolist() == ["1", "2", "3"]
    assert sites["verdict"].tolist() == ["prohibited", "restricted", "conditional"]
    hits = pd.read_csv(out / "hits.csv", dtype={"site_id": str})
    w = hits[(hits.site_id == "3") & (hits.layer_id == "wsz")].iloc[0]
    # nearest: the route's west end to the zone's north edge straight south of it
    assert w.distance_m == pytest.approx(geod_dist(121.150, 31.04, 121.150, 31.043), rel=REL)
    assert sites["length_m"].iloc[2] == pytest.approx(
        geod_dist(121.150, 31.043, 121.170, 31.050), rel=REL
    )
    assert pd.isna(sites["area_m2"].iloc[1]) and pd.isna(sites["area_m2"].iloc[2])


@pytest.mark.parametrize(
    ("crs", "convert"), [("gcj02", prcoords.wgs_gcj), ("bd09", prcoords.wgs_bd)]
)
def test_web_map_points_are_converted(world, tmp_path, crs, convert):
    """A point copied from Amap (GCJ-02) or Baidu (BD-09) lies in the red line; read as WGS84
    it would not."""
    true_lon, true_lat = 121.0385, 31.03  # 150 m inside the red line's east edge (121.04)
    web = convert((true_lat, true_lon))  # an independent implementation
    assert web.lon > RED.bounds[2]  # the raw web-map coordinates fall outside
    point = f"{web.lon:.7f},{web.lat:.7f}"
    out = tmp_path / "OUT"
    res = screen(world, "--point", point, "--crs", crs, "--out", out, "--format", "csv,json")
    assert res.exit_code == 0, res.output
    s = pd.read_csv(out / "sites.csv").iloc[0]
    assert s.verdict == "prohibited"
    assert s.input_crs == crs
    # BD-09's published inverse is approximate (the library iterates the forward formula)
    tol = 1e-6 if crs == "gcj02" else 2e-5
    assert s.lon == pytest.approx(true_lon, abs=tol) and s.lat == pytest.approx(true_lat, abs=tol)
    assert s.datum_shift_m == pytest.approx(
        geod_dist(web.lon, web.lat, true_lon, true_lat), rel=5e-3
    )
    prov = json.loads((out / "screening.json").read_text("utf-8"))["provenance"]
    assert prov["input"]["conversion"] == f"{crs} -> WGS84 (zoning.crs)"
    assert prov["options"]["crs"] == crs
    assert f"converted from {crs} to WGS84" in res.stdout  # the note
    # the same coordinates declared WGS84: outside the red line
    raw = screen(world, "--point", point, "--crs", "EPSG:4326")
    assert raw.exit_code == 0 and "prohibited    1" not in raw.stdout
    # and not declared at all: no guess, an error naming the choices
    assert_input_error(screen(world, "--point", point), "--point:", "--crs", "gcj02", "bd09")


def test_gbk_csv_with_lon_lat_columns(world, tmp_path):
    path = tmp_path / "项目.csv"
    table = "编号,项目名称,经度,纬度,行业代码,建设性质\n甲,化工新材料,121.03,31.03,C2614,新建\n乙,农田泵站,121.09,31.03,4610,扩建\n丙,物流仓库,121.115,31.085,5920,新建\n"  # noqa: E501
    path.write_bytes(table.encode("gbk"))
    out = tmp_path / "OUT"
    assert_input_error(screen(world, path), "项目.csv", "'经度'/'纬度'", "no CRS", "EPSG:4326")
    res = screen(world, path, "--crs", "EPSG:4326", "--out", out, "--format", "csv")
    assert res.exit_code == 0, res.output
    s = pd.read_csv(out / "sites.csv", dtype={"industry": str}).set_index("site_id")
    assert s["name"].to_dict() == {"甲": "化工新材料", "乙": "农田泵站", "丙": "物流仓库"}
    assert s["verdict"].to_dict() == {"甲": "prohibited", "乙": "restricted", "丙": "permitted"}
    assert s.loc["甲", "industry"] == "C2614" and s.loc["乙", "nature"] == "expansion"
    assert bool(s.loc["甲", "two_high"]) is True  # division 26 derives 两高
    assert "read as GB18030" in res.stdout


def test_csv_with_projected_xy_columns(world, tmp_path):
    """x/y in CGCS2000 / 3-degree Gauss-Kruger CM 120E (EPSG:4549), converted by pyproj."""
    to_gk = pyproj.Transformer.from_crs(4326, 4549, always_xy=True)
    rows = {"in_red": (121.03, 31.03), "in_farm": (121.09, 31.03), "clear": (121.115, 31.085)}
    lines = ["id,x,y"] + [
        f"{k},{x:.3f},{y:.3f}" for k, (x, y) in ((k, to_gk.transform(*v)) for k, v in rows.items())
    ]
    path = tmp_path / "gk.csv"
    path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "OUT"
    res = screen(world, path, "--crs", "EPSG:4549", "--out", out, "--format", "csv")
    assert res.exit_code == 0, res.output
    s = pd.read_csv(out / "sites.csv").set_index("site_id")
    assert s["verdict"].to_dict() == {
        "in_red": "prohibited",
        "in_farm": "restricted",
        "clear": "permitted",
    }
    assert s.loc["in_red", "lon"] == pytest.approx(121.03, abs=1e-6)
    assert_input_error(screen(world, path), "gk.csv", "no CRS")


def test_csv_with_a_wkt_column(world, tmp_path):
    path = tmp_path / "wkt.csv"
    pd.DataFrame({"id": list(SITES), "wkt": [g.wkt for g in SITES.values()]}).to_csv(
        path, index=False
    )
    out = tmp_path / "OUT"
    res = screen(world, path, "--crs", "EPSG:4326", "--out", out, "--format", "csv")
    assert res.exit_code == 0, res.output
    s = pd.read_csv(out / "sites.csv", dtype={"site_id": str}).set_index("site_id")
    assert s["verdict"].to_dict() == EXPECTED


def test_layer_option_replaces_the_catalog_layer(world, tmp_path):
    """--layer red_line=FILE swaps the red line: the site is no longer in it."""
    other = tmp_path / "other_red.gpkg"
    gpd.GeoDataFrame({"fid_": ["X"]}, geometry=[SITES["OK"]], crs=4326).to_file(other)
    out = tmp_path / "OUT"
    res = screen(
        world, "--wkt", SITES["P"].wkt, "--wkt", SITES["OK"].wkt, "--crs", "EPSG:4326",
        "--layer", f"red_line={other}", "--out", out, "--format", "csv,json",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert pd.read_csv(out / "sites.csv")["verdict"].tolist() == ["permitted", "prohibited"]
    layers = json.loads((out / "screening.json").read_text("utf-8"))["provenance"]["layers"]
    red = [layer for layer in layers if layer["kind"] == "red_line"]
    assert len(red) == 1 and red[0]["source"] == str(other)


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "shp", "zip", "kml"])
def test_every_vector_format(world, tmp_path, fmt):
    gdf = gpd.GeoDataFrame({"id": list(SITES)}, geometry=[SITES[n] for n in SITES], crs=4326)
    if fmt == "zip":
        folder = tmp_path / "shp"
        folder.mkdir()
        gdf.to_file(folder / "sites.shp")
        path = tmp_path / "sites.zip"
        with zipfile.ZipFile(path, "w") as zf:
            for part in folder.iterdir():
                zf.write(part, part.name)
    else:
        driver = {"gpkg": "GPKG", "geojson": "GeoJSON", "shp": "ESRI Shapefile", "kml": "KML"}
        path = tmp_path / f"sites.{fmt}"
        gdf.rename(columns={"id": "name"} if fmt == "kml" else {}).to_file(path, driver=driver[fmt])
    out = tmp_path / "OUT"
    args = ["--name-field", "name"] if fmt == "kml" else []
    res = screen(world, path, "--out", out, "--format", "csv", *args)
    assert res.exit_code == 0, res.output
    s = pd.read_csv(out / "sites.csv", dtype={"site_id": str, "name": str})
    key = "name" if fmt == "kml" else "site_id"
    assert dict(zip(s[key], s["verdict"], strict=True)) == EXPECTED


def test_multi_layer_file_needs_layer_name(world, tmp_path):
    path = tmp_path / "both.gpkg"
    gpd.GeoDataFrame({"id": ["P"]}, geometry=[SITES["P"]], crs=4326).to_file(path, layer="a")
    gpd.GeoDataFrame({"id": ["OK"]}, geometry=[SITES["OK"]], crs=4326).to_file(path, layer="b")
    assert_input_error(screen(world, path), "both.gpkg", "2 layers", "a, b")
    res = screen(world, path, "--layer-name", "b", "--fail-on", "conditional")
    assert res.exit_code == 0 and re.search(r"permitted +1\n", res.stdout)


def test_id_and_name_fields(world, tmp_path):
    src = sites_file(tmp_path, ("P", "OK"), code=["X-1", "X-2"], label=["厂区", "仓库"])
    out = tmp_path / "OUT"
    res = screen(
        world, src, "--id-field", "code", "--name-field", "label", "--out", out,
        "--format", "csv",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    s = pd.read_csv(out / "sites.csv")
    assert s["site_id"].tolist() == ["X-1", "X-2"] and s["name"].tolist() == ["厂区", "仓库"]


@pytest.mark.parametrize(
    ("site", "options", "verdict"),
    [
        ("P", ["--linear"], "restricted"),
        ("P", ["--no-linear"], "prohibited"),
        ("U", ["--wastewater"], "prohibited"),
        ("U", ["--no-wastewater"], "permitted"),
        ("U", [], "unknown"),
    ],
)
def test_attribute_options_decide(world, site, options, verdict, tmp_path):
    out = tmp_path / "OUT"
    res = screen(world, "--wkt", SITES[site].wkt, "--crs", "EPSG:4326", *options, "--out", out,
                 "--format", "csv")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert pd.read_csv(out / "sites.csv")["verdict"].tolist() == [verdict]


def test_attribute_options_are_recorded(world, tmp_path):
    out = tmp_path / "OUT"
    res = screen(
        world, "--point", "121.115,31.085", "--crs", "EPSG:4326", "--industry", "2614",
        "--nature", "扩建", "--air", "--no-hazardous", "--out", out, "--format", "csv,json",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    s = pd.read_csv(out / "sites.csv", dtype={"industry": str}).iloc[0]
    assert (s.industry, s.nature, bool(s.air), bool(s.hazardous)) == (
        "C2614",
        "expansion",
        True,
        False,
    )
    assert bool(s.two_high) and s.two_high_source == "derived"
    prov = json.loads((out / "screening.json").read_text("utf-8"))["provenance"]
    assert prov["options"]["attributes"] == {
        "industry": "2614",
        "nature": "扩建",
        "air": True,
        "hazardous": False,
    }


def test_search_radius_and_no_pieces_no_rings(world, tmp_path):
    out = tmp_path / "OUT"
    res = screen(
        world, "--wkt", SITES["R"].wkt, "--crs", "EPSG:4326", "--search-radius", "3500",
        "--no-pieces", "--no-rings", "--out", out, "--format", "gpkg,json",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert len(gpd.read_file(out / "screening.gpkg", layer="pieces")) == 0
    assert len(gpd.read_file(out / "screening.gpkg", layer="rings")) == 0
    data = json.loads((out / "screening.json").read_text("utf-8"))
    assert data["provenance"]["search_radius_m"] == 3500
    assert data["provenance"]["options"]["pieces"] is False
    # at 3.5 km the water zone (0.035 deg east of the site) is found; at the default 1 km not
    wsz = [h for h in data["hits"] if h["layer_id"] == "wsz"]
    assert len(wsz) == 1 and wsz[0]["relation"] == "nearby"
    assert wsz[0]["distance_m"] == pytest.approx(
        geod_dist(SITES["R"].bounds[2], 31.035, WATER.bounds[0], 31.035), rel=REL
    )
    default = screen(world, "--wkt", SITES["R"].wkt, "--crs", "EPSG:4326", "--out", out / "d",
                     "--format", "json")  # fmt: skip
    hits = json.loads((out / "d" / "screening.json").read_text("utf-8"))["hits"]
    assert default.exit_code == 0 and {h["layer_id"] for h in hits} == {"districts", "farm"}


def test_progress_on_request(world):
    quiet = screen(world, "--point", "121.03,31.03", "--crs", "EPSG:4326")
    assert quiet.stderr == ""  # not a terminal, few sites: no progress
    loud = screen(world, "--point", "121.03,31.03", "--crs", "EPSG:4326", "--progress")
    lines = loud.stderr.strip().splitlines()
    assert lines[0] == "zoning: load districts (1/11)" and lines[-1] == "zoning: rules (11/11)"
    assert loud.exit_code == 0 and loud.stdout == quiet.stdout


def test_offline_is_accepted(world):
    assert (
        screen(world, "--point", "121.03,31.03", "--crs", "EPSG:4326", "--offline").exit_code == 0
    )


# ---------------------------------------------------------------------------------------------
# Errors: one line, exit 2, nothing written (and an existing OUT keeps its contents)


def _bad_catalog(world, tmp):
    path = tmp / "bad_catalog.yml"
    path.write_text(yaml.safe_dump({"layers": [{"id": "r", "kind": "red_line", "sorce": "x"}]}))
    return ["--point", "121.03,31.03", "--crs", "EPSG:4326", "--catalog", path], [
        "bad_catalog.yml",
        "layer 'r'",
    ]


def _missing_layer(world, tmp):
    data = yaml.safe_load(world.catalog.read_text("utf-8"))
    for entry in data["layers"]:
        entry["source"] = str(world.folder / entry["source"])
    data["layers"][2]["source"] = str(tmp / "gone.gpkg")
    path = tmp / "catalog.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    return ["--point", "121.03,31.03", "--crs", "EPSG:4326", "--catalog", path], [
        "farm",
        "gone.gpkg",
        "not found",
    ]


def _missing_layer_option(world, tmp):
    return [
        "--point",
        "121.03,31.03",
        "--crs",
        "EPSG:4326",
        "--layer",
        f"red_line={tmp / 'nope.shp'}",
    ], ["nope.shp"]


def _bad_rules(world, tmp):
    path = tmp / "bad_rules.yml"
    rules = yaml.safe_load(world.rules.read_text("utf-8"))
    rules["rules"][2]["when"] = {"industry": [2614]}  # a code written as a number
    path.write_text(yaml.safe_dump(rules, allow_unicode=True), "utf-8")
    return ["--point", "121.03,31.03", "--crs", "EPSG:4326", "--rules", path], [
        "bad_rules.yml",
        "farm.occupy",
    ]


def _missing_rules(world, tmp):
    return ["--point", "121.03,31.03", "--crs", "EPSG:4326", "--rules", tmp / "none.yml"], [
        "none.yml",
        "not found",
    ]


def _missing_sites(world, tmp):
    return [tmp / "nowhere.geojson"], ["nowhere.geojson"]


def _garbage_sites(world, tmp):
    path = tmp / "junk.gpkg"
    path.write_bytes(b"\x00not a geopackage" * 20)
    return [path], ["junk.gpkg"]


def _csv_without_crs(world, tmp):
    path = tmp / "xy.csv"
    path.write_text("id,x,y\nA,1000,2000\n")
    return [path], ["xy.csv", "CRS"]


def _wkt_without_crs(world, tmp):
    return ["--wkt", "POINT (121.03 31.03)"], ["error: --wkt:", "no CRS", "--crs"]


def _point_without_crs(world, tmp):
    words = ["error: --point:", "no CRS and none declared", "--crs", "EPSG:4326 for GPS/WGS84"]
    return ["--point", "121.03,31.03"], [*words, "gcj02", "Amap", "bd09", "Baidu"]


def _lonlat_csv_without_crs(world, tmp):
    path = tmp / "ll.csv"
    path.write_text("id,lon,lat\nA,121.03,31.03\n")
    return [path], ["ll.csv", "columns 'lon'/'lat'", "--crs", "EPSG:4326", "gcj02", "bd09"]


def _point_with_projected_crs(world, tmp):
    # --point takes longitude,latitude; the hint is --wkt, not CSV columns
    return ["--point", "350000,3430000", "--crs", "EPSG:4549"], ["projected", "--wkt 'POINT"]


def _industry_option_contradicts_column(world, tmp):
    path = tmp / "sites.csv"
    path.write_text("id,lon,lat,industry\nA,121.03,31.03,C2614\n")
    return [path, "--crs", "EPSG:4326", "--industry", "H6210"], [
        "row 2",
        "column 'industry'",
        "--industry 'H6210'",
    ]


def _linear_option_contradicts_column(world, tmp):
    path = tmp / "sites.csv"
    path.write_text("id,lon,lat,linear\nA,121.03,31.03,yes\n")
    return [path, "--crs", "EPSG:4326", "--no-linear"], ["column 'linear'", "and by --no-linear"]


def _bad_on_layer_error(world, tmp):
    return ["--point", "121.03,31.03", "--crs", "EPSG:4326", "--on-layer-error", "skip"], [
        "--on-layer-error",
        "skip",
    ]


def _bad_crs(world, tmp):
    return ["--point", "121.03,31.03", "--crs", "EPSG:999999"], ["EPSG:999999"]


def _bad_point(world, tmp):
    return ["--point", "121.03;31.03", "--crs", "EPSG:4326"], ["--point 1:", "121.03;31.03"]


def _bad_industry_option(world, tmp):
    return ["--point", "121.03,31.03", "--crs", "EPSG:4326", "--industry", "X2614"], [
        "industry",
        "X2614",
    ]


def _bad_nature_option(world, tmp):
    return ["--point", "121.03,31.03", "--crs", "EPSG:4326", "--nature", "demolition"], [
        "nature",
        "demolition",
    ]


def _bad_industry_cell(world, tmp):
    path = tmp / "sites.csv"
    path.write_text("id,lon,lat,industry\nA,121.03,31.03,C2614\nB,121.09,31.03,C9999\n")
    return [path, "--crs", "EPSG:4326"], ["sites.csv", "row 3", "column 'industry'", "C9999"]


def _bad_flag_cell(world, tmp):
    path = tmp / "sites.csv"
    path.write_text("id,lon,lat,wastewater\nA,121.03,31.03,maybe\n")
    return [path, "--crs", "EPSG:4326"], ["row 2", "column 'wastewater'", "maybe"]


def _unwritable_out(world, tmp):
    blocker = tmp / "a_file"
    blocker.write_text("not a folder")
    return ["--point", "121.03,31.03", "--crs", "EPSG:4326", "--out", blocker / "OUT"], [
        "--out",
        "a_file",
    ]


def _bad_format(world, tmp):
    return ["--point", "121.03,31.03", "--crs", "EPSG:4326", "--format", "csv,odt"], [
        "--format",
        "odt",
    ]


def _bad_fail_on(world, tmp):
    return ["--point", "121.03,31.03", "--crs", "EPSG:4326", "--fail-on", "bad"], [
        "--fail-on",
        "bad",
    ]


def _unknown_option(world, tmp):
    return ["--point", "121.03,31.03", "--crs", "EPSG:4326", "--colour"], ["--colour"]


def _two_inputs(world, tmp):
    return [world.catalog, "--point", "121.03,31.03", "--crs", "EPSG:4326"], ["SITES and --point"]


def _no_input(world, tmp):
    return [], ["give the sites"]


ERRORS = [
    _bad_catalog,
    _missing_layer,
    _missing_layer_option,
    _bad_rules,
    _missing_rules,
    _missing_sites,
    _garbage_sites,
    _csv_without_crs,
    _wkt_without_crs,
    _point_without_crs,
    _lonlat_csv_without_crs,
    _point_with_projected_crs,
    _industry_option_contradicts_column,
    _linear_option_contradicts_column,
    _bad_on_layer_error,
    _bad_crs,
    _bad_point,
    _bad_industry_option,
    _bad_nature_option,
    _bad_industry_cell,
    _bad_flag_cell,
    _unwritable_out,
    _bad_format,
    _bad_fail_on,
    _unknown_option,
    _two_inputs,
    _no_input,
]


@pytest.mark.parametrize("case", ERRORS, ids=lambda f: f.__name__.strip("_"))
def test_input_errors_write_nothing(world, tmp_path, case):
    args, words = case(world, tmp_path)
    before = sorted(tmp_path.rglob("*"))
    out = tmp_path / "OUT"
    if "--out" not in args:
        args = [*args, "--out", out]
    res = screen(world, *args)
    assert_input_error(res, *words)
    assert not out.exists()
    assert sorted(tmp_path.rglob("*")) == before


@pytest.mark.parametrize("case", [_missing_layer, _bad_industry_cell, _bad_rules])
def test_failed_run_keeps_an_existing_out(world, tmp_path, case):
    out = tmp_path / "OUT"
    out.mkdir()
    (out / "sites.csv").write_text("from an older run")
    args, words = case(world, tmp_path)
    assert_input_error(screen(world, *args, "--out", out), *words)
    assert [p.name for p in out.iterdir()] == ["sites.csv"]
    assert (out / "sites.csv").read_text() == "from an older run"


def test_conflict_messages_name_options_not_keywords(world, tmp_path):
    """The library says ``option industry=``; the command line says ``--industry``."""
    args, _ = _industry_option_contradicts_column(world, tmp_path)
    line = screen(world, *args).stderr
    assert "option industry" not in line and "industry=" not in line


def test_on_layer_error_unknown_goes_on_without_the_layer(world, tmp_path):
    """--on-layer-error unknown: the farmland file is gone, so the site on the farmland is
    unknown (not permitted, not a crash), the other layers still decide, and it is said."""
    args, _ = _missing_layer(world, tmp_path)
    catalog = args[args.index("--catalog") + 1]
    out = tmp_path / "OUT"
    res = run(
        "screen", "--wkt", SITES["R"].wkt, "--wkt", SITES["P"].wkt, "--crs", "EPSG:4326",
        "--catalog", catalog, "--rules", world.rules, "--on-layer-error", "unknown",
        "--out", out, "--format", "csv,json",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    s = pd.read_csv(out / "sites.csv")
    # R lies half on the farmland (restricted with the layer), P half in the red line
    assert s["verdict"].tolist() == ["unknown", "prohibited"]
    assert "farm failed to load" in res.stdout and "gone.gpkg" in res.stdout
    prov = json.loads((out / "screening.json").read_text("utf-8"))["provenance"]
    farm = next(p for p in prov["layers"] if p["id"] == "farm")
    assert farm["load"] == "failed" and "gone.gpkg" in farm["error"]
    assert prov["options"]["on_layer_error"] == "unknown"
    # the default (and --on-layer-error fail) stops with the layer's error, exit 2
    again = run(
        "screen", "--wkt", SITES["R"].wkt, "--crs", "EPSG:4326", "--catalog", catalog,
        "--rules", world.rules, "--on-layer-error", "fail",
    )  # fmt: skip
    assert_input_error(again, "farm", "gone.gpkg")


def test_drawn_line_in_the_red_line_is_linear_without_declaring_it(world, tmp_path):
    """A route drawn on the map (no properties) crossing the red line is linear infrastructure:
    restricted (red.linear), not prohibited for want of --linear; --no-linear still decides."""
    line = LineString([(121.01, 31.03), (121.05, 31.03)])  # across the red line, west to east
    fc = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {}, "geometry": mapping(line)}],
    }
    path = tmp_path / "route.geojson"
    path.write_text(json.dumps(fc), "utf-8")
    out = tmp_path / "OUT"
    res = screen(world, path, "--out", out, "--format", "csv,json")
    assert res.exit_code == 0, res.output
    s = pd.read_csv(out / "sites.csv").iloc[0]
    assert s.verdict == "restricted" and bool(s.linear) is True
    assert "linear derived from the geometry" in res.stdout
    data = json.loads((out / "screening.json").read_text("utf-8"))
    rules = {r["rule_id"] for r in data["reasons"] if r["site_id"] == "1"}
    assert "red.linear" in rules
    declared = screen(world, path, "--no-linear", "--out", tmp_path / "O2", "--format", "csv")
    assert pd.read_csv(tmp_path / "O2" / "sites.csv")["verdict"].tolist() == ["prohibited"]
    assert declared.exit_code == 0


def test_real_entry_point_error_is_one_line(world, tmp_path):
    """As a user sees it: python -m zoning, a bad industry code in a CSV."""
    path = tmp_path / "s.csv"
    path.write_text("id,lon,lat,industry\nA,121.03,31.03,Z12\n")
    proc = subprocess.run(
        [sys.executable, "-m", "zoning", "screen", str(path), "--crs", "EPSG:4326",
         "--catalog", str(world.catalog), "--rules", str(world.rules),
         "--out", str(tmp_path / "OUT")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == "" and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and "row 2, column 'industry'" in proc.stderr
    assert not (tmp_path / "OUT").exists()


def test_help_lists_the_options():
    text = run("screen", "--help").output
    for opt in (
        "--catalog", "--layer", "--rules", "--crs", "--id-field", "--industry", "--out",
        "--format", "--fail-on", "--wkt", "--point", "--name-field", "--layer-name", "--nature",
        "--linear / --no-linear", "--wastewater / --no-wastewater", "--air / --no-air",
        "--hazardous / --no-hazardous", "--two-high / --no-two-high", "--search-radius",
        "--lang", "--offline", "--no-pieces", "--no-rings", "--on-layer-error",
    ):  # fmt: skip
        assert opt in text, opt
    assert "screen" in run("--help").output and "compare" in run("--help").output


def test_water_box_is_where_the_tests_think():
    # a guard on the fixture: 0.003 deg of longitude between the zone and site C is < 500 m
    assert geod_dist(WATER.bounds[2], 31.035, SITES["C"].bounds[0], 31.035) < 500


@pytest.mark.parametrize(("fmt", "module"), [("pdf", "fpdf"), ("pdf", "pypdf"), ("docx", "docx")])
def test_missing_documents_extra_is_one_line_before_any_work(monkeypatch, tmp_path, fmt, module):
    """Without the documents extra, --format pdf/docx names it (exit 2) before screening, and
    writes nothing; the Python writer says the same."""
    import zoning

    monkeypatch.setitem(sys.modules, module, None)  # importing it now fails
    out = tmp_path / "out"
    res = run(
        "screen",
        "--point",
        "121.47,31.23",
        "--crs",
        "EPSG:4326",
        "--out",
        str(out),
        "--format",
        f"csv,{fmt}",
    )
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert lines == [f"zoning: error: this feature needs {module}: pip install 'zoning[documents]'"]
    assert "Screened" not in res.stdout and not out.exists()
    result = zoning.screen(points=[(121.47, 31.23)], crs="EPSG:4326")
    with pytest.raises(zoning.ZoningError, match=r"zoning\[documents\]"):
        result.to_file(out, ["csv", fmt])
    assert not out.exists()
