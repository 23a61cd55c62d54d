"""City-wide rules: rules keyed on layer kinds (``rules:`` of a rule set).

A city-wide rule applies to the features of one layer kind the site ``intersects``, to the
nearest feature ``within`` a distance, or to the site lying ``outside`` the layer (unless it
lies ``except_inside`` another kind).  An ``intersects`` rule stands aside for a site lying
wholly inside a layer of its ``defer_inside`` kinds (that kind's own law decides there).
Each rule is one boolean mask over the hits (or layer summary rows) of its kind.  A layer
that is missing or failed, a feature whose ``where`` attribute is absent or not in the
vocabulary, and a distance search shorter than the rule needs each give ``unknown``
(``layer_missing``) reasons where the rule could apply.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..catalog import KINDS
from ..errors import quote
from .conditions import possible
from .crosscheck import norm_value
from .inputs import EvaluationState, notna
from .messages import layer_missing_texts, threshold_note
from .model import Rule
from .reasons import emit_rule_reasons

__all__ = ["OUTSIDE_TOLERANCE", "apply_city_rule", "deferred_sites"]

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
    deferred = deferred_sites(state, at.defer_inside or ())
    _layer_status(state, rule, kind, f"{KINDS[kind].title_en}", deferred)
    rows = state.hit_rows(kind)
    if at.relation == "outside":
        _outside_rule(state, rule)
        return
    if at.relation == "intersects":
        rows = rows[state.hits_relation[rows] == "intersects"]
    else:
        d = state.hits_distance_m[rows]
        rows = rows[np.isfinite(d) & (d <= at.distance_m)]
    rows = rows[~deferred[state.hits_site[rows]]]
    if not len(rows):  # nothing to match: only a short distance search can say something
        if at.relation == "within":
            _short_search(state, rule, rows)
        return
    if at.where:
        rows = _where_filter(state, rule, rows)
    if at.relation == "within" and len(rows):
        rows = _nearest_per_site(state, rows)
    note = _threshold_notes(state, rule, rows) if at.relation == "within" else None
    if at.relation == "within":
        _short_search(state, rule, rows)
    if at.defer_inside:
        keep, note = _stand_aside(state, rule, at.defer_inside, state.hits_site[rows], defer=True)
        rows = rows[keep]
    emit_rule_reasons(state, rule, state.hits_site[rows], hit=rows, note=note)


def deferred_sites(state: EvaluationState, kinds: Sequence[str]) -> np.ndarray:
    """Per site: wholly inside a loaded layer of one of ``kinds`` (``defer_inside``: the
    special law of that kind decides there).

    Parameters
    ----------
    state : EvaluationState
    kinds : sequence of str

    Returns
    -------
    ndarray of bool
    """
    out = np.zeros(state.n_sites, dtype=bool)
    for kind in kinds:
        out |= _inside_layer(state, kind)[0]
    return out


def _layer_status(
    state: EvaluationState, rule: Rule, kind: str, label: str, deferred: np.ndarray
) -> None:
    """Emit layer_missing reasons for ``rule`` where its layer is missing, failed or absent
    (not at the ``deferred`` sites, which another kind's rules decide)."""
    rows = state.summary_rows(kind)
    status = state.summary_status[rows]
    site = state.summary_site[rows]
    present = state.sites_with(site)
    missing = (status == "missing") | (status == "failed")
    if not missing.any() and present.all():
        return
    poss = possible(state, rule) & ~deferred
    info = KINDS[kind]
    bad = missing & poss[site]
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
    if not len(vals):
        return np.full(0, "", dtype=object), np.full(0, None, dtype=object)
    uniq_codes, uniques = pd.factorize(np.asarray(vals, dtype=object))
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
        vals = state.hits_column(key)[rows]
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
        keep, note = _stand_aside(state, rule, [at.except_inside], site, defer=False)
        site, layer = site[keep], layer[keep]
    emit_rule_reasons(state, rule, site, hit=None, layer_id=layer, kind=kind, note=note)


def _stand_aside(
    state: EvaluationState, rule: Rule, kinds: Sequence[str], site: np.ndarray, *, defer: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """Which candidate rows (``site``: their sites) a rule keeps where it stands aside inside
    ``kinds`` (``except_inside`` of an ``outside`` rule; with ``defer`` the ``defer_inside``
    kinds, whose own law decides there), and a note per kept row (None: no note at all).

    A site wholly inside a loaded layer of one of the kinds is dropped.  A site partly inside
    one stays, with a note: the shares the overlay reports do not tell which part lies where.
    A layer of the kinds that failed to load gives ``unknown`` (``layer_missing``) where the
    rule could apply; with no such layer at all the site is taken to lie outside it (a note
    says so).
    """
    inside = deferred_sites(state, kinds)
    poss = possible(state, rule)
    keep = ~inside[site]
    note = np.full(len(site), None, dtype=object)
    for other in kinds:
        _, touch = _inside_layer(state, other)
        rows = state.summary_rows(other)
        status, o_site = state.summary_status[rows], state.summary_site[rows]
        failed = state.sites_with(o_site[status == "failed"]) & ~inside
        present = state.sites_with(o_site[status != "missing"])
        info = KINDS[other]
        bad = keep & failed[site] & poss[site]
        if bad.any():
            f_rows = rows[(status == "failed") & np.isin(o_site, site[bad])]
            if defer:
                why_zh = f"{info.title_zh}内由其专门法规决定，依照法律法规执行"
                why_en = f"where its own law decides instead of rule {rule.id}"
            else:
                why_zh = f"规则 {rule.id} 不适用于{info.title_zh}"
                why_en = f"where rule {rule.id} does not apply"
            state.unknown(
                len(f_rows),
                "layer_missing",
                site=state.summary_site[f_rows],
                rule=rule,
                layer_id=state.summary_layer[f_rows],
                kind=other,
                message_zh=f"{info.title_zh}图层加载失败：无法判断项目是否位于{info.title_zh}"
                f"（{why_zh}），无法检查规则 {rule.id}",
                message_en=f"the {other} layer failed to load: whether the site lies in the "
                f"{other} ({why_en}) is not known, so rule {rule.id} cannot be checked",
            )
        keep &= ~failed[site]
        if defer:
            part_text = (
                f"the site lies partly in the {other} layer, whose own law decides there "
                "(依照法律法规执行); this rule is applied to the whole site: check the part "
                f"outside the {other} on the map"
            )
        else:
            part_text = (
                f"the site lies partly in the {other} layer, where this rule does not apply: "
                f"the part outside the {rule.applies_to.kind} layer may be that part; "  # type: ignore[union-attr]
                "check the rest of the site on the map"
            )
        _add_note(note, touch[site], part_text)
        _add_note(
            note,
            ~present[site],
            f"no {other} layer was screened: the site is taken to lie outside the {other}, "
            "where this rule applies",
        )
    note = note[keep]
    return keep, note if notna(note).any() else None


def _add_note(note: np.ndarray, mask: np.ndarray, text: str) -> None:
    """Append ``text`` to the notes selected by ``mask`` (in place)."""
    has = notna(note)
    more = mask & has
    note[more] = note[more] + f"; {text}"
    note[mask & ~has] = text
