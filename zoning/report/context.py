"""What the report pages are built from: the catalog and rule-set lookups, the layers' state
for a site, the report-wide facts (rule set, layer table, limits, provenance footer) and the
reasons as table rows.

The lookups (:class:`_Catalog`, :class:`_Rules`, :class:`_LayerState`) tolerate results read
back from JSON or made by hand: what they cannot find gives None, never an error.  The public
functions here are the report logic the terminal summary (``zoning.cli.render``) shares.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import pandas as pd

from .._version import __version__
from ..catalog import KINDS
from ..errors import CatalogError
from ..labels import ATTRIBUTE_LABELS, REASON_STATUS_LABELS
from ..rules import SEVERITY as _SEVERITY
from ..schema import COVERAGE_KINDS
from .format import (
    _as_text,
    _short_hash,
    _verdict_model,
    as_float,
    as_str,
    fmt_time,
    is_missing,
    verdict_key,
)

#: Plain-words explanation of each reason status.


#: Project attributes a rule may test: label (zh, en) and how to declare them.


#: Layer kinds whose union is the territory the layers cover (zoning.overlay.screen_layers'
#: default ``coverage``).
_COVERAGE_KINDS = COVERAGE_KINDS


# --------------------------------------------------------------------------------------------
# Provenance, catalog and rule-set lookups.


def _pick(prov: dict, *keys: str) -> Any:
    """The first of ``keys`` that ``prov`` holds with a value."""
    for key in keys:
        if key in prov and not is_missing(prov[key]):
            return prov[key]
    return None


def _prov_layers(prov: dict) -> dict[str, dict]:
    """Provenance of each layer, keyed by layer id (list of dicts or dict of dicts)."""
    raw = prov.get("layers")
    out: dict[str, dict] = {}
    if isinstance(raw, dict):
        for key, val in raw.items():
            if isinstance(val, dict):
                out[str(val.get("id", key))] = val
    elif isinstance(raw, list | tuple):
        for val in raw:
            if isinstance(val, dict) and val.get("id") is not None:
                out[str(val["id"])] = val
    return out


def is_demonstration(result: Any) -> bool:
    """Whether a screening ran on demonstration data (every page and summary must say so).

    Parameters
    ----------
    result : ScreeningResult
        A screening: its provenance's ``demonstration`` flag, else its layer set's.

    Returns
    -------
    bool
    """
    prov = result.provenance or {}
    if "demonstration" in prov:
        return bool(prov["demonstration"])
    return bool(getattr(result.layers, "is_demonstration", False))


class _Catalog:
    """Layer titles, tolerances and data status looked up once per layer id."""

    def __init__(self, layers: Any):
        self.catalog = getattr(layers, "catalog", None)
        self._entries: dict[str, Any] = {}

    def entry(self, layer_id: Any) -> Any:
        key = as_str(layer_id)
        if key is None or self.catalog is None:
            return None
        if key not in self._entries:
            try:
                self._entries[key] = self.catalog.by_id(key)
            except (CatalogError, KeyError, LookupError):
                self._entries[key] = None
        return self._entries[key]

    def title(self, layer_id: Any, kind: Any) -> tuple[str, str]:
        entry = self.entry(layer_id)
        if entry is not None:
            return entry.title("zh"), entry.title("en")
        info = KINDS.get(as_str(kind) or "")
        if info is not None:
            return info.title_zh, info.title_en
        text = as_str(layer_id) or as_str(kind) or "?"
        return text, text

    def tolerance(self, layer_id: Any) -> float | None:
        entry = self.entry(layer_id)
        return None if entry is None else entry.positional_tolerance_m


class _Rules:
    """Documents and rules of the screening's rule set, looked up by id.

    A rule set without ``documents`` or ``rule()`` (a result read back from JSON, a
    hand-made one) gives None everywhere: citations then fall back to the reason's own
    ``citation`` text.
    """

    def __init__(self, rule_set: Any):
        docs = getattr(rule_set, "documents", None)
        self.documents: dict = docs if isinstance(docs, dict) else {}
        self._rule = getattr(rule_set, "rule", None)
        self._rules: dict[str, Any] = {}
        rule_list = getattr(rule_set, "rules", None)
        kinds = getattr(rule_set, "kinds", None)
        #: Layer kinds some rule reads (``RuleSet.kinds`` plus the kinds named by
        #: ``applies_to.except_inside`` and ``applies_to.defer_inside``), as the screening's
        #: ``boundary_sensitive`` uses them;
        #: None for a rule set that does not say (a hand-made one): every layer then counts.
        self.read: set[str] | None = None
        #: ``within`` rules per layer kind: ``[(distance_m, rule), ...]``.
        self.within: dict[str, list[tuple[float, Any]]] = {}
        if isinstance(rule_list, (list, tuple)) and kinds is not None:
            read = getattr(rule_set, "read_kinds", None)
            self.read = {str(k) for k in (read if read is not None else kinds)}
            for r in rule_list:
                at = getattr(r, "applies_to", None)
                if at is None:
                    continue
                dist = as_float(getattr(at, "distance_m", None))
                if getattr(at, "relation", None) == "within" and dist is not None:
                    self.within.setdefault(str(at.kind), []).append((dist, r))

    def document(self, doc_id: Any) -> Any:
        key = as_str(doc_id)
        return None if key is None else self.documents.get(key)

    def rule(self, rule_id: Any) -> Any:
        key = as_str(rule_id)
        if key is None or not callable(self._rule):
            return None
        if key not in self._rules:
            try:
                self._rules[key] = self._rule(key)
            except (KeyError, LookupError):
                self._rules[key] = None
        return self._rules[key]

    def reads(self, kind: Any) -> bool:
        """Whether some rule reads layers of ``kind`` (True when the rule set does not say)."""
        k = as_str(kind)
        return self.read is None or k is None or k in self.read

    def distance(self, rule_id: Any) -> float | None:
        """The distance of a ``within`` rule (None for other rules or an unknown rule)."""
        at = getattr(self.rule(rule_id), "applies_to", None)
        return as_float(getattr(at, "distance_m", None)) if at is not None else None

    def cite(self, rec: dict) -> tuple[str | None, str | None]:
        """``(citation, full title)`` of a reason: the document's short name and the article.

        The rule set's document gives the short name (``长江保护法``) and the full title;
        without it the reason's ``citation`` text is used, then the bare document and article.
        """
        doc_id, art = as_str(rec.get("document")), as_str(rec.get("article"))
        doc = self.document(doc_id)
        if doc is not None:
            label = as_str(getattr(doc, "label", None)) or doc_id
            title = as_str(getattr(doc, "title", None))
            title_en = as_str(getattr(doc, "title_en", None))
            full = " / ".join(x for x in (title, title_en) if x and x != label) or None
            return ", ".join(x for x in (label, art) if x), full
        cite = as_str(rec.get("citation"))
        if cite:
            return cite, None
        return ", ".join(x for x in (doc_id, art) if x) or None, None


class _LayerState:
    """How the layers fared for one site: each layer's status, the kinds with a loaded layer,
    and the screening's search radius (to tell a short distance search from a missing layer).
    """

    def __init__(self, summary: list[dict] | None, radius: Any = None):
        self.status: dict[str, str] = {}
        self.loaded_kinds: set[str] = set()
        for r in summary or []:
            status = as_str(r.get("status")) or "ok"
            lid = as_str(r.get("layer_id"))
            if lid is not None:
                self.status[lid] = status
            kind = as_str(r.get("kind"))
            if kind is not None and status in ("ok", "outside_coverage"):
                self.loaded_kinds.add(kind)
        self.radius = as_float(radius)

    def load(self, r: dict) -> str | None:
        """``missing``/``failed`` for a reason whose layer is missing or failed to load,
        ``short`` for one whose kind has a loaded layer that the distance search did not
        reach far enough, else the layer's status."""
        if r["layer_id"] is None:
            return "short" if r["kind"] in self.loaded_kinds else "missing"
        return self.status.get(r["layer_id"])


