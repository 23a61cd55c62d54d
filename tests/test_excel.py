"""Excel both ways: workbooks read as planners keep them, ``screening.xlsx`` written, CSV that
Excel opens, rows with input errors set aside and reported.

Workbooks are built here with openpyxl; what is written is read back with openpyxl (the
workbook) and as bytes (the CSV encodings), independently of the writers.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date, datetime
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

import zoning
from zoning import SitesError, load_sites
from zoning.cli import main
from zoning.errors import ZoningError
from zoning.labels import VERDICT_LABELS

W84 = "EPSG:4326"
REPO = Path(__file__).resolve().parents[1]
RESULTS = "筛查结果 results"


def workbook(path: Path, sheets: dict[str, list[list[object]]], merge: dict | None = None) -> Path:
    """A workbook with these sheets (rows of cell values, from A1), in order."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    ws.cell(row=r, column=c, value=value)
        for ref in (merge or {}).get(name, ()):
            ws.merge_cells(ref)
    wb.save(path)
    return path


HEADER = ["序号", "项目名称", "经度", "纬度", "行业代码", "建设性质", "申报日期", "备注"]


def planner_book(path: Path) -> Path:
    """Sheet 项目: a merged title, a blank row, the header in row 3, numbers for industry
    codes, a date column, trailing blank rows and a blank column; then a sheet 说明."""
    rows = [
        ["2026年第三批建设项目清单", None, None, None, None, None, None, None],
        [None] * 8,
        HEADER,
        [1, "甲厂", 121.40, 31.10, 2641, "新建", date(2026, 3, 1), None],
        [2, "乙厂", 121.45, 31.12, 2641.0, "扩建", datetime(2026, 3, 2, 9, 30), "备注"],
        [3, "丙厂", 121.50, 31.15, "C2641", "新建", None, None],
        [None] * 8,
        [None] * 8,
    ]
    return workbook(
        path,
        {"项目": rows, "说明": [["本表由规划科填写"]]},
        merge={"项目": ["A1:H1"]},
    )


# ------------------------------------------------------------------------------------- reading


def test_first_sheet_with_title_rows_numbers_dates_and_chinese_headers(tmp_path):
    path = planner_book(tmp_path / "sites.xlsx")
    sites = load_sites(path, crs=W84)
    gdf = sites.gdf
    assert list(gdf["site_id"]) == ["1", "2", "3"]
    assert list(gdf["name"]) == ["甲厂", "乙厂", "丙厂"]
    assert list(gdf["industry"]) == ["C2641", "C2641", "C2641"]
    assert list(gdf["nature"]) == ["new", "expansion", "new"]
    notes = " ".join(sites.notes)
    assert "sheet '项目'" in notes and "2 sheets" in notes, notes
    assert "row 3" in notes, notes  # where the header was found
    assert sites.source == str(path)
    rows = sites.input_rows
    assert list(rows.table.columns) == HEADER
    assert list(rows.rows) == [4, 5, 6]
    assert rows.table["申报日期"].iloc[0] == datetime(2026, 3, 1)  # a date cell stays a date


def test_sheet_option_picks_a_sheet_and_a_missing_one_is_named(tmp_path):
    path = workbook(
        tmp_path / "book.xlsx",
        {
            "A": [["id", "lon", "lat"], ["a1", 121.4, 31.1]],
            "B": [["id", "lon", "lat"], ["b1", 121.4, 31.1], ["b2", 121.5, 31.2]],
        },
    )
    assert list(load_sites(path, crs=W84, sheet="B").gdf["site_id"]) == ["b1", "b2"]
    assert list(load_sites(path, crs=W84).gdf["site_id"]) == ["a1"]
    with pytest.raises(SitesError, match=r"book\.xlsx has no sheet 'C' \(sheets: A, B\)"):
        load_sites(path, crs=W84, sheet="C")
    res = CliRunner().invoke(main, ["screen", str(path), "--crs", W84, "--sheet", "B"])
    assert res.exit_code == 0, res.output
    assert "b2" in res.output and "a1" not in res.output


def test_first_sheet_without_a_table_names_the_sheet_option(tmp_path):
    path = workbook(
        tmp_path / "book.xlsx",
        {"说明": [["填表说明"], ["见第二页"]], "项目": [["id", "lon", "lat"], ["p", 121.4, 31.1]]},
    )
    with pytest.raises(SitesError) as exc:
        load_sites(path, crs=W84)
    text = str(exc.value)
    assert "sheet=" in text and "说明" in text and "项目" in text and "layer=" not in text
    assert "\n" not in text
    res = CliRunner().invoke(main, ["screen", str(path), "--crs", W84])
    assert res.exit_code == 2
    line = res.stderr.strip()
    assert "--sheet" in line and "layer" not in line and len(line.splitlines()) == 1


