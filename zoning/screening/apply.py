"""Apply the access-list rules to screened sites, once per *situation*.

:func:`_apply_rules` groups the sites whose rule evaluation is necessarily the same
(:func:`_situations`), runs :func:`zoning.rules.evaluate` on one representative of each, and
gives every site its representative's verdict and top reasons; the full ``reasons`` and
``hits`` tables are built on first access.  No geometry is computed here.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..crs import WORKING_CRS
from ..overlay import OverlayResult
from ..overlay.frames import geo_frame, text_from_codes
from ..overlay.totals import band_sensitive
from ..rules import (
    FLAGS,
    OUTSIDE_TOLERANCE,
    SEVERITY,
    RuleSet,
    evaluate,
    hit_verdicts,
    site_verdicts,
)
from ..rules.messages import conditional_texts
from ..rules.reasons import python_texts
from ..rules.verdicts import VERDICTS, hit_verdict_codes
from ..schema import CHOICE_ATTRIBUTES
from .reach import _within_distances
from .relevance import attribute_codes as _attribute_codes


def _apply_rules(rule_set: RuleSet, gdf: pd.DataFrame, ov: OverlayResult, radius: dict[str, float]):
    """Evaluate the rules once per *situation* and give every site its situation's answer.

    Rules never touch geometry: a site's reasons depend only on its project attributes, its
    coverage status and, per layer, the features it intersects (and, for kinds with a
    ``within`` rule, which feature lies within which rule distance) — see :func:`_situations`.
    Sites in the same situation get the same reasons, so :func:`zoning.rules.evaluate` runs on
    one representative per situation and its rows are repeated for the others (built on first
    access of ``result.reasons``).  Sites whose situation is not simple (several features of
    one layer, several features near a ``within`` rule's layer) are their own representative.

    Notes
    -----
    Cost: O(sites x layers) numpy work for the situations, then the rules on the
    representatives only (a million random points over the demonstration layers fall into a
    few thousand situations).  The answers are those of ``evaluate`` on every site
    (``tests/test_fast_path.py`` checks it).
    """
    n = len(gdf)
    if n == 1:  # one site, one situation
        rep, group = np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64)
    else:
        rep, group = _situations(rule_set, gdf, ov)
    ids = gdf["site_id"].to_numpy(dtype=object)
    tol = {p.layer_id: p.layer.index.tolerance_m for p in ov.passes}
    unc = gdf["uncertainty_m"].to_numpy(dtype=float)
    if len(rep) == n:  # every site is its own situation: the plain path
        reasons = evaluate(
            rule_set, gdf, ov.hits, ov.layer_summary, search_radius_m=radius, tolerance_m=tol
        )
        top = pd.DataFrame(index=range(n))
        _attach_top_reasons(top, reasons, rule_set, gdf)

        def hits_all() -> gpd.GeoDataFrame:
            return _hits_with_verdicts(ov, reasons, None, rule_set, unc)

        return _RulesOutcome(
            verdict=site_verdicts(reasons, n).to_numpy(),
            n_reasons=top["n_reasons"].to_numpy(),
            reasons_en=top["reasons_en"].to_numpy(),
            reasons_zh=top["reasons_zh"].to_numpy(),
            reasons=reasons,
            hits=hits_all,
        )
    rep_sites = gdf.iloc[rep].reset_index(drop=True)
    rep_hits, rep_summary = ov.tables_for(rep)
    try:
        rep_reasons = evaluate(
            rule_set, rep_sites, rep_hits, rep_summary, search_radius_m=radius, tolerance_m=tol
        )
    except ValueError:
        # A project attribute evaluate cannot read: let the full evaluation name the row.
        evaluate(rule_set, gdf, ov.hits, ov.layer_summary, search_radius_m=radius, tolerance_m=tol)
        raise
    top = pd.DataFrame(index=range(len(rep)))
    _attach_top_reasons(top, rep_reasons, rule_set, rep_sites)
    verdict = site_verdicts(rep_reasons, len(rep)).to_numpy()[group]

    def reasons_all() -> pd.DataFrame:
        return _expand_reasons(rep_reasons, len(rep), group, ids)

    def hits_all() -> gpd.GeoDataFrame:
        return _hits_with_verdicts(ov, rep_reasons, group, rule_set, unc)

    return _RulesOutcome(
        verdict=verdict,
        n_reasons=top["n_reasons"].to_numpy()[group],
        reasons_en=top["reasons_en"].to_numpy()[group],
        reasons_zh=top["reasons_zh"].to_numpy()[group],
        reasons=reasons_all,
        hits=hits_all,
    )


def _expand_reasons(
    rep_reasons: pd.DataFrame, n_rep: int, group: np.ndarray, ids: np.ndarray
) -> pd.DataFrame:
    """The reasons of every site: its representative's rows, renumbered, in site order."""
    rsite = rep_reasons["site"].to_numpy(dtype=np.int64)
    counts = np.bincount(rsite, minlength=n_rep)
    starts = np.r_[0, np.cumsum(counts)[:-1]]  # rep_reasons is sorted by site
    per_site = counts[group]
    total = int(per_site.sum())
    out_start = np.cumsum(per_site) - per_site
    site = np.repeat(np.arange(len(group)), per_site)
    take = np.arange(total) - np.repeat(out_start, per_site) + np.repeat(starts[group], per_site)
    frame = rep_reasons.iloc[take].reset_index(drop=True)
    frame["site"] = site
    sid = ids[site] if total else np.empty(0, dtype=object)
    fallback = site.astype(str).astype(object)
    # Held as Python strings, as the representatives' columns (zoning.rules.reasons).
    frame["site_id"] = python_texts(np.where(pd.isna(sid), fallback, sid)) if total else sid
    return frame


def _hits_with_verdicts(
    ov: OverlayResult,
    reasons: pd.DataFrame,
    group: np.ndarray | None,
    rule_set: RuleSet,
    unc: np.ndarray,
) -> gpd.GeoDataFrame:
    """The hits table with ``rule_ids`` and ``verdict`` of the rules each hit triggers.

    With ``group``, ``reasons`` are those of the representatives: each hit is matched on its
    site's representative.  ``boundary_sensitive`` is also set on a feature of a kind with a
    ``within`` rule whose distance lies within the layer's tolerance plus the site's
    uncertainty of a rule distance (see :func:`zoning.overlay.totals.band_sensitive`).
    """
    hits = ov.hits.copy()
    within = _within_distances(rule_set)
    if len(hits) and within:
        tol = {p.layer_id: p.layer.index.tolerance_m for p in ov.passes}
        kinds = hits["kind"].to_numpy(dtype=object)
        sel = np.flatnonzero(np.isin(kinds, list(within)))
        if len(sel):
            band = np.zeros(len(hits), dtype=bool)
            site = hits["site"].to_numpy(dtype=np.int64)[sel]
            dist = hits["distance_m"].to_numpy(dtype=float)[sel]
            t = hits["layer_id"].iloc[sel].map(tol).to_numpy(dtype=float) + unc[site]
            for k in within:
                m = kinds[sel] == k
                band[sel[m]] = band_sensitive(dist[m], t[m], within[k])
            hits["boundary_sensitive"] = hits["boundary_sensitive"].to_numpy(dtype=bool) | band
    if len(hits):
        keys = hits[["site", "layer_id", "feature_id"]]
        if group is not None:
            keys = keys.assign(site=group[hits["site"].to_numpy(dtype=np.int64)])
        codes, joined, top = hit_verdict_codes(reasons, keys)
        found = codes >= 0
        if found.any():
            # Built from the few distinct texts (no Python string per hit), typed as the
            # object arrays of hit_verdicts would be.
            ids = np.r_[joined, np.array([""], dtype=object)]
            hits["rule_ids"] = text_from_codes(ids, np.where(found, codes, len(joined)))
            hits["verdict"] = text_from_codes(
                np.asarray(VERDICTS, dtype=object), np.where(found, top, -1)
            )
        else:
            rule_ids, hverdict = hit_verdicts(reasons, keys)
            hits["rule_ids"] = rule_ids.to_numpy()
            hits["verdict"] = hverdict.to_numpy()
    else:
        hits["rule_ids"] = pd.Series(dtype=object)
        hits["verdict"] = pd.Series(dtype=object)
    return _hits_with_pieces(hits, ov.pieces)


def _situations(rule_set: RuleSet, gdf: pd.DataFrame, ov: OverlayResult):
    """Group the sites whose rule evaluation is necessarily the same.

    A site's situation is: its project attributes (``industry``, ``nature``, the flags and the
    choices ``discharge``, ``red_line_activity``, ``facility``),
    whether it lies outside the coverage, and per layer that loaded: the feature it intersects
    (none or one) and whether it lies wholly inside the layer (``share_of_site`` at least
    ``1 - OUTSIDE_TOLERANCE``, what ``outside`` rules test); for kinds a ``within`` rule reads,
    also the feature of its single touching or nearby row and the band of rule distances its
    distance falls in.  A site with more rows than that in a layer has a situation of its own.

    Returns
    -------
    rep : array of int64
        The representative (first site) of every situation, ascending.
    group : array of int64
        Per site: its situation (an index into ``rep``).
    """
    n = len(gdf)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    within: dict[str, list[float]] = {}
    for rule in rule_set.rules:
        at = rule.applies_to
        if at is not None and at.relation == "within":
            within.setdefault(at.kind, []).append(float(at.distance_m))  # type: ignore[arg-type]
    lone = np.zeros(n, dtype=bool)  # sites that get a situation of their own
    codes: list[tuple[np.ndarray, int]] = [(ov.outside.astype(np.int64), 2)]
    for col in ("industry", "nature", *FLAGS, *CHOICE_ATTRIBUTES):
        if col in gdf.columns:
            c, nu = _attribute_codes(gdf[col])
            codes.append((c + 1, nu + 1))
    unc = gdf["uncertainty_m"].to_numpy(dtype=float) if "uncertainty_m" in gdf.columns else None
    for p in ov.passes:
        m = p.layer.index.n
        if p.layer.kind in within:
            rows = np.arange(len(p.ps))
            bands = np.unique(within[p.layer.kind])
            band = np.searchsorted(bands, p.dist, side="left")  # d <= D_i  <=>  band <= i
            # within the tolerance (plus uncertainty) of a rule distance: a note in the reason,
            # whose text says whether the site has a conversion uncertainty
            u = unc[p.ps] if unc is not None else np.zeros(len(p.ps))
            near = band_sensitive(p.dist, p.layer.index.tolerance_m + u, bands)
            near_code = np.where(near, np.where(u > 0, 2, 1), 0)
            value = ((p.pf * 3 + p.rel) * (len(bands) + 1) + band) * 3 + near_code
            radix = m * 3 * (len(bands) + 1) * 3
        else:
            rows = np.flatnonzero(p.rel == 0)
            value = p.pf
            radix = m
        s = p.ps[rows]
        count = np.bincount(s, minlength=n)
        lone |= count > 1
        code = np.zeros(n, dtype=np.int64)
        one = count[s] == 1
        code[s[one]] = value[rows[one]] + 1
        inside = p.hit & (p.share >= 1.0 - OUTSIDE_TOLERANCE)
        codes.append((code * 2 + inside, (radix + 1) * 2))
    key = np.zeros(n, dtype=np.int64)
    size = 1
    for c, radix in codes:
        if radix == 1:  # one value for every site (an attribute no site gives)
            continue
        if size * radix >= 2**62:
            key = pd.factorize(key)[0].astype(np.int64)
            size = int(key.max()) + 1
        key = key * radix + c
        size *= radix
    key[lone] = -1 - np.flatnonzero(lone)  # distinct, and apart from every other key
    group = pd.factorize(key)[0].astype(np.int64)
    # factorize numbers situations in order of first appearance: the first sites are the
    # representatives, ascending.
    seen = np.r_[-1, np.maximum.accumulate(group)[:-1]]
    rep = np.flatnonzero(group > seen).astype(np.int64)
    return rep, group


def _texts(values: pd.Series) -> np.ndarray:
    """Strings, with missing values (None, NaN, pd.NA) as ``""``; an object array."""
    arr = values.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(arr, skipna=True) in ("string", "empty"):
        # Strings and missing values only: the missing ones become "" (the others are kept).
        out = np.array(arr, dtype=object)
        out[pd.isna(arr)] = ""
        return out
    return np.array(
        ["" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v) for v in arr],
        dtype=object,
    )


