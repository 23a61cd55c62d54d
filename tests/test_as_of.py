"""Documents, rules and layers in force on a date: the validity model and ``as_of``.

The rule side (document dates, rule validity, :meth:`RuleSet.in_force`, the law block of the
provenance) is tested on small rule sets written to ``tmp_path``; the layer side on a
two-vintage catalog of tiny GeoJSON layers; the whole path through :func:`zoning.screen` and
``zoning screen --as-of``.
"""

from __future__ import annotations

import datetime
import json
import textwrap
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from shapely.geometry import box, mapping

from conftest import write_catalog
from zoning.catalog import read_catalog
from zoning.cli import main
from zoning.errors import CatalogError, RulesError, ZoningError
from zoning.layerset import LayerSet, load_catalog
from zoning.rules import load_rules
from zoning.screening import screen

D = datetime.date

# Two regimes of one regulation (old up to 2026-03-14, new from 2026-03-15) and a law without
# dates; a city list whose old-regime rule is overridden by a unit list rule.
VERSIONED = """\
id: versioned
version: "1"
title: versioned rules
status: draft
documents:
  old:
    title: 条例（2017）
    short: 条例2017
    issuer: 国务院
    date: "2017-10-07"
    in_force_from: 2017-10-07
    in_force_to: "2026-03-14"
    repealed_by: new
  new:
    title: 条例（2026）
    short: 条例2026
    issuer: 国务院
    date: "2026-02-03"
    in_force_from: "2026-03-15"
  law:
    title: A law
    issuer: Someone
    date: "2020-01-01"
rules:
  - id: reserve.old
    applies_to: {kind: nature_reserve}
    dimension: 空间布局约束
    verdict: prohibited
    citation: {document: old, article: "第二十六条"}
    message: {zh: 旧, en: old}
  - id: reserve.new
    applies_to: {kind: nature_reserve}
    dimension: 空间布局约束
    verdict: restricted
    citation: {document: new, article: "第十条"}
    message: {zh: 新, en: new}
  - id: red.any
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
      - id: city.old
        when: {air: true}
        dimension: 污染物排放管控
        verdict: conditional
        citation: {document: old, article: "第三条"}
        message: {zh: 旧, en: old}
      - id: city.always
        when: {air: true}
        dimension: 污染物排放管控
        verdict: conditional
        citation: {document: law, article: "第二条"}
        message: {zh: 常, en: always}
  - id: unit/U1
    parent: city
    title_zh: 单元
    title_en: unit
    rules:
      - id: unit.replaces_old
        overrides: [city.old]
        when: {air: true}
        dimension: 污染物排放管控
        verdict: restricted
        valid_from: "2020-01-01"
        citation: {document: law, article: "第四条"}
        message: {zh: 单元, en: unit}
"""


