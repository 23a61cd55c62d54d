"""What the outputs say (issue 13 §5): undeclared attributes as conditions, conditional sites as
permitted with conditions, boundary warnings only where a rule could change, Shanghai times,
input file hash and map link on site pages, rounded values, ``--out-crs`` and the removed
earlier outputs.

Oracles: the demonstration rule set's own conditions (read from its YAML), hashlib, pyproj
(transforms and distances computed independently of the toolkit), the files read back.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely
from click.testing import CliRunner
from shapely.geometry import Point

import zoning
from zoning.cli import main
from zoning.labels import VERDICT_LABELS

REPO = Path(__file__).resolve().parent.parent
PROJECTS = REPO / "layers" / "examples" / "projects.geojson"
#: Inside the level-2 zone of the 陈行 source (the level-2 food plant example's spot).
LEVEL2 = "121.39076,31.47957"


def cli(*args) -> object:
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def undeclared_run(tmp_path_factory):
    """A guesthouse in a level-2 source zone declaring only its industry and nature: every
    rule of the zone turns on what it did not declare (discharge, air, facilities)."""
    out = tmp_path_factory.mktemp("undeclared") / "out"
    r = cli(
        "screen", "--point", LEVEL2, "--crs", "EPSG:4326", "--industry", "H6130",
        "--nature", "new", "--out", out, "--offline", "--lang", "en",
    )  # fmt: skip
    assert r.exit_code in (0, 1), r.output
    return r, out


@pytest.fixture(scope="module")
def examples_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("examples") / "out"
    r = cli("screen", PROJECTS, "--out", out, "--offline", "--lang", "en")
    assert r.exit_code in (0, 1), r.output
    return r, out


# ----------------------------------------------------------------------------- undeclared


def test_undeclared_rules_read_as_conditions_in_sites_csv(undeclared_run):
    _, out = undeclared_run
    row = pd.read_csv(out / "sites.csv", dtype=str, encoding="utf-8-sig").iloc[0]
    codes = pd.read_csv(out / "codes.csv", dtype=str, encoding="utf-8-sig").set_index("code")
    # the row carries codes; the codes table holds their words, once
    code = next(c for c in row["reason_codes"].split(";") if c.startswith("water_source.outfall"))
    assert codes.loc[code, "rule_id"] == "water_source.outfall"
    # a text that is not the rule's own message has a variant suffix
    assert "~" in code
    # water_source.outfall turns on discharge (direct) or an outfall, neither declared
    outfall_en, outfall_zh = codes.loc[code, "text_en"], codes.loc[code, "text_zh"]
    assert "applies if the project discharges its waste water" in outfall_en
    assert "(not declared" in outfall_en
    assert "the project declares a direct discharge" not in outfall_en  # not said as fact
    assert re.search(r"如项目.*则适用（未声明", outfall_zh), outfall_zh
    assert "项目申报直接排放" not in outfall_zh


def test_undeclared_rules_read_as_conditions_in_console_and_index(undeclared_run):
    r, out = undeclared_run
    index = (out / "report" / "index.html").read_text(encoding="utf-8")
    for text in (r.output, index):
        assert "applies if the project" in text and "(not declared" in text
        assert "the project declares a direct discharge" not in text


def test_conditional_sites_are_permitted_with_conditions_in_console(examples_run):
    r, out = examples_run
    sites = pd.read_csv(out / "sites.csv", dtype=str, encoding="utf-8-sig")
    counts = sites["verdict"].value_counts()
    not_permitted = sum(counts.get(v, 0) for v in ("prohibited", "restricted", "unknown"))
    text = r.output
    assert f"{not_permitted} not permitted" in text
    assert f"{counts['conditional']} permitted with conditions" in text
    assert f"{not_permitted + counts['conditional']} not permitted" not in text
    conditional = VERDICT_LABELS["conditional"][1]
    for line in text.splitlines():
        if "scip-chemical" in line:
            assert conditional in line and "not permitted" not in line


def test_console_lists_project_names_and_ids(examples_run):
    r, _ = examples_run
    names = gpd.read_file(PROJECTS).set_index("id")["name"]
    line = next(
        x for x in r.output.splitlines() if "yangtze-chemical " in x or "yangtze-chemical)" in x
    )
    assert names["yangtze-chemical"] in line


# ----------------------------------------------------------------------------- boundaries


def _shoreline_point(layers, target_m: float) -> Point:
    """A point about ``target_m`` from the Yangtze shoreline on land near Changxing Island,
    measured with pyproj in UTM 51N (independent of the toolkit's working CRS)."""
    shore = layers["yangtze_shoreline"].gdf.to_crs(4326)
    utm = shore.to_crs(32651).geometry.union_all()
    tr = pyproj.Transformer.from_crs(4326, 32651, always_xy=True)
    back = pyproj.Transformer.from_crs(32651, 4326, always_xy=True)
    x0, y0 = tr.transform(121.71291, 31.36916)  # the coatings-plant example, 542 m off
    best = None
    for dy in np.linspace(-2000, 2000, 161):
        for dx in np.linspace(-2000, 2000, 161):
            d = utm.distance(Point(x0 + dx, y0 + dy))
            if abs(d - target_m) < 20 and (best is None or abs(d - target_m) < best[0]):
                best = (abs(d - target_m), x0 + dx, y0 + dy)
        if best is not None and best[0] < 5:
            break
    assert best is not None
    return Point(*back.transform(best[1], best[2]))


ATTRS = dict(
    linear=False, wastewater=True, air=True, hazardous=False, discharge="sewer",
    key_project=False, red_line_activity="none", facility="none",
    residential_building=False, noise=False,
)  # fmt: skip


def test_shoreline_band_flags_only_projects_its_rule_applies_to(demo_layers):
    pt = _shoreline_point(demo_layers, 1000.0)
    projects = {
        "chemical": {"industry": "C2614", "nature": "new"},
        "restaurant": {"industry": "H6210", "nature": "new"},
        "shipyard": {"industry": "C3731", "nature": "new"},
    }
    rows = [{"id": k, **ATTRS, **v} for k, v in projects.items()]
    gdf = gpd.GeoDataFrame(rows, geometry=[pt] * len(rows), crs=4326)
    res = zoning.screen(gdf, demo_layers)
    rules = res.sites.set_index("site_id")["boundary_rules"]
    assert "yangtze.chemical" in rules["chemical"] and "shoreline 1000 m" in rules["chemical"]
    for other in ("restaurant", "shipyard"):
        assert "shoreline" not in rules[other], rules[other]
    flagged = res.sites.set_index("site_id")["boundary_sensitive"]
    assert bool(flagged["chemical"])
    # a flag always says which rule could change
    assert ((res.sites["boundary_rules"] != "") == res.sites["boundary_sensitive"]).all()


def test_examples_flag_only_where_a_rule_could_change(examples_run):
    _, out = examples_run
    sites = pd.read_csv(out / "sites.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    s = sites.set_index("site_id")
    flagged = set(s.index[s["boundary_sensitive"] == "True"])
    # before: 5 of 21 (baowu steel and the cement grinding station for the shoreline's 3 km
    # tailings band, which applies only to tailings ponds and slag yards; neither has one)
    assert "baowu-steel-expansion" not in flagged
    assert "two-high-cement-grinding" not in flagged
    assert "basic_farmland.occupation" in s.loc["farmland-road", "boundary_rules"]
    assert all(s.loc[f, "boundary_rules"] for f in flagged)
    assert len(flagged) == 3


# ----------------------------------------------------------------------------- times, pages


def test_created_is_shanghai_time(demo_screening):
    created = demo_screening.provenance["created"]
    assert created.endswith("+08:00"), created
    moment = datetime.datetime.fromisoformat(created)
    now = datetime.datetime.now(datetime.UTC)
    assert abs((now - moment).total_seconds()) < 3600


def test_site_page_shows_input_hash_time_and_map_link(tmp_path):
    src = tmp_path / "one.geojson"
    gdf = gpd.read_file(PROJECTS)
    gdf[gdf["id"] == "farmland-factory"].to_file(src, driver="GeoJSON")
    out = tmp_path / "out"
    r = cli("screen", src, "--out", out, "--offline", "--format", "html,csv")
    assert r.exit_code in (0, 1), r.output
    (page,) = (out / "report" / "sites").glob("farmland-factory*.html")
    html = page.read_text(encoding="utf-8")
    assert hashlib.sha256(src.read_bytes()).hexdigest() in html
    assert "one.geojson" in html
    assert re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", html)
    assert "+00:00" not in html
    assert 'href="../map.html#site=farmland-factory"' in html
    # values rounded for reading: m² to 1 (the CSV keeps full precision)
    area = float(pd.read_csv(out / "sites.csv", encoding="utf-8-sig")["area_m2"].iloc[0])
    assert f"{area:,.0f} m²" in html
    assert f"{area:,.1f}" not in html.replace(f"{area:,.0f} m²", "")


def test_number_words_round_for_reading():
    from zoning.report.format import fmt_area, fmt_m, fmt_share

    assert fmt_m(12345.44) == "12,345.4 m"
    assert fmt_m(2.25) == "2.2 m" or fmt_m(2.25) == "2.3 m"
    assert fmt_area(2.6) == "3 m²" and fmt_area(0.2) == "< 1 m²"
    assert fmt_area(12345.6) == "12,346 m² (1.23 ha)"
    assert fmt_share(0.12345) == "12.3 %"


@pytest.mark.browser
def test_map_fragment_focuses_the_site(browser, tmp_path):
    out = tmp_path / "out"
    r = cli("screen", PROJECTS, "--out", out, "--offline", "--format", "html")
    assert r.exit_code in (0, 1), r.output
    url = (out / "report" / "map.html").resolve().as_uri() + "#site=farmland-factory"
    visit = browser.open(url, offline=True)
    visit.page.wait_for_function("() => window.zoningMap && window.zoningMap.ready", timeout=30_000)
    assert visit.page.evaluate("zoningMap.focused") == "farmland-factory"
    center = visit.page.evaluate("[zoningMap.map.getCenter().lng, zoningMap.map.getCenter().lat]")
    assert abs(center[0] - 121.596) < 0.01 and abs(center[1] - 30.883) < 0.01
    assert visit.page.evaluate("zoningMap.map.getZoom()") >= 14
    visit.assert_clean()


# ----------------------------------------------------------------------------- --out-crs


@pytest.mark.parametrize("code", ["EPSG:4490", "EPSG:4528", "EPSG:4549"])
def test_out_crs_gpkg_matches_pyproj(tmp_path, code):
    out = tmp_path / "out"
    r = cli(
        "screen", "--point", "121.47,31.23", "--crs", "EPSG:4326", "--industry", "H6210",
        "--out", out, "--format", "gpkg", "--out-crs", code,
    )  # fmt: skip
    assert r.exit_code in (0, 1), r.output
    gpkg = out / "screening.gpkg"
    for layer in ("sites", "pieces", "rings"):
        info = pyogrio.read_info(gpkg, layer=layer)
        assert pyproj.CRS(info["crs"]).equals(pyproj.CRS(code)), (layer, info["crs"])
    got = pyogrio.read_dataframe(gpkg, layer="sites").geometry.iloc[0]
    want = pyproj.Transformer.from_crs("EPSG:4326", code, always_xy=True).transform(121.47, 31.23)
    tol = 1e-7 if pyproj.CRS(code).is_geographic else 0.01
    assert abs(got.x - want[0]) < tol and abs(got.y - want[1]) < tol


def test_out_crs_default_is_wgs84(tmp_path):
    out = tmp_path / "out"
    r = cli("screen", "--point", "121.47,31.23", "--crs", "EPSG:4326", "--out", out,
            "--format", "gpkg")  # fmt: skip
    assert r.exit_code in (0, 1), r.output
    crs = pyogrio.read_info(out / "screening.gpkg", layer="sites")["crs"]
    assert pyproj.CRS(crs).equals(pyproj.CRS("EPSG:4326"))


@pytest.mark.parametrize("bad", ["EPSG:3857", "EPSG:4555", "gcj02", "nonsense"])
def test_out_crs_refuses_others_in_one_line(tmp_path, bad):
    out = tmp_path / "out"
    r = cli("screen", "--point", "121.47,31.23", "--crs", "EPSG:4326", "--out", out,
            "--format", "gpkg", "--out-crs", bad)  # fmt: skip
    assert r.exit_code == 2
    err = r.stderr if hasattr(r, "stderr") else r.output
    lines = [x for x in err.strip().splitlines() if x]
    assert len(lines) == 1 and "--out-crs" in lines[0] and "4490" in lines[0], err
    assert not out.exists()


def test_python_to_file_out_crs(demo_screening, tmp_path):
    demo_screening.to_file(tmp_path, ["gpkg"], out_crs="EPSG:4549")
    crs = pyogrio.read_info(tmp_path / "screening.gpkg", layer="sites")["crs"]
    assert pyproj.CRS(crs).equals(pyproj.CRS("EPSG:4549"))
    got = pyogrio.read_dataframe(tmp_path / "screening.gpkg", layer="sites")
    want = demo_screening.sites.geometry.to_crs(4549)
    d = shapely.hausdorff_distance(got.geometry.to_numpy(), want.to_numpy())
    assert np.nanmax(d) < 0.01


# ----------------------------------------------------------------------------- removed outputs


def test_rerun_with_fewer_formats_says_what_it_removed(tmp_path, caplog):
    out = tmp_path / "out"
    pt = ("--point", "121.47,31.23", "--crs", "EPSG:4326")
    assert cli("screen", *pt, "--out", out, "--format", "csv,gpkg,json").exit_code in (0, 1)
    with caplog.at_level(logging.INFO, logger="zoning"):
        r = cli("screen", *pt, "--out", out, "--format", "csv")
    assert r.exit_code in (0, 1), r.output
    said = r.output + caplog.text
    assert re.search(
        r"removed .*screening\.gpkg.*screening\.json|removed .*screening\.json.*screening\.gpkg",
        said,
    ), said
    assert not (out / "screening.gpkg").exists()
    # nothing removed: nothing said
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="zoning"):
        r = cli("screen", *pt, "--out", out, "--format", "csv")
    assert "removed" not in r.output + caplog.text


def test_json_provenance_input_hash(tmp_path):
    src = tmp_path / "p.geojson"
    src.write_bytes(PROJECTS.read_bytes())
    out = tmp_path / "out"
    assert cli("screen", src, "--out", out, "--format", "json").exit_code in (0, 1)
    prov = json.loads((out / "screening.json").read_text(encoding="utf-8"))["provenance"]
    assert prov["input"]["sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
    assert prov["created"].endswith("+08:00")
