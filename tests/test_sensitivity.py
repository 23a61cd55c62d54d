"""Site-level boundary sensitivity, the rule-distance band and the per-site totals.

A hand-made world: a district, an urban development boundary (tolerance 500 m), a straight
shoreline (tolerance 200 m) with a 1 km rule for chemical projects, a water layer that no rule
reads (tolerance 100 m), and two overlapping constraint layers.  Sites are placed at known
geodesic distances with ``pyproj.Geod.fwd``; expected distances come from ``pyproj.Geod``,
expected areas from ``Geod.geometry_area_perimeter`` on hand-built polygons.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
import yaml
from shapely.geometry import LineString, Point, box

import zoning
from conftest import write_catalog

GEOD = pyproj.Geod(ellps="WGS84")
REL = 1e-4

DISTRICT = box(121.00, 31.00, 121.40, 31.30)
#: The development boundary: the western half; its east edge is the meridian 121.20.
DEV = box(121.00, 31.00, 121.20, 31.30)
#: A north-south shoreline on the meridian 121.30 (a line layer).
SHORE = LineString([(121.30, 31.05), (121.30, 31.25)])
#: A water body no rule reads, its west edge on the meridian 121.10.
WATER = box(121.10, 31.20, 121.12, 31.22)
#: Two overlapping constraint layers (red line and farmland) with a known common part.
RED = box(121.02, 31.02, 121.04, 31.04)
FARM = box(121.03, 31.02, 121.05, 31.04)

RULES = {
    "id": "sens_rules",
    "version": "1",
    "title": "rules for the sensitivity tests",
    "status": "authoritative",
    "documents": {"law": {"title": "测试法", "issuer": "测试机关", "date": "2020-01-01"}},
    "rules": [
        {
            "id": "dev.outside",
            "applies_to": {"kind": "development_boundary", "relation": "outside"},
            "when": {"nature": ["new"]},
            "dimension": "空间布局约束",
            "verdict": "restricted",
            "citation": {"document": "law", "article": "第一条"},
            "message": {"zh": "边界外", "en": "outside the boundary"},
        },
        {
            "id": "shore.chemical",
            "applies_to": {"kind": "shoreline", "relation": "within", "distance_m": 1000},
            "when": {"industry": ["26"], "nature": ["new", "expansion"]},
            "dimension": "空间布局约束",
            "verdict": "prohibited",
            "citation": {"document": "law", "article": "第二条"},
            "message": {"zh": "岸线一公里内禁止", "en": "no chemicals within 1 km"},
        },
        {
            "id": "red.any",
            "applies_to": {"kind": "red_line"},
            "dimension": "空间布局约束",
            "verdict": "prohibited",
            "citation": {"document": "law", "article": "第三条"},
            "message": {"zh": "红线", "en": "red line"},
        },
        {
            "id": "farm.any",
            "applies_to": {"kind": "basic_farmland"},
            "dimension": "空间布局约束",
            "verdict": "restricted",
            "citation": {"document": "law", "article": "第四条"},
            "message": {"zh": "农田", "en": "farmland"},
        },
    ],
}


def _layer(folder: Path, stem: str, geom) -> str:
    gpd.GeoDataFrame({"fid_": [f"{stem}1"]}, geometry=[geom], crs=4326).to_file(
        folder / f"{stem}.gpkg"
    )
    return f"{stem}.gpkg"


@pytest.fixture(scope="module")
def sens_world(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sens")
    prov = {"status": "authoritative", "source": "hand-made", "vintage": "2024"}
    layers = [
        {"id": "d", "kind": "district", "source": _layer(folder, "D", DISTRICT)},
        {
            "id": "dev",
            "kind": "development_boundary",
            "source": _layer(folder, "B", DEV),
            "positional_tolerance_m": 500,
        },
        {
            "id": "shore",
            "kind": "shoreline",
            "source": _layer(folder, "S", SHORE),
            "positional_tolerance_m": 200,
            "buffer_rings_m": [1000, 3000],
        },
        {
            "id": "water",
            "kind": "water",
            "source": _layer(folder, "W", WATER),
            "positional_tolerance_m": 100,
        },
        {"id": "red", "kind": "red_line", "source": _layer(folder, "R", RED)},
        {"id": "farm", "kind": "basic_farmland", "source": _layer(folder, "F", FARM)},
    ]
    for e in layers:
        e["provenance"] = prov
    catalog = write_catalog(folder / "catalog.yml", layers, version="1", title="sens")
    rules = folder / "rules.yml"
    rules.write_text(yaml.safe_dump(RULES, allow_unicode=True), "utf-8")
    return zoning.load_catalog(catalog), zoning.load_rules(rules)


def east_of(lon: float, lat: float, d: float) -> Point:
    """The point ``d`` metres east (azimuth 90) of (lon, lat) — geodesic."""
    x, y, _ = GEOD.fwd(lon, lat, 90.0, d)
    return Point(x, y)


def run(world, geoms, **attrs):
    layers, rules = world
    gdf = gpd.GeoDataFrame(
        {"id": [f"s{i}" for i in range(len(geoms))], **attrs}, geometry=geoms, crs=4326
    )
    return zoning.screen(gdf, layers, rules=rules)


# ---------------------------------------------------------------------------- item 1 (review)


def test_development_boundary_within_its_tolerance_makes_the_site_sensitive(sens_world):
    """100 m inside the development boundary (tolerance 500 m): boundary-sensitive, although
    the boundary is a context layer; 300 m from a water body no rule reads: not."""
    inside_dev = east_of(121.20, 31.15, -100.0)  # 100 m west of the boundary, inside it
    near_water = east_of(121.10, 31.21, -50.0)  # 50 m west of the water body, 10 km inside dev
    far = east_of(121.20, 31.15, -5000.0)
    res = run(sens_world, [inside_dev, near_water, far], industry="H6210", nature="new")
    s = res.sites.set_index("site_id")
    assert s["verdict"].to_dict() == {"s0": "permitted", "s1": "permitted", "s2": "permitted"}
    assert s["boundary_sensitive"].to_dict() == {"s0": True, "s1": False, "s2": False}
    # the per-layer flags are kept: the water layer's own flag says it is near
    summary = res.layer_summary
    water = summary[(summary.layer_id == "water") & (summary.site_id == "s1")].iloc[0]
    assert bool(water.boundary_sensitive) and water.distance_m == pytest.approx(50.0, rel=1e-3)
    dev = summary[(summary.layer_id == "dev") & (summary.site_id == "s0")].iloc[0]
    assert bool(dev.boundary_sensitive)


# ---------------------------------------------------------------------------- item 2 (review)


@pytest.mark.parametrize(
    ("d", "verdict", "sensitive"),
    [
        (700.0, "prohibited", False),
        (900.0, "prohibited", True),
        (999.0, "prohibited", True),
        (1054.0, "permitted", True),
        (1190.0, "permitted", True),
        (1260.0, "permitted", False),
    ],
)
def test_rule_distance_band_respects_the_layer_tolerance(sens_world, d, verdict, sensitive):
    site = east_of(121.30, 31.15, d)
    res = run(sens_world, [site], industry="C2614", nature="expansion")
    row = res.sites.iloc[0]
    assert row["verdict"] == verdict
    assert bool(row["boundary_sensitive"]) is sensitive
    hits = res.hits[res.hits.layer_id == "shore"]
    # the default search reaches 1000 m + the 200 m tolerance: a site at 1054 m sees it
    if d <= 1200.0:
        assert len(hits) == 1
        want = GEOD.inv(site.x, site.y, 121.30, 31.15)[2]
        assert hits.iloc[0]["distance_m"] == pytest.approx(want, rel=REL)
        assert bool(hits.iloc[0]["boundary_sensitive"]) is sensitive
    reasons = res.reasons[res.reasons.rule_id == "shore.chemical"]
    if verdict == "prohibited":
        text = str(reasons.iloc[0]["assumptions"])
        if sensitive:
            assert "positional tolerance (200 m)" in text and "1000 m threshold" in text
        else:
            assert "tolerance" not in text
    else:
        assert reasons.empty


def test_default_search_radius_reaches_rule_distance_plus_tolerance(sens_world):
    layers, rules = sens_world
    res = zoning.screen(
        gpd.GeoDataFrame(geometry=[east_of(121.30, 31.15, 1100.0)], crs=4326),
        layers,
        rules=rules,
    )
    assert res.provenance["search_radius_m"] >= 1200.0


def test_band_tolerance_adds_the_conversion_uncertainty(sens_world):
    """A GCJ-02 point: its conversion uncertainty widens the band."""
    layers, rules = sens_world
    wgs = east_of(121.30, 31.15, 1205.0)  # 5 m beyond the tolerance for WGS84 input
    plain = zoning.screen(
        points=[(wgs.x, wgs.y)], crs="EPSG:4326", layers=layers, rules=rules,
        attributes={"industry": "C2614", "nature": "expansion"},
    )  # fmt: skip
    assert not bool(plain.sites.iloc[0]["boundary_sensitive"])
    from zoning import crs as zcrs

    gx, gy = zcrs.wgs84_to_gcj02(np.array([wgs.x]), np.array([wgs.y]))
    gcj = zoning.screen(
        points=[(float(gx[0]), float(gy[0]))], crs="gcj02", layers=layers, rules=rules,
        attributes={"industry": "C2614", "nature": "expansion"},
    )  # fmt: skip
    row = gcj.sites.iloc[0]
    assert row["uncertainty_m"] > 5.0
    assert bool(row["boundary_sensitive"])
    assert row["verdict"] == "permitted"


def test_band_sensitivity_is_the_same_on_the_fast_path(sens_world):
    """Many sites with one set of attributes (rules run once per situation): each gets the
    note and the flag of its own distance."""
    ds = [700.0, 900.0, 950.0, 1100.0, 1300.0, 600.0, 905.0]
    sites = [east_of(121.30, 31.10 + 0.01 * i, d) for i, d in enumerate(ds)]
    res = run(sens_world, sites, industry="C2614", nature="expansion")
    got = res.sites["boundary_sensitive"].tolist()
    assert got == [abs(d - 1000.0) <= 200.0 for d in ds]
    r = res.reasons[res.reasons.rule_id == "shore.chemical"].set_index("site_id")
    noted = {sid: "tolerance" in str(t) for sid, t in r["assumptions"].items()}
    assert noted == {f"s{i}": abs(d - 1000.0) <= 200.0 for i, d in enumerate(ds) if d <= 1000.0}


# ----------------------------------------------------------------------- items 10, 11 (review)


def geod_area(geom) -> float:
    return abs(GEOD.geometry_area_perimeter(shapely.segmentize(geom, 0.0005))[0])


@pytest.mark.parametrize("pieces", [True, False])
def test_overlap_totals_count_shared_ground_once(sens_world, pieces):
    """A square over the red line and the farmland, which overlap: the total is the union,
    not the sum; a line across both likewise."""
    layers, rules = sens_world
    square = box(121.025, 31.025, 121.045, 31.035)
    line = LineString([(121.025, 31.03), (121.045, 31.03)])
    one = box(121.021, 31.025, 121.029, 31.035)  # in the red line only
    res = zoning.screen(
        gpd.GeoDataFrame({"id": ["sq", "ln", "one"]}, geometry=[square, line, one], crs=4326),
        layers, rules=rules, pieces=pieces,
    )  # fmt: skip
    s = res.sites.set_index("site_id")
    # every point of the square lies in one layer or both
    assert s.loc["sq", "overlap_m2_total"] == pytest.approx(geod_area(square), rel=REL)
    summary = res.layer_summary.set_index(["site_id", "layer_id"])
    per_layer = summary.loc[("sq", "red"), "overlap_m2"] + summary.loc[("sq", "farm"), "overlap_m2"]
    assert per_layer > 1.4 * geod_area(square)  # the old sum: shared ground twice
    want = GEOD.inv(121.025, 31.03, 121.045, 31.03)[2]
    assert s.loc["ln", "overlap_length_m_total"] == pytest.approx(want, rel=REL)
    red = box(121.021, 31.025, 121.029, 31.035)
    assert s.loc["one", "overlap_m2_total"] == pytest.approx(geod_area(red), rel=REL)
    assert s.loc["sq", "n_constraints"] == 2 and s.loc["one", "n_constraints"] == 1


def test_shoreline_counts_as_a_constraint_within_its_rule_distance(sens_world):
    """The shoreline is a constraint "hit" within the 1 km rule distance and the nearest
    constraint; the water layer, which no rule reads, is neither."""
    near = east_of(121.30, 31.15, 600.0)
    beyond = east_of(121.30, 31.15, 1100.0)
    by_water = east_of(121.10, 31.21, -50.0)
    res = run(sens_world, [near, beyond, by_water], industry="C2614", nature="expansion")
    s = res.sites.set_index("site_id")
    assert s.loc["s0", "verdict"] == "prohibited"
    assert s["n_constraints"].to_dict() == {"s0": 1, "s1": 0, "s2": 0}
    assert s.loc["s0", "nearest_m"] == pytest.approx(
        GEOD.inv(near.x, near.y, 121.30, 31.15)[2], rel=REL
    )
    assert s.loc["s1", "nearest_m"] == pytest.approx(
        GEOD.inv(beyond.x, beyond.y, 121.30, 31.15)[2], rel=REL
    )
    assert np.isnan(s.loc["s2", "nearest_m"])  # water (50 m away) is not a constraint
