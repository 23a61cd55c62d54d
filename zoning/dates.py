"""Calendar dates of the law and the layers: parsing ISO dates, and "today" in Shanghai.

Documents, rules and catalog layers carry validity dates (``in_force_from``, ``valid_to``, ...)
and a screening runs *as of* a date (:func:`zoning.screen`, ``zoning screen --as-of``).  The
dates are calendar days, ``YYYY-MM-DD``; "today" is the day in ``Asia/Shanghai`` (China keeps
one time zone, UTC+8, without daylight saving).
"""

from __future__ import annotations

import datetime
import re

from .errors import ZoningError, quote

__all__ = [
    "TIMEZONE",
    "as_of_date",
    "iso",
    "parse_date",
    "shanghai_time",
    "shanghai_zone",
    "today",
]

#: The time zone whose calendar day is "today".
TIMEZONE = "Asia/Shanghai"

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def today() -> datetime.date:
    """Today's date in Shanghai (:data:`TIMEZONE`).

    Returns
    -------
    datetime.date
    """
    return datetime.datetime.now(_shanghai()).date()


def shanghai_zone() -> datetime.tzinfo:
    """The :data:`TIMEZONE` zone.

    Returns
    -------
    datetime.tzinfo
        ``ZoneInfo("Asia/Shanghai")``; UTC+8 all year when there is no time-zone database.
    """
    try:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        return ZoneInfo(TIMEZONE)
    except (ImportError, ZoneInfoNotFoundError):
        return datetime.timezone(datetime.timedelta(hours=8))


_shanghai = shanghai_zone


def shanghai_time(value: object, *, readable: bool = False) -> str | None:
    """A moment (ISO text, UTC when it has no offset) as the time in Asia/Shanghai.

    Parameters
    ----------
    value : str or datetime.datetime or None
    readable : bool
        ``False``: ISO, ``2026-12-05T11:02:03+08:00``; ``True``: ``2026-12-05 11:02:03
        +08:00`` (for people).

    Returns
    -------
    str or None
        To the second, with the offset; None for a missing value; text that is not a
        timestamp unchanged.
    """
    if value is None:
        return None
    when = value
    if not isinstance(when, datetime.datetime):
        text = str(value).strip()
        if not text or text in ("nan", "None", "NaT"):
            return None
        try:
            when = datetime.datetime.fromisoformat(text)
        except ValueError:
            return text
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    local = when.astimezone(shanghai_zone())
    if not readable:
        return local.isoformat(timespec="seconds")
    offset = local.strftime("%z")
    return local.strftime("%Y-%m-%d %H:%M:%S ") + f"{offset[:3]}:{offset[3:]}"


def parse_date(value: object) -> datetime.date:
    """A calendar date from a ``datetime.date`` or ``YYYY-MM-DD`` text.

    Parameters
    ----------
    value : date or str
        A ``datetime.datetime`` is refused (a validity date is a day, not a time).

    Returns
    -------
    datetime.date

    Raises
    ------
    ValueError
        Not a date, or text not of the form ``YYYY-MM-DD`` naming a real day.
    """
    if isinstance(value, datetime.datetime):
        raise ValueError(f"{quote(str(value))} is a time, not a date (YYYY-MM-DD)")
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and _ISO.match(value.strip()):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{quote(value)} is not a date of the form YYYY-MM-DD")


def as_of_date(value: object = None, *, what: str = "as_of") -> datetime.date:
    """The day a screening runs as of: a date, a datetime (its day) or ``YYYY-MM-DD`` text.

    Parameters
    ----------
    value : date, datetime, str or None
        None: :func:`today`.  A timezone-aware datetime is taken on its day in Asia/Shanghai; a
        naive one on its own day.
    what : str, keyword-only
        How the error names the value (``as_of``, ``--as-of``).

    Returns
    -------
    datetime.date

    Raises
    ------
    ZoningError
        One line naming ``what`` and the value when it is not a date.
    """
    if value is None:
        return today()
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            # An aware time is a moment: the day is the one it falls on in Shanghai, where the
            # law takes effect (23:30 UTC on 14 March is already 15 March there).
            return value.astimezone(_shanghai()).date()
        return value.date()
    try:
        return parse_date(value)
    except ValueError:
        raise ZoningError(
            f"{what} {quote(value)} is not a date: give YYYY-MM-DD (e.g. 2026-04-01)"
        ) from None


def iso(value: datetime.date | None) -> str | None:
    """``YYYY-MM-DD`` of a date, None for None.

    Parameters
    ----------
    value : datetime.date or None

    Returns
    -------
    str or None
    """
    return None if value is None else value.isoformat()
