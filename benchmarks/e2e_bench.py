"""End to end: N points from a CSV to results on disk, zoning against its peers (issue 15 §6).

Run from the repository root (the peers are in the ``bench`` extra)::

    .venv/bin/python benchmarks/e2e_bench.py                  # 1,000,000 points
    .venv/bin/python benchmarks/e2e_bench.py --quick          # 50,000 points, a smoke run
    .venv/bin/python benchmarks/e2e_bench.py --repeat 3 --json results_e2e.json

The workload is a CSV (``id,lon,lat``, WGS84, 7 decimals) of ``--points`` points drawn with a
fixed seed uniformly over the bounding box, in the working CRS, of the demonstration districts ∪
sea area (the points of ``screen_bench.py``, rounded to 1 cm), written once. Then every tool runs
in a FRESH process, the tools alternating, ``--repeat`` times, and each run is timed for wall
time, peak RSS and the size of what it wrote:

* ``zoning screen pts.csv --crs EPSG:4326 --search-radius 0 --format parquet --out DIR`` (the
  format falls back to ``csv`` when ``zoning screen --help`` offers no ``parquet``); with the
  default search radius too; and, when the CLI has ``--index-cache``, with a cold (empty) and a
  warm index cache;
* a plain geopandas pipeline: ``read_csv`` → points → ``to_crs`` (the working CRS) → per polygon
  layer of the catalog ``read_file`` → ``to_crs`` → ``sjoin(predicate="intersects")`` → the
  (site, layer, feature) pairs written with ``to_parquet``;
* DuckDB with the spatial extension loaded from the ``duckdb-extension-spatial`` wheel's file
  (``INSTALL spatial`` needs the network): ``read_csv`` → ``ST_Point`` → ``ST_Transform``, the
  layers with ``ST_Read`` from the GeoPackage → ``ST_Transform``, a join on ``ST_Intersects``,
  ``COPY ... TO`` Parquet;
* SedonaDB: ``read`` (CSV) → ``ST_Point`` → ``ST_Transform``, the layers with ``read_pyogrio``
  from the GeoPackage → ``ST_Transform``, a join on ``ST_Intersects``, ``to_parquet``.

The polygon layers are those of the catalog in force today (``zoning.load_catalog()``, line
layers left out: a point never meets a line), read by every tool from the catalog's GeoPackage
inside the timed run; every peer transforms to ``zoning.crs.WORKING_CRS``. Peak RSS is the
high-water mark (``VmHWM`` of ``/proc/PID/status``, read every 50 ms; not ``ru_maxrss``, which
counts the benchmark's own memory copied at fork) of the largest process of the run's tree, or
the sampled sum over the tree when larger. Output is every byte written to the output
folder.

The pair check: the containment pairs (site, layer, feature) of each peer — of its first run —
must be the set of zoning's ``hits`` rows with relation ``intersects`` on those layers (every
zoning run is checked too). Exit status 1 when any set differs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SPATIAL_EXT_GLOB = "duckdb_extension_spatial/extensions/*/spatial.duckdb_extension"
TARGETS = {"wall_s": 10.0, "peak_rss_mb": 2048.0, "output_mb": 150.0, "default_radius_wall_s": 30.0}


# --------------------------------------------------------------------------- the peers (children)
# Each runs in a fresh interpreter, imports only its own tool, and writes site_id, layer_id,
# feature_id to OUT/pairs.parquet.


def peer_geopandas(csv: str, plan: list[dict], crs: str, out: Path) -> None:
    """A plain geopandas pipeline: read_csv, points, to_crs, read_file, sjoin, to_parquet."""
    import geopandas as gpd
    import pandas as pd

    df = pd.read_csv(csv, dtype={"id": str})
    pts = gpd.GeoDataFrame(
        {"site_id": df["id"]}, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326"
    ).to_crs(crs)
    parts = []
    for p in plan:
        lay = gpd.read_file(p["path"], layer=p["layer"], columns=[p["id_field"]]).to_crs(crs)
        j = gpd.sjoin(pts, lay, predicate="intersects")
        parts.append(
            pd.DataFrame(
                {
                    "site_id": j["site_id"].to_numpy(),
                    "layer_id": p["id"],
                    "feature_id": j[p["id_field"]].astype(str).to_numpy(),
                }
            )
        )
    pd.concat(parts, ignore_index=True).to_parquet(out / "pairs.parquet", index=False)


def spatial_extension() -> str:
    """The spatial extension file shipped in the duckdb-extension-spatial wheel."""
    import importlib.util

    spec = importlib.util.find_spec("duckdb_extension_spatial")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("duckdb-extension-spatial is not installed (the bench extra)")
    root = Path(next(iter(spec.submodule_search_locations))).parent
    found = sorted(root.glob(SPATIAL_EXT_GLOB))
    if not found:
        raise RuntimeError(f"no spatial.duckdb_extension under {root}")
    return str(found[-1])


def sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def duckdb_sql(csv: str, plan: list[dict], crs: str, out: Path, ext: str) -> list[str]:
    """The statements of the DuckDB pipeline (also printed by ``--show-sql``)."""
    c = sql_str(crs)
    layers = " UNION ALL ".join(
        f"SELECT {sql_str(p['id'])} AS layer_id, CAST({p['id_field']} AS VARCHAR) AS feature_id, "
        f"ST_Transform(geom, 'EPSG:4326', {c}, always_xy := true) AS geom "
        f"FROM ST_Read({sql_str(p['path'])}, layer={sql_str(p['layer'])})"
        for p in plan
    )
    return [
        f"LOAD {sql_str(ext)}",
        "CREATE TABLE pts AS SELECT CAST(id AS VARCHAR) AS site_id, "
        f"ST_Transform(ST_Point(lon, lat), 'EPSG:4326', {c}, always_xy := true) AS geom "
        f"FROM read_csv({sql_str(csv)}, columns={{'id': 'VARCHAR', 'lon': 'DOUBLE', "
        "'lat': 'DOUBLE'}, header=true)",
        f"CREATE TABLE lay AS {layers}",
        "COPY (SELECT p.site_id, l.layer_id, l.feature_id FROM pts p JOIN lay l "
        f"ON ST_Intersects(p.geom, l.geom)) TO {sql_str(str(out / 'pairs.parquet'))} "
        "(FORMAT parquet)",
    ]


def peer_duckdb(csv: str, plan: list[dict], crs: str, out: Path) -> None:
    """DuckDB spatial, the extension loaded from the wheel's file."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    for stmt in duckdb_sql(csv, plan, crs, out, spatial_extension()):
        con.execute(stmt)


