"""Access-list rules as open, versioned data, and their evaluation into verdicts.

A rule set is a YAML file (``layers/rules/*.yml``; see ``layers/rules/README.md`` for the
schema).  It has city-wide rules keyed on layer kinds (``rules:``: the red line, drinking-water
source zones, ...) and access lists for environmental control units (``lists:``: ``city`` ->
``city/key`` -> ``city/key/industrial_park`` -> ``unit/<code>``), where a child list inherits its
parent's rules and may override them (the "亚单元+清单" of the city plan).

:func:`load_rules` reads and validates a rule set: unknown keys (nested too), a key written
twice in one mapping (PyYAML would keep the last silently), codes written as numbers (YAML 1.1
reads ``0101`` as 65 and ``NO`` as false), duplicate ids, unknown verdicts, dimensions or layer
kinds, a ``where`` value outside the rule set's ``feature_values`` vocabulary, missing parents
and inheritance cycles are each one line of :class:`~zoning.errors.RulesError` naming the file,
the rule and the key.  Its :attr:`RuleSet.hash` identifies the content (not the formatting).

:func:`evaluate` turns the overlay engine's ``hits`` and ``layer_summary`` frames and the sites'
project attributes into ``reasons``: one row per (site, rule, hit) that fires or cannot be
decided.  It never touches geometry and is vectorised: per rule, one boolean mask over the hits.
Nothing missing is a silent pass: a layer that is missing, failed or does not cover the site, a
feature whose ``where`` attribute is absent or not in the vocabulary, a project attribute a rule
needs but the site did not declare, and a control unit whose access list the rule set lacks all
give ``unknown`` reasons (``layer_missing``, ``outside_coverage``, ``needs_attribute``,
``no_access_list``).  :func:`site_verdicts` takes each site's most severe reason.

Examples
--------
>>> from zoning.rules import load_rules
>>> rs = load_rules()
>>> rs.status
'demonstration'
>>> [r.id for r in rs.rules_for_list("city/key/industrial_park")]
['key.emissions', 'key.risk', 'park.in_park']
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from ._yaml import load_yaml
from .catalog import KINDS, UNIT_CATEGORY_ALIASES, _data_dir
from .errors import RulesError

__all__ = [
    "DEFAULT_RULES",
    "DIMENSIONS",
    "REASON_COLUMNS",
    "SEVERITY",
    "STATUSES",
    "VERDICTS",
    "AccessList",
    "AppliesTo",
    "Citation",
    "Conditions",
    "Document",
    "Rule",
    "RuleSet",
    "evaluate",
    "hit_verdicts",
    "load_rules",
    "site_verdicts",
]

log = logging.getLogger(__name__)

#: The bundled Shanghai demonstration rule set.
DEFAULT_RULES = _data_dir("layers") / "rules" / "shanghai_demo.yml"

#: Verdict levels in ascending severity.  ``unknown`` (something needed is missing, so the site
#: cannot be cleared) ranks just below ``prohibited`` (a certain prohibition is still the
#: stronger statement).
VERDICTS = ("permitted", "conditional", "restricted", "unknown", "prohibited")
#: Severity rank of each verdict.
SEVERITY = {v: i for i, v in enumerate(VERDICTS)}
#: Why a reason row exists.
STATUSES = ("applies", "needs_attribute", "layer_missing", "outside_coverage", "no_access_list")
#: The four dimensions of a 生态环境准入清单 and their English names.
DIMENSIONS = {
    "空间布局约束": "spatial layout constraints",
    "污染物排放管控": "pollutant discharge control",
    "环境风险防控": "environmental risk prevention",
    "资源开发效率要求": "resource-use efficiency",
}
#: Columns of the reasons frame, in order.
REASON_COLUMNS = (
    "site",
    "site_id",
    "rule_id",
    "list_id",
    "layer_id",
    "kind",
    "feature_id",
    "feature_name",
    "verdict",
    "status",
    "dimension",
    "citation",
    "document",
    "article",
    "message_zh",
    "message_en",
    "next_step_zh",
    "next_step_en",
    "assumptions",
)
#: Feature attributes a rule's ``where`` may test (the hits frame's standard columns).
FEATURE_ATTRIBUTES = (
    "name",
    "name_en",
    "category",
    "unit_code",
    "level",
    "realm",
    "district",
    "access_list",
)
#: Yes/no project attributes.
FLAGS = ("linear", "wastewater", "air", "hazardous", "two_high")
#: Project natures.
NATURES = ("new", "expansion", "rebuild", "relocation")
#: ``share_of_site`` below ``1 - OUTSIDE_TOLERANCE`` means "not entirely inside".
OUTSIDE_TOLERANCE = 1e-9
#: Specificity tiers of reasons of equal severity, most specific first: city-wide rules keyed
#: on a feature the site touches or lies near; access-list clauses (a unit's own list first,
#: then a list before its parent); rules keyed on the site lying outside a layer, and reasons
#: without a rule.
TIER_FEATURE, TIER_LIST, TIER_GENERAL = 0, 1, 2

# GB/T 4754-2017 sections (门类) and their major divisions (大类), inclusive.
_SECTIONS = {
    "A": (1, 5),
    "B": (6, 12),
    "C": (13, 43),
    "D": (44, 46),
    "E": (47, 50),
    "F": (51, 52),
    "G": (53, 60),
    "H": (61, 62),
    "I": (63, 65),
    "J": (66, 69),
    "K": (70, 70),
    "L": (71, 72),
    "M": (73, 75),
    "N": (76, 79),
    "O": (80, 82),
    "P": (83, 83),
    "Q": (84, 85),
    "R": (86, 90),
    "S": (91, 96),
    "T": (97, 97),
}
_SECTION_OF = {d: s for s, (lo, hi) in _SECTIONS.items() for d in range(lo, hi + 1)}
_PREFIX_RE = re.compile(r"^([A-T]?)(\d{2,4})?$")

_ID_PATTERN = r"^[A-Za-z][A-Za-z0-9_.-]*$"
_LIST_PATTERN = r"^[A-Za-z][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)*$"
RuleId = Annotated[str, StringConstraints(pattern=_ID_PATTERN)]
ListId = Annotated[str, StringConstraints(pattern=_LIST_PATTERN)]
NonEmpty = Annotated[str, StringConstraints(min_length=1)]
Dimension = Literal["空间布局约束", "污染物排放管控", "环境风险防控", "资源开发效率要求"]
RuleVerdict = Literal["permitted", "conditional", "restricted", "prohibited"]
Nature = Literal["new", "expansion", "rebuild", "relocation"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


# --------------------------------------------------------------------------------------------
# Schema
# --------------------------------------------------------------------------------------------


def _check_prefix(value: str) -> str:
    """Validate a GB/T 4754-2017 code prefix: 'C', '26', '2511', 'C26', 'C2614'."""
    m = _PREFIX_RE.match(value)
    if not value or m is None:
        raise ValueError(
            f"industry prefix {value!r} is not a GB/T 4754-2017 code prefix "
            "(a section letter A-T and/or 2-4 digits, e.g. 'C', '26', '2511', 'C26')"
        )
    letter, digits = m.group(1), m.group(2)
    if digits:
        division = int(digits[:2])
        section = _SECTION_OF.get(division)
        if section is None:
            raise ValueError(f"industry prefix {value!r}: no major division {digits[:2]}")
        if letter and letter != section:
            raise ValueError(
                f"industry prefix {value!r}: division {digits[:2]} belongs to section {section}"
            )
    return value


IndustryPrefix = Annotated[str, StringConstraints(min_length=1)]


class Document(_Strict):
    """A cited document: a law, regulation, notice or plan."""

    title: NonEmpty
    title_en: NonEmpty | None = None
    #: Short name used in citations, e.g. '水污染防治法' or '自然资发〔2022〕142号'.
    short: NonEmpty | None = None
    number: NonEmpty | None = None
    issuer: NonEmpty
    date: NonEmpty
    url: NonEmpty | None = None
    note: NonEmpty | None = None

    @field_validator("date", mode="before")
    @classmethod
    def _date_text(cls, value: object) -> object:
        # YAML reads an unquoted 2017-06-27 as a date: keep it, as ISO text.
        if isinstance(value, datetime.date):
            return value.isoformat()
        return value

    @property
    def label(self) -> str:
        """How citations name the document."""
        return self.short or self.number or self.title


class Citation(_Strict):
    """Where a rule comes from: a document id and an article."""

    document: NonEmpty
    article: NonEmpty


class Text(_Strict):
    """A text in Chinese and English."""

    zh: NonEmpty
    en: NonEmpty


class Conditions(_Strict):
    """Conditions on project attributes; all keys given must hold (AND).

    ``industry`` holds GB/T 4754-2017 code prefixes (any may match), ``nature`` project
    natures (any may match); each flag must equal the value given.  ``industrial_park_unit``
    is derived from the hits: every control unit the site touches uses the rule set's
    industrial-park list (or a list descending from it).
    """

    industry: list[IndustryPrefix] | None = None
    nature: list[Nature] | None = None
    linear: bool | None = None
    wastewater: bool | None = None
    air: bool | None = None
    hazardous: bool | None = None
    two_high: bool | None = None
    industrial_park_unit: bool | None = None

    @field_validator("industry")
    @classmethod
    def _check_industry(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            if not value:
                raise ValueError("an empty list never matches; remove the key instead")
            for v in value:
                _check_prefix(v)
        return value

    @field_validator("nature")
    @classmethod
    def _check_nature(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not value:
            raise ValueError("an empty list never matches; remove the key instead")
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> Conditions:
        if not self.keys():
            raise ValueError("a condition needs at least one key")
        return self

    def keys(self) -> list[str]:
        """The attribute names this condition tests, in schema order."""
        return [k for k in type(self).model_fields if getattr(self, k) is not None]


class AppliesTo(_Strict):
    """Which layer features a city-wide rule applies to and how the site must relate to them.

    ``relation`` is ``intersects`` (the site touches a feature), ``within`` (the nearest
    feature is at most ``distance_m`` away) or ``outside`` (the site is not entirely inside
    the layer).  ``where`` filters features on their standard attributes.  ``except_inside``
    (``outside`` rules only) names a layer kind where the rule does not govern: a site lying
    entirely inside a layer of that kind is left alone (the development boundary governs land,
    not the ``sea_area``).
    """

    kind: NonEmpty
    where: dict[str, list[NonEmpty]] | None = None
    relation: Literal["intersects", "within", "outside"] = "intersects"
    distance_m: float | None = Field(default=None, gt=0)
    except_inside: NonEmpty | None = None

    @field_validator("kind", "except_inside")
    @classmethod
    def _check_kind(cls, value: str | None) -> str | None:
        if value is not None and value not in KINDS:
            raise ValueError(f"unknown kind {value!r} (known: {', '.join(KINDS)})")
        return value

    @field_validator("where")
    @classmethod
    def _check_where(cls, value: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
        if value is None:
            return value
        for key, values in value.items():
            if key not in FEATURE_ATTRIBUTES:
                raise ValueError(
                    f"unknown feature attribute {key!r} in where "
                    f"(known: {', '.join(FEATURE_ATTRIBUTES)})"
                )
            if not values:
                raise ValueError(f"where.{key}: an empty list never matches")
        if not value:
            raise ValueError("an empty where matches nothing; remove the key instead")
        return value

    @model_validator(mode="after")
    def _check_relation(self) -> AppliesTo:
        if self.relation == "within" and self.distance_m is None:
            raise ValueError("relation 'within' needs distance_m")
        if self.relation != "within" and self.distance_m is not None:
            raise ValueError(f"distance_m is only for relation 'within', not {self.relation!r}")
        if self.relation == "outside" and self.where is not None:
            raise ValueError("relation 'outside' tests the whole layer: where is not allowed")
        if self.except_inside is not None:
            if self.relation != "outside":
                raise ValueError(
                    f"except_inside is only for relation 'outside', not {self.relation!r}"
                )
            if self.except_inside == self.kind:
                raise ValueError("except_inside must name another kind than the rule's own")
        return self


def _norm_value(value: object) -> str:
    """How feature attribute values are compared: whitespace collapsed, case folded."""
    return " ".join(str(value).split()).casefold()


def _as_alternatives(value: object) -> object:
    """A mapping is one alternative; a list holds alternatives (any may hold)."""
    if isinstance(value, dict):
        return [value]
    return value


class Rule(_Strict):
    """One rule of a rule set or of an access list.

    ``when`` and ``unless`` are lists of alternatives (a single mapping is one alternative):
    the rule fires when any ``when`` alternative holds and no ``unless`` alternative holds.
    """

    id: RuleId
    applies_to: AppliesTo | None = None
    when: list[Conditions] = Field(default_factory=list)
    unless: list[Conditions] = Field(default_factory=list)
    dimension: Dimension
    verdict: RuleVerdict
    citation: Citation
    message: Text
    next_step: Text | None = None
    overrides: list[RuleId] = Field(default_factory=list)
    note: NonEmpty | None = None

    @field_validator("when", "unless", mode="before")
    @classmethod
    def _alternatives(cls, value: object) -> object:
        return _as_alternatives(value)

    def attributes(self) -> list[str]:
        """Every project attribute the rule's conditions test."""
        seen: dict[str, None] = {}
        for c in (*self.when, *self.unless):
            for k in c.keys():
                seen[k] = None
        return list(seen)


