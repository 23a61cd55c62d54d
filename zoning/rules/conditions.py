"""Per-site truth of a rule's ``when`` and ``unless`` conditions on project attributes.

A condition is tri-state per site: it holds, it fails, or it cannot be decided because the site
did not declare an attribute it tests.  Masks are computed once per distinct alternatives list
(cached on the :class:`~zoning.rules.inputs.EvaluationState`), industry codes and natures on
their distinct values only.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np

from .inputs import EvaluationState
from .model import _SECTION_OF, Conditions, Rule

__all__ = ["condition_masks", "exception_masks", "industry_matches", "missing_texts", "possible"]


def industry_matches(code: str, prefixes: list[str]) -> bool:
    """Whether a site's GB/T 4754-2017 code starts with any of ``prefixes``.

    A prefix with a section letter ('C', 'C26') needs the site's section to be that letter;
    a digits-only prefix ('26', '2614') compares digits only.  A site code without a letter
    ('2614') gets its section from the major division, so 'C' matches it too.

    Parameters
    ----------
    code : str
        The site's industry code.
    prefixes : list of str
        Code prefixes of a rule's ``industry`` condition.

    Returns
    -------
    bool
    """
    code = "".join(code.split()).upper()
    if code and code[0].isalpha():
        letter, digits = code[0], code[1:]
    else:
        digits = code
        letter = _SECTION_OF.get(int(digits[:2]), "") if digits[:2].isdigit() else ""
    for p in prefixes:
        if p[0].isalpha():
            if letter == p[0] and digits.startswith(p[1:]):
                return True
        elif digits.startswith(p):
            return True
    return False


#: The JSON key of each alternatives list seen, by its id; each entry holds the list itself,
#: so that the id cannot be reused by another list while the entry lives.
_KEYS: dict[int, tuple[list[Conditions], str]] = {}
_KEYS_MAX = 20_000


def _alternatives_key(alts: list[Conditions]) -> str:
    """The JSON of a list of alternatives (worked out once per list: a rule's ``when`` and
    ``unless`` are read hundreds of times per screening)."""
    hit = _KEYS.get(id(alts))
    if hit is not None and hit[0] is alts:
        return hit[1]
    key = json.dumps([c.model_dump(mode="json") for c in alts], sort_keys=True)
    if len(_KEYS) >= _KEYS_MAX:
        _KEYS.clear()
    _KEYS[id(alts)] = (alts, key)
    return key


def condition_masks(
    state: EvaluationState, alts: list[Conditions]
) -> tuple[np.ndarray, np.ndarray]:
    """Per site: (holds, fails) of a list of alternatives; neither = undecided.

    Parameters
    ----------
    state : EvaluationState
    alts : list of Conditions
        Alternatives (any may hold); an empty list always holds.

    Returns
    -------
    (holds, fails) : two bool arrays of length ``state.n_sites``
    """
    key = _alternatives_key(alts)
    hit = state.condition_cache.get(key)
    if hit is not None:
        return hit
    n = state.n_sites
    if not alts:
        out = (np.ones(n, dtype=bool), np.zeros(n, dtype=bool))
    else:
        any_true = np.zeros(n, dtype=bool)
        all_false = np.ones(n, dtype=bool)
        for c in alts:
            t = np.ones(n, dtype=bool)
            f = np.zeros(n, dtype=bool)
            for k in c.keys():
                kt, kf = _key_masks(state, k, getattr(c, k))
                t &= kt
                f |= kf
            any_true |= t
            all_false &= f
        out = (any_true, all_false & ~any_true)
    state.condition_cache[key] = out
    return out


def _key_masks(state: EvaluationState, key: str, value: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per site: (holds, fails) of one condition key."""
    known = state.sites_known[key]
    if key == "industry":
        match_u = np.array(
            [industry_matches(str(u), value) for u in state.sites_industry_values], dtype=bool
        )
        m = np.zeros(state.n_sites, dtype=bool)
        m[known] = match_u[state.sites_industry_code[known]]
    elif key == "nature":
        match_u = np.array([str(u).strip().lower() in value for u in state.sites_nature_values])
        m = np.zeros(state.n_sites, dtype=bool)
        m[known] = match_u.astype(bool)[state.sites_nature_code[known]]
    elif key in state.sites_choice_code:
        # any of the listed values (facility: any facility declared is listed)
        wanted = frozenset(value)
        match_u = np.array([bool(v & wanted) for v in state.sites_choice_values[key]], dtype=bool)
        m = np.zeros(state.n_sites, dtype=bool)
        m[known] = match_u[state.sites_choice_code[key][known]]
    else:
        m = state.sites_flag[key] == value
    return known & m, known & ~m


def exception_masks(state: EvaluationState, rule: Rule) -> tuple[np.ndarray, np.ndarray]:
    """Per site: (granted, refused) for the rule's ``unless``; neither = undeclared.

    Parameters
    ----------
    state : EvaluationState
    rule : Rule
        The rule whose ``unless`` is tested (none: never granted).

    Returns
    -------
    (granted, refused) : two bool arrays of length ``state.n_sites``
    """
    if not rule.unless:
        return np.zeros(state.n_sites, dtype=bool), np.ones(state.n_sites, dtype=bool)
    return condition_masks(state, rule.unless)


def possible(state: EvaluationState, rule: Rule) -> np.ndarray:
    """Per site: the rule could apply (its conditions are not known to fail).

    Parameters
    ----------
    state : EvaluationState
    rule : Rule
        The rule whose ``when`` must not fail and whose ``unless`` must not be granted.

    Returns
    -------
    ndarray of bool, length ``state.n_sites``
    """
    _, wf = condition_masks(state, rule.when)
    granted, _ = exception_masks(state, rule)
    return ~wf & ~granted


def missing_texts(
    state: EvaluationState, site: np.ndarray, attrs: list[str], fmt: Callable[[list[str]], str]
) -> np.ndarray:
    """Per row: ``fmt(missing attributes of that row's site)``, grouped by pattern.

    Parameters
    ----------
    state : EvaluationState
    site : ndarray of int
        The site of each row.
    attrs : list of str
        The attributes to check, in the order ``fmt`` gets them.
    fmt : callable
        Words a list of undeclared attributes.

    Returns
    -------
    ndarray of object, one text per row
    """
    bits = np.zeros(len(site), dtype=np.int64)
    for i, a in enumerate(attrs):
        bits |= (~state.sites_known[a][site]).astype(np.int64) << i
    uniq, inv = np.unique(bits, return_inverse=True)
    table = np.array(
        [fmt([a for i, a in enumerate(attrs) if (u >> i) & 1]) for u in uniq], dtype=object
    )
    return table[inv]
