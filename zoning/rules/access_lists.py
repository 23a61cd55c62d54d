"""Access lists of environmental control units (``lists:`` of a rule set).

Each control unit a site intersects uses one access list: ``unit/<code>`` when the rule set
has the unit's own list, else the list the unit names (``access_list``), else its category's
list ``city/<category>``.  :func:`resolve_units` resolves them once per distinct (unit, list,
category) and derives the ``industrial_park_unit`` and ``chemical_park_unit`` project
attributes; :func:`apply_access_lists` emits the reasons: an unusable control-unit layer,
sites no unit covers, units without a usable list, units whose own list is absent, then the
effective rules of every list, one mask per distinct rule over the unit hits.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..catalog import UNIT_CATEGORY_ALIASES
from ..errors import quote
from .inputs import EvaluationState, notna
from .messages import LOAD_TEXT
from .model import Rule, RuleSet
from .reasons import emit_rule_reasons

__all__ = ["apply_access_lists", "resolve_list", "resolve_units"]


def resolve_list(
    rs: RuleSet, unit: str | None, acc: str | None, cat: str | None
) -> tuple[str | None, str | None, str | None]:
    """The list a unit uses: ``unit/<code>``, else its ``access_list``, else its category.

    Parameters
    ----------
    rs : RuleSet
    unit, acc, cat : str or None
        The unit's code, the access list it names and its category (stripped; None if blank).

    Returns
    -------
    (list_id, note, absent) : tuple of str or None
        ``absent`` is the access list the unit names but the rule set does not hold (its
        category list is then used, and the unit-specific clauses cannot be checked);
        ``note`` says how the list was chosen when it is a category list.
    """
    lists = set(rs.list_ids)
    if unit:
        lid = f"unit/{unit}"
        if lid in lists:
            return lid, None, None
    if acc and acc in lists:
        return acc, None, None
    absent = acc or None
    category = UNIT_CATEGORY_ALIASES.get(cat) if cat else None
    if category:
        lid = f"city/{category}"
        if lid in lists:
            note = (
                f"access list {quote(absent)} is not in the rule set; used {quote(lid)} (the "
                f"unit's category)"
                if absent
                else f"the unit names no access list; used {quote(lid)} (its category)"
            )
            return lid, note, absent
    return None, None, absent


def _unit_codes(state: EvaluationState, rows: np.ndarray) -> np.ndarray:
    """The unit code of control-unit hits (the feature id where the code is absent)."""
    unit = state.hits_column("unit_code")[rows]
    return np.where(notna(unit), unit, state.hits_feature[rows])


class _Lists:
    """A rule set's access lists as arrays (kept with it: :meth:`RuleSet._derived`)."""

    def __init__(self, rs: RuleSet) -> None:
        ids = rs.list_ids
        #: The list ids, then None (index -1: no list).
        self.names = np.array([*ids, None], dtype=object)
        self.index = {lid: i for i, lid in enumerate(ids)}
        #: Per list (then False for no list): an industrial park list, a chemical park list.
        self.park = np.array([rs.is_industrial_park_list(lid) for lid in ids] + [False])
        self.chemical = np.array([rs.access_list(lid).chemical_park for lid in ids] + [False])
        #: Per rule id of any list: the rule, and the lists holding it.
        self.rules: dict[str, Rule] = {}
        self.holders: dict[str, list[int]] = {}
        for i, lid in enumerate(ids):
            for rule in rs.rules_for_list(lid):
                self.holders.setdefault(rule.id, []).append(i)
                self.rules[rule.id] = rule


def _list_lookup(rs: RuleSet) -> _Lists:
    return _Lists(rs)


def _unit_combos(unit: np.ndarray, acc: np.ndarray, cat: np.ndarray) -> tuple[np.ndarray, list]:
    """Per unit hit: the code of its (unit code, access list, category), absent values as
    ``"\\0"``; and the distinct combinations in order of first appearance."""
    if len(unit) > 1000:
        combo = pd.DataFrame({"u": unit, "a": acc, "c": cat}).astype(object)
        codes, uniques = pd.factorize(pd.MultiIndex.from_frame(combo.fillna("\0")))
        return codes, list(uniques)
    seen: dict[tuple, int] = {}
    codes = np.zeros(len(unit), dtype=np.int64)
    for i, t in enumerate(zip(unit, acc, cat, strict=True)):
        key = tuple("\0" if v is None or pd.isna(v) else v for v in t)
        codes[i] = seen.setdefault(key, len(seen))
    return codes, list(seen)


