"""Build the bundled example projects (``layers/examples/``) from the demonstration layers.

Writes three files, each a realistic screening input with its expected outcome written in:

* ``projects.geojson``: about twenty projects (points, pipelines and roads, plant and park
  footprints), each with its project attributes, ``expected_verdict``, ``expected_rules`` and
  ``why_zh`` / ``why_en``;
* ``amap_gcj02.csv``: a site whose coordinates were copied from Amap (GCJ-02), about 300 m
  outside a red-line boundary, with the expected outcome of the right reading (``--crs gcj02``)
  and of the wrong one (the same numbers declared WGS84, ``--crs EPSG:4326``);
* ``route_alternatives.geojson``: four alignments of one gas pipeline from 崇明岛 to 长兴岛,
  with their expected rank.

Every geometry is placed from the layers, not by eye: a site's footprint goes where the
layers say it should be (inside a unit, on a farmland parcel, within 1 km of the Yangtze
shoreline, ...), and then away from every boundary of every layer the rules use by more than
that layer's positional tolerance (``positional_tolerance_m`` in ``layers/catalog.yml``), so a
verdict is never an accident of a boundary: each footprint is either inside a feature by more
than the tolerance, or farther from it than the tolerance, and each line crosses a feature
deeper than the tolerance or stays farther away.  Placements are the deepest point
(``shapely.maximum_inscribed_circle``) of the allowed region near a real-world anchor; offsets
are measured in the working CRS (metres).  The written coordinates (rounded to 1e-6 degree) are
loaded back with :func:`zoning.sites.load_sites`, exactly as screening reads them, and checked
again; the measured distances go into the ``why`` texts.  The one deliberate exception is the
GCJ-02 site, which must sit near a boundary.

It also regenerates the tables of ``README.md`` (between its ``examples:begin`` and
``examples:end`` markers) from the files it wrote.

Deterministic (no randomness, no clock); re-running gives byte-identical files.  Needs only the
demonstration catalog (``layers/catalog.yml``).  About 10 s.

Usage::

    python layers/examples/build_examples.py [--out-dir DIR]

Exit status 0 when every placement keeps its margins, 1 (one line on stderr) otherwise.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from shapely.geometry import LineString, Point, Polygon

from zoning.crs import WGS84, WORKING_CRS, wgs84_to_gcj02
from zoning.layerset import LayerSet, load_catalog
from zoning.sites import load_sites

HERE = Path(__file__).resolve().parent
CATALOG = HERE.parent / "catalog.yml"

_FWD = pyproj.Transformer.from_crs(WGS84, WORKING_CRS, always_xy=True)
_INV = pyproj.Transformer.from_crs(WORKING_CRS, WGS84, always_xy=True)
GEOD = pyproj.Geod(ellps="WGS84")

#: Layers whose features the rules test, and so whose boundaries a site must keep away from.
RULED = (
    "red_line",
    "water_source_zones",
    "nature_reserves_2026",
    "basic_farmland",
    "development_boundary",
    "control_units",
    "yangtze_shoreline",
    "heritage_sites",
    "noise_sensitive_areas",
)
#: The day whose layers the examples are placed on and documented for (the 2026 reserve
#: regulation and the 2026 reserve zoning are in force; fixed, so the build has no clock).
AS_OF = "2026-04-01"
#: A day of the 2017 reserve regime (the ``nature_reserves`` vintage valid to 2026-03-14),
#: for the example whose verdict changed on 2026-03-15.
AS_OF_2017 = "2026-03-01"
#: Extra distance kept beyond each layer's tolerance when placing (the check uses the bare
#: tolerance; this covers rounding to 1e-6 degree and densification).
SLACK_M = 20.0
#: Footprints keep this far from rivers and lakes (a factory is not built in a river).
WATER_GAP_M = 40.0
#: The distance of 长江保护法 art. 26 (yangtze.chemical).
YANGTZE_M = 1000.0
DECIMALS = 6


class BuildError(Exception):
    """A placement that cannot keep its margins."""


# --------------------------------------------------------------------------- geometry helpers


def to_xy(lon: float, lat: float) -> Point:
    x, y = _FWD.transform(lon, lat)
    return Point(x, y)


def to_ll(geom):
    """Working CRS -> WGS84 lon/lat, rounded to 1e-6 degree."""

    def f(coords: np.ndarray) -> np.ndarray:
        lon, lat = _INV.transform(coords[:, 0], coords[:, 1])
        return np.round(np.column_stack([lon, lat]), DECIMALS)

    return shapely.transform(geom, f)


def rect(center: Point, width: float, height: float, angle: float = 0.0) -> Polygon:
    """A ``width`` x ``height`` m rectangle centred on ``center``, turned ``angle`` degrees."""
    w, h = width / 2, height / 2
    poly = Polygon([(-w, -h), (w, -h), (w, h), (-w, h)])
    poly = shapely.affinity.rotate(poly, angle, origin=(0, 0))
    return shapely.affinity.translate(poly, center.x, center.y)


def circumradius(width: float, height: float) -> float:
    return float(np.hypot(width, height) / 2)


class Layers:
    """The demonstration layers with the unions and boundary bands placements need."""

    def __init__(self, ls: LayerSet, ls_2017: LayerSet | None = None) -> None:
        self.ls = ls
        self.ls_2017 = ls_2017
        self.tol = {lid: float(ls.catalog.by_id(lid).positional_tolerance_m or 0) for lid in RULED}
        self._cache: dict = {}

    def gdf(self, lid: str) -> gpd.GeoDataFrame:
        return self.ls[lid].gdf

    def feats(self, lid: str, **where) -> gpd.GeoDataFrame:
        g = self.gdf(lid)
        for key, value in where.items():
            values = value if isinstance(value, list | tuple) else [value]
            g = g[g[key].isin(values)]
        if not len(g):
            raise BuildError(f"no feature of {lid} with {where}")
        return g

    def geom(self, lid: str, **where):
        key = (lid, tuple(sorted((k, str(v)) for k, v in where.items())))
        if key not in self._cache:
            self._cache[key] = shapely.union_all(self.feats(lid, **where).geometry.to_numpy())
        return self._cache[key]

    def one(self, lid: str, **where):
        """The single feature matching ``where`` (a row)."""
        g = self.feats(lid, **where)
        if len(g) != 1:
            raise BuildError(f"{len(g)} features of {lid} match {where}, expected one")
        return g.iloc[0]

    def clip(self, lid: str, base, **where):
        """The union of the features of ``lid`` matching ``where``, clipped to ``base``."""
        g = self.feats(lid, **where)
        geoms = g.geometry.to_numpy()[np.sort(g.sindex.query(base, predicate="intersects"))]
        return shapely.union_all(shapely.intersection(geoms, base))

    def reserve_2017(self, nr_id: str):
        """A zone of the 2017 reserve zoning (the vintage in force up to 2026-03-14)."""
        g = self.ls_2017["nature_reserves"].gdf
        return g[g["nr_id"] == nr_id].geometry.iloc[0]

    def unit(self, code: str):
        return self.one("control_units", unit_code=code)

    @property
    def shore(self):
        return self.geom("yangtze_shoreline")

    def _near(self, lid: str, geom, distance: float) -> np.ndarray:
        """Geometries of layer ``lid`` within ``distance`` of ``geom`` (spatial index)."""
        g = self.gdf(lid)
        idx = g.sindex.query(geom, predicate="dwithin", distance=distance)
        return g.geometry.to_numpy()[np.sort(idx)]

    def band(self, lid: str, clip, extra: float = SLACK_M):
        """The strip within tolerance + ``extra`` of any boundary of layer ``lid`` near ``clip``."""
        t = self.tol[lid] + extra
        geoms = self._near(lid, clip, t + 1.0)
        if not len(geoms):
            return Polygon()
        if self.ls[lid].entry.kind_info.geometry == "polygon":
            geoms = shapely.boundary(geoms)
        # Only the part of a boundary near the clip region matters.
        geoms = shapely.intersection(geoms, shapely.envelope(clip).buffer(t + 10.0))
        return shapely.union_all(shapely.buffer(geoms, t))

    def safe(self, target, *, water_gap: float = WATER_GAP_M):
        """``target`` minus the tolerance band of every ruled layer (and minus water)."""
        region = target
        for lid in RULED:
            region = region.difference(self.band(lid, target))
        if water_gap:
            w = self._near("water", target, 0.0)
            if len(w):
                w = shapely.intersection(w, shapely.envelope(target).buffer(water_gap + 10.0))
                region = region.difference(shapely.union_all(shapely.buffer(w, water_gap)))
        return region

    def place(
        self,
        target,
        *,
        radius: float = 0.0,
        anchor: tuple[float, float] | None = None,
        search_m: float = 3000.0,
        water_gap: float = WATER_GAP_M,
    ) -> Point:
        """The deepest point, near ``anchor``, where a footprint of ``radius`` fits safely.

        With an anchor, only the part of ``target`` within ``search_m`` of it is considered
        (the whole target when that part has no room).
        """
        candidates = [target]
        if anchor is not None:
            candidates.insert(0, target.intersection(to_xy(*anchor).buffer(search_m)))
        for part in candidates:
            if part.is_empty:
                continue
            region = self.safe(part, water_gap=water_gap)
            if radius:
                region = region.buffer(-radius)
            if not region.is_empty and region.area > 1.0:
                break
        else:
            raise BuildError("no room left for the site once the boundary bands are removed")
        line = shapely.maximum_inscribed_circle(region, 1.0)
        return Point(line.coords[0])


# --------------------------------------------------------------------------- robustness check


def robustness(L: Layers, geom, *, yangtze: bool, slack: float = 0.0) -> list[str]:
    """Every (feature, relation) of a site that a shift within tolerance could change.

    A site is robust against a polygon feature when it lies inside the feature's inward
    buffer by the tolerance, or farther from the feature than the tolerance; a line is also
    robust when it crosses the inward buffer (it keeps crossing the feature under any shift
    within the tolerance).  For the shoreline, what matters is the 1 km of 长江保护法 art. 26
    (checked for projects that rule could apply to): the distance must differ from 1 km by more
    than the tolerance.
    """
    problems = []
    is_line = geom.geom_type in ("LineString", "MultiLineString")
    for lid in RULED:
        t = L.tol[lid] + slack
        g = L.gdf(lid)
        if lid == "yangtze_shoreline":
            if yangtze:
                d = float(g.geometry.distance(geom).min())
                if abs(d - YANGTZE_M) <= t:
                    problems.append(f"{lid}: {d:.0f} m from the shoreline, within {t:g} m of 1 km")
            continue
        near = g[g.geometry.distance(geom) <= t]
        for _, f in near.iterrows():
            inner = f.geometry.buffer(-t)
            if geom.within(inner) or (is_line and geom.intersects(inner)):
                continue
            problems.append(f"{lid} {f['feature_id']} ({f.get('name', '')}): within {t:g} m")
    return problems


def footprint_facts(L: Layers, geom) -> dict:
    """Measured numbers the ``why`` texts quote (working CRS, metres)."""
    cover = L.geom("districts").union(L.geom("sea_area"))
    facts = {
        "d_shore": float(L.shore.distance(geom)),
        "d_cover": float(cover.distance(geom)),
        "d_core": float(L.geom("nature_reserves_2026", category="核心保护区").distance(geom)),
        "d_main": float(L.geom("yangtze_shoreline", stream="main").distance(geom)),
        "d_tributary": float(L.geom("yangtze_shoreline", stream="tributary").distance(geom)),
    }
    for lid in RULED:
        if lid == "yangtze_shoreline":
            continue
        g = L.gdf(lid)
        d = g.geometry.distance(geom)
        facts[f"d_{lid}"] = float(d.min()) if len(d) else float("inf")
        inside = g[g.geometry.intersects(geom)]
        facts[f"in_{lid}"] = inside
        if len(inside):
            facts[f"depth_{lid}"] = float(
                min(shapely.distance(shapely.boundary(f), geom) for f in inside.geometry)
            )
    return facts


def r10(value: float) -> int:
    """Round a measured distance to 10 m for the texts."""
    return int(round(value / 10.0) * 10)


# --------------------------------------------------------------------------- the examples


@dataclass
class Example:
    """One example project: attributes, how it is placed, and what it should get."""

    id: str
    name: str
    name_en: str
    industry: str
    nature: str
    flags: dict[str, bool]
    expected_verdict: str
    expected_rules: list[str]
    place: Callable[[Layers], object]
    why_zh: Callable[[dict], str]
    why_en: Callable[[dict], str]
    absent_rules: list[str] = field(default_factory=list)
    expected_status: list[str] = field(default_factory=list)
    check_margins: bool = True
    #: The project facts of issue 12 the rules read (discharge, key_project, red_line_activity,
    #: facility, residential_building, noise), declared so that no rule is left undecided.
    attrs: dict = field(default_factory=dict)


def _flags(linear=False, wastewater=False, air=False, hazardous=False) -> dict[str, bool]:
    return {"linear": linear, "wastewater": wastewater, "air": air, "hazardous": hazardous}


def _attrs(
    discharge: str = "none",
    *,
    facility: str = "none",
    red_line_activity: str = "none",
    key_project: bool = False,
    residential_building: bool = False,
    noise: bool = False,
) -> dict:
    """The issue-12 project facts, all declared (sites-file columns, as ``zoning screen`` reads)."""
    return {
        "discharge": discharge,
        "key_project": key_project,
        "red_line_activity": red_line_activity,
        "facility": facility,
        "residential_building": residential_building,
        "noise": noise,
    }


def _footprint(
    L: Layers,
    target,
    size: tuple[float, float] | None,
    anchor: tuple[float, float] | None,
    angle: float = 0.0,
):
    """A rectangle (``size`` in m) or a point, placed safely inside ``target``."""
    radius = circumradius(*size) if size else 0.0
    c = L.place(target, radius=radius, anchor=anchor)
    return rect(c, size[0], size[1], angle) if size else c


def _line_between(
    L: Layers, a_region, b_region, a_anchor, b_anchor, *, avoid=None, avoid_m: float = 0.0
) -> LineString:
    """A straight line from ``a_region`` to ``b_region`` that is robust (:func:`robustness`).

    The end in ``b_region`` is its deepest safe point near ``b_anchor``.  The start is the
    deepest safe point of ``a_region`` near ``a_anchor`` if that line is robust and keeps more
    than ``avoid_m`` from ``avoid``; otherwise points of a 250 m grid over the safe part of
    ``a_region`` are tried, nearest to ``a_anchor`` first.
    """
    b = L.place(b_region, anchor=b_anchor, search_m=1500, water_gap=0)
    a0 = L.place(a_region, anchor=a_anchor, search_m=1500, water_gap=0)
    safe_a = L.safe(a_region.intersection(to_xy(*a_anchor).buffer(3000)), water_gap=0)
    x0, y0, x1, y1 = safe_a.bounds
    xs, ys = np.meshgrid(np.arange(x0, x1, 250.0), np.arange(y0, y1, 250.0))
    grid = shapely.points(xs.ravel(), ys.ravel())
    grid = grid[shapely.contains(safe_a, grid)]
    anchor = to_xy(*a_anchor)
    grid = grid[np.argsort(shapely.distance(grid, anchor), kind="stable")]
    for a in [a0, *grid]:
        line = LineString([a, b])
        if avoid is not None and line.distance(avoid) <= avoid_m + SLACK_M:
            continue
        if not robustness(L, line, yangtze=False, slack=SLACK_M):
            return line
    raise BuildError("no robust straight line between the two regions")


def _not(L: Layers, base, *lids: str):
    """The union of the named layers' features, clipped to ``base`` (for ``difference``)."""
    return shapely.union_all([L.clip(lid, base) for lid in lids])


