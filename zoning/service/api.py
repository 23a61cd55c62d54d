"""The JSON API: ``POST /screen``, ``GET /layers``, ``GET /rules``, ``GET /health``."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request

from .._version import __version__

router = APIRouter(tags=["screening"])


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


@router.get("/health", summary="Whether the service is up, and what it screens against")
def health(request: Request) -> dict[str, Any]:
    """Liveness and what was loaded: layers, rule set, how long loading took, uptime.

    Parameters
    ----------
    request : Request

    Returns
    -------
    dict
    """
    state = state_of(request)
    return {
        "status": "ok",
        "version": __version__,
        "layers": len(state.layers),
        "rule_set": {"id": state.rules.id, "version": state.rules.version},
        "as_of_default": state.layers.as_of.isoformat(),
        "load_seconds": round(state.load_seconds, 3),
        "uptime_seconds": round(time.time() - state.started, 1),
        "demonstration": state.is_demonstration,
    }
