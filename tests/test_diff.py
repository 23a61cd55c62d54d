"""``zoning diff``: what changed between two screenings of the same sites, and why.

Real screenings of a few example projects are written into tmp folders; copies of them are
then edited (a provenance key, a reason, an attribute) to force each kind of cause, and the
diff must name exactly that cause.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import REPO
from zoning.cli import main
from zoning.diff import CAUSE_KINDS, DIFF_COLUMNS, DiffError, diff_runs
from zoning.errors import ZoningError

#: The example projects screened here: a reserve's experimental zone (two rules), a
#: restaurant (one rule that reads its emissions), a warehouse (no rule).
SITES = ("reserve-experimental-powerline", "huangpu-restaurant", "jinshan-logistics-park")
RESERVE, RESTAURANT, WAREHOUSE = SITES
#: The day the runs are screened as of: the 2017 reserve regulation still in force.
AS_OF = "2026-03-01"


def _subset(path: Path, edit=None) -> Path:
    doc = json.loads((REPO / "layers" / "examples" / "projects.geojson").read_text("utf-8"))
    doc["features"] = [f for f in doc["features"] if f["properties"]["id"] in SITES]
    for f in doc["features"]:
        if edit is not None:
            edit(f["properties"])
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def _screen(sites: Path, out: Path, demo_layers) -> Path:
    import zoning

    zoning.screen(sites, demo_layers, as_of=AS_OF).to_file(out, ["csv", "json"])
    return out


@pytest.fixture(scope="module")
def base(tmp_path_factory, demo_layers) -> Path:
    """A real screening of the three sites (csv and json), never edited."""
    tmp = tmp_path_factory.mktemp("diff-base")
    return _screen(_subset(tmp / "sites.geojson"), tmp / "run", demo_layers)


def _copy(base: Path, dest: Path) -> Path:
    shutil.copytree(base, dest)
    return dest


def _edit(folder: Path, fn) -> Path:
    path = folder / "screening.json"
    doc = json.loads(path.read_text("utf-8"))
    fn(doc)
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return folder


def _pair(base: Path, tmp_path: Path, edit_a=None, edit_b=None) -> tuple[Path, Path]:
    a, b = _copy(base, tmp_path / "a"), _copy(base, tmp_path / "b")
    if edit_a is not None:
        _edit(a, edit_a)
    if edit_b is not None:
        _edit(b, edit_b)
    return a, b


def _reasons(doc: dict, site_id: str) -> list[dict]:
    return [r for r in doc["reasons"] if r["site_id"] == site_id]


def _site(doc: dict, site_id: str) -> dict:
    return next(s for s in doc["sites"] if s["site_id"] == site_id)


def _flip(verdict: str) -> str:
    """Another verdict than ``verdict`` (an edit that is surely a change)."""
    return "unknown" if verdict != "unknown" else "restricted"


def _verdict(folder: Path, site_id: str) -> str:
    return _site(json.loads((folder / "screening.json").read_text("utf-8")), site_id)["verdict"]


def _rows(d, site_id=None, what=None) -> pd.DataFrame:
    c = d.changes
    if site_id is not None:
        c = c[c["site_id"] == site_id]
    if what is not None:
        c = c[c["what"] == what]
    return c


# The law of the demonstration: the 2017 reserve regulation up to 2026-03-14, the 2026 one
# from 2026-03-15 (as the as-of screening records it in its provenance).
DOCS = {
    "nrr_2017": {
        "id": "nrr_2017",
        "label": "自然保护区条例（2017）",
        "in_force_from": "2017-10-07",
        "in_force_to": "2026-03-14",
        "repealed_by": "nrr_2026",
    },
    "nrr_2026": {
        "id": "nrr_2026",
        "label": "自然保护区条例（2026）",
        "in_force_from": "2026-03-15",
        "in_force_to": None,
        "repealed_by": None,
    },
    "nrp_2022": {
        "id": "nrp_2022",
        "label": "自然资发〔2022〕142号",
        "in_force_from": "2022-08-16",
        "in_force_to": None,
        "repealed_by": None,
    },
}
OLD_RULE, NEW_RULE = "nature_reserve.experimental", "nature_reserve.general_2026"


def _rule(rid, doc, vf=None, vt=None):
    return {"id": rid, "document": doc, "article": "第X条", "valid_from": vf, "valid_to": vt}


def _law(as_of, rules, not_in_force):
    docs = sorted({r["document"] for r in rules})
    return {
        "as_of": as_of,
        "documents": [DOCS[d] for d in docs],
        "rules": rules,
        "not_in_force": not_in_force,
    }


def _as_of(as_of, rules, not_in_force):
    def edit(doc):
        doc["provenance"]["as_of"] = as_of
        doc["provenance"]["law"] = _law(as_of, rules, not_in_force)

    return edit


RED = _rule("red_line.linear", "nrp_2022")
OLD = _rule(OLD_RULE, "nrr_2017", "2017-10-07", "2026-03-14")
NEW = _rule(NEW_RULE, "nrr_2026", "2026-03-15")


# ---------------------------------------------------------------------------------- basics


def _older(doc):
    """What a screening wrote before the law in force was recorded."""
    prov = doc["provenance"]
    for key in ("as_of", "law", "layers_not_in_force"):
        prov.pop(key, None)
    prov["rule_set"].pop("as_of", None)
    for layer in prov["layers"]:
        layer.pop("valid_from", None)
        layer.pop("valid_to", None)
    doc.pop("clauses", None)


def test_a_run_against_itself_has_no_change(base):
    d = diff_runs(base, base / "screening.json")  # the folder, or its screening.json
    assert list(d.changes.columns) == list(DIFF_COLUMNS)
    assert d.changes.empty
    assert set(d.sites["status"]) == {"unchanged"}
    assert len(d.sites) == 3
    assert d.demonstration


def test_older_outputs_are_compared_and_the_diff_says_what_they_lack(base, tmp_path):
    d = diff_runs(*_pair(base, tmp_path, _older, _older))
    assert d.changes.empty
    assert "both runs: no record of the law in force" in " ".join(d.notes)
    a, b = _pair(base, tmp_path / "2", _older, _as_of("2026-04-01", [RED, OLD], []))
    notes = " ".join(diff_runs(a, b).notes)
    assert f"{a}: no record of the law in force" in notes and f"{b}:" not in notes


def test_regulation_change_is_named_as_the_cause(base, tmp_path):
    """The 2017 reserve rule (in force as of 2026-03-01) gives way to the 2026 one (as of
    2026-04-01): both reason changes name the documents, the repeal and its date."""

    def after(doc):
        _as_of("2026-04-01", [RED, NEW], [OLD_RULE])(doc)
        for r in _reasons(doc, RESERVE):
            if r["rule_id"] == OLD_RULE:
                r["rule_id"], r["document"], r["verdict"] = NEW_RULE, "nrr_2026", "prohibited"
        site = _site(doc, RESERVE)
        site["verdict"] = _flip(site["verdict"])  # an edited verdict: a verdict change

    a, b = _pair(base, tmp_path, _as_of("2026-03-01", [RED, OLD], [NEW_RULE]), after)
    d = diff_runs(a, b)
    rows = _rows(d, RESERVE, "reason").set_index("rule_id")
    assert set(rows.index) == {OLD_RULE, NEW_RULE}
    gone, new = rows.loc[OLD_RULE], rows.loc[NEW_RULE]
    assert gone["after"] == "(absent)" and new["before"] == "(absent)"
    assert gone["cause_kind"] == "document"
    assert "in force from 2017-10-07 to 2026-03-14" in gone["cause"]
    assert "in force as of 2026-03-01, not as of 2026-04-01" in gone["cause"]
    assert "repealed by 自然保护区条例（2026） [nrr_2026] on 2026-03-15" in gone["cause"]
    assert new["cause_kind"] == "document"
    assert "in force as of 2026-04-01, not as of 2026-03-01" in new["cause"]
    verdict = _rows(d, RESERVE, "verdict").iloc[0]
    before = _verdict(base, RESERVE)
    assert (verdict["before"], verdict["after"]) == (before, _flip(before))
    assert verdict["cause_kind"] == "document" and "repealed by" in verdict["cause"]
    # Nothing else changed; the run differences say the date and documents.
    assert set(d.changes["site_id"]) == {RESERVE}
    texts = [c.text for c in d.run_differences]
    assert "date applied (as of): 2026-03-01 → 2026-04-01" in texts
    assert any("nrr_2017" in t and "only in" in t for t in texts)


def test_rule_validity_of_its_own(base, tmp_path):
    """A rule whose own validity ended while its document stays in force: cause ``rule``."""
    ended = _rule("red_line.linear", "nrp_2022", None, "2026-03-31")

    def after(doc):
        _as_of("2026-04-01", [OLD], ["red_line.linear"])(doc)
        doc["reasons"] = [r for r in doc["reasons"] if r["rule_id"] != "red_line.linear"]

    a, b = _pair(base, tmp_path, _as_of("2026-03-01", [ended, OLD], []), after)
    row = _rows(diff_runs(a, b), RESERVE, "reason").iloc[0]
    assert row["rule_id"] == "red_line.linear" and row["after"] == "(absent)"
    assert row["cause_kind"] == "rule"
    assert "valid until 2026-03-31" in row["cause"]


def test_rule_missing_from_one_rule_set(base, tmp_path):
    def after(doc):
        _as_of("2026-03-01", [OLD], [])(doc)  # red_line.linear not in the rule set at all
        doc["reasons"] = [r for r in doc["reasons"] if r["rule_id"] != "red_line.linear"]

    a, b = _pair(base, tmp_path, _as_of("2026-03-01", [RED, OLD], []), after)
    row = _rows(diff_runs(a, b), RESERVE, "reason").iloc[0]
    assert row["cause_kind"] == "rule_set"
    assert "red_line.linear is not in the rule set of" in row["cause"]


def test_older_outputs_fall_back_to_the_rule_set_hash(base, tmp_path):
    def after(doc):
        doc["provenance"]["rule_set"]["hash"] = "f" * 64
        doc["reasons"] = [r for r in doc["reasons"] if r["rule_id"] != "red_line.linear"]

    d = diff_runs(*_pair(base, tmp_path, None, after))
    row = _rows(d, RESERVE, "reason").iloc[0]
    assert row["cause_kind"] == "rule_set"
    assert "hash" in row["cause"] and "ffffffffffff" in row["cause"]


def test_unexplained_change_is_said_undetermined(base, tmp_path):
    def after(doc):
        for r in _reasons(doc, RESTAURANT):
            was[r["rule_id"]] = r["verdict"]
            r["verdict"] = _flip(r["verdict"])

    was: dict = {}
    d = diff_runs(*_pair(base, tmp_path, None, after))
    row = _rows(d, RESTAURANT, "reason").iloc[0]
    assert row["cause_kind"] == "undetermined"
    assert row["cause"].startswith("cause not determined")
    old = was[row["rule_id"]]
    assert row["before"].startswith(old) and row["after"].startswith(_flip(old))


# ---------------------------------------------------------------------------------- layers


def _red_line_vintage(doc):
    """Run B screened against a new red-line vintage with one area added under the site."""
    prov = doc["provenance"]
    old = next(x for x in prov["layers"] if x["id"] == "red_line")
    new = dict(old, id="red_line_2026", valid_from="2026-03-15", sha256="e" * 64)
    prov["layers"] = [new if x["id"] == "red_line" else x for x in prov["layers"]]
    prov["layers_not_in_force"] = [
        {"id": "red_line", "kind": old["kind"], "valid_from": None, "valid_to": "2026-03-14"}
    ]
    for r in doc["reasons"]:
        if r["layer_id"] == "red_line":
            r["layer_id"] = "red_line_2026"
    # The new area: a reason of red_line.linear on a new feature for the warehouse.
    template = next(r for r in doc["reasons"] if r["rule_id"] == "red_line.linear")
    doc["reasons"].append(
        dict(template, site_id=WAREHOUSE, site=2, feature_id="RL-NEW", feature_name="new area")
    )


def test_layer_vintage_is_named_and_the_same_feature_is_no_change(base, tmp_path):
    d = diff_runs(*_pair(base, tmp_path, None, _red_line_vintage))
    # The reserve site's red-line reason only moved to the new vintage (same feature): no row.
    assert _rows(d, RESERVE).empty
    row = _rows(d, WAREHOUSE, "reason").iloc[0]
    assert row["rule_id"] == "red_line.linear" and row["before"] == "(absent)"
    assert "red_line_2026:RL-NEW" in row["after"]
    assert row["cause_kind"] == "layer"
    assert "layer vintage red_line → red_line_2026 (valid 2026-03-15–…)" in row["cause"]


def test_layer_sha256_difference(base, tmp_path):
    def after(doc):
        for x in doc["provenance"]["layers"]:
            if x["id"] == "control_units":
                x["sha256"] = "0" * 64
        for r in _reasons(doc, RESTAURANT):
            r["feature_id"] = "ZH-OTHER"

    row = _rows(diff_runs(*_pair(base, tmp_path, None, after)), RESTAURANT).iloc[0]
    assert row["cause_kind"] == "layer"
    assert "layer control_units: sha256" in row["cause"] and "000000000000" in row["cause"]


def test_catalog_file_when_no_layer_differs(base, tmp_path):
    def after(doc):
        doc["provenance"]["catalog"]["sha256"] = "c" * 64
        for r in _reasons(doc, RESTAURANT):
            r["verdict"] = _flip(r["verdict"])

    row = _rows(diff_runs(*_pair(base, tmp_path, None, after)), RESTAURANT).iloc[0]
    assert row["cause_kind"] == "catalog" and "catalog file: sha256" in row["cause"]


# ---------------------------------------------------------------------------------- the site


def test_project_attributes_of_a_real_rescreening(base, tmp_path, demo_layers):
    """The warehouse declared as a new basic-chemicals plant: really screened again."""

    def chemical(props):
        if props["id"] == WAREHOUSE:
            props.update(industry="C2614", air=True, wastewater=True, hazardous=True)

    b = _screen(_subset(tmp_path / "sites.geojson", chemical), tmp_path / "b", demo_layers)
    d = diff_runs(base, b)
    assert set(d.changes["site_id"]) == {WAREHOUSE}
    verdict = _rows(d, WAREHOUSE, "verdict").iloc[0]
    assert verdict["before"] == "permitted" and verdict["after"] != "permitted"
    assert len(_rows(d, WAREHOUSE, "reason"))
    changed = ("industry G5920→C2614", "wastewater False→True", "hazardous False→True")
    for row in _rows(d, WAREHOUSE).itertuples():
        assert row.cause_kind == "attributes"
        assert row.cause.startswith("project attributes: ")
        if row.what == "clause":  # a clause names only the facts it reads (one at least)
            assert any(c in row.cause for c in changed), row.cause
        else:
            assert all(c in row.cause for c in changed), row.cause


def test_site_geometry(base, tmp_path):
    def after(doc):
        site = _site(doc, WAREHOUSE)
        site["wkt"] = "POINT (121.3 30.8)"
        site["area_m2"] = None
        site["verdict"] = _flip(site["verdict"])

    row = _rows(diff_runs(*_pair(base, tmp_path, None, after)), WAREHOUSE).iloc[0]
    assert row["what"] == "verdict"
    assert row["cause_kind"] == "geometry" and "site geometry differs (area" in row["cause"]


def test_sites_only_in_one_run_and_input_file(base, tmp_path):
    def after(doc):
        doc["sites"] = [s for s in doc["sites"] if s["site_id"] != WAREHOUSE]
        doc["provenance"]["input"]["sha256"] = "1" * 64

    d = diff_runs(*_pair(base, tmp_path, None, after))
    row = _rows(d, WAREHOUSE).iloc[0]
    before = _verdict(base, WAREHOUSE)
    assert (row["what"], row["before"], row["after"]) == ("site", before, "(absent)")
    assert row["cause_kind"] == "input" and "sha256" in row["cause"]
    assert d.sites.set_index("site_id").loc[WAREHOUSE, "status"] == "removed"
    assert any("different sites: 1 only in" in n for n in d.notes)


def test_tool_version_and_options(base, tmp_path):
    def after(doc):
        doc["provenance"]["tool_version"] = "9.9.9"
        doc["provenance"]["options"]["search_radius_m"] = 50.0
        for r in _reasons(doc, RESTAURANT):
            r["verdict"] = _flip(r["verdict"])

    row = _rows(diff_runs(*_pair(base, tmp_path, None, after)), RESTAURANT).iloc[0]
    assert row["cause_kind"] == "input;tool"
    assert re.search(r"screening options: search_radius_m [\d.]+ → 50\.0", row["cause"])
    assert "zoning version" in row["cause"] and "9.9.9" in row["cause"]


# ---------------------------------------------------------------------------------- clauses


CLAUSES = (
    "site,site_id,scope,list_id,rule_id,dimension,clause_zh,citation,quote,reads,result,"
    "result_zh,explanation_zh,explanation_en\n"
    "1,huangpu-restaurant,unit,city/key/urban,key.emissions,污染物排放管控,x,c,q,"
    "air; wastewater,{r1},z,e,e\n"
    "2,jinshan-logistics-park,city,,city.park_only,空间布局约束,x,c,q,industry,{r2},z,e,e\n"
)


def _csv_clauses(doc):
    """The run's clause table is read from the clauses.csv the test writes, not the JSON."""
    doc.pop("clauses", None)


