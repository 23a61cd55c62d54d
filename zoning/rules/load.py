"""Reading a rule set from YAML: the bundled demonstration set or a file.

:func:`load_rules` reads and validates a rule set: unknown keys (nested too), a key written
twice in one mapping (PyYAML would keep the last silently), codes written as numbers (YAML 1.1
reads ``0101`` as 65 and ``NO`` as false), duplicate ids, unknown verdicts, dimensions or layer
kinds, a ``where`` value outside the rule set's ``feature_values`` vocabulary, missing parents
and inheritance cycles are each one line of :class:`~zoning.errors.RulesError` naming the file,
the rule and the key.  Its :attr:`RuleSet.hash` identifies the content (not the formatting;
computed by :func:`zoning.rules.crosscheck.canonical_hash`).
"""

from __future__ import annotations

import logging
from pathlib import Path

from .._paths import data_dir
from .._yaml import load_yaml
from ..errors import RulesError, quote
from .model import RuleSet

__all__ = ["DEFAULT_RULES", "load_rules"]

log = logging.getLogger("zoning.rules")

#: The bundled Shanghai demonstration rule set.
DEFAULT_RULES = data_dir("layers") / "rules" / "shanghai_demo.yml"


def load_rules(path: str | Path | None = None) -> RuleSet:
    """Read and validate a rule set (the bundled demonstration set by default).

    Parameters
    ----------
    path : str or Path, optional
        A rule-set YAML file; :data:`DEFAULT_RULES` when not given.

    Returns
    -------
    RuleSet
        With :attr:`RuleSet.path` set to the resolved file.

    Raises
    ------
    RulesError
        One line naming the file, the rule (or list, or document) and the key: a missing or
        unparsable file, a key written twice in one mapping (with its line), an unknown key at
        any depth, a code written as a number, a duplicate id, an unknown verdict, dimension,
        kind or document, a ``where`` value outside ``feature_values``, a parent list that does
        not exist, an inheritance cycle, an override of a rule the list does not inherit, a
        date that is not ``YYYY-MM-DD``, a rule valid outside its document's days in force, a
        ``repealed_by`` naming no document, or a document ``text`` file that does not exist.

    Examples
    --------
    >>> rs = load_rules()
    >>> rs.id, rs.version
    ('shanghai_demo', '2026.5')
    >>> rs.rule("yangtze.chemical").citation.article
    '第二十六条'
    """
    path = Path(path) if path is not None else DEFAULT_RULES
    raw = _read_yaml(path)
    rs = RuleSet.from_mapping(raw, source=str(path))
    rs._path = path.resolve()
    _check_texts(rs, path)
    log.debug("rule set %s %s (%s) from %s", rs.id, rs.version, rs.hash[:12], path)
    return rs


def _check_texts(rs: RuleSet, path: Path) -> None:
    """Every document's stored ``text`` exists next to the rule-set file (one line if not)."""
    base = path.resolve().parent
    for doc_id, doc in rs.documents.items():
        if doc.text is not None and not (base / doc.text).is_file():
            raise RulesError(
                f"{path}: document {quote(doc_id)}: key 'text': no file {quote(doc.text)} "
                f"next to the rule set (looked for {base / doc.text})"
            )


def _read_yaml(path: Path) -> object:
    """Read a rule-set file; a missing, unreadable or invalid file is one RulesError line."""
    return load_yaml(path, RulesError, "rule set")
