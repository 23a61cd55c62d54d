"""The words of the clause table and each site's conclusion (see :mod:`zoning.rules.clauses`).

What a project is, in words, for one condition key (:func:`fact`); what to declare to decide a
clause (:func:`declare`); distances in words; and :func:`clause_conclusions`, a site's
conclusion in the standard wording of an EIA report.  Nothing here touches geometry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..catalog import KINDS
from ..labels import ATTRIBUTE_LABELS, CHOICE_LABELS, NATURE_LABELS
from ..schema import CLAUSE_RESULTS
from .inputs import EvaluationState
from .messages import undeclared
from .model import RuleSet

__all__ = [
    "book_title",
    "clause_conclusions",
    "declare",
    "deferred_texts",
    "distance_text",
    "fact",
    "layer_state_texts",
    "no_feature_texts",
    "rule_distance_text",
]

#: How a yes/no attribute of the project is said, (zh, en) for (true, false).
_FLAG_WORDS = {
    "linear": (
        ("是线性基础设施", "is linear infrastructure"),
        ("不是线性基础设施", "is not linear infrastructure"),
    ),
    "wastewater": (
        ("产生废水", "produces waste water"),
        ("不排放废水", "discharges no waste water"),
    ),
    "air": (
        ("排放大气污染物", "emits air pollutants"),
        ("不排放大气污染物", "emits no air pollutants"),
    ),
    "hazardous": (
        ("涉及危险化学品", "handles hazardous chemicals"),
        ("不涉及危险化学品", "handles no hazardous chemicals"),
    ),
    "two_high": (
        ("属于“两高”项目", "is a 两高 project"),
        ("不属于“两高”项目", "is not a 两高 project"),
    ),
    "key_project": (
        ("属于重大建设项目", "is a listed key project"),
        ("不属于重大建设项目", "is not a listed key project"),
    ),
    "residential_building": (
        ("位于居民楼或商住综合楼内", "is in a residential building"),
        ("不在居民楼内", "is not in a residential building"),
    ),
    "noise": (
        ("排放工业噪声", "emits industrial noise"),
        ("不排放工业噪声", "emits no industrial noise"),
    ),
    "industrial_park_unit": (
        ("仅位于产业园区管控单元", "lies only in industrial-park units"),
        ("位于产业园区管控单元之外", "lies outside industrial-park units"),
    ),
    "chemical_park_unit": (
        ("仅位于化工园区管控单元", "lies only in chemical-park units"),
        ("位于化工园区管控单元之外", "lies outside chemical-park units"),
    ),
}
#: Choice attributes: (zh, en, value labels), from :data:`zoning.labels.CHOICE_LABELS`.
_CHOICES = {code: (zh, en, dict(values)) for code, zh, en, values in CHOICE_LABELS}


# --------------------------------------------------------------------------------- words


def distance_text(d: float) -> str:
    """A distance in words: metres below 1 km, else km with one decimal.

    Parameters
    ----------
    d : float
        Metres.

    Returns
    -------
    str
        '540 m', '2.5 km'.
    """
    return f"{d:.0f} m" if d < 1000 else f"{d / 1000:.1f} km"


def rule_distance_text(d: float) -> str:
    """A rule's distance in words.

    Parameters
    ----------
    d : float
        Metres.

    Returns
    -------
    str
        '1 km', '500 m', '3 km'.
    """
    return f"{d / 1000:g} km" if d >= 1000 else f"{d:g} m"


def no_feature_texts(
    info: Any, where: Mapping[str, Sequence[str]] | None, searched: float | None, dist: float
) -> tuple[str, str]:
    """Why a distance clause does not apply: no feature of its kind was found near the site.

    Parameters
    ----------
    info : KindInfo
        The layer kind (its ``title_zh`` / ``title_en``).
    where : mapping or None
        The clause's feature filter (``stream: [tributary]``), named so that a site near the
        main stream is not told there is no shoreline at all.
    searched : float or None
        How far the overlay searched (m), when known.
    dist : float
        The clause's distance (m).

    Returns
    -------
    (zh, en) : tuple of str
    """
    limit = rule_distance_text(dist)
    which = "; ".join(f"{k}={'/'.join(v)}" for k, v in (where or {}).items())
    which = f"（{which}）" if which else ""
    if searched:
        reach = rule_distance_text(searched)
        return (
            f"{reach} 检索范围内没有{info.title_zh}{which}（本条为 {limit}）",
            f"no {info.title_en}{which} within the {reach} searched (the clause: {limit})",
        )
    return (
        f"检索范围内没有{info.title_zh}{which}（本条为 {limit}）",
        f"no {info.title_en}{which} within the search (the clause: {limit})",
    )


def fact(key: str, value: Any, site_value: Any, holds: bool) -> tuple[str, str]:
    """What the project is, in words, for one condition key.

    Parameters
    ----------
    key : str
        A condition key (``industry``, ``nature``, a flag, a choice attribute).
    value : object
        The condition's value for that key.
    site_value : object
        The project's value.
    holds : bool
        Whether the key holds for the project (the words of a failing key say what the
        clause is about).

    Returns
    -------
    (zh, en) : tuple of str
    """
    if key == "industry":
        codes = "、".join(value)
        zh = f"行业代码 {site_value} " + (f"属于 {codes}" if holds else f"不属于 {codes}")
        en = f"has industry code {site_value}" + (
            f" (in {' or '.join(value)})" if holds else f", not in {' or '.join(value)}"
        )
        return zh, en
    if key == "nature":
        lab = NATURE_LABELS.get(str(site_value), (str(site_value), str(site_value)))[0]
        want = "、".join(NATURE_LABELS.get(v, (v, v))[0] for v in value)
        zh = f"建设性质为{lab}" + ("" if holds else f"（本条针对{want}）")
        en = f"is a {site_value} project" + (
            "" if holds else f" (the clause is on {', '.join(value)})"
        )
        return zh, en
    if isinstance(value, bool):
        words = _FLAG_WORDS.get(key)
        truth = bool(site_value)
        if words is None:
            return f"{key}={str(truth).lower()}", f"{key} is {str(truth).lower()}"
        return words[0 if truth else 1]
    zh_label, en_label, words = _CHOICES.get(key, (key, key, {}))
    wanted = value if isinstance(value, list) else [value]
    has = sorted(site_value) if isinstance(site_value, frozenset | set) else [site_value]
    has_zh = "、".join(words.get(str(v), (str(v), str(v)))[0] for v in has)
    has_en = ", ".join(words.get(str(v), (str(v), str(v)))[1] for v in has)
    want_zh = "、".join(words.get(str(v), (str(v), str(v)))[0] for v in wanted)
    want_en = ", ".join(words.get(str(v), (str(v), str(v)))[1] for v in wanted)
    zh = f"{zh_label}为{has_zh}" + ("" if holds else f"（本条针对{want_zh}）")
    en = f"has {en_label}: {has_en}" + ("" if holds else f" (the clause is on {want_en})")
    return zh, en


def declare(attrs: list[str]) -> tuple[str, str]:
    """What to declare to decide a clause.

    Parameters
    ----------
    attrs : list of str
        The undeclared attributes.

    Returns
    -------
    (zh, en) : tuple of str
        '无法判定：需申报…' and 'cannot be decided: … not declared (declare …)'.
    """
    zh = "、".join(
        f"{ATTRIBUTE_LABELS[a][0]}（{ATTRIBUTE_LABELS[a][2]}）" if a in ATTRIBUTE_LABELS else a
        for a in attrs
    )
    en = "; ".join(undeclared(a) if a in ATTRIBUTE_LABELS else f"{a} not declared" for a in attrs)
    return f"无法判定：需申报{zh}", f"cannot be decided: {en}"


def deferred_texts(rule_set: RuleSet, kind: str) -> tuple[str, str]:
    """(zh, en) of why a ``defer_inside`` rule does not apply to a site wholly inside a layer
    of ``kind``: the special law decides there ("依照法律法规执行").

    Parameters
    ----------
    rule_set : RuleSet
    kind : str
        The kind the rule defers to.

    Returns
    -------
    tuple of str
        Naming the rules of that kind: ``prefix.*`` where every rule of a prefix is on
        ``kind``, else the rule ids.
    """
    info = KINDS[kind]
    on_kind = [r.id for r in rule_set.rules if r.applies_to and r.applies_to.kind == kind]
    prefixes: dict[str, bool] = {}
    for r in rule_set.rules:
        p = r.id.split(".", 1)[0]
        on = r.applies_to is not None and r.applies_to.kind == kind
        prefixes[p] = prefixes.get(p, True) and on
    named = list(
        dict.fromkeys(
            f"{r.split('.', 1)[0]}.*" if prefixes[r.split(".", 1)[0]] else r for r in on_kind
        )
    )
    zh_rules = "、".join(named) or f"{info.title_zh}的规则"
    en_rules = ", ".join(named) or f"the {kind} rules"
    return (
        f"依照法律法规执行：项目位于{info.title_zh}内，由该专门法规的规则决定（见 {zh_rules}）",
        f"the special law decides (依照法律法规执行): the site lies in the {info.title_en}, "
        f"whose own rules decide (see {en_rules})",
    )


def layer_state_texts(
    state: EvaluationState, kind: str, info: Any, site: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(zh, en) per site of why the layers of ``kind`` do not decide a clause there.

    Parameters
    ----------
    state : EvaluationState
    kind : str
        The layer kind.
    info : KindInfo
        The kind's titles (:data:`zoning.catalog.KINDS`).
    site : ndarray of int
        The sites.

    Returns
    -------
    (zh, en) : two object arrays, one text per site
    """
    if not len(site):
        return np.zeros(0, dtype=object), np.zeros(0, dtype=object)
    rows = state.summary_rows(kind)
    bad = state.summary_status[rows] != "ok"
    # the first row that is not ``ok`` of each site (None: it has none)
    b_site, b_status = state.summary_site[rows][bad], state.summary_status[rows][bad]
    uniq, first = np.unique(b_site, return_index=True)
    site = np.asarray(site, dtype=np.int64)
    pos = np.minimum(np.searchsorted(uniq, site), max(len(uniq) - 1, 0))
    found = (uniq[pos] == site) if len(uniq) else np.zeros(len(site), dtype=bool)
    status = np.full(len(site), None, dtype=object)
    status[found] = b_status[first[pos[found]]]
    words = {
        "outside_coverage": (
            f"项目位于{info.title_zh}图层覆盖范围之外",
            f"the site lies outside the coverage of the {kind} layer",
        ),
        "failed": (f"{info.title_zh}图层加载失败", f"the {kind} layer failed to load"),
        "missing": (f"{info.title_zh}图层缺失", f"the {kind} layer is missing"),
    }
    default = (f"{info.title_zh}图层不可用", f"the {kind} layer is not usable")
    zh = np.array([f"无法判定：{words.get(x, default)[0]}" for x in status], dtype=object)
    en = np.array([f"cannot be decided: {words.get(x, default)[1]}" for x in status], dtype=object)
    return zh, en