def peer_sedonadb(csv: str, plan: list[dict], crs: str, out: Path) -> None:
    """SedonaDB: read the CSV and the GeoPackage layers, ST_Transform, ST_Intersects join."""
    import pyproj
    import sedonadb

    crs_json = pyproj.CRS(crs).to_json()  # SedonaDB takes PROJJSON or AUTH:CODE
    sd = sedonadb.connect()
    sd.read(csv, format="csv").to_view("pts_raw")
    sd.sql(
        "SELECT CAST(id AS VARCHAR) AS site_id, "
        "ST_Transform(ST_Point(lon, lat, 'EPSG:4326'), $1) AS geom FROM pts_raw",
        params=[crs_json],
    ).to_view("pts")
    selects = []
    for i, p in enumerate(plan):
        sd.read_pyogrio(p["path"], options={"layer": p["layer"]}).to_view(f"l{i}")
        selects.append(
            f"SELECT {sql_str(p['id'])} AS layer_id, CAST({p['id_field']} AS VARCHAR) AS "
            f"feature_id, ST_Transform(geom, $1) AS geom FROM l{i}"
        )
    sd.sql(" UNION ALL ".join(selects), params=[crs_json]).to_view("lay")
    sd.sql(
        "SELECT p.site_id, l.layer_id, l.feature_id FROM pts p JOIN lay l "
        "ON ST_Intersects(p.geom, l.geom)"
    ).to_parquet(out / "pairs.parquet")


PEERS = {"geopandas": peer_geopandas, "duckdb": peer_duckdb, "sedonadb": peer_sedonadb}


