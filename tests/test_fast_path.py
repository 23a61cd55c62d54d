"""The fast paths of ``zoning.screen`` against the general path and against plain shapely.

``screen`` evaluates the rules once per *situation* (``screening._situations``) and repeats the
answer for the other sites in it; ``hits``, ``layer_summary`` and ``reasons`` are built on first
access; the engine answers point sites from a grid and keeps its results as arrays.  Oracles,
none of them the code under test run again:

* the general path: ``zoning.rules.evaluate`` / ``site_verdicts`` / ``hit_verdicts`` on every
  site's full tables, and the per-site totals computed with pandas group-bys as the code before
  the fast path did;
* plain shapely on the unsubdivided features: intersecting pairs, overlap areas, distances
  within the search radius, and boundary-sensitive flags (a feature boundary within the
  layer's positional tolerance).

Sites are random points, polygons and lines over the demonstration layers and over hand-made
layers with overlapping features, a hole, a shared edge, a shoreline and control units that
leave a gap, plus points placed on feature boundaries and outside the coverage, with per-site
project attributes drawn at random (so situations differ by attributes too).
"""

from __future__ import annotations

import dataclasses
import datetime
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon, box

import zoning
from conftest import REPO, write_catalog
from zoning import screening
from zoning.crs import WORKING_CRS
from zoning.rules import evaluate, hit_verdicts, site_verdicts

# Thousands of random sites on the demonstration layers: tens of seconds per test.
pytestmark = pytest.mark.slow

INDUSTRIES = [None, "C2614", "2614", "C3011", "H6210", "461", "D4411", "C2511"]
NATURES = [None, "new", "expansion", "rebuild", "relocation"]
FLAG_VALUES = [None, True, False]
FLAGS = ("linear", "wastewater", "air", "hazardous", "two_high")

# ----------------------------------------------------------------------------- hand-made layers
D1 = box(121.30, 31.10, 121.45, 31.40)
D2 = box(121.45, 31.10, 121.60, 31.40)
SEA = box(121.60, 31.10, 121.80, 31.40)
A = box(121.40, 31.20, 121.42, 31.22)
B = box(121.41, 31.21, 121.43, 31.23)
C = box(121.405, 31.205, 121.415, 31.215)  # inside A, overlapping B
HOLE = box(121.455, 31.205, 121.465, 31.215)
H = Polygon(box(121.45, 31.20, 121.47, 31.22).exterior.coords, [HOLE.exterior.coords])
SHORE = LineString([(121.50, 31.30), (121.55, 31.35), (121.62, 31.36)])
W1 = box(121.33, 31.12, 121.36, 31.15)
W2 = box(121.35, 31.14, 121.38, 31.17)  # overlaps W1
W3 = box(121.52, 31.12, 121.54, 31.14)
U1 = D1
U2 = box(121.45, 31.10, 121.55, 31.40)  # D2 east of 121.55 has no unit: a gap
DB = box(121.30, 31.25, 121.40, 31.35)  # development boundary ("outside" rules)
INSIDE_DB = box(121.35, 31.30, 121.36, 31.31)
ACROSS_DB = box(121.395, 31.30, 121.405, 31.31)  # partly outside DB, otherwise the same
HAND_BOX = (121.28, 31.08, 121.82, 31.42)  # a little beyond the coverage on every side


def _gpkg(path: Path, geoms, **cols) -> str:
    gpd.GeoDataFrame(cols, geometry=list(geoms), crs=4326).to_file(path)
    return path.name


