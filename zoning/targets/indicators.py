"""The policy's spatial targets measured from the layers, for the city and each district.

Every measured value names its denominator (which area, from which layer) and is matched to
the targets of ``seeds/targets.yml``: status ``met``, ``not met``, ``not measurable with these
layers`` (with the reason) or ``no target``.  All areas are measured in the equal-area working
CRS, so they agree with geodesic areas; unions per kind, areas and lengths inside zones and
the measurement tolerance come from :mod:`zoning.measure`, shared with the layer checks.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from ..catalog import REALM_ALIASES, UNIT_CATEGORY_ALIASES, normalize_values
from ..errors import LayerDataError, UnknownDistrictError, ZoningError, quote
from ..layerset import LayerSet, load_catalog
from ..measure import (
    MEASUREMENT_TOLERANCE,
    MU_M2,
    KindUnions,
    area_m2,
    length_m,
    points_inside,
)

# MEASUREMENT_TOLERANCE and MU_M2 live in zoning.measure; re-exported for old import paths.
from .model import Target, TargetSet, load_targets

__all__ = [
    "APPROX_TOLERANCE",
    "MEASUREMENT_TOLERANCE",
    "MU_M2",
    "WALK_DISTANCE_M",
    "UnknownDistrictError",
    "indicators",
]

#: Shanghai's land area, the denominator of land shares at city level when the red line has realms.
OFFICIAL_LAND_KM2 = 6340.5
OFFICIAL_LAND_SOURCE = "shanghai_facts.md §0, [V] multiple sources"
#: Straight-line distance used for "a 5-minute walk" (an approximation of network distance).
WALK_DISTANCE_M = 400.0
#: A target written "about X" (左右/约) counts as met within ±5 % of X.
APPROX_TOLERANCE = 0.05

MET, NOT_MET, NOT_MEASURABLE, NO_TARGET = (
    "met",
    "not met",
    "not measurable with these layers",
    "no target",
)
CATEGORIES = {"priority": "优先保护", "key": "重点管控", "general": "一般管控"}


@dataclass(frozen=True)
class Measure:
    """One measured value.

    Attributes
    ----------
    value : float or None
        The value in ``unit``; None when it cannot be measured with these layers.
    unit : str
        ``km2``, ``mu``, ``percent``, ``m2_per_person``, ``count`` or ``km``.
    denominator : str or None
        Which area (or quantity), from which layer, a share is of.
    note : str or None
        How the value was measured.
    reason : str or None
        Why it could not be measured (``value`` is None).
    """

    value: float | None
    unit: str
    denominator: str | None = None
    note: str | None = None
    reason: str | None = None  # why it could not be measured


@dataclass
class _Zone:
    """The city, or one district."""

    scope: str
    name: str | None
    geom: object  # the land polygon of the zone (districts), in the working CRS
    population: float | None


_Context = KindUnions  # unions per kind, computed once; intersections with a zone on demand


def _km2(m2: float) -> float:
    return m2 / 1e6


def _needs(ctx: _Context, *kinds: str) -> str | None:
    missing = [k for k in kinds if k not in ctx.kinds]
    return f"needs a {' and a '.join(missing)} layer" if missing else None


def _needing(unit: str, *kinds: str) -> Callable[[Callable], Callable]:
    """Decorate a measure function: without a layer of each of ``kinds`` the measure is not
    measurable (a :class:`Measure` in ``unit`` saying which layers are missing)."""

    def decorate(measure: Callable) -> Callable:
        @functools.wraps(measure)
        def checked(ctx: _Context, zone: _Zone, *args: object) -> Measure:
            if why := _needs(ctx, *kinds):
                return Measure(None, unit, reason=why)
            return measure(ctx, zone, *args)

        return checked

    return decorate


def _inside(zone: _Zone) -> object | None:
    """The polygon measures are clipped to: the district's, None (no clipping) for the city."""
    return zone.geom if zone.scope == "district" else None


