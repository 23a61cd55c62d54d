"""``zoning screen`` in chunks: bounded memory, and scale-out on dask.distributed.

:func:`wants_chunks` decides when a screening runs in chunks (``--workers``, ``--scheduler``
or ``--chunk-size`` given, or a CSV / Parquet input of more sites than a chunk);
:func:`screen_in_chunks` checks everything it can first (the sites input, the output folder
and its files, the formats, the scheduler), then runs :func:`zoning.batch.run_chunks` with a
progress display in sites per second and an ETA (:class:`SitesProgress`), and prints the
summary from the counts accumulated over the chunks.
"""

from __future__ import annotations

import signal
import sys
import time
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import click

from ..errors import quote
from .errors import EXIT_CHECK_FAILED, fail

__all__ = ["AUTO_CHUNK_SITES", "SitesProgress", "screen_in_chunks", "wants_chunks"]


class SitesProgress:
    """Sites screened so far, in sites per second and with an ETA, on stderr.

    A bar on a terminal (click's, with its ETA), one line per chunk otherwise.

    Parameters
    ----------
    total : int, optional
        Sites expected (None: unknown, no ETA).
    """

    def __init__(self, total: int | None) -> None:
        self.total = total
        self.stream = sys.stderr
        self.tty = self.stream.isatty()
        self.start = time.perf_counter()
        self.bar: Any = None
        if self.tty and total:
            self.bar = click.progressbar(
                length=total,
                label="screening",
                file=self.stream,
                show_pos=True,
                show_eta=True,
                item_show_func=lambda item: item,
            )
            self.bar.__enter__()

    def line(self, done: int) -> str:
        """``1,000,000 / 20,000,000 sites, 64,100 sites/s, ETA 4 min 57 s``.

        Parameters
        ----------
        done : int
            Sites screened and written so far.

        Returns
        -------
        str
        """
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        rate = done / elapsed
        text = f"{done:,}" + (f" / {self.total:,}" if self.total else "") + " sites"
        text += f", {rate:,.0f} sites/s"
        if self.total and rate > 0 and done < self.total:
            left = round((self.total - done) / rate)
            text += f", ETA {_duration(left)}"
        return text

    def __call__(self, done: int) -> None:
        if self.bar is not None:
            elapsed = max(time.perf_counter() - self.start, 1e-9)
            self.bar.update(
                min(done, self.bar.length) - self.bar.pos,
                current_item=f"{done / elapsed:,.0f} sites/s",
            )
            return
        click.echo(f"zoning: {self.line(done)}", err=True)

    def close(self) -> None:
        """Close the bar (nothing to do without one)."""
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _duration(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


#: A CSV or Parquet input of more sites than this is screened in chunks (when the output may
#: be Parquet) even without --chunk-size.
AUTO_CHUNK_SITES = 1_000_000


def wants_chunks(
    sites: str | None,
    *,
    workers: int | None,
    scheduler: str | None,
    chunk_size: int | None,
    formats: str | None = None,
) -> bool:
    """Whether ``zoning screen`` runs in chunks.

    Parameters
    ----------
    sites : str, optional
        The SITES argument.
    workers, scheduler, chunk_size
        The options (None: not given).
    formats : str, optional
        ``--format`` when given.

    Returns
    -------
    bool
        True when any of the options is given, or the input is a CSV or Parquet file of more
        than :data:`AUTO_CHUNK_SITES` sites (counted without reading it whole) and no other
        format than Parquet is asked for.
    """
    if workers is not None or scheduler is not None or chunk_size is not None:
        return True
    if not sites:
        return False
    if formats is not None and {f.strip().lower() for f in formats.split(",")} != {"parquet"}:
        return False
    from ..sites.chunks import count_sites

    try:
        n = count_sites(sites)
    except Exception:
        return False
    return n is not None and n > AUTO_CHUNK_SITES


@contextmanager
def _terminate_as_interrupt():
    """SIGTERM ends the run as Ctrl-C does (the output transaction rolls back)."""

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        old = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _formats(text: str, given: bool) -> None:
    """A chunked run writes Parquet; anything else asked for is refused in one line."""
    formats = {f.strip().lower() for f in text.split(",") if f.strip()}
    if given and formats != {"parquet"}:
        fail(
            f"--format {quote(text)}: a run in chunks (--workers, --scheduler, --chunk-size) "
            "writes Parquet only: give --format parquet"
        )


def screen_in_chunks(
    sites: str | None,
    options: dict[str, Any],
    *,
    workers: int | None,
    scheduler: str | None,
    chunk_size: int | None,
    fail_on: str | None,
    format_given: bool,
) -> None:
    """Run ``zoning screen`` in chunks and print its summary.

    Parameters
    ----------
    sites : str, optional
        The SITES argument.
    options : dict
        The screening options (as :func:`zoning.cli.run.run_screening` takes them).
    workers, scheduler, chunk_size : optional
        ``--workers``, ``--scheduler``, ``--chunk-size``.
    fail_on : str, optional
        ``--fail-on``.
    format_given : bool
        Whether ``--format`` was given (else Parquet is chosen, and said).

    Raises
    ------
    SystemExit
        Exit 2 with one line on an input error (nothing written); 1 for ``--fail-on``.
    """
    from ..batch import ChunkJob, DaskExecutor, InProcess, run_chunks
    from ..dates import as_of_date
    from ..io.postgis import is_database_url
    from ..sites.chunks import DEFAULT_CHUNK_SIZE, count_sites, iter_site_chunks
    from .run import ScreeningRequest, check_out_dir

    index_cache = options.pop("index_cache", None)
    request = ScreeningRequest.from_options(sites=sites, **options)
    s, engine, out = request.sites, request.engine, request.output
    if not s.sites:
        fail("--workers, --scheduler and --chunk-size need a sites file (SITES)")
    if is_database_url(out.out_dir):
        fail("--out postgresql://: a run in chunks writes Parquet files into a folder")
    _formats(out.formats, format_given)
    if scheduler is not None and workers is not None:
        fail("give --workers N (local processes) or --scheduler URL (a cluster), not both")
    if scheduler is not None and "://" not in scheduler:
        fail(f"--scheduler {quote(scheduler)}: give the scheduler's address, tcp://HOST:PORT")
    if out.out_dir is not None:
        from ..batch.run import PARQUET_OUTPUTS
        from ..screening.outputs import output_folder

        check_out_dir(out.out_dir)
        output_folder(out.out_dir, [*PARQUET_OUTPUTS, "rejected.csv"]).check()
    if s.crs is not None:
        from ..crs import parse_crs

        parse_crs(s.crs, what="--crs")
    size = chunk_size or DEFAULT_CHUNK_SIZE
    total = count_sites(s.sites)
    day = as_of_date(engine.as_of, what="--as-of")
    job = ChunkJob(
        catalog_path=engine.catalog_path,
        layer_specs=tuple(engine.layer_specs),
        rules_path=engine.rules_path,
        as_of=day.isoformat(),
        index_cache=index_cache,
        search_radius=engine.search_radius,
        pieces=not engine.no_pieces,
        rings=not engine.no_rings,
        on_layer_error="unknown" if engine.on_layer_error == "unknown" else "raise",
        total_sites=total,
    )
    if not format_given and out.out_dir is not None:
        click.echo(
            "Writing Parquet (sites.parquet, hits.parquet, clauses.parquet, codes.parquet): "
            f"the sites are screened in chunks of {size:,}.",
            err=True,
        )
    executor = (
        DaskExecutor(workers=workers, scheduler=scheduler)
        if workers is not None or scheduler is not None
        else InProcess()
    )
    if total is not None and out.out_dir is not None:
        from ..tables import clauses_note

        note = clauses_note(SimpleNamespace(sites=range(total)))
        if note:
            click.echo(f"note: {note.replace('clauses.csv', 'clauses.parquet')}", err=True)
    show = engine.progress if engine.progress is not None else sys.stderr.isatty()
    bar = SitesProgress(total) if show else None
    chunks = iter_site_chunks(
        s.sites,
        chunk_size=size,
        crs=s.crs,
        id_field=s.id_field,
        name_field=s.name_field,
        attributes=request.attributes.given() or None,
        encoding=s.encoding,
        layer=s.layer_name,
        sheet=s.sheet,
        dxf_layer=s.dxf_layer,
        on_row_error=s.on_row_error,
    )
    try:
        with _terminate_as_interrupt():
            run = run_chunks(
                chunks, job, out.out_dir, executor=executor, chunk_size=size, progress=bar
            )
    finally:
        if bar is not None:
            bar.close()
        executor.close()
    _summary(run, size, out.out_dir, request.output.lang)
    _exit_for(run, fail_on)


def _summary(run: Any, size: int, out_dir: str | None, lang: str) -> None:
    """The console summary from the run's counts."""
    from ..labels import VERDICT_LABELS
    from ..report.context import is_demonstration, rule_set_info
    from ..rules import SEVERITY
    from ..screening.provenance import in_force_line

    shim = SimpleNamespace(provenance=run.provenance, rule_set=None, layer_summary=None)
    if is_demonstration(shim):
        click.echo(
            "WARNING: DEMONSTRATION DATA — not the official ecological protection red line "
            "or control units (演示数据，非官方生态保护红线与管控单元)."
        )
    rs = rule_set_info(shim)
    rs_text = " ".join(x for x in (rs["id"], rs["version"]) if x) or "rules"
    rate = run.n_sites / run.seconds if run.seconds else 0.0
    where = f"{run.workers} worker process{'es' if run.workers != 1 else ''}"
    click.echo(
        f"Screened {run.n_sites:,} site{'s' if run.n_sites != 1 else ''} · rule set {rs_text} "
        f"· {run.n_chunks:,} chunk{'s' if run.n_chunks != 1 else ''} of up to {size:,} on "
        f"{where}, {run.seconds:,.1f} s ({rate:,.0f} sites/s)"
    )

    def label(v: str) -> str:
        zh, en = VERDICT_LABELS[v]
        return {"zh": zh, "en": en}.get(lang, f"{zh} {en}")

    width = max(len(label(v)) for v in SEVERITY)
    for v in sorted(SEVERITY, key=SEVERITY.get):
        click.echo(f"  {label(v):<{width}}  {run.verdicts.get(v, 0):>{len(f'{run.n_sites:,}')},}")
    for note in run.notes[:10]:
        click.echo(f"  - {note}")
    line = in_force_line(run.provenance)
    if line:
        click.echo(line)
    if out_dir is None:
        click.echo("No files written (give --out DIR to write the Parquet tables).")
    else:
        rows = ", ".join(f"{name} {n:,} rows" for name, n in run.rows.items())
        click.echo(f"Wrote into {out_dir}: {', '.join(run.written)} ({rows})")
    if run.rejected is not None and len(run.rejected):
        n = len(run.rejected)
        shown = ", ".join(str(r) for r in run.rejected["row"].iloc[:10])
        click.echo(f"{n:,} input row(s) with errors set aside, not screened: {shown}")


def _exit_for(run: Any, fail_on: str | None) -> None:
    """Exit 1 for ``--fail-on`` (from the counts) or rows set aside."""
    from ..rules import SEVERITY

    if fail_on is not None:
        level = SEVERITY[fail_on]
        n = sum(c for v, c in run.verdicts.items() if SEVERITY[v] >= level)
        if n:
            click.echo(
                f"zoning: --fail-on {fail_on}: {n:,} site{'s' if n != 1 else ''} {fail_on} "
                "or worse",
                err=True,
            )
            sys.exit(EXIT_CHECK_FAILED)
    if run.rejected is not None and len(run.rejected):
        n = len(run.rejected)
        click.echo(
            f"zoning: {n:,} input row{'s' if n != 1 else ''} set aside with errors "
            "(--on-row-error report)",
            err=True,
        )
        sys.exit(EXIT_CHECK_FAILED)