class AccessList(_Strict):
    """An access list (生态环境准入清单) for control units: its rules and its parent."""

    id: ListId
    parent: ListId | None = None
    title_zh: NonEmpty
    title_en: NonEmpty
    note: NonEmpty | None = None
    rules: list[Rule] = Field(default_factory=list)


class RuleSet(_Strict):
    """A validated rule set (see :func:`load_rules`).

    Attributes
    ----------
    id, version, title : str
    status : {'authoritative', 'demonstration', 'draft', 'unknown'}
    documents : dict of str to Document
    rules : list of Rule
        City-wide rules keyed on layer kinds.
    lists : list of AccessList
        Access lists for control units.
    industrial_park_list : str
        The list whose units (and the units of lists descending from it) are industrial parks.
    """

    id: RuleId
    version: NonEmpty
    title: NonEmpty
    status: Literal["authoritative", "demonstration", "draft", "unknown"]
    note: NonEmpty | None = None
    industrial_park_list: ListId = "city/key/industrial_park"
    documents: dict[Annotated[str, StringConstraints(pattern=_ID_PATTERN)], Document]
    feature_values: dict[NonEmpty, dict[NonEmpty, dict[RuleId, list[NonEmpty]]]] = Field(
        default_factory=dict
    )
    rules: list[Rule] = Field(default_factory=list)
    lists: list[AccessList] = Field(default_factory=list)

    @field_validator("feature_values")
    @classmethod
    def _check_feature_values(
        cls, value: dict[str, dict[str, dict[str, list[str]]]]
    ) -> dict[str, dict[str, dict[str, list[str]]]]:
        for kind, attrs in value.items():
            if kind not in KINDS:
                raise ValueError(f"unknown kind {kind!r} (known: {', '.join(KINDS)})")
            for attr, codes in attrs.items():
                if attr not in FEATURE_ATTRIBUTES:
                    raise ValueError(
                        f"{kind}.{attr}: unknown feature attribute "
                        f"(known: {', '.join(FEATURE_ATTRIBUTES)})"
                    )
                if not codes:
                    raise ValueError(f"{kind}.{attr}: an empty vocabulary; remove the key")
                seen: dict[str, str] = {}
                for code, aliases in codes.items():
                    for spelled in (code, *aliases):
                        norm = _norm_value(spelled)
                        if norm in seen and seen[norm] != code:
                            raise ValueError(
                                f"{kind}.{attr}: {spelled!r} names both {seen[norm]!r} and {code!r}"
                            )
                        seen[norm] = code
        return value

    _source: str = PrivateAttr(default="rules")
    _path: Path | None = PrivateAttr(default=None)
    _compiled: _Compiled | None = PrivateAttr(default=None)

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def from_mapping(cls, data: object, *, source: str = "rules") -> RuleSet:
        """Validate plain data (as read from YAML); errors name ``source``, rule and key."""
        if not isinstance(data, dict):
            raise RulesError(f"{source}: expected a mapping with id, version, documents, rules")
        try:
            rs = cls.model_validate(data)
        except ValidationError as exc:
            raise RulesError(_describe(exc, data, source)) from None
        rs._source = source
        rs._compiled = _compile(rs, source)
        return rs

    @property
    def path(self) -> Path | None:
        """The file the rule set was read from."""
        return self._path

    @property
    def is_demonstration(self) -> bool:
        return self.status == "demonstration"

    @property
    def hash(self) -> str:
        """sha256 of the canonical JSON of the validated content.

        Formatting, comments, key order and spelled-out defaults do not change it.
        """
        return self._c.hash

    @property
    def _c(self) -> _Compiled:
        if self._compiled is None:
            self._compiled = _compile(self, self._source)
        return self._compiled

    # -- queries ------------------------------------------------------------------------------

    @property
    def list_ids(self) -> list[str]:
        return [lst.id for lst in self.lists]

    def access_list(self, list_id: str) -> AccessList:
        try:
            return self._c.lists[list_id]
        except KeyError:
            raise KeyError(f"no access list {list_id!r} in rule set {self.id!r}") from None

    def parent_of(self, list_id: str) -> str | None:
        """The parent list (explicit, or the id's path prefix)."""
        self.access_list(list_id)
        return self._c.parent[list_id]

    def rules_for_list(self, list_id: str) -> list[Rule]:
        """The effective rules of a list: inherited (minus overridden) then its own."""
        self.access_list(list_id)
        return list(self._c.effective[list_id])

    def rule(self, rule_id: str) -> Rule:
        try:
            return self._c.by_id[rule_id]
        except KeyError:
            raise KeyError(f"no rule {rule_id!r} in rule set {self.id!r}") from None

    def is_industrial_park_list(self, list_id: str) -> bool:
        """Whether units using ``list_id`` are industrial parks."""
        return list_id in self._c.park_lists

    @property
    def kinds(self) -> list[str]:
        """Layer kinds the rules need (``control_unit`` when there are access lists)."""
        kinds = {r.applies_to.kind for r in self.rules if r.applies_to is not None}
        if self.lists:
            kinds.add("control_unit")
        return sorted(kinds)

    @property
    def read_kinds(self) -> set[str]:
        """Layer kinds some rule reads: :attr:`kinds` plus the kinds rules name in
        ``applies_to.except_inside`` (where a site lies decides whether they apply)."""
        return set(self.kinds) | {
            r.applies_to.except_inside
            for r in self.rules
            if r.applies_to is not None and r.applies_to.except_inside is not None
        }

    @property
    def search_radius_m(self) -> float:
        """The distance search the overlay must run for every ``within`` rule to be decidable."""
        return max(
            (
                r.applies_to.distance_m
                for r in self.rules
                if r.applies_to is not None and r.applies_to.distance_m is not None
            ),
            default=0.0,
        )

    def provenance(self) -> dict[str, Any]:
        """id, version, hash, status and file of the rule set, for result metadata."""
        return {
            "id": self.id,
            "version": self.version,
            "hash": self.hash,
            "status": self.status,
            "path": str(self.path) if self.path else None,
        }


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
        #: (see :func:`reason_rank`).
        self.rank: dict[str, tuple[int, int, int]] = {}


