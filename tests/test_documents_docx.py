"""The Word section 生态环境分区管控符合性分析 (``--format docx``), read back as a reviewer's
word processor would.

Oracles: python-docx and the raw WordprocessingML (every run's East Asian font), the
screening's own tables read by a different path (``result.clauses``, ``result.hits``), the
input file's SHA-256 computed here, the shoreline distance measured here with shapely in UTM
51N, and LibreOffice converting the document to PDF, read back by poppler.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import re
import subprocess
import time
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from tools import need

docx = pytest.importorskip("docx")

from lxml import etree  # noqa: E402  (python-docx depends on lxml)

from zoning.labels import CLAUSE_RESULT_LABELS, VERDICT_LABELS  # noqa: E402
from zoning.report.format import page_name  # noqa: E402
from zoning.schema import DIMENSIONS  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
PROJECTS = REPO / "layers" / "examples" / "projects.geojson"
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {"w": W}
WP = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
HEADING = "生态环境分区管控符合性分析"
RESULT_WORDS = {zh for zh, _ in CLAUSE_RESULT_LABELS.values()}


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def screened(demo_layers):
    import zoning

    return zoning.screen(PROJECTS, demo_layers)


@pytest.fixture(scope="module")
def written(screened, tmp_path_factory):
    from zoning.documents.word import write_docx

    folder = tmp_path_factory.mktemp("docx")
    start = time.perf_counter()
    names = write_docx(screened, folder)
    elapsed = time.perf_counter() - start
    print(f"write_docx: {len(screened.sites)} sites in {elapsed:.2f} s")
    return folder, names


def site_file(folder: Path, result, site_id: str) -> Path:
    path = folder / "docx" / f"{page_name(site_id)}.docx"
    assert path.is_file(), path
    return path


def position(result, site_id: str) -> int:
    ids = result.sites["site_id"].astype(str).tolist()
    return ids.index(site_id)


def all_text(doc) -> str:
    """Every paragraph of the body, tables (nested too), headers and footers."""
    parts = [p.text for p in doc.paragraphs]

    def tables(ts):
        for t in ts:
            for row in t.rows:
                for cell in row.cells:
                    parts.extend(p.text for p in cell.paragraphs)
                    tables(cell.tables)

    tables(doc.tables)
    for section in doc.sections:
        parts.extend(p.text for p in section.header.paragraphs)
        parts.extend(p.text for p in section.footer.paragraphs)
    return "\n".join(parts)


def header_texts(doc) -> list[str]:
    return ["\n".join(p.text for p in s.header.paragraphs) for s in doc.sections]


def clause_tables(doc):
    """The clause tables: header row 维度 | 管控要求 | 依据及原文 | 本项目情况 | 符合性."""
    return [t for t in doc.tables if t.rows and t.rows[0].cells[0].text.strip() == "维度"]


def clause_rows(table) -> list[tuple[str, str, str]]:
    """``(dimension, citation, result)`` of the clause rows (not the placeholder rows)."""
    out = []
    for row in table.rows[1:]:
        cells = row.cells
        result = cells[-1].text.strip()
        if result in RESULT_WORDS:
            citation = cells[2].paragraphs[0].text.strip()
            out.append((cells[0].text.strip(), citation, result))
    return out


# ------------------------------------------------------------------------------ files


def test_writes_one_document_per_site_and_the_run(screened, written):
    folder, names = written
    assert names == ["screening.docx", "docx"]
    assert (folder / "screening.docx").is_file()
    want = {f"{page_name(s)}.docx" for s in screened.sites["site_id"].astype(str)}
    assert {p.name for p in (folder / "docx").iterdir()} == want


def test_heading_and_a4_page(screened, written):
    folder, _ = written
    doc = docx.Document(site_file(folder, screened, "yangtze-chemical"))
    heads = [p for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert heads and heads[0].text.startswith(HEADING)
    for s in doc.sections:
        assert abs(s.page_width.mm - 210) < 0.5 and abs(s.page_height.mm - 297) < 0.5
        assert s.left_margin.mm >= 20 and s.top_margin.mm >= 20


def test_every_run_has_its_east_asian_font(screened, written):
    folder, _ = written
    files = [folder / "screening.docx", site_file(folder, screened, "qcs-raw-water-pipeline")]
    for path in files:
        with zipfile.ZipFile(path) as z:
            parts = [
                n for n in z.namelist() if re.match(r"word/(document|header\d*|footer\d*)\.xml", n)
            ]
            assert any("header" in n for n in parts)
            n_runs = 0
            for name in parts:
                root = etree.fromstring(z.read(name))
                for run in root.iter(f"{{{W}}}r"):
                    n_runs += 1
                    fonts = run.find("w:rPr/w:rFonts", NS)
                    text = "".join(run.itertext())[:40]
                    assert fonts is not None, f"{path.name} {name}: run without fonts: {text!r}"
                    assert fonts.get(f"{{{W}}}eastAsia") in ("宋体", "黑体"), (name, text)
                    assert fonts.get(f"{{{W}}}ascii") and fonts.get(f"{{{W}}}hAnsi"), (name, text)
            assert n_runs > 100
            styles = etree.fromstring(z.read("word/styles.xml"))
        for style_id, face in [
            ("Normal", "宋体"),
            ("Heading1", "黑体"),
            ("Heading2", "黑体"),
            ("Heading3", "黑体"),
            ("TableGrid", "宋体"),
        ]:
            style = styles.find(f"w:style[@w:styleId='{style_id}']", NS)
            assert style is not None, style_id
            fonts = style.find("w:rPr/w:rFonts", NS)
            assert fonts is not None and fonts.get(f"{{{W}}}eastAsia") == face, style_id
            theme = [a for a in fonts.attrib if a.endswith("Theme")]
            assert not theme, (style_id, theme)  # a theme font would override the named one
    # headings in 黑体, body text in 宋体
    doc = docx.Document(files[1])
    east = f"{{{W}}}eastAsia"
    head = doc.paragraphs[[p.style.name for p in doc.paragraphs].index("Heading 1")]
    assert head.runs[0]._r.find("w:rPr/w:rFonts", NS).get(east) == "黑体"
    body = next(p for p in doc.paragraphs if p.style.name == "Normal" and p.runs)
    assert body.runs[0]._r.find("w:rPr/w:rFonts", NS).get(east) == "宋体"


def test_clause_table_is_the_screenings_clause_table(screened, written):
    folder, _ = written
    clauses = screened.clauses
    for site_id in screened.sites["site_id"].astype(str):
        pos = position(screened, site_id)
        doc = docx.Document(site_file(folder, screened, site_id))
        tables = clause_tables(doc)
        assert len(tables) == 1, site_id
        table = tables[0]
        # the header row repeats on every page
        assert table.rows[0]._tr.find("w:trPr/w:tblHeader", NS) is not None
        dims = {row.cells[0].text.strip() for row in table.rows[1:]}
        assert dims == set(DIMENSIONS), site_id
        got = Counter(clause_rows(table))
        mine = clauses[clauses["site"] == pos]
        want = Counter(
            zip(mine["dimension"], mine["citation"].fillna(""), mine["result_zh"], strict=True)
        )
        assert got == want, site_id
        assert sum(got.values()) == len(mine) > 0


def test_combined_document_holds_every_site(screened, written):
    folder, _ = written
    doc = docx.Document(folder / "screening.docx")
    assert len(clause_tables(doc)) == len(screened.sites)
    summary = doc.tables[0]
    ids = [row.cells[2].text.strip() for row in summary.rows[1:]]
    assert sorted(ids) == sorted(screened.sites["site_id"].astype(str))
    assert summary.rows[0]._tr.find("w:trPr/w:tblHeader", NS) is not None
    # most severe first: the summary's verdicts follow the severity order
    order = ["prohibited", "unknown", "restricted", "conditional", "permitted"]
    words = [VERDICT_LABELS[k][0] for k in order]
    seen = [words.index(row.cells[3].text.strip()) for row in summary.rows[1:]]
    assert seen == sorted(seen)


def test_combined_document_past_the_limit_is_a_summary(screened, tmp_path):
    from zoning.documents.word import write_docx

    names = write_docx(screened, tmp_path, max_sections=5)
    assert names == ["screening.docx", "docx"]
    doc = docx.Document(tmp_path / "screening.docx")
    assert clause_tables(doc) == []
    assert len(doc.tables[0].rows) == len(screened.sites) + 1
    text = all_text(doc)
    assert f"共 {len(screened.sites)} 个场址" in text and "超过 5 个" in text
    assert len(list((tmp_path / "docx").iterdir())) == len(screened.sites)


def test_site_documents_are_capped_like_the_report(screened, tmp_path):
    from zoning.documents.word import write_docx

    write_docx(screened, tmp_path, max_site_documents=3)
    got = {p.name for p in (tmp_path / "docx").iterdir()}
    assert len(got) == 3
    order = ["prohibited", "unknown", "restricted", "conditional", "permitted"]
    sites = screened.sites.assign(_k=screened.sites["verdict"].map(order.index))
    worst = sites.sort_values("_k", kind="stable")["site_id"].astype(str).head(3)
    assert got == {f"{page_name(s)}.docx" for s in worst}


# ------------------------------------------------------------------------------ content


def test_control_unit_code_name_category_and_share(screened, written):
    folder, _ = written
    hits = screened.hits
    units = hits[(hits["kind"] == "control_unit") & (hits["relation"] == "intersects")]
    for site_id in ("yangtze-chemical", "qcs-raw-water-pipeline", "priority-unit-assembly-plant"):
        pos = position(screened, site_id)
        doc = docx.Document(site_file(folder, screened, site_id))
        table = next(t for t in doc.tables if t.rows[0].cells[0].text.strip() == "单元编码")
        rows = {r.cells[0].text.strip(): [c.text.strip() for c in r.cells] for r in table.rows[1:]}
        mine = units[units["site"] == pos]
        assert set(rows) == set(mine["unit_code"].astype(str)), site_id
        for _, hit in mine.iterrows():
            row = rows[str(hit["unit_code"])]
            assert row[1] == hit["name"]
            category = {"priority": "优先保护", "key": "重点管控", "general": "一般管控"}
            assert row[2].startswith(category[hit["category"]])
            assert row[3] == f"{100 * hit['share_of_site']:.1f} %"
    doc = docx.Document(site_file(folder, screened, "yangtze-chemical"))
    text = all_text(doc)
    assert "ZH31015120002" in text and "长兴海洋装备产业基地重点管控单元" in text


def test_yangtze_distance_sentence_measured_independently(screened, written):
    import geopandas as gpd
    from shapely.ops import unary_union

    folder, _ = written
    sites = gpd.read_file(PROJECTS).to_crs(32651)
    site = sites[sites["id"] == "yangtze-chemical"].geometry.iloc[0]
    shore = gpd.read_file(REPO / "layers" / "shanghai_demo.gpkg", layer="shoreline").to_crs(32651)
    measured = unary_union(list(shore.geometry)).distance(site)
    doc = docx.Document(site_file(folder, screened, "yangtze-chemical"))
    text = all_text(doc)
    sentence = next(line for line in text.splitlines() if "长江保护法" in line and "岸线" in line)
    found = re.search(r"距[^，。]*?岸线[^，。]*?约 ([\d,]+(?:\.\d)?) m", sentence)  # to 0.1 m
    assert found, sentence
    shown = float(found.group(1).replace(",", ""))
    assert abs(shown - measured) <= 0.01 * measured, (shown, measured)
    assert "第二十六条" in text and "一公里" in text


def test_water_source_and_negative_list_statutes(screened, written):
    folder, _ = written
    doc = docx.Document(site_file(folder, screened, "source-quasi-dyeing"))
    text = all_text(doc)
    assert "上海市饮用水水源保护条例" in text and "第十四条" in text
    assert "黄浦江上游饮用水水源准保护区" in text
    clauses = screened.clauses
    neg = clauses[clauses["citation"].fillna("").str.contains("负面清单")]
    if len(neg):
        site_id = str(neg["site_id"].iloc[0])
        text = all_text(docx.Document(site_file(folder, screened, site_id)))
        assert "负面清单" in text


def test_conclusion_verdict_and_disclaimer(screened, written):
    folder, _ = written
    from zoning.report.models import document_models

    pos = position(screened, "yangtze-chemical")
    model = document_models(screened, [pos]).sites[0]
    text = all_text(docx.Document(site_file(folder, screened, "yangtze-chemical")))
    assert model["conclusion"]["zh"] in text
    assert VERDICT_LABELS["prohibited"][0] in text
    assert "以审批部门意见为准" in text
    from zoning.documents.common import DISCLAIMER

    assert DISCLAIMER[0] in text  # the PDF's words


def test_boundary_and_band_warnings_as_the_pdf_words_them(screened, written):
    from zoning.documents.common import band_warning, boundary_warning
    from zoning.report.models import document_models

    folder, _ = written
    # the sites the screening flags (rule-aware since issue 13 section 5: not fixed names)
    flagged = [m for m in document_models(screened).sites if m["warnings"] or m["bands"]]
    assert flagged
    for model in flagged:
        site_id = model["site"]["site_id"]
        text = all_text(docx.Document(site_file(folder, screened, site_id)))
        for w in model["warnings"]:
            assert boundary_warning(w, model["site"])[0] in text
        for b in model["bands"]:
            assert band_warning(b)[0] in text
        assert "not stated" not in text  # said in Chinese: 未注明


def test_demonstration_notice_in_body_and_every_header(screened, written):
    folder, _ = written
    for path in (folder / "screening.docx", site_file(folder, screened, "yangtze-chemical")):
        doc = docx.Document(path)
        body = "\n".join(p.text for p in doc.paragraphs)
        assert "演示数据" in body
        heads = header_texts(doc)
        assert heads and all("演示数据" in h for h in heads), path.name


def test_data_versions_input_hash_and_shanghai_time(screened, written):
    folder, _ = written
    text = all_text(docx.Document(site_file(folder, screened, "yangtze-chemical")))
    assert hashlib.sha256(PROJECTS.read_bytes()).hexdigest() in text
    assert "projects.geojson" in text
    prov = screened.provenance
    assert prov["rule_set"]["hash"] in text and prov["rule_set"]["version"] in text
    assert prov["as_of"] in text
    for layer in prov["layers"]:
        assert layer["id"] in text and layer["sha256"] in text
    created = datetime.datetime.fromisoformat(prov["created"])
    local = created.astimezone(datetime.timezone(datetime.timedelta(hours=8)))
    assert f"{local.strftime('%Y-%m-%d %H:%M:%S')} +08:00" in text and "北京时间" in text


def test_lang_zh_has_no_english_glosses(screened, tmp_path):
    from zoning.documents.word import write_docx

    pos = position(screened, "yangtze-chemical")
    write_docx(screened, tmp_path, lang="zh")
    doc = docx.Document(site_file(tmp_path, screened, "yangtze-chemical"))
    heads = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    english = [h for h in heads if re.search(r"[A-Za-z]{4,}", h.replace("CGCS2000", ""))]
    assert heads and not english, heads
    assert pos >= 0


def test_bad_lang_is_refused(screened, tmp_path):
    from zoning.documents.word import write_docx

    with pytest.raises(ValueError, match="lang"):
        write_docx(screened, tmp_path, lang="fr")


def picture_blobs(doc) -> list[bytes]:
    """The image bytes of every inline picture of ``doc``, in document order."""
    blobs = []
    for shape in doc.inline_shapes:
        rid = shape._inline.graphic.graphicData.pic.blipFill.blip.embed
        blobs.append(doc.part.related_parts[rid].blob)
    return blobs


def has_colour(png: bytes, hex_colour: str, tol: int = 20) -> bool:
    """Whether the PNG holds a patch (over 20 pixels) of ``hex_colour``."""
    import numpy as np
    from PIL import Image

    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    want = [int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]
    close = np.all(np.abs(img - np.array(want)) <= tol, axis=2)
    return int(close.sum()) > 20


def test_each_site_section_has_its_map_figure(screened, written):
    from PIL import Image

    from zoning.report.figure import VERDICT_COLORS

    folder, _ = written
    for site_id, verdict in zip(
        screened.sites["site_id"].astype(str), screened.sites["verdict"], strict=True
    ):
        doc = docx.Document(site_file(folder, screened, site_id))
        assert len(doc.inline_shapes) == 1, site_id
        shape = doc.inline_shapes[0]
        section = doc.sections[0]
        text_width = section.page_width - section.left_margin - section.right_margin
        assert abs(shape.width - text_width) <= 0.01 * text_width, site_id
        (png,) = picture_blobs(doc)
        with Image.open(io.BytesIO(png)) as im:
            assert im.format == "PNG" and im.width > 600
            assert abs(shape.height / shape.width - im.height / im.width) < 0.01
        assert has_colour(png, VERDICT_COLORS[verdict]), (site_id, verdict)
        # the caption under it names the coordinate system and the sources
        paras = [p.text for p in doc.paragraphs]
        at = next(i for i, p in enumerate(doc.paragraphs) if p._p.xpath(".//w:drawing"))
        caption = paras[at + 1]
        assert caption.startswith("图") and "EPSG:4490" in caption, caption
        assert "数据来源" in caption and "GCJ-02" not in caption.replace("不使用", ""), caption
    # the combined document holds every figure, with its own copy of each image
    doc = docx.Document(folder / "screening.docx")
    blobs = picture_blobs(doc)
    assert len(blobs) == len(screened.sites)
    for png in blobs:
        Image.open(io.BytesIO(png)).verify()
    ids = [e.get("id") for e in doc.element.body.iter(f"{{{WP}}}docPr")]
    assert len(ids) == len(set(ids)) == len(screened.sites)
    # figure numbers: a SEQ field per caption, numbered in order in the combined document
    seq = [
        "".join(t.text for t in f.iter(f"{{{W}}}t"))
        for f in doc.element.body.iter(f"{{{W}}}fldSimple")
        if f.get(f"{{{W}}}instr").startswith("SEQ 图")
    ]
    assert seq == [str(k) for k in range(1, len(screened.sites) + 1)]


def test_figure_of_a_permitted_site_is_green(screened, written):
    from zoning.report.figure import VERDICT_COLORS

    folder, _ = written
    (png,) = picture_blobs(docx.Document(site_file(folder, screened, "jinshan-logistics-park")))
    assert has_colour(png, VERDICT_COLORS["permitted"])
    assert not has_colour(png, VERDICT_COLORS["unknown"], tol=6)  # not another verdict's


def corner_table(doc):
    """The corner-coordinate table: header 点号 | 经度 | 纬度 | X | Y."""
    tables = [t for t in doc.tables if t.rows and t.rows[0].cells[0].text.strip() == "点号"]
    assert len(tables) == 1
    return tables[0]


def test_corner_table_agrees_with_pyproj(screened, written):
    import json

    import shapely
    from pyproj import Transformer

    folder, _ = written
    to4490 = Transformer.from_crs("EPSG:4326", "EPSG:4490", always_xy=True)
    features = json.loads(PROJECTS.read_text(encoding="utf-8"))["features"]
    zones = set()
    for feat in features:
        site_id = feat["properties"]["id"]
        geom = shapely.geometry.shape(feat["geometry"])
        coords = shapely.get_coordinates(geom)
        if geom.geom_type == "Polygon":
            coords = coords[:-1]  # the closing vertex is not listed again
        lon_c = geom.centroid.x
        zone = int((lon_c + 1.5) // 3)  # CGCS2000 3-degree zone n: central meridian 3n °E
        zones.add(zone)
        to_gk = Transformer.from_crs("EPSG:4326", f"EPSG:{4488 + zone}", always_xy=True)
        doc = docx.Document(site_file(folder, screened, site_id))
        text = all_text(doc)
        assert f"EPSG:{4488 + zone}" in text and f"EPSG:{4509 + zone}" in text, site_id
        rows = [[c.text.strip() for c in r.cells] for r in corner_table(doc).rows[1:]]
        assert len(rows) == len(coords), site_id
        for k, (row, (lon, lat)) in enumerate(zip(rows, coords, strict=True), start=1):
            assert row[0] == f"J{k}"
            glon, glat = to4490.transform(lon, lat)
            assert abs(float(row[1]) - glon) < 1e-7 and abs(float(row[2]) - glat) < 1e-7
            east, north = to_gk.transform(lon, lat)
            assert abs(float(row[3]) - north) < 0.01, (site_id, row, north)
            assert abs(float(row[4]) - east) < 0.01, (site_id, row, east)
            assert row[4].startswith(str(zone))
    assert zones == {40, 41}  # the examples straddle two zones


def test_corner_table_is_the_pdfs(screened, written):
    from zoning.documents.common import corner_cells
    from zoning.documents.corners import result_corners

    folder, _ = written
    pos = position(screened, "qcs-raw-water-pipeline")
    want = corner_cells(result_corners(screened, pos))
    doc = docx.Document(site_file(folder, screened, "qcs-raw-water-pipeline"))
    got = [[c.text.strip() for c in r.cells] for r in corner_table(doc).rows[1:]]
    assert got == want


def test_without_matplotlib_the_figure_is_left_out_and_said(screened, tmp_path, monkeypatch):
    import sys

    from zoning.documents import common
    from zoning.documents.word import write_docx

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # ``import matplotlib`` fails
    monkeypatch.setattr(common, "_FIGURES", {})  # not the figures drawn for `written`
    write_docx(screened, tmp_path, max_site_documents=2)
    files = sorted((tmp_path / "docx").iterdir())
    assert len(files) == 2
    for path in [tmp_path / "screening.docx", *files]:
        doc = docx.Document(path)
        assert len(doc.inline_shapes) == 0
        text = all_text(doc)
        assert text.count("未绘制位置图") == (2 if path.name == "screening.docx" else 1)
        assert "matplotlib" in text, path.name
    assert corner_table(docx.Document(files[0])).rows[1].cells[0].text == "J1"


def test_limits_of_the_result(screened, written):
    from zoning.report.models import document_models, limit_items

    folder, _ = written
    pos = position(screened, "qcs-raw-water-pipeline")
    model = document_models(screened, [pos]).sites[0]
    text = all_text(docx.Document(site_file(folder, screened, "qcs-raw-water-pipeline")))
    assert "本结果不能告诉您什么" in text
    for zh, _en in limit_items(model):
        assert zh in text


# ------------------------------------------------------------------------------ other data


@pytest.fixture(scope="module")
def authoritative(world, tmp_path_factory):
    """The hand-made world (authoritative layers and rules, no control units, no shoreline),
    with names carrying control characters and markup, and ids that slug alike."""
    import geopandas as gpd
    import pandas as pd

    import zoning
    from worlds import SITES
    from zoning.documents.word import write_docx

    keys = list(SITES)
    ids = ["a/b", "a-b", "C", "U", "OK"]  # ids that slug alike
    names = ["厂\x07\x1b[31m<w:t>\x0b", "</w:r>&amp;", "line\u2028sep", "\ud800bad", "正常名称"]
    # Object columns: a lone surrogate cannot be stored in pandas' Arrow-backed strings.
    gdf = gpd.GeoDataFrame(
        {"id": pd.Series(ids, dtype=object), "name": pd.Series(names, dtype=object)},
        geometry=[SITES[k] for k in keys],
        crs=4326,
    )
    result = zoning.screen(gdf, world.catalog, rules=world.rules, name_field="name")
    folder = tmp_path_factory.mktemp("docx-world")
    write_docx(result, folder, lang="zh")
    return result, folder


def test_authoritative_data_has_no_demonstration_notice(authoritative):
    result, folder = authoritative
    files = sorted((folder / "docx").iterdir())
    assert len(files) == len(result.sites) == 5  # ids that slug alike get their own files
    for path in [folder / "screening.docx", *files]:
        text = all_text(docx.Document(path))
        assert "演示" not in text, path.name
        assert HEADING in text


def test_missing_layers_are_said_not_measured(authoritative):
    _, folder = authoritative
    text = all_text(docx.Document(folder / "screening.docx"))
    assert "没有生态环境管控单元图层" in text
    assert "没有相应图层，未量算" in text


def test_hostile_names_are_written_as_text(authoritative):
    _, folder = authoritative
    text = all_text(docx.Document(folder / "screening.docx"))
    assert "<w:t>" in text and "</w:r>&amp;" in text and "正常名称" in text
    assert "\x07" not in text and "\x1b" not in text and "\x0b" not in text


# ------------------------------------------------------------------------------ LibreOffice


@pytest.mark.slow
def test_libreoffice_renders_it(screened, written, tmp_path):
    soffice = need("soffice")
    pdftotext = need("pdftotext")
    pdftoppm = need("pdftoppm")
    from PIL import Image

    folder, _ = written
    src = site_file(folder, screened, "yangtze-chemical")
    profile = tmp_path / "lo-profile"
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    pdf = tmp_path / (src.stem + ".pdf")
    assert pdf.is_file()
    text = subprocess.run(
        [pdftotext, "-layout", str(pdf), "-"], check=True, capture_output=True, timeout=60
    ).stdout.decode("utf-8")
    flat = re.sub(r"\s+", "", text)
    assert "长兴岛船舶涂料厂" in flat
    assert VERDICT_LABELS["prohibited"][0] in flat and HEADING in flat
    assert "演示数据" in flat
    assert "拐点坐标" in flat and "EPSG:4529" in flat and "EPSG:4490" in flat
    # the map figure is drawn: an image of the figure's size in the PDF
    pdfimages = need("pdfimages")
    listed = subprocess.run(
        [pdfimages, "-list", str(pdf)], check=True, capture_output=True, timeout=60
    ).stdout.decode()
    widths = [int(line.split()[3]) for line in listed.splitlines()[2:] if line.split()]
    assert any(w >= 600 for w in widths), listed
    subprocess.run(
        [pdftoppm, "-png", "-r", "40", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
        check=True,
        timeout=60,
    )
    png = next(tmp_path.glob("page*.png"))
    img = Image.open(png).convert("L")
    dark = sum(img.histogram()[:200])
    assert dark > 0.005 * img.width * img.height


# ------------------------------------------------------------------------------ CLI


@pytest.mark.slow
def test_cli_screen_format_docx(tmp_path):
    from click.testing import CliRunner

    from zoning.cli import main

    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["screen", str(PROJECTS), "--out", str(out), "--format", "docx"])
    assert res.exit_code == 0, res.output
    assert (out / "screening.docx").is_file()
    assert len(list((out / "docx").glob("*.docx"))) == 21
    assert not (out / "sites.csv").exists()
    doc = docx.Document(out / "screening.docx")
    assert HEADING in all_text(doc)


def test_models_carry_the_control_units_code_and_category(screened):
    from zoning.report.models import document_models

    hits = screened.hits
    units = hits[hits["kind"] == "control_unit"]
    models = document_models(screened)
    seen = 0
    for m in models.sites:
        for group in m["constraints"]:
            if group.get("kind") != "control_unit":
                continue
            for f in group["features"]:
                hit = units[
                    (units["site"] == m["position"]) & (units["feature_id"] == f["feature_id"])
                ].iloc[0]
                assert f["unit_code"] == str(hit["unit_code"])
                assert f["category"] == hit["category"]
                seen += 1
    assert seen > 0
