"""Which rules a boundary could change for a project: the boundary-sensitive flag's relevance.

A site lies near a feature boundary of a layer (within the layer's positional tolerance plus
the site's conversion uncertainty) or near a rule distance of a ``within`` rule.  That matters
only when a rule reading that layer could apply to the project, given its declared attributes:
the Yangtze-shoreline band of the chemical rule does not matter to a restaurant, since its
``when`` (a chemical industry code) fails for it.  :func:`boundary_reach` gives, per layer kind
and per site, whether some such rule could apply (its ``when`` does not fail and its ``unless``
is not granted; an undeclared attribute leaves it possible), and :func:`boundary_texts` words
the rules a flagged site's boundaries could change.

Cost: the conditions are evaluated once per distinct combination of project attributes (a
million sites of one project: one combination), then spread over the sites with numpy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..overlay import LayerInput, OverlayResult
from ..overlay.totals import RuleReach
from ..rules import FLAGS, RuleSet
from ..rules.access_lists import resolve_list
from ..rules.conditions import possible
from ..rules.inputs import read_inputs
from ..schema import CHOICE_ATTRIBUTES
from .reach import _within_distances

__all__ = [
    "attribute_groups",
    "boundary_reach",
    "boundary_texts",
    "unit_boundaries_that_matter",
]

#: Conditions derived from the control units a site lies in: a unit boundary decides them.
_UNIT_CONDITIONS = ("industrial_park_unit", "chemical_park_unit")


def _rules_by_kind(rule_set: RuleSet) -> tuple[dict[str, list], dict[tuple[str, float], list]]:
    """The rules whose outcome depends on where a layer's boundaries lie, per kind (other than
    ``within`` rules), and the ``within`` rules per (kind, distance)."""
    by_kind: dict[str, dict[str, object]] = {}
    by_band: dict[tuple[str, float], dict[str, object]] = {}
    listed = {r.id: r for lst in rule_set.lists for r in lst.rules}
    for r in [*rule_set.rules, *listed.values()]:
        at = r.applies_to
        kinds: set[str] = set()
        if at is not None and at.relation == "within" and at.distance_m is not None:
            by_band.setdefault((at.kind, float(at.distance_m)), {})[r.id] = r
            kinds.update(at.aside_kinds)
        elif at is not None:
            kinds.add(at.kind)
            kinds.update(at.aside_kinds)
        if r.id in listed or any(a in _UNIT_CONDITIONS for a in r.attributes()):
            kinds.add("control_unit")
        for k in kinds:
            by_kind.setdefault(k, {})[r.id] = r
    return (
        {k: list(v.values()) for k, v in by_kind.items()},
        {k: list(v.values()) for k, v in by_band.items()},
    )


def attribute_codes(column: pd.Series) -> tuple[np.ndarray, int]:
    """A project attribute's values coded: (per site its value's code, -1 for a missing value;
    the number of distinct values).

    Parameters
    ----------
    column : pandas.Series

    Returns
    -------
    (numpy.ndarray of int64, int)
        As ``pd.factorize(column.astype(object))``; a column with no value (the usual case of
        a large run without project attributes) is recognised without hashing it.
    """
    values = column.to_numpy(dtype=object)
    missing = pd.isna(values)
    if missing.all():
        return np.full(len(values), -1, dtype=np.int64), 0
    c, u = pd.factorize(values, use_na_sentinel=True)
    return c.astype(np.int64), len(u)


def _attribute_groups(sites: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per site: its group of equal project attributes; and the first site of each group."""
    n = len(sites)
    if n == 1:
        return np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64)
    key = np.zeros(n, dtype=np.int64)
    for col in ("industry", "nature", *FLAGS, *CHOICE_ATTRIBUTES):
        if col in sites.columns:
            c, nu = attribute_codes(sites[col])
            if nu:  # a column every site leaves empty changes no group
                key = pd.factorize(key * (nu + 1) + c + 1)[0].astype(np.int64)
    group = pd.factorize(key)[0].astype(np.int64)
    _, first = np.unique(group, return_index=True)
    return group, first


