"""What to do next about a site: next steps, "declare X to decide rule Y" lines, what to do
about missing or short-searched layers, why a site is unknown, and boundary warnings.

Every function reads the reason rows of :func:`zoning.report.context._reason_rows` and the
lookups of :mod:`zoning.report.context`; the texts are bilingual ``(zh, en)`` pairs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..labels import ATTRIBUTE_LABELS
from ..rules import DIMENSIONS as _DIMENSIONS
from ..rules.messages import conditional_texts
from .context import (
    _Catalog,
    _LayerState,
    _reason_rows,
    _Rules,
    _search_radius,
)
from .format import as_str, fmt_m, is_missing, verdict_key
from .selection import (
    _group,
)

#: What to do about a rule that carries no next step of its own, by its verdict; ``{cite}``
#: is the clause (short document name and article), ``{dim_zh}`` / ``{dim_en}`` its dimension.
_FALLBACK_STEPS = {
    "prohibited": (
        "重新选址：{cite}（{dim_zh}）禁止本项目在此建设。",
        "Re-site the project: {cite} ({dim_en}) prohibits it here.",
    ),
    "restricted": (
        "{cite}（{dim_zh}）要求本项目专项论证或审批：只有取得该条款要求的审批或论证后方可建设，"
        "请向主管部门确认具体程序。",
        "{cite} ({dim_en}) restricts this project: it may proceed only with the approval or "
        "demonstration that clause requires; confirm the procedure with the competent authority.",
    ),
    "conditional": (
        "满足{cite}（{dim_zh}）的要求后方可建设，并在环评中说明落实情况。",
        "Meet the requirements of {cite} ({dim_en}) before construction and show how in the EIA.",
    ),
    "permitted": (
        "{cite}（{dim_zh}）：按该条款执行。",
        "{cite} ({dim_en}): follow that clause.",
    ),
}


_PROHIBITED_GENERIC = (
    "重新选址：场址触及禁止性要求，原址不能通过准入。",
    "Re-site the project: the site meets a prohibition and cannot pass the access review "
    "where it is.",
)


_PERMITTED_GENERIC = (
    "已筛查图层中未发现约束；仍需按常规程序办理环评与准入审查。",
    "No constraint found in the screened layers; the usual EIA and access-review "
    "procedures still apply.",
)


_UNDECLARED_RE = re.compile(r"\b([a-z_]+(?:, [a-z_]+)*) not declared")


#: The status text of a ``layer_missing`` reason whose layer loaded but was not searched as
#: far as the rule needs (an explicit short ``--search-radius``).
_SHORT_SEARCH = (
    "图层已加载，但距离检索未达到该规则所需的距离：未找到要素不等于没有约束。",
    "The layer loaded, but the distance search stopped short of the distance this rule needs: "
    "nothing found is not the same as no constraint.",
)


def _short_search_texts(
    ids: list[str], state: _LayerState, rules: _Rules
) -> tuple[str, str, str, str]:
    """``(searched zh, searched en, re-run zh, re-run en)`` for rules left undecided because
    the distance search stopped short of their distance."""
    need = max((d for i in ids if (d := rules.distance(i)) is not None), default=None)
    rule = ", ".join(ids)
    if state.radius is not None:
        got_zh = f"只检索到 {fmt_m(state.radius)}（规则 {rule}）"
        got_en = f"searched only to {fmt_m(state.radius)} (rule {rule})"
    else:
        got_zh, got_en = f"检索距离不足（规则 {rule}）", f"not searched far enough (rule {rule})"
    at_least = fmt_m(need) if need is not None else None
    return (
        got_zh,
        got_en,
        f"请不带 --search-radius 或以至少 {at_least or '规则所需距离'} 的搜索半径重新筛查",
        f"re-run without --search-radius or with at least {at_least or 'the rule distance'}",
    )


def _undeclared(rec: dict) -> list[str]:
    """The project attributes of a site that were not declared, in a fixed order."""
    return [a for a in ATTRIBUTE_LABELS if is_missing(rec.get(a))]


def _rule_attributes(r: dict, rec: dict, rules: _Rules) -> tuple[list[str], list[str]]:
    """Undeclared attributes a reason's rule tests: (in its conditions, in its exception).

    From the rule set's rule when there is one; otherwise read from the reason's
    assumptions (``"wastewater not declared ..."``).
    """
    missing = set(_undeclared(rec))
    rule = rules.rule(r["rule_id"])
    if rule is not None:
        when = [a for c in getattr(rule, "when", []) for a in c.keys()]
        unless = [a for c in getattr(rule, "unless", []) for a in c.keys()]
        return (
            list(dict.fromkeys(a for a in when if a in missing)),
            list(dict.fromkeys(a for a in unless if a in missing)),
        )
    found: list[str] = []
    for m in _UNDECLARED_RE.finditer(r["assumptions"] or ""):
        found += [a for a in m.group(1).split(", ") if a in ATTRIBUTE_LABELS and a not in found]
    return (found, []) if r["status"] == "needs_attribute" else ([], found)


def _rule_label(r: dict) -> str:
    """A rule as the advice names it: ``"R12 (长江保护法, 第二十六条)"``."""
    return f"{r['rule_id']} ({r['cite']})" if r["cite"] else r["rule_id"]


def _declare_steps(rows: list[dict], rec: dict, rules: _Rules) -> list[tuple[str, str]]:
    """One "declare X to decide rule Y" line per undeclared attribute some rule needs."""
    decide: dict[str, list[str]] = {}
    exception: dict[str, list[str]] = {}
    other: list[tuple[str, str]] = []
    for r in rows:
        if r["status"] not in ("needs_attribute", "applies"):
            continue
        when, unless = _rule_attributes(r, rec, rules)
        label = _rule_label(r)
        if r["status"] == "needs_attribute":
            for a in when:
                _append_new(decide.setdefault(a, []), label)
            if not when and not unless:
                why = r["assumptions"] or r["message_en"] or ""
                other.append(
                    (
                        f"规则 {label} 无法判定（见原因表中的“假设”）：{why}",
                        f"Rule {label} cannot be decided: {why}",
                    )
                )
        for a in unless:
            _append_new(exception.setdefault(a, []), label)
    out = []
    for a, (lzh, len_, how) in ATTRIBUTE_LABELS.items():
        if a not in decide and a not in exception:
            continue
        zh = f"申报{lzh}（{how}，或在场址文件中填写 {a} 列）"
        en = f"Declare {len_} ({how}, or a {a} column in the sites file)"
        if a in decide:
            zh += f"，以判定规则 {'、'.join(decide[a])}"
            en += f" to decide rule {', '.join(decide[a])}"
        if a in exception:
            zh += f"；规则 {'、'.join(exception[a])} 因此项未申报而未考虑其例外情形"
            en += (
                f"{';' if a in decide else ':'} rule {', '.join(exception[a])} was applied "
                "without its exception, which depends on it"
            )
        out.append((zh + "。", en + "."))
    return out + other


def _append_new(items: list, item: Any) -> None:
    """Append ``item`` unless ``items`` holds it already (the lists keep first-seen order)."""
    if item not in items:
        items.append(item)


@dataclass
class _LayerTrouble:
    """The reasons a site's layers left undecided, grouped by layer in first-seen order.

    ``outside``: layers that do not cover the site; ``short``: layer -> rules its search was
    too short for; ``broken``: ``(layer, "missing" | "failed")`` -> rules it left unchecked.
    A layer is whatever key the caller groups by (an id, or a ``(zh, en)`` title).
    """

    outside: list = field(default_factory=list)
    short: dict = field(default_factory=dict)
    broken: dict = field(default_factory=dict)

    def add(self, layer: Any, r: dict, state: _LayerState) -> bool:
        """Record an ``outside_coverage`` or ``layer_missing`` reason row under ``layer``.

        False (nothing recorded) for a ``layer_missing`` row whose layer loaded: a feature
        value or the search radius is the problem, which the caller words itself.
        """
        if r["status"] == "outside_coverage":
            _append_new(self.outside, layer)
            return True
        load = state.load(r)
        if load == "short":
            _append_new(self.short.setdefault(layer, []), r["rule_id"])
        elif load in ("missing", "failed"):
            _append_new(self.broken.setdefault((layer, load), []), r["rule_id"])
        else:
            return False
        return True


def _layer_steps(rows: list[dict], state: _LayerState, rules: _Rules) -> list[tuple[str, str]]:
    """What to do about layers that are missing, failed, do not cover the site, or were not
    searched as far as a rule needs."""
    trouble = _LayerTrouble()
    out: list[tuple[str, str]] = []
    for r in rows:
        status = r["status"]
        if status in ("outside_coverage", "layer_missing"):
            if not trouble.add((r["layer_zh"], r["layer_en"]), r, state):
                out.append(
                    (
                        f"规则 {_rule_label(r)} 无法检查：{r['message_zh'] or r['message_en']}",
                        f"Rule {_rule_label(r)} cannot be checked: "
                        f"{r['message_en'] or r['message_zh']}",
                    )
                )
        elif status == "no_access_list":
            unit = r["feature"] or "—"
            out.append(
                (
                    f"规则集中没有管控单元 {unit} 的准入清单：请查阅该单元的官方生态环境准入清单。",
                    f"The rule set holds no access list for control unit {unit}: consult the "
                    "unit's official access list (生态环境准入清单).",
                )
            )
    for (zh, en), ids in reversed(trouble.short.items()):
        got_zh, got_en, rerun_zh, rerun_en = _short_search_texts(ids, state, rules)
        out.insert(
            0,
            (
                f"{zh}图层{got_zh}，无法检查：{rerun_zh}。",
                f"The {en} layer was {got_en}, which cannot be checked: {rerun_en}.",
            ),
        )
    for ((zh, en), load), ids in trouble.broken.items():
        what_zh = "缺失" if load == "missing" else "加载失败"
        what_en = "is missing from the catalog" if load == "missing" else "failed to load"
        out.insert(
            0,
            (
                f"{zh}图层{what_zh}：规则 {'、'.join(ids)} 无法检查。补充或修复该图层后重新筛查。",
                f"The {en} layer {what_en}: rule {', '.join(ids)} cannot be checked. Add or "
                "repair the layer and screen again.",
            ),
        )
    if trouble.outside:
        zh = "、".join(t[0] for t in trouble.outside)
        en = "; ".join(t[1] for t in trouble.outside)
        out.insert(
            0,
            (
                f"场址全部或部分位于以下图层的覆盖范围之外：{zh}。范围外的部分没有经过筛查；"
                "请用覆盖该处的权威数据重新筛查（上海市以外的场址须使用所在地的数据）。",
                f"The site lies wholly or partly outside the area these layers cover: {en}. "
                "The part outside was not screened; screen it again with authoritative data "
                "that cover it (for a site outside Shanghai, that place's own data).",
            ),
        )
    return out


def _unknown_text(rows: list[dict], rec: dict, rules: _Rules, state: _LayerState):
    """Why a site is unknown, in one line: what was not declared, which layer is missing or
    failed to load, which layers do not cover it.  ``(zh, en)``, or None without such reasons.
    """
    undeclared: dict[str, list[str]] = {}
    conditions: dict[str, tuple[str, str]] = {}
    trouble = _LayerTrouble()
    other_zh: list[str] = []
    other_en: list[str] = []
    for r in rows:
        if r["verdict"]["key"] != "unknown":
            continue
        status = r["status"]
        layer = r["layer_id"] or r["kind"] or "?"
        if status == "needs_attribute":
            when, unless = _rule_attributes(r, rec, rules)
            rule = rules.rule(r["rule_id"])
            if when and rule is not None and r["rule_id"] not in conditions:
                # the rule as a condition, never as a fact: "applies if ... (not declared)"
                conditions[r["rule_id"]] = conditional_texts(rule.when, when)
            elif when or unless:
                for a in when or unless:
                    _append_new(undeclared.setdefault(a, []), r["rule_id"])
            if not when and not unless:
                other_zh.append(f"规则 {r['rule_id']} 无法判定")
                other_en.append(f"rule {r['rule_id']} undecided ({r['assumptions'] or '—'})")
        elif status in ("outside_coverage", "layer_missing"):
            if not trouble.add(layer, r, state):
                other_zh.append(r["message_zh"] or r["message_en"] or r["rule_id"])
                other_en.append(r["message_en"] or r["message_zh"] or r["rule_id"])
        else:
            other_zh.append(r["message_zh"] or r["status_zh"])
            other_en.append(r["message_en"] or r["status_en"])
    zh: list[str] = [f"{rid} {czh}" for rid, (czh, _) in conditions.items()]
    en: list[str] = [f"{rid} {cen}" for rid, (_, cen) in conditions.items()]
    if undeclared:
        zh.append(
            "未申报 " + "、".join(f"{a}（规则 {', '.join(ids)}）" for a, ids in undeclared.items())
        )
        en.append(
            "not declared: "
            + "; ".join(f"{a} (rule {', '.join(ids)})" for a, ids in undeclared.items())
        )
    for (layer, load), ids in trouble.broken.items():
        what = "缺失" if load == "missing" else "加载失败"
        zh.append(f"图层 {layer} {what}（规则 {', '.join(ids)}）")
        en.append(
            f"layer {layer} {'missing' if load == 'missing' else 'failed to load'} "
            f"(rule {', '.join(ids)})"
        )
    for layer, ids in trouble.short.items():
        got_zh, got_en, rerun_zh, rerun_en = _short_search_texts(ids, state, rules)
        zh.append(f"图层 {layer} {got_zh}；{rerun_zh}")
        en.append(f"layer {layer} {got_en}; {rerun_en}")
    if trouble.outside:
        zh.append(f"位于图层 {', '.join(trouble.outside)} 的覆盖范围之外（范围外未筛查）")
        en.append(f"outside the coverage of {', '.join(trouble.outside)} (not screened there)")
    zh += other_zh
    en += other_en
    if not en:
        return None
    return "无法判定：" + "；".join(zh), "undecided: " + "; ".join(en)


def unknown_texts(result: Any, positions: Iterable[int]) -> dict[int, tuple[str, str]]:
    """Why each listed site is unknown, in one line per language.

    Parameters
    ----------
    result : ScreeningResult
        A screening (or an object with its ``sites``, ``reasons``, ``layer_summary``,
        ``layers``, ``rule_set`` and ``provenance``).
    positions : iterable of int
        Positions (``iloc``) of the sites to explain; sites whose verdict is not unknown are
        skipped.

    Returns
    -------
    dict
        ``{position: (zh, en)}`` for the listed unknown sites with an explanation: what was not
        declared, which layer is missing or failed to load or was not searched far enough,
        which layers do not cover the site.

    Notes
    -----
    Cost: one pass over the reasons and layer summary of the listed sites.
    """
    return _unknown_texts(result, positions, _Catalog(result.layers), _Rules(result.rule_set))


def _unknown_texts(result: Any, positions: Iterable[int], cat: _Catalog, rules: _Rules):
    """``_unknown_text`` for each listed site whose verdict is unknown, keyed by position."""
    sites = result.sites
    pos = [p for p in positions if verdict_key(sites["verdict"].iat[p]) == "unknown"]
    if not pos:
        return {}
    reasons = _group(result.reasons, set(pos))
    summaries = _group(getattr(result, "layer_summary", None), set(pos))
    radius = _search_radius(result)
    out = {}
    for p in pos:
        rec = sites.iloc[p].to_dict()
        state = _LayerState(summaries.get(p), radius)
        text = _unknown_text(_reason_rows(reasons.get(p), cat, rules), rec, rules, state)
        if text is not None:
            out[p] = text
    return out


def _rule_steps(rows: list[dict]) -> list[tuple[str, str]]:
    """Each applying rule's own next step; a clause-specific line for rules without one."""
    out = []
    for r in rows:
        if r["next_zh"] or r["next_en"]:
            out.append((r["next_zh"], r["next_en"]))
            continue
        level = r["verdict"]["key"]
        if level not in _FALLBACK_STEPS:
            continue
        dim_zh = r["dimension"] if r["dimension"] != "—" else "约束"
        dim_en = _DIMENSIONS.get(r["dimension"], "constraint")
        cite = r["cite"] or r["rule_id"]
        zh, en = _FALLBACK_STEPS[level]
        fill = {"cite": cite, "dim_zh": dim_zh, "dim_en": dim_en}
        out.append((zh.format(**fill), en.format(**fill)))
    return out


