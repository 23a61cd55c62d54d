"""Findings of the review of rule set 2026.12 and of screening as of a date, each a test."""

from __future__ import annotations

import datetime

import pytest
import yaml

import zoning
from conftest import REPO
from zoning.catalog import read_catalog
from zoning.dates import as_of_date
from zoning.errors import RulesError
from zoning.rules import load_rules

SHIPPED = REPO / "layers" / "rules" / "shanghai_demo.yml"


def test_every_shipped_document_says_when_it_took_effect():
    # An undated document counts as in force on any day: a 1990 screening applied the 2021
    # chemical-park rules before this.
    docs = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))["documents"]
    undated = [d for d, doc in docs.items() if "in_force_from" not in doc]
    assert undated == []


def test_nothing_in_force_before_the_first_document_is_one_line():
    with pytest.raises(RulesError, match="no rule of rule set 'shanghai_demo' is in force on 1990"):
        load_rules().in_force(datetime.date(1990, 1, 1))


def test_an_aware_datetime_is_taken_on_its_day_in_shanghai():
    utc = datetime.UTC
    # 23:30 UTC on 14 March 2026 is 07:30 on 15 March in Shanghai: the 2026 reserve
    # regulation is in force.
    moment = datetime.datetime(2026, 3, 14, 23, 30, tzinfo=utc)
    assert as_of_date(moment) == datetime.date(2026, 3, 15)
    assert as_of_date(datetime.datetime(2026, 3, 14, 23, 30)) == datetime.date(2026, 3, 14)
    ids = {r["id"] for r in load_rules().in_force(moment).law()["rules"]}
    assert "nature_reserve.general_control" in ids
    assert "nature_reserve.experimental" not in ids


def test_rule_set_and_catalog_take_the_day_as_screen_does():
    rs = load_rules()
    assert rs.in_force("2026-03-01").as_of == datetime.date(2026, 3, 1)
    cat = read_catalog(REPO / "layers" / "catalog.yml")
    ids = {e.id for e in cat.in_force("2026-03-01").layers}
    assert "nature_reserves" in ids and "nature_reserves_2026" not in ids
    with pytest.raises(zoning.ZoningError, match="not a date"):
        rs.in_force("2026-13-01")


def test_a_view_in_force_has_the_whole_rule_sets_hash(tmp_path):
    rs = load_rules()
    view = rs.in_force("2026-03-01")
    assert view.hash == rs.hash == view.provenance()["hash"]
    result = zoning.screen(points=["121.47,31.23"], crs="EPSG:4326", as_of="2026-03-01")
    assert result.rule_set.hash == result.provenance["rule_set"]["hash"] == rs.hash


def _farmland_point():
    import geopandas as gpd

    farm = gpd.read_file(REPO / "layers" / "shanghai_demo.gpkg", layer="basic_farmland")
    rep = farm.to_crs(4326).geometry.iloc[0].representative_point()
    return f"{rep.x:.6f},{rep.y:.6f}"


@pytest.mark.parametrize(
    ("attrs", "verdict"),
    [
        ({"linear": False}, "unknown"),  # an airport or a water works may be a 3号 project
        ({"linear": False, "key_project": False}, "prohibited"),
        ({"linear": True, "key_project": False}, "prohibited"),  # a county road
        ({"linear": True, "key_project": True}, "restricted"),
        ({"linear": False, "key_project": True}, "restricted"),
    ],
)
def test_farmland_key_project_undeclared_is_unknown_whatever_the_shape(attrs, verdict):
    base = {"industry": "D4411", "nature": "new", "discharge": "none", "air": False}
    result = zoning.screen(
        points=[_farmland_point()],
        crs="EPSG:4326",
        attributes={**base, **attrs},
        as_of="2026-06-01",
    )
    farm = result.reasons[result.reasons["kind"] == "basic_farmland"]
    worst = {"unknown": 3, "prohibited": 4, "restricted": 2}
    got = max(farm["verdict"], key=lambda v: worst.get(v, 0))
    assert got == verdict, farm[["rule_id", "verdict", "status"]]


def test_clauses_and_diff_csv_say_the_data_are_demonstration(demo_screening, tmp_path):
    import pandas as pd

    from zoning.diff import diff_runs

    demo_screening.to_file(tmp_path / "a", ["csv", "json"])
    clauses = pd.read_csv(tmp_path / "a" / "clauses.csv", dtype=str, encoding="utf-8-sig")
    assert set(clauses["data_status"]) == {"demonstration"}
    other = zoning.screen(zoning.examples.PROJECTS, as_of="2026-03-01")
    other.to_file(tmp_path / "b", ["csv", "json"])
    diff = diff_runs(tmp_path / "b", tmp_path / "a")
    diff.to_csv(tmp_path / "diff.csv")
    table = pd.read_csv(tmp_path / "diff.csv", dtype=str, encoding="utf-8-sig")
    assert len(table) and set(table["data_status"]) == {"demonstration"}


def test_a_tributary_clause_says_it_looked_for_tributaries():
    from zoning.catalog import KINDS
    from zoning.rules.clause_words import no_feature_texts

    zh, en = no_feature_texts(KINDS["shoreline"], {"stream": ["tributary"]}, 3200.0, 1000.0)
    assert "没有长江岸线（stream=tributary）" in zh and "stream=tributary" in en
    zh, _ = no_feature_texts(KINDS["shoreline"], None, None, 1000.0)
    assert zh.startswith("检索范围内没有长江岸线（本条为")


def test_document_numbers_are_not_put_in_book_title_marks():
    from zoning.rules.clause_words import book_title

    assert book_title("水污染防治法") == "《水污染防治法》"
    assert book_title("自然资发〔2022〕142号") == "自然资发〔2022〕142号"


def test_cli_takes_the_chinese_values_the_columns_take(tmp_path):
    from click.testing import CliRunner

    from zoning.cli import main

    args = ["screen", "--point", "121.47,31.23", "--crs", "EPSG:4326", "--industry", "C2614"]
    args += ["--nature", "new", "--format", "csv", "--out", str(tmp_path / "out")]
    extra = ["--discharge", "纳管", "--facility", "排污口", "--facility", "尾矿库"]
    res = CliRunner().invoke(main, [*args, *extra, "--red-line-activity", "3.0"])
    assert res.exit_code == 0, res.output
    import pandas as pd

    row = pd.read_csv(tmp_path / "out" / "sites.csv", dtype=str, encoding="utf-8-sig").iloc[0]
    assert (row["discharge"], row["facility"], row["red_line_activity"]) == (
        "sewer",
        "outfall;tailings_pond",
        "3",
    )
    bad = CliRunner().invoke(main, [*args, "--discharge", "weird"])
    assert bad.exit_code == 2
    assert bad.output.strip().splitlines()[-1].startswith("zoning: error: --discharge: 'weird'")