def _attach_top_reasons(
    out: pd.DataFrame,
    reasons: pd.DataFrame,
    rule_set: RuleSet | None = None,
    sites: pd.DataFrame | None = None,
) -> None:
    """``n_reasons`` and the (at most three) most severe reasons of each site, as text.

    A reason without a rule (a layer missing, a site outside the coverage, a control unit
    without an access list) is labelled by its layer kind and status instead.  A label counts
    once per site (its first row); the reasons are ranked by severity, in table order among
    equals, and joined with ``" | "``.  With ``rule_set``, a rule left undecided for want of
    a project attribute reads as a condition ("applies if the project ... (not declared:
    ...)", :func:`undecided_messages`) instead of its message, which states the
    requirement as a fact; ``sites`` (by position) says which attributes are missing.
    """
    n = len(out)
    out["n_reasons"] = 0
    out["reasons_en"] = ""
    out["reasons_zh"] = ""
    if not len(reasons):
        return
    rule = _texts(reasons["rule_id"])
    fallback = _texts(reasons["kind"]) + ":" + _texts(reasons["status"])
    label = np.where(rule != "", rule, fallback)
    site = reasons["site"].to_numpy(dtype=np.int64)
    verdict = reasons["verdict"].to_numpy(dtype=object)
    sev = pd.Series(verdict).map(SEVERITY).to_numpy(dtype=np.int64)
    # The first row of each (site, label), then by site and severity (stable).
    code = pd.factorize(label)[0].astype(np.int64)
    key = site * (int(code.max()) + 1) + code
    _, first = np.unique(key, return_index=True)
    keep = np.sort(first)
    order = keep[np.lexsort((-sev[keep], site[keep]))]
    site_o = site[order]
    counts = np.bincount(site_o, minlength=n)
    out["n_reasons"] = counts
    # The first three rows of each site, joined with " | ".
    starts = np.cumsum(counts) - counts
    rank = np.arange(len(order)) - starts[site_o]
    top = order[rank < 3]
    top_site = site[top]
    bounds = np.flatnonzero(np.r_[True, top_site[1:] != top_site[:-1], True])
    head = label[top] + " (" + _texts(reasons["verdict"].iloc[top]) + "): "
    messages = {lang: _texts(reasons[f"message_{lang}"].iloc[top]) for lang in ("en", "zh")}
    if rule_set is not None:
        zh, en = undecided_messages(reasons.iloc[top], rule_set, sites)
        has = zh != ""
        messages["zh"][has] = zh[has]
        messages["en"][has] = en[has]
    for lang in ("en", "zh"):
        parts = (head + messages[lang]).tolist()
        joined = np.full(n, "", dtype=object)
        joined[top_site[bounds[:-1]]] = [
            " | ".join(parts[a:b]) for a, b in itertools.pairwise(bounds)
        ]
        out[f"reasons_{lang}"] = joined


