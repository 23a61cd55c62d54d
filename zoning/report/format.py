"""Value formatting for the report pages and the terminal: numbers, areas, shares, distances,
verdict labels, safe page names and one-line text.

Every number a page shows goes through one of these helpers, so the report, the map popups
and the terminal summary print the same value the same way.  Nothing here computes a result:
a missing value (None, NaN, empty text) prints as ``"—"``.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from .._paths import page_name as page_name

# Vocabulary and page names have their own homes; re-exported here for the report's modules.
from ..errors import quote
from ..labels import DECIDED_BY as DECIDED_BY
from ..labels import VERDICT_LABELS as VERDICT_LABELS
from ..schema import SEVERITY as _SEVERITY
from ..schema import VERDICT_ORDER as _VERDICT_ORDER

#: Most severe first: the order of every list and count in the report.
VERDICT_ORDER = list(_VERDICT_ORDER)


#: The languages of the report and the terminal summary.
LANGS = ("both", "zh", "en")


def check_lang(lang: str) -> None:
    """Check a report language.

    Parameters
    ----------
    lang : str
        One of :data:`LANGS`: ``"both"``, ``"zh"`` or ``"en"``.

    Raises
    ------
    ValueError
        For any other value.
    """
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, not {quote(lang)}")


# --------------------------------------------------------------------------------------------
# Values read from result tables (None, NaN and pandas' NA are all "missing").


def is_missing(value: Any) -> bool:
    """Whether a table value is missing.

    Parameters
    ----------
    value : object
        Any cell of a result table.

    Returns
    -------
    bool
        True for None, NaN, ``pd.NA`` and ``pd.NaT``; False for anything else, including
        containers (for which ``pd.isna`` does not give one answer).
    """
    if value is None:
        return True
    try:
        res = pd.isna(value)
    except (TypeError, ValueError):
        return False
    return bool(res) if isinstance(res, bool | np.bool_) else False


def as_str(value: Any) -> str | None:
    """A table value as a non-empty, stripped string.

    Parameters
    ----------
    value : object
        Any cell of a result table.

    Returns
    -------
    str or None
        ``str(value).strip()``, or None for a missing value or an empty string.
    """
    if is_missing(value):
        return None
    text = str(value).strip()
    return text or None


def as_float(value: Any) -> float | None:
    """A table value as a float.

    Parameters
    ----------
    value : object
        Any cell of a result table.

    Returns
    -------
    float or None
        The number, or None for a missing value, NaN or text that is not a number.
    """
    if is_missing(value):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else out


def as_bool(value: Any) -> bool | None:
    """A table value as a boolean.

    Parameters
    ----------
    value : object
        Any cell of a result table (a flag column may hold None or NaN).

    Returns
    -------
    bool or None
        ``bool(value)``, or None for a missing value.
    """
    if is_missing(value):
        return None
    return bool(value)


# --------------------------------------------------------------------------------------------
# Formatting: every number a page shows goes through one of these.


def _numeric(fmt: Callable[..., str]) -> Callable[..., str]:
    """A float formatter made a table-value formatter: missing or not a number -> ``"—"``.

    The value is read with :func:`as_float`; ``fmt`` is called on the float (with any further
    arguments) only when there is one.
    """

    @functools.wraps(fmt)
    def formatted(value: Any, *args: Any, **kwargs: Any) -> str:
        v = as_float(value)
        return "—" if v is None else fmt(v, *args, **kwargs)

    return formatted


@_numeric
def fmt_number(value: Any, digits: int = 0) -> str:
    """A number with thousands separators: ``1234.5 -> "1,235"``; NaN/None -> ``"—"``.

    Parameters
    ----------
    value : object
        A number (or a table cell holding one).
    digits : int
        Decimal places.

    Returns
    -------
    str
    """
    return f"{value:,.{digits}f}"


@_numeric
def fmt_area(m2: Any) -> str:
    """An area in square metres; hectares too from 10,000 m² up.  NaN -> ``"—"``.

    Parameters
    ----------
    m2 : object
        An area in square metres (working-CRS areas, as the screening measured them).

    Returns
    -------
    str
        To the square metre: ``"850 m²"``, ``"< 1 m²"`` for a non-zero area below 0.5 m²,
        ``"12,345 m² (1.23 ha)"`` from 10,000 m².
    """
    if 0 < m2 < 0.5:
        return "< 1 m²"
    if m2 < 10_000:
        return f"{m2:,.0f} m²"
    return f"{m2:,.0f} m² ({m2 / 1e4:,.2f} ha)"


@_numeric
def fmt_ha(m2: Any) -> str:
    """Square metres as hectares, two decimals: ``12345 -> "1.23"``.  NaN -> ``"—"``.

    Parameters
    ----------
    m2 : object
        An area in square metres.

    Returns
    -------
    str
    """
    return f"{m2 / 1e4:,.2f}"


@_numeric
def fmt_share(share: Any) -> str:
    """A fraction as a percentage: ``0.1234 -> "12.3 %"``; tiny non-zero shares stay visible.

    Parameters
    ----------
    share : object
        A fraction (0 to 1).

    Returns
    -------
    str
        ``"0 %"``, ``"< 0.1 %"`` and ``"> 99.9 %"`` at the ends, else one decimal; NaN -> ``"—"``.
    """
    if share == 0:
        return "0 %"
    if 0 < share < 0.001:
        return "< 0.1 %"
    if 0.999 < share < 1:
        return "> 99.9 %"
    return f"{100 * share:,.1f} %"


@_numeric
def fmt_m(value: Any) -> str:
    """A distance or length in metres, to 0.1 m: ``1234.44 -> "1,234.4 m"``.

    Parameters
    ----------
    value : object
        Metres.

    Returns
    -------
    str
        One decimal (``"2.5 m"``, ``"0 m"`` for zero); NaN -> ``"—"``.
    """
    return "0 m" if value == 0 else f"{value:,.1f} m"


def fmt_time(value: Any) -> str | None:
    """An ISO 8601 moment as people in Shanghai read it: ``2026-12-05T10:52:37+08:00``.

    Parameters
    ----------
    value : object
        An ISO timestamp with an offset (any zone) or a ``datetime``; a naive one is taken as
        UTC (how earlier screenings recorded it).

    Returns
    -------
    str or None
        The moment in Asia/Shanghai with its offset, to the second; None for a missing
        value; text that is not a timestamp is returned unchanged.
    """
    import datetime

    from ..dates import shanghai_zone as _shanghai

    if is_missing(value):
        return None
    moment = value
    if not isinstance(moment, datetime.datetime):
        try:
            moment = datetime.datetime.fromisoformat(str(value).strip())
        except ValueError:
            return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(_shanghai()).isoformat(timespec="seconds")


@_numeric
def _ring(value: Any) -> str:
    """A buffer ring's outer distance: ``"≤ 500 m"``."""
    return f"≤ {value:,.0f} m"


