"""A catalog's layers, loaded on demand into the working CRS with their load reports.

Also the one district lookup of the toolkit (:meth:`LayerSet.districts`,
:meth:`LayerSet.district`): indicators, public pages, maps and rasters name districts the same
way (Chinese name with or without 区, English name with or without "District", feature id or
adcode).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .catalog import Catalog, LayerEntry, parse_layer_spec, read_catalog
from .crs import WORKING_CRS
from .dates import as_of_date
from .errors import LayerDataError, UnknownDistrictError, quote
from .io import LoadReport, read_layer, resolve_source
from .io.cachedir import IndexCache, resolve_index_cache
from .io.layercache import LayerStore, layer_store
from .schema import STANDARD_ATTRIBUTES

__all__ = ["District", "Layer", "LayerSet", "district_key", "load_catalog", "register_derived"]

#: How later stages build what they derive from a layer (:meth:`Layer.derived`), by name.
#: Filled when those stages are imported (the overlay engine registers ``"index"``), so that
#: this module, below them, never imports them.
_BUILDERS: dict[str, Callable[[Layer], Any]] = {}


def register_derived(name: str, build: Callable[[Layer], Any]) -> None:
    """Register how a later stage builds a structure it derives from a layer.

    Parameters
    ----------
    name : str
        The name :meth:`Layer.derived` is asked for.
    build : callable
        ``build(layer)`` returns the structure; called once per layer, on first use.
    """
    _BUILDERS[name] = build


@dataclass(frozen=True)
class Layer:
    """One loaded layer: its catalog entry, its features (working CRS) and its load report.

    ``store`` is the layer's entries in the index cache (:class:`~zoning.io.layercache.LayerStore`;
    None without a cache): the overlay engine loads its index from there and keeps it there.
    """

    entry: LayerEntry
    gdf: gpd.GeoDataFrame
    report: LoadReport
    store: LayerStore | None = field(default=None, compare=False, repr=False)
    _derived: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def id(self) -> str:
        """The catalog id of the layer."""
        return self.entry.id

    @property
    def kind(self) -> str:
        """The layer kind (a key of :data:`zoning.catalog.KINDS`)."""
        return self.entry.kind

    @cached_property
    def _union(self):
        return shapely.union_all(self.gdf.geometry.to_numpy())

    def union(self):
        """The union of all features (overlaps inside the layer counted once); computed once."""
        return self._union

    def derived(self, name: str) -> Any:
        """A structure a later stage derives from this layer, built once and kept with it.

        Parameters
        ----------
        name : str
            A name registered with :func:`register_derived` (the overlay engine registers
            ``"index"``).

        Returns
        -------
        object
            What the registered builder returns for this layer; built on first use.

        Raises
        ------
        KeyError
            When nothing is registered under ``name``.
        """
        if name not in self._derived:
            if name not in _BUILDERS:
                known = ", ".join(sorted(_BUILDERS)) or "none (import zoning.overlay)"
                raise KeyError(f"nothing derives {quote(name)} from a layer (registered: {known})")
            self._derived[name] = _BUILDERS[name](self)
        return self._derived[name]

    @property
    def index(self) -> Any:
        """The overlay engine's index of this layer (:class:`zoning.overlay.LayerIndex`).

        Built on first use and kept with the layer (``derived("index")``); the engine
        registers how to build it, so this module never imports the engine.
        """
        return self.derived("index")

    @cached_property
    def attributes(self) -> pd.DataFrame:
        """``feature_id`` and the standard attribute columns (None where the layer lacks one)."""
        out = {"feature_id": self.gdf["feature_id"].astype(str).to_numpy(dtype=object)}
        for col in STANDARD_ATTRIBUTES:
            if col in self.gdf.columns:
                vals = self.gdf[col]
                out[col] = vals.astype(object).where(vals.notna(), None).to_numpy(dtype=object)
        return pd.DataFrame(out)

    def area_km2(self) -> float:
        """Area of the union of the layer's features, km² (equal-area working CRS)."""
        return float(shapely.area(self.union())) / 1e6 if len(self.gdf) else 0.0


