"""Tests of the policy-target file (seeds/targets.yml), its schema and ``zoning seeds``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from zoning.cli.seeds import seeds
from zoning.errors import SeedsError
from zoning.seeds import DEFAULT_TARGETS_PATH, TargetSet, load_targets

SEEDS_DIR = DEFAULT_TARGETS_PATH.parent
TARGETS = load_targets()


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _value_forms(value: float) -> list[str]:
    """Ways the document may write ``value``: 2527.3, 3200, 180万 (for 1800000)."""
    forms = [str(int(value)) if value == int(value) else repr(value)]
    if value >= 10_000 and value % 10_000 == 0:
        forms.append(f"{int(value // 10_000)}万")
    return forms


def _contains_number(text: str, form: str) -> bool:
    """``form`` occurs in ``text`` and is not part of a longer number (12 is not in 2012)."""
    return re.search(rf"(?<![\d.]){re.escape(form)}(?![\d.])", text) is not None


@pytest.fixture
def raw() -> dict:
    """A fresh, mutable copy of the bundled file's content."""
    return yaml.safe_load(DEFAULT_TARGETS_PATH.read_text(encoding="utf-8"))


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "targets.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


# --- the bundled file ---------------------------------------------------------------


def test_documents_are_bundled_unchanged_names():
    files = sorted(p.name for p in SEEDS_DIR.glob("0*.txt"))
    assert files == sorted(d.file for d in TARGETS.documents)
    assert len(files) == 5


@pytest.mark.parametrize("target", TARGETS.targets, ids=lambda t: t.id)
def test_quote_occurs_in_cited_document(target):
    document = TARGETS.document(target.document)
    text = (SEEDS_DIR / document.file).read_text(encoding="utf-8")
    assert _squeeze(target.quote) in _squeeze(text)


@pytest.mark.parametrize("target", TARGETS.targets, ids=lambda t: t.id)
def test_quote_contains_value_as_written(target):
    quote = _squeeze(target.quote)
    forms = _value_forms(target.value)
    assert any(_contains_number(quote, form) for form in forms), (forms, target.quote)


@pytest.mark.parametrize("target", TARGETS.targets, ids=lambda t: t.id)
def test_year_is_quoted_or_explained(target):
    note = target.note or ""
    assert str(target.year) in _squeeze(target.quote) or str(target.year) in note, (
        "the year is neither in the quote nor explained in the note"
    )


@pytest.mark.parametrize("target", TARGETS.targets, ids=lambda t: t.id)
def test_district_targets_match_their_document(target):
    document = TARGETS.document(target.document)
    if document.scope == "district":
        assert (target.scope, target.district) == ("district", document.district)


REQUIRED = [
    # (indicator, value, unit, district)
    ("red_line_area", 2527.3, "km2", None),
    ("construction_land_area", 3200, "km2", None),
    ("cultivated_land_area", 1_800_000, "mu", None),
    ("permanent_basic_farmland_area", 1_500_000, "mu", None),
    ("water_surface_ratio", 10.5, "percent", None),
    ("natural_coastline_ratio", 12, "percent", None),
    ("new_river_lake_area", 700, "ha", None),
    ("forest_cover", 14.6, "percent", None),
    ("forest_cover", 23, "percent", None),
    ("park_count", 2000, "count", None),
    ("backbone_greenway_length", 2000, "km", None),
    ("park_green_space_per_capita", 13, "m2_per_person", None),
    ("open_space_5min_walk_coverage", 90, "percent", None),
    ("sponge_city_new_area", 450, "km2", None),
    ("park_green_space_per_capita", 9.75, "m2_per_person", "金山区"),
    ("pm25_annual_mean", 28, "ug_m3", "金山区"),
    ("zero_waste_cell_count", 60, "count", "金山区"),
    ("sponge_city_demo_project_count", 18, "count", "金山区"),
    ("pm25_annual_mean", 30, "ug_m3", "闵行区"),
    ("new_city_park_count", 5, "count", "闵行区"),
    ("new_pocket_park_count", 100, "count", "闵行区"),
    ("new_greenway_length", 200, "km", "闵行区"),
]


@pytest.mark.parametrize(("indicator", "value", "unit", "district"), REQUIRED)
def test_required_target_present(indicator, value, unit, district):
    matches = [
        t
        for t in TARGETS.targets
        if (t.indicator, t.unit, t.district) == (indicator, unit, district)
        and t.value == pytest.approx(value)
    ]
    assert len(matches) == 1


def test_key_comparators_and_years():
    red_line = [t for t in TARGETS.targets if t.indicator == "red_line_area"]
    assert [(t.comparator, t.value) for t in red_line] == [(">=", 2527.3)]
    (construction,) = [t for t in TARGETS.targets if t.indicator == "construction_land_area"]
    assert construction.comparator == "<="
    forest = {t.year: t.value for t in TARGETS.targets if t.indicator == "forest_cover"}
    assert forest == {2030: 14.6, 2035: 23}
    (coast,) = [t for t in TARGETS.targets if t.indicator == "natural_coastline_ratio"]
    assert (coast.comparator, coast.year) == (">=", 2035)


