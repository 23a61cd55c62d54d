"""One-site screening in a warm process: what a service pays per request, without HTTP.

Run from the repository root::

    .venv/bin/python benchmarks/one_site.py            # 30 calls per site
    .venv/bin/python benchmarks/one_site.py --calls 100

The demonstration catalog and rules are loaded once and warmed by a first screening (as
``zoning serve`` does at start); then each site is screened ``--calls`` times with
``zoning.screen(..., layers=, rules=)`` followed by ``result.to_dict()`` (the JSON of a
response).  Sites: a point in central Shanghai (industry C2614, new), a 200 m square there, and
the example project ``source-level1-guesthouse`` (inside a water-source zone, several layers).
Printed per site: the median and the 90th percentile of the wall time of the screening, of
``to_dict()`` and of both, and the median CPU time of the thread (less sensitive to other
processes on a shared machine).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import geopandas as gpd  # noqa: E402
from pyproj import Transformer  # noqa: E402
from shapely.geometry import box  # noqa: E402

import zoning  # noqa: E402
from zoning.examples import PROJECTS  # noqa: E402


def _sites() -> dict[str, dict]:
    """The screened sites, as keyword arguments of :func:`zoning.screen`."""
    attrs = {"industry": "C2614", "nature": "new"}
    utm = Transformer.from_crs("EPSG:4326", "EPSG:32651", always_xy=True)
    x, y = utm.transform(121.48, 31.23)
    square = gpd.GeoSeries([box(x - 100, y - 100, x + 100, y + 100)], crs="EPSG:32651")
    projects = gpd.read_file(PROJECTS)
    guesthouse = projects[projects["id"] == "source-level1-guesthouse"].reset_index(drop=True)
    return {
        "point": {"points": [(121.48, 31.23)], "crs": "EPSG:4326", "attributes": attrs},
        "200 m square": {
            "wkt": [square.to_crs("EPSG:4326").iloc[0].wkt],
            "crs": "EPSG:4326",
            "attributes": attrs,
        },
        "water-source site": {"sites": guesthouse},
    }


def main(argv: list[str] | None = None) -> int:
    """Time the sites and print one line each.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (``--calls N``).

    Returns
    -------
    int
        0.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=30, help="screenings per site")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    layers, rules = zoning.load_catalog(), zoning.load_rules()
    zoning.screen(points=[(121.47, 31.23)], crs="EPSG:4326", layers=layers, rules=rules)
    print(f"layers loaded and indexed, first screening: {time.perf_counter() - start:.1f} s")
    med = statistics.median

    def p90(values: list[float]) -> float:
        return sorted(values)[int(0.9 * (len(values) - 1))]

    for name, kw in _sites().items():
        screen_s, dict_s, total_s, cpu_s = [], [], [], []
        for _ in range(args.calls):
            c0, t0 = time.thread_time(), time.perf_counter()
            result = zoning.screen(layers=layers, rules=rules, **kw)
            t1 = time.perf_counter()
            result.to_dict()
            t2 = time.perf_counter()
            cpu_s.append(time.thread_time() - c0)
            screen_s.append(t1 - t0)
            dict_s.append(t2 - t1)
            total_s.append(t2 - t0)
        ms = 1000.0
        print(
            f"{name:18s} screen {med(screen_s) * ms:5.1f} ms (p90 {p90(screen_s) * ms:5.1f})  "
            f"to_dict {med(dict_s) * ms:5.1f} ms (p90 {p90(dict_s) * ms:5.1f})  "
            f"total {med(total_s) * ms:5.1f} ms (p90 {p90(total_s) * ms:5.1f})  "
            f"cpu {med(cpu_s) * ms:5.1f} ms  [{result.worst()}, {len(result.hits)} hits]"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
