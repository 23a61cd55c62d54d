"""Coordinate cells as planners type or copy them: degrees-minutes-seconds and "lon,lat".

- :func:`parse_degrees`: ``121°28'12.5"E``, ``121°28′12.5″``, ``121度28分12.5秒``, ``31°13'N``,
  ``31°13.5'N`` (decimal minutes), ``东经121°28'``, ``-121°28'12.5"``, ``33°52'S`` (south and
  west are negative), or a plain decimal number.  Minutes and seconds must be below 60; a
  hemisphere letter may stand before or after the number (not both), and a sign and S/W together
  are refused.
- :func:`parse_lonlat`: one cell holding longitude and latitude as Amap copies them
  (``121.473701,31.230416``), also with a Chinese comma, a semicolon or spaces, each part a
  decimal number or degrees-minutes-seconds.

Both raise ``ValueError`` with the reason (the caller names the file, row and column).
"""

from __future__ import annotations

import math
import re

import numpy as np

__all__ = ["parse_degrees", "parse_lonlat"]

_NUM = r"\d+(?:\.\d+)?"
_DMS = re.compile(
    rf"""^
    (?P<pre>[NSEW]|东经|西经|北纬|南纬)?\s*
    (?P<sign>[-+−])?\s*
    (?P<deg>{_NUM})\s*(?P<mark>[°º˚度])?\s*
    (?:(?P<min>{_NUM})\s*(?:['′’分])\s*)?
    (?:(?P<sec>{_NUM})\s*(?:["″”秒]|''|′′)\s*)?
    (?P<post>[NSEW])?
    $""",
    re.X | re.I,
)
#: Hemisphere words: (axis, sign).
_HEMISPHERES = {
    "n": ("lat", 1),
    "s": ("lat", -1),
    "e": ("lon", 1),
    "w": ("lon", -1),
    "北纬": ("lat", 1),
    "南纬": ("lat", -1),
    "东经": ("lon", 1),
    "西经": ("lon", -1),
}
_AXIS_WORDS = {"lon": "longitude", "lat": "latitude"}
_SPLIT = re.compile(r"\s*[,，;；]\s*|\s+")


def parse_degrees(text: str, axis: str | None = None) -> float:
    """An angle in decimal degrees from degrees-minutes-seconds (or decimal) text.

    Parameters
    ----------
    text : str
        The cell, e.g. ``121°28'12.5"E``, ``121度28分12.5秒``, ``31°13.5'N``, ``-121.47``.
    axis : {"lon", "lat"}, optional
        The axis the cell is for: a hemisphere of the other axis (``N`` in a longitude) is
        refused.

    Returns
    -------
    float
        Decimal degrees, negative for S and W.

    Raises
    ------
    ValueError
        Not an angle, minutes or seconds of 60 or more, two hemispheres, a hemisphere of the
        other axis, or a sign together with S/W.
    """
    m = _DMS.match(text.strip())
    if m is None:
        raise ValueError("not a number or degrees-minutes-seconds (e.g. 121°28'12.5\"E)")
    pre, post = m["pre"], m["post"]
    if pre and post:
        raise ValueError("two hemispheres")
    if (m["min"] or m["sec"]) and not m["mark"]:
        raise ValueError("minutes or seconds without a degree sign (°/度)")
    if m["sec"] and not m["min"]:
        raise ValueError("seconds without minutes")
    if (m["min"] and "." in m["deg"]) or (m["sec"] and "." in m["min"]):
        raise ValueError("a decimal fraction before minutes or seconds")
    minutes = float(m["min"] or 0.0)
    seconds = float(m["sec"] or 0.0)
    if minutes >= 60 or seconds >= 60:
        raise ValueError("minutes and seconds must be below 60")
    value = float(m["deg"]) + minutes / 60.0 + seconds / 3600.0
    sign = -1 if m["sign"] in ("-", "−") else 1
    hemisphere = (pre or post or "").lower()
    if hemisphere:
        side, hsign = _HEMISPHERES[hemisphere]
        if axis is not None and side != axis:
            raise ValueError(
                f"{(pre or post)!r} is a {_AXIS_WORDS[side]}, not a {_AXIS_WORDS[axis]}"
            )
        if m["sign"] and hsign < 0:
            raise ValueError("a sign and a south/west hemisphere together")
        sign = hsign if sign > 0 else sign
    return sign * value


def parse_lonlat(text: str) -> tuple[float, float]:
    """``(lon, lat)`` from one cell: ``121.473701,31.230416`` (Amap's copy), ``121.47，31.23``.

    Parameters
    ----------
    text : str
        Longitude and latitude separated by a comma (ASCII or Chinese), a semicolon or spaces;
        each a decimal number or degrees-minutes-seconds.

    Returns
    -------
    tuple of float

    Raises
    ------
    ValueError
        Not two parts, or a part that is not an angle.
    """
    parts = [p for p in _SPLIT.split(text.strip()) if p]
    if len(parts) != 2:
        raise ValueError("not LON,LAT (e.g. 121.473701,31.230416)")
    lon, lat = (_number(p, axis) for p, axis in zip(parts, ("lon", "lat"), strict=True))
    return lon, lat


def _number(text: str, axis: str | None) -> float:
    try:
        value = float(text)
    except ValueError:
        return parse_degrees(text, axis)
    if not math.isfinite(value):
        raise ValueError("not a finite number")
    return value


def parse_cells(cells: np.ndarray, axis: str | None) -> tuple[np.ndarray, int | None, str]:
    """Every cell of a coordinate column in decimal degrees (each distinct text parsed once).

    Parameters
    ----------
    cells : ndarray of object
        The column's cells (numbers or text; a blank cell is NaN).
    axis : {"lon", "lat"}, optional
        The column's axis (checks hemisphere letters).

    Returns
    -------
    values : ndarray of float
        NaN where a cell is blank or does not parse.
    bad : int or None
        The position of the first cell that does not parse (None: all parse or are blank).
    reason : str
        Why it does not parse.
    """
    values = np.full(len(cells), np.nan)
    seen: dict[object, float | str] = {}
    first: tuple[int, str] | None = None
    for i, cell in enumerate(cells):
        if isinstance(cell, int | float | np.integer | np.floating) and not isinstance(cell, bool):
            values[i] = float(cell)
            continue
        if not isinstance(cell, str) or not cell.strip():
            continue
        if cell not in seen:
            try:
                seen[cell] = _number(cell.strip(), axis)
            except ValueError as exc:
                seen[cell] = str(exc)
        got = seen[cell]
        if isinstance(got, float):
            values[i] = got
        elif first is None:
            first = (i, got)
    return values, (first[0] if first else None), (first[1] if first else "")
