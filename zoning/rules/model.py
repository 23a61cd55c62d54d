"""The rule-set model: the schema of a rule-set YAML file as pydantic models.

A rule set (:class:`RuleSet`) has city-wide rules keyed on layer kinds (``rules:``: the red
line, drinking-water source zones, ...) and access lists for environmental control units
(``lists:``: ``city`` -> ``city/key`` -> ``city/key/industrial_park`` -> ``unit/<code>``), where a
child list inherits its parent's rules and may override them (the "亚单元+清单" of the city
plan).  Every model is strict and frozen: unknown keys, codes written as numbers and unknown
verdicts, dimensions or kinds are validation errors.  What spans several entries (ids,
documents, parents, overrides) is checked by :mod:`zoning.rules.crosscheck` when a rule set is
built with :meth:`RuleSet.from_mapping`; reading a file is :func:`zoning.rules.load_rules`.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import Annotated, Any, Literal

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

from ..catalog import KINDS
from ..dates import as_of_date, parse_date
from ..errors import RulesError, quote
from ..schema import (
    DIMENSIONS,
    DISCHARGES,
    FACILITIES,
    FLAGS,
    INDUSTRY_SECTION_OF,
    NATURES,
    RED_LINE_ACTIVITIES,
    STANDARD_ATTRIBUTES,
)
from .crosscheck import _Compiled, compile_rule_set, describe_validation_error, norm_value
from .validity import law_block, rules_in_force

__all__ = [
    "DIMENSIONS",
    "FEATURE_ATTRIBUTES",
    "FLAGS",
    "NATURES",
    "AccessList",
    "AppliesTo",
    "Citation",
    "Conditions",
    "Document",
    "Rule",
    "RuleSet",
    "Text",
]

#: Feature attributes a rule's ``where`` may test (the hits frame's standard columns).
FEATURE_ATTRIBUTES = STANDARD_ATTRIBUTES

_SECTION_OF = INDUSTRY_SECTION_OF
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
    """Base of the schema models: unknown keys forbidden, no coercion, frozen."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


# --------------------------------------------------------------------------------------------
# Schema
# --------------------------------------------------------------------------------------------


def _check_prefix(value: str) -> str:
    """Validate a GB/T 4754-2017 code prefix: 'C', '26', '2511', 'C26', 'C2614'."""
    m = _PREFIX_RE.match(value)
    if not value or m is None:
        raise ValueError(
            f"industry prefix {quote(value)} is not a GB/T 4754-2017 code prefix "
            "(a section letter A-T and/or 2-4 digits, e.g. 'C', '26', '2511', 'C26')"
        )
    letter, digits = m.group(1), m.group(2)
    if digits:
        division = int(digits[:2])
        section = _SECTION_OF.get(division)
        if section is None:
            raise ValueError(f"industry prefix {quote(value)}: no major division {digits[:2]}")
        if letter and letter != section:
            raise ValueError(
                f"industry prefix {quote(value)}: division {digits[:2]} belongs to section "
                f"{section}"
            )
    return value


IndustryPrefix = Annotated[str, StringConstraints(min_length=1)]


def _as_date(value: object) -> object:
    """A YAML date or ``YYYY-MM-DD`` text as a ``datetime.date`` (None stays None)."""
    return None if value is None else parse_date(value)