def _disk(anchor: tuple[float, float], radius: float = 6000.0):
    """A disk around an anchor: targets are built inside it (fast, and near the anchor)."""
    return to_xy(*anchor).buffer(radius)


def _names(facts: dict, lid: str, lang: str = "zh") -> str:
    """The names of the features of ``lid`` the site touches (for the texts)."""
    g = facts[f"in_{lid}"]
    col = "name_en" if lang == "en" and "name_en" in g.columns else "name"
    names = [str(v) for v in g[col].tolist()] if col in g.columns else []
    if lid == "basic_farmland":
        ids = ", ".join(g["feature_id"].astype(str))
        return f"{'parcel' if lang == 'en' else '地块'} {ids}"
    sep = ", " if lang == "en" else "、"
    return sep.join(dict.fromkeys(names))


def _farmland_line(L: Layers, *, district: str, anchor: tuple[float, float]) -> LineString:
    """A straight road across one farmland parcel that touches nothing else the rules use.

    Parcels of ``district`` are tried nearest to ``anchor`` first, and for each one straight
    lines through its deepest point at 15-degree steps, running 600 m beyond the parcel on both
    sides; the first line that crosses the parcel deeper than the farmland tolerance, keeps
    clear of the red line, source zones, reserves and priority units, and is robust against
    every boundary (:func:`robustness`) is taken.
    """
    parcels = L.feats("basic_farmland", district=district)
    a = to_xy(*anchor)
    order = np.argsort(parcels.geometry.distance(a).to_numpy(), kind="stable")
    avoid = shapely.union_all(
        [
            L.geom("red_line"),
            L.geom("water_source_zones"),
            L.geom("nature_reserves_2026"),
            L.geom("control_units", category="priority"),
            L.geom("development_boundary"),
        ]
    )
    for i in order[:40]:
        parcel = parcels.geometry.iloc[i]
        c, r = _deepest(parcel)
        if r < L.tol["basic_farmland"] + SLACK_M:
            continue
        for angle in range(0, 180, 15):
            rad = np.radians(angle)
            dx, dy = np.cos(rad), np.sin(rad)
            reach = 0.0
            # Run until the line leaves the parcel, then 600 m further.
            for step in range(1, 200):
                p = Point(c.x + dx * 50 * step, c.y + dy * 50 * step)
                q = Point(c.x - dx * 50 * step, c.y - dy * 50 * step)
                if not parcel.contains(p) and not parcel.contains(q):
                    reach = 50 * step + 600
                    break
            line = LineString(
                [(c.x - dx * reach, c.y - dy * reach), (c.x + dx * reach, c.y + dy * reach)]
            )
            if line.distance(avoid) <= 500 + SLACK_M:
                continue
            if robustness(L, line, yangtze=False, slack=SLACK_M):
                continue
            return line
    raise BuildError(f"no robust road across the farmland of {district}")


def _deepest(region) -> tuple[Point, float]:
    line = shapely.maximum_inscribed_circle(region, 1.0)
    return Point(line.coords[0]), float(line.length)


# Real-world anchors (WGS84 lon/lat, approximate): where such a project would plausibly be.
ANCHOR = {
    "changxing_south": (121.712, 31.371),  # 长兴岛南岸 shipyards
    "gaoqiao": (121.628, 31.351),  # 高桥 (浦东) petrochemical area
    "scip": (121.44, 30.80),  # 上海化学工业区 (漕泾)
    "nanjing_road": (121.482, 31.236),  # 南京东路 (黄浦)
    "jinshan_ind": (121.20, 30.88),  # 金山工业区 (亭林)
    "chenjia": (121.86, 31.53),  # 陈家镇 (崇明)
    "songpu": (121.26, 30.96),  # 松浦大桥取水口
    "luojing": (121.37, 31.48),  # 罗泾 (宝山)
    "zhujiajiao": (121.04, 31.10),  # 朱家角 / 金泽 (青浦)
    "dongtan": (121.95, 31.50),  # 崇明东滩
    "jiading_rural": (121.20, 31.39),  # 嘉定 north-west
    "wujing": (121.46, 31.02),  # 吴泾 (闵行)
    "baowu": (121.43, 31.40),  # 宝钢 (宝山)
    "fengxian_rural": (121.60, 30.90),  # 奉贤 east
    "kunshan": (120.96, 31.38),  # 昆山 (江苏), outside Shanghai
    "xinzhuang": (121.38, 31.11),  # 莘庄 (闵行)
}


