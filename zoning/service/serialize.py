"""A screening result as the service's JSON and documents (shared by the API, jobs and OGC).

The JSON is that of ``zoning screen --out DIR --format json``'s ``screening.json`` for the same
input (:meth:`zoning.ScreeningResult.to_dict`: ``provenance``, ``notes``, ``sites`` -- whose
rows carry ``rule_ids``, ``reason_codes`` and ``conclusion_code`` --, ``hits``, ``codes`` (the
words of those codes, once), ``layer_summary``, ``reasons`` (one row per site and rule, with
its messages, as before), ``clauses``), with two members added at the top:
``demonstration`` (true when the layers or the rules are demonstration data) and ``notice``
(then the bilingual notice, else ``null``), as every response of the service carries them.
The documents are the files ``zoning screen --out`` writes (:func:`document`).
"""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from fastapi.responses import Response

__all__ = [
    "DEMONSTRATION_NOTICE",
    "DOCUMENT_FORMATS",
    "demonstration_members",
    "document",
    "json_bytes",
    "json_response",
    "record_request",
    "result_json",
]

#: What every response carrying demonstration data says (``notice`` member).
DEMONSTRATION_NOTICE = (
    "DEMONSTRATION DATA — not the official ecological protection red line, control units or "
    "access list (演示数据，非官方生态保护红线、管控单元及准入清单)"
)

#: ``POST /screen?format=``: file name and media type of each document.
DOCUMENT_FORMATS = {
    "pdf": ("screening.pdf", "application/pdf"),
    "docx": (
        "screening.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "xlsx": (
        "screening.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    "zip": ("screening.zip", "application/zip"),
}


def demonstration_members(flag: bool) -> dict[str, Any]:
    """The members every response carries: ``demonstration`` and ``notice``.

    Parameters
    ----------
    flag : bool
        Whether the data or rules are demonstration data.

    Returns
    -------
    dict
        ``{"demonstration": flag, "notice": DEMONSTRATION_NOTICE or None}``.
    """
    return {"demonstration": bool(flag), "notice": DEMONSTRATION_NOTICE if flag else None}


def _default(value: Any) -> Any:
    """What :func:`json.dumps` cannot write by itself (as ``screening.json`` writes it)."""
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def json_bytes(data: Any) -> bytes:
    """``data`` as compact UTF-8 JSON (NaN refused; numpy scalars and paths written).

    Parameters
    ----------
    data : object

    Returns
    -------
    bytes
    """
    text = json.dumps(
        data, ensure_ascii=False, allow_nan=False, default=_default, separators=(",", ":")
    )
    return text.encode("utf-8")


def json_response(data: Any, status: int = 200) -> Response:
    """A JSON response of ``data`` (:func:`json_bytes`).

    Parameters
    ----------
    data : object
    status : int

    Returns
    -------
    Response
    """
    return Response(json_bytes(data), status_code=status, media_type="application/json")


def record_request(result: Any, record: dict[str, Any], body: bytes | None = None) -> None:
    """Record in the result's provenance what the request gave, as ``zoning screen`` records
    its options; the input is the request body (its SHA-256), not a file.

    Parameters
    ----------
    result : zoning.ScreeningResult
    record : dict
        :attr:`zoning.service.payload.ScreenInput.record`.
    body : bytes, optional
        The request body, hashed into ``provenance.input.sha256``.

    Returns
    -------
    None
    """
    result.provenance["options"].update(record)
    if body is not None:
        result.provenance["input"]["sha256"] = hashlib.sha256(body).hexdigest()


def result_json(result: Any) -> dict[str, Any]:
    """The JSON of a screening result.

    Parameters
    ----------
    result : zoning.ScreeningResult

    Returns
    -------
    dict
        As ``screening.json`` (:meth:`zoning.ScreeningResult.to_dict`; the tables' values
        JSON-ready, missing values ``None``) plus ``demonstration`` and ``notice`` first
        (:func:`demonstration_members`).
    """
    data = result.to_dict()
    # The provenance through the same JSON encoder as screening.json (numpy scalars, paths).
    data["provenance"] = json.loads(json_bytes(data["provenance"]))
    return {**demonstration_members(result.is_demonstration), **data}


def document(result: Any, fmt: str, *, lang: str = "both") -> tuple[bytes, str, str]:
    """A document of ``result``, built in a private temporary folder that is then deleted.

    Parameters
    ----------
    result : zoning.ScreeningResult
    fmt : {"pdf", "docx", "xlsx", "zip"}
        ``pdf`` / ``docx`` / ``xlsx``: the run's ``screening.pdf`` / ``screening.docx`` /
        ``screening.xlsx``, as ``zoning screen --out DIR --format FMT`` writes them;
        ``zip``: everything ``zoning screen --out DIR --format
        csv,parquet,gpkg,json,html,pdf,docx,xlsx`` writes (the folder's marker file left out).
    lang : {"both", "zh", "en"}
        Language of the documents' headings and of the report.

    Returns
    -------
    (bytes, str, str)
        The content, its file name and its media type.

    Raises
    ------
    MissingDependencyError
        The documents extra is not installed (before anything is written).
    """
    from ..screening import FORMATS
    from ..screening.outputs import OUTPUT_MARKER

    name, media = DOCUMENT_FORMATS[fmt]
    formats = list(FORMATS) if fmt == "zip" else [fmt]
    with tempfile.TemporaryDirectory(prefix="zoning-documents-") as tmp:
        out = Path(tmp) / "screening"
        result.to_file(out, formats, lang=lang)
        if fmt != "zip":
            return (out / name).read_bytes(), name, media
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(out.rglob("*")):
                if path.is_file() and path.name != OUTPUT_MARKER:
                    zf.write(path, path.relative_to(out).as_posix())
        return buffer.getvalue(), name, media