def write_rules(folder: Path, text: str, name: str = "rules.yml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def mutate(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def load_error(folder: Path, text: str) -> str:
    path = write_rules(folder, text)
    with pytest.raises(RulesError) as info:
        load_rules(path)
    msg = str(info.value)
    assert "\n" not in msg, "errors are one line"
    assert str(path) in msg, "errors name the file"
    return msg


@pytest.fixture
def versioned(tmp_path) -> Path:
    return write_rules(tmp_path, VERSIONED)


# ---------------------------------------------------------------------------- the model


def test_document_dates_accept_yaml_dates_and_iso_text(versioned):
    rs = load_rules(versioned)
    old = rs.documents["old"]
    assert old.in_force_from == D(2017, 10, 7) and old.in_force_to == D(2026, 3, 14)
    assert old.repealed_by == "new"
    assert rs.documents["new"].in_force_from == D(2026, 3, 15)
    assert rs.documents["law"].in_force_from is None and rs.documents["law"].in_force_to is None


@pytest.mark.parametrize(
    ("old", "new", "expect"),
    [
        (
            'in_force_to: "2026-03-14"',
            'in_force_to: "2026-3-14"',
            ["document 'old'", "in_force_to"],
        ),
        ('in_force_to: "2026-03-14"', 'in_force_to: "soon"', ["document 'old'", "'soon'"]),
        (
            'in_force_to: "2026-03-14"',
            'in_force_to: "2016-01-01"',
            ["document 'old'", "in_force_to", "2016-01-01", "before"],
        ),
        ("repealed_by: new", "repealed_by: newer", ["document 'old'", "repealed_by", "'newer'"]),
        (
            'in_force_to: "2026-03-14"',
            'in_force_to: "2026-03-20"',
            ["document 'old'", "in_force_to", "2026-03-15"],
        ),
        (
            'valid_from: "2020-01-01"',
            'valid_from: "2020-01-01"\n        valid_to: "2019-01-01"',
            ["rule 'unit.replaces_old'", "valid_to", "before"],
        ),
    ],
)
def test_bad_dates_are_one_line_errors(tmp_path, old, new, expect):
    msg = load_error(tmp_path, mutate(VERSIONED, old, new))
    for word in expect:
        assert word in msg, (word, msg)


def test_a_rule_valid_outside_its_document_is_refused(tmp_path):
    text = mutate(
        VERSIONED,
        'citation: {document: new, article: "第十条"}',
        'valid_from: "2026-01-01"\n    citation: {document: new, article: "第十条"}',
    )
    msg = load_error(tmp_path, text)
    assert "rule 'reserve.new'" in msg and "valid_from" in msg and "2026-03-15" in msg
    text = mutate(
        VERSIONED,
        'citation: {document: old, article: "第二十六条"}',
        'valid_to: "2026-04-01"\n    citation: {document: old, article: "第二十六条"}',
    )
    msg = load_error(tmp_path, text)
    assert "rule 'reserve.old'" in msg and "valid_to" in msg and "2026-03-14" in msg


def test_rule_validity_defaults_to_its_document(versioned):
    rs = load_rules(versioned)
    assert rs.validity("reserve.old") == (D(2017, 10, 7), D(2026, 3, 14))
    assert rs.validity("reserve.new") == (D(2026, 3, 15), None)
    assert rs.validity("red.any") == (None, None)
    assert rs.validity("unit.replaces_old") == (D(2020, 1, 1), None)


def test_a_repealed_document_without_end_ends_the_day_before_its_successor(tmp_path):
    rs = load_rules(write_rules(tmp_path, mutate(VERSIONED, '    in_force_to: "2026-03-14"\n', "")))
    assert rs.documents["old"].in_force_to is None
    assert rs.validity("reserve.old") == (D(2017, 10, 7), D(2026, 3, 14))
    assert [r.id for r in rs.in_force(D(2026, 3, 15)).rules] == ["reserve.new", "red.any"]


def test_a_missing_text_file_is_one_line_naming_document_and_path(tmp_path):
    text = mutate(
        VERSIONED, "    short: 条例2026\n", "    short: 条例2026\n    text: texts/new.md\n"
    )
    msg = load_error(tmp_path, text)
    assert "document 'new'" in msg and "texts/new.md" in msg
    (tmp_path / "texts").mkdir()
    (tmp_path / "texts" / "new.md").write_text("第十条 ……", encoding="utf-8")
    rs = load_rules(tmp_path / "rules.yml")
    assert rs.documents["new"].text == "texts/new.md"


def test_hash_covers_the_new_fields_and_ignores_them_unset(tmp_path):
    base = load_rules(write_rules(tmp_path, VERSIONED, "a.yml")).hash
    spelled = mutate(VERSIONED, "    short: 条例2026\n", "    short: 条例2026\n    read_at: null\n")
    assert load_rules(write_rules(tmp_path, spelled, "b.yml")).hash == base
    for old, new in [
        ('in_force_from: "2026-03-15"', 'in_force_from: "2026-03-16"'),
        ("    repealed_by: new\n", ""),
        ('valid_from: "2020-01-01"', 'valid_from: "2020-01-02"'),
        ('article: "第一条"}', 'article: "第一条", quote: 禁止}'),
        ("    short: 条例2026\n", "    short: 条例2026\n    read_at: https://example.org/x\n"),
    ]:
        changed = load_rules(write_rules(tmp_path, mutate(VERSIONED, old, new), "c.yml")).hash
        assert changed != base, (old, new)


# ---------------------------------------------------------------------------- in_force


def test_in_force_filters_city_and_list_rules_and_keeps_lists(versioned):
    rs = load_rules(versioned)
    before = rs.in_force(D(2026, 3, 1))
    after = rs.in_force(D(2026, 4, 1))
    assert before.as_of == D(2026, 3, 1) and rs.as_of is None
    assert [r.id for r in before.rules] == ["reserve.old", "red.any"]
    assert [r.id for r in after.rules] == ["reserve.new", "red.any"]
    assert before.list_ids == after.list_ids == ["city", "unit/U1"]
    # before 2020 the unit rule is not in force: the city rule it overrides stays inherited
    early = rs.in_force(D(2019, 6, 1))
    assert [r.id for r in early.rules_for_list("unit/U1")] == ["city.old", "city.always"]
    assert [r.id for r in before.rules_for_list("unit/U1")] == ["city.always", "unit.replaces_old"]
    # after 2026-03-15 city.old is gone: the override naming it is dropped, the rule stays
    assert [r.id for r in after.rules_for_list("unit/U1")] == ["city.always", "unit.replaces_old"]
    assert after.rule("unit.replaces_old").overrides == []
    with pytest.raises(KeyError):
        after.rule("city.old")
    # the view keeps the file and the rule set's identity; in_force of a view starts afresh
    assert after.path == rs.path and after.provenance()["hash"] == rs.hash
    assert [r.id for r in after.in_force(D(2026, 3, 1)).rules] == ["reserve.old", "red.any"]


def test_the_first_and_last_day_are_in_force(versioned):
    rs = load_rules(versioned)
    assert "reserve.old" in [r.id for r in rs.in_force(D(2026, 3, 14)).rules]
    assert "reserve.new" in [r.id for r in rs.in_force(D(2026, 3, 15)).rules]
    assert "reserve.old" not in [r.id for r in rs.in_force(D(2017, 10, 6)).rules]


#: Every document of VERSIONED dated: nothing is in force before 2017-10-07.
DATED = VERSIONED.replace(
    '    date: "2020-01-01"\n', '    date: "2020-01-01"\n    in_force_from: "2020-01-01"\n'
)


def test_nothing_in_force_is_one_line_naming_rule_set_and_date(tmp_path):
    rs = load_rules(write_rules(tmp_path, DATED))
    with pytest.raises(RulesError) as info:
        rs.in_force(D(2010, 1, 1))
    msg = str(info.value)
    assert "\n" not in msg and str(tmp_path / "rules.yml") in msg and "2010-01-01" in msg


def test_law_provenance_lists_documents_rules_and_what_is_not_in_force(versioned):
    rs = load_rules(versioned)
    law = rs.in_force(D(2026, 4, 1)).law()
    assert law["as_of"] == "2026-04-01"
    assert [d["id"] for d in law["documents"]] == ["new", "law"]
    assert law["documents"][0] == {
        "id": "new",
        "label": "条例2026",
        "in_force_from": "2026-03-15",
        "in_force_to": None,
        "repealed_by": None,
    }
    assert {
        "id": "reserve.new",
        "document": "new",
        "article": "第十条",
        "valid_from": "2026-03-15",
        "valid_to": None,
    } in law["rules"]
    assert sorted(law["not_in_force"]) == ["city.old", "reserve.old"]
    prov = rs.in_force(D(2026, 4, 1)).provenance()
    assert prov["as_of"] == "2026-04-01" and prov["law"] == law
    json.dumps(prov)


# ---------------------------------------------------------------------------- layers and screening

RED_OLD = box(121.00, 31.00, 121.01, 31.01)
RED_NEW = box(121.02, 31.00, 121.03, 31.01)  # a red-line area added in the 2026 vintage
SITE = box(121.022, 31.002, 121.024, 31.004)  # only in the new area
FAR = box(121.20, 31.20, 121.21, 31.21)  # a nature reserve far from everything


def geojson(folder: Path, stem: str, geoms) -> str:
    features = [
        {"type": "Feature", "properties": {"fid": f"{stem}{i}"}, "geometry": mapping(g)}
        for i, g in enumerate(geoms)
    ]
    path = folder / f"{stem}.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    return path.name


@pytest.fixture
def vintages(tmp_path) -> Path:
    """A catalog with two vintages of the red line (2025 up to 2025-12-31, 2026 from 2026-01-01)."""
    layers = [
        {
            "id": "red_2025",
            "kind": "red_line",
            "source": geojson(tmp_path, "red_2025", [RED_OLD]),
            "valid_to": "2025-12-31",
        },
        {
            "id": "red_2026",
            "kind": "red_line",
            "source": geojson(tmp_path, "red_2026", [RED_OLD, RED_NEW]),
            "valid_from": "2026-01-01",
        },
        {"id": "reserve", "kind": "nature_reserve", "source": geojson(tmp_path, "nr", [FAR])},
    ]
    return write_catalog(tmp_path / "catalog.yml", layers, version="v", title="two vintages")


@pytest.fixture
def red_rules(tmp_path) -> Path:
    text = VERSIONED.split("lists:")[0]
    return write_rules(tmp_path, text, "red.yml")


def test_a_layerset_sees_the_layers_in_force_and_shares_its_reads(vintages):
    full = load_catalog(vintages)
    assert full.as_of is not None  # today by default
    assert full.ids == ["red_2026", "reserve"]
    old = full.at(D(2025, 6, 1))
    assert old.ids == ["red_2025", "reserve"] and old.as_of == D(2025, 6, 1)
    assert [e.id for e in old.not_in_force] == ["red_2026"]
    new = old.at("2026-02-01")
    assert new["red_2026"] is full["red_2026"], "one read per layer across dates"
    assert new["reserve"] is old["reserve"]
    assert LayerSet(read_catalog(vintages), as_of=D(2025, 1, 1)).ids == ["red_2025", "reserve"]
    with pytest.raises(CatalogError):
        new["red_2025"]


def test_screening_uses_the_vintage_in_force(vintages, red_rules):
    ls = load_catalog(vintages)
    kw = {"wkt": SITE.wkt, "crs": "EPSG:4326", "rules": red_rules}
    r25 = screen(None, ls, as_of="2025-06-01", **kw)
    r26 = screen(None, ls, as_of=D(2026, 6, 1), **kw)
    assert r25.sites.loc[0, "verdict"] == "permitted"
    assert r26.sites.loc[0, "verdict"] == "prohibited"
    p25, p26 = r25.provenance, r26.provenance
    assert p25["as_of"] == "2025-06-01" and p26["as_of"] == "2026-06-01"
    assert [x["id"] for x in p25["layers"]] == ["red_2025", "reserve"]
    assert p25["layers"][0]["valid_to"] == "2025-12-31" and p25["layers"][0]["valid_from"] is None
    assert p25["layers_not_in_force"] == [
        {"id": "red_2026", "kind": "red_line", "valid_from": "2026-01-01", "valid_to": None}
    ]
    assert [x["id"] for x in p26["layers"]] == ["red_2026", "reserve"]
    assert p26["law"]["as_of"] == "2026-06-01"
    assert "reserve.new" in [x["id"] for x in p26["law"]["rules"]]
    assert "reserve.old" in p26["law"]["not_in_force"]
    assert r26.rule_set.as_of == D(2026, 6, 1)


def test_as_of_defaults_to_today_in_shanghai_and_bad_dates_are_one_line(vintages, red_rules):
    from zoneinfo import ZoneInfo

    kw = {"wkt": SITE.wkt, "crs": "EPSG:4326", "rules": red_rules}
    before = datetime.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    prov = screen(None, vintages, **kw).provenance
    after = datetime.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    assert prov["as_of"] in {before.isoformat(), after.isoformat()}
    with_time = screen(None, vintages, as_of=datetime.datetime(2025, 6, 1, 23, 0), **kw)
    assert with_time.provenance["as_of"] == "2025-06-01"
    for bad in ("2025-13-01", "01/06/2025", "yesterday", 20250601):
        with pytest.raises(ZoningError) as info:
            screen(None, vintages, as_of=bad, **kw)
        assert "\n" not in str(info.value) and str(bad) in str(info.value)


def test_no_layer_in_force_is_a_catalog_error(vintages, red_rules, tmp_path):
    data = yaml.safe_load(vintages.read_text("utf-8"))
    data["layers"] = data["layers"][1:2]
    only_new = write_catalog(tmp_path / "only_new.yml", data["layers"])
    with pytest.raises(CatalogError) as info:
        screen(None, only_new, wkt=SITE.wkt, crs="EPSG:4326", rules=red_rules, as_of="2025-01-01")
    assert "\n" not in str(info.value) and "2025-01-01" in str(info.value)


# ---------------------------------------------------------------------------- the command line


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_cli_as_of_prints_what_was_in_force(vintages, red_rules):
    res = run(
        "screen",
        "--wkt",
        SITE.wkt,
        "--crs",
        "EPSG:4326",
        "--catalog",
        vintages,
        "--rules",
        red_rules,
        "--as-of",
        "2026-04-01",
    )
    assert res.exit_code == 0, res.output
    line = next(x for x in res.stdout.splitlines() if x.startswith("as of 2026-04-01:"))
    assert "2 of 3 rules in force" in line
    assert "条例2026 from 2026-03-15" in line
    assert "red_2026 (valid from 2026-01-01)" in line


@pytest.mark.parametrize(
    ("as_of", "words"),
    [("2026-02-30", ["--as-of", "2026-02-30"]), ("1990-01-01", ["1990-01-01", "dated.yml"])],
)
def test_cli_bad_or_empty_dates_exit_2_in_one_line(vintages, tmp_path, as_of, words):
    dated = write_rules(tmp_path, DATED.split("lists:")[0], "dated.yml")
    res = run(
        "screen",
        "--wkt",
        SITE.wkt,
        "--crs",
        "EPSG:4326",
        "--catalog",
        vintages,
        "--rules",
        dated,
        "--as-of",
        as_of,
    )
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])


