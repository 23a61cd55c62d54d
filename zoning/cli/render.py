"""Terminal rendering: the plain-text summary of a screening that ``zoning screen`` and
``zoning compare`` print.

The library never prints; this module turns a :class:`~zoning.screening.ScreeningResult` into
aligned lines for a terminal, with the report's own logic (verdict counts, top reasons, why a
site is unknown) from :mod:`zoning.report`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..report.advice import unknown_texts
from ..report.context import (
    COVERAGE_NOT_CHECKED,
    coverage_checked,
    is_demonstration,
    rule_set_info,
)
from ..report.format import (
    DECIDED_BY,
    VERDICT_LABELS,
    VERDICT_ORDER,
    as_bool,
    as_str,
    check_lang,
    fmt_area,
    fmt_m,
    fmt_number,
    plain_text,
    verdict_key,
)
from ..report.selection import (
    n_boundary_sensitive,
    site_order,
    site_table,
    top_reasons,
    verdict_counts,
    verdict_keys,
)

if TYPE_CHECKING:  # pragma: no cover
    from ..screening import ScreeningResult

__all__ = ["console_summary"]


def console_summary(result: ScreeningResult, *, lang: str = "en", max_rows: int = 20) -> str:
    """A plain-text summary of a screening for the terminal.

    Parameters
    ----------
    result : ScreeningResult
        A screening or a comparison (the output of :func:`zoning.screen` or
        :func:`zoning.compare.compare_alternatives`).
    lang : {"en", "zh", "both"}
        Language of verdict labels and reason messages.
    max_rows : int
        How many of the most severe (non-permitted) sites to list.

    Returns
    -------
    str
        Lines: the demonstration warning (when the data are demonstration data), verdict
        counts, the most severe sites with their top reason and its citation, the ranking
        of a comparison (``result.ranking``) and the notes (``result.notes``).  Data
        strings are flattened to one line and control characters replaced; columns are
        aligned in terminal cells (CJK characters take two).

    Raises
    ------
    ValueError
        For an unknown ``lang`` or a negative ``max_rows``.

    Notes
    -----
    Cost: one pass over ``sites`` (sorting by severity); reasons are read for the listed
    sites only.  For more than :data:`~zoning.screening.outputs.LARGE_RUN_SITES` sites whose
    reasons table is not built yet, the listed sites' reasons are those the sites table
    holds (``reasons_en`` / ``reasons_zh``, the first one shown): the reasons and layer
    summary tables (some 20 rows per site) are not built for a summary.
    """
    check_lang(lang)
    if max_rows < 0:
        raise ValueError(f"max_rows must be >= 0, not {max_rows}")

    def label(v: str) -> str:
        zh, en = VERDICT_LABELS[v]
        return {"zh": zh, "en": en}.get(lang, f"{zh} {en}")

    sites = _summary_sites(result)
    lines = _warning_lines(result) + _count_lines(result, sites, label)
    lines += _severe_lines(result, sites, label, lang, max_rows)
    return "\n".join(lines + _ranking_lines(result, label) + _note_lines(result)) + "\n"


#: The columns of the sites table the summary reads.
_SUMMARY_COLUMNS = ("site_id", "name", "verdict", "boundary_sensitive", "boundary_rules")


def _summary_sites(result: Any) -> pd.DataFrame:
    """The sites as the summary reads them (:func:`site_table`; for a large run only the
    columns it reads, not a copy of every column)."""
    if not _large(result):
        return site_table(result)
    s = result.sites
    return pd.DataFrame({c: s[c].to_numpy() for c in _SUMMARY_COLUMNS if c in s.columns})


def _warning_lines(result: Any) -> list[str]:
    """The demonstration-data and coverage warnings a screening calls for."""
    lines = []
    if is_demonstration(result):
        lines.append(
            "WARNING: DEMONSTRATION DATA — not the official ecological protection red line "
            "or control units (演示数据，非官方生态保护红线与管控单元)."
        )
    if not coverage_checked(result):
        lines.append(f"WARNING: {COVERAGE_NOT_CHECKED[1]} ({COVERAGE_NOT_CHECKED[0]})")
    return lines


def _label_width(label: Callable[[str], str]) -> int:
    """Terminal columns of the widest verdict label."""
    return max(text_width(label(v)) for v in VERDICT_ORDER)


def _count_lines(result: Any, sites: pd.DataFrame, label: Callable[[str], str]) -> list[str]:
    """The rule set, the verdict counts and the number of boundary-sensitive sites."""
    n = len(sites)
    counts = verdict_counts(sites)
    rs = rule_set_info(result)
    rs_text = " ".join(x for x in (rs["id"], rs["version"]) if x) or "rules"
    if rs["hash_short"]:
        rs_text += f" ({rs['hash_short']})"
    if rs["status"]:
        rs_text += f", {rs['status']}"
    lines = [f"Screened {n:,} site{'s' if n != 1 else ''} · rule set {plain_text(rs_text)}"]
    width = _label_width(label)
    for v in VERDICT_ORDER:
        lines.append(f"  {pad(label(v), width)}  {counts[v]:>{len(f'{n:,}')},}")
    nb = n_boundary_sensitive(sites)
    if nb:
        lines.append(
            f"  {nb:,} site{'s' if nb != 1 else ''} near a layer boundary "
            "(boundary-sensitive): check against authoritative data."
        )
    return lines


def _severe_lines(
    result: Any, sites: pd.DataFrame, label: Callable[[str], str], lang: str, max_rows: int
) -> list[str]:
    """The sites to look at (all but permitted), most severe first, up to ``max_rows``, each
    with its name and id, verdict and why; conditional sites are counted as permitted with
    conditions, not as not permitted."""
    order = site_order(sites)
    verdicts = verdict_keys(sites["verdict"]).to_numpy()
    severe = order[verdicts[order] != "permitted"]
    if not len(severe):
        return ["No site hits a constraint in the screened layers."]
    shown = severe[:max_rows]
    if _large(result):  # the site's own top reasons, without building millions of rows
        tops, unknown = _first_reasons(result, [int(p) for p in shown]), {}
    else:
        tops = top_reasons(result.reasons, [int(p) for p in shown])
        unknown = unknown_texts(result, [int(p) for p in shown])
    n_cond = int((verdicts[severe] == "conditional").sum())
    counts = ", ".join(
        text
        for k, text in (
            (len(severe) - n_cond, f"{len(severe) - n_cond:,} not permitted"),
            (n_cond, f"{n_cond:,} {_with_conditions(lang)}"),
        )
        if k
    )
    lines = [
        f"Most severe sites ({len(shown):,} of {len(severe):,}: {counts}):"
        if len(shown)
        else f"Sites: {counts}."
    ]
    ids = [_site_label(sites, int(p)) for p in shown]
    id_w = max((text_width(s) for s in ids), default=0)
    width = _label_width(label)
    for p, sid in zip(shown, ids, strict=True):
        p = int(p)
        msg = _site_message(tops.get(p), unknown.get(p), lang)
        flag = ""
        if "boundary_sensitive" in sites.columns and as_bool(sites["boundary_sensitive"].iat[p]):
            which = (
                as_str(sites["boundary_rules"].iat[p])
                if "boundary_rules" in sites.columns
                else None
            )
            if which:  # verdict codes in the console's words
                which = _VERDICT_CODE.sub(lambda m: f"({label(m.group(1))})", which)
            flag = " ⚠ boundary-sensitive" + (f" ({plain_text(which, 120)})" if which else "")
        lines.append(f"  {pad(sid, id_w)}  {pad(label(verdicts[p]), width)}  {msg}{flag}".rstrip())
    if len(severe) > len(shown):
        lines.append(f"  … and {len(severe) - len(shown):,} more (sites.csv lists every site)")
    return lines


def _large(result: Any) -> bool:
    """A run of more than :data:`~zoning.screening.outputs.LARGE_RUN_SITES` sites whose
    reasons table is not built yet: its summary reads the sites table only."""
    from ..screening.outputs import LARGE_RUN_SITES

    built = getattr(result, "is_built", None)
    return (
        len(result.sites) > LARGE_RUN_SITES
        and built is not None
        and not built("reasons")
        and {"reasons_en", "reasons_zh"} <= set(result.sites.columns)
    )


def _first_reasons(result: Any, positions: list[int]) -> dict[int, dict]:
    """The most severe reason of each listed site as its ``reasons_en`` / ``reasons_zh``
    give it first (a rule undecided for want of an attribute worded as a condition), with
    its rule's citation: what :func:`top_reasons` gives, without the reasons table."""
    from ..tables.codes import rule_citations, split_reasons

    cites = rule_citations(getattr(result, "rule_set", None))
    sites = result.sites
    out: dict[int, dict] = {}
    for p in positions:
        en = split_reasons(as_str(sites["reasons_en"].iat[p]) or "")
        zh = split_reasons(as_str(sites["reasons_zh"].iat[p]) or "")
        if not en:
            continue
        label = en[0][0]
        out[p] = {
            "message_en": en[0][2],
            "message_zh": zh[0][2] if zh else None,
            "citation": cites.get(label),
        }
    return out


