"""Project attributes of sites: industry codes, flags, nature, ids and derived values.

Attribute columns are found by name (case-insensitive, with Chinese aliases) or given for
every site by the ``attributes=`` option; a column and an option for the same attribute must
agree on every row.  Each distinct value is parsed once.  "两高" is derived from the industry
code's major division and ``linear`` from a line geometry, unless declared.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import shapely

from ..errors import SitesError, quote
from ..schema import FLAGS, INDUSTRY_SECTION_OF, INDUSTRY_SECTIONS, NATURES, SITE_COLUMNS
from .choices import CHOICE_PARSERS, NATURE_WORDS
from .raw import (
    _MAX_LISTED,
    _Bad,
    _id_text,
    _is_blank,
    _is_number,
    _norm,
    _Raw,
    _RowsError,
    _short,
    _Where,
)

__all__ = [
    "FLAGS",
    "NATURES",
    "SITE_COLUMNS",
    "TWO_HIGH_DIVISIONS",
    "TWO_HIGH_EXCEPTIONS",
    "parse_industry_code",
]

#: GB/T 4754-2017 major divisions whose projects count as "两高" (high energy use, high
#: emission): petroleum/coal processing, chemicals, non-metallic minerals, ferrous and
#: non-ferrous smelting, power and heat (环环评〔2021〕45号; NDRC's six industries).
TWO_HIGH_DIVISIONS = frozenset({"25", "26", "30", "31", "32", "44"})
#: Classes inside those divisions that are not "两高" although their division is: renewable,
#: nuclear and other non-fossil power generation and the grid itself (the MEE's six types
#: name 煤电, coal power, not the whole power sector).  A code given only to the division
#: (``44``) or group (``441``) still counts as 两高.
TWO_HIGH_EXCEPTIONS = frozenset({"4413", "4414", "4415", "4416", "4417", "4419", "4420"})

_SECTION_OF = INDUSTRY_SECTION_OF
_SECTION_RANGE = INDUSTRY_SECTIONS
_CODE_RE = re.compile(r"([A-Za-z]?)(\d{2,4})")

_TRUE = frozenset({"true", "yes", "y", "1", "是"})
_FALSE = frozenset({"false", "no", "n", "0", "否"})

# Attribute columns: accepted names (compared case-insensitively, spaces and '-' as '_').
_ATTR_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "site_id", "siteid", "编号", "项目编号", "序号"),
    "name": ("name", "site_name", "project_name", "名称", "项目名称"),
    "industry": (
        "industry",
        "industry_code",
        "gbt4754",
        "gb_t4754",
        "gb4754",
        "行业代码",
        "行业类别代码",
        "行业分类代码",
        "国民经济行业代码",
    ),
    "nature": ("nature", "建设性质", "性质"),
    "linear": ("linear", "线性工程", "线性基础设施", "是否线性工程"),
    "wastewater": ("wastewater", "废水", "排放废水", "废水排放", "是否排放废水"),
    "air": ("air", "废气", "排放废气", "大气污染物", "是否排放废气"),
    "hazardous": ("hazardous", "危险化学品", "危化品", "涉及危险化学品"),
    "two_high": ("two_high", "两高", "是否两高"),
    "key_project": ("key_project", "重大建设项目", "是否重大建设项目"),
    "residential_building": ("residential_building", "居民楼", "居民住宅楼", "是否位于居民楼"),
    "noise": ("noise", "工业噪声", "是否产生工业噪声"),
    "discharge": ("discharge", "排放去向", "废水去向", "废水排放去向"),
    "red_line_activity": ("red_line_activity", "红线有限人为活动", "有限人为活动"),
    "facility": ("facility", "facilities", "设施"),
}
_ATTRIBUTE_COLUMNS = SITE_COLUMNS[1 : SITE_COLUMNS.index("linear_source") + 1]
_OPTION_KEYS = ("id", "name", "industry", "nature", *FLAGS, *CHOICE_PARSERS)


def parse_industry_code(text: str) -> tuple[str, str]:
    """Normalise a GB/T 4754-2017 industry code: ``"2614"`` -> ``("C2614", "26")``.

    Accepts an optional section letter (门类, A-T, any case) followed by 2-4 digits
    (大类 / 中类 / 小类), with spaces anywhere: ``"C2614"``, ``"c2614"``, ``" C 2614 "``,
    ``"261"``, ``"26"``.  The major division (the first two digits) must be 01-97 and
    a given letter must be the section of that division.

    Parameters
    ----------
    text : str
        The code as written.  Numbers are refused: a code stored as a number has
        lost its leading zero (``0511`` -> ``511``, which reads as division 51).

    Returns
    -------
    (code, division) : tuple of str
        The code with its section letter (``"C2614"``) and the two-digit major
        division (``"26"``).

    Raises
    ------
    SitesError
        When the text is not such a code, with the reason.

    Notes
    -----
    Only the section and major division are checked against the standard (the
    table in ``shanghai_facts.md`` §5.2); whether a 3- or 4-digit class exists
    is not checked, since the full class list is not shipped.
    """
    try:
        return _parse_industry(text)
    except _Bad as exc:
        raise SitesError(str(exc)) from None


def _parse_industry(text: object) -> tuple[str, str]:
    if _is_number(text):
        raise _Bad(
            f"{quote(text)} is a number; store industry codes as text (leading zeros matter: "
            "0511 stored as a number reads as 511)"
        )
    if not isinstance(text, str):
        raise _Bad(f"{_short(text)} is not a GB/T 4754-2017 industry code")
    compact = "".join(text.split())
    m = _CODE_RE.fullmatch(compact)
    if m is None:
        raise _Bad(
            f"{_short(text)} is not a GB/T 4754-2017 industry code (expected an optional "
            "section letter A-T and 2-4 digits, e.g. C2614 or 2614)"
        )
    letter, digits = m.group(1).upper(), m.group(2)
    division = digits[:2]
    section = _SECTION_OF.get(int(division))
    if section is None:
        raise _Bad(
            f"{_short(text)}: major division {division} does not exist in GB/T 4754-2017 (01-97)"
        )
    if letter and letter != section:
        if letter in _SECTION_RANGE:
            lo, hi = _SECTION_RANGE[letter]
            span = f"{lo:02d}-{hi:02d}" if lo != hi else f"{lo:02d}"
            why = f"section {letter} holds divisions {span}"
        else:
            why = "sections are A-T"
        raise _Bad(
            f"{_short(text)}: section letter {letter} does not match major division {division} "
            f"(section {section}; {why})"
        )
    return section + digits, division


def _derived_two_high(parsed: tuple[str, str]) -> bool:
    """ "两高" from a parsed industry code (code with section letter, division)."""
    digits = parsed[0].lstrip("ABCDEFGHIJKLMNOPQRST")
    return parsed[1] in TWO_HIGH_DIVISIONS and digits[:4] not in TWO_HIGH_EXCEPTIONS


def _parse_industry_cell(value: object) -> tuple[str, str] | None:
    return None if _is_blank(value) else _parse_industry(value)


def _parse_flag(value: object) -> bool | None:
    if _is_blank(value):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if _is_number(value):
        if value == 1:
            return True
        if value == 0:
            return False
    elif isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise _Bad(
        f"{_short(value)} is not yes/no (use yes/no, true/false, y/n, 1/0, 是/否, or leave empty)"
    )


def _parse_nature(value: object) -> str | None:
    if _is_blank(value):
        return None
    if isinstance(value, str):
        word = " ".join(value.split()).lower()
        if word in NATURE_WORDS:
            return NATURE_WORDS[word]
    codes = dict.fromkeys(NATURE_WORDS.values())
    allowed = (
        ", ".join(codes)
        + ", or "
        + "; ".join(
            f"{', '.join(w for w, c in NATURE_WORDS.items() if c == code and w != code)} ({code})"
            for code in codes
        )
    )
    raise _Bad(f"{_short(value)} is not a project nature (allowed: {allowed})")


def _parse_text(value: object) -> str | None:
    if _is_blank(value):
        return None
    return _id_text(value)


def _map_values(
    values: Any,
    parse: Callable[[object], Any],
    where: _Where,
    column: str,
    ids: np.ndarray | None = None,
) -> tuple[np.ndarray, list[Any]]:
    """Parse each distinct value once: (codes into the parsed list, parsed distinct values).

    Blank cells are code -1, and the parsed list ends with ``parse(None)``, so
    ``np.asarray(parsed, dtype=object)[codes]`` is the parsed column.  A value that does not
    parse is one ``SitesError`` line naming the row, the column and (with ``ids``) the site.
    """
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    parsed: list[Any] = []
    bad: dict[int, str] = {}
    for k, value in enumerate(uniques):
        try:
            parsed.append(parse(value))
        except _Bad as exc:
            parsed.append(None)
            bad[k] = str(exc)
    if bad:
        # Every row holding a value that does not parse, in row order (the first is the error).
        rows = np.flatnonzero(np.isin(codes, list(bad)))

        def message(row: int) -> str:
            site = f" (site {quote(ids[row])})" if ids is not None else ""
            return f"{where.cell(row, column)}: {bad[int(codes[row])]}{site}"

        raise _RowsError.at(rows, column, message)
    parsed.append(None)
    return codes, parsed


def _take(parsed: list[Any], codes: np.ndarray) -> np.ndarray:
    arr = np.empty(len(parsed), dtype=object)
    arr[:] = parsed
    return arr[codes]


def _attribute_columns(raw: _Raw, id_field: str | None, name_field: str | None) -> dict[str, str]:
    """{attribute: column} for the attribute columns the table has."""
    if raw.table is None:
        if id_field or name_field:
            which = "id_field" if id_field else "name_field"
            raise SitesError(f"{raw.where.name}: {which} needs a source with attribute columns")
        return {}
    cols = [str(c) for c in raw.table.columns if str(c) not in raw.geometry_columns]
    found: dict[str, str] = {}
    for key, explicit, option in (("id", id_field, "id_field"), ("name", name_field, "name_field")):
        if explicit is None:
            continue
        match = [c for c in cols if c == explicit] or [
            c for c in cols if c.lower() == str(explicit).lower()
        ]
        if not match:
            shown = ", ".join(quote(c) for c in cols[:12]) or "none"
            raise SitesError(
                f"{raw.where.name}: {option} {quote(explicit)} is not a column (columns: {shown})"
            )
        found[key] = match[0]
    taken = set(found.values())
    for key, names in _ATTR_ALIASES.items():
        if key in found:
            continue
        wanted = {n.lower() for n in names}
        hits = [c for c in cols if _norm(c) in wanted and c not in taken]
        if len(hits) > 1:
            raise SitesError(
                f"{raw.where.name}: columns {', '.join(quote(h) for h in hits)} all give {key}; "
                "keep one"
            )
        if hits:
            found[key] = hits[0]
    return found


def _check_options(attributes: Mapping[str, object] | None) -> dict[str, object]:
    if attributes is None:
        return {}
    if not isinstance(attributes, Mapping):
        raise SitesError("attributes must be a mapping such as {'industry': 'C2614'}")
    unknown = [k for k in attributes if k not in _OPTION_KEYS]
    if unknown:
        raise SitesError(
            f"attributes: unknown key(s) {', '.join(quote(k) for k in unknown)} "
            f"(allowed: {', '.join(_OPTION_KEYS)})"
        )
    # None, and an empty list of facilities, are "not given"
    return {k: v for k, v in attributes.items() if v is not None and not _empty_list(v)}


def _empty_list(value: object) -> bool:
    return isinstance(value, list | tuple | set | frozenset) and not value


def _option_value(key: str, value: object, parse: Callable[[object], Any]) -> Any:
    try:
        return parse(value)
    except _Bad as exc:
        raise SitesError(f"option {key}: {exc}") from None


def _stripped(texts: np.ndarray) -> np.ndarray:
    """``[t.strip() for t in texts]`` as a new object array; only the texts that begin or end
    with whitespace (found with numpy's string functions) are stripped one by one."""
    out = np.array(texts, dtype=object)  # a copy: never the caller's array
    if not len(out):
        return out
    s = out.astype(np.dtypes.StringDType())
    edge = np.strings.isspace(np.strings.slice(s, 0, 1)) | np.strings.isspace(
        np.strings.slice(s, -1, None)
    )
    for i in np.flatnonzero(edge):
        out[i] = out[i].strip()
    return out


def _site_ids(
    raw: _Raw, column: str | None, option: object | None, *, explicit: bool, notes: list[str]
) -> np.ndarray:
    n, where = raw.n, raw.where
    if (
        column is not None
        and not explicit
        and _is_blank(raw.table[column].iloc[0])  # type: ignore[index]
        and raw.table[column].map(_is_blank).all()  # type: ignore[index]
    ):
        # KML (LIBKML) always has an 'id' column, usually empty: no ids given is not an error.
        notes.append(f"column {quote(column)} is empty: sites numbered instead")
        column = None
    if column is not None:
        series = raw.table[column]  # type: ignore[index]
        if pd.api.types.is_integer_dtype(series.dtype):
            ids = series.astype("int64").astype(str).to_numpy(dtype=object)
        elif pd.api.types.infer_dtype(series, skipna=False) == "string":
            ids = _stripped(series.fillna("").to_numpy(dtype=object))
        else:
            ids = np.array(["" if _is_blank(v) else _id_text(v) for v in series], dtype=object)
        blank = ids == ""
        if blank.any():
            raise _RowsError.at(
                np.flatnonzero(blank),
                column,
                lambda i: f"{where.cell(i, column)}: site id is empty",
            )
        if option is not None:
            wanted = _id_text(option)
            differ = ids != wanted
            if differ.any():
                i = int(np.flatnonzero(differ)[0])
                raise SitesError(
                    f"{where.row(i)}: id is given by column {quote(column)} ({quote(ids[i])}) "
                    "and by the "
                    f"option id={quote(wanted)}, and they differ; give it one way"
                )
    elif option is not None:
        ids = np.full(n, _id_text(option), dtype=object)
    elif raw.file_ids is not None:
        ids = raw.file_ids
    else:
        # Numbered by their place in the input (rows set aside keep their numbers).
        ids = (raw.input_positions() + 1).astype(str).astype(object)
    series = pd.Series(ids, dtype=object)
    if series.is_unique:  # one hash pass; the duplicates are found only to name them
        return ids
    dup = series.duplicated(keep=False).to_numpy()
    if dup.any():
        shown = []
        for value, positions in list(pd.Series(np.flatnonzero(dup)).groupby(ids[dup], sort=False))[
            :_MAX_LISTED
        ]:
            shown.append(f"{quote(value)} ({where.rows(positions.to_numpy())})")
        source = (
            f"column {quote(column)}" if column else ("option id" if option is not None else "ids")
        )
        raise SitesError(f"{where.name}: duplicate site ids in {source}: {'; '.join(shown)}")
    return ids


def _attributes(
    raw: _Raw,
    columns: dict[str, str],
    options: dict[str, object],
    notes: list[str],
    ids: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    n, where = raw.n, raw.where
    out: dict[str, np.ndarray] = {}
    parsers: dict[str, Callable[[object], Any]] = {
        "name": _parse_text,
        "nature": _parse_nature,
        **{f: _parse_flag for f in FLAGS},
        **CHOICE_PARSERS,
    }

    def column_or_option(key: str, parse: Callable[[object], Any]) -> tuple[np.ndarray, list, Any]:
        col = columns.get(key)
        opt = _option_value(key, options[key], parse) if key in options else None
        if col is None:
            codes = np.full(n, 0 if key in options else -1, dtype=np.intp)
            return codes, [opt, None] if key in options else [None], None
        codes, parsed = _map_values(
            raw.table[col].to_numpy(dtype=object),  # type: ignore[index]
            parse,
            where,
            col,
            ids,
        )
        if key in options and all(p is None for p in parsed):
            # An empty template column gives nothing: the option applies to every site.
            notes.append(f"column {quote(col)} is empty: option {key}={quote(options[key])} used")
            return np.zeros(n, dtype=np.intp), [opt, None], None
        if key in options:
            differ = [k for k, v in enumerate(parsed[:-1]) if v != opt]
            bad = np.isin(codes, differ) | (codes == -1)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                got = parsed[codes[i]]
                shown = "empty" if got is None else quote(got[0] if key == "industry" else got)
                raise SitesError(
                    f"{where.row(i)}: {key} is given by column {quote(col)} ({shown}) and by the "
                    f"option {key}={quote(options[key])}, and they differ; give it one way"
                )
        return codes, parsed, col

    known: dict[str, np.ndarray] = {}  # per key: which sites have a value
    for key, parse in parsers.items():
        codes, parsed, _ = column_or_option(key, parse)
        out[key] = _take(parsed, codes)
        known[key] = np.array([p is not None for p in parsed], dtype=bool)[codes]

    codes, parsed, _ = column_or_option("industry", _parse_industry_cell)
    out["industry"] = _take([p[0] if p else None for p in parsed], codes)
    out["industry_division"] = _take([p[1] if p else None for p in parsed], codes)
    # Derived "两高": only the major division decides; a declared value always wins.
    derived = _take([None if p is None else _derived_two_high(p) for p in parsed], codes)
    has_code = np.array([p is not None for p in parsed], dtype=bool)[codes]
    declared = out["two_high"]
    is_declared = known["two_high"]
    use_derived = ~is_declared & has_code
    two_high = declared.copy()
    two_high[use_derived] = derived[use_derived]
    source = np.full(n, None, dtype=object)
    source[is_declared] = "declared"
    source[use_derived] = "derived"
    out["two_high"] = two_high
    out["two_high_source"] = source
    linear_source = np.full(n, None, dtype=object)
    linear_source[known["linear"]] = "declared"
    out["linear_source"] = linear_source  # "derived" is set from the geometry (_derive_linear)
    if use_derived.any():
        notes.append(
            f"two_high derived from the industry code for {int(use_derived.sum())} site(s) "
            "(major divisions 25, 26, 30, 31, 32, 44 count as 两高, except non-fossil power "
            "generation and power supply: 4413-4417, 4419, 4420)"
        )
    return out


def _derive_linear(attrs: dict[str, np.ndarray], geoms: np.ndarray, notes: list[str]) -> None:
    """``linear`` from the geometry where it is not declared: a line site is linear.

    A LineString or MultiLineString site (a route drawn on a map, a draw tool's export) is a
    linear project; leaving it undeclared would judge a pipeline as if it were a building.
    Points and polygons stay undeclared.  A declared value always wins; ``linear_source``
    says which it was (``declared``, ``derived`` or None), as ``two_high_source`` does.
    """
    linear = attrs["linear"]
    undeclared = np.array([v is None for v in linear], dtype=bool)
    lines = np.isin(shapely.get_type_id(geoms), (1, 5))
    use = undeclared & lines
    if use.any():
        linear = linear.copy()
        linear[use] = True
        attrs["linear"] = linear
        attrs["linear_source"] = attrs["linear_source"].copy()
        attrs["linear_source"][use] = "derived"
        notes.append(
            f"linear derived from the geometry for {int(use.sum())} line site(s): a "
            "LineString/MultiLineString counts as linear infrastructure unless declared "
            "otherwise (linear=no / --no-linear)"
        )