def _radius_text(value: Any) -> str | None:
    """The search radius as the report prints it (``"1,000 m"``); unreadable text as is."""
    v = as_float(value)
    return fmt_m(v) if v is not None else as_str(value)


def _short_hash(value: Any, n: int = 12) -> str | None:
    """The first ``n`` hex digits of a hash (a ``sha256:`` prefix dropped)."""
    text = as_str(value)
    if text is None:
        return None
    return text.split(":", 1)[1][:n] if text.startswith("sha256:") else text[:n]


def _as_text(value: Any) -> str:
    """A provenance value as one line: lists joined by commas, mappings as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple) and all(
        isinstance(v, str | int | float) and not isinstance(v, bool) for v in value
    ):
        return ", ".join(str(v) for v in value) or "none"
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, default=str, sort_keys=False)
    return str(value)


# --------------------------------------------------------------------------------------------
# Verdicts.


def verdict_key(value: Any) -> str:
    """A verdict value as a verdict key, anything unrecognised read as ``"unknown"``.

    Parameters
    ----------
    value : object
        A ``verdict`` cell.

    Returns
    -------
    str
        One of the keys of :data:`VERDICT_LABELS`; never a pass for a value that is not one.
    """
    text = as_str(value)
    return text if text in _SEVERITY else "unknown"


def _verdict_model(verdict: Any) -> dict:
    """A verdict as the templates show it: ``{"key", "zh", "en"}``."""
    v = verdict_key(verdict)
    zh, en = VERDICT_LABELS[v]
    return {"key": v, "zh": zh, "en": en}


# --------------------------------------------------------------------------------------------
# Safe, unique page names.


def _page_names(ids: Iterable[tuple[int, Any]]) -> dict[int, str]:
    """Page file names of the sites ``(position, site_id)``, numbered apart when ids repeat."""
    out: dict[int, str] = {}
    used: set[str] = set()
    for pos, site_id in ids:
        base = page_name(site_id)
        name, k = base, 1
        while name in used:  # duplicate ids (the contract says unique; do not rely on it)
            k += 1
            name = f"{base}-{k}"
        used.add(name)
        out[pos] = f"{name}.html"
    return out


# --------------------------------------------------------------------------------------------
# One-line text (the index's notes and the terminal).

#: Control, line-separator and bidirectional-override characters: never printed as they are.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def plain_text(value: Any, limit: int | None = None) -> str:
    """A one-line, control-free rendering of a data string (for a terminal or a page note).

    Parameters
    ----------
    value : object
        A data string (a missing value gives ``""``).
    limit : int, optional
        At most this many characters; a longer text is cut and ends with ``"…"``.

    Returns
    -------
    str
        The text with runs of whitespace joined into single spaces and control characters
        (including bidirectional overrides) replaced by ``"?"``.
    """
    text = "" if is_missing(value) else str(value)
    text = _CONTROL.sub("?", " ".join(text.split()))
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text
