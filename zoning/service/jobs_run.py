"""What a job does: check its options, read its sites, screen them, write the results.

:func:`job_options` checks a job's fields when it is posted (a bad CRS, format or date is a
422 problem before anything is queued); :func:`run_job` runs in a worker thread and does what
``zoning screen FILE --out DIR`` does: the same reader, the same screening (against the warm
layers), the same files.  A failed job's error is the one line the command line prints for the
same file (its name as the client sent it, never the server's path).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from ..errors import ZoningError, quote
from .jobs_store import CANCELLED, FAILED, RUNNING, SUCCEEDED, Cancelled, Job, JobStore
from .problems import Problem
from .uploads import DEFAULT_FORMATS, JobRequest, scrub

log = logging.getLogger("zoning.service")

_CHOICES = {
    "on_row_error": ("fail", "report"),
    "lang": ("both", "zh", "en"),
    "csv_encoding": ("utf-8-sig", "utf-8", "gbk"),
}


@dataclass(frozen=True)
class JobOptions:
    """A job's checked options.

    Attributes
    ----------
    as_of : datetime.date
    formats : list of str
    search_radius_m : float, optional
    lang, csv_encoding, on_row_error : str
    out_crs : str, optional
    crs : str, optional
    attributes : dict
    """

    as_of: date
    formats: list[str]
    search_radius_m: float | None
    lang: str
    csv_encoding: str
    on_row_error: str
    out_crs: str | None
    crs: str | None
    attributes: dict[str, Any]


def job_options(request: JobRequest) -> JobOptions:
    """Check a job's fields as ``zoning screen`` checks its options, before any work.

    Parameters
    ----------
    request : JobRequest

    Returns
    -------
    JobOptions

    Raises
    ------
    Problem
        422 with one line naming the field.
    """
    from ..crs import parse_crs
    from ..dates import as_of_date
    from ..documents import check_dependencies
    from ..screening import FORMATS
    from ..tables import check_out_crs

    text = request.fields.get("formats")
    text = DEFAULT_FORMATS if text is None or not str(text).strip() else str(text)
    formats = list(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        what = f"unknown format(s) {', '.join(bad)}" if bad else "no format given"
        raise Problem(
            422, f"formats {quote(text)}: {what} (choose from {', '.join(FORMATS)})", kind="input"
        )
    chosen = {}
    for name, allowed in _CHOICES.items():
        value = request.text(name) or allowed[0]
        if value not in allowed:
            raise Problem(
                422,
                f"{name}: {quote(value)} is not one of {', '.join(allowed)}",
                kind="input",
            )
        chosen[name] = value
    crs, out_crs = request.text("crs"), request.text("out_crs")
    try:
        check_dependencies(formats)
        if "html" in formats:
            from .._optional import require

            require("folium")
        as_of = as_of_date(request.text("as_of"), what="as_of")
        if crs is not None:
            parse_crs(crs, what="crs")
        if out_crs is not None:
            out_crs = check_out_crs(out_crs, what="out_crs")
    except ZoningError as exc:
        raise Problem(422, str(exc), kind="input") from None
    return JobOptions(
        as_of=as_of,
        formats=formats,
        search_radius_m=request.search_radius(),
        out_crs=out_crs,
        crs=crs,
        attributes=request.attributes(),
        **chosen,
    )


def _read_sites(request: JobRequest, options: JobOptions) -> Any:
    """The sites of the upload, read as ``zoning screen FILE`` reads them."""
    from ..sites import load_sites

    return load_sites(
        str(request.path),
        crs=options.crs,
        layer=request.text("layer_name"),
        id_field=request.text("id_field"),
        name_field=request.text("name_field"),
        attributes=options.attributes or None,
        encoding=request.text("encoding"),
        dxf_layer=request.text("dxf_layer"),
        sheet=request.text("sheet"),
        on_row_error=options.on_row_error,
    )


def _scrubbed(value: Any, request: JobRequest) -> Any:
    """``value`` (nested dicts, lists and strings) with the server's upload paths replaced."""
    if isinstance(value, str):
        return scrub(value, request)
    if isinstance(value, dict):
        return {k: _scrubbed(v, request) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v, request) for v in value]
    return value


def _record(result: Any, sites: Any, request: JobRequest, options: JobOptions) -> None:
    """Record the options as ``zoning screen`` does, and name the file as the client did."""
    result.provenance["options"].update(
        {
            "attributes": options.attributes,
            "id_field": request.text("id_field"),
            "name_field": request.text("name_field"),
            "layer": request.text("layer_name"),
            "encoding": request.text("encoding"),
            "dxf_layer": request.text("dxf_layer"),
            "crs": options.crs,
            "sheet": request.text("sheet"),
            "on_row_error": options.on_row_error,
            "csv_encoding": options.csv_encoding,
        }
    )
    result.provenance = _scrubbed(result.provenance, request)
    result.notes[:] = _scrubbed(list(result.notes), request)
    sites.notes[:] = _scrubbed(list(sites.notes), request)
    rows = getattr(sites, "input_rows", None)
    rejected = getattr(rows, "rejected", None)
    if rejected is not None and len(rejected) and "message" in rejected:
        rejected["message"] = [scrub(str(m), request) for m in rejected["message"]]


