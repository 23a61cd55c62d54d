"""zoning.webmap without a browser: escaping, whitelists, simplification, assets, basemaps, CLI.

The browser tests (what the pages do when opened) are in tests/test_map_browser.py.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from html import unescape

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
import yaml
from click.testing import CliRunner
from shapely.geometry import LineString, Point, Polygon, box

import zoning
from conftest import REPO
from worlds import HOSTILE, SECRET, hostile_catalog
from zoning.errors import ZoningError
from zoning.webmap import overview_map, screening_map
from zoning.webmap.assets import VENDOR, assets_for
from zoning.webmap.basemaps import resolve_basemap
from zoning.webmap.escape import href, html_attr, html_text, js_string, js_template, script_json
from zoning.webmap.simplify import (
    TOLERANCE_M,
    display_geometries,
    simplify_coverage,
    simplify_features,
)

GEOD = pyproj.Geod(ellps="WGS84")


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def overview_html(demo_layers):
    return overview_map(demo_layers, lang="zh", offline=True, show="all").to_html()


def page_data(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="zoning-data">(.*?)</script>', html, re.S)
    assert m, "no data element"
    return json.loads(m.group(1))


# ------------------------------------------------------------------------------ escaping


@pytest.mark.parametrize("value", HOSTILE)
def test_html_text_and_attr_leave_no_markup(value):
    for out in (html_text(value), html_attr(value)):
        assert "<" not in out and ">" not in out and '"' not in out and "'" not in out
    # Decoding the entities gives the original back (html.unescape is the HTML parser's rule).
    import html as _html

    assert _html.unescape(html_text(value)) == value


@pytest.mark.parametrize("value", HOSTILE)
def test_js_string_and_script_json_cannot_close_the_script(value):
    lit = js_string(value)
    data = script_json({"k": value, "list": [value]})
    for out in (lit, data):
        assert "<" not in out and ">" not in out and "&" not in out
        assert "\u2028" not in out and "\u2029" not in out
    # JSON is the oracle: both parse back to the original value.
    assert json.loads(lit) == value
    assert json.loads(data) == {"k": value, "list": [value]}


@pytest.mark.parametrize("value", HOSTILE)
def test_js_template_escapes_backticks_and_substitutions(value):
    out = js_template(value)
    assert "`" not in out.replace("\\`", "")
    assert "${" not in out.replace("\\${", "").replace("\\$", "")
    assert "<" not in out


def test_script_json_refuses_nan():
    with pytest.raises(ValueError):
        script_json({"x": float("nan")})


def test_href_refuses_script_schemes_and_quotes_paths():
    assert href("report/sites/a-1.html") == "report/sites/a-1.html"
    assert href("report/a b:c.html") == "report/a%20b%3Ac.html"
    with pytest.raises(ValueError):
        href("javascript:alert(1)")
    with pytest.raises(ValueError):
        href(" JavaScript:alert(1)")
    assert href("https://example.org/a?b=1&c=2") == "https://example.org/a?b=1&amp;c=2"
    assert '"' not in href('a"b') and "<" not in href("<x>")
    with pytest.raises(ValueError):
        href("data:text/html,<script>alert(1)</script>")


# ------------------------------------------------------------------------------ pages and data


def test_hostile_catalog_page_has_no_raw_payload(tmp_path):
    cat = hostile_catalog(tmp_path)
    html = overview_map(cat, lang="zh", offline=True).to_html()
    for value in HOSTILE:
        if "<" in value or "\u2028" in value:
            assert value not in html, value
    assert "<img src=x" not in html and "<svg onload" not in html
    assert "</script><script>alert(1)" not in html
    # branca renders text as jinja2 templates: the data must not be evaluated.
    assert "49jinja" not in html
    data = page_data(html)
    tips = [f["properties"]["t"] for lay in data["layers"] for f in lay["data"]["features"]]
    assert any("{{ 7*7 }}" in t for t in tips)  # kept as text (escaped for HTML, not evaluated)


def test_hostile_template_text_in_js_code_context(tmp_path):
    """``${...}`` may appear in the page only inside JSON strings, never in a template literal."""
    cat = hostile_catalog(tmp_path)
    html = overview_map(cat, lang="en", offline=True).to_html()
    scripts = re.findall(r"<script>(.*?)</script>", html, re.S)
    own = [s for s in scripts if "zoningBuild(" in s]
    assert own and all("${" not in s for s in own)


def test_whitelist_keeps_other_columns_out(tmp_path):
    cat = hostile_catalog(tmp_path)
    page = overview_map(cat, lang="en", offline=True)
    html = page.to_html()
    assert SECRET not in html
    props = {
        k for lay in page.config["layers"] for f in lay["data"]["features"] for k in f["properties"]
    }
    assert props <= {"t", "c", "p"}


def test_demo_notice_only_for_demonstration_data(tmp_path):
    (tmp_path / "a").mkdir()
    demo = overview_map(hostile_catalog(tmp_path / "a"), offline=True)
    assert demo.demonstration
    assert "演示数据，非官方生态保护红线 / DEMONSTRATION DATA — not the official red line" in (
        demo.to_html()
    )
    (tmp_path / "b").mkdir()
    auth = overview_map(hostile_catalog(tmp_path / "b", status="authoritative"), offline=True)
    assert not auth.demonstration
    assert "DEMONSTRATION DATA" not in auth.to_html()


def test_overview_has_every_layer_and_feature(demo_layers, overview_html):
    data = page_data(overview_html)
    ids = [lay["id"] for lay in data["layers"]]
    assert sorted(ids) == sorted(demo_layers.ids)
    for lay in data["layers"]:
        assert len(lay["data"]["features"]) == len(demo_layers[lay["id"]].gdf), lay["id"]
        assert lay["show"]
    assert data["vector"]["active"] and not any(t["active"] for t in data["tiles"])


@pytest.mark.slow
def test_overview_size_budget(demo_layers, overview_html):
    online = overview_map(demo_layers, lang="zh", offline=False, show="all").to_html()
    for html in (online, overview_html):
        assert len(html.encode("utf-8")) <= 5_000_000
    # Coordinates carry 5 decimals at most.
    coords = re.findall(r"\[1\d\d\.(\d+),3\d\.(\d+)\]", overview_html[:2_000_000])
    assert coords and max(max(len(a), len(b)) for a, b in coords) <= 5


def test_inline_page_loads_nothing_from_outside(overview_html):
    assert "<script src=" not in overview_html and "<link" not in overview_html
    for host in ("cdn.jsdelivr", "cdnjs", "code.jquery", "bootstrapcdn", "unpkg"):
        assert host not in overview_html
    assert "jquery" not in overview_html.lower().split("leaflet")[0]


def test_folder_assets_mode(tmp_path, demo_layers):
    page = overview_map(demo_layers, offline=True, bbox=(121.40, 31.18, 121.52, 31.26))
    (tmp_path / "site").mkdir()
    out = page.save(tmp_path / "site" / "map.html", assets="folder")
    html = out.read_text(encoding="utf-8")
    srcs = re.findall(r'<script src="([^"]+)"', html) + re.findall(r'href="(assets/[^"]+)"', html)
    assert srcs
    for rel in srcs:
        assert (out.parent / rel).is_file(), rel
    # Images referenced by the copied style sheets exist beside them.
    assert (out.parent / "assets/leaflet-1.9.3/images/layers.png").is_file()
    assert (out.parent / "assets/leaflet-draw-1.0.4/images/spritesheet.svg").is_file()
    assert len(html.encode()) < len(page.to_html(assets="inline").encode())


def test_vendored_files_match_their_recorded_checksums():
    readme = (VENDOR / "README.md").read_text(encoding="utf-8")
    recorded = dict(
        (path, digest) for digest, path in re.findall(r"^([0-9a-f]{64})  (\S+)$", readme, re.M)
    )
    files = sorted(
        str(p.relative_to(VENDOR))
        for p in VENDOR.rglob("*")
        if p.is_file() and p.name != "README.md"
    )
    assert sorted(recorded) == files
    for rel in files:
        assert hashlib.sha256((VENDOR / rel).read_bytes()).hexdigest() == recorded[rel], rel
    for a in assets_for(["scale", "measure", "fullscreen", "coordinates", "draw"]):
        assert a.path.is_file()
    # Each vendored plugin carries its licence.
    for folder in VENDOR.iterdir():
        if folder.is_dir():
            assert any("LICEN" in p.name.upper() for p in folder.iterdir()), folder


def test_save_is_atomic(tmp_path, demo_layers):
    page = overview_map(demo_layers, offline=True, bbox=(121.40, 31.18, 121.52, 31.26))
    target = tmp_path / "map.html"
    target.write_text("old page", encoding="utf-8")
    with pytest.raises(ZoningError):
        page.save(target, assets="bogus")
    assert target.read_text(encoding="utf-8") == "old page"
    assert [p.name for p in tmp_path.iterdir()] == ["map.html"]
    with pytest.raises(OSError):
        page.save(tmp_path / "missing" / "map.html")
    assert not (tmp_path / "missing").exists()


# ------------------------------------------------------------------------------ simplification


def _gaps_and_overlaps(geoms) -> tuple[float, float]:
    union = shapely.union_all(geoms)
    overlap = float(shapely.area(geoms).sum() - union.area)
    holes = [shapely.Polygon(r) for p in getattr(union, "geoms", [union]) for r in p.interiors]
    return overlap, float(sum(h.area for h in holes))


def test_coverage_simplification_opens_no_gaps(demo_layers):
    cu = demo_layers["control_units"].gdf.geometry.to_numpy()
    before = _gaps_and_overlaps(cu)
    simple = simplify_coverage(cu, TOLERANCE_M)
    assert shapely.get_num_coordinates(simple).sum() < 0.3 * shapely.get_num_coordinates(cu).sum()
    after = _gaps_and_overlaps(simple)
    assert after[0] <= before[0] + 5.0 and after[1] <= before[1] + 5.0  # m²
    # ... and neither does writing them at 1 m precision in degrees (back in metres here).
    shown = display_geometries(simple)
    back = gpd.GeoSeries(shown, crs=4326).to_crs(demo_layers.crs).to_numpy()
    again = _gaps_and_overlaps(back)
    assert again[0] <= before[0] + 5.0 and again[1] <= before[1] + 5.0
    # The control: simplifying polygon by polygon opens gaps of many hectares.
    naive = _gaps_and_overlaps(simplify_features(cu, TOLERANCE_M))
    assert naive[1] > 10_000


@pytest.mark.parametrize(
    "layer_id",
    [
        "districts",
        "red_line",
        "development_boundary",
        "basic_farmland",
        "water",
        "water_source_zones",
        "nature_reserves",
        "nature_reserves_2026",
        "control_units",
    ],
)
def test_area_change_within_bound(demo_layers, layer_id):
    """Total area on the page within 0.1 % of the source, each feature within 2 % (geodesic)."""
    # The 2017 reserve zoning is in force up to 2026-03-14 only.
    layers = demo_layers if layer_id in demo_layers else demo_layers.at("2026-03-01")
    lay = layers[layer_id]
    geoms = lay.gdf.geometry.to_numpy()
    simple = (
        simplify_coverage(geoms, TOLERANCE_M)
        if lay.kind == "control_unit"
        else simplify_features(geoms, TOLERANCE_M)
    )
    shown = display_geometries(simple)
    source = gpd.GeoSeries(geoms, crs=demo_layers.crs).to_crs(4326).to_numpy()
    a0 = np.array([abs(GEOD.geometry_area_perimeter(g)[0]) for g in source])
    a1 = np.array([abs(GEOD.geometry_area_perimeter(g)[0]) for g in shown])
    assert abs(a1.sum() - a0.sum()) / a0.sum() < 0.001
    assert np.max(np.abs(a1 - a0) / a0) < 0.02


@pytest.mark.slow
def test_maps_do_not_touch_the_layers():
    layers = zoning.load_catalog()
    before = {lay.id: shapely.to_wkb(lay.gdf.geometry.to_numpy()) for lay in layers}
    cols = {lay.id: list(lay.gdf.columns) for lay in layers}
    overview_map(layers, offline=True, basemap="gaode")
    for lay in layers:
        assert list(lay.gdf.columns) == cols[lay.id]
        assert (shapely.to_wkb(lay.gdf.geometry.to_numpy()) == before[lay.id]).all(), lay.id


# ------------------------------------------------------------------------------ basemaps


def test_gaode_shifts_overlays_like_prcoords(tmp_path):
    prcoords = pytest.importorskip("prcoords")
    cat = hostile_catalog(tmp_path)
    plain = overview_map(cat, offline=True, basemap="osm")
    gaode = overview_map(cat, offline=True, basemap="gaode")
    assert any("GCJ-02" in zh + en for zh, en in gaode.notices)
    assert "GCJ-02" in gaode.to_html()
    a = plain.config["layers"][0]["data"]["features"][0]["geometry"]["coordinates"][0]
    b = gaode.config["layers"][0]["data"]["features"][0]["geometry"]["coordinates"][0]
    for (lon, lat), (glon, glat) in zip(a, b, strict=True):
        ref = prcoords.wgs_gcj(prcoords.Coords(lat, lon))
        assert abs(glat - ref.lat) <= 1.1e-5 and abs(glon - ref.lon) <= 1.1e-5
        dist = GEOD.inv(lon, lat, glon, glat)[2]
        assert 300 < dist < 700  # the GCJ-02 offset in Shanghai
    assert not any(t["id"] in ("osm", "carto") for t in gaode.config["tiles"])


def test_tianditu_needs_a_key(monkeypatch):
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    with pytest.raises(ZoningError, match="needs a key"):
        resolve_basemap("tianditu")
    with pytest.raises(ZoningError, match="letters and digits"):
        resolve_basemap("tianditu", tianditu_key="abc'\"<x>0123456789")
    bm = resolve_basemap("tianditu", tianditu_key="0123456789abcdef0123456789abcdef")
    assert all("tk=0123456789abcdef0123456789abcdef" in u for u in bm.tiles[0].urls)
    monkeypatch.setenv("TIANDITU_KEY", "fedcba9876543210fedcba9876543210")
    assert "tk=fedcba9876543210" in resolve_basemap("tianditu").tiles[0].urls[0]
    with pytest.raises(ZoningError, match="unknown basemap"):
        resolve_basemap("google")


def test_district_clip(demo_layers):
    page = overview_map(demo_layers, clip="金山区", offline=True)
    (s, w), (n, e) = page.config["bounds"]
    assert 30.6 < s < n < 31.0 and 120.8 < w < e < 121.5
    with pytest.raises(ZoningError, match="no district named"):
        overview_map(demo_layers, clip="Atlantis")


def _features(page) -> dict[str, list]:
    return {spec["id"]: spec["data"]["features"] for spec in page.config["layers"]}


def test_district_clip_leaves_the_neighbours_out(demo_layers):
    """Neighbours share the district's boundary: no lines or slivers of them are drawn."""
    by_name = overview_map(demo_layers, clip="金山区", offline=True)
    feats = _features(by_name)
    assert len(feats["districts"]) == 1  # Jinshan, not Songjiang/Fengxian/Qingpu along the edge
    for layer_id, fs in feats.items():
        kinds = {f["geometry"]["type"] for f in fs}
        if layer_id != "yangtze_shoreline":
            assert kinds <= {"Polygon", "MultiPolygon"}, (layer_id, kinds)
    # Jinshan's land units (its sea units lie offshore), and none of the neighbours'
    units = demo_layers["control_units"].gdf
    mine = (units["district"] == "金山区") & (units["realm"] == "land")
    assert len(feats["control_units"]) == int(mine.sum())
    # the same area given as a GeoSeries in any CRS (the round trip through WGS84 moves the
    # boundary by about a millimetre: the slivers it leaves along the neighbours are dropped)
    districts = demo_layers["districts"].gdf
    area = districts.loc[districts["name"] == "金山区"].geometry.to_crs(4326)
    by_series = overview_map(demo_layers, clip=area, offline=True)
    counts = {k: len(v) for k, v in _features(by_series).items()}
    assert counts == {k: len(v) for k, v in feats.items()}
    with pytest.raises(ZoningError, match="no CRS"):
        overview_map(demo_layers, clip=gpd.GeoSeries([area.iloc[0]]))


