"""Cross-checks of a validated rule set, and the precomputed view evaluation reads.

Pydantic checks each rule, list and document on its own (:mod:`zoning.rules.model`); this
module checks what spans them: unique rule and list ids, cited documents that exist, ``where``
values inside the ``feature_values`` vocabulary, parent lists that exist, no inheritance
cycles, overrides of inherited rules only.  It precomputes the effective rules of every list,
the industrial-park lists, the feature-value vocabularies, the specificity rank of every rule
and the content hash (:func:`canonical_hash`).  It also words pydantic's validation errors as
one line (:func:`describe_validation_error`).

It sits below :mod:`zoning.rules.model` (the model calls it while validating), so it knows the
model's classes only as type names.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ..errors import RulesError, clip, quote
from .verdicts import TIER_FEATURE, TIER_GENERAL, TIER_LIST

if TYPE_CHECKING:
    from .model import AccessList, Rule, RuleSet

__all__ = ["canonical_hash", "compile_rule_set", "describe_validation_error", "norm_value"]

#: Keys added to the schema after rule sets were published: left out of the hash while unset,
#: so a rule set that does not use them keeps the hash it had.
_LATER_KEYS = {
    "applies_to": ("except_inside", "defer_inside"),
    "document": ("in_force_from", "in_force_to", "repealed_by", "text", "read_at", "read_on"),
    "rule": ("valid_from", "valid_to"),
    "citation": ("quote",),
}

#: A validity: first and last day in force (inclusive), None for unbounded.
Validity = tuple["datetime.date | None", "datetime.date | None"]


def norm_value(value: object) -> str:
    """How feature attribute values are compared: whitespace collapsed, case folded.

    Parameters
    ----------
    value : object
        A feature attribute value or a vocabulary spelling.

    Returns
    -------
    str
    """
    return " ".join(str(value).split()).casefold()


class _Compiled:
    """Cross-checked, precomputed view of a rule set."""

    def __init__(self) -> None:
        self.hash = ""
        self.lists: dict[str, AccessList] = {}
        self.parent: dict[str, str | None] = {}
        self.effective: dict[str, tuple[Rule, ...]] = {}
        self.by_id: dict[str, Rule] = {}
        self.park_lists: frozenset[str] = frozenset()
        #: (kind, attribute) -> {normalised spelled value: code}
        self.vocab: dict[tuple[str, str], dict[str, str]] = {}
        #: rule id -> (tier, unit list, ancestors): how reasons of equal severity are ordered
        #: (see :func:`zoning.rules.reasons.assemble_reasons`).
        self.rank: dict[str, tuple[int, int, int]] = {}
        #: document id -> its days in force (``in_force_to``, else ended by ``repealed_by``)
        self.doc_validity: dict[str, Validity] = {}
        #: rule id -> its days in force (its own, else its document's)
        self.validity: dict[str, Validity] = {}


def describe_validation_error(exc: ValidationError, raw: dict, name: str) -> str:
    """One line for the first validation error: file, list, rule or document, key, problem.

    Parameters
    ----------
    exc : pydantic.ValidationError
        The error of validating ``raw``.
    raw : dict
        The data as read from YAML.
    name : str
        The file (or source) name the line starts with.

    Returns
    -------
    str
    """
    err = exc.errors()[0]
    loc = list(err["loc"])
    where, node, i = _named_containers(loc, raw, name)
    key = _key_path(loc[i:], node)
    n_more = len(exc.errors()) - 1
    more = f" (and {n_more} more problem{'s' if n_more > 1 else ''})" if n_more else ""
    return f"{': '.join(where)}: key {quote(key)}: {_problem_text(err)}{more}"


def _named_containers(loc: list, raw: dict, name: str) -> tuple[list[str], Any, int]:
    """Walk the containers of ``loc`` that name things: lists[i], rules[i], documents[key].

    Returns the names met (``name`` first), the node reached and the index of the first key
    of ``loc`` after them.
    """
    where = [name]
    node: Any = raw
    i = 0

    def _ident(entry: Any, index: int, what: str) -> str:
        ident = entry.get("id") if isinstance(entry, dict) else None
        return f"{what} {quote(ident)}" if isinstance(ident, str) else f"{what} entry {index + 1}"

    while i < len(loc):
        part = loc[i]
        nxt = loc[i + 1] if i + 1 < len(loc) else None
        if part in ("lists", "rules") and isinstance(nxt, int) and isinstance(node, dict):
            seq = node.get(part) or []
            entry = seq[nxt] if isinstance(seq, list) and nxt < len(seq) else None
            where.append(_ident(entry, nxt, "list" if part == "lists" else "rule"))
            node = entry
            i += 2
            continue
        if part == "documents" and nxt is not None and isinstance(node, dict):
            where.append(f"document {quote(nxt)}")
            docs = node.get("documents")
            node = docs.get(nxt) if isinstance(docs, dict) else None
            i += 2
            continue
        break
    return where, node, i


def _key_path(rest: list, node: Any) -> str:
    """The dotted key path of the rest of an error location."""
    keys = [str(part) for part in rest]
    # when/unless given as one mapping: its index 0 is an artefact of the normalisation.
    if len(keys) >= 2 and keys[0] in ("when", "unless") and keys[1] == "0":
        if isinstance(node, dict) and isinstance(node.get(keys[0]), dict):
            del keys[1]
    if keys and keys[-1] == "[key]":
        keys.pop()
        keys[-1:] = [f"{keys[-1]} (a key)"] if keys else ["(a key)"]
    return ".".join(keys) or "(entry)"


def _problem_text(err: Any) -> str:
    """What is wrong, in words, for one pydantic error."""
    typ, msg = err["type"], err["msg"]
    inp = err.get("input")
    if typ == "extra_forbidden":
        return "unknown key"
    if typ == "missing":
        return "required key is missing"
    if typ == "string_type":
        return (
            f"must be a string, got {quote(inp)}; quote codes and ids in YAML "
            "(YAML reads 0101 as 65 and NO as false)"
        )
    if typ == "bool_type":
        return f"must be true or false, got {quote(inp)}"
    if typ == "literal_error":
        return f"must be one of {err.get('ctx', {}).get('expected', '')}; got {quote(inp)}"
    return clip(msg.removeprefix("Value error, "))


def canonical_hash(rs: RuleSet) -> str:
    """sha256 of the canonical JSON of a validated rule set.

    Parameters
    ----------
    rs : RuleSet

    Returns
    -------
    str
        64 hex digits; formatting, comments, key order, spelled-out defaults and unset later
        keys (``applies_to.except_inside``, ``applies_to.defer_inside``) do not change it.
    """
    data = rs.model_dump(mode="json")
    for doc in data["documents"].values():
        _drop_unset(doc, "document")
    for rule in [*data["rules"], *(r for lst in data["lists"] for r in lst["rules"])]:
        _drop_unset(rule, "rule")
        _drop_unset(rule.get("citation"), "citation")
        _drop_unset(rule.get("applies_to"), "applies_to")
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _drop_unset(entry: object, what: str) -> None:
    """Drop the later keys of ``what`` that ``entry`` leaves unset (None)."""
    if isinstance(entry, dict):
        for key in _LATER_KEYS[what]:
            if entry.get(key) is None:
                entry.pop(key, None)


class _Failure:
    """Builds the one-line RulesError of a cross-check, naming the file."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, where: str, key: str, text: str) -> RulesError:
        return RulesError(f"{self.name}: {where}: key {quote(key)}: {text}")


