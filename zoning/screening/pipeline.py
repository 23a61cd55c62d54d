"""Screen project sites: load them, overlay the layers, apply the access-list rules.

>>> import zoning
>>> result = zoning.screen(points=[(121.47, 31.23)], crs="EPSG:4326")  # doctest: +SKIP
>>> result.sites[["site_id", "verdict"]]                          # doctest: +SKIP

The result keeps the geometry work (:mod:`zoning.overlay`), the rules (:mod:`zoning.rules`) and
the writers apart: :meth:`ScreeningResult.to_file` writes CSV, GeoPackage, JSON and the HTML
report, and never computes anything new.
"""

from __future__ import annotations

import errno
import itertools
import json
import logging
import math
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
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
from .overlay import DEFAULT_SEARCH_RADIUS_M, LayerInput, OverlayResult, overlay
from .rules import (
    FLAGS,
    OUTSIDE_TOLERANCE,
    SEVERITY,
    RuleSet,
    evaluate,
    hit_verdicts,
    load_rules,
    site_verdicts,
)
from .sites import Sites, load_sites

__all__ = [
    "CONTEXT_KINDS",
    "FORMATS",
    "OUTPUT_MARKER",
    "ScreeningResult",
    "prepare_point_grid",
    "screen",
]

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
#: Above this many sites ``screening.json`` leaves out the ``layer_summary`` and ``reasons``
#: rows (a row per site and layer, several per site and rule: some 12 kB per site, 12 GB for a
#: million points); ``sites.csv`` and ``hits.csv`` still hold every site and every hit.
JSON_FULL_TABLES_MAX_SITES = 100_000