@pytest.fixture(scope="module")
def fast_hand(tmp_path_factory):
    d = tmp_path_factory.mktemp("fast_hand")
    layers = [
        {
            "id": "districts",
            "kind": "district",
            "source": _gpkg(d / "d.gpkg", [D1, D2], code=["D1", "D2"]),
            "fields": {"id": "code"},
        },
        {
            "id": "sea",
            "kind": "sea_area",
            "source": _gpkg(d / "s.gpkg", [SEA], code=["SEA"]),
            "fields": {"id": "code"},
        },
        {
            "id": "red",
            "kind": "red_line",
            "source": _gpkg(d / "r.gpkg", [A, B, C, H], code=list("ABCH")),
            "fields": {"id": "code"},
            "positional_tolerance_m": 50,
        },
        {
            "id": "shore",
            "kind": "shoreline",
            "source": _gpkg(d / "l.gpkg", [SHORE], code=["S1"]),
            "fields": {"id": "code"},
            "positional_tolerance_m": 200,
            "buffer_rings_m": [1000, 3000],
        },
        {
            "id": "wsz",
            "kind": "water_source_zone",
            "source": _gpkg(
                d / "w.gpkg", [W1, W2, W3], code=["W1", "W2", "W3"], lv=["level1", "level2", "lvX"]
            ),
            "fields": {"id": "code", "level": "lv"},
            "positional_tolerance_m": 100,
        },
        {
            "id": "udb",
            "kind": "development_boundary",
            "source": _gpkg(d / "b.gpkg", [DB], code=["DB1"]),
            "fields": {"id": "code"},
            "positional_tolerance_m": 100,
        },
        {
            "id": "units",
            "kind": "control_unit",
            "source": _gpkg(
                d / "u.gpkg",
                [U1, U2],
                code=["U1", "U2"],
                acc=["city/key/urban", "no/such/list"],
                cat=["key", "key"],
            ),
            "fields": {"id": "code", "unit_code": "code", "access_list": "acc", "category": "cat"},
            "positional_tolerance_m": 100,
        },
    ]
    return zoning.load_catalog(write_catalog(d / "catalog.yml", layers))


# ----------------------------------------------------------------------------- sites


def _random_sites(rng, bounds, n_points, n_polys, n_lines, extra_points=()):
    """Points, small rectangles and short polylines in lon/lat ``bounds``."""
    x0, y0, x1, y1 = bounds
    px, py = rng.uniform(x0, x1, n_points), rng.uniform(y0, y1, n_points)
    geoms = list(shapely.points(px, py)) + list(extra_points)
    cx, cy = rng.uniform(x0, x1, n_polys), rng.uniform(y0, y1, n_polys)
    w, h = rng.uniform(0.0005, 0.01, n_polys), rng.uniform(0.0005, 0.01, n_polys)
    geoms += list(shapely.box(cx - w, cy - h, cx + w, cy + h))
    for _ in range(n_lines):
        k = rng.integers(2, 6)
        start = rng.uniform((x0, y0), (x1, y1))
        steps = rng.normal(0, 0.01, (k, 2))
        geoms.append(LineString(np.vstack([start, start + np.cumsum(steps, axis=0)])))
    return geoms


def _with_attributes(geoms, rng, *, same: bool = False) -> gpd.GeoDataFrame:
    n = len(geoms)
    cols: dict[str, object] = {"site_id": [f"s{i}" for i in range(n)]}

    def pick(values):
        if same:
            return [values[1]] * n
        return [values[i] for i in rng.integers(0, len(values), n)]

    cols["industry"] = pick(INDUSTRIES)
    cols["nature"] = pick(NATURES)
    for flag in FLAGS:
        cols[flag] = pd.Series(pick(FLAG_VALUES), dtype=object)
    return gpd.GeoDataFrame(cols, geometry=geoms, crs=4326)


def _boundary_points(layer, rng, n_features: int, per_feature: int) -> list[Point]:
    """Vertices of feature boundaries (exactly on them), in lon/lat."""
    feats = layer.gdf.geometry.to_numpy()
    pick = rng.choice(len(feats), min(n_features, len(feats)), replace=False)
    out = []
    for f in feats[pick]:
        xy = shapely.get_coordinates(shapely.boundary(f))
        take = xy[rng.choice(len(xy), min(per_feature, len(xy)), replace=False)]
        out += list(shapely.points(take))
    back = gpd.GeoSeries(out, crs=WORKING_CRS).to_crs(4326)
    return list(back)


