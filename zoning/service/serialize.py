"""A screening result as the service's JSON (shared by the API, the jobs and the OGC process).

The numbers are those of ``zoning screen``'s ``screening.json`` for the same input: verdict,
reasons, the clause table, hits and the provenance, with the demonstration notice.
"""

from __future__ import annotations

from typing import Any


def result_json(result: Any) -> dict[str, Any]:
    """The JSON of a screening result.

    Parameters
    ----------
    result : zoning.ScreeningResult

    Returns
    -------
    dict
        As :meth:`zoning.ScreeningResult.to_dict` (what ``screening.json`` holds).
    """
    return result.to_dict()
