"""Verdict levels, their severity, and how reasons combine into verdicts.

A reason (one row of the frame :func:`zoning.rules.evaluate` returns, columns
:data:`REASON_COLUMNS`) carries one verdict of :data:`VERDICTS` and one status of
:data:`STATUSES`.  A site's verdict is its most severe reason (:func:`site_verdicts`), a hit's
verdict the most severe reason on that feature (:func:`hit_verdicts`).  Reasons of equal
severity are ordered by specificity tier (:data:`TIER_FEATURE`, :data:`TIER_LIST`,
:data:`TIER_GENERAL`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema import REASON_COLUMNS, SEVERITY, STATUSES, VERDICTS

__all__ = [
    "REASON_COLUMNS",
    "SEVERITY",
    "STATUSES",
    "TIER_FEATURE",
    "TIER_GENERAL",
    "TIER_LIST",
    "VERDICTS",
    "empty_reasons",
    "hit_verdict_codes",
    "hit_verdicts",
    "site_verdicts",
    "undecided_verdict",
]

#: Specificity tiers of reasons of equal severity, most specific first: city-wide rules keyed
#: on a feature the site touches or lies near; access-list clauses (a unit's own list first,
#: then a list before its parent); rules keyed on the site lying outside a layer, and reasons
#: without a rule.
TIER_FEATURE, TIER_LIST, TIER_GENERAL = 0, 1, 2


def undecided_verdict(verdict: str) -> str:
    """The verdict of a reason whose rule cannot be decided for lack of a project attribute.

    ``unknown`` when the rule would restrict or prohibit; a ``conditional`` (or ``permitted``)
    rule that may apply keeps its own level, since the worst it could mean is that level.

    Parameters
    ----------
    verdict : str
        The rule's verdict, one of :data:`VERDICTS`.

    Returns
    -------
    str
        ``'unknown'`` or ``verdict`` itself.
    """
    return "unknown" if SEVERITY[verdict] >= SEVERITY["restricted"] else verdict


def empty_reasons() -> pd.DataFrame:
    """An empty reasons frame: columns :data:`REASON_COLUMNS`, ``site`` as int64.

    Returns
    -------
    DataFrame
    """
    frame = pd.DataFrame({c: pd.Series([], dtype=object) for c in REASON_COLUMNS})
    frame["site"] = frame["site"].astype(np.int64)
    return frame


def site_verdicts(reasons: pd.DataFrame, n_sites: int) -> pd.Series:
    """The overall verdict of each site: its most severe reason, ``permitted`` without one.

    Parameters
    ----------
    reasons : DataFrame
        A reasons frame (at least ``site`` and ``verdict``).
    n_sites : int
        The number of sites (``site`` runs over 0..n_sites-1).

    Returns
    -------
    Series of str, index 0..n_sites-1, name ``verdict``.

    Raises
    ------
    ValueError
        A reason's verdict is not one of :data:`VERDICTS`.
    """
    best = np.zeros(n_sites, dtype=np.int64)
    if len(reasons):
        sev = reasons["verdict"].map(SEVERITY)
        if sev.isna().any():
            bad = sorted(set(reasons.loc[sev.isna(), "verdict"].astype(str)))
            raise ValueError(f"unknown verdict(s) {', '.join(bad)} (known: {', '.join(VERDICTS)})")
        np.maximum.at(best, reasons["site"].to_numpy(dtype=np.int64), sev.to_numpy(np.int64))
    return pd.Series(np.asarray(VERDICTS, dtype=object)[best], name="verdict")


def hit_verdicts(reasons: pd.DataFrame, hits: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Per hit: the ids of the rules it triggers and their most severe verdict.

    Reasons are matched to hits on (``site``, ``layer_id``, ``feature_id``).

    Parameters
    ----------
    reasons : DataFrame
        A reasons frame.
    hits : DataFrame
        The overlay engine's hits (``site``, ``layer_id``, ``feature_id``).

    Returns
    -------
    (rule_ids, verdict) : two Series aligned to ``hits.index``
        ``rule_ids`` joins rule ids with ``"; "`` ("" where no rule); ``verdict`` is NaN where
        no rule.

    Notes
    -----
    Vectorised: one integer key per (site, layer, feature), reasons sorted once and looked up
    with a binary search, so the cost is O((hits + reasons) log reasons).
    """
    codes, joined, top = hit_verdict_codes(reasons, hits)
    rule_ids = np.full(len(hits), "", dtype=object)
    verdict = np.full(len(hits), np.nan, dtype=object)
    found = codes >= 0
    rule_ids[found] = joined[codes[found]]
    verdict[found] = np.asarray(VERDICTS, dtype=object)[top[found]]
    return (
        pd.Series(rule_ids, index=hits.index, name="rule_ids"),
        pd.Series(verdict, index=hits.index, name="verdict"),
    )