def compile_rule_set(rs: RuleSet, name: str) -> _Compiled:
    """Cross-check ids, documents, parents and overrides; precompute effective rules.

    Parameters
    ----------
    rs : RuleSet
        A rule set pydantic has validated.
    name : str
        The file (or source) name errors start with.

    Returns
    -------
    _Compiled
        The precomputed view (:attr:`RuleSet._c`).

    Raises
    ------
    RulesError
        One line naming the file, the rule or list, and the key.
    """
    c = _Compiled()
    fail = _Failure(name)
    _build_vocabularies(rs, c)
    _check_documents(rs, c, fail)
    for rule in rs.rules:
        _check_rule(rs, c, fail, rule, f"rule {quote(rule.id)}", in_list=False)
    for lst in rs.lists:
        if lst.id in c.lists:
            raise fail(f"list {quote(lst.id)}", "id", "duplicate list id")
        c.lists[lst.id] = lst
        for rule in lst.rules:
            _check_rule(
                rs, c, fail, rule, f"list {quote(lst.id)}: rule {quote(rule.id)}", in_list=True
            )
    _resolve_parents(rs, c, fail)
    for lst in rs.lists:
        _effective_rules(c, fail, lst.id)
    _find_park_lists(rs, c, fail)
    _rank_rules(rs, c)
    c.hash = canonical_hash(rs)
    return c


