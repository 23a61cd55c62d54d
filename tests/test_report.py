"""The HTML screening report and the console summary, on a hand-made ScreeningResult-like object.

The fixture holds exactly the attributes and columns of the shared contract (sites, hits,
layer_summary, reasons, provenance, layers, rule_set), so the report is tested independently of
the screening engine.  Hostile strings go into every data-derived field.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import jinja2
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, box

import zoning
from zoning.cli.render import console_summary
from zoning.report import fmt_area, fmt_m, fmt_share, page_name
from zoning.report import write_report as _write_report


def write_report(*args, **kwargs):
    """The report without its map: the map needs a real screening (tests/test_report_map.py)."""
    kwargs.setdefault("map", False)
    return _write_report(*args, **kwargs)


NaN = float("nan")

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
TEMPLATE_LIT = "${alert(1)}"
QUOTES = "\"quoted' </script><b>bold</b>"
TRAVERSAL = "../../etc/passwd"

HITS_COLUMNS = [
    "site",
    "site_id",
    "layer_id",
    "kind",
    "feature_id",
    "relation",
    "overlap_m2",
    "overlap_ha",
    "share_of_site",
    "share_of_feature",
    "overlap_length_m",
    "distance_m",
    "ring_m",
    "boundary_distance_m",
    "boundary_sensitive",
    "name",
    "name_en",
    "category",
    "unit_code",
    "level",
    "realm",
    "district",
    "access_list",
    "rule_ids",
    "verdict",
]
SUMMARY_COLUMNS = [
    "site",
    "site_id",
    "layer_id",
    "kind",
    "status",
    "hit",
    "overlap_m2",
    "share_of_site",
    "overlap_length_m",
    "distance_m",
    "nearest_feature_id",
    "ring_m",
    "boundary_sensitive",
]
REASON_COLUMNS = [
    "site",
    "site_id",
    "rule_id",
    "list_id",
    "layer_id",
    "kind",
    "feature_id",
    "feature_name",
    "verdict",
    "status",
    "dimension",
    "citation",
    "document",
    "article",
    "message_zh",
    "message_en",
    "next_step_zh",
    "next_step_en",
    "assumptions",
]

# site_id, name, verdict, industry, nature, linear, input_crs, datum_shift_m, uncertainty_m,
# boundary_sensitive, overlap_m2_total, nearest_m
SITES = [
    ("CHEM-1", "长江边化工厂", "prohibited", "C2614", "new", False, "EPSG:4326", 0, 0, False,
     123456.0, 0.0),
    (SCRIPT, IMG, "restricted", None, None, True, "EPSG:4326", 0, 0, False, 2500.0, 0.0),
    (IMG, QUOTES, "conditional", "H6210", "expansion", None, "gcj02", 512.3, 10.0, True,
     0.0, 120.0),
    (TRAVERSAL, None, "unknown", None, None, None, "EPSG:4326", 0, 0, False, 0.0, NaN),
    ("黄浦餐厅", TEMPLATE_LIT, "permitted", "H6210", "new", False, "EPSG:4326", 0, 0, False,
     0.0, NaN),
    ("a/b", None, "permitted", None, None, None, "EPSG:4326", 0, 0, False, 0.0, NaN),
    ("a-b", None, "permitted", None, None, None, "EPSG:4326", 0, 0, False, 0.0, NaN),
    (QUOTES, "quote site", "permitted", None, None, None, "EPSG:4326", 0, 0, False, 0.0, NaN),
]  # fmt: skip


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame([{c: r.get(c) for c in columns} for r in rows], columns=columns)


def make_result(sites=SITES, *, demonstration: bool = True, extra_permitted: int = 0):
    """A ScreeningResult-like namespace with exactly the contract's attributes and columns."""
    sites = list(sites) + [
        (f"P{i:04d}", None, "permitted", None, None, None, "EPSG:4326", 0, 0, False, 0.0, NaN)
        for i in range(extra_permitted)
    ]
    recs, geoms = [], []
    for i, s in enumerate(sites):
        (sid, name, verdict, industry, nature, linear, crs, shift, unc, bs, ov, near) = s
        recs.append(
            {
                "site_id": sid,
                "name": name,
                "industry": industry,
                "industry_division": industry[1:3] if industry else None,
                "nature": nature,
                "linear": linear,
                "wastewater": None,
                "air": True if sid == "CHEM-1" else None,
                "hazardous": None,
                "two_high": True if sid == "CHEM-1" else None,
                "two_high_source": "derived" if sid == "CHEM-1" else None,
                "input_crs": crs,
                "datum_shift_m": float(shift),
                "uncertainty_m": float(unc),
                "verdict": verdict,
                "n_constraints": 1 if ov else 0,
                "n_hits": 1 if ov else 0,
                "boundary_sensitive": bs,
                "overlap_m2_total": ov,
                "nearest_m": near,
                "area_m2": 250000.0 if i != 1 else 0.0,
                "length_m": 0.0 if i != 1 else 3000.0,
                "reasons_en": "",
            }
        )
        x = 1000.0 * i
        geoms.append(LineString([(x, 0), (x + 3000, 0)]) if i == 1 else box(x, 0, x + 500, 500))
    gsites = gpd.GeoDataFrame(recs, geometry=geoms, crs=zoning.WORKING_CRS)

    hits = [
        {
            "site": 0,
            "site_id": "CHEM-1",
            "layer_id": "red_line",
            "kind": "red_line",
            "feature_id": "RL-7",
            "relation": "intersects",
            "overlap_m2": 123456.0,
            "overlap_ha": 12.3456,
            "share_of_site": 0.4938,
            "share_of_feature": 0.0001,
            "overlap_length_m": NaN,
            "distance_m": 0.0,
            "ring_m": NaN,
            "boundary_distance_m": 800.0,
            "boundary_sensitive": False,
            "name": SCRIPT,  # hostile feature name from a user-supplied layer
            "name_en": "Chongming East Shoal",
            "rule_ids": "RL-1",
            "verdict": "prohibited",
        },
        {
            "site": 1,
            "site_id": SCRIPT,
            "layer_id": "basic_farmland",
            "kind": "basic_farmland",
            "feature_id": "BF-1",
            "relation": "intersects",
            "overlap_m2": 2500.0,
            "overlap_ha": 0.25,
            "share_of_site": 1.0,
            "share_of_feature": 0.002,
            "overlap_length_m": 1250.0,
            "distance_m": 0.0,
            "ring_m": NaN,
            "boundary_distance_m": 2000.0,
            "boundary_sensitive": False,
            "name": "金山基本农田",
            "name_en": None,
            "rule_ids": "BF-1",
            "verdict": "restricted",
        },
        {
            "site": 2,
            "site_id": IMG,
            "layer_id": "red_line",
            "kind": "red_line",
            "feature_id": "RL-9",
            "relation": "nearby",
            "overlap_m2": 0.0,
            "overlap_ha": 0.0,
            "share_of_site": 0.0,
            "share_of_feature": 0.0,
            "overlap_length_m": NaN,
            "distance_m": 120.0,
            "ring_m": 500.0,
            "boundary_distance_m": 120.0,
            "boundary_sensitive": True,
            "name": IMG,
            "name_en": TEMPLATE_LIT,
            "rule_ids": "",
            "verdict": "permitted",
        },
    ]
    summary = []
    for i, s in enumerate(sites[:8]):
        sid = s[0]
        for lid in ("red_line", "basic_farmland", "control_units"):
            row = {
                "site": i,
                "site_id": sid,
                "layer_id": lid,
                "kind": {"control_units": "control_unit"}.get(lid, lid),
                "status": "ok",
                "hit": False,
                "overlap_m2": 0.0,
                "share_of_site": 0.0,
                "overlap_length_m": NaN,
                "distance_m": NaN,
                "nearest_feature_id": None,
                "ring_m": NaN,
                "boundary_sensitive": False,
            }
            for h in hits:
                if h["site"] == i and h["layer_id"] == lid:
                    row.update(
                        hit=h["relation"] == "intersects",
                        overlap_m2=h["overlap_m2"],
                        share_of_site=h["share_of_site"],
                        overlap_length_m=h["overlap_length_m"],
                        distance_m=h["distance_m"],
                        nearest_feature_id=h["feature_id"],
                        ring_m=h["ring_m"],
                        boundary_sensitive=h["boundary_sensitive"],
                    )
            if lid == "control_units":
                row.update(hit=True, overlap_m2=250000.0, share_of_site=1.0, distance_m=0.0)
            summary.append(row)
    summary.append(
        {
            "site": 3,
            "site_id": TRAVERSAL,
            "layer_id": None,
            "kind": "shoreline",
            "status": "missing",
            "hit": False,
            "overlap_m2": NaN,
            "share_of_site": NaN,
            "overlap_length_m": NaN,
            "distance_m": NaN,
            "nearest_feature_id": None,
            "ring_m": NaN,
            "boundary_sensitive": False,
        }
    )
    reasons = [
        {
            "site": 0,
            "site_id": "CHEM-1",
            "rule_id": "RL-1",
            "list_id": "red_line",
            "layer_id": "red_line",
            "kind": "red_line",
            "feature_id": "RL-7",
            "feature_name": SCRIPT,
            "verdict": "prohibited",
            "status": "applies",
            "dimension": "空间布局约束",
            "citation": "自然资发〔2022〕142号, 第二条",
            "document": "自然资发〔2022〕142号",
            "article": "第二条",
            "message_zh": "生态保护红线内禁止开发性、生产性建设活动。",
            "message_en": "Development and production construction is prohibited in the red line.",
            "next_step_zh": "将项目移出生态保护红线。",
            "next_step_en": "Move the project out of the red line.",
            "assumptions": "",
        },
        {
            "site": 0,
            "site_id": "CHEM-1",
            "rule_id": "CU-KEY-2",
            "list_id": "key",
            "layer_id": "control_units",
            "kind": "control_unit",
            "feature_id": "ZH31011620001",
            "feature_name": "金山重点管控单元",
            "verdict": "conditional",
            "status": "applies",
            "dimension": "污染物排放管控",
            "citation": "环环评〔2021〕45号",
            "document": "环环评〔2021〕45号",
            "article": None,
            "message_zh": "“两高”项目须进入规划环评的产业园区。",
            "message_en": '"Two-high" projects only inside parks with a plan EIA.',
            "next_step_zh": None,
            "next_step_en": None,
            "assumptions": None,
        },
        {
            "site": 1,
            "site_id": SCRIPT,
            "rule_id": "BF-1",
            "list_id": "basic_farmland",
            "layer_id": "basic_farmland",
            "kind": "basic_farmland",
            "feature_id": "BF-1",
            "feature_name": "金山基本农田",
            "verdict": "restricted",
            "status": "applies",
            "dimension": "空间布局约束",
            "citation": "土地管理法, 第三十五条",
            "document": "土地管理法",
            "article": "第三十五条",
            "message_zh": SCRIPT,
            "message_en": IMG,
            "next_step_zh": "取得国务院批准。",
            "next_step_en": "Obtain State Council approval.",
            "assumptions": "linear declared: exception considered",
        },
        {
            "site": 1,
            "site_id": SCRIPT,
            "rule_id": "BF-1b",
            "list_id": "basic_farmland",
            "layer_id": "basic_farmland",
            "kind": "basic_farmland",
            "feature_id": "BF-1",
            "feature_name": "金山基本农田",
            "verdict": "restricted",
            "status": "applies",
            "dimension": "空间布局约束",
            "citation": "土地管理法, 第三十五条",
            "document": "土地管理法",
            "article": "第三十五条",
            "message_zh": "重复",
            "message_en": "duplicate next step",
            "next_step_zh": "取得国务院批准。",  # duplicated: listed once
            "next_step_en": "Obtain State Council approval.",
            "assumptions": None,
        },
        {
            "site": 2,
            "site_id": IMG,
            "rule_id": "CU-GEN-1",
            "list_id": "general",
            "layer_id": "control_units",
            "kind": "control_unit",
            "feature_id": "ZH31000030001",
            "feature_name": QUOTES,
            "verdict": "conditional",
            "status": "applies",
            "dimension": "环境风险防控",
            "citation": f"{TEMPLATE_LIT}, {QUOTES}",
            "document": TEMPLATE_LIT,
            "article": QUOTES,
            "message_zh": "满足一般管控要求。",
            "message_en": "Meet the general control requirements.",
            "next_step_zh": None,
            "next_step_en": None,
            "assumptions": None,
        },
        {
            "site": 3,
            "site_id": TRAVERSAL,
            "rule_id": "YZ-26",
            "list_id": "shoreline",
            "layer_id": None,
            "kind": "shoreline",
            "feature_id": None,
            "feature_name": None,
            "verdict": "unknown",
            "status": "layer_missing",
            "dimension": "空间布局约束",
            "citation": "长江保护法, 第二十六条",
            "document": "长江保护法",
            "article": "第二十六条",
            "message_zh": "缺少长江岸线图层。",
            "message_en": "The Yangtze shoreline layer is missing.",
            "next_step_zh": None,
            "next_step_en": None,
            "assumptions": None,
        },
        {
            "site": 3,
            "site_id": TRAVERSAL,
            "rule_id": "WS-2",
            "list_id": "water_source_zone",
            "layer_id": "water_source_zones",
            "kind": "water_source_zone",
            "feature_id": "WSZ-2",
            "feature_name": "黄浦江上游二级保护区",
            "verdict": "unknown",
            "status": "needs_attribute",
            "dimension": "污染物排放管控",
            "citation": "水污染防治法, 第六十六条",
            "document": "水污染防治法",
            "article": "第六十六条",
            "message_zh": "未申报是否排放废水。",
            "message_en": "Waste-water discharge not declared.",
            "next_step_zh": "申报是否排放废水。",
            "next_step_en": "Declare whether the project discharges waste water.",
            "assumptions": "wastewater not declared: cannot clear",
        },
    ]
    provenance = {  # the shape zoning.screening writes
        "tool": "zoning",
        "tool_version": zoning.__version__,
        "created": "2026-05-01T10:00:00+00:00",
        "demonstration": demonstration,
        "catalog": {"path": "layers/catalog.yml", "sha256": "f" * 64, "title": "demo"},
        "layers": [
            {
                "id": "red_line",
                "kind": "red_line",
                "status": "demonstration",
                "vintage": "2023 totals",
                "source": "shanghai_demo.gpkg",
                "sha256": "a" * 64,
                "load": "ok",
            },
            {
                "id": "basic_farmland",
                "kind": "basic_farmland",
                "status": "demonstration",
                "vintage": None,
                "source": "shanghai_demo.gpkg",
                "sha256": "b" * 64,
                "load": "ok",
            },
        ],
        "rule_set": {"id": "demo-shanghai", "version": "2026.1", "hash": "c" * 64},
        "working_crs": {"name": "LAEA Shanghai", "wkt": "PROJCRS[" + "x" * 2000 + "]"},
        "input": {
            "source": "sites.geojson",
            "crs": "gcj02",
            "conversion": "gcj02 -> WGS84 (1 site)",
            "sites": len(sites),
        },
        "search_radius_m": 1000.0,
    }
    rule_set = SimpleNamespace(
        id="demo-shanghai", version="2026.1", hash="sha256:" + "c" * 64, status="demonstration"
    )
    return SimpleNamespace(
        sites=gsites,
        hits=_frame(hits, HITS_COLUMNS),
        layer_summary=_frame(summary, SUMMARY_COLUMNS),
        reasons=_frame(reasons, REASON_COLUMNS),
        pieces=None,  # not used by the report
        rings=None,
        provenance=provenance,
        layers=zoning.load_catalog(),
        rule_set=rule_set,
    )


