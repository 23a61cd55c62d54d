"""The JSON API: ``POST /screen``, ``GET /layers``, ``GET /rules``, ``GET /health``.

``POST /screen`` reads its body within the size limit (:func:`~zoning.service.security.read_body`),
then reads the sites and screens in a worker thread (the event loop never waits on the
screening; :meth:`~zoning.service.state.ServiceState.screen` runs one screening at a time per
process).  The JSON answer is ``screening.json``'s (:mod:`~zoning.service.serialize`);
``?format=pdf|docx|xlsx|zip`` answers with the documents ``zoning screen --out`` writes.
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any, Literal

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from .._version import __version__
from .payload import BODY_MEMBERS, check_media_type, parse_json, parse_screen_body
from .problems import PROBLEM_RESPONSES, Problem
from .security import read_body
from .serialize import (
    DOCUMENT_FORMATS,
    demonstration_members,
    document,
    json_response,
    record_request,
    result_json,
)

router = APIRouter(tags=["screening"])

#: The request body of ``POST /screen``, for the OpenAPI document (the body is read by
#: :func:`~zoning.service.payload.parse_screen_body`, which says the rules).
SCREEN_BODY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": (
        "The sites and the project's attributes, as `zoning screen` takes them. Give the "
        "sites as `sites` (GeoJSON, WGS84), `point` / `points` or `wkt` (these need `crs`). "
        "A bare GeoJSON Feature, FeatureCollection or geometry is accepted as the whole body."
    ),
    "properties": {
        "sites": {
            "type": "object",
            "description": "GeoJSON Feature, FeatureCollection or geometry; properties are "
            "attributes (id, name, industry, nature ... or 编号, 项目名称, 行业代码 ...)",
        },
        "point": {
            "description": "[lon, lat] or 'LON,LAT' (needs crs)",
            "oneOf": [
                {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
                {"type": "string"},
            ],
        },
        "points": {"type": "array", "description": "several points (needs crs)"},
        "wkt": {
            "description": "WKT, or a list of WKT (needs crs)",
            "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
        },
        "crs": {
            "type": "string",
            "description": "EPSG:4326 for GPS/WGS84, gcj02 for Amap/Tencent, bd09 for Baidu, "
            "EPSG:4490, EPSG:4549 ...",
        },
        "attributes": {
            "type": "object",
            "description": "Attributes of every site, as the command line's options: "
            "industry (GB/T 4754 code), nature (new|expansion|rebuild|relocation), linear, "
            "wastewater, air, hazardous, two_high, key_project, residential_building, noise "
            "(true/false), discharge (none|sewer|direct), red_line_activity (none|1..10), "
            "facility (list of codes)",
        },
        "as_of": {
            "type": "string",
            "format": "date",
            "description": "YYYY-MM-DD; default today in Shanghai",
        },
        "search_radius_m": {"type": "number", "minimum": 0},
        "id_field": {"type": "string"},
        "name_field": {"type": "string"},
    },
    "additionalProperties": False,
    "example": {
        "point": [121.4737, 31.2304],
        "crs": "EPSG:4326",
        "attributes": {"industry": "C2614", "nature": "new"},
    },
}
assert set(SCREEN_BODY_SCHEMA["properties"]) == set(BODY_MEMBERS)

_DOCUMENT_CONTENT = {
    media: {"schema": {"type": "string", "format": "binary"}}
    for _, media in DOCUMENT_FORMATS.values()
}


def state_of(request: Request):
    """The :class:`~zoning.service.state.ServiceState` of the request's application.

    Parameters
    ----------
    request : Request

    Returns
    -------
    ServiceState
    """
    return request.app.state.zoning


def _day(as_of: str | None) -> date:
    """A query's ``as_of`` (default today in Shanghai), as ``--as-of`` reads it."""
    from ..dates import parse_date, today

    if as_of is None:
        return today()
    try:
        return parse_date(as_of)
    except ValueError as exc:
        raise Problem(422, f"as_of: {exc} (e.g. 2026-04-01)", kind="input") from None


@router.post(
    "/screen",
    summary="Screen sites: verdict, reasons, clause table, hits and provenance",
    description=(
        "The same screening as `zoning screen` on the same input: the JSON of its "
        "`screening.json`, with `demonstration` (true/false) and its bilingual `notice` "
        "first. `?format=pdf|docx|xlsx` answers with the run's screening.pdf / .docx / .xlsx, "
        "`?format=zip` with everything `zoning screen --out` writes. Errors are RFC 9457 "
        "problem details carrying the command line's one-line message."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": SCREEN_BODY_SCHEMA},
                "application/geo+json": {"schema": SCREEN_BODY_SCHEMA},
            },
        }
    },
    responses={
        200: {
            "description": "screening.json, or the document asked for",
            "content": {"application/json": {"schema": {"type": "object"}}, **_DOCUMENT_CONTENT},
        },
        **PROBLEM_RESPONSES,
    },
)
async def screen(
    request: Request,
    fmt: Literal["json", "pdf", "docx", "xlsx", "zip"] = Query(
        "json", alias="format", description="json (default), pdf, docx, xlsx or zip"
    ),
    lang: Literal["both", "zh", "en"] = Query(
        "both", description="Language of the documents' headings and of the report"
    ),
) -> Response:
    """Screen the request's sites (see :mod:`zoning.service.payload` for the body).

    Parameters
    ----------
    request : Request
    fmt : {"json", "pdf", "docx", "xlsx", "zip"}
        The ``format`` query parameter.
    lang : {"both", "zh", "en"}

    Returns
    -------
    Response
    """
    check_media_type(request.headers.get("content-type"))
    limits = request.app.state.limits
    raw = await read_body(request, limits.max_body_bytes)
    state = state_of(request)
    if fmt == "json":
        return await run_in_threadpool(_screen, state, raw, fmt, lang, limits.max_screen_sites)
    gate = _documents_gate(request.app, limits.documents_at_once)
    try:  # waiting holds no worker thread
        with anyio.fail_after(limits.documents_wait_seconds):
            await gate.acquire()
    except TimeoutError:
        raise Problem(
            503,
            f"{limits.documents_at_once} documents are being built; try again shortly",
            kind="busy",
            headers={"Retry-After": "30"},
        ) from None
    try:
        return await run_in_threadpool(_screen, state, raw, fmt, lang, limits.max_document_sites)
    finally:
        gate.release()