def _hand_sites(rng, *, same=False):
    special = [
        Point(121.40, 31.20),  # corner of A
        Point(121.41, 31.21),  # corner of B, on A's interior and C's edge
        Point(121.412, 31.212),  # in A, B and C
        Point(121.455, 31.21),  # on the hole's edge
        Point(121.46, 31.21),  # in the hole
        Point(121.45, 31.30),  # on the D1 | D2 edge
        Point(121.55, 31.35),  # on the shoreline (a vertex)
        Point(121.525, 31.325),  # on the shoreline (mid-segment, to rounding)
        Point(121.50, 31.45),  # north of everything: outside the coverage
        Point(121.34, 31.145),  # in W1 and W2
        Point(121.58, 31.20),  # D2, in no control unit
    ]
    geoms = _random_sites(rng, HAND_BOX, 300, 80, 30, special)
    geoms += [box(121.415, 31.215, 121.425, 31.225), box(121.44, 31.25, 121.46, 31.26)]
    geoms += [INSIDE_DB, ACROSS_DB]
    return _with_attributes(geoms, rng, same=same)


def _demo_sites(demo, rng, *, same=False):
    extra = _boundary_points(demo["red_line"], rng, 8, 5)
    extra += _boundary_points(demo["control_units"], rng, 10, 5)
    extra += _boundary_points(demo["water_source_zones"], rng, 4, 5)
    geoms = _random_sites(rng, (120.85, 30.66, 122.2, 31.9), 1500, 150, 40, extra)
    return _with_attributes(geoms, rng, same=same)


# ----------------------------------------------------------------------------- the general path


def _engine_hits(res) -> pd.DataFrame:
    return pd.DataFrame(res.hits.drop(columns=["rule_ids", "verdict", "geometry"]))


def _tolerances(res) -> dict[str, float]:
    """Each layer's positional tolerance (m), as its index applies it (an input, not a result)."""
    return {e.id: float(res.layers[e.id].index.tolerance_m) for e in res.layers.catalog.layers}


def _old_site_totals(
    res, rules, summary: pd.DataFrame, hits: pd.DataFrame, n: int, searched: dict
) -> pd.DataFrame:
    """The per-site totals by their definitions (``ScreeningResult.sites``), with pandas over
    the full tables and plain shapely over the layers' features:

    * constraint layers: kinds some rule reads, less :data:`screening.CONTEXT_KINDS`;
    * ``boundary_sensitive``: a layer of a kind some rule reads flags the site, or a feature
      of a kind with ``within`` rules lies at ``|d - D| <= tolerance + uncertainty``;
    * ``n_constraints``: ok constraint layers hit, or within the largest ``within`` distance;
    * overlap totals: the site intersected with the union of the features of its ok
      constraint layers that measure one (shared ground once), NaN when none does.
    """
    read = set(rules.kinds) | {
        r.applies_to.except_inside
        for r in rules.rules
        if r.applies_to is not None and r.applies_to.except_inside is not None
    }
    within: dict[str, list[float]] = {}
    for rule in rules.rules:
        at = rule.applies_to
        if at is not None and at.relation == "within" and at.distance_m is not None:
            within.setdefault(at.kind, []).append(float(at.distance_m))
    tol = _tolerances(res)
    unc = res.sites["uncertainty_m"].to_numpy(dtype=float)
    idx = range(n)
    ruled = summary[summary["kind"].isin(read)]
    sens = ruled.groupby("site")["boundary_sensitive"].any().reindex(idx, fill_value=False)
    sens = sens.to_numpy(dtype=bool).copy()
    for row in hits[hits["kind"].isin(list(within))].itertuples():
        band = tol[row.layer_id] + unc[row.site]
        if any(abs(row.distance_m - d) <= band for d in within[row.kind]):
            sens[row.site] = True
    constraint = summary[
        ~summary["kind"].isin(screening.CONTEXT_KINDS) & summary["kind"].isin(read)
    ]
    ok = constraint[constraint["status"] == "ok"]
    reach = ok["kind"].map(lambda k: max(within.get(k, [-np.inf])))
    counted = ok["hit"].astype(bool) | (ok["distance_m"] <= reach)
    out = pd.DataFrame(index=idx)
    out["n_constraints"] = counted.groupby(ok["site"]).sum().reindex(idx, fill_value=0)
    chits = hits[
        hits["layer_id"].isin(set(constraint["layer_id"])) & (hits["relation"] == "intersects")
    ]
    out["n_hits"] = chits.groupby("site").size().reindex(idx, fill_value=0)
    out["boundary_sensitive"] = sens
    sites = res.sites.geometry.to_numpy()
    for col, measure in (
        ("overlap_m2_total", "overlap_m2"),
        ("overlap_length_m_total", "overlap_length_m"),
    ):
        values = np.full(n, np.nan)
        rows = ok[ok[measure].notna()]
        for site, layer_ids in rows.groupby("site")["layer_id"]:
            geom = sites[site]
            polys, parts = [], []
            for lid in layer_ids:
                feats = res.layers[lid].gdf.geometry.to_numpy()
                near = feats[shapely.STRtree(feats).query(geom, predicate="intersects")]
                if (shapely.get_dimensions(near) == 2).all():
                    polys.extend(near)
                else:
                    parts.extend(shapely.intersection(near, geom))
            # The site intersected once with the union of the polygon features.
            if polys:
                parts.append(shapely.intersection(geom, shapely.union_all(polys)))
            union = shapely.union_all(parts) if parts else Polygon()
            values[site] = union.area if measure == "overlap_m2" else union.length
        out[col] = values
    # nearest: up to the shortest distance every constraint layer was searched to
    cap = min((searched.get(k, np.inf) for k in set(constraint["kind"])), default=np.inf)
    near = ok[ok["distance_m"] <= cap]
    out["nearest_m"] = near.groupby("site")["distance_m"].min().reindex(idx)
    return out