# --------------------------------------------------------------------------------------------
# HTML inspection helpers.


class Page(HTMLParser):
    """Collects tags, attributes, text and the text of elements by id."""

    VOID = frozenset(
        {"meta", "br", "img", "input", "link", "hr", "col", "area", "base", "wbr", "source"}
    )

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.by_id: dict[str, list[str]] = {}
        self._open: list[tuple[str, str | None]] = []
        self.title = ""
        self._in_title = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "title":
            self._in_title = True
        if tag not in self.VOID:
            self._open.append((tag, attrs.get("id")))
            if attrs.get("id"):
                self.by_id[attrs["id"]] = []

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        for k in range(len(self._open) - 1, -1, -1):
            if self._open[k][0] == tag:
                del self._open[k:]
                break

    def handle_data(self, data):
        self.text.append(data)
        if self._in_title:
            self.title += data
        for _, el_id in self._open:
            if el_id:
                self.by_id[el_id].append(data)

    def element_text(self, el_id: str) -> str:
        return " ".join(" ".join(self.by_id[el_id]).split())

    @property
    def all_text(self) -> str:
        return "".join(self.text)

    def names(self) -> set[str]:
        return {t for t, _ in self.tags}


def parse(path: Path) -> Page:
    return Page(path.read_text(encoding="utf-8"))


