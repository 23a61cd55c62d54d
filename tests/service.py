"""A real ``zoning serve`` process on a free loopback port, for tests and benchmarks.

The process is what a user starts (``python -m zoning serve --port PORT``), in this
checkout's Python; :func:`running_service` waits until ``/health`` answers, yields the base
URL and terminates the process (SIGTERM, then SIGKILL after ``stop_timeout`` seconds)::

    from service import running_service

    with running_service() as svc:
        r = httpx.post(f"{svc.url}/screen", json={"point": [121.47, 31.23], "crs": "EPSG:4326"})
    assert svc.returncode in (0, -signal.SIGTERM)  # stopped by SIGTERM, gracefully

(uvicorn shuts down gracefully on SIGTERM, then raises the signal again: one worker ends with
``-SIGTERM``, the supervisor of ``--workers N`` with 0.)

Extra command-line options (``--workers 2``, ``--catalog X``) go in ``args``; environment
variables (``ZONING_SERVICE_TOKEN``) in ``env``.  What the server printed is in
``svc.log()`` (stdout and stderr, merged; kept in a temporary file, so a chatty server never
blocks on a full pipe).  The demonstration catalog is read and indexed at start: allow some
seconds (``start_timeout``) on a loaded machine.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent

__all__ = ["Service", "free_port", "running_service"]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on now (the kernel's choice; free until someone takes it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@dataclass
class Service:
    """A started ``zoning serve``: its URL, process and log."""

    url: str
    port: int
    process: subprocess.Popen
    log_path: Path
    returncode: int | None = field(default=None)
    final_log: str | None = field(default=None)

    def log(self) -> str:
        """What the server printed so far (stdout and stderr; all of it after the block)."""
        if self.final_log is not None:
            return self.final_log
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@contextmanager
def running_service(
    args: Sequence[str] = (),
    *,
    env: dict[str, str] | None = None,
    start_timeout: float = 120.0,
    stop_timeout: float = 20.0,
) -> Iterator[Service]:
    """Start ``python -m zoning serve`` on a free loopback port; stop it on exit.

    Parameters
    ----------
    args : sequence of str
        More options of ``zoning serve`` (not ``--port`` / ``--host``).
    env : dict, optional
        Extra environment variables for the server.
    start_timeout, stop_timeout : float
        Seconds to wait for ``/health``, and for the process to end after SIGTERM.

    Yields
    ------
    Service
        ``url`` (``http://127.0.0.1:PORT``); after the block, ``returncode`` and the whole
        log (``log()``).

    Raises
    ------
    RuntimeError
        The server exited or did not answer in time (its log in the message).
    """
    port = free_port()
    log_file = tempfile.NamedTemporaryFile(prefix="zoning-serve-", suffix=".log", delete=False)
    log_path = Path(log_file.name)
    environment = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    cmd = [sys.executable, "-m", "zoning", "serve", "--port", str(port), *args]
    proc = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT, env=environment)
    svc = Service(url=f"http://127.0.0.1:{port}", port=port, process=proc, log_path=log_path)
    try:
        _wait_healthy(svc, start_timeout)
        yield svc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(stop_timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        svc.returncode = proc.returncode
        log_file.close()
        svc.final_log = svc.log()
        log_path.unlink(missing_ok=True)


def _wait_healthy(svc: Service, timeout: float) -> None:
    """Poll ``/health`` until it answers 200; fail with the log if the process ends first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if svc.process.poll() is not None:
            raise RuntimeError(f"zoning serve exited ({svc.process.returncode}):\n{svc.log()}")
        try:
            if httpx.get(f"{svc.url}/health", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"zoning serve did not answer /health in {timeout:.0f} s:\n{svc.log()}")
