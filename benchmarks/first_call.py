"""The first call of a process: zoning.screen against geopandas, in fresh processes (issue 15 §5).

Run from the repository root::

    .venv/bin/python benchmarks/first_call.py                 # the sizes of the issue
    .venv/bin/python benchmarks/first_call.py --quick         # small sizes, a smoke run
    .venv/bin/python benchmarks/first_call.py --repeat 3 --json results_first_call.json

Each measurement runs in a FRESH subprocess that loads the catalog (``zoning.load_catalog()``:
the files are read and projected, timed apart as "load s") and the rules (untimed), makes the
points of ``screen_bench.py`` (fixed seed, working CRS) and then times ONE call, with no layer
index in memory:

* containment: ``zoning.screen(points, layers, rules=..., search_radius_m=0, pieces=False,
  rings=False)`` on ``--points`` points (default 1,000,000), against
  ``geopandas.sjoin(points, layer, predicate="intersects")`` over the catalog's polygon layers
  (one call per layer, summed; each layer's ``sindex`` is built inside the call, as zoning's
  indexes are); answers: the same (site, layer, feature) pairs;
* nearby: ``zoning.screen(..., search_radius_m=5000)`` (every feature within 5 km, with
  distances, flags and rules) on ``--near-points`` points (default 20,000), against
  ``geopandas.sjoin_nearest(points, layer, max_distance=5000)`` over every layer; answers: per
  (site, layer) the same nearest distance within 1 mm.

The on-disk index cache: when ``zoning.load_catalog`` or ``zoning.screen`` takes an
``index_cache`` keyword, or the environment variable ``ZONING_INDEX_CACHE`` makes zoning write
a cache (checked: a priming subprocess must leave files in the folder), the cache is primed once
(untimed) and every zoning child runs with it warm. Otherwise the children measure "no cache"
and the output says so. The cache folder is a temporary one, never the user's.

Warm (``--no-warm`` skips it): in one more subprocess every index is built first (zoning's by a
screening, geopandas' ``sindex``), then polygons (``--warm-polygons``, default 10,000) and lines
(``--warm-lines``, default 2,000) are screened within 1,000 m against ``sjoin_nearest``, as in
``screen_bench.py`` (targets: polygons 20x, lines 10x).

Zoning and geopandas alternate, ``--repeat`` times; the medians are reported. Exit status 1
when any answer disagrees.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

TARGETS = {"contain": 40.0, "near5k": 20.0, "warm_polygons": 20.0, "warm_lines": 10.0}
NEAR_M = 5000.0
WARM_M = 1000.0


# --------------------------------------------------------------------------- children


def cache_kwargs() -> tuple[dict, dict]:
    """``index_cache=`` for load_catalog and for screen, where they take it."""
    import zoning

    folder = os.environ.get("ZONING_INDEX_CACHE")
    load_kw, screen_kw = {}, {}
    if folder and "index_cache" in inspect.signature(zoning.load_catalog).parameters:
        load_kw["index_cache"] = folder
    if folder and "index_cache" in inspect.signature(zoning.screen).parameters:
        screen_kw["index_cache"] = folder
    return load_kw, screen_kw


def vm_hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def setup(n: int):
    """Catalog (timed), rules, the first ``n`` points of screen_bench's workload."""
    from screen_bench import make_points, territory_box

    import zoning
    from zoning.rules import load_rules

    load_kw, screen_kw = cache_kwargs()
    t0 = time.perf_counter()
    layers = zoning.load_catalog(**load_kw)
    for lay in layers:
        lay.gdf  # noqa: B018 - read the files now (timed as load s)
    load_s = time.perf_counter() - t0
    rules = load_rules()
    pts = make_points(n, territory_box(layers))
    return layers, rules, pts, load_s, screen_kw


def polygon_frames(layers, polygons_only: bool):
    out = []
    for lay in layers:
        g = lay.gdf[["feature_id", "geometry"]].copy()  # no sindex yet
        if polygons_only and not g.geom_type.isin(["Polygon", "MultiPolygon"]).all():
            continue
        out.append((lay.id, g))
    return out