def test_to_frame_one_row_per_target_with_titles():
    frame = TARGETS.to_frame()
    assert len(frame) == len(TARGETS)
    assert frame["id"].is_unique
    assert frame["document_title_zh"].notna().all()
    row = frame.set_index("id").loc["sh_red_line_area"]
    assert row["value"] == 2527.3
    assert row["document_file"] == "001_c2b2bec18e16c5bb.txt"


# --- schema errors ------------------------------------------------------------------


def _one_line_error(path: Path) -> str:
    with pytest.raises(SeedsError) as info:
        load_targets(path)
    message = str(info.value)
    assert "\n" not in message
    assert "targets.yml" in message
    return message


def test_rejects_unknown_key(tmp_path, raw):
    raw["targets"][0]["valeu"] = 1
    message = _one_line_error(_write(tmp_path, raw))
    assert f"target '{raw['targets'][0]['id']}'" in message
    assert "'valeu'" in message and "unknown key" in message


def test_rejects_numeric_id(tmp_path, raw):
    raw["targets"][3]["id"] = 2027
    message = _one_line_error(_write(tmp_path, raw))
    assert "targets[3]" in message and "'id'" in message


def test_rejects_numeric_district_code(tmp_path, raw):
    index = next(i for i, t in enumerate(raw["targets"]) if t["scope"] == "district")
    raw["targets"][index]["district"] = 310116
    message = _one_line_error(_write(tmp_path, raw))
    assert f"target '{raw['targets'][index]['id']}'" in message and "'district'" in message


def test_rejects_value_written_as_string(tmp_path, raw):
    raw["targets"][0]["value"] = "2527.3"
    message = _one_line_error(_write(tmp_path, raw))
    assert "'value'" in message


def test_rejects_duplicate_id(tmp_path, raw):
    raw["targets"][1]["id"] = raw["targets"][0]["id"]
    message = _one_line_error(_write(tmp_path, raw))
    assert "duplicate" in message and "'id'" in message


def test_rejects_unknown_document(tmp_path, raw):
    raw["targets"][0]["document"] = "no_such_document"
    message = _one_line_error(_write(tmp_path, raw))
    assert "'document'" in message and "no_such_document" in message


def test_rejects_district_on_city_target(tmp_path, raw):
    index = next(i for i, t in enumerate(raw["targets"]) if t["scope"] == "city")
    raw["targets"][index]["district"] = "金山区"
    message = _one_line_error(_write(tmp_path, raw))
    assert "'district'" in message


def test_rejects_district_target_without_district(tmp_path, raw):
    index = next(i for i, t in enumerate(raw["targets"]) if t["scope"] == "district")
    raw["targets"][index]["district"] = None
    message = _one_line_error(_write(tmp_path, raw))
    assert "'district'" in message


def test_missing_file(tmp_path):
    path = tmp_path / "targets.yml"
    with pytest.raises(SeedsError, match=r"targets\.yml"):
        load_targets(path)


def test_unparseable_file(tmp_path):
    path = tmp_path / "targets.yml"
    path.write_text("targets: [\n  oops", encoding="utf-8")
    with pytest.raises(SeedsError, match="not valid YAML"):
        load_targets(path)


def test_seeds_error_is_value_error():
    assert issubclass(SeedsError, ValueError)
    assert isinstance(TARGETS, TargetSet)


# --- command line -------------------------------------------------------------------


def test_cli_table():
    result = CliRunner().invoke(seeds, [])
    assert result.exit_code == 0, result.output
    assert "2527.3" in result.output
    assert "sh_red_line_area" in result.output


def test_cli_json_has_all_rows():
    result = CliRunner().invoke(seeds, ["--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) == len(TARGETS)
    assert {"id", "value", "quote", "document_title_zh"} <= set(rows[0])


def test_cli_csv_filters_by_district():
    result = CliRunner().invoke(seeds, ["--format", "csv", "--district", "金山区"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    expected = [t for t in TARGETS.targets if t.district == "金山区"]
    assert len(lines) == 1 + len(expected)
    assert all("金山区" in line for line in lines[1:])


def test_cli_scope_city():
    result = CliRunner().invoke(seeds, ["--format", "json", "--scope", "city"])
    rows = json.loads(result.output)
    assert rows and all(r["scope"] == "city" for r in rows)


def test_cli_unknown_district():
    result = CliRunner().invoke(seeds, ["--district", "不存在区"])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert "不存在区" in result.output
    assert "Traceback" not in result.output


def test_cli_bad_file_is_one_line(tmp_path, raw):
    raw["targets"][0]["valeu"] = 1
    result = CliRunner().invoke(seeds, ["--file", str(_write(tmp_path, raw))])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert "valeu" in result.output
