"""Layer checks on hand-made layers; expected areas from pyproj.Geod (independent of the code)."""

from __future__ import annotations

import geopandas as gpd
import pyproj
import pytest
import shapely
from shapely.geometry import box

from conftest import write_catalog
from zoning.checks import check_layers
from zoning.layerset import load_catalog

GEOD = pyproj.Geod(ellps="WGS84")


def km2(geom) -> float:
    # Edges of a lon/lat file are straight in lon/lat: densify before the geodesic measurement.
    return abs(GEOD.geometry_area_perimeter(shapely.segmentize(geom, 0.0005))[0]) / 1e6


DIST_A = box(121.0, 31.0, 121.1, 31.1)
DIST_B = box(121.1, 31.0, 121.2, 31.1)
SEA = box(121.2, 31.0, 121.3, 31.1)
GOOD_UNITS = [box(121.0, 31.0, 121.05, 31.1), box(121.05, 31.0, 121.1, 31.1), DIST_B, SEA]
# unit 1 shrinks (a gap 121.04-121.05) and unit 3 grows west (overlap 121.09-121.10 with unit 2)
BROKEN_UNITS = [
    box(121.0, 31.0, 121.04, 31.1),
    box(121.05, 31.0, 121.1, 31.1),
    box(121.09, 31.0, 121.2, 31.1),
    SEA,
]
GAP = box(121.04, 31.0, 121.05, 31.1)
OVERLAP = box(121.09, 31.0, 121.1, 31.1)
RED = box(121.0, 31.0, 121.02, 31.02)
UDB = box(121.01, 31.01, 121.05, 31.05)
FARM = box(121.1, 31.0, 121.12, 31.02)


def layer_file(tmp_path, name, geoms, **cols):
    path = tmp_path / f"{name}.gpkg"
    data = {"fid_": [f"{name}{i + 1}" for i in range(len(geoms))], **cols}
    gpd.GeoDataFrame(data, geometry=geoms, crs=4326).to_file(path)
    return path.name


def make_catalog(tmp_path, units, red_total=None):
    cats = [("priority" if i == 0 else "general") for i in range(len(units))]
    layers = [
        {
            "id": "districts",
            "kind": "district",
            "source": layer_file(tmp_path, "d", [DIST_A, DIST_B]),
        },
        {"id": "sea", "kind": "sea_area", "source": layer_file(tmp_path, "s", [SEA])},
        {
            "id": "units",
            "kind": "control_unit",
            "source": layer_file(tmp_path, "u", units, cat=cats),
            "fields": {"id": "fid_", "category": "cat"},
            "official_count": 4,
            "official_subcounts": {"by": "cat", "values": {"priority": 1}},
        },
        {
            "id": "red",
            "kind": "red_line",
            "source": layer_file(tmp_path, "r", [RED], realm=["land"]),
            "official_total_km2": red_total if red_total is not None else round(km2(RED), 4),
            "official_subtotals_km2": {"by": "realm", "values": {"land": round(km2(RED), 4)}},
        },
        {"id": "udb", "kind": "development_boundary", "source": layer_file(tmp_path, "b", [UDB])},
        {"id": "farm", "kind": "basic_farmland", "source": layer_file(tmp_path, "f", [FARM])},
    ]
    return write_catalog(tmp_path / "catalog.yml", layers)


def by_check(result, name):
    return [c for c in result.checks if c.check == name]


def test_good_tiling_passes_and_totals_match(tmp_path):
    result = check_layers(load_catalog(make_catalog(tmp_path, GOOD_UNITS)))
    for name in (
        "coverage_gaps",
        "coverage_overlaps",
        "coverage_outside",
        "official_total",
        "official_subtotal",
        "official_count",
    ):
        assert [c.status for c in by_check(result, name)] and all(
            c.status == "pass" for c in by_check(result, name)
        ), name
    total = by_check(result, "official_total")[0]
    assert total.measured == pytest.approx(km2(RED), rel=1e-4)
    summary = {s.id: s for s in result.layers}
    assert summary["districts"].area_km2 == pytest.approx(km2(DIST_A) + km2(DIST_B), rel=1e-4)


