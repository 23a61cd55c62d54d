"""City-wide rules: rules keyed on layer kinds (``rules:`` of a rule set).

A city-wide rule applies to the features of one layer kind the site ``intersects``, to the
nearest feature ``within`` a distance, or to the site lying ``outside`` the layer (unless it
lies ``except_inside`` another kind).  Each rule is one boolean mask over the hits (or layer
summary rows) of its kind.  A layer that is missing or failed, a feature whose ``where``
attribute is absent or not in the vocabulary, and a distance search shorter than the rule
needs each give ``unknown`` (``layer_missing``) reasons where the rule could apply.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..catalog import KINDS
from ..errors import quote
from .conditions import possible
from .crosscheck import norm_value
from .inputs import EvaluationState, notna, object_column
from .messages import layer_missing_texts, threshold_note
from .model import Rule
from .reasons import emit_rule_reasons

__all__ = ["OUTSIDE_TOLERANCE", "apply_city_rule"]

#: ``share_of_site`` below ``1 - OUTSIDE_TOLERANCE`` means "not entirely inside".
OUTSIDE_TOLERANCE = 1e-9

#: Per ``where`` key: (key, feature value absent, value not recognised), per candidate hit.
_Problem = tuple[str, np.ndarray, np.ndarray]


def apply_city_rule(state: EvaluationState, rule: Rule) -> None:
    """Emit the reasons of one city-wide rule.

    Parameters
    ----------
    state : EvaluationState
    rule : Rule
        A rule with ``applies_to``.

    Notes
    -----
    Emits, in order: ``layer_missing`` for missing or failed layers of the kind; then for
    ``outside`` rules the sites not entirely inside the layer; else ``layer_missing`` for
    features the ``where`` cannot be decided on, ``layer_missing`` where the distance search
    was shorter than the rule's distance, and the reasons on the matching hits (for ``within``
    the nearest per site).
    """
    at = rule.applies_to
    assert at is not None
    kind = at.kind
    _layer_status(state, rule, kind, f"{KINDS[kind].title_en}")
    rows = state.hit_rows(kind)
    if at.relation == "outside":
        _outside_rule(state, rule)
        return
    if at.relation == "intersects":
        rows = rows[state.hits_relation[rows] == "intersects"]
    else:
        d = state.hits_distance_m[rows]
        rows = rows[np.isfinite(d) & (d <= at.distance_m)]
    if at.where:
        rows = _where_filter(state, rule, rows)
    if at.relation == "within" and len(rows):
        rows = _nearest_per_site(state, rows)
    note = _threshold_notes(state, rule, rows) if at.relation == "within" else None
    if at.relation == "within":
        _short_search(state, rule, rows)
    emit_rule_reasons(state, rule, state.hits_site[rows], hit=rows, note=note)


def _layer_status(state: EvaluationState, rule: Rule, kind: str, label: str) -> None:
    """Emit layer_missing reasons for ``rule`` where its layer is missing, failed or absent."""
    rows = state.summary_rows(kind)
    status = state.summary_status[rows]
    site = state.summary_site[rows]
    present = state.sites_with(site)
    poss = possible(state, rule)
    info = KINDS[kind]
    bad = np.isin(status, ("missing", "failed")) & poss[site]
    for st in ("missing", "failed"):
        sel = bad & (status == st)
        if sel.any():
            layer = state.summary_layer[rows][sel]
            message_zh, message_en = layer_missing_texts(kind, st, rule.id, label)
            state.unknown(
                int(sel.sum()),
                "layer_missing",
                site=site[sel],
                rule=rule,
                layer_id=layer,
                kind=kind,
                message_zh=message_zh,
                message_en=message_en,
            )
    absent = ~present & poss
    if absent.any():
        s = np.flatnonzero(absent)
        state.unknown(
            len(s),
            "layer_missing",
            site=s,
            rule=rule,
            layer_id=None,
            kind=kind,
            message_zh=f"没有{info.title_zh}图层，无法检查规则 {rule.id}",
            message_en=f"no {kind} layer was screened: rule {rule.id} cannot be checked",
        )


def _feature_codes(
    state: EvaluationState, kind: str, key: str, vals: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Normalised feature values and their vocabulary codes (None where not recognised).

    Without a vocabulary for (kind, key) every present value stands for itself.
    """
    uniq_codes, uniques = pd.factorize(pd.Series(vals, dtype=object))
    norm = np.array([norm_value(u) for u in uniques], dtype=object)
    vocab = state.rule_set._c.vocab.get((kind, key))
    if vocab is None:
        # No vocabulary: compare the stripped text exactly.
        mapped = np.array([" ".join(str(u).split()) for u in uniques], dtype=object)
    else:
        mapped = np.array([vocab.get(v) for v in norm], dtype=object)
    norm_rows = np.full(len(vals), "", dtype=object)
    code_rows = np.full(len(vals), None, dtype=object)
    has = uniq_codes >= 0
    norm_rows[has] = norm[uniq_codes[has]]
    code_rows[has] = mapped[uniq_codes[has]]
    return norm_rows, code_rows