def _percent(part: float, whole: float, empty: str, **texts: str) -> Measure:
    """``part`` as a percentage of ``whole``; not measurable (``empty``) when ``whole`` is 0."""
    if whole == 0:
        return Measure(None, "percent", reason=empty)
    return Measure(100 * part / whole, "percent", **texts)


def _land_label(ctx: _Context, zone: _Zone) -> tuple[float, str]:
    area = float(shapely.area(zone.geom))
    where = "district polygon" if zone.scope == "district" else "union of the district polygons"
    ids = "+".join(x.id for x in ctx.layers("district"))
    return area, f"{where} ({ids}), {_km2(area):.2f} km² (administrative polygons incl. shoals)"


# --------------------------------------------------------------------------- indicators


def _realm_filter(ctx: _Context, realm: str):
    """A row filter for red-line features of one realm; None when a layer maps no realm."""
    layers = ctx.layers("red_line")
    if not layers or not all("realm" in x.gdf.columns for x in layers):
        return None

    def where(gdf):
        codes = normalize_values(gdf["realm"], REALM_ALIASES, "red_line field 'realm'")
        return np.array([c == realm for c in codes], dtype=bool)

    return where


@_needing("km2", "red_line")
def _red_line_area(ctx, zone, realm=None):
    where, note = None, None
    if realm is not None:
        where = _realm_filter(ctx, realm)
        if where is None:
            return Measure(None, "km2", reason="the red_line layer maps no 'realm' field")
        note = f"features with realm = {realm}"
    value = _km2(ctx.area_in("red_line", _inside(zone), where=where, key=realm or ""))
    if zone.scope == "district":
        note = (note + "; " if note else "") + "the part inside the district polygon"
    return Measure(value, "km2", note=note)


@_needing("percent", "red_line", "district")
def _red_line_share_of_land(ctx, zone):
    """Land part of the red line over the district polygon(s), one basis for city and districts."""
    where = _realm_filter(ctx, "land")
    land, label = _land_label(ctx, zone)
    if where is None:
        inside = ctx.area_in("red_line", zone.geom)
        note = "numerator: all red line inside the polygons (no realm field to pick the land part)"
    else:
        inside = ctx.area_in("red_line", zone.geom, where=where, key="land")
        note = "numerator: red-line features with realm = land, inside the polygons"
    return Measure(100 * inside / land, "percent", denominator=label, note=note)


def _red_line_share_of_official_land(ctx, zone):
    if zone.scope == "district":
        return Measure(None, "percent", reason="official land areas are city-level here")
    if why := _needs(ctx, "red_line"):
        return Measure(None, "percent", reason=why)
    where = _realm_filter(ctx, "land")
    if where is None:
        return Measure(None, "percent", reason="the red_line layer maps no 'realm' field")
    land_km2 = _km2(ctx.area_in("red_line", None, where=where, key="land"))
    return Measure(
        100 * land_km2 / OFFICIAL_LAND_KM2,
        "percent",
        denominator=f"official land area {OFFICIAL_LAND_KM2} km² ({OFFICIAL_LAND_SOURCE})",
        note="numerator: red-line features with realm = land",
    )


def _red_line_share_of_sea(ctx, zone):
    if zone.scope == "district":
        return Measure(None, "percent", reason="the sea area is not divided among districts")
    if why := _needs(ctx, "red_line", "sea_area"):
        return Measure(None, "percent", reason=why)
    sea = ctx.union("sea_area")
    sea_m2 = area_m2(sea)
    inside = ctx.area_in("red_line", sea)
    ids = "+".join(x.id for x in ctx.layers("sea_area"))
    note = "numerator: red line inside the sea-area layer"
    where = _realm_filter(ctx, "sea")
    if where is not None:
        sea_part = ctx.area_in("red_line", None, where=where, key="sea")
        outside = sea_part - ctx.area_in("red_line", sea, where=where, key="sea")
        note += (
            f"; {_km2(outside):.2f} km² of the sea part (realm = sea) lie in estuary "
            "waters inside the district polygons and are not in this share"
        )
    return Measure(
        100 * inside / sea_m2,
        "percent",
        denominator=f"sea area ({ids}), {_km2(sea_m2):.2f} km²",
        note=note,
    )


