"""The screening as an OGC API - Processes process (OGC 18-062r2, Part 1: Core 1.0).

OGC clients (QGIS, OWSLib, the OGC test suite ...) discover and run the screening here:

* ``GET /conformance``: the requirements classes *core*, *json* and *ogc-process-description*;
* ``GET /processes``: the process list (one process, ``screen``);
* ``GET /processes/screen``: its description, every input and output with a JSON Schema;
* ``POST /processes/screen/execution``: synchronous execution, ``response`` ``raw`` (the
  default: one output's value as the body, several as ``multipart/related``) or ``document``
  (a results document), outputs chosen by ``outputs`` with ``transmissionMode`` ``value``;
* ``GET /ogc``: the OGC landing page (JSON).  The service's ``/`` is the web page, so the same
  interface is also served whole under ``/ogc`` (``/ogc/conformance``, ``/ogc/processes`` ...):
  an OGC client given ``http://host:port/ogc`` finds the landing page at the API's root, as the
  standard asks; given ``http://host:port`` it finds ``/conformance`` and ``/processes``.

Errors are OGC exceptions, which are RFC 7807/9457 problem details (``type``, ``title``,
``status``, ``detail``, ``instance``) with the OGC exception code in ``code``:
``http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/no-such-process`` (404) for an
unknown process; bad input answers 400 with the same one line ``POST /screen`` and the command
line give (type ``urn:zoning:problem:input``: Part 1 defines no URI for it).

Only synchronous execution is offered (``jobControlOptions: [sync-execute]``): ``/jobs`` is the
service's own job API for uploads of many sites (``POST /jobs``), whose paths an OGC job list
would share, and one request's sites are limited (:class:`~zoning.service.security.Limits`)
so that a synchronous answer stays quick.  ``Prefer: respond-async`` is therefore answered
synchronously, without ``Preference-Applied`` (RFC 7240 lets a server ignore a preference).

Why written here and not pygeoapi's process plugins
---------------------------------------------------
pygeoapi 0.21 (the newest the package index offered) was tried first, driving
``pygeoapi.api.processes.describe_processes`` / ``execute_process`` from these routes with
an in-memory configuration and a ``BaseProcessor`` subclass.  It works, but:

* its errors are ``{"code": "NoSuchProcess", "type": "NoSuchProcess", "description": ...}``:
  not the OGC exception URIs and not RFC 9457, so every error would be rewritten; a
  processor's failure always answers 400 as ``"Error executing process: <message>"`` with a
  traceback logged at ERROR for each bad input, where the service answers one clean line;
* constructing ``pygeoapi.api.API`` calls ``logging.basicConfig`` (a root handler on stdout)
  and rewrites module-level tables (``FORMAT_TYPES``, ``CHARSET``): global side effects in
  the service's process;
* the processor is instantiated by import path on each request, so the warm
  :class:`~zoning.service.state.ServiceState` could only reach it through the configuration
  dictionary; its links point to ``/jobs`` (the service's job API here) and to ``?f=html``
  pages the service does not serve;
* it installs Flask and Werkzeug (unused: the service is FastAPI), Babel (36 MB), dateparser,
  regex, tinydb, pygeofilter, lark ...: about 59 MB, and 0.44 s more import time.

What would remain of it is the JSON skeleton of two documents.  The other FastAPI-based
packages were no better fit: ``fastprocesses`` pins an older FastAPI and Starlette and needs
Celery and Redis; ``wraptile`` is a whole application with a module-level app and service
singleton.  So the few endpoints are written here, following the standard's schemas
(``confClasses``, ``processList``, ``process``, ``execute``, ``results``, ``exception``).
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from ..errors import ZoningError, clip
from . import ogc_process as process
from .problems import TITLES, Problem
from .security import read_body

router = APIRouter(tags=["OGC API - Processes"])
_routes = APIRouter()

_SPEC = "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/"
#: The requirements classes the interface conforms to.
CONFORMANCE = [_SPEC + "core", _SPEC + "json", _SPEC + "ogc-process-description"]

_EXCEPTIONS = "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/"
#: Exception type of an unknown process (OGC 18-062r2, 7.10.3).
NO_SUCH_PROCESS = _EXCEPTIONS + "no-such-process"
#: Link relations of the OGC link-relation register.
REL_EXECUTE = "http://www.opengis.net/def/rel/ogc/1.0/execute"
REL_PROCESSES = "http://www.opengis.net/def/rel/ogc/1.0/processes"
REL_CONFORMANCE = "http://www.opengis.net/def/rel/ogc/1.0/conformance"

_JSON = "application/json"
#: The media type of an exception (OGC exceptions are RFC 9457 problem details).
EXCEPTION_MEDIA_TYPE = "application/problem+json"


class OgcException(Exception):
    """An error to answer as an OGC exception.

    Parameters
    ----------
    status : int
        The HTTP status.
    detail : str
        One line for a person.
    type_ : str
        The exception type URI.
    code : str
        The OGC exception code (``NoSuchProcess``, ``InvalidParameterValue`` ...).
    """

    def __init__(self, status: int, detail: str, type_: str, code: str):
        super().__init__(detail)
        self.status, self.detail, self.type, self.code = status, detail, type_, code


def exception_response(request: Request, exc: OgcException) -> JSONResponse:
    """An OGC exception document (``exception.yaml``; RFC 9457 problem details).

    Parameters
    ----------
    request : Request
    exc : OgcException

    Returns
    -------
    JSONResponse
    """
    body = {
        "type": exc.type,
        "title": TITLES.get(exc.status, "Error"),
        "status": exc.status,
        "detail": clip(" ".join(str(exc.detail).split()), 600),
        "instance": request.url.path,
        "code": exc.code,
    }
    return JSONResponse(body, status_code=exc.status, media_type=EXCEPTION_MEDIA_TYPE)


def _invalid(detail: str, code: str = "InvalidParameterValue") -> OgcException:
    """A 400 for bad input, typed as ``POST /screen`` types it."""
    return OgcException(400, detail, "urn:zoning:problem:input", code)


def _from_problem(problem: Problem) -> OgcException:
    """A service problem (422 bad input, 413 too large ...) as an OGC exception.

    ``POST /screen`` names a project attribute as a member of its body (``attributes.nature``);
    here it is an input of its own (``nature``), so the line names it so.
    """
    if problem.status == 422:
        return _invalid(re.sub(r"^attributes\.", "", str(problem.detail)))
    kind = problem.kind or "error"
    return OgcException(problem.status, problem.detail, f"urn:zoning:problem:{kind}", kind)


def _api_base(request: Request) -> str:
    """The root of the interface the request came through: the service's root or ``/ogc``."""
    base = str(request.base_url).rstrip("/")
    return base + "/ogc" if request.url.path.startswith("/ogc") else base