# --------------------------------------------------------------------------------- conclusions


def _cite_list(rule_set: RuleSet, rule_ids: Sequence[str]) -> tuple[str, str]:
    """(zh, en) of clauses grouped by document: '《水污染防治法》第六十四条、第六十五条'."""
    by_doc: dict[str, list[str]] = {}
    for rid in rule_ids:
        c = rule_set.rule(rid).citation
        label = rule_set.documents[c.document].label
        arts = by_doc.setdefault(label, [])
        if c.article not in arts:
            arts.append(c.article)
    zh = "、".join(f"{book_title(d)}{'、'.join(a)}" for d, a in by_doc.items())
    en = "; ".join(f"{d} {', '.join(a)}" for d, a in by_doc.items())
    return zh, en


def book_title(label: str) -> str:
    """A document's name as a citation writes it: 《水污染防治法》, but a document number
    (自然资发〔2022〕142号, whose label is its number) without 书名号.

    Parameters
    ----------
    label : str
        The document's :attr:`~zoning.rules.model.Document.label`.

    Returns
    -------
    str
    """
    return label if "〔" in label and label.endswith("号") else f"《{label}》"


def _few(items: list[str], sep: str, more: str, k: int = 3) -> str:
    """The first ``k`` items joined, with a count of the rest."""
    return sep.join(items[:k]) + (more.format(len(items) - k) if len(items) > k else "")


