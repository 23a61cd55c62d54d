"""Why a result changed between two runs: the differences of law, layers, site and run.

Each function compares one thing the two runs' provenance (or the site's row) records and
returns :class:`Cause` items, most specific first:

- :func:`law_causes`: a rule in force in one run only (and why: its document's or its own
  validity, a repeal), absent from one rule set, or recorded differently (``law`` entry);
- :func:`layer_causes`: a layer's vintage (id, validity, sha256, features) differs;
- :func:`attribute_causes` / :func:`geometry_causes`: the site's project attributes or shape;
- :func:`run_causes`: what differs for the whole run (rule-set or catalog file, tool version,
  input file, screening options, date).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any, NamedTuple

from .runs import ATTRIBUTES, Run, fmt_date

__all__ = [
    "CAUSE_KINDS",
    "Cause",
    "attribute_causes",
    "geometry_causes",
    "law_causes",
    "layer_causes",
    "run_causes",
    "span",
]

#: Kinds of cause, in the order they are listed.
CAUSE_KINDS = (
    "document",
    "rule",
    "layer",
    "attributes",
    "geometry",
    "input",
    "rule_set",
    "catalog",
    "tool",
    "undetermined",
)


class Cause(NamedTuple):
    """One explanation of a change.

    Attributes
    ----------
    kind : str
        One of :data:`CAUSE_KINDS`.
    text : str
        What differs, in one line.
    """

    kind: str
    text: str


def _short(value: Any, n: int = 12) -> str:
    text = "—" if value in (None, "") else str(value)
    return text[:n] + "…" if len(text) > n + 1 else text


def span(
    rec: dict, start: str = "in_force_from", end: str = "in_force_to", word: str = "in force"
) -> str:
    """A validity in words: ``in force from A to B``, ``... until B``, ``... from A``.

    Parameters
    ----------
    rec : dict
        A document's, rule's or layer's record.
    start, end : str
        Its keys of the first and the last day (inclusive).
    word : str
        ``"in force"`` or ``"valid"``.

    Returns
    -------
    str
    """
    lo, hi = rec.get(start), rec.get(end)
    if lo and hi:
        return f"{word} from {fmt_date(lo, open_end='')} to {fmt_date(hi, open_end='')}"
    if hi:
        return f"{word} until {fmt_date(hi, open_end='')}"
    if lo:
        return f"{word} from {fmt_date(lo, open_end='')}"
    return f"{word} without time limit"


def _covers(rec: dict, start: str, end: str, day: str | None) -> bool | None:
    """Whether ``day`` falls in the record's validity (None: no date to test)."""
    if not day:
        return None
    lo, hi = rec.get(start), rec.get(end)
    return (not lo or str(lo) <= day) and (not hi or day <= str(hi))


def _doc_label(doc_id: str, docs: dict[str, dict]) -> str:
    rec = docs.get(doc_id) or {}
    label = rec.get("label") or rec.get("short") or rec.get("title")
    return f"{label} [{doc_id}]" if label and label != doc_id else doc_id


def _next_day(value: Any) -> str | None:
    try:
        return (dt.date.fromisoformat(str(value)) + dt.timedelta(days=1)).isoformat()
    except ValueError:
        return None


def _repeal(doc_id: str, docs: dict[str, dict]) -> Cause | None:
    rec = docs.get(doc_id) or {}
    new = rec.get("repealed_by")
    if not new:
        return None
    on = (docs.get(str(new)) or {}).get("in_force_from") or _next_day(rec.get("in_force_to"))
    when = f" on {on}" if on else ""
    return Cause(
        "document",
        f"{_doc_label(doc_id, docs)} repealed by {_doc_label(str(new), docs)}{when}",
    )


