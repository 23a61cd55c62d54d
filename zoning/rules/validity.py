"""The rules in force on a day, and the law a rule set applies (for provenance and console).

:meth:`RuleSet.in_force` keeps the rules (city-wide and in lists) whose validity covers the day
(:meth:`RuleSet.validity`: a rule's own ``valid_from`` / ``valid_to``, else its document's days
in force) and drops the overrides naming rules that are not in force; the lists stay.
:meth:`RuleSet.law` is the ``law`` block of a screening's provenance; :func:`in_force_summary`
words it as the one console line.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from ..dates import iso
from ..errors import RulesError, quote
from .crosscheck import compile_rule_set

if TYPE_CHECKING:
    from .model import Rule, RuleSet

__all__ = ["covers", "in_force_summary", "law_block", "rules_in_force"]


def covers(validity: tuple[datetime.date | None, datetime.date | None], day: datetime.date) -> bool:
    """Whether a validity (first and last day, inclusive; None unbounded) covers ``day``.

    Parameters
    ----------
    validity : (date or None, date or None)
    day : datetime.date

    Returns
    -------
    bool
    """
    start, end = validity
    return (start is None or start <= day) and (end is None or day <= end)


def rules_in_force(rs: RuleSet, as_of: datetime.date) -> RuleSet:
    """The view of the whole rule set ``rs`` holding the rules in force on ``as_of``.

    Parameters
    ----------
    rs : RuleSet
        A whole rule set (not a view).
    as_of : datetime.date

    Returns
    -------
    RuleSet
        See :meth:`RuleSet.in_force`.

    Raises
    ------
    RulesError
        No rule is in force on ``as_of``.
    """
    if isinstance(as_of, datetime.datetime) or not isinstance(as_of, datetime.date):
        raise TypeError(f"as_of must be a datetime.date, not {quote(as_of)}")
    c = rs._c
    keep = {rule_id for rule_id, validity in c.validity.items() if covers(validity, as_of)}
    if not keep:
        raise RulesError(
            f"{rs._source}: no rule of rule set {quote(rs.id)} is in force on {as_of} ({_span(rs)})"
        )

    def kept(rules: list[Rule]) -> list[Rule]:
        out = []
        for rule in rules:
            if rule.id not in keep:
                continue
            if any(o not in keep for o in rule.overrides):
                rule = rule.model_copy(
                    update={"overrides": [o for o in rule.overrides if o in keep]}
                )
            out.append(rule)
        return out

    lists = [lst.model_copy(update={"rules": kept(lst.rules)}) for lst in rs.lists]
    view = rs.model_copy(update={"rules": kept(rs.rules), "lists": lists})
    view._source, view._path = rs._source, rs._path
    view._origin, view._as_of = rs, as_of
    view._compiled = compile_rule_set(view, rs._source)
    return view


def _span(rs: RuleSet) -> str:
    """The days some rule is in force, in words."""
    starts = [s for s, _ in rs._c.validity.values()]
    ends = [e for _, e in rs._c.validity.values()]
    first = None if None in starts else min(starts)  # type: ignore[type-var]
    last = None if None in ends else max(ends)  # type: ignore[type-var]
    return f"its rules are in force from {first or 'ever'} to {last or 'now'}"


def law_block(rs: RuleSet) -> dict[str, Any]:
    """The ``law`` block of a screening's provenance (see :meth:`RuleSet.law`).

    Parameters
    ----------
    rs : RuleSet
        A whole rule set or a view made by :meth:`RuleSet.in_force`.

    Returns
    -------
    dict
    """
    c = rs._c
    rules = list(c.by_id.values())
    used = {r.citation.document for r in rules}
    documents = []
    for doc_id, doc in rs.documents.items():
        if doc_id not in used:
            continue
        start, end = c.doc_validity[doc_id]
        documents.append(
            {
                "id": doc_id,
                "label": doc.label,
                "in_force_from": iso(start),
                "in_force_to": iso(end),
                "repealed_by": doc.repealed_by,
            }
        )
    return {
        "as_of": iso(rs.as_of),
        "documents": documents,
        "rules": [
            {
                "id": r.id,
                "document": r.citation.document,
                "article": r.citation.article,
                "valid_from": iso(c.validity[r.id][0]),
                "valid_to": iso(c.validity[r.id][1]),
            }
            for r in rules
        ],
        "not_in_force": [rule_id for rule_id in rs.origin._c.by_id if rule_id not in c.by_id],
    }


def in_force_summary(law: dict[str, Any]) -> str:
    """How many rules are in force, and the documents with a date among them, in words.

    Parameters
    ----------
    law : dict
        A ``law`` block (:func:`law_block`, ``provenance["law"]``).

    Returns
    -------
    str
        E.g. ``37 of 41 rules in force (自然保护区条例（2026） from 2026-03-15)``.
    """
    n = len(law.get("rules") or ())
    total = n + len(law.get("not_in_force") or ())
    dated = list(  # two documents of one short name (a text and its reports) are said once
        dict.fromkeys(
            f"{d['label']} {_days(d['in_force_from'], d['in_force_to'])}"
            for d in law.get("documents") or ()
            if d.get("in_force_from") or d.get("in_force_to")
        )
    )
    text = f"{n} of {total} rules in force"
    return f"{text} ({'; '.join(dated)})" if dated else text


def _days(start: str | None, end: str | None) -> str:
    """``from X``, ``until Y`` or ``from X until Y``."""
    return " ".join(
        part for part in (f"from {start}" if start else "", f"until {end}" if end else "") if part
    )
