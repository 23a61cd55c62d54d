"""Codes, not prose: each site's reasons and conclusion as codes, their texts once.

A site's most severe reasons (``reasons_en`` / ``reasons_zh`` of the sites table: at most
three, each ``"<label> (<verdict>): <text>"``, joined with ``" | "``) and its clause
conclusion would repeat the same bilingual sentences on a million rows.  The tables a
screening writes carry, per site, ``rule_ids`` and ``reason_codes`` (``;``-joined) and
``conclusion_code``; the codes table (:data:`zoning.schema.CODES_OUTPUT_TYPES`) holds each
code's words once.

A code is the reason's label and outcome, ``<rule_id>:<verdict>`` (a reason without a rule
is labelled ``<layer kind>:<status>``), when its text is the rule's own message; a text that
differs (a rule undecided for want of attributes reads "applies if ... (not declared:
industry, nature)", the words depending on what the site left undeclared) gets a short
suffix from a digest of its words, ``<rule_id>:<verdict>~<6 hex>``.  A conclusion's code is
``conclusion~<8 hex>``.  Codes depend only on the words, so they are the same in every run
and every chunk of a run that produces the same words: tables of several chunks share one
codes table (rows with equal codes are equal).

Cost: the texts are factorised once (numpy/pandas hashing, no per-row Python); only the
distinct texts -- a few thousand for a million random points -- are parsed in Python.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ..schema import CODES_OUTPUT_TYPES, VERDICTS

if TYPE_CHECKING:
    from ..screening import ScreeningResult

__all__ = ["SiteCodes", "rule_citations", "site_codes", "split_reasons"]

#: The head of one reason in a joined reasons text: ``"<label> (<verdict>): "``.
_HEAD = re.compile(r"(?:^| \| )([^\s()|]+) \((" + "|".join(VERDICTS) + r")\): ")


def split_reasons(text: str) -> list[tuple[str, str, str]]:
    """The reasons of a joined reasons text (``reasons_en`` / ``reasons_zh``).

    Parameters
    ----------
    text : str
        ``"<label> (<verdict>): <text> | <label> (<verdict>): <text> ..."``; ``""`` for none.

    Returns
    -------
    list of (label, verdict, text)
        In order.  A text that does not start with a head is one reason with an empty label
        and verdict.
    """
    if not text:
        return []
    heads = list(_HEAD.finditer(text))
    if not heads or heads[0].start() != 0:
        return [("", "", text)]
    out = []
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        out.append((m.group(1), m.group(2), text[m.end() : end]))
    return out


def _digest(*texts: str | None, size: int) -> str:
    data = "\x1f".join("" if t is None else t for t in texts).encode("utf-8")
    return hashlib.blake2b(data, digest_size=size).hexdigest()


class SiteCodes:
    """The code columns of the sites table and the codes table of one result.

    Attributes
    ----------
    rule_ids, reason_codes, conclusion_code : pyarrow.Array of strings
        Per site (null where a site has none).
    codes : pandas.DataFrame
        The codes table: columns :data:`zoning.schema.CODES_OUTPUT_TYPES`, one row per code
        the sites use, reasons first, then conclusions, each sorted by code.
    """

    def __init__(
        self,
        rule_ids: pa.Array,
        reason_codes: pa.Array,
        conclusion_code: pa.Array,
        codes: pd.DataFrame,
    ) -> None:
        self.rule_ids = rule_ids
        self.reason_codes = reason_codes
        self.conclusion_code = conclusion_code
        self.codes = codes


def _rules_of(rule_set: Any) -> dict[str, tuple[tuple[str, str], str | None]]:
    """rule id -> ((message en, zh), citation) of every rule of ``rule_set``."""
    if rule_set is None:
        return {}
    docs = getattr(rule_set, "documents", {}) or {}
    out: dict[str, tuple[tuple[str, str], str | None]] = {}
    rules = [*rule_set.rules, *(r for lst in rule_set.lists for r in lst.rules)]
    for r in rules:
        doc = docs.get(r.citation.document) if getattr(r, "citation", None) else None
        citation = f"{doc.label}, {r.citation.article}" if doc is not None else None
        out.setdefault(r.id, ((r.message.en, r.message.zh), citation))
    return out


def _object_codes(objects: np.ndarray) -> tuple[np.ndarray, list[Any]] | None:
    """:func:`_encoded` of an object array of texts and missing values (None, NaN, NA);
    None when it holds anything else.

    A dict over the objects: Python caches each text's hash, and the texts of a result
    are a few thousand objects repeated, so this is several times faster than hashing
    every row's characters (``pd.factorize``) or converting every row to Arrow.
    """
    seen: dict[Any, int] = {}
    try:
        codes = np.fromiter(
            (seen.setdefault(v, len(seen)) for v in objects), dtype=np.int64, count=len(objects)
        )
    except TypeError:  # an unhashable value
        return None
    dictionary: list[Any] = []
    remap = np.empty(len(seen), dtype=np.int64)
    missing = []
    for k, v in enumerate(seen):
        if type(v) is str:
            remap[k] = len(dictionary)
            dictionary.append(v)
        elif v is None or v is pd.NA or (isinstance(v, float) and v != v):
            missing.append(k)
        else:
            return None
    remap[missing] = len(dictionary)
    return remap[codes], [*dictionary, None]


def _encoded(values: Any) -> tuple[np.ndarray, list[Any]]:
    """Dictionary codes of ``values`` (nulls get the code ``len(dictionary)``), and the
    dictionary: Arrow's hashing, no Python object per row."""
    if isinstance(values, pd.Series):
        values = values.array
    if not isinstance(values, pa.Array | pa.ChunkedArray) and not hasattr(values, "_pa_array"):
        found = _object_codes(np.asarray(values, dtype=object))
        if found is not None:
            return found
    arr = values if isinstance(values, pa.Array | pa.ChunkedArray) else None
    if arr is None:
        try:
            arr = pa.array(values, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arr = pa.array([None if v is None else str(v) for v in values], type=pa.string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_null(arr.type):
        arr = arr.cast(pa.string())
    enc = arr.dictionary_encode()
    dictionary = enc.dictionary.to_pylist()
    codes = enc.indices.fill_null(len(dictionary)).to_numpy(zero_copy_only=False)
    return codes.astype(np.int64), [*dictionary, None]


def rule_citations(rule_set: Any) -> dict[str, str | None]:
    """The citation (document and article) of each rule of ``rule_set``.

    Parameters
    ----------
    rule_set : RuleSet or None

    Returns
    -------
    dict
        rule id -> ``"<document label>, <article>"`` (empty without a rule set).
    """
    return {rid: cite for rid, (_, cite) in _rules_of(rule_set).items()}


def _factorize_pairs(a: Any, b: Any) -> tuple[np.ndarray, list[tuple[Any, Any]]]:
    """Codes of the distinct (a, b) pairs per row, and the pairs (missing values as None)."""
    ca, ua = _encoded(a)
    cb, ub = _encoded(b)
    width = len(ub)
    cp, up = pd.factorize(ca * width + cb)
    pairs = [(ua[p // width], ub[p % width]) for p in np.asarray(up)]
    return cp, pairs


def _strings(n: int, values: Sequence[Any], index: np.ndarray) -> pa.Array:
    """``values[index]`` as an Arrow text array of ``n`` (all null when there are none)."""
    if not len(values):
        return pa.nulls(n, pa.string())
    return pa.array(list(values), type=pa.string()).take(pa.array(index, type=pa.int64()))


def _reason_rows(
    pairs: list[tuple[Any, Any]], rules: dict[str, tuple[tuple[str, str], str | None]]
) -> tuple[list[str | None], list[str | None], dict[str, dict[str, Any]]]:
    """Per distinct (en, zh) pair: the joined labels and codes; and the codes' rows."""
    labels_out: list[str | None] = []
    codes_out: list[str | None] = []
    rows: dict[str, dict[str, Any]] = {}
    for en, zh in pairs:
        parts_en = split_reasons(en or "")
        parts_zh = split_reasons(zh or "")
        if len(parts_zh) != len(parts_en):
            parts_zh = [(lbl, v, zh or "") for lbl, v, _ in parts_en[:1]] + [
                (lbl, v, "") for lbl, v, _ in parts_en[1:]
            ]
        labels, codes = [], []
        for (label, verdict, text_en), (_, _, text_zh) in zip(parts_en, parts_zh, strict=True):
            stem = f"{label}:{verdict}" if label else "reason"
            rule = rules.get(label)
            if rule is not None and rule[0] == (text_en, text_zh):
                code = stem
            else:
                code = f"{stem}~{_digest(text_en, text_zh, size=3)}"
            row = rows.get(code)
            if row is None:
                rows[code] = {
                    "code": code,
                    "kind": "reason",
                    "rule_id": label if rule is not None else None,
                    "outcome": verdict or None,
                    "text_en": text_en,
                    "text_zh": text_zh,
                    "citation": rule[1] if rule is not None else None,
                }
            elif (row["text_en"], row["text_zh"]) != (text_en, text_zh):
                raise RuntimeError(f"two texts share the code {code!r}")  # 1 in 16 million
            labels.append(label)
            codes.append(code)
        labels_out.append(";".join(labels) or None)
        codes_out.append(";".join(codes) or None)
    return labels_out, codes_out, rows


def site_codes(
    sites: pd.DataFrame,
    rule_set: Any = None,
    conclusions: tuple[Any, Any] | None = None,
) -> SiteCodes:
    """The code columns of ``sites`` and their codes table.

    Parameters
    ----------
    sites : pandas.DataFrame
        The sites table of a result (``reasons_en`` / ``reasons_zh``; missing columns count
        as no reasons).
    rule_set : RuleSet, optional
        The rules: a reason whose text is its rule's message gets the plain code
        ``<rule_id>:<verdict>`` and the rule's citation.
    conclusions : (array, array), optional
        Each site's ``conclusion_zh`` and ``conclusion_en`` (None: no conclusions).

    Returns
    -------
    SiteCodes

    Notes
    -----
    Cost: three factorisations of ``len(sites)`` values, then Python over the distinct texts
    only.
    """
    n = len(sites)

    def col(name: str) -> Any:
        if name in sites.columns:
            return sites[name]
        return pa.nulls(n, pa.string())

    rules = _rules_of(rule_set)
    index, pairs = _factorize_pairs(col("reasons_en"), col("reasons_zh"))
    labels, codes, rows = _reason_rows(pairs, rules)
    conc = pa.nulls(n, pa.string())
    conc_rows: dict[str, dict[str, Any]] = {}
    if conclusions is not None:
        c_index, c_pairs = _factorize_pairs(conclusions[0], conclusions[1])
        names: list[str | None] = []
        for zh, en in c_pairs:
            if zh is None and en is None:
                names.append(None)
                continue
            code = f"conclusion~{_digest(en, zh, size=4)}"
            old = conc_rows.get(code)
            if old is not None and (old["text_en"], old["text_zh"]) != (en, zh):
                raise RuntimeError(f"two texts share the code {code!r}")
            conc_rows[code] = {
                "code": code,
                "kind": "conclusion",
                "rule_id": None,
                "outcome": None,
                "text_en": en,
                "text_zh": zh,
                "citation": None,
            }
            names.append(code)
        conc = _strings(n, names, c_index)
    table = pd.DataFrame(
        [rows[k] for k in sorted(rows)] + [conc_rows[k] for k in sorted(conc_rows)],
        columns=list(CODES_OUTPUT_TYPES),
    )
    return SiteCodes(_strings(n, labels, index), _strings(n, codes, index), conc, table)


def result_codes(result: ScreeningResult, conclusions: tuple[Any, Any] | None) -> SiteCodes:
    """:func:`site_codes` of a result's sites, once per result (cached on it).

    Parameters
    ----------
    result : ScreeningResult
    conclusions : (array, array) or None
        Each site's ``conclusion_zh`` and ``conclusion_en``.

    Returns
    -------
    SiteCodes
    """
    key = (id(result.sites), conclusions is None)
    cached = result.__dict__.get("_site_codes")
    if cached is not None and cached[0] == key and cached[1] is result.sites:
        return cached[2]
    codes = site_codes(result.sites, getattr(result, "rule_set", None), conclusions)
    result.__dict__["_site_codes"] = (key, result.sites, codes)
    return codes
