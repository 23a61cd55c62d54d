"""Reading one screening output folder (what ``zoning screen --out DIR`` wrote) for a diff.

A run is read from its ``screening.json`` (provenance, sites, reasons, layer summary, and the
clause table when the screening wrote one) and, for the clause table of a folder whose JSON
holds none, from ``clauses.csv``.  Anything that is not such a folder is a one-line
:class:`DiffError` naming it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ZoningError, quote
from ..schema import FLAGS

__all__ = ["ATTRIBUTES", "CLAUSE_COLUMNS", "DiffError", "Law", "Run", "load_run"]


class DiffError(ZoningError, ValueError):
    """A folder that cannot be compared: not a screening output, or unreadable (one line)."""


#: Project attributes compared site by site (those a run lacks count as undeclared).
ATTRIBUTES = tuple(
    dict.fromkeys(
        (
            "industry",
            "nature",
            *FLAGS,
            "discharge",
            "key_project",
            "red_line_activity",
            "facility",
            "residential_building",
            "noise",
        )
    )
)

#: Columns of the clause table (``clauses.csv``) a diff reads.
CLAUSE_COLUMNS = ("site_id", "scope", "list_id", "rule_id", "result", "reads")


@dataclass(frozen=True)
class Law:
    """What the provenance says of the law a run applied (its ``law`` entry).

    Attributes
    ----------
    as_of : str or None
        The date the run applied (ISO).
    documents : dict
        Document id -> its record (``label``, ``in_force_from``, ``in_force_to``,
        ``repealed_by``).
    rules : dict
        Rule id -> its record (``document``, ``article``, ``valid_from``, ``valid_to``): the
        rules in force.
    not_in_force : frozenset of str
        Rules of the rule set not in force on that date.
    """

    as_of: str | None
    documents: dict[str, dict]
    rules: dict[str, dict]
    not_in_force: frozenset[str]


@dataclass
class Run:
    """One screening output folder, as a diff reads it.

    Attributes
    ----------
    path : Path
        The folder.
    label : str
        How the run is named in the diff (the folder as given).
    provenance : dict
        ``screening.json``'s provenance.
    sites : DataFrame
        One row per site, indexed by ``site_id`` (str).
    reasons : DataFrame
        The reasons, ``site_id`` as str.
    clauses : DataFrame or None
        The clause table; None when the run wrote none.
    touched : dict
        Site id -> ids of the layers the site hit.
    omitted : frozenset of str
        Tables ``screening.json`` left out (``reasons`` for a very large screening).
    clauses_partial : bool
        The clause table lists only the clauses a site does not comply with (violates,
        undecided, needs_review): a large screening's ``clauses.csv``.
    """

    path: Path
    label: str
    provenance: dict
    sites: pd.DataFrame
    reasons: pd.DataFrame
    clauses: pd.DataFrame | None
    touched: dict[str, set[str]] = field(default_factory=dict)
    omitted: frozenset[str] = frozenset()
    clauses_partial: bool = False

    @property
    def as_of(self) -> str | None:
        """The date the run applied (``provenance["as_of"]``), or None for older outputs."""
        value = self.provenance.get("as_of")
        return str(value) if value else None

    @property
    def demonstration(self) -> bool:
        """Whether the run screened demonstration data or rules."""
        return bool(self.provenance.get("demonstration"))

    @cached_property
    def law(self) -> Law | None:
        """The provenance's ``law`` entry, or None for older outputs."""
        law = self.provenance.get("law")
        if not isinstance(law, dict):
            return None
        docs = {str(d.get("id")): d for d in law.get("documents") or [] if isinstance(d, dict)}
        rules = {str(r.get("id")): r for r in law.get("rules") or [] if isinstance(r, dict)}
        return Law(
            as_of=str(law.get("as_of") or self.as_of or "") or None,
            documents=docs,
            rules=rules,
            not_in_force=frozenset(str(r) for r in law.get("not_in_force") or []),
        )

    @cached_property
    def layers(self) -> dict[str, dict]:
        """Layer id -> its provenance record (the layers the run screened against)."""
        return {
            str(entry.get("id")): entry
            for entry in self.provenance.get("layers") or []
            if isinstance(entry, dict)
        }

    @cached_property
    def layers_not_in_force(self) -> dict[str, dict]:
        """Layer id -> record of the catalog's layers not in force on the run's date."""
        return {
            str(entry.get("id")): entry
            for entry in self.provenance.get("layers_not_in_force") or []
            if isinstance(entry, dict)
        }

    def describe(self) -> str:
        """The run in a few words: its label and, when known, its date."""
        return f"{self.label} (as of {self.as_of})" if self.as_of else self.label


def _fail(path: Path, why: str) -> DiffError:
    return DiffError(f"{path}: {why}")


