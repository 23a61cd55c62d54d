"""Policy targets ("seeds"): the quantified goals of the Beautiful Shanghai documents.

The bundled file ``seeds/targets.yml`` lists the policy documents (city and district
plans) and every spatial or spatially measurable target they set: the ecological
protection red line area, the construction land ceiling, forest cover, park green
space per resident and so on.  Each target cites its document, clause and an exact
quote, so every number can be traced back to the text.

:func:`load_targets` reads and validates the file into a :class:`TargetSet`.  The
schema is strict: unknown keys are rejected, and ids written as numbers are not
silently turned into strings.  Every problem is reported as one
:class:`~zoning.errors.SeedsError` naming the file, the entry and the key.

Examples
--------
>>> from zoning.seeds import load_targets
>>> targets = load_targets()
>>> targets.get("sh_red_line_area").value
2527.3
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .._paths import data_dir
from .._yaml import load_yaml
from ..errors import SeedsError, clip, quote

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DEFAULT_TARGETS_PATH",
    "Document",
    "Target",
    "TargetSet",
    "format_value",
    "load_targets",
]

#: The bundled target file, at the repository root next to the source documents.
DEFAULT_TARGETS_PATH = data_dir("seeds") / "targets.yml"

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$")]
NonEmpty = Annotated[str, StringConstraints(min_length=1)]
Scope = Literal["city", "district"]
Comparator = Literal[">=", "<=", ">", "<", "=", "~"]
Unit = Literal["km2", "ha", "mu", "m2", "m2_per_person", "percent", "count", "km", "ug_m3", "t"]

_STRICT = ConfigDict(extra="forbid", strict=True, frozen=True)


def _check_district(scope: str, district: str | None) -> None:
    """Raise a pydantic error unless ``district`` is given exactly when scope is district."""
    if scope == "district" and not district:
        raise PydanticCustomError(
            "seeds_district", "scope is 'district' but no district is given", {"key": "district"}
        )
    if scope == "city" and district is not None:
        raise PydanticCustomError(
            "seeds_district",
            "scope is 'city' but district is {district}",
            {"key": "district", "district": quote(district)},
        )


class Document(BaseModel):
    """One policy document in ``seeds/``.

    Attributes
    ----------
    id : str
        Short identifier, ``[a-z0-9_]+``, cited by targets.
    file : str
        File name of the document text inside the ``seeds/`` directory.
    title_zh, title_en : str
        Title in Chinese (as published) and in English (translation).
    scope : {'city', 'district'}
        Whether the document covers all of Shanghai or one district.
    district : str or None
        Chinese district name (e.g. ``'金山区'``) when ``scope`` is ``'district'``.
    status : str
        Free text: draft for comment, issued, document number, horizon.
    """

    model_config = _STRICT

    id: Identifier
    file: NonEmpty
    title_zh: NonEmpty
    title_en: NonEmpty
    scope: Scope
    district: NonEmpty | None
    status: NonEmpty

    @model_validator(mode="after")
    def _district_iff_scope(self) -> Document:
        _check_district(self.scope, self.district)
        return self


class Target(BaseModel):
    """One quantified policy target.

    Attributes
    ----------
    id : str
        Unique identifier, ``[a-z0-9_]+``.
    indicator : str
        Stable key of the measured quantity; the same quantity carries the same key
        in every document (e.g. ``'pm25_annual_mean'``).
    title_zh, title_en : str
        Name of the indicator in Chinese and English.
    comparator : {'>=', '<=', '>', '<', '=', '~'}
        How the measured value must relate to ``value``; ``'~'`` means approximately
        (the text says 左右 or 约).
    value : float
        The target value in ``unit``.
    unit : str
        One of ``km2``, ``ha``, ``mu`` (亩), ``m2``, ``m2_per_person``, ``percent``,
        ``count``, ``km``, ``ug_m3`` (µg/m³) and ``t`` (tonnes).
    year : int
        Target year; the document's horizon when the clause states none (see ``note``).
    scope : {'city', 'district'}
        Area the target applies to.
    district : str or None
        Chinese district name when ``scope`` is ``'district'``.
    spatial : bool
        True when the quantity can be measured from map layers (an area, a ratio of
        areas or lengths, a coverage, a count of mapped sites).
    document : str
        Id of the :class:`Document` that sets the target.
    clause : str
        Heading numbering where the target appears, e.g. ``'三、(一) 加强生态空间用途管控'``.
    quote : str
        Text of the document containing the value as written (line breaks removed).
    note : str or None
        Conversions and reading notes.
    """

    model_config = _STRICT

    id: Identifier
    indicator: Identifier
    title_zh: NonEmpty
    title_en: NonEmpty
    comparator: Comparator
    value: float
    unit: Unit
    year: int
    scope: Scope
    district: NonEmpty | None
    spatial: bool
    document: Identifier
    clause: NonEmpty
    quote: NonEmpty
    note: NonEmpty | None = None

    @model_validator(mode="after")
    def _district_iff_scope(self) -> Target:
        _check_district(self.scope, self.district)
        return self

    @property
    def requirement(self) -> str:
        """The target as compact text, e.g. ``'>= 2527.3 km2'``."""
        return f"{self.comparator} {format_value(self.value)} {self.unit}"


class TargetSet(BaseModel):
    """All documents and targets of one target file.

    Attributes
    ----------
    version : str
        Version label of the target file (e.g. ``'2026-11'``).
    documents : list of Document
    targets : list of Target
    """

    model_config = _STRICT

    version: NonEmpty
    documents: list[Document]
    targets: list[Target]

    @model_validator(mode="after")
    def _cross_check(self) -> TargetSet:
        _check_unique("documents", [d.id for d in self.documents])
        _check_unique("targets", [t.id for t in self.targets])
        documents = {d.id: d for d in self.documents}
        for t in self.targets:
            doc = documents.get(t.document)
            if doc is None:
                raise PydanticCustomError(
                    "seeds_reference",
                    "unknown document {document}",
                    {
                        "entry": f"target {quote(t.id)}",
                        "key": "document",
                        "document": quote(t.document),
                    },
                )
            if doc.scope == "district" and (t.scope, t.district) != ("district", doc.district):
                raise PydanticCustomError(
                    "seeds_reference",
                    "document {document} covers only {district}",
                    {
                        "entry": f"target {quote(t.id)}",
                        "key": "district",
                        "document": quote(doc.id),
                        "district": doc.district,
                    },
                )
        return self

    def __len__(self) -> int:
        return len(self.targets)

    def get(self, target_id: str) -> Target:
        """Return the target with id ``target_id``.

        Parameters
        ----------
        target_id : str
            A target id.

        Returns
        -------
        Target

        Raises
        ------
        KeyError
            If there is no such target.
        """
        return _by_id(self.targets, target_id)

    def document(self, document_id: str) -> Document:
        """Return the document with id ``document_id``.

        Parameters
        ----------
        document_id : str
            A document id.

        Returns
        -------
        Document

        Raises
        ------
        KeyError
            If there is no such document.
        """
        return _by_id(self.documents, document_id)

    @property
    def districts(self) -> list[str]:
        """Sorted names of the districts that have a document or a target."""
        names = {d.district for d in self.documents} | {t.district for t in self.targets}
        return sorted(n for n in names if n is not None)

    def select(self, scope: str | None = None, district: str | None = None) -> list[Target]:
        """Targets matching a scope and/or a district, in file order.

        Parameters
        ----------
        scope : {'city', 'district'}, optional
            Keep only targets of this scope.
        district : str, optional
            Keep only targets of this district (implies ``scope='district'``).

        Returns
        -------
        list of Target
        """
        return [
            t
            for t in self.targets
            if (scope is None or t.scope == scope) and (district is None or t.district == district)
        ]

    def records(self, targets: list[Target] | None = None) -> list[dict[str, Any]]:
        """One plain dict per target, with the document's file and titles joined.

        Parameters
        ----------
        targets : list of Target, optional
            Subset to export (e.g. from :meth:`select`); all targets by default.

        Returns
        -------
        list of dict
            Target fields plus ``document_file``, ``document_title_zh`` and
            ``document_title_en``.
        """
        documents = {d.id: d for d in self.documents}
        rows = []
        for t in self.targets if targets is None else targets:
            doc = documents[t.document]
            row = t.model_dump()
            row.update(
                document_file=doc.file,
                document_title_zh=doc.title_zh,
                document_title_en=doc.title_en,
            )
            rows.append(row)
        return rows

    def to_frame(self, targets: list[Target] | None = None) -> pd.DataFrame:
        """The targets as a DataFrame, one row per target, document titles joined.

        Parameters
        ----------
        targets : list of Target, optional
            As for :meth:`records`.

        Returns
        -------
        pandas.DataFrame
            Columns are the :class:`Target` fields followed by ``document_file``,
            ``document_title_zh`` and ``document_title_en``.
        """
        import pandas as pd

        columns = [*Target.model_fields, "document_file", "document_title_zh", "document_title_en"]
        return pd.DataFrame(self.records(targets), columns=columns)


def _by_id(items: list[Any], ident: str) -> Any:
    """The first item whose ``id`` is ``ident``; KeyError when there is none."""
    for item in items:
        if item.id == ident:
            return item
    raise KeyError(ident)


def format_value(value: float) -> str:
    """Format a target value without float noise: ``3200``, ``2527.3``, ``9.75``.

    Parameters
    ----------
    value : float
        A target value.

    Returns
    -------
    str
        An integral value without decimals, any other as its ``repr``.
    """
    return str(int(value)) if float(value).is_integer() else repr(value)


def _check_unique(section: str, ids: list[str]) -> None:
    """Raise a pydantic error naming the first id used twice in ``section``."""
    seen: dict[str, int] = {}
    for i, ident in enumerate(ids):
        if ident in seen:
            raise PydanticCustomError(
                "seeds_duplicate",
                "duplicate id (also {section}[{first}])",
                {
                    "entry": f"{_SECTIONS[section]} {quote(ident)} at {section}[{i}]",
                    "key": "id",
                    "section": section,
                    "first": seen[ident],
                },
            )
        seen[ident] = i


def load_targets(path: str | Path | None = None) -> TargetSet:
    """Read and validate a target file.

    Parameters
    ----------
    path : str or path-like, optional
        YAML target file; the bundled ``seeds/targets.yml`` by default.

    Returns
    -------
    TargetSet

    Raises
    ------
    SeedsError
        If the file is missing, is not valid YAML, or breaks the schema (unknown or
        missing key, wrong type, duplicate id, unknown document, district given for a
        city target or missing for a district one).  The message is one line naming
        the file, the entry and the key.
    """
    path = DEFAULT_TARGETS_PATH if path is None else Path(path)
    raw = load_yaml(path, SeedsError, "target file")
    if not isinstance(raw, dict):
        raise SeedsError(f"{path}: expected a mapping with keys version, documents, targets")
    try:
        return TargetSet.model_validate(raw)
    except ValidationError as exc:
        raise SeedsError(_describe(path, raw, exc)) from None


_SECTIONS = {"documents": "document", "targets": "target"}
_SCALARS = (bool, int, float, str, datetime.date)


def _describe(path: Path, raw: dict[str, Any], exc: ValidationError) -> str:
    """One line for the first validation error: file, entry, key and problem."""
    errors = exc.errors(include_url=False)
    err = errors[0]
    loc, ctx = err["loc"], err.get("ctx") or {}
    entry, key = ctx.get("entry"), ctx.get("key")
    if loc and loc[0] in _SECTIONS and len(loc) >= 2 and isinstance(loc[1], int):
        entry = _entry_name(str(loc[0]), raw[loc[0]], loc[1])
        if len(loc) >= 3:
            key = ".".join(str(part) for part in loc[2:])
    elif loc:
        key = ".".join(str(part) for part in loc)
    if err["type"] == "extra_forbidden":
        problem = "unknown key"
    elif err["type"] == "missing":
        problem = "missing key"
    else:
        problem = clip(err["msg"])
        value = err.get("input")
        if err["type"].endswith("_type") and isinstance(value, _SCALARS):
            problem += f" (got {type(value).__name__} {quote(value)})"
    where = " ".join(p for p in (entry, f"key {quote(key)}" if key else None) if p)
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    message = f"{path}: {where + ': ' if where else ''}{problem}{more}"
    return " ".join(message.split())


def _entry_name(section: str, items: Any, index: int) -> str:
    """``"target 'red_line_area'"`` when the entry has a string id, else ``'targets[3]'``."""
    try:
        ident = items[index].get("id")
    except (AttributeError, IndexError, KeyError, TypeError):
        ident = None
    return (
        f"{_SECTIONS[section]} {quote(ident)}" if isinstance(ident, str) else f"{section}[{index}]"
    )