class Document(_Strict):
    """A cited document: a law, regulation, notice or plan.

    ``in_force_from`` / ``in_force_to`` bound the days it is in force (both inclusive; absent:
    since ever / still); ``repealed_by`` names the document that replaced it (when
    ``in_force_to`` is absent, the day before that document's ``in_force_from`` ends it).
    ``text`` is its stored text (a path relative to the rule-set file); a document without one
    says where it was read (``read_at``, ``read_on``).
    """

    title: NonEmpty
    title_en: NonEmpty | None = None
    #: Short name used in citations, e.g. '水污染防治法' or '自然资发〔2022〕142号'.
    short: NonEmpty | None = None
    number: NonEmpty | None = None
    issuer: NonEmpty
    date: NonEmpty
    url: NonEmpty | None = None
    note: NonEmpty | None = None
    in_force_from: datetime.date | None = None
    in_force_to: datetime.date | None = None
    repealed_by: Annotated[str, StringConstraints(pattern=_ID_PATTERN)] | None = None
    text: NonEmpty | None = None
    read_at: NonEmpty | None = None
    read_on: datetime.date | None = None

    @field_validator("in_force_from", "in_force_to", "read_on", mode="before")
    @classmethod
    def _dates(cls, value: object) -> object:
        return _as_date(value)

    @field_validator("text")
    @classmethod
    def _relative_text(cls, value: str | None) -> str | None:
        if value is not None and (Path(value).is_absolute() or value.startswith(("/", "\\"))):
            raise ValueError(
                f"{quote(value)} must be a path relative to the rule-set file, not absolute"
            )
        return value

    @model_validator(mode="after")
    def _check_dates(self) -> Document:
        start, end = self.in_force_from, self.in_force_to
        if start is not None and end is not None and end < start:
            raise ValueError(f"in_force_to {end} is before in_force_from {start}")
        if self.read_on is not None and self.read_at is None:
            raise ValueError("read_on says when the document was read: give read_at too")
        return self

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
    """Where a rule comes from: a document id, an article and the exact words of the clause.

    ``quote`` is optional in the schema (third-party rule sets load without it);
    :func:`zoning.rules.citations.verify_citations` finds it in the document's stored text.
    """

    document: NonEmpty
    article: NonEmpty
    quote: NonEmpty | None = None


class Text(_Strict):
    """A text in Chinese and English."""

    zh: NonEmpty
    en: NonEmpty