def test_clause_results(base, tmp_path):
    a, b = _pair(base, tmp_path, _csv_clauses, _csv_clauses)
    (a / "clauses.csv").write_text(CLAUSES.format(r1="needs_review", r2="complies"), "utf-8")
    (b / "clauses.csv").write_text(CLAUSES.format(r1="complies", r2="complies"), "utf-8")
    d = diff_runs(a, b)
    assert not any("no clause table" in n for n in d.notes)
    row = _rows(d, what="clause").iloc[0]
    assert (row["site_id"], row["rule_id"]) == (RESTAURANT, "key.emissions")
    before, after = "needs_review [city/key/urban]", "complies [city/key/urban]"
    assert (row["before"], row["after"]) == (before, after)
    assert row["cause_kind"] == "undetermined"
    assert len(d.changes) == 1


def test_clause_tables_written_as_gbk_are_read(base, tmp_path):
    """A run written with --csv-encoding gbk (Chinese cells) is compared like a UTF-8 one."""
    a, b = _pair(base, tmp_path, _csv_clauses, _csv_clauses)
    (a / "clauses.csv").write_bytes(CLAUSES.format(r1="needs_review", r2="complies").encode("gbk"))
    (b / "clauses.csv").write_text(CLAUSES.format(r1="complies", r2="complies"), "utf-8-sig")
    row = _rows(diff_runs(a, b), what="clause").iloc[0]
    assert (row["site_id"], row["rule_id"]) == (RESTAURANT, "key.emissions")
    assert row["before"] == "needs_review [city/key/urban]"


