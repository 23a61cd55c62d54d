"""The bundled example projects (layers/examples/) get the outcomes they document.

Oracles independent of the code under test:

* the expectations are written in the example files (and explained in their ``why`` texts);
* geometry claims (inside by more than the tolerance, distance to the Yangtze shoreline, length
  crossed) are re-measured here with geopandas in UTM zone 51N (EPSG:32651) on the GeoPackage
  read directly, not through ``zoning``'s working CRS, layer reader or overlay engine;
* the GCJ-02 conversion is checked against the independent ``prcoords`` package and geodesic
  distances from ``pyproj.Geod``.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import math
import shutil

import geopandas as gpd
import numpy as np
import prcoords
import pyproj
import pytest
import shapely
from click.testing import CliRunner

import zoning
from conftest import REPO
from zoning.cli import main
from zoning.errors import SitesError
from zoning.examples import (
    AMAP_GCJ02,
    EXAMPLES_DIR,
    PROJECTS,
    ROUTES,
    ExamplesError,
    load_amap_example,
    load_examples,
    load_route_examples,
    run_examples,
)
from zoning.rules import SEVERITY, STATUSES, VERDICTS, load_rules
from zoning.sites import NATURES, parse_industry_code

HERE = REPO / "layers" / "examples"
GPKG = REPO / "layers" / "shanghai_demo.gpkg"
UTM = "EPSG:32651"
GEOD = pyproj.Geod(ellps="WGS84")

EXAMPLES = load_examples()
ROUTE_EXAMPLES = load_route_examples()

#: Examples whose documented outcome exposes a bug elsewhere: (example id, check) -> reason.
KNOWN_BUGS: dict[tuple[str, str], str] = {}


def _params(check: str):
    out = []
    for e in EXAMPLES:
        reason = KNOWN_BUGS.get((e.id, check))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(e, id=e.id, marks=marks))
    return out


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def utm_layers():
    """The demonstration layers read straight from the GeoPackage, in UTM 51N."""
    out = {}
    for name in (
        "red_line",
        "water_source_zones",
        "nature_reserves",
        "nature_reserves_2026",
        "basic_farmland",
        "development_boundary",
        "control_units",
        "shoreline",
        "water",
        "heritage_sites",
        "noise_sensitive_areas",
    ):
        out[name] = gpd.read_file(GPKG, layer=name).to_crs(UTM)
    return out


def _utm(geoms_ll):
    """WGS84 geometries -> UTM 51N, edges densified to 0.001 degree first."""
    g = gpd.GeoSeries(shapely.segmentize(np.asarray(geoms_ll, dtype=object), 0.001), crs=4326)
    return g.to_crs(UTM)


def _build_module():
    """layers/examples/build_examples.py as a module (it is a script, not part of the package)."""
    import sys

    name = "zoning_examples_build"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, HERE / "build_examples.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while the class is built
        spec.loader.exec_module(module)
    return sys.modules[name]


def _raw_features(path):
    return json.loads(path.read_text(encoding="utf-8"))["features"]


# --------------------------------------------------------------------------- the files


def test_examples_folder_is_the_bundled_one():
    assert EXAMPLES_DIR.resolve() == HERE.resolve()
    for path in (PROJECTS, AMAP_GCJ02, ROUTES, HERE / "README.md", HERE / "build_examples.py"):
        assert path.is_file(), path


def test_projects_file_validates():
    rules = load_rules()
    feats = _raw_features(PROJECTS)
    assert 18 <= len(feats) <= 25
    ids = [f["properties"]["id"] for f in feats]
    assert len(ids) == len(set(ids)), "duplicate ids"
    types = {f["geometry"]["type"] for f in feats}
    assert {"Point", "LineString", "Polygon"} <= types
    for f in feats:
        p = f["properties"]
        where = p.get("id")
        for key in ("id", "name", "name_en", "industry", "nature", "why_zh", "why_en"):
            assert isinstance(p.get(key), str) and p[key].strip(), (where, key)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in p["name"]), (where, "name is Chinese")
        assert p["nature"] in NATURES, where
        parse_industry_code(p["industry"])  # a GB/T 4754-2017 code, as text
        for flag in ("linear", "wastewater", "air", "hazardous"):
            assert isinstance(p.get(flag), bool), (where, flag)
        assert p["expected_verdict"] in VERDICTS, where
        assert isinstance(p["expected_rules"], list) and isinstance(p["absent_rules"], list)
        for rule_id in p["expected_rules"] + p["absent_rules"]:
            rules.rule(rule_id)  # KeyError for a rule id the rule set does not have
        assert not set(p["expected_rules"]) & set(p["absent_rules"]), where
        for status in p.get("expected_status", []):
            assert status in STATUSES, where
        # Every example names the rules that decide it, or says why none does.
        if p["expected_verdict"] == "unknown":
            assert p["expected_status"], where
        elif p["expected_verdict"] != "permitted":
            assert p["expected_rules"], where
            for rule_id in p["expected_rules"]:
                assert rule_id in p["why_en"] and rule_id in p["why_zh"], (where, rule_id)
        coords = shapely.get_coordinates(shapely.geometry.shape(f["geometry"]))
        assert np.all(coords == np.round(coords, 6)), (where, "rounded to 1e-6 degree")
        assert np.all((coords[:, 0] > 119) & (coords[:, 0] < 123)), where  # lon first
        assert np.all((coords[:, 1] > 30) & (coords[:, 1] < 32.5)), where
    assert [e.id for e in EXAMPLES] == ids


def test_every_verdict_level_is_exemplified():
    assert {e.expected_verdict for e in EXAMPLES} == set(VERDICTS)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda fs: fs[1]["properties"].update(id=fs[0]["properties"]["id"]), ["duplicate"]),
        (lambda fs: fs[2]["properties"].pop("expected_verdict"), ["feature 3", "expected"]),
        (lambda fs: fs[0]["properties"].update(expected_verdict="forbidden"), ["feature 1"]),
        (lambda fs: fs[4]["properties"].update(expected_rules="x;"), []),
        (lambda fs: fs[4]["properties"].update(expected_rules=[3]), ["feature 5", "rule ids"]),
        (lambda fs: fs[3]["properties"].update(why_en=""), ["feature 4", "why_en"]),
    ],
)
def test_load_examples_rejects_bad_files(tmp_path, change, words):
    data = json.loads(PROJECTS.read_text(encoding="utf-8"))
    change(data["features"])
    path = tmp_path / "projects.geojson"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    if not words:  # a ';'-separated string is accepted (as in the CSV)
        assert load_examples(path)[4].expected_rules == ("x",)
        return
    with pytest.raises(ExamplesError) as info:
        load_examples(path)
    assert str(path) in str(info.value)
    for word in words:
        assert word in str(info.value)


def test_load_examples_missing_or_broken_file(tmp_path):
    with pytest.raises(ExamplesError, match="not found"):
        load_examples(tmp_path / "none.geojson")
    (tmp_path / "bad.geojson").write_text("{not json", encoding="utf-8")
    with pytest.raises(ExamplesError, match=r"bad\.geojson"):
        load_examples(tmp_path / "bad.geojson")


def test_readme_tables_match_the_files():
    build = _build_module()
    texts = [(HERE / n).read_text(encoding="utf-8") for n in (PROJECTS.name, AMAP_GCJ02.name)]
    tables = build.readme_tables(*texts, ROUTES.read_text(encoding="utf-8"))
    readme = (HERE / "README.md").read_text(encoding="utf-8")
    assert tables in readme
    assert "DEMONSTRATION" in readme.split("\n## ")[0]  # stated before the first section
    for e in EXAMPLES:
        assert f"`{e.id}`" in readme


# --------------------------------------------------------------------------- projects


@pytest.mark.parametrize("example", _params("verdict"))
def test_example_gets_its_verdict(demo_screening, example):
    site = demo_screening.sites.set_index("site_id").loc[example.id]
    assert site["verdict"] == example.expected_verdict, site["reasons_en"]


@pytest.mark.parametrize("example", _params("expected_rules"))
def test_example_gives_its_deciding_rules(demo_screening, example):
    mine = demo_screening.reasons[demo_screening.reasons["site_id"] == example.id]
    fired = set(mine["rule_id"].dropna())
    assert set(example.expected_rules) <= fired, sorted(fired)
    assert set(example.expected_status) <= set(mine["status"]), sorted(set(mine["status"]))
    # The deciding rules carry the verdict: the most severe of them is the site's verdict.
    if example.expected_rules:
        decided = mine[mine["rule_id"].isin(example.expected_rules)]["verdict"]
        assert max(decided, key=SEVERITY.get) == example.expected_verdict


@pytest.mark.parametrize("example", _params("absent_rules"))
def test_example_does_not_give_rules_its_why_rules_out(demo_screening, example):
    mine = demo_screening.reasons[demo_screening.reasons["site_id"] == example.id]
    assert not set(example.absent_rules) & set(mine["rule_id"].dropna())


def test_verdicts_are_not_accidents_of_a_boundary(utm_layers):
    """Independently of the build script: every site clears every boundary by its tolerance.

    Inside a feature by more than the layer's tolerance, farther than the tolerance from it,
    or (lines) crossing its inward buffer; chemical projects differ from 1 km to the Yangtze
    shoreline by more than the shoreline's tolerance.  Measured in UTM 51N.
    """
    catalog = zoning.read_catalog()
    ruled = (
        "red_line",
        "water_source_zones",
        "nature_reserves_2026",
        "basic_farmland",
        "development_boundary",
        "control_units",
        "heritage_sites",
        "noise_sensitive_areas",
    )
    feats = _raw_features(PROJECTS)
    geoms = _utm([shapely.geometry.shape(f["geometry"]) for f in feats])
    shore = utm_layers["shoreline"].union_all()
    shore_tol = catalog.by_id("yangtze_shoreline").positional_tolerance_m
    checked = 0
    for f, g in zip(feats, geoms, strict=True):
        p = f["properties"]
        if p["expected_verdict"] == "unknown":
            continue
        for layer in ruled:
            t = catalog.by_id(layer).positional_tolerance_m
            gdf = utm_layers[layer]
            near = gdf[gdf.distance(g) <= t]
            for fg in near.geometry:
                inner = fg.buffer(-t)
                ok = g.within(inner) or (g.geom_type == "LineString" and g.intersects(inner))
                assert ok, (p["id"], layer, "within the tolerance of a boundary")
                checked += 1
        if p["industry"][1:3] == "26":
            d = shore.distance(g)
            assert abs(d - 1000) > shore_tol, (p["id"], d)
    assert checked > 30


def test_yangtze_band_by_independent_distance(demo_screening, utm_layers):
    shore = utm_layers["shoreline"].union_all()
    by_id = {f["properties"]["id"]: f for f in _raw_features(PROJECTS)}
    near = _utm([shapely.geometry.shape(by_id["yangtze-chemical"]["geometry"])])[0]
    far = _utm([shapely.geometry.shape(by_id["scip-chemical"]["geometry"])])[0]
    assert 200 < shore.distance(near) < 800  # inside 1 km, not by an accident of 200 m
    assert shore.distance(far) > 5000
    # The engine reports the same distance (its own working CRS) within a metre.
    h = demo_screening.hits
    d = h[(h.site_id == "yangtze-chemical") & (h.layer_id == "yangtze_shoreline")]["distance_m"]
    assert abs(float(d.min()) - shore.distance(near)) < 1.0


# --------------------------------------------------------------------------- Amap GCJ-02


@pytest.fixture(scope="module")
def amap():
    return load_amap_example()


def test_amap_file_validates(amap):
    with open(AMAP_GCJ02, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 1
    assert amap.gcj02.expected_verdict != amap.as_wgs84.expected_verdict
    assert "red_line.construction" in amap.gcj02.absent_rules
    assert "red_line.construction" in amap.as_wgs84.expected_rules


def test_amap_site_read_as_gcj02(demo_layers, amap):
    res = zoning.screen(AMAP_GCJ02, demo_layers, crs="gcj02")
    site = res.sites.iloc[0]
    fired = set(res.reasons["rule_id"].dropna())
    assert site["verdict"] == amap.gcj02.expected_verdict
    assert set(amap.gcj02.expected_rules) <= fired
    assert not set(amap.gcj02.absent_rules) & fired
    assert bool(site["boundary_sensitive"])
    # The conversion, against prcoords (an independent GCJ-02 implementation).
    wgs = prcoords.gcj_wgs_bored(prcoords.Coords(amap.lat, amap.lon))
    shift = GEOD.inv(amap.lon, amap.lat, wgs.lon, wgs.lat)[2]
    assert 300 < shift < 600  # the Shanghai GCJ-02 shift
    assert abs(site["datum_shift_m"] - shift) < 1.0
    converted = res.sites.to_crs(4326).geometry.iloc[0]
    assert GEOD.inv(converted.x, converted.y, wgs.lon, wgs.lat)[2] < 0.5
    # About 300 m outside the red line (UTM, on the prcoords position), inside its tolerance.
    red = gpd.read_file(GPKG, layer="red_line").to_crs(UTM)
    true_site = _utm([shapely.Point(wgs.lon, wgs.lat)])[0]
    assert not red.intersects(true_site).any()
    d = float(red.distance(true_site).min())
    tolerance = zoning.read_catalog().by_id("red_line").positional_tolerance_m
    assert 280 < d < 320 and d < tolerance
    # The engine measures the same distance and flags the red line as boundary-sensitive.
    h = res.hits[res.hits["layer_id"] == "red_line"]
    assert abs(float(h["distance_m"].min()) - d) < 1.0
    assert h.loc[h["distance_m"].idxmin(), "boundary_sensitive"]


def test_amap_site_misread_as_wgs84(demo_layers, amap):
    # Undeclared, the numbers are not guessed at: an error naming the choices.
    with pytest.raises(SitesError, match=r"amap_gcj02\.csv.*no CRS and none declared.*gcj02"):
        zoning.screen(AMAP_GCJ02, demo_layers)
    res = zoning.screen(AMAP_GCJ02, demo_layers, crs="EPSG:4326")  # the numbers declared WGS84
    site = res.sites.iloc[0]
    assert site["verdict"] == amap.as_wgs84.expected_verdict
    assert set(amap.as_wgs84.expected_rules) <= set(res.reasons["rule_id"].dropna())
    # Independently: the misread point lies inside the red line, ~480 m from the true site.
    red = gpd.read_file(GPKG, layer="red_line").to_crs(UTM)
    misread = _utm([shapely.Point(amap.lon, amap.lat)])[0]
    assert red.contains(misread).any()
    wgs = prcoords.gcj_wgs_bored(prcoords.Coords(amap.lat, amap.lon))
    assert 400 < GEOD.inv(amap.lon, amap.lat, wgs.lon, wgs.lat)[2] < 600


# --------------------------------------------------------------------------- alternatives


@pytest.fixture(scope="module")
def routes(demo_layers):
    return zoning.compare_alternatives(ROUTES, demo_layers)


def test_route_file_validates():
    ranks = sorted(r.expected_rank for r in ROUTE_EXAMPLES)
    assert 3 <= len(ROUTE_EXAMPLES) <= 4
    assert ranks == list(range(1, len(ranks) + 1))
    feats = _raw_features(ROUTES)
    assert {f["geometry"]["type"] for f in feats} == {"LineString"}
    starts = {tuple(f["geometry"]["coordinates"][0]) for f in feats}
    ends = {tuple(f["geometry"]["coordinates"][-1]) for f in feats}
    assert len(starts) == 1 and len(ends) == 1  # alternatives of one route: same two ends
    assert {f["properties"]["industry"] for f in feats} == {"D4511"}


def test_alternatives_rank_as_documented(routes):
    ranking = routes.ranking
    expected = [r.id for r in sorted(ROUTE_EXAMPLES, key=lambda r: r.expected_rank)]
    assert list(ranking["site_id"]) == expected
    assert list(ranking["rank"]) == list(range(1, len(expected) + 1))  # no ties
    by_id = ranking.set_index("site_id")
    fired = routes.reasons.groupby("site_id")["rule_id"].agg(lambda s: set(s.dropna()))
    for r in ROUTE_EXAMPLES:
        assert by_id.at[r.id, "verdict"] == r.example.expected_verdict, r.id
        assert set(r.example.expected_rules) <= fired.get(r.id, set()), r.id


def test_alternatives_constrained_length_by_independent_measure(routes, utm_layers):
    """The lengths that order the alternatives of one verdict, re-measured in UTM: the length
    of each route inside the union of the constraint layers (the layers some rule reads, less
    the context layers -- development boundary, control units, districts, sea; rivers and
    lakes count since 长江保护法 art. 49 reads them), shared ground counted once."""
    feats = _raw_features(ROUTES)
    lines = _utm([shapely.geometry.shape(f["geometry"]) for f in feats])
    constraint = ("red_line", "water_source_zones", "basic_farmland", "nature_reserves", "water")
    union = shapely.union_all([utm_layers[k].union_all() for k in constraint])
    by_id = routes.ranking.set_index("site_id")
    measured = {}
    for f, line in zip(feats, lines, strict=True):
        length = line.intersection(union).length
        measured[f["properties"]["id"]] = length
        got = by_id.at[f["properties"]["id"], "constrained_length_m"]
        assert math.isclose(got, length, rel_tol=2e-3, abs_tol=2.0), (f["properties"]["id"], got)
    # Among the prohibited ones the shorter constrained length ranks first, by a clear margin.
    assert measured["route-a-reservoir"] - measured["route-d-farmland"] > 500


# --------------------------------------------------------------------------- run_examples / demo


def test_run_examples_reports_a_departure(tmp_path, demo_layers):
    folder = tmp_path / "examples"
    shutil.copytree(HERE, folder)
    data = json.loads((folder / "projects.geojson").read_text(encoding="utf-8"))
    for f in data["features"]:
        if f["properties"]["id"] == "huangpu-restaurant":
            f["properties"]["expected_verdict"] = "permitted"
    (folder / "projects.geojson").write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    run = run_examples(demo_layers, folder=folder)
    assert not run.ok
    [m] = run.outcome_mismatches
    assert (m.id, m.what, m.expected, m.got) == (
        "huangpu-restaurant",
        "verdict",
        "permitted",
        "prohibited",
    )


@pytest.mark.slow
def test_demo_writes_everything(tmp_path):
    out = tmp_path / "demo"
    res = CliRunner().invoke(main, ["demo", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "DEMONSTRATION" in res.output
    assert "every example got its documented verdict and rank" in res.output
    for name in ("layers_check.txt", "layers_check.json", "indicators.csv", "indicators.html"):
        assert (out / name).is_file(), name
    for sub in ("screening", "screening_gcj02"):
        for name in ("sites.csv", "hits.csv", "screening.gpkg", "screening.json"):
            assert (out / sub / name).is_file(), (sub, name)
        page = (out / sub / "report" / "index.html").read_text(encoding="utf-8")
        assert "DEMONSTRATION" in page or "演示" in page
    assert (out / "compare" / "ranking.csv").is_file()
    assert (out / "compare" / "report" / "index.html").is_file()
    # No temporary folders left behind (only each screening's list of the files it wrote).
    hidden = [p for p in out.rglob(".*") if p.name != ".zoning-screen.json"]
    assert not hidden, hidden
    assert all((out / d / ".zoning-screen.json").is_file() for d in ("screening", "compare"))
    # The written tables hold the documented outcomes.
    with open(out / "screening" / "sites.csv", encoding="utf-8-sig") as fh:
        rows = {r["site_id"]: r["verdict"] for r in csv.DictReader(fh)}
    assert rows == {e.id: e.expected_verdict for e in EXAMPLES}
    with open(out / "screening_gcj02" / "sites.csv", encoding="utf-8-sig") as fh:
        [row] = list(csv.DictReader(fh))
    assert row["verdict"] == load_amap_example().gcj02.expected_verdict
    with open(out / "compare" / "ranking.csv", encoding="utf-8-sig") as fh:
        ranked = [r["site_id"] for r in csv.DictReader(fh)]
    assert ranked == [r.id for r in sorted(ROUTE_EXAMPLES, key=lambda r: r.expected_rank)]


def test_demo_with_broken_examples_writes_nothing(tmp_path, monkeypatch):
    import zoning.examples as examples

    broken = tmp_path / "examples"
    broken.mkdir()
    (broken / "projects.geojson").write_text('{"type": "FeatureCollection"}', encoding="utf-8")
    monkeypatch.setattr(examples, "PROJECTS", broken / "projects.geojson")
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["demo", "--out", str(out)])
    assert res.exit_code == 2
    assert "Traceback" not in res.output
    lines = [ln for ln in res.output.strip().splitlines() if ln]
    assert len(lines) == 1 and "projects.geojson" in lines[0], res.output
    assert not out.exists()


def test_demo_refuses_user_files_before_writing_anything(tmp_path):
    # A file of the user inside the folder the demo's screening report goes to: one line,
    # exit 2, before any work -- no other file of the demo written.
    out = tmp_path / "demo"
    (out / "screening" / "report").mkdir(parents=True)
    mine = out / "screening" / "report" / "mine.docx"
    mine.write_bytes(b"x")
    res = CliRunner().invoke(main, ["demo", "--out", str(out)])
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.output.strip().splitlines() if ln]
    assert len(lines) == 1 and "mine.docx" in lines[0], res.output
    assert mine.read_bytes() == b"x"
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == [
        "screening",
        "screening/report",
        "screening/report/mine.docx",
    ]


@pytest.mark.slow
def test_build_is_deterministic_and_matches_the_committed_files(tmp_path):
    build = _build_module()
    shutil.copy(HERE / "README.md", tmp_path / "README.md")
    assert build.main(["--out-dir", str(tmp_path)]) == 0
    for name in ("projects.geojson", "amap_gcj02.csv", "route_alternatives.geojson", "README.md"):
        assert (tmp_path / name).read_bytes() == (HERE / name).read_bytes(), name
