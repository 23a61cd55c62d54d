"""The four-dimension clause table (符合性分析): every clause that applies to a site.

An EIA report compares a project with every clause that applies to it, not only those that
fire.  :func:`clause_table` lists, per site, every city-wide rule (statutory floor) whose layer
kind was screened, and every clause of the access lists of the control units the site touches
(each unit's effective rules: its own list, the lists it inherits from, up to the city list),
with a result of :data:`~zoning.schema.CLAUSE_RESULTS`:

- ``violates`` (不符合): a ``prohibited`` reason applies;
- ``needs_review`` (需论证): a ``restricted`` or ``conditional`` reason applies;
- ``undecided`` (无法判定): the rule cannot be decided (an attribute not declared, a layer
  missing, failed or not covering the site);
- ``complies`` (符合): the site lies in the rule's layer or unit (or within its distance) but
  the rule's conditions do not hold for the project, or its exception is granted;
- ``not_applicable`` (不适用): the site does not touch the rule's layer, or lies farther than
  its distance.

A rule applying to several features of a site gives one row: the worst result, naming the
features.  :func:`clause_conclusions` words each site's conclusion in the standard form.  The
results agree with the reasons frame of :func:`~zoning.rules.evaluate` by construction: the
fired and undecided clauses are read from it; only the clauses without a reason are worked
out here.  Nothing here touches geometry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..catalog import KINDS
from ..labels import CLAUSE_RESULT_LABELS
from ..schema import CLAUSE_COLUMNS, CLAUSE_RESULTS, DIMENSIONS
from .access_lists import resolve_units
from .city import OUTSIDE_TOLERANCE, _feature_codes, deferred_sites
from .clause_sites import _attributes, _BySite, _Sites
from .clause_words import (
    clause_conclusions,
    declare,
    deferred_texts,
    distance_text,
    fact,
    layer_state_texts,
    no_feature_texts,
    rule_distance_text,
)
from .conditions import condition_masks, exception_masks, missing_texts, possible
from .inputs import EvaluationState, notna, read_inputs
from .model import Conditions, Rule, RuleSet

__all__ = ["clause_conclusions", "clause_rules", "clause_table"]

_RANK = {r: i for i, r in enumerate(CLAUSE_RESULTS)}
_NA, _OK, _REVIEW, _UNDECIDED, _VIOLATES = (
    _RANK[r] for r in ("not_applicable", "complies", "needs_review", "undecided", "violates")
)
_DIM_ORDER = {d: i for i, d in enumerate(DIMENSIONS)}

# --------------------------------------------------------------------------------- the rules


def clause_rules(rule_set: RuleSet) -> list[tuple[Rule, str, str | None]]:
    """Every clause of a rule set once: ``(rule, scope, list_id)``.

    Parameters
    ----------
    rule_set : RuleSet

    Returns
    -------
    list of tuple
        The city-wide rules (scope ``floor``, list None), then the rules of each access list
        (scope ``list``, the id of the list that holds the clause), in rule-set order.
    """
    out: list[tuple[Rule, str, str | None]] = [(r, "floor", None) for r in rule_set.rules]
    seen = {r.id for r in rule_set.rules}
    for lst in rule_set.lists:
        for r in lst.rules:
            if r.id not in seen:
                seen.add(r.id)
                out.append((r, "list", lst.id))
    return out


def _clause_lookup(rule_set: RuleSet) -> tuple:
    """(clauses, their rules, position by rule id, the lists holding each rule) of a rule set
    (kept with it: :meth:`RuleSet._derived`)."""
    entries = clause_rules(rule_set)
    rules = [e[0] for e in entries]
    index = {r.id: i for i, r in enumerate(rules)}
    holders: dict[str, list[int]] = {}
    for i, lid in enumerate(rule_set.list_ids):
        for r in rule_set.rules_for_list(lid):
            holders.setdefault(r.id, []).append(i)
    return entries, rules, index, holders


# --------------------------------------------------------------------------------- per site


def _single(key: str, value: Any) -> list[Conditions]:
    """One condition key as an alternatives list."""
    return [Conditions.model_validate({key: value})]


def _why_not(state: EvaluationState, sv: _Sites, rule: Rule, site: int) -> tuple[str, str]:
    """(zh, en) of why a rule does not apply to one site's project (its conditions fail, or
    its exception is granted)."""
    granted, _ = exception_masks(state, rule)
    if granted[site]:
        for alt in rule.unless:
            if condition_masks(state, [alt])[0][site]:
                facts = [fact(k, getattr(alt, k), sv.raw(k, site), True) for k in alt.keys()]
                return (
                    "项目" + "，".join(f[0] for f in facts) + "，属本条例外情形",
                    "the clause's exception holds: the project "
                    + " and ".join(f[1] for f in facts),
                )
    zh: list[str] = []
    en: list[str] = []
    for alt in rule.when:
        for k in alt.keys():
            value = getattr(alt, k)
            if condition_masks(state, _single(k, value))[1][site]:
                fz, fe = fact(k, value, sv.raw(k, site), False)
                if fz not in zh:
                    zh.append(fz)
                    en.append(fe)
                break
    if not zh:
        return "本条所列情形不成立", "the clause's conditions do not hold"
    return "项目" + "；".join(zh) + "，不属本条所列情形", "not covered: the project " + "; ".join(
        en
    )


def _why_not_per_site(
    state: EvaluationState, sv: _Sites, rule: Rule, site: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_why_not` for many sites, worded once per combination of attribute values."""
    attrs = _attributes(rule)
    if not len(site):
        return np.zeros(0, dtype=object), np.zeros(0, dtype=object)
    if not attrs:
        zh, en = _why_not(state, sv, rule, int(site[0]))
        return np.full(len(site), zh, dtype=object), np.full(len(site), en, dtype=object)
    inv, rep = sv.combos(attrs)
    sub = inv[site]
    used, back = np.unique(sub, return_inverse=True)
    texts = [_why_not(state, sv, rule, int(rep[u])) for u in used]
    zh = np.array([t[0] for t in texts], dtype=object)[back]
    en = np.array([t[1] for t in texts], dtype=object)[back]
    return zh, en


