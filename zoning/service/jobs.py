"""Jobs: uploads of many sites screened in the background (``POST /jobs``)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

router = APIRouter(tags=["jobs"])


def install(app: FastAPI) -> None:
    """Set up the job store of ``app`` (placeholder until the jobs are built).

    Parameters
    ----------
    app : FastAPI

    Returns
    -------
    None
    """