def undecided_messages(
    reasons: pd.DataFrame, rule_set: RuleSet, sites: pd.DataFrame | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per reason row: (zh, en) of a rule undecided for want of project attributes, worded as
    a condition; ``""`` for the other rows.

    Parameters
    ----------
    reasons : pandas.DataFrame
        Reason rows (``site``, ``rule_id``, ``status``).
    rule_set : RuleSet
        The rules (their ``when``).
    sites : pandas.DataFrame, optional
        The sites by position (``site``): the attributes a row's site did not declare.  None:
        every attribute the rule's ``when`` tests counts as undeclared.

    Returns
    -------
    (zh, en) : two numpy.ndarray of object
        ``"如项目…则适用（未声明：…）"`` and ``"applies if the project ... (not declared:
        ...)"`` (:func:`zoning.rules.messages.conditional_texts`).

    Notes
    -----
    Worded once per distinct (rule, undeclared attributes): cheap for millions of rows.
    """
    n = len(reasons)
    zh = np.full(n, "", dtype=object)
    en = np.full(n, "", dtype=object)
    if not n:
        return zh, en
    rows = np.flatnonzero(reasons["status"].to_numpy(dtype=object) == "needs_attribute")
    if not len(rows):
        return zh, en
    rule_ids = _texts(reasons["rule_id"].iloc[rows])
    site = reasons["site"].to_numpy(dtype=np.int64)[rows]
    known_rules = {r.id: r for r in _all_rules(rule_set)}
    bits = np.zeros(len(rows), dtype=np.int64)
    attrs_of: dict[str, list[str]] = {}
    for rid in np.unique(rule_ids):
        rule = known_rules.get(rid)
        if rule is None:
            continue
        attrs = list(dict.fromkeys(a for c in rule.when for a in c.keys()))
        attrs_of[rid] = attrs
        m = rule_ids == rid
        for i, a in enumerate(attrs):
            if sites is None or a not in sites.columns:
                missing = np.ones(int(m.sum()), dtype=bool)
            else:
                missing = pd.isna(sites[a].to_numpy(dtype=object)[site[m]])
            bits[m] |= missing.astype(np.int64) << i
    key = pd.Series(rule_ids).astype(str) + "|" + pd.Series(bits).astype(str)
    codes, uniques = pd.factorize(key)
    texts_zh, texts_en = [], []
    for u in uniques:
        rid, b = u.rsplit("|", 1)
        rule = known_rules.get(rid)
        if rule is None:
            texts_zh.append("")
            texts_en.append("")
            continue
        attrs = attrs_of[rid]
        missing = [a for i, a in enumerate(attrs) if (int(b) >> i) & 1] or attrs
        z, e = conditional_texts(rule.when, missing)
        texts_zh.append(z)
        texts_en.append(e)
    zh[rows] = np.asarray(texts_zh, dtype=object)[codes]
    en[rows] = np.asarray(texts_en, dtype=object)[codes]
    return zh, en


def _all_rules(rule_set: RuleSet) -> list:
    """The rules of a rule set and of its access lists."""
    return [*rule_set.rules, *(r for lst in rule_set.lists for r in lst.rules)]


@dataclass
class _RulesOutcome:
    """Per site: verdict and top reasons; ``reasons`` and ``hits`` as frames or builders."""

    verdict: np.ndarray
    n_reasons: np.ndarray
    reasons_en: np.ndarray
    reasons_zh: np.ndarray
    reasons: Any
    hits: Any


def _hits_with_pieces(hits: pd.DataFrame, pieces: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The hits as a GeoDataFrame whose geometry is the overlap piece of each pair (or None)."""
    geom = np.full(len(hits), None, dtype=object)
    if len(hits) and len(pieces):
        keys = ("site_id", "layer_id", "feature_id")
        p = pd.DataFrame({k: pieces[k].astype(str).to_numpy() for k in keys})
        unique = ~p.duplicated().to_numpy()
        index = pd.MultiIndex.from_frame(p[unique])
        wanted = pd.MultiIndex.from_arrays([hits[k].astype(str).to_numpy() for k in keys])
        pos = index.get_indexer(wanted)
        found = pos >= 0
        geom[found] = pieces.geometry.to_numpy()[unique][pos[found]]
    return geo_frame(hits, geom, WORKING_CRS)