def test_gap_and_overlap_detected_with_areas_and_places(tmp_path):
    result = check_layers(load_catalog(make_catalog(tmp_path, BROKEN_UNITS)))
    assert not result.ok
    gap = by_check(result, "coverage_gaps")[0]
    over = by_check(result, "coverage_overlaps")[0]
    assert gap.status == "fail" and over.status == "fail"
    assert gap.measured == pytest.approx(km2(GAP), rel=1e-4)
    assert over.measured == pytest.approx(km2(OVERLAP), rel=1e-4)
    # places: inside the hand-made pieces, and the overlap names both units
    p = gap.places[0]
    assert 121.04 < p.lon < 121.05 and 31.0 < p.lat < 31.1
    q = over.places[0]
    assert 121.09 < q.lon < 121.1 and sorted(q.features) == ["u2", "u3"]


def test_three_line_overlap_detected(tmp_path):
    result = check_layers(load_catalog(make_catalog(tmp_path, GOOD_UNITS)))
    lines = {c.layer: c for c in by_check(result, "three_lines")}
    assert lines["red ∩ udb"].status == "fail"
    assert lines["red ∩ udb"].measured == pytest.approx(
        km2(box(121.01, 31.01, 121.02, 31.02)), rel=1e-4
    )
    assert lines["red ∩ farm"].status == "pass"
    assert lines["udb ∩ farm"].status == "pass"


def test_official_total_outside_tolerance_fails(tmp_path):
    result = check_layers(
        load_catalog(make_catalog(tmp_path, GOOD_UNITS, red_total=km2(RED) + 0.06))
    )
    total = by_check(result, "official_total")[0]
    assert total.status == "fail" and total.difference == pytest.approx(-0.06, abs=1e-3)
    result = check_layers(
        load_catalog(make_catalog(tmp_path, GOOD_UNITS, red_total=km2(RED) + 0.04))
    )
    assert by_check(result, "official_total")[0].status == "pass"


def test_missing_layers_are_skipped_not_passed(tmp_path):
    path = write_catalog(
        tmp_path / "c.yml",
        [{"id": "u", "kind": "control_unit", "source": layer_file(tmp_path, "u", GOOD_UNITS)}],
    )
    result = check_layers(load_catalog(path))
    assert {c.status for c in result.checks} == {"skip"}


def test_empty_territory_is_skipped_not_passed(tmp_path):
    path = write_catalog(
        tmp_path / "c.yml",
        [
            {"id": "districts", "kind": "district", "source": layer_file(tmp_path, "d", [None])},
            {"id": "u", "kind": "control_unit", "source": layer_file(tmp_path, "u", GOOD_UNITS)},
        ],
    )
    result = check_layers(load_catalog(path))
    cov = [c for c in result.checks if c.check.startswith("coverage")]
    assert [c.status for c in cov] == ["skip"] and "empty" in cov[0].message


def test_triple_overlap_counted_once(tmp_path):
    # three identical units over district A: the overlap area is A, not 3 x A
    units = [DIST_A, DIST_A, DIST_A, DIST_B, SEA]
    path = write_catalog(
        tmp_path / "c.yml",
        [
            {
                "id": "districts",
                "kind": "district",
                "source": layer_file(tmp_path, "d", [DIST_A, DIST_B]),
            },
            {"id": "sea", "kind": "sea_area", "source": layer_file(tmp_path, "s", [SEA])},
            {"id": "u", "kind": "control_unit", "source": layer_file(tmp_path, "u", units)},
        ],
    )
    over = by_check(check_layers(load_catalog(path)), "coverage_overlaps")[0]
    assert over.measured == pytest.approx(km2(DIST_A), rel=1e-4)
