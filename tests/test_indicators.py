"""Indicators against independently computed values (pyproj.Geod, hand-made layers)."""

from __future__ import annotations

import subprocess
import sys

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from shapely.geometry import LineString, Point, box

from conftest import write_catalog
from zoning.catalog import DEFAULT_CATALOG
from zoning.layerset import load_catalog
from zoning.seeds import load_targets
from zoning.targets.indicators import UnknownDistrictError, compare, indicators

GEOD = pyproj.Geod(ellps="WGS84")
GPKG = DEFAULT_CATALOG.parent / "shanghai_demo.gpkg"


def geodesic_km2(geom) -> float:
    return abs(GEOD.geometry_area_perimeter(shapely.segmentize(geom, 0.0005))[0]) / 1e6


@pytest.fixture(scope="module")
def demo_indicators():
    return indicators()


def value(df, indicator, district=None, target_id=None):
    sel = df[(df.indicator == indicator)]
    sel = sel[sel.district.isna()] if district is None else sel[sel.district == district]
    if target_id is not None:
        sel = sel[sel.target_id == target_id]
    assert len(sel) >= 1, (indicator, district)
    return sel.iloc[0]


def test_red_line_land_and_sea(demo_indicators):
    assert value(demo_indicators, "red_line_area_land")["value"] == pytest.approx(130.05, abs=0.05)
    assert value(demo_indicators, "red_line_area_sea")["value"] == pytest.approx(2397.25, abs=0.05)
    row = value(demo_indicators, "red_line_area")
    assert row["value"] == pytest.approx(2527.30, abs=0.05) and row["status"] == "met"
    # independent: geodesic areas of the stored lon/lat features, per realm
    raw = gpd.read_file(GPKG, layer="red_line")
    land = sum(geodesic_km2(g) for g in raw[raw.realm == "land"].geometry)
    assert value(demo_indicators, "red_line_area_land")["value"] == pytest.approx(land, rel=1e-4)


def test_district_water_ratio_matches_geodesic(demo_indicators):
    raw_d = gpd.read_file(GPKG, layer="districts")
    water = shapely.union_all(gpd.read_file(GPKG, layer="water").geometry.to_numpy())
    for name in ("金山区", "青浦区", "黄浦区"):
        d = raw_d[raw_d.name_zh == name].geometry.iloc[0]
        expected = 100 * geodesic_km2(shapely.intersection(water, d)) / geodesic_km2(d)
        assert value(demo_indicators, "water_surface_ratio", name)["value"] == pytest.approx(
            expected, rel=1e-3
        )


def test_farmland_in_mu(demo_indicators):
    row = value(demo_indicators, "permanent_basic_farmland_area")
    km2 = sum(geodesic_km2(g) for g in gpd.read_file(GPKG, layer="basic_farmland").geometry)
    assert row["unit"] == "mu" and row["value"] == pytest.approx(km2 * 1500, rel=1e-4)
    assert row["status"] == "met"  # 150万亩 within the 0.05 km² measurement tolerance


def test_every_target_appears_with_a_status(demo_indicators):
    targets = load_targets()
    for t in targets.targets:
        rows = demo_indicators[demo_indicators.target_id == t.id]
        assert len(rows) == 1, t.id
        r = rows.iloc[0]
        assert r["status"] in ("met", "not met", "not measurable with these layers")
        assert (r["district"] == t.district) if t.scope == "district" else r["scope"] == "city"


def test_every_share_names_its_denominator(demo_indicators):
    shares = demo_indicators[(demo_indicators.unit == "percent") & demo_indicators.value.notna()]
    assert len(shares) > 20
    assert shares["denominator"].notna().all()


def test_unit_composition(demo_indicators):
    assert value(demo_indicators, "control_units_count_priority")["value"] == 44
    total = sum(
        value(demo_indicators, f"control_units_count_{c}")["value"]
        for c in ("priority", "key", "general")
    )
    assert total == 293
    units = gpd.read_file(GPKG, layer="control_units")
    areas = units.geometry.map(geodesic_km2)
    expected = 100 * areas[units.category == "priority"].sum() / areas.sum()
    assert value(demo_indicators, "control_units_area_share_priority")["value"] == pytest.approx(
        expected, rel=1e-3
    )


@pytest.mark.slow
def test_unknown_district():
    with pytest.raises(UnknownDistrictError, match="unknown district 'Atlantis'"):
        indicators(district="Atlantis")
    by_en = indicators(district="Jinshan")
    assert set(by_en["district"]) == {"金山区"}


