"""Project attributes that take one of a list of values: discharge, red-line activity, facility.

Each parser takes one cell (or option value) as written and returns the canonical code, or
None for an empty cell (not declared); a value it does not know raises ``_Bad`` with the
allowed values, which :mod:`zoning.sites.attributes` words into one ``SitesError`` line naming
the row, the column and the site.

- ``discharge`` (排放去向): ``none`` (无, 不排放), ``sewer`` (纳管, 纳管排放, 间接排放: to a
  treatment plant outside the zone) or ``direct`` (直排, 直接排放: an outfall in or into the
  zone).  ``wastewater`` says whether the project produces waste water; this says where it goes.
- ``red_line_activity`` (红线有限人为活动): ``none`` (无) or the number 1-10 of the limited human
  activity of 自然资发〔2022〕142号 the project claims (a number cell ``3`` is ``"3"``).
- ``facility`` (设施): ``none`` (无), or one or more of
  :data:`~zoning.schema.FACILITIES` (or their Chinese names) separated by ``;`` ``,`` or
  ``、`` (full-width ``；`` ``，`` too); a list or tuple from the ``attributes=`` option.  The
  result is the codes sorted and joined with ``;`` (``"outfall;tailings_pond"``); ``none`` with
  a facility is refused.
- ``nature`` (建设性质): :data:`NATURE_WORDS`, the one table of accepted words (the README's
  table is this one; ``tests/test_inputs_planners.py`` checks they agree).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..schema import FACILITIES, RED_LINE_ACTIVITIES
from .raw import _Bad, _is_blank, _is_number, _short

__all__ = ["CHOICE_PARSERS", "DISCHARGE_WORDS", "FACILITY_WORDS", "NATURE_WORDS"]

#: Accepted spellings of each project nature (建设性质; compared case-insensitively, spaces
#: trimmed) -> :data:`~zoning.schema.NATURES`.  Choices: 改扩建 (rebuilding with added
#: capacity) counts as an expansion, since capacity is what the access lists regulate;
#: 技改/技术改造 (the 报告表's "技术改造") and 改造 count as a rebuild, and so does 恢复
#: (restoring destroyed assets to their former scale, as the statistics' 建设性质 define it) --
#: a rebuild that adds capacity must be declared an expansion (the rebuild rules say so);
#: 搬迁/异地迁建 are relocations.
NATURE_WORDS = {
    "new": "new",
    "新建": "new",
    "new construction": "new",
    "greenfield": "new",
    "expansion": "expansion",
    "扩建": "expansion",
    "改扩建": "expansion",
    "extension": "expansion",
    "rebuild": "rebuild",
    "改建": "rebuild",
    "改造": "rebuild",
    "技改": "rebuild",
    "技术改造": "rebuild",
    "恢复": "rebuild",
    "reconstruction": "rebuild",
    "renovation": "rebuild",
    "technical upgrade": "rebuild",
    "relocation": "relocation",
    "迁建": "relocation",
    "搬迁": "relocation",
    "异地迁建": "relocation",
    "relocate": "relocation",
}

#: Accepted spellings of each discharge (compared case-insensitively).
DISCHARGE_WORDS = {
    "none": "none",
    "无": "none",
    "不排放": "none",
    "无废水排放": "none",
    "sewer": "sewer",
    "纳管": "sewer",
    "纳管排放": "sewer",
    "间接排放": "sewer",
    "direct": "direct",
    "直排": "direct",
    "直接排放": "direct",
}
#: Accepted spellings of each facility (compared case-insensitively), and of none.
FACILITY_WORDS = {
    **{f: f for f in FACILITIES},
    "none": "none",
    "无": "none",
    "固体废物贮存": "waste_storage",
    "固废贮存": "waste_storage",
    "固体废物贮存场所": "waste_storage",
    "畜禽养殖": "livestock",
    "畜禽养殖场": "livestock",
    "危险品码头": "dangerous_goods_wharf",
    "危险货物码头": "dangerous_goods_wharf",
    "冶炼渣库": "slag_yard",
    "渣场": "slag_yard",
    "尾矿库": "tailings_pond",
    "排污口": "outfall",
    "入河排污口": "outfall",
    "入海排污口": "outfall",
    "围填海": "reclamation",
    "填海": "reclamation",
    "围海": "reclamation",
}
_NONE_WORDS = frozenset({"none", "无"})
_SPLIT = re.compile(r"[;,、；，]")
_DIGITS = re.compile(r"\d{1,2}")
_WHOLE = re.compile(r"\d{1,2}\.0+")


def _allowed(words: dict[str, str]) -> str:
    return ", ".join(words)


def _parse_discharge(value: object) -> str | None:
    if _is_blank(value):
        return None
    if isinstance(value, str):
        word = value.strip().lower()
        if word in DISCHARGE_WORDS:
            return DISCHARGE_WORDS[word]
    raise _Bad(f"{_short(value)} is not a discharge (allowed: {_allowed(DISCHARGE_WORDS)})")


def _parse_red_line_activity(value: object) -> str | None:
    if _is_blank(value):
        return None
    code: str | None = None
    if _is_number(value) and float(value).is_integer():  # type: ignore[arg-type]
        code = str(int(value))  # type: ignore[call-overload]
    elif isinstance(value, str):
        word = value.strip().lower()
        if word in _NONE_WORDS:
            return "none"
        if _DIGITS.fullmatch(word):
            code = str(int(word))
        elif _WHOLE.fullmatch(word):  # "3.0": a spreadsheet's number written as text
            code = str(int(float(word)))
    if code is not None and code in RED_LINE_ACTIVITIES:
        return code
    raise _Bad(
        f"{_short(value)} is not a red-line activity (allowed: none/无 or the number 1-10 of "
        "the limited human activity of 自然资发〔2022〕142号)"
    )


def _parse_facility(value: object) -> str | None:
    if isinstance(value, list | tuple | set | frozenset):
        items = [str(v) for v in value]
    elif _is_blank(value):
        return None
    elif isinstance(value, str):
        items = _SPLIT.split(value)
    else:
        items = [value]  # type: ignore[list-item]
    codes: set[str] = set()
    for item in items:
        if _is_blank(item):
            continue
        word = item.strip().lower() if isinstance(item, str) else None
        if word not in FACILITY_WORDS:
            raise _Bad(
                f"{_short(item)} is not a facility (allowed: none, "
                f"{', '.join(FACILITIES)}, or their Chinese names such as 尾矿库, 排污口; "
                "several separated by ; , or 、)"
            )
        codes.add(FACILITY_WORDS[word])
    if not codes:
        return None
    if "none" in codes and len(codes) > 1:
        raise _Bad(f"{_short(value)}: none cannot be combined with a facility")
    return ";".join(sorted(codes))


#: The parser of each choice attribute: a cell or option value -> its code, or None.
CHOICE_PARSERS: dict[str, Callable[[object], str | None]] = {
    "discharge": _parse_discharge,
    "red_line_activity": _parse_red_line_activity,
    "facility": _parse_facility,
}
