"""The models of the report's pages: a site's row in the index, its page (constraint table,
reasons, attributes, next steps, warnings) and the ranking of alternatives.

Page models are plain dicts of formatted strings; the templates only escape and lay them out.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import quote

import pandas as pd

from ..labels import (
    ATTRIBUTE_LABELS,
    CHOICE_LABELS,
    FLAG_LABELS,
    LAYER_STATUS_LABELS,
    NATURE_LABELS,
)
from .advice import _SHORT_SEARCH, _boundary_warnings, _next_steps, _undeclared
from .context import (
    _Catalog,
    _LayerState,
    _reason_rows,
    _Rules,
)
from .format import (
    DECIDED_BY,
    _ring,
    _verdict_model,
    as_bool,
    as_float,
    as_str,
    fmt_area,
    fmt_ha,
    fmt_m,
    fmt_number,
    fmt_share,
)
from .selection import (
    top_reasons,
)


def _site_row(
    pos: int, rec: dict, page: str | None, top: dict | None, unknown: tuple | None = None
) -> dict:
    """A site's row in the index table; an unknown site shows why it is unknown."""
    if unknown is not None:  # why the site is unknown says more than one rule's message
        top = {"message_zh": unknown[0], "message_en": unknown[1], "citation": None}
    return {
        "pos": pos,
        "site_id": as_str(rec.get("site_id")) or f"#{pos}",
        "name": as_str(rec.get("name")),
        "verdict": _verdict_model(rec.get("verdict")),
        "n_constraints": fmt_number(rec.get("n_constraints")),
        "overlap": fmt_area(rec.get("overlap_m2_total")),
        "nearest": fmt_m(rec.get("nearest_m")),
        "boundary_sensitive": bool(as_bool(rec.get("boundary_sensitive"))),
        "href": None if page is None else "sites/" + quote(page),
        "top_zh": as_str(top.get("message_zh")) if top else None,
        "top_en": as_str(top.get("message_en")) if top else None,
        "top_citation": as_str(top.get("citation")) if top else None,
    }


def _feature_name(rec: dict) -> tuple[str | None, str | None]:
    """``(name, English name)`` of a hit's feature (its id when it has no name)."""
    name = as_str(rec.get("name"))
    name_en = as_str(rec.get("name_en"))
    fid = as_str(rec.get("feature_id"))
    return name or name_en or fid, name_en if name else None


def _constraint_groups(summary: list[dict] | None, hits: list[dict] | None, cat: _Catalog):
    """Per-layer rows of the site's constraint table, each with its feature rows."""
    hit_by_layer: dict[str, list[dict]] = {}
    if hits:
        for rec in hits:
            hit_by_layer.setdefault(as_str(rec.get("layer_id")) or "", []).append(rec)
    groups = []
    seen: set[str] = set()
    for rec in summary or []:
        lid = as_str(rec.get("layer_id"))
        seen.add(lid or "")
        feats = hit_by_layer.get(lid or "", []) if lid else []
        groups.append(_constraint_group(rec, feats, cat))
    for lid, feats in hit_by_layer.items():  # hits whose layer has no summary row
        if lid not in seen:
            first = feats[0]
            rec = {"layer_id": lid or None, "kind": first.get("kind"), "status": "ok"}
            groups.append(_constraint_group(rec, feats, cat))

    def key(g: dict) -> tuple:
        dist = g["_distance"]
        return (
            0 if g["hit"] else 1 if dist is not None else 2 if g["status_key"] == "ok" else 3,
            dist if dist is not None else math.inf,
        )

    groups.sort(key=key)
    return groups