@pytest.mark.parametrize(
    ("v", "op", "t", "unit", "ok"),
    [
        (10.0, "~", 10.5, "percent", True),
        (9.9, "~", 10.5, "percent", False),
        (999.97, ">=", 1000.0, "km2", True),
        (999.9, ">=", 1000.0, "km2", False),
        (13.0, ">", 13.0, "m2_per_person", False),
        (3200.04, "<=", 3200, "km2", True),
    ],
)
def test_compare(v, op, t, unit, ok):
    assert compare(v, op, t, unit) is ok


# ----------------------------------------------------------------------------- synthetic layers

DIST = box(121.0, 31.0, 121.1, 31.1)
FOREST = box(121.0, 31.0, 121.02, 31.1)
PARK = box(121.04, 31.04, 121.05, 31.06)
POP_DISTANCES = [100.0, 350.0, 450.0, 600.0]
POP_WEIGHTS = [10, 20, 30, 40]


def _file(tmp_path, name, geoms, **cols):
    path = tmp_path / f"{name}.gpkg"
    gpd.GeoDataFrame(cols, geometry=geoms, crs=4326).to_file(path)
    return path.name


@pytest.fixture
def green_catalog(tmp_path):
    pts = [
        Point(*GEOD.fwd(121.05, 31.05, 90, d)[:2]) for d in POP_DISTANCES
    ]  # due east of the park
    natural = LineString([(121.0, 31.0), (121.03, 31.0)])
    built = LineString([(121.03, 31.0), (121.04, 31.0)])
    layers = [
        {
            "id": "d",
            "kind": "district",
            "source": _file(tmp_path, "d", [DIST], nm=["<b>测试区</b>"], pop=[250000]),
            "fields": {"name": "nm", "population": "pop"},
        },
        {"id": "forest", "kind": "forest", "source": _file(tmp_path, "f", [FOREST], i=[1])},
        {"id": "park", "kind": "park", "source": _file(tmp_path, "p", [PARK], i=[1])},
        {
            "id": "pop",
            "kind": "population",
            "source": _file(tmp_path, "pp", pts, n=POP_WEIGHTS),
            "fields": {"population": "n"},
        },
        {
            "id": "coast",
            "kind": "coastline",
            "source": _file(tmp_path, "c", [natural, built], t=["natural", "artificial"]),
            "fields": {"category": "t"},
        },
        {"id": "green", "kind": "greenway", "source": _file(tmp_path, "g", [natural], i=[1])},
    ]
    return load_catalog(write_catalog(tmp_path / "c.yml", layers))


def test_green_indicators_against_hand_values(green_catalog):
    df = indicators(green_catalog)

    def city(key):
        return value(df, key)

    forest = 100 * geodesic_km2(FOREST) / geodesic_km2(DIST)
    assert city("forest_cover")["value"] == pytest.approx(forest, rel=1e-4)
    per_capita = geodesic_km2(PARK) * 1e6 / 250000
    assert city("park_green_space_per_capita")["value"] == pytest.approx(per_capita, rel=1e-4)
    # 10 + 20 of 100 residents live within 400 m of the park
    assert city("open_space_5min_walk_coverage")["value"] == pytest.approx(30.0)
    assert "400 m straight-line" in city("open_space_5min_walk_coverage")["note"]
    natural_km = GEOD.line_length([121.0, 121.03], [31.0, 31.0]) / 1000
    built_km = GEOD.line_length([121.03, 121.04], [31.0, 31.0]) / 1000
    assert city("natural_coastline_ratio")["value"] == pytest.approx(
        100 * natural_km / (natural_km + built_km), rel=1e-4
    )
    assert city("backbone_greenway_length")["value"] == pytest.approx(natural_km, rel=1e-4)
    assert city("park_count")["value"] == 1
    assert not df.attrs["demonstration"]


@pytest.mark.slow
def test_dashboard_escapes_and_labels(green_catalog, tmp_path):
    from zoning.dashboard import render_dashboard

    html = render_dashboard(indicators(green_catalog), green_catalog)
    assert "<b>测试区</b>" not in html and "&lt;b&gt;测试区&lt;/b&gt;" in html
    assert "DEMONSTRATION" not in html  # not demonstration data
    demo_html = render_dashboard(indicators(district="金山区"), load_catalog())
    assert "DEMONSTRATION DATA" in demo_html and "data:image/png;base64," in demo_html


