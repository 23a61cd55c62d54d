"""What evaluation reads: project attributes of the sites, the hits, the layer summary.

:func:`read_inputs` turns the three frames :func:`zoning.rules.evaluate` receives into the
arrays of one :class:`EvaluationState`, checking the project attributes on the way (an industry
code given as a number, ``'新建'`` for a nature or ``'no'`` for a flag is one ``ValueError``
line naming the row, the site and the value).  Project attributes are tri-state: a value, or
not declared (a missing column counts as not declared).  The state also collects the reasons
the evaluation steps emit (:class:`ReasonBlock`), to be assembled into one frame at the end.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import quote
from ..schema import CHOICE_ATTRIBUTES
from .model import FLAGS, NATURES

if TYPE_CHECKING:
    from .model import RuleSet

__all__ = ["EvaluationState", "ReasonBlock", "notna", "object_column", "read_inputs"]

_SITE_CODE_RE = re.compile(r"^[A-Ta-t]?\d{2,4}$")
_CODE_HINT = (
    "a GB/T 4754-2017 code as text, e.g. 'C2614' or '2614' (zoning.sites.parse_industry_code)"
)


def object_column(df: pd.DataFrame, col: str, n: int) -> np.ndarray:
    """Column ``col`` of ``df`` as an object array, or ``n`` Nones when there is no such column.

    Parameters
    ----------
    df : DataFrame
    col : str
    n : int
        The length to give when the column is absent (``len(df)``).

    Returns
    -------
    ndarray of object
    """
    if col in df.columns:
        return df[col].to_numpy(dtype=object)
    return np.full(n, None, dtype=object)


def notna(values: np.ndarray) -> np.ndarray:
    """Elementwise "is a value" (not None, NaN or NA); an empty bool array for no values.

    Parameters
    ----------
    values : ndarray

    Returns
    -------
    ndarray of bool
    """
    return ~pd.isna(values) if len(values) else np.zeros(0, dtype=bool)


class ReasonBlock:
    """Reason rows of one kind (rule x status): arrays of length n or scalars.

    Parameters
    ----------
    n : int
        The number of rows.
    order : int
        Emission order of the block (the last key of the reasons' sort).
    **fields
        Reason fields (``site``, ``hit``, ``rule``, ``verdict``, ``status``, ``list_id``,
        ``layer_id``, ``kind``, ``message_zh``, ``message_en``, ``assumptions``...): arrays of
        length ``n`` or one value for every row.
    """

    __slots__ = ("fields", "n", "order")

    def __init__(self, n: int, order: int, **fields: Any) -> None:
        self.n = n
        self.order = order
        self.fields = fields


@dataclass(eq=False)
class EvaluationState:
    """Everything one evaluation reads and the reasons it has emitted so far.

    Arrays named ``sites_*`` have one entry per site (position 0..n_sites-1), ``hits_*`` one per
    row of the hits frame, ``summary_*`` one per row of the layer summary, ``units_*`` one per
    control-unit hit the access lists apply to.

    Attributes
    ----------
    rule_set : RuleSet
        The rule set being applied.
    n_sites : int
        The number of sites.
    search_radius_m : float or mapping or None
        How far the overlay searched (one distance, or one per layer kind; None: not given).
    tolerance_m : dict
        Positional tolerance (m) per layer id.
    sites_id : ndarray of object
        Site ids (the position as text where the sites frame gives none).
    sites_uncertainty_m : ndarray of float
        Coordinate-conversion uncertainty of each site (0 where not given).
    sites_industry_code, sites_nature_code : ndarray of int
        Index of each site's industry code / nature in ``sites_industry_values`` /
        ``sites_nature_values`` (-1: not declared).
    sites_industry_values, sites_nature_values : Index
        The distinct industry codes / natures declared.
    sites_known : dict of str to ndarray of bool
        Per project attribute (and ``industrial_park_unit``): the site declared it.
    sites_flag : dict of str to ndarray of bool
        Per yes/no attribute (and ``industrial_park_unit``, ``chemical_park_unit``): its value
        (False where unknown).
    sites_choice_code : dict of str to ndarray of int
        Per choice attribute (``discharge``, ``red_line_activity``, ``facility``): the index of
        each site's value in ``sites_choice_values`` (-1: not declared).
    sites_choice_values : dict of str to list of frozenset
        Per choice attribute: the codes of each distinct value declared (one code, or for
        ``facility`` the facilities declared; ``{"none"}`` for a declared none).
    hits : DataFrame
        The overlay's hits frame (read for feature attributes a ``where`` tests).
    hits_n : int
        The number of hits.
    hits_site : ndarray of int64
        Site position of each hit.
    hits_kind, hits_relation, hits_layer, hits_feature, hits_name : ndarray of object
        Layer kind, relation (``intersects`` or ``within``), layer id, feature id, feature name.
    hits_distance_m : ndarray of float
        Distance from site to feature (0 for intersecting hits without a distance column).
    hits_of_kind : dict of str to ndarray of int64
        The hit rows of each layer kind, in hit order.
    summary_n : int
        The number of layer-summary rows (one per site and layer).
    summary_site : ndarray of int64
    summary_kind, summary_status, summary_layer : ndarray of object
        Layer kind, load status (``ok``, ``missing``, ``failed``, ``outside_coverage``), layer id.
    summary_hit : ndarray of bool
        The site touches a feature of the layer.
    summary_share : ndarray of float
        Share of the site inside the layer.
    summary_of_kind : dict of str to ndarray of int64
        Cache of :meth:`summary_rows`.
    list_names : ndarray of object
        The rule set's list ids, then None (index -1: no list).
    units_rows : ndarray of int64
        The hit rows of control units the site intersects.
    units_list : ndarray of int64
        Index into ``list_names`` of the access list each unit uses (-1: none resolved).
    units_note : ndarray of object
        How the list was chosen when it is not the unit's own (None otherwise).
    units_absent_list : ndarray of object
        The access list a unit names that the rule set does not hold (None where resolved).
    blocks : list of ReasonBlock
        The reasons emitted so far, in emission order.
    condition_cache : dict
        (holds, fails) per site of each ``when``/``unless`` alternatives list, by its JSON.
    hits_columns : dict
        Cache of :meth:`hits_column`.
    """

    rule_set: RuleSet
    n_sites: int
    search_radius_m: float | Mapping[str, float] | None
    tolerance_m: dict[str, float]
    sites_id: np.ndarray
    sites_uncertainty_m: np.ndarray
    sites_industry_code: np.ndarray
    sites_industry_values: pd.Index
    sites_nature_code: np.ndarray
    sites_nature_values: pd.Index
    sites_known: dict[str, np.ndarray]
    sites_flag: dict[str, np.ndarray]
    sites_choice_code: dict[str, np.ndarray]
    sites_choice_values: dict[str, list[frozenset[str]]]
    hits: pd.DataFrame
    hits_n: int
    hits_site: np.ndarray
    hits_kind: np.ndarray
    hits_relation: np.ndarray
    hits_distance_m: np.ndarray
    hits_layer: np.ndarray
    hits_feature: np.ndarray
    hits_name: np.ndarray
    hits_of_kind: dict[str, np.ndarray]
    summary_n: int
    summary_site: np.ndarray
    summary_kind: np.ndarray
    summary_status: np.ndarray
    summary_layer: np.ndarray
    summary_hit: np.ndarray
    summary_share: np.ndarray
    summary_of_kind: dict[str, np.ndarray] = field(default_factory=dict)
    list_names: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    units_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    units_list: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    units_note: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    units_absent_list: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    blocks: list[ReasonBlock] = field(default_factory=list)
    condition_cache: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    hits_columns: dict[str, np.ndarray] = field(default_factory=dict)

    def hits_column(self, col: str) -> np.ndarray:
        """Column ``col`` of :attr:`hits` as an object array (``hits_n`` Nones when absent).

        Parameters
        ----------
        col : str

        Returns
        -------
        numpy.ndarray of object
            Read once per evaluation (the rules read the same feature attributes many
            times); the cached array itself: do not modify it.
        """
        out = self.hits_columns.get(col)
        if out is None:
            out = self.hits_columns[col] = object_column(self.hits, col, self.hits_n)
        return out

    def add(self, n: int, **fields: Any) -> None:
        """Emit ``n`` reason rows (nothing when ``n`` is 0); see :class:`ReasonBlock`.

        Parameters
        ----------
        n : int
            The number of rows.
        **fields
            Reason fields, arrays of length ``n`` or one value for every row.

        Notes
        -----
        Appends one block to :attr:`blocks`, holding the arrays as given (not copied); its
        emission order is the number of blocks before it.
        """
        if n:
            self.blocks.append(ReasonBlock(n, len(self.blocks), **fields))

    def unknown(self, n: int, status: str, **fields: Any) -> None:
        """Emit ``n`` reason rows of verdict ``unknown`` for ``status`` (see :meth:`add`).

        Parameters
        ----------
        n : int
            The number of rows.
        status : str
            The reason status of every row.
        **fields
            Further reason fields, as for :meth:`add`.
        """
        self.add(n, verdict="unknown", status=status, **fields)

    def unknown_hits(self, rows: np.ndarray, status: str, **fields: Any) -> None:
        """Emit an ``unknown`` reason row for ``status`` per hit row in ``rows``.

        Parameters
        ----------
        rows : numpy.ndarray of int
            Hit rows; each emitted row gets that hit's site and the hit row itself.
        status : str
            The reason status of every row.
        **fields
            Further reason fields, as for :meth:`add`.
        """
        self.unknown(len(rows), status, site=self.hits_site[rows], hit=rows, **fields)

    def summary_rows(self, kind: str) -> np.ndarray:
        """The layer-summary rows of layers of ``kind`` (cached).

        Parameters
        ----------
        kind : str
            A layer kind.

        Returns
        -------
        numpy.ndarray of int64
            Row positions in the layer summary, ascending (empty for a kind without layers).
            The cached array itself: do not modify it.
        """
        rows = self.summary_of_kind.get(kind)
        if rows is None:
            rows = self.summary_of_kind[kind] = np.flatnonzero(self.summary_kind == kind)
        return rows

    def hit_rows(self, kind: str) -> np.ndarray:
        """The hit rows of layers of ``kind`` (empty when there are none).

        Parameters
        ----------
        kind : str
            A layer kind.

        Returns
        -------
        numpy.ndarray of int64
            Row positions in the hits frame, as held in :attr:`hits_of_kind`.
        """
        return self.hits_of_kind.get(kind, np.zeros(0, dtype=np.int64))

    def sites_with(self, site: np.ndarray) -> np.ndarray:
        """Per site: whether it is one of ``site`` (positions).

        Parameters
        ----------
        site : numpy.ndarray of int
            Site positions, repeats allowed.

        Returns
        -------
        numpy.ndarray of bool
            Of length :attr:`n_sites`.
        """
        out = np.zeros(self.n_sites, dtype=bool)
        out[site] = True
        return out

    def layer_ok(self, kind: str) -> np.ndarray:
        """Per site: a layer of ``kind`` loaded and covers the site (status ``ok``).

        Parameters
        ----------
        kind : str
            A layer kind.

        Returns
        -------
        numpy.ndarray of bool
            Of length :attr:`n_sites`; True where some layer of ``kind`` has a summary row
            with status ``ok`` for the site.
        """
        rows = self.summary_rows(kind)
        return self.sites_with(self.summary_site[rows][self.summary_status[rows] == "ok"])


def read_inputs(
    rule_set: RuleSet,
    sites: pd.DataFrame,
    hits: pd.DataFrame,
    summary: pd.DataFrame,
    search_radius_m: float | Mapping[str, float] | None,
    tolerance_m: Mapping[str, float] | None = None,
) -> EvaluationState:
    """The state of an evaluation of ``rule_set``, before any reason is emitted.

    Parameters
    ----------
    rule_set : RuleSet
    sites, hits, summary : DataFrame
        As :func:`zoning.rules.evaluate` takes them.
    search_radius_m : float or mapping or None
    tolerance_m : mapping, optional

    Returns
    -------
    EvaluationState
        With the ``units_*`` fields still empty (see
        :func:`zoning.rules.access_lists.resolve_units`).

    Raises
    ------
    ValueError
        A project attribute cannot be read, or ``hits.site`` is not a site position.
    """
    n = len(sites)
    # Plain frames sharing the data: a column of a GeoDataFrame costs more to read.
    sites, hits = pd.DataFrame(sites), pd.DataFrame(hits)
    return EvaluationState(
        rule_set=rule_set,
        n_sites=n,
        search_radius_m=search_radius_m,
        tolerance_m=dict(tolerance_m or {}),
        **_read_sites(sites, n),
        **_read_hits(hits, n),
        **_read_summary(summary),
    )


def _bad_attribute(site_ids: np.ndarray, rows: np.ndarray, attr: str, value: object, want: str):
    """Raise the one-line error for a project attribute evaluate cannot read."""
    i = int(np.flatnonzero(rows)[0])
    raise ValueError(f"sites row {i} (site {site_ids[i]}): {attr} {quote(value)} is not {want}")


def _read_sites(sites: pd.DataFrame, n: int) -> dict[str, Any]:
    """The ``sites_*`` fields: ids, uncertainty and the tri-state project attributes."""
    ids = object_column(sites, "site_id", n)
    site_ids = np.where(notna(ids), ids, np.arange(n).astype(str).astype(object))
    unc = (
        pd.to_numeric(sites["uncertainty_m"], errors="coerce").to_numpy(dtype=float)
        if "uncertainty_m" in sites.columns
        else np.zeros(n)
    )
    ind = object_column(sites, "industry", n)
    ind_codes, ind_uniques = pd.factorize(pd.Series(ind, dtype=object))
    for j, u in enumerate(ind_uniques):
        if not isinstance(u, str) or not _SITE_CODE_RE.match("".join(u.split())):
            _bad_attribute(site_ids, ind_codes == j, "industry", u, _CODE_HINT)
    nat = object_column(sites, "nature", n)
    nat_codes, nat_uniques = pd.factorize(pd.Series(nat, dtype=object))
    for j, u in enumerate(nat_uniques):
        if not isinstance(u, str) or u.strip().lower() not in NATURES:
            _bad_attribute(site_ids, nat_codes == j, "nature", u, f"one of {', '.join(NATURES)}")
    known: dict[str, np.ndarray] = {"industry": ind_codes >= 0, "nature": nat_codes >= 0}
    value: dict[str, np.ndarray] = {}
    for flag in FLAGS:
        known[flag], value[flag] = _read_flag(sites, flag, n, site_ids)
    choice_code: dict[str, np.ndarray] = {}
    choice_values: dict[str, list[frozenset[str]]] = {}
    for attr in CHOICE_ATTRIBUTES:
        choice_code[attr], choice_values[attr] = _read_choice(sites, attr, n, site_ids)
        known[attr] = choice_code[attr] >= 0
    return {
        "sites_id": site_ids,
        "sites_uncertainty_m": np.where(np.isfinite(unc), unc, 0.0),
        "sites_industry_code": ind_codes,
        "sites_industry_values": ind_uniques,
        "sites_nature_code": nat_codes,
        "sites_nature_values": nat_uniques,
        "sites_known": known,
        "sites_flag": value,
        "sites_choice_code": choice_code,
        "sites_choice_values": choice_values,
    }


def _read_flag(
    sites: pd.DataFrame, flag: str, n: int, site_ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per site: (declared, value) of a yes/no attribute; True/False/1/0 only."""
    arr = object_column(sites, flag, n)
    known = notna(arr)
    val = np.zeros(n, dtype=bool)
    if not known.any():  # not declared anywhere (the usual case): nothing to read
        return known, val
    codes, uniques = pd.factorize(arr)
    truth = np.zeros(len(uniques), dtype=bool)
    for j, v in enumerate(uniques):
        if isinstance(v, bool | np.bool_) or (
            isinstance(v, int | float | np.integer | np.floating) and v in (0, 1)
        ):
            truth[j] = bool(v)
        else:
            _bad_attribute(site_ids, codes == j, flag, v, "true or false")
    val[known] = truth[codes[known]]
    return known, val


def _read_choice(
    sites: pd.DataFrame, attr: str, n: int, site_ids: np.ndarray
) -> tuple[np.ndarray, list[frozenset[str]]]:
    """Per site: the index of its value (-1: not declared), and the codes of each value.

    ``discharge`` and ``red_line_activity`` hold one code (a whole activity number is read as
    its code); ``facility`` holds ``"none"`` or facility codes joined with ``;`` (as
    :func:`zoning.sites.load_sites` writes them).
    """
    allowed = CHOICE_ATTRIBUTES[attr]
    arr = object_column(sites, attr, n)
    if not notna(arr).any():  # not declared anywhere (the usual case)
        return np.full(n, -1, dtype=np.intp), []
    codes, uniques = pd.factorize(arr)
    values: list[frozenset[str]] = []
    for j, v in enumerate(uniques):
        if (
            isinstance(v, int | float | np.integer | np.floating)
            and not isinstance(v, bool | np.bool_)
            and float(v).is_integer()
        ):
            v = str(int(v))
        parts = [p.strip() for p in v.split(";")] if isinstance(v, str) else [None]
        if attr != "facility" and len(parts) != 1:
            parts = [None]
        ok = set(allowed) | ({"none"} if attr == "facility" else set())
        if not all(p in ok for p in parts) or ("none" in parts and len(parts) > 1):
            want = f"one of {', '.join(allowed)}"
            if attr == "facility":
                want = f"none, or some of {', '.join(allowed)} joined with ';'"
            _bad_attribute(site_ids, codes == j, attr, v, want)
        values.append(frozenset(parts))  # type: ignore[arg-type]
    return codes, values


def _read_hits(hits: pd.DataFrame, n: int) -> dict[str, Any]:
    """The ``hits*`` fields: the columns evaluation reads, and the rows of each kind."""
    h_n = len(hits)
    h_site = hits["site"].to_numpy(dtype=np.int64) if h_n else np.zeros(0, dtype=np.int64)
    if h_n and (h_site.min() < 0 or h_site.max() >= n):
        raise ValueError(f"hits.site must be positions 0..{n - 1} of the sites frame")
    h_kind = object_column(hits, "kind", h_n)
    h_relation = (
        hits["relation"].to_numpy(dtype=object)
        if "relation" in hits.columns
        else np.full(h_n, "intersects", dtype=object)
    )
    h_distance = (
        hits["distance_m"].to_numpy(dtype=float)
        if "distance_m" in hits.columns
        else np.where(h_relation == "intersects", 0.0, np.nan)
    )
    kc, ku = pd.factorize(pd.Series(h_kind, dtype=object))
    order = np.argsort(kc, kind="stable")
    bounds = np.searchsorted(kc[order], np.arange(len(ku) + 1))
    return {
        "hits": hits,
        "hits_n": h_n,
        "hits_site": h_site,
        "hits_kind": h_kind,
        "hits_relation": h_relation,
        "hits_distance_m": h_distance,
        "hits_layer": object_column(hits, "layer_id", h_n),
        "hits_feature": object_column(hits, "feature_id", h_n),
        "hits_name": object_column(hits, "name", h_n),
        "hits_of_kind": {
            k: order[bounds[i] : bounds[i + 1]] for i, k in enumerate(ku) if isinstance(k, str)
        },
    }


def _read_summary(summary: pd.DataFrame) -> dict[str, Any]:
    """The ``summary_*`` fields: one entry per (site, layer) row of the layer summary."""
    s_n = len(summary)
    return {
        "summary_n": s_n,
        "summary_site": (
            summary["site"].to_numpy(dtype=np.int64) if s_n else np.zeros(0, np.int64)
        ),
        "summary_kind": object_column(summary, "kind", s_n),
        "summary_status": object_column(summary, "status", s_n),
        "summary_layer": object_column(summary, "layer_id", s_n),
        "summary_hit": (
            summary["hit"].to_numpy(dtype=bool)
            if "hit" in summary.columns
            else np.zeros(s_n, dtype=bool)
        ),
        "summary_share": (
            summary["share_of_site"].to_numpy(dtype=float)
            if "share_of_site" in summary.columns
            else np.full(s_n, np.nan)
        ),
    }
