"""A big run from the command line: bounded memory in chunks, and 1 -> 2 dask workers.

Run from the repository root::

    .venv/bin/python benchmarks/big_run.py --points 20000000            # the memory run
    .venv/bin/python benchmarks/big_run.py --points 2000000 --workers 0,1,2  # scale-out
    .venv/bin/python benchmarks/big_run.py --points 200000 --chunk-size 50000 --quick

Writes ``--points`` uniform random points over Shanghai's bounding box to a CSV (fixed seed;
kept in ``--data`` and reused), then runs, each in a fresh process::

    zoning screen pts.csv --crs EPSG:4326 --search-radius 0 --no-pieces --no-rings \\
        --format parquet --chunk-size N [--workers W] --out OUT

and reports, per run: wall time, peak RSS (of the CLI process, and with ``--workers`` the
largest worker's too: the process tree is sampled every 0.2 s with psutil; the CLI's own peak
is GNU time's maximum resident set size), CPU seconds (user + system, the CLI and the
processes it waited for), sites per second, output size and the verdict counts (which must
be equal across runs).  ``--workers 0`` is the chunked run in one process.  Timings on a
shared machine vary: run the variants alternately (``--repeat``) and compare medians.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BOX = (120.85, 30.67, 122.2, 31.88)  # lon/lat box around Shanghai's territory


def write_points(path: Path, n: int, seed: int = 20261205, block: int = 1_000_000) -> None:
    """``n`` uniform points in :data:`BOX` as ``id,lon,lat`` (written in blocks)."""
    rng = np.random.default_rng(seed)
    tmp = path.with_suffix(".part")
    with tmp.open("w") as fh:
        fh.write("id,lon,lat\n")
        for start in range(0, n, block):
            k = min(block, n - start)
            lon = rng.uniform(BOX[0], BOX[2], k)
            lat = rng.uniform(BOX[1], BOX[3], k)
            ids = np.arange(start + 1, start + k + 1)
            rows = np.char.add(
                np.char.add(np.char.add(ids.astype(str), ","), np.char.mod("%.6f", lon)),
                np.char.add(",", np.char.mod("%.6f", lat)),
            )
            fh.write("\n".join(rows.tolist()))
            fh.write("\n")
    tmp.replace(path)


class TreePeak(threading.Thread):
    """Sample the RSS of a process's children (dask workers) until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_children = 0
        self.peak_total = 0
        self.stop = threading.Event()

    def run(self) -> None:
        import psutil

        try:
            proc = psutil.Process(self.pid)
        except psutil.Error:
            return
        while not self.stop.is_set():
            try:
                kids = proc.children(recursive=True)
                rss = [k.memory_info().rss for k in kids]
                own = proc.memory_info().rss
            except psutil.Error:
                rss, own = [], 0
            if rss:
                self.peak_children = max(self.peak_children, max(rss))
            self.peak_total = max(self.peak_total, own + sum(rss))
            self.stop.wait(0.2)


def run_cli(csv: Path, out: Path, chunk_size: int, workers: int, extra: list[str]) -> dict:
    """One CLI run in a fresh process; its wall time, peaks, output and summary."""
    cmd = [
        "/usr/bin/time",
        "-f",
        "ZONING_MAXRSS_KB %M %U %S",
        sys.executable,
        "-m",
        "zoning",
        "screen",
        str(csv),
        "--crs",
        "EPSG:4326",
        "--search-radius",
        "0",
        "--no-pieces",
        "--no-rings",
        "--format",
        "parquet",
        "--chunk-size",
        str(chunk_size),
        "--no-progress",
        "--out",
        str(out),
        *(["--workers", str(workers)] if workers else []),
        *extra,
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    tree = TreePeak(proc.pid)
    tree.start()
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - start
    tree.stop.set()
    tree.join()
    # GNU time: the largest RSS of the CLI process (or of a child process it waited for)
    marks = [x for x in stderr.splitlines() if x.startswith("ZONING_MAXRSS_KB ")]
    cli_peak = int(marks[-1].split()[1]) * 1024 if marks else 0
    # user + system CPU seconds of the CLI and every process it waited for (the workers)
    cpu = float(marks[-1].split()[2]) + float(marks[-1].split()[3]) if marks else None
    if proc.returncode != 0:
        raise SystemExit(f"exit {proc.returncode}: {stderr.strip()[-2000:]}")
    size = sum(p.stat().st_size for p in out.glob("*.parquet"))
    line = next((x for x in stdout.splitlines() if x.startswith("Screened")), "")
    counts = {
        x.split()[-2]: int(x.split()[-1].replace(",", ""))
        for x in stdout.splitlines()
        if x.startswith("  ") and x.split()[-1].replace(",", "").isdigit()
    }
    return {
        "workers": workers,
        "chunk_size": chunk_size,
        "wall_s": round(wall, 1),
        "peak_rss_cli_mb": round(cli_peak / 2**20),
        "peak_rss_worker_mb": round(tree.peak_children / 2**20) if workers else None,
        "peak_rss_tree_mb": round(tree.peak_total / 2**20),
        "cpu_s": cpu,
        "output_mb": round(size / 2**20, 1),
        "summary": line,
        "verdicts": counts,
    }


def main(argv: list[str] | None = None) -> int:
    """Generate the points, run the CLI, print and save the results.

    Parameters
    ----------
    argv : list of str, optional

    Returns
    -------
    int
        0; 1 when the verdict counts differ between runs.
    """
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=20_000_000)
    ap.add_argument("--chunk-size", type=int, default=500_000)
    ap.add_argument("--workers", default="0", help="comma-separated; 0 = in one process")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "zoning-big")
    ap.add_argument("--results", type=Path, default=None, help="append the results (JSON lines)")
    ap.add_argument("--quick", action="store_true", help="a smoke test (ignored sizes)")
    args = ap.parse_args(argv)
    args.data.mkdir(parents=True, exist_ok=True)
    csv = args.data / f"points_{args.points}.csv"
    if not csv.exists():
        t = time.perf_counter()
        write_points(csv, args.points)
        print(
            f"wrote {csv} ({csv.stat().st_size / 2**20:,.0f} MB) in {time.perf_counter() - t:.0f} s"
        )
    workers = [int(w) for w in args.workers.split(",")]
    results = []
    for r in range(args.repeat):
        for w in workers:
            with tempfile.TemporaryDirectory(dir=args.data) as tmp:
                res = run_cli(csv, Path(tmp) / "out", args.chunk_size, w, [])
            res.update(points=args.points, repeat=r)
            res["sites_per_s"] = round(args.points / res["wall_s"])
            results.append(res)
            print(json.dumps(res, ensure_ascii=False), flush=True)
            if args.results:
                with args.results.open("a") as fh:
                    fh.write(json.dumps(res, ensure_ascii=False) + "\n")
    for w in workers:
        walls = [x["wall_s"] for x in results if x["workers"] == w]
        print(f"workers={w}: median wall {statistics.median(walls):.1f} s over {len(walls)} run(s)")
    verdicts = {json.dumps(x["verdicts"], sort_keys=True) for x in results}
    if len(verdicts) > 1:
        print("verdict counts differ between runs", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
