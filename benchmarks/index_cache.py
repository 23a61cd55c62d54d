"""The index cache measured: one site from the CLI (cold cache, warm cache, another checkout),
and the first containment screening of a million points in a fresh process.

Run from the repository root::

    .venv/bin/python benchmarks/index_cache.py cli --rounds 5 [--baseline PATH_OF_MAIN]
    .venv/bin/python benchmarks/index_cache.py million --rounds 3

``cli``: per round, in fresh processes and alternating, ``zoning screen --point 121.47,31.23
--crs EPSG:4326 --format csv --out DIR`` with (a) an empty cache folder (cold: it reads, indexes
and writes), (b) the cache folder filled by ``zoning index build`` (warm), (c) no cache
(``--index-cache off``), and (d) the baseline checkout given (a path whose ``zoning`` package is
run without the option).  Wall time of the whole process (Python start included); medians and
the ratios of the medians printed.

``million``: per round, a fresh process screens 1,000,000 random points in the demonstration
extent with ``zoning.screen(points_gdf, layers, search_radius_m=0)``, the layers loaded with a
warm cache or without one; the time of that first call (layers loaded within it) is printed.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable

_MILLION = r"""
import sys, time
import numpy as np, geopandas as gpd, shapely
import zoning
cache = sys.argv[1]
rng = np.random.default_rng(1)
x = rng.uniform(-57000, 75000, 1_000_000); y = rng.uniform(-58000, 75000, 1_000_000)
gdf = gpd.GeoDataFrame(geometry=shapely.points(x, y), crs=zoning.WORKING_CRS)
t = time.perf_counter(); c = time.process_time()
layers = zoning.load_catalog(index_cache=None if cache == "off" else cache)
res = zoning.screen(gdf, layers, search_radius_m=0)
wall, cpu = time.perf_counter() - t, time.process_time() - c
print(f"{wall:.3f}", f"{cpu:.3f}", int((res.sites["n_hits"] > 0).sum()))
"""


def _run(cmd: list[str], env: dict) -> float:
    """Wall time of one process; its CPU time (user + system) goes to ``CPU``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    # cwd: a neutral folder (``python -m`` puts the working directory before PYTHONPATH)
    subprocess.run(
        cmd, check=True, env=env, cwd=tempfile.gettempdir(),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall


#: CPU times of the processes :func:`_run` ran, in order.
CPU: list[float] = []


def cli(rounds: int, baseline: str | None) -> None:
    """The one-site CLI, alternating cold, warm, off (and the baseline)."""
    tmp = Path(tempfile.mkdtemp(prefix="zoning-cache-bench-"))
    warm = tmp / "warm"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("ZONING_INDEX_CACHE", None)
    subprocess.run(
        [PY, "-m", "zoning", "index", "build", "--index-cache", str(warm)],
        check=True, env=env, stdout=subprocess.DEVNULL, cwd=tempfile.gettempdir(),
    )  # fmt: skip
    site = ["screen", "--point", "121.47,31.23", "--crs", "EPSG:4326", "--format", "csv"]
    times: dict[str, list[float]] = {"cold": [], "warm": [], "off": []}
    if baseline:
        times["baseline"] = []
    cpu: dict[str, list[float]] = {k: [] for k in times}
    for r in range(rounds):
        for name in list(times):
            out = tmp / f"out-{name}-{r}"
            if name == "baseline":
                # the baseline knows no --index-cache; ZONING_INDEX_CACHE=off in case it does
                benv = {**env, "PYTHONPATH": baseline, "ZONING_INDEX_CACHE": "off"}
                times[name].append(_run([PY, "-m", "zoning", *site, "--out", str(out)], benv))
                cpu[name].append(CPU[-1])
                continue
            where = {"cold": str(tmp / f"cold-{r}"), "warm": str(warm), "off": "off"}[name]
            cmd = [PY, "-m", "zoning", *site, "--out", str(out), "--index-cache", where]
            times[name].append(_run(cmd, env))
            cpu[name].append(CPU[-1])
        print(
            f"round {r + 1}: "
            + ", ".join(f"{k} {v[-1]:.2f} s (cpu {cpu[k][-1]:.2f})" for k, v in times.items()),
            flush=True,
        )
    med = {k: statistics.median(v) for k, v in times.items()}
    print("medians: " + ", ".join(f"{k} {v:.2f} s" for k, v in med.items()))
    cmed = {k: statistics.median(v) for k, v in cpu.items()}
    print("CPU medians: " + ", ".join(f"{k} {v:.2f} s" for k, v in cmed.items()))
    for what, m in (("wall", med), ("CPU", cmed)):
        ref = m.get("baseline", m["off"])
        print(f"{what} ratios to " + ("baseline" if baseline else "off") + ": "
              + ", ".join(f"{k} {v / ref:.2f}" for k, v in m.items()))  # fmt: skip
    size = sum(f.stat().st_size for f in warm.rglob("*") if f.is_file())
    print(f"warm cache size: {size / 1e6:.0f} MB")
    shutil.rmtree(tmp, ignore_errors=True)


def million(rounds: int) -> None:
    """The first containment screening of a million points in a fresh process."""
    tmp = Path(tempfile.mkdtemp(prefix="zoning-cache-bench-"))
    warm = tmp / "warm"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("ZONING_INDEX_CACHE", None)
    subprocess.run(
        [PY, "-m", "zoning", "index", "build", "--index-cache", str(warm)],
        check=True, env=env, stdout=subprocess.DEVNULL, cwd=tempfile.gettempdir(),
    )  # fmt: skip
    times: dict[str, list[float]] = {"warm": [], "off": []}
    cpu: dict[str, list[float]] = {"warm": [], "off": []}
    for r in range(rounds):
        for name in times:
            where = str(warm) if name == "warm" else "off"
            out = subprocess.run(
                [PY, "-c", _MILLION, where], check=True, env=env, capture_output=True, text=True,
                cwd=tempfile.gettempdir(),
            ).stdout.split()  # fmt: skip
            times[name].append(float(out[0]))
            cpu[name].append(float(out[1]))
            print(
                f"round {r + 1} {name}: wall {out[0]} s, cpu {out[1]} s "
                f"({out[2]} points in a feature)",
                flush=True,
            )
    for what, d in (("wall", times), ("cpu", cpu)):
        med = {k: statistics.median(v) for k, v in d.items()}
        print(f"{what} medians: " + ", ".join(f"{k} {v:.2f} s" for k, v in med.items()))
        print(f"{what} off / warm: {med['off'] / med['warm']:.2f}")
    shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    """Parse the arguments and run one benchmark."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("what", choices=["cli", "million"])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--baseline", default=None, help="A checkout to compare with (cli).")
    a = p.parse_args()
    cli(a.rounds, a.baseline) if a.what == "cli" else million(a.rounds)


if __name__ == "__main__":
    main()
