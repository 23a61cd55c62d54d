"""Areas measured by the toolkit agree with geodesic areas (pyproj.Geod) within 0.01 %."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from shapely.geometry import Polygon, box

from zoning.catalog import DEFAULT_CATALOG, LayerEntry
from zoning.io import read_layer
from zoning.layerset import load_catalog

GEOD = pyproj.Geod(ellps="WGS84")
REL = 1e-4  # 0.01 %
DEMO_GPKG = DEFAULT_CATALOG.parent / "shanghai_demo.gpkg"


def geodesic_m2(geom) -> float:
    """Geodesic area of a lon/lat geometry whose edges are straight in lon/lat."""
    return abs(GEOD.geometry_area_perimeter(shapely.segmentize(geom, 0.0005))[0])


def star(lon, lat, radius_deg, n=37):
    ang = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = radius_deg * (0.6 + 0.4 * np.cos(5 * ang) ** 2)
    return Polygon(np.column_stack([lon + r * np.cos(ang), lat + r * np.sin(ang) * 0.85]))


CASES = {
    "small (0.0005° square, ~2500 m²)": box(121.4737, 31.2304, 121.4742, 31.2309),
    "medium star near Sheshan": star(121.19, 31.10, 0.02),
    "large star over Chongming": star(121.6, 31.6, 0.3),
    "city-sized box with long edges": box(120.9, 30.7, 122.2, 31.9),
}


@pytest.mark.parametrize("name", list(CASES))
def test_single_polygon_area_matches_geodesic(tmp_path, name):
    geom = CASES[name]
    path = tmp_path / "one.gpkg"
    gpd.GeoDataFrame({"i": [1]}, geometry=[geom], crs=4326).to_file(path)
    gdf, _ = read_layer(LayerEntry(id="x", kind="red_line", source=str(path)))
    assert gdf.geometry.area.iloc[0] == pytest.approx(geodesic_m2(geom), rel=REL)


def test_demo_districts_match_geodesic():
    layer = load_catalog()["districts"]
    raw = gpd.read_file(DEMO_GPKG, layer="districts")
    for geom, ours in zip(raw.geometry, layer.gdf.geometry.area, strict=True):
        assert ours == pytest.approx(geodesic_m2(geom), rel=REL)


def test_demo_red_line_total_matches_geodesic():
    ours_km2 = load_catalog()["red_line"].area_km2()
    raw = gpd.read_file(DEMO_GPKG, layer="red_line")
    oracle_km2 = sum(geodesic_m2(g) for g in raw.geometry) / 1e6  # features are disjoint
    assert ours_km2 == pytest.approx(oracle_km2, rel=REL)
    assert oracle_km2 == pytest.approx(2527.30, abs=0.05)
