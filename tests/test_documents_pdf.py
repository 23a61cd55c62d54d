"""The PDF 符合性分析 (``--format pdf``, ``ScreeningResult.to_pdf``), its map figure and its
corner coordinates, read back with poppler (pdftotext, pdffonts, pdftoppm) and checked against
pyproj and the input files."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fpdf")
pytest.importorskip("matplotlib")

from tools import need

import zoning
from zoning.documents import pdf as pdfmod
from zoning.documents.corners import gk_zone, result_corners
from zoning.labels import VERDICT_LABELS
from zoning.report.format import page_name

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "layers" / "examples"
PROJECTS = EXAMPLES / "projects.geojson"
DEMO_NOTICE = "演示数据"


def _text(path: Path, page: int | None = None) -> str:
    args = [need("pdftotext"), "-layout"]
    if page is not None:
        args += ["-f", str(page), "-l", str(page)]
    text = subprocess.run(
        [*args, str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    return re.sub(r"\s+", "", text)  # lines wrap anywhere in CJK text: compare without spaces


def _pages(path: Path) -> int:
    out = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", out).group(1))


def _png(path: Path, page: int, tmp: Path) -> np.ndarray:
    from matplotlib.image import imread

    prefix = tmp / f"{path.stem}-{page}"
    subprocess.run(
        [
            need("pdftoppm"),
            "-r",
            "50",
            "-png",
            "-f",
            str(page),
            "-l",
            str(page),
            str(path),
            str(prefix),
        ],
        check=True,
    )
    (png,) = sorted(tmp.glob(f"{path.stem}-{page}*.png"))
    return imread(png)[:, :, :3]


@pytest.fixture(scope="module")
def examples():
    return zoning.screen(PROJECTS)


@pytest.fixture(scope="module")
def written(examples, tmp_path_factory):
    out = tmp_path_factory.mktemp("pdf")
    names = pdfmod.write_pdf(examples, out)
    return out, names


def _site_pdf(out: Path, result, site_id: str) -> Path:
    return out / "pdf" / (page_name(site_id) + ".pdf")


def test_one_document_per_site_and_a_combined_one(written, examples):
    out, names = written
    assert names == ["screening.pdf", "pdf"]
    files = sorted(p.name for p in (out / "pdf").iterdir())
    assert files == sorted(page_name(s) + ".pdf" for s in examples.sites["site_id"])
    assert (out / "screening.pdf").read_bytes().startswith(b"%PDF")


def test_site_document_text(written, examples):
    need("pdftotext")
    out, _ = written
    path = _site_pdf(out, examples, "yangtze-chemical")
    text = _text(path)
    assert VERDICT_LABELS["prohibited"][0] in text
    assert "长兴岛船舶涂料厂（新建）" in text and "禁止" in text
    assert "长江保护法" in text and "第二十六条" in text
    assert examples.provenance["input"]["sha256"] in text.replace("\n", "")
    assert "+08:00" in text
    assert "projects.geojson" in text
    # the conclusion in the standard wording, the clause results, the sign-off, the disclaimer
    assert "项目选址不符合" in text
    for word in ("不符合", "不适用"):
        assert word in text
    for word in ("筛查人", "复核人", "日期", "以审批部门意见为准"):
        assert word in text
    assert "C2641" in text and "制造业" in text
    assert "拐点坐标" in text and "EPSG:4529" in text and "EPSG:4550" in text
    assert "shanghai_demo" in text  # rule set id
    # every page: the demonstration notice and "第 x 页 / 共 y 页"
    n = _pages(path)
    assert n >= 3
    for page in range(1, n + 1):
        t = _text(path, page)
        assert DEMO_NOTICE in t, page
        assert f"第{page}页/共{n}页" in t, page


def test_combined_document_has_the_summary_and_every_site(written, examples):
    need("pdftotext")
    out, _ = written
    path = out / "screening.pdf"
    first = _text(path, 1) + _text(path, 2)
    assert "筛查汇总" in first
    text = _text(path)
    for name in examples.sites["name"]:
        assert name in text
    n = _pages(path)
    for page in (1, n // 2, n):
        assert DEMO_NOTICE in _text(path, page)


def test_combined_document_above_the_limit_is_the_summary_only(examples, tmp_path, monkeypatch):
    need("pdftotext")
    monkeypatch.setattr(pdfmod, "MAX_COMBINED_SITES", 5)
    pdfmod.write_pdf(examples, tmp_path)
    text = _text(tmp_path / "screening.pdf")
    assert "仅含汇总表" in text
    assert "第二十六条第二款" not in text.split("筛查汇总")[0]
    assert len(list((tmp_path / "pdf").iterdir())) == len(examples.sites)


def test_fonts_are_embedded_and_not_cid_fonts_of_the_viewer(written, examples):
    out, _ = written
    for path in (out / "screening.pdf", _site_pdf(out, examples, "farmland-road")):
        lines = subprocess.run(
            [need("pdffonts"), str(path)], check=True, capture_output=True, text=True
        ).stdout.splitlines()[2:]
        assert lines
        for line in lines:
            assert "STSong" not in line
            cols = line.split()
            assert cols[-5] == "yes", line  # emb


def test_pages_render_with_the_figure_drawn(written, examples, tmp_path):
    need("pdftoppm")
    out, _ = written
    path = _site_pdf(out, examples, "yangtze-chemical")
    n = _pages(path)
    figure_page = next(p for p in range(1, n + 1) if "位置图" in _text(path, p))
    found = False
    for page in range(1, n + 1):
        img = _png(path, page, tmp_path)
        body = img[int(img.shape[0] * 0.1) : int(img.shape[0] * 0.9)]
        assert (body < 0.9).any(axis=2).mean() > 0.005, f"page {page} is blank"
        if page >= figure_page:
            red = (
                (np.abs(img[:, :, 0] - 0xB2 / 255) < 0.08)
                & (np.abs(img[:, :, 1] - 0x18 / 255) < 0.08)
                & (np.abs(img[:, :, 2] - 0x2B / 255) < 0.08)
            )
            found = found or red.sum() > 20
    assert found, "no pixel of the prohibited colour in the figure"


def test_corner_coordinates_agree_with_pyproj(examples, written):
    from pyproj import Transformer

    features = json.loads(PROJECTS.read_text(encoding="utf-8"))["features"]
    feat = next(f for f in features if f["properties"]["id"] == "yangtze-chemical")
    ring = feat["geometry"]["coordinates"][0][:-1]
    pos = int(np.flatnonzero(examples.sites["site_id"] == "yangtze-chemical")[0])
    corners = result_corners(examples, pos)
    to4490 = Transformer.from_crs("EPSG:4326", "EPSG:4490", always_xy=True)
    lon_c = float(np.mean([p[0] for p in ring]))
    zone = 40 if lon_c < 121.5 else 41
    assert corners.zone == zone == gk_zone(lon_c)[0]
    assert corners.epsg == 4488 + zone and corners.epsg_cm == 4509 + zone
    to_gk = Transformer.from_crs("EPSG:4490", f"EPSG:{4488 + zone}", always_xy=True)
    assert len(corners.rows) == len(ring) and corners.n_omitted == 0
    for row, (lon, lat) in zip(corners.rows, ring, strict=True):
        glon, glat = to4490.transform(lon, lat)
        assert abs(row.lon - glon) < 1e-7 and abs(row.lat - glat) < 1e-7
        east, north = to_gk.transform(glon, glat)
        assert abs(row.y - east) < 0.01 and abs(row.x - north) < 0.01
        assert str(int(row.y)).startswith(str(zone))
    # the document prints them
    text = _text(_site_pdf(written[0], examples, "yangtze-chemical"))
    first = corners.rows[0]
    assert f"{first.lon:.8f}" in text and f"{first.y:.3f}" in text


def test_zone_40_site_and_capped_vertices(examples):
    import shapely

    # a line of 300 vertices west of 121.5°E lies in zone 40
    from pyproj import Transformer

    to_work = Transformer.from_crs("EPSG:4326", examples.sites.crs, always_xy=True)
    lons = np.linspace(121.20, 121.30, 300)
    lats = 31.10 + 0.001 * (np.arange(300) % 2)  # a zigzag: every vertex turns
    xs, ys = to_work.transform(lons, lats)
    from zoning.documents.corners import site_corners

    c = site_corners(shapely.LineString(np.column_stack([xs, ys])), examples.sites.crs)
    assert c.zone == 40 and c.epsg == 4528 and c.epsg_cm == 4549
    assert len(c.rows) == 60 and c.n_omitted == 240 and c.n_vertices == 300
    assert "240" in c.texts()["omitted"][0]
    ref = Transformer.from_crs("EPSG:4490", "EPSG:4528", always_xy=True)
    east, _north = ref.transform(c.rows[0].lon, c.rows[0].lat)
    assert abs(c.rows[0].y - east) < 0.01 and str(int(c.rows[0].y)).startswith("40")
    p = site_corners(shapely.Point(xs[0], ys[0]), examples.sites.crs)
    assert len(p.rows) == 1 and abs(p.rows[0].lon - 121.20) < 1e-7


def test_gcj02_input_gives_wgs84_figure_and_corners(tmp_path):
    need("pdftotext")
    result = zoning.screen(EXAMPLES / "amap_gcj02.csv", crs="gcj02")
    pos = 0
    lon, lat = 121.180014, 31.099406  # the GCJ-02 numbers of the CSV
    wlon, wlat = zoning.gcj02_to_wgs84(lon, lat)
    corners = result_corners(result, pos)
    (row,) = corners.rows
    assert abs(row.lon - wlon) < 1e-6 and abs(row.lat - wlat) < 1e-6
    assert abs(row.lon - lon) > 1e-3  # not the shifted coordinates
    pdfmod.write_pdf(result, tmp_path)
    text = _text(next((tmp_path / "pdf").iterdir()))
    assert f"{row.lon:.8f}" in text
    assert f"{lon:.6f}" not in text
    assert "GCJ-02" in text  # says the input was converted


def _hand_made(name: str):
    import geopandas as gpd
    import shapely

    gdf = gpd.GeoDataFrame(
        {"id": ["rare"], "name": [name], "industry": ["C3911"], "nature": ["new"]},
        geometry=[shapely.box(121.40, 31.20, 121.402, 31.202)],
        crs="EPSG:4326",
    )
    return zoning.screen(gdf)


def test_a_character_missing_from_the_fonts_never_vanishes(tmp_path, monkeypatch):
    need("pdftotext")
    result = _hand_made("龘𠀀测试厂")
    monkeypatch.setattr(pdfmod, "_system_fallback", lambda: None)
    pdfmod.write_pdf(result, tmp_path)
    text = _text(tmp_path / "screening.pdf")
    assert "□□测试厂" in text
    assert "U+9F98" in text and "U+20000" in text  # listed as not drawn


def test_a_system_cjk_font_draws_what_the_shipped_font_lacks(tmp_path):
    need("pdftotext")
    if pdfmod._system_fallback() is None:
        pytest.skip("no system CJK font")
    result = _hand_made("龘测试厂")
    pdfmod.write_pdf(result, tmp_path)
    text = _text(tmp_path / "screening.pdf")
    assert "龘测试厂" in text
    assert "U+9F98" not in text
    fonts = subprocess.run(
        [need("pdffonts"), str(tmp_path / "screening.pdf")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()[2:]
    assert len(fonts) >= 2 and all(line.split()[-5] == "yes" for line in fonts)


def test_english_document(tmp_path):
    need("pdftotext")
    result = _hand_made("英文测试厂")
    pdfmod.write_pdf(result, tmp_path, lang="en")
    text = _text(tmp_path / "screening.pdf")
    verdict = result.sites["verdict"].iloc[0]
    assert "page1of" in text and "Cornercoordinates" in text
    assert VERDICT_LABELS[verdict][1].replace(" ", "") in text
    assert "DEMONSTRATION" in text and "英文测试厂" in text


def test_to_pdf_writes_the_combined_document(examples, tmp_path):
    path = examples.to_pdf(tmp_path / "out" / "run.pdf")
    assert path == tmp_path / "out" / "run.pdf"
    assert path.read_bytes().startswith(b"%PDF")
    assert not list((tmp_path / "out").glob(".*"))  # no temporary file left


def test_site_figure_is_a_png_with_the_site_drawn(examples):
    import io

    from matplotlib.image import imread

    from zoning.report.figure import site_figure

    pos = int(np.flatnonzero(examples.sites["site_id"] == "yangtze-chemical")[0])
    png = site_figure(examples, pos)
    assert png.startswith(b"\x89PNG")
    img = imread(io.BytesIO(png))[:, :, :3]
    red = (
        (np.abs(img[:, :, 0] - 0xB2 / 255) < 0.05)
        & (np.abs(img[:, :, 1] - 0x18 / 255) < 0.05)
        & (np.abs(img[:, :, 2] - 0x2B / 255) < 0.05)
    )
    assert red.sum() > 100


def test_figure_shows_the_nearest_feature_of_a_layer_the_site_nears(examples):
    """baowu-steel-expansion fires no rule on the water layer, yet a river lies about 430 m
    away: the figure reaches it (measured here with shapely, independently of the figure)."""
    from shapely import box

    from zoning.report.figure import NEAR_M, figure_view

    pos = int(np.flatnonzero(examples.sites["site_id"] == "baowu-steel-expansion")[0])
    site = examples.sites.geometry.iloc[pos]
    water = examples.layers["water"].gdf
    gap = float(water.distance(site).min())
    assert 300 < gap < NEAR_M
    view = figure_view(examples, pos)
    minx, _, maxx, _ = site.bounds
    assert min(minx - view.bounds[0], view.bounds[2] - maxx) > gap  # reaches past the river
    assert float(water.distance(box(*view.bounds)).min()) == 0
    assert any(f["layer_id"] == "water" for f in view.features)


def test_cli_writes_pdf(tmp_path):
    from click.testing import CliRunner

    from zoning.cli import main

    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["screen", str(PROJECTS), "--out", str(out), "--format", "pdf"])
    assert res.exit_code in (0, 1), res.output
    assert (out / "screening.pdf").is_file()
    assert len(list((out / "pdf").glob("*.pdf"))) == 21
    help_text = CliRunner().invoke(main, ["screen", "--help"]).output
    for fmt in ("pdf", "docx", "xlsx"):
        assert fmt in help_text


def test_report_site_pages_show_the_map_figure(examples, tmp_path):
    from zoning.report import write_report

    write_report(examples, tmp_path, map=False)
    sites = tmp_path / "report" / "sites"
    page = sites / (page_name("yangtze-chemical") + ".html")
    html = page.read_text(encoding="utf-8")
    png = sites / (page_name("yangtze-chemical") + ".png")
    assert png.read_bytes().startswith(b"\x89PNG")
    assert f'src="{png.name}"' in html
    assert re.search(r'<img id="site-figure"[^>]* alt="[^"]*EPSG:4490', html)
    assert len(list(sites.glob("*.png"))) == len(examples.sites)


def test_combined_document_holds_each_site_document_page_for_page(written, examples):
    """Each site is laid out once: its part of screening.pdf is its own file, page for page;
    the cover and summary count the whole document's pages."""
    need("pdftotext")
    out, _ = written
    path = out / "screening.pdf"
    n = _pages(path)
    first = _text(path, 1)
    assert f"第1页/共{n}页" in first
    assert f"本文件共{n}页" in first
    combined = [_text(path, p) for p in range(1, n + 1)]
    n_front = next(i for i, t in enumerate(combined) if "一、项目基本情况" in t)
    at = n_front
    seen = []
    while at < n:
        site_text = combined[at]
        site_id = max(
            (s for s in examples.sites["site_id"] if f"screening{s}" in site_text), key=len
        )
        own = _site_pdf(out, examples, site_id)
        k = _pages(own)
        for page in range(1, k + 1):
            assert combined[at + page - 1] == _text(own, page), (site_id, page)
            assert f"第{page}页/共{k}页" in combined[at + page - 1]
        seen.append(site_id)
        at += k
    assert at == n
    assert sorted(seen) == sorted(examples.sites["site_id"])


