"""The jobs of a running service: their folders, their worker threads, their expiry.

A :class:`JobStore` owns one private temporary folder (``zoning-jobs-*``, mode 0700) holding
a folder per job, named by the job's random id: ``upload/`` (the client's file under a
server-chosen name) and ``out/`` (what ``zoning screen --out`` writes).  Jobs run on a small
thread pool; the screening itself is serialised by
:class:`~zoning.service.state.ServiceState`.  A job's upload is deleted when it ends
(succeeded, failed or cancelled); its results when it is deleted or
:attr:`~zoning.service.security.Limits.job_ttl_seconds` after it finished (a sweeper thread,
and every request).  The folder is removed when the service shuts down.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
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
#: States in which a job holds no worker.
ENDED = (SUCCEEDED, FAILED, CANCELLED, EXPIRED)
#: Threads running jobs (reading and writing overlap; screening is one at a time).
WORKERS = 2


class Cancelled(Exception):
    """Raised inside a running screening (at its next progress call) when its job is deleted."""


@dataclass
class Job:
    """One job.

    Attributes
    ----------
    id : str
        Random, unguessable (:func:`secrets.token_urlsafe`).
    folder : Path
        The job's private folder (``upload/``, ``out/``).
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
    demonstration : bool
        Whether the layers or rules are demonstration data.
    """

    id: str
    folder: Path
    request: JobRequest
    status: str = QUEUED
    stage: str = "queued"
    progress: float = 0.0
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    error: str | None = None
    results: dict[str, Path] = field(default_factory=dict)
    sites: int | None = None
    demonstration: bool = False
    options: Any = None
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


class JobStore:
    """The jobs of one service process.

    Parameters
    ----------
    state : ServiceState
        What the jobs screen against.
    limits : Limits
    root : path, optional
        Default: a new private temporary folder.
    """

    def __init__(self, state: Any, limits: Limits, root: str | Path | None = None) -> None:
        self.state, self.limits = state, limits
        self.root = (
            Path(root) if root is not None else Path(tempfile.mkdtemp(prefix="zoning-jobs-"))
        )
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.jobs: dict[str, Job] = {}
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
        if self._sweeper is not None:
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
        """Cancel every job, stop the threads and remove the folder.

        Returns
        -------
        None
        """
        self.closed = True
        self._stop.set()
        with self.lock:
            for job in self.jobs.values():
                job.cancel.set()
                if job.future is not None:
                    job.future.cancel()
        self.pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self.root, ignore_errors=True)

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
            ``max_jobs`` jobs are kept.
        """
        if self.closed:
            raise Problem(503, "the service is shutting down", kind="unavailable")
        self.sweep()
        with self.lock:
            kept = sum(1 for j in self.jobs.values() if j.status in (QUEUED, RUNNING, SUCCEEDED))
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
            self.jobs[job_id] = job
            job.future = self.pool.submit(run_job, self, job)
        return job

    def get(self, job_id: str) -> Job:
        """The job of ``job_id``.

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
        with self.lock:
            job = self.jobs.get(job_id)
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
        """
        job = self.get(job_id)
        with self.lock:
            job.cancel.set()
            if job.status == QUEUED and job.future is not None and job.future.cancel():
                self.end(job, CANCELLED, stage="cancelled")
            elif job.status in (QUEUED, RUNNING):
                job.stage = "cancelling"  # the worker ends it and deletes its files
            else:
                self.jobs.pop(job_id, None)
                self.remove_files(job)
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
            job.status, job.stage, job.error = status, stage, error
            job.finished = time.time()
            if status == SUCCEEDED:
                job.progress = 1.0
            shutil.rmtree(job.upload_dir, ignore_errors=True)
            if status != SUCCEEDED or job.cancel.is_set():
                self.remove_files(job)
            if status == SUCCEEDED and job.cancel.is_set():
                job.status, job.stage = CANCELLED, "cancelled"

    def remove_files(self, job: Job) -> None:
        """Delete the job's folder.

        Parameters
        ----------
        job : Job

        Returns
        -------
        None
        """
        job.results = {}
        shutil.rmtree(job.folder, ignore_errors=True)

    def sweep(self) -> None:
        """Expire the jobs that finished more than ``job_ttl_seconds`` ago (files deleted);
        forget expired jobs after another ``job_ttl_seconds``.

        Returns
        -------
        None
        """
        now, ttl = time.time(), self.limits.job_ttl_seconds
        with self.lock:
            for job_id, job in list(self.jobs.items()):
                if job.finished is None or now - job.finished < ttl:
                    continue
                if job.status != EXPIRED:
                    job.status, job.stage = EXPIRED, "expired"
                    self.remove_files(job)
                elif now - job.finished >= 2 * ttl:
                    del self.jobs[job_id]
