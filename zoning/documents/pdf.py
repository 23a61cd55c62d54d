"""Placeholder: filled in by the work on issue 13 (this module is not yet written)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["write_pdf"]


def write_pdf(result: Any, folder: Path, *, lang: str = "both") -> list[str]:
    """Not yet written.

    Parameters
    ----------
    result : ScreeningResult
    folder : Path
    lang : str

    Returns
    -------
    list of str
    """
    raise NotImplementedError("write_pdf")