def _screen_counting(monkeypatch, *args, **kw):
    """``zoning.screen`` that also reports how many sites each rule evaluation saw."""
    seen: list[int] = []

    def counting(rule_set, sites, *a, **k):
        seen.append(len(sites))
        return evaluate(rule_set, sites, *a, **k)

    monkeypatch.setattr("zoning.screening.apply.evaluate", counting)
    res = zoning.screen(*args, **kw)
    monkeypatch.undo()
    return res, seen


def _check_against_general_path(res, rules, radius):
    # the rules the screening applied: those in force on its day (rule set 2026.12 holds
    # rules that ended on 2026-03-14, the 2017 reserve regulation's)
    rules = rules.in_force(datetime.date.fromisoformat(res.provenance["as_of"]))
    n = len(res.sites)
    hits = _engine_hits(res)
    summary = res.layer_summary
    tol = _tolerances(res)
    # How far each kind was searched: the radius, or a layer's declared outermost ring.
    searched: dict[str, float] = {}
    for e in res.layers.catalog.layers:
        reach = max(radius, max(e.buffer_rings_m)) if radius > 0 and e.buffer_rings_m else radius
        searched[e.kind] = min(searched.get(e.kind, np.inf), reach)
    want = evaluate(rules, res.sites, hits, summary, search_radius_m=searched, tolerance_m=tol)
    pd.testing.assert_frame_equal(res.reasons.reset_index(drop=True), want)
    assert list(res.sites["verdict"]) == list(site_verdicts(want, n))
    rule_ids, verdict = hit_verdicts(want, hits)
    assert list(res.hits["rule_ids"]) == list(rule_ids)
    assert res.hits["verdict"].fillna("-").tolist() == verdict.fillna("-").tolist()
    top = pd.DataFrame(index=range(n))
    screening._attach_top_reasons(top, want, rules, res.sites)
    for col in ("n_reasons", "reasons_en", "reasons_zh"):
        assert list(res.sites[col]) == list(top[col]), col
    old = _old_site_totals(res, rules, summary, hits, n, searched)
    for col in old.columns:
        got = res.sites[col].to_numpy()
        exp = old[col].to_numpy()
        if col == "boundary_sensitive":
            # issue 13 §5: a flag needs a rule that could apply to the project as well, so the
            # geometric definition above is an upper bound (tests/test_output_words.py checks
            # which rules it keeps)
            assert (got.astype(bool) <= exp.astype(bool)).all(), col
            assert ((res.sites["boundary_rules"] != "") == got.astype(bool)).all()
        elif col.startswith("overlap_"):  # unions by plain shapely: to rounding, < 1 mm
            np.testing.assert_allclose(got, exp.astype(float), rtol=1e-6, atol=1e-3, equal_nan=True)
        elif got.dtype.kind == "f":
            np.testing.assert_allclose(got, exp.astype(float), rtol=1e-12, equal_nan=True)
        else:
            assert (got == exp.astype(got.dtype)).all(), col


