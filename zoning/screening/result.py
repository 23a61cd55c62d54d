"""The outcome of a screening: :class:`ScreeningResult`, its tables and its writers' entry.

The result holds the tables a screening produced (some built on first access, see
:class:`_Lazy`); writing them is delegated: :meth:`ScreeningResult.to_file` to
:mod:`zoning.screening.outputs` (the folder, all-or-nothing) and :mod:`zoning.tables` (the
CSV, GeoPackage and JSON files), :meth:`ScreeningResult.to_html` to :mod:`zoning.report`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from ..layerset import LayerSet
from ..rules import SEVERITY, RuleSet
from .outputs import DEFAULT_FORMATS

__all__ = ["ScreeningResult"]


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
    """The outcome of :func:`~zoning.screening.screen` (and of
    :func:`zoning.compare.compare_alternatives`).

    Attributes
    ----------
    sites : GeoDataFrame
        One row per site (working CRS): ``site_id``, ``name``, the project attributes,
        ``verdict``, ``n_constraints`` (constraint layers touched, or within a ``within``
        rule's distance), ``n_hits`` (constraint features touched), ``boundary_sensitive``,
        ``overlap_m2_total`` / ``overlap_length_m_total`` (the union of the overlaps with the
        constraint layers), ``nearest_m``, ``area_m2``, ``length_m``, ``n_reasons``,
        ``reasons_en`` / ``reasons_zh`` (the most severe reasons).  Constraint layers are those
        of a kind some rule reads, other than :data:`~zoning.screening.CONTEXT_KINDS`; see
        :func:`zoning.overlay.totals.site_totals`.
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
    input_rows : InputRows or None
        The input table and each site's row in it, and the rows set aside with
        ``on_row_error="report"`` (:class:`zoning.sites.InputRows`; ``rejected.csv`` and
        ``screening.xlsx`` show them).

    Notes
    -----
    ``hits``, ``layer_summary`` and ``reasons`` may be passed as zero-argument callables: they
    are then built on first access (and cached).  :func:`~zoning.screening.screen` does so,
    so a screening of a million points that only needs ``sites`` never builds the several
    million rows of the other tables.
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
    input_rows: Any = None

    def __len__(self) -> int:
        return len(self.sites)

    def __repr__(self) -> str:
        counts = self.verdict_counts()
        text = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
        return f"<ScreeningResult {len(self.sites)} site(s): {text}>"

    @property
    def is_demonstration(self) -> bool:
        """True when any layer or the rule set is demonstration data.

        Returns
        -------
        bool
        """
        return bool(self.provenance.get("demonstration"))

    def is_built(self, name: str) -> bool:
        """Whether the table ``name`` (``hits``, ``layer_summary``, ``reasons``) is built.

        Parameters
        ----------
        name : str
            A table given as a builder (see the Notes of the class).

        Returns
        -------
        bool
            False while reading it would still build it (millions of rows for a large
            screening): a summary may then use what the sites table holds instead.
        """
        value = self.__dict__.get(f"_lazy_{name}")
        return not (callable(value) and not isinstance(value, pd.DataFrame))

    def verdict_counts(self) -> dict[str, int]:
        """Number of sites per verdict, most severe first.

        Returns
        -------
        dict
            Every verdict of :data:`zoning.rules.SEVERITY` (most severe first) -> its count
            (0 included).
        """
        vc = self.sites["verdict"].value_counts()
        order = sorted(SEVERITY, key=SEVERITY.get, reverse=True)
        return {v: int(vc.get(v, 0)) for v in order}

    def worst(self) -> str:
        """The most severe verdict of any site.

        Returns
        -------
        str
            A verdict of :data:`zoning.rules.SEVERITY`; ``permitted`` for no sites.
        """
        if not len(self.sites):
            return "permitted"
        return max(self.sites["verdict"], key=SEVERITY.get)

    # ------------------------------------------------------------------ clause table

    @property
    def clauses(self) -> pd.DataFrame:
        """The four-dimension clause table (符合性分析), built on first access and cached.

        Returns
        -------
        DataFrame
            One row per (site, clause that applies to the site's layers or control units),
            columns :data:`zoning.schema.CLAUSE_COLUMNS`; see
            :func:`zoning.rules.clauses.clause_table`.  Reading it builds ``hits``,
            ``layer_summary`` and ``reasons`` if no one read them yet.
        """
        cached = self.__dict__.get("_clauses")
        if cached is None:
            cached = self._clauses_of(None)
            self.__dict__["_clauses"] = cached
        return cached

    @clauses.setter
    def clauses(self, value: pd.DataFrame) -> None:
        """Set the clause table (a table built elsewhere, e.g. for a subset of the sites)."""
        self.__dict__.pop("_clause_conclusions", None)
        self.__dict__["_clauses"] = value

    @property
    def clause_conclusions(self) -> pd.DataFrame:
        """Each site's conclusion in the standard wording, from :attr:`clauses`.

        Returns
        -------
        DataFrame
            ``site``, ``conclusion_zh``, ``conclusion_en``, one row per site, in site order
            (:func:`zoning.rules.clauses.clause_conclusions`).
        """
        cached = self.__dict__.get("_clause_conclusions")
        if cached is None:
            from ..rules.clauses import clause_conclusions

            cached = clause_conclusions(self.rule_set, self.clauses, self.reasons, len(self.sites))
            self.__dict__["_clause_conclusions"] = cached
        return cached

    def _clauses_of(self, positions: Iterable[int] | None) -> pd.DataFrame:
        """The clause table of the sites at ``positions`` (None: every site), as the full
        table would give them (the cached table is filtered when there is one)."""
        cached = self.__dict__.get("_clauses")
        if cached is not None and positions is not None:
            return cached[cached["site"].isin(list(positions))].reset_index(drop=True)
        from ..rules.clauses import clause_table

        only = None if positions is None else list(positions)
        return clause_table(
            self.rule_set,
            self.sites,
            self.hits,
            self.layer_summary,
            self.reasons,
            search_radius_m=self.provenance.get("search_radius_m"),
            only=only,
        )

    # ------------------------------------------------------------------ writers

    def to_html(self, out_dir: str | Path, *, lang: str = "both", **map_options: Any) -> Path:
        """Write the HTML report (with its map) under ``out_dir/report/``.

        Parameters
        ----------
        out_dir : path
            The folder that receives ``report/``.
        lang : {"both", "zh", "en"}, keyword-only
            Language of the report.
        **map_options
            ``offline``, ``basemap``, ``tianditu_key``, ``map``: see
            :func:`zoning.report.write_report`.

        Returns
        -------
        Path
            ``out_dir/report/index.html``.

        Notes
        -----
        An older report is replaced only when the new one is complete.  Unlike
        :meth:`to_file`, no marker is written or read.
        """
        from ..report import write_report

        return write_report(self, out_dir, lang=lang, **map_options)

    def to_pdf(self, path: str | Path, *, lang: str = "both") -> Path:
        """Write the run's PDF 符合性分析 (cover, summary table, each site's analysis).

        Parameters
        ----------
        path : path
            The PDF file (its folder is created if needed; an existing file is replaced only
            once the new document is complete).
        lang : {"both", "zh", "en"}, keyword-only
            Language of the headings and labels.

        Returns
        -------
        Path
            ``path``.

        Notes
        -----
        Needs the ``documents`` extra (fpdf2, matplotlib).  Above
        :data:`zoning.documents.pdf.MAX_COMBINED_SITES` sites the document holds the summary
        only (its cover says so); ``to_file(out, ["pdf"])`` also writes one document per site.
        See :func:`zoning.documents.pdf.write_run_pdf`.
        """
        from ..documents.pdf import write_run_pdf

        return write_run_pdf(self, path, lang=lang)

    def to_file(
        self,
        out_dir: str | Path,
        formats: Iterable[str] = DEFAULT_FORMATS,
        *,
        lang: str = "both",
        map_options: Mapping[str, Any] | None = None,
        csv_encoding: str = "utf-8-sig",
        out_crs: str | int | None = None,
    ) -> dict[str, Path]:
        """Write the result into ``out_dir``.

        Parameters
        ----------
        out_dir : path
            The output folder (created, with its parents, if needed).
        formats : iterable of {"csv", "parquet", "gpkg", "json", "html", "pdf", "docx", "xlsx"}
            Rows carry codes, not prose: each site's reasons and conclusion are codes
            (``rule_ids``, ``reason_codes``, ``conclusion_code``) whose words are written
            once, in the codes table (``codes.csv``, ``codes.parquet``, the ``codes`` layer,
            member or sheet; :mod:`zoning.tables.codes`).
            ``parquet``: ``sites.parquet`` (GeoParquet 1.1, WKB in EPSG:4326),
            ``hits.parquet``, ``clauses.parquet`` and ``codes.parquet``, the provenance in
            each file's metadata (``zoning:provenance``; :func:`zoning.tables.write_parquet`);
            ``csv``: ``sites.csv``, ``hits.csv``, ``codes.csv`` and ``clauses.csv`` (the
            clause table, :attr:`clauses`: every row up to
            :data:`zoning.tables.CLAUSES_FULL_MAX_SITES` sites, only the ``violates``,
            ``undecided`` and ``needs_review`` rows up to
            :data:`zoning.tables.CLAUSES_MAX_SITES`, its header only above; a note says so)
            (and ``ranking.csv`` for a comparison, ``rejected.csv`` -- the rows set aside --
            when the sites were read with ``on_row_error="report"``);
            ``xlsx``: ``screening.xlsx`` (:func:`zoning.documents.excel.write_xlsx`);
            ``gpkg``: ``screening.gpkg`` with the layers ``sites``, ``pieces`` and ``rings``
            (EPSG:4326); ``json``: ``screening.json`` with every table and the provenance
            (above :data:`zoning.tables.JSON_FULL_TABLES_MAX_SITES` sites without the
            ``layer_summary`` and ``reasons`` rows, which would take gigabytes; a note says
            so; ``clauses`` only up to :data:`zoning.tables.CLAUSES_FULL_MAX_SITES` sites);
            ``html``: the report in ``report/`` (``report/index.html``), each site page with
            its clause table and conclusion; ``pdf``: ``screening.pdf`` (cover, summary, each
            site's analysis) and ``pdf/`` (one A4 document per site,
            :func:`zoning.documents.pdf.write_pdf`); ``docx``: ``screening.docx`` and ``docx/``
            (the Word section 生态环境分区管控符合性分析, :func:`zoning.documents.word.write_docx`).
            The documents need the ``documents`` extra.
        lang : {"both", "zh", "en"}, keyword-only
            Language of the HTML report and of the documents' headings.
        map_options : dict, keyword-only
            Options of the report's map ``report/map.html`` (``offline``, ``basemap``,
            ``tianditu_key``, ``map=False`` to skip it), passed to
            :func:`zoning.report.write_report`.
        csv_encoding : {"utf-8-sig", "utf-8", "gbk"}, keyword-only
            Encoding of the CSV files: UTF-8 with a byte-order mark (default: Excel on Chinese
            Windows opens it), without one, or GBK (a character GBK cannot encode is an error
            naming the file, row and column; nothing is written).
        out_crs : str or int, keyword-only
            The CRS of ``screening.gpkg``: ``EPSG:4326`` (default), ``EPSG:4490`` (CGCS2000)
            or a CGCS2000 Gauss-Krüger code ``EPSG:4491``-``EPSG:4554``
            (:func:`zoning.tables.check_out_crs`).

        Returns
        -------
        dict
            What was written: ``csv`` -> ``sites.csv``, ``hits`` -> ``hits.csv``, ``codes``
            -> ``codes.csv``, ``parquet`` -> ``sites.parquet``, ``clauses`` -> ``clauses.csv``,
            ``ranking``
            -> ``ranking.csv`` (a comparison), ``gpkg`` -> ``screening.gpkg``, ``json`` ->
            ``screening.json``, ``html`` -> ``report/index.html``, ``rejected`` ->
            ``rejected.csv``, ``xlsx`` -> ``screening.xlsx``, ``pdf`` -> ``screening.pdf``,
            ``pdf_sites`` -> ``pdf/``, ``docx`` -> ``screening.docx``, ``docx_sites`` ->
            ``docx/``.

        Raises
        ------
        ZoningError
            An unknown format; or ``out_dir`` holds, under a name this call writes
            (``sites.csv``, ``hits.csv``, ``clauses.csv``, ``ranking.csv``, ``screening.gpkg``,
            ``screening.json``, ``report/``), a file or folder that no earlier call wrote
            (not listed in :data:`~zoning.screening.OUTPUT_MARKER`), or a file the user added
            inside an earlier ``report/``: one line naming it, raised before anything is
            written.

        Notes
        -----
        Only what an earlier screening wrote is ever replaced or removed.  Each call writes
        :data:`~zoning.screening.OUTPUT_MARKER` (``.zoning-screen.json``) into ``out_dir``,
        listing every file it wrote (those inside ``report/`` included); a later call
        replaces or removes a path only when that list holds it and everything in it.  Files
        of the user in ``out_dir`` under other names are never touched.  Outputs of an earlier
        call that this call does not write (another format, the ``ranking.csv`` of a
        comparison) are removed, so the folder never mixes two runs (a stale ``sites.csv``
        next to a fresh report would mislead); a file under one of those names that no
        earlier call wrote is left alone.  Outputs written before the marker existed are not
        recognised: move them away.

        All-or-nothing.  Every file is first written into a hidden temporary folder inside
        ``out_dir``; only when all of them succeeded are they moved into place, older outputs
        being moved aside first and restored if a move fails.  On failure nothing is left
        behind: no temporary folder, no half-written file, and no ``out_dir`` (nor parent)
        that this call created.

        Cost: the files are written once, into ``out_dir`` itself (a move, never a copy, puts
        them in place), so ``out_dir`` needs room for the new files and the old ones at once.
        Writing builds ``hits`` (and, for ``json``, ``layer_summary`` and ``reasons``) if no
        one read them yet.  Measured on a shared 2-core machine with the demonstration catalog
        and rules (wall time, after the screening): for the 20 example projects ``csv`` takes
        0.1 s, ``gpkg`` 0.6 s, ``json`` 0.04 s and ``html`` (the report and its map) 6.4 s,
        3.8 MB in all, peak memory 0.6 GB, as for the screening; for 100,000 random points in
        Shanghai's bounding box (394,000 hits) ``csv`` takes 18 s (225 MB), ``gpkg`` 5 s
        (197 MB) and ``json`` 38 s (1.3 GB, every table), mostly waiting on the disk, the peak
        memory going from 1.05 GB after the screening to 1.5 GB while the JSON is written.
        The HTML report of so many sites was not measured.

        CRS: the result's geometries are in :data:`zoning.WORKING_CRS`; ``screening.gpkg``
        (every layer), the ``wkt`` column of ``screening.json`` and the ``lon`` / ``lat``
        columns of ``sites.csv`` are in EPSG:4326 (longitude first); areas, lengths and
        distances are those of the screening, in metres (working CRS).  A file written in a
        GCJ-02 or BD-09 run holds WGS84 coordinates, never shifted ones.
        """
        from .outputs import write_outputs

        return write_outputs(
            self, out_dir, formats, lang, map_options, csv_encoding=csv_encoding, out_crs=out_crs
        )

    def _write_gpkg(self, path: Path) -> None:
        """``screening.gpkg`` (:func:`zoning.tables.write_gpkg`)."""
        from ..tables import write_gpkg

        write_gpkg(self, path)

    def _tables(self, empty: Sequence[str] = ()) -> dict[str, pd.DataFrame]:
        """The tables of :meth:`to_dict` and of ``screening.json``
        (:func:`zoning.tables._result_tables`)."""
        from ..tables import _result_tables

        return _result_tables(self, empty)

    def _write_json(self, path: Path, chunk: int = 50_000) -> None:
        """``screening.json`` (:func:`zoning.tables.write_json`)."""
        from ..tables import write_json

        write_json(self, path, chunk)

    def to_dict(self) -> dict:
        """Every table and the provenance, as plain JSON-ready data.

        Returns
        -------
        dict
            ``provenance``, ``notes``, ``sites`` (the columns of ``sites.csv`` plus ``wkt``,
            the geometry in WGS84), ``hits`` (the columns of ``hits.csv``), ``layer_summary``,
            ``reasons`` and, for a comparison, ``ranking``.  Missing values are ``None``
            (``null`` in JSON).

        Notes
        -----
        Builds every lazy table and holds all of them as Python objects: for large runs
        write ``screening.json`` with :meth:`to_file` instead (streamed).
        """
        from ..tables import to_dict

        return to_dict(self)