def test_derived_attributes_are_said_in_the_documents_language(written, examples):
    need("pdftotext")
    out, _ = written
    text = _text(_site_pdf(out, examples, "yangtze-chemical"))
    assert "由行业代码推定" in text
    assert "derivedfromtheindustrycode" not in text  # no English note in a Chinese cell


@pytest.mark.parametrize(
    ("common", "notice"),
    [
        ({"layers": [{"demonstration": False}], "rule_set": {"status": "demonstration"}}, True),
        ({"layers": [{"demonstration": True}], "rule_set": {"status": "authoritative"}}, True),
        ({"layers": [{"demonstration": False}], "rule_set": {"status": "authoritative"}}, False),
    ],
)
def test_demonstration_rules_alone_put_the_notice_on_every_page(common, notice, tmp_path):
    need("pdftotext")
    from zoning.documents.pdf_layout import Document, Fonts

    doc = Document(Fonts.shipped(None), common, "both", title="t")
    doc.add_page()
    doc.add_page()
    path = tmp_path / "t.pdf"
    path.write_bytes(bytes(doc.output()))
    for page in (1, 2):
        assert (DEMO_NOTICE in _text(path, page)) is notice


def test_one_run_draws_each_sites_figure_once_for_pdf_and_docx(tmp_path, monkeypatch):
    pytest.importorskip("docx")
    import gc

    from zoning.documents import common
    from zoning.report import figure

    calls = []
    draw = figure.site_figure_with_sources

    def counting(result, position, **options):
        calls.append(position)
        return draw(result, position, **options)

    monkeypatch.setattr(figure, "site_figure_with_sources", counting)
    result = _hand_made("缓存测试厂")
    result.to_file(tmp_path / "out", ["pdf", "docx"])
    assert calls == [0]
    assert (tmp_path / "out" / "screening.pdf").exists()
    assert (tmp_path / "out" / "screening.docx").exists()
    key = id(result)
    assert any(k[0] == key for k in common._FIGURES)
    del result
    gc.collect()
    assert not any(k[0] == key for k in common._FIGURES)  # gone with the result
