"""Text cells that a spreadsheet would run as formulas, made inert in CSV outputs.

A CSV opened in Excel, LibreOffice or Google Sheets runs a cell starting with ``=``, ``+``,
``-`` or ``@`` as a formula (CSV injection).  Following the OWASP guidance, every text cell
(and column name) starting with one of them, also after leading tabs or carriage returns,
is written with a leading ``'``, which spreadsheets show as text.  Numbers are left alone
(``-3.5`` stays a number).  Only CSV gets this: JSON and GeoPackage keep the original text.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

__all__ = ["csv_text", "escape_cell", "escape_formulas"]

_FORMULA = re.compile(r"[\t\r]*[=+\-@]")


def escape_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text a spreadsheet would run as a formula.

    Parameters
    ----------
    value : object
        A cell.

    Returns
    -------
    object
        ``"'" + value`` for a ``str`` starting (after tabs and carriage returns) with ``=``,
        ``+``, ``-`` or ``@``; ``value`` itself otherwise.
    """
    if isinstance(value, str) and _FORMULA.match(value):
        return "'" + value
    return value


def escape_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with every text cell and column name passed through
    :func:`escape_cell` (numeric columns untouched).

    Parameters
    ----------
    df : pandas.DataFrame
        The table about to be written as CSV.

    Returns
    -------
    pandas.DataFrame
        The escaped copy (``df`` itself when nothing needs escaping).
    """
    cols = [
        c
        for c in df.columns
        if df[c].dtype == object or isinstance(df[c].dtype, pd.StringDtype | pd.CategoricalDtype)
    ]
    names = [escape_cell(c) for c in df.columns]
    if not cols and names == list(df.columns):
        return df
    out = df.copy()
    for c in cols:
        out[c] = out[c].astype(object).map(escape_cell)
    out.columns = names
    return out


def csv_text(df: pd.DataFrame, **kwargs: Any) -> str:
    """``df.to_csv(**kwargs)`` with formulas made inert (:func:`escape_formulas`).

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    **kwargs
        Passed to :meth:`pandas.DataFrame.to_csv` (``index=False`` by default).

    Returns
    -------
    str
        The CSV text.
    """
    kwargs.setdefault("index", False)
    return escape_formulas(df).to_csv(**kwargs)