def _area_of(kind: str, unit: str = "km2", note: str | None = None):
    @_needing(unit, kind)
    def measure(ctx, zone):
        m2 = ctx.area_in(kind, _inside(zone))
        value = _km2(m2) if unit == "km2" else m2 / MU_M2
        extra = f"= {_km2(m2):.2f} km²" if unit == "mu" else None
        text = "; ".join(t for t in (note, extra) if t)
        return Measure(value, unit, note=text or None)

    return measure


def _ratio_of_land(kind: str):
    @_needing("percent", kind, "district")
    def measure(ctx, zone):
        land, label = _land_label(ctx, zone)
        return Measure(100 * ctx.area_in(kind, zone.geom) / land, "percent", denominator=label)

    return measure


@_needing("m2_per_person", "park", "district")
def _park_per_capita(ctx, zone):
    if not zone.population:
        return Measure(None, "m2_per_person", reason="the district layer maps no population field")
    m2 = ctx.area_in("park", zone.geom)
    return Measure(
        m2 / zone.population,
        "m2_per_person",
        denominator=f"resident population {zone.population:,.0f} (district layer)",
    )


@_needing("percent", "park", "population")
def _walk_coverage(ctx, zone):
    parks = ctx.union("park")
    total = covered = 0.0
    for layer in ctx.layers("population"):
        col = layer.entry.fields.population
        if col is None:
            return Measure(None, "percent", reason=f"layer {layer.id} maps no population field")
        gdf = layer.gdf
        pts = gdf.geometry.to_numpy()
        if zone.scope == "district":
            keep = points_inside(zone.geom, pts)
            gdf, pts = gdf[keep], pts[keep]
        weight = _numeric(gdf[col], f"layer {quote(layer.id)} field {quote(col)}")
        near = shapely.dwithin(pts, parks, WALK_DISTANCE_M)
        total += weight.sum()
        covered += weight[near].sum()
    return _percent(
        covered,
        total,
        "no population inside the zone",
        denominator=f"population of the population layer(s), {total:,.0f}",
        note=f"within {WALK_DISTANCE_M:.0f} m straight-line of a park — an "
        "approximation of a 5-minute walk on the street network",
    )


def _feature_count(kind: str):
    @_needing("count", kind)
    def measure(ctx, zone):
        n = 0
        for layer in ctx.layers(kind):
            pts = layer.gdf.geometry.representative_point().to_numpy()
            if zone.scope == "district":
                n += int(points_inside(zone.geom, pts).sum())
            else:
                n += len(pts)
        return Measure(float(n), "count")

    return measure


def _line_length(kind: str):
    @_needing("km", kind)
    def measure(ctx, zone):
        return Measure(ctx.length_in(kind, _inside(zone)) / 1000, "km")

    return measure


@_needing("percent", "coastline")
def _natural_coastline(ctx, zone):
    lines = [x for x in ctx.layers("coastline")]
    if not all("category" in x.gdf.columns for x in lines):
        return Measure(None, "percent", reason="the coastline layer maps no 'category' field")
    natural = {"natural", "自然岸线", "自然"}
    total = ctx.union("coastline")
    nat = ctx.union(
        "coastline", where=lambda g: g["category"].isin(natural).to_numpy(), key="natural"
    )
    inside = _inside(zone)
    length, natural_m = length_m(total, inside), length_m(nat, inside)
    return _percent(
        natural_m,
        length,
        "no coastline in the zone",
        denominator=f"coastline length {length / 1000:.1f} km",
    )