def test_clip_geometries_keeps_pieces_of_the_features_own_dimension():
    from zoning.webmap.page import clip_geometries

    clip = box(0, 0, 100, 100)  # metres, working CRS
    geoms = np.array(
        [
            box(100, 0, 200, 100),  # shares an edge: a line, dropped
            box(99.96, 0, 200, 100),  # 4 m² inside: a sliver, dropped
            box(99.8, 0, 200, 100),  # 20 m² inside, but 0.2 m wide: a sliver, dropped
            box(95, 0, 200, 4),  # 20 m² inside, 4 m wide: kept
            shapely.union_all([box(50, 50, 60, 60), box(100, 0, 110, 10)]),  # part touches
            LineString([(50, -10), (50, 110)]),  # crosses: 100 m inside
            LineString([(100, 0), (100, 100)]),  # runs along the edge: kept (on the boundary)
            LineString([(100.5, 0), (100.5, 100)]),  # outside
            Point(10, 10),
            shapely.Polygon(),
        ],
        dtype=object,
    )
    out = clip_geometries(geoms, clip)
    assert out[0].is_empty and out[1].is_empty and out[2].is_empty
    assert out[3].area == pytest.approx(20.0)
    assert out[4].geom_type == "Polygon" and out[4].area == pytest.approx(100.0)
    assert out[5].length == pytest.approx(100.0)
    assert out[6].length == pytest.approx(100.0)
    assert out[7].is_empty and out[8].equals(Point(10, 10)) and out[9].is_empty
    assert geoms[0].equals(box(100, 0, 200, 100))  # the input is not modified


