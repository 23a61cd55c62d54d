"""One site from the command line: fresh-process wall time and peak RSS, against a naive peer.

Run from the repository root::

    .venv/bin/python benchmarks/one_site_cli.py                  # 7 alternated rounds
    .venv/bin/python benchmarks/one_site_cli.py --runs 11 --index-cache /tmp/zoning-index

Each round starts, in a fresh process each and in alternating order:

* ``zoning``: ``python -m zoning screen --point 121.47,31.23 --crs EPSG:4326 --format csv
  --out DIR`` (plus ``--index-cache DIR`` when given and the command has that option);
* ``peer``: a naive geopandas script (written by this benchmark to a temporary file) that
  reads the polygon layers of the demonstration catalog from its GeoPackage with
  ``geopandas.read_file``, joins the one point with ``geopandas.sjoin(predicate=
  "intersects")`` and writes the hits as CSV;
* with ``--baseline DIR`` (another checkout, e.g. ``git worktree add DIR main``), the same
  command on that checkout's code, for before/after comparisons in one alternated run;
* two references: bare ``python -c pass`` and ``imports``, a process that only imports what
  the one-site path cannot avoid (numpy, pandas, shapely, pyproj, geopandas, pydantic, yaml,
  click): the floor under any Python one-site command built on them.

Wall time is measured around the child (``time.perf_counter``), peak RSS and CPU time (user +
system, which other processes on a shared machine disturb less than the wall time) by GNU time
(``/usr/bin/time -f "%M %U %S"``).  The children run with bytecode caching on (a warm-up round
of every command is not counted, so compiled ``.pyc`` files, the OS file cache and the index
cache are warm, as on a user's machine after the first call).  The table gives medians and the
zoning / peer ratios; the check line says whether both found the same catalog layers
containing the point.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TIME = "/usr/bin/time"  # GNU time: the children's peak RSS
POINT = (121.47, 31.23)

PEER = '''\
"""Naive peer: read the polygon layers, join one point, write the hits as CSV."""
import sys

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point

gpkg, out, lon, lat, *layers = sys.argv[1:]
point = gpd.GeoDataFrame({"site_id": [1]}, geometry=[Point(float(lon), float(lat))], crs=4326)
hits = []
for spec in layers:
    layer_id, name = spec.split("=", 1)
    gdf = gpd.read_file(gpkg, layer=name)
    joined = gpd.sjoin(point.to_crs(gdf.crs), gdf, predicate="intersects")
    hits.append(pd.DataFrame({"site_id": joined["site_id"], "layer_id": layer_id}))
pd.concat(hits).to_csv(out, index=False)
'''

IMPORTS = "import numpy, pandas, shapely, pyproj, geopandas, pydantic, yaml, click"


def polygon_layers() -> tuple[Path, list[tuple[str, str]]]:
    """The GeoPackage of the demonstration catalog and its polygon layers in force today
    (catalog id, layer name): the layers the one-site command screens, lines left out.

    Returns
    -------
    (Path, list of (str, str))
    """
    import pyogrio

    sys.path.insert(0, str(REPO))
    from zoning.catalog import read_catalog
    from zoning.dates import as_of_date

    catalog = read_catalog()
    entries = catalog.in_force(as_of_date(None)).layers
    sources = {e.source for e in entries}
    if len(sources) != 1:
        raise SystemExit(f"expected one GeoPackage in the catalog, found {sorted(sources)}")
    gpkg = catalog.base_dir / sources.pop()
    polygonal = {name for name, kind in pyogrio.list_layers(gpkg) if "Polygon" in str(kind)}
    layers = [(e.id, e.layer or e.id) for e in entries]
    return gpkg, [(lid, name) for lid, name in layers if name in polygonal]


def run(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, float]:
    """Run ``cmd`` once; its wall time (s), peak RSS (MB) and CPU time (user + system, s).

    The peak RSS comes from GNU time (``/usr/bin/time -f %M``), which forks from a small
    process: a child forked from this Python would count this process's memory as its own.

    Parameters
    ----------
    cmd : list of str
    env : dict
    cwd : Path

    Returns
    -------
    (float, float, float)
    """
    rss_file = cwd / "rss.txt"
    start = time.perf_counter()
    done = subprocess.run(
        [TIME, "-f", "%M %U %S", "-o", str(rss_file), *cmd],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace")
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{err[-2000:]}")
    rss_kb, user, system = rss_file.read_text().split()[-3:]
    return wall, int(rss_kb) / 1024, float(user) + float(system)


def has_option(python: str, env: dict[str, str], option: str) -> bool:
    """Whether ``zoning screen`` knows ``option`` (from its help).

    Parameters
    ----------
    python : str
    env : dict
    option : str

    Returns
    -------
    bool
    """
    done = subprocess.run(
        [python, "-m", "zoning", "screen", "--help"],
        env=env,
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),  # not the current folder: ``-m`` would import zoning from it
    )
    return option in done.stdout


def containing_layers(hits_csv: Path, relation: bool) -> set[str]:
    """Catalog layer ids with a hit on the point (zoning: relation other than nearby).

    Parameters
    ----------
    hits_csv : Path
    relation : bool
        Whether the file has zoning's ``relation`` column.

    Returns
    -------
    set of str
    """
    with open(hits_csv, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {r["layer_id"] for r in rows if not relation or r["relation"] != "nearby"}


def main(argv: list[str] | None = None) -> int:
    """Time the contenders, print the table.

    Parameters
    ----------
    argv : list of str, optional
        ``--runs N``, ``--index-cache DIR``, ``--python EXE``, ``--no-references``.

    Returns
    -------
    int
        0.
    """
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7, help="timed rounds (default 7)")
    ap.add_argument("--index-cache", metavar="DIR", help="passed to zoning screen if it has it")
    ap.add_argument("--python", default=sys.executable, help="interpreter of the children")
    ap.add_argument("--no-references", action="store_true", help="skip python/imports rows")
    ap.add_argument(
        "--baseline",
        metavar="DIR",
        help="another checkout of the repository: its zoning runs too, as 'zoning (baseline)'",
    )
    args = ap.parse_args(argv)

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    base_env = env
    work = Path(tempfile.mkdtemp(prefix="one_site_cli_"))
    try:
        gpkg, layers = polygon_layers()
        peer = work / "peer.py"
        peer.write_text(PEER, encoding="utf-8")
        lon, lat = (str(v) for v in POINT)
        zoning = [args.python, "-m", "zoning", "screen", "--point", f"{lon},{lat}"]
        zoning += ["--crs", "EPSG:4326", "--format", "csv", "--out"]
        extra: list[str] = []
        note = "no --index-cache given"
        if args.index_cache:
            if has_option(args.python, env, "--index-cache"):
                extra, note = (
                    ["--index-cache", args.index_cache],
                    f"--index-cache {args.index_cache}",
                )
            else:
                note = "--index-cache given, but zoning screen has no such option: not passed"
        specs = [f"{lid}={name}" for lid, name in layers]
        commands = {
            "zoning": lambda i: [*zoning, str(work / f"out{i}"), *extra],
            "peer": lambda i: [
                args.python,
                str(peer),
                str(gpkg),
                str(work / f"peer{i}.csv"),
                lon,
                lat,
                *specs,
            ],
        }
        if args.baseline:
            base_env = {**env, "PYTHONPATH": str(Path(args.baseline).resolve())}
            base_extra = extra if extra and has_option(args.python, base_env, extra[0]) else []
            commands["zoning (baseline)"] = lambda i: [*zoning, str(work / f"base{i}"), *base_extra]
        if not args.no_references:
            commands["python (bare)"] = lambda i: [args.python, "-c", "pass"]
            commands["imports"] = lambda i: [args.python, "-c", IMPORTS]
        names = list(commands)
        samples: dict[str, list[tuple[float, float, float]]] = {n: [] for n in names}
        for i in range(args.runs + 1):  # round 0: warm-up, not counted
            order = names if i % 2 == 0 else names[::-1]
            for name in order:
                if name == "zoning":
                    shutil.rmtree(work / f"out{i}", ignore_errors=True)
                if name == "zoning (baseline)":
                    shutil.rmtree(work / f"base{i}", ignore_errors=True)
                result = run(commands[name](i), base_env if "baseline" in name else env, work)
                if i > 0:
                    samples[name].append(result)
            if i == 0:
                ours = containing_layers(work / "out0" / "hits.csv", relation=True)
                theirs = containing_layers(work / "peer0.csv", relation=False)
                ours &= {lid for lid, _ in layers}  # zoning also reads the line layers
                agree = (
                    "yes" if ours == theirs else f"NO: zoning {sorted(ours)}, peer {sorted(theirs)}"
                )

        med = statistics.median
        print(f"one site from the CLI, {args.runs} alternated rounds ({note}); point {POINT}")
        print(f"peer: {len(layers)} polygon layers of {gpkg.name} read with geopandas, sjoin")
        print(f"same containing layers (zoning hits not 'nearby' vs peer sjoin): {agree}")
        print(f"{'':18}{'median s':>9}{'min s':>7}{'max s':>7}{'CPU s':>7}{'peak RSS MB':>12}")
        for name in names:
            walls = [w for w, _, _ in samples[name]]
            rss = med([r for _, r, _ in samples[name]])
            cpu = med([c for _, _, c in samples[name]])
            print(
                f"{name:18}{med(walls):9.2f}{min(walls):7.2f}{max(walls):7.2f}{cpu:7.2f}{rss:12.0f}"
            )
        for label, k in (("wall", 0), ("CPU", 2)):
            ratio = med(x[k] for x in samples["zoning"]) / med(x[k] for x in samples["peer"])
            print(f"zoning / peer (median {label}): {ratio:.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