class LayerSet:
    """The layers of a catalog in force on a day.  Layers are read on first access and cached.

    Iterate for :class:`Layer` objects in catalog order; index by layer id;
    :meth:`of_kind` selects by kind; :meth:`districts` and :meth:`district` name districts.
    Only the layers in force on :attr:`as_of` are seen (a catalog may hold several vintages
    of one kind, each with ``valid_from`` / ``valid_to``); :meth:`at` gives the same catalog
    on another day, sharing the layers already read.

    Parameters
    ----------
    catalog : Catalog
        A validated catalog (:func:`zoning.read_catalog`); usually made by
        :func:`load_catalog`.
    as_of : date, datetime or ``"YYYY-MM-DD"``, keyword-only, optional
        The day; default today in Asia/Shanghai (:func:`zoning.dates.today`).
    index_cache : IndexCache, path, ``True`` or None, keyword-only, optional
        Where layers as read and their overlay indexes are kept between processes
        (:class:`~zoning.io.cachedir.IndexCache`; a path makes one).  ``True``: the folder
        ``ZONING_INDEX_CACHE`` names, else the user cache folder
        (:func:`~zoning.io.cachedir.resolve_index_cache`).  None or False (the default): no
        cache, every process reads and indexes the layers.

    Attributes
    ----------
    catalog : Catalog
        The layers in force on :attr:`as_of`.
    all_catalog : Catalog
        Every layer of the catalog, whatever its days.
    as_of : datetime.date
    crs : pyproj.CRS
        :data:`zoning.WORKING_CRS`: every layer is reprojected into it when read.
    index_cache : IndexCache or None

    Raises
    ------
    ZoningError
        ``as_of`` is not a date.
    CatalogError
        No layer of the catalog is in force on ``as_of``.

    Notes
    -----
    Building a LayerSet reads nothing.  The first access of a layer reads its file,
    repairs and reprojects it (:func:`zoning.read_layer`); the layer then stays in memory
    with the LayerSet.  Measured on a 2-core machine, in a fresh process: reading all ten
    demonstration layers (599 features, a 4 MB GeoPackage) took 0.36 s, and the whole
    process peaked at 165 MB of resident memory, imports included.  The overlay engine's
    index of each layer (:attr:`Layer.index`) is built on the first screening and kept too:
    that first screening takes about 5 s on the demonstration catalog, later ones in the same
    process reuse it (see :func:`zoning.screen`).  Keep one LayerSet for many screenings.
    """

    crs = WORKING_CRS

    def __init__(self, catalog: Catalog, *, as_of: object = None, index_cache: Any = None):
        self.all_catalog = catalog
        self.index_cache = _index_cache(index_cache)
        self.as_of = as_of_date(as_of)
        self.catalog = catalog.in_force(self.as_of)
        self._cache: dict[str, Layer] = {}
        self._districts: list[District] | None = None

    def at(self, as_of: object) -> LayerSet:
        """The same catalog as in force on another day, sharing the layers read so far.

        Parameters
        ----------
        as_of : date, datetime or ``"YYYY-MM-DD"``

        Returns
        -------
        LayerSet
            ``self`` when the day is the same; else a LayerSet over the same catalog whose
            layers (and their overlay indexes) are read once for both.

        Raises
        ------
        ZoningError
            ``as_of`` is not a date.
        CatalogError
            No layer is in force on that day.
        """
        day = as_of_date(as_of)
        if day == self.as_of:
            return self
        other = LayerSet.__new__(LayerSet)
        other.all_catalog, other.as_of = self.all_catalog, day
        other.index_cache = self.index_cache
        other.catalog = self.all_catalog.in_force(day)
        other._cache, other._districts = self._cache, None
        return other

    @property
    def not_in_force(self) -> list[LayerEntry]:
        """The catalog's layers not in force on :attr:`as_of`, in catalog order."""
        seen = set(self.ids)
        return [e for e in self.all_catalog.layers if e.id not in seen]

    def __repr__(self) -> str:
        where = self.catalog.path or "catalog"
        ids = ", ".join(e.id for e in self.catalog.layers)
        return f"<LayerSet {where} as of {self.as_of}: {ids}>"

    @property
    def ids(self) -> list[str]:
        """The layer ids in catalog order (nothing is loaded)."""
        return [e.id for e in self.catalog.layers]

    @property
    def is_demonstration(self) -> bool:
        """True when any layer is demonstration data."""
        return any(e.is_demonstration for e in self.catalog.layers)

    def __len__(self) -> int:
        return len(self.catalog.layers)

    def __contains__(self, layer_id: object) -> bool:
        return layer_id in self.ids

    def __getitem__(self, layer_id: str) -> Layer:
        if layer_id not in self._cache:
            entry = self.catalog.by_id(layer_id)
            self._cache[layer_id] = self._read(entry)
        return self._cache[layer_id]

    def _read(self, entry: LayerEntry) -> Layer:
        """Read one layer: from the index cache when there, else from its source (and then
        into the cache)."""
        base = self.catalog.base_dir
        store = None if self.index_cache is None else layer_store(self.index_cache, entry, base)
        loaded = None if store is None else store.load_layer()
        if loaded is None:
            gdf, report = read_layer(entry, base, sha256=None if store is None else store.digest)
            if store is not None:
                store.save_layer(gdf, report)
        else:
            gdf, report = loaded
        if store is not None and store.notes:
            report.notes.extend(store.notes)
        return Layer(entry, gdf, report, store)

    def __iter__(self) -> Iterator[Layer]:
        for layer_id in self.ids:
            yield self[layer_id]

    def of_kind(self, kind: str) -> list[Layer]:
        """The loaded layers of one kind (possibly none).

        Parameters
        ----------
        kind : str
            A layer kind; an unknown kind gives an empty list.

        Returns
        -------
        list of Layer
            In catalog order.

        Raises
        ------
        LayerReadError, CRSError, LayerDataError
            From :func:`~zoning.io.read_layer`, for a layer read here for the first time.

        Notes
        -----
        Reads (and keeps) every layer of the kind not read yet; later calls reuse them.
        """
        return [self[e.id] for e in self.catalog.of_kind(kind)]

    def source_of(self, layer_id: str) -> str:
        """The resolved source (path or URL) of a layer, as the catalog names it.

        Parameters
        ----------
        layer_id : str

        Returns
        -------
        str
            As :func:`~zoning.io.resolve_source`; the layer is not read.

        Raises
        ------
        CatalogError
            No layer has that id.
        """
        entry = self.catalog.by_id(layer_id)
        return resolve_source(entry, self.catalog.base_dir)

    def districts(self) -> list[District]:
        """The districts of the catalog's ``district`` layers, in catalog order.

        Rows that share a ``name`` form one district; a row without a name is named by its
        ``feature_id``.  Computed once per LayerSet.

        Returns
        -------
        list of District
            Empty when the catalog has no district layer.

        Raises
        ------
        LayerDataError
            A district layer's population field holds a value that is not a number.
        """
        if self._districts is None:
            self._districts = _group_districts(self.of_kind("district"))
        return list(self._districts)

    def district(self, name: str) -> District:
        """The district a name, English name or code denotes.

        Parameters
        ----------
        name : str
            The Chinese name with or without its 区 / 新区 suffix (``"金山区"``, ``"金山"``),
            the English name with or without "District" in any case (``"Jinshan"``,
            ``"Jinshan District"``), a feature id, or an adcode (``"310116"``).

        Returns
        -------
        District

        Raises
        ------
        UnknownDistrictError
            No district answers to ``name``; the message lists the known districts.
        """
        wanted = district_key(name)
        for d in self.districts():
            if wanted in d.keys:
                return d
        known = ", ".join(d.name for d in self.districts())
        known = known or "none: the catalog has no district layer"
        raise UnknownDistrictError(f"unknown district {quote(name)} (known: {known})")


