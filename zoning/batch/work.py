"""What a worker does with a chunk: screen it against layers prepared once per process.

:class:`ChunkJob` names what to screen against (catalog, layer files, rules, day, index cache,
engine options) by paths, never by loaded objects, so that a task sent to a worker is small.
:func:`prepared` loads the layers and the rules once per process and keeps them (a memo keyed
by the job's paths and day): every later chunk a worker screens reuses the loaded layers and
the indexes the engine built on them.  :func:`screen_chunk` screens one chunk and returns its
result tables as Arrow tables (:func:`zoning.batch.tables.chunk_tables`) and its counts.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["ChunkJob", "ChunkOutput", "prepared", "screen_chunk"]

_MEMO: dict[tuple, tuple[Any, Any]] = {}
_LOCK = threading.Lock()
#: How many times this process loaded layers (one per run it served; a test reads it).
LOADS: list[tuple] = []


@dataclass(frozen=True)
class ChunkJob:
    """What every chunk of a run is screened against, and how (paths and options only).

    Attributes
    ----------
    catalog_path : str, optional
        The catalog (None: the bundled demonstration catalog).  On a cluster, a path every
        worker can read.
    layer_specs : tuple of str
        ``KIND=PATH`` layer files replacing the catalog's (paths the workers can read).
    rules_path : str, optional
        The rule set (None: the bundled demonstration rules).
    as_of : str
        The day (``YYYY-MM-DD``) whose rules and layers apply.
    index_cache : str, optional
        The prepared-index cache folder (``--index-cache``; ``off``: none), read by every
        worker: on a cluster a shared folder, else each worker's own ``ZONING_INDEX_CACHE`` or
        user cache folder (None).
    search_radius : float, optional
    pieces, rings : bool
    on_layer_error : {"raise", "unknown"}
    total_sites : int, optional
        Sites of the whole run (the clause table is cut down by it, as for a whole run).
    """

    catalog_path: str | None = None
    layer_specs: tuple[str, ...] = ()
    rules_path: str | None = None
    as_of: str = ""
    index_cache: str | None = None
    search_radius: float | None = None
    pieces: bool = True
    rings: bool = True
    on_layer_error: str = "raise"
    total_sites: int | None = None

    @property
    def key(self) -> tuple:
        """What the prepared layers depend on (the memo's key)."""
        return (self.catalog_path, self.layer_specs, self.rules_path, self.as_of, self.index_cache)


@dataclass
class ChunkOutput:
    """One screened chunk: its tables and counts.

    Attributes
    ----------
    tables : dict of str to pyarrow.Table
        ``sites``, ``hits``, ``clauses`` and ``codes`` (:func:`~.tables.chunk_tables`).
    n_sites : int
    verdicts : Counter
        Sites per verdict.
    notes : list of str
    provenance : dict
        The chunk's provenance (the first chunk's is the run's).
    positions : ndarray of int64
        Each site's position in the input, in the order of the ``sites`` table.
    pid : int
        The process that screened it.
    """

    tables: dict
    n_sites: int
    verdicts: Counter
    notes: list[str] = field(default_factory=list)
    provenance: dict = field(default_factory=dict)
    positions: np.ndarray | None = None
    pid: int = 0


def prepared(job: ChunkJob):
    """The layers and rules of ``job``, loaded once per process and kept.

    Parameters
    ----------
    job : ChunkJob

    Returns
    -------
    (LayerSet, RuleSet)
        The same objects for every call with the same paths and day: the engine's indexes
        built on the layers by the first chunk serve the next ones.
    """
    with _LOCK:
        hit = _MEMO.get(job.key)
        if hit is not None:
            return hit
        from ..dates import as_of_date
        from ..layerset import load_catalog
        from ..rules import load_rules

        day = as_of_date(job.as_of or None)
        layers = load_catalog(
            job.catalog_path, layers=list(job.layer_specs), as_of=day, **_cache(job)
        )
        rule_set = load_rules(job.rules_path).in_force(day)
        _MEMO.clear()  # one run at a time per process: never two catalogs held
        _MEMO[job.key] = (layers, rule_set)
        LOADS.append(job.key)
        return layers, rule_set


def _cache(job: ChunkJob) -> dict[str, Any]:
    """The index cache this worker's layers load from and write to (``load_catalog``'s
    keyword): ``job.index_cache``, else this machine's ``ZONING_INDEX_CACHE`` or user cache
    folder; nothing where the loader takes no cache."""
    try:
        from ..io.cachedir import resolve_index_cache
    except ImportError:  # no persistent index cache in this version
        if job.index_cache:
            os.environ["ZONING_INDEX_CACHE"] = job.index_cache
        return {}
    return {"index_cache": resolve_index_cache(job.index_cache)}


def screen_chunk(job: ChunkJob, sites: Any, positions: np.ndarray) -> ChunkOutput:
    """Screen one chunk of sites (in this process, or on a dask worker).

    Parameters
    ----------
    job : ChunkJob
    sites : Sites
        The chunk (:class:`zoning.sites.chunks.SitesChunk`'s ``sites``).
    positions : ndarray of int64
        Each site's position in the whole input.

    Returns
    -------
    ChunkOutput
    """
    from ..screening import screen
    from .tables import chunk_tables

    layers, rule_set = prepared(job)
    result = screen(
        sites,
        layers,
        rules=rule_set,
        search_radius_m=job.search_radius,
        pieces=job.pieces,
        rings=job.rings,
        on_layer_error=job.on_layer_error,
        as_of=rule_set.as_of,
    )
    counts = Counter({k: int(v) for k, v in result.verdict_counts().items() if v})
    prov = dict(result.provenance)
    return ChunkOutput(
        tables=chunk_tables(result, job.total_sites),
        n_sites=len(result.sites),
        verdicts=counts,
        notes=list(result.notes),
        provenance=prov,
        positions=np.asarray(positions, dtype="int64"),
        pid=os.getpid(),
    )
