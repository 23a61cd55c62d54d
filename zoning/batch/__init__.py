"""Big runs: sites screened and written in chunks, in this process or on dask.distributed.

- :mod:`.run`: :func:`run_chunks`, the chunked run inside the output transaction, with the
  executors :class:`InProcess` and :class:`DaskExecutor`;
- :mod:`.work`: what a worker does (:func:`screen_chunk`, layers prepared once per process);
- :mod:`.tables`: a chunk's Arrow tables; :mod:`.writer`: appending them to Parquet;
- :mod:`.spatial`: the Hilbert order that makes chunks spatially compact.
"""

from __future__ import annotations

from .run import PARQUET_OUTPUTS, ChunkedRun, DaskExecutor, InProcess, SchedulerError, run_chunks
from .work import ChunkJob, ChunkOutput, prepared, screen_chunk

__all__ = [
    "PARQUET_OUTPUTS",
    "ChunkJob",
    "ChunkOutput",
    "ChunkedRun",
    "DaskExecutor",
    "InProcess",
    "SchedulerError",
    "prepared",
    "run_chunks",
    "screen_chunk",
]
