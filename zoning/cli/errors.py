"""The error contract of the command line: one line on stderr, exit code 2, never a traceback.

:func:`handle_errors` wraps a command's body; :func:`fail` stops with a one-line message;
:class:`OneLineCommand` turns click's usage errors (a bad option value, an unknown option) into
the same one line.  A failed check (``--fail-on``) exits 1; ``zoning ... | head`` exits
quietly with the shell's SIGPIPE code.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from typing import Any

import click

from ..errors import ZoningError

__all__ = [
    "EXIT_CHECK_FAILED",
    "EXIT_INPUT_ERROR",
    "EXIT_OK",
    "InputError",
    "OneLineCommand",
    "fail",
    "handle_errors",
]

#: Exit codes used by every command.
EXIT_OK, EXIT_CHECK_FAILED, EXIT_INPUT_ERROR = 0, 1, 2


def fail(message: str) -> None:
    """Print a one-line error to stderr and exit with code 2.

    Parameters
    ----------
    message : str
        The error; runs of white space (new lines too) become single spaces.

    Raises
    ------
    SystemExit
        Always, with :data:`EXIT_INPUT_ERROR`.
    """
    click.echo(f"zoning: error: {' '.join(str(message).split())}", err=True)
    sys.exit(EXIT_INPUT_ERROR)


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn every ZoningError (and OS errors on user paths) into one line and exit code 2.

    Parameters
    ----------
    func : callable
        A command's body.

    Returns
    -------
    callable
        ``func`` wrapped: a :class:`~zoning.errors.ZoningError` or an :class:`OSError` gives
        one line and exit 2, a broken pipe exit 141 without a message, click's own exceptions
        pass through, and any other exception (a bug) one line naming it and exit 2 (``-vv``
        logs the traceback).
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ZoningError as exc:
            fail(str(exc))
        except BrokenPipeError:
            # The reader went away (``zoning ... | head``): no message, the shell's SIGPIPE code.
            import os

            try:  # Python would complain again when it flushes stdout at exit
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            except (OSError, ValueError):
                pass
            sys.exit(141)
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


class InputError(click.ClickException):
    """A usage or input error shown as one line on stderr, exit code 2."""

    exit_code = EXIT_INPUT_ERROR

    def show(self, file: Any = None) -> None:
        """Print the one-line message on stderr (``file`` is ignored).

        Parameters
        ----------
        file : object, optional
            Accepted for :meth:`click.ClickException.show`'s signature; unused.

        Notes
        -----
        Runs of whitespace in the message, newlines included, become single spaces.
        """
        click.echo(f"zoning: error: {' '.join(self.format_message().split())}", err=True)


class OneLineCommand(click.Command):
    """A command whose usage errors (bad option value, unknown option) are one line, exit 2."""

    def make_context(self, info_name, args, parent=None, **extra):  # type: ignore[override]
        """As :meth:`click.Command.make_context`, a usage error raising :class:`InputError`.

        Parameters
        ----------
        info_name, args, parent, **extra
            As :meth:`click.Command.make_context`.

        Returns
        -------
        click.Context

        Raises
        ------
        InputError
            Instead of any :class:`click.UsageError` (exit code 2, one line).
        """
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as exc:
            raise InputError(exc.format_message()) from None
