"""A screening request's JSON: the sites, their attributes, the day (shared by API, jobs, OGC).

The body of ``POST /screen`` (and the ``inputs`` of the OGC process) is one JSON object
(``Content-Type: application/json`` or ``application/geo+json``)::

    {"sites": <GeoJSON Feature, FeatureCollection or geometry>,
     "crs": "EPSG:4326",                       # optional; GeoJSON is WGS84 (RFC 7946)
     "attributes": {"industry": "C2614", "nature": "new", "wastewater": true},
     "as_of": "2026-12-05",                    # optional; default today in Shanghai
     "search_radius_m": 1000,                  # optional (the CLI's --search-radius)
     "id_field": "编号", "name_field": "项目名称"}  # optional (--id-field, --name-field)

A bare GeoJSON object (a Feature, a FeatureCollection or a geometry) is also accepted as the
whole body.  Instead of ``sites``: ``"point": [lon, lat]`` (or ``"LON,LAT"``), ``"points":
[[lon, lat], ...]`` or ``"wkt": "..."`` (or a list of WKT) stand for ``--point`` / ``--wkt``
and, as on the command line, need ``crs``.

The sites are read exactly as ``zoning screen`` reads a GeoJSON file (the GeoJSON is written
to a private temporary file and read by the same reader, then deleted): feature properties are
the sites' attributes, with the same names and Chinese aliases as a file's columns
(``行业代码``, ``建设性质`` ...); a feature's ``id`` member is its site id; an old-style ``crs``
member is honoured and contradicting ``crs`` is an error; a property holding a list of texts
(``facility``) is read as the texts joined with ``;``; ``attributes`` apply to every site,
as the command line's options, and a property giving the same attribute must agree.  Errors
are the command line's lines, the options named as members of the body (``crs``,
``attributes.industry``, ``point``) and the GeoJSON as ``sites``.
"""

from __future__ import annotations

import json
import math
import re
import tempfile
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from .problems import Problem

__all__ = [
    "BODY_MEMBERS",
    "JSON_MEDIA_TYPES",
    "MAX_DEPTH",
    "ScreenInput",
    "check_media_type",
    "parse_json",
    "parse_screen_body",
]

#: The members a screening request may have (anything else is refused, naming it).
BODY_MEMBERS = (
    "sites",
    "point",
    "points",
    "wkt",
    "crs",
    "attributes",
    "as_of",
    "search_radius_m",
    "id_field",
    "name_field",
)
#: Media types of a JSON body (``+json`` suffixes are accepted too).
JSON_MEDIA_TYPES = ("application/json", "application/geo+json")
#: Nesting deeper than this is refused (GeoJSON needs at most about ten levels).
MAX_DEPTH = 40
#: What a GeoJSON ``type`` may be.
GEOMETRY_TYPES = (
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "GeometryCollection",
)
#: How the request's sites are labelled in errors and the provenance.
SITES_LABEL = "sites"


@dataclass(frozen=True)
class ScreenInput:
    """What a request asks to screen.

    Attributes
    ----------
    sites : zoning.sites.Sites
        The sites read into the working CRS, attributes attached.
    as_of : datetime.date or None
        The day whose law and layers apply (None: today in Asia/Shanghai).
    options : dict
        Further keywords for :func:`zoning.screen` (``search_radius_m``).
    record : dict
        What the request gave, for the result's provenance (``options``), as ``zoning
        screen`` records its options.
    """

    sites: Any
    as_of: date | None
    options: dict[str, Any]
    record: dict[str, Any] = field(default_factory=dict)