def child(task: str, n: int, answer: str) -> None:
    """One timed first call in this fresh process; JSON on the last line of stdout."""
    import pandas as pd
    from screen_bench import peer_nearest, peer_sjoin, zoning_distances, zoning_pairs

    import zoning

    out: dict = {"task": task, "n": n}
    if task == "prime":
        layers, rules, pts, out["load_s"], kw = setup(200)
        for r in (0.0, NEAR_M):
            zoning.screen(
                pts, layers, rules=rules, search_radius_m=r, pieces=False, rings=False, **kw
            )
        print(json.dumps(out))
        return
    layers, rules, pts, out["load_s"], kw = setup(n)
    out["before_mb"] = vm_hwm_mb()
    radius = 0.0 if task.endswith("contain") else NEAR_M
    cpu0 = time.process_time()
    if task.startswith("zoning"):
        t0 = time.perf_counter()
        res = zoning.screen(
            pts, layers, rules=rules, search_radius_m=radius, pieces=False, rings=False, **kw
        )
        out["call_s"] = time.perf_counter() - t0
        out["call_cpu_s"] = time.process_time() - cpu0
        if radius == 0:
            polygonal = {lid for lid, _ in polygon_frames(layers, True)}
            rows = [t for t in zoning_pairs(res) if t[1] in polygonal]
        else:
            rows = [(*k, v) for k, v in zoning_distances(res, radius).items()]
    elif task == "sjoin_contain":
        pairs, out["call_s"] = peer_sjoin(pts, polygon_frames(layers, True))
        out["call_cpu_s"] = time.process_time() - cpu0
        rows = list(pairs)
    else:
        dist, out["call_s"] = peer_nearest(pts, polygon_frames(layers, False), radius)
        out["call_cpu_s"] = time.process_time() - cpu0
        rows = [(*k, v) for k, v in dist.items()]
    out["peak_mb"] = vm_hwm_mb()
    cols = ["site_id", "layer_id", "feature_id"] if radius == 0 else ["site_id", "layer_id", "d"]
    pd.DataFrame(rows, columns=cols).to_parquet(answer, index=False)
    print(json.dumps(out))


def warm_child(n_poly: int, n_lines: int) -> None:
    """Warm indexes: polygons and lines within 1,000 m against sjoin_nearest."""
    from screen_bench import (
        compare_distances,
        make_lines,
        make_polygons,
        peer_nearest,
        territory_box,
        time_zoning,
        zoning_distances,
    )

    layers, rules, pts, _, kw = setup(500)
    for lay in layers:
        lay.index.dissolved  # noqa: B018 - warm
    import zoning

    zoning.screen(pts, layers, rules=rules, search_radius_m=WARM_M, pieces=False, rings=False, **kw)
    frames = polygon_frames(layers, False)
    for _, g in frames:
        g.sindex  # noqa: B018 - warm
    box = territory_box(layers)
    out = {}
    workloads = (("polygons", make_polygons(n_poly, box)), ("lines", make_lines(n_lines, box)))
    for name, gdf in workloads:
        c0 = time.process_time()
        res, load_s, screen_s = time_zoning(gdf, layers, rules, WARM_M)
        c1 = time.process_time()
        theirs, peer_s = peer_nearest(gdf, frames, WARM_M)
        c2 = time.process_time()
        out[name] = {
            "n": len(gdf),
            "load_sites_s": load_s,
            "zoning_s": screen_s,
            "peer_s": peer_s,
            "ratio": peer_s / screen_s,
            "ratio_with_load": peer_s / (screen_s + load_s),
            "zoning_cpu_s": c1 - c0,
            "peer_cpu_s": c2 - c1,
            "ratio_cpu": (c2 - c1) / (c1 - c0),
            "problems": compare_distances(zoning_distances(res, WARM_M), theirs),
        }
    print(json.dumps(out))


# --------------------------------------------------------------------------- parent


