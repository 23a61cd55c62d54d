"""The overlay engine (zoning.overlay) against independent oracles.

Fixtures are drawn by hand in lon/lat around Shanghai and written to real GeoPackages behind a
real catalog; sites go through ``zoning.sites.load_sites``.  Expected values never come from the
engine: overlap areas and lengths are geodesic (``pyproj.Geod`` on the GRS80 = CGCS2000
ellipsoid) of intersections computed by hand, distances are ``Geod.inv`` to a vertex the
construction makes the nearest point, and the point pre-screen is compared with plain
``shapely.intersects`` on the unsubdivided features of the demonstration layers.
"""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap

import geopandas as gpd
import numpy as np
import pandas as pd
import prcoords
import pyproj
import pytest
import shapely
from shapely.geometry import (
    LineString,
    MultiLineString,
    MultiPoint,
    MultiPolygon,
    Point,
    Polygon,
    box,
)

import zoning
from conftest import write_catalog
from geometries import COVER, GEOMETRIES
from zoning.crs import WORKING_CRS
from zoning.errors import SitesError
from zoning.grid import PointGrid
from zoning.layerset import load_catalog
from zoning.overlay import (
    CHUNK_SEGMENTS,
    MAX_PIECE_VERTICES,
    LayerIndex,
    LayerInput,
    boundary_chunks,
    overlay,
    subdivide,
)
from zoning.sites import GCJ02_UNCERTAINTY_M, load_sites

GEOD = pyproj.Geod(ellps="GRS80")  # the CGCS2000 ellipsoid (and the working CRS's)
TO_WORK = pyproj.Transformer.from_crs(4326, WORKING_CRS, always_xy=True)
REL = 1e-4  # 0.01 %

# ----------------------------------------------------------------------------- hand-made layers
# Red line: A, B, C overlap (C inside A; A ∩ B ∩ C = T), H has a hole.
A = box(121.40, 31.20, 121.42, 31.22)
B = box(121.41, 31.21, 121.43, 31.23)
C = box(121.405, 31.205, 121.415, 31.215)
T = box(121.41, 31.21, 121.415, 31.215)  # A ∩ B ∩ C, by hand
A_AND_B = box(121.41, 31.21, 121.42, 31.22)  # by hand
HOLE = box(121.455, 31.205, 121.465, 31.215)
H = Polygon(box(121.45, 31.20, 121.47, 31.22).exterior.coords, [HOLE.exterior.coords])
RED_TOL = 50.0
# Two districts side by side and the sea east of them: the coverage.
D1 = box(121.30, 31.10, 121.45, 31.40)
D2 = box(121.45, 31.10, 121.60, 31.40)
SEA = box(121.60, 31.10, 121.80, 31.40)
# A shoreline (line layer, rings 1000 / 3000 m) and three population points.
SHORE = LineString([(121.50, 31.30), (121.55, 31.35)])
POP = [Point(121.52, 31.12), Point(121.53, 31.13), Point(121.58, 31.38)]


def dense(geom):
    """The file's edges are straight in lon/lat: densify before any geodesic measurement."""
    return shapely.segmentize(geom, 0.0001)


def g_area(geom) -> float:
    return abs(GEOD.geometry_area_perimeter(dense(geom))[0])


def g_length(geom) -> float:
    return GEOD.geometry_length(dense(geom))


def g_dist(p, q) -> float:
    return GEOD.inv(p[0], p[1], q[0], q[1])[2]


def fwd(lon, lat, az, dist) -> tuple[float, float]:
    x, y, _ = GEOD.fwd(lon, lat, az, dist)
    return float(x), float(y)


def to_work(geom):
    """A lon/lat geometry in the working CRS (vertices only: for geometries placed exactly)."""
    return shapely.transform(geom, lambda c: np.column_stack(TO_WORK.transform(c[:, 0], c[:, 1])))


def gpkg(path, geoms, ids, **cols):
    gpd.GeoDataFrame({"code": ids, **cols}, geometry=geoms, crs=4326).to_file(path)
    return path.name


@pytest.fixture(scope="module")
def hand(tmp_path_factory):
    """The hand-made catalog: districts, sea, red line (A, B, C, H), shoreline, population."""
    d = tmp_path_factory.mktemp("hand")
    layers = [
        {
            "id": "districts",
            "kind": "district",
            "source": gpkg(d / "d.gpkg", [D1, D2], ["D1", "D2"]),
            "fields": {"id": "code"},
        },
        {
            "id": "sea",
            "kind": "sea_area",
            "source": gpkg(d / "s.gpkg", [SEA], ["SEA"]),
            "fields": {"id": "code"},
        },
        {
            "id": "red",
            "kind": "red_line",
            "source": gpkg(
                d / "r.gpkg", [A, B, C, H], list("ABCH"), name=["甲", "乙", "丙", "有洞"]
            ),
            "fields": {"id": "code", "name": "name"},
            "positional_tolerance_m": RED_TOL,
        },
        {
            "id": "shore",
            "kind": "shoreline",
            "source": gpkg(d / "l.gpkg", [SHORE], ["S1"]),
            "fields": {"id": "code"},
            "positional_tolerance_m": 200,
            "buffer_rings_m": [1000, 3000],
        },
        {
            "id": "pop",
            "kind": "population",
            "source": gpkg(d / "p.gpkg", POP, ["P1", "P2", "P3"]),
            "fields": {"id": "code"},
        },
    ]
    return load_catalog(write_catalog(d / "catalog.yml", layers))


def inputs(ls, ids=None) -> list[LayerInput]:
    return [
        LayerInput(L.id, L.kind, L.index, L.attributes) for L in ls if ids is None or L.id in ids
    ]


def run(ls, geoms, *, ids=None, layers=None, crs="EPSG:4326", **kw):
    """Load lon/lat sites through zoning.sites and overlay them with the catalog's layers."""
    sites = load_sites(list(geoms), crs=crs)
    gdf = sites.gdf
    site_ids = ids if ids is not None else [f"s{i}" for i in range(len(gdf))]
    kw.setdefault("uncertainty_m", gdf["uncertainty_m"].to_numpy())
    return overlay(gdf.geometry.to_numpy(), site_ids, inputs(ls, layers), **kw)


def row(hits: pd.DataFrame, site: int, layer: str, feature: str) -> pd.Series:
    sel = hits[
        (hits["site"] == site) & (hits["layer_id"] == layer) & (hits["feature_id"] == feature)
    ]
    assert len(sel) == 1, (site, layer, feature, len(sel))
    return sel.iloc[0]


def summary(res, site: int, layer: str) -> pd.Series:
    s = res.layer_summary
    sel = s[(s["site"] == site) & (s["layer_id"] == layer)]
    assert len(sel) == 1
    return sel.iloc[0]


# ----------------------------------------------------------------------------- polygon overlaps


def test_polygon_overlaps_against_geodesic_areas(hand):
    site = box(121.415, 31.215, 121.425, 31.225)
    res = run(hand, [site])
    site_area = g_area(site)
    in_a = box(121.415, 31.215, 121.42, 31.22)  # site ∩ A, by hand
    a = row(res.hits, 0, "red", "A")
    assert a["relation"] == "intersects"
    assert a["overlap_m2"] == pytest.approx(g_area(in_a), rel=REL)
    assert a["overlap_ha"] == pytest.approx(g_area(in_a) / 1e4, rel=REL)
    assert a["share_of_site"] == pytest.approx(g_area(in_a) / site_area, rel=REL)
    assert a["share_of_feature"] == pytest.approx(g_area(in_a) / g_area(A), rel=REL)
    assert a["name"] == "甲" and a["distance_m"] == 0 and a["ring_m"] == 100
    b = row(res.hits, 0, "red", "B")  # the site lies inside B
    assert b["overlap_m2"] == pytest.approx(site_area, rel=REL)
    assert b["share_of_site"] == pytest.approx(1.0, rel=REL)
    assert b["share_of_feature"] == pytest.approx(site_area / g_area(B), rel=REL)
    # C touches the site at one corner: closed sets intersect, with nothing shared: the site
    # does not occupy C ("touches", distance 0), and the result is boundary-sensitive.
    c = row(res.hits, 0, "red", "C")
    assert c["relation"] == "touches" and c["distance_m"] == 0
    assert np.isnan(c["overlap_m2"]) and np.isnan(c["share_of_site"])
    assert c["boundary_distance_m"] == 0 and c["boundary_sensitive"]
    # H is 2.7 km east: not within the 1000 m search radius.
    assert not ((res.hits["site"] == 0) & (res.hits["feature_id"] == "H")).any()
    s = summary(res, 0, "red")
    assert s["status"] == "ok" and s["hit"]
    assert s["overlap_m2"] == pytest.approx(site_area, rel=REL)  # A ∪ B ∪ C covers the site
    assert s["share_of_site"] == pytest.approx(1.0, rel=REL)
    assert s["nearest_feature_id"] == "A" and s["distance_m"] == 0