def child(tool: str, spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    PEERS[tool](spec["csv"], spec["plan"], spec["crs"], Path(spec["out"]))


# --------------------------------------------------------------------------- measuring


def measure(cmd: list[str], *, env: dict, log: Path) -> dict:
    """Run ``cmd`` in a fresh process; wall s, peak RSS MB (HWM and sampled tree sum), rc."""
    import psutil

    peak_tree = 0
    hwm_kb: dict[int, int] = {}
    done = threading.Event()

    def poll(pid: int) -> None:
        nonlocal peak_tree
        try:
            root = psutil.Process(pid)
        except psutil.Error:
            return
        while not done.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
                total = 0
                for pr in procs:
                    try:
                        total += pr.memory_info().rss
                        hwm_kb[pr.pid] = max(hwm_kb.get(pr.pid, 0), _vm_hwm_kb(pr.pid))
                    except (psutil.Error, OSError):
                        pass
                peak_tree = max(peak_tree, total)
            except psutil.Error:
                return
            done.wait(0.05)

    with open(log, "w") as fh:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=REPO)
        th = threading.Thread(target=poll, args=(proc.pid,), daemon=True)
        th.start()
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        done.set()
        th.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    # Not ru_maxrss: a child's ru_maxrss counts the benchmark's own memory copied at fork,
    # before exec (the peers ran after the pair frames had grown showed ~1.1 GB each).  VmHWM
    # of /proc/PID/status belongs to the program after exec; it is read every 50 ms, so the
    # last read is the peak up to the final 50 ms of the run.
    hwm = max(hwm_kb.values(), default=0) / 1024
    return {
        "wall_s": wall,
        "hwm_mb": hwm,
        "tree_peak_mb": peak_tree / 2**20,
        "peak_rss_mb": max(hwm, peak_tree / 2**20),
        "rc": proc.returncode,
        "user_s": ru.ru_utime,
        "sys_s": ru.ru_stime,
    }


def _vm_hwm_kb(pid: int) -> int:
    """VmHWM (peak resident set, KiB) of a running process, from /proc/PID/status."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


# --------------------------------------------------------------------------- the workload


def write_points_csv(path: Path, n: int, box) -> None:
    """``n`` points of screen_bench's workload (seed 1), as id,lon,lat in WGS84."""
    import numpy as np
    import pyproj

    from zoning.crs import WORKING_CRS

    rng = np.random.default_rng(1)
    x = rng.uniform(box[0], box[2], n)
    y = rng.uniform(box[1], box[3], n)
    tr = pyproj.Transformer.from_crs(WORKING_CRS, "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(x, y)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w") as fh:
        fh.write("id,lon,lat\n")
        step = 200_000
        for a in range(0, n, step):
            b = min(n, a + step)
            fh.write(
                "".join(
                    f"p{i},{lo:.7f},{la:.7f}\n"
                    for i, lo, la in zip(range(a, b), lon[a:b], lat[a:b], strict=True)
                )
            )
    tmp.replace(path)


def layer_plan() -> tuple[list[dict], tuple]:
    """The catalog's polygon layers in force (id, file, layer, id field) and the points' box."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from screen_bench import territory_box

    import zoning

    layers = zoning.load_catalog()
    plan = []
    for lay in layers:
        e = lay.entry
        if not lay.gdf.geom_type.isin(["Polygon", "MultiPolygon"]).all():
            continue
        if e.where or e.table:
            raise SystemExit(f"layer {lay.id}: a where/table filter is not reproduced by the peers")
        plan.append(
            {
                "id": lay.id,
                "path": str(layers.source_of(lay.id)),
                "layer": e.layer,
                "id_field": e.fields.id,
                "features": len(lay.gdf),
            }
        )
    return plan, territory_box(layers)


def cli_help() -> str:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run(
        [sys.executable, "-m", "zoning", "screen", "--help"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=True,
    )
    return done.stdout


def has_parquet(help_text: str) -> bool:
    i = help_text.find("--format")
    return i >= 0 and "parquet" in help_text[i : i + 600]


# --------------------------------------------------------------------------- pairs


def zoning_pairs(out: Path, layer_ids: set[str]):
    """The (site, layer, feature) rows of zoning's hits with relation intersects, as a frame."""
    import pandas as pd

    cols = ["site_id", "layer_id", "feature_id", "relation"]
    pq = sorted(out.rglob("hits*.parquet"))
    if pq:
        h = pd.concat([pd.read_parquet(p, columns=cols) for p in pq], ignore_index=True)
    else:
        h = pd.read_csv(out / "hits.csv", usecols=cols, dtype=str, encoding="utf-8-sig")
    h = h[(h["relation"] == "intersects") & h["layer_id"].isin(layer_ids)]
    return h[cols[:3]].astype(str)