def rule_set_info(result: Any) -> dict[str, str | None]:
    """The rule set a screening applied, as the report and the summary name it.

    Parameters
    ----------
    result : ScreeningResult
        A screening: its ``rule_set`` attributes, else its provenance's ``rule_set``.

    Returns
    -------
    dict
        ``id``, ``version``, ``hash``, ``hash_short`` (12 hex digits) and ``status``, each a
        string or None when not recorded.
    """
    rs = result.rule_set
    prov_rs = (result.provenance or {}).get("rule_set")
    prov_rs = prov_rs if isinstance(prov_rs, dict) else {}

    def get(attr: str) -> str | None:
        value = getattr(rs, attr, None) if rs is not None else None
        return as_str(value) if not is_missing(value) else as_str(prov_rs.get(attr))

    return {
        "id": get("id"),
        "version": get("version"),
        "hash": get("hash"),
        "hash_short": _short_hash(get("hash")),
        "status": get("status"),
    }


_DATA_STATUS = ("authoritative", "demonstration", "unknown")


# --------------------------------------------------------------------------------------------
# Report-wide facts: the layer table, the limits of the result, the provenance footer.


def _layer_rows(result: Any, cat: _Catalog) -> list[dict]:
    """Data vintage, status and file hash of every catalog layer (plus provenance-only ones)."""
    prov_layers = _prov_layers(result.provenance or {})
    rows = []
    ids = [e.id for e in cat.catalog.layers] if cat.catalog is not None else []
    ids += [k for k in prov_layers if k not in ids]
    for layer_id in ids:
        entry = cat.entry(layer_id)
        p = prov_layers.get(layer_id, {})
        eprov = getattr(entry, "provenance", None)
        zh, en = cat.title(layer_id, p.get("kind") or getattr(entry, "kind", None))
        # screening records the data status as "status" and the load result as "load"
        raw_status = as_str(p.get("status"))
        data_status = as_str(getattr(eprov, "status", None)) if eprov is not None else None
        if data_status is None and raw_status in _DATA_STATUS:
            data_status = raw_status
        status = as_str(p.get("load")) or (raw_status if raw_status not in _DATA_STATUS else None)
        rows.append(
            {
                "id": layer_id,
                "kind": as_str(p.get("kind")) or as_str(getattr(entry, "kind", None)),
                "title_zh": zh,
                "title_en": en,
                "data_status": data_status or "—",
                "load_status": status or "—",
                "vintage": as_str(p.get("vintage"))
                or (as_str(getattr(eprov, "vintage", None)) if eprov else None)
                or "not stated",
                "sha256": _short_hash(p.get("sha256")) or "—",
                "source": as_str(p.get("source")) or "—",
                "demonstration": data_status == "demonstration",
            }
        )
    return rows


