"""Reasons: what a rule emits over its candidate rows, and the assembled reasons frame.

:func:`emit_rule_reasons` emits the ``applies`` and ``needs_attribute`` reasons of one rule
over the rows it is a candidate for; :func:`assemble_reasons` turns every emitted
:class:`~zoning.rules.inputs.ReasonBlock` into the reasons frame (columns
:data:`~zoning.rules.verdicts.REASON_COLUMNS`), sorted by site, severity, decidedness,
specificity and emission order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from .conditions import condition_masks, exception_masks, missing_texts
from .inputs import EvaluationState, ReasonBlock, notna
from .messages import describe_alternatives, unless_missing_text, when_missing_text
from .model import Rule
from .verdicts import SEVERITY, TIER_GENERAL, empty_reasons, undecided_verdict

__all__ = ["assemble_reasons", "emit_rule_reasons", "join_texts"]


def join_texts(parts: list[np.ndarray], n: int) -> np.ndarray | None:
    """Row-wise '; '-join of optional text arrays (None where all are None).

    Parameters
    ----------
    parts : list of ndarray or None
        Text arrays of length ``n`` (None entries are skipped).
    n : int

    Returns
    -------
    ndarray of object, or None when no part is given
    """
    parts = [p for p in parts if p is not None]
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    out = np.full(n, None, dtype=object)
    for p in parts:
        has = notna(p)
        both = has & notna(out)
        only = has & ~both
        out[only] = p[only]
        if both.any():
            out[both] = [f"{a}; {b}" for a, b in zip(out[both], p[both], strict=True)]
    return out


def _pick(value: Any, sel: np.ndarray) -> Any:
    """``value[sel]`` for a per-row array, ``value`` itself for one value for every row."""
    return value[sel] if isinstance(value, np.ndarray) else value


def emit_rule_reasons(
    state: EvaluationState,
    rule: Rule,
    site: np.ndarray,
    *,
    hit: np.ndarray | None,
    list_id: Any = None,
    layer_id: Any = None,
    kind: Any = None,
    note: np.ndarray | None = None,
) -> None:
    """Emit the fired and undecided reasons of ``rule`` over candidate rows ``site``.

    Parameters
    ----------
    state : EvaluationState
    rule : Rule
    site : ndarray of int
        The site of each candidate row.
    hit : ndarray of int or None, keyword-only
        The hit row of each candidate row (None: rows not tied to a feature).
    list_id, layer_id : ndarray or scalar, keyword-only
        Per row or for every row.
    kind : str, optional, keyword-only
    note : ndarray of object, optional, keyword-only
        A per-row note added to the assumptions.

    Notes
    -----
    A row whose ``when`` holds gives ``applies``; one whose ``when`` is undecided gives
    ``needs_attribute`` (:func:`~zoning.rules.verdicts.undecided_verdict`); a granted ``unless``
    drops the row, an undecided one is said in the assumptions.
    """
    if not len(site):
        return
    wt, wf = condition_masks(state, rule.when)
    ug, ur = exception_masks(state, rule)
    t = wt[site]
    u = ~t & ~wf[site]
    granted = ug[site]
    unless_open = ~granted & ~ur[site]
    exc = describe_alternatives(rule.unless)
    unless_attrs = list(dict.fromkeys(a for c in rule.unless for a in c.keys()))
    when_attrs = list(dict.fromkeys(a for c in rule.when for a in c.keys()))
    when_desc = describe_alternatives(rule.when)

    def fmt_when(missing: list[str]) -> str:
        return when_missing_text(when_desc, rule.verdict, missing)

    def fmt_unless(missing: list[str]) -> str:
        return unless_missing_text(exc, missing)

    for sel, status in ((t & ~granted, "applies"), (u & ~granted, "needs_attribute")):
        if not sel.any():
            continue
        s = site[sel]
        parts: list[np.ndarray] = []
        if status == "needs_attribute":
            verdict = undecided_verdict(rule.verdict)
            parts.append(missing_texts(state, s, when_attrs, fmt_when))
        else:
            verdict = rule.verdict
        uo = unless_open[sel]
        if uo.any():
            txt = np.full(len(s), None, dtype=object)
            txt[uo] = missing_texts(state, s[uo], unless_attrs, fmt_unless)
            parts.append(txt)
        if note is not None:
            parts.append(note[sel])
        state.add(
            len(s),
            site=s,
            hit=None if hit is None else hit[sel],
            rule=rule,
            list_id=_pick(list_id, sel),
            layer_id=_pick(layer_id, sel),
            kind=kind,
            verdict=verdict,
            status=status,
            assumptions=join_texts(parts, len(s)),
        )


class _Columns:
    """Fills one reasons column from every block (arrays of the block's length or scalars)."""

    def __init__(self, blocks: list[ReasonBlock]) -> None:
        self.blocks = blocks
        self.total = sum(b.n for b in blocks)
        self.bounds = np.cumsum([0] + [b.n for b in blocks])

    def __call__(self, getter: Callable[[ReasonBlock], Any], dtype: Any = object) -> np.ndarray:
        out = np.empty(self.total, dtype=dtype)
        for b, start, end in zip(self.blocks, self.bounds[:-1], self.bounds[1:], strict=True):
            v = getter(b)
            if isinstance(v, np.ndarray) and v.ndim == 1 and len(v) == b.n:
                out[start:end] = v
            elif dtype is object:
                out[start:end] = [v] * b.n if isinstance(v, tuple | list) else v
            else:
                out[start:end] = v
        return out


def _from_hit(b: ReasonBlock, arr: np.ndarray, key: str) -> Any:
    """The block's own ``key`` value, else ``arr`` at the block's hits."""
    if key in b.fields and b.fields[key] is not None:
        return b.fields[key]
    hit = b.fields.get("hit")
    return arr[hit] if hit is not None else None


def _rule_attr(b: ReasonBlock, fn: Callable[[Rule], Any]) -> Any:
    """``fn(rule)`` of the block's rule (None for reasons without a rule)."""
    rule = b.fields.get("rule")
    return fn(rule) if rule is not None else None


def _given_or_rule(b: ReasonBlock, key: str, fn: Callable[[Rule], Any]) -> Any:
    """The block's own ``key`` value, else ``fn(rule)``."""
    value = b.fields.get(key)
    return value if value is not None else _rule_attr(b, fn)


def assemble_reasons(state: EvaluationState) -> pd.DataFrame:
    """The reasons frame of every block emitted, sorted.

    Parameters
    ----------
    state : EvaluationState

    Returns
    -------
    DataFrame
        Columns :data:`~zoning.rules.verdicts.REASON_COLUMNS`, sorted by site, most severe
        first, decided before undecided, most specific first (the rule's rank), then emission
        order.
    """
    blocks = state.blocks
    col = _Columns(blocks)
    if not col.total:
        return empty_reasons()
    docs = state.rule_set.documents
    site = col(lambda b: b.fields["site"], np.int64)
    verdict = col(lambda b: b.fields["verdict"])
    out = {
        "site": site,
        "site_id": state.sites_id[site],
        "rule_id": col(lambda b: _rule_attr(b, lambda r: r.id)),
        "list_id": col(lambda b: b.fields.get("list_id")),
        "layer_id": col(lambda b: _from_hit(b, state.hits_layer, "layer_id")),
        "kind": col(lambda b: _from_hit(b, state.hits_kind, "kind")),
        "feature_id": col(lambda b: _from_hit(b, state.hits_feature, "feature_id")),
        "feature_name": col(lambda b: _from_hit(b, state.hits_name, "feature_name")),
        "verdict": verdict,
        "status": col(lambda b: b.fields["status"]),
        "dimension": col(lambda b: _rule_attr(b, lambda r: r.dimension)),
        "citation": col(
            lambda b: _rule_attr(
                b, lambda r: f"{docs[r.citation.document].label}, {r.citation.article}"
            )
        ),
        "document": col(lambda b: _rule_attr(b, lambda r: r.citation.document)),
        "article": col(lambda b: _rule_attr(b, lambda r: r.citation.article)),
        "message_zh": col(lambda b: _given_or_rule(b, "message_zh", lambda r: r.message.zh)),
        "message_en": col(lambda b: _given_or_rule(b, "message_en", lambda r: r.message.en)),
        "next_step_zh": col(
            lambda b: _rule_attr(b, lambda r: r.next_step.zh if r.next_step else None)
        ),
        "next_step_en": col(
            lambda b: _rule_attr(b, lambda r: r.next_step.en if r.next_step else None)
        ),
        "assumptions": col(lambda b: b.fields.get("assumptions")),
    }
    order = _reason_order(state, col, site, verdict)
    return pd.DataFrame({k: python_texts(v[order]) for k, v in out.items()})


#: The pandas string dtype held as Python strings (what pandas uses without pyarrow).
PYTHON_STR = pd.StringDtype("python", na_value=np.nan)


def python_texts(values: np.ndarray) -> Any:
    """``values`` as pandas would store them in a frame, but text held as Python strings.

    Parameters
    ----------
    values : numpy.ndarray

    Returns
    -------
    numpy.ndarray or pandas.api.extensions.ExtensionArray
        An object array of strings (and missing values) as a ``"str"`` array of storage
        ``"python"``; any other array unchanged (pandas infers its dtype).

    Notes
    -----
    Reason texts repeat (a few hundred messages over millions of rows): held as Python
    strings a column is an array of references to them, taken and repeated without copying
    text; pandas' default pyarrow strings would encode and copy every row's text.
    """
    if values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) == "string":
        return pd.array(values, dtype=PYTHON_STR)
    return values


def _reason_order(
    state: EvaluationState, col: _Columns, site: np.ndarray, verdict: np.ndarray
) -> np.ndarray:
    """Order: by site, most severe first, decided before undecided, most specific first
    (the rule's rank), then rule-set (emission) order."""
    blocks = col.blocks
    sev = pd.Series(verdict).map(SEVERITY).to_numpy(dtype=np.int64)
    seq = col(lambda b: b.order, np.int64)
    undecided = col(lambda b: b.fields["status"] != "applies", np.int64)
    ranks = [
        state.rule_set._c.rank.get(b.fields["rule"].id) if b.fields.get("rule") else None
        for b in blocks
    ]
    ranks = [r if r is not None else (TIER_GENERAL, 0, 0) for r in ranks]
    sizes = [b.n for b in blocks]
    tier = np.repeat([r[0] for r in ranks], sizes)
    unit = np.repeat([r[1] for r in ranks], sizes)
    depth = np.repeat([r[2] for r in ranks], sizes)
    return np.lexsort((seq, -depth, -unit, tier, undecided, -sev, site))