def peer_pairs(out: Path):
    import pandas as pd

    return pd.read_parquet(out / "pairs.parquet").astype(str)


def compare_pairs(ours, theirs) -> dict:
    """Counts of pairs found by both, by the reference only, by the other only (+ examples)."""
    keys = ["site_id", "layer_id", "feature_id"]
    dup_o = int(ours.duplicated(keys).sum())
    dup_t = int(theirs.duplicated(keys).sum())
    m = ours.drop_duplicates(keys).merge(
        theirs.drop_duplicates(keys), on=keys, how="outer", indicator=True
    )
    only_z = m[m["_merge"] == "left_only"]
    only_p = m[m["_merge"] == "right_only"]
    return {
        "reference": len(ours),
        "other": len(theirs),
        "both": int((m["_merge"] == "both").sum()),
        "only_reference": len(only_z),
        "only_other": len(only_p),
        "duplicates_reference": dup_o,
        "duplicates_other": dup_t,
        "examples_only_reference": only_z[keys].head(5).values.tolist(),
        "examples_only_other": only_p[keys].head(5).values.tolist(),
    }


def explain_differences(c: dict, ours, theirs, csv: Path, plan: list[dict]) -> dict:
    """Check every pair found by one side only against shapely on each side's own geometry.

    zoning densifies a layer's long edges before projecting it (``zoning.io.layer``: an edge
    follows the straight line in the layer's own CRS, here longitude/latitude), while the
    peers project the vertices only (a straight line in the working CRS).  Near a long edge
    the two polygons differ by up to a few metres, so a point there can be inside one and
    outside the other.  A differing pair is *explained* when zoning's answer is
    ``shapely.intersects`` on the layer as zoning loaded it and the peer's answer is
    ``shapely.intersects`` on the vertices projected as the peers do; anything else is a
    real disagreement.
    """
    import geopandas as gpd
    import pandas as pd
    import pyproj
    import shapely

    import zoning
    from zoning.crs import WORKING_CRS

    keys = ["site_id", "layer_id", "feature_id"]
    m = ours.drop_duplicates(keys).merge(
        theirs.drop_duplicates(keys), on=keys, how="outer", indicator=True
    )
    diff = m[m["_merge"] != "both"]
    if not len(diff):
        return {"explained": 0, "unexplained": 0, "max_edge_distance_m": 0.0}
    pts = pd.read_csv(csv, dtype={"id": str})
    pts = pts[pts["id"].isin(set(diff["site_id"]))].set_index("id")
    tr = pyproj.Transformer.from_crs("EPSG:4326", WORKING_CRS, always_xy=True)
    ours_geom = {lay.id: lay.gdf for lay in zoning.load_catalog(index_cache=None)}
    explained = unexplained = 0
    worst = 0.0
    raw: dict[str, gpd.GeoDataFrame] = {}
    for site, layer, feature, side in diff[[*keys, "_merge"]].itertuples(index=False):
        spec = next(p for p in plan if p["id"] == layer)
        if layer not in raw:
            raw[layer] = gpd.read_file(spec["path"], layer=spec["layer"]).to_crs(WORKING_CRS)
        x, y = tr.transform(pts.at[site, "lon"], pts.at[site, "lat"])
        point = shapely.Point(x, y)
        g_ours = ours_geom[layer]
        g_ours = g_ours[g_ours["feature_id"].astype(str) == feature].geometry
        g_raw = raw[layer]
        g_raw = g_raw[g_raw[spec["id_field"]].astype(str) == feature].geometry
        in_ours = bool(g_ours.intersects(point).any())
        in_raw = bool(g_raw.intersects(point).any())
        ok = in_ours == (side == "left_only") and in_raw == (side == "right_only")
        worst = max(worst, float(g_raw.boundary.distance(point).min()))
        explained += ok
        unexplained += not ok
    return {"explained": explained, "unexplained": unexplained, "max_edge_distance_m": worst}


# --------------------------------------------------------------------------- main


