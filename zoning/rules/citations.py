"""Citations verified against the stored text of their document.

Every rule cites a document and an article and quotes the clause it encodes
(``citation.quote``).  A document's ``text`` is its stored text, a file next to the rule set
(e.g. ``layers/rules/texts/…md``); a quote is *found* when, with all whitespace removed from
both, it is a substring of that text (line breaks and the spaces of a typeset law do not
count).  A document without a stored text says where it was read (``read_at``, ``read_on``):
its quotes are marked as read at that address, not verified.

>>> from zoning.rules import load_rules
>>> from zoning.rules.citations import verify_citations
>>> problems = verify_citations(load_rules())  # one line per rule whose quote fails
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import quote

if TYPE_CHECKING:
    from .model import Rule, RuleSet

__all__ = [
    "CITATION_STATUSES",
    "citation_note",
    "citation_status",
    "quote_found",
    "stored_text",
    "text_path",
    "verify_citations",
]

#: What :func:`citation_status` says of a rule's quote.
CITATION_STATUSES = ("verified", "read_at", "not_found", "no_quote", "no_text", "no_source")


def _squeeze(text: str) -> str:
    """``text`` with every whitespace character removed (ideographic spaces too)."""
    return "".join(text.split())


def quote_found(text: str, words: str) -> bool:
    """Whether ``words`` occur in ``text``, all whitespace removed from both.

    Parameters
    ----------
    text : str
        A document's stored text.
    words : str
        A quote.

    Returns
    -------
    bool
        False for a quote that is empty once whitespace is removed.
    """
    needle = _squeeze(words)
    return bool(needle) and needle in _squeeze(text)


def text_path(rule_set: RuleSet, document_id: str) -> Path | None:
    """The file of a document's stored text.

    Parameters
    ----------
    rule_set : RuleSet
    document_id : str

    Returns
    -------
    Path or None
        None when the document has no ``text`` or the rule set was not read from a file
        (``text`` is relative to the rule-set file).

    Raises
    ------
    KeyError
        The rule set has no such document.
    """
    doc = rule_set.documents[document_id]
    if doc.text is None or rule_set.path is None:
        return None
    return rule_set.path.parent / doc.text


def stored_text(rule_set: RuleSet, document_id: str) -> str | None:
    """The stored text of a document, as read from its file (UTF-8).

    Parameters
    ----------
    rule_set : RuleSet
    document_id : str

    Returns
    -------
    str or None
        None when the document has no stored text, the rule set was not read from a file,
        or the file cannot be read.

    Raises
    ------
    KeyError
        The rule set has no such document.
    """
    path = text_path(rule_set, document_id)
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None


def _status(rule_set: RuleSet, rule: Rule, texts: dict[str, str | None]) -> str:
    """The citation status of one rule; ``texts`` caches the stored texts read."""
    doc_id = rule.citation.document
    doc = rule_set.documents[doc_id]
    if rule.citation.quote is None:
        return "no_quote"
    if doc.text is not None:
        if doc_id not in texts:
            texts[doc_id] = stored_text(rule_set, doc_id)
        text = texts[doc_id]
        if text is None:
            return "no_text"
        return "verified" if quote_found(text, rule.citation.quote) else "not_found"
    return "read_at" if doc.read_at is not None else "no_source"


def citation_status(rule_set: RuleSet, rule_id: str) -> str:
    """What can be said of a rule's quote (one of :data:`CITATION_STATUSES`).

    Parameters
    ----------
    rule_set : RuleSet
    rule_id : str

    Returns
    -------
    str
        ``verified`` (found in the document's stored text), ``read_at`` (the document has no
        stored text; it was read at its ``read_at`` address), ``not_found``, ``no_quote``,
        ``no_text`` (the stored text cannot be read) or ``no_source`` (the document has
        neither ``text`` nor ``read_at``).

    Raises
    ------
    KeyError
        The rule set has no such rule.
    """
    return _status(rule_set, rule_set.rule(rule_id), {})


def citation_note(rule_set: RuleSet, rule_id: str) -> str:
    """How a reader is told where a rule's quote was checked, in one line (English).

    Parameters
    ----------
    rule_set : RuleSet
    rule_id : str

    Returns
    -------
    str
        E.g. ``quote found in the stored text texts/…md`` or ``read at https://… on
        2026-12-05 (not verified against a stored text)``.

    Raises
    ------
    KeyError
        The rule set has no such rule.
    """
    rule = rule_set.rule(rule_id)
    doc = rule_set.documents[rule.citation.document]
    status = _status(rule_set, rule, {})
    if status == "verified":
        return f"quote found in the stored text {doc.text}"
    if status == "read_at":
        on = f" on {doc.read_on}" if doc.read_on is not None else ""
        return f"read at {doc.read_at}{on} (not verified against a stored text)"
    return _problem(rule_set, rule, status)


def _problem(rule_set: RuleSet, rule: Rule, status: str) -> str:
    """The problem line of a rule whose citation cannot be verified."""
    doc_id = rule.citation.document
    doc = rule_set.documents[doc_id]
    head = f"rule {quote(rule.id)} ({doc_id} {rule.citation.article})"
    if status == "no_quote":
        return f"{head}: the citation has no quote"
    if status == "no_source":
        return f"{head}: document {quote(doc_id)} has neither a stored text nor read_at"
    if status == "no_text":
        why = (
            "the rule set was not read from a file"
            if rule_set.path is None
            else f"cannot read {text_path(rule_set, doc_id)}"
        )
        return f"{head}: stored text {quote(doc.text)} of document {quote(doc_id)}: {why}"
    return (
        f"{head}: quote {quote(rule.citation.quote)} not found in the stored text "
        f"{quote(doc.text)} of document {quote(doc_id)}"
    )


def verify_citations(rule_set: RuleSet) -> list[str]:
    """One problem line per rule whose quote cannot be verified or is not where it says.

    Parameters
    ----------
    rule_set : RuleSet
        A rule set read from a file (stored texts are relative to it).

    Returns
    -------
    list of str
        In rule-set order (city-wide rules, then the lists' rules): a rule whose quote is
        missing, is not found (whitespace-insensitive substring) in its document's stored
        text, whose stored text cannot be read, or whose document has neither ``text`` nor
        ``read_at``.  Empty when every quote is verified or marked as read at an address.
    """
    texts: dict[str, str | None] = {}
    rules = [*rule_set.rules, *(r for lst in rule_set.lists for r in lst.rules)]
    out = []
    for rule in rules:
        status = _status(rule_set, rule, texts)
        if status not in ("verified", "read_at"):
            out.append(_problem(rule_set, rule, status))
    return out