def _next_steps(
    rows: list[dict], verdict: str, rec: dict, rules: _Rules, state: _LayerState
) -> tuple[list[dict], tuple[str, str] | None]:
    """The next steps of a site, from the reasons that decide its verdict; and a note.

    A prohibited site gets the steps of its prohibitions only (and the declarations that
    could grant an exception to them): permits and conditions do not matter where the
    project cannot be built.  Otherwise what is undecided comes first (one line per
    undeclared attribute, per broken layer, for the coverage), then every applying rule's
    step, most severe first.  Undecided rules never contribute their own next steps.
    """
    steps: list[dict] = []
    seen: set[tuple] = set()

    def add(lines: Iterable[tuple[str | None, str | None]]) -> None:
        for zh, en in lines:
            if (zh, en) in seen or (zh is None and en is None):
                continue
            seen.add((zh, en))
            steps.append({"zh": zh, "en": en})

    applies = [r for r in rows if r["status"] == "applies"]
    if verdict == "prohibited":
        decisive = [r for r in applies if r["verdict"]["key"] == "prohibited"]
        add(_rule_steps(decisive))
        if not steps:
            add([_PROHIBITED_GENERIC])
        add(_declare_steps(decisive, rec, rules))
        others = len(rows) - len(decisive)
        note = None
        if others:
            note = (
                f"其余 {others} 条原因（需专项论证/审批、有条件或无法判定的规则）"
                "只有在项目可以在此建设时才有意义，不能解除上述禁止；如另行选址，请对新场址重新筛查。",
                f"The other {others} reason{'s' if others != 1 else ''} (restricted, "
                "conditional or undecided rules) would matter only if the project could be built "
                "here; they cannot lift the prohibition. If you re-site it, screen the new site.",
            )
        return steps, note
    add(_declare_steps(rows, rec, rules))
    add(_layer_steps(rows, state, rules))
    add(_rule_steps(applies))
    if not steps:
        if verdict == "unknown":
            add(
                [
                    (
                        "结论未知：请按原因表消除未知项后重新筛查。",
                        "The verdict is unknown: resolve the reasons listed above and screen "
                        "again.",
                    )
                ]
            )
        else:
            add([_PERMITTED_GENERIC])
    return steps, None


