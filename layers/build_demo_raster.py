"""Build the MODELLED DEMONSTRATION population grid (``layers/demo_population.tif``).

Not observed data.  Each district's 2020 census population (``pop_2020`` of the demonstration
``districts`` layer, from shared/reference/shanghai_facts.md §4.1) is spread over the district's
500 m cells: 85 % evenly over the cells inside the (demonstration) development boundary, 15 %
evenly over its other land cells, none on water or the ecological protection red line.  A
district without cells of one class gives all of its population to the other; the cell values
of a district therefore sum to its census total (up to float32 rounding).

Grid: EPSG:32651 (WGS 84 / UTM zone 51N), 500 m cells, origin snapped to 500 m, covering the
districts.  It is deliberately *not* the toolkit's working CRS, so that zonal statistics have to
reproject their zones.  A cell belongs to a district, the development boundary, water or the red
line when its centre lies inside (``all_touched=False``).  Values: float32 persons per cell;
nodata -1 outside the districts.  Written as a DEFLATE-compressed Cloud-Optimized GeoTIFF with
average-resampled overviews (an overview cell holds the mean persons per 500 m cell).

Deterministic (no randomness, no timestamps): reads only ``layers/catalog.yml`` and
``layers/shanghai_demo.gpkg``.

Usage::

    python layers/build_demo_raster.py [--out PATH]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pyproj
from affine import Affine
from rasterio import features
from rasterio.windows import Window

import zoning
from zoning.raster import _write_cog

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "demo_population.tif"
CATALOG = HERE / "catalog.yml"

CRS = pyproj.CRS.from_epsg(32651)
RES = 500.0
NODATA = -1.0
SHARE_DEVELOPED = 0.85

NOTE = (
    "MODELLED DEMONSTRATION POPULATION GRID — derived from the demonstration layers and 2020 "
    "census district totals; not observed data"
)
METHOD = (
    "each district's pop_2020 spread evenly: 85% over its cells inside the development "
    "boundary, 15% over its other land cells, none on water or the red line; a district "
    "without cells of one class gives all to the other; cell centres (all_touched=False)"
)


def grid_for(bounds: np.ndarray) -> tuple[object, int, int]:
    """A 500 m grid whose origin is snapped to 500 m, covering ``bounds``."""
    left, bottom = np.floor(bounds[:2] / RES) * RES
    right, top = np.ceil(bounds[2:] / RES) * RES
    cols, rows = round(float(right - left) / RES), round(float(top - bottom) / RES)
    return Affine(RES, 0.0, float(left), 0.0, -RES, float(top)), rows, cols


def burn(geoms, shape, transform, values=1) -> np.ndarray:
    values = np.broadcast_to(np.asarray(values), (len(geoms),)).tolist()
    return features.rasterize(
        zip(geoms, values, strict=True),
        out_shape=shape,
        transform=transform,
        fill=0,
        dtype="int32",
        all_touched=False,
    )


def population_grid(ls: zoning.LayerSet) -> tuple[np.ndarray, object, list[dict]]:
    """The float32 grid, its transform, and per district: census total and grid sum."""
    districts = ls["districts"].gdf.to_crs(CRS)
    developed_geoms = ls["development_boundary"].gdf.to_crs(CRS).geometry.to_numpy()
    empty_geoms = np.concatenate(
        [ls[i].gdf.to_crs(CRS).geometry.to_numpy() for i in ("water", "red_line")]
    )
    transform, rows, cols = grid_for(districts.total_bounds)
    shape = (rows, cols)
    district = burn(
        districts.geometry.to_numpy(), shape, transform, np.arange(1, len(districts) + 1)
    )
    developed = burn(developed_geoms, shape, transform).astype(bool)
    empty = burn(empty_geoms, shape, transform).astype(bool)

    grid = np.full(shape, NODATA, dtype="float64")
    parts = []
    for i, row in enumerate(districts.itertuples(), start=1):
        cells = district == i
        dev, other = cells & developed & ~empty, cells & ~developed & ~empty
        if not (dev.any() or other.any()):
            raise SystemExit(f"build_demo_raster: error: district {row.name} has no land cell")
        share_dev = (SHARE_DEVELOPED if other.any() else 1.0) if dev.any() else 0.0
        pop = float(row.pop_2020)
        grid[cells] = 0.0
        if dev.any():
            grid[dev] = pop * share_dev / dev.sum()
        if other.any():
            grid[other] = pop * (1.0 - share_dev) / other.sum()
        parts.append((row, cells, dev, other))
    out = grid.astype("float32")
    summary = [
        {
            "district": row.name,
            "pop_2020": int(row.pop_2020),
            "cells": int(cells.sum()),
            "developed_cells": int(dev.sum()),
            "other_land_cells": int(other.sum()),
            "grid_sum": float(out[cells].sum(dtype="float64")),
        }
        for row, cells, dev, other in parts
    ]
    return out, transform, summary


def build(out: Path) -> list[dict]:
    ls = zoning.load_catalog(CATALOG)
    grid, transform, summary = population_grid(ls)
    rows, cols = grid.shape
    tags = {
        "demonstration": "true",
        "note": NOTE,
        "units": "persons per 500 m x 500 m cell (0.25 km²)",
        "quantity": "modelled resident population, 2020",
        "method": METHOD,
        "source": (
            "pop_2020 of the districts layer of layers/catalog.yml (2020 census, "
            "shanghai_facts.md §4.1); development boundary, water and red line of "
            "layers/shanghai_demo.gpkg (all demonstration data)"
        ),
        "grid_crs": "EPSG:32651 (WGS 84 / UTM zone 51N), deliberately not the working CRS",
        "nodata": "-1: outside the districts",
        "overviews": "average of the 500 m cells (mean persons per 500 m cell)",
        "built_by": "layers/build_demo_raster.py",
        "zoning_version": zoning.__version__,
    }
    _write_cog(
        out,
        shape=(rows, cols),
        transform=transform,
        crs=CRS,
        dtype="float32",
        nodata=NODATA,
        band_names=["population_2020"],
        blocks=[(Window(0, 0, cols, rows), grid[np.newaxis])],
        tags=tags,
        band_tags=[{"units": "persons per cell", "legend_note": NOTE}],
        resampling="AVERAGE",
    )
    return summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output GeoTIFF")
    args = ap.parse_args(argv)
    summary = build(args.out)
    worst = 0.0
    print(f"{'district':8}  {'census 2020':>11}  {'grid sum':>12}  {'diff %':>8}  cells")
    for s in summary:
        diff = 100.0 * (s["grid_sum"] - s["pop_2020"]) / s["pop_2020"]
        worst = max(worst, abs(diff))
        print(
            f"{s['district']:8}  {s['pop_2020']:>11,}  {s['grid_sum']:>12,.1f}  {diff:>8.5f}  "
            f"{s['cells']} ({s['developed_cells']} developed, {s['other_land_cells']} other land)"
        )
    size = args.out.stat().st_size
    print(f"wrote {args.out} ({size / 1024:.0f} KiB); largest difference {worst:.5f} %")
    if worst > 1.0 or size > 1024 * 1024:
        print("build_demo_raster: error: a district sum is off by > 1% or the file is > 1 MB")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