#: A verdict code in parentheses, as ``boundary_rules`` writes it.
_VERDICT_CODE = re.compile(r"\((" + "|".join(VERDICT_ORDER) + r")\)")


def _with_conditions(lang: str) -> str:
    """ "permitted with conditions" in the console's language (the verdict word from labels)."""
    zh = f"{VERDICT_LABELS['conditional'][0]}允许"
    return {"zh": zh, "en": "permitted with conditions"}.get(
        lang, f"{zh} permitted with conditions"
    )


def _site_label(sites: pd.DataFrame, pos: int) -> str:
    """A site as the console names it: ``name (id)``, or its id alone without a name."""
    sid = plain_text(sites["site_id"].iat[pos], 32)
    name = as_str(sites["name"].iat[pos]) if "name" in sites.columns else None
    if name and name != sid:
        return f"{plain_text(name, 40)} ({sid})"
    return sid


def _site_message(top: dict | None, unknown: tuple[str, str] | None, lang: str) -> str:
    """Why a site has its verdict: why it is unknown, else its top reason and citation."""
    if unknown is not None:
        zh, en = unknown
        return plain_text({"zh": zh, "en": en}.get(lang) or f"{zh} / {en}", 200)
    if top is None:
        return ""
    zh, en = as_str(top.get("message_zh")), as_str(top.get("message_en"))
    msg = {"zh": zh or en, "en": en or zh}.get(lang) or " / ".join(x for x in (zh, en) if x)
    msg = plain_text(msg, 110)
    cite = as_str(top.get("citation")) or " ".join(
        x for x in (as_str(top.get("document")), as_str(top.get("article"))) if x
    )
    if cite:
        msg += f" [{plain_text(cite, 80)}]"
    return msg


