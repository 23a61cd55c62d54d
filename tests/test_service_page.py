"""The web page of ``zoning serve`` (``GET /``).

In-process: the page, its assets, its industry list and form words, its Content-Security-Policy
and that no client path reaches the file system.  With a real ``zoning serve`` process on a
free loopback port and a real headless Chromium: a polygon drawn by mouse clicks on the map,
an industry picked from the searchable list, the verdict shown (checked against
:func:`zoning.screen` on the drawn polygon), the PDF, Word and Excel downloads; hostile site
names, file names and server messages shown literally with nothing executed; nothing leaves
the machine unless the reader switches the OpenStreetMap tiles on.
"""

from __future__ import annotations

import io
import json
import re
import urllib.request
from pathlib import Path

import pytest

from worlds import HOSTILE

pytest.importorskip("fastapi")

STATIC = Path(__file__).resolve().parent.parent / "zoning" / "service" / "static"
#: Where the page's clicks go: a lon/lat in central Shanghai (Huangpu, inside the demo layers).
CENTRE = (121.47, 31.23)


# ------------------------------------------------------------------------------ in process


@pytest.fixture(scope="module")
def client():
    from fastapi.testclient import TestClient

    from zoning.service import ServiceState, create_app

    state = ServiceState.load(warm=False)
    with TestClient(create_app(state)) as c:
        yield c


def test_page_is_served_with_a_strict_csp_and_no_inline_script(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert "unsafe" not in csp and "*" not in csp
    assert directives["connect-src"] == "'self'"
    assert r.headers["x-content-type-options"] == "nosniff"
    html = r.text
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", html, flags=re.S | re.I)
    assert scripts and all(body.strip() == "" for body in scripts)
    assert all("src=" in tag for tag in re.findall(r"<script\b[^>]*>", html))
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "no asset from another host"
    assert not re.search(r"<[^>]+\son[a-z]+=", html), "no inline event handler"
    assert "演示数据" in html and "Demonstration data" in html
    assert client.head("/").status_code == 200


def test_every_asset_the_page_and_its_css_name_is_served(client):
    html = client.get("/").text
    urls = re.findall(r"""(?:src|href)="(static/[^"]+)\"""", html)
    assert len(urls) == 6
    for url in urls:
        r = client.get("/" + url)
        assert r.status_code == 200, url
        if url.endswith(".css"):
            assert r.headers["content-type"].startswith("text/css")
            base = url.rsplit("/", 1)[0]
            for ref in re.findall(r"""url\(\s*['"]?([^'")]+)""", r.text):
                if not ref.startswith(("data:", "#")):
                    assert client.get(f"/{base}/{ref}").status_code == 200, (url, ref)
        if url.endswith(".js"):
            assert r.headers["content-type"].startswith("text/javascript")
    # Leaflet's default marker images (L.Icon.Default looks for them beside the style sheet).
    assert client.get("/static/leaflet-1.9.3/images/marker-icon.png").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/static/../page.py",
        "/static/page/../../page.py",
        "/static/..%2F..%2Fpage.py",
        "/static/%2e%2e/%2e%2e/service/page.py",
        "/static//etc/passwd",
        "/static/page/gbt4754.json/../index.html",
        "/static/page/index.html",
        "/static/leaflet-1.9.3/leaflet.js.map",
    ],
)
def test_no_client_path_reaches_the_file_system(client, path):
    r = client.get(path)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "def " not in r.text and "root:" not in r.text