def run_child(args: list[str], env: dict) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO, check=False)
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def detect_cache(env: dict, folder: Path) -> str:
    """Prime the cache in a subprocess; say how zoning took it, or that it has none."""
    import zoning

    kw = [
        f
        for f in (zoning.load_catalog, zoning.screen)
        if "index_cache" in inspect.signature(f).parameters
    ]
    run_child(["--child", "prime", "--n", "200", "--answer", os.devnull], env)
    files = [p for p in folder.rglob("*") if p.is_file()]
    if not files:
        return "none (no index_cache= keyword, and ZONING_INDEX_CACHE left no files)"
    how = ", ".join(f"{f.__name__}(index_cache=)" for f in kw) or "ZONING_INDEX_CACHE"
    size = sum(p.stat().st_size for p in files) / 2**20
    return f"warm: via {how}, {len(files)} files, {size:.1f} MB, primed untimed"


def compare(task: str, ours: Path, theirs: Path) -> list[str]:
    import pandas as pd
    from screen_bench import compare_distances

    a, b = pd.read_parquet(ours), pd.read_parquet(theirs)
    if task == "contain":
        sa = set(map(tuple, a.astype(str).values.tolist()))
        sb = set(map(tuple, b.astype(str).values.tolist()))
        if sa != sb:
            return [
                f"containment pairs differ: {len(sa - sb)} only zoning {sorted(sa - sb)[:3]}, "
                f"{len(sb - sa)} only sjoin {sorted(sb - sa)[:3]}"
            ]
        return []
    da = {(s, lid): d for s, lid, d in a.itertuples(index=False)}
    db = {(s, lid): d for s, lid, d in b.itertuples(index=False)}
    return [f"nearby 5 km: {p}" for p in compare_distances(da, db)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    ap.add_argument("--points", type=int, help="points for containment (default 1,000,000)")
    ap.add_argument("--near-points", type=int, help="points for 5 km nearby (default 20,000)")
    ap.add_argument("--warm-polygons", type=int, help="polygons, warm nearby (default 10,000)")
    ap.add_argument("--warm-lines", type=int, help="lines, warm nearby (default 2,000)")
    ap.add_argument("--no-warm", action="store_true", help="skip the warm measurements")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each, alternating")
    ap.add_argument("--json", help="also write the results to this JSON file")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--answer", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child == "warm":
        warm_child(args.n, int(args.answer))
        return 0
    if args.child:
        child(args.child, args.n, args.answer)
        return 0

    q = args.quick
    n_pts = args.points or (50_000 if q else 1_000_000)
    n_near = args.near_points or (2_000 if q else 20_000)
    n_poly = args.warm_polygons or (500 if q else 10_000)
    n_lines = args.warm_lines or (100 if q else 2_000)
    results: dict = {
        "command": " ".join(["python", "benchmarks/first_call.py", *sys.argv[1:]]),
        "loadavg_start": Path("/proc/loadavg").read_text().split()[:3],
        "nproc": os.cpu_count(),
    }
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="first_call_") as tmp:
        work = Path(tmp)
        cache = work / "index_cache"
        cache.mkdir()
        env = dict(os.environ, PYTHONPATH=str(REPO), ZONING_INDEX_CACHE=str(cache))
        results["cache"] = detect_cache(env, cache)
        print(f"index cache: {results['cache']}", flush=True)
        runs: dict[str, list[dict]] = {}
        for rep in range(args.repeat):
            for task, n in (("contain", n_pts), ("near5k", n_near)):
                answers = {}
                for tool in ("zoning", "sjoin" if task == "contain" else "sjoin_nearest"):
                    name = f"{tool}_{task}"
                    kind = f"zoning_{task}" if tool == "zoning" else f"sjoin_{task}"
                    answers[tool] = work / f"{kind}_{rep}.parquet"
                    cmd = ["--child", kind, "--n", str(n), "--answer", str(answers[tool])]
                    r = run_child(cmd, env)
                    runs.setdefault(name, []).append(r)
                    print(
                        f"  [{rep + 1}/{args.repeat}] {name:22} {n:>9,} points  call "
                        f"{r['call_s']:7.2f} s  (load_catalog {r['load_s']:.2f} s)  "
                        f"peak {r['peak_mb']:,.0f} MB",
                        flush=True,
                    )
                if rep == 0:
                    ours, theirs = answers.values()
                    problems += compare(task, ours, theirs)
        if not args.no_warm:
            cmd = ["--child", "warm", "--n", str(n_poly), "--answer", str(n_lines)]
            results["warm"] = run_child(cmd, env)
            for name, w in results["warm"].items():
                problems += [f"warm {name}: {p}" for p in w["problems"]]
    results["runs"] = runs
    results["loadavg_end"] = Path("/proc/loadavg").read_text().split()[:3]
    results["problems"] = problems
    report(results, n_pts, n_near)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str) + "\n")
    return 1 if problems else 0


