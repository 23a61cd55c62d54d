"""The project facts the law turns on (issue 12 §3): discharge, key_project, red_line_activity,
facility, residential_building, noise, and the derived chemical_park_unit.

End to end: the rule-set keys (``when``/``unless``), the sites' columns and options (English
and Chinese names and values), the evaluation (holds / fails / undecided with one "declare X"
line), the screening's situations, the CLI options and the outputs (sites.csv, screening.json,
the report's site page).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from shapely.geometry import box

from worlds import RESERVE, make_world
from zoning.cli import main
from zoning.errors import RulesError, SitesError
from zoning.rules import RuleSet, evaluate
from zoning.schema import DISCHARGES, FACILITIES, FLAGS, RED_LINE_ACTIVITIES, SITE_COLUMNS
from zoning.sites import load_sites

DOC = {"law": {"title": "测试法", "issuer": "测试机关", "date": "2020-01-01"}}


def rule(rid: str, when=None, unless=None, verdict="prohibited", kind="red_line") -> dict:
    r = {
        "id": rid,
        "applies_to": {"kind": kind},
        "dimension": "空间布局约束",
        "verdict": verdict,
        "citation": {"document": "law", "article": rid},
        "message": {"zh": "测试", "en": "test"},
    }
    if when is not None:
        r["when"] = when
    if unless is not None:
        r["unless"] = unless
    return r


RULES = [
    rule("d.direct", {"discharge": ["direct"]}),
    rule("d.any", {"discharge": ["sewer", "direct"]}),
    rule("k.key", {"key_project": True}, verdict="restricted"),
    rule("k.notkey", {"key_project": False}),
    rule("a.listed", {"red_line_activity": ["1", "6", "10"]}, verdict="restricted"),
    rule("a.none", {"red_line_activity": ["none"]}),
    rule("f.ban", {"facility": ["tailings_pond", "slag_yard"]}),
    rule("f.outfall", {"facility": ["outfall"]}),
    rule("r.res", {"residential_building": True}),
    rule("n.noise", {"noise": True}, verdict="conditional"),
    rule("u.unless", unless={"discharge": ["none"]}, verdict="conditional"),
]
ALL = {r["id"] for r in RULES}


def rule_set(rules=RULES, lists=None) -> RuleSet:
    data = {"id": "t", "version": "1", "title": "t", "status": "draft", "documents": DOC}
    data["rules"] = rules
    if lists is not None:
        data["lists"] = lists
    return RuleSet.from_mapping(data, source="t.yml")


def frames(sites: list[dict], kind: str = "red_line", **feature):
    n = len(sites)
    s = pd.DataFrame(sites, dtype=object) if sites and sites[0] else pd.DataFrame(index=range(n))
    s.insert(0, "site_id", [f"s{i}" for i in range(n)])
    hits = pd.DataFrame(
        {
            "site": np.arange(n),
            "site_id": s["site_id"],
            "layer_id": "L",
            "kind": kind,
            "feature_id": "F1",
            "relation": "intersects",
            "distance_m": 0.0,
            "name": "feature",
            **feature,
        }
    )
    summary = pd.DataFrame(
        {
            "site": np.arange(n),
            "site_id": s["site_id"],
            "layer_id": "L",
            "kind": kind,
            "status": "ok",
            "hit": True,
            "share_of_site": 1.0,
        }
    )
    return s, hits, summary


def rows(reasons: pd.DataFrame, site: int, status: str = "applies") -> set[str]:
    r = reasons[(reasons["site"] == site) & (reasons["status"] == status)]
    return set(r["rule_id"].dropna())


# ------------------------------------------------------------------------------ the vocabulary


def test_schema_constants():
    assert DISCHARGES == ("none", "sewer", "direct")
    assert RED_LINE_ACTIVITIES == ("none", *(str(i) for i in range(1, 11)))
    assert FACILITIES == (
        "waste_storage",
        "livestock",
        "dangerous_goods_wharf",
        "slag_yard",
        "tailings_pond",
        "outfall",
        "reclamation",
    )
    for flag in ("key_project", "residential_building", "noise"):
        assert flag in FLAGS and flag in SITE_COLUMNS
    for col in ("discharge", "red_line_activity", "facility"):
        assert col in SITE_COLUMNS


@pytest.mark.parametrize(
    ("when", "words"),
    [
        ({"discharge": ["outfall"]}, ["discharge", "outfall"]),
        ({"discharge": []}, ["discharge", "empty"]),
        ({"red_line_activity": [3]}, ["red_line_activity"]),
        ({"red_line_activity": ["11"]}, ["red_line_activity", "11"]),
        ({"facility": ["mine"]}, ["facility", "mine"]),
        ({"facility": ["none"]}, ["facility", "none"]),
        ({"key_project": "yes"}, ["key_project"]),
        ({"chemical_park_unit": "yes"}, ["chemical_park_unit"]),
    ],
)
def test_bad_condition_values_are_one_line_rules_errors(when, words):
    with pytest.raises(RulesError) as info:
        rule_set([rule("bad", when)])
    msg = str(info.value)
    assert "\n" not in msg and "t.yml" in msg and "bad" in msg
    for w in words:
        assert w in msg, msg


# ------------------------------------------------------------------------------ evaluation


def test_new_keys_hold_fail_and_undecided():
    rs = rule_set()
    sites = [
        # 0: everything declared, everything "off"
        dict(
            discharge="none",
            key_project=False,
            red_line_activity="none",
            facility="none",
            residential_building=False,
            noise=False,
        ),
        # 1: everything "on"
        dict(
            discharge="direct",
            key_project=True,
            red_line_activity="6",
            facility="outfall;tailings_pond",
            residential_building=True,
            noise=True,
        ),
        # 2: sewer, an activity not listed, a facility no rule names
        dict(
            discharge="sewer",
            key_project=True,
            red_line_activity="3",
            facility="livestock",
            residential_building=False,
            noise=False,
        ),
        # 3: nothing declared
        dict(
            discharge=None,
            key_project=None,
            red_line_activity=None,
            facility=None,
            residential_building=None,
            noise=None,
        ),
    ]
    reasons = evaluate(rs, *frames(sites))
    assert rows(reasons, 0) == {"k.notkey", "a.none"}
    assert rows(reasons, 1) == {
        "d.direct",
        "d.any",
        "k.key",
        "a.listed",
        "f.ban",
        "f.outfall",
        "r.res",
        "n.noise",
        "u.unless",
    }
    assert rows(reasons, 2) == {"d.any", "k.key", "u.unless"}
    assert not (reasons["site"].isin([0, 1, 2]) & (reasons["status"] == "needs_attribute")).any()
    # undeclared: every rule is undecided (needs_attribute) and says what to declare
    assert rows(reasons, 3) == {"u.unless"}
    undecided = reasons[(reasons["site"] == 3) & (reasons["status"] == "needs_attribute")]
    assert set(undecided["rule_id"]) == ALL - {"u.unless"}
    text = dict(zip(undecided["rule_id"], undecided["assumptions"], strict=True))
    assert "discharge not declared" in text["d.direct"]
    assert "--discharge none|sewer|direct" in text["d.direct"]
    assert "a discharge (排放去向) column" in text["d.direct"]
    assert "--key-project / --no-key-project" in text["k.key"]
    assert "重大建设项目" in text["k.key"]
    assert "--red-line-activity" in text["a.listed"] and "红线有限人为活动" in text["a.listed"]
    assert "--facility" in text["f.ban"] and "设施" in text["f.ban"]
    assert "--residential-building" in text["r.res"] and "居民楼" in text["r.res"]
    assert "--noise / --no-noise" in text["n.noise"] and "工业噪声" in text["n.noise"]
    # the condition in words names the values
    assert "direct" in text["d.direct"] and "tailings_pond" in text["f.ban"]
    # the unless on an undeclared discharge: applied without its exception, which is said
    u = reasons[(reasons["site"] == 3) & (reasons["rule_id"] == "u.unless")]
    assert len(u) == 1 and "discharge" in u["assumptions"].iloc[0]


def test_activity_numbers_are_codes_in_evaluate():
    rs = rule_set()
    s, h, summ = frames([{"red_line_activity": 6}, {"red_line_activity": 3.0}])
    reasons = evaluate(rs, s, h, summ)
    assert "a.listed" in rows(reasons, 0) and "a.listed" not in rows(reasons, 1)
    assert "a.none" not in rows(reasons, 0) | rows(reasons, 1)


def test_missing_columns_are_undeclared():
    rs = rule_set()
    s, h, summ = frames([{}, {}])
    reasons = evaluate(rs, s, h, summ)
    assert set(reasons.loc[reasons["status"] == "needs_attribute", "rule_id"]) == ALL - {"u.unless"}


@pytest.mark.parametrize(
    ("col", "value"),
    [
        ("discharge", "outfall"),
        ("red_line_activity", "11"),
        ("facility", "mine"),
        ("facility", "none;outfall"),
        ("noise", "maybe"),
    ],
)
def test_evaluate_refuses_a_bad_value_in_one_line(col, value):
    rs = rule_set()
    s, h, summ = frames([{col: None}, {col: value}])
    with pytest.raises(ValueError) as info:
        evaluate(rs, s, h, summ)
    msg = str(info.value)
    assert "\n" not in msg and "s1" in msg and col in msg and value in msg


CHEM_LISTS = [
    {"id": "city", "title_zh": "全市", "title_en": "city"},
    {"id": "city/key", "parent": "city", "title_zh": "重点", "title_en": "key"},
    {
        "id": "city/key/industrial_park",
        "parent": "city/key",
        "title_zh": "园区",
        "title_en": "park",
        "rules": [
            {
                "id": "p.chem",
                "when": {"industry": ["C26"]},
                "unless": {"chemical_park_unit": True},
                "dimension": "空间布局约束",
                "verdict": "prohibited",
                "citation": {"document": "law", "article": "x"},
                "message": {"zh": "化工须进化工园区", "en": "chemicals belong in a chemical park"},
            }
        ],
    },
    {
        "id": "unit/CHEM",
        "parent": "city/key/industrial_park",
        "chemical_park": True,
        "title_zh": "化工区",
        "title_en": "chemical park",
    },
    {
        "id": "unit/CHILD",
        "parent": "unit/CHEM",
        "title_zh": "化工区子单元",
        "title_en": "child of the chemical park",
    },
    {
        "id": "unit/PARK",
        "parent": "city/key/industrial_park",
        "title_zh": "普通园区",
        "title_en": "industrial park",
    },
]


def test_chemical_park_unit_is_derived_from_marked_lists_not_inherited():
    rs = rule_set(rules=[], lists=CHEM_LISTS)
    assert rs.access_list("unit/CHEM").chemical_park is True
    assert rs.access_list("unit/PARK").chemical_park is False
    assert rs.access_list("unit/CHILD").chemical_park is False, "not inherited"
    units = ["CHEM", "CHILD", "PARK", "CHEM"]
    s = pd.DataFrame({"site_id": [f"s{i}" for i in range(5)], "industry": ["C2614"] * 5})
    # sites 0-2 touch one unit each; site 3 touches CHEM and PARK; site 4: layer not loaded
    site = [0, 1, 2, 3, 3]
    unit = [*units, "PARK"]
    h = pd.DataFrame(
        {
            "site": site,
            "site_id": [f"s{i}" for i in site],
            "layer_id": "CU",
            "kind": "control_unit",
            "feature_id": unit,
            "relation": "intersects",
            "distance_m": 0.0,
            "unit_code": unit,
        }
    )
    summ = pd.DataFrame(
        {
            "site": [0, 1, 2, 3, 4],
            "site_id": [f"s{i}" for i in range(5)],
            "layer_id": "CU",
            "kind": "control_unit",
            "status": ["ok", "ok", "ok", "ok", "missing"],
            "hit": [True, True, True, True, False],
            "share_of_site": 1.0,
        }
    )
    reasons = evaluate(rs, s, h, summ)
    chem = reasons[reasons["rule_id"] == "p.chem"]
    applies = set(chem.loc[chem["status"] == "applies", "site"])
    # in the chemical park: exception granted; its child list does not inherit the mark; an
    # ordinary park and a site partly outside the chemical park are prohibited
    assert applies == {1, 2, 3}


def test_chemical_park_must_be_a_bool():
    lists = [dict(CHEM_LISTS[0], chemical_park="yes")]
    with pytest.raises(RulesError, match="chemical_park"):
        rule_set(rules=[], lists=lists)


# ------------------------------------------------------------------------------ sites


def write(tmp_path: Path, text: str, name: str = "sites.csv") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_sites_csv_english_columns(tmp_path):
    path = write(
        tmp_path,
        """\
        id,lon,lat,discharge,key_project,red_line_activity,facility,residential_building,noise
        a,121.4,31.2,direct,yes,3,outfall;tailings_pond,no,yes
        b,121.4,31.2,Sewer,no,none,"Livestock, outfall",1,0
        c,121.4,31.2,none,,10,none,,
        d,121.4,31.2,,,,,,
        """,
    )
    gdf = load_sites(path, crs="EPSG:4326").gdf
    assert list(gdf["discharge"]) == ["direct", "sewer", "none", None]
    assert list(gdf["key_project"]) == [True, False, None, None]
    assert list(gdf["red_line_activity"]) == ["3", "none", "10", None]
    # sorted and joined with ';'; "none" declared none; empty: undeclared
    assert list(gdf["facility"]) == ["outfall;tailings_pond", "livestock;outfall", "none", None]
    assert list(gdf["residential_building"]) == [False, True, None, None]
    assert list(gdf["noise"]) == [True, False, None, None]


def test_sites_chinese_columns_and_values(tmp_path):
    path = write(
        tmp_path,
        """\
        编号,经度,纬度,排放去向,重大建设项目,红线有限人为活动,设施,居民楼,工业噪声
        甲,121.4,31.2,直排,是,6,尾矿库、排污口,否,是
        乙,121.4,31.2,纳管,否,无,畜禽养殖,是,否
        丙,121.4,31.2,无,,,无,,
        """,
    )
    gdf = load_sites(path, crs="EPSG:4326").gdf
    assert list(gdf["discharge"]) == ["direct", "sewer", "none"]
    assert list(gdf["key_project"]) == [True, False, None]
    assert list(gdf["red_line_activity"]) == ["6", "none", None]
    assert list(gdf["facility"]) == ["outfall;tailings_pond", "livestock", "none"]
    assert list(gdf["residential_building"]) == [False, True, None]
    assert list(gdf["noise"]) == [True, False, None]


def test_numbers_from_a_spreadsheet_are_activity_codes(tmp_path):
    df = pd.DataFrame({"lon": [121.4, 121.4], "lat": [31.2, 31.2], "red_line_activity": [3, 10]})
    gdf = load_sites(df, crs="EPSG:4326").gdf
    assert list(gdf["red_line_activity"]) == ["3", "10"]


@pytest.mark.parametrize(
    ("col", "value", "allowed"),
    [
        ("discharge", "river", "direct"),
        ("排放去向", "偷排", "纳管"),
        ("red_line_activity", "11", "10"),
        ("red_line_activity", "2.5", "10"),
        ("facility", "mine", "tailings_pond"),
        ("facility", "none;outfall", "none"),
        ("设施", "矿山", "tailings_pond"),
        ("key_project", "maybe", "yes/no"),
        ("noise", "loud", "yes/no"),
    ],
)
def test_bad_site_values_name_row_site_value_and_allowed(tmp_path, col, value, allowed):
    path = write(tmp_path, f"id,lon,lat,{col}\nok,121.4,31.2,\nS-7,121.4,31.2,{value}\n")
    with pytest.raises(SitesError) as info:
        load_sites(path, crs="EPSG:4326")
    msg = str(info.value)
    assert "\n" not in msg
    for w in ("sites.csv", "row 3", "S-7", col, value, allowed):
        assert w in msg, (w, msg)


def test_attributes_option_for_every_site_and_conflicts(tmp_path):
    pts = ["121.4,31.2", "121.41,31.2"]
    sites = load_sites(
        points=pts,
        crs="EPSG:4326",
        attributes={
            "discharge": "纳管",
            "key_project": True,
            "red_line_activity": 6,
            "facility": ["slag_yard", "outfall"],
            "residential_building": False,
            "noise": "否",
        },
    )
    gdf = sites.gdf
    assert list(gdf["discharge"]) == ["sewer"] * 2
    assert list(gdf["key_project"]) == [True] * 2
    assert list(gdf["red_line_activity"]) == ["6"] * 2
    assert list(gdf["facility"]) == ["outfall;slag_yard"] * 2
    assert list(gdf["residential_building"]) == [False] * 2
    assert list(gdf["noise"]) == [False] * 2
    with pytest.raises(SitesError, match="option discharge"):
        load_sites(points=pts, crs="EPSG:4326", attributes={"discharge": "river"})
    path = write(tmp_path, "id,lon,lat,discharge\na,121.4,31.2,direct\n")
    with pytest.raises(SitesError, match="discharge is given by column"):
        load_sites(path, crs="EPSG:4326", attributes={"discharge": "sewer"})
    # agreeing column and option are fine
    gdf = load_sites(path, crs="EPSG:4326", attributes={"discharge": "直排"}).gdf
    assert list(gdf["discharge"]) == ["direct"]
    # an empty list of facilities is no option at all (the column decides)
    path = write(tmp_path, "id,lon,lat,设施\na,121.4,31.2,排污口，畜禽养殖\n")
    gdf = load_sites(path, crs="EPSG:4326", attributes={"facility": ()}).gdf
    assert list(gdf["facility"]) == ["livestock;outfall"]
    with pytest.raises(SitesError, match="facility is given by column"):
        load_sites(path, crs="EPSG:4326", attributes={"facility": ["outfall"]})
    gdf = load_sites(path, crs="EPSG:4326", attributes={"facility": ("outfall", "livestock")}).gdf
    assert list(gdf["facility"]) == ["livestock;outfall"]


# ------------------------------------------------------------------------------ screening, CLI


RESERVE_RULES = [
    rule("res.direct", {"discharge": ["direct"]}, kind="nature_reserve"),
    rule("res.noise", {"noise": True}, verdict="conditional", kind="nature_reserve"),
    rule(
        "res.facility",
        {"facility": ["livestock", "outfall"]},
        verdict="restricted",
        kind="nature_reserve",
    ),
]


@pytest.fixture(scope="module")
def reserve_world(tmp_path_factory):
    w = make_world(tmp_path_factory.mktemp("attrs_world"))
    rules = w.folder / "attr_rules.yml"
    data = {
        "id": "attr_rules",
        "version": "1",
        "title": "t",
        "status": "authoritative",
        "documents": DOC,
        "rules": RESERVE_RULES,
    }
    rules.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    w.attr_rules = rules
    return w


def test_screening_tells_sites_apart_by_the_new_facts(reserve_world):
    import geopandas as gpd

    import zoning

    c = RESERVE.centroid
    sites = gpd.GeoDataFrame(
        {
            "id": ["direct", "sewer", "undeclared", "farm"],
            "discharge": ["direct", "sewer", None, "sewer"],
            "facility": [None, "none", "none", "livestock"],
            "noise": [False, False, False, False],
        },
        geometry=[box(c.x - 0.001, c.y - 0.001, c.x + 0.001, c.y + 0.001)] * 4,
        crs=4326,
    )
    layers = zoning.load_catalog(reserve_world.catalog)
    res = zoning.screen(sites, layers, rules=str(reserve_world.attr_rules))
    v = dict(zip(res.sites["site_id"], res.sites["verdict"], strict=True))
    assert v == {
        "direct": "prohibited",
        "sewer": "permitted",
        "undeclared": "unknown",
        "farm": "restricted",
    }


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_cli_options_on_a_point(reserve_world, tmp_path):
    c = RESERVE.centroid
    out = tmp_path / "out"
    res = run(
        "screen",
        "--point",
        f"{c.x},{c.y}",
        "--crs",
        "EPSG:4326",
        "--catalog",
        reserve_world.catalog,
        "--rules",
        reserve_world.attr_rules,
        "--discharge",
        "sewer",
        "--key-project",
        "--red-line-activity",
        "6",
        "--facility",
        "outfall",
        "--facility",
        "waste_storage",
        "--no-residential-building",
        "--noise",
        "--out",
        out,
    )
    assert res.exit_code == 0, res.output
    sites = pd.read_csv(out / "sites.csv", dtype=str, keep_default_na=False)
    row = sites.iloc[0]
    assert row["discharge"] == "sewer"
    assert row["key_project"] == "True"
    assert row["red_line_activity"] == "6"
    assert row["facility"] == "outfall;waste_storage"
    assert row["residential_building"] == "False"
    assert row["noise"] == "True"
    cols = list(sites.columns)
    for c_ in ("discharge", "key_project", "red_line_activity", "facility", "noise"):
        assert c_ in cols
    assert row["verdict"] == "restricted"  # facility outfall (restricted) beats noise
    doc = json.loads((out / "screening.json").read_text("utf-8"))
    s0 = doc["sites"][0]
    assert s0["discharge"] == "sewer" and s0["facility"] == "outfall;waste_storage"
    assert s0["red_line_activity"] == "6" and s0["key_project"] is True
    import geopandas as gpd

    gpkg = gpd.read_file(out / "screening.gpkg", layer="sites")
    assert gpkg["facility"].tolist() == ["outfall;waste_storage"]
    assert gpkg["discharge"].tolist() == ["sewer"] and gpkg["red_line_activity"].tolist() == ["6"]
    page = next((out / "report").glob("sites/*.html")).read_text("utf-8")
    for words in ("纳管", "排污口", "重大建设项目", "工业噪声", "居民楼"):
        assert words in page, words


def test_cli_undeclared_says_what_to_declare(reserve_world):
    c = RESERVE.centroid
    res = run(
        "screen",
        "--point",
        f"{c.x},{c.y}",
        "--crs",
        "EPSG:4326",
        "--catalog",
        reserve_world.catalog,
        "--rules",
        reserve_world.attr_rules,
        "--lang",
        "en",
    )
    assert res.exit_code == 0, res.output
    assert "unknown" in res.output.lower()


@pytest.mark.parametrize(
    "args",
    [
        ["--discharge", "river"],
        ["--red-line-activity", "11"],
        ["--facility", "mine"],
    ],
)
def test_cli_bad_choice_is_a_usage_error(reserve_world, args):
    c = RESERVE.centroid
    res = run(
        "screen",
        "--point",
        f"{c.x},{c.y}",
        "--crs",
        "EPSG:4326",
        "--catalog",
        reserve_world.catalog,
        "--rules",
        reserve_world.attr_rules,
        *args,
    )
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output


def test_cli_facility_none_with_a_code_is_an_error(reserve_world):
    c = RESERVE.centroid
    res = run(
        "screen",
        "--point",
        f"{c.x},{c.y}",
        "--crs",
        "EPSG:4326",
        "--catalog",
        reserve_world.catalog,
        "--rules",
        reserve_world.attr_rules,
        "--facility",
        "none",
        "--facility",
        "outfall",
    )
    assert res.exit_code == 2, res.output
    assert "facility" in res.stderr and "none" in res.stderr


def test_help_says_wastewater_produces_and_discharge_is_where():
    res = run("screen", "--help")
    text = " ".join(res.output.split())
    assert "--discharge" in text and "--facility" in text and "--red-line-activity" in text
    assert "--key-project" in text and "--residential-building" in text and "--noise" in text
    assert "produces waste water" in text
