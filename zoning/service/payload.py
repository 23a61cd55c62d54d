"""A screening request's JSON: the sites, their attributes, the day (shared by API, jobs, OGC).

The body of ``POST /screen`` (and the ``inputs`` of the OGC process) is one JSON object::

    {"sites": <GeoJSON Feature, FeatureCollection or geometry>,
     "crs": "EPSG:4326",                       # optional; GeoJSON is WGS84 (RFC 7946)
     "attributes": {"industry": "C2614", "nature": "new", "wastewater": true},
     "as_of": "2026-12-05",                    # optional; default today in Shanghai
     "search_radius_m": 1000}                  # optional

A bare GeoJSON object is also accepted as the whole body.  ``"point": [lon, lat]`` or
``"wkt": "..."`` stand for ``--point`` / ``--wkt`` and, as on the command line, need ``crs``.
Feature properties are the sites' attributes, with the same names and Chinese aliases as a
file's columns; ``attributes`` apply to every site, as the command line's options.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from .problems import Problem


@dataclass(frozen=True)
class ScreenInput:
    """What a request asks to screen.

    Attributes
    ----------
    sites : zoning.sites.Sites
        The sites read into the working CRS, attributes attached.
    as_of : datetime.date
        The day whose law and layers apply.
    options : dict
        Further keywords for :func:`zoning.screen` (``search_radius_m``).
    """

    sites: Any
    as_of: date
    options: dict[str, Any]


def parse_screen_body(body: Any, *, max_sites: int) -> ScreenInput:
    """Read a screening request's JSON into sites, day and options.

    Parameters
    ----------
    body : object
        The decoded JSON.
    max_sites : int
        More sites than this is refused (413).

    Returns
    -------
    ScreenInput

    Raises
    ------
    Problem
        422 with the one line the command line would print for the same input; 413 above
        ``max_sites``.
    """
    import geopandas as gpd

    from ..dates import as_of_date
    from ..errors import ZoningError
    from ..sites import load_sites

    if not isinstance(body, dict):
        raise Problem(422, "the request body must be a JSON object", kind="input")
    if body.get("type") in ("Feature", "FeatureCollection") or "coordinates" in body:
        body = {"sites": body}
    crs = body.get("crs")
    attributes = body.get("attributes") or None
    try:
        as_of = as_of_date(body.get("as_of"), what="as_of")
        if "sites" in body:
            geo = body["sites"]
            if geo.get("type") == "FeatureCollection":
                features = geo.get("features") or []
            elif geo.get("type") == "Feature":
                features = [geo]
            else:
                features = [{"type": "Feature", "geometry": geo, "properties": {}}]
            if len(features) > max_sites:
                raise Problem(
                    413,
                    f"{len(features):,} sites in one request; at most {max_sites:,} (use /jobs)",
                    kind="too-many-sites",
                )
            frame = gpd.GeoDataFrame.from_features(features, crs=crs or "EPSG:4326")
            sites = load_sites(frame, attributes=attributes)
        elif "point" in body:
            sites = load_sites(points=[body["point"]], crs=crs, attributes=attributes)
        elif "wkt" in body:
            sites = load_sites(wkt=body["wkt"], crs=crs, attributes=attributes)
        else:
            raise Problem(
                422, "give the sites as 'sites' (GeoJSON), 'point' or 'wkt'", kind="input"
            )
    except ZoningError as exc:
        raise Problem(422, str(exc), kind="input") from None
    options = {}
    if body.get("search_radius_m") is not None:
        options["search_radius_m"] = float(body["search_radius_m"])
    return ScreenInput(sites=sites, as_of=as_of, options=options)