class _Groups:
    """The sites' groups of equal project attributes, and the evaluation state of one
    representative per group (the units' park flags left undecided), shared by
    :func:`boundary_reach` and :func:`unit_boundaries_that_matter`."""

    def __init__(self, rule_set: RuleSet, sites: pd.DataFrame) -> None:
        self.group, self.first = _attribute_groups(sites)
        reps = sites.iloc[self.first].reset_index(drop=True)
        self.state = read_inputs(rule_set, reps, _NO_HITS, _NO_SUMMARY, None)
        for attr in _UNIT_CONDITIONS:  # decided by the units a site lies in: left undecided
            self.state.sites_known[attr] = np.zeros(len(self.first), dtype=bool)
            self.state.sites_flag[attr] = np.zeros(len(self.first), dtype=bool)
        #: What :func:`boundary_reach` and :func:`unit_boundaries_that_matter` worked out
        #: from the groups alone (kept with them: see :func:`attribute_groups`).
        self.memo: dict = {}


#: One site's groups by its project attributes, per rule set: a service screens one site after
#: another, mostly of the same project, and what the rules could do to it is the same.
_ONE_SITE: dict[tuple, tuple[RuleSet, _Groups]] = {}
_ONE_SITE_MAX = 256


def _attribute_key(sites: pd.DataFrame) -> tuple:
    """The project attributes of a one-site frame, as a key (types told apart)."""
    row = sites.iloc[0]
    return tuple(
        (col, type(row[col]).__name__, repr(row[col]))
        for col in ("industry", "nature", *FLAGS, *CHOICE_ATTRIBUTES, *_UNIT_CONDITIONS)
        if col in sites.columns
    )


def attribute_groups(rule_set: RuleSet, sites: pd.DataFrame) -> _Groups:
    """The sites' attribute groups and their evaluation state (kept for one site).

    Parameters
    ----------
    rule_set : RuleSet
        The rules in force.
    sites : DataFrame
        The sites with their project attributes.

    Returns
    -------
    _Groups
        For one site, the groups of an earlier site of the same project attributes and rule
        set when there was one (what :func:`boundary_reach` worked out for it is reused).
    """
    if len(sites) != 1:
        return _Groups(rule_set, sites)
    key = (id(rule_set), _attribute_key(sites))
    hit = _ONE_SITE.get(key)
    if hit is not None and hit[0] is rule_set:
        return hit[1]
    groups = _Groups(rule_set, sites)
    if len(_ONE_SITE) >= _ONE_SITE_MAX:
        _ONE_SITE.clear()
    _ONE_SITE[key] = (rule_set, groups)
    return groups


_NO_HITS = pd.DataFrame({"site": np.zeros(0, dtype=np.int64), "kind": np.zeros(0, dtype=object)})
_NO_SUMMARY = pd.DataFrame()


