"""Site screening throughput: zoning.screen against geopandas on the same layers (issue 5 §7).

Run from the repository root::

    .venv/bin/python benchmarks/screen_bench.py            # full sizes (about 15 minutes)
    .venv/bin/python benchmarks/screen_bench.py --quick    # small sizes, a smoke test

Workloads (fixed seeds, so every run screens the same sites), over the bounding box of the
Shanghai territory (districts ∪ sea area of the demonstration catalog; points in the box but
outside the territory are screened too and get ``unknown``):

* points: ``--points`` uniform random points (default 1,000,000);
* polygons: ``--polygons`` rotated rectangles 30-400 m wide, aspect 1-3 (default 100,000);
* lines: ``--lines`` random walks of 4-12 segments, 0.5-8 km long (default 10,000).

For every target it times ``zoning.screen`` (sites in, verdicts out: loading the sites, the
overlay and the rules; ``pieces=False, rings=False``) and the geopandas peer on the demonstration
layers (every layer, one call per layer, times summed), on the same sites, and checks that the
answers agree:

* containment of points (``search_radius_m=0``) against ``geopandas.sjoin(predicate=
  "intersects")``: the sets of (site, layer, feature) pairs must be equal;
* overlap areas of polygon sites (``search_radius_m=0``) against ``geopandas.overlay(how=
  "intersection")``: the same pairs (those sharing more than 0.01 m²) and areas within 1e-6
  relative;
* distance to the nearest feature within 1000 m (points, polygons, lines) against
  ``geopandas.sjoin_nearest(max_distance=1000)``: per (site, layer) the same distance within
  1 mm, and the same sites found.

The peers are slow (``sjoin`` screens ~6,000 points/s over all ten layers), so each comparison
runs on the first ``--peer-*`` sites of the workload and zoning is timed on the same subset for
the ratio; zoning's throughput on the whole workload is reported beside it.  Indexes: "warm"
timings have every spatial index built beforehand (zoning's layer indexes and grids, the
layers' geopandas ``sindex``); "cold" timings include building them (file reading excluded).
Peak memory of screening ``--points`` points is measured in a fresh subprocess (``VmHWM`` of
``/proc/self/status``), without and with writing the outputs.  DuckDB and dask-geopandas are
timed only if they import (they are not dependencies).

Exit status 1 when any answer disagrees.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
TARGETS = {
    "points_vs_sjoin": 40.0,
    "points_per_s": 5e6,
    "polygons_vs_overlay": 3.0,
    "nearest_points_vs_sjoin_nearest": 20.0,
    "nearest_polygons_vs_sjoin_nearest": 20.0,
    "nearest_lines_vs_sjoin_nearest": 10.0,
    "peak_rss_gb_1m_points": 2.0,
}
RADIUS_M = 1000.0


# --------------------------------------------------------------------------- workloads


def territory_box(layers) -> tuple[float, float, float, float]:
    """Bounding box (working CRS) of the districts and the sea area."""
    import shapely

    geoms = np.concatenate(
        [lay.gdf.geometry.to_numpy() for lay in layers if lay.kind in ("district", "sea_area")]
    )
    return tuple(float(v) for v in shapely.total_bounds(geoms))  # type: ignore[return-value]


def make_points(n: int, box, seed: int = 1):
    import geopandas as gpd
    import shapely

    from zoning.crs import WORKING_CRS

    rng = np.random.default_rng(seed)
    x = rng.uniform(box[0], box[2], n)
    y = rng.uniform(box[1], box[3], n)
    return gpd.GeoDataFrame(
        {"site_id": np.char.add("p", np.arange(n).astype(str)).astype(object)},
        geometry=shapely.points(x, y),
        crs=WORKING_CRS,
    )


def make_polygons(n: int, box, seed: int = 2):
    """Rotated rectangles 30-400 m wide, aspect 1-3 (project sites of 0.1-50 ha)."""
    import geopandas as gpd
    import shapely

    from zoning.crs import WORKING_CRS

    rng = np.random.default_rng(seed)
    cx = rng.uniform(box[0], box[2], n)
    cy = rng.uniform(box[1], box[3], n)
    w = rng.uniform(30, 400, n)
    h = w * rng.uniform(1, 3, n)
    a = rng.uniform(0, np.pi, n)
    dx = np.array([-0.5, 0.5, 0.5, -0.5, -0.5])
    dy = np.array([-0.5, -0.5, 0.5, 0.5, -0.5])
    px = dx[None, :] * w[:, None]
    py = dy[None, :] * h[:, None]
    c, s = np.cos(a)[:, None], np.sin(a)[:, None]
    xs = cx[:, None] + px * c - py * s
    ys = cy[:, None] + px * s + py * c
    rings = shapely.linearrings(np.stack([xs, ys], axis=-1))
    return gpd.GeoDataFrame(
        {"site_id": np.char.add("g", np.arange(n).astype(str)).astype(object)},
        geometry=shapely.polygons(rings),
        crs=WORKING_CRS,
    )


def make_lines(n: int, box, seed: int = 3):
    """Random walks of 4-12 segments, 0.5-8 km long in total (pipelines, roads)."""
    import geopandas as gpd
    import shapely

    from zoning.crs import WORKING_CRS

    rng = np.random.default_rng(seed)
    k = rng.integers(4, 13, n)
    length = rng.uniform(500, 8000, n)
    heading = rng.uniform(0, 2 * np.pi, n)
    geoms = np.empty(n, dtype=object)
    x0 = rng.uniform(box[0], box[2], n)
    y0 = rng.uniform(box[1], box[3], n)
    for i in range(n):
        turn = heading[i] + np.cumsum(rng.normal(0, 0.4, k[i]))
        step = length[i] / k[i]
        xs = x0[i] + np.r_[0, np.cumsum(step * np.cos(turn))]
        ys = y0[i] + np.r_[0, np.cumsum(step * np.sin(turn))]
        geoms[i] = shapely.LineString(np.c_[xs, ys])
    return gpd.GeoDataFrame(
        {"site_id": np.char.add("l", np.arange(n).astype(str)).astype(object)},
        geometry=geoms,
        crs=WORKING_CRS,
    )


# --------------------------------------------------------------------------- runners


def zoning_screen(sites, layers, rules, radius: float):
    import zoning

    t0 = time.perf_counter()
    res = zoning.screen(
        sites, layers, rules=rules, search_radius_m=radius, pieces=False, rings=False
    )
    return res, time.perf_counter() - t0


def time_zoning(gdf, layers, rules, radius: float):
    """``load_sites`` then ``zoning.screen`` on the loaded sites: (result, load s, screen s)."""
    from zoning.sites import load_sites

    t0 = time.perf_counter()
    sites = load_sites(gdf)
    load_s = time.perf_counter() - t0
    res, screen_s = zoning_screen(sites, layers, rules, radius)
    return res, load_s, screen_s


def finish(r: dict) -> dict:
    """Ratios and throughputs of one comparison."""
    r["ratio"] = r["peer_s"] / r["zoning_s"]
    r["ratio_with_load"] = r["peer_s"] / (r["zoning_s"] + r["load_sites_s"])
    if "sjoin_cold_s" in r:
        r["ratio_cold"] = r["sjoin_cold_s"] / (r["zoning_cold_s"])
    r["full_per_s"] = r["n_full"] / r["full_zoning_s"]
    r["full_per_s_with_load"] = r["n_full"] / (r["full_zoning_s"] + r["full_load_sites_s"])
    return r


def layer_frames(layers):
    return [(lay.id, lay.gdf[["feature_id", "geometry"]]) for lay in layers]


def peer_sjoin(sites, frames):
    import geopandas as gpd

    pairs = set()
    t0 = time.perf_counter()
    for lid, g in frames:
        j = gpd.sjoin(sites[["site_id", "geometry"]], g, predicate="intersects")
        pairs.update(zip(j["site_id"], [lid] * len(j), j["feature_id"], strict=True))
    return pairs, time.perf_counter() - t0


def peer_overlay(sites, frames):
    import geopandas as gpd

    areas = {}
    t0 = time.perf_counter()
    for lid, g in frames:
        if not g.geom_type.isin(["Polygon", "MultiPolygon"]).all():
            continue  # a polygon x line overlay has no area
        o = gpd.overlay(sites[["site_id", "geometry"]], g, how="intersection")
        a = o.geometry.area.to_numpy()
        for sid, fid, v in zip(o["site_id"], o["feature_id"], a, strict=True):
            areas[(sid, lid, fid)] = areas.get((sid, lid, fid), 0.0) + v
    return areas, time.perf_counter() - t0


def peer_nearest(sites, frames, radius: float):
    import geopandas as gpd

    dist = {}
    t0 = time.perf_counter()
    for lid, g in frames:
        j = gpd.sjoin_nearest(
            sites[["site_id", "geometry"]], g, max_distance=radius, distance_col="d"
        )
        for sid, d in zip(j["site_id"], j["d"], strict=True):
            key = (sid, lid)
            dist[key] = min(d, dist.get(key, np.inf))
    return dist, time.perf_counter() - t0


def zoning_pairs(res) -> set:
    h = res.hits
    h = h[h["relation"] == "intersects"]
    return set(zip(h["site_id"], h["layer_id"], h["feature_id"], strict=True))


def zoning_areas(res) -> dict:
    h = res.hits
    h = h[(h["relation"] == "intersects") & h["overlap_m2"].notna()]
    return dict(
        zip(
            zip(h["site_id"], h["layer_id"], h["feature_id"], strict=True),
            h["overlap_m2"],
            strict=True,
        )
    )


def zoning_distances(res, radius: float) -> dict:
    s = res.layer_summary
    s = s[s["layer_id"].notna() & s["distance_m"].notna() & (s["distance_m"] <= radius)]
    return dict(zip(zip(s["site_id"], s["layer_id"], strict=True), s["distance_m"], strict=True))


def compare_areas(ours: dict, theirs: dict, touch_m2: float) -> list[str]:
    problems = []
    theirs = {k: v for k, v in theirs.items() if v > touch_m2}
    ours = {k: v for k, v in ours.items() if v > touch_m2}
    if set(ours) != set(theirs):
        a, b = set(ours) - set(theirs), set(theirs) - set(ours)
        problems.append(f"pairs differ: {len(a)} only zoning {sorted(a)[:3]}, {len(b)} only peer")
    for k in set(ours) & set(theirs):
        if abs(ours[k] - theirs[k]) > 1e-6 * max(abs(theirs[k]), 1.0):
            problems.append(f"area {k}: zoning {ours[k]!r} peer {theirs[k]!r}")
            break
    return problems


def compare_distances(ours: dict, theirs: dict) -> list[str]:
    problems = []
    if set(ours) != set(theirs):
        a, b = set(ours) - set(theirs), set(theirs) - set(ours)
        problems.append(
            f"sites found differ: {len(a)} only zoning {sorted(a)[:3]}, "
            f"{len(b)} only peer {sorted(b)[:3]}"
        )
    bad = [k for k in set(ours) & set(theirs) if abs(ours[k] - theirs[k]) > 1e-3]
    if bad:
        k = bad[0]
        problems.append(f"{len(bad)} distances differ, e.g. {k}: {ours[k]!r} vs {theirs[k]!r}")
    return problems


# --------------------------------------------------------------------------- memory child


def vm_hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def memory_child(n: int, formats: str) -> None:
    """Screen ``n`` points in this fresh process; print time and peak RSS as JSON."""
    import zoning
    from zoning.rules import load_rules

    layers = zoning.load_catalog()
    rules = load_rules()
    for lay in layers:
        lay.index.grid  # noqa: B018 - build the indexes first (warm)
    pts = make_points(n, territory_box(layers))
    base = vm_hwm_mb()
    res, dt = zoning_screen(pts, layers, rules, 0.0)
    out = {"n": n, "screen_s": dt, "before_mb": base, "peak_mb": vm_hwm_mb()}
    if formats:
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            written = res.to_file(tmp, formats.split(","))
            out["write_s"] = time.perf_counter() - t0
            out["sizes_mb"] = {
                k: sum(f.stat().st_size for f in ([p] if p.is_file() else p.rglob("*"))) / 2**20
                for k, p in written.items()
            }
        out["peak_after_write_mb"] = vm_hwm_mb()
    print(json.dumps(out))


def run_child(n: int, formats: str) -> dict:
    cmd = [sys.executable, __file__, "--memory-child", str(n), "--formats", formats]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=REPO)
    if done.returncode:
        raise RuntimeError(f"memory child failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- main


def machine() -> dict:
    import geopandas
    import pandas
    import shapely

    import zoning

    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = "unknown"
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            mem = f"{int(line.split()[1]) / 2**20:.1f} GiB"
    return {
        "cpu": cpu,
        "nproc": os.cpu_count(),
        "memory": mem,
        "python": platform.python_version(),
        "zoning": zoning.__version__,
        "shapely": shapely.__version__,
        "geos": ".".join(map(str, shapely.geos_version)),
        "geopandas": geopandas.__version__,
        "pandas": pandas.__version__,
        "numpy": np.__version__,
    }


def optional_peers() -> dict:
    out = {}
    for name in ("duckdb", "dask_geopandas"):
        try:
            __import__(name)
            out[name] = "installed, not timed by this script"
        except ImportError:
            out[name] = "not installed: not timed"
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke test)")
    ap.add_argument("--points", type=int)
    ap.add_argument("--polygons", type=int)
    ap.add_argument("--lines", type=int)
    ap.add_argument("--peer-points", type=int, help="points compared with sjoin")
    ap.add_argument("--peer-polygons", type=int, help="polygons compared with overlay")
    ap.add_argument("--peer-nearest", type=int, help="points/polygons for sjoin_nearest")
    ap.add_argument("--peer-lines", type=int, help="lines for sjoin_nearest")
    ap.add_argument("--memory-points", type=int, help="points screened in the memory runs")
    ap.add_argument("--no-memory", action="store_true", help="skip the memory subprocesses")
    ap.add_argument("--json", help="also write the results to this JSON file")
    ap.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--formats", default="", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.memory_child:
        memory_child(args.memory_child, args.formats)
        return 0

    quick = args.quick
    n_pts = args.points or (20_000 if quick else 1_000_000)
    n_poly = args.polygons or (2_000 if quick else 100_000)
    n_lines = args.lines or (300 if quick else 10_000)
    peer_pts = min(n_pts, args.peer_points or (5_000 if quick else 100_000))
    peer_poly = min(n_poly, args.peer_polygons or (500 if quick else 20_000))
    peer_near_pts = args.peer_nearest or (300 if quick else 20_000)
    peer_near_poly = args.peer_nearest or (300 if quick else 10_000)
    peer_lines = min(n_lines, args.peer_lines or (100 if quick else 2_000))

    import zoning
    from zoning.overlay import TOUCH_AREA_M2
    from zoning.rules import load_rules

    results: dict = {"machine": machine(), "optional_peers": optional_peers()}
    results["command"] = " ".join([".venv/bin/python", "benchmarks/screen_bench.py", *sys.argv[1:]])
    results["loadavg_start"] = Path("/proc/loadavg").read_text().split()[:3]
    problems: list[str] = []
    rules = load_rules()

    # Cold: a fresh LayerSet whose files are read (not timed) but whose indexes are not built.
    layers = zoning.load_catalog()
    for lay in layers:
        lay.gdf  # noqa: B018
    box = territory_box(layers)
    pts = make_points(n_pts, box)
    polys = make_polygons(n_poly, box)
    lines = make_lines(n_lines, box)
    print(f"workloads: {n_pts:,} points, {n_poly:,} polygons, {n_lines:,} lines", flush=True)

    # ---- points, containment
    sub_pts = pts.iloc[:peer_pts]
    r: dict = {"n_peer": peer_pts}
    _, _, r["zoning_cold_s"] = time_zoning(sub_pts, layers, rules, 0.0)
    # Warm: the combined point grid (a single screening builds it only from 2.5 million
    # points: zoning.overlay.POINT_GRID_MIN_POINTS) and each layer's dissolved pieces (built on
    # the first site that meets several features of a layer) are built now, timed apart.
    t0 = time.perf_counter()
    zoning.screening.prepare_point_grid(layers)
    r["point_grid_build_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for lay in layers:
        lay.index.dissolved  # noqa: B018 - warm
    r["dissolved_build_s"] = time.perf_counter() - t0
    cold_frames = [(lid, g.copy()) for lid, g in layer_frames(layers)]
    theirs, r["sjoin_cold_s"] = peer_sjoin(sub_pts, cold_frames)
    frames = layer_frames(layers)
    for _, g in frames:
        g.sindex  # noqa: B018 - warm
    res, r["load_sites_s"], r["zoning_s"] = time_zoning(sub_pts, layers, rules, 0.0)
    theirs, r["peer_s"] = peer_sjoin(sub_pts, frames)
    ours = zoning_pairs(res)
    if ours != theirs:
        problems.append(
            f"points: (site, layer, feature) pairs differ: {len(ours - theirs)} only zoning, "
            f"{len(theirs - ours)} only sjoin"
        )
    r["pairs"] = len(ours)
    r["verdicts"] = res.verdict_counts()
    del res
    full, r["full_load_sites_s"], r["full_zoning_s"] = time_zoning(pts, layers, rules, 0.0)
    r["n_full"] = n_pts
    r["full_outside_coverage"] = int(
        full.layer_summary.query("status == 'outside_coverage'")["site"].nunique()
    )
    r["full_verdicts"] = full.verdict_counts()
    del full
    r.update(stage_times(pts, layers))
    results["points_containment"] = finish(r)
    print(json.dumps({"points_containment": r}, default=str), flush=True)

    # ---- polygons, overlap areas
    sub = polys.iloc[:peer_poly]
    r = {"n_peer": peer_poly}
    res, r["load_sites_s"], r["zoning_s"] = time_zoning(sub, layers, rules, 0.0)
    theirs_a, r["peer_s"] = peer_overlay(sub, frames)
    problems += [
        f"polygons: {p}" for p in compare_areas(zoning_areas(res), theirs_a, TOUCH_AREA_M2)
    ]
    r["pairs"] = len(theirs_a)
    del res
    _, r["full_load_sites_s"], r["full_zoning_s"] = time_zoning(polys, layers, rules, 0.0)
    r["n_full"] = n_poly
    results["polygons_overlap"] = finish(r)
    print(json.dumps({"polygons_overlap": r}, default=str), flush=True)

    # ---- nearest within the radius
    for name, gdf, n_peer in (
        ("points", pts, min(peer_near_pts, n_pts)),
        ("polygons", polys, min(peer_near_poly, n_poly)),
        ("lines", lines, min(peer_lines, n_lines)),
    ):
        sub = gdf.iloc[:n_peer]
        r = {"n_peer": n_peer}
        res, r["load_sites_s"], r["zoning_s"] = time_zoning(sub, layers, rules, RADIUS_M)
        theirs_d, r["peer_s"] = peer_nearest(sub, frames, RADIUS_M)
        problems += [
            f"nearest {name}: {p}"
            for p in compare_distances(zoning_distances(res, RADIUS_M), theirs_d)
        ]
        del res
        _, r["full_load_sites_s"], r["full_zoning_s"] = time_zoning(gdf, layers, rules, RADIUS_M)
        r["n_full"] = len(gdf)
        results[f"nearest_{name}"] = finish(r)
        print(json.dumps({f"nearest_{name}": r}, default=str), flush=True)

    # ---- peak memory
    if not args.no_memory:
        n_mem = args.memory_points or n_pts
        results["memory"] = {
            "screen": run_child(n_mem, ""),
            "screen_and_write_csv": run_child(n_mem, "csv"),
            "screen_and_write_json_gpkg": run_child(n_mem, "json,gpkg"),
        }
        print(json.dumps({"memory": results["memory"]}), flush=True)

    results["loadavg_end"] = Path("/proc/loadavg").read_text().split()[:3]
    results["problems"] = problems
    print_table(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str) + "\n")
    return 1 if problems else 0


def stage_times(pts, layers) -> dict:
    """Time the stages of one screening of ``pts`` (warm): loading the sites, the overlay."""
    from zoning.overlay import LayerInput, overlay
    from zoning.sites import load_sites

    t0 = time.perf_counter()
    sites = load_sites(pts)
    t1 = time.perf_counter()
    inputs = [LayerInput(lay.id, lay.kind, lay.index, lay.attributes) for lay in layers]
    gdf = sites.gdf
    overlay(
        gdf.geometry.to_numpy(),
        gdf["site_id"].to_numpy(dtype=object),
        inputs,
        search_radius_m=0.0,
        uncertainty_m=gdf["uncertainty_m"].to_numpy(dtype=float),
        pieces=False,
        rings=False,
    )
    t2 = time.perf_counter()
    return {"stage_load_sites_s": t1 - t0, "stage_overlay_s": t2 - t1}


def print_table(results: dict) -> None:
    """The results as a table: ratios on the peer's sites, throughput on the whole workload."""
    rows = [
        ("points, containment + verdict vs sjoin", "points_containment", "points_vs_sjoin"),
        ("polygons, overlap areas vs overlay", "polygons_overlap", "polygons_vs_overlay"),
        (
            f"points, nearest <= {RADIUS_M:g} m vs sjoin_nearest",
            "nearest_points",
            "nearest_points_vs_sjoin_nearest",
        ),
        (
            f"polygons, nearest <= {RADIUS_M:g} m vs sjoin_nearest",
            "nearest_polygons",
            "nearest_polygons_vs_sjoin_nearest",
        ),
        (
            f"lines, nearest <= {RADIUS_M:g} m vs sjoin_nearest",
            "nearest_lines",
            "nearest_lines_vs_sjoin_nearest",
        ),
    ]
    print()
    head = (
        f"{'comparison (warm indexes)':46} {'sites':>7} {'load s':>7} {'screen s':>8} "
        f"{'peer s':>7} {'ratio':>6} {'+load':>6} {'target':>6}"
    )
    print(head)
    for label, key, target_key in rows:
        r = results[key]
        target = TARGETS[target_key]
        ok = "ok" if r["ratio"] >= target else "MISSED"
        print(
            f"{label:46} {r['n_peer']:>7,} {r['load_sites_s']:>7.2f} {r['zoning_s']:>8.2f} "
            f"{r['peer_s']:>7.2f} {r['ratio']:>6.1f} {r['ratio_with_load']:>6.1f} "
            f"{target:>5.0f}x {ok}"
        )
    pc = results["points_containment"]
    print(
        f"cold (index build included, file reading not): zoning {pc['zoning_cold_s']:.2f} s, "
        f"sjoin {pc['sjoin_cold_s']:.2f} s on {pc['n_peer']:,} points: {pc['ratio_cold']:.1f}x"
    )
    if "point_grid_build_s" in pc:
        print(
            f"built apart for the warm runs: combined point grid {pc['point_grid_build_s']:.2f} s, "
            f"dissolved layer pieces {pc['dissolved_build_s']:.2f} s"
        )
    print()
    print("whole workloads (zoning.screen on loaded sites; + load_sites):")
    for _, key, _ in rows:
        r = results[key]
        print(
            f"  {key:20} {r['n_full']:>9,} sites  screen {r['full_zoning_s']:7.2f} s "
            f"= {r['full_per_s']:>9,.0f}/s;  with load_sites {r['full_per_s_with_load']:>9,.0f}/s"
        )
    print(
        f"  points per second target {TARGETS['points_per_s']:,.0f}: "
        f"{'ok' if pc['full_per_s'] >= TARGETS['points_per_s'] else 'MISSED'}; overlay stage "
        f"alone {pc['n_full'] / pc['stage_overlay_s']:,.0f}/s"
    )
    mem = results.get("memory")
    if mem:
        for k, v in mem.items():
            extra = ""
            if "write_s" in v:
                extra = f", writing {v['write_s']:.1f} s, peak {v['peak_after_write_mb']:,.0f} MB"
                extra += " (" + ", ".join(f"{f} {m:,.0f} MB" for f, m in v["sizes_mb"].items())
                extra += ")"
            print(
                f"memory, {k}: {v['n']:,} points, load_sites + screen {v['screen_s']:.2f} s, "
                f"peak RSS {v['peak_mb']:,.0f} MB{extra}"
            )
    for k, v in results["optional_peers"].items():
        print(f"{k}: {v}")
    print(f"load average at start {results['loadavg_start']}, end {results['loadavg_end']}")
    if results["problems"]:
        print("ANSWERS DISAGREE:")
        for p in results["problems"]:
            print("  " + p)
    else:
        print("every answer agrees with geopandas")


if __name__ == "__main__":
    sys.exit(main())
