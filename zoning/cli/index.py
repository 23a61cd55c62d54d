"""``zoning index``: prebuild, list and clear the index cache (prepared layers and indexes)."""

from __future__ import annotations

import time
from typing import Any

import click

from .errors import OneLineCommand, OneLineGroup, fail, handle_errors
from .options import index_cache_option


def _cache(index_cache: str | None) -> Any:
    """The cache the option names (an error when it is off)."""
    from ..io.cachedir import resolve_index_cache

    cache = resolve_index_cache(index_cache)
    if cache is None:
        fail("the index cache is off (--index-cache off or ZONING_INDEX_CACHE=off)")
    return cache


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def _days(ls: Any, every_vintage: bool) -> list[Any]:
    """The days whose layer sets cover what to build: the day given, or one per vintage."""
    if not every_vintage:
        return [ls.as_of]
    days = {ls.as_of}
    for e in ls.all_catalog.layers:
        days.add(e.valid_from or e.valid_to or ls.as_of)
    return sorted(days)


@click.group("index", cls=OneLineGroup)
def index() -> None:
    """Prepared layers and indexes kept between runs (the index cache).

    Entries are keyed by the layer file's content hash, the catalog entry and the toolkit
    version; a changed file or entry is read and indexed again.
    """


@index.command("build", cls=OneLineCommand)
@click.option(
    "--catalog",
    "catalog_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Layer catalog (YAML). Default: the bundled Shanghai demonstration catalog.",
)
@index_cache_option
@click.option("--as-of", metavar="YYYY-MM-DD", default=None, help="The day whose layers to build.")
@click.option(
    "--every-vintage",
    is_flag=True,
    help="Build every layer of the catalog, whatever its days (not with --as-of).",
)
@handle_errors
def build_cmd(
    catalog_path: str | None, index_cache: str | None, as_of: str | None, every_vintage: bool
) -> None:
    """Read and index every layer into the cache; prints each layer's time and size."""
    from ..dates import as_of_date
    from ..layerset import load_catalog
    from ..overlay.persist import prepare_index

    if as_of and every_vintage:
        fail("--as-of and --every-vintage exclude each other")
    cache = _cache(index_cache)
    ls = load_catalog(
        catalog_path, as_of=as_of_date(as_of, what="--as-of") if as_of else None, index_cache=cache
    )
    done: set[str] = set()
    total_t, total_b = 0.0, 0
    click.echo(f"index cache: {cache.path}")
    for day in _days(ls, every_vintage):
        view = ls.at(day)
        for entry in view.catalog.layers:
            if entry.id in done:
                continue
            done.add(entry.id)
            clock = time.perf_counter()
            layer = view[entry.id]
            prepare_index(layer.index)
            took = time.perf_counter() - clock
            size = _entry_bytes(cache, layer.store)
            total_t += took
            total_b += size
            where = "cached" if layer.store is not None else "not cacheable (not a local file)"
            click.echo(f"{entry.id:32s} {took:7.2f} s {_size(size):>10s}  {where}")
    click.echo(f"{'total':32s} {total_t:7.2f} s {_size(total_b):>10s}  ({len(done)} layers)")
    for note in cache.notes:
        click.echo(f"note: {note}", err=True)


def _entry_bytes(cache: Any, store: Any) -> int:
    if store is None:
        return 0
    prefix = cache.entry_dir(store.key, "").name
    return sum(e["bytes"] for e in cache.entries() if e["name"].startswith(prefix))


@index.command("info", cls=OneLineCommand)
@index_cache_option
@handle_errors
def info_cmd(index_cache: str | None) -> None:
    """List the cache folder's entries and their sizes."""
    cache = _cache(index_cache)
    entries = cache.entries()
    click.echo(f"index cache: {cache.path}")
    for e in entries:
        click.echo(f"{e['name']:52s} {_size(e['bytes']):>10s}")
    click.echo(f"{len(entries)} entries, {_size(sum(e['bytes'] for e in entries))}")


@index.command("clear", cls=OneLineCommand)
@index_cache_option
@handle_errors
def clear_cmd(index_cache: str | None) -> None:
    """Remove every entry from the cache folder (other files are left alone)."""
    cache = _cache(index_cache)
    click.echo(f"removed {cache.clear()} entries from {cache.path}")
