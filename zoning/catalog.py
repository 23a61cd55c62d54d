"""The layer catalog: a validated manifest of constraint layers.

A catalog is a YAML file with a top-level ``layers:`` list.  Each entry names a
layer ``id``, its ``kind`` (``red_line``, ``control_unit``, ...), the ``source``
file (relative to the catalog, or any URI GDAL understands, or a ``postgresql://`` database
with ``table: schema.table`` and optionally ``where:``) and optionally the
``layer`` inside a multi-layer file, plus titles, encoding, CRS, a field
mapping, official totals and provenance.  The schema rejects unknown keys and
codes written as numbers (YAML 1.1 reads ``0101`` as 65 and ``NO`` as false),
with a one-line message naming the entry and the key.

Vintages: an entry may carry ``valid_from`` / ``valid_to`` (ISO dates ``YYYY-MM-DD``, written
as YAML dates or quoted strings; ``valid_to`` is the LAST day the layer is in force,
inclusive; either may be absent = open-ended).  A catalog may hold several vintages of one
kind under distinct ids; :meth:`Catalog.in_force` keeps the layers in force on a date.  Two
layers of one kind whose periods overlap are allowed (both are in force on the shared days,
as two undated layers of one kind always are); the catalog author decides whether that is
meant.
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from ._paths import data_dir
from ._yaml import load_yaml
from .dates import as_of_date, parse_date
from .errors import CatalogError, clip, quote

__all__ = [
    "DEFAULT_CATALOG",
    "KINDS",
    "STREAM_ALIASES",
    "Catalog",
    "FieldMap",
    "KindInfo",
    "LayerEntry",
    "Provenance",
    "check_encoding",
    "parse_iso_date",
    "parse_layer_spec",
    "read_catalog",
]


#: The bundled Shanghai demonstration catalog.
DEFAULT_CATALOG = data_dir("layers") / "catalog.yml"


class KindInfo(BaseModel):
    """What a layer kind is and which geometries it holds."""

    model_config = ConfigDict(frozen=True)
    geometry: Literal["polygon", "line", "point"]
    title_zh: str
    title_en: str


#: The layer kinds as rows ``(kind, geometry, title_zh, title_en)``, from which :data:`KINDS`
#: is made.
_KIND_TABLE = (
    ("red_line", "polygon", "生态保护红线", "Ecological protection red line"),
    ("development_boundary", "polygon", "城镇开发边界", "Urban development boundary"),
    ("basic_farmland", "polygon", "永久基本农田", "Permanent basic farmland"),
    ("water", "polygon", "河湖水面", "Rivers and lakes"),
    ("water_source_zone", "polygon", "饮用水水源保护区", "Drinking-water source protection zones"),
    ("nature_reserve", "polygon", "自然保护区", "Nature reserves"),
    ("control_unit", "polygon", "生态环境管控单元", "Environmental control units"),
    ("district", "polygon", "行政区", "Districts"),
    ("sea_area", "polygon", "海域", "Sea area"),
    ("forest", "polygon", "森林", "Forest"),
    ("park", "polygon", "公园绿地", "Parks and public open space"),
    ("industrial_park", "polygon", "产业园区", "Industrial parks"),
    ("wetland", "polygon", "湿地", "Wetlands"),
    ("cultivated_land", "polygon", "耕地", "Cultivated land"),
    ("greenway", "line", "绿道", "Greenways"),
    ("coastline", "line", "岸线", "Coastline"),
    ("shoreline", "line", "长江岸线", "Yangtze shoreline"),
    (
        "heritage_site",
        "polygon",
        "文物保护单位保护范围和建设控制地带",
        "Protected heritage sites: protection range and construction-control zone",
    ),
    ("noise_sensitive_area", "polygon", "噪声敏感建筑物集中区域", "Noise-sensitive building areas"),
    ("population", "point", "人口点", "Population points"),
)
#: Layer kinds the toolkit knows.  Extend this mapping (or the table above) to add a kind.
KINDS: dict[str, KindInfo] = {
    kind: KindInfo(geometry=geometry, title_zh=title_zh, title_en=title_en)
    for kind, geometry, title_zh, title_en in _KIND_TABLE
}

_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")

#: Control-unit categories and the ways catalogs spell them.
UNIT_CATEGORY_ALIASES = {
    "priority": "priority",
    "优先保护单元": "priority",
    "优先保护": "priority",
    "1": "priority",
    "key": "key",
    "重点管控单元": "key",
    "重点管控": "key",
    "2": "key",
    "general": "general",
    "一般管控单元": "general",
    "一般管控": "general",
    "3": "general",
}
#: Shoreline streams (attribute ``stream`` of a ``shoreline`` layer) and their spellings: the
#: Yangtze main stream (干流) or a tributary (支流, e.g. 黄浦江).
STREAM_ALIASES = {
    "main": "main",
    "干流": "main",
    "长江干流": "main",
    "tributary": "tributary",
    "支流": "tributary",
    "长江支流": "tributary",
}
#: Red-line realms and the ways catalogs spell them.
REALM_ALIASES = {
    "land": "land",
    "陆域": "land",
    "陆地": "land",
    "sea": "sea",
    "海域": "sea",
    "长江河口及海域": "sea",
    "河口及海域": "sea",
    "marine": "sea",
}


def normalize_values(values, aliases: dict[str, str], what: str) -> list[str]:
    """Map spelled values to their codes; unknown values raise a one-line LayerDataError.

    Parameters
    ----------
    values : iterable
        The values as read from a column; each is turned into ``str`` and stripped before
        lookup.  ``None`` counts as unknown.
    aliases : dict of str to str
        Spelling -> code, e.g. :data:`REALM_ALIASES`.
    what : str
        What the values are, to start the error message (e.g. a layer and column).

    Returns
    -------
    list of str
        The code of each value, in order.

    Raises
    ------
    LayerDataError
        Some value is not in ``aliases``; the message names up to five of them and the known
        codes.
    """
    from .errors import LayerDataError

    out, unknown = [], set()
    for v in values:
        code = aliases.get(str(v).strip()) if v is not None else None
        if code is None:
            unknown.add(str(v))
        out.append(code)
    if unknown:
        known = ", ".join(sorted(set(aliases.values())))
        raise LayerDataError(
            f"{what}: unknown value(s) {', '.join(sorted(unknown)[:5])} (expected {known} "
            "or their Chinese names)"
        )
    return out


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


class FieldMap(_Strict):
    """Which columns of the source hold the standard attributes."""

    id: str | None = None
    name: str | None = None
    name_en: str | None = None
    category: str | None = None
    unit_code: str | None = None
    realm: str | None = None
    level: str | None = None
    district: str | None = None
    population: str | None = None
    access_list: str | None = None
    stream: str | None = None

    def mapped(self) -> dict[str, str]:
        """The standard attribute -> source column pairs that are set."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