def resolve_units(state: EvaluationState) -> None:
    """Resolve each control-unit hit's access list; derive the park attributes.

    Sets the ``units_*`` fields and ``list_names`` of ``state``, and ``industrial_park_unit``
    in ``sites_known`` (a control-unit layer covers the site) and ``sites_flag`` (every unit
    the site touches uses an industrial-park list); ``chemical_park_unit`` likewise (every
    unit the site touches uses a list marked ``chemical_park: true``; the mark of a list is
    its own, not inherited from its parent).

    Parameters
    ----------
    state : EvaluationState

    Notes
    -----
    The list is resolved once per distinct (unit code, access list, category), not per hit.
    """
    rs = state.rule_set
    lk = rs._derived("unit_lists", _list_lookup)
    rows = state.hit_rows("control_unit")
    rows = rows[state.hits_relation[rows] == "intersects"]
    state.units_rows = rows
    state.list_names = lk.names.copy()
    unit = _unit_codes(state, rows)
    acc = state.hits_column("access_list")[rows]
    cat = state.hits_column("category")[rows]
    codes, uniques = _unit_combos(unit, acc, cat)
    res_idx = np.full(len(uniques), -1, dtype=np.int64)
    res_note = np.full(len(uniques), None, dtype=object)
    res_absent = np.full(len(uniques), None, dtype=object)
    for j, (u, a, c) in enumerate(uniques):
        u, a, c = (None if v == "\0" or not str(v).strip() else str(v).strip() for v in (u, a, c))
        lid, note, absent = resolve_list(rs, u, a, c)
        res_idx[j] = lk.index[lid] if lid is not None else -1
        res_note[j] = note
        res_absent[j] = absent
    state.units_list = res_idx[codes] if len(rows) else np.zeros(0, dtype=np.int64)
    state.units_note = res_note[codes] if len(rows) else np.zeros(0, dtype=object)
    state.units_absent_list = res_absent[codes] if len(rows) else np.zeros(0, dtype=object)

    # Industrial-park units: every unit the site touches uses a park list.
    n = state.n_sites
    is_park = lk.park[state.units_list]
    has_cu = state.sites_with(state.hits_site[rows])
    all_park = np.ones(n, dtype=bool)
    all_park[state.hits_site[rows][~is_park]] = False
    state.sites_known["industrial_park_unit"] = state.layer_ok("control_unit")
    state.sites_flag["industrial_park_unit"] = has_cu & all_park

    # Chemical-park units: every unit the site touches uses a list marked chemical_park
    # (the mark is the list's own, not inherited: see AccessList).
    is_chem = lk.chemical[state.units_list]
    all_chem = np.ones(n, dtype=bool)
    all_chem[state.hits_site[rows][~is_chem]] = False
    state.sites_known["chemical_park_unit"] = state.sites_known["industrial_park_unit"]
    state.sites_flag["chemical_park_unit"] = has_cu & all_chem


def apply_access_lists(state: EvaluationState) -> None:
    """Emit the reasons of the access lists (nothing when the rule set has none).

    Parameters
    ----------
    state : EvaluationState
        With the units resolved (:func:`resolve_units`).
    """
    if not state.rule_set.lists:
        return
    _control_unit_layer(state)
    _unresolved_units(state)
    _fallback_units(state)
    _list_rules(state)