RuleSet.model_rebuild()


# --------------------------------------------------------------------------------------------
# Loading and cross-checks
# --------------------------------------------------------------------------------------------


def load_rules(path: str | Path | None = None) -> RuleSet:
    """Read and validate a rule set (the bundled demonstration set by default).

    Raises
    ------
    RulesError
        One line naming the file, the rule (or list, or document) and the key: a missing or
        unparsable file, a key written twice in one mapping (with its line), an unknown key at
        any depth, a code written as a number, a duplicate id, an unknown verdict, dimension,
        kind or document, a ``where`` value outside ``feature_values``, a parent list that does
        not exist, an inheritance cycle, or an override of a rule the list does not inherit.

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
    log.debug("rule set %s %s (%s) from %s", rs.id, rs.version, rs.hash[:12], path)
    return rs


def _read_yaml(path: Path) -> object:
    """Read a rule-set file; a missing, unreadable or invalid file is one RulesError line."""
    return load_yaml(path, RulesError, "rule set")


def _describe(exc: ValidationError, raw: dict, name: str) -> str:
    """One line for the first validation error: file, list, rule or document, key, problem."""
    err = exc.errors()[0]
    loc = list(err["loc"])
    where = [name]
    node: Any = raw
    i = 0

    def _ident(entry: Any, index: int, what: str) -> str:
        ident = entry.get("id") if isinstance(entry, dict) else None
        return f"{what} {ident!r}" if isinstance(ident, str) else f"{what} entry {index + 1}"

    # Walk the containers that name things: lists[i], rules[i], documents[key].
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
            where.append(f"document {nxt!r}")
            docs = node.get("documents")
            node = docs.get(nxt) if isinstance(docs, dict) else None
            i += 2
            continue
        break
    # The rest is the key path.
    keys = [str(part) for part in loc[i:]]
    # when/unless given as one mapping: its index 0 is an artefact of the normalisation.
    if len(keys) >= 2 and keys[0] in ("when", "unless") and keys[1] == "0":
        if isinstance(node, dict) and isinstance(node.get(keys[0]), dict):
            del keys[1]
    if keys and keys[-1] == "[key]":
        keys.pop()
        keys[-1:] = [f"{keys[-1]} (a key)"] if keys else ["(a key)"]
    key = ".".join(keys) or "(entry)"
    typ, msg = err["type"], err["msg"]
    inp = err.get("input")
    if typ == "extra_forbidden":
        text = "unknown key"
    elif typ == "missing":
        text = "required key is missing"
    elif typ == "string_type":
        text = (
            f"must be a string, got {inp!r}; quote codes and ids in YAML "
            "(YAML reads 0101 as 65 and NO as false)"
        )
    elif typ == "bool_type":
        text = f"must be true or false, got {inp!r}"
    elif typ == "literal_error":
        text = f"must be one of {err.get('ctx', {}).get('expected', '')}; got {inp!r}"
    else:
        text = msg.removeprefix("Value error, ")
    n_more = len(exc.errors()) - 1
    more = f" (and {n_more} more problem{'s' if n_more > 1 else ''})" if n_more else ""
    return f"{': '.join(where)}: key {key!r}: {text}{more}"


#: Keys added to the schema after rule sets were published: left out of the hash while unset,
#: so a rule set that does not use them keeps the hash it had.
_LATER_KEYS = {"applies_to": ("except_inside",)}


def _canonical_hash(rs: RuleSet) -> str:
    data = rs.model_dump(mode="json")
    for rule in data["rules"]:
        at = rule.get("applies_to")
        if isinstance(at, dict):
            for key in _LATER_KEYS["applies_to"]:
                if at.get(key) is None:
                    at.pop(key, None)
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _compile(rs: RuleSet, name: str) -> _Compiled:
    """Cross-check ids, documents, parents and overrides; precompute effective rules."""
    c = _Compiled()

    def fail(where: str, key: str, text: str) -> RulesError:
        return RulesError(f"{name}: {where}: key {key!r}: {text}")

    # Vocabularies of feature values: spelled value (normalised) -> code.
    for kind, attrs in rs.feature_values.items():
        for attr, codes in attrs.items():
            table: dict[str, str] = {}
            for code, aliases in codes.items():
                for spelled in (code, *aliases):
                    table[_norm_value(spelled)] = code
            c.vocab[(kind, attr)] = table

    def check_rule(rule: Rule, where: str, in_list: bool) -> None:
        if rule.id in c.by_id:
            raise fail(where, "id", "duplicate rule id")
        c.by_id[rule.id] = rule
        if rule.citation.document not in rs.documents:
            known = ", ".join(rs.documents) or "none"
            raise fail(
                where,
                "citation.document",
                f"unknown document {rule.citation.document!r} (known: {known})",
            )
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

    for rule in rs.rules:
        check_rule(rule, f"rule {rule.id!r}", in_list=False)
    for lst in rs.lists:
        if lst.id in c.lists:
            raise fail(f"list {lst.id!r}", "id", "duplicate list id")
        c.lists[lst.id] = lst
        for rule in lst.rules:
            check_rule(rule, f"list {lst.id!r}: rule {rule.id!r}", in_list=True)

    # Parents: explicit, else the id's path prefix; unit lists must name theirs.
    for lst in rs.lists:
        where = f"list {lst.id!r}"
        parent = lst.parent
        if parent is None and "/" in lst.id:
            if lst.id.startswith("unit/"):
                raise fail(where, "parent", "unit lists must name their parent list")
            parent = lst.id.rsplit("/", 1)[0]
        if parent is not None and parent not in c.lists:
            raise fail(where, "parent", f"parent list {parent!r} does not exist")
        if parent == lst.id:
            raise fail(where, "parent", "a list cannot be its own parent")
        c.parent[lst.id] = parent
    for lst in rs.lists:
        seen = [lst.id]
        p = c.parent[lst.id]
        while p is not None:
            if p in seen:
                cycle = " -> ".join([*seen, p])
                raise fail(f"list {lst.id!r}", "parent", f"inheritance cycle: {cycle}")
            seen.append(p)
            p = c.parent[p]

    # Effective rules, parents first.
    def effective(list_id: str) -> tuple[Rule, ...]:
        if list_id in c.effective:
            return c.effective[list_id]
        lst = c.lists[list_id]
        parent = c.parent[list_id]
        inherited = effective(parent) if parent is not None else ()
        inherited_ids = {r.id for r in inherited}
        dropped: set[str] = set()
        for rule in lst.rules:
            for o in rule.overrides:
                if o not in inherited_ids:
                    raise fail(
                        f"list {list_id!r}: rule {rule.id!r}",
                        "overrides",
                        f"rule {o!r} is not inherited by this list"
                        + (f" (parent {parent!r})" if parent else " (it has no parent)"),
                    )
                dropped.add(o)
        out = tuple(r for r in inherited if r.id not in dropped) + tuple(lst.rules)
        c.effective[list_id] = out
        return out

    for lst in rs.lists:
        effective(lst.id)

    uses_park = any(
        cond.industrial_park_unit is not None
        for rule in c.by_id.values()
        for cond in (*rule.when, *rule.unless)
    )
    park = rs.industrial_park_list
    if park not in c.lists and (uses_park or "industrial_park_list" in rs.model_fields_set):
        raise fail(
            "rule set", "industrial_park_list", f"list {park!r} does not exist in this rule set"
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
    c.hash = _canonical_hash(rs)
    return c


# --------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------

_FLAG_TEXT = {
    "linear": ("is linear infrastructure", "is not linear infrastructure"),
    "wastewater": ("discharges waste water", "does not discharge waste water"),
    "air": ("emits air pollutants", "does not emit air pollutants"),
    "hazardous": ("handles hazardous chemicals", "does not handle hazardous chemicals"),
    "two_high": ("is a 两高 (high energy use, high emission) project", "is not a 两高 project"),
    "industrial_park_unit": (
        "lies only in industrial-park control units",
        "lies outside industrial-park control units",
    ),
}
_DECLARE = {
    "industry": "--industry CODE, or an industry column",
    "nature": "--nature new|expansion|rebuild|relocation, or a nature column",
    "linear": "--linear / --no-linear, or a linear column",
    "wastewater": "--wastewater / --no-wastewater, or a wastewater column",
    "air": "--air / --no-air, or an air column",
    "hazardous": "--hazardous / --no-hazardous, or a hazardous column",
    "two_high": "--two-high / --no-two-high, or a two_high column",
    "industrial_park_unit": "a loaded control-unit layer",
}


#: How a layer that is not usable is described, per load status.
_LOAD_TEXT = {"missing": "is missing", "failed": "failed to load"}


def _undeclared(attr: str) -> str:
    if attr == "industrial_park_unit":
        return "the control-unit layer is not available"
    return f"{attr} not declared (declare {_DECLARE[attr]})"


def _describe_condition(c: Conditions) -> str:
    parts = []
    for k in c.keys():
        v = getattr(c, k)
        if k == "industry":
            parts.append("has an industry code starting with " + " or ".join(v))
        elif k == "nature":
            parts.append("is a " + " or ".join(v) + " project")
        else:
            parts.append(_FLAG_TEXT[k][0 if v else 1])
    return " and ".join(parts)


def _describe_alternatives(alts: list[Conditions]) -> str:
    texts = [_describe_condition(c) for c in alts]
    return " or ".join(f"({t})" if len(alts) > 1 and " and " in t else t for t in texts)


def undecided_verdict(verdict: str) -> str:
    """The verdict of a reason whose rule cannot be decided for lack of a project attribute.

    ``unknown`` when the rule would restrict or prohibit; a ``conditional`` (or ``permitted``)
    rule that may apply keeps its own level, since the worst it could mean is that level.
    """
    return "unknown" if SEVERITY[verdict] >= SEVERITY["restricted"] else verdict


def _industry_matches(code: str, prefixes: list[str]) -> bool:
    """Whether a site's GB/T 4754-2017 code starts with any of ``prefixes``.

    A prefix with a section letter ('C', 'C26') needs the site's section to be that letter;
    a digits-only prefix ('26', '2614') compares digits only.  A site code without a letter
    ('2614') gets its section from the major division, so 'C' matches it too.
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