def machine() -> dict:
    import importlib.metadata as md
    import platform

    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    versions = {}
    for pkg in ("zoning", "geopandas", "shapely", "pyproj", "pyarrow", "pandas", "duckdb"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = "not installed"
    for pkg in ("duckdb-extension-spatial", "sedonadb", "psutil"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = "not installed"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            cwd=REPO,
        ).stdout.strip()
    except OSError:
        commit, dirty = "unknown", ""
    return {
        "cpu": cpu,
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "versions": versions,
        "commit": commit + ("+dirty" if dirty else ""),
    }


def loadavg() -> list[str]:
    return Path("/proc/loadavg").read_text().split()[:3]


def runs_to_make(args, fmt: str, cache: bool, work: Path) -> list[dict]:
    """The tools and zoning variants measured, each with its command builder."""
    py = sys.executable
    zbase = [py, "-m", "zoning", "screen", str(work / "pts.csv"), "--crs", "EPSG:4326"]
    runs: list[dict] = []
    if args.no_zoning:
        cache = False
    if cache and not args.no_zoning:
        runs.append(
            {
                "name": "zoning r=0, cold cache",
                "kind": "zoning",
                "args": [*zbase, "--search-radius", "0", "--format", fmt],
                "cache": "cold",
            }
        )
    main_name = "zoning r=0" + (", warm cache" if cache else "")
    if not args.no_zoning:
        runs.append(
            {
                "name": main_name,
                "kind": "zoning",
                "args": [*zbase, "--search-radius", "0", "--format", fmt],
                "cache": "warm" if cache else None,
                "reference": True,
            }
        )
    if not (args.no_default_radius or args.no_zoning):
        runs.append(
            {
                "name": "zoning default radius" + (", warm cache" if cache else ""),
                "kind": "zoning",
                "args": [*zbase, "--format", fmt],
                "cache": "warm" if cache else None,
            }
        )
    for tool in args.peers.split(","):
        if tool:
            runs.append(
                {
                    "name": tool,
                    "kind": tool,
                    "args": [py, str(Path(__file__).resolve()), "--child", tool],
                }
            )
    if runs and not any(r.get("reference") for r in runs):
        runs[0]["reference"] = True  # without zoning: the peers checked against the first one
    return runs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--points", type=int, help="number of points (default 1,000,000)")
    ap.add_argument("--quick", action="store_true", help="50,000 points: a smoke run")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each tool, alternating")
    ap.add_argument("--peers", default="geopandas,duckdb,sedonadb", help="comma-separated")
    ap.add_argument("--no-default-radius", action="store_true", help="skip that zoning run")
    ap.add_argument(
        "--no-zoning", action="store_true", help="peers only, checked against the first peer"
    )
    ap.add_argument("--workdir", help="keep the CSV and outputs here (default: a temp folder)")
    ap.add_argument("--json", help="also write every measurement to this JSON file")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--spec", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child, args.spec)
        return 0

    import tempfile

    n = args.points or (50_000 if args.quick else 1_000_000)
    tmp = None
    if args.workdir:
        work = Path(args.workdir).resolve()
        work.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="e2e_bench_")
        work = Path(tmp.name)
    try:
        return run(args, n, work)
    finally:
        if tmp is not None:
            tmp.cleanup()