@pytest.mark.parametrize("pieces", [True, False])
def test_overlapping_features_count_once(hand, pieces):
    # A site holding A, B and C whole: per feature each is shared entirely; the layer's overlap
    # is the union, by hand area(A) + area(B) - area(A ∩ B) (C lies inside A).
    big = box(121.395, 31.195, 121.435, 31.235)
    res = run(hand, [big, T], pieces=pieces)
    union = g_area(A) + g_area(B) - g_area(A_AND_B)
    for fid, geom in (("A", A), ("B", B), ("C", C)):
        r = row(res.hits, 0, "red", fid)
        assert r["overlap_m2"] == pytest.approx(g_area(geom), rel=REL)
        assert r["share_of_feature"] == pytest.approx(1.0, rel=REL)
    s = summary(res, 0, "red")
    assert s["overlap_m2"] == pytest.approx(union, rel=REL)
    assert s["share_of_site"] == pytest.approx(union / g_area(big), rel=REL)
    # The site holds A whole: A's outline is 0.005° of longitude from the site's, nearest at
    # A's north-west corner; no shift within the 50 m tolerance changes anything.
    a = row(res.hits, 0, "red", "A")
    gap = g_dist((121.40, 31.22), (121.395, 31.22))
    assert a["boundary_distance_m"] == pytest.approx(gap, rel=REL)
    assert not s["boundary_sensitive"]
    hits = res.hits[(res.hits["site"] == 0) & (res.hits["relation"] == "intersects")]
    assert hits["overlap_m2"].sum() > 1.2 * union  # the per-feature rows do overlap
    # The triple overlap T itself: three features, each covering all of it; counted once.
    s = summary(res, 1, "red")
    assert s["overlap_m2"] == pytest.approx(g_area(T), rel=REL)
    assert s["share_of_site"] == pytest.approx(1.0, rel=REL) and s["share_of_site"] <= 1.0
    for fid in "ABC":
        assert row(res.hits, 1, "red", fid)["share_of_site"] == pytest.approx(1.0, rel=REL)
    red_pieces = res.pieces[res.pieces["layer_id"] == "red"]
    assert len(red_pieces) == (6 if pieces else 0)  # (2 sites x A, B, C) drawn only on request


def test_polygon_site_with_a_hole(hand):
    site = Polygon(A.exterior.coords, [C.exterior.coords])  # A with C cut out
    res = run(hand, [site])
    ring_area = g_area(A) - g_area(C)
    a = row(res.hits, 0, "red", "A")
    assert a["overlap_m2"] == pytest.approx(ring_area, rel=REL)
    assert a["share_of_site"] == pytest.approx(1.0, rel=REL)
    assert a["share_of_feature"] == pytest.approx(ring_area / g_area(A), rel=REL)
    # B ∩ site = (A ∩ B) minus T.
    b = row(res.hits, 0, "red", "B")
    assert b["overlap_m2"] == pytest.approx(g_area(A_AND_B) - g_area(T), rel=REL)
    # C fills the hole: it touches the site along the hole's ring only.
    c = row(res.hits, 0, "red", "C")
    assert c["relation"] == "touches" and c["distance_m"] == 0 and c["boundary_sensitive"]
    s = summary(res, 0, "red")
    assert s["overlap_m2"] == pytest.approx(ring_area, rel=REL)
    assert s["share_of_site"] == pytest.approx(1.0, rel=REL)


def test_multipolygon_site(hand):
    inside = box(121.401, 31.201, 121.404, 31.204)  # in A only
    outside = box(121.35, 31.15, 121.36, 31.16)  # in district D1, far from the red line
    res = run(hand, [MultiPolygon([inside, outside])])
    share = g_area(inside) / (g_area(inside) + g_area(outside))
    a = row(res.hits, 0, "red", "A")
    assert a["overlap_m2"] == pytest.approx(g_area(inside), rel=REL)
    assert a["share_of_site"] == pytest.approx(share, rel=REL)
    assert summary(res, 0, "red")["share_of_site"] == pytest.approx(share, rel=REL)
    assert summary(res, 0, "districts")["share_of_site"] == pytest.approx(1.0, rel=1e-9)
    assert summary(res, 0, "red")["status"] == "ok"


# ----------------------------------------------------------------------------- lines


def test_pipeline_overlap_lengths(hand):
    lat = 31.2125  # crosses A, B and C, and no feature edge runs along it
    pipe = LineString([(121.39, lat), (121.44, lat)])
    res = run(hand, [pipe])
    whole = g_length(pipe)
    clipped = {  # by hand
        "A": LineString([(121.40, lat), (121.42, lat)]),
        "B": LineString([(121.41, lat), (121.43, lat)]),
        "C": LineString([(121.405, lat), (121.415, lat)]),
    }
    for fid, seg in clipped.items():
        r = row(res.hits, 0, "red", fid)
        assert r["overlap_length_m"] == pytest.approx(g_length(seg), rel=REL)
        assert r["share_of_site"] == pytest.approx(g_length(seg) / whole, rel=REL)
        assert math.isnan(r["overlap_m2"]) and math.isnan(r["share_of_feature"])
        assert r["boundary_distance_m"] == 0 and r["boundary_sensitive"]
    s = summary(res, 0, "red")
    union = g_length(LineString([(121.40, lat), (121.43, lat)]))
    assert s["overlap_length_m"] == pytest.approx(union, rel=REL)
    assert s["share_of_site"] == pytest.approx(union / whole, rel=REL)
    assert math.isnan(s["overlap_m2"])
    pieces = res.pieces[res.pieces["layer_id"] == "red"]
    assert set(pieces.geom_type) == {"MultiLineString"}
    assert pieces.length.to_numpy() == pytest.approx(pieces["overlap_length_m"].to_numpy())


def test_line_along_a_feature_edge_counts_once(hand):
    # The pipe runs along C's southern edge (inside A): the overlaps with A and with C are the
    # same stretch computed twice (their vertices differ by rounding): the summary counts it once.
    lat = 31.205
    pipe = LineString([(121.39, lat), (121.44, lat)])
    res = run(hand, [pipe])
    in_a = g_length(LineString([(121.40, lat), (121.42, lat)]))
    assert row(res.hits, 0, "red", "A")["overlap_length_m"] == pytest.approx(in_a, rel=REL)
    assert summary(res, 0, "red")["overlap_length_m"] == pytest.approx(in_a, rel=REL)


def test_multilinestring_site(hand):
    west, east = (121.395, 121.425)
    lines = [LineString([(west, lat), (east, lat)]) for lat in (31.2025, 31.2175)]
    res = run(hand, [MultiLineString(lines)])
    whole = sum(g_length(x) for x in lines)
    in_a = sum(g_length(LineString([(121.40, y), (121.42, y)])) for y in (31.2025, 31.2175))
    in_b = g_length(LineString([(121.41, 31.2175), (east, 31.2175)]))
    assert row(res.hits, 0, "red", "A")["overlap_length_m"] == pytest.approx(in_a, rel=REL)
    assert row(res.hits, 0, "red", "B")["overlap_length_m"] == pytest.approx(in_b, rel=REL)
    # A ∪ B along the lines: all of A's stretch plus B's part east of A.
    union = in_a + g_length(LineString([(121.42, 31.2175), (east, 31.2175)]))
    s = summary(res, 0, "red")
    assert s["overlap_length_m"] == pytest.approx(union, rel=REL)
    assert s["share_of_site"] == pytest.approx(union / whole, rel=REL)


