"""One exception tree for the toolkit.

Every class also inherits the matching built-in, so ``except OSError`` or
``except ValueError`` keeps working for callers who do not know this package.
The CLI turns any :class:`ZoningError` into a one-line message and exit code 2.
"""

from __future__ import annotations

from collections.abc import Iterator

#: Longest quoted value a message shows; longer ones are cut and end with an ellipsis.
QUOTE_LIMIT = 120
_QUOTE_DEPTH = 8  # containers nested deeper than this are shown as "..."


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """``repr(value)`` for a message, cut to about ``limit`` characters.

    Parameters
    ----------
    value : object
        What the user wrote (a string, number, list, mapping...).
    limit : int
        Most characters shown; a longer repr is cut and ends with ``…``.

    Returns
    -------
    str
        The same text as ``repr(value)`` when that is at most ``limit`` characters long.

    Notes
    -----
    The repr is built piece by piece and stops as soon as it is long enough, so a value
    expanded from YAML aliases (a "billion laughs" list of lists sharing one object) or a
    megabyte-long string costs O(limit), never the size of the expanded value.
    """
    out: list[str] = []
    size = 0
    for piece in _pieces(value, limit, 0):
        out.append(piece)
        size += len(piece)
        if size > limit:
            break
    return clip("".join(out), limit)


def clip(text: str, limit: int = 3 * QUOTE_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, ending with ``…`` when it was longer.

    Parameters
    ----------
    text : str
        A message part that may embed a user's value (a validator's own message).
    limit : int
        Most characters kept.

    Returns
    -------
    str
    """
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def _pieces(value: object, limit: int, depth: int) -> Iterator[str]:
    """The repr of ``value`` in pieces, lazily (see :func:`quote`)."""
    if isinstance(value, str):
        yield repr(value if len(value) <= limit else value[: limit + 1])
    elif type(value) in (dict, list, tuple):
        if depth >= _QUOTE_DEPTH:
            yield "..."
            return
        items = value.items() if isinstance(value, dict) else value
        yield {dict: "{", list: "[", tuple: "("}[type(value)]
        for i, item in enumerate(items):
            if i:
                yield ", "
            if isinstance(value, dict):
                yield from _pieces(item[0], limit, depth + 1)
                yield ": "
                item = item[1]
            yield from _pieces(item, limit, depth + 1)
        if isinstance(value, tuple) and len(value) == 1:
            yield ","
        yield {dict: "}", list: "]", tuple: ")"}[type(value)]
    else:
        yield repr(value)


class ZoningError(Exception):
    """Base class of every error raised on purpose by :mod:`zoning`."""


class CatalogError(ZoningError, ValueError):
    """The layer catalog is malformed: unknown key, wrong type, unknown kind."""


class LayerReadError(ZoningError, OSError):
    """A layer file is missing or cannot be read."""


class LayerDataError(ZoningError, ValueError):
    """A layer was read but its content is unusable (wrong geometry type, bad field)."""


class DatabaseError(ZoningError, OSError):
    """A PostgreSQL/PostGIS database cannot be reached, read or written (no password shown)."""


class CRSError(ZoningError, ValueError):
    """A coordinate reference system is missing, unknown or contradictory."""


class RasterError(ZoningError, ValueError):
    """A raster request is invalid: resolution, bounds, band or grid size."""


class SeedsError(ZoningError, ValueError):
    """The policy-target file (seeds/targets.yml) is malformed."""


class SitesError(ZoningError, ValueError):
    """Sites to screen that cannot be used: bad geometry, coordinates or project attributes."""


class RulesError(ZoningError, ValueError):
    """A rule set that does not validate."""


class PublishError(ZoningError, OSError):
    """A public site cannot be written there (a file, not writable, or someone else's folder)."""


class UnknownDistrictError(ZoningError, KeyError):
    """A district name, English name or code that no district layer of the catalog holds."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class ZoningWarning(UserWarning):
    """Base class of the toolkit's warnings."""
