"""The districts of a catalog and what each layer holds, city-wide and per district.

:func:`districts_of` gives the public site's districts: those of the one district lookup
(:meth:`zoning.LayerSet.districts`) with a page slug, an area and their neighbours;
:func:`layer_statistics` and :func:`district_statistics` measure every layer city-wide and
inside each district with :mod:`zoning.measure`, in the equal-area working CRS.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import shapely

from ..layerset import LayerSet
from ..measure import (
    NEIGHBOUR_MIN_SHARED_M,
    area_m2,
    layer_union,
    length_m,
    neighbours,
    pieces_inside,
    union_of,
)

# NEIGHBOUR_MIN_SHARED_M lives in zoning.measure; re-exported for old import paths.

__all__ = [
    "NEIGHBOUR_MIN_SHARED_M",
    "District",
    "district_statistics",
    "districts_of",
    "layer_statistics",
]


# ------------------------------------------------------------------------------ districts


@dataclass(frozen=True)
class District:
    """One district of the public site: a district of :meth:`zoning.LayerSet.districts`
    with its page slug, its area and its neighbours.

    Attributes
    ----------
    name, name_en : str, str or None
        As :class:`zoning.layerset.District`.
    slug : str
        The page's file name (``a-z0-9-``), unique among the districts.
    geometry : shapely geometry
        The district's polygon, in the working CRS.
    area_km2 : float
        Its area (:func:`zoning.measure.area_m2`), km².
    neighbours : tuple of str
        Slugs of the districts next to it, in catalog order.
    """

    name: str
    name_en: str | None
    slug: str
    geometry: Any  # shapely geometry, working CRS
    area_km2: float
    neighbours: tuple[str, ...] = ()  # slugs of the districts next to it, in catalog order

    def label(self, lang: str) -> str:
        """The district's name in a page language.

        Parameters
        ----------
        lang : str
            ``"en"`` gives the English name when there is one; any other the Chinese name.

        Returns
        -------
        str
        """
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

    The districts are those of :meth:`zoning.LayerSet.districts` (rows that share a ``name``
    form one district; a row without a name is named by its ``feature_id``), so a page, a
    map clip and the indicators find the same district for a name.  The slug (the page's file
    name) comes from the English name, else the first row's feature id, else the position; it
    holds only ``a-z0-9-``.

    Parameters
    ----------
    layers : LayerSet
        Its layers of kind ``district`` (working CRS).

    Returns
    -------
    list of District
        With their neighbours: districts whose boundaries run side by side for at least
        :data:`NEIGHBOUR_MIN_SHARED_M` metres (:func:`zoning.measure.neighbours`).

    Raises
    ------
    LayerDataError
        A district layer's population field holds a value that is not a number (as
        :meth:`zoning.LayerSet.districts`).
    """
    found = layers.districts()
    slugs = _slugs(found)
    near = neighbours([d.geometry for d in found])
    return [
        District(
            name=d.name,
            name_en=d.name_en,
            slug=slug,
            geometry=d.geometry,
            area_km2=area_m2(d.geometry) / 1e6,
            neighbours=tuple(slugs[j] for j in near[i]),
        )
        for i, (d, slug) in enumerate(zip(found, slugs, strict=True))
    ]


def _slugs(districts: list) -> list[str]:
    """A unique slug per district: English name, else first feature id, else position."""
    out: list[str] = []
    taken: set[str] = set()
    for n, d in enumerate(districts, 1):
        base = _slug(d.name_en) or _slug(d.codes[0] if d.codes else None) or f"district-{n}"
        slug, k = base, 1
        while slug in taken:
            k += 1
            slug = f"{base}-{k}"
        taken.add(slug)
        out.append(slug)
    return out


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
        union = layer_union(lay)
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
                "area_km2": area_m2(union) / 1e6 if family == "polygon" else None,
                "length_km": length_m(union) / 1e3 if family == "line" else None,
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
    boundary (:func:`zoning.measure.pieces_inside`: polygon parts of at least 10 m² and 1 m
    mean width, line parts of at least 1 m) — the rule the district maps use, so a
    neighbour that only shares the boundary is not counted, and slivers add no area.
    Measured in the equal-area working CRS (geodesic within 0.01 %).  Cost: one clip of every
    layer per district.
    """
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
            pieces = pieces_inside(geoms, d.geometry)
            pieces = pieces[~shapely.is_empty(pieces)]
            inside = union_of(pieces)
            area = area_m2(inside) / 1e6 if family == "polygon" else None
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
                    "length_km": (length_m(inside) / 1e3 if family == "line" else None),
                    "district_area_km2": d.area_km2,
                }
            )
    # With no district, or no layer but the districts, the table is empty but keeps its columns.
    return pd.DataFrame(rows, columns=columns)