class Provenance(_Strict):
    """Where a layer comes from and whether it is authoritative."""

    status: Literal["authoritative", "demonstration", "unknown"]
    source: str
    vintage: str | None = None
    licence: str | None = None
    url: str | None = None
    note: str | None = None


class Subtotals(_Strict):
    """Official figures per value of one column (e.g. red line by ``realm``)."""

    by: str
    values: dict[str, float]


class SubCounts(_Strict):
    """Official feature counts per value of one column (e.g. units by ``category``)."""

    by: str
    values: dict[str, int]


class LayerEntry(_Strict):
    """One layer of a catalog."""

    id: str
    kind: str
    source: str
    layer: str | None = None
    title_zh: str | None = None
    title_en: str | None = None
    encoding: str | None = None
    crs: str | None = None
    fields: FieldMap = Field(default_factory=FieldMap)
    official_total_km2: float | None = None
    official_total_source: str | None = None
    official_subtotals_km2: Subtotals | None = None
    official_count: int | None = None
    official_subcounts: SubCounts | None = None
    official_count_source: str | None = None
    positional_tolerance_m: float | None = Field(default=None, ge=0)
    #: Distance bands reported for this layer (m), e.g. [100, 500, 1000]; a site's ring is the
    #: smallest band that reaches the nearest feature.
    buffer_rings_m: list[float] | None = None
    provenance: Provenance | None = None
    #: Trusted catalogs only: let this layer's source be a VRT (which reads other files).
    allow_vrt: bool = False
    #: A ``postgresql://`` source's table, ``schema.table`` (or ``table``).
    table: str | None = None
    #: A ``postgresql://`` source's SQL condition on the rows (trusted text, as the catalog;
    #: no ``;``).
    where: str | None = None
    #: First day this layer (vintage) is in force; ``None``: since ever.
    valid_from: dt.date | None = None
    #: LAST day this layer is in force (inclusive); ``None``: still in force.
    valid_to: dt.date | None = None

    @field_validator("valid_from", "valid_to", mode="before")
    @classmethod
    def _parse_date(cls, value: object) -> object:
        return parse_iso_date(value)

    @model_validator(mode="after")
    def _check_period(self) -> LayerEntry:
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValueError(
                f"key 'valid_to': {self.valid_to.isoformat()} is before valid_from "
                f"{self.valid_from.isoformat()} (valid_to is the last day in force)"
            )
        return self

    @model_validator(mode="after")
    def _check_database(self) -> LayerEntry:
        database = self.source.lower().startswith(("postgresql://", "postgres://"))
        if database and not self.table:
            raise ValueError("key 'table': required for a postgresql:// source (schema.table)")
        for key in ("table", "where"):
            if not database and getattr(self, key) is not None:
                raise ValueError(f"key {key!r}: only for a postgresql:// source")
        if self.where is not None and ";" in self.where:
            raise ValueError("key 'where': one SQL condition, without ';'")
        return self

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not _ID.fullmatch(value):
            raise ValueError("must start with a letter and hold only letters, digits, _ . -")
        return value

    @field_validator("kind")
    @classmethod
    def _check_kind(cls, value: str) -> str:
        if value not in KINDS:
            raise ValueError(f"unknown kind {quote(value)} (known: {', '.join(KINDS)})")
        return value

    @field_validator("encoding")
    @classmethod
    def _check_encoding(cls, value: str | None) -> str | None:
        return None if value is None else check_encoding(value)

    @field_validator("buffer_rings_m")
    @classmethod
    def _check_rings(cls, value: list[float] | None) -> list[float] | None:
        if value is None:
            return value
        if not value or any(v <= 0 for v in value) or sorted(set(value)) != list(value):
            raise ValueError(
                "buffer_rings_m must be distinct positive distances in ascending order"
            )
        return value

    def in_force_on(self, day: dt.date) -> bool:
        """Whether this layer is in force on ``day`` (both ends of the period inclusive).

        Parameters
        ----------
        day : datetime.date

        Returns
        -------
        bool
            ``valid_from <= day <= valid_to``, an absent bound counting as open.
        """
        if self.valid_from is not None and day < self.valid_from:
            return False
        return self.valid_to is None or day <= self.valid_to

    def period(self) -> str:
        """The validity period as text: ``2017-10-07 to 2026-03-14``, open ends as ``...``.

        Returns
        -------
        str
        """
        start = self.valid_from.isoformat() if self.valid_from else "..."
        end = self.valid_to.isoformat() if self.valid_to else "..."
        return f"{start} to {end}"

    @property
    def kind_info(self) -> KindInfo:
        """The :data:`KINDS` entry of this layer's ``kind``."""
        return KINDS[self.kind]

    @property
    def is_demonstration(self) -> bool:
        """Whether the provenance says ``status: demonstration`` (False without provenance)."""
        return self.provenance is not None and self.provenance.status == "demonstration"

    def title(self, lang: str = "en") -> str:
        """The layer's title, falling back to its kind's title.

        Parameters
        ----------
        lang : str, default "en"
            ``"zh"`` for the Chinese title; any other value gives the English one.

        Returns
        -------
        str
        """
        if lang == "zh":
            return self.title_zh or self.kind_info.title_zh
        return self.title_en or self.kind_info.title_en


