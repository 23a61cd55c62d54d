"""A chunked run: sites read, screened and written a chunk at a time, here or on a cluster.

:func:`run_chunks` takes the chunks of :func:`zoning.sites.chunks.iter_site_chunks`, has
each screened by an executor -- :class:`InProcess` (this process) or :class:`DaskExecutor`
(the workers of a dask.distributed cluster: local processes or an existing scheduler) -- and
appends each finished chunk's tables to the Parquet files (:class:`~.writer.ParquetAppender`)
inside the output transaction (:func:`zoning.screening.outputs.output_folder`): an
interruption (Ctrl-C, SIGTERM, a failing chunk, a lost worker) leaves the folder as it was.

With a cluster the input is read in blocks of ``chunk_size x blocks`` sites; each block is
sorted along a Hilbert curve (:mod:`.spatial`) and split into chunks, so a chunk covers a
compact area.  At most ``in_flight`` chunks are out at once (bounded memory on the client);
results are appended in the order the chunks were sent (spatially sorted within each block;
each site row keeps its ``site_id``).  Each worker loads the layers once
(:func:`~.work.prepared`) from the catalog path and the shared index cache; a task carries
the chunk's sites and the small :class:`~.work.ChunkJob` only.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ZoningError
from .work import ChunkJob, ChunkOutput, screen_chunk

__all__ = [
    "PARQUET_OUTPUTS",
    "ChunkedRun",
    "DaskExecutor",
    "InProcess",
    "SchedulerError",
    "run_chunks",
]

log = logging.getLogger("zoning.batch")

#: The files a chunked run writes into its folder (``rejected.csv`` only with rows set aside).
PARQUET_OUTPUTS = ("sites.parquet", "hits.parquet", "clauses.parquet", "codes.parquet")


class SchedulerError(ZoningError, OSError):
    """A dask scheduler that cannot be reached, workers that died, or dask.distributed
    missing."""


@dataclass
class ChunkedRun:
    """What a chunked run did: counts accumulated over the chunks (no whole-run table).

    Attributes
    ----------
    n_sites, n_chunks : int
    rows : dict of str to int
        Rows written per table (``sites``, ``hits``, ``clauses``).
    verdicts : Counter
        Sites per verdict.
    notes : list of str
        The chunks' notes, each once.
    provenance : dict
        The first chunk's provenance (tool, layers, rules, day, options).
    rejected : DataFrame or None
        Rows set aside (``on_row_error="report"``), positions in the whole input.
    written : list of str
        Files written into the folder.
    workers : int
        Worker processes of the executor.
    pids : set of int
        The processes that screened chunks.
    seconds : float
    """

    n_sites: int = 0
    n_chunks: int = 0
    rows: dict = field(default_factory=dict)
    verdicts: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    provenance: dict = field(default_factory=dict)
    rejected: pd.DataFrame | None = None
    written: list[str] = field(default_factory=list)
    workers: int = 1
    pids: set = field(default_factory=set)
    seconds: float = 0.0
    _keys: dict = field(default_factory=dict, repr=False)

    def add(self, out: ChunkOutput) -> None:
        """Count one screened chunk in.

        Parameters
        ----------
        out : ChunkOutput
        """
        self.n_sites += out.n_sites
        self.n_chunks += 1
        self.verdicts.update(out.verdicts)
        self.pids.add(out.pid)
        for note in out.notes:
            self._note(note)
        if not self.provenance:
            self.provenance = out.provenance

    def _note(self, note: str) -> None:
        """Keep ``note`` once; a note of the same words as a kept one but one count
        (``243 site(s) lie ...`` in one chunk, ``252 site(s) ...`` in another) adds its count."""
        key = _NUMBER.sub("#", note)
        at = self._keys.get(key)
        if at is None:
            if len(self.notes) < 200:
                self._keys[key] = len(self.notes)
                self.notes.append(note)
            return
        old = self.notes[at]
        a, b = _NUMBER.findall(old), _NUMBER.findall(note)
        differ = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(differ) != 1:
            return
        i = differ[0]
        total = int(a[i].replace(",", "")) + int(b[i].replace(",", ""))
        parts = _NUMBER.split(old)
        numbers = list(a)
        numbers[i] = str(total)
        self.notes[at] = "".join(
            p + (numbers[j] if j < len(numbers) else "") for j, p in enumerate(parts)
        )


_NUMBER = re.compile(r"\d[\d,]*")


class InProcess:
    """Screen each chunk in this process, one after the other (the layers loaded once)."""

    workers = 1

    def submit(self, job: ChunkJob, sites: Any, positions: np.ndarray) -> ChunkOutput:
        """Screen now; the "future" is the output itself.

        Parameters
        ----------
        job : ChunkJob
        sites : Sites
        positions : ndarray

        Returns
        -------
        ChunkOutput
        """
        return screen_chunk(job, sites, positions)

    def result(self, future: Any) -> ChunkOutput:
        """The output of :meth:`submit`.

        Parameters
        ----------
        future : ChunkOutput

        Returns
        -------
        ChunkOutput
        """
        return future

    def cancel(self, futures: Iterable[Any]) -> None:
        """Nothing to cancel.

        Parameters
        ----------
        futures : iterable
        """

    def close(self) -> None:
        """Nothing to close."""


class DaskExecutor:
    """Screen chunks on a dask.distributed cluster.

    Parameters
    ----------
    workers : int, optional
        Start a ``LocalCluster`` of this many worker processes (one thread each).
    scheduler : str, optional
        Connect to an existing scheduler (``tcp://HOST:PORT``) instead.
    timeout : float
        Seconds to wait for the scheduler.

    Raises
    ------
    SchedulerError
        The scheduler cannot be reached (one line), or dask.distributed is not installed.
    """

    def __init__(
        self, workers: int | None = None, scheduler: str | None = None, timeout: float = 10.0
    ) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise SchedulerError(
                "--workers / --scheduler need dask.distributed: pip install 'zoning[distributed]'"
            ) from None
        for name in ("distributed", "distributed.scheduler", "distributed.nanny"):
            logging.getLogger(name).setLevel(logging.ERROR)
        self.cluster = None
        if scheduler is not None:
            try:
                self.client = Client(scheduler, timeout=f"{timeout}s", set_as_default=False)
            except (OSError, TimeoutError, ValueError) as exc:
                raise SchedulerError(
                    f"--scheduler {scheduler}: cannot reach the dask scheduler "
                    f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
                ) from None
        else:
            self.cluster = LocalCluster(
                n_workers=int(workers or 1),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            self.client = Client(self.cluster, set_as_default=False)
        info = self.client.scheduler_info()
        self.workers = max(len(info.get("workers", {})), 1)

    def submit(self, job: ChunkJob, sites: Any, positions: np.ndarray) -> Any:
        """Send one chunk to the cluster.

        Parameters
        ----------
        job : ChunkJob
        sites : Sites
        positions : ndarray

        Returns
        -------
        distributed.Future
        """
        return self.client.submit(screen_chunk, job, sites, positions, pure=False)

    def result(self, future: Any) -> ChunkOutput:
        """Wait for a chunk and fetch its output.

        Parameters
        ----------
        future : distributed.Future

        Returns
        -------
        ChunkOutput
        """
        from distributed import KilledWorker

        try:
            out = future.result()
        except KilledWorker as exc:
            raise SchedulerError(
                f"dask workers died while screening a chunk ({exc}); nothing was written"
            ) from None
        future.release()
        return out

    def cancel(self, futures: Iterable[Any]) -> None:
        """Cancel chunks still out (after a failure or an interruption).

        Parameters
        ----------
        futures : iterable of distributed.Future
        """
        futures = list(futures)
        if futures:
            try:
                self.client.cancel(futures)
            except Exception:
                pass

    def close(self) -> None:
        """Close the client (and the local cluster it started)."""
        try:
            self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()


def _blocks(chunks: Iterator[Any], size: int, k: int) -> Iterator[tuple[Any, np.ndarray, Any]]:
    """(sites, positions, rejected) of chunks of ``size``: ``k`` chunks read, sorted along a
    Hilbert curve together, split again (``k`` = 1: as read)."""
    from ..sites.chunks import take_sites
    from .spatial import hilbert_order

    while True:
        block = []
        for chunk in chunks:
            block.append(chunk)
            if len(block) == k:
                break
        if not block:
            return
        if k == 1:
            c = block[0]
            yield _lean(c.sites), c.positions, c.rejected
            continue
        sites = _concat([c.sites for c in block])
        positions = np.concatenate([c.positions for c in block])
        rejected = [c.rejected for c in block if c.rejected is not None]
        del block
        order = hilbert_order(sites.gdf.geometry.to_numpy())
        for i, start in enumerate(range(0, len(order), size)):
            idx = order[start : start + size]
            yield (
                take_sites(sites, idx),
                positions[idx],
                pd.concat(rejected, ignore_index=True) if rejected and i == 0 else None,
            )


def _lean(sites: Any) -> Any:
    """The sites without the raw input table (not needed to screen, not worth sending)."""
    from dataclasses import replace

    rows = sites.input_rows
    if rows is None or rows.table is None:
        return sites
    return replace(sites, input_rows=replace(rows, table=None, rejected=None))


def _concat(parts: list[Any]) -> Any:
    """Sites of consecutive chunks as one (for sorting a block)."""
    from dataclasses import replace

    import geopandas as gpd

    gdf = gpd.GeoDataFrame(
        pd.concat([p.gdf for p in parts], ignore_index=True), crs=parts[0].gdf.crs
    )
    rows = parts[0].input_rows
    if rows is not None:
        rows = replace(
            rows,
            table=None,
            rejected=None,
            rows=np.concatenate([p.input_rows.rows for p in parts]),
            sites=np.concatenate([p.input_rows.sites for p in parts]),
        )
    notes = list(dict.fromkeys(n for p in parts for n in p.notes))
    return replace(parts[0], gdf=gdf, input_rows=rows, notes=notes)


def run_chunks(
    chunks: Iterable[Any],
    job: ChunkJob,
    out_dir: str | Path | None,
    *,
    executor: Any = None,
    chunk_size: int,
    in_flight: int | None = None,
    progress: Callable[[int], object] | None = None,
    sort_blocks: int | None = None,
) -> ChunkedRun:
    """Screen ``chunks`` and append their tables to Parquet files in ``out_dir``, all or
    nothing.

    Parameters
    ----------
    chunks : iterable of SitesChunk
        :func:`zoning.sites.chunks.iter_site_chunks`.
    job : ChunkJob
        What to screen against.
    out_dir : path, optional
        The output folder (None: screen and count only).
    executor : InProcess or DaskExecutor, optional
        Default :class:`InProcess`.
    chunk_size : int
        Sites per chunk (the chunks given are re-split to it after sorting).
    in_flight : int, optional
        Most chunks sent and not yet written (default: twice the workers, at least 2).
    progress : callable, optional
        ``progress(sites_done)`` after each chunk is written.
    sort_blocks : int, optional
        Chunks read and sorted along a Hilbert curve together (default: 1 in process, the
        in-flight count on a cluster).

    Returns
    -------
    ChunkedRun

    Raises
    ------
    ZoningError
        Bad sites (from the chunk that holds them) or bad layers; nothing written.
    """
    executor = executor or InProcess()
    in_flight = in_flight or max(2, 2 * executor.workers)
    k = sort_blocks or (1 if isinstance(executor, InProcess) else in_flight)
    run = ChunkedRun(workers=executor.workers)
    clock = time.perf_counter()
    rejected: list[pd.DataFrame] = []
    pending: deque = deque()

    def drain(appender: Any, limit: int) -> None:
        while len(pending) > limit:
            out = executor.result(pending.popleft())
            if appender is not None:
                appender.append(out.tables)
                for name in ("sites", "hits", "clauses"):
                    run.rows[name] = run.rows.get(name, 0) + out.tables[name].num_rows
            run.add(out)
            if progress is not None:
                progress(run.n_sites)

    def work(appender: Any) -> None:
        try:
            for sites, positions, bad in _blocks(iter(chunks), chunk_size, k):
                if bad is not None:
                    rejected.append(bad)
                pending.append(executor.submit(job, sites, positions))
                drain(appender, in_flight - 1)
            drain(appender, 0)
        except BaseException:
            executor.cancel(pending)
            pending.clear()
            raise

    if out_dir is None:
        work(None)
    else:
        from ..screening.outputs import output_folder
        from .writer import ParquetAppender

        planned = [*PARQUET_OUTPUTS, "rejected.csv"]
        with output_folder(out_dir, planned, {"tool_version": _version()}) as tmp:
            appender = ParquetAppender(tmp)
            try:
                work(appender)
            except BaseException:
                appender.abort()
                raise
            run.rejected = pd.concat(rejected, ignore_index=True) if rejected else None
            run.seconds = time.perf_counter() - clock
            update = {
                "verdicts": {v: int(n) for v, n in run.verdicts.items()},
                "duration_s": round(run.seconds, 3),
                "notes": run.notes,
            }
            run.written = appender.close(_summary(run, chunk_size), update)
            if run.rejected is not None and len(run.rejected):
                run.rejected.drop(columns="position").to_csv(
                    tmp / "rejected.csv", index=False, encoding="utf-8-sig"
                )
                run.written.append("rejected.csv")
    run.rejected = pd.concat(rejected, ignore_index=True) if rejected else None
    run.seconds = time.perf_counter() - clock
    return run


def _summary(run: ChunkedRun, chunk_size: int) -> dict[str, Any]:
    """The whole run, for the files' metadata."""
    return {
        "sites": run.n_sites,
        "chunks": run.n_chunks,
        "chunk_size": chunk_size,
        "workers": run.workers,
        "verdicts": dict(run.verdicts),
        "rejected_rows": 0 if run.rejected is None else len(run.rejected),
        "note": "written chunk by chunk; each chunk's provenance is the run's (same layers, "
        "rules and day)",
    }


def _version() -> str:
    from .._version import __version__

    return __version__
