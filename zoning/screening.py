"""Screen project sites: load them, overlay the layers, apply the access-list rules.

>>> import zoning
>>> result = zoning.screen(points=[(121.47, 31.23)])            # doctest: +SKIP
>>> result.sites[["site_id", "verdict"]]                          # doctest: +SKIP

The result keeps the geometry work (:mod:`zoning.overlay`), the rules (:mod:`zoning.rules`) and
the writers apart: :meth:`ScreeningResult.to_file` writes CSV, GeoPackage, JSON and the HTML
report, and never computes anything new.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import tempfile
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .crs import WGS84, WORKING_CRS
from .errors import CatalogError, CRSError, LayerDataError, LayerReadError, ZoningError
from .io import file_sha256
from .layerset import LayerSet, load_catalog
from .overlay import DEFAULT_SEARCH_RADIUS_M, LayerInput, overlay
from .rules import SEVERITY, RuleSet, evaluate, hit_verdicts, load_rules, site_verdicts
from .sites import Sites, load_sites

__all__ = ["CONTEXT_KINDS", "FORMATS", "ScreeningResult", "screen"]

log = logging.getLogger(__name__)

#: Layer kinds that frame the screening (territory, population, zoning units, the development
#: boundary) rather than protect something: they are not counted as constraints hit, and their
#: overlap is not added to a site's constrained area (rules still apply to them).
CONTEXT_KINDS = frozenset(
    {
        "district",
        "sea_area",
        "population",
        "control_unit",
        "development_boundary",
        "industrial_park",
    }
)
#: Output formats :meth:`ScreeningResult.to_file` writes.
FORMATS = ("csv", "gpkg", "json", "html")


@dataclass
class ScreeningResult:
    """The outcome of :func:`screen`.

    Attributes
    ----------
    sites : GeoDataFrame
        One row per site (working CRS): ``site_id``, ``name``, the project attributes,
        ``verdict``, ``n_constraints`` (constraint layers touched), ``n_hits`` (features
        touched), ``boundary_sensitive``, ``overlap_m2_total``, ``nearest_m``, ``area_m2``,
        ``length_m``, ``n_reasons``, ``reasons_en`` / ``reasons_zh`` (the most severe reasons).
    hits : DataFrame
        One row per site x feature touched or within the search radius, with ``rule_ids`` and
        ``verdict`` of the rules that fired on it.
    layer_summary : DataFrame
        One row per site x layer (and per kind the rules need but the catalog lacks).
    reasons : DataFrame
        One row per site x rule that fired or could not be decided.
    pieces : GeoDataFrame
        The overlap pieces (working CRS).
    rings : GeoDataFrame
        The buffer rings around each site (working CRS).
    provenance : dict
        Tool version, catalog and layer hashes, rule set id/version/hash, CRSs, time.
    """

    sites: gpd.GeoDataFrame
    hits: pd.DataFrame
    layer_summary: pd.DataFrame
    reasons: pd.DataFrame
    pieces: gpd.GeoDataFrame
    rings: gpd.GeoDataFrame
    provenance: dict
    layers: LayerSet
    rule_set: RuleSet
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.sites)

    def __repr__(self) -> str:
        counts = self.verdict_counts()
        text = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
        return f"<ScreeningResult {len(self.sites)} site(s): {text}>"

    @property
    def is_demonstration(self) -> bool:
        return bool(self.provenance.get("demonstration"))

    def verdict_counts(self) -> dict[str, int]:
        """Number of sites per verdict, most severe first."""
        vc = self.sites["verdict"].value_counts()
        order = sorted(SEVERITY, key=SEVERITY.get, reverse=True)
        return {v: int(vc.get(v, 0)) for v in order}

    def worst(self) -> str:
        """The most severe verdict of any site (``permitted`` for no sites)."""
        if not len(self.sites):
            return "permitted"
        return max(self.sites["verdict"], key=SEVERITY.get)

    # ------------------------------------------------------------------ writers

    def to_html(self, out_dir: str | Path, *, lang: str = "both") -> Path:
        """Write the HTML report under ``out_dir/report/``; returns the index page."""
        from .report import write_report

        return write_report(self, out_dir, lang=lang)

    def to_file(
        self, out_dir: str | Path, formats: Iterable[str] = FORMATS, *, lang: str = "both"
    ) -> dict[str, Path]:
        """Write the result into ``out_dir``.

        ``csv``: ``sites.csv`` and ``hits.csv``; ``gpkg``: ``screening.gpkg`` with the layers
        ``sites``, ``pieces`` and ``rings`` (EPSG:4326); ``json``: ``screening.json`` with
        every table and the provenance; ``html``: ``report/``.

        Files are written into a temporary folder beside ``out_dir`` and moved in only when all
        of them succeeded, so a failure leaves no partial output.
        """
        formats = [f.strip().lower() for f in formats if f.strip()]
        bad = sorted(set(formats) - set(FORMATS))
        if bad:
            raise ZoningError(
                f"unknown output format(s) {', '.join(bad)} (known: {', '.join(FORMATS)})"
            )
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".zoning-screen-", dir=out))
        written: dict[str, Path] = {}
        try:
            names: dict[str, list[str]] = {}
            if "csv" in formats:
                _sites_table(self).to_csv(tmp / "sites.csv", index=False)
                _hits_table(self).to_csv(tmp / "hits.csv", index=False)
                names["csv"] = ["sites.csv", "hits.csv"]
            if "gpkg" in formats:
                self._write_gpkg(tmp / "screening.gpkg")
                names["gpkg"] = ["screening.gpkg"]
            if "json" in formats:
                with open(tmp / "screening.json", "w", encoding="utf-8") as fh:
                    json.dump(self.to_dict(), fh, ensure_ascii=False, indent=1, default=_json)
                names["json"] = ["screening.json"]
            if "html" in formats:
                from .report import write_report

                write_report(self, tmp, lang=lang)
                names["html"] = ["report"]
            for fmt, files in names.items():
                for name in files:
                    target = out / name
                    if target.is_dir():
                        shutil.rmtree(target)
                    elif target.exists():
                        target.unlink()
                    (tmp / name).replace(target)
                    written.setdefault(fmt, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        if "html" in written:
            written["html"] = out / "report" / "index.html"
        return written

    def _write_gpkg(self, path: Path) -> None:
        sites = _sites_table(self, geometry=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            sites.to_crs(WGS84).to_file(path, layer="sites", driver="GPKG")
            pieces = self.pieces
            if len(pieces):
                pieces.to_crs(WGS84).to_file(path, layer="pieces", driver="GPKG")
            else:
                pieces.set_crs(WORKING_CRS, allow_override=True).to_crs(WGS84).to_file(
                    path, layer="pieces", driver="GPKG"
                )
            self.rings.to_crs(WGS84).to_file(path, layer="rings", driver="GPKG")

    def to_dict(self) -> dict:
        """Every table (sites without geometry, plus WKT in WGS84) and the provenance."""
        sites = _sites_table(self)
        return {
            "provenance": self.provenance,
            "notes": self.notes,
            "sites": _records(sites),
            "hits": _records(_hits_table(self)),
            "layer_summary": _records(self.layer_summary),
            "reasons": _records(self.reasons),
        }


# --------------------------------------------------------------------------- screening


def screen(
    sites: object = None,
    layers: LayerSet | str | Path | None = None,
    *,
    rules: RuleSet | str | Path | None = None,
    crs: object = None,
    wkt: str | Sequence[str] | None = None,
    points: Sequence[object] | None = None,
    attributes: Mapping[str, object] | None = None,
    id_field: str | None = None,
    name_field: str | None = None,
    layer: str | None = None,
    search_radius_m: float | None = None,
    pieces: bool = True,
    rings: bool = True,
    progress=None,
) -> ScreeningResult:
    """Screen project sites against the catalog's layers and the access-list rules.

    Parameters
    ----------
    sites : path, GeoDataFrame, geometries or :class:`~zoning.sites.Sites`
        What to screen (see :func:`zoning.sites.load_sites`); or use ``wkt=`` / ``points=``.
    layers : LayerSet or catalog path, optional
        Default: the bundled demonstration catalog.
    rules : RuleSet or path, keyword-only
        Default: the bundled demonstration rule set.
    crs : CRS of the sites when they carry none, or ``gcj02`` / ``bd09``.
    attributes : dict
        Project attributes for every site (``industry``, ``nature``, ``linear``, ...).
    search_radius_m : float
        How far to look for the nearest feature of each layer; default the larger of 1000 m
        and the largest distance any rule needs.  ``0`` skips the distance search
        (containment only) — rules that need a distance then give ``unknown``.
    pieces, rings : bool
        Build the overlap-piece and buffer-ring geometries (skip for very large runs).
    progress : callable, optional
        Called with a short label after each stage (loading, each layer, rules).

    Returns
    -------
    ScreeningResult

    Notes
    -----
    A layer that fails to load does not stop the screening: its rules give ``unknown``, and the
    failure is in ``result.notes`` and the provenance.  Cost: each layer is indexed once per
    :class:`~zoning.layerset.LayerSet`; then every step is vectorised over sites.
    """
    started = datetime.now(UTC)
    if not isinstance(sites, Sites):
        sites = load_sites(
            sites,
            wkt=wkt,
            points=points,
            crs=crs,
            layer=layer,
            id_field=id_field,
            name_field=name_field,
            attributes=attributes,
        )
    elif crs is not None or attributes:
        raise ZoningError("crs= and attributes= apply when loading sites, not to a Sites object")
    if layers is None or isinstance(layers, str | Path):
        layers = load_catalog(layers)
    rule_set = rules if isinstance(rules, RuleSet) else load_rules(rules)
    needed_radius = float(rule_set.search_radius_m)
    radius = (
        max(DEFAULT_SEARCH_RADIUS_M, needed_radius)
        if search_radius_m is None
        else float(search_radius_m)
    )
    if radius < 0 or not math.isfinite(radius):
        raise ZoningError(f"search radius must be a distance >= 0 m, not {search_radius_m!r}")
    notes = list(sites.notes)

    inputs: list[LayerInput] = []
    layer_prov: list[dict] = []
    for entry in layers.catalog.layers:
        prov = {
            "id": entry.id,
            "kind": entry.kind,
            "title_en": entry.title("en"),
            "title_zh": entry.title("zh"),
            "status": entry.provenance.status if entry.provenance else "unknown",
            "vintage": entry.provenance.vintage if entry.provenance else None,
            "source": entry.source,
            "positional_tolerance_m": entry.positional_tolerance_m,
        }
        try:
            lay = layers[entry.id]
            index = lay.index
            inputs.append(LayerInput(entry.id, entry.kind, index, lay.attributes))
            prov.update(
                sha256=lay.report.sha256,
                features=lay.report.features,
                input_crs=lay.report.input_crs,
                conversion=lay.report.conversion,
                encoding=lay.report.encoding,
                load_notes=lay.report.notes,
                load="ok",
            )
        except (LayerReadError, LayerDataError, CRSError, CatalogError) as exc:
            msg = " ".join(str(exc).split())
            inputs.append(LayerInput(entry.id, entry.kind, None, None, status="failed", error=msg))  # type: ignore[arg-type]
            prov.update(load="failed", error=msg)
            notes.append(f"layer {entry.id} failed to load ({msg}); rules needing it give unknown")
            log.warning("layer %s failed to load: %s", entry.id, msg)
        layer_prov.append(prov)

    present = {e.kind for e in layers.catalog.layers}
    missing = [k for k in rule_set.kinds if k not in present]
    for k in missing:
        notes.append(f"no {k} layer in the catalog: rules needing it give unknown")

    gdf = sites.gdf
    geoms = gdf.geometry.to_numpy()
    ov = overlay(
        geoms,
        gdf["site_id"].to_numpy(dtype=object),
        inputs,
        search_radius_m=radius,
        uncertainty_m=gdf["uncertainty_m"].to_numpy(dtype=float),
        missing_kinds=missing,
        pieces=pieces,
        rings=rings,
        progress=progress,
    )
    notes.extend(ov.notes)
    if radius < needed_radius:
        notes.append(
            f"search radius {radius:g} m is below the {needed_radius:g} m some rules need: "
            "those rules give unknown"
        )

    if progress is not None:
        progress("rules")
    reasons = evaluate(rule_set, gdf, ov.hits, ov.layer_summary)
    n = len(gdf)
    verdict = site_verdicts(reasons, n)
    hits = ov.hits.copy()
    if len(hits):
        rule_ids, hverdict = hit_verdicts(reasons, hits)
        hits["rule_ids"] = rule_ids
        hits["verdict"] = hverdict
    else:
        hits["rule_ids"] = pd.Series(dtype=object)
        hits["verdict"] = pd.Series(dtype=object)

    out = gdf.copy()
    out["verdict"] = verdict.to_numpy()
    summary = ov.layer_summary
    constraint = summary[~summary["kind"].isin(CONTEXT_KINDS)]
    ok = constraint[constraint["status"] == "ok"]
    out["n_constraints"] = (
        ok.groupby("site")["hit"].sum().reindex(range(n), fill_value=0).to_numpy().astype(int)
    )
    chits = hits[~hits["kind"].isin(CONTEXT_KINDS) & (hits["relation"] == "intersects")]
    out["n_hits"] = chits.groupby("site").size().reindex(range(n), fill_value=0).to_numpy()
    out["boundary_sensitive"] = (
        constraint.groupby("site")["boundary_sensitive"]
        .any()
        .reindex(range(n), fill_value=False)
        .to_numpy()
        .astype(bool)
    )
    out["overlap_m2_total"] = (
        ok.groupby("site")["overlap_m2"].sum(min_count=1).reindex(range(n)).to_numpy()
    )
    out["overlap_length_m_total"] = (
        ok.groupby("site")["overlap_length_m"].sum(min_count=1).reindex(range(n)).to_numpy()
    )
    out["nearest_m"] = ok.groupby("site")["distance_m"].min().reindex(range(n)).to_numpy()
    fam = shapely.get_dimensions(geoms)
    out["area_m2"] = np.where(fam == 2, shapely.area(geoms), np.nan)
    out["length_m"] = np.where(fam == 1, shapely.length(geoms), np.nan)
    _attach_top_reasons(out, reasons)
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=WORKING_CRS)

    prov = _provenance(layers, layer_prov, rule_set, sites, radius, started)
    result = ScreeningResult(
        sites=out,
        hits=hits,
        layer_summary=summary,
        reasons=reasons,
        pieces=ov.pieces,
        rings=ov.rings,
        provenance=prov,
        layers=layers,
        rule_set=rule_set,
        notes=notes,
    )
    prov["notes"] = notes
    prov["verdicts"] = result.verdict_counts()
    return result


def _attach_top_reasons(out: pd.DataFrame, reasons: pd.DataFrame) -> None:
    n = len(out)
    out["n_reasons"] = 0
    out["reasons_en"] = ""
    out["reasons_zh"] = ""
    if not len(reasons):
        return
    r = reasons.assign(_sev=reasons["verdict"].map(SEVERITY))
    r = r.drop_duplicates(["site", "rule_id"]).sort_values(
        ["site", "_sev"], ascending=[True, False], kind="stable"
    )
    out["n_reasons"] = r.groupby("site").size().reindex(range(n), fill_value=0).to_numpy()
    top = r.groupby("site").head(3)
    for lang in ("en", "zh"):
        text = (
            top["rule_id"].astype(str)
            + " ("
            + top["verdict"].astype(str)
            + "): "
            + top[f"message_{lang}"].fillna("").astype(str)
        )
        joined = text.groupby(top["site"]).agg(" | ".join)
        out[f"reasons_{lang}"] = joined.reindex(range(n), fill_value="").to_numpy()


def _provenance(layers, layer_prov, rule_set, sites, radius, started) -> dict:
    from . import __version__

    cat = layers.catalog
    cat_path = getattr(cat, "path", None)
    return {
        "tool": "zoning",
        "tool_version": __version__,
        "created": started.isoformat(timespec="seconds"),
        "demonstration": bool(layers.is_demonstration or rule_set.is_demonstration),
        "catalog": {
            "path": str(cat_path) if cat_path else None,
            "sha256": file_sha256(cat_path) if cat_path else None,
            "title": getattr(cat, "title", None),
            "version": getattr(cat, "version", None),
        },
        "layers": layer_prov,
        "rule_set": rule_set.provenance(),
        "working_crs": {"name": WORKING_CRS.name, "wkt": WORKING_CRS.to_wkt()},
        "input": {
            "source": sites.source,
            "crs": sites.input_crs,
            "conversion": (f"{sites.pseudo} -> WGS84 (zoning.crs)" if sites.pseudo else None),
            "sites": len(sites),
        },
        "search_radius_m": radius,
    }


# --------------------------------------------------------------------------- tables


_SITE_COLUMNS = [
    "site_id",
    "name",
    "verdict",
    "n_constraints",
    "n_hits",
    "n_reasons",
    "boundary_sensitive",
    "overlap_m2_total",
    "overlap_length_m_total",
    "nearest_m",
    "area_m2",
    "length_m",
    "industry",
    "nature",
    "linear",
    "wastewater",
    "air",
    "hazardous",
    "two_high",
    "two_high_source",
    "input_crs",
    "datum_shift_m",
    "uncertainty_m",
    "reasons_en",
    "reasons_zh",
]
_HITS_COLUMNS = [
    "site_id",
    "layer_id",
    "kind",
    "feature_id",
    "name",
    "relation",
    "overlap_m2",
    "overlap_ha",
    "share_of_site",
    "share_of_feature",
    "overlap_length_m",
    "distance_m",
    "ring_m",
    "boundary_distance_m",
    "boundary_sensitive",
    "rule_ids",
    "verdict",
    "category",
    "unit_code",
    "level",
    "access_list",
]


def _sites_table(result: ScreeningResult, *, geometry: bool = False) -> pd.DataFrame:
    s = result.sites
    cols = [c for c in _SITE_COLUMNS if c in s.columns]
    table = pd.DataFrame(s[cols])
    rep = shapely.point_on_surface(s.geometry.to_crs(WGS84).to_numpy())
    table.insert(3, "lon", np.round(shapely.get_x(rep), 7))
    table.insert(4, "lat", np.round(shapely.get_y(rep), 7))
    if geometry:
        return gpd.GeoDataFrame(table, geometry=s.geometry.to_numpy(), crs=WORKING_CRS)
    return table


def _hits_table(result: ScreeningResult) -> pd.DataFrame:
    h = result.hits
    return pd.DataFrame(h[[c for c in _HITS_COLUMNS if c in h.columns]])


def _records(df: pd.DataFrame) -> list[dict]:
    return json.loads(df.to_json(orient="records", force_ascii=False, double_precision=6))


def _json(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)
