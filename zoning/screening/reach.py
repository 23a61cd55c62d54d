"""How far a screening searches: the distances of the ``within`` rules, per layer kind.

Shared by the search radius of :func:`~zoning.screening.screen`, the situations of
:mod:`zoning.screening.apply` and the site totals of :mod:`zoning.overlay.totals`: which
distances the rules test, how far the overlay must look (rule distance + positional tolerance +
conversion uncertainty), how far it did look per kind, and which distances lie within the
tolerance of a rule distance.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..overlay import OverlayResult
from ..rules import RuleSet


def _searched_by_kind(ov: OverlayResult, radius: float) -> dict[str, float]:
    """How far the overlay searched each layer kind: the search radius, or a layer's
    outermost declared buffer ring where that reaches farther (the smallest over the layers of
    one kind; radius 0: no search)."""
    out: dict[str, float] = {}
    for p in ov.passes:
        ix = p.layer.index
        reach = radius
        if radius > 0 and ix is not None and ix.rings_declared:
            reach = max(radius, ix.rings_m[-1])
        out[p.layer.kind] = min(out.get(p.layer.kind, np.inf), reach)
    return out


def _within_distances(rule_set: RuleSet) -> dict[str, tuple[float, ...]]:
    """The distances of the ``within`` rules, per layer kind (ascending)."""
    out: dict[str, set[float]] = {}
    for rule in rule_set.rules:
        at = rule.applies_to
        if at is not None and at.relation == "within" and at.distance_m is not None:
            out.setdefault(at.kind, set()).add(float(at.distance_m))
    return {k: tuple(sorted(v)) for k, v in out.items()}


def _rule_reach(rule_set: RuleSet, entries: Iterable[Any], uncertainty_m: float) -> float:
    """How far the distance search must reach: every ``within`` rule's distance plus the
    positional tolerance of its layers plus the sites' largest conversion uncertainty, so a
    site just beyond a rule distance still sees the feature (and is flagged)."""
    within = _within_distances(rule_set)
    reach = 0.0
    for entry in entries:
        if entry.kind in within:
            tol = float(entry.positional_tolerance_m or 0.0)
            reach = max(reach, within[entry.kind][-1] + tol + uncertainty_m)
    return reach