def hit_verdict_codes(
    reasons: pd.DataFrame, hits: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`hit_verdicts` as codes: no Python string per hit.

    Parameters
    ----------
    reasons : DataFrame
        A reasons frame.
    hits : DataFrame
        The overlay engine's hits (``site``, ``layer_id``, ``feature_id``).

    Returns
    -------
    (codes, rule_ids, severity) : three arrays
        ``codes`` per hit: a position in ``rule_ids`` (the distinct ``"; "``-joined rule ids,
        object array of str), -1 where no rule; ``severity`` per hit: the position in
        :data:`VERDICTS` of the most severe verdict (meaningless where ``codes`` is -1).
    """
    n = len(hits)
    codes = np.full(n, -1, dtype=np.int64)
    top_hit = np.zeros(n, dtype=np.int64)
    joined = np.empty(0, dtype=object)
    r = reasons[reasons["feature_id"].notna()] if len(reasons) else reasons
    if n and len(r):
        hkey, rkey = _hit_keys(hits, r)
        order = np.argsort(rkey, kind="stable")
        rkey_s = rkey[order]
        ids_s = r["rule_id"].to_numpy(dtype=object)[order]
        sev_s = r["verdict"].map(SEVERITY).to_numpy(dtype=np.int64)[order]
        starts = np.flatnonzero(np.r_[True, rkey_s[1:] != rkey_s[:-1]])
        ukeys = rkey_s[starts]
        top = np.maximum.reduceat(sev_s, starts)
        sizes = np.diff(np.r_[starts, len(rkey_s)])
        joined = np.empty(len(starts), dtype=object)
        single = sizes == 1
        joined[single] = ids_s[starts[single]]
        for j in np.flatnonzero(~single):
            seg = ids_s[starts[j] : starts[j] + sizes[j]]
            joined[j] = "; ".join(dict.fromkeys(str(x) for x in seg if x is not None))
        joined = np.array([x if isinstance(x, str) else "" for x in joined], dtype=object)
        pos = np.searchsorted(ukeys, hkey)
        pos_c = np.minimum(pos, len(ukeys) - 1)
        found = (pos < len(ukeys)) & (ukeys[pos_c] == hkey)
        codes[found] = pos_c[found]
        top_hit[found] = top[pos_c[found]]
    return codes, joined, top_hit


def _hit_keys(hits: pd.DataFrame, reasons: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """One int64 key per (site, layer_id, feature_id) of the hits and of the reasons."""
    n = len(hits)
    layer_codes, _ = pd.factorize(
        pd.concat([hits["layer_id"], reasons["layer_id"]], ignore_index=True).astype(object)
    )
    feat_codes, _ = pd.factorize(
        pd.concat([hits["feature_id"], reasons["feature_id"]], ignore_index=True).astype(str)
    )
    n_l = int(layer_codes.max()) + 2
    n_f = int(feat_codes.max()) + 2
    key = (
        np.concatenate([hits["site"].to_numpy(np.int64), reasons["site"].to_numpy(np.int64)]) * n_l
        + (layer_codes + 1)
    ) * n_f + (feat_codes + 1)
    return key[:n], key[n:]