def clause_conclusions(
    rule_set: RuleSet, clauses: pd.DataFrame, reasons: pd.DataFrame, n_sites: int
) -> pd.DataFrame:
    """Each site's conclusion in the standard wording of an EIA report.

    Parameters
    ----------
    rule_set : RuleSet
        The rule set of the clauses (for documents and articles).
    clauses : DataFrame
        A clause table (:func:`clause_table`).
    reasons : DataFrame
        The reasons frame: its undecided reasons without a rule (a layer not covering the
        site, a control unit without a list) also leave a site undecided.
    n_sites : int
        The number of sites (positions 0..n_sites-1).

    Returns
    -------
    DataFrame
        Columns ``site``, ``conclusion_zh``, ``conclusion_en``, one row per site:
        "项目选址不符合《…》第X条的要求（规则 …）" when a clause is violated; else
        "项目选址是否符合……尚无法判定：需申报…" when one is undecided (or a reason without a
        rule is); else "项目选址符合《…》等已编码条款的要求" (naming the clauses that need a
        further demonstration or approval).
    """
    csite = clauses["site"].to_numpy(dtype=np.int64)
    result = clauses["result"].to_numpy(dtype=object)
    rid = clauses["rule_id"].to_numpy(dtype=object)
    expl = clauses["explanation_zh"].to_numpy(dtype=object)
    expl_en = clauses["explanation_en"].to_numpy(dtype=object)
    per: dict[str, dict[int, list[int]]] = {r: {} for r in CLAUSE_RESULTS}
    for i, (s, r) in enumerate(zip(csite, result, strict=True)):
        per[r].setdefault(int(s), []).append(i)
    loose: dict[int, list[tuple[str, str]]] = {}
    if len(reasons):
        rr = reasons[reasons["rule_id"].isna() & (reasons["status"] != "applies")]
        for s, z, e in zip(rr["site"], rr["message_zh"], rr["message_en"], strict=True):
            pair = (str(z), str(e))
            lst = loose.setdefault(int(s), [])
            if pair not in lst:
                lst.append(pair)
    zh_out = np.empty(n_sites, dtype=object)
    en_out = np.empty(n_sites, dtype=object)
    cache: dict[tuple, tuple[str, str]] = {}
    for s in range(n_sites):
        bad = per["violates"].get(s)
        und = per["undecided"].get(s)
        if bad:
            key: tuple = ("v", tuple(dict.fromkeys(rid[bad])))
        elif und or s in loose:
            texts = [(expl[i], expl_en[i]) for i in und or []] + loose.get(s, [])
            key = ("u", tuple(dict.fromkeys(texts)))
        else:
            applied = [i for r in ("complies", "needs_review") for i in per[r].get(s, [])]
            review = per["needs_review"].get(s, [])
            key = ("c", tuple(dict.fromkeys(rid[sorted(applied)])), tuple(rid[review]))
        if key not in cache:
            cache[key] = _conclusion(rule_set, key)
        zh_out[s], en_out[s] = cache[key]
    return pd.DataFrame(
        {
            "site": np.arange(n_sites, dtype=np.int64),
            "conclusion_zh": zh_out,
            "conclusion_en": en_out,
        }
    )