def legend_text(page) -> str:
    """The legend's fixed part and every layer's block (the page shows a block while its layer
    is on the map)."""
    cfg = page.config
    return cfg["legend_html"] + "".join(s.get("legend_html", "") for s in cfg["layers"])


@pytest.mark.slow
def test_legend_shows_what_the_page_draws(demo_layers):
    page = overview_map(demo_layers, clip="黄浦区", offline=True, lang="en")
    legend = legend_text(page)
    assert "Rivers and lakes" in legend and "river" in legend
    # no basic farmland, red line or reserves in Huangpu: not in its legend
    for absent in ("Permanent basic farmland", "Ecological protection red line", "core zone"):
        assert absent not in legend, absent
    # ... but still in the layer control
    names = " ".join(spec["name_html"] for spec in page.config["layers"])
    assert "Permanent basic farmland" in names
    city = legend_text(overview_map(demo_layers, offline=True, lang="en"))
    assert "biodiversity maintenance" in city and "水源涵养" not in city


def test_add_html_places_site_chrome(demo_layers):
    page = overview_map(demo_layers, clip="黄浦区", offline=True)
    page.add_html("<nav>NAV {{ 7*7 }}</nav>", where="top")
    page.add_html('<aside id="panel">PANEL</aside>', where="bottom")
    page.add_html('<link rel="stylesheet" href="site.css">', where="head")
    html = page.to_html(assets="folder")
    assert html.startswith('<!DOCTYPE html>\n<html lang="zh-CN">')
    head, body = html.split("<body>", 1)
    assert '<link rel="stylesheet" href="site.css">' in head
    assert body.index("<nav>NAV {{ 7*7 }}</nav>") < body.index('class="zoning-notices"')
    assert body.index('class="folium-map"') < body.index('<aside id="panel">')
    assert html == page.to_html(assets="folder")  # rendering twice gives the same page
    with pytest.raises(ZoningError, match="where"):
        page.add_html("<p>", where="middle")