def law_causes(rule_id: str | None, a: Run, b: Run) -> list[Cause]:
    """Why rule ``rule_id`` may read differently in the two runs (their ``law`` entries).

    Parameters
    ----------
    rule_id : str or None
        The rule of the change (None: no rule, nothing to say).
    a, b : Run
        The runs before and after.

    Returns
    -------
    list of Cause
        Empty when a run records no ``law`` (older outputs) or the rule is the same in both.
    """
    la, lb = a.law, b.law
    if not rule_id or la is None or lb is None:
        return []
    docs = {**lb.documents, **la.documents}
    ra, rb = la.rules.get(rule_id), lb.rules.get(rule_id)
    if ra is not None and rb is not None:
        changed = [
            f"{key} {_short(ra.get(key), 20)} → {_short(rb.get(key), 20)}"
            for key in ("document", "article", "valid_from", "valid_to")
            if ra.get(key) != rb.get(key)
        ]
        if not changed:
            return []
        return [Cause("rule", f"rule {rule_id} recorded differently: {'; '.join(changed)}")]
    if ra is None and rb is None:
        return []
    rec, law_in, law_out, run_out = (ra, la, lb, b) if ra is not None else (rb, lb, la, a)
    assert rec is not None
    if rule_id not in law_out.not_in_force:
        rs = run_out.provenance.get("rule_set") or {}
        return [
            Cause(
                "rule_set",
                f"rule {rule_id} is not in the rule set of {run_out.label} "
                f"({rs.get('id') or '—'} {rs.get('version') or ''}".rstrip()
                + ")",
            )
        ]
    doc_id = str(rec.get("document") or "")
    doc = docs.get(doc_id) or {}
    where = f"in force as of {law_in.as_of or '—'}, not as of {law_out.as_of or '—'}"
    causes: list[Cause] = []
    doc_out = _covers(doc, "in_force_from", "in_force_to", law_out.as_of) if doc else None
    if doc and doc_out is False:
        causes.append(
            Cause(
                "document",
                f"rule {rule_id} (document {_doc_label(doc_id, docs)}, {span(doc)}): {where}",
            )
        )
        repeal = _repeal(doc_id, docs)
        if repeal is not None:
            causes.append(repeal)
    else:
        causes.append(
            Cause(
                "rule",
                f"rule {rule_id} (document {_doc_label(doc_id, docs) or '—'}, "
                f"{span(rec, 'valid_from', 'valid_to', 'valid')}): {where}",
            )
        )
    return causes


_LAYER_FIELDS = ("valid_from", "valid_to", "sha256", "features", "vintage", "source", "status")


def _layer_span(rec: dict) -> str:
    if not rec.get("valid_from") and not rec.get("valid_to"):
        return ""
    return f" (valid {fmt_date(rec.get('valid_from'), open_end='…')}–" + (
        f"{fmt_date(rec.get('valid_to'), open_end='…')})"
    )


def _layer_kind(layer_id: str, a: Run, b: Run) -> str | None:
    for run in (a, b):
        for table in (run.layers, run.layers_not_in_force):
            if layer_id in table and table[layer_id].get("kind"):
                return str(table[layer_id]["kind"])
    return None


def layer_causes(layer_ids: set[str], a: Run, b: Run, *, note: str = "") -> list[Cause]:
    """Which of the layers ``layer_ids`` differ in vintage between the runs.

    Parameters
    ----------
    layer_ids : set of str
        Layers a change's reasons came from (in either run).
    a, b : Run
    note : str
        Appended to each text (e.g. how the layer relates to the change).

    Returns
    -------
    list of Cause
        ``layer`` causes: one layer replaced by another of the same kind (``vintage L1 →
        L2``), a layer in one run only (not in force on the other's date, or not in its
        catalog), or the same layer with a different validity, sha256, feature count, vintage
        or source.
    """
    causes: list[Cause] = []
    seen: set[tuple[str, str]] = set()
    for lid in sorted(layer_ids):
        ea, eb = a.layers.get(lid), b.layers.get(lid)
        if ea is not None and eb is not None:
            diffs = [
                f"{k} {_short(ea.get(k))} → {_short(eb.get(k))}"
                for k in _LAYER_FIELDS
                if ea.get(k) != eb.get(k)
            ]
            if diffs:
                causes.append(Cause("layer", f"layer {lid}: {'; '.join(diffs)}{note}"))
            continue
        if ea is None and eb is None:
            continue
        have, other = (a, b) if ea is not None else (b, a)
        kind = _layer_kind(lid, a, b)
        others = sorted(
            o for o, e in other.layers.items() if e.get("kind") == kind and o not in have.layers
        )
        for o in others:
            pair = (lid, o) if have is a else (o, lid)
            if pair in seen:
                continue
            seen.add(pair)
            la, lb = a.layers[pair[0]], b.layers[pair[1]]
            causes.append(
                Cause(
                    "layer",
                    f"layer vintage {pair[0]}{_layer_span(la)} → {pair[1]}{_layer_span(lb)}{note}",
                )
            )
        if others:
            continue
        off = other.layers_not_in_force.get(lid)
        where = (
            f"not in force as of {other.as_of or '—'}{_layer_span(off)}"
            if off is not None
            else f"not in the catalog of {other.label}"
        )
        causes.append(Cause("layer", f"layer {lid} ({kind or 'kind unknown'}): {where}{note}"))
    return causes


def _value(row: Any, key: str) -> Any:
    if row is None or key not in row.index:
        return None
    value = row[key]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def _words(value: Any) -> str:
    return "undeclared" if value is None else str(value)


def _names(key: str, reads: str) -> bool:
    """Whether a clause's ``reads`` text (``attr=value; ...``) names the attribute ``key``."""
    return re.search(rf"(?<!\w){re.escape(key)}(?!\w)", reads) is not None