#: indicator key -> (title_zh, title_en, group, measure function)
REGISTRY: dict[str, tuple[str, str, str, Callable]] = {
    "red_line_area": (
        "生态保护红线面积",
        "Ecological protection red line area",
        "red line",
        _red_line_area,
    ),
    "red_line_area_land": (
        "生态保护红线面积（陆域）",
        "Red line area, land",
        "red line",
        lambda c, z: _red_line_area(c, z, "land"),
    ),
    "red_line_area_sea": (
        "生态保护红线面积（长江河口及海域）",
        "Red line area, estuary and sea",
        "red line",
        lambda c, z: _red_line_area(c, z, "sea"),
    ),
    "red_line_share_of_land": (
        "生态保护红线占陆域比例",
        "Red line share of land",
        "red line",
        _red_line_share_of_land,
    ),
    "red_line_share_of_official_land_area": (
        "生态保护红线陆域部分占全市陆域面积比例",
        "Red line (land part) share of the official land area",
        "red line",
        _red_line_share_of_official_land,
    ),
    "red_line_share_of_sea": (
        "生态保护红线占海域比例",
        "Red line share of sea area",
        "red line",
        _red_line_share_of_sea,
    ),
    "construction_land_area": (
        "城镇开发边界面积（建设用地上限代用）",
        "Development boundary area (proxy for construction land)",
        "three lines",
        _area_of(
            "development_boundary",
            note="development-boundary area used as a proxy: the "
            "layers hold no construction-land use",
        ),
    ),
    "permanent_basic_farmland_area": (
        "永久基本农田面积",
        "Permanent basic farmland area",
        "three lines",
        _area_of("basic_farmland", unit="mu"),
    ),
    "cultivated_land_area": (
        "耕地保有量",
        "Cultivated land area",
        "three lines",
        _area_of("cultivated_land", unit="mu"),
    ),
    "water_surface_ratio": ("河湖水面率", "Water-surface ratio", "water", _ratio_of_land("water")),
    "natural_coastline_ratio": (
        "大陆自然岸线保有率",
        "Natural mainland coastline share",
        "water",
        _natural_coastline,
    ),
    "forest_cover": ("森林覆盖率", "Forest cover", "green", _ratio_of_land("forest")),
    "park_green_space_per_capita": (
        "人均公园绿地面积",
        "Park green space per person",
        "green",
        _park_per_capita,
    ),
    "open_space_5min_walk_coverage": (
        "公共开放空间5分钟步行可达覆盖率",
        "Residents within a 5-minute walk of open space",
        "green",
        _walk_coverage,
    ),
    "park_count": ("公园数量", "Number of parks", "green", _feature_count("park")),
    "backbone_greenway_length": (
        "骨干绿道长度",
        "Greenway length",
        "green",
        _line_length("greenway"),
    ),
}


def _unit_rows(ctx: _Context, zone: _Zone) -> list[dict]:
    """Control-unit composition: count and area per category (no targets)."""
    rows = []
    layers = ctx.layers("control_unit")
    if not layers:
        return rows
    for layer in layers:
        gdf = layer.gdf
        if "category" not in gdf.columns:
            raise LayerDataError(
                f"layer {quote(layer.id)}: control units need a mapped 'category' field"
            )
        geoms = gdf.geometry.to_numpy()
        if zone.scope == "district":
            pts = shapely.point_on_surface(geoms)
            sel = points_inside(zone.geom, pts)
        else:
            sel = np.ones(len(gdf), dtype=bool)
        cats = np.array(
            normalize_values(
                gdf["category"], UNIT_CATEGORY_ALIASES, f"layer {quote(layer.id)} field 'category'"
            ),
            dtype=object,
        )
        total_area = float(shapely.area(geoms[sel]).sum())
        for cat, zh in CATEGORIES.items():
            pick = sel & (cats == cat)
            area = float(shapely.area(geoms[pick]).sum())
            rows.append(
                _row(
                    zone,
                    f"control_units_count_{cat}",
                    f"{zh}单元数量",
                    f"Control units: {cat} (count)",
                    "control units",
                    Measure(float(pick.sum()), "count"),
                )
            )
            rows.append(
                _row(
                    zone,
                    f"control_units_area_share_{cat}",
                    f"{zh}单元面积占比",
                    f"Control units: {cat} (area share)",
                    "control units",
                    Measure(
                        100 * area / total_area if total_area else None,
                        "percent",
                        denominator=f"area of the zone's units ({layer.id}), "
                        f"{_km2(total_area):.2f} km²",
                        note=f"{_km2(area):.2f} km²",
                    ),
                )
            )
    return rows


