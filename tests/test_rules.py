"""Access-list rules: the schema, the content hash, inheritance, evaluation, and every shipped rule.

Oracles are independent of :mod:`zoning.rules`: expected verdicts, documents and articles are
written here by hand from the legal texts (``shared/reference/shanghai_facts.md``), distances
are placed with ``pyproj.Geod``, and the shipped rule ids are read from the YAML with PyYAML,
not through the loader.  Layers are real GeoPackage files in lon/lat; screening runs the real
overlay engine on them.
"""

from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
import yaml
from shapely.geometry import LineString, Polygon, box

from conftest import REPO, write_catalog
from worlds import layer_file
from zoning.errors import RulesError
from zoning.layerset import load_catalog
from zoning.rules import (
    DEFAULT_RULES,
    REASON_COLUMNS,
    SEVERITY,
    STATUSES,
    RuleSet,
    evaluate,
    hit_verdicts,
    load_rules,
    site_verdicts,
)
from zoning.screening import screen as _screen

GEOD = pyproj.Geod(ellps="WGS84")
SHIPPED = DEFAULT_RULES
README = REPO / "layers" / "rules" / "README.md"


def screen(*args, **kw):
    """``zoning.screen`` on WGS84 lon/lat sites (every site in these tests is GPS lon/lat)."""
    kw.setdefault("crs", "EPSG:4326")
    return _screen(*args, **kw)


# =============================================================================================
# A small rule set for the schema, hash, inheritance and evaluation tests
# =============================================================================================

MINIMAL = """\
id: mini
version: "1"
title: test rule set
status: draft
documents:
  law:
    title: A law
    issuer: Someone
    date: "2020-01-01"
rules:
  - id: r.one
    applies_to: {kind: red_line}
    dimension: 空间布局约束
    verdict: prohibited
    citation: {document: law, article: "第一条"}
    message: {zh: 禁止, en: prohibited}
lists:
  - id: city
    title_zh: 全市
    title_en: city
    rules:
      - id: c.one
        when: {air: true}
        dimension: 污染物排放管控
        verdict: conditional
        citation: {document: law, article: "第二条"}
        message: {zh: 条件, en: conditional}
"""


