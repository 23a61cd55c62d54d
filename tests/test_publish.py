"""``zoning publish``: the static public site — layout, links, relocation, statistics against
geodesic areas, district maps against independent clips, downloads (WGS84, whitelisted columns,
counts), provenance, hostile input, and all-or-nothing writing with one-line errors.

Oracles are independent of the code under test: the demonstration GeoPackage and catalog are
read again with geopandas/yaml, areas come from ``pyproj.Geod``, clips are redone with geopandas
in UTM zone 51N, links are resolved with the standard library's HTML parser.

The demonstration site is built once per session (the ``demo_site`` fixture of
``tests/conftest.py``, shared with ``tests/test_publish_browser.py``); the oracles that read the
demonstration data again are in ``tests/oracles.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import geopandas as gpd
import numpy as np
import pyogrio
import pyproj
import pytest
import shapely
import yaml
from click.testing import CliRunner
from shapely.geometry import box
from shapely.geometry.polygon import orient

import zoning
from conftest import write_catalog
from oracles import (
    DEMO_CATALOG,
    DEMO_GPKG,
    demo_catalog,
    demo_districts,
    demo_source,
    district_slug,
    expected_district_counts,
)
from worlds import SECRET, hostile_site_catalog
from zoning.cli.publish import publish
from zoning.publish import SITE_MARKER, publish_site
from zoning.webmap import DEMO_NOTICE
from zoning.webmap.simplify import fields_for

# Publishing the demonstration site and its variants takes tens of seconds.
pytestmark = pytest.mark.slow

GEOD = pyproj.Geod(ellps="WGS84")
PROVENANCE = {"status", "source", "vintage", "licence"}


# ------------------------------------------------------------------------------ site builds


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """(catalog path, site folder) of the hostile catalog (offline maps, zh at the top)."""
    tmp = tmp_path_factory.mktemp("hostile")
    catalog = hostile_site_catalog(tmp)
    site = tmp / "site"
    res = CliRunner().invoke(publish, [str(site), "--catalog", str(catalog), "--offline"])
    assert res.exit_code == 0, res.output
    return catalog, site


# ------------------------------------------------------------------------------ helpers


class _Links(HTMLParser):
    """Every URL in href/src attributes, and every element id."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []  # (tag, attribute, url)
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            if name in ("href", "src") and value is not None:
                self.urls.append((tag, name, value))


def parse(path: Path) -> _Links:
    p = _Links()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def html_pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def check_links(site: Path) -> int:
    """Every relative link of every page resolves to a file inside ``site``; returns the count.

    Fragments must name an element of the target page.  Scripts, style sheets and images must
    be local (no http, no //host, no absolute paths).
    """
    n = 0
    root = site.resolve()
    ids: dict[Path, set[str]] = {}
    for page in html_pages(site):
        for tag, attr, url in parse(page).urls:
            parts = urlsplit(url)
            if parts.scheme in ("http", "https"):
                assert tag == "a", f"{page}: {tag} {attr}={url} loads from the network"
                continue
            if url == "data:,":  # the empty favicon (no /favicon.ico request)
                continue
            assert not parts.scheme and not parts.netloc, f"{page}: {url}"
            assert not parts.path.startswith("/"), f"{page}: absolute path {url}"
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            assert target.is_file(), f"{page.relative_to(site)}: {url} -> {target} is missing"
            assert root in target.parents, f"{page}: {url} leaves the site"
            if parts.fragment and target.suffix == ".html":
                if target not in ids:
                    ids[target] = parse(target).ids
                assert parts.fragment in ids[target], f"{page}: {url}: no id {parts.fragment}"
            n += 1
    return n


def zoning_data(page: Path) -> dict:
    text = page.read_text(encoding="utf-8")
    m = re.search(r'<script type="application/json" id="zoning-data">(.*?)</script>', text, re.S)
    assert m, page
    return json.loads(m.group(1))


def geod_area_km2(geom) -> float:
    """Geodesic area (WGS84 ellipsoid) of a lon/lat (multi)polygon, km²."""
    total = 0.0
    for part in shapely.get_parts(geom):
        if part.geom_type != "Polygon" or part.is_empty:
            continue
        total += GEOD.geometry_area_perimeter(orient(part, 1.0))[0]
    return total / 1e6