class Catalog(_Strict):
    """A validated catalog.  ``path`` is the file it was read from (sources resolve against it)."""

    version: str | None = None
    title: str | None = None
    note: str | None = None
    layers: list[LayerEntry]
    path: Path | None = Field(default=None, exclude=True)
    _as_of: dt.date | None = PrivateAttr(default=None)
    _not_in_force: tuple[LayerEntry, ...] = PrivateAttr(default=())

    @property
    def as_of(self) -> dt.date | None:
        """The date :meth:`in_force` filtered this catalog for; ``None`` when unfiltered."""
        return self._as_of

    @property
    def not_in_force(self) -> list[LayerEntry]:
        """The entries :meth:`in_force` left out (empty on an unfiltered catalog)."""
        return list(self._not_in_force)

    def in_force(self, as_of: dt.date | dt.datetime | str) -> Catalog:
        """The catalog holding only the layers in force on ``as_of``.

        Parameters
        ----------
        as_of : date, datetime or str
            The day (read as :func:`zoning.screen` reads ``as_of``); a layer is kept when
            ``valid_from <= as_of <= valid_to`` (absent bounds open).  Several layers of one
            kind may be in force at once.

        Returns
        -------
        Catalog
            A copy with the same path, version, title and note; :attr:`as_of` set and
            :attr:`not_in_force` holding the entries left out.  ``self`` is unchanged.

        Raises
        ------
        CatalogError
            No layer at all is in force that day; the one-line message names the catalog file,
            the date and the layers' periods.
        ZoningError
            ``as_of`` is not a date (one line naming it).
        """
        as_of = as_of_date(as_of)
        kept = [e for e in self.layers if e.in_force_on(as_of)]
        if not kept:
            periods = list(dict.fromkeys(e.period() for e in self.layers))
            shown = "; ".join(periods[:5]) + ("; ..." if len(periods) > 5 else "")
            raise CatalogError(
                f"{self._name()}: no layer is in force on {as_of.isoformat()} "
                f"(layers are valid from {shown})"
            )
        out = self.model_copy(update={"layers": kept})
        out._as_of = as_of
        out._not_in_force = tuple(e for e in self.layers if not e.in_force_on(as_of))
        return out

    @property
    def base_dir(self) -> Path:
        """The folder relative sources resolve against: the catalog file's, else the cwd."""
        return self.path.parent if self.path is not None else Path.cwd()

    def by_id(self, layer_id: str) -> LayerEntry:
        """The entry whose ``id`` is ``layer_id``.

        Parameters
        ----------
        layer_id : str

        Returns
        -------
        LayerEntry

        Raises
        ------
        CatalogError
            No layer has that id.
        """
        for entry in self.layers:
            if entry.id == layer_id:
                return entry
        raise CatalogError(f"{self._name()}: no layer with id {quote(layer_id)}")

    def of_kind(self, kind: str) -> list[LayerEntry]:
        """The entries of one kind, in catalog order.

        Parameters
        ----------
        kind : str
            A key of :data:`KINDS`; an unknown kind gives an empty list.

        Returns
        -------
        list of LayerEntry
        """
        return [e for e in self.layers if e.kind == kind]

    def _name(self) -> str:
        return self.path.name if self.path else "catalog"

    def with_layers(self, extra: list[LayerEntry]) -> Catalog:
        """A new catalog where ``extra`` entries replace the catalog's layers of their kinds.

        Parameters
        ----------
        extra : list of LayerEntry
            Entries to swap in.  The official total and count figures (and their sources) set
            on the first replaced layer of the same kind override the entry's own; subtotals
            stay the entry's.  An id already taken gets a suffix ``_2``, ``_3``, ...

        Returns
        -------
        Catalog
            A copy; ``self`` is unchanged.  Kept layers come first, then the new ones.
        """
        kinds = {e.kind for e in extra}
        kept = [e for e in self.layers if e.kind not in kinds]
        # The official figures belong to the kind, not the file: a swapped-in red line is still
        # checked against 2527.30 km².  Subtotals name columns, so they stay with their file.
        official = {}
        for e in self.layers:
            if e.kind in kinds and e.kind not in official:
                official[e.kind] = {
                    k: getattr(e, k)
                    for k in (
                        "official_total_km2",
                        "official_total_source",
                        "official_count",
                        "official_count_source",
                    )
                    if getattr(e, k) is not None
                }
        extra = [e.model_copy(update=official.get(e.kind, {})) for e in extra]
        taken = {e.id for e in kept}
        renamed = []
        for entry in extra:
            new_id, n = entry.id, 1
            while new_id in taken:
                n += 1
                new_id = f"{entry.id}_{n}"
            taken.add(new_id)
            renamed.append(entry.model_copy(update={"id": new_id}))
        return self.model_copy(update={"layers": kept + renamed})