def run(args, n: int, work: Path) -> int:
    from zoning.crs import WORKING_CRS

    results: dict = {
        "command": " ".join(["python", "benchmarks/e2e_bench.py", *sys.argv[1:]]),
        "points": n,
        "machine": machine(),
        "loadavg_start": loadavg(),
    }
    plan, box = layer_plan()
    results["layers"] = plan
    csv = work / f"pts_{n}.csv"
    if not csv.exists():
        t0 = time.perf_counter()
        write_points_csv(csv, n, box)
        print(f"wrote {csv.name} ({n:,} points) in {time.perf_counter() - t0:.1f} s", flush=True)
    (work / "pts.csv").unlink(missing_ok=True)
    (work / "pts.csv").symlink_to(csv.name)
    results["csv_mb"] = csv.stat().st_size / 2**20

    help_text = cli_help()
    fmt = "parquet" if has_parquet(help_text) else "csv"
    cache = "--index-cache" in help_text
    results["zoning_format"] = fmt
    results["zoning_index_cache_option"] = cache
    print(
        f"zoning: --format {fmt}"
        + ("" if fmt == "parquet" else " (the CLI offers no parquet format: CSV fallback)")
        + (", --index-cache cold and warm" if cache else ", no --index-cache option")
        + f"; {len(plan)} polygon layers: {', '.join(p['id'] for p in plan)}",
        flush=True,
    )
    runs = runs_to_make(args, fmt, cache, work)
    cache_dir = work / "index_cache"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env["ZONING_INDEX_CACHE"] = str(cache_dir)  # never the user's cache
    if cache:
        shutil.rmtree(cache_dir, ignore_errors=True)
        # Warm the cache once, untimed, with a tiny run.
        (work / "one.csv").write_text("id,lon,lat\nx,121.47,31.23\n")
        subprocess.run(
            [sys.executable, "-m", "zoning", "screen", str(work / "one.csv"), "--crs",
             "EPSG:4326", "--search-radius", "0", "--index-cache", str(cache_dir)],
            env=env, cwd=REPO, check=True, capture_output=True,
        )  # fmt: skip

    layer_ids = {p["id"] for p in plan}
    measured: dict[str, list[dict]] = {r["name"]: [] for r in runs}
    commands: dict[str, str] = {}
    pairs = {}
    problems: list[str] = []
    for rep in range(args.repeat):
        for r in runs:
            out = work / f"out_{len(measured[r['name']])}_{r['name'].replace(' ', '_')}"
            shutil.rmtree(out, ignore_errors=True)
            cmd = list(r["args"])
            if r["kind"] == "zoning":
                cmd += ["--out", str(out)]
                if r.get("cache") == "cold":
                    cold = work / "index_cache_cold"
                    shutil.rmtree(cold, ignore_errors=True)
                    cmd += ["--index-cache", str(cold)]
                elif r.get("cache") == "warm":
                    cmd += ["--index-cache", str(cache_dir)]
            else:
                out.mkdir(parents=True)
                spec = work / f"spec_{r['kind']}.json"
                job = {"csv": str(csv), "plan": plan, "crs": WORKING_CRS.srs, "out": str(out)}
                spec.write_text(json.dumps(job))
                cmd += ["--spec", str(spec)]
            commands.setdefault(r["name"], " ".join(cmd))
            m = measure(cmd, env=env, log=work / f"log_{r['name'].replace(' ', '_')}.txt")
            if m["rc"] != 0:
                tail = (work / f"log_{r['name'].replace(' ', '_')}.txt").read_text()[-3000:]
                problems.append(f"{r['name']}: exit {m['rc']}: {tail.strip()}")
                print(f"  {r['name']}: FAILED (exit {m['rc']})\n{tail}", flush=True)
                measured[r["name"]].append(m)
                continue
            m["output_mb"] = folder_mb(out)
            measured[r["name"]].append(m)
            print(
                f"  [{rep + 1}/{args.repeat}] {r['name']:34} {m['wall_s']:7.2f} s  "
                f"peak {m['peak_rss_mb']:7,.0f} MB  out {m['output_mb']:8.2f} MB",
                flush=True,
            )
            if r["name"] not in pairs:
                if r["kind"] == "zoning":
                    pairs[r["name"]] = zoning_pairs(out, layer_ids)
                else:
                    pairs[r["name"]] = peer_pairs(out)
            shutil.rmtree(out, ignore_errors=True)

    ref_name = next(r["name"] for r in runs if r.get("reference"))
    kinds = {r["name"]: r["kind"] for r in runs}
    ref_kind = kinds[ref_name]
    checks = {}
    if ref_name in pairs:
        ref = pairs[ref_name]
        for name, p in pairs.items():
            if name == ref_name:
                continue
            c = compare_pairs(ref, p)
            if ref_kind == "zoning" and kinds.get(name) != "zoning":
                c.update(explain_differences(c, ref, p, csv, plan))
            else:
                c.update(explained=0, unexplained=c["only_reference"] + c["only_other"])
            checks[name] = c
            if c["unexplained"] or c["duplicates_other"]:
                problems.append(
                    f"pairs of {name} differ from {ref_name}: {c['only_reference']} only "
                    f"{ref_name} {c['examples_only_reference']}, {c['only_other']} only {name} "
                    f"{c['examples_only_other']}, {c['duplicates_other']} duplicates"
                )
        results["pairs_reference"] = {"run": ref_name, "pairs": len(ref)}
    else:
        problems.append(f"no pairs from {ref_name}: nothing to compare")
    results["pair_checks"] = checks
    results["commands"] = commands
    results["runs"] = measured
    results["loadavg_end"] = loadavg()
    results["problems"] = problems
    print_table(results, ref_name)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str) + "\n")
    return 1 if problems else 0