def table_rows(html: str, css_class: str) -> list[list[str]]:
    """Cells (text, tags stripped) of the rows of the first table with this class."""
    m = re.search(rf'<table class="[^"]*\b{css_class}\b[^"]*">(.*?)</table>', html, re.S)
    assert m, css_class
    body = m.group(1).split("<tbody>", 1)[1]
    rows = []
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)
        rows.append([re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", c)).strip() for c in cells])
    return rows


def number(text: str) -> float:
    return float(re.search(r"-?[\d,]+(?:\.\d+)?", text).group(0).replace(",", ""))


# ------------------------------------------------------------------------------ layout and links


def test_site_has_every_page_and_download(demo_site):
    names = demo_districts()["name_en"]
    slugs = sorted(district_slug(n) for n in names)
    assert len(slugs) == 16
    for prefix in ("", "en/"):
        assert (demo_site / prefix / "index.html").is_file()
        assert (demo_site / prefix / "map.html").is_file()
        pages = sorted(p.stem for p in (demo_site / prefix / "districts").glob("*.html"))
        assert pages == slugs, prefix
    assert not (demo_site / "zh").exists()  # --lang zh: Chinese at the top
    ids = [e["id"] for e in demo_catalog()["layers"]]
    downloads = sorted(p.name for p in (demo_site / "downloads").iterdir())
    assert downloads == sorted(
        [f"{i}.geojson" for i in ids] + ["zoning_layers.gpkg", "README.txt", "SHA256SUMS"]
    )
    assert (demo_site / "assets" / "leaflet-1.9.3" / "leaflet.js").is_file()
    marker = json.loads((demo_site / SITE_MARKER).read_text(encoding="utf-8"))
    assert marker["generator"] == "zoning publish"
    # nothing else beside the site (no temporary folder left behind)
    assert sorted(p.name for p in demo_site.parent.iterdir()) == ["site"]


def test_every_link_resolves_and_pages_stay_small(demo_site):
    assert check_links(demo_site) > 500
    sizes = {p.relative_to(demo_site).as_posix(): p.stat().st_size for p in html_pages(demo_site)}
    assert len(sizes) == 2 * (2 + 16)
    assert max(sizes.values()) <= 5_000_000, max(sizes.items(), key=lambda kv: kv[1])


def test_every_page_carries_a_content_security_policy(demo_site):
    """No page may reach the network: the demo site is offline (no tile host allowed)."""
    for page in html_pages(demo_site):
        head = page.read_text(encoding="utf-8").split("</head>", 1)[0]
        m = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', head)
        assert m, page
        policy = m.group(1).replace("&#x27;", "'")
        assert "default-src 'none'" in policy and "https:" not in policy, page
        assert head.index(m.group(0)) < head.find("<script") or "<script" not in head


def test_site_is_relocatable(demo_site, tmp_path):
    moved = tmp_path / "elsewhere" / "copy of site"
    shutil.copytree(demo_site, moved)
    assert check_links(moved) == check_links(demo_site)
    for page in html_pages(moved):
        text = page.read_text(encoding="utf-8")
        assert str(demo_site) not in text and "file:" not in text, page


def test_pages_link_to_each_other(demo_site):
    index = parse(demo_site / "index.html")
    hrefs = {u for tag, _a, u in index.urls if tag == "a"}
    assert "map.html" in hrefs and "en/index.html" in hrefs
    assert {f"districts/{district_slug(n)}.html" for n in demo_districts()["name_en"]} <= hrefs
    for f in (demo_site / "downloads").iterdir():
        assert f"downloads/{f.name}" in hrefs, f.name
    jinshan = {u for tag, _a, u in parse(demo_site / "districts/jinshan.html").urls if tag == "a"}
    assert {"../index.html", "../map.html", "../en/districts/jinshan.html"} <= jinshan
    # neighbours share a boundary; Chongming (an island) does not border Jinshan
    assert {"fengxian.html", "songjiang.html"} <= jinshan and "chongming.html" not in jinshan
    en = {u for tag, _a, u in parse(demo_site / "en/districts/jinshan.html").urls if tag == "a"}
    assert {"../index.html", "../../districts/jinshan.html", "../../assets/site/site.css"} <= (
        en | {u for _t, _a, u in parse(demo_site / "en/districts/jinshan.html").urls}
    )


def test_both_languages_and_the_notice_on_every_page(demo_site):
    zh, en = DEMO_NOTICE
    for page in html_pages(demo_site):
        text = page.read_text(encoding="utf-8")
        rel = page.relative_to(demo_site).as_posix()
        lang = "en" if rel.startswith("en/") else "zh-CN"
        assert f'<html lang="{lang}">' in text, rel
        assert zh in text and en in text, f"{rel}: no demonstration notice"
    assert "Layers inside the district" in (demo_site / "en/districts/jinshan.html").read_text(
        encoding="utf-8"
    )
    assert "图层在本区内的面积" in (demo_site / "districts/jinshan.html").read_text(
        encoding="utf-8"
    )
    readme = (demo_site / "downloads/README.txt").read_text(encoding="utf-8")
    assert zh in readme and en in readme


# ------------------------------------------------------------------------------ numbers


@pytest.mark.parametrize("name_en", ["Jinshan", "Huangpu", "Pudong New Area"])
def test_district_statistics_against_geodesic_areas(demo_site, name_en):
    """Area of each polygon layer inside the district: the page vs pyproj.Geod on the source."""
    districts = demo_districts()
    district = shapely.union_all(districts.loc[districts["name_en"] == name_en].geometry)
    d_area = geod_area_km2(shapely.segmentize(district, 0.001))
    html = (demo_site / "en/districts" / f"{district_slug(name_en)}.html").read_text(
        encoding="utf-8"
    )
    shown = re.search(r"District area: <strong>([\d,.]+) km²</strong>", html).group(1)
    assert number(shown) == pytest.approx(d_area, abs=0.006)
    rows = {r[0]: r for r in table_rows(html, "zp-stats")}
    checked = 0
    for entry in demo_catalog()["layers"]:
        if entry["kind"] in ("district", "shoreline"):
            continue
        src = demo_source(entry)
        inside = shapely.intersection(shapely.union_all(src.geometry.to_numpy()), district)
        expected = geod_area_km2(shapely.segmentize(inside, 0.001))
        row = next(r for title, r in rows.items() if title.startswith(entry["title_en"]))
        assert number(row[1]) == pytest.approx(expected, abs=0.006), entry["id"]
        assert number(row[2]) == pytest.approx(100 * expected / d_area, abs=0.006), entry["id"]
        checked += expected > 1
    assert checked >= (1 if name_en == "Huangpu" else 4)


def test_district_maps_draw_the_features_inside(demo_site):
    """Features per layer on every district map (and in its table) vs an independent clip."""
    entries = demo_catalog()["layers"]
    names = demo_districts()["name_en"].unique()
    assert len(names) == 16
    for name_en in names:
        page = demo_site / "en/districts" / f"{district_slug(name_en)}.html"
        config = zoning_data(page)
        drawn = {spec["id"]: len(spec["data"]["features"]) for spec in config["layers"]}
        expected = expected_district_counts(name_en)
        assert drawn == expected, name_en
        assert drawn["districts"] == 1  # not the neighbours
        stats = {r[0]: int(number(r[3])) for r in table_rows(page.read_text("utf-8"), "zp-stats")}
        for entry in entries:
            if entry["kind"] != "district":
                title = next(t for t in stats if t.startswith(entry["title_en"]))
                assert stats[title] == expected[entry["id"]], (name_en, entry["id"])


def test_index_layer_table_and_city_indicators(demo_site):
    html = (demo_site / "en/index.html").read_text(encoding="utf-8")
    rows = table_rows(html, "zp-layers")
    catalog = demo_catalog()["layers"]
    assert len(rows) == len(catalog)
    for entry, row in zip(catalog, rows, strict=True):
        src = demo_source(entry)
        assert row[0].startswith(entry["title_en"]) and entry["title_zh"] in row[0]
        assert row[1] == "demonstration"
        assert int(number(row[5])) == len(src)
        if entry["kind"] == "shoreline":
            continue
        expected = geod_area_km2(shapely.segmentize(shapely.union_all(src.geometry), 0.001))
        assert number(row[6]) == pytest.approx(expected, abs=0.006), entry["id"]
    assert number(rows[2][6]) == pytest.approx(2527.30, abs=0.006)  # calibrated red line
    ind = table_rows(html, "zp-indicators")
    red = next(r for r in ind if r[0].startswith("Ecological protection red line area"))
    assert red[1] == "≥ 2,527.30 km² (2035)" and red[2] == "2,527.30 km²"
    assert red[3].startswith("met") and "三、(一)" in red[4]


def test_provenance_is_shown_and_recorded(demo_site):
    marker = json.loads((demo_site / SITE_MARKER).read_text(encoding="utf-8"))
    sha = hashlib.sha256(DEMO_CATALOG.read_bytes()).hexdigest()
    gpkg_sha = hashlib.sha256(DEMO_GPKG.read_bytes()).hexdigest()
    assert marker["tool_version"] == zoning.__version__
    assert marker["catalog"]["sha256"] == sha
    assert {lay["sha256"] for lay in marker["layers"]} == {gpkg_sha}
    html = (demo_site / "index.html").read_text(encoding="utf-8")
    assert sha in html and gpkg_sha in html and f"zoning {zoning.__version__}" in html
    assert marker["generated"] in html and "--offline" in html


# ------------------------------------------------------------------------------ downloads


def test_geojson_downloads_are_wgs84_whitelisted_and_complete(demo_site):
    for entry in demo_catalog()["layers"]:
        path = demo_site / "downloads" / f"{entry['id']}.geojson"
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert doc["type"] == "FeatureCollection" and "crs" not in doc  # RFC 7946
        src = demo_source(entry)
        assert len(doc["features"]) == len(src), entry["id"]
        allowed = {"feature_id"} | set(fields_for(entry["kind"])) | PROVENANCE
        for f in doc["features"]:
            assert set(f["properties"]) <= allowed, (entry["id"], set(f["properties"]) - allowed)
            assert f["properties"]["status"] == "demonstration"
            assert f["properties"]["source"] == entry["provenance"]["source"]
        # the source's own columns that are not whitelisted never appear
        for col in ("note", "access_list", "pop_2020", "adcode", "source_feature", "rl_type"):
            assert col not in doc["features"][0]["properties"]
        ids = [f["properties"]["feature_id"] for f in doc["features"]]
        id_col = entry["fields"]["id"]
        assert sorted(ids) == sorted(src[id_col].astype(str))
        # geometry: lon/lat inside Shanghai, exterior rings counter-clockwise, full resolution
        got = gpd.read_file(path)
        assert got.crs.to_epsg() == 4326
        x0, y0, x1, y1 = got.total_bounds
        assert 120.5 < x0 < x1 < 122.8 and 30.4 < y0 < y1 < 32.0
        for g in got.geometry:
            for part in shapely.get_parts(g):
                if part.geom_type == "Polygon":
                    assert part.exterior.is_ccw
        by_id = src.set_index(src[id_col].astype(str)).geometry
        if entry["kind"] != "shoreline":
            # Vertices move by at most ~1 cm (7 decimals, points within 1 cm of a straight
            # line left out), so the area changes by at most perimeter x 2 cm.
            for fid, g in zip(ids, got.geometry, strict=True):
                a = geod_area_km2(shapely.segmentize(g, 0.001))
                b = geod_area_km2(shapely.segmentize(by_id[fid], 0.001))
                perimeter_m = GEOD.geometry_length(by_id[fid])
                assert abs(a - b) * 1e6 <= perimeter_m * 0.02, (entry["id"], fid, a, b)
        else:
            assert float(got.geometry.iloc[0].hausdorff_distance(src.geometry.iloc[0])) < 1e-6


def test_geopackage_holds_every_layer(demo_site):
    gpkg = demo_site / "downloads" / "zoning_layers.gpkg"
    layers = {name for name, _ in pyogrio.list_layers(gpkg)}
    catalog = demo_catalog()["layers"]
    assert layers == {e["id"] for e in catalog}
    for entry in catalog:
        info = pyogrio.read_info(gpkg, layer=entry["id"])
        assert info["crs"] == "EPSG:4326" and info["features"] == len(demo_source(entry))
        allowed = {"feature_id"} | set(fields_for(entry["kind"])) | PROVENANCE
        assert set(info["fields"]) <= allowed and PROVENANCE <= set(info["fields"])
        assert "status: demonstration" in info["layer_metadata"]["DESCRIPTION"]


def test_checksums_and_readme(demo_site):
    sums = (demo_site / "downloads" / "SHA256SUMS").read_text(encoding="ascii").splitlines()
    assert len(sums) == len(demo_catalog()["layers"]) + 1
    for line in sums:
        digest, name = line.split("  ")
        data = (demo_site / "downloads" / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest
    readme = (demo_site / "downloads" / "README.txt").read_text(encoding="utf-8")
    for entry in demo_catalog()["layers"]:
        assert f"[{entry['id']}]" in readme and entry["provenance"]["source"] in readme
    assert "licence:   MIT" in readme and "full resolution" in readme
    assert not re.search(r"\bnan\b", readme, re.I)  # missing values are "-", not NaN
    assert "vintage:   -" in readme and "length:    1" not in readme.split("[yangtze")[0]


def test_secret_column_is_never_published(hostile):
    catalog, site = hostile
    source = catalog.parent / _gpkg_name(catalog)
    assert "secret" in set(pyogrio.read_info(source, layer="red")["fields"])  # it is there
    for path in site.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    for name, _ in pyogrio.list_layers(site / "downloads" / "zoning_layers.gpkg"):
        fields = pyogrio.read_info(site / "downloads" / "zoning_layers.gpkg", layer=name)["fields"]
        assert "secret" not in set(fields)


def _gpkg_name(catalog: Path) -> str:
    return yaml.safe_load(catalog.read_text(encoding="utf-8"))["layers"][0]["source"]


# ------------------------------------------------------------------------------ hostile text


def test_hostile_text_is_escaped_in_every_page(hostile):
    _catalog, site = hostile
    pages = html_pages(site)
    assert len(pages) == 2 * (2 + 2)
    assert check_links(site) > 50
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for bad in ("<img src=x", "<svg onload", "<script>alert", "</script><script>"):
            assert bad not in text, (page, bad)
        assert 'href="javascript:' not in text.lower()
    index = (site / "index.html").read_text(encoding="utf-8")
    # shown as text, not evaluated ({{ 7*7 }} is not 49), the file name included
    assert "{{ 7*7 }}" in index and "&lt;img src=x onerror=alert(1)&gt;" in index
    assert "&lt;img src=x onerror=alert(1)&gt; ${alert(1)} `x` &#34;q&#39;.gpkg" in index
    assert "javascript:alert(1)" in index  # the provenance URL, as text only
    assert sorted(p.name for p in (site / "districts").iterdir()) == ["alert-1-x.html", "d1.html"]


# ------------------------------------------------------------------------------ options


def test_english_at_the_top_with_chinese_under_zh(tmp_path):
    catalog = hostile_site_catalog(tmp_path, status="authoritative")
    out = tmp_path / "en-site"
    res = CliRunner().invoke(
        publish, ["--out", str(out), "--catalog", str(catalog), "--lang", "en", "--offline"]
    )
    assert res.exit_code == 0, res.output
    assert (
        (out / "index.html")
        .read_text(encoding="utf-8")
        .startswith('<!DOCTYPE html>\n<html lang="en">')
    )
    assert (out / "zh/index.html").is_file() and not (out / "en").exists()
    check_links(out)
    # authoritative data: no demonstration notice anywhere
    for page in html_pages(out):
        text = page.read_text(encoding="utf-8")
        assert DEMO_NOTICE[1] not in text and DEMO_NOTICE[0] not in text, page
    assert "DEMONSTRATION" not in res.output


def test_online_pages_select_tiles_offline_pages_do_not(tmp_path, hostile):
    catalog, offline_site = hostile
    online = publish_site(tmp_path / "online", catalog, basemap="carto")
    on = zoning_data(online.path / "map.html")
    off = zoning_data(offline_site / "map.html")
    assert any(t["active"] for t in on["tiles"]) and not on["vector"]["active"]
    assert not any(t["active"] for t in off["tiles"]) and off["vector"]["active"]


# ------------------------------------------------------------------------------ errors, atomicity


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _listing(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def assert_one_line_error(res, *words):
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("zoning: error: "), res.output
    assert "Traceback" not in res.output
    for w in words:
        assert w in lines[0], (w, lines[0])


def _bad_catalog(tmp):
    path = tmp / "bad.yml"
    path.write_text(
        "layers:\n  - id: red\n    kind: red_line\n    source: r.gpkg\n    colour: red\n",
        encoding="utf-8",
    )
    return ["--catalog", str(path)], ["bad.yml", "colour"]


def _missing_layer_file(tmp):
    path = write_catalog(
        tmp / "missing.yml",
        [{"id": "red", "kind": "red_line", "source": "nowhere.gpkg"}],
    )
    return ["--catalog", str(path)], ["red", "nowhere.gpkg"]


def _missing_layer_option(tmp):
    return ["--layer", f"red_line={tmp / 'gone.geojson'}"], ["gone.geojson"]


def _bad_lang(tmp):
    return ["--lang", "fr"], ["--lang", "fr"]


def _bad_basemap_key(tmp):
    return ["--basemap", "tianditu", "--tianditu-key", "x'<>"], ["letters and digits"]


CASES = [_bad_catalog, _missing_layer_file, _missing_layer_option, _bad_lang, _bad_basemap_key]


@pytest.mark.parametrize("case", CASES, ids=lambda f: f.__name__.strip("_"))
def test_input_errors_write_nothing(tmp_path, case):
    args, words = case(tmp_path)
    before = _listing(tmp_path)
    out = tmp_path / "out" / "site"
    res = CliRunner().invoke(publish, [str(out), *args])
    assert_one_line_error(res, *words)
    assert _listing(tmp_path) == before  # not even the parent folder


def test_out_dir_that_is_a_file(tmp_path):
    target = tmp_path / "site"
    target.write_text("keep me", encoding="utf-8")
    res = CliRunner().invoke(publish, [str(target)])
    assert_one_line_error(res, "not a folder")
    assert target.read_text(encoding="utf-8") == "keep me"
    res = CliRunner().invoke(publish, [str(target / "inside")])
    assert_one_line_error(res, "not a folder")
    assert _listing(tmp_path) == ["site"]


def test_refuses_a_folder_it_did_not_make(tmp_path):
    folder = tmp_path / "Documents"
    folder.mkdir()
    (folder / "thesis.docx").write_bytes(b"precious")
    res = CliRunner().invoke(publish, [str(folder)])
    assert_one_line_error(res, "not made by zoning publish", SITE_MARKER)
    assert _snapshot(folder) == {"thesis.docx": b"precious"}
    assert _listing(tmp_path) == ["Documents", "Documents/thesis.docx"]


def test_out_dir_and_out_option_disagree(tmp_path):
    res = CliRunner().invoke(publish, [str(tmp_path / "a"), "--out", str(tmp_path / "b")])
    assert_one_line_error(res, "once")
    res = CliRunner().invoke(publish, [])
    assert_one_line_error(res, "OUT_DIR")
    assert _listing(tmp_path) == []


def _publish_as_normal_user(out: Path) -> tuple[int, str]:
    """Run ``zoning publish OUT`` without root's powers (as ``nobody`` when we are root)."""
    code = f"from zoning.cli.publish import publish; publish([{str(out)!r}, '--offline'])"
    cmd = [sys.executable, "-c", code]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root and setpriv is missing: cannot drop privileges")
        cmd = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd="/", timeout=300)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.mark.parametrize("where", ["parent", "folder"])
def test_unwritable_out_dir(where):
    """A folder we may not write in (as a normal user): one line, exit 2, nothing written."""
    base = Path(tempfile.mkdtemp(prefix="zoning-ro-"))  # world-readable, for 'nobody'
    try:
        base.chmod(0o755)
        ro = base / "ro"
        ro.mkdir()
        target = ro / "site" if where == "parent" else ro
        ro.chmod(0o555)
        code, output = _publish_as_normal_user(target)
        lines = [ln for ln in output.splitlines() if ln.strip()]
        assert code == 2 and len(lines) == 1 and lines[0].startswith("zoning: error: "), output
        assert ("permission denied" if where == "parent" else "not writable") in lines[0]
        assert _listing(base) == ["ro"]
    finally:
        (base / "ro").chmod(0o755)
        shutil.rmtree(base)


def test_unwritable_out_dir_on_a_read_only_file_system(tmp_path):
    """/sys refuses new folders even to root: the build fails at its first write."""
    sysfs = Path("/sys")
    probe = sysfs / "zoning-publish-probe"
    try:
        probe.mkdir()
    except OSError:
        pass
    else:  # pragma: no cover - a writable /sys
        probe.rmdir()
        pytest.skip("/sys is writable here")
    if not sysfs.is_dir():
        pytest.skip("no /sys")
    catalog = hostile_site_catalog(tmp_path)
    before = sorted(p.name for p in sysfs.iterdir())
    res = CliRunner().invoke(publish, ["/sys/zoning-site", "--catalog", str(catalog)])
    assert_one_line_error(res, "/sys")
    assert sorted(p.name for p in sysfs.iterdir()) == before


def test_a_failure_mid_build_leaves_the_older_site_intact(tmp_path, monkeypatch, hostile):
    catalog, _ = hostile
    site = tmp_path / "site"
    first = publish_site(site, catalog, offline=True)
    before = _snapshot(site)
    assert SITE_MARKER in before and len(first.pages) == 8

    import zoning.publish.site as pub

    real = pub._write_downloads

    def downloads_then_fail(layers, folder):
        real(layers, folder)  # half the site is on disk when this happens
        raise OSError(28, "No space left on device", str(folder / "zoning_layers.gpkg"))

    monkeypatch.setattr(pub, "_write_downloads", downloads_then_fail)
    res = CliRunner().invoke(publish, [str(site), "--catalog", str(catalog)])
    assert_one_line_error(res, "No space left on device")
    assert _snapshot(site) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]  # no temporary folder left

    # the same with folders that had to be created: they are removed again
    deep = tmp_path / "new" / "deeper" / "site"
    res = CliRunner().invoke(publish, [str(deep), "--catalog", str(catalog)])
    assert_one_line_error(res, "No space left on device")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_a_bad_input_leaves_the_older_site_intact(tmp_path, hostile):
    catalog, _ = hostile
    site = tmp_path / "site"
    publish_site(site, catalog, offline=True)
    before = _snapshot(site)
    missing = write_catalog(
        tmp_path / "missing.yml", [{"id": "red", "kind": "red_line", "source": "gone.gpkg"}]
    )
    res = CliRunner().invoke(publish, [str(site), "--catalog", str(missing)])
    assert_one_line_error(res, "gone.gpkg")
    assert _snapshot(site) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["missing.yml", "site"]


def test_republishing_replaces_the_whole_site(tmp_path, hostile):
    catalog, _ = hostile
    site = tmp_path / "site"
    publish_site(site, catalog, offline=True)
    old_marker = json.loads((site / SITE_MARKER).read_text(encoding="utf-8"))
    # The marker lists exactly the files the publish wrote.
    on_disk = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())
    assert sorted(old_marker["files"]) == on_disk
    assert (site / "en/index.html").is_file()
    from datetime import UTC, datetime

    second = publish_site(
        site, catalog, lang="en", offline=True, now=datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    )
    # Pages of the old site that the new one does not write are gone (en/ is now the top).
    assert not (site / "en").exists() and (site / "zh/index.html").is_file()
    assert second.kept == []
    marker = json.loads((site / SITE_MARKER).read_text(encoding="utf-8"))
    assert marker["generated"] == "2030-01-02T03:04:05+00:00" != old_marker["generated"]
    assert second.path == site.resolve()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]
    # readable by a web server: not the private modes of temporary files
    assert (site / "index.html").stat().st_mode & 0o044 == 0o044
    assert site.stat().st_mode & 0o055 == 0o055