def _describe(exc: ValidationError, raw: dict, name: str) -> str:
    err = exc.errors()[0]
    loc = list(err["loc"])
    where = name
    if len(loc) >= 2 and loc[0] == "layers" and isinstance(loc[1], int):
        index = loc[1]
        layers = raw.get("layers") or []
        ident = layers[index].get("id") if isinstance(layers[index], dict) else None
        where = (
            f"{name}: layer {quote(ident)} (entry {index + 1})"
            if ident
            else f"{name}: entry {index + 1}"
        )
        loc = loc[2:]
    key = ".".join(str(p) for p in loc) or "(entry)"
    typ, msg = err["type"], err["msg"]
    if typ == "extra_forbidden":
        text = "unknown key"
    elif typ == "missing":
        text = "required key is missing"
    elif typ == "string_type":
        got = quote(err["input"])
        text = f"must be a string, got {got}; quote codes and ids in YAML (e.g. '0101')"
    else:
        text = clip(msg.removeprefix("Value error, "))
    n_more = len(exc.errors()) - 1
    more = f" (and {n_more} more problem{'s' if n_more > 1 else ''})" if n_more else ""
    if key == "(entry)" and text.startswith("key '"):
        return f"{where}: {text}{more}"  # an entry-level check names its own key
    return f"{where}: key {quote(key)}: {text}{more}"


