"""The service's guards: the optional bearer token and the request limits.

The token (``zoning serve --token`` or the ``ZONING_SERVICE_TOKEN`` environment variable)
guards the job endpoints, whose uploads cost disk and CPU; it is compared in constant time and
never logged.  The limits bound what one request may ask for: the body size (checked on
``Content-Length`` and while the body streams), the sites of one ``/screen`` request, the sites
of a job, and what a zip upload may unpack to.
"""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass

from fastapi import Request

from .problems import Problem

#: The environment variable holding the bearer token when ``--token`` is not given.
TOKEN_ENV = "ZONING_SERVICE_TOKEN"


@dataclass(frozen=True)
class Limits:
    """What one request may ask for.

    Attributes
    ----------
    max_body_bytes : int
        The largest request body of ``/screen`` (JSON).
    max_upload_bytes : int
        The largest upload of ``/jobs``.
    max_screen_sites : int
        Sites in one ``/screen`` request (more: use ``/jobs``).
    max_document_sites : int
        Sites in one ``/screen?format=pdf|docx|xlsx|zip`` request (documents take seconds
        per site; more: use ``/jobs``).
    documents_at_once : int
        Document requests built at once in a process; others wait up to
        ``documents_wait_seconds``, then get 503 with ``Retry-After``.
    documents_wait_seconds : float
    max_job_sites : int
        Sites in one job.
    max_zip_members, max_unzipped_bytes : int
        What a zip upload may hold and unpack to.
    job_ttl_seconds : int
        How long a finished job's results are kept.
    max_jobs : int
        Jobs kept at once (running and finished).
    """

    max_body_bytes: int = 5 * 2**20
    max_upload_bytes: int = 200 * 2**20
    max_screen_sites: int = 1000
    max_document_sites: int = 100
    documents_at_once: int = 2
    documents_wait_seconds: float = 60.0
    max_job_sites: int = 1_000_000
    max_zip_members: int = 1000
    max_unzipped_bytes: int = 1 * 2**30
    job_ttl_seconds: int = 3600
    max_jobs: int = 20


def resolve_token(token: str | None) -> str | None:
    """The bearer token: ``token`` or the environment variable; None guards nothing.

    Parameters
    ----------
    token : str, optional

    Returns
    -------
    str or None
    """
    value = token if token is not None else os.environ.get(TOKEN_ENV)
    return value or None


def check_token(request: Request) -> None:
    """Refuse a request to a guarded endpoint without the service's bearer token.

    Parameters
    ----------
    request : Request

    Returns
    -------
    None

    Raises
    ------
    Problem
        401 with ``WWW-Authenticate: Bearer`` when the token is missing or wrong.
    """
    expected = getattr(request.app.state, "token", None)
    if not expected:
        return
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        value.strip().encode(), expected.encode()
    ):
        raise Problem(
            401,
            "this endpoint needs the service's token: send 'Authorization: Bearer <token>'",
            kind="token",
            headers={"WWW-Authenticate": 'Bearer realm="zoning"'},
        )


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused as soon as it passes ``limit`` bytes.

    Parameters
    ----------
    request : Request
    limit : int

    Returns
    -------
    bytes

    Raises
    ------
    Problem
        413 naming the limit.
    """
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> Problem:
    return Problem(
        413,
        f"the request body is larger than {limit:,} bytes; send fewer sites or use /jobs",
        kind="too-large",
        limit=limit,
    )