# ----------------------------------------------------------------------------- plain shapely


def _boundaries(feats: np.ndarray) -> np.ndarray:
    out = feats.copy()
    poly = shapely.get_dimensions(feats) == 2
    out[poly] = shapely.boundary(feats[poly])
    return out


def _check_against_shapely(res, layers, radius):
    """Pairs, overlap areas, distances and boundary flags of every layer, by plain shapely."""
    sites = res.sites.geometry.to_numpy()
    edges = _boundaries(sites)
    unc = res.sites["uncertainty_m"].to_numpy(dtype=float)
    hits = res.hits
    summary = res.layer_summary
    for lay in layers:
        feats = shapely.from_wkb(shapely.to_wkb(lay.gdf.geometry.to_numpy()))
        fids = lay.gdf["feature_id"].astype(str).to_numpy()
        tol = lay.entry.positional_tolerance_m or 0.0
        h = hits[hits["layer_id"] == lay.id]
        key = list(zip(h["site"], h["feature_id"], strict=True))
        # Intersecting pairs: "intersects" plus "touches" (closed sets).
        qf, qs = shapely.STRtree(sites).query(feats, predicate="intersects")
        oracle = {(int(s), fids[f]) for s, f in zip(qs, qf, strict=True)}
        got = {k for k, rel in zip(key, h["relation"], strict=True) if rel != "nearby"}
        assert got == oracle, (lay.id, sorted(got ^ oracle)[:5])
        # Overlap areas of polygon sites in polygon layers.
        inter = h[h["relation"] == "intersects"]
        poly_pairs = inter[inter["overlap_m2"].notna()]
        if len(poly_pairs):
            fpos = {f: i for i, f in enumerate(fids)}
            s = poly_pairs["site"].to_numpy()
            f = np.array([fpos[x] for x in poly_pairs["feature_id"]])
            area = shapely.area(shapely.intersection(sites[s], feats[f]))
            np.testing.assert_allclose(poly_pairs["overlap_m2"], area, rtol=1e-9, atol=1e-6)
        # Distances within the radius: every feature within it, nearby rows at their distance.
        if radius > 0:
            # A layer with declared buffer rings is searched to its outermost ring.
            reach = max(radius, max(lay.entry.buffer_rings_m or [0.0]))
            qs, qf = shapely.STRtree(feats).query(sites, predicate="dwithin", distance=reach)
            d = shapely.distance(sites[qs], feats[qf])
            oracle_d = {(int(a), fids[b]): v for a, b, v in zip(qs, qf, d, strict=True)}
            got_d = dict(zip(key, h["distance_m"], strict=True))
            assert set(got_d) == set(oracle_d), (lay.id, sorted(set(got_d) ^ set(oracle_d))[:5])
            for k, v in oracle_d.items():
                assert got_d[k] == pytest.approx(v, abs=1e-6), (lay.id, k)
        # Boundary-sensitive: a feature boundary within tolerance + uncertainty of the site's
        # edge (its outline for polygons).
        thresh = tol + unc
        bnd = _boundaries(feats)
        qs, qf = shapely.STRtree(bnd).query(
            edges, predicate="dwithin", distance=float(thresh.max()) + 1e-6
        )
        d = shapely.distance(edges[qs], bnd[qf])
        near = d <= thresh[qs] + 1e-9
        sens = np.zeros(len(sites), dtype=bool)
        sens[qs[near]] = True
        srow = summary[summary["layer_id"] == lay.id].sort_values("site")
        assert srow["boundary_sensitive"].tolist() == sens.tolist(), lay.id
        row_sens = {(int(a), fids[b]) for a, b in zip(qs[near], qf[near], strict=True)}
        for k, flag, rel in zip(key, h["boundary_sensitive"], h["relation"], strict=True):
            if rel == "touches":
                assert flag
            elif rel == "intersects":
                assert flag == (k in row_sens), (lay.id, k)
        # Boundary distances of intersecting features: up to the larger of the radius and the
        # tolerance; with radius 0 (containment only) 0 where the site touches the feature's
        # boundary and not measured (NaN) elsewhere.
        inter = h[h["relation"] == "intersects"]
        if len(inter):
            fpos = {f: i for i, f in enumerate(fids)}
            s = inter["site"].to_numpy()
            f = np.array([fpos[x] for x in inter["feature_id"]])
            d = shapely.distance(edges[s], bnd[f])
            got = inter["boundary_distance_m"].to_numpy(dtype=float)
            if radius == 0:
                want = np.where(d == 0, 0.0, np.nan)
            else:
                cap = max(radius, float(thresh.max()))
                want = np.where(d <= cap, d, np.nan)
            np.testing.assert_allclose(got, want, atol=1e-6, rtol=0, err_msg=lay.id)