def parse_iso_date(value: object) -> object:
    """Turn a ``YYYY-MM-DD`` string (or a YAML date) into a :class:`datetime.date`.

    Parameters
    ----------
    value : object
        ``None``, a :class:`datetime.date` (not a datetime) or an ISO date string.

    Returns
    -------
    datetime.date or None

    Raises
    ------
    ValueError
        Anything else (a number, a timestamp, ``2026-3-15``, an impossible date); callers
        prefix the key that held it.  The parsing is :func:`zoning.dates.parse_date`'s.
    """
    return None if value is None else parse_date(value)


def check_encoding(value: str) -> str:
    """Check that a declared text encoding is one Python knows.

    Parameters
    ----------
    value : str
        A codec name (``utf-8``, ``gbk``, ``gb18030``, ``big5`` ...).

    Returns
    -------
    str
        ``value`` unchanged.

    Raises
    ------
    ValueError
        ``'X' is not a text encoding Python knows (e.g. utf-8, gb18030, big5)``; callers
        prefix the option or key that declared it.
    """
    try:
        codecs.lookup(value)
    except (LookupError, TypeError, ValueError):
        raise ValueError(
            f"{quote(value)} is not a text encoding Python knows (e.g. utf-8, gb18030, big5)"
        ) from None
    return value


def read_catalog(path: str | Path | None = None) -> Catalog:
    """Read and validate a catalog file (the bundled demonstration catalog by default).

    Parameters
    ----------
    path : str or Path, optional
        A catalog YAML file; ``None`` selects the demonstration catalog.

    Returns
    -------
    Catalog
        The validated entries; layers are not read (see :func:`zoning.load_catalog`).

    Raises
    ------
    CatalogError
        For a missing or unparsable file, an unknown key, an unknown kind, a
        code written as a number or a duplicate id; the message names the entry
        and the key.
    """
    path = Path(path) if path is not None else DEFAULT_CATALOG
    name = str(path)
    raw = load_yaml(path, CatalogError, "catalog")
    if not isinstance(raw, dict) or "layers" not in raw:
        raise CatalogError(f"{name}: expected a mapping with a top-level 'layers:' list")
    if not isinstance(raw["layers"], list) or not raw["layers"]:
        raise CatalogError(f"{name}: 'layers' must be a non-empty list")
    try:
        catalog = Catalog.model_validate({**raw, "path": None})
    except ValidationError as exc:
        raise CatalogError(_describe(exc, raw, name)) from None
    seen: set[str] = set()
    for i, entry in enumerate(catalog.layers, 1):
        if entry.id in seen:
            raise CatalogError(
                f"{name}: layer {quote(entry.id)} (entry {i}): key 'id': duplicate id"
            )
        seen.add(entry.id)
    return catalog.model_copy(update={"path": path.resolve()})


def parse_layer_spec(spec: str) -> LayerEntry:
    """Parse a ``KIND=PATH`` command-line layer into a catalog entry.

    The path is taken relative to the current directory.  A CRS may follow
    the path after ``@`` (``red_line=mine.shp@EPSG:4549``) for files without one.

    Parameters
    ----------
    spec : str
        ``KIND=PATH`` or ``KIND=PATH@CRS``.

    Returns
    -------
    LayerEntry
        An entry of unknown data status whose id is its kind.

    Raises
    ------
    CatalogError
        For a malformed spec or an unknown kind.
    """
    kind, sep, rest = spec.partition("=")
    kind = kind.strip()
    if not sep or not kind or not rest.strip():
        raise CatalogError(
            f"--layer {quote(spec)}: expected KIND=PATH (e.g. red_line=redline.gpkg)"
        )
    if kind not in KINDS:
        raise CatalogError(
            f"--layer {quote(spec)}: unknown kind {quote(kind)} (known: {', '.join(KINDS)})"
        )
    rest = rest.strip()
    source, crs = rest, ""
    if "@" in rest and not Path(rest).exists():
        source, _, crs = rest.rpartition("@")
    source_path = Path(source)
    if "://" not in source and not source.startswith("/vsi"):
        source = str(source_path.resolve())
    return LayerEntry(
        id=kind,
        kind=kind,
        source=source,
        crs=crs or None,
        provenance=Provenance(status="unknown", source=f"user file {source_path.name} (--layer)"),
    )
