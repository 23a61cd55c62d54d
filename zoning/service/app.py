"""The ASGI application: FastAPI with the service's routers, problems and guards.

FastAPI was chosen because it is the maintained ASGI framework whose request models give the
OpenAPI document at ``/docs`` for free, on Starlette (streaming bodies, file responses,
background tasks) and served by uvicorn.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from .._version import __version__
from . import api, jobs, ogc, page, problems
from .security import Limits, resolve_token
from .state import ServiceState

DESCRIPTION = (
    "Screen project sites against Shanghai's ecological zoning (red line, development "
    "boundary, farmland, water sources, 三线一单 control units and their access lists). "
    "The bundled layers and rule set are DEMONSTRATION DATA, not the official red line or "
    "Shanghai's official access list (演示数据，非官方生态保护红线及准入清单)."
)


def create_app(
    state: ServiceState, *, token: str | None = None, limits: Limits | None = None
) -> FastAPI:
    """Build the service's application.

    Parameters
    ----------
    state : ServiceState
        The loaded layers and rules.
    token : str, optional
        Bearer token guarding the job endpoints (default: the ``ZONING_SERVICE_TOKEN``
        environment variable; none: unguarded).
    limits : Limits, optional
        Request limits (default :class:`~zoning.service.security.Limits`).

    Returns
    -------
    FastAPI
    """
    # fastapi-offline serves Swagger UI's script and style from the package, not a CDN, so
    # /docs works on a machine without the internet (as the web page does).
    app = FastAPIOffline(
        title="zoning screening service",
        version=__version__,
        description=DESCRIPTION,
        docs_url="/docs",
        redoc_url=None,
        static_url="/static-docs",
    )
    app.docs_url = "/docs"  # FastAPIOffline serves it itself and leaves the attribute None
    app.state.zoning = state
    app.state.token = resolve_token(token)
    app.state.limits = limits or Limits()
    problems.install(app)
    app.include_router(api.router)
    app.include_router(jobs.router)
    app.include_router(ogc.router)
    app.include_router(page.router)
    jobs.install(app)
    return app
