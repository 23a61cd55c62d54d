"""The ``screen`` process of the OGC API - Processes interface: its description, inputs, outputs.

The description follows OGC 18-062r2 (OGC API - Processes - Part 1: Core 1.0), requirements
class *OGC Process Description*: every input and output carries a JSON Schema in the
OpenAPI 3.0 dialect the standard's ``schema.yaml`` allows (one ``type`` word, ``enum`` rather
than ``const``), GeoJSON inputs are marked with the standard's ``format`` words
(``geojson-feature-collection``, ``geojson-feature``, ``geojson-geometry``).

The inputs are those of ``POST /screen`` (and of ``zoning screen``): the sites as GeoJSON,
their CRS, the day, the search radius and the project attributes, one input each, so that an
OGC client can build a form from the description.  :func:`inputs_to_body` turns an execute
request's ``inputs`` into the body :func:`~zoning.service.payload.parse_screen_body` reads, so
the sites, attributes and errors are exactly those of ``POST /screen``.
"""

from __future__ import annotations

import json
from typing import Any

from .. import labels
from .._version import __version__
from ..schema import CHOICE_ATTRIBUTES, FACILITIES, FLAGS, NATURES, VERDICTS
from .payload import GEOMETRY_TYPES
from .serialize import DEMONSTRATION_NOTICE

#: The process's identifier.
PROCESS_ID = "screen"

#: What every description and result says when the layers or rules are the demonstration data.

#: GeoJSON object types an input ``sites`` may be.
GEOJSON_TYPES = frozenset({"FeatureCollection", "Feature", *GEOMETRY_TYPES})

_GEOMETRY_TYPES = sorted(GEOJSON_TYPES - {"FeatureCollection", "Feature"})


def _geojson(kind: str) -> dict[str, Any]:
    """A GeoJSON alternative of the ``sites`` schema, self-contained (no ``$ref`` to fetch).

    ``format`` is the standard's word for the kind (18-062r2 Table 13); the structure is
    RFC 7946's, as far as an OpenAPI 3.0 schema says it.
    """
    geometry = {
        "type": "object",
        "required": ["type"],
        "properties": {
            "type": {"type": "string", "enum": _GEOMETRY_TYPES},
            "coordinates": {"type": "array"},
            "geometries": {"type": "array", "items": {"type": "object"}},
        },
    }
    feature = {
        "type": "object",
        "required": ["type", "geometry"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "geometry": {**geometry, "nullable": True},
            "properties": {"type": "object", "nullable": True},
        },
    }
    collection = {
        "type": "object",
        "required": ["type", "features"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": feature},
        },
    }
    schema, fmt = {
        "FeatureCollection": (collection, "geojson-feature-collection"),
        "Feature": (feature, "geojson-feature"),
        "Geometry": (geometry, "geojson-geometry"),
    }[kind]
    return {**schema, "format": fmt}


def _attribute(code: str) -> tuple[str, str]:
    """(title, description) of a project attribute, bilingual, from :mod:`zoning.labels`."""
    zh, en, cli = labels.ATTRIBUTE_LABELS[code]
    return f"{en} ({zh})", (
        f"{en[0].upper()}{en[1:]}; {zh}.  Applies to every site unless a feature's "
        f"properties give it (the command line's {cli})."
    )


def _input(title: str, description: str, schema: dict[str, Any], *, required: bool = False):
    """One input description (``inputDescription.yaml``)."""
    return {
        "title": title,
        "description": description,
        "minOccurs": 1 if required else 0,
        "maxOccurs": 1,
        "schema": schema,
    }