def _control_unit_layer(state: EvaluationState) -> None:
    """``layer_missing`` where the control-unit layer is missing, failed or absent;
    ``no_access_list`` where it covers the site but no unit does."""
    rows = state.summary_rows("control_unit")
    status, site = state.summary_status[rows], state.summary_site[rows]
    present = state.sites_with(site)
    ok = state.sites_with(site[status == "ok"])
    for st in ("missing", "failed"):
        sel = status == st
        state.unknown(
            int(sel.sum()),
            "layer_missing",
            site=site[sel],
            layer_id=state.summary_layer[rows][sel],
            kind="control_unit",
            message_zh="生态环境管控单元图层"
            + ("缺失" if st == "missing" else "加载失败")
            + "，无法检查准入清单",
            message_en=f"the control-unit layer {LOAD_TEXT[st]}: the access lists cannot "
            "be checked",
        )
    absent = np.flatnonzero(~present)
    state.unknown(
        len(absent),
        "layer_missing",
        site=absent,
        kind="control_unit",
        message_zh="没有生态环境管控单元图层，无法检查准入清单",
        message_en="no control-unit layer was screened: the access lists cannot be checked",
    )
    # Sites the layer covers but no unit does.
    covered = state.sites_with(state.hits_site[state.units_rows])
    gap = np.flatnonzero(ok & ~covered)
    if not len(gap):
        return
    srows = rows[status == "ok"]
    first_ok = pd.Series(state.summary_layer[srows]).groupby(site[status == "ok"]).first()
    state.unknown(
        len(gap),
        "no_access_list",
        site=gap,
        layer_id=first_ok.reindex(gap).to_numpy(dtype=object),
        kind="control_unit",
        message_zh="没有管控单元覆盖该项目，无法确定适用的准入清单",
        message_en="no control unit covers the site: no access list applies",
    )


def _unresolved_units(state: EvaluationState) -> None:
    """``no_access_list`` for units whose list cannot be resolved."""
    un = state.units_list < 0
    if not un.any():
        return
    r = state.units_rows[un]
    unit = _unit_codes(state, r)
    acc = state.hits_column("access_list")[r]
    rs_id = state.rule_set.id
    msg_en = np.array(
        [
            f"no access list for control unit {u} (access_list {quote(a)}, not in rule set {rs_id})"
            for u, a in zip(unit, acc, strict=True)
        ],
        dtype=object,
    )
    msg_zh = np.array([f"管控单元 {u} 没有可用的准入清单" for u in unit], dtype=object)
    state.unknown_hits(
        r,
        "no_access_list",
        message_zh=msg_zh,
        message_en=msg_en,
    )


def _fallback_units(state: EvaluationState) -> None:
    """``no_access_list`` for units naming a list the rule set lacks, resolved to their
    category list: the unit-specific clauses cannot be checked."""
    fb = (state.units_list >= 0) & notna(state.units_absent_list)
    if not fb.any():
        return
    r = state.units_rows[fb]
    unit = _unit_codes(state, r)
    used = state.list_names[state.units_list[fb]]
    absent = state.units_absent_list[fb]
    rs_id = state.rule_set.id
    state.unknown_hits(
        r,
        "no_access_list",
        list_id=used,
        message_zh=np.array(
            [
                f"管控单元 {u} 的准入清单 {a} 不在规则集中，其单元条款无法检查"
                f"（已按类别清单 {lid} 检查）"
                for u, a, lid in zip(unit, absent, used, strict=True)
            ],
            dtype=object,
        ),
        message_en=np.array(
            [
                f"control unit {u} names access list {quote(a)}, which rule set {rs_id} "
                f"does not hold: its unit-specific clauses cannot be checked (its "
                f"category list {quote(lid)} was applied)"
                for u, a, lid in zip(unit, absent, used, strict=True)
            ],
            dtype=object,
        ),
    )


def _list_rules(state: EvaluationState) -> None:
    """The rules of each list, one mask per distinct rule over the unit hits."""
    lk = state.rule_set._derived("unit_lists", _list_lookup)
    rules = lk.rules
    for rid, idxs in lk.holders.items():
        sel = np.isin(state.units_list, idxs)
        if not sel.any():
            continue
        r = state.units_rows[sel]
        emit_rule_reasons(
            state,
            rules[rid],
            state.hits_site[r],
            hit=r,
            list_id=state.list_names[state.units_list[sel]],
            note=state.units_note[sel],
        )