def test_errors_name_the_sheet_row_and_cell(tmp_path):
    rows = [["标题"], HEADER[:6]]
    rows += [[i, f"厂{i}", 121.4, 31.1, "C2641", "新建"] for i in range(1, 5)]
    rows += [[5, "坏厂", 121.4, "见附件", "C2641", "新建"]]  # row 7, column D
    path = workbook(tmp_path / "sites.xlsx", {"项目": rows})
    with pytest.raises(SitesError, match=r"sites\.xlsx, sheet 项目, row 7 \(D7\), column '纬度'"):
        load_sites(path, crs=W84)


def test_ambiguous_industry_number_is_refused(tmp_path):
    # 511 could be the group 511 or the class 0511 that lost its leading zero
    path = workbook(tmp_path / "s.xlsx", {"S": [["lon", "lat", "行业代码"], [121.4, 31.1, 511]]})
    with pytest.raises(SitesError, match=r"row 2 \(C2\), column '行业代码': 511 is a number"):
        load_sites(path, crs=W84)


def _set_cached_value(path: Path, cell: str, value: str) -> None:
    """Give a formula cell written by openpyxl (which stores none) a cached value, as Excel
    would on saving."""
    data = {}
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            data[name] = z.read(name)
    sheet = "xl/worksheets/sheet1.xml"
    xml = data[sheet].decode()
    xml, n = re.subn(
        rf'(<c r="{cell}"[^>]*>)<f>([^<]*)</f><v\s*/?>(</v>)?', rf"\1<f>\2</f><v>{value}</v>", xml
    )
    assert n == 1, xml
    data[sheet] = xml.encode()
    with zipfile.ZipFile(path, "w") as z:
        for name, blob in data.items():
            z.writestr(name, blob)


def test_formulas_are_read_as_their_cached_values(tmp_path):
    rows = [["id", "lon", "lat"], ["a", 121.4, "=31+0.1"]]
    path = workbook(tmp_path / "f.xlsx", {"S": rows})
    with pytest.raises(SitesError, match=r"f\.xlsx, sheet S, cell C2: .*formula.*no cached value"):
        load_sites(path, crs=W84)
    _set_cached_value(path, "C2", "31.1")
    sites = load_sites(path, crs=W84)
    assert len(sites) == 1


def test_old_xls_is_refused_with_a_hint(tmp_path):
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    with pytest.raises(zoning.ZoningError, match=r"old\.xls.*\.xlsx"):
        load_sites(path, crs=W84)


# ------------------------------------------------------------------------------------- writing


@pytest.fixture(scope="module")
def examples_result():
    from zoning.examples import PROJECTS

    return zoning.screen(PROJECTS)


def _letter(i: int) -> str:
    return openpyxl.utils.get_column_letter(i + 1)


def read_sheet(ws) -> list[list[object]]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


def test_screening_xlsx_of_the_examples(examples_result, tmp_path):
    result = examples_result
    result.to_file(tmp_path, ["xlsx"])
    wb = openpyxl.load_workbook(tmp_path / "screening.xlsx")
    assert wb.sheetnames == [RESULTS, "hits", "clauses", "codes", "provenance"]
    ws = wb[RESULTS]
    rows = read_sheet(ws)
    assert "演示数据" in str(rows[0][0])  # demonstration notice in the first row
    header = rows[1]
    assert ws.freeze_panes == "A3" and ws.auto_filter.ref.startswith("A2:")
    formats = {
        c.number_format for c in ws[_letter(header.index("nearest_m"))][2:] if c.value is not None
    }
    assert formats == {"0.0"}
    data = rows[2:]
    assert len(data) == len(result.sites)
    col = {name: i for i, name in enumerate(header)}
    table = result.sites
    # the input's attribute columns first, in order, then the appended ones
    appended = ["verdict_zh", "verdict", "reason_codes", "clause_results_zh", "nearest_m"]
    assert all(name in col for name in [*appended, "boundary_sensitive", "conclusion_code"])
    # rows carry codes; the codes sheet holds their words once
    codes = read_sheet(wb["codes"])
    start = 2 if "演示数据" in str(codes[0][0]) else 1
    words = {r[0]: r[5] for r in codes[start:]}  # code -> text_zh
    assert len(words) == len(codes) - start
    for i, row in enumerate(data):
        if table["reasons_zh"].iloc[i]:
            for code in row[col["reason_codes"]].split(";"):
                assert words[code] in table["reasons_zh"].iloc[i]
    assert col["verdict_zh"] > col["name"]
    for i, row in enumerate(data):
        verdict = table["verdict"].iloc[i]
        assert row[col["verdict"]] == verdict
        assert row[col["verdict_zh"]] == VERDICT_LABELS[verdict][0]
        nearest = table["nearest_m"].iloc[i]
        if np.isfinite(nearest):
            value = row[col["nearest_m"]]
            assert isinstance(value, int | float) and not isinstance(value, bool)  # not text
            assert row[col["nearest_m"]] == pytest.approx(round(nearest, 1))
        assert row[col["boundary_sensitive"]] in (True, False)
    # clause counts agree with the clause table
    clauses = result.clauses
    for i, row in enumerate(data):
        n = int(((clauses["site"] == i) & (clauses["result"] == "violates")).sum())
        text = row[col["clause_results_zh"]] or ""
        assert (f"不符合 {n}" in text) == (n > 0), (text, n)
    hits = read_sheet(wb["hits"])
    assert "演示数据" in str(hits[0][0])
    assert len([r for r in hits[2:] if any(v is not None for v in r)]) == len(result.hits)
    prov = {r[0]: r[1] for r in read_sheet(wb["provenance"]) if r and r[0]}
    assert prov["rule set"].startswith(result.rule_set.id)
    assert prov["input SHA-256"] == result.provenance["input"]["sha256"]
    assert "+08:00" in prov["time (Asia/Shanghai)"]


