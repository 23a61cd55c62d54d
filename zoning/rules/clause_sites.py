"""Per-site values the clause table words (:mod:`zoning.rules.clauses`), worked out once.

:class:`_Sites` holds each site's project attributes as codes and words (and their
combinations, per set of attributes a clause reads); :class:`_BySite` holds texts keyed by
site; :func:`_attributes` lists the attributes a rule reads, once per rule.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .inputs import EvaluationState, object_column
from .model import Rule


class _Sites:
    """Per-site values of the project attributes, as codes and words (cached per rule)."""

    def __init__(self, state: EvaluationState, sites: pd.DataFrame) -> None:
        self.state = state
        self.sites = sites
        self._codes: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._combos: dict[tuple[str, ...], tuple[np.ndarray, np.ndarray]] = {}
        self._reads: dict[tuple[str, ...], np.ndarray] = {}

    def values(self, attr: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(code per site, display text per code, raw value per code) of one attribute."""
        hit = self._codes.get(attr)
        if hit is not None:
            return hit
        st, n = self.state, self.state.n_sites
        known = st.sites_known.get(attr)
        choice = getattr(st, "sites_choice_code", {})
        if attr in choice:
            c = choice[attr]
            uniq = list(st.sites_choice_values[attr])
            vals = np.array([*uniq, None], dtype=object)
            texts = np.array([";".join(sorted(v)) for v in uniq] + ["未申报"], dtype=object)
            out = (np.where(c < 0, len(uniq), c).astype(np.int64), texts, vals)
            self._codes[attr] = out
            return out
        if attr in st.sites_flag and known is not None:
            raw = np.where(known, st.sites_flag[attr], None)
        else:
            raw = object_column(self.sites, attr, n)
            if attr in ("industry", "nature") and len(raw):
                raw = np.array(
                    [None if v is None or v != v else "".join(str(v).split()) for v in raw],
                    dtype=object,
                )
                if attr == "nature":
                    raw = np.array([v.lower() if v else v for v in raw], dtype=object)
            if known is not None:
                raw = np.where(known, raw, None)
        codes, uniques = pd.factorize(pd.Series(raw, dtype=object), use_na_sentinel=True)
        vals = np.array([*uniques, None], dtype=object)
        texts = np.array(
            [
                "未申报"
                if v is None
                else str(v).lower()
                if isinstance(v, bool | np.bool_)
                else str(v)
                for v in vals
            ],
            dtype=object,
        )
        codes = np.where(codes < 0, len(uniques), codes).astype(np.int64)
        out = (codes, texts, vals)
        self._codes[attr] = out
        return out

    def combos(self, attrs: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Per site: the code of its combination of ``attrs`` values, and a representative
        site of each combination (cached by attributes)."""
        hit = self._combos.get(tuple(attrs))
        if hit is not None:
            return hit
        n = self.state.n_sites
        if n == 1:  # one site: one combination
            out = (np.zeros(1, dtype=np.intp), np.zeros(1, dtype=np.intp))
            self._combos[tuple(attrs)] = out
            return out
        key = np.zeros(n, dtype=np.int64)
        for a in attrs:
            codes, texts, _ = self.values(a)
            key = key * len(texts) + codes
            key = pd.factorize(key)[0].astype(np.int64)
        _, rep, inv = np.unique(key, return_index=True, return_inverse=True)
        out = (inv.reshape(-1), rep)
        self._combos[tuple(attrs)] = out
        return out

    def reads(self, rule: Rule) -> np.ndarray:
        """Per site: ``attr=value; ...`` of every attribute the rule reads ('' for none)."""
        attrs = _attributes(rule)
        n = self.state.n_sites
        if not attrs:
            return np.full(n, "", dtype=object)
        hit = self._reads.get(tuple(attrs))
        if hit is not None:
            return hit
        inv, rep = self.combos(attrs)
        table = np.array(
            [
                "; ".join(f"{a}={self.values(a)[1][self.values(a)[0][r]]}" for a in attrs)
                for r in rep
            ],
            dtype=object,
        )
        self._reads[tuple(attrs)] = out = table[inv]
        return out

    def raw(self, attr: str, site: int) -> Any:
        """The value of ``attr`` of one site (None: not declared)."""
        codes, _, vals = self.values(attr)
        return vals[codes[site]]


def _attributes(rule: Rule) -> list[str]:
    """``rule.attributes()``, worked out once per rule (read for every site and clause)."""
    hit = _ATTRIBUTES.get(id(rule))
    if hit is not None and hit[0] is rule:
        return hit[1]
    if len(_ATTRIBUTES) >= 20_000:
        _ATTRIBUTES.clear()
    out = rule.attributes()
    _ATTRIBUTES[id(rule)] = (rule, out)
    return out


#: ``rule.attributes()`` by the rule's id (each entry holds the rule: the id stays its own).
_ATTRIBUTES: dict[int, tuple[Rule, list[str]]] = {}


class _BySite:
    """Texts keyed by site position (each site once), read for some sites."""

    def __init__(self, site: np.ndarray, values: Any) -> None:
        site = np.asarray(site, dtype=np.int64)
        if isinstance(values, str):
            values = np.full(len(site), values, dtype=object)
        values = np.asarray(values, dtype=object)
        order = np.argsort(site, kind="stable")
        self.site, self.values = site[order], values[order]

    def at(self, site: np.ndarray) -> np.ndarray:
        """Per site in ``site``: its text (None where it has none)."""
        site = np.asarray(site, dtype=np.int64)
        out = np.full(len(site), None, dtype=object)
        if not len(self.site) or not len(site):
            return out
        pos = np.minimum(np.searchsorted(self.site, site), len(self.site) - 1)
        found = self.site[pos] == site
        out[found] = self.values[pos[found]]
        return out