def _inputs() -> dict[str, dict[str, Any]]:
    """Every input of the process, in the order a form would show them."""
    inputs: dict[str, dict[str, Any]] = {
        "sites": _input(
            "Sites (场址)",
            "The sites to screen as GeoJSON: a FeatureCollection, a Feature or a bare "
            "geometry.  Feature properties are the sites' attributes, with the same names and "
            "Chinese aliases as a file's columns (id, name, industry, nature ...).  Pass it "
            'inline, or as a qualified value {"value": <GeoJSON>, "mediaType": '
            '"application/geo+json"}; inputs by reference (href) are refused: the service '
            "fetches nothing.",
            {
                "oneOf": [
                    _geojson("FeatureCollection"),
                    _geojson("Feature"),
                    _geojson("Geometry"),
                ]
            },
            required=True,
        ),
        "crs": _input(
            "CRS of the coordinates (坐标系)",
            "The coordinate reference system of the sites, as zoning screen --crs takes it: "
            "EPSG:4326, EPSG:4490, a Gauss-Krüger EPSG code ..., or gcj02 / bd09 for "
            "coordinates copied from Chinese web maps (Amap, Tencent, Baidu).  Default: "
            "EPSG:4326, as GeoJSON (RFC 7946) is.",
            {"type": "string", "default": "EPSG:4326"},
        ),
        "as_of": _input(
            "As of (研判日期)",
            "The day whose law, rules and layers apply (YYYY-MM-DD).  Default: today in Shanghai.",
            {"type": "string", "format": "date"},
        ),
        "search_radius_m": _input(
            "Search radius, m (搜索半径)",
            "Report features within this distance of a site as nearby (metres).  Default: "
            "the layers' own buffer rings.",
            {"type": "number", "minimum": 0},
        ),
    }
    title, text = _attribute("industry")
    inputs["industry"] = _input(
        title,
        text + "  A code of 2 to 4 digits with an optional section letter: C2614, 2614, 26.",
        {"type": "string", "pattern": "^\\s*[A-Za-z]?\\s*\\d{2,4}\\s*$"},
    )
    title, text = _attribute("nature")
    inputs["nature"] = _input(title, text, {"type": "string", "enum": list(NATURES)})
    for code in FLAGS:
        title, text = _attribute(code)
        inputs[code] = _input(title, text, {"type": "boolean"})
    for code, allowed in CHOICE_ATTRIBUTES.items():
        title, text = _attribute(code)
        if code == "facility":
            words = ["none", *FACILITIES]
            schema = {
                "oneOf": [
                    {"type": "string", "enum": words},
                    {"type": "array", "items": {"type": "string", "enum": words}},
                ]
            }
        else:
            schema = {"type": "string", "enum": list(allowed)}
        inputs[code] = _input(title, text, schema)
    return inputs


#: The inputs (``id`` -> ``inputDescription``).
INPUTS = _inputs()

#: The JSON type an input's value must have: ``object`` (GeoJSON), ``string``, ``number``,
#: ``boolean``, or ``strings`` (a string or an array of strings).
INPUT_TYPES = {
    "sites": "object",
    "crs": "string",
    "as_of": "string",
    "search_radius_m": "number",
    "industry": "string",
    "nature": "string",
    **dict.fromkeys(FLAGS, "boolean"),
    "discharge": "string",
    "red_line_activity": "string",
    "facility": "strings",
}

#: The inputs that are project attributes (``attributes`` of ``POST /screen``).
ATTRIBUTE_INPUTS = ("industry", "nature", *FLAGS, *CHOICE_ATTRIBUTES)

#: The outputs (``id`` -> ``outputDescription``); both are JSON.
OUTPUTS: dict[str, dict[str, Any]] = {
    "screening": {
        "title": "Screening (研判结果)",
        "description": "The whole screening as POST /screen returns it (what zoning screen "
        "writes as screening.json): provenance, notes, sites with their verdicts, hits, "
        "layer summary, reasons and the clause table (符合性分析).",
        "schema": {
            "type": "object",
            "contentMediaType": "application/json",
            "required": ["provenance", "sites", "hits", "reasons", "clauses"],
            "properties": {
                "provenance": {"type": "object"},
                "notes": {"type": "array", "items": {"type": "string"}},
                "sites": {"type": "array", "items": {"type": "object"}},
                "hits": {"type": "array", "items": {"type": "object"}},
                "layer_summary": {"type": "array", "items": {"type": "object"}},
                "reasons": {"type": "array", "items": {"type": "object"}},
                "clauses": {"type": "array", "items": {"type": "object"}},
            },
        },
    },
    "verdict": {
        "title": "Verdict only (研判结论)",
        "description": "The most severe verdict of the sites, the count of each verdict, "
        "each site's verdict and its most severe reasons, and whether the data are the "
        "demonstration data.",
        "schema": {
            "type": "object",
            "contentMediaType": "application/json",
            "required": ["verdict", "counts", "sites", "demonstration"],
            "properties": {
                "verdict": {"type": "string", "enum": list(VERDICTS)},
                "verdict_zh": {"type": "string"},
                "verdict_en": {"type": "string"},
                "counts": {"type": "object"},
                "sites": {"type": "array", "items": {"type": "object"}},
                "demonstration": {"type": "boolean"},
                "notice": {"type": "string", "nullable": True},
            },
        },
    },
}