def test_xlsx_keeps_text_that_looks_like_a_formula_as_text(tmp_path, demo_layers):
    table = pd.DataFrame({"lon": [121.4], "lat": [31.1], "note": ['=HYPERLINK("x")']})
    result = zoning.screen(table, demo_layers, crs=W84)
    result.to_file(tmp_path, ["xlsx"])
    ws = openpyxl.load_workbook(tmp_path / "screening.xlsx")[RESULTS]
    cells = [c for row in ws.iter_rows() for c in row if c.value == '=HYPERLINK("x")']
    assert cells and cells[0].data_type == "s"


# ------------------------------------------------------------------------- rows with errors


def book_of_200(path: Path) -> tuple[Path, dict[int, str]]:
    """200 projects in a grid over Shanghai, three of them bad; {excel row: column}."""
    rng = np.random.default_rng(13)
    rows = [["2026年度项目库"], ["编号", "项目名称", "lon", "lat", "行业代码", "废水"]]
    for i in range(200):
        rows.append(
            [
                f"P{i:03d}",
                f"项目{i}",
                float(121.2 + rng.random() * 0.6),
                float(30.9 + rng.random() * 0.5),
                "C2641",
                "否",
            ]
        )
    bad = {10: "lon", 60: "行业代码", 151: "废水"}  # excel rows (data row i is excel row i + 3)
    rows[10 - 1][2] = "待定"
    rows[60 - 1][4] = "X99"
    rows[151 - 1][5] = "也许"
    return workbook(path, {"项目": rows}), bad


def test_report_sets_bad_rows_aside(tmp_path, demo_layers):
    path, bad = book_of_200(tmp_path / "projects.xlsx")
    with pytest.raises(SitesError, match=r"row 10 \(C10\)"):
        load_sites(path, crs=W84)  # the default stays fail-fast
    sites = load_sites(path, crs=W84, on_row_error="report")
    assert len(sites) == 197
    rej = sites.input_rows.rejected
    assert list(rej["row"]) == sorted(bad)
    assert list(rej["field"]) == [bad[r] for r in sorted(bad)]
    assert list(rej["site_id"]) == ["P007", "P057", "P148"]
    assert all("sheet 项目" in m for m in rej["message"])
    assert "P007" not in set(sites.gdf["site_id"])

    result = zoning.screen(path, demo_layers, crs=W84, on_row_error="report")
    result.to_file(tmp_path / "out", ["csv", "xlsx"])
    out = tmp_path / "out"
    assert len(pd.read_csv(out / "sites.csv")) == 197
    rejected = pd.read_csv(out / "rejected.csv", dtype=str)
    assert list(rejected.columns) == ["row", "site_id", "field", "message"]
    assert list(rejected["row"]) == [str(r) for r in sorted(bad)]
    ws = openpyxl.load_workbook(out / "screening.xlsx")[RESULTS]
    rows = read_sheet(ws)
    header, data = rows[1], rows[2:]
    col = {name: i for i, name in enumerate(header)}
    assert len(data) == 200
    assert [r[0] for r in data] == [f"P{i:03d}" for i in range(200)]  # input order
    marked = [i for i, r in enumerate(data) if r[col["verdict"]] == "input_error"]
    assert [i + 3 for i in marked] == sorted(bad)
    for i in marked:
        assert data[i][col["verdict_zh"]] == "输入错误"
        assert data[i][col["input_error"]]
        fill = ws.cell(row=i + 3, column=1).fill.fgColor.rgb
        assert fill not in (None, "00000000")  # highlighted
    assert all(r[col["input_error"]] is None for i, r in enumerate(data) if i not in marked)


