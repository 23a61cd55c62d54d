"""The hand-made layer worlds the tests screen against, written to real files.

Builders only (no fixtures, no tests): ``tests/conftest.py`` turns them into fixtures, and a
test module that needs a variant calls the builder itself.

* the screening world (:func:`make_world`): one district and one box per constraint layer,
  five site boxes (one per verdict of :data:`RULES`), and the geodesic oracles for them;
* the hostile catalogs (:func:`hostile_catalog`, :func:`hostile_site_catalog`): titles, names,
  categories and provenance that carry script payloads (:data:`HOSTILE`), and a column that
  must never be published (:data:`SECRET`).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import pyproj
import shapely
import yaml
from shapely.geometry import LineString, box

from conftest import write_catalog

GEOD = pyproj.Geod(ellps="WGS84")
#: The engine agrees with geodesic values within 0.01 % (README, tests/test_geodesic.py).
REL = 1e-4

# ---------------------------------------------------------------------------------------------
# The world: one district, one feature per constraint layer (EPSG:4326 boxes).
DISTRICT = box(121.00, 31.00, 121.20, 31.10)
RED = box(121.02, 31.02, 121.04, 31.04)
FARM = box(121.08, 31.02, 121.10, 31.04)
WATER = box(121.14, 31.02, 121.16, 31.04)
RESERVE = box(121.02, 31.06, 121.04, 31.08)

# Five sites, one per verdict of the test rule set (RULES below):
SITE_P = box(121.035, 31.025, 121.045, 31.035)  # half in the red line -> prohibited
SITE_R = box(121.095, 31.025, 121.105, 31.035)  # half in farmland -> restricted
SITE_C = box(121.163, 31.025, 121.173, 31.035)  # 0.003 deg east of the water zone -> conditional
SITE_U = box(121.035, 31.065, 121.045, 31.075)  # in the reserve, wastewater undeclared -> unknown
SITE_OK = box(121.11, 31.08, 121.12, 31.09)  # nothing within 1 km -> permitted
SITES = {"P": SITE_P, "R": SITE_R, "C": SITE_C, "U": SITE_U, "OK": SITE_OK}
EXPECTED = {
    "P": "prohibited",
    "R": "restricted",
    "C": "conditional",
    "U": "unknown",
    "OK": "permitted",
}

RULES = {
    "id": "test_rules",
    "version": "1.0",
    "title": "Hand-made rules for the tests",
    "status": "authoritative",
    "documents": {"law": {"title": "测试法", "issuer": "测试机关", "date": "2020-01-01"}},
    "rules": [
        {
            "id": "red.construction",
            "applies_to": {"kind": "red_line"},
            "unless": {"linear": True},
            "dimension": "空间布局约束",
            "verdict": "prohibited",
            "citation": {"document": "law", "article": "第一条"},
            "message": {"zh": "红线内禁止建设", "en": "No construction in the red line"},
            "next_step": {"zh": "另行选址", "en": "Re-site the project"},
        },
        {
            "id": "red.linear",
            "applies_to": {"kind": "red_line"},
            "when": {"linear": True},
            "dimension": "空间布局约束",
            "verdict": "restricted",
            "citation": {"document": "law", "article": "第二条"},
            "message": {"zh": "线性工程须论证不可避让", "en": "Linear works: prove unavoidable"},
        },
        {
            "id": "farm.occupy",
            "applies_to": {"kind": "basic_farmland"},
            "dimension": "空间布局约束",
            "verdict": "restricted",
            "citation": {"document": "law", "article": "第三条"},
            "message": {"zh": "占用基本农田须审批", "en": "Occupying farmland needs approval"},
        },
        {
            "id": "water.near",
            "applies_to": {"kind": "water_source_zone", "relation": "within", "distance_m": 500},
            "dimension": "污染物排放管控",
            "verdict": "conditional",
            "citation": {"document": "law", "article": "第四条"},
            "message": {"zh": "水源地附近须防渗", "en": "Near a water source: seal the ground"},
        },
        {
            "id": "reserve.polluting",
            "applies_to": {"kind": "nature_reserve"},
            "when": {"wastewater": True},
            "dimension": "空间布局约束",
            "verdict": "prohibited",
            "citation": {"document": "law", "article": "第五条"},
            "message": {"zh": "保护区内禁止排污", "en": "No discharge in a reserve"},
        },
    ],
}


def layer_file(folder: Path, stem: str, geoms, **cols) -> str:
    path = folder / f"{stem}.gpkg"
    data = {"fid_": [f"{stem}{i + 1}" for i in range(len(geoms))], **cols}
    gpd.GeoDataFrame(data, geometry=list(geoms), crs=4326).to_file(path)
    return path.name


def make_world(folder: Path, *, status: str | None = None, drop: tuple[str, ...] = ()):
    """Write the layers, a catalog and the rule set into ``folder``; return their paths.

    ``status`` sets every layer's provenance status (e.g. ``demonstration``); ``drop`` leaves
    layer ids out of the catalog.
    """
    folder.mkdir(parents=True, exist_ok=True)
    prov = {"status": status} if status else None
    layers = [
        {"id": "districts", "kind": "district", "source": layer_file(folder, "D", [DISTRICT])},
        {
            "id": "red",
            "kind": "red_line",
            "source": layer_file(folder, "R", [RED], nm=["红线一号"]),
            "fields": {"id": "fid_", "name": "nm"},
            "positional_tolerance_m": 50,
        },
        {"id": "farm", "kind": "basic_farmland", "source": layer_file(folder, "F", [FARM])},
        {
            "id": "wsz",
            "kind": "water_source_zone",
            "source": layer_file(folder, "W", [WATER], lvl=["level2"]),
            "fields": {"level": "lvl"},
        },
        {
            "id": "reserve",
            "kind": "nature_reserve",
            "source": layer_file(folder, "N", [RESERVE]),
        },
    ]
    for entry in layers:
        entry["provenance"] = {
            **(prov or {"status": "authoritative"}),
            "source": f"hand-made test layer {entry['source']}",
            "vintage": "2024",
        }
    layers = [e for e in layers if e["id"] not in drop]
    catalog = write_catalog(folder / "catalog.yml", layers, version="t1", title="test world")
    rules = folder / "rules.yml"
    rules.write_text(yaml.safe_dump(RULES, allow_unicode=True, sort_keys=False), "utf-8")
    return SimpleNamespace(folder=folder, catalog=catalog, rules=rules)


def geod_area(geom) -> float:
    """Geodesic area (m²) of a lon/lat polygon whose edges are straight in lon/lat."""
    return abs(GEOD.geometry_area_perimeter(shapely.segmentize(geom, 0.0005))[0])


def geod_dist(lon1, lat1, lon2, lat2) -> float:
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


# ---------------------------------------------------------------------------------------------
# The hostile catalogs.

#: Strings that break out of each context if escaping is wrong.
HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "${alert(1)}",
    "`${alert(1)}` back`tick",
    '"double\' single"><svg onload=alert(1)>',
    "</script><script>alert(1)</script>",
    "line\u2028sep\u2029para",
    "{{ 7*7 }}{% if 1 %}jinja{% endif %}",
]
SECRET = "SECRET-COLUMN-VALUE-8d1f"


def hostile_catalog(tmp_path: Path, *, status: str = "demonstration") -> Path:
    """A catalog whose titles, names and categories are hostile strings, with a secret column."""
    polys = [box(121.40 + 0.02 * i, 31.20, 121.41 + 0.02 * i, 31.21) for i in range(len(HOSTILE))]
    red = gpd.GeoDataFrame(
        {
            "rid": [f"R{i}" for i in range(len(HOSTILE))],
            "name": HOSTILE,
            "cat": HOSTILE[:4] + HOSTILE[:4],
            "secret": [SECRET] * len(HOSTILE),
        },
        geometry=polys,
        crs=4326,
    )
    district = gpd.GeoDataFrame(
        {"did": ["D1"], "name": ["<b>区</b>" + HOSTILE[0]], "secret": [SECRET]},
        geometry=[box(121.35, 31.15, 121.60, 31.30)],
        crs=4326,
    )
    gpkg = tmp_path / "hostile.gpkg"
    red.to_file(gpkg, layer="red")
    district.to_file(gpkg, layer="district")
    prov = {"status": status, "source": "test fixture " + HOSTILE[1]}
    return write_catalog(
        tmp_path / "hostile.yml",
        [
            {
                "id": "red",
                "kind": "red_line",
                "source": "hostile.gpkg",
                "layer": "red",
                "title_zh": "红线" + HOSTILE[5],
                "title_en": "Red line " + HOSTILE[2],
                "fields": {"id": "rid", "name": "name", "category": "cat"},
                "provenance": prov,
            },
            {
                "id": "district",
                "kind": "district",
                "source": "hostile.gpkg",
                "layer": "district",
                "title_zh": "区" + HOSTILE[4],
                "fields": {"id": "did", "name": "name"},
                "provenance": prov,
            },
        ],
        title="catalog " + HOSTILE[3],
    )


def hostile_site_catalog(tmp: Path, *, status: str = "demonstration") -> Path:
    """A catalog whose titles, names, categories, provenance and file name carry payloads.

    Two districts (both names hostile; one English name hostile), a red line of eight hostile
    features, a water layer and a shoreline; every layer holds a ``secret`` column.
    """
    fname = "<img src=x onerror=alert(1)> ${alert(1)} `x` \"q'.gpkg"
    gpkg = tmp / fname
    gpd.GeoDataFrame(
        {
            "did": ["D1", "D2"],
            "name": ["<b>区</b>" + HOSTILE[0], HOSTILE[5]],
            "name_en": [None, "${alert(1)} `x`"],
            "secret": [SECRET] * 2,
        },
        geometry=[box(121.30, 31.10, 121.45, 31.30), box(121.45, 31.10, 121.60, 31.30)],
        crs=4326,
    ).to_file(gpkg, layer="district")
    gpd.GeoDataFrame(
        {
            "rid": [f"R{i}" for i in range(len(HOSTILE))],
            "name": HOSTILE,
            "cat": HOSTILE[:4] + HOSTILE[:4],
            "secret": [SECRET] * len(HOSTILE),
        },
        geometry=[
            box(121.31 + 0.035 * i, 31.15, 121.33 + 0.035 * i, 31.17) for i in range(len(HOSTILE))
        ],
        crs=4326,
    ).to_file(gpkg, layer="red")
    gpd.GeoDataFrame(
        {"wid": ["W1"], "name": [HOSTILE[7]], "secret": [SECRET]},
        geometry=[box(121.40, 31.22, 121.50, 31.24)],
        crs=4326,
    ).to_file(gpkg, layer="water")
    gpd.GeoDataFrame(
        {"sid": ["S1"], "name": [HOSTILE[3]], "secret": [SECRET]},
        geometry=[LineString([(121.35, 31.28), (121.58, 31.28)])],
        crs=4326,
    ).to_file(gpkg, layer="shore")
    prov = {
        "status": status,
        "source": "fixture " + HOSTILE[1],
        "vintage": HOSTILE[2],
        "licence": HOSTILE[4],
        "note": HOSTILE[7],
        "url": "javascript:alert(1)",
    }
    return write_catalog(
        tmp / "hostile.yml",
        [
            {
                "id": "district",
                "kind": "district",
                "source": fname,
                "layer": "district",
                "title_zh": "区" + HOSTILE[4],
                "title_en": "Districts " + HOSTILE[3],
                "fields": {"id": "did", "name": "name", "name_en": "name_en"},
                "provenance": prov,
            },
            {
                "id": "red",
                "kind": "red_line",
                "source": fname,
                "layer": "red",
                "title_zh": "红线" + HOSTILE[5],
                "title_en": "Red line " + HOSTILE[2],
                "fields": {"id": "rid", "name": "name", "category": "cat"},
                "provenance": prov,
            },
            {
                "id": "water",
                "kind": "water",
                "source": fname,
                "layer": "water",
                "title_zh": "水" + HOSTILE[7],
                "title_en": "Water " + HOSTILE[0],
                "fields": {"id": "wid", "name": "name"},
                "provenance": prov,
            },
            {
                "id": "shore",
                "kind": "shoreline",
                "source": fname,
                "layer": "shore",
                "fields": {"id": "sid", "name": "name"},
                "provenance": prov,
            },
        ],
        title="catalog " + HOSTILE[3],
        note="note " + HOSTILE[0],
    )
