"""Shared pieces of the command line: error handling, catalog options, logging."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from typing import Any

import click

from ..errors import ZoningError

#: Exit codes used by every command.
EXIT_OK, EXIT_CHECK_FAILED, EXIT_INPUT_ERROR = 0, 1, 2


def fail(message: str) -> None:
    """Print a one-line error to stderr and exit with code 2."""
    click.echo(f"zoning: error: {' '.join(str(message).split())}", err=True)
    sys.exit(EXIT_INPUT_ERROR)


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn every ZoningError (and OS errors on user paths) into one line and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ZoningError as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))
        except click.exceptions.ClickException:
            raise
        except Exception as exc:
            # A bug must not look like a failed check (exit 1) nor spill a traceback on users.
            logging.getLogger("zoning").debug("internal error", exc_info=True)
            fail(
                f"internal error: {type(exc).__name__}: {exc} (please report it; -vv shows details)"
            )

    return wrapper


def configure_logging(verbose: int, quiet: int) -> None:
    level = logging.WARNING - 10 * verbose + 10 * quiet
    logging.basicConfig(
        level=max(level, logging.DEBUG), format="%(levelname)s %(name)s: %(message)s"
    )


def catalog_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--catalog PATH`` and repeatable ``--layer KIND=PATH``."""
    func = click.option(
        "--layer",
        "layer_specs",
        multiple=True,
        metavar="KIND=PATH",
        help="Add a layer file ad hoc (repeatable); it replaces the catalog's layers of that kind.",
    )(func)
    func = click.option(
        "--catalog",
        "catalog_path",
        type=click.Path(dir_okay=False),
        default=None,
        help="Layer catalog (YAML). Default: the bundled Shanghai demonstration catalog.",
    )(func)
    return func


def _width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def format_table(headers: list[str], rows: list[list[object]]) -> str:
    """Align rows under headers (CJK characters count double), for terminal output."""
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([_width(h)] + [_width(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(values: list[str]) -> str:
        return "  ".join(
            v + " " * (w - _width(v)) for v, w in zip(values, widths, strict=True)
        ).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def load_layers(catalog_path: str | None, layer_specs: tuple[str, ...]):
    """Load the catalog named by ``--catalog`` plus ``--layer`` files."""
    from ..layerset import load_catalog

    return load_catalog(catalog_path, layers=list(layer_specs))


DEMO_BANNER = (
    "DEMONSTRATION DATA — not the official ecological protection red line or control units "
    "(演示数据，非官方生态保护红线)"
)