def coverage_checked(result: Any) -> bool:
    """Whether the screening tested the sites against the layers' coverage.

    It did when a layer of a coverage kind (districts, sea area) loaded: from the
    provenance's per-layer load status, else from the layer summary's statuses.

    Parameters
    ----------
    result : ScreeningResult
        A screening (its ``provenance`` and ``layer_summary``).

    Returns
    -------
    bool
        False means a permitted verdict was not checked against the layers' coverage: say
        so (:data:`COVERAGE_NOT_CHECKED`).
    """
    prov = _prov_layers(result.provenance or {})
    loads = [(as_str(p.get("kind")), as_str(p.get("load"))) for p in prov.values()]
    if any(load is not None for _, load in loads):
        return any(k in _COVERAGE_KINDS and load == "ok" for k, load in loads)
    summary = getattr(result, "layer_summary", None)
    if summary is not None and len(summary) and {"kind", "status"} <= set(summary.columns):
        sel = summary.loc[summary["kind"].isin(_COVERAGE_KINDS), "status"]
        return bool(sel.isin(["ok", "outside_coverage"]).any())
    return False


#: The warning ``(zh, en)`` of a screening whose coverage was not checked.
COVERAGE_NOT_CHECKED = (
    "未检查覆盖范围：本次筛查没有成功加载行政区或海域图层，无法判断场址是否位于图层覆盖范围内。"
    "覆盖范围以外的场址会被当作该处没有约束来筛查——“未发现不符合项”不代表已经核查。",
    "Coverage NOT checked: no district or sea-area layer loaded, so whether each site lies "
    "inside the area the layers cover was not tested. A site outside that area is screened "
    "as if nothing constrained it there: a permitted verdict does not mean it was checked.",
)


def _limits(result: Any, sites: pd.DataFrame, layer_rows: list[dict]) -> dict:
    """The facts the "what this result does not tell you" section states for a screening."""
    undeclared = []
    for attr, (zh, en, _how) in ATTRIBUTE_LABELS.items():
        n = len(sites) if attr not in sites.columns else int(sites[attr].isna().sum())
        if n:
            undeclared.append({"zh": zh, "en": en, "count": f"{n:,}"})
    return {
        "coverage_checked": coverage_checked(result),
        "coverage_text": COVERAGE_NOT_CHECKED,
        "shoreline_demo": any(r["kind"] == "shoreline" and r["demonstration"] for r in layer_rows),
        "no_vintage": [r["id"] for r in layer_rows if r["vintage"] == "not stated"],
        "undeclared": undeclared,
        "n_sites": f"{len(sites):,}",
    }


_PROV_FIELDS = (
    ("tool", ("tool_version", "version", "zoning_version")),
    ("created", ("created", "created_at", "time")),
    ("catalog", ("catalog", "catalog_path")),
    ("catalog_sha256", ("catalog_sha256", "catalog_hash")),
    ("working_crs", ("working_crs",)),
    ("input_crs", ("input_crs", "input_crss")),
    ("conversions", ("conversions", "conversions_applied", "crs_conversions")),
    ("input_source", ("input_source",)),
    ("input_sha256", ("input_sha256",)),
    ("search_radius_m", ("search_radius_m", "search_radius")),
)


