"""Jobs: uploads of many sites screened in the background (``POST /jobs``).

* ``POST /jobs``: ``multipart/form-data`` with the sites file in the field ``file`` (GeoJSON,
  zipped Shapefile, GeoPackage, KML, DXF, CSV, XLSX) and the command line's options as text
  fields (``crs``, ``industry``, ``nature``, the flags, ``id_field``, ``name_field``,
  ``layer_name``, ``sheet``, ``dxf_layer``, ``encoding``, ``on_row_error``, ``as_of``,
  ``search_radius_m``, ``formats`` -- default ``csv,gpkg,json,html`` as ``zoning screen``).
  202 with the job's status and its ``Location``.
* ``GET /jobs/{id}``: status (``queued``, ``running``, ``succeeded``, ``failed``,
  ``cancelled``, ``expired``), progress 0-1, stage, times in Asia/Shanghai, the one-line error
  of a failed job, links.
* ``GET /jobs/{id}/results``: the files ``zoning screen --out`` writes; each at
  ``GET /jobs/{id}/results/{name}`` (only names of that list), all at
  ``GET /jobs/{id}/results.zip``.
* ``DELETE /jobs/{id}``: cancels a queued or running job and deletes its files.

Every endpoint needs the service's bearer token when it has one.
"""

from __future__ import annotations

import atexit
import datetime
import mimetypes
import os
import shutil
import threading
import zipfile
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse

from .jobs_run import job_options
from .jobs_store import EXPIRED, SUCCEEDED, Job, JobStore
from .problems import Problem
from .security import check_token
from .serialize import DEMONSTRATION_NOTICE
from .uploads import FLAG_FIELDS, SUFFIXES, TEXT_FIELDS, check_upload, receive

router = APIRouter(tags=["jobs"], dependencies=[Depends(check_token)])

#: What a response says when the layers or rules are the demonstration data.

_FORM_SCHEMA: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "The sites: " + ", ".join(SUFFIXES),
                        },
                        **{
                            name: {
                                "type": "string",
                                "description": f"as --{name.replace('_', '-')}",
                            }
                            for name in (*TEXT_FIELDS, "facility")
                            if name not in FLAG_FIELDS
                        },
                        **{
                            name: {
                                "type": "boolean",
                                "description": f"as --{name.replace('_', '-')}",
                            }
                            for name in FLAG_FIELDS
                        },
                    },
                }
            }
        },
    }
}


def store_of(app: FastAPI) -> JobStore:
    """The job store of ``app`` (see :func:`install`).

    Parameters
    ----------
    app : FastAPI

    Returns
    -------
    JobStore
    """
    return app.state.jobs


def _when(epoch: float | None) -> str | None:
    from ..dates import shanghai_time

    if epoch is None:
        return None
    return shanghai_time(datetime.datetime.fromtimestamp(epoch, datetime.UTC))


def status_of(job: Job, store: JobStore) -> dict[str, Any]:
    """A job's status as the API shows it.

    Parameters
    ----------
    job : Job
    store : JobStore

    Returns
    -------
    dict
    """
    base = f"/jobs/{job.id}"
    links = [{"rel": "self", "href": base}]
    if job.status == SUCCEEDED:
        links += [
            {"rel": "results", "href": f"{base}/results"},
            {"rel": "results-zip", "href": f"{base}/results.zip", "type": "application/zip"},
        ]
    expires = job.finished + store.limits.job_ttl_seconds if job.finished else None
    body = {
        "id": job.id,
        "status": job.status,
        "stage": job.stage,
        "progress": round(job.progress, 4),
        "file": job.request.client_name,
        "sites": job.sites,
        "created": _when(job.created),
        "started": _when(job.started),
        "finished": _when(job.finished),
        "expires": _when(expires) if job.status != EXPIRED else None,
        "error": job.error,
        "notes": job.notes,
        "links": links,
        "demonstration": bool(store.state.is_demonstration),
    }
    if body["demonstration"]:
        body["notice"] = DEMONSTRATION_NOTICE
    return body


@router.post(
    "/jobs",
    status_code=202,
    summary="Upload a sites file and screen it in the background",
    openapi_extra=_FORM_SCHEMA,
)
async def post_job(request: Request) -> JSONResponse:
    """Receive an upload (streamed, size-limited), check it, queue its screening.

    Parameters
    ----------
    request : Request

    Returns
    -------
    JSONResponse
        202 with the job's status and ``Location: /jobs/{id}``.
    """
    store = store_of(request.app)
    job_id, folder = store.new_folder()
    try:
        upload = await receive(request, folder / "upload", store.limits)
        options = await run_in_threadpool(job_options, upload)
        await run_in_threadpool(check_upload, upload, store.limits)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    job = store.submit(job_id, folder, upload, options)
    return JSONResponse(
        status_of(job, store), status_code=202, headers={"Location": f"/jobs/{job.id}"}
    )


