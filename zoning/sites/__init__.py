"""Sites in: read the project sites to screen, with their project attributes."""

from __future__ import annotations

from .load import *  # noqa: F403
from .load import __all__  # noqa: F401