def test_line_layer_inside_a_polygon_site(hand):
    site = box(121.51, 31.30, 121.535, 31.33)
    res = run(hand, [site], layers={"shore", "districts", "sea"})
    inside = LineString([(121.51, 31.31), (121.53, 31.33)])  # SHORE clipped by hand
    r = row(res.hits, 0, "shore", "S1")
    assert r["overlap_length_m"] == pytest.approx(g_length(inside), rel=REL)
    assert r["share_of_feature"] == pytest.approx(g_length(inside) / g_length(SHORE), rel=REL)
    assert math.isnan(r["share_of_site"]) and math.isnan(r["overlap_m2"])
    assert r["ring_m"] == 1000  # the layer's own rings
    s = summary(res, 0, "shore")
    assert s["hit"] and s["overlap_length_m"] == pytest.approx(g_length(inside), rel=REL)


# ----------------------------------------------------------------------------- points


def test_points_containing_features(hand):
    corner_a = to_work(Point(121.40, 31.20))  # a vertex of A in the working CRS: on the boundary
    hole_vertex = to_work(Point(121.455, 31.205))  # a vertex of H's hole ring
    sites = load_sites([Point(121.412, 31.212), Point(121.418, 31.218)], crs=4326).gdf
    geoms = np.r_[sites.geometry.to_numpy(), [corner_a, hole_vertex]]
    res = overlay(geoms, ["triple", "ab", "corner", "hole-vertex"], inputs(hand, {"red"}))
    inter = res.hits[res.hits["relation"] == "intersects"]
    found = {s: set(g["feature_id"]) for s, g in inter.groupby("site")}
    assert found == {0: {"A", "B", "C"}, 1: {"A", "B"}, 2: {"A"}, 3: {"H"}}
    assert (inter["share_of_site"] == 1.0).all()
    assert inter["overlap_m2"].isna().all() and inter["overlap_length_m"].isna().all()
    s = res.layer_summary
    assert list(s["nearest_feature_id"]) == ["A", "A", "A", "H"]
    assert (s["share_of_site"] == 1.0).all()
    # On the boundary: distance 0 to it, and boundary-sensitive.
    for site, fid in ((2, "A"), (3, "H")):
        r = row(res.hits, site, "red", fid)
        assert r["boundary_distance_m"] == 0 and r["boundary_sensitive"]


def test_points_in_a_hole_and_just_outside(hand):
    in_hole = (121.4555, 31.209)  # 0.0005° east of the hole's west edge
    out_corner = fwd(121.40, 31.20, 225.0, 30.0)  # 30 m south-west of A's corner
    res = run(hand, [Point(in_hole), Point(out_corner)], layers={"red"})
    assert not res.layer_summary["hit"].any()
    h = row(res.hits, 0, "red", "H")
    assert h["relation"] == "nearby"
    # The nearest point of H is on the hole's west edge, at the same latitude.
    assert h["distance_m"] == pytest.approx(g_dist(in_hole, (121.455, 31.209)), rel=REL)
    a = row(res.hits, 1, "red", "A")
    assert a["relation"] == "nearby"
    assert a["distance_m"] == pytest.approx(30.0, rel=REL, abs=0.02)
    assert a["ring_m"] == 100 and a["boundary_sensitive"]  # 30 m < the 50 m tolerance
    s = summary(res, 1, "red")
    assert s["nearest_feature_id"] == "A" and s["distance_m"] == pytest.approx(30.0, abs=0.02)


def test_multipoint_share_counts_points(hand):
    pts = MultiPoint([(121.412, 31.212), (121.418, 31.218), (121.35, 31.15), (121.36, 31.16)])
    res = run(hand, [pts], layers={"red", "districts"})
    # A holds 2 of 4 points, B 2, C 1; points inside any red-line feature: 2.
    assert row(res.hits, 0, "red", "A")["share_of_site"] == 0.5
    assert row(res.hits, 0, "red", "C")["share_of_site"] == 0.25
    assert summary(res, 0, "red")["share_of_site"] == 0.5
    assert summary(res, 0, "districts")["share_of_site"] == 1.0


def test_point_layer(hand):
    site = box(121.515, 31.115, 121.535, 31.135)  # holds P1 and P2
    p3 = fwd(121.535, 31.135, 45.0, 600.0)  # 600 m beyond the site's NE corner
    pop = hand["pop"]
    # A second point layer with P3 moved 600 m from the corner (the catalog's is far away).
    ix = LayerIndex(
        np.r_[pop.gdf.geometry.to_numpy()[:2], [to_work(Point(p3))]], rings_m=(500, 1000)
    )
    layer = LayerInput("pop2", "population", ix, pop.attributes)
    sites = load_sites([site], crs=4326).gdf
    res = overlay(sites.geometry.to_numpy(), ["s"], [layer])
    inter = res.hits[res.hits["relation"] == "intersects"]
    assert set(inter["feature_id"]) == {"P1", "P2"}
    assert inter["share_of_site"].isna().all() and inter["overlap_m2"].isna().all()
    near = res.hits[res.hits["relation"] == "nearby"].iloc[0]
    assert near["feature_id"] == "P3" and near["ring_m"] == 1000
    assert near["distance_m"] == pytest.approx(600.0, rel=REL)


def test_layer_searched_to_its_outermost_ring(hand):
    # Rings (1000, 3000) with a 1200 m search radius: a feature 2.4 km away is reported in the
    # 3000 m ring (the layer is searched to its outermost ring), one 3.3 km away is not; other
    # layers keep the radius.  No note about rings beyond the radius.
    origin = (121.515, 31.115)
    near, far = fwd(*origin, 90.0, 2400.0), fwd(*origin, 0.0, 3300.0)
    pop = hand["pop"]
    ix = LayerIndex(np.array([to_work(Point(near)), to_work(Point(far))]), rings_m=(1000, 3000))
    layer = LayerInput("pop3", "population", ix, pop.attributes)
    ix2 = LayerIndex(np.array([to_work(Point(near))]), rings_m=(100, 500, 1000))
    layer2 = LayerInput("pop4", "population", ix2, pop.attributes)
    sites = load_sites([Point(origin)], crs=4326).gdf
    res = overlay(sites.geometry.to_numpy(), ["s"], [layer, layer2], search_radius_m=1200.0)
    got = res.hits[res.hits["layer_id"] == "pop3"]
    assert len(got) == 1 and got.iloc[0]["ring_m"] == 3000
    assert got.iloc[0]["distance_m"] == pytest.approx(2400.0, rel=REL)
    assert res.hits[res.hits["layer_id"] == "pop4"].empty  # 2.4 km > 1200 m for this layer
    assert not any("ring" in note for note in res.notes)
    # Containment only (radius 0): no distance search at all, for any layer.
    res0 = overlay(sites.geometry.to_numpy(), ["s"], [layer], search_radius_m=0.0)
    assert res0.hits.empty or (res0.hits["relation"] != "nearby").all()


# ----------------------------------------------------------------------------- distances


@pytest.mark.parametrize("az", [200.0, 225.0, 250.0])
@pytest.mark.parametrize("dist", [5.0, 120.0, 480.0, 950.0])
def test_distance_to_a_corner_vertex(hand, az, dist):
    # Anywhere in the quadrant south-west of A's corner, the corner is A's nearest point.
    p = fwd(121.40, 31.20, az, dist)
    res = run(hand, [Point(p)], layers={"red"})
    a = row(res.hits, 0, "red", "A")
    assert a["relation"] == "nearby"
    assert a["distance_m"] == pytest.approx(g_dist(p, (121.40, 31.20)), rel=REL, abs=0.02)
    assert a["boundary_distance_m"] == a["distance_m"]
    assert a["ring_m"] == next(r for r in (100, 500, 1000) if dist <= r)