def _link(href: str, rel: str, title: str, type_: str = _JSON) -> dict[str, str]:
    """One link (``link.yaml``)."""
    return {"href": href, "rel": rel, "type": type_, "title": title}


def _check_format(request: Request) -> None:
    """Refuse ``f`` other than ``json``: the interface speaks JSON only."""
    f = request.query_params.get("f")
    if f is not None and f.lower() != "json":
        raise _invalid(f"f={f!r} is not offered; this interface answers f=json only")


def _known_process(process_id: str) -> None:
    """Refuse an unknown process id with the OGC ``no-such-process`` exception."""
    if process_id != process.PROCESS_ID:
        raise OgcException(
            404,
            f"no process {process_id!r}; the processes offered: {process.PROCESS_ID}",
            NO_SUCH_PROCESS,
            "NoSuchProcess",
        )


def _process_links(request: Request) -> list[dict[str, str]]:
    """The links of the process's summary and description."""
    href = f"{_api_base(request)}/processes/{process.PROCESS_ID}"
    return [
        _link(href, "self", "Process description"),
        _link(f"{href}/execution", REL_EXECUTE, "Execute the process (synchronous)"),
    ]


def landing_page(request: Request) -> dict[str, Any]:
    """The OGC landing page (``landingPage.yaml``) of the interface the request came through.

    Parameters
    ----------
    request : Request

    Returns
    -------
    dict
        ``title``, ``description`` and ``links`` to the API definition, its documentation,
        the conformance declaration and the process list.
    """
    base, root = _api_base(request), str(request.base_url).rstrip("/")
    state = request.app.state.zoning
    description = "Ecological zoning screening (生态环境分区管控准入研判) as OGC API - Processes."
    if state.is_demonstration:
        description += "  " + process.DEMONSTRATION_NOTICE
    app = request.app
    return {
        "title": "zoning screening service - OGC API - Processes",
        "description": description,
        "links": [
            _link(f"{base}", "self", "This document"),
            _link(
                f"{root}{app.openapi_url}",
                "service-desc",
                "The API definition (OpenAPI)",
                "application/vnd.oai.openapi+json;version=3.1",
            ),
            _link(f"{root}{app.docs_url}", "service-doc", "The API documentation", "text/html"),
            _link(f"{base}/conformance", REL_CONFORMANCE, "Conformance declaration"),
            _link(f"{base}/processes", REL_PROCESSES, "The processes offered"),
        ],
    }


