"""The downloads of the public site: every layer as GeoJSON and all of them in one GeoPackage.

Only the whitelisted attribute columns plus the catalog's provenance are written
(:func:`download_columns`), in WGS84, at full resolution (coordinates snapped to
:data:`DOWNLOAD_PRECISION_DEG`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import shapely

from ..crs import WGS84
from ..errors import PublishError
from ..io import file_sha256
from ..layerset import LayerSet

__all__ = [
    "DOWNLOAD_PRECISION_DEG",
    "GPKG_NAME",
    "PROVENANCE_COLUMNS",
    "download_columns",
]

#: The GeoPackage with every layer.
GPKG_NAME = "zoning_layers.gpkg"
#: Coordinates of the downloads are snapped to this grid (degrees; 1e-7° is about 1 cm), and
#: vertices closer than this to the straight line through their neighbours are left out.
DOWNLOAD_PRECISION_DEG = 1e-7
#: Provenance columns added to every download (from the catalog, not from the data).
PROVENANCE_COLUMNS = ("status", "source", "vintage", "licence")


def download_columns(layer) -> list[str]:
    """The attribute columns a layer's downloads carry, in order.

    ``feature_id`` (the catalog's id column), the kind's whitelisted fields present in the
    layer (:func:`zoning.webmap.simplify.fields_for`), then :data:`PROVENANCE_COLUMNS` from
    the catalog.  No other column of the source is ever published.

    Parameters
    ----------
    layer : Layer
        A loaded layer of the catalog.

    Returns
    -------
    list of str
    """
    from ..webmap.simplify import fields_for

    fields = [f for f in fields_for(layer.kind) if f in layer.gdf.columns]
    return ["feature_id", *fields, *PROVENANCE_COLUMNS]


def _download_frame(layer):
    """The layer as published: whitelisted columns, WGS84, full resolution (see module doc)."""
    import geopandas as gpd

    prov = layer.entry.provenance
    meta = {
        "status": prov.status if prov else "unknown",
        "source": prov.source if prov else None,
        "vintage": prov.vintage if prov else None,
        "licence": prov.licence if prov else None,
    }
    cols = download_columns(layer)
    data = {}
    for c in cols:
        if c in meta:
            data[c] = [meta[c]] * len(layer.gdf)
        else:
            values = layer.gdf[c]
            data[c] = values.astype(object).where(values.notna(), None).to_numpy(dtype=object)
    wgs = layer.gdf.geometry.to_crs(WGS84).to_numpy()
    # The working copy holds extra vertices (edges densified to <= 100 m for measuring); they
    # lie on the straight lines between the source's vertices and carry no shape.
    geoms = shapely.simplify(wgs, DOWNLOAD_PRECISION_DEG, preserve_topology=True)
    geoms = shapely.set_precision(geoms, DOWNLOAD_PRECISION_DEG)
    return gpd.GeoDataFrame(pd.DataFrame(data, columns=cols), geometry=geoms, crs=WGS84)


def _layer_description(layer) -> str:
    e = layer.entry
    prov = e.provenance
    parts = [f"{e.title('zh')} / {e.title('en')}"]
    if prov is not None:
        parts.append(f"status: {prov.status}")
        parts += [
            f"{k}: {v}"
            for k, v in (
                ("source", prov.source),
                ("vintage", prov.vintage),
                ("licence", prov.licence),
                ("note", prov.note),
            )
            if v
        ]
    return " | ".join(parts)


def _gpkg_identifiers(layers: LayerSet) -> dict[str, str]:
    """The GeoPackage identifier of each layer: its English title, made unique.

    GeoPackage requires unique identifiers (``gpkg_contents.identifier``); two layers with the
    same English title (or two of one kind without ``title_en``) get their layer id appended:
    ``Rivers and lakes (water_b)``.
    """
    titles = {lay.id: lay.entry.title("en") or lay.id for lay in layers}
    seen: dict[str, int] = {}
    for t in titles.values():
        key = t.casefold()
        seen[key] = seen.get(key, 0) + 1
    out: dict[str, str] = {}
    taken: set[str] = set()
    for lid, t in titles.items():
        ident = t if seen[t.casefold()] == 1 else f"{t} ({lid})"
        base, k = ident, 1
        while ident.casefold() in taken:  # a title that equals another's "title (id)"
            k += 1
            ident = f"{base} {k}"
        taken.add(ident.casefold())
        out[lid] = ident
    return out


def _write(path: Path, text: str) -> int:
    """Write ``text`` as UTF-8 (creating the folders); returns the number of bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8")
    path.write_bytes(data)
    return len(data)


def _write_downloads(layers: LayerSet, folder: Path) -> list[dict]:
    """Write the GeoJSON files and the GeoPackage; returns one record per file."""
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError

    folder.mkdir(parents=True, exist_ok=True)
    files = []
    gpkg = folder / GPKG_NAME
    identifiers = _gpkg_identifiers(layers)
    for lay in layers:
        frame = _download_frame(lay)
        desc = _layer_description(lay)
        path = folder / f"{lay.id}.geojson"
        try:
            pyogrio.write_dataframe(
                frame,
                path,
                driver="GeoJSON",
                layer=lay.id,
                layer_options={"RFC7946": "YES", "WRITE_NAME": "YES", "DESCRIPTION": desc},
            )
            pyogrio.write_dataframe(
                frame,
                gpkg,
                driver="GPKG",
                layer=lay.id,
                layer_options={"IDENTIFIER": identifiers[lay.id], "DESCRIPTION": desc},
            )
        except (DataSourceError, DataLayerError) as exc:  # a full disk, say
            message = " ".join(str(exc).split())
            raise PublishError(
                f"cannot write the downloads of layer {lay.id} ({message})"
            ) from None
        files.append({"layer": lay.id, "file": path.name, "format": "GeoJSON"})
    files.append({"layer": None, "file": gpkg.name, "format": "GeoPackage"})
    for f in files:
        p = folder / f["file"]
        f["bytes"] = p.stat().st_size
        f["sha256"] = file_sha256(p)
    return files