def _names_per_group(group: np.ndarray, names: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per distinct group (ascending): its distinct names joined, at most three of them
    ('A、B、C 等 5 处' when there are more)."""
    if not len(group):
        return np.zeros(0, dtype=group.dtype), np.zeros(0, dtype=object)
    order = np.argsort(group, kind="stable")
    g = group[order]
    uniq, first, counts = np.unique(g, return_index=True, return_counts=True)
    sorted_names = np.array(
        ["" if v is None or v != v else str(v) for v in names[order]], dtype=object
    )
    text = sorted_names[first].copy()
    for i in np.flatnonzero(counts > 1):
        parts = list(dict.fromkeys(x for x in sorted_names[first[i] : first[i] + counts[i]] if x))
        shown = "、".join(parts[:3])
        text[i] = f"{shown} 等 {len(parts)} 处" if len(parts) > 3 else shown
    return uniq, text


# --------------------------------------------------------------------------------- reasons


def _from_reasons(
    state: EvaluationState,
    sv: _Sites,
    reasons: pd.DataFrame,
    index: Mapping[str, int],
    rules: Sequence[Rule],
    keep: np.ndarray,
) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Per clause index: (site, result, zh, en) of the sites with a reason on that clause
    (the worst of its reasons, naming their features)."""
    if not len(reasons):
        return {}
    rid = reasons["rule_id"].to_numpy(dtype=object)
    site = reasons["site"].to_numpy(dtype=np.int64)
    idx = np.array([index.get(r, -1) if isinstance(r, str) else -1 for r in rid], dtype=np.int64)
    sel = np.flatnonzero((idx >= 0) & keep[site])
    if not len(sel):
        return {}
    site, idx = site[sel], idx[sel]
    status = reasons["status"].to_numpy(dtype=object)[sel]
    verdict = reasons["verdict"].to_numpy(dtype=object)[sel]
    applies = status == "applies"
    code = np.full(len(sel), _UNDECIDED, dtype=np.int64)
    code[applies & (verdict == "prohibited")] = _VIOLATES
    code[applies & np.isin(verdict, ("restricted", "conditional"))] = _REVIEW
    code[applies & (verdict == "permitted")] = _OK
    key = site * (len(rules) + 1) + idx
    order = np.lexsort((-code, key))
    k_sorted = key[order]
    first = order[np.r_[True, k_sorted[1:] != k_sorted[:-1]]]
    worst = pd.Series(code[first], index=key[first])
    same = code == worst.reindex(key).to_numpy()
    feat = reasons["feature_name"].to_numpy(dtype=object)[sel]
    feat = np.where(notna(feat), feat, reasons["layer_id"].to_numpy(dtype=object)[sel])
    gkeys, gnames = _names_per_group(key[same], feat[same])
    names = pd.Series(gnames, index=gkeys).reindex(key[first]).to_numpy(dtype=object)
    out: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
    f_idx, f_site, f_code = idx[first], site[first], code[first]
    msg_zh = reasons["message_zh"].to_numpy(dtype=object)[sel][first]
    msg_en = reasons["message_en"].to_numpy(dtype=object)[sel][first]
    f_status = status[first]
    for i in np.unique(f_idx):
        m = f_idx == i
        rule = rules[int(i)]
        zh, en = _fired_texts(
            state, rule, f_site[m], f_code[m], f_status[m], names[m], msg_zh[m], msg_en[m]
        )
        out[int(i)] = (f_site[m], f_code[m], zh, en)
    return out


def _fired_texts(
    state: EvaluationState,
    rule: Rule,
    site: np.ndarray,
    code: np.ndarray,
    status: np.ndarray,
    names: np.ndarray,
    msg_zh: np.ndarray,
    msg_en: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(zh, en) explanations of the clause rows read from reasons."""
    n = len(site)
    where_zh = np.array([f"涉及 {x}：" if x else "" for x in names], dtype=object)
    where_en = np.array([f"({x}) " if x else "" for x in names], dtype=object)
    at = rule.applies_to
    if at is not None and at.relation == "outside":
        info = KINDS[at.kind]
        where_zh[:] = f"项目不完全位于{info.title_zh}内："
        where_en[:] = f"the site is not wholly inside the {info.title_en}: "
    zh = np.full(n, "", dtype=object)
    en = np.full(n, "", dtype=object)
    step_zh = f"；下一步：{rule.next_step.zh}" if rule.next_step else ""
    step_en = f"; next step: {rule.next_step.en}" if rule.next_step else ""
    v = code == _VIOLATES
    zh[v] = where_zh[v] + "项目属于本条禁止的情形" + step_zh
    en[v] = where_en[v] + "the project falls under this clause's prohibition" + step_en
    r = code == _REVIEW
    zh[r] = where_zh[r] + ("适用本条" + step_zh if step_zh else "适用本条，须按本条要求论证并落实")
    en[r] = where_en[r] + (
        "the clause applies" + step_en if step_en else "the clause applies: meet its requirements"
    )
    ok = code == _OK
    zh[ok] = where_zh[ok] + "本条允许"
    en[ok] = where_en[ok] + "permitted by this clause"
    u = code == _UNDECIDED
    attr = u & (status == "needs_attribute")
    if attr.any():
        attrs = _attributes(rule)
        zh[attr] = missing_texts(state, site[attr], attrs, lambda m: declare(m)[0])
        en[attr] = missing_texts(state, site[attr], attrs, lambda m: declare(m)[1])
    other = u & ~attr
    zh[other] = np.array([f"无法判定：{x}" for x in msg_zh[other]], dtype=object)
    en[other] = np.array([f"cannot be decided: {x}" for x in msg_en[other]], dtype=object)
    return zh, en


# --------------------------------------------------------------------------------- floors


class _Rows:
    """The rows of one clause: sites, result codes and (zh, en) explanations."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, site: np.ndarray, code: int | np.ndarray, zh: Any, en: Any) -> None:
        """Append rows (``code``, ``zh``, ``en``: per row or one for all)."""
        n = len(site)
        if not n:
            return

        def arr(v: Any, dtype: Any) -> np.ndarray:
            return v if isinstance(v, np.ndarray) else np.full(n, v, dtype=dtype)

        self.parts.append((site, arr(code, np.int64), arr(zh, object), arr(en, object)))


def _scope_texts(site: np.ndarray, names: _BySite, fmt_zh: str, fmt_en: str) -> tuple:
    """(zh, en) of where a site lies, per site, with ``{}`` replaced by its feature names."""
    x = names.at(site)
    x = np.where(notna(x), x, "")
    return (
        np.array([fmt_zh.format(v) for v in x], dtype=object),
        np.array([fmt_en.format(v) for v in x], dtype=object),
    )


def _joined(a: np.ndarray, b: np.ndarray, sep: str) -> np.ndarray:
    """Row-wise ``a + sep + b``."""
    return np.array([f"{x}{sep}{y}" for x, y in zip(a, b, strict=True)], dtype=object)


def _match_where(state: EvaluationState, rule: Rule, rows: np.ndarray) -> tuple:
    """(matches, undecidable) per candidate hit of a rule with ``where``."""
    at = rule.applies_to
    assert at is not None
    match = np.ones(len(rows), dtype=bool)
    fails = np.zeros(len(rows), dtype=bool)
    for key, allowed in (at.where or {}).items():
        vals = state.hits_column(key)[rows]
        codes, known = _feature_codes(state, at.kind, key, vals)
        present = notna(vals) & (codes != "")
        rec = present & notna(known)
        ok = rec & np.isin(known.astype(str), list(allowed))
        fails |= rec & ~ok
        match &= ok
    return match, ~match & ~fails


def _floor_rows(
    state: EvaluationState,
    sv: _Sites,
    rule: Rule,
    fired: tuple | None,
    keep: np.ndarray,
) -> _Rows:
    """The rows of one city-wide rule (see :func:`clause_table`)."""
    at = rule.applies_to
    assert at is not None
    kind, n = at.kind, state.n_sites
    info = KINDS[kind]
    out = _Rows()
    done = np.zeros(n, dtype=bool)
    if fired is not None:
        f_site, f_code, f_zh, f_en = fired
        out.add(f_site, f_code, f_zh, f_en)
        done[f_site] = True
    srows = state.summary_rows(kind)
    listed = state.sites_with(state.summary_site[srows]) & keep & ~done
    if not listed.any():
        return out
    ok = state.layer_ok(kind)
    scope, maybe, scope_zh, scope_en, na_zh, na_en = _floor_scope(state, rule, info)
    if at.defer_inside:
        scope, maybe, ok = _deferred(state, rule, scope, maybe, ok, na_zh, na_en)
    # in the layer (or near it), no reason: the project is not what the clause is about
    comp = np.flatnonzero(listed & (scope | maybe))
    wz, we = _why_not_per_site(state, sv, rule, comp)
    sz, se = scope_zh.at(comp), scope_en.at(comp)
    has = notna(sz)
    wz[has] = _joined(sz[has], wz[has], "；")
    we[has] = _joined(se[has], we[has], "; ")
    out.add(comp, _OK, wz, we)
    rest = listed & ~scope & ~maybe
    na = np.flatnonzero(rest & ok)
    out.add(na, _NA, na_zh[na], na_en[na])
    # the layer is not usable there: undecided where the rule could apply, else complies
    bad = rest & ~ok
    if not bad.any():
        return out
    poss = possible(state, rule)
    und = np.flatnonzero(bad & poss)
    uz, ue = layer_state_texts(state, kind, info, und)
    out.add(und, _UNDECIDED, uz, ue)
    cz = np.flatnonzero(bad & ~poss)
    wz, we = _why_not_per_site(state, sv, rule, cz)
    out.add(cz, _OK, wz, we)
    return out


def _deferred(
    state: EvaluationState,
    rule: Rule,
    scope: np.ndarray,
    maybe: np.ndarray,
    ok: np.ndarray,
    na_zh: np.ndarray,
    na_en: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(scope, maybe, ok) of a ``defer_inside`` rule with the sites wholly inside a layer of
    those kinds taken out (not applicable: the special law decides); their words set in
    ``na_zh`` / ``na_en`` where the site lies in (or may lie in) the rule's layer."""
    at = rule.applies_to
    assert at is not None and at.defer_inside
    done = np.zeros(state.n_sites, dtype=bool)
    for kind in at.defer_inside:
        there = deferred_sites(state, [kind]) & ~done
        words = there & (scope | maybe | ~ok)
        na_zh[words], na_en[words] = deferred_texts(state.rule_set, kind)
        done |= there
    return scope & ~done, maybe & ~done, ok | done


def _floor_scope(state: EvaluationState, rule: Rule, info: Any) -> tuple:
    """Per site: in the rule's scope, possibly in it (a feature whose ``where`` cannot be
    decided), the (zh, en) words of where it lies (Series by site), and the (zh, en) words of
    why the rule does not apply (arrays by site)."""
    at = rule.applies_to
    assert at is not None
    n, kind = state.n_sites, at.kind
    rows = state.hit_rows(kind)
    scope = np.zeros(n, dtype=bool)
    maybe = np.zeros(n, dtype=bool)
    na_zh = np.full(n, f"项目不在{info.title_zh}内", dtype=object)
    na_en = np.full(n, f"the site is not in the {info.title_en}", dtype=object)
    if at.relation == "outside":
        inside = _wholly_inside(state, kind)
        scope = ~inside & state.layer_ok(kind)
        na_zh[inside] = f"项目全部位于{info.title_zh}内"
        na_en[inside] = f"the site lies wholly inside the {info.title_en}"
        if at.except_inside is not None:
            other = KINDS[at.except_inside]
            there = _wholly_inside(state, at.except_inside) & ~inside
            scope &= ~there
            na_zh[there] = f"项目全部位于{other.title_zh}内，本条不适用"
            na_en[there] = (
                f"the site lies wholly inside the {other.title_en}, where the clause does not apply"
            )
        words = _BySite(np.flatnonzero(scope), f"项目不完全位于{info.title_zh}内")
        words_en = _BySite(
            np.flatnonzero(scope), f"the site is not wholly inside the {info.title_en}"
        )
        return scope, maybe, words, words_en, na_zh, na_en
    if at.relation == "intersects":
        rows = rows[state.hits_relation[rows] == "intersects"]
    else:
        rows = rows[np.isfinite(state.hits_distance_m[rows])]
    touched = state.sites_with(state.hits_site[rows])
    if at.where:
        match, undecidable = _match_where(state, rule, rows)
        if at.relation == "within":
            undecidable &= state.hits_distance_m[rows] <= float(at.distance_m)  # type: ignore[arg-type]
        maybe = state.sites_with(state.hits_site[rows[undecidable]])
        want = "；".join(f"{k}: {'、'.join(v)}" for k, v in at.where.items())
        if at.relation == "intersects":
            na_zh[touched] = f"项目所在{info.title_zh}不属于本条所指范围（{want}）"
            na_en[touched] = (
                f"the {info.title_en} the site lies in is not the one the clause is on ({want})"
            )
            na_zh[~touched] = f"项目不在{info.title_zh}（{want}）内"
        rows = rows[match]
    if at.relation == "intersects" and not len(rows):  # in no feature of the rule's layer
        none = _BySite(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object))
        return scope, maybe, none, none, na_zh, na_en
    if at.relation == "intersects":
        scope = state.sites_with(state.hits_site[rows])
        maybe &= ~scope
        s, names = _names_per_group(state.hits_site[rows], state.hits_name[rows])
        names = _BySite(s, names)
        zh, en = _scope_texts(
            np.flatnonzero(scope),
            names,
            f"项目位于{info.title_zh}（{{}}）内",
            f"the site lies in the {info.title_en} ({{}})",
        )
        return (
            scope,
            maybe,
            _BySite(np.flatnonzero(scope), zh),
            _BySite(np.flatnonzero(scope), en),
            na_zh,
            na_en,
        )
    return _within_scope(state, rule, info, rows, maybe, na_zh, na_en)


def _within_scope(
    state: EvaluationState,
    rule: Rule,
    info: Any,
    rows: np.ndarray,
    maybe: np.ndarray,
    na_zh: np.ndarray,
    na_en: np.ndarray,
) -> tuple:
    """:func:`_floor_scope` of a ``within`` rule over its qualifying hits ``rows``."""
    at = rule.applies_to
    assert at is not None
    # the nearest qualifying feature
    d = state.hits_distance_m[rows]
    order = np.lexsort((d, state.hits_site[rows]))
    rows = rows[order]
    hs = state.hits_site[rows]
    first = rows[np.r_[True, hs[1:] != hs[:-1]]] if len(rows) else rows
    fs, fd, fn = state.hits_site[first], state.hits_distance_m[first], state.hits_name[first]
    name = np.array(["" if v is None or v != v else f"（{v}）" for v in fn], dtype=object)
    name_en = np.array(["" if v is None or v != v else f" ({v})" for v in fn], dtype=object)
    dist = float(at.distance_m)  # type: ignore[arg-type]
    limit = rule_distance_text(dist)
    near = fd <= dist
    scope = state.sites_with(fs[near])
    maybe &= ~scope
    zh = [
        f"项目距{info.title_zh}{nm} {distance_text(x)}，在 {limit} 范围内"
        for nm, x in zip(name[near], fd[near], strict=True)
    ]
    en = [
        f"the site is {distance_text(x)} from the {info.title_en}{nm}, within {limit}"
        for nm, x in zip(name_en[near], fd[near], strict=True)
    ]
    far = ~near
    na_zh[fs[far]] = [
        f"距{info.title_zh}{nm} {distance_text(x)}，超过 {limit}"
        for nm, x in zip(name[far], fd[far], strict=True)
    ]
    na_en[fs[far]] = [
        f"{distance_text(x)} from the {info.title_en}{nm}, beyond {limit}"
        for nm, x in zip(name_en[far], fd[far], strict=True)
    ]
    none = ~state.sites_with(fs)
    na_zh[none], na_en[none] = no_feature_texts(info, at.where, _searched(state, at.kind), dist)
    return (
        scope,
        maybe,
        _BySite(fs[near], np.array(zh, dtype=object)),
        _BySite(fs[near], np.array(en, dtype=object)),
        na_zh,
        na_en,
    )


def _searched(state: EvaluationState, kind: str) -> float | None:
    """How far the layers of ``kind`` were searched (None: not known)."""
    r = state.search_radius_m
    if isinstance(r, Mapping):
        r = r.get(kind)
    return float(r) if r else None


def _wholly_inside(state: EvaluationState, kind: str) -> np.ndarray:
    """Per site: wholly inside a loaded layer of ``kind``."""
    rows = state.summary_rows(kind)
    rows = rows[state.summary_status[rows] == "ok"]
    whole = state.summary_hit[rows] & (state.summary_share[rows] >= 1.0 - OUTSIDE_TOLERANCE)
    return state.sites_with(state.summary_site[rows][whole])


# --------------------------------------------------------------------------------- lists


def _list_rows(
    state: EvaluationState,
    sv: _Sites,
    rule: Rule,
    holders: list[int],
    fired: tuple | None,
    keep: np.ndarray,
) -> _Rows:
    """The rows of one access-list clause: the sites whose control units use a list holding
    it (see :func:`clause_table`)."""
    out = _Rows()
    sel = np.isin(state.units_list, holders)
    if not sel.any():
        return out
    r = state.units_rows[sel]
    site = state.hits_site[r]
    done = np.zeros(state.n_sites, dtype=bool)
    if fired is not None:
        f_site, f_code, f_zh, f_en = fired
        m = state.sites_with(site)[f_site]
        out.add(f_site[m], f_code[m], f_zh[m], f_en[m])
        done[f_site] = True
    rest = np.flatnonzero(state.sites_with(site) & keep & ~done)
    if not len(rest):
        return out
    s, names = _names_per_group(site, state.hits_name[r])
    names = _BySite(s, names)
    sz, se = _scope_texts(
        rest,
        names,
        "项目所在管控单元（{}）适用本条",
        "the clause applies in the site's control unit ({})",
    )
    wz, we = _why_not_per_site(state, sv, rule, rest)
    out.add(rest, _OK, _joined(sz, wz, "；"), _joined(se, we, "; "))
    return out


# --------------------------------------------------------------------------------- the table


def clause_table(
    rule_set: RuleSet,
    sites: pd.DataFrame,
    hits: pd.DataFrame,
    layer_summary: pd.DataFrame,
    reasons: pd.DataFrame,
    *,
    search_radius_m: float | Mapping[str, float] | None = None,
    only: Sequence[int] | np.ndarray | None = None,
) -> pd.DataFrame:
    """Every clause that applies to each site, with its result (符合性分析).

    Parameters
    ----------
    rule_set : RuleSet
    sites, hits, layer_summary : DataFrame
        As :func:`zoning.rules.evaluate` takes them.
    reasons : DataFrame
        What :func:`zoning.rules.evaluate` returned for them.
    search_radius_m : float or mapping, optional, keyword-only
        How far the overlay searched (one distance or one per kind): said where no feature of
        a ``within`` rule's layer was found.
    only : sequence of int, optional, keyword-only
        Site positions: rows for these sites only (as the full table would give them).

    Returns
    -------
    DataFrame
        Columns :data:`~zoning.schema.CLAUSE_COLUMNS`, one row per (site, clause), sorted by
        site, dimension (in the order of :data:`~zoning.schema.DIMENSIONS`), city-wide rules
        before access-list clauses, then rule-set order.  ``scope`` is ``floor`` (a city-wide
        rule) or ``list`` (an access-list clause; ``list_id`` names the list holding it);
        ``citation`` is ``document label, article``; ``quote`` the clause's quoted text (None
        where the rule set gives none); ``reads`` the project facts the clause reads
        (``industry=C2614; nature=new; wastewater=未申报``); ``result`` one of
        :data:`~zoning.schema.CLAUSE_RESULTS` and ``result_zh`` its label
        (:data:`~zoning.labels.CLAUSE_RESULT_LABELS`).

    Notes
    -----
    City-wide rules are listed for the sites the layer summary has a row of their kind for
    (``not_applicable`` only where that layer loaded and covers the site); access-list
    clauses for the sites whose control units use a list holding them.  A site no control
    unit covers, or whose unit has no usable list, gets no access-list rows (its reasons say
    so; :func:`clause_conclusions` reads them).  Vectorised per clause: the words of a
    result are built once per combination of the project attributes the clause reads.
    """
    state = read_inputs(rule_set, sites, hits, layer_summary, search_radius_m)
    resolve_units(state)
    n = state.n_sites
    keep = (
        np.ones(n, dtype=bool)
        if only is None
        else state.sites_with(np.asarray(only, dtype=np.int64))
    )
    sv = _Sites(state, sites)
    entries, rules, index, holders = rule_set._derived("clause_rules", _clause_lookup)
    fired = _from_reasons(state, sv, reasons, index, rules, keep)
    blocks: list[tuple[int, _Rows]] = []
    for i, (rule, scope, _) in enumerate(entries):
        if scope == "floor":
            rows = _floor_rows(state, sv, rule, fired.get(i), keep)
        else:
            rows = _list_rows(state, sv, rule, holders.get(rule.id, []), fired.get(i), keep)
        blocks.append((i, rows))
    return _assemble(rule_set, state, sv, entries, blocks)


def _assemble(
    rule_set: RuleSet,
    state: EvaluationState,
    sv: _Sites,
    entries: list[tuple[Rule, str, str | None]],
    blocks: list[tuple[int, _Rows]],
) -> pd.DataFrame:
    """The clause table from the rows of every clause."""
    parts = [(i, p) for i, rows in blocks for p in rows.parts]
    if not parts:
        return pd.DataFrame(
            {c: pd.Series([], dtype=np.int64 if c == "site" else object) for c in CLAUSE_COLUMNS}
        )
    site = np.concatenate([p[0] for _, p in parts])
    idx = np.concatenate([np.full(len(p[0]), i, dtype=np.int64) for i, p in parts])
    code = np.concatenate([p[1] for _, p in parts])
    zh = np.concatenate([p[2] for _, p in parts])
    en = np.concatenate([p[3] for _, p in parts])
    static = rule_set._derived("clause_columns", _clause_columns)
    order = np.lexsort((idx, static["scope_rank"][idx], static["dim_rank"][idx], site))
    site, idx, code, zh, en = site[order], idx[order], code[order], zh[order], en[order]
    rules = [e[0] for e in entries]
    reads = np.empty(len(site), dtype=object)
    for i in np.unique(idx):
        m = idx == i
        reads[m] = sv.reads(rules[int(i)])[site[m]]
    columns = static["columns"]
    return pd.DataFrame(
        {
            "site": site,
            "site_id": state.sites_id[site],
            **{name: values[idx] for name, values in columns.items()},
            "reads": reads,
            "result": _RESULTS[code],
            "result_zh": _RESULT_LABELS[code],
            "explanation_zh": zh,
            "explanation_en": en,
        },
        columns=list(CLAUSE_COLUMNS),
    )


_RESULTS = np.array(CLAUSE_RESULTS, dtype=object)
_RESULT_LABELS = np.array([CLAUSE_RESULT_LABELS[r][0] for r in CLAUSE_RESULTS], dtype=object)


def _clause_columns(rule_set: RuleSet) -> dict[str, Any]:
    """Per clause of :func:`clause_rules` (in its order): the clause table's columns that
    depend on the clause only, and its dimension and scope ranks (built once per rule set)."""
    entries = rule_set._derived("clause_rules", _clause_lookup)[0]
    docs = rule_set.documents

    def per_rule(fn: Any) -> np.ndarray:
        return np.array([fn(e) for e in entries], dtype=object)

    return {
        "columns": {
            "scope": per_rule(lambda e: e[1]),
            "list_id": per_rule(lambda e: e[2]),
            "rule_id": per_rule(lambda e: e[0].id),
            "dimension": per_rule(lambda e: e[0].dimension),
            "clause_zh": per_rule(lambda e: e[0].message.zh),
            "citation": per_rule(
                lambda e: f"{docs[e[0].citation.document].label}, {e[0].citation.article}"
            ),
            "quote": per_rule(lambda e: e[0].citation.quote),
        },
        "dim_rank": np.array([_DIM_ORDER.get(e[0].dimension, 9) for e in entries]),
        "scope_rank": np.array([0 if e[1] == "floor" else 1 for e in entries]),
    }