async def _ogc(request: Request, handler, *args):
    """Run a route's handler, answering its OGC exceptions as exception documents."""
    try:
        _check_format(request)
        return await handler(request, *args)
    except OgcException as exc:
        return exception_response(request, exc)
    except Problem as problem:
        return exception_response(request, _from_problem(problem))


@router.get("/ogc", summary="OGC API - Processes landing page")
async def get_landing_page(request: Request) -> Any:
    """The OGC landing page.

    Parameters
    ----------
    request : Request

    Returns
    -------
    JSONResponse
    """

    async def handle(request: Request):
        return JSONResponse(landing_page(request))

    return await _ogc(request, handle)


@_routes.get("/conformance", summary="OGC API - Processes conformance declaration")
async def get_conformance(request: Request) -> Any:
    """The requirements classes the interface conforms to (``confClasses.yaml``).

    Parameters
    ----------
    request : Request

    Returns
    -------
    JSONResponse
    """

    async def handle(request: Request):
        return JSONResponse({"conformsTo": CONFORMANCE})

    return await _ogc(request, handle)


def _limit(request: Request) -> int:
    """The ``limit`` parameter of the process list (1-10000, default 10)."""
    text = request.query_params.get("limit")
    if text is None:
        return 10
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 10000:
        raise _invalid(f"limit={text!r}: give a whole number from 1 to 10000")
    return value


@_routes.get("/processes", summary="The processes offered (OGC API - Processes)")
async def get_processes(request: Request) -> Any:
    """The process list (``processList.yaml``): the ``screen`` process's summary.

    Parameters
    ----------
    request : Request

    Returns
    -------
    JSONResponse
    """

    async def handle(request: Request):
        limit = _limit(request)
        summary = process.process_summary(request.app.state.zoning, _process_links(request))
        base = _api_base(request)
        return JSONResponse(
            {
                "processes": [summary][:limit],
                "links": [_link(f"{base}/processes", "self", "This document")],
            }
        )

    return await _ogc(request, handle)


@_routes.get("/processes/{process_id}", summary="A process's description (OGC API - Processes)")
async def get_process(request: Request, process_id: str) -> Any:
    """The process description (``process.yaml``): inputs and outputs with JSON Schemas.

    Parameters
    ----------
    request : Request
    process_id : str

    Returns
    -------
    JSONResponse
    """

    async def handle(request: Request, process_id: str):
        _known_process(process_id)
        state = request.app.state.zoning
        return JSONResponse(process.process_description(state, _process_links(request)))

    return await _ogc(request, handle, process_id)


def _requested_outputs(outputs: Any) -> list[str]:
    """The outputs an execute request asks for (all when it names none), checked."""
    if outputs is None:
        return list(process.OUTPUTS)
    if not isinstance(outputs, dict):
        raise _invalid("'outputs' must be an object: output id -> {transmissionMode, format}")
    chosen = []
    for name, spec in outputs.items():
        if name not in process.OUTPUTS:
            raise _invalid(f"unknown output {name!r}; the outputs: {', '.join(process.OUTPUTS)}")
        spec = spec if isinstance(spec, dict) else {}
        mode = spec.get("transmissionMode", "value")
        if mode != "value":
            raise _invalid(
                f"output {name!r}: transmissionMode {mode!r} is not offered; only 'value'"
            )
        fmt = spec.get("format") if isinstance(spec.get("format"), dict) else {}
        media = str(fmt.get("mediaType") or _JSON).split(";")[0].strip().lower()
        if media != _JSON:
            raise _invalid(f"output {name!r}: format {media!r} is not offered; only {_JSON}")
        chosen.append(name)
    return chosen or list(process.OUTPUTS)


def _no_constant(word: str) -> Any:
    """Refuse ``NaN`` and ``Infinity``, which Python's reader accepts and JSON does not."""
    raise ValueError(f"{word} is not a JSON number")