def text_width(text: str) -> int:
    """Terminal columns of ``text``: East Asian wide and full-width characters take two.

    Parameters
    ----------
    text : str

    Returns
    -------
    int
    """
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int) -> str:
    """``text`` padded with spaces to ``width`` terminal columns.

    Parameters
    ----------
    text : str
    width : int
        Terminal columns (see :func:`text_width`).

    Returns
    -------
    str
    """
    return text + " " * max(0, width - text_width(text))


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Align rows under headers (CJK characters count double), for terminal output.

    Parameters
    ----------
    headers : sequence of str
    rows : sequence of sequences
        Cells; None prints as nothing.

    Returns
    -------
    str
        The header, a rule and the rows, columns two spaces apart, no trailing spaces.
    """
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [
        max([text_width(h)] + [text_width(r[i]) for r in cells]) for i, h in enumerate(headers)
    ]

    def line(values: Sequence[str]) -> str:
        return "  ".join(pad(v, w) for v, w in zip(values, widths, strict=True)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def _ranking_lines(result: Any, label: Any, max_rows: int = 50) -> list[str]:
    """The ranking of a comparison as an aligned table (empty for a plain screening)."""
    ranking = getattr(result, "ranking", None)
    if ranking is None or not len(ranking):
        return []
    head = ["rank", "alternative", "verdict", "area", "length", "nearest", "decided by"]
    rows = [
        [
            fmt_number(r.get("rank")),
            plain_text(r.get("site_id"), 32),
            label(verdict_key(r.get("verdict"))),
            fmt_area(r.get("constrained_m2")),
            fmt_m(r.get("constrained_length_m")),
            fmt_m(r.get("nearest_m")),
            DECIDED_BY.get(as_str(r.get("decided_by")) or "", ("", ""))[1]
            or plain_text(r.get("decided_by")),
        ]
        for r in ranking.head(max_rows).to_dict("records")
    ]
    widths = [max(text_width(x) for x in col) for col in zip(head, *rows, strict=True)]
    out = [
        "",
        "Ranking of alternatives (verdict, then constrained area or length, then distance to "
        "the nearest constraint; — = none within the search radius):",
    ]
    for row in [head, *rows]:
        out.append("  " + "  ".join(pad(x, w) for x, w in zip(row, widths, strict=True)).rstrip())
    if len(ranking) > max_rows:
        out.append(f"  … and {len(ranking) - max_rows:,} more (ranking.csv)")
    return out


def _note_lines(result: Any, max_notes: int = 10) -> list[str]:
    """The screening's notes, at most ``max_notes`` of them."""
    notes = [n for n in (getattr(result, "notes", None) or []) if as_str(n)]
    if not notes:
        return []
    out = ["", "Notes:"]
    out += [f"  - {plain_text(n, 300)}" for n in notes[:max_notes]]
    if len(notes) > max_notes:
        out.append(f"  … and {len(notes) - max_notes:,} more (screening.json)")
    return out