def test_distance_between_polygon_site_and_line(hand):
    # A site whose nearest vertex is 700 m from the shoreline's start, beyond its end.
    corner = fwd(121.50, 31.30, 225.0, 700.0)
    site = box(corner[0] - 0.01, corner[1] - 0.01, *corner)
    res = run(hand, [site], layers={"shore"})
    r = row(res.hits, 0, "shore", "S1")
    assert r["relation"] == "nearby" and r["ring_m"] == 1000
    assert r["distance_m"] == pytest.approx(700.0, rel=REL)


# ----------------------------------------------------------------------------- rings


def test_ring_geometry_areas(hand):
    res = run(hand, [Point(121.35, 31.15)], layers={"districts", "red", "shore"})
    rings = res.rings
    default = rings[rings["layer_ids"] == "districts, red"].sort_values("outer_m")
    shore = rings[rings["layer_ids"] == "shore"].sort_values("outer_m")
    assert list(default["outer_m"]) == [100, 500, 1000]
    assert list(default["inner_m"]) == [0, 100, 500]
    assert list(shore["outer_m"]) == [1000, 3000] and list(shore["inner_m"]) == [0, 1000]
    for ring in pd.concat([default, shore]).itertuples():
        annulus = math.pi * (ring.outer_m**2 - ring.inner_m**2)
        # Drawn as regular 64-gons inscribed in the circles: (n/2) sin(2π/n) r² each.
        n = 64
        inscribed = n / 2 * math.sin(2 * math.pi / n) * (ring.outer_m**2 - ring.inner_m**2)
        assert ring.geometry.area == pytest.approx(inscribed, rel=1e-9)
        assert ring.geometry.area == pytest.approx(annulus, rel=2e-3)
    assert set(rings["site_id"]) == {"s0"} and set(rings["site"]) == {0}


def test_ring_membership_uses_the_layer_rings(hand):
    near = fwd(121.50, 31.30, 225.0, 600.0)
    far = fwd(121.50, 31.30, 225.0, 1500.0)
    res = run(hand, [Point(near), Point(far)], layers={"shore"}, search_radius_m=3000)
    a, b = row(res.hits, 0, "shore", "S1"), row(res.hits, 1, "shore", "S1")
    assert a["distance_m"] == pytest.approx(600.0, rel=REL) and a["ring_m"] == 1000
    assert b["distance_m"] == pytest.approx(1500.0, rel=REL) and b["ring_m"] == 3000
    assert list(res.layer_summary["ring_m"]) == [1000, 3000]
    # With the default 1000 m search the layer is still searched to its 3000 m ring.
    res = run(hand, [Point(near), Point(far)], layers={"shore"})
    assert list(res.hits["site"]) == [0, 1]
    assert row(res.hits, 1, "shore", "S1")["ring_m"] == 3000
    # Beyond the outermost ring nothing is found.
    beyond = fwd(121.50, 31.30, 225.0, 3200.0)
    res = run(hand, [Point(beyond)], layers={"shore"})
    assert res.hits.empty and math.isnan(summary(res, 0, "shore")["ring_m"])


# ----------------------------------------------------------------------------- sensitivity


@pytest.mark.parametrize(
    ("dist", "unc", "sensitive"),
    [(49.5, 0.0, True), (50.5, 0.0, False), (55.0, 0.0, False), (55.0, 10.0, True)],
)
def test_boundary_sensitive_inside(hand, dist, unc, sensitive):
    # A point inside A, ``dist`` east of its western edge (A's other edges and C are far).
    p = fwd(121.40, 31.203, 90.0, dist)
    res = run(hand, [Point(p)], layers={"red"}, uncertainty_m=np.array([unc]))
    a = row(res.hits, 0, "red", "A")
    assert a["relation"] == "intersects"
    assert a["boundary_distance_m"] == pytest.approx(dist, abs=0.01)
    assert bool(a["boundary_sensitive"]) == sensitive
    assert summary(res, 0, "red")["boundary_sensitive"] == sensitive


@pytest.mark.parametrize(("dist", "sensitive"), [(49.5, True), (50.5, False)])
def test_boundary_sensitive_outside(hand, dist, sensitive):
    p = fwd(121.40, 31.20, 225.0, dist)
    res = run(hand, [Point(p)], layers={"red"})
    a = row(res.hits, 0, "red", "A")
    assert a["relation"] == "nearby" and a["boundary_sensitive"] == sensitive
    assert summary(res, 0, "red")["boundary_sensitive"] == sensitive


def test_gcj02_sites_carry_the_conversion_uncertainty(hand):
    # 55 m from the edge: outside the 50 m tolerance, inside 50 m + the GCJ-02 budget.
    lon, lat = fwd(121.40, 31.203, 90.0, 55.0)
    glat, glon = prcoords.wgs_gcj((lat, lon))  # an independent GCJ-02 implementation
    res = run(hand, [Point(glon, glat)], layers={"red"}, crs="gcj02")
    assert GCJ02_UNCERTAINTY_M == 10.0
    a = row(res.hits, 0, "red", "A")
    assert a["boundary_distance_m"] == pytest.approx(55.0, abs=0.05)
    assert a["boundary_sensitive"]
    res = run(hand, [Point(lon, lat)], layers={"red"})
    assert not row(res.hits, 0, "red", "A")["boundary_sensitive"]


def test_sites_away_from_every_boundary_are_not_sensitive(hand):
    # A line inside A, starting 0.0015° of longitude east of A's western edge (its nearest
    # boundary: 143 m; the southern edge is 222 m away, B and C farther).
    line = LineString([(121.4015, 31.202), (121.4035, 31.202)])
    # A polygon site holding the population point P1 deep inside.
    around_p1 = box(121.51, 31.115, 121.53, 31.125)
    res = run(hand, [line, around_p1], layers={"red", "pop"})
    a = row(res.hits, 0, "red", "A")
    assert a["relation"] == "intersects"
    assert a["boundary_distance_m"] == pytest.approx(
        g_dist((121.4015, 31.202), (121.40, 31.202)), rel=REL
    )
    assert not summary(res, 0, "red")["boundary_sensitive"]
    p1 = row(res.hits, 1, "pop", "P1")
    assert p1["relation"] == "intersects" and not p1["boundary_sensitive"]
    # P1 is 0.005° of latitude from the site's southern and northern edges.
    assert p1["boundary_distance_m"] == pytest.approx(
        g_dist((121.52, 31.12), (121.52, 31.125)), rel=REL
    )


def test_zero_tolerance_and_no_search(hand):
    ix = hand["red"].index
    layer = LayerIndex(ix.geoms)  # tolerance 0
    attrs = hand["red"].attributes
    on = to_work(Point(121.40, 31.20))
    inner = to_work(Point(121.401, 31.201))
    res = overlay(
        np.array([on, inner]),
        ["on", "in"],
        [LayerInput("r0", "red_line", layer, attrs)],
        search_radius_m=0,
    )
    assert (res.hits["relation"] == "intersects").all()
    assert list(res.layer_summary["boundary_sensitive"]) == [True, False]
    assert row(res.hits, 0, "r0", "A")["boundary_distance_m"] == 0
    assert math.isnan(row(res.hits, 1, "r0", "A")["boundary_distance_m"])


# ----------------------------------------------------------------------------- coverage, status