def _read_json(folder: Path) -> dict:
    path = folder / "screening.json"
    if not path.is_file():
        raise _fail(
            folder,
            "not a screening output folder (no screening.json; write one with "
            "zoning screen SITES --out DIR, formats including json)",
        )
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise _fail(path, f"cannot be read as JSON ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("provenance"), dict):
        raise _fail(path, "not a zoning screening (no provenance)")
    if doc["provenance"].get("tool") != "zoning" or not isinstance(doc.get("sites"), list):
        raise _fail(path, "not a zoning screening (no zoning provenance and list of sites)")
    return doc


def _frame(records: Any, path: Path, what: str) -> pd.DataFrame:
    if records is None:
        return pd.DataFrame({"site_id": pd.Series([], dtype=object)})
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise _fail(path, f"{what} is not a list of records")
    frame = pd.DataFrame.from_records(records)
    if "site_id" not in frame.columns:
        if len(frame):
            raise _fail(path, f"{what} has no site_id")
        frame["site_id"] = pd.Series([], dtype=object)
    frame = frame.astype(object).where(frame.notna(), None)
    frame["site_id"] = frame["site_id"].map(lambda v: None if v is None else str(v))
    return frame


#: Words of the notes a large screening writes about its clause table (``zoning.tables``).
_NO_CLAUSE_TABLE = "no clause table for"
_CUT_CLAUSE_TABLE = "clauses.csv holds only"
_FORMULA = re.compile(r"'[\t\r]*[=+\-@]")


def _unescape(value: Any) -> Any:
    """A CSV cell as written before :func:`zoning.io.cells.escape_formulas` made it inert."""
    return value[1:] if isinstance(value, str) and _FORMULA.match(value) else value


def _read_clauses(folder: Path, doc: dict) -> tuple[pd.DataFrame | None, bool]:
    """The clause table and whether it lists only the rows that keep a site from complying."""
    notes = " ".join(str(n) for n in doc.get("notes") or [])
    if _NO_CLAUSE_TABLE in notes:
        return None, False
    partial = _CUT_CLAUSE_TABLE in notes
    if doc.get("clauses") is not None and not partial:
        return _frame(doc["clauses"], folder / "screening.json", "clauses"), False
    path = folder / "clauses.csv"
    if not path.is_file():
        return None, False
    frame = _read_csv(path)
    frame.columns = [_unescape(c) for c in frame.columns]
    missing = [c for c in ("site_id", "rule_id", "result") if c not in frame.columns]
    if missing:
        raise _fail(path, f"not a clause table (no column {', '.join(missing)})")
    frame = frame.astype(object).map(_unescape)
    return frame.where(frame != "", None), partial


def _read_csv(path: Path) -> pd.DataFrame:
    """A CSV a screening wrote: UTF-8 (with or without a byte-order mark), else GBK
    (``--csv-encoding gbk``)."""
    for encoding in ("utf-8-sig", "gbk"):
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
        except UnicodeDecodeError:
            continue
        except (OSError, ValueError) as exc:
            raise _fail(path, f"cannot be read as CSV ({exc})") from None
    raise _fail(path, "cannot be read as CSV (neither UTF-8 nor GBK)")


def _touched(doc: dict, folder: Path) -> dict[str, set[str]]:
    """Site id -> the layers it hit (from the layer summary, else from the hits)."""
    summary = doc.get("layer_summary")
    touched: dict[str, set[str]] = {}
    if isinstance(summary, list):
        rows = [r for r in summary if isinstance(r, dict) and r.get("hit")]
    else:
        rows = [r for r in doc.get("hits") or [] if isinstance(r, dict)]
    for r in rows:
        if r.get("site_id") is not None and r.get("layer_id") is not None:
            touched.setdefault(str(r["site_id"]), set()).add(str(r["layer_id"]))
    return touched


def load_run(folder: str | Path, label: str | None = None) -> Run:
    """Read a screening output folder.

    Parameters
    ----------
    folder : path
        A folder ``zoning screen --out`` wrote with the ``json`` format (or its
        ``screening.json``).
    label : str, optional
        How the diff names the run (default: the folder as given).

    Returns
    -------
    Run

    Raises
    ------
    DiffError
        Not a folder, no or unreadable ``screening.json``, not a zoning screening, a
        ``site_id`` twice, or an unreadable ``clauses.csv`` (one line naming the file).
    """
    path = Path(folder)
    if path.name == "screening.json" and path.is_file():
        path = path.parent  # the folder's own file, given for the folder
    if not path.is_dir():
        raise _fail(path, "no such folder" if not path.exists() else "not a folder")
    doc = _read_json(path)
    json_path = path / "screening.json"
    sites = _frame(doc["sites"], json_path, "sites")
    twice = sites["site_id"][sites["site_id"].duplicated()]
    if len(twice):
        raise _fail(
            json_path, f"site_id {quote(twice.iloc[0])} appears twice (sites are matched by id)"
        )
    if sites["site_id"].isna().any():
        raise _fail(json_path, "a site has no site_id")
    reasons = _frame(doc.get("reasons") or [], json_path, "reasons")
    clauses, partial = _read_clauses(path, doc)
    return Run(
        path=path,
        label=label if label is not None else str(folder),
        provenance=doc["provenance"],
        sites=sites.set_index("site_id", drop=False),
        reasons=reasons,
        clauses=clauses,
        clauses_partial=partial,
        touched=_touched(doc, path),
        omitted=frozenset(str(t) for t in doc.get("omitted") or []),
    )


def fmt_date(value: Any, *, open_end: str) -> str:
    """An ISO date of the law or ``open_end`` when absent (``"—"`` style texts).

    Parameters
    ----------
    value : Any
        The date (str, date or None).
    open_end : str
        What an absent date is called (``"ever"``, ``"open"``).

    Returns
    -------
    str
    """
    if value in (None, ""):
        return open_end
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
