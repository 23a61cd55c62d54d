"""The screening report's map (report/map.html): written with the report, linked both ways,
offline when asked, and loading clean in a real browser with the network cut off."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

import zoning
from browser import screenshot_dir
from zoning.cli import main
from zoning.report import page_name

# Every test here screens or renders the demonstration layers (seconds each).
pytestmark = pytest.mark.slow

# Three sites in different situations on the demonstration layers: central Huangpu, the
# Chongming Dongtan reserve, a pipeline crossing the Huangpu river in Minhang.
POINTS = [(121.4737, 31.2304), (121.95, 31.52)]
PIPE = "LINESTRING (121.45 31.02, 121.50 31.04)"


@pytest.fixture(scope="module")
def map_result(demo_layers):
    return zoning.screen(
        wkt=[f"POINT ({x} {y})" for x, y in POINTS] + [PIPE],
        layers=demo_layers,
        crs="EPSG:4326",
        attributes={"industry": "C2614", "nature": "new", "linear": False},
    )


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("href", "src") and v:
                self.hrefs.append(v)


def links(path: Path) -> list[str]:
    p = Links()
    p.feed(path.read_text(encoding="utf-8"))
    return p.hrefs


def test_report_writes_and_links_the_map(map_result, tmp_path):
    written = map_result.to_file(tmp_path, ["html"], map_options={"offline": True})
    report = written["html"].parent
    assert (report / "map.html").is_file()
    assert "map.html" in links(report / "index.html")
    html = (report / "map.html").read_text(encoding="utf-8")
    # Every site page the map links to exists (links are relative to the report folder).
    data = json.loads(
        re.search(
            r'<script type="application/json" id="zoning-data">(.*?)</script>', html, re.S
        ).group(1)
    )
    prefix = data["sites"]["report_prefix"]
    sites = next(s for s in data["layers"] if s["ns"] == "screening" and s["id"] == "sites")
    targets = {prefix + f["properties"]["h"] for f in sites["data"]["features"]}
    expected = {f"./sites/{page_name(s)}.html" for s in map_result.sites["site_id"]}
    assert targets == expected
    for t in targets:
        assert (report / t).is_file()
        # ... and each site page links back to the map.
        assert "../map.html" in links(report / t)
    # Nothing is loaded from a CDN: Leaflet and its plugins are inline.
    assert not re.search(r"""<(script|link)[^>]+(src|href)=["']https?:""", html)
    assert "DEMONSTRATION" in html


def test_map_skipped_above_the_limit(map_result, tmp_path):
    index = map_result.to_html(tmp_path, max_map_sites=2)
    assert not (index.parent / "map.html").exists()
    text = index.read_text(encoding="utf-8")
    assert 'id="map-note"' in text and "map limit of 2" in text
    # The note names a command that exists and draws the most severe sites ...
    assert "zoning map --screening DIR --max-sites 2" in text
    site_page = next((index.parent / "sites").glob("*.html"))
    assert "map.html" not in links(site_page)  # ... and site pages link to no missing map
    map_result.to_file(tmp_path, ["gpkg", "json"])
    out = tmp_path / "capped.html"
    r = CliRunner().invoke(
        main, ["map", "--screening", str(tmp_path), "--max-sites", "2", "--out", str(out)]
    )
    assert r.exit_code == 0, r.output
    html = out.read_text(encoding="utf-8")
    assert "Showing 2 of 3 sites" in html or "显示 3 个场址中最严重的 2 个" in html


def test_report_without_map(map_result, tmp_path):
    index = map_result.to_html(tmp_path, map=False)
    assert not (index.parent / "map.html").exists()
    assert "map.html" not in links(index)


@pytest.mark.browser
def test_cli_offline_report_map_loads_clean_without_network(browser, tmp_path):
    out = tmp_path / "out"
    r = CliRunner().invoke(
        main,
        [
            "screen",
            *[arg for x, y in POINTS for arg in ("--point", f"{x},{y}")],
            "--crs",
            "EPSG:4326",
            "--industry",
            "C2614",
            "--out",
            str(out),
            "--format",
            "html",
            "--offline",
        ],
    )
    assert r.exit_code in (0, 1), r.output
    page = out / "report" / "map.html"
    visit = browser.open(page, offline=True, screenshot=screenshot_dir() / "report_map.png")
    visit.page.wait_for_function("() => window.zoningMap && window.zoningMap.ready", timeout=30_000)
    assert visit.page.evaluate("zoningMap.screeningCounts.sites") == len(POINTS)
    visit.assert_clean()
    # The report index links the map, and the map's popups link back to the site pages.
    index = browser.open(out / "report" / "index.html", offline=True)
    index.assert_clean()
    assert index.page.locator("#map-link a").get_attribute("href") == "map.html"


def test_cli_tianditu_without_key_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    out = tmp_path / "out"
    r = CliRunner().invoke(
        main,
        [
            "screen",
            "--point",
            "121.47,31.23",
            "--crs",
            "EPSG:4326",
            "--out",
            str(out),
            "--basemap",
            "tianditu",
        ],
    )
    assert r.exit_code == 2
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and "tianditu" in lines[0].lower() and "Traceback" not in r.output
    assert not out.exists()