def _execute_request(raw: bytes) -> tuple[dict[str, Any], str, list[str]]:
    """An execute request's body: the ``POST /screen`` body, the response mode, the outputs."""
    try:
        document = json.loads(raw, parse_constant=_no_constant) if raw.strip() else None
    except RecursionError:
        raise _invalid("the request body is nested too deeply") from None
    except ValueError as exc:
        raise _invalid(f"the request body is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise _invalid(
            'the request body must be an execute request: {"inputs": {...}}',
            code="MissingParameterValue",
        )
    mode = document.get("response", "raw")
    if mode not in ("raw", "document"):
        raise _invalid(f"response={mode!r}: give 'raw' or 'document'")
    outputs = _requested_outputs(document.get("outputs"))
    try:
        body = process.inputs_to_body(document.get("inputs"))
    except process.InputError as exc:
        raise _invalid(str(exc), code=exc.code) from None
    return body, mode, outputs


def _run(state: Any, body: dict[str, Any], outputs: list[str], max_sites: int) -> dict[str, Any]:
    """Read the sites, screen them against the warm layers, build the outputs asked for."""
    from pyproj.exceptions import CRSError

    from .payload import parse_screen_body
    from .serialize import result_json

    try:
        screen_input = parse_screen_body(body, max_sites=max_sites)
    except CRSError as exc:
        raise _invalid(f"crs: {exc}") from None
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise _invalid(f"sites: not valid GeoJSON ({exc})") from None
    try:
        result = state.screen(screen_input.sites, as_of=screen_input.as_of, **screen_input.options)
    except ZoningError as exc:
        raise _invalid(str(exc)) from None
    builders = {"screening": result_json, "verdict": process.verdict_output}
    return {name: builders[name](result) for name in outputs}


def _multipart(values: dict[str, Any]) -> Response:
    """Several raw outputs as ``multipart/related`` (RFC 2387), one part per output."""
    boundary = f"zoning-{uuid.uuid4().hex}"
    parts = []
    for name, value in values.items():
        payload = json.dumps(value, ensure_ascii=False, allow_nan=False)
        parts.append(
            f"--{boundary}\r\nContent-Type: {_JSON}\r\nContent-ID: <{name}>\r\n\r\n{payload}\r\n"
        )
    text = "".join(parts) + f"--{boundary}--\r\n"
    media = f'multipart/related; boundary="{boundary}"; type="{_JSON}"'
    return Response(text.encode("utf-8"), media_type=media)


@_routes.post(
    "/processes/{process_id}/execution",
    summary="Execute a process synchronously (OGC API - Processes)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                _JSON: {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "inputs": {"type": "object"},
                            "outputs": {"type": "object"},
                            "response": {"type": "string", "enum": ["raw", "document"]},
                        },
                    },
                    "example": {
                        "inputs": {
                            "sites": {"type": "Point", "coordinates": [121.47, 31.23]},
                            "industry": "C2614",
                            "nature": "new",
                        },
                        "outputs": {"verdict": {"transmissionMode": "value"}},
                        "response": "document",
                    },
                }
            },
        }
    },
)
async def execute(request: Request, process_id: str) -> Any:
    """Execute the ``screen`` process synchronously.

    Parameters
    ----------
    request : Request
        Its body is an execute request (``execute.yaml``): ``inputs``, optional ``outputs``
        (id -> ``{"transmissionMode": "value", "format": {"mediaType": ...}}``) and
        ``response`` (``raw``, the default, or ``document``).
    process_id : str

    Returns
    -------
    Response
        ``raw``: the one output's JSON, or every output as ``multipart/related``;
        ``document``: a results document, output id -> ``{"value": ..., "mediaType": ...}``.
    """

    async def handle(request: Request, process_id: str):
        _known_process(process_id)
        limits = request.app.state.limits
        raw = await read_body(request, limits.max_body_bytes)
        body, mode, outputs = _execute_request(raw)
        state = request.app.state.zoning
        values = await run_in_threadpool(_run, state, body, outputs, limits.max_screen_sites)
        if mode == "document":
            document = {
                name: {"value": value, "mediaType": process.OUTPUT_MEDIA_TYPE}
                for name, value in values.items()
            }
            return JSONResponse(document)
        if len(values) == 1:
            return JSONResponse(next(iter(values.values())))
        return _multipart(values)

    return await _ogc(request, handle, process_id)


router.include_router(_routes)
router.include_router(_routes, prefix="/ogc", include_in_schema=False)