def test_empty_folder_is_accepted(tmp_path, hostile):
    catalog, _ = hostile
    site = tmp_path / "empty"
    site.mkdir()
    res = CliRunner().invoke(publish, [str(site), "--catalog", str(catalog), "--offline"])
    assert res.exit_code == 0, res.output
    assert "DEMONSTRATION" in res.output and (site / "index.html").is_file()


def test_districts_without_a_district_layer(tmp_path):
    gpkg = tmp_path / "red.gpkg"
    gpd.GeoDataFrame({"name": ["A"]}, geometry=[box(121.3, 31.1, 121.31, 31.11)], crs=4326).to_file(
        gpkg
    )
    catalog = write_catalog(
        tmp_path / "c.yml",
        [{"id": "red", "kind": "red_line", "source": "red.gpkg", "fields": {"name": "name"}}],
    )
    site = publish_site(tmp_path / "site", catalog, offline=True)
    assert site.districts == [] and not (site.path / "districts").exists()
    assert "no district layer" in (site.path / "en/index.html").read_text(encoding="utf-8")
    check_links(site.path)
    got = gpd.read_file(site.path / "downloads/red.geojson")
    assert np.allclose(got.total_bounds, [121.3, 31.1, 121.31, 31.11], atol=2e-7)
    assert list(got.columns) == [
        "feature_id",
        "name",
        "status",
        "source",
        "vintage",
        "licence",
        "geometry",
    ]
    assert got["status"].tolist() == ["unknown"]