def _row(
    zone: _Zone,
    key: str,
    title_zh: str,
    title_en: str,
    group: str,
    m: Measure,
    target: Target | None = None,
    status: str | None = None,
) -> dict:
    return {
        "scope": zone.scope,
        "district": zone.name,
        "indicator": key,
        "group": group,
        "title_zh": title_zh,
        "title_en": title_en,
        "value": None if m.value is None else round(m.value, 4),
        "unit": m.unit,
        "denominator": m.denominator,
        "note": m.note or m.reason,
        "target_id": target.id if target else None,
        "target": target.requirement if target else None,
        "comparator": target.comparator if target else None,
        "target_value": target.value if target else None,
        "year": target.year if target else None,
        "status": status or (NO_TARGET if m.value is not None else NOT_MEASURABLE),
        "document": target.document if target else None,
        "clause": target.clause if target else None,
    }


def compare(value: float, comparator: str, target: float, unit: str = "") -> bool:
    """Whether ``value`` meets ``comparator target``, within the unit's measurement tolerance.

    Parameters
    ----------
    value : float
        The measured value.
    comparator : {'>=', '<=', '>', '<', '=', '~'}
        As in the target file; ``~`` (about) means within ±5 % of the target
        (:data:`APPROX_TOLERANCE`).
    target : float
        The target value.
    unit : str
        The unit of both; selects the tolerance of :data:`MEASUREMENT_TOLERANCE`
        (none for units it does not list).

    Returns
    -------
    bool
    """
    tol = MEASUREMENT_TOLERANCE.get(unit, 0.0)
    if comparator in (">=", ">"):
        return value + tol >= target if comparator == ">=" or tol else value > target
    if comparator in ("<=", "<"):
        return value - tol <= target if comparator == "<=" or tol else value < target
    if comparator == "=":
        return abs(value - target) <= max(tol, 1e-9 * abs(target))
    return abs(value - target) <= APPROX_TOLERANCE * abs(target) + tol


def _target_row(ctx: _Context, zone: _Zone, t: Target, measured: dict[str, Measure]) -> dict:
    spec = REGISTRY.get(t.indicator)
    if spec is None:
        reason = (
            "not a spatial quantity: needs monitoring or statistical data"
            if not t.spatial
            else "no layer kind measures this (e.g. change since a base year)"
        )
        m = Measure(None, t.unit, reason=reason)
        return _row(zone, t.indicator, t.title_zh, t.title_en, "other", m, t, NOT_MEASURABLE)
    if t.indicator not in measured:
        measured[t.indicator] = spec[3](ctx, zone)
    m = measured[t.indicator]
    if m.value is not None and m.unit != t.unit:
        raise ZoningError(
            f"indicator {t.indicator}: measured in {m.unit}, target {t.id} in {t.unit}"
        )
    met = m.value is not None and compare(m.value, t.comparator, t.value, t.unit)
    status = NOT_MEASURABLE if m.value is None else (MET if met else NOT_MET)
    return _row(zone, t.indicator, spec[0], spec[1], spec[2], m, t, status)


def _numeric(values: pd.Series, what: str) -> np.ndarray:
    """Numbers from a column; text that is not a number is an error, never a silent zero."""
    out = pd.to_numeric(values, errors="coerce")
    bad = values[out.isna() & values.notna()]
    if len(bad):
        raise LayerDataError(f"{what}: {quote(bad.iloc[0])} is not a number")
    return out.fillna(0).to_numpy(dtype=float)