#: Media type of every output.
OUTPUT_MEDIA_TYPE = "application/json"


def process_summary(state: Any, links: list[dict[str, Any]]) -> dict[str, Any]:
    """The process's summary (``processSummary.yaml``), as ``GET /processes`` lists it.

    Parameters
    ----------
    state : ServiceState
        What the service screens against (for the rule set and the demonstration notice).
    links : list of dict
        The summary's links (description, execution).

    Returns
    -------
    dict
    """
    demonstration = bool(state.is_demonstration)
    description = (
        "Screen project sites against Shanghai's ecological zoning (生态环境分区管控准入研判): "
        "red line, development boundary, permanent farmland, drinking-water sources, the "
        "三线一单 control units and their access lists, as of a day.  The same screening as "
        f"POST /screen and zoning screen, rule set {state.rules.id} {state.rules.version}."
    )
    if demonstration:
        description += "  " + DEMONSTRATION_NOTICE
    return {
        "id": PROCESS_ID,
        "title": "Ecological zoning screening (生态环境分区管控研判)",
        "description": description,
        "version": __version__,
        "keywords": ["zoning", "screening", "生态环境分区管控", "三线一单", "Shanghai"],
        "jobControlOptions": ["sync-execute"],
        "outputTransmission": ["value"],
        "demonstration": demonstration,
        "links": links,
    }


def process_description(state: Any, links: list[dict[str, Any]]) -> dict[str, Any]:
    """The process's description (``process.yaml``), as ``GET /processes/screen`` gives it.

    Parameters
    ----------
    state : ServiceState
    links : list of dict

    Returns
    -------
    dict
        The summary with ``inputs`` and ``outputs``.
    """
    description = process_summary(state, links)
    description["inputs"] = json.loads(json.dumps(INPUTS))
    description["outputs"] = json.loads(json.dumps(OUTPUTS))
    return description


class InputError(ValueError):
    """An execute request's inputs that do not fit the description (answered 400).

    Parameters
    ----------
    message : str
        One line naming the input.
    code : str
        The OGC exception code: ``InvalidParameterValue`` or ``MissingParameterValue``.
    """

    def __init__(self, message: str, code: str = "InvalidParameterValue"):
        super().__init__(message)
        self.code = code


def _json_type(value: Any) -> str:
    """The JSON type word of a decoded value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _unwrap(name: str, value: Any) -> Any:
    """An input's value: a qualified value's ``value``, a reference refused, GeoJSON as is."""
    if isinstance(value, dict) and not (name == "sites" and value.get("type") in GEOJSON_TYPES):
        if "href" in value and "value" not in value:
            raise InputError(
                f"{name}: inputs by reference (href) are not accepted; give the value inline"
            )
        if "value" in value:
            inner = value["value"]
            media = str(value.get("mediaType") or "")
            if name == "sites" and isinstance(inner, str) and "json" in (media or "json"):
                try:
                    inner = json.loads(inner)
                except ValueError as exc:
                    raise InputError(f"sites: the value is not JSON ({exc})") from None
            return inner
    return value


def _geometry_problem(geometry: Any) -> str | None:
    """What makes ``geometry`` no GeoJSON geometry (RFC 7946 3.1), or None."""
    if not isinstance(geometry, dict) or geometry.get("type") not in _GEOMETRY_TYPES:
        kind = geometry.get("type") if isinstance(geometry, dict) else _json_type(geometry)
        return f"is not a GeoJSON geometry (type {kind!r})"
    member = "geometries" if geometry["type"] == "GeometryCollection" else "coordinates"
    if not isinstance(geometry.get(member), list):
        return f"(a {geometry['type']}) has no '{member}' array"
    return None


def _check_geojson(sites: dict[str, Any]) -> None:
    """Refuse ``sites`` whose structure is not the description's (RFC 7946), naming the part.

    The coordinates themselves are read, and refused with the command line's words, when the
    sites are loaded.
    """
    kind = sites["type"]
    if kind == "FeatureCollection":
        features = sites.get("features")
        if not isinstance(features, list):
            raise InputError("sites: a FeatureCollection needs a 'features' array")
        where = [(f"feature {i}", feature) for i, feature in enumerate(features, start=1)]
    elif kind == "Feature":
        where = [("feature 1", sites)]
    else:
        problem = _geometry_problem(sites)
        if problem:
            raise InputError(f"sites: the geometry {problem}")
        return
    for label, feature in where:
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            kind = feature.get("type") if isinstance(feature, dict) else _json_type(feature)
            raise InputError(f"sites: {label} is not a GeoJSON Feature (type {kind!r})")
        properties = feature.get("properties")
        if properties is not None and not isinstance(properties, dict):
            raise InputError(f"sites: {label}: 'properties' must be an object or null")
        geometry = feature.get("geometry")
        problem = None if geometry is None else _geometry_problem(geometry)
        if problem:
            raise InputError(f"sites: {label}: the geometry {problem}")


def _check_type(name: str, value: Any) -> None:
    """Refuse a value whose JSON type is not the input's."""
    want, got = INPUT_TYPES[name], _json_type(value)
    if want == "object":
        if got != "object" or value.get("type") not in GEOJSON_TYPES:
            raise InputError(
                "sites: must be a GeoJSON FeatureCollection, Feature or geometry"
                f" (got {got if got != 'object' else repr(value.get('type'))})"
            )
        _check_geojson(value)
    elif want == "strings":
        if not (got == "string" or (got == "array" and all(isinstance(v, str) for v in value))):
            raise InputError(f"{name}: must be a string or an array of strings (got {got})")
    elif got != want:
        raise InputError(f"{name}: must be a {want} (got {got} {json.dumps(value)[:60]})")