@dataclass(frozen=True)
class District:
    """One district of a catalog: the rows of its district layers that share a name.

    Attributes
    ----------
    name : str
        The Chinese name (``name`` column), else the first row's feature id.
    name_en : str or None
        The English name of the first row that has one.
    codes : tuple of str
        Feature ids and adcodes of its rows.
    geometry : shapely geometry
        The union of its rows, in the working CRS.
    population : float or None
        The sum of the rows' population field, or None when the layer declares none.
    """

    name: str
    name_en: str | None
    codes: tuple[str, ...]
    geometry: Any
    population: float | None

    @property
    def keys(self) -> frozenset[str]:
        """Every normalised name this district answers to (see :func:`district_key`)."""
        names = [self.name, *self.codes]
        if self.name_en:
            names.append(self.name_en)
        keys = {district_key(n) for n in names}
        for suffix in ("新区", "区"):
            if self.name.endswith(suffix) and len(self.name) > len(suffix) + 1:
                keys.add(district_key(self.name[: -len(suffix)]))
        return frozenset(keys)


def district_key(name: Any) -> str:
    """A district name normalised for matching.

    Unicode compatibility forms folded (NFKC), case folded, spaces removed, and an English
    "district" suffix dropped: ``"Jinshan District"``, ``" jinshan "`` and ``"JINSHAN"`` give
    the same key.

    Parameters
    ----------
    name : object
        Any value; it is turned into ``str`` first.

    Returns
    -------
    str
        The key; when the text is exactly ``"district"`` it is kept rather than emptied.
    """
    text = "".join(unicodedata.normalize("NFKC", str(name)).casefold().split())
    stripped = text.removesuffix("district")
    return stripped or text


