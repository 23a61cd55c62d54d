"""Errors as RFC 9457 problem details (``application/problem+json``).

Every error a client can cause answers with a problem object whose ``detail`` is the same one
line the command line prints (a bad CRS, a site outside Shanghai's range, an unknown industry
code ...), never a traceback.  Unexpected failures answer 500 with ``internal error`` and are
logged on the server.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import ZoningError, clip

log = logging.getLogger("zoning.service")

#: The media type of a problem (RFC 9457 section 3).
PROBLEM_TYPE = "application/problem+json"

#: Titles of the statuses the service answers with.
TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    410: "Gone",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    501: "Not implemented",
    503: "Service unavailable",
}


#: The error answers of an endpoint, for the OpenAPI document (``responses=``).
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "description": f"{TITLES[status]} (RFC 9457 problem details, one-line ``detail``)",
        "content": {
            PROBLEM_TYPE: {
                "schema": {
                    "type": "object",
                    "properties": {
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "instance": {"type": "string"},
                    },
                }
            }
        },
    }
    for status in (400, 413, 415, 422, 500)
}


class Problem(Exception):
    """An error to answer as problem details.

    Parameters
    ----------
    status : int
        The HTTP status.
    detail : str
        One line for a person: what is wrong and, where it helps, what to do.
    kind : str, optional
        A short slug naming the kind of problem (``type`` becomes ``about:blank`` when None
        and ``urn:zoning:problem:<kind>`` otherwise).
    headers : dict, optional
        Extra response headers (``WWW-Authenticate``, ``Retry-After``).
    **extra
        More members of the problem object (``field``, ``limit`` ...).
    """

    def __init__(
        self,
        status: int,
        detail: str,
        kind: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ):
        super().__init__(detail)
        self.status, self.detail, self.kind = status, detail, kind
        self.headers, self.extra = headers or {}, extra


def problem_response(
    status: int,
    detail: str,
    *,
    kind: str | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem-details response.

    Parameters
    ----------
    status : int
    detail : str
    kind : str, optional
        See :class:`Problem`.
    instance : str, optional
        The request path the problem occurred at.
    headers : dict, optional
    **extra
        More members.

    Returns
    -------
    JSONResponse
        With media type ``application/problem+json``.
    """
    body: dict[str, Any] = {
        "type": f"urn:zoning:problem:{kind}" if kind else "about:blank",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": clip(" ".join(str(detail).split()), 600),
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_TYPE, headers=headers)


def _validation_detail(exc: RequestValidationError) -> str:
    """The first validation error in one line naming the field."""
    errors = exc.errors()
    if not errors:
        return "the request is not valid"
    first = errors[0]
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query"))
    message = str(first.get("msg", "not valid"))
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where or 'request'}: {message}{more}"


def install(app: FastAPI) -> None:
    """Answer every error of ``app`` as problem details.

    Parameters
    ----------
    app : FastAPI

    Returns
    -------
    None
    """

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem):
        return problem_response(
            exc.status,
            exc.detail,
            kind=exc.kind,
            instance=request.url.path,
            headers=exc.headers,
            **exc.extra,
        )

    @app.exception_handler(ZoningError)
    async def _zoning(request: Request, exc: ZoningError):
        return problem_response(422, str(exc), kind="input", instance=request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        return problem_response(
            422, _validation_detail(exc), kind="validation", instance=request.url.path
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "")
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no such resource: {request.url.path}"
        if exc.status_code == 405 and detail == "Method Not Allowed":
            detail = f"{request.method} is not allowed on {request.url.path}"
        return problem_response(
            exc.status_code,
            detail,
            instance=request.url.path,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception):
        log.exception("internal error at %s", request.url.path)
        return problem_response(
            500,
            f"internal error: {type(exc).__name__} (logged on the server)",
            kind="internal",
            instance=request.url.path,
        )
