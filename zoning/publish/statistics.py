"""The districts of a catalog and what each layer holds, city-wide and per district.

:func:`districts_of` groups the catalog's district rows by name (with their neighbours);
:func:`layer_statistics` and :func:`district_statistics` measure every layer city-wide and
inside each district, in the equal-area working CRS.  The district lookup lives here until it
is unified with the one of :mod:`zoning.layerset`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from ..layerset import LayerSet

__all__ = [
    "NEIGHBOUR_MIN_SHARED_M",
    "District",
    "district_statistics",
    "districts_of",
    "layer_statistics",
]

#: Districts whose boundaries run side by side for at least this long are neighbours (m).
NEIGHBOUR_MIN_SHARED_M = 200.0
_NEIGHBOUR_SNAP_M = 30.0


# ------------------------------------------------------------------------------ districts


@dataclass(frozen=True)
class District:
    """One district of the catalog (rows of the district layers that share a name)."""

    name: str
    name_en: str | None
    slug: str
    geometry: Any  # shapely geometry, working CRS
    area_km2: float
    neighbours: tuple[str, ...] = ()  # slugs of the districts next to it, in catalog order

    def label(self, lang: str) -> str:
        """The name in ``lang`` (the English name when there is one)."""
        if lang == "en" and self.name_en:
            return self.name_en
        return self.name


def _slug(text: str | None) -> str:
    """Lower-case ASCII letters, digits and hyphens ("Jing'an" -> "jing-an"), or ""."""
    if not text:
        return ""
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60]


def districts_of(layers: LayerSet) -> list[District]:
    """The districts of the catalog's district layers, in catalog order.

    Rows that share a ``name`` form one district (as in :func:`zoning.indicators`); a row
    without a name is named by its ``feature_id``.  The slug (the page's file name) comes from
    the English name, else the feature id, else the position; it holds only ``a-z0-9-``.

    Parameters
    ----------
    layers : LayerSet
        Its layers of kind ``district`` (working CRS).

    Returns
    -------
    list of District
        With their neighbours: districts whose boundaries run side by side for at least
        :data:`NEIGHBOUR_MIN_SHARED_M` metres.
    """
    groups: dict[str, dict] = {}
    for layer in layers.of_kind("district"):
        gdf = layer.gdf
        names = gdf["name"] if "name" in gdf.columns else pd.Series([None] * len(gdf))
        en = gdf["name_en"] if "name_en" in gdf.columns else pd.Series([None] * len(gdf))
        for i in range(len(gdf)):
            fid = str(gdf["feature_id"].iloc[i])
            name = str(names.iloc[i]) if pd.notna(names.iloc[i]) else fid
            g = groups.setdefault(name, {"geoms": [], "en": None, "fid": fid})
            g["geoms"].append(gdf.geometry.iloc[i])
            if g["en"] is None and pd.notna(en.iloc[i]) and str(en.iloc[i]).strip():
                g["en"] = str(en.iloc[i]).strip()
    out: list[District] = []
    taken: set[str] = set()
    for n, (name, g) in enumerate(groups.items(), 1):
        base = _slug(g["en"]) or _slug(g["fid"]) or f"district-{n}"
        slug, k = base, 1
        while slug in taken:
            k += 1
            slug = f"{base}-{k}"
        taken.add(slug)
        geom = shapely.union_all(np.asarray(g["geoms"], dtype=object))
        out.append(
            District(
                name=name,
                name_en=g["en"],
                slug=slug,
                geometry=geom,
                area_km2=float(shapely.area(geom)) / 1e6,
            )
        )
    return _with_neighbours(out)


def _with_neighbours(districts: list[District]) -> list[District]:
    if len(districts) < 2:
        return districts
    geoms = np.asarray([d.geometry for d in districts], dtype=object)
    boundaries = shapely.boundary(geoms)
    tree = shapely.STRtree(geoms)
    pairs = tree.query(geoms, predicate="dwithin", distance=_NEIGHBOUR_SNAP_M)
    near: dict[int, set[int]] = {i: set() for i in range(len(districts))}
    for a, b in zip(*pairs, strict=True):
        if a >= b:
            continue
        zone = shapely.buffer(geoms[b], _NEIGHBOUR_SNAP_M)
        shared = float(shapely.length(shapely.intersection(boundaries[a], zone)))
        if shared >= NEIGHBOUR_MIN_SHARED_M:
            near[a].add(b)
            near[b].add(a)
    return [
        District(
            name=d.name,
            name_en=d.name_en,
            slug=d.slug,
            geometry=d.geometry,
            area_km2=d.area_km2,
            neighbours=tuple(districts[j].slug for j in sorted(near[i])),
        )
        for i, d in enumerate(districts)
    ]


# ------------------------------------------------------------------------------ statistics


def _family(layer) -> str:
    return layer.entry.kind_info.geometry


def layer_statistics(layers: LayerSet) -> pd.DataFrame:
    """Per layer: features, area (polygons) or length (lines) and provenance, city-wide.

    Areas are those of ``zoning layers check``: the union of the layer's features (overlaps
    counted once) in the equal-area working CRS, km².  Lengths are of the union of the lines,
    km.  Reads every layer.

    Parameters
    ----------
    layers : LayerSet

    Returns
    -------
    pandas.DataFrame
        One row per layer: ``id``, ``kind``, ``geometry`` (polygon/line/point), the titles,
        the provenance (``status``, ``source``, ``vintage``, ``licence``, ``url``, ``note``),
        ``features``, ``area_km2``, ``length_km``, ``file`` and ``sha256``.
    """
    rows = []
    for lay in layers:
        e = lay.entry
        prov = e.provenance
        family = _family(lay)
        union = lay.union() if len(lay.gdf) else shapely.Polygon()
        rows.append(
            {
                "id": e.id,
                "kind": e.kind,
                "geometry": family,
                "title_zh": e.title("zh"),
                "title_en": e.title("en"),
                "status": prov.status if prov else "unknown",
                "source": prov.source if prov else None,
                "vintage": prov.vintage if prov else None,
                "licence": prov.licence if prov else None,
                "url": prov.url if prov else None,
                "note": prov.note if prov else None,
                "features": len(lay.gdf),
                "area_km2": float(shapely.area(union)) / 1e6 if family == "polygon" else None,
                "length_km": float(shapely.length(union)) / 1e3 if family == "line" else None,
                "file": Path(lay.report.source).name if lay.report.source else None,
                "sha256": lay.report.sha256,
            }
        )
    return pd.DataFrame(rows)


def district_statistics(
    layers: LayerSet, districts: Iterable[District] | None = None
) -> pd.DataFrame:
    """The part of each layer inside each district.

    Parameters
    ----------
    layers : LayerSet
    districts : iterable of District, optional
        Default: :func:`districts_of` ``(layers)``.

    Returns
    -------
    pandas.DataFrame
        One row per district and non-district layer: ``district``, ``slug``, ``layer``,
        ``kind``, ``geometry`` (polygon/line/point), ``features`` (features with a piece
        inside), ``area_km2`` (area of the union of those pieces: overlaps counted once),
        ``share_pct`` (of the district's area), ``length_km`` (lines), and
        ``district_area_km2``.

    Notes
    -----
    A feature counts when its piece inside the district is more than a sliver of the
    boundary (:func:`zoning.webmap.page.clip_geometries`: polygon parts of at least 10 m² and
    1 m mean width, line parts of at least 1 m) — the rule the district maps use, so a
    neighbour that only shares the boundary is not counted, and slivers add no area.
    Measured in the equal-area working CRS (geodesic within 0.01 %).  Cost: one clip of every
    layer per district.
    """
    from ..webmap.clip import clip_geometries

    districts = list(districts) if districts is not None else districts_of(layers)
    columns = [
        "district",
        "slug",
        "layer",
        "kind",
        "geometry",
        "features",
        "area_km2",
        "share_pct",
        "length_km",
        "district_area_km2",
    ]
    rows = []
    for lay in layers:
        if lay.kind == "district":
            continue
        family = _family(lay)
        geoms = lay.gdf.geometry.to_numpy()
        for d in districts:
            pieces = clip_geometries(geoms, d.geometry)
            pieces = pieces[~shapely.is_empty(pieces)]
            inside = shapely.union_all(pieces) if len(pieces) else shapely.Polygon()
            area = float(shapely.area(inside)) / 1e6 if family == "polygon" else None
            rows.append(
                {
                    "district": d.name,
                    "slug": d.slug,
                    "layer": lay.id,
                    "kind": lay.kind,
                    "geometry": family,
                    "features": len(pieces),
                    "area_km2": area,
                    "share_pct": (
                        100.0 * area / d.area_km2 if area is not None and d.area_km2 else None
                    ),
                    "length_km": (
                        float(shapely.length(inside)) / 1e3 if family == "line" else None
                    ),
                    "district_area_km2": d.area_km2,
                }
            )
    # With no district, or no layer but the districts, the table is empty but keeps its columns.
    return pd.DataFrame(rows, columns=columns)
