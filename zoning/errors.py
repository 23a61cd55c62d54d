"""One exception tree for the toolkit.

Every class also inherits the matching built-in, so ``except OSError`` or
``except ValueError`` keeps working for callers who do not know this package.
The CLI turns any :class:`ZoningError` into a one-line message and exit code 2.
"""

from __future__ import annotations


class ZoningError(Exception):
    """Base class of every error raised on purpose by :mod:`zoning`."""


class CatalogError(ZoningError, ValueError):
    """The layer catalog is malformed: unknown key, wrong type, unknown kind."""


class LayerReadError(ZoningError, OSError):
    """A layer file is missing or cannot be read."""


class LayerDataError(ZoningError, ValueError):
    """A layer was read but its content is unusable (wrong geometry type, bad field)."""


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