def test_compare_takes_as_of_too(vintages, red_rules):
    res = run(
        "compare",
        "--wkt",
        SITE.wkt,
        "--wkt",
        RED_OLD.centroid.buffer(0.001).wkt,
        "--crs",
        "EPSG:4326",
        "--catalog",
        vintages,
        "--rules",
        red_rules,
        "--as-of",
        "2025-06-01",
    )
    assert res.exit_code == 0, res.output
    assert "as of 2025-06-01:" in res.stdout


def test_the_report_footer_says_the_day_and_what_was_in_force(vintages, red_rules):
    from zoning.report.context import _footer

    result = screen(
        None, vintages, wkt=SITE.wkt, crs="EPSG:4326", rules=red_rules, as_of="2026-06-01"
    )
    rows = dict(_footer(result)["other"])
    line = rows["适用日期 as of"]
    assert line.startswith("2026-06-01：施行中的规则 2/3 条（条例2026 2026-03-15起）")
    assert "as of 2026-06-01: 2 of 3 rules in force (条例2026 from 2026-03-15)" in line
    assert "red_2026 (valid from 2026-01-01)" in line
    assert not {"law", "as_of", "layers_not_in_force"} & set(rows)


def test_a_catalog_path_is_read_for_the_day_screened_not_today(vintages, red_rules, tmp_path):
    data = yaml.safe_load(vintages.read_text("utf-8"))
    only_old = write_catalog(tmp_path / "only_old.yml", data["layers"][:1])
    with pytest.raises(CatalogError):
        load_catalog(only_old)  # nothing of it is in force today
    kw = {"wkt": SITE.wkt, "crs": "EPSG:4326", "rules": red_rules, "as_of": "2025-06-01"}
    result = screen(None, only_old, **kw)
    assert [x["id"] for x in result.provenance["layers"]] == ["red_2025"]
    res = run(
        "screen",
        "--wkt",
        SITE.wkt,
        "--crs",
        "EPSG:4326",
        "--catalog",
        only_old,
        "--rules",
        red_rules,
        "--as-of",
        "2025-06-01",
    )
    assert res.exit_code == 0, res.output


def test_in_force_line_names_a_shared_short_name_once():
    """The 2026 reserve regulation and the official reports of it share a short name (so that a
    conclusion cites the regulation); the console line lists the regulation once."""
    import zoning
    from zoning.screening.provenance import in_force_line

    res = zoning.screen(points=[(121.47, 31.23)], crs="EPSG:4326", as_of="2026-12-05")
    labels = [d["label"] for d in res.provenance["law"]["documents"]]
    assert labels.count("自然保护区条例（2026年修订）") == 2  # the premise: two documents
    for text in (in_force_line(res.provenance, "zh"), in_force_line(res.provenance)):
        assert text.count("自然保护区条例（2026年修订）") == 1, text