def test_cli_report_exit_1_and_console(tmp_path):
    path, _ = book_of_200(tmp_path / "projects.xlsx")
    out = tmp_path / "out"
    res = CliRunner().invoke(
        main,
        [
            "screen",
            str(path),
            "--crs",
            W84,
            "--on-row-error",
            "report",
            "--out",
            str(out),
            "--format",
            "csv,xlsx",
        ],
    )
    assert res.exit_code == 1, res.output
    assert "3 rows" in res.output and "rejected.csv" in res.output
    assert (out / "rejected.csv").is_file() and (out / "screening.xlsx").is_file()
    res = CliRunner().invoke(main, ["screen", str(path), "--crs", W84])
    assert res.exit_code == 2 and "row 10 (C10)" in res.stderr


# --------------------------------------------------------------------------------------- CSV


def test_csv_has_a_bom_by_default_and_other_encodings_on_request(examples_result, tmp_path):
    result = examples_result
    result.to_file(tmp_path / "sig", ["csv"])
    for name in ("sites.csv", "hits.csv", "clauses.csv"):
        assert (tmp_path / "sig" / name).read_bytes().startswith(b"\xef\xbb\xbf"), name
    result.to_file(tmp_path / "plain", ["csv"], csv_encoding="utf-8")
    assert not (tmp_path / "plain" / "sites.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    result.to_file(tmp_path / "gbk", ["csv"], csv_encoding="gbk")
    raw = (tmp_path / "gbk" / "sites.csv").read_bytes()
    rows = list(csv.DictReader(io.StringIO(raw.decode("gbk"))))
    assert "verdict_zh" in rows[0]
    zh = {VERDICT_LABELS[v][0] for v in result.sites["verdict"]}
    assert {r["verdict_zh"] for r in rows} == zh
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")


def test_gbk_cannot_write_a_character_names_file_row_and_column(tmp_path, demo_layers):
    table = pd.DataFrame({"lon": [121.4, 121.5], "lat": [31.1, 31.2], "name": ["甲", "𠀀厂"]})
    result = zoning.screen(table, demo_layers, crs=W84)
    with pytest.raises(ZoningError, match=r"sites\.csv, row 3, column 'name'.*GBK"):
        result.to_file(tmp_path / "o", ["csv"], csv_encoding="gbk")
    assert not (tmp_path / "o").exists()  # nothing written
    with pytest.raises(ZoningError, match="csv_encoding"):
        result.to_file(tmp_path / "o", ["csv"], csv_encoding="latin-1")


def test_cli_csv_encoding(tmp_path):
    out = tmp_path / "out"
    res = CliRunner().invoke(
        main,
        [
            "screen",
            "--point",
            "121.4,31.1",
            "--crs",
            W84,
            "--out",
            str(out),
            "--format",
            "csv",
            "--csv-encoding",
            "gbk",
        ],
    )
    assert res.exit_code == 0, res.output
    (out / "sites.csv").read_bytes().decode("gbk")
    res = CliRunner().invoke(main, ["screen", "--point", "121.4,31.1", "--csv-encoding", "big5"])
    assert res.exit_code == 2


# ------------------------------------------------------------------------ README documentation


def documented(section: str) -> dict[str, set[str]]:
    """{output name: column names} from the README's "Output columns" section: each
    ``### name`` subsection's table rows, their first cell naming columns in backticks."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    m = re.search(r"^## Output columns\n(.*?)(?=^## )", text, re.M | re.S)
    assert m, "README has no 'Output columns' section"
    out: dict[str, set[str]] = {}
    for part in re.split(r"^### ", m.group(1), flags=re.M)[1:]:
        title = part.splitlines()[0].strip().strip("`")
        cells = re.findall(r"^\|([^|]*)\|", part, re.M)  # each table row's first cell
        out[title] = {name for cell in cells for name in re.findall(r"`([^`]+)`", cell)}
    return out


def test_every_written_column_is_documented(examples_result, tmp_path, demo_layers):
    docs = documented("Output columns")
    examples_result.to_file(tmp_path / "a", ["csv", "xlsx"])
    path, _ = book_of_200(tmp_path / "p.xlsx")
    bad = zoning.screen(path, demo_layers, crs=W84, on_row_error="report")
    bad.to_file(tmp_path / "b", ["csv", "xlsx"])
    for folder in (tmp_path / "a", tmp_path / "b"):
        for name in ("sites.csv", "hits.csv", "clauses.csv", "codes.csv", "rejected.csv"):
            if not (folder / name).exists():
                continue
            columns = set(pd.read_csv(folder / name, nrows=0).columns)
            assert name in docs, name
            assert columns <= docs[name], (name, sorted(columns - docs[name]))
        wb = openpyxl.load_workbook(folder / "screening.xlsx")
        inputs = set(examples_result.input_rows.table.columns) if folder.name == "a" else set()
        if folder.name == "b":
            inputs = set(bad.input_rows.table.columns)
        for sheet in wb.sheetnames:
            rows = read_sheet(wb[sheet])
            header = rows[1] if rows and len([v for v in rows[0] if v]) == 1 else rows[0]
            names = {str(v) for v in header if v is not None} - inputs
            key = f"screening.xlsx: {sheet}"
            assert key in docs, key
            assert names <= docs[key], (key, sorted(names - docs[key]))


def test_report_in_csv_and_vector_inputs(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text(
        "id,lon,lat,air\na,121.4,31.1,yes\nb,121.4,,no\nc,121.4,95,no\nd,121.5,31.2,maybe\n",
        encoding="utf-8",
    )
    sites = load_sites(path, crs=W84, on_row_error="report")
    assert list(sites.gdf["site_id"]) == ["a"]
    rej = sites.input_rows.rejected
    assert list(rej["row"]) == [3, 4, 5]  # spreadsheet rows: the header is row 1
    assert list(rej["field"]) == ["lat", "coordinates", "air"]
    assert list(rej["site_id"]) == ["b", "c", "d"]
    geojson = tmp_path / "s.geojson"
    geojson.write_text(
        '{"type": "FeatureCollection", "features": ['
        '{"type": "Feature", "properties": {"n": 1}, "geometry": '
        '{"type": "Point", "coordinates": [121.4, 31.1]}},'
        '{"type": "Feature", "properties": {"n": 2}, "geometry": null},'
        '{"type": "Feature", "properties": {"n": 3}, "geometry": '
        '{"type": "Point", "coordinates": [121.5, 31.2]}}]}',
        encoding="utf-8",
    )
    sites = load_sites(geojson, on_row_error="report")
    assert list(sites.gdf["site_id"]) == ["1", "3"]  # numbered by their place in the input
    rej = sites.input_rows.rejected
    assert list(rej["row"]) == [2] and list(rej["field"]) == ["geometry"]
    assert list(sites.input_rows.sites) == [0, 2]
    bad = tmp_path / "bad.csv"
    bad.write_text("lon,lat\n121.4,x\n,31.1\n", encoding="utf-8")
    with pytest.raises(SitesError, match=r"bad\.csv: every row has an input error \(2 rows"):
        load_sites(bad, crs=W84, on_row_error="report")


def test_header_with_one_lonlat_column_as_amap_copies_it(tmp_path):
    rows = [["项目一览"], ["坐标", "备注"], ["121.47,31.23", "甲"], ["121.48,31.24", "乙"]]
    path = workbook(tmp_path / "amap.xlsx", {"S": rows, "说明": [["见上页"]]})
    sites = load_sites(path, crs="gcj02")  # the first sheet's header names the "lon,lat" column
    assert len(sites) == 2
    assert list(sites.input_rows.rows) == [3, 4]


def test_detail_sheets_are_capped_for_reading_and_say_where_every_row_is(
    examples_result, tmp_path, monkeypatch
):
    from zoning.documents import excel

    n_clauses = len(examples_result.clauses)
    monkeypatch.setattr(excel, "DETAIL_MAX_ROWS", 25)
    assert n_clauses > 25
    examples_result.to_file(tmp_path, ["xlsx", "csv"])
    wb = openpyxl.load_workbook(tmp_path / "screening.xlsx")
    rows = read_sheet(wb["clauses"])
    assert len([r for r in rows[2:] if any(v is not None for v in r)]) == 25
    assert f"the first 25 of {n_clauses:,} rows" in str(rows[0][0])
    assert "clauses.csv holds them" in str(rows[0][0])
    with open(tmp_path / "clauses.csv", encoding="utf-8-sig") as f:
        assert sum(1 for _ in f) - 1 >= n_clauses  # the CSV keeps every row
