"""Old import path of :mod:`zoning.targets.model` (policy targets, ``seeds/targets.yml``).

Re-exported for old import paths: every public name of :mod:`zoning.targets.model`
(``DEFAULT_TARGETS_PATH``, ``Document``, ``Target``, ``TargetSet``, ``format_value``,
``load_targets``).  New code imports from :mod:`zoning.targets`.
"""

from __future__ import annotations

from .targets.model import *  # noqa: F403
from .targets.model import __all__  # noqa: F401
