"""The error contract of the command line: one line on stderr, exit code 2, never a traceback.

:func:`handle_errors` wraps a command's body; :func:`fail` stops with a one-line message;
:class:`OneLineCommand` turns click's usage errors (a bad option value, an unknown option) into
the same one line, and :class:`OneLineGroup` does so for every command under it.  A failed
check (``--fail-on``) exits 1; ``zoning ... | head`` exits quietly with the shell's SIGPIPE
code; Ctrl-C exits 130 with the one line ``interrupted``.  Warnings raised while a command runs
are not printed as Python prints them (file, line, source): the toolkit's own
(:class:`~zoning.errors.ZoningWarning`) become one line ``zoning: warning: ...``, those of the
libraries go to the log (``-v`` shows them).
"""

from __future__ import annotations

import functools
import logging
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from ..errors import ZoningError, ZoningWarning
from ..io.postgis import redact_text

__all__ = [
    "EXIT_CHECK_FAILED",
    "EXIT_INPUT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "InputError",
    "Interrupted",
    "OneLineCommand",
    "OneLineGroup",
    "fail",
    "handle_errors",
]

#: Exit codes used by every command.
EXIT_OK, EXIT_CHECK_FAILED, EXIT_INPUT_ERROR = 0, 1, 2
#: Exit code after Ctrl-C (the shell's 128 + SIGINT).
EXIT_INTERRUPTED = 130
_log = logging.getLogger("zoning")


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Show a warning as one line (the toolkit's own) or log it (a library's)."""
    if issubclass(category, ZoningWarning):
        click.echo(f"zoning: warning: {_one_line(message)}", err=True)
    else:
        _log.info("%s: %s (%s:%s)", category.__name__, _one_line(message), filename, lineno)


@contextmanager
def one_line_warnings() -> Iterator[None]:
    """Within the block, warnings are shown by :func:`_show_warning` (never multi-line).

    Yields
    ------
    None
    """
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        yield


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
        one line and exit 2, a broken pipe exit 141 without a message, Ctrl-C exit 130 with
        the one line ``interrupted``, a too deeply nested input (RecursionError) or one too
        big for memory one line and exit 2, click's own exceptions pass through, and any
        other exception (a bug) one line naming it and exit 2 (``-vv`` logs the traceback).
        Warnings raised meanwhile are shown by :func:`one_line_warnings`.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with one_line_warnings():
                return func(*args, **kwargs)
        except (KeyboardInterrupt, click.Abort):
            raise Interrupted() from None
        except ZoningError as exc:
            fail(redact_text(str(exc)))
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
        except RecursionError:
            # Where the command knows the file, the reader names it (a ZoningError above).
            _log.debug("recursion error", exc_info=True)
            fail("input nested too deeply to read (RecursionError)")
        except MemoryError:
            fail("out of memory (is an input much larger than expected?)")
        except Exception as exc:
            # A bug must not look like a failed check (exit 1) nor spill a traceback on users.
            logging.getLogger("zoning").debug("internal error", exc_info=True)
            fail(
                f"internal error: {type(exc).__name__}: {redact_text(str(exc))} (please report "
                "it; -vv shows details)"
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


class Interrupted(click.ClickException):
    """Ctrl-C: the one line ``interrupted`` on stderr, exit code 130."""

    exit_code = EXIT_INTERRUPTED

    def __init__(self) -> None:
        super().__init__("interrupted")

    def show(self, file: Any = None) -> None:
        """Print ``interrupted`` on stderr (``file`` is ignored).

        Parameters
        ----------
        file : object, optional
            Accepted for :meth:`click.ClickException.show`'s signature; unused.
        """
        click.echo("interrupted", err=True)


@contextmanager
def _one_line_failures() -> Iterator[None]:
    """Usage errors become :class:`InputError`, Ctrl-C :class:`Interrupted` (no-arguments help
    passes through)."""
    try:
        yield
    except click.exceptions.NoArgsIsHelpError:
        raise
    except click.UsageError as exc:
        raise InputError(exc.format_message()) from None
    except (KeyboardInterrupt, click.Abort):
        raise Interrupted() from None


class _OneLineContext:
    """Mixin: making the context of a command or group fails in one line."""

    def make_context(self, info_name, args, parent=None, **extra):  # type: ignore[override]
        """As click's ``make_context``, a usage error raising :class:`InputError`.

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
            Instead of a :class:`click.UsageError` (exit code 2, one line); no arguments at
            all where the command shows its help still shows the help.
        Interrupted
            On Ctrl-C.
        """
        with _one_line_failures():
            return super().make_context(info_name, args, parent=parent, **extra)


class OneLineCommand(_OneLineContext, click.Command):
    """A command whose usage errors (bad option value, unknown option) are one line, exit 2."""


class OneLineGroup(_OneLineContext, click.Group):
    """A group whose commands, at any depth, fail in one line.

    A usage error (unknown command or option, bad option value) is one line and exit 2 for
    every command under the group, whatever its class; Ctrl-C anywhere (also where click
    itself would print ``Aborted!`` and exit 1, the code of ``--fail-on``) is the one line
    ``interrupted`` and exit 130; warnings are shown by :func:`one_line_warnings`.
    """

    def invoke(self, ctx: click.Context) -> Any:
        """As :meth:`click.Group.invoke`, in one line on failure.

        Parameters
        ----------
        ctx : click.Context
            The group's context.

        Returns
        -------
        object
            What the command returns.

        Raises
        ------
        InputError
            Instead of a :class:`click.UsageError` of a command under the group.
        Interrupted
            On Ctrl-C.
        """
        with _one_line_failures(), one_line_warnings():
            return super().invoke(ctx)