def site_pages(report: Path) -> list[Path]:
    return sorted((report / "sites").glob("*.html"))


def page_for(report: Path, site_id: str) -> Path:
    """The page of one site, found through the index's link (as a reader would)."""
    index = parse(report / "index.html")
    rows = [a for t, a in index.tags if t == "a" and a.get("href", "").startswith("sites/")]
    for href in (a["href"] for a in rows):
        page = report / href
        if parse(page).element_text("site-title").startswith(site_id):
            return page
    raise AssertionError(f"no page for {site_id!r}")


@pytest.fixture(scope="module")
def fake_result():
    return make_result()


@pytest.fixture(scope="module")
def report(fake_result, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("out")
    index = write_report(fake_result, out)
    assert index == out / "report" / "index.html"
    return out / "report"


# --------------------------------------------------------------------------------------------
# Structure and links.


def test_pages_written(report, fake_result):
    assert (report / "index.html").is_file()
    pages = site_pages(report)
    assert len(pages) == len(fake_result.sites)
    for p in pages:
        assert re.fullmatch(r"[a-z0-9-]+\.html", p.name), p.name
    # nothing escaped the report directory
    out = report.parent
    assert sorted(x.name for x in out.iterdir()) == ["report"]
    assert {x.name for x in report.iterdir()} == {"index.html", "sites"}


def test_links_resolve_and_nothing_external(report):
    n_links = 0
    for page in [report / "index.html", *site_pages(report)]:
        doc = parse(page)
        for tag, attrs in doc.tags:
            for key in ("href", "src", "action", "srcset", "data", "poster"):
                value = attrs.get(key)
                if value is None:
                    continue
                # links, and a site page's map figure (sites/<page>.png beside it)
                assert key == "href" or (tag, key, attrs.get("id")) == (
                    "img",
                    "src",
                    "site-figure",
                ), (
                    page.name,
                    tag,
                    key,
                    value,
                )
                assert not re.match(r"^[a-z][a-z0-9+.-]*:|^//", value, re.I), value
                target = (page.parent / value.split("#")[0]).resolve()
                assert target.is_file(), (page.name, value)
                assert report.resolve() in target.parents or target.parent == report.resolve()
                n_links += 1
        assert "link" not in doc.names()  # no stylesheets or fonts from elsewhere
    assert n_links >= 2 * 8  # index -> each site, each site -> index


def test_index_links_every_site_once(report, fake_result):
    index = parse(report / "index.html")
    hrefs = [a["href"] for t, a in index.tags if t == "a"]
    assert len(hrefs) == len(set(hrefs)) == len(fake_result.sites)
    for sid in fake_result.sites["site_id"]:
        page_for(report, sid)  # each id reaches its own page


# --------------------------------------------------------------------------------------------
# Escaping.


HOSTILE = [SCRIPT, IMG, TEMPLATE_LIT, QUOTES, TRAVERSAL]


def test_hostile_strings_are_text_never_tags(report):
    for page in [report / "index.html", *site_pages(report)]:
        html = page.read_text(encoding="utf-8")
        doc = Page(html)
        assert not {"script", "iframe", "object", "embed", "svg", "b"} & doc.names(), page
        for tag, attrs in doc.tags:
            assert not any(k.startswith("on") for k in attrs), (page.name, tag, attrs)
            if tag == "img":  # only the site's own map figure, never an image from the data
                assert attrs.get("id") == "site-figure", (page.name, attrs)
                assert attrs["src"] == page.name.removesuffix(".html") + ".png", attrs
        assert "<script" not in html.lower()
        assert html.lower().count("<img") == html.count('<img id="site-figure"') <= 1
    index = parse(report / "index.html").all_text
    for s in HOSTILE:
        assert s in index, s  # shown to the reader, as text
    html = (report / "index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_hostile_site_page(report):
    page = page_for(report, SCRIPT)
    doc = parse(page)
    assert doc.element_text("site-title").startswith(SCRIPT)
    assert SCRIPT in doc.title
    # the hostile message and name are shown as text
    assert IMG in doc.all_text
    page = page_for(report, IMG)
    doc = parse(page)
    assert TEMPLATE_LIT in doc.all_text and QUOTES in doc.all_text


def test_page_names_safe_and_unique():
    ids = ["a/b", "a-b", "A-B", "../x", "..", "", "<script>", "黄浦", "黄埔", "con", "x" * 500]
    names = [page_name(i) for i in ids]
    assert len(set(names)) == len(ids)
    for n in names:
        assert re.fullmatch(r"[a-z0-9-]{1,60}", n), n
    assert page_name("a/b").startswith("a-b-")
    assert page_name("黄浦").startswith("site-")
    assert page_name("a/b") == page_name("a/b")  # stable across runs


def test_duplicate_site_ids_get_distinct_pages(tmp_path):
    dup = [SITES[0], SITES[0], SITES[5]]
    res = make_result(dup)
    write_report(res, tmp_path)
    assert len(site_pages(tmp_path / "report")) == 3


# --------------------------------------------------------------------------------------------
# Content.


def test_verdict_counts(report, fake_result):
    index = parse(report / "index.html")
    expected = fake_result.sites["verdict"].value_counts()
    for v in ("prohibited", "unknown", "restricted", "conditional", "permitted"):
        text = index.element_text(f"count-{v}")
        assert text.split()[-1] == str(int(expected.get(v, 0))), (v, text)
    assert expected["permitted"] == 4


def test_index_sorted_by_severity(report):
    index = parse(report / "index.html")
    text = index.element_text("site-table")
    pos = [text.index(s) for s in ("CHEM-1", TRAVERSAL, SCRIPT, IMG, "黄浦餐厅")]
    assert pos == sorted(pos)


def test_nan_shown_as_dash(report):
    doc = parse(page_for(report, TRAVERSAL))
    assert not re.search(r"\bnan\b", doc.all_text, re.I)
    assert "—" in doc.element_text("constraint-table")
    index = (report / "index.html").read_text(encoding="utf-8")
    assert not re.search(r"\bnan\b", index, re.I)


def test_number_formatting():
    assert fmt_area(5000) == "5,000 m²"
    assert fmt_area(123456) == "123,456 m² (12.35 ha)"
    assert fmt_area(NaN) == fmt_area(None) == fmt_area(pd.NA) == "—"
    assert fmt_share(0.4938) == "49.4 %"
    assert fmt_share(0.00001) == "< 0.1 %"
    assert fmt_share(0.99999) == "> 99.9 %"
    assert fmt_share(1.0) == "100.0 %"
    assert fmt_share(np.nan) == "—"
    assert fmt_m(12345.4) == "12,345.4 m"  # to 0.1 m (issue 13 §5)
    assert fmt_m(math.nan) == "—"


def test_site_page_content(report):
    doc = parse(page_for(report, "CHEM-1"))
    text = doc.all_text
    assert "禁止" in doc.element_text("site-title") + text
    table = doc.element_text("constraint-table")
    assert "生态保护红线（演示）" in table and "Ecological protection red line" in table
    assert "123,456 m² (12.35 ha)" in table and "12.35" in table
    assert "49.4 %" in table  # share of site
    assert "< 0.1 %" in table  # share of feature
    reasons = doc.element_text("reason-table")
    assert "自然资发〔2022〕142号" in reasons and "第二条" in reasons
    assert "Development and production construction is prohibited" in reasons
    steps = doc.element_text("next-steps")
    assert "Move the project out of the red line." in steps
    # a prohibited site gets no permit steps: the conditional 环环评 clause is not a step
    assert "环环评" not in steps and "Meet the requirements" not in steps
    assert "The other 1 reason (restricted, conditional or undecided rules)" in steps
    assert "cannot lift the prohibition" in steps
    attrs = doc.element_text("attributes")
    assert "C2614" in attrs and "新建" in attrs and "not declared" in attrs
    assert "derived from the industry code" in attrs


def test_restricted_next_steps(report):
    doc = parse(page_for(report, SCRIPT))
    steps = doc.element_text("next-steps")
    # the rule's own step, once; no generic "unavoidability demonstration" for every restriction
    assert steps.count("Obtain State Council approval.") == 1  # deduplicated
    assert "不可避让" not in steps and "unavoidability" not in steps
    assert "overlap length" in doc.element_text("constraint-table")
    assert "1,250.0 m" in doc.element_text("constraint-table")


def test_unknown_site_explains_status(report):
    doc = parse(page_for(report, TRAVERSAL))
    reasons = doc.element_text("reason-table")
    assert "layer_missing" in reasons and "missing data is not the same as no constraint" in reasons
    assert "needs_attribute" in reasons and "not declared" in reasons
    steps = doc.element_text("next-steps")
    # the layer: missing (the summary says so), with the rule it leaves unchecked
    assert "The Yangtze shoreline layer is missing from the catalog: rule YZ-26 cannot be " in steps
    # the attribute: one "declare" line naming the rule it decides, not the rule's own step
    assert (
        "Declare whether it produces waste water (--wastewater / --no-wastewater, or a "
        "wastewater column in the sites file) to decide rule WS-2 (水污染防治法, 第六十六条)."
    ) in steps
    assert "Declare whether the project discharges waste water." not in steps
    assert "layer missing" in doc.element_text("constraint-table")


def test_boundary_sensitive_warning(report):
    doc = parse(page_for(report, IMG))
    warn = doc.element_text("boundary")
    assert "Ecological protection red line" in warn
    assert "500.0 m" in warn  # the red line's positional tolerance from the catalog
    assert "512.3 m" in warn and "gcj02" in warn and "± 10.0 m" in warn  # to 0.1 m
    assert "boundary-sensitive" in parse(report / "index.html").element_text("site-table")


def test_limits_and_footer(report):
    for page in (report / "index.html", page_for(report, "CHEM-1")):
        doc = parse(page)
        limits = doc.element_text("limits")
        assert "What this result does not tell you" in limits
        assert "not the official ecological protection red line" in limits
        assert "does not replace the environmental impact assessment" in limits
        assert "2023 totals" in limits and "not stated" in limits  # vintages per layer
        assert "demo-shanghai" in limits and "demonstration" in limits
        text = doc.all_text
        assert "cccccccccccc" in text  # rule-set hash, short
        assert "aaaaaaaaaaaa" in text and "a" * 13 not in text  # layer hash, short
        # recorded in UTC, shown in Asia/Shanghai with its offset (issue 13 §5)
        assert "2026-05-01T18:00:00+08:00" in text and "LAEA Shanghai" in text
        assert "gcj02 -> WGS84 (1 site)" in text and "sites.geojson" in text
        assert "x" * 100 not in text  # the working CRS's WKT is not dumped


def test_unnamed_working_crs_shown_as_proj(tmp_path, recwarn):
    res = make_result()
    res.provenance = {
        **res.provenance,
        "working_crs": {"name": "unknown", "wkt": zoning.WORKING_CRS.to_wkt()},
    }
    write_report(res, tmp_path)
    assert "+proj=laea" in parse(tmp_path / "report" / "index.html").all_text
    assert not [w for w in recwarn if "PROJ string" in str(w.message)]


def test_flat_provenance_keys(tmp_path):
    """Other provenance shapes (flat keys, unknown keys) still reach the footer, escaped."""
    res = make_result()
    res.provenance = {
        "version": "9.9",
        "catalog_path": "my/catalog.yml",
        "working_crs": "EPSG:4547",
        "input_crs": ["EPSG:4326", "bd09"],
        "conversions": [],
        "custom_note": SCRIPT,
        "demonstration": False,
    }
    write_report(res, tmp_path)
    doc = parse(tmp_path / "report" / "index.html")
    text = doc.all_text
    assert "9.9" in text and "my/catalog.yml" in text and "EPSG:4547" in text
    assert "EPSG:4326, bd09" in text and "custom_note" in text and SCRIPT in text
    assert "script" not in doc.names()
    assert "demo-banner" not in doc.by_id


@pytest.mark.parametrize("demonstration", [True, False])
def test_demonstration_banner_iff_demonstration(tmp_path, demonstration):
    write_report(make_result(demonstration=demonstration), tmp_path)
    report = tmp_path / "report"
    for page in [report / "index.html", *site_pages(report)]:
        doc = parse(page)
        has = "demo-banner" in doc.by_id
        assert has is demonstration, page
        if has:
            assert "DEMONSTRATION DATA" in doc.element_text("demo-banner")
            first = next(t for t in doc.tags if t[0] not in {"html", "head", "meta", "title"})
            assert first[0] == "style" or first[1].get("id") == "demo-banner"


def test_languages(tmp_path):
    write_report(make_result(), tmp_path / "en", lang="en")
    write_report(make_result(), tmp_path / "zh", lang="zh")
    en = parse(page_for(tmp_path / "en" / "report", "CHEM-1"))
    zh = parse(page_for(tmp_path / "zh" / "report", "CHEM-1"))
    assert "Move the project out" in en.all_text and "将项目移出" not in en.all_text
    assert "将项目移出" in zh.all_text and "Move the project out" not in zh.all_text
    assert ("html", {"lang": "en"}) in en.tags
    with pytest.raises(ValueError, match="lang"):
        write_report(make_result(), tmp_path / "x", lang="fr")
    assert not (tmp_path / "x" / "report").exists()


def test_does_not_mutate_inputs(tmp_path):
    res = make_result()
    before = {k: getattr(res, k).copy() for k in ("sites", "hits", "layer_summary", "reasons")}
    write_report(res, tmp_path)
    console_summary(res)
    for k, frame in before.items():
        pd.testing.assert_frame_equal(getattr(res, k), frame)


# --------------------------------------------------------------------------------------------
# Large inputs.


def test_max_site_pages_cap(tmp_path):
    res = make_result(extra_permitted=40)
    n = len(res.sites)
    write_report(res, tmp_path, max_site_pages=3)
    report = tmp_path / "report"
    pages = site_pages(report)
    assert len(pages) == 3
    titles = [parse(p).element_text("site-title") for p in pages]
    # the three most severe: prohibited, unknown, restricted
    for sid in ("CHEM-1", TRAVERSAL, SCRIPT):
        assert any(t.startswith(sid) for t in titles), sid
    index = parse(report / "index.html")
    note = index.element_text("capped")
    assert f"{n:,}" in note and "3 pages of 4 non-permitted sites" in note
    assert f"Sites not listed below: {n - 3}" in note
    table = index.element_text("site-table")
    assert "P0001" not in table and "有条件" not in table  # permitted/conditional not listed
    assert len([a for t, a in index.tags if t == "a"]) == 3
    # counts still cover every site
    assert index.element_text("count-permitted").split()[-1] == str(4 + 40)


def test_cap_not_applied_when_under_limit(tmp_path):
    res = make_result(extra_permitted=2)
    write_report(res, tmp_path, max_site_pages=len(res.sites))
    assert len(site_pages(tmp_path / "report")) == len(res.sites)
    assert "capped" not in parse(tmp_path / "report" / "index.html").by_id


def test_cap_zero_and_bad_values(tmp_path):
    res = make_result()
    write_report(res, tmp_path, max_site_pages=0)
    assert site_pages(tmp_path / "report") == []
    with pytest.raises(ValueError):
        write_report(res, tmp_path / "b", max_site_pages=-1)


# --------------------------------------------------------------------------------------------
# Atomic write.


def _fail_after(monkeypatch, n_ok: int):
    real = jinja2.Template.render
    calls = {"n": 0}

    def render(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] > n_ok:
            raise RuntimeError("boom")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(jinja2.Template, "render", render)
    return calls


def test_failure_leaves_no_report(tmp_path, monkeypatch):
    calls = _fail_after(monkeypatch, 3)
    with pytest.raises(RuntimeError, match="boom"):
        write_report(make_result(), tmp_path)
    assert calls["n"] == 4
    assert list(tmp_path.iterdir()) == []  # no report, no temporary directory left


def test_failure_keeps_older_report(tmp_path, monkeypatch):
    write_report(make_result(), tmp_path)
    index = tmp_path / "report" / "index.html"
    old = index.read_text(encoding="utf-8")
    old_pages = {p.name for p in site_pages(tmp_path / "report")}
    _fail_after(monkeypatch, 5)
    with pytest.raises(RuntimeError):
        write_report(make_result(demonstration=False), tmp_path)
    assert index.read_text(encoding="utf-8") == old
    assert {p.name for p in site_pages(tmp_path / "report")} == old_pages
    assert sorted(x.name for x in tmp_path.iterdir()) == ["report"]


def test_success_replaces_older_report(tmp_path):
    write_report(make_result(extra_permitted=3), tmp_path)
    (tmp_path / "report" / "stale.txt").write_text("old", encoding="utf-8")
    write_report(make_result(demonstration=False), tmp_path)
    report = tmp_path / "report"
    assert not (report / "stale.txt").exists()
    assert len(site_pages(report)) == len(SITES)
    assert "demo-banner" not in parse(report / "index.html").by_id
    assert sorted(x.name for x in tmp_path.iterdir()) == ["report"]
    assert (report.stat().st_mode & 0o777) != 0o700 or (report.stat().st_mode & 0o077) == 0


# --------------------------------------------------------------------------------------------
# Console summary.


def test_console_summary(fake_result):
    text = console_summary(fake_result)
    lines = text.splitlines()
    assert lines[0].startswith("WARNING: DEMONSTRATION DATA")
    assert "Screened 8 sites" in text and "demo-shanghai 2026.1" in text
    levels = {"prohibited", "unknown", "restricted", "conditional", "permitted"}
    rows = [ln.split() for ln in lines if ln.startswith("  ")]
    counts = {r[0]: r[-1] for r in rows if r[0] in levels and len(r) == 2}
    assert counts == {
        "prohibited": "1",
        "unknown": "1",
        "restricted": "1",
        "conditional": "1",
        "permitted": "4",
    }
    chem = next(ln for ln in lines if "CHEM-1" in ln)
    assert "prohibited" in chem and "[自然资发〔2022〕142号, 第二条]" in chem
    assert "Development and production construction is prohibited" in chem
    # order: most severe first
    order = [next(i for i, ln in enumerate(lines) if s in ln) for s in ("CHEM-1", TRAVERSAL)]
    assert order == sorted(order)
    assert "boundary-sensitive" in text
    assert "黄浦餐厅" not in text  # permitted sites are not listed


def test_console_summary_options():
    res = make_result(demonstration=False)
    text = console_summary(res, max_rows=2)
    assert "DEMONSTRATION" not in text
    assert "… and 2 more (the sites table lists all)" in text
    zh = console_summary(res, lang="zh")
    assert "禁止" in zh and "生态保护红线内禁止" in zh
    # control characters in data never reach the terminal
    evil = list(SITES)
    evil[0] = ("\x1b[31mRED\x1b[0m\nX", *SITES[0][1:])
    out = console_summary(make_result(evil))
    assert "\x1b" not in out and "?[31mRED?[0m X" in out
    with pytest.raises(ValueError):
        console_summary(res, lang="de")


def test_console_summary_all_permitted():
    res = make_result([SITES[5], SITES[6]], demonstration=False)
    text = console_summary(res)
    assert "No site hits a constraint" in text


# --------------------------------------------------------------------------------------------
# A real browser.

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (/usr/bin/chromium)")
def test_browser_renders_without_injection(report, tmp_path):
    def dump(page: Path) -> str:
        proc = subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={tmp_path / 'profile'}",
                "--dump-dom",
                page.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        return proc.stdout

    dom = dump(report / "index.html")
    doc = Page(dom)
    assert "Site screening report" in doc.title
    assert "DEMONSTRATION DATA" in doc.element_text("demo-banner")
    assert SCRIPT in doc.all_text and IMG in doc.all_text
    assert not {"script", "img", "iframe"} & doc.names()

    dom = dump(page_for(report, SCRIPT))
    doc = Page(dom)
    assert doc.title.startswith(SCRIPT)
    assert doc.element_text("site-title").startswith(SCRIPT)
    assert not {"script", "iframe"} & doc.names()
    # the one image of a site page is its own map figure, never one a site name injected
    imgs = [a for t, a in doc.tags if t == "img"]
    assert len(imgs) <= 1 and all(a.get("id") == "site-figure" for a in imgs), imgs
    assert all(a.get("src", "").endswith(".png") and ":" not in a.get("src", "") for a in imgs)
    assert not any(k.startswith("on") for _, a in doc.tags for k in a)


# --------------------------------------------------------------------------------------------
# Ranking of alternatives (zoning compare) and notes.

RANKED = [  # rank, site_id, verdict, constrained_m2, length, nearest_m, decided_by
    (1, "黄浦餐厅", "permitted", 0.0, 0.0, NaN, ""),
    (1, "a/b", "permitted", 0.0, 0.0, NaN, "tie"),
    (3, IMG, "conditional", 0.0, 0.0, 120.0, "verdict"),
    (4, SCRIPT, "restricted", 2500.0, 1250.0, 0.0, "verdict"),
    (5, "CHEM-1", "prohibited", 123456.0, 0.0, 0.0, "verdict"),
]
NOTES = [f"converted from gcj02 {SCRIPT}", f"repaired {IMG}"]


def ranked_result():
    base = make_result()
    ranking = pd.DataFrame(
        [
            {
                "rank": r,
                "site_id": sid,
                "name": QUOTES if sid == "a/b" else None,
                "verdict": v,
                "constrained_m2": a,
                "constrained_length_m": ln,
                "nearest_m": near,
                "decided_by": d,
                "n_constraints": 0,
                "boundary_sensitive": sid == IMG,
                "reasons_en": "",
                "reasons_zh": "",
            }
            for r, sid, v, a, ln, near, d in RANKED
        ]
    )
    return SimpleNamespace(**vars(base), ranking=ranking, notes=NOTES)


def test_ranking_section_in_rank_order(tmp_path):
    write_report(ranked_result(), tmp_path, lang="en")
    report = tmp_path / "report"
    html = (report / "index.html").read_text("utf-8")
    doc = Page(html)
    assert "ranking" in doc.by_id and "ranking-table" in doc.by_id
    # rows as ranked (not re-sorted by severity), each linking its own alternative's page
    rows = re.findall(r"<tr><td class=\"num\">(\d+)</td>\s*<td class=\"id\"><a href=\"([^\"]+)\">",
                      html.split('id="ranking-table"')[1].split("</table>")[0])  # fmt: skip
    assert [r for r, _ in rows] == ["1", "1", "3", "4", "5"]
    for (_, href), (_, sid, *_) in zip(rows, RANKED, strict=True):
        assert parse(report / href).element_text("site-title").startswith(sid)
    text = doc.element_text("ranking")
    assert "constrained area" in text and "tie" in text and "best" in text
    assert "123,456 m² (12.35 ha)" in text and "1,250.0 m" in text and "120.0 m" in text
    # hostile ids and names are text
    assert SCRIPT in text and IMG in text and QUOTES in text
    assert "<script" not in html.lower() and "<img" not in html.lower()


def test_no_ranking_section_for_a_screening(report):
    doc = parse(report / "index.html")
    assert "ranking" not in doc.by_id


def test_notes_section_escaped(tmp_path):
    write_report(ranked_result(), tmp_path)
    doc = parse(tmp_path / "report" / "index.html")
    assert "converted from gcj02" in doc.element_text("notes")
    assert SCRIPT in doc.element_text("notes")
    assert "script" not in doc.names() and "img" not in doc.names()


def test_console_summary_ranking_and_notes():
    text = console_summary(ranked_result(), lang="en")
    part = text.split("Ranking of alternatives")[1]
    lines = part.splitlines()[1:]
    header = lines[0].split()
    assert header[:3] == ["rank", "alternative", "verdict"]
    ids = [ln.split()[1] for ln in lines[1:6]]
    assert ids == ["黄浦餐厅", "a/b", IMG.split()[0], "<script>alert(1)</script>", "CHEM-1"]
    assert "constrained area" not in lines[5] and lines[4].rstrip().endswith("verdict")
    assert "Notes:" in text and f"converted from gcj02 {SCRIPT}" in text
    # CJK ids take two columns: the verdict column lines up
    col = [_display_col(ln, ln.split()[2 if ln.split()[1] != "<img" else 3]) for ln in lines[1:3]]
    assert col[0] == col[1]


def _display_col(line: str, word: str) -> int:
    import unicodedata

    prefix = line[: line.index(word)]
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in prefix)


# --------------------------------------------------------------------------------------------
# Real screenings of the demonstration catalog: the text a reviewer reads.

RULES_YML = Path(zoning.__file__).resolve().parent.parent / "layers" / "rules" / "shanghai_demo.yml"
CATALOG_YML = Path(zoning.__file__).resolve().parent.parent / "layers" / "catalog.yml"
ALL_FLAGS = {"linear": False, "wastewater": False, "air": False, "hazardous": False}


@pytest.fixture(scope="module")
def rules_yml() -> dict:
    """The shipped rule set read with plain YAML (the oracle for names and next steps)."""
    import yaml

    data = yaml.safe_load(RULES_YML.read_text(encoding="utf-8"))
    steps = {}
    for r in data["rules"] + [r for lst in data.get("lists", []) for r in lst.get("rules", [])]:
        if r.get("next_step"):
            steps[r["id"]] = " ".join(r["next_step"]["en"].split())
    return {"documents": data["documents"], "steps": steps}


@pytest.fixture(scope="module")
def demo_report(demo_layers, tmp_path_factory) -> tuple:
    from zoning.examples import PROJECTS

    res = zoning.screen(PROJECTS, demo_layers, id_field="id")
    out = tmp_path_factory.mktemp("demo")
    write_report(res, out)
    return res, out / "report"


def _steps(doc: Page) -> str:
    return " ".join(doc.element_text("next-steps").split())


@pytest.mark.slow
def test_real_citations_name_documents_not_ids(demo_report, rules_yml):
    _, report = demo_report
    docs = rules_yml["documents"]
    doc = parse(page_for(report, "yangtze-chemical"))
    reasons = doc.element_text("reason-table")
    assert f"{docs['ycpl_2020']['short']}, 第二十六条" in reasons
    assert docs["ycpl_2020"]["title"] in reasons and docs["ycpl_2020"]["title_en"] in reasons
    for page in [report / "index.html", *site_pages(report)]:
        text = parse(page).all_text
        for doc_id in docs:
            assert doc_id not in text, (page.name, doc_id)


@pytest.mark.slow
def test_real_prohibited_site_lists_no_permit_steps(demo_report, rules_yml):
    _, report = demo_report
    steps = _steps(parse(page_for(report, "yangtze-chemical")))
    assert rules_yml["steps"]["yangtze.chemical"] in steps
    # the conditional clauses of its control unit (discharge permit, risk plan, park plan EIA)
    for rule_id in ("key.emissions", "key.risk", "park.in_park"):
        assert rules_yml["steps"][rule_id] not in steps, rule_id
    assert "The other 4 reasons" in steps and "cannot lift the prohibition" in steps


@pytest.mark.slow
def test_real_restricted_steps_come_from_the_deciding_rules(demo_report, rules_yml):
    _, report = demo_report
    # (since rule set 2026.12 the cement grinding station is prohibited: 建材 outside a park)
    cases = {
        "outside-boundary-parts-plant": "development_boundary.outside",
        "reserve-experimental-powerline": "nature_reserve.general_control_linear",
        "qcs-raw-water-pipeline": "red_line.linear",
    }
    for site_id, rule_id in cases.items():
        steps = _steps(parse(page_for(report, site_id)))
        assert rules_yml["steps"][rule_id] in steps, site_id
    # the development boundary does not call for an unavoidability demonstration
    for site_id in ("outside-boundary-parts-plant",):
        steps = _steps(parse(page_for(report, site_id)))
        assert "unavoidability" not in steps and "不可避让" not in steps, site_id


@pytest.mark.slow
def test_real_restaurant_page(demo_report, rules_yml):
    res, report = demo_report
    doc = parse(page_for(report, "huangpu-restaurant"))
    # since rule set 2026.12: catering with fumes in a residential building is prohibited
    # (大气污染防治法 art. 81(2)); key.emissions cites 上海市环境保护条例 art. 28
    reasons = doc.element_text("reason-table")
    assert "大气污染防治法, 第八十一条第二款" in reasons
    assert "上海市环境保护条例, 第二十八条第二款" in reasons
    # the prohibiting rule's step, not the conditions of a project that cannot be built here
    steps = _steps(doc)
    assert rules_yml["steps"]["air.catering_residential"] in steps
    assert rules_yml["steps"]["key.emissions"] not in steps
    assert "cannot lift the prohibition" in steps
    limits = doc.element_text("limits")
    # every attribute the example declares; the facts of issue 12 §3 may not be declared yet
    from zoning.labels import ATTRIBUTE_LABELS

    if "Every attribute was declared for this site." not in limits:
        flat = re.sub(r"\s+([:;.,])", r"\1", " ".join(limits.split()))
        listed = flat.split("Not declared for this site:")[1].split(".")[0]
        new = ("discharge", "key_project", "red_line_activity", "facility")
        new += ("residential_building", "noise")
        rec = res.sites.set_index("site_id").loc["huangpu-restaurant"]
        for a, (_zh, en, _how) in ATTRIBUTE_LABELS.items():
            assert (en in listed) == (a in new and pd.isna(rec[a])), a
    assert "EIA category" in limits and "sensitive receptors" in limits
    assert "River-crossing and flood-control permits are not assessed" in limits
    assert "Sea use is not assessed" in limits and "海域使用管理法" in limits
    assert "holds the main stream and one tributary, the 黄浦江" in limits
    assert "coverage-not-checked" not in doc.by_id  # districts and sea area loaded
    assert "Data vintage" in limits and "2023 totals" in limits
    radius = fmt_m(res.provenance["search_radius_m"])
    assert f"search radius: {radius}." in " ".join(limits.split())


@pytest.mark.slow
def test_real_kunshan_page_lists_every_layer_as_outside_coverage(demo_report):

    from oracles import demo_catalog

    res, report = demo_report
    # The layers in force today (the 2017 reserve zoning ended on 2026-03-14).
    layer_ids = [x["id"] for x in demo_catalog()["layers"]]
    doc = parse(page_for(report, "outside-coverage-kunshan"))
    table = doc.element_text("constraint-table")
    for lid in layer_ids:
        assert lid in table, lid
    assert table.count("site outside the layer's coverage") == len(layer_ids)
    cov = " ".join(doc.element_text("coverage").split())
    assert "wholly or partly outside the area the layers cover" in cov
    assert "this verdict is incomplete" in cov and "cannot make the verdict" not in cov
    steps = _steps(doc)
    assert steps.count("outside the area these layers cover") == 1  # one line, not one per layer
    # the index and the console say why it is unknown, not one rule's message
    row = parse(report / "index.html").element_text("site-table")
    assert "undecided: outside the coverage of basic_farmland" in row
    line = next(ln for ln in console_summary(res).splitlines() if "kunshan" in ln)
    assert "undecided: outside the coverage of basic_farmland, control_units" in line


def test_real_undeclared_attributes_one_line_each(demo_layers, tmp_path, rules_yml):
    """A site in the level-2 zone of 陈行/罗泾 with waste water and air not declared."""
    from zoning.examples import PROJECTS

    g = gpd.read_file(PROJECTS)
    site = g.loc[g["id"] == "source-level2-food-plant", ["id", "geometry"]]
    # since rule set 2026.12 the outfall and level-2 rules read where the waste water goes
    # (discharge), and facility and residential_building decide other rules: declared here
    attrs = {
        "industry": "H6210",
        "nature": "new",
        "linear": False,
        "hazardous": False,
        "facility": "none",
        "residential_building": False,
    }
    res = zoning.screen(site, demo_layers, attributes=attrs, id_field="id")
    assert res.sites["verdict"].tolist() == ["unknown"]
    write_report(res, tmp_path)
    doc = parse(page_for(tmp_path / "report", "source-level2-food-plant"))
    steps = _steps(doc)
    # waste water (the sewered level-2 rule), where it goes, air
    assert steps.count("Declare ") == 3
    assert "Declare whether it produces waste water" in steps
    assert (
        "Declare where its waste water goes (none, sewer, direct) (--discharge "
        "none|sewer|direct, or a discharge column in the sites file) to decide rule "
        "water_source.outfall (水污染防治法, 第六十四条), water_source.level2 (水污染防治法, "
        "第六十六条第一款)"
    ) in steps
    assert (
        "Declare whether it emits air pollutants (--air / --no-air, or a air column in the "
        "sites file) to decide rule water_source.level2 (水污染防治法, 第六十六条第一款)"
    ) in steps
    # the undecided rules' own steps are not offered as if they applied
    for rule_id in ("water_source.outfall", "water_source.level2", "water_source.level2_sewer"):
        assert rules_yml["steps"][rule_id] not in steps, rule_id
    # the rules that do apply keep theirs
    assert rules_yml["steps"]["development_boundary.outside"] in steps
    limits = re.sub(r"\s+([:;.,])", r"\1", " ".join(doc.element_text("limits").split()))
    # waste water and air, and the facts of issue 12 §3 (discharge ... noise), in label order
    from zoning.labels import ATTRIBUTE_LABELS

    later = ("key_project", "red_line_activity", "noise")
    assert (
        "本场址未申报 Not declared for this site: 是否产生废水 whether it produces waste water; "
        f"{' '.join(ATTRIBUTE_LABELS['discharge'][:2])}; "
        "是否排放大气污染物 whether it emits air pollutants; "
        + "; ".join(" ".join(ATTRIBUTE_LABELS[a][:2]) for a in later) + "."
        in limits
    )
    line = next(ln for ln in console_summary(res).splitlines() if "food-plant" in ln)
    # each undecided rule as a condition, with what was not declared (issue 13 §5)
    assert (
        "undecided: water_source.outfall applies if the project discharges its waste water: "
        "direct or has a facility: outfall (not declared: discharge)" in line
    )


def test_real_prohibited_site_partly_outside_coverage(demo_layers, tmp_path):
    """A square across the Shanghai-Jiangsu border in 淀山湖 (red line on the Shanghai side)."""
    x, y = 120.97019894336547, 31.13579452875606  # on the coverage edge, inside RL015
    site = gpd.GeoDataFrame(
        {"site_id": ["dianshan-edge"]},
        geometry=[box(x - 0.002, y - 0.002, x + 0.002, y + 0.002)],
        crs="EPSG:4326",
    )
    res = zoning.screen(site, demo_layers, attributes={"industry": "C3973", "nature": "new"})
    assert res.sites["verdict"].tolist() == ["prohibited"]
    write_report(res, tmp_path)
    doc = parse(page_for(tmp_path / "report", "dianshan-edge"))
    cov = " ".join(doc.element_text("coverage").split())
    assert "The part outside was not screened" in cov
    assert "cannot make the verdict less severe" in cov and "incomplete" not in cov
    table = doc.element_text("constraint-table")
    assert "overlaps (site partly outside the coverage)" in table
    # the measured half is shown, not blanked
    share = res.layer_summary.set_index("layer_id").loc["red_line", "share_of_site"]
    assert fmt_share(share) in table and 0.3 < share < 0.7


def _catalog_without(tmp_path: Path, *, drop: set[str], broken: set[str]) -> Path:
    import yaml

    data = yaml.safe_load(CATALOG_YML.read_text("utf-8"))
    layers = []
    for entry in data["layers"]:
        if entry["id"] in drop:
            continue
        src = CATALOG_YML.parent / entry["source"]
        entry["source"] = str(tmp_path / "gone.gpkg") if entry["id"] in broken else str(src)
        layers.append(entry)
    data["layers"] = layers
    path = tmp_path / "catalog.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.slow
def test_real_no_coverage_layer_and_a_failed_layer(tmp_path):
    cat = _catalog_without(
        tmp_path, drop={"districts", "sea_area"}, broken={"nature_reserves_2026"}
    )
    site = gpd.GeoDataFrame(
        {"site_id": ["jiading-plant"]},
        geometry=[box(121.25, 31.35, 121.252, 31.352)],
        crs="EPSG:4326",
    )
    attrs = {"industry": "C3489", "nature": "new", **ALL_FLAGS, "wastewater": True}
    res = zoning.screen(site, cat, attributes=attrs, on_layer_error="unknown")
    write_report(res, tmp_path / "out")
    report = tmp_path / "out" / "report"
    for page in (report / "index.html", page_for(report, "jiading-plant")):
        warn = " ".join(parse(page).element_text("coverage-not-checked").split())
        assert "Coverage NOT checked" in warn and "does not mean it was checked" in warn
    text = console_summary(res)
    assert "WARNING: Coverage NOT checked" in text
    assert res.sites["verdict"].tolist() == ["unknown"]
    steps = _steps(parse(page_for(report, "jiading-plant")))
    assert "The Nature reserves, 2026 zoning (demonstration) layer failed to load: rule " in steps
    # the rules in force today: the 2026 reserve regulation's (and the marine outfall floor)
    assert "nature_reserve.core_protection" in steps
    assert "nature_reserve.core_buffer" not in steps  # the 2017 rules ended on 2026-03-14
    line = next(ln for ln in text.splitlines() if "jiading-plant" in ln)
    assert "layer nature_reserves_2026 failed to load (rule marine.outfall_reserve" in line


def test_touches_is_labelled(tmp_path):
    res = make_result()
    touch = {c: None for c in HITS_COLUMNS}
    touch.update(
        site=0,
        site_id="CHEM-1",
        layer_id="basic_farmland",
        kind="basic_farmland",
        feature_id="BF-9",
        relation="touches",
        overlap_m2=0.0,
        distance_m=0.0,
        boundary_sensitive=True,
        name="奉贤基本农田",
    )
    res.hits = pd.concat([res.hits, pd.DataFrame([touch])], ignore_index=True)
    write_report(res, tmp_path)
    table = parse(page_for(tmp_path / "report", "CHEM-1")).element_text("constraint-table")
    assert "相接（未占用） touches (not occupied)" in " ".join(table.split())


# --------------------------------------------------------------------------------------------
# Sites at set distances from the demonstration Yangtze shoreline (a reviewer's repro): a short
# distance search, the rule-distance band, layers no rule reads, the radius-0 limits line.

SHORE_SITES = {  # placed by their distance to the shoreline (d1010: 1,010 m)
    "d800": (121.46826811930917, 31.425562422307824),
    "d990": (121.46709977015949, 31.424172198890204),
    "d1010": (121.4669767880438, 31.424025858945917),
    "d1190": (121.46586996619011, 31.422708793986004),
    "d1210": (121.46574698789382, 31.422562452828114),
    "d3010": (121.45468050483233, 31.40939125180357),
}


def _shore_sites() -> gpd.GeoDataFrame:
    from shapely.geometry import Point

    return gpd.GeoDataFrame(
        {"site_id": list(SHORE_SITES)},
        geometry=[Point(xy) for xy in SHORE_SITES.values()],
        crs="EPSG:4326",
    )


def _shoreline_entry() -> dict:
    import yaml

    layers = yaml.safe_load(CATALOG_YML.read_text("utf-8"))["layers"]
    return next(x for x in layers if x["kind"] == "shoreline")


def _metres_to_shoreline(lon: float, lat: float) -> float:
    """Oracle: the shoreline file read by geopandas, projected to an azimuthal equidistant CRS
    centred on the point (distances from the centre are true), plain shapely distance."""
    from shapely.geometry import Point

    entry = _shoreline_entry()
    line = gpd.read_file(CATALOG_YML.parent / entry["source"], layer=entry.get("layer"))
    aeqd = f"+proj=aeqd +lat_0={lat} +lon_0={lon} +ellps=WGS84 +units=m"
    return float(line.to_crs(aeqd).distance(Point(0, 0)).min())


@pytest.fixture(scope="module")
def shore_reports(demo_layers, tmp_path_factory) -> dict:
    # facility declared: since rule set 2026.12 the shoreline also carries the 3 km
    # tailings-pond band, which a chemical plant without such a facility cannot trigger
    attrs = {"industry": "C2614", "nature": "new", "facility": "none"}
    # The shoreline mechanics are tested without the chemical-park clause: since rule set
    # 2026.12 a chemical plant outside a recognised chemical park is prohibited whatever the
    # shoreline band says (city.chemical_park_only), which would hide what is tested here.
    import yaml

    data = yaml.safe_load(RULES_YML.read_text(encoding="utf-8"))
    city = next(lst for lst in data["lists"] if lst["id"] == "city")
    city["rules"] = [r for r in city["rules"] if r["id"] != "city.chemical_park_only"]
    folder = tmp_path_factory.mktemp("shore_rules")
    shutil.copytree(RULES_YML.parent / "texts", folder / "texts")
    rules = folder / "rules.yml"
    rules.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    out = {}
    for radius in (0, None):
        res = zoning.screen(
            _shore_sites(), demo_layers, rules=rules, attributes=attrs, search_radius_m=radius
        )
        path = tmp_path_factory.mktemp(f"shore{radius}")
        write_report(res, path)
        out[radius] = (res, path / "report")
    return out


@pytest.mark.slow
def test_real_short_search_is_not_a_missing_layer(shore_reports):
    res, report = shore_reports[0]
    assert set(res.sites["verdict"]) == {"unknown"}
    expect = (
        "layer shoreline searched only to 0 m (rule yangtze.chemical); re-run without "
        "--search-radius or with at least 1,000.0 m"  # metres to 0.1 m
    )
    row = " ".join(parse(report / "index.html").element_text("site-table").split())
    console = console_summary(res, max_rows=50)
    for sid in ("d990", "d1010", "d3010"):
        line = next(ln for ln in console.splitlines() if ln.split()[:1] == [sid])
        assert "searched only to 0 m (rule yangtze.chemical)" in line, line
        assert "missing" not in line, line
        doc = parse(page_for(report, sid))
        steps = _steps(doc)
        assert (
            "The Yangtze shoreline layer was searched only to 0 m "
            "(rule yangtze.chemical), which cannot be checked: re-run without --search-radius "
            "or with at least 1,000.0 m." in steps
        ), steps
        assert "missing from the catalog" not in steps and "repair the layer" not in steps
        reasons = " ".join(doc.element_text("reason-table").split())
        assert "distance search stopped short" in reasons
        assert "missing from the catalog" not in reasons
    assert row.count(expect) == len(SHORE_SITES)
    assert "layer shoreline missing" not in row


@pytest.mark.slow
def test_real_radius_zero_limits_say_no_distance_search(shore_reports):
    for radius, text in ((0, "No distance search was run"), (None, "outermost ring")):
        _, report = shore_reports[radius]
        for page in (report / "index.html", page_for(report, "d1010")):
            limits = " ".join(parse(page).element_text("limits").split())
            assert text in limits, (radius, page.name)
        if radius == 0:
            assert "outermost ring" not in limits
            assert "within-distance rules" in limits and "are undecided" in limits


@pytest.mark.slow
def test_real_shoreline_band_warning_names_the_rule_distance(shore_reports):
    res, report = shore_reports[None]
    tol = _shoreline_entry()["positional_tolerance_m"]
    assert tol == 200
    flags = dict(zip(res.sites["site_id"], res.sites["boundary_sensitive"], strict=True))
    verdicts = dict(zip(res.sites["site_id"], res.sites["verdict"], strict=True))
    for sid, (lon, lat) in SHORE_SITES.items():
        d = _metres_to_shoreline(lon, lat)
        doc = parse(page_for(report, sid))
        text = " ".join(doc.element_text("boundary").split()) if "boundary" in doc.by_id else ""
        # metres to 0.1 m; only the rules that could apply to this project (a chemical plant
        # without a tailings pond: not yangtze.tailings_tributary), issue 13 §5
        band = (
            f"{d:,.1f} m from the Yangtze main-stream and tributary shoreline (schematic): "
            "within the layer's 200.0 m tolerance of rule yangtze.chemical (prohibited)'s "
            "1,000.0 m threshold — the rule may apply (or not) with the authoritative line"
        )
        if abs(abs(d - 1000) - tol) < 1:  # d800: on the band's edge, either answer is right
            continue
        in_band = abs(d - 1000) <= tol
        assert (band in text) == in_band, (sid, d, text)
        if in_band:  # the near miss (1,010 m, 1,190 m: not prohibited) is shown too
            assert flags[sid], sid
        # the shoreline is not "within tolerance of its boundary" 1 km away
        assert "boundary of: Yangtze" not in text, sid
    assert verdicts["d1010"] != "prohibited" and verdicts["d990"] == "prohibited"


@pytest.mark.slow
def test_real_boundary_warnings_only_for_layers_a_rule_reads(shore_reports):
    res, report = shore_reports[None]
    flags = dict(zip(res.sites["site_id"], res.sites["boundary_sensitive"], strict=True))
    water = res.hits[(res.hits["kind"] == "water") & res.hits["boundary_sensitive"].astype(bool)]
    # since rule set 2026.12 the water layer is read by a rule (长江保护法 art. 49, solid waste
    # in river management areas): its boundary near d800 and over d3010 is geometrically
    # flagged on the hits; but that rule applies only to a waste store or slag yard, and these
    # chemical plants declare no facility, so the sites are not flagged for it (issue 13 §5)
    assert {"d800", "d3010"} <= set(water["site_id"])
    assert flags["d800"] and not flags["d3010"]
    text = " ".join(parse(page_for(report, "d800")).element_text("boundary").split())
    assert "Environmental control units" in text and "Rivers and lakes" not in text
    assert "boundary" not in parse(page_for(report, "d3010")).by_id
    # a layer no rule reads (the districts) is never named
    doc = parse(page_for(report, "d1210"))
    assert "boundary" not in doc.by_id  # no warning where sites.csv says not sensitive
    for sid in SHORE_SITES:
        doc = parse(page_for(report, sid))
        if "boundary" in doc.by_id:
            assert "districts" not in doc.element_text("boundary"), sid