def check_media_type(content_type: str | None) -> None:
    """Refuse a body that does not say it is JSON.

    Parameters
    ----------
    content_type : str or None
        The request's ``Content-Type`` header.

    Returns
    -------
    None

    Raises
    ------
    Problem
        415 naming the media types accepted.
    """
    media = (content_type or "").split(";")[0].strip().lower()
    if media in JSON_MEDIA_TYPES or (media.startswith("application/") and media.endswith("+json")):
        return
    given = f"Content-Type {media!r}" if media else "no Content-Type"
    raise Problem(
        415,
        f"{given}: send the request as JSON (Content-Type: application/json or "
        "application/geo+json); for files of many sites use /jobs",
        kind="media-type",
    )


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(raw: bytes) -> Any:
    """Decode a request body as JSON, refusing what is not plain, finite, shallow JSON.

    Parameters
    ----------
    raw : bytes
        The body (already bounded by the size limit).

    Returns
    -------
    object

    Raises
    ------
    Problem
        400: not UTF-8, not JSON (the decoder's line and column), ``NaN`` / ``Infinity``,
        an integer too long to read, or nesting deeper than :data:`MAX_DEPTH`.
    """
    if not raw.strip():
        raise Problem(400, "the request body is empty: send a JSON object", kind="json")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Problem(
            400, f"the request body is not UTF-8 (byte {exc.start}): send JSON", kind="json"
        ) from None
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise Problem(
            400,
            f"the request body is not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
            kind="json",
        ) from None
    except RecursionError:
        raise _too_deep() from None
    except ValueError as exc:  # NaN/Infinity, an integer of more than 4300 digits
        raise Problem(400, f"the request body is not plain JSON: {exc}", kind="json") from None
    _check_depth(value)
    return value


def _too_deep() -> Problem:
    return Problem(
        400, f"the request body nests deeper than {MAX_DEPTH} levels; refused", kind="json"
    )


def _check_depth(value: Any) -> None:
    """Refuse JSON nested deeper than :data:`MAX_DEPTH` (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > MAX_DEPTH:
            raise _too_deep()
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def parse_screen_body(body: Any, *, max_sites: int) -> ScreenInput:
    """Read a screening request's JSON into sites, day and options.

    Parameters
    ----------
    body : object
        The decoded JSON (:func:`parse_json`).
    max_sites : int
        More sites than this is refused (413).

    Returns
    -------
    ScreenInput

    Raises
    ------
    Problem
        422 with the one line the command line would print for the same input (options
        named as the body's members); 413 above ``max_sites``.
    """
    from ..errors import ZoningError

    if not isinstance(body, dict):
        raise Problem(422, "the request body must be a JSON object", kind="input")
    if body.get("type") in ("Feature", "FeatureCollection", *GEOMETRY_TYPES):
        body = {"sites": body}
    unknown = [k for k in body if k not in BODY_MEMBERS]
    if unknown:
        raise Problem(
            422,
            f"unknown member(s) {', '.join(map(repr, unknown[:5]))} in the request (allowed: "
            f"{', '.join(BODY_MEMBERS)})",
            kind="input",
        )
    given = [k for k in ("sites", "point", "points", "wkt") if body.get(k) is not None]
    if len(given) != 1:
        together = f", not {' and '.join(given)} together" if given else ""
        raise Problem(
            422,
            f"give the sites as 'sites' (GeoJSON), 'point', 'points' or 'wkt'{together}",
            kind="input",
        )
    crs = _text(body, "crs")
    id_field, name_field = _text(body, "id_field"), _text(body, "name_field")
    attributes = _attributes(body.get("attributes"))
    as_of = _as_of(body.get("as_of"))
    options = _radius(body.get("search_radius_m"))
    kind = given[0]
    try:
        if kind == "sites":
            sites = _geojson_sites(body["sites"], crs, id_field, name_field, attributes, max_sites)
        else:
            sites = _inline_sites(
                kind, body[kind], crs, id_field, name_field, attributes, max_sites
            )
    except ZoningError as exc:
        raise Problem(422, api_words(str(exc), kind), kind="input") from None
    record = {
        "attributes": attributes or {},
        "id_field": id_field,
        "name_field": name_field,
        "layer": None,
        "encoding": None,
        "dxf_layer": None,
        "crs": crs,
        "sheet": None,
        "on_row_error": "fail",
        "csv_encoding": "utf-8-sig",
    }
    return ScreenInput(sites=sites, as_of=as_of, options=options, record=record)


def _text(body: dict, key: str) -> str | None:
    value = body.get(key)
    if value is None or isinstance(value, str):
        return value
    raise Problem(422, f"{key}: must be a string, not {_json_type(value)}", kind="input")


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "true/false"}
    return names.get(type(value), "a number" if isinstance(value, int | float) else "null")


def _attributes(value: Any) -> dict[str, Any] | None:
    """The ``attributes`` member: the CLI's options by name; nulls and empty lists dropped."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Problem(422, f"attributes: must be an object, not {_json_type(value)}", kind="input")
    out: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, list):
            if not all(isinstance(v, str) for v in item):
                raise Problem(422, f"attributes.{key}: a list must hold strings", kind="input")
            if item:
                out[key] = tuple(item)
        elif isinstance(item, dict):
            raise Problem(
                422, f"attributes.{key}: must be a string, number or true/false", kind="input"
            )
        elif item is not None:
            out[key] = item
    return out or None


