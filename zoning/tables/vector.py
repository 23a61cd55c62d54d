"""``screening.gpkg``: the sites, the overlap pieces, the buffer rings and the codes table."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..crs import WORKING_CRS
from .frames import _codes_table, _sites_table

if TYPE_CHECKING:
    from ..screening import ScreeningResult

__all__ = ["OUT_CRS_CODES", "check_out_crs", "write_gpkg"]

#: The CRSs ``screening.gpkg`` may be written in: WGS84 (the default), CGCS2000 geographic
#: (EPSG:4490) and the CGCS2000 Gauss-Krüger projections EPSG:4491-4554 (6- and 3-degree
#: zones, with or without the zone number in the easting).
OUT_CRS_CODES = (4326, 4490, *range(4491, 4555))


def check_out_crs(value: Any, what: str = "out_crs") -> str:
    """The CRS a GeoPackage output is written in, checked: ``"EPSG:<code>"``.

    Parameters
    ----------
    value : str, int or None
        ``EPSG:4490``, ``4549``...; None: ``EPSG:4326``.
    what : str
        How the error names the value (``--out-crs`` on the command line).

    Returns
    -------
    str
        ``"EPSG:<code>"`` with a code of :data:`OUT_CRS_CODES`.

    Raises
    ------
    ZoningError
        Any other value, in one line listing those accepted.
    """
    from ..errors import ZoningError, quote

    if value is None:
        return "EPSG:4326"
    text = str(value).strip().upper()
    code = text.removeprefix("EPSG:")
    if code.isdigit() and int(code) in OUT_CRS_CODES:
        return f"EPSG:{int(code)}"
    raise ZoningError(
        f"{what} {quote(str(value))} is not accepted: give EPSG:4326 (WGS84, the default), "
        "EPSG:4490 (CGCS2000) or a CGCS2000 Gauss-Krüger code EPSG:4491-4554 (e.g. EPSG:4528, "
        "EPSG:4549)"
    )


def write_gpkg(result: ScreeningResult, path: Path, out_crs: Any = None) -> None:
    """Write ``screening.gpkg``: the layers ``sites``, ``pieces`` and ``rings``, and the
    attribute table ``codes`` (the words of the sites' code columns).

    Parameters
    ----------
    result : ScreeningResult
        What to write; its geometries are in the working CRS.
    path : Path
        The GeoPackage to write (a new file).
    out_crs : str or int, optional
        The layers' CRS (:func:`check_out_crs`): EPSG:4326 (default), EPSG:4490 or a
        CGCS2000 Gauss-Krüger code.

    Notes
    -----
    Every layer is reprojected from :data:`zoning.WORKING_CRS` to ``out_crs`` (an empty
    ``pieces`` table without a CRS is taken as in the working CRS).  The ``sites`` layer holds
    the columns of ``sites.csv``.
    """
    crs = check_out_crs(out_crs)
    sites = _sites_table(result, geometry=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sites.to_crs(crs).to_file(path, layer="sites", driver="GPKG")
        pieces = result.pieces
        if not len(pieces):
            pieces = pieces.set_crs(WORKING_CRS, allow_override=True)
        pieces.to_crs(crs).to_file(path, layer="pieces", driver="GPKG")
        result.rings.to_crs(crs).to_file(path, layer="rings", driver="GPKG")
        import pyogrio

        pyogrio.write_dataframe(_codes_table(result), path, layer="codes", driver="GPKG")
