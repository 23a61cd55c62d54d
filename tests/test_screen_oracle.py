"""A containment screening of 20,000 random points keeps every answer (issue 15, speed work).

Two oracles, both in ``tests/data/screen_oracle`` (``make_oracle.py`` there wrote them and says
how):

* the (site, layer, feature) containment pairs found with shapely's own ``STRtree`` query
  (``predicate="intersects"``) over each layer's features: independent of the engine's grids;
* the sites, hits, layer summary and reasons that ``zoning.screen`` gave at the commit named in
  ``oracle.json``, before the containment fast path was reworked for speed: every later
  change must keep them (rows compared after the same CSV round trip).

A third of the points carry no project attributes, a third those of a restaurant in a
residential building and a third those of a new chemical plant; about half fall outside the
layers' coverage (the box of the territory, not the territory).  Screened twice: with each
layer's point grid (a screening of fewer than ``POINT_GRID_MIN_POINTS`` points) and with the
combined grid of every layer (what a large run uses).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import zoning
from zoning.crs import WORKING_CRS

DATA = Path(__file__).parent / "data" / "screen_oracle"
META = json.loads((DATA / "oracle.json").read_text(encoding="utf-8"))
PROFILES = {int(k): v for k, v in META["profiles"].items()}
SITE_COLUMNS = [
    "site_id", "verdict", "n_constraints", "n_hits", "boundary_sensitive", "overlap_m2_total",
    "overlap_length_m_total", "nearest_m", "boundary_rules", "n_reasons", "reasons_en",
    "reasons_zh",
]  # fmt: skip
REASON_COLUMNS = ["site", "rule_id", "layer_id", "feature_id", "verdict", "status", "dimension"]


def _sites() -> gpd.GeoDataFrame:
    pts = pd.read_csv(DATA / "points.csv.xz")
    cols = sorted({k for p in PROFILES.values() for k in p})
    data: dict = {"site_id": pts["site_id"].to_numpy(dtype=object)}
    prof = pts["profile"].to_numpy()
    for c in cols:
        vals = np.full(len(pts), None, dtype=object)
        for k, p in PROFILES.items():
            if c in p:
                vals[prof == k] = p[c]
        data[c] = vals
    geoms = shapely.points(pts["x"].to_numpy(), pts["y"].to_numpy())
    return gpd.GeoDataFrame(data, geometry=geoms, crs=WORKING_CRS)


def _round_trip(frame: pd.DataFrame) -> pd.DataFrame:
    buf = io.StringIO()
    frame.to_csv(buf, index=False, float_format="%.17g")
    buf.seek(0)
    return pd.read_csv(buf)


def _stored(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / name)


@pytest.fixture(scope="module", params=["layer grids", "combined grid"])
def result(request, demo_layers, demo_rules):
    """The screening with each layer's point grid, and with the combined grid of every layer
    (:func:`zoning.screening.prepare_point_grid`, on a layer set of its own)."""
    layers = demo_layers
    if request.param == "combined grid":
        layers = zoning.load_catalog()
        zoning.screening.prepare_point_grid(layers)
    return zoning.screen(
        _sites(), layers, rules=demo_rules, search_radius_m=0, pieces=False, rings=False
    )


def test_containment_pairs_are_shapelys(result):
    hits = result.hits
    hits = hits[hits["relation"] == "intersects"]
    ours = set(zip(hits["site_id"], hits["layer_id"], hits["feature_id"].astype(str), strict=True))
    pairs = _stored("pairs.csv.xz")
    theirs = set(
        zip(pairs["site_id"], pairs["layer_id"], pairs["feature_id"].astype(str), strict=True)
    )
    assert len(theirs) > 10_000
    assert ours == theirs


def test_verdict_counts(result):
    assert result.verdict_counts() == META["verdicts"]


def test_sites_unchanged(result):
    ours = _round_trip(result.sites.drop(columns="geometry")[SITE_COLUMNS])
    pd.testing.assert_frame_equal(ours, _stored("sites.csv.xz"))


def test_hits_unchanged(result):
    ours = _round_trip(result.hits.drop(columns="geometry"))
    pd.testing.assert_frame_equal(ours, _stored("hits.csv.xz"))


def test_layer_summary_unchanged(result):
    ours = _round_trip(result.layer_summary.drop(columns="site_id"))
    pd.testing.assert_frame_equal(ours, _stored("summary.csv.xz"))


def test_reasons_unchanged(result):
    ours = _round_trip(result.reasons[REASON_COLUMNS])
    pd.testing.assert_frame_equal(ours, _stored("reasons.csv.xz"))