def _build_vocabularies(rs: RuleSet, c: _Compiled) -> None:
    """Vocabularies of feature values: spelled value (normalised) -> code."""
    for kind, attrs in rs.feature_values.items():
        for attr, codes in attrs.items():
            table: dict[str, str] = {}
            for code, aliases in codes.items():
                for spelled in (code, *aliases):
                    table[norm_value(spelled)] = code
            c.vocab[(kind, attr)] = table


def _check_rule(
    rs: RuleSet, c: _Compiled, fail: _Failure, rule: Rule, where: str, in_list: bool
) -> None:
    """Register ``rule``; check its id, document, applies_to and ``where`` codes."""
    if rule.id in c.by_id:
        raise fail(where, "id", "duplicate rule id")
    c.by_id[rule.id] = rule
    if rule.citation.document not in rs.documents:
        known = ", ".join(rs.documents) or "none"
        raise fail(
            where,
            "citation.document",
            f"unknown document {quote(rule.citation.document)} (known: {known})",
        )
    _rule_validity(c, fail, rule, where)
    if in_list and rule.applies_to is not None:
        raise fail(
            where,
            "applies_to",
            "list rules apply to the units using the list; remove applies_to",
        )
    if not in_list and rule.applies_to is None:
        raise fail(where, "applies_to", "required key is missing (city-wide rules need it)")
    if not in_list and rule.overrides:
        raise fail(where, "overrides", "only access-list rules can override inherited rules")
    at = rule.applies_to
    if at is None or not at.where:
        return
    for attr, values in at.where.items():
        codes = rs.feature_values.get(at.kind, {}).get(attr)
        bad = [v for v in values if codes is not None and v not in codes]
        if bad:
            raise fail(
                where,
                f"applies_to.where.{attr}",
                f"{', '.join(map(repr, bad))} is not a code of "
                f"feature_values.{at.kind}.{attr} (known: {', '.join(codes or ())}); "
                "the rule could never fire",
            )


def _check_documents(rs: RuleSet, c: _Compiled, fail: _Failure) -> None:
    """Each document's days in force; ``repealed_by`` names a document that starts after."""
    one_day = datetime.timedelta(days=1)
    for doc_id, doc in rs.documents.items():
        where = f"document {quote(doc_id)}"
        start, end = doc.in_force_from, doc.in_force_to
        successor = doc.repealed_by
        if successor is not None:
            if successor not in rs.documents or successor == doc_id:
                others = ", ".join(d for d in rs.documents if d != doc_id) or "none"
                raise fail(
                    where, "repealed_by", f"unknown document {quote(successor)} (known: {others})"
                )
            follows = rs.documents[successor].in_force_from
            if follows is not None and end is None:
                end = follows - one_day
            elif follows is not None and end is not None and end >= follows:
                raise fail(
                    where,
                    "in_force_to",
                    f"{end} is not before {follows}, when {quote(successor)} that repealed it "
                    "came into force",
                )
            if start is not None and end is not None and end < start:
                raise fail(
                    where,
                    "repealed_by",
                    f"{quote(successor)} came into force on {follows}, before this document "
                    f"({start})",
                )
        c.doc_validity[doc_id] = (start, end)