def test_coverage(hand):
    sites = [
        box(121.44, 31.20, 121.46, 31.21),  # across D1 | D2: covered
        box(121.59, 31.20, 121.61, 31.21),  # across D2 | sea: covered
        box(121.50, 31.39, 121.51, 31.41),  # half north of the territory
        Point(121.35, 31.15),  # in D1
        Point(121.35, 31.45),  # north of everything
        LineString([(121.35, 31.35), (121.35, 31.45)]),  # half out
        MultiPoint([(121.35, 31.15), (121.35, 31.45)]),  # one point out
    ]
    res = run(hand, sites)
    status = res.layer_summary.groupby("site")["status"].agg(set)
    expected = ["ok", "ok", "outside_coverage", "ok", "outside_coverage"] + ["outside_coverage"] * 2
    assert [next(iter(s)) for s in status] == expected
    assert all(len(s) == 1 for s in status)  # every layer of a site gets the same status
    assert any("4 site(s) lie wholly or partly outside" in n for n in res.notes)


def test_coverage_layers_that_overlap_each_other(hand, tmp_path):
    # The sea drawn over part of district D2: a site half in that overlap, half outside both,
    # has shares 0.5 + 0.5 but only half of it is covered.
    sea = box(121.55, 31.10, 121.80, 31.40)
    path = write_catalog(
        tmp_path / "c.yml",
        [
            {"id": "d", "kind": "district", "source": gpkg(tmp_path / "d.gpkg", [D2], ["D2"])},
            {"id": "s", "kind": "sea_area", "source": gpkg(tmp_path / "s.gpkg", [sea], ["S"])},
        ],
    )
    ls = load_catalog(path)
    site = box(121.57, 31.38, 121.59, 31.42)
    res = run(ls, [site, box(121.57, 31.30, 121.59, 31.32)])
    shares = res.layer_summary.set_index(["site", "layer_id"])["share_of_site"]
    assert shares[(0, "d")] == pytest.approx(0.5, rel=1e-3)
    assert shares[(0, "s")] == pytest.approx(0.5, rel=1e-3)
    assert set(res.layer_summary.query("site == 0")["status"]) == {"outside_coverage"}
    assert set(res.layer_summary.query("site == 1")["status"]) == {"ok"}


def test_failed_and_missing_layers(hand):
    layers = [
        *inputs(hand, {"red"}),
        LayerInput("broken", "nature_reserve", None, None, status="failed", error="bad file"),  # type: ignore[arg-type]
    ]
    sites = load_sites([Point(121.412, 31.212), Point(121.35, 31.15)], crs=4326).gdf
    res = overlay(sites.geometry.to_numpy(), ["a", "b"], layers, missing_kinds=["wetland"])
    s = res.layer_summary
    broken = s[s["layer_id"] == "broken"]
    assert list(broken["status"]) == ["failed", "failed"] and not broken["hit"].any()
    missing = s[s["kind"] == "wetland"]
    assert list(missing["status"]) == ["missing"] * 2 and missing["layer_id"].isna().all()
    assert list(s[s["layer_id"] == "red"]["status"]) == ["ok", "ok"]
    assert any("coverage is not checked" in n for n in res.notes)
    assert not (res.hits["layer_id"] == "broken").any()


def test_failed_coverage_layer_means_coverage_unchecked(hand):
    layers = [
        *inputs(hand, {"red", "sea"}),
        LayerInput("districts", "district", None, None, status="failed", error="x"),  # type: ignore[arg-type]
    ]
    sites = load_sites([Point(121.412, 31.212)], crs=4326).gdf
    res = overlay(sites.geometry.to_numpy(), ["a"], layers)
    red = summary(res, 0, "red")
    assert red["status"] == "ok" and red["hit"]
    assert any("districts failed to load" in n for n in res.notes)


def test_no_sites(hand):
    res = overlay(np.array([], dtype=object), [], inputs(hand), missing_kinds=["wetland"])
    assert len(res.hits) == 0 and len(res.layer_summary) == 0
    assert len(res.pieces) == 0 and len(res.rings) == 0


def test_outside_distance(hand):
    ix = hand["red"].index
    inside = to_work(Point(121.401, 31.201))
    p = fwd(121.40, 31.20, 225.0, 300.0)
    s, f, d = ix.outside_distance(np.array([inside, to_work(Point(p))]), 600.0)
    got = {(int(a), int(b)): x for a, b, x in zip(s, f, d, strict=True)}
    assert set(got) == {(0, 0), (0, 2), (1, 0)}  # B, H and (for the second) C are farther
    assert got[(0, 0)] == 0.0  # inside A
    # C's nearest point to the first is its south-west corner (585 m); A's to the second, A's.
    assert got[(0, 2)] == pytest.approx(g_dist((121.401, 31.201), (121.405, 31.205)), rel=REL)
    assert got[(1, 0)] == pytest.approx(300.0, rel=REL)


def test_layer_without_features(tmp_path):
    path = write_catalog(
        tmp_path / "c.yml",
        [{"id": "r", "kind": "red_line", "source": gpkg(tmp_path / "r.gpkg", [None], ["x"])}],
    )
    ls = load_catalog(path)
    assert len(ls["r"].gdf) == 0
    res = run(ls, [Point(121.41, 31.21), box(121.40, 31.20, 121.41, 31.21)])
    s = res.layer_summary
    assert list(s["status"]) == ["ok", "ok"] and not s["hit"].any()
    assert len(res.hits) == 0


# ----------------------------------------------------------------------------- geometry types

IN_A = box(121.401, 31.201, 121.404, 31.204)  # inside A only
OUT = box(121.35, 31.15, 121.36, 31.16)  # in D1, off the red line
TYPES = {
    "Point": (Point(121.402, 31.202), 1.0),
    "MultiPoint": (MultiPoint([(121.402, 31.202), (121.35, 31.15)]), 0.5),
    "LineString": (
        LineString([(121.39, 31.2025), (121.41, 31.2025)]),
        g_length(LineString([(121.40, 31.2025), (121.41, 31.2025)]))  # the part inside A
        / g_length(LineString([(121.39, 31.2025), (121.41, 31.2025)])),
    ),
    "MultiLineString": (
        MultiLineString(
            [[(121.401, 31.2025), (121.404, 31.2025)], [(121.35, 31.15), (121.36, 31.15)]]
        ),
        g_length(LineString([(121.401, 31.2025), (121.404, 31.2025)]))
        / (
            g_length(LineString([(121.401, 31.2025), (121.404, 31.2025)]))
            + g_length(LineString([(121.35, 31.15), (121.36, 31.15)]))
        ),
    ),
    "Polygon with hole": (
        Polygon(IN_A.exterior.coords, [box(121.402, 31.202, 121.403, 31.203).exterior.coords]),
        1.0,
    ),
    "MultiPolygon": (MultiPolygon([IN_A, OUT]), g_area(IN_A) / (g_area(IN_A) + g_area(OUT))),
}


@pytest.mark.parametrize("kind", list(TYPES))
@pytest.mark.parametrize("z", [False, True], ids=["2d", "3d"])
def test_every_site_type(hand, kind, z):
    geom, share = TYPES[kind]
    if z:
        geom = shapely.force_3d(geom, 7.5)
    # Shuffle a neighbour in front so that positions matter.
    res = run(hand, [Point(121.35, 31.15), geom], ids=["first", kind])
    s = summary(res, 1, "red")
    assert s["site_id"] == kind and s["hit"] and s["status"] == "ok"
    assert s["share_of_site"] == pytest.approx(share, rel=REL)
    assert 0.0 <= s["share_of_site"] <= 1.0
    assert row(res.hits, 1, "red", "A")["relation"] == "intersects"
    first = summary(res, 0, "red")
    assert first["site_id"] == "first" and not first["hit"]
    assert summary(res, 1, "districts")["share_of_site"] == pytest.approx(1.0, rel=1e-9)