# ------------------------------------------------------------------------------ screening map


@pytest.fixture(scope="module")
def screened(tmp_path_factory, demo_layers):
    tmp = tmp_path_factory.mktemp("screened")
    sites = gpd.GeoDataFrame(
        {"id": ["P<1>", "L2", "X3"], "name": [HOSTILE[0], "管线 " + HOSTILE[2], HOSTILE[5]]},
        geometry=[
            Polygon([(121.30, 31.50), (121.32, 31.50), (121.32, 31.52), (121.30, 31.52)]),
            LineString([(121.20, 31.05), (121.30, 31.10)]),
            Point(121.47, 31.23),
        ],
        crs=4326,
    )
    path = tmp / "sites.geojson"
    sites.to_file(path)
    rules = yaml.safe_load((REPO / "layers/rules/shanghai_demo.yml").read_text(encoding="utf-8"))
    for rule in rules["rules"]:
        msg = rule.get("message")
        if isinstance(msg, dict):
            msg["zh"] = HOSTILE[1] + msg["zh"]
            msg["en"] = HOSTILE[4] + msg["en"]
    rules_path = tmp / "rules.yml"
    rules_path.write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    # its stored law texts (rule set 2026.12 cites them by path relative to the file)
    shutil.copytree(REPO / "layers/rules/texts", tmp / "texts")
    result = zoning.screening.screen(
        path, demo_layers, rules=rules_path, attributes={"industry": "2614", "nature": "new"}
    )
    out = tmp / "out"
    result.to_file(out)
    return result, out