def write_rules(tmp_path: Path, text: str, name: str = "rules.yml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def mutate(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def load_error(tmp_path: Path, text: str) -> str:
    path = write_rules(tmp_path, text)
    with pytest.raises(RulesError) as info:
        load_rules(path)
    msg = str(info.value)
    assert "\n" not in msg, "errors are one line"
    assert str(path) in msg, "errors name the file"
    return msg


def test_minimal_rule_set_loads(tmp_path):
    rs = load_rules(write_rules(tmp_path, MINIMAL))
    assert rs.id == "mini" and rs.version == "1"
    assert [r.id for r in rs.rules] == ["r.one"]
    assert [r.id for r in rs.rules_for_list("city")] == ["c.one"]
    assert rs.kinds == ["control_unit", "red_line"]
    assert re.fullmatch(r"[0-9a-f]{64}", rs.hash)


# --------------------------------------------------------------------------------- schema


SCHEMA_CASES = [
    # unknown keys, at every depth
    ("status: draft\n", "status: draft\ncolour: red\n", ["key 'colour'", "unknown key"]),
    (
        "    verdict: prohibited\n",
        "    verdict: prohibited\n    severity: 3\n",
        ["rule 'r.one'", "key 'severity'", "unknown key"],
    ),
    (
        "        when: {air: true}\n",
        "        when: {air: true, colour: red}\n",
        ["list 'city'", "rule 'c.one'", "key 'when.colour'", "unknown key"],
    ),
    (
        '    citation: {document: law, article: "第一条"}\n',
        '    citation: {document: law, article: "第一条", page: "3"}\n',
        ["rule 'r.one'", "key 'citation.page'", "unknown key"],
    ),
    (
        "    applies_to: {kind: red_line}\n",
        "    applies_to: {kind: red_line, buffer: 10}\n",
        ["rule 'r.one'", "key 'applies_to.buffer'", "unknown key"],
    ),
    # except_inside: outside rules only, a known kind, another kind than the rule's
    (
        "    applies_to: {kind: red_line}\n",
        "    applies_to: {kind: red_line, except_inside: sea_area}\n",
        ["rule 'r.one'", "key 'applies_to'", "except_inside is only for relation 'outside'"],
    ),
    (
        "    applies_to: {kind: red_line}\n",
        "    applies_to: {kind: red_line, relation: outside, except_inside: red_line}\n",
        ["rule 'r.one'", "key 'applies_to'", "another kind"],
    ),
    (
        "    applies_to: {kind: red_line}\n",
        "    applies_to: {kind: red_line, relation: outside, except_inside: sea}\n",
        ["rule 'r.one'", "key 'applies_to.except_inside'", "unknown kind 'sea'"],
    ),
    # defer_inside: intersects rules only, known kinds, not the rule's own
    (
        "    applies_to: {kind: red_line}\n",
        "    applies_to: {kind: red_line, relation: outside, defer_inside: [nature_reserve]}\n",
        ["rule 'r.one'", "key 'applies_to'", "defer_inside is only for relation 'intersects'"],
    ),
    (
        "    applies_to: {kind: red_line}\n",
        "    applies_to: {kind: red_line, defer_inside: [nature_reserve, red_line]}\n",
        ["rule 'r.one'", "key 'applies_to'", "another kind"],
    ),
    (
        "    applies_to: {kind: red_line}\n",
        "    applies_to: {kind: red_line, defer_inside: [reserve]}\n",
        ["rule 'r.one'", "key 'applies_to.defer_inside", "unknown kind 'reserve'"],
    ),
    (
        "    applies_to: {kind: red_line}\n",
        "    applies_to: {kind: red_line, defer_inside: []}\n",
        ["rule 'r.one'", "key 'applies_to.defer_inside'", "empty"],
    ),
    (
        '    date: "2020-01-01"\n',
        '    date: "2020-01-01"\n    pages: "12"\n',
        ["document 'law'", "key 'pages'", "unknown key"],
    ),
    (
        "    title_en: city\n",
        "    title_en: city\n    owner: me\n",
        ["list 'city'", "key 'owner'", "unknown key"],
    ),
    # codes written as numbers, YAML 1.1 traps included
    (
        "    applies_to: {kind: red_line}\n",
        "    applies_to: {kind: red_line}\n    when: {industry: [26]}\n",
        ["rule 'r.one'", "key 'when.industry.0'", "must be a string, got 26", "quote"],
    ),
    (
        "    applies_to: {kind: red_line}\n",
        "    applies_to: {kind: red_line}\n    when: {industry: [0101]}\n",
        ["rule 'r.one'", "key 'when.industry.0'", "got 65"],
    ),
    (
        "    applies_to: {kind: red_line}\n",
        "    applies_to: {kind: control_unit, where: {unit_code: [NO]}}\n",
        ["rule 'r.one'", "key 'applies_to.where.unit_code.0'", "got False"],
    ),
    (
        "    applies_to: {kind: red_line}\n",
        "    applies_to: {kind: control_unit, where: {unit_code: [31011620002]}}\n",
        ["rule 'r.one'", "key 'applies_to.where.unit_code.0'", "got 31011620002"],
    ),
    ('version: "1"\n', "version: 2026.1\n", ["key 'version'", "must be a string, got 2026.1"]),
    ("  - id: r.one\n", "  - id: 1\n", ["rule entry 1", "key 'id'", "must be a string"]),
    # bad industry prefixes
    (
        "        when: {air: true}\n",
        '        when: {industry: ["D26"]}\n',
        ["rule 'c.one'", "key 'when.industry'", "division 26 belongs to section C"],
    ),
    (
        "        when: {air: true}\n",
        '        when: {industry: ["2a"]}\n',
        ["rule 'c.one'", "key 'when.industry'", "not a GB/T 4754-2017 code prefix"],
    ),
    (
        "        when: {air: true}\n",
        '        when: {industry: ["98"]}\n',
        ["rule 'c.one'", "key 'when.industry'", "no major division 98"],
    ),
    (
        "        when: {air: true}\n",
        "        when: {air: yes please}\n",
        ["rule 'c.one'", "key 'when.air'", "must be true or false"],
    ),
    (
        "        when: {air: true}\n",
        "        when: {nature: [rebuilt]}\n",
        ["rule 'c.one'", "key 'when.nature.0'", "'rebuilt'"],
    ),
    (
        "        when: {air: true}\n",
        "        when: {}\n",
        ["rule 'c.one'", "key 'when'", "at least one key"],
    ),
    # unknown vocabulary
    (
        "    verdict: prohibited\n",
        "    verdict: forbidden\n",
        ["rule 'r.one'", "key 'verdict'", "'forbidden'", "prohibited"],
    ),
    (
        "    verdict: prohibited\n",
        "    verdict: unknown\n",
        ["rule 'r.one'", "key 'verdict'", "'unknown'"],
    ),
    (
        "    dimension: 空间布局约束\n",
        "    dimension: 空间约束\n",
        ["rule 'r.one'", "key 'dimension'", "'空间约束'"],
    ),
    (
        "    applies_to: {kind: red_line}\n",
        "    applies_to: {kind: redline}\n",
        ["rule 'r.one'", "key 'applies_to.kind'", "unknown kind 'redline'"],
    ),
    (
        "    applies_to: {kind: red_line}\n",
        "    applies_to: {kind: red_line, where: {colour: [red]}}\n",
        ["rule 'r.one'", "key 'applies_to.where'", "unknown feature attribute 'colour'"],
    ),
    (
        "    applies_to: {kind: red_line}\n",
        "    applies_to: {kind: shoreline, relation: within}\n",
        ["rule 'r.one'", "key 'applies_to'", "needs distance_m"],
    ),
    (
        "    applies_to: {kind: red_line}\n",
        "    applies_to: {kind: shoreline, distance_m: 1000}\n",
        ["rule 'r.one'", "key 'applies_to'", "only for relation 'within'"],
    ),
    (
        "    applies_to: {kind: red_line}\n",
        "    applies_to: {kind: shoreline, relation: within, distance_m: -5}\n",
        ["rule 'r.one'", "key 'applies_to.distance_m'", "greater than 0"],
    ),
    (
        "    applies_to: {kind: red_line}\n",
        "    applies_to: {kind: red_line, relation: near}\n",
        ["rule 'r.one'", "key 'applies_to.relation'", "'near'"],
    ),
    # missing required keys
    (
        "    message: {zh: 禁止, en: prohibited}\n",
        "    message: {zh: 禁止}\n",
        ["rule 'r.one'", "key 'message.en'", "required key is missing"],
    ),
    (
        '    citation: {document: law, article: "第一条"}\n',
        "    citation: {document: law}\n",
        ["rule 'r.one'", "key 'citation.article'", "required key is missing"],
    ),
]


def _case_id(case: tuple) -> str:
    """The key the error must name, then a distinguishing word."""
    key = next(p for p in case[2] if p.startswith("key "))
    return f"{key[4:].strip(chr(39))}-{case[2][-1][:24]}"


@pytest.mark.parametrize(("old", "new", "expect"), SCHEMA_CASES, ids=map(_case_id, SCHEMA_CASES))
def test_schema_errors_name_file_entry_and_key(tmp_path, old, new, expect):
    msg = load_error(tmp_path, mutate(MINIMAL, old, new))
    for part in expect:
        assert part in msg, (part, msg)


@pytest.mark.parametrize(
    ("old", "new", "expect"),
    [
        (
            '    citation: {document: law, article: "第一条"}\n',
            '    citation: {document: statute, article: "第一条"}\n',
            ["rule 'r.one'", "key 'citation.document'", "unknown document 'statute'", "law"],
        ),
        (
            "      - id: c.one\n",
            "      - id: r.one\n",
            ["list 'city'", "rule 'r.one'", "key 'id'", "duplicate rule id"],
        ),
        (
            "        when: {air: true}\n",
            "        when: {air: true}\n        overrides: [r.nothing]\n",
            ["list 'city'", "rule 'c.one'", "key 'overrides'", "'r.nothing' is not inherited"],
        ),
        (
            "    title_en: city\n",
            "    title_en: city\n    parent: region\n",
            ["list 'city'", "key 'parent'", "parent list 'region' does not exist"],
        ),
        (
            "    applies_to: {kind: red_line}\n",
            "",
            ["rule 'r.one'", "key 'applies_to'", "city-wide rules need it"],
        ),
        (
            "        when: {air: true}\n",
            "        when: {air: true}\n        applies_to: {kind: red_line}\n",
            ["list 'city'", "rule 'c.one'", "key 'applies_to'", "remove applies_to"],
        ),
        (
            "    verdict: prohibited\n",
            "    verdict: prohibited\n    overrides: [c.one]\n",
            ["rule 'r.one'", "key 'overrides'", "only access-list rules"],
        ),
    ],
)
def test_cross_check_errors_name_file_entry_and_key(tmp_path, old, new, expect):
    msg = load_error(tmp_path, mutate(MINIMAL, old, new))
    for part in expect:
        assert part in msg, (part, msg)


def test_duplicate_list_id_and_unit_list_without_parent(tmp_path):
    extra = """\
  - id: city
    title_zh: 又一个
    title_en: again
"""
    msg = load_error(tmp_path, MINIMAL + extra)
    assert "list 'city'" in msg and "key 'id'" in msg and "duplicate list id" in msg

    unit = """\
  - id: unit/ZH31011620002
    title_zh: 单元
    title_en: unit
"""
    msg = load_error(tmp_path, MINIMAL + unit)
    assert "list 'unit/ZH31011620002'" in msg and "key 'parent'" in msg
    assert "must name their parent" in msg


def test_inheritance_cycle_is_named(tmp_path):
    cyc = """\
  - id: a
    parent: b
    title_zh: 甲
    title_en: a
  - id: b
    parent: a
    title_zh: 乙
    title_en: b
"""
    msg = load_error(tmp_path, MINIMAL + cyc)
    assert "key 'parent'" in msg and "inheritance cycle" in msg
    assert "a -> b -> a" in msg or "b -> a -> b" in msg


def test_self_parent_is_refused(tmp_path):
    own = """\
  - id: solo
    parent: solo
    title_zh: 独
    title_en: solo
"""
    msg = load_error(tmp_path, MINIMAL + own)
    assert "list 'solo'" in msg and "key 'parent'" in msg and "own parent" in msg


def test_duplicate_yaml_key_is_refused_not_silently_overwritten(tmp_path):
    # PyYAML keeps the last of two equal keys: this rule would load as "permitted".
    text = mutate(
        MINIMAL, "    verdict: prohibited\n", "    verdict: prohibited\n    verdict: permitted\n"
    )
    msg = load_error(tmp_path, text)
    assert "key 'verdict' is written twice" in msg
    line = text.splitlines().index("    verdict: permitted") + 1
    assert f"at line {line}" in msg


def test_missing_and_unparsable_files(tmp_path):
    with pytest.raises(RulesError, match="rule set not found"):
        load_rules(tmp_path / "nope.yml")
    bad = write_rules(tmp_path, "id: [unclosed\n")
    with pytest.raises(RulesError, match="not valid YAML"):
        load_rules(bad)
    lst = write_rules(tmp_path, "- a\n- b\n", "list.yml")
    with pytest.raises(RulesError, match="expected a mapping"):
        load_rules(lst)


def test_feature_value_vocabulary_is_checked(tmp_path):
    vocab = """\
feature_values:
  water_source_zone:
    level:
      level1: [一级保护区]
      level2: [二级保护区]
"""
    ok = mutate(
        MINIMAL,
        "    applies_to: {kind: red_line}\n",
        "    applies_to: {kind: water_source_zone, where: {level: [level1]}}\n",
    )
    load_rules(write_rules(tmp_path, ok + vocab))
    typo = mutate(
        MINIMAL,
        "    applies_to: {kind: red_line}\n",
        "    applies_to: {kind: water_source_zone, where: {level: [levle1]}}\n",
    )
    msg = load_error(tmp_path, typo + vocab)
    assert "rule 'r.one'" in msg and "key 'applies_to.where.level'" in msg
    assert "'levle1' is not a code" in msg and "could never fire" in msg
    clash = vocab.replace("[二级保护区]", "[一级保护区]")
    msg = load_error(tmp_path, ok + clash)
    assert "key 'feature_values'" in msg and "'一级保护区' names both" in msg
    badkind = vocab.replace("water_source_zone:", "water_zone:")
    msg = load_error(tmp_path, ok + badkind)
    assert "unknown kind 'water_zone'" in msg


def test_shipped_rule_set_loads_and_is_a_demonstration():
    rs = load_rules()
    assert rs.path == SHIPPED.resolve()
    assert rs.status == "demonstration" and rs.is_demonstration
    prov = rs.provenance()
    assert prov["id"] == "shanghai_demo" and prov["hash"] == rs.hash
    assert prov["path"] == str(SHIPPED.resolve())
    # every control-unit access list named by the demonstration layer resolves in the rule set
    units = load_catalog()["control_units"].gdf
    named = set(units["access_list"].dropna())
    assert named <= set(rs.list_ids), sorted(named - set(rs.list_ids))
    for code in units["unit_code"]:
        if f"unit/{code}" in rs.list_ids:
            assert units.loc[units["unit_code"] == code, "access_list"].item() == f"unit/{code}"


# --------------------------------------------------------------------------------- hash


def test_hash_ignores_key_order_whitespace_comments_and_spelled_out_defaults(tmp_path):
    base = load_rules(write_rules(tmp_path, MINIMAL, "a.yml")).hash
    data = yaml.safe_load(MINIMAL)

    # key order reversed at every level, flow style, comments, a default spelled out
    def reverse(obj):
        if isinstance(obj, dict):
            return {k: reverse(v) for k, v in reversed(list(obj.items()))}
        if isinstance(obj, list):
            return [reverse(v) for v in obj]
        return obj

    data["rules"][0]["applies_to"]["relation"] = "intersects"  # the default
    data["lists"][0]["rules"][0]["when"] = [data["lists"][0]["rules"][0]["when"]]  # same meaning
    text = "# a comment\n" + yaml.safe_dump(
        reverse(data), allow_unicode=True, sort_keys=False, default_flow_style=True, width=40
    )
    other = load_rules(write_rules(tmp_path, text, "b.yml"))
    assert other.hash == base
    # the shipped file re-serialised (no comments, sorted keys) keeps its hash
    shipped = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    shutil.copytree(SHIPPED.parent / "texts", tmp_path / "texts")  # its stored law texts
    again = write_rules(
        tmp_path, yaml.safe_dump(shipped, allow_unicode=True, sort_keys=True), "s.yml"
    )
    assert load_rules(again).hash == load_rules().hash


def test_hash_of_a_rule_set_not_using_except_inside_is_unchanged(tmp_path):
    # except_inside was added to the schema in 2026.5: spelling it out unset keeps the hash,
    # using it changes it
    base = load_rules(write_rules(tmp_path, MINIMAL, "a.yml")).hash
    spelled = mutate(
        MINIMAL, "applies_to: {kind: red_line}", "applies_to: {kind: red_line, except_inside: null}"
    )
    assert load_rules(write_rules(tmp_path, spelled, "b.yml")).hash == base
    outside = mutate(MINIMAL, "{kind: red_line}", "{kind: red_line, relation: outside}")
    sea = mutate(
        MINIMAL, "{kind: red_line}", "{kind: red_line, relation: outside, except_inside: sea_area}"
    )
    h_outside = load_rules(write_rules(tmp_path, outside, "c.yml")).hash
    h_sea = load_rules(write_rules(tmp_path, sea, "d.yml")).hash
    assert len({base, h_outside, h_sea}) == 3
    # so was defer_inside (2026.12)
    spelled = mutate(
        MINIMAL, "applies_to: {kind: red_line}", "applies_to: {kind: red_line, defer_inside: null}"
    )
    assert load_rules(write_rules(tmp_path, spelled, "e.yml")).hash == base
    defer = mutate(MINIMAL, "{kind: red_line}", "{kind: red_line, defer_inside: [nature_reserve]}")
    rs = load_rules(write_rules(tmp_path, defer, "f.yml"))
    assert rs.hash != base
    assert rs.read_kinds == {"control_unit", "red_line", "nature_reserve"}
    assert rs.kinds == ["control_unit", "red_line"]


def test_hash_changes_with_content(tmp_path):
    base = load_rules(write_rules(tmp_path, MINIMAL, "a.yml")).hash
    for old, new in [
        ("    verdict: prohibited\n", "    verdict: restricted\n"),
        ('article: "第一条"', 'article: "第三条"'),
        ("        when: {air: true}\n", "        when: {air: false}\n"),
        ('version: "1"', 'version: "2"'),
    ]:
        changed = load_rules(write_rules(tmp_path, mutate(MINIMAL, old, new), "b.yml")).hash
        assert changed != base, new


# =============================================================================================
# Evaluation on hand-made hits (the overlay engine's contract), no geometry
# =============================================================================================

COND_RULES = """\
id: cond
version: "1"
title: condition tests
status: draft
documents:
  law: {title: A law, issuer: Someone, date: "2020-01-01"}
rules:
"""
COND = {
    "p.C2614": "when: {industry: [C2614]}",
    "p.2614": 'when: {industry: ["2614"]}',
    "p.26": 'when: {industry: ["26"]}',
    "p.C": "when: {industry: [C]}",
    "p.C26": "when: {industry: [C26]}",
    "p.25or46": 'when: {industry: ["25", "46"]}',
    "f.air": "when: {air: true}",
    "f.noair": "when: {air: false}",
    "n.new": "when: {nature: [new, expansion]}",
    "alt": "when: [{air: true}, {wastewater: true}]",
    "and": "when: {air: true, wastewater: true}",
    "unl": 'unless: [{linear: true}, {industry: ["461"]}]',
    "cond.air": "when: {air: true}",
}


def cond_rule_set(tmp_path) -> RuleSet:
    items = []
    for rid, cond in COND.items():
        verdict = "conditional" if rid == "cond.air" else "prohibited"
        items.append(
            f"  - id: {rid}\n    applies_to: {{kind: red_line}}\n    {cond}\n"
            f"    dimension: 空间布局约束\n    verdict: {verdict}\n"
            f'    citation: {{document: law, article: "{rid}"}}\n'
            f"    message: {{zh: 测试, en: test}}"
        )
    return load_rules(write_rules(tmp_path, COND_RULES + "\n".join(items)))


def frames(sites: list[dict], kind: str = "red_line", **feature):
    """A sites frame and the hits/summary the engine gives when every site lies in one feature."""
    n = len(sites)
    s = pd.DataFrame(sites)
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
            **{k: v for k, v in feature.items()},
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


def fired(reasons: pd.DataFrame, site: int, status: str = "applies") -> set[str]:
    r = reasons[(reasons["site"] == site) & (reasons["status"] == status)]
    return set(r["rule_id"].dropna())


def test_industry_prefixes_with_and_without_section_letter(tmp_path):
    rs = cond_rule_set(tmp_path)
    flags = dict(air=False, wastewater=False, linear=False, nature="rebuild")
    codes = ["C2614", "2614", " c 2614", "C2619", "2619", "C2511", "D4610", "D4620", "H6210"]
    s, h, summ = frames([{"industry": c, **flags} for c in codes])
    reasons = evaluate(rs, s, h, summ)
    industry_rules = {"p.C2614", "p.2614", "p.26", "p.C", "p.C26", "p.25or46"}
    got = [fired(reasons, i) & industry_rules for i in range(len(codes))]
    # hand-made truth table
    assert got[0] == {"p.C2614", "p.2614", "p.26", "p.C", "p.C26"}
    assert got[1] == got[0], "a code without its section letter matches letter prefixes too"
    assert got[2] == got[0], "case and spaces do not matter"
    assert got[3] == got[4] == {"p.26", "p.C", "p.C26"}
    assert got[5] == {"p.C", "p.25or46"}
    assert got[6] == got[7] == {"p.25or46"}
    assert got[8] == set()
    # the exception: industry 461 lifts "unl"; 462 (sewage treatment) does not
    assert "unl" not in fired(reasons, 6) and "unl" in fired(reasons, 7)


def test_flags_nature_alternatives_and_conjunctions(tmp_path):
    rs = cond_rule_set(tmp_path)
    base = dict(industry="H6210", linear=False, wastewater=False, air=False, nature="new")
    sites = [
        {**base},  # 0: nothing
        {**base, "air": True},  # 1
        {**base, "wastewater": True},  # 2
        {**base, "air": True, "wastewater": True},  # 3
        {**base, "nature": "rebuild"},  # 4
        {**base, "nature": "expansion", "linear": True},  # 5
    ]
    s, h, summ = frames(sites)
    reasons = evaluate(rs, s, h, summ)
    flag_rules = {"f.air", "f.noair", "n.new", "alt", "and", "unl", "cond.air"}
    got = [fired(reasons, i) & flag_rules for i in range(len(sites))]
    assert got[0] == {"f.noair", "n.new", "unl"}
    assert got[1] == {"f.air", "cond.air", "n.new", "alt", "unl"}
    assert got[2] == {"f.noair", "n.new", "alt", "unl"}
    assert got[3] == {"f.air", "cond.air", "n.new", "alt", "and", "unl"}
    assert got[4] == {"f.noair", "unl"}
    assert got[5] == {"f.noair", "n.new"}, "linear=true grants the exception"
    # nothing undecided when everything is declared
    assert not (reasons["status"] == "needs_attribute").any()


def test_undeclared_attribute_is_never_a_silent_permit(tmp_path):
    rs = cond_rule_set(tmp_path)
    sites = [
        dict(industry=None, nature=None, linear=None, wastewater=None, air=None),  # 0
        dict(industry="H6210", nature="new", linear=None, wastewater=None, air=False),  # 1
        dict(industry="H6210", nature="new", linear=None, wastewater=None, air=True),  # 2
    ]
    s, h, summ = frames(sites)
    reasons = evaluate(rs, s, h, summ)

    def row(site, rid):
        r = reasons[(reasons["site"] == site) & (reasons["rule_id"] == rid)]
        assert len(r) == 1, (site, rid, r)
        return r.iloc[0]

    # a prohibiting rule that may apply: unknown, saying what to declare
    r = row(0, "f.air")
    assert (r["status"], r["verdict"]) == ("needs_attribute", "unknown")
    assert "air not declared" in r["assumptions"] and "--air" in r["assumptions"]
    r = row(0, "p.26")
    assert (r["status"], r["verdict"]) == ("needs_attribute", "unknown")
    assert "industry not declared" in r["assumptions"]
    # a conditional rule that may apply keeps its level (the worst it can mean)
    r = row(0, "cond.air")
    assert (r["status"], r["verdict"]) == ("needs_attribute", "conditional")
    # an exception that cannot be checked is not granted
    r = row(0, "unl")
    assert (r["status"], r["verdict"]) == ("applies", "prohibited")
    assert "exception not granted" in r["assumptions"]
    assert "linear, industry not declared: exception not granted" in r["assumptions"]
    r = row(1, "unl")  # industry H6210 is known not to be 461; linear undeclared
    assert r["status"] == "applies" and "linear not declared" in r["assumptions"]
    # one alternative known false, the other undeclared: undecided; one known true: applies
    assert row(1, "alt")["status"] == "needs_attribute"
    assert "wastewater not declared" in row(1, "alt")["assumptions"]
    assert row(2, "alt")["status"] == "applies"
    # a conjunction with one part known false is decided: it does not apply
    assert ((reasons["site"] == 1) & (reasons["rule_id"] == "and")).sum() == 0
    assert row(2, "and")["status"] == "needs_attribute"
    verdicts = site_verdicts(reasons, 3)
    assert list(verdicts) == ["prohibited"] * 3
    assert set(reasons["status"]) <= set(STATUSES)


def test_overall_verdict_is_the_most_severe_and_every_reason_is_listed(tmp_path):
    text = COND_RULES + (
        "\n".join(
            f"  - id: v.{v}\n    applies_to: {{kind: red_line}}\n    when: {{air: true}}\n"
            f"    dimension: 空间布局约束\n    verdict: {v}\n"
            f'    citation: {{document: law, article: "{v}"}}\n    message: {{zh: 测试, en: {v}}}'
            for v in ("conditional", "prohibited", "permitted", "restricted")
        )
    )
    rs = load_rules(write_rules(tmp_path, text))
    base = dict(industry="H6210", nature="new", linear=False, wastewater=False)
    s, h, summ = frames([{**base, "air": True}, {**base, "air": False}])
    reasons = evaluate(rs, s, h, summ)
    assert list(reasons.columns[: len(REASON_COLUMNS)]) == list(REASON_COLUMNS)
    mine = reasons[reasons["site"] == 0]
    # all four reasons, most severe first, then rule-set order
    assert list(mine["rule_id"]) == ["v.prohibited", "v.restricted", "v.conditional", "v.permitted"]
    assert list(mine["article"]) == ["prohibited", "restricted", "conditional", "permitted"]
    assert list(site_verdicts(reasons, 2)) == ["prohibited", "permitted"]
    ids, verdict = hit_verdicts(reasons, h)
    assert ids.iloc[0] == "v.prohibited; v.restricted; v.conditional; v.permitted"
    assert verdict.iloc[0] == "prohibited"
    assert ids.iloc[1] == "" and pd.isna(verdict.iloc[1])
    # severity order of the verdict levels, by hand
    assert sorted(SEVERITY, key=SEVERITY.get) == [
        "permitted",
        "conditional",
        "restricted",
        "unknown",
        "prohibited",
    ]


ORDER_RULES = """\
id: order
version: "1"
title: reason order
status: draft
documents:
  law: {title: A law, issuer: Someone, date: "2020-01-01"}
rules:
  - {id: o.out, applies_to: {kind: development_boundary, relation: outside}, ...}
  - {id: f.line, applies_to: {kind: red_line}, ...}
lists:
  - id: city
    title_zh: 全市
    title_en: city
    rules:
      - {id: c.root, ...}
      - {id: c.ban, when: {air: true}, verdict: prohibited, ...}
  - id: city/key
    title_zh: 重点
    title_en: key
    rules: [{id: c.key, ...}]
  - id: city/key/park
    title_zh: 园区
    title_en: park
    rules: [{id: c.park, ...}]
  - id: unit/U1
    parent: city/key/park
    title_zh: 单元
    title_en: unit
    rules:
      - {id: u.maybe, when: {hazardous: true}, ...}
      - {id: u.one, ...}
"""


def test_reasons_of_equal_severity_are_ordered_by_specificity(tmp_path):
    # written in the YAML in an order the result must not follow
    common = (
        "dimension: 空间布局约束, citation: {document: law, article: x}, message: {zh: 测试, en: t}"
    )
    text = ORDER_RULES.replace("...", "verdict: conditional, " + common)
    text = text.replace("verdict: prohibited, verdict: conditional", "verdict: prohibited")
    rs = load_rules(write_rules(tmp_path, text))
    s = pd.DataFrame([dict(site_id="s0", industry="H6210", nature="new", air=True)])
    h = pd.DataFrame(
        {
            "site": [0, 0],
            "site_id": "s0",
            "layer_id": ["RL", "CU"],
            "kind": ["red_line", "control_unit"],
            "feature_id": ["F1", "U1"],
            "relation": "intersects",
            "distance_m": 0.0,
            "unit_code": [None, "U1"],
            "category": [None, "key"],
        }
    )
    summ = pd.DataFrame(
        {
            "site": [0, 0, 0],
            "site_id": "s0",
            "layer_id": ["RL", "CU", "UDB"],
            "kind": ["red_line", "control_unit", "development_boundary"],
            "status": "ok",
            "hit": [True, True, False],
            "share_of_site": [1.0, 1.0, 0.0],
        }
    )
    reasons = evaluate(rs, s, h, summ)
    # by hand: most severe first; then decided before undecided; then the rule on the feature
    # the site lies in, the unit's own clause, the lists from the deepest to the root, and the
    # rule on lying outside a layer
    assert list(reasons["rule_id"]) == [
        "c.ban",
        "f.line",
        "u.one",
        "c.park",
        "c.key",
        "c.root",
        "o.out",
        "u.maybe",
    ]
    assert list(reasons["status"]) == ["applies"] * 7 + ["needs_attribute"]
    assert list(reasons["verdict"]) == ["prohibited"] + ["conditional"] * 7


@pytest.mark.slow
def test_demo_unit_clause_is_the_main_reason_of_park_projects(demo_layers):
    # review: the 化工区 and 宝武 projects were summed up by the generic key.emissions rule
    units = demo_layers["control_units"].gdf
    heavy = dict(wastewater=True, air=True, hazardous=True)
    for code, attrs, rule_id in (
        ("ZH31011620002", {**C26, **heavy}, "scip.chemical"),
        ("ZH31011320002", {**STEEL, **heavy, "nature": "expansion"}, "baowu.steel"),
    ):
        geom = units.loc[units["unit_code"] == code, "geometry"].item()
        pt = gpd.GeoSeries([geom.representative_point()], crs=units.crs).to_crs(4326).item()
        res = screen(points=[(pt.x, pt.y)], layers=demo_layers, attributes={**BASE, **attrs})
        assert res.reasons["rule_id"].iloc[0] == rule_id
        assert {"key.emissions", "key.risk"} <= set(res.reasons["rule_id"])
        assert res.sites["reasons_en"].item().startswith(f"{rule_id} (conditional)")


def test_feature_where_filters_with_aliases_and_unrecognised_values(tmp_path):
    rs = load_rules()
    attrs = dict(
        industry="H6210",
        nature="new",
        linear=False,
        wastewater=False,
        air=False,
        hazardous=False,
        two_high=False,
        discharge="none",
        facility="none",
    )
    levels = ["一级保护区", " Level1 ", "二级", "一级区", None]
    s, h, summ = frames([attrs] * len(levels), kind="water_source_zone")
    h["level"] = levels
    reasons = evaluate(rs, s, h, summ)
    assert "water_source.level1" in fired(reasons, 0)
    assert "water_source.level1" in fired(reasons, 1)
    assert not ({"water_source.level1", "water_source.level2"} & fired(reasons, 2))
    for site, why in (
        (3, "has level '一级区', which rule set shanghai_demo does not recognise"),
        (4, "has no level value"),
    ):
        r = reasons[(reasons["site"] == site) & (reasons["kind"] == "water_source_zone")]
        # water_source.level1 has no condition: it may apply, so the value must be known
        assert "water_source.level1" in set(r["rule_id"]), r
        assert (r["verdict"] == "unknown").all()
        assert all(why in m for m in r["message_en"])
    # level2 and quasi cannot apply to a project that discharges nothing: no unknown for them
    r = reasons[(reasons["site"] == 3) & (reasons["kind"] == "water_source_zone")]
    assert not ({"water_source.level2", "water_source.quasi"} & set(r["rule_id"]))


def test_bad_project_attributes_are_refused_by_evaluate(tmp_path):
    rs = cond_rule_set(tmp_path)
    good = dict(industry="C2614", nature="new", linear=False, wastewater=False, air=False)
    for key, value, text in [
        ("air", "no", "air 'no' is not true or false"),
        ("nature", "新建", "nature '新建' is not one of new, expansion, rebuild, relocation"),
        ("industry", 2614, "industry 2614 is not a GB/T 4754-2017 code as text"),
        ("industry", "26x", "industry '26x' is not"),
    ]:
        s, h, summ = frames([good, {**good, key: value}])
        with pytest.raises(ValueError, match=re.escape(f"sites row 1 (site s1): {text}")):
            evaluate(rs, s, h, summ)


def test_within_relation_and_a_short_distance_search(tmp_path):
    rs = load_rules()
    chem = dict(
        industry="C2614",
        nature="new",
        linear=False,
        wastewater=False,
        air=False,
        hazardous=False,
        two_high=True,
    )
    s, h, summ = frames([chem, chem, chem], kind="shoreline", stream="main")
    h["relation"] = ["intersects", "nearby", "nearby"]
    h["distance_m"] = [0.0, 999.0, 1001.0]
    reasons = evaluate(rs, s, h, summ)
    assert "yangtze.chemical" in fired(reasons, 0)
    assert "yangtze.chemical" in fired(reasons, 1)
    assert "yangtze.chemical" not in fired(reasons, 2)
    # the engine searched only 500 m: a site with nothing found within 500 m cannot be cleared
    s2, h2, summ2 = frames([chem, chem], kind="shoreline", stream="main")
    h2 = h2.iloc[:1].assign(relation="nearby", distance_m=400.0)
    reasons = evaluate(rs, s2, h2, summ2, search_radius_m=500)
    assert "yangtze.chemical" in fired(reasons, 0)
    r = reasons[(reasons["site"] == 1) & (reasons["rule_id"] == "yangtze.chemical")]
    assert list(r["status"]) == ["layer_missing"] and list(r["verdict"]) == ["unknown"]
    assert "shorter than rule yangtze.chemical needs (1000 m)" in r["message_en"].iloc[0]


# =============================================================================================
# Inheritance: sub-unit lists inherit and override ("亚单元+清单")
# =============================================================================================

INHERIT = """\
id: inh
version: "1"
title: inheritance
status: draft
documents:
  law: {title: A law, issuer: Someone, date: "2020-01-01"}
lists:
  - id: city
    title_zh: 全市
    title_en: city
    rules:
      - {id: c.air, when: {air: true}, dimension: 污染物排放管控, verdict: prohibited,
         citation: {document: law, article: "1"}, message: {zh: 一, en: one}}
      - {id: c.all, dimension: 空间布局约束, verdict: conditional,
         citation: {document: law, article: "2"}, message: {zh: 二, en: two}}
  - id: city/key
    title_zh: 重点
    title_en: key
    rules:
      - {id: k.air, overrides: [c.air], when: {air: true}, dimension: 污染物排放管控,
         verdict: restricted, citation: {document: law, article: "3"},
         message: {zh: 三, en: three}}
  - id: unit/U1
    parent: city/key
    title_zh: 单元一
    title_en: unit one
    rules:
      - {id: u.all, overrides: [c.all], dimension: 空间布局约束, verdict: prohibited,
         citation: {document: law, article: "4"}, message: {zh: 四, en: four}}
  - id: city/general
    title_zh: 一般
    title_en: general
"""


def test_sub_unit_lists_inherit_and_override_only_for_their_units(tmp_path):
    rs = load_rules(write_rules(tmp_path, INHERIT))
    assert rs.parent_of("city/key") == "city" and rs.parent_of("unit/U1") == "city/key"
    assert rs.parent_of("city") is None
    assert [r.id for r in rs.rules_for_list("city")] == ["c.air", "c.all"]
    assert [r.id for r in rs.rules_for_list("city/key")] == ["c.all", "k.air"]
    assert [r.id for r in rs.rules_for_list("unit/U1")] == ["k.air", "u.all"]
    assert [r.id for r in rs.rules_for_list("city/general")] == ["c.air", "c.all"]

    attrs = dict(industry="H6210", nature="new", air=True)
    s, h, summ = frames([attrs] * 4, kind="control_unit")
    # unit U1 by access list; a key unit; a general unit; a unit whose CODE has a list
    h["unit_code"] = ["U1", "K9", "G9", "U1"]
    h["access_list"] = ["unit/U1", "city/key", "city/general", "city/general"]
    h["category"] = ["key", "key", "general", "general"]
    reasons = evaluate(rs, s, h, summ)
    assert fired(reasons, 0) == {"k.air", "u.all"}
    assert fired(reasons, 1) == {"c.all", "k.air"}
    assert fired(reasons, 2) == {"c.air", "c.all"}
    assert fired(reasons, 3) == {"k.air", "u.all"}, "a unit/<code> list wins over access_list"
    by_site = reasons.groupby("site")["list_id"].agg(set)
    assert by_site[0] == {"unit/U1"} and by_site[2] == {"city/general"}
    assert list(site_verdicts(reasons, 4)) == [
        "prohibited",
        "restricted",
        "prohibited",
        "prohibited",
    ]


def test_override_of_a_rule_overridden_higher_up_is_refused(tmp_path):
    text = INHERIT.replace("overrides: [c.all]", "overrides: [c.air]")
    msg = load_error(tmp_path, text)
    assert "list 'unit/U1'" in msg and "rule 'u.all'" in msg and "key 'overrides'" in msg
    assert "'c.air' is not inherited by this list (parent 'city/key')" in msg


def test_unit_lists_fall_back_to_their_category_visibly(tmp_path):
    rs = load_rules(write_rules(tmp_path, INHERIT))
    attrs = dict(industry="H6210", nature="new", air=False)
    s, h, summ = frames([attrs] * 3, kind="control_unit")
    h["unit_code"] = ["Z1", "Z2", "Z3"]
    h["access_list"] = ["unit/Z1", None, "special"]
    h["category"] = ["key", "一般管控单元", None]
    reasons = evaluate(rs, s, h, summ)
    # named list missing: the category list applies AND an unknown says what was not checked
    assert fired(reasons, 0) == {"c.all"}
    miss = reasons[(reasons["site"] == 0) & (reasons["status"] == "no_access_list")]
    assert list(miss["verdict"]) == ["unknown"] and list(miss["list_id"]) == ["city/key"]
    assert (
        "names access list 'unit/Z1', which rule set inh does not hold"
        in miss["message_en"].iloc[0]
    )
    note = reasons[(reasons["site"] == 0) & (reasons["rule_id"] == "c.all")]["assumptions"]
    assert "access list 'unit/Z1' is not in the rule set; used 'city/key'" in note.iloc[0]
    # no list named: the category list is the unit's list (a note, no unknown)
    assert fired(reasons, 1) == {"c.all"}
    assert not ((reasons["site"] == 1) & (reasons["status"] == "no_access_list")).any()
    note = reasons[(reasons["site"] == 1) & (reasons["rule_id"] == "c.all")]["assumptions"]
    assert "the unit names no access list; used 'city/general'" in note.iloc[0]
    # neither a list nor a category: unknown
    r = reasons[reasons["site"] == 2]
    assert list(r["status"]) == ["no_access_list"] and list(r["verdict"]) == ["unknown"]
    assert list(site_verdicts(reasons, 3)) == ["unknown", "conditional", "unknown"]


# =============================================================================================
# A hand-made world of real layer files, screened with the real engine
# =============================================================================================

STEP = 0.03  # degrees between cell origins
SIZE = 0.02  # cell side (about 1.9 km x 2.2 km)


def cell(i: int, j: int) -> Polygon:
    x0, y0 = 121.0 + STEP * i, 31.0 + STEP * j
    return box(x0, y0, x0 + SIZE, y0 + SIZE)


def centre(i: int, j: int) -> tuple[float, float]:
    c = cell(i, j).centroid
    return (round(c.x, 6), round(c.y, 6))


DISTRICT = box(120.95, 30.95, 121.45, 31.25)
UDB = box(120.99, 30.99, 121.37, 31.085)  # rows 0-2 of cells are inside the boundary
SHORE_Y = 31.12
SHORE = LineString([(121.0, SHORE_Y), (121.36, SHORE_Y)])
SHORE_X = 121.18
TRIB_Y = 31.235  # a tributary shoreline (stream: tributary), about 12.5 km north of SHORE
TRIB = LineString([(121.0, TRIB_Y), (121.36, TRIB_Y)])


def north_of_shore(metres: float) -> tuple[float, float]:
    lon, lat, _ = GEOD.fwd(SHORE_X, SHORE_Y, 0.0, metres)
    return (round(lon, 7), round(lat, 7))


# unit row j=1: (list or code, category)
UNITS = {
    "priority": ("T-PRI", "city/priority", "priority"),
    "key": ("T-KEY", "city/key", "key"),
    "park": ("T-PARK", "city/key/industrial_park", "key"),
    "urban": ("T-URB", "city/key/urban", "key"),
    "port": ("T-PORT", "city/key/port", "key"),
    "general": ("T-GEN", "city/general", "general"),
    "scip": ("ZH31011620002", "unit/ZH31011620002", "key"),
    "baowu": ("ZH31011320002", "unit/ZH31011320002", "key"),
    "hpup": ("ZH31011810001", "unit/ZH31011810001", "priority"),
    "qcs": ("ZH31015110001", "unit/ZH31015110001", "priority"),
    "jinshan2": ("ZH31011620001", "unit/ZH31011620001", "key"),
    "lingang": ("ZH31011520004", "unit/ZH31011520004", "key"),
}
# unit row j=2: units whose list the rule set does not hold
ODD_UNITS = {
    "odd_named": ("ZH99999999999", "unit/ZH99999999999", "重点管控单元"),
    "odd_bare": ("T-BARE", None, "general"),
    "odd_none": ("T-NONE", "no-such-list", None),
}

# the rest of the district
BACKGROUND = ("T-BG", "city/general", "general")

PLACES: dict[str, tuple[float, float]] = {
    "red_line": centre(0, 0),
    "level1": centre(1, 0),
    "level2": centre(2, 0),
    "quasi": centre(3, 0),
    "core": centre(4, 0),
    "buffer": centre(5, 0),
    "experimental": centre(6, 0),
    "farmland": centre(7, 0),
    "core26": centre(8, 0),  # 2026 zoning: 核心保护区
    "general26": centre(9, 0),  # 2026 zoning: 一般控制区
    "heritage_range": centre(10, 0),
    "heritage_zone": centre(11, 0),
    "noise": centre(12, 0),
    "water": centre(13, 0),
    **{f"unit_{k}": centre(i, 1) for i, k in enumerate(UNITS)},
    **{k: centre(i, 2) for i, k in enumerate(ODD_UNITS)},
    "shore_500": north_of_shore(500.0),
    "shore_1500": north_of_shore(1500.0),
    "shore_2000": north_of_shore(2000.0),
    "trib_500": (121.18, round(TRIB_Y - 500.0 / 111_195.0, 7)),  # about 500 m south of TRIB
    "udb_in": (121.36, 31.03),
    "udb_out": (121.2, 31.2),
    "nowhere": (121.6, 31.4),  # outside the district: outside coverage
}


def world_layers(folder: Path, *, wsz_levels=("level1", "level2", "quasi")) -> list[dict]:
    """Catalog entries of the hand-made world (files written into ``folder``)."""
    units = {**UNITS, **ODD_UNITS, "background": BACKGROUND}
    unit_geoms = [cell(i, 1) for i in range(len(UNITS))] + [
        cell(i, 2) for i in range(len(ODD_UNITS))
    ]
    # a general unit covers the rest of the district, so every site inside lies in a unit
    unit_geoms.append(DISTRICT.difference(shapely.union_all(unit_geoms)))
    return [
        {
            "id": "districts",
            "kind": "district",
            "source": layer_file(folder, "districts", [DISTRICT], name=["测试区"]),
            "fields": {"id": "fid_", "name": "name"},
        },
        {
            "id": "red",
            "kind": "red_line",
            "source": layer_file(folder, "red", [cell(0, 0)], realm=["land"]),
            "fields": {"id": "fid_", "realm": "realm"},
        },
        {
            "id": "wsz",
            "kind": "water_source_zone",
            "source": layer_file(
                folder, "wsz", [cell(1, 0), cell(2, 0), cell(3, 0)], level=list(wsz_levels)
            ),
            "fields": {"id": "fid_", "level": "level"},
        },
        {
            "id": "reserves",
            "kind": "nature_reserve",
            "source": layer_file(
                folder,
                "reserves",
                [cell(4, 0), cell(5, 0), cell(6, 0)],
                zone=["core", "buffer", "experimental"],
            ),
            "fields": {"id": "fid_", "category": "zone"},
        },
        {
            "id": "reserves26",
            "kind": "nature_reserve",
            "source": layer_file(
                folder, "reserves26", [cell(8, 0), cell(9, 0)], zone=["核心保护区", "一般控制区"]
            ),
            "fields": {"id": "fid_", "category": "zone"},
        },
        {
            "id": "heritage",
            "kind": "heritage_site",
            "source": layer_file(
                folder, "heritage", [cell(10, 0), cell(11, 0)], cat=["保护范围", "建设控制地带"]
            ),
            "fields": {"id": "fid_", "category": "cat"},
        },
        {
            "id": "noise",
            "kind": "noise_sensitive_area",
            "source": layer_file(folder, "noise", [cell(12, 0)]),
            "fields": {"id": "fid_"},
        },
        {
            "id": "water",
            "kind": "water",
            "source": layer_file(folder, "water", [cell(13, 0)]),
            "fields": {"id": "fid_"},
        },
        {
            "id": "farm",
            "kind": "basic_farmland",
            "source": layer_file(folder, "farm", [cell(7, 0)]),
            "fields": {"id": "fid_"},
        },
        {
            "id": "udb",
            "kind": "development_boundary",
            "source": layer_file(folder, "udb", [UDB]),
            "fields": {"id": "fid_"},
        },
        {
            "id": "units",
            "kind": "control_unit",
            "source": layer_file(
                folder,
                "units",
                unit_geoms,
                code=[v[0] for v in units.values()],
                acc=[v[1] for v in units.values()],
                cat=[v[2] for v in units.values()],
            ),
            "fields": {"id": "code", "unit_code": "code", "access_list": "acc", "category": "cat"},
        },
        {
            "id": "shore",
            "kind": "shoreline",
            "source": layer_file(folder, "shore", [SHORE, TRIB], stream=["main", "tributary"]),
            "fields": {"id": "fid_", "stream": "stream"},
        },
    ]


@pytest.fixture(scope="module")
def rules_world(tmp_path_factory):
    folder = tmp_path_factory.mktemp("world")
    return load_catalog(write_catalog(folder / "catalog.yml", world_layers(folder)))


BASE = dict(
    # 企业总部管理: an office (since 2026.12 a restaurant gets the catering rules)
    industry="L7211",
    nature="new",
    linear=False,
    wastewater=False,
    air=False,
    hazardous=False,
    two_high=False,
    # the facts of issue 12 §3, declared: nothing to discharge, no facility, no claim
    discharge="none",
    key_project=False,
    red_line_activity="none",
    facility="none",
    residential_building=False,
    noise=False,
)
#: The day before the 2026 自然保护区条例 (the 2017 reserve rules are in force).
BEFORE_2026 = "2026-03-01"
#: Shipped rules of the 2017 reserve regime (in force up to 2026-03-14).
RULES_2017 = {
    "nature_reserve.core_buffer",
    "nature_reserve.experimental_polluting",
    "nature_reserve.experimental",
}


def site_frame(sites: list[tuple[str, str, dict]]) -> pd.DataFrame:
    rows = []
    for sid, place, attrs in sites:
        lon, lat = PLACES[place]
        rows.append({"id": sid, "lon": lon, "lat": lat, **{**BASE, **attrs}})
    return pd.DataFrame(rows)


def test_world_places_lie_where_the_tests_assume():
    # independent of the engine: shapely on lon/lat and geodesic distances
    assert shapely.contains_xy(cell(0, 0), *PLACES["red_line"])
    assert shapely.contains_xy(UDB, *PLACES["udb_in"])
    assert not shapely.contains_xy(UDB, *PLACES["udb_out"])
    assert not shapely.contains_xy(DISTRICT, *PLACES["nowhere"])
    for place, metres in (("shore_500", 500.0), ("shore_1500", 1500.0)):
        lon, lat = PLACES[place]
        _, _, d = GEOD.inv(SHORE_X, SHORE_Y, lon, lat)
        assert d == pytest.approx(metres, abs=0.1)
        assert not shapely.contains_xy(UDB, lon, lat)
    # the nearest other layer is farther than the overlay's search radius from the unit row
    assert cell(0, 1).distance(cell(0, 0)) * 111_000 > 1000


# ------------------------------------------------------------------- one case per shipped rule

# rule id -> (verdict, document, article, dimension, list id or None, fires, quiet)
# "fires" / "quiet": (place, attributes over BASE).  Written by hand from the legal texts.
C26 = dict(industry="C2614", two_high=True)  # 有机化学原料制造
STEEL = dict(industry="C3110", two_high=True)  # 炼铁
POWER = dict(industry="D4411", two_high=True)  # 火力发电
# fmt: off
CASES: dict[str, tuple] = {
    # --- red line (自然资发〔2022〕142号) and marine outfalls (海洋环境保护法 2023) ---
    "red_line.construction": (
        "prohibited", "nr_2022_142", "一、(一)", "空间布局约束", None,
        [("red_line", {}), ("red_line", C26), ("red_line", {"linear": True})],
        [("red_line", {"red_line_activity": "5"}),
         ("red_line", {"red_line_activity": "6", "linear": True}), ("level1", {})],
    ),
    "red_line.linear": (
        "restricted", "nr_2022_142", "一、(一)第6项", "空间布局约束", None,
        [("red_line", {"red_line_activity": "6", "linear": True}),
         ("red_line", {"red_line_activity": "6", "industry": "D4610"})],
        [("red_line", {}), ("red_line", {"red_line_activity": "5"}),
         ("unit_key", {"red_line_activity": "6"})],
    ),
    "red_line.limited_activity": (
        "restricted", "nr_2022_142", "一、(一)", "空间布局约束", None,
        [("red_line", {"red_line_activity": "1"}), ("red_line", {"red_line_activity": "10"})],
        [("red_line", {}), ("red_line", {"red_line_activity": "6"}),
         ("unit_key", {"red_line_activity": "1"})],
    ),
    "red_line.reclamation": (
        "prohibited", "nr_2022_142", "一、(一)", "空间布局约束", None,
        [("red_line", {"facility": "reclamation", "red_line_activity": "6"})],
        [("red_line", {}), ("unit_key", {"facility": "reclamation"})],
    ),
    "marine.outfall_red_line": (
        "prohibited", "mepl_2023", "第四十八条第一款", "污染物排放管控", None,
        [("red_line", {"discharge": "direct"}),
         ("red_line", {"facility": "outfall", "nature": "expansion"})],
        [("red_line", {"discharge": "sewer", "wastewater": True}),
         ("red_line", {"discharge": "direct", "nature": "rebuild"}),
         ("unit_key", {"discharge": "direct"})],
    ),
    "marine.outfall_reserve": (
        "prohibited", "mepl_2023", "第四十八条第一款", "污染物排放管控", None,
        [("general26", {"discharge": "direct"}), ("core26", {"facility": "outfall"})],
        [("general26", {"discharge": "sewer"}), ("unit_key", {"discharge": "direct"})],
    ),
    # --- water-source zones (水污染防治法 2017; 上海市饮用水水源保护条例 2018) ---
    "water_source.outfall": (
        "prohibited", "wpl_2017", "第六十四条", "污染物排放管控", None,
        [("level1", {"discharge": "direct"}), ("level2", {"discharge": "direct"}),
         ("level2", {"facility": "outfall"})],
        [("level2", {"wastewater": True, "discharge": "sewer"}),
         ("red_line", {"discharge": "direct"}),
         # art. 64 covers the protection zones; the quasi zone lies outside them (art. 63)
         ("quasi", {"discharge": "direct"})],
    ),
    "water_source.level1": (
        "prohibited", "wpl_2017", "第六十五条第一款", "空间布局约束", None,
        [("level1", {}), ("level1", {"linear": True}), ("level1", {"nature": "rebuild"})],
        [("level1", {"industry": "D4610"}), ("level2", {})],
    ),
    "water_source.level2": (
        "prohibited", "wpl_2017", "第六十六条第一款", "污染物排放管控", None,
        [("level2", {"wastewater": True, "discharge": "direct"}),
         ("level2", {"air": True, "nature": "rebuild"})],
        [("level2", {"hazardous": True}), ("level2", {"wastewater": True, "discharge": "sewer"}),
         ("quasi", {"air": True}), ("level2", {})],
    ),
    "water_source.level2_sewer": (
        "restricted", "wpl_2017", "第六十六条第一款", "污染物排放管控", None,
        [("level2", {"wastewater": True, "discharge": "sewer"})],
        [("level2", {"wastewater": True, "discharge": "sewer", "air": True}),
         ("level2", {"wastewater": True, "discharge": "direct"}), ("level2", {}),
         ("quasi", {"wastewater": True, "discharge": "sewer"})],
    ),
    "water_source.level2_waste": (
        "prohibited", "sh_wsp_2018", "第十二条第一款第（三）项", "环境风险防控", None,
        [("level2", {"facility": "waste_storage"}),
         ("level2", {"facility": "slag_yard;livestock"})],
        [("level2", {}), ("level1", {"facility": "waste_storage"})],
    ),
    "water_source.level2_livestock": (
        "prohibited", "sh_wsp_2018", "第十二条第一款第（四）项", "空间布局约束", None,
        [("level2", {"facility": "livestock"})],
        [("level2", {"facility": "waste_storage"}), ("quasi", {"facility": "livestock",
                                                              "nature": "expansion"})],
    ),
    "water_source.quasi": (
        "prohibited", "sh_wsp_2018", "第十四条第一款第（一）项", "污染物排放管控", None,
        # any water-polluting project, not only the heavy industries of 水污染防治法 art. 67
        [("quasi", {"wastewater": True, "discharge": "direct"}),
         ("quasi", {**C26, "discharge": "direct", "nature": "expansion"}),
         ("quasi", {"industry": "C1391", "discharge": "direct", "nature": "relocation"})],
        [("quasi", {"discharge": "direct", "nature": "rebuild"}),
         ("quasi", {**C26, "wastewater": True, "discharge": "sewer"}),
         ("quasi", {"air": True}), ("level2", {"discharge": "direct"})],
    ),
    "water_source.quasi_rebuild": (
        "conditional", "sh_wsp_2018", "第十四条第一款第（一）项", "污染物排放管控", None,
        [("quasi", {"discharge": "direct", "nature": "rebuild"}),
         ("quasi", {"industry": "C1391", "discharge": "direct", "nature": "rebuild"})],
        [("quasi", {"discharge": "direct"}), ("quasi", {"discharge": "sewer", "nature": "rebuild"}),
         ("level2", {"discharge": "direct", "nature": "rebuild"})],
    ),
    "water_source.quasi_waste": (
        "prohibited", "sh_wsp_2018", "第十四条第一款第（二）项", "环境风险防控", None,
        [("quasi", {"facility": "waste_storage"}), ("quasi", {"facility": "slag_yard"})],
        [("quasi", {}), ("level1", {"facility": "waste_storage"})],
    ),
    "water_source.quasi_livestock": (
        "prohibited", "sh_wsp_2018", "第十四条第一款第（六）项", "空间布局约束", None,
        [("quasi", {"facility": "livestock"}),
         ("quasi", {"facility": "livestock", "nature": "relocation"})],
        [("quasi", {"facility": "livestock", "nature": "expansion"}),
         ("level1", {"facility": "livestock"})],
    ),
    "water_source.dangerous_goods_wharf": (
        "prohibited", "sh_wsp_2018", "第十八条第一款", "环境风险防控", None,
        [("level2", {"facility": "dangerous_goods_wharf"}),
         ("quasi", {"facility": "dangerous_goods_wharf", "nature": "rebuild"})],
        [("level1", {"facility": "dangerous_goods_wharf"}), ("quasi", {"hazardous": True})],
    ),
    # --- nature reserves: the 2017 regulation (screened as of 2026-03-01) ---
    "nature_reserve.core_buffer": (
        "prohibited", "nrr_2017", "第三十二条第一款", "空间布局约束", None,
        [("core", {}), ("buffer", {}), ("buffer", {"linear": True})],
        [("experimental", {}), ("core26", {})],
    ),
    "nature_reserve.experimental_polluting": (
        "prohibited", "nrr_2017", "第三十二条第一款", "空间布局约束", None,
        [("experimental", {**C26, "air": True}), ("experimental", {**POWER, "air": True}),
         ("experimental", {"industry": "B0610", "discharge": "direct"})],
        [("experimental", C26), ("experimental", {"discharge": "direct", "air": True}),
         ("core", {**C26, "air": True}), ("general26", {**C26, "air": True})],
    ),
    "nature_reserve.experimental": (
        "conditional", "nrr_2017", "第三十二条第一款", "污染物排放管控", None,
        [("experimental", {}), ("experimental", {**C26, "air": True})],
        [("core", {}), ("buffer", {}), ("general26", {})],
    ),
    # --- nature reserves: the 2026 regulation (screened today) ---
    "nature_reserve.core_protection": (
        "prohibited", "nrr_2026", "第二十六条", "空间布局约束", None,
        [("core26", {}), ("core26", {"linear": True})],
        [("core26", {"red_line_activity": "1"}), ("general26", {}), ("core", {})],
    ),
    "nature_reserve.core_protection_activity": (
        "restricted", "nrr_2026", "第二十六条第（一）项", "空间布局约束", None,
        [("core26", {"red_line_activity": "1"})],
        [("core26", {}), ("general26", {"red_line_activity": "1"})],
    ),
    "nature_reserve.general_control": (
        "prohibited", "nrr_2026_reports",
        "第二十七条（条文未读取，据官方发布报道）",
        "空间布局约束", None,
        # a positive list: a hotel is no longer "conditional"
        [("general26", {}), ("general26", {"industry": "H6110"})],
        [("general26", {"red_line_activity": "5"}), ("general26", {"linear": True}),
         ("experimental", {}), ("core26", {})],
    ),
    "nature_reserve.general_control_activity": (
        "restricted", "nrr_2026_reports",
        "第二十七条（条文未读取，据官方发布报道）",
        "空间布局约束", None,
        [("general26", {"red_line_activity": "5"}), ("general26", {"red_line_activity": "1"})],
        [("general26", {}), ("general26", {"red_line_activity": "6"}),
         ("core26", {"red_line_activity": "5"})],
    ),
    "nature_reserve.general_control_linear": (
        "restricted", "nrr_2026_reports",
        "第二十六条、第二十七条（条文未读取，据官方发布报道）",
        "空间布局约束", None,
        [("general26", {"linear": True}), ("general26", {"red_line_activity": "6"})],
        [("general26", {}), ("core26", {"linear": True})],
    ),
    # --- permanent basic farmland (土地管理法 art. 35; 自然资规〔2018〕3号) ---
    "basic_farmland.occupation": (
        "prohibited", "lal_2019", "第三十五条第一款", "空间布局约束", None,
        [("farmland", {}), ("farmland", {"industry": "A0151"}),
         ("farmland", {"industry": "A0412"}),
         ("farmland", {"linear": True})],  # a linear project that is not a key project
        [("farmland", {"key_project": True}), ("farmland", {"industry": "A0111"}),
         ("farmland", {"industry": "A0141"}), ("red_line", {})],
    ),
    "basic_farmland.key_project": (
        "restricted", "lal_2019", "第三十五条第一款", "空间布局约束", None,
        [("farmland", {"key_project": True}), ("farmland", {"key_project": True, "linear": True})],
        [("farmland", {}), ("farmland", {"linear": True}), ("udb_out", {"key_project": True})],
    ),
    # --- Yangtze shoreline (长江保护法 arts. 26, 49) ---
    "yangtze.chemical": (
        "prohibited", "ycpl_2020", "第二十六条第二款", "空间布局约束", None,
        [("shore_500", C26), ("shore_500", {**C26, "industry": "C2511", "nature": "expansion"}),
         ("shore_500", {"industry": "C2710", "nature": "relocation"}),
         ("trib_500", C26)],  # the tributaries too
        [("shore_500", {**C26, "nature": "rebuild"}), ("shore_500", {}),
         ("shore_1500", C26), ("shore_500", {"industry": "C2521", "two_high": True}),
         ("shore_500", {"industry": "C2682"})],  # cosmetics: physical blending
    ),
    "yangtze.chemical_rebuild": (
        "conditional", "ycpl_2020", "第二十六条第二款", "环境风险防控", None,
        [("shore_500", {**C26, "nature": "rebuild"}), ("trib_500", {**C26, "nature": "rebuild"})],
        [("shore_500", C26), ("shore_1500", {**C26, "nature": "rebuild"})],
    ),
    "yangtze.tailings": (
        "prohibited", "ycpl_2020", "第二十六条第三款", "环境风险防控", None,
        [("shore_2000", {"facility": "tailings_pond"}),
         ("shore_500", {"facility": "slag_yard", "nature": "rebuild"})],
        [("shore_2000", {}), ("trib_500", {"facility": "tailings_pond"}),
         ("udb_out", {"facility": "tailings_pond"})],
    ),
    "yangtze.tailings_tributary": (
        "prohibited", "ycpl_2020", "第二十六条第三款", "环境风险防控", None,
        [("trib_500", {"facility": "tailings_pond"}), ("trib_500", {"facility": "slag_yard"})],
        [("trib_500", {}), ("shore_500", {"facility": "tailings_pond"})],
    ),
    "yangtze.solid_waste": (
        "prohibited", "ycpl_2020", "第四十九条", "环境风险防控", None,
        [("water", {"facility": "waste_storage"}), ("water", {"facility": "slag_yard"})],
        [("water", {}), ("unit_key", {"facility": "waste_storage"})],
    ),
    # --- noise (噪声污染防治法 art. 35), heritage (文物保护法 2024 arts. 28-30) ---
    "noise.industrial": (
        "prohibited", "npl_2021", "第三十五条第二款", "空间布局约束", None,
        [("noise", {"industry": "C3311", "noise": True}),
         ("noise", {"industry": "C3311", "noise": True, "nature": "relocation"})],
        [("noise", {"industry": "C3311"}), ("noise", {"noise": True}),
         ("noise", {"industry": "C3311", "noise": True, "nature": "expansion"}),
         ("unit_key", {"industry": "C3311", "noise": True})],
    ),
    "noise.industrial_expansion": (
        "conditional", "npl_2021", "第三十五条第二款", "污染物排放管控", None,
        [("noise", {"industry": "C3311", "noise": True, "nature": "expansion"}),
         ("noise", {"industry": "C3311", "noise": True, "nature": "rebuild"})],
        [("noise", {"industry": "C3311", "noise": True}),
         ("noise", {"industry": "C3311", "nature": "expansion"})],
    ),
    "heritage.protection_range": (
        "prohibited", "crpl_2024", "第二十八条第一款", "空间布局约束", None,
        [("heritage_range", {}), ("heritage_range", {"nature": "rebuild"})],
        [("heritage_zone", {}), ("unit_key", {})],
    ),
    "heritage.control_zone": (
        "restricted", "crpl_2024", "第二十九条第二款", "空间布局约束", None,
        [("heritage_zone", {})],
        [("heritage_range", {}), ("unit_key", {})],
    ),
    "heritage.polluting": (
        "prohibited", "crpl_2024", "第三十条", "污染物排放管控", None,
        [("heritage_zone", {"industry": "C3311", "air": True}),
         ("heritage_range", {"industry": "C3311", "discharge": "direct"})],
        [("heritage_zone", {"air": True}), ("heritage_zone", {"industry": "C3311"})],
    ),
    "development_boundary.outside": (
        "restricted", "cpc_2019_18", "(十三)", "空间布局约束", None,
        [("udb_out", {}), ("udb_out", {"nature": "expansion"}),
         ("udb_out", {"nature": "relocation"}), ("shore_1500", C26)],
        [("udb_out", {"nature": "rebuild"}), ("udb_out", {"linear": True}),
         ("udb_out", {"industry": "A0111"}), ("udb_in", {})],
    ),
    # --- the city list ---
    "city.chemical_park_only": (
        "prohibited", "miit_2021_220", "园区认定", "空间布局约束", "city/key",
        [("unit_key", C26), ("unit_key", {"industry": "C2710"}),
         ("unit_key", {"industry": "C2511", "nature": "relocation"})],
        [("unit_scip", C26), ("unit_key", {**C26, "nature": "rebuild"}),
         ("unit_key", {"industry": "C2682"}),
         ("unit_key", {"industry": "C2521", "two_high": True})],
    ),
    "city.park_only": (
        "prohibited", "mee_2021_45", "二、(三)", "空间布局约束", "city/key",
        [("unit_key", {"industry": "C3041", "two_high": True}),
         ("unit_key", {"industry": "C3211", "two_high": True, "nature": "relocation"}),
         ("unit_key", {"industry": "C2521", "two_high": True})],
        [("unit_key", C26), ("unit_park", {"industry": "C2521", "two_high": True}),
         ("unit_key", {"industry": "C3240", "two_high": True})],
    ),
    "city.park_only_yangtze": (
        "prohibited", "yrb_neg_2019", "产业类", "空间布局约束", "city/general",
        [("unit_general", STEEL), ("unit_general", {"industry": "C3011", "two_high": True}),
         ("unit_general", {"industry": "C2221"})],
        [("unit_park", STEEL), ("unit_general", POWER),
         ("unit_general", {**STEEL, "nature": "rebuild"})],
    ),
    "city.two_high_outside_park": (
        "restricted", "mee_2021_45", "二、(三)(四)", "污染物排放管控", "city/general",
        [("unit_general", POWER), ("unit_general", {"industry": "C3031", "two_high": True})],
        [("unit_park", POWER), ("unit_general", C26), ("unit_general", STEEL),
         ("unit_general", {**POWER, "nature": "rebuild"}),
         ("unit_general", {"industry": "D4411", "two_high": False})],
    ),
    "air.catering_residential": (
        "prohibited", "apl_2018", "第八十一条第二款", "空间布局约束", "city/key",
        [("unit_key", {"industry": "H6210", "air": True, "residential_building": True})],
        [("unit_key", {"industry": "H6210", "air": True}),
         ("unit_key", {"industry": "H6210", "residential_building": True})],
    ),
    "air.catering_fumes": (
        "conditional", "apl_2018", "第八十一条第一款", "污染物排放管控", "city/key",
        [("unit_key", {"industry": "H6210", "air": True})],
        [("unit_key", {"industry": "H6210"}), ("unit_key", {"air": True})],
    ),
    "efficiency.clean_production": (
        "conditional", "epl_2014", "第四十条第三款", "资源开发效率要求", "city/key",
        [("unit_key", {"industry": "C3311"}), ("unit_key", {"industry": "B0610",
                                                            "nature": "rebuild"})],
        [("unit_key", {}), ("unit_key", {"industry": "D4415"})],
    ),
    "efficiency.services": (
        "conditional", "sh_epr", "第二十六条", "资源开发效率要求", "city/key",
        [("unit_key", {"industry": "H6210"}), ("unit_key", {"industry": "H6110"})],
        [("unit_key", {}), ("unit_key", {"industry": "I6510"})],
    ),
    "priority.industrial": (
        "prohibited", "sh_sxyd_2020", "优先保护单元管控要求", "空间布局约束", "city/priority",
        [("unit_priority", C26), ("unit_priority", {"industry": "B0610"}),
         ("unit_priority", POWER)],
        [("unit_priority", {"industry": "D4420", "linear": True}),
         ("unit_priority", {"industry": "D4610"}),
         # environmental and energy infrastructure is restricted, not prohibited (since 2026.12)
         ("unit_priority", {"industry": "D4620"}), ("unit_priority", {"industry": "D4415"}),
         ("unit_priority", {"industry": "D4416"}), ("unit_priority", {"industry": "D4430"}),
         ("unit_priority", {**C26, "nature": "rebuild"}), ("unit_priority", {})],
    ),
    "priority.development": (
        "restricted", "sh_sxyd_2020", "优先保护单元管控要求", "空间布局约束", "city/priority",
        [("unit_priority", {}), ("unit_priority", {"linear": True}),
         ("unit_priority", {"industry": "D4620"})],
        [("unit_qcs", {}), ("unit_key", {})],
    ),
    "key.emissions": (
        "conditional", "sh_epr", "第二十八条第二款", "污染物排放管控", "city/key",
        [("unit_key", {"wastewater": True}), ("unit_key", {"air": True})],
        [("unit_key", {}), ("unit_general", {"wastewater": True})],
    ),
    "key.regional_limit": (
        "conditional", "sh_epr", "第三十二条第一款", "污染物排放管控", "city/key",
        [("unit_key", {"wastewater": True}), ("unit_key", {"air": True})],
        [("unit_key", {}), ("unit_general", {"air": True})],
    ),
    "key.risk": (
        "conditional", "epl_2014", "第四十七条第三款", "环境风险防控", "city/key",
        [("unit_key", {"hazardous": True})],
        [("unit_key", {"air": True}), ("unit_general", {"hazardous": True})],
    ),
    "park.in_park": (
        "conditional", "mee_2021_45", "二、(三)(四)", "空间布局约束",
        "city/key/industrial_park",
        [("unit_park", STEEL), ("unit_park", {"industry": "C2521", "two_high": True}),
         ("unit_park", {**POWER, "nature": "expansion"})],
        [("unit_park", {**STEEL, "nature": "rebuild"}), ("unit_park", {}),
         ("unit_park", C26),  # chemicals need a recognised chemical park, not any park
         ("unit_scip", C26), ("unit_key", STEEL)],
    ),
    "urban.polluting_industry": (
        "restricted", "sh_sxyd_2020", "重点管控单元管控要求", "空间布局约束", "city/key/urban",
        [("unit_urban", {"industry": "C3311", "air": True}),
         ("unit_urban", {"industry": "C3311", "hazardous": True, "nature": "expansion"})],
        [("unit_urban", {"industry": "C3311"}), ("unit_urban", {"air": True}),
         ("unit_urban", {"industry": "C3311", "air": True, "nature": "rebuild"}),
         ("unit_key", {"industry": "C3311", "air": True})],
    ),
    "port.hazardous": (
        "conditional", "sh_sxyd_2020", "重点管控单元管控要求", "环境风险防控", "city/key/port",
        [("unit_port", {"hazardous": True})],
        [("unit_port", {}), ("unit_general", {"hazardous": True})],
    ),
    "general.basic": (
        "conditional", "epl_2014", "第四十二条第一款", "污染物排放管控", "city/general",
        [("unit_general", {"wastewater": True}), ("unit_general", {"air": True}),
         ("unit_general", {"hazardous": True})],
        [("unit_general", {}), ("unit_key", {"wastewater": True})],
    ),
    # --- unit-specific lists ---
    "scip.chemical": (
        "conditional", "mee_2021_45", "二、(三)", "空间布局约束", "unit/ZH31011620002",
        [("unit_scip", C26), ("unit_scip", {**C26, "industry": "C2511"}),
         ("unit_scip", {"industry": "C2710"})],
        [("unit_scip", {**C26, "nature": "rebuild"}), ("unit_park", C26),
         ("unit_scip", {"industry": "C2682"})],
    ),
    "scip.off_positioning": (
        "restricted", "mee_2021_45", "二、(三)", "空间布局约束", "unit/ZH31011620002",
        [("unit_scip", STEEL), ("unit_scip", {"industry": "C2521", "two_high": True})],
        [("unit_scip", C26), ("unit_scip", {**STEEL, "nature": "rebuild"}),
         ("unit_park", STEEL)],
    ),
    "baowu.steel": (
        "conditional", "mee_2021_45", "二、(四)", "污染物排放管控", "unit/ZH31011320002",
        [("unit_baowu", STEEL),
         ("unit_baowu", {**STEEL, "industry": "C3120", "nature": "expansion"})],
        [("unit_baowu", {**STEEL, "nature": "rebuild"}), ("unit_park", STEEL)],
    ),
    "baowu.off_positioning": (
        "restricted", "mee_2021_45", "二、(三)", "空间布局约束", "unit/ZH31011320002",
        [("unit_baowu", C26), ("unit_baowu", POWER)],
        [("unit_baowu", STEEL), ("unit_baowu", {**C26, "nature": "rebuild"}),
         ("unit_scip", POWER)],
    ),
    "hpup.wastewater": (
        "prohibited", "sh_sxyd_2020", "优先保护单元管控要求", "污染物排放管控",
        "unit/ZH31011810001",
        [("unit_hpup", {"wastewater": True, "discharge": "direct"}),
         ("unit_hpup", {"wastewater": True, "discharge": "direct", "nature": "relocation"})],
        [("unit_hpup", {"wastewater": True, "discharge": "direct", "nature": "rebuild"}),
         ("unit_hpup", {"wastewater": True, "discharge": "sewer"}), ("unit_hpup", {}),
         ("unit_priority", {"wastewater": True, "discharge": "direct"})],
    ),
    "hpup.hazardous": (
        "prohibited", "sh_sxyd_2020", "优先保护单元管控要求", "环境风险防控", "unit/ZH31011810001",
        [("unit_hpup", {"hazardous": True}),
         ("unit_hpup", {"hazardous": True, "nature": "relocation"}),
         ("unit_hpup", {"facility": "dangerous_goods_wharf"})],
        [("unit_hpup", {"hazardous": True, "nature": "expansion"}),
         ("unit_hpup", {"hazardous": True, "nature": "rebuild"}), ("unit_hpup", {})],
    ),
    "qcs.construction": (
        "prohibited", "sh_sxyd_2020", "优先保护单元管控要求", "空间布局约束",
        "unit/ZH31015110001",
        [("unit_qcs", {}), ("unit_qcs", {"nature": "rebuild"})],
        [("unit_qcs", {"linear": True}), ("unit_qcs", {"industry": "D4610"}),
         ("unit_priority", {})],
    ),
    "qcs.linear": (
        "restricted", "sh_sxyd_2020", "优先保护单元管控要求", "空间布局约束",
        "unit/ZH31015110001",
        [("unit_qcs", {"linear": True}), ("unit_qcs", {"industry": "D4610"})],
        [("unit_qcs", {}), ("unit_priority", {"linear": True})],
    ),
    "jinshan2.refining": (
        "restricted", "mee_2021_45", "二、(三)", "空间布局约束", "unit/ZH31011620001",
        [("unit_jinshan2", {**C26, "industry": "C2511"}),
         ("unit_jinshan2", {**C26, "industry": "C2521"})],
        [("unit_jinshan2", C26),
         ("unit_jinshan2", {**C26, "industry": "C2511", "nature": "rebuild"}),
         ("unit_park", {**C26, "industry": "C2511"})],
    ),
    "lingang.chemical": (
        "restricted", "mee_2021_45", "二、(三)", "空间布局约束", "unit/ZH31011520004",
        [("unit_lingang", C26), ("unit_lingang", {**C26, "industry": "C2521"})],
        [("unit_lingang", {"industry": "C3411"}), ("unit_lingang", {**C26, "nature": "rebuild"}),
         ("unit_park", C26)],
    ),
}
# fmt: on


def shipped_rule_ids() -> set[str]:
    """Rule ids of the shipped YAML, read with PyYAML (not through the loader)."""
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    ids = {r["id"] for r in data.get("rules", [])}
    for lst in data.get("lists", []):
        ids |= {r["id"] for r in lst.get("rules", [])}
    return ids


def test_every_shipped_rule_has_a_case():
    assert set(CASES) == shipped_rule_ids()
    assert len(CASES) == len(load_rules().rules) + sum(len(x.rules) for x in load_rules().lists)


@pytest.fixture(scope="module")
def case_result(rules_world):
    """The cases screened today, and the 2017 reserve rules' cases before 2026-03-15."""
    out = {}
    for old in (False, True):
        sites = []
        for rid, (*_, fires, quiet) in CASES.items():
            if (rid in RULES_2017) != old:
                continue
            sites += [(f"{rid}|fire|{k}", place, a) for k, (place, a) in enumerate(fires)]
            sites += [(f"{rid}|quiet|{k}", place, a) for k, (place, a) in enumerate(quiet)]
        out[old] = screen(site_frame(sites), rules_world, as_of=BEFORE_2026 if old else None)
    return out


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_shipped_rule(case_result, rule_id):
    verdict, document, article, dimension, list_id, fires, quiet = CASES[rule_id]
    result = case_result[rule_id in RULES_2017]
    reasons = result.reasons
    overall = result.sites.set_index("site_id")["verdict"]
    for k, (place, attrs) in enumerate(fires):
        sid = f"{rule_id}|fire|{k}"
        r = reasons[(reasons["site_id"] == sid) & (reasons["rule_id"] == rule_id)]
        assert len(r) >= 1, f"{rule_id} did not fire at {place} with {attrs}"
        assert set(r["status"]) == {"applies"}, r[["status", "assumptions"]]
        assert set(r["verdict"]) == {verdict}
        assert set(r["document"]) == {document}
        assert set(r["article"]) == {article}
        assert set(r["dimension"]) == {dimension}
        assert all(c.endswith(f", {article}") for c in r["citation"])
        if list_id is None:
            assert r["list_id"].isna().all()
        else:
            assert set(r["list_id"]) == {list_id}
        assert r["message_zh"].str.len().min() > 0 and r["message_en"].str.len().min() > 0
        assert SEVERITY[overall[sid]] >= SEVERITY[verdict]
    for k, (place, attrs) in enumerate(quiet):
        sid = f"{rule_id}|quiet|{k}"
        r = reasons[(reasons["site_id"] == sid) & (reasons["rule_id"] == rule_id)]
        assert r.empty, f"{rule_id} fired at {place} with {attrs}: {r[['status', 'verdict']]}"


def test_documents_cited_by_shipped_rules_are_described():
    rs = load_rules()
    for rid in CASES:
        doc = rs.documents[rs.rule(rid).citation.document]
        assert doc.title and doc.issuer and doc.date
    # the citations a reader sees
    assert rs.documents["nr_2022_142"].label == "自然资发〔2022〕142号"
    assert rs.documents["wpl_2017"].label == "水污染防治法"
    assert rs.documents["ycpl_2020"].label == "长江保护法"


# --------------------------------------------------------------------------------- world semantics


def test_a_clean_site_is_permitted_and_a_mixed_one_lists_every_reason(rules_world):
    res = screen(
        site_frame(
            [
                ("clean", "unit_key", {}),
                ("mixed", "unit_key", {"wastewater": True, "hazardous": True}),
            ]
        ),
        rules_world,
    )
    v = res.sites.set_index("site_id")["verdict"]
    assert v["clean"] == "permitted" and v["mixed"] == "conditional"
    mixed = res.reasons[res.reasons["site_id"] == "mixed"]
    assert set(mixed["rule_id"]) == {"key.emissions", "key.regional_limit", "key.risk"}
    assert res.reasons[res.reasons["site_id"] == "clean"].empty


def test_missing_layer_kind_gives_unknown_never_a_pass(rules_world, tmp_path):
    layers = [e for e in world_layers(tmp_path) if e["kind"] != "water_source_zone"]
    cat = load_catalog(write_catalog(tmp_path / "catalog.yml", layers))
    res = screen(
        site_frame(
            [
                ("dirty", "unit_key", {"wastewater": True, "discharge": "direct"}),
                ("clean", "unit_key", {}),
            ]
        ),
        cat,
    )
    r = res.reasons
    dirty = r[(r["site_id"] == "dirty") & (r["kind"] == "water_source_zone")]
    assert set(dirty["status"]) == {"layer_missing"} and set(dirty["verdict"]) == {"unknown"}
    assert {"water_source.outfall", "water_source.level1", "water_source.level2"} <= set(
        dirty["rule_id"]
    )
    assert all("the water_source_zone layer is missing" in m for m in dirty["message_en"])
    assert all("饮用水水源保护区图层缺失" in m for m in dirty["message_zh"])
    # a rule that cannot apply to the project does not need the layer: outfall for "clean"
    clean = r[(r["site_id"] == "clean") & (r["kind"] == "water_source_zone")]
    assert "water_source.outfall" not in set(clean["rule_id"])
    assert "water_source.level1" in set(clean["rule_id"])
    v = res.sites.set_index("site_id")["verdict"]
    assert v["clean"] == "unknown" and v["dirty"] == "unknown"
    assert any("no water_source_zone layer" in n for n in res.notes)


def test_layer_that_failed_to_load_gives_unknown(rules_world, tmp_path):
    layers = world_layers(tmp_path)
    (tmp_path / "broken.gpkg").write_bytes(b"this is not a GeoPackage")
    for e in layers:
        if e["kind"] == "nature_reserve":
            e["source"] = "broken.gpkg"
    cat = load_catalog(write_catalog(tmp_path / "catalog.yml", layers))
    res = screen(
        site_frame([("s", "experimental", {})]),
        cat,
        on_layer_error="unknown",
        as_of=BEFORE_2026,  # the 2017 reserve rules
    )
    r = res.reasons[res.reasons["kind"] == "nature_reserve"]
    assert set(r["rule_id"]) == {
        "nature_reserve.core_buffer",
        "nature_reserve.experimental",
    }, "experimental_polluting cannot apply to a restaurant; the other two can"
    assert set(r["status"]) == {"layer_missing"} and set(r["verdict"]) == {"unknown"}
    assert all("the nature_reserve layer failed to load" in m for m in r["message_en"])
    assert all("自然保护区图层加载失败" in m for m in r["message_zh"])
    assert res.sites["verdict"].item() == "unknown"
    assert any("layer reserves failed to load" in n for n in res.notes)


def test_site_outside_coverage_is_unknown(rules_world):
    res = screen(site_frame([("out", "nowhere", {}), ("in", "unit_key", {})]), rules_world)
    reasons = res.reasons
    assert list(res.sites["verdict"]) == ["unknown", "permitted"]
    r = reasons[reasons["site_id"] == "out"]
    assert set(r["status"]) == {"outside_coverage"} and set(r["verdict"]) == {"unknown"}
    assert {"control_unit", "red_line", "water_source_zone"} <= set(r["kind"])
    assert all("outside the coverage" in m for m in r["message_en"])


def test_units_whose_lists_are_missing(rules_world):
    reasons = screen(
        site_frame(
            [
                ("named", "odd_named", C26),
                ("bare", "odd_bare", {"wastewater": True}),
                ("none", "odd_none", {}),
            ]
        ),
        rules_world,
    ).reasons
    r = reasons
    named = r[r["site_id"] == "named"]
    # the category list applies: a chemical plant outside a chemical park is prohibited ...
    assert "city.chemical_park_only" in set(named["rule_id"])
    assert set(named.loc[named["rule_id"] == "city.chemical_park_only", "list_id"]) == {"city/key"}
    # ... and the unit-specific clauses that could not be checked are an explicit unknown
    miss = named[named["status"] == "no_access_list"]
    assert len(miss) == 1 and miss["verdict"].item() == "unknown"
    assert "ZH99999999999" in miss["message_en"].item()
    assert miss["feature_id"].item() == "ZH99999999999"
    bare = r[r["site_id"] == "bare"]
    assert "general.basic" in set(bare["rule_id"]) and "no_access_list" not in set(bare["status"])
    none = r[r["site_id"] == "none"]
    assert list(none["status"]) == ["no_access_list"] and list(none["verdict"]) == ["unknown"]
    assert list(site_verdicts(reasons, 3)) == ["prohibited", "conditional", "unknown"]


def test_no_unit_covering_the_site_is_unknown():
    rs = load_rules()
    s, h, summ = frames([dict(BASE)], kind="control_unit")
    reasons = evaluate(rs, s, h.iloc[:0], summ)  # the layer loaded; no unit holds the site
    r = reasons[reasons["kind"] == "control_unit"]
    assert list(r["status"]) == ["no_access_list"] and list(r["verdict"]) == ["unknown"]
    assert "no control unit covers the site" in r["message_en"].item()


def test_outside_relation_with_a_polygon_partly_outside(rules_world):
    # a square straddling the development boundary's north edge (31.085) vs one wholly inside
    straddle = box(121.36, 31.08, 121.365, 31.09)
    inside = box(121.355, 31.02, 121.365, 31.04)
    assert straddle.difference(UDB).area > 0 and inside.within(UDB)
    res = screen(
        wkt=[straddle.wkt, inside.wkt],
        layers=rules_world,
        crs="EPSG:4326",
        attributes={k: v for k, v in BASE.items()},
    )
    r = res.reasons[res.reasons["rule_id"] == "development_boundary.outside"]
    assert list(r["site"]) == [0]
    assert r["layer_id"].item() == "udb" and r["verdict"].item() == "restricted"


# The sea east of the district (x = 121.45): the development boundary does not govern it.
SEA = box(121.45, 30.95, 121.60, 31.25)


def sea_world_layers(folder: Path) -> list[dict]:
    sea = {
        "id": "sea",
        "kind": "sea_area",
        "source": layer_file(folder, "sea", [SEA]),
        "fields": {"id": "fid_"},
    }
    return [*world_layers(folder), sea]


def coast_square(side_m: float, land_share: float) -> Polygon:
    """A square of ``side_m`` (geodesic) across the coast x = 121.45 at y = 31.15, with
    ``land_share`` of its width west of the coast."""
    y = 31.15
    west, _, _ = GEOD.fwd(121.45, y, 270.0, side_m * land_share)
    east, _, _ = GEOD.fwd(121.45, y, 90.0, side_m * (1 - land_share))
    _, north, _ = GEOD.fwd(121.45, y, 0.0, side_m)
    return box(west, y, east, north)


def test_development_boundary_rule_does_not_apply_at_sea(tmp_path):
    cat = load_catalog(write_catalog(tmp_path / "catalog.yml", sea_world_layers(tmp_path)))
    sea_pt = (121.52, 31.10)
    square = coast_square(1000.0, 0.5)
    # independent of the engine: shapely on lon/lat
    assert SEA.contains(shapely.Point(sea_pt)) and not DISTRICT.contains(shapely.Point(sea_pt))
    assert not UDB.intersects(shapely.Point(sea_pt)) and not UDB.intersects(square)
    assert square.intersection(DISTRICT).area == pytest.approx(square.area / 2, rel=1e-3)
    assert square.intersection(SEA).area == pytest.approx(square.area / 2, rel=1e-3)
    attrs = {k: v for k, v in BASE.items()}
    pts = screen(site_frame([("land", "udb_out", {}), ("inside", "udb_in", {})]), cat)
    sea = screen(points=[sea_pt], layers=cat, attributes=attrs)
    half = screen(wkt=[square.wkt], layers=cat, crs="EPSG:4326", attributes=attrs)
    rid = "development_boundary.outside"
    # on land outside the boundary: restricted, no note
    r = pts.reasons[pts.reasons["rule_id"] == rid]
    assert list(r["site_id"]) == ["land"] and list(r["verdict"]) == ["restricted"]
    assert r["assumptions"].isna().all()
    # wholly at sea: the rule is silent (the sea-use rules are not in the rule set)
    assert rid not in set(sea.reasons["rule_id"].dropna())
    # half on land outside the boundary, half at sea: screened as land, with a note
    r = half.reasons[half.reasons["rule_id"] == rid]
    assert list(r["verdict"]) == ["restricted"] and list(r["status"]) == ["applies"]
    assert "partly in the sea_area layer" in r["assumptions"].item()


def test_development_boundary_rule_without_a_usable_sea_layer(rules_world, tmp_path):
    # no sea_area layer at all: the site is taken to lie on land, and the reason says so
    r = screen(site_frame([("land", "udb_out", {})]), rules_world).reasons
    r = r[r["rule_id"] == "development_boundary.outside"]
    assert list(r["verdict"]) == ["restricted"]
    assert "no sea_area layer was screened" in r["assumptions"].item()
    # a sea_area layer that failed to load: land or sea cannot be told apart -> unknown
    layers = sea_world_layers(tmp_path)
    (tmp_path / "broken.gpkg").write_bytes(b"this is not a GeoPackage")
    for e in layers:
        if e["kind"] == "sea_area":
            e["source"] = "broken.gpkg"
    cat = load_catalog(write_catalog(tmp_path / "catalog.yml", layers))
    res = screen(
        site_frame(
            [
                ("land", "udb_out", {}),
                ("inside", "udb_in", {}),
                ("rebuild", "udb_out", {"nature": "rebuild"}),
            ]
        ),
        cat,
        on_layer_error="unknown",
    )
    r = res.reasons[res.reasons["rule_id"] == "development_boundary.outside"]
    assert list(r["site_id"]) == ["land"], "inside the boundary, or a rebuild: decided"
    assert r["status"].item() == "layer_missing" and r["verdict"].item() == "unknown"
    assert r["kind"].item() == "sea_area" and r["layer_id"].item() == "sea"
    assert "the sea_area layer failed to load" in r["message_en"].item()
    assert "海域图层加载失败" in r["message_zh"].item()


@pytest.mark.slow
def test_offshore_wind_farm_on_the_demo_layers_is_not_outside_the_boundary():
    # review item 6: an offshore wind farm (D4415) east of Nanhui
    lon, lat = 122.17658, 30.79279
    gpkg = REPO / "layers" / "shanghai_demo.gpkg"
    pt = shapely.Point(lon, lat)
    # independent of the engine: the GeoPackage read directly, in lon/lat
    sea = gpd.read_file(gpkg, layer="sea_area").to_crs(4326)
    districts = gpd.read_file(gpkg, layer="districts").to_crs(4326)
    udb = gpd.read_file(gpkg, layer="development_boundary").to_crs(4326)
    assert sea.contains(pt).sum() == 1 and not districts.intersects(pt).any()
    assert not udb.intersects(pt).any()
    attrs = dict(
        industry="D4415", nature="new", linear=False, wastewater=False, air=False, hazardous=False
    )
    res = screen(points=[(lon, lat)], attributes=attrs)
    assert "development_boundary.outside" not in set(res.reasons["rule_id"].dropna())
    assert res.sites["verdict"].item() == "permitted"
    assert res.provenance["rule_set"]["version"] == "2026.12"


def test_within_relation_uses_the_distance(rules_world):
    res = screen(site_frame([("near", "shore_500", C26), ("far", "shore_1500", C26)]), rules_world)
    h = res.hits[res.hits["kind"] == "shoreline"]
    near = h[h["site_id"] == "near"]
    assert near["distance_m"].item() == pytest.approx(500.0, abs=1.0)  # geodesic oracle
    # the search reaches 3000 m (the tailings band, since 2026.12): "far" is found, 1500 m off
    far = h[h["site_id"] == "far"]
    assert far["distance_m"].item() == pytest.approx(1500.0, abs=1.0)
    r = res.reasons[res.reasons["rule_id"] == "yangtze.chemical"]
    assert list(r["site_id"]) == ["near"]
    assert r["feature_id"].item() == "shore1"
    assert near["rule_ids"].item() == "yangtze.chemical"
    assert near["verdict"].item() == "prohibited"


@pytest.mark.slow
def test_short_search_radius_in_screen_gives_unknown(rules_world, tmp_path):
    lon, lat = GEOD.fwd(SHORE_X, SHORE_Y, 0.0, 700.0)[:2]
    attrs = {**BASE, **C26}
    # default rings: the search stops at 500 m, so the 1000 m rule is unknown, never a pass
    res = screen(points=[(lon, lat)], layers=rules_world, search_radius_m=500, attributes=attrs)
    r = res.reasons[res.reasons["rule_id"] == "yangtze.chemical"]
    assert list(r["verdict"]) == ["unknown"] and list(r["status"]) == ["layer_missing"]
    assert any("searched to 500 m, below the 1000 m" in n for n in res.notes)
    # declared rings reaching 3000 m: the layer is searched to its outermost ring, and the
    # shoreline 700 m away is found although the search radius asked for is 500 m
    layers = world_layers(tmp_path)
    for e in layers:
        if e["kind"] == "shoreline":
            e["buffer_rings_m"] = [1000, 3000]
    cat = load_catalog(write_catalog(tmp_path / "catalog.yml", layers))
    res = screen(points=[(lon, lat)], layers=cat, search_radius_m=500, attributes=attrs)
    r = res.reasons[res.reasons["rule_id"] == "yangtze.chemical"]
    assert list(r["verdict"]) == ["prohibited"]
    assert not any("searched to" in n for n in res.notes)
    # declared rings that end at 200 m: the search stops at 500 m: unknown, never a pass
    layers = world_layers(tmp_path)
    for e in layers:
        if e["kind"] == "shoreline":
            e["buffer_rings_m"] = [100, 200]
    cat = load_catalog(write_catalog(tmp_path / "catalog.yml", layers))
    res = screen(points=[(lon, lat)], layers=cat, search_radius_m=500, attributes=attrs)
    assert res.hits[res.hits["kind"] == "shoreline"].empty
    r = res.reasons[res.reasons["rule_id"] == "yangtze.chemical"]
    assert list(r["verdict"]) == ["unknown"] and list(r["status"]) == ["layer_missing"]


def test_feature_values_spelled_in_chinese(rules_world, tmp_path):
    layers = world_layers(tmp_path, wsz_levels=("一级保护区", "二级保护区", "三级保护区"))
    cat = load_catalog(write_catalog(tmp_path / "catalog.yml", layers))
    res = screen(
        site_frame([("l1", "level1", {}), ("l2", "level2", {"air": True}), ("l3", "quasi", {})]),
        cat,
    )
    r = res.reasons
    assert "water_source.level1" in set(
        r.loc[(r["site_id"] == "l1") & (r["status"] == "applies"), "rule_id"]
    )
    assert "water_source.level2" in set(
        r.loc[(r["site_id"] == "l2") & (r["status"] == "applies"), "rule_id"]
    )
    l3 = r[(r["site_id"] == "l3") & (r["kind"] == "water_source_zone")]
    assert set(l3["status"]) == {"layer_missing"} and "water_source.level1" in set(l3["rule_id"])
    assert "'三级保护区'" in l3["message_en"].iloc[0]
    assert res.sites.set_index("site_id")["verdict"]["l3"] == "unknown"


# =============================================================================================
# The demonstration layers: unit-specific clauses at an interior point of each unit
# =============================================================================================

DEMO_UNITS = {
    # unit code -> (attributes, the unit-specific rule expected)
    "ZH31011620002": (C26, "scip.chemical"),
    "ZH31011320002": (STEEL, "baowu.steel"),
    "ZH31011810001": ({"wastewater": True, "discharge": "direct"}, "hpup.wastewater"),
    "ZH31015110001": ({}, "qcs.construction"),
    "ZH31011620001": ({**C26, "industry": "C2511"}, "jinshan2.refining"),
    "ZH31011520004": (C26, "lingang.chemical"),
    # the other segments of the 黄浦江上游 source area inherit the 青浦 unit's list
    "ZH31011210001": ({"hazardous": True}, "hpup.hazardous"),
    "ZH31011610001": ({"hazardous": True}, "hpup.hazardous"),
    "ZH31011710001": ({"wastewater": True, "discharge": "direct"}, "hpup.wastewater"),
    "ZH31012010001": ({"hazardous": True}, "hpup.hazardous"),
}


@pytest.mark.parametrize("code", sorted(DEMO_UNITS))
def test_demo_unit_specific_clause(demo_layers, code):
    attrs, rule_id = DEMO_UNITS[code]
    units = demo_layers["control_units"].gdf
    geom = units.loc[units["unit_code"] == code, "geometry"].item()
    pt = gpd.GeoSeries([geom.representative_point()], crs=units.crs).to_crs(4326).item()
    res = screen(points=[(pt.x, pt.y)], layers=demo_layers, attributes={**BASE, **attrs})
    r = res.reasons
    cu = r[r["kind"] == "control_unit"]
    hit = r[(r["rule_id"] == rule_id) & (r["status"] == "applies")]
    assert set(hit["list_id"]) == {f"unit/{code}"}
    assert set(hit["feature_id"]) == {code}
    assert "no_access_list" not in set(cu["status"])
    assert SEVERITY[res.sites["verdict"].item()] >= SEVERITY[hit["verdict"].iloc[0]]


# =============================================================================================
# The README documents every shipped rule
# =============================================================================================


def test_readme_documents_every_shipped_rule():
    text = README.read_text(encoding="utf-8")
    assert "DEMONSTRATION" in text
    assert re.search(r"zoning screen \S+ --rules my_rules\.yml", text)
    missing = [rid for rid in sorted(shipped_rule_ids()) if f"`{rid}`" not in text]
    assert not missing, missing
    for status in STATUSES:
        assert f"`{status}`" in text, status


def test_readme_example_rule_set_loads_and_inherits(tmp_path):
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    example = [b for b in blocks if b.startswith("id: my_district")]
    assert len(example) == 1
    rs = load_rules(write_rules(tmp_path, example[0]))
    assert rs.parent_of("city/industrial_park") == "city"
    assert [r.id for r in rs.rules_for_list("city/industrial_park")] == ["chem.in_park"]


def test_missing_control_unit_layer_gives_unknown_for_the_access_lists(tmp_path):
    layers = [e for e in world_layers(tmp_path) if e["kind"] != "control_unit"]
    cat = load_catalog(write_catalog(tmp_path / "catalog.yml", layers))
    reasons = screen(site_frame([("s", "udb_in", {})]), cat).reasons
    r = reasons[reasons["kind"] == "control_unit"]
    assert list(r["status"]) == ["layer_missing"] and list(r["verdict"]) == ["unknown"]
    assert "the access lists cannot be checked" in r["message_en"].item()
    assert list(site_verdicts(reasons, 1)) == ["unknown"]


# ------------------------------------------------------- the red line defers to the special law

# A red-line box over the 2026 reserve cells (8, 0) and (9, 0), the source-zone cell (11, 0)
# and plain red line between them (x 121.29-121.33).
RED_OVER = box(121.235, 30.995, 121.355, 31.025)
#: Half in the general control zone (cell 9: x <= 121.29), half in plain red line.
STRADDLE = box(121.28, 31.005, 121.30, 31.015)


def defer_world_layers(folder: Path, *, broken: bool = False) -> list[dict]:
    reserves = (
        "broken.gpkg"
        if broken
        else layer_file(
            folder, "res26", [cell(8, 0), cell(9, 0)], zone=["核心保护区", "一般控制区"]
        )
    )
    if broken:
        (folder / "broken.gpkg").write_bytes(b"this is not a GeoPackage")
    return [
        {
            "id": "districts",
            "kind": "district",
            "source": layer_file(folder, "d", [DISTRICT], name=["测试区"]),
            "fields": {"id": "fid_", "name": "name"},
        },
        {
            "id": "red",
            "kind": "red_line",
            "source": layer_file(folder, "red", [RED_OVER]),
            "fields": {"id": "fid_"},
        },
        {
            "id": "reserves26",
            "kind": "nature_reserve",
            "source": reserves,
            "fields": {"id": "fid_", "category": "zone"},
        },
        {
            "id": "wsz",
            "kind": "water_source_zone",
            "source": layer_file(folder, "wsz", [cell(11, 0)], level=["quasi"]),
            "fields": {"id": "fid_", "level": "level"},
        },
    ]


def test_red_line_defers_to_a_reserve_or_source_zone_it_overlaps(tmp_path):
    # independent of the engine: shapely on lon/lat
    assert cell(9, 0).within(RED_OVER) and cell(11, 0).within(RED_OVER)
    assert STRADDLE.intersection(cell(9, 0)).area == pytest.approx(STRADDLE.area / 2)
    assert not STRADDLE.difference(cell(9, 0)).intersects(cell(8, 0))
    cat = load_catalog(write_catalog(tmp_path / "catalog.yml", defer_world_layers(tmp_path)))
    hotel = {**BASE, "industry": "H6110"}
    sites = [centre(9, 0), centre(11, 0), (121.31, 31.01)]
    res = screen(
        wkt=[shapely.Point(p).wkt for p in sites] + [STRADDLE.wkt],
        layers=cat,
        attributes=hotel,
    )
    r = res.reasons
    red = r[r["rule_id"].fillna("").str.startswith("red_line.")]
    # wholly in the reserve (0) or the source zone (1): the red line emits nothing there
    assert sorted(set(red["site"])) == [2, 3]
    assert set(red["rule_id"]) == {"red_line.construction"}
    assert set(red["verdict"]) == {"prohibited"}
    assert r[(r["site"] == 0) & (r["rule_id"] == "nature_reserve.general_control")][
        "verdict"
    ].tolist() == ["prohibited"]
    # plain red line: no note; straddling the reserve: screened as a whole, with a note
    assert red[red["site"] == 2]["assumptions"].isna().all()
    note = red[red["site"] == 3]["assumptions"].item()
    assert "partly in the nature_reserve layer" in note and "依照法律法规执行" in note
    # the clause table: not applicable, and why
    c = res.clauses
    c = c[c["rule_id"].isin(["red_line.construction", "red_line.limited_activity"])]
    for site, where in ((0, "自然保护区"), (1, "饮用水水源保护区")):
        rows = c[c["site"] == site]
        assert set(rows["result"]) == {"not_applicable"}
        expect = f"依照法律法规执行：项目位于{where}内"
        assert all(t.startswith(expect) for t in rows["explanation_zh"])
    assert "nature_reserve.*" in c[c["site"] == 0]["explanation_zh"].iloc[0]
    assert "water_source.*" in c[c["site"] == 1]["explanation_zh"].iloc[0]
    assert set(c[c["site"] == 2]["result"]) == {"violates", "complies"}


def test_red_line_with_a_failed_or_missing_reserve_layer(tmp_path):
    layers = defer_world_layers(tmp_path, broken=True)
    cat = load_catalog(write_catalog(tmp_path / "catalog.yml", layers))
    hotel = {**BASE, "industry": "H6110"}
    res = screen(points=[centre(9, 0)], layers=cat, attributes=hotel, on_layer_error="unknown")
    r = res.reasons[res.reasons["rule_id"] == "red_line.construction"]
    assert list(r["status"]) == ["layer_missing"] and list(r["verdict"]) == ["unknown"]
    assert r["kind"].item() == "nature_reserve" and r["layer_id"].item() == "reserves26"
    assert "the nature_reserve layer failed to load" in r["message_en"].item()
    # a limited activity the red line would not decide either way is not held up: the rule
    # could not apply (red_line.construction's exception holds)
    res = screen(
        points=[centre(9, 0)],
        layers=cat,
        attributes={**hotel, "red_line_activity": "5"},
        on_layer_error="unknown",
    )
    assert "red_line.construction" not in set(res.reasons["rule_id"].dropna())
    # no reserve layer at all: the red line applies, and the reason says so
    layers = [e for e in defer_world_layers(tmp_path) if e["kind"] != "nature_reserve"]
    cat = load_catalog(write_catalog(tmp_path / "catalog2.yml", layers))
    res = screen(points=[centre(9, 0)], layers=cat, attributes=hotel)
    r = res.reasons[res.reasons["rule_id"] == "red_line.construction"]
    assert list(r["verdict"]) == ["prohibited"]
    assert "no nature_reserve layer was screened" in r["assumptions"].item()