# ----------------------------------------------------------------------------- the tests


@pytest.mark.parametrize("radius", [0.0, 1000.0, 3000.0])
def test_hand_layers_fast_path_equals_general_path_and_shapely(
    fast_hand, demo_rules, monkeypatch, radius
):
    rng = np.random.default_rng(5)
    sites = _hand_sites(rng)
    res, seen = _screen_counting(
        monkeypatch,
        sites,
        fast_hand,
        rules=demo_rules,
        search_radius_m=radius,
        pieces=False,
        rings=False,
    )
    assert seen[0] < len(sites)  # the rules ran on representatives only
    _check_against_general_path(res, demo_rules, radius)
    _check_against_shapely(res, list(fast_hand), radius)
    assert (res.layer_summary["status"] == "outside_coverage").any()


@pytest.mark.parametrize("radius", [0.0, 1000.0])
def test_demo_layers_fast_path_equals_general_path_and_shapely(
    demo_layers, demo_rules, monkeypatch, radius
):
    rng = np.random.default_rng(7)
    sites = _demo_sites(demo_layers, rng)
    res, seen = _screen_counting(
        monkeypatch,
        sites,
        demo_layers,
        rules=demo_rules,
        search_radius_m=radius,
        pieces=False,
        rings=False,
    )
    assert seen[0] < len(sites)
    _check_against_general_path(res, demo_rules, radius)
    _check_against_shapely(res, list(demo_layers), radius)


@pytest.mark.parametrize(
    ("catalog", "crs"), [("fast_hand", None), ("fast_hand", "gcj02"), ("demo_layers", None)]
)
def test_point_grid_path_equals_general_path_and_shapely(
    request, demo_rules, monkeypatch, catalog, crs
):
    """Point sites placed by the combined grid (containment screenings of many points; forced
    here for a few thousand): the same hits, summary and verdicts as the per-layer path, and
    plain shapely's pairs and boundary flags.  GCJ-02 input adds the conversion's uncertainty
    to every tolerance, which the grid (built for the tolerances alone) must leave to the
    samples and the exact test."""
    layers = request.getfixturevalue(catalog)
    rng = np.random.default_rng(19)
    if catalog == "fast_hand":
        special = [g for g in _hand_sites(rng).geometry if g.geom_type == "Point"]
        geoms = _random_sites(rng, HAND_BOX, 3000, 0, 0, special)
    else:
        extra = _boundary_points(layers["water"], rng, 10, 20)
        extra += _boundary_points(layers["control_units"], rng, 20, 10)
        geoms = _random_sites(rng, (120.85, 30.66, 122.2, 31.9), 4000, 0, 0, extra)
    sites = _with_attributes(geoms, rng)
    kw = {"rules": demo_rules, "search_radius_m": 0, "pieces": False, "rings": False, "crs": crs}
    for lay in layers:
        lay.index.__dict__.pop("_point_grids", None)
    general = zoning.screen(sites, layers, **kw)
    monkeypatch.setattr(zoning.overlay.pointpass, "POINT_GRID_MIN_POINTS", 1)
    res, seen = _screen_counting(monkeypatch, sites, layers, **kw)
    assert any("_point_grids" in lay.index.__dict__ for lay in layers)  # the grid was used
    for lay in layers:
        lay.index.__dict__.pop("_point_grids", None)
    pd.testing.assert_frame_equal(_engine_hits(res), _engine_hits(general))
    pd.testing.assert_frame_equal(res.layer_summary, general.layer_summary)
    pd.testing.assert_frame_equal(
        res.sites.drop(columns="geometry"), general.sites.drop(columns="geometry")
    )
    assert seen[0] < len(sites)
    _check_against_general_path(res, demo_rules, 0.0)
    _check_against_shapely(res, list(layers), 0.0)
    if crs == "gcj02":
        assert (res.sites["uncertainty_m"] > 0).all()