def _constraint_group(rec: dict, feats: list[dict], cat: _Catalog) -> dict:
    """One layer's group in the constraint table: what the layer gave, its measures and features."""
    zh, en = cat.title(rec.get("layer_id"), rec.get("kind"))
    status = as_str(rec.get("status")) or "ok"
    hit = bool(as_bool(rec.get("hit")))
    dist = as_float(rec.get("distance_m"))
    if status not in ("ok", "outside_coverage"):
        res_zh, res_en = LAYER_STATUS_LABELS.get(status, (status, status))
    elif hit:
        res_zh, res_en = "相交", "overlaps"
    elif dist == 0:
        res_zh, res_en = "相接（未占用）", "touches (not occupied)"
    elif dist is not None:
        res_zh, res_en = "邻近", "nearby"
    elif status == "outside_coverage":
        res_zh, res_en = LAYER_STATUS_LABELS[status]
    else:
        res_zh, res_en = "未涉及", "clear"
    if status == "outside_coverage" and (hit or dist is not None):
        # measured on the part inside the coverage; the part outside was not screened
        res_zh += "（场址部分位于覆盖范围外）"
        res_en += " (site partly outside the coverage)"
    nearest = as_str(rec.get("nearest_feature_id"))
    if nearest and feats:
        for f in feats:
            if as_str(f.get("feature_id")) == nearest:
                nearest = _feature_name(f)[0]
                break
    return {
        "layer_id": as_str(rec.get("layer_id")),
        "kind": as_str(rec.get("kind"))
        or next((k for f in feats if (k := as_str(f.get("kind"))) is not None), None),
        "title_zh": zh,
        "title_en": en,
        "status_key": status,
        "result_zh": res_zh,
        "result_en": res_en,
        "hit": hit,
        "nearest": nearest,
        **_measures(rec),
        "features": _feature_rows(feats),
        "_distance": dist,
        "_boundary_distance": min(
            (d for f in feats if (d := as_float(f.get("boundary_distance_m"))) is not None),
            default=None,
        ),
    }


def _feature_rows(feats: list[dict]) -> list[dict]:
    """The feature rows of a layer's group in the constraint table, nearest first."""
    features = []
    for f in sorted(feats, key=lambda f: as_float(f.get("distance_m")) or 0.0):
        name, name_en = _feature_name(f)
        features.append(
            {
                "name": name or "—",
                "name_en": name_en,
                "feature_id": as_str(f.get("feature_id")),
                "relation": as_str(f.get("relation")),
                **_measures(f),
                "share_of_feature": fmt_share(f.get("share_of_feature")),
                "verdict": _verdict_model(f["verdict"]) if as_str(f.get("verdict")) else None,
                "_distance": as_float(f.get("distance_m")),
            }
        )
    return features


def _measures(rec: dict) -> dict[str, Any]:
    """The measured values of a layer summary row or a hit, as the constraint table shows them."""
    return {
        "overlap": fmt_area(rec.get("overlap_m2")),
        "ha": fmt_ha(rec.get("overlap_m2")),
        "share_of_site": fmt_share(rec.get("share_of_site")),
        "length": fmt_m(rec.get("overlap_length_m")),
        "distance": fmt_m(rec.get("distance_m")),
        "ring": _ring(rec.get("ring_m")),
        "boundary_sensitive": bool(as_bool(rec.get("boundary_sensitive"))),
    }


def _attributes(rec: dict) -> list[dict]:
    """The project attributes of a site as its page lists them (declared, derived or not)."""
    nd = ("未申报", "not declared")
    rows = []

    def add(zh: str, en: str, value: tuple[str, str] | str | None, note: str | None = None):
        if value is None:
            value = nd
        if isinstance(value, str):
            value = (value, value)
        rows.append({"label_zh": zh, "label_en": en, "zh": value[0], "en": value[1], "note": note})

    industry = as_str(rec.get("industry"))
    division = as_str(rec.get("industry_division"))
    add(
        "行业代码（GB/T 4754-2017）",
        "industry code (GB/T 4754-2017)",
        industry,
        f"major division {division}" if industry and division else None,
    )
    nature = as_str(rec.get("nature"))
    add("建设性质", "nature", NATURE_LABELS.get(nature, nature) if nature else None)
    for col, zh, en in FLAG_LABELS:
        val = as_bool(rec.get(col))
        note = None
        if col in ("two_high", "linear") and val is not None:
            src = as_str(rec.get(f"{col}_source"))
            derived = (
                "derived from the industry code"
                if col == "two_high"
                else "derived from the geometry (a line site)"
            )
            note = {"derived": derived, "declared": "declared"}.get(src or "", src)
        add(zh, en, None if val is None else (("是", "yes") if val else ("否", "no")), note)
    for col, zh, en, words in CHOICE_LABELS:
        text = as_str(rec.get(col))
        if text is None:
            add(zh, en, None)
            continue
        pairs = [words.get(code, (code, code)) for code in text.split(";")]
        add(zh, en, ("、".join(p[0] for p in pairs), ", ".join(p[1] for p in pairs)))
    return rows