@pytest.mark.parametrize(
    "wkt",
    [
        "MULTIPOLYGON (EMPTY, ((0 0, 400 0, 400 300, 0 0)))",
        "MULTILINESTRING (EMPTY, (0 0, 400 300))",
        "MULTIPOINT (EMPTY, (100 50))",
        "LINESTRING (0 0, 400 300, 0 0)",
        "LINEARRING (0 0, 400 0, 400 300, 0 0)",
    ],
)
def test_odd_geometries_the_engine_can_receive(wkt):
    # Working-CRS geometries straight to the engine (a Sites object built by hand skips the
    # loader): empty members are ignored, a line run twice is measured once.
    layer = LayerIndex(np.array([box(-1000, -1000, 1000, 1000)]))
    attrs = pd.DataFrame({"feature_id": ["F"]})
    res = overlay(
        np.array([shapely.from_wkt(wkt)]), ["x"], [LayerInput("l", "red_line", layer, attrs)]
    )
    s = res.layer_summary.iloc[0]
    assert s["hit"] and s["share_of_site"] == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize(
    ("geom", "message"),
    [
        (None, "site bad: no geometry"),
        (Point(), "site bad: no geometry"),
        (Polygon(), "site bad: no geometry"),
        (shapely.GeometryCollection([Point(0, 0)]), "GeometryCollection is not a site"),
        (Polygon([(0, 0), (10, 10), (10, 0), (0, 10)]), "site bad: invalid geometry"),
        (Point(np.nan, 1.0), "site bad"),
        ("POINT (0 0)", "is not a shapely geometry"),
    ],
)
def test_bad_sites_are_named(geom, message):
    layer = LayerIndex(np.array([box(0, 0, 1, 1)]))
    attrs = pd.DataFrame({"feature_id": ["F"]})
    with pytest.raises(SitesError, match=message) as err:
        overlay(
            np.array([Point(0.5, 0.5), geom], dtype=object),
            ["good", "bad"],
            [LayerInput("l", "red_line", layer, attrs)],
        )
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("name", list(GEOMETRIES))
def test_every_geometry_type_reaches_the_engine_or_is_named(name):
    # Each geometry of tests/geometries.py in the working CRS, inside one layer feature that
    # covers them all: collections and empty geometries are refused, every other type (3-D
    # too) lies wholly in the feature.
    def working(geom):
        return gpd.GeoSeries([geom], crs=4326).to_crs(WORKING_CRS).iloc[0]

    layer = LayerIndex(np.array([working(COVER)]))
    lay = [LayerInput("l", "red_line", layer, pd.DataFrame({"feature_id": ["F"]}))]
    sites = np.array([working(GEOMETRIES[name])], dtype=object)
    if "empty" in name or "collection" in name:
        message = "no geometry" if "empty" in name else "a GeometryCollection is not a site"
        with pytest.raises(SitesError, match=f"site x: {message}"):
            overlay(sites, ["x"], lay)
        return
    s = overlay(sites, ["x"], lay).layer_summary.iloc[0]
    assert s["hit"] and s["share_of_site"] == pytest.approx(1.0, rel=1e-12)


def test_bad_arguments():
    layer = LayerIndex(np.array([box(0, 0, 1, 1)]))
    lay = [LayerInput("l", "red_line", layer, pd.DataFrame({"feature_id": ["F"]}))]
    pts = np.array([Point(0.5, 0.5)])
    with pytest.raises(ValueError, match="2 site ids for 1 sites"):
        overlay(pts, ["a", "b"], lay)
    with pytest.raises(ValueError, match="search radius"):
        overlay(pts, ["a"], lay, search_radius_m=-1)
    with pytest.raises(ValueError, match="uncertainty_m"):
        overlay(pts, ["a"], lay, uncertainty_m=np.array([np.nan]))
    with pytest.raises(ValueError, match="rings_m"):
        LayerIndex(np.array([box(0, 0, 1, 1)]), rings_m=(500, 100))
    with pytest.raises(ValueError, match="one geometry family"):
        LayerIndex(np.array([box(0, 0, 1, 1), Point(5, 5)]))


# ----------------------------------------------------------------------------- inputs, order


def test_inputs_are_not_mutated_and_order_is_kept(hand):
    lonlat = [
        box(121.415, 31.215, 121.425, 31.225),
        Point(121.412, 31.212),
        LineString([(121.39, 31.2125), (121.44, 31.2125)]),
        MultiPoint([(121.35, 31.15), (121.418, 31.218)]),
    ]
    sites = load_sites(lonlat, crs=4326).gdf
    geoms = sites.geometry.to_numpy()
    before = shapely.to_wkb(geoms)
    ids = ["w", "x", "y", "z"]
    ids_before = list(ids)
    unc = np.array([0.0, 5.0, 0.0, 20.0])
    unc_before = unc.copy()
    lay = inputs(hand)
    attrs_before = [x.attributes.copy() for x in lay]
    gdfs_before = [hand[x.layer_id].gdf.copy() for x in lay]
    res = overlay(geoms, ids, lay, uncertainty_m=unc)
    assert list(shapely.to_wkb(geoms)) == list(before) and ids == ids_before
    np.testing.assert_array_equal(unc, unc_before)
    for x, a, g in zip(lay, attrs_before, gdfs_before, strict=True):
        pd.testing.assert_frame_equal(x.attributes, a)
        pd.testing.assert_frame_equal(
            pd.DataFrame(hand[x.layer_id].gdf.drop(columns="geometry")),
            pd.DataFrame(g.drop(columns="geometry")),
        )
        assert hand[x.layer_id].gdf.geometry.geom_equals_exact(g.geometry, 0).all()
    # Every row names its site by position and id, in the caller's order.
    for table in (res.hits, res.layer_summary):
        assert [ids[i] for i in table["site"]] == list(table["site_id"])
    assert list(res.layer_summary.query("layer_id == 'red'")["site_id"]) == ids
    # Reversed input: the same rows, each following its site.
    rev = overlay(geoms[::-1], ids[::-1], lay, uncertainty_m=unc[::-1])
    key = ["site_id", "layer_id", "feature_id", "relation"]
    a = res.hits.assign(site=3 - res.hits["site"]).sort_values(key).reset_index(drop=True)
    b = rev.hits.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    # A GeoSeries with its own index: positions, not labels.
    series = gpd.GeoSeries(geoms, index=[40, 10, 30, 20], crs=WORKING_CRS)
    again = overlay(series, ids, lay, uncertainty_m=unc)
    pd.testing.assert_frame_equal(again.hits, res.hits)


# ----------------------------------------------------------------------------- layer index


def test_layer_index_and_attributes_from_the_catalog(hand):
    red, shore = hand["red"], hand["shore"]
    assert red.index is red.index  # built once
    assert red.index.tolerance_m == RED_TOL and red.index.rings_m == (100.0, 500.0, 1000.0)
    assert shore.index.rings_m == (1000.0, 3000.0) and shore.index.tolerance_m == 200
    attrs = red.attributes
    assert list(attrs["feature_id"]) == list("ABCH")
    assert list(attrs["name"]) == ["甲", "乙", "丙", "有洞"]
    assert "category" not in attrs.columns
    h_area = g_area(box(121.45, 31.20, 121.47, 31.22)) - g_area(HOLE)  # by hand
    assert red.index.measure == pytest.approx([g_area(A), g_area(B), g_area(C), h_area], rel=REL)


DEMO_LAYERS = ["red_line", "water", "control_units"]


def oracle_pairs(feats: np.ndarray, points: np.ndarray) -> set[tuple[int, int]]:
    """(point, feature) pairs by plain shapely ``intersects`` on the unsubdivided features."""
    # The features are the query side, so shapely prepares them (copies: the layer's own
    # geometries are left alone).
    feats = shapely.from_wkb(shapely.to_wkb(feats))
    qf, qp = shapely.STRtree(points).query(feats, predicate="intersects")
    return set(zip(qp.tolist(), qf.tolist(), strict=True))


