"""What a screening map draws: a screening result or a screening output folder, normalised.

:func:`load_screening` accepts any object with the attributes of a
:class:`~zoning.screening.ScreeningResult` (``sites``, ``reasons``, ``pieces``, ``rings``,
``provenance``, ``layers``) or the folder :meth:`ScreeningResult.to_file` wrote
(``screening.gpkg`` + ``screening.json``).  This module never imports :mod:`zoning.screening`:
the maps sit below the screening in the layering.
"""

from __future__ import annotations

import inspect
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from ..crs import WORKING_CRS
from ..errors import ZoningError, quote
from ..layerset import LayerSet, load_catalog

__all__ = ["RESULT_ATTRIBUTES", "ScreeningData", "load_screening"]

#: The attributes of a screening result that a map reads.
RESULT_ATTRIBUTES = ("sites", "reasons", "pieces", "rings", "provenance", "layers")
_MISSING = object()


@dataclass
class ScreeningData:
    """What a screening map needs, from a result or an output folder (geometries: working CRS)."""

    sites: gpd.GeoDataFrame
    reasons: pd.DataFrame
    pieces: gpd.GeoDataFrame
    rings: gpd.GeoDataFrame
    provenance: dict
    layers: LayerSet | None
    source: str
    report_dir: Path | None = None


def _read_gpkg_layer(path: Path, layer: str) -> gpd.GeoDataFrame:
    import pyogrio

    names = [n for n, _ in pyogrio.list_layers(path)]
    if layer not in names:
        return gpd.GeoDataFrame({"geometry": []}, geometry="geometry", crs=WORKING_CRS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        gdf = gpd.read_file(path, layer=layer)
    if gdf.crs is None:
        raise ZoningError(f"{path}: layer {quote(layer)} has no CRS")
    return gdf.to_crs(WORKING_CRS)


def _is_result(source) -> bool:
    """True for a screening result (duck-typed on :data:`RESULT_ATTRIBUTES`), not a path.

    The attributes are looked up without being read: a result's lazy tables are built only
    when the map reads them.
    """
    if isinstance(source, str | bytes | os.PathLike):
        return False
    return all(
        inspect.getattr_static(source, name, _MISSING) is not _MISSING for name in RESULT_ATTRIBUTES
    )


def load_screening(source, *, layers: LayerSet | str | Path | None = None) -> ScreeningData:
    """Normalise a ScreeningResult or a screening output folder for :func:`screening_map`.

    Parameters
    ----------
    source : ScreeningResult or path
        A result (any object with the attributes in :data:`RESULT_ATTRIBUTES`), or a folder
        holding ``screening.gpkg`` and ``screening.json``.
    layers : LayerSet or catalog path, optional
        The constraint layers.  Default: the result's own layers; for a folder, the catalog
        named in its provenance (else the bundled demonstration catalog).

    Returns
    -------
    ScreeningData
        Geometries in the working CRS.

    Raises
    ------
    ZoningError
        A folder without ``screening.gpkg`` and ``screening.json``, or whose files do not
        parse (a JSON nested too deeply too); the message names the folder and the file.
    """

    if _is_result(source):
        lay = (
            layers
            if isinstance(layers, LayerSet)
            else (load_catalog(layers) if layers is not None else source.layers)
        )
        return ScreeningData(
            sites=source.sites,
            reasons=source.reasons,
            pieces=source.pieces,
            rings=source.rings,
            provenance=source.provenance,
            layers=lay,
            source="result",
        )
    folder = Path(source)
    if not folder.is_dir():
        raise ZoningError(f"{folder}: not a folder (expected a screening output folder)")
    # Absolute paths for GDAL: a relative folder named like a URL ("http:x", "/vsicurl/...")
    # must not be read as one.
    base = folder.resolve()
    gpkg, js = base / "screening.gpkg", base / "screening.json"
    missing = [p.name for p in (gpkg, js) if not p.is_file()]
    if missing:
        raise ZoningError(
            f"{folder}: not a screening output folder: {' and '.join(missing)} missing "
            "(write it with zoning screen ... --out DIR --format gpkg,json)"
        )
    try:
        doc = json.loads(js.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ZoningError(f"{js}: cannot read the screening JSON ({exc})") from None
    except RecursionError:
        # Hostile nesting ("[[[[..." 100,000 deep) exhausts the parser's stack.
        raise ZoningError(
            f"{js}: cannot read the screening JSON (nested too deeply; not a screening JSON)"
        ) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("sites"), list):
        raise ZoningError(f"{js}: not a screening JSON (no 'sites' table)")
    try:
        sites = _read_gpkg_layer(gpkg, "sites")
        pieces = _read_gpkg_layer(gpkg, "pieces")
        rings = _read_gpkg_layer(gpkg, "rings")
    except ZoningError:
        raise
    except Exception as exc:
        raise ZoningError(f"{gpkg}: cannot read the screening GeoPackage ({exc})") from None
    if "site_id" not in sites.columns or "verdict" not in sites.columns:
        raise ZoningError(f"{gpkg}: layer 'sites' lacks the site_id and verdict columns")
    reasons = pd.DataFrame(doc.get("reasons") or [])
    prov = doc.get("provenance") or {}
    if layers is None:
        cat_path = (prov.get("catalog") or {}).get("path")
        if cat_path and Path(cat_path).is_file():
            layers = cat_path
        elif cat_path:
            raise ZoningError(
                f"{js}: the catalog screened against ({cat_path}) is not here; "
                "pass --catalog to draw the constraint layers"
            )
    lay = (
        layers
        if isinstance(layers, LayerSet)
        else (load_catalog(layers) if layers is not None else load_catalog())
    )
    report = base / "report"
    return ScreeningData(
        sites=sites,
        reasons=reasons,
        pieces=pieces,
        rings=rings,
        provenance=prov,
        layers=lay,
        source=str(folder),
        report_dir=report if report.is_dir() else None,
    )