def _documents_gate(app, at_once: int) -> anyio.Semaphore:
    """The application's bound on document requests built at once."""
    gate = getattr(app.state, "documents_gate", None)
    if gate is None:
        gate = app.state.documents_gate = anyio.Semaphore(at_once)
    return gate


def run_screen(state, body: Any, *, max_sites: int, raw: bytes | None = None):
    """Screen a decoded request body as ``POST /screen`` does (for the OGC process and jobs).

    Parameters
    ----------
    state : ServiceState
    body : object
        The decoded JSON (see :mod:`zoning.service.payload`).
    max_sites : int
        More sites is a 413 problem.
    raw : bytes, optional
        The body as received, hashed into ``provenance.input.sha256``.

    Returns
    -------
    zoning.ScreeningResult
        Its provenance records the request's options; :func:`~.serialize.result_json` gives
        the answer.

    Raises
    ------
    Problem
        422 / 413 with the command line's line.
    ZoningError
        From the screening (no layer or rule in force that day ...).
    """
    asked = parse_screen_body(body, max_sites=max_sites)
    result = state.screen(asked.sites, as_of=asked.as_of, **asked.options)
    record_request(result, asked.record, raw)
    return result


def _screen(state, raw: bytes, fmt: str, lang: str, max_sites: int) -> Response:
    """Read, screen and answer (in a worker thread)."""
    if fmt != "json":
        from .._optional import MissingDependencyError
        from ..documents import check_dependencies

        try:  # before the screening: a missing extra is one line
            check_dependencies(["pdf", "docx", "xlsx"] if fmt == "zip" else [fmt])
        except MissingDependencyError as exc:
            raise Problem(501, str(exc), kind="missing-extra") from None
    result = run_screen(state, parse_json(raw), max_sites=max_sites, raw=raw)
    if fmt == "json":
        return json_response(result_json(result))
    content, name, media = document(result, fmt, lang=lang)
    return Response(
        content,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/layers",
    summary="The layer catalog: each layer's provenance, vintage, validity and hash",
    responses=PROBLEM_RESPONSES,
)
def layers(
    request: Request,
    as_of: str | None = Query(
        None, description="YYYY-MM-DD: the day whose layers are in force (default today)"
    ),
) -> Response:
    """Every layer of the catalog (all vintages) and whether it is in force on ``as_of``.

    Parameters
    ----------
    request : Request
    as_of : str, optional

    Returns
    -------
    Response
        JSON: ``demonstration``, ``notice``, ``as_of``, ``catalog`` and ``layers`` (``id``,
        ``kind``, titles, ``status``, ``demonstration``, ``vintage``, ``valid_from``, ``valid_to``,
        ``in_force``, ``sha256``, ``features`` ...).
    """
    return json_response(state_of(request).layers_info(_day(as_of)))


@router.get(
    "/rules",
    summary="The rule set: its documents and rules with the days they are in force",
    responses=PROBLEM_RESPONSES,
)
def rules(
    request: Request,
    as_of: str | None = Query(
        None, description="YYYY-MM-DD: the day whose law is in force (default today)"
    ),
) -> Response:
    """The rule set, its documents and rules, each marked in force on ``as_of`` or not.

    Parameters
    ----------
    request : Request
    as_of : str, optional

    Returns
    -------
    Response
        JSON: ``demonstration``, ``notice``, ``as_of``, ``rule_set`` (``id``, ``version``,
        ``status``, ``hash`` ...), ``documents``, ``lists`` and ``rules`` (``id``, ``list``,
        ``document``, ``article``, ``valid_from``, ``valid_to``, ``in_force``).
    """
    return json_response(state_of(request).rules_info(_day(as_of)))


@router.get("/health", summary="Whether the service is up, and what it screens against")
def health(request: Request) -> Response:
    """Liveness and what was loaded: layers, rule set, how long loading took, uptime.

    Parameters
    ----------
    request : Request

    Returns
    -------
    Response
        JSON: ``status`` ("ok"), ``version``, ``layers``, ``rule_set``, ``as_of_default``
        (today in Shanghai: the day of a request without ``as_of``),
        ``load_seconds``, ``uptime_seconds``, ``limits``, ``demonstration`` (true/false) and
        ``notice`` (the bilingual notice or null).
    """
    state = state_of(request)
    limits = request.app.state.limits
    return json_response(
        {
            "status": "ok",
            "version": __version__,
            **demonstration_members(state.is_demonstration),
            "layers": len(state.layers),
            "rule_set": {"id": state.rules.id, "version": state.rules.version},
            "as_of_default": _day(None).isoformat(),
            "load_seconds": round(state.load_seconds, 3),
            "uptime_seconds": round(time.time() - state.started, 1),
            "limits": {
                "max_body_bytes": limits.max_body_bytes,
                "max_screen_sites": limits.max_screen_sites,
                "max_document_sites": limits.max_document_sites,
            },
        }
    )