def test_republishing_keeps_the_files_the_user_added(tmp_path, hostile):
    catalog, _ = hostile
    site = tmp_path / "site"
    publish_site(site, catalog, offline=True)
    added = {
        "CNAME": "maps.example.org\n",
        ".nojekyll": "",
        "extra/notes.html": "<p>mine</p>",
        "assets/custom.css": "body{}",
    }
    for rel, text in added.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text(text, encoding="utf-8")
    (site / "latest").symlink_to("index.html")
    res = CliRunner().invoke(publish, [str(site), "--catalog", str(catalog), "--offline"])
    assert res.exit_code == 0, res.output
    assert "kept 5 files" in res.output
    for rel, text in added.items():
        assert (site / rel).read_text(encoding="utf-8") == text, rel
    assert (site / "latest").is_symlink() and os.readlink(site / "latest") == "index.html"
    marker = json.loads((site / SITE_MARKER).read_text(encoding="utf-8"))
    assert not set(added) & set(marker["files"])  # still the user's, not the site's
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]
    # A third publish keeps them again.
    publish_site(site, catalog, offline=True)
    assert (site / "CNAME").read_text(encoding="utf-8") == "maps.example.org\n"


def test_republishing_refuses_to_overwrite_a_file_the_user_added(tmp_path, hostile):
    catalog, _ = hostile
    site = tmp_path / "site"
    # A first site without a district layer: no districts/ pages.
    gpkg = tmp_path / "red.gpkg"
    gpd.GeoDataFrame({"name": ["A"]}, geometry=[box(121.3, 31.1, 121.31, 31.11)], crs=4326).to_file(
        gpkg
    )
    small = write_catalog(
        tmp_path / "c.yml",
        [{"id": "red", "kind": "red_line", "source": "red.gpkg", "fields": {"name": "name"}}],
    )
    publish_site(site, small, offline=True)
    # The hostile catalog's site has district pages; learn their names from a separate build.
    names = publish_site(tmp_path / "probe", catalog, offline=True).files
    district_page = next(f for f in names if f.startswith("districts/"))
    (site / "districts").mkdir()
    (site / district_page).write_text("the user's page", encoding="utf-8")
    before = _snapshot(site)
    res = CliRunner().invoke(publish, [str(site), "--catalog", str(catalog), "--offline"])
    assert_one_line_error(res, district_page, "overwritten")
    assert _snapshot(site) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yml", "probe", "red.gpkg", "site"]


