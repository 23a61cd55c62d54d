"""Time the PDF documents of the example projects (issue 13).

Run from the repository root::

    .venv/bin/python benchmarks/documents.py [--repeat 3] [--times 1]

It screens ``layers/examples/projects.geojson`` once (``--times N`` repeats its 21 sites N
times, each copy with new site ids: ``--times 10`` is 210 sites), then writes the PDFs
(``zoning.documents.pdf.write_pdf``: ``pdf/`` and ``screening.pdf``) ``--repeat`` times into
fresh temporary folders and prints each wall time, the median, the load average before each
run and the sizes written.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _sites(times: int):
    import geopandas as gpd
    import pandas as pd

    gdf = gpd.read_file(ROOT / "layers" / "examples" / "projects.geojson")
    if times == 1:
        return gdf
    copies = []
    for k in range(times):
        c = gdf.copy()
        c["id"] = [f"{i}-{k}" for i in gdf["id"]]
        copies.append(c)
    return gpd.GeoDataFrame(pd.concat(copies, ignore_index=True), crs=gdf.crs)


def main() -> None:
    """Run the benchmark (see the module's docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--times", type=int, default=1)
    args = ap.parse_args()
    import zoning
    from zoning.documents.pdf import write_pdf

    result = zoning.screen(_sites(args.times))
    print(f"sites: {len(result.sites)}")
    walls = []
    for run in range(args.repeat):
        load = os.getloadavg()
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            write_pdf(result, Path(tmp))
            wall = time.perf_counter() - t
            size_run = (Path(tmp) / "screening.pdf").stat().st_size
            size_sites = sum(p.stat().st_size for p in (Path(tmp) / "pdf").iterdir())
        walls.append(wall)
        print(
            f"run {run + 1}: {wall:.2f} s (load average before: {load[0]:.2f} {load[1]:.2f}"
            f" {load[2]:.2f}); screening.pdf {size_run / 1e6:.2f} MB,"
            f" pdf/ {size_sites / 1e6:.2f} MB"
        )
    print(f"median of {len(walls)}: {statistics.median(walls):.2f} s")


if __name__ == "__main__":
    main()