def _conclusion(rule_set: RuleSet, key: tuple) -> tuple[str, str]:
    """The (zh, en) conclusion of one pattern of clause results."""
    if key[0] == "v":
        zh, en = _cite_list(rule_set, list(key[1]))
        ids = "、".join(key[1])
        tail = "" if zh.endswith("要求") else "的要求"
        return (
            f"项目选址不符合{zh}{tail}（规则 {ids}）",
            f"The site does not comply with {en} (rules {', '.join(key[1])})",
        )
    if key[0] == "u":
        texts = [t[0].removeprefix("无法判定：") for t in key[1]]
        texts_en = [t[1].removeprefix("cannot be decided: ") for t in key[1]]
        return (
            "项目选址是否符合相关要求尚无法判定："
            + _few(list(dict.fromkeys(texts)), "；", "；等另 {} 项"),
            "Whether the site complies cannot be decided yet: "
            + _few(list(dict.fromkeys(texts_en)), "; ", "; and {} more"),
        )
    applied, review = list(key[1]), list(key[2])
    if not applied:
        return (
            "未发现适用于本项目选址的已编码条款（限于已编码的规则与图层）",
            "No coded clause applies to the site (within the coded rules and layers)",
        )
    docs = list(
        dict.fromkeys(rule_set.documents[rule_set.rule(r).citation.document].label for r in applied)
    )
    zh = "项目选址符合" + _few([book_title(d) for d in docs], "", "等") + "已编码条款的要求"
    en = "The site complies with the coded clauses of " + _few(docs, ", ", " and {} more")
    if review:
        rz, re_ = _cite_list(rule_set, review)
        zh += f"；其中{rz}须开展专项论证或审批"
        en += f"; {re_} need a dedicated demonstration or approval"
    return zh + "（限于已编码的规则与图层）", en + " (within the coded rules and layers)"