def _where_filter(state: EvaluationState, rule: Rule, rows: np.ndarray) -> np.ndarray:
    """The candidate hits whose features match the rule's ``where``.

    Emits ``layer_missing`` for candidates whose feature lacks a tested value or has one the
    vocabulary does not know (where no other key already fails and the rule could apply).
    """
    at = rule.applies_to
    assert at is not None and at.where
    kind = at.kind
    match = np.ones(len(rows), dtype=bool)
    fails = np.zeros(len(rows), dtype=bool)
    problems: list[_Problem] = []
    for key, allowed in at.where.items():
        vals = object_column(state.hits, key, state.hits_n)[rows]
        codes, known_codes = _feature_codes(state, kind, key, vals)
        present = notna(vals) & (codes != "")
        recognised = present & notna(known_codes)
        ok = recognised & np.isin(known_codes.astype(str), list(allowed))
        fails |= recognised & ~ok
        match &= ok
        problems.append((key, ~present, present & ~recognised))
    undecided = np.zeros(len(rows), dtype=bool)
    for _, absent, unrecognised in problems:
        undecided |= absent | unrecognised
    gap = undecided & ~fails & possible(state, rule)[state.hits_site[rows]]
    if gap.any():
        g = rows[gap]
        msg_en, msg_zh = _where_messages(
            state,
            rule,
            kind,
            g,
            [(key, absent[gap], unrec[gap]) for key, absent, unrec in problems],
        )
        state.unknown_hits(
            g,
            "layer_missing",
            rule=rule,
            message_zh=msg_zh,
            message_en=msg_en,
        )
    return rows[match]


def _where_messages(
    state: EvaluationState,
    rule: Rule,
    kind: str,
    rows: np.ndarray,
    problems: list[_Problem],
) -> tuple[np.ndarray, np.ndarray]:
    """Per undecided hit: why the feature cannot be matched against the rule's ``where``."""
    rs = state.rule_set
    en = np.full(len(rows), None, dtype=object)
    zh = np.full(len(rows), None, dtype=object)
    for i, r in enumerate(rows):
        parts_en, parts_zh = [], []
        for key, absent, unrec in problems:
            if absent[i]:
                parts_en.append(f"has no {key} value")
                parts_zh.append(f"缺少属性 {key}")
            elif unrec[i]:
                value = state.hits[key].iloc[r]
                known = ", ".join(rs.feature_values[kind][key])
                parts_en.append(
                    f"has {key} {quote(value)}, which rule set {rs.id} does not recognise "
                    f"(known: {known}; add it to feature_values.{kind}.{key})"
                )
                parts_zh.append(f"属性 {key} 的值 {quote(value)} 无法识别")
        en[i] = f"the feature {' and '.join(parts_en)}: rule {rule.id} cannot be checked"
        zh[i] = f"要素{'，'.join(parts_zh)}，无法检查规则 {rule.id}"
    return en, zh


def _nearest_per_site(state: EvaluationState, rows: np.ndarray) -> np.ndarray:
    """The nearest qualifying feature per site (ties: hit order)."""
    order = np.lexsort((state.hits_distance_m[rows], state.hits_site[rows]))
    rows = rows[order]
    first = np.r_[True, state.hits_site[rows][1:] != state.hits_site[rows][:-1]]
    return rows[first]


def _searched(state: EvaluationState, kind: str) -> float | None:
    """How far the overlay searched the layers of ``kind`` (None: not given)."""
    r = state.search_radius_m
    if r is None or not isinstance(r, Mapping):
        return r
    return r.get(kind)


def _short_search(state: EvaluationState, rule: Rule, rows: np.ndarray) -> None:
    """Emit ``layer_missing`` where the distance search was shorter than a ``within`` rule
    needs and found nothing (``rows``: the fired hits), where the rule could apply."""
    at = rule.applies_to
    assert at is not None and at.distance_m is not None
    kind = at.kind
    searched = _searched(state, kind)
    if searched is None or not searched < at.distance_m:
        return
    found = state.sites_with(state.hits_site[rows])
    ok = state.layer_ok(kind)
    s = np.flatnonzero(ok & ~found & possible(state, rule))
    state.unknown(
        len(s),
        "layer_missing",
        site=s,
        rule=rule,
        kind=kind,
        message_zh=f"距离检索半径 {searched:g} 米小于规则 {rule.id} "
        f"所需的 {at.distance_m:g} 米，无法检查",
        message_en=f"the distance search ({searched:g} m) is shorter "
        f"than rule {rule.id} needs ({at.distance_m:g} m): it cannot be checked",
    )


