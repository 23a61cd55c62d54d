"""Evaluation: hits and project attributes -> reasons, as a sequence of named steps.

:func:`evaluate` turns the overlay engine's ``hits`` and ``layer_summary`` frames and the sites'
project attributes into ``reasons``: one row per (site, rule, hit) that fires or cannot be
decided.  It never touches geometry and is vectorised: per rule, one boolean mask over the hits.
Nothing missing is a silent pass: a layer that is missing, failed or does not cover the site, a
feature whose ``where`` attribute is absent or not in the vocabulary, a project attribute a rule
needs but the site did not declare, and a control unit whose access list the rule set lacks all
give ``unknown`` reasons (``layer_missing``, ``outside_coverage``, ``needs_attribute``,
``no_access_list``).  :func:`~zoning.rules.verdicts.site_verdicts` takes each site's most severe
reason.

The steps share one :class:`~zoning.rules.inputs.EvaluationState`: read the inputs
(:func:`~zoning.rules.inputs.read_inputs`), resolve the control units' access lists
(:func:`~zoning.rules.access_lists.resolve_units`), apply the city-wide rules
(:func:`~zoning.rules.city.apply_city_rule`), the access lists
(:func:`~zoning.rules.access_lists.apply_access_lists`), the coverage gaps
(:func:`coverage_reasons`), and assemble (:func:`~zoning.rules.reasons.assemble_reasons`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..catalog import KINDS
from .access_lists import apply_access_lists, resolve_units
from .city import apply_city_rule
from .conditions import possible
from .inputs import EvaluationState, read_inputs
from .model import Rule, RuleSet
from .reasons import assemble_reasons

__all__ = ["coverage_reasons", "evaluate"]

#: Columns the overlay's hits and layer-summary frames must have.
_HITS_COLUMNS = ("site", "kind", "layer_id", "feature_id")
_SUMMARY_COLUMNS = ("site", "kind", "status")


def coverage_reasons(state: EvaluationState) -> None:
    """Emit one ``outside_coverage`` reason per (site, layer) a rule needs.

    Only where some rule of the layer's kind could apply to the project (always for the
    control-unit layer, whose access lists are not known before a unit is found).

    Parameters
    ----------
    state : EvaluationState
    """
    rs = state.rule_set
    by_kind: dict[str, list[Rule]] = {}
    for r in rs.rules:
        by_kind.setdefault(r.applies_to.kind, []).append(r)  # type: ignore[union-attr]
    for kind in rs.kinds:
        rows = state.summary_rows(kind)
        rows = rows[state.summary_status[rows] == "outside_coverage"]
        if not len(rows):
            continue
        rules = by_kind.get(kind, [])
        if kind == "control_unit":
            poss = np.ones(state.n_sites, dtype=bool)
            what_en, what_zh = "the access-list rules", "准入清单规则"
        else:
            poss = np.zeros(state.n_sites, dtype=bool)
            for r in rules:
                poss |= possible(state, r)
            ids = ", ".join(r.id for r in rules)
            what_en, what_zh = f"rules {ids}", f"规则 {ids}"
        rows = rows[poss[state.summary_site[rows]]]
        info = KINDS[kind]
        state.unknown(
            len(rows),
            "outside_coverage",
            site=state.summary_site[rows],
            layer_id=state.summary_layer[rows],
            kind=kind,
            message_zh=f"项目位于{info.title_zh}图层覆盖范围之外，无法检查{what_zh}",
            message_en=f"the site lies outside the coverage of the {kind} layer: "
            f"{what_en} cannot be checked",
        )


def evaluate(
    rule_set: RuleSet,
    sites: pd.DataFrame,
    hits: pd.DataFrame,
    layer_summary: pd.DataFrame,
    *,
    search_radius_m: float | Mapping[str, float] | None = None,
    tolerance_m: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Apply a rule set to screened sites: the reasons behind every verdict.

    Parameters
    ----------
    rule_set : RuleSet
    sites : DataFrame
        One row per site, in the order the overlay numbered them (``site`` 0..n-1): ``site_id``
        and the project attributes ``industry``, ``nature``, ``linear``, ``wastewater``,
        ``air``, ``hazardous``, ``two_high`` (None = not declared; a missing column counts as
        not declared).  Industry codes are GB/T 4754-2017 text (``'C2614'`` or ``'2614'``),
        natures one of :data:`NATURES`, flags booleans (as :func:`zoning.sites.load_sites`
        gives them).  Geometry is ignored.
    hits, layer_summary : DataFrame
        The overlay engine's frames.
    search_radius_m : float or mapping, optional, keyword-only
        The distance search the overlay ran: one distance, or one per layer kind (a layer with
        declared buffer rings is searched to its outermost ring).  When given and shorter than
        a ``within`` rule's distance, sites without a feature found within it get ``unknown``
        for that rule instead of a silent pass.
    tolerance_m : mapping, optional, keyword-only
        Positional tolerance (m) per layer id.  A ``within`` rule that fires on a feature whose
        distance lies within that tolerance (plus the site's ``uncertainty_m``, when the sites
        frame has that column) of the rule distance says so in its ``assumptions``: a small
        error in the layer or the coordinates could move the site out of the band.  (A site
        just beyond the distance has no reason row; :func:`zoning.screen` marks it
        boundary-sensitive.)

    Returns
    -------
    DataFrame
        Columns :data:`REASON_COLUMNS`; one row per (site, rule, hit) that fires (status
        ``applies``) or cannot be decided (``needs_attribute``, ``layer_missing``,
        ``outside_coverage``, ``no_access_list``), sorted by site, then most severe first,
        decided (``applies``) before undecided, most specific first (rules on a feature the
        site touches or lies near; access-list clauses from a unit's own list to the root list;
        rules on lying outside a layer and reasons without a rule), then rule-set order.  The
        first row of a site is its main reason.

    Raises
    ------
    ValueError
        A frame lacks a required column, or a project attribute cannot be read (an industry
        code given as a number, ``'新建'`` for a nature, ``'no'`` for a flag): one line naming
        the row, the site and the value.

    Notes
    -----
    Vectorised: each condition is evaluated once per site (industry codes and natures on their
    distinct values), each rule is one boolean mask over the hits of its kind, and each access
    list's effective rules are precomputed, so the cost is O(rules x hits) numpy work.  A rule
    with an undeclared attribute it needs gives ``needs_attribute`` (:func:`undecided_verdict`);
    an ``unless`` exception needs the attribute declared to be granted.  A needed layer that is
    missing or failed, or that does not cover the site, gives ``unknown`` only where the rule
    could apply to the project.
    """
    if not isinstance(rule_set, RuleSet):
        raise TypeError(f"rule_set must be a RuleSet, not {type(rule_set).__name__}")
    for name, frame, cols in (
        ("hits", hits, _HITS_COLUMNS),
        ("layer_summary", layer_summary, _SUMMARY_COLUMNS),
    ):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise ValueError(f"{name} lacks column(s) {', '.join(missing)}")
    state = read_inputs(rule_set, sites, hits, layer_summary, search_radius_m, tolerance_m)
    resolve_units(state)
    for rule in rule_set.rules:
        apply_city_rule(state, rule)
    apply_access_lists(state)
    coverage_reasons(state)
    return assemble_reasons(state)
