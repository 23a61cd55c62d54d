"""The old import path of the shared command-line parts.

The shared parts now live in :mod:`zoning.cli.options` (the named options),
:mod:`zoning.cli.errors` (the one-line error contract) and :mod:`zoning.cli.run` (loading the
layers, running a screening) and :mod:`zoning.cli.render` (terminal tables); they are
re-exported here for old import paths.
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
from .render import format_table  # noqa: F401
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