def screening_spec(page, layer_id: str) -> dict:
    """The spec of one of the screening's own layers (not a catalog layer of that id)."""
    return next(
        lay for lay in page.config["layers"] if lay["ns"] == "screening" and lay["id"] == layer_id
    )


def site_props(page) -> dict[str, dict]:
    """Site id -> the properties of its feature on the screening map."""
    feats = screening_spec(page, "sites")["data"]["features"]
    return {f["properties"]["s"]: f["properties"] for f in feats}


@pytest.mark.slow
def test_screening_map_from_folder(screened):
    result, out = screened
    page = screening_map(out, lang="zh", offline=True)
    html = page.to_html()
    assert "<img src=x" not in html and "</script><script>alert(1)" not in html
    sites = screening_spec(page, "sites")
    assert len(sites["data"]["features"]) == len(result.sites)
    verdicts = sorted(f["properties"]["c"].split(":")[0] for f in sites["data"]["features"])
    assert verdicts == sorted(result.sites["verdict"])
    from zoning.report import page_name

    prefix = page.config["sites"]["report_prefix"]
    assert prefix == "report/sites/"
    by_id = {f["properties"]["s"]: f["properties"] for f in sites["data"]["features"]}
    assert set(by_id) == set(result.sites["site_id"])
    for sid, props in by_id.items():
        link = prefix + props["h"]
        assert link == f"report/sites/{page_name(sid)}.html"
        assert (out / link).is_file()
    # Reasons and their citations reach the popups (escaped), each text once.
    items = page.config["sites"]["reasons_html"]
    first = result.reasons.iloc[0]
    assert any(html_text(first["citation"]) in item for item in items)
    assert len(items) == len(set(items))
    assert {"pieces", "rings"} <= {
        lay["id"] for lay in page.config["layers"] if lay["ns"] == "screening"
    }
    assert page.demonstration


@pytest.mark.slow
def test_screening_map_from_result_equals_folder(screened):
    result, out = screened
    a = screening_map(result, offline=True)
    b = screening_map(out, offline=True)
    fa = [f["properties"]["c"] for f in a.config["layers"][0]["data"]["features"]]
    fb = [f["properties"]["c"] for f in b.config["layers"][0]["data"]["features"]]
    assert fa == fb


def test_screening_map_bad_folder(tmp_path):
    with pytest.raises(ZoningError, match=r"screening\.gpkg and screening\.json missing"):
        screening_map(tmp_path)


# ------------------------------------------------------------------------------ command line


def _run(args):
    import click

    from zoning.cli.map import map_cmd

    @click.group()
    def cli():
        pass

    cli.add_command(map_cmd)
    return CliRunner().invoke(cli, ["map", *args])


@pytest.mark.slow
def test_cli_overview_and_screening(tmp_path, screened):
    _, out = screened
    res = _run(
        ["--out", str(tmp_path / "o" / "overview.html"), "--offline", "--district", "Jinshan"]
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "o" / "overview.html").is_file()
    assert "DEMONSTRATION" in res.output
    res = _run(["--screening", str(out), "--out", str(tmp_path / "s" / "m.html"), "--lang", "en"])
    assert res.exit_code == 0, res.output
    data = page_data((tmp_path / "s" / "m.html").read_text(encoding="utf-8"))
    # Links from the page's folder to the report in the screening folder, and they resolve.
    prefix = data["sites"]["report_prefix"]
    links = [prefix + f["properties"]["h"] for f in data["layers"][0]["data"]["features"]]
    assert len(links) == 3 and all(link.startswith("../") for link in links)
    assert all((tmp_path / "s" / link).resolve().is_file() for link in links)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--catalog", "{tmp}/nope.yml"], "catalog not found"),
        (["--layer", "red_line={tmp}/missing.gpkg"], "not found"),
        (["--out", "{tmp}/file.txt/map.html"], "cannot create the output folder"),
        (["--screening", "{tmp}"], "not a screening output folder"),
        (["--basemap", "tianditu"], "needs a key"),
    ],
)
def test_cli_errors_are_one_line_exit_2(tmp_path, monkeypatch, args, message):
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    (tmp_path / "file.txt").write_text("x")
    bad_catalog = tmp_path / "bad.yml"
    bad_catalog.write_text("layers: [{id: 1}]\n")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if "--out" not in args:
        args += ["--out", str(tmp_path / "out.html")]
    res = _run(args)
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in res.output
    assert not (tmp_path / "out.html").exists()


