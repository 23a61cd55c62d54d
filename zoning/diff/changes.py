"""What changed site by site between two runs, and the cause of each change.

Sites are matched by ``site_id``.  For a site in both runs, three things are compared:

- its verdict;
- its reasons, one per rule and access list (a reason without a rule — a layer outside its
  coverage or missing — one per status and layer kind): a reason that appears, disappears, or
  changes verdict, status or the features it came from (by layer kind and feature id, so a
  new vintage of the same feature is no change; reworded messages are not compared);
- its clause results (``clauses.csv``), one per scope, access list and rule, when both runs
  wrote a clause table (a clause that does not apply in one run and is absent from the other
  is no change).

Each change gets its causes (:mod:`zoning.diff.causes`): the rule's law, the layers its
reasons came from (for a clause without reasons, or a verdict, the layers the site touched),
the site's attributes and geometry, and what differs for the whole run; "cause not
determined" when nothing does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .causes import (
    CAUSE_KINDS,
    Cause,
    attribute_causes,
    geometry_causes,
    law_causes,
    layer_causes,
    run_causes,
)
from .runs import Run

__all__ = ["DIFF_COLUMNS", "SITE_COLUMNS", "UNDETERMINED", "WHATS", "compare_runs"]

#: Columns of ``diff.csv``: one row per change.
DIFF_COLUMNS = ("site_id", "name", "what", "rule_id", "before", "after", "cause_kind", "cause")
#: Columns of the per-site table of a diff.
SITE_COLUMNS = (
    "site_id",
    "name",
    "status",
    "verdict_before",
    "verdict_after",
    "n_changes",
    "cause_kind",
)
#: What a change is about, in the order a site's changes are listed.
WHATS = ("site", "verdict", "reason", "clause")
#: The cause given when no difference the runs record explains a change.
UNDETERMINED = Cause(
    "undetermined",
    "cause not determined: the runs record no difference of law, layers, site attributes or "
    "geometry, input, rule-set or catalog file or tool version that explains it",
)
#: What an absent value is shown as in ``before`` / ``after``.
ABSENT = "(absent)"
#: A clause a cut-down clause table (of a large screening) does not list.
NOT_LISTED = "(not listed: complies or not applicable)"


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and value != value) else str(value)


@dataclass
class _Item:
    """A reason or a clause of one site, as compared."""

    rule_id: str
    signature: tuple
    text: str
    layers: set[str] = field(default_factory=set)
    reads: str = ""


def _by_site(frame: pd.DataFrame | None) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    if frame is None or not len(frame):
        return out
    for rec in frame.to_dict("records"):
        out.setdefault(str(rec.get("site_id")), []).append(rec)
    return out


def _reason_items(records: Iterable[dict]) -> dict[tuple, _Item]:
    groups: dict[tuple, list[dict]] = {}
    for r in records:
        rule, lst = _text(r.get("rule_id")), _text(r.get("list_id"))
        layer = _text(r.get("kind")) or _text(r.get("layer_id"))
        key = (rule, lst, "" if rule else f"{_text(r.get('status'))}:{layer}")
        groups.setdefault(key, []).append(r)
    items = {}
    for key, rows in groups.items():
        first = rows[0]
        verdict, status = _text(first.get("verdict")), _text(first.get("status"))
        feats = frozenset(
            (_text(r.get("kind")), _text(r.get("feature_id"))) for r in rows if r.get("feature_id")
        )
        where = sorted(
            {
                f"{_text(r.get('layer_id'))}:{_text(r.get('feature_id'))}"
                if r.get("feature_id")
                else _text(r.get("layer_id"))
                for r in rows
                if r.get("layer_id")
            }
        )
        text = verdict + (f" [{key[1]}]" if key[1] else "")
        text += f" ({status})" if status and status != "applies" else ""
        text += f" at {', '.join(where)}" if where else ""
        items[key] = _Item(
            rule_id=key[0],
            signature=(verdict, status, feats),
            text=text,
            layers={_text(r.get("layer_id")) for r in rows if r.get("layer_id")},
        )
    return items


def _clause_items(records: Iterable[dict]) -> dict[tuple, _Item]:
    items = {}
    for r in records:
        rule, lst, scope = _text(r.get("rule_id")), _text(r.get("list_id")), _text(r.get("scope"))
        result = _text(r.get("result"))
        items[(rule, lst, scope)] = _Item(
            rule_id=rule,
            signature=(result,),
            text=result + (f" [{lst}]" if lst else ""),
            reads=_text(r.get("reads")),
        )
    return items


@dataclass
class _Context:
    """The two runs, their per-site tables and what differs for the whole run."""

    a: Run
    b: Run
    reasons_a: dict[str, list[dict]]
    reasons_b: dict[str, list[dict]]
    clauses_a: dict[str, list[dict]]
    clauses_b: dict[str, list[dict]]
    run: dict[str, list[Cause]]

    def causes(
        self, sid: str, rule_id: str, layers: set[str], reads: str = "", *, touched: bool = False
    ) -> list[Cause]:
        """The causes of a change of site ``sid`` (rule ``rule_id``, its reasons' layers)."""
        a, b = self.a, self.b
        row_a, row_b = a.sites.loc[sid], b.sites.loc[sid]
        found = law_causes(rule_id, a, b) + layer_causes(layers, a, b)
        if touched or not layers:
            near = (a.touched.get(sid, set()) | b.touched.get(sid, set())) - layers
            extra = layer_causes(near, a, b, note=" (a layer the site touches)")
            found += [c for c in extra if c not in found]
        found += attribute_causes(row_a, row_b, reads or None)
        found += geometry_causes(row_a, row_b)
        kinds = {c.kind for c in found}
        if not kinds & {"document", "rule", "rule_set"}:
            found += self.run["rule_set"]
        if "layer" not in kinds:
            found += self.run["catalog"]
        found += self.run["options"] + self.run["tool"]
        return found or [UNDETERMINED]


def _row(sid: str, name: str, what: str, rule: str, before: str, after: str, causes) -> dict:
    causes = list(dict.fromkeys(causes))
    kinds = sorted({c.kind for c in causes}, key=CAUSE_KINDS.index)
    return {
        "site_id": sid,
        "name": name,
        "what": what,
        "rule_id": rule,
        "before": before,
        "after": after,
        "cause_kind": ";".join(kinds),
        "cause": " | ".join(c.text for c in causes),
        "_causes": causes,
    }


#: Clause results a cut-down clause table leaves out.
_UNLISTED = ("complies", "not_applicable")


def _unlisted_alike(x: _Item | None, y: _Item | None, ctx: _Context) -> bool:
    """No change: a clause that does not apply in one run and is absent from the other (a rule
    not in force there does not apply either), or one that complies in one run and is not
    listed by the other's cut-down table."""
    if y is None:
        listed = _UNLISTED if ctx.b.clauses_partial else ("not_applicable",)
        return x is not None and x.signature[0] in listed
    if x is None:
        listed = _UNLISTED if ctx.a.clauses_partial else ("not_applicable",)
        return y.signature[0] in listed
    return False


def _item_rows(sid: str, name: str, what: str, old: dict, new: dict, ctx: _Context) -> list[dict]:
    rows = []
    for key in [*new, *(k for k in old if k not in new)]:
        x, y = old.get(key), new.get(key)
        if x is not None and y is not None and x.signature == y.signature:
            continue
        if what == "clause" and _unlisted_alike(x, y, ctx):
            continue
        item = y or x
        assert item is not None
        layers = (x.layers if x else set()) | (y.layers if y else set())
        if what == "clause":
            for side in (ctx.reasons_a.get(sid, []), ctx.reasons_b.get(sid, [])):
                layers |= {
                    _text(r.get("layer_id"))
                    for r in side
                    if _text(r.get("rule_id")) == item.rule_id and r.get("layer_id")
                }
        causes = ctx.causes(sid, item.rule_id, layers, item.reads)
        absent_a, absent_b = ABSENT, ABSENT
        if what == "clause":
            absent_a = NOT_LISTED if ctx.a.clauses_partial else ABSENT
            absent_b = NOT_LISTED if ctx.b.clauses_partial else ABSENT
        before, after = (x.text if x else absent_a), (y.text if y else absent_b)
        rows.append(_row(sid, name, what, item.rule_id, before, after, causes))
    return rows


def _site_rows(sid: str, ctx: _Context) -> list[dict]:
    ra, rb = ctx.a.sites.loc[sid], ctx.b.sites.loc[sid]
    name = _text(rb.get("name")) or _text(ra.get("name"))
    rows = []
    if "reasons" not in ctx.a.omitted | ctx.b.omitted:
        rows += _item_rows(
            sid,
            name,
            "reason",
            _reason_items(ctx.reasons_a.get(sid, [])),
            _reason_items(ctx.reasons_b.get(sid, [])),
            ctx,
        )
    if ctx.a.clauses is not None and ctx.b.clauses is not None:
        rows += _item_rows(
            sid,
            name,
            "clause",
            _clause_items(ctx.clauses_a.get(sid, [])),
            _clause_items(ctx.clauses_b.get(sid, [])),
            ctx,
        )
    va, vb = _text(ra.get("verdict")), _text(rb.get("verdict"))
    if va != vb:
        causes = [c for r in rows for c in r["_causes"]]
        if not causes or all(c == UNDETERMINED for c in causes):
            causes = ctx.causes(sid, "", set(), touched=True)
        rows.insert(0, _row(sid, name, "verdict", "", va, vb, causes))
    return rows


def _lone_site(sid: str, run: Run, present_in_b: bool, ctx: _Context) -> dict:
    rec = run.sites.loc[sid]
    verdict = _text(rec.get("verdict"))
    other = ctx.a if present_in_b else ctx.b
    causes = ctx.run["input"] + ctx.run["options"] or [
        Cause("undetermined", f"cause not determined: {other.label} has no site {sid}")
    ]
    before, after = (ABSENT, verdict) if present_in_b else (verdict, ABSENT)
    return _row(sid, _text(rec.get("name")), "site", "", before, after, causes)


def compare_runs(a: Run, b: Run) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every change between runs ``a`` and ``b``, with its causes, and a table per site.

    Parameters
    ----------
    a, b : Run
        The runs before and after.

    Returns
    -------
    (DataFrame, DataFrame)
        The changes (columns :data:`DIFF_COLUMNS`, a site's changes together, sites in the
        order of ``b`` then those only in ``a``) and the sites (columns
        :data:`SITE_COLUMNS`; ``status`` is ``changed``, ``unchanged``, ``added`` or
        ``removed``).
    """
    ctx = _Context(
        a,
        b,
        _by_site(a.reasons),
        _by_site(b.reasons),
        _by_site(a.clauses),
        _by_site(b.clauses),
        run_causes(a, b),
    )
    ids_a, ids_b = list(a.sites.index), list(b.sites.index)
    in_a, in_b = set(ids_a), set(ids_b)
    rows: list[dict] = []
    sites: list[dict] = []
    for sid in [*ids_b, *(s for s in ids_a if s not in in_b)]:
        if sid in in_a and sid in in_b:
            site_rows = _site_rows(sid, ctx)
            status = "changed" if site_rows else "unchanged"
        else:
            site_rows = [_lone_site(sid, b if sid in in_b else a, sid in in_b, ctx)]
            status = "added" if sid in in_b else "removed"
        rows += site_rows
        va = _text(a.sites.loc[sid].get("verdict")) if sid in in_a else ""
        vb = _text(b.sites.loc[sid].get("verdict")) if sid in in_b else ""
        name = _text((b if sid in in_b else a).sites.loc[sid].get("name"))
        kinds = sorted({k for r in site_rows for k in r["cause_kind"].split(";") if k})
        sites.append(
            {
                "site_id": sid,
                "name": name,
                "status": status,
                "verdict_before": va,
                "verdict_after": vb,
                "n_changes": len(site_rows),
                "cause_kind": ";".join(sorted(kinds, key=CAUSE_KINDS.index)),
            }
        )
    changes = pd.DataFrame(rows, columns=[*DIFF_COLUMNS, "_causes"]).drop(columns="_causes")
    return changes.astype(object), pd.DataFrame(sites, columns=list(SITE_COLUMNS))