def _rules_for(rules: list[Any], rec: dict) -> list[Any]:
    """The rules whose ``when`` can hold for the site's declared nature (all of them when
    none can, or the nature is not declared)."""
    nature = as_str(rec.get("nature"))
    if nature is None:
        return rules
    out = [
        r
        for r in rules
        if not getattr(r, "when", None)
        or any(getattr(c, "nature", None) is None or nature in c.nature for c in r.when)
    ]
    return out or rules


def _boundary_warnings(
    groups: list[dict], cat: _Catalog, rules: _Rules, rec: dict, unc: float
) -> tuple[list[dict], list[dict]]:
    """The site page's boundary-sensitive warnings: ``(near a layer boundary, near a rule
    distance)``.

    Only layers of kinds some rule reads are listed (as the site's ``boundary_sensitive``
    flag counts them): a layer no rule reads, such as ``water``, cannot change the verdict.
    For a kind some ``within`` rule reads (the shoreline), a distance within the layer's
    tolerance plus the site's conversion uncertainty of a rule distance is a band warning —
    whether or not the rule fired — and a feature flagged for that reason alone gives no
    warning of lying near the layer's boundary.
    """
    warnings: list[dict] = []
    bands: list[dict] = []
    could = _boundary_rules(rec)
    for g in groups:
        if not rules.reads(g["kind"]):
            continue
        if could is not None and not any(
            k == g["kind"] or (isinstance(k, tuple) and k[0] == g["kind"]) for k in could
        ):
            continue  # no rule that could apply to this project reads this layer's boundary
        tol = cat.tolerance(g["layer_id"])
        flagged = [f for f in g["features"] if f["boundary_sensitive"]]
        near_boundary = bool(g["boundary_sensitive"])
        within = rules.within.get(g["kind"] or "", []) if tol is not None else []
        if within:
            reach = tol + unc
            thresholds: dict[float, list[Any]] = {}
            for dist, rule in within:
                thresholds.setdefault(dist, []).append(rule)
            found = (g["_distance"], *(f["_distance"] for f in g["features"]))
            dists = sorted(d for d in found if d is not None)
            for limit, limit_rules in sorted(thresholds.items()):
                d = next((d for d in dists if abs(d - limit) <= reach), None)
                if d is None:
                    continue
                ids = [str(r.id) for r in _rules_for(limit_rules, rec)]
                if could is not None:
                    if (g["kind"], float(limit)) not in could:
                        continue
                    ids = [could[(g["kind"], float(limit))]]
                bands.append(
                    {
                        "title_zh": g["title_zh"],
                        "title_en": g["title_en"],
                        "distance": fmt_m(d),
                        "tolerance": fmt_m(tol),
                        "rules": ", ".join(ids),
                        "threshold": fmt_m(limit),
                    }
                )
            near_boundary |= any(
                (d := f["_distance"]) is None or all(abs(d - lim) > reach for lim in thresholds)
                for f in flagged
            )
        else:
            near_boundary |= bool(flagged)
        if could is not None:
            near_boundary = g["kind"] in could
        if near_boundary:
            warnings.append(
                {
                    "title_zh": g["title_zh"],
                    "title_en": g["title_en"],
                    "tolerance": fmt_m(tol) if tol is not None else "not stated",
                    "boundary_distance": fmt_m(g["_boundary_distance"]),
                    "rules": could.get(g["kind"]) if could is not None else None,
                }
            )
    return warnings, bands


def _boundary_rules(rec: dict) -> dict | None:
    """What a site's ``boundary_rules`` says: per kind (or ``(kind, distance)``) the rules a
    shift of that boundary could change; None for a result without the column (every flagged
    layer is then listed)."""
    if "boundary_rules" not in rec:
        return None
    text = as_str(rec.get("boundary_rules")) or ""
    out: dict = {}
    for part in text.split("; "):
        key, _, ids = part.partition(": ")
        if not ids:
            continue
        m = re.fullmatch(r"(\S+) ([0-9.]+) m", key)
        out[(m.group(1), float(m.group(2))) if m else key] = ids
    return out