def inputs_to_body(inputs: Any) -> dict[str, Any]:
    """An execute request's ``inputs`` as the body of ``POST /screen``.

    Parameters
    ----------
    inputs : object
        The decoded ``inputs`` member: input id -> value (inline, or a qualified value
        ``{"value": ..., "mediaType": ...}``).

    Returns
    -------
    dict
        ``sites``, ``crs``, ``as_of``, ``search_radius_m`` and ``attributes``, as
        :func:`~zoning.service.payload.parse_screen_body` reads them.

    Raises
    ------
    InputError
        An unknown input, a value of the wrong type, more than one value, a reference, or no
        ``sites``.
    """
    if not isinstance(inputs, dict):
        raise InputError("'inputs' must be an object: input id -> value")
    unknown = sorted(set(inputs) - set(INPUTS))
    if unknown:
        raise InputError(f"unknown input {unknown[0]!r}; the process takes: {', '.join(INPUTS)}")
    if "sites" not in inputs or inputs["sites"] is None:
        raise InputError("missing input 'sites' (GeoJSON)", code="MissingParameterValue")
    body: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    for name, raw in inputs.items():
        value = _unwrap(name, raw)
        if isinstance(value, list) and INPUT_TYPES[name] != "strings":
            if len(value) != 1:
                raise InputError(f"{name}: takes one value (got {len(value)})")
            value = _unwrap(name, value[0])
        if value is None:
            continue
        _check_type(name, value)
        if name == "search_radius_m" and value < 0:
            raise InputError(f"search_radius_m: must be 0 or more (got {value})")
        if name in ATTRIBUTE_INPUTS:
            attributes[name] = value
        else:
            body[name] = value
    if attributes:
        body["attributes"] = attributes
    return body


def verdict_output(result: Any) -> dict[str, Any]:
    """The ``verdict`` output: the worst verdict, the counts, each site's verdict and reasons.

    Parameters
    ----------
    result : zoning.ScreeningResult

    Returns
    -------
    dict
    """
    sites = result.sites
    worst = result.worst()
    zh, en = labels.VERDICT_LABELS[worst]
    columns = [c for c in ("site_id", "name", "verdict", "reasons_en", "reasons_zh") if c in sites]
    rows = sites[columns].astype(object).where(sites[columns].notna(), None)
    demonstration = bool(result.is_demonstration)
    return {
        "verdict": worst,
        "verdict_zh": zh,
        "verdict_en": en,
        "counts": result.verdict_counts(),
        "sites": rows.to_dict(orient="records"),
        "demonstration": demonstration,
        "notice": DEMONSTRATION_NOTICE if demonstration else None,
    }
