"""The jobs of a running service: their folders, their worker threads, their expiry.

A :class:`JobStore` keeps one folder (``zoning-jobs-*``, mode 0700) holding a folder per job,
named by the job's random id: ``job.json`` (its status), ``upload/`` (the client's file under a
server-chosen name) and ``out/`` (what ``zoning screen --out`` writes).  The folder is the
truth: every worker process of ``zoning serve --workers N`` given the same folder
(:data:`JOBS_DIR_ENV`) answers for every job, whichever process runs it; a job deleted
through another process is cancelled through a ``cancel`` file its runner looks for at each
stage.  Jobs run on a small thread pool; the screening itself is serialised by
:class:`~zoning.service.state.ServiceState`.  A job's upload is deleted when it ends
(succeeded, failed or cancelled); its results when it is deleted or
:attr:`~zoning.service.security.Limits.job_ttl_seconds` after it finished (a sweeper thread,
and every request).  A private folder is removed when the service shuts down.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .problems import Problem
from .security import Limits
from .uploads import JobRequest

log = logging.getLogger("zoning.service")

#: A job's states.
QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED, EXPIRED = (
    "queued",
    "running",
    "succeeded",
    "failed",
    "cancelled",
    "expired",
)
#: Threads running jobs (reading and writing overlap; screening is one at a time).
WORKERS = 2
#: A folder shared by the worker processes of one service (set by ``zoning serve``).
JOBS_DIR_ENV = "ZONING_SERVE_JOBS_DIR"
#: What a job id looks like (anything else is unknown without touching the disk).
_ID = re.compile(r"[A-Za-z0-9_-]{20,64}")
#: What :class:`Job` keeps in ``job.json``.
_SAVED = (
    "id",
    "status",
    "stage",
    "progress",
    "created",
    "started",
    "finished",
    "error",
    "sites",
    "notes",
    "owner",
)


@contextmanager
def shared_jobs_dir() -> Iterator[Path]:
    """A private jobs folder for the worker processes of one service, removed at the end.

    ``zoning serve --workers N`` runs uvicorn inside this block: the folder's path is in
    :data:`JOBS_DIR_ENV`, which every worker's :class:`JobStore` then shares, so that any
    worker answers for any job.

    Yields
    ------
    Path
        The folder (mode 0700).
    """
    previous = os.environ.get(JOBS_DIR_ENV)
    root = Path(tempfile.mkdtemp(prefix="zoning-jobs-"))
    os.environ[JOBS_DIR_ENV] = str(root)
    try:
        yield root
    finally:
        if previous is None:
            os.environ.pop(JOBS_DIR_ENV, None)
        else:
            os.environ[JOBS_DIR_ENV] = previous
        shutil.rmtree(root, ignore_errors=True)


class Cancelled(BaseException):
    """Raised inside a running screening (at its next progress call) when its job is deleted.

    A :class:`BaseException`, so that no ``except Exception`` on the way turns it into a
    failure.
    """


@dataclass
class Job:
    """One job.

    Attributes
    ----------
    id : str
        Random, unguessable (:func:`secrets.token_urlsafe`).
    folder : Path
        The job's folder (``job.json``, ``upload/``, ``out/``).
    request : JobRequest
        The upload and its fields.
    options : JobOptions
        The checked options.
    status, stage : str
    progress : float
        0 to 1.
    created, started, finished : float, optional
        Epoch seconds.
    error : str, optional
        The one line of a failed job.
    results : dict
        Result name (``sites.csv``, ``report/index.html`` ...) -> file, once succeeded.
    sites : int, optional
        Sites screened.
    notes : list of str
        The screening's notes, as the command line prints them (at most 20).
    owner : int
        The process running it.
    """

    id: str
    folder: Path
    request: JobRequest
    options: Any = None
    status: str = QUEUED
    stage: str = "queued"
    progress: float = 0.0
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    error: str | None = None
    results: dict[str, Path] = field(default_factory=dict)
    sites: int | None = None
    notes: list[str] = field(default_factory=list)
    owner: int = field(default_factory=os.getpid)
    cancel: threading.Event = field(default_factory=threading.Event, repr=False)
    future: Any = field(default=None, repr=False)

    @property
    def out(self) -> Path:
        """The results folder."""
        return self.folder / "out"

    @property
    def upload_dir(self) -> Path:
        """The upload folder."""
        return self.folder / "upload"

    def to_json(self) -> dict[str, Any]:
        """What ``job.json`` holds.

        Returns
        -------
        dict
        """
        body = {name: getattr(self, name) for name in _SAVED}
        body["file"] = self.request.client_name
        body["results"] = list(self.results)
        return body

    @classmethod
    def from_json(cls, folder: Path, body: dict[str, Any]) -> Job:
        """A job as ``job.json`` describes it.

        Parameters
        ----------
        folder : Path
        body : dict

        Returns
        -------
        Job
        """
        job = cls(folder=folder, request=JobRequest(client_name=body.get("file") or ""), id="")
        for name in _SAVED:
            setattr(job, name, body.get(name, getattr(job, name)))
        job.results = {name: folder / "out" / name for name in body.get("results") or ()}
        return job


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


class JobStore:
    """The jobs of one service (of all its worker processes when they share ``root``).

    Parameters
    ----------
    state : ServiceState
        What the jobs screen against.
    limits : Limits
    root : path, optional
        A folder shared with the service's other processes (kept at shutdown).  Default:
        :data:`JOBS_DIR_ENV`, else a new private temporary folder (removed at shutdown).
    """

    def __init__(self, state: Any, limits: Limits, root: str | Path | None = None) -> None:
        self.state, self.limits = state, limits
        root = root if root is not None else (os.environ.get(JOBS_DIR_ENV) or None)
        self.private = root is None
        self.root = Path(root or tempfile.mkdtemp(prefix="zoning-jobs-"))
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.running: dict[str, Job] = {}
        self.lock = threading.RLock()
        self.pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="zoning-job")
        self._stop = threading.Event()
        self._sweeper: threading.Thread | None = None
        self.closed = False

    # ----------------------------------------------------------------- lifecycle

    def start_sweeper(self) -> None:
        """Expire finished jobs in the background (every ``min(60, ttl / 4)`` seconds).

        Returns
        -------
        None
        """
        if self._sweeper is not None or self.closed:
            return
        period = max(0.2, min(60.0, self.limits.job_ttl_seconds / 4))

        def sweep_forever() -> None:
            while not self._stop.wait(period):
                try:
                    self.sweep()
                except Exception:  # pragma: no cover - logged, the sweeper goes on
                    log.exception("job sweeper")

        self._sweeper = threading.Thread(
            target=sweep_forever, name="zoning-jobs-sweeper", daemon=True
        )
        self._sweeper.start()

    def close(self) -> None:
        """Cancel this process's jobs, stop the threads and remove the jobs' folders (the
        whole folder when it is private).

        Returns
        -------
        None
        """
        if self.closed:
            return
        self.closed = True
        self._stop.set()
        with self.lock:
            mine = list(self.running.values())
            for job in mine:
                job.cancel.set()
                if job.future is not None:
                    job.future.cancel()
        self.pool.shutdown(wait=True, cancel_futures=True)
        if self.private:
            shutil.rmtree(self.root, ignore_errors=True)
        else:
            for job in mine:
                shutil.rmtree(job.folder, ignore_errors=True)

    # ----------------------------------------------------------------- the folder

    def save(self, job: Job) -> None:
        """Write the job's ``job.json`` (atomically; not once its folder is gone).

        Parameters
        ----------
        job : Job

        Returns
        -------
        None
        """
        if not job.folder.is_dir():
            return
        part = job.folder / f"job.json.{os.getpid()}.{threading.get_ident()}"
        part.write_text(json.dumps(job.to_json()), encoding="utf-8")
        os.replace(part, job.folder / "job.json")

    def _load(self, folder: Path) -> Job | None:
        try:
            body = json.loads((folder / "job.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return Job.from_json(folder, body)

    def _folders(self) -> list[Path]:
        try:
            return [p for p in self.root.iterdir() if p.is_dir() and _ID.fullmatch(p.name)]
        except OSError:
            return []

    # ----------------------------------------------------------------- jobs

    def new_folder(self) -> tuple[str, Path]:
        """A new job id and its empty folder (with ``upload/``), once the store has room.

        Returns
        -------
        (str, Path)

        Raises
        ------
        Problem
            503 when the service is shutting down; 429 with ``Retry-After`` when
            ``max_jobs`` jobs (queued, running, succeeded or being uploaded) are kept.
        """
        if self.closed:
            raise Problem(503, "the service is shutting down", kind="unavailable")
        self.sweep()
        with self.lock:
            kept = 0
            for folder in self._folders():
                job = self._load(folder)
                kept += job is None or job.status in (QUEUED, RUNNING, SUCCEEDED)
            if kept >= self.limits.max_jobs:
                raise Problem(
                    429,
                    f"{kept} jobs are kept (the service's limit is {self.limits.max_jobs}); "
                    "delete finished jobs or retry later",
                    kind="too-many-jobs",
                    headers={"Retry-After": "60"},
                )
            job_id = secrets.token_urlsafe(18)
            folder = self.root / job_id
            (folder / "upload").mkdir(mode=0o700, parents=True)
            return job_id, folder

    def submit(self, job_id: str, folder: Path, request: JobRequest, options: Any) -> Job:
        """Queue a job whose upload was received and checked.

        Parameters
        ----------
        job_id : str
        folder : Path
            From :meth:`new_folder`.
        request : JobRequest
        options : JobOptions
            Checked by :func:`~zoning.service.jobs_run.job_options`.

        Returns
        -------
        Job
        """
        from .jobs_run import run_job

        self.start_sweeper()
        job = Job(id=job_id, folder=folder, request=request, options=options)
        with self.lock:
            self.running[job_id] = job
            self.save(job)
            job.future = self.pool.submit(run_job, self, job)
        return job

    def update(self, job: Job, **changes: Any) -> None:
        """Change a running job's status fields and save them.

        Parameters
        ----------
        job : Job
        **changes
            ``stage``, ``progress``, ``sites`` ...

        Returns
        -------
        None
        """
        with self.lock:
            for name, value in changes.items():
                setattr(job, name, value)
            self.save(job)

    def cancelled(self, job: Job) -> bool:
        """Whether the job was deleted (here, or through another process: its ``cancel`` file).

        Parameters
        ----------
        job : Job

        Returns
        -------
        bool
        """
        if not job.cancel.is_set() and (
            (job.folder / "cancel").exists() or not job.folder.is_dir()
        ):
            job.cancel.set()
        return job.cancel.is_set()

    def get(self, job_id: str) -> Job:
        """The job of ``job_id``, as its ``job.json`` says.

        Parameters
        ----------
        job_id : str

        Returns
        -------
        Job

        Raises
        ------
        Problem
            404 for an unknown (or long expired) id.
        """
        self.sweep()
        job = self._load(self.root / job_id) if _ID.fullmatch(job_id) else None
        if job is None:
            raise Problem(404, "no such job (unknown id, or expired and forgotten)", kind="job")
        return job

    def delete(self, job_id: str) -> Job:
        """Delete a job: a queued or running one is cancelled (a running screening stops at
        its next stage) and kept as ``cancelled`` until it expires; an ended one is forgotten.
        Its files are deleted either way.

        Parameters
        ----------
        job_id : str

        Returns
        -------
        Job
            As it was when deleted (stage ``cancelling`` for a running job).
        """
        job = self.get(job_id)
        with self.lock:
            mine = self.running.get(job_id)
            if job.status in (QUEUED, RUNNING):
                (job.folder / "cancel").touch()
                if mine is not None:
                    mine.cancel.set()
                    if mine.future is not None and mine.future.cancel():
                        self.end(mine, CANCELLED, stage="cancelled")
                        return mine
                job.stage = "cancelling"  # its runner ends it and deletes its files
            else:
                shutil.rmtree(job.folder, ignore_errors=True)
        return job

    def end(self, job: Job, status: str, *, stage: str, error: str | None = None) -> None:
        """Mark a job ended and delete its upload (its results too unless it succeeded).

        Parameters
        ----------
        job : Job
        status : str
        stage : str
        error : str, optional

        Returns
        -------
        None
        """
        with self.lock:
            if status == SUCCEEDED and self.cancelled(job):
                status, stage = CANCELLED, "cancelled"
            job.status, job.stage, job.error = status, stage, error
            job.finished = time.time()
            if status == SUCCEEDED:
                job.progress = 1.0
            else:
                job.results = {}
                shutil.rmtree(job.out, ignore_errors=True)
            shutil.rmtree(job.upload_dir, ignore_errors=True)
            (job.folder / "cancel").unlink(missing_ok=True)
            self.running.pop(job.id, None)
            self.save(job)

    def sweep(self) -> None:
        """Expire the jobs that finished more than ``job_ttl_seconds`` ago (files deleted);
        forget them after another ``job_ttl_seconds``; fail the jobs whose process died;
        remove uploads abandoned for an hour.

        Returns
        -------
        None
        """
        now, ttl = time.time(), self.limits.job_ttl_seconds
        with self.lock:
            for folder in self._folders():
                job = self._load(folder)
                if job is None:
                    try:
                        stale = now - folder.stat().st_mtime > max(ttl, 3600)
                    except OSError:
                        continue
                    if stale:
                        shutil.rmtree(folder, ignore_errors=True)
                    continue
                if job.status in (QUEUED, RUNNING):
                    if job.id not in self.running and not _alive(job.owner):
                        self.end(job, FAILED, stage=job.stage, error="the service stopped")
                    continue
                if job.finished is None or now - job.finished < ttl:
                    continue
                if job.status != EXPIRED:
                    job.status, job.stage, job.results = EXPIRED, "expired", {}
                    for name in ("upload", "out", "results.zip"):
                        target = folder / name
                        if target.is_dir():
                            shutil.rmtree(target, ignore_errors=True)
                        else:
                            target.unlink(missing_ok=True)
                    self.save(job)
                elif now - job.finished >= 2 * ttl:
                    shutil.rmtree(folder, ignore_errors=True)