def _as_of(value: Any) -> date | None:
    """The ``as_of`` member, read as ``--as-of`` is (None: today in Shanghai)."""
    from ..dates import parse_date

    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError(f"{value!r} is not a date of the form YYYY-MM-DD")
        return parse_date(value)
    except ValueError as exc:
        raise Problem(422, f"as_of: {exc} (e.g. 2026-04-01)", kind="input") from None


def _radius(value: Any) -> dict[str, Any]:
    """The ``search_radius_m`` member, as ``--search-radius`` (a number, 0 or more)."""
    if value is None:
        return {}
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Problem(422, f"search_radius_m: {value!r} is not a number of metres", kind="input")
    if value < 0:
        raise Problem(422, f"search_radius_m: {value} is not in the range x>=0", kind="input")
    return {"search_radius_m": float(value)}


def _too_many(n: int, max_sites: int) -> Problem:
    return Problem(
        413,
        f"{n:,} sites in one request; at most {max_sites:,} here (send more as a job: POST /jobs)",
        kind="too-many-sites",
        limit=max_sites,
    )


def _geojson_sites(geo, crs, id_field, name_field, attributes, max_sites: int):
    """Read a GeoJSON object as ``zoning screen`` reads a GeoJSON file."""
    from ..sites import load_sites

    kind = geo.get("type") if isinstance(geo, dict) else None
    if kind == "FeatureCollection":
        features = geo.get("features")
        if not isinstance(features, list):
            raise Problem(422, "sites: a FeatureCollection needs a 'features' array", kind="input")
        if len(features) > max_sites:
            raise _too_many(len(features), max_sites)
        if not features:
            raise Problem(422, "sites: no sites (the FeatureCollection is empty)", kind="input")
    elif kind not in ("Feature", *GEOMETRY_TYPES):
        raise Problem(
            422,
            "sites: must be a GeoJSON Feature, FeatureCollection or geometry object",
            kind="input",
        )
    point = _single_point(geo) if crs is None else None
    if point is not None:
        # One bare point (a map click, a drawn marker): read as --point with EPSG:4326, which
        # gives the same sites, notes and provenance as the GeoJSON file (tested) without
        # three GDAL opens.  An error is left to the file reader, whose line names "sites".
        from ..errors import ZoningError

        try:
            sites = load_sites(
                points=[point],
                crs="EPSG:4326",
                id_field=id_field,
                name_field=name_field,
                attributes=attributes,
            )
            return replace(sites, source=SITES_LABEL)
        except ZoningError:
            pass
    geo = _flat_properties(geo)
    with tempfile.TemporaryDirectory(prefix="zoning-request-") as tmp:
        path = Path(tmp) / "sites.geojson"
        path.write_text(json.dumps(geo, ensure_ascii=False), encoding="utf-8")
        try:
            sites = load_sites(
                str(path), crs=crs, id_field=id_field, name_field=name_field, attributes=attributes
            )
        except Exception as exc:
            # The temporary path never reaches the client: the GeoJSON is called "sites".
            exc.args = (str(exc).replace(str(path), SITES_LABEL).replace(tmp, SITES_LABEL),)
            raise
    notes = [note.replace(str(path), SITES_LABEL) for note in sites.notes]
    return replace(sites, source=SITES_LABEL, notes=notes)


