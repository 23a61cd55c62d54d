"""A catalog's layers, loaded on demand into the working CRS with their load reports."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import shapely

from .catalog import Catalog, LayerEntry, parse_layer_spec, read_catalog
from .crs import WORKING_CRS
from .io import LoadReport, read_layer, resolve_source

__all__ = ["Layer", "LayerSet", "load_catalog"]


@dataclass(frozen=True)
class Layer:
    """One loaded layer: its catalog entry, its features (working CRS) and its load report."""

    entry: LayerEntry
    gdf: gpd.GeoDataFrame
    report: LoadReport

    @property
    def id(self) -> str:
        return self.entry.id

    @property
    def kind(self) -> str:
        return self.entry.kind

    @cached_property
    def _union(self):
        return shapely.union_all(self.gdf.geometry.to_numpy())

    def union(self):
        """The union of all features (overlaps inside the layer counted once); computed once."""
        return self._union

    @cached_property
    def index(self):
        """The overlay engine's index of this layer (:class:`zoning.overlay.LayerIndex`)."""
        from .overlay import LayerIndex

        return LayerIndex(
            self.gdf.geometry.to_numpy(),
            tolerance_m=self.entry.positional_tolerance_m or 0.0,
            rings_m=self.entry.buffer_rings_m,
        )

    @cached_property
    def attributes(self):
        """``feature_id`` and the standard attribute columns (None where the layer lacks one)."""
        from .overlay import STANDARD_ATTRIBUTES

        out = {"feature_id": self.gdf["feature_id"].astype(str).to_numpy(dtype=object)}
        for col in STANDARD_ATTRIBUTES:
            if col in self.gdf.columns:
                vals = self.gdf[col]
                out[col] = vals.astype(object).where(vals.notna(), None).to_numpy(dtype=object)
        import pandas as pd

        return pd.DataFrame(out)

    def area_km2(self) -> float:
        """Area of the union of the layer's features, km² (equal-area working CRS)."""
        return float(shapely.area(self.union())) / 1e6 if len(self.gdf) else 0.0


class LayerSet:
    """The layers of a catalog.  Layers are read on first access and then cached.

    Iterate for :class:`Layer` objects in catalog order; index by layer id;
    :meth:`of_kind` selects by kind.  Every layer is in :data:`WORKING_CRS`.
    """

    crs = WORKING_CRS

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self._cache: dict[str, Layer] = {}

    def __repr__(self) -> str:
        where = self.catalog.path or "catalog"
        return f"<LayerSet {where}: {', '.join(e.id for e in self.catalog.layers)}>"

    @property
    def ids(self) -> list[str]:
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
            gdf, report = read_layer(entry, self.catalog.base_dir)
            self._cache[layer_id] = Layer(entry, gdf, report)
        return self._cache[layer_id]

    def __iter__(self) -> Iterator[Layer]:
        for layer_id in self.ids:
            yield self[layer_id]

    def of_kind(self, kind: str) -> list[Layer]:
        """The loaded layers of one kind (possibly none)."""
        return [self[e.id] for e in self.catalog.of_kind(kind)]

    def source_of(self, layer_id: str) -> str:
        entry = self.catalog.by_id(layer_id)
        return resolve_source(entry, self.catalog.base_dir)


def load_catalog(
    path: str | Path | None = None, *, layers: Iterable[str | LayerEntry] = ()
) -> LayerSet:
    """Load a layer catalog (the bundled Shanghai demonstration catalog by default).

    Parameters
    ----------
    path : path, optional
        A catalog YAML file.  ``None`` selects the demonstration catalog.
    layers : iterable of ``"KIND=PATH"`` strings or LayerEntry, optional
        Ad-hoc layers; each replaces the catalog's layers of its kind.

    Returns
    -------
    LayerSet
        Layers are read lazily, on first access.

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
    return LayerSet(catalog)
