"""The terminal table of the commands, and the old import path of the shared command-line parts.

The shared parts now live in :mod:`zoning.cli.options` (the named options),
:mod:`zoning.cli.errors` (the one-line error contract) and :mod:`zoning.cli.run` (loading the
layers, running a screening); they are re-exported here for old import paths.
"""

from __future__ import annotations

# re-exported for old import paths: every name below was defined in this module
from .errors import (  # noqa: F401
    EXIT_CHECK_FAILED,
    EXIT_INPUT_ERROR,
    EXIT_OK,
    InputError,
    OneLineCommand,
    fail,
    handle_errors,
)
from .options import (  # noqa: F401
    _FLAG_OPTIONS,
    _UNDECLARED,
    FAIL_ON_LEVELS,
    PROGRESS_MIN_SITES,
    catalog_options,
    configure_logging,
    screening_options,
)
from .run import (  # noqa: F401
    DEMO_BANNER,
    Progress,
    _cli_words,
    check_out_dir,
    exit_for,
    load_layers,
    parse_formats,
    report_written,
    run_screening,
)

__all__ = ["format_table"]


def _width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def format_table(headers: list[str], rows: list[list[object]]) -> str:
    """Align rows under headers (CJK characters count double), for terminal output.

    Parameters
    ----------
    headers : list of str
    rows : list of list
        Cells; None prints as nothing.

    Returns
    -------
    str
        The header, a rule and the rows, columns two spaces apart, no trailing spaces.
    """
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([_width(h)] + [_width(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(values: list[str]) -> str:
        return "  ".join(
            v + " " * (w - _width(v)) for v, w in zip(values, widths, strict=True)
        ).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)])