def _examples() -> list[Example]:
    E = []

    # 1. A chemical plant within 1 km of the Yangtze, inside an industrial-park unit.
    def place_yangtze_chem(L: Layers):
        unit = L.unit("ZH31015120002").geometry
        target = (
            unit.intersection(L.shore.buffer(YANGTZE_M - 250))
            .difference(_not(L, unit, "red_line", "water_source_zones", "basic_farmland"))
            .intersection(L.clip("development_boundary", unit))
        )
        return _footprint(L, target, (160, 120), ANCHOR["changxing_south"])

    E.append(
        Example(
            id="yangtze-chemical",
            name="长兴岛船舶涂料厂（新建）",
            name_en="Marine coatings plant on Changxing Island (new)",
            industry="C2641",
            nature="new",
            flags=_flags(wastewater=True, air=True, hazardous=True),
            attrs=_attrs("sewer", noise=True),
            expected_verdict="prohibited",
            expected_rules=["yangtze.chemical", "city.chemical_park_only"],
            place=place_yangtze_chem,
            absent_rules=["park.in_park"],
            why_zh=lambda f: (
                f"厂界距长江干流岸线约 {r10(f['d_main'])} 米，在一公里范围内；涂料制造（C2641）"
                "属化工项目，长江保护法第二十六条禁止新建（yangtze.chemical）。所在的长兴海洋装备"
                "产业基地是产业园区单元，但不是经认定的化工园区：化工项目须进入经认定的化工园区"
                "（city.chemical_park_only），"
                "园区清单的“有条件”（park.in_park）不适用于化工项目：禁止。"
            ),
            why_en=lambda f: (
                f"The plant lies about {r10(f['d_main'])} m from the Yangtze main-stream "
                "shoreline, inside the 1 km band; coatings manufacture (C2641) is a chemical "
                "project, so Yangtze River Protection Law art. 26 prohibits it "
                "(yangtze.chemical).  Its unit, the Changxing marine-equipment base, is an "
                "industrial-park unit but not a recognised chemical park: chemical projects "
                "belong in a recognised chemical park (city.chemical_park_only), and the park "
                "list's conditional admission (park.in_park) does not reach chemical projects: "
                "prohibited."
            ),
        )
    )

    # 2. The rebuild of an existing chemical plant in the same band: conditional.
    def place_yangtze_rebuild(L: Layers):
        base = _disk(ANCHOR["gaoqiao"]).intersection(L.shore.buffer(YANGTZE_M - 250))
        target = (
            base.difference(_not(L, base, "red_line", "water_source_zones", "basic_farmland"))
            .intersection(L.clip("development_boundary", base))
            .intersection(L.clip("control_units", base, access_list="city/key/urban"))
        )
        return _footprint(L, target, (180, 140), ANCHOR["gaoqiao"])

    E.append(
        Example(
            id="yangtze-chemical-rebuild",
            name="高桥化工厂技术改造（改建，不新增产能）",
            name_en="Gaoqiao chemical plant retrofit (rebuild, no added capacity)",
            industry="C2614",
            nature="rebuild",
            flags=_flags(wastewater=True, air=True, hazardous=True),
            attrs=_attrs("sewer", noise=True),
            expected_verdict="conditional",
            expected_rules=["yangtze.chemical_rebuild", "key.emissions", "key.risk"],
            absent_rules=[
                "yangtze.chemical",
                "city.chemical_park_only",
                "city.park_only",
                "urban.polluting_industry",
            ],
            place=place_yangtze_rebuild,
            why_zh=lambda f: (
                f"现有化工厂距长江干支流岸线约 {r10(f['d_shore'])} "
                "米。第二十六条禁止的是新建、扩建；"
                "改建不得新增产能（yangtze.chemical_rebuild，有条件）。所在城镇重点管控单元要求"
                "取得重点污染物排放总量指标和环境风险防控（key.emissions、key.risk）。改建不受"
                "化工园区要求约束（city.chemical_park_only 只管新建、扩建）。"
            ),
            why_en=lambda f: (
                f"An existing chemical plant about {r10(f['d_shore'])} m from the Yangtze "
                "main-stream or tributary shoreline.  Art. 26 prohibits new and expanded "
                "chemical projects; a rebuild must add no capacity (yangtze.chemical_rebuild, "
                "conditional).  Its urban key unit asks for a key-pollutant quota and risk "
                "prevention (key.emissions, key.risk).  The chemical-park requirement "
                "(city.chemical_park_only) covers new and expanded projects, not rebuilds."
            ),
        )
    )

    # 3. A chemical plant inside the Shanghai Chemical Industry Park, far from the Yangtze.
    def place_scip(L: Layers):
        unit = L.unit("ZH31011620002").geometry
        target = unit.difference(_not(L, unit, "red_line", "water_source_zones", "basic_farmland"))
        return _footprint(L, target, (400, 300), ANCHOR["scip"])

    E.append(
        Example(
            id="scip-chemical",
            name="上海化学工业区聚氨酯项目（新建）",
            name_en="Polyurethane plant in the Shanghai Chemical Industry Park (new)",
            industry="C2651",
            nature="new",
            flags=_flags(wastewater=True, air=True, hazardous=True),
            attrs=_attrs("sewer", noise=True),
            expected_verdict="conditional",
            expected_rules=["scip.chemical", "key.emissions", "key.risk"],
            absent_rules=["yangtze.chemical", "city.chemical_park_only", "park.in_park"],
            place=place_scip,
            why_zh=lambda f: (
                "位于上海化学工业区重点管控单元（ZH31011620002，"
                "经认定的化工园区）内，距长江干支流岸线约 "
                f"{round(f['d_shore'] / 1000)} 公里"
                "（远超一公里）。该单元清单允许符合园区定位和规划环评的化工项目（scip.chemical），"
                "并要求排放总量和风险防控（key.emissions、key.risk）：有条件准入。"
            ),
            why_en=lambda f: (
                "Inside the Shanghai Chemical Industry Park key unit (ZH31011620002, a recognised "
                f"chemical park), about {round(f['d_shore'] / 1000)} km from the Yangtze "
                "main-stream and tributary shorelines (far beyond 1 km).  "
                "The unit's list admits chemical projects that fit the park's positioning and "
                "plan EIA (scip.chemical) with discharge and risk conditions (key.emissions, "
                "key.risk): conditional."
            ),
        )
    )

    # 4. A raw-water pipeline leaving the Qingcaosha reservoir across its protection zones.
    def place_qcs_pipeline(L: Layers):
        level1 = L.one("water_source_zones", wsz_id="WSZ05").geometry
        level2 = L.one("water_source_zones", wsz_id="WSZ06").geometry
        start = level1
        base = _disk((121.712, 31.392), 4000)
        end = (
            L.clip("districts", base)
            .difference(level1.union(level2).buffer(600))
            .difference(_not(L, base, "basic_farmland", "red_line"))
            .intersection(L.clip("development_boundary", base))
        )
        return _line_between(L, start, end, (121.64, 31.44), (121.712, 31.392))

    E.append(
        Example(
            id="qcs-raw-water-pipeline",
            name="青草沙水库至长兴岛水厂原水管道",
            name_en="Raw-water main from the Qingcaosha reservoir to the Changxing water works",
            industry="D4610",
            nature="new",
            flags=_flags(linear=True),
            attrs=_attrs(red_line_activity="6"),
            expected_verdict="restricted",
            expected_rules=["red_line.linear", "qcs.linear"],
            absent_rules=["water_source.level1", "qcs.construction", "red_line.construction"],
            place=place_qcs_pipeline,
            why_zh=lambda f: (
                "管线从青草沙饮用水水源一级保护区（生态保护红线）内的取水点出发，穿过二级保护区，"
                "到达长兴岛城镇开发边界内的水厂。"
                "供水设施属必须且无法避让的线性工程（声明为第6类有限"
                "人为活动），可在红线内建设但须论证不可避让并取得省级认定意见（red_line.linear）；"
                "青草沙单元清单同样要求论证并落实水源保护措施"
                "（qcs.linear）。供水（D4610）不受一级保护区禁建规则约束：需专项论证/审批。"
            ),
            why_en=lambda f: (
                "The main runs from an intake inside the Qingcaosha level-1 source zone "
                "(ecological red line) across the level-2 zone to a water works inside the "
                "development boundary on Changxing Island.  Water supply is linear "
                "infrastructure that must cross the red line (declared as limited activity 6), "
                "allowed only after an unavoidability demonstration and the provincial "
                "confirming opinion (red_line.linear); the Qingcaosha unit's list "
                "asks the same, plus source-protection measures (qcs.linear).  Water supply "
                "(D4610) is exempt from the level-1 construction ban: restricted."
            ),
        )
    )

    # 5. A restaurant in Huangpu (urban key unit).
    def place_restaurant(L: Layers):
        unit = L.one("control_units", district="黄浦区").geometry
        target = unit.intersection(L.clip("development_boundary", unit))
        return _footprint(L, target, None, ANCHOR["nanjing_road"])

    E.append(
        Example(
            id="huangpu-restaurant",
            name="南京东路中餐馆（新开，居民楼底层）",
            name_en="Chinese restaurant off Nanjing Road East (new, in a residential building)",
            industry="H6210",
            nature="new",
            flags=_flags(wastewater=True, air=True),
            attrs=_attrs("sewer", residential_building=True),
            expected_verdict="prohibited",
            expected_rules=["air.catering_residential", "air.catering_fumes", "key.emissions"],
            absent_rules=["urban.polluting_industry"],
            place=place_restaurant,
            why_zh=lambda f: (
                "位于黄浦区城镇重点管控单元（ZH31010120001），"
                "在城镇开发边界内，远离红线、水源保护区"
                "和长江岸线。餐馆开在居民住宅楼底层并产生油烟：大气污染防治法第八十一条第二款禁止在"
                "居民住宅楼内新建产生油烟的餐饮服务项目（air.catering_residential）：禁止。"
                "开在非居住"
                "建筑内则只须安装油烟净化设施（air.catering_fumes）并取得排放总量指标（key.emissions），"
                "为有条件准入。餐饮不属制造业，"
                "不触发城镇单元的工业限制（urban.polluting_industry）。"
            ),
            why_en=lambda f: (
                "In the Huangpu urban key unit (ZH31010120001), inside the development boundary, "
                "far from the red line, source zones and the Yangtze.  The restaurant is on the "
                "ground floor of a residential building and produces cooking fumes: the Air "
                "Pollution Law art. 81(2) prohibits new catering that produces fumes in a "
                "residential building (air.catering_residential): prohibited.  In a "
                "non-residential building it would only need fume cleaning (air.catering_fumes) "
                "and a key-pollutant quota (key.emissions): conditional.  Catering is not "
                "manufacturing, so the urban unit's industry restriction "
                "(urban.polluting_industry) does not apply."
            ),
        )
    )

    # 6. A logistics park in a Jinshan industrial-park unit inside the development boundary.
    def place_logistics(L: Layers):
        unit = L.unit("ZH31011620010").geometry
        target = unit.intersection(L.clip("development_boundary", unit)).difference(
            _not(L, unit, "basic_farmland", "red_line", "water_source_zones")
        )
        return _footprint(L, target, (500, 360), ANCHOR["jinshan_ind"])

    E.append(
        Example(
            id="jinshan-logistics-park",
            name="金山区产业区块物流园（新建通用仓储）",
            name_en="Logistics park in a Jinshan industrial block (new general warehousing)",
            industry="G5920",
            nature="new",
            flags=_flags(),
            attrs=_attrs(),
            expected_verdict="permitted",
            expected_rules=[],
            absent_rules=["development_boundary.outside", "park.in_park", "key.emissions"],
            place=place_logistics,
            why_zh=lambda f: (
                "位于金山区产业区块04重点管控单元（ZH31011620010，"
                "产业园区清单），完全在城镇开发边界内，"
                "不占永久基本农田，远离红线和水源保护区。"
                "通用仓储（G5920）不排放废水废气、不涉及危险"
                "化学品，也不是“两高”或化工项目，没有任何规则适用：未发现不符合项。"
            ),
            why_en=lambda f: (
                "In the Jinshan industrial block 04 key unit (ZH31011620010, industrial-park "
                "list), wholly inside the development boundary, off basic farmland and far from "
                "the red line and source zones.  General warehousing (G5920) with no waste water, "
                "air emissions or hazardous chemicals, neither 两高 nor chemical: no rule "
                "applies, so permitted."
            ),
        )
    )

    # 7. A road across permanent basic farmland.
    def place_farm_road(L: Layers):
        return _farmland_line(L, district="崇明区", anchor=ANCHOR["chenjia"])

    E.append(
        Example(
            id="farmland-road",
            name="崇明区县道新建工程",
            name_en="New county road in Chongming",
            industry="E4812",
            nature="new",
            flags=_flags(linear=True),
            attrs=_attrs(key_project=False),
            expected_verdict="prohibited",
            expected_rules=["basic_farmland.occupation"],
            absent_rules=["basic_farmland.key_project", "development_boundary.outside"],
            place=place_farm_road,
            why_zh=lambda f: (
                f"道路穿越永久基本农田（{_names(f, 'basic_farmland')}）。"
                "只有自然资规〔2018〕3号所列重大建设项目（国家级规划的公路、"
                "省级高速公路等）可报国务院"
                "批准占用永久基本农田；县道不在其列（key_project "
                "为否），不得占用（basic_farmland.occupation）："
                "禁止，应调整线位避让。线性工程不受开发边界外建设规则约束。"
            ),
            why_en=lambda f: (
                "The road crosses permanent basic farmland "
                f"({_names(f, 'basic_farmland', 'en')}).  "
                "Only the major projects listed in "
                "自然资规〔2018〕3号 (national-plan roads, provincial "
                "expressways, ...) may seek State Council approval to occupy permanent basic "
                "farmland; a county road is not one (key_project = no), so it may not occupy it "
                "(basic_farmland.occupation): prohibited, re-align it.  Linear works are exempt "
                "from the outside-boundary rule."
            ),
        )
    )

    # 8. A factory on permanent basic farmland.
    def place_farm_factory(L: Layers):
        parcels = L.feats("basic_farmland", district="奉贤区")
        target = shapely.union_all(parcels.geometry.to_numpy())
        return _footprint(L, target, (200, 150), ANCHOR["fengxian_rural"])

    E.append(
        Example(
            id="farmland-factory",
            name="奉贤区钢结构加工厂（新建，占用农田）",
            name_en="Steel-structure workshop on farmland in Fengxian (new)",
            industry="C3311",
            nature="new",
            flags=_flags(air=True),
            attrs=_attrs(noise=True),
            expected_verdict="prohibited",
            expected_rules=["basic_farmland.occupation", "development_boundary.outside"],
            place=place_farm_factory,
            why_zh=lambda f: (
                f"厂区完全位于永久基本农田（{_names(f, 'basic_farmland')}）内，距地块边界约 "
                f"{r10(f['depth_basic_farmland'])} 米。永久基本农田不得占用或改变用途"
                "（basic_farmland.occupation）：禁止。它还在城镇开发边界外"
                "（development_boundary.outside，需专项论证/审批）。"
            ),
            why_en=lambda f: (
                "The whole site lies on permanent basic farmland "
                f"({_names(f, 'basic_farmland', 'en')}), "
                f"about {r10(f['depth_basic_farmland'])} m inside the parcel.  Basic farmland may "
                "not be occupied or change use (basic_farmland.occupation): prohibited.  It is "
                "also outside the development boundary (development_boundary.outside, "
                "restricted)."
            ),
        )
    )

    # 9. A guesthouse in a level-1 drinking-water source zone.
    def place_level1(L: Layers):
        zone = L.one("water_source_zones", wsz_id="WSZ02").geometry
        target = zone.intersection(L.clip("districts", zone))
        return _footprint(L, target, None, ANCHOR["songpu"])

    E.append(
        Example(
            id="source-level1-guesthouse",
            name="松浦大桥取水口旁民宿（新建）",
            name_en="Guesthouse by the Songpu Bridge intake (new)",
            industry="H6130",
            nature="new",
            flags=_flags(),
            attrs=_attrs(),
            expected_verdict="prohibited",
            expected_rules=["water_source.level1"],
            absent_rules=["red_line.construction"],
            place=place_level1,
            why_zh=lambda f: (
                "位于黄浦江上游饮用水水源一级保护区（松浦大桥取水口）内，距边界约 "
                f"{r10(f['depth_water_source_zones'])} 米。一级保护区禁止与供水设施和保护水源无关的"
                "建设项目（water_source.level1）：禁止。即使不排放任何污染物也一样。该区同时是生态保护"
                "红线，红线内的饮用水水源保护区依照法律法规执行（自然资发〔2022〕142号），由水源保护"
                "的规则决定，红线规则不另作结论（red_line.construction 不适用）。"
            ),
            why_en=lambda f: (
                "Inside the Huangpu upstream level-1 source zone (Songpu Bridge intake), about "
                f"{r10(f['depth_water_source_zones'])} m from its edge.  Level-1 zones admit "
                "nothing unrelated to water supply or source protection (water_source.level1): "
                "prohibited, even with no discharge at all.  The zone is also ecological red "
                "line, where a source zone follows its own law (依照法律法规执行, 142号): the "
                "source-zone rules decide and the red line stands aside (red_line.construction "
                "does not apply)."
            ),
        )
    )

    # 10. A food plant discharging waste water in a level-2 source zone.
    def place_level2(L: Layers):
        base = _disk(ANCHOR["luojing"])
        level2 = L.clip("water_source_zones", base, level="level2")
        target = level2.intersection(L.clip("districts", base)).difference(
            _not(L, base, "basic_farmland", "red_line")
        )
        return _footprint(L, target, (120, 90), ANCHOR["luojing"])

    E.append(
        Example(
            id="source-level2-food-plant",
            name="罗泾米面制品厂（新建，自设排污口排放废水）",
            name_en="Rice-noodle plant at Luojing (new, own outfall for its waste water)",
            industry="C1431",
            nature="new",
            flags=_flags(wastewater=True),
            attrs=_attrs("direct", noise=True),
            expected_verdict="prohibited",
            expected_rules=["water_source.level2", "water_source.outfall"],
            place=place_level2,
            why_zh=lambda f: (
                f"位于{_names(f, 'water_source_zones')}内，"
                "废水经自设排污口直接排放。二级保护区禁止新建"
                "排放污染物的项目（water_source.level2），"
                "保护区内也不得设置排污口（water_source.outfall）：禁止。"
                "若废水全部纳管送出保护区（discharge 为 sewer），这两条都不适用。"
                "所在优先保护单元另有禁止新建工业项目的要求（priority.industrial）。"
            ),
            why_en=lambda f: (
                f"Inside the {_names(f, 'water_source_zones', 'en')}, discharging its waste "
                "water through its own outfall.  A level-2 zone admits no new project that "
                "discharges pollutants (water_source.level2), and no outfall may be set in a "
                "protection zone (water_source.outfall): prohibited.  Piped to a sewer "
                "(discharge = sewer) neither would apply.  "
                "Its priority unit also bars new industrial "
                "projects (priority.industrial)."
            ),
        )
    )

    # 11. A printing-and-dyeing plant in the quasi-protection zone.
    def place_quasi(L: Layers):
        quasi = L.one("water_source_zones", wsz_id="WSZ04").geometry
        target = quasi.difference(_not(L, quasi, "basic_farmland", "red_line"))
        return _footprint(L, target, (250, 200), ANCHOR["zhujiajiao"])

    E.append(
        Example(
            id="source-quasi-dyeing",
            name="青浦印染厂（新建，排放废水）",
            name_en="Cotton printing-and-dyeing plant in Qingpu (new, discharges waste water)",
            industry="C1713",
            nature="new",
            flags=_flags(wastewater=True, air=True),
            attrs=_attrs("direct", noise=True),
            expected_verdict="prohibited",
            expected_rules=["water_source.quasi", "hpup.wastewater", "priority.industrial"],
            place=place_quasi,
            why_zh=lambda f: (
                "位于黄浦江上游饮用水水源准保护区内，废水直接排放。上海市饮用水水源保护条例第十四条"
                "禁止在准保护区内新建、扩建污染水体的建设项目（water_source.quasi）；"
                "所在黄浦江上游水源"
                "优先保护单元禁止新建直接排放废水的项目（hpup.wastewater），并禁止新建工业项目"
                "（priority.industrial）：禁止。"
            ),
            why_en=lambda f: (
                "Inside the Huangpu upstream quasi-protection zone, discharging its waste water "
                "directly.  The Shanghai drinking-water regulation art. 14 bars new or expanded "
                "projects that pollute the water there (water_source.quasi); the Huangpu "
                "upstream priority unit bars new projects discharging waste water directly "
                "(hpup.wastewater) and new industry (priority.industrial): prohibited."
            ),
        )
    )

    # 12. A resort in the buffer zone (2017) -- core protection zone (2026) -- of a reserve.
    def place_reserve_buffer(L: Layers):
        zone = L.reserve_2017("NR02")
        target = zone.intersection(L.clip("districts", zone))
        return _footprint(L, target, (200, 150), ANCHOR["dongtan"])

    E.append(
        Example(
            id="reserve-buffer-resort",
            name="崇明东滩观鸟度假酒店（新建）",
            name_en="Bird-watching resort hotel at Chongming Dongtan (new)",
            industry="H6110",
            nature="new",
            flags=_flags(wastewater=True),
            attrs=_attrs("sewer"),
            expected_verdict="prohibited",
            expected_rules=["nature_reserve.core_protection"],
            absent_rules=["nature_reserve.core_buffer", "red_line.construction"],
            place=place_reserve_buffer,
            why_zh=lambda f: (
                f"位于{_names(f, 'nature_reserves_2026')}内（2017年区划的缓冲区）。"
                "2026年3月15日起施行的"
                "自然保护区条例第二十六条：除所列活动外，核心保护区内禁止人为活动"
                "（nature_reserve.core_protection）：禁止。保护区同属生态保护红线，红线内的自然保护区"
                "依照法律法规执行，由保护区条例决定（red_line.construction 不适用）。"
                "按2017年条例（至2026年3月14日）同样禁止：缓冲区内"
                "不得建设任何生产设施，禁止旅游和生产经营活动（nature_reserve.core_buffer）。"
            ),
            why_en=lambda f: (
                f"Inside the {_names(f, 'nature_reserves_2026', 'en')} (the buffer zone of the "
                "2017 zoning).  Under the regulation in force from 2026-03-15, art. 26 prohibits "
                "human activity in a core protection zone except the listed activities "
                "(nature_reserve.core_protection): prohibited.  The reserve is also red line, "
                "where a reserve follows its own law (依照法律法规执行): the reserve regulation "
                "decides (red_line.construction does not apply).  "
                "Under the 2017 regulation (to 2026-03-14) it was prohibited too: nothing may be "
                "built in a buffer zone, closed to tourism and business "
                "(nature_reserve.core_buffer)."
            ),
        )
    )

    # 13. A power line into the experimental zone of the same reserve.
    def place_reserve_line(L: Layers):
        nr = L.one("nature_reserves_2026", nr_id="NR26-02").geometry
        base = _disk((121.88, 31.52), 4000)
        outside = (
            L.clip("districts", base)
            .difference(L.clip("red_line", base.buffer(700)).buffer(600))
            .difference(_not(L, base, "basic_farmland", "nature_reserves_2026"))
        )
        farmland = L.clip("basic_farmland", base.buffer(5000))
        return _line_between(
            L,
            outside,
            nr,
            (121.865, 31.51),
            (121.905, 31.505),
            avoid=farmland,
            avoid_m=L.tol["basic_farmland"],
        )

    E.append(
        Example(
            id="reserve-experimental-powerline",
            name="崇明东滩湿地监测站10千伏供电线路",
            name_en="10 kV supply line to a wetland monitoring station at Dongtan",
            industry="D4420",
            nature="new",
            flags=_flags(linear=True),
            attrs=_attrs(red_line_activity="6"),
            expected_verdict="restricted",
            expected_rules=["red_line.linear", "nature_reserve.general_control_linear"],
            absent_rules=[
                "nature_reserve.core_protection",
                "nature_reserve.general_control",
                "city.two_high_outside_park",
            ],
            place=place_reserve_line,
            why_zh=lambda f: (
                "线路从保护区外进入崇明东滩鸟类国家级自然保护区的一般控制区（2017年区划的实验区），"
                f"距核心保护区边界约 {r10(f['d_core'])} 米。"
                "线性基础设施以无害化方式穿越一般控制区须论证"
                "并取得批准（nature_reserve.general_control_linear，"
                "需专项论证/审批）；作为线性工程（第6类有限人为"
                "活动），在生态保护红线内须论证不可避让（red_line.linear，"
                "需专项论证/审批）：需专项论证/审批。"
            ),
            why_en=lambda f: (
                "The line runs from outside the reserve into the general control zone (the 2017 "
                "experimental zone) of the Chongming Dongtan NNR, ending about "
                f"{r10(f['d_core'])} m from the core protection zone.  Linear infrastructure "
                "crossing a general control zone harmlessly needs a demonstration and approval "
                "(nature_reserve.general_control_linear, restricted); as linear infrastructure "
                "inside the red line (limited activity 6) it needs an unavoidability "
                "demonstration (red_line.linear, restricted): restricted."
            ),
        )
    )

    # 13b. A hotel in the general control zone (2026) -- experimental zone (2017) -- of a
    # reserve: the example whose law changed on 2026-03-15 (screen it --as-of 2026-03-01 and
    # --as-of 2026-04-01).
    def place_reserve_hotel(L: Layers):
        zone = L.one("nature_reserves_2026", nr_id="NR26-02").geometry
        target = zone.intersection(L.clip("districts", zone))
        return _footprint(L, target, (120, 80), ANCHOR["dongtan"])

    E.append(
        Example(
            id="reserve-general-control-hotel",
            name="崇明东滩一般控制区生态酒店（新建）",
            name_en="Eco-hotel in the general control zone at Chongming Dongtan (new)",
            industry="H6110",
            nature="new",
            flags=_flags(wastewater=True),
            attrs=_attrs("sewer"),
            expected_verdict="prohibited",
            expected_rules=["nature_reserve.general_control"],
            absent_rules=[
                "nature_reserve.experimental",
                "nature_reserve.core_protection",
                "red_line.construction",
            ],
            place=place_reserve_hotel,
            why_zh=lambda f: (
                f"位于{_names(f, 'nature_reserves_2026')}内（2017年区划的实验区），距核心保护区约 "
                f"{r10(f['d_core'])} 米。2026年3月15日起，"
                "一般控制区只允许条例所列活动（正面清单），"
                "酒店不在其列（nature_reserve.general_control）：禁止。"
                "按2017年条例（至2026年3月14日），"
                "实验区内建设其他项目只须达标排放并取得管理机构同意（nature_reserve.experimental，"
                "有条件）——以 --as-of 2026-03-01 与 --as-of "
                "2026-04-01 分别筛查可见此变化（3月1日的总体结论为需专项论证/审批：开发边界外、"
                "优先保护单元）。保护区同属生态保护红线，但红线内的自然保护区依照法律法规执行"
                "（自然资发〔2022〕142号），由当日施行的保护区条例决定，红线规则不另作结论"
                "（red_line.construction 不适用）。"
            ),
            why_en=lambda f: (
                f"Inside the {_names(f, 'nature_reserves_2026', 'en')} (the 2017 experimental "
                f"zone), about {r10(f['d_core'])} m from the core protection zone.  From "
                "2026-03-15 a general control zone admits only the activities the regulation "
                "lists (a positive list), and a hotel is not one (nature_reserve.general_control): "
                "prohibited.  Under the 2017 regulation (to 2026-03-14) another project in an "
                "experimental zone only had to meet the emission standards with the "
                "administration's consent (nature_reserve.experimental, conditional): screen it "
                "--as-of 2026-03-01 and --as-of 2026-04-01 to see the change (on 2026-03-01 the "
                "overall verdict is restricted: outside the development boundary, priority "
                "unit).  The reserve is also red line, but a reserve in the red line follows its "
                "own law (依照法律法规执行, 142号): the reserve regulation in force decides and "
                "the red line stands aside (red_line.construction does not apply)."
            ),
        )
    )

    # 14. A factory outside the development boundary (general unit, off farmland).
    def place_outside_udb(L: Layers):
        base = _disk(ANCHOR["jiading_rural"])
        target = (
            L.clip("control_units", base, access_list="city/general")
            .intersection(L.clip("districts", base))
            .difference(_not(L, base, "development_boundary", "basic_farmland", "red_line"))
            .difference(_not(L, base, "water_source_zones"))
        )
        return _footprint(L, target, (220, 160), ANCHOR["jiading_rural"])

    E.append(
        Example(
            id="outside-boundary-parts-plant",
            name="嘉定区汽车零部件厂（新建，开发边界外）",
            name_en="Car-parts plant outside the development boundary in Jiading (new)",
            industry="C3670",
            nature="new",
            flags=_flags(air=True),
            attrs=_attrs("sewer", noise=True),
            expected_verdict="restricted",
            expected_rules=["development_boundary.outside", "general.basic"],
            absent_rules=["basic_farmland.occupation"],
            place=place_outside_udb,
            why_zh=lambda f: (
                f"位于城镇开发边界外约 {r10(f['d_development_boundary'])} 米的一般管控单元，"
                "不占基本农田。开发边界外不得进行城镇集中建设（development_boundary.outside）：需专项论证/审批；"
                "一般管控单元要求达标排放（general.basic，有条件）。"
            ),
            why_en=lambda f: (
                "In a general control unit about "
                f"{r10(f['d_development_boundary'])} m outside the urban development boundary, "
                "off basic farmland.  No concentrated urban construction outside the boundary "
                "(development_boundary.outside): restricted; the general unit asks for "
                "standard-compliant discharge (general.basic, conditional)."
            ),
        )
    )

    # 15. A 两高 project (cement grinding) outside any industrial park.
    def place_cement(L: Layers):
        base = _disk(ANCHOR["wujing"]).intersection(L.one("districts", name_zh="闵行区").geometry)
        target = L.clip("control_units", base, access_list="city/key/urban").intersection(
            L.clip("development_boundary", base)
        )
        return _footprint(L, target, (300, 200), ANCHOR["wujing"])

    E.append(
        Example(
            id="two-high-cement-grinding",
            name="吴泾水泥粉磨站（新建，“两高”）",
            name_en="Cement grinding station at Wujing, Minhang (new, 两高)",
            industry="C3011",
            nature="new",
            flags=_flags(air=True),
            attrs=_attrs(noise=True),
            expected_verdict="prohibited",
            expected_rules=["city.park_only_yangtze", "urban.polluting_industry"],
            absent_rules=["city.two_high_outside_park", "city.park_only", "park.in_park"],
            place=place_cement,
            why_zh=lambda f: (
                f"位于{_names(f, 'control_units')}（城镇单元，不是产业园区单元）。"
                "水泥制造（3011，建材）属长江经济带发展负面清单指南禁止在合规园区外新建、扩建的"
                "高污染项目（city.park_only_yangtze）：禁止；城镇单元也不宜新建排放废气的制造业"
                "（urban.polluting_industry，需专项论证/审批）。此前（2026.5）水泥只按园区外“两高”"
                "项目处理为需论证（city.two_high_outside_park），现由负面清单条款取代。"
            ),
            why_en=lambda f: (
                f"In {_names(f, 'control_units', 'en')} (an urban unit, not an industrial park).  "
                "Cement (3011, building materials) is one of the high-pollution industries the "
                "Yangtze negative-list guide bars from new or expanded projects outside a "
                "compliant park (city.park_only_yangtze): prohibited; the urban unit also "
                "discourages manufacturing that emits air pollutants (urban.polluting_industry, "
                "restricted).  Until 2026.5 cement was only restricted as an outside-park 两高 "
                "project (city.two_high_outside_park); the negative-list clause replaces that."
            ),
        )
    )

    # 16. Steel in the Baowu unit.
    def place_baowu(L: Layers):
        unit = L.unit("ZH31011320002").geometry
        target = unit.difference(_not(L, unit, "red_line", "water_source_zones", "basic_farmland"))
        return _footprint(L, target, (400, 250), ANCHOR["baowu"])

    E.append(
        Example(
            id="baowu-steel-expansion",
            name="宝武宝山基地电炉炼钢扩建",
            name_en="Electric-arc steelmaking expansion at the Baowu Baoshan base",
            industry="C3120",
            nature="expansion",
            flags=_flags(wastewater=True, air=True, hazardous=True),
            attrs=_attrs("sewer", noise=True),
            expected_verdict="conditional",
            expected_rules=["baowu.steel", "key.emissions", "key.risk"],
            absent_rules=[
                "city.two_high_outside_park",
                "city.park_only_yangtze",
                "baowu.off_positioning",
            ],
            place=place_baowu,
            why_zh=lambda f: (
                "位于宝武宝山钢铁基地重点管控单元（ZH31011320002）。"
                "该单元清单允许符合基地规划环评、"
                "达到超低排放并落实产能置换的钢铁项目（baowu.steel），加上重点单元的排放和风险要求"
                "（key.emissions、key.risk）：有条件准入。炼钢是“两高”，但单元清单替代了园区外"
                "“两高”规则。"
            ),
            why_en=lambda f: (
                "In the Baowu Baoshan steel-base key unit (ZH31011320002), whose list admits "
                "steel projects that follow the base's plan EIA, reach ultra-low emissions and "
                "replace capacity (baowu.steel), with the key-unit discharge and risk conditions "
                "(key.emissions, key.risk): conditional.  Steel is 两高, but the unit's list "
                "replaces the outside-park 两高 rule."
            ),
        )
    )

    # 17. An industrial project in a priority protection unit (quasi zone, no discharge).
    def place_priority(L: Layers):
        unit = L.unit("ZH31011810001").geometry
        quasi = L.one("water_source_zones", wsz_id="WSZ04").geometry
        target = unit.intersection(quasi).difference(_not(L, unit, "basic_farmland", "red_line"))
        return _footprint(L, target, (200, 150), (121.06, 31.01))

    E.append(
        Example(
            id="priority-unit-assembly-plant",
            name="青浦练塘计算机整机装配厂（新建，无工艺废水）",
            name_en="Computer assembly plant at Liantang, Qingpu (new, no process waste water)",
            industry="C3911",
            nature="new",
            flags=_flags(),
            attrs=_attrs("sewer", noise=True),
            expected_verdict="prohibited",
            expected_rules=["priority.industrial"],
            absent_rules=["water_source.quasi", "hpup.wastewater"],
            place=place_priority,
            why_zh=lambda f: (
                "位于黄浦江上游饮用水水源保护区优先保护单元（ZH31011810001）的准保护区部分。"
                "优先保护"
                "单元禁止新建、扩建工业项目（priority.industrial）：禁止。"
                "装配无工艺废水，生活污水纳管送出"
                "（discharge 为 sewer），"
                "因此准保护区的水污染规则和单元的废水禁令都不适用——决定结论的是"
                "单元类别。"
            ),
            why_en=lambda f: (
                "In the quasi-protection part of the Huangpu upstream source priority unit "
                "(ZH31011810001).  Priority protection units bar new and expanded industrial "
                "projects (priority.industrial): prohibited.  Assembly has no process waste "
                "water and its sanitary waste water goes to the sewer (discharge = sewer), so "
                "neither the quasi-zone water rule nor the unit's waste-water ban applies: the "
                "unit category decides."
            ),
        )
    )

    # 18. A rebuild in a general unit.
    def place_general(L: Layers):
        base = _disk(ANCHOR["fengxian_rural"])
        target = (
            L.clip("control_units", base, access_list="city/general")
            .intersection(L.clip("districts", base))
            .difference(_not(L, base, "development_boundary", "basic_farmland", "red_line"))
            .difference(_not(L, base, "water_source_zones"))
        )
        return _footprint(L, target, (150, 100), ANCHOR["fengxian_rural"])

    E.append(
        Example(
            id="general-unit-machining-rebuild",
            name="奉贤区机械零部件加工厂改建",
            name_en="Machining workshop rebuild in a Fengxian general unit",
            industry="C3484",
            nature="rebuild",
            flags=_flags(wastewater=True),
            attrs=_attrs("sewer", noise=True),
            expected_verdict="conditional",
            expected_rules=["general.basic"],
            absent_rules=["development_boundary.outside"],
            place=place_general,
            why_zh=lambda f: (
                f"位于{_names(f, 'control_units')}，不占基本农田、远离红线和水源保护区。"
                "一般管控单元要求达标排放和风险防范（general.basic）：有条件准入。"
                "改建现有厂房不算城镇新增建设，"
                "开发边界外规则不适用。"
            ),
            why_en=lambda f: (
                f"In {_names(f, 'control_units', 'en')}, off farmland and far from the red line "
                "and source zones.  General units ask for standard-compliant discharge and risk "
                "measures (general.basic): conditional.  Rebuilding an existing workshop is not "
                "new urban construction, so the outside-boundary rule does not apply."
            ),
        )
    )

    # 19. A chemical plant in an urban unit, outside any industrial park.
    def place_urban_chem(L: Layers):
        base = _disk(ANCHOR["xinzhuang"]).intersection(
            L.one("districts", name_zh="闵行区").geometry
        )
        target = L.clip("control_units", base, access_list="city/key/urban").intersection(
            L.clip("development_boundary", base)
        )
        return _footprint(L, target, (200, 150), ANCHOR["xinzhuang"])

    E.append(
        Example(
            id="urban-paint-factory",
            name="莘庄涂料厂（新建，非产业园区）",
            name_en="Paint factory at Xinzhuang, outside any industrial park (new)",
            industry="C2641",
            nature="new",
            flags=_flags(wastewater=True, air=True, hazardous=True),
            attrs=_attrs("sewer", noise=True),
            expected_verdict="prohibited",
            expected_rules=["city.chemical_park_only", "urban.polluting_industry"],
            place=place_urban_chem,
            why_zh=lambda f: (
                f"位于{_names(f, 'control_units')}（城镇单元）。"
                "新建化工项目应布设在经认定的化工园区（city.chemical_park_only）：禁止；"
                "城镇单元也不宜新建排放废气、涉及危化品的"
                "制造业（urban.polluting_industry，需专项论证/审批）。距长江岸线远超一公里。"
            ),
            why_en=lambda f: (
                f"In {_names(f, 'control_units', 'en')} (an urban unit).  New chemical projects "
                "belong in a recognised chemical park (city.chemical_park_only): "
                "prohibited; the urban unit also discourages manufacturing that emits air "
                "pollutants or handles hazardous chemicals (urban.polluting_industry, "
                "restricted).  Far more than 1 km from the Yangtze."
            ),
        )
    )

    # 20. A site outside Shanghai: the layers do not cover it.
    def place_outside(L: Layers):
        p = to_xy(*ANCHOR["kunshan"])
        cover = L.geom("districts").union(L.geom("sea_area"))
        if cover.distance(p) < 5000:
            raise BuildError("the Kunshan anchor is within 5 km of the Shanghai layers")
        return p

    E.append(
        Example(
            id="outside-coverage-kunshan",
            name="昆山电子厂（江苏省，上海图层覆盖范围外）",
            name_en="Electronics plant in Kunshan, Jiangsu (outside the Shanghai layers)",
            industry="C3973",
            nature="new",
            flags=_flags(wastewater=True),
            attrs=_attrs("sewer", noise=True),
            expected_verdict="unknown",
            expected_rules=[],
            expected_status=["outside_coverage"],
            place=place_outside,
            check_margins=False,
            why_zh=lambda f: (
                "位于江苏省昆山市，距上海市图层（行政区和海域）约 "
                f"{round(f['d_cover'] / 1000)} 公里。图层不覆盖的地方没有“无约束”一说："
                "每一类规则都因超出覆盖范围而无法判断（outside_coverage）：未知。"
            ),
            why_en=lambda f: (
                "In Kunshan, Jiangsu, about "
                f"{round(f['d_cover'] / 1000)} km outside the Shanghai layers (districts and "
                "sea).  Where the layers do not reach there is no 'no constraint': every rule "
                "is undecidable outside coverage (outside_coverage): unknown."
            ),
        )
    )
    return E