@pytest.mark.slow
def test_cli_formats_and_errors(tmp_path):
    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "zoning", "indicators", *args],
            capture_output=True,
            text=True,
            timeout=300,
        )

    res = run("--district", "金山区", "--format", "json")
    assert res.returncode == 0, res.stderr
    assert '"demonstration_data": true' in res.stdout
    res = run("--district", "Atlantis")
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1
    assert "Traceback" not in res.stderr
    res = run("--format", "html")
    assert res.returncode == 2 and "--out" in res.stderr
    out = tmp_path / "dash" / "ind.html"
    res = run("--format", "html", "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert "DEMONSTRATION DATA" in out.read_text("utf-8")
    # no temp leftovers; the marker recording the page as zoning's own (--out FILE replaces
    # only files zoning wrote) is the one hidden file
    hidden = [p.name for p in out.parent.iterdir() if p.name.startswith(".")]
    assert hidden == [".zoning-outputs.json"]


def test_indicator_frame_is_tidy(demo_indicators):
    assert np.isin(
        demo_indicators["status"],
        ["met", "not met", "not measurable with these layers", "no target"],
    ).all()


def test_red_line_shares_name_their_basis(demo_indicators):
    official = value(demo_indicators, "red_line_share_of_official_land_area")
    assert official["value"] == pytest.approx(100 * 130.05 / 6340.5, abs=0.01)  # ≈ 2.05 %
    assert "6340.5" in official["denominator"]
    land = value(demo_indicators, "red_line_share_of_land")
    districts_km2 = sum(geodesic_km2(g) for g in gpd.read_file(GPKG, layer="districts").geometry)
    assert land["value"] == pytest.approx(100 * 130.05 / districts_km2, rel=1e-3)
    # Pudong's red line is all estuary (realm = sea): none of it counts as land
    assert value(demo_indicators, "red_line_share_of_land", "浦东新区")["value"] == pytest.approx(
        0, abs=1e-6
    )
    sea = value(demo_indicators, "red_line_share_of_sea")
    assert "not in this share" in sea["note"]


def test_chinese_category_and_realm_values(tmp_path):
    d2 = box(121.1, 31.0, 121.2, 31.1)
    layers = [
        {
            "id": "d",
            "kind": "district",
            "source": _file(tmp_path, "d", [DIST, d2], nm=["甲区", "甲区"]),
            "fields": {"name": "nm"},
        },
        {
            "id": "rl",
            "kind": "red_line",
            "source": _file(tmp_path, "r", [FOREST, PARK], rz=["陆域", "海域"]),
            "fields": {"realm": "rz"},
        },
        {
            "id": "u",
            "kind": "control_unit",
            "source": _file(tmp_path, "u", [DIST, d2], c=["优先保护单元", "一般管控单元"]),
            "fields": {"category": "c"},
        },
    ]
    df = indicators(load_catalog(write_catalog(tmp_path / "c.yml", layers)))
    assert value(df, "red_line_area_land")["value"] == pytest.approx(geodesic_km2(FOREST), rel=1e-4)
    assert value(df, "red_line_area_sea")["value"] == pytest.approx(geodesic_km2(PARK), rel=1e-4)
    assert value(df, "control_units_count_priority")["value"] == 1
    assert value(df, "control_units_count_general")["value"] == 1
    # the two rows named 甲区 form one district, whose area is both polygons
    rows = df[(df.district == "甲区") & (df.indicator == "control_units_count_priority")]
    assert len(rows) == 1 and rows["value"].iloc[0] == 1
    # district targets of districts this catalog lacks still appear, as not measurable
    for t in load_targets().targets:
        assert (df.target_id == t.id).sum() == 1, t.id


def test_unknown_category_value_is_an_error(tmp_path):
    from zoning.errors import LayerDataError

    layers = [
        {
            "id": "u",
            "kind": "control_unit",
            "source": _file(tmp_path, "u", [DIST], c=["red"]),
            "fields": {"category": "c"},
        }
    ]
    with pytest.raises(LayerDataError, match="unknown value"):
        indicators(load_catalog(write_catalog(tmp_path / "c.yml", layers)))


def test_population_text_is_an_error(tmp_path):
    from zoning.errors import LayerDataError

    layers = [
        {
            "id": "d",
            "kind": "district",
            "source": _file(tmp_path, "d", [DIST], p=["1,000"]),
            "fields": {"population": "p"},
        }
    ]
    with pytest.raises(LayerDataError, match="'1,000' is not a number"):
        indicators(load_catalog(write_catalog(tmp_path / "c.yml", layers)))


def test_dashboard_with_math_like_names(tmp_path):
    from zoning.dashboard import render_dashboard

    layers = [
        {
            "id": "d",
            "kind": "district",
            "source": _file(tmp_path, "d", [DIST], e=["$\\\\foo{x}$"]),
            "fields": {"name_en": "e"},
        },
        {"id": "w", "kind": "water", "source": _file(tmp_path, "w", [PARK], i=[1])},
    ]
    ls = load_catalog(write_catalog(tmp_path / "c.yml", layers))
    html = render_dashboard(indicators(ls), ls)
    assert "data:image/png;base64," in html
