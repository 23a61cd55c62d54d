"""Array helpers over (site, feature) pairs: sorted keys, look-ups and per-pair minima."""

from __future__ import annotations

import numpy as np


def _empty_pairs() -> tuple[np.ndarray, np.ndarray]:
    e = np.empty(0, dtype=np.int64)
    return e, e.copy()


def _min_per_pair(si: np.ndarray, fi: np.ndarray, d: np.ndarray):
    """The smallest ``d`` of every (si, fi) pair, sorted by (si, fi)."""
    if not len(si):
        e = np.empty(0, np.int64)
        return e, e.copy(), np.empty(0)
    si = si.astype(np.int64)
    fi = fi.astype(np.int64)
    key = si * (int(fi.max()) + 1) + fi
    order = np.argsort(key, kind="stable")
    key = key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    dmin = np.minimum.reduceat(d[order], starts)
    return si[order][starts], fi[order][starts], dmin


def _compact(values: np.ndarray) -> np.ndarray:
    """``values``, or a read-only broadcast NaN of its shape when every value is NaN (a million
    point sites have no overlap areas: no need to hold megabytes of NaN per layer)."""
    if len(values) and np.isnan(values).all():
        return np.broadcast_to(np.float64(np.nan), values.shape)
    return values


def _in_sorted(keys: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """``np.isin(keys, ref)`` for a sorted ``ref`` (no sort of ``keys``)."""
    if not len(ref) or not len(keys):
        return np.zeros(len(keys), dtype=bool)
    pos = np.minimum(np.searchsorted(ref, keys), len(ref) - 1)
    return ref[pos] == keys


def _lookup_pairs(hs, hf, bs, bf, bd, m) -> np.ndarray:
    """Values ``bd`` of pairs (bs, bf) looked up for pairs (hs, hf); NaN where absent."""
    out = np.full(len(hs), np.nan)
    if not len(hs) or not len(bs):
        return out
    key_h = hs * m + hf
    key_b = bs * m + bf
    if not (np.diff(key_b) >= 0).all():
        order = np.argsort(key_b)
        key_b, bd = key_b[order], bd[order]
    pos = np.clip(np.searchsorted(key_b, key_h), 0, len(key_b) - 1)
    found = key_b[pos] == key_h
    out[found] = bd[pos[found]]
    return out


def _first_feature(hs: np.ndarray, hf: np.ndarray, n: int) -> np.ndarray:
    """Per site (0..n-1): the first feature of its pairs ``(hs, hf)`` (sorted by site, then
    feature), -1 for none."""
    nearest = np.full(n, -1, dtype=np.int64)
    if len(hs):
        first = np.r_[True, hs[1:] != hs[:-1]]
        nearest[hs[first]] = hf[first]
    return nearest
