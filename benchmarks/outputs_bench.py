"""The outputs of a large screening: the writers and the console summary, timed.

Screens ``--points`` uniform random points over the bounding box of the Shanghai territory
(containment, ``search_radius_m=0``, as ``zoning screen pts.csv --search-radius 0``) once,
in-process, then times, alternating ``--repeat`` times:

* ``old_csv``: the CSV writer before codes (every row of ``sites.csv`` carrying the bilingual
  reason texts; pandas ``to_csv``), kept here as the baseline;
* ``csv``: :func:`zoning.tables.write_csv` (codes, ``codes.csv``);
* ``parquet``: :func:`zoning.tables.write_parquet`;
* ``summary``: :func:`zoning.cli.render.console_summary`.

It also writes the points as ``pts.csv`` (``--write-csv``) for the end-to-end CLI runs.

Usage::

    python benchmarks/outputs_bench.py --points 1000000 --work /tmp/outbench [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def old_csv(result, folder: Path) -> None:
    """``sites.csv`` and ``hits.csv`` as the writer wrote them before codes: the reason texts
    on every row (``reasons_en``, ``reasons_zh``), pandas ``to_csv``, formulas escaped."""
    import pandas as pd
    import shapely

    from zoning.io.cells import escape_formulas
    from zoning.labels import VERDICT_LABELS
    from zoning.tables.frames import _data_status, _hits_table, _wgs84

    cols = [
        "site_id", "name", "verdict", "n_constraints", "n_hits", "n_reasons",
        "boundary_sensitive", "boundary_rules", "overlap_m2_total", "overlap_length_m_total",
        "nearest_m", "area_m2", "length_m", "industry", "nature", "linear", "linear_source",
        "wastewater", "discharge", "air", "hazardous", "two_high", "two_high_source",
        "key_project", "red_line_activity", "facility", "residential_building", "noise",
        "input_crs", "datum_shift_m", "uncertainty_m", "reasons_en", "reasons_zh",
    ]  # fmt: skip
    s = result.sites
    cols = [c for c in cols if c in s.columns]
    table = pd.DataFrame(s)[cols]
    zh = {code: z for code, (z, _) in VERDICT_LABELS.items()}
    table.insert(cols.index("verdict") + 1, "verdict_zh", s["verdict"].map(zh).to_numpy())
    rep = shapely.point_on_surface(_wgs84(s))
    table.insert(4, "lon", np.round(shapely.get_x(rep), 7))
    table.insert(5, "lat", np.round(shapely.get_y(rep), 7))
    table["data_status"] = _data_status(result)
    table["conclusion_zh"] = None
    escape_formulas(table).to_csv(folder / "sites.csv", index=False, encoding="utf-8-sig")
    hits = escape_formulas(_hits_table(result))
    hits.to_csv(folder / "hits.csv", index=False, encoding="utf-8-sig")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--work", type=Path, default=Path("/tmp/outbench"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--write-csv", action="store_true", help="also write pts.csv (lon, lat)")
    ap.add_argument("--only", default="old_csv,csv,parquet,summary")
    args = ap.parse_args()

    from screen_bench import make_points, territory_box

    import zoning
    from zoning.cli.render import console_summary
    from zoning.crs import WGS84
    from zoning.tables import write_csv, write_parquet

    args.work.mkdir(parents=True, exist_ok=True)
    layers = zoning.load_catalog()
    pts = make_points(args.points, territory_box(layers))
    if args.write_csv:
        import shapely

        wgs = pts.to_crs(WGS84)
        with open(args.work / "pts.csv", "w", encoding="utf-8") as fh:
            fh.write("id,lon,lat\n")
            x, y = shapely.get_x(wgs.geometry.to_numpy()), shapely.get_y(wgs.geometry.to_numpy())
            np.savetxt(
                fh,
                np.column_stack([np.arange(len(x)), x, y]),
                fmt=["p%d", "%.7f", "%.7f"],
                delimiter=",",
            )
    t0 = time.perf_counter()
    result = zoning.screen(pts, layers, search_radius_m=0)
    t_screen = time.perf_counter() - t0
    print(f"screened {len(result):,} points in {t_screen:.1f} s; peak RSS {_rss_gb():.2f} GB")
    t0 = time.perf_counter()
    _ = result.hits
    print(f"hits table ({len(result.hits):,} rows) built in {time.perf_counter() - t0:.1f} s")

    def run(name: str) -> tuple[float, int]:
        out = args.work / name
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()
        result.__dict__.pop("_site_codes", None)  # the codes are built by each writer run
        t = time.perf_counter()
        if name == "old_csv":
            old_csv(result, out)
        elif name == "csv":
            write_csv(result, out)
        elif name == "parquet":
            write_parquet(result, out)
        else:
            text = console_summary(result, lang="both")
            (out / "summary.txt").write_text(text, encoding="utf-8")
        return time.perf_counter() - t, _size(out)

    names = [n for n in args.only.split(",") if n]
    times: dict[str, list[float]] = {n: [] for n in names}
    sizes: dict[str, int] = {}
    for i in range(args.repeat):
        for name in names if i % 2 == 0 else reversed(names):
            took, size = run(name)
            times[name].append(took)
            sizes[name] = size
            print(f"  {name:8s} {took:6.2f} s  {size / 1e6:8.1f} MB", flush=True)
    summary = {
        n: {"median_s": statistics.median(times[n]), "runs_s": times[n], "mb": sizes[n] / 1e6}
        for n in names
    }
    summary["peak_rss_gb"] = _rss_gb()
    summary["screen_s"] = t_screen
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