def _site_context(
    pos: int,
    rec: dict,
    summary: list[dict] | None,
    hits: list[dict] | None,
    reasons: list[dict] | None,
    cat: _Catalog,
    common: dict,
    rules: _Rules,
) -> dict:
    """The context of a site's page: the common context plus the site's own sections."""
    verdict = _verdict_model(rec.get("verdict"))
    groups = _constraint_groups(summary, hits, cat)
    reason_rows = _reason_rows(reasons, cat, rules)
    state = _LayerState(summary, common.get("search_radius_m"))
    for r in reason_rows:
        if r["status"] == "layer_missing" and state.load(r) == "short":
            r["status_zh"], r["status_en"] = _SHORT_SEARCH
    outside = "outside_coverage" in state.status.values() or any(
        r["status"] == "outside_coverage" for r in reason_rows
    )
    next_steps, steps_note = _next_steps(reason_rows, verdict["key"], rec, rules, state)
    input_crs = as_str(rec.get("input_crs"))
    shift = as_float(rec.get("datum_shift_m")) or 0.0
    unc = as_float(rec.get("uncertainty_m")) or 0.0
    warnings, bands = _boundary_warnings(groups, cat, rules, rec, unc)
    site_id = as_str(rec.get("site_id")) or f"#{pos}"
    map_href = common.get("map_href")
    return {
        **common,
        "root": "../",
        "page_title": f"{rec.get('site_id')}",
        "site": {
            "site_id": site_id,
            "name": as_str(rec.get("name")),
            # the interactive map, focused on this site (map.html reads #site=<id>)
            "map_href": f"{map_href}#site={quote(site_id, safe='')}" if map_href else None,
            "boundary_rules": as_str(rec.get("boundary_rules")),
            "verdict": verdict,
            "n_constraints": fmt_number(rec.get("n_constraints")),
            "n_hits": fmt_number(rec.get("n_hits")),
            "overlap": fmt_area(rec.get("overlap_m2_total")),
            "nearest": fmt_m(rec.get("nearest_m")),
            "area": fmt_area(rec.get("area_m2")) if as_float(rec.get("area_m2")) else None,
            "length": fmt_m(rec.get("length_m")) if as_float(rec.get("length_m")) else None,
            "boundary_sensitive": bool(as_bool(rec.get("boundary_sensitive"))),
            "input_crs": input_crs or "—",
            "datum_shift": fmt_m(shift) if shift else None,
            "uncertainty": fmt_m(unc) if unc else None,
        },
        "attributes": _attributes(rec),
        "constraints": groups,
        "reasons": reason_rows,
        "warnings": warnings,
        "bands": bands,
        "outside_coverage": outside,
        "next_steps": next_steps,
        "steps_note": steps_note,
        "site_undeclared": [ATTRIBUTE_LABELS[a][:2] for a in _undeclared(rec)],
    }


def _ranking_rows(
    ranking: pd.DataFrame | None,
    sites: pd.DataFrame,
    pages: dict[int, str],
    reasons: pd.DataFrame | None,
) -> list[dict]:
    """Rows of the ranking section, best first, as ranked (never re-sorted here)."""
    if ranking is None or not len(ranking):
        return []
    ids = sites["site_id"].astype(str).tolist() if "site_id" in sites.columns else []
    position = {}
    for pos, sid in enumerate(ids):
        position.setdefault(sid, pos)
    ranked_pos = [position.get(str(r)) for r in ranking["site_id"]]
    tops = top_reasons(reasons, [p for p in ranked_pos if p is not None])
    rows = []
    for rec, pos in zip(ranking.to_dict("records"), ranked_pos, strict=True):
        top = tops.get(pos) if pos is not None else None
        decided = as_str(rec.get("decided_by")) or ""
        dzh, den = DECIDED_BY.get(decided, (decided, decided))
        page = pages.get(pos) if pos is not None else None
        rows.append(
            {
                "rank": fmt_number(rec.get("rank")),
                "site_id": as_str(rec.get("site_id")) or "—",
                "name": as_str(rec.get("name")),
                "href": None if page is None else "sites/" + quote(page),
                "verdict": _verdict_model(rec.get("verdict")),
                "area": fmt_area(rec.get("constrained_m2")),
                "length": fmt_m(rec.get("constrained_length_m")),
                "nearest": fmt_m(rec.get("nearest_m")),
                "decided_zh": dzh,
                "decided_en": den,
                "boundary_sensitive": bool(as_bool(rec.get("boundary_sensitive"))),
                "top_zh": as_str(top.get("message_zh")) if top else None,
                "top_en": as_str(top.get("message_en")) if top else None,
            }
        )
    return rows
