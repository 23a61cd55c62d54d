"""The application factory uvicorn imports in each worker process (``zoning serve --workers N``).

The command line passes its options in environment variables (a worker process starts from an
import string); each worker reads and indexes the layers itself.
"""

from __future__ import annotations

import os
import sys

#: Environment variables the command line sets for its workers.
CATALOG_ENV, RULES_ENV, TOKEN_ENV = (
    "ZONING_SERVE_CATALOG",
    "ZONING_SERVE_RULES",
    "ZONING_SERVICE_TOKEN",
)


def app_from_environment():
    """Load the layers and rules the environment names and build the application.

    Returns
    -------
    fastapi.FastAPI
    """
    from ..io.cachedir import resolve_index_cache
    from . import create_app
    from .state import ServiceState

    state = ServiceState.load(
        os.environ.get(CATALOG_ENV) or None,
        os.environ.get(RULES_ENV) or None,
        index_cache=resolve_index_cache(),  # zoning serve passes --index-cache on in the env
    )
    print(
        f"zoning serve: worker {os.getpid()}: layers loaded and indexed in "
        f"{state.load_seconds:.1f} s",
        file=sys.stderr,
        flush=True,
    )
    return create_app(state)