def _crs_label(crs: dict) -> str | None:
    """A short label for a CRS recorded as ``{"name", "wkt"}`` (PROJ string if unnamed)."""
    name = as_str(crs.get("name"))
    if name and name.lower() != "unknown":
        return name
    wkt = as_str(crs.get("wkt"))
    if wkt is None:
        return name
    try:
        import pyproj

        with warnings.catch_warnings():  # "you will likely lose projection information"
            warnings.simplefilter("ignore", UserWarning)
            return pyproj.CRS.from_wkt(wkt).to_proj4() or name
    except Exception:  # an unreadable WKT is shown by name only
        return name


def _search_radius(result: Any) -> float | None:
    """The screening's search radius in metres, from its provenance (None if not recorded)."""
    return as_float(_pick(dict(result.provenance or {}), "search_radius_m", "search_radius"))


def _file_name(source: str | None) -> str | None:
    """The file name of an input source (a path), else the source itself (``points``)."""
    if not source:
        return None
    return re.split(r"[\\/]", source.rstrip("/\\"))[-1] or source


def _footer(result: Any) -> dict:
    """The provenance footer of every page: tool, time, catalog, CRSs, input, radius, others."""
    prov = dict(result.provenance or {})
    used = {"layers", "demonstration", "rule_set", "tool", "notes"}
    used |= {"as_of", "law", "layers_not_in_force"}  # said in one line (_in_force_row)
    inp = prov.get("input")
    if isinstance(inp, dict):  # screening's shape: {"source", "crs", "conversion", "sites"}
        used.add("input")
        prov.setdefault("input_crs", inp.get("crs"))
        prov.setdefault("conversions", inp.get("conversion") or "none")
        prov.setdefault("input_source", inp.get("source"))
        prov.setdefault("input_sha256", inp.get("sha256"))
    out: dict[str, Any] = {}
    for name, keys in _PROV_FIELDS:
        value = _pick(prov, *keys)
        used.update(keys)
        if name == "catalog" and isinstance(value, dict):
            out["catalog_sha256"] = _short_hash(value.get("sha256"))
            value = value.get("path") or value.get("name")
        if name == "working_crs" and isinstance(value, dict):  # {"name", "wkt"}: WKT is long
            value = _crs_label(value)
        if name == "catalog_sha256":
            value = _short_hash(value) or out.get("catalog_sha256")
        out[name] = None if value is None else _as_text(value)
    out["tool"] = out["tool"] or __version__
    out["created"] = fmt_time(prov.get("created") or out["created"]) if out["created"] else None
    out["input_name"] = _file_name(out["input_source"])
    out["other"] = _in_force_row(prov) + [
        (str(k), _as_text(v)) for k, v in prov.items() if k not in used and not is_missing(v)
    ]
    return out


def _in_force_row(prov: dict) -> list[tuple[str, str]]:
    """The footer row saying the day screened as of and the documents and vintages in force."""
    from ..screening.provenance import in_force_line

    zh, en = in_force_line(prov, "zh"), in_force_line(prov)
    return [("适用日期 as of", f"{zh} / {en}")] if zh and en else []


# --------------------------------------------------------------------------------------------
# Reasons as table rows (the site page's reason table; what the advice reads).


def _reason_rows(reasons: list[dict] | None, cat: _Catalog, rules: _Rules) -> list[dict]:
    """The reasons of one site as rows of its reason table, most severe first (stable)."""
    if not reasons:
        return []
    ordered = sorted(reasons, key=lambda r: -_SEVERITY[verdict_key(r.get("verdict"))])  # stable
    rows = []
    for rec in ordered:
        status = as_str(rec.get("status")) or "applies"
        st_zh, st_en = REASON_STATUS_LABELS.get(status, (status, status))
        lzh, len_ = cat.title(rec.get("layer_id"), rec.get("kind"))
        cite, doc_title = rules.cite(rec)
        rows.append(
            {
                "verdict": _verdict_model(rec.get("verdict")),
                "rule_id": as_str(rec.get("rule_id")) or "—",
                "list_id": as_str(rec.get("list_id")),
                "layer_zh": lzh,
                "layer_en": len_,
                "feature": as_str(rec.get("feature_name")) or as_str(rec.get("feature_id")),
                "dimension": as_str(rec.get("dimension")) or "—",
                "cite": cite,
                "doc_title": doc_title,
                "message_zh": as_str(rec.get("message_zh")),
                "message_en": as_str(rec.get("message_en")),
                "status": status,
                "status_zh": st_zh,
                "status_en": st_en,
                "assumptions": as_str(rec.get("assumptions")),
                "next_zh": as_str(rec.get("next_step_zh")),
                "next_en": as_str(rec.get("next_step_en")),
                "kind": as_str(rec.get("kind")),
                "layer_id": as_str(rec.get("layer_id")),
            }
        )
    return rows