@pytest.mark.slow
@pytest.mark.parametrize("layer_id", DEMO_LAYERS)
def test_cell_grid_matches_shapely_on_random_points(demo_layers, layer_id):
    layer = demo_layers[layer_id]
    ix = layer.index
    feats = layer.gdf.geometry.to_numpy()
    b = shapely.total_bounds(feats)
    rng = np.random.default_rng(20260518)
    x = rng.uniform(b[0] - 1000, b[2] + 1000, 100_000)
    y = rng.uniform(b[1] - 1000, b[3] + 1000, 100_000)
    p, f = ix.contains_points(x, y)
    got = set(zip(p.tolist(), f.tolist(), strict=True))
    want = oracle_pairs(feats, shapely.points(x, y))
    assert got == want
    assert len(want) > 1000  # the layer is really hit
    # The grid answers for most points without an exact test.
    assert (ix.grid.lookup(x, y) != -2).mean() > 0.9


@pytest.mark.slow
@pytest.mark.parametrize("layer_id", DEMO_LAYERS)
def test_cell_grid_matches_shapely_on_boundaries(demo_layers, layer_id):
    # Points on every boundary vertex, a nanometre either side, along the segments and a
    # micrometre off them: where subdividing and the grid could go wrong.
    layer = demo_layers[layer_id]
    feats = layer.gdf.geometry.to_numpy()
    xy = shapely.get_coordinates(shapely.boundary(feats))
    rng = np.random.default_rng(7)
    idx = rng.choice(len(xy) - 1, size=min(15_000, len(xy) - 1), replace=False)
    t = rng.uniform(0, 1, (len(idx), 1))
    along = xy[idx] + t * (xy[idx + 1] - xy[idx])
    pts = np.concatenate(
        [xy[idx], xy[idx] + 1e-9, xy[idx] - 1e-9, along, along + rng.normal(0, 1e-6, along.shape)]
    )
    p, f = layer.index.contains_points(pts[:, 0], pts[:, 1])
    got = set(zip(p.tolist(), f.tolist(), strict=True))
    assert got == oracle_pairs(feats, shapely.points(pts))


def test_point_sites_through_the_engine_match_shapely(demo_layers):
    layer = demo_layers["control_units"]
    feats = layer.gdf.geometry.to_numpy()
    b = shapely.total_bounds(feats)
    rng = np.random.default_rng(3)
    pts = shapely.points(rng.uniform(b[0], b[2], 20_000), rng.uniform(b[1], b[3], 20_000))
    lay = [LayerInput(layer.id, layer.kind, layer.index, layer.attributes)]
    res = overlay(pts, [str(i) for i in range(len(pts))], lay, search_radius_m=0, rings=False)
    inter = res.hits[res.hits["relation"] == "intersects"]
    fids = layer.attributes["feature_id"].to_numpy()
    want = {(p, fids[f]) for p, f in oracle_pairs(feats, pts)}
    assert set(zip(inter["site"].tolist(), inter["feature_id"].tolist(), strict=True)) == want


@pytest.fixture(scope="module")
def point_grid(demo_layers):
    """The combined point grid of every demonstration layer (built once for the module)."""
    return PointGrid([lay.index for lay in demo_layers])


def _grid_oracle(layer, pts: np.ndarray):
    """Per point, by plain shapely on the unsubdivided features: the feature it lies in (-1
    none, -3 several), whether a boundary lies within the layer's tolerance (+ 1e-9, the exact
    test's slack), and the distance to the boundary of the feature it lies in (inf if none)."""
    feats = shapely.from_wkb(shapely.to_wkb(layer.gdf.geometry.to_numpy()))
    n = len(pts)
    qf, qp = shapely.STRtree(pts).query(feats, predicate="intersects")
    inside = np.full(n, -1)
    inside[qp] = qf
    inside[np.bincount(qp, minlength=n) > 1] = -3
    bnd = feats.copy()
    poly = shapely.get_dimensions(feats) == 2
    bnd[poly] = shapely.boundary(feats[poly])
    tol = layer.entry.positional_tolerance_m or 0.0
    qp2, _ = shapely.STRtree(bnd).query(pts, predicate="dwithin", distance=tol + 1e-9)
    near = np.zeros(n, dtype=bool)
    near[qp2] = True
    own = np.full(n, np.inf)
    one = inside >= 0
    own[one] = shapely.distance(pts[one], bnd[inside[one]])
    return inside, near, own, tol


def _check_grid(layer, grid, j, x, y):
    """The grid's decided answers for layer ``j`` (and the boundary samples' answers for the
    points it leaves undecided) against :func:`_grid_oracle`; returns the undecided shares."""
    pts = shapely.points(x, y)
    code, sens = grid.classify(x, y)
    code, sens = code[:, j], sens[:, j]
    inside, near, own, tol = _grid_oracle(layer, pts)
    sure = code != -2
    assert (code[sure] == inside[sure]).all(), layer.id
    # Sensitivity: a point in one feature is decided on that feature's boundary, which also
    # decides the site (it is within the tolerance of the layer then); elsewhere on any.
    pair = np.where(code >= 0, own <= tol + 1e-9, near)
    for state, where in ((sens, sens != 2), (None, None)):
        if state is None:  # the samples' answers for the undecided (code known) points
            und = np.flatnonzero((sens == 2) & sure)
            samples = grid.layers[j].samples
            if samples is None or not len(und):
                continue
            where = np.zeros(len(x), dtype=bool)
            state = np.full(len(x), 2)
            state[und] = samples.decide(x[und], y[und], code[und], np.full(len(und), tol))
            where[und] = state[und] != 2
        assert ((state[where] == 1) == pair[where]).all(), layer.id
        assert not (near[where] & (state[where] == 0)).any(), layer.id
        assert (near[where] | (state[where] != 1)).all(), layer.id
    return (code == -2).mean(), (sens == 2).mean()


@pytest.mark.slow
def test_point_grid_matches_shapely_on_random_points(demo_layers, point_grid):
    """100,000 random points over the grid's extent and beyond, every layer: where the grid
    (or, after it, the boundary samples) decides, it agrees with plain shapely."""
    g = point_grid
    rng = np.random.default_rng(20261201)
    x = rng.uniform(g.x0 - 3000, g.x0 + g.nx * g.size + 3000, 100_000)
    y = rng.uniform(g.y0 - 3000, g.y0 + g.ny * g.size + 3000, 100_000)
    undecided = [_check_grid(lay, g, j, x, y) for j, lay in enumerate(demo_layers)]
    code_u, sens_u = np.array(undecided).sum(axis=0)
    # And it decides most: one look-up places a point in every layer.
    assert code_u < 0.03 and sens_u < 0.2, undecided


@pytest.mark.slow
def test_point_grid_matches_shapely_on_boundaries_and_at_the_tolerance(demo_layers, point_grid):
    """Points on boundary vertices, a nanometre beside them, along segments and a micrometre
    off, and points a micrometre either side of a layer's tolerance from a boundary."""
    rng = np.random.default_rng(9)
    for j, lay in enumerate(demo_layers):
        feats = lay.gdf.geometry.to_numpy()
        bnd = feats.copy()
        poly = shapely.get_dimensions(feats) == 2
        bnd[poly] = shapely.boundary(feats[poly])
        xy = shapely.get_coordinates(bnd)
        idx = rng.choice(len(xy) - 1, size=min(3000, len(xy) - 1), replace=False)
        a, b = xy[idx], xy[idx + 1]
        keep = np.hypot(*(b - a).T) > 1e-3
        a, b = a[keep], b[keep]
        t = rng.uniform(0, 1, (len(a), 1))
        along = a + t * (b - a)
        normal = (b - a)[:, ::-1] * (1, -1) / np.hypot(*(b - a).T)[:, None]
        tol = lay.entry.positional_tolerance_m or 0.0
        side = rng.choice([-1.0, 1.0], (len(a), 1))
        at_tol = [along + side * normal * (tol + e) for e in (-1e-6, 1e-6)]
        pts = np.concatenate(
            [a, a + 1e-9, a - 1e-9, along, along + rng.normal(0, 1e-6, along.shape), *at_tol]
        )
        _check_grid(lay, point_grid, j, pts[:, 0], pts[:, 1])


