"""Independent readings of the demonstration data: the oracles publish tests compare against.

The demonstration catalog and GeoPackage are read again with yaml and geopandas (never through
``zoning``), and districts are clipped with geopandas in UTM zone 51N.
"""

from __future__ import annotations

import datetime
import re
from functools import cache

import geopandas as gpd
import shapely
import yaml

from conftest import REPO

DEMO_GPKG = REPO / "layers" / "shanghai_demo.gpkg"
DEMO_CATALOG = REPO / "layers" / "catalog.yml"
UTM51N = "EPSG:32651"


def _today_in_shanghai() -> str:
    return datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8))).date().isoformat()


def demo_catalog(as_of: str | None = None) -> dict:
    """The demonstration catalog as plain YAML data, holding only the layers in force on
    ``as_of`` (``YYYY-MM-DD``; default today in Shanghai, UTC+8), as the toolkit sees it that
    day: ``valid_from <= as_of <= valid_to``, compared as ISO text, absent bounds open."""
    doc = yaml.safe_load(DEMO_CATALOG.read_text(encoding="utf-8"))
    day = as_of or _today_in_shanghai()
    doc["layers"] = [
        e
        for e in doc["layers"]
        if str(e.get("valid_from") or "0000-01-01") <= day <= str(e.get("valid_to") or "9999-12-31")
    ]
    return doc


def demo_source(entry: dict) -> gpd.GeoDataFrame:
    """A demonstration layer read straight from the GeoPackage (WGS84)."""
    return gpd.read_file(DEMO_GPKG, layer=entry["layer"])


def demo_districts() -> gpd.GeoDataFrame:
    entry = next(e for e in demo_catalog()["layers"] if e["kind"] == "district")
    return demo_source(entry)


def district_slug(name_en: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name_en.lower()).strip("-")


def _utm(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """To UTM 51N after densifying to 0.001°: the files' edges are straight in lon/lat.

    Without it a long straight edge and its neighbour's vertices along it part by up to metres
    in UTM and leave slivers of neighbours inside a district.
    """
    return gdf.set_geometry(shapely.segmentize(gdf.geometry.to_numpy(), 0.001)).to_crs(UTM51N)


@cache
def _utm_sources() -> tuple[dict, gpd.GeoDataFrame]:
    entries = demo_catalog()["layers"]
    return {e["id"]: _utm(demo_source(e)) for e in entries}, _utm(demo_districts())


def _counts(piece, kind: str) -> bool:
    """Whether a clipped piece is drawn: a polygon part of 10 m² or more and at least 1 m wide
    on average (2 x area / perimeter), or a line part of 1 m or more; the rest only touches
    the boundary."""
    parts = gpd.GeoSeries([piece]).explode(index_parts=False)
    if kind == "shoreline":
        return bool((parts[parts.geom_type == "LineString"].length >= 1.0).any())
    polys = parts[parts.geom_type == "Polygon"]
    return bool(((polys.area >= 10.0) & (2 * polys.area >= polys.length)).any())


def expected_district_counts(name_en: str) -> dict[str, int]:
    """Features per layer that a district's map must draw, clipped with geopandas in UTM 51N."""
    sources, districts = _utm_sources()
    area = shapely.union_all(districts.loc[districts["name_en"] == name_en].geometry.to_numpy())
    out = {}
    for entry in demo_catalog()["layers"]:
        pieces = sources[entry["id"]].geometry.intersection(area)
        out[entry["id"]] = sum(_counts(g, entry["kind"]) for g in pieces if not g.is_empty)
    return out