@router.get("/jobs/{job_id}", summary="A job's status, progress and links")
def get_job(job_id: str, request: Request) -> dict[str, Any]:
    """A job's status.

    Parameters
    ----------
    job_id : str
    request : Request

    Returns
    -------
    dict
    """
    store = store_of(request.app)
    return status_of(store.get(job_id), store)


def _finished(request: Request, job_id: str) -> Job:
    """The job, when its results can be read (409 before, 410 once expired or gone)."""
    job = store_of(request.app).get(job_id)
    if job.status == EXPIRED:
        raise Problem(410, "the job expired and its results were deleted", kind="job")
    if job.status != SUCCEEDED:
        what = f"the job {job.status}" + (f": {job.error}" if job.error else "")
        status = 409 if job.status in ("queued", "running") else 410
        raise Problem(status, f"no results: {what}", kind="job")
    return job


@router.get("/jobs/{job_id}/results", summary="The files a job wrote")
def list_results(job_id: str, request: Request) -> dict[str, Any]:
    """The files of a succeeded job, as ``zoning screen --out`` writes them.

    Parameters
    ----------
    job_id : str
    request : Request

    Returns
    -------
    dict
    """
    job = _finished(request, job_id)
    base = f"/jobs/{job.id}/results"
    files = [
        {"name": name, "href": f"{base}/{name}", "bytes": path.stat().st_size}
        for name, path in job.results.items()
    ]
    body: dict[str, Any] = {"id": job.id, "files": files, "zip": f"/jobs/{job.id}/results.zip"}
    if store_of(request.app).state.is_demonstration:
        body["notice"] = DEMONSTRATION_NOTICE
    return body


_zip_lock = threading.Lock()


@router.get("/jobs/{job_id}/results.zip", summary="All the files a job wrote, zipped")
def results_zip(job_id: str, request: Request) -> FileResponse:
    """Every result file (the report's folder included) in one zip.

    Parameters
    ----------
    job_id : str
    request : Request

    Returns
    -------
    FileResponse
    """
    job = _finished(request, job_id)
    target = job.folder / "results.zip"
    with _zip_lock:
        if not target.is_file():
            partial = job.folder / f"results.zip.{os.getpid()}.part"
            with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zf:
                for name, path in job.results.items():
                    zf.write(path, name)
            partial.replace(target)
    return FileResponse(target, media_type="application/zip", filename=f"zoning-{job.id[:8]}.zip")


@router.get("/jobs/{job_id}/results/{name:path}", summary="One file a job wrote")
def result_file(job_id: str, name: str, request: Request) -> FileResponse:
    """One result file, by a name of the job's list (never a path on the server).

    Parameters
    ----------
    job_id : str
    name : str
        As listed by ``GET /jobs/{id}/results``.
    request : Request

    Returns
    -------
    FileResponse
        As an attachment.
    """
    job = _finished(request, job_id)
    path = job.results.get(name)
    if path is None:
        raise Problem(404, "no such result file (see the job's results list)", kind="job")
    media = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return FileResponse(
        path,
        media_type=media,
        filename=name.rsplit("/", 1)[-1],
        headers={"X-Content-Type-Options": "nosniff"},
    )


@router.delete("/jobs/{job_id}", summary="Cancel a job and delete its files")
def delete_job(job_id: str, request: Request) -> dict[str, Any]:
    """Cancel a queued or running job (it stops at its next stage) and delete its files.

    Parameters
    ----------
    job_id : str
    request : Request

    Returns
    -------
    dict
        The job's status after the deletion.
    """
    store = store_of(request.app)
    return status_of(store.delete(job_id), store)


def install(app: FastAPI) -> None:
    """Set up the job store of ``app``: a private temporary folder, removed at shutdown.

    The store exists from here on (an application used without its lifespan still works);
    the lifespan's end, or the process's exit, cancels the jobs and removes the folder.

    Parameters
    ----------
    app : FastAPI

    Returns
    -------
    None
    """
    store = JobStore(app.state.zoning, app.state.limits)
    app.state.jobs = store
    atexit.register(store.close)
    previous = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any):
        store.start_sweeper()
        try:
            async with previous(application) as value:
                yield value
        finally:
            store.close()

    app.router.lifespan_context = lifespan


__all__ = ["install", "router", "status_of", "store_of"]