def test_clause_causes_follow_the_facts_the_clause_reads(base, tmp_path):
    """The restaurant's attributes changed: the clause reading them is explained by them, the
    clause reading only the industry code is not."""

    def after(doc):
        _csv_clauses(doc)
        _site(doc, RESTAURANT)["air"] = False

    a, b = _pair(base, tmp_path, _csv_clauses, after)
    clauses = CLAUSES.replace("jinshan-logistics-park", RESTAURANT).replace(",city,,", ",city,x,")
    (a / "clauses.csv").write_text(clauses.format(r1="needs_review", r2="complies"), "utf-8")
    (b / "clauses.csv").write_text(clauses.format(r1="complies", r2="violates"), "utf-8")
    rows = _rows(diff_runs(a, b), RESTAURANT, "clause").set_index("rule_id")
    assert rows.loc["key.emissions", "cause_kind"] == "attributes"
    assert rows.loc["key.emissions", "cause"] == "project attributes: air True→False"
    assert rows.loc["city.park_only", "cause_kind"] == "undetermined"


def test_clauses_in_one_run_only_are_not_compared(base, tmp_path):
    a, b = _pair(base, tmp_path, _csv_clauses, _csv_clauses)
    (a / "clauses.csv").unlink(missing_ok=True)
    (b / "clauses.csv").write_text(CLAUSES.format(r1="complies", r2="complies"), "utf-8")
    d = diff_runs(a, b)
    assert d.changes.empty
    assert any(str(a) in n and "no clause table" in n for n in d.notes)