def test_republishing_a_site_whose_marker_lists_no_files(tmp_path, hostile):
    """A site made before markers listed files: what lies outside its layout is kept."""
    catalog, _ = hostile
    site = tmp_path / "site"
    publish_site(site, catalog, offline=True)
    marker = json.loads((site / SITE_MARKER).read_text(encoding="utf-8"))
    del marker["files"]
    (site / SITE_MARKER).write_text(json.dumps(marker), encoding="utf-8")
    (site / "CNAME").write_text("x.example.org", encoding="utf-8")
    (site / "districts" / "stale.html").write_text("old page", encoding="utf-8")
    publish_site(site, catalog, offline=True)
    assert (site / "CNAME").read_text(encoding="utf-8") == "x.example.org"
    assert not (site / "districts" / "stale.html").exists()


def _catalog_of(tmp: Path, ids: list[str], **edits) -> Path:
    """The demonstration catalog reduced to ``ids`` (sources made absolute), entries edited."""
    doc = demo_catalog()
    layers = []
    for entry in doc["layers"]:
        if entry["id"] in ids:
            entry = dict(entry, source=str((DEMO_CATALOG.parent / entry["source"]).resolve()))
            entry.update(edits.get(entry["id"], {}))
            layers.append(entry)
    doc["layers"] = layers
    path = tmp / "catalog.yml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "ids",
    [
        ["districts"],  # only districts: district pages with no layer inside
        ["sea_area", "red_line", "water"],  # no districts
        ["districts", "red_line", "water"],  # no sea area
    ],
    ids=["only-districts", "no-districts", "no-sea"],
)
def test_catalogs_without_districts_or_sea_or_other_layers(tmp_path, ids):
    path = _catalog_of(tmp_path, ids)
    res = CliRunner().invoke(publish, [str(tmp_path / "site"), "--catalog", str(path), "--offline"])
    assert res.exit_code == 0, res.output
    site = tmp_path / "site"
    check_links(site)
    n_districts = len(demo_districts()) if "districts" in ids else 0
    assert len(list((site / "districts").glob("*.html"))) == n_districts
    if ids == ["districts"]:
        page = (site / "en" / "districts" / f"{district_slug('Huangpu')}.html").read_text("utf-8")
        assert "Huangpu" in page
        assert table_rows(page, "stats") == []  # no layer inside: an empty table, no error


