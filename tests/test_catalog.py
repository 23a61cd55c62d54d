"""The catalog schema: unknown keys, numeric codes, unknown kinds, ad-hoc layers."""

from __future__ import annotations

import pytest

from conftest import write_catalog
from zoning.catalog import DEFAULT_CATALOG, parse_layer_spec, read_catalog
from zoning.errors import CatalogError
from zoning.layerset import load_catalog


def base(**extra):
    return {"id": "rl", "kind": "red_line", "source": "x.gpkg", **extra}


def test_demo_catalog_is_valid_and_all_demonstration():
    cat = read_catalog()
    assert cat.path == DEFAULT_CATALOG
    kinds = {e.kind for e in cat.layers}
    assert {
        "red_line",
        "development_boundary",
        "basic_farmland",
        "water",
        "water_source_zone",
        "nature_reserve",
        "control_unit",
        "district",
        "sea_area",
    } <= kinds
    assert all(e.provenance and e.provenance.status == "demonstration" for e in cat.layers)


def test_unknown_key_names_entry_and_key(tmp_path):
    path = write_catalog(tmp_path / "c.yml", [base(), {**base(id="b"), "colour": "red"}])
    with pytest.raises(CatalogError, match=r"layer 'b' \(entry 2\): key 'colour': unknown key"):
        read_catalog(path)


def test_unknown_nested_key(tmp_path):
    path = write_catalog(tmp_path / "c.yml", [base(fields={"idd": "x"})])
    with pytest.raises(CatalogError, match=r"key 'fields.idd': unknown key"):
        read_catalog(path)


def test_numeric_code_rejected(tmp_path):
    # YAML 1.1 reads an unquoted 0101 as the number 65: the schema refuses it.
    path = tmp_path / "c.yml"
    path.write_text(
        "layers:\n  - id: rl\n    kind: red_line\n    source: x.gpkg\n    layer: 0101\n"
    )
    with pytest.raises(
        CatalogError, match=r"layer 'rl' \(entry 1\): key 'layer': must be a string"
    ):
        read_catalog(path)


def test_numeric_field_name_rejected(tmp_path):
    path = write_catalog(tmp_path / "c.yml", [base(fields={"unit_code": 31011510001})])
    with pytest.raises(CatalogError, match=r"key 'fields.unit_code': must be a string"):
        read_catalog(path)


def test_unknown_kind(tmp_path):
    path = write_catalog(tmp_path / "c.yml", [base(kind="redline")])
    with pytest.raises(CatalogError, match="unknown kind 'redline'"):
        read_catalog(path)


def test_missing_required_key(tmp_path):
    path = write_catalog(tmp_path / "c.yml", [{"id": "rl", "kind": "red_line"}])
    with pytest.raises(CatalogError, match="key 'source': required key is missing"):
        read_catalog(path)


def test_duplicate_id(tmp_path):
    path = write_catalog(tmp_path / "c.yml", [base(), base()])
    with pytest.raises(CatalogError, match="duplicate id"):
        read_catalog(path)


def test_bad_status(tmp_path):
    path = write_catalog(
        tmp_path / "c.yml", [base(provenance={"status": "official", "source": "x"})]
    )
    with pytest.raises(CatalogError, match=r"provenance\.status"):
        read_catalog(path)


def test_missing_and_invalid_yaml(tmp_path):
    with pytest.raises(CatalogError, match="catalog not found"):
        read_catalog(tmp_path / "none.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("layers: [\n  - id: : :\n")
    with pytest.raises(CatalogError, match="not valid YAML"):
        read_catalog(bad)
    (tmp_path / "empty.yml").write_text("title: x\n")
    with pytest.raises(CatalogError, match="top-level 'layers:'"):
        read_catalog(tmp_path / "empty.yml")


@pytest.mark.parametrize("spec", ["red_line", "=x.gpkg", "red_line=", "redline=x.gpkg"])
def test_bad_layer_spec(spec):
    with pytest.raises(CatalogError, match="--layer"):
        parse_layer_spec(spec)


def test_layer_spec_replaces_kind(square_gpkg):
    ls = load_catalog(layers=[f"red_line={square_gpkg}"])
    red = [e for e in ls.catalog.layers if e.kind == "red_line"]
    assert len(red) == 1 and red[0].source == str(square_gpkg)
    assert red[0].provenance.status == "unknown"
    assert ls["red_line"].report.features == 1
    spec = parse_layer_spec("district=a.shp@EPSG:4549")
    assert spec.crs == "EPSG:4549"


def test_nan_total_rejected(tmp_path):
    path = tmp_path / "c.yml"
    path.write_text(
        "layers:\n  - {id: rl, kind: red_line, source: x.gpkg, official_total_km2: .nan}\n"
    )
    with pytest.raises(CatalogError, match="official_total_km2"):
        read_catalog(path)


def test_layer_spec_path_with_at_sign(tmp_path, square_gpkg):
    folder = tmp_path / "a@b"
    folder.mkdir()
    target = folder / "x.gpkg"
    target.write_bytes(square_gpkg.read_bytes())
    assert parse_layer_spec(f"red_line={target}").source == str(target)
    spec = parse_layer_spec(f"red_line={target}@EPSG:4490")
    assert spec.source == str(target) and spec.crs == "EPSG:4490"


def test_swapped_layer_keeps_official_total(square_gpkg):
    ls = load_catalog(layers=[f"red_line={square_gpkg}"])
    red = ls.catalog.by_id("red_line")
    assert red.official_total_km2 == 2527.30 and red.official_subtotals_km2 is None


def test_key_written_twice_is_an_error(tmp_path):
    """PyYAML keeps the last of two equal keys; a catalog must not silently read another file."""
    path = tmp_path / "catalog.yml"
    path.write_text(
        "layers:\n  - id: red\n    kind: red_line\n    source: a.gpkg\n    source: b.gpkg\n",
        encoding="utf-8",
    )
    with pytest.raises(CatalogError, match=r"line 5.*'source' is written twice"):
        read_catalog(path)


def test_id_with_a_trailing_newline_is_refused(tmp_path):
    """``$`` matches before a final newline; an id must match as a whole."""
    path = write_catalog(
        tmp_path / "c.yml", [{"id": "red_line\n", "kind": "red_line", "source": "r.gpkg"}]
    )
    with pytest.raises(CatalogError, match="id"):
        read_catalog(path)
