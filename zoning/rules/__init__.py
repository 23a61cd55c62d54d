"""Access-list rules as open, versioned data, and their evaluation into verdicts.

A rule set is a YAML file (``layers/rules/*.yml``; see ``layers/rules/README.md`` for the
schema).  It has city-wide rules keyed on layer kinds (``rules:``: the red line, drinking-water
source zones, ...) and access lists for environmental control units (``lists:``: ``city`` ->
``city/key`` -> ``city/key/industrial_park`` -> ``unit/<code>``), where a child list inherits its
parent's rules and may override them (the "亚单元+清单" of the city plan).

:func:`load_rules` reads and validates a rule set; :func:`evaluate` turns the overlay engine's
frames and the sites' project attributes into reasons; :func:`site_verdicts` and
:func:`hit_verdicts` combine them into verdicts.  Nothing here touches geometry.

Modules, from the bottom up:

- :mod:`~zoning.rules.verdicts`: verdict levels, severity, statuses, reasons -> verdicts;
- :mod:`~zoning.rules.crosscheck`: cross-checks, precomputed view and hash of a rule set;
- :mod:`~zoning.rules.model`: the rule-set schema (pydantic models);
- :mod:`~zoning.rules.load`: reading a rule-set file;
- :mod:`~zoning.rules.inputs`: what evaluation reads, and its state;
- :mod:`~zoning.rules.conditions`: per-site truth of ``when`` / ``unless``;
- :mod:`~zoning.rules.messages`: the texts of reasons;
- :mod:`~zoning.rules.reasons`: emitting a rule's reasons, assembling the reasons frame;
- :mod:`~zoning.rules.city`: city-wide rules; :mod:`~zoning.rules.access_lists`: control-unit
  access lists;
- :mod:`~zoning.rules.evaluation`: :func:`evaluate`, the sequence of steps.

Examples
--------
>>> from zoning.rules import load_rules
>>> rs = load_rules()
>>> rs.status
'demonstration'
>>> [r.id for r in rs.rules_for_list("city/key/industrial_park")]
['key.emissions', 'key.risk', 'park.in_park']
"""

from __future__ import annotations

# Re-exported for old import paths (``zoning.rules`` was one module), besides ``__all__``:
# OUTSIDE_TOLERANCE, FLAGS (both imported by zoning.screening), FEATURE_ATTRIBUTES, NATURES, Text,
# TIER_FEATURE, TIER_LIST, TIER_GENERAL, undecided_verdict.
from . import model
from .city import OUTSIDE_TOLERANCE  # noqa: F401
from .evaluation import evaluate
from .load import DEFAULT_RULES, load_rules
from .model import (  # noqa: F401
    DIMENSIONS,
    FEATURE_ATTRIBUTES,
    FLAGS,
    NATURES,
    AccessList,
    AppliesTo,
    Citation,
    Conditions,
    Document,
    Rule,
    RuleSet,
    Text,
)
from .verdicts import (  # noqa: F401
    REASON_COLUMNS,
    SEVERITY,
    STATUSES,
    TIER_FEATURE,
    TIER_GENERAL,
    TIER_LIST,
    VERDICTS,
    hit_verdicts,
    site_verdicts,
    undecided_verdict,
)

#: Names of ``model.__all__`` this package imports for old import paths only, not exports.
_MODEL_OLD_PATHS_ONLY = frozenset({"FEATURE_ATTRIBUTES", "FLAGS", "NATURES", "Text"})


__all__ = [
    "DEFAULT_RULES",
    "REASON_COLUMNS",
    "SEVERITY",
    "STATUSES",
    "VERDICTS",
    *(name for name in model.__all__ if name not in _MODEL_OLD_PATHS_ONLY),
    "evaluate",
    "hit_verdicts",
    "load_rules",
    "site_verdicts",
]
