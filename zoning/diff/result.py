"""The result of a diff (:class:`DiffResult`) and how it is written.

``diff.csv`` (one row per change, :data:`~zoning.diff.changes.DIFF_COLUMNS`, UTF-8 with a
byte-order mark like the screening's CSVs) and ``diff.html`` (the report section) are written
through the project's output transaction (:class:`zoning.io.outputs.OutputFolder`): into a
folder shared with the user, all or nothing, replacing only what an earlier diff wrote there
(listed in :data:`DIFF_MARKER`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import ZoningError
from ..io.cells import escape_formulas
from ..io.outputs import Marker, OutputFolder, atomic_path
from .causes import Cause, layer_causes, run_causes, span
from .changes import compare_runs
from .runs import Run, load_run

__all__ = [
    "DIFF_FORMATS",
    "DIFF_MARKER",
    "SCREENING_PREFIX",
    "DiffResult",
    "check_formats",
    "check_no_screenings",
    "diff_output_folder",
    "diff_runs",
    "earlier_screenings",
]

log = logging.getLogger("zoning.diff")

#: Output formats of a diff, and the file each writes.
DIFF_FORMATS = {"csv": "diff.csv", "html": "diff.html"}
#: The file a diff writes into its folder, listing the files it wrote.
DIFF_MARKER = ".zoning-diff.json"


#: Top-level names of the screenings ``zoning screen --diff-as-of`` writes beside its diff.
SCREENING_PREFIX = "as_of_"


def _marker() -> Marker:
    from .._version import __version__

    return Marker(
        DIFF_MARKER,
        writer="diff",
        info={
            "written_by": "zoning diff",
            "tool_version": __version__,
            "note": "the files a zoning diff wrote here; only these are replaced or removed "
            "by a later run",
        },
    )


def earlier_screenings(out_dir: str | Path) -> list[str]:
    """The screening folders (``as_of_*``) an earlier diff wrote into ``out_dir``.

    Parameters
    ----------
    out_dir : path
        The diff's folder (it need not exist).

    Returns
    -------
    list of str
        Top-level names, sorted.

    Raises
    ------
    ZoningError
        The folder's diff marker is unreadable (one line).
    """
    folder = Path(out_dir)
    files = _marker().read(folder) if folder.is_dir() else None
    tops = {f.split("/", 1)[0] for f in files or ()}
    return sorted(t for t in tops if t.startswith(SCREENING_PREFIX))


def diff_output_folder(
    out_dir: str | Path, planned: Iterable[str], managed: Iterable[str] = ()
) -> OutputFolder:
    """The output transaction of a diff writing ``planned`` into ``out_dir``.

    Parameters
    ----------
    out_dir : path
        The folder (shared with the user: only what an earlier diff wrote is replaced).
    planned : iterable of str
        Top-level names this run writes.
    managed : iterable of str
        Other top-level names an earlier diff may have written (removed when this run does
        not write them).

    Returns
    -------
    OutputFolder
    """
    return OutputFolder(
        out_dir,
        _marker(),
        list(planned),
        managed=[*DIFF_FORMATS.values(), *managed],
        tag="zoning-diff",
    )


@dataclass
class DiffResult:
    """What changed between two screenings of the same sites, and why.

    Attributes
    ----------
    a, b : Run
        The runs before and after.
    changes : DataFrame
        One row per change (:data:`~zoning.diff.changes.DIFF_COLUMNS`).
    sites : DataFrame
        One row per site of either run (:data:`~zoning.diff.changes.SITE_COLUMNS`).
    run_differences : list of Cause
        What differs for the whole run: date, documents in force, rule set, catalog, layer
        vintages, tool, input, options.
    notes : list of str
        What the diff could not compare, and different site sets.
    """

    a: Run
    b: Run
    changes: pd.DataFrame
    sites: pd.DataFrame
    run_differences: list[Cause] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def demonstration(self) -> bool:
        """Whether either run used demonstration data or rules."""
        return self.a.demonstration or self.b.demonstration

    def counts(self) -> dict[str, int]:
        """Sites by status and changes by kind.

        Returns
        -------
        dict
            ``both``, ``added``, ``removed``, ``changed``, ``verdicts`` (sites whose verdict
            changed), ``changes`` (rows), ``reasons``, ``clauses``.
        """
        status = self.sites["status"].value_counts()
        what = self.changes["what"].value_counts()
        return {
            "both": int(status.get("changed", 0) + status.get("unchanged", 0)),
            "added": int(status.get("added", 0)),
            "removed": int(status.get("removed", 0)),
            "changed": int(status.get("changed", 0)),
            "verdicts": int(what.get("verdict", 0)),
            "changes": len(self.changes),
            "reasons": int(what.get("reason", 0)),
            "clauses": int(what.get("clause", 0)),
        }

    def to_csv(self, path: str | Path) -> Path:
        """Write the changes as ``diff.csv`` (UTF-8 with BOM, formulas made inert), atomically.

        Parameters
        ----------
        path : path
            The file to write.

        Returns
        -------
        Path
        """
        with atomic_path(path) as tmp:
            escape_formulas(self._csv_table()).to_csv(tmp, index=False, encoding="utf-8-sig")
        return Path(path)

    def _csv_table(self) -> pd.DataFrame:
        """``diff.csv``: the changes plus ``data_status`` (``demonstration`` when either run
        used demonstration data or rules, as ``sites.csv`` says it)."""
        table = self.changes.copy()
        table["data_status"] = (
            "demonstration" if self.demonstration else "not demonstration (see each run)"
        )
        return table

    def to_html(self, lang: str = "both") -> str:
        """The diff as a standalone HTML page (the report section).

        Parameters
        ----------
        lang : {"both", "zh", "en"}

        Returns
        -------
        str
        """
        from .html import render_diff

        return render_diff(self, lang=lang)

    def write_into(self, folder: Path, formats: Iterable[str], lang: str = "both") -> list[str]:
        """Write the formats into ``folder`` directly (inside an output transaction).

        Parameters
        ----------
        folder : Path
            A folder being written (the temporary folder of an :class:`OutputFolder`).
        formats : iterable of str
            Some of :data:`DIFF_FORMATS`.
        lang : {"both", "zh", "en"}

        Returns
        -------
        list of str
            The names written.
        """
        names = []
        for fmt in formats:
            name = DIFF_FORMATS[fmt]
            if fmt == "csv":
                escape_formulas(self._csv_table()).to_csv(
                    folder / name, index=False, encoding="utf-8-sig"
                )
            else:
                (folder / name).write_text(self.to_html(lang), encoding="utf-8")
            names.append(name)
        return names

    def save(
        self, out_dir: str | Path, formats: Iterable[str] = ("csv", "html"), lang: str = "both"
    ) -> dict[str, Path]:
        """Write ``diff.csv`` and/or ``diff.html`` into ``out_dir``, all or nothing.

        Parameters
        ----------
        out_dir : path
            The folder (created if needed; the user's other files are left alone).
        formats : iterable of str
            Some of :data:`DIFF_FORMATS` (a comma-separated string is split).
        lang : {"both", "zh", "en"}
            Language of ``diff.html``.

        Returns
        -------
        dict
            Format -> path written.

        Raises
        ------
        ZoningError
            An unknown format, or a file in the way no earlier diff wrote (nothing written).
        """
        fmts = check_formats(formats)
        if "html" in fmts:
            from ..report.format import check_lang

            check_lang(lang)
        out = Path(out_dir)
        check_no_screenings(out)
        with diff_output_folder(out, [DIFF_FORMATS[f] for f in fmts]) as tmp:
            self.write_into(tmp, fmts, lang)
        log.info("wrote %s into %s", ", ".join(fmts), out)
        return {f: out / DIFF_FORMATS[f] for f in fmts}

    def summary(self, limit: int = 10) -> str:
        """The console summary: runs, counts, run differences and the first changes.

        Parameters
        ----------
        limit : int
            How many changes to list.

        Returns
        -------
        str
            Lines ending with a newline.
        """
        from .html import summary_lines

        return "".join(line + "\n" for line in summary_lines(self, limit))


def check_no_screenings(out_dir: str | Path) -> None:
    """Refuse to write a lone diff where an earlier ``zoning screen --diff-as-of`` wrote its
    screenings beside its diff (they would no longer be listed as ours).

    Parameters
    ----------
    out_dir : path
        The folder a diff is about to be written into.

    Raises
    ------
    ZoningError
        One line naming the folder and the screenings.
    """
    found = earlier_screenings(out_dir)
    if found:
        raise ZoningError(
            f"{out_dir}: holds the screenings of an earlier zoning screen --diff-as-of "
            f"({', '.join(found)}); write this diff into another folder"
        )


def check_formats(formats: Iterable[str] | str) -> list[str]:
    """The diff formats asked for, validated (a comma-separated string is split).

    Parameters
    ----------
    formats : iterable of str or str

    Returns
    -------
    list of str

    Raises
    ------
    ZoningError
        An unknown format or none (one line).
    """
    if isinstance(formats, str):
        formats = formats.split(",")
    fmts = list(dict.fromkeys(str(f).strip().lower() for f in formats if str(f).strip()))
    bad = [f for f in fmts if f not in DIFF_FORMATS]
    if bad or not fmts:
        what = f"unknown diff format(s) {', '.join(bad)}" if bad else "no diff format given"
        raise ZoningError(f"{what} (known: {', '.join(DIFF_FORMATS)})")
    return fmts


def _law_differences(a: Run, b: Run) -> list[Cause]:
    la, lb = a.law, b.law
    if la is None or lb is None:
        return []
    out = []
    docs = {**lb.documents, **la.documents}
    for doc in sorted(set(la.documents) ^ set(lb.documents)):
        rec = docs[doc]
        which = a if doc in la.documents else b
        label = rec.get("label") or doc
        out.append(
            Cause("document", f"{label} [{doc}] ({span(rec)}) applied only in {which.label}")
        )
    only_a, only_b = sorted(set(la.rules) - set(lb.rules)), sorted(set(lb.rules) - set(la.rules))
    for rules, run in ((only_a, a), (only_b, b)):
        if rules:
            out.append(Cause("rule", f"rules in force only in {run.label}: {', '.join(rules)}"))
    return out


def _run_differences(a: Run, b: Run) -> list[Cause]:
    out: list[Cause] = []
    if a.as_of != b.as_of:
        out.append(Cause("input", f"date applied (as of): {a.as_of or '—'} → {b.as_of or '—'}"))
    out += _law_differences(a, b)
    layer_ids = set(a.layers) | set(b.layers)
    out += layer_causes(layer_ids, a, b)
    for causes in run_causes(a, b).values():
        out += causes
    return out


def _notes(a: Run, b: Run, sites: pd.DataFrame) -> list[str]:
    notes = []
    added = int((sites["status"] == "added").sum())
    removed = int((sites["status"] == "removed").sum())
    if added or removed:
        notes.append(
            f"the runs screened different sites: {removed} only in {a.label}, "
            f"{added} only in {b.label} (matched by site_id)"
        )
    lacking = {
        "reasons": [r.label for r in (a, b) if "reasons" in r.omitted],
        "clauses": [r.label for r in (a, b) if r.clauses is None],
        "law": [r.label for r in (a, b) if r.law is None],
    }
    texts = {
        "reasons": "screening.json holds no reasons (a very large screening): reasons are not "
        "compared, only verdicts",
        "clauses": "no clause table: clause results are not compared",
        "law": "no record of the law in force (an older output): causes fall back to the "
        "rule-set hash, the catalog and the layers' sha256",
    }
    for what, runs in lacking.items():
        if runs:
            which = "both runs" if len(runs) == 2 else runs[0]
            notes.append(f"{which}: {texts[what]}")
    for run in (a, b):
        if run.clauses_partial:
            notes.append(
                f"{run.label}: its clause table lists only the clauses a site does not comply "
                "with (a large screening); a clause it does not list complies or does not apply"
            )
    return notes


def diff_runs(
    a: str | Path | Run,
    b: str | Path | Run,
    *,
    labels: tuple[str, str] | None = None,
) -> DiffResult:
    """Compare two screening output folders of the same sites.

    Parameters
    ----------
    a, b : path or Run
        The folders before and after (written by ``zoning screen --out`` with the ``json``
        format), or runs already read (:func:`zoning.diff.load_run`).
    labels : (str, str), optional
        How the runs are named (default: the folders as given).

    Returns
    -------
    DiffResult

    Raises
    ------
    DiffError
        A folder that is not a screening output (one line naming it).

    Examples
    --------
    >>> from zoning.diff import diff_runs
    >>> d = diff_runs("out/as_of_2026-03-01", "out/as_of_2026-04-01")  # doctest: +SKIP
    >>> d.changes[["site_id", "what", "rule_id", "cause_kind"]]  # doctest: +SKIP
    """
    la, lb = labels or (None, None)
    run_a = a if isinstance(a, Run) else load_run(a, la)
    run_b = b if isinstance(b, Run) else load_run(b, lb)
    changes, sites = compare_runs(run_a, run_b)
    return DiffResult(
        a=run_a,
        b=run_b,
        changes=changes,
        sites=sites,
        run_differences=_run_differences(run_a, run_b),
        notes=_notes(run_a, run_b, sites),
    )