class _Lazy:
    """A dataclass field that may be given as a zero-argument callable, called on first access.

    The big tables of a large screening (millions of rows) are built only when something reads
    them; reading gives the same frame the eager path would have built.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = f"_lazy_{name}"

    def __get__(self, obj: object, objtype: type | None = None) -> Any:
        if obj is None:
            raise AttributeError(self.slot)  # dataclasses: the field has no default
        value = obj.__dict__[self.slot]
        if callable(value) and not isinstance(value, pd.DataFrame):
            value = value()
            obj.__dict__[self.slot] = value
        return value

    def __set__(self, obj: object, value: Any) -> None:
        obj.__dict__[self.slot] = value


@dataclass
class ScreeningResult:
    """The outcome of :func:`screen` (and of :func:`zoning.compare.compare_alternatives`).

    Attributes
    ----------
    sites : GeoDataFrame
        One row per site (working CRS): ``site_id``, ``name``, the project attributes,
        ``verdict``, ``n_constraints`` (constraint layers touched, or within a ``within``
        rule's distance), ``n_hits`` (constraint features touched), ``boundary_sensitive``,
        ``overlap_m2_total`` / ``overlap_length_m_total`` (the union of the overlaps with the
        constraint layers), ``nearest_m``, ``area_m2``, ``length_m``, ``n_reasons``,
        ``reasons_en`` / ``reasons_zh`` (the most severe reasons).  Constraint layers are those
        of a kind some rule reads, other than :data:`CONTEXT_KINDS`; see :func:`_site_totals`.
    hits : GeoDataFrame
        One row per site x feature touched or within the distance searched (the search
        radius, or a layer's outermost declared buffer ring), with ``rule_ids`` and
        ``verdict`` of the rules that fired on it.  The geometry (working CRS) is the overlap
        piece of a site and a feature it touches; None for ``nearby`` features, for point
        sites (a point has no overlap piece) and when ``pieces=False``.
    layer_summary : DataFrame
        One row per site x layer (and per kind the rules need but the catalog lacks).
    reasons : DataFrame
        One row per site x rule that fired or could not be decided.
    pieces : GeoDataFrame
        The overlap pieces (working CRS).
    rings : GeoDataFrame
        The buffer rings around each site (working CRS).
    provenance : dict
        Tool version, catalog and layer hashes and vintages, rule set id/version/hash, working
        and input CRS, conversions, options, time.
    layers : LayerSet
    rule_set : RuleSet
    notes : list of str
        What the user should know: conversions, repairs, layers skipped, coverage.
    ranking : DataFrame or None
        For a comparison of alternatives: :func:`zoning.compare.rank_alternatives` of this
        result (written as ``ranking.csv`` and a section of the report).

    Notes
    -----
    ``hits``, ``layer_summary`` and ``reasons`` may be passed as zero-argument callables: they
    are then built on first access (and cached).  :func:`screen` does so, so a screening of a
    million points that only needs ``sites`` never builds the several million rows of the
    other tables.
    """

    sites: gpd.GeoDataFrame
    hits: gpd.GeoDataFrame = _Lazy()  # type: ignore[assignment]
    layer_summary: pd.DataFrame = _Lazy()  # type: ignore[assignment]
    reasons: pd.DataFrame = _Lazy()  # type: ignore[assignment]
    pieces: gpd.GeoDataFrame
    rings: gpd.GeoDataFrame
    provenance: dict
    layers: LayerSet
    rule_set: RuleSet
    notes: list[str] = field(default_factory=list)
    ranking: pd.DataFrame | None = None

    def __len__(self) -> int:
        return len(self.sites)

    def __repr__(self) -> str:
        counts = self.verdict_counts()
        text = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
        return f"<ScreeningResult {len(self.sites)} site(s): {text}>"

    @property
    def is_demonstration(self) -> bool:
        """True when any layer or the rule set is demonstration data."""
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

    def to_html(self, out_dir: str | Path, *, lang: str = "both", **map_options: Any) -> Path:
        """Write the HTML report (with its map) under ``out_dir/report/``; returns the index.

        See :func:`zoning.report.write_report` (``map_options``: ``offline``, ``basemap``,
        ``tianditu_key``, ``map``); an older report is replaced only when the new one is
        complete.
        """
        from .report import write_report

        return write_report(self, out_dir, lang=lang, **map_options)

    def to_file(
        self,
        out_dir: str | Path,
        formats: Iterable[str] = FORMATS,
        *,
        lang: str = "both",
        map_options: Mapping[str, Any] | None = None,
    ) -> dict[str, Path]:
        """Write the result into ``out_dir``.

        Parameters
        ----------
        out_dir : path
            The output folder (created, with its parents, if needed).
        formats : iterable of {"csv", "gpkg", "json", "html"}
            ``csv``: ``sites.csv`` and ``hits.csv`` (and ``ranking.csv`` for a comparison);
            ``gpkg``: ``screening.gpkg`` with the layers ``sites``, ``pieces`` and ``rings``
            (EPSG:4326); ``json``: ``screening.json`` with every table and the provenance
            (above :data:`JSON_FULL_TABLES_MAX_SITES` sites without the ``layer_summary`` and
            ``reasons`` rows, which would take gigabytes; a note says so);
            ``html``: the report in ``report/`` (``report/index.html``).
        lang : {"both", "zh", "en"}, keyword-only
            Language of the HTML report.
        map_options : dict, keyword-only
            Options of the report's map ``report/map.html`` (``offline``, ``basemap``,
            ``tianditu_key``, ``map=False`` to skip it), passed to
            :func:`zoning.report.write_report`.

        Returns
        -------
        dict
            What was written: ``csv`` -> ``sites.csv``, ``hits`` -> ``hits.csv``, ``ranking``
            -> ``ranking.csv`` (a comparison), ``gpkg`` -> ``screening.gpkg``, ``json`` ->
            ``screening.json``, ``html`` -> ``report/index.html``.

        Raises
        ------
        ZoningError
            An unknown format; or ``out_dir`` holds, under a name this call writes
            (``sites.csv``, ``hits.csv``, ``ranking.csv``, ``screening.gpkg``,
            ``screening.json``, ``report/``), a file or folder that no earlier call wrote
            (not listed in :data:`OUTPUT_MARKER`), or a file the user added inside an earlier
            ``report/``: one line naming it, raised before anything is written.

        Notes
        -----
        Only what an earlier screening wrote is ever replaced or removed.  Each call writes
        :data:`OUTPUT_MARKER` (``.zoning-screen.json``) into ``out_dir``, listing every file it
        wrote (those inside ``report/`` included); a later call replaces or removes a path
        only when that list holds it and everything in it.  Files of the user in ``out_dir``
        under other names are never touched.  Outputs of an earlier call that this call does
        not write (another format, the ``ranking.csv`` of a comparison) are removed, so the
        folder never mixes two runs (a stale ``sites.csv`` next to a fresh report would
        mislead); a file under one of those names that no earlier call wrote is left alone.
        Outputs written before the marker existed are not recognised: move them away.

        All-or-nothing.  Every file is first written into a hidden temporary folder inside
        ``out_dir``; only when all of them succeeded are they moved into place, older outputs
        being moved aside first and restored if a move fails.  On failure nothing is left
        behind: no temporary folder, no half-written file, and no ``out_dir`` (nor parent)
        that this call created.
        """
        if isinstance(formats, str):
            formats = formats.split(",")
        formats = [str(f).strip().lower() for f in formats if str(f).strip()]
        bad = sorted(set(formats) - set(FORMATS))
        if bad:
            raise ZoningError(
                f"unknown output format(s) {', '.join(bad)} (known: {', '.join(FORMATS)})"
            )
        if not formats:
            raise ZoningError(f"no output format given (known: {', '.join(FORMATS)})")
        out = Path(out_dir)
        planned = _planned_names(formats, comparison=self.ranking is not None)
        stale = _check_outputs(out, planned)  # refuses before anything is written
        created = _make_dirs(out)
        try:
            tmp = Path(tempfile.mkdtemp(prefix=".zoning-screen-", dir=out))
            try:
                names = self._write_all(tmp, formats, lang, dict(map_options or {}))
                top = [n for files in names.values() for n in files]
                _write_marker(tmp, top, self.provenance)
                _commit(tmp, out, [*top, OUTPUT_MARKER], stale)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        except BaseException:
            for d in reversed(created):
                try:
                    d.rmdir()
                except OSError:
                    pass
            raise
        written: dict[str, Path] = {}
        for fmt, files in names.items():
            written[fmt] = out / files[0]
            if fmt == "csv":
                written["hits"] = out / "hits.csv"
        if "html" in written:
            written["html"] = out / "report" / "index.html"
        log.info("wrote %s into %s", ", ".join(written), out)
        return written

    def _write_all(
        self, tmp: Path, formats: list[str], lang: str, map_options: dict[str, Any]
    ) -> dict[str, list[str]]:
        names: dict[str, list[str]] = {}
        if "csv" in formats:
            _sites_table(self).to_csv(tmp / "sites.csv", index=False)
            _hits_table(self).to_csv(tmp / "hits.csv", index=False)
            names["csv"] = ["sites.csv", "hits.csv"]
            if self.ranking is not None:
                _ranking_table(self).to_csv(tmp / "ranking.csv", index=False)
                names["ranking"] = ["ranking.csv"]
        if "gpkg" in formats:
            self._write_gpkg(tmp / "screening.gpkg")
            names["gpkg"] = ["screening.gpkg"]
        if "json" in formats:
            self._write_json(tmp / "screening.json")
            names["json"] = ["screening.json"]
        if "html" in formats:
            from .report import write_report

            write_report(self, tmp, lang=lang, **map_options)
            names["html"] = ["report"]
        return names

    def _write_gpkg(self, path: Path) -> None:
        sites = _sites_table(self, geometry=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            sites.to_crs(WGS84).to_file(path, layer="sites", driver="GPKG")
            pieces = self.pieces
            if not len(pieces):
                pieces = pieces.set_crs(WORKING_CRS, allow_override=True)
            pieces.to_crs(WGS84).to_file(path, layer="pieces", driver="GPKG")
            self.rings.to_crs(WGS84).to_file(path, layer="rings", driver="GPKG")

    def _tables(self, empty: Sequence[str] = ()) -> dict[str, pd.DataFrame]:
        """The tables of :meth:`to_dict` and of ``screening.json``, in order (those named in
        ``empty`` without rows, and not built)."""
        sites = _sites_table(self)
        geoms = self.sites.geometry.to_crs(WGS84).to_numpy()
        sites["wkt"] = shapely.to_wkt(geoms, rounding_precision=7, trim=True)
        tables = {
            "sites": sites,
            "hits": _hits_table(self),
            "layer_summary": pd.DataFrame()
            if "layer_summary" in empty
            else pd.DataFrame(self.layer_summary),
            "reasons": pd.DataFrame() if "reasons" in empty else pd.DataFrame(self.reasons),
        }
        if self.ranking is not None:
            tables["ranking"] = _ranking_table(self)
        return tables

    def _write_json(self, path: Path, chunk: int = 50_000) -> None:
        """``screening.json``: :meth:`to_dict` streamed table by table (pandas writes the rows,
        so a million-row table never becomes Python objects).

        For more than :data:`JSON_FULL_TABLES_MAX_SITES` sites the ``layer_summary`` and
        ``reasons`` lists are empty, ``omitted`` names them and a note says so.
        """
        big = len(self.sites) > JSON_FULL_TABLES_MAX_SITES
        skip = ("layer_summary", "reasons") if big else ()
        notes = list(self.notes)
        if big:
            notes.append(
                f"screening.json leaves out the layer_summary and reasons rows for "
                f"{len(self.sites):,} sites (more than {JSON_FULL_TABLES_MAX_SITES:,}); "
                "sites.csv holds every verdict and its main reasons, hits.csv every hit"
            )
        with open(path, "w", encoding="utf-8") as fh:
            fh.write('{"provenance": ')
            json.dump(
                self.provenance, fh, ensure_ascii=False, indent=1, default=_json, allow_nan=False
            )
            fh.write(',\n"notes": ')
            json.dump(notes, fh, ensure_ascii=False, indent=1, default=_json)
            if skip:
                fh.write(',\n"omitted": ')
                json.dump(list(skip), fh)
            for key, table in self._tables(skip).items():
                fh.write(f',\n"{key}": [')
                for start in range(0, len(table), chunk):
                    text = _records_json(table.iloc[start : start + chunk])
                    fh.write(("," if start else "") + "\n" + text[1:-1])
                fh.write("\n]")
            fh.write("\n}\n")

    def to_dict(self) -> dict:
        """Every table and the provenance, as plain JSON-ready data.

        Keys: ``provenance``, ``notes``, ``sites`` (the columns of ``sites.csv`` plus ``wkt``,
        the geometry in WGS84), ``hits`` (the columns of ``hits.csv``), ``layer_summary``,
        ``reasons`` and, for a comparison, ``ranking``.  Missing values are ``null``.
        """
        out: dict[str, Any] = {"provenance": self.provenance, "notes": self.notes}
        for key, table in self._tables().items():
            out[key] = _records(table)
        return out


#: Every name :meth:`ScreeningResult.to_file` may write into its folder.
_OUTPUTS = ("sites.csv", "hits.csv", "ranking.csv", "screening.gpkg", "screening.json", "report")
#: The file :meth:`ScreeningResult.to_file` writes into its folder, listing the files it wrote
#: (POSIX paths relative to the folder): only these are ever replaced or removed by a later call.
OUTPUT_MARKER = ".zoning-screen.json"


def _planned_names(formats: Sequence[str], *, comparison: bool) -> list[str]:
    """The top-level names :meth:`ScreeningResult.to_file` writes for ``formats``."""
    names: list[str] = []
    if "csv" in formats:
        names += ["sites.csv", "hits.csv"] + (["ranking.csv"] if comparison else [])
    if "gpkg" in formats:
        names.append("screening.gpkg")
    if "json" in formats:
        names.append("screening.json")
    if "html" in formats:
        names.append("report")
    return names


def _read_marker(out: Path) -> set[str] | None:
    """The files an earlier :meth:`ScreeningResult.to_file` wrote into ``out``, or None."""
    path = out / OUTPUT_MARKER
    if not path.exists() and not path.is_symlink():
        return None
    try:
        if path.is_symlink() or not path.is_file():
            raise ValueError("not a regular file")
        doc = json.loads(path.read_text(encoding="utf-8"))
        files = doc.get("files") if isinstance(doc, dict) else None
        if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
            raise ValueError("no list of files")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ZoningError(
            f"{path}: cannot read the list of earlier outputs ({exc}); "
            "move it away or choose another output folder"
        ) from None
    return set(files)


def _entries(path: Path, rel: str) -> list[str]:
    """The files (and symbolic links) at or under ``path``, as POSIX paths starting with
    ``rel``; symbolic links are not followed."""
    if path.is_symlink() or not path.is_dir():
        return [rel]
    files: list[str] = []
    for root, subdirs, names in os.walk(path):
        base = Path(rel) / Path(root).relative_to(path)
        files += [(base / d).as_posix() for d in subdirs if (Path(root) / d).is_symlink()]
        files += [(base / n).as_posix() for n in names]
    return sorted(files)


def _foreign(out: Path, name: str, ours: set[str]) -> tuple[str | None, bool]:
    """For the output ``out/name``: its first path not listed in ``ours`` (None if it is all
    ours), and whether any of it is listed."""
    target = out / name
    if target.is_symlink():  # never written by us: we write files and folders only
        return name, False
    files = _entries(target, name)
    # Empty folders hold nothing to lose: only files and links count.
    listed = [f for f in files if f in ours]
    foreign = [f for f in files if f not in ours]
    return (min(foreign) if foreign else None), bool(listed)


def _check_outputs(out: Path, planned: Sequence[str]) -> list[str]:
    """Check that ``to_file`` may write ``planned`` into ``out``; return the earlier outputs
    (top-level names) it must remove as stale.

    Raises
    ------
    ZoningError
        A planned name (or a stale output partly ours) holds something no earlier call wrote.
    """
    if not out.is_dir():
        return []
    ours = _read_marker(out) or set()
    stale: list[str] = []
    for name in _OUTPUTS:
        target = out / name
        if not target.exists() and not target.is_symlink():
            continue
        first, any_ours = _foreign(out, name, ours)
        if name not in planned and not any_ours:
            continue  # the user's own file, under a name this call does not write
        if first is not None:
            what = "would be replaced" if name in planned else "is inside an earlier output"
            raise ZoningError(
                f"{out / first}: not written by an earlier screening in this folder (not "
                f"listed in {OUTPUT_MARKER}) and {what}; move it away or choose another "
                "output folder"
            )
        if name not in planned:
            stale.append(name)
    return stale


def _write_marker(tmp: Path, names: Sequence[str], provenance: Mapping[str, Any]) -> None:
    """Write :data:`OUTPUT_MARKER` into ``tmp`` listing every file under ``names``."""
    files: list[str] = []
    for name in names:
        files += _entries(tmp / name, name)
    doc = {
        "written_by": "zoning",
        "tool_version": provenance.get("tool_version"),
        "created": provenance.get("created"),
        "note": "the files a zoning screening wrote here; only these are replaced or removed "
        "by a later run",
        "files": sorted(files),
    }
    (tmp / OUTPUT_MARKER).write_text(
        json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )


def _make_dirs(out: Path) -> list[Path]:
    """Create ``out`` and its missing parents; return the folders created, outermost first."""
    missing: list[Path] = []
    p = out
    while not p.exists():
        if p.is_symlink():  # a dangling link: mkdir would fail with a confusing message
            raise FileNotFoundError(errno.ENOENT, "dangling symbolic link", str(p))
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    if p.exists() and not p.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a directory", str(p))
    created: list[Path] = []
    try:
        for d in reversed(missing):
            d.mkdir()
            created.append(d)
    except BaseException:
        for d in reversed(created):
            try:
                d.rmdir()
            except OSError:
                pass
        raise
    return created


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _commit(tmp: Path, out: Path, names: list[str], managed: Sequence[str]) -> None:
    """Move ``tmp/<name>`` to ``out/<name>`` for every name, all or nothing.

    Existing outputs (``names`` and the stale outputs named in ``managed``, both checked by
    :func:`_check_outputs` to be ours) are first moved aside into ``tmp``; if any move fails,
    the new files are taken out and the old ones put back.  The caller deletes ``tmp`` (and
    with it the old outputs) afterwards.
    """
    aside: list[tuple[Path, Path]] = []
    placed: list[Path] = []
    try:
        for k, name in enumerate(dict.fromkeys([*names, *managed])):
            target = out / name
            if target.exists() or target.is_symlink():
                old = tmp / f".old-{k}-{name}"
                os.replace(target, old)
                aside.append((old, target))
        for name in names:
            os.replace(tmp / name, out / name)
            placed.append(out / name)
    except BaseException:
        for target in reversed(placed):
            _remove(target)
        for old, target in reversed(aside):
            os.replace(old, target)
        raise


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
    encoding: str | None = None,
    search_radius_m: float | None = None,
    pieces: bool = True,
    rings: bool = True,
    on_layer_error: str = "raise",
    progress: Callable[[str, int, int], object] | None = None,
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
    wkt, points : inline sites (see :func:`~zoning.sites.load_sites`), keyword-only.
    attributes : dict
        Project attributes for every site (``industry``, ``nature``, ``linear``, ...).
    id_field, name_field, layer, encoding : str
        Passed to :func:`~zoning.sites.load_sites` (columns holding id and name, the layer of
        a multi-layer file, the text encoding of a CSV or a Shapefile without ``.cpg``).
    search_radius_m : float
        How far to look for the nearest feature of each layer; default the larger of 1000 m
        and, per ``within`` rule, its distance plus its layer's positional tolerance and the
        sites' largest conversion uncertainty.  A layer with declared buffer rings is searched
        to its outermost ring even beyond it.  ``0`` skips the distance search (containment
        only) — rules that need a distance then give ``unknown`` (and their distance band is
        not flagged), and ``boundary_distance_m`` is reported only where it is 0 (the flags of
        the layers' boundaries are still decided exactly).
    pieces, rings : bool
        Build the overlap-piece and buffer-ring geometries (skip for very large runs).
    on_layer_error : {"raise", "unknown"}
        What a layer that fails to load (missing or unreadable file, bad CRS) does: ``"raise"``
        (default) stops with its error; ``"unknown"`` goes on without it, the rules that need
        it give ``unknown`` and the failure is in ``result.notes`` and the provenance.
    progress : callable, optional
        ``progress(stage, step, total)`` is called before each stage: ``"load <layer id>"``
        for every catalog layer, ``"overlay <layer id>"`` for every layer, then ``"rules"``
        (``total`` = 2 x layers + 1).  For progress bars; the library never prints.

    Returns
    -------
    ScreeningResult

    Raises
    ------
    SitesError, CRSError, LayerReadError
        Bad sites, a bad ``crs`` or an unreadable sites file (see :func:`load_sites`).
    CatalogError, RulesError
        A catalog or rule set that does not validate.
    LayerReadError, LayerDataError, CRSError
        A layer that cannot be loaded (unless ``on_layer_error="unknown"``).

    Notes
    -----
    Missing data is never read as "no constraint": a kind the rules need that no layer
    provides, or a layer skipped with ``on_layer_error="unknown"``, gives ``unknown`` wherever
    its rules could apply.  Cost: each layer is read and indexed once per
    :class:`~zoning.layerset.LayerSet` (reuse the LayerSet across calls); then every step is
    vectorised over sites.  Areas and distances are measured in :data:`zoning.WORKING_CRS`
    (equal-area, metres), which agrees with geodesic values within 0.01 % over Shanghai.

    Examples
    --------
    >>> import zoning
    >>> result = zoning.screen(
    ...     points=["121.4737,31.2304"], crs="EPSG:4326", attributes={"industry": "H6210"}
    ... )
    >>> result.sites.loc[0, "verdict"] in zoning.screening.SEVERITY
    True
    """
    if on_layer_error not in ("raise", "unknown"):
        raise ValueError(f"on_layer_error must be 'raise' or 'unknown', not {on_layer_error!r}")
    started = datetime.now(UTC)
    clock = time.perf_counter()
    input_path = _input_file(sites)
    from_sites = isinstance(sites, Sites)
    if not from_sites:
        sites = load_sites(
            sites,
            wkt=wkt,
            points=points,
            crs=crs,
            layer=layer,
            id_field=id_field,
            name_field=name_field,
            attributes=attributes,
            encoding=encoding,
        )
    elif (
        crs is not None
        or attributes
        or wkt is not None
        or points is not None
        or any(v is not None for v in (id_field, name_field, layer, encoding))
    ):
        raise ZoningError(
            "crs=, attributes=, wkt=, points=, id_field=, name_field=, layer= and encoding= "
            "apply when loading sites, not to a Sites object"
        )
    if layers is None or isinstance(layers, str | Path):
        layers = load_catalog(layers)
    rule_set = rules if isinstance(rules, RuleSet) else load_rules(rules)
    needed_radius = float(rule_set.search_radius_m)
    unc_max = float(sites.gdf["uncertainty_m"].max()) if len(sites.gdf) else 0.0
    reach = _rule_reach(rule_set, layers.catalog.layers, unc_max if np.isfinite(unc_max) else 0.0)
    radius = (
        max(DEFAULT_SEARCH_RADIUS_M, needed_radius, reach)
        if search_radius_m is None
        else float(search_radius_m)
    )
    if radius < 0 or not math.isfinite(radius):
        raise ZoningError(f"search radius must be a distance >= 0 m, not {search_radius_m!r}")
    notes = list(sites.notes)

    entries = list(layers.catalog.layers)
    total = 2 * len(entries) + 1
    step = 0

    def tick(stage: str) -> None:
        nonlocal step
        if progress is not None:
            progress(stage, step, total)
        step += 1

    inputs: list[LayerInput] = []
    layer_prov: list[dict] = []
    for entry in entries:
        tick(f"load {entry.id}")
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
            if on_layer_error == "raise":
                raise
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
        progress=lambda layer_id: tick(f"overlay {layer_id}"),
    )
    notes.extend(ov.notes)
    searched = _searched_by_kind(ov, radius)
    short = sorted(
        {
            (r.applies_to.kind, r.applies_to.distance_m)
            for r in rule_set.rules
            if r.applies_to is not None
            and r.applies_to.distance_m is not None
            and searched.get(r.applies_to.kind, radius) < r.applies_to.distance_m
        }
    )
    for kind, need in short:
        notes.append(
            f"the {kind} layers were searched to {searched.get(kind, radius):g} m, below the "
            f"{need:g} m a rule needs: that rule gives unknown where nothing was found"
        )

    tick("rules")
    n = len(gdf)
    rules_out = _apply_rules(rule_set, gdf, ov, searched)
    out = gdf.copy()
    out["verdict"] = rules_out.verdict
    unc = gdf["uncertainty_m"].to_numpy(dtype=float)
    for col, values in _site_totals(ov, n, rule_set, unc, geoms, searched).items():
        out[col] = values
    fam = shapely.get_dimensions(geoms)
    out["area_m2"] = np.where(fam == 2, shapely.area(geoms), np.nan)
    out["length_m"] = np.where(fam == 1, shapely.length(geoms), np.nan)
    out["n_reasons"] = rules_out.n_reasons
    out["reasons_en"] = rules_out.reasons_en
    out["reasons_zh"] = rules_out.reasons_zh
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=WORKING_CRS)

    options = {
        # None: the sites came as a Sites object, whose attributes were set when loading.
        "attributes": None
        if from_sites
        else {k: v for k, v in (attributes or {}).items() if v is not None},
        "id_field": id_field,
        "name_field": name_field,
        "layer": layer,
        "encoding": encoding,
        "search_radius_m": radius,
        "pieces": bool(pieces),
        "rings": bool(rings),
        "on_layer_error": on_layer_error,
    }
    prov = _provenance(layers, layer_prov, rule_set, sites, radius, started, options, input_path)
    prov["duration_s"] = round(time.perf_counter() - clock, 3)
    result = ScreeningResult(
        sites=out,
        hits=rules_out.hits,
        layer_summary=lambda: ov.layer_summary,
        reasons=rules_out.reasons,
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


def _texts(values: pd.Series) -> np.ndarray:
    """Strings, with missing values (None, NaN, pd.NA) as ``""``; an object array."""
    return np.array(
        [
            "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)
            for v in values.to_numpy(dtype=object)
        ],
        dtype=object,
    )


def _attach_top_reasons(out: pd.DataFrame, reasons: pd.DataFrame) -> None:
    """``n_reasons`` and the (at most three) most severe reasons of each site, as text.

    A reason without a rule (a layer missing, a site outside the coverage, a control unit
    without an access list) is labelled by its layer kind and status instead.  A label counts
    once per site (its first row); the reasons are ranked by severity, in table order among
    equals, and joined with ``" | "``.
    """
    n = len(out)
    out["n_reasons"] = 0
    out["reasons_en"] = ""
    out["reasons_zh"] = ""
    if not len(reasons):
        return
    rule = _texts(reasons["rule_id"])
    fallback = _texts(reasons["kind"]) + ":" + _texts(reasons["status"])
    label = np.where(rule != "", rule, fallback)
    site = reasons["site"].to_numpy(dtype=np.int64)
    verdict = reasons["verdict"].to_numpy(dtype=object)
    sev = pd.Series(verdict).map(SEVERITY).to_numpy(dtype=np.int64)
    # The first row of each (site, label), then by site and severity (stable).
    code = pd.factorize(label)[0].astype(np.int64)
    key = site * (int(code.max()) + 1) + code
    _, first = np.unique(key, return_index=True)
    keep = np.sort(first)
    order = keep[np.lexsort((-sev[keep], site[keep]))]
    site_o = site[order]
    counts = np.bincount(site_o, minlength=n)
    out["n_reasons"] = counts
    # The first three rows of each site, joined with " | ".
    starts = np.cumsum(counts) - counts
    rank = np.arange(len(order)) - starts[site_o]
    top = order[rank < 3]
    top_site = site[top]
    bounds = np.flatnonzero(np.r_[True, top_site[1:] != top_site[:-1], True])
    head = label[top] + " (" + _texts(reasons["verdict"].iloc[top]) + "): "
    for lang in ("en", "zh"):
        parts = (head + _texts(reasons[f"message_{lang}"].iloc[top])).tolist()
        joined = np.full(n, "", dtype=object)
        joined[top_site[bounds[:-1]]] = [
            " | ".join(parts[a:b]) for a, b in itertools.pairwise(bounds)
        ]
        out[f"reasons_{lang}"] = joined


@dataclass
class _RulesOutcome:
    """Per site: verdict and top reasons; ``reasons`` and ``hits`` as frames or builders."""

    verdict: np.ndarray
    n_reasons: np.ndarray
    reasons_en: np.ndarray
    reasons_zh: np.ndarray
    reasons: Any
    hits: Any


def prepare_point_grid(layers: LayerSet | str | Path | None = None) -> None:
    """Build the combined point grid of a catalog's layers once, so that every later
    ``screen(..., search_radius_m=0)`` of point sites with these layers uses it.

    A single screening builds it only for :data:`zoning.overlay.POINT_GRID_MIN_POINTS` points
    or more (it takes seconds to build, then saves about 4.5 s per million points); a process
    that screens many batches of points calls this first.  ``layers``: a loaded catalog (the
    same object passed to :func:`screen`), a catalog path, or None for the demonstration
    catalog.  Layers that fail to load are left out, as :func:`screen` would.
    """
    from .overlay import prepare_point_grid as _prepare

    if layers is None or isinstance(layers, str | Path):
        layers = load_catalog(layers)
    inputs = []
    for entry in layers.catalog.layers:
        try:
            lay = layers[entry.id]
            inputs.append(LayerInput(entry.id, entry.kind, lay.index, lay.attributes))
        except (LayerReadError, LayerDataError, CRSError, CatalogError):
            continue
    _prepare(inputs)


def _searched_by_kind(ov: OverlayResult, radius: float) -> dict[str, float]:
    """How far the overlay searched each layer kind: the search radius, or a layer's
    outermost declared buffer ring where that reaches farther (the smallest over the layers of
    one kind; radius 0: no search)."""
    out: dict[str, float] = {}
    for p in ov.passes:
        ix = p.layer.index
        reach = radius
        if radius > 0 and ix is not None and ix.rings_declared:
            reach = max(radius, ix.rings_m[-1])
        out[p.layer.kind] = min(out.get(p.layer.kind, np.inf), reach)
    return out


def _apply_rules(rule_set: RuleSet, gdf: pd.DataFrame, ov: OverlayResult, radius: dict[str, float]):
    """Evaluate the rules once per *situation* and give every site its situation's answer.

    Rules never touch geometry: a site's reasons depend only on its project attributes, its
    coverage status and, per layer, the features it intersects (and, for kinds with a
    ``within`` rule, which feature lies within which rule distance) — see :func:`_situations`.
    Sites in the same situation get the same reasons, so :func:`zoning.rules.evaluate` runs on
    one representative per situation and its rows are repeated for the others (built on first
    access of ``result.reasons``).  Sites whose situation is not simple (several features of
    one layer, several features near a ``within`` rule's layer) are their own representative.

    Notes
    -----
    Cost: O(sites x layers) numpy work for the situations, then the rules on the
    representatives only (a million random points over the demonstration layers fall into a
    few thousand situations).  The answers are those of ``evaluate`` on every site
    (``tests/test_fast_path.py`` checks it).
    """
    n = len(gdf)
    rep, group = _situations(rule_set, gdf, ov)
    ids = gdf["site_id"].to_numpy(dtype=object)
    tol = {p.layer_id: p.layer.index.tolerance_m for p in ov.passes}
    unc = gdf["uncertainty_m"].to_numpy(dtype=float)
    if len(rep) == n:  # every site is its own situation: the plain path
        reasons = evaluate(
            rule_set, gdf, ov.hits, ov.layer_summary, search_radius_m=radius, tolerance_m=tol
        )
        top = pd.DataFrame(index=range(n))
        _attach_top_reasons(top, reasons)

        def hits_all() -> gpd.GeoDataFrame:
            return _hits_with_verdicts(ov, reasons, None, rule_set, unc)

        return _RulesOutcome(
            verdict=site_verdicts(reasons, n).to_numpy(),
            n_reasons=top["n_reasons"].to_numpy(),
            reasons_en=top["reasons_en"].to_numpy(),
            reasons_zh=top["reasons_zh"].to_numpy(),
            reasons=reasons,
            hits=hits_all,
        )
    rep_sites = gdf.iloc[rep].reset_index(drop=True)
    rep_hits, rep_summary = ov.tables_for(rep)
    try:
        rep_reasons = evaluate(
            rule_set, rep_sites, rep_hits, rep_summary, search_radius_m=radius, tolerance_m=tol
        )
    except ValueError:
        # A project attribute evaluate cannot read: let the full evaluation name the row.
        evaluate(rule_set, gdf, ov.hits, ov.layer_summary, search_radius_m=radius, tolerance_m=tol)
        raise
    top = pd.DataFrame(index=range(len(rep)))
    _attach_top_reasons(top, rep_reasons)
    verdict = site_verdicts(rep_reasons, len(rep)).to_numpy()[group]

    def reasons_all() -> pd.DataFrame:
        return _expand_reasons(rep_reasons, len(rep), group, ids)

    def hits_all() -> gpd.GeoDataFrame:
        return _hits_with_verdicts(ov, rep_reasons, group, rule_set, unc)

    return _RulesOutcome(
        verdict=verdict,
        n_reasons=top["n_reasons"].to_numpy()[group],
        reasons_en=top["reasons_en"].to_numpy()[group],
        reasons_zh=top["reasons_zh"].to_numpy()[group],
        reasons=reasons_all,
        hits=hits_all,
    )


def _expand_reasons(
    rep_reasons: pd.DataFrame, n_rep: int, group: np.ndarray, ids: np.ndarray
) -> pd.DataFrame:
    """The reasons of every site: its representative's rows, renumbered, in site order."""
    rsite = rep_reasons["site"].to_numpy(dtype=np.int64)
    counts = np.bincount(rsite, minlength=n_rep)
    starts = np.r_[0, np.cumsum(counts)[:-1]]  # rep_reasons is sorted by site
    per_site = counts[group]
    total = int(per_site.sum())
    out_start = np.cumsum(per_site) - per_site
    site = np.repeat(np.arange(len(group)), per_site)
    take = np.arange(total) - np.repeat(out_start, per_site) + np.repeat(starts[group], per_site)
    frame = rep_reasons.iloc[take].reset_index(drop=True)
    frame["site"] = site
    sid = ids[site] if total else np.empty(0, dtype=object)
    fallback = site.astype(str).astype(object)
    frame["site_id"] = np.where(pd.isna(sid), fallback, sid) if total else sid
    return frame


def _hits_with_verdicts(
    ov: OverlayResult,
    reasons: pd.DataFrame,
    group: np.ndarray | None,
    rule_set: RuleSet,
    unc: np.ndarray,
) -> gpd.GeoDataFrame:
    """The hits table with ``rule_ids`` and ``verdict`` of the rules each hit triggers.

    With ``group``, ``reasons`` are those of the representatives: each hit is matched on its
    site's representative.  ``boundary_sensitive`` is also set on a feature of a kind with a
    ``within`` rule whose distance lies within the layer's tolerance plus the site's
    uncertainty of a rule distance (see :func:`_band_sensitive`).
    """
    hits = ov.hits.copy()
    within = _within_distances(rule_set)
    if len(hits) and within:
        tol = {p.layer_id: p.layer.index.tolerance_m for p in ov.passes}
        kinds = hits["kind"].to_numpy(dtype=object)
        sel = np.flatnonzero(np.isin(kinds, list(within)))
        if len(sel):
            band = np.zeros(len(hits), dtype=bool)
            site = hits["site"].to_numpy(dtype=np.int64)[sel]
            dist = hits["distance_m"].to_numpy(dtype=float)[sel]
            t = hits["layer_id"].iloc[sel].map(tol).to_numpy(dtype=float) + unc[site]
            for k in within:
                m = kinds[sel] == k
                band[sel[m]] = _band_sensitive(dist[m], t[m], within[k])
            hits["boundary_sensitive"] = hits["boundary_sensitive"].to_numpy(dtype=bool) | band
    if len(hits):
        keys = hits[["site", "layer_id", "feature_id"]]
        if group is not None:
            keys = keys.assign(site=group[hits["site"].to_numpy(dtype=np.int64)])
        rule_ids, hverdict = hit_verdicts(reasons, keys)
        hits["rule_ids"] = rule_ids.to_numpy()
        hits["verdict"] = hverdict.to_numpy()
    else:
        hits["rule_ids"] = pd.Series(dtype=object)
        hits["verdict"] = pd.Series(dtype=object)
    return _hits_with_pieces(hits, ov.pieces)


def _situations(rule_set: RuleSet, gdf: pd.DataFrame, ov: OverlayResult):
    """Group the sites whose rule evaluation is necessarily the same.

    A site's situation is: its project attributes (``industry``, ``nature`` and the flags),
    whether it lies outside the coverage, and per layer that loaded: the feature it intersects
    (none or one) and whether it lies wholly inside the layer (``share_of_site`` at least
    ``1 - OUTSIDE_TOLERANCE``, what ``outside`` rules test); for kinds a ``within`` rule reads,
    also the feature of its single touching or nearby row and the band of rule distances its
    distance falls in.  A site with more rows than that in a layer has a situation of its own.

    Returns
    -------
    rep : array of int64
        The representative (first site) of every situation, ascending.
    group : array of int64
        Per site: its situation (an index into ``rep``).
    """
    n = len(gdf)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    within: dict[str, list[float]] = {}
    for rule in rule_set.rules:
        at = rule.applies_to
        if at is not None and at.relation == "within":
            within.setdefault(at.kind, []).append(float(at.distance_m))  # type: ignore[arg-type]
    lone = np.zeros(n, dtype=bool)  # sites that get a situation of their own
    codes: list[tuple[np.ndarray, int]] = [(ov.outside.astype(np.int64), 2)]
    for col in ("industry", "nature", *FLAGS):
        if col in gdf.columns:
            c, u = pd.factorize(gdf[col].astype(object), use_na_sentinel=True)
            codes.append((c.astype(np.int64) + 1, len(u) + 1))
    unc = gdf["uncertainty_m"].to_numpy(dtype=float) if "uncertainty_m" in gdf.columns else None
    for p in ov.passes:
        m = p.layer.index.n
        if p.layer.kind in within:
            rows = np.arange(len(p.ps))
            bands = np.unique(within[p.layer.kind])
            band = np.searchsorted(bands, p.dist, side="left")  # d <= D_i  <=>  band <= i
            # within the tolerance (plus uncertainty) of a rule distance: a note in the reason,
            # whose text says whether the site has a conversion uncertainty
            u = unc[p.ps] if unc is not None else np.zeros(len(p.ps))
            near = _band_sensitive(p.dist, p.layer.index.tolerance_m + u, bands)
            near_code = np.where(near, np.where(u > 0, 2, 1), 0)
            value = ((p.pf * 3 + p.rel) * (len(bands) + 1) + band) * 3 + near_code
            radix = m * 3 * (len(bands) + 1) * 3
        else:
            rows = np.flatnonzero(p.rel == 0)
            value = p.pf
            radix = m
        s = p.ps[rows]
        count = np.bincount(s, minlength=n)
        lone |= count > 1
        code = np.zeros(n, dtype=np.int64)
        one = count[s] == 1
        code[s[one]] = value[rows[one]] + 1
        inside = p.hit & (p.share >= 1.0 - OUTSIDE_TOLERANCE)
        codes.append((code * 2 + inside, (radix + 1) * 2))
    key = np.zeros(n, dtype=np.int64)
    size = 1
    for c, radix in codes:
        if size * radix >= 2**62:
            key = pd.factorize(key)[0].astype(np.int64)
            size = int(key.max()) + 1
        key = key * radix + c
        size *= radix
    key[lone] = -1 - np.flatnonzero(lone)  # distinct, and apart from every other key
    group = pd.factorize(key)[0].astype(np.int64)
    # factorize numbers situations in order of first appearance: the first sites are the
    # representatives, ascending.
    seen = np.r_[-1, np.maximum.accumulate(group)[:-1]]
    rep = np.flatnonzero(group > seen).astype(np.int64)
    return rep, group


def _within_distances(rule_set: RuleSet) -> dict[str, tuple[float, ...]]:
    """The distances of the ``within`` rules, per layer kind (ascending)."""
    out: dict[str, set[float]] = {}
    for rule in rule_set.rules:
        at = rule.applies_to
        if at is not None and at.relation == "within" and at.distance_m is not None:
            out.setdefault(at.kind, set()).add(float(at.distance_m))
    return {k: tuple(sorted(v)) for k, v in out.items()}


def _rule_reach(rule_set: RuleSet, entries: Iterable[Any], uncertainty_m: float) -> float:
    """How far the distance search must reach: every ``within`` rule's distance plus the
    positional tolerance of its layers plus the sites' largest conversion uncertainty, so a
    site just beyond a rule distance still sees the feature (and is flagged)."""
    within = _within_distances(rule_set)
    reach = 0.0
    for entry in entries:
        if entry.kind in within:
            tol = float(entry.positional_tolerance_m or 0.0)
            reach = max(reach, within[entry.kind][-1] + tol + uncertainty_m)
    return reach


def _band_sensitive(
    dist: np.ndarray, tolerance: np.ndarray | float, distances: Sequence[float]
) -> np.ndarray:
    """Whether each distance lies within ``tolerance`` of one of the rule ``distances``:
    ``|d - D| <= tolerance`` (False for NaN distances)."""
    dist = np.asarray(dist, dtype=float)
    out = np.zeros(dist.shape, dtype=bool)
    for d in distances:
        with np.errstate(invalid="ignore"):
            out |= np.abs(dist - d) <= tolerance
    return out


def _site_totals(
    ov: OverlayResult,
    n: int,
    rule_set: RuleSet,
    unc: np.ndarray,
    geoms: np.ndarray,
    searched: Mapping[str, float] | None = None,
) -> dict[str, np.ndarray]:
    """Per site: constraint layers and features touched, flags, overlap totals, nearest.

    ``boundary_sensitive``: a layer of a kind some rule reads (:attr:`RuleSet.kinds`: the
    development boundary and the control units included; layers no rule reads, such as
    ``water``, left out) has a feature boundary within its positional tolerance plus the
    site's uncertainty, or — for a kind with a ``within`` rule — a feature whose distance lies
    within that of a rule distance.  Counts, totals and the nearest distance over the layers
    that are not :data:`CONTEXT_KINDS` and that some rule reads (*constraint layers*), with
    status ``ok`` (a site outside the coverage has none):

    * ``n_constraints``: constraint layers the site touches, or — for a kind with a ``within``
      rule (the shoreline) — lies within the largest rule distance of;
    * ``n_hits``: features of constraint layers the site intersects;
    * ``overlap_m2_total`` / ``overlap_length_m_total``: the area / length of the union of the
      site's overlaps with the constraint layers, so ground two layers share counts once (NaN
      when no constraint layer measures one);
    * ``nearest_m``: the distance to the nearest feature of a constraint layer, up to the
      shortest distance every constraint layer was searched to (``searched``, per kind: a layer
      searched farther, such as the shoreline to its 3 km ring, must not stand in for layers
      not searched that far); NaN when none lies within it.

    Layers no rule reads (``water``) feed none of these: they are in ``hits`` and
    ``layer_summary`` only.  ``geoms`` (working CRS) serve the union when overlap pieces were
    not built.
    """
    read = rule_set.read_kinds
    within = _within_distances(rule_set)
    ok = ~ov.outside
    n_constraints = np.zeros(n, dtype=int)
    n_hits = np.zeros(n, dtype=int)
    sens = np.zeros(n, dtype=bool)
    area = np.zeros(n)
    area_n = np.zeros(n, dtype=int)
    length = np.zeros(n)
    length_n = np.zeros(n, dtype=int)
    nearest = np.full(n, np.inf)
    positive_area = np.zeros(n, dtype=int)
    positive_length = np.zeros(n, dtype=int)
    constraint: list = []
    for p in ov.passes:
        kind = p.layer.kind
        if kind in read:
            sens |= p.sens
            if kind in within:
                band = _band_sensitive(p.dist, p.layer.index.tolerance_m + unc[p.ps], within[kind])
                sens[p.ps[band]] = True
        if kind in CONTEXT_KINDS or kind not in read:
            continue
        constraint.append(p)
        counted = p.hit.copy()
        if kind in within:
            with np.errstate(invalid="ignore"):
                counted |= p.sdist <= within[kind][-1]
        n_constraints += counted & ok
        n_hits += np.bincount(p.ps[p.rel == 0], minlength=n)
        for total, count, pos, values in (
            (area, area_n, positive_area, p.ov),
            (length, length_n, positive_length, p.ln),
        ):
            has = ok & ~np.isnan(values)
            total[has] += values[has]
            count += has
            pos += has & (values > 0)
        has = ok & ~np.isnan(p.sdist)
        nearest[has] = np.minimum(nearest[has], p.sdist[has])
    if searched is not None and constraint:
        cap = min(searched.get(p.layer.kind, np.inf) for p in constraint)
        nearest[nearest > cap] = np.inf
    # Where two or more constraint layers overlap a site, the sum may count shared ground
    # twice: measure the union of the overlap pieces instead.
    multi = np.flatnonzero((positive_area > 1) | (positive_length > 1))
    if len(multi):
        u_area, u_length = _union_overlaps(ov, constraint, multi, geoms)
        sel = positive_area[multi] > 1
        area[multi[sel]] = u_area[sel]
        sel = positive_length[multi] > 1
        length[multi[sel]] = u_length[sel]
    return {
        "n_constraints": n_constraints,
        "n_hits": n_hits,
        "boundary_sensitive": sens,
        "overlap_m2_total": np.where(area_n > 0, area, np.nan),
        "overlap_length_m_total": np.where(length_n > 0, length, np.nan),
        "nearest_m": np.where(np.isfinite(nearest), nearest, np.nan),
    }


def _union_overlaps(
    ov: OverlayResult, passes: list, sites: np.ndarray, geoms: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Area and length of the union of the overlap pieces of ``sites`` (positions) with the
    layers of ``passes``: polygon pieces for the area, line pieces for the length (snapped to
    :data:`zoning.overlay.LINE_GRID_M`, so collinear pieces of two layers merge).

    A line site overlapped by polygon layers only is measured without pieces: the line
    inside the union of those layers' features (:func:`_line_in_polygons`).  The other pieces
    come from ``ov.pieces``; when they were not built (``pieces=False``) the engine builds them
    for the remaining sites only.
    """
    from .overlay import _POLY, LINE_GRID_M

    out_area = np.zeros(len(sites))
    out_length = np.zeros(len(sites))
    direct = np.zeros(len(sites), dtype=bool)
    for j in np.flatnonzero(shapely.get_dimensions(geoms[sites]) == 1):
        with np.errstate(invalid="ignore"):
            here = [p for p in passes if p.ln[sites[j]] > 0]
        if here and all(p.layer.index.family == _POLY for p in here):
            out_length[j] = _line_in_polygons(geoms[sites[j]], [p.layer.index for p in here])
            direct[j] = True
    rest = sites[~direct]
    if not len(rest):
        return out_area, out_length
    layer_ids = {p.layer_id for p in passes}
    pieces = ov.pieces
    if len(pieces):
        pieces = pieces[pieces["layer_id"].isin(layer_ids) & pieces["site"].isin(rest)]
        site = pieces["site"].to_numpy(dtype=np.int64)
    else:
        sub = overlay(
            geoms[rest],
            np.asarray(rest, dtype=object),
            [p.layer for p in passes],
            search_radius_m=0.0,
            pieces=True,
            rings=False,
        )
        pieces = sub.pieces
        site = np.asarray(rest)[pieces["site"].to_numpy(dtype=np.int64)]
    g = pieces.geometry.to_numpy()
    pos = np.searchsorted(sites, site)
    for dim, out in ((2, out_area), (1, out_length)):
        sel = shapely.get_dimensions(g) == dim
        if not sel.any():
            continue
        frame = pd.DataFrame({"pos": pos[sel], "g": g[sel]})
        for k, part in frame.groupby("pos", sort=False)["g"]:
            parts = part.to_numpy()
            if dim == 2:
                out[int(k)] = shapely.area(shapely.union_all(parts))
            else:
                out[int(k)] = shapely.length(shapely.union_all(parts, grid_size=LINE_GRID_M))
    return out_area, out_length


def _line_in_polygons(line, indexes: list) -> float:
    """Length of ``line`` inside the union of the features of polygon layers ``indexes``.

    One intersection with the union of the feature pieces that meet the line: pieces of the
    line clipped by different layers hold the same stretch with vertices nanometres apart,
    which a union of the pieces (even snap-rounded) can count twice.
    """
    from .overlay import LINE_GRID_M

    near = []
    for ix in indexes:
        near.append(ix.pieces[ix.piece_tree.query(line, predicate="intersects")])
    try:
        area = shapely.union_all(np.concatenate(near))
    except shapely.errors.GEOSException:  # near-coincident edges of two layers: snap-round
        area = shapely.union_all(np.concatenate(near), grid_size=LINE_GRID_M)
    return float(shapely.length(shapely.intersection(line, area)))


#: How :func:`load_sites` labels sources that are not files.
_INLINE_SOURCES = frozenset(
    {"points", "wkt", "geometries", "GeoDataFrame", "GeoSeries", "DataFrame", "sites"}
)


def _input_file(sites: object) -> Path | None:
    """The local file the sites come from (for its hash), if any."""
    if isinstance(sites, Sites):
        if sites.source in _INLINE_SOURCES:
            return None
        sites = sites.source
    if isinstance(sites, str | Path) and Path(sites).is_file():
        return Path(sites)
    return None


def _hits_with_pieces(hits: pd.DataFrame, pieces: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The hits as a GeoDataFrame whose geometry is the overlap piece of each pair (or None)."""
    geom = np.full(len(hits), None, dtype=object)
    if len(hits) and len(pieces):
        keys = ("site_id", "layer_id", "feature_id")
        p = pd.DataFrame({k: pieces[k].astype(str).to_numpy() for k in keys})
        unique = ~p.duplicated().to_numpy()
        index = pd.MultiIndex.from_frame(p[unique])
        wanted = pd.MultiIndex.from_arrays([hits[k].astype(str).to_numpy() for k in keys])
        pos = index.get_indexer(wanted)
        found = pos >= 0
        geom[found] = pieces.geometry.to_numpy()[unique][pos[found]]
    return gpd.GeoDataFrame(hits, geometry=geom, crs=WORKING_CRS)


def _provenance(layers, layer_prov, rule_set, sites, radius, started, options, input_path) -> dict:
    from ._version import __version__

    cat = layers.catalog
    cat_path = getattr(cat, "path", None)
    input_sha256 = file_sha256(input_path) if input_path is not None else None
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
            "sha256": input_sha256,
            "crs": sites.input_crs,
            "conversion": (f"{sites.pseudo} -> WGS84 (zoning.crs)" if sites.pseudo else None),
            "sites": len(sites),
        },
        "search_radius_m": radius,
        "options": options,
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
    "linear_source",
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


def _data_status(result: ScreeningResult) -> str:
    """``demonstration`` when any layer or the rule set is, else the layers' statuses."""
    if result.is_demonstration:
        return "demonstration"
    statuses = {
        str(p.get("status") or "unknown")
        for p in result.provenance.get("layers", [])
        if isinstance(p, dict) and p.get("load", "ok") == "ok"
    }
    return "; ".join(sorted(statuses)) or "unknown"


def _sites_table(result: ScreeningResult, *, geometry: bool = False) -> pd.DataFrame:
    """``sites.csv``: the columns of :data:`_SITE_COLUMNS`, lon/lat of a point on each site
    (WGS84) and ``data_status`` (``demonstration`` when the data are)."""
    s = result.sites
    cols = [c for c in _SITE_COLUMNS if c in s.columns]
    table = pd.DataFrame(s[cols])
    rep = shapely.point_on_surface(s.geometry.to_crs(WGS84).to_numpy())
    table.insert(3, "lon", np.round(shapely.get_x(rep), 7))
    table.insert(4, "lat", np.round(shapely.get_y(rep), 7))
    table["data_status"] = _data_status(result)
    if geometry:
        return gpd.GeoDataFrame(table, geometry=s.geometry.to_numpy(), crs=WORKING_CRS)
    return table


def _hits_table(result: ScreeningResult) -> pd.DataFrame:
    """``hits.csv``: the columns of :data:`_HITS_COLUMNS` and each layer's data status."""
    h = result.hits
    table = pd.DataFrame(h[[c for c in _HITS_COLUMNS if c in h.columns]])
    status = {
        p.get("id"): p.get("status")
        for p in result.provenance.get("layers", [])
        if isinstance(p, dict)
    }
    table["layer_status"] = table["layer_id"].map(status).astype(object)
    return table


def _ranking_table(result: ScreeningResult) -> pd.DataFrame:
    """``ranking.csv``: the ranking of a comparison as computed, plus the data status."""
    table = pd.DataFrame(result.ranking).copy()
    table["data_status"] = _data_status(result)
    return table


def _records_json(df: pd.DataFrame) -> str:
    """Rows as a JSON array; NaN and infinities are ``null``, floats keep 6 decimals."""
    return df.to_json(orient="records", force_ascii=False, double_precision=6, default_handler=str)


def _records(df: pd.DataFrame) -> list[dict]:
    return json.loads(_records_json(df))


def _json(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)