_SITE_CODE_RE = re.compile(r"^[A-Ta-t]?\d{2,4}$")
_CODE_HINT = (
    "a GB/T 4754-2017 code as text, e.g. 'C2614' or '2614' (zoning.sites.parse_industry_code)"
)


def _bad_attribute(site_ids: np.ndarray, rows: np.ndarray, attr: str, value: object, want: str):
    """Raise the one-line error for a project attribute evaluate cannot read."""
    i = int(np.flatnonzero(rows)[0])
    raise ValueError(f"sites row {i} (site {site_ids[i]}): {attr} {value!r} is not {want}")


def _object_column(df: pd.DataFrame, col: str, n: int) -> np.ndarray:
    if col in df.columns:
        return df[col].to_numpy(dtype=object)
    return np.full(n, None, dtype=object)


def _notna(values: np.ndarray) -> np.ndarray:
    return ~pd.isna(values) if len(values) else np.zeros(0, dtype=bool)


class _Block:
    """Reason rows of one kind (rule x status): arrays of length n or scalars."""

    __slots__ = ("fields", "n", "order")

    def __init__(self, n: int, order: int, **fields: Any) -> None:
        self.n = n
        self.order = order
        self.fields = fields


class _Evaluation:
    def __init__(
        self,
        rs: RuleSet,
        sites: pd.DataFrame,
        hits: pd.DataFrame,
        summary: pd.DataFrame,
        search_radius_m: float | Mapping[str, float] | None,
        tolerance_m: Mapping[str, float] | None = None,
    ) -> None:
        self.rs = rs
        self.n = n = len(sites)
        self.search_radius_m = search_radius_m
        self.tolerance_m = dict(tolerance_m or {})
        self.blocks: list[_Block] = []
        self._cond_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}

        # Sites: project attributes, tri-state.
        ids = _object_column(sites, "site_id", n)
        self.site_ids = np.where(_notna(ids), ids, np.arange(n).astype(str).astype(object))
        unc = (
            pd.to_numeric(sites["uncertainty_m"], errors="coerce").to_numpy(dtype=float)
            if "uncertainty_m" in sites.columns
            else np.zeros(n)
        )
        self.uncertainty_m = np.where(np.isfinite(unc), unc, 0.0)
        ind = _object_column(sites, "industry", n)
        self.ind_codes, self.ind_uniques = pd.factorize(pd.Series(ind, dtype=object))
        for j, u in enumerate(self.ind_uniques):
            if not isinstance(u, str) or not _SITE_CODE_RE.match("".join(u.split())):
                _bad_attribute(self.site_ids, self.ind_codes == j, "industry", u, _CODE_HINT)
        nat = _object_column(sites, "nature", n)
        self.nat_codes, self.nat_uniques = pd.factorize(pd.Series(nat, dtype=object))
        for j, u in enumerate(self.nat_uniques):
            if not isinstance(u, str) or u.strip().lower() not in NATURES:
                _bad_attribute(
                    self.site_ids, self.nat_codes == j, "nature", u, f"one of {', '.join(NATURES)}"
                )
        self.known: dict[str, np.ndarray] = {
            "industry": self.ind_codes >= 0,
            "nature": self.nat_codes >= 0,
        }
        self.value: dict[str, np.ndarray] = {}
        for flag in FLAGS:
            arr = _object_column(sites, flag, n)
            known = _notna(arr)
            self.known[flag] = known
            val = np.zeros(n, dtype=bool)
            codes, uniques = pd.factorize(pd.Series(arr, dtype=object))
            truth = np.zeros(len(uniques), dtype=bool)
            for j, v in enumerate(uniques):
                if isinstance(v, bool | np.bool_) or (
                    isinstance(v, int | float | np.integer | np.floating) and v in (0, 1)
                ):
                    truth[j] = bool(v)
                else:
                    _bad_attribute(self.site_ids, codes == j, flag, v, "true or false")
            val[known] = truth[codes[known]]
            self.value[flag] = val

        # Hits.
        self.h_n = len(hits)
        self.h_site = (
            hits["site"].to_numpy(dtype=np.int64) if self.h_n else np.zeros(0, dtype=np.int64)
        )
        if self.h_n and (self.h_site.min() < 0 or self.h_site.max() >= n):
            raise ValueError(f"hits.site must be positions 0..{n - 1} of the sites frame")
        self.h_kind = _object_column(hits, "kind", self.h_n)
        self.h_relation = (
            hits["relation"].to_numpy(dtype=object)
            if "relation" in hits.columns
            else np.full(self.h_n, "intersects", dtype=object)
        )
        self.h_distance = (
            hits["distance_m"].to_numpy(dtype=float)
            if "distance_m" in hits.columns
            else np.where(self.h_relation == "intersects", 0.0, np.nan)
        )
        self.h_layer = _object_column(hits, "layer_id", self.h_n)
        self.h_feature = _object_column(hits, "feature_id", self.h_n)
        self.h_name = _object_column(hits, "name", self.h_n)
        self.hits = hits
        kc, ku = pd.factorize(pd.Series(self.h_kind, dtype=object))
        order = np.argsort(kc, kind="stable")
        bounds = np.searchsorted(kc[order], np.arange(len(ku) + 1))
        self.kind_rows = {
            k: order[bounds[i] : bounds[i + 1]] for i, k in enumerate(ku) if isinstance(k, str)
        }

        # Layer summary.
        self.s_n = len(summary)
        self.s_site = (
            summary["site"].to_numpy(dtype=np.int64) if self.s_n else np.zeros(0, np.int64)
        )
        self.s_kind = _object_column(summary, "kind", self.s_n)
        self._summary_rows: dict[str, np.ndarray] = {}
        self.s_status = _object_column(summary, "status", self.s_n)
        self.s_layer = _object_column(summary, "layer_id", self.s_n)
        self.s_hit = (
            summary["hit"].to_numpy(dtype=bool)
            if "hit" in summary.columns
            else np.zeros(self.s_n, dtype=bool)
        )
        self.s_share = (
            summary["share_of_site"].to_numpy(dtype=float)
            if "share_of_site" in summary.columns
            else np.full(self.s_n, np.nan)
        )

        self._control_units()

    # -- helpers --------------------------------------------------------------------------

    def add(self, n: int, **fields: Any) -> None:
        if n:
            self.blocks.append(_Block(n, len(self.blocks), **fields))

    def summary_rows(self, kind: str) -> np.ndarray:
        rows = self._summary_rows.get(kind)
        if rows is None:
            rows = self._summary_rows[kind] = np.flatnonzero(self.s_kind == kind)
        return rows

    def cond(self, alts: list[Conditions]) -> tuple[np.ndarray, np.ndarray]:
        """Per site: (holds, fails) of a list of alternatives; neither = undecided."""
        key = json.dumps([c.model_dump(mode="json") for c in alts], sort_keys=True)
        hit = self._cond_cache.get(key)
        if hit is not None:
            return hit
        n = self.n
        if not alts:
            out = (np.ones(n, dtype=bool), np.zeros(n, dtype=bool))
        else:
            any_true = np.zeros(n, dtype=bool)
            all_false = np.ones(n, dtype=bool)
            for c in alts:
                t = np.ones(n, dtype=bool)
                f = np.zeros(n, dtype=bool)
                for k in c.keys():
                    kt, kf = self._key(k, getattr(c, k))
                    t &= kt
                    f |= kf
                any_true |= t
                all_false &= f
            out = (any_true, all_false & ~any_true)
        self._cond_cache[key] = out
        return out

    def _key(self, key: str, value: Any) -> tuple[np.ndarray, np.ndarray]:
        known = self.known[key]
        if key == "industry":
            match_u = np.array(
                [_industry_matches(str(u), value) for u in self.ind_uniques], dtype=bool
            )
            m = np.zeros(self.n, dtype=bool)
            m[known] = match_u[self.ind_codes[known]]
        elif key == "nature":
            match_u = np.array([str(u).strip().lower() in value for u in self.nat_uniques])
            m = np.zeros(self.n, dtype=bool)
            m[known] = match_u.astype(bool)[self.nat_codes[known]]
        else:
            m = self.value[key] == value
        return known & m, known & ~m

    def texts(self, site: np.ndarray, attrs: list[str], fmt: Callable[[list[str]], str]):
        """Per row: ``fmt(missing attributes of that row's site)``, grouped by pattern."""
        bits = np.zeros(len(site), dtype=np.int64)
        for i, a in enumerate(attrs):
            bits |= (~self.known[a][site]).astype(np.int64) << i
        uniq, inv = np.unique(bits, return_inverse=True)
        table = np.array(
            [fmt([a for i, a in enumerate(attrs) if (u >> i) & 1]) for u in uniq], dtype=object
        )
        return table[inv]

    # -- control units ----------------------------------------------------------------------

    def _control_units(self) -> None:
        """Resolve each control-unit hit's access list; derive the industrial-park attribute."""
        rs = self.rs
        rows = self.kind_rows.get("control_unit", np.zeros(0, dtype=np.int64))
        rows = rows[self.h_relation[rows] == "intersects"]
        self.cu_rows = rows
        self.list_names = np.array([*rs.list_ids, None], dtype=object)
        list_index = {lid: i for i, lid in enumerate(rs.list_ids)}
        unit = _object_column(self.hits, "unit_code", self.h_n)[rows]
        feat = self.h_feature[rows]
        unit = np.where(_notna(unit), unit, feat)
        acc = _object_column(self.hits, "access_list", self.h_n)[rows]
        cat = _object_column(self.hits, "category", self.h_n)[rows]
        combo = pd.DataFrame({"u": unit, "a": acc, "c": cat}).astype(object)
        codes, uniques = pd.factorize(pd.MultiIndex.from_frame(combo.fillna("\0")))
        res_idx = np.full(len(uniques), -1, dtype=np.int64)
        res_note = np.full(len(uniques), None, dtype=object)
        res_absent = np.full(len(uniques), None, dtype=object)
        for j, (u, a, c) in enumerate(uniques):
            u, a, c = (
                None if v == "\0" or not str(v).strip() else str(v).strip() for v in (u, a, c)
            )
            lid, note, absent = self._resolve(u, a, c)
            res_idx[j] = list_index[lid] if lid is not None else -1
            res_note[j] = note
            res_absent[j] = absent
        self.cu_list = res_idx[codes] if len(rows) else np.zeros(0, dtype=np.int64)
        self.cu_note = res_note[codes] if len(rows) else np.zeros(0, dtype=object)
        #: The access list a unit names that the rule set does not hold (None where resolved).
        self.cu_absent = res_absent[codes] if len(rows) else np.zeros(0, dtype=object)

        # Industrial-park units: every unit the site touches uses a park list.
        n = self.n
        park_list = np.array([rs.is_industrial_park_list(lid) for lid in rs.list_ids] + [False])
        is_park = park_list[self.cu_list]
        has_cu = np.zeros(n, dtype=bool)
        has_cu[self.h_site[rows]] = True
        all_park = np.ones(n, dtype=bool)
        all_park[self.h_site[rows][~is_park]] = False
        srows = self.summary_rows("control_unit")
        ok = np.zeros(n, dtype=bool)
        ok[self.s_site[srows][self.s_status[srows] == "ok"]] = True
        self.known["industrial_park_unit"] = ok
        self.value["industrial_park_unit"] = has_cu & all_park

    def _resolve(
        self, unit: str | None, acc: str | None, cat: str | None
    ) -> tuple[str | None, str | None, str | None]:
        """The list a unit uses: ``unit/<code>``, else its ``access_list``, else its category.

        Returns ``(list_id, note, absent)``: ``absent`` is the access list the unit names but
        the rule set does not hold (its category list is then used, and the unit-specific
        clauses cannot be checked).
        """
        lists = set(self.rs.list_ids)
        if unit:
            lid = f"unit/{unit}"
            if lid in lists:
                return lid, None, None
        if acc and acc in lists:
            return acc, None, None
        absent = acc or None
        category = UNIT_CATEGORY_ALIASES.get(cat) if cat else None
        if category:
            lid = f"city/{category}"
            if lid in lists:
                note = (
                    f"access list {absent!r} is not in the rule set; used {lid!r} "
                    f"(the unit's category)"
                    if absent
                    else f"the unit names no access list; used {lid!r} (its category)"
                )
                return lid, note, absent
        return None, None, absent

    # -- rule evaluation --------------------------------------------------------------------

    def rule_rows(
        self,
        rule: Rule,
        site: np.ndarray,
        *,
        hit: np.ndarray | None,
        list_id: Any = None,
        layer_id: Any = None,
        kind: Any = None,
        note: np.ndarray | None = None,
    ) -> None:
        """Emit the fired and undecided reasons of ``rule`` over candidate rows ``site``."""
        wt, wf = self.cond(rule.when)
        ug, ur = self.exception(rule)
        t = wt[site]
        u = ~t & ~wf[site]
        granted = ug[site]
        unless_open = ~granted & ~ur[site]
        exc = _describe_alternatives(rule.unless)
        unless_attrs = list(dict.fromkeys(a for c in rule.unless for a in c.keys()))
        when_attrs = list(dict.fromkeys(a for c in rule.when for a in c.keys()))
        when_desc = _describe_alternatives(rule.when)

        def fmt_when(missing: list[str]) -> str:
            return f"applies if the project {when_desc} ({rule.verdict}); " + "; ".join(
                _undeclared(a) for a in missing
            )

        def fmt_unless(missing: list[str]) -> str:
            return (
                f"{', '.join(missing)} not declared: exception not granted "
                f"(it applies when the project {exc})"
            )

        for sel, status in ((t & ~granted, "applies"), (u & ~granted, "needs_attribute")):
            if not sel.any():
                continue
            s = site[sel]
            parts: list[np.ndarray] = []
            if status == "needs_attribute":
                verdict = undecided_verdict(rule.verdict)
                parts.append(self.texts(s, when_attrs, fmt_when))
            else:
                verdict = rule.verdict
            uo = unless_open[sel]
            if uo.any():
                txt = np.full(len(s), None, dtype=object)
                txt[uo] = self.texts(s[uo], unless_attrs, fmt_unless)
                parts.append(txt)
            if note is not None:
                parts.append(note[sel])
            self.add(
                len(s),
                site=s,
                hit=None if hit is None else hit[sel],
                rule=rule,
                list_id=list_id[sel] if isinstance(list_id, np.ndarray) else list_id,
                layer_id=layer_id[sel] if isinstance(layer_id, np.ndarray) else layer_id,
                kind=kind,
                verdict=verdict,
                status=status,
                assumptions=_join_texts(parts, len(s)),
            )

    def exception(self, rule: Rule) -> tuple[np.ndarray, np.ndarray]:
        """Per site: (granted, refused) for the rule's ``unless``; neither = undeclared."""
        if not rule.unless:
            return np.zeros(self.n, dtype=bool), np.ones(self.n, dtype=bool)
        return self.cond(rule.unless)

    def possible(self, rule: Rule) -> np.ndarray:
        """Per site: the rule could apply (its conditions are not known to fail)."""
        _, wf = self.cond(rule.when)
        granted, _ = self.exception(rule)
        return ~wf & ~granted

    def layer_status(self, rule: Rule, kind: str, label: str) -> np.ndarray:
        """Emit layer_missing reasons for ``rule``; return per site whether a layer is ok."""
        rows = self.summary_rows(kind)
        status = self.s_status[rows]
        site = self.s_site[rows]
        ok = np.zeros(self.n, dtype=bool)
        ok[site[status == "ok"]] = True
        present = np.zeros(self.n, dtype=bool)
        present[site] = True
        poss = self.possible(rule)
        info = KINDS[kind]
        bad = np.isin(status, ("missing", "failed")) & poss[site]
        for st in ("missing", "failed"):
            sel = bad & (status == st)
            if sel.any():
                layer = self.s_layer[rows][sel]
                self.add(
                    int(sel.sum()),
                    site=site[sel],
                    rule=rule,
                    layer_id=layer,
                    kind=kind,
                    verdict="unknown",
                    status="layer_missing",
                    message_zh=f"{info.title_zh}图层{'缺失' if st == 'missing' else '加载失败'}，"
                    f"无法检查规则 {rule.id}（{label}）",
                    message_en=f"the {kind} layer {_LOAD_TEXT[st]}: rule {rule.id} ({label}) "
                    "cannot be checked",
                )
        absent = ~present & poss
        if absent.any():
            s = np.flatnonzero(absent)
            self.add(
                len(s),
                site=s,
                rule=rule,
                layer_id=None,
                kind=kind,
                verdict="unknown",
                status="layer_missing",
                message_zh=f"没有{info.title_zh}图层，无法检查规则 {rule.id}",
                message_en=f"no {kind} layer was screened: rule {rule.id} cannot be checked",
            )
        return ok

    def feature_codes(self, kind: str, key: str, vals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Normalised feature values and their vocabulary codes (None where not recognised).

        Without a vocabulary for (kind, key) every present value stands for itself.
        """
        uniq_codes, uniques = pd.factorize(pd.Series(vals, dtype=object))
        norm = np.array([_norm_value(u) for u in uniques], dtype=object)
        vocab = self.rs._c.vocab.get((kind, key))
        if vocab is None:
            # No vocabulary: compare the stripped text exactly.
            mapped = np.array([" ".join(str(u).split()) for u in uniques], dtype=object)
        else:
            mapped = np.array([vocab.get(v) for v in norm], dtype=object)
        norm_rows = np.full(len(vals), "", dtype=object)
        code_rows = np.full(len(vals), None, dtype=object)
        has = uniq_codes >= 0
        norm_rows[has] = norm[uniq_codes[has]]
        code_rows[has] = mapped[uniq_codes[has]]
        return norm_rows, code_rows

    def where_messages(
        self,
        rule: Rule,
        kind: str,
        rows: np.ndarray,
        problems: list[tuple[str, np.ndarray, np.ndarray]],
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per undecided hit: why the feature cannot be matched against the rule's ``where``."""
        en = np.full(len(rows), None, dtype=object)
        zh = np.full(len(rows), None, dtype=object)
        for i, r in enumerate(rows):
            parts_en, parts_zh = [], []
            for key, absent, unrec in problems:
                if absent[i]:
                    parts_en.append(f"has no {key} value")
                    parts_zh.append(f"缺少属性 {key}")
                elif unrec[i]:
                    value = self.hits[key].iloc[r]
                    known = ", ".join(self.rs.feature_values[kind][key])
                    parts_en.append(
                        f"has {key} {value!r}, which rule set {self.rs.id} does not recognise "
                        f"(known: {known}; add it to feature_values.{kind}.{key})"
                    )
                    parts_zh.append(f"属性 {key} 的值 {value!r} 无法识别")
            en[i] = f"the feature {' and '.join(parts_en)}: rule {rule.id} cannot be checked"
            zh[i] = f"要素{'，'.join(parts_zh)}，无法检查规则 {rule.id}"
        return en, zh

    def city_rule(self, rule: Rule) -> None:
        at = rule.applies_to
        assert at is not None
        kind = at.kind
        self.layer_status(rule, kind, f"{KINDS[kind].title_en}")
        rows = self.kind_rows.get(kind, np.zeros(0, dtype=np.int64))
        if at.relation == "outside":
            self.outside_rule(rule)
            return
        if at.relation == "intersects":
            rows = rows[self.h_relation[rows] == "intersects"]
        else:
            d = self.h_distance[rows]
            rows = rows[np.isfinite(d) & (d <= at.distance_m)]
        if at.where:
            match = np.ones(len(rows), dtype=bool)
            fails = np.zeros(len(rows), dtype=bool)
            problems: list[tuple[str, np.ndarray, np.ndarray]] = []
            for key, allowed in at.where.items():
                vals = _object_column(self.hits, key, self.h_n)[rows]
                codes, known_codes = self.feature_codes(kind, key, vals)
                present = _notna(vals) & (codes != "")
                recognised = present & _notna(known_codes)
                ok = recognised & np.isin(known_codes.astype(str), list(allowed))
                fails |= recognised & ~ok
                match &= ok
                problems.append((key, ~present, present & ~recognised))
            undecided = np.zeros(len(rows), dtype=bool)
            for _, absent, unrecognised in problems:
                undecided |= absent | unrecognised
            gap = undecided & ~fails & self.possible(rule)[self.h_site[rows]]
            if gap.any():
                g = rows[gap]
                msg_en, msg_zh = self.where_messages(
                    rule,
                    kind,
                    g,
                    [(key, absent[gap], unrec[gap]) for key, absent, unrec in problems],
                )
                self.add(
                    len(g),
                    site=self.h_site[g],
                    hit=g,
                    rule=rule,
                    verdict="unknown",
                    status="layer_missing",
                    message_zh=msg_zh,
                    message_en=msg_en,
                )
            rows = rows[match]
        if at.relation == "within" and len(rows):
            # The nearest qualifying feature per site.
            order = np.lexsort((self.h_distance[rows], self.h_site[rows]))
            rows = rows[order]
            first = np.r_[True, self.h_site[rows][1:] != self.h_site[rows][:-1]]
            rows = rows[first]
        note = self.threshold_notes(rule, rows) if at.relation == "within" else None
        searched = self.searched(kind)
        if at.relation == "within" and searched is not None:
            if searched < at.distance_m:
                found = np.zeros(self.n, dtype=bool)
                found[self.h_site[rows]] = True
                srows = self.summary_rows(kind)
                ok = np.zeros(self.n, dtype=bool)
                ok[self.s_site[srows][self.s_status[srows] == "ok"]] = True
                s = np.flatnonzero(ok & ~found & self.possible(rule))
                self.add(
                    len(s),
                    site=s,
                    rule=rule,
                    kind=kind,
                    verdict="unknown",
                    status="layer_missing",
                    message_zh=f"距离检索半径 {searched:g} 米小于规则 {rule.id} "
                    f"所需的 {at.distance_m:g} 米，无法检查",
                    message_en=f"the distance search ({searched:g} m) is shorter "
                    f"than rule {rule.id} needs ({at.distance_m:g} m): it cannot be checked",
                )
        self.rule_rows(rule, self.h_site[rows], hit=rows, note=note)

    def searched(self, kind: str) -> float | None:
        """How far the overlay searched the layers of ``kind`` (None: not given)."""
        r = self.search_radius_m
        if r is None or not isinstance(r, Mapping):
            return r
        return r.get(kind)

    def threshold_notes(self, rule: Rule, rows: np.ndarray) -> np.ndarray | None:
        """Per fired row of a ``within`` rule: a note when the distance lies within the layer's
        positional tolerance (plus the site's conversion uncertainty) of the rule distance."""
        if not len(rows):
            return None
        dist_m = float(rule.applies_to.distance_m)  # type: ignore[union-attr, arg-type]
        layer = self.h_layer[rows]
        tol = np.array([float(self.tolerance_m.get(x, 0.0) or 0.0) for x in layer])
        unc = self.uncertainty_m[self.h_site[rows]]
        near = dist_m - self.h_distance[rows] <= tol + unc
        if not near.any():
            return None
        out = np.full(len(rows), None, dtype=object)
        for i in np.flatnonzero(near):
            extra = " plus the coordinate conversion's uncertainty" if unc[i] > 0 else ""
            out[i] = (
                f"the distance to the {layer[i]} feature is within the layer's positional "
                f"tolerance ({tol[i]:g} m{extra}) of the rule's {dist_m:g} m threshold: the "
                "rule may not apply; check the distance on authoritative data"
            )
        return out

    def inside_layer(self, kind: str) -> tuple[np.ndarray, np.ndarray]:
        """Per site: (wholly inside, touching) a layer of ``kind`` that loaded and covers it."""
        rows = self.summary_rows(kind)
        rows = rows[self.s_status[rows] == "ok"]
        hit = self.s_hit[rows]
        whole = hit & (self.s_share[rows] >= 1.0 - OUTSIDE_TOLERANCE)
        site = self.s_site[rows]
        inside = np.zeros(self.n, dtype=bool)
        inside[site[whole]] = True
        touch = np.zeros(self.n, dtype=bool)
        touch[site[hit]] = True
        return inside, touch

    def outside_rule(self, rule: Rule) -> None:
        at = rule.applies_to
        assert at is not None
        kind = at.kind
        rows = self.summary_rows(kind)
        rows = rows[self.s_status[rows] == "ok"]
        ins, _ = self.inside_layer(kind)
        site = self.s_site[rows]
        # One row per site: the first ok layer of the kind names it.
        order = np.argsort(site, kind="stable")
        site, rows = site[order], rows[order]
        first = np.r_[True, site[1:] != site[:-1]] if len(site) else np.zeros(0, dtype=bool)
        site, rows = site[first], rows[first]
        sel = ~ins[site]
        site, layer = site[sel], self.s_layer[rows][sel]
        note = None
        if at.except_inside is not None:
            site, layer, note = self.except_inside(rule, at.except_inside, site, layer)
        self.rule_rows(rule, site, hit=None, layer_id=layer, kind=kind, note=note)

    def except_inside(
        self, rule: Rule, other: str, site: np.ndarray, layer: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Drop the candidate sites of an ``outside`` rule that lie wholly inside ``other``.

        A site partly inside ``other`` stays, with a note: the shares the overlay reports do
        not tell whether the part outside the rule's layer is the part inside ``other``.  A
        layer of ``other`` that failed to load gives ``unknown`` (``layer_missing``) where the
        rule could apply; with no such layer at all the site is taken to lie outside it (a
        note says so).
        """
        inside, touch = self.inside_layer(other)
        rows = self.summary_rows(other)
        status, o_site = self.s_status[rows], self.s_site[rows]
        failed = np.zeros(self.n, dtype=bool)
        failed[o_site[status == "failed"]] = True
        present = np.zeros(self.n, dtype=bool)
        present[o_site[status != "missing"]] = True
        failed &= ~inside  # another layer of the kind holds the site: decided
        info = KINDS[other]
        bad = failed[site] & self.possible(rule)[site]
        if bad.any():
            f_rows = rows[(status == "failed") & np.isin(o_site, site[bad])]
            self.add(
                len(f_rows),
                site=self.s_site[f_rows],
                rule=rule,
                layer_id=self.s_layer[f_rows],
                kind=other,
                verdict="unknown",
                status="layer_missing",
                message_zh=f"{info.title_zh}图层加载失败：无法判断项目是否位于{info.title_zh}"
                f"（规则 {rule.id} 不适用于{info.title_zh}），无法检查规则 {rule.id}",
                message_en=f"the {other} layer failed to load: whether the site lies in the "
                f"{other} (where rule {rule.id} does not apply) is not known, so rule "
                f"{rule.id} cannot be checked",
            )
        keep = ~inside[site] & ~failed[site]
        site, layer = site[keep], layer[keep]
        note = np.full(len(site), None, dtype=object)
        part = touch[site]
        note[part] = (
            f"the site lies partly in the {other} layer, where this rule does not apply: the "
            f"part outside the {rule.applies_to.kind} layer may be that part; "  # type: ignore[union-attr]
            "check the rest of the site on the map"
        )
        absent = ~present[site]
        note[absent] = (
            f"no {other} layer was screened: the site is taken to lie outside the {other}, "
            "where this rule applies"
        )
        return site, layer, note if (part | absent).any() else None

    def coverage(self) -> None:
        """One outside_coverage reason per (site, layer) a rule needs."""
        kinds = self.rs.kinds
        by_kind: dict[str, list[Rule]] = {}
        for r in self.rs.rules:
            by_kind.setdefault(r.applies_to.kind, []).append(r)  # type: ignore[union-attr]
        for kind in kinds:
            rows = self.summary_rows(kind)
            rows = rows[self.s_status[rows] == "outside_coverage"]
            if not len(rows):
                continue
            rules = by_kind.get(kind, [])
            if kind == "control_unit":
                poss = np.ones(self.n, dtype=bool)
                what_en, what_zh = "the access-list rules", "准入清单规则"
            else:
                poss = np.zeros(self.n, dtype=bool)
                for r in rules:
                    poss |= self.possible(r)
                ids = ", ".join(r.id for r in rules)
                what_en, what_zh = f"rules {ids}", f"规则 {ids}"
            rows = rows[poss[self.s_site[rows]]]
            info = KINDS[kind]
            self.add(
                len(rows),
                site=self.s_site[rows],
                layer_id=self.s_layer[rows],
                kind=kind,
                verdict="unknown",
                status="outside_coverage",
                message_zh=f"项目位于{info.title_zh}图层覆盖范围之外，无法检查{what_zh}",
                message_en=f"the site lies outside the coverage of the {kind} layer: "
                f"{what_en} cannot be checked",
            )

    def list_rules(self) -> None:
        rs = self.rs
        if not rs.lists:
            return
        # Layer status of the control-unit layer, once per site.
        rows = self.summary_rows("control_unit")
        status, site = self.s_status[rows], self.s_site[rows]
        present = np.zeros(self.n, dtype=bool)
        present[site] = True
        ok = np.zeros(self.n, dtype=bool)
        ok[site[status == "ok"]] = True
        for st in ("missing", "failed"):
            sel = status == st
            self.add(
                int(sel.sum()),
                site=site[sel],
                layer_id=self.s_layer[rows][sel],
                kind="control_unit",
                verdict="unknown",
                status="layer_missing",
                message_zh="生态环境管控单元图层"
                + ("缺失" if st == "missing" else "加载失败")
                + "，无法检查准入清单",
                message_en=f"the control-unit layer {_LOAD_TEXT[st]}: the access lists cannot "
                "be checked",
            )
        absent = np.flatnonzero(~present)
        self.add(
            len(absent),
            site=absent,
            kind="control_unit",
            verdict="unknown",
            status="layer_missing",
            message_zh="没有生态环境管控单元图层，无法检查准入清单",
            message_en="no control-unit layer was screened: the access lists cannot be checked",
        )
        # Sites the layer covers but no unit does.
        cu_site = self.h_site[self.cu_rows]
        covered = np.zeros(self.n, dtype=bool)
        covered[cu_site] = True
        srows = rows[status == "ok"]
        first_ok = pd.Series(self.s_layer[srows]).groupby(site[status == "ok"]).first()
        gap = np.flatnonzero(ok & ~covered)
        self.add(
            len(gap),
            site=gap,
            layer_id=first_ok.reindex(gap).to_numpy(dtype=object),
            kind="control_unit",
            verdict="unknown",
            status="no_access_list",
            message_zh="没有管控单元覆盖该项目，无法确定适用的准入清单",
            message_en="no control unit covers the site: no access list applies",
        )
        # Units whose list cannot be resolved.
        un = self.cu_list < 0
        if un.any():
            r = self.cu_rows[un]
            unit = _object_column(self.hits, "unit_code", self.h_n)[r]
            unit = np.where(_notna(unit), unit, self.h_feature[r])
            acc = _object_column(self.hits, "access_list", self.h_n)[r]
            msg_en = np.array(
                [
                    f"no access list for control unit {u} (access_list {a!r}, not in rule set "
                    f"{rs.id})"
                    for u, a in zip(unit, acc, strict=True)
                ],
                dtype=object,
            )
            msg_zh = np.array([f"管控单元 {u} 没有可用的准入清单" for u in unit], dtype=object)
            self.add(
                len(r),
                site=self.h_site[r],
                hit=r,
                verdict="unknown",
                status="no_access_list",
                message_zh=msg_zh,
                message_en=msg_en,
            )
        # Units naming a list the rule set lacks, resolved to their category list: the
        # unit-specific clauses cannot be checked.
        fb = (self.cu_list >= 0) & _notna(self.cu_absent)
        if fb.any():
            r = self.cu_rows[fb]
            unit = _object_column(self.hits, "unit_code", self.h_n)[r]
            unit = np.where(_notna(unit), unit, self.h_feature[r])
            used = self.list_names[self.cu_list[fb]]
            absent = self.cu_absent[fb]
            self.add(
                len(r),
                site=self.h_site[r],
                hit=r,
                list_id=used,
                verdict="unknown",
                status="no_access_list",
                message_zh=np.array(
                    [
                        f"管控单元 {u} 的准入清单 {a} 不在规则集中，其单元条款无法检查"
                        f"（已按类别清单 {lid} 检查）"
                        for u, a, lid in zip(unit, absent, used, strict=True)
                    ],
                    dtype=object,
                ),
                message_en=np.array(
                    [
                        f"control unit {u} names access list {a!r}, which rule set {rs.id} "
                        f"does not hold: its unit-specific clauses cannot be checked (its "
                        f"category list {lid!r} was applied)"
                        for u, a, lid in zip(unit, absent, used, strict=True)
                    ],
                    dtype=object,
                ),
            )
        # The rules of each list, one mask per distinct rule over the unit hits.
        holders: dict[str, list[int]] = {}
        rules: dict[str, Rule] = {}
        for i, lid in enumerate(rs.list_ids):
            for rule in rs.rules_for_list(lid):
                holders.setdefault(rule.id, []).append(i)
                rules[rule.id] = rule
        for rid, idxs in holders.items():
            sel = np.isin(self.cu_list, idxs)
            if not sel.any():
                continue
            r = self.cu_rows[sel]
            self.rule_rows(
                rules[rid],
                self.h_site[r],
                hit=r,
                list_id=self.list_names[self.cu_list[sel]],
                note=self.cu_note[sel],
            )

    # -- assembly -----------------------------------------------------------------------------

    def run(self) -> pd.DataFrame:
        for rule in self.rs.rules:
            self.city_rule(rule)
        self.list_rules()
        self.coverage()
        return self.assemble()

    def assemble(self) -> pd.DataFrame:
        blocks = self.blocks
        total = sum(b.n for b in blocks)
        if not total:
            return _empty_reasons()
        docs = self.rs.documents

        bounds = np.cumsum([0] + [b.n for b in blocks])

        def col(getter: Callable[[_Block], Any], dtype: Any = object) -> np.ndarray:
            out = np.empty(total, dtype=dtype)
            for b, start, end in zip(blocks, bounds[:-1], bounds[1:], strict=True):
                v = getter(b)
                if isinstance(v, np.ndarray) and v.ndim == 1 and len(v) == b.n:
                    out[start:end] = v
                elif dtype is object:
                    out[start:end] = [v] * b.n if isinstance(v, tuple | list) else v
                else:
                    out[start:end] = v
            return out

        def from_hit(b: _Block, arr: np.ndarray, key: str) -> Any:
            if key in b.fields and b.fields[key] is not None:
                return b.fields[key]
            hit = b.fields.get("hit")
            return arr[hit] if hit is not None else None

        def rule_attr(b: _Block, fn: Callable[[Rule], Any]) -> Any:
            rule = b.fields.get("rule")
            return fn(rule) if rule is not None else None

        def given_or_rule(b: _Block, key: str, fn: Callable[[Rule], Any]) -> Any:
            value = b.fields.get(key)
            return value if value is not None else rule_attr(b, fn)

        site = col(lambda b: b.fields["site"], np.int64)
        verdict = col(lambda b: b.fields["verdict"])
        out = {
            "site": site,
            "site_id": self.site_ids[site],
            "rule_id": col(lambda b: rule_attr(b, lambda r: r.id)),
            "list_id": col(lambda b: b.fields.get("list_id")),
            "layer_id": col(lambda b: from_hit(b, self.h_layer, "layer_id")),
            "kind": col(lambda b: from_hit(b, self.h_kind, "kind")),
            "feature_id": col(lambda b: from_hit(b, self.h_feature, "feature_id")),
            "feature_name": col(lambda b: from_hit(b, self.h_name, "feature_name")),
            "verdict": verdict,
            "status": col(lambda b: b.fields["status"]),
            "dimension": col(lambda b: rule_attr(b, lambda r: r.dimension)),
            "citation": col(
                lambda b: rule_attr(
                    b, lambda r: f"{docs[r.citation.document].label}, {r.citation.article}"
                )
            ),
            "document": col(lambda b: rule_attr(b, lambda r: r.citation.document)),
            "article": col(lambda b: rule_attr(b, lambda r: r.citation.article)),
            "message_zh": col(lambda b: given_or_rule(b, "message_zh", lambda r: r.message.zh)),
            "message_en": col(lambda b: given_or_rule(b, "message_en", lambda r: r.message.en)),
            "next_step_zh": col(
                lambda b: rule_attr(b, lambda r: r.next_step.zh if r.next_step else None)
            ),
            "next_step_en": col(
                lambda b: rule_attr(b, lambda r: r.next_step.en if r.next_step else None)
            ),
            "assumptions": col(lambda b: b.fields.get("assumptions")),
        }
        # Order: by site, most severe first, decided before undecided, most specific first
        # (reason_rank), then rule-set order.
        sev = pd.Series(verdict).map(SEVERITY).to_numpy(dtype=np.int64)
        seq = col(lambda b: b.order, np.int64)
        undecided = col(lambda b: b.fields["status"] != "applies", np.int64)
        ranks = [
            self.rs._c.rank.get(b.fields["rule"].id) if b.fields.get("rule") else None
            for b in blocks
        ]
        ranks = [r if r is not None else (TIER_GENERAL, 0, 0) for r in ranks]
        tier = np.repeat([r[0] for r in ranks], [b.n for b in blocks])
        unit = np.repeat([r[1] for r in ranks], [b.n for b in blocks])
        depth = np.repeat([r[2] for r in ranks], [b.n for b in blocks])
        order = np.lexsort((seq, -depth, -unit, tier, undecided, -sev, site))
        frame = pd.DataFrame({k: v[order] for k, v in out.items()})
        return frame


def _join_texts(parts: list[np.ndarray], n: int) -> np.ndarray | None:
    """Row-wise '; '-join of optional text arrays (None where all are None)."""
    parts = [p for p in parts if p is not None]
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    out = np.full(n, None, dtype=object)
    for p in parts:
        has = _notna(p)
        both = has & _notna(out)
        only = has & ~both
        out[only] = p[only]
        if both.any():
            out[both] = [f"{a}; {b}" for a, b in zip(out[both], p[both], strict=True)]
    return out


def _empty_reasons() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series([], dtype=object) for c in REASON_COLUMNS})
    frame["site"] = frame["site"].astype(np.int64)
    return frame


def evaluate(
    rule_set: RuleSet,
    sites: pd.DataFrame,
    hits: pd.DataFrame,
    layer_summary: pd.DataFrame,
    *,
    search_radius_m: float | Mapping[str, float] | None = None,
    tolerance_m: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Apply a rule set to screened sites: the reasons behind every verdict.

    Parameters
    ----------
    rule_set : RuleSet
    sites : DataFrame
        One row per site, in the order the overlay numbered them (``site`` 0..n-1): ``site_id``
        and the project attributes ``industry``, ``nature``, ``linear``, ``wastewater``,
        ``air``, ``hazardous``, ``two_high`` (None = not declared; a missing column counts as
        not declared).  Industry codes are GB/T 4754-2017 text (``'C2614'`` or ``'2614'``),
        natures one of :data:`NATURES`, flags booleans (as :func:`zoning.sites.load_sites`
        gives them).  Geometry is ignored.
    hits, layer_summary : DataFrame
        The overlay engine's frames.
    search_radius_m : float or mapping, optional, keyword-only
        The distance search the overlay ran: one distance, or one per layer kind (a layer with
        declared buffer rings is searched to its outermost ring).  When given and shorter than
        a ``within`` rule's distance, sites without a feature found within it get ``unknown``
        for that rule instead of a silent pass.
    tolerance_m : mapping, optional, keyword-only
        Positional tolerance (m) per layer id.  A ``within`` rule that fires on a feature whose
        distance lies within that tolerance (plus the site's ``uncertainty_m``, when the sites
        frame has that column) of the rule distance says so in its ``assumptions``: a small
        error in the layer or the coordinates could move the site out of the band.  (A site
        just beyond the distance has no reason row; :func:`zoning.screen` marks it
        boundary-sensitive.)

    Returns
    -------
    DataFrame
        Columns :data:`REASON_COLUMNS`; one row per (site, rule, hit) that fires (status
        ``applies``) or cannot be decided (``needs_attribute``, ``layer_missing``,
        ``outside_coverage``, ``no_access_list``), sorted by site, then most severe first,
        decided (``applies``) before undecided, most specific first (rules on a feature the
        site touches or lies near; access-list clauses from a unit's own list to the root list;
        rules on lying outside a layer and reasons without a rule), then rule-set order.  The
        first row of a site is its main reason.

    Raises
    ------
    ValueError
        A frame lacks a required column, or a project attribute cannot be read (an industry
        code given as a number, ``'新建'`` for a nature, ``'no'`` for a flag): one line naming
        the row, the site and the value.

    Notes
    -----
    Vectorised: each condition is evaluated once per site (industry codes and natures on their
    distinct values), each rule is one boolean mask over the hits of its kind, and each access
    list's effective rules are precomputed, so the cost is O(rules x hits) numpy work.  A rule
    with an undeclared attribute it needs gives ``needs_attribute`` (:func:`undecided_verdict`);
    an ``unless`` exception needs the attribute declared to be granted.  A needed layer that is
    missing or failed, or that does not cover the site, gives ``unknown`` only where the rule
    could apply to the project.
    """
    if not isinstance(rule_set, RuleSet):
        raise TypeError(f"rule_set must be a RuleSet, not {type(rule_set).__name__}")
    for name, frame, cols in (
        ("hits", hits, ("site", "kind", "layer_id", "feature_id")),
        ("layer_summary", layer_summary, ("site", "kind", "status")),
    ):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise ValueError(f"{name} lacks column(s) {', '.join(missing)}")
    return _Evaluation(rule_set, sites, hits, layer_summary, search_radius_m, tolerance_m).run()


def site_verdicts(reasons: pd.DataFrame, n_sites: int) -> pd.Series:
    """The overall verdict of each site: its most severe reason, ``permitted`` without one.

    Returns
    -------
    Series of str, index 0..n_sites-1, name ``verdict``.
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

    Returns
    -------
    (rule_ids, verdict) : two Series aligned to ``hits.index``
        ``rule_ids`` joins rule ids with ``"; "`` ("" where no rule); ``verdict`` is NaN where
        no rule.
    """
    n = len(hits)
    rule_ids = np.full(n, "", dtype=object)
    verdict = np.full(n, np.nan, dtype=object)
    r = reasons[reasons["feature_id"].notna()] if len(reasons) else reasons
    if n and len(r):
        layer_codes, _ = pd.factorize(
            pd.concat([hits["layer_id"], r["layer_id"]], ignore_index=True).astype(object)
        )
        feat_codes, _ = pd.factorize(
            pd.concat([hits["feature_id"], r["feature_id"]], ignore_index=True).astype(str)
        )
        n_l = int(layer_codes.max()) + 2
        n_f = int(feat_codes.max()) + 2
        key = (
            np.concatenate([hits["site"].to_numpy(np.int64), r["site"].to_numpy(np.int64)]) * n_l
            + (layer_codes + 1)
        ) * n_f + (feat_codes + 1)
        hkey, rkey = key[:n], key[n:]
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
        rule_ids[found] = joined[pos_c[found]]
        verdict[found] = np.asarray(VERDICTS, dtype=object)[top[pos_c[found]]]
    return (
        pd.Series(rule_ids, index=hits.index, name="rule_ids"),
        pd.Series(verdict, index=hits.index, name="verdict"),
    )