# --------------------------------------------------------------------------- GCJ-02 example

#: The project of the GCJ-02 example.
GCJ_PROJECT = {
    "id": "sheshan-hotel-amap",
    "name": "佘山脚下精品酒店（坐标取自高德地图）",
    "name_en": "Boutique hotel below Sheshan (coordinates copied from Amap)",
    "industry": "H6110",
    "nature": "new",
    "linear": "no",
    "wastewater": "yes",
    "air": "no",
    "hazardous": "no",
    "discharge": "sewer",
    "key_project": "no",
    "red_line_activity": "none",
    "facility": "none",
    "residential_building": "no",
    "noise": "no",
}
#: How far outside the red line the true (WGS84) site lies.
GCJ_OFFSET_M = 300.0


def build_gcj(L: Layers) -> tuple[str, list[str]]:
    """The CSV text of amap_gcj02.csv: a site 300 m outside 佘山国家森林公园, in GCJ-02.

    The true site P is placed 300 m outside the red-line feature, on the side the GCJ-02 shift
    points into the feature (the shift is ~480 m towards ESE in Shanghai), at the boundary
    point where the misread position lands deepest inside.  Its GCJ-02 coordinates G are what
    Amap shows.  Read correctly (``--crs gcj02``), G converts back to P: outside the red line,
    boundary-sensitive.  Read wrongly as WGS84, G lies inside the red line.
    """
    feature = L.one("red_line", rl_id="RL008")
    F = feature.geometry
    other = [lid for lid in RULED if lid not in ("red_line", "control_units")]
    best = None
    boundary = F.exterior if F.geom_type == "Polygon" else F.boundary
    for k in range(int(boundary.length // 10)):
        b = boundary.interpolate(10.0 * k)
        b_ll = to_ll(b)
        glon, glat = wgs84_to_gcj02(b_ll.x, b_ll.y)
        shift = np.array(to_xy(float(glon), float(glat)).coords[0]) - np.array(b.coords[0])
        u = shift / np.linalg.norm(shift)
        p = to_ll(Point(b.x - u[0] * GCJ_OFFSET_M, b.y - u[1] * GCJ_OFFSET_M))
        P = to_xy(p.x, p.y)
        if abs(F.distance(P) - GCJ_OFFSET_M) > 5.0:
            continue  # the nearest boundary point is elsewhere: not a clean 300 m
        glon, glat = (round(float(v), DECIMALS) for v in wgs84_to_gcj02(p.x, p.y))
        G = to_xy(glon, glat)
        if not F.contains(G):
            continue
        depth = float(F.exterior.distance(G))
        # Every layer but the red line (and the units it bounds) must be clear-cut at P.
        problems = [q for q in robustness(L, P, yangtze=False) if q.split()[0] in other]
        if problems:
            continue
        if best is None or depth > best[0] + 1e-9:
            best = (depth, p, (glon, glat), float(F.distance(P)))
    if best is None:
        raise BuildError("amap_gcj02: no boundary point of 佘山 fits the design")
    depth, p, (glon, glat), _ = best
    # Check on the rounded GCJ-02 numbers, converted back exactly as screening will.
    back = load_sites(points=[(glon, glat)], crs="gcj02").gdf.geometry.iloc[0]
    misread = load_sites(points=[(glon, glat)], crs="EPSG:4326").gdf.geometry.iloc[0]
    d_true = float(F.distance(back))
    d_in = float(F.exterior.distance(misread))
    if not (GCJ_OFFSET_M - 10 <= d_true <= GCJ_OFFSET_M + 10) or not F.contains(misread):
        raise BuildError("amap_gcj02: the rounded coordinates lost the design")
    if d_true > L.tol["red_line"]:
        raise BuildError("amap_gcj02: the true site is not within the red line's tolerance")
    shift_m = float(GEOD.inv(glon, glat, *to_ll(back).coords[0])[2])
    row = {
        **GCJ_PROJECT,
        "lon": f"{glon:.6f}",
        "lat": f"{glat:.6f}",
        "expected_verdict_gcj02": "restricted",
        "expected_rules_gcj02": "development_boundary.outside",
        "absent_rules_gcj02": "red_line.construction",
        "expected_verdict_as_wgs84": "prohibited",
        "expected_rules_as_wgs84": "red_line.construction",
        "why_zh": (
            f"高德地图（GCJ-02）坐标。正确声明 --crs gcj02 时，换算回 WGS84 的实际位置在上海佘山"
            f"国家森林公园（生态保护红线）外约 {r10(d_true)} 米，位于城镇开发边界外的一般管控单元："
            "开发边界外新建酒店为需专项论证/审批（development_boundary.outside），"
            "并因距红线边界小于其"
            f"定位容差（{L.tol['red_line']:g} 米）而标记为边界敏感。若把同样的数字误当作 WGS84，"
            f"位置偏移约 {r10(shift_m)} 米，落入森林公园内约 {r10(d_in)} 米，"
            "结论变为禁止（red_line.construction）。"
        ),
        "why_en": (
            "Coordinates copied from Amap (GCJ-02).  Declared with --crs gcj02 they convert "
            f"back to a site about {r10(d_true)} m outside the Sheshan National Forest Park "
            "(ecological red line), in a general unit outside the development boundary: a new "
            "hotel there is restricted (development_boundary.outside), and the site is flagged "
            "boundary-sensitive because it lies within the red line's positional tolerance "
            f"({L.tol['red_line']:g} m).  Taken wrongly as WGS84, the same numbers sit about "
            f"{r10(shift_m)} m away, about {r10(d_in)} m inside the forest park: prohibited "
            "(red_line.construction)."
        ),
    }
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(row), lineterminator="\n")
    writer.writeheader()
    writer.writerow(row)
    report = [
        f"  {GCJ_PROJECT['id']:28s} GCJ-02 ({glon:.6f}, {glat:.6f}): true site {d_true:.0f} m "
        f"outside RL008, misread {d_in:.0f} m inside, shift {shift_m:.0f} m"
    ]
    return buf.getvalue(), report


# --------------------------------------------------------------------------- route alternatives

ROUTE_PROJECT = {
    "industry": "D4511",
    "nature": "new",
    "linear": True,
    "wastewater": False,
    "air": False,
    "hazardous": False,
    # A local gas main: not on the 自然资规〔2018〕3号 list of major projects; in the red line it
    # claims limited activity 6 (unavoidable linear infrastructure).
    **_attrs(red_line_activity="6", key_project=False),
}


def build_routes(L: Layers) -> tuple[str, list[str]]:
    """The GeoJSON text of route_alternatives.geojson: four alignments of one gas pipeline.

    All four run from the same valve station on 崇明岛's south shore (S) to the same
    distribution station in the Changxing marine-equipment base on 长兴岛 (E), across the
    北港 channel east of the 青草沙 reservoir.  Waypoints are the deepest safe points of
    the regions each alignment is meant to pass: the open channel (C), the level-1 zone (A),
    the level-2 ring (B) and a farmland parcel on the 崇明 shore (D).
    """

    def pt(region, anchor, search=1500.0):
        return L.place(region, anchor=anchor, search_m=search, water_gap=0)

    base = _disk((121.805, 31.472), 3000)
    S = pt(
        L.clip("districts", base).difference(
            _not(L, base, "basic_farmland", "water_source_zones", "red_line")
        ),
        (121.805, 31.472),
        2000,
    )
    base = _disk((121.735, 31.385), 3000)
    E = pt(
        L.clip("districts", base)
        .intersection(L.clip("development_boundary", base))
        .difference(_not(L, base, "basic_farmland", "water_source_zones")),
        (121.735, 31.385),
        2000,
    )
    level1 = L.one("water_source_zones", wsz_id="WSZ05").geometry
    level2 = L.one("water_source_zones", wsz_id="WSZ06").geometry
    w_a = pt(level1, (121.66, 31.445))
    w_b = pt(level2, (121.705, 31.445))
    base = _disk((121.765, 31.455), 2500)
    w_c = pt(
        base.difference(level2.buffer(1200))
        .difference(L.clip("basic_farmland", base).buffer(400))
        .difference(_not(L, base, "red_line")),
        (121.775, 31.44),
    )
    base = _disk((121.735, 31.478), 2500)
    w_d = pt(L.clip("basic_farmland", base), (121.735, 31.478))
    routes = [
        (
            "route-a-reservoir",
            "崇明—长兴岛天然气管道 方案A：取直穿越青草沙水库",
            "Chongming-Changxing gas pipeline, option A: straight through the Qingcaosha reservoir",
            LineString([S, w_c, w_a, E]),
            4,
            "prohibited",
            ["water_source.level1", "red_line.linear", "qcs.linear"],
        ),
        (
            "route-b-level2",
            "崇明—长兴岛天然气管道 方案B：绕水库东端，穿越二级保护区",
            "Chongming-Changxing gas pipeline, option B: round the reservoir's east end, "
            "through the level-2 zone",
            LineString([S, w_c, w_b, E]),
            2,
            "restricted",
            ["priority.development"],
        ),
        (
            "route-c-direct",
            "崇明—长兴岛天然气管道 方案C：直线过江，避让水源保护区和基本农田",
            "Chongming-Changxing gas pipeline, option C: straight across the channel, clear of "
            "source zones and farmland",
            LineString([S, E]),
            1,
            "permitted",
            [],
        ),
        (
            "route-d-farmland",
            "崇明—长兴岛天然气管道 方案D：沿崇明岸边穿越永久基本农田",
            "Chongming-Changxing gas pipeline, option D: along the Chongming shore across "
            "permanent basic farmland",
            LineString([S, w_d, w_c, E]),
            3,
            "prohibited",
            ["basic_farmland.occupation"],
        ),
    ]
    loaded = load_sites(
        gpd.GeoDataFrame(
            {"id": [r[0] for r in routes]}, geometry=[to_ll(r[3]) for r in routes], crs=WGS84
        )
    ).gdf.geometry.to_numpy()
    # The constraint layers of the ranking (layers some rule reads, not context layers; since
    # 2026.12 the water layer is one: 长江保护法 art. 49 reads it): the constrained length is
    # the length inside their union, shared ground once, as zoning.compare ranks by.
    constraint = (
        "red_line",
        "water_source_zones",
        "basic_farmland",
        "nature_reserves_2026",
        "water",
    )
    features, report = [], []
    for (rid, name, name_en, line, rank, verdict, rules), geom in zip(routes, loaded, strict=True):
        problems = robustness(L, geom, yangtze=False)
        if problems:
            raise BuildError(f"{rid}: not robust: " + "; ".join(problems[:4]))
        near = geom.buffer(10)
        over = {lid: float(geom.intersection(L.clip(lid, near)).length) for lid in constraint}
        union = shapely.union_all([L.clip(lid, near) for lid in constraint])
        facts = {
            "length": float(geom.length),
            "constrained": float(geom.intersection(union).length),
            "level1": float(geom.intersection(level1).length),
            **over,
        }
        props = {
            "id": rid,
            "name": name,
            "name_en": name_en,
            **ROUTE_PROJECT,
            "expected_rank": rank,
            "expected_verdict": verdict,
            "expected_rules": rules,
            "why_zh": ROUTE_WHY[rid][0](facts),
            "why_en": ROUTE_WHY[rid][1](facts),
        }
        features.append(
            (
                rank,
                {
                    "type": "Feature",
                    "properties": props,
                    "geometry": shapely.geometry.mapping(to_ll(line)),
                },
            )
        )
        report.append(
            f"  {rid:28s} {facts['length'] / 1000:5.1f} km, constrained "
            f"{facts['constrained'] / 1000:5.2f} km -> rank {rank} {verdict}"
        )
    collection = {
        "type": "FeatureCollection",
        "name": "zoning_example_route_alternatives",
        "note": (
            "DEMONSTRATION example: four alignments of one gas pipeline from Chongming Island to "
            "Changxing Island, for zoning.compare_alternatives on the DEMONSTRATION layers and "
            "rules.  Built by layers/examples/build_examples.py; see layers/examples/README.md."
        ),
        "features": [f for _, f in features],
    }
    return _dump(collection), report


def _km(value: float) -> str:
    return f"{value / 1000:.1f}"


ROUTE_WHY = {
    "route-a-reservoir": (
        lambda f: (
            f"取直穿越青草沙饮用水水源保护区约 {_km(f['water_source_zones'])} 公里，其中一级保护区"
            f"（同为生态保护红线）约 {_km(f['level1'])} 公里。燃气管道与供水无关，一级保护区禁止"
            "与供水设施和保护水源无关的建设项目（water_source.level1）：禁止。线性工程在"
            "红线内本可论证不可避让（red_line.linear，"
            "需专项论证/审批），但水源法规更严。与方案D同为禁止，"
            f"受约束长度约 {_km(f['constrained'])} 公里，长于方案D，排第四。"
        ),
        lambda f: (
            "Straight through the Qingcaosha source zones (about "
            f"{_km(f['water_source_zones'])} km, of which about {_km(f['level1'])} km in the "
            "level-1 zone, which is also red line).  A gas main has nothing to do with water "
            "supply, and level-1 zones admit nothing else (water_source.level1): prohibited.  "
            "As linear infrastructure it could have argued unavoidability in the red line "
            "(red_line.linear, restricted), but the source-protection law is stricter.  "
            "Prohibited like option D, with a longer constrained length (about "
            f"{_km(f['constrained'])} km): ranked 4th."
        ),
    ),
    "route-b-level2": (
        lambda f: (
            f"绕开一级保护区，从水库东端穿越二级保护区约 {_km(f['water_source_zones'])} 公里，"
            "位于青草沙水源保护区(海域)优先保护单元：需专项论证/审批（priority.development），"
            f"受约束长度约 {_km(f['constrained'])} 公里，排第二（方案A、D为禁止）。"
        ),
        lambda f: (
            "Clear of the level-1 zone, it crosses about "
            f"{_km(f['water_source_zones'])} km of the level-2 ring at the reservoir's east end, "
            "in the Qingcaosha (sea) priority unit: restricted (priority.development), with a "
            f"constrained length of about {_km(f['constrained'])} km: ranked 2nd (options A and "
            "D are prohibited)."
        ),
    ),
    "route-c-direct": (
        lambda f: (
            "直线过北港，不进入水源保护区、生态保护红线和永久基本农田，也不经过优先保护单元：没有"
            "规则适用，未发现不符合项，排第一（仅穿越河道约 "
            f"{r10(f['water'])} 米；河湖管理范围内只禁止堆放、"
            "处置固体废物，管道不涉及）。"
        ),
        lambda f: (
            "Straight across the North Channel, clear of the source zones, the red line, basic "
            "farmland and priority units: no rule applies, permitted, ranked 1st (it only "
            f"crosses about {r10(f['water'])} m of rivers, where only solid-waste facilities are "
            "barred)."
        ),
    ),
    "route-d-farmland": (
        lambda f: (
            f"沿崇明岸边穿越永久基本农田约 {_km(f['basic_farmland'])} 公里。地方燃气管道不属"
            "自然资规〔2018〕3号所列重大建设项目（key_project 为否），不得占用永久基本农田"
            "（basic_farmland.occupation）：禁止。与方案A同为禁止，受约束长度约 "
            f"{_km(f['constrained'])} 公里，短于方案A，排第三。"
        ),
        lambda f: (
            f"Along the Chongming shore across about {_km(f['basic_farmland'])} km of permanent "
            "basic farmland.  A local gas main is not one of the major projects listed in "
            "自然资规〔2018〕3号 (key_project = no), so it may not occupy the farmland "
            "(basic_farmland.occupation): prohibited.  Prohibited like option A, with a "
            f"shorter constrained length (about {_km(f['constrained'])} km): ranked 3rd."
        ),
    ),
}


# --------------------------------------------------------------------------- writing


def _feature(ex: Example, geom_ll) -> dict:
    props = {
        "id": ex.id,
        "name": ex.name,
        "name_en": ex.name_en,
        "industry": ex.industry,
        "nature": ex.nature,
        **ex.flags,
        **ex.attrs,
        "expected_verdict": ex.expected_verdict,
        "expected_rules": ex.expected_rules,
        "absent_rules": ex.absent_rules,
    }
    if ex.expected_status:
        props["expected_status"] = ex.expected_status
    return {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(geom_ll)}


def _dump(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=1) + "\n"


def build_projects(L: Layers) -> tuple[str, list[str]]:
    """The GeoJSON text of projects.geojson and a report line per example."""
    features, report = [], []
    examples = _examples()
    for ex in examples:
        try:
            geom = ex.place(L)
        except BuildError as exc:
            raise BuildError(f"{ex.id}: {exc}") from None
        geom_ll = to_ll(geom)
        features.append((ex, geom_ll))
    # Load the rounded coordinates back exactly as screening will, and check them there.
    gdf = gpd.GeoDataFrame(
        {"id": [ex.id for ex, _ in features]},
        geometry=[g for _, g in features],
        crs=WGS84,
    )
    loaded = load_sites(gdf).gdf.geometry.to_numpy()
    out = []
    for (ex, geom_ll), geom in zip(features, loaded, strict=True):
        yangtze = ex.industry[1:].startswith(("26", "251", "2522", "2523", "271"))
        if ex.check_margins:
            problems = robustness(L, geom, yangtze=yangtze)
            if problems:
                raise BuildError(f"{ex.id}: not robust: " + "; ".join(problems[:4]))
        facts = footprint_facts(L, geom)
        feat = _feature(ex, geom_ll)
        feat["properties"]["why_zh"] = ex.why_zh(facts)
        feat["properties"]["why_en"] = ex.why_en(facts)
        out.append(feat)
        report.append(
            f"  {ex.id:28s} {geom.geom_type:10s} shore {facts['d_shore']:8.0f} m  "
            f"-> {ex.expected_verdict}"
        )
    collection = {
        "type": "FeatureCollection",
        "name": "zoning_example_projects",
        "note": (
            "DEMONSTRATION examples for the DEMONSTRATION layers and rules (layers/catalog.yml, "
            "layers/rules/shanghai_demo.yml): not real projects, not official verdicts.  Built by "
            "layers/examples/build_examples.py; see layers/examples/README.md."
        ),
        "features": out,
    }
    return _dump(collection), report


README_BEGIN = "<!-- examples:begin (generated by build_examples.py; do not edit by hand) -->"
README_END = "<!-- examples:end -->"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _rules(rules) -> str:
    return ", ".join(f"`{r}`" for r in rules) or "—"


def readme_tables(projects: str, gcj: str, routes: str) -> str:
    """The README's tables of every example, from the texts of the three files."""
    lines = [README_BEGIN, "", "### `projects.geojson`", ""]
    lines.append("| id | name | what it is | geometry | expected verdict | deciding rules | why |")
    lines.append("|---|---|---|---|---|---|---|")
    for f in json.loads(projects)["features"]:
        p = f["properties"]
        rules = _rules(p["expected_rules"])
        if p.get("expected_status"):
            rules += " (status " + ", ".join(f"`{s}`" for s in p["expected_status"]) + ")"
        lines.append(
            "| "
            + " | ".join(
                _cell(v)
                for v in (
                    f"`{p['id']}`",
                    p["name"],
                    p["name_en"],
                    f["geometry"]["type"],
                    f"**{p['expected_verdict']}**",
                    rules,
                    p["why_en"],
                )
            )
            + " |"
        )
    row = next(csv.DictReader(io.StringIO(gcj)))
    lines += ["", "### `amap_gcj02.csv`", ""]
    lines.append("| id | name | reading | expected verdict | deciding rules | why |")
    lines.append("|---|---|---|---|---|---|")
    lines.append(
        f"| `{row['id']}` | {_cell(row['name'])} | `--crs gcj02` (right) | "
        f"**{row['expected_verdict_gcj02']}** | "
        f"{_rules(row['expected_rules_gcj02'].split(';'))} | {_cell(row['why_en'])} |"
    )
    lines.append(
        f"| `{row['id']}` | {_cell(row['name'])} | `--crs EPSG:4326` (wrong) | "
        f"**{row['expected_verdict_as_wgs84']}** | "
        f"{_rules(row['expected_rules_as_wgs84'].split(';'))} | (see above) |"
    )
    lines += ["", "### `route_alternatives.geojson`", ""]
    lines.append("| rank | id | name | expected verdict | deciding rules | why |")
    lines.append("|---|---|---|---|---|---|")
    feats = sorted(json.loads(routes)["features"], key=lambda f: f["properties"]["expected_rank"])
    for f in feats:
        p = f["properties"]
        lines.append(
            f"| {p['expected_rank']} | `{p['id']}` | {_cell(p['name'])} | "
            f"**{p['expected_verdict']}** | {_rules(p['expected_rules'])} | {_cell(p['why_en'])} |"
        )
    lines += ["", README_END]
    return "\n".join(lines)


def updated_readme(text: str, tables: str, *, name: str = "README.md") -> str:
    """The README text with its generated part (between the markers) replaced by ``tables``."""
    if README_BEGIN not in text or README_END not in text:
        raise BuildError(f"{name}: the generated-table markers are missing")
    head, rest = text.split(README_BEGIN, 1)
    _, tail = rest.split(README_END, 1)
    return head + tables + tail


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-dir", type=Path, default=HERE, help="folder for the three files")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    try:
        L = Layers(load_catalog(CATALOG, as_of=AS_OF), load_catalog(CATALOG, as_of=AS_OF_2017))
        projects, report = build_projects(L)
        gcj, gcj_report = build_gcj(L)
        routes, route_report = build_routes(L)
        outputs = {
            "projects.geojson": projects,
            "amap_gcj02.csv": gcj,
            "route_alternatives.geojson": routes,
        }
        readme = args.out_dir / "README.md"
        if readme.exists():
            outputs["README.md"] = updated_readme(
                readme.read_text(encoding="utf-8"), readme_tables(projects, gcj, routes)
            )
    except BuildError as exc:
        print(f"build_examples: {exc}", file=sys.stderr)
        return 1
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name, text in outputs.items():
        tmp = args.out_dir / f".{name}.tmp"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, args.out_dir / name)
    print("\n".join(report + gcj_report + route_report))
    print(f"wrote {args.out_dir} in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