def report(results: dict, n_pts: int, n_near: int) -> None:
    med = {
        k: {
            "call_s": statistics.median(r["call_s"] for r in v),
            "cpu_s": statistics.median(r["call_cpu_s"] for r in v),
            "load_s": statistics.median(r["load_s"] for r in v),
            "peak_mb": statistics.median(r["peak_mb"] for r in v),
            "calls": [round(r["call_s"], 2) for r in v],
        }
        for k, v in results["runs"].items()
    }
    results["medians"] = med
    print()
    print(f"index cache: {results['cache']}")
    print(
        f"{'first call (fresh process, median)':40} {'sites':>9} {'zoning s':>9} {'peer s':>8} "
        f"{'ratio':>7} {'+load':>7} {'CPU':>7} {'target':>7}"
    )
    rows = (
        ("containment vs sjoin(intersects)", "zoning_contain", "sjoin_contain", n_pts, "contain"),
        ("within 5 km vs sjoin_nearest(5000)", "zoning_near5k", "sjoin_nearest_near5k", n_near,
         "near5k"),
    )  # fmt: skip
    ratios = {}
    for label, z, p, n, key in rows:
        zs, ps = med[z], med[p]
        ratio = ps["call_s"] / zs["call_s"]
        ratio_load = (ps["call_s"] + ps["load_s"]) / (zs["call_s"] + zs["load_s"])
        ratio_cpu = ps["cpu_s"] / zs["cpu_s"]
        ratios[key] = ratio
        ok = "ok" if ratio >= TARGETS[key] else "MISSED"
        print(
            f"{label:40} {n:>9,} {zs['call_s']:>9.2f} {ps['call_s']:>8.2f} {ratio:>6.1f}x "
            f"{ratio_load:>6.1f}x {ratio_cpu:>6.1f}x {TARGETS[key]:>6.0f}x {ok}   "
            f"zoning {zs['calls']} peer {ps['calls']}"
        )
    for name, w in results.get("warm", {}).items():
        key = f"warm_{name}"
        ratios[key] = w["ratio"]
        ok = "ok" if w["ratio"] >= TARGETS[key] else "MISSED"
        print(
            f"{'warm ' + name + ' within 1 km vs sjoin_nearest':40} {w['n']:>9,} "
            f"{w['zoning_s']:>9.2f} {w['peer_s']:>8.2f} {w['ratio']:>6.1f}x "
            f"{w['ratio_with_load']:>6.1f}x {w['ratio_cpu']:>6.1f}x {TARGETS[key]:>6.0f}x {ok}"
        )
    results["ratios"] = ratios
    print("ratio: wall time; +load: with load_catalog on both sides; CPU: process CPU time")
    print(
        f"load s (load_catalog, median): zoning {med['zoning_contain']['load_s']:.2f}, "
        f"sjoin {med['sjoin_contain']['load_s']:.2f}; +load ratios include it on both sides"
    )
    print(
        f"peak RSS MB containment: zoning {med['zoning_contain']['peak_mb']:,.0f}, "
        f"sjoin {med['sjoin_contain']['peak_mb']:,.0f}"
    )
    print(
        f"nproc {results['nproc']}; load average {' '.join(results['loadavg_start'])} at start, "
        f"{' '.join(results['loadavg_end'])} at end"
    )
    if results["problems"]:
        print("ANSWERS DISAGREE:")
        for p in results["problems"]:
            print("  " + p)
    else:
        print("every answer agrees with geopandas")


if __name__ == "__main__":
    sys.exit(main())
