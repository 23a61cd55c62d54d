"""Size and load time of the whole-city overview map with every demonstration layer.

Run from the repository root (needs Chromium and playwright, as the browser tests do)::

    .venv/bin/python benchmarks/map_size.py [--runs 7] [--out maps/benchmark]

It builds the overview of the bundled demonstration catalog with every layer shown, online
(OpenStreetMap tiles selected) and offline (vector basemap), inline assets and the assets-folder
variant, prints each page's size, and loads each in headless Chromium (network cut off, as on
an intranet) several times, timing from ``goto`` until the page's script reports that Leaflet
has drawn every layer (``window.zoningMap.ready``, set after the next animation frames).
Targets (issue 3): at most 5 MB of HTML and at most 3 s to load on a 2-core machine.

With ``--site`` it also builds the public site of the demonstration catalog
(``zoning publish --offline``: 36 pages, downloads, assets), prints its build time, total size
and largest page, and times ``map.html`` and two district pages (the largest and the smallest)
the same way.

With ``--screening N[,N...]`` it screens N random sites (seeded; inside the demonstration
districts; industry C2614, new) against the demonstration layers — points, and with
``--polygons`` also squares of about 100 m — writes each screening folder (gpkg, json), builds
its offline screening map with every site (``zoning map --screening DIR --max-sites 0``) and
times it the same way: the numbers behind the report's ``MAX_MAP_SITES`` and the page budget
of :data:`zoning.webmap.screening_map.MAX_DATA_BYTES`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--out", default=str(REPO / "maps" / "benchmark"))
    ap.add_argument(
        "--site", action="store_true", help="also build and time the public site (zoning publish)"
    )
    ap.add_argument(
        "--screening",
        default="",
        metavar="N[,N...]",
        help="also screen N random sites and time their screening maps",
    )
    ap.add_argument(
        "--polygons", action="store_true", help="with --screening: ~100 m squares as well"
    )
    args = ap.parse_args()

    import zoning
    from zoning.webmap import overview_map

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    layers = zoning.load_catalog()
    if args.screening:
        pages = screening_pages(layers, out, args)
        return time_pages(pages, args.runs)
    t0 = time.perf_counter()
    n_features = sum(len(lay.gdf) for lay in layers)
    n_vertices = sum(int(lay.gdf.geometry.count_coordinates().sum()) for lay in layers)
    load_s = time.perf_counter() - t0
    pages = {}
    build = {}
    for name, offline in (("online", False), ("offline", True)):
        t0 = time.perf_counter()
        page = overview_map(layers, lang="zh", offline=offline, show="all")
        build[name] = time.perf_counter() - t0
        pages[name] = page.save(out / f"overview_{name}.html")
    (out / "folder").mkdir(exist_ok=True)
    pages["offline, assets folder"] = overview_map(
        layers, lang="zh", offline=True, show="all"
    ).save(out / "folder" / "overview.html", assets="folder")

    print(
        f"demonstration catalog: {len(layers.ids)} layers, {n_features} features, "
        f"{n_vertices} vertices in the source files (read in {load_s:.1f} s)"
    )
    print(f"machine: {os.cpu_count()} CPUs")
    print()
    print(f"{'page':28} {'HTML MB':>8} {'build s':>8}")
    for name, path in pages.items():
        size = path.stat().st_size / 1e6
        b = build.get(name)
        print(f"{name:28} {size:8.2f} {'' if b is None else f'{b:8.2f}'}")
    folder = out / "folder" / "assets"
    assets_mb = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6
    print(f"{'  (assets folder)':28} {assets_mb:8.2f}")

    if args.site:
        from zoning.publish import publish_site

        site = publish_site(out / "site", layers, offline=True)
        page, size = site.largest_page
        print()
        print(
            f"public site (zoning publish --offline): {len(site.pages)} pages, "
            f"{len(site.files)} files, {site.bytes / 1e6:.1f} MB, built in {site.seconds:.1f} s; "
            f"largest page {page} {size / 1e6:.2f} MB"
        )
        for rel in ("map.html", "districts/pudong-new-area.html", "districts/huangpu.html"):
            path = site.path / rel
            pages[f"site {rel}"] = path
            print(f"  {rel:40} {path.stat().st_size / 1e6:6.2f} MB")

    return time_pages(pages, args.runs)


def random_sites(layers, n: int, *, polygons: bool, seed: int = 20261201) -> list[str]:
    """``n`` WKT sites inside the demonstration districts (points, or ~100 m squares)."""
    import numpy as np
    import shapely

    from zoning.crs import WGS84

    districts = layers.of_kind("district")[0].gdf.to_crs(WGS84)
    area = shapely.union_all(districts.geometry.to_numpy())
    shapely.prepare(area)
    x0, y0, x1, y1 = area.bounds
    rng = np.random.default_rng(seed)
    out: list[str] = []
    while len(out) < n:
        xs = rng.uniform(x0, x1, 4 * n)
        ys = rng.uniform(y0, y1, 4 * n)
        inside = shapely.contains_xy(area, xs, ys)
        for x, y in zip(xs[inside], ys[inside], strict=True):
            if polygons:
                d = 0.0005  # about 50 m either way
                out.append(
                    f"POLYGON (({x - d:.6f} {y - d:.6f}, {x + d:.6f} {y - d:.6f}, "
                    f"{x + d:.6f} {y + d:.6f}, {x - d:.6f} {y + d:.6f}, {x - d:.6f} {y - d:.6f}))"
                )
            else:
                out.append(f"POINT ({x:.6f} {y:.6f})")
            if len(out) == n:
                break
    return out


def screening_pages(layers, out: Path, args) -> dict[str, Path]:
    import zoning
    from zoning.webmap import screening_map

    pages: dict[str, Path] = {}
    counts = [int(x) for x in args.screening.split(",") if x.strip()]
    shapes = ["points", "polygons"] if args.polygons else ["points"]
    print(f"{'screening map (offline, all sites)':40} {'HTML MB':>8} {'build s':>8}  drawn")
    for shape in shapes:
        for n in counts:
            folder = out / f"screening_{shape}_{n}"
            result = zoning.screen(
                wkt=random_sites(layers, n, polygons=shape == "polygons"),
                layers=layers,
                crs="EPSG:4326",
                attributes={"industry": "C2614", "nature": "new"},
            )
            result.to_file(folder, ["gpkg", "json"])
            t0 = time.perf_counter()
            page = screening_map(folder, layers=layers, offline=True)
            build = time.perf_counter() - t0
            path = page.save(folder / "map.html")
            kinds = {s["id"] for s in page.config["layers"] if s["ns"] == "screening"}
            drawn = ", ".join(sorted(kinds))
            name = f"{n} {shape}"
            print(f"{name:40} {path.stat().st_size / 1e6:8.2f} {build:8.2f}  {drawn}")
            pages[name] = path
    return pages


def time_pages(pages: dict[str, Path], runs: int) -> int:
    from browser import Browser, chromium_path

    exe = chromium_path()
    if exe is None:
        print("\nno Chromium found: load times not measured")
        return 0
    browser = Browser(exe)
    try:
        print()
        print(
            f"load in headless Chromium, network cut off, {runs} runs (goto -> all layers drawn):"
        )
        print(f"{'page':40} {'median s':>9} {'max s':>7} {'min s':>7}")
        for name, path in pages.items():
            times = []
            for _ in range(runs):
                t0 = time.perf_counter()
                visit = browser.open(path, offline=True)
                visit.page.wait_for_function(
                    "window.zoningMap && window.zoningMap.ready === true", timeout=60_000
                )
                times.append(time.perf_counter() - t0)
                drawn = visit.page.evaluate(
                    "(() => { let n = 0; zoningMap.map.eachLayer(l => {"
                    " if (l instanceof L.Path) n++; }); return n; })()"
                )
                visit.page.close()
            print(
                f"{name:40} {statistics.median(times):9.2f} {max(times):7.2f} "
                f"{min(times):7.2f}   ({drawn} paths drawn)"
            )
    finally:
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