def test_same_attributes_few_situations(demo_layers, demo_rules, monkeypatch):
    """One set of project attributes (the CLI's case): far fewer situations than sites."""
    rng = np.random.default_rng(11)
    pts = shapely.points(rng.uniform(121.0, 122.0, 5000), rng.uniform(30.8, 31.8, 5000))
    sites = _with_attributes(list(pts), rng, same=True)
    res, seen = _screen_counting(
        monkeypatch,
        sites,
        demo_layers,
        rules=demo_rules,
        search_radius_m=0,
        pieces=False,
        rings=False,
    )
    assert seen[0] < len(sites) / 5
    _check_against_general_path(res, demo_rules, 0.0)


def test_partly_inside_is_a_situation_of_its_own(fast_hand, demo_rules, monkeypatch):
    """Two sites touching the same features, one wholly inside the development boundary and
    one partly outside it, with the same attributes: the "outside" rule fires for one only."""
    rng = np.random.default_rng(1)
    sites = _with_attributes([INSIDE_DB, ACROSS_DB, INSIDE_DB], rng, same=True)
    sites["linear"] = pd.Series([False] * 3, dtype=object)  # no exception to the rule
    res, seen = _screen_counting(
        monkeypatch,
        sites,
        fast_hand,
        rules=demo_rules,
        search_radius_m=0,
        pieces=False,
        rings=False,
    )
    assert seen == [2]  # the two copies of INSIDE_DB share a situation
    _check_against_general_path(res, demo_rules, 0.0)
    fired = res.reasons[res.reasons["kind"] == "development_boundary"]
    assert set(fired["site"]) == {1}


def test_rule_distance_bands_are_part_of_the_situation(fast_hand, demo_rules, monkeypatch):
    """Chemical projects 500 m and 2 km from the shoreline, searched to 3 km, otherwise alike:
    the 1 km rule prohibits one only."""
    import pyproj

    geod = pyproj.Geod(ellps="GRS80")
    pts = [Point(*geod.fwd(121.525, 31.325, 135, d)[:2]) for d in (500.0, 2000.0, 600.0)]
    sites = _with_attributes(pts, np.random.default_rng(1), same=True)
    sites["industry"] = "C2614"
    sites["nature"] = "new"
    res, seen = _screen_counting(
        monkeypatch,
        sites,
        fast_hand,
        rules=demo_rules,
        search_radius_m=3000,
        pieces=False,
        rings=False,
    )
    assert seen == [2]
    _check_against_general_path(res, demo_rules, 3000.0)
    fired = res.reasons[res.reasons["rule_id"] == "yangtze.chemical"]
    assert set(fired["site"]) == {0, 2}


def test_bad_attribute_names_the_real_row(demo_layers, demo_rules):
    """An attribute evaluate cannot read is reported for the row it is in, not its situation's."""
    rng = np.random.default_rng(2)
    pts = list(shapely.points(rng.uniform(121.3, 121.5, 40), rng.uniform(31.1, 31.3, 40)))
    sites = zoning.sites.load_sites(_with_attributes(pts, rng, same=True))
    gdf = sites.gdf.copy()
    gdf.loc[37, "air"] = "maybe"  # bypasses load_sites' own check
    broken = dataclasses.replace(sites, gdf=gdf)
    with pytest.raises(ValueError, match=r"sites row 37 \(site s37\): air 'maybe'"):
        zoning.screen(
            broken, demo_layers, rules=demo_rules, search_radius_m=0, pieces=False, rings=False
        )


