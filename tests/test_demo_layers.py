"""`zoning layers check` on the bundled demonstration catalog: every check passes."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from zoning.checks import check_layers
from zoning.cli import main


@pytest.fixture(scope="module")
def demo_checks():
    return check_layers()


def measured(result, check, layer, contains=""):
    hits = [
        c for c in result.checks if c.check == check and c.layer == layer and contains in c.message
    ]
    assert len(hits) == 1, (check, layer, contains)
    return hits[0]


def test_all_checks_pass(demo_checks):
    assert demo_checks.ok, [c.message for c in demo_checks.failed]
    assert demo_checks.demonstration
    assert not [c for c in demo_checks.checks if c.status == "skip"]


def test_red_line_totals(demo_checks):
    total = measured(demo_checks, "official_total", "red_line")
    assert total.measured == pytest.approx(2527.30, abs=0.05)
    land = measured(demo_checks, "official_subtotal", "red_line", "realm=land")
    sea = measured(demo_checks, "official_subtotal", "red_line", "realm=sea")
    assert land.measured == pytest.approx(130.05, abs=0.05)
    assert sea.measured == pytest.approx(2397.25, abs=0.05)


def test_control_unit_counts(demo_checks):
    assert measured(demo_checks, "official_count", "control_units", "count:").measured == 293
    assert measured(demo_checks, "official_count", "control_units", "priority").measured == 44


def test_every_layer_is_labelled_demonstration(demo_checks):
    assert {s.status for s in demo_checks.layers} == {"demonstration"}


@pytest.mark.slow
def test_cli_table_and_json():
    res = CliRunner().invoke(main, ["layers", "check"])
    assert res.exit_code == 0, res.output
    out = res.output
    assert "DEMONSTRATION" in out
    for figure in ("2527.30", "130.05", "2397.25", "293", "44"):
        assert figure in out
    res = CliRunner().invoke(main, ["layers", "check", "--format", "json"])
    assert res.exit_code == 0
    data = json.loads(res.output)
    assert data["ok"] and data["demonstration_data"]


@pytest.mark.slow
def test_demo_command_writes_outputs(tmp_path):
    res = CliRunner().invoke(main, ["demo", "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "out" / "layers_check.json").read_text("utf-8"))["ok"]
    assert "DEMONSTRATION" in (tmp_path / "out" / "layers_check.txt").read_text("utf-8")
    assert "DEMONSTRATION DATA" in (tmp_path / "out" / "indicators.html").read_text("utf-8")
    csv = (tmp_path / "out" / "indicators.csv").read_text("utf-8")
    assert csv.startswith("# DEMONSTRATION") and "red_line_area_land" in csv


def test_yangtze_shoreline_ends_at_nanhuizui():
    """The estuary's south bank ends at 南汇嘴; the Hangzhou Bay coast is not Yangtze shoreline.

    Oracle: geodesic distances (pyproj.Geod) from a point on the Hangzhou Bay coast of 浦东
    (南汇, 121.9204E 30.8143N) to every vertex of the shoreline, which must all be > 5 km, and
    from a point on the estuary's south bank (外高桥, 121.60E 31.36N) to some vertex, < 2 km.
    """
    import geopandas as gpd
    import numpy as np
    import pyproj
    import shapely

    from zoning.catalog import DEFAULT_CATALOG

    line = gpd.read_file(DEFAULT_CATALOG.parent / "shanghai_demo.gpkg", layer="shoreline")
    xy = shapely.get_coordinates(line.geometry.iloc[0])
    assert xy[:, 1].min() >= 30.875 - 1e-9
    geod = pyproj.Geod(ellps="WGS84")

    def nearest_vertex_m(lon, lat):
        n = len(xy)
        return geod.inv(np.full(n, lon), np.full(n, lat), xy[:, 0], xy[:, 1])[2].min()

    assert nearest_vertex_m(121.9204, 30.8143) > 5000
    assert nearest_vertex_m(121.60, 31.36) < 2000
