"""The four-dimension clause table (符合性分析): every clause that applies to a site, with a result.

Two oracles: a hand-made rule set evaluated on hand-written overlay frames (every expected
result worked out by hand below), and the demonstration example projects screened on the
demonstration layers (expectations from their documented situation, ``layers/examples``).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from zoning.labels import CLAUSE_RESULT_LABELS
from zoning.rules import RuleSet, evaluate
from zoning.rules.clauses import clause_conclusions, clause_table
from zoning.schema import CLAUSE_COLUMNS, CLAUSE_RESULTS

# ---------------------------------------------------------------------------------- hand-made

RULES = {
    "id": "clause_rules",
    "version": "1",
    "title": "Hand-made rules for the clause table",
    "status": "demonstration",
    "documents": {
        "law": {"title": "测试法", "short": "测试法", "issuer": "测试机关", "date": "2020-01-01"},
        "plan": {"title": "测试清单", "issuer": "测试机关", "date": "2021-01-01"},
    },
    "rules": [
        {
            "id": "red.chem",
            "applies_to": {"kind": "red_line"},
            "when": {"industry": ["C26"]},
            "dimension": "空间布局约束",
            "verdict": "prohibited",
            "citation": {"document": "law", "article": "第一条"},
            "message": {"zh": "红线内禁止化工项目", "en": "No chemical project in the red line"},
        },
        {
            "id": "src.level1",
            "applies_to": {"kind": "water_source_zone", "where": {"level": ["level1"]}},
            "dimension": "空间布局约束",
            "verdict": "prohibited",
            "citation": {"document": "law", "article": "第二条"},
            "message": {"zh": "一级保护区内禁止建设", "en": "Nothing in a level-1 zone"},
        },
        {
            "id": "shore.chem",
            "applies_to": {"kind": "shoreline", "relation": "within", "distance_m": 1000},
            "when": {"industry": ["C26"], "nature": ["new", "expansion"]},
            "dimension": "环境风险防控",
            "verdict": "prohibited",
            "citation": {
                "document": "law",
                "article": "第三条",
                "quote": "禁止在岸线一公里内新建化工项目。",
            },
            "message": {"zh": "岸线一公里内禁止新建化工", "en": "No new chemical within 1 km"},
        },
    ],
    "lists": [
        {
            "id": "city",
            "title_zh": "全市",
            "title_en": "City",
            "rules": [
                {
                    "id": "city.ww",
                    "when": {"wastewater": True},
                    "dimension": "污染物排放管控",
                    "verdict": "conditional",
                    "citation": {"document": "plan", "article": "第四条"},
                    "message": {"zh": "废水须达标排放", "en": "Waste water to standard"},
                    "next_step": {"zh": "落实废水处理措施", "en": "Treat the waste water"},
                },
                {
                    "id": "city.water_use",
                    "when": {"two_high": True},
                    "dimension": "资源开发效率要求",
                    "verdict": "restricted",
                    "citation": {"document": "plan", "article": "第五条"},
                    "message": {"zh": "两高项目须达到能效标杆", "en": "两高: meet the benchmark"},
                },
            ],
        },
        {"id": "city/general", "title_zh": "一般管控单元", "title_en": "General units"},
        {
            "id": "city/key",
            "title_zh": "重点管控单元",
            "title_en": "Key units",
            "rules": [
                {
                    "id": "key.risk",
                    "when": {"hazardous": True},
                    "dimension": "环境风险防控",
                    "verdict": "restricted",
                    "citation": {"document": "plan", "article": "第六条"},
                    "message": {"zh": "涉危化品须风险评估", "en": "Hazardous: risk assessment"},
                }
            ],
        },
    ],
}

KINDS = ("red_line", "water_source_zone", "shoreline", "control_unit")

#: Sites (positions 0..3) and their situation, by hand:
#: 0  C2614 new, ww yes, hazardous yes, two_high no: in the red line, 400 m from the shore,
#:    in the level-2 part of a source zone; key unit K1.
#: 1  C3911 new, ww no, hazardous no, two_high no: in the red line, 2500 m from the shore
#:    (found: searched 3000 m); in level-1 zone; general unit G1 (category list 'city').
#: 2  industry undeclared, new, ww undeclared, hazardous no, two_high no: in the red line;
#:    no shoreline found within the search; in no source zone; key unit K1.
#: 3  C2614 rebuild, ww no, hazardous no, two_high yes: 300 m from the shore; key unit K1.
SITES = pd.DataFrame(
    {
        "site_id": ["s0", "s1", "s2", "s3"],
        "industry": ["C2614", "C3911", None, "C2614"],
        "nature": ["new", "new", "new", "rebuild"],
        "wastewater": [True, False, None, False],
        "hazardous": [True, False, False, False],
        "two_high": [False, False, False, True],
    }
)


def _hit(site, kind, fid, name, relation="intersects", distance=0.0, **attrs):
    return {
        "site": site,
        "site_id": f"s{site}",
        "layer_id": kind,
        "kind": kind,
        "feature_id": fid,
        "name": name,
        "relation": relation,
        "distance_m": distance,
        **attrs,
    }


HITS = pd.DataFrame(
    [
        _hit(0, "red_line", "R1", "红线甲"),
        _hit(1, "red_line", "R1", "红线甲"),
        _hit(2, "red_line", "R1", "红线甲"),
        _hit(0, "shoreline", "Y1", "长江", relation="nearby", distance=400.0),
        _hit(1, "shoreline", "Y1", "长江", relation="nearby", distance=2500.0),
        _hit(3, "shoreline", "Y1", "长江", relation="nearby", distance=300.0),
        _hit(0, "water_source_zone", "W2", "某水源二级区", level="level2"),
        _hit(1, "water_source_zone", "W1", "某水源一级区", level="level1"),
        _hit(0, "control_unit", "K1", "重点单元一", unit_code="K1", category="key"),
        _hit(2, "control_unit", "K1", "重点单元一", unit_code="K1", category="key"),
        _hit(3, "control_unit", "K1", "重点单元一", unit_code="K1", category="key"),
        _hit(1, "control_unit", "G1", "一般单元一", unit_code="G1", category="general"),
    ]
)
SUMMARY = pd.DataFrame(
    [
        {
            "site": s,
            "site_id": f"s{s}",
            "layer_id": k,
            "kind": k,
            "status": "ok",
            "hit": bool(
                ((HITS.site == s) & (HITS.kind == k) & (HITS.relation == "intersects")).any()
            ),
            "share_of_site": 1.0,
        }
        for s in range(4)
        for k in KINDS
    ]
)


@pytest.fixture(scope="module")
def hand():
    """The hand-made clause table, indexed by (site, rule_id)."""
    rs = RuleSet.from_mapping(RULES)
    reasons = evaluate(rs, SITES, HITS, SUMMARY, search_radius_m=3000.0)
    table = clause_table(rs, SITES, HITS, SUMMARY, reasons, search_radius_m=3000.0)
    return rs, reasons, table


def _row(table, site, rule_id):
    sel = table[(table["site"] == site) & (table["rule_id"] == rule_id)]
    assert len(sel) == 1, (site, rule_id, sel)
    return sel.iloc[0]


def test_columns_and_codes(hand):
    _, _, t = hand
    assert tuple(t.columns) == CLAUSE_COLUMNS
    assert set(t["result"]) <= set(CLAUSE_RESULTS)
    assert set(CLAUSE_RESULT_LABELS) == set(CLAUSE_RESULTS)
    assert CLAUSE_RESULT_LABELS["violates"][0] == "不符合"
    assert CLAUSE_RESULT_LABELS["not_applicable"][0] == "不适用"
    for r in t.itertuples():
        assert r.result_zh == CLAUSE_RESULT_LABELS[r.result][0]
        assert r.explanation_zh and r.explanation_en


def test_which_clauses_each_site_gets(hand):
    _, _, t = hand
    got = {s: sorted(t.loc[t["site"] == s, "rule_id"]) for s in range(4)}
    floors = ["red.chem", "shore.chem", "src.level1"]
    # site 1 is in a general unit: the category list 'city' only (no key.risk)
    assert got[1] == sorted([*floors, "city.water_use", "city.ww"])
    for s in (0, 2, 3):
        assert got[s] == sorted([*floors, "city.water_use", "city.ww", "key.risk"])
    # one row per (site, clause)
    assert not t.duplicated(["site", "rule_id"]).any()


def test_results_by_hand(hand):
    _, _, t = hand
    expect = {
        (0, "red.chem"): "violates",  # C26 in the red line
        (1, "red.chem"): "complies",  # in the red line, not chemical
        (2, "red.chem"): "undecided",  # in the red line, industry undeclared
        (3, "red.chem"): "not_applicable",  # not in the red line
        (0, "src.level1"): "not_applicable",  # in a level-2 zone only
        (1, "src.level1"): "violates",
        (2, "src.level1"): "not_applicable",
        (0, "shore.chem"): "violates",  # 400 m, C26, new
        (1, "shore.chem"): "not_applicable",  # 2500 m > 1 km
        (2, "shore.chem"): "not_applicable",  # nothing within the 3000 m search
        (3, "shore.chem"): "complies",  # 300 m but a rebuild
        (0, "city.ww"): "needs_review",  # conditional, discharges waste water
        (1, "city.ww"): "complies",  # declares no waste water
        (2, "city.ww"): "undecided",  # waste water undeclared
        (0, "key.risk"): "needs_review",
        (3, "key.risk"): "complies",
        (3, "city.water_use"): "needs_review",
        (0, "city.water_use"): "complies",
    }
    for (s, rid), res in expect.items():
        assert _row(t, s, rid)["result"] == res, (s, rid)


def test_explanations(hand):
    _, _, t = hand
    assert "C3911" in _row(t, 1, "red.chem")["explanation_zh"]
    assert "红线甲" in _row(t, 1, "red.chem")["explanation_zh"]
    undecided = _row(t, 2, "red.chem")
    assert "行业代码" in undecided["explanation_zh"] and "--industry" in undecided["explanation_en"]
    assert "废水" in _row(t, 2, "city.ww")["explanation_zh"]
    na = _row(t, 1, "shore.chem")["explanation_zh"]
    assert "2.5 km" in na and "1 km" in na, na
    assert "不在" in _row(t, 3, "red.chem")["explanation_zh"]
    assert "level1" in _row(t, 0, "src.level1")["explanation_zh"]
    assert "改建" in _row(t, 3, "shore.chem")["explanation_zh"]
    assert "落实废水处理措施" in _row(t, 0, "city.ww")["explanation_zh"]  # the next step
    assert "不排放废水" in _row(t, 1, "city.ww")["explanation_zh"]


def test_rule_columns(hand):
    _, _, t = hand
    r = _row(t, 0, "shore.chem")
    assert r["scope"] == "floor" and pd.isna(r["list_id"])
    assert r["dimension"] == "环境风险防控"
    assert r["clause_zh"] == "岸线一公里内禁止新建化工"
    assert r["citation"] == "测试法, 第三条"
    assert r["quote"] == "禁止在岸线一公里内新建化工项目。"
    assert pd.isna(_row(t, 0, "red.chem")["quote"])
    assert r["reads"] == "industry=C2614; nature=new"
    u = _row(t, 2, "city.ww")
    assert u["scope"] == "list" and u["list_id"] == "city"
    assert u["reads"] == "wastewater=未申报"
    k = _row(t, 0, "key.risk")
    assert k["list_id"] == "city/key" and k["reads"] == "hazardous=true"


def test_order_groups_dimensions(hand):
    _, _, t = hand
    dims = list(t.loc[t["site"] == 0, "dimension"])
    order = ["空间布局约束", "污染物排放管控", "环境风险防控", "资源开发效率要求"]
    assert dims == sorted(dims, key=order.index)
    assert list(t["site"]) == sorted(t["site"])


def test_conclusions_by_hand(hand):
    rs, reasons, t = hand
    c = clause_conclusions(rs, t, reasons, 4)
    assert list(c.columns) == ["site", "conclusion_zh", "conclusion_en"]
    z = c["conclusion_zh"].tolist()
    assert z[0].startswith("项目选址不符合") and "《测试法》第一条" in z[0] and "第三条" in z[0]
    assert "第二条" not in z[0]  # level-1 does not apply to site 0
    assert z[1].startswith("项目选址不符合") and "第二条" in z[1]
    assert "尚无法判定" in z[2] and "行业代码" in z[2]
    assert z[3].startswith("项目选址符合"), z[3]


def test_only_some_sites(hand):
    rs, reasons, t = hand
    part = clause_table(rs, SITES, HITS, SUMMARY, reasons, search_radius_m=3000.0, only=[1, 3])
    full = t[t["site"].isin([1, 3])].reset_index(drop=True)
    pd.testing.assert_frame_equal(part.reset_index(drop=True), full)


def test_missing_layer_is_undecided():
    rs = RuleSet.from_mapping(RULES)
    summary = SUMMARY.copy()
    summary.loc[summary["kind"] == "red_line", "status"] = "failed"
    hits = HITS[HITS["kind"] != "red_line"].reset_index(drop=True)
    reasons = evaluate(rs, SITES, hits, summary, search_radius_m=3000.0)
    t = clause_table(rs, SITES, hits, summary, reasons, search_radius_m=3000.0)
    r = _row(t, 0, "red.chem")
    assert r["result"] == "undecided" and "红线" in r["explanation_zh"]
    # a project the rule can never apply to complies whatever the layer
    assert _row(t, 1, "red.chem")["result"] == "complies"


# ------------------------------------------------------------------------------ demonstration


@pytest.fixture(scope="module")
def demo(demo_screening):
    return demo_screening.clauses.set_index(["site_id", "rule_id"])


def test_demo_yangtze_chemical(demo):
    assert demo.loc[("yangtze-chemical", "yangtze.chemical"), "result"] == "violates"
    na = demo.loc[("yangtze-chemical", "water_source.level1")]
    assert na["result"] == "not_applicable"
    assert "饮用水水源保护区" in na["explanation_zh"]
    # far from the Yangtze: the 1 km rule does not apply, and says how far
    far = demo.loc[("scip-chemical", "yangtze.chemical")]
    assert far["result"] == "not_applicable" and "km" in far["explanation_zh"]


def test_demo_no_wastewater_complies(demo):
    row = demo.loc[("priority-unit-assembly-plant", "hpup.wastewater")]
    assert row["result"] == "complies"
    assert row["scope"] == "list"
    assert demo.loc[("priority-unit-assembly-plant", "priority.industrial"), "result"] == (
        "violates"
    )


def test_demo_every_site_has_a_conclusion(demo_screening):
    c = demo_screening.clause_conclusions
    assert len(c) == len(demo_screening.sites)
    by_id = dict(zip(demo_screening.sites["site_id"], c["conclusion_zh"], strict=True))
    assert by_id["yangtze-chemical"].startswith("项目选址不符合")
    assert "长江保护法" in by_id["yangtze-chemical"]
    assert by_id["jinshan-logistics-park"].startswith("项目选址符合")
    assert "尚无法判定" in by_id["outside-coverage-kunshan"]


def test_demo_undeclared_attribute(demo_layers):
    import zoning

    r = zoning.screen(
        points=["121.62,31.39"],  # near the Yangtze on Changxing Island
        crs="EPSG:4326",
        layers=demo_layers,
        attributes={"nature": "new"},
    )
    t = r.clauses.set_index("rule_id")
    row = t.loc["yangtze.chemical"]
    assert row["result"] in ("undecided", "not_applicable")
    undecided = t[t["result"] == "undecided"]
    assert len(undecided)
    assert undecided["explanation_zh"].str.contains("需申报").any()


def test_written_files(demo_screening, tmp_path):
    out = tmp_path / "out"
    demo_screening.to_file(out, formats=["csv", "json"])
    csv = pd.read_csv(out / "clauses.csv", dtype=str, keep_default_na=False)
    assert tuple(csv.columns) == (*CLAUSE_COLUMNS, "data_status")
    assert len(csv) == len(demo_screening.clauses)
    data = json.loads((out / "screening.json").read_text(encoding="utf-8"))
    assert len(data["clauses"]) == len(demo_screening.clauses)
    # rows carry the conclusion's code; its words are in the codes table, once
    conclusions = demo_screening.clause_conclusions["conclusion_zh"].tolist()
    words = {c["code"]: c["text_zh"] for c in data["codes"] if c["kind"] == "conclusion"}
    assert [words[s["conclusion_code"]] for s in data["sites"]] == conclusions
    assert "conclusion_zh" not in data["sites"][0]
    sites = pd.read_csv(out / "sites.csv", encoding="utf-8-sig")
    codes = pd.read_csv(out / "codes.csv", encoding="utf-8-sig").set_index("code")
    assert codes.loc[sites["conclusion_code"], "text_zh"].tolist() == conclusions
    assert codes.index.is_unique and len(codes) < len(sites) + 60


def test_report_has_clause_table(demo_screening, tmp_path):
    index = demo_screening.to_html(tmp_path, lang="zh", map=False)
    pages = list((index.parent / "sites").glob("*.html"))
    text = next(
        p.read_text(encoding="utf-8")
        for p in pages
        if "yangtze.chemical" in p.read_text(encoding="utf-8")
        and "长兴岛船舶涂料厂" in p.read_text(encoding="utf-8")
    )
    assert 'id="clauses"' in text
    for dim in ("空间布局约束", "污染物排放管控", "环境风险防控"):
        assert dim in text
    assert "不符合" in text and "不适用" in text
    assert "项目选址不符合" in text


def test_big_tables_stay_fast():
    """Vectorised: 20,000 sites x all the hand-made clauses in well under a few seconds."""
    import time

    rs = RuleSet.from_mapping(RULES)
    k = 5000
    sites = pd.concat([SITES] * k, ignore_index=True)
    sites["site_id"] = [f"x{i}" for i in range(len(sites))]
    hits = pd.concat([HITS.assign(site=HITS["site"] + 4 * i) for i in range(k)], ignore_index=True)
    summary = pd.concat(
        [SUMMARY.assign(site=SUMMARY["site"] + 4 * i) for i in range(k)], ignore_index=True
    )
    reasons = evaluate(rs, sites, hits, summary, search_radius_m=3000.0)
    t0 = time.perf_counter()
    t = clause_table(rs, sites, hits, summary, reasons, search_radius_m=3000.0)
    took = time.perf_counter() - t0
    assert len(t) == k * 23
    small = clause_table(
        rs,
        SITES,
        HITS,
        SUMMARY,
        evaluate(rs, SITES, HITS, SUMMARY, search_radius_m=3000.0),
        search_radius_m=3000.0,
    )
    np.testing.assert_array_equal(t["result"].to_numpy()[:23], small["result"].to_numpy())
    assert took < 10, took


def test_large_runs_are_cut_down_with_a_note(demo_screening, tmp_path, monkeypatch):
    import zoning.tables.frames as tables

    monkeypatch.setattr(tables, "CLAUSES_FULL_MAX_SITES", 5)
    out = tmp_path / "mid"
    demo_screening.to_file(out, formats=["csv", "json"])
    csv = pd.read_csv(out / "clauses.csv", dtype=str, keep_default_na=False)
    full = demo_screening.clauses
    decisive = full[full["result"].isin(["violates", "undecided", "needs_review"])]
    assert 0 < len(csv) == len(decisive) < len(full)
    data = json.loads((out / "screening.json").read_text(encoding="utf-8"))
    assert data["clauses"] == []
    assert any("clauses.csv holds only" in n for n in data["notes"])
    assert pd.read_csv(out / "sites.csv")["conclusion_code"].notna().all()

    monkeypatch.setattr(tables, "CLAUSES_MAX_SITES", 10)
    out = tmp_path / "big"
    demo_screening.to_file(out, formats=["csv", "json"])
    csv = pd.read_csv(out / "clauses.csv", dtype=str)
    assert tuple(csv.columns) == (*CLAUSE_COLUMNS, "data_status") and len(csv) == 0
    data = json.loads((out / "screening.json").read_text(encoding="utf-8"))
    assert any("no clause table" in n for n in data["notes"])
    assert pd.read_csv(out / "sites.csv")["conclusion_code"].isna().all()


def test_several_features_give_one_row_naming_them():
    rs = RuleSet.from_mapping(RULES)
    hits = pd.concat(
        [
            HITS,
            pd.DataFrame(
                [_hit(0, "red_line", "R2", "红线乙"), _hit(1, "red_line", "R2", "红线乙")]
            ),
        ],
        ignore_index=True,
    )
    reasons = evaluate(rs, SITES, hits, SUMMARY, search_radius_m=3000.0)
    t = clause_table(rs, SITES, hits, SUMMARY, reasons, search_radius_m=3000.0)
    fired = _row(t, 0, "red.chem")
    assert fired["result"] == "violates"
    assert "红线甲、红线乙" in fired["explanation_zh"]
    ok = _row(t, 1, "red.chem")
    assert ok["result"] == "complies" and "红线甲、红线乙" in ok["explanation_zh"]


def test_choice_attribute_in_words():
    data = json.loads(json.dumps(RULES))
    data["rules"].append(
        {
            "id": "red.outfall",
            "applies_to": {"kind": "red_line"},
            "when": {"discharge": ["direct"]},
            "dimension": "污染物排放管控",
            "verdict": "prohibited",
            "citation": {"document": "law", "article": "第七条"},
            "message": {"zh": "红线内禁止设置排污口", "en": "No outfall in the red line"},
        }
    )
    rs = RuleSet.from_mapping(data)
    sites = SITES.assign(discharge=["direct", "sewer", None, "none"])
    reasons = evaluate(rs, sites, HITS, SUMMARY, search_radius_m=3000.0)
    t = clause_table(rs, sites, HITS, SUMMARY, reasons, search_radius_m=3000.0)
    assert _row(t, 0, "red.outfall")["result"] == "violates"
    ok = _row(t, 1, "red.outfall")
    assert ok["result"] == "complies" and ok["reads"] == "discharge=sewer"
    assert "纳管" in ok["explanation_zh"], ok["explanation_zh"]
    und = _row(t, 2, "red.outfall")
    assert und["result"] == "undecided" and "废水排放去向" in und["explanation_zh"]
    assert _row(t, 3, "red.outfall")["result"] == "not_applicable"