def test_tables_are_built_on_first_access(demo_layers, demo_rules):
    rng = np.random.default_rng(3)
    pts = list(shapely.points(rng.uniform(121.0, 122.0, 300), rng.uniform(30.8, 31.8, 300)))
    res = zoning.screen(
        _with_attributes(pts, rng), demo_layers, rules=demo_rules, search_radius_m=0, rings=False
    )
    assert callable(res.__dict__["_lazy_reasons"]) and callable(res.__dict__["_lazy_hits"])
    reasons = res.reasons
    assert res.reasons is reasons  # built once, then cached
    assert isinstance(res.hits, gpd.GeoDataFrame) and res.hits.crs == WORKING_CRS
    assert len(res.layer_summary) == len(pts) * len(demo_layers.ids)


def test_containment_flag_counts_features_beyond_the_radius(fast_hand, demo_rules):
    """A point 30 m outside red-line feature A (tolerance 50 m) is boundary-sensitive at radius 0
    and at 10 m, though A is not reported as nearby."""
    import pyproj

    geod = pyproj.Geod(ellps="GRS80")
    lon, lat, _ = geod.fwd(121.40, 31.21, 270, 30.0)  # 30 m west of A's western edge
    for radius in (0.0, 10.0):
        res = zoning.screen(
            points=[(lon, lat)],
            crs="EPSG:4326",
            layers=fast_hand,
            rules=demo_rules,
            search_radius_m=radius,
            rings=False,
        )
        s = res.layer_summary
        assert bool(s.loc[s["layer_id"] == "red", "boundary_sensitive"].iloc[0])
        assert not (res.hits["layer_id"] == "red").any()
        assert bool(res.sites["boundary_sensitive"].iloc[0])


def test_grid_bounds_hold(demo_layers):
    """The grid's lower and upper bounds enclose the distance to the nearest boundary, and its
    code is the feature a point in a clean cell lies in (plain shapely as the oracle)."""
    rng = np.random.default_rng(13)
    for layer_id in ("red_line", "water", "control_units", "districts", "yangtze_shoreline"):
        layer = demo_layers[layer_id]
        grid = layer.index.grid
        feats = layer.gdf.geometry.to_numpy()
        b = shapely.total_bounds(feats)
        x = rng.uniform(b[0] - 2000, b[2] + 2000, 4000)
        y = rng.uniform(b[1] - 2000, b[3] + 2000, 4000)
        code, lower, upper, near = grid.bounds(x, y)
        by = grid.crossing(near)
        pts = shapely.points(x, y)
        bnd = _boundaries(feats)  # a line feature is its own boundary
        d = shapely.distance(pts, shapely.union_all(bnd))
        assert (lower <= d + 1e-9).all() and (d <= upper + 1e-9).all(), layer_id
        on = np.isfinite(upper)
        assert (by[on] >= 0).all() and (by[~on] == -1).all()
        for j in (0, 1):  # the boundary of each feature named lies within the upper bound
            d_own = shapely.distance(pts[on], bnd[by[on, j]])
            assert (d_own <= upper[on] + 1e-9).all(), layer_id
        clean = code >= 0
        inside = shapely.contains_xy(feats[code[clean]], x[clean], y[clean])
        assert inside.all(), layer_id


def test_benchmark_script_runs(tmp_path):
    """benchmarks/screen_bench.py --quick at tiny sizes: it runs and the answers agree."""
    out = tmp_path / "bench.json"
    cmd = [
        sys.executable,
        str(REPO / "benchmarks" / "screen_bench.py"),
        "--quick",
        "--points", "600",
        "--polygons", "60",
        "--lines", "20",
        "--peer-points", "300",
        "--peer-polygons", "30",
        "--peer-nearest", "40",
        "--peer-lines", "10",
        "--memory-points", "2000",
        "--json", str(out),
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "every answer agrees with geopandas" in done.stdout
    import json

    data = json.loads(out.read_text())
    assert data["points_containment"]["n_full"] == 600
    assert data["memory"]["screen"]["peak_mb"] > 0