def _notes(result: Any, most: int = 20) -> list[str]:
    """The notes ``zoning screen`` prints (and what a large clause table leaves out)."""
    from ..errors import clip
    from ..tables import clauses_note

    notes = [" ".join(str(n).split()) for n in (result.notes or []) if str(n).strip()]
    note = clauses_note(result)
    notes += [note] if note else []
    shown = [clip(n, 300) for n in notes[:most]]
    if len(notes) > most:
        shown.append(f"... and {len(notes) - most:,} more (screening.json)")
    return shown


def result_files(out: Path) -> dict[str, Path]:
    """Every file written into ``out``, by its name relative to it (``report/index.html``).

    Parameters
    ----------
    out : Path

    Returns
    -------
    dict
        Sorted by name.
    """
    return {p.relative_to(out).as_posix(): p for p in sorted(out.rglob("*")) if p.is_file()}


#: Files whose features GDAL can count without reading them (sites need one feature each).
_COUNTABLE = (".geojson", ".json", ".gpkg", ".kml")


def _count_features(request: JobRequest) -> int | None:
    """The features of a vector upload, counted before it is read (None: not known)."""
    if request.path is None or request.path.suffix not in _COUNTABLE:
        return None
    import pyogrio

    from ..io.guard import within_budget

    try:
        info = within_budget(
            lambda: pyogrio.read_info(str(request.path), layer=request.text("layer_name")),
            request.client_name,
        )
        count = int(info.get("features", -1))
    except Exception:  # the reader says what is wrong, in its own words
        return None
    return count if count >= 0 else None


def _check_count(store: JobStore, job: Job, count: int | None) -> None:
    """Fail the job above ``max_job_sites`` sites (counted before reading, then as read)."""
    if count is None:
        return
    store.update(job, sites=count)
    if count > store.limits.max_job_sites:
        raise ZoningError(
            f"{job.request.client_name}: {count:,} sites; a job may hold at most "
            f"{store.limits.max_job_sites:,} (split the file into several jobs)"
        )


def run_job(store: JobStore, job: Job) -> None:
    """Run a job to its end: read, screen, write; the job ends succeeded, failed or cancelled.

    Parameters
    ----------
    store : JobStore
    job : Job

    Returns
    -------
    None
    """

    def check_cancel() -> None:
        if store.cancelled(job):
            raise Cancelled()

    request = job.request
    try:
        check_cancel()
        store.update(job, status=RUNNING, stage="reading the sites", started=time.time())
        options = job.options
        _check_count(store, job, _count_features(request))
        sites = _read_sites(request, options)
        _check_count(store, job, len(sites))
        check_cancel()

        def progress(stage: str, step: int, total: int) -> None:
            check_cancel()
            store.update(job, stage=stage, progress=round(0.05 + 0.8 * step / max(total, 1), 4))

        store.update(job, stage="screening", progress=0.05)
        result = store.state.screen(
            sites,
            as_of=options.as_of,
            search_radius_m=options.search_radius_m,
            progress=progress,
        )
        _record(result, sites, request, options)
        store.update(job, notes=_notes(result))
        check_cancel()
        store.update(job, stage="writing the results", progress=0.9)
        result.to_file(
            job.out,
            options.formats,
            lang=options.lang,
            csv_encoding=options.csv_encoding,
            out_crs=options.out_crs,
        )
        check_cancel()
        job.results = result_files(job.out)
        store.end(job, SUCCEEDED, stage="done")
    except Cancelled:
        store.end(job, CANCELLED, stage="cancelled")
    except ZoningError as exc:
        if store.cancelled(job):
            store.end(job, CANCELLED, stage="cancelled")
            return
        store.end(job, FAILED, stage=job.stage, error=_one_line(str(exc), job))
    except OSError as exc:
        text = f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc)
        store.end(job, FAILED, stage=job.stage, error=_one_line(text, job))
    except RecursionError:
        store.end(
            job, FAILED, stage=job.stage, error="input nested too deeply to read (RecursionError)"
        )
    except MemoryError:
        store.end(
            job,
            FAILED,
            stage=job.stage,
            error="out of memory (is an input much larger than expected?)",
        )
    except Exception as exc:
        log.exception("job %s: internal error", job.id[:6])
        store.end(
            job,
            FAILED,
            stage=job.stage,
            error=f"internal error: {type(exc).__name__} (logged on the server)",
        )
    except BaseException:
        log.exception("job %s: stopped", job.id[:6])
        store.end(job, FAILED, stage=job.stage, error="internal error (logged on the server)")
        raise


def _one_line(text: str, job: Job) -> str:
    """An error as one line, the server's paths replaced (the upload by the client's name)."""
    text = scrub(" ".join(str(text).split()), job.request)
    return text.replace(str(job.folder), "(job)")
