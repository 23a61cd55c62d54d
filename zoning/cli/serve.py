"""``zoning serve``: the screening service (JSON API, OGC API - Processes, web page)."""

from __future__ import annotations

import logging
import os
import socket

import click

from .errors import OneLineCommand, fail, handle_errors
from .options import index_cache_option

log = logging.getLogger("zoning.service")


def _check_port(host: str, port: int) -> None:
    """Fail in one line when ``host:port`` cannot be bound (in use, or not this machine's)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            fail(f"--host {host} --port {port}: cannot listen there ({exc.strerror or exc})")


@click.command("serve", cls=OneLineCommand)
@click.option(
    "--catalog",
    "catalog_path",
    metavar="PATH",
    default=None,
    help="Layer catalog (default: the bundled demonstration catalog).",
)
@click.option(
    "--rules",
    "rules_path",
    metavar="PATH",
    default=None,
    help="Rule set (default: the bundled demonstration rule set).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; 0.0.0.0 exposes the service to the network.",
)
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="TCP port to listen on.",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes; each reads and indexes the layers once.",
)
@click.option(
    "--token",
    default=None,
    metavar="TOKEN",
    help="Bearer token guarding the job endpoints (default: the "
    "ZONING_SERVICE_TOKEN environment variable; none: unguarded).",
)
@index_cache_option
@handle_errors
def serve(catalog_path, rules_path, host, port, workers, token, index_cache) -> None:
    """Serve screening over HTTP: a JSON API (OpenAPI at /docs), OGC API - Processes and a
    web page at /.

    The layers are read and indexed once at start (the log says how long that took); every
    request then screens against them. Binds to 127.0.0.1 unless told otherwise. The bundled
    layers and rules are DEMONSTRATION data, not the official red line or access list.
    Stop it with Ctrl-C or SIGTERM (it finishes the requests under way).

    Exit code 2, in one line and before listening: a bad catalog, rule set or layer file, a
    port in use, or a missing extra (pip install 'zoning[service]').
    """
    from .._optional import require

    for module in ("fastapi", "fastapi_offline", "uvicorn", "multipart"):
        require(module)
    import uvicorn

    from ..io.cachedir import CACHE_ENV, resolve_index_cache
    from ..service import ServiceState, create_app

    cache = resolve_index_cache(index_cache, background=True)
    _check_port(host, port)
    if token is not None:
        os.environ["ZONING_SERVICE_TOKEN"] = token
    click.echo("zoning serve: reading and indexing the layers ...", err=True)
    # Also with workers: a bad catalog, rule set or layer fails here, in one line, exit 2.
    state = ServiceState.load(catalog_path, rules_path, warm=workers == 1, index_cache=cache)
    _check_port(host, port)  # taken meanwhile?
    what = f"{len(state.layers)} layers, rule set {state.rules.id} {state.rules.version}"
    demo = " (DEMONSTRATION DATA, not the official red line or access list)"
    if workers > 1:
        from ..service.asgi import CATALOG_ENV, RULES_ENV

        click.echo(
            f"zoning serve: layers read in {state.load_seconds:.1f} s ({what}); starting "
            f"{workers} workers, each reads and indexes them again",
            err=True,
        )
        del state
        os.environ[CATALOG_ENV] = catalog_path or ""
        os.environ[RULES_ENV] = rules_path or ""
        os.environ[CACHE_ENV] = "off" if cache is None else str(cache.path)
        from ..service.jobs_store import shared_jobs_dir

        with shared_jobs_dir():  # every worker answers for every job
            uvicorn.run(
                "zoning.service.asgi:app_from_environment",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                log_level="info",
            )
        return
    click.echo(
        f"zoning serve: layers loaded and indexed in {state.load_seconds:.1f} s ({what})"
        f"{demo if state.is_demonstration else ''}; listening on http://{host}:{port} "
        "(API docs at /docs)",
        err=True,
    )
    uvicorn.run(create_app(state, token=token), host=host, port=port, log_level="info")
