"""The option groups of :func:`~zoning.screening.screen`, as small frozen dataclasses.

:func:`screen` keeps its flat keyword signature; inside, the keywords travel as two groups:
how to read the sites (:class:`SiteReading`, passed on to :func:`zoning.sites.load_sites`) and
how to screen them (:class:`ScreenOptions`).  Both are also what the provenance records.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

from ..errors import ZoningError, quote
from ..sites import Sites, load_sites

__all__ = ["ScreenOptions", "SiteReading"]

#: The values :class:`ScreenOptions` accepts for ``on_layer_error``.
ON_LAYER_ERROR = ("raise", "unknown")


@dataclass(frozen=True)
class SiteReading:
    """How to read the sites: the keywords :func:`~zoning.screening.screen` passes to
    :func:`~zoning.sites.load_sites`.

    Parameters
    ----------
    crs : object, optional
        CRS of the sites when they carry none, or ``gcj02`` / ``bd09``.
    wkt, points : optional
        Inline sites (see :func:`~zoning.sites.load_sites`).
    attributes : mapping, optional
        Project attributes for every site (``industry``, ``nature``, ``linear``, ...).
    id_field, name_field, layer, encoding, sheet : str, optional
        Columns holding id and name, the layer of a multi-layer file, the text encoding of a
        CSV or a Shapefile without ``.cpg``, the sheet of a workbook.
    dxf_layer : str, optional
        The boundary layer of a DXF site plan.
    on_row_error : {"fail", "report"}
        Stop at a row that does not parse, or set it aside and report it.

    Notes
    -----
    All default to "not given"; the dataclass is frozen but ``attributes`` is held as given
    (not copied).
    """

    crs: object = None
    wkt: str | Sequence[str] | None = None
    points: Sequence[object] | None = None
    attributes: Mapping[str, object] | None = None
    id_field: str | None = None
    name_field: str | None = None
    layer: str | None = None
    encoding: str | None = None
    dxf_layer: str | None = None
    sheet: str | None = None
    on_row_error: str = "fail"

    def given(self) -> bool:
        """Whether any reading option is set (``attributes`` counts when not empty).

        Returns
        -------
        bool
        """
        defaults = {"on_row_error": "fail"}
        return any(
            bool(value) if name == "attributes" else value not in (None, defaults.get(name))
            for name, value in self._keywords().items()
        )

    def _keywords(self) -> dict[str, object]:
        """The options as :func:`~zoning.sites.load_sites` keywords (its names are the fields')."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def read(self, sites: object) -> Sites:
        """The sites, loaded with these options; a :class:`~zoning.sites.Sites` as it is.

        Parameters
        ----------
        sites : path, GeoDataFrame, geometries, Sites or None
            What :func:`~zoning.sites.load_sites` accepts.

        Returns
        -------
        Sites

        Raises
        ------
        ZoningError
            A :class:`~zoning.sites.Sites` object given together with a reading option (those
            apply when loading).
        SitesError, CRSError, LayerReadError
            From :func:`~zoning.sites.load_sites`.
        """
        if not isinstance(sites, Sites):
            return load_sites(sites, **self._keywords())
        if self.given():
            raise ZoningError(
                "crs=, attributes=, wkt=, points=, id_field=, name_field=, layer=, encoding=, "
                "dxf_layer=, sheet= and on_row_error= apply when loading sites, not to a Sites "
                "object"
            )
        return sites


@dataclass(frozen=True)
class ScreenOptions:
    """How to screen the sites once read (see :func:`~zoning.screening.screen`).

    Parameters
    ----------
    search_radius_m : float or None
        How far to look for the nearest feature of each layer; None: derived from the rules.
    pieces, rings : bool
        Build the overlap-piece and buffer-ring geometries.
    on_layer_error : {"raise", "unknown"}
        What a layer that fails to load does.
    as_of : datetime.date or None
        The day whose rules and layers apply (None: not chosen yet; :func:`screen` sets it).

    Raises
    ------
    ValueError
        ``on_layer_error`` not one of ``"raise"``, ``"unknown"``.
    """

    search_radius_m: float | None = None
    pieces: bool = True
    rings: bool = True
    on_layer_error: str = "raise"
    as_of: datetime.date | None = None

    def __post_init__(self) -> None:
        if self.on_layer_error not in ON_LAYER_ERROR:
            raise ValueError(
                f"on_layer_error must be 'raise' or 'unknown', not {quote(self.on_layer_error)}"
            )