def _single_point(geo: dict) -> tuple[float, float] | None:
    """(lon, lat) when ``geo`` is one Point (bare, or a Feature without id or properties)
    with two finite coordinates and nothing else; else None."""
    if geo.get("type") == "Feature":
        if set(geo) - {"type", "geometry", "properties"} or geo.get("properties"):
            return None
        geo = geo.get("geometry")
    if (
        not isinstance(geo, dict)
        or geo.get("type") != "Point"
        or set(geo) != {"type", "coordinates"}
    ):
        return None
    xy = geo["coordinates"]
    if (
        isinstance(xy, list)
        and len(xy) == 2
        and all(type(v) in (int, float) and math.isfinite(v) for v in xy)
    ):
        return float(xy[0]), float(xy[1])
    return None


def _flat_properties(geo: dict) -> dict:
    """Feature properties a file's columns can hold: a list of texts or numbers becomes the
    texts joined with ``;`` (as a ``facility`` column holds them); an object is refused."""
    features = geo.get("features") if geo.get("type") == "FeatureCollection" else [geo]
    if not isinstance(features, list):
        return geo
    out = []
    for i, feature in enumerate(features, start=1):
        props = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(props, dict) or not any(
            isinstance(v, dict | list) for v in props.values()
        ):
            out.append(feature)
            continue
        flat = {}
        for key, value in props.items():
            if isinstance(value, list) and all(
                v is None or isinstance(v, str | int | float) for v in value
            ):
                value = ";".join(str(v) for v in value if v is not None) or None
            elif isinstance(value, dict | list):
                raise Problem(
                    422,
                    f"sites, feature {i}, property {key!r}: holds "
                    f"{'an object' if isinstance(value, dict) else 'nested arrays'}; give a "
                    "text, a number or true/false (a list of texts for facility)",
                    kind="input",
                )
            flat[key] = value
        out.append({**feature, "properties": flat})
    if geo.get("type") == "FeatureCollection":
        return {**geo, "features": out}
    return out[0]


def _inline_sites(kind, value, crs, id_field, name_field, attributes, max_sites: int):
    """``point`` / ``points`` / ``wkt``: as ``--point`` / ``--wkt``."""
    from ..sites import load_sites

    if kind == "point":
        items = [value]
    elif isinstance(value, list) and (kind == "points" or not isinstance(value, str)):
        items = value
    elif isinstance(value, str) and kind == "wkt":
        items = [value]
    else:
        raise Problem(422, f"{kind}: must be an array", kind="input")
    if len(items) > max_sites:
        raise _too_many(len(items), max_sites)
    if kind == "wkt":
        if not all(isinstance(t, str) for t in items):
            raise Problem(422, "wkt: must be a string or an array of strings", kind="input")
        return load_sites(
            wkt=items, crs=crs, id_field=id_field, name_field=name_field, attributes=attributes
        )
    for i, item in enumerate(items):
        if not isinstance(item, str | list) or (isinstance(item, list) and len(item) != 2):
            where = kind if kind == "point" else f"point {i + 1}"
            raise Problem(422, f'{where}: give [lon, lat] or "LON,LAT"', kind="input")
    return load_sites(
        points=items, crs=crs, id_field=id_field, name_field=name_field, attributes=attributes
    )


def api_words(message: str, kind: str = "sites") -> str:
    """A sites error in the words of the request: options are members of the body.

    ``crs= / --crs`` -> ``crs``; ``option industry:`` -> ``attributes.industry:``; ``the
    option linear=False`` -> ``attributes.linear false``; inline sites ``points:`` ->
    ``point:`` (or ``points:``), ``wkt=`` -> ``wkt``.

    Parameters
    ----------
    message : str
        The error's line, as :func:`zoning.load_sites` raised it.
    kind : {"sites", "point", "points", "wkt"}
        The member the sites came from.

    Returns
    -------
    str
    """

    def option(m: re.Match) -> str:
        value = {"True": "true", "False": "false"}.get(m[2], m[2])
        return f"attributes.{m[1]} {value}"

    message = re.sub(r"^option (\w+):", r"attributes.\1:", message)
    if kind in ("point", "points"):
        message = re.sub(r"^points:", f"{kind}:", message)
    message = re.sub(r"\bthe option (\w+)=('[^']*'|True|False)", option, message)
    return (
        message.replace("crs= / --crs", "crs")
        .replace("wkt= / --wkt", "wkt")
        .replace("dxf_layer= / --dxf-layer", "dxf_layer")
        .replace("encoding=", "encoding")
        .replace("layer=", "layer")
    )
