"""Write the screening oracle of ``tests/test_screen_oracle.py`` (run from the repository root).

    PYTHONPATH=$PWD python tests/data/screen_oracle/make_oracle.py

20,000 random points (fixed seed) over the bounding box of the demonstration districts and
sea area, a third with no project attributes and a third each with the attributes of two
example projects, screened in containment mode (``search_radius_m=0``).  Two oracles:

* ``pairs.csv.xz``: every (site, layer, feature) whose geometry the point intersects, found
  with shapely (``STRtree.query(predicate="intersects")`` on each layer's features), not with
  the engine;
* ``sites.csv.xz``, ``hits.csv.xz``, ``summary.csv.xz``, ``reasons.csv.xz``: what
  ``zoning.screen`` answered at the commit named in ``oracle.json`` (before the containment
  fast path was reworked), so later changes must keep every answer.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

import zoning
from zoning.rules import load_rules

HERE = Path(__file__).resolve().parent
N = 20_000
PROFILES = {
    1: {
        "industry": "H6210",
        "nature": "new",
        "wastewater": True,
        "air": True,
        "residential_building": True,
        "discharge": "sewer",
    },
    2: {
        "industry": "C2641",
        "nature": "new",
        "wastewater": True,
        "air": True,
        "hazardous": True,
        "discharge": "direct",
    },
}


def make_points(layers) -> pd.DataFrame:
    geoms = np.concatenate(
        [lay.gdf.geometry.to_numpy() for lay in layers if lay.kind in ("district", "sea_area")]
    )
    box = shapely.total_bounds(geoms)
    rng = np.random.default_rng(15)
    return pd.DataFrame(
        {
            "site_id": [f"p{i}" for i in range(N)],
            "x": rng.uniform(box[0], box[2], N).round(2),
            "y": rng.uniform(box[1], box[3], N).round(2),
            "profile": rng.integers(0, 3, N),
        }
    )


def main() -> None:
    layers = zoning.load_catalog()
    pts = make_points(layers)
    pts.to_csv(HERE / "points.csv.xz", index=False, float_format="%.2f")
    geoms = shapely.points(pts["x"].to_numpy(), pts["y"].to_numpy())
    pairs = []
    for lay in layers:
        g = lay.gdf
        tree = shapely.STRtree(g.geometry.to_numpy())
        site, feat = tree.query(geoms, predicate="intersects")
        fid = g["feature_id"].to_numpy(dtype=object) if "feature_id" in g else g.index.to_numpy()
        pairs.append(
            pd.DataFrame(
                {
                    "site_id": pts["site_id"].to_numpy()[site],
                    "layer_id": lay.id,
                    "feature_id": fid[feat].astype(str),
                }
            )
        )
    pd.concat(pairs).sort_values(["site_id", "layer_id", "feature_id"]).to_csv(
        HERE / "pairs.csv.xz", index=False
    )
    gdf = sites_frame(pts)
    res = zoning.screen(
        gdf, layers, rules=load_rules(), search_radius_m=0, pieces=False, rings=False
    )
    write(res.sites.drop(columns="geometry")[SITE_COLUMNS], "sites.csv.xz")
    write(res.hits.drop(columns="geometry"), "hits.csv.xz")
    write(res.layer_summary.drop(columns="site_id"), "summary.csv.xz")
    write(res.reasons[REASON_COLUMNS], "reasons.csv.xz")
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    meta = {
        "commit": commit,
        "n": N,
        "verdicts": res.verdict_counts(),
        "profiles": {str(k): v for k, v in PROFILES.items()},
    }
    (HERE / "oracle.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n")


SITE_COLUMNS = [
    "site_id",
    "verdict",
    "n_constraints",
    "n_hits",
    "boundary_sensitive",
    "overlap_m2_total",
    "overlap_length_m_total",
    "nearest_m",
    "boundary_rules",
    "n_reasons",
    "reasons_en",
    "reasons_zh",
]
REASON_COLUMNS = ["site", "rule_id", "layer_id", "feature_id", "verdict", "status", "dimension"]


def write(frame: pd.DataFrame, name: str) -> None:
    frame.to_csv(HERE / name, index=False, float_format="%.17g")


def sites_frame(pts: pd.DataFrame):
    """The points as a GeoDataFrame with each profile's attributes (the test builds the same)."""
    import geopandas as gpd

    from zoning.crs import WORKING_CRS

    cols = sorted({k for p in PROFILES.values() for k in p})
    data = {"site_id": pts["site_id"].to_numpy(dtype=object)}
    prof = pts["profile"].to_numpy()
    for c in cols:
        vals = np.full(len(pts), None, dtype=object)
        for k, p in PROFILES.items():
            if c in p:
                vals[prof == k] = p[c]
        data[c] = vals
    return gpd.GeoDataFrame(
        data, geometry=shapely.points(pts["x"].to_numpy(), pts["y"].to_numpy()), crs=WORKING_CRS
    )


if __name__ == "__main__":
    main()