def test_edge_lower_bound_is_a_lower_bound(demo_layers):
    layer = demo_layers["red_line"]
    grid = layer.index.grid
    feats = layer.gdf.geometry.to_numpy()
    b = shapely.total_bounds(feats)
    rng = np.random.default_rng(11)
    x, y = rng.uniform(b[0], b[2], 5000), rng.uniform(b[1], b[3], 5000)
    bound = shapely.union_all(shapely.boundary(feats))
    d = shapely.distance(shapely.points(x, y), bound)
    lb = grid.edge_lower_bound(x, y)
    assert (lb <= d + 1e-9).all()
    assert (lb > 0).mean() > 0.5  # and it is useful


def test_subdivide_conserves_area_and_bounds_vertices(demo_layers):
    feats = demo_layers["water"].gdf.geometry.to_numpy()
    pieces, owner = subdivide(feats)
    assert shapely.get_num_coordinates(pieces).max() <= MAX_PIECE_VERTICES
    assert len(pieces) > 5 * len(feats)
    per_feature = np.bincount(owner, shapely.area(pieces), minlength=len(feats))
    np.testing.assert_allclose(per_feature, shapely.area(feats), rtol=1e-9)
    big = int(np.argmax(shapely.get_num_coordinates(feats)))
    rebuilt = shapely.union_all(pieces[owner == big])
    assert shapely.area(shapely.symmetric_difference(rebuilt, feats[big])) < 1e-6


def test_subdivide_conserves_length():
    # A line with a stretch lying exactly on the first cut (x = 5): it must not count twice.
    coords = [(x, 0.0) for x in range(6)] + [(5.0, y) for y in range(1, 6)]
    coords += [(x, 5.0) for x in range(6, 11)]
    staircase = LineString(coords)
    wiggle = LineString([(i, math.sin(i / 3) * 40) for i in range(2000)])
    lines = np.array([staircase, wiggle, MultiLineString([wiggle.coords[:300], coords])])
    pieces, owner = subdivide(lines, max_vertices=8)
    assert shapely.get_num_coordinates(pieces).max() <= 8
    per_line = np.bincount(owner, shapely.length(pieces), minlength=len(lines))
    np.testing.assert_allclose(per_line, [15.0, wiggle.length, lines[2].length], rtol=1e-12)


def test_subdivide_keeps_holes():
    circle = Point(0, 0).buffer(1000, quad_segs=500)
    hole = Point(100, 50).buffer(300, quad_segs=300)
    poly = circle.difference(hole)
    pieces, owner = subdivide(np.array([poly, circle]))
    assert shapely.get_num_coordinates(pieces).max() <= MAX_PIECE_VERTICES
    np.testing.assert_allclose(
        np.bincount(owner, shapely.area(pieces)), [poly.area, circle.area], rtol=1e-12
    )
    assert subdivide(np.array([], dtype=object))[0].size == 0


def test_boundary_chunks_give_boundary_distances(demo_layers):
    feats = demo_layers["red_line"].gdf.geometry.to_numpy()
    chunks, owner = boundary_chunks(feats)
    assert (shapely.get_num_coordinates(chunks) <= CHUNK_SEGMENTS + 1).all()
    np.testing.assert_allclose(
        np.bincount(owner, shapely.length(chunks), minlength=len(feats)),
        shapely.length(shapely.boundary(feats)),
        rtol=1e-12,
    )
    b = shapely.total_bounds(feats)
    rng = np.random.default_rng(5)
    pts = shapely.points(rng.uniform(b[0], b[2], 300), rng.uniform(b[1], b[3], 300))
    for k in range(len(feats)):
        want = shapely.distance(pts, shapely.boundary(feats[k]))
        got = shapely.distance(pts[:, None], chunks[owner == k][None, :]).min(axis=1)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)
    # Lines: the chunks are the line; points: the points themselves.
    line = LineString([(i, i % 3) for i in range(50)])
    c, o = boundary_chunks(np.array([line, Point(3, 4)], dtype=object))
    assert shapely.length(c[o == 0]).sum() == pytest.approx(line.length, rel=1e-12)
    assert list(c[o == 1]) == [Point(3, 4)]


def test_pieces_are_the_overlaps(hand):
    site = box(121.415, 31.215, 121.425, 31.225)
    res = run(hand, [site, LineString([(121.39, 31.2125), (121.44, 31.2125)])])
    red = res.pieces[res.pieces["layer_id"] == "red"]
    polys = red[red["site"] == 0]
    assert set(polys["feature_id"]) == {"A", "B"}  # C only touches: no piece
    assert set(polys.geom_type) == {"MultiPolygon"}
    np.testing.assert_allclose(polys.area, polys["overlap_m2"], rtol=1e-12)
    assert polys.crs == WORKING_CRS and not polys.is_empty.any()
    assert set(red[red["site"] == 1]["feature_id"]) == {"A", "B", "C"}


# ----------------------------------------------------------------------------- files not ours


def test_loader_survives_a_multipolygon_with_an_empty_member(tmp_path):
    path = tmp_path / "sites.geojson"
    path.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, '
        '"geometry": {"type": "MultiPolygon", "coordinates": [[], [[[121.47, 31.23], '
        "[121.48, 31.23], [121.48, 31.24], [121.47, 31.23]]]]}}]}",
        encoding="utf-8",
    )
    code = textwrap.dedent(
        f"""
        from zoning.errors import SitesError
        from zoning.sites import load_sites
        try:
            s = load_sites({str(path)!r})
            print(len(s), round(float(s.gdf.geometry.area.iloc[0])), "; ".join(s.notes))
        except SitesError:
            pass
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    assert proc.returncode == 0, f"exit code {proc.returncode}"
    # The empty member is dropped (and named); the real polygon is the site.
    count, area, notes = proc.stdout.decode().strip().split(" ", 2)
    assert count == "1" and int(area) > 400_000
    assert "empty parts removed" in notes


def test_layer_reader_survives_a_multipolygon_with_an_empty_member(tmp_path):
    path = tmp_path / "red.geojson"
    path.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, '
        '"geometry": {"type": "MultiPolygon", "coordinates": [[], [[[121.47, 31.23], '
        "[121.48, 31.23], [121.48, 31.24], [121.47, 31.23]]]]}}]}",
        encoding="utf-8",
    )
    cat = write_catalog(tmp_path / "c.yml", [{"id": "r", "kind": "red_line", "source": path.name}])
    code = textwrap.dedent(
        f"""
        from zoning.errors import ZoningError
        from zoning.layerset import load_catalog
        try:
            load_catalog({str(cat)!r})["r"]
        except ZoningError:
            pass
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    assert proc.returncode == 0, f"exit code {proc.returncode}"


def test_a_site_that_only_shares_an_edge_does_not_occupy_the_feature(hand):
    """A parcel bordering the red line is not inside it: no hit, no red-line rule, but flagged."""
    _, lat0, lon1, _ = A.bounds
    # South of B (B starts at 31.21), east of A: a box sharing part of A's eastern edge, and a
    # line running up to that edge and stopping there.  Neither reaches into A, B or C.
    parcel = box(lon1, lat0 + 0.001, lon1 + 0.004, lat0 + 0.003)
    pipe = LineString([(lon1 + 0.004, lat0 + 0.002), (lon1, lat0 + 0.002)])
    res = run(hand, [parcel, pipe], layers=["red"])
    for site in (0, 1):
        a = row(res.hits, site, "red", "A")
        assert a["relation"] == "touches" and a["distance_m"] == 0 and a["boundary_sensitive"]
        s = summary(res, site, "red")
        assert not s["hit"] and s["distance_m"] == 0 and s["boundary_sensitive"]
        assert s["nearest_feature_id"] == "A"
    # Through the whole screening: red_line.construction does not fire for a touch.
    result = zoning.screen(
        [parcel], hand, crs="EPSG:4326", attributes={"industry": "C2614", "nature": "new"}
    )
    assert "red_line.construction" not in set(result.reasons["rule_id"].dropna())
    assert bool(result.sites["boundary_sensitive"].iloc[0])