def _group_districts(layers: list[Layer]) -> list[District]:
    """Rows of the district layers grouped by name, in catalog order."""
    groups: dict[str, dict] = {}
    for layer in layers:
        gdf = layer.gdf
        fids = gdf["feature_id"].astype(str).to_numpy(dtype=object)
        names = gdf["name"] if "name" in gdf.columns else pd.Series([None] * len(gdf))
        en = gdf["name_en"] if "name_en" in gdf.columns else pd.Series([None] * len(gdf))
        codes = gdf["adcode"] if "adcode" in gdf.columns else pd.Series([None] * len(gdf))
        pops = _population(layer)
        for i in range(len(gdf)):
            name = str(names.iloc[i]) if pd.notna(names.iloc[i]) else fids[i]
            g = groups.setdefault(name, {"geoms": [], "en": None, "codes": [], "pops": []})
            g["geoms"].append(gdf.geometry.iloc[i])
            g["codes"].append(fids[i])
            if pd.notna(codes.iloc[i]):
                g["codes"].append(str(codes.iloc[i]))
            if g["en"] is None and pd.notna(en.iloc[i]) and str(en.iloc[i]).strip():
                g["en"] = str(en.iloc[i]).strip()
            g["pops"].append(None if pops is None else pops[i])
    return [
        District(
            name=name,
            name_en=g["en"],
            codes=tuple(dict.fromkeys(g["codes"])),
            geometry=shapely.union_all(np.asarray(g["geoms"], dtype=object)),
            population=None if None in g["pops"] else float(sum(g["pops"])),
        )
        for name, g in groups.items()
    ]


def _population(layer: Layer) -> np.ndarray | None:
    """The layer's declared population field as numbers (missing values as 0), or None."""
    field = layer.entry.fields.population
    if not field:
        return None
    values = layer.gdf[field]
    out = pd.to_numeric(values, errors="coerce")
    bad = values[out.isna() & values.notna()]
    if len(bad):
        raise LayerDataError(
            f"layer {quote(layer.id)} field {quote(field)}: {quote(bad.iloc[0])} is not a number"
        )
    return out.fillna(0).to_numpy(dtype=float)


def _index_cache(value: Any) -> IndexCache | None:
    """The index cache a LayerSet uses (see its ``index_cache`` parameter)."""
    if value is None or value is False:
        return None
    if value is True:
        return resolve_index_cache()
    if isinstance(value, IndexCache):
        return value
    return resolve_index_cache(value, environ={})


def load_catalog(
    path: str | Path | None = None,
    *,
    layers: Iterable[str | LayerEntry] = (),
    as_of: object = None,
    index_cache: Any = None,
) -> LayerSet:
    """Load a layer catalog (the bundled Shanghai demonstration catalog by default).

    Parameters
    ----------
    path : path, optional
        A catalog YAML file.  ``None`` selects the demonstration catalog.
    layers : iterable of ``"KIND=PATH"`` strings or LayerEntry, optional
        Ad-hoc layers; each replaces the catalog's layers of its kind.
    as_of : date, datetime or ``"YYYY-MM-DD"``, optional
        The day whose layers are seen (default: today in Asia/Shanghai); see
        :meth:`LayerSet.at` for other days.
    index_cache : IndexCache, path, ``True`` or None, optional
        Where prepared layers and indexes persist between processes (see :class:`LayerSet`);
        default none.

    Returns
    -------
    LayerSet
        Layers are read lazily, on first access.

    Raises
    ------
    CatalogError
        A catalog that does not validate, or with no layer in force on ``as_of``.
    ZoningError
        ``as_of`` is not a date.

    Examples
    --------
    >>> import zoning
    >>> ls = zoning.load_catalog()
    >>> ls["red_line"].report.features > 0
    True
    """
    catalog = read_catalog(path)
    extra = [parse_layer_spec(s) if isinstance(s, str) else s for s in layers]
    if extra:
        catalog = catalog.with_layers(extra)
    return LayerSet(catalog, as_of=as_of, index_cache=index_cache)