def test_geopackage_identifiers_are_unique(tmp_path):
    """Two layers with one English title, two of a kind without title_en: all published."""
    import sqlite3

    path = _catalog_of(
        tmp_path,
        ["districts", "water", "red_line", "nature_reserves_2026"],
        nature_reserves_2026={"title_en": "Protected"},
        red_line={"title_en": "Protected"},
    )
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    water = next(e for e in doc["layers"] if e["id"] == "water")
    doc["layers"].append(dict(water, id="water_b"))
    for e in doc["layers"]:
        if e["id"] in ("water", "water_b"):
            e.pop("title_en", None)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    res = CliRunner().invoke(publish, [str(tmp_path / "site"), "--catalog", str(path), "--offline"])
    assert res.exit_code == 0, res.output
    gpkg = tmp_path / "site" / "downloads" / "zoning_layers.gpkg"
    with sqlite3.connect(gpkg) as con:
        rows = con.execute("SELECT table_name, identifier FROM gpkg_contents").fetchall()
    tables = {t for t, _ in rows}
    assert tables == {"districts", "water", "water_b", "red_line", "nature_reserves_2026"}
    idents = [i for _, i in rows]
    assert len(set(idents)) == len(idents)
    ident = dict(rows)
    assert ident["red_line"] == "Protected (red_line)"
    assert ident["nature_reserves_2026"] == "Protected (nature_reserves_2026)"
    assert ident["water"].endswith(" (water)") and ident["water_b"].endswith(" (water_b)")
    assert ident["districts"] == "Shanghai districts (16)"  # unique titles stay as they are