class Conditions(_Strict):
    """Conditions on project attributes; all keys given must hold (AND).

    ``industry`` holds GB/T 4754-2017 code prefixes (any may match), ``nature`` project
    natures (any may match); each flag must equal the value given.  ``wastewater`` is "the
    project produces waste water"; ``discharge`` is where it goes.  The lists ``discharge``
    (``none``, ``sewer``, ``direct``) and ``red_line_activity`` (``none``, ``"1"``..``"10"``:
    strings) hold when the site's value is one of them; ``facility`` holds when the site
    declared any of the facilities listed.  ``industrial_park_unit`` is derived from the hits:
    every control unit the site touches uses the rule set's industrial-park list (or a list
    descending from it); ``chemical_park_unit``: every control unit the site touches uses an
    access list marked ``chemical_park: true`` (see :class:`AccessList`).
    """

    industry: list[IndustryPrefix] | None = None
    nature: list[Nature] | None = None
    linear: bool | None = None
    wastewater: bool | None = None
    discharge: list[Literal[DISCHARGES]] | None = None  # type: ignore[valid-type]
    air: bool | None = None
    hazardous: bool | None = None
    two_high: bool | None = None
    key_project: bool | None = None
    red_line_activity: list[Literal[RED_LINE_ACTIVITIES]] | None = None  # type: ignore[valid-type]
    facility: list[Literal[FACILITIES]] | None = None  # type: ignore[valid-type]
    residential_building: bool | None = None
    noise: bool | None = None
    industrial_park_unit: bool | None = None
    chemical_park_unit: bool | None = None

    @field_validator("industry")
    @classmethod
    def _check_industry(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            if not value:
                raise ValueError("an empty list never matches; remove the key instead")
            for v in value:
                _check_prefix(v)
        return value

    @field_validator("nature", "discharge", "red_line_activity", "facility")
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
    not the ``sea_area``).  ``defer_inside`` (``intersects`` rules only) names layer kinds
    whose own law decides where they overlap the rule's layer ("依照法律法规执行"): a site lying
    entirely inside a layer of one of them is left to that kind's rules.
    """

    kind: NonEmpty
    where: dict[str, list[NonEmpty]] | None = None
    relation: Literal["intersects", "within", "outside"] = "intersects"
    distance_m: float | None = Field(default=None, gt=0)
    except_inside: NonEmpty | None = None
    defer_inside: list[NonEmpty] | None = None

    @field_validator("defer_inside")
    @classmethod
    def _check_kinds(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return value
        if not value:
            raise ValueError("an empty list defers to nothing; remove the key instead")
        for kind in value:
            if kind not in KINDS:
                raise ValueError(f"unknown kind {quote(kind)} (known: {', '.join(KINDS)})")
        if len(set(value)) != len(value):
            raise ValueError("a kind is listed twice")
        return value

    @field_validator("kind", "except_inside")
    @classmethod
    def _check_kind(cls, value: str | None) -> str | None:
        if value is not None and value not in KINDS:
            raise ValueError(f"unknown kind {quote(value)} (known: {', '.join(KINDS)})")
        return value

    @field_validator("where")
    @classmethod
    def _check_where(cls, value: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
        if value is None:
            return value
        for key, values in value.items():
            if key not in FEATURE_ATTRIBUTES:
                raise ValueError(
                    f"unknown feature attribute {quote(key)} in where "
                    f"(known: {', '.join(FEATURE_ATTRIBUTES)})"
                )
            if not values:
                raise ValueError(f"where.{key}: an empty list never matches")
        if not value:
            raise ValueError("an empty where matches nothing; remove the key instead")
        return value

    @property
    def aside_kinds(self) -> list[str]:
        """The kinds where the rule stands aside: ``except_inside`` and ``defer_inside``."""
        out = [self.except_inside] if self.except_inside is not None else []
        return out + list(self.defer_inside or ())

    @model_validator(mode="after")
    def _check_relation(self) -> AppliesTo:
        if self.relation == "within" and self.distance_m is None:
            raise ValueError("relation 'within' needs distance_m")
        if self.relation != "within" and self.distance_m is not None:
            raise ValueError(
                f"distance_m is only for relation 'within', not {quote(self.relation)}"
            )
        if self.relation == "outside" and self.where is not None:
            raise ValueError("relation 'outside' tests the whole layer: where is not allowed")
        if self.except_inside is not None:
            if self.relation != "outside":
                raise ValueError(
                    f"except_inside is only for relation 'outside', not {quote(self.relation)}"
                )
            if self.except_inside == self.kind:
                raise ValueError("except_inside must name another kind than the rule's own")
        if self.defer_inside is not None:
            if self.relation != "intersects":
                raise ValueError(
                    f"defer_inside is only for relation 'intersects', not {quote(self.relation)}"
                )
            if self.kind in self.defer_inside:
                raise ValueError("defer_inside must name another kind than the rule's own")
        return self


def _as_alternatives(value: object) -> object:
    """A mapping is one alternative; a list holds alternatives (any may hold)."""
    if isinstance(value, dict):
        return [value]
    return value


class Rule(_Strict):
    """One rule of a rule set or of an access list.

    ``when`` and ``unless`` are lists of alternatives (a single mapping is one alternative):
    the rule fires when any ``when`` alternative holds and no ``unless`` alternative holds.
    ``valid_from`` / ``valid_to`` (inclusive) default to its document's days in force and must
    lie within them (:meth:`RuleSet.validity`).
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
    valid_from: datetime.date | None = None
    valid_to: datetime.date | None = None

    @field_validator("valid_from", "valid_to", mode="before")
    @classmethod
    def _dates(cls, value: object) -> object:
        return _as_date(value)

    @model_validator(mode="after")
    def _check_dates(self) -> Rule:
        if self.valid_from is not None and self.valid_to is not None:
            if self.valid_to < self.valid_from:
                raise ValueError(f"valid_to {self.valid_to} is before valid_from {self.valid_from}")
        return self

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
    """An access list (生态环境准入清单) for control units: its rules and its parent.

    ``chemical_park: true`` marks the units using this list as a recognised chemical park
    (化工园区, 认定), distinct from any industrial-park unit; rules test it as the derived
    ``chemical_park_unit``.  The mark is NOT inherited: a child list (a sub-unit's own list)
    is a chemical park only when it sets the mark itself, since a sub-unit of a recognised park
    need not be recognised.
    """

    id: ListId
    parent: ListId | None = None
    title_zh: NonEmpty
    title_en: NonEmpty
    note: NonEmpty | None = None
    chemical_park: bool = False
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
                raise ValueError(f"unknown kind {quote(kind)} (known: {', '.join(KINDS)})")
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
                        norm = norm_value(spelled)
                        if norm in seen and seen[norm] != code:
                            raise ValueError(
                                f"{kind}.{attr}: {quote(spelled)} names both "
                                f"{quote(seen[norm])} and {quote(code)}"
                            )
                        seen[norm] = code
        return value

    _source: str = PrivateAttr(default="rules")
    _path: Path | None = PrivateAttr(default=None)
    _compiled: _Compiled | None = PrivateAttr(default=None)
    #: Set on the view :meth:`in_force` returns: the day, and the whole rule set.
    _as_of: datetime.date | None = PrivateAttr(default=None)
    _origin: RuleSet | None = PrivateAttr(default=None)
    #: The views :meth:`in_force` made, by day; the tables :meth:`_derived` built, by name.
    _views: dict = PrivateAttr(default_factory=dict)
    _memo: dict = PrivateAttr(default_factory=dict)

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def from_mapping(cls, data: object, *, source: str = "rules") -> RuleSet:
        """Validate plain data (as read from YAML); errors name ``source``, rule and key.

        Parameters
        ----------
        data : object
            The rule set as plain data (a mapping).
        source : str, keyword-only
            How error lines name the data (the file).

        Returns
        -------
        RuleSet

        Raises
        ------
        RulesError
            One line for a schema error (:func:`~zoning.rules.crosscheck.describe_validation_error`)
            or a failed cross-check (:func:`~zoning.rules.crosscheck.compile_rule_set`).
        """
        if not isinstance(data, dict):
            raise RulesError(f"{source}: expected a mapping with id, version, documents, rules")
        try:
            rs = cls.model_validate(data)
        except ValidationError as exc:
            raise RulesError(describe_validation_error(exc, data, source)) from None
        rs._source = source
        rs._compiled = compile_rule_set(rs, source)
        return rs

    @property
    def path(self) -> Path | None:
        """The file the rule set was read from."""
        return self._path

    @property
    def is_demonstration(self) -> bool:
        """Whether the rule set's status is ``demonstration``."""
        return self.status == "demonstration"

    @property
    def hash(self) -> str:
        """sha256 of the canonical JSON of the validated content.

        Formatting, comments, key order and spelled-out defaults do not change it.  A view
        made by :meth:`in_force` has the whole rule set's hash (the file the law came from;
        which of its rules were in force is the view's :meth:`law`), so console, report and
        provenance name one rule set.
        """
        return self.origin._c.hash

    @property
    def _c(self) -> _Compiled:
        """The cross-checked, precomputed view (compiled on first use)."""
        if self._compiled is None:
            self._compiled = compile_rule_set(self, self._source)
        return self._compiled

    def _derived(self, name: str, build: Any) -> Any:
        """``build(self)``, a lookup table that depends on the rules only, built once and kept
        (read-only); a copy of the rule set (``model_copy`` shares the cache) builds its own."""
        hit = self._memo.get(name)
        if hit is not None and hit[0] is self:
            return hit[1]
        value = build(self)
        self._memo[name] = (self, value)
        return value

    # -- queries ------------------------------------------------------------------------------

    @property
    def list_ids(self) -> list[str]:
        """The ids of the access lists, in rule-set order."""
        return [lst.id for lst in self.lists]

    def access_list(self, list_id: str) -> AccessList:
        """The access list ``list_id``.

        Parameters
        ----------
        list_id : str

        Returns
        -------
        AccessList

        Raises
        ------
        KeyError
            The rule set has no such list.
        """
        return self._lookup(self._c.lists, list_id, "access list")

    def parent_of(self, list_id: str) -> str | None:
        """The parent list (explicit, or the id's path prefix).

        Parameters
        ----------
        list_id : str

        Returns
        -------
        str or None
            None for a root list.

        Raises
        ------
        KeyError
            The rule set has no such list.
        """
        self.access_list(list_id)
        return self._c.parent[list_id]

    def rules_for_list(self, list_id: str) -> list[Rule]:
        """The effective rules of a list: inherited (minus overridden) then its own.

        Parameters
        ----------
        list_id : str

        Returns
        -------
        list of Rule

        Raises
        ------
        KeyError
            The rule set has no such list.
        """
        self.access_list(list_id)
        return list(self._c.effective[list_id])

    def rule(self, rule_id: str) -> Rule:
        """The rule ``rule_id`` (city-wide or of any list).

        Parameters
        ----------
        rule_id : str

        Returns
        -------
        Rule

        Raises
        ------
        KeyError
            The rule set has no such rule.
        """
        return self._lookup(self._c.by_id, rule_id, "rule")

    def _lookup(self, table: dict[str, Any], key: str, what: str) -> Any:
        """``table[key]``; a KeyError naming ``what`` and the rule set when there is none."""
        try:
            return table[key]
        except KeyError:
            raise KeyError(f"no {what} {quote(key)} in rule set {quote(self.id)}") from None

    def is_industrial_park_list(self, list_id: str) -> bool:
        """Whether units using ``list_id`` are industrial parks.

        Parameters
        ----------
        list_id : str

        Returns
        -------
        bool
            True for :attr:`industrial_park_list` and the lists descending from it.
        """
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
        ``applies_to.except_inside`` and ``applies_to.defer_inside`` (where a site lies
        decides whether they apply)."""
        out = set(self.kinds)
        for r in self.rules:
            at = r.applies_to
            if at is not None:
                out.update(at.aside_kinds)
        return out

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

    # -- time ---------------------------------------------------------------------------------

    @property
    def as_of(self) -> datetime.date | None:
        """The day this rule set holds the rules in force on (None: every rule, any day)."""
        return self._as_of

    @property
    def origin(self) -> RuleSet:
        """The whole rule set (itself, unless this is a view made by :meth:`in_force`)."""
        return self._origin or self

    def validity(self, rule_id: str) -> tuple[datetime.date | None, datetime.date | None]:
        """The days a rule is in force: its own ``valid_from`` / ``valid_to``, else its document's.

        Parameters
        ----------
        rule_id : str

        Returns
        -------
        (date or None, date or None)
            First and last day (inclusive); None: unbounded on that side.

        Raises
        ------
        KeyError
            The rule set has no such rule.
        """
        return self._lookup(self._c.validity, rule_id, "rule")

    def in_force(self, as_of: datetime.date | datetime.datetime | str) -> RuleSet:
        """The rule set as in force on a day: the rules (city-wide and in lists) valid then.

        Parameters
        ----------
        as_of : date, datetime or str
            The day, read as :func:`zoning.screen` reads ``as_of`` (``YYYY-MM-DD`` text; an
            aware datetime on its day in Shanghai).

        Returns
        -------
        RuleSet
            A new rule set with the same documents and lists (a list may be left empty); an
            override naming a rule not in force is dropped.  Its :attr:`as_of` is the day,
            its :attr:`path` and provenance hash the whole rule set's.  Called on such a view
            it starts again from the whole rule set.

        Raises
        ------
        RulesError
            One line naming the rule set and the day when no rule is in force then.
        ZoningError
            ``as_of`` is not a date (one line naming it).
        """
        origin, day = self.origin, as_of_date(as_of)
        hit = origin._views.get(day)
        if hit is not None and hit._origin is origin:
            return hit
        view = rules_in_force(origin, day)
        if len(origin._views) >= 64:
            origin._views.clear()
        origin._views[day] = view
        return view

    def law(self) -> dict[str, Any]:
        """What law this rule set applies: the documents and rules in force, and the rules not.

        Returns
        -------
        dict
            ``as_of`` (``YYYY-MM-DD`` or None), ``documents`` (the documents of the rules in
            force: ``id``, ``label``, ``in_force_from``, ``in_force_to``, ``repealed_by``),
            ``rules`` (``id``, ``document``, ``article``, ``valid_from``, ``valid_to``) and
            ``not_in_force`` (rule ids); dates as ``YYYY-MM-DD`` or None.
        """
        return law_block(self)

    def provenance(self) -> dict[str, Any]:
        """id, version, hash, status, file, day and law of the rule set, for result metadata.

        Returns
        -------
        dict
            Keys ``id``, ``version``, ``hash`` (of the whole rule set, also for a view made by
            :meth:`in_force`), ``status``, ``path`` (None when the rule set was not read from a
            file), ``as_of`` (``YYYY-MM-DD`` or None) and ``law`` (:meth:`law`).
        """
        return {
            "id": self.id,
            "version": self.version,
            "hash": self.origin.hash,
            "status": self.status,
            "path": str(self.path) if self.path else None,
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "law": self.law(),
        }


RuleSet.model_rebuild()