def _threshold_notes(state: EvaluationState, rule: Rule, rows: np.ndarray) -> np.ndarray | None:
    """Per fired row of a ``within`` rule: a note when the distance lies within the layer's
    positional tolerance (plus the site's conversion uncertainty) of the rule distance."""
    if not len(rows):
        return None
    dist_m = float(rule.applies_to.distance_m)  # type: ignore[union-attr, arg-type]
    layer = state.hits_layer[rows]
    tol = np.array([float(state.tolerance_m.get(x, 0.0) or 0.0) for x in layer])
    unc = state.sites_uncertainty_m[state.hits_site[rows]]
    near = dist_m - state.hits_distance_m[rows] <= tol + unc
    if not near.any():
        return None
    out = np.full(len(rows), None, dtype=object)
    for i in np.flatnonzero(near):
        out[i] = threshold_note(layer[i], tol[i], unc[i] > 0, dist_m)
    return out


def _inside_layer(state: EvaluationState, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Per site: (wholly inside, touching) a layer of ``kind`` that loaded and covers it."""
    rows = state.summary_rows(kind)
    rows = rows[state.summary_status[rows] == "ok"]
    hit = state.summary_hit[rows]
    whole = hit & (state.summary_share[rows] >= 1.0 - OUTSIDE_TOLERANCE)
    site = state.summary_site[rows]
    return state.sites_with(site[whole]), state.sites_with(site[hit])


def _outside_rule(state: EvaluationState, rule: Rule) -> None:
    """Emit the reasons of an ``outside`` rule: sites not entirely inside the layer."""
    at = rule.applies_to
    assert at is not None
    kind = at.kind
    rows = state.summary_rows(kind)
    rows = rows[state.summary_status[rows] == "ok"]
    ins, _ = _inside_layer(state, kind)
    site = state.summary_site[rows]
    # One row per site: the first ok layer of the kind names it.
    order = np.argsort(site, kind="stable")
    site, rows = site[order], rows[order]
    first = np.r_[True, site[1:] != site[:-1]] if len(site) else np.zeros(0, dtype=bool)
    site, rows = site[first], rows[first]
    sel = ~ins[site]
    site, layer = site[sel], state.summary_layer[rows][sel]
    note = None
    if at.except_inside is not None:
        site, layer, note = _except_inside(state, rule, at.except_inside, site, layer)
    emit_rule_reasons(state, rule, site, hit=None, layer_id=layer, kind=kind, note=note)


def _except_inside(
    state: EvaluationState, rule: Rule, other: str, site: np.ndarray, layer: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Drop the candidate sites of an ``outside`` rule that lie wholly inside ``other``.

    A site partly inside ``other`` stays, with a note: the shares the overlay reports do
    not tell whether the part outside the rule's layer is the part inside ``other``.  A
    layer of ``other`` that failed to load gives ``unknown`` (``layer_missing``) where the
    rule could apply; with no such layer at all the site is taken to lie outside it (a
    note says so).
    """
    inside, touch = _inside_layer(state, other)
    rows = state.summary_rows(other)
    status, o_site = state.summary_status[rows], state.summary_site[rows]
    failed = state.sites_with(o_site[status == "failed"])
    present = state.sites_with(o_site[status != "missing"])
    failed &= ~inside  # another layer of the kind holds the site: decided
    info = KINDS[other]
    bad = failed[site] & possible(state, rule)[site]
    if bad.any():
        f_rows = rows[(status == "failed") & np.isin(o_site, site[bad])]
        state.unknown(
            len(f_rows),
            "layer_missing",
            site=state.summary_site[f_rows],
            rule=rule,
            layer_id=state.summary_layer[f_rows],
            kind=other,
            message_zh=f"{info.title_zh}图层加载失败：无法判断项目是否位于{info.title_zh}"
            f"（规则 {rule.id} 不适用于{info.title_zh}），无法检查规则 {rule.id}",
            message_en=f"the {other} layer failed to load: whether the site lies in the "
            f"{other} (where rule {rule.id} does not apply) is not known, so rule "
            f"{rule.id} cannot be checked",
        )
    keep = ~inside[site] & ~failed[site]
    site, layer = site[keep], layer[keep]
    note = np.full(len(site), None, dtype=object)
    part = touch[site]
    note[part] = (
        f"the site lies partly in the {other} layer, where this rule does not apply: the "
        f"part outside the {rule.applies_to.kind} layer may be that part; "  # type: ignore[union-attr]
        "check the rest of the site on the map"
    )
    absent = ~present[site]
    note[absent] = (
        f"no {other} layer was screened: the site is taken to lie outside the {other}, "
        "where this rule applies"
    )
    return site, layer, note if (part | absent).any() else None