# ---------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: p.mkdir(), "no screening.json"),
        (lambda p: None, "no such folder"),
        (lambda p: p.write_text("x"), "not a folder"),
        (
            lambda p: (p.mkdir(), (p / "screening.json").write_text("{oops", "utf-8")),
            "cannot be read as JSON",
        ),
        (
            lambda p: (p.mkdir(), (p / "screening.json").write_text('{"a": 1}', "utf-8")),
            "not a zoning screening",
        ),
    ],
)
def test_a_folder_that_is_not_a_screening_output(base, tmp_path, make, words):
    bad = tmp_path / "bad"
    make(bad)
    with pytest.raises(DiffError, match=words) as info:
        diff_runs(base, bad)
    assert str(bad) in str(info.value) and "\n" not in str(info.value)
    res = CliRunner().invoke(main, ["diff", str(base), str(bad), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "Traceback" not in res.output and str(bad) in res.output and words in res.output
    assert not (tmp_path / "o").exists()


# ---------------------------------------------------------------------------------- outputs


def test_cli_writes_csv_and_html(base, tmp_path):
    a, b = _pair(base, tmp_path, _as_of("2026-03-01", [RED, OLD], [NEW_RULE]))
    _edit(b, _as_of("2026-04-01", [RED, NEW], [OLD_RULE]))
    for r in _reasons(doc := json.loads((b / "screening.json").read_text("utf-8")), RESERVE):
        if r["rule_id"] == OLD_RULE:
            r["rule_id"] = NEW_RULE
    (b / "screening.json").write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["diff", str(a), str(b), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "(as of 2026-03-01)" in res.output and "DEMONSTRATION DATA" in res.output
    assert "Sites: 3 in both, 1 changed (0 verdicts)" in res.output
    assert f"{RESERVE} reason {OLD_RULE}" in res.output
    assert "Wrote into" in res.output and "diff.csv" in res.output
    table = pd.read_csv(out / "diff.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(table.columns) == [*DIFF_COLUMNS, "data_status"]
    assert set(table["rule_id"]) == {OLD_RULE, NEW_RULE}
    assert set(table["cause_kind"]) <= set(CAUSE_KINDS)
    page = (out / "diff.html").read_text("utf-8")
    assert 'id="demo-banner"' in page and "筛查结果对比" in page
    assert "repealed by" in page and "<script" not in page
    marker = json.loads((out / ".zoning-diff.json").read_text("utf-8"))
    assert marker["files"] == ["diff.csv", "diff.html"]
    # Again into the same folder: replaced; a file of the user's in the way: refused, kept.
    assert CliRunner().invoke(main, ["diff", str(a), str(b), "--out", str(out)]).exit_code == 0
    other = tmp_path / "other"
    other.mkdir()
    (other / "diff.csv").write_text("mine", "utf-8")
    res = CliRunner().invoke(main, ["diff", str(a), str(b), "--out", str(other)])
    assert res.exit_code == 2 and "not written by an earlier diff" in res.output
    assert (other / "diff.csv").read_text("utf-8") == "mine"
    assert not (other / "diff.html").exists()


def test_cli_console_only_and_bad_format(base, tmp_path):
    res = CliRunner().invoke(main, ["diff", str(base), str(base)])
    assert res.exit_code == 0, res.output
    assert "No site changed" in res.output and "No files written" in res.output
    args = ["diff", str(base), str(base), "--out", str(tmp_path / "o"), "--format", "pdf"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2 and "pdf" in res.output
    assert not (tmp_path / "o").exists()


def test_escaping_and_languages(base, tmp_path):
    def after(doc):
        _site(doc, WAREHOUSE)["verdict"] = _flip(_site(doc, WAREHOUSE)["verdict"])
        _site(doc, WAREHOUSE)["name"] = "<b>x</b>"

    d = diff_runs(*_pair(base, tmp_path, None, after))
    page = d.to_html("en")
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page
    assert "筛查结果对比" not in page
    assert "筛查结果对比" in d.to_html("zh")
    with pytest.raises(ValueError, match="lang"):
        d.to_html("fr")


def test_api_save_is_all_or_nothing(base, tmp_path):
    d = diff_runs(base, base)
    out = tmp_path / "o"
    written = d.save(out, ["csv"])
    assert written == {"csv": out / "diff.csv"}
    assert not (out / "diff.html").exists()
    (tmp_path / "f").write_text("x")
    with pytest.raises(OSError):
        d.save(tmp_path / "f" / "sub")


# ---------------------------------------------------------------------------------- screen


def base_of(out: Path) -> Path:
    return out / "as_of_2026-04-01"


def _screen_cli(*args):
    return CliRunner().invoke(main, ["screen", *map(str, args)])


def test_screen_diff_as_of_writes_both_screenings_and_their_diff(tmp_path):
    sites = _subset(tmp_path / "sites.geojson")
    out = tmp_path / "out"
    res = _screen_cli(
        sites,
        "--as-of",
        "2026-03-01",
        "--diff-as-of",
        "2026-04-01",
        "--out",
        out,
        "--format",
        "csv",
    )
    assert res.exit_code == 0, res.output
    assert "== as of 2026-03-01" in res.output and "== as of 2026-04-01" in res.output
    assert "zoning diff: as_of_2026-03-01 (as of 2026-03-01) → as_of_2026-04-01" in res.output
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        ".zoning-diff.json",
        "as_of_2026-03-01",
        "as_of_2026-04-01",
        "diff.csv",
        "diff.html",
    ]
    for day in ("2026-03-01", "2026-04-01"):
        folder = out / f"as_of_{day}"
        # json is added: the diff reads it
        assert {"sites.csv", "hits.csv", "screening.json"} <= {p.name for p in folder.iterdir()}
        prov = json.loads((folder / "screening.json").read_text("utf-8"))["provenance"]
        assert prov["as_of"] == day
    table = pd.read_csv(out / "diff.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(table.columns) == [*DIFF_COLUMNS, "data_status"]
    marker = json.loads((out / ".zoning-diff.json").read_text("utf-8"))
    assert "as_of_2026-03-01/screening.json" in marker["files"]
    # Again: the earlier run's files are replaced, nothing else is left.
    res = _screen_cli(
        sites,
        "--as-of",
        "2026-03-01",
        "--diff-as-of",
        "2026-04-01",
        "--out",
        out,
        "--format",
        "csv",
    )
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == names
    # Other dates: the earlier screenings go, the folder holds one run.
    args = ["--as-of", "2025-01-01", "--diff-as-of", "2026-04-01", "--out", out, "--format", "csv"]
    res = _screen_cli(sites, *args)
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("as_of_")) == [
        "as_of_2025-01-01",
        "as_of_2026-04-01",
    ]
    # A lone diff is not written over them.
    res = CliRunner().invoke(
        main, ["diff", str(base_of(out)), str(base_of(out)), "--out", str(out)]
    )
    assert res.exit_code == 2 and "holds the screenings of an earlier" in res.output


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--diff-as-of", "2026-04-01", "--out", "{out}"], "--diff-as-of needs --as-of"),
        (["--as-of", "2026-03-01", "--diff-as-of", "2026-04-01"], "--diff-as-of needs --out"),
        (
            ["--as-of", "2026-03-01", "--diff-as-of", "2026-03-01", "--out", "{out}"],
            "same date",
        ),
        (["--as-of", "2026-03-01", "--diff-as-of", "2026-13-01", "--out", "{out}"], "2026-13-01"),
    ],
)
def test_screen_diff_as_of_errors(tmp_path, args, words):
    sites = _subset(tmp_path / "sites.geojson")
    out = tmp_path / "out"
    res = _screen_cli(sites, *[a.format(out=out) for a in args])
    assert res.exit_code == 2, res.output
    assert words in res.output and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1
    assert not out.exists()


def test_a_lone_diff_is_not_written_over_the_screenings_of_an_as_of_diff(base, tmp_path):
    out = tmp_path / "out"
    (out / "as_of_2026-03-01").mkdir(parents=True)
    marker = {"files": ["as_of_2026-03-01/screening.json", "diff.csv"]}
    (out / ".zoning-diff.json").write_text(json.dumps(marker), "utf-8")
    res = CliRunner().invoke(main, ["diff", str(base), str(base), "--out", str(out)])
    assert res.exit_code == 2, res.output
    assert "holds the screenings of an earlier zoning screen --diff-as-of" in res.output
    assert "as_of_2026-03-01" in res.output and len(res.output.strip().splitlines()) == 1
    assert not (out / "diff.html").exists()
    with pytest.raises(ZoningError, match="another folder"):
        diff_runs(base, base).save(out)


def test_html_lists_at_most_max_changes(base, tmp_path, monkeypatch):
    from zoning.diff import html as diff_html

    def after(doc):
        for r in doc["reasons"]:
            r["verdict"] = _flip(r["verdict"])

    d = diff_runs(*_pair(base, tmp_path, None, after))
    assert len(d.changes) > 1
    monkeypatch.setattr(diff_html, "MAX_HTML_CHANGES", 1)
    page = d.to_html("en")
    assert f"{len(d.changes)} changes: the first 1 are listed here" in page
    assert page.count('<td class="cause">') == 1


def test_a_cut_down_clause_table_lists_only_what_does_not_comply(base, tmp_path):
    def cut(doc):
        doc["notes"].append(
            "clauses.csv holds only the violates, undecided and needs_review rows for 20,000 "
            "sites (more than 10,000), and screening.json no clauses"
        )
        doc["clauses"] = []

    a, b = _pair(base, tmp_path, _csv_clauses, cut)
    (a / "clauses.csv").write_text(CLAUSES.format(r1="needs_review", r2="complies"), "utf-8")
    header = CLAUSES.splitlines()[0]
    (b / "clauses.csv").write_text(header + "\n", "utf-8")
    d = diff_runs(a, b)
    rows = _rows(d, what="clause").set_index("rule_id")
    gone = rows.loc["key.emissions"]
    assert gone["after"] == "(not listed: complies or not applicable)"
    # A clause that complied is no change when the cut-down table does not list it.
    assert "city.park_only" not in rows.index
    assert any("lists only the clauses a site does not comply with" in n for n in d.notes)


def test_diff_csv_cells_are_not_formulas(base, tmp_path):
    def after(doc):
        site = _site(doc, WAREHOUSE)
        site["name"] = '=HYPERLINK("http://x")'
        site["verdict"] = _flip(site["verdict"])

    d = diff_runs(*_pair(base, tmp_path, None, after))
    d.save(tmp_path / "o", ["csv"])
    text = (tmp_path / "o" / "diff.csv").read_text("utf-8-sig")
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text
    assert d.changes.iloc[0]["name"].startswith("=HYPERLINK")  # the frame keeps the text


HOTEL = "reserve-general-control-hotel"


def _examples(path: Path, ids: tuple[str, ...]) -> Path:
    doc = json.loads((REPO / "layers" / "examples" / "projects.geojson").read_text("utf-8"))
    doc["features"] = [f for f in doc["features"] if f["properties"]["id"] in ids]
    assert len(doc["features"]) == len(ids)
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_the_reserve_regulation_change_on_the_shipped_rules(tmp_path):
    """Issue 12: a site in a reserve's general control zone screened as of 2026-03-01 and
    2026-04-01 cites the 2017 and the 2026 regulation, and the diff names the change (and
    the new vintage of the reserve layer)."""
    sites = _examples(tmp_path / "sites.geojson", (HOTEL, RESERVE, WAREHOUSE))
    out = tmp_path / "out"
    args = ["--as-of", "2026-03-01", "--diff-as-of", "2026-04-01", "--out", out]
    res = _screen_cli(sites, *args, "--format", "csv,json")
    assert res.exit_code == 0, res.output
    for day, doc_id in (("2026-03-01", "nrr_2017"), ("2026-04-01", "nrr_2026")):
        run = json.loads((out / f"as_of_{day}" / "screening.json").read_text("utf-8"))
        cited = {r["document"] for r in _reasons(run, HOTEL) if r["layer_id"].startswith("nature")}
        assert cited and all(d.startswith(doc_id) for d in cited), (day, cited)
    table = pd.read_csv(out / "diff.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    for site in (HOTEL, RESERVE):
        reasons = table[(table["site_id"] == site) & (table["what"] == "reason")]
        gone = reasons[reasons["after"] == "(absent)"]
        new = reasons[reasons["before"] == "(absent)"]
        assert len(gone) and len(new), table.to_string()
        for rows, day in ((gone, "not as of 2026-04-01"), (new, "not as of 2026-03-01")):
            for row in rows.itertuples():
                assert row.cause_kind.split(";")[0] == "document", row
                assert "自然保护区条例" in row.cause and day in row.cause, row.cause
                assert "layer vintage nature_reserves" in row.cause
        assert gone["cause"].str.contains("[nrr_2017] repealed by", regex=False).all()
        assert gone["cause"].str.contains("on 2026-03-15").all()
    # The warehouse is not touched by the regulation.
    assert set(table["site_id"]) == {HOTEL, RESERVE}
    page = (out / "diff.html").read_text("utf-8")
    assert "repealed by" in page and 'id="demo-banner"' in page


def test_a_layer_status_reason_is_matched_by_layer_kind(base, tmp_path):
    """A site outside a layer's coverage in both runs, the layer in a new vintage: no change;
    the same site inside its coverage in the other run: a change, put down to the layer."""
    status = {
        "site": 2,
        "site_id": WAREHOUSE,
        "rule_id": None,
        "list_id": None,
        "kind": "nature_reserve",
        "feature_id": None,
        "verdict": "unknown",
        "status": "outside_coverage",
    }

    def outside(layer_id):
        def edit(doc):
            doc["reasons"].append(dict(status, layer_id=layer_id))
            for x in doc["provenance"]["layers"]:
                if x["kind"] == "nature_reserve":
                    x["id"] = layer_id

        return edit

    d = diff_runs(*_pair(base, tmp_path, outside("reserves_a"), outside("reserves_b")))
    assert d.changes.empty
    d = diff_runs(*_pair(base, tmp_path / "2", None, outside("reserves_b")))
    row = _rows(d, WAREHOUSE, "reason").iloc[0]
    assert row["rule_id"] == "" and row["after"] == "unknown (outside_coverage) at reserves_b"
    assert row["cause_kind"] == "layer" and "layer vintage" in row["cause"]
