"""Where :meth:`ScreeningResult.to_file` writes, all-or-nothing.

What a screening writes (:func:`_planned_names`) and its marker (:data:`OUTPUT_MARKER`, only
what it lists is ever replaced or removed) are set here (:func:`output_folder`); the
transaction itself is :class:`zoning.io.outputs.OutputFolder`'s, the files are written by
:mod:`zoning.tables` and :func:`zoning.report.write_report`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ZoningError
from ..io.outputs import Marker, OutputFolder

if TYPE_CHECKING:
    from .result import ScreeningResult

log = logging.getLogger("zoning.screening")

#: Output formats :meth:`ScreeningResult.to_file` writes.
FORMATS = ("csv", "parquet", "gpkg", "json", "html", "pdf", "docx", "xlsx")
#: The formats written when none is named.
DEFAULT_FORMATS = ("csv", "gpkg", "json", "html")
#: Above this many sites, ``zoning screen`` without ``--format`` writes
#: :data:`LARGE_RUN_FORMATS` instead of :data:`DEFAULT_FORMATS` (and says so): a million
#: sites as CSV, GeoPackage, JSON and HTML would take minutes and gigabytes.
LARGE_RUN_SITES = 100_000
#: What ``zoning screen`` writes by default for a run of more than :data:`LARGE_RUN_SITES`.
LARGE_RUN_FORMATS = ("parquet",)

#: Every name :meth:`ScreeningResult.to_file` may write into its folder.
_OUTPUTS = (
    "sites.csv",
    "hits.csv",
    "clauses.csv",
    "codes.csv",
    "sites.parquet",
    "hits.parquet",
    "clauses.parquet",
    "codes.parquet",
    "ranking.csv",
    "rejected.csv",
    "screening.gpkg",
    "screening.json",
    "report",
    "screening.pdf",
    "pdf",
    "screening.docx",
    "docx",
    "screening.xlsx",
)
#: The file :meth:`ScreeningResult.to_file` writes into its folder, listing the files it wrote
#: (POSIX paths relative to the folder): only these are ever replaced or removed by a later call.
OUTPUT_MARKER = ".zoning-screen.json"


def _planned_names(
    formats: Sequence[str], *, comparison: bool, rejected: bool = False
) -> list[str]:
    """The top-level names :meth:`ScreeningResult.to_file` writes for ``formats``
    (``rejected``: rows were read with ``on_row_error="report"``)."""
    names: list[str] = []
    if "csv" in formats:
        names += ["sites.csv", "hits.csv", "codes.csv", "clauses.csv"]
        names += ["ranking.csv"] if comparison else []
        names += ["rejected.csv"] if rejected else []
    if "parquet" in formats:
        from ..tables import PARQUET_TABLES

        names += list(PARQUET_TABLES.values())
    if "gpkg" in formats:
        names.append("screening.gpkg")
    if "json" in formats:
        names.append("screening.json")
    if "html" in formats:
        names.append("report")
    for fmt in ("pdf", "docx", "xlsx"):
        if fmt in formats:
            from ..documents import document_names

            names += document_names(fmt)
    return names


def output_folder(
    out_dir: str | Path, planned: Sequence[str], provenance: Mapping[str, Any] | None = None
) -> OutputFolder:
    """The output transaction of :meth:`ScreeningResult.to_file` writing ``planned`` into
    ``out_dir`` (its marker :data:`OUTPUT_MARKER` records ``provenance``).

    Parameters
    ----------
    out_dir : path
        The output folder.
    planned : sequence of str
        The top-level names this call writes (:func:`_planned_names`).
    provenance : mapping, optional
        The result's provenance (``tool_version``, ``created``), written into the marker.

    Returns
    -------
    OutputFolder
        Shared with the user: only what an earlier screening listed in its marker is
        replaced or removed.
    """
    provenance = provenance or {}
    marker = Marker(
        OUTPUT_MARKER,
        writer="screening",
        info={
            "written_by": "zoning",
            "tool_version": provenance.get("tool_version"),
            "created": provenance.get("created"),
            "note": "the files a zoning screening wrote here; only these are replaced or "
            "removed by a later run",
        },
    )
    return OutputFolder(out_dir, marker, planned, managed=_OUTPUTS, tag="zoning-screen")


def check_outputs(out_dir: str | Path, formats: Iterable[str], *, comparison: bool = False) -> None:
    """Check, writing nothing, that :meth:`ScreeningResult.to_file` may write ``formats`` into
    ``out_dir`` (to refuse a user's file before any work is done).

    Parameters
    ----------
    out_dir : path
        The output folder (it need not exist).
    formats : iterable of str or str
        Some of :data:`FORMATS`.
    comparison : bool
        Whether the result is a comparison (it also writes ``ranking.csv``).

    Raises
    ------
    ZoningError
        An unknown format, or a file in the way that no earlier screening wrote (one line).
    """
    output_folder(out_dir, _planned_names(_formats(formats), comparison=comparison)).check()


def _check_outputs(out: Path, planned: Sequence[str]) -> list[str]:
    """The earlier outputs ``to_file`` would remove (kept for old import paths; see
    :func:`check_outputs`)."""
    return output_folder(out, planned).check()


def _formats(formats: Iterable[str]) -> list[str]:
    """The formats asked for, validated (a comma-separated string is split)."""
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
    from ..documents import check_dependencies

    check_dependencies(formats)  # a missing documents extra, said before anything is written
    return formats


def write_outputs(
    result: ScreeningResult,
    out_dir: str | Path,
    formats: Iterable[str],
    lang: str,
    map_options: Mapping[str, Any] | None,
    *,
    csv_encoding: str = "utf-8-sig",
    out_crs: Any = None,
) -> dict[str, Path]:
    """Write ``result`` into ``out_dir``, all-or-nothing: what :meth:`ScreeningResult.to_file`
    does (see there for the files, the marker and the rules of replacement).

    Parameters
    ----------
    result : ScreeningResult
        What to write.
    out_dir : path
        The output folder (created, with its parents, if needed).
    formats : iterable of str or str
        Some of :data:`FORMATS` (a comma-separated string is split).
    lang : {"both", "zh", "en"}
        Language of the HTML report.
    map_options : mapping or None
        Options of the report's map, passed to :func:`zoning.report.write_report`.
    csv_encoding : str, keyword-only
        Encoding of the CSV files (:data:`zoning.tables.CSV_ENCODINGS`).
    out_crs : str, optional
        The CRS of ``screening.gpkg`` (:func:`zoning.tables.check_out_crs`; EPSG:4326).

    Returns
    -------
    dict
        What was written, by format (as :meth:`ScreeningResult.to_file` returns it).

    Raises
    ------
    ZoningError
        An unknown or no format, or a file in the way that no earlier screening wrote;
        raised before anything is written.
    OSError
        Writing or moving failed; the folder is as it was.
    """
    formats = _formats(formats)
    from ..tables import check_csv_encoding, check_out_crs

    check_csv_encoding(csv_encoding)
    out_crs = check_out_crs(out_crs)  # refused before anything is written
    out = Path(out_dir)
    rows = getattr(result, "input_rows", None)
    planned = _planned_names(
        formats,
        comparison=result.ranking is not None,
        rejected=rows is not None and rows.rejected is not None,
    )
    with output_folder(out, planned, result.provenance) as tmp:  # refuses before writing
        names = _write_all(
            result, tmp, formats, lang, dict(map_options or {}), csv_encoding, out_crs
        )
    written: dict[str, Path] = {}
    for fmt, files in names.items():
        written[fmt] = out / files[0]
        if fmt == "csv":
            written["hits"] = out / "hits.csv"
        if fmt in ("pdf", "docx") and len(files) > 1:  # the folder of one document per site
            written[f"{fmt}_sites"] = out / files[1]
    if "html" in written:
        written["html"] = out / "report" / "index.html"
    log.info("wrote %s into %s", ", ".join(written), out)
    return written


def _write_all(
    result: ScreeningResult,
    tmp: Path,
    formats: list[str],
    lang: str,
    map_options: dict[str, Any],
    csv_encoding: str = "utf-8-sig",
    out_crs: str = "EPSG:4326",
) -> dict[str, list[str]]:
    """Write every format into ``tmp``; return the top-level names written, by format."""
    from .. import tables

    names: dict[str, list[str]] = {}
    if "csv" in formats:
        names.update(tables.write_csv(result, tmp, encoding=csv_encoding))
    if "parquet" in formats:
        names.update(tables.write_parquet(result, tmp))
    if "gpkg" in formats:
        tables.write_gpkg(result, tmp / "screening.gpkg", out_crs)
        names["gpkg"] = ["screening.gpkg"]
    if "json" in formats:
        tables.write_json(result, tmp / "screening.json")
        names["json"] = ["screening.json"]
    if "html" in formats:
        from ..report import write_report

        write_report(result, tmp, lang=lang, **map_options)
        names["html"] = ["report"]
    for fmt in ("pdf", "docx", "xlsx"):
        if fmt in formats:
            from ..documents import write_document

            names[fmt] = write_document(result, tmp, fmt, lang)
    return names
