"""Ranking alternatives (zoning.compare, ``zoning compare``) on the hand-made world.

Each case is built so that one key decides: the verdict, then the constrained area (polygons)
or length (lines), then the distance to the nearest constraint.  Expected areas, lengths and
distances come from pyproj.Geod; expected verdicts from the hand-written rule set.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import LineString, Point, box

import zoning
from worlds import FARM, RED, REL, SITES, geod_area, geod_dist
from zoning.cli import main
from zoning.compare import RANKING_COLUMNS, rank_alternatives

# Two sites half-way into the farmland by different amounts (both restricted).
FARM_SMALL = box(121.098, 31.025, 121.108, 31.035)  # 0.002 deg of overlap
FARM_LARGE = box(121.095, 31.025, 121.105, 31.035)  # 0.005 deg of overlap
FARM_FULL = box(121.085, 31.025, 121.095, 31.035)  # wholly in the farmland
# Two routes across the red line (linear: restricted), 0.01 and 0.02 deg inside it.
ROUTE_SHORT = LineString([(121.03, 31.03), (121.05, 31.03)])
ROUTE_LONG = LineString([(121.00, 31.03), (121.06, 31.03)])
# Points west of the farmland (no rule on nearby farmland: permitted), and two points with
# nothing within the 1 km search radius.
NEAR = Point(121.077, 31.03)  # 0.003 deg west of the farmland
FAR = Point(121.073, 31.03)  # 0.007 deg west
CLEAR_A = Point(121.11, 31.085)
CLEAR_B = Point(121.115, 31.09)


def compare(world, geoms: dict, **options):
    gdf = gpd.GeoDataFrame({"id": list(geoms)}, geometry=list(geoms.values()), crs=4326)
    return zoning.compare_alternatives(gdf, world.catalog, rules=world.rules, **options)


def test_verdict_decides_first(world):
    """A restricted site with a large overlap beats a prohibited one with a small overlap."""
    res = compare(world, {"red": SITES["P"], "farm": FARM_FULL, "clear": CLEAR_A})
    r = res.ranking
    assert list(r.columns) == RANKING_COLUMNS
    assert r["site_id"].tolist() == ["clear", "farm", "red"]
    assert r["verdict"].tolist() == ["permitted", "restricted", "prohibited"]
    assert r["decided_by"].tolist() == ["", "verdict", "verdict"]
    assert r["rank"].tolist() == [1, 2, 3]
    farm_area = geod_area(FARM_FULL.intersection(FARM))
    red_area = geod_area(SITES["P"].intersection(RED))
    assert farm_area > red_area  # so area alone would have put "red" first
    got = r.set_index("site_id")["constrained_m2"]
    assert got["farm"] == pytest.approx(farm_area, rel=REL)
    assert got["red"] == pytest.approx(red_area, rel=REL)


def test_area_decides_within_a_verdict(world):
    res = compare(world, {"large": FARM_LARGE, "small": FARM_SMALL})
    r = res.ranking
    assert r["site_id"].tolist() == ["small", "large"]
    assert r["verdict"].tolist() == ["restricted", "restricted"]
    assert r["decided_by"].tolist() == ["", "area"]
    small = geod_area(FARM_SMALL.intersection(FARM))
    large = geod_area(FARM_LARGE.intersection(FARM))
    assert small < large
    assert r["constrained_m2"].tolist() == pytest.approx([small, large], rel=REL)
    assert r["nearest_m"].tolist() == [0, 0]


def test_length_decides_for_routes(world):
    res = compare(world, {"long": ROUTE_LONG, "short": ROUTE_SHORT}, attributes={"linear": True})
    r = res.ranking
    assert r["site_id"].tolist() == ["short", "long"]
    assert r["verdict"].tolist() == ["restricted", "restricted"]
    assert r["decided_by"].tolist() == ["", "length"]
    short = geod_dist(121.03, 31.03, 121.04, 31.03)  # inside the red line: 121.03-121.04
    long = geod_dist(121.02, 31.03, 121.04, 31.03)  # 121.02-121.04
    assert r["constrained_length_m"].tolist() == pytest.approx([short, long], rel=REL)
    assert r["constrained_m2"].tolist() == [0, 0]  # a line has no area


def test_distance_decides_then_ties(world):
    res = compare(world, {"near": NEAR, "clear_b": CLEAR_B, "far": FAR, "clear_a": CLEAR_A})
    r = res.ranking
    assert r["verdict"].tolist() == ["permitted"] * 4
    # nothing within the search radius counts as farthest; the two clear points tie
    assert r["site_id"].tolist() == ["clear_b", "clear_a", "far", "near"]
    assert r["rank"].tolist() == [1, 1, 3, 4]
    assert r["decided_by"].tolist() == ["", "tie", "distance", "distance"]
    near = r.set_index("site_id")["nearest_m"]
    assert np.isnan(near["clear_a"]) and np.isnan(near["clear_b"])
    assert near["far"] == pytest.approx(geod_dist(121.073, 31.03, 121.08, 31.03), rel=REL)
    assert near["near"] == pytest.approx(geod_dist(121.077, 31.03, 121.08, 31.03), rel=REL)


def test_mixed_polygon_and_route_compare_area_first(world):
    """Documented choice: area is compared before length, so in a mixed set a route (no
    area) ranks above a polygon of the same verdict that overlaps a constraint."""
    route = LineString([(121.09, 31.03), (121.11, 31.03)])  # 0.01 deg across the farmland
    res = compare(world, {"polygon": FARM_SMALL, "route": route})
    r = res.ranking
    assert r["verdict"].tolist() == ["restricted", "restricted"]
    assert r["site_id"].tolist() == ["route", "polygon"]
    assert r["decided_by"].tolist() == ["", "area"]
    assert r.set_index("site_id").loc["route", "constrained_length_m"] == pytest.approx(
        geod_dist(121.09, 31.03, 121.10, 31.03), rel=REL
    )


def test_rank_alternatives_on_a_plain_screening(world):
    res = zoning.screen(
        wkt=[FARM_LARGE.wkt, FARM_SMALL.wkt], crs="EPSG:4326", layers=world.catalog,
        rules=world.rules,
    )  # fmt: skip
    assert res.ranking is None
    ranking = rank_alternatives(res)
    assert ranking["site_id"].tolist() == ["2", "1"]
    assert res.ranking is None  # ranking does not change the result


# ---------------------------------------------------------------------------------------------
# zoning compare


class _Table(HTMLParser):
    """Rows of the table with a given id, as lists of cell texts."""

    def __init__(self, table_id: str):
        super().__init__()
        self.table_id, self.inside, self.rows, self.cell = table_id, False, [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and dict(attrs).get("id") == self.table_id:
            self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag in ("td", "th"):
            self.cell = ""

    def handle_endtag(self, tag):
        if tag == "table":
            self.inside = False
        elif self.inside and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join(self.cell.split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def alternatives_file(tmp_path):
    geoms = {
        "P": SITES["P"],
        "farm_large": FARM_LARGE,
        "farm_small": FARM_SMALL,
        "near": NEAR,
        "far": FAR,
        "clear": CLEAR_A,
    }
    path = tmp_path / "alternatives.geojson"
    gpd.GeoDataFrame({"id": list(geoms)}, geometry=list(geoms.values()), crs=4326).to_file(path)
    return path


ORDER = ["clear", "far", "near", "farm_small", "farm_large", "P"]
DECIDED = ["", "distance", "distance", "verdict", "area", "verdict"]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_cli_compare_ranking_csv_report_and_console(world, tmp_path):
    out = tmp_path / "OUT"
    res = run(
        "compare", alternatives_file(tmp_path), "--catalog", world.catalog, "--rules",
        world.rules, "--out", out, "--lang", "en",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == [
        ".zoning-screen.json",
        "clauses.csv",
        "codes.csv",
        "hits.csv",
        "ranking.csv",
        "report",
        "screening.gpkg",
        "screening.json",
        "sites.csv",
    ]
    ranking = pd.read_csv(out / "ranking.csv", keep_default_na=False)
    assert list(ranking.columns) == [*RANKING_COLUMNS, "data_status"]
    assert ranking["site_id"].tolist() == ORDER
    assert ranking["decided_by"].tolist() == DECIDED
    assert ranking["rank"].tolist() == [1, 2, 3, 4, 5, 6]
    assert float(ranking.set_index("site_id").loc["farm_small", "constrained_m2"]) == (
        pytest.approx(geod_area(FARM_SMALL.intersection(FARM)), rel=REL)
    )
    data = json.loads((out / "screening.json").read_text("utf-8"))
    assert [r["site_id"] for r in data["ranking"]] == ORDER
    # the report's ranking section, in rank order, linking each alternative's page
    html = (out / "report" / "index.html").read_text("utf-8")
    table = _Table("ranking-table")
    table.feed(html)
    body = table.rows[1:]
    assert [row[1] for row in body] == ORDER
    assert [row[0] for row in body] == ["1", "2", "3", "4", "5", "6"]
    assert body[4][7] == "constrained area" and body[1][7] == "distance to the nearest constraint"
    links = re.findall(r'<td class="id"><a href="(sites/[^"]+)">', html.split('id="sites"')[0])
    assert len(links) == 6 and all((out / "report" / link).is_file() for link in links)
    # the console: a ranking table in the same order
    lines = res.stdout.split("Ranking of alternatives")[1].strip().splitlines()[2:]
    assert [line.split()[1] for line in lines[: len(ORDER)]] == ORDER
    assert "Wrote into" in res.stdout and "ranking.csv" in res.stdout


@pytest.mark.parametrize(
    ("level", "code"),
    [("conditional", 0), ("prohibited", 0)],
)
def test_cli_compare_fail_on_judges_the_best_alternative(world, tmp_path, level, code):
    """The best alternative is permitted: no level is met, whatever the others are."""
    res = run(
        "compare", alternatives_file(tmp_path), "--catalog", world.catalog, "--rules",
        world.rules, "--fail-on", level,
    )  # fmt: skip
    assert res.exit_code == code, res.output


@pytest.mark.parametrize(
    ("level", "code"),
    [("conditional", 1), ("restricted", 1), ("unknown", 0), ("prohibited", 0)],
)
def test_cli_compare_fail_on_when_every_alternative_is_bad(world, tmp_path, level, code):
    """Both alternatives are restricted: --fail-on restricted (or milder) is met."""
    res = run(
        "compare", "--wkt", FARM_LARGE.wkt, "--wkt", FARM_SMALL.wkt, "--crs", "EPSG:4326",
        "--catalog", world.catalog, "--rules", world.rules, "--fail-on", level,
    )  # fmt: skip
    assert res.exit_code == code, res.output
    if code:
        assert res.stderr.strip() == (
            f"zoning: --fail-on {level}: every alternative is {level} or worse"
        )


def test_cli_compare_routes_with_linear(world, tmp_path):
    out = tmp_path / "OUT"
    res = run(
        "compare", "--wkt", ROUTE_LONG.wkt, "--wkt", ROUTE_SHORT.wkt, "--crs", "EPSG:4326",
        "--linear", "--catalog", world.catalog, "--rules", world.rules, "--out", out,
        "--format", "csv",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    ranking = pd.read_csv(out / "ranking.csv", keep_default_na=False, dtype={"site_id": str})
    assert ranking["site_id"].tolist() == ["2", "1"]
    assert ranking["decided_by"].tolist() == ["", "length"]
    # routes are lines: linear without --linear (derived from the geometry), same ranking
    derived = run(
        "compare", "--wkt", ROUTE_LONG.wkt, "--wkt", ROUTE_SHORT.wkt, "--crs", "EPSG:4326",
        "--catalog", world.catalog, "--rules", world.rules, "--out", out / "derived",
        "--format", "csv",
    )  # fmt: skip
    assert derived.exit_code == 0, derived.output
    again = pd.read_csv(out / "derived" / "ranking.csv", keep_default_na=False, dtype=str)
    assert again["site_id"].tolist() == ["2", "1"]
    assert again["verdict"].tolist() == ranking["verdict"].tolist()
    assert "linear derived from the geometry for 2 line site(s)" in derived.stdout


def test_cli_compare_needs_two_alternatives(world, tmp_path):
    out = tmp_path / "OUT"
    res = run(
        "compare", "--point", "121.1,31.05", "--crs", "EPSG:4326", "--catalog", world.catalog,
        "--rules", world.rules, "--out", out,
    )  # fmt: skip
    assert res.exit_code == 2
    assert res.stderr.strip().splitlines() == [
        "zoning: error: points: 1 site(s); compare needs at least 2 alternatives "
        "(use zoning screen for one site)"
    ]
    assert not out.exists()