def attribute_causes(row_a: Any, row_b: Any, reads: str | None = None) -> list[Cause]:
    """The site's project attributes that differ (those ``reads`` names, when given).

    Parameters
    ----------
    row_a, row_b : Series
        The site's rows in the two runs.
    reads : str, optional
        The clause's ``reads`` text; when it names attributes, only those count.

    Returns
    -------
    list of Cause
        At most one ``attributes`` cause listing each difference as ``x a→b``.
    """
    diffs = [
        (key, _value(row_a, key), _value(row_b, key))
        for key in ATTRIBUTES
        if _value(row_a, key) != _value(row_b, key)
    ]
    if reads and any(_names(k, reads) for k in ATTRIBUTES):
        diffs = [d for d in diffs if _names(d[0], reads)]
    if not diffs:
        return []
    text = ", ".join(f"{k} {_words(x)}→{_words(y)}" for k, x, y in diffs)
    return [Cause("attributes", f"project attributes: {text}")]


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def geometry_causes(row_a: Any, row_b: Any) -> list[Cause]:
    """Whether the site's geometry differs (its WKT, else its area, length or position).

    Parameters
    ----------
    row_a, row_b : Series
        The site's rows in the two runs.

    Returns
    -------
    list of Cause
        At most one ``geometry`` cause.
    """
    wa, wb = _value(row_a, "wkt"), _value(row_b, "wkt")
    measures = []
    for key, unit in (("area_m2", "m²"), ("length_m", "m")):
        x, y = _number(_value(row_a, key)), _number(_value(row_b, key))
        if x != y and not (x is not None and y is not None and math.isclose(x, y, rel_tol=1e-9)):
            fx = "—" if x is None else f"{x:,.0f} {unit}"
            fy = "—" if y is None else f"{y:,.0f} {unit}"
            measures.append(f"{key.split('_')[0]} {fx} → {fy}")
    moved = any(_value(row_a, k) != _value(row_b, k) for k in ("lon", "lat"))
    if wa is not None and wb is not None:
        differs = wa != wb
    else:
        differs = bool(measures) or moved
    if not differs:
        return []
    detail = f" ({'; '.join(measures)})" if measures else ""
    return [Cause("geometry", f"site geometry differs{detail}")]


_OPTIONS = (
    "search_radius_m",
    "pieces",
    "rings",
    "on_layer_error",
    "id_field",
    "name_field",
    "layer",
    "encoding",
    "crs",
    "attributes",
)


def _rule_set_cause(pa: dict, pb: dict) -> Cause | None:
    ra, rb = pa.get("rule_set") or {}, pb.get("rule_set") or {}
    diffs = [
        f"{k} {_short(ra.get(k))} → {_short(rb.get(k))}"
        for k in ("id", "version", "hash")
        if ra.get(k) != rb.get(k)
    ]
    return Cause("rule_set", f"rule-set file: {'; '.join(diffs)}") if diffs else None


def _catalog_cause(pa: dict, pb: dict) -> Cause | None:
    ca, cb = pa.get("catalog") or {}, pb.get("catalog") or {}
    diffs = [
        f"{k} {_short(ca.get(k))} → {_short(cb.get(k))}"
        for k in ("sha256", "version", "title")
        if ca.get(k) != cb.get(k)
    ]
    return Cause("catalog", f"catalog file: {'; '.join(diffs)}") if diffs else None


def run_causes(a: Run, b: Run) -> dict[str, list[Cause]]:
    """What differs for the whole run, by family.

    Parameters
    ----------
    a, b : Run

    Returns
    -------
    dict
        ``"rule_set"``, ``"catalog"``, ``"tool"``, ``"options"``, ``"input"`` -> causes (an
        empty list when equal).  ``options`` causes have the kind ``input``.
    """
    pa, pb = a.provenance, b.provenance
    out: dict[str, list[Cause]] = {k: [] for k in ("rule_set", "catalog", "tool", "options")}
    out["input"] = []
    for family, cause in (
        ("rule_set", _rule_set_cause(pa, pb)),
        ("catalog", _catalog_cause(pa, pb)),
    ):
        if cause is not None:
            out[family].append(cause)
    if pa.get("tool_version") != pb.get("tool_version"):
        out["tool"].append(
            Cause("tool", f"zoning version {pa.get('tool_version')} → {pb.get('tool_version')}")
        )
    oa, ob = pa.get("options") or {}, pb.get("options") or {}
    opts = [f"{k} {oa.get(k)!r} → {ob.get(k)!r}" for k in _OPTIONS if oa.get(k) != ob.get(k)]
    if opts:
        out["options"].append(Cause("input", f"screening options: {'; '.join(opts)}"))
    ia, ib = pa.get("input") or {}, pb.get("input") or {}
    diffs = [
        f"{k} {_short(ia.get(k), 40)} → {_short(ib.get(k), 40)}"
        for k in ("source", "sha256", "crs", "conversion")
        if ia.get(k) != ib.get(k)
    ]
    if diffs:
        out["input"].append(Cause("input", f"input: {'; '.join(diffs)}"))
    return out