def summary(runs: list[dict]) -> dict:
    ok = [m for m in runs if m["rc"] == 0]
    if not ok:
        return {}
    return {
        k: statistics.median(m[k] for m in ok)
        for k in ("wall_s", "peak_rss_mb", "output_mb", "user_s", "sys_s")
    } | {
        "n": len(ok),
        "walls": [round(m["wall_s"], 2) for m in ok],
        "cpu_s": statistics.median(m["user_s"] + m["sys_s"] for m in ok),
    }


def print_table(results: dict, ref_name: str) -> None:
    """The medians as a table, ratios against zoning's reference run."""
    med = {name: summary(runs) for name, runs in results["runs"].items()}
    results["medians"] = med
    ref = med.get(ref_name, {})
    m = results["machine"]
    print()
    print(
        f"{results['points']:,} points; {m['cpu']}, nproc {m['nproc']}; commit {m['commit']}; "
        f"load average {' '.join(results['loadavg_start'])} at start, "
        f"{' '.join(results['loadavg_end'])} at end"
    )
    print(
        f"{'run (median of K)':36} {'K':>2} {'wall s':>8} {'cpu s':>7} {'peak RSS MB':>12} "
        f"{'output MB':>10} {'wall / ref':>11}  walls"
    )
    for name, s in med.items():
        if not s:
            print(f"{name:36} failed")
            continue
        ratio = s["wall_s"] / ref["wall_s"] if ref else float("nan")
        print(
            f"{name:36} {s['n']:>2} {s['wall_s']:>8.2f} {s['cpu_s']:>7.1f} "
            f"{s['peak_rss_mb']:>12,.0f} {s['output_mb']:>10.2f} {ratio:>10.2f}x  {s['walls']}"
        )
    print(
        f"wall / ref: the median wall time over that of {ref_name}; cpu s: user + sys of the "
        "process tree (on a loaded machine wall exceeds it)"
    )
    if ref and ref_name.startswith("zoning"):
        t = TARGETS
        met = {
            k: "met" if ref[k] <= t[k] else "MISSED" for k in ("wall_s", "peak_rss_mb", "output_mb")
        }
        print(
            f"targets for {ref_name} (issue 15 §2): wall <= {t['wall_s']:g} s {met['wall_s']}, "
            f"peak RSS <= {t['peak_rss_mb']:,.0f} MB {met['peak_rss_mb']}, "
            f"output <= {t['output_mb']:g} MB {met['output_mb']}"
        )
        for name, s in med.items():
            if name.startswith("zoning default radius") and s:
                ok = "met" if s["wall_s"] <= t["default_radius_wall_s"] else "MISSED"
                print(f"target for {name}: wall <= {t['default_radius_wall_s']:g} s {ok}")
    for name, c in results["pair_checks"].items():
        verdict = "same" if not (c["only_reference"] or c["only_other"]) else "DIFFERENT"
        print(
            f"pairs {name}: {c['other']:,} rows, {verdict} set as {ref_name}'s "
            f"{c['reference']:,} (only {ref_name} {c['only_reference']}, only {name} "
            f"{c['only_other']})"
        )
        if c.get("explained"):
            print(
                f"  {c['explained']} differing pair(s) explained by the edge model (each side "
                "equals shapely.intersects on its own geometry: zoning densifies long edges "
                "before projecting, the peers project the vertices), points within "
                f"{c['max_edge_distance_m']:.1f} m of the edge; {c['unexplained']} unexplained"
            )
    print("commands:")
    for name, cmd in results["commands"].items():
        print(f"  {name}: {cmd}")
    if results["problems"]:
        print("PROBLEMS:")
        for p in results["problems"]:
            print("  " + p)


if __name__ == "__main__":
    sys.exit(main())