def _rule_validity(c: _Compiled, fail: _Failure, rule: Rule, where: str) -> None:
    """A rule's days in force: its own within its document's, by default its document's."""
    doc_id = rule.citation.document
    doc_start, doc_end = c.doc_validity[doc_id]
    start, end = rule.valid_from, rule.valid_to
    if start is not None and doc_start is not None and start < doc_start:
        raise fail(
            where,
            "valid_from",
            f"{start} is before its document {quote(doc_id)} came into force ({doc_start})",
        )
    if end is not None and doc_end is not None and end > doc_end:
        raise fail(
            where,
            "valid_to",
            f"{end} is after the last day its document {quote(doc_id)} was in force ({doc_end})",
        )
    start = start if start is not None else doc_start
    end = end if end is not None else doc_end
    if start is not None and end is not None and end < start:
        raise fail(
            where,
            "valid_from" if rule.valid_from is not None else "valid_to",
            f"the rule would never be in force ({start} to {end}, its document "
            f"{quote(doc_id)} in force {doc_start or 'always'} to {doc_end or 'now'})",
        )
    c.validity[rule.id] = (start, end)


def _resolve_parents(rs: RuleSet, c: _Compiled, fail: _Failure) -> None:
    """Parents: explicit, else the id's path prefix; unit lists must name theirs; no cycles."""
    for lst in rs.lists:
        where = f"list {quote(lst.id)}"
        parent = lst.parent
        if parent is None and "/" in lst.id:
            if lst.id.startswith("unit/"):
                raise fail(where, "parent", "unit lists must name their parent list")
            parent = lst.id.rsplit("/", 1)[0]
        if parent is not None and parent not in c.lists:
            raise fail(where, "parent", f"parent list {quote(parent)} does not exist")
        if parent == lst.id:
            raise fail(where, "parent", "a list cannot be its own parent")
        c.parent[lst.id] = parent
    for lst in rs.lists:
        seen = [lst.id]
        p = c.parent[lst.id]
        while p is not None:
            if p in seen:
                cycle = " -> ".join([*seen, p])
                raise fail(f"list {quote(lst.id)}", "parent", f"inheritance cycle: {cycle}")
            seen.append(p)
            p = c.parent[p]


def _effective_rules(c: _Compiled, fail: _Failure, list_id: str) -> tuple[Rule, ...]:
    """The effective rules of a list, parents first: inherited minus overridden, then own."""
    if list_id in c.effective:
        return c.effective[list_id]
    lst = c.lists[list_id]
    parent = c.parent[list_id]
    inherited = _effective_rules(c, fail, parent) if parent is not None else ()
    inherited_ids = {r.id for r in inherited}
    dropped: set[str] = set()
    for rule in lst.rules:
        for o in rule.overrides:
            if o not in inherited_ids:
                raise fail(
                    f"list {quote(list_id)}: rule {quote(rule.id)}",
                    "overrides",
                    f"rule {quote(o)} is not inherited by this list"
                    + (f" (parent {quote(parent)})" if parent else " (it has no parent)"),
                )
            dropped.add(o)
    out = tuple(r for r in inherited if r.id not in dropped) + tuple(lst.rules)
    c.effective[list_id] = out
    return out


def _find_park_lists(rs: RuleSet, c: _Compiled, fail: _Failure) -> None:
    """The industrial-park list and the lists descending from it."""
    uses_park = any(
        cond.industrial_park_unit is not None
        for rule in c.by_id.values()
        for cond in (*rule.when, *rule.unless)
    )
    park = rs.industrial_park_list
    if park not in c.lists and (uses_park or "industrial_park_list" in rs.model_fields_set):
        raise fail(
            "rule set",
            "industrial_park_list",
            f"list {quote(park)} does not exist in this rule set",
        )
    parks = set()
    for lst in rs.lists:
        p: str | None = lst.id
        while p is not None:
            if p == park:
                parks.add(lst.id)
                break
            p = c.parent[p]
    c.park_lists = frozenset(parks)


def _rank_rules(rs: RuleSet, c: _Compiled) -> None:
    """Each rule's (tier, unit list, ancestors): how reasons of equal severity are ordered."""
    for rule in rs.rules:
        feature = rule.applies_to is not None and rule.applies_to.relation != "outside"
        c.rank[rule.id] = (TIER_FEATURE if feature else TIER_GENERAL, 0, 0)
    for lst in rs.lists:
        ancestors = 0
        p = c.parent[lst.id]
        while p is not None:
            ancestors += 1
            p = c.parent[p]
        for rule in lst.rules:
            c.rank[rule.id] = (TIER_LIST, int(lst.id.startswith("unit/")), ancestors)