def test_page_script_never_writes_html(client):
    js = client.get("/static/page/page.js").text
    sinks = ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(")
    for sink in (*sinks, "new Function"):
        assert sink not in js, sink
    # Leaflet's bindTooltip(string) would set innerHTML: the page passes elements.
    assert "bindTooltip(tip)" in js and 'bindTooltip("' not in js


def test_industries_are_the_97_major_divisions_of_gbt_4754(client):
    from zoning.rules import load_rules
    from zoning.sites.attributes import parse_industry_code

    data = client.get("/industries").json()
    divisions = data["divisions"]
    assert [int(d["division"]) for d in divisions] == list(range(1, 98))
    assert [s["code"] for s in data["sections"]] == list("ABCDEFGHIJKLMNOPQRST")
    for d in divisions:
        assert parse_industry_code(d["code"])[0] == d["code"]
        assert d["zh"] and d["en"]
    by_code = {d["code"]: d["zh"] for d in divisions}
    # Hand-checked against GB/T 4754-2017: section boundaries and the divisions the rules name.
    assert by_code["A05"] == "农、林、牧、渔专业及辅助性活动"
    assert by_code["B06"] == "煤炭开采和洗选业"
    assert by_code["C13"] == "农副食品加工业" and by_code["C43"] == "金属制品、机械和设备修理业"
    assert by_code["C26"] == "化学原料和化学制品制造业"
    assert by_code["C31"] == "黑色金属冶炼和压延加工业"
    assert by_code["D44"] == "电力、热力生产和供应业"
    assert by_code["E47"] == "房屋建筑业" and by_code["F52"] == "零售业"
    assert by_code["H62"] == "餐饮业" and by_code["K70"] == "房地产业"
    assert by_code["S96"] == "基层群众自治组织及其他组织" and by_code["T97"] == "国际组织"
    # Every industry prefix of the demonstration rule set falls in a listed division.
    text = json.dumps([str(r) for r in load_rules().rules], ensure_ascii=False)
    for prefix in set(re.findall(r"'([A-T]?\d{2,4})'", text)):
        digits = prefix.lstrip("ABCDEFGHIJKLMNOPQRST")
        assert any(d["division"] == digits[:2] for d in divisions), prefix


def test_form_words_come_from_the_labels(client):
    from zoning.dates import today
    from zoning.labels import ATTRIBUTE_LABELS, FLAG_LABELS, VERDICT_LABELS
    from zoning.schema import NATURES

    cfg = client.get("/page/config").json()
    assert [v["code"] for v in cfg["nature"]["values"]] == list(NATURES)
    assert [f["code"] for f in cfg["flags"]] == [f[0] for f in FLAG_LABELS]
    assert {c["code"] for c in cfg["choices"]} == {"discharge", "red_line_activity", "facility"}
    for item in [*cfg["flags"], *cfg["choices"], cfg["nature"], cfg["industry"]]:
        assert item["help_zh"] == ATTRIBUTE_LABELS[item["code"]][0]
        assert item["help_en"] == ATTRIBUTE_LABELS[item["code"]][1]
    assert {v["code"]: v["zh"] for v in cfg["verdicts"]} == {
        k: v[0] for k, v in VERDICT_LABELS.items()
    }
    assert cfg["today"] == today().isoformat()
    assert cfg["demonstration"] is True
    # Other formats go to /jobs when the service has it (405/404: it has not).
    assert cfg["jobs"] == (client.post("/jobs").status_code not in (404, 405))
    basemap = client.get("/page/basemap").json()
    assert basemap["parts"] and all(
        f["properties"] == {} for p in basemap["parts"] for f in p["data"]["features"]
    )


# ------------------------------------------------------------------------------ real server


@pytest.fixture(scope="module")
def server():
    """A real ``zoning serve`` process on a free loopback port (no token); yields its URL."""
    from service import running_service

    with running_service(env={"ZONING_SERVICE_TOKEN": ""}) as svc:
        yield svc.url


def _open(browser, server, name):
    from browser import screenshot_dir

    visit = browser.open(server + "/", allowed_hosts=(server + "/",))
    visit.page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    visit.page.wait_for_timeout(300)
    visit.shot = screenshot_dir() / name
    return visit


def _pixel(page, lon, lat) -> tuple[float, float]:
    """The page pixel of a lon/lat on the page's map."""
    return tuple(
        page.evaluate(
            """([lon, lat]) => { const m = zoningPage.map;
                const p = m.latLngToContainerPoint([lat, lon]);
                const r = m.getContainer().getBoundingClientRect();
                return [r.left + p.x, r.top + p.y]; }""",
            [lon, lat],
        )
    )


def _draw_polygon(page) -> list[tuple[float, float]]:
    """Draw a square around :data:`CENTRE` with the draw tool, by mouse clicks."""
    page.evaluate("([lon, lat]) => zoningPage.map.setView([lat, lon], 14)", list(CENTRE))
    page.wait_for_timeout(400)
    cx, cy = _pixel(page, *CENTRE)
    pts = [(cx - 60, cy - 40), (cx + 60, cy - 40), (cx + 60, cy + 40), (cx - 60, cy + 40)]
    page.click(".leaflet-draw-draw-polygon")
    for x, y in [*pts, pts[0]]:
        # Leaflet.draw reads each vertex from a mouse move, a press and a release.
        page.mouse.move(x, y, steps=4)
        page.wait_for_timeout(120)
        page.mouse.click(x, y)
        page.wait_for_timeout(120)
    return page.evaluate(
        "() => zoningPage.drawnItems.getLayers()[0].toGeoJSON().geometry.coordinates[0]"
    )


@pytest.mark.slow
def test_draw_pick_screen_and_download(browser, server, tmp_path):
    from shapely.geometry import shape

    import zoning

    visit = _open(browser, server, "service_page_flow.png")
    page = visit.page
    ring = _draw_polygon(page)
    assert len(ring) == 5 and ring[0] == ring[-1]
    assert "1" in page.locator("#site-status").text_content()
    # The searchable list: typing narrows it to the division, a click picks it.
    page.fill("#industry-search", "化学原料")
    options = page.locator("#industry-list li[role=option]")
    assert options.count() == 1 and options.first.get_attribute("data-code") == "C26"
    # ... by keyboard too (arrow down into the list, Enter picks), and the choice can be undone.
    page.fill("#industry-search", "餐饮")  # section H 住宿和餐饮业: H61, H62
    assert page.locator("#industry-list li[role=option]").count() == 2
    page.press("#industry-search", "ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    assert page.locator("#industry-chosen").text_content().startswith("已选 chosen: H62")
    page.click("#industry-clear")
    assert page.locator("#industry-chosen").text_content() == ""
    page.fill("#industry-search", "26")
    page.click("#industry-list li[data-code='C26']")
    assert "C26" in page.locator("#industry-chosen").text_content()
    page.select_option("#nature", "new")
    page.select_option("#flag-wastewater", "true")
    page.click("#submit")
    page.wait_for_selector("#results:not([hidden])", timeout=60_000)
    shown = page.locator("#verdicts").text_content()
    # The oracle: the library on the very polygon the page drew, with the same attributes.
    result = zoning.screen(
        [shape({"type": "Polygon", "coordinates": [ring]})],
        crs="EPSG:4326",
        attributes={"industry": "C26", "nature": "new", "wastewater": True},
    )
    expected = result.to_dict()
    site = expected["sites"][0]
    assert site["verdict_zh"] in shown
    assert page.locator("#reasons li").count() == len(expected["reasons"])
    assert page.locator("#clauses tbody tr").count() == len(expected["clauses"])
    first = page.locator("#clauses tbody tr").first.locator("td").nth(1).text_content()
    assert first == expected["clauses"][0]["clause_zh"]
    page.screenshot(path=str(visit.shot), full_page=False)

    with page.expect_download() as got:
        page.click("#download-pdf")
    pdf = Path(got.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    from pypdf import PdfReader

    assert len(PdfReader(io.BytesIO(pdf)).pages) >= 1
    for button in ("#download-docx", "#download-xlsx"):
        with page.expect_download() as got:
            page.click(button)
        assert Path(got.value.path()).read_bytes().startswith(b"PK"), button
    visit.assert_clean()


@pytest.mark.slow
def test_hostile_names_and_messages_are_shown_literally(browser, server, tmp_path):
    # Playwright's wait_for_function evaluates a string, which the page's policy forbids.
    from playwright.sync_api import expect

    lon, lat = CENTRE

    def square(i: int, name: str) -> dict:
        x, y = lon + 0.006 * i, lat
        ring = [[x, y], [x + 0.004, y], [x + 0.004, y + 0.003], [x, y + 0.003], [x, y]]
        return {
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {"name": name, "note": HOSTILE[4]},
        }

    # Every hostile string of the map tests as a site name (the first two joined, first).
    names = [HOSTILE[0] + HOSTILE[1], *HOSTILE]
    features = [square(i, name) for i, name in enumerate(names)]
    feature = features[0]
    path = tmp_path / (HOSTILE[0] + ".geojson")  # the file name is hostile too
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    visit = _open(browser, server, "service_page_hostile.png")
    page = visit.page
    page.set_input_files("#site-file", str(path))
    expect(page.locator("#site-status")).to_contain_text(".geojson")
    assert HOSTILE[0] in page.locator("#site-status").text_content()
    # The site's tooltip on the map: the name as text.
    x, y = _pixel(page, lon + 0.002, lat + 0.0015)
    page.mouse.move(x, y, steps=3)
    page.wait_for_selector(".leaflet-tooltip", timeout=5_000)
    assert page.locator(".leaflet-tooltip").first.text_content() == HOSTILE[0] + HOSTILE[1]
    # A hostile search: no code, nothing chosen, nothing run.
    page.fill("#industry-search", HOSTILE[1])
    page.press("#industry-search", "Enter")
    assert page.locator("#industry-chosen").text_content() == ""
    page.click("#submit")
    page.wait_for_selector("#results:not([hidden])", timeout=60_000)
    shown = page.locator("#verdicts .site-name").all_text_contents()
    assert len(shown) == len(names)
    for name, text in zip(names, shown, strict=True):
        assert f"（{name}）" in text
    # The server's one-line error quoting a hostile industry code: shown as text.
    feature["properties"]["industry"] = HOSTILE[0]
    bad = tmp_path / "bad.geojson"
    bad.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), "utf-8")
    page.set_input_files("#site-file", str(bad))
    expect(page.locator("#site-status")).to_contain_text("bad.geojson")
    page.click("#submit")
    expect(page.locator("#form-error")).to_contain_text("4754", timeout=60_000)
    assert "<img src=x" in page.locator("#form-error").text_content()
    page.screenshot(path=str(visit.shot), full_page=True)
    injected = page.evaluate(
        """() => [document.querySelectorAll('img[src="x"], svg[onload], [onerror]').length,
                  document.querySelectorAll('script').length]"""
    )
    assert injected == [0, 3]
    assert visit.dialogs == [] and visit.page_errors == [] and visit.external_requests == []
    # The one console line: Chromium's note of the refused request (422), nothing else.
    assert [e for e in visit.console_errors if "status of 422" not in e] == []


@pytest.mark.slow
def test_offline_by_default_and_csp_enforced(browser, server, tmp_path):
    from playwright.sync_api import expect

    visit = _open(browser, server, "service_page_offline.png")
    page = visit.page
    assert page.evaluate("L.version") == "1.9.3" and page.evaluate("typeof L.Draw") == "object"
    basemap = json.loads(urllib.request.urlopen(server + "/page/basemap", timeout=60).read())
    parts = basemap["parts"]
    assert len(parts) == 3  # sea, districts, water of the demonstration catalog
    page.wait_for_selector("body[data-basemap='3']", timeout=30_000)
    assert page.locator("#map path").count() == sum(len(p["data"]["features"]) for p in parts)
    assert page.locator(".leaflet-tile").count() == 0
    assert page.locator("#demo-notice").is_visible()
    assert page.locator("#flags select").count() == 8
    assert page.locator("#flags .help").first.text_content().strip() != ""
    visit.assert_clean()
    # Tiles only when asked for, and only from the one host the switch names.
    page.route("https://tile.openstreetmap.org/**", lambda route: route.abort())
    page.check("#osm-toggle")
    page.wait_for_timeout(800)
    assert visit.external_requests
    assert all(u.startswith("https://tile.openstreetmap.org/") for u in visit.external_requests)
    # A file other than GeoJSON goes to /jobs, or the page says the service has none.
    csv = tmp_path / "sites.csv"
    csv.write_text("id,lon,lat\nP1,121.47,31.23\n", "utf-8")
    page.select_option("#upload-crs", "EPSG:4326")
    page.set_input_files("#site-file", str(csv))
    jobs = json.loads(urllib.request.urlopen(server + "/page/config", timeout=10).read())["jobs"]
    expect(page.locator("#site-status")).to_contain_text("任务 job" if jobs else "/jobs")
    # The policy is enforced: an injected inline script does not run.
    ran = page.evaluate(
        """() => { const s = document.createElement('script');
                   s.textContent = 'window.__inline = 1'; document.body.append(s);
                   return window.__inline === 1; }"""
    )
    assert ran is False