def boundary_reach(
    rule_set: RuleSet, sites: pd.DataFrame, groups: _Groups | None = None
) -> tuple[RuleReach, np.ndarray, dict]:
    """The :class:`RuleReach` of a screening with, per kind, the sites a boundary matters to.

    Parameters
    ----------
    rule_set : RuleSet
        The rules in force.
    sites : DataFrame
        The sites with their project attributes (the columns :func:`zoning.rules.evaluate`
        reads), in overlay order.

    Returns
    -------
    reach : RuleReach
        ``read_kinds`` and ``within`` as before, plus ``relevant`` (per kind: per site, some
        rule reading that kind's boundaries could apply to the project) and ``bands`` (per
        kind with ``within`` rules: per rule distance, the sites some rule of that distance
        could apply to).
    groups : optional
        The sites' attribute groups and their evaluation state, when already worked out
        (the screening shares them with :func:`unit_boundaries_that_matter`).
    group : numpy.ndarray of int64
        Per site: its group of equal project attributes.
    possible_ids : dict
        Per kind (or ``(kind, distance)``): per group, the ids of the rules that could apply.
    """
    groups = groups or _Groups(rule_set, sites)
    if "reach" in groups.memo:  # depends on the rules and the groups only
        return groups.memo["reach"]
    by_kind, by_band = rule_set._derived("rules_by_kind", _rules_by_kind)
    group, first, state = groups.group, groups.first, groups.state
    cache: dict[str, np.ndarray] = {}

    def able(rule) -> np.ndarray:
        if rule.id not in cache:
            cache[rule.id] = possible(state, rule)
        return cache[rule.id]

    possible_ids: dict = {}
    relevant: dict[str, np.ndarray] = {}
    for kind, rules in by_kind.items():
        ids = [[r.id for r in rules if able(r)[g]] for g in range(len(first))]
        possible_ids[kind] = ids
        relevant[kind] = np.array([bool(x) for x in ids], dtype=bool)[group]
    bands: dict[str, list[tuple[float, np.ndarray]]] = {}
    for (kind, dist), rules in sorted(by_band.items()):
        ids = [[r.id for r in rules if able(r)[g]] for g in range(len(first))]
        possible_ids[(kind, dist)] = ids
        bands.setdefault(kind, []).append(
            (dist, np.array([bool(x) for x in ids], dtype=bool)[group])
        )
    reach = RuleReach(
        frozenset(rule_set.read_kinds),
        _within_distances(rule_set),
        relevant=relevant,
        bands={k: tuple(v) for k, v in bands.items()},
    )
    groups.memo["reach"] = reach, group, possible_ids
    return reach, group, possible_ids


