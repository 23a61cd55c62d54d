"""Catalog validity periods (vintages): ``valid_from`` / ``valid_to`` and ``Catalog.in_force``."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import write_catalog
from zoning.catalog import read_catalog
from zoning.errors import CatalogError

D = dt.date


def entry(id_, kind="nature_reserve", **extra):
    return {"id": id_, "kind": kind, "source": "x.gpkg", **extra}


def two_vintages(tmp_path, **top):
    """A catalog with a 2017 and a 2026 reserve vintage and an undated district layer."""
    return write_catalog(
        tmp_path / "cat.yml",
        [
            entry("districts", kind="district"),
            entry("reserves", valid_from="2017-10-07", valid_to="2026-03-14"),
            entry("reserves_2026", valid_from="2026-03-15"),
        ],
        **top,
    )


def test_dates_parsed_from_strings_and_yaml_dates(tmp_path):
    path = tmp_path / "cat.yml"
    # Unquoted: YAML reads a date; quoted: a string.  Both give datetime.date.
    path.write_text(
        "layers:\n"
        "  - {id: a, kind: red_line, source: x.gpkg,\n"
        "     valid_from: 2020-01-01, valid_to: '2020-12-31'}\n"
        "  - {id: b, kind: red_line, source: x.gpkg}\n",
        encoding="utf-8",
    )
    cat = read_catalog(path)
    a, b = cat.layers
    assert a.valid_from == D(2020, 1, 1) and type(a.valid_from) is dt.date
    assert a.valid_to == D(2020, 12, 31) and type(a.valid_to) is dt.date
    assert b.valid_from is None and b.valid_to is None


def test_in_force_on_is_inclusive_at_both_ends(tmp_path):
    cat = read_catalog(two_vintages(tmp_path))
    old, new = cat.by_id("reserves"), cat.by_id("reserves_2026")
    assert not old.in_force_on(D(2017, 10, 6))
    assert old.in_force_on(D(2017, 10, 7))
    assert old.in_force_on(D(2026, 3, 14))  # valid_to is the last day in force
    assert not old.in_force_on(D(2026, 3, 15))
    assert not new.in_force_on(D(2026, 3, 14))
    assert new.in_force_on(D(2026, 3, 15))
    assert new.in_force_on(D(2999, 1, 1))
    undated = cat.by_id("districts")
    assert undated.in_force_on(D(1900, 1, 1)) and undated.in_force_on(D(2999, 1, 1))


def test_one_day_validity_allowed(tmp_path):
    path = write_catalog(
        tmp_path / "c.yml", [entry("a", valid_from="2026-01-01", valid_to="2026-01-01")]
    )
    a = read_catalog(path).layers[0]
    assert a.in_force_on(D(2026, 1, 1))
    assert not a.in_force_on(D(2026, 1, 2))


def test_from_after_to_is_one_line_error_naming_file_and_layer(tmp_path):
    path = write_catalog(
        tmp_path / "c.yml",
        [entry("ok"), entry("bad", valid_from="2026-03-15", valid_to="2026-03-14")],
    )
    with pytest.raises(CatalogError) as info:
        read_catalog(path)
    msg = str(info.value)
    assert "\n" not in msg
    assert str(path) in msg
    assert "layer 'bad' (entry 2)" in msg
    assert "valid_to" in msg and "2026-03-14" in msg and "2026-03-15" in msg
    assert "(entry)" not in msg


@pytest.mark.parametrize(
    "value",
    ["2026-13-01", "15.03.2026", "2026-3-15", "yesterday", "2026-03-15T00:00:00"],
)
def test_bad_date_strings_rejected(tmp_path, value):
    path = write_catalog(tmp_path / "c.yml", [entry("a", valid_from=value)])
    pattern = r"layer 'a' \(entry 1\): key 'valid_from': .*YYYY-MM-DD"
    with pytest.raises(CatalogError, match=pattern):
        read_catalog(path)


def test_number_and_timestamp_rejected(tmp_path):
    path = tmp_path / "c.yml"
    path.write_text("layers:\n  - {id: a, kind: red_line, source: x.gpkg, valid_to: 2026}\n")
    with pytest.raises(CatalogError, match=r"key 'valid_to': .*YYYY-MM-DD"):
        read_catalog(path)
    path.write_text(
        "layers:\n  - {id: a, kind: red_line, source: x.gpkg, valid_to: 2026-03-14 10:00:00}\n"
    )
    with pytest.raises(CatalogError, match=r"key 'valid_to': .*YYYY-MM-DD"):
        read_catalog(path)


def test_several_vintages_of_one_kind_allowed_even_overlapping(tmp_path):
    # Overlapping periods are not an error: both layers are in force on the shared days.
    path = write_catalog(
        tmp_path / "c.yml",
        [
            entry("a", valid_from="2020-01-01", valid_to="2024-12-31"),
            entry("b", valid_from="2024-01-01"),
        ],
    )
    cat = read_catalog(path)
    assert [e.id for e in cat.of_kind("nature_reserve")] == ["a", "b"]
    assert [e.id for e in cat.in_force(D(2024, 6, 1)).layers] == ["a", "b"]


def test_in_force_keeps_layers_of_the_day_and_metadata(tmp_path):
    path = two_vintages(tmp_path, version="v9", title="T", note="N")
    cat = read_catalog(path)
    assert cat.as_of is None and cat.not_in_force == []

    before = cat.in_force(D(2026, 3, 1))
    assert [e.id for e in before.layers] == ["districts", "reserves"]
    assert [e.id for e in before.not_in_force] == ["reserves_2026"]
    assert before.as_of == D(2026, 3, 1)
    assert (before.path, before.version, before.title, before.note) == (
        cat.path,
        "v9",
        "T",
        "N",
    )
    after = cat.in_force(D(2026, 4, 1))
    assert [e.id for e in after.layers] == ["districts", "reserves_2026"]
    assert [e.id for e in after.not_in_force] == ["reserves"]
    assert after.as_of == D(2026, 4, 1)
    # The original is unchanged.
    assert len(cat.layers) == 3 and cat.as_of is None


def test_in_force_survives_with_layers(tmp_path):
    cat = read_catalog(two_vintages(tmp_path)).in_force(D(2026, 4, 1))
    swapped = cat.with_layers([])
    assert swapped.as_of == D(2026, 4, 1)
    assert [e.id for e in swapped.not_in_force] == ["reserves"]


def test_nothing_in_force_is_one_line_error(tmp_path):
    path = write_catalog(
        tmp_path / "c.yml",
        [
            entry("a", valid_from="2020-01-01", valid_to="2020-12-31"),
            entry("b", valid_from="2022-01-01"),
        ],
    )
    cat = read_catalog(path)
    with pytest.raises(CatalogError) as info:
        cat.in_force(D(2021, 6, 1))
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith("c.yml: no layer is in force on 2021-06-01 (layers are valid from ")
    assert "2020-01-01 to 2020-12-31" in msg and "2022-01-01" in msg


def test_as_of_is_not_a_catalog_key(tmp_path):
    path = write_catalog(tmp_path / "c.yml", [entry("a")], as_of="2026-01-01")
    with pytest.raises(CatalogError, match=r"key 'as_of': unknown key"):
        read_catalog(path)


def test_demo_catalog_reserve_vintages():
    cat = read_catalog()
    assert [e.id for e in cat.of_kind("nature_reserve")] == [
        "nature_reserves",
        "nature_reserves_2026",
    ]
    old, new = cat.by_id("nature_reserves"), cat.by_id("nature_reserves_2026")
    assert (old.valid_from, old.valid_to) == (None, D(2026, 3, 14))
    assert (new.valid_from, new.valid_to) == (D(2026, 3, 15), None)
    before, after = cat.in_force(D(2026, 3, 14)), cat.in_force(D(2026, 3, 15))
    assert [e.id for e in before.of_kind("nature_reserve")] == ["nature_reserves"]
    assert [e.id for e in after.of_kind("nature_reserve")] == ["nature_reserves_2026"]
    # Every other layer is undated, so in force on both days.
    assert len(before.layers) == len(after.layers) == len(cat.layers) - 1
    for e in (*before.layers, *after.layers):
        assert e.provenance is not None and e.provenance.status == "demonstration"


def test_demo_catalog_new_kinds_and_stream_attribute():
    from zoning.layerset import load_catalog

    cat = read_catalog()
    assert {"heritage_site", "noise_sensitive_area"} <= {e.kind for e in cat.layers}
    shore = cat.by_id("yangtze_shoreline")
    assert shore.fields.stream == "stream"
    attrs = load_catalog()["yangtze_shoreline"].attributes
    assert sorted(attrs["stream"]) == ["main", "tributary"]
    heritage = load_catalog()["heritage_sites"].attributes
    assert set(heritage["category"]) == {"保护范围", "建设控制地带"}