def _zones(ctx: _Context, district: str | None) -> list[_Zone]:
    """The city and its districts (:meth:`zoning.LayerSet.districts`), or the one district named."""
    found = ctx.ls.districts()
    zones = [_Zone("district", d.name, d.geometry, d.population) for d in found]
    if district is not None:
        return [zones[found.index(ctx.ls.district(district))]]
    has_pop = bool(zones) and all(z.population is not None for z in zones)
    city_pop = sum(z.population for z in zones) if has_pop else None
    city_geom = ctx.union("district") if ctx.layers("district") else None
    return [_Zone("city", None, city_geom, city_pop), *zones]


def indicators(
    layers: LayerSet | None = None,
    *,
    targets: TargetSet | None = None,
    district: str | None = None,
) -> pd.DataFrame:
    """Measure the policy's spatial indicators and match them to their targets.

    Parameters
    ----------
    layers : LayerSet, optional
        From :func:`zoning.load_catalog`; the demonstration catalog by default.
    targets : TargetSet, optional
        From :func:`zoning.targets.load_targets`; the bundled ``seeds/targets.yml`` by default.
    district : str, optional
        Only this district (Chinese or English name, or its id/adcode).

    Returns
    -------
    pandas.DataFrame
        One row per zone (the city, then each district) and indicator: ``value``, ``unit``,
        ``denominator`` (which area from which layer), ``target``, ``year``, ``status``
        (``met``, ``not met``, ``not measurable with these layers``, ``no target``),
        ``document`` and ``clause``.  Every target of the target file appears (city targets
        in the city rows, district targets in their district's rows).  ``df.attrs`` holds
        ``demonstration`` (bool), ``catalog``, ``targets_version`` and the conventions used.

    Raises
    ------
    UnknownDistrictError
        ``district`` is not in the district layer.

    Notes
    -----
    Cost: one union per layer kind, then one intersection per district and kind.  Areas
    are planar in the equal-area working CRS (geodesic within 0.01 %).  A target written
    "about X" is met within ±5 % of X; a 5-minute walk is 400 m straight-line.
    """
    ls = layers if layers is not None else load_catalog()
    ts = targets if targets is not None else load_targets()
    ctx = _Context(ls)
    rows: list[dict] = []
    zones = _zones(ctx, district)
    for zone in zones:
        measured: dict[str, Measure] = {}
        zone_targets = [
            t
            for t in ts.targets
            if (t.scope == "city" and zone.scope == "city")
            or (t.scope == "district" and t.district == zone.name)
        ]
        for t in zone_targets:
            rows.append(_target_row(ctx, zone, t, measured))
        targeted = {t.indicator for t in zone_targets}
        for key, (zh, en, group, fn) in REGISTRY.items():
            if key in targeted:
                continue
            m = measured.get(key) or fn(ctx, zone)
            if m.value is None and zone.scope == "district":
                continue  # unmeasurable and untargeted: nothing to say per district
            rows.append(_row(zone, key, zh, en, group, m))
        rows.extend(_unit_rows(ctx, zone))
    if district is None:
        # District targets whose district is not in the catalog still appear, as unmeasurable.
        present = {z.name for z in zones}
        for t in ts.targets:
            if t.scope == "district" and t.district not in present:
                zone = _Zone("district", t.district, None, None)
                m = Measure(None, t.unit, reason=f"the catalog has no district named {t.district}")
                rows.append(
                    _row(zone, t.indicator, t.title_zh, t.title_en, "other", m, t, NOT_MEASURABLE)
                )
    df = pd.DataFrame(rows)
    df.attrs.update(
        {
            "demonstration": ls.is_demonstration,
            "catalog": str(ls.catalog.path) if ls.catalog.path else None,
            "targets_version": ts.version,
            "approx_tolerance": APPROX_TOLERANCE,
            "walk_distance_m": WALK_DISTANCE_M,
            "mu_m2": MU_M2,
            "measurement_tolerance": MEASUREMENT_TOLERANCE,
        }
    )
    return df