def boundary_texts(
    keys: Sequence,
    bits: np.ndarray,
    group: np.ndarray,
    possible_ids: dict,
    rule_set: RuleSet,
    unit_texts: np.ndarray | None = None,
) -> np.ndarray:
    """Per site: the rules a boundary could change, as text (``""`` for none).

    Parameters
    ----------
    keys : sequence
        What each bit of ``bits`` stands for: a kind (its boundaries) or ``(kind, distance)``
        (a ``within`` rule distance), as :func:`zoning.overlay.totals.site_totals` gives them.
    bits : numpy.ndarray of int64
        Per site: the flagged keys.
    group : numpy.ndarray of int64
        Per site: its attribute group (:func:`boundary_reach`).
    possible_ids : dict
        Per key: per group, the rule ids that could apply.
    rule_set : RuleSet
    unit_texts : numpy.ndarray of object, optional
        Per site: the rules the control units within reach treat differently
        (:func:`unit_boundaries_that_matter`), said for the ``control_unit`` key instead of
        every rule of any access list.

    Returns
    -------
    numpy.ndarray of object
        ``"red_line: red_line.construction (prohibited); shoreline 1000 m: yangtze.chemical
        (prohibited)"``: per flagged kind (or rule distance) the rules whose outcome a shift
        of that boundary by its tolerance could change, with their verdicts.
    """
    out = np.full(len(bits), "", dtype=object)
    flagged = np.flatnonzero(bits != 0)
    if not len(flagged):
        return out
    inverse, pairs = _pair_codes(bits[flagged], group[flagged])
    texts = []
    for b, g in pairs:
        parts = []
        for i, key in enumerate(keys):
            if not (b >> i) & 1:
                continue
            if key == "control_unit" and unit_texts is not None:
                parts.append("control_unit: \x00")  # the site's own text, filled below
                continue
            ids = possible_ids.get(key, [[]] * (g + 1))[g]
            if not ids:
                continue
            where = key if isinstance(key, str) else f"{key[0]} {key[1]:g} m"
            rules = ", ".join(f"{i_} ({rule_set.rule(i_).verdict})" for i_ in ids)
            parts.append(f"{where}: {rules}")
        texts.append("; ".join(parts))
    out[flagged] = np.array(texts, dtype=object)[inverse]
    if unit_texts is not None:
        holes = np.array(["\x00" in t for t in texts], dtype=bool)
        rows = np.flatnonzero(holes[inverse])
        has = flagged[rows]
        # Fill each distinct (text, unit text) once: both repeat over many sites.
        unit_code, units = pd.factorize(unit_texts[has].astype(object), use_na_sentinel=False)
        text_code = inverse[rows]
        both, first = np.unique(
            text_code.astype(np.int64) * (len(units) + 1) + unit_code, return_inverse=True
        )
        filled = [
            texts[int(k // (len(units) + 1))].replace("\x00", units[int(k % (len(units) + 1))])
            for k in both
        ]
        out[has] = np.array(filled, dtype=object)[first]
    return out


def _pair_codes(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Code the distinct pairs ``(a[i], b[i])`` of two integer arrays: (per row its pair's
    code, the pairs in order of first appearance)."""
    ca, ua = pd.factorize(a)
    cb, ub = pd.factorize(b)
    inverse, keys = pd.factorize(ca.astype(np.int64) * max(len(ub), 1) + cb)
    pairs = [(int(ua[k // max(len(ub), 1)]), int(ub[k % max(len(ub), 1)])) for k in keys]
    return inverse, pairs


def unit_boundaries_that_matter(
    reach: RuleReach,
    ov: OverlayResult,
    rule_set: RuleSet,
    sites: pd.DataFrame,
    group: np.ndarray,
    unc: np.ndarray,
    groups: _Groups | None = None,
) -> RuleReach:
    """``reach`` with the control-unit relevance narrowed to sites whose outcome could differ.

    A site near a boundary between two control units is sensitive only when the units within
    the layer's tolerance (plus the site's uncertainty) give its project different outcomes:
    their access lists hold different rules that could apply to it, or different verdicts,
    or one is an industrial or chemical park and the other not.  A site near the outer edge
    of the units (one unit within reach, or none containing it) stays sensitive: moved, the
    edge could leave it in no unit.

    Parameters
    ----------
    reach : RuleReach
        From :func:`boundary_reach`.
    ov : OverlayResult
        The overlay (its control-unit passes).
    rule_set : RuleSet
    sites : DataFrame
        The sites with their project attributes.
    group : numpy.ndarray of int64
        Per site: its attribute group.
    unc : numpy.ndarray of float
        Per site: its conversion uncertainty, m.
    groups : optional
        The groups and their evaluation state (:func:`boundary_reach`'s), when at hand.

    Returns
    -------
    reach : RuleReach
    unit_texts : numpy.ndarray of object
        Per site: the rules the units within reach treat differently (``""`` where none).
    """
    passes = [p for p in ov.passes if p.layer.kind == "control_unit"]
    if reach.relevant is None or "control_unit" not in reach.relevant or not passes:
        return reach, np.full(len(group), "", dtype=object)
    n = len(group)
    if groups is None:
        groups = _Groups(rule_set, sites)
    first, state = groups.first, groups.state
    signatures: dict[tuple, int] = groups.memo.setdefault("signatures", {})
    sig_of: dict[str | None, np.ndarray] = groups.memo.setdefault("signature_of", {})

    def signature(list_id: str | None) -> np.ndarray:
        if list_id not in sig_of:
            rules = rule_set.rules_for_list(list_id) if list_id else []
            able = [(r, possible(state, r)) for r in rules]
            park = (
                (
                    rule_set.is_industrial_park_list(list_id),
                    rule_set.access_list(list_id).chemical_park,
                )
                if list_id
                else (None, None)
            )
            codes = []
            for g in range(len(first)):
                key = (
                    list_id is None,
                    park,
                    tuple(sorted((r.id, r.verdict) for r, m in able if m[g])),
                )
                codes.append(signatures.setdefault(key, len(signatures)))
            sig_of[list_id] = np.asarray(codes, dtype=np.int64)
        return sig_of[list_id]

    matters = reach.relevant["control_unit"].copy()
    keep = np.zeros(n, dtype=bool)
    site_lo = np.full(n, -1, dtype=np.int64)
    site_hi = np.full(n, -1, dtype=np.int64)
    for p in passes:
        uniq, list_pos = _unit_lists(p.layer, rule_set)
        table = np.stack([signature(x) for x in uniq]) if uniq else np.zeros((0, len(first)))
        tol = p.layer.index.tolerance_m + unc[p.ps]
        with np.errstate(invalid="ignore"):
            near = (p.rel == 0) | (p.dist <= tol)
        ps, pf = p.ps[near], p.pf[near]
        sig = table[list_pos[pf], group[ps]] if len(ps) else np.zeros(0, dtype=np.int64)
        lo = np.full(n, np.iinfo(np.int64).max)
        hi = np.full(n, -1)
        np.minimum.at(lo, ps, sig)
        np.maximum.at(hi, ps, sig)
        count = np.bincount(ps, minlength=n)
        differ = (hi >= 0) & (lo != hi)
        edge = (count <= 1) | ~p.hit
        now = p.sens & (differ | edge)
        keep |= now
        site_lo[now] = np.where(hi[now] >= 0, lo[now], -1)
        site_hi[now] = hi[now]
    matters &= keep
    relevant = dict(reach.relevant)
    relevant["control_unit"] = matters
    texts = _unit_texts(site_lo, site_hi, matters, signatures)
    return RuleReach(reach.read_kinds, reach.within, relevant=relevant, bands=reach.bands), texts


def _unit_lists(layer: LayerInput, rule_set: RuleSet) -> tuple[list, np.ndarray]:
    """The access lists the control units of a layer use (distinct, in order of first use),
    and per unit the position of its list there.

    Kept with the layer's index for the rule set (a warm layer set resolves its units once,
    not once per screening).
    """
    cache = layer.index.__dict__.setdefault("_unit_lists", {})
    hit = cache.get(id(rule_set))
    if hit is not None and hit[0] is layer.attributes and hit[1] is rule_set:
        return hit[2], hit[3]
    attrs = layer.attributes
    cols = [
        attrs[c].to_numpy(dtype=object) if c in attrs else np.full(len(attrs), None)
        for c in ("unit_code", "access_list", "category")
    ]
    feat_list = []
    for u, a, c in zip(*cols, strict=True):
        u, a, c = (
            None if v is None or pd.isna(v) or not str(v).strip() else str(v).strip()
            for v in (u, a, c)
        )
        feat_list.append(resolve_list(rule_set, u, a, c)[0])
    uniq = list(dict.fromkeys(feat_list))
    where = {x: i for i, x in enumerate(uniq)}
    list_pos = np.array([where[x] for x in feat_list], dtype=np.int64)
    if len(cache) >= 16:
        cache.clear()
    cache[id(rule_set)] = (attrs, rule_set, uniq, list_pos)
    return uniq, list_pos


def _unit_texts(
    lo: np.ndarray, hi: np.ndarray, flagged: np.ndarray, signatures: dict[tuple, int]
) -> np.ndarray:
    """Per site: the rules that differ between the access lists of the control units within
    reach (``lo``, ``hi``: two of their outcome signatures; one alone at the units' edge)."""
    out = np.full(len(lo), "", dtype=object)
    sites = np.flatnonzero(flagged)
    if not len(sites):
        return out
    by_id = {v: k for k, v in signatures.items()}
    codes, uniques = pd.factorize(pd.Series(lo[sites]).astype(str) + ":" + hi[sites].astype(str))
    texts = []
    for u in uniques:
        a, b = (int(x) for x in u.split(":"))
        rules_a = set(by_id[a][2]) if a >= 0 else set()
        rules_b = set(by_id[b][2]) if b >= 0 else set()
        diff = sorted(rules_a ^ rules_b) if a != b else sorted(rules_b)
        park = a >= 0 and b >= 0 and by_id[a][1] != by_id[b][1]
        parts = [f"{rid} ({verdict})" for rid, verdict in diff]
        if park:
            parts.append("industrial or chemical park unit")
        texts.append(", ".join(dict.fromkeys(parts)) or "the access list that applies")
    out[sites] = np.asarray(texts, dtype=object)[codes]
    return out