def test_cli_bad_catalog_one_line(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("layers:\n  - {id: red, kind: nonsense, source: x.gpkg}\n", encoding="utf-8")
    res = _run(["--catalog", str(bad), "--out", str(tmp_path / "m.html")])
    assert res.exit_code == 2
    assert len(res.output.strip().splitlines()) == 1 and "unknown kind" in res.output
    assert not (tmp_path / "m.html").exists()


# ------------------------------------------------------------------------------ review fixes


DEMO_GPKG = REPO / "layers" / "shanghai_demo.gpkg"
DISTRICT_NAMES = list(gpd.read_file(DEMO_GPKG, layer="districts")["name_zh"])


def test_repair_keeps_the_polygonal_part_of_an_invalid_polygon():
    from zoning.webmap.simplify import repair_geometries

    bowtie = Polygon([(0, 0), (2, 2), (2, 0), (0, 2), (0, 0)])  # edges cross at (1, 1)
    spike = Polygon([(0, 0), (4, 0), (4, 4), (2, 4), (2, 6), (2, 4), (0, 4), (0, 0)])
    line = LineString([(0, 0), (1, 1)])
    assert not bowtie.is_valid and not spike.is_valid
    out = repair_geometries(np.array([bowtie, spike, line, None], dtype=object))
    # Hand-computed: two triangles of area 1 each; the 4 x 4 square without its spike.
    assert out[0].is_valid and out[0].geom_type == "MultiPolygon" and out[0].area == 2.0
    assert out[1].is_valid and out[1].geom_type == "Polygon" and out[1].area == 16.0
    assert out[2] is line and out[3] is None
    assert not bowtie.is_valid  # the input is not modified


def test_display_geometries_snaps_invalid_input_without_error():
    # A bow-tie in the working CRS (metres) near Shanghai, shifted to GCJ-02.
    x, y = shapely.get_coordinates(
        gpd.GeoSeries([Point(121.5, 31.2)], crs=4326).to_crs(zoning.crs.WORKING_CRS).iloc[0]
    )[0]
    bowtie = Polygon([(x, y), (x + 2, y + 2), (x + 2, y), (x, y + 2), (x, y)])
    out = display_geometries(np.array([bowtie], dtype=object), shift="gcj02", precision=7)
    assert out[0].is_valid and not out[0].is_empty


@pytest.mark.parametrize("name", DISTRICT_NAMES)
def test_gaode_district_maps(demo_layers, name):
    """Every district with the GCJ-02 shift (the shift once made Pudong's basemap invalid)."""
    page = overview_map(demo_layers, basemap="gaode", clip=name, offline=True)
    parts = [p["data"] for p in page.config["vector"]["parts"]]
    parts += [s["data"] for s in page.config["layers"]]
    n = 0
    for fc in parts:
        for f in fc["features"]:
            g = shapely.geometry.shape(f["geometry"])
            assert g.is_valid and not g.is_empty, (name, shapely.is_valid_reason(g))
            n += 1
    assert n > 0 and page.config["shift"] == "gcj02"


@pytest.mark.parametrize(
    "given", ["jinshan district", "Jinshan District", "  JINSHAN  ", "Jinshan", "金山区"]
)
def test_district_names_match_loosely(demo_layers, given):
    from zoning.webmap.overview import resolve_clip

    expected = demo_layers["districts"].gdf
    expected = expected[expected["name_en"] == "Jinshan"].geometry.iloc[0]
    assert resolve_clip(demo_layers, given).equals(expected)


def test_swatches_are_drawn_as_the_map_draws():
    from zoning.webmap.page import KIND_STYLES, swatch_html

    red = swatch_html(KIND_STYLES["red_line"])  # fill #d6604d at 0.45, stroke #b2182b
    assert "background:rgba(214,96,77,0.45)" in red and "border-color:rgba(178,24,43,1)" in red
    udb = swatch_html(KIND_STYLES["development_boundary"])  # dashed, fill at 0.12
    assert "border-style:dashed" in udb and "rgba(128,115,172,0.12)" in udb
    district = swatch_html(KIND_STYLES["district"])  # outline only
    assert "background:transparent" in district
    shore = swatch_html(KIND_STYLES["shoreline"], "line")  # stroke at 0.9
    assert "rgba(8,48,107,0.9)" in shore


@pytest.mark.slow
def test_legend_gives_each_layer_its_own_block(demo_layers):
    page = overview_map(demo_layers, lang="en", offline=True)
    blocks = {s["id"]: s.get("legend_html") for s in page.config["layers"]}
    assert page.config["legend_html"] == ""
    # A layer with categories: its title then its categories; one without: one line.
    assert blocks["water"].startswith('<div class="lg-h">Rivers and lakes')
    assert blocks["water"].count('class="lg-i"') >= 2
    assert blocks["basic_farmland"].count('class="lg-i"') == 1
    assert "lg-h" not in blocks["basic_farmland"]
    # Control units are off at load: their block exists, the page shows it only when on.
    shown = {s["id"]: s["show"] for s in page.config["layers"]}
    assert blocks["control_units"] and shown["control_units"] is False


@pytest.mark.slow
def test_every_page_carries_a_content_security_policy(demo_layers):
    head = overview_map(demo_layers, offline=True).to_html().split("</head>")[0]
    meta = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', head)
    assert meta and head.index(meta.group(0)) < head.index("<script")
    policy = unescape(meta.group(1))
    assert "default-src 'none'" in policy and "connect-src 'none'" in policy
    assert "https:" not in policy  # offline: no host at all
    assert overview_map(demo_layers, offline=True).config["tiles"] == []
    online = unescape(overview_map(demo_layers).to_html())
    assert "img-src 'self' data: blob: https://tile.openstreetmap.org " in online
    assert "https://*.basemaps.cartocdn.com" in online
    gaode = unescape(overview_map(demo_layers, basemap="gaode").to_html())
    assert "https://*.is.autonavi.com" in gaode and "openstreetmap" not in gaode.split("<body")[0]
    assert overview_map(demo_layers, offline=True).config["zoom_snap"] == 0.5


# ------------------------------------------------------------------------------ screening


@pytest.mark.slow
def test_catalog_ids_cannot_replace_the_screening_layers(tmp_path, screened):
    """Catalog layers named 'sites' and 'rings' stay catalog layers: the namespaces differ."""
    _, out = screened
    doc = yaml.safe_load((REPO / "layers" / "catalog.yml").read_text(encoding="utf-8"))
    for e in doc["layers"]:
        e["source"] = str((REPO / "layers" / e["source"]).resolve())
        if e["id"] == "nature_reserves_2026":  # the reserve vintage in force today
            e["id"] = "sites"
        if e["id"] == "water":
            e["id"] = "rings"
    cat = tmp_path / "catalog.yml"
    cat.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    page = screening_map(out, layers=cat, offline=True)
    specs = page.config["layers"]
    keys = [(s["ns"], s["id"]) for s in specs]
    assert len(keys) == len(set(keys))
    assert ("screening", "sites") in keys and ("catalog", "sites") in keys
    assert ("screening", "rings") in keys and ("catalog", "rings") in keys
    assert len(screening_spec(page, "sites")["data"]["features"]) == 3


def _kunshan_result(demo_layers):
    """One site in Kunshan (outside the demonstration layers' coverage), one in Shanghai."""
    return zoning.screen(
        wkt=["POINT (120.98 31.38)", "POINT (121.4737 31.2304)"],
        layers=demo_layers,
        crs="EPSG:4326",
        attributes={"industry": "C2614", "nature": "new"},
    )


def test_popups_list_every_reason_even_without_a_rule_id(demo_layers):
    result = _kunshan_result(demo_layers)
    page = screening_map(result, lang="en", offline=True)
    table = page.config["sites"]
    by_id = site_props(page)
    reasons = result.reasons
    for sid, props in by_id.items():
        total = int((reasons["site_id"] == sid).sum())  # every row, as the report lists them
        refs = props.get("r", [])
        assert len(refs) == min(total, 5)
        assert props.get("m", 0) == max(total - 5, 0)
    far = result.sites["site_id"].iloc[0]
    nulls = reasons[(reasons["site_id"] == far) & reasons["rule_id"].isna()]
    assert len(nulls) >= 2  # several layers do not cover Kunshan
    labels = [table["reasons_html"][r[0]] for r in by_id[far]["r"]]
    assert sum("outside the layer&#x27;s coverage" in t for t in labels) == min(len(nulls), 5)


@pytest.mark.slow
def test_max_sites_draws_the_most_severe(screened):
    result, out = screened
    rank = {"prohibited": 4, "unknown": 3, "restricted": 2, "conditional": 1, "permitted": 0}
    verdicts = list(result.sites["verdict"])
    worst = max(range(len(verdicts)), key=lambda i: (rank[verdicts[i]], -i))
    page = screening_map(out, lang="en", offline=True, max_sites=1)
    feats = screening_spec(page, "sites")["data"]["features"]
    assert [f["properties"]["s"] for f in feats] == [result.sites["site_id"].iloc[worst]]
    assert "Showing 1 of 3 sites" in page.to_html()
    assert page.title.endswith("1 of 3 sites")
    with pytest.raises(ZoningError, match="max_sites"):
        screening_map(out, max_sites=0)


@pytest.mark.slow
def test_rings_are_simplified_within_one_percent(screened):
    result, out = screened
    page = screening_map(out, offline=True)
    drawn = screening_spec(page, "rings")["data"]["features"]
    assert len(drawn) == len(result.rings)
    original = result.rings.reset_index(drop=True)
    assert all(f["properties"]["s"] == s for f, s in zip(drawn, original["site_id"], strict=True))
    shapes = gpd.GeoSeries([shapely.geometry.shape(f["geometry"]) for f in drawn], crs=4326).to_crs(
        original.crs
    )
    n_in, n_out = 0, 0
    for got, want, outer in zip(shapes, original.geometry, original["outer_m"], strict=True):
        # within 1 % of the radius plus the page's 1e-5 degree rounding (< 1.2 m)
        assert shapely.hausdorff_distance(got, want) <= min(0.01 * outer, 10.0) + 1.2
        n_in += shapely.get_num_coordinates(got)
        n_out += shapely.get_num_coordinates(want)
    assert n_in < 0.5 * n_out  # and the page holds far fewer vertices


@pytest.mark.slow
def test_rings_and_pieces_left_out_when_they_do_not_fit(screened):
    _, out = screened
    page = screening_map(out, lang="en", offline=True, max_data_bytes=1)
    ids = {s["id"] for s in page.config["layers"] if s["ns"] == "screening"}
    assert ids == {"sites"}
    notes = " ".join(en for _zh, en in page.notices)
    assert "Buffer rings not drawn" in notes and "Overlap pieces not drawn" in notes


@pytest.mark.slow
def test_sites_beyond_the_layers_zoom_out_to_show_both(demo_layers):
    result = zoning.screen(
        wkt=["POINT (116.40 39.90)"], layers=demo_layers, crs="EPSG:4326"
    )  # Beijing
    page = screening_map(result, lang="en", offline=True)
    (s, w), (n, e) = page.config["bounds"]
    shanghai = gpd.read_file(DEMO_GPKG, layer="districts").total_bounds
    assert w <= 116.40 and n >= 39.90  # the site ...
    assert e >= shanghai[2] - 0.01 and s <= shanghai[1] + 0.01  # ... and the layers' area
    assert any("outside the area the layers cover" in en for _zh, en in page.notices)
    drawn = {s["id"]: len(s["data"]["features"]) for s in page.config["layers"]}
    assert drawn["red_line"] > 0  # the constraint layers are on the map too


def test_small_sites_carry_a_representative_point(demo_layers):
    result = zoning.screen(
        wkt=[
            "POLYGON ((121.40 31.20, 121.401 31.20, 121.401 31.201, 121.40 31.201, 121.40 31.20))",
            "LINESTRING (121.45 31.02, 121.50 31.04)",
            "POINT (121.47 31.23)",
        ],
        layers=demo_layers,
        crs="EPSG:4326",
    )
    page = screening_map(result, offline=True)
    props = site_props(page)
    ids = list(result.sites["site_id"])
    lon, lat = props[ids[0]]["rp"]
    assert 121.40 < lon < 121.401 and 31.20 < lat < 31.201  # inside the square
    lon, lat = props[ids[1]]["rp"]
    assert abs(lon - 121.475) < 1e-3 and abs(lat - 31.03) < 1e-3  # mid-line (hand-computed)
    assert "rp" not in props[ids[2]]  # points are dots already


@pytest.mark.slow
def test_cli_screening_max_sites(tmp_path, screened):
    _, out = screened
    res = _run(
        [
            "--screening",
            str(out),
            "--max-sites",
            "2",
            "--lang",
            "en",
            "--out",
            str(tmp_path / "m.html"),
        ]
    )
    assert res.exit_code == 0, res.output
    data = page_data((tmp_path / "m.html").read_text(encoding="utf-8"))
    assert len(data["layers"][0]["data"]["features"]) == 2
    res = _run(["--max-sites", "2", "--out", str(tmp_path / "o.html")])
    assert res.exit_code == 2 and "--max-sites applies to --screening" in res.output
    assert not (tmp_path / "o.html").exists()


@pytest.mark.slow
@pytest.mark.parametrize("folder", ["javascript:alert(1)", "http:x"])
def test_cli_screening_folders_named_like_urls(tmp_path, monkeypatch, screened, folder):
    """A relative folder named like a URL is a folder: links get './', GDAL gets a path."""
    import shutil

    _, out = screened
    shutil.copytree(out, tmp_path / folder)
    monkeypatch.chdir(tmp_path)
    res = _run(["--screening", folder, "--offline", "--out", "m.html"])
    assert res.exit_code == 0, res.output
    data = page_data((tmp_path / "m.html").read_text(encoding="utf-8"))
    prefix = data["sites"]["report_prefix"]
    assert prefix.startswith("./")
    from urllib.parse import unquote

    for f in data["layers"][0]["data"]["features"]:
        assert (tmp_path / unquote(prefix + f["properties"]["h"])).is_file()


def test_cli_writes_nothing_before_the_page_is_ready(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = _run(["--catalog", "missing.yml", "--out", "newdir/sub/x.html"])
    assert res.exit_code == 2 and "catalog not found" in res.output
    assert list(tmp_path.iterdir()) == []
    res = _run(["--district", "Jinshan", "--offline", "--out", "newdir/sub/x.html"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "newdir" / "sub" / "x.html").is_file()


def test_cli_help_says_the_tianditu_key_is_in_the_page():
    res = _run(["--help"])
    text = " ".join(res.output.split())
    assert "written into the page's tile URLs" in text and "restricted to the domain" in text
