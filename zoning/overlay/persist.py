"""A LayerIndex's derived data as arrays, for the index cache (:mod:`zoning.io.cachedir`).

What is kept (the expensive part of an index, :data:`PERSISTED`): the pieces and their
owners, the boundary chunks and their owners, the :class:`~zoning.overlay.cellgrid.CellGrid`
and the dissolved pieces.  What is not (:data:`EXCLUDED`): the STRtrees and prepared
geometries, rebuilt from those arrays on load (a few milliseconds per layer), and what is
computed from them in microseconds.  Each part is written when the index first computes it,
so a cache entry holds what the screenings so far needed; ``zoning index build`` computes all.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..io.layercache import geoms_from_arrays, geoms_to_arrays
from .cellgrid import CellGrid, narrow_int

__all__ = [
    "EXCLUDED",
    "PERSISTED",
    "dump_part",
    "load_part",
    "narrow_int",
    "prepare_index",
    "prepared_layers",
]


#: The cached properties of :class:`~zoning.overlay.LayerIndex` the cache keeps, by the entry
#: part each goes to.  Keep in step with LayerIndex (a test checks every cached property is
#: here or in :data:`EXCLUDED`) and bump :data:`zoning.io.cachedir.FORMAT_VERSION` when a
#: layout changes.
PERSISTED = {"_pieces": "pieces", "_chunks": "chunks", "grid": "grid", "dissolved": "dissolved"}
#: The cached properties deliberately not kept, and why.
EXCLUDED = {
    "piece_tree": "an STRtree, rebuilt from the pieces",
    "chunk_tree": "an STRtree, rebuilt from the chunks",
    "chunk_bounds": "shapely.bounds of the chunks (microseconds)",
    "_prepared_geoms": "prepared copies of the features (rebuilt from the layer)",
}


def dump_part(name: str, value: Any) -> tuple[dict[str, np.ndarray], dict]:
    """One cached property of a LayerIndex as arrays and metadata.

    Parameters
    ----------
    name : str
        A key of :data:`PERSISTED`.
    value : object
        The property's value.

    Returns
    -------
    (dict of arrays, dict)
    """
    if name in ("_pieces", "_chunks"):
        geoms, owner = value
        wkb, offsets = geoms_to_arrays(geoms)
        return {"wkb": wkb, "wkb_offsets": offsets, "owner": narrow_int(owner)}, {}
    if name == "dissolved":
        wkb, offsets = geoms_to_arrays(value[0])
        return {"wkb": wkb, "wkb_offsets": offsets}, {}
    if name == "grid":
        if value is None:
            return {}, {"grid": None}
        g: CellGrid = value
        # Stored as built: in the narrow integer dtypes CellGrid.build chose from the values'
        # ranges (int8 codes for up to 126 features); refused when not integers.
        arrays = {
            "code": g.code,
            "nearest": g.nearest,
            "crossed": g.crossed,
            "crossed_by": g.crossed_by,
        }
        if any(np.asarray(a).dtype.kind != "i" for a in arrays.values()):
            raise TypeError("grid arrays are not of signed integers")
        return arrays, {"grid": {"x0": g.x0, "y0": g.y0, "size": g.size}}
    raise KeyError(name)


def load_part(name: str, arrays: dict[str, np.ndarray], meta: dict, n_features: int) -> Any:
    """The value of one cached property from what :func:`dump_part` stored.

    Parameters
    ----------
    name : str
        A key of :data:`PERSISTED`.
    arrays, meta
        As stored.
    n_features : int
        The layer's number of features (owners are checked against it).

    Returns
    -------
    object
        The property's value (STRtrees of ``dissolved`` rebuilt here).

    Raises
    ------
    ValueError, KeyError
        Stored data that does not fit (the caller ignores the entry and rebuilds).
    """
    if name in ("_pieces", "_chunks"):
        geoms = geoms_from_arrays(arrays["wkb"], arrays["wkb_offsets"])
        owner = np.array(arrays["owner"], dtype=np.int64)
        if len(owner) != len(geoms) or (
            len(owner) and (owner.min() < 0 or owner.max() >= n_features)
        ):
            raise ValueError("owners do not fit the features")
        return geoms, owner
    if name == "dissolved":
        import shapely

        pieces = geoms_from_arrays(arrays["wkb"], arrays["wkb_offsets"])
        shapely.prepare(pieces)
        return pieces, shapely.STRtree(pieces)
    if name == "grid":
        spec = meta["grid"]
        if spec is None:
            return None
        code, nearest = arrays["code"], arrays["nearest"]
        crossed, crossed_by = arrays["crossed"], arrays["crossed_by"]
        if code.ndim != 2 or nearest.shape != code.shape or crossed_by.shape != (len(crossed), 2):
            raise ValueError("grid arrays do not fit together")
        if any(a.dtype.kind != "i" for a in (code, nearest, crossed, crossed_by)):
            raise ValueError("grid arrays are not of integers")
        return CellGrid(
            float(spec["x0"]), float(spec["y0"]), float(spec["size"]),
            code, nearest, crossed, crossed_by,
        )  # fmt: skip
    raise KeyError(name)


def prepare_index(index: Any) -> None:
    """Compute (or load from the index cache) every part of a LayerIndex the cache keeps.

    Parameters
    ----------
    index : LayerIndex
        Its :data:`PERSISTED` properties are computed once; with a store, each part not cached
        yet is written.

    Notes
    -----
    What ``zoning index build`` runs per layer; a screening computes only the parts it needs.
    """
    for name in PERSISTED:
        getattr(index, name)


def prepared_layers(
    catalog: Any = None,
    *,
    index_cache: Any,
    as_of: object = None,
    layers: Any = (),
    build: bool = False,
) -> Any:
    """A LayerSet whose layers and indexes are loaded from the index cache (for workers).

    Parameters
    ----------
    catalog : path, optional
        The catalog (None: the demonstration catalog).
    index_cache : IndexCache, path or True
        The cache folder every worker shares (see :class:`~zoning.layerset.LayerSet`).
    as_of : date or ``"YYYY-MM-DD"``, optional
        The day whose layers are in force (default today in Asia/Shanghai).
    layers : iterable of ``"KIND=PATH"``, optional
        Ad-hoc layers, as :func:`~zoning.layerset.load_catalog`.
    build : bool
        Also build (and store) the parts not cached yet, as ``zoning index build``; else
        they are built on first use.

    Returns
    -------
    LayerSet
        Every layer in force read, its index made and its cached parts loaded (memory-mapped
        arrays, STRtrees rebuilt on first use); layers that fail to load are left for the
        screening to report.

    Notes
    -----
    With a warm cache this costs the hashing of the layer files, the check of the entries and
    the decoding of the geometries: well under a second for the demonstration catalog.
    """
    from ..errors import ZoningError
    from ..layerset import load_catalog

    ls = load_catalog(catalog, layers=layers, as_of=as_of, index_cache=index_cache)
    for entry in ls.catalog.layers:
        try:
            layer = ls[entry.id]
        except ZoningError:
            continue
        index = layer.index
        store = layer.store
        for name, part in PERSISTED.items():
            if build or (store is not None and part in store.parts):
                getattr(index, name)
    return ls
