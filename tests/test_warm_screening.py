"""Screenings on a warm layer set (as a service runs them) give what a cold one gives.

A long-running process keeps one LayerSet and one RuleSet and screens one site after another;
what the first screening works out and keeps (rule-set lookup tables, the views of the rules in
force per day, layer columns and control-unit lists kept with the indexes, transformers) must
not leak into a later screening with other attributes, another day or other rules.  The oracle
is the same screening on a layer set and rule set read afresh (nothing kept yet), run first.
"""

from __future__ import annotations

import copy

import pytest

import zoning
from zoning.examples import PROJECTS
from zoning.rules import RuleSet, load_rules
from zoning.rules.load import DEFAULT_RULES, _read_yaml

POINT = {"points": [(121.48, 31.23)], "crs": "EPSG:4326"}
#: A 200 m square near the point (EPSG:4326).
SQUARE = (
    "POLYGON ((121.479 31.229, 121.481 31.229, 121.481 31.231, 121.479 31.231, 121.479 31.229))"
)
CASES = {
    "chemical": {**POINT, "attributes": {"industry": "C2614", "nature": "new"}},
    "restaurant": {**POINT, "attributes": {"industry": "H6210"}},
    "undeclared": POINT,
    "square": {"wkt": [SQUARE], "crs": "EPSG:4326", "attributes": {"industry": "C2614"}},
    "chemical-2021": {**POINT, "attributes": {"industry": "C2614"}, "as_of": "2021-06-01"},
    "chemical-today": {**POINT, "attributes": {"industry": "C2614"}},
}
VOLATILE = {"created", "duration_s"}


def _stable(data: object) -> object:
    """``to_dict()`` without what differs between two runs of one screening (when, how long)."""
    if isinstance(data, dict):
        return {k: _stable(v) for k, v in data.items() if k not in VOLATILE}
    if isinstance(data, list):
        return [_stable(v) for v in data]
    return data


def _changed_rules() -> RuleSet:
    """The demonstration rules with the water-source prohibitions made restrictions."""
    raw = copy.deepcopy(_read_yaml(DEFAULT_RULES))
    changed = 0
    for rule in raw["rules"]:
        kind = (rule.get("applies_to") or {}).get("kind")
        if rule.get("verdict") == "prohibited" and kind == "water_source_zone":
            rule["verdict"] = "restricted"
            changed += 1
    assert changed, "the demonstration rules have no prohibited water-source rule"
    return RuleSet.from_mapping(raw, source="changed rules")


@pytest.fixture(scope="module")
def cold():
    """Each case screened first, on a layer set and rule set read for it alone."""
    out = {}
    for name, kw in CASES.items():
        result = zoning.screen(layers=zoning.load_catalog(), rules=load_rules(), **kw)
        out[name] = _stable(result.to_dict())
    return out


def test_a_second_screening_on_warm_layers_gives_the_same_result(demo_layers, demo_rules):
    kw = CASES["chemical"]
    first = zoning.screen(layers=demo_layers, rules=demo_rules, **kw).to_dict()
    second = zoning.screen(layers=demo_layers, rules=demo_rules, **kw).to_dict()
    assert first["provenance"]["created"] and first["provenance"]["duration_s"] is not None
    assert _stable(second) == _stable(first)


@pytest.mark.slow
def test_warm_screenings_in_any_order_agree_with_cold_ones(demo_layers, demo_rules, cold):
    # a warm layer set and rule set, the cases interleaved and repeated
    order = [*CASES, *reversed(CASES), "chemical-2021", "chemical", "chemical-2021"]
    for name in order:
        got = zoning.screen(layers=demo_layers, rules=demo_rules, **CASES[name]).to_dict()
        assert _stable(got) == cold[name], name
    # the cases do differ from each other (else the test could not see a leak)
    assert cold["chemical"] != cold["restaurant"] != cold["undeclared"]
    assert cold["chemical-2021"]["provenance"]["law"] != cold["chemical-today"]["provenance"]["law"]
    assert cold["chemical-2021"]["clauses"] != cold["chemical-today"]["clauses"]


@pytest.mark.slow
def test_rules_changed_between_calls_on_warm_layers(demo_layers, demo_rules):
    # the example projects: some lie in a water-source zone, where the changed rules differ
    site = {"sites": PROJECTS}
    before = _stable(zoning.screen(layers=demo_layers, rules=demo_rules, **site).to_dict())
    changed = _changed_rules()
    after = _stable(zoning.screen(layers=demo_layers, rules=changed, **site).to_dict())
    again = _stable(zoning.screen(layers=demo_layers, rules=demo_rules, **site).to_dict())
    assert after != before and again == before
    fresh = zoning.screen(layers=zoning.load_catalog(), rules=_changed_rules(), **site)
    assert after == _stable(fresh.to_dict())
    # the change shows where it should: no water-source rule prohibits any more
    fired = [r for r in after["reasons"] if str(r["rule_id"]).startswith("water_source.")]
    assert fired and all(r["verdict"] != "prohibited" for r in fired)
    assert any(
        r["verdict"] == "prohibited"
        for r in before["reasons"]
        if str(r["rule_id"]).startswith("water_source.")
    )


def test_a_copy_of_a_rule_set_with_other_rules_does_not_reuse_the_originals_tables(demo_rules):
    view = demo_rules.in_force("2026-06-01")
    assert demo_rules.in_force("2026-06-01") is view, "one view per day, kept"
    assert demo_rules.in_force("2021-06-01") is not view
    tables = demo_rules._derived("probe", lambda rs: [r.id for r in rs.rules])
    fewer = demo_rules.model_copy(update={"rules": demo_rules.rules[1:]})
    assert fewer._derived("probe", lambda rs: [r.id for r in rs.rules]) == tables[1:]
    assert demo_rules._derived("probe", lambda rs: [r.id for r in rs.rules]) == tables


def test_a_kept_file_hash_follows_the_file(tmp_path):
    from zoning.io import file_sha256
    from zoning.screening.provenance import _sha256

    path = tmp_path / "catalog.yml"
    path.write_text("layers: []\n", encoding="utf-8")
    first = _sha256(path)
    assert first == file_sha256(path) and _sha256(path) == first
    path.write_text("layers: [] # changed\n", encoding="utf-8")
    assert _sha256(path) == file_sha256(path) != first
    assert _sha256(tmp_path / "absent.yml") is None
