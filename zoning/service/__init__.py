"""The screening service: ``zoning serve``, a JSON API, OGC API - Processes and a web page.

The layers are read and indexed once, when the service starts (:class:`ServiceState`); every
request then screens against those warm indexes.  :func:`create_app` builds the ASGI
application (FastAPI) that uvicorn serves:

* :mod:`~zoning.service.api`: ``POST /screen``, ``GET /layers``, ``GET /rules``, ``GET /health``;
* :mod:`~zoning.service.jobs`: ``POST /jobs`` (uploads of many sites), ``GET``/``DELETE``
  ``/jobs/{id}``;
* :mod:`~zoning.service.ogc`: the same screening as an OGC API - Processes process;
* :mod:`~zoning.service.page`: the web page at ``/``;
* :mod:`~zoning.service.payload` reads a request's sites, attributes and day,
  :mod:`~zoning.service.serialize` writes a result as JSON (shared by the API, jobs and OGC);
* :mod:`~zoning.service.problems`: every error as RFC 9457 problem details, carrying the same
  one-line message the command line gives; :mod:`~zoning.service.security`: the optional bearer
  token and the request limits.

The package needs the ``service`` extra (``pip install 'zoning[service]'``).
"""

from __future__ import annotations

from .state import ServiceState

__all__ = ["ServiceState", "create_app"]


def create_app(state: ServiceState, **options):
    """The ASGI application serving ``state`` (see :func:`zoning.service.app.create_app`).

    Parameters
    ----------
    state : ServiceState
        The loaded layers and rules.
    **options
        Passed on: ``token``, ``limits``.

    Returns
    -------
    fastapi.FastAPI
    """
    from .app import create_app as build

    return build(state, **options)
